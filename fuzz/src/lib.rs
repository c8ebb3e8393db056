//! Shared pieces of the unspin fuzz targets: a tiny but complete model pack, a tiny CMU trie LM in
//! a compact form the `cmu_lm` target expands, and the code that exercises a loaded pack.
//!
//! Everything here is deterministic, so a crash found by one run reproduces on any machine.

use std::sync::OnceLock;

use unspin::lexicon::{flags, Form};
use unspin::pack::PackWriter;
use unspin::spin::{spin, SpinOptions};
use unspin::{Pack, Restorer};

/// Every section name `Pack::from_bytes` reads, in the order `build_pack` writes them.
pub const SECTION_NAMES: &[&str] = &[
    "meta",
    "vocab.blob",
    "vocab.off",
    "phrase.off",
    "phrase.words",
    "syn.off",
    "syn.edges",
    "morph.ana.off",
    "morph.ana",
    "morph.gen.off",
    "morph.gen",
    "word.class",
    "lm.uni.p",
    "lm.uni.b",
    "lm.bi.end",
    "lm.bi",
    "lm.tri",
    "lm.q",
    "lm.specials",
];

/// The tiny pack's vocabulary (word id = index).
pub const WORDS: &[&str] = &[
    "<s>", "</s>", "the", "soldier", "soldiers", "trooper", "troopers", "fled", "escaped", "war",
    "warfare", "run", "ran", "away", "big", "large", "flee",
];

