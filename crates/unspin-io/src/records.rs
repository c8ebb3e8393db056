//! The record streams: [`Records`] for one file, [`Scan`] for a run over many.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::input::Input;
use crate::{jsonl, pdf, text, warc};
use crate::{Format, InputOptions, Meta, Ordinal, Record, RecordError, Source};

/// A record as a reader makes it; [`Records`] adds the path and the ordinal.
pub(crate) struct Draft {
    pub(crate) id: String,
    pub(crate) line: Option<u64>,
    pub(crate) offset: u64,
    pub(crate) meta: Meta,
    pub(crate) body: Result<String, RecordError>,
}

/// A reader of one format.
pub(crate) trait Reader: Send {
    /// The next record, `None` at the end. With `skip`, the caller drops the record: only the
    /// work needed to know that there is one is done (no decoding), and the body is unspecified.
    /// Whether there is a next record must never depend on `skip`.
    fn next_draft(&mut self, skip: bool) -> Option<Draft>;

    /// Records passed over as not documents.
    fn skipped(&self) -> u64 {
        0
    }
}

/// A reader that yields one record made in advance: a file that cannot be opened.
struct Failed(Option<Draft>);

impl Reader for Failed {
    fn next_draft(&mut self, _skip: bool) -> Option<Draft> {
        self.0.take()
    }
}

/// The records of one file or stream, in order. Made by [`records`], [`records_in_file`] or
/// [`records_from_reader`].
///
/// A file that cannot be opened, or whose format cannot be told, gives one error record.
pub struct Records {
    path: Arc<Path>,
    file: usize,
    next: u64,
    resume: u64,
    reader: Box<dyn Reader>,
}

impl Records {
    fn new(path: Arc<Path>, file: usize, reader: Box<dyn Reader>) -> Records {
        Records {
            path,
            file,
            next: 0,
            resume: 0,
            reader,
        }
    }

    /// Skips the file's first `n` records (their ordinals' `record` is below `n`): they are
    /// framed and counted but not decoded, so the following records have the ordinals they have
    /// in a full read.
    ///
    /// ```
    /// # use unspin_io::{records_from_reader, Format, InputOptions};
    /// let data = "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"}\n";
    /// let rest: Vec<_> = records_from_reader(data.as_bytes(), "-", Format::Jsonl, &InputOptions::default())
    ///     .resume_at(2)
    ///     .collect();
    /// assert_eq!(rest.len(), 1);
    /// assert_eq!((rest[0].source.ordinal.record, rest[0].text()), (2, Some("c")));
    /// ```
    pub fn resume_at(mut self, n: u64) -> Records {
        self.resume = n;
        self
    }

    /// The path the records are said to come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many records were passed over so far because they are not documents: WARC
    /// `warcinfo`, `request`, `metadata`, `revisit`, `resource` and `continuation` records.
    pub fn skipped(&self) -> u64 {
        self.reader.skipped()
    }
}

impl Iterator for Records {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            let skip = self.next < self.resume;
            let d = self.reader.next_draft(skip)?;
            let ordinal = Ordinal {
                file: self.file,
                record: self.next,
            };
            self.next += 1;
            if skip {
                continue;
            }
            let source = Source {
                path: self.path.clone(),
                ordinal,
                line: d.line,
                offset: d.offset,
            };
            return Some(Record {
                id: d.id,
                source,
                meta: d.meta,
                body: d.body,
            });
        }
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("path", &self.path)
            .field("file", &self.file)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The records of one file (`-` is stdin), as file 0 of a run. See [`records_in_file`].
///
/// ```no_run
/// # use unspin_io::{records, InputOptions};
/// for record in records("CC-MAIN-example.warc.wet.gz".as_ref(), &InputOptions::default()) {
///     match record.body {
///         Ok(text) => println!("{} {}", record.id, text.len()),
///         Err(e) => eprintln!("{}: {}", record.source, e.chain()),
///     }
/// }
/// ```
pub fn records(path: &Path, options: &InputOptions) -> Records {
    records_in_file(path, 0, options)
}

/// The records of one file (`-` is stdin) that is file number `file` of a run: their ordinals
/// start at `(file, 0)`.
///
/// The format is [`InputOptions::format`], else the file name's ([`Format::from_path`]), else,
/// for stdin, [`Format::Text`]. A file that cannot be opened, or of no known format, gives one
/// error record.
pub fn records_in_file(path: &Path, file: usize, options: &InputOptions) -> Records {
    let shared: Arc<Path> = Arc::from(path);
    let stdin = path == Path::new("-");
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None if stdin => Format::Text,
        None => return failed(shared, file, RecordError::UnknownFormat),
    };
    if stdin {
        return reader_records(std::io::stdin(), shared, file, format, options);
    }
    if format == Format::Pdf {
        let reader = pdf::PdfReader::new(path.to_path_buf(), options.max_record_bytes);
        return Records::new(shared, file, Box::new(reader));
    }
    match std::fs::File::open(path) {
        Ok(f) => reader_records(f, shared, file, format, options),
        Err(e) => failed(shared, file, RecordError::Read(e)),
    }
}

