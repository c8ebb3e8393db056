//! `unspin detect` and `unspin eval detect`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;
use unspin::decode::GenericChannel;
use unspin::detect::{DetectOptions, Detection, Detector, Evidence};
use unspin::fingerprint::Hit;
use unspin::json::DetectJson;
use unspin::lexicon::flags;
use unspin::spin::{spin, spin_every_other_paragraph, SpinOptions};

use crate::args::{ColorChoice, DetectArgs, EvalDetectArgs, EvalTorturedArgs};
use crate::cmd::{load_pack, parse_flags, read_input};
use crate::output::config;

/// What detect and scan score with: the fingerprint matcher, and unless the list alone is
/// wanted, the model pack and the detector's settings.
pub struct Scoring {
    pub matcher: Option<unspin::fingerprint::Matcher>,
    pack: Option<unspin::Pack>,
    mask: u8,
    opts: DetectOptions,
}

impl Scoring {
    /// Validates the shared flags and loads what they name; with `fingerprints_only`, the list
    /// alone (no model pack is opened).
    pub fn new(f: &crate::args::ScoringArgs, fingerprints_only: bool) -> Result<Scoring> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&f.threshold),
            "--threshold must lie in [0, 1], not {}",
            f.threshold
        );
        let mask = parse_flags(f.thesauri.as_deref())?;
        let matcher = crate::fingerprints::matcher(&f.fingerprints)?;
        anyhow::ensure!(
            !fingerprints_only || matcher.is_some(),
            "--fingerprints-only: no fingerprint list installed; run `unspin fingerprints import FILE.csv` or pass --fingerprints FILE"
        );
        // Fingerprint-only screening never touches the model pack.
        let pack = if fingerprints_only {
            None
        } else {
            Some(load_pack(&f.pack)?)
        };
        let mut opts = DetectOptions {
            threshold: f.threshold,
            ..DetectOptions::default()
        };
        if let Some(x) = f.screen_below {
            opts.screen_below = x;
        }
        Ok(Scoring {
            matcher,
            pack,
            mask,
            opts,
        })
    }

    /// The detector, with the generic channel or a learned profile; none for the list alone.
    pub fn detector(
        &self,
        profile: &crate::args::ProfileArg,
    ) -> Result<Option<Detector<'_, Box<dyn unspin::decode::Channel + Send>>>> {
        let Some(p) = self.pack.as_ref() else {
            return Ok(None);
        };
        let channel = crate::learn::channel(p, self.mask, profile)?;
        Ok(Some(Detector::with_channel(p, channel, self.opts.clone())))
    }

    /// The parts, for a caller that keeps them (the server): the matcher, the pack (none with
    /// --fingerprints-only), the thesaurus mask and the detection settings.
    pub fn into_parts(
        self,
    ) -> (
        Option<unspin::fingerprint::Matcher>,
        Option<unspin::Pack>,
        u8,
        DetectOptions,
    ) {
        (self.matcher, self.pack, self.mask, self.opts)
    }
}

pub fn detect_cmd(a: DetectArgs) -> Result<u8> {
    let scoring = Scoring::new(&a.scoring, a.fingerprints_only)?;
    let fingerprints = scoring.matcher.as_ref();
    let detector = scoring.detector(&a.scoring.profile)?;
    let color = match a.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let mut neural = if a.fingerprints_only {
        None
    } else {
        crate::output::open_neural(&a.precise)?
    };
    let mut out = std::io::stdout().lock();
    let (mut flagged, mut errors) = (0usize, 0usize);
    for input in &a.inputs {
        let text = match read_input(input, a.input_args.lossy) {
            Ok(t) => t,
            Err(e) => {
                // One bad input does not stop the others; the exit status reports it.
                errors += 1;
                let mut msg = format!("unspin: {e}");
                for cause in e.chain().skip(1) {
                    msg.push_str(&format!(": {cause}"));
                }
                eprintln!("{msg}");
                continue;
            }
        };
        let hits = fingerprints
            .as_ref()
            .map(|m| m.find(&text))
            .unwrap_or_default();
        let d = match (detector.as_ref(), neural.as_mut()) {
            (Some(det), Some(n)) => Some(det.detect_precise(&text, n)?),
            (Some(det), None) => Some(det.detect(&text)),
            (None, _) => None,
        };
        let name = display_name(input);
        let json = DetectJson::new(d.as_ref(), &hits);
        flagged += usize::from(json.flagged);
        if a.json {
            serde_json::to_writer(&mut out, &json.with_path(name))?;
            writeln!(out)?;
        } else {
            if let Some(d) = &d {
                write_summary(&mut out, &name, &text, d, a.top, color)?;
            } else {
                writeln!(out, "{name}: {} fingerprint hits", hits.len())?;
            }
            write_hits(&mut out, &text, &hits, color)?;
        }
    }
    out.flush()?;
    Ok(if errors > 0 {
        2
    } else if flagged > 0 {
        0
    } else {
        1
    })
}

