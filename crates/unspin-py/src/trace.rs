//! Tracing: signatures (for distributed tracing), the index (build, add, query) and alignment.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyType};
use unspin::index::{
    DocSignature, Index, IndexBuilder, IndexError, Match, Params, Passage, Rules, Signer,
    TraceOptions,
};

use crate::{chain, pack_or_default, par_map, to_py, CanonCell, PyPack};

/// An index error as the Python exception for its cause.
fn index_error(e: IndexError) -> PyErr {
    match e {
        IndexError::Io { .. } => PyOSError::new_err(chain(&e)),
        _ => PyValueError::new_err(chain(&e)),
    }
}

/// A learned spinner's rules for the alignment, from a `Profile` or a profile file.
fn rules_arg(profile: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<Rules>>> {
    Ok(crate::analysis::profile_arg(profile)?.map(|p| Arc::new(Rules::from_profile(&p))))
}

/// Signature parameters from keyword arguments (the defaults are the index's).
fn params(window: Option<usize>, stride: Option<usize>, seed: Option<u64>) -> PyResult<Params> {
    let d = Params::default();
    let p = Params {
        window: window.unwrap_or(d.window),
        stride: stride.unwrap_or(d.stride),
        seed: seed.unwrap_or(d.seed),
        ..d
    };
    p.check().map_err(PyValueError::new_err)?;
    Ok(p)
}

// --------------------------------------------------------------------------------------------
// Signatures

/// Signs texts for tracing: `Signer(pack=None, *, window=100, stride=50, seed=...)`.
///
/// A signature is what the index stores per document: MinHash over shingles of the words a
/// spinner cannot change, per passage, cut into LSH band keys. Two texts that share a
/// `(band, key)` pair are candidates; a distributed job joins on it (see `spark/trace.py`).
/// Signing is deterministic: the same text, pack and parameters give the same signature on
/// every machine.
#[pyclass(frozen, name = "Signer", module = "unspin")]
struct PySigner {
    signer: Arc<Signer>,
    canon: Arc<CanonCell>,
}

impl PySigner {
    fn sign_one(&self, text: &str, step: usize) -> PySignature {
        let canon = self.canon.borrow_dependent();
        let words = canon.words(text);
        PySignature {
            passages: self.signer.passages(canon, &words, step),
            params: self.signer.params().clone(),
        }
    }

    fn step(&self, step: Option<usize>) -> PyResult<usize> {
        match step {
            Some(0) => Err(PyValueError::new_err("step must be positive")),
            Some(s) => Ok(s),
            None => Ok(self.signer.params().stride),
        }
    }
}

#[pymethods]
impl PySigner {
    #[new]
    #[pyo3(signature = (pack=None, *, window=None, stride=None, seed=None))]
    fn new(
        py: Python<'_>,
        pack: Option<Bound<'_, PyPack>>,
        window: Option<usize>,
        stride: Option<usize>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let pack = pack_or_default(py, pack)?;
        let params = params(window, stride, seed)?;
        let canon = py.detach(|| pack.get().canon());
        Ok(PySigner {
            signer: Arc::new(Signer::new(params)),
            canon,
        })
    }

    /// The signature of `text`: passages every `step` words (default: the stride, as the index
    /// stores documents; a query is signed every `query_step` words, as `Index.trace` does).
    #[pyo3(signature = (text, *, step=None))]
    fn sign(&self, py: Python<'_>, text: &str, step: Option<usize>) -> PyResult<PySignature> {
        let step = self.step(step)?;
        Ok(py.detach(|| self.sign_one(text, step)))
    }

    /// `sign` over a list of texts, in order (on up to `threads` threads).
    #[pyo3(signature = (texts, *, step=None, threads=1))]
    fn sign_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        step: Option<usize>,
        threads: usize,
    ) -> PyResult<Vec<PySignature>> {
        let step = self.step(step)?;
        Ok(py.detach(|| par_map(&texts, threads, |t| self.sign_one(t, step))))
    }

    /// The step `Index.trace` signs a query with: a quarter of the window.
    #[getter]
    fn query_step(&self) -> usize {
        (self.signer.params().window / 4).max(1)
    }

    /// The number of LSH bands per passage.
    #[getter]
    fn bands(&self) -> usize {
        self.signer.params().bands()
    }

    /// The first band of the content stream, whose bands are single MinHash values (an index
    /// skips more of their crowded keys).
    #[getter]
    fn content_from(&self) -> usize {
        self.signer.params().band_range(3).start
    }

    /// The parameters, as a dict.
    #[getter]
    fn params<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.signer.params())
    }
}

