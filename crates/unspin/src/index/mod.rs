//! Tracing spun copies to their sources among many documents.
//!
//! - [`IndexBuilder`] signs documents ([`signature`]: MinHash over shingles of two spin-invariant
//!   streams, per passage, cut into LSH bands) and writes an [`Index`] file ([`store`]: versioned,
//!   a CRC-32 per section, written to a temporary file and renamed).
//! - [`Index::open`] verifies and memory-maps an index; [`Index::trace`] finds the sources of a
//!   spun text: candidate passages from the LSH tables, ranked by the bands they share, each
//!   verified by a word alignment ([`align`]) that explains the differences as thesaurus
//!   substitutions.
//!
//! ```no_run
//! use unspin::canon::Canon;
//! use unspin::index::{Index, IndexBuilder, Params, TraceOptions};
//!
//! let pack = unspin::Pack::open("models/default.unspin".as_ref())?;
//! let canon = Canon::new(&pack);
//! let mut b = IndexBuilder::new(&canon, Params::default())?;
//! b.add("news-1", "Six Russian soldiers who fled the war in Ukraine have been granted visas.");
//! b.write("news.idx".as_ref())?;
//!
//! let index = Index::open("news.idx".as_ref())?;
//! let hits = index.trace(&canon, "Six Russian troopers who fled the warfare in Ukraine have been granted visas.", &TraceOptions::default())?;
//! assert_eq!(hits[0].id, "news-1");
//! for e in &hits[0].alignment.edits {
//!     println!("{} → {}", e.source, e.spun);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod align;
pub mod eval;
mod lsh;
pub mod signature;
mod spill;
mod store;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::canon::Canon;
pub use align::{align, align_with, Alignment, Edit, EditKind, Rules};
pub use signature::{Params, Passage, Signer, STREAMS};
pub use store::{FORMAT_VERSION, MAGIC};

/// Why an index could not be built, opened or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The file could not be read or written.
    #[error("cannot access index {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the index magic.
    #[error("not an unspin index (bad magic)")]
    BadMagic,
    /// The file was written by another format version.
    #[error("index format version {found} is not supported (this build reads version {expected}); rebuild it with `unspin index build`")]
    WrongVersion {
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The file ends before the data it announces.
    #[error("index is truncated: {0}")]
    Truncated(String),
    /// A checksum does not match.
    #[error("index is corrupt: checksum mismatch in section {0:?}")]
    Corrupt(String),
    /// A section is absent or inconsistent.
    #[error("index is malformed: {0}")]
    Malformed(String),
    /// The index was built with a model pack that sorts words differently.
    #[error("index was built with a different model pack (word kinds {index:016x}, this pack {pack:016x}); use the pack it was built with or rebuild it")]
    PackMismatch {
        /// The fingerprint stored in the index.
        index: u64,
        /// The fingerprint of the pack in use.
        pack: u64,
    },
    /// Signature parameters that cannot be used.
    #[error("bad index parameters: {0}")]
    BadParams(String),
    /// The index is full: document or passage numbers would overflow 32 bits.
    #[error("index is full: {0}")]
    Full(String),
}

/// Shorthand for results whose error is an [`IndexError`].
pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// What an index says about itself (its `meta` section).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// The format version.
    pub format: u32,
    /// Signature parameters.
    pub params: Params,
    /// Number of documents.
    pub docs: u64,
    /// Number of indexed passages.
    pub passages: u64,
    /// Number of band entries.
    pub entries: u64,
    /// Fingerprint of the pack's word kinds ([`Canon::fingerprint`]), in hex.
    pub canon: String,
    /// Directory bits of the LSH tables.
    pub dir_bits: u32,
    /// Bytes of each passage id in `lsh.ids`: 3 for up to 2^24 passages, else 4.
    pub id_bytes: u32,
    /// The program that wrote it.
    pub created_by: String,
}

/// Section names, in the order they are written (`lsh.keys` only for tables of fewer than
/// 2^16 directory buckets: larger ones imply the full keys by `lsh.dir` and `lsh.frag`).
///
/// The texts come first: a build within a memory budget spills them into the index file itself
/// (`spill::Spool::section_of_index`), so they are written once and never copied.
const SECTIONS: [&str; 12] = [
    "doc.text",
    "meta",
    "doc.id.off",
    "doc.id",
    "doc.text.off",
    "pass.doc",
    "pass.start",
    "lsh.off",
    "lsh.ids",
    "lsh.frag",
    "lsh.keys",
    "lsh.dir",
];

/// One document's signature, computed apart from the builder (so that many threads can sign
/// while one adds).
#[derive(Clone, Debug)]
pub struct DocSignature {
    /// The passages.
    pub passages: Vec<Passage>,
}

/// Collects documents and writes an index.
///
/// By default everything is held in memory until [`IndexBuilder::write`] (about 4.5 kB per
/// 300-word document). With [`IndexBuilder::memory_budget`], texts and sorted runs of band
/// entries go to temporary files whenever the budget is reached and are merged when the index is
/// written, so a build of any size needs about the budget; the file written is the same.
pub struct IndexBuilder<'c, 'p> {
    canon: &'c Canon<'p>,
    signer: Signer,
    id_off: Vec<u64>,
    ids: spill::Spool,
    text_off: Vec<u64>,
    texts: spill::Spool,
    pass_doc: Vec<u32>,
    pass_start: Vec<u32>,
    /// Band entries since the last spill.
    bands: Vec<Vec<u64>>,
    /// Spilled runs of band entries, in passage order.
    runs: Vec<spill::Run>,
    budget: Option<spill::Budget>,
}

