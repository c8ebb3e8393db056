//! HTML to visible text: a small tag stripper that never fails.
//!
//! It is not an HTML parser. It drops tags, comments, doctypes and the content of elements that
//! show no text (`script`, `style`, `noscript`, `template`, `svg`, `iframe`, `object`), decodes
//! character references, collapses whitespace, and ends a line at block elements. That is what
//! the text of an article needs; a page's layout is lost.

use std::borrow::Cow;

/// Elements whose content is not visible text: skipped up to their end tag.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "iframe", "object",
];

/// Elements that start a new line.
const BLOCK: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "html",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "title",
    "tr",
    "ul",
];

/// Elements that separate words without starting a line.
const SPACED: &[&str] = &[
    "td", "th", "img", "input", "button", "select", "textarea", "label",
];

/// The visible text of an HTML document or fragment.
///
/// Whitespace runs become one space, block elements (`p`, `div`, `br`, `li`, headings, …) end a
/// line, and character references (`&amp;`, `&eacute;`, `&#8217;`, `&#x2014;`) are decoded. The
/// text of `script`, `style` and other elements that show none is dropped. Anything that is not
/// a well-formed tag (`a < b`, an unterminated comment) is handled as a browser would, roughly:
/// no input makes it fail.
///
/// ```
/// use unspin_io::html_to_text;
/// let html = "<html><head><title>T &amp; C</title><style>p{}</style></head>\
///             <body><p>Caf&eacute; <b>open</b>,\n  2&lt;3</p><script>x()</script><p>Bye</p>";
/// assert_eq!(html_to_text(html), "T & C\nCafé open, 2<3\nBye");
/// ```
pub fn html_to_text(html: &str) -> String {
    let b = html.as_bytes();
    let mut out = Out::with_capacity(html.len() / 2);
    let mut i = 0;
    while i < b.len() {
        let Some(k) = memchr::memchr2(b'<', b'&', &b[i..]) else {
            out.text(&html[i..]);
            break;
        };
        out.text(&html[i..i + k]);
        i += k;
        if b[i] == b'&' {
            let (decoded, used) = decode_reference(&html[i..]);
            out.text(&decoded);
            i += used;
            continue;
        }
        i = tag(html, i, &mut out);
    }
    out.finish()
}

/// Handles the `<` at `at`: a tag, comment or declaration is dropped (with the content of a
/// hidden element), anything else is text. Returns where to go on.
fn tag(html: &str, at: usize, out: &mut Out) -> usize {
    let b = html.as_bytes();
    let rest = &b[at + 1..];
    if rest.starts_with(b"!--") {
        return match memchr::memmem::find(&b[at + 4..], b"-->") {
            Some(end) => at + 4 + end + 3,
            None => b.len(),
        };
    }
    if matches!(rest.first(), Some(b'!' | b'?')) {
        return match memchr::memchr(b'>', rest) {
            Some(end) => at + 1 + end + 1,
            None => b.len(),
        };
    }
    let closing = rest.first() == Some(&b'/');
    let name_start = at + 1 + usize::from(closing);
    let name_len = b[name_start..]
        .iter()
        .position(|c| !c.is_ascii_alphanumeric() && !matches!(c, b'-' | b'_' | b':'))
        .unwrap_or(b.len() - name_start);
    if name_len == 0 || !b[name_start].is_ascii_alphabetic() {
        // `a < b`, `<3`, `</ x>`: not a tag.
        out.text("<");
        return at + 1;
    }
    let name = html[name_start..name_start + name_len].to_ascii_lowercase();
    let Some(end) = tag_end(b, name_start + name_len) else {
        // An unterminated tag swallows the rest of the document, as in a browser.
        return b.len();
    };
    if BLOCK.contains(&name.as_str()) {
        out.newline();
    } else if SPACED.contains(&name.as_str()) {
        out.space();
    }
    // `<svg/>` closes itself; `<script/>` does not, in HTML.
    let self_closed = b[end - 2] == b'/' && !matches!(name.as_str(), "script" | "style");
    if !closing && HIDDEN.contains(&name.as_str()) && !self_closed {
        return match find_end_tag(b, end, &name) {
            Some(after) => after,
            None => b.len(),
        };
    }
    end
}

