//! A back-off trigram language model stored as a compact trie inside the pack.
//!
//! Words are vocabulary ids. Unigrams hold log10 probability, log10 back-off and the end of their
//! bigram block; bigrams are `u64` records (`w2`:24, prob bin:8, back-off bin:8, end of trigram
//! block:24), sorted by `w2` within each `w1`; trigrams are `u32` records (`w3`:24, prob bin:8),
//! sorted by `w3` within each bigram. Probability bins are 256-entry tables per order.

/// Marks a missing history word (sentence start handled by `<s>`, or an unknown word).
pub const NONE: u32 = u32::MAX;

/// A read-only view of the language model inside a loaded pack.
#[derive(Clone, Copy)]
pub struct Lm<'a> {
    pub(crate) uni_p: &'a [f32],
    pub(crate) uni_b: &'a [f32],
    pub(crate) bi_end: &'a [u32],
    pub(crate) bi: &'a [u64],
    pub(crate) tri: &'a [u32],
    pub(crate) q: &'a [f32],
    /// Log10 probability for a word outside the vocabulary.
    pub oov: f32,
    /// `<s>`.
    pub bos: u32,
    /// `</s>`.
    pub eos: u32,
    /// Hash tables of the bigrams and trigrams, when the pack has built them (`Pack::lm` builds
    /// them on first use): one probe instead of a binary search over a block that holds tens of
    /// thousands of successors for the commonest words.
    pub(crate) ngrams: Option<&'a NgramIndex>,
}

/// Scores `words` one after another with `score(w1, w2, w)`, starting from the history `h1 h2`;
/// a word outside the `n`-word vocabulary leaves no history. Returns the total and the history
/// after the last word.
fn chain(
    n: u32,
    h1: u32,
    h2: u32,
    words: &[u32],
    mut score: impl FnMut(u32, u32, u32) -> f32,
) -> (f32, u32, u32) {
    let (mut a, mut b) = (h1, h2);
    let mut total = 0.0;
    for &w in words {
        total += score(a, b, w);
        a = b;
        b = if w < n { w } else { NONE };
    }
    (total, a, b)
}

/// A two-word history, looked up once: see [`Lm::context`].
#[derive(Clone, Copy, Debug)]
pub struct Context {
    w1: u32,
    w2: u32,
    /// The bigram (w1, w2), if stored.
    bigram: Option<Bigram>,
}

/// A stored bigram as lookups need it.
#[derive(Clone, Copy, Debug)]
struct Bigram {
    /// Log10 P(w2 | w1).
    prob: f32,
    /// Log10 back-off weight of the history (w1, w2).
    backoff: f32,
    /// Its record in `Lm::bi`, for the sorted-block search when there is no n-gram index
    /// (`u32::MAX` when it came from the index, which finds trigrams by their words).
    record: u32,
}

/// Open-addressing hash tables over the model's n-grams, built once per pack (see
/// [`build_ngram_index`]). Each slot is one `u64` holding the n-gram's words and what a lookup
/// needs (probability and back-off bins), so finding an n-gram touches one cache line of a flat
/// array (linear probing, at most two thirds full) and nothing else: no control group and bucket as
/// in a general hash map, no bigram record, no binary search of a trigram block.
pub(crate) struct NgramIndex {
    /// Bits of a word id.
    wbits: u32,
    /// (w1 << wbits | w2) << 16 | probability bin << 8 | back-off bin; `EMPTY` when free.
    bi: Vec<u64>,
    /// ((w1 << wbits | w2) << wbits | w3) << 8 | probability bin; `EMPTY` when free.
    tri: Vec<u64>,
    /// An upper bound on every log10 probability [`Lm::score_in`] can return.
    max_score: f32,
}

const EMPTY: u64 = u64::MAX;

/// Bits needed to write every number below `n`.
fn bits_below(n: usize) -> u32 {
    usize::BITS - n.leading_zeros()
}

/// The first slot to probe for `key` in a table of `mask + 1` slots.
#[inline]
fn slot_of(key: u64, mask: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 29) as usize & mask
}