impl<'c, 'p> IndexBuilder<'c, 'p> {
    /// An empty index with these parameters.
    ///
    /// # Errors
    /// [`IndexError::BadParams`].
    pub fn new(canon: &'c Canon<'p>, params: Params) -> Result<Self> {
        params.check().map_err(IndexError::BadParams)?;
        let bands = vec![Vec::new(); params.bands()];
        Ok(IndexBuilder {
            canon,
            signer: Signer::new(params),
            id_off: vec![0],
            ids: spill::Spool::default(),
            text_off: vec![0],
            texts: spill::Spool::default(),
            pass_doc: Vec::new(),
            pass_start: Vec::new(),
            bands,
            runs: Vec::new(),
            budget: None,
        })
    }

    /// Holds at most about `bytes` of texts and band entries in memory, spilling the rest to
    /// temporary files in `dir` (removed when the builder is dropped). Set it before adding
    /// documents.
    pub fn memory_budget(mut self, dir: &Path, bytes: usize) -> Self {
        let bytes = bytes.max(1 << 16);
        // Reserved whole (pages are touched only as they fill), so that growing never copies
        // and never holds twice the entries: a quarter for text, the rest for band entries.
        let per_band = bytes / 4 * 3 / 8 / self.bands.len().max(1);
        for band in &mut self.bands {
            band.reserve_exact(per_band.saturating_sub(band.len()));
        }
        if self.texts.len() == 0 {
            // Texts that spill go straight into the index file to be.
            self.texts = spill::Spool::section_of_index(store::Writer::head_len(SECTIONS.len()));
        }
        self.texts.buf.reserve_exact(bytes / 4);
        self.budget = Some(spill::Budget {
            dir: dir.to_path_buf(),
            bytes,
        });
        self
    }

    /// A builder holding every document of `index`, to add more (its parameters are kept).
    ///
    /// # Errors
    /// [`IndexError::PackMismatch`] when `canon` is not the pack the index was built with;
    /// a malformed document text.
    pub fn from_index(canon: &'c Canon<'p>, index: &Index) -> Result<Self> {
        Self::load(IndexBuilder::new(canon, index.meta.params.clone())?, index)
    }

    /// [`IndexBuilder::from_index`] within a memory budget ([`IndexBuilder::memory_budget`]):
    /// the index's band tables are copied to a temporary file as the first run, its texts too
    /// when they exceed the budget.
    ///
    /// # Errors
    /// As [`IndexBuilder::from_index`]; [`IndexError::Io`] for the temporary files.
    pub fn from_index_within(
        canon: &'c Canon<'p>,
        index: &Index,
        dir: &Path,
        bytes: usize,
    ) -> Result<Self> {
        let b = IndexBuilder::new(canon, index.meta.params.clone())?.memory_budget(dir, bytes);
        Self::load(b, index)
    }

    fn load(mut b: Self, index: &Index) -> Result<Self> {
        index.check_pack(b.canon)?;
        let c = &index.file;
        b.id_off = c.u64s("doc.id.off")?.to_vec();
        b.text_off = c.u64s("doc.text.off")?.to_vec();
        b.pass_doc = c.u32s("pass.doc")?.to_vec();
        b.pass_start = c.u32s("pass.start")?.to_vec();
        let v = index.tables();
        let band = |band: usize| {
            let (s, e) = (v.off[band] as usize, v.off[band + 1] as usize);
            v.band_keys(band)
                .into_iter()
                .zip(v.ids.get_range(s..e).expect("checked on load").iter())
                .map(|(k, p)| (k as u64) << 32 | p as u64)
        };
        match &b.budget {
            None => {
                b.ids = spill::Spool::from_vec(c.section("doc.id")?.to_vec());
                b.texts = spill::Spool::from_vec(c.section("doc.text")?.to_vec());
                for (i, entries) in b.bands.iter_mut().enumerate() {
                    entries.extend(band(i));
                }
            }
            Some(budget) => {
                let dir = budget.dir.clone();
                for chunk in c.section("doc.id")?.chunks(1 << 20) {
                    b.ids.buf.extend_from_slice(chunk);
                    b.spill_text_if_full()?;
                }
                for chunk in c.section("doc.text")?.chunks(1 << 20) {
                    b.texts.buf.extend_from_slice(chunk);
                    b.spill_text_if_full()?;
                }
                // The tables are sorted already: they are the first run.
                if v.ids.is_empty() {
                    return Ok(b);
                }
                let run = spill::Run::write_iter(&dir, (0..b.bands.len()).map(band))?;
                b.runs.push(run);
            }
        }
        Ok(b)
    }

