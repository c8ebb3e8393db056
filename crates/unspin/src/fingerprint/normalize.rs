//! The one normal form that fingerprint patterns and scanned text are both brought to, with a
//! byte-offset map back to the original text.
//!
//! Text extracted from PDFs breaks words at line ends, uses ligatures, curly quotes and a zoo of
//! dashes; a list written by hand does not. Both sides are therefore rewritten the same way:
//!
//! - case: Unicode lowercase, char by char (so the result never depends on context; ASCII takes
//!   a table lookup);
//! - a hyphen (`-`, U+2010, U+2011) or soft hyphen (U+00AD) followed, after optional spaces, by
//!   one line break joins the two lines: `"tor-\ntured"` becomes `"tortured"` (a blank line
//!   after it does not join; it is a paragraph end);
//! - the soft hyphen elsewhere and zero-width characters (U+200B–U+200D, U+2060, U+FEFF) are
//!   dropped;
//! - every other hyphen or dash counts as a space, so `semi-identifier` and `semi identifier`
//!   are the same;
//! - any run of whitespace (line breaks, tabs, no-break spaces …) becomes one space, and
//!   leading whitespace is dropped;
//! - curly quotes become straight ones and the ligatures ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ become their letters.

/// Normalises `text` as the matcher sees it (see the module docs).
///
/// Leading whitespace is dropped; a trailing run of whitespace leaves one space.
///
/// # Examples
///
/// ```
/// use unspin::fingerprint::normalize::normalize;
/// assert_eq!(normalize("Tor-\n  tured  Phrase"), "tortured phrase");
/// assert_eq!(normalize("semi-identiﬁer"), "semi identifier");
/// ```
pub fn normalize(text: &str) -> String {
    let mut n = Normalizer::new();
    let mut out = Vec::with_capacity(text.len());
    let mut map = OffsetMap::default();
    n.run(text, 0, text.len(), &mut out, 0, &mut map);
    // The normaliser writes only whole UTF-8 sequences.
    String::from_utf8(out).expect("normal form is UTF-8")
}

/// Normalises a list phrase: [`normalize`] without a trailing space.
pub(crate) fn normalize_phrase(phrase: &str) -> String {
    let mut s = normalize(phrase);
    if s.ends_with(' ') {
        s.pop();
    }
    s
}

/// The patterns a list phrase stands for: its normal form and, when a hyphen joins two words
/// (`semi-identifier`), the forms with those hyphens removed, which is what a compound
/// hyphenated at a line end becomes (`semi-\nidentifier` → `semiidentifier`). Every subset of
/// up to three such hyphens; beyond that, none or all.
pub(crate) fn phrase_variants(phrase: &str) -> Vec<String> {
    let chars: Vec<char> = phrase.chars().collect();
    let joins: Vec<usize> = (1..chars.len().saturating_sub(1))
        .filter(|&i| {
            is_line_hyphen(chars[i])
                && chars[i - 1].is_alphanumeric()
                && chars[i + 1].is_alphanumeric()
        })
        .collect();
    let subsets: Vec<u32> = if joins.len() <= 3 {
        (0..1u32 << joins.len()).collect()
    } else {
        vec![0, u32::MAX]
    };
    let mut out: Vec<String> = Vec::with_capacity(subsets.len());
    for mask in subsets {
        let text: String = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| match joins.iter().position(|j| j == i) {
                Some(k) => mask & (1 << k.min(31)) == 0,
                None => true,
            })
            .map(|(_, c)| c)
            .collect();
        let v = normalize_phrase(&text);
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Is `c` a word character (like `\w`: alphanumeric or `_`)?
#[inline]
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

const SPECIAL: u8 = 0xFF;

/// What an ASCII byte becomes: lowercase letters, one space for every whitespace byte, and
/// [`SPECIAL`] for the hyphen and for every non-ASCII byte (handled char by char).
const MAP: [u8; 256] = {
    let mut m = [SPECIAL; 256];
    let mut b = 0;
    while b < 128 {
        m[b] = match b as u8 {
            b'A'..=b'Z' => b as u8 + 32,
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => b' ',
            b'-' => SPECIAL,
            x => x,
        };
        b += 1;
    }
    m
};

/// One point of the offset map: from normal-form position `norm` on, bytes come from the
/// original text at `orig + (pos - norm)` (a copy segment), or, when `atomic`, the bytes up to
/// the next point all come from one original character that starts at `orig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Point {
    pub norm: usize,
    pub orig: usize,
    pub atomic: bool,
}