/// A document's signature: its passages' LSH band keys. Picklable (`to_bytes` /
/// `Signature.from_bytes`), comparable with `==`.
#[pyclass(frozen, eq, name = "Signature", module = "unspin")]
#[derive(PartialEq)]
struct PySignature {
    passages: Vec<Passage>,
    params: Params,
}

const SIG_MAGIC: &[u8; 8] = b"UNSPSIG1";

impl PySignature {
    fn encode(&self) -> Vec<u8> {
        let params = serde_json::to_vec(&self.params).expect("params serialise");
        let mut out = Vec::with_capacity(16 + params.len() + self.passages.len() * 100);
        out.extend_from_slice(SIG_MAGIC);
        out.extend_from_slice(&(params.len() as u32).to_le_bytes());
        out.extend_from_slice(&params);
        out.extend_from_slice(&(self.passages.len() as u32).to_le_bytes());
        for p in &self.passages {
            out.extend_from_slice(&p.start.to_le_bytes());
            out.extend_from_slice(&p.len.to_le_bytes());
            out.extend_from_slice(&(p.keys.len() as u32).to_le_bytes());
            for k in &p.keys {
                // A missing key is stored as u64::MAX, which no u32 key can be.
                out.extend_from_slice(&k.map_or(u64::MAX, u64::from).to_le_bytes());
            }
        }
        out
    }

    fn decode(b: &[u8]) -> Result<PySignature, String> {
        struct R<'a>(&'a [u8]);
        impl R<'_> {
            fn take(&mut self, n: usize) -> Result<&[u8], String> {
                if self.0.len() < n {
                    return Err("truncated".into());
                }
                let (a, b) = self.0.split_at(n);
                self.0 = b;
                Ok(a)
            }
            fn u32(&mut self) -> Result<u32, String> {
                Ok(u32::from_le_bytes(
                    self.take(4)?.try_into().expect("4 bytes"),
                ))
            }
            fn u64(&mut self) -> Result<u64, String> {
                Ok(u64::from_le_bytes(
                    self.take(8)?.try_into().expect("8 bytes"),
                ))
            }
        }
        let mut r = R(b);
        if r.take(8)? != SIG_MAGIC {
            return Err("not an unspin signature (bad magic)".into());
        }
        let n = r.u32()? as usize;
        let params: Params =
            serde_json::from_slice(r.take(n)?).map_err(|e| format!("parameters: {e}"))?;
        params.check()?;
        let n = r.u32()? as usize;
        let mut passages = Vec::with_capacity(n.min(b.len() / 12));
        for _ in 0..n {
            let start = r.u32()?;
            let len = r.u32()?;
            let k = r.u32()? as usize;
            if k != params.bands() {
                return Err(format!(
                    "{k} band keys, the parameters say {}",
                    params.bands()
                ));
            }
            let keys = (0..k)
                .map(|_| {
                    r.u64().and_then(|v| match v {
                        u64::MAX => Ok(None),
                        v => u32::try_from(v)
                            .map(Some)
                            .map_err(|_| "band key out of range".to_string()),
                    })
                })
                .collect::<Result<_, _>>()?;
            passages.push(Passage { start, len, keys });
        }
        if !r.0.is_empty() {
            return Err("trailing bytes".into());
        }
        Ok(PySignature { passages, params })
    }
}

#[pymethods]
impl PySignature {
    /// The passages: `(start_word, words, keys)`, `keys` one per band (`None` where a stream had
    /// too few shingles).
    #[getter]
    fn passages(&self) -> Vec<(u32, u32, Vec<Option<u32>>)> {
        self.passages
            .iter()
            .map(|p| (p.start, p.len, p.keys.clone()))
            .collect()
    }

    /// Every present band key as `(passage_start, band, key)`: the rows a band join explodes.
    /// `band << 32 | key` makes one 64-bit join key.
    fn bands(&self) -> Vec<(u32, u32, u32)> {
        self.passages
            .iter()
            .flat_map(|p| {
                p.keys
                    .iter()
                    .enumerate()
                    .filter_map(move |(b, k)| k.map(|k| (p.start, b as u32, k)))
            })
            .collect()
    }

