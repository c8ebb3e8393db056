//! Restoring a spun text: segment, decode each sentence, re-estimate the spin rate, render.

use std::collections::HashMap;

use serde::Serialize;

use crate::decode::{
    decode, Arc, CandidateCache, Channel, DecodeOptions, GenericChannel, Lattice, Path, Position,
    Words,
};
use crate::lm::NONE;
use crate::lm::{CachedLm, Lm};
use crate::text::{normalize, tokenize, Case, Token, TokenKind};
use crate::Pack;

/// One restored span of the input.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Span {
    /// Byte offset of the span's first byte in the input.
    pub start: usize,
    /// Byte offset one past its last byte.
    pub end: usize,
    /// The input text of the span.
    pub spun: String,
    /// What the restorer puts there.
    pub restored: String,
    /// Posterior probability of `restored` among the span's candidates, in [0, 1].
    pub confidence: f32,
    /// Other candidates, most probable first (the spun text itself among them).
    pub alternatives: Vec<Alternative>,
    /// Log10 of how much more probable `restored` is than the spun text here (the evidence
    /// that this span was spun), capped at ±[`MAX_LOG_ODDS`].
    pub log_odds: f32,
    /// What proposed the span: "model", or "fingerprint" for a known tortured phrase.
    pub source: &'static str,
}

/// The cap on [`Span::log_odds`]: beyond a million to one, the odds say nothing more.
pub const MAX_LOG_ODDS: f32 = 6.0;

/// A candidate the restorer did not choose.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alternative {
    /// Its text.
    pub text: String,
    /// Its posterior probability.
    pub confidence: f32,
}

/// The result of restoring a text.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Restoration {
    /// The restored text: the input with every span replaced.
    pub text: String,
    /// The replaced spans, in order, with byte offsets into the input.
    pub spans: Vec<Span>,
    /// The document's spin rate as estimated by EM (share of free words replaced).
    pub spin_rate: f32,
    /// Number of words in the input.
    pub words: usize,
    /// Which model chose the words: "trigram", or the sentence scorer's name in precise mode.
    pub scorer: String,
}

impl Restoration {
    /// Puts known tortured phrases in: each `(start, end, expected)` replaces the input's bytes
    /// `start..end` with the list's expected form (in the input's case), and model spans that
    /// overlap one are dropped. `input` is the text this restoration was made from.
    pub fn apply_fingerprints(&mut self, input: &str, hits: &[(usize, usize, String)]) {
        let mut taken: Vec<(usize, usize)> = Vec::new();
        let mut added = Vec::new();
        for (start, end, expected) in hits {
            if taken.iter().any(|&(a, b)| *start < b && a < *end) || end <= start {
                continue;
            }
            taken.push((*start, *end));
            let spun = &input[*start..*end];
            added.push(Span {
                start: *start,
                end: *end,
                spun: spun.to_string(),
                restored: Case::of(spun).apply(expected),
                confidence: 1.0,
                alternatives: Vec::new(),
                log_odds: MAX_LOG_ODDS,
                source: "fingerprint",
            });
        }
        if added.is_empty() {
            return;
        }
        self.spans
            .retain(|s| !taken.iter().any(|&(a, b)| s.start < b && a < s.end));
        self.spans.extend(added);
        self.spans.sort_by_key(|s| s.start);
        self.text = splice(input, &self.spans);
    }
}

/// `input` with each span's bytes replaced by its restoration (spans in order, not overlapping).
fn splice(input: &str, spans: &[Span]) -> String {
    let mut out = String::with_capacity(input.len());
    let mut at = 0;
    for sp in spans {
        out.push_str(&input[at..sp.start]);
        out.push_str(&sp.restored);
        at = sp.end;
    }
    out.push_str(&input[at..]);
    out
}

/// A model that scores whole sentences, for precise mode. The core crate knows no neural
/// network; `unspin-neural` provides one (SmolLM2-135M) and the CLI connects the two.
pub trait SentenceScorer {
    /// Natural-log probabilities of the sentences `prefix + variants[i]` (plain concatenation);
    /// the shared prefix lets an implementation compute it once.
    ///
    /// # Errors
    /// A description of what failed in the model.
    fn score_variants(&mut self, prefix: &str, variants: &[&str]) -> Result<Vec<f32>, String>;

    /// Scores that rank the variants of [`SentenceScorer::score_variants`] against one another,
    /// where an implementation may leave out what every variant ends with beyond `window`
    /// tokens (or words) past the last difference. The default scores whole sentences.
    ///
    /// # Errors
    /// A description of what failed in the model.
    fn score_variants_near(
        &mut self,
        prefix: &str,
        variants: &[&str],
        window: usize,
    ) -> Result<Vec<f32>, String> {
        let _ = window;
        self.score_variants(prefix, variants)
    }

    /// The variants at many positions of one sentence: `groups[g]` is a position's `(prefix,
    /// variants)` as [`SentenceScorer::score_variants_near`] takes them (`window` 0: whole
    /// sentences), each `prefix + variant` reading as `sentence` up to where the group's
    /// variants differ. An implementation may score all groups in one pass; the default scores
    /// them one by one.
    ///
    /// # Errors
    /// A description of what failed in the model.
    fn score_groups(
        &mut self,
        sentence: &str,
        groups: &[(&str, Vec<&str>)],
        window: usize,
    ) -> Result<Vec<Vec<f32>>, String> {
        let _ = sentence;
        groups
            .iter()
            .map(|(prefix, variants)| match window {
                0 => self.score_variants(prefix, variants),
                w => self.score_variants_near(prefix, variants, w),
            })
            .collect()
    }

    /// What the model expects at byte offsets `at` of `sentence` (where words start), each
    /// given the text before it: the score of the word that is there and up to `k` words it
    /// expects instead, likeliest first. Precise mode proposes those related to the observed
    /// word in the thesauri as candidate originals. A scorer that cannot predict expects
    /// nothing (the default).
    ///
    /// # Errors
    /// A description of what failed in the model.
    fn next_words(
        &mut self,
        sentence: &str,
        at: &[usize],
        k: usize,
    ) -> Result<Vec<Expected>, String> {
        let _ = (sentence, k);
        Ok(vec![Expected::default(); at.len()])
    }

    /// The name reported as [`Restoration::scorer`].
    fn name(&self) -> &str;
}

/// What a sentence model expects at one position (see [`SentenceScorer::next_words`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expected {
    /// Natural-log score of the word that is there (of its first token, for a model of
    /// subwords; `-inf` when unknown).
    pub observed: f32,
    /// The words expected instead: (lower-cased word, natural-log score on the same scale),
    /// likeliest first.
    pub words: Vec<(String, f32)>,
}

/// A span's confidence, its alternatives, and the probability of keeping the spun words.
type Judgement = (f32, Vec<Alternative>, f32);

/// The probability that log10 odds stand for.
fn odds_probability(log_odds: f32) -> f32 {
    1.0 / (1.0 + 10f32.powf(-log_odds))
}

/// How one free word of the input looks to the restorer: evidence for detection.
#[derive(Clone, Debug)]
pub(crate) struct WordProbe {
    /// Byte range of the word in the input.
    pub start: usize,
    pub end: usize,
    /// Posterior probability that the word was replaced (its neighbours on the decoded path
    /// held fixed), in [0, 1].
    pub p_spun: f32,
    /// Log10 P(word | two before) − log10 P(word): how much better the word fits its context
    /// than its frequency alone predicts (`None` for words outside the LM or function words).
    pub fit: Option<f32>,
    /// Log10 P(next word | this word and the one before) − log10 P(next word): how much the
    /// word helps predict its successor (`None` where `fit` is, or at the end of a sentence).
    pub right_fit: Option<f32>,
    /// Log10 unigram probability of a content word.
    pub logfreq: Option<f32>,
}

/// A sentence scorer failed.
#[derive(Debug, thiserror::Error)]
#[error("sentence scorer failed: {0}")]
pub struct ScorerError(pub String);

