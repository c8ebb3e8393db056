//! The HTML report of `unspin scan --report`: what a whole corpus looks like, in one
//! self-contained file (inline CSS and SVG, no script, nothing fetched).
//!
//! The scan's writer feeds every record to a [`Report`] in input order, as a [`DocSummary`]
//! that a worker made from the record's analysis. Everything the report keeps is bounded
//! whatever the corpus size: a fixed histogram, the `top` highest-ranked documents (each with
//! an [`Excerpt`] of at most [`EXCERPT_MARKS`] marks), the substitutions of flagged documents
//! (at most [`MAX_SUBSTITUTIONS`] distinct pairs; when the table is full the rarest are
//! dropped, so the tail's counts are lower bounds), one row per fingerprint query that hit
//! (bounded by the list), and the first [`MAX_ERRORS_SHOWN`] errors.
//!
//! Everything taken from the input (ids, paths, text, spans, queries, error reasons) goes
//! through [`esc`].

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The report's style sheet, inlined into the page.
const CSS: &str = include_str!("../assets/report.css");

/// Marks (spans and fingerprint hits) kept in a document's excerpt.
pub const EXCERPT_MARKS: usize = 60;
/// A text up to this long is shown whole; a longer one as windows around its marks.
const WHOLE_TEXT: usize = 12_000;
/// Context kept on each side of a mark in a long text's excerpt.
const CONTEXT: usize = 240;
/// Distinct substitution pairs counted at most.
pub const MAX_SUBSTITUTIONS: usize = 100_000;
/// Errors listed one by one in the report (all are counted).
pub const MAX_ERRORS_SHOWN: usize = 20;
/// Rows of the substitution table.
const SUBSTITUTION_ROWS: usize = 60;
/// Rows of the fingerprint table.
const FINGERPRINT_ROWS: usize = 200;
/// Bins of the score histogram.
const SCORE_BINS: usize = 20;
/// Bins of the hits-per-document histogram (the last is "or more").
const HIT_BINS: usize = 11;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than line breaks and tabs are not text: show them.
            c if c.is_control() && c != '\n' && c != '\t' && c != '\r' => {
                out.push('\u{fffd}');
            }
            c => out.push(c),
        }
    }
    out
}

/// What a mark in a document stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkKind {
    /// An evidence span of the model, with its likely original.
    Spun { original: String, confidence: f32 },
    /// A known tortured phrase of the fingerprint list.
    Fingerprint {
        expected: Option<String>,
        query: String,
    },
}

/// A highlighted stretch of a document: byte offsets into its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub start: usize,
    pub end: usize,
    pub kind: MarkKind,
}

/// One piece of an excerpt.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Mark {
        text: String,
        kind: MarkKind,
    },
    /// Text left out.
    Gap,
}

/// The part of a document the report shows: the whole text if it is short, else windows
/// around its first [`EXCERPT_MARKS`] marks; a pure function of the text and the marks, so a
/// resumed run shows the same excerpt as an uninterrupted one.
#[derive(Debug, Clone, PartialEq)]
pub struct Excerpt(Vec<Piece>);

