//! The unspin HTTP API and web page: the only crate that knows HTTP.
//!
//! Editors paste a text into the page at `/` and see what was spun: the restorer's spans
//! highlighted by confidence, the likely original and its alternatives on hover or focus, the
//! restored text one click away, and the document's detection score as a gauge. The same
//! analyses are a JSON API whose shapes are the CLI's `--json` ones (they come from
//! [`unspin::json`], so the two cannot drift):
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/restore` `{"text", "fingerprints"?, "precise"?}` | `{"text", "spans", "spin_rate", "words", "scorer"}` |
//! | `POST /v1/detect` `{"text", "threshold"?, "top"?, "fingerprints"?, "precise"?}` | `{"score", "flagged", "spans", "paragraphs", "fingerprints", …}` |
//! | `POST /v1/trace` `{"text", "top"?, "min_score"?, "alignment"?}` | `{"matches": [{"id", "score", "alignment"}]}` (needs an index) |
//! | `GET /healthz` | `{"status": "ok", …}` |
//! | `GET /openapi.json` | the OpenAPI 3.1 document of all of the above |
//!
//! Every error is a JSON object `{"error": "…"}` with a 4xx or 5xx status, never a stack trace.
//!
//! The main types: [`AppState`] (the pack, loaded once, with the channel, the fingerprint
//! list, the index and the [`Limits`]), [`router`] (the whole service, usable without a socket)
//! and [`serve`] / [`run`] (a socket, with graceful shutdown).
//!
//! ```no_run
//! use std::sync::Arc;
//! use unspin_server::{AppState, Limits};
//!
//! let pack = unspin::Pack::open("models/default.unspin".as_ref())?;
//! let state = AppState::new(pack, Box::new(unspin::decode::GenericChannel::default()), Limits::default());
//! unspin_server::run("127.0.0.1:8080".parse()?, Arc::new(state))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod api;
mod error;
mod openapi;
mod page;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use unspin::canon::Canon;
use unspin::decode::Channel;
use unspin::detect::DetectOptions;
use unspin::fingerprint::Matcher;
use unspin::index::{Index, Rules};
use unspin::restore::SentenceScorer;
use unspin::Pack;

pub use error::ApiError;

/// The limits every request is held to.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body, in bytes (a larger one is answered 413).
    pub max_body: usize,
    /// Longest a request may take, waiting for a worker included (then 503).
    pub timeout: Duration,
    /// Analyses running at once; further requests wait for a free slot within their timeout.
    pub concurrency: usize,
}

impl Default for Limits {
    /// 1 MiB bodies, 30 s, one analysis per core.
    fn default() -> Self {
        Limits {
            max_body: 1 << 20,
            timeout: Duration::from_secs(30),
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What the server shares between requests: the model pack (memory-mapped, loaded once), the
/// channel (its tables are built on first use and kept), the fingerprint list, the index for
/// tracing, the detection settings and the limits.
///
/// A `Restorer` or `Detector` only borrows these, and building one per request costs a few
/// microseconds (it copies the options), so requests build their own on a blocking thread.
pub struct AppState {
    pack: Pack,
    channel: Box<dyn Channel + Send>,
    matcher: Option<Matcher>,
    detect: DetectOptions,
    index: Option<Index>,
    trace_rules: Option<Rules>,
    limits: Limits,
    /// One permit per analysis allowed at once. A permit travels into the blocking task and is
    /// released when the work ends, not when a timed-out request gives up on it, so the cap
    /// holds for the CPU even when clients leave.
    permits: Arc<Semaphore>,
    /// Precise mode's sentence models, when the server has them.
    scorers: Option<ScorerPool>,
}

/// A sentence model is used by one analysis at a time: the pool lends them out, one permit per
/// model, and takes each back when the analysis ends (a panic included).
struct ScorerPool {
    name: String,
    free: std::sync::Mutex<Vec<Box<dyn SentenceScorer + Send>>>,
    permits: Arc<Semaphore>,
}

/// A sentence model on loan from the pool; it goes back when dropped.
struct Loan<'a> {
    pool: &'a ScorerPool,
    scorer: Option<Box<dyn SentenceScorer + Send>>,
}

impl ScorerPool {
    /// Takes a free model. The caller holds one of the pool's permits, so there is one.
    fn lend(&self) -> Loan<'_> {
        let scorer = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        Loan { pool: self, scorer }
    }
}

impl Loan<'_> {
    fn scorer(&mut self) -> &mut dyn SentenceScorer {
        // One permit per model: a permit holder always finds one.
        self.scorer
            .as_deref_mut()
            .map(|s| s as &mut dyn SentenceScorer)
            .expect("a permit holder finds a free sentence model")
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.scorer.take() {
            self.pool
                .free
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(s);
        }
    }
}

