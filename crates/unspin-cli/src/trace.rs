//! `unspin index build|add|stats`, `unspin trace` and `unspin eval trace`: find the source of a
//! spun copy among many documents.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde::Serialize;
use unspin::canon::Canon;
use unspin::index::eval::{make_queries, EvalQuery, Tally};
use unspin::index::{EditKind, Index, IndexBuilder, Match, Params, Rules, TraceOptions};
use unspin::json::TraceMatchJson;
use unspin::learn::Profile;
use unspin_io::{Format, InputOptions};

use crate::args::{PackArg, RecordArgs};
use crate::cmd::{load_pack, read_input};

/// Signature parameters for a new index (the defaults were chosen by measurement; see
/// BENCHMARKS.md).
#[derive(Args, Debug, Clone)]
pub struct ParamArgs {
    /// Words per indexed passage.
    #[arg(long, value_name = "WORDS")]
    pub window: Option<usize>,
    /// Words between passage starts.
    #[arg(long, value_name = "WORDS")]
    pub stride: Option<usize>,
    /// MinHash values of each of the first three streams (immutables, phrase-free skeleton,
    /// skeleton).
    #[arg(long, value_name = "N")]
    pub perms: Option<usize>,
    /// MinHash values per LSH band of the first three streams.
    #[arg(long, value_name = "N")]
    pub rows: Option<usize>,
    /// Tokens per shingle of the skeleton streams.
    #[arg(long, value_name = "N")]
    pub shingle: Option<usize>,
    /// Tokens per shingle of the immutables stream.
    #[arg(long, value_name = "N")]
    pub immutable_shingle: Option<usize>,
    /// Tokens per shingle of the content stream.
    #[arg(long, value_name = "N")]
    pub content_shingle: Option<usize>,
    /// MinHash values of the content stream.
    #[arg(long, value_name = "N")]
    pub content_perms: Option<usize>,
    /// MinHash values per LSH band of the content stream.
    #[arg(long, value_name = "N")]
    pub content_rows: Option<usize>,
}

impl ParamArgs {
    fn params(&self) -> Params {
        let mut p = Params::default();
        if let Some(v) = self.window {
            p.window = v;
        }
        if let Some(v) = self.stride {
            p.stride = v;
        }
        if let Some(v) = self.perms {
            p.perms = v;
        }
        if let Some(v) = self.rows {
            p.rows = v;
        }
        if let Some(v) = self.shingle {
            p.shingle = v;
        }
        if let Some(v) = self.immutable_shingle {
            p.immutable_shingle = v;
        }
        if let Some(v) = self.content_shingle {
            p.content_shingle = v;
        }
        if let Some(v) = self.content_perms {
            p.content_perms = v;
        }
        if let Some(v) = self.content_rows {
            p.content_rows = v;
        }
        p
    }
}

