//! Tests of the library against the committed default pack (and its sources, when fetched).

use std::path::{Path, PathBuf};

use unspin::eval::Tally;
use unspin::lexicon::flags;
use unspin::spin::{spin, SpinOptions};
use unspin::{Pack, Restorer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pack() -> Pack {
    Pack::open(&root().join("models/default.unspin")).expect("default pack loads")
}

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(name)).unwrap()
}

#[test]
fn morphology_reaches_inflected_originals() {
    let p = pack();
    let lex = p.lexicon();
    let id = |w: &str| {
        lex.word_id(w)
            .unwrap_or_else(|| panic!("{w} in vocabulary"))
    };
    // "troopers" → trooper (plural) and "despatched" → despatch (past), as the issue asks.
    assert!(lex
        .analyses(id("troopers"))
        .any(|(l, _)| l == id("trooper")));
    assert!(lex
        .analyses(id("despatched"))
        .any(|(l, _)| l == id("despatch")));
    assert!(lex
        .inflect(id("soldier"), unspin::lexicon::Form::S)
        .any(|w| w == id("soldiers")));
    assert!(lex
        .inflect(id("send"), unspin::lexicon::Form::Ed)
        .any(|w| w == id("sent")));
    // Relations are undirected: soldier ~ trooper both ways.
    let (s, t) = (id("soldier"), id("trooper"));
    assert!(lex.neighbors(s).any(|(n, _)| n == t));
    assert!(lex.neighbors(t).any(|(n, _)| n == s));
}

#[test]
fn clean_text_is_left_almost_alone() {
    let p = pack();
    let original = example("spun-news.original.txt");
    let r = Restorer::new(&p).restore(&original);
    assert!(r.spans.len() <= 2, "changed clean text: {:?}", r.spans);
}

#[test]
fn a_recurring_words_rule_shares_its_odds_among_its_occurrences() {
    // "warfare" four times: the document-level rule decides it once for all of them. Each
    // occurrence must carry a share of the rule's odds, not certainty: a technical term a paper
    // repeats twenty times would otherwise count as twenty findings of a million to one each
    // (what flagged clean learned writing before).
    let p = pack();
    let text = "The troopers fled the warfare in the east. Many families left the region \
                because of the warfare. The warfare has lasted three years. Officials said the \
                warfare would end soon.";
    let r = Restorer::new(&p).restore(text);
    let spans: Vec<_> = r.spans.iter().filter(|s| s.spun == "warfare").collect();
    assert_eq!(spans.len(), 4, "{:?}", r.spans);
    let total: f32 = spans.iter().map(|s| s.log_odds).sum();
    for s in &spans {
        assert_eq!(s.restored, "war");
        assert_eq!(s.log_odds, spans[0].log_odds, "one rule, one share");
        assert!(s.log_odds < unspin::restore::MAX_LOG_ODDS, "{s:?}");
        assert!(s.confidence < 1.0 && s.confidence > 0.5, "{s:?}");
        assert_eq!(
            s.alternatives.len(),
            1,
            "keeping the word is the alternative"
        );
        assert_eq!(s.alternatives[0].text, "warfare");
        assert!((s.confidence + s.alternatives[0].confidence - 1.0).abs() < 1e-5);
    }
    // Together they hold the rule's odds, which cleared the rule's threshold.
    assert!(total > 5.0, "{total}");
}

#[test]
fn phrase_spinning_is_partly_undone() {
    let p = pack();
    let original = example("spun-news.original.txt");
    let restorer = Restorer::new(&p);
    let mut tally = Tally::default();
    for seed in 0..8 {
        let s = spin(
            &p,
            &original,
            &SpinOptions {
                seed,
                rate: 0.3,
                mask: flags::MYTHES | flags::WORDNET | flags::MOBY,
                phrases: true,
                ..Default::default()
            },
        );
        let r = restorer.restore(&s.text);
        tally.add(&original, &s.text, &r.text);
    }
    assert!(tally.spun_errors > 0);
    assert!(
        tally.damage_undone() > 0.2,
        "damage undone {:.3}",
        tally.damage_undone()
    );
}

/// The committed pack is rebuilt byte for byte from the pinned sources. CI fetches them
/// (scripts/fetch-sources.sh) and sets UNSPIN_REQUIRE_SOURCES=1 so this cannot pass vacuously.
#[test]
fn default_pack_rebuilds_byte_identically() {
    let sources = std::env::var_os("UNSPIN_SOURCES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/sources"));
    if !sources.join("pocketsphinx/en-us.lm.bin").exists() {
        assert!(
            std::env::var_os("UNSPIN_REQUIRE_SOURCES").is_none(),
            "sources missing at {}",
            sources.display()
        );
        eprintln!("sources not fetched; run scripts/fetch-sources.sh to check the pack rebuild");
        return;
    }
    let (bytes, _) = unspin::build::build_pack(&unspin::build::BuildOptions {
        sources,
        thesauri: flags::ALL,
    })
    .unwrap();
    let committed = std::fs::read(root().join("models/default.unspin")).unwrap();
    assert!(
        bytes == committed,
        "rebuilt pack differs from models/default.unspin"
    );
}