impl AppState {
    /// The state for `pack`, restoring and detecting with `channel` (the generic channel, or a
    /// learned profile's), with no fingerprint list, no index and the default detection
    /// settings.
    pub fn new(pack: Pack, channel: Box<dyn Channel + Send>, limits: Limits) -> AppState {
        let concurrency = limits.concurrency.max(1);
        AppState {
            pack,
            channel,
            matcher: None,
            detect: DetectOptions::default(),
            index: None,
            trace_rules: None,
            limits: Limits {
                concurrency,
                ..limits
            },
            permits: Arc::new(Semaphore::new(concurrency)),
            scorers: None,
        }
    }

    /// Precise mode: restore and detect revisit the trigram's choices with these sentence
    /// models (the neural scorer's, one per analysis that may run in precise mode at once), and
    /// requests use them unless they say `"precise": false`. An empty list turns precise mode
    /// off.
    pub fn with_sentence_scorers(
        mut self,
        scorers: Vec<Box<dyn SentenceScorer + Send>>,
    ) -> AppState {
        self.scorers = scorers
            .first()
            .map(|s| s.name().to_owned())
            .map(|name| ScorerPool {
                name,
                permits: Arc::new(Semaphore::new(scorers.len())),
                free: std::sync::Mutex::new(scorers),
            });
        self
    }

    /// The name of precise mode's sentence model, if the server has one.
    pub fn precise_scorer(&self) -> Option<&str> {
        self.scorers.as_ref().map(|p| p.name.as_str())
    }

    /// Consults a fingerprint list: restore replaces its hits by their expected forms, detect
    /// reports them apart from the model's evidence.
    pub fn with_fingerprints(mut self, matcher: Option<Matcher>) -> AppState {
        self.matcher = matcher;
        self
    }

    /// Detection settings (the threshold is the default for requests that name none).
    pub fn with_detect_options(mut self, opts: DetectOptions) -> AppState {
        self.detect = opts;
        self
    }

    /// Serves `POST /v1/trace` from `index`.
    ///
    /// # Errors
    /// The index was built with another pack's vocabulary (its word kinds differ).
    pub fn with_index(mut self, index: Index) -> Result<AppState, unspin::index::IndexError> {
        index.check_pack(&Canon::new(&self.pack))?;
        self.index = Some(index);
        Ok(self)
    }

    /// When tracing, count the substitutions of a learned spinner profile as explained (as
    /// `unspin trace --profile` does).
    pub fn with_trace_rules(mut self, rules: Option<Rules>) -> AppState {
        self.trace_rules = rules;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether a fingerprint list is consulted.
    pub fn has_fingerprints(&self) -> bool {
        self.matcher.is_some()
    }

    /// Builds what the channel computes on first use (tens of milliseconds), so that the first
    /// request does not pay for it.
    pub fn warm_up(&self) {
        let restorer =
            unspin::Restorer::with_channel(&self.pack, &*self.channel, self.detect.restore.clone());
        restorer.restore("Six Russian troopers who fled the warfare were granted momentary visas.");
    }
}

/// The whole service: the page, the API, `/healthz` and `/openapi.json`, with the body limit,
/// the timeout and JSON errors for everything that fails (404 and 405 included). Usable
/// without a socket (`tower::ServiceExt::oneshot`).
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.limits.max_body;
    let timeout = state.limits.timeout;
    let errors = Arc::clone(&state);
    Router::new()
        .route("/", get(page::index))
        .route("/assets/app.css", get(page::css))
        .route("/assets/app.js", get(page::js))
        .route("/assets/favicon.svg", get(page::favicon))
        .route("/healthz", get(api::healthz))
        .route("/openapi.json", get(openapi::document))
        .route("/v1/restore", post(api::restore))
        .route("/v1/detect", post(api::detect))
        .route("/v1/trace", post(api::trace))
        .fallback(error::not_found)
        .with_state(state)
        // Layers run bottom-up on the way out: a panic in a handler becomes a bare 500, the body
        // limit and the timeout apply, then every error response becomes JSON, then the
        // security headers.
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(axum::middleware::map_response_with_state(
            errors,
            error::json_errors,
        ))
        .layer(axum::middleware::map_response(page::security_headers))
}

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting connections
/// and lets the requests in flight finish.
///
/// # Errors
/// Accepting connections failed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // Without a handler Ctrl-C still kills the process; nothing to do if installing fails.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Binds `addr`, prints `unspin serve: listening on http://ADDR` on stderr (with the port the
/// system chose for port 0), and serves until SIGTERM or SIGINT; then finishes the requests in
/// flight and waits up to the request timeout for analyses still running.
///
/// # Errors
/// The runtime could not start, the address could not be bound, or accepting failed.
pub fn run(addr: SocketAddr, state: Arc<AppState>) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let grace = state.limits.timeout;
    let result = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        eprintln!("unspin serve: listening on http://{local}");
        let shutdown = async {
            shutdown_signal().await;
            eprintln!("unspin serve: shutting down");
        };
        serve(listener, state, shutdown).await
    });
    rt.shutdown_timeout(grace);
    result
}
