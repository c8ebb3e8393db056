//! `unspin::Pack::from_bytes` on arbitrary bytes returns Ok or Err and never panics; a pack it
//! accepts is then used (lexicon, LM, restore, spin) and must not panic either.
//!
//! Random bytes rarely get past the magic and the CRCs: seed the corpus with the valid tiny pack
//! (`cargo run --example seeds`), and see `pack_edit` for the target that edits a valid pack and
//! recomputes the checksums.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pack) = unspin::Pack::from_bytes(data.to_vec()) {
        unspin_fuzz::exercise(&pack, 4096, data.last().copied().unwrap_or(0));
    }
});
