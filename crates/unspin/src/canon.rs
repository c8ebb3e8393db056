//! Spin-invariant forms of a text, cheap enough for indexing millions of documents.
//!
//! A spinner replaces a word by one of its thesaurus neighbours, inflected alike; it leaves names,
//! numbers, function words (in one-for-one mode) and words without synonyms alone. The full
//! [`Restorer`](crate::Restorer) undoes that at ~0.3 MB/s, far too slow for an index, so tracing
//! uses a cheaper invariant instead: every word is sorted into a [`Kind`] by one hash lookup, and
//!
//! - **free** words (those the thesauri relate to anything, directly or through their lemma) are
//!   what a spinner changes: they are *dropped* from the canonical stream;
//! - **function** words, words in fixed positions (contractions, hyphenated compounds) and
//!   **immutables** (names, numbers, words no thesaurus relates to anything) are kept, in order.
//!
//! What is left, the *skeleton*, is what a spinner keeps: a one-for-one spinner leaves it exactly
//! as it was, and a phrase spinner changes it only where it writes a function word out as a
//! phrase. BENCHMARKS.md ("Trace") has the measurements that chose this over mapping free words to
//! a shared representative (a word's strongest neighbour, followed to a fixed point): that keeps
//! more tokens, but agrees across a substitution only about half the time.
//!
//! ```no_run
//! use unspin::canon::{Canon, Kind};
//! let pack = unspin::Pack::open("models/default.unspin".as_ref())?;
//! let canon = Canon::new(&pack);
//! let a = canon.skeleton("Six Russian soldiers who fled the war in Ukraine");
//! let b = canon.skeleton("Six Russian troopers who fled the warfare in Ukraine");
//! assert_eq!(a, b);
//! # Ok::<(), unspin::PackError>(())
//! ```

use crate::lexicon::{flags, fx, Lexicon};
use crate::text::{tokens, Token, TokenKind};
use crate::Pack;

/// How a word behaves under spinning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// A closed-class word ([`crate::lexicon::FUNCTION_WORDS`]): kept one for one, written out as a
    /// phrase only by a phrase spinner.
    Function = 0,
    /// A word the thesauri relate to others: a spinner may replace it.
    Free = 1,
    /// A word a spinner leaves alone because of where it stands: contractions and possessives,
    /// hyphenated compounds.
    Fixed = 2,
    /// A name (capitalised inside a sentence), a number, or a word no thesaurus relates to
    /// anything: what every copy keeps, in order.
    Immutable = 3,
}

/// One word of a text with its kind and the hash of its lookup form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word {
    /// How a spinner treats it.
    pub kind: Kind,
    /// Hash of the lower-cased word (curly apostrophes made straight); equal words hash alike.
    pub hash: u64,
    /// The word's id in the pack's vocabulary, if it has one.
    pub id: Option<u32>,
    /// Byte offset of the word in the text.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// Inside a thesaurus phrase of three or more words ("at this moment", "walk off with"):
    /// what a phrase spinner writes for one word, or collapses into one.
    pub phrase: bool,
}

/// Word kinds from a pack, computed once (one byte per vocabulary word).
pub struct Canon<'p> {
    lex: Lexicon<'p>,
    /// [`Kind`] of every vocabulary word, as a byte.
    kinds: Vec<u8>,
    /// For every vocabulary word, the longest thesaurus phrase (in words, 0 for none) that
    /// starts with it.
    phrase_len: Vec<u8>,
    /// A Bloom filter of the word sequences of every thesaurus phrase of [`MIN_PHRASE`] to
    /// [`MAX_PHRASE`] words that the thesauri relate to something ([`phrase_hash`], two bits
    /// each): most word sequences are none, and are passed over without looking them up in
    /// the pack's phrase table. A sequence that passes is still looked up.
    phrase_bloom: Vec<u64>,
    /// [`Canon::fingerprint`], computed once (every trace checks it).
    fingerprint: std::sync::OnceLock<u64>,
}

/// Bits of [`Canon::phrase_bloom`] (2^21 bits, 256 KiB: under 1 % false positives for the
/// default pack's 82 k phrases, and small enough to stay in cache).
const BLOOM_BITS: u32 = 21;

/// Longest thesaurus phrase, in words, that [`Canon::words`] recognises in a text.
const MAX_PHRASE: usize = 4;

/// Shortest thesaurus phrase, in words, that [`Canon::words`] recognises.
const MIN_PHRASE: usize = 2;

/// Bumped whenever [`Canon::words`] sorts words differently, so that an index built with the
/// old rules is refused ([`Canon::fingerprint`]) rather than queried with mismatched streams.
const CANON_VERSION: u64 = 2;

/// The bit of a kinds entry that marks a phrase-prone function word.
const PHRASE_PRONE: u8 = 0x80;