    /// The signature as bytes (parameters included), for storage or shipping.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.encode())
    }

    /// Reads `to_bytes`' output. Raises `ValueError` for anything else.
    #[classmethod]
    fn from_bytes(_cls: &Bound<'_, PyType>, data: &[u8]) -> PyResult<Self> {
        PySignature::decode(data).map_err(|e| PyValueError::new_err(format!("signature: {e}")))
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let ctor = slf.getattr("from_bytes")?;
        Ok((ctor, (slf.get().to_bytes(py),)))
    }

    fn __len__(&self) -> usize {
        self.passages.len()
    }

    fn __repr__(&self) -> String {
        format!("Signature({} passages)", self.passages.len())
    }
}

// --------------------------------------------------------------------------------------------
// Building an index

struct Pending {
    id: String,
    text: String,
    sig: DocSignature,
}

struct BuilderState {
    base: Option<Index>,
    pending: Vec<Pending>,
}

/// Collects documents and writes an index file: `IndexBuilder(pack=None, *, window=100,
/// stride=50, seed=...)` for a new index, `IndexBuilder.open(path)` to add to an existing one.
///
/// `add` signs (without the GIL); `push` takes a signature made elsewhere (e.g. by `Signer` on
/// another process); `write(path)` writes through a temporary file renamed at the end.
#[pyclass(frozen, name = "IndexBuilder", module = "unspin")]
struct PyIndexBuilder {
    canon: Arc<CanonCell>,
    signer: Arc<Signer>,
    state: Mutex<BuilderState>,
}

impl PyIndexBuilder {
    /// The builder's state. Call it only without the GIL (inside `Python::detach`): a thread
    /// that waited for the lock while holding the GIL would deadlock with one that holds the
    /// lock and waits for the GIL.
    fn state(&self) -> std::sync::MutexGuard<'_, BuilderState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sign(&self, text: &str) -> DocSignature {
        IndexBuilder::sign_with(&self.signer, self.canon.borrow_dependent(), text)
    }
}

#[pymethods]
impl PyIndexBuilder {
    #[new]
    #[pyo3(signature = (pack=None, *, window=None, stride=None, seed=None))]
    fn new(
        py: Python<'_>,
        pack: Option<Bound<'_, PyPack>>,
        window: Option<usize>,
        stride: Option<usize>,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let pack = pack_or_default(py, pack)?;
        let params = params(window, stride, seed)?;
        let canon = py.detach(|| pack.get().canon());
        Ok(PyIndexBuilder {
            canon,
            signer: Arc::new(Signer::new(params)),
            state: Mutex::new(BuilderState {
                base: None,
                pending: Vec::new(),
            }),
        })
    }

    /// A builder holding the documents of the index at `path` (its parameters are kept), to add
    /// more. Raises `ValueError` if the index was built with another pack.
    #[staticmethod]
    #[pyo3(signature = (path, pack=None))]
    fn open(py: Python<'_>, path: PathBuf, pack: Option<Bound<'_, PyPack>>) -> PyResult<Self> {
        let pack = pack_or_default(py, pack)?;
        let canon = py.detach(|| pack.get().canon());
        let index = py.detach(|| Index::open(&path)).map_err(index_error)?;
        index
            .check_pack(canon.borrow_dependent())
            .map_err(index_error)?;
        let signer = Arc::new(Signer::new(index.meta().params.clone()));
        Ok(PyIndexBuilder {
            canon,
            signer,
            state: Mutex::new(BuilderState {
                base: Some(index),
                pending: Vec::new(),
            }),
        })
    }

    /// Adds a document (signed here, without the GIL).
    fn add(&self, py: Python<'_>, id: String, text: String) {
        py.detach(|| {
            let sig = self.sign(&text);
            self.state().pending.push(Pending { id, text, sig });
        });
    }

    /// Adds `(id, text)` pairs, signed on up to `threads` threads.
    #[pyo3(signature = (docs, *, threads=1))]
    fn add_batch(&self, py: Python<'_>, docs: Vec<(String, String)>, threads: usize) {
        py.detach(|| {
            let sigs = par_map(&docs, threads, |(_, t)| self.sign(t));
            let mut st = self.state();
            for ((id, text), sig) in docs.into_iter().zip(sigs) {
                st.pending.push(Pending { id, text, sig });
            }
        });
    }

    /// Adds a document with a signature made by a `Signer` with this index's parameters.
    /// Raises `ValueError` if the parameters differ.
    fn push(
        &self,
        py: Python<'_>,
        id: String,
        text: String,
        signature: &Bound<'_, PySignature>,
    ) -> PyResult<()> {
        let s = signature.get();
        if &s.params != self.signer.params() {
            return Err(PyValueError::new_err(
                "the signature was made with other parameters than this index's",
            ));
        }
        let sig = DocSignature {
            passages: s.passages.clone(),
        };
        py.detach(|| self.state().pending.push(Pending { id, text, sig }));
        Ok(())
    }