    /// The signer (shareable between threads: [`IndexBuilder::sign_with`]).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Signs a text with `signer` and `canon` (pure: call it from any thread).
    pub fn sign_with(signer: &Signer, canon: &Canon<'_>, text: &str) -> DocSignature {
        let words = canon.words(text);
        DocSignature {
            passages: signer.passages(canon, &words, signer.params().stride),
        }
    }

    /// Adds a document.
    ///
    /// # Panics
    /// If the index would hold 2^32 documents or passages (use [`IndexBuilder::push`] to get an
    /// error instead).
    pub fn add(&mut self, id: &str, text: &str) {
        let sig = Self::sign_with(&self.signer, self.canon, text);
        self.push(id, text, sig).expect("index not full");
    }

    /// Adds a document signed by [`IndexBuilder::sign_with`].
    ///
    /// # Errors
    /// [`IndexError::Full`] at 2^32 − 1 documents or passages; [`IndexError::Io`] when a spill
    /// to the temporary files fails.
    pub fn push(&mut self, id: &str, text: &str, sig: DocSignature) -> Result<()> {
        let doc = u32::try_from(self.id_off.len() - 1)
            .ok()
            .filter(|&d| d < u32::MAX)
            .ok_or_else(|| IndexError::Full("2^32 documents".into()))?;
        if self.pass_doc.len() + sig.passages.len() >= u32::MAX as usize {
            return Err(IndexError::Full("2^32 passages".into()));
        }
        // Band entries are reserved whole by `memory_budget`: when the document's entries
        // would not fit a band's reservation, every band is spilled first (so that no band
        // grows beyond it: a vector that grew would double, and keep its new size).
        let n = sig.passages.len();
        if self.budget.is_some()
            && self.bands.iter().any(|t| t.capacity() - t.len() < n)
            && self.bands.iter().any(|t| !t.is_empty())
        {
            self.spill_bands()?;
        }
        self.ids.buf.extend_from_slice(id.as_bytes());
        self.id_off.push(self.ids.len());
        self.texts.buf.extend_from_slice(text.as_bytes());
        self.text_off.push(self.texts.len());
        for p in sig.passages {
            let pid = self.pass_doc.len() as u64;
            self.pass_doc.push(doc);
            self.pass_start.push(p.start);
            for (band, key) in p.keys.iter().enumerate() {
                if let (Some(k), Some(t)) = (key, self.bands.get_mut(band)) {
                    t.push((*k as u64) << 32 | pid);
                }
            }
        }
        self.spill_text_if_full()?;
        Ok(())
    }

    /// Under a budget, moves the ids and texts held in memory to their files once they take a
    /// quarter of it (the rest is for band entries).
    fn spill_text_if_full(&mut self) -> Result<()> {
        if let Some(budget) = &self.budget {
            if self.texts.buf.len() + self.ids.buf.len() + (1 << 16) >= budget.bytes / 4 {
                self.texts.spill(&budget.dir)?;
                self.ids.spill(&budget.dir)?;
            }
        }
        Ok(())
    }

    /// Writes the band entries held in memory as a run (in passage order: the merge sorts).
    fn spill_bands(&mut self) -> Result<()> {
        let dir = &self.budget.as_ref().expect("spilling needs a budget").dir;
        self.runs.push(spill::Run::write(
            dir,
            self.bands.iter().map(Vec::as_slice),
        )?);
        for band in &mut self.bands {
            band.clear();
        }
        Ok(())
    }

    /// Number of documents so far.
    pub fn docs(&self) -> usize {
        self.id_off.len() - 1
    }

    /// Sorted runs of band entries spilled to temporary files so far (0 without a memory
    /// budget, or while everything fits).
    pub fn spilled_runs(&self) -> usize {
        self.runs.len()
    }