/// A table for `n` keys, all slots free: a power of two, at most two thirds full.
fn empty_table(n: usize) -> Vec<u64> {
    vec![EMPTY; (n + n / 2 + 1).next_power_of_two()]
}

/// Puts `slot`, whose key is `key`, into the first free slot from the key's place; `false` if
/// the key is there already.
fn insert(table: &mut [u64], key: u64, shift: u32, slot: u64) -> bool {
    let mask = table.len() - 1;
    let mut at = slot_of(key, mask);
    while table[at] != EMPTY {
        if table[at] >> shift == key {
            return false;
        }
        at = (at + 1) & mask;
    }
    table[at] = slot;
    true
}

/// A table of `slots`, each keyed by its bits above `shift`; `None` if a key comes twice. The
/// home slot of the entry sixteen ahead is prefetched, so the random writes overlap.
fn fill(slots: &[u64], shift: u32) -> Option<Vec<u64>> {
    let mut table = empty_table(slots.len());
    let mask = table.len() - 1;
    for (j, &slot) in slots.iter().enumerate() {
        if let Some(&ahead) = slots.get(j + 16) {
            prefetch(&table[slot_of(ahead >> shift, mask)]);
        }
        if !insert(&mut table, slot >> shift, shift, slot) {
            return None;
        }
    }
    Some(table)
}

/// The slot of `key` in `table`, if there.
#[inline]
fn probe(table: &[u64], key: u64, shift: u32) -> Option<u64> {
    let mask = table.len() - 1;
    let mut at = slot_of(key, mask);
    loop {
        let s = table[at];
        if s == EMPTY {
            return None;
        }
        if s >> shift == key {
            return Some(s);
        }
        at = (at + 1) & mask;
    }
}