/// Relations that make a word free: any thesaurus, strong or weak.
const FREE_MASK: u8 = flags::ALL;

impl<'p> Canon<'p> {
    /// Sorts the pack's vocabulary into kinds (a few milliseconds).
    pub fn new(pack: &'p Pack) -> Canon<'p> {
        let lex = pack.lexicon();
        let n = lex.n_words();
        let related = |w: u32| -> bool { lex.neighbors(w).any(|(_, f)| f & FREE_MASK != 0) };
        let kinds = (0..n)
            .map(|w| {
                if lex.is_function(w) {
                    let phrase = lex.neighbors(w).any(|(o, _)| o >= n);
                    Kind::Function as u8 | if phrase { PHRASE_PRONE } else { 0 }
                } else if related(w) || lex.analyses(w).any(|(l, _)| related(l)) {
                    Kind::Free as u8
                } else {
                    Kind::Immutable as u8
                }
            })
            .collect();
        // Phrases the thesauri relate to something: what a phrase spinner writes for a word,
        // or collapses into one.
        let mut phrase_len = vec![0u8; n as usize];
        let mut phrase_bloom = vec![0u64; 1 << (BLOOM_BITS - 6)];
        for node in n..lex.n_nodes() {
            let ws = lex.node_words(node);
            let ws = ws.as_slice();
            if (MIN_PHRASE..=MAX_PHRASE).contains(&ws.len())
                && lex.neighbors(node).any(|(_, f)| f & FREE_MASK != 0)
            {
                let l = &mut phrase_len[ws[0] as usize];
                *l = (*l).max(ws.len() as u8);
                for bit in bloom_bits(phrase_hash(ws)) {
                    phrase_bloom[bit >> 6] |= 1 << (bit & 63);
                }
            }
        }
        Canon {
            lex,
            kinds,
            phrase_len,
            phrase_bloom,
            fingerprint: std::sync::OnceLock::new(),
        }
    }

    /// The lexicon the kinds come from.
    pub fn lexicon(&self) -> &Lexicon<'p> {
        &self.lex
    }

    /// The kind of vocabulary word `id` wherever case and position do not decide it.
    pub fn kind_of(&self, id: u32) -> Kind {
        match self.kinds.get(id as usize).map(|k| k & !PHRASE_PRONE) {
            Some(0) => Kind::Function,
            Some(1) => Kind::Free,
            Some(2) => Kind::Fixed,
            _ => Kind::Immutable,
        }
    }

    /// Whether vocabulary word `id` is a function word that the thesauri relate to a phrase
    /// ("because" ↔ "on account of"): a phrase spinner may write it out.
    pub fn phrase_prone(&self, id: u32) -> bool {
        self.kinds
            .get(id as usize)
            .is_some_and(|k| k & PHRASE_PRONE != 0)
    }

