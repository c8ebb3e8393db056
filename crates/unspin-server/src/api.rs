//! The JSON endpoints: request bodies, their validation, and the analyses on blocking threads.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use unspin::canon::Canon;
use unspin::detect::Detector;
use unspin::index::TraceOptions;
use unspin::json::{DetectJson, RestoreJson, TraceMatchJson};
use unspin::restore::SentenceScorer;
use unspin::Restorer;

use crate::error::{ApiError, ApiJson};
use crate::AppState;

/// Most evidence spans or trace matches a request may ask for.
pub const MAX_TOP: usize = 1000;

/// `POST /v1/restore`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    text: String,
    /// Replace known tortured phrases by the fingerprint list's expected forms (default true;
    /// no effect when the server has no list).
    #[serde(default = "yes")]
    fingerprints: bool,
    /// Revisit the trigram's choices with the sentence model [default: whether the server was
    /// started with --precise].
    precise: Option<bool>,
}

/// `POST /v1/detect`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectRequest {
    text: String,
    /// Score at or above which the text is flagged [default: the server's --threshold].
    threshold: Option<f32>,
    /// Keep only the strongest `top` evidence spans (by log odds), still in input order.
    top: Option<usize>,
    /// Report fingerprint hits (default true).
    #[serde(default = "yes")]
    fingerprints: bool,
    /// Give the evidence the sentence model's view [default: whether the server was started
    /// with --precise].
    precise: Option<bool>,
}

/// `POST /v1/trace`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    text: String,
    /// Sources reported at most (default 5).
    top: Option<usize>,
    /// Lowest alignment score reported (default 0.6).
    min_score: Option<f32>,
    /// Include each match's word alignment (default true).
    #[serde(default = "yes")]
    alignment: bool,
}

fn yes() -> bool {
    true
}

fn unit_interval(name: &str, x: Option<f32>) -> Result<(), ApiError> {
    match x {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(ApiError::bad_request(format!(
            "\"{name}\" must lie in [0, 1], not {v}"
        ))),
        _ => Ok(()),
    }
}

fn top_in_range(x: Option<usize>) -> Result<(), ApiError> {
    match x {
        Some(0) => Err(ApiError::bad_request("\"top\" must be at least 1")),
        Some(n) if n > MAX_TOP => Err(ApiError::bad_request(format!(
            "\"top\" must be at most {MAX_TOP}, not {n}"
        ))),
        _ => Ok(()),
    }
}

/// Whether a request runs in precise mode: as it asks, else as the server was started.
fn wants_precise(state: &AppState, asked: Option<bool>) -> Result<bool, ApiError> {
    match (asked, &state.scorers) {
        (Some(true), None) => Err(ApiError::bad_request(
            "\"precise\": this server has no sentence model; start it with --precise",
        )),
        (Some(p), _) => Ok(p),
        (None, pool) => Ok(pool.is_some()),
    }
}

fn scorer_failed(e: unspin::restore::ScorerError) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the sentence model failed: {e}"),
    )
}

/// Runs `work` on a blocking thread once a concurrency permit is free, and in precise mode once
/// a sentence model is free too, which `work` then gets. The permits go with the work and are
/// released when the work ends, even if the request timed out meanwhile.
async fn analyse<F>(state: &Arc<AppState>, precise: bool, work: F) -> Result<Response, ApiError>
where
    F: FnOnce(&AppState, Option<&mut dyn SentenceScorer>) -> Result<Response, ApiError>
        + Send
        + 'static,
{
    let stopping = |_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping");
    let permit = state
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(stopping)?;
    let model_permit = match (&state.scorers, precise) {
        (Some(pool), true) => Some(
            pool.permits
                .clone()
                .acquire_owned()
                .await
                .map_err(stopping)?,
        ),
        _ => None,
    };
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let _permits = (permit, model_permit);
        match (&state.scorers, precise) {
            (Some(pool), true) => {
                let mut loan = pool.lend();
                work(&state, Some(loan.scorer()))
            }
            _ => work(&state, None),
        }
    })
    .await
    .map_err(|_| {
        // The panic itself was printed on the server's stderr; the client learns nothing more.
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error: the analysis failed",
        )
    })?
}

