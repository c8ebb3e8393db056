//! `unspin scan`: score every record of a corpus, in parallel, in input order, resumably.
//!
//! ```text
//! reader thread ──jobs──▶ N workers (-j) ──results──▶ writer (this thread)
//!   unspin-io records      Detector + Matcher           reorders by sequence number,
//!   (files in order)       → one JSON line each         writes, counts, feeds the report
//!        ▲                                                    │
//!        └──────────── window: records and bytes in flight ◀──┘
//! ```
//!
//! Records travel in batches: one record with the model, whose work per record dwarfs a
//! hand-over between threads; up to [`BATCH_RECORDS`] records or [`BATCH_BYTES`] of text with the
//! fingerprint list alone, whose work per record is about that of a hand-over.
//!
//! Memory is bounded whatever the input size. The reader may hand out a batch only while the
//! records in flight (handed out, not yet written) stay within 64 × jobs (model) or
//! 8 × 256 × jobs (list alone), and their text within [`WINDOW_BYTES`] (one larger record may go
//! alone). No record is larger than `--max-record-bytes` (unspin-io skips a longer one without
//! buffering it and reports it), so what is held at once is at most: the window's text and its
//! output lines, plus the batch the reader holds while it waits, plus each worker's analysis of
//! one record, plus the pack (a 40 MB map) and the report's bounded tables. The model's analysis
//! grows with the document (about 250 bytes per byte of text), which is why its default record
//! limit is [`MODEL_MAX_RECORD_BYTES`].
//!
//! Output order is input order whatever `-j` is: the writer holds results that come early until
//! the ones before them are written. Every record that unspin-io yields gives exactly one line:
//! a result, or `{"id", "error", "source"}`; an input that cannot be expanded (a missing file,
//! a pattern that matches nothing) is one error record too, in its place.
//!
//! `--resume` reads the output of an interrupted run, truncates a torn last line, takes the
//! last complete record's `source` (file index and record number) and starts after it with
//! unspin-io's [`Records::resume_at`], which frames the records before it without decoding them.
//! Since lines are written in input order, the complete lines are exactly the first records of
//! the run: a resumed run ends with the same bytes as an uninterrupted one.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use unspin::detect::{Detection, Detector};
use unspin::fingerprint::{Hit, Matcher, Scratch};
use unspin::json::DetectJson;
use unspin_io::{Format, InputOptions, Record, Records};

use crate::args::ScanArgs;
use crate::output::{open_neural, Neural};

use crate::report::{
    self, group, Doc, DocSummary, Excerpt, FingerprintKey, Mark, MarkKind, Report, RunInfo,
};

/// Records in flight per worker with the model: how far the reader may run ahead of the writer.
const WINDOW_PER_JOB: u64 = 64;
/// Records per batch at most with the fingerprint list alone.
const BATCH_RECORDS: usize = 256;
/// Text per batch at most with the fingerprint list alone (a larger record is a batch alone).
const BATCH_BYTES: usize = 1 << 20;
/// Batches in flight per worker with the fingerprint list alone.
const BATCHES_PER_JOB: u64 = 8;
/// Text bytes in flight at most (a single larger record goes alone).
pub const WINDOW_BYTES: usize = 64 << 20;
/// The default record limit with the model: its analysis takes ~250 bytes per byte of text.
pub const MODEL_MAX_RECORD_BYTES: usize = 4 << 20;
/// Error records also reported on stderr, one line each; the rest are only counted.
const ERRORS_ON_STDERR: u64 = 10;

/// An input as expanded: a file to read, or an input that could not be expanded.
enum Entry {
    File(PathBuf),
    Bad { input: PathBuf, reason: String },
}

impl Entry {
    fn display(&self) -> String {
        match self {
            Entry::File(p) => p.display().to_string(),
            Entry::Bad { input, .. } => input.display().to_string(),
        }
    }
}

/// Where a record came from, as the output says it (`"source"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct SourceJson {
    /// The file, as expanded from the inputs.
    path: String,
    /// Its index among the run's files, from 0.
    file: usize,
    /// The record's index in the file, from 0.
    record: u64,
    /// The line where the record starts (JSONL, text).
    line: Option<u64>,
    /// The byte offset where it starts (in the decompressed stream of a gzipped file).
    offset: u64,
}

