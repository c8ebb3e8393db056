//! Reading input records (text, JSONL, WARC/WET, PDF; gzip or not) with `unspin-io`, as
//! `unspin scan` does, so that a Spark task reads a WARC/WET file the way the CLI does.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use unspin_io::{Format, InputOptions, Records};

/// An iterator over the records of one file: dicts `{"id", "text", "error", "path", "file",
/// "record", "line", "offset", "url", "date"}`. `text` is `None` and `error` says why when a
/// record could not be read (a bad record never stops the iteration). A reader belongs to the
/// thread that made it (reading from another raises `RuntimeError`).
#[pyclass(unsendable, name = "RecordReader", module = "unspin")]
struct PyRecords {
    records: Records,
}

#[pymethods]
impl PyRecords {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(r) = self.records.next() else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("id", &r.id)?;
        match &r.body {
            Ok(t) => {
                d.set_item("text", t)?;
                d.set_item("error", py.None())?;
            }
            Err(e) => {
                d.set_item("text", py.None())?;
                d.set_item("error", e.chain())?;
            }
        }
        d.set_item("path", r.source.path.display().to_string())?;
        d.set_item("file", r.source.ordinal.file)?;
        d.set_item("record", r.source.ordinal.record)?;
        d.set_item("line", r.source.line)?;
        d.set_item("offset", r.source.offset)?;
        d.set_item("url", r.meta.url.as_deref())?;
        d.set_item("date", r.meta.date.as_deref())?;
        Ok(Some(d))
    }
}

/// The records of the file at `path` (`format`: `"text"`, `"jsonl"`, `"warc"` (WET too) or
/// `"pdf"`; by default told from the file name, `.gz` or not). JSONL records take their text
/// from `field` and their id from `id_field`; `file` is the file's number in a run (the
/// `"file"` of each record, as in `unspin scan`'s `"source"`).
///
/// Raises `ValueError` for an unknown format name; an unreadable file is one error record.
#[pyfunction]
#[pyo3(signature = (path, *, format=None, field="text", id_field="id", max_record_bytes=None, file=0))]
fn read_records(
    path: PathBuf,
    format: Option<&str>,
    field: &str,
    id_field: &str,
    max_record_bytes: Option<usize>,
    file: usize,
) -> PyResult<PyRecords> {
    let mut opts = InputOptions::default();
    if let Some(f) = format {
        opts.format = Some(
            f.parse::<Format>()
                .map_err(|e| PyValueError::new_err(e.to_string()))?,
        );
    }
    opts.field = field.to_string();
    opts.id_field = id_field.to_string();
    if let Some(m) = max_record_bytes {
        opts.max_record_bytes = m;
    }
    Ok(PyRecords {
        records: unspin_io::records_in_file(&path, file, &opts),
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRecords>()?;
    m.add_function(wrap_pyfunction!(read_records, m)?)?;
    Ok(())
}
