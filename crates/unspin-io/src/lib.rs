//! unspin-io: turn input files into a stream of text records.
//!
//! `unspin scan` and `unspin index build` read collections of documents: plain text files, JSONL
//! dumps, Common Crawl's WARC and WET files (gzipped or not) and PDFs. This crate turns them into
//! one stream of [`Record`]s, each with an id, a [`Source`] (file, record number, line or byte
//! offset, and a stable [`Ordinal`] to resume from) and a body that is either the text or a
//! [`RecordError`] saying why that record could not be read. It knows nothing about spinning.
//!
//! - [`expand`] turns the command line's inputs (files, directories, globs, `-` for stdin) into a
//!   sorted list of files.
//! - [`records`] streams the records of one file; [`scan`] streams those of a list of files, and
//!   can resume after the records a previous run already handled.
//! - [`records_from_reader`] reads any [`std::io::Read`] (stdin, a socket, a fuzzer's bytes).
//!
//! Reading streams: a multi-gigabyte file is never loaded whole, and no record larger than
//! [`InputOptions::max_record_bytes`] is buffered. A bad record does not end the stream: it comes
//! out as an `Err` body, and the reader goes on with the next record whenever the format allows
//! it, so every record that goes in comes out, as text or as an error. Only records that are not
//! documents at all (WARC `request`, `metadata`, `warcinfo`, … records) are passed over, and
//! [`Records::skipped`] counts them.
//!
//! | format | files | one record is |
//! |---|---|---|
//! | [`Format::Text`] | `.txt`, `.text` | a whole file |
//! | [`Format::Jsonl`] | `.jsonl`, `.ndjson`, `.json` | a non-blank line: the string in [`InputOptions::field`] |
//! | [`Format::Warc`] | `.warc`, `.wet`, `.warc.wet` | a `response` (HTTP body, HTML made plain text) or `conversion` (WET text) record |
//! | [`Format::Pdf`] | `.pdf` | the text layer of a whole file, from `pdftotext` (Debian's `poppler-utils`) |
//!
//! Any of them but PDF may be gzipped (`.gz`, single or multi-member, as Common Crawl writes
//! them); gzip is recognised by its magic bytes, not by the name.
//!
//! # Example
//!
//! ```
//! use std::io::Write;
//! use unspin_io::{expand, scan, InputOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let mut f = std::fs::File::create(dir.path().join("docs.jsonl"))?;
//! writeln!(f, r#"{{"id": "a", "text": "The quick brown fox."}}"#)?;
//! writeln!(f, r#"{{"id": "b", "body": "no text field"}}"#)?;
//! writeln!(f, "not json")?;
//! drop(f);
//!
//! let options = InputOptions::default();
//! let files = expand(&[dir.path().to_path_buf()], &options)?;
//! let mut ok = 0;
//! let mut bad = Vec::new();
//! for record in scan(files, &options) {
//!     match &record.body {
//!         Ok(text) => {
//!             assert_eq!((record.id.as_str(), text.as_str()), ("a", "The quick brown fox."));
//!             ok += 1;
//!         }
//!         // "docs.jsonl:2 (record 1): field `text` is missing"
//!         Err(e) => bad.push(format!("{}: {e}", record.source)),
//!     }
//! }
//! assert_eq!((ok, bad.len()), (1, 2));
//! assert!(bad[0].ends_with("docs.jsonl:2 (record 1): field `text` is missing"), "{}", bad[0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod error;
mod expand;
mod html;
mod input;
mod jsonl;
mod pdf;
mod records;
mod text;
mod warc;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

pub use error::{Error, RecordError, Result};
pub use expand::expand;
pub use html::html_to_text;
pub use records::{records, records_from_reader, records_in_file, scan, Records, Scan};

/// The size limit of one record by default: 64 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Plain UTF-8 text: one record per file.
    Text,
    /// JSON Lines: one record per non-blank line, an object with a string field.
    Jsonl,
    /// WARC, including WET (WARC `conversion` records): one record per `response` or
    /// `conversion` record.
    Warc,
    /// PDF: one record per file, its text layer.
    Pdf,
}

impl Format {
    /// Every format, in the order of the variants.
    pub const ALL: [Format; 4] = [Format::Text, Format::Jsonl, Format::Warc, Format::Pdf];

