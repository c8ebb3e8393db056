//! Restoring, detecting, fingerprint lists, spinner profiles and the reference spinner.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use unspin::decode::{Channel, GenericChannel};
use unspin::detect::{DetectOptions, Detection, Detector};
use unspin::fingerprint::{FingerprintList, Hit, Matcher};
use unspin::json::{DetectJson, RestoreJson};
use unspin::learn::{Profile, ProfileChannel, ProfileOptions};
use unspin::restore::{RestoreOptions, Restorer};
use unspin::{Pack, Restoration};

use crate::{chain, pack_or_default, par_map, to_py, CharMap, PyPack};

/// A channel chosen at run time: the generic one, or a learned profile's.
type Chan = Box<dyn Channel + Send + Sync>;

type RestorerDep<'a> = Restorer<'a, Chan>;
type DetectorDep<'a> = Detector<'a, Chan>;

self_cell::self_cell!(
    /// A restorer owning a handle to the pack it borrows.
    struct RestorerCell {
        owner: Arc<Pack>,
        #[covariant]
        dependent: RestorerDep,
    }
);

self_cell::self_cell!(
    /// A detector owning a handle to the pack it borrows.
    struct DetectorCell {
        owner: Arc<Pack>,
        #[covariant]
        dependent: DetectorDep,
    }
);

/// Relation flags from thesaurus names (`mythes`, `wordnet`, `moby`, `weak`); all by default.
fn thesauri_mask(names: Option<Vec<String>>) -> PyResult<u8> {
    use unspin::lexicon::flags;
    let Some(names) = names else {
        return Ok(flags::ALL);
    };
    let mut mask = 0;
    for n in names {
        mask |= match n.trim().to_ascii_lowercase().as_str() {
            "mythes" => flags::MYTHES,
            "wordnet" => flags::WORDNET,
            "moby" => flags::MOBY,
            "weak" => flags::WEAK,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "unknown thesaurus {n:?} (expected mythes, wordnet, moby or weak)"
                )))
            }
        };
    }
    if mask == 0 {
        return Err(PyValueError::new_err(
            "thesauri: name at least one thesaurus",
        ));
    }
    Ok(mask)
}

/// The channel for a mask and an optional profile (as `unspin restore --profile`).
fn channel(pack: &Pack, mask: u8, profile: Option<&Profile>) -> Chan {
    let generic = GenericChannel::new(mask);
    match profile {
        None => Box::new(generic),
        Some(p) => Box::new(ProfileChannel::with_generic(
            pack,
            p,
            generic,
            ProfileOptions::default(),
        )),
    }
}

