//! The lattice and its decoder.
//!
//! A sentence is a run of word positions. At each position the lattice has an arc that keeps the
//! word, and arcs that replace one to three words (a graph node, possibly inflected) by a
//! candidate original. Beam search carries the trigram state (the last two output words) along
//! the arcs; the best path is the restoration. Channel costs come from a [`Channel`], so a learned
//! spinner profile can replace the generic one.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::lexicon::{flags, Form, Lexicon};
use crate::lm::{CachedLm, Context, Lm, NONE};

/// Scores substitutions: how likely a spinner that did spin `orig` was to write `spun`.
pub trait Channel: Sync {
    /// Log10 P(spun | orig, orig was spun), for an edge with relation `flags`. `f32::NEG_INFINITY`
    /// forbids the substitution.
    fn substitute(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32, spun: u32, flags: u8) -> f32;

    /// Which relation flags this channel considers at all.
    fn mask(&self) -> u8 {
        flags::ALL
    }

    /// Originals to consider for the spun words `spun` beyond the thesauri's, with their log10
    /// P(spun | orig): what a learned profile saw the spinner do.
    fn propose(&self, spun: &[u32]) -> Vec<(Vec<u32>, f32)> {
        let _ = spun;
        Vec::new()
    }

    /// Whether the channel has learned that `spun` is a spinner's output: such words are judged
    /// even where they read fluently (the fluency gate would otherwise skip them).
    fn learned(&self, spun: &[u32]) -> bool {
        let _ = spun;
        false
    }

    /// A hint that [`Channel::substitute`] will soon be asked about the original `orig`: the
    /// channel may start fetching what it will read. Changes nothing.
    fn prefetch(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32) {
        let _ = (lex, lm, orig);
    }
}

/// A borrowed channel is a channel, so one built once (the generic channel's tables take tens of
/// milliseconds) can serve many restorers, as in a server that builds a restorer per request.
impl<C: Channel + ?Sized> Channel for &C {
    fn substitute(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32, spun: u32, flags: u8) -> f32 {
        (**self).substitute(lex, lm, orig, spun, flags)
    }

    fn mask(&self) -> u8 {
        (**self).mask()
    }

    fn propose(&self, spun: &[u32]) -> Vec<(Vec<u32>, f32)> {
        (**self).propose(spun)
    }

    fn learned(&self, spun: &[u32]) -> bool {
        (**self).learned(spun)
    }

    fn prefetch(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32) {
        (**self).prefetch(lex, lm, orig)
    }
}

/// A boxed channel is a channel, so a program can choose one at run time.
impl<C: Channel + ?Sized> Channel for Box<C> {
    fn substitute(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32, spun: u32, flags: u8) -> f32 {
        (**self).substitute(lex, lm, orig, spun, flags)
    }

    fn mask(&self) -> u8 {
        (**self).mask()
    }

    fn propose(&self, spun: &[u32]) -> Vec<(Vec<u32>, f32)> {
        (**self).propose(spun)
    }

    fn learned(&self, spun: &[u32]) -> bool {
        (**self).learned(spun)
    }

    fn prefetch(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32) {
        (**self).prefetch(lex, lm, orig)
    }
}

/// The channel for a spinner we know nothing about: it replaces an original by one of its
/// thesaurus neighbours, preferring neighbours that several sources agree on and, since a
/// spinner wants its output read, common words over rare ones:
/// P(s | o) ∝ w(o, s) · freq(s)^γ, normalised over o's neighbours (raised to `degree_exponent`).
#[derive(Debug)]
pub struct GenericChannel {
    /// Relation flags to use.
    pub mask: u8,
    /// Weight of an edge known only as a weak relation, against 1 per agreeing strong source.
    pub weak_weight: f32,
    /// Exponent on the original's weighted degree: 1 spreads the spinner's choice evenly over
    /// all neighbours, 0 ignores how many there are.
    pub degree_exponent: f32,
    /// How much likelier a relation is for each further source that lists it: spinners'
    /// dictionaries hold the synonyms every thesaurus agrees on, not Moby's long tail.
    pub agreement: f32,
    /// γ: how strongly the spinner prefers common replacements (0: uniform over neighbours).
    pub frequency_exponent: f32,
    /// Per-node tables, computed on first use (tens of milliseconds).
    tables: std::sync::OnceLock<ChannelTables>,
}

impl Default for GenericChannel {
    fn default() -> Self {
        GenericChannel::new(flags::ALL)
    }
}

impl GenericChannel {
    /// The generic channel over the relations in `mask`.
    pub fn new(mask: u8) -> Self {
        GenericChannel {
            mask,
            weak_weight: 0.25,
            degree_exponent: 0.4,
            agreement: 4.0,
            frequency_exponent: 0.5,
            tables: std::sync::OnceLock::new(),
        }
    }

    fn weight(&self, f: u8) -> f32 {
        relation_weight(f & self.mask, self.agreement, self.weak_weight)
    }

    /// Log10 of a node's frequency under the LM (a phrase: its words in sequence).
    pub fn node_logfreq(lex: &Lexicon<'_>, lm: &Lm<'_>, node: u32) -> f32 {
        let ws = lex.node_words(node);
        lm.sequence(NONE, NONE, ws.as_slice()).0
    }

