//! Detecting spun text: a score in [0, 1] for a document and for each of its paragraphs, with
//! the evidence behind it.
//!
//! Detection reads the same lattice as restoration. For every free word (not a name, number or
//! compound part) the restorer gives the posterior probability that the word was replaced, and
//! the language model says how much better the word fits its context than its frequency alone
//! predicts. A spinner leaves both marks: words whose likely original is far more fluent, and
//! words that fit their neighbours worse than natural text does. The [`Features`] of a stretch
//! of text summarise them, and a logistic model turns them into a score calibrated so that 0.5
//! is a sensible threshold. Its weights were fitted on Brown genres other than the press texts
//! the evaluation uses (`cargo run --release --example calibrate_detect`).
//!
//! ```no_run
//! use unspin::{detect::Detector, Pack};
//! let pack = Pack::open("models/default.unspin".as_ref())?;
//! let d = Detector::new(&pack).detect("Six Russian troopers who fled the warfare");
//! println!("score {:.2}", d.score);
//! for e in &d.spans {
//!     println!("{} → {} (odds 10^{:.1})", e.spun, e.original, e.log_odds);
//! }
//! # Ok::<(), unspin::PackError>(())
//! ```

use serde::Serialize;

use crate::decode::{Channel, GenericChannel};
use crate::restore::{
    Alternative, RestoreOptions, Restorer, ScorerError, SentenceScorer, WordProbe,
};
use crate::Pack;

/// One piece of evidence: a span that looks spun, and what it likely replaced.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Evidence {
    /// Byte offset of the span's first byte in the input.
    pub start: usize,
    /// Byte offset one past its last byte.
    pub end: usize,
    /// The input text of the span.
    pub spun: String,
    /// The likely original.
    pub original: String,
    /// Posterior probability of `original` among the span's candidates.
    pub confidence: f32,
    /// Log10 of how much more probable the original is than the spun text here.
    pub log_odds: f32,
    /// Other candidates, most probable first.
    pub alternatives: Vec<Alternative>,
}

/// The score of one paragraph (a stretch of text between blank lines).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Paragraph {
    /// Byte offset of the paragraph's first byte.
    pub start: usize,
    /// Byte offset one past its last byte.
    pub end: usize,
    /// Probability that the paragraph was spun, in [0, 1], given its own evidence and, the
    /// shorter it is the more, its document's ([`DetectOptions::document_prior`],
    /// [`DetectOptions::document_words`]).
    pub score: f32,
    /// Probability that the paragraph was spun judged on its own evidence alone, in [0, 1]:
    /// what tells the spun paragraphs of a partly spun copy from its untouched ones.
    pub own_score: f32,
    /// Words the restorer could judge (free words).
    pub words: usize,
    /// Evidence spans inside the paragraph.
    pub spans: usize,
    /// What the score was computed from.
    #[serde(skip)]
    pub features: Features,
}

/// What the score of a stretch of text is computed from.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Features {
    /// Free words: those a spinner could have replaced.
    pub words: usize,
    /// Mean posterior probability that a free word was replaced.
    pub spun_share: f32,
    /// Summed positive log-odds of the evidence spans, per free word.
    pub evidence: f32,
    /// Mean contextual fit of the content words (log10 P(word | context) − log10 P(word)).
    pub fit: f32,
    /// Share of content words that fit their context worse than their frequency predicts.
    pub misfit_share: f32,
    /// Mean of how much a content word helps predict the next word (log10 ratio).
    pub right_fit: f32,
    /// Share of content words at least ten times less likely in context than by frequency.
    pub strong_misfit_share: f32,
    /// Mean log10 unigram probability of the content words.
    pub logfreq: f32,
}

/// Number of features in [`Features::vector`].
pub const N_FEATURES: usize = 7;

impl Features {
    /// The features as a vector, in the order of [`Model::weights`].
    pub fn vector(&self) -> [f32; N_FEATURES] {
        [
            self.spun_share,
            self.evidence,
            self.fit,
            self.misfit_share,
            self.right_fit,
            self.strong_misfit_share,
            self.logfreq,
        ]
    }
}