fn display_name(p: &Path) -> String {
    if p == Path::new("-") {
        "<stdin>".to_string()
    } else {
        p.display().to_string()
    }
}

/// A few lines per input: the verdict, then the strongest evidence with line numbers.
fn write_summary(
    out: &mut impl Write,
    name: &str,
    text: &str,
    d: &Detection,
    top: usize,
    color: bool,
) -> Result<()> {
    let verdict = if d.flagged { "spun" } else { "not spun" };
    let (on, off) = match (color, d.flagged) {
        (true, true) => ("\x1b[1;31m", "\x1b[0m"),
        (true, false) => ("\x1b[1;32m", "\x1b[0m"),
        _ => ("", ""),
    };
    let flagged_paragraphs = d
        .paragraphs
        .iter()
        .filter(|p| p.score >= 0.5 && d.flagged)
        .count();
    writeln!(
        out,
        "{name}: {on}{:.2} {verdict}{off} ({} evidence spans in {} words; {} of {} paragraphs flagged)",
        d.score,
        d.spans.len(),
        d.words,
        flagged_paragraphs,
        d.paragraphs.len()
    )?;
    let mut best: Vec<&Evidence> = d.spans.iter().collect();
    best.sort_by(|a, b| {
        b.log_odds
            .total_cmp(&a.log_odds)
            .then(a.start.cmp(&b.start))
    });
    best.truncate(top);
    best.sort_by_key(|e| e.start);
    for e in best {
        let line = text[..e.start].matches('\n').count() + 1;
        let (s_on, o_on, off) = if color {
            ("\x1b[31m", "\x1b[32m", "\x1b[0m")
        } else {
            ("", "", "")
        };
        writeln!(
            out,
            "  {line:>5}: {s_on}{}{off} → {o_on}{}{off}  (odds 10^{:.1}, confidence {:.2})",
            e.spun, e.original, e.log_odds, e.confidence
        )?;
    }
    Ok(())
}

/// Fingerprint hits, one line each, apart from the model's evidence.
fn write_hits(out: &mut impl Write, text: &str, hits: &[Hit], color: bool) -> Result<()> {
    let (on, off) = if color {
        ("\x1b[35m", "\x1b[0m")
    } else {
        ("", "")
    };
    for h in hits {
        let line = text[..h.start].matches('\n').count() + 1;
        writeln!(
            out,
            "  {line:>5}: {on}{}{off} is a known tortured phrase for \"{}\" (fingerprint {})",
            h.matched.replace('\n', " "),
            h.expected.as_deref().unwrap_or("?"),
            h.query
        )?;
    }
    Ok(())
}