/// Sparse map from normal-form offsets back to original offsets: a point wherever the
/// difference between the two changes.
#[derive(Debug, Default)]
pub(crate) struct OffsetMap {
    pub points: Vec<Point>,
}

impl OffsetMap {
    #[inline]
    fn push(&mut self, p: Point) {
        match self.points.last_mut() {
            Some(last) if last.norm == p.norm => *last = p,
            _ => self.points.push(p),
        }
    }

    /// Drops the points that no position at or after `norm` needs.
    pub fn forget_before(&mut self, norm: usize) {
        let keep_from = self
            .points
            .partition_point(|p| p.norm <= norm)
            .saturating_sub(1);
        if keep_from > 0 {
            self.points.drain(..keep_from);
        }
    }

    /// The original offset where the normal-form byte at `pos` starts a character, if it does.
    pub fn start(&self, pos: usize) -> Option<usize> {
        let i = self
            .points
            .partition_point(|p| p.norm <= pos)
            .checked_sub(1)?;
        let p = self.points[i];
        if !p.atomic {
            Some(p.orig + (pos - p.norm))
        } else if pos == p.norm {
            Some(p.orig)
        } else {
            None
        }
    }

    /// The original offset where a span of the normal form ending (exclusively) at `pos > 0`
    /// ends, if `pos` falls between two original characters.
    pub fn end(&self, pos: usize) -> Option<usize> {
        let i = self
            .points
            .partition_point(|p| p.norm < pos)
            .checked_sub(1)?;
        let p = self.points[i];
        if !p.atomic {
            Some(p.orig + (pos - p.norm))
        } else {
            // An atomic point is always followed by the point where its character ends.
            let next = self.points.get(i + 1)?;
            (next.norm == pos).then_some(next.orig)
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Per byte of `x` (all below 0x80): the high bit set where the byte equals `b`.
#[inline]
fn eq_bytes(x: u64, b: u8) -> u64 {
    let t = x ^ (ONES * u64::from(b));
    !(((t & !HIGH) + !HIGH) | t) & HIGH
}

/// If the eight bytes of `x` (little-endian) need nothing but lowercasing, they lowercased.
/// `prev_space`: the byte before them was output as a space.
#[inline]
fn plain_block(x: u64, prev_space: bool) -> Option<u64> {
    if x & HIGH != 0 {
        return None;
    }
    // Line breaks and tabs become spaces; any other byte < 0x20, or a '-', stops the block.
    let breaks = eq_bytes(x, b'\n') | eq_bytes(x, b'\t');
    let x = x & !((breaks >> 7) * 0xFF) | (breaks >> 2);
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    if below_space | eq_bytes(x, b'-') != 0 {
        return None;
    }
    let spaces = eq_bytes(x, b' ');
    if spaces & ((spaces << 8) | u64::from(prev_space) << 7) != 0 {
        return None;
    }
    // Uppercase: 'A' <= byte <= 'Z'; adding 0x3F (0x25) sets the high bit from 'A' ('[') on.
    let upper = (x + ONES * 0x3F) & !(x + ONES * 0x25) & HIGH;
    Some(x | upper >> 2)
}

/// The streaming normaliser: its state carries a pending space across calls.
#[derive(Debug, Clone)]
pub(crate) struct Normalizer {
    prev_space: bool,
}

/// Chars that join two lines when they end the first.
fn is_line_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{AD}' | '\u{2010}' | '\u{2011}')
}

/// Chars that count as a space: dashes and hyphens not at a line end.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// Chars that vanish.
fn is_dropped(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// The replacement text of a char that is not simply lowercased.
fn replacement(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => "\"",
        '\u{FB00}' => "ff",
        '\u{FB01}' => "fi",
        '\u{FB02}' => "fl",
        '\u{FB03}' => "ffi",
        '\u{FB04}' => "ffl",
        '\u{FB05}' | '\u{FB06}' => "st",
        _ => return None,
    })
}

/// If a line-end hyphen at `i` (of length `len`) is followed by spaces, one line break and then
/// text, the offset of that text.
fn line_join(src: &[u8], i: usize, len: usize) -> Option<usize> {
    let hs = |b: u8| b == b' ' || b == b'\t' || b == b'\r';
    let mut j = i + len;
    while j < src.len() && hs(src[j]) {
        j += 1;
    }
    if src.get(j) != Some(&b'\n') {
        return None;
    }
    j += 1;
    while j < src.len() && hs(src[j]) {
        j += 1;
    }
    // A blank line or the end of the text is not hyphenation.
    (j < src.len() && src[j] != b'\n').then_some(j)
}

impl Normalizer {
    pub fn new() -> Self {
        Normalizer { prev_space: true }
    }

