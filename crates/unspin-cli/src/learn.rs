//! `unspin learn`, `unspin profile …`, `unspin eval learn`, and the channel `--profile` picks.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use unspin::decode::{Channel, GenericChannel};
use unspin::eval::{read_brown, Tally};
use unspin::learn::{Discovery, Learner, Profile, ProfileChannel, ProfileOptions};
use unspin::spin::{spin_with_dictionary, SpinOptions};
use unspin::{Pack, Restorer};

use crate::args::{EvalLearnArgs, LearnArgs, ProfileArg, ProfileCommand};
use crate::cmd::load_pack;
use crate::output::{config, restore, restore_pooled};

/// The channel for restore, detect and serve: the generic one over the thesauri in `mask`, or a
/// learned profile backed by it (`Send`, so that the server can share it between threads).
pub fn channel(pack: &Pack, mask: u8, p: &ProfileArg) -> Result<Box<dyn Channel + Send>> {
    Ok(channel_of(pack, mask, load_profile(p)?.as_ref()))
}

/// The profile `--profile` names, if any.
pub fn load_profile(p: &ProfileArg) -> Result<Option<Profile>> {
    p.profile
        .as_deref()
        .map(|path| Profile::load(path).context("cannot use --profile"))
        .transpose()
}

/// As [`channel`], for a profile already read.
fn channel_of(pack: &Pack, mask: u8, profile: Option<&Profile>) -> Box<dyn Channel + Send> {
    let generic = GenericChannel::new(mask);
    match profile {
        None => Box::new(generic),
        Some(profile) => Box::new(ProfileChannel::with_generic(
            pack,
            profile,
            generic,
            ProfileOptions::default(),
        )),
    }
}

/// What the learning files held besides pairs: trace lines without a source or with an error.
#[derive(Default)]
struct Unused {
    no_source: usize,
    errors: usize,
}

/// Reads a JSONL file of `{"spun", "original"}` records, or the lines `unspin trace --json`
/// prints (one query's `{"matches": [...]}`, or `trace --queries`'s lines with their
/// `query_id`), whose best match's alignment gives the substitutions. A line that is neither
/// is an error naming the file and line.
fn read_pairs(path: &Path, learner: &mut Learner, unused: &mut Unused) -> Result<()> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?,
        ))
    };
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "{}: line {}: neither a {{\"spun\", \"original\"}} record nor a line of `unspin trace --json`",
                path.display(),
                i + 1
            )
        };
        let v: serde_json::Value = serde_json::from_str(&line).with_context(bad)?;
        if let (Some(spun), Some(original)) = (
            v.get("spun").and_then(|x| x.as_str()),
            v.get("original").and_then(|x| x.as_str()),
        ) {
            learner.pair(spun, original);
            continue;
        }
        let Some(matches) = v.get("matches").and_then(|m| m.as_array()) else {
            anyhow::bail!(bad());
        };
        if v.get("error").is_some_and(|e| !e.is_null()) {
            unused.errors += 1;
            continue;
        }
        let Some(best) = matches.first() else {
            unused.no_source += 1;
            continue;
        };
        let alignment = best.get("alignment").with_context(|| {
            format!(
                "{}: line {}: a trace match without its alignment (run trace with --json)",
                path.display(),
                i + 1
            )
        })?;
        let matched = alignment.get("matched").and_then(|m| m.as_u64());
        let edits = alignment.get("edits").and_then(|e| e.as_array());
        let (Some(matched), Some(edits)) = (matched, edits) else {
            anyhow::bail!(bad());
        };
        let mut differences = Vec::with_capacity(edits.len());
        for e in edits {
            match (
                e.get("spun").and_then(|x| x.as_str()),
                e.get("source").and_then(|x| x.as_str()),
            ) {
                (Some(s), Some(o)) => differences.push((s, o)),
                _ => anyhow::bail!(bad()),
            }
        }
        learner.aligned(matched as usize, differences);
    }
    Ok(())
}

/// Learns from a tortured-phrase list: each entry with one tortured phrase and a known
/// expected form is a (spun, original) pair; says on stderr how many entries were not.
fn read_list_pairs(path: &Path, learner: &mut Learner) -> Result<()> {
    let list = crate::fingerprints::read_list(path)?;
    let mut used = 0usize;
    for (phrase, expected) in list.substitution_pairs() {
        learner.pair(phrase, expected);
        used += 1;
    }
    eprintln!(
        "{}: learned from {used} of {} entries (the others have no expected form, a proximity query or several tortured phrases)",
        path.display(),
        list.len()
    );
    Ok(())
}