/// The records of a stream in a given format, said to come from `name` (file 0 of a run).
///
/// PDF cannot be read from a stream: it gives one [`RecordError::Unsupported`] record.
///
/// ```
/// # use unspin_io::{records_from_reader, Format, InputOptions};
/// let wet = "WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Record-ID: <urn:uuid:1>\r\n\
///            WARC-Target-URI: http://example.com/\r\nContent-Length: 5\r\n\r\nHello\r\n\r\n";
/// let r: Vec<_> = records_from_reader(wet.as_bytes(), "x.wet", Format::Warc, &InputOptions::default()).collect();
/// assert_eq!((r[0].id.as_str(), r[0].text()), ("<urn:uuid:1>", Some("Hello")));
/// assert_eq!(r[0].meta.url.as_deref(), Some("http://example.com/"));
/// ```
pub fn records_from_reader<R, P>(
    reader: R,
    name: P,
    format: Format,
    options: &InputOptions,
) -> Records
where
    R: Read + Send + 'static,
    P: AsRef<Path>,
{
    reader_records(reader, Arc::from(name.as_ref()), 0, format, options)
}

fn reader_records<R: Read + Send + 'static>(
    reader: R,
    path: Arc<Path>,
    file: usize,
    format: Format,
    options: &InputOptions,
) -> Records {
    if format == Format::Pdf {
        return failed(path, file, RecordError::Unsupported { format });
    }
    let input = match Input::new(reader) {
        Ok(i) => i,
        Err(e) => return failed(path, file, RecordError::Read(e)),
    };
    let name = path.display().to_string();
    let reader: Box<dyn Reader> = match format {
        Format::Text => Box::new(text::TextReader::new(input, name, options.max_record_bytes)),
        Format::Jsonl => Box::new(jsonl::JsonlReader::new(input, name, options)),
        Format::Warc => Box::new(warc::WarcReader::new(input, name, options.max_record_bytes)),
        Format::Pdf => unreachable!("handled above"),
    };
    Records::new(path, file, reader)
}

fn failed(path: Arc<Path>, file: usize, error: RecordError) -> Records {
    let draft = Draft {
        id: path.display().to_string(),
        line: None,
        offset: 0,
        meta: Meta::default(),
        body: Err(error),
    };
    Records::new(path, file, Box::new(Failed(Some(draft))))
}

/// The records of a run over many files, file after file; the files are numbered in the order
/// given, from 0. Made by [`scan`].
#[derive(Debug)]
pub struct Scan {
    files: Vec<PathBuf>,
    options: InputOptions,
    next_file: usize,
    current: Option<Records>,
    resume: Ordinal,
    skipped: u64,
}

/// The records of `files` (typically from [`expand`](crate::expand)), file after file.
///
/// ```
/// # use unspin_io::{scan, InputOptions};
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("a.txt"), "first")?;
/// std::fs::write(dir.path().join("b.txt"), "second")?;
/// let files = vec![dir.path().join("a.txt"), dir.path().join("b.txt")];
/// let texts: Vec<String> = scan(files, &InputOptions::default()).filter_map(|r| r.body.ok()).collect();
/// assert_eq!(texts, ["first", "second"]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn scan(files: Vec<PathBuf>, options: &InputOptions) -> Scan {
    Scan {
        files,
        options: options.clone(),
        next_file: 0,
        current: None,
        resume: Ordinal::default(),
        skipped: 0,
    }
}

impl Scan {
    /// Starts at `ordinal`: the files before `ordinal.file` are not opened, and that file's
    /// first `ordinal.record` records are framed but not decoded. A run that stopped after
    /// handling record `o` resumes with `resume_at(Ordinal { record: o.record + 1, ..o })`.
    pub fn resume_at(mut self, ordinal: Ordinal) -> Scan {
        self.resume = ordinal;
        self.next_file = ordinal.file;
        self
    }

    /// The files of the run.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Records passed over so far as not documents (see [`Records::skipped`]).
    pub fn skipped(&self) -> u64 {
        self.skipped + self.current.as_ref().map_or(0, Records::skipped)
    }
}

impl Iterator for Scan {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if let Some(current) = &mut self.current {
                if let Some(r) = current.next() {
                    return Some(r);
                }
                self.skipped += current.skipped();
                self.current = None;
            }
            let index = self.next_file;
            let path = self.files.get(index)?;
            self.next_file += 1;
            let mut records = records_in_file(path, index, &self.options);
            if index == self.resume.file {
                records = records.resume_at(self.resume.record);
            }
            self.current = Some(records);
        }
    }
}