    /// Normalises `text[from..]` until at least `limit` (stopping at a char boundary at or after
    /// it), appending to `out`, whose first byte is at normal-form offset `base`. Records the
    /// offset map in `map` (starting with a point for `from`). Returns where it stopped.
    pub fn run(
        &mut self,
        text: &str,
        from: usize,
        limit: usize,
        out: &mut Vec<u8>,
        base: usize,
        map: &mut OffsetMap,
    ) -> usize {
        let src = text.as_bytes();
        let limit = limit.min(src.len());
        map.push(Point {
            norm: base + out.len(),
            orig: from,
            atomic: false,
        });
        // Write through a slice, not `push`: a byte store through the Vec would make the
        // compiler reload the Vec's pointer for every byte. One input byte gives at most one
        // output byte here (an 8-byte block may pass `limit` by 7); `special` makes room for
        // what it writes.
        let mut n = out.len();
        out.resize(n + limit.saturating_sub(from) + 16, 0);
        let mut i = from;
        let mut prev_space = self.prev_space;
        while i < limit {
            // Eight bytes at a time while they are plain ASCII: no control byte, no hyphen, no
            // second space in a row. Only letters change (to lowercase), so it is one copy.
            if let Some(block) = src.get(i..i + 8) {
                let x = u64::from_le_bytes(block.try_into().expect("8 bytes"));
                if let Some(lower) = plain_block(x, prev_space) {
                    out[n..n + 8].copy_from_slice(&lower.to_le_bytes());
                    n += 8;
                    i += 8;
                    prev_space = lower >> 56 == u64::from(b' ');
                    continue;
                }
            }
            // Otherwise byte by byte, over the next eight bytes at least: every block that
            // overlaps the byte that stopped this one would stop too.
            let stop = (i + 8).min(limit);
            while i < stop {
                let m = MAP[src[i] as usize];
                if m == SPECIAL {
                    self.prev_space = prev_space;
                    i = self.special(text, i, limit, out, &mut n, base, map);
                    prev_space = self.prev_space;
                    continue;
                }
                let space = m == b' ';
                if space && prev_space {
                    // A run of whitespace: the offsets shift.
                    map.push(Point {
                        norm: base + n,
                        orig: i + 1,
                        atomic: false,
                    });
                } else {
                    // Ordinary text, a single space included, takes no unpredictable branch.
                    out[n] = m;
                    n += 1;
                    prev_space = space;
                }
                i += 1;
            }
        }
        out.truncate(n);
        self.prev_space = prev_space;
        i
    }