pub fn learn_cmd(a: LearnArgs) -> Result<u8> {
    if a.unpaired {
        return learn_unpaired(a);
    }
    anyhow::ensure!(
        a.profile.profile.is_none(),
        "--profile only applies with --unpaired (to merge profiles: unspin profile merge)"
    );
    let output = a
        .output
        .clone()
        .context("-o PROFILE is required when learning from pairs")?;
    let mut learner = Learner::default();
    let mut unused = Unused::default();
    for p in &a.pairs {
        if a.from_list {
            read_list_pairs(p, &mut learner)?;
        } else {
            read_pairs(p, &mut learner, &mut unused)?;
        }
    }
    let profile = learner.finish();
    if unused.no_source + unused.errors > 0 {
        eprintln!(
            "{} trace lines without a source and {} with an error were not used",
            unused.no_source, unused.errors
        );
    }
    anyhow::ensure!(profile.pairs > 0, "no pairs to learn from");
    profile.save(&output)?;
    eprintln!(
        "learned {} rules from {} pairs ({} words, {} substitutions, {} too long to be rules); wrote {}",
        profile.rules.len(),
        profile.pairs,
        profile.words,
        profile.substitutions,
        profile.skipped,
        output.display()
    );
    Ok(0)
}

/// Text `learn --unpaired` restores together at most, whatever `--pool` says: the analysis
/// holds a few hundred bytes per byte of text (BENCHMARKS.md, "Learning a spinner").
const POOL_BYTES: usize = 2 << 20;

/// `unspin learn --unpaired`: restore every text, keep what recurs across documents.
fn learn_unpaired(a: LearnArgs) -> Result<u8> {
    let pack = load_pack(&a.pack)?;
    let known = load_profile(&a.profile)?;
    let restorer = Restorer::with_channel(
        &pack,
        channel_of(&pack, unspin::lexicon::flags::ALL, known.as_ref()),
        Default::default(),
    );
    let mut options = unspin_io::InputOptions::default();
    options.field = a.field.clone();
    let files = unspin_io::expand(&a.pairs, &options)?;
    anyhow::ensure!(a.pool >= 1, "--pool must be at least 1 document");
    let mut discovery = Discovery::default();
    let (mut docs, mut errors) = (0usize, 0usize);
    // Texts waiting to be restored together (`--pool`).
    let mut pool: Vec<String> = Vec::new();
    let flush = |pool: &mut Vec<String>, discovery: &mut Discovery| {
        let texts: Vec<&str> = pool.iter().map(String::as_str).collect();
        for (t, r) in texts.iter().zip(restorer.restore_pooled(&texts)) {
            discovery.add(t, &r);
        }
        pool.clear();
    };
    for record in unspin_io::scan(files, &options) {
        match record.body {
            Ok(text) => {
                docs += 1;
                pool.push(text);
                if pool.len() >= a.pool || pool.iter().map(String::len).sum::<usize>() >= POOL_BYTES
                {
                    flush(&mut pool, &mut discovery);
                }
            }
            Err(e) => {
                errors += 1;
                eprintln!("unspin: {}: {}", record.source, e.chain());
            }
        }
    }
    flush(&mut pool, &mut discovery);
    if let Some(p) = &known {
        discovery.forget_known(p);
    }
    let proposals = discovery.proposals(a.min_docs);
    let mut out = std::io::stdout().lock();
    for p in proposals.iter().take(a.top) {
        if a.json {
            serde_json::to_writer(&mut out, p)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{:>5} docs {:>6} times  {} → {}  (odds 10^{:.1})  e.g. \"{}\"",
                p.docs,
                p.count,
                p.spun,
                p.original,
                p.mean_log_odds,
                p.examples.first().map_or("", String::as_str)
            )?;
        }
    }
    if let Some(path) = &a.output {
        discovery.profile(a.min_docs).save(path)?;
    }
    eprintln!(
        "{} proposals recurring in at least {} of {docs} documents ({errors} records unreadable)",
        proposals.len(),
        a.min_docs
    );
    Ok(if errors > 0 { 2 } else { 0 })
}

