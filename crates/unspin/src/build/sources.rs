//! Readers for the lexical sources: MyThes, WordNet 3.0, Moby II, wordsegment counts.
//!
//! Each reader turns its source into phrase pairs with a relation flag; phrases are lower case,
//! words separated by single spaces. Pairs are unordered: every relation is used in both
//! directions, since a spinner may have walked any of them either way.

use std::collections::HashMap;

use crate::lexicon::flags;

/// Unordered phrase pairs with the union of the relation flags that link them.
#[derive(Default)]
pub struct Relations {
    /// (a, b) with a < b → flags.
    pub pairs: HashMap<(String, String), u8>,
}

impl Relations {
    /// Records that `a` and `b` are related by `flag`.
    pub fn add(&mut self, a: &str, b: &str, flag: u8) {
        let (Some(a), Some(b)) = (clean_phrase(a), clean_phrase(b)) else {
            return;
        };
        if a == b {
            return;
        }
        let key = if a < b { (a, b) } else { (b, a) };
        *self.pairs.entry(key).or_insert(0) |= flag;
    }
}

/// Normalises a thesaurus entry into a phrase: lower case, single spaces, underscores and hyphens
/// as spaces; `None` for entries that are not plain words (digits, parentheses, markup).
pub fn clean_phrase(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for w in raw
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
    {
        if !w
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '.')
        {
            return None;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars().flat_map(char::to_lowercase));
    }
    if out.is_empty() || out.split(' ').count() > 3 || out.starts_with('\'') {
        return None;
    }
    Some(out)
}

/// Reads the LibreOffice (MyThes) thesaurus data file.
///
/// Plain synonyms count as [`flags::MYTHES`]; "(generic term)" (hypernyms) and "(similar term)"
/// as [`flags::WEAK`]; antonyms and "(related term)" are skipped.
pub fn read_mythes(text: &str, rel: &mut Relations) {
    let mut lines = text.lines();
    lines.next(); // encoding line
    let mut head = String::new();
    for line in lines {
        if !line.starts_with('(') {
            if let Some((h, _)) = line.rsplit_once('|') {
                head = h.to_string();
            }
            continue;
        }
        for item in line.split('|').skip(1) {
            let (term, flag) = if let Some(t) = item.strip_suffix(" (generic term)") {
                (t, flags::WEAK)
            } else if let Some(t) = item.strip_suffix(" (similar term)") {
                (t, flags::WEAK)
            } else if item.ends_with(" (antonym)") || item.ends_with(" (related term)") {
                continue;
            } else {
                (item, flags::MYTHES)
            };
            rel.add(&head, term, flag);
        }
    }
}

/// Reads the Moby II thesaurus (`root,syn,syn,…` per line, CRLF).
pub fn read_moby(text: &str, rel: &mut Relations) {
    for line in text.lines() {
        let mut items = line.trim_end_matches('\r').split(',');
        let Some(root) = items.next() else { continue };
        for s in items {
            rel.add(root, s, flags::MOBY);
        }
    }
}

/// Reads one WordNet `data.*` file: synset members are related with [`flags::WORDNET`], and
/// adjective "similar to" (`&`) links with [`flags::WEAK`]. `data` maps a synset offset to its
/// members, so that pointers can be followed after all files are read.
pub fn read_wordnet_data(text: &str, pos: char, synsets: &mut HashMap<(char, u64), WnSynset>) {
    for line in text.lines() {
        if line.starts_with("  ") {
            continue; // license header
        }
        let body = line.split(" | ").next().unwrap_or(line);
        let f: Vec<&str> = body.split(' ').collect();
        let parse = || -> Option<(u64, WnSynset)> {
            let offset: u64 = f.first()?.parse().ok()?;
            let w_cnt = usize::from_str_radix(f.get(3)?, 16).ok()?;
            let mut words = Vec::with_capacity(w_cnt);
            for i in 0..w_cnt {
                let w = f.get(4 + 2 * i)?;
                // Adjective markers such as "(a)" or "(p)" follow the word.
                let w = w.split('(').next().unwrap_or(w);
                words.push(w.replace('_', " "));
            }
            let mut at = 4 + 2 * w_cnt;
            let p_cnt: usize = f.get(at)?.parse().ok()?;
            at += 1;
            let mut similar = Vec::new();
            for _ in 0..p_cnt {
                let sym = *f.get(at)?;
                let off: u64 = f.get(at + 1)?.parse().ok()?;
                let p = f.get(at + 2)?.chars().next()?;
                let p = if p == 's' { 'a' } else { p };
                if sym == "&" {
                    similar.push((p, off));
                }
                at += 4;
            }
            Some((offset, WnSynset { words, similar }))
        };
        if let Some((off, s)) = parse() {
            synsets.insert((pos, off), s);
        }
    }
}

