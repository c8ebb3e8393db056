//! Learning a spinner's dictionary from pairs, on Brown texts when the sources are fetched (CI
//! fetches them and sets UNSPIN_REQUIRE_SOURCES=1, so this cannot pass vacuously).

use std::path::PathBuf;

use unspin::decode::Channel;
use unspin::eval::Tally;
use unspin::learn::{Profile, ProfileChannel};
use unspin::lexicon::flags;
use unspin::restore::RestoreOptions;
use unspin::spin::{spin_with_dictionary, SpinOptions};
use unspin::Restorer;

mod common;

#[test]
fn a_learned_profile_beats_the_generic_channel_on_its_spinner() {
    let docs = common::brown_press(24);
    if docs.is_empty() {
        return;
    }
    let pack = common::pack();
    let spun = |i: usize, d: &str| {
        spin_with_dictionary(
            pack,
            d,
            &SpinOptions {
                seed: i as u64,
                rate: 0.3,
                mask: flags::MYTHES | flags::WORDNET | flags::MOBY,
                phrases: false,
                ..Default::default()
            },
            99,
        )
        .text
    };
    // The same dictionary in every text: a word spun twice is spun the same way.
    let a = spun(
        1,
        "The soldiers and the soldiers and the soldiers fled the war.",
    );
    let b = spun(
        2,
        "The soldiers and the soldiers and the soldiers fled the war.",
    );
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    for (x, y) in words(&a).iter().zip(words(&b)) {
        assert!(x == &y || !x.starts_with("soldiers") || !y.starts_with("soldiers"));
    }
    let train: Vec<(String, &str)> = docs[..20]
        .iter()
        .enumerate()
        .map(|(i, d)| (spun(i, d), d.as_str()))
        .collect();
    let profile = Profile::learn(train.iter().map(|(s, o)| (s.as_str(), *o)));
    assert!(profile.rules.len() > 1000, "{} rules", profile.rules.len());
    let generic = Restorer::new(pack);
    let learned = Restorer::with_channel(
        pack,
        ProfileChannel::new(pack, &profile, Default::default()),
        RestoreOptions::default(),
    );
    let (mut g, mut l) = (Tally::default(), Tally::default());
    for (i, d) in docs[20..].iter().enumerate() {
        let s = spun(100 + i, d);
        g.add(d, &s, &generic.restore(&s).text);
        l.add(d, &s, &learned.restore(&s).text);
    }
    assert!(
        l.damage_undone() > g.damage_undone() + 0.1,
        "learned {:.3} vs generic {:.3}",
        l.damage_undone(),
        g.damage_undone()
    );
    // Clean text stays almost untouched with the profile too.
    let r = learned.restore(&docs[21]);
    let changed: usize = r
        .spans
        .iter()
        .map(|s| s.spun.split_whitespace().count())
        .sum();
    assert!(
        (changed as f64) < 0.02 * r.words as f64,
        "{changed} of {} words changed",
        r.words
    );
}