#[derive(Subcommand, Debug)]
pub enum IndexCommand {
    /// Index documents (text, JSONL, WARC/WET, PDF; gzip or not) for `unspin trace`.
    Build {
        /// Input files, directories and glob patterns; - for standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// The index file to write (replaced atomically when complete).
        #[arg(short, long, value_name = "INDEX")]
        output: PathBuf,
        /// Index only the first N readable records.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Skip the first N readable records.
        #[arg(long, value_name = "N", default_value_t = 0)]
        skip: usize,
        /// Megabytes of texts and band entries held in memory; beyond them the build spills
        /// sorted runs to temporary files beside the index and merges them at the end (the
        /// index is the same; 0: hold everything in memory).
        #[arg(long, value_name = "MB", default_value_t = 768)]
        memory: usize,
        #[command(flatten)]
        records: RecordArgs,
        #[command(flatten)]
        params: ParamArgs,
        #[command(flatten)]
        pack: PackArg,
    },
    /// Add documents to an index (written anew beside it and renamed over it: a crash leaves the
    /// old index as it was).
    Add {
        /// The index.
        #[arg(value_name = "INDEX")]
        index: PathBuf,
        /// Input files, directories and glob patterns; - for standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Megabytes of texts and band entries held in memory; beyond them the build spills
        /// sorted runs to temporary files beside the index and merges them at the end (the
        /// index is the same; 0: hold everything in memory).
        #[arg(long, value_name = "MB", default_value_t = 768)]
        memory: usize,
        #[command(flatten)]
        records: RecordArgs,
        #[command(flatten)]
        pack: PackArg,
    },
    /// Show an index's size, parameters and sections.
    Stats {
        /// The index.
        #[arg(value_name = "INDEX")]
        index: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// The spun text: a file, or - for standard input.
    #[arg(default_value = "-", conflicts_with = "queries")]
    pub input: PathBuf,
    /// The index to search.
    #[arg(long, value_name = "INDEX")]
    pub index: PathBuf,
    /// Batch mode: one query per JSONL record (--field, --id-field), one result line each in
    /// --output: {"query_id", "matches": [{"id", "score"}]}, best first.
    #[arg(long, value_name = "Q.jsonl")]
    pub queries: Option<PathBuf>,
    /// Where batch results go (default: standard output).
    #[arg(short, long, value_name = "R.jsonl", requires = "queries")]
    pub output: Option<PathBuf>,
    /// JSONL: the field that holds the query text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub field: String,
    /// JSONL: the field that holds the query id.
    #[arg(long, default_value = "id", value_name = "NAME")]
    pub id_field: String,
    /// Sources reported at most.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Lowest alignment score reported as a source.
    #[arg(long, default_value_t = 0.6)]
    pub min_score: f32,
    /// Candidates verified by alignment at most.
    #[arg(long, default_value_t = 8)]
    pub verify: usize,
    /// Candidates screened at most, best first, by the pairs of adjacent words they share with
    /// the query; those that pass are aligned, up to --verify.
    #[arg(long, default_value_t = TraceOptions::default().screen)]
    pub screen: usize,
    /// Show the spun text and each source side by side, every substitution marked.
    #[arg(long, conflicts_with = "json")]
    pub align: bool,
    /// Print JSON with each match's alignment (in batch mode, add it to every line).
    #[arg(long)]
    pub json: bool,
    /// Replace invalid UTF-8 with U+FFFD instead of failing.
    #[arg(long)]
    pub lossy: bool,
    /// Worker threads in batch mode [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub pack: PackArg,
    /// A spinner profile from `unspin learn`: its substitutions count as explained in the
    /// verifying alignments, besides the thesauri's.
    #[command(flatten)]
    pub profile: crate::args::ProfileArg,
}

#[derive(Args, Debug)]
pub struct EvalTraceArgs {
    /// The index to evaluate (with --queries).
    #[arg(long, value_name = "INDEX", requires = "queries")]
    pub index: Option<PathBuf>,
    /// Labelled queries: made by --make-queries, read with --index.
    #[arg(long, value_name = "Q.jsonl")]
    pub queries: Option<PathBuf>,
    /// Make labelled queries from a JSONL corpus ({"id", "text"}) and write them here.
    #[arg(
        long,
        value_name = "Q.jsonl",
        requires = "corpus",
        conflicts_with = "index"
    )]
    pub make_queries: Option<PathBuf>,
    /// The corpus the index was built from, in the same order.
    #[arg(long, value_name = "DOCS.jsonl")]
    pub corpus: Option<PathBuf>,
    /// How many leading corpus documents the index holds (sources are drawn from them; the
    /// documents after them are the queries that have no source).
    #[arg(long, default_value_t = 10_000)]
    pub indexed: usize,
    /// Queries whose source is not indexed.
    #[arg(long, default_value_t = 1000)]
    pub unindexed: usize,
    /// Spun copies per configuration, rate and kind (whole, excerpt).
    #[arg(long, default_value_t = 200)]
    pub per_cell: usize,
    /// Words in an excerpt (0: whole copies only).
    #[arg(long, default_value_t = 100)]
    pub excerpt_words: usize,
    /// Spin rates.
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.2,0.3,0.4,0.5")]
    pub rates: Vec<f64>,
    /// Spinner configurations (same, phrase, cross).
    #[arg(long, value_delimiter = ',', default_value = "same,phrase")]
    pub configs: Vec<String>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Lowest alignment score counted as a match.
    #[arg(long, default_value_t = 0.6)]
    pub min_score: f32,
    /// Candidates screened at most per query (see `unspin trace --screen`).
    #[arg(long, default_value_t = TraceOptions::default().screen)]
    pub screen: usize,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub pack: PackArg,
}

/// A progress line on stderr.
struct Progress {
    on: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(on: bool) -> Progress {
        let now = Instant::now();
        Progress {
            on,
            start: now,
            last: now,
        }
    }

    fn draw(&mut self, done: usize, errors: usize, force: bool) {
        if !self.on || (!force && self.last.elapsed().as_millis() < 200) {
            return;
        }
        self.last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r\x1b[K{done} documents, {errors} errors, {:.0} docs/s, {:.0}s",
            done as f64 / secs,
            secs
        );
    }

    fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[K");
        }
    }
}

/// Reads records and adds them to `b`, signing on `jobs` threads in chunks; returns (documents
/// added, error records).
fn add_records(
    b: &mut IndexBuilder<'_, '_>,
    canon: &Canon<'_>,
    inputs: &[PathBuf],
    records: &RecordArgs,
    skip: usize,
    limit: Option<usize>,
) -> Result<(usize, usize)> {
    let options = records.options()?;
    let files = unspin_io::expand(inputs, &options)?;
    let jobs = records.jobs()?;
    let mut progress = Progress::new(records.progress_on());
    let mut stream = unspin_io::scan(files, &options);
    let (mut added, mut errors, mut seen) = (0usize, 0usize, 0usize);
    let limit = limit.unwrap_or(usize::MAX);
    const CHUNK: usize = 4096;
    loop {
        let mut chunk: Vec<(String, String)> = Vec::with_capacity(CHUNK);
        for r in stream.by_ref() {
            match r.body {
                Ok(text) => {
                    seen += 1;
                    if seen <= skip {
                        continue;
                    }
                    chunk.push((r.id, text));
                    if chunk.len() == CHUNK || added + chunk.len() >= limit {
                        break;
                    }
                }
                Err(e) => {
                    errors += 1;
                    progress.clear();
                    eprintln!("unspin: {}: {e}", r.source);
                }
            }
        }
        if chunk.is_empty() {
            break;
        }
        let signer = b.signer();
        let per = chunk.len().div_ceil(jobs);
        let sigs: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .chunks(per)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(_, t)| IndexBuilder::sign_with(signer, canon, t))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("signing thread"))
                .collect()
        });
        for ((id, text), sig) in chunk.iter().zip(sigs) {
            b.push(id, text, sig)?;
            added += 1;
        }
        progress.draw(added, errors, false);
        if added >= limit {
            break;
        }
    }
    progress.draw(added, errors, true);
    progress.clear();
    Ok((added, errors))
}

/// The directory of an index file: its build spills there, on the disk that will hold it.
fn spill_dir(index: &Path) -> &Path {
    match index.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

pub fn index_cmd(c: IndexCommand) -> Result<u8> {
    match c {
        IndexCommand::Build {
            inputs,
            output,
            limit,
            skip,
            memory,
            records,
            params,
            pack,
        } => {
            let pack = load_pack(&pack)?;
            let canon = Canon::new(&pack);
            let t = Instant::now();
            let mut b = IndexBuilder::new(&canon, params.params())?;
            if memory > 0 {
                b = b.memory_budget(spill_dir(&output), memory << 20);
            }
            let (added, errors) = add_records(&mut b, &canon, &inputs, &records, skip, limit)?;
            let read = t.elapsed().as_secs_f64();
            let meta = b
                .write(&output)
                .with_context(|| format!("writing {}", output.display()))?;
            let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
            eprintln!(
                "indexed {added} documents ({} passages, {errors} error records) in {:.1}s ({:.0} docs/s signing, {:.1}s in all); {} is {:.1} MB",
                meta.passages,
                read,
                added as f64 / read.max(1e-9),
                t.elapsed().as_secs_f64(),
                output.display(),
                size as f64 / 1e6
            );
            Ok(if errors > 0 { 2 } else { 0 })
        }
        IndexCommand::Add {
            index,
            inputs,
            memory,
            records,
            pack,
        } => {
            let pack = load_pack(&pack)?;
            let canon = Canon::new(&pack);
            let old = Index::open(&index)
                .with_context(|| format!("cannot open index {}", index.display()))?;
            let before = old.len();
            let mut b = if memory > 0 {
                IndexBuilder::from_index_within(&canon, &old, spill_dir(&index), memory << 20)
            } else {
                IndexBuilder::from_index(&canon, &old)
            }
            .with_context(|| format!("cannot read index {}", index.display()))?;
            let (added, errors) = add_records(&mut b, &canon, &inputs, &records, 0, None)?;
            // The map of the old file stays valid after the rename (same inode).
            let meta = b
                .write(&index)
                .with_context(|| format!("writing {}", index.display()))?;
            drop(old);
            eprintln!(
                "added {added} documents ({errors} error records): {before} → {} documents",
                meta.docs
            );
            Ok(if errors > 0 { 2 } else { 0 })
        }
        IndexCommand::Stats { index, json } => {
            let t = Instant::now();
            let idx = Index::open(&index)
                .with_context(|| format!("cannot open index {}", index.display()))?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let s = idx.stats();
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer(&mut out, &s)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{}: {} documents, {} passages, {} band entries, {} bytes (verified in {ms:.0} ms)",
                    index.display(),
                    s.meta.docs,
                    s.meta.passages,
                    s.meta.entries,
                    s.bytes
                )?;
                let p = &s.meta.params;
                writeln!(
                    out,
                    "params: {}-shingles ({} for immutables), {} MinHash values per stream in {} bands of {} rows; content stream {}-shingles, {} values in {} bands of {} rows; passages of {} words every {}",
                    p.shingle,
                    p.immutable_shingle,
                    p.perms,
                    p.bands_per_stream(),
                    p.rows,
                    p.content_shingle,
                    p.content_perms,
                    p.stream(3).bands(),
                    p.content_rows,
                    p.window,
                    p.stride
                )?;
                for (name, len) in &s.sections {
                    writeln!(out, "section {name:<14} {len:>12} bytes")?;
                }
            }
            Ok(0)
        }
    }
}

