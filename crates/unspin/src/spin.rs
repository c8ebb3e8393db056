//! A reference spinner, for making labelled data, and a spintax renderer.
//!
//! The spinner behaves like the tools content farms use: it walks a thesaurus from each eligible
//! word to a synonym of the same inflection, maps the same word the same way throughout a text
//! (the choice depends on the seed and the word, not on the occurrence), leaves names, numbers and
//! function words alone, and with `phrases` also turns single words into multi-word synonyms and
//! multi-word phrases into single words. It reports every substitution it made.

use serde::Serialize;

use crate::lexicon::{flags, Form, Lexicon};
use crate::text::{normalize, tokenize, Case, TokenKind};
use crate::Pack;

/// Spinner settings.
#[derive(Clone, Debug)]
pub struct SpinOptions {
    /// Random seed.
    pub seed: u64,
    /// Share of all words to replace (the spinner gets as close as eligible words allow).
    pub rate: f64,
    /// Relation flags of the thesauri to draw from.
    pub mask: u8,
    /// Whether to rewrite phrases (one word ↔ several).
    pub phrases: bool,
    /// How strongly the spinner prefers common synonyms: a synonym's weight is its frequency to
    /// this power (times 4 per further thesaurus that lists it). 0.5, the default, picks common
    /// words; 0 picks among the synonyms alike, as a plain thesaurus lookup does, and so mostly
    /// rarer words than the original (*troopers* for *soldiers*, *gaggle* for *group*).
    pub frequency_exponent: f64,
}

impl Default for SpinOptions {
    fn default() -> Self {
        SpinOptions {
            seed: 0,
            rate: 0.3,
            mask: flags::MYTHES | flags::WORDNET | flags::MOBY,
            phrases: false,
            frequency_exponent: 0.5,
        }
    }
}

/// One substitution the spinner made.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Substitution {
    /// Byte range in the original text.
    pub start: usize,
    /// End of that range.
    pub end: usize,
    /// Byte range in the spun text.
    pub spun_start: usize,
    /// End of that range.
    pub spun_end: usize,
    /// The original words.
    pub original: String,
    /// What the spinner wrote.
    pub spun: String,
}

/// A spun text and the ground truth.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Spun {
    /// The spun text.
    pub text: String,
    /// Every substitution, in order.
    pub substitutions: Vec<Substitution>,
}

/// SplitMix64: a tiny, portable, seedable generator, so spun data is the same everywhere.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn hash_choice(seed: u64, key: &str) -> u64 {
    let mut r = Rng::new(seed ^ crate::lexicon::fx(key));
    r.next_u64()
}

struct Word {
    start: usize,
    end: usize,
    id: Option<u32>,
    free: bool,
    joins_next: bool,
    case: Case,
}

/// Spins `text` with the pack's thesauri.
pub fn spin(pack: &Pack, text: &str, opts: &SpinOptions) -> Spun {
    spin_with(pack, text, opts, opts.seed)
}