/// Texts the loaded pack is exercised with: every word of the vocabulary, phrases, inflections,
/// sentence breaks, capitals, and a word outside the vocabulary.
pub const TEXTS: &[&str] = &[
    "The troopers fled the warfare. Big soldiers ran away from the war!",
    "the soldier escaped the war and the large trooper flee run away",
    "THE Soldiers fled; troopers ran away - big-large war's 1,000 <s> </s>",
];

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u64s(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The sections of a small valid pack that passes every check in `Pack::from_bytes`: 17 words,
/// 2 phrases, synonym edges of every flag, inflections, word classes and a trigram LM.
pub fn tiny_pack_sections() -> Vec<(String, Vec<u8>)> {
    let n = WORDS.len() as u32;
    let meta = br#"{"format":1,"thesauri":["mythes","wordnet","moby","weak"],"sources":[],"stats":{"vocab_words":17}}"#.to_vec();
    let mut blob = Vec::new();
    let mut word_off = vec![0u32];
    for w in WORDS {
        blob.extend_from_slice(w.as_bytes());
        word_off.push(blob.len() as u32);
    }
    // Phrases, sorted: "run away" = node n, "ran away" = node n + 1.
    let phrases: [&[u32]; 2] = [&[11, 13], &[12, 13]];
    let mut phrase_off = vec![0u32];
    let mut phrase_words = Vec::new();
    for p in phrases {
        phrase_words.extend_from_slice(p);
        phrase_off.push(phrase_words.len() as u32);
    }
    let n_nodes = (n + 2) as usize;
    let edges: &[(u32, u32, u8)] = &[
        (3, 5, flags::MYTHES | flags::WORDNET),
        (9, 10, flags::MOBY),
        (7, 8, flags::MYTHES),
        (16, n, flags::WORDNET),
        (7, n + 1, flags::WEAK | flags::MYTHES),
        (14, 15, flags::MYTHES),
        (8, 16, flags::WEAK),
    ];
    let mut adj = vec![Vec::new(); n_nodes];
    for &(a, b, f) in edges {
        adj[a as usize].push(b << 8 | u32::from(f));
        adj[b as usize].push(a << 8 | u32::from(f));
    }
    let (syn_off, syn) = flatten(adj);
    // Analyses (word -> lemma, form) and their inverse.
    let analyses: &[(u32, u32, Form)] = &[
        (4, 3, Form::S),
        (6, 5, Form::S),
        (7, 16, Form::Ed),
        (12, 11, Form::Ed),
    ];
    let mut ana = vec![Vec::new(); n as usize];
    let mut gen = vec![Vec::new(); n as usize];
    for &(w, l, f) in analyses {
        ana[w as usize].push(l << 8 | f as u32);
        gen[l as usize].push(w << 8 | f as u32);
    }
    let (ana_off, ana) = flatten(ana);
    let (gen_off, gen) = flatten(gen);
    use unspin::lexicon::class::{ADJ, ADV, FUNCTION, NOUN, VERB};
    let class: Vec<u8> = vec![
        0, 0, FUNCTION, NOUN, NOUN, NOUN, NOUN, VERB, VERB, NOUN, NOUN, VERB, VERB, ADV, ADJ, ADJ, VERB,
    ];
    let uni_p: Vec<f32> = (0..n)
        .map(|w| match w {
            0 => -99.0,
            1 => -1.0,
            2 => -1.3,
            w => -3.0 - (w % 5) as f32 * 0.4,
        })
        .collect();
    let uni_b: Vec<f32> = (0..n).map(|w| -0.1 - (w % 3) as f32 * 0.2).collect();
    // Bigrams (w1, w2, prob bin, back-off bin) sorted by (w1, w2); trigrams sorted likewise.
    let bigrams: &[(u32, u32, u64, u64)] = &[
        (0, 2, 3, 4),
        (2, 3, 10, 1),
        (2, 4, 11, 2),
        (2, 9, 12, 3),
        (4, 7, 20, 0),
        (6, 7, 21, 5),
        (7, 2, 5, 6),
        (9, 1, 2, 7),
        (10, 1, 2, 255),
    ];
    let trigrams: &[(u32, u32, u32, u32)] = &[(0, 2, 4, 1), (4, 7, 2, 2), (7, 2, 9, 255)];
    let mut bi_end = vec![0u32; n as usize];
    let mut bi = Vec::new();
    let mut tri = Vec::new();
    for (i, &(w1, w2, p, b)) in bigrams.iter().enumerate() {
        for &(t1, t2, t3, tp) in trigrams {
            if (t1, t2) == (w1, w2) {
                tri.push(t3 | tp << 24);
            }
        }
        bi.push(u64::from(w2) | p << 24 | b << 32 | (tri.len() as u64) << 40);
        bi_end[w1 as usize] = (i + 1) as u32;
    }
    for i in 1..bi_end.len() {
        bi_end[i] = bi_end[i].max(bi_end[i - 1]);
    }
    let q: Vec<f32> = (0..768).map(|i| -((i % 256) as f32) * 0.05 - (i / 256) as f32 * 0.01).collect();
    let specials = [0u32, 1, (-7.0f32).to_bits()];

    let s = |name: &str, data: Vec<u8>| (name.to_string(), data);
    vec![
        s("meta", meta),
        s("vocab.blob", blob),
        s("vocab.off", u32s(&word_off)),
        s("phrase.off", u32s(&phrase_off)),
        s("phrase.words", u32s(&phrase_words)),
        s("syn.off", u32s(&syn_off)),
        s("syn.edges", u32s(&syn)),
        s("morph.ana.off", u32s(&ana_off)),
        s("morph.ana", u32s(&ana)),
        s("morph.gen.off", u32s(&gen_off)),
        s("morph.gen", u32s(&gen)),
        s("word.class", class),
        s("lm.uni.p", f32s(&uni_p)),
        s("lm.uni.b", f32s(&uni_b)),
        s("lm.bi.end", u32s(&bi_end)),
        s("lm.bi", u64s(&bi)),
        s("lm.tri", u32s(&tri)),
        s("lm.q", f32s(&q)),
        s("lm.specials", u32s(&specials)),
    ]
}

fn flatten(mut lists: Vec<Vec<u32>>) -> (Vec<u32>, Vec<u32>) {
    let mut off = vec![0u32];
    let mut flat = Vec::new();
    for l in &mut lists {
        l.sort_unstable();
        flat.extend_from_slice(l);
        off.push(flat.len() as u32);
    }
    (off, flat)
}

/// Serialises sections with the public writer, so every checksum is right.
pub fn write_pack(sections: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = PackWriter::default();
    for (name, data) in sections {
        w.bytes(name, data.clone());
    }
    w.finish()
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// After raw edits of a serialised pack: recompute the CRC of every section whose table entry
/// still points inside the file, then the table's CRC, so that the edits reach the checks past
/// the checksums. Layout as documented in `unspin::pack`.
pub fn fix_crcs(b: &mut [u8]) {
    const HEADER: usize = 24;
    const ENTRY: usize = 40;
    let Some(n) = le32(b, 12) else { return };
    let n = (n as usize).min(b.len().saturating_sub(HEADER) / ENTRY);
    for i in 0..n {
        let e = HEADER + i * ENTRY;
        let (Some(off), Some(len)) = (le64(b, e + 16), le64(b, e + 24)) else { return };
        let Some(end) = off.checked_add(len).filter(|&end| end <= b.len() as u64) else { continue };
        let crc = crc32(&b[off as usize..end as usize]);
        b[e + 32..e + 36].copy_from_slice(&crc.to_le_bytes());
    }
    let table = HEADER + n * ENTRY;
    if b.len() >= table && b.len() >= HEADER {
        let crc = crc32(&b[HEADER..table]);
        b[16..20].copy_from_slice(&crc.to_le_bytes());
    }
}

/// CRC-32 (IEEE, reflected), the checksum `crc32fast::hash` computes; bitwise, to need no
/// dependency beyond the two the brief allows.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &byte in data {
        c ^= u32::from(byte);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// Bugs this harness has found and reported that are not fixed yet: a pack that shows one is
/// not exercised, so that a fuzzing run goes on to find other bugs instead of this one again.
/// Set `UNSPIN_FUZZ_KNOWN_BUGS=1` to exercise such packs anyway (to check a fix: once
/// `Pack::from_bytes` refuses them, this filter never fires).
///
/// - `empty-phrase`: `phrase.off` may hold two equal offsets, i.e. a phrase of no words.
///   `Pack::from_bytes` accepts it; decoding then panics in `decode::inflect_phrase`
///   (`words.len() - 1` underflows, then `words[h]` is out of bounds) and spinning in
///   `spin::choose` (`ws.len() - 1`). Reproducer: `fuzz/regressions/pack_edit-empty-phrase`.
pub fn known_bug(pack: &Pack) -> Option<&'static str> {
    static ALLOW: OnceLock<bool> = OnceLock::new();
    if *ALLOW.get_or_init(|| std::env::var_os("UNSPIN_FUZZ_KNOWN_BUGS").is_some_and(|v| v == "1")) {
        return None;
    }
    let lex = pack.lexicon();
    (lex.n_words()..lex.n_nodes())
        .any(|node| lex.node_words(node).as_slice().is_empty())
        .then_some("empty-phrase")
}

/// Uses a pack that loaded the way the library's users do: every accessor over every id the pack
/// says exists (up to `budget` ids), the LM on every word, then restores one of [`TEXTS`] and
/// spins one, chosen by `pick` (so that one run stays fast and the fuzzer still reaches all).
/// `Pack::from_bytes` promises that a pack it accepts is safe to use ("checked on load"), so any
/// panic here is a gap in its checks.
pub fn exercise(pack: &Pack, budget: u32, pick: u8) {
    if known_bug(pack).is_some() {
        return;
    }
    let _ = pack.meta();
    let lex = pack.lexicon();
    let lm = pack.lm();
    let n_words = lex.n_words();
    let n_nodes = lex.n_nodes();
    let forms = [Form::Base, Form::S, Form::Ed, Form::Ing, Form::Er, Form::Est];
    for id in 0..n_words.min(budget) {
        let w = lex.word(id);
        let _ = lex.word_id(w);
        let _ = lex.class(id);
        let _ = lex.analyses(id).count();
        for f in forms {
            let _ = lex.inflect(id, f).count();
        }
        let _ = lm.unigram(id);
        let _ = lm.score(lm.bos, id, lm.eos);
        let _ = lm.score(id, id, id);
    }
    for node in 0..n_nodes.min(budget) {
        let _ = lex.node_text(node);
        let _ = lex.degree(node);
        let ws: Vec<u32> = lex.node_words(node).as_slice().to_vec();
        let _ = lex.node_of(&ws);
        for (m, _) in lex.neighbors(node) {
            let _ = lex.node_words(m).as_slice().len();
        }
    }
    let _ = lm.sequence(lm.bos, lm.bos, &[lm.eos, lm.bos, 0, 1, 2]);
    let text = TEXTS[usize::from(pick) % TEXTS.len()];
    let _ = Restorer::new(pack).restore(text);
    let opts = SpinOptions {
        seed: u64::from(pick >> 2),
        rate: 1.0,
        mask: flags::ALL,
        phrases: pick & 0x40 != 0,
        frequency_exponent: if pick & 0x20 != 0 { 0.0 } else { 0.5 },
    };
    let _ = spin(pack, TEXTS[usize::from(pick >> 3) % TEXTS.len()], &opts);
}

/// [`exercise`] with every text and both spinner modes: for checking a pack outside the fuzzer.
pub fn exercise_all(pack: &Pack) {
    for pick in [0u8, 1, 2, 0x40 | 0x08, 0x41 | 0x10, 0x42] {
        exercise(pack, u32::MAX, pick);
    }
}

// ---- pack_edit ----

type Sections = Vec<(String, Vec<u8>)>;

fn base() -> &'static Sections {
    static BASE: OnceLock<Sections> = OnceLock::new();
    BASE.get_or_init(|| {
        let s = tiny_pack_sections();
        // The starting point must itself load, or the target would test nothing.
        let pack = Pack::from_bytes(write_pack(&s)).expect("the tiny pack is valid");
        exercise_all(&pack);
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

/// The `pack_edit` target's input decoded: the tiny pack with the edits applied and its checksums
/// recomputed, and the `pick` for [`exercise`]. Byte 0 holds flags (bit 0: leave the checksums
/// wrong after raw edits; bits 1-7: `pick`), then come 6-byte edits `[kind, section, a, b, c, d]`
/// (at most 64; see `apply`).
pub fn pack_from_edits(data: &[u8]) -> (Vec<u8>, u8) {
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
                    // version, n_sections, reserved (the table CRC is recomputed below)
                    let at = [8, 12, 20, 12][field];
                    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        if flags & 1 == 0 {
            fix_crcs(&mut bytes);
        }
    }
    (bytes, flags >> 1)
}

// ---- CMU trie LM ----

/// The magic at the start of a CMU trie LM.
pub const CMU_MAGIC: &[u8] = b"Trie Language Model";
/// Bins per quantizer table.
pub const BINS: usize = 1 << 16;

/// Length of the header before the quantizer tables, for `order`.
fn cmu_header_len(order: u8) -> usize {
    CMU_MAGIC.len() + 1 + 4 * usize::from(order) + if order > 1 { 4 } else { 0 }
}

/// Ascending bin centres (upstream's `make_bins` sorts them), in logmath units.
fn cmu_bins() -> Vec<u8> {
    (0..BINS)
        .flat_map(|i| (-((BINS - 1 - i) as f32) * 1000.0).to_le_bytes())
        .collect()
}

/// The fuzzer can't usefully mutate 256-768 KiB of quantizer centres, and its inputs are capped
/// at a few KiB, so `cmu_lm` also reads its input in a compact form: a trie LM with the quantizer
/// tables left out. This inserts them (ascending centres, as upstream writes) after the header;
/// `None` when the input isn't a compact model of order 2 or 3.
pub fn expand_cmu(compact: &[u8]) -> Option<Vec<u8>> {
    if !compact.starts_with(CMU_MAGIC) {
        return None;
    }
    let order = *compact.get(CMU_MAGIC.len())?;
    if !(2..=3).contains(&order) {
        return None;
    }
    let head = cmu_header_len(order);
    if compact.len() < head {
        return None;
    }
    let tables = (usize::from(order) - 2) * 2 + 1;
    static BINS_BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    let bins = BINS_BYTES.get_or_init(cmu_bins);
    let mut out = Vec::with_capacity(compact.len() + tables * bins.len());
    out.extend_from_slice(&compact[..head]);
    for _ in 0..tables {
        out.extend_from_slice(bins);
    }
    out.extend_from_slice(&compact[head..]);
    Some(out)
}

fn required_bits(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

struct BitWriter(Vec<u8>);

impl BitWriter {
    fn new(entries: usize, bits: u32) -> Self {
        BitWriter(vec![0; (entries as u64 * u64::from(bits)).div_ceil(8) as usize + 8])
    }

    fn put(&mut self, at: u64, len: u32, v: u32) {
        for i in 0..len {
            if v >> i & 1 == 1 {
                let bit = at + u64::from(i);
                self.0[(bit / 8) as usize] |= 1 << (bit % 8);
            }
        }
    }
}

/// Bin index holding -k * 1000 logmath units in the ascending tables [`expand_cmu`] inserts.
fn bin(k: u16) -> u16 {
    u16::MAX - k
}

/// A tiny CMU trie LM of `order` 1, 2 or 3 in compact form (see [`expand_cmu`]; order 1 has no
/// quantizer tables, so its compact form is the real file). Laid out as `lm_trie_write_bin` does.
pub fn tiny_cmu_compact(order: u8) -> Vec<u8> {
    let words = ["</s>", "<s>", "a", "b", "c"];
    let unigrams = [
        (-1000.0f32, 0.0f32),
        (-2_279_673.0, -500.0),
        (-3000.0, -200.0),
        (-4000.0, -100.0),
        (-5000.0, 0.0),
    ];
    let all_bigrams: &[([u32; 2], u16, u16)] = &[
        ([1, 2], bin(1), bin(2)),
        ([2, 3], bin(3), bin(4)),
        ([3, 4], bin(5), bin(0)),
        ([2, 0], bin(6), bin(0)),
        ([1, 3], bin(7), bin(1)),
    ];
    let all_trigrams: &[([u32; 3], u16)] = &[([1, 2, 3], bin(8)), ([2, 3, 4], bin(9)), ([1, 3, 4], bin(10))];
    let bigrams: &[([u32; 2], u16, u16)] = if order >= 2 { all_bigrams } else { &[] };
    let trigrams: &[([u32; 3], u16)] = if order >= 3 { all_trigrams } else { &[] };
    let n = words.len() as u32;
    let mut out = CMU_MAGIC.to_vec();
    out.push(order);
    let counts = [n, bigrams.len() as u32, trigrams.len() as u32];
    for c in &counts[..usize::from(order)] {
        out.extend_from_slice(&c.to_le_bytes());
    }
    if order > 1 {
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    // Reverse-ordered trie: bigrams grouped by w2, trigrams by (w3, w2).
    let mut bis = bigrams.to_vec();
    bis.sort_by_key(|b| (b.0[1], b.0[0]));
    let mut tris = trigrams.to_vec();
    tris.sort_by_key(|t| (t.0[2], t.0[1], t.0[0]));
    for (w, &(p, b)) in unigrams.iter().enumerate() {
        let next = bis.iter().position(|x| x.0[1] >= w as u32).unwrap_or(bis.len());
        out.extend_from_slice(&p.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
        out.extend_from_slice(&(next as u32).to_le_bytes());
    }
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&(bis.len() as u32).to_le_bytes());
    let wb = required_bits(n);
    if order == 2 {
        let lbits = wb + 16;
        let mut long = BitWriter::new(bis.len() + 1, lbits);
        for (j, b) in bis.iter().enumerate() {
            let at = j as u64 * u64::from(lbits);
            long.put(at, wb, b.0[0]);
            long.put(at + u64::from(wb), 16, u32::from(b.1));
        }
        out.extend_from_slice(&long.0);
    } else if order == 3 {
        let nb = required_bits(tris.len() as u32);
        let mbits = wb + 32 + nb;
        let mut mid = BitWriter::new(bis.len() + 1, mbits);
        for (j, b) in bis.iter().enumerate() {
            let at = j as u64 * u64::from(mbits);
            let next = tris
                .iter()
                .position(|t| (t.0[2], t.0[1]) >= (b.0[1], b.0[0]))
                .unwrap_or(tris.len());
            mid.put(at, wb, b.0[0]);
            mid.put(at + u64::from(wb), 16, u32::from(b.2));
            mid.put(at + u64::from(wb) + 16, 16, u32::from(b.1));
            mid.put(at + u64::from(wb) + 32, nb, next as u32);
        }
        let end = bis.len() as u64 * u64::from(mbits) + u64::from(wb) + 32;
        mid.put(end, nb, tris.len() as u32);
        out.extend_from_slice(&mid.0);
        let lbits = wb + 16;
        let mut long = BitWriter::new(tris.len() + 1, lbits);
        for (k, t) in tris.iter().enumerate() {
            let at = k as u64 * u64::from(lbits);
            long.put(at, wb, t.0[0]);
            long.put(at + u64::from(wb), 16, u32::from(t.1));
        }
        out.extend_from_slice(&long.0);
    }
    let vocab: Vec<u8> = words.iter().flat_map(|w| w.bytes().chain([0])).collect();
    out.extend_from_slice(&(vocab.len() as u32).to_le_bytes());
    out.extend_from_slice(&vocab);
    out
}

/// The tiny pack, loaded once per process: what the targets that need a working pack use.
pub fn tiny_pack() -> &'static Pack {
    static P: OnceLock<Pack> = OnceLock::new();
    P.get_or_init(|| {
        Pack::from_bytes(write_pack(&tiny_pack_sections())).expect("tiny pack loads")
    })
}
