//! Printing results, and the commands that are mostly printing (spin, eval).

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use unspin::decode::GenericChannel;
use unspin::eval::{read_brown, Tally};
use unspin::lexicon::flags;
use unspin::restore::{Restoration, RestoreOptions};
use unspin::spin::{render_spintax, spin, SpinOptions};
use unspin::{Pack, Restorer};

use crate::args::{EvalRestoreArgs, SpinArgs};
use crate::cmd::{load_pack, parse_flags, read_input};

/// Inline diff: `[-spun-]{+restored+}`, or red/green on a terminal.
pub fn write_diff(out: &mut impl Write, input: &str, r: &Restoration, color: bool) -> Result<()> {
    let mut at = 0;
    for s in &r.spans {
        out.write_all(&input.as_bytes()[at..s.start])?;
        if color {
            write!(
                out,
                "\x1b[9;31m{}\x1b[0m \x1b[1;32m{}\x1b[0m",
                s.spun, s.restored
            )?;
        } else {
            write!(out, "[-{}-]{{+{}+}}", s.spun, s.restored)?;
        }
        at = s.end;
    }
    out.write_all(&input.as_bytes()[at..])?;
    Ok(())
}

pub fn spin_cmd(a: SpinArgs) -> Result<u8> {
    let text = read_input(&a.input, a.input_args.lossy)?;
    let text = if a.spintax {
        render_spintax(&text, a.seed)
            .with_context(|| format!("{}: bad spintax", a.input.display()))?
    } else {
        text
    };
    if !(0.0..=1.0).contains(&a.rate) {
        anyhow::bail!("--rate must lie in [0, 1], not {}", a.rate);
    }
    let mask = parse_flags(Some(&a.thesaurus))?;
    let mut out = std::io::stdout().lock();
    if a.spintax && a.rate == 0.0 {
        out.write_all(text.as_bytes())?;
        return Ok(0);
    }
    let pack = load_pack(&a.pack)?;
    let s = spin(
        &pack,
        &text,
        &SpinOptions {
            seed: a.seed,
            rate: a.rate,
            mask,
            phrases: a.phrases,
            frequency_exponent: a.frequency_exponent,
        },
    );
    if a.json {
        serde_json::to_writer(&mut out, &s)?;
        writeln!(out)?;
    } else {
        out.write_all(s.text.as_bytes())?;
    }
    Ok(0)
}

/// One spinner configuration of the evaluation.
pub struct Config {
    pub name: &'static str,
    pub spin_mask: u8,
    pub restore_mask: u8,
    pub phrases: bool,
    /// The spinner's preference for common synonyms ([`SpinOptions::frequency_exponent`]).
    pub frequency_exponent: f64,
}

pub fn config(name: &str) -> Result<Config> {
    let strong = flags::MYTHES | flags::WORDNET | flags::MOBY;
    Ok(match name {
        "same" => Config {
            name: "same",
            spin_mask: strong,
            restore_mask: flags::ALL,
            phrases: false,
            frequency_exponent: 0.5,
        },
        "cross" => Config {
            name: "cross",
            spin_mask: flags::MOBY,
            restore_mask: flags::MYTHES | flags::WORDNET | flags::WEAK,
            phrases: false,
            frequency_exponent: 0.5,
        },
        "phrase" => Config {
            name: "phrase",
            spin_mask: strong,
            restore_mask: flags::ALL,
            phrases: true,
            frequency_exponent: 0.5,
        },
        // The thesauri of "same", but every synonym as likely as another (save for how many
        // thesauri list it), as a plain dictionary lookup picks: mostly rarer words than the
        // original, as the real spinner in examples/ writes (troopers, gaggle, momentary).
        "uniform" => Config {
            name: "uniform",
            spin_mask: strong,
            restore_mask: flags::ALL,
            phrases: false,
            frequency_exponent: 0.0,
        },
        other => anyhow::bail!(
            "unknown configuration {other:?} (expected same, cross, phrase or uniform)"
        ),
    })
}

#[derive(Serialize)]
struct ConfigResult {
    config: &'static str,
    docs: usize,
    words: usize,
    spun_wer: f64,
    restored_wer: f64,
    damage_undone: f64,
}

#[derive(Serialize)]
struct EvalReport {
    genre: String,
    rate: f64,
    seed: u64,
    /// Whether each paragraph was restored on its own (`--paragraphs`).
    paragraphs: bool,
    configs: Vec<ConfigResult>,
    clean_words: usize,
    clean_changed: usize,
    clean_changed_share: f64,
    restore_mb_per_s: f64,
}

