//! Structural validation of model packs: start from a small valid pack (built once with the public
//! `PackWriter`, every section `Pack::from_bytes` needs), apply the fuzz input as a list of edits
//! to its sections, re-serialise through `PackWriter` so every checksum is right, optionally edit
//! the serialised file itself (then fix its checksums), and load it. Loading must return Ok or
//! Err; a pack that loads is then used like a real one (every accessor, the LM, restore, spin)
//! and must not panic, since `Pack::from_bytes` promises its checks make that safe.
//!
//! Input: byte 0 holds flags (bit 0: leave the checksums wrong after raw edits; bits 1-7: which
//! text to restore and spin, see `unspin_fuzz::exercise`), then 6-byte
//! edits `[kind, section, a, b, c, d]`; see `unspin_fuzz::pack_from_edits`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (bytes, pick) = unspin_fuzz::pack_from_edits(data);
    if let Ok(pack) = unspin::Pack::from_bytes(bytes) {
        unspin_fuzz::exercise(&pack, 4096, pick);
    }
});