/// Regression: a pack whose phrase table has an empty phrase loaded, then restoring panicked
/// (found by the `pack_edit` fuzz target).
#[test]
fn empty_phrase_pack_is_refused() {
    let bytes = std::fs::read(root().join("fuzz/regressions/empty-phrase.unspin")).unwrap();
    let err = Pack::from_bytes(bytes).err().expect("refused");
    assert!(err.to_string().contains("fewer than two words"), "{err}");
}

#[test]
fn sentence_model_proposals_are_kept_only_when_the_thesauri_relate_them() {
    let p = pack();
    let (lex, lm) = (p.lexicon(), p.lm());
    let id = |w: &str| lex.word_id(w).unwrap();
    let channel = unspin::decode::GenericChannel::default();
    let proposed = [
        id("cities"),
        id("soldiers"),
        id("troopers"),
        id("companies"),
    ];
    let kept: Vec<&str> = unspin::decode::related_originals(
        &lex,
        &lm,
        &channel,
        id("troopers"),
        &proposed,
        -2.5,
        0.7,
    )
    .iter()
    .map(|&(w, ch)| {
        assert!(ch.is_finite() && ch <= 0.0, "{ch}");
        lex.word(w)
    })
    .collect();
    // The observed word itself and unrelated words are never candidates.
    assert_eq!(kept, ["soldiers"]);
}

/// A stand-in sentence model: it expects "soldiers" everywhere, likes sentences with it, and
/// checks that every offset it is asked about is where a word of the sentence starts.
struct ExpectsSoldiers {
    asked: usize,
}

impl unspin::restore::SentenceScorer for ExpectsSoldiers {
    fn score_variants(&mut self, prefix: &str, variants: &[&str]) -> Result<Vec<f32>, String> {
        Ok(variants
            .iter()
            .map(|v| 20.0 * format!("{prefix}{v}").matches("soldiers").count() as f32)
            .collect())
    }

    fn next_words(
        &mut self,
        sentence: &str,
        at: &[usize],
        k: usize,
    ) -> Result<Vec<unspin::restore::Expected>, String> {
        for &o in at {
            let before = &sentence[..o];
            assert!(
                before.is_empty() || before.ends_with(|c: char| !c.is_alphanumeric()),
                "offset {o} is inside a word of {sentence:?}"
            );
            assert!(
                sentence[o..].starts_with(|c: char| c.is_alphabetic()),
                "{o} {sentence:?}"
            );
        }
        self.asked += at.len();
        assert!(k > 0);
        let e = unspin::restore::Expected {
            observed: -8.0,
            words: vec![("soldiers".to_string(), -0.1)],
        };
        Ok(vec![e; at.len()])
    }

    fn name(&self) -> &str {
        "expects-soldiers"
    }
}

#[test]
fn precise_mode_asks_the_sentence_model_for_candidates_at_word_starts() {
    let p = pack();
    let proposing = unspin::restore::RestoreOptions {
        precise_proposals: 30,
        ..Default::default()
    };
    let r = Restorer::with_channel(&p, unspin::decode::GenericChannel::default(), proposing);
    let text =
        "“Six Russian troopers,” she said, “fled the warfare.” The troopers were granted visas.";
    let mut m = ExpectsSoldiers { asked: 0 };
    let out = r.restore_precise(text, &mut m).unwrap();
    assert!(m.asked >= 3, "asked at {} words", m.asked);
    assert_eq!(out.scorer, "expects-soldiers");
    assert!(out.text.contains("Six Russian soldiers"), "{}", out.text);
    // Without proposals (the default) the sentence model is never asked.
    let r0 = Restorer::new(&p);
    let mut m0 = ExpectsSoldiers { asked: 0 };
    r0.restore_precise(text, &mut m0).unwrap();
    assert_eq!(m0.asked, 0);
}

/// A stand-in sentence model that dislikes "main" and records what precise mode asks of it.
#[derive(Default)]
struct RecordsGroups {
    /// Per `score_groups` call: the sentence, and each group's prefix.
    calls: Vec<(String, Vec<String>)>,
}

impl unspin::restore::SentenceScorer for RecordsGroups {
    fn score_variants(&mut self, prefix: &str, variants: &[&str]) -> Result<Vec<f32>, String> {
        Ok(variants
            .iter()
            .map(|v| -20.0 * format!("{prefix}{v}").matches(" main ").count() as f32)
            .collect())
    }

    fn score_groups(
        &mut self,
        sentence: &str,
        groups: &[(&str, Vec<&str>)],
        window: usize,
    ) -> Result<Vec<Vec<f32>>, String> {
        assert_eq!(window, 6);
        for (prefix, variants) in groups {
            // Each group reads as the sentence up to where its variants differ.
            assert!(sentence.starts_with(prefix), "{prefix:?} / {sentence:?}");
            assert!(variants.len() >= 2);
        }
        let prefixes = groups.iter().map(|(p, _)| p.to_string()).collect();
        self.calls.push((sentence.to_string(), prefixes));
        groups
            .iter()
            .map(|(p, vs)| self.score_variants(p, vs))
            .collect()
    }