/// Asks the processor to bring `slot` into its cache: lookups of many independent n-grams
/// (the candidates at one position) then wait for memory together instead of one after
/// another. A hint only; nothing is read.
#[inline]
pub(crate) fn prefetch<T>(slot: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86_64 baseline, and a prefetch reads nothing and faults on no
    // address; this one names a live slot anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((slot as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}

/// Builds the n-gram index over a pack's language model. `None` when word ids do not fit the
/// packed slots (never for the packs `unspin` builds) or an n-gram is stored twice; lookups then
/// search the sorted blocks.
pub(crate) fn build_ngram_index(lm: &Lm<'_>) -> Option<NgramIndex> {
    let wbits = bits_below(lm.bi_end.len().max(lm.uni_p.len()));
    if 3 * wbits + 8 > 63 {
        return None;
    }
    // The slots of every bigram and every trigram, in record order.
    let mut bigrams = Vec::with_capacity(lm.bi.len());
    let mut trigrams = Vec::with_capacity(lm.tri.len());
    for w1 in 0..lm.bi_end.len() {
        for i in lm.bigram_range(w1 as u32) {
            let e = lm.bi[i];
            let key = (w1 as u64) << wbits | (e & W);
            let (prob, backoff) = ((e >> 24) & 0xff, (e >> 32) & 0xff);
            bigrams.push(key << 16 | prob << 8 | backoff);
            for &t in &lm.tri[lm.trigram_block(i)] {
                let tkey = key << wbits | (t as u64 & W);
                trigrams.push(tkey << 8 | (t >> 24) as u64);
            }
        }
    }
    let bt = fill(&bigrams, 16)?;
    drop(bigrams);
    let tt = fill(&trigrams, 8)?;
    drop(trigrams);
    // score_in returns a trigram's probability, or back-off weights plus a bigram's or a
    // unigram's probability; a back-off weight counts only where it raises the bound, since
    // the path without it is also possible.
    let max = |xs: &[f32]| xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let q = lm.q;
    let (p_bi, b_bi, p_tri) = (max(&q[..256]), max(&q[256..512]), max(&q[512..768]));
    let b_bi = b_bi.max(0.0);
    let b_uni = max(lm.uni_b).max(0.0);
    let max_score = p_tri
        .max(b_bi + p_bi)
        .max(b_bi + b_uni + max(lm.uni_p))
        .max(lm.oov);
    Some(NgramIndex {
        wbits,
        bi: bt,
        tri: tt,
        max_score,
    })
}

const W: u64 = (1 << 24) - 1;

impl<'a> Lm<'a> {
    /// Number of words with n-gram statistics.
    pub fn n_words(&self) -> u32 {
        self.uni_p.len() as u32
    }

    /// Log10 unigram probability of `w`.
    pub fn unigram(&self, w: u32) -> f32 {
        self.uni_p.get(w as usize).copied().unwrap_or(self.oov)
    }

    fn bigram_range(&self, w1: u32) -> std::ops::Range<usize> {
        let w1 = w1 as usize;
        if w1 >= self.bi_end.len() {
            return 0..0;
        }
        let a = if w1 == 0 {
            0
        } else {
            self.bi_end[w1 - 1] as usize
        };
        a..self.bi_end[w1] as usize
    }

    /// The trigram records under bigram record `i`.
    fn trigram_block(&self, i: usize) -> std::ops::Range<usize> {
        let a = if i == 0 {
            0
        } else {
            (self.bi[i - 1] >> 40) as usize
        };
        a..(self.bi[i] >> 40) as usize
    }

    /// Whether the model has seen the bigram (w1, w2).
    pub fn has_bigram(&self, w1: u32, w2: u32) -> bool {
        self.find_bigram(w1, w2).is_some()
    }

    /// Whether the model has seen each bigram (xs[j], ys[k]), into `out[j * ys.len() + k]`:
    /// each x's block of successors (contiguous, sorted) is walked once against the ys in
    /// order, instead of one hash probe per pair, unless the block is long (then the pairs'
    /// slots are prefetched and probed); the blocks are fetched from memory together.
    pub fn has_bigrams(&self, xs: &[u32], ys: &[u32], out: &mut Vec<bool>) {
        out.clear();
        out.resize(xs.len() * ys.len(), false);
        if ys.is_empty() {
            return;
        }
        for &x in xs {
            if let Some(e) = self.bi_end.get(x as usize) {
                prefetch(e);
            }
        }
        let ranges: Vec<std::ops::Range<usize>> =
            xs.iter().map(|&x| self.bigram_range(x)).collect();
        for r in &ranges {
            if !r.is_empty() {
                prefetch(&self.bi[r.start]);
            }
        }
        // The ys in increasing order, with where each goes.
        let mut order: Vec<(u32, usize)> = ys.iter().copied().zip(0..).collect();
        order.sort_unstable();
        for ((&x, r), row) in xs.iter().zip(ranges).zip(out.chunks_mut(ys.len())) {
            if r.len() > 512 {
                if let Some(index) = self.ngrams {
                    for &y in ys {
                        if (y as usize) < self.bi_end.len() {
                            let key = (x as u64) << index.wbits | y as u64;
                            prefetch(&index.bi[slot_of(key, index.bi.len() - 1)]);
                        }
                    }
                    for (o, &y) in row.iter_mut().zip(ys) {
                        *o = self.has_bigram(x, y);
                    }
                    continue;
                }
            }
            let mut block = self.bi[r].iter().map(|&e| (e & W) as u32).peekable();
            for &(y, k) in &order {
                while block.next_if(|&w| w < y).is_some() {}
                row[k] = block.peek() == Some(&y);
            }
        }
    }

    /// Whether the model has seen the trigram (w1, w2, w3).
    pub fn has_trigram(&self, w1: u32, w2: u32, w3: u32) -> bool {
        self.find_bigram(w1, w2)
            .is_some_and(|b| self.trigram_prob(w1, w2, &b, w3).is_some())
    }

    /// The record index of bigram (w1, w2), by searching w1's sorted block.
    fn bigram_record(&self, w1: u32, w2: u32) -> Option<usize> {
        let r = self.bigram_range(w1);
        let block = &self.bi[r.clone()];
        block
            .binary_search_by_key(&(w2 as u64), |&e| e & W)
            .ok()
            .map(|i| r.start + i)
    }

    /// Bigram (w1, w2), if stored.
    #[inline]
    fn find_bigram(&self, w1: u32, w2: u32) -> Option<Bigram> {
        // Ids past the table (and `NONE`) have no bigrams.
        let n = self.bi_end.len();
        if w1 as usize >= n || w2 as usize >= n {
            return None;
        }
        if let Some(index) = self.ngrams {
            let key = (w1 as u64) << index.wbits | w2 as u64;
            return probe(&index.bi, key, 16).map(|s| Bigram {
                prob: self.q[((s >> 8) & 0xff) as usize],
                backoff: self.q[256 + (s & 0xff) as usize],
                record: u32::MAX,
            });
        }
        self.bigram_record(w1, w2).map(|i| {
            let e = self.bi[i];
            Bigram {
                prob: self.q[((e >> 24) & 0xff) as usize],
                backoff: self.q[256 + ((e >> 32) & 0xff) as usize],
                record: i as u32,
            }
        })
    }

    /// Log10 P(w3 | w1 w2) if the trigram is stored; `b` is the bigram (w1, w2).
    #[inline]
    fn trigram_prob(&self, w1: u32, w2: u32, b: &Bigram, w3: u32) -> Option<f32> {
        if w3 as usize >= self.bi_end.len() {
            return None;
        }
        if let Some(index) = self.ngrams {
            let key = ((w1 as u64) << index.wbits | w2 as u64) << index.wbits | w3 as u64;
            return probe(&index.tri, key, 8).map(|s| self.q[512 + (s & 0xff) as usize]);
        }
        let block = &self.tri[self.trigram_block(b.record as usize)];
        block
            .binary_search_by_key(&w3, |&e| e & (W as u32))
            .ok()
            .map(|i| self.q[512 + (block[i] >> 24) as usize])
    }

    /// Words the model has seen after `w1 w2` (a stored trigram) or after `w2` (a stored
    /// bigram): the model's own proposals for the next word.
    pub fn successors(&self, w1: u32, w2: u32) -> impl Iterator<Item = u32> + '_ {
        let tri = if w1 != NONE && w2 != NONE {
            self.bigram_record(w1, w2)
                .map_or(0..0, |i| self.trigram_block(i))
        } else {
            0..0
        };
        let bi = if w2 != NONE {
            self.bigram_range(w2)
        } else {
            0..0
        };
        self.tri[tri]
            .iter()
            .map(|&e| e & (W as u32))
            .chain(self.bi[bi].iter().map(|&e| (e & W) as u32))
    }

    /// Log10 P(w3 | w1 w2) with back-off; `NONE` for a missing history word.
    pub fn score(&self, w1: u32, w2: u32, w3: u32) -> f32 {
        self.score_in(&self.context(w1, w2), w3)
    }

    /// The history `w1 w2` looked up once, for scoring many next words after it.
    pub fn context(&self, w1: u32, w2: u32) -> Context {
        let bigram = if w1 != NONE && w2 != NONE {
            self.find_bigram(w1, w2)
        } else {
            None
        };
        Context { w1, w2, bigram }
    }

    /// Log10 P(w3 | history) with back-off, for a history from [`Lm::context`].
    pub fn score_in(&self, ctx: &Context, w3: u32) -> f32 {
        if w3 as usize >= self.uni_p.len() {
            return self.oov;
        }
        let mut backoff = 0.0;
        let w2 = ctx.w2;
        if w2 != NONE {
            if let Some(b) = &ctx.bigram {
                if let Some(p) = self.trigram_prob(ctx.w1, w2, b, w3) {
                    return p;
                }
                backoff += b.backoff;
            }
            if let Some(b) = self.find_bigram(w2, w3) {
                return backoff + b.prob;
            }
            backoff += self.uni_b.get(w2 as usize).copied().unwrap_or(0.0);
        }
        backoff + self.uni_p[w3 as usize]
    }

    /// Log10 P(w3 | history), as [`Lm::score_in`], and the history after `w3`: the bigram
    /// looked up for backing off is the next history's, so a chain of words costs one bigram
    /// lookup (and at most one trigram lookup) per word.
    #[inline]
    pub fn step(&self, ctx: &Context, w3: u32) -> (f32, Context) {
        if w3 as usize >= self.uni_p.len() {
            let next = Context {
                w1: ctx.w2,
                w2: NONE,
                bigram: None,
            };
            return (self.oov, next);
        }
        let mut backoff = 0.0;
        let w2 = ctx.w2;
        if w2 == NONE {
            let next = Context {
                w1: w2,
                w2: w3,
                bigram: None,
            };
            return (backoff + self.uni_p[w3 as usize], next);
        }
        let b23 = self.find_bigram(w2, w3);
        let next = Context {
            w1: w2,
            w2: w3,
            bigram: b23,
        };
        if let Some(b) = &ctx.bigram {
            if let Some(p) = self.trigram_prob(ctx.w1, w2, b, w3) {
                return (p, next);
            }
            backoff += b.backoff;
        }
        if let Some(b) = b23 {
            return (backoff + b.prob, next);
        }
        backoff += self.uni_b.get(w2 as usize).copied().unwrap_or(0.0);
        (backoff + self.uni_p[w3 as usize], next)
    }

    /// Starts fetching what [`Lm::step`] will read to score `w3` after `ctx` (see
    /// [`prefetch`]); changes nothing.
    #[inline]
    pub fn prefetch_step(&self, ctx: &Context, w3: u32) {
        let Some(index) = self.ngrams else { return };
        let n = self.bi_end.len();
        if w3 as usize >= n || ctx.w2 as usize >= n {
            return;
        }
        let key = (ctx.w2 as u64) << index.wbits | w3 as u64;
        prefetch(&index.bi[slot_of(key, index.bi.len() - 1)]);
        if ctx.bigram.is_some() {
            let key = ((ctx.w1 as u64) << index.wbits | ctx.w2 as u64) << index.wbits | w3 as u64;
            prefetch(&index.tri[slot_of(key, index.tri.len() - 1)]);
        }
    }

    /// An upper bound on every score [`Lm::score_in`] returns (about 0 for a proper model;
    /// whatever the quantised tables allow otherwise), for pruning with exact bounds; infinite
    /// without the n-gram index.
    pub fn max_score(&self) -> f32 {
        self.ngrams.map_or(f32::INFINITY, |i| i.max_score)
    }

    /// Log10 probability of a word sequence, each word given the two before it.
    pub fn sequence(&self, h1: u32, h2: u32, words: &[u32]) -> (f32, u32, u32) {
        let n = self.n_words();
        let (mut a, mut b) = (h1, h2);
        let mut ctx = self.context(h1, h2);
        let mut total = 0.0;
        for &w in words {
            let (s, next) = self.step(&ctx, w);
            total += s;
            ctx = next;
            a = b;
            b = if w < n { w } else { NONE };
        }
        (total, a, b)
    }
}

