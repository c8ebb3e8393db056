//! Spin-invariant signatures: shingles of three canonical streams, MinHash per passage, LSH band
//! keys.
//!
//! From a text's [`canon::Word`](crate::canon::Word)s three streams are taken:
//!
//! - **immutables**: [`Kind::Immutable`] and [`Kind::Fixed`] words (names, numbers, words without
//!   synonyms, contractions, compound parts). No spinner configuration changes them; they are
//!   sparse (6–20 % of words).
//! - **phrase-free skeleton**: every word but the free ones, the function words that the
//!   thesauri relate to a phrase (a phrase spinner writes those out), and the words inside a
//!   thesaurus phrase of three or more words (what it writes them out as: "walk off with",
//!   "at this moment"). What a phrase spinner keeps best.
//! - **skeleton**: the same with the phrases' words kept. A one-for-one spinner leaves it
//!   exactly as it was (it never writes a phrase, but may break one up, which the phrase-free
//!   skeleton notices). About a quarter to a third of the words.
//!
//! Each stream is cut into `k`-shingles; a passage (a window of `window` words, every `stride`
//! words) gets `perms` MinHash values per stream, and every `rows` consecutive values make one
//! LSH band key. Two passages are candidates when any band key agrees. The parameters are stored
//! in the index, and BENCHMARKS.md has the sweep that chose the defaults.

use serde::{Deserialize, Serialize};

use crate::canon::{Canon, Kind, Word};
use crate::spin::Rng;

/// Signature parameters, fixed when an index is built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Tokens per shingle.
    pub shingle: usize,
    /// MinHash values per stream (immutables, skeleton).
    pub perms: usize,
    /// MinHash values per LSH band.
    pub rows: usize,
    /// Words per indexed passage.
    pub window: usize,
    /// Words between the starts of consecutive passages.
    pub stride: usize,
    /// Fewest shingles a stream needs in a passage before its bands are used: an almost empty
    /// set would collide with every other almost empty set.
    pub min_shingles: usize,
    /// Seed of the hash functions.
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            shingle: 3,
            perms: 48,
            rows: 3,
            window: 100,
            stride: 50,
            min_shingles: 3,
            seed: 0x7ace,
        }
    }
}

impl Params {
    /// Bands per stream.
    pub fn bands_per_stream(&self) -> usize {
        self.perms / self.rows.max(1)
    }

    /// Bands in all.
    pub fn bands(&self) -> usize {
        STREAMS * self.bands_per_stream()
    }

    /// Whether the parameters can be used.
    pub fn check(&self) -> Result<(), String> {
        if self.shingle == 0 || self.shingle > 8 {
            return Err("shingle must be 1 to 8 tokens".into());
        }
        if self.rows == 0 || self.perms < self.rows || self.perms > 1024 {
            return Err("perms must be at least rows and at most 1024".into());
        }
        if self.window == 0
            || self.stride == 0
            || self.stride > self.window
            || self.window > 1 << 20
        {
            return Err(
                "window and stride must be positive, stride at most window, window at most 2^20"
                    .into(),
            );
        }
        if self.min_shingles == 0 || self.min_shingles > 1 << 20 {
            return Err("min_shingles must be positive".into());
        }
        Ok(())
    }
}

/// One passage's signature: where it starts and its band keys (`None` where the stream had too
/// few shingles).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    /// Index of the passage's first word among the text's words.
    pub start: u32,
    /// Number of words in the passage.
    pub len: u32,
    /// One key per band: the immutables' bands first, then the phrase-free skeleton's, then the
    /// skeleton's.
    pub keys: Vec<Option<u32>>,
}

/// Streams signed: immutables, phrase-free skeleton, skeleton.
pub const STREAMS: usize = 3;

/// Computes signatures with fixed parameters (cheap to share between threads).
pub struct Signer {
    params: Params,
    /// Multiply-shift hash functions, (a, b) per MinHash value and stream.
    coef: Vec<(u64, u64)>,
}

/// Which shingles a stream has, by the word position each starts at.
struct Stream {
    pos: Vec<u32>,
    hash: Vec<u32>,
}

