//! A loaded model pack: the verified file plus the lookup tables built on load.

use std::path::Path;

use hashbrown::HashTable;

use crate::build::PackMeta;
use crate::lexicon::{fx, Index, Lexicon, WordTable};
use crate::lm::Lm;
use crate::pack::{PackError, PackFile, Result};

/// A model pack, ready for restoring: memory-mapped arrays and in-memory word indexes.
pub struct Pack {
    file: PackFile,
    index: Index,
    meta: PackMeta,
    /// The n-gram hash tables, built on the first call to [`Pack::lm`] (~2 M bigrams and ~1.7 M
    /// trigrams, tens of ms), not at load.
    ngrams: std::sync::OnceLock<Option<crate::lm::NgramIndex>>,
}

impl Pack {
    /// Opens, verifies and indexes the pack at `path`.
    ///
    /// # Errors
    /// Any [`PackError`]: missing, truncated, corrupt, wrong version or malformed.
    ///
    /// # Examples
    /// ```no_run
    /// let pack = unspin::Pack::open("models/default.unspin".as_ref())?;
    /// println!("{} words", pack.lexicon().n_words());
    /// # Ok::<(), unspin::PackError>(())
    /// ```
    pub fn open(path: &Path) -> Result<Pack> {
        Pack::from_file(PackFile::open(path)?)
    }