    /// Writes the index (the opened index's documents, then those added) to `path`; returns its
    /// metadata as a dict. The builder keeps its documents.
    fn write<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        let meta = py
            .detach(|| {
                let st = self.state();
                let canon = self.canon.borrow_dependent();
                let mut b = match &st.base {
                    Some(ix) => IndexBuilder::from_index(canon, ix)?,
                    None => IndexBuilder::new(canon, self.signer.params().clone())?,
                };
                for p in &st.pending {
                    b.push(&p.id, &p.text, p.sig.clone())?;
                }
                b.write(&path)
            })
            .map_err(index_error)?;
        to_py(py, &meta)
    }

    /// A `Signer` with this index's parameters.
    fn signer(&self) -> PySigner {
        PySigner {
            signer: self.signer.clone(),
            canon: self.canon.clone(),
        }
    }

    /// Documents so far (the opened index's included).
    fn __len__(&self, py: Python<'_>) -> usize {
        py.detach(|| {
            let st = self.state();
            st.base.as_ref().map_or(0, Index::len) + st.pending.len()
        })
    }
}

// --------------------------------------------------------------------------------------------
// Querying

/// A verified, memory-mapped index: `Index.open(path, pack=None)`; `trace(text)` finds the
/// likeliest sources of a spun text, as `unspin trace --index`.
#[pyclass(frozen, name = "Index", module = "unspin")]
struct PyIndex {
    index: Index,
    canon: Arc<CanonCell>,
}

#[pymethods]
impl PyIndex {
    /// Opens and verifies an index. Raises `OSError` (unreadable) or `ValueError` (not an
    /// index, damaged, or built with another pack).
    #[staticmethod]
    #[pyo3(signature = (path, pack=None))]
    fn open(py: Python<'_>, path: PathBuf, pack: Option<Bound<'_, PyPack>>) -> PyResult<Self> {
        let pack = pack_or_default(py, pack)?;
        let canon = py.detach(|| pack.get().canon());
        let index = py.detach(|| Index::open(&path)).map_err(index_error)?;
        index
            .check_pack(canon.borrow_dependent())
            .map_err(index_error)?;
        Ok(PyIndex { index, canon })
    }

    /// The sources of `text`, best first: at most `top`, verifying at most `verify` candidates
    /// of the `screen` best that share enough pairs of adjacent words with it, each scoring at
    /// least `min_score` (the CLI's defaults). With `profile` (a `Profile` or a
    /// profile file) the learned spinner's substitutions count as explained too, as
    /// `unspin trace --profile`.
    #[pyo3(signature = (text, *, top=5, verify=8, min_score=0.6, profile=None, screen=32))]
    #[allow(clippy::too_many_arguments)]
    fn trace(
        &self,
        py: Python<'_>,
        text: &str,
        top: usize,
        verify: usize,
        min_score: f32,
        profile: Option<&Bound<'_, PyAny>>,
        screen: usize,
    ) -> PyResult<Vec<PyMatch>> {
        let opts = trace_options(top, verify, min_score, screen)?;
        let rules = rules_arg(profile)?;
        py.detach(|| self.run(text, &opts, rules.as_deref()))
    }

    /// `trace` over a list of texts (on up to `threads` threads).
    #[pyo3(signature = (texts, *, top=5, verify=8, min_score=0.6, profile=None, threads=1, screen=32))]
    #[allow(clippy::too_many_arguments)]
    fn trace_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        top: usize,
        verify: usize,
        min_score: f32,
        profile: Option<&Bound<'_, PyAny>>,
        threads: usize,
        screen: usize,
    ) -> PyResult<Vec<Vec<PyMatch>>> {
        let opts = trace_options(top, verify, min_score, screen)?;
        let rules = rules_arg(profile)?;
        // Blocks of texts, each traced with `Index::trace_all` (which reads the next texts'
        // candidates in the background while it verifies one).
        let blocks: Vec<&[String]> = texts.chunks(64).collect();
        let canon = self.canon.borrow_dependent();
        py.detach(|| {
            par_map(&blocks, threads, |b| {
                let refs: Vec<&str> = b.iter().map(String::as_str).collect();
                self.index.trace_all(canon, &refs, &opts, rules.as_deref())
            })
        })
        .into_iter()
        .flatten()
        .map(|r| {
            let ms = r.map_err(index_error)?;
            Ok(ms.into_iter().map(|m| PyMatch { m }).collect())
        })
        .collect()
    }

    /// The id of document number `doc`.
    fn doc_id(&self, doc: u32) -> PyResult<String> {
        self.doc_check(doc)?;
        Ok(self.index.doc_id(doc).map_err(index_error)?.to_string())
    }

    /// The text of document number `doc`.
    fn doc_text(&self, doc: u32) -> PyResult<String> {
        self.doc_check(doc)?;
        Ok(self.index.doc_text(doc).map_err(index_error)?.to_string())
    }

    /// The index's metadata (parameters, documents, passages, pack fingerprint).
    #[getter]
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.index.meta())
    }

    fn __len__(&self) -> usize {
        self.index.len()
    }
}

