//! Learning a spinner's dictionary from pairs, on Brown texts when the sources are fetched (CI
//! fetches them and sets UNSPIN_REQUIRE_SOURCES=1, so this cannot pass vacuously).

use std::path::PathBuf;

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