/// A profile given as a `Profile` or a path to a profile file.
pub(crate) fn profile_arg(p: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<Profile>>> {
    let Some(p) = p else { return Ok(None) };
    if let Ok(p) = p.cast::<PyProfile>() {
        return Ok(Some(p.get().profile.clone()));
    }
    let path: PathBuf = p.extract()?;
    Profile::load(&path)
        .map(|p| Some(Arc::new(p)))
        .map_err(|e| match e {
            unspin::learn::ProfileError::Io { .. } => PyOSError::new_err(chain(&e)),
            _ => PyValueError::new_err(chain(&e)),
        })
}

/// Precise mode's sentence model, when asked for: `neural_model`, else the default path
/// (`$UNSPIN_NEURAL_MODEL`, …), with f32 products throughout if `neural_exact` (else 8-bit ones
/// where the CPU has AVX-512 VNNI, as the CLI without `--neural-exact`). A package built without
/// precise mode, a missing or a corrupt model is an exception, never a silent fall-back to the
/// trigram.
fn open_neural(
    precise: bool,
    neural_model: Option<PathBuf>,
    neural_exact: bool,
) -> PyResult<Option<Mutex<unspin_neural::NeuralScorer>>> {
    use unspin_neural::{NeuralError, NeuralScorer, Products};
    if !precise {
        return match (neural_model, neural_exact) {
            (Some(_), _) => Err(PyValueError::new_err(
                "neural_model is only used with precise=True",
            )),
            (None, true) => Err(PyValueError::new_err(
                "neural_exact is only used with precise=True",
            )),
            (None, false) => Ok(None),
        };
    }
    let path = neural_model.unwrap_or_else(NeuralScorer::default_path);
    match NeuralScorer::open_with(&path, Products::exact_if(neural_exact)) {
        Ok(n) => Ok(Some(Mutex::new(n))),
        Err(NeuralError::NotBuilt) => Err(PyRuntimeError::new_err(
            "precise=True: this unspin package was built without precise mode; reinstall it with MATURIN_PEP517_ARGS=\"--features precise\" pip install crates/unspin-py and fetch the model with scripts/fetch-neural.sh",
        )),
        Err(e @ NeuralError::Open { .. }) => Err(PyOSError::new_err(format!("precise=True: {e}"))),
        Err(e) => Err(PyValueError::new_err(format!("precise=True: {e}"))),
    }
}

fn scorer_failed(e: unspin::restore::ScorerError) -> PyErr {
    PyRuntimeError::new_err(format!("the sentence model failed: {e}"))
}

/// A fingerprint list given as `Fingerprints` or a path to a saved list.
fn fingerprints_arg(f: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<Matcher>>> {
    let Some(f) = f else { return Ok(None) };
    if let Ok(f) = f.cast::<PyFingerprints>() {
        return Ok(Some(f.get().matcher.clone()));
    }
    let path: PathBuf = f.extract()?;
    Ok(Some(load_list(&path)?.1))
}

fn load_list(path: &std::path::Path) -> PyResult<(FingerprintList, Arc<Matcher>)> {
    let list = FingerprintList::load(path).map_err(|e| match e {
        unspin::fingerprint::ListError::Io { .. } => PyOSError::new_err(chain(&e)),
        _ => PyValueError::new_err(format!("{}: {}", path.display(), chain(&e))),
    })?;
    let m = Arc::new(list.matcher());
    Ok((list, m))
}

// --------------------------------------------------------------------------------------------
// Restoring

/// Restores spun texts: `Restorer(pack=None, *, profile=None, thesauri=None, fingerprints=None)`.
///
/// `profile` is a `Profile` or a profile file (`unspin learn`): the learned channel replaces the
/// generic one. `thesauri` limits the relations walked back (`["mythes", "wordnet"]`).
/// `fingerprints` is a `Fingerprints` list or a saved list file: its hits restore to the list's
/// expected form (no list is consulted by default). `precise=True` revisits the trigram's choices
/// with the SmolLM2 sentence model (a package built with `--features precise`, the model from
/// `scripts/fetch-neural.sh` or `neural_model`; `neural_exact=True` keeps its products in f32, as
/// the CLI's `--neural-exact`); the restorer holds one model, so its precise restorations run
/// one at a time (make one restorer per thread to run them in parallel).
#[pyclass(frozen, name = "Restorer", module = "unspin")]
struct PyRestorer {
    cell: RestorerCell,
    matcher: Option<Arc<Matcher>>,
    pack: Py<PyPack>,
    neural: Option<Mutex<unspin_neural::NeuralScorer>>,
}

impl PyRestorer {
    fn run(&self, text: &str) -> PyResult<PyRestoration> {
        let r = self.cell.borrow_dependent();
        let out = match &self.neural {
            Some(n) => {
                let mut n = n.lock().unwrap_or_else(PoisonError::into_inner);
                r.restore_precise(text, &mut *n).map_err(scorer_failed)?
            }
            None => r.restore(text),
        };
        Ok(self.finish(text, out))
    }

    fn run_pooled(&self, texts: &[&str]) -> PyResult<Vec<PyRestoration>> {
        let r = self.cell.borrow_dependent();
        let out = match &self.neural {
            Some(n) => {
                let mut n = n.lock().unwrap_or_else(PoisonError::into_inner);
                r.restore_pooled_precise(texts, &mut *n)
                    .map_err(scorer_failed)?
            }
            None => r.restore_pooled(texts),
        };
        Ok(texts
            .iter()
            .zip(out)
            .map(|(t, o)| self.finish(t, o))
            .collect())
    }

    /// Puts the fingerprint list's hits in, if a list is in use.
    fn finish(&self, text: &str, mut out: unspin::Restoration) -> PyRestoration {
        if let Some(m) = &self.matcher {
            let hits: Vec<(usize, usize, String)> = m
                .find(text)
                .into_iter()
                .filter_map(|h| h.expected.map(|e| (h.start, h.end, e)))
                .collect();
            out.apply_fingerprints(text, &hits);
        }
        PyRestoration::new(text, out)
    }
}

#[pymethods]
impl PyRestorer {
    #[new]
    #[pyo3(signature = (pack=None, *, profile=None, thesauri=None, fingerprints=None, precise=false, neural_model=None, neural_exact=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        pack: Option<Bound<'_, PyPack>>,
        profile: Option<&Bound<'_, PyAny>>,
        thesauri: Option<Vec<String>>,
        fingerprints: Option<&Bound<'_, PyAny>>,
        precise: bool,
        neural_model: Option<PathBuf>,
        neural_exact: bool,
    ) -> PyResult<Self> {
        let neural = py.detach(|| open_neural(precise, neural_model, neural_exact))?;
        let pack = pack_or_default(py, pack)?;
        let mask = thesauri_mask(thesauri)?;
        let profile = profile_arg(profile)?;
        let matcher = fingerprints_arg(fingerprints)?;
        let arc = pack.get().pack.clone();
        let cell = py.detach(|| {
            RestorerCell::new(arc, |p| {
                Restorer::with_channel(
                    p,
                    channel(p, mask, profile.as_deref()),
                    RestoreOptions::default(),
                )
            })
        });
        Ok(PyRestorer {
            cell,
            matcher,
            pack,
            neural,
        })
    }

    /// Restores `text`; never fails for a `str` (in precise mode, only if the model does).
    fn restore(&self, py: Python<'_>, text: &str) -> PyResult<PyRestoration> {
        py.detach(|| self.run(text))
    }

    /// Restores texts that one spinner wrote together, in order: they share one spin rate and
    /// each word is decided once for all of them, so each has the evidence of the others
    /// behind it (a content farm's pages, a paper mill's papers). Do not pool texts of
    /// different origins.
    fn restore_pooled(&self, py: Python<'_>, texts: Vec<String>) -> PyResult<Vec<PyRestoration>> {
        py.detach(|| {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            self.run_pooled(&refs)
        })
    }

    /// Restores each text of a list, in order (on up to `threads` threads).
    #[pyo3(signature = (texts, *, threads=1))]
    fn restore_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        threads: usize,
    ) -> PyResult<Vec<PyRestoration>> {
        py.detach(|| {
            par_map(&texts, threads, |t| self.run(t))
                .into_iter()
                .collect()
        })
    }

    /// The restored text of each text of a list (`restore_batch` without the spans).
    #[pyo3(signature = (texts, *, threads=1))]
    fn restore_texts(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        threads: usize,
    ) -> PyResult<Vec<String>> {
        py.detach(|| {
            par_map(&texts, threads, |t| self.run(t).map(|r| r.inner.text))
                .into_iter()
                .collect()
        })
    }

    /// The sentence model's name in precise mode (`"smollm2-135m"`), else `None`.
    #[getter]
    fn precise(&self) -> Option<&'static str> {
        self.neural.as_ref().map(|_| unspin_neural::SCORER_NAME)
    }

    /// The pack in use.
    #[getter]
    fn pack(&self, py: Python<'_>) -> Py<PyPack> {
        self.pack.clone_ref(py)
    }
}