/// Restorer settings.
#[derive(Clone, Debug)]
pub struct RestoreOptions {
    /// Decoder settings.
    pub decode: DecodeOptions,
    /// Spin rate to start EM from.
    pub initial_rate: f32,
    /// EM iterations (0: keep the initial rate).
    pub em_iterations: usize,
    /// Pseudo-counts (changed, free words) that pull the estimate toward clean text.
    pub rate_prior: (f32, f32),
    /// (gain, floor): the EM estimate's excess over `floor` (what clean text shows) is
    /// multiplied by `gain`, since the model detects only part of what a spinner changed.
    pub rate_calibration: (f32, f32),
    /// Alternatives reported per span.
    pub alternatives: usize,
    /// Decide words that occur several times once for the document (a consistent spinner).
    pub consistent: bool,
    /// In precise mode, the weight of the channel (spin prior and substitution) against the
    /// sentence model's log probability.
    pub precise_channel_weight: f32,
    /// In precise mode, the words the sentence model is asked to expect at each free content
    /// word (0: none, the default); those at least `precise_margin` nats likelier than the
    /// observed word and related to it through the thesauri, one or two steps away, join its
    /// candidates.
    pub precise_proposals: usize,
    /// See `precise_proposals`.
    pub precise_margin: f32,
    /// In precise mode, the log10 channel of a proposed original two thesaurus steps away.
    pub precise_two_hop: f32,
    /// Log10 evidence a document-level rule needs beyond even odds.
    pub consistency_threshold: f32,
    /// In precise mode, the tokens scored past the last one where a position's variants differ
    /// (0: the whole rest of the sentence). The far tail is the same in every variant and
    /// moves their scores little, but costs a forward pass per token per variant.
    pub precise_window: usize,
    /// In precise mode, after every position of a sentence was judged in the trigram path's
    /// context (one batch), judge once more those whose left neighbours (two arcs back) changed.
    pub precise_second_sweep: bool,
    /// In precise mode, the share of the original/spun frequency gap discounted (the trigram
    /// decoder's is `decode.frequency_discount`): how much of the sentence model's taste for
    /// common words is taken for a spinner's taste for rare ones. Not applied to what a learned
    /// profile proposes, which the decoder does not discount either. `None`: the decoder's.
    pub precise_frequency_discount: Option<f32>,
    /// In precise mode, judge once more two neighbouring words the path reads one by one where
    /// the lattice also has arcs replacing both at once.
    pub precise_pairs: bool,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            decode: DecodeOptions::default(),
            initial_rate: 0.1,
            em_iterations: 2,
            rate_prior: (0.2, 20.0),
            rate_calibration: (2.5, 0.03),
            alternatives: 3,
            consistent: true,
            precise_channel_weight: 1.0,
            // Measured on Brown ca01 (BENCHMARKS.md): proposals lift "same" from 0.132 to 0.146
            // at margin 7 but more than double the clean words changed, so they are opt-in.
            precise_proposals: 0,
            precise_margin: 7.0,
            precise_two_hop: -2.5,
            consistency_threshold: 5.0,
            // Measured on Brown ca01 (BENCHMARKS.md): 6 tokens keep the whole sentences' figures
            // (same 0.138 vs 0.132, cross 0.020 vs 0.022, phrase 0.557 vs 0.558) at 1.8x less time.
            precise_window: 6,
            precise_frequency_discount: None,
            // Measured on Brown ca01 (BENCHMARKS.md): same 0.1324 → 0.1358, phrase 0.5485 →
            // 0.5673, clean words changed 0.20 → 0.30 %, for 1.4x the time.
            precise_pairs: false,
            // Measured on Brown ca01 (BENCHMARKS.md): phrase 0.5485 → 0.5525, same and cross
            // unchanged, for 1.17x the time of one sweep.
            precise_second_sweep: false,
        }
    }
}

/// Restores spun texts with a pack and a channel.
pub struct Restorer<'p, C: Channel = GenericChannel> {
    pack: &'p Pack,
    channel: C,
    opts: RestoreOptions,
    /// Candidate lists found so far, for the next texts.
    candidates: CandidateCache,
}

impl<'p> Restorer<'p, GenericChannel> {
    /// A restorer with the generic channel and default options.
    pub fn new(pack: &'p Pack) -> Self {
        Restorer::with_channel(pack, GenericChannel::default(), RestoreOptions::default())
    }
}

/// A candidate original's evidence over a word's occurrences: summed LM gain (frequency
/// discounted), its channel score, and how many occurrences offered it.
type Evidence = (f32, f32, usize);

/// Local scores at one position of a path, see `Restorer::local_one_word`.
struct LocalScores {
    i: usize,
    keep: f32,
    alts: Vec<(usize, f32)>,
}

/// A word of the input with its place in the token stream.
struct WordTok {
    tok: usize,
    pos: Position,
}

impl<'p, C: Channel> Restorer<'p, C> {
    /// A restorer with a given channel and options.
    pub fn with_channel(pack: &'p Pack, channel: C, opts: RestoreOptions) -> Self {
        Restorer {
            pack,
            channel,
            opts,
            candidates: CandidateCache::default(),
        }
    }

    /// The options in use.
    pub fn options(&self) -> &RestoreOptions {
        &self.opts
    }

    /// The candidate replacements the decoder considers, per starting word: (byte start, byte
    /// end of the replaced words, candidate text). For inspection and diagnostics.
    pub fn candidates(&self, text: &str) -> Vec<(usize, usize, Vec<String>)> {
        let toks = tokenize(text);
        let sentences = self.sentences(text, &toks);
        let lm = self.pack.lm();
        let mut lat = Lattice::new(
            self.pack.lexicon(),
            lm,
            &self.channel,
            self.opts.decode.clone(),
        );
        let mut clm = CachedLm::new(lm);
        let mut out = Vec::new();
        for s in &sentences {
            let pos: Vec<Position> = s.iter().map(|w| w.pos.clone()).collect();
            for (i, arcs) in lat.sentence(&pos, &mut clm).into_iter().enumerate() {
                let mut by_len: Vec<(usize, Vec<String>)> = Vec::new();
                for a in arcs.iter().filter(|a| !a.keep) {
                    let t = self.render(&a.words, Case::Lower);
                    match by_len.iter_mut().find(|(l, _)| *l == a.len) {
                        Some((_, v)) => v.push(t),
                        None => by_len.push((a.len, vec![t])),
                    }
                }
                for (len, cands) in by_len {
                    out.push((toks[s[i].tok].start, toks[s[i + len - 1].tok].end, cands));
                }
            }
        }
        out
    }

    /// Restores `text`. Never fails: text that looks clean comes back unchanged.
    pub fn restore(&self, text: &str) -> Restoration {
        self.restore_with(text, None, None)
            .unwrap_or_else(|e| unreachable!("only a sentence scorer can fail: {e}"))
    }

    /// Restores `text` in precise mode: the trigram decoder's choices are revisited with a model
    /// that reads whole sentences (see [`SentenceScorer`]), and confidences come from it.
    ///
    /// # Errors
    /// Whatever the scorer reports (a model that fails mid-way is an error, never a silent
    /// fall-back to the trigram).
    pub fn restore_precise(
        &self,
        text: &str,
        scorer: &mut dyn SentenceScorer,
    ) -> Result<Restoration, ScorerError> {
        self.restore_with(text, Some(scorer), None)
    }

    /// Restores texts that one spinner wrote, together: they share one spin rate, and a word
    /// that recurs across them is decided once for all of them ([`RestoreOptions::consistent`]),
    /// so each text has the evidence of the others behind it. A content farm's pages, or a
    /// paper mill's papers, are restored better pooled than one by one; texts of different
    /// origins should not be pooled (a clean text would take a spun corpus's rate). Returns
    /// one restoration per text, in order, with offsets into that text.
    pub fn restore_pooled(&self, texts: &[&str]) -> Vec<Restoration> {
        self.restore_pooled_with(texts, None)
            .unwrap_or_else(|e| unreachable!("only a sentence scorer can fail: {e}"))
    }

