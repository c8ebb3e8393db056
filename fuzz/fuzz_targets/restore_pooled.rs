//! `Restorer::restore_pooled` on arbitrary texts with the tiny pack: the input is split at 0xFF
//! bytes (never in UTF-8) into up to eight texts, which are restored together.
//!
//! What must hold: nothing panics; one restoration per text; each restoration's spans are in
//! order, do not overlap, lie on char boundaries of their own text and slice it to their spun
//! words, with a confidence and alternatives that are probabilities and capped finite odds; its
//! text is its input with the spans spliced in; and a text pooled alone is restored exactly as
//! `Restorer::restore` restores it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unspin::Restorer;
use unspin_fuzz::tiny_pack as pack;

fuzz_target!(|data: &[u8]| {
    let texts: Vec<&str> = data
        .split(|&b| b == 0xFF)
        .take(8)
        .map(|p| std::str::from_utf8(p).unwrap_or_default())
        .collect();
    let r = Restorer::new(pack());
    let pooled = r.restore_pooled(&texts);
    assert_eq!(pooled.len(), texts.len());
    for (t, p) in texts.iter().zip(&pooled) {
        let mut at = 0;
        let mut spliced = String::new();
        for s in &p.spans {
            assert!(s.start >= at && s.start <= s.end && s.end <= t.len(), "span {s:?} in {t:?}");
            assert!(t.is_char_boundary(s.start) && t.is_char_boundary(s.end));
            assert_eq!(&t[s.start..s.end], s.spun);
            // A span's confidence and its alternatives' are probabilities that add up to at
            // most one; its odds are finite and within the cap (a document-level rule's
            // occurrences share its odds).
            let alts: f32 = s.alternatives.iter().map(|a| a.confidence).sum();
            assert!((0.0..=1.0).contains(&s.confidence), "{s:?}");
            assert!(s.confidence + alts <= 1.0 + 1e-4, "{s:?}");
            assert!(s.log_odds.abs() <= unspin::restore::MAX_LOG_ODDS, "{s:?}");
            spliced.push_str(&t[at..s.start]);
            spliced.push_str(&s.restored);
            at = s.end;
        }
        spliced.push_str(&t[at..]);
        assert_eq!(spliced, p.text);
    }
    if let [t] = texts.as_slice() {
        assert_eq!(pooled[0].text, r.restore(t).text, "{t:?} pooled alone");
    }
});