/// A language model with a memo of the trigram scores already asked for: decoding asks for the
/// same few states again and again (beam hypotheses, EM iterations, posteriors).
pub struct CachedLm<'a> {
    /// The model.
    pub lm: Lm<'a>,
    cache: rustc_hash::FxHashMap<u64, f32>,
    /// A memo per sentence, for the sentence in [`CachedLm::focus`]: a text's sentences are
    /// decoded again and again (EM iterations, the calibrated rate, document rules), and a
    /// sentence's own small memo stays in the processor's cache where a whole text's does not.
    local: Vec<rustc_hash::FxHashMap<u64, f32>>,
    focus: Option<usize>,
}

impl<'a> CachedLm<'a> {
    /// An empty memo over `lm`.
    pub fn new(lm: Lm<'a>) -> Self {
        CachedLm {
            lm,
            cache: rustc_hash::FxHashMap::default(),
            local: Vec::new(),
            focus: None,
        }
    }

    /// Scores for sentence `sentence` (of a text's, counted from 0) are memoised apart from
    /// now on, until the focus moves again; `None` goes back to the shared memo. The scores
    /// are the same either way.
    pub fn focus(&mut self, sentence: Option<usize>) {
        if let Some(s) = sentence {
            if self.local.len() <= s {
                self.local.resize_with(s + 1, Default::default);
            }
        }
        self.focus = sentence;
    }