impl SourceJson {
    fn from_record(r: &Record, file: usize) -> SourceJson {
        SourceJson {
            path: r.source.path.display().to_string(),
            file,
            record: r.source.ordinal.record,
            line: r.source.line,
            offset: r.source.offset,
        }
    }

    /// `path:line (record n)` or `path@offset (record n)`, as unspin-io writes a source.
    fn display(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line} (record {})", self.path, self.record),
            None => format!("{}@{} (record {})", self.path, self.offset, self.record),
        }
    }
}

/// One output line of a scored record: detect's JSON shape with the record's id and source (a
/// public contract: extend, never rename).
#[derive(Serialize)]
struct ScanJson<'a> {
    id: &'a str,
    #[serde(flatten)]
    detection: DetectJson<'a>,
    /// Bytes of text in the record.
    bytes: usize,
    source: &'a SourceJson,
    /// WARC records: the page's URL and date.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
}

/// One output line of a record that could not be read.
#[derive(Serialize)]
struct ErrorJson<'a> {
    id: &'a str,
    /// Why, with its causes.
    error: &'a str,
    source: &'a SourceJson,
}

/// What the reader hands to a worker.
enum Item {
    Record(Record, usize),
    Bad {
        path: String,
        file: usize,
        reason: String,
    },
}

impl Item {
    fn text_len(&self) -> usize {
        match self {
            Item::Record(r, _) => r.text().map_or(0, str::len),
            Item::Bad { .. } => 0,
        }
    }
}

/// A batch of consecutive records for one worker: one record with the model (whose work per
/// record dwarfs a hand-over), up to [`BATCH_RECORDS`] records or [`BATCH_BYTES`] of text with
/// the fingerprint list alone (whose work per record is about that of a hand-over).
struct Job {
    /// Sequence number of the first record.
    first: u64,
    items: Vec<Item>,
    /// Bytes of text it takes in the window.
    bytes: usize,
}

/// What a worker hands to the writer: the results of one [`Job`].
struct Done {
    first: u64,
    records: u64,
    /// The output lines, newlines included.
    lines: Vec<u8>,
    /// Bytes of text it took in the window.
    bytes: usize,
    flagged: u64,
    /// `source: reason` of each error record.
    errors: Vec<String>,
    summaries: Vec<DocSummary>,
}

impl Done {
    fn new(job: &Job) -> Done {
        Done {
            first: job.first,
            records: job.items.len() as u64,
            lines: Vec::with_capacity(512 * job.items.len()),
            bytes: job.bytes,
            flagged: 0,
            errors: Vec::new(),
            summaries: Vec::new(),
        }
    }
}

/// The window: which records the reader may hand out.
struct Window {
    state: Mutex<WindowState>,
    changed: Condvar,
    records: u64,
    bytes: usize,
}

struct WindowState {
    written: u64,
    bytes: usize,
    aborted: bool,
}

impl Window {
    fn new(first: u64, records: u64, bytes: usize) -> Window {
        Window {
            state: Mutex::new(WindowState {
                written: first,
                bytes: 0,
                aborted: false,
            }),
            changed: Condvar::new(),
            records,
            bytes,
        }
    }

    /// Waits until the records before `end` (sequence numbers), of `bytes` bytes of text, fit;
    /// false if the run was aborted.
    fn acquire(&self, end: u64, bytes: usize) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if s.aborted {
                return false;
            }
            let fits_records = end <= s.written + self.records;
            let fits_bytes = s.bytes == 0 || s.bytes + bytes <= self.bytes;
            if fits_records && fits_bytes {
                s.bytes += bytes;
                return true;
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// `records` records of `bytes` bytes of text were written.
    fn release(&self, records: u64, bytes: usize) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.written += records;
        s.bytes -= bytes;
        self.changed.notify_all();
    }

    fn abort(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).aborted = true;
        self.changed.notify_all();
    }

    fn aborted(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).aborted
    }
}

/// A reader that counts the bytes it reads from disk, for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The records of file number `file`, counting the bytes read from disk into `count` where it
/// can (not for PDFs, stdin, or a file unspin-io reports as unreadable).
fn open_records(path: &Path, file: usize, opts: &InputOptions, count: &Arc<AtomicU64>) -> Records {
    let format = opts.format.or_else(|| Format::from_path(path));
    match format {
        Some(f) if f != Format::Pdf && path != Path::new("-") => match File::open(path) {
            Ok(handle) => {
                let reader = Counting {
                    inner: handle,
                    count: count.clone(),
                };
                unspin_io::records_from_reader(reader, path, f, opts)
            }
            Err(_) => unspin_io::records_in_file(path, file, opts),
        },
        _ => unspin_io::records_in_file(path, file, opts),
    }
}

