//! The JSON shapes of results, shared by every front end: the CLI's `--json`, `unspin scan`'s
//! lines, the HTTP API and the Python package. They are a public contract: fields may be added,
//! never renamed or dropped.

use serde::Serialize;

use crate::detect::{Detection, Evidence, Paragraph};
use crate::fingerprint::Hit;
use crate::index::{Alignment, Match};
use crate::restore::{Restoration, Span};

/// A restoration: `{"text", "spans", "spin_rate", "words", "scorer"}`.
#[derive(Debug, Serialize)]
pub struct RestoreJson<'a> {
    /// The restored text.
    pub text: &'a str,
    /// What changed, with byte offsets into the input.
    pub spans: &'a [Span],
    /// The document's estimated spin rate.
    pub spin_rate: f32,
    /// Words in the input.
    pub words: usize,
    /// Which model chose (`"trigram"`, or the neural scorer's name).
    pub scorer: &'a str,
}

impl<'a> From<&'a Restoration> for RestoreJson<'a> {
    fn from(r: &'a Restoration) -> Self {
        RestoreJson {
            text: &r.text,
            spans: &r.spans,
            spin_rate: r.spin_rate,
            words: r.words,
            scorer: &r.scorer,
        }
    }
}

/// A fingerprint hit: `{"start", "end", "matched", "tortured", "expected", "query"}`.
#[derive(Debug, Serialize)]
pub struct FingerprintJson<'a> {
    /// Byte offset where the match starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// The text matched, as it stands.
    pub matched: &'a str,
    /// The tortured phrase as the list writes it.
    pub tortured: &'a str,
    /// The expected (original) phrase, when the list knows it.
    pub expected: Option<&'a str>,
    /// The list entry's whole query.
    pub query: &'a str,
}

impl<'a> From<&'a Hit> for FingerprintJson<'a> {
    fn from(h: &'a Hit) -> Self {
        FingerprintJson {
            start: h.start,
            end: h.end,
            matched: &h.matched,
            tortured: &h.tortured,
            expected: h.expected.as_deref(),
            query: &h.query,
        }
    }
}

/// Fingerprint hits as JSON.
pub fn fingerprints(hits: &[Hit]) -> Vec<FingerprintJson<'_>> {
    hits.iter().map(FingerprintJson::from).collect()
}

/// A detection: `{"score", "flagged", "spans", "paragraphs", "fingerprints", "spin_rate",
/// "words", "scorer", "stage"}`. Without a model (fingerprint screening alone) the model's
/// fields are `null` or empty and `scorer`/`stage` say `"fingerprints"`.
#[derive(Debug, Serialize)]
pub struct DetectJson<'a> {
    /// The input's name (the CLI's `detect`; absent where there is none, as in the HTTP API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The document's score in [0, 1]; `null` without the model.
    pub score: Option<f32>,
    /// The model's score reaches the threshold, or a fingerprint matched.
    pub flagged: bool,
    /// The model's evidence.
    pub spans: &'a [Evidence],
    /// Per-paragraph scores.
    pub paragraphs: &'a [Paragraph],
    /// Known tortured phrases, apart from the model's findings.
    pub fingerprints: Vec<FingerprintJson<'a>>,
    /// The document's estimated spin rate.
    pub spin_rate: Option<f32>,
    /// Words in the input.
    pub words: Option<usize>,
    /// Which model scored.
    pub scorer: &'a str,
    /// Which stage decided (`"lattice"`, `"screen"`, `"fingerprints"`).
    pub stage: &'a str,
}

impl<'a> DetectJson<'a> {
    /// The shape of a detection (if the model ran) and fingerprint hits.
    pub fn new(d: Option<&'a Detection>, hits: &'a [Hit]) -> Self {
        DetectJson {
            path: None,
            score: d.map(|d| d.score),
            flagged: d.is_some_and(|d| d.flagged) || !hits.is_empty(),
            spans: d.map_or(&[], |d| &d.spans),
            paragraphs: d.map_or(&[], |d| &d.paragraphs),
            fingerprints: fingerprints(hits),
            spin_rate: d.map(|d| d.spin_rate),
            words: d.map(|d| d.words),
            scorer: d.map_or("fingerprints", |d| &d.scorer),
            stage: d.map_or("fingerprints", |d| d.stage),
        }
    }

    /// The same, naming the input.
    pub fn with_path(mut self, path: String) -> Self {
        self.path = Some(path);
        self
    }
}

/// A source found by tracing: `{"id", "score", "alignment"}`, the score rounded to four decimals;
/// `alignment` (the word alignment with every edit) is left out when not asked for.
#[derive(Debug, Serialize)]
pub struct TraceMatchJson<'a> {
    /// The source document's id in the index.
    pub id: &'a str,
    /// The alignment score, in [0, 1].
    pub score: f32,
    /// The word alignment of the spun text with the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment: Option<&'a Alignment>,
}

impl<'a> TraceMatchJson<'a> {
    /// The shape of a match, with or without its alignment.
    pub fn new(m: &'a Match, with_alignment: bool) -> Self {
        TraceMatchJson {
            id: &m.id,
            score: (m.score * 1e4).round() / 1e4,
            alignment: with_alignment.then_some(&m.alignment),
        }
    }
}
