//! Reader for the CMU Sphinx binary "Trie Language Model" format.
//!
//! This is the format written by `ngram_model_trie_write_bin` in
//! sphinxbase / pocketsphinx (`lm_trie.c`, `lm_trie_quant.c`,
//! `ngram_model_trie.c`), e.g. the stock `en-us.lm.bin`. All integers and
//! floats are little-endian. Layout:
//!
//! | field | size |
//! |---|---|
//! | magic `"Trie Language Model"` (no NUL) | 19 bytes |
//! | order `N` | u8 |
//! | n-gram counts, orders 1..=N | N × u32 |
//! | (N > 1) former quantizer type, ignored | i32 |
//! | (N > 1) quantizer bins: per middle order 65,536 prob + 65,536 back-off centres, then 65,536 prob centres for order N | f32 each |
//! | unigrams, `count1 + 1` records (last is a sentinel) | {f32 prob, f32 backoff, u32 next} |
//! | (N > 1) bit-packed middle arrays (orders 2..N-1), then the longest array | see below |
//! | vocabulary size in bytes `k` | u32 |
//! | vocabulary: `count1` NUL-terminated words, in word-id order | k bytes |
//!
//! The trie is keyed on *reversed* n-grams (KenLM style): a unigram record
//! for word `w` gives the range of middle entries for bigrams ending in `w`;
//! each middle entry stores the preceding word and the range of its
//! children in the next order, which store the word before that.
//!
//! Each bit-packed array has `count + 1` entries of a fixed bit width, packed
//! LSB-first, followed by 8 bytes of slack; its byte size is
//! `((count + 1) * bits + 7) / 8 + 8`. A middle entry is
//! `word | backoff bin (16) | prob bin (16) | next`, where `word` takes
//! `required_bits(count1)` bits and `next` takes `required_bits(count of the
//! next order)` bits; the extra last entry only carries the final `next`.
//! A longest entry is `word | prob bin (16)`.
//!
//! Scores (unigram floats and quantizer centres) are in the `logmath` units
//! of the writer: log base 1.0001 (the `-logbase` default of
//! `sphinx_lm_convert`/pocketsphinx, shift 0). The format does not record the
//! base; with 1.0001 the unigram probabilities of `en-us.lm.bin` sum to 1.
//! This reader converts everything to log10.
//!
//! The n-gram counts in the header are the writer's estimates *before*
//! building the trie (`lm_trie_fix_counts`) and may exceed what was stored:
//! in `en-us.lm.bin` the header says 2,051,547 bigrams but only 2,051,541
//! are reachable from the unigram pointers; the unused tail slots are zero.
//! Only reachable entries are returned.
//!
//! Upstream also inserts "blank" bigrams when a trigram `w1 w2 w3` has no
//! suffix bigram `w2 w3` (`recursive_insert`): back-off 0 and probability
//! `P(w3) + bo(w2)` computed in logmath units and quantized, i.e. exactly
//! the back-off estimate, so they score like a missing bigram. They are not
//! flagged in the file, but they are recognisable: back-off bin = the bin
//! `0.0` encodes to, probability bin = the bin `P(w3) + bo(w2)` encodes to
//! (replicating upstream's `bins_encode`), and at least one trigram child.
//! `en-us.lm.bin` holds 57,298 such entries, all with children; no childless
//! bigram matches the signature. [`read_trie_lm`] returns them (as stored);
//! [`read_trie_lm_with`] with [`Blanks::Drop`] leaves them out.

/// Log base of the `logmath` units stored in the file.
pub const LOG_BASE: f64 = 1.0001;

const MAGIC: &[u8] = b"Trie Language Model";
/// Number of quantizer bins per table (16-bit bins, fixed by the writer).
const BINS: usize = 1 << 16;
const QUANT_BITS: u32 = 16;

/// One n-gram model read from the CMU trie file. Probabilities and back-offs are log10.
///
/// `bigrams` is sorted by `(w1, w2)` and `trigrams` by `(w1, w2, w3)`
/// (word ids, i.e. file order). For a bigram model `trigrams` is empty; for a
/// trigram model bigram back-offs come from the quantized tables.
#[derive(Debug, Clone, PartialEq)]
pub struct TrieLm {
    /// Vocabulary; index = word id in the file.
    pub words: Vec<String>,
    /// (log10 prob, log10 backoff) per word id.
    pub unigrams: Vec<(f32, f32)>,
    /// (w1, w2), log10 prob, log10 backoff.
    pub bigrams: Vec<([u32; 2], f32, f32)>,
    /// (w1, w2, w3), log10 prob.
    pub trigrams: Vec<([u32; 3], f32)>,
}

