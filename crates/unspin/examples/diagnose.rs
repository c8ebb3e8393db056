//! Where does restoration fail? Spins Brown texts, restores them, and sorts every substitution
//! into: restored, wrong candidate chosen, candidate present but kept, original not a candidate.
//!
//! cargo run --release --example diagnose -- target/sources/brown ca 10 same
use unspin::decode::GenericChannel;
use unspin::lexicon::flags;
use unspin::restore::RestoreOptions;
use unspin::spin::{spin, SpinOptions};
use unspin::{Pack, Restorer};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map_or("target/sources/brown", String::as_str);
    let genre = args.get(2).map_or("ca", String::as_str);
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let config = args.get(4).map_or("same", String::as_str);
    let verbose = std::env::var_os("VERBOSE").is_some();
    let pack = Pack::open("models/default.unspin".as_ref()).unwrap();
    let strong = flags::MYTHES | flags::WORDNET | flags::MOBY;
    let (spin_mask, restore_mask, phrases) = match config {
        "cross" => (
            flags::MOBY,
            flags::MYTHES | flags::WORDNET | flags::WEAK,
            false,
        ),
        "phrase" => (strong, flags::ALL, true),
        _ => (strong, flags::ALL, false),
    };
    let mut opts = RestoreOptions::default();
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f32>().ok());
    if let Some(g) = env("GATE") {
        opts.decode.fluency_gate = g != 0.0;
    }
    if let Some(x) = env("FLOOR") {
        opts.decode.fluency_floor = x;
    }
    if let Some(x) = env("TWOHOP") {
        opts.decode.two_hop_penalty = x;
    }
    if let Some(m) = env("MARGIN") {
        opts.decode.prune_margin = m;
    }
    if let Some(x) = env("RATE") {
        opts.initial_rate = x;
        opts.em_iterations = 0;
    }
    if let Some(x) = env("CONSISTENT") {
        opts.consistent = x != 0.0;
    }
    if let Some(m) = env("MAXC") {
        opts.decode.max_candidates = m as usize;
    }
    let r = Restorer::with_channel(&pack, GenericChannel::new(restore_mask), opts);
    let docs = unspin::eval::read_brown(dir.as_ref(), genre).unwrap();
    let (mut ok, mut wrong, mut kept, mut absent, mut false_changes) = (0, 0, 0, 0, 0);
    for (i, (_, doc)) in docs.iter().take(n).enumerate() {
        let s = spin(
            &pack,
            doc,
            &SpinOptions {
                seed: 1000 + i as u64,
                rate: 0.3,
                mask: spin_mask,
                phrases,
                ..Default::default()
            },
        );
        let res = r.restore(&s.text);
        if std::env::var_os("RATES").is_some() {
            println!(
                "doc {i}: true share of words spun {:.3}, estimated spin rate {:.3}",
                s.substitutions.len() as f64 / res.words as f64,
                res.spin_rate
            );
        }
        let cands = r.candidates(&s.text);
        let mut spans: std::collections::HashMap<usize, &unspin::Span> =
            res.spans.iter().map(|sp| (sp.start, sp)).collect();
        for sub in &s.substitutions {
            let orig = sub.original.to_lowercase();
            let got = spans.remove(&sub.spun_start);
            let present = cands
                .iter()
                .any(|(a, b, c)| *a == sub.spun_start && *b == sub.spun_end && c.contains(&orig));
            let verdict = match got {
                Some(sp) if sp.restored.to_lowercase() == orig => {
                    ok += 1;
                    "ok"
                }
                Some(_) => {
                    wrong += 1;
                    "wrong"
                }
                None if present => {
                    kept += 1;
                    "kept"
                }
                None => {
                    absent += 1;
                    "absent"
                }
            };
            if verbose && verdict != "ok" {
                println!(
                    "{verdict:7} {} -> {} => {}",
                    sub.original,
                    sub.spun,
                    got.map_or("-".into(), |g| g.restored.clone())
                );
            }
        }
        false_changes += spans.len();
        if verbose {
            for sp in spans.values() {
                println!("false   {} => {}", sp.spun, sp.restored);
            }
        }
    }
    let clean: usize = docs
        .iter()
        .take(n)
        .map(|(_, d)| unspin::eval::words(d).len())
        .sum();
    let arcs: usize = docs
        .iter()
        .take(n)
        .map(|(_, d)| r.candidates(d).iter().map(|c| c.2.len()).sum::<usize>())
        .sum();
    println!(
        "clean text: {:.2} replacement arcs per word after pruning",
        arcs as f64 / clean as f64
    );
    let total = (ok + wrong + kept + absent) as f64;
    println!(
        "{config}: {total} substitutions: restored {:.3}, wrong candidate {:.3}, present but kept {:.3}, not a candidate {:.3}; false changes {false_changes}",
        ok as f64 / total, wrong as f64 / total, kept as f64 / total, absent as f64 / total
    );
}