    fn tables(&self, lex: &Lexicon<'_>, lm: &Lm<'_>) -> &ChannelTables {
        self.tables.get_or_init(|| {
            let n = lex.n_nodes();
            let logfreq: Vec<f32> = (0..n).map(|m| Self::node_logfreq(lex, lm, m)).collect();
            let weight: Vec<f32> = logfreq
                .iter()
                .map(|&f| 10f32.powf(f * self.frequency_exponent))
                .collect();
            let log_norm = (0..n)
                .map(|o| {
                    let z: f64 = lex
                        .neighbors(o)
                        .map(|(m, f)| self.weight(f) as f64 * weight[m as usize] as f64)
                        .sum();
                    z.log10() as f32
                })
                .collect();
            let log_weight = std::array::from_fn(|f| {
                let w = self.weight(f as u8);
                if w <= 0.0 {
                    f32::NEG_INFINITY
                } else {
                    w.log10()
                }
            });
            ChannelTables {
                logfreq,
                log_norm,
                log_weight,
            }
        })
    }

    /// Log10 of the original's normaliser: Σ over neighbours of w · freq^γ.
    pub fn log_normalizer(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32) -> f32 {
        self.tables(lex, lm)
            .log_norm
            .get(orig as usize)
            .copied()
            .unwrap_or(0.0)
    }
}

/// What the generic channel precomputes per graph node.
#[derive(Debug)]
struct ChannelTables {
    logfreq: Vec<f32>,
    log_norm: Vec<f32>,
    /// Log10 of the relation weight for each flag byte (`-inf` for a weight of 0).
    log_weight: [f32; 256],
}

impl Channel for GenericChannel {
    fn substitute(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32, spun: u32, f: u8) -> f32 {
        let t = self.tables(lex, lm);
        let log_w = t.log_weight[f as usize];
        if log_w == f32::NEG_INFINITY {
            return f32::NEG_INFINITY;
        }
        let own =
            log_w + self.frequency_exponent * t.logfreq.get(spun as usize).copied().unwrap_or(0.0);
        let z = t
            .log_norm
            .get(orig as usize)
            .copied()
            .unwrap_or(0.0)
            .max(own);
        own - self.degree_exponent * z
    }

    fn mask(&self) -> u8 {
        self.mask
    }

    #[inline]
    fn prefetch(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32) {
        if let Some(z) = self.tables(lex, lm).log_norm.get(orig as usize) {
            crate::lm::prefetch(z);
        }
    }
}

/// The weight of a relation with flags `f`: `agreement^(k-1)` for k agreeing strong sources,
/// `weak` for a relation known only as a hypernym or "similar" link, 0 for none.
pub fn relation_weight(f: u8, agreement: f32, weak: f32) -> f32 {
    let strong = (f & (flags::MYTHES | flags::WORDNET | flags::MOBY)).count_ones();
    if strong > 0 {
        agreement.powi(strong as i32 - 1)
    } else if f & flags::WEAK != 0 {
        weak
    } else {
        0.0
    }
}

/// Up to four word ids held inline: an arc's output is one to three words, so lattices and
/// candidate lists are copied without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Words {
    len: u8,
    ids: [u32; 4],
}

impl Words {
    /// The words of `ws`.
    ///
    /// # Panics
    /// If `ws` has more than four words (the lexicon's phrases have at most three).
    pub fn from_slice(ws: &[u32]) -> Words {
        assert!(ws.len() <= 4, "at most four words per arc");
        let mut ids = [0; 4];
        ids[..ws.len()].copy_from_slice(ws);
        Words {
            len: ws.len() as u8,
            ids,
        }
    }

    /// These words followed by `more` (up to eight in all), for scoring with right context.
    pub fn then(&self, more: &[u32]) -> ([u32; 8], usize) {
        let mut buf = [0; 8];
        let n = self.len as usize;
        buf[..n].copy_from_slice(&self.ids[..n]);
        let m = more.len().min(8 - n);
        buf[n..n + m].copy_from_slice(&more[..m]);
        (buf, n + m)
    }
}

impl std::ops::Deref for Words {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        &self.ids[..self.len as usize]
    }
}

impl std::fmt::Debug for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One arc of the lattice.
#[derive(Clone, Debug)]
pub struct Arc {
    /// How many input words it covers.
    pub len: usize,
    /// The words it outputs (vocabulary ids; `NONE` for a word outside the vocabulary).
    pub words: Words,
    /// Log10 channel probability, without the spin-rate term.
    pub channel: f32,
    /// Whether it keeps the input as it is.
    pub keep: bool,
}

/// A position of the sentence as the decoder sees it.
#[derive(Clone, Debug)]
pub struct Position {
    /// Vocabulary id of the normalised word, if known.
    pub id: Option<u32>,
    /// Whether the word may be replaced (not a name, number, or part of a compound).
    pub free: bool,
    /// Whether a phrase may continue from this word into the next.
    pub joins_next: bool,
}

