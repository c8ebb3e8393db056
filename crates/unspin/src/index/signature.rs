//! Spin-invariant signatures: shingles of four canonical streams, MinHash per passage, LSH band
//! keys.
//!
//! From a text's [`canon::Word`](crate::canon::Word)s four streams are taken:
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
//! - **content**: every word but the function words and the words of thesaurus phrases: the
//!   free words a spinner left alone beside the immutables. Dense, and each free word is
//!   changed at the spin rate, so few shingles survive in a row; but those that do are rare
//!   pairs of words, so each MinHash value is a band of its own (`content_rows`, 1). What finds
//!   a heavily phrase-spun excerpt of technical text or fiction, where the first three streams
//!   hold almost nothing.
//!
//! Each stream is cut into `k`-shingles (`shingle`, 3; the sparse immutables stream
//! `immutable_shingle`, 2; the content stream `content_shingle`, 2); a passage (a window of
//! `window` words, every `stride` words) gets MinHash values per stream (`perms` for the first
//! three, `content_perms` for the content stream), and every `rows` (`content_rows`)
//! consecutive values make one LSH band key. Two passages are candidates when any band key
//! agrees. The parameters are stored in the index, and BENCHMARKS.md has the sweeps that chose
//! the defaults.

use serde::{Deserialize, Serialize};

use crate::canon::{Canon, Kind, Word};
use crate::spin::Rng;

/// Signature parameters, fixed when an index is built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Tokens per shingle of the skeleton streams.
    pub shingle: usize,
    /// Tokens per shingle of the immutables stream: sparser than the skeleton (a tenth to a
    /// quarter of the words), and kept by every spinner, so shorter shingles survive the
    /// words a phrase rewrite puts between them.
    #[serde(default = "default_immutable_shingle")]
    pub immutable_shingle: usize,
    /// MinHash values of each of the first three streams (immutables, phrase-free skeleton,
    /// skeleton). 30 (ten bands of three) since session 7: at 1 M documents as many spun copies
    /// are found as with 48, and the band tables hold a third fewer entries (BENCHMARKS.md,
    /// "Trace").
    pub perms: usize,
    /// MinHash values per LSH band of the first three streams.
    pub rows: usize,
    /// Words per indexed passage.
    pub window: usize,
    /// Words between the starts of consecutive passages.
    pub stride: usize,
    /// Tokens per shingle of the content stream.
    #[serde(default = "default_content_shingle")]
    pub content_shingle: usize,
    /// MinHash values of the content stream.
    #[serde(default = "default_content_perms")]
    pub content_perms: usize,
    /// MinHash values per LSH band of the content stream.
    #[serde(default = "default_content_rows")]
    pub content_rows: usize,
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
            immutable_shingle: default_immutable_shingle(),
            perms: 30,
            rows: 3,
            window: 100,
            stride: 50,
            content_shingle: default_content_shingle(),
            content_perms: default_content_perms(),
            content_rows: default_content_rows(),
            min_shingles: 3,
            seed: 0x7ace,
        }
    }
}

fn default_immutable_shingle() -> usize {
    2
}

fn default_content_shingle() -> usize {
    2
}

fn default_content_perms() -> usize {
    8
}

fn default_content_rows() -> usize {
    1
}

/// How one stream is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamShape {
    /// Tokens per shingle.
    pub shingle: usize,
    /// MinHash values.
    pub perms: usize,
    /// MinHash values per band.
    pub rows: usize,
}

impl StreamShape {
    /// Bands of the stream.
    pub fn bands(&self) -> usize {
        self.perms / self.rows.max(1)
    }
}

impl Params {
    /// Bands of each of the first three streams (immutables, phrase-free skeleton, skeleton).
    pub fn bands_per_stream(&self) -> usize {
        self.perms / self.rows.max(1)
    }