/// The index after the `>` that ends a tag whose attributes start at `from`, with quoted
/// attribute values skipped.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'>' => return Some(i + 1),
            b'=' => {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    i = i + 1 + memchr::memchr(q, &b[i + 1..])?;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The index after the end tag `</name ...>` at or after `from` (ASCII case-insensitive).
fn find_end_tag(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut i = from;
    while let Some(k) = memchr::memmem::find(&b[i..], b"</") {
        let start = i + k + 2;
        let after_name = start + name.len();
        if after_name <= b.len()
            && b[start..after_name].eq_ignore_ascii_case(name.as_bytes())
            && matches!(
                b.get(after_name),
                None | Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
            )
        {
            return Some(match memchr::memchr(b'>', &b[after_name..]) {
                Some(e) => after_name + e + 1,
                None => b.len(),
            });
        }
        i = start;
    }
    None
}

/// Text being written, with whitespace collapsed: runs of spaces become one space, runs of line
/// ends one line end, and there is none at either end.
struct Out {
    s: String,
    space: bool,
    newline: bool,
}

impl Out {
    fn with_capacity(n: usize) -> Out {
        Out {
            s: String::with_capacity(n),
            space: false,
            newline: false,
        }
    }

    fn space(&mut self) {
        self.space = true;
    }

    fn newline(&mut self) {
        self.newline = true;
    }

    fn text(&mut self, t: &str) {
        let b = t.as_bytes();
        // Whether the char at `i` is whitespace, and its length. Chars are decoded only outside
        // ASCII: this is most of the time spent on HTML.
        let at = |i: usize| -> (bool, usize) {
            match b[i] {
                b'\t'..=b'\r' | b' ' => (true, 1),
                0..=0x7f => (false, 1),
                _ => {
                    let c = t[i..].chars().next().expect("i is on a char boundary");
                    (c.is_whitespace(), c.len_utf8())
                }
            }
        };
        let mut i = 0;
        while i < b.len() {
            let (space, n) = at(i);
            if space {
                self.space = true;
                i += n;
                continue;
            }
            // A run of words with single spaces between them is copied as it is, at once.
            let start = i;
            while i < b.len() {
                let (space, n) = at(i);
                if !space {
                    i += n;
                } else if b[i] == b' ' && i + 1 < b.len() && !at(i + 1).0 {
                    i += 1;
                } else {
                    break;
                }
            }
            self.word(&t[start..i]);
        }
    }

    fn word(&mut self, w: &str) {
        if !self.s.is_empty() {
            if self.newline {
                self.s.push('\n');
            } else if self.space {
                self.s.push(' ');
            }
        }
        self.space = false;
        self.newline = false;
        self.s.push_str(w);
    }

    fn finish(self) -> String {
        self.s
    }
}

/// Decodes the character reference at the start of `s` (which starts with `&`): returns the
/// text and the bytes used. Something that is no reference is the `&` itself.
fn decode_reference(s: &str) -> (Cow<'static, str>, usize) {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let (hex, start) = match b.get(2) {
            Some(b'x' | b'X') => (true, 3),
            _ => (false, 2),
        };
        let digits = b[start..]
            .iter()
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return (Cow::Borrowed("&"), 1);
        }
        let text = &s[start..start + digits];
        let code = u32::from_str_radix(text, if hex { 16 } else { 10 }).unwrap_or(u32::MAX);
        let mut used = start + digits;
        if b.get(used) == Some(&b';') {
            used += 1;
        }
        return (Cow::Owned(numeric_char(code).to_string()), used);
    }
    let name_len = b[1..]
        .iter()
        .take(32)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let name = &s[1..1 + name_len];
    if b.get(1 + name_len) == Some(&b';') {
        if let Some(t) = named(name) {
            return (Cow::Borrowed(t), name_len + 2);
        }
    }
    // A few references are recognised without their `;`, as browsers do.
    for legacy in ["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"] {
        if name.starts_with(legacy) {
            return (
                Cow::Borrowed(named(legacy).expect("legacy names are known")),
                legacy.len() + 1,
            );
        }
    }
    (Cow::Borrowed("&"), 1)
}