pub fn profile_cmd(c: ProfileCommand) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    match c {
        ProfileCommand::Show { profile, top, json } => {
            let p = Profile::load(&profile)?;
            if json {
                serde_json::to_writer_pretty(&mut out, &p)?;
                writeln!(out)?;
                return Ok(0);
            }
            writeln!(
                out,
                "{}: {} rules from {} pairs ({} words, {} substitutions, {} too long; {} words counted unchanged, format {})",
                profile.display(),
                p.rules.len(),
                p.pairs,
                p.words,
                p.substitutions,
                p.skipped,
                p.kept.len(),
                p.version
            )?;
            for r in p.rules.iter().take(top) {
                writeln!(out, "{:>7}  {} → {}", r.count, r.spun, r.original)?;
            }
            Ok(0)
        }
        ProfileCommand::Merge { profiles, output } => {
            let mut merged = Profile::load(&profiles[0])?;
            for p in &profiles[1..] {
                merged.merge(&Profile::load(p)?);
            }
            merged.save(&output)?;
            eprintln!(
                "merged {} profiles: {} rules from {} pairs; wrote {}",
                profiles.len(),
                merged.rules.len(),
                merged.pairs,
                output.display()
            );
            Ok(0)
        }
    }
}

#[derive(Serialize)]
struct EvalLearnReport {
    config: String,
    rate: f64,
    dictionary: u64,
    train_docs: usize,
    test_docs: usize,
    rules: usize,
    /// Share of the test documents' substitutions that the profile holds as rules.
    coverage: f64,
    /// Of the top 100 substitutions proposed from the test documents alone (`learn
    /// --unpaired`, recurring in two or more), the share that the spinner really made.
    unpaired_precision_at_100: f64,
    /// How many proposals there were (at most 100 are judged).
    unpaired_proposals: usize,
    /// Damage undone with the profile merged with what discovery proposed from the test
    /// documents themselves (a spinner's own output, unpaired, sharpening its profile): the
    /// profile's restorations, substitutions of spun words it has no rule for, recurring in
    /// `MERGE_MIN_DOCS` documents (`unspin learn --unpaired --profile`).
    profile_and_discovery_damage_undone: f64,
    /// The same three restorers with the test documents restored together, as texts of one
    /// spinner (`Restorer::restore_pooled`): one spin rate, each word decided once for all.
    generic_pooled_damage_undone: f64,
    profile_pooled_damage_undone: f64,
    profile_and_discovery_pooled_damage_undone: f64,
    /// No pairs at all: the rules discovery proposed (in 3 or more documents) from the generic
    /// restorations one by one, and from the pooled ones; the test documents restored together
    /// with them.
    discovery_only_pooled_damage_undone: f64,
    pooled_discovery_only_pooled_damage_undone: f64,
    /// The rules of pooled discovery, each test document then restored alone with them (what
    /// `learn --unpaired -o P` and `restore --profile P` give).
    pooled_discovery_only_damage_undone: f64,
    /// Discovery from the pooled restorations (`unspin learn --unpaired --pool`).
    pooled_unpaired_precision_at_100: f64,
    pooled_unpaired_proposals: usize,
    /// What scored the restorations: "trigram", or the sentence model's name with --precise.
    scorer: String,
    test_words: usize,
    spun_wer: f64,
    generic_damage_undone: f64,
    profile_damage_undone: f64,
}

/// Brown texts cut into halves at a paragraph boundary: a thousand documents of about a
/// thousand words, enough to learn from fifty and test on five hundred others.
fn half_documents(dir: &Path) -> Result<Vec<String>> {
    let docs = read_brown(dir, "c").with_context(|| {
        format!(
            "reading the Brown corpus from {} (run scripts/fetch-sources.sh)",
            dir.display()
        )
    })?;
    let mut out = Vec::new();
    for (_, d) in docs {
        let paras: Vec<&str> = d.split("\n\n").collect();
        let mid = paras.len() / 2;
        for half in [&paras[..mid], &paras[mid..]] {
            if !half.is_empty() {
                out.push(half.join("\n\n") + "\n");
            }
        }
    }
    Ok(out)
}

/// Restores the spun test documents together with `restorer`, hands each restoration to
/// `each` with its spun text, and tallies them against the originals.
fn tally_pooled<C: unspin::decode::Channel>(
    restorer: &Restorer<'_, C>,
    originals: &[&String],
    spun: &[&str],
    neural: &mut Option<crate::output::Neural>,
    mut each: impl FnMut(&str, &unspin::Restoration),
) -> Result<Tally> {
    let mut t = Tally::default();
    for ((d, s), r) in originals
        .iter()
        .zip(spun)
        .zip(restore_pooled(restorer, spun, neural)?)
    {
        each(s, &r);
        t.add(d, s, &r.text);
    }
    Ok(t)
}

