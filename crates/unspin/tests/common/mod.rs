//! What the integration tests share: the repository root, the committed default pack, and the
//! Brown corpus when the sources are fetched (CI fetches them and sets
//! UNSPIN_REQUIRE_SOURCES=1, so tests that need it cannot pass vacuously).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use unspin::Pack;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The committed default pack, loaded once per test binary.
pub fn pack() -> &'static Pack {
    static PACK: std::sync::OnceLock<Pack> = std::sync::OnceLock::new();
    PACK.get_or_init(|| Pack::open(&root().join("models/default.unspin")).expect("pack loads"))
}

/// The Brown corpus folder, or `None` when it has not been fetched (a failure when
/// UNSPIN_REQUIRE_SOURCES is set).
pub fn brown_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("UNSPIN_SOURCES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/sources"))
        .join("brown");
    if dir.join("ca01").exists() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("UNSPIN_REQUIRE_SOURCES").is_none(),
        "Brown corpus missing at {}",
        dir.display()
    );
    eprintln!("Brown corpus not fetched; run scripts/fetch-sources.sh");
    None
}

/// The first `n` Brown press texts (none when the corpus is not fetched).
pub fn brown_press(n: usize) -> Vec<String> {
    let Some(dir) = brown_dir() else {
        return Vec::new();
    };
    unspin::eval::read_brown(&dir, "ca")
        .unwrap()
        .into_iter()
        .take(n)
        .map(|(_, t)| t)
        .collect()
}