    /// [`Restorer::restore_pooled`] in precise mode (see [`Restorer::restore_precise`]).
    ///
    /// # Errors
    /// Whatever the scorer reports.
    pub fn restore_pooled_precise(
        &self,
        texts: &[&str],
        scorer: &mut dyn SentenceScorer,
    ) -> Result<Vec<Restoration>, ScorerError> {
        self.restore_pooled_with(texts, Some(scorer))
    }

    fn restore_pooled_with(
        &self,
        texts: &[&str],
        scorer: Option<&mut dyn SentenceScorer>,
    ) -> Result<Vec<Restoration>, ScorerError> {
        // One text of all of them, a blank line apart: a blank line ends a sentence, so no
        // span or n-gram reaches from one text into the next.
        let mut joined = String::with_capacity(texts.iter().map(|t| t.len() + 2).sum());
        let mut starts = Vec::with_capacity(texts.len());
        for t in texts {
            starts.push(joined.len());
            joined.push_str(t);
            joined.push_str("\n\n");
        }
        let all = self.restore_with(&joined, scorer, None)?;
        let mut spans = all.spans.into_iter().peekable();
        Ok(texts
            .iter()
            .zip(&starts)
            .map(|(t, &start)| {
                let mut own = Vec::new();
                while let Some(s) = spans.next_if(|s| s.start < start + t.len()) {
                    own.push(Span {
                        start: s.start - start,
                        end: s.end - start,
                        ..s
                    });
                }
                let words = self.sentences(t, &tokenize(t)).iter().map(Vec::len).sum();
                Restoration {
                    text: splice(t, &own),
                    spans: own,
                    spin_rate: all.spin_rate,
                    words,
                    scorer: all.scorer.clone(),
                }
            })
            .collect())
    }

    /// Restores `text` and reports, for each free word, how likely it is to have been spun:
    /// what detection builds on.
    pub(crate) fn probe(
        &self,
        text: &str,
        scorer: Option<&mut dyn SentenceScorer>,
    ) -> Result<(Restoration, Vec<WordProbe>), ScorerError> {
        let mut probes = Vec::new();
        let r = self.restore_with(text, scorer, Some(&mut probes))?;
        Ok((r, probes))
    }

    fn restore_with(
        &self,
        text: &str,
        mut scorer: Option<&mut dyn SentenceScorer>,
        probes: Option<&mut Vec<WordProbe>>,
    ) -> Result<Restoration, ScorerError> {
        let toks = tokenize(text);
        let sentences = self.sentences(text, &toks);
        let lex = self.pack.lexicon();
        let lm = self.pack.lm();
        let mut lat = Lattice::new(lex, lm, &self.channel, self.opts.decode.clone())
            .with_cache(&self.candidates);
        let mut clm = CachedLm::new(lm);
        let positions: Vec<Vec<Position>> = sentences
            .iter()
            .map(|s| s.iter().map(|w| w.pos.clone()).collect())
            .collect();
        let mut lattices: Vec<Vec<Vec<Arc>>> = positions
            .iter()
            .map(|p| lat.sentence(p, &mut clm))
            .collect();
        let beam = lat.beam();
        let free: usize = sentences
            .iter()
            .map(|s| {
                s.iter()
                    .filter(|w| w.pos.free && w.pos.id.is_some())
                    .count()
            })
            .sum();
        let words: usize = sentences.iter().map(Vec::len).sum();

        let mut rate = self.opts.initial_rate;
        let mut paths: Vec<Path> = Vec::new();
        // The rate `paths` were decoded at.
        let mut paths_rate = f32::NAN;
        for iter in 0..=self.opts.em_iterations {
            let (lr, lk) = (rate.log10(), (1.0 - rate).log10());
            paths = decode_all(&mut clm, &lattices, &positions, lr, lk, beam);
            paths_rate = rate;
            if iter == self.opts.em_iterations {
                break;
            }
            // Soft counts: hard (Viterbi) counts collapse toward zero, since a low rate makes
            // fewer changes, which make the rate lower still.
            let changed: f32 = positions
                .iter()
                .zip(&lattices)
                .zip(&paths)
                .enumerate()
                .map(|(si, ((pos, l), p))| {
                    clm.focus(Some(si));
                    self.expected_changes(&mut clm, l, pos, p, lr, lk)
                })
                .sum();
            clm.focus(None);
            let (pc, pn) = self.opts.rate_prior;
            let next = ((changed + pc) / (free as f32 + pn)).clamp(0.002, 0.6);
            if (next - rate).abs() < 0.002 {
                rate = next;
                break;
            }
            rate = next;
        }
        // The soft counts see only the substitutions the model can detect; scale the excess over
        // what clean text shows back up to the rate of substitutions made.
        let (gain, floor) = self.opts.rate_calibration;
        let calibrated = (floor.min(rate) + gain * (rate - floor).max(0.0)).clamp(0.002, 0.6);
        if (calibrated - rate).abs() > 0.005 {
            rate = calibrated;
            let (lr, lk) = (rate.log10(), (1.0 - rate).log10());
            paths = decode_all(&mut clm, &lattices, &positions, lr, lk, beam);
            paths_rate = rate;
        }
        let (lr, lk) = (rate.log10(), (1.0 - rate).log10());
        // (sentence, word) → log10 odds that this occurrence was spun, for the words a
        // document-level rule restored: the rule's odds, shared among its occurrences. (The rule
        // left one arc there, so a local posterior would be certainty.)
        let mut ruled: HashMap<(usize, usize), f32> = HashMap::new();
        if self.opts.consistent {
            let rules = self.consistent_rules(&mut clm, &lattices, &positions, &paths, lr, lk);
            if !rules.is_empty() {
                // Sentences no rule touches keep their paths when those were decoded at this
                // rate: decoding is deterministic.
                let mut touched = vec![paths_rate != rate; lattices.len()];
                for (si, ((l, pos), touched)) in lattices
                    .iter_mut()
                    .zip(&positions)
                    .zip(&mut touched)
                    .enumerate()
                {
                    for (i, p) in pos.iter().enumerate() {
                        let Some(&rule) = p.id.filter(|_| p.free).and_then(|s| rules.get(&s))
                        else {
                            continue;
                        };
                        *touched = true;
                        match rule {
                            Some((o, log_odds)) => {
                                if let Some(mut arc) = l[i]
                                    .iter()
                                    .find(|a| a.len == 1 && a.words[..] == [o])
                                    .cloned()
                                {
                                    // The word's spin was paid for once: this occurrence costs
                                    // what keeping it would.
                                    arc.channel = lk - lr;
                                    l[i] = vec![arc];
                                    ruled.insert((si, i), log_odds);
                                }
                            }
                            // Phrases starting here are judged on their own.
                            None => l[i].retain(|a| a.keep || a.len > 1),
                        }
                    }
                }
                paths = positions
                    .iter()
                    .zip(&lattices)
                    .zip(std::mem::take(&mut paths))
                    .zip(touched)
                    .enumerate()
                    .map(|(si, (((pos, l), path), touched))| {
                        if touched {
                            clm.focus(Some(si));
                            decode(&mut clm, l, pos, lr, lk, beam)
                        } else {
                            path
                        }
                    })
                    .collect();
                clm.focus(None);
            }
        }
        // Precise mode: revisit each choice with the sentence-level model.
        let mut precise: HashMap<(usize, usize), Judgement> = HashMap::new();
        if let Some(scorer) = scorer.as_deref_mut() {
            for (si, ((s, path), l)) in sentences
                .iter()
                .zip(paths.iter_mut())
                .zip(&lattices)
                .enumerate()
            {
                for (k, conf) in self.rescore(scorer, text, &toks, s, l, path, lr, lk)? {
                    precise.insert((si, k), conf);
                }
            }
        }
        let mut spans = Vec::new();
        // (sentence, word) → probability that a replacement of more than one word on the path
        // is right, for detection's probes.
        let mut longer: HashMap<(usize, usize), f32> = HashMap::new();
        for (si, ((s, path), l)) in sentences.iter().zip(&paths).zip(&lattices).enumerate() {
            for (k, (i, arc)) in path.arcs.iter().enumerate() {
                if arc.keep {
                    continue;
                }
                let first = &toks[s[*i].tok];
                let last = &toks[s[*i + arc.len - 1].tok];
                let spun = &text[first.start..last.end];
                let case = Case::of(first.text(text));
                let restored = self.render(&arc.words, case);
                let (confidence, alternatives, p_keep) =
                    match (precise.remove(&(si, k)), ruled.get(&(si, *i))) {
                        (Some(c), _) => c,
                        (None, Some(&log_odds)) => {
                            let p = odds_probability(log_odds);
                            let kept = Alternative {
                                text: spun.to_string(),
                                confidence: 1.0 - p,
                            };
                            (p, vec![kept], 1.0 - p)
                        }
                        (None, None) => {
                            self.posterior(&mut clm, l, path, k, text, &toks, s, lr, lk)
                        }
                    };
                if arc.len > 1 || arc.words.len() > 1 {
                    longer.insert((si, *i), 1.0 - p_keep);
                }
                let log_odds = (confidence.max(1e-12) / p_keep.max(1e-12))
                    .log10()
                    .clamp(-MAX_LOG_ODDS, MAX_LOG_ODDS);
                spans.push(Span {
                    start: first.start,
                    end: last.end,
                    spun: spun.to_string(),
                    restored,
                    confidence,
                    alternatives,
                    log_odds,
                    source: "model",
                });
            }
        }
        if let Some(probes) = probes {
            for (si, ((s, path), (l, pos))) in sentences
                .iter()
                .zip(&paths)
                .zip(lattices.iter().zip(&positions))
                .enumerate()
            {
                let known = |i: usize| {
                    (ruled.get(&(si, i)).map(|&lo| odds_probability(lo)))
                        .or_else(|| longer.get(&(si, i)).copied())
                };
                self.probe_sentence(&mut clm, &toks, s, l, pos, path, lr, lk, known, probes);
            }
        }
        fix_articles(text, &toks, &mut spans);
        Ok(Restoration {
            text: splice(text, &spans),
            spans,
            spin_rate: rate,
            words,
            scorer: scorer.map_or_else(|| "trigram".to_string(), |s| s.name().to_string()),
        })
    }