#[test]
fn profiles_round_trip_and_damage_is_an_error() {
    let dir = tempfile_dir();
    let p = Profile::learn([("The troopers fled.", "The soldiers fled.")]);
    let path = dir.join("p.json");
    p.save(&path).unwrap();
    assert_eq!(Profile::load(&path).unwrap(), p);
    std::fs::write(&path, b"{\"format\": \"unspin-profile\", \"version\": 9}").unwrap();
    assert!(Profile::load(&path).is_err());
    std::fs::write(&path, b"{\"format\": \"something else\"").unwrap();
    let e = Profile::load(&path).unwrap_err().to_string();
    assert!(e.contains("not an unspin profile"), "{e}");
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("unspin-learn-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The log10 channel a profile's channel gives `original` as the source of `spun`.
fn proposed(pack: &unspin::Pack, profile: &Profile, spun: &str, original: &str) -> f32 {
    let lex = pack.lexicon();
    let id = |w: &str| lex.word_id(w).unwrap();
    ProfileChannel::new(pack, profile, Default::default())
        .propose(&[id(spun)])
        .into_iter()
        .find(|(o, _)| o[..] == [id(original)])
        .map(|(_, p)| p)
        .unwrap()
}

#[test]
fn kept_counts_say_how_often_a_spun_word_was_its_own_original() {
    let pack = common::pack();
    // Both spinners wrote "woman" for man twice; in the second, "woman" also stood unchanged
    // ten times, so seeing "woman" in its output says less that a man was meant.
    let rare = Profile::learn([("The woman ran. The woman sat.", "The man ran. The man sat.")]);
    let kept = "The woman ran. The woman sat. A woman, a woman, a woman, a woman, a woman, a woman, a woman, a woman, a woman and a woman.";
    let original = "The man ran. The man sat. A woman, a woman, a woman, a woman, a woman, a woman, a woman, a woman, a woman and a woman.";
    let common = Profile::learn([(kept, original)]);
    assert_eq!(rare.kept.get("woman"), None);
    assert_eq!(common.kept.get("woman"), Some(&10));
    let (p_rare, p_common) = (
        proposed(pack, &rare, "woman", "man"),
        proposed(pack, &common, "woman", "man"),
    );
    assert!(p_common < p_rare - 0.5, "{p_common} vs {p_rare}");
    // Without kept counts (a version 1 profile) the rule's channel is the same either way.
    let mut v1 = common.clone();
    v1.kept.clear();
    v1.version = 1;
    let mut rare_v1 = rare.clone();
    rare_v1.kept.clear();
    rare_v1.version = 1;
    assert_eq!(
        proposed(pack, &v1, "woman", "man"),
        proposed(pack, &rare_v1, "woman", "man")
    );
}

#[test]
fn version_1_profiles_still_load_and_merging_adds_kept_counts() {
    let dir = tempfile_dir();
    let path = dir.join("v1.json");
    std::fs::write(
        &path,
        br#"{"format": "unspin-profile", "version": 1, "pairs": 1, "words": 3, "substitutions": 1, "skipped": 0, "rules": [{"spun": "troopers", "original": "soldiers", "count": 1}]}"#,
    )
    .unwrap();
    let mut p = Profile::load(&path).unwrap();
    assert!(p.kept.is_empty());
    p.merge(&Profile::learn([(
        "The troopers fled.",
        "The soldiers fled.",
    )]));
    assert_eq!(p.version, unspin::learn::FORMAT_VERSION);
    assert_eq!(p.kept.get("fled"), Some(&1));
    assert_eq!(p.rules[0].count, 2);
}

#[test]
fn discovery_beyond_a_profile_forgets_the_spun_words_it_knows() {
    let pack = common::pack();
    let profile = Profile::learn([("The warfare ended.", "The war ended.")]);
    let restorer = Restorer::new(pack);
    let mut d = unspin::learn::Discovery::default();
    for t in [
        "Six Russian troopers who fled the warfare in Ukraine were granted momentary visas.",
        "They fled the warfare in Syria and were granted momentary visas.",
    ] {
        d.add(t, &restorer.restore(t));
    }
    let spun = |d: &unspin::learn::Discovery| -> Vec<String> {
        d.proposals(2).into_iter().map(|p| p.spun).collect()
    };
    assert_eq!(spun(&d), ["warfare", "momentary"]);
    d.forget_known(&profile);
    assert_eq!(spun(&d), ["momentary"]);
}

#[test]
fn aligned_copies_teach_like_pairs() {
    let mut l = unspin::learn::Learner::default();
    l.aligned(
        5,
        [
            ("troopers", "soldiers"),
            ("warfare in the region of", "war near"),
            ("", "quietly"),
            ("Same", "same"),
        ],
    );
    let p = l.finish();
    assert_eq!(p.pairs, 1);
    assert_eq!(p.words, 5 + 1 + 2 + 1 + 1);
    assert_eq!(p.substitutions, 3);
    assert_eq!(p.skipped, 2);
    assert_eq!(p.rules.len(), 1);
    assert_eq!(
        (p.rules[0].spun.as_str(), p.rules[0].original.as_str()),
        ("troopers", "soldiers")
    );
    assert!(p.kept.is_empty());
    // A pair teaches the same rule, and what stayed the same.
    let q = Profile::learn([("Six troopers fled.", "Six soldiers fled.")]);
    assert_eq!(q.rules, p.rules);
    assert_eq!(q.kept.get("six"), Some(&1));
}

/// Texts of one spinner restored together share a spin rate and decide each word once for all:
/// more is undone than text by text, and each restoration is that text's own.
#[test]
fn one_spinners_texts_restore_better_together() {
    let docs = common::brown_press(10);
    if docs.is_empty() {
        return;
    }
    let spun: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            spin_with_dictionary(
                common::pack(),
                d,
                &SpinOptions {
                    seed: 300 + i as u64,
                    ..Default::default()
                },
                7,
            )
            .text
        })
        .collect();
    let texts: Vec<&str> = spun.iter().map(String::as_str).collect();
    let r = Restorer::new(common::pack());
    let pooled = r.restore_pooled(&texts);
    assert_eq!(pooled.len(), texts.len());
    let (mut alone, mut together) = (Tally::default(), Tally::default());
    for ((d, s), p) in docs.iter().zip(&texts).zip(&pooled) {
        for sp in &p.spans {
            assert_eq!(&s[sp.start..sp.end], sp.spun);
        }
        assert_eq!(p.words, r.restore(s).words);
        alone.add(d, s, &r.restore(s).text);
        together.add(d, s, &p.text);
    }
    assert!(
        together.damage_undone() > alone.damage_undone() + 0.03,
        "together {:.3}, alone {:.3}",
        together.damage_undone(),
        alone.damage_undone()
    );
    // One text pooled alone is restored as by itself.
    assert_eq!(
        r.restore_pooled(&texts[..1])[0].text,
        r.restore(texts[0]).text
    );
}

