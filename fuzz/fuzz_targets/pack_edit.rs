//! Structural validation of model packs: start from a small valid pack (built once with the public
//! `PackWriter`, every section `Pack::from_bytes` needs), apply the fuzz input as a list of edits
//! to its sections, re-serialise through `PackWriter` so every checksum is right, optionally edit
//! the serialised file itself (then fix its checksums), and load it. Loading must return Ok or
//! Err; a pack that loads is then used like a real one (every accessor, the LM, restore, spin)
//! and must not panic, since `Pack::from_bytes` promises its checks make that safe.
//!
//! Input: byte 0 holds flags (bit 0: leave the checksums wrong after raw edits; bits 1-7: which
//! text to restore and spin, see `unspin_fuzz::exercise`), then 6-byte
//! edits `[kind, section, a, b, c, d]`; see `apply`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use unspin_fuzz::{fix_crcs, tiny_pack_sections, write_pack, SECTION_NAMES};

type Sections = Vec<(String, Vec<u8>)>;

fn base() -> &'static Sections {
    static BASE: OnceLock<Sections> = OnceLock::new();
    BASE.get_or_init(|| {
        let s = tiny_pack_sections();
        // The starting point must itself load, or the target would test nothing.
        let pack = unspin::Pack::from_bytes(write_pack(&s)).expect("the tiny pack is valid");
        unspin_fuzz::exercise_all(&pack);
        s
    })
}

/// Values that sit on the edges of the checks: 0, 1, the vocabulary size (17) and its
/// neighbours, ids shifted by 8 (edge and morphology records), 24-bit limits, u32 extremes.
fn interesting32(c: u8, d: u8) -> u32 {
    let d32 = u32::from(d);
    match c % 20 {
        0 => 0,
        1 => 1,
        2 => 16,
        3 => 17,
        4 => 18,
        5 => 19,
        6 => 17 << 8,
        7 => 19 << 8,
        8 => (d32 % 24) << 8 | (d32 >> 5),
        9 => 0xff,
        10 => 0xffff,
        11 => 0xff_ffff,
        12 => 0x100_0000,
        13 => u32::MAX,
        14 => u32::MAX - 1,
        15 => 0x8000_0000,
        16 => d32,
        17 => d32 << 8,
        18 => d32 << 24,
        _ => d32.wrapping_mul(0x0101_0101),
    }
}

fn interesting_f32(c: u8) -> f32 {
    match c % 10 {
        0 => f32::NAN,
        1 => f32::INFINITY,
        2 => f32::NEG_INFINITY,
        3 => 0.0,
        4 => -0.0,
        5 => f32::MAX,
        6 => f32::MIN,
        7 => f32::MIN_POSITIVE / 2.0,
        8 => 1e30,
        _ => -1e-30,
    }
}

fn interesting64(c: u8, d: u8) -> u64 {
    match c % 12 {
        0 => 0,
        1 => 8,
        2 => 24,
        3 => u64::from(d) * 8,
        4 => u64::from(d),
        5 => u64::MAX,
        6 => u64::MAX - 7,
        7 => 1 << 32,
        8 => u64::from(u32::MAX),
        9 => i64::MAX as u64,
        10 => u64::from(d) << 56,
        _ => 4096,
    }
}

/// A raw edit of the serialised file, applied after `PackWriter::finish`.
enum Raw {
    Xor(usize, u8),
    Field(usize, usize, u64),
    Header(usize, u32),
}