    /// How stream `si` (0 to [`STREAMS`] − 1) is signed.
    pub fn stream(&self, si: usize) -> StreamShape {
        match si {
            0 => StreamShape {
                shingle: self.immutable_shingle,
                perms: self.perms,
                rows: self.rows,
            },
            3 => StreamShape {
                shingle: self.content_shingle,
                perms: self.content_perms,
                rows: self.content_rows,
            },
            _ => StreamShape {
                shingle: self.shingle,
                perms: self.perms,
                rows: self.rows,
            },
        }
    }

    /// The bands of stream `si`, as indexes into [`Passage::keys`]: the streams' bands one
    /// after another.
    pub fn band_range(&self, si: usize) -> std::ops::Range<usize> {
        let start: usize = (0..si).map(|s| self.stream(s).bands()).sum();
        start..start + self.stream(si).bands()
    }

    /// Bands in all.
    pub fn bands(&self) -> usize {
        (0..STREAMS).map(|s| self.stream(s).bands()).sum()
    }

    /// Whether the parameters can be used.
    pub fn check(&self) -> Result<(), String> {
        if self.shingle == 0 || self.shingle > 8 {
            return Err("shingle must be 1 to 8 tokens".into());
        }
        if self.immutable_shingle == 0 || self.immutable_shingle > 8 {
            return Err("immutable_shingle must be 1 to 8 tokens".into());
        }
        if self.content_shingle == 0 || self.content_shingle > 8 {
            return Err("content_shingle must be 1 to 8 tokens".into());
        }
        if self.rows == 0 || self.perms < self.rows || self.perms > 1024 {
            return Err("perms must be at least rows and at most 1024".into());
        }
        if self.content_rows == 0
            || self.content_perms < self.content_rows
            || self.content_perms > 1024
        {
            return Err("content_perms must be at least content_rows and at most 1024".into());
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
    /// One key per band: the immutables' bands first, then the phrase-free skeleton's, the
    /// skeleton's and the content stream's ([`Params::band_range`]).
    pub keys: Vec<Option<u32>>,
}

/// Streams signed: immutables, phrase-free skeleton, skeleton, content.
pub const STREAMS: usize = 4;

/// Computes signatures with fixed parameters (cheap to share between threads).
pub struct Signer {
    params: Params,
    /// Multiply-shift hash functions `(a·h + b) >> 32` (mod 2⁶⁴), one per MinHash value and
    /// stream, kept as 32-bit halves of `a` and `b` (what [`take_minima`] computes with).
    halves: Vec<Halves>,
}

/// One stream's hash functions as 32-bit halves, `a = ah << 32 | al`, `b = bh << 32 | bl`.
struct Halves {
    al: Vec<u32>,
    ah: Vec<u32>,
    bl: Vec<u32>,
    bh: Vec<u32>,
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
        let halves = (0..STREAMS)
            .map(|si| {
                let c: Vec<(u64, u64)> = (0..params.stream(si).perms)
                    .map(|_| (rng.next_u64() | 1, rng.next_u64()))
                    .collect();
                Halves {
                    al: c.iter().map(|&(a, _)| a as u32).collect(),
                    ah: c.iter().map(|&(a, _)| (a >> 32) as u32).collect(),
                    bl: c.iter().map(|&(_, b)| b as u32).collect(),
                    bh: c.iter().map(|&(_, b)| (b >> 32) as u32).collect(),
                }
            })
            .collect();
        Signer { params, halves }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The shingles of the four streams, in one pass over the words.
    fn streams(&self, canon: &Canon<'_>, words: &[Word]) -> [Stream; STREAMS] {
        let ks: [usize; STREAMS] = std::array::from_fn(|si| self.params.stream(si).shingle);
        let mut out = [(); STREAMS].map(|_| Stream {
            pos: Vec::with_capacity(words.len()),
            hash: Vec::with_capacity(words.len()),
        });
        // The last `k` tokens of each stream (position, hash), oldest first once full.
        let mut last = [[(0u32, 0u64); 8]; STREAMS];
        let mut seen = [0usize; STREAMS];
        for (i, w) in words.iter().enumerate() {
            let member = streams_of(canon, w);
            for (si, stream) in out.iter_mut().enumerate() {
                if member & 1 << si == 0 {
                    continue;
                }
                let k = ks[si];
                let ring = &mut last[si];
                ring[seen[si] % k] = (i as u32, w.hash);
                seen[si] += 1;
                if seen[si] < k {
                    continue;
                }
                let first = seen[si] % k;
                let mut h = 0x51_7cc1_b727_220a_u64 ^ si as u64;
                for j in 0..k {
                    h = (h.rotate_left(23) ^ ring[(first + j) % k].1)
                        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
                }
                stream.pos.push(ring[first].0);
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
        let shapes: [StreamShape; STREAMS] = std::array::from_fn(|si| self.params.stream(si));
        // Each stream's MinHash minima per block of `g` word positions (g divides both the
        // window and the step), every shingle hashed once: a window aligned to the blocks takes
        // the minima of the blocks it covers, and only the shingles of a block it covers in
        // part (the last window's first block) are hashed again. The same minima as taking
        // each window's shingles one by one.
        let g = gcd(w, step);
        let blocks = n / g + 1;
        // Stream si's block minima start at base[si].
        let mut base = [0usize; STREAMS + 1];
        for si in 0..STREAMS {
            base[si + 1] = base[si] + blocks * shapes[si].perms;
        }
        let mut block_mins = vec![u32::MAX; base[STREAMS]];
        for (si, st) in streams.iter().enumerate() {
            take_minima(
                &mut block_mins[base[si]..base[si + 1]],
                &self.halves[si],
                &st.pos,
                &st.hash,
                g,
            );
        }
        let most = shapes.iter().map(|sh| sh.perms).max().unwrap_or(0);
        let mut mins_buf = vec![u32::MAX; most];
        let bands = self.params.bands();
        let mut out = Vec::with_capacity(starts.len());
        for &s in &starts {
            let e = (s + w).min(n);
            // Blocks wholly inside [s, e): from the first that starts at or after s, up to the
            // last that ends by e (every block when the window reaches the text's end).
            let (jb, je) = (s.div_ceil(g), if e == n { blocks } else { e / g });
            let mut keys = Vec::with_capacity(bands);
            for (si, st) in streams.iter().enumerate() {
                let StreamShape { perms: p, rows, .. } = shapes[si];
                let nb = shapes[si].bands();
                let first_band = keys.len();
                let lo = st.pos.partition_point(|&x| (x as usize) < s);
                let hi = st.pos.partition_point(|&x| (x as usize) < e);
                if hi - lo < self.params.min_shingles {
                    keys.extend(std::iter::repeat_n(None, nb));
                    continue;
                }
                let mins = &mut mins_buf[..p];
                mins.fill(u32::MAX);
                let halves = &self.halves[si];
                if jb < je {
                    let bm = &block_mins[base[si]..base[si + 1]];
                    for b in bm[jb * p..je * p].chunks_exact(p) {
                        for (m, &x) in mins.iter_mut().zip(b) {
                            *m = (*m).min(x);
                        }
                    }
                    // The shingles before the first whole block and after the last.
                    let head = st.pos.partition_point(|&x| (x as usize) < jb * g);
                    let tail = st.pos.partition_point(|&x| (x as usize) < je * g);
                    for (a, b) in [(lo, head), (tail, hi)] {
                        take_minima(mins, halves, &st.pos[a..b], &st.hash[a..b], usize::MAX);
                    }
                } else {
                    take_minima(mins, halves, &st.pos[lo..hi], &st.hash[lo..hi], usize::MAX);
                }
                for b in 0..nb {
                    let mut h = 0x2545_f491_4f6c_dd1d_u64 ^ ((first_band + b) as u64) << 48;
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

/// For each shingle (`pos`, `hash`), lowers the minima of block `pos / g` (`mins` holds
/// `halves.al.len()` per block) to the shingle's MinHash values. Uses AVX2 where the processor
/// has it (4–8 lanes where SSE2 has 2; the same values).
fn take_minima(mins: &mut [u32], halves: &Halves, pos: &[u32], hash: &[u32], g: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe { take_minima_avx2(mins, halves, pos, hash, g) };
        return;
    }
    take_minima_body(mins, halves, pos, hash, g);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn take_minima_avx2(mins: &mut [u32], halves: &Halves, pos: &[u32], hash: &[u32], g: usize) {
    take_minima_body(mins, halves, pos, hash, g);
}

/// [`take_minima`]'s loop. [`minhash`] in 32-bit halves: with `a = ah·2³² + al` and
/// `b = bh·2³² + bl`, `a·h + b ≡ (al·h + bl) + (ah·h + bh)·2³² (mod 2⁶⁴)`, where
/// `al·h + bl < 2⁶⁴` does not overflow; so the top 32 bits are the top half of `al·h + bl`
/// plus `ah·h + bh`, modulo 2³². Vector units multiply 32-bit lanes, not 64-bit ones.
#[inline(always)]
fn take_minima_body(mins: &mut [u32], halves: &Halves, pos: &[u32], hash: &[u32], g: usize) {
    let p = halves.al.len();
    let (al, ah, bl, bh) = (
        &halves.al[..p],
        &halves.ah[..p],
        &halves.bl[..p],
        &halves.bh[..p],
    );
    for (&pos, &h) in pos.iter().zip(hash) {
        let b = pos as usize / g;
        let m = &mut mins[b * p..(b + 1) * p];
        for j in 0..p {
            let t = al[j] as u64 * h as u64 + bl[j] as u64;
            let v = ((t >> 32) as u32)
                .wrapping_add(ah[j].wrapping_mul(h))
                .wrapping_add(bh[j]);
            m[j] = m[j].min(v);
        }
    }
}

/// Greatest common divisor (both positive).
fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The streams `w` belongs to, one bit each (1: immutables, 2: phrase-free skeleton,
/// 4: skeleton, 8: content).
fn streams_of(canon: &Canon<'_>, w: &Word) -> u8 {
    match w.kind {
        Kind::Immutable | Kind::Fixed => {
            if w.phrase {
                0b0101
            } else {
                0b1111
            }
        }
        Kind::Free => {
            if w.phrase {
                0
            } else {
                0b1000
            }
        }
        Kind::Function if w.id.is_some_and(|id| canon.phrase_prone(id)) => 0,
        Kind::Function => {
            if w.phrase {
                0b100
            } else {
                0b110
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> &'static crate::Pack {
        static PACK: std::sync::OnceLock<crate::Pack> = std::sync::OnceLock::new();
        PACK.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            crate::Pack::open(&root.join("models/default.unspin")).expect("pack loads")
        })
    }

    /// Signing as first written: each stream's words filtered apart, every shingle's MinHash
    /// values stored, and each window's minima taken over its shingles one by one.
    fn passages_reference(
        signer: &Signer,
        canon: &Canon<'_>,
        words: &[Word],
        step: usize,
    ) -> Vec<Passage> {
        let params = &signer.params;
        let in_stream = |w: &Word, s: usize| -> bool {
            match (s, w.kind) {
                (0, Kind::Immutable | Kind::Fixed) => true,
                (0, _) => false,
                (3, Kind::Function) => false,
                (3, _) => !w.phrase,
                (_, Kind::Free) => false,
                (1, _) if w.phrase => false,
                (_, Kind::Function) => !w.id.is_some_and(|id| canon.phrase_prone(id)),
                _ => true,
            }
        };
        let streams: Vec<Stream> = (0..STREAMS)
            .map(|s| {
                let k = params.stream(s).shingle;
                let toks: Vec<(u32, u64)> = words
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| in_stream(w, s))
                    .map(|(i, w)| (i as u32, w.hash))
                    .collect();
                let mut st = Stream {
                    pos: Vec::new(),
                    hash: Vec::new(),
                };
                if toks.len() >= k {
                    for win in toks.windows(k) {
                        let mut h = 0x51_7cc1_b727_220a_u64 ^ s as u64;
                        for &(_, t) in win {
                            h = (h.rotate_left(23) ^ t).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                        }
                        st.pos.push(win[0].0);
                        st.hash.push((h ^ (h >> 29)) as u32);
                    }
                }
                st
            })
            .collect();
        let n = words.len();
        let w = params.window;
        let step = step.max(1);
        let mut starts = Vec::new();
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
        let mut out = Vec::new();
        for &s in &starts {
            let e = (s + w).min(n);
            let mut keys = Vec::new();
            for (si, st) in streams.iter().enumerate() {
                let StreamShape { perms: p, rows, .. } = params.stream(si);
                let bps = params.stream(si).bands();
                let first_band = params.band_range(si).start;
                let lo = st.pos.partition_point(|&x| (x as usize) < s);
                let hi = st.pos.partition_point(|&x| (x as usize) < e);
                if hi - lo < params.min_shingles {
                    keys.extend(std::iter::repeat_n(None, bps));
                    continue;
                }
                let mut mins = vec![u32::MAX; p];
                let c = &signer.halves[si];
                for &h in &st.hash[lo..hi] {
                    for (j, m) in mins.iter_mut().enumerate() {
                        let a = (c.ah[j] as u64) << 32 | c.al[j] as u64;
                        let b = (c.bh[j] as u64) << 32 | c.bl[j] as u64;
                        *m = (*m).min((a.wrapping_mul(h as u64).wrapping_add(b) >> 32) as u32);
                    }
                }
                for b in 0..bps {
                    let mut h = 0x2545_f491_4f6c_dd1d_u64 ^ ((first_band + b) as u64) << 48;
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

    /// A text of `n` words drawn from function words, free words, names, numbers,
    /// contractions, compounds and thesaurus phrases, with sentence breaks.
    fn text(rng: &mut Rng, n: usize) -> String {
        const WORDS: &[&str] = &[
            "the",
            "of",
            "and",
            "a",
            "to",
            "in",
            "is",
            "was",
            "he",
            "for",
            "it",
            "with",
            "as",
            "his",
            "on",
            "be",
            "at",
            "by",
            "soldiers",
            "war",
            "fled",
            "granted",
            "visas",
            "house",
            "quickly",
            "large",
            "decided",
            "country",
            "Ukraine",
            "Russian",
            "Smith",
            "1987",
            "3,000",
            "didn't",
            "well-known",
            "at this moment",
            "because",
            "now",
            "walk off with",
            "on account of",
            "in spite of",
            "however",
            "Paris",
            "said",
            "government",
            "people",
            "little",
            "water",
            "questions",
        ];
        let mut out = String::new();
        for i in 0..n {
            if i > 0 {
                out.push_str(if rng.next_u64().is_multiple_of(9) {
                    ". "
                } else {
                    " "
                });
            }
            out.push_str(WORDS[(rng.next_u64() % WORDS.len() as u64) as usize]);
        }
        out
    }

    #[test]
    fn blocks_give_the_minima_of_signing_each_window_apart() {
        let canon = Canon::new(pack());
        let mut rng = Rng::new(6);
        let shapes = [
            (100, 50, 3),
            (100, 50, 1),
            (10, 3, 3),
            (7, 7, 2),
            (12, 5, 4),
            (1, 1, 3),
        ];
        for (window, stride, shingle) in shapes {
            let signer = Signer::new(Params {
                window,
                stride,
                shingle,
                immutable_shingle: (shingle + 1) % 4 + 1,
                content_shingle: shingle % 3 + 1,
                perms: 12,
                rows: 3,
                content_perms: 5,
                content_rows: 1 + shingle % 2,
                ..Params::default()
            });
            for n in [0, 1, 2, 5, 9, 10, 11, 60, 99, 100, 101, 149, 150, 151, 333] {
                let t = text(&mut rng, n);
                let words = canon.words(&t);
                for step in [1, 3, stride, 25, 33, window] {
                    assert_eq!(
                        signer.passages(&canon, &words, step),
                        passages_reference(&signer, &canon, &words, step),
                        "window {window}, stride {stride}, shingle {shingle}, {n} words, step {step}"
                    );
                }
            }
        }
    }
}
