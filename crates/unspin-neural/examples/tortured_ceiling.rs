//! What the sentence model knows about tortured phrases, and what keeps precise mode from
//! using it (BENCHMARKS.md, "Tortured phrases: what the sentence model knows"):
//!
//! cargo run --release -p unspin-neural --features candle --example tortured_ceiling --
//!     ../shared/data/pps_dev.csv [N]
//!
//! For each plain phrase with a known expected form (the phrases `unspin eval tortured` reads):
//! 1. whether the sentence model gives the expected form a higher ln P than the tortured
//!    phrase, each scored as a text of its own, and by how much on average;
//! 2. whether the expected form is in reach of the lattice with pruning and the fluency gate
//!    off: one span replaced by one of its candidates, or two spans;
//! 3. for the first N phrases (default 200; each costs a few hundred scored variants), every
//!    one-span variant scored alone: how often the expected form is the likeliest when it is in
//!    reach, with none, half or all of each candidate's frequency gap to the replaced words
//!    discounted; and, as a detector, how much the best variant beats the phrase as written,
//!    for the tortured phrases against their expected forms.
use unspin::decode::GenericChannel;
use unspin::fingerprint::FingerprintList;
use unspin::lexicon::flags;
use unspin::restore::RestoreOptions;
use unspin::{Pack, Restorer};
use unspin_neural::NeuralScorer;

/// A phrase's one-span variants: the phrase itself first, then each candidate of each span,
/// with the log10 unigram gap between the candidate's words and the words it replaces.
fn variants(r: &Restorer<'_, GenericChannel>, pack: &Pack, phrase: &str) -> Vec<(String, f32)> {
    let (lex, lm) = (pack.lexicon(), pack.lm());
    let freq = |s: &str| -> f32 {
        s.split_whitespace()
            .map(|w| {
                lex.word_id(&w.to_lowercase())
                    .map_or(-7.0, |id| lm.unigram(id))
            })
            .sum()
    };
    let mut out = vec![(phrase.to_string(), 0.0)];
    for (start, end, cands) in r.candidates(phrase) {
        let replaced = freq(&phrase[start..end]);
        for c in cands {
            let v = format!("{}{c}{}", &phrase[..start], &phrase[end..]);
            out.push((v, freq(&c) - replaced));
        }
    }
    out
}

/// Natural-log scores of many texts, in batches.
fn scores(n: &mut NeuralScorer, texts: &[&str]) -> Vec<f32> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        out.extend(n.score(chunk).expect("the sentence model scores"));
    }
    out
}

