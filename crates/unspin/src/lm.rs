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
    /// A hash index of the bigrams, (w1 << 32 | w2) → record, when the pack has built one
    /// (`Pack::lm` builds it on first use): one probe instead of a binary search over a block
    /// that holds tens of thousands of successors for the commonest words.
    pub(crate) bi_index: Option<&'a BigramIndex>,
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
    w2: u32,
    /// The bigram record of (w1, w2), if stored.
    bigram: Option<usize>,
}

/// Bigram records by (w1, w2), see [`Lm`].
pub(crate) type BigramIndex = hashbrown::HashTable<(u64, u32)>;

/// Builds the bigram index over a pack's bigram records.
pub(crate) fn build_bigram_index(bi_end: &[u32], bi: &[u64]) -> BigramIndex {
    let mut t = BigramIndex::with_capacity(bi.len());
    let mut start = 0usize;
    for (w1, &end) in bi_end.iter().enumerate() {
        for (i, &e) in bi.iter().enumerate().take(end as usize).skip(start) {
            let key = (w1 as u64) << 32 | (e & W);
            t.insert_unique(crate::lexicon::fx(&key), (key, i as u32), |(k, _)| {
                crate::lexicon::fx(k)
            });
        }
        start = end as usize;
    }
    t
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

    /// Whether the model has seen the bigram (w1, w2).
    pub fn has_bigram(&self, w1: u32, w2: u32) -> bool {
        self.find_bigram(w1, w2).is_some()
    }

    /// Whether the model has seen the trigram (w1, w2, w3).
    pub fn has_trigram(&self, w1: u32, w2: u32, w3: u32) -> bool {
        self.find_bigram(w1, w2)
            .is_some_and(|i| self.trigram_prob(i, w3).is_some())
    }

    /// Index of bigram (w1, w2), if stored.
    fn find_bigram(&self, w1: u32, w2: u32) -> Option<usize> {
        if let Some(index) = self.bi_index {
            if w1 == NONE || w2 == NONE {
                return None;
            }
            let key = (w1 as u64) << 32 | w2 as u64;
            return index
                .find(crate::lexicon::fx(&key), |(k, _)| *k == key)
                .map(|&(_, i)| i as usize);
        }
        let r = self.bigram_range(w1);
        let block = &self.bi[r.clone()];
        block
            .binary_search_by_key(&(w2 as u64), |&e| e & W)
            .ok()
            .map(|i| r.start + i)
    }

    fn trigram_prob(&self, bi: usize, w3: u32) -> Option<f32> {
        let a = if bi == 0 {
            0
        } else {
            (self.bi[bi - 1] >> 40) as usize
        };
        let b = (self.bi[bi] >> 40) as usize;
        let block = &self.tri[a..b];
        block
            .binary_search_by_key(&w3, |&e| e & (W as u32))
            .ok()
            .map(|i| self.q[512 + (block[i] >> 24) as usize])
    }

    /// Words the model has seen after `w1 w2` (a stored trigram) or after `w2` (a stored
    /// bigram): the model's own proposals for the next word.
    pub fn successors(&self, w1: u32, w2: u32) -> impl Iterator<Item = u32> + '_ {
        let tri = if w1 != NONE && w2 != NONE {
            self.find_bigram(w1, w2).map_or(0..0, |i| {
                let a = if i == 0 {
                    0
                } else {
                    (self.bi[i - 1] >> 40) as usize
                };
                a..(self.bi[i] >> 40) as usize
            })
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
        Context { w2, bigram }
    }

    /// Log10 P(w3 | history) with back-off, for a history from [`Lm::context`].
    pub fn score_in(&self, ctx: &Context, w3: u32) -> f32 {
        if w3 as usize >= self.uni_p.len() {
            return self.oov;
        }
        let mut backoff = 0.0;
        let w2 = ctx.w2;
        if w2 != NONE {
            if let Some(i) = ctx.bigram {
                if let Some(p) = self.trigram_prob(i, w3) {
                    return p;
                }
                backoff += self.q[256 + ((self.bi[i] >> 32) & 0xff) as usize];
            }
            if let Some(i) = self.find_bigram(w2, w3) {
                return backoff + self.q[((self.bi[i] >> 24) & 0xff) as usize];
            }
            backoff += self.uni_b.get(w2 as usize).copied().unwrap_or(0.0);
        }
        backoff + self.uni_p[w3 as usize]
    }

    /// Log10 probability of a word sequence, each word given the two before it.
    pub fn sequence(&self, h1: u32, h2: u32, words: &[u32]) -> (f32, u32, u32) {
        chain(self.n_words(), h1, h2, words, |a, b, w| self.score(a, b, w))
    }
}

/// A language model with a memo of the trigram scores already asked for: decoding asks for the
/// same few states again and again (beam hypotheses, EM iterations, posteriors).
pub struct CachedLm<'a> {
    /// The model.
    pub lm: Lm<'a>,
    cache: rustc_hash::FxHashMap<u64, f32>,
}

impl<'a> CachedLm<'a> {
    /// An empty memo over `lm`.
    pub fn new(lm: Lm<'a>) -> Self {
        CachedLm {
            lm,
            cache: rustc_hash::FxHashMap::default(),
        }
    }

    /// As [`Lm::score`], memoised.
    pub fn score(&mut self, w1: u32, w2: u32, w3: u32) -> f32 {
        let k = |w: u32| (w.min((1 << 21) - 1)) as u64;
        let key = k(w1) << 42 | k(w2) << 21 | k(w3);
        let lm = self.lm;
        *self
            .cache
            .entry(key)
            .or_insert_with(|| lm.score(w1, w2, w3))
    }

    /// As [`Lm::sequence`], memoised.
    pub fn sequence(&mut self, h1: u32, h2: u32, words: &[u32]) -> (f32, u32, u32) {
        chain(self.lm.n_words(), h1, h2, words, |a, b, w| {
            self.score(a, b, w)
        })
    }
}