/// A WordNet synset: its members and the synsets it is "similar to".
pub struct WnSynset {
    /// Member lemmas, spaces for underscores.
    pub words: Vec<String>,
    /// `&` pointers: (pos, offset).
    pub similar: Vec<(char, u64)>,
}

/// Adds the relations of all WordNet synsets read by [`read_wordnet_data`].
pub fn add_wordnet(synsets: &HashMap<(char, u64), WnSynset>, rel: &mut Relations) {
    for s in synsets.values() {
        for (i, a) in s.words.iter().enumerate() {
            for b in &s.words[i + 1..] {
                rel.add(a, b, flags::WORDNET);
            }
        }
        for key in &s.similar {
            if let Some(t) = synsets.get(key) {
                for a in &s.words {
                    for b in &t.words {
                        rel.add(a, b, flags::WEAK);
                    }
                }
            }
        }
    }
}

/// Reads a WordNet morphology exception file (`inflected lemma…` per line).
pub fn read_exceptions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split(' ');
        let (Some(infl), Some(lemma)) = (f.next(), f.next()) else {
            continue;
        };
        if infl != lemma && !infl.contains('_') && !lemma.contains('_') {
            out.push((infl.to_string(), lemma.to_string()));
        }
    }
    out
}

/// Reads wordsegment's `word<TAB>count` lines; duplicate keys (bigrams.txt has two sorted blocks)
/// are summed.
pub fn read_counts(text: &str) -> HashMap<String, u64> {
    let mut out: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('\t') {
            if let Ok(n) = v.trim().parse::<u64>() {
                *out.entry(k.to_string()).or_insert(0) += n;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        assert_eq!(clean_phrase("Den Haag").as_deref(), Some("den haag"));
        assert_eq!(clean_phrase("take_place").as_deref(), Some("take place"));
        assert_eq!(clean_phrase(".22 caliber"), None);
        assert_eq!(clean_phrase("a b c d"), None);
        assert_eq!(clean_phrase("  "), None);
    }

    #[test]
    fn mythes_lines() {
        let mut r = Relations::default();
        read_mythes(
            "UTF-8\ngaggle|2\n(noun)|flock (generic term)|bunch\n(verb)|cackle (antonym)\n",
            &mut r,
        );
        assert_eq!(
            r.pairs.get(&("flock".into(), "gaggle".into())),
            Some(&flags::WEAK)
        );
        assert_eq!(
            r.pairs.get(&("bunch".into(), "gaggle".into())),
            Some(&flags::MYTHES)
        );
        assert_eq!(r.pairs.len(), 2);
    }

    #[test]
    fn wordnet_line() {
        let line = "00001740 03 n 02 entity 0 thing 1 001 ~ 00001930 n 0000 | that which exists\n";
        let mut s = HashMap::new();
        read_wordnet_data(line, 'n', &mut s);
        let mut r = Relations::default();
        add_wordnet(&s, &mut r);
        assert_eq!(
            r.pairs.get(&("entity".into(), "thing".into())),
            Some(&flags::WORDNET)
        );
    }
}