    /// Writes the index to `path` (through a temporary file renamed at the end, so that a crash
    /// leaves whatever was at `path` before). Returns its metadata.
    ///
    /// # Errors
    /// [`IndexError::Io`].
    pub fn write(mut self, path: &Path) -> Result<IndexMeta> {
        let params = self.signer.params().clone();
        if self.runs.is_empty() {
            let mut scratch = Vec::new();
            for band in &mut self.bands {
                lsh::sort_band(band, &mut scratch);
            }
        }
        let lens: Vec<u64> = (0..self.bands.len())
            .map(|b| self.bands[b].len() as u64 + self.runs.iter().map(|r| r.lens[b]).sum::<u64>())
            .collect();
        let largest = lens.iter().copied().max().unwrap_or(0) as usize;
        let entries: u64 = lens.iter().sum();
        let mut off = vec![0u64];
        for l in &lens {
            off.push(off.last().copied().unwrap_or(0) + l);
        }
        let mut dir = lsh::Dir::new(lens.len(), largest);
        let meta = IndexMeta {
            format: FORMAT_VERSION,
            params,
            docs: (self.id_off.len() - 1) as u64,
            passages: self.pass_doc.len() as u64,
            entries,
            canon: format!("{:016x}", self.canon.fingerprint()),
            dir_bits: dir.bits,
            id_bytes: lsh::id_bytes(self.pass_doc.len() as u64) as u32,
            created_by: format!("unspin {}", env!("CARGO_PKG_VERSION")),
        };
        // The texts: in place already when they were spilled into the file to be.
        let spilled_texts = match &self.budget {
            Some(b) => self.texts.take_section(&b.dir)?,
            None => None,
        };
        let mut w = match spilled_texts {
            Some(t) => store::Writer::resume(
                t.file,
                path,
                SECTIONS.len(),
                ("doc.text", t.off, t.len, t.crc),
            )?,
            None => {
                let mut w = store::Writer::create(path, SECTIONS.len())?;
                w.section_with("doc.text", |sink| self.texts.drain(sink))?;
                w
            }
        };
        self.texts = spill::Spool::default();
        w.bytes(
            "meta",
            &serde_json::to_vec_pretty(&meta).expect("meta serialises"),
        )?;
        w.u64s("doc.id.off", &self.id_off)?;
        w.section_with("doc.id", |sink| self.ids.drain(sink))?;
        w.u64s("doc.text.off", &self.text_off)?;
        w.u32s("pass.doc", &self.pass_doc)?;
        w.u32s("pass.start", &self.pass_start)?;
        w.u64s("lsh.off", &off)?;
        // Passage ids, fragments and (for small tables) keys of every band in turn, written side
        // by side in place as spilled runs are merged (once) or the sorted bands are read.
        let bits = dir.bits;
        let with_keys = bits < lsh::KEYS_IMPLIED_FROM;
        let width = meta.id_bytes as usize;
        let mut columns = vec![
            ("lsh.ids", entries * width as u64),
            ("lsh.frag", entries * 2),
        ];
        if with_keys {
            columns.push(("lsh.keys", entries * 4));
        }
        w.columns(&columns, |cols| {
            let mut ids: Vec<u8> = Vec::with_capacity(4 << 16);
            let mut frags: Vec<u16> = Vec::with_capacity(1 << 16);
            let mut keys: Vec<u32> = Vec::with_capacity(1 << 16);
            spill::merge(&self.runs, &mut self.bands, |_, entries| {
                for block in entries.chunks(1 << 16) {
                    ids.clear();
                    frags.clear();
                    for &e in block {
                        dir.push(e);
                        frags.push(lsh::frag((e >> 32) as u32, bits));
                    }
                    lsh::pack_ids(block.iter().map(|&e| e as u32), width, &mut ids);
                    cols[0].write(&ids)?;
                    cols[1].write(store::as_bytes(&frags))?;
                    if with_keys {
                        keys.clear();
                        keys.extend(block.iter().map(|&e| (e >> 32) as u32));
                        cols[2].write(store::as_bytes(&keys))?;
                    }
                }
                dir.end_band();
                Ok(())
            })
        })?;
        w.u32s("lsh.dir", &dir.finish())?;
        w.finish()?;
        Ok(meta)
    }
}

/// Band keys shared by more passages than this are not looked at (they say little, and cost
/// much).
const MAX_HITS: usize = 4096;
/// The same for the content stream's bands, whose keys are single pairs of words: a cap of 512
/// instead of 4096 kept recall at 1 M documents and made queries 18 % faster (BENCHMARKS.md).
const MAX_CONTENT_HITS: usize = 512;

/// A verified, memory-mapped index.
pub struct Index {
    file: store::Container,
    meta: IndexMeta,
    signer: Signer,
}

/// How [`Index::trace`] looks for sources.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    /// Sources reported at most.
    pub top: usize,
    /// Candidates verified by alignment at most.
    pub verify: usize,
    /// Candidates screened at most (by the word pairs they share with the query,
    /// `min_shared_pairs`), in rank order; those that pass are aligned, up to `verify`.
    pub screen: usize,
    /// Lowest alignment score reported as a source.
    pub min_score: f32,
    /// Words between the starts of the query's passages (0: a quarter of the index's window).
    pub step: usize,
    /// Candidates whose evidence (the rarity-weighted bands their best pair of passages shares)
    /// is below this share of the best candidate's are not verified.
    pub relative_votes: f32,
    /// Candidates holding fewer than this share of the query's pairs of adjacent words
    /// (counted with multiplicity) are not aligned: a screen that costs one pass over the
    /// candidate's bytes, where an alignment costs the document's words looked up and a banded
    /// dynamic programme. True sources of the evaluation's queries (copies spun at rates up to
    /// 0.5) held at least 0.098 of them, unrelated candidates mostly under 0.06 (BENCHMARKS.md).
    /// 0 aligns every candidate.
    pub min_shared_pairs: f32,
}

impl Default for TraceOptions {
    fn default() -> Self {
        TraceOptions {
            top: 5,
            verify: 8,
            screen: 32,
            min_score: 0.6,
            step: 0,
            relative_votes: 0.2,
            min_shared_pairs: 0.06,
        }
    }
}

/// A text's candidates for [`Index::trace`], found before they are verified.
struct Plan {
    words: Vec<crate::canon::Word>,
    /// Best first, none below the relative floor; at most `screen.max(verify)`.
    cands: Vec<Ranked>,
}

/// A source found for a spun text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Match {
    /// The document's number in the index.
    pub doc: u32,
    /// The document's id.
    pub id: String,
    /// The alignment score, in [0, 1].
    pub score: f32,
    /// LSH bands the best pair of passages shared.
    pub bands: u32,
    /// The word alignment.
    pub alignment: Alignment,
}