/// Area under the ROC curve: the probability that a positive outscores a negative (ties half).
fn auc(pos: &[f32], neg: &[f32]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut total = 0f64;
    for &p in pos {
        for &n in neg {
            total += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    total / (pos.len() * neg.len()) as f64
}

/// F1 of "score ≥ threshold" on positives against negatives.
fn f1(pos: &[f32], neg: &[f32], threshold: f32) -> f64 {
    let tp = pos.iter().filter(|&&s| s >= threshold).count() as f64;
    let fp = neg.iter().filter(|&&s| s >= threshold).count() as f64;
    let fn_ = pos.len() as f64 - tp;
    if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (2.0 * tp + fp + fn_)
    }
}

fn share_at_or_above(xs: &[f32], t: f32) -> f64 {
    xs.iter().filter(|&&s| s >= t).count() as f64 / xs.len().max(1) as f64
}

#[derive(Serialize)]
struct RateResult {
    config: &'static str,
    rate: f64,
    doc_auc: f64,
    doc_f1: f64,
    doc_recall: f64,
    paragraph_auc: f64,
    paragraph_f1: f64,
    /// The same for each paragraph's own score (its evidence alone).
    paragraph_own_auc: f64,
    paragraph_own_f1: f64,
}

#[derive(Serialize)]
struct EvalDetectReport {
    genre: String,
    docs: usize,
    paragraphs: usize,
    /// Whether each paragraph was judged as a text of its own (`--paragraphs`): the document
    /// figures then count paragraphs.
    paragraphs_alone: bool,
    threshold: f32,
    seed: u64,
    results: Vec<RateResult>,
    clean_doc_false_positive_rate: f64,
    clean_paragraph_false_positive_rate: f64,
    /// Share of clean documents that the screening pass let skip the lattice.
    clean_screened: f64,
    detect_mb_per_s: f64,
    /// The model that chose the restorations: "trigram", or the sentence model's name.
    scorer: &'static str,
}

/// The texts `unspin eval detect` judges in a document: the whole of it, or each paragraph on
/// its own (the spinner keeps line structure, so a spun copy has its original's paragraphs).
fn pieces(doc: &str, paragraphs: bool) -> Vec<&str> {
    if !paragraphs {
        return vec![doc];
    }
    unspin::detect::paragraphs(doc)
        .into_iter()
        .map(|(s, e)| &doc[s..e])
        .collect()
}

pub fn eval_detect(a: EvalDetectArgs) -> Result<u8> {
    let pack = load_pack(&a.pack)?;
    let docs = crate::output::brown_docs(&a.sample)?;
    let configs = a
        .configs
        .iter()
        .map(|c| config(c))
        .collect::<Result<Vec<_>>>()?;
    let mut opts = DetectOptions {
        threshold: a.threshold,
        ..DetectOptions::default()
    };
    if let Some(x) = a.document_prior {
        opts.document_prior = x;
    }
    if let Some(x) = a.document_words {
        opts.document_words = x;
    }
    if let Some(x) = a.short_words {
        opts.short_words = x;
    }
    if let Some(x) = a.screen_below {
        opts.screen_below = x;
    }
    let mut neural = crate::output::open_neural(&a.precise)?;
    // Each text scored as `unspin detect` would, with or without the sentence model.
    let mut detect = |det: &Detector<GenericChannel>, text: &str| -> Result<Detection> {
        Ok(match neural.as_mut() {
            Some(n) => det.detect_precise(text, n)?,
            None => det.detect(text),
        })
    };
    // Paragraphs as (score, own score) pairs.
    let scores = |d: &Detection| -> (f32, Vec<(f32, f32)>) {
        let p = d.paragraphs.iter().map(|p| (p.score, p.own_score));
        (d.score, p.collect())
    };
    // Clean texts, scored once per channel the configurations use: (channel, documents,
    // paragraphs).
    type Scored = (u8, Vec<f32>, Vec<(f32, f32)>);
    let mut clean: Vec<Scored> = Vec::new();
    let (mut bytes, mut secs, mut screened) = (0usize, 0f64, 0usize);
    // The clean-text figures (false positives, speed, screening) come from the full channel,
    // or from the first configuration's if none uses it (cross-dictionary alone).
    let report_mask = if configs.iter().any(|c| c.restore_mask == flags::ALL) {
        flags::ALL
    } else {
        configs.first().map_or(flags::ALL, |c| c.restore_mask)
    };
    for c in &configs {
        if clean.iter().any(|(m, _, _)| *m == c.restore_mask) {
            continue;
        }
        let det = Detector::with_channel(&pack, GenericChannel::new(c.restore_mask), opts.clone());
        // Speed and screening are counted on the channel the clean-text figures come from.
        let timed = c.restore_mask == report_mask;
        let (mut ds, mut ps) = (Vec::new(), Vec::new());
        for (_, doc) in &docs {
            for text in pieces(doc, a.paragraphs) {
                let t = Instant::now();
                let d = detect(&det, text)?;
                if timed {
                    secs += t.elapsed().as_secs_f64();
                    bytes += text.len();
                    screened += usize::from(d.stage == "screen");
                }
                let (s, p) = scores(&d);
                ds.push(s);
                ps.extend(p);
            }
        }
        clean.push((c.restore_mask, ds, ps));
    }
    let mut results = Vec::new();
    for c in &configs {
        let det = Detector::with_channel(&pack, GenericChannel::new(c.restore_mask), opts.clone());
        let (_, neg_docs, neg_pars) = clean
            .iter()
            .find(|(m, _, _)| *m == c.restore_mask)
            .expect("scored above");
        for (ri, &rate) in a.rates.iter().enumerate() {
            let (mut ds, mut ps, mut own_neg) = (Vec::new(), Vec::new(), Vec::new());
            for (i, (_, doc)) in docs.iter().enumerate() {
                let opts = |k: u64| SpinOptions {
                    seed: a
                        .sample
                        .seed
                        .wrapping_mul(1_000_003)
                        .wrapping_add((ri * 10_000 + i) as u64)
                        .wrapping_add(k << 40),
                    rate,
                    mask: c.spin_mask,
                    phrases: c.phrases,
                    frequency_exponent: c.frequency_exponent,
                };
                if !a.partial {
                    let s = spin(&pack, doc, &opts(0));
                    for text in pieces(&s.text, a.paragraphs) {
                        let (d, p) = scores(&detect(&det, text)?);
                        ds.push(d);
                        ps.extend(p);
                    }
                    continue;
                }
                // Every other paragraph spun, the rest left as they were.
                let (text, n) = spin_every_other_paragraph(&pack, doc, |k| opts(k + 1));
                let d = detect(&det, &text)?;
                anyhow::ensure!(
                    d.paragraphs.len() == n,
                    "document {i}: {n} paragraphs spun into {}",
                    d.paragraphs.len()
                );
                ds.push(d.score);
                for (j, p) in d.paragraphs.iter().enumerate() {
                    if j % 2 == 1 {
                        ps.push((p.score, p.own_score));
                    } else {
                        own_neg.push((p.score, p.own_score));
                    }
                }
            }
            // Partly spun documents: their own clean paragraphs are the negatives.
            let neg_pars = if a.partial { &own_neg } else { neg_pars };
            let (pos, pos_own): (Vec<f32>, Vec<f32>) = ps.iter().copied().unzip();
            let (neg, neg_own): (Vec<f32>, Vec<f32>) = neg_pars.iter().copied().unzip();
            results.push(RateResult {
                config: c.name,
                rate,
                doc_auc: auc(&ds, neg_docs),
                doc_f1: f1(&ds, neg_docs, a.threshold),
                doc_recall: share_at_or_above(&ds, a.threshold),
                paragraph_auc: auc(&pos, &neg),
                paragraph_f1: f1(&pos, &neg, a.threshold),
                paragraph_own_auc: auc(&pos_own, &neg_own),
                paragraph_own_f1: f1(&pos_own, &neg_own, a.threshold),
            });
        }
    }
    let (_, all_docs, all_pars) = clean
        .iter()
        .find(|(m, _, _)| *m == report_mask)
        .cloned()
        .expect("the channel of the clean-text figures was scored");
    let report = EvalDetectReport {
        genre: a.sample.genre.clone(),
        docs: docs.len(),
        paragraphs_alone: a.paragraphs,
        paragraphs: all_pars.len(),
        threshold: a.threshold,
        seed: a.sample.seed,
        results,
        clean_doc_false_positive_rate: share_at_or_above(&all_docs, a.threshold),
        clean_paragraph_false_positive_rate: share_at_or_above(
            &all_pars.iter().map(|p| p.0).collect::<Vec<_>>(),
            a.threshold,
        ),
        clean_screened: screened as f64 / docs.len() as f64,
        detect_mb_per_s: bytes as f64 / 1e6 / secs.max(1e-9),
        scorer: if a.precise.precise {
            unspin_neural::SCORER_NAME
        } else {
            "trigram"
        },
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(
        out,
        "Brown {}, {} docs ({} paragraphs{}), threshold {}, seed {}, scorer {}",
        crate::output::genres_shown(&report.genre),
        report.docs,
        report.paragraphs,
        if a.paragraphs {
            ", each judged alone: the doc columns count paragraphs"
        } else {
            ""
        },
        report.threshold,
        report.seed,
        report.scorer
    )?;
    writeln!(
        out,
        "{:<8} {:>5} {:>8} {:>7} {:>10} {:>9} {:>8} {:>9} {:>8}",
        "config",
        "rate",
        "doc AUC",
        "doc F1",
        "doc recall",
        "para AUC",
        "para F1",
        "own AUC",
        "own F1"
    )?;
    for r in &report.results {
        writeln!(
            out,
            "{:<8} {:>5} {:>8.4} {:>7.3} {:>10.3} {:>9.4} {:>8.3} {:>9.4} {:>8.3}",
            r.config,
            r.rate,
            r.doc_auc,
            r.doc_f1,
            r.doc_recall,
            r.paragraph_auc,
            r.paragraph_f1,
            r.paragraph_own_auc,
            r.paragraph_own_f1
        )?;
    }
    writeln!(
        out,
        "clean text flagged: {:.2} % of documents, {:.2} % of paragraphs; {:.1} % screened clean; detect speed {:.2} MB/s (one thread)",
        100.0 * report.clean_doc_false_positive_rate,
        100.0 * report.clean_paragraph_false_positive_rate,
        100.0 * report.clean_screened,
        report.detect_mb_per_s
    )?;
    Ok(0)
}

pub fn eval_tortured(a: EvalTorturedArgs) -> Result<u8> {
    use anyhow::Context;
    use unspin::decode::Channel;
    use unspin::fingerprint::FingerprintList;
    use unspin::learn::{Learner, ProfileChannel};
    use unspin::restore::RestoreOptions;
    use unspin::Restorer;
    let bytes = std::fs::read(&a.csv).with_context(|| format!("reading {}", a.csv.display()))?;
    let (list, errors) = FingerprintList::import_csv(&bytes, &a.csv.display().to_string());
    let pack = load_pack(&a.pack)?;
    anyhow::ensure!(
        (0.001..=0.9).contains(&a.rate),
        "--rate must lie in [0.001, 0.9], not {}",
        a.rate
    );
    let given = crate::learn::load_profile(&a.profile)?;
    // A phrase alone gives EM nothing to estimate a rate from: assume one.
    let opts = RestoreOptions {
        initial_rate: a.rate,
        em_iterations: 0,
        rate_calibration: (1.0, 0.0),
        consistent: false,
        ..a.tuning.options()
    };
    let folds = a.folds.max(1);
    // Folds by expected form, so that no expected form is learned and tested on.
    let fold_of = |expected: &str| -> usize {
        let h = expected
            .to_lowercase()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        (h % folds as u64) as usize
    };
    let mut neural = crate::output::open_neural(&a.precise)?;
    let (mut n, mut exact, mut changed) = (0usize, 0usize, 0usize);
    // The control: the expected forms themselves (real technical terms) should stay as they are.
    let mut false_alarms = 0usize;
    let mut learned_pairs = 0usize;
    let mut out = std::io::stdout().lock();
    for fold in 0..folds {
        let profile = if folds > 1 {
            let mut learner = Learner::default();
            for (phrase, expected) in list.substitution_pairs() {
                if fold_of(expected) != fold {
                    learner.pair(phrase, expected);
                }
            }
            let mut p = learner.finish();
            learned_pairs += p.pairs;
            if let Some(g) = &given {
                p.merge(g);
            }
            Some(p)
        } else {
            given.clone()
        };
        let generic = a.tuning.channel(unspin::lexicon::flags::ALL);
        let channel: Box<dyn Channel + Send> = match &profile {
            Some(p) => Box::new(ProfileChannel::with_generic(
                &pack,
                p,
                generic,
                Default::default(),
            )),
            None => Box::new(generic),
        };
        let restorer = Restorer::with_channel(&pack, channel, opts.clone());
        for (phrase, expected) in list.plain_phrases() {
            if fold_of(expected) != fold {
                continue;
            }
            n += 1;
            let r = crate::output::restore(&restorer, phrase, &mut neural)?;
            let hit = r.text.trim().to_lowercase() == expected.trim().to_lowercase();
            exact += usize::from(hit);
            changed += usize::from(!r.spans.is_empty());
            let control = crate::output::restore(&restorer, expected, &mut neural)?;
            false_alarms += usize::from(!control.spans.is_empty());
            if a.verbose {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    if hit {
                        "exact"
                    } else if r.spans.is_empty() {
                        "kept"
                    } else {
                        "wrong"
                    },
                    phrase,
                    r.text,
                    expected
                )?;
            }
        }
    }
    let channel = match (folds > 1, &a.profile.profile) {
        (true, given) => format!(
            "; {folds} folds, each restored with a profile learned from the other folds' entries ({} pairs on average{})",
            learned_pairs / folds,
            given.as_ref().map_or(String::new(), |p| format!(", plus {}", p.display()))
        ),
        (false, Some(p)) => format!("; profile {}", p.display()),
        (false, None) => String::new(),
    };
    writeln!(
        out,
        "{}: {n} plain phrases with a known expected form ({} rows unreadable); restored exactly {exact} ({:.1} %), changed {changed} ({:.1} %); the expected forms themselves changed {false_alarms} ({:.1} %, false alarms); assumed rate {}; scorer {}{channel}",
        a.csv.display(),
        errors.len(),
        100.0 * exact as f64 / n.max(1) as f64,
        100.0 * changed as f64 / n.max(1) as f64,
        100.0 * false_alarms as f64 / n.max(1) as f64,
        a.rate,
        neural.as_ref().map_or("trigram", |nm| unspin::restore::SentenceScorer::name(nm)),
    )?;
    Ok(0)
}