/// Why a byte string is not a readable CMU trie language model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmuError {
    #[error("not a CMU trie language model")]
    NotTrie,
    #[error("truncated at byte {0}")]
    Truncated(usize),
    #[error("unsupported n-gram order {0}")]
    UnsupportedOrder(u8),
    #[error("{order}-gram pointer out of range at entry {index}")]
    BadPointer { order: usize, index: u32 },
    #[error("word id {word} out of range in {order}-gram entry {index}")]
    BadWordId { order: usize, index: u32, word: u32 },
    #[error("vocabulary has {found} words, header says {expected}")]
    WordCount { expected: u32, found: usize },
    #[error("vocabulary is not NUL-terminated")]
    UnterminatedWord,
    #[error("word {0} is not valid utf-8")]
    BadWord(usize),
    #[error("{0} trailing bytes after the vocabulary")]
    TrailingBytes(usize),
}

/// What to do with upstream's synthetic "blank" bigrams (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Blanks {
    /// Return every stored bigram, blanks included.
    #[default]
    Keep,
    /// Leave out bigrams that carry upstream's blank signature.
    Drop,
}

/// Parse a CMU Sphinx binary trie language model of order 1 to 3, keeping
/// every stored n-gram (including upstream's blank bigrams).
///
/// Never panics; every length and pointer is checked against the input.
pub fn read_trie_lm(bytes: &[u8]) -> Result<TrieLm, CmuError> {
    read_trie_lm_with(bytes, Blanks::Keep)
}

/// [`read_trie_lm`], choosing whether blank bigrams are returned.
pub fn read_trie_lm_with(bytes: &[u8], blanks: Blanks) -> Result<TrieLm, CmuError> {
    if !bytes.starts_with(MAGIC) {
        return Err(CmuError::NotTrie);
    }
    let mut r = Reader {
        bytes,
        pos: MAGIC.len(),
    };
    let order = r.u8()?;
    if !(1..=3).contains(&order) {
        return Err(CmuError::UnsupportedOrder(order));
    }
    let order = usize::from(order);
    let mut counts = [0u32; 3];
    for c in counts.iter_mut().take(order) {
        *c = r.u32()?;
    }
    let n_words = counts[0];

    // Quantizer centres, still in logmath units.
    let quant: Vec<f32> = if order > 1 {
        r.u32()?; // former quantizer type, always 1 nowadays
        let n = (order - 2) * 2 * BINS + BINS;
        let raw = r.take(n * 4)?;
        raw.chunks_exact(4).map(le_f32).collect()
    } else {
        Vec::new()
    };

    // Unigrams plus sentinel.
    let n_uni = (n_words as usize)
        .checked_add(1)
        .ok_or(CmuError::Truncated(bytes.len()))?;
    let uni_bytes = n_uni
        .checked_mul(12)
        .filter(|&b| b <= r.remaining())
        .ok_or(CmuError::Truncated(bytes.len()))?;
    let raw = r.take(uni_bytes)?;
    // (prob, backoff) in logmath units, and the child pointers.
    let mut raw_uni = Vec::with_capacity(n_uni);
    let mut uni_next = Vec::with_capacity(n_uni);
    for rec in raw.chunks_exact(12) {
        raw_uni.push((le_f32(&rec[0..4]), le_f32(&rec[4..8])));
        uni_next.push(u32::from_le_bytes([rec[8], rec[9], rec[10], rec[11]]));
    }
    raw_uni.truncate(n_words as usize);
    let unigrams = raw_uni
        .iter()
        .map(|&(p, b)| (to_log10(p), to_log10(b)))
        .collect();

    let word_bits = required_bits(n_words);
    let mut bigrams = Vec::new();
    let mut trigrams = Vec::new();
    match order {
        2 => {
            let longest = r.packed(counts[1], word_bits + QUANT_BITS)?;
            let probs = &quant[..BINS];
            for (w2, pair) in (0..n_words).zip(uni_next.windows(2)) {
                for j in checked_range(pair[0], pair[1], counts[1], 1, w2)? {
                    let at = longest.entry(j);
                    let w1 = longest.bits(at, word_bits);
                    check_word(w1, n_words, 2, j)?;
                    let prob = probs[longest.bits(at + word_bits as u64, QUANT_BITS) as usize];
                    bigrams.push(([w1, w2], to_log10(prob), 0.0));
                }
            }
        }
        3 => {
            let next_bits = required_bits(counts[2]);
            let middle = r.packed(counts[1], word_bits + 2 * QUANT_BITS + next_bits)?;
            let longest = r.packed(counts[2], word_bits + QUANT_BITS)?;
            let (mid_probs, rest) = quant.split_at(BINS);
            let (mid_bos, long_probs) = rest.split_at(BINS);
            let next_at = u64::from(word_bits + 2 * QUANT_BITS);
            let zero_bo = encode_bin(mid_bos, 0.0);
            for (w3, pair) in (0..n_words).zip(uni_next.windows(2)) {
                for j in checked_range(pair[0], pair[1], counts[1], 1, w3)? {
                    let at = middle.entry(j);
                    let w2 = middle.bits(at, word_bits);
                    check_word(w2, n_words, 2, j)?;
                    let bo_bin = middle.bits(at + u64::from(word_bits), QUANT_BITS) as usize;
                    let prob_bin =
                        middle.bits(at + u64::from(word_bits + QUANT_BITS), QUANT_BITS) as usize;
                    let begin = middle.bits(at + next_at, next_bits);
                    let end = middle.bits(middle.entry(j + 1) + next_at, next_bits);
                    let blank = blanks == Blanks::Drop
                        && bo_bin == zero_bo
                        && begin < end
                        && prob_bin
                            == encode_bin(
                                mid_probs,
                                raw_uni[w3 as usize].0 + raw_uni[w2 as usize].1,
                            );
                    if !blank {
                        let (prob, bo) = (mid_probs[prob_bin], mid_bos[bo_bin]);
                        bigrams.push(([w2, w3], to_log10(prob), to_log10(bo)));
                    }
                    for k in checked_range(begin, end, counts[2], 2, j)? {
                        let at = longest.entry(k);
                        let w1 = longest.bits(at, word_bits);
                        check_word(w1, n_words, 3, k)?;
                        let prob = long_probs
                            [longest.bits(at + u64::from(word_bits), QUANT_BITS) as usize];
                        trigrams.push(([w1, w2, w3], to_log10(prob)));
                    }
                }
            }
        }
        _ => {}
    }

    let words = read_words(&mut r, n_words)?;
    if r.remaining() != 0 {
        return Err(CmuError::TrailingBytes(r.remaining()));
    }

    bigrams.sort_unstable_by_key(|b| b.0);
    trigrams.sort_unstable_by_key(|t| t.0);
    Ok(TrieLm {
        words,
        unigrams,
        bigrams,
        trigrams,
    })
}