/// The result of restoring a text: `text`, `spans`, `spin_rate`, `words`, `scorer`.
#[pyclass(frozen, name = "Restoration", module = "unspin")]
pub(crate) struct PyRestoration {
    inner: Restoration,
    chars: Vec<(usize, usize)>,
}

impl PyRestoration {
    fn new(input: &str, inner: Restoration) -> Self {
        let mut map = CharMap::new(input);
        let chars = inner
            .spans
            .iter()
            .map(|s| (map.at(s.start), map.at(s.end)))
            .collect();
        PyRestoration { inner, chars }
    }
}

#[pymethods]
impl PyRestoration {
    /// The restored text: the input with every span replaced.
    #[getter]
    fn text(&self) -> &str {
        &self.inner.text
    }

    /// What changed, in input order.
    #[getter]
    fn spans(&self) -> Vec<PySpan> {
        self.inner
            .spans
            .iter()
            .zip(&self.chars)
            .map(|(s, &(cs, ce))| PySpan {
                start: s.start,
                end: s.end,
                char_start: cs,
                char_end: ce,
                spun: s.spun.clone(),
                restored: s.restored.clone(),
                confidence: s.confidence,
                log_odds: s.log_odds,
                source: s.source,
                alternatives: s
                    .alternatives
                    .iter()
                    .map(|a| (a.text.clone(), a.confidence))
                    .collect(),
            })
            .collect()
    }