    /// The text of sentence `sent` from word `from` on, with the path's choices applied and the
    /// arc at index `k` replaced by `alt`: the input's own bytes between words, rendered words
    /// where an arc replaces them.
    #[allow(clippy::too_many_arguments)]
    fn render_sentence(
        &self,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        arcs: &[(usize, Arc)],
        from_arc: usize,
        k: usize,
        alt: &Arc,
        close: bool,
    ) -> String {
        let mut out = String::new();
        let mut at = toks[sent[arcs[from_arc].0].tok].start;
        for (j, (i, arc)) in arcs.iter().enumerate().skip(from_arc) {
            let arc = if j == k { alt } else { arc };
            let first = &toks[sent[*i].tok];
            let last = &toks[sent[*i + arc.len - 1].tok];
            out.push_str(&text[at..first.start]);
            if arc.keep {
                out.push_str(&text[first.start..last.end]);
            } else {
                out.push_str(&self.render(&arc.words, Case::of(first.text(text))));
            }
            at = last.end;
        }
        if !close {
            return out;
        }
        // The sentence's closing punctuation, if it directly follows.
        let end = toks
            .iter()
            .skip(sent[sent.len() - 1].tok + 1)
            .take_while(|t| t.kind == TokenKind::Punct)
            .last()
            .map_or(at, |t| t.end);
        out.push_str(&text[at..end.max(at)]);
        out
    }

    /// Precise mode for one sentence: each of the path's positions that have alternatives is
    /// judged by `scorer` plus the channel, its alternatives read in the sentence as the
    /// trigram path has it, so that all positions go to the scorer at once
    /// ([`SentenceScorer::score_groups`]). Returns the confidence and alternatives of every
    /// position it judged, by arc index.
    #[allow(clippy::too_many_arguments)]
    fn rescore(
        &self,
        scorer: &mut dyn SentenceScorer,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        lattice: &[Vec<Arc>],
        path: &mut Path,
        lr: f32,
        lk: f32,
    ) -> Result<Vec<(usize, Judgement)>, ScorerError> {
        if path.arcs.is_empty() {
            return Ok(Vec::new());
        }
        let mut proposals = self.proposals(scorer, text, toks, sent, path)?;
        // Every position's alternatives with the same segmentation: replacements of the same
        // words, and keeping them (first).
        let mut asked: Vec<(usize, Vec<Arc>)> = Vec::new();
        for k in 0..path.arcs.len() {
            let (i, current) = &path.arcs[k];
            let mut alts: Vec<Arc> = vec![keep_arc(sent, *i, current.len)];
            alts.extend(
                lattice[*i]
                    .iter()
                    .filter(|a| !a.keep && a.len == current.len)
                    .cloned(),
            );
            if let Some(extra) = proposals.remove(&k) {
                for a in extra {
                    if !alts.iter().any(|b| b.len == 1 && b.words == a.words) {
                        alts.push(a);
                    }
                }
            }
            if alts.len() >= 2 {
                asked.push((k, alts));
            }
        }
        // Every position in the sentence as the trigram path reads it, in one batch; with
        // `precise_second_sweep`, once more the positions whose left neighbours (up to two arcs
        // back) that sweep changed, in the sentence as it then reads: closer to what going left
        // to right would see.
        let before: Vec<Arc> = path.arcs.iter().map(|(_, a)| a.clone()).collect();
        let mut verdicts: HashMap<usize, Judgement> = HashMap::new();
        let mut sweep: Vec<usize> = (0..asked.len()).collect();
        let rounds = if self.opts.precise_second_sweep { 2 } else { 1 };
        for round in 0..rounds {
            if sweep.is_empty() {
                break;
            }
            let rendered: Vec<(String, Vec<String>)> = sweep
                .iter()
                .map(|&q| self.precise_group(text, toks, sent, path, asked[q].0, &asked[q].1))
                .collect();
            let scored = self.score_rendered(scorer, text, toks, sent, path, &rendered)?;
            for (&q, neural) in sweep.iter().zip(&scored) {
                let (k, alts) = &asked[q];
                let (best, judgement) =
                    self.precise_judgement(text, toks, sent, path, *k, alts, neural, lr, lk);
                path.arcs[*k].1 = alts[best].clone();
                verdicts.insert(*k, judgement);
            }
            if round + 1 < rounds {
                let changed: Vec<bool> = path
                    .arcs
                    .iter()
                    .zip(&before)
                    .map(|((_, a), b)| a.words != b.words || a.keep != b.keep)
                    .collect();
                sweep = (0..asked.len())
                    .filter(|&q| {
                        let k = asked[q].0;
                        (k.saturating_sub(2)..k).any(|j| changed[j])
                    })
                    .collect();
            }
        }
        if self.opts.precise_pairs {
            let won = self.judge_pairs(scorer, text, toks, sent, lattice, path, lr, lk)?;
            Self::take_pairs(path, &mut verdicts, won);
        }
        let mut judged: Vec<(usize, Judgement)> = verdicts.into_iter().collect();
        judged.sort_by_key(|(k, _)| *k);
        Ok(judged)
    }