impl Signer {
    /// A signer for `params`.
    pub fn new(params: Params) -> Signer {
        let mut rng = Rng::new(params.seed);
        let coef = (0..STREAMS * params.perms)
            .map(|_| (rng.next_u64() | 1, rng.next_u64()))
            .collect();
        Signer { params, coef }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    fn streams(&self, canon: &Canon<'_>, words: &[Word]) -> [Stream; STREAMS] {
        let k = self.params.shingle;
        let mut out = [(); STREAMS].map(|_| Stream {
            pos: Vec::new(),
            hash: Vec::new(),
        });
        for (s, stream) in out.iter_mut().enumerate() {
            let toks: Vec<(u32, u64)> = words
                .iter()
                .enumerate()
                .filter(|(_, w)| in_stream(canon, w, s))
                .map(|(i, w)| (i as u32, w.hash))
                .collect();
            if toks.len() < k {
                continue;
            }
            for win in toks.windows(k) {
                let mut h = 0x51_7cc1_b727_220a_u64 ^ s as u64;
                for &(_, t) in win {
                    h = (h.rotate_left(23) ^ t).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                }
                stream.pos.push(win[0].0);
                stream.hash.push((h ^ (h >> 29)) as u32);
            }
        }
        out
    }

    /// Signatures of the passages of a text whose words are `words`: windows of
    /// `params.window` words every `step` words (the last window ends at the last word), or one
    /// window for a shorter text.
    pub fn passages(&self, canon: &Canon<'_>, words: &[Word], step: usize) -> Vec<Passage> {
        let n = words.len();
        let w = self.params.window;
        let step = step.max(1);
        let mut starts: Vec<usize> = Vec::new();
        if n <= w {
            starts.push(0);
        } else {
            let mut s = 0;
            while s + w < n {
                starts.push(s);
                s += step;
            }
            starts.push(n - w);
        }
        let streams = self.streams(canon, words);
        let p = self.params.perms;
        let bps = self.params.bands_per_stream();
        let rows = self.params.rows;
        // Every shingle's `p` MinHash values, computed once however many windows hold it.
        let values: Vec<Vec<u32>> = streams
            .iter()
            .enumerate()
            .map(|(si, st)| {
                let coef = &self.coef[si * p..(si + 1) * p];
                let mut v = Vec::with_capacity(st.hash.len() * p);
                for &h in &st.hash {
                    v.extend(coef.iter().map(|&(a, b)| minhash(a, b, h)));
                }
                v
            })
            .collect();
        let mut mins = vec![u32::MAX; p];
        let mut out = Vec::with_capacity(starts.len());
        for &s in &starts {
            let e = (s + w).min(n);
            let mut keys = Vec::with_capacity(STREAMS * bps);
            for (si, st) in streams.iter().enumerate() {
                let lo = st.pos.partition_point(|&x| (x as usize) < s);
                let hi = st.pos.partition_point(|&x| (x as usize) < e);
                if hi - lo < self.params.min_shingles {
                    keys.extend(std::iter::repeat_n(None, bps));
                    continue;
                }
                mins.fill(u32::MAX);
                for vals in values[si][lo * p..hi * p].chunks_exact(p) {
                    for (m, &x) in mins.iter_mut().zip(vals) {
                        *m = (*m).min(x);
                    }
                }
                for b in 0..bps {
                    let mut h = 0x2545_f491_4f6c_dd1d_u64 ^ ((si * bps + b) as u64) << 48;
                    for &m in &mins[b * rows..(b + 1) * rows] {
                        h = (h ^ m as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                        h ^= h >> 31;
                    }
                    keys.push(Some((h >> 32) as u32));
                }
            }
            out.push(Passage {
                start: s as u32,
                len: (e - s) as u32,
                keys,
            });
        }
        out
    }
}

/// One MinHash value of a shingle hash: a multiply-shift hash.
#[inline]
fn minhash(a: u64, b: u64, h: u32) -> u32 {
    (a.wrapping_mul(h as u64).wrapping_add(b) >> 32) as u32
}

/// Whether `w` belongs to stream `s` (0: immutables, 1: phrase-free skeleton, 2: skeleton).
fn in_stream(canon: &Canon<'_>, w: &Word, s: usize) -> bool {
    match (s, w.kind) {
        (0, Kind::Immutable | Kind::Fixed) => true,
        (0, _) => false,
        (_, Kind::Free) => false,
        (1, _) if w.phrase => false,
        (_, Kind::Function) => !w.id.is_some_and(|id| canon.phrase_prone(id)),
        _ => true,
    }
}