impl PyIndex {
    fn run(
        &self,
        text: &str,
        opts: &TraceOptions,
        rules: Option<&Rules>,
    ) -> PyResult<Vec<PyMatch>> {
        let ms = self
            .index
            .trace_with(self.canon.borrow_dependent(), text, opts, rules)
            .map_err(index_error)?;
        Ok(ms.into_iter().map(|m| PyMatch { m }).collect())
    }

    fn doc_check(&self, doc: u32) -> PyResult<()> {
        if doc as usize >= self.index.len() {
            return Err(PyValueError::new_err(format!(
                "no document {doc} (the index holds {})",
                self.index.len()
            )));
        }
        Ok(())
    }
}

fn trace_options(
    top: usize,
    verify: usize,
    min_score: f32,
    screen: usize,
) -> PyResult<TraceOptions> {
    if !(0.0..=1.0).contains(&min_score) {
        return Err(PyValueError::new_err(format!(
            "min_score must lie in [0, 1], not {min_score}"
        )));
    }
    Ok(TraceOptions {
        top,
        verify,
        min_score,
        screen,
        ..TraceOptions::default()
    })
}

/// A source found for a spun text: `id`, `doc`, `score` in [0, 1], `bands`, `alignment`.
#[pyclass(frozen, name = "Match", module = "unspin")]
struct PyMatch {
    m: Match,
}

#[pymethods]
impl PyMatch {
    /// The source document's id.
    #[getter]
    fn id(&self) -> &str {
        &self.m.id
    }

    /// The source document's number in the index.
    #[getter]
    fn doc(&self) -> u32 {
        self.m.doc
    }

    /// The alignment score, in [0, 1].
    #[getter]
    fn score(&self) -> f32 {
        self.m.score
    }

    /// LSH bands the best pair of passages shared.
    #[getter]
    fn bands(&self) -> u32 {
        self.m.bands
    }

    /// The word alignment that verified it.
    #[getter]
    fn alignment(&self) -> PyAlignment {
        PyAlignment {
            a: self.m.alignment.clone(),
        }
    }

    /// `{"id", "score", "alignment"}` as `unspin trace --json` prints a match (the score
    /// rounded to four decimals there; `score` here is exact); without the alignment when
    /// `alignment=False`, as a batch line prints it.
    #[pyo3(signature = (*, alignment=true))]
    fn to_dict<'py>(&self, py: Python<'py>, alignment: bool) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &unspin::json::TraceMatchJson::new(&self.m, alignment))
    }

    fn __repr__(&self) -> String {
        format!("Match(id={:?}, score={:.3})", self.m.id, self.m.score)
    }
}

/// A word alignment of a spun text against a source: `score` (share of the spun words matched
/// or explained by the thesauri, conflicts costing more), `words`, `matched`, `explained`,
/// `unexplained`, `conflicts`,
/// `source_start`/`source_end` (bytes of the source covered), `edits` (dicts).
#[pyclass(frozen, name = "Alignment", module = "unspin")]
struct PyAlignment {
    a: unspin::index::Alignment,
}

#[pymethods]
impl PyAlignment {
    #[getter]
    fn score(&self) -> f32 {
        self.a.score
    }
    #[getter]
    fn words(&self) -> usize {
        self.a.words
    }
    #[getter]
    fn matched(&self) -> usize {
        self.a.matched
    }
    #[getter]
    fn explained(&self) -> usize {
        self.a.explained
    }
    #[getter]
    fn unexplained(&self) -> usize {
        self.a.unexplained
    }
    /// Names or numbers paired with different ones (which no spinner makes).
    #[getter]
    fn conflicts(&self) -> usize {
        self.a.conflicts
    }
    #[getter]
    fn source_start(&self) -> usize {
        self.a.source_start
    }
    #[getter]
    fn source_end(&self) -> usize {
        self.a.source_end
    }
    /// The differences, in order: dicts `{"kind", "explained", "start", "end", "source_start",
    /// "source_end", "spun", "source"}` (bytes).
    #[getter]
    fn edits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.a.edits)
    }
    /// The whole alignment as a dict (`unspin trace --json`'s `"alignment"`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.a)
    }
    fn __repr__(&self) -> String {
        format!(
            "Alignment(score={:.3}, words={}, matched={}, explained={})",
            self.a.score, self.a.words, self.a.matched, self.a.explained
        )
    }
}

