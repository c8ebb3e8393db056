//! Evaluation: word error rate, damage undone, and a reader for the Brown corpus.

use std::path::Path;

use crate::text::{normalize, tokenize, TokenKind};

/// The words of a text for scoring: word and number tokens, normalised.
pub fn words(text: &str) -> Vec<String> {
    tokenize(text)
        .iter()
        .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::Number))
        .map(|t| normalize(t.text(text)))
        .collect()
}

/// Word-level edit distance between `hyp` and `reference`.
pub fn edit_distance<T: PartialEq>(hyp: &[T], reference: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=reference.len()).collect();
    let mut cur = vec![0; reference.len() + 1];
    for (i, h) in hyp.iter().enumerate() {
        cur[0] = i + 1;
        for (j, r) in reference.iter().enumerate() {
            let sub = prev[j] + usize::from(h != r);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[reference.len()]
}

/// Word error rate of `hyp` against `reference` (edit distance over reference length).
pub fn wer(hyp: &str, reference: &str) -> f64 {
    let r = words(reference);
    if r.is_empty() {
        return 0.0;
    }
    edit_distance(&words(hyp), &r) as f64 / r.len() as f64
}

/// Error counts summed over documents.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Tally {
    /// Reference words.
    pub words: usize,
    /// Edits between spun text and original.
    pub spun_errors: usize,
    /// Edits between restored text and original.
    pub restored_errors: usize,
}

impl Tally {
    /// Adds one document.
    pub fn add(&mut self, original: &str, spun: &str, restored: &str) {
        let o = words(original);
        self.words += o.len();
        self.spun_errors += edit_distance(&words(spun), &o);
        self.restored_errors += edit_distance(&words(restored), &o);
    }

    /// 1 − WER(restored) / WER(spun): the share of the spinner's damage undone.
    pub fn damage_undone(&self) -> f64 {
        if self.spun_errors == 0 {
            return 0.0;
        }
        1.0 - self.restored_errors as f64 / self.spun_errors as f64
    }

    /// WER of the spun text.
    pub fn spun_wer(&self) -> f64 {
        self.spun_errors as f64 / self.words.max(1) as f64
    }

    /// WER of the restored text.
    pub fn restored_wer(&self) -> f64 {
        self.restored_errors as f64 / self.words.max(1) as f64
    }
}

/// Turns one Brown corpus file (`word/tag` tokens, one sentence a line, blank lines between
/// paragraphs) into plain running text with paragraphs separated by blank lines.
pub fn brown_to_text(src: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut cur = String::new();
    for line in src.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                paragraphs.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let mut open_quote = false;
        for tok in line.split_whitespace() {
            let word = tok.rsplit_once('/').map_or(tok, |(w, _)| w);
            let (word, attach_left, attach_right) = match word {
                "``" => {
                    open_quote = true;
                    ("\"", false, true)
                }
                "''" => ("\"", true, false),
                "." | "," | ";" | ":" | "?" | "!" | ")" | "'" => (word, true, false),
                "(" => (word, false, true),
                _ => (word, false, false),
            };
            if !cur.is_empty() && !attach_left && !cur.ends_with(['(', '\u{1}']) {
                cur.push(' ');
            }
            if cur.ends_with('\u{1}') {
                cur.pop();
            }
            cur.push_str(word);
            if attach_right {
                cur.push('\u{1}');
            }
            let _ = open_quote;
        }
        if cur.ends_with('\u{1}') {
            cur.pop();
        }
    }
    if !cur.is_empty() {
        paragraphs.push(cur);
    }
    paragraphs.join("\n\n") + "\n"
}

/// Reads the Brown files of `dir` whose names start with `prefix`, sorted, as plain texts.
///
/// # Errors
/// The folder or a file cannot be read.
pub fn read_brown(dir: &Path, prefix: &str) -> std::io::Result<Vec<(String, String)>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.len() == 4)
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let raw = std::fs::read(dir.join(&n))?;
            Ok((n, brown_to_text(&String::from_utf8_lossy(&raw))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wer_counts() {
        assert_eq!(wer("a b c", "a b c"), 0.0);
        assert!((wer("a x c", "a b c") - 1.0 / 3.0).abs() < 1e-9);
        assert!((wer("a b", "a b c") - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(wer("", ""), 0.0);
        let mut t = Tally::default();
        t.add(
            "six soldiers fled",
            "six troopers fled",
            "six soldiers fled",
        );
        assert_eq!(t.damage_undone(), 1.0);
    }

    #[test]
    fn brown() {
        let src = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at ''/'' ./.\n\n\tIt/pps ,/, too/rb (/( see/vb )/) ./.\n";
        assert_eq!(
            brown_to_text(src),
            "The jury said \"no\".\n\nIt, too (see).\n"
        );
    }
}
