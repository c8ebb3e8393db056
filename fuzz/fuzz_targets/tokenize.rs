//! `unspin::text::tokenize` on any valid UTF-8: spans are non-empty, contiguous, start at 0, end
//! at the input's length and lie on char boundaries; `Case::of`, `normalize` and `Case::apply`
//! don't panic on any token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unspin::text::{normalize, tokenize, Case, TokenKind};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let toks = tokenize(s);
    let mut at = 0;
    for t in &toks {
        assert_eq!(t.start, at, "token does not start where the previous one ended");
        assert!(t.end > t.start, "empty token {t:?}");
        assert!(t.end <= s.len(), "token {t:?} past the end");
        assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end), "token {t:?} splits a char");
        assert_eq!(t.range(), t.start..t.end);
        let text = t.text(s);
        match t.kind {
            TokenKind::Space => assert!(text.chars().all(char::is_whitespace), "space token {text:?}"),
            TokenKind::Punct => assert_eq!(text.chars().count(), 1, "punct token {text:?}"),
            TokenKind::Word | TokenKind::Number => {
                assert!(text.chars().next().is_some_and(|c| c.is_alphanumeric()), "word token {text:?}")
            }
        }
        let case = Case::of(text);
        let norm = normalize(text);
        let _ = case.apply(&norm);
        at = t.end;
    }
    assert_eq!(at, s.len(), "tokens do not cover the input");
});
