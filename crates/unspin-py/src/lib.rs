//! Python bindings for unspin: the `unspin._unspin` extension module that the `unspin` Python
//! package (`python/unspin`) wraps.
//!
//! The bindings only convert types and errors; every decision is the core crate's. What they add
//! is what Python needs:
//!
//! - **Ownership.** A [`Pack`](unspin::Pack) is shared by `Arc`; a restorer or detector keeps its
//!   pack alive by owning an `Arc` next to the value that borrows it (`self_cell`), so Python
//!   objects can be kept, passed around and dropped in any order.
//! - **The GIL.** Every call that analyses text releases it ([`Python::detach`]), so Python
//!   threads (a Spark executor's, a web server's) run the Rust work in parallel; the `*_batch`
//!   methods take lists and can also split them over threads of their own.
//! - **Errors.** Bad input is a `ValueError` (`TypeError` for a wrong type, from PyO3); a file
//!   that cannot be read is an `OSError`. Analysis of valid text never fails.
//! - **Offsets.** Spans carry byte offsets into the UTF-8 input (`start`, `end`: the CLI's and the
//!   JSON shape's); the classes add `char_start`/`char_end`, code-point offsets that slice the
//!   Python `str`.
//!
//! The JSON shapes (`to_dict()`, and `unspin.detect()`) are the core's [`unspin::json`] types
//! converted with `pythonize`, so a Python user sees what `unspin detect --json` prints.

mod analysis;
mod io;
mod trace;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use unspin::canon::Canon;

self_cell::self_cell!(
    /// A pack's word kinds for tracing, owning a handle to the pack they borrow.
    pub(crate) struct CanonCell {
        owner: Arc<unspin::Pack>,
        #[covariant]
        dependent: Canon,
    }
);

/// A loaded model pack (memory-mapped and verified once).
///
/// `Pack(path)` opens a pack file; `unspin.default_pack()` is the pack shipped in the wheel (or
/// `$UNSPIN_PACK`), loaded once per process.
#[pyclass(frozen, name = "Pack", module = "unspin")]
pub(crate) struct PyPack {
    pub(crate) pack: Arc<unspin::Pack>,
    path: String,
    canon: OnceLock<Arc<CanonCell>>,
}

impl PyPack {
    /// The pack's word kinds, computed on first use (a few milliseconds) and shared.
    pub(crate) fn canon(&self) -> Arc<CanonCell> {
        self.canon
            .get_or_init(|| Arc::new(CanonCell::new(self.pack.clone(), |p| Canon::new(p))))
            .clone()
    }
}

#[pymethods]
impl PyPack {
    /// Opens and verifies the pack at `path`.
    ///
    /// Raises `OSError` if the file cannot be read, `ValueError` if it is not a valid pack.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let shown = path.display().to_string();
        let pack = py
            .detach(|| unspin::Pack::open(&path))
            .map_err(|e| pack_error(&shown, e))?;
        Ok(PyPack {
            pack: Arc::new(pack),
            path: shown,
            canon: OnceLock::new(),
        })
    }

    /// The file the pack was loaded from.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// The pack's metadata (sources, hashes, licenses) as a dict.
    #[getter]
    fn meta<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.pack.meta())
    }

    fn __repr__(&self) -> String {
        format!("Pack({:?})", self.path)
    }
}

/// A pack error as the Python exception for its cause: unreadable → `OSError`, invalid →
/// `ValueError`.
fn pack_error(path: &str, e: unspin::PackError) -> PyErr {
    // The Io variant names the file itself.
    let msg = match e {
        unspin::PackError::Io { .. } => chain(&e),
        _ => format!("{path}: {}", chain(&e)),
    };
    if matches!(e, unspin::PackError::Io { .. }) {
        PyOSError::new_err(msg)
    } else {
        PyValueError::new_err(msg)
    }
}

/// An error and its causes, `a: b: c`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// Any serialisable value as Python objects (dicts, lists, numbers, strings, None).
pub(crate) fn to_py<'py, T: serde::Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The pack passed in, or the package's default pack (`unspin.default_pack()`).
pub(crate) fn pack_or_default(
    py: Python<'_>,
    pack: Option<Bound<'_, PyPack>>,
) -> PyResult<Py<PyPack>> {
    match pack {
        Some(p) => Ok(p.unbind()),
        None => Ok(py
            .import("unspin")?
            .call_method0("default_pack")?
            .cast_into::<PyPack>()?
            .unbind()),
    }
}

/// Runs `f` over `items` on up to `threads` threads (in order), without the GIL.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// Code-point offsets of byte offsets into `text`, for offsets visited mostly in increasing
/// order (spans are in input order).
pub(crate) struct CharMap<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl<'a> CharMap<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        CharMap {
            text,
            byte: 0,
            chars: 0,
        }
    }

    /// The code-point offset of byte offset `b` (a char boundary of the text).
    pub(crate) fn at(&mut self, b: usize) -> usize {
        if b < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        let b = b.min(self.text.len());
        self.chars += self.text[self.byte..b].chars().count();
        self.byte = b;
        self.chars
    }
}

/// The `unspin._unspin` module.
#[pymodule]
fn _unspin(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyPack>()?;
    analysis::register(m)?;
    trace::register(m)?;
    io::register(m)?;
    Ok(())
}