    /// The format a file name stands for, after a `.gz` suffix is taken off: `.txt`/`.text` →
    /// Text; `.jsonl`/`.ndjson`/`.json` → JSONL; `.warc`/`.wet` (so also `.warc.wet.gz`) →
    /// WARC; `.pdf` → PDF. Case does not matter. `None` for anything else.
    ///
    /// ```
    /// use unspin_io::Format;
    /// assert_eq!(Format::from_path("CC-MAIN-x.warc.wet.gz".as_ref()), Some(Format::Warc));
    /// assert_eq!(Format::from_path("a/b.JSONL".as_ref()), Some(Format::Jsonl));
    /// assert_eq!(Format::from_path("notes.md".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let (_, ext) = name.rsplit_once('.')?;
        match ext {
            "txt" | "text" => Some(Format::Text),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "warc" | "wet" => Some(Format::Warc),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    /// The name [`FromStr`] reads and [`Display`](fmt::Display) writes: `text`, `jsonl`, `warc`
    /// or `pdf`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Jsonl => "jsonl",
            Format::Warc => "warc",
            Format::Pdf => "pdf",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    /// Reads a format name; `txt`, `json`, `ndjson` and `wet` are accepted as aliases.
    fn from_str(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "text" | "txt" => Ok(Format::Text),
            "jsonl" | "json" | "ndjson" => Ok(Format::Jsonl),
            "warc" | "wet" => Ok(Format::Warc),
            "pdf" => Ok(Format::Pdf),
            _ => Err(Error::UnknownFormatName {
                name: s.to_string(),
            }),
        }
    }
}

/// How to read inputs.
///
/// ```
/// use unspin_io::{Format, InputOptions};
/// let mut options = InputOptions::default();
/// options.format = Some(Format::Jsonl);
/// options.field = "content".into();
/// assert_eq!(options.id_field, "id");
/// assert_eq!(options.max_record_bytes, 64 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputOptions {
    /// Read every file in this format; `None` tells it from each file's name
    /// ([`Format::from_path`]), and stdin is then read as [`Format::Text`].
    pub format: Option<Format>,
    /// JSONL: the field that holds the text (default `text`).
    pub field: String,
    /// JSONL: the field that holds the id (default `id`); a string or a number. Without it the id
    /// is `path:line`.
    pub id_field: String,
    /// The largest record read, in bytes (default [`DEFAULT_MAX_RECORD_BYTES`], 64 MiB): a JSONL
    /// line, a text file, a WARC record's content block or a PDF's text. A larger one is a
    /// [`RecordError::TooLong`] record, and is skipped without being buffered.
    pub max_record_bytes: usize,
}

impl Default for InputOptions {
    fn default() -> Self {
        InputOptions {
            format: None,
            field: "text".to_string(),
            id_field: "id".to_string(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

/// Where a record sits in a run: the index of its file in the list given to [`scan`] (0 for
/// [`records`]) and its index among that file's records, both from 0.
///
/// Ordinals follow the reading order, so a run that handled every record before some ordinal
/// resumes after it with [`Scan::resume_at`]. Records passed over as not documents (see
/// [`Records::skipped`]) take no ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ordinal {
    /// Index of the file among the run's files.
    pub file: usize,
    /// Index of the record among the file's records.
    pub record: u64,
}

impl fmt::Display for Ordinal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.record)
    }
}

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Source {
    /// The file (`-` for stdin). Shared by all the records of a file.
    pub path: Arc<Path>,
    /// The record's stable place in the run.
    pub ordinal: Ordinal,
    /// The line where the record starts, from 1: JSONL records, and text files (always 1).
    pub line: Option<u64>,
    /// The byte offset where the record starts, in the decompressed stream for a gzipped file.
    pub offset: u64,
}

impl fmt::Display for Source {
    /// `path:line (record n)` or `path@offset (record n)`; n counts the file's records from 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path.display())?,
            None => write!(f, "{}@{}", self.path.display(), self.offset)?,
        }
        write!(f, " (record {})", self.ordinal.record)
    }
}

/// What a record says about itself besides its text: set for WARC records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Meta {
    /// `WARC-Target-URI`: the page's URL.
    pub url: Option<String>,
    /// `WARC-Date`.
    pub date: Option<String>,
    /// `WARC-Type`: `response` or `conversion`.
    pub warc_type: Option<String>,
    /// The HTTP status code of a `response` record.
    pub http_status: Option<u16>,
}

/// One record: an id, where it came from, and its text or why there is none.
#[derive(Debug)]
#[non_exhaustive]
pub struct Record {
    /// The record's id: a JSONL line's id field (else `path:line`), a WARC record's
    /// `WARC-Record-ID` (else `path@offset`), or a text or PDF file's path.
    pub id: String,
    /// Where the record came from.
    pub source: Source,
    /// What the record says about itself (WARC headers).
    pub meta: Meta,
    /// The text, or why it could not be read.
    pub body: std::result::Result<String, RecordError>,
}

impl Record {
    /// The text, if the record could be read.
    pub fn text(&self) -> Option<&str> {
        self.body.as_deref().ok()
    }
}
