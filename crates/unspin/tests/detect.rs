//! Detection against the committed default pack, on Brown press texts when the sources are
//! fetched (CI fetches them and sets UNSPIN_REQUIRE_SOURCES=1, so these cannot pass vacuously).

use proptest::prelude::*;
use unspin::detect::{Detection, Detector};
use unspin::lexicon::flags;
use unspin::spin::{spin, spin_every_other_paragraph, SpinOptions};

mod common;
use common::pack;

fn brown(n: usize) -> Vec<String> {
    common::brown_press(n)
}

/// Everything a detection reports lies inside the input and is consistent with it.
fn check_shape(text: &str, d: &Detection) {
    assert!((0.0..=1.0).contains(&d.score), "score {}", d.score);
    let mut at = 0;
    for s in &d.spans {
        assert!(s.start >= at && s.start < s.end && s.end <= text.len());
        assert_eq!(&text[s.start..s.end], s.spun);
        assert!(s.log_odds >= 0.0);
        at = s.end;
    }
    let mut at = 0;
    for p in &d.paragraphs {
        assert!(p.start >= at && p.start < p.end && p.end <= text.len());
        assert!((0.0..=1.0).contains(&p.score));
        assert!((0.0..=1.0).contains(&p.own_score));
        at = p.end;
    }
}

#[test]
fn clean_press_texts_pass_and_spun_ones_are_flagged() {
    let docs = brown(4);
    let det = Detector::new(pack());
    for (i, doc) in docs.iter().enumerate() {
        let clean = det.detect(doc);
        check_shape(doc, &clean);
        assert!(!clean.flagged, "clean ca0{} scored {}", i + 1, clean.score);
        for phrases in [false, true] {
            let s = spin(
                pack(),
                doc,
                &SpinOptions {
                    seed: i as u64,
                    rate: 0.3,
                    mask: flags::MYTHES | flags::WORDNET | flags::MOBY,
                    phrases,
                    ..Default::default()
                },
            );
            let d = det.detect(&s.text);
            check_shape(&s.text, &d);
            assert!(d.flagged, "spun ca0{} scored {}", i + 1, d.score);
            assert!(d.score > clean.score);
            assert!(!d.spans.is_empty());
        }
    }
}

