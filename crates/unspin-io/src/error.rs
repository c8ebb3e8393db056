//! The crate's two error types: [`Error`] for inputs that cannot be read at all, [`RecordError`]
//! for one record that cannot be read.

use std::io;
use std::path::PathBuf;

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An input that cannot be used at all: raised by [`expand`](crate::expand) and
/// [`Format`](crate::Format)'s `from_str`, before any record is read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is neither a file, a directory, `-`, nor a glob pattern.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The input as given.
        path: PathBuf,
    },
    /// A file or directory could not be listed or examined.
    #[error("cannot read {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A glob pattern that does not parse.
    #[error("invalid glob pattern {pattern}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// The cause.
        #[source]
        source: glob::PatternError,
    },
    /// A glob pattern, or a directory, that holds no file of a known format.
    #[error("{pattern}: no file of a known format (.txt, .jsonl, .json, .ndjson, .warc, .wet, .pdf, optionally .gz)")]
    NoMatch {
        /// The pattern or directory.
        pattern: String,
    },
    /// A file named on its own whose format its name does not tell, with no explicit format.
    #[error("cannot tell the format of {path} from its name (known: .txt, .jsonl, .json, .ndjson, .warc, .wet, .pdf, optionally .gz); name a format explicitly")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// An unknown format name.
    #[error("unknown format {name:?} (known: text, jsonl, warc, pdf)")]
    UnknownFormatName {
        /// The name given.
        name: String,
    },
}

/// Why one record could not be read. Its position is in the record's
/// [`Source`](crate::Source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The file could not be opened or read.
    #[error("cannot read the input")]
    Read(#[source] io::Error),
    /// A gzip stream ends early; the records before this one were read.
    #[error("gzip stream truncated")]
    TruncatedGzip(#[source] io::Error),
    /// A gzip stream is corrupt (bad deflate data, header or checksum); reading stops here.
    #[error("corrupt gzip stream")]
    CorruptGzip(#[source] io::Error),
    /// The record is larger than [`InputOptions::max_record_bytes`](crate::InputOptions).
    #[error("record longer than the limit of {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// The record holds a NUL byte: binary data, not text.
    #[error("binary content (NUL byte at byte {at} of the record)")]
    Binary {
        /// Offset of the first NUL byte within the record.
        at: usize,
    },
    /// The record is not valid UTF-8, and declares no charset.
    #[error("invalid utf-8 at byte {at} of the record")]
    InvalidUtf8 {
        /// Offset of the first invalid byte within the record.
        at: usize,
    },
    /// A JSONL line that is not JSON.
    #[error("invalid json")]
    Json(#[source] serde_json::Error),
    /// A JSONL line that is JSON but not an object.
    #[error("json line is not an object")]
    NotObject,
    /// A JSONL object without the text field.
    #[error("field `{field}` is missing")]
    MissingField {
        /// The field's name.
        field: String,
    },
    /// A JSONL object whose text field is not a string.
    #[error("field `{field}` is {found}, not a string")]
    NotString {
        /// The field's name.
        field: String,
        /// What it is: `null`, `a number`, `a boolean`, `an array` or `an object`.
        found: &'static str,
    },
    /// Bytes that are not a WARC record: no `WARC/1.x` version line, a header line that is not
    /// `Name: value`, no or a bad `Content-Length`, a header that does not end. The reader skips
    /// to the next line that starts with `WARC/1.`.
    #[error("malformed warc record: {reason}")]
    MalformedWarc {
        /// What is wrong.
        reason: String,
    },
    /// A WARC record's content block ends before its `Content-Length`.
    #[error("warc record cut short: Content-Length is {expected} but only {found} bytes follow")]
    WarcTruncated {
        /// The declared length.
        expected: u64,
        /// The bytes there were.
        found: u64,
    },
    /// A WARC record whose content block is not followed by the blank line that ends a record:
    /// its `Content-Length` is wrong. The reader skips to the next line that starts with
    /// `WARC/1.`, looking inside the content too.
    #[error("warc record's Content-Length ({length}) does not end at a record boundary")]
    WarcLength {
        /// The declared length.
        length: u64,
    },
    /// An HTTP response that does not parse.
    #[error("malformed http response: {reason}")]
    Http {
        /// What is wrong.
        reason: String,
    },
    /// A document whose media type is not text (an image, a PDF inside a WARC, …).
    #[error("not a text document (content type {content_type})")]
    NotText {
        /// The media type.
        content_type: String,
    },
    /// A declared charset that is unknown.
    #[error("unknown charset {label:?}")]
    UnknownCharset {
        /// The label as declared.
        label: String,
    },
    /// Content that is not valid in its declared charset.
    #[error("content is not valid {charset}")]
    Undecodable {
        /// The charset's name.
        charset: &'static str,
    },
    /// An HTTP `Content-Encoding` or `Transfer-Encoding` that is not supported.
    #[error("unsupported encoding {encoding:?}")]
    UnsupportedEncoding {
        /// The encoding.
        encoding: String,
    },
    /// A PDF that `pdftotext` could not read.
    #[error("pdftotext failed: {reason}")]
    Pdf {
        /// What `pdftotext` said, or its exit status.
        reason: String,
    },
    /// A PDF without a text layer (a scan: it would need OCR).
    #[error("pdf has no text layer")]
    NoTextLayer,
    /// `pdftotext` could not be run.
    #[error("cannot run pdftotext (Debian package poppler-utils)")]
    PdftotextMissing(#[source] io::Error),
    /// A format that cannot be read from this kind of input (PDF from a stream).
    #[error("{format} cannot be read from a stream")]
    Unsupported {
        /// The format.
        format: crate::Format,
    },
    /// A file named on its own whose format its name does not tell.
    #[error("cannot tell the format from the file name")]
    UnknownFormat,
}

impl RecordError {
    /// The message with its causes, `: `-separated, as one line: what a batch job would log.
    ///
    /// ```
    /// # use unspin_io::RecordError;
    /// let e = RecordError::Json(serde_json::from_str::<u8>("x").unwrap_err());
    /// assert_eq!(e.to_string(), "invalid json");
    /// assert_eq!(e.chain(), "invalid json: expected value at line 1 column 1");
    /// ```
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}