/// A candidate document and the evidence for it.
#[derive(Clone, Copy, Debug)]
struct Ranked {
    doc: u32,
    /// Bands shared by the best pair of passages.
    bands: u32,
    /// Their weight (the sum of the shared keys' rarity).
    weight: f32,
    /// The weight of every pair of passages.
    total: f32,
    /// Where the query's first word would sit in the source.
    hint: isize,
}

/// Sizes of an index.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    /// The metadata.
    pub meta: IndexMeta,
    /// Bytes of the file.
    pub bytes: u64,
    /// Sections and their sizes in bytes.
    pub sections: Vec<(String, u64)>,
}

impl Index {
    /// Opens and verifies the index at `path`, then maps it.
    ///
    /// # Errors
    /// Any [`IndexError`] but `PackMismatch`: unreadable, not an index, another version,
    /// truncated, a checksum mismatch, or inconsistent sections.
    pub fn open(path: &Path) -> Result<Index> {
        Index::load(store::Container::open(path)?)
    }

    /// Verifies an index held in memory.
    ///
    /// # Errors
    /// As [`Index::open`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Index> {
        Index::load(store::Container::from_bytes(bytes)?)
    }

    fn load(file: store::Container) -> Result<Index> {
        let bad = |s: String| IndexError::Malformed(s);
        let meta: IndexMeta =
            serde_json::from_slice(file.section("meta")?).map_err(|e| bad(format!("meta: {e}")))?;
        meta.params.check().map_err(|e| bad(format!("meta: {e}")))?;
        if meta.format != FORMAT_VERSION {
            return Err(bad("meta names another format version".into()));
        }
        let docs = usize::try_from(meta.docs).map_err(|_| bad("document count".into()))?;
        let passages = usize::try_from(meta.passages).map_err(|_| bad("passage count".into()))?;
        for (off, blob) in [("doc.id.off", "doc.id"), ("doc.text.off", "doc.text")] {
            let o = file.u64s(off)?;
            let len = file.section(blob)?.len() as u64;
            if o.len() != docs + 1
                || o[0] != 0
                || o.windows(2).any(|w| w[0] > w[1])
                || o[docs] != len
            {
                return Err(bad(format!("{off} is not a valid offset table")));
            }
        }
        let pd = file.u32s("pass.doc")?;
        if pd.len() != passages
            || file.u32s("pass.start")?.len() != passages
            || pd.iter().any(|&d| d as usize >= docs)
        {
            return Err(bad("pass.doc does not match the documents".into()));
        }
        if !(4..=20).contains(&meta.dir_bits) {
            return Err(bad("meta: dir_bits out of range".into()));
        }
        if meta.id_bytes as usize != lsh::id_bytes(meta.passages) {
            return Err(bad("meta: id_bytes does not match the passage count".into()));
        }
        let v = lsh::View {
            off: file.u64s("lsh.off")?,
            keys: if file.has("lsh.keys") {
                Some(file.u32s("lsh.keys")?)
            } else {
                None
            },
            frag: file.u16s("lsh.frag")?,
            ids: lsh::Ids::new(file.section("lsh.ids")?, meta.id_bytes as usize)
                .ok_or_else(|| bad("lsh.ids has a bad length".into()))?,
            dir: file.u32s("lsh.dir")?,
            bits: meta.dir_bits,
        };
        v.check(meta.params.bands(), passages).map_err(bad)?;
        if v.ids.len() as u64 != meta.entries {
            return Err(bad("meta: entry count does not match lsh.ids".into()));
        }
        let signer = Signer::new(meta.params.clone());
        Ok(Index { file, meta, signer })
    }

    /// The metadata.
    pub fn meta(&self) -> &IndexMeta {
        &self.meta
    }

    /// Sizes of the index and its sections.
    pub fn stats(&self) -> Stats {
        Stats {
            meta: self.meta.clone(),
            bytes: self.file.len() as u64,
            sections: self
                .file
                .sections()
                .map(|(n, l)| (n.to_string(), l as u64))
                .collect(),
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.meta.docs as usize
    }

    /// Whether the index holds no documents.
    pub fn is_empty(&self) -> bool {
        self.meta.docs == 0
    }

    fn tables(&self) -> lsh::View<'_> {
        let c = &self.file;
        lsh::View {
            off: c.u64s("lsh.off").expect("checked on load"),
            keys: c.u32s("lsh.keys").ok(),
            frag: c.u16s("lsh.frag").expect("checked on load"),
            ids: lsh::Ids::new(
                c.section("lsh.ids").expect("checked on load"),
                self.meta.id_bytes as usize,
            )
            .expect("checked on load"),
            dir: c.u32s("lsh.dir").expect("checked on load"),
            bits: self.meta.dir_bits,
        }
    }

    fn blob(&self, off: &str, blob: &str, doc: u32) -> Result<&str> {
        std::str::from_utf8(self.blob_bytes(off, blob, doc))
            .map_err(|_| IndexError::Malformed(format!("{blob} of document {doc} is not UTF-8")))
    }

    /// The bytes of document `doc` in section `blob`, whose offsets are in `off`.
    fn blob_bytes(&self, off: &str, blob: &str, doc: u32) -> &[u8] {
        let o = self.file.u64s(off).expect("checked on load");
        let b = self.file.section(blob).expect("checked on load");
        &b[o[doc as usize] as usize..o[doc as usize + 1] as usize]
    }

    /// The id of document `doc`.
    ///
    /// # Errors
    /// [`IndexError::Malformed`] if the stored id is not UTF-8.
    ///
    /// # Panics
    /// If `doc` is not below [`Index::len`].
    pub fn doc_id(&self, doc: u32) -> Result<&str> {
        self.blob("doc.id.off", "doc.id", doc)
    }

    /// The text of document `doc`.
    ///
    /// # Errors
    /// [`IndexError::Malformed`] if the stored text is not UTF-8.
    ///
    /// # Panics
    /// If `doc` is not below [`Index::len`].
    pub fn doc_text(&self, doc: u32) -> Result<&str> {
        self.blob("doc.text.off", "doc.text", doc)
    }

    /// Refuses a pack whose word kinds differ from the one the index was built with.
    ///
    /// # Errors
    /// [`IndexError::PackMismatch`].
    pub fn check_pack(&self, canon: &Canon<'_>) -> Result<()> {
        let pack = canon.fingerprint();
        let index = u64::from_str_radix(&self.meta.canon, 16).unwrap_or(0);
        if index != pack {
            return Err(IndexError::PackMismatch { index, pack });
        }
        Ok(())
    }

    /// Candidate documents for a text: (document, bands shared by its best pair of passages,
    /// the source word where the query's first word would sit), best first.
    ///
    /// Candidates are ranked by the evidence of their best pair of passages: each shared band
    /// weighs by how rare its key is in the index (the inverse document frequency of the bucket,
    /// `ln(1 + passages / passages in the bucket)`), since unrelated passages collide by chance
    /// in the large buckets of common shingles, and a spun copy's source in the small ones.
    pub fn candidates(
        &self,
        canon: &Canon<'_>,
        words: &[crate::canon::Word],
        step: usize,
    ) -> Vec<(u32, u32, isize)> {
        self.ranked(canon, words, step, usize::MAX)
            .into_iter()
            .map(|c| (c.doc, c.bands, c.hint))
            .collect()
    }

    /// The best `limit` candidates for `words`, best first (see [`Index::candidates`]).
    fn ranked(
        &self,
        canon: &Canon<'_>,
        words: &[crate::canon::Word],
        step: usize,
        limit: usize,
    ) -> Vec<Ranked> {
        let step = if step == 0 {
            (self.meta.params.window / 4).max(1)
        } else {
            step
        };
        let qp = self.signer.passages(canon, words, step);
        let v = self.tables();
        let pass_doc = self.file.u32s("pass.doc").expect("checked on load");
        let pass_start = self.file.u32s("pass.start").expect("checked on load");
        let total = pass_doc.len().max(1) as f32;
        let content_from = self.meta.params.band_range(3).start;
        let mut docs: rustc_hash::FxHashMap<u32, Ranked> = Default::default();
        let mut pair: rustc_hash::FxHashMap<u32, (u32, f32)> = Default::default();
        for q in &qp {
            pair.clear();
            for (band, key) in q.keys.iter().enumerate() {
                let Some(key) = key else { continue };
                let hits = v.lookup(band, *key);
                // A key shared by thousands of passages says little and costs much; a content
                // band's key is one pair of words, and common pairs are shared by hundreds.
                let cap = if band >= content_from {
                    MAX_CONTENT_HITS
                } else {
                    MAX_HITS
                };
                if hits.is_empty() || hits.len() > cap {
                    continue;
                }
                let w = (1.0 + total / hits.len() as f32).ln();
                for p in hits.iter() {
                    let e = pair.entry(p).or_insert((0, 0.0));
                    e.0 += 1;
                    e.1 += w;
                }
            }
            for (&p, &(n, w)) in &pair {
                let doc = pass_doc[p as usize];
                let hint = pass_start[p as usize] as isize - q.start as isize;
                let e = docs.entry(doc).or_insert(Ranked {
                    doc,
                    bands: 0,
                    weight: 0.0,
                    total: 0.0,
                    hint,
                });
                e.total += w;
                if w > e.weight {
                    e.weight = w;
                    e.bands = n;
                    e.hint = hint;
                }
            }
        }
        let mut out: Vec<Ranked> = docs.into_values().collect();
        let order = |a: &Ranked, b: &Ranked| {
            b.weight
                .total_cmp(&a.weight)
                .then(b.total.total_cmp(&a.total))
                .then(a.doc.cmp(&b.doc))
        };
        // Only the best `limit` are wanted: selected first, then sorted.
        if limit < out.len() {
            out.select_nth_unstable_by(limit, order);
            out.truncate(limit);
        }
        out.sort_unstable_by(order);
        out
    }

    /// Finds the sources of `text`: candidates from the LSH tables, each verified by a word
    /// alignment; those scoring at least `opts.min_score`, best first.
    ///
    /// # Errors
    /// [`IndexError::PackMismatch`] for the wrong pack; [`IndexError::Malformed`] for a stored
    /// text that is not UTF-8.
    pub fn trace(&self, canon: &Canon<'_>, text: &str, opts: &TraceOptions) -> Result<Vec<Match>> {
        self.trace_with(canon, text, opts, None)
    }

    /// [`Index::trace`], with a learned spinner's rules explaining substitutions in the
    /// verifying alignments besides the thesauri (`unspin trace --profile`).
    ///
    /// # Errors
    /// As [`Index::trace`].
    pub fn trace_with(
        &self,
        canon: &Canon<'_>,
        text: &str,
        opts: &TraceOptions,
        rules: Option<&Rules>,
    ) -> Result<Vec<Match>> {
        let plan = self.plan(canon, text, opts)?;
        self.verify(canon, text, plan, opts, rules)
    }

    /// [`Index::trace_with`] for each of `texts`, in order. Where the index is larger than
    /// memory this is faster than tracing one text after another: the candidates of the next
    /// few texts are found, and their stored texts read in the background, while the current
    /// one is verified.
    pub fn trace_all(
        &self,
        canon: &Canon<'_>,
        texts: &[&str],
        opts: &TraceOptions,
        rules: Option<&Rules>,
    ) -> Vec<Result<Vec<Match>>> {
        /// Texts planned ahead of the one being verified.
        const AHEAD: usize = 4;
        let mut plans = std::collections::VecDeque::with_capacity(AHEAD + 1);
        let mut out = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            while plans.len() <= AHEAD && i + plans.len() < texts.len() {
                plans.push_back(self.plan(canon, texts[i + plans.len()], opts));
            }
            let plan = plans.pop_front().expect("planned above");
            out.push(plan.and_then(|p| self.verify(canon, text, p, opts, rules)));
        }
        out
    }

    /// A text's candidates, best first, with their stored texts asked for in the background.
    fn plan(&self, canon: &Canon<'_>, text: &str, opts: &TraceOptions) -> Result<Plan> {
        self.check_pack(canon)?;
        let words = canon.words(text);
        if words.is_empty() {
            return Ok(Plan {
                words,
                cands: Vec::new(),
            });
        }
        let looked_at = opts.screen.max(opts.verify);
        let mut cands = self.ranked(canon, &words, opts.step, looked_at);
        let floor = cands.first().map_or(0.0, |c| c.weight) * opts.relative_votes;
        cands.retain(|c| c.weight >= floor);
        // Where the index is larger than memory each text read is a page fault: asked for
        // together, they wait for the disk once rather than once each.
        for c in &cands {
            self.file
                .will_need(self.blob_bytes("doc.text.off", "doc.text", c.doc));
        }
        Ok(Plan { words, cands })
    }

    /// Screens and aligns a plan's candidates (see [`TraceOptions`]).
    fn verify(
        &self,
        canon: &Canon<'_>,
        text: &str,
        plan: Plan,
        opts: &TraceOptions,
        rules: Option<&Rules>,
    ) -> Result<Vec<Match>> {
        let Plan { words, cands } = plan;
        if cands.is_empty() {
            return Ok(Vec::new());
        }
        let mut screen = PairScreen::new(text);
        let need = screen.need(opts.min_shared_pairs);
        let mut out = Vec::new();
        let mut aligned = 0;
        for &Ranked {
            doc, bands, hint, ..
        } in &cands
        {
            if aligned == opts.verify {
                break;
            }
            let source = self.doc_text(doc)?;
            if !screen.holds(source, need) {
                continue;
            }
            aligned += 1;
            let tw = canon.words(source);
            let band = 16 + words.len() / 5;
            let alignment = align::align_with(
                canon.lexicon(),
                text,
                &words,
                source,
                &tw,
                hint,
                band,
                rules,
            );
            if alignment.score >= opts.min_score {
                out.push(Match {
                    doc,
                    id: self.doc_id(doc)?.to_string(),
                    score: alignment.score,
                    bands,
                    alignment,
                });
            }
        }
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.bands.cmp(&a.bands))
                .then(a.doc.cmp(&b.doc))
        });
        out.truncate(opts.top);
        Ok(out)
    }
}