/// Decoder settings.
#[derive(Clone, Debug)]
pub struct DecodeOptions {
    /// Hypotheses kept per position.
    pub beam: usize,
    /// Candidate originals kept per spun node, best prior first.
    pub max_candidates: usize,
    /// Log10 bonus per output word beyond the input's (a word insertion bonus): without it the
    /// language model, which pays for every word, would favour collapsing phrases.
    pub length_bonus: f32,
    /// How much of the frequency gap between an original and the spun words it replaces is
    /// discounted (0: trust the LM's unigram preference fully; 1: judge only fit to context).
    /// A trigram sees two words of context, so its preference for common words is mostly
    /// frequency, which clean text does not share.
    pub frequency_discount: f32,
    /// Log10 margin for pruning replacement arcs before the search (see [`Lattice::sentence`]).
    pub prune_margin: f32,
    /// Skip single-word replacements for words the LM has seen in their place (the trigram
    /// ending in the word and the bigram after it are both stored): a spinner's word rarely
    /// keeps the original's n-grams, and this spares most of a text the candidate search.
    pub fluency_gate: bool,
    /// With the gate: a word fits its left context when log10 P(word | two before) reaches this
    /// floor (0: when the trigram itself is stored).
    pub fluency_floor: f32,
    /// With the gate: a word whose bigram with the word before is stored also fits its left
    /// context when its log10 probability there beats its unigram by this much (`inf`: only a
    /// stored trigram counts).
    pub fluency_fit: f32,
    /// Log10 channel score of an original two thesaurus steps away, proposed by the LM
    /// (`-inf`: no two-step candidates).
    pub two_hop_penalty: f32,
    /// Two adjacent content words that the language model has never seen together may both
    /// have been replaced ("counterfeit consciousness" for "artificial intelligence"): such
    /// pairs get joint arcs for the candidate pairs that form a stored bigram, at most this
    /// many (0: none). Pruning word by word in the observed context cannot find these, since
    /// each original fits only beside the other.
    pub pair_arcs: usize,
    /// Log10 prior for the second replaced word of a pair arc (the decoder charges the spin
    /// prior once per arc).
    pub pair_penalty: f32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            beam: 8,
            max_candidates: 40,
            length_bonus: 0.5,
            frequency_discount: 0.7,
            prune_margin: 1.0,
            fluency_gate: true,
            fluency_floor: 0.0,
            fluency_fit: f32::INFINITY,
            two_hop_penalty: f32::NEG_INFINITY,
            pair_arcs: 3,
            pair_penalty: -0.7,
        }
    }
}

/// How far below the pruning floor a partial score plus its bound must fall before an arc is
/// dropped early: far above the rounding error of a sum of a few log probabilities, so early
/// drops are exactly the arcs the full score would drop.
const PRUNE_SLACK: f32 = 1e-3;

/// Candidate lists kept across the texts a restorer decodes (see [`Lattice::with_cache`]):
/// they depend only on the spun words, the lexicon, the channel and the decoder options, which
/// a restorer never changes. Bounded: when it holds [`CandidateCache::CAPACITY`] lists it starts
/// afresh.
#[derive(Default)]
pub struct CandidateCache {
    lists: std::sync::Mutex<FxHashMap<Words, Candidates>>,
}

/// A shared candidate list: (output words, log10 channel).
type Candidates = std::sync::Arc<[(Words, f32)]>;

impl CandidateCache {
    /// How many lists the cache holds at most.
    pub const CAPACITY: usize = 1 << 18;

    fn get(&self, key: &Words) -> Option<Candidates> {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        lists.get(key).cloned()
    }

    fn put(&self, key: Words, list: Candidates) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        if lists.len() >= Self::CAPACITY {
            lists.clear();
        }
        lists.insert(key, list);
    }
}

impl std::fmt::Debug for CandidateCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.lists.lock().map_or(0, |l| l.len());
        write!(f, "CandidateCache({n} lists)")
    }
}

/// Builds lattices, caching candidates per spun word sequence.
pub struct Lattice<'a, C: Channel> {
    lex: Lexicon<'a>,
    lm: Lm<'a>,
    channel: &'a C,
    opts: DecodeOptions,
    cache: FxHashMap<Words, Candidates>,
    shared: Option<&'a CandidateCache>,
    /// Scratch space reused position after position: the arcs before pruning, and the pruning
    /// state of each (most positions' arcs are nearly all pruned, so a lattice keeps only
    /// exact-size copies of the survivors).
    scratch: Vec<Arc>,
    pending: Vec<Pending>,
}

/// A replacement arc being scored for pruning (see [`Lattice::prune`]).
struct Pending {
    /// The arc's words then the right context.
    buf: [u32; 8],
    n: usize,
    /// Words scored so far.
    k: usize,
    first: f32,
    rest: f32,
    ctx: Context,
    /// The arc's channel plus the generous spin rate, and the floor it must reach.
    bonus: f32,
    floor: f32,
    /// `Some(kept)` once decided.
    done: Option<bool>,
}

/// Whether `a` and `b` are spellings of one word (British/American, doubled consonants).
pub fn spelling_variants(a: &str, b: &str) -> bool {
    if a == b || a.len().abs_diff(b.len()) > 3 || a.as_bytes().first() != b.as_bytes().first() {
        return false;
    }
    // Most words hold none of the patterns: they are compared without allocating.
    fn canon(s: &str) -> std::borrow::Cow<'_, str> {
        let mut t = std::borrow::Cow::Borrowed(s);
        for (from, to) in [
            ("isation", "ization"),
            ("ise", "ize"),
            ("yse", "yze"),
            ("our", "or"),
            ("tre", "ter"),
            ("ogue", "og"),
            ("ence", "ense"),
            ("ae", "e"),
            ("oe", "e"),
            ("ll", "l"),
        ] {
            if t.contains(from) {
                t = std::borrow::Cow::Owned(t.replace(from, to));
            }
        }
        t
    }
    a != b && canon(a) == canon(b)
}