pub async fn restore(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<RestoreRequest>,
) -> Result<Response, ApiError> {
    let precise = wants_precise(&state, req.precise)?;
    analyse(&state, precise, move |s, scorer| {
        let restorer = Restorer::with_channel(&s.pack, &*s.channel, s.detect.restore.clone());
        let mut r = match scorer {
            Some(n) => restorer
                .restore_precise(&req.text, n)
                .map_err(scorer_failed)?,
            None => restorer.restore(&req.text),
        };
        if let (true, Some(m)) = (req.fingerprints, &s.matcher) {
            let hits: Vec<_> = m
                .find(&req.text)
                .into_iter()
                .filter_map(|h| h.expected.map(|e| (h.start, h.end, e)))
                .collect();
            r.apply_fingerprints(&req.text, &hits);
        }
        Ok(Json(RestoreJson::from(&r)).into_response())
    })
    .await
}

pub async fn detect(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<DetectRequest>,
) -> Result<Response, ApiError> {
    unit_interval("threshold", req.threshold)?;
    top_in_range(req.top)?;
    let precise = wants_precise(&state, req.precise)?;
    analyse(&state, precise, move |s, scorer| {
        let mut opts = s.detect.clone();
        if let Some(t) = req.threshold {
            opts.threshold = t;
        }
        let detector = Detector::with_channel(&s.pack, &*s.channel, opts);
        let mut d = match scorer {
            Some(n) => detector
                .detect_precise(&req.text, n)
                .map_err(scorer_failed)?,
            None => detector.detect(&req.text),
        };
        if let Some(top) = req.top {
            keep_strongest(&mut d.spans, top);
        }
        let hits = match (req.fingerprints, &s.matcher) {
            (true, Some(m)) => m.find(&req.text),
            _ => Vec::new(),
        };
        Ok(Json(DetectJson::new(Some(&d), &hits)).into_response())
    })
    .await
}

/// Keeps the `top` spans with the highest log odds (ties: the earlier), in input order.
fn keep_strongest(spans: &mut Vec<unspin::detect::Evidence>, top: usize) {
    if spans.len() <= top {
        return;
    }
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by(|&a, &b| {
        spans[b]
            .log_odds
            .total_cmp(&spans[a].log_odds)
            .then(a.cmp(&b))
    });
    let mut keep = vec![false; spans.len()];
    for &i in &order[..top] {
        keep[i] = true;
    }
    let mut i = 0;
    spans.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

pub async fn trace(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<TraceRequest>,
) -> Result<Response, ApiError> {
    if state.index.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "tracing is off: start the server with --index INDEX",
        ));
    }
    unit_interval("min_score", req.min_score)?;
    top_in_range(req.top)?;
    analyse(&state, false, move |s, _| {
        let index = s.index.as_ref().expect("checked above");
        let defaults = TraceOptions::default();
        let top = req.top.unwrap_or(defaults.top);
        let opts = TraceOptions {
            top,
            verify: defaults.verify.max(top),
            min_score: req.min_score.unwrap_or(defaults.min_score),
            ..defaults
        };
        // Word kinds take a few milliseconds to sort; tracing takes longer than that anyway.
        let canon = Canon::new(&s.pack);
        let matches = index
            .trace_with(&canon, &req.text, &opts, s.trace_rules.as_ref())
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the index could not be read: {e}"),
                )
            })?;
        let v: Vec<_> = matches
            .iter()
            .map(|m| TraceMatchJson::new(m, req.alignment))
            .collect();
        Ok(Json(serde_json::json!({ "matches": v })).into_response())
    })
    .await
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let busy = state.limits.concurrency - state.permits.available_permits();
    Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "fingerprints": state.matcher.is_some(),
        "index_docs": state.index.as_ref().map(|i| i.len()),
        "threshold": state.detect.threshold,
        "precise": state.scorers.as_ref().map(|p| &p.name),
        "limits": {
            "max_body": state.limits.max_body,
            "timeout_s": state.limits.timeout.as_secs_f64(),
            "concurrency": state.limits.concurrency,
        },
        "busy": busy,
    }))
}