/// Screens candidates by the pairs of adjacent words they share with the query: only fast. A
/// word is a run of ASCII letters and digits, apostrophes and non-ASCII bytes (ASCII letters
/// lowered); anything else separates words. The query's pairs sit in an open-addressing table
/// with their counts, so a candidate is screened in one pass over its bytes, nothing sorted or
/// allocated. [`Index::trace`] screens its candidates with it; the Spark job
/// (`unspin.spark`, through the Python package) screens its band join's candidates the same way.
///
/// ```
/// use unspin::index::PairScreen;
/// let mut s = PairScreen::new("six russian troopers who fled the warfare in ukraine");
/// let need = s.need(0.75); // 6 of the query's 8 pairs
/// assert_eq!(need, 6);
/// assert!(!s.holds("six russian soldiers who fled the war in ukraine", need)); // 4
/// assert!(s.holds("six russian troopers who fled the war in ukraine", need)); // 6
/// ```
pub struct PairScreen {
    /// (pair hash, count in the query, candidate stamp, count used by that candidate).
    slots: Vec<(u64, u32, u32, u32)>,
    stamp: u32,
    /// Pairs in the query.
    pairs: usize,
}

impl PairScreen {
    /// The screen of a query: its pairs of adjacent words, counted.
    pub fn new(query: &str) -> PairScreen {
        let mut hs = Vec::new();
        word_pairs(query, |h| hs.push(h));
        let size = (hs.len() * 2).next_power_of_two().max(16);
        let mut s = PairScreen {
            slots: vec![(0, 0, 0, 0); size],
            stamp: 0,
            pairs: hs.len(),
        };
        for h in hs {
            let i = s.slot(h);
            s.slots[i].0 = h;
            s.slots[i].1 += 1;
        }
        s
    }