/// `n` Brown files of a genre, after the first `skip`, as plain texts, or an error that says how
/// to get them.
pub fn brown_docs(sample: &crate::args::BrownSample) -> Result<Vec<(String, String)>> {
    let dir = &sample.brown;
    let mut out = Vec::new();
    // Each genre of a comma-separated list gives its own sample: `--skip` and `--docs` apply
    // to each.
    for genre in sample.genre.split(',').map(str::trim) {
        let docs = read_brown(dir, genre).with_context(|| {
            format!(
                "reading the Brown corpus from {} (run scripts/fetch-sources.sh)",
                dir.display()
            )
        })?;
        let before = out.len();
        out.extend(docs.into_iter().skip(sample.skip).take(sample.docs));
        anyhow::ensure!(
            out.len() > before,
            "no Brown files starting with {genre:?} in {} (after skipping {})",
            dir.display(),
            sample.skip
        );
    }
    Ok(out)
}

/// How a report names its sample's genres: "ca*", or "cb*,cc*" for a list.
pub fn genres_shown(genre: &str) -> String {
    genre
        .split(',')
        .map(|g| format!("{}*", g.trim()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The pieces of an original and its spun text restored one at a time: the whole texts, or
/// their paragraphs paired in order (both cut by `detect::paragraphs`; a pair whose paragraph
/// counts differ is kept whole, so no word goes unscored).
fn units<'t>(original: &'t str, spun: &'t str, paragraphs: bool) -> Vec<(&'t str, &'t str)> {
    if !paragraphs {
        return vec![(original, spun)];
    }
    let (po, ps) = (
        unspin::detect::paragraphs(original),
        unspin::detect::paragraphs(spun),
    );
    if po.len() != ps.len() {
        return vec![(original, spun)];
    }
    po.iter()
        .zip(&ps)
        .map(|(&(a, b), &(c, d))| (&original[a..b], &spun[c..d]))
        .collect()
}

pub fn eval_restore(a: EvalRestoreArgs) -> Result<u8> {
    let pack = load_pack(&a.pack)?;
    let docs = brown_docs(&a.sample)?;
    let configs: Vec<Config> = a.configs.iter().map(|c| config(c)).collect::<Result<_>>()?;
    let mut neural = open_neural(&a.precise)?;

    let mut results = Vec::new();
    for c in &configs {
        let restorer =
            Restorer::with_channel(&pack, a.tuning.channel(c.restore_mask), a.tuning.options());
        let mut tally = Tally::default();
        for (i, (_, doc)) in docs.iter().enumerate() {
            let s = spin(
                &pack,
                doc,
                &SpinOptions {
                    seed: a.sample.seed.wrapping_mul(1000).wrapping_add(i as u64),
                    rate: a.rate,
                    mask: c.spin_mask,
                    phrases: c.phrases,
                    frequency_exponent: c.frequency_exponent,
                },
            );
            // The spinner keeps line structure, so the spun text has the original's paragraphs.
            for (original, spun) in units(doc, &s.text, a.paragraphs) {
                let r = restore(&restorer, spun, &mut neural)?;
                tally.add(original, spun, &r.text);
            }
        }
        results.push(ConfigResult {
            config: c.name,
            docs: docs.len(),
            words: tally.words,
            spun_wer: tally.spun_wer(),
            restored_wer: tally.restored_wer(),
            damage_undone: tally.damage_undone(),
        });
    }
    // Clean text: how many words does restoring change?
    let restorer = Restorer::with_channel(&pack, a.tuning.channel(flags::ALL), a.tuning.options());
    let (mut words, mut changed, mut bytes) = (0usize, 0usize, 0usize);
    let t = Instant::now();
    for (_, doc) in &docs {
        for (text, _) in units(doc, doc, a.paragraphs) {
            let r = restore(&restorer, text, &mut neural)?;
            words += r.words;
            changed += r
                .spans
                .iter()
                .map(|s| unspin::eval::words(&s.spun).len())
                .sum::<usize>();
            bytes += text.len();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let report = EvalReport {
        genre: a.sample.genre.clone(),
        rate: a.rate,
        seed: a.sample.seed,
        paragraphs: a.paragraphs,
        configs: results,
        clean_words: words,
        clean_changed: changed,
        clean_changed_share: changed as f64 / words.max(1) as f64,
        restore_mb_per_s: bytes as f64 / 1e6 / secs,
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Brown {}, {} docs{}, rate {}, seed {}",
            genres_shown(&report.genre),
            docs.len(),
            if a.paragraphs {
                ", each paragraph restored alone"
            } else {
                ""
            },
            a.rate,
            a.sample.seed
        )?;
        writeln!(
            out,
            "{:<8} {:>8} {:>9} {:>12} {:>14}",
            "config", "words", "spun WER", "restored WER", "damage undone"
        )?;
        for r in &report.configs {
            writeln!(
                out,
                "{:<8} {:>8} {:>9.4} {:>12.4} {:>14.4}",
                r.config, r.words, r.spun_wer, r.restored_wer, r.damage_undone
            )?;
        }
        writeln!(
            out,
            "clean text: {} of {} words changed ({:.3} %); restore speed {:.2} MB/s (one thread)",
            changed,
            words,
            100.0 * report.clean_changed_share,
            report.restore_mb_per_s
        )?;
    }
    let _: &Pack = &pack;
    Ok(0)
}

impl crate::args::TuningArgs {
    /// The generic channel with these knobs.
    pub fn channel(&self, mask: u8) -> GenericChannel {
        let mut c = GenericChannel::new(mask);
        if let Some(x) = self.degree_exponent {
            c.degree_exponent = x;
        }
        if let Some(x) = self.weak_weight {
            c.weak_weight = x;
        }
        if let Some(x) = self.channel_frequency_exponent {
            c.frequency_exponent = x;
        }
        c
    }

    /// Restore options with these knobs.
    pub fn options(&self) -> RestoreOptions {
        let mut o = RestoreOptions::default();
        if let Some(x) = self.length_bonus {
            o.decode.length_bonus = x;
        }
        if let Some(x) = self.frequency_discount {
            o.decode.frequency_discount = x;
        }
        if let Some(x) = self.max_candidates {
            o.decode.max_candidates = x;
        }
        if let Some(x) = self.consistency_threshold {
            o.consistency_threshold = x;
        }
        if self.no_consistent {
            o.consistent = false;
        }
        if let Some(x) = self.prune_margin {
            o.decode.prune_margin = x;
        }
        if let Some(x) = self.beam {
            o.decode.beam = x;
        }
        if let Some(x) = self.initial_rate {
            o.initial_rate = x;
        }
        if let Some(x) = self.precise_channel_weight {
            o.precise_channel_weight = x;
        }
        if let Some(x) = self.precise_proposals {
            o.precise_proposals = x;
        }
        if let Some(x) = self.precise_margin {
            o.precise_margin = x;
        }
        if let Some(x) = self.precise_two_hop {
            o.precise_two_hop = x;
        }
        if let Some(x) = self.precise_frequency_discount {
            o.precise_frequency_discount = Some(x);
        }
        if let Some(x) = self.precise_window {
            o.precise_window = x;
        }
        if self.precise_second_sweep {
            o.precise_second_sweep = true;
        }
        if self.precise_pairs {
            o.precise_pairs = true;
        }
        if let Some(x) = self.rate_gain {
            o.rate_calibration.0 = x;
        }
        if let Some(x) = self.rate_floor {
            o.rate_calibration.1 = x;
        }
        if let Some(x) = self.rate_prior_changed {
            o.rate_prior.0 = x;
        }
        if let Some(x) = self.rate_prior_words {
            o.rate_prior.1 = x;
        }
        if let Some(x) = self.em_iterations {
            o.em_iterations = x;
        }
        if let Some(x) = self.fluency_fit {
            o.decode.fluency_fit = x;
        }
        if let Some(x) = self.pair_arcs {
            o.decode.pair_arcs = x;
        }
        if let Some(x) = self.pair_penalty {
            o.decode.pair_penalty = x;
        }
        o
    }
}

/// The neural sentence model, as precise mode's scorer.
pub type Neural = unspin_neural::NeuralScorer;

/// Restores `text` with `restorer`, in precise mode when a sentence model is given.
pub fn restore<C: unspin::decode::Channel>(
    restorer: &Restorer<'_, C>,
    text: &str,
    neural: &mut Option<Neural>,
) -> Result<unspin::Restoration> {
    Ok(match neural.as_mut() {
        Some(n) => restorer.restore_precise(text, n)?,
        None => restorer.restore(text),
    })
}

/// Restores texts of one spinner together ([`Restorer::restore_pooled`]), precise or not.
pub fn restore_pooled<C: unspin::decode::Channel>(
    restorer: &Restorer<'_, C>,
    texts: &[&str],
    neural: &mut Option<Neural>,
) -> Result<Vec<unspin::Restoration>> {
    Ok(match neural.as_mut() {
        Some(n) => restorer.restore_pooled_precise(texts, n)?,
        None => restorer.restore_pooled(texts),
    })
}

/// Opens the model named by the flags (`None` without --precise), or says in one line why it
/// cannot be used.
pub fn open_neural(args: &crate::args::PreciseArgs) -> Result<Option<Neural>> {
    if !args.precise {
        return Ok(None);
    }
    let path = args
        .neural_model
        .clone()
        .unwrap_or_else(Neural::default_path);
    match Neural::open_with(&path, unspin_neural::Products::exact_if(args.neural_exact)) {
        Ok(s) => Ok(Some(s)),
        Err(unspin_neural::NeuralError::NotBuilt) => anyhow::bail!(
            "--precise: this unspin was built without precise mode; rebuild with `cargo build --release --features precise` and fetch the model with scripts/fetch-neural.sh"
        ),
        Err(e) => Err(e).context("--precise: cannot use the sentence model"),
    }
}