/// A logistic model over [`Features`]: score = σ(bias + weights · features), with the evidence
/// of short texts shrunk toward a prior (a paragraph of ten words is weak evidence).
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Intercept.
    pub bias: f32,
    /// One weight per feature of [`Features::vector`].
    pub weights: [f32; N_FEATURES],
    /// Free words at which the features count half and the prior the other half.
    pub half_words: f32,
    /// Log-odds of spun for a text with no words to judge.
    pub prior: f32,
}

impl Default for Model {
    fn default() -> Self {
        // Fitted on documents by `cargo run --release --example calibrate_detect --
        // target/sources/brown 10 10 0.003` on the first ten texts of Brown genres b–r (not
        // the press texts the evaluation uses), clean against spun at rates 0.05–0.5 by all
        // four spinner configurations, clean texts weighted ten times, then each model's bias
        // lowered until at most 0.3 % of its clean examples are flagged (the paragraph and
        // short models needed it: fitted on five texts a genre, they flagged 2–7 % of clean
        // paragraphs of learned and hobby writing; with a 0.5 % cap, 4.6 % of held-out learned
        // paragraphs). The content words' mean frequency gets no weight: which way spinning
        // moves it depends on the spinner.
        Model {
            bias: -6.435,
            weights: [16.40, 9.542, -1.498, 7.571, -4.425, 71.71, 0.0],
            half_words: 20.0,
            prior: -4.0,
        }
    }
}

impl Model {
    /// The paragraph model (see [`DetectOptions::paragraph_model`]), fitted by the same command
    /// as the default but on paragraphs and documents together and without regularisation (it
    /// ranked Brown press paragraphs better than a model fitted on paragraphs alone).
    pub fn paragraph() -> Model {
        Model {
            bias: -3.008,
            weights: [48.26, 22.79, -2.917, -0.01084, -3.593, 11.66, 0.0],
            half_words: 20.0,
            prior: -4.0,
        }
    }

    /// The model for short texts judged alone (a paragraph pasted on its own), fitted by the
    /// same command on Brown paragraphs each restored and scored as a text of its own. A
    /// paragraph's spin rate is estimated from its own few words, and the document model, which
    /// never saw that, flags 7 % of clean paragraphs so judged (BENCHMARKS.md, "Detection").
    pub fn short() -> Model {
        Model {
            bias: -2.698,
            weights: [17.82, 11.67, -2.591, 1.848, -2.785, 10.67, 0.0],
            half_words: 20.0,
            prior: -4.0,
        }
    }

    /// The screening model: the language-model features alone, for the cheap first pass that
    /// lets clean text skip the lattice (see [`DetectOptions::screen_below`]).
    pub fn screen() -> Model {
        Model {
            bias: -1.861,
            weights: [0.0, 0.0, -2.765, 3.751, -2.725, 15.36, 0.0],
            half_words: 20.0,
            prior: -4.0,
        }
    }

    /// The linear predictor (log-odds of spun) before shrinkage.
    pub fn logit(&self, f: &Features) -> f32 {
        self.bias
            + self
                .weights
                .iter()
                .zip(f.vector())
                .map(|(w, x)| w * x)
                .sum::<f32>()
    }

    /// The log-odds of spun, the text's own evidence shrunk toward the prior by its length.
    pub fn shrunk_logit(&self, f: &Features) -> f32 {
        let n = f.words as f32;
        let reliability = n / (n + self.half_words);
        // A short text scores near the prior instead of at an extreme.
        self.prior * (1.0 - reliability) + self.logit(f) * reliability
    }

    /// Probability that a text with these features was spun, in [0, 1].
    pub fn score(&self, f: &Features) -> f32 {
        probability(self.shrunk_logit(f))
    }
}