fn read_words(r: &mut Reader<'_>, n_words: u32) -> Result<Vec<String>, CmuError> {
    let len = r.u32()? as usize;
    let block = r.take(len)?;
    let Some(body) = block.strip_suffix(&[0]) else {
        return if n_words == 0 && block.is_empty() {
            Ok(Vec::new())
        } else {
            Err(CmuError::UnterminatedWord)
        };
    };
    let found = body.iter().filter(|&&b| b == 0).count() + 1;
    if found != n_words as usize {
        return Err(CmuError::WordCount {
            expected: n_words,
            found,
        });
    }
    body.split(|&b| b == 0)
        .enumerate()
        .map(|(i, w)| String::from_utf8(w.to_vec()).map_err(|_| CmuError::BadWord(i)))
        .collect()
}

/// Convert a score in logmath units (base [`LOG_BASE`]) to log10.
fn to_log10(v: f32) -> f32 {
    (f64::from(v) * LOG_BASE.log10()) as f32
}

fn le_f32(b: &[u8]) -> f32 {
    f32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// The bin upstream's `bins_encode` picks for `value`: a `lower_bound`
/// binary search (the tables are only approximately sorted, so the exact
/// probing sequence matters), then the nearer of the two neighbours.
fn encode_bin(bins: &[f32], value: f32) -> usize {
    let (mut first, mut count) = (0, bins.len());
    while count > 0 {
        let step = count / 2;
        if bins[first + step] < value {
            first += step + 1;
            count -= step + 1;
        } else {
            count = step;
        }
    }
    match first {
        0 => 0,
        n if n == bins.len() => n - 1,
        n => n - usize::from(value - bins[n - 1] < bins[n] - value),
    }
}

/// Bits needed to store values up to `max` (0 needs none), as in `bitarr.c`.
fn required_bits(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

fn check_word(word: u32, n_words: u32, order: usize, index: u32) -> Result<(), CmuError> {
    if word < n_words {
        Ok(())
    } else {
        Err(CmuError::BadWordId { order, index, word })
    }
}

/// Validate a child range `[begin, end)` of an array with `count` entries;
/// `order`/`index` name the entry holding the pointers, for the error.
fn checked_range(
    begin: u32,
    end: u32,
    count: u32,
    order: usize,
    index: u32,
) -> Result<std::ops::Range<u32>, CmuError> {
    if begin <= end && end <= count {
        Ok(begin..end)
    } else {
        Err(CmuError::BadPointer { order, index })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CmuError> {
        if n > self.remaining() {
            return Err(CmuError::Truncated(self.bytes.len()));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, CmuError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, CmuError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A bit-packed array of `count + 1` entries of `bits` bits, plus slack.
    fn packed(&mut self, count: u32, bits: u32) -> Result<Packed<'a>, CmuError> {
        let size = (u64::from(count) + 1) * u64::from(bits);
        let size = size.div_ceil(8) + 8;
        let size = usize::try_from(size).map_err(|_| CmuError::Truncated(self.bytes.len()))?;
        Ok(Packed {
            data: self.take(size)?,
            bits: u64::from(bits),
        })
    }
}

/// LSB-first bit-packed fixed-width records (`bitarr.c`).
struct Packed<'a> {
    data: &'a [u8],
    bits: u64,
}

impl Packed<'_> {
    /// Bit offset of entry `i`.
    fn entry(&self, i: u32) -> u64 {
        u64::from(i) * self.bits
    }

    /// Read `len <= 32` bits at bit offset `at`; bytes past the end read as 0.
    fn bits(&self, at: u64, len: u32) -> u32 {
        let byte = usize::try_from(at >> 3).unwrap_or(usize::MAX);
        let mut buf = [0u8; 8];
        if let Some(src) = self.data.get(byte..) {
            let n = src.len().min(8);
            buf[..n].copy_from_slice(&src[..n]);
        }
        let v = u64::from_le_bytes(buf) >> (at & 7);
        let mask = (1u64 << len.min(32)) - 1;
        (v & mask) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;

    fn lm_path() -> PathBuf {
        let root = std::env::var_os("UNSPIN_SOURCES")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/sources"))
            });
        root.join("pocketsphinx/en-us.lm.bin")
    }

    fn load_real() -> Option<Vec<u8>> {
        let path = lm_path();
        match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(_) => {
                eprintln!(
                    "note: {} missing; run scripts/fetch-sources.sh to enable this test",
                    path.display()
                );
                None
            }
        }
    }

    /// Standard ARPA back-off trigram scorer over a [`TrieLm`].
    struct Scorer<'a> {
        lm: &'a TrieLm,
        ids: HashMap<&'a str, u32>,
        bi: HashMap<[u32; 2], (f32, f32)>,
        tri: HashMap<[u32; 3], f32>,
    }

    impl<'a> Scorer<'a> {
        fn new(lm: &'a TrieLm) -> Self {
            let ids = lm
                .words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_str(), i as u32))
                .collect();
            let bi = lm.bigrams.iter().map(|&(k, p, b)| (k, (p, b))).collect();
            let tri = lm.trigrams.iter().map(|&(k, p)| (k, p)).collect();
            Scorer { lm, ids, bi, tri }
        }

        fn p2(&self, w1: u32, w2: u32) -> f32 {
            match self.bi.get(&[w1, w2]) {
                Some(&(p, _)) => p,
                None => self.lm.unigrams[w1 as usize].1 + self.lm.unigrams[w2 as usize].0,
            }
        }

        fn p3(&self, w1: u32, w2: u32, w3: u32) -> f32 {
            match self.tri.get(&[w1, w2, w3]) {
                Some(&p) => p,
                None => {
                    let bo = self.bi.get(&[w1, w2]).map_or(0.0, |&(_, b)| b);
                    bo + self.p2(w2, w3)
                }
            }
        }

        /// log10 P(text) with the standard ARPA back-off recursion.
        ///
        /// Convention: with `sentence_start`, `<s>` is the context of the
        /// first word; without it the first word is scored by its unigram.
        /// `</s>` is never scored. The reference values quoted for this LM
        /// ("the first major case" = -8.81, ...) are reproduced *without*
        /// `<s>`; with `<s>` that phrase scores -8.63.
        fn score(&self, text: &str, sentence_start: bool) -> f32 {
            let mut hist: Vec<u32> = Vec::new();
            if sentence_start {
                hist.push(self.ids["<s>"]);
            }
            let mut total = 0.0;
            for w in text.split_whitespace() {
                let w = self.ids[w.to_lowercase().as_str()];
                total += match hist.as_slice() {
                    [.., a, b] => self.p3(*a, *b, w),
                    [b] => self.p2(*b, w),
                    [] => self.lm.unigrams[w as usize].0,
                };
                hist.push(w);
            }
            total
        }
    }

    const REFERENCE: [(&str, f32); 4] = [
        ("the first major case", -8.81),
        ("the primary main case", -12.04),
        ("told the Guardian", -6.63),
        ("instructed the guardian", -10.90),
    ];

    #[test]
    fn cmu_reads_en_us_lm() {
        let Some(bytes) = load_real() else { return };
        let t0 = std::time::Instant::now();
        let lm = read_trie_lm(&bytes).expect("read en-us.lm.bin");
        eprintln!("read_trie_lm: {:?}", t0.elapsed());

        assert_eq!(lm.words.len(), 72_547);
        assert_eq!(lm.unigrams.len(), 72_547);
        assert_eq!(lm.bigrams.len(), 2_051_541);
        assert_eq!(lm.trigrams.len(), 1_669_625);
        assert!(lm.words.iter().any(|w| w == "<s>") && lm.words.iter().any(|w| w == "</s>"));
        assert!(!lm.words.iter().any(|w| w == "<unk>"));
        assert!(lm
            .words
            .iter()
            .all(|w| !w.is_empty() && *w == w.to_lowercase()));

        // Base check: unigram probabilities sum to one.
        let mass: f64 = lm
            .unigrams
            .iter()
            .map(|&(p, _)| 10f64.powf(f64::from(p)))
            .sum();
        assert!((mass - 1.0).abs() < 1e-3, "unigram mass {mass}");
        let s = lm.words.iter().position(|w| w == "<s>").unwrap();
        assert!((lm.unigrams[s].0 + 99.0).abs() < 1e-3);

        // Strictly sorted (hence unique), in range, finite, probabilities <= 0.
        let n = lm.words.len() as u32;
        assert!(lm.bigrams.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(lm.trigrams.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(lm.bigrams.iter().all(|b| b.0.iter().all(|&w| w < n)
            && b.1 <= 0.0
            && b.1.is_finite()
            && b.2.is_finite()));
        assert!(lm
            .trigrams
            .iter()
            .all(|t| t.0.iter().all(|&w| w < n) && t.1 <= 0.0));
        // Every trigram extends a stored bigram on both sides.
        let bi: std::collections::HashSet<[u32; 2]> = lm.bigrams.iter().map(|b| b.0).collect();
        assert!(lm.trigrams.iter().all(|t| bi.contains(&[t.0[1], t.0[2]])));
        assert!(lm.trigrams.iter().all(|t| bi.contains(&[t.0[0], t.0[1]])));

        let sc = Scorer::new(&lm);
        for (text, want) in REFERENCE {
            let got = sc.score(text, false);
            eprintln!(
                "log10 P({text}) = {got:.3} (with <s> context: {:.3})",
                sc.score(text, true)
            );
            assert!((got - want).abs() < 0.05, "{text}: {got} vs {want}");
        }
        assert!((sc.score("the first major case", true) - -8.63).abs() < 0.05);

        // Without upstream's blank bigrams: same unigrams and trigrams, and
        // the same scores, since blanks hold exactly the back-off estimate.
        let t0 = std::time::Instant::now();
        let pruned = read_trie_lm_with(&bytes, Blanks::Drop).expect("read without blanks");
        eprintln!("read_trie_lm_with(Drop): {:?}", t0.elapsed());
        assert_eq!(lm.bigrams.len() - pruned.bigrams.len(), 57_298);
        assert_eq!(pruned.trigrams, lm.trigrams);
        assert_eq!(pruned.unigrams, lm.unigrams);
        let kept: std::collections::HashSet<[u32; 2]> =
            pruned.bigrams.iter().map(|b| b.0).collect();
        // Blanks hold the back-off estimate, quantized with the bigram prob
        // bins, which are sparse below -7 (the lowest is -7.37; estimates
        // beneath it were clamped to it by upstream's encoder).
        let lowest = lm.bigrams.iter().map(|b| b.1).fold(0f32, f32::min);
        let mut clamped = 0;
        for &(k, p, b) in &lm.bigrams {
            if !kept.contains(&k) {
                let est = lm.unigrams[k[0] as usize].1 + lm.unigrams[k[1] as usize].0;
                assert_eq!(b, 0.0);
                if (p - est).abs() > 0.01 {
                    assert!(
                        est < -7.0 && p < -7.0,
                        "{k:?}: stored {p} vs estimate {est}"
                    );
                    clamped += 1;
                }
            }
        }
        eprintln!(
            "blank bigrams off the back-off estimate by > 0.01: {clamped} (lowest bin {lowest:.3})"
        );
        assert!(clamped < 2_000);
        let sp = Scorer::new(&pruned);
        for (text, _) in REFERENCE {
            assert!(
                (sp.score(text, false) - sc.score(text, false)).abs() < 1e-3,
                "{text}"
            );
        }
    }

    #[test]
    fn cmu_truncated_real_file_is_error() {
        let Some(bytes) = load_real() else { return };
        let header = MAGIC.len() + 1 + 3 * 4;
        let cuts = [
            0,
            5,
            MAGIC.len(),
            MAGIC.len() + 1,
            header,
            header + 4,
            header + 4 + 1000,
            1_000_000,
            10_000_000,
            bytes.len() - 700_000,
            bytes.len() - 1000,
            bytes.len() - 1,
        ];
        for cut in cuts {
            assert!(read_trie_lm(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            read_trie_lm(&long),
            Err(CmuError::TrailingBytes(1))
        ));
    }

    // ---- synthetic models, independent of the downloaded file ----

    /// LSB-first bit writer mirroring `bitarr_write_int*`.
    struct BitWriter(Vec<u8>);

    impl BitWriter {
        fn put(&mut self, at: u64, len: u32, v: u32) {
            for i in 0..len {
                if v >> i & 1 == 1 {
                    let bit = at + u64::from(i);
                    self.0[(bit / 8) as usize] |= 1 << (bit % 8);
                }
            }
        }
    }

    /// Encode a small trigram model the way `lm_trie_write_bin` lays it out.
    /// Scores are given in logmath units and must be bin centres.
    fn encode_trigram_model(
        words: &[&str],
        unigrams: &[(f32, f32)],
        bigrams: &[([u32; 2], u16, u16)],
        trigrams: &[([u32; 3], u16)],
        bins: &[f32],
    ) -> Vec<u8> {
        let n = words.len() as u32;
        let mut out = MAGIC.to_vec();
        out.push(3);
        for c in [n, bigrams.len() as u32, trigrams.len() as u32] {
            out.extend_from_slice(&c.to_le_bytes());
        }
        out.extend_from_slice(&1u32.to_le_bytes());
        for _ in 0..3 {
            for &b in bins {
                out.extend_from_slice(&b.to_le_bytes());
            }
        }
        // Reverse-ordered trie: bigrams grouped by w2, trigrams by (w3, w2).
        let mut bis: Vec<_> = bigrams.to_vec();
        bis.sort_by_key(|b| (b.0[1], b.0[0]));
        let mut tris: Vec<_> = trigrams.to_vec();
        tris.sort_by_key(|t| (t.0[2], t.0[1], t.0[0]));
        for (w, &(p, b)) in unigrams.iter().enumerate() {
            let next = bis
                .iter()
                .position(|x| x.0[1] >= w as u32)
                .unwrap_or(bis.len());
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
            out.extend_from_slice(&(next as u32).to_le_bytes());
        }
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&(bis.len() as u32).to_le_bytes());

        let wb = required_bits(n);
        let nb = required_bits(tris.len() as u32);
        let mbits = wb + 32 + nb;
        let mut mid = BitWriter(vec![
            0;
            ((bis.len() as u64 + 1) * u64::from(mbits)).div_ceil(8)
                as usize
                + 8
        ]);
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
        let mut long = BitWriter(vec![
            0;
            ((tris.len() as u64 + 1) * u64::from(lbits)).div_ceil(8)
                as usize
                + 8
        ]);
        for (k, t) in tris.iter().enumerate() {
            let at = k as u64 * u64::from(lbits);
            long.put(at, wb, t.0[0]);
            long.put(at + u64::from(wb), 16, u32::from(t.1));
        }
        out.extend_from_slice(&long.0);

        let vocab: Vec<u8> = words.iter().flat_map(|w| w.bytes().chain([0])).collect();
        out.extend_from_slice(&(vocab.len() as u32).to_le_bytes());
        out.extend_from_slice(&vocab);
        out
    }

    /// Bin index holding -k * 1000 logmath units in [`tiny_model`]'s
    /// ascending tables (as upstream's `make_bins` produces).
    fn bin(k: u16) -> u16 {
        u16::MAX - k
    }

    fn tiny_model() -> Vec<u8> {
        let bins: Vec<f32> = (0..BINS)
            .map(|i| -((BINS - 1 - i) as f32) * 1000.0)
            .collect();
        encode_trigram_model(
            &["</s>", "<s>", "a", "b", "c"],
            &[
                (-1000.0, 0.0),
                (-2_279_673.0, -500.0),
                (-3000.0, -200.0),
                (-4000.0, -100.0),
                (-5000.0, 0.0),
            ],
            &[
                ([1, 2], bin(1), bin(2)),
                ([2, 3], bin(3), bin(4)),
                ([3, 4], bin(5), bin(0)),
                ([2, 0], bin(6), bin(0)),
                ([1, 3], bin(7), bin(1)),
            ],
            &[
                ([1, 2, 3], bin(8)),
                ([2, 3, 4], bin(9)),
                ([1, 3, 4], bin(10)),
            ],
            &bins,
        )
    }

    #[test]
    fn cmu_tiny_model_round_trips() {
        let lm = read_trie_lm(&tiny_model()).unwrap();
        let k = LOG_BASE.log10() as f32;
        assert_eq!(lm.words, ["</s>", "<s>", "a", "b", "c"]);
        assert!((lm.unigrams[1].0 + 99.0).abs() < 1e-3);
        assert!((lm.unigrams[2].1 - -200.0 * k).abs() < 1e-6);
        let keys: Vec<_> = lm.bigrams.iter().map(|b| b.0).collect();
        assert_eq!(keys, [[1, 2], [1, 3], [2, 0], [2, 3], [3, 4]]);
        let b = lm.bigrams[3];
        assert!((b.1 - -3000.0 * k).abs() < 1e-6 && (b.2 - -4000.0 * k).abs() < 1e-6);
        let keys: Vec<_> = lm.trigrams.iter().map(|t| t.0).collect();
        assert_eq!(keys, [[1, 2, 3], [1, 3, 4], [2, 3, 4]]);
        assert!((lm.trigrams[1].1 - -10_000.0 * k).abs() < 1e-6);
    }

    #[test]
    fn cmu_tiny_model_every_truncation_is_error() {
        let bytes = tiny_model();
        for cut in 0..bytes.len() {
            assert!(read_trie_lm(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(matches!(read_trie_lm(b"ARPA"), Err(CmuError::NotTrie)));
        let mut bad = bytes.clone();
        bad[MAGIC.len()] = 4;
        assert!(matches!(
            read_trie_lm(&bad),
            Err(CmuError::UnsupportedOrder(4))
        ));
    }

    #[test]
    fn cmu_huge_counts_are_rejected() {
        let mut bytes = tiny_model();
        for i in 0..3 {
            let mut b = bytes.clone();
            let at = MAGIC.len() + 1 + 4 * i;
            b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            assert!(read_trie_lm(&b).is_err());
        }
        bytes.truncate(MAGIC.len() + 1);
        assert!(read_trie_lm(&bytes).is_err());
    }

    /// Hand-built order-1 and order-2 models.
    fn small_model(order: u8) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(order);
        let counts: &[u32] = if order == 1 { &[2] } else { &[2, 2] };
        for c in counts {
            out.extend_from_slice(&c.to_le_bytes());
        }
        if order == 2 {
            out.extend_from_slice(&1u32.to_le_bytes());
            for i in 0..BINS {
                out.extend_from_slice(&(-(i as f32) * 1000.0).to_le_bytes());
            }
        }
        // "x": bigrams "x x" and "y x"; "y": none.
        for (p, b, next) in [
            (-1000.0f32, -100.0f32, 0u32),
            (-2000.0, 0.0, 2),
            (0.0, 0.0, 2),
        ] {
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
            out.extend_from_slice(&next.to_le_bytes());
        }
        if order == 2 {
            // word bits 2 + prob 16 = 18 bits per entry, 3 entries, + 8 slack.
            let mut long = BitWriter(vec![0; (3 * 18usize).div_ceil(8) + 8]);
            long.put(0, 2, 0);
            long.put(2, 16, 3);
            long.put(18, 2, 1);
            long.put(20, 16, 4);
            out.extend_from_slice(&long.0);
        }
        out.extend_from_slice(&4u32.to_le_bytes());
        out.extend_from_slice(b"x\0y\0");
        out
    }

    #[test]
    fn cmu_order_one_and_two() {
        let k = LOG_BASE.log10() as f32;
        let uni = read_trie_lm(&small_model(1)).unwrap();
        assert_eq!(uni.words, ["x", "y"]);
        assert!(uni.bigrams.is_empty() && uni.trigrams.is_empty());
        let bi = read_trie_lm(&small_model(2)).unwrap();
        assert_eq!(bi.unigrams, uni.unigrams);
        assert!((bi.unigrams[0].1 - -100.0 * k).abs() < 1e-6);
        assert_eq!(bi.bigrams.len(), 2);
        assert_eq!(bi.bigrams[0].0, [0, 0]);
        assert!((bi.bigrams[0].1 - -3000.0 * k).abs() < 1e-6 && bi.bigrams[0].2 == 0.0);
        assert_eq!(bi.bigrams[1].0, [1, 0]);
        assert!((bi.bigrams[1].1 - -4000.0 * k).abs() < 1e-6);
        assert!(bi.trigrams.is_empty());
        for order in [1, 2] {
            let bytes = small_model(order);
            for cut in 0..bytes.len() {
                assert!(
                    read_trie_lm(&bytes[..cut]).is_err(),
                    "order {order} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn cmu_tiny_model_blanks() {
        // Bigram "b c" (ids 3, 4) has back-off bin 0 (= 0.0), a trigram
        // child, and prob bin 5 = encode(P(c) + bo(b) = -5100): a blank.
        // "a </s>" also has back-off 0 but no children, so it stays.
        let bytes = tiny_model();
        let all = read_trie_lm(&bytes).unwrap();
        let kept = read_trie_lm_with(&bytes, Blanks::Drop).unwrap();
        let keys: Vec<_> = kept.bigrams.iter().map(|b| b.0).collect();
        assert_eq!(keys, [[1, 2], [1, 3], [2, 0], [2, 3]]);
        assert_eq!(kept.trigrams, all.trigrams);
        assert_eq!(encode_bin(&[-3.0, -2.0, -1.0], -1.6), 1);
        assert_eq!(encode_bin(&[-3.0, -2.0, -1.0], -1.4), 2);
        assert_eq!(encode_bin(&[-3.0, -2.0, -1.0], -9.0), 0);
        assert_eq!(encode_bin(&[-3.0, -2.0, -1.0], 9.0), 2);
    }

    #[test]
    fn cmu_corrupt_pointers_are_errors() {
        let bytes = tiny_model();
        let uni_at = MAGIC.len() + 1 + 12 + 4 + 3 * BINS * 4;
        // Unigram 2's next pointer beyond the bigram count.
        let mut b = bytes.clone();
        b[uni_at + 2 * 12 + 8..uni_at + 2 * 12 + 12].copy_from_slice(&99u32.to_le_bytes());
        assert!(matches!(read_trie_lm(&b), Err(CmuError::BadPointer { .. })));
        // Decreasing unigram pointers.
        let mut b = bytes.clone();
        b[uni_at + 8..uni_at + 12].copy_from_slice(&3u32.to_le_bytes());
        assert!(matches!(read_trie_lm(&b), Err(CmuError::BadPointer { .. })));
        // Vocabulary with a missing word.
        let mut b = bytes.clone();
        let n = b.len();
        b[n - 2] = 0;
        assert!(matches!(read_trie_lm(&b), Err(CmuError::WordCount { .. })));
        // Unterminated vocabulary.
        let mut b = bytes;
        let n = b.len();
        b[n - 1] = b'x';
        assert!(matches!(read_trie_lm(&b), Err(CmuError::UnterminatedWord)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn cmu_mutated_tiny_model_never_panics(
            edits in proptest::collection::vec(
                (proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 1..8),
            cut in 0usize..4,
        ) {
            let mut bytes = tiny_model();
            // Edit the structural bytes (header, unigrams, tries, vocabulary),
            // not the 768 KiB of quantizer centres.
            let head = MAGIC.len() + 1 + 12 + 4;
            let tail = bytes.len() - (head + 3 * BINS * 4);
            for (at, v) in edits {
                let i = at % (head + tail);
                let i = if i < head { i } else { i + 3 * BINS * 4 };
                bytes[i] = v;
            }
            let cut = bytes.len() - cut;
            let _ = read_trie_lm_with(&bytes[..cut], Blanks::Drop);
        }
    }
}