    /// A fingerprint of the kinds table: an index built with one pack refuses another whose
    /// words would be sorted differently.
    pub fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            fx(self.kinds.as_slice())
                ^ (self.kinds.len() as u64).rotate_left(32)
                ^ fx(self.phrase_len.as_slice()).rotate_left(17)
                ^ CANON_VERSION
        })
    }

    /// The words of `text` with their kinds, in order.
    pub fn words(&self, text: &str) -> Vec<Word> {
        let mut out = Vec::with_capacity(text.len() / 6 + 1);
        // The lookup forms of the words, one after another, and for each word: its place in
        // `out`, where its form starts, and the kind its case or position decides if any. The
        // vocabulary is looked up once all forms are known, so that the table slots, fetched
        // meanwhile, are waited for together rather than one after another.
        let mut forms = String::with_capacity(text.len());
        let mut pending: Vec<(u32, u32, Option<Kind>)> = Vec::with_capacity(text.len() / 6 + 1);
        let mut sentence_start = true;
        // joined[k]: word k follows word k-1 with nothing but space between.
        let mut joined: Vec<bool> = Vec::with_capacity(text.len() / 6 + 1);
        let mut after_word = false;
        let is_hyphen = |t: Option<&Token>| {
            t.is_some_and(|t| t.kind == TokenKind::Punct && t.text(text) == "-")
        };
        let mut toks = tokens(text).peekable();
        let mut prev: Option<Token> = None;
        while let Some(t) = toks.next() {
            let s = t.text(text);
            match t.kind {
                TokenKind::Space => {}
                TokenKind::Punct => {
                    sentence_start |= matches!(s, "." | "!" | "?");
                    after_word = false;
                }
                TokenKind::Number => {
                    let at = forms.len();
                    push_lookup_form(s, &mut forms);
                    let hash = fx(&forms[at..]);
                    forms.truncate(at);
                    joined.push(false);
                    after_word = false;
                    out.push(Word {
                        kind: Kind::Immutable,
                        hash,
                        id: None,
                        start: t.start,
                        end: t.end,
                        phrase: false,
                    });
                    sentence_start = false;
                }
                TokenKind::Word => {
                    let upper_first = s.chars().next().is_some_and(char::is_uppercase);
                    let at = forms.len();
                    push_lookup_form(s, &mut forms);
                    let form = &forms[at..];
                    let hash = fx(form);
                    self.lex.prefetch_word(hash);
                    let decided = if upper_first && !sentence_start {
                        Some(Kind::Immutable)
                    } else if form.contains('\'')
                        || is_hyphen(prev.as_ref())
                        || is_hyphen(toks.peek())
                    {
                        Some(Kind::Fixed)
                    } else {
                        None
                    };
                    pending.push((out.len() as u32, at as u32, decided));
                    joined.push(after_word);
                    after_word = true;
                    out.push(Word {
                        kind: Kind::Immutable,
                        hash,
                        id: None,
                        start: t.start,
                        end: t.end,
                        phrase: false,
                    });
                    sentence_start = false;
                }
            }
            prev = Some(t);
        }
        for (j, &(k, at, decided)) in pending.iter().enumerate() {
            let end = pending.get(j + 1).map_or(forms.len(), |p| p.1 as usize);
            let w = &mut out[k as usize];
            let id = self.lex.word_id_hashed(&forms[at as usize..end], w.hash);
            w.id = id;
            w.kind = decided.unwrap_or_else(|| id.map_or(Kind::Immutable, |id| self.kind_of(id)));
        }
        self.mark_phrases(&mut out, &joined);
        out
    }

    /// Marks the words inside a thesaurus phrase ("at this moment", "walk off with"): what a
    /// phrase spinner writes for one word or collapses into one. A stream without them loses
    /// "now" and "at this moment" alike.
    fn mark_phrases(&self, words: &mut [Word], joined: &[bool]) {
        let mut ids = [0u32; MAX_PHRASE];
        let mut k = 0;
        while k < words.len() {
            let max = words[k]
                .id
                .map_or(0, |id| self.phrase_len[id as usize] as usize);
            let mut taken = 1;
            if max >= MIN_PHRASE {
                let mut len = 0;
                while len < max
                    && k + len < words.len()
                    && (len == 0 || joined[k + len])
                    && matches!(words[k + len].kind, Kind::Function | Kind::Free)
                {
                    let Some(id) = words[k + len].id else { break };
                    ids[len] = id;
                    len += 1;
                }
                for l in (MIN_PHRASE..=len).rev() {
                    let related = self.maybe_phrase(&ids[..l])
                        && self.lex.node_of(&ids[..l]).is_some_and(|p| {
                            self.lex.neighbors(p).any(|(_, f)| f & FREE_MASK != 0)
                        });
                    if related {
                        for w in &mut words[k..k + l] {
                            w.phrase = true;
                        }
                        taken = l;
                        break;
                    }
                }
            }
            k += taken;
        }
    }

    /// Whether `ids` may be a phrase that [`Canon::words`] marks (false: it is not).
    fn maybe_phrase(&self, ids: &[u32]) -> bool {
        bloom_bits(phrase_hash(ids))
            .iter()
            .all(|&bit| self.phrase_bloom[bit >> 6] & 1 << (bit & 63) != 0)
    }

    /// The skeleton of `text`: hashes of its words that are not [`Kind::Free`], in order.
    pub fn skeleton(&self, text: &str) -> Vec<u64> {
        self.words(text)
            .iter()
            .filter(|w| w.kind != Kind::Free)
            .map(|w| w.hash)
            .collect()
    }
}

/// A hash of a word sequence for [`Canon::phrase_bloom`].
fn phrase_hash(ws: &[u32]) -> u64 {
    ws.iter().fold(ws.len() as u64, |h, &w| {
        (h.rotate_left(29) ^ w as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    })
}

/// The two bits of [`Canon::phrase_bloom`] that a sequence with this hash sets.
fn bloom_bits(h: u64) -> [usize; 2] {
    let mask = (1 << BLOOM_BITS) - 1;
    [(h >> 40) as usize & mask, (h >> 13) as usize & mask]
}

/// Appends the lookup form of a word to `buf`: lower case, curly apostrophes straight (as
/// [`crate::text::normalize`], without allocating).
fn push_lookup_form(word: &str, buf: &mut String) {
    if word.is_ascii() {
        let at = buf.len();
        buf.push_str(word);
        buf[at..].make_ascii_lowercase();
    } else {
        for c in word.chars() {
            if c == '\u{2019}' {
                buf.push('\'');
            } else {
                buf.extend(c.to_lowercase());
            }
        }
    }
}