    /// The document's estimated spin rate.
    #[getter]
    fn spin_rate(&self) -> f32 {
        self.inner.spin_rate
    }

    /// Words in the input.
    #[getter]
    fn words(&self) -> usize {
        self.inner.words
    }

    /// Which model chose (`"trigram"`).
    #[getter]
    fn scorer(&self) -> &str {
        &self.inner.scorer
    }

    /// The shape `unspin restore --json` prints: `{"text", "spans", "spin_rate", "words",
    /// "scorer"}`, byte offsets.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &RestoreJson::from(&self.inner))
    }

    fn __repr__(&self) -> String {
        format!(
            "Restoration(spans={}, spin_rate={:.3}, words={})",
            self.inner.spans.len(),
            self.inner.spin_rate,
            self.inner.words
        )
    }
}

/// One restored span. `start`/`end` are byte offsets into the UTF-8 input (as in the CLI's
/// JSON); `char_start`/`char_end` are code-point offsets: `text[char_start:char_end] == spun`.
#[pyclass(frozen, get_all, name = "Span", module = "unspin")]
struct PySpan {
    start: usize,
    end: usize,
    char_start: usize,
    char_end: usize,
    spun: String,
    restored: String,
    confidence: f32,
    log_odds: f32,
    source: &'static str,
    alternatives: Vec<(String, f32)>,
}

#[pymethods]
impl PySpan {
    fn __repr__(&self) -> String {
        format!(
            "Span({}..{} {:?} -> {:?}, confidence={:.2})",
            self.start, self.end, self.spun, self.restored, self.confidence
        )
    }
}

// --------------------------------------------------------------------------------------------
// Detecting

/// Scores texts for spinning: `Detector(pack=None, *, threshold=0.5, screen_below=0.0,
/// profile=None, thesauri=None, fingerprints=None)`, as `unspin detect` with the same flags.
///
/// With `fingerprints` (a `Fingerprints` list or a saved list file) the list's hits are reported
/// apart and also flag a text. `screen_below` lets texts whose cheap screening score is below it
/// skip the lattice.
#[pyclass(frozen, name = "Detector", module = "unspin")]
struct PyDetector {
    cell: DetectorCell,
    matcher: Option<Arc<Matcher>>,
    pack: Py<PyPack>,
    neural: Option<Mutex<unspin_neural::NeuralScorer>>,
}

impl PyDetector {
    fn run(&self, text: &str) -> PyResult<PyDetection> {
        let hits = self
            .matcher
            .as_ref()
            .map(|m| m.find(text))
            .unwrap_or_default();
        let det = self.cell.borrow_dependent();
        let d = match &self.neural {
            Some(n) => {
                let mut n = n.lock().unwrap_or_else(PoisonError::into_inner);
                det.detect_precise(text, &mut *n).map_err(scorer_failed)?
            }
            None => det.detect(text),
        };
        Ok(PyDetection::new(text, d, hits))
    }
}