    /// Precise mode's groups for two neighbouring words the path reads one by one where the
    /// lattice also replaces them together (pair arcs): by the index of the first arc, the path
    /// with both read as one arc, and the alternatives there (keeping both, the path's reading
    /// unless that is keeping both, then every pair arc), with the index of the first pair arc.
    fn pair_groups(
        &self,
        sent: &[WordTok],
        lattice: &[Vec<Arc>],
        path: &Path,
        lr: f32,
        lk: f32,
    ) -> Vec<(usize, Path, Vec<Arc>, usize)> {
        let mut out = Vec::new();
        for k in 0..path.arcs.len().saturating_sub(1) {
            let ((i, a), (j, b)) = (&path.arcs[k], &path.arcs[k + 1]);
            if a.len != 1 || b.len != 1 || *j != i + 1 {
                continue;
            }
            let joint: Vec<&Arc> = lattice[*i]
                .iter()
                .filter(|x| !x.keep && x.len == 2)
                .collect();
            if joint.is_empty() {
                continue;
            }
            let keep = keep_arc(sent, *i, 2);
            let mut alts = vec![keep.clone()];
            let read = if a.keep && b.keep {
                keep
            } else {
                // Its prior is the two arcs' together (`precise_judgement` adds one `lr`).
                let prior = |x: &Arc| if x.keep { lk } else { lr + x.channel };
                let words: Vec<u32> = a.words.iter().chain(b.words.iter()).copied().collect();
                let read = Arc {
                    len: 2,
                    words: Words::from_slice(&words),
                    channel: prior(a) + prior(b) - lr,
                    keep: false,
                };
                alts.push(read.clone());
                read
            };
            let first_pair = alts.len();
            for x in joint {
                if !alts[1..].iter().any(|y| y.words == x.words) {
                    alts.push(x.clone());
                }
            }
            let mut merged = Path {
                arcs: path.arcs.clone(),
                score: path.score,
            };
            merged.arcs[k].1 = read;
            merged.arcs.remove(k + 1);
            out.push((k, merged, alts, first_pair));
        }
        out
    }

    /// Precise mode's verdicts on the pairs of [`Restorer::pair_groups`], in the sentence as the
    /// single positions' verdicts left it (one call to the scorer): the pair arcs that win, by
    /// the index of their first arc.
    #[allow(clippy::too_many_arguments)]
    fn judge_pairs(
        &self,
        scorer: &mut dyn SentenceScorer,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        lattice: &[Vec<Arc>],
        path: &Path,
        lr: f32,
        lk: f32,
    ) -> Result<HashMap<usize, (Arc, Judgement)>, ScorerError> {
        let mut won = HashMap::new();
        let pairs = self.pair_groups(sent, lattice, path, lr, lk);
        if pairs.is_empty() {
            return Ok(won);
        }
        let rendered: Vec<(String, Vec<String>)> = pairs
            .iter()
            .map(|(k, merged, alts, _)| self.precise_group(text, toks, sent, merged, *k, alts))
            .collect();
        let scored = self.score_rendered(scorer, text, toks, sent, path, &rendered)?;
        for ((k, merged, alts, first_pair), neural) in pairs.iter().zip(&scored) {
            let (best, judgement) =
                self.precise_judgement(text, toks, sent, merged, *k, alts, neural, lr, lk);
            if best >= *first_pair {
                won.insert(*k, (alts[best].clone(), judgement));
            }
        }
        Ok(won)
    }