#[test]
fn a_spinner_outside_the_pack_is_still_detected() {
    // Spun with Moby only, detected with every relation but Moby's: what is left is the
    // language model's sense that the words do not fit.
    let docs = brown(3);
    let det = Detector::with_channel(
        pack(),
        unspin::decode::GenericChannel::new(flags::MYTHES | flags::WORDNET | flags::WEAK),
        Default::default(),
    );
    for (i, doc) in docs.iter().enumerate() {
        let s = spin(
            pack(),
            doc,
            &SpinOptions {
                seed: 100 + i as u64,
                rate: 0.3,
                mask: flags::MOBY,
                phrases: false,
                ..Default::default()
            },
        );
        let clean = det.detect(doc);
        let spun = det.detect(&s.text);
        assert!(
            spun.score > clean.score && spun.flagged && !clean.flagged,
            "ca0{}: clean {} spun {}",
            i + 1,
            clean.score,
            spun.score
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_text_gets_a_score_and_well_formed_evidence(
        text in "([a-zA-Z]{1,9}[ ,.\n]{1,3}){0,60}"
    ) {
        let d = Detector::new(pack()).detect(&text);
        check_shape(&text, &d);
    }
}

#[test]
fn paragraphs_lean_on_their_document_and_own_scores_do_not() {
    let docs = brown(2);
    let det = Detector::new(pack());
    for (i, doc) in docs.iter().enumerate() {
        let opts = |seed| SpinOptions {
            seed,
            rate: 0.3,
            mask: flags::MYTHES | flags::WORDNET | flags::MOBY,
            phrases: false,
            ..Default::default()
        };
        // A clean document pulls its paragraphs down, a spun one up (toward its log-odds,
        // clamped: evidence beyond the clamp is pulled back a little, within certainty).
        let clean = det.detect(doc);
        assert!(clean
            .paragraphs
            .iter()
            .all(|p| p.score <= p.own_score.max(0.01)));
        let spun = det.detect(&spin(pack(), doc, &opts(i as u64)).text);
        assert!(spun.flagged);
        assert!(spun
            .paragraphs
            .iter()
            .all(|p| p.score >= p.own_score.min(0.99)));
        // Partly spun: every other paragraph. Own scores tell the spun ones apart.
        let (text, n) = spin_every_other_paragraph(pack(), doc, opts);
        let d = det.detect(&text);
        check_shape(&text, &d);
        assert_eq!(d.paragraphs.len(), n);
        let mean = |odd: usize| {
            let v: Vec<f32> = d
                .paragraphs
                .iter()
                .enumerate()
                .filter(|(j, _)| j % 2 == odd)
                .map(|(_, p)| p.own_score)
                .collect();
            v.iter().sum::<f32>() / v.len() as f32
        };
        assert!(
            mean(1) > mean(0) + 0.2,
            "spun {} clean {}",
            mean(1),
            mean(0)
        );
    }
}

/// A document the screen judged clean lends its paragraphs a clean document's prior, as the
/// full analysis does for clean documents: each paragraph scores below its own evidence.
#[test]
fn a_screened_document_lends_its_paragraphs_a_clean_prior() {
    use unspin::decode::GenericChannel;
    use unspin::detect::DetectOptions;
    let opts = DetectOptions {
        screen_below: 1.01,
        ..DetectOptions::default()
    };
    let det = Detector::with_channel(pack(), GenericChannel::default(), opts);
    for doc in brown(2) {
        let d = det.detect(&doc);
        check_shape(&doc, &d);
        assert_eq!(d.stage, "screen");
        assert!(d.paragraphs.len() > 1);
        for p in &d.paragraphs {
            assert!(p.score < p.own_score, "{} vs {}", p.score, p.own_score);
        }
    }
}

/// A paragraph pasted on its own is judged by a model fitted on paragraphs so judged. The
/// document model alone, fitted on whole documents, flags about one clean press paragraph in
/// fifteen when each is scored as a text of its own; and a text of one paragraph gives that
/// paragraph the text's own score.
#[test]
fn paragraphs_pasted_alone_are_judged_as_short_texts() {
    use unspin::decode::GenericChannel;
    use unspin::detect::DetectOptions;
    let docs = brown(6);
    let paragraphs: Vec<&str> = docs
        .iter()
        .flat_map(|d| {
            unspin::detect::paragraphs(d)
                .into_iter()
                .map(move |(s, e)| &d[s..e])
        })
        .collect();
    let long_only = DetectOptions {
        short_words: 0.0,
        ..DetectOptions::default()
    };
    let long_only = Detector::with_channel(pack(), GenericChannel::default(), long_only);
    let det = Detector::new(pack());
    let (mut flagged, mut flagged_long_only) = (0, 0);
    for p in &paragraphs {
        let d = det.detect(p);
        check_shape(p, &d);
        if let [only] = d.paragraphs.as_slice() {
            assert_eq!((only.score, only.own_score), (d.score, d.score));
        }
        flagged += usize::from(d.flagged);
        flagged_long_only += usize::from(long_only.detect(p).flagged);
    }
    let n = paragraphs.len();
    assert!(n >= 200, "{n} paragraphs");
    assert!(
        flagged * 100 <= 2 * n,
        "{flagged} of {n} clean paragraphs flagged"
    );
    assert!(
        flagged_long_only >= 3 * flagged.max(3),
        "document model alone: {flagged_long_only} of {n}, blended: {flagged}"
    );
}

/// Clean documents flagged, paragraphs, and clean paragraphs flagged among texts 11 to 10 + `n`
/// of each Brown genre (which calibration never saw; each genre must have them all).
fn held_out_flags(dir: &std::path::Path, genres: &[&str], n: usize) -> (usize, usize, usize) {
    let det = Detector::new(common::pack());
    let (mut flagged, mut paragraphs, mut flagged_paragraphs) = (0, 0, 0);
    for genre in genres {
        let docs = unspin::eval::read_brown(dir, genre).unwrap();
        assert!(docs.len() >= 10 + n, "{genre}: {} texts", docs.len());
        for (_, d) in docs.iter().skip(10).take(n) {
            let r = det.detect(d);
            flagged += usize::from(r.flagged);
            paragraphs += r.paragraphs.len();
            flagged_paragraphs += r.paragraphs.iter().filter(|p| p.score >= 0.5).count();
        }
    }
    (flagged, paragraphs, flagged_paragraphs)
}

#[test]
fn clean_learned_writing_is_rarely_flagged() {
    // Brown's learned genre (cj) is the register of papers; its technical collocations are
    // what a broadcast-news trigram calls misfits. Texts cj11–cj30, which calibration never
    // saw: session 10's models flagged 2 of the 20 documents and 32 of their 354 paragraphs
    // (9.0 %); capping each model's clean flags at fitting time brought that to 0 and 19,
    // document-level rules counted once per document (session 12) to 0 and 11, and paragraphs
    // leaning on their document up to 40 free words (session 13) to 0 and 9.
    let Some(dir) = common::brown_dir() else {
        return;
    };
    let (flagged, paragraphs, flagged_paragraphs) = held_out_flags(&dir, &["cj"], 20);
    assert_eq!(flagged, 0, "clean learned documents flagged");
    assert!(
        flagged_paragraphs * 1000 <= paragraphs * 30,
        "{flagged_paragraphs} of {paragraphs} clean learned paragraphs flagged"
    );
}

#[test]
fn short_clean_paragraphs_lean_on_their_clean_document() {
    // Fiction (ck, cn) is told in short paragraphs, lines of dialogue among them, where one or
    // two restorable words look like a high spin rate. Texts 11–29 of each, which calibration
    // never saw: with paragraphs shrunk toward their document only as far as toward the fixed
    // prior (20 free words), 20 of their 1,607 paragraphs were flagged (1.2 %) in documents
    // none of which was; up to 40 free words, 5.
    let Some(dir) = common::brown_dir() else {
        return;
    };
    let (flagged, paragraphs, flagged_paragraphs) = held_out_flags(&dir, &["ck", "cn"], 19);
    assert_eq!(flagged, 0, "clean fiction documents flagged");
    assert!(
        flagged_paragraphs * 1000 <= paragraphs * 5,
        "{flagged_paragraphs} of {paragraphs} clean fiction paragraphs flagged"
    );
}
