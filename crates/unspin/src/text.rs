//! Tokens with exact byte spans.
//!
//! The tokenizer never drops or rewrites a byte: the concatenation of all token spans is the input,
//! in order. Words keep contractions and possessives together ("didn’t", "1000’s"), with either the
//! ASCII or the curly apostrophe; hyphens, dashes, quotes and other punctuation are tokens of their
//! own, and runs of whitespace are single tokens.

use std::ops::Range;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Letters, with inner apostrophes ("didn’t", "o'clock").
    Word,
    /// Digits with inner separators ("1,000.5", "1000’s", "3rd").
    Number,
    /// A run of whitespace, line breaks included.
    Space,
    /// Any other single character.
    Punct,
}

/// One token: its kind and the byte range it covers in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Token {
    /// The byte range of this token.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The token's text in `src`, the string it was produced from.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        &src[self.start..self.end]
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Splits `text` into tokens whose spans cover it exactly, in order.
///
/// # Examples
/// ```
/// use unspin::text::{tokenize, TokenKind};
/// let toks = tokenize("They didn’t go.");
/// let words: Vec<&str> = toks
///     .iter()
///     .filter(|t| t.kind == TokenKind::Word)
///     .map(|t| t.text("They didn’t go."))
///     .collect();
/// assert_eq!(words, ["They", "didn’t", "go"]);
/// ```
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 4 + 1);
    out.extend(tokens(text));
    out
}

/// The tokens of `text`, one at a time: what [`tokenize`] collects, for callers that need no
/// vector of them.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, at: 0 }
}

/// The iterator of [`tokens`].
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    text: &'a str,
    /// Where the next token starts.
    at: usize,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    // A byte cursor that decodes only non-ASCII characters: a third of the time of
    // `char_indices().peekable()` on English text, the same tokens.
    #[inline]
    fn next(&mut self) -> Option<Token> {
        let text = self.text;
        let len = text.len();
        let mut i = self.at;
        if i >= len {
            return None;
        }
        let start = i;
        let (c, l) = char_at(text, i);
        i += l;
        let kind = if c.is_whitespace() {
            while i < len {
                let (n, l) = char_at(text, i);
                if !n.is_whitespace() {
                    break;
                }
                i += l;
            }
            TokenKind::Space
        } else if c.is_alphabetic() || c.is_ascii_digit() {
            let mut kind = if c.is_alphabetic() {
                TokenKind::Word
            } else {
                TokenKind::Number
            };
            while i < len {
                let (n, l) = char_at(text, i);
                if n.is_alphanumeric() {
                    if kind == TokenKind::Word && n.is_ascii_digit() {
                        kind = TokenKind::Number;
                    }
                    i += l;
                    continue;
                }
                // An apostrophe, or a separator inside a number, joins only when a letter or
                // digit follows it directly.
                let joins =
                    is_apostrophe(n) || (kind == TokenKind::Number && (n == ',' || n == '.'));
                if !joins {
                    break;
                }
                let ok = match (i + l < len).then(|| char_at(text, i + l).0) {
                    Some(m) if is_apostrophe(n) => m.is_alphanumeric(),
                    Some(m) => m.is_ascii_digit(),
                    None => false,
                };
                if !ok {
                    break;
                }
                i += l;
            }
            kind
        } else {
            TokenKind::Punct
        };
        self.at = i;
        Some(Token {
            kind,
            start,
            end: i,
        })
    }
}

/// The character that starts at byte `i` of `text` (a character boundary below its length)
/// and its length in bytes.
#[inline]
fn char_at(text: &str, i: usize) -> (char, usize) {
    let b = text.as_bytes()[i];
    if b < 0x80 {
        (b as char, 1)
    } else {
        let c = text[i..].chars().next().expect("a character starts here");
        (c, c.len_utf8())
    }
}

/// The lookup form of a word: lower case, curly apostrophes made straight.
pub fn normalize(word: &str) -> String {
    let mut s = String::with_capacity(word.len());
    for c in word.chars() {
        if c == '\u{2019}' {
            s.push('\'');
        } else {
            s.extend(c.to_lowercase());
        }
    }
    s
}

/// The case pattern of a word, so that a replacement can wear it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// "soldiers"
    Lower,
    /// "Soldiers"
    Title,
    /// "SOLDIERS"
    Upper,
    /// Anything else ("iPhone", "McDonald"): the replacement is used as it is.
    Mixed,
}

impl Case {
    /// The case pattern of `word`.
    pub fn of(word: &str) -> Case {
        let mut letters = word.chars().filter(|c| c.is_alphabetic());
        let Some(first) = letters.next() else {
            return Case::Lower;
        };
        let rest: Vec<char> = letters.collect();
        let rest_lower = rest.iter().all(|c| !c.is_uppercase());
        let rest_upper = rest.iter().all(|c| !c.is_lowercase());
        match (first.is_uppercase(), rest_lower, rest_upper) {
            (false, true, _) => Case::Lower,
            (true, _, true) if !rest.is_empty() => Case::Upper,
            (true, true, _) => Case::Title,
            _ => Case::Mixed,
        }
    }