#[test]
fn neighbouring_substitutions_teach_each_word() {
    // A list entry replaces two neighbouring words at once; each is also a word the spinner
    // replaces elsewhere ("criticism" for feedback in "criticism control").
    let pack = common::pack();
    let lex = pack.lexicon();
    let id = |w: &str| lex.word_id(w).unwrap();
    let p = Profile::learn([("criticism circle", "feedback loop")]);
    assert_eq!(p.rules.len(), 1, "{:?}", p.rules);
    let channel = ProfileChannel::new(pack, &p, Default::default());
    for (spun, original) in [("criticism", "feedback"), ("circle", "loop")] {
        assert!(
            channel
                .propose(&[id(spun)])
                .iter()
                .any(|(o, _)| o[..] == [id(original)]),
            "{spun} → {original}"
        );
    }
    // At half the weight of a substitution seen word for word.
    let whole = Profile::learn([("criticism", "feedback")]);
    assert!(
        proposed(pack, &p, "criticism", "feedback")
            <= proposed(pack, &whole, "criticism", "feedback")
    );
}

#[test]
fn a_tortured_phrase_lists_profile_restores_phrases_it_does_not_hold() {
    // The paper mills' dictionary, learned from the sample list: its substitutions come back
    // in tortured phrases the list does not hold.
    let pack = common::pack();
    let csv =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/pps_sample.csv"))
            .unwrap();
    let (list, _) = unspin::fingerprint::FingerprintList::import_csv(&csv, "pps_sample.csv");
    let profile = Profile::learn(list.substitution_pairs());
    assert!(profile.pairs >= 30, "{}", profile.pairs);
    let generic = Restorer::new(pack);
    let learned = Restorer::with_channel(
        pack,
        ProfileChannel::new(pack, &profile, Default::default()),
        RestoreOptions::default(),
    );
    for (phrase, want) in [
        ("We use fleecy logic here.", "We use fuzzy logic here."),
        (
            "A remote detecting satellite.",
            "A remote sensing satellite.",
        ),
    ] {
        assert_eq!(generic.restore(phrase).text, phrase);
        assert_eq!(learned.restore(phrase).text, want);
    }
}