/// Expands each input on its own, so that one that cannot be expanded becomes an error record
/// in its place instead of ending the run.
fn expand_inputs(inputs: &[PathBuf], opts: &InputOptions) -> Vec<Entry> {
    let mut entries = Vec::new();
    for input in inputs {
        match unspin_io::expand(std::slice::from_ref(input), opts) {
            Ok(files) => entries.extend(files.into_iter().map(Entry::File)),
            Err(e) => entries.push(Entry::Bad {
                input: input.clone(),
                reason: chain(&e),
            }),
        }
    }
    entries
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Where to start: the first file, and the first record in it.
#[derive(Debug, Default, Clone, Copy)]
struct Start {
    file: usize,
    record: u64,
}

/// What the output of an interrupted run already holds.
#[derive(Debug, Default)]
struct Prior {
    records: u64,
    flagged: u64,
    errors: u64,
    start: Start,
}

/// A complete line of an earlier run's output, for the counts.
#[derive(Deserialize)]
struct PriorBrief {
    #[serde(default)]
    flagged: bool,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
    source: SourceJson,
}

/// A complete line of an earlier run's output, for the report.
#[derive(Deserialize)]
struct PriorFull {
    id: String,
    #[serde(default)]
    score: Option<f32>,
    #[serde(default)]
    flagged: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    spans: Vec<PriorSpan>,
    #[serde(default)]
    fingerprints: Vec<PriorHit>,
    source: SourceJson,
}

#[derive(Deserialize)]
struct PriorSpan {
    start: usize,
    end: usize,
    spun: String,
    original: String,
    confidence: f32,
}

#[derive(Deserialize)]
struct PriorHit {
    start: usize,
    end: usize,
    tortured: String,
    expected: Option<String>,
    query: String,
}

/// The length of the complete lines of `f` (up to and including its last newline).
fn complete_len(f: &mut File, len: u64) -> Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Opens the output of an interrupted run for appending: drops a torn last line, counts the
/// complete records (feeding them to the report), and finds where to go on.
fn resume_output(
    path: &Path,
    entries: &[Entry],
    mut report: Option<&mut Report>,
) -> Result<(File, Prior)> {
    let name = path.display();
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening {name} to resume"))?;
    let len = f.metadata()?.len();
    let keep = complete_len(&mut f, len).with_context(|| format!("reading {name}"))?;
    if keep < len {
        // A line cut by the interruption: its record is done again.
        f.set_len(keep)
            .with_context(|| format!("truncating the torn last line of {name}"))?;
    }
    f.seek(SeekFrom::Start(0))?;
    let mut lines = BufReader::with_capacity(1 << 20, (&f).take(keep));
    let mut prior = Prior::default();
    let mut last: Option<SourceJson> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let bad = || {
            format!(
                "{name}: line {} is not a record of unspin scan; run without --resume to start over",
                prior.records + 1
            )
        };
        let (flagged, error, source) = match report.as_deref_mut() {
            Some(r) => {
                let p: PriorFull = serde_json::from_slice(&line).with_context(bad)?;
                let (flagged, error, source) = (p.flagged, p.error.is_some(), p.source.clone());
                r.add(prior.records, prior_summary(p));
                (flagged, error, source)
            }
            None => {
                let p: PriorBrief = serde_json::from_slice(&line).with_context(bad)?;
                (p.flagged, p.error.is_some(), p.source)
            }
        };
        prior.records += 1;
        prior.errors += u64::from(error);
        prior.flagged += u64::from(flagged && !error);
        last = Some(source);
    }
    if let Some(s) = last {
        let same = entries.get(s.file).map(Entry::display);
        if same.as_deref() != Some(s.path.as_str()) {
            bail!(
                "{name} was written for other inputs: its last record comes from {} as file {} of the run, but this run's file {} is {}; run without --resume to start over",
                s.path,
                s.file,
                s.file,
                same.as_deref().unwrap_or("missing")
            );
        }
        prior.start = Start {
            file: s.file,
            record: s.record + 1,
        };
    }
    f.seek(SeekFrom::End(0))?;
    Ok((f, prior))
}