    /// As [`Lm::score`], memoised.
    pub fn score(&mut self, w1: u32, w2: u32, w3: u32) -> f32 {
        let k = |w: u32| (w.min((1 << 21) - 1)) as u64;
        let key = k(w1) << 42 | k(w2) << 21 | k(w3);
        let lm = self.lm;
        let memo = match self.focus {
            Some(s) => &mut self.local[s],
            None => &mut self.cache,
        };
        *memo.entry(key).or_insert_with(|| lm.score(w1, w2, w3))
    }

    /// As [`Lm::sequence`], memoised.
    pub fn sequence(&mut self, h1: u32, h2: u32, words: &[u32]) -> (f32, u32, u32) {
        chain(self.lm.n_words(), h1, h2, words, |a, b, w| {
            self.score(a, b, w)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> crate::Pack {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        crate::Pack::open(&root.join("models/default.unspin")).expect("default pack loads")
    }

    /// The hash tables answer exactly as the sorted blocks do, and a chain of `step`s scores as
    /// word-by-word `score` does, bit for bit.
    #[test]
    fn ngram_index_agrees_with_the_sorted_blocks() {
        let pack = pack();
        let fast = pack.lm();
        assert!(fast.ngrams.is_some(), "the default pack fits the index");
        let slow = Lm {
            ngrams: None,
            ..fast
        };
        let n = fast.n_words();
        let max = fast.max_score();
        let check = |a: u32, b: u32, c: u32| {
            let (x, y) = (fast.score(a, b, c), slow.score(a, b, c));
            assert_eq!(x.to_bits(), y.to_bits(), "score({a}, {b}, {c})");
            assert!(x <= max, "score({a}, {b}, {c}) = {x} above the bound {max}");
            assert_eq!(fast.has_bigram(a, b), slow.has_bigram(a, b));
            assert_eq!(fast.has_trigram(a, b, c), slow.has_trigram(a, b, c));
            let (s, h1, h2) = fast.sequence(a, b, &[c, a, b]);
            let (t, g1, g2) = chain(n, a, b, &[c, a, b], |p, q, r| slow.score(p, q, r));
            assert_eq!((s.to_bits(), h1, h2), (t.to_bits(), g1, g2));
        };
        // Stored trigrams, their bigrams, and near misses.
        for w1 in (0..fast.bi_end.len()).step_by(7) {
            for i in fast.bigram_range(w1 as u32).step_by(13) {
                let w2 = (fast.bi[i] & W) as u32;
                for &t in fast.tri[fast.trigram_block(i)].iter().step_by(5) {
                    let w3 = t & W as u32;
                    check(w1 as u32, w2, w3);
                    check(w1 as u32, w2, w3 + 1);
                    check(w2, w3, w1 as u32);
                }
                check(w1 as u32, w2, w2);
            }
        }
        // Random triples, including ids past the model and missing history.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 50 {
                0 => NONE,
                1 => n + (x >> 40) as u32 % 5,
                2..=20 => (x >> 32) as u32 % 200,
                _ => (x >> 32) as u32 % n,
            }
        };
        for _ in 0..200_000 {
            let (a, b, c) = (next(), next(), next());
            check(a, b, c);
        }
        // Many pairs at once.
        let mut ys: Vec<u32> = (0..3000).map(|i| i * 37 % n).collect();
        ys.extend([ys[5], n, NONE, 0]);
        let xs = [0, 1, 2, 5, 17, 100, 1000, 20_000, 60_000, n - 1, n, NONE];
        let mut out = Vec::new();
        fast.has_bigrams(&xs, &ys, &mut out);
        let want: Vec<bool> = xs
            .iter()
            .flat_map(|&x| ys.iter().map(move |&y| (x, y)))
            .map(|(x, y)| slow.has_bigram(x, y))
            .collect();
        assert_eq!(out, want);
    }
}