fn floor_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl Excerpt {
    /// The excerpt of `text` with `marks` (any order; a mark that overlaps an earlier one, or
    /// that does not slice the text, is left out; fingerprint hits win over model spans at the
    /// same place).
    pub fn new(text: &str, marks: &[Mark]) -> Excerpt {
        let mut sorted: Vec<&Mark> = marks
            .iter()
            .filter(|m| {
                m.start < m.end
                    && m.end <= text.len()
                    && text.is_char_boundary(m.start)
                    && text.is_char_boundary(m.end)
            })
            .collect();
        sorted.sort_by_key(|m| (m.start, matches!(m.kind, MarkKind::Spun { .. }), m.end));
        let mut kept: Vec<&Mark> = Vec::new();
        for m in sorted {
            if kept.last().is_some_and(|k| m.start < k.end) {
                continue;
            }
            kept.push(m);
            if kept.len() == EXCERPT_MARKS {
                break;
            }
        }
        // Windows of text to show, merged where they touch.
        let mut windows: Vec<(usize, usize)> = Vec::new();
        if text.len() <= WHOLE_TEXT {
            windows.push((0, text.len()));
        } else if kept.is_empty() {
            windows.push((0, floor_char(text, 2 * CONTEXT)));
        } else {
            for m in &kept {
                let a = floor_char(text, m.start.saturating_sub(CONTEXT));
                let b = ceil_char(text, m.end + CONTEXT);
                match windows.last_mut() {
                    Some(w) if a <= w.1 => w.1 = w.1.max(b),
                    _ => windows.push((a, b)),
                }
            }
        }
        let mut pieces = Vec::new();
        let mut marks = kept.into_iter().peekable();
        let mut at = 0;
        for (a, b) in windows {
            if a > at {
                pieces.push(Piece::Gap);
            }
            let mut pos = a;
            while let Some(m) = marks.next_if(|m| m.end <= b) {
                if m.start > pos {
                    pieces.push(Piece::Text(text[pos..m.start].to_string()));
                }
                pieces.push(Piece::Mark {
                    text: text[m.start..m.end].to_string(),
                    kind: m.kind.clone(),
                });
                pos = m.end;
            }
            if b > pos {
                pieces.push(Piece::Text(text[pos..b].to_string()));
            }
            at = b;
        }
        if at < text.len() {
            pieces.push(Piece::Gap);
        }
        Excerpt(pieces)
    }

    fn html(&self, out: &mut String) {
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(&esc(t)),
                Piece::Gap => {
                    out.push_str("<span class=\"gap\" title=\"text left out\"> … </span>")
                }
                Piece::Mark { text, kind } => match kind {
                    MarkKind::Spun {
                        original,
                        confidence,
                    } => {
                        let _ = write!(
                            out,
                            "<mark class=\"spun\" data-original=\"{o}\" title=\"likely original: {o} (confidence {confidence:.2})\">{t}</mark>",
                            o = esc(original),
                            t = esc(text)
                        );
                    }
                    MarkKind::Fingerprint { expected, query } => {
                        let e = expected.as_deref().unwrap_or("?");
                        let _ = write!(
                            out,
                            "<mark class=\"fingerprint\" data-original=\"{e}\" title=\"known tortured phrase for: {e} (fingerprint {q})\">{t}</mark>",
                            e = esc(e),
                            q = esc(query),
                            t = esc(text)
                        );
                    }
                },
            }
        }
    }
}

/// A fingerprint hit as the report counts it: by the list's query.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FingerprintKey {
    pub query: String,
    pub tortured: String,
    pub expected: Option<String>,
}

/// The kind of an error, for the report's table: the reason's first clause, after the path an
/// input that could not be expanded starts its reason with.
fn error_kind(path: &str, reason: &str) -> String {
    let bare = reason
        .strip_prefix(path)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(reason);
    bare.split(": ").next().unwrap_or(bare).to_string()
}

/// Whether a document of this rank can still enter the top list whose bar is `bar`. The bar
/// only rises, so a worker that reads an old bar at worst makes an excerpt that is not used.
pub fn may_enter(bar: &AtomicU64, rank: u64) -> bool {
    rank >= bar.load(Ordering::Relaxed)
}

/// What the report takes from one record.
#[derive(Debug, Clone)]
pub enum DocSummary {
    /// A record that could not be read.
    Error {
        id: String,
        /// The file, or the input that could not be expanded.
        path: String,
        /// Where the record came from, as `path:line (record n)` or `path@offset (record n)`.
        source: String,
        reason: String,
    },
    /// A record that was scored.
    Doc(Box<Doc>),
}