/// Detection settings.
#[derive(Clone, Debug)]
pub struct DetectOptions {
    /// Score at or above which a text counts as spun.
    pub threshold: f32,
    /// Log10 odds an evidence span needs to be reported.
    pub min_log_odds: f32,
    /// Restorer settings (the lattice and the decoder).
    pub restore: RestoreOptions,
    /// The score model for whole texts.
    pub model: Model,
    /// The score model for paragraphs (fitted on paragraphs, which are short).
    pub paragraph_model: Model,
    /// The score model for short texts judged alone (see [`Model::short`]).
    pub short_model: Model,
    /// Free words at which a text's score takes the document model and the short-text model
    /// alike; the shorter a text the more the short-text model counts (0: the document model
    /// alone). See [`DetectOptions::text_logit`].
    pub short_words: f32,
    /// The screening model, on the language model's features alone.
    pub screen: Model,
    /// A text whose screening score is below this skips the lattice: it gets the screening
    /// score and no evidence spans (0: always run the lattice).
    pub screen_below: f32,
    /// A paragraph's evidence is shrunk toward its document's log-odds, clamped to ± this,
    /// instead of toward the paragraph model's fixed prior (0: the fixed prior). A short
    /// paragraph then takes its document's view, and a long one its own.
    pub document_prior: f32,
    /// Free words at which a paragraph's own evidence and its document's log-odds count alike
    /// in its `score` (0: the paragraph model's `half_words`, as for `own_score`). Larger than
    /// that: a paragraph of a few dozen words says less about itself than the document it sits
    /// in says about it.
    pub document_words: f32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            threshold: 0.5,
            min_log_odds: 0.0,
            restore: RestoreOptions::default(),
            model: Model::default(),
            paragraph_model: Model::paragraph(),
            short_model: Model::short(),
            // Brown paragraphs have 20–60 free words and documents near a thousand: either
            // model then speaks almost alone for the texts it was fitted on.
            short_words: 150.0,
            screen: Model::screen(),
            // Off by default: screening costs ranking at low spin rates (document AUC at rate
            // 0.05 fell from 0.98 to 0.89 on Brown press texts with a cut at 0.05).
            screen_below: 0.0,
            // Measured on Brown press texts (BENCHMARKS.md, "Detection"): paragraph AUC at
            // rate 0.1 from 0.77–0.93 to 0.96–0.99; within partly spun documents the own score
            // ranks paragraphs better, and `Paragraph::own_score` keeps it.
            document_prior: 6.0,
            // Measured on Brown (BENCHMARKS.md, "Detection", "Paragraphs lean on their
            // document"): 20, the paragraph model's own, flagged 1.0–3.0 % of the clean
            // paragraphs of seven genres of twelve; 40, three, and paragraph AUC at rate 0.1
            // rose in every genre and configuration, at a cost of 0.01–0.03 in ranking the
            // paragraphs of partly spun documents, where `own_score` ranks better anyway.
            document_words: 40.0,
        }
    }
}

/// The probability a log-odds stands for: σ(logit), in [0, 1].
pub fn probability(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit).exp())
}

impl DetectOptions {
    /// The log-odds that a text judged alone, with features `f`, was spun: the document model's
    /// and the short-text model's, weighted n² : short_words² by the text's n free words.
    pub fn text_logit(&self, f: &Features) -> f32 {
        let long = self.model.shrunk_logit(f);
        if self.short_words <= 0.0 {
            return long;
        }
        let n2 = (f.words as f32).powi(2);
        let w = n2 / (n2 + self.short_words * self.short_words);
        w * long + (1.0 - w) * self.short_model.shrunk_logit(f)
    }
}

/// The result of detecting spinning in a text.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Detection {
    /// Probability that the text was spun, in [0, 1].
    pub score: f32,
    /// Whether `score` reaches the threshold.
    pub flagged: bool,
    /// Evidence spans, in input order.
    pub spans: Vec<Evidence>,
    /// Scores per paragraph, in input order.
    pub paragraphs: Vec<Paragraph>,
    /// The document's spin rate as the restorer estimates it.
    pub spin_rate: f32,
    /// Number of words in the input.
    pub words: usize,
    /// What the score was computed from.
    pub features: Features,
    /// Which model chose the likely originals ("trigram").
    pub scorer: String,
    /// How far the analysis went: "screen" (the language model's features alone, for text
    /// that screened clean) or "lattice" (the restorer's full analysis).
    pub stage: &'static str,
}

/// Detects spinning with a pack and a channel.
pub struct Detector<'p, C: Channel = GenericChannel> {
    restorer: Restorer<'p, C>,
    opts: DetectOptions,
}

impl<'p> Detector<'p, GenericChannel> {
    /// A detector with the generic channel and default options.
    pub fn new(pack: &'p Pack) -> Self {
        let opts = DetectOptions::default();
        Detector {
            restorer: Restorer::with_channel(pack, GenericChannel::default(), opts.restore.clone()),
            opts,
        }
    }
}

