//! Times what `unspin index build` spends most of its time on, on one thread: sorting words into
//! kinds (`Canon::words`) and signing documents (`IndexBuilder::sign_with`, which includes the
//! former), in CPU time of this thread (what other processes on a shared machine take is not
//! counted). Prints digests of the words and signatures, so that a change meant to be faster
//! but the same can be checked against the previous build.
//!
//! cargo run --release --example signbench -- target/trace-bench/docs.jsonl 20000
use std::hash::{DefaultHasher, Hash, Hasher};

use unspin::canon::Canon;
use unspin::index::{IndexBuilder, Params, Signer};

/// CPU time this thread has run, in seconds (Linux; not the time it waited for a core).
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    s.split_whitespace().next().unwrap().parse::<f64>().unwrap() / 1e9
}

fn main() {
    let mut a = std::env::args().skip(1);
    let path = a.next().expect("usage: signbench DOCS.jsonl [N]");
    let n: usize = a.next().map_or(20000, |s| s.parse().expect("N"));
    let texts: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .take(n)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_string()
        })
        .collect();
    let t = cpu();
    for _ in 0..5 {
        std::hint::black_box(unspin::Pack::open("models/default.unspin".as_ref()).unwrap());
    }
    eprintln!("Pack::open: {:.1} ms", (cpu() - t) * 200.0);
    let pack = unspin::Pack::open("models/default.unspin".as_ref()).unwrap();
    let t = cpu();
    for _ in 0..10 {
        std::hint::black_box(Canon::new(&pack));
    }
    eprintln!("Canon::new: {:.2} ms", (cpu() - t) * 100.0);
    let canon = Canon::new(&pack);
    let signer = Signer::new(Params::default());
    for round in 0..3 {
        let t = cpu();
        let mut nw = 0;
        for text in &texts {
            nw += canon.words(text).len();
        }
        let tw = cpu() - t;
        let t = cpu();
        let sigs: Vec<_> = texts
            .iter()
            .map(|text| IndexBuilder::sign_with(&signer, &canon, text))
            .collect();
        let ts = cpu() - t;
        let mut hw = DefaultHasher::new();
        for text in &texts {
            for w in &canon.words(text) {
                (w.kind as u8, w.hash, w.id, w.start, w.end, w.phrase).hash(&mut hw);
            }
        }
        let mut hs = DefaultHasher::new();
        for s in &sigs {
            for p in &s.passages {
                (p.start, p.len, &p.keys).hash(&mut hs);
            }
        }
        eprintln!(
            "round {round}: {} docs, {nw} words; words {:.0} ns/word ({:.1} µs/doc); sign {:.1} µs/doc ({:.0} docs/s); digests {:016x} {:016x}",
            texts.len(),
            tw * 1e9 / nw as f64,
            tw * 1e6 / texts.len() as f64,
            ts * 1e6 / texts.len() as f64,
            texts.len() as f64 / ts,
            hw.finish(),
            hs.finish()
        );
    }
}
