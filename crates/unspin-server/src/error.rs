//! Errors as JSON: `{"error": "…"}` with a 4xx or 5xx status, whoever produced them.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::AppState;

/// An error answered to the client: a status and a message that names the problem, never
/// internals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status (4xx or 5xx).
    pub status: StatusCode,
    /// What went wrong, for the client.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message });
        (self.status, axum::Json(body)).into_response()
    }
}

/// A JSON request body, whatever its Content-Type says (so `curl -d` works), with errors as
/// [`ApiError`]s: 413 past the body limit, 400 for anything that is not the expected object
/// (serde's message names the field, line and column).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
    }
}

/// The answer for a handler that panicked: the panic was printed on the server's stderr, the
/// client learns nothing of it.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// The answer for paths that do not exist.
pub async fn not_found(req: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint: {} {} (see /openapi.json)",
            req.method(),
            req.uri().path()
        ),
    )
}

/// Turns every error response that is not JSON yet (axum's 405, tower-http's 413 and timeout)
/// into `{"error": "…"}`, with a message that names the limit that was hit (413s from the body
/// extractor too, so that both ways of exceeding the limit read alike).
pub async fn json_errors(State(state): State<Arc<AppState>>, resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let limits = state.limits();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "request body is larger than the limit of {} bytes",
            limits.max_body
        ),
        _ if is_json(&resp) => return resp,
        StatusCode::SERVICE_UNAVAILABLE => format!(
            "the request took longer than the timeout of {} s (the server may be busy; try again or send a shorter text)",
            limits.timeout.as_secs_f64()
        ),
        // The router adds the Allow header after this layer has run, so it is not named here.
        StatusCode::METHOD_NOT_ALLOWED => {
            "method not allowed for this endpoint (the Allow header lists the allowed ones)".into()
        }
        _ => status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase(),
    };
    let (mut parts, _) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
