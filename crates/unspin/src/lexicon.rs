//! The lexicon: vocabulary, phrases, the undirected synonym graph and inflection tables.
//!
//! Nodes of the graph are word ids (single words) or phrase ids (`n_words + i`, two or three
//! words). Each edge carries [`flags`] saying which sources relate the two nodes. Morphology is
//! precomputed: every vocabulary word lists its (lemma, [`Form`]) analyses, and every lemma its
//! inflected forms, so that "troopers" reaches "trooper" → "soldier" → "soldiers".

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// Relation flags on graph edges.
pub mod flags {
    /// Listed as synonyms by the LibreOffice (MyThes) thesaurus.
    pub const MYTHES: u8 = 1;
    /// Members of one WordNet 3.0 synset.
    pub const WORDNET: u8 = 2;
    /// Listed by the Moby II thesaurus.
    pub const MOBY: u8 = 4;
    /// Only a hypernym or "similar" relation (MyThes generic/similar terms, WordNet `&`).
    pub const WEAK: u8 = 8;
    /// All sources.
    pub const ALL: u8 = MYTHES | WORDNET | MOBY | WEAK;

    /// Source names and their flags.
    const NAMES: [(u8, &str); 4] = [
        (MYTHES, "mythes"),
        (WORDNET, "wordnet"),
        (MOBY, "moby"),
        (WEAK, "weak"),
    ];

    /// The flag for a source name (`mythes`, `wordnet`, `moby`, `weak`).
    pub fn by_name(name: &str) -> Option<u8> {
        NAMES.iter().find(|(_, n)| *n == name).map(|&(f, _)| f)
    }

    /// Names of the sources set in `f`.
    pub fn names(f: u8) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(b, _)| f & b != 0)
            .map(|&(_, n)| n)
            .collect()
    }
}

/// Word-class bits stored per vocabulary word.
pub mod class {
    /// A WordNet noun (or an inflection of one).
    pub const NOUN: u8 = 1;
    /// A WordNet verb (or an inflection of one).
    pub const VERB: u8 = 2;
    /// A WordNet adjective (or an inflection of one).
    pub const ADJ: u8 = 4;
    /// A WordNet adverb.
    pub const ADV: u8 = 8;
    /// Any part of speech.
    pub const POS: u8 = NOUN | VERB | ADJ | ADV;
    /// A closed-class (function) word, see [`super::FUNCTION_WORDS`].
    pub const FUNCTION: u8 = 16;
}

/// Closed-class English words: articles, pronouns, prepositions, conjunctions, auxiliaries and
/// a few very common adverbs. Spinners rarely swap these one for one; they rewrite them as
/// phrases, if at all.
pub const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "nor", "if", "of", "to", "in", "on", "at", "by", "for",
    "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "am", "it", "its",
    "he", "she", "they", "we", "i", "you", "him", "her", "them", "us", "me", "his", "hers",
    "their", "theirs", "our", "ours", "my", "mine", "your", "yours", "this", "that", "these",
    "those", "there", "here", "not", "no", "do", "does", "did", "have", "has", "had", "will",
    "would", "can", "could", "shall", "should", "may", "might", "must", "who", "whom", "whose",
    "which", "what", "when", "where", "why", "how", "than", "then", "so", "such", "into", "onto",
    "upon", "up", "down", "out", "off", "over", "under", "about", "above", "below", "after",
    "before", "since", "until", "while", "because", "though", "although", "whether", "through",
    "during", "against", "between", "among", "within", "without", "toward", "towards", "per",
    "via", "also", "too", "very", "just", "only", "now", "all", "any", "some", "each", "every",
    "both", "either", "neither", "other", "another", "more", "most", "less", "least", "much",
    "many", "few", "several", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine", "ten", "first", "mr", "mrs", "ms", "dr", "yes", "yet", "still", "even", "ever",
    "never", "again", "once", "well", "said", "says", "say", "get", "got", "go", "went", "gone",
    "make", "made", "take", "took",
];

/// Inflectional form classes. A spun word and its original share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Form {
    /// The lemma itself.
    Base = 0,
    /// Plural noun or third person singular verb ("-s").
    S = 1,
    /// Past tense or past participle ("-ed", "sent", "fled").
    Ed = 2,
    /// Present participle ("-ing").
    Ing = 3,
    /// Comparative ("-er").
    Er = 4,
    /// Superlative ("-est").
    Est = 5,
}

impl Form {
    /// The form with code `c`, as stored in the pack.
    pub fn from_code(c: u8) -> Form {
        match c {
            1 => Form::S,
            2 => Form::Ed,
            3 => Form::Ing,
            4 => Form::Er,
            5 => Form::Est,
            _ => Form::Base,
        }
    }
}

/// Hashes a string or a word-id sequence for the lookup tables.
pub(crate) fn fx<T: Hash + ?Sized>(x: &T) -> u64 {
    let mut h = FxHasher::default();
    x.hash(&mut h);
    h.finish()
}

/// Lookup tables built once when a pack is loaded (the pack's arrays are used in place).
pub(crate) struct Index {
    pub words: HashTable<u32>,
    pub phrases: HashTable<u32>,
}