#[pymethods]
impl PyDetector {
    #[new]
    #[pyo3(signature = (pack=None, *, threshold=0.5, screen_below=0.0, profile=None, thesauri=None, fingerprints=None, precise=false, neural_model=None, neural_exact=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        pack: Option<Bound<'_, PyPack>>,
        threshold: f32,
        screen_below: f32,
        profile: Option<&Bound<'_, PyAny>>,
        thesauri: Option<Vec<String>>,
        fingerprints: Option<&Bound<'_, PyAny>>,
        precise: bool,
        neural_model: Option<PathBuf>,
        neural_exact: bool,
    ) -> PyResult<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(PyValueError::new_err(format!(
                "threshold must lie in [0, 1], not {threshold}"
            )));
        }
        if !(0.0..=1.0).contains(&screen_below) {
            return Err(PyValueError::new_err(format!(
                "screen_below must lie in [0, 1], not {screen_below}"
            )));
        }
        let neural = py.detach(|| open_neural(precise, neural_model, neural_exact))?;
        let pack = pack_or_default(py, pack)?;
        let mask = thesauri_mask(thesauri)?;
        let profile = profile_arg(profile)?;
        let matcher = fingerprints_arg(fingerprints)?;
        let opts = DetectOptions {
            threshold,
            screen_below,
            ..DetectOptions::default()
        };
        let arc = pack.get().pack.clone();
        let cell = py.detach(|| {
            DetectorCell::new(arc, |p| {
                Detector::with_channel(p, channel(p, mask, profile.as_deref()), opts)
            })
        });
        Ok(PyDetector {
            cell,
            matcher,
            pack,
            neural,
        })
    }

    /// Scores `text`; never fails for a `str` (in precise mode, only if the model does).
    fn detect(&self, py: Python<'_>, text: &str) -> PyResult<PyDetection> {
        py.detach(|| self.run(text))
    }

    /// Scores each text of a list, in order (on up to `threads` threads).
    #[pyo3(signature = (texts, *, threads=1))]
    fn detect_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        threads: usize,
    ) -> PyResult<Vec<PyDetection>> {
        py.detach(|| {
            par_map(&texts, threads, |t| self.run(t))
                .into_iter()
                .collect()
        })
    }

    /// `detect_batch(texts)` as dicts (`Detection.to_dict()`), the shape of `unspin detect
    /// --json`.
    #[pyo3(signature = (texts, *, threads=1))]
    fn detect_dicts<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        threads: usize,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let ds: Vec<PyDetection> = py.detach(|| {
            par_map(&texts, threads, |t| self.run(t))
                .into_iter()
                .collect::<PyResult<_>>()
        })?;
        ds.iter().map(|d| d.to_dict(py)).collect()
    }

    /// The sentence model's name in precise mode (`"smollm2-135m"`), else `None`.
    #[getter]
    fn precise(&self) -> Option<&'static str> {
        self.neural.as_ref().map(|_| unspin_neural::SCORER_NAME)
    }

    /// The pack in use.
    #[getter]
    fn pack(&self, py: Python<'_>) -> Py<PyPack> {
        self.pack.clone_ref(py)
    }

    /// The score at or above which a text is flagged.
    #[getter]
    fn threshold(&self) -> f32 {
        self.cell.borrow_dependent().options().threshold
    }
}

/// The result of scoring a text: `score` in [0, 1], `flagged`, evidence `spans`,
/// `paragraphs`, fingerprint hits, `spin_rate`, `words`, `scorer`, `stage`.
#[pyclass(frozen, name = "Detection", module = "unspin")]
pub(crate) struct PyDetection {
    inner: Detection,
    hits: Vec<Hit>,
    chars: Vec<(usize, usize)>,
    hit_chars: Vec<(usize, usize)>,
}

impl PyDetection {
    fn new(text: &str, inner: Detection, hits: Vec<Hit>) -> Self {
        let mut map = CharMap::new(text);
        let chars = inner
            .spans
            .iter()
            .map(|s| (map.at(s.start), map.at(s.end)))
            .collect();
        let hit_chars = hits
            .iter()
            .map(|h| (map.at(h.start), map.at(h.end)))
            .collect();
        PyDetection {
            inner,
            hits,
            chars,
            hit_chars,
        }
    }
}

#[pymethods]
impl PyDetection {
    /// Probability that the text was spun, in [0, 1].
    #[getter]
    fn score(&self) -> f32 {
        self.inner.score
    }

    /// The score reaches the threshold, or a fingerprint matched.
    #[getter]
    fn flagged(&self) -> bool {
        self.inner.flagged || !self.hits.is_empty()
    }

