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
    pub words: WordTable,
    pub phrases: HashTable<u32>,
}

/// Bytes of a word held inside its [`WordTable`] slot; longer words are compared with the
/// vocabulary blob.
const INLINE: usize = 24;

/// One slot of a [`WordTable`]: the word's first [`INLINE`] bytes (zero-padded), its id and its
/// length in bytes (0: an empty slot). Half a cache line, aligned, so that a lookup that finds
/// its word at the first probe touches one line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
struct Slot {
    key: [u64; INLINE / 8],
    id: u32,
    len: u32,
}

/// The vocabulary's hash index: open addressing with linear probing over a power of two of
/// slots, at most half full. Words carry their bytes inline, so that finding one costs one
/// cache miss rather than the four of a table of ids (control bytes, id, offset, text): the
/// lookup is a quarter of the time of `unspin index build`.
pub(crate) struct WordTable {
    slots: Vec<Slot>,
    shift: u32,
}

/// A word's first [`INLINE`] bytes, zero-padded, as the slot holds them.
#[inline]
fn inline_key(w: &[u8]) -> [u64; INLINE / 8] {
    let mut b = [0u8; INLINE];
    let n = w.len().min(INLINE);
    b[..n].copy_from_slice(&w[..n]);
    let mut k = [0u64; INLINE / 8];
    for (k, c) in k.iter_mut().zip(b.chunks_exact(8)) {
        *k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
    }
    k
}

impl WordTable {
    /// The table of `words` (id = position). A word listed twice is found under its first id
    /// (the first inserted comes first on its probe sequence); the empty word is never found.
    pub(crate) fn new<'w>(n: usize, words: impl Iterator<Item = &'w str>) -> WordTable {
        let bits = (n.max(1) * 2).next_power_of_two().trailing_zeros().max(4);
        let mut t = WordTable {
            slots: vec![Slot::default(); 1 << bits],
            shift: 64 - bits,
        };
        let mask = t.slots.len() - 1;
        for (id, w) in words.enumerate() {
            if w.is_empty() {
                continue;
            }
            let key = inline_key(w.as_bytes());
            let mut i = t.home(fx(w));
            loop {
                let s = &mut t.slots[i];
                if s.len == 0 {
                    *s = Slot {
                        key,
                        id: id as u32,
                        len: w.len() as u32,
                    };
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        t
    }

    /// The home slot of a hash (its top bits after a remix: [`fx`]'s low bits are weak).
    #[inline]
    fn home(&self, hash: u64) -> usize {
        ((hash ^ (hash >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    /// Asks the processor to fetch the home slot of `hash`, so that a [`WordTable::find`] a
    /// little later does not wait for memory (a hint: it does nothing else).
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots[self.home(hash)..].as_ptr();
            // SAFETY: a prefetch never faults and reads nothing architecturally; `p` points into
            // `self.slots` anyway.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// The id of `w`, whose [`fx`] hash is `hash`; `text(id)` gives a word's bytes (compared
    /// only for words longer than [`INLINE`] bytes).
    #[inline]
    pub(crate) fn find<'t>(
        &self,
        w: &str,
        hash: u64,
        text: impl Fn(u32) -> &'t str,
    ) -> Option<u32> {
        let len = w.len();
        if len == 0 {
            return None;
        }
        let key = inline_key(w.as_bytes());
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let s = &self.slots[i];
            if s.len == 0 {
                return None;
            }
            if s.len as usize == len && s.key == key && (len <= INLINE || text(s.id) == w) {
                return Some(s.id);
            }
            i = (i + 1) & mask;
        }
    }
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
        self.word_id_hashed(w, fx(w))
    }

    /// Starts fetching the table slot where the word whose [`fx`] hash is `hash` would be, for
    /// a [`Lexicon::word_id_hashed`] a little later (a batch of lookups then overlaps its
    /// waits for memory).
    #[inline]
    pub(crate) fn prefetch_word(&self, hash: u64) {
        self.index.words.prefetch(hash);
    }

    /// [`Lexicon::word_id`] for a word whose [`fx`] hash the caller has already computed.
    #[inline]
    pub(crate) fn word_id_hashed(&self, w: &str, hash: u64) -> Option<u32> {
        debug_assert_eq!(hash, fx(w));
        self.index.words.find(w, hash, |id| self.word(id))
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

    /// Starts fetching what expanding the neighbour `node` into candidates reads (see
    /// [`crate::lm`]'s prefetch): its class, its spelling's offsets, its phrase words, and its
    /// inflections when `form` needs them. A hint only; changes nothing.
    #[inline]
    pub(crate) fn prefetch_node(&self, node: u32, form: Form) {
        use crate::lm::prefetch;
        let n = self.n_words();
        if node < n {
            let w = node as usize;
            // Both have a row per word (checked on load).
            prefetch(&self.class[w]);
            prefetch(&self.word_off[w]);
            if form != Form::Base {
                prefetch(&self.gen_off[w]);
            }
        } else if let Some(off) = self.phrase_off.get((node - n) as usize) {
            prefetch(off);
        }
    }

    /// Whether `w` is a function word ([`class::FUNCTION`]): an article, pronoun, preposition,
    /// auxiliary and the like, which spinners leave alone or rewrite only within phrases.
    pub fn is_function(&self, w: u32) -> bool {
        self.class(w) & class::FUNCTION != 0
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