    /// The sentence model's scores of precise mode's groups (prefix and variants, as
    /// `precise_group` renders them) in the sentence as `path` reads it: one call to the
    /// scorer, which must answer every variant.
    fn score_rendered(
        &self,
        scorer: &mut dyn SentenceScorer,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        path: &Path,
        rendered: &[(String, Vec<String>)],
    ) -> Result<Vec<Vec<f32>>, ScorerError> {
        let sentence = self.render_sentence(
            text,
            toks,
            sent,
            &path.arcs,
            0,
            usize::MAX,
            &path.arcs[0].1,
            true,
        );
        let groups: Vec<(&str, Vec<&str>)> = rendered
            .iter()
            .map(|(prefix, variants)| {
                (
                    prefix.as_str(),
                    variants.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        let scored = scorer
            .score_groups(&sentence, &groups, self.opts.precise_window)
            .map_err(ScorerError)?;
        if scored.len() != rendered.len()
            || scored
                .iter()
                .zip(rendered)
                .any(|(s, (_, variants))| s.len() != variants.len())
        {
            return Err(ScorerError(
                "the sentence model scored a different number of variants".into(),
            ));
        }
        Ok(scored)
    }

    /// Puts the pair arcs that won (by the index of their first arc) into the path in place of
    /// the two arcs each covers, left to right, passing over a pair that overlaps one taken; the
    /// verdicts follow their arcs' new indices.
    fn take_pairs(
        path: &mut Path,
        verdicts: &mut HashMap<usize, Judgement>,
        mut won: HashMap<usize, (Arc, Judgement)>,
    ) {
        if won.is_empty() {
            return;
        }
        let mut arcs = Vec::with_capacity(path.arcs.len());
        let mut kept: HashMap<usize, Judgement> = HashMap::new();
        let mut k = 0;
        while k < path.arcs.len() {
            if let Some((arc, judgement)) = won.remove(&k) {
                kept.insert(arcs.len(), judgement);
                arcs.push((path.arcs[k].0, arc));
                k += 2;
                continue;
            }
            if let Some(v) = verdicts.remove(&k) {
                kept.insert(arcs.len(), v);
            }
            arcs.push(path.arcs[k].clone());
            k += 1;
        }
        path.arcs = arcs;
        *verdicts = kept;
    }

    /// The prefix and the variants of precise mode's group at arc `k` (one variant per
    /// alternative, from arc `k` to the sentence's end), with the path's other choices.
    fn precise_group(
        &self,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        path: &Path,
        k: usize,
        alts: &[Arc],
    ) -> (String, Vec<String>) {
        let (i, current) = &path.arcs[k];
        let first = &toks[sent[*i].tok];
        let head = if k == 0 {
            String::new()
        } else {
            self.render_sentence(
                text,
                toks,
                sent,
                &path.arcs[..k],
                0,
                usize::MAX,
                current,
                false,
            )
        };
        let gap_from = if k == 0 {
            first.start
        } else {
            let (pi, pa) = &path.arcs[k - 1];
            toks[sent[*pi + pa.len - 1].tok].end
        };
        let prefix = head + &text[gap_from..first.start];
        let variants = alts
            .iter()
            .map(|a| self.render_sentence(text, toks, sent, &path.arcs, k, k, a, true))
            .collect();
        (prefix, variants)
    }

    /// Precise mode's verdict at arc `k` from the sentence model's scores of its alternatives
    /// (`neural`, natural log) and their channel priors: the best alternative's index, and the
    /// span's confidence, other alternatives and probability of keeping the words.
    #[allow(clippy::too_many_arguments)]
    fn precise_judgement(
        &self,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        path: &Path,
        k: usize,
        alts: &[Arc],
        neural: &[f32],
        lr: f32,
        lk: f32,
    ) -> (usize, Judgement) {
        let i = path.arcs[k].0;
        let first = &toks[sent[i].tok];
        let w = self.opts.precise_channel_weight;
        let lm = self.pack.lm();
        // alts[0] keeps the spun words.
        let spun = &alts[0].words;
        // The decoder discounted `frequency_discount` of each same-length candidate's frequency
        // gap; precise mode's own share replaces it.
        let redisc = match self.opts.precise_frequency_discount {
            Some(d) if !spun.contains(&NONE) && !self.channel.learned(spun) => {
                self.opts.decode.frequency_discount - d
            }
            _ => 0.0,
        };
        let spun_freq: f32 = spun.iter().map(|&s| lm.unigram(s)).sum();
        let scores: Vec<f32> = alts
            .iter()
            .zip(neural)
            .map(|(a, &ln)| {
                let prior = if a.keep {
                    lk * a.len as f32
                } else if redisc != 0.0 && a.words.len() == a.len {
                    let gap = a.words.iter().map(|&o| lm.unigram(o)).sum::<f32>() - spun_freq;
                    lr + a.channel + redisc * gap
                } else {
                    lr + a.channel
                };
                ln / std::f32::consts::LN_10 + w * prior
            })
            .collect();
        let best = (0..alts.len())
            .max_by(|&x, &y| scores[x].total_cmp(&scores[y]).then(y.cmp(&x)))
            .unwrap_or(0);
        let max = scores[best];
        let z: f32 = scores.iter().map(|s| 10f32.powf(s - max)).sum();
        let mut others: Vec<Alternative> = alts
            .iter()
            .zip(&scores)
            .enumerate()
            .filter(|&(j, _)| j != best)
            .map(|(_, (a, s))| Alternative {
                text: if a.keep {
                    text[first.start..toks[sent[i + a.len - 1].tok].end].to_string()
                } else {
                    self.render(&a.words, Case::Lower)
                },
                confidence: 10f32.powf(s - max) / z,
            })
            .collect();
        others.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        others.truncate(self.opts.alternatives);
        // alts[0] keeps the spun words.
        let p_keep = 10f32.powf(scores[0] - max) / z;
        (best, (1.0 / z, others, p_keep))
    }

    /// Precise mode's own candidates: at each free content word of the path, the words the
    /// sentence model expects there (one forward pass over the sentence as the path reads),
    /// kept when related to the observed word through the thesauri, one or two steps away. By
    /// arc index; positions where the observed word is among the model's likeliest get none.
    fn proposals(
        &self,
        scorer: &mut dyn SentenceScorer,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        path: &Path,
    ) -> Result<HashMap<usize, Vec<Arc>>, ScorerError> {
        let mut out = HashMap::new();
        let k = self.opts.precise_proposals;
        if k == 0 {
            return Ok(out);
        }
        let lex = self.pack.lexicon();
        let lm = self.pack.lm();
        let asked: Vec<usize> = (0..path.arcs.len())
            .filter(|&j| {
                let (i, a) = &path.arcs[j];
                let p = &sent[*i].pos;
                a.len == 1
                    && p.free
                    && p.id
                        .is_some_and(|w| w < lex.n_words() && !lex.is_function(w))
            })
            .collect();
        if asked.is_empty() {
            return Ok(out);
        }
        let keep = Arc {
            len: 0,
            words: Words::from_slice(&[]),
            channel: 0.0,
            keep: true,
        };
        let sentence =
            self.render_sentence(text, toks, sent, &path.arcs, 0, usize::MAX, &keep, true);
        let sentence_start = toks[sent[path.arcs[0].0].tok].start;
        let offsets: Vec<usize> = asked
            .iter()
            .map(|&j| {
                let head = match j {
                    0 => String::new(),
                    _ => self.render_sentence(
                        text,
                        toks,
                        sent,
                        &path.arcs[..j],
                        0,
                        usize::MAX,
                        &keep,
                        false,
                    ),
                };
                let gap_from = match j {
                    0 => sentence_start,
                    _ => {
                        let (pi, pa) = &path.arcs[j - 1];
                        toks[sent[*pi + pa.len - 1].tok].end
                    }
                };
                head.len() + toks[sent[path.arcs[j].0].tok].start - gap_from
            })
            .collect();
        let predicted = scorer
            .next_words(&sentence, &offsets, k)
            .map_err(ScorerError)?;
        for (&j, expected) in asked.iter().zip(&predicted) {
            let s = sent[path.arcs[j].0]
                .pos
                .id
                .expect("asked only for known words");
            // Only words the model finds far likelier than the one that is there: where the text
            // reads as expected, nothing is proposed (and nothing is paid for).
            let floor = expected.observed + self.opts.precise_margin;
            let ids: Vec<u32> = expected
                .words
                .iter()
                .take_while(|(_, lp)| *lp >= floor)
                .filter_map(|(w, _)| lex.word_id(w))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let arcs: Vec<Arc> = crate::decode::related_originals(
                &lex,
                &lm,
                &self.channel,
                s,
                &ids,
                self.opts.precise_two_hop,
                self.opts.decode.frequency_discount,
            )
            .into_iter()
            .map(|(w, channel)| Arc {
                len: 1,
                words: Words::from_slice(&[w]),
                channel,
                keep: false,
            })
            .collect();
            if !arcs.is_empty() {
                out.insert(j, arcs);
            }
        }
        Ok(out)
    }

    /// Expected number of replaced words on a path: for each one-word arc, the local posterior
    /// that the word was replaced (its neighbours on the path held fixed).
    /// For each one-word arc of `path` at a free word: its position, the LM score of keeping
    /// the word, and (arc index, LM score) of each one-word replacement, all with the path's
    /// words around it held fixed.
    fn local_one_word(
        &self,
        lm: &mut CachedLm<'_>,
        lattice: &[Vec<Arc>],
        pos: &[Position],
        path: &Path,
    ) -> Vec<LocalScores> {
        let bos = lm.lm.bos;
        let out: Vec<u32> = path
            .arcs
            .iter()
            .flat_map(|(_, a)| a.words.iter().copied())
            .collect();
        let mut res = Vec::new();
        let mut at_out = 0;
        for (i, arc) in &path.arcs {
            let here = at_out;
            at_out += arc.words.len();
            if arc.len > 1 || arc.words.len() > 1 || !pos[*i].free || pos[*i].id.is_none() {
                continue;
            }
            let h1 = if here >= 2 {
                out[here - 2]
            } else if here == 1 {
                bos
            } else {
                NONE
            };
            let h2 = if here >= 1 { out[here - 1] } else { bos };
            let right = &out[at_out..(at_out + 2).min(out.len())];
            let mut keep = f32::NEG_INFINITY;
            let mut alts = Vec::new();
            for (j, a) in lattice[*i].iter().enumerate() {
                if a.len != 1 || a.words.len() != 1 {
                    continue;
                }
                let (buf, n) = a.words.then(right);
                let s = lm.sequence(h1, h2, &buf[..n]).0;
                if a.keep {
                    keep = s;
                } else {
                    alts.push((j, s));
                }
            }
            if keep.is_finite() && !alts.is_empty() {
                res.push(LocalScores { i: *i, keep, alts });
            }
        }
        res
    }

    /// Expected number of replaced words on a path: for each one-word arc, the local posterior
    /// that the word was replaced (its neighbours on the path held fixed); longer replacements
    /// count fully.
    fn expected_changes(
        &self,
        lm: &mut CachedLm<'_>,
        lattice: &[Vec<Arc>],
        pos: &[Position],
        path: &Path,
        lr: f32,
        lk: f32,
    ) -> f32 {
        let mut total: f32 = path
            .arcs
            .iter()
            .filter(|(_, a)| !a.keep && (a.len > 1 || a.words.len() > 1))
            .map(|(_, a)| a.len as f32)
            .sum();
        for l in self.local_one_word(lm, lattice, pos, path) {
            let keep = l.keep + lk;
            let scores: Vec<f32> = l
                .alts
                .iter()
                .map(|&(j, s)| s + lr + lattice[l.i][j].channel)
                .collect();
            let max = scores.iter().copied().fold(keep, f32::max);
            let z: f32 =
                10f32.powf(keep - max) + scores.iter().map(|s| 10f32.powf(s - max)).sum::<f32>();
            total += 1.0 - 10f32.powf(keep - max) / z;
        }
        total
    }

    /// Document-level rules for a consistent spinner: a spinner decides once per word how to
    /// spin it, so for a word that occurs several times the spin prior is paid once while the
    /// language model's evidence adds up over the occurrences. Returns spun word → original.
    fn consistent_rules(
        &self,
        lm: &mut CachedLm<'_>,
        lattices: &[Vec<Vec<Arc>>],
        positions: &[Vec<Position>],
        paths: &[Path],
        lr: f32,
        lk: f32,
    ) -> HashMap<u32, Option<(u32, f32)>> {
        // spun word → (occurrences, original → (sum of LM gains, channel, occurrences seen));
        // a word that recurs and earns no rule is kept everywhere (`None`).
        let mut by_type: HashMap<u32, (usize, HashMap<u32, Evidence>)> = HashMap::new();
        for ((l, pos), path) in lattices.iter().zip(positions).zip(paths) {
            for ls in self.local_one_word(lm, l, pos, path) {
                let Some(s) = pos[ls.i].id else { continue };
                let e = by_type.entry(s).or_default();
                e.0 += 1;
                for &(j, sc) in &ls.alts {
                    let arc = &l[ls.i][j];
                    let o = e.1.entry(arc.words[0]).or_insert((0.0, arc.channel, 0));
                    // Judge fit to context more than frequency: summed over occurrences, the
                    // LM's standing preference for the commoner word would otherwise win every
                    // time. The share discounted is the decoder's, so that a rule and the
                    // occurrences it decides weigh frequency alike (against discounting all of
                    // it, `eval restore --docs 44`: same 0.080 → 0.083, clean changes 0.480 % →
                    // 0.468 %; BENCHMARKS.md).
                    let freq_gap = lm.lm.unigram(arc.words[0]) - lm.lm.unigram(s);
                    o.0 += sc - ls.keep - self.opts.decode.frequency_discount * freq_gap;
                    o.2 += 1;
                }
            }
        }
        let margin = self.opts.decode.prune_margin;
        let mut rules = HashMap::new();
        for (s, (n, cands)) in by_type {
            // A word the channel has learned is a spinner's output is judged occurrence by
            // occurrence: the profile's evidence is already in its channel.
            if n < 2 || self.channel.learned(&[s]) {
                continue;
            }
            rules.insert(s, None);
            let best = cands
                .into_iter()
                .map(|(o, (gain, ch, seen))| {
                    // Occurrences where the candidate was pruned were hopeless for it.
                    let missing = (n - seen) as f32 * margin;
                    (o, gain - missing + ch + lr - lk)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            if let Some((o, score)) = best {
                if score > self.opts.consistency_threshold {
                    // The odds are the document's; each occurrence carries its share, so a
                    // term a text repeats twenty times does not count as twenty findings.
                    rules.insert(s, Some((o, score / n as f32)));
                }
            }
        }
        rules
    }

    fn render(&self, words: &[u32], case: Case) -> String {
        let lex = self.pack.lexicon();
        let mut s = String::new();
        for (i, &w) in words.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            let t = if w == NONE { "" } else { lex.word(w) };
            let c = match case {
                Case::Title if i > 0 => Case::Lower,
                c => c,
            };
            s.push_str(&c.apply(t));
        }
        s
    }

    /// Local posterior of the arc chosen at `path.arcs[k]` against the other arcs covering the
    /// same words, each scored with the path's words around it.
    #[allow(clippy::too_many_arguments)]
    fn posterior(
        &self,
        lm: &mut CachedLm<'_>,
        lattice: &[Vec<Arc>],
        path: &Path,
        k: usize,
        text: &str,
        toks: &[Token],
        sent: &[WordTok],
        lr: f32,
        lk: f32,
    ) -> Judgement {
        let (i, chosen) = &path.arcs[k];
        let mut left: Vec<u32> = vec![lm.lm.bos];
        for (_, a) in &path.arcs[..k] {
            left.extend_from_slice(&a.words);
        }
        let h = (
            left.len().checked_sub(2).map_or(NONE, |j| left[j]),
            *left.last().unwrap_or(&NONE),
        );
        let mut right: Vec<u32> = Vec::new();
        for (_, a) in &path.arcs[k + 1..] {
            right.extend_from_slice(&a.words);
            if right.len() >= 2 {
                break;
            }
        }
        right.truncate(2);
        let mut score = |arc: &Arc| {
            let mut ws = arc.words.to_vec();
            ws.extend_from_slice(&right);
            let (s, _, _) = lm.sequence(h.0, h.1, &ws);
            s + if arc.keep { lk } else { lr + arc.channel }
        };
        let mut cands: Vec<(f32, String, bool)> = Vec::new();
        for arc in &lattice[*i] {
            if arc.len != chosen.len && !arc.keep {
                continue;
            }
            let s = score(arc);
            let t = if arc.keep {
                let first = &toks[sent[*i].tok];
                let last = &toks[sent[*i + chosen.len - 1].tok];
                text[first.start..last.end].to_string()
            } else {
                self.render(&arc.words, Case::Lower)
            };
            if arc.keep && chosen.len > 1 {
                // Keeping a multi-word span: score all its words kept.
                let keep = keep_arc(sent, *i, chosen.len);
                cands.push((score(&keep) + lk * (chosen.len as f32 - 1.0), t, true));
            } else {
                cands.push((s, t, arc.keep));
            }
        }
        let chosen_text = self.render(&chosen.words, Case::Lower);
        let max = cands.iter().map(|c| c.0).fold(f32::NEG_INFINITY, f32::max);
        let z: f32 = cands.iter().map(|c| 10f32.powf(c.0 - max)).sum();
        let mut probs: Vec<(f32, String, bool)> = cands
            .into_iter()
            .map(|(s, t, keep)| (10f32.powf(s - max) / z, t, keep))
            .collect();
        probs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let p_keep: f32 = probs.iter().filter(|c| c.2).map(|c| c.0).sum();
        let mut conf = 0.0;
        let mut alts = Vec::new();
        for (p, t, _) in probs {
            if t.to_lowercase() == chosen_text {
                conf += p;
            } else if alts.len() < self.opts.alternatives
                && !alts.iter().any(|a: &Alternative| a.text == t)
            {
                alts.push(Alternative {
                    text: t,
                    confidence: p,
                });
            }
        }
        (conf.clamp(0.0, 1.0), alts, p_keep.clamp(0.0, 1.0))
    }

    /// Appends a [`WordProbe`] for each free word of one decoded sentence.
    #[allow(clippy::too_many_arguments)]
    fn probe_sentence(
        &self,
        lm: &mut CachedLm<'_>,
        toks: &[Token],
        sent: &[WordTok],
        lattice: &[Vec<Arc>],
        pos: &[Position],
        path: &Path,
        lr: f32,
        lk: f32,
        known: impl Fn(usize) -> Option<f32>,
        out: &mut Vec<WordProbe>,
    ) {
        let mut p_spun = vec![0f32; sent.len()];
        // Longer replacements on the path count with their span's posterior (`known`), and so do
        // words a rule restored: the rule left them no keep arc, so they have no local
        // posterior. Other one-word choices get their local posterior.
        for (i, a) in &path.arcs {
            if a.keep {
                continue;
            }
            if a.len > 1 || a.words.len() > 1 {
                let p_changed = known(*i).unwrap_or(1.0);
                p_spun[*i..*i + a.len].fill(p_changed);
            } else if let Some(p) = known(*i) {
                p_spun[*i] = p;
            }
        }
        for l in self.local_one_word(lm, lattice, pos, path) {
            let keep = l.keep + lk;
            let max = l
                .alts
                .iter()
                .map(|&(j, s)| s + lr + lattice[l.i][j].channel)
                .fold(keep, f32::max);
            let z: f32 = 10f32.powf(keep - max)
                + l.alts
                    .iter()
                    .map(|&(j, s)| 10f32.powf(s + lr + lattice[l.i][j].channel - max))
                    .sum::<f32>();
            p_spun[l.i] = 1.0 - 10f32.powf(keep - max) / z;
        }
        self.fit_sentence(lm.lm, toks, sent, &p_spun, out);
    }

    /// Appends a [`WordProbe`] for each free word of a sentence, with `p_spun[i]` as the
    /// posterior of word `i` (zeros when only the language model's view is wanted).
    fn fit_sentence(
        &self,
        lm: Lm<'_>,
        toks: &[Token],
        sent: &[WordTok],
        p_spun: &[f32],
        out: &mut Vec<WordProbe>,
    ) {
        let lex = self.pack.lexicon();
        let n = lm.n_words();
        let (mut h1, mut h2) = (NONE, lm.bos);
        for (i, w) in sent.iter().enumerate() {
            let id = w.pos.id.filter(|&id| id < n);
            if w.pos.free {
                let content = id.filter(|&id| !lex.is_function(id));
                let fit = content.map(|id| lm.score(h1, h2, id) - lm.unigram(id));
                let next = sent.get(i + 1).and_then(|x| x.pos.id).filter(|&x| x < n);
                let right_fit = content
                    .zip(next)
                    .map(|(id, x)| lm.score(h2, id, x) - lm.unigram(x));
                let t = &toks[w.tok];
                out.push(WordProbe {
                    start: t.start,
                    end: t.end,
                    p_spun: p_spun.get(i).copied().unwrap_or(0.0).clamp(0.0, 1.0),
                    fit,
                    right_fit,
                    logfreq: content.map(|id| lm.unigram(id)),
                });
            }
            h1 = h2;
            h2 = id.unwrap_or(NONE);
        }
    }

    /// The language model's view of every free word of `text`, without the lattice: how well
    /// each fits its context. A fraction of the cost of [`Restorer::probe`], for screening.
    /// Also returns the number of words, counted as [`Restoration::words`] counts them.
    pub(crate) fn screen(&self, text: &str) -> (Vec<WordProbe>, usize) {
        let toks = tokenize(text);
        let lm = self.pack.lm();
        let mut out = Vec::new();
        let mut words = 0;
        for s in self.sentences(text, &toks) {
            words += s.len();
            self.fit_sentence(lm, &toks, &s, &[], &mut out);
        }
        (out, words)
    }

    /// Splits the token stream into sentences of words, marking which words may change.
    fn sentences(&self, text: &str, toks: &[Token]) -> Vec<Vec<WordTok>> {
        let lex = self.pack.lexicon();
        let mut out: Vec<Vec<WordTok>> = Vec::new();
        let mut cur: Vec<WordTok> = Vec::new();
        let mut start_of_sentence = true;
        for (ti, t) in toks.iter().enumerate() {
            let s = t.text(text);
            match t.kind {
                TokenKind::Word | TokenKind::Number => {
                    let norm = normalize(s);
                    let id = if t.kind == TokenKind::Word {
                        lex.word_id(&norm)
                    } else {
                        None
                    };
                    let case = Case::of(s);
                    let name_like = match case {
                        Case::Lower => false,
                        Case::Title => !start_of_sentence,
                        Case::Upper => s.chars().count() < 4,
                        Case::Mixed => true,
                    };
                    let prev = ti.checked_sub(1).map(|j| &toks[j]);
                    let next = toks.get(ti + 1);
                    let in_compound = |o: Option<&Token>| {
                        o.is_some_and(|o| {
                            o.kind == TokenKind::Punct
                                && matches!(o.text(text), "-" | "/" | "@" | "_" | "&")
                        })
                    };
                    let free = t.kind == TokenKind::Word
                        && !name_like
                        && !in_compound(prev)
                        && !in_compound(next)
                        && !norm.contains('\'');
                    let joins_next =
                        next.is_some_and(|n| n.kind == TokenKind::Space && n.text(text) == " ");
                    cur.push(WordTok {
                        tok: ti,
                        pos: Position {
                            id,
                            free,
                            joins_next,
                        },
                    });
                    start_of_sentence = false;
                }
                TokenKind::Punct => {
                    if let Some(w) = cur.last_mut() {
                        w.pos.joins_next = false;
                    }
                    if matches!(s, "." | "!" | "?" | ";" | ":" | "…") {
                        if !cur.is_empty() {
                            out.push(std::mem::take(&mut cur));
                        }
                        start_of_sentence = true;
                    } else if matches!(s, "\"" | "“" | "‘" | "(" | "[") {
                        start_of_sentence |= cur.is_empty();
                    }
                }
                TokenKind::Space => {
                    if s.contains('\n') {
                        if let Some(w) = cur.last_mut() {
                            w.pos.joins_next = false;
                        }
                        if s.matches('\n').count() >= 2 && !cur.is_empty() {
                            out.push(std::mem::take(&mut cur));
                            start_of_sentence = true;
                        }
                    }
                }
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}

/// Decodes every sentence of a text.
fn decode_all(
    lm: &mut CachedLm<'_>,
    lattices: &[Vec<Vec<Arc>>],
    positions: &[Vec<Position>],
    lr: f32,
    lk: f32,
    beam: usize,
) -> Vec<Path> {
    let paths = positions
        .iter()
        .zip(lattices)
        .enumerate()
        .map(|(si, (pos, l))| {
            lm.focus(Some(si));
            decode(lm, l, pos, lr, lk, beam)
        })
        .collect();
    lm.focus(None);
    paths
}

/// Whether `word` is spoken with a vowel first, for "a" or "an" before it. Spelling decides,
/// with the common exceptions ("an hour", "a university", "a one-off").
fn vowel_sound(word: &str) -> bool {
    let w = word.to_lowercase();
    const SILENT_H: &[&str] = &["hour", "honest", "honor", "honour", "heir"];
    const YOO: &[&str] = &["uni", "use", "usu", "uti", "eu", "ewe", "one", "once", "ur"];
    if SILENT_H.iter().any(|p| w.starts_with(p)) {
        return true;
    }
    if YOO.iter().any(|p| w.starts_with(p)) {
        return false;
    }
    w.starts_with(['a', 'e', 'i', 'o', 'u'])
}

/// The arc that keeps words `i..i + len` of a sentence as they are.
fn keep_arc(sent: &[WordTok], i: usize, len: usize) -> Arc {
    let ids: Vec<u32> = sent[i..i + len]
        .iter()
        .map(|w| w.pos.id.unwrap_or(NONE))
        .collect();
    Arc {
        len,
        words: Words::from_slice(&ids),
        channel: 0.0,
        keep: true,
    }
}

/// When a restored span follows "a" or "an" and starts with the other kind of sound, the article
/// joins the span and is corrected ("an gaggle" never appears: "a gaggle" → "a group",
/// "a event" → "an event").
fn fix_articles(text: &str, toks: &[Token], spans: &mut [Span]) {
    let mut prev_end = 0;
    for sp in spans.iter_mut() {
        let floor = std::mem::replace(&mut prev_end, sp.end);
        let Ok(k) = toks.binary_search_by_key(&sp.start, |t| t.start) else {
            continue;
        };
        let (Some(space), Some(article)) = (
            k.checked_sub(1).map(|j| &toks[j]),
            k.checked_sub(2).map(|j| &toks[j]),
        ) else {
            continue;
        };
        // The article must not belong to the previous span.
        if space.kind != TokenKind::Space
            || article.kind != TokenKind::Word
            || article.start < floor
        {
            continue;
        }
        let a = article.text(text);
        let wanted_an = vowel_sound(&sp.restored);
        let fixed = match (a, wanted_an) {
            ("a", true) => "an",
            ("A", true) => "An",
            ("an", false) => "a",
            ("An", false) => "A",
            _ => continue,
        };
        sp.restored = format!("{fixed}{}{}", space.text(text), sp.restored);
        sp.spun = text[article.start..sp.end].to_string();
        sp.start = article.start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, word: &str, restored: &str) -> Span {
        let start = text.find(word).unwrap();
        Span {
            start,
            end: start + word.len(),
            spun: word.into(),
            restored: restored.into(),
            confidence: 1.0,
            alternatives: Vec::new(),
            log_odds: 1.0,
            source: "model",
        }
    }

    #[test]
    fn articles_follow_the_restored_word() {
        let text = "It was an enormous crowd. A hour later, a university.";
        let toks = tokenize(text);
        let mut spans = vec![
            span(text, "enormous", "big"),
            span(text, "university", "college"),
        ];
        fix_articles(text, &toks, &mut spans);
        assert_eq!(spans[0].spun, "an enormous");
        assert_eq!(spans[0].restored, "a big");
        assert_eq!(&text[spans[0].start..spans[0].end], "an enormous");
        assert_eq!(spans[1].restored, "college", "a → a: nothing to fix");
        assert!(
            vowel_sound("hour")
                && vowel_sound("event")
                && !vowel_sound("university")
                && !vowel_sound("group")
        );
    }
}
