//! Spinner profiles on arbitrary input: a `Profile` read from any JSON bytes (what
//! `Profile::load` does with a file), `Profile::learn` on any pair of texts and
//! `Learner::aligned` on them as an aligned copy's differences, and the
//! `ProfileChannel` of each used to restore any text with the tiny pack; `Discovery` on that
//! restoration, with what the profile knows forgotten.
//!
//! Input: split at 0xFF bytes (never in UTF-8) into profile JSON, a spun text and its original.
//!
//! What must hold: nothing panics; a learned profile accounts for what it saw (its rules'
//! counts and the stretches too long to be rules make up its substitutions; no more words
//! kept than read); every profile writes and reads back equal, and merging adds counts; spans
//! of a restoration are in order, do not overlap and slice the input to their spun text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unspin::learn::{Discovery, Learner, Profile, ProfileChannel};
use unspin::restore::RestoreOptions;
use unspin::Restorer;
use unspin_fuzz::tiny_pack as pack;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let json = parts.next().unwrap_or_default();
    let spun = std::str::from_utf8(parts.next().unwrap_or_default()).unwrap_or_default();
    let original = std::str::from_utf8(parts.next().unwrap_or_default()).unwrap_or_default();

    let learned = Profile::learn([(spun, original)]);
    let mut l = Learner::default();
    l.aligned(spun.len(), [(spun, original), (original, spun)]);
    let aligned = l.finish();
    assert!(aligned.kept.is_empty());
    for p in [&learned, &aligned] {
        let counted: usize = p.rules.iter().map(|r| r.count as usize).sum();
        assert_eq!(counted + p.skipped, p.substitutions);
        assert!(p.kept.values().map(|&n| n as usize).sum::<usize>() <= p.words);
        assert!(p.rules.iter().all(|r| r.count >= 1));
    }

    let mut profiles = vec![learned, aligned];
    if let Ok(p) = serde_json::from_slice::<Profile>(json) {
        profiles.push(p);
    }
    for p in &profiles {
        let bytes = serde_json::to_vec(p).expect("a profile serialises");
        let again: Profile = serde_json::from_slice(&bytes).expect("and reads back");
        assert_eq!(&again, p);
        let mut twice = p.clone();
        twice.merge(p);
        assert_eq!(twice.pairs, p.pairs.saturating_mul(2));

        let channel = ProfileChannel::new(pack(), p, Default::default());
        let restorer = Restorer::with_channel(pack(), channel, RestoreOptions::default());
        let r = restorer.restore(spun);
        let mut at = 0;
        for s in &r.spans {
            assert!(at <= s.start && s.start < s.end && s.end <= spun.len());
            assert_eq!(&spun[s.start..s.end], s.spun);
            at = s.end;
        }
        let mut d = Discovery::default();
        d.add(spun, &r);
        d.forget_known(p);
        let _ = d.proposals(1);
    }
});