/// The character of a numeric reference, as HTML maps it: C1 controls are read as
/// Windows-1252, NUL, surrogates and values past Unicode become U+FFFD.
fn numeric_char(code: u32) -> char {
    const W1252: [u32; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    let code = if (0x80..0xA0).contains(&code) {
        W1252[(code - 0x80) as usize]
    } else {
        code
    };
    match code {
        0 => '\u{FFFD}',
        c => char::from_u32(c).unwrap_or('\u{FFFD}'),
    }
}

/// The text of a named character reference: the ASCII ones, Latin-1 and typographic
/// punctuation, which is what articles use.
fn named(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" | "AMP" => "&",
        "lt" | "LT" => "<",
        "gt" | "GT" => ">",
        "quot" | "QUOT" => "\"",
        "apos" => "'",
        "nbsp" => "\u{A0}",
        "ensp" => "\u{2002}",
        "emsp" => "\u{2003}",
        "thinsp" => "\u{2009}",
        "zwnj" => "\u{200C}",
        "zwj" => "\u{200D}",
        "lrm" => "\u{200E}",
        "rlm" => "\u{200F}",
        "shy" => "\u{AD}",
        "ndash" => "–",
        "mdash" => "—",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "lsaquo" => "‹",
        "rsaquo" => "›",
        "hellip" => "…",
        "bull" => "•",
        "middot" => "·",
        "prime" => "′",
        "Prime" => "″",
        "dagger" => "†",
        "Dagger" => "‡",
        "permil" => "‰",
        "trade" => "™",
        "copy" => "©",
        "reg" => "®",
        "deg" => "°",
        "plusmn" => "±",
        "times" => "×",
        "divide" => "÷",
        "minus" => "−",
        "frac12" => "½",
        "frac14" => "¼",
        "frac34" => "¾",
        "sup1" => "¹",
        "sup2" => "²",
        "sup3" => "³",
        "micro" => "µ",
        "para" => "¶",
        "sect" => "§",
        "cent" => "¢",
        "pound" => "£",
        "yen" => "¥",
        "euro" => "€",
        "curren" => "¤",
        "iexcl" => "¡",
        "iquest" => "¿",
        "ordf" => "ª",
        "ordm" => "º",
        "not" => "¬",
        "macr" => "¯",
        "acute" => "´",
        "cedil" => "¸",
        "uml" => "¨",
        "brvbar" => "¦",
        "larr" => "←",
        "rarr" => "→",
        "uarr" => "↑",
        "darr" => "↓",
        "harr" => "↔",
        "Agrave" => "À",
        "Aacute" => "Á",
        "Acirc" => "Â",
        "Atilde" => "Ã",
        "Auml" => "Ä",
        "Aring" => "Å",
        "AElig" => "Æ",
        "Ccedil" => "Ç",
        "Egrave" => "È",
        "Eacute" => "É",
        "Ecirc" => "Ê",
        "Euml" => "Ë",
        "Igrave" => "Ì",
        "Iacute" => "Í",
        "Icirc" => "Î",
        "Iuml" => "Ï",
        "ETH" => "Ð",
        "Ntilde" => "Ñ",
        "Ograve" => "Ò",
        "Oacute" => "Ó",
        "Ocirc" => "Ô",
        "Otilde" => "Õ",
        "Ouml" => "Ö",
        "Oslash" => "Ø",
        "Ugrave" => "Ù",
        "Uacute" => "Ú",
        "Ucirc" => "Û",
        "Uuml" => "Ü",
        "Yacute" => "Ý",
        "THORN" => "Þ",
        "szlig" => "ß",
        "agrave" => "à",
        "aacute" => "á",
        "acirc" => "â",
        "atilde" => "ã",
        "auml" => "ä",
        "aring" => "å",
        "aelig" => "æ",
        "ccedil" => "ç",
        "egrave" => "è",
        "eacute" => "é",
        "ecirc" => "ê",
        "euml" => "ë",
        "igrave" => "ì",
        "iacute" => "í",
        "icirc" => "î",
        "iuml" => "ï",
        "eth" => "ð",
        "ntilde" => "ñ",
        "ograve" => "ò",
        "oacute" => "ó",
        "ocirc" => "ô",
        "otilde" => "õ",
        "ouml" => "ö",
        "oslash" => "ø",
        "ugrave" => "ù",
        "uacute" => "ú",
        "ucirc" => "û",
        "uuml" => "ü",
        "yacute" => "ý",
        "thorn" => "þ",
        "yuml" => "ÿ",
        "OElig" => "Œ",
        "oelig" => "œ",
        "Scaron" => "Š",
        "scaron" => "š",
        "Yuml" => "Ÿ",
        "fnof" => "ƒ",
        "circ" => "ˆ",
        "tilde" => "˜",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let table: &[(&str, &str, &str)] = &[
            ("plain", "just text", "just text"),
            ("inline tags join", "a<b>b</b>c <i>d</i>", "abc d"),
            (
                "blocks end lines",
                "<p>one</p><p>two<br>three</p><li>four",
                "one\ntwo\nthree\nfour",
            ),
            (
                "cells are spaced",
                "<tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>",
                "a b\nc",
            ),
            (
                "whitespace collapses",
                "  a \n\t b  <p>  </p>  c  ",
                "a b\nc",
            ),
            (
                "hidden elements",
                "a<script>x</p>y</script >b<style>s</style>c",
                "abc",
            ),
            ("end tag case", "a<SCRIPT>x</ScRiPt>b", "ab"),
            ("end tag prefix", "a<script>x</scripts>y</script>b", "ab"),
            ("unclosed script", "a<script>never closed", "a"),
            (
                "self-closed svg",
                "a<svg/>b<svg><text>t</text></svg>c",
                "abc",
            ),
            ("script is not self-closed", "a<script/>x</script>b", "ab"),
            ("comments", "a<!-- <p>x</p> -->b<!-- open", "ab"),
            (
                "doctype and pi",
                "<!DOCTYPE html><?xml version=\"1.0\"?>a",
                "a",
            ),
            ("quoted >", "<a title=\"x > y\" href='>'>link</a>", "link"),
            ("unquoted attribute", "<a href=/x>y</a>", "y"),
            ("not tags", "a < b, 1<2, <3, </ x", "a < b, 1<2, <3, </ x"),
            ("unterminated tag", "a <b c=\"d", "a"),
            ("unterminated quote", "a <b c=\"d>e", "a"),
            (
                "entities in text",
                "&lt;p&gt; &amp;amp; &quot;q&quot;",
                "<p> &amp; \"q\"",
            ),
            ("nbsp is a space", "a&nbsp;&nbsp;b", "a b"),
            ("unicode spaces", "a\u{2003}\u{A0} b\u{3000}", "a b"),
            ("non-ascii words", " café  naïve  日本 ", "café naïve 日本"),
            (
                "single spaces kept in runs",
                "one two  three\tfour",
                "one two three four",
            ),
            ("empty", "", ""),
            ("only tags", "<p></p><div> </div>", ""),
        ];
        for (name, input, want) in table {
            assert_eq!(html_to_text(input), *want, "{name}: {input:?}");
        }
    }

    #[test]
    fn references() {
        let table: &[(&str, &str)] = &[
            ("&amp;", "&"),
            ("&amp", "&"),
            ("&ampx", "&x"),
            ("&#65;", "A"),
            ("&#x41;", "A"),
            ("&#X41", "A"),
            ("&#150;", "–"),
            ("&#0;", "\u{FFFD}"),
            ("&#xD800;", "\u{FFFD}"),
            ("&#99999999999999999999;", "\u{FFFD}"),
            ("&#;", "&#;"),
            ("&bogus;", "&bogus;"),
            ("&", "&"),
            ("a & b", "a & b"),
            ("&eacute;t&eacute;", "été"),
        ];
        for (input, want) in table {
            assert_eq!(html_to_text(input), *want, "input {input:?}");
        }
    }
}