    /// The slot of `h`: its own, or the empty one where it would go.
    fn slot(&self, h: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = (h >> 7) as usize & mask;
        while self.slots[i].0 != h && self.slots[i].0 != 0 {
            i = (i + 1) & mask;
        }
        i
    }

    /// How many of the query's pairs a candidate must hold to pass at `min_share` of them
    /// ([`TraceOptions::min_shared_pairs`]): rounded down, so a query of a few words is not
    /// screened.
    pub fn need(&self, min_share: f32) -> usize {
        (min_share.clamp(0.0, 1.0) * self.pairs as f32) as usize
    }

    /// Whether `text` holds at least `need` of the query's pairs (counted with multiplicity).
    pub fn holds(&mut self, text: &str, need: usize) -> bool {
        if need == 0 {
            return true;
        }
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        let mut shared = 0;
        let mut done = false;
        word_pairs(text, |h| {
            if done {
                return;
            }
            let i = self.slot(h);
            let s = &mut self.slots[i];
            if s.0 == 0 {
                return;
            }
            if s.2 != stamp {
                (s.2, s.3) = (stamp, 0);
            }
            if s.3 < s.1 {
                s.3 += 1;
                shared += 1;
                done = shared >= need;
            }
        });
        done
    }
}

/// Hands the hash of each pair of adjacent words of `text` to `each` (never 0).
fn word_pairs(text: &str, mut each: impl FnMut(u64)) {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut h, mut in_word, mut prev) = (0u64, false, None::<u64>);
    for &b in text.as_bytes().iter().chain(std::iter::once(&b' ')) {
        if b.is_ascii_alphanumeric() || b >= 0x80 || (b == b'\'' && in_word) {
            h = (h.rotate_left(7) ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(K);
            in_word = true;
        } else if in_word {
            let w = h ^ (h >> 29);
            if let Some(p) = prev {
                each((p.wrapping_mul(K).rotate_left(31) ^ w).max(1));
            }
            prev = Some(w);
            (h, in_word) = (0, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PairScreen;

    #[test]
    fn the_pair_screen_counts_shared_pairs_with_multiplicity() {
        let mut s = PairScreen::new("The cat sat on the mat, and the cat slept.");
        assert_eq!(s.pairs, 9);
        // Case and punctuation do not matter; every pair is there.
        assert!(s.holds("the cat sat on the mat and the cat slept", 9));
        // "the cat" twice in the query: a candidate holding it three times holds two.
        assert!(s.holds("the cat. The cat! the cat?", 2));
        assert!(!s.holds("the cat. The cat! the cat?", 3));
        // Words in another order share no pair.
        assert!(!s.holds("mat the on sat cat the", 1));
        assert!(s.holds("anything", 0));
        // Apostrophes stay inside words; non-ASCII letters are letters.
        let mut s = PairScreen::new("didn't café opening");
        assert!(s.holds("He DIDN'T café opening", 2));
        assert!(!s.holds("didn t café opening", 2));
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn bands_never_outgrow_their_reservation() {
        // A band that filled in the middle of a document used to grow (its vector doubling)
        // before the spill, and kept its doubled size: a 1 M build then peaked at 1.45 GB
        // instead of under 1 GB.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let pack = crate::Pack::open(&root.join("models/default.unspin")).expect("pack loads");
        let canon = Canon::new(&pack);
        let dir = std::env::temp_dir();
        let mut b = IndexBuilder::new(&canon, Params::default())
            .unwrap()
            .memory_budget(&dir, 1 << 19);
        let reserved: Vec<usize> = b.bands.iter().map(Vec::capacity).collect();
        let words = [
            "the",
            "soldiers",
            "fled",
            "across",
            "border",
            "in",
            "1987",
            "Smith",
            "said",
            "war",
            "country",
            "quickly",
            "large",
            "house",
            "water",
            "people",
            "government",
            "of",
        ];
        let mut rng = crate::spin::Rng::new(3);
        for d in 0..400 {
            // Documents of 100 to 1,000 words: 1 to 19 passages each.
            let n = 100 + rng.below(900);
            let text: Vec<&str> = (0..n).map(|_| words[rng.below(words.len())]).collect();
            b.add(&format!("d{d}"), &text.join(" "));
        }
        assert!(b.spilled_runs() >= 2, "{} runs", b.spilled_runs());
        let now: Vec<usize> = b.bands.iter().map(Vec::capacity).collect();
        assert_eq!(now, reserved);
    }
}
