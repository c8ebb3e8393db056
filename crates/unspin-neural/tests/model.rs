//! Tests against the real model (feature `candle`).
//!
//! The model file comes from `scripts/fetch-neural.sh`. When it is absent the model tests print a
//! note and pass, unless `UNSPIN_REQUIRE_NEURAL=1`, when they fail.
//!
//! The tests of how sentences are cut, batched and cached compare scores to 1e-3 and run with
//! f32 products ([`Products::Exact`]): with 8-bit ones, any change in the order of a sum may move
//! an input across a rounding step, so the same sentence scored two ways differs by a fraction
//! of a nat. The tests of what the model prefers run with both, and
//! `fast_products_stay_close_to_exact_ones` bounds the difference.
#![cfg(feature = "candle")]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use unspin_neural::{NeuralError, NeuralScorer, Products};

const SENTENCE: &str = "Six Russian soldiers who fled the war in Ukraine have been granted \
temporary visas as they apply for political asylum in France, in what human rights activists \
describe as the first major case of a group of deserters being admitted to a EU country.";

/// Real spinner substitutions in [`SENTENCE`]: (original, spun).
const SUBSTITUTIONS: [(&str, &str); 7] = [
    ("soldiers", "troopers"),
    ("war", "warfare"),
    ("temporary", "momentary"),
    ("first", "primary"),
    ("major", "main"),
    ("group", "gaggle"),
    ("country", "nation"),
];

fn model_path() -> Option<PathBuf> {
    let path = NeuralScorer::default_path();
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("UNSPIN_REQUIRE_NEURAL").as_deref() == Ok("1") {
        panic!(
            "UNSPIN_REQUIRE_NEURAL=1 but the model {} is missing: run scripts/fetch-neural.sh",
            path.display()
        );
    }
    eprintln!(
        "note: skipped, no model at {} (run scripts/fetch-neural.sh)",
        path.display()
    );
    None
}

/// One scorer per kind of products shared by the tests (loading takes a moment).
fn scorer_with(products: Products) -> Option<MutexGuard<'static, NeuralScorer>> {
    static EXACT: OnceLock<Mutex<NeuralScorer>> = OnceLock::new();
    static FAST: OnceLock<Mutex<NeuralScorer>> = OnceLock::new();
    let path = model_path()?;
    let cell = match products {
        Products::Exact => &EXACT,
        _ => &FAST,
    };
    let m = cell.get_or_init(|| {
        Mutex::new(NeuralScorer::open_with(&path, products).unwrap_or_else(|e| panic!("{e}")))
    });
    Some(m.lock().unwrap_or_else(|p| p.into_inner()))
}

/// The f32 scorer, for the tests that compare scores of one sentence computed two ways.
fn scorer() -> Option<MutexGuard<'static, NeuralScorer>> {
    scorer_with(Products::Exact)
}

/// Both kinds of products, for the tests of what the model prefers.
const BOTH: [Products; 2] = [Products::Exact, Products::Fast];

/// Replaces the whole word `from` (exactly once) in `text`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '\'';
    let hits: Vec<usize> = text
        .match_indices(from)
        .map(|(i, _)| i)
        .filter(|&i| {
            !text[..i].chars().next_back().is_some_and(is_word)
                && !text[i + from.len()..].chars().next().is_some_and(is_word)
        })
        .collect();
    assert_eq!(hits.len(), 1, "`{from}` should occur once as a word");
    format!("{}{to}{}", &text[..hits[0]], &text[hits[0] + from.len()..])
}