    /// The evidence: spans that look spun, with their likely originals, in input order.
    #[getter]
    fn spans(&self) -> Vec<PyEvidence> {
        self.inner
            .spans
            .iter()
            .zip(&self.chars)
            .map(|(s, &(cs, ce))| PyEvidence {
                start: s.start,
                end: s.end,
                char_start: cs,
                char_end: ce,
                spun: s.spun.clone(),
                original: s.original.clone(),
                confidence: s.confidence,
                log_odds: s.log_odds,
                alternatives: s
                    .alternatives
                    .iter()
                    .map(|a| (a.text.clone(), a.confidence))
                    .collect(),
            })
            .collect()
    }

    /// Per-paragraph scores: dicts `{"start", "end", "score", "own_score", "words", "spans"}`
    /// (bytes).
    #[getter]
    fn paragraphs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.paragraphs)
    }

    /// Fingerprint hits (known tortured phrases), apart from the model's evidence.
    #[getter]
    fn fingerprints(&self) -> Vec<PyHit> {
        self.hits
            .iter()
            .zip(&self.hit_chars)
            .map(|(h, &c)| PyHit::new(h, c))
            .collect()
    }

    /// The document's estimated spin rate.
    #[getter]
    fn spin_rate(&self) -> f32 {
        self.inner.spin_rate
    }

    /// Words in the input.
    #[getter]
    fn words(&self) -> usize {
        self.inner.words
    }

    /// Which model scored (`"trigram"`).
    #[getter]
    fn scorer(&self) -> &str {
        &self.inner.scorer
    }

    /// How far the analysis went: `"lattice"` or `"screen"`.
    #[getter]
    fn stage(&self) -> &str {
        self.inner.stage
    }

    /// The shape `unspin detect --json` prints (without `"path"`): `{"score", "flagged",
    /// "spans", "paragraphs", "fingerprints", "spin_rate", "words", "scorer", "stage"}`, byte
    /// offsets.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &DetectJson::new(Some(&self.inner), &self.hits))
    }

    fn __repr__(&self) -> String {
        format!(
            "Detection(score={:.3}, flagged={}, spans={}, fingerprints={})",
            self.inner.score,
            self.flagged(),
            self.inner.spans.len(),
            self.hits.len()
        )
    }
}

/// One piece of evidence: a span that looks spun and what it likely replaced. Offsets as in
/// `Span`.
#[pyclass(frozen, get_all, name = "Evidence", module = "unspin")]
struct PyEvidence {
    start: usize,
    end: usize,
    char_start: usize,
    char_end: usize,
    spun: String,
    original: String,
    confidence: f32,
    log_odds: f32,
    alternatives: Vec<(String, f32)>,
}

#[pymethods]
impl PyEvidence {
    fn __repr__(&self) -> String {
        format!(
            "Evidence({}..{} {:?} <- {:?}, log_odds={:.2})",
            self.start, self.end, self.spun, self.original, self.log_odds
        )
    }
}

// --------------------------------------------------------------------------------------------
// Fingerprints

/// A tortured phrase found in a text. Offsets as in `Span`.
#[pyclass(frozen, get_all, name = "Hit", module = "unspin")]
struct PyHit {
    start: usize,
    end: usize,
    char_start: usize,
    char_end: usize,
    matched: String,
    tortured: String,
    expected: Option<String>,
    query: String,
}

impl PyHit {
    fn new(h: &Hit, (cs, ce): (usize, usize)) -> Self {
        PyHit {
            start: h.start,
            end: h.end,
            char_start: cs,
            char_end: ce,
            matched: h.matched.clone(),
            tortured: h.tortured.clone(),
            expected: h.expected.clone(),
            query: h.query.clone(),
        }
    }
}

#[pymethods]
impl PyHit {
    fn __repr__(&self) -> String {
        format!(
            "Hit({}..{} {:?} -> {:?})",
            self.start, self.end, self.matched, self.expected
        )
    }
}