/// Aligns a spun text against a candidate source, as `Index.trace` verifies a candidate:
/// `hint` is the source word where the spun text's first word likely sits (a band join knows it
/// from the passages that matched; the aligner finds a better one itself when the texts share a
/// rare run of words).
/// With `profile` a learned spinner's substitutions count as explained too.
#[pyfunction]
#[pyo3(signature = (spun, source, *, hint=0, profile=None, pack=None))]
fn align(
    py: Python<'_>,
    spun: &str,
    source: &str,
    hint: isize,
    profile: Option<&Bound<'_, PyAny>>,
    pack: Option<Bound<'_, PyPack>>,
) -> PyResult<PyAlignment> {
    let pack = pack_or_default(py, pack)?;
    let rules = rules_arg(profile)?;
    let canon = py.detach(|| pack.get().canon());
    Ok(py.detach(|| PyAlignment {
        a: align_one(&canon, spun, source, hint, rules.as_deref()),
    }))
}

/// Aligns each `(spun, source, hint)` triple (on up to `threads` threads); returns the
/// alignments.
#[pyfunction]
#[pyo3(signature = (pairs, *, threads=1, profile=None, pack=None))]
fn align_batch(
    py: Python<'_>,
    pairs: Vec<(String, String, isize)>,
    threads: usize,
    profile: Option<&Bound<'_, PyAny>>,
    pack: Option<Bound<'_, PyPack>>,
) -> PyResult<Vec<PyAlignment>> {
    let pack = pack_or_default(py, pack)?;
    let rules = rules_arg(profile)?;
    let canon = py.detach(|| pack.get().canon());
    Ok(py.detach(|| {
        par_map(&pairs, threads, |(s, t, h)| PyAlignment {
            a: align_one(&canon, s, t, *h, rules.as_deref()),
        })
    }))
}

/// For each `(query, candidate)` pair, whether the candidate holds at least
/// `min_shared_pairs` of the query's pairs of adjacent words (counted with multiplicity): the
/// screen `Index.trace` passes a candidate through before aligning it. Consecutive pairs with the
/// same query share its table.
#[pyfunction]
#[pyo3(signature = (pairs, *, min_shared_pairs=unspin::index::TraceOptions::default().min_shared_pairs))]
fn screen_batch(py: Python<'_>, pairs: Vec<(String, String)>, min_shared_pairs: f32) -> Vec<bool> {
    py.detach(|| {
        let mut current: Option<(&str, unspin::index::PairScreen)> = None;
        pairs
            .iter()
            .map(|(q, c)| {
                if current.as_ref().is_none_or(|(cq, _)| *cq != q.as_str()) {
                    current = Some((q.as_str(), unspin::index::PairScreen::new(q)));
                }
                let (_, screen) = current.as_mut().expect("just set");
                let need = screen.need(min_shared_pairs);
                screen.holds(c, need)
            })
            .collect()
    })
}

fn align_one(
    canon: &CanonCell,
    spun: &str,
    source: &str,
    hint: isize,
    rules: Option<&Rules>,
) -> unspin::index::Alignment {
    let canon = canon.borrow_dependent();
    let sw = canon.words(spun);
    let tw = canon.words(source);
    // The band `Index::trace_with` uses.
    let band = 16 + sw.len() / 5;
    unspin::index::align_with(canon.lexicon(), spun, &sw, source, &tw, hint, band, rules)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySigner>()?;
    m.add_class::<PySignature>()?;
    m.add_class::<PyIndexBuilder>()?;
    m.add_class::<PyIndex>()?;
    m.add_class::<PyMatch>()?;
    m.add_class::<PyAlignment>()?;
    m.add_function(wrap_pyfunction!(align, m)?)?;
    m.add_function(wrap_pyfunction!(align_batch, m)?)?;
    m.add_function(wrap_pyfunction!(screen_batch, m)?)?;
    Ok(())
}