impl<'p, C: Channel> Detector<'p, C> {
    /// A detector with a given channel and options.
    pub fn with_channel(pack: &'p Pack, channel: C, opts: DetectOptions) -> Self {
        Detector {
            restorer: Restorer::with_channel(pack, channel, opts.restore.clone()),
            opts,
        }
    }

    /// The options in use.
    pub fn options(&self) -> &DetectOptions {
        &self.opts
    }

    /// Scores `text`. Never fails: clean text gets a low score and no evidence.
    pub fn detect(&self, text: &str) -> Detection {
        self.detect_with(text, None)
            .unwrap_or_else(|e| unreachable!("only a sentence scorer can fail: {e}"))
    }

    /// Scores `text` in precise mode: the restorer's choices, and so the evidence and its odds,
    /// come from a model that reads whole sentences (see [`SentenceScorer`]).
    ///
    /// # Errors
    /// Whatever the scorer reports; never a silent fall-back to the trigram.
    pub fn detect_precise(
        &self,
        text: &str,
        scorer: &mut dyn SentenceScorer,
    ) -> Result<Detection, ScorerError> {
        self.detect_with(text, Some(scorer))
    }

    fn detect_with(
        &self,
        text: &str,
        scorer: Option<&mut dyn SentenceScorer>,
    ) -> Result<Detection, ScorerError> {
        if self.opts.screen_below > 0.0 {
            let (probes, words) = self.restorer.screen(text);
            let f = features(&probes, &[], 0, text.len());
            let screen = &self.opts.screen;
            let score = screen.score(&f);
            if score < self.opts.screen_below {
                // The cascade has judged the document clean, so its paragraphs lean on a clean
                // document's log-odds, as they would after the full analysis (where clean
                // documents reach the clamp): on Brown press texts with `--screen-below 0.05`,
                // paragraph AUC at rate 0.1 rose from 0.917–0.990 (no document prior) to
                // 0.946–0.993 (BENCHMARKS.md, "Detection").
                let prior = (self.opts.document_prior > 0.0).then_some(-self.opts.document_prior);
                let paragraphs = self.paragraphs(text, &probes, &[], screen, prior);
                return Ok(Detection {
                    score,
                    flagged: score >= self.opts.threshold,
                    spans: Vec::new(),
                    paragraphs,
                    spin_rate: 0.0,
                    words,
                    features: f,
                    scorer: "trigram".to_string(),
                    stage: "screen",
                });
            }
        }
        let (r, probes) = self.restorer.probe(text, scorer)?;
        let spans: Vec<Evidence> = r
            .spans
            .into_iter()
            .filter(|s| s.log_odds >= self.opts.min_log_odds)
            .map(|s| Evidence {
                start: s.start,
                end: s.end,
                spun: s.spun,
                original: s.restored,
                confidence: s.confidence,
                log_odds: s.log_odds,
                alternatives: s.alternatives,
            })
            .collect();
        let features = features(&probes, &spans, 0, text.len());
        let logit = self.opts.text_logit(&features);
        let prior = (self.opts.document_prior > 0.0).then(|| {
            let cap = self.opts.document_prior;
            logit.clamp(-cap, cap)
        });
        let mut paragraphs =
            self.paragraphs(text, &probes, &spans, &self.opts.paragraph_model, prior);
        let score = probability(logit);
        // A text of one paragraph is that paragraph: it has one score, the text's, whose model
        // saw texts of its length judged alone (the paragraph model saw paragraphs whose spin
        // rate came from a whole document).
        if let [p] = paragraphs.as_mut_slice() {
            (p.score, p.own_score) = (score, score);
        }
        Ok(Detection {
            score,
            flagged: score >= self.opts.threshold,
            spans,
            paragraphs,
            spin_rate: r.spin_rate,
            words: r.words,
            features,
            scorer: r.scorer,
            stage: "lattice",
        })
    }