/// A partly spun copy: `text` with its odd paragraphs (the second, fourth, …; paragraphs as
/// [`crate::detect::paragraphs`] cuts them) spun, each on its own with `opts(k)` for the `k`-th
/// paragraph, and the rest left as they were; with the number of paragraphs. Blank lines and
/// every byte outside the spun paragraphs are kept, so the copy has the same paragraphs.
pub fn spin_every_other_paragraph(
    pack: &Pack,
    text: &str,
    opts: impl Fn(u64) -> SpinOptions,
) -> (String, usize) {
    let ranges = crate::detect::paragraphs(text);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut at = 0;
    for (k, &(start, end)) in ranges.iter().enumerate() {
        out.push_str(&text[at..start]);
        if k % 2 == 1 {
            out.push_str(&spin(pack, &text[start..end], &opts(k as u64)).text);
        } else {
            out.push_str(&text[start..end]);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    (out, ranges.len())
}

/// Spins `text` like a content farm's tool with a fixed dictionary: which words are replaced
/// follows `opts.seed`, but each word's replacement depends only on `dictionary`, so every text
/// spun with the same dictionary shows the same substitutions ("troopers" for soldiers,
/// always). This is the spinner whose habits `unspin learn` can infer.
pub fn spin_with_dictionary(pack: &Pack, text: &str, opts: &SpinOptions, dictionary: u64) -> Spun {
    spin_with(pack, text, opts, dictionary)
}

fn spin_with(pack: &Pack, text: &str, opts: &SpinOptions, dictionary: u64) -> Spun {
    let lex = pack.lexicon();
    let lm = pack.lm();
    let toks = tokenize(text);
    let mut words: Vec<Word> = Vec::new();
    let mut sentence_start = true;
    for (i, t) in toks.iter().enumerate() {
        let s = t.text(text);
        match t.kind {
            TokenKind::Word | TokenKind::Number => {
                let norm = normalize(s);
                let case = Case::of(s);
                let ok_case = case == Case::Lower || (case == Case::Title && sentence_start);
                let next = toks.get(i + 1);
                let prev = i.checked_sub(1).map(|j| toks[j]);
                let hyph = |o: Option<crate::text::Token>| {
                    o.is_some_and(|o| o.kind == TokenKind::Punct && o.text(text) == "-")
                };
                words.push(Word {
                    start: t.start,
                    end: t.end,
                    id: (t.kind == TokenKind::Word)
                        .then(|| lex.word_id(&norm))
                        .flatten(),
                    free: t.kind == TokenKind::Word
                        && ok_case
                        && !norm.contains('\'')
                        && !hyph(next.copied())
                        && !hyph(prev),
                    joins_next: next
                        .is_some_and(|n| n.kind == TokenKind::Space && n.text(text) == " "),
                    case,
                });
                sentence_start = false;
            }
            TokenKind::Punct => {
                if let Some(w) = words.last_mut() {
                    w.joins_next = false;
                }
                sentence_start |= matches!(s, "." | "!" | "?");
            }
            TokenKind::Space => {}
        }
    }

    // Plan: candidate substitutions per start position.
    let is_function = |w: &Word| w.id.is_some_and(|id| lex.is_function(id));
    let mut options: Vec<Vec<(usize, Vec<u32>)>> = Vec::with_capacity(words.len());
    for i in 0..words.len() {
        let mut opts_here = Vec::new();
        if opts.phrases {
            for len in [3usize, 2] {
                if i + len > words.len()
                    || !(i..i + len).all(|j| words[j].free && words[j].id.is_some())
                {
                    continue;
                }
                if !(i..i + len - 1).all(|j| words[j].joins_next) {
                    continue;
                }
                let ids: Vec<u32> = (i..i + len).map(|j| words[j].id.unwrap_or(0)).collect();
                if let Some(node) = lex.node_of(&ids) {
                    let key = lex.node_text(node);
                    if let Some(c) = choose(
                        &lex,
                        &lm,
                        node,
                        Form::Base,
                        opts,
                        dictionary,
                        &key,
                        Shape::Single,
                    ) {
                        opts_here.push((len, c));
                    }
                }
            }
        }
        let w = &words[i];
        if let (true, Some(id)) = (w.free, w.id) {
            // Function words are only ever written out as phrases, and only by a phrase spinner.
            let shape = match (is_function(w), opts.phrases) {
                (true, false) => None,
                (true, true) => Some(Shape::Phrase),
                (false, false) => Some(Shape::Same),
                (false, true) => Some(Shape::PreferPhrase),
            };
            if let Some(shape) = shape {
                let key = lex.word(id).to_string();
                let mut picked = choose(&lex, &lm, id, Form::Base, opts, dictionary, &key, shape);
                if picked.is_none() {
                    for (lemma, form) in lex.analyses(id) {
                        picked = choose(&lex, &lm, lemma, form, opts, dictionary, &key, shape);
                        if picked.is_some() {
                            break;
                        }
                    }
                }
                if let Some(c) = picked {
                    opts_here.push((1, c));
                }
            }
        }
        options.push(opts_here);
    }
    let eligible: usize = options.iter().filter(|o| !o.is_empty()).count();
    let p = if eligible == 0 {
        0.0
    } else {
        (opts.rate * words.len() as f64 / eligible as f64).min(1.0)
    };

    let mut rng = Rng::new(opts.seed);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut subs = Vec::new();
    let mut at = 0usize; // byte offset in `text` copied so far
    let mut i = 0;
    while i < words.len() {
        let roll = rng.next_f64();
        if options[i].is_empty() || roll >= p {
            i += 1;
            continue;
        }
        let (len, ref repl) = options[i][0];
        let (start, end) = (words[i].start, words[i + len - 1].end);
        out.push_str(&text[at..start]);
        let mut spun = String::new();
        for (k, &w) in repl.iter().enumerate() {
            if k > 0 {
                spun.push(' ');
            }
            let c = if k == 0 { words[i].case } else { Case::Lower };
            spun.push_str(&c.apply(lex.word(w)));
        }
        let spun_start = out.len();
        out.push_str(&spun);
        subs.push(Substitution {
            start,
            end,
            spun_start,
            spun_end: out.len(),
            original: text[start..end].to_string(),
            spun,
        });
        at = end;
        i += len;
    }
    out.push_str(&text[at..]);
    Spun {
        text: out,
        substitutions: subs,
    }
}

/// Which lengths of replacement the spinner may choose.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// As many words as the original (one for one).
    Same,
    /// A single word (for a multi-word original).
    Single,
    /// Several words (for a single-word original).
    Phrase,
    /// Several words when the thesaurus offers them for this word, else one.
    PreferPhrase,
}

/// The spinner's fixed choice for a node: a neighbour in the allowed thesauri of the right shape,
/// inflected to `form`, every word in the vocabulary, the same for every occurrence of `key`.
#[allow(clippy::too_many_arguments)]
fn choose(
    lex: &Lexicon<'_>,
    lex_lm: &crate::lm::Lm<'_>,
    node: u32,
    form: Form,
    opts: &SpinOptions,
    dictionary: u64,
    key: &str,
    shape: Shape,
) -> Option<Vec<u32>> {
    let own = lex.node_words(node).as_slice().len();
    let mut cands: Vec<(Vec<u32>, u8)> = Vec::new();
    let mut phrases: Vec<(Vec<u32>, u8)> = Vec::new();
    for (n, f) in lex.neighbors(node) {
        if f & opts.mask == 0 {
            continue;
        }
        let ws = lex.node_words(n);
        let ws = ws.as_slice();
        let fits = match shape {
            Shape::Same => ws.len() == own,
            Shape::Single => ws.len() == 1,
            Shape::Phrase => ws.len() > 1,
            Shape::PreferPhrase => true,
        };
        if !fits {
            continue;
        }
        if let (1, [o]) = (own, ws) {
            if !crate::decode::compatible(lex, node, *o) {
                continue;
            }
        }
        let v = if form == Form::Base {
            ws.to_vec()
        } else {
            let h = if own == 1 && ws.len() > 1 {
                0
            } else {
                ws.len() - 1
            };
            let Some(infl) = lex.inflect(ws[h], form).next() else {
                continue;
            };
            let mut v = ws.to_vec();
            v[h] = infl;
            v
        };
        if v.len() > 1 {
            phrases.push((v.clone(), f & opts.mask));
        }
        cands.push((v, f & opts.mask));
    }
    if shape == Shape::PreferPhrase
        && !phrases.is_empty()
        && hash_choice(dictionary ^ 0x5eed, key).is_multiple_of(2)
    {
        cands = phrases;
    }
    if cands.is_empty() {
        return None;
    }
    // Spinners want readable output: synonyms that several thesauri agree on, and (by default)
    // common words, are likelier (weight = 4^(sources-1) · frequency^exponent).
    let lm = lex_lm;
    let weights: Vec<f64> = cands
        .iter()
        .map(|(c, f)| {
            crate::decode::relation_weight(*f, 4.0, 0.25) as f64
                * 10f64.powf(
                    opts.frequency_exponent
                        * lm.sequence(crate::lm::NONE, crate::lm::NONE, c).0 as f64,
                )
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let mut u = (hash_choice(dictionary, key) >> 11) as f64 / (1u64 << 53) as f64 * total;
    let mut i = 0;
    while i + 1 < weights.len() && u >= weights[i] {
        u -= weights[i];
        i += 1;
    }
    Some(cands.swap_remove(i).0)
}

/// Why spintax could not be rendered.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum SpintaxError {
    /// A `{` without its `}`.
    #[error("unclosed '{{' opened at byte {0}")]
    Unclosed(usize),
    /// A `}` without its `{`.
    #[error("unmatched '}}' at byte {0}")]
    Unmatched(usize),
}

/// Renders spintax (`{a|b|{c|d}}`, nested) by picking one option per group with the seed.
///
/// # Errors
/// Unbalanced braces, naming the byte offset.
///
/// # Examples
/// ```
/// let s = unspin::spin::render_spintax("{Hello|Hi} {world|there}", 7).unwrap();
/// assert!(["Hello world", "Hello there", "Hi world", "Hi there"].contains(&s.as_str()));
/// ```
pub fn render_spintax(src: &str, seed: u64) -> Result<String, SpintaxError> {
    let mut rng = Rng::new(seed);
    // An explicit stack of open groups, each with its options so far, so that nesting depth is
    // bounded by memory rather than by the call stack.
    let mut top = String::with_capacity(src.len());
    let mut open: Vec<(usize, Vec<String>)> = Vec::new();
    for (at, c) in src.char_indices() {
        match c {
            '{' => open.push((at, vec![String::new()])),
            '|' if !open.is_empty() => {
                if let Some((_, options)) = open.last_mut() {
                    options.push(String::new());
                }
            }
            '}' => {
                let Some((_, mut options)) = open.pop() else {
                    return Err(SpintaxError::Unmatched(at));
                };
                let i = rng.below(options.len());
                let chosen = options.swap_remove(i);
                match open.last_mut() {
                    Some((_, outer)) => outer
                        .last_mut()
                        .expect("a group has an option")
                        .push_str(&chosen),
                    None => top.push_str(&chosen),
                }
            }
            _ => match open.last_mut() {
                Some((_, options)) => options.last_mut().expect("a group has an option").push(c),
                None => top.push(c),
            },
        }
    }
    match open.last() {
        Some(&(at, _)) => Err(SpintaxError::Unclosed(at)),
        None => Ok(top),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spintax() {
        assert_eq!(render_spintax("plain | text", 1).unwrap(), "plain | text");
        for seed in 0..20 {
            let s = render_spintax("{a|b{c|d}} x", seed).unwrap();
            assert!(["a x", "bc x", "bd x"].contains(&s.as_str()), "{s}");
        }
        let seen: std::collections::HashSet<String> = (0..50)
            .map(|s| render_spintax("{a|b|c}", s).unwrap())
            .collect();
        assert_eq!(seen.len(), 3);
        assert_eq!(render_spintax("{a|b", 0), Err(SpintaxError::Unclosed(0)));
        assert_eq!(render_spintax("a}b", 0), Err(SpintaxError::Unmatched(1)));
        assert_eq!(render_spintax("é{ü|ü}", 0).unwrap(), "éü");
        // Deep nesting is bounded by memory, not the call stack (found by fuzzing).
        let deep = "{".repeat(200_000) + &"}".repeat(200_000);
        assert_eq!(render_spintax(&deep, 0).unwrap(), "");
        assert_eq!(
            render_spintax(&"{".repeat(100_000), 0),
            Err(SpintaxError::Unclosed(99_999))
        );
    }

    #[test]
    fn rng_is_stable() {
        let mut r = Rng::new(42);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r = Rng::new(42);
        let b: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(a[0], a[1]);
    }
}