    /// `word` (lower case) rendered in this case pattern.
    pub fn apply(self, word: &str) -> String {
        match self {
            Case::Lower | Case::Mixed => word.to_string(),
            Case::Upper => word.to_uppercase(),
            Case::Title => {
                let mut c = word.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => String::new(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(TokenKind, &str)> {
        tokenize(s).iter().map(|t| (t.kind, t.text(s))).collect()
    }

    #[test]
    fn table() {
        use TokenKind::*;
        let cases: &[(&str, &[(TokenKind, &str)])] = &[
            ("", &[]),
            ("didn’t", &[(Word, "didn’t")]),
            ("1000’s", &[(Number, "1000’s")]),
            (
                "rock 'n' roll",
                &[
                    (Word, "rock"),
                    (Space, " "),
                    (Punct, "'"),
                    (Word, "n"),
                    (Punct, "'"),
                    (Space, " "),
                    (Word, "roll"),
                ],
            ),
            (
                "“Yes,” she said.",
                &[
                    (Punct, "“"),
                    (Word, "Yes"),
                    (Punct, ","),
                    (Punct, "”"),
                    (Space, " "),
                    (Word, "she"),
                    (Space, " "),
                    (Word, "said"),
                    (Punct, "."),
                ],
            ),
            (
                "1,000.50 m.",
                &[
                    (Number, "1,000.50"),
                    (Space, " "),
                    (Word, "m"),
                    (Punct, "."),
                ],
            ),
            (
                "well-known",
                &[(Word, "well"), (Punct, "-"), (Word, "known")],
            ),
            ("a\n\n  b", &[(Word, "a"), (Space, "\n\n  "), (Word, "b")]),
            ("soldiers'", &[(Word, "soldiers"), (Punct, "'")]),
            ("3rd", &[(Number, "3rd")]),
            (
                "café naïve",
                &[(Word, "café"), (Space, " "), (Word, "naïve")],
            ),
        ];
        for (input, want) in cases {
            assert_eq!(kinds(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn case_patterns() {
        assert_eq!(Case::of("troopers"), Case::Lower);
        assert_eq!(Case::of("Troopers"), Case::Title);
        assert_eq!(Case::of("TROOPERS"), Case::Upper);
        assert_eq!(Case::of("iPhone"), Case::Mixed);
        assert_eq!(Case::of("A"), Case::Title);
        assert_eq!(Case::Title.apply("soldiers"), "Soldiers");
        assert_eq!(Case::Upper.apply("soldiers"), "SOLDIERS");
        assert_eq!(normalize("Didn’t"), "didn't");
    }

    /// The tokenizer as it was written first (`char_indices().peekable()`), the reference for
    /// the byte-cursor one.
    fn tokenize_reference(text: &str) -> Vec<Token> {
        let mut out = Vec::with_capacity(text.len() / 4 + 1);
        let mut it = text.char_indices().peekable();
        while let Some((start, c)) = it.next() {
            let kind = if c.is_whitespace() {
                while let Some(&(_, n)) = it.peek() {
                    if !n.is_whitespace() {
                        break;
                    }
                    it.next();
                }
                TokenKind::Space
            } else if c.is_alphabetic() || c.is_ascii_digit() {
                let mut kind = if c.is_alphabetic() {
                    TokenKind::Word
                } else {
                    TokenKind::Number
                };
                while let Some(&(i, n)) = it.peek() {
                    if n.is_alphanumeric() {
                        if kind == TokenKind::Word && n.is_ascii_digit() {
                            kind = TokenKind::Number;
                        }
                        it.next();
                        continue;
                    }
                    // An apostrophe, or a separator inside a number, joins only when a letter or digit
                    // follows it directly.
                    let joins =
                        is_apostrophe(n) || (kind == TokenKind::Number && (n == ',' || n == '.'));
                    if !joins {
                        break;
                    }
                    let next = text[i + n.len_utf8()..].chars().next();
                    let ok = match next {
                        Some(m) if is_apostrophe(n) => m.is_alphanumeric(),
                        Some(m) => m.is_ascii_digit(),
                        None => false,
                    };
                    if !ok {
                        break;
                    }
                    it.next();
                }
                kind
            } else {
                TokenKind::Punct
            };
            let end = it.peek().map_or(text.len(), |&(i, _)| i);
            out.push(Token { kind, start, end });
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn tokenize_matches_the_reference(s in "([a-zA-Z0-9 ,.'’\\-\n]|\\PC){0,80}") {
            proptest::prop_assert_eq!(tokenize(&s), tokenize_reference(&s));
        }

        #[test]
        fn spans_cover_input(s in "\\PC{0,64}") {
            let toks = tokenize(&s);
            let mut at = 0;
            for t in &toks {
                proptest::prop_assert_eq!(t.start, at);
                proptest::prop_assert!(t.end > t.start);
                at = t.end;
            }
            proptest::prop_assert_eq!(at, s.len());
        }
    }
}
