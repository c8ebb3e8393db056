//! `unspin::index::Index::from_bytes` on damaged indexes returns Ok or Err and never panics; an
//! index it accepts is then used (every document's id and text, stats, tracing, re-opening for
//! `add`) and must not panic either.
//!
//! Random bytes rarely get past the magic and the CRCs, so the input edits a small valid index
//! (built once from the tiny pack's texts) and, unless told not to, the checksums are recomputed
//! so that the edits reach the structural checks behind them.
//!
//! Input: byte 0 holds flags (bit 0: use the rest of the input as the whole file; bit 1: leave the
//! checksums as they are), then 5-byte edits `[at_hi, at_mid, at_lo, op, value]`: op % 4 is
//! 0 xor, 1 set, 2 truncate at `at`, 3 set a little-endian u32 of `value` repeated.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use unspin::canon::Canon;
use unspin::index::{Index, IndexBuilder, Params, TraceOptions};
use unspin::Pack;

fn pack() -> &'static Pack {
    unspin_fuzz::tiny_pack()
}

fn canon() -> &'static Canon<'static> {
    static C: OnceLock<Canon<'static>> = OnceLock::new();
    C.get_or_init(|| Canon::new(pack()))
}

fn valid() -> &'static [u8] {
    static V: OnceLock<Vec<u8>> = OnceLock::new();
    V.get_or_init(|| {
        let params = Params {
            window: 8,
            stride: 4,
            perms: 8,
            rows: 2,
            min_shingles: 1,
            ..Params::default()
        };
        let mut b = IndexBuilder::new(canon(), params).expect("params");
        for (i, t) in unspin_fuzz::TEXTS.iter().enumerate() {
            b.add(&format!("doc-{i}"), t);
        }
        let path = std::env::temp_dir().join(format!("unspin-fuzz-{}.idx", std::process::id()));
        b.write(&path).expect("index written");
        let bytes = std::fs::read(&path).expect("index read");
        let _ = std::fs::remove_file(&path);
        bytes
    })
}

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let rest = data.get(1..).unwrap_or(&[]);
    let bytes = if flags & 1 != 0 {
        rest.to_vec()
    } else {
        let mut b = valid().to_vec();
        for e in rest.chunks_exact(5) {
            if b.is_empty() {
                break;
            }
            let at = (usize::from(e[0]) << 16 | usize::from(e[1]) << 8 | usize::from(e[2])) % b.len();
            match e[3] % 4 {
                0 => b[at] ^= e[4],
                1 => b[at] = e[4],
                2 => b.truncate(at),
                _ => {
                    for k in 0..4 {
                        if let Some(x) = b.get_mut(at + k) {
                            *x = e[4];
                        }
                    }
                }
            }
        }
        if flags & 2 == 0 {
            unspin_fuzz::fix_crcs(&mut b);
        }
        b
    };
    let Ok(idx) = Index::from_bytes(&bytes) else {
        return;
    };
    let _ = idx.stats();
    for d in 0..idx.len() as u32 {
        let _ = idx.doc_id(d);
        let _ = idx.doc_text(d);
    }
    for t in unspin_fuzz::TEXTS {
        if let Ok(hits) = idx.trace(canon(), t, &TraceOptions::default()) {
            for h in hits {
                assert!((0.0..=1.0).contains(&h.score));
            }
        }
    }
    if let Ok(mut b) = IndexBuilder::from_index(canon(), &idx) {
        b.add("new", unspin_fuzz::TEXTS[0]);
    }
});