impl<'a, C: Channel> Lattice<'a, C> {
    /// A lattice builder over a lexicon, a language model and a channel.
    pub fn new(lex: Lexicon<'a>, lm: Lm<'a>, channel: &'a C, opts: DecodeOptions) -> Self {
        Lattice {
            lex,
            lm,
            channel,
            opts,
            cache: FxHashMap::default(),
            shared: None,
            scratch: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// Keeps candidate lists in `cache` too, for other lattices built with the same lexicon,
    /// language model, channel and options (a restorer's, text after text).
    pub fn with_cache(mut self, cache: &'a CandidateCache) -> Self {
        self.shared = Some(cache);
        self
    }

    /// The lexicon in use.
    pub fn lexicon(&self) -> &Lexicon<'a> {
        &self.lex
    }

    /// Candidate originals for the spun word sequence `spun`: (output words, log10 channel).
    fn candidates(&mut self, spun: &[u32]) -> Candidates {
        let key = Words::from_slice(spun);
        if let Some(c) = self.cache.get(&key) {
            return c.clone();
        }
        let c = match self.shared.and_then(|s| s.get(&key)) {
            Some(c) => c,
            None => {
                let c: Candidates = self.compute_candidates(spun).into();
                if let Some(s) = self.shared {
                    s.put(key, c.clone());
                }
                c
            }
        };
        self.cache.insert(key, c.clone());
        c
    }

    fn compute_candidates(&self, spun: &[u32]) -> Vec<(Words, f32)> {
        let lex = &self.lex;
        let mask = self.channel.mask();
        // The spun node itself, and for single words its lemmas with the form to restore.
        let mut sources: Vec<(u32, Form)> = Vec::new();
        if let Some(n) = lex.node_of(spun) {
            sources.push((n, Form::Base));
        }
        if let [w] = spun {
            sources.extend(lex.analyses(*w));
        } else {
            // An inflected phrase ("happened to be", "young men"): its head's lemma makes the
            // phrase node; the head is the first word of a verb phrase, the last of a noun's.
            for h in [0, spun.len() - 1] {
                for (lemma, form) in lex.analyses(spun[h]) {
                    let mut base = spun.to_vec();
                    base[h] = lemma;
                    if let Some(n) = lex.node_of(&base) {
                        sources.push((n, form));
                    }
                }
            }
        }
        let mut best: FxHashMap<Words, f32> = FxHashMap::default();
        // A one-word candidate for a one-word spun text must share its part of speech and not be
        // a spelling of it; the spun word is looked up once.
        let spun_word = match spun {
            [b] => Some((*b, lex.word(*b))),
            _ => None,
        };
        let mut outs: Vec<Words> = Vec::new();
        // Neighbours lie all over the lexicon's tables: what expanding one reads is fetched
        // `AHEAD` neighbours early, so that the cache misses overlap.
        const AHEAD: usize = 8;
        for (node, form) in sources {
            let mut ahead = lex
                .neighbors(node)
                .filter(|&(_, f)| f & mask != 0)
                .map(|(o, _)| o);
            let hint = |o: Option<u32>| {
                if let Some(o) = o {
                    lex.prefetch_node(o, form);
                    self.channel.prefetch(lex, &self.lm, o);
                }
            };
            for _ in 0..AHEAD {
                hint(ahead.next());
            }
            for (orig, f) in lex.neighbors(node) {
                if f & mask == 0 {
                    continue;
                }
                hint(ahead.next());
                let ch = self.channel.substitute(lex, &self.lm, orig, node, f);
                if !ch.is_finite() {
                    continue;
                }
                let words = lex.node_words(orig);
                inflect_phrase(lex, words.as_slice(), form, &mut outs);
                for out in &outs {
                    if out[..] == *spun {
                        continue;
                    }
                    if let ([a], Some((b, spun_text))) = (&out[..], spun_word) {
                        if !compatible(lex, *a, b) || spelling_variants(lex.word(*a), spun_text) {
                            continue;
                        }
                    }
                    let e = best.entry(*out).or_insert(f32::NEG_INFINITY);
                    *e = e.max(ch);
                }
            }
        }
        // What a learned channel proposes needs no thesaurus relation, nor a shared part of
        // speech: the spinner was seen doing it.
        for (out, ch) in self.channel.propose(spun) {
            if out != spun && !out.is_empty() && out.len() <= 4 {
                let e = best
                    .entry(Words::from_slice(&out))
                    .or_insert(f32::NEG_INFINITY);
                *e = e.max(ch);
            }
        }
        // Prior for pruning: channel plus how common the original is. The best
        // `max_candidates` by prior (ties by words, so the order is total) are selected, then
        // sorted.
        let mut v: Vec<(f32, Words, f32)> = best
            .into_iter()
            .map(|(ws, ch)| {
                (
                    ch + ws.iter().map(|&w| self.lm.unigram(w)).sum::<f32>(),
                    ws,
                    ch,
                )
            })
            .collect();
        let order = |a: &(f32, Words, f32), b: &(f32, Words, f32)| {
            b.0.total_cmp(&a.0).then_with(|| a.1[..].cmp(&b.1[..]))
        };
        let keep = self.opts.max_candidates;
        if v.len() > keep {
            if keep > 0 {
                v.select_nth_unstable_by(keep - 1, order);
            }
            v.truncate(keep);
        }
        v.sort_unstable_by(order);
        v.into_iter().map(|(_, ws, ch)| (ws, ch)).collect()
    }

    /// The arcs leaving every position of `sent`, with hopeless replacements pruned: an arc
    /// survives when, scored in the observed context with the most generous spin rate, it comes
    /// within `prune_margin` of keeping the words it replaces. Most words of most texts keep
    /// only their keep arc, which is what makes decoding fast.
    pub fn sentence(&mut self, sent: &[Position], lm: &mut CachedLm<'_>) -> Vec<Vec<Arc>> {
        let obs: Vec<u32> = sent.iter().map(|p| p.id.unwrap_or(NONE)).collect();
        let bos = lm.lm.bos;
        let mut arcs = std::mem::take(&mut self.scratch);
        let lattice = (0..sent.len())
            .map(|i| {
                // The two words before position `i`, as observed.
                let (h1, h2) = match i {
                    0 => (NONE, bos),
                    1 => (bos, obs[0]),
                    _ => (obs[i - 2], obs[i - 1]),
                };
                let fluent = self.opts.fluency_gate && !self.channel.learned(&obs[i..i + 1]) && {
                    let next = obs.get(i + 1).copied().unwrap_or(lm.lm.eos);
                    let fits_left = if i == 0 {
                        true
                    } else if self.opts.fluency_floor < 0.0 {
                        lm.lm.score(h1, h2, obs[i]) >= self.opts.fluency_floor
                    } else {
                        lm.lm.has_trigram(h1, h2, obs[i])
                            || (self.opts.fluency_fit.is_finite()
                                && lm.lm.has_bigram(h2, obs[i])
                                && lm.lm.score(h1, h2, obs[i]) - lm.lm.unigram(obs[i])
                                    >= self.opts.fluency_fit)
                    };
                    fits_left && lm.lm.has_bigram(obs[i], next)
                };
                arcs.clear();
                self.arcs_from(sent, i, if fluent { 2 } else { 1 }, &mut arcs);
                if !fluent && self.opts.two_hop_penalty.is_finite() {
                    self.two_hop_arcs(sent, i, h1, h2, &mut arcs);
                }
                if self.opts.pair_arcs > 0 {
                    self.pair_arcs(sent, i, &mut arcs);
                }
                if arcs.len() > 1 {
                    self.prune(lm, &obs, i, h1, h2, &mut arcs);
                }
                arcs.to_vec()
            })
            .collect();
        self.scratch = arcs;
        lattice
    }

    /// Drops the replacement arcs at position `i` that cannot come within the margin of keeping
    /// the words (see [`Lattice::sentence`]). Each arc is scored word by word, its first word
    /// and then the rest with the observed right context; log probabilities are bounded (by 0
    /// for a proper model, see [`Lm::max_score`]), so an arc is dropped as soon as the words
    /// still to come could not lift it to the floor (with a slack far above rounding error, so
    /// that only arcs the full sum would drop are). The arcs advance together, one word per
    /// round, so that the lookups of a round are fetched from memory at once.
    fn prune(
        &mut self,
        lm: &mut CachedLm<'_>,
        obs: &[u32],
        i: usize,
        h1: u32,
        h2: u32,
        arcs: &mut Vec<Arc>,
    ) {
        let margin = self.opts.prune_margin;
        let generous = 0.5f32.log10();
        let max_score = lm.lm.max_score();
        let mut keep_by_len = [f32::NAN; 4];
        let ctx = lm.lm.context(h1, h2);
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        for a in arcs.iter().filter(|a| !a.keep) {
            let end = i + a.len;
            let right = &obs[end..(end + 2).min(obs.len())];
            if keep_by_len[a.len].is_nan() {
                let (ws, n) = Words::from_slice(&obs[i..end]).then(right);
                keep_by_len[a.len] = lm.sequence(h1, h2, &ws[..n]).0;
            }
            let (buf, n) = a.words.then(right);
            pending.push(Pending {
                buf,
                n,
                k: 0,
                first: 0.0,
                rest: 0.0,
                ctx,
                bonus: a.channel,
                floor: keep_by_len[a.len] - margin,
                done: None,
            });
        }
        let lm = lm.lm;
        let mut open = pending.len();
        while open > 0 {
            for p in pending.iter().filter(|p| p.done.is_none()) {
                lm.prefetch_step(&p.ctx, p.buf[p.k]);
            }
            for p in pending.iter_mut().filter(|p| p.done.is_none()) {
                let (s, next) = lm.step(&p.ctx, p.buf[p.k]);
                p.ctx = next;
                p.k += 1;
                if p.k == 1 {
                    p.first = s;
                    if p.first + p.bonus + generous < p.floor {
                        p.done = Some(false);
                    }
                } else {
                    p.rest += s;
                    let left = p.n - p.k;
                    if left > 0
                        && p.first + p.rest + left as f32 * max_score + p.bonus + generous
                            < p.floor - PRUNE_SLACK
                    {
                        p.done = Some(false);
                    }
                }
                if p.done.is_none() && p.k == p.n {
                    p.done = Some(p.first + p.rest + p.bonus + generous >= p.floor);
                }
                if p.done.is_some() {
                    open -= 1;
                }
            }
        }
        let mut verdicts = pending.iter().map(|p| p.done == Some(true));
        arcs.retain(|a| a.keep || verdicts.next().unwrap_or(false));
        self.pending = pending;
    }

    /// Beam width in use.
    pub fn beam(&self) -> usize {
        self.opts.beam
    }

    /// Adds arcs to originals two thesaurus steps from the word at `i` (through a relation the
    /// channel allows), but only those the language model itself proposes after the two words
    /// before: a spinner's dictionary is not any one thesaurus, so its pairs are often related
    /// only through a third word, and the model's proposals keep the two-step set small.
    fn two_hop_arcs(&mut self, sent: &[Position], i: usize, h1: u32, h2: u32, arcs: &mut Vec<Arc>) {
        let (Some(s), true) = (sent[i].id, sent[i].free) else {
            return;
        };
        if self.lex.is_function(s) {
            return;
        }
        let lex = self.lex;
        let mask = self.channel.mask();
        let proposals: std::collections::HashSet<u32> = self.lm.successors(h1, h2).collect();
        if proposals.is_empty() {
            return;
        }
        let mut sources = vec![(s, Form::Base)];
        sources.extend(lex.analyses(s));
        let mut seen: std::collections::HashSet<u32> = arcs
            .iter()
            .filter(|a| a.len == 1 && a.words.len() == 1)
            .map(|a| a.words[0])
            .collect();
        seen.insert(s);
        let spun_freq = self.lm.unigram(s);
        for (node, form) in sources {
            for (x, f1) in lex.neighbors(node) {
                if f1 & mask == 0 || x >= lex.n_words() {
                    continue;
                }
                for (o, f2) in lex.neighbors(x) {
                    if f2 & mask == 0 || o >= lex.n_words() || o == node {
                        continue;
                    }
                    for out in lex.inflect(o, form) {
                        if seen.contains(&out)
                            || !proposals.contains(&out)
                            || !compatible(&lex, out, s)
                        {
                            continue;
                        }
                        seen.insert(out);
                        let freq_gap = self.lm.unigram(out) - spun_freq;
                        arcs.push(Arc {
                            len: 1,
                            words: Words::from_slice(&[out]),
                            channel: self.opts.two_hop_penalty
                                - self.opts.frequency_discount * freq_gap,
                            keep: false,
                        });
                    }
                }
            }
        }
    }

    /// Joint arcs for two adjacent content words the language model has never seen together:
    /// the candidate pairs that form a stored bigram, best first (see
    /// [`DecodeOptions::pair_arcs`]).
    fn pair_arcs(&mut self, sent: &[Position], i: usize, arcs: &mut Vec<Arc>) {
        let (Some(a), Some(b)) = (sent[i].id, sent.get(i + 1).and_then(|p| p.id)) else {
            return;
        };
        let n = self.lm.n_words();
        let content = |w: u32| !self.lex.is_function(w);
        if !sent[i].free
            || !sent[i + 1].free
            || !sent[i].joins_next
            || !content(a)
            || !content(b)
            || a >= n
            || b >= n
            || self.lm.has_bigram(a, b)
        {
            return;
        }
        let disc = self.opts.frequency_discount;
        let single = |this: &mut Self, w: u32| -> Vec<(u32, f32)> {
            let gap_base = this.lm.unigram(w);
            let mut v: Vec<(u32, f32)> = this
                .candidates(&[w])
                .iter()
                .filter(|(ws, _)| ws.len() == 1 && ws[0] < n)
                .map(|(ws, ch)| (ws[0], *ch))
                .collect();
            for (c, ch) in &mut v {
                *ch -= disc * (this.lm.unigram(*c) - gap_base);
            }
            v
        };
        let (ca, cb) = (single(self, a), single(self, b));
        let mut pairs: Vec<(f32, u32, u32, f32)> = Vec::new();
        let xs: Vec<u32> = ca.iter().map(|&(x, _)| x).collect();
        let ys: Vec<u32> = cb.iter().map(|&(y, _)| y).collect();
        let mut stored = Vec::with_capacity(xs.len() * ys.len());
        self.lm.has_bigrams(&xs, &ys, &mut stored);
        for (&(x, chx), row) in ca.iter().zip(stored.chunks(ys.len().max(1))) {
            // Pairs with one word kept are the ordinary one-word arcs' business.
            for (&(y, chy), _) in cb.iter().zip(row).filter(|(_, &s)| s) {
                let lm = self.lm.score(NONE, x, y);
                let ch = chx + chy + self.opts.pair_penalty;
                pairs.push((lm + ch, x, y, ch));
            }
        }
        pairs.sort_by(|p, q| q.0.total_cmp(&p.0).then((p.1, p.2).cmp(&(q.1, q.2))));
        for &(_, x, y, ch) in pairs.iter().take(self.opts.pair_arcs) {
            if arcs
                .iter()
                .any(|arc| arc.len == 2 && arc.words[..] == [x, y])
            {
                continue;
            }
            arcs.push(Arc {
                len: 2,
                words: Words::from_slice(&[x, y]),
                channel: ch,
                keep: false,
            });
        }
    }

    /// The arcs leaving position `i`, replacing at least `min_len` words.
    fn arcs_from(&mut self, sent: &[Position], i: usize, min_len: usize, arcs: &mut Vec<Arc>) {
        arcs.push(Arc {
            len: 1,
            words: Words::from_slice(&[sent[i].id.unwrap_or(NONE)]),
            channel: 0.0,
            keep: true,
        });
        let mut buf = [0u32; 3];
        for len in 1..=3 {
            let j = i + len - 1;
            if j >= sent.len() || !sent[j].free {
                break;
            }
            let Some(id) = sent[j].id else { break };
            if len > 1 && !sent[j - 1].joins_next {
                break;
            }
            buf[len - 1] = id;
            let ids = &buf[..len];
            let id = ids[0];
            // A single function word is never restored: spinners write them out as phrases,
            // and those phrases are what gets restored.
            if len < min_len || (len == 1 && self.lex.is_function(id)) {
                continue;
            }
            let bonus = self.opts.length_bonus;
            let disc = self.opts.frequency_discount;
            let spun_freq: f32 = ids.iter().map(|&w| self.lm.unigram(w)).sum();
            let cands = self.candidates(ids);
            let learned = if self.channel.learned(ids) {
                self.channel.propose(ids)
            } else {
                Vec::new()
            };
            for &(words, channel) in cands.iter() {
                let extra = words.len() as f32 - len as f32;
                // The frequency discount compares like with like: one word for one word. It
                // stands in for what the channel cannot know about a spinner's taste; a learned
                // substitution needs no such hedge.
                let is_learned = learned.iter().any(|(o, _)| o.as_slice() == &words[..]);
                let freq_gap = if words.len() == len && !is_learned {
                    words.iter().map(|&w| self.lm.unigram(w)).sum::<f32>() - spun_freq
                } else {
                    0.0
                };
                arcs.push(Arc {
                    len,
                    words,
                    channel: channel + bonus * extra - disc * freq_gap,
                    keep: false,
                });
            }
        }
    }
}

/// Whether a single spun word `a` may stand for the single original `b`: they share a part of
/// speech when both have one, and a function word only stands for a function word in a phrase
/// rewrite, never one for one.
pub fn compatible(lex: &Lexicon<'_>, a: u32, b: u32) -> bool {
    use crate::lexicon::class;
    let (ca, cb) = (lex.class(a), lex.class(b));
    if (ca | cb) & class::FUNCTION != 0 {
        return false;
    }
    let (pa, pb) = (ca & class::POS, cb & class::POS);
    pa == 0 || pb == 0 || pa & pb != 0
}

/// Which of the words `proposed` (by a sentence model, say) could be the original of the spun
/// word `spun` through the thesauri: with its inflection, one relation step away (scored by
/// `channel`) or two (`two_hop` plus the frequency term of the generic channel). Returns
/// (word, log10 channel), best channel per word, in the order of `proposed`.
pub fn related_originals<C: Channel + ?Sized>(
    lex: &Lexicon<'_>,
    lm: &Lm<'_>,
    channel: &C,
    spun: u32,
    proposed: &[u32],
    two_hop: f32,
    frequency_discount: f32,
) -> Vec<(u32, f32)> {
    let mask = channel.mask();
    let n = lex.n_words();
    let mut sources = vec![(spun, Form::Base)];
    sources.extend(lex.analyses(spun));
    // For each lemma of the spun word: its neighbours (one step) and theirs (two steps).
    let mut one: HashMap<u32, (f32, Form)> = HashMap::new();
    let mut two: HashMap<u32, Form> = HashMap::new();
    for &(node, form) in &sources {
        for (x, f) in lex.neighbors(node) {
            if f & mask == 0 || x >= n {
                continue;
            }
            let ch = channel.substitute(lex, lm, x, node, f);
            if ch.is_finite() {
                let e = one.entry(x).or_insert((f32::NEG_INFINITY, form));
                if ch > e.0 {
                    *e = (ch, form);
                }
            }
            for (o, f2) in lex.neighbors(x) {
                if f2 & mask != 0 && o < n && o != node {
                    two.entry(o).or_insert(form);
                }
            }
        }
    }
    let spun_freq = lm.unigram(spun);
    let mut out = Vec::new();
    for &w in proposed {
        if w == spun
            || w >= n
            || !compatible(lex, w, spun)
            || spelling_variants(lex.word(w), lex.word(spun))
        {
            continue;
        }
        let mut lemmas = vec![(w, Form::Base)];
        lemmas.extend(lex.analyses(w));
        let mut best = f32::NEG_INFINITY;
        for (lemma, form) in lemmas {
            if let Some(&(ch, f)) = one.get(&lemma) {
                if f == form {
                    best = best.max(ch);
                }
            }
            if two.get(&lemma) == Some(&form) {
                let freq_gap = lm.unigram(w) - spun_freq;
                best = best.max(two_hop - frequency_discount * freq_gap);
            }
        }
        if best.is_finite() {
            out.push((w, best));
        }
    }
    out
}

/// Inflects a candidate original to `form`, into `out` (cleared first): the head of a phrase is
/// its last word for nouns and adjectives, its first for verbs, so both are tried.
fn inflect_phrase(lex: &Lexicon<'_>, words: &[u32], form: Form, out: &mut Vec<Words>) {
    out.clear();
    if form == Form::Base {
        out.push(Words::from_slice(words));
        return;
    }
    let heads: &[usize] = if words.len() == 1 {
        &[0]
    } else {
        &[0, words.len() - 1]
    };
    for &h in heads {
        for infl in lex.inflect(words[h], form) {
            let mut v = Words::from_slice(words);
            v.ids[h] = infl;
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
}

/// The best path through a sentence's lattice.
#[derive(Clone, Debug)]
pub struct Path {
    /// The arcs taken, with the position each starts at.
    pub arcs: Vec<(usize, Arc)>,
    /// Log10 score of the path (LM + channel + spin-rate terms).
    pub score: f32,
}

#[derive(Clone, Copy)]
struct Hyp {
    score: f32,
    h1: u32,
    h2: u32,
    back: u32,
}

/// Decodes one sentence. `log_rho` and `log_keep` are log10 of the spin rate and of its
/// complement; every replacing arc pays `log_rho`, every kept free word `log_keep`.
pub fn decode(
    lm: &mut CachedLm<'_>,
    lattice: &[Vec<Arc>],
    sent: &[Position],
    log_rho: f32,
    log_keep: f32,
    beam: usize,
) -> Path {
    thread_local! {
        static SCRATCH: std::cell::RefCell<DecodeScratch> = Default::default();
    }
    // `decode` never calls itself, so the thread's scratch is free whenever it is entered.
    SCRATCH.with_borrow_mut(|scratch| {
        let DecodeScratch {
            arena,
            arc_store,
            at,
        } = scratch;
        let n = sent.len();
        let (bos, eos) = (lm.lm.bos, lm.lm.eos);
        arena.clear();
        arc_store.clear();
        for v in at.iter_mut() {
            v.clear();
        }
        if at.len() < n + 1 {
            at.resize_with(n + 1, Vec::new);
        }
        arena.push((
            Hyp {
                score: 0.0,
                h1: NONE,
                h2: bos,
                back: u32::MAX,
            },
            u32::MAX,
            u32::MAX,
        ));
        at[0].push(0);
        for i in 0..n {
            let mut here = std::mem::take(&mut at[i]);
            prune(&mut here, arena, beam);
            if here.is_empty() {
                at[i] = here;
                continue;
            }
            for (j, arc) in lattice[i].iter().enumerate() {
                let arc_id = arc_store.len() as u32;
                let extra = if arc.keep {
                    if sent[i].free && sent[i].id.is_some() {
                        log_keep
                    } else {
                        0.0
                    }
                } else {
                    log_rho + arc.channel
                };
                for &hid in &here {
                    let h = arena[hid as usize].0;
                    let (lmscore, h1, h2) = lm.sequence(h.h1, h.h2, &arc.words);
                    let next = Hyp {
                        score: h.score + lmscore + extra,
                        h1,
                        h2,
                        back: hid,
                    };
                    arena.push((next, arc_id, hid));
                    at[i + arc.len].push((arena.len() - 1) as u32);
                }
                arc_store.push((i, j));
            }
            here.clear();
            at[i] = here;
        }
        // Close the sentence.
        let mut best: Option<(f32, u32)> = None;
        for &hid in &at[n] {
            let h = arena[hid as usize].0;
            let s = h.score + lm.score(h.h1, h.h2, eos);
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, hid));
            }
        }
        let Some((score, mut hid)) = best else {
            return Path {
                arcs: Vec::new(),
                score: 0.0,
            };
        };
        let mut arcs = Vec::new();
        while hid != 0 {
            let (h, arc, _) = arena[hid as usize];
            let (i, j) = arc_store[arc as usize];
            arcs.push((i, lattice[i][j].clone()));
            hid = h.back;
        }
        arcs.reverse();
        Path { arcs, score }
    })
}