/// The report's view of a line of an earlier run.
fn prior_summary(p: PriorFull) -> DocSummary {
    if let Some(reason) = p.error {
        return DocSummary::Error {
            id: p.id,
            source: p.source.display(),
            path: p.source.path,
            reason,
        };
    }
    let marks = p
        .spans
        .iter()
        .map(|s| spun_mark(s.start, s.end, &s.original, s.confidence))
        .chain(
            p.fingerprints
                .iter()
                .map(|h| fingerprint_mark(h.start, h.end, h.expected.as_deref(), &h.query)),
        )
        .collect();
    let substitutions = if p.flagged {
        p.spans
            .iter()
            .map(|s| (s.spun.to_lowercase(), s.original.to_lowercase()))
            .collect()
    } else {
        Vec::new()
    };
    DocSummary::Doc(Box::new(Doc {
        id: p.id,
        source: p.source.display(),
        ordinal: (p.source.file, p.source.record),
        score: p.score,
        flagged: p.flagged,
        spans: p.spans.len(),
        substitutions,
        fingerprints: p
            .fingerprints
            .into_iter()
            .map(|h| FingerprintKey {
                query: h.query,
                tortured: h.tortured,
                expected: h.expected,
            })
            .collect(),
        marks,
        excerpt: None,
    }))
}

fn spun_mark(start: usize, end: usize, original: &str, confidence: f32) -> Mark {
    Mark {
        start,
        end,
        kind: MarkKind::Spun {
            original: original.to_string(),
            confidence,
        },
    }
}

fn fingerprint_mark(start: usize, end: usize, expected: Option<&str>, query: &str) -> Mark {
    Mark {
        start,
        end,
        kind: MarkKind::Fingerprint {
            expected: expected.map(str::to_string),
            query: query.to_string(),
        },
    }
}

/// What every worker shares.
struct Ctx<'a> {
    detector: Option<&'a Detector<'a, Box<dyn unspin::decode::Channel + Send>>>,
    matcher: Option<&'a Matcher>,
    /// The report's admission bar, when there is a report.
    bar: Option<Arc<AtomicU64>>,
    window: &'a Window,
}