    fn name(&self) -> &str {
        "records-groups"
    }
}

#[test]
fn precise_mode_asks_once_per_sentence_and_a_second_sweep_after_changes() {
    let p = pack();
    let text = "Activists describe it as the primary main case of its kind. Hello.";
    // One sweep (the default): one call per sentence, every position in the trigram's reading.
    let mut m = RecordsGroups::default();
    let out = Restorer::new(&p).restore_precise(text, &mut m).unwrap();
    // "main" is replaced (the stand-in dislikes it), in the trigram's reading of the sentence.
    assert!(!out.text.contains(" main "), "{} {:?}", out.text, m.calls);
    assert_eq!(m.calls.len(), 1, "{:?}", m.calls);
    assert!(m.calls[0].0.contains("primary main "), "{:?}", m.calls[0]);
    // The second sweep asks again, in the sentence as the first sweep left it, only for the
    // positions within two words after a change.
    let opts = unspin::restore::RestoreOptions {
        precise_second_sweep: true,
        ..Default::default()
    };
    let r = Restorer::with_channel(&p, unspin::decode::GenericChannel::default(), opts);
    let mut m2 = RecordsGroups::default();
    let out2 = r.restore_precise(text, &mut m2).unwrap();
    assert_eq!(out2.text, out.text);
    assert_eq!(m2.calls.len(), 2, "{:?}", m2.calls);
    let (sentence, prefixes) = &m2.calls[1];
    assert!(!sentence.contains(" main "), "{sentence:?}");
    assert!(!prefixes.is_empty() && prefixes.len() < m2.calls[0].1.len());
    for p in prefixes {
        // Only "case" and later words within two of the change: "primary" came before it.
        assert!(
            sentence.starts_with(p.as_str()) && !p.ends_with("the "),
            "{p:?}"
        );
    }
}

#[test]
fn precise_mode_can_discount_the_frequency_gap_its_own_way() {
    let p = pack();
    let text = "Activists describe it as the primary main case of its kind. Hello.";
    let run = |d: Option<f32>| {
        let opts = unspin::restore::RestoreOptions {
            precise_frequency_discount: d,
            ..Default::default()
        };
        let r = Restorer::with_channel(&p, unspin::decode::GenericChannel::default(), opts);
        r.restore_precise(text, &mut RecordsGroups::default())
            .unwrap()
    };
    let default = run(None);
    // The decoder's own share changes nothing.
    let same = run(Some(
        unspin::decode::DecodeOptions::default().frequency_discount,
    ));
    assert_eq!(same.spans, default.spans);
    // Another share moves the alternatives' odds where candidates differ in frequency.
    let none = run(Some(0.0));
    let confidences =
        |r: &unspin::Restoration| -> Vec<f32> { r.spans.iter().map(|s| s.confidence).collect() };
    assert_ne!(
        confidences(&none),
        confidences(&default),
        "{:?}",
        none.spans
    );
}

/// A stand-in sentence model that likes one phrase and dislikes everything else.
struct LikesPhrase(&'static str);

impl unspin::restore::SentenceScorer for LikesPhrase {
    fn score_variants(&mut self, prefix: &str, variants: &[&str]) -> Result<Vec<f32>, String> {
        Ok(variants
            .iter()
            .map(|v| {
                if format!("{prefix}{v}").contains(self.0) {
                    0.0
                } else {
                    -60.0
                }
            })
            .collect())
    }

    fn name(&self) -> &str {
        "likes-phrase"
    }
}

#[test]
fn precise_pairs_reach_what_two_words_replaced_together_say() {
    // "granted momentary" has a pair arc ("given temporary"), but neither word alone has
    // "given" among its alternatives: only judging the pair can reach it.
    let p = pack();
    let text = "Six Russian troopers have been granted momentary visas as they apply for asylum.";
    let with = |pairs: bool| {
        let opts = unspin::restore::RestoreOptions {
            precise_pairs: pairs,
            ..Default::default()
        };
        let r = Restorer::with_channel(&p, unspin::decode::GenericChannel::default(), opts);
        r.restore_precise(text, &mut LikesPhrase("given temporary visas"))
            .unwrap()
    };
    let without = with(false);
    assert!(!without.text.contains("given"), "{}", without.text);
    let paired = with(true);
    assert!(
        paired.text.contains("been given temporary visas"),
        "{}",
        paired.text
    );
    // One span covers both words, with a probability as its confidence.
    let span = paired
        .spans
        .iter()
        .find(|s| s.restored == "given temporary")
        .expect("a span for the pair");
    assert_eq!(span.spun, "granted momentary");
    assert!((0.0..=1.0).contains(&span.confidence), "{span:?}");
}
