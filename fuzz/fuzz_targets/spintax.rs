//! `unspin::spin::render_spintax` on arbitrary UTF-8 and seeds never panics. The first 8 bytes
//! are the seed, the rest the spintax.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unspin::spin::{render_spintax, SpintaxError};

fuzz_target!(|data: &[u8]| {
    let (seed, rest) = if data.len() >= 8 {
        let (a, b) = data.split_at(8);
        (u64::from_le_bytes(a.try_into().expect("8 bytes")), b)
    } else {
        (0, data)
    };
    let Ok(s) = std::str::from_utf8(rest) else { return };
    match render_spintax(s, seed) {
        Ok(out) => {
            // Without any braces or bars the text comes back as it is.
            if !s.contains(['{', '}']) {
                assert_eq!(out, s);
            }
            // Rendering only ever drops bytes: it picks options, never adds text.
            assert!(out.len() <= s.len());
        }
        Err(SpintaxError::Unclosed(at)) => assert_eq!(s.as_bytes()[at], b'{'),
        Err(SpintaxError::Unmatched(at)) => assert_eq!(s.as_bytes()[at], b'}'),
        Err(_) => {}
    }
});