impl Ctx<'_> {
    fn error(&self, done: &mut Done, id: &str, source: &SourceJson, reason: &str) {
        serde_json::to_writer(
            &mut done.lines,
            &ErrorJson {
                id,
                error: reason,
                source,
            },
        )
        .expect("a record serialises to memory");
        done.lines.push(b'\n');
        // An input that could not be expanded names itself in the reason.
        done.errors
            .push(if reason.starts_with(&format!("{}: ", source.path)) {
                reason.to_string()
            } else {
                format!("{}: {reason}", source.display())
            });
        if self.bar.is_some() {
            done.summaries.push(DocSummary::Error {
                id: id.to_string(),
                path: source.path.clone(),
                source: source.display(),
                reason: reason.to_string(),
            });
        }
    }

    /// Scores one record into `done`; never fails (a panic in the analysis becomes an error
    /// record).
    fn run(
        &self,
        item: Item,
        done: &mut Done,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
        neural: &mut Option<Neural>,
    ) {
        let (id, source, url, date, body) = match item {
            Item::Record(r, file) => {
                let source = SourceJson::from_record(&r, file);
                (
                    r.id,
                    source,
                    r.meta.url,
                    r.meta.date,
                    r.body.map_err(|e| e.chain()),
                )
            }
            Item::Bad { path, file, reason } => {
                let source = SourceJson {
                    path: path.clone(),
                    file,
                    record: 0,
                    line: None,
                    offset: 0,
                };
                (path, source, None, None, Err(reason))
            }
        };
        let text = match body {
            Ok(t) => t,
            Err(reason) => return self.error(done, &id, &source, &reason),
        };
        let rec = Rec {
            id: &id,
            source: &source,
            url: url.as_deref(),
            date: date.as_deref(),
            text: &text,
        };
        let (lines, flagged, summaries) = (done.lines.len(), done.flagged, done.summaries.len());
        let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.analyse(&rec, done, scratch, hits, neural)
        }));
        if let Err(panic) = analysed {
            *scratch = Scratch::new();
            done.lines.truncate(lines);
            done.flagged = flagged;
            done.summaries.truncate(summaries);
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let reason = format!("internal error: the analysis panicked: {what}");
            self.error(done, &id, &source, &reason);
        }
    }

    fn analyse(
        &self,
        rec: &Rec,
        done: &mut Done,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
        neural: &mut Option<Neural>,
    ) {
        let text = rec.text;
        hits.clear();
        if let Some(m) = self.matcher {
            m.find_into(text, scratch, hits);
        }
        let d: Option<Detection> = match (self.detector, neural.as_mut()) {
            // Precise mode: this worker's own sentence model; a failure is this record's error.
            (Some(det), Some(n)) => match det.detect_precise(text, n) {
                Ok(d) => Some(d),
                Err(e) => {
                    return self.error(done, rec.id, rec.source, &format!("--precise: {e}"));
                }
            },
            (Some(det), None) => Some(det.detect(text)),
            (None, _) => None,
        };
        let detection = DetectJson::new(d.as_ref(), hits);
        let flagged = detection.flagged;
        let json = ScanJson {
            id: rec.id,
            detection,
            bytes: text.len(),
            source: rec.source,
            url: rec.url,
            date: rec.date,
        };
        serde_json::to_writer(&mut done.lines, &json).expect("a record serialises to memory");
        done.lines.push(b'\n');
        done.flagged += u64::from(flagged);
        let Some(bar) = &self.bar else {
            return;
        };
        let spans = d.as_ref().map_or(&[][..], |d| &d.spans[..]);
        let score = d.as_ref().map(|d| d.score);
        let rank = report::rank(score, hits.len());
        let excerpt = report::may_enter(bar, rank).then(|| {
            let marks: Vec<Mark> = spans
                .iter()
                .map(|s| spun_mark(s.start, s.end, &s.original, s.confidence))
                .chain(
                    hits.iter()
                        .map(|h| fingerprint_mark(h.start, h.end, h.expected.as_deref(), &h.query)),
                )
                .collect();
            Excerpt::new(text, &marks)
        });
        done.summaries.push(DocSummary::Doc(Box::new(Doc {
            id: rec.id.to_string(),
            source: rec.source.display(),
            ordinal: (rec.source.file, rec.source.record),
            score,
            flagged,
            spans: spans.len(),
            substitutions: if flagged {
                spans
                    .iter()
                    .map(|s| (s.spun.to_lowercase(), s.original.to_lowercase()))
                    .collect()
            } else {
                Vec::new()
            },
            fingerprints: hits
                .iter()
                .map(|h| FingerprintKey {
                    query: h.query.clone(),
                    tortured: h.tortured.clone(),
                    expected: h.expected.clone(),
                })
                .collect(),
            marks: Vec::new(),
            excerpt,
        })));
    }
}

/// A readable record, as a worker analyses it.
struct Rec<'a> {
    id: &'a str,
    source: &'a SourceJson,
    url: Option<&'a str>,
    date: Option<&'a str>,
    text: &'a str,
}

/// How the reader groups records into jobs.
#[derive(Clone, Copy)]
struct Batching {
    records: usize,
    bytes: usize,
}

/// The reader thread: every record of every file from `start`, in order, in batches, through
/// the window.
#[allow(clippy::too_many_arguments)]
fn read_all(
    entries: &[Entry],
    opts: &InputOptions,
    start: Start,
    first_seq: u64,
    batching: Batching,
    window: &Window,
    jobs: SyncSender<Job>,
    read_bytes: &Arc<AtomicU64>,
    sizes: &[u64],
    passed_over: &AtomicU64,
) {
    let mut batch = Job {
        first: first_seq,
        items: Vec::new(),
        bytes: 0,
    };
    // Hands the batch over; false if the run was aborted.
    let flush = |batch: &mut Job| -> bool {
        if batch.items.is_empty() {
            return true;
        }
        let end = batch.first + batch.items.len() as u64;
        let next = Job {
            first: end,
            items: Vec::new(),
            bytes: 0,
        };
        let job = std::mem::replace(batch, next);
        window.acquire(end, job.bytes) && jobs.send(job).is_ok()
    };
    let add = |batch: &mut Job, item: Item| -> bool {
        let bytes = item.text_len();
        if !batch.items.is_empty() && batch.bytes + bytes > batching.bytes && !flush(batch) {
            return false;
        }
        batch.bytes += bytes;
        batch.items.push(item);
        batch.items.len() < batching.records && batch.bytes < batching.bytes || flush(batch)
    };
    let mut done: u64 = sizes[..start.file.min(sizes.len())].iter().sum();
    read_bytes.store(done, Ordering::Relaxed);
    for (index, entry) in entries.iter().enumerate().skip(start.file) {
        let resume = if index == start.file { start.record } else { 0 };
        match entry {
            Entry::Bad { input, reason } => {
                let bad = Item::Bad {
                    path: input.display().to_string(),
                    file: index,
                    reason: reason.clone(),
                };
                if resume == 0 && !add(&mut batch, bad) {
                    return;
                }
            }
            Entry::File(path) => {
                let mut records = open_records(path, index, opts, read_bytes).resume_at(resume);
                for record in records.by_ref() {
                    if !add(&mut batch, Item::Record(record, index)) {
                        return;
                    }
                }
                passed_over.fetch_add(records.skipped(), Ordering::Relaxed);
            }
        }
        done += sizes[index];
        read_bytes.store(done, Ordering::Relaxed);
    }
    flush(&mut batch);
}