/// Area under the ROC curve: the probability that a positive outscores a negative.
fn auc(pos: &[f32], neg: &[f32]) -> f64 {
    let mut wins = 0f64;
    for p in pos {
        for q in neg {
            wins += if p > q {
                1.0
            } else if p == q {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()).max(1) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("the PPS CSV");
    let sample: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let bytes = std::fs::read(path).expect("readable CSV");
    let (list, _) = FingerprintList::import_csv(&bytes, path);
    let pairs: Vec<(&str, &str)> = list.plain_phrases().collect();
    let pack = Pack::open("models/default.unspin".as_ref()).expect("the default pack");
    let mut opts = RestoreOptions::default();
    opts.decode.prune_margin = 100.0;
    opts.decode.max_candidates = 1000;
    opts.decode.fluency_gate = false;
    let r = Restorer::with_channel(&pack, GenericChannel::new(flags::ALL), opts);
    let mut n = NeuralScorer::open(&NeuralScorer::default_path()).expect("the sentence model");

    // 1. The two forms against each other.
    let texts: Vec<&str> = pairs.iter().flat_map(|&(t, e)| [t, e]).collect();
    let s = scores(&mut n, &texts);
    let margins: Vec<f32> = s.chunks(2).map(|c| c[1] - c[0]).collect();
    let preferred = margins.iter().filter(|&&m| m > 0.0).count();
    println!(
        "{} plain phrases: the expected form scores higher in {preferred} ({:.1} %), by {:.2} nats on average",
        pairs.len(),
        100.0 * preferred as f64 / pairs.len() as f64,
        margins.iter().sum::<f32>() / pairs.len() as f32
    );

    // 2. Reach: one span or two.
    let (mut one, mut two) = (0usize, 0usize);
    for &(t, e) in &pairs {
        let e = e.to_lowercase();
        let cands = r.candidates(t);
        let hit = |v: String| v.to_lowercase() == e;
        if cands.iter().any(|(s, end, cs)| {
            cs.iter()
                .any(|c| hit(format!("{}{c}{}", &t[..*s], &t[*end..])))
        }) {
            one += 1;
            continue;
        }
        let reached = cands.iter().enumerate().any(|(i, (s1, e1, c1))| {
            cands[i + 1..]
                .iter()
                .filter(|(s2, _, _)| s2 >= e1)
                .any(|(s2, e2, c2)| {
                    c1.iter().any(|x| {
                        c2.iter().any(|y| {
                            hit(format!("{}{x}{}{y}{}", &t[..*s1], &t[*e1..*s2], &t[*e2..]))
                        })
                    })
                })
        });
        two += usize::from(reached);
    }
    println!(
        "in reach with pruning off: one span replaced {one} ({:.1} %), two spans {two} more ({:.1} % in all)",
        100.0 * one as f64 / pairs.len() as f64,
        100.0 * (one + two) as f64 / pairs.len() as f64
    );

    // 3. Every one-span variant of the first `sample` phrases, and of their expected forms.
    let discounts = [0.0f32, 0.5, 1.0];
    let mut reachable = 0usize;
    let mut top = [0usize; 3];
    let (mut gain_tortured, mut gain_expected) = (Vec::new(), Vec::new());
    for &(t, e) in pairs.iter().take(sample) {
        for (phrase, tortured) in [(t, true), (e, false)] {
            let vs = variants(&r, &pack, phrase);
            let texts: Vec<&str> = vs.iter().map(|(v, _)| v.as_str()).collect();
            let s = scores(&mut n, &texts);
            // ln P discounted by a share of the frequency gap (log10 → ln).
            let judged = |d: f32, i: usize| s[i] - d * std::f32::consts::LN_10 * vs[i].1;
            let best_other = (1..vs.len())
                .map(|i| judged(0.5, i))
                .fold(f32::NEG_INFINITY, f32::max);
            let gain = best_other - s[0];
            if !tortured {
                gain_expected.push(gain);
                continue;
            }
            gain_tortured.push(gain);
            let el = e.to_lowercase();
            let Some(at) = vs.iter().position(|(v, _)| v.to_lowercase() == el) else {
                continue;
            };
            reachable += 1;
            for (k, &d) in discounts.iter().enumerate() {
                let best = (0..vs.len())
                    .max_by(|&a, &b| judged(d, a).total_cmp(&judged(d, b)))
                    .unwrap_or(0);
                top[k] += usize::from(best == at);
            }
        }
    }
    let m = gain_tortured.len();
    println!("first {m} phrases: expected form one span away for {reachable}; the likeliest variant among all one-span variants of the phrase:");
    for (k, d) in discounts.iter().enumerate() {
        println!(
            "  frequency gap discounted {d}: the expected form {} of {reachable} ({:.1} % of the {m})",
            top[k],
            100.0 * top[k] as f64 / m.max(1) as f64
        );
    }
    println!(
        "  as a detector (best variant's gain over the phrase, gap discounted 0.5), tortured against expected forms: AUC {:.3}",
        auc(&gain_tortured, &gain_expected)
    );
    for cut in [0.0f32, 2.0, 4.0, 6.0, 8.0] {
        let share = |g: &[f32]| {
            100.0 * g.iter().filter(|&&x| x > cut).count() as f64 / g.len().max(1) as f64
        };
        println!(
            "  gain over {cut} nats: {:.1} % of tortured phrases, {:.1} % of expected forms",
            share(&gain_tortured),
            share(&gain_expected)
        );
    }
}