#[derive(Serialize)]
struct BatchLine<'a> {
    query_id: &'a str,
    matches: Vec<TraceMatchJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn open_index(path: &Path, canon: &Canon<'_>) -> Result<Index> {
    let idx = Index::open(path).with_context(|| format!("cannot open index {}", path.display()))?;
    idx.check_pack(canon)
        .with_context(|| format!("cannot use index {}", path.display()))?;
    Ok(idx)
}

/// Traces many texts on `jobs` threads, in order.
fn trace_many(
    idx: &Index,
    canon: &Canon<'_>,
    texts: &[&str],
    opts: &TraceOptions,
    rules: Option<&Rules>,
    jobs: usize,
) -> Vec<Result<Vec<Match>, unspin::index::IndexError>> {
    // Threads take blocks of queries in turn, so that a run of costly queries (those with no
    // source are screened deepest) does not fall to one thread.
    const BLOCK: usize = 64;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let blocks = texts.len().div_ceil(BLOCK);
    let mut done: Vec<(usize, Vec<_>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..jobs.clamp(1, blocks.max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if b >= blocks {
                            break mine;
                        }
                        let part = &texts[b * BLOCK..((b + 1) * BLOCK).min(texts.len())];
                        mine.push((b, idx.trace_all(canon, part, opts, rules)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("tracing thread"))
            .collect()
    });
    done.sort_unstable_by_key(|&(b, _)| b);
    done.into_iter().flat_map(|(_, r)| r).collect()
}

pub fn trace_cmd(a: TraceArgs) -> Result<u8> {
    let pack = load_pack(&a.pack)?;
    let canon = Canon::new(&pack);
    let idx = open_index(&a.index, &canon)?;
    let opts = TraceOptions {
        top: a.top,
        verify: a.verify.max(a.top),
        screen: a.screen,
        min_score: a.min_score,
        ..TraceOptions::default()
    };
    let rules = match &a.profile.profile {
        Some(p) => Some(Rules::from_profile(
            &Profile::load(p).context("cannot use --profile")?,
        )),
        None => None,
    };
    if let Some(q) = &a.queries {
        return trace_batch(&a, q, &idx, &canon, &opts, rules.as_ref());
    }
    let text = read_input(&a.input, a.lossy)?;
    let matches = idx.trace_with(&canon, &text, &opts, rules.as_ref())?;
    let mut out = std::io::stdout().lock();
    if a.json {
        let v: Vec<_> = matches
            .iter()
            .map(|m| TraceMatchJson::new(m, true))
            .collect();
        serde_json::to_writer(&mut out, &serde_json::json!({ "matches": v }))?;
        writeln!(out)?;
    } else if matches.is_empty() {
        writeln!(out, "no source found")?;
    } else {
        writeln!(out, "score   source")?;
        for m in &matches {
            let al = &m.alignment;
            let conflicts = match al.conflicts {
                0 => String::new(),
                n => format!(", {n} names or numbers differ"),
            };
            writeln!(
                out,
                "{:.3}   {}  ({} of {} words equal, {} substituted, {} unexplained{conflicts})",
                m.score, m.id, al.matched, al.words, al.explained, al.unexplained
            )?;
        }
        if a.align {
            for m in &matches {
                let source = idx.doc_text(m.doc)?;
                writeln!(out)?;
                write_side_by_side(&mut out, &text, source, m)?;
            }
        }
    }
    out.flush()?;
    Ok(if matches.is_empty() { 1 } else { 0 })
}

fn trace_batch(
    a: &TraceArgs,
    path: &Path,
    idx: &Index,
    canon: &Canon<'_>,
    opts: &TraceOptions,
    rules: Option<&Rules>,
) -> Result<u8> {
    let mut options = InputOptions::default();
    options.format = Some(Format::Jsonl);
    options.field = a.field.clone();
    options.id_field = a.id_field.clone();
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut records = unspin_io::records_in_file(path, 0, &options);
    let (mut n, mut found, mut failed) = (0usize, 0usize, 0usize);
    let t = Instant::now();
    loop {
        let chunk: Vec<unspin_io::Record> = records.by_ref().take(2048).collect();
        if chunk.is_empty() {
            break;
        }
        let texts: Vec<&str> = chunk.iter().map(|r| r.text().unwrap_or("")).collect();
        let results = trace_many(idx, canon, &texts, opts, rules, jobs);
        for (r, res) in chunk.iter().zip(results) {
            n += 1;
            let line = match (&r.body, res) {
                (Err(e), _) => {
                    failed += 1;
                    BatchLine {
                        query_id: &r.id,
                        matches: Vec::new(),
                        error: Some(format!("{}: {e}", r.source)),
                    }
                }
                (Ok(_), Err(e)) => {
                    failed += 1;
                    BatchLine {
                        query_id: &r.id,
                        matches: Vec::new(),
                        error: Some(e.to_string()),
                    }
                }
                (Ok(_), Ok(ms)) => {
                    found += usize::from(!ms.is_empty());
                    let line = BatchLine {
                        query_id: &r.id,
                        matches: ms.iter().map(|m| TraceMatchJson::new(m, a.json)).collect(),
                        error: None,
                    };
                    serde_json::to_writer(&mut out, &line)?;
                    out.write_all(b"\n")?;
                    continue;
                }
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{n} queries, {found} with a source, {failed} errors, {:.1}s ({:.0} queries/s)",
        secs,
        n as f64 / secs.max(1e-9)
    );
    Ok(if failed > 0 {
        2
    } else if found > 0 {
        0
    } else {
        1
    })
}

/// Spun text and source in two columns, aligned at the edits; every substitution marked, and
/// listed as "source → spun" after the table.
fn write_side_by_side(out: &mut impl Write, spun: &str, source: &str, m: &Match) -> Result<()> {
    const COL: usize = 48;
    let al = &m.alignment;
    writeln!(out, "── {} (score {:.3}) ──", m.id, m.score)?;
    writeln!(out, "{:<COL$} │ source", "spun")?;
    let clean = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut pieces: Vec<(String, String)> = Vec::new();
    let (mut at, mut sat) = (0usize, al.source_start);
    for e in &al.edits {
        let (qs, ss) = (
            if e.kind == EditKind::Deletion {
                at
            } else {
                e.start
            },
            if e.kind == EditKind::Insertion {
                sat
            } else {
                e.source_start
            },
        );
        if qs >= at && ss >= sat {
            pieces.push((clean(&spun[at..qs]), clean(&source[sat..ss])));
        }
        let mark = if e.explained { "" } else { "?" };
        let l = if e.spun.is_empty() {
            String::new()
        } else {
            format!("[{mark}{}]", clean(&e.spun))
        };
        let r = if e.source.is_empty() {
            String::new()
        } else {
            format!("[{mark}{}]", clean(&e.source))
        };
        pieces.push((l, r));
        if e.kind != EditKind::Deletion {
            at = e.end;
        }
        if e.kind != EditKind::Insertion {
            sat = e.source_end;
        }
    }
    pieces.push((
        clean(&spun[at.min(spun.len())..]),
        clean(&source[sat.min(al.source_end)..al.source_end]),
    ));
    // Fill rows word by word so that the two sides stay level.
    let (mut left, mut right) = (String::new(), String::new());
    for (l, r) in pieces {
        let lw: Vec<&str> = l.split(' ').filter(|w| !w.is_empty()).collect();
        let rw: Vec<&str> = r.split(' ').filter(|w| !w.is_empty()).collect();
        for k in 0..lw.len().max(rw.len()) {
            let (a, b) = (
                lw.get(k).copied().unwrap_or(""),
                rw.get(k).copied().unwrap_or(""),
            );
            if left.chars().count() + a.chars().count() + 1 > COL
                || right.chars().count() + b.chars().count() + 1 > COL
            {
                writeln!(out, "{left:<COL$} │ {right}")?;
                left.clear();
                right.clear();
            }
            for (side, w) in [(&mut left, a), (&mut right, b)] {
                if !w.is_empty() {
                    if !side.is_empty() {
                        side.push(' ');
                    }
                    side.push_str(w);
                }
            }
        }
    }
    if !left.is_empty() || !right.is_empty() {
        writeln!(out, "{left:<COL$} │ {right}")?;
    }
    let subs: Vec<String> = al
        .edits
        .iter()
        .filter(|e| e.kind == EditKind::Substitution)
        .map(|e| {
            format!(
                "{} → {}{}",
                clean(&e.source),
                clean(&e.spun),
                if e.explained { "" } else { " (?)" }
            )
        })
        .collect();
    writeln!(
        out,
        "substitutions ({}; ? = no thesaurus relation): {}",
        subs.len(),
        subs.join(", ")
    )?;
    Ok(())
}

fn read_corpus(path: &Path, n: usize) -> Result<Vec<(String, String)>> {
    let f = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        if out.len() >= n {
            break;
        }
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        let (Some(id), Some(text)) = (v["id"].as_str(), v["text"].as_str()) else {
            bail!("{}:{}: needs \"id\" and \"text\"", path.display(), i + 1);
        };
        out.push((id.to_string(), text.to_string()));
    }
    Ok(out)
}

pub fn eval_trace(a: EvalTraceArgs) -> Result<u8> {
    let pack = load_pack(&a.pack)?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Some(out) = &a.make_queries {
        let corpus = a.corpus.as_ref().expect("clap requires --corpus");
        let docs = read_corpus(corpus, a.indexed + a.unindexed)?;
        if docs.len() < a.indexed + a.unindexed {
            bail!(
                "{} has {} documents; --indexed {} and --unindexed {} need more",
                corpus.display(),
                docs.len(),
                a.indexed,
                a.unindexed
            );
        }
        let t = Instant::now();
        let q = make_queries(
            &pack,
            &docs[..a.indexed],
            &docs[a.indexed..],
            &a.configs,
            &a.rates,
            a.per_cell,
            a.excerpt_words,
            a.seed,
        );
        let mut w = BufWriter::new(File::create(out)?);
        for q in &q {
            serde_json::to_writer(&mut w, q)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        eprintln!(
            "wrote {} queries to {} in {:.1}s",
            q.len(),
            out.display(),
            t.elapsed().as_secs_f64()
        );
        return Ok(0);
    }
    let (Some(index), Some(qpath)) = (&a.index, &a.queries) else {
        bail!("give --index and --queries, or --make-queries and --corpus");
    };
    let canon = Canon::new(&pack);
    let idx = open_index(index, &canon)?;
    let queries: Vec<EvalQuery> = BufReader::new(File::open(qpath)?)
        .lines()
        .map(|l| Ok(serde_json::from_str(&l?)?))
        .collect::<Result<_>>()?;
    let opts = TraceOptions {
        min_score: a.min_score,
        screen: a.screen,
        ..TraceOptions::default()
    };
    let texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    let t = Instant::now();
    let results = trace_many(&idx, &canon, &texts, &opts, None, jobs);
    let secs = t.elapsed().as_secs_f64();
    let mut tally = Tally::default();
    for (q, r) in queries.iter().zip(results) {
        let ids: Vec<String> = r?.into_iter().map(|m| m.id).collect();
        tally.add(q, &ids);
    }
    let qps = queries.len() as f64 / secs.max(1e-9);
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({
                "index": index, "documents": idx.len(), "queries": queries.len(),
                "threads": jobs, "queries_per_s": qps, "tally": tally,
            }),
        )?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(
        out,
        "{} documents indexed; {} queries on {jobs} threads in {secs:.2}s ({qps:.0} queries/s)",
        idx.len(),
        queries.len()
    )?;
    writeln!(
        out,
        "| config | rate | copy | queries | recall@1 | source found | wrong first |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for c in &tally.cells {
        writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | {:.3} | {} |",
            c.config,
            c.rate,
            if c.excerpt { "excerpt" } else { "whole" },
            c.queries,
            c.top1 as f64 / c.queries.max(1) as f64,
            c.found as f64 / c.queries.max(1) as f64,
            c.wrong
        )?;
    }
    writeln!(
        out,
        "false matches: {} of {} queries whose source is not indexed ({:.2} %)",
        tally.false_matches,
        tally.unindexed,
        100.0 * tally.false_matches as f64 / tally.unindexed.max(1) as f64
    )?;
    Ok(0)
}