fn apply(sections: &mut Sections, raw: &mut Vec<Raw>, op: &[u8]) {
    let [kind, sec, a, b, c, d] = op.try_into().expect("6 bytes");
    let ab = usize::from(u16::from_le_bytes([a, b]));
    if kind % 16 >= 13 {
        match kind % 16 {
            13 => raw.push(Raw::Xor(ab, c.max(1))),
            14 => raw.push(Raw::Field(usize::from(sec), usize::from(a % 4), interesting64(c, d))),
            _ => raw.push(Raw::Header(usize::from(a % 4), interesting32(c, d))),
        }
        return;
    }
    if sections.is_empty() {
        // Only adding a section makes sense.
        let name = SECTION_NAMES[usize::from(a) % SECTION_NAMES.len()];
        sections.push((name.to_string(), Vec::new()));
        return;
    }
    let i = usize::from(sec) % sections.len();
    let body = &mut sections[i].1;
    let words = body.len() / 4;
    match kind % 16 {
        // Flip bits of one byte.
        0 => {
            if !body.is_empty() {
                let at = ab % body.len();
                body[at] ^= c.max(1);
            }
        }
        // Set a u32 (index past the end: append).
        1 | 2 => {
            let at = ab % (words + 1);
            let v = interesting32(c, d).to_le_bytes();
            if at == words {
                body.extend_from_slice(&v);
            } else {
                body[at * 4..at * 4 + 4].copy_from_slice(&v);
            }
        }
        // Set an f32.
        3 => {
            if words > 0 {
                let at = ab % words;
                body[at * 4..at * 4 + 4].copy_from_slice(&interesting_f32(c).to_le_bytes());
            }
        }
        // Truncate.
        4 => {
            let keep = ab % (body.len() + 1);
            body.truncate(keep);
        }
        // Drop the last u32 / byte.
        5 => {
            let cut = if c & 1 == 0 { 4 } else { 1 };
            body.truncate(body.len().saturating_sub(cut));
        }
        // Insert a u32 (shifts the rest: offset tables stay sorted but gain an entry).
        6 => {
            let at = (ab % (words + 1)) * 4;
            let v = interesting32(c, d).to_le_bytes();
            body.splice(at..at, v);
        }
        // Remove a u32.
        7 => {
            if words > 0 {
                let at = (ab % words) * 4;
                body.drain(at..at + 4);
            }
        }
        // Remove the section.
        8 => {
            sections.remove(i);
        }
        // Duplicate it, in front (it then shadows the original) or at the end.
        9 => {
            let s = sections[i].clone();
            if a & 1 == 0 {
                sections.insert(0, s);
            } else {
                sections.push(s);
            }
        }
        // Rename it, to another section's name or to a non-section name.
        10 => {
            let name = match a % 24 {
                k if (k as usize) < SECTION_NAMES.len() => SECTION_NAMES[k as usize],
                19 => "",
                20 => "meta\u{e9}",
                21 => "lm.uni.p.extra",
                22 => "0123456789abcdef",
                _ => "x",
            };
            sections[i].0 = name.to_string();
        }
        // Swap two sections' bodies.
        11 => {
            let j = usize::from(a) % sections.len();
            let (x, y) = (sections[i].1.clone(), sections[j].1.clone());
            sections[i].1 = y;
            sections[j].1 = x;
        }
        // Overwrite the body with a run of one value (empty, one word, many).
        _ => {
            let n = usize::from(a % 40);
            let v = interesting32(c, d).to_le_bytes();
            *body = v.iter().copied().cycle().take(n * 4).collect();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut sections = base().clone();
    let (flags, ops) = data.split_first().map_or((0, &[][..]), |(f, rest)| (*f, rest));
    let mut raw = Vec::new();
    for op in ops.chunks_exact(6).take(64) {
        apply(&mut sections, &mut raw, op);
    }
    let mut bytes = write_pack(&sections);
    if !raw.is_empty() {
        for r in &raw {
            match *r {
                Raw::Xor(at, v) => {
                    let at = at % bytes.len();
                    bytes[at] ^= v;
                }
                Raw::Field(entry, field, v) => {
                    let n = sections.len().max(1);
                    let e = 24 + (entry % n) * 40;
                    let at = e + [0, 8, 16, 24][field];
                    if at + 8 <= bytes.len() {
                        bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
                    }
                }
                Raw::Header(field, v) => {
                    // version, n_sections, (table crc is recomputed), reserved
                    let at = [8, 12, 20, 12][field];
                    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        if flags & 1 == 0 {
            fix_crcs(&mut bytes);
        }
    }
    if let Ok(pack) = unspin::Pack::from_bytes(bytes) {
        unspin_fuzz::exercise(&pack, 4096, flags >> 1);
    }
});