fn worker(
    ctx: &Ctx,
    jobs: &Mutex<Receiver<Job>>,
    results: Sender<Done>,
    mut neural: Option<Neural>,
) {
    let mut scratch = Scratch::new();
    let mut hits = Vec::new();
    loop {
        let job = {
            let rx = jobs.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        if ctx.window.aborted() {
            return;
        }
        let mut done = Done::new(&job);
        for item in job.items {
            ctx.run(item, &mut done, &mut scratch, &mut hits, &mut neural);
        }
        if results.send(done).is_err() {
            return;
        }
    }
}

/// The progress bar on stderr.
struct Progress {
    on: bool,
    start: Instant,
    last: Option<Instant>,
    /// Bytes of all the files, when known (no stdin).
    total: Option<u64>,
    /// Bytes already read when the run started (a resumed run's earlier files).
    base: u64,
}

impl Progress {
    fn draw(&mut self, records: u64, errors: u64, flagged: u64, read: u64, force: bool) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        if !force
            && self
                .last
                .is_some_and(|l| now - l < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(now);
        let secs = (now - self.start).as_secs_f64().max(1e-3);
        let rate = read.saturating_sub(self.base) as f64 / secs;
        let mut line = String::new();
        if let Some(total) = self.total.filter(|&t| t > 0) {
            let frac = (read as f64 / total as f64).clamp(0.0, 1.0);
            let filled = (frac * 24.0).round() as usize;
            line.push_str(&format!(
                "{:>3.0}% [{}{}] {}/{}",
                frac * 100.0,
                "#".repeat(filled),
                "-".repeat(24 - filled),
                mb(read),
                mb(total)
            ));
            if rate > 0.0 && read < total {
                let eta = (total - read) as f64 / rate;
                line.push_str(&format!("  ETA {}", clock(eta)));
            }
        } else {
            line.push_str(&mb(read));
        }
        line.push_str(&format!(
            "  {:.1} MB/s  {} records  {} flagged  {} errors",
            rate / 1e6,
            group(records),
            group(flagged),
            group(errors)
        ));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.on && self.last.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.last = None;
        }
    }
}