/// What [`decode`] allocates, kept from sentence to sentence (per thread).
#[derive(Default)]
struct DecodeScratch {
    /// (hyp, arc index into `arc_store`, previous arena index)
    arena: Vec<(Hyp, u32, u32)>,
    arc_store: Vec<(usize, usize)>,
    /// The hypotheses reaching each position.
    at: Vec<Vec<u32>>,
}

/// Keeps the best hypothesis per LM state, then the `beam` best of those.
fn prune(here: &mut Vec<u32>, arena: &[(Hyp, u32, u32)], beam: usize) {
    here.sort_by(|&a, &b| {
        let (x, y) = (&arena[a as usize].0, &arena[b as usize].0);
        (x.h1, x.h2)
            .cmp(&(y.h1, y.h2))
            .then(y.score.total_cmp(&x.score))
    });
    here.dedup_by(|a, b| {
        let (x, y) = (&arena[*a as usize].0, &arena[*b as usize].0);
        x.h1 == y.h1 && x.h2 == y.h2
    });
    here.sort_by(|&a, &b| {
        arena[b as usize]
            .0
            .score
            .total_cmp(&arena[a as usize].0.score)
    });
    here.truncate(beam);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants() {
        assert!(spelling_variants("organisation", "organization"));
        assert!(spelling_variants("colour", "color"));
        assert!(spelling_variants("travelled", "traveled"));
        assert!(!spelling_variants("war", "warfare"));
        assert!(!spelling_variants("war", "war"));
    }
}
