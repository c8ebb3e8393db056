//! The reference spinner (`unspin spin`) against the committed default pack.

use unspin::spin::{spin, SpinOptions};

mod common;
use common::pack;

/// A spinner that takes any synonym alike writes rarer words than one that prefers common ones.
#[test]
fn a_spinner_without_a_taste_for_common_words_writes_rarer_ones() {
    let docs = common::brown_press(3);
    if docs.is_empty() {
        return;
    }
    let (lex, lm) = (pack().lexicon(), pack().lm());
    let mean_logfreq = |exponent: f64| {
        let (mut sum, mut n) = (0f64, 0usize);
        for (i, doc) in docs.iter().enumerate() {
            let s = spin(
                pack(),
                doc,
                &SpinOptions {
                    seed: i as u64,
                    frequency_exponent: exponent,
                    ..Default::default()
                },
            );
            for sub in &s.substitutions {
                for w in sub.spun.split(' ') {
                    if let Some(id) = lex.word_id(&w.to_lowercase()) {
                        sum += f64::from(lm.unigram(id));
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 500, "{n} spun words");
        sum / n as f64
    };
    let (common, uniform) = (mean_logfreq(0.5), mean_logfreq(0.0));
    assert!(
        uniform < common - 0.3,
        "mean log10 frequency: uniform {uniform:.2}, common {common:.2}"
    );
}