/// A fingerprint list (Problematic Paper Screener tortured phrases) and its matcher.
///
/// `Fingerprints.import_csv(path)` imports a PPS export (bad rows are skipped and listed in
/// `errors`); `Fingerprints.load(path)` reads a list saved by `save` or `unspin fingerprints
/// import`.
#[pyclass(frozen, name = "Fingerprints", module = "unspin")]
struct PyFingerprints {
    list: FingerprintList,
    matcher: Arc<Matcher>,
    errors: Vec<(usize, usize, String)>,
}

#[pymethods]
impl PyFingerprints {
    /// Imports a PPS CSV export; `allow` lists legitimate terms never reported.
    ///
    /// Raises `OSError` if the file cannot be read and `ValueError` if no row could be
    /// imported.
    #[staticmethod]
    #[pyo3(signature = (path, *, allow=None))]
    fn import_csv(py: Python<'_>, path: PathBuf, allow: Option<Vec<String>>) -> PyResult<Self> {
        let bytes = std::fs::read(&path)
            .map_err(|e| PyOSError::new_err(format!("reading {}: {e}", path.display())))?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let (mut list, errs) = py.detach(|| FingerprintList::import_csv(&bytes, &name));
        if list.is_empty() {
            let first = errs.first().map_or_else(String::new, |e| format!(": {e}"));
            return Err(PyValueError::new_err(format!(
                "{}: no fingerprint imported{first}",
                path.display()
            )));
        }
        if let Some(a) = allow {
            list.allow(a);
        }
        let matcher = Arc::new(py.detach(|| list.matcher()));
        Ok(PyFingerprints {
            list,
            matcher,
            errors: errs
                .into_iter()
                .map(|e| (e.row, e.column, e.to_string()))
                .collect(),
        })
    }

    /// Reads a saved list. Raises `OSError` or `ValueError` (not a list, or damaged).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let (list, matcher) = py.detach(|| load_list(&path))?;
        Ok(PyFingerprints {
            list,
            matcher,
            errors: Vec::new(),
        })
    }

    /// Saves the list (checksummed), readable by `load` and by `unspin --fingerprints`.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.list
            .save(&path)
            .map_err(|e| PyOSError::new_err(chain(&e)))
    }

    /// The rows an import skipped: `(row, column, message)`.
    #[getter]
    fn errors(&self) -> Vec<(usize, usize, String)> {
        self.errors.clone()
    }

    /// Where the list came from: source name, sha256, rows read, imported, skipped.
    #[getter]
    fn provenance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.list.provenance())
    }

    /// The known tortured phrases in `text`, in order.
    fn find(&self, py: Python<'_>, text: &str) -> Vec<PyHit> {
        py.detach(|| hits_of(&self.matcher, text))
    }

    /// `find` over a list of texts.
    #[pyo3(signature = (texts, *, threads=1))]
    fn find_batch(&self, py: Python<'_>, texts: Vec<String>, threads: usize) -> Vec<Vec<PyHit>> {
        py.detach(|| par_map(&texts, threads, |t| hits_of(&self.matcher, t)))
    }

    /// `(tortured phrase, expected form)` for every entry with one tortured phrase and a known
    /// expected form, context and NOT terms aside: pairs for `Profile.learn`, whose profile
    /// finds the paper mills' substitutions in tortured phrases the list does not hold.
    fn substitution_pairs(&self) -> Vec<(String, String)> {
        self.list
            .substitution_pairs()
            .map(|(p, e)| (p.to_string(), e.to_string()))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.list.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Fingerprints({} entries from {:?})",
            self.list.len(),
            self.list.provenance().source
        )
    }
}

fn hits_of(m: &Matcher, text: &str) -> Vec<PyHit> {
    let hits = m.find(text);
    let mut map = CharMap::new(text);
    hits.iter()
        .map(|h| {
            let c = (map.at(h.start), map.at(h.end));
            PyHit::new(h, c)
        })
        .collect()
}

// --------------------------------------------------------------------------------------------
// Profiles

/// A spinner's learned dictionary (`unspin learn`): `Profile.learn(pairs)` from
/// `(spun, original)` pairs, `Profile.load(path)`, `save`, `merge`.
#[pyclass(frozen, name = "Profile", module = "unspin")]
struct PyProfile {
    profile: Arc<Profile>,
}