/// A scored record, as the report sees it.
#[derive(Debug, Clone)]
pub struct Doc {
    pub id: String,
    /// Where it came from, as `path:line (record n)` or `path@offset (record n)`.
    pub source: String,
    /// The run's file index and the record's index in its file, to read it again.
    pub ordinal: (usize, u64),
    /// `None` with `--fingerprints-only`.
    pub score: Option<f32>,
    pub flagged: bool,
    pub spans: usize,
    /// (spun, original) of each evidence span, lowercased; counted for flagged documents only.
    pub substitutions: Vec<(String, String)>,
    pub fingerprints: Vec<FingerprintKey>,
    /// The marks to build an excerpt from, when the excerpt is not made yet.
    pub marks: Vec<Mark>,
    pub excerpt: Option<Excerpt>,
}

/// The order of documents in the report: score first, then fingerprint hits. Larger is
/// higher; a score in [0, 1] orders like its bits.
pub fn rank(score: Option<f32>, hits: usize) -> u64 {
    let s = score.map_or(0, |s| u64::from(s.clamp(0.0, 1.0).to_bits()));
    (s << 32) | hits.min(u32::MAX as usize) as u64
}

impl Doc {
    pub fn rank(&self) -> u64 {
        rank(self.score, self.fingerprints.len())
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct SubCount {
    count: u64,
    docs: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct FpCount {
    hits: u64,
    docs: u64,
}

/// Everything a report shows, accumulated record by record.
#[derive(Debug)]
pub struct Report {
    top_n: usize,
    records: u64,
    errors: u64,
    flagged: u64,
    scored: u64,
    score_bins: [u64; SCORE_BINS],
    hit_bins: [u64; HIT_BINS],
    /// (rank, seq, doc), best first; ties go to the earlier record.
    top: Vec<(u64, u64, Doc)>,
    /// The rank a document needs to enter `top` (0 until it is full): workers read it to make
    /// excerpts only for documents that can enter.
    bar: Arc<AtomicU64>,
    substitutions: HashMap<(String, String), SubCount>,
    /// Substitutions with a count at or below this were dropped to keep the table bounded.
    dropped_below: u64,
    fingerprints: HashMap<FingerprintKey, FpCount>,
    error_kinds: BTreeMap<String, u64>,
    first_errors: Vec<(String, String, String)>,
}

/// What the report says about the run besides the records.
#[derive(Debug)]
pub struct RunInfo {
    pub inputs: Vec<String>,
    pub files: usize,
    pub threshold: f32,
    /// "the model and the fingerprint list", "the model", "the fingerprint list alone".
    pub scored_by: String,
    pub fingerprint_list: Option<String>,
    pub elapsed: String,
    pub resumed_after: u64,
}

impl Report {
    pub fn new(top_n: usize) -> Report {
        Report {
            top_n,
            records: 0,
            errors: 0,
            flagged: 0,
            scored: 0,
            score_bins: [0; SCORE_BINS],
            hit_bins: [0; HIT_BINS],
            top: Vec::new(),
            bar: Arc::new(AtomicU64::new(0)),
            substitutions: HashMap::new(),
            dropped_below: 0,
            fingerprints: HashMap::new(),
            error_kinds: BTreeMap::new(),
            first_errors: Vec::new(),
        }
    }

    /// The bar a document's rank must reach to enter the top list, shared with the workers
    /// (see [`may_enter`]).
    pub fn bar(&self) -> Arc<AtomicU64> {
        self.bar.clone()
    }

    fn may_enter(&self, rank: u64) -> bool {
        may_enter(&self.bar, rank)
    }

    /// Adds the record with sequence number `seq` (records must come in input order).
    pub fn add(&mut self, seq: u64, summary: DocSummary) {
        self.records += 1;
        let doc = match summary {
            DocSummary::Error {
                id,
                path,
                source,
                reason,
            } => {
                self.errors += 1;
                let kind = error_kind(&path, &reason);
                *self.error_kinds.entry(kind).or_default() += 1;
                if self.first_errors.len() < MAX_ERRORS_SHOWN {
                    self.first_errors.push((id, source, reason));
                }
                return;
            }
            DocSummary::Doc(d) => *d,
        };
        if let Some(s) = doc.score {
            self.scored += 1;
            let bin = ((s.clamp(0.0, 1.0) * SCORE_BINS as f32) as usize).min(SCORE_BINS - 1);
            self.score_bins[bin] += 1;
        }
        self.hit_bins[doc.fingerprints.len().min(HIT_BINS - 1)] += 1;
        if doc.flagged {
            self.flagged += 1;
            let mut seen: Vec<&(String, String)> = Vec::new();
            for pair in &doc.substitutions {
                let first = !seen.contains(&pair);
                if first {
                    seen.push(pair);
                }
                match self.substitutions.get_mut(pair) {
                    Some(c) => {
                        c.count += 1;
                        c.docs += u64::from(first);
                    }
                    None => {
                        self.substitutions
                            .insert(pair.clone(), SubCount { count: 1, docs: 1 });
                    }
                }
            }
            if self.substitutions.len() > MAX_SUBSTITUTIONS {
                self.prune_substitutions();
            }
        }
        let mut seen: Vec<&FingerprintKey> = Vec::new();
        for k in &doc.fingerprints {
            let first = !seen.contains(&k);
            if first {
                seen.push(k);
            }
            let c = self.fingerprints.entry(k.clone()).or_default();
            c.hits += 1;
            c.docs += u64::from(first);
        }
        let r = doc.rank();
        if self.top_n == 0 || !self.may_enter(r) {
            return;
        }
        if self.top.len() == self.top_n {
            // Ties go to the earlier record, which is already in.
            if r <= self.top.last().map_or(0, |t| t.0) {
                return;
            }
            self.top.pop();
        }
        let mut doc = doc;
        if doc.excerpt.is_some() {
            doc.marks = Vec::new();
        }
        let at = self
            .top
            .iter()
            .position(|t| t.0 < r)
            .unwrap_or(self.top.len());
        self.top.insert(at, (r, seq, doc));
        if self.top.len() == self.top_n {
            let bar = self.top.last().map_or(0, |t| t.0).saturating_add(1);
            self.bar.store(bar, Ordering::Relaxed);
        }
    }

    /// Drops the rarest substitutions until the table is at most three quarters full.
    fn prune_substitutions(&mut self) {
        while self.substitutions.len() > MAX_SUBSTITUTIONS * 3 / 4 {
            self.dropped_below += 1;
            let floor = self.dropped_below;
            self.substitutions.retain(|_, c| c.count > floor);
        }
    }

    /// The top documents that have no excerpt yet (from the output of an interrupted run):
    /// their ordinals and marks, for the caller to read their text again.
    pub fn missing_excerpts(&self) -> Vec<((usize, u64), Vec<Mark>)> {
        self.top
            .iter()
            .filter(|t| t.2.excerpt.is_none())
            .map(|t| (t.2.ordinal, t.2.marks.clone()))
            .collect()
    }

    /// Sets the excerpt of the top document read from `ordinal`.
    pub fn set_excerpt(&mut self, ordinal: (usize, u64), excerpt: Excerpt) {
        for t in &mut self.top {
            if t.2.ordinal == ordinal {
                t.2.excerpt = Some(excerpt.clone());
                t.2.marks = Vec::new();
            }
        }
    }

    /// The whole page.
    pub fn render(&self, info: &RunInfo) -> String {
        let mut h = String::with_capacity(64 * 1024);
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        h.push_str("<title>unspin scan report</title>\n<style>\n");
        h.push_str(CSS);
        h.push_str("</style>\n</head>\n<body>\n<header>\n<h1>unspin scan report</h1>\n");
        let inputs: Vec<String> = info.inputs.iter().map(|i| esc(i)).collect();
        let _ = writeln!(
            h,
            "<p class=\"summary\" id=\"summary\"><strong>{}</strong> records from {} files (<code>{}</code>): <strong class=\"flagged\">{}</strong> flagged at threshold {}, <strong class=\"errors\">{}</strong> could not be read. Scored by {}{}.</p>",
            group(self.records),
            group(info.files as u64),
            inputs.join("</code> <code>"),
            group(self.flagged),
            info.threshold,
            group(self.errors),
            esc(&info.scored_by),
            info.fingerprint_list
                .as_deref()
                .map(|l| format!(" (fingerprint list {})", esc(l)))
                .unwrap_or_default()
        );
        let resumed = if info.resumed_after > 0 {
            format!(
                "; resumed after {} records of an interrupted run",
                group(info.resumed_after)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<p id=\"timing\">Generated by unspin {} in {}{resumed}.</p>",
            env!("CARGO_PKG_VERSION"),
            esc(&info.elapsed)
        );
        h.push_str("<nav><a href=\"#distribution\">Distribution</a> <a href=\"#flagged\">Most flagged documents</a> <a href=\"#substitutions\">Substitutions</a> <a href=\"#fingerprints\">Fingerprint hits</a> <a href=\"#errors\">Errors</a></nav>\n</header>\n<main>\n");
        self.render_distribution(&mut h, info);
        self.render_top(&mut h, info);
        self.render_substitutions(&mut h);
        self.render_fingerprints(&mut h);
        self.render_errors(&mut h);
        h.push_str("</main>\n</body>\n</html>\n");
        h
    }

    fn render_distribution(&self, h: &mut String, info: &RunInfo) {
        h.push_str("<section id=\"distribution\">\n<h2>Distribution</h2>\n");
        if self.scored > 0 {
            let _ = writeln!(
                h,
                "<p>Scores of the {} scored documents (probability of being spun), {} bins; bars at or above the threshold ({}) are flagged. Log scale.</p>",
                group(self.scored),
                SCORE_BINS,
                info.threshold
            );
            let bins: Vec<(String, u64, bool)> = (0..SCORE_BINS)
                .map(|i| {
                    let lo = i as f32 / SCORE_BINS as f32;
                    let hi = (i + 1) as f32 / SCORE_BINS as f32;
                    (
                        format!("{lo:.2}–{hi:.2}"),
                        self.score_bins[i],
                        hi > info.threshold,
                    )
                })
                .collect();
            histogram(h, &bins, "score", Some(info.threshold));
        } else {
            let _ = writeln!(
                h,
                "<p>No model scores (fingerprint list alone): fingerprint hits per document, over {} documents. Log scale.</p>",
                group(self.records - self.errors)
            );
            let bins: Vec<(String, u64, bool)> = (0..HIT_BINS)
                .map(|i| {
                    let label = if i == HIT_BINS - 1 {
                        format!("{i}+")
                    } else {
                        i.to_string()
                    };
                    (label, self.hit_bins[i], i > 0)
                })
                .collect();
            histogram(h, &bins, "fingerprint hits", None);
        }
        h.push_str("</section>\n");
    }

    fn render_top(&self, h: &mut String, info: &RunInfo) {
        h.push_str("<section id=\"flagged\">\n<h2>Most flagged documents</h2>\n");
        if self.top.is_empty() {
            h.push_str("<p>No documents.</p>\n");
        } else {
            let _ = writeln!(
                h,
                "<p>The {} highest-scoring documents{}. <mark class=\"spun\">Spans</mark> the model finds spun show their likely original on hover; <mark class=\"fingerprint\">known tortured phrases</mark> show the phrase they replaced.</p>",
                self.top.len(),
                if self.scored > 0 { "" } else { " (by fingerprint hits)" }
            );
        }
        for (i, (_, _, d)) in self.top.iter().enumerate() {
            let class = if d.flagged { "doc flagged" } else { "doc" };
            let _ = writeln!(h, "<article class=\"{class}\" id=\"doc-{}\">", i + 1);
            let score = d
                .score
                .map_or_else(|| "—".to_string(), |s| format!("{s:.3}"));
            let _ = writeln!(
                h,
                "<h3><span class=\"rank\">{}.</span> <span class=\"doc-id\">{}</span> <span class=\"score{}\" title=\"probability of being spun (threshold {})\">{score}</span>{}</h3>",
                i + 1,
                esc(&d.id),
                if d.flagged { " hot" } else { "" },
                info.threshold,
                if d.flagged { " <span class=\"badge\">flagged</span>" } else { "" }
            );
            let _ = writeln!(
                h,
                "<p class=\"meta\">{} · {} evidence spans · {} fingerprint hits</p>",
                esc(&d.source),
                group(d.spans as u64),
                group(d.fingerprints.len() as u64)
            );
            h.push_str("<div class=\"text\">");
            match &d.excerpt {
                Some(e) => e.html(h),
                None => h.push_str("<em>(text not available)</em>"),
            }
            h.push_str("</div>\n</article>\n");
        }
        h.push_str("</section>\n");
    }

    fn render_substitutions(&self, h: &mut String) {
        h.push_str("<section id=\"substitutions\">\n<h2>Most frequent substitutions</h2>\n");
        let mut rows: Vec<(&(String, String), &SubCount)> = self.substitutions.iter().collect();
        rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(b.0)));
        if rows.is_empty() {
            h.push_str("<p>No evidence spans in flagged documents.</p>\n</section>\n");
            return;
        }
        let _ = writeln!(
            h,
            "<p>Spun word → likely original, over the evidence spans of the {} flagged documents: a spinner's signature.{}</p>",
            group(self.flagged),
            if self.dropped_below > 0 {
                format!(
                    " The table was pruned to stay bounded: pairs seen {} times or fewer before pruning were dropped, so counts in the tail are lower bounds.",
                    self.dropped_below
                )
            } else {
                String::new()
            }
        );
        h.push_str("<table class=\"subs\">\n<thead><tr><th>spun</th><th></th><th>original</th><th>occurrences</th><th>documents</th></tr></thead>\n<tbody>\n");
        for ((spun, orig), c) in rows.into_iter().take(SUBSTITUTION_ROWS) {
            let _ = writeln!(
                h,
                "<tr><td class=\"spun\">{}</td><td>→</td><td class=\"original\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(spun),
                esc(orig),
                group(c.count),
                group(c.docs)
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }

    fn render_fingerprints(&self, h: &mut String) {
        h.push_str("<section id=\"fingerprints\">\n<h2>Fingerprint hits by phrase</h2>\n");
        let mut rows: Vec<(&FingerprintKey, &FpCount)> = self.fingerprints.iter().collect();
        rows.sort_by(|a, b| b.1.hits.cmp(&a.1.hits).then_with(|| a.0.cmp(b.0)));
        if rows.is_empty() {
            h.push_str("<p>No known tortured phrase found.</p>\n</section>\n");
            return;
        }
        let _ = writeln!(
            h,
            "<p>{} phrases of the list found; the {} most frequent:</p>",
            group(rows.len() as u64),
            rows.len().min(FINGERPRINT_ROWS)
        );
        h.push_str("<table class=\"fps\">\n<thead><tr><th>tortured phrase</th><th>expected</th><th>hits</th><th>documents</th><th>query</th></tr></thead>\n<tbody>\n");
        for (k, c) in rows.into_iter().take(FINGERPRINT_ROWS) {
            let _ = writeln!(
                h,
                "<tr><td class=\"spun\">{}</td><td class=\"original\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"query\">{}</td></tr>",
                esc(&k.tortured),
                esc(k.expected.as_deref().unwrap_or("?")),
                group(c.hits),
                group(c.docs),
                esc(&k.query)
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }

    fn render_errors(&self, h: &mut String) {
        h.push_str("<section id=\"errors\">\n<h2>Errors</h2>\n");
        if self.errors == 0 {
            h.push_str("<p>Every record was read.</p>\n</section>\n");
            return;
        }
        let _ = writeln!(
            h,
            "<p>{} records could not be read (each is an error record in the output):</p>\n<table class=\"errors\">\n<thead><tr><th>reason</th><th>records</th></tr></thead>\n<tbody>",
            group(self.errors)
        );
        for (kind, n) in &self.error_kinds {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(kind),
                group(*n)
            );
        }
        h.push_str("</tbody>\n</table>\n<ul class=\"error-list\">\n");
        for (id, source, reason) in &self.first_errors {
            let _ = writeln!(
                h,
                "<li><code>{}</code> ({}): {}</li>",
                esc(id),
                esc(source),
                esc(reason)
            );
        }
        h.push_str("</ul>\n</section>\n");
    }
}

/// An inline SVG bar chart with a log scale: `bins` are (label, count, highlighted).
fn histogram(h: &mut String, bins: &[(String, u64, bool)], x_label: &str, threshold: Option<f32>) {
    let (w, ht) = (720.0f64, 260.0f64);
    let (left, right, top, bottom) = (56.0, 12.0, 16.0, 48.0);
    let plot_w = w - left - right;
    let plot_h = ht - top - bottom;
    let max = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let scale = |n: u64| ((n as f64) + 1.0).log10() / ((max as f64) + 1.0).log10();
    let bar_w = plot_w / bins.len() as f64;
    let _ = writeln!(
        h,
        "<svg id=\"histogram\" class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {ht}\" width=\"{w}\" height=\"{ht}\" role=\"img\" aria-label=\"histogram of {x_label}\">"
    );
    // Axes and decade grid lines.
    let mut decade = 1u64;
    while decade <= max {
        let y = top + plot_h * (1.0 - scale(decade));
        let _ = writeln!(
            h,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0,
            group(decade)
        );
        decade = decade.saturating_mul(10);
        if decade == u64::MAX {
            break;
        }
    }
    for (i, (label, n, hot)) in bins.iter().enumerate() {
        let x = left + bar_w * i as f64;
        let bh = plot_h * scale(*n);
        let y = top + plot_h - bh;
        let class = if *hot { "bar hot" } else { "bar" };
        let _ = writeln!(
            h,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" data-count=\"{n}\"><title>{}: {} documents</title></rect>",
            x + 1.0,
            (bar_w - 2.0).max(1.0),
            esc(label),
            group(*n)
        );
        if *n > 0 {
            let _ = writeln!(
                h,
                "<text class=\"count\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x + bar_w / 2.0,
                y - 3.0,
                short(*n)
            );
        }
        let every = if bins.len() > 12 { 4 } else { 1 };
        if i % every == 0 {
            let first = label.split('–').next().unwrap_or(label);
            let _ = writeln!(
                h,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                if every == 1 { x + bar_w / 2.0 } else { x },
                top + plot_h + 16.0,
                esc(first)
            );
        }
    }
    if bins.len() > 12 {
        let _ = writeln!(
            h,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">1.00</text>",
            left + plot_w,
            top + plot_h + 16.0
        );
    }
    if let Some(t) = threshold {
        let x = left + plot_w * f64::from(t.clamp(0.0, 1.0));
        let _ = writeln!(
            h,
            "<line class=\"threshold\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{top}\" y2=\"{:.1}\"><title>threshold {t}</title></line>",
            top + plot_h
        );
    }
    let _ = writeln!(
        h,
        "<line class=\"axis\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><line class=\"axis\" x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{:.1}\"/>",
        left + plot_w,
        top + plot_h,
        top + plot_h,
        top + plot_h
    );
    let _ = writeln!(
        h,
        "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text class=\"label\" transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">documents</text>",
        left + plot_w / 2.0,
        ht - 8.0,
        esc(x_label),
        top + plot_h / 2.0
    );
    h.push_str("</svg>\n");
}

/// 1234567 → "1,234,567".
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let head = digits.len() % 3;
    let mut out = String::from(&digits[..head]);
    for chunk in digits.as_bytes()[head..].chunks(3) {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
    }
    out
}

/// A compact count for a bar label: 950, 1.2k, 34k, 1.2M.
fn short(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=9_999 => format!("{:.1}k", n as f64 / 1e3),
        10_000..=999_999 => format!("{}k", n / 1_000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spun(start: usize, end: usize, original: &str) -> Mark {
        Mark {
            start,
            end,
            kind: MarkKind::Spun {
                original: original.into(),
                confidence: 0.9,
            },
        }
    }

    fn html(e: &Excerpt) -> String {
        let mut s = String::new();
        e.html(&mut s);
        s
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("a\u{0}b\nc"), "a\u{fffd}b\nc");
    }

    #[test]
    fn short_texts_are_whole_with_marks_escaped() {
        let text = "The <b>troopers</b> fled";
        let e = Excerpt::new(text, &[spun(7, 15, "soldiers<")]);
        let s = html(&e);
        assert!(s.starts_with("The &lt;b&gt;<mark class=\"spun\""), "{s}");
        assert!(s.contains("likely original: soldiers&lt;"), "{s}");
        assert!(s.ends_with("&lt;/b&gt; fled"), "{s}");
        assert!(!s.contains("gap"));
    }

    #[test]
    fn overlapping_and_bad_marks_are_left_out() {
        let text = "héllo world again";
        let fp = Mark {
            start: 0,
            end: 12,
            kind: MarkKind::Fingerprint {
                expected: Some("x".into()),
                query: "\"q\"".into(),
            },
        };
        // Inside a char, out of range, overlapping: all dropped.
        let e = Excerpt::new(
            text,
            &[spun(0, 6, "a"), fp, spun(2, 4, "b"), spun(13, 99, "c")],
        );
        let s = html(&e);
        assert_eq!(s.matches("<mark").count(), 1, "{s}");
        assert!(s.contains("class=\"fingerprint\""), "{s}");
    }

    #[test]
    fn long_texts_are_windows_around_marks() {
        let text = "word ".repeat(10_000);
        let at = 25_000;
        let e = Excerpt::new(&text, &[spun(at, at + 4, "x")]);
        let s = html(&e);
        assert_eq!(s.matches("class=\"gap\"").count(), 2, "{}", s.len());
        assert!(s.len() < 2 * CONTEXT + 400, "{}", s.len());
        // No marks: the beginning.
        let s = html(&Excerpt::new(&text, &[]));
        assert!(s.starts_with("word word"));
        assert_eq!(s.matches("class=\"gap\"").count(), 1);
    }

    #[test]
    fn top_keeps_the_best_and_the_earliest_on_ties() {
        let mut r = Report::new(2);
        let doc = |id: &str, score: f32| {
            DocSummary::Doc(Box::new(Doc {
                id: id.into(),
                source: String::new(),
                ordinal: (0, 0),
                score: Some(score),
                flagged: score >= 0.5,
                spans: 0,
                substitutions: vec![("troopers".into(), "soldiers".into())],
                fingerprints: Vec::new(),
                marks: Vec::new(),
                excerpt: None,
            }))
        };
        for (i, (id, s)) in [("a", 0.2), ("b", 0.9), ("c", 0.9), ("d", 0.95), ("e", 0.1)]
            .into_iter()
            .enumerate()
        {
            r.add(i as u64, doc(id, s));
        }
        let ids: Vec<&str> = r.top.iter().map(|t| t.2.id.as_str()).collect();
        assert_eq!(ids, ["d", "b"]);
        assert!(!r.may_enter(rank(Some(0.9), 0)));
        assert!(r.may_enter(rank(Some(0.91), 0)));
        assert_eq!(
            r.substitutions[&("troopers".into(), "soldiers".into())].count,
            3
        );
        let page = r.render(&RunInfo {
            inputs: vec!["<x>".into()],
            files: 1,
            threshold: 0.5,
            scored_by: "the model".into(),
            fingerprint_list: None,
            elapsed: "1 s".into(),
            resumed_after: 0,
        });
        assert!(page.contains("<code>&lt;x&gt;</code>"));
        assert_eq!(page.matches("<rect class=\"bar").count(), SCORE_BINS);
    }

    #[test]
    fn groups_digits() {
        assert_eq!(group(0), "0");
        assert_eq!(group(1234567), "1,234,567");
        assert_eq!(short(12_345), "12k");
    }
}
