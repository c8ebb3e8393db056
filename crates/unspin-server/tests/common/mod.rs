//! What the server's tests share: the committed pack, the example, states and a small index.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use unspin::canon::Canon;
use unspin::decode::GenericChannel;
use unspin::index::{Index, IndexBuilder, Params};
use unspin::Pack;
use unspin_server::{AppState, Limits};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn pack() -> Pack {
    Pack::open(&root().join("models/default.unspin")).expect("pack loads")
}

pub fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).unwrap()
}

pub fn state_with(limits: Limits) -> AppState {
    AppState::new(pack(), Box::new(GenericChannel::default()), limits)
}

pub fn state() -> Arc<AppState> {
    Arc::new(state_with(Limits::default()))
}

/// An index of the example's original and two unrelated paragraphs, written under `dir`.
pub fn index(dir: &Path) -> Index {
    let pack = pack();
    let canon = Canon::new(&pack);
    let mut b = IndexBuilder::new(&canon, Params::default()).unwrap();
    b.add("news-1", &example("spun-news.original.txt"));
    b.add("weather", "Heavy rain is expected across the north of England on Thursday, with up to 40 mm in the Pennines, the Met Office said.");
    b.add("cooking", "Whisk two eggs with 200 g of flour and a pinch of salt, then leave the batter to rest for thirty minutes before frying.");
    let path = dir.join("news.idx");
    b.write(&path).unwrap();
    Index::open(&path).unwrap()
}