#[pymethods]
impl PyProfile {
    /// Learns a profile from `(spun, original)` pairs of texts.
    #[staticmethod]
    fn learn(py: Python<'_>, pairs: Vec<(String, String)>) -> Self {
        let p = py.detach(|| Profile::learn(pairs.iter().map(|(s, o)| (s.as_str(), o.as_str()))));
        PyProfile {
            profile: Arc::new(p),
        }
    }

    /// Reads a profile file. Raises `OSError` or `ValueError`.
    #[staticmethod]
    fn load(path: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyProfile {
            profile: profile_arg(Some(path))?.expect("a path was given"),
        })
    }

    /// Writes the profile (JSON), readable by `load` and `unspin --profile`.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.profile
            .save(&path)
            .map_err(|e| PyOSError::new_err(chain(&e)))
    }

    /// A new profile with the rules of both (counts added).
    fn merge(&self, other: &Bound<'_, PyProfile>) -> Self {
        let mut p = (*self.profile).clone();
        p.merge(&other.get().profile);
        PyProfile {
            profile: Arc::new(p),
        }
    }

    /// The rules, most frequent first: `(spun, original, count)`.
    #[getter]
    fn rules(&self) -> Vec<(String, String, u32)> {
        self.profile
            .rules
            .iter()
            .map(|r| (r.spun.clone(), r.original.clone(), r.count))
            .collect()
    }

    /// Pairs learned from.
    #[getter]
    fn pairs(&self) -> usize {
        self.profile.pairs
    }

    /// How often each word stood unchanged in the spun texts: `{word: count}` (empty for a
    /// version 1 profile). A rule whose spun word often stands for itself counts for less.
    #[getter]
    fn kept(&self) -> std::collections::BTreeMap<String, u32> {
        self.profile.kept.clone()
    }

    fn __len__(&self) -> usize {
        self.profile.rules.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Profile({} rules from {} pairs)",
            self.profile.rules.len(),
            self.profile.pairs
        )
    }
}

// --------------------------------------------------------------------------------------------
// The reference spinner

/// Spins `text` with the pack's thesauri (the reference spinner of `unspin spin`): returns
/// `(spun_text, substitutions)`, each substitution a dict `{"start", "end", "spun_start",
/// "spun_end", "original", "spun"}` (bytes). For making test and training data.
/// `frequency_exponent` is how strongly the spinner prefers common synonyms (0.5; 0 takes any
/// synonym alike, mostly rarer words).
#[pyfunction]
#[pyo3(signature = (
    text, *, seed=0, rate=0.3, thesauri=None, phrases=false, frequency_exponent=0.5, pack=None
))]
#[allow(clippy::too_many_arguments)]
fn spin<'py>(
    py: Python<'py>,
    text: &str,
    seed: u64,
    rate: f64,
    thesauri: Option<Vec<String>>,
    phrases: bool,
    frequency_exponent: f64,
    pack: Option<Bound<'py, PyPack>>,
) -> PyResult<(String, Bound<'py, PyAny>)> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(PyValueError::new_err(format!(
            "rate must lie in [0, 1], not {rate}"
        )));
    }
    let mut opts = unspin::spin::SpinOptions {
        seed,
        rate,
        phrases,
        frequency_exponent,
        ..Default::default()
    };
    if thesauri.is_some() {
        opts.mask = thesauri_mask(thesauri)?;
    }
    let pack = pack_or_default(py, pack)?;
    let p = pack.get().pack.clone();
    let s = py.detach(|| unspin::spin::spin(&p, text, &opts));
    Ok((s.text.clone(), to_py(py, &s.substitutions)?))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRestorer>()?;
    m.add_class::<PyRestoration>()?;
    m.add_class::<PySpan>()?;
    m.add_class::<PyDetector>()?;
    m.add_class::<PyDetection>()?;
    m.add_class::<PyEvidence>()?;
    m.add_class::<PyHit>()?;
    m.add_class::<PyFingerprints>()?;
    m.add_class::<PyProfile>()?;
    m.add_function(wrap_pyfunction!(spin, m)?)?;
    Ok(())
}