/// A read-only view of the lexicon inside a loaded pack.
#[derive(Clone, Copy)]
pub struct Lexicon<'a> {
    pub(crate) blob: &'a [u8],
    pub(crate) word_off: &'a [u32],
    pub(crate) phrase_off: &'a [u32],
    pub(crate) phrase_words: &'a [u32],
    pub(crate) syn_off: &'a [u32],
    pub(crate) syn: &'a [u32],
    pub(crate) ana_off: &'a [u32],
    pub(crate) ana: &'a [u32],
    pub(crate) gen_off: &'a [u32],
    pub(crate) gen: &'a [u32],
    pub(crate) class: &'a [u8],
    pub(crate) index: &'a Index,
}

impl<'a> Lexicon<'a> {
    /// Number of words in the vocabulary.
    pub fn n_words(&self) -> u32 {
        (self.word_off.len() - 1) as u32
    }

    /// Number of graph nodes (words and phrases).
    pub fn n_nodes(&self) -> u32 {
        (self.syn_off.len() - 1) as u32
    }

    /// The text of word `id`.
    pub fn word(&self, id: u32) -> &'a str {
        let (a, b) = (self.word_off[id as usize], self.word_off[id as usize + 1]);
        let bytes = &self.blob[a as usize..b as usize];
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: `Pack::from_file` checked that the blob is UTF-8 and that every word offset lies
        // on a character boundary, and the pack's bytes are immutable while it is loaded.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// The id of a (normalised) word.
    pub fn word_id(&self, w: &str) -> Option<u32> {
        self.index
            .words
            .find(fx(w), |&id| self.word(id) == w)
            .copied()
    }

    /// The words of node `node`.
    pub fn node_words(&self, node: u32) -> NodeWords<'a> {
        let n = self.n_words();
        if node < n {
            NodeWords::One([node])
        } else {
            let i = (node - n) as usize;
            let (a, b) = (self.phrase_off[i] as usize, self.phrase_off[i + 1] as usize);
            NodeWords::Many(&self.phrase_words[a..b])
        }
    }

    /// The node for a sequence of word ids (one word: the word itself).
    pub fn node_of(&self, words: &[u32]) -> Option<u32> {
        match words {
            [] => None,
            [w] => Some(*w),
            _ => {
                let n = self.n_words();
                self.index
                    .phrases
                    .find(fx(words), |&p| self.node_words(p).as_slice() == words)
                    .copied()
                    .filter(|&p| p >= n)
            }
        }
    }

    /// The text of node `node`, words joined by single spaces.
    pub fn node_text(&self, node: u32) -> String {
        let ws = self.node_words(node);
        let mut s = String::new();
        for (i, &w) in ws.as_slice().iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(self.word(w));
        }
        s
    }

    /// Word-class bits ([`class`]) of word `w`.
    pub fn class(&self, w: u32) -> u8 {
        self.class.get(w as usize).copied().unwrap_or(0)
    }

    /// The neighbours of `node` with their relation flags.
    pub fn neighbors(&self, node: u32) -> impl Iterator<Item = (u32, u8)> + 'a {
        let (a, b) = (self.syn_off[node as usize], self.syn_off[node as usize + 1]);
        self.syn[a as usize..b as usize]
            .iter()
            .map(|&e| (e >> 8, (e & 0xff) as u8))
    }

    /// Number of neighbours of `node`.
    pub fn degree(&self, node: u32) -> usize {
        (self.syn_off[node as usize + 1] - self.syn_off[node as usize]) as usize
    }

    /// Analyses of word `w` other than itself: (lemma word id, form).
    pub fn analyses(&self, w: u32) -> impl Iterator<Item = (u32, Form)> + 'a {
        let (a, b) = (self.ana_off[w as usize], self.ana_off[w as usize + 1]);
        self.ana[a as usize..b as usize]
            .iter()
            .map(|&e| (e >> 8, Form::from_code((e & 0xff) as u8)))
    }

    /// Inflected forms of lemma `w` in `form` (for [`Form::Base`], `w` itself).
    pub fn inflect(&self, w: u32, form: Form) -> impl Iterator<Item = u32> + 'a {
        let (a, b) = if form == Form::Base {
            (0, 0)
        } else {
            (self.gen_off[w as usize], self.gen_off[w as usize + 1])
        };
        let base = (form == Form::Base).then_some(w);
        base.into_iter().chain(
            self.gen[a as usize..b as usize]
                .iter()
                .filter(move |&&e| (e & 0xff) as u8 == form as u8)
                .map(|&e| e >> 8),
        )
    }
}

/// The words of a node, without allocating.
pub enum NodeWords<'a> {
    /// A single word.
    One([u32; 1]),
    /// A phrase.
    Many(&'a [u32]),
}

impl NodeWords<'_> {
    /// The word ids.
    pub fn as_slice(&self) -> &[u32] {
        match self {
            NodeWords::One(w) => w,
            NodeWords::Many(ws) => ws,
        }
    }
}