    /// Handles the hyphen and non-ASCII chars, writing at `out[*n..]` (keeping room in `out`
    /// for the rest of the call); returns the offset after what it consumed.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn special(
        &mut self,
        text: &str,
        i: usize,
        limit: usize,
        out: &mut Vec<u8>,
        n: &mut usize,
        base: usize,
        map: &mut OffsetMap,
    ) -> usize {
        let src = text.as_bytes();
        let c = text[i..].chars().next().expect("a char at a char boundary");
        let len = c.len_utf8();
        let next = i + len;
        // Room for the longest replacement (an expanding char writes at most one byte more than
        // it reads), and for the one-byte-per-byte fast path after it.
        let need = *n + limit.saturating_sub(i) + 16;
        if out.len() < need {
            out.resize(need + 64, 0);
        }
        let point = |map: &mut OffsetMap, n: usize, orig: usize, atomic: bool| {
            map.push(Point {
                norm: base + n,
                orig,
                atomic,
            })
        };
        let put = |out: &mut Vec<u8>, n: &mut usize, bytes: &[u8]| {
            out[*n..*n + bytes.len()].copy_from_slice(bytes);
            *n += bytes.len();
        };
        if is_line_hyphen(c) {
            if let Some(j) = line_join(src, i, len) {
                point(map, *n, j, false);
                return j;
            }
        }
        if is_dropped(c) {
            point(map, *n, next, false);
            return next;
        }
        if is_dash(c) || c.is_whitespace() {
            if !self.prev_space {
                point(map, *n, i, true);
                put(out, n, b" ");
                self.prev_space = true;
            }
            point(map, *n, next, false);
            return next;
        }
        self.prev_space = false;
        if let Some(r) = replacement(c) {
            point(map, *n, i, true);
            put(out, n, r.as_bytes());
            point(map, *n, next, false);
            return next;
        }
        let mut lower = c.to_lowercase();
        if lower.len() == 1 && lower.next() == Some(c) {
            put(out, n, &src[i..next]);
            return next;
        }
        point(map, *n, i, true);
        let mut buf = [0u8; 4];
        for l in c.to_lowercase() {
            put(out, n, l.encode_utf8(&mut buf).as_bytes());
        }
        point(map, *n, next, false);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_map(text: &str) -> (String, OffsetMap) {
        let mut out = Vec::new();
        let mut map = OffsetMap::default();
        Normalizer::new().run(text, 0, text.len(), &mut out, 0, &mut map);
        (String::from_utf8(out).unwrap(), map)
    }

    #[test]
    fn forms() {
        for (input, want) in [
            ("Hello  World", "hello world"),
            ("  lead", "lead"),
            ("tor-\ntured", "tortured"),
            ("tor- \r\n   tured", "tortured"),
            ("tor\u{AD}\ntured", "tortured"),
            ("tor\u{AD}tured", "tortured"),
            ("end-\n\nnext", "end next"),
            ("end-\n", "end "),
            ("semi-identifier", "semi identifier"),
            ("a – b—c", "a b c"),
            (
                "ﬁeld ﬂow oﬀ eﬃcient baﬄe",
                "field flow off efficient baffle",
            ),
            ("it\u{2019}s \u{201C}x\u{201D}", "it's \"x\""),
            ("ÉCOLE ΣΑΣ", "école σασ"),
            ("a\u{A0}\u{2009}b", "a b"),
            ("x\u{200B}y", "xy"),
        ] {
            assert_eq!(normalize(input), want, "{input:?}");
        }
    }

    #[test]
    fn eight_byte_blocks_agree_with_bytes() {
        for block in [
            "Hello Wo",
            "AZaz@[`{",
            "a  b cde",
            " abcdefg",
            "abc-defg",
            "abc\ndefg",
            "\u{e9}abcdef",
            "0123 567",
            "~!?()[]Q",
            "\tabcdefg",
            "abcdefg ",
            "ab\n\ncdef",
            "ab \ncdef",
            "ab\rcdefg",
            "\nabcdefg",
            "abcdefg\n",
        ] {
            let b = block.as_bytes();
            let x = u64::from_le_bytes(b[..8].try_into().unwrap());
            let spaced = block.replace(['\n', '\t'], " ");
            for prev_space in [false, true] {
                let plain = spaced
                    .bytes()
                    .all(|c| (0x20..0x80).contains(&c) && c != b'-')
                    && !spaced.contains("  ")
                    && !(prev_space && spaced.starts_with(' '));
                match plain_block(x, prev_space) {
                    Some(lower) => {
                        assert!(plain, "{block:?}");
                        assert_eq!(lower.to_le_bytes(), spaced.to_ascii_lowercase().as_bytes());
                    }
                    None => assert!(!plain, "{block:?} {prev_space}"),
                }
            }
        }
    }

    #[test]
    fn offsets_map_back() {
        let text = "Tor-\n tured ﬁeld  Xy";
        let (norm, map) = with_map(text);
        assert_eq!(norm, "tortured field xy");
        let s = map.start(0).unwrap();
        let e = map.end(8).unwrap();
        assert_eq!(&text[s..e], "Tor-\n tured");
        let s = map.start(9).unwrap();
        let e = map.end(14).unwrap();
        assert_eq!(&text[s..e], "ﬁeld");
        // Inside the ligature is not a character boundary of the original.
        assert_eq!(map.start(10), None);
        assert_eq!(map.end(10), None);
        let s = map.start(15).unwrap();
        assert_eq!(&text[s..map.end(17).unwrap()], "Xy");
    }
}