    fn paragraphs(
        &self,
        text: &str,
        probes: &[WordProbe],
        spans: &[Evidence],
        model: &Model,
        document_prior: Option<f32>,
    ) -> Vec<Paragraph> {
        let contextual = document_prior.map(|prior| Model {
            prior,
            half_words: if self.opts.document_words > 0.0 {
                self.opts.document_words
            } else {
                model.half_words
            },
            ..model.clone()
        });
        paragraphs(text)
            .into_iter()
            .map(|(start, end)| {
                let f = features(probes, spans, start, end);
                let own_score = model.score(&f);
                Paragraph {
                    start,
                    end,
                    score: contextual.as_ref().map_or(own_score, |m| m.score(&f)),
                    own_score,
                    words: f.words,
                    spans: spans[spans.partition_point(|s| s.start < start)..]
                        .iter()
                        .take_while(|s| s.start < end)
                        .filter(|s| s.end <= end)
                        .count(),
                    features: f,
                }
            })
            .collect()
    }
}

/// The features of the free words and evidence spans inside `start..end`. Probes and spans are
/// in input order, so the ones inside are found by binary search: a long document with
/// thousands of paragraphs costs no more than one pass.
fn features(probes: &[WordProbe], spans: &[Evidence], start: usize, end: usize) -> Features {
    let inside = |s: usize, e: usize| s >= start && e <= end;
    let from = probes.partition_point(|p| p.start < start);
    let to = probes.partition_point(|p| p.start < end);
    let probes = &probes[from..to];
    let from = spans.partition_point(|s| s.start < start);
    let to = spans.partition_point(|s| s.start < end);
    let spans = &spans[from..to];
    let mut f = Features::default();
    let (mut p_sum, mut fit_sum, mut fits, mut misfits) = (0f32, 0f32, 0usize, 0usize);
    let (mut strong, mut freq_sum, mut right_sum, mut rights) = (0usize, 0f32, 0f32, 0usize);
    for p in probes.iter().filter(|p| inside(p.start, p.end)) {
        f.words += 1;
        p_sum += p.p_spun;
        if let Some(fit) = p.fit {
            fit_sum += fit;
            fits += 1;
            misfits += usize::from(fit < 0.0);
            strong += usize::from(fit < -1.0);
        }
        if let Some(r) = p.right_fit {
            right_sum += r;
            rights += 1;
        }
        if let Some(lf) = p.logfreq {
            freq_sum += lf;
        }
    }
    let evidence: f32 = spans
        .iter()
        .filter(|s| inside(s.start, s.end))
        .map(|s| s.log_odds.max(0.0))
        .sum();
    if f.words > 0 {
        f.spun_share = p_sum / f.words as f32;
        f.evidence = evidence / f.words as f32;
    }
    if fits > 0 {
        f.fit = fit_sum / fits as f32;
        f.misfit_share = misfits as f32 / fits as f32;
        f.strong_misfit_share = strong as f32 / fits as f32;
        f.logfreq = freq_sum / fits as f32;
    }
    if rights > 0 {
        f.right_fit = right_sum / rights as f32;
    }
    f
}

/// Byte ranges of the paragraphs of `text`: runs of lines separated by blank lines, without
/// the blank lines themselves.
pub fn paragraphs(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if blank {
            if let Some(s) = start.take() {
                out.push((s, end));
            }
        } else {
            let lead = line.len() - line.trim_start().len();
            start.get_or_insert(at + lead);
            end = at + line.trim_end().len();
        }
        at += line.len();
    }
    if let Some(s) = start {
        out.push((s, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let t = "One two.\nThree.\n\n  \nFour five.\n";
        let p = paragraphs(t);
        assert_eq!(p, vec![(0, 15), (20, 30)]);
        assert_eq!(&t[p[0].0..p[0].1], "One two.\nThree.");
        assert_eq!(&t[p[1].0..p[1].1], "Four five.");
        assert!(paragraphs("").is_empty());
        assert!(paragraphs("\n\n \n").is_empty());
    }

    #[test]
    fn short_texts_score_near_the_prior() {
        let m = Model::default();
        let strong = Features {
            words: 2,
            spun_share: 0.5,
            evidence: 1.0,
            fit: -1.0,
            misfit_share: 0.8,
            ..Features::default()
        };
        let long = Features {
            words: 2000,
            ..strong
        };
        assert!(m.score(&strong) < m.score(&long));
        assert!((0.0..=1.0).contains(&m.score(&strong)));
    }
}