fn mb(bytes: u64) -> String {
    if bytes >= 10_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// Seconds as `1:02:03`, `2:03` or `3.4 s`.
fn clock(secs: f64) -> String {
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Reads again the records of the top documents whose text an interrupted run's output does
/// not hold, to make their excerpts.
fn fill_excerpts(report: &mut Report, entries: &[Entry], opts: &InputOptions) {
    let mut by_file: BTreeMap<usize, Vec<(u64, Vec<Mark>)>> = BTreeMap::new();
    for ((file, record), marks) in report.missing_excerpts() {
        by_file.entry(file).or_default().push((record, marks));
    }
    let count = Arc::new(AtomicU64::new(0));
    for (file, mut wanted) in by_file {
        let Some(Entry::File(path)) = entries.get(file) else {
            continue;
        };
        if path == Path::new("-") {
            continue;
        }
        wanted.sort_by_key(|w| w.0);
        let last = wanted.last().map_or(0, |w| w.0);
        let records = open_records(path, file, opts, &count).resume_at(wanted[0].0);
        for r in records {
            let n = r.source.ordinal.record;
            if n > last {
                break;
            }
            if let (Ok(i), Some(text)) = (wanted.binary_search_by_key(&n, |w| w.0), r.text()) {
                report.set_excerpt((file, n), Excerpt::new(text, &wanted[i].1));
            }
        }
    }
}

pub fn scan_cmd(a: ScanArgs) -> Result<u8> {
    let started = Instant::now();
    let jobs = a.records.jobs()?;
    let mut input = a.records.options()?;
    let scoring = crate::detect::Scoring::new(&a.scoring, a.fingerprints_only)?;
    let matcher = scoring.matcher.as_ref();
    let detector = scoring.detector(&a.scoring.profile)?;
    // Precise mode: one sentence model per worker (each holds ~0.8 GB), opened before any
    // record is read, so that a missing or corrupt model is one line and exit 2.
    let neurals: Vec<Option<Neural>> = if a.precise.precise && detector.is_some() {
        (0..jobs)
            .map(|_| open_neural(&a.precise))
            .collect::<Result<_>>()?
    } else {
        (0..jobs).map(|_| None).collect()
    };

    input.max_record_bytes = a.max_record_bytes.unwrap_or(if a.fingerprints_only {
        unspin_io::DEFAULT_MAX_RECORD_BYTES
    } else {
        MODEL_MAX_RECORD_BYTES
    });
    anyhow::ensure!(
        input.max_record_bytes > 0,
        "--max-record-bytes must be positive"
    );
    let entries = expand_inputs(&a.inputs, &input);

    let mut report = a.report.as_ref().map(|_| Report::new(a.report_top));
    let (sink, prior): (Box<dyn Write>, Prior) = match (&a.output, a.resume) {
        (Some(path), true) => {
            let (f, prior) = resume_output(path, &entries, report.as_mut())?;
            (Box::new(f), prior)
        }
        (Some(path), false) => {
            let f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
            (Box::new(f), Prior::default())
        }
        (None, _) => (Box::new(std::io::stdout().lock()), Prior::default()),
    };
    let mut out = BufWriter::with_capacity(256 * 1024, sink);

    let sizes: Vec<u64> = entries
        .iter()
        .map(|e| match e {
            Entry::File(p) if p != Path::new("-") => std::fs::metadata(p).map_or(0, |m| m.len()),
            _ => 0,
        })
        .collect();
    let total = (!entries
        .iter()
        .any(|e| matches!(e, Entry::File(p) if p == Path::new("-"))))
    .then(|| sizes.iter().sum::<u64>());
    let base: u64 = sizes[..prior.start.file.min(sizes.len())].iter().sum();
    let mut progress = Progress {
        on: a.records.progress_on(),
        start: Instant::now(),
        last: None,
        total,
        base,
    };

    let batching = if a.fingerprints_only {
        Batching {
            records: BATCH_RECORDS,
            bytes: BATCH_BYTES,
        }
    } else {
        Batching {
            records: 1,
            bytes: usize::MAX,
        }
    };
    let in_flight = if a.fingerprints_only {
        BATCHES_PER_JOB * BATCH_RECORDS as u64
    } else {
        WINDOW_PER_JOB
    };
    let window = Window::new(prior.records, in_flight * jobs as u64, WINDOW_BYTES);
    let read_bytes = Arc::new(AtomicU64::new(base));
    let passed_over = AtomicU64::new(0);
    let ctx = Ctx {
        detector: detector.as_ref(),
        matcher,
        bar: report.as_ref().map(Report::bar),
        window: &window,
    };
    let (mut records, mut flagged, mut errors) = (prior.records, prior.flagged, prior.errors);
    let mut text_bytes = 0u64;
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(2 * jobs);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let job_rx = Mutex::new(job_rx);
    let written: Result<()> = std::thread::scope(|s| {
        let (entries, input, window, read_bytes, sizes, passed_over) =
            (&entries, &input, &window, &read_bytes, &sizes, &passed_over);
        s.spawn(move || {
            read_all(
                entries,
                input,
                prior.start,
                prior.records,
                batching,
                window,
                job_tx,
                read_bytes,
                sizes,
                passed_over,
            )
        });
        let (ctx, job_rx) = (&ctx, &job_rx);
        for neural in neurals {
            let done_tx = done_tx.clone();
            s.spawn(move || worker(ctx, job_rx, done_tx, neural));
        }
        drop(done_tx);
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = prior.records;
        let result = (|| -> Result<()> {
            loop {
                match done_rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(d) => {
                        pending.insert(d.first, d);
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                let progressed = pending.contains_key(&next);
                while let Some(d) = pending.remove(&next) {
                    out.write_all(&d.lines).context("writing the output")?;
                    window.release(d.records, d.bytes);
                    records += d.records;
                    text_bytes += d.bytes as u64;
                    next += d.records;
                    flagged += d.flagged;
                    for e in &d.errors {
                        errors += 1;
                        if errors - prior.errors <= ERRORS_ON_STDERR {
                            progress.clear();
                            eprintln!("unspin: {e}");
                        }
                    }
                    if let Some(r) = report.as_mut() {
                        for (i, summary) in d.summaries.into_iter().enumerate() {
                            r.add(d.first + i as u64, summary);
                        }
                    }
                }
                if progressed {
                    // What is in order reaches the file now, not when the buffer fills: an
                    // interrupted run then loses at most the records still being scored.
                    out.flush().context("writing the output")?;
                }
                progress.draw(
                    records,
                    errors,
                    flagged,
                    read_bytes.load(Ordering::Relaxed),
                    false,
                );
            }
            anyhow::ensure!(
                pending.is_empty(),
                "internal error: {} results were never written",
                pending.len()
            );
            out.flush().context("writing the output")?;
            Ok(())
        })();
        if result.is_err() {
            window.abort();
        }
        drop(done_rx);
        result
    });
    progress.draw(
        records,
        errors,
        flagged,
        read_bytes.load(Ordering::Relaxed),
        true,
    );
    progress.clear();
    written?;
    let elapsed = started.elapsed().as_secs_f64();

    if let (Some(path), Some(r)) = (&a.report, report.as_mut()) {
        fill_excerpts(r, &entries, &input);
        let info = RunInfo {
            inputs: a.inputs.iter().map(|i| i.display().to_string()).collect(),
            files: entries.len(),
            threshold: a.scoring.threshold,
            scored_by: match (detector.is_some(), matcher.is_some()) {
                (true, true) => "the model and the fingerprint list",
                (true, false) => "the model",
                _ => "the fingerprint list alone",
            }
            .to_string(),
            fingerprint_list: fingerprint_list_name(&a),
            elapsed: clock(elapsed),
            resumed_after: prior.records,
        };
        let html = r.render(&info);
        // Write beside the target and rename, so a reader never sees half a report.
        let tmp = path.with_extension("html.tmp");
        std::fs::write(&tmp, html).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    }

    let this_run = records - prior.records;
    let read = read_bytes.load(Ordering::Relaxed).saturating_sub(base);
    let mut summary = format!(
        "unspin scan: {} records, {} flagged, {} errors in {}; {} read at {:.1} MB/s, {} of text, {:.0} records/s",
        group(records),
        group(flagged),
        group(errors),
        clock(elapsed),
        mb(read),
        read as f64 / 1e6 / elapsed.max(1e-9),
        mb(text_bytes),
        this_run as f64 / elapsed.max(1e-9),
    );
    if prior.records > 0 {
        summary.push_str(&format!(
            " (resumed: {} records from the interrupted run, {} in this one)",
            group(prior.records),
            group(this_run)
        ));
    }
    let over = passed_over.load(Ordering::Relaxed);
    if over > 0 {
        summary.push_str(&format!(
            "; {} WARC records passed over as not documents",
            group(over)
        ));
    }
    if errors > 0 {
        summary.push_str(&format!(
            "; some records failed: {} error records{}",
            group(errors),
            a.output
                .as_ref()
                .map(|o| format!(" in {} (field \"error\")", o.display()))
                .unwrap_or_default()
        ));
    }
    eprintln!("{summary}");
    Ok(if errors > 0 {
        2
    } else if flagged > 0 {
        0
    } else {
        1
    })
}

fn fingerprint_list_name(a: &ScanArgs) -> Option<String> {
    if a.scoring.fingerprints.no_fingerprints {
        return None;
    }
    a.scoring
        .fingerprints
        .fingerprints
        .clone()
        .or_else(|| crate::fingerprints::installed_path().filter(|p| p.exists()))
        .map(|p| p.display().to_string())
}
