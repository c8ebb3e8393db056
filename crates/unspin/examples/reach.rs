//! How far the thesauri reach, measured on data the restorer must undo:
//!
//! cargo run --release --example reach -- tortured ../shared/data/pps_dev.csv
//!   For each plain tortured phrase with an expected form of the same length: whether every
//!   changed word's expected word is one thesaurus step away (lemmas included), and whether the
//!   expected form is something the pack knows (a thesaurus phrase, or every adjacent pair a
//!   stored bigram of the language model).
//!
//! cargo run --release --example reach -- cross [DOCS]
//!   For the "cross" configuration (a Moby-only spinner over Brown press texts ca01…, rate 0.3,
//!   the seeds of `eval restore`'s first documents are not reproduced): how many substitutions
//!   the restorer's relations without Moby reach in one step, in two, and how many candidates two
//!   steps offer.
use std::collections::{BTreeMap, HashSet};

use unspin::fingerprint::FingerprintList;
use unspin::lexicon::flags;
use unspin::spin::{spin, SpinOptions};

fn main() {
    let pack = unspin::Pack::open("models/default.unspin".as_ref()).expect("the default pack");
    let lex = pack.lexicon();
    let lm = pack.lm();
    let nodes_of = |w: u32| -> Vec<u32> {
        let mut v: Vec<u32> = lex.analyses(w).map(|(l, _)| l).collect();
        v.push(w);
        v.into_iter().filter_map(|n| lex.node_of(&[n])).collect()
    };
    let lemmas = |w: u32| -> Vec<u32> {
        let mut v: Vec<u32> = lex.analyses(w).map(|(l, _)| l).collect();
        v.push(w);
        v
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("tortured") => {
            let path = args.get(1).expect("the PPS CSV");
            let bytes = std::fs::read(path).expect("readable CSV");
            let (list, _) = FingerprintList::import_csv(&bytes, path);
            let mut c: BTreeMap<&str, usize> = BTreeMap::new();
            for (phrase, expected) in list.plain_phrases() {
                *c.entry("phrases").or_default() += 1;
                let t: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
                let x: Vec<String> = expected.split_whitespace().map(str::to_lowercase).collect();
                if t.len() != x.len() {
                    *c.entry("lengths differ").or_default() += 1;
                    continue;
                }
                let ids = |v: &[String]| -> Option<Vec<u32>> {
                    v.iter().map(|w| lex.word_id(w)).collect()
                };
                let (Some(ti), Some(xi)) = (ids(&t), ids(&x)) else {
                    *c.entry("a word outside the vocabulary").or_default() += 1;
                    continue;
                };
                let reach = (0..t.len()).filter(|&i| ti[i] != xi[i]).all(|i| {
                    let want = lemmas(xi[i]);
                    nodes_of(ti[i]).into_iter().any(|n| {
                        lex.neighbors(n)
                            .any(|(m, _)| match lex.node_words(m).as_slice() {
                                [w] => want.contains(w),
                                _ => false,
                            })
                    })
                });
                let bigrams = |v: &[u32]| v.windows(2).all(|w| lm.has_bigram(w[0], w[1]));
                let known = lex.node_of(&xi).is_some() || bigrams(&xi);
                *c.entry("same length, in the vocabulary").or_default() += 1;
                if reach {
                    *c.entry("every expected word one step away").or_default() += 1;
                }
                if known {
                    *c.entry("expected form known to the pack").or_default() += 1;
                }
                if reach && known {
                    *c.entry("one step away and known").or_default() += 1;
                }
                if bigrams(&ti) {
                    *c.entry("tortured form's bigrams all stored").or_default() += 1;
                }
            }
            for (k, v) in c {
                println!("{k}: {v}");
            }
        }
        Some("cross") => {
            let n: usize = args
                .get(1)
                .map_or(10, |a| a.parse().expect("a number of documents"));
            let docs = unspin::eval::read_brown("target/sources/brown".as_ref(), "ca")
                .expect("Brown (scripts/fetch-sources.sh)");
            let mask = flags::MYTHES | flags::WORDNET | flags::WEAK;
            let (mut subs, mut one, mut two, mut offered) = (0usize, 0usize, 0usize, 0usize);
            for (i, (_, d)) in docs.iter().take(n).enumerate() {
                let opts = SpinOptions {
                    seed: 1000 + i as u64,
                    rate: 0.3,
                    mask: flags::MOBY,
                    phrases: false,
                    ..Default::default()
                };
                for s in spin(&pack, d, &opts).substitutions {
                    let (Some(sw), Some(ow)) = (
                        lex.word_id(&s.spun.to_lowercase()),
                        lex.word_id(&s.original.to_lowercase()),
                    ) else {
                        continue;
                    };
                    subs += 1;
                    let want = nodes_of(ow);
                    let step = |from: &HashSet<u32>| -> HashSet<u32> {
                        from.iter()
                            .flat_map(|&n| lex.neighbors(n))
                            .filter(|(_, f)| f & mask != 0)
                            .map(|(m, _)| m)
                            .collect()
                    };
                    let first = step(&nodes_of(sw).into_iter().collect());
                    if want.iter().any(|o| first.contains(o)) {
                        one += 1;
                        continue;
                    }
                    let second = step(&first);
                    offered += second.len();
                    two += usize::from(want.iter().any(|o| second.contains(o)));
                }
            }
            println!(
                "{subs} substitutions: one step without Moby reaches {one}, two steps {two} more, \
                 offering {} candidates on average",
                offered / (subs - one).max(1)
            );
        }
        _ => eprintln!("usage: reach tortured CSV | reach cross [DOCS]"),
    }
}