/// Share of the 100 strongest proposals that are the spinner's true substitutions.
fn precision_at_100(
    proposals: &[unspin::learn::Proposal],
    truth: &std::collections::HashSet<(String, String)>,
) -> f64 {
    let words = |t: &str| {
        t.split_whitespace()
            .map(unspin::text::normalize)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let top = &proposals[..proposals.len().min(100)];
    top.iter()
        .filter(|p| truth.contains(&(words(&p.spun), words(&p.original))))
        .count() as f64
        / top.len().max(1) as f64
}

/// Documents a substitution found beyond a profile must recur in before `eval learn` merges it
/// into the profile (measured: 2 gave 0.369, 3 and 4 gave 0.373).
const MERGE_MIN_DOCS: usize = 3;

pub fn eval_learn(a: EvalLearnArgs) -> Result<u8> {
    let pack = load_pack(&a.pack)?;
    let mut neural = crate::output::open_neural(&a.precise)?;
    let c = config(&a.config)?;
    let docs = half_documents(&a.brown)?;
    anyhow::ensure!(
        docs.len() >= a.train + a.test,
        "{} documents, fewer than --train {} + --test {}",
        docs.len(),
        a.train,
        a.test
    );
    // Training and test documents interleave across genres, and never overlap.
    let step = docs.len() / (a.train + a.test);
    let picked: Vec<&String> = docs
        .iter()
        .step_by(step.max(1))
        .take(a.train + a.test)
        .collect();
    let (train, test) = picked.split_at(a.train);
    let spin_doc = |i: usize, d: &str| {
        spin_with_dictionary(
            &pack,
            d,
            &SpinOptions {
                seed: 90_000 + i as u64,
                rate: a.rate,
                mask: c.spin_mask,
                phrases: c.phrases,
                frequency_exponent: c.frequency_exponent,
            },
            a.dictionary,
        )
        .text
    };
    let pairs: Vec<(String, &str)> = train
        .iter()
        .enumerate()
        .map(|(i, d)| (spin_doc(i, d), d.as_str()))
        .collect();
    let profile = Profile::learn(pairs.iter().map(|(s, o)| (s.as_str(), *o)));
    let generic =
        Restorer::with_channel(&pack, a.tuning.channel(c.restore_mask), a.tuning.options());
    let learned_channel = ProfileChannel::with_generic(
        &pack,
        &profile,
        a.tuning.channel(c.restore_mask),
        ProfileOptions::default(),
    );
    let rules = learned_channel.rules();
    let learned = Restorer::with_channel(&pack, learned_channel, a.tuning.options());
    let known: std::collections::HashSet<(&str, &str)> = profile
        .rules
        .iter()
        .map(|r| (r.spun.as_str(), r.original.as_str()))
        .collect();
    let (mut subs, mut covered) = (0usize, 0usize);
    let (mut tg, mut tp) = (Tally::default(), Tally::default());
    let mut truth: std::collections::HashSet<(String, String)> = Default::default();
    let mut discovery = Discovery::default();
    // What recurs in the profile's own restorations, beyond the spun words it has rules for
    // (`unspin learn --unpaired --profile`).
    let mut beyond = Discovery::default();
    // The test documents are spun once; the third restorer below reads the same texts.
    let spun_test: Vec<String> = test
        .iter()
        .enumerate()
        .map(|(i, d)| spin_doc(a.train + i, d))
        .collect();
    for (d, s) in test.iter().zip(&spun_test) {
        let s = s.as_str();
        for b in unspin::learn::align(s, d).iter().filter(|b| !b.same) {
            subs += 1;
            let key = (b.spun.join(" "), b.original.join(" "));
            covered += usize::from(known.contains(&(key.0.as_str(), key.1.as_str())));
            truth.insert(key);
        }
        let r = restore(&generic, s, &mut neural)?;
        discovery.add(s, &r);
        tg.add(d, s, &r.text);
        tp.add(d, s, &restore(&learned, s, &mut neural)?.text);
    }
    // The test documents restored together, as texts of one spinner: one spin rate, and each
    // word decided once for all of them. Discovery reads these restorations too.
    let spun_refs: Vec<&str> = spun_test.iter().map(String::as_str).collect();
    let mut pooled_discovery = Discovery::default();
    let tgp = tally_pooled(&generic, test, &spun_refs, &mut neural, |s, r| {
        pooled_discovery.add(s, r)
    })?;
    let tpp = tally_pooled(&learned, test, &spun_refs, &mut neural, |s, r| {
        beyond.add(s, r)
    })?;
    let proposals = discovery.proposals(2);
    beyond.forget_known(&profile);
    let mut merged = profile.clone();
    merged.merge(&beyond.profile(MERGE_MIN_DOCS));
    let both = Restorer::with_channel(
        &pack,
        ProfileChannel::with_generic(
            &pack,
            &merged,
            a.tuning.channel(c.restore_mask),
            ProfileOptions::default(),
        ),
        a.tuning.options(),
    );
    let mut tb = Tally::default();
    for (d, s) in test.iter().zip(&spun_test) {
        tb.add(d, s, &restore(&both, s, &mut neural)?.text);
    }
    let tbp = tally_pooled(&both, test, &spun_refs, &mut neural, |_, _| {})?;
    // Unpaired alone: no pairs, only what discovery proposed (in 3 or more documents), the
    // test documents restored together with those rules.
    let mut unpaired = |d: &Discovery| -> Result<(f64, Restorer<'_, ProfileChannel>)> {
        let found = Restorer::with_channel(
            &pack,
            ProfileChannel::with_generic(
                &pack,
                &d.profile(MERGE_MIN_DOCS),
                a.tuning.channel(c.restore_mask),
                ProfileOptions::default(),
            ),
            a.tuning.options(),
        );
        let pooled = tally_pooled(&found, test, &spun_refs, &mut neural, |_, _| {})?;
        Ok((pooled.damage_undone(), found))
    };
    let (discovery_only, _) = unpaired(&discovery)?;
    let (pooled_discovery_only, found) = unpaired(&pooled_discovery)?;
    // What `learn --unpaired -o P` then `restore --profile P` gives, one text at a time.
    let mut tf = Tally::default();
    for (d, s) in test.iter().zip(&spun_refs) {
        tf.add(d, s, &restore(&found, s, &mut neural)?.text);
    }
    let pooled_proposals = pooled_discovery.proposals(2);
    let report = EvalLearnReport {
        config: a.config.clone(),
        rate: a.rate,
        dictionary: a.dictionary,
        train_docs: train.len(),
        test_docs: test.len(),
        rules,
        coverage: covered as f64 / subs.max(1) as f64,
        unpaired_precision_at_100: precision_at_100(&proposals, &truth),
        unpaired_proposals: proposals.len(),
        pooled_unpaired_precision_at_100: precision_at_100(&pooled_proposals, &truth),
        pooled_unpaired_proposals: pooled_proposals.len(),
        test_words: tg.words,
        spun_wer: tg.spun_wer(),
        generic_damage_undone: tg.damage_undone(),
        profile_damage_undone: tp.damage_undone(),
        profile_and_discovery_damage_undone: tb.damage_undone(),
        generic_pooled_damage_undone: tgp.damage_undone(),
        profile_pooled_damage_undone: tpp.damage_undone(),
        profile_and_discovery_pooled_damage_undone: tbp.damage_undone(),
        discovery_only_pooled_damage_undone: discovery_only,
        pooled_discovery_only_pooled_damage_undone: pooled_discovery_only,
        pooled_discovery_only_damage_undone: tf.damage_undone(),
        scorer: neural.as_ref().map_or("trigram".to_string(), |n| {
            unspin::restore::SentenceScorer::name(n).to_string()
        }),
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} spinner, dictionary {}, rate {}: learned {} rules from {} pairs, covering {:.1} % of the test substitutions; {} test documents ({} words, spun WER {:.4})",
            report.config,
            report.dictionary,
            report.rate,
            report.rules,
            report.train_docs,
            100.0 * report.coverage,
            report.test_docs,
            report.test_words,
            report.spun_wer
        )?;
        writeln!(
            out,
            "damage undone: generic channel {:.4}, learned profile {:.4}, profile plus unpaired discovery on the test documents {:.4}; scorer {}",
            report.generic_damage_undone,
            report.profile_damage_undone,
            report.profile_and_discovery_damage_undone,
            report.scorer
        )?;
        writeln!(
            out,
            "the test documents restored together (one spinner's texts): generic channel {:.4}, learned profile {:.4}, profile plus discovery {:.4}; no pairs, discovery's rules alone {:.4} (discovery from pooled restorations {:.4}; with those rules, each document alone {:.4})",
            report.generic_pooled_damage_undone,
            report.profile_pooled_damage_undone,
            report.profile_and_discovery_pooled_damage_undone,
            report.discovery_only_pooled_damage_undone,
            report.pooled_discovery_only_pooled_damage_undone,
            report.pooled_discovery_only_damage_undone
        )?;
        writeln!(
            out,
            "unpaired discovery on the test documents: {} proposals recurring in 2+ documents; precision of the top 100 against the spinner's true substitutions {:.2} (from pooled restorations: {} proposals, {:.2})",
            report.unpaired_proposals,
            report.unpaired_precision_at_100,
            report.pooled_unpaired_proposals,
            report.pooled_unpaired_precision_at_100
        )?;
    }
    Ok(0)
}