    /// Indexes a pack held in memory.
    ///
    /// # Errors
    /// As [`Pack::open`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Pack> {
        Pack::from_file(PackFile::from_bytes(bytes)?)
    }

    fn from_file(file: PackFile) -> Result<Pack> {
        let meta: PackMeta = serde_json::from_slice(file.section("meta")?)
            .map_err(|e| PackError::Malformed(format!("meta: {e}")))?;
        let bad = |what: &str| PackError::Malformed(what.to_string());
        let blob = file.section("vocab.blob")?;
        let blob_str = std::str::from_utf8(blob).map_err(|_| bad("vocabulary is not UTF-8"))?;
        let word_off = file.u32s("vocab.off")?;
        check_offsets(word_off, blob.len(), "vocab.off")?;
        for &o in word_off {
            if !blob_str.is_char_boundary(o as usize) {
                return Err(bad("vocab.off splits a character"));
            }
        }
        let n_words = word_off.len() - 1;
        let phrase_off = file.u32s("phrase.off")?;
        let phrase_words = file.u32s("phrase.words")?;
        check_offsets(phrase_off, phrase_words.len(), "phrase.off")?;
        check_ids(phrase_words, n_words, 0, "phrase.words")?;
        // A phrase node has two or more words; single words are their own nodes.
        if phrase_off.windows(2).any(|w| w[1] - w[0] < 2) {
            return Err(bad("phrase.off has a phrase of fewer than two words"));
        }
        let n_nodes = n_words + phrase_off.len() - 1;
        let syn_off = file.u32s("syn.off")?;
        if syn_off.len() != n_nodes + 1 {
            return Err(bad("syn.off has the wrong length"));
        }
        let syn = file.u32s("syn.edges")?;
        check_offsets(syn_off, syn.len(), "syn.off")?;
        check_ids(syn, n_nodes, 8, "syn.edges")?;
        for (off, data) in [
            ("morph.ana.off", "morph.ana"),
            ("morph.gen.off", "morph.gen"),
        ] {
            let o = file.u32s(off)?;
            if o.len() != n_words + 1 {
                return Err(bad(&format!("{off} has the wrong length")));
            }
            let d = file.u32s(data)?;
            check_offsets(o, d.len(), off)?;
            check_ids(d, n_words, 8, data)?;
        }
        if file.section("word.class")?.len() != n_words {
            return Err(bad("word.class does not match the vocabulary"));
        }
        let uni = file.f32s("lm.uni.p")?;
        if uni.len() != n_words || file.f32s("lm.uni.b")?.len() != n_words {
            return Err(bad("lm unigrams do not match the vocabulary"));
        }
        let bi_end = file.u32s("lm.bi.end")?;
        let bi = file.u64s("lm.bi")?;
        let tri = file.u32s("lm.tri")?;
        if bi_end.len() != n_words
            || bi_end.windows(2).any(|w| w[0] > w[1])
            || bi_end.last().is_some_and(|&e| e as usize != bi.len())
        {
            return Err(bad("lm.bi.end is inconsistent"));
        }
        let mut prev = 0u64;
        for &b in bi {
            let end = b >> 40;
            if end < prev || end as usize > tri.len() || (b & 0xff_ffff) as usize >= n_words {
                return Err(bad("lm.bi is inconsistent"));
            }
            prev = end;
        }
        if tri.iter().any(|&t| (t & 0xff_ffff) as usize >= n_words) {
            return Err(bad("lm.tri refers past the end"));
        }
        if file.f32s("lm.q")?.len() != 768 || file.u32s("lm.specials")?.len() != 3 {
            return Err(bad("lm tables have the wrong size"));
        }

        let words = WordTable::new(
            n_words,
            (0..n_words).map(|id| &blob_str[word_off[id] as usize..word_off[id + 1] as usize]),
        );
        let mut phrases = HashTable::with_capacity(phrase_off.len());
        let phrase = |i: usize| &phrase_words[phrase_off[i] as usize..phrase_off[i + 1] as usize];
        for i in 0..phrase_off.len() - 1 {
            phrases.insert_unique(fx(phrase(i)), (n_words + i) as u32, |&p| {
                fx(phrase(p as usize - n_words))
            });
        }
        Ok(Pack {
            file,
            index: Index { words, phrases },
            meta,
            ngrams: std::sync::OnceLock::new(),
        })
    }

    /// The pack's metadata: sources, hashes, licenses, counts.
    pub fn meta(&self) -> &PackMeta {
        &self.meta
    }

    /// The verified file, for inspection.
    pub fn file(&self) -> &PackFile {
        &self.file
    }

    /// A view of the lexicon.
    pub fn lexicon(&self) -> Lexicon<'_> {
        let f = &self.file;
        // Every section was checked in `from_file`; these lookups cannot fail.
        let u = |n: &str| f.u32s(n).expect("checked on load");
        Lexicon {
            blob: f.section("vocab.blob").expect("checked on load"),
            word_off: u("vocab.off"),
            phrase_off: u("phrase.off"),
            phrase_words: u("phrase.words"),
            syn_off: u("syn.off"),
            syn: u("syn.edges"),
            ana_off: u("morph.ana.off"),
            ana: u("morph.ana"),
            gen_off: u("morph.gen.off"),
            gen: u("morph.gen"),
            class: f.section("word.class").expect("checked on load"),
            index: &self.index,
        }
    }

    /// A view of the language model.
    pub fn lm(&self) -> Lm<'_> {
        let f = &self.file;
        let specials = f.u32s("lm.specials").expect("checked on load");
        let bi_end = f.u32s("lm.bi.end").expect("checked on load");
        let bi = f.u64s("lm.bi").expect("checked on load");
        let tri = f.u32s("lm.tri").expect("checked on load");
        let uni_p = f.f32s("lm.uni.p").expect("checked on load");
        let uni_b = f.f32s("lm.uni.b").expect("checked on load");
        let q = f.f32s("lm.q").expect("checked on load");
        let mut lm = Lm {
            ngrams: None,
            uni_p,
            uni_b,
            bi_end,
            bi,
            tri,
            q,
            bos: specials[0],
            eos: specials[1],
            oov: f32::from_bits(specials[2]),
        };
        lm.ngrams = self
            .ngrams
            .get_or_init(|| crate::lm::build_ngram_index(&lm))
            .as_ref();
        lm
    }
}

fn check_offsets(off: &[u32], len: usize, name: &str) -> Result<()> {
    if off.is_empty()
        || off[0] != 0
        || off.windows(2).any(|w| w[0] > w[1])
        || *off.last().unwrap_or(&0) as usize != len
    {
        return Err(PackError::Malformed(format!(
            "{name} is not a valid offset table"
        )));
    }
    Ok(())
}

fn check_ids(data: &[u32], n: usize, shift: u32, name: &str) -> Result<()> {
    if data.iter().any(|&x| (x >> shift) as usize >= n) {
        return Err(PackError::Malformed(format!("{name} refers past the end")));
    }
    Ok(())
}