fn close(a: f32, b: f32, rel: f32) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn missing_file_is_an_error_naming_the_path() {
    let path = Path::new("/nonexistent/unspin/model.gguf");
    let err = NeuralScorer::open(path).unwrap_err();
    assert!(matches!(err, NeuralError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/unspin/model.gguf"));
}

#[test]
fn corrupt_file_is_an_error_naming_the_path() {
    let dir = std::env::temp_dir().join(format!("unspin-neural-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Garbage, and a GGUF header that promises more than the file holds.
    let garbage = dir.join("garbage.gguf");
    std::fs::write(&garbage, b"not a model at all").unwrap();
    let mut header = b"GGUF".to_vec();
    header.extend_from_slice(&3u32.to_le_bytes());
    header.extend_from_slice(&272u64.to_le_bytes());
    header.extend_from_slice(&33u64.to_le_bytes());
    let truncated = dir.join("truncated.gguf");
    std::fs::write(&truncated, &header).unwrap();
    for path in [&garbage, &truncated] {
        let err = NeuralScorer::open(path).unwrap_err();
        assert!(matches!(err, NeuralError::Model { .. }), "{err:?}");
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    }
    // The real model cut short: the metadata reads, the tensors do not.
    if let Some(model) = model_path() {
        let bytes = std::fs::read(model).unwrap();
        let cut = dir.join("cut.gguf");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = NeuralScorer::open(&cut).unwrap_err();
        assert!(matches!(err, NeuralError::Model { .. }), "{err:?}");
        assert!(err.to_string().contains(&*cut.to_string_lossy()), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn model_loads_and_tokenizer_round_trips() {
    let Some(s) = scorer() else { return };
    for text in [
        SENTENCE,
        "the first major case of a group of deserters",
        "  Leading spaces,\ttabs\nand newlines\n\n  too.",
        "Numbers: 2024, 3.14159 and 1,000,000!",
        "Unicode: naïve café — “quotes” 日本語 😀",
        "don't can't I'll we've they're",
        "",
    ] {
        let ids = s.tokenize(text).unwrap();
        assert_eq!(s.detokenize(&ids).unwrap(), text, "{ids:?}");
    }
    let pieces = |text: &str| -> Vec<String> {
        let ids = s.tokenize(text).unwrap();
        ids.iter().map(|&i| s.token(i).unwrap()).collect()
    };
    // Common words are single tokens carrying their leading space (Ġ).
    assert_eq!(
        pieces("the first major case of a group of deserters"),
        [
            "the", "Ġfirst", "Ġmajor", "Ġcase", "Ġof", "Ġa", "Ġgroup", "Ġof", "Ġdes", "er", "ters"
        ]
    );
    // SmolLM2 splits digits one by one; the space before a number stays on its own.
    assert_eq!(pieces("in 2024"), ["in", "Ġ", "2", "0", "2", "4"]);
    // Ids as llama.cpp's own tokenizer gives them for this GGUF (llama-cpp-python 0.3.36).
    assert_eq!(s.tokenize(SENTENCE).unwrap(), SENTENCE_IDS);
    for (text, ids) in LLAMA_CPP_IDS {
        assert_eq!(s.tokenize(text).unwrap(), ids, "{text:?}");
    }
}

/// [`SENTENCE`] tokenised by llama.cpp.
const SENTENCE_IDS: [u32; 48] = [
    30263, 6103, 6333, 617, 14464, 260, 1913, 281, 14815, 457, 719, 8722, 8849, 45698, 347, 502,
    3777, 327, 2356, 24887, 281, 4649, 28, 281, 732, 1205, 2387, 13402, 5125, 347, 260, 808, 1739,
    1671, 282, 253, 1528, 282, 708, 259, 1191, 1036, 12453, 288, 253, 7905, 1798, 30,
];

/// Text and its ids as llama.cpp tokenises them with this GGUF: whitespace runs, digits,
/// contractions, non-ASCII.
const LLAMA_CPP_IDS: [(&str, &[u32]); 11] = [
    (
        "the first major case of a group of deserters",
        &[1195, 808, 1739, 1671, 282, 253, 1528, 282, 708, 259, 1191],
    ),
    (
        "  Leading spaces,\ttabs\nand newlines\n\n  too.",
        &[
            216, 36970, 5600, 28, 197, 100, 7366, 198, 397, 725, 5110, 8866, 1147, 30,
        ],
    ),
    (
        "Numbers: 2024, 3.14159 and 1,000,000!",
        &[
            39006, 42, 216, 34, 32, 34, 36, 28, 216, 35, 30, 33, 36, 33, 37, 41, 284, 216, 33, 28,
            32, 32, 32, 28, 32, 32, 32, 17,
        ],
    ),
    (
        "Unicode: naïve café — “quotes” 日本語 😀",
        &[
            3706, 15817, 42, 15486, 46494, 37366, 1841, 619, 385, 2346, 573, 17097, 241, 115,
            40993, 179, 120, 248, 40303, 218,
        ],
    ),
    (
        "don't can't I'll we've they're",
        &[12420, 982, 416, 982, 339, 3060, 392, 3543, 502, 2316],
    ),
    ("in 2024", &[254, 216, 34, 32, 34, 36]),
    ("It's", &[1589, 506]),
    (
        "Hello'Ve world 123\n\n  foo",
        &[19556, 23, 25917, 905, 216, 33, 34, 35, 8866, 29856],
    ),
    ("a   b\n \n\tc  ", &[81, 256, 278, 198, 3717, 197, 83, 256]),
    (
        "x\u{a0}y  — z...",
        &[104, 15442, 105, 216, 1841, 1892, 2026],
    ),
    (" leading", &[2899]),
];

#[test]
fn original_phrase_beats_spun_phrase() {
    for products in BOTH {
        let Some(mut s) = scorer_with(products) else {
            return;
        };
        let original = "the first major case of a group of deserters";
        let spun = "the primary main case of a gaggle of deserters";
        let scores = s.score(&[original, spun]).unwrap();
        eprintln!(
            "{products:?} {original:?}: {:.3}\n{spun:?}: {:.3}",
            scores[0], scores[1]
        );
        assert!(scores.iter().all(|x| x.is_finite() && *x < 0.0));
        assert!(scores[0] > scores[1], "{products:?}: {scores:?}");
    }
}

#[test]
fn original_sentence_beats_each_single_substitution() {
    for products in BOTH {
        let Some(mut s) = scorer_with(products) else {
            return;
        };
        let refs = with_each_substitution();
        let scores = s
            .score(&refs.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap();
        eprintln!("{products:?} original: {:.3}", scores[0]);
        for ((original, spun), score) in SUBSTITUTIONS.iter().zip(&scores[1..]) {
            eprintln!(
                "{original} -> {spun}: {score:.3} ({:+.3})",
                score - scores[0]
            );
        }
        for ((original, spun), score) in SUBSTITUTIONS.iter().zip(&scores[1..]) {
            assert!(
                scores[0] > *score,
                "{products:?} {original} -> {spun}: {score} >= {}",
                scores[0]
            );
        }
    }
}

/// [`SENTENCE`], then [`SENTENCE`] with each of [`SUBSTITUTIONS`] made alone.
fn with_each_substitution() -> Vec<String> {
    let mut sentences = vec![SENTENCE.to_string()];
    for (original, spun) in SUBSTITUTIONS {
        sentences.push(replace_word(SENTENCE, original, spun));
    }
    sentences
}

#[test]
fn fast_products_stay_close_to_exact_ones() {
    let Some(mut exact) = scorer_with(Products::Exact) else {
        return;
    };
    let Some(mut fast) = scorer_with(Products::Fast) else {
        return;
    };
    let mut sentences = with_each_substitution();
    sentences.push("the first major case of a group of deserters".into());
    sentences.push("the primary main case of a gaggle of deserters".into());
    sentences.push("Numbers: 2024, 3.14159 and 1,000,000!".into());
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let e = exact.score(&refs).unwrap();
    let f = fast.score(&refs).unwrap();
    let mut total = 0f32;
    for ((text, e), f) in refs.iter().zip(&e).zip(&f) {
        eprintln!(
            "{e:9.3} {f:9.3} {:+.3}  {}",
            f - e,
            &text[..text.len().min(40)]
        );
        // On a CPU without AVX-512 VNNI, Fast is Exact and the difference is 0.
        // Rounding to 8 bits moves a 45-token sentence's score by up to about 2 nats (1 %);
        // which sentences move most depends on how halves round, so the bound leaves room.
        assert!((f - e).abs() < 3.0, "{text:?}: fast {f} against exact {e}");
        total += (f - e).abs();
    }
    let mean = total / refs.len() as f32;
    assert!(mean < 1.5, "mean difference {mean} nats");
    // What precise mode reads: differences between variants.
    for i in 1..=SUBSTITUTIONS.len() {
        let (de, df) = (e[0] - e[i], f[0] - f[i]);
        assert!((df - de).abs() < 3.0, "{}: {df} against {de}", refs[i]);
    }
}

/// [`SENTENCE`] cut before "first major" (… describe as the ), and its rest as it is followed by
/// the rest with each (word, replacement) made once.
fn tail_variants(swaps: &[(&str, &str)]) -> (&'static str, Vec<String>) {
    let (prefix, tail) = SENTENCE.split_at(SENTENCE.find("first major").unwrap());
    let mut out = vec![tail.to_string()];
    out.extend(swaps.iter().map(|(from, to)| tail.replacen(from, to, 1)));
    (prefix, out)
}

#[test]
fn score_variants_agrees_with_score() {
    let Some(mut s) = scorer() else { return };
    let (prefix, variants) = tail_variants(&[
        ("first", "primary"),
        ("major", "main"),
        ("group", "gaggle"),
        ("country", "nation"),
    ]);
    let variants: Vec<&str> = variants.iter().map(String::as_str).collect();
    let shared = s.score_variants(prefix, &variants).unwrap();
    let whole: Vec<String> = variants.iter().map(|v| format!("{prefix}{v}")).collect();
    let whole: Vec<&str> = whole.iter().map(String::as_str).collect();
    let separate = s.score(&whole).unwrap();
    for (a, b) in shared.iter().zip(&separate) {
        eprintln!("score_variants {a:.4}  score {b:.4}");
        assert!(close(*a, *b, 1e-3), "{a} vs {b}");
    }
    assert!(shared[0] > shared[1..].iter().cloned().fold(f32::MIN, f32::max));
    // A prefix that ends mid-word, and a single variant, still match `score`.
    let one = s.score_variants("the first ma", &["jor case"]).unwrap();
    let direct = s.score(&["the first major case"]).unwrap();
    assert!(close(one[0], direct[0], 1e-3), "{one:?} vs {direct:?}");
    assert!(s.score_variants("x", &[]).unwrap().is_empty());
}

#[test]
fn batch_scores_match_single_scores_and_empty_is_zero() {
    let Some(mut s) = scorer() else { return };
    let batch = [
        "A short one.",
        "",
        "the first major case of a group of deserters",
    ];
    let together = s.score(&batch).unwrap();
    assert_eq!(together[1], 0.0);
    for (text, t) in batch.iter().zip(&together) {
        let alone = s.score(&[text]).unwrap()[0];
        assert!(close(alone, *t, 1e-3), "{text:?}: {alone} vs {t}");
    }
}

#[test]
fn scores_agree_with_llama_cpp() {
    // ln P from llama.cpp (llama-cpp-python 0.3.36, all logits, same GGUF, same start token);
    // it rounds activations to 8 bits in its 4-bit products, hence the tolerance, and our 8-bit
    // products round them too, in other blocks, hence twice that for them.
    let mut sentences = vec![
        "the first major case of a group of deserters".to_string(),
        "the primary main case of a gaggle of deserters".to_string(),
        SENTENCE.to_string(),
    ];
    for (original, spun) in SUBSTITUTIONS {
        sentences.push(replace_word(SENTENCE, original, spun));
    }
    let llama_cpp = [
        -52.208, -66.486, -183.375, -186.687, -189.898, -197.031, -199.988, -191.855, -190.871,
        -185.859,
    ];
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    for products in BOTH {
        let Some(mut s) = scorer_with(products) else {
            return;
        };
        let scores = s.score(&refs).unwrap();
        for ((text, ours), theirs) in refs.iter().zip(&scores).zip(llama_cpp) {
            eprintln!("{products:?} {ours:9.3} {theirs:9.3}  {}", &text[..40]);
            let tolerance = if products == Products::Exact {
                1.5
            } else {
                3.0
            };
            assert!(
                (ours - theirs).abs() < tolerance,
                "{products:?} {text:?}: {ours} vs llama.cpp {theirs}"
            );
        }
    }
}

#[test]
fn prefixes_that_extend_the_last_one_score_as_whole_sentences() {
    let Some(mut s) = scorer() else { return };
    // Left to right over one sentence, as precise mode asks (each prefix extends the last one),
    // then a prefix that does not extend it, then the first again.
    let cuts = [
        "Six Russian ",
        "Six Russian soldiers who fled the ",
        "Six Russian soldiers who fled the war in ",
    ];
    let other = "Temporary visas were granted to ";
    for prefix in cuts.iter().chain([&other, &cuts[1]]) {
        let variants = [
            "war in Ukraine.",
            "warfare in Ukraine.",
            "conflict in Ukraine.",
        ];
        let got = s.score_variants(prefix, &variants).unwrap();
        let whole: Vec<String> = variants.iter().map(|v| format!("{prefix}{v}")).collect();
        let whole: Vec<&str> = whole.iter().map(String::as_str).collect();
        let want = s.score(&whole).unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!(close(*a, *b, 1e-3), "{prefix:?}: {a} vs {b}");
        }
    }
}

#[test]
fn a_window_leaves_out_the_shared_tail_but_keeps_the_ranking() {
    let Some(mut s) = scorer() else { return };
    let (prefix, variants) = tail_variants(&[
        ("first", "primary"),
        ("first", "initial"),
        ("first", "beginning"),
    ]);
    let variants: Vec<&str> = variants.iter().map(String::as_str).collect();
    let full = s.score_variants(prefix, &variants).unwrap();
    // A window past the sentence's end scores every token: the whole sentences.
    let wide = s.score_variants_near(prefix, &variants, 1000).unwrap();
    for (a, b) in wide.iter().zip(&full) {
        assert!(close(*a, *b, 1e-3), "{a} vs {b}");
    }
    // Precise mode's window.
    let w = unspin::restore::RestoreOptions::default().precise_window;
    let near = s.score_variants_near(prefix, &variants, w).unwrap();
    for (n, f) in near.iter().zip(&full) {
        // The left-out tokens ("… deserters being admitted to a EU country.") each cost something.
        assert!(*n > *f + 1.0, "window {w}: {n}, whole: {f}");
    }
    // The same winner, and each margin over a loser within a quarter of the whole sentences'.
    let best = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
    assert_eq!(best(&near), 0);
    assert_eq!(best(&full), 0);
    for i in 1..near.len() {
        let (dn, df) = (near[0] - near[i], full[0] - full[i]);
        eprintln!("variant {i}: window {dn:.2} nats, whole {df:.2}");
        assert!(
            (dn - df).abs() <= 0.25 * df,
            "variant {i}: {dn} against {df}"
        );
    }
}

#[test]
fn groups_of_one_sentence_score_as_each_group_alone() {
    let Some(mut s) = scorer() else { return };
    // Precise mode's groups: at each of several positions, the word there and its
    // alternatives, every variant read in the same sentence, the first group at its very
    // first word and one in the middle of a word's tokens.
    let sentence =
        "Six Russian soldiers who fled the war in Ukraine have been granted temporary visas.";
    let at = |w: &str| sentence.find(w).unwrap();
    let swaps: [(&str, &[&str]); 4] = [
        ("Six", &["Seven", "Half a dozen"]),
        ("soldiers", &["troopers", "men", "warriors"]),
        ("war", &["warfare", "conflict"]),
        ("temporary", &["momentary", "provisional"]),
    ];
    let mut owned: Vec<(String, Vec<String>)> = Vec::new();
    for (word, alts) in swaps {
        let (prefix, rest) = sentence.split_at(at(word));
        let tail = &rest[word.len()..];
        let mut variants = vec![format!("{word}{tail}")];
        variants.extend(alts.iter().map(|a| format!("{a}{tail}")));
        owned.push((prefix.to_string(), variants));
    }
    let groups: Vec<(&str, Vec<&str>)> = owned
        .iter()
        .map(|(p, vs)| (p.as_str(), vs.iter().map(String::as_str).collect()))
        .collect();
    for window in [0, 6] {
        let together = s.score_groups(sentence, &groups, window).unwrap();
        assert_eq!(together.len(), groups.len());
        for ((prefix, variants), got) in groups.iter().zip(&together) {
            let alone = match window {
                0 => s.score_variants(prefix, variants).unwrap(),
                w => s.score_variants_near(prefix, variants, w).unwrap(),
            };
            assert_eq!(got.len(), alone.len());
            for (a, b) in got.iter().zip(&alone) {
                assert!(
                    close(*a, *b, 1e-3),
                    "window {window}, {prefix:?}: {a} vs {b}"
                );
            }
        }
    }
    // A group whose variants do not read as the sentence still scores as it would alone: the
    // shared part is only what its rows have in common with the sentence.
    let odd = [(
        "Temporary visas were granted to ",
        vec!["soldiers.", "troopers."],
    )];
    let odd: Vec<(&str, Vec<&str>)> = odd.iter().map(|(p, v)| (*p, v.clone())).collect();
    let got = s.score_groups(sentence, &odd, 0).unwrap();
    let alone = s.score_variants(odd[0].0, &odd[0].1).unwrap();
    for (a, b) in got[0].iter().zip(&alone) {
        assert!(close(*a, *b, 1e-3), "{a} vs {b}");
    }
}
