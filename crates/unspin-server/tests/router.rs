//! The router without a socket (`tower::ServiceExt::oneshot`): every endpoint, the JSON shapes
//! against the library's, and every kind of error.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use unspin::detect::Detector;
use unspin::json::{DetectJson, RestoreJson};
use unspin::Restorer;
use unspin_server::{router, AppState, Limits};

mod common;
use common::{example, pack, state, state_with};

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn call(state: &Arc<AppState>, req: Request<Body>) -> Answer {
    let resp = router(Arc::clone(state)).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

/// A value as the CLI prints it and a client parses it (f32s through their shortest text form).
fn as_printed(v: &impl serde::Serialize) -> Value {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

fn post(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap()
}

fn post_json(path: &str, v: &Value) -> Request<Body> {
    post(path, v.to_string())
}

#[tokio::test]
async fn restore_answers_what_the_library_and_cli_print() {
    let s = state();
    let text = example("spun-news.txt");
    let a = call(&s, post_json("/v1/restore", &json!({ "text": text }))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.content_type.starts_with("application/json"));
    let pack = pack();
    let r = Restorer::new(&pack).restore(&text);
    assert_eq!(a.json(), as_printed(&RestoreJson::from(&r)));
    let v = a.json();
    assert!(v["text"]
        .as_str()
        .unwrap()
        .contains("fled the war in Ukraine"));
    let spans = v["spans"].as_array().unwrap();
    assert!(spans
        .iter()
        .any(|s| s["spun"] == "warfare" && s["restored"] == "war"));
}

#[tokio::test]
async fn detect_answers_what_the_library_and_cli_print() {
    let s = state();
    let text = example("spun-news.txt");
    let a = call(&s, post_json("/v1/detect", &json!({ "text": text }))).await;
    assert_eq!(a.status, StatusCode::OK);
    let pack = pack();
    let d = Detector::new(&pack).detect(&text);
    assert_eq!(a.json(), as_printed(&DetectJson::new(Some(&d), &[])));
    let v = a.json();
    assert!(v.get("path").is_none(), "the API has no path: {v}");
    let score = v["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&score));
    assert!(!v["spans"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn detect_options_threshold_and_top() {
    let s = state();
    let text = example("spun-news.txt");
    let all = call(&s, post_json("/v1/detect", &json!({ "text": text })))
        .await
        .json();
    let spans = all["spans"].as_array().unwrap();
    assert!(spans.len() >= 2, "{all}");

    let low = call(
        &s,
        post_json("/v1/detect", &json!({ "text": text, "threshold": 0.0 })),
    )
    .await
    .json();
    assert_eq!(low["flagged"], true);
    assert_eq!(low["score"], all["score"]);
    let high = call(
        &s,
        post_json("/v1/detect", &json!({ "text": text, "threshold": 1.0 })),
    )
    .await
    .json();
    assert_eq!(high["flagged"], false);

    // top 1: the span with the highest log odds.
    let strongest = spans
        .iter()
        .max_by(|a, b| {
            a["log_odds"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["log_odds"].as_f64().unwrap())
        })
        .unwrap();
    let one = call(
        &s,
        post_json("/v1/detect", &json!({ "text": text, "top": 1 })),
    )
    .await
    .json();
    assert_eq!(one["spans"].as_array().unwrap(), &vec![strongest.clone()]);
}

#[tokio::test]
async fn offsets_are_bytes_of_the_input_and_empty_text_is_a_result() {
    let s = state();
    let text = "Café owners — who fled the warfare — were granted momentary visas, naïvely.";
    let v = call(&s, post_json("/v1/restore", &json!({ "text": text })))
        .await
        .json();
    let spans = v["spans"].as_array().unwrap();
    assert!(!spans.is_empty(), "{v}");
    for sp in spans {
        let (a, b) = (
            sp["start"].as_u64().unwrap() as usize,
            sp["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[a..b], sp["spun"].as_str().unwrap());
    }
    for path in ["/v1/restore", "/v1/detect"] {
        let a = call(&s, post_json(path, &json!({ "text": "" }))).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.json()["spans"], json!([]), "{path}");
    }
}

#[tokio::test]
async fn healthz_openapi_and_page() {
    let s = state();
    let h = call(&s, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["status"], "ok");
    assert_eq!(h.json()["limits"]["max_body"], 1 << 20);

    let o = call(
        &s,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(o.status, StatusCode::OK);
    let doc = o.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/restore"]["post"].is_object());
    assert!(doc["paths"]["/v1/detect"]["post"].is_object());
    assert!(
        doc["paths"].get("/v1/trace").is_none(),
        "no index, no trace"
    );

    let page = call(&s, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.content_type.starts_with("text/html"));
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains(r#"<script src="/assets/app.js" defer></script>"#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    for (path, ty) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let a = call(&s, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert!(a.content_type.starts_with(ty), "{path}: {}", a.content_type);
        assert!(a.body.len() > 1000, "{path}");
    }
}

/// The document's response schemas name exactly the fields the endpoints answer with, so the
/// document cannot drift from the API.
#[tokio::test]
async fn openapi_schemas_match_the_answers() {
    let s = state();
    let doc = call(
        &s,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await
    .json();
    let schemas = &doc["components"]["schemas"];
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let required = |name: &str| -> Vec<String> {
        let mut k: Vec<String> = schemas[name]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        k.sort();
        k
    };
    let text = example("spun-news.txt");
    let r = call(&s, post_json("/v1/restore", &json!({ "text": text })))
        .await
        .json();
    assert_eq!(keys(&r), required("RestoreResponse"));
    assert_eq!(keys(&r["spans"][0]), required("RestoreSpan"));
    assert_eq!(
        keys(&r["spans"][0]["alternatives"][0]),
        required("Alternative")
    );
    let d = call(&s, post_json("/v1/detect", &json!({ "text": text })))
        .await
        .json();
    assert_eq!(keys(&d), required("DetectResponse"));
    assert_eq!(keys(&d["spans"][0]), required("Evidence"));
    assert_eq!(keys(&d["paragraphs"][0]), required("Paragraph"));
    // Request schemas list every option the handlers accept (unknown fields are refused).
    assert_eq!(
        keys(&schemas["DetectRequest"]["properties"]),
        ["fingerprints", "precise", "text", "threshold", "top"]
    );
    assert_eq!(
        keys(&schemas["RestoreRequest"]["properties"]),
        ["fingerprints", "precise", "text"]
    );
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let s = Arc::new(state_with(Limits {
        max_body: 2000,
        ..Limits::default()
    }));
    let big = json!({ "text": "word ".repeat(1000) }).to_string();
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            post("/v1/restore", "{\"text\": "),
            StatusCode::BAD_REQUEST,
            "invalid request body",
        ),
        (
            "empty body",
            post("/v1/detect", ""),
            StatusCode::BAD_REQUEST,
            "invalid request body",
        ),
        (
            "missing text",
            post_json("/v1/restore", &json!({ "fingerprints": false })),
            StatusCode::BAD_REQUEST,
            "missing field `text`",
        ),
        (
            "text not a string",
            post_json("/v1/detect", &json!({ "text": 3 })),
            StatusCode::BAD_REQUEST,
            "invalid type",
        ),
        (
            "unknown option",
            post_json("/v1/detect", &json!({ "text": "a", "treshold": 0.2 })),
            StatusCode::BAD_REQUEST,
            "unknown field `treshold`",
        ),
        (
            "threshold out of range",
            post_json("/v1/detect", &json!({ "text": "a", "threshold": 2 })),
            StatusCode::BAD_REQUEST,
            "\"threshold\" must lie in [0, 1], not 2",
        ),
        (
            "top zero",
            post_json("/v1/detect", &json!({ "text": "a", "top": 0 })),
            StatusCode::BAD_REQUEST,
            "\"top\" must be at least 1",
        ),
        (
            "top negative",
            post_json("/v1/detect", &json!({ "text": "a", "top": -1 })),
            StatusCode::BAD_REQUEST,
            "invalid value",
        ),
        (
            "body over the limit, with Content-Length",
            Request::post("/v1/restore")
                .header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big.clone()))
                .unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit of 2000 bytes",
        ),
        (
            "body over the limit, streamed",
            post("/v1/detect", big.clone()),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit of 2000 bytes",
        ),
        (
            "wrong method",
            Request::get("/v1/restore").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
        (
            "wrong method on the page",
            Request::builder()
                .method(Method::DELETE)
                .uri("/")
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
        (
            "no such path",
            Request::get("/v2/restore").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "no such endpoint: GET /v2/restore",
        ),
        (
            "precise restore on a server without a sentence model",
            post_json("/v1/restore", &json!({ "text": "a", "precise": true })),
            StatusCode::BAD_REQUEST,
            "start it with --precise",
        ),
        (
            "precise detect on a server without a sentence model",
            post_json("/v1/detect", &json!({ "text": "a", "precise": true })),
            StatusCode::BAD_REQUEST,
            "this server has no sentence model",
        ),
        (
            "trace without an index",
            post_json("/v1/trace", &json!({ "text": "a" })),
            StatusCode::NOT_FOUND,
            "start the server with --index",
        ),
    ];
    for (name, req, status, needle) in cases {
        let a = call(&s, req).await;
        assert_eq!(
            a.status,
            status,
            "{name}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert!(
            a.content_type.starts_with("application/json"),
            "{name}: {}",
            a.content_type
        );
        let v = a.json();
        assert_eq!(keys_of(&v), ["error"], "{name}: {v}");
        let msg = v["error"].as_str().unwrap();
        assert!(msg.contains(needle), "{name}: {msg:?} lacks {needle:?}");
    }
}

fn keys_of(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(|k| k.as_str()).collect()
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_json_503() {
    let s = Arc::new(state_with(Limits {
        timeout: Duration::from_millis(1),
        ..Limits::default()
    }));
    // Restoring a few thousand words takes far longer than a millisecond.
    let text = example("spun-news.txt").repeat(50);
    let a = call(&s, post_json("/v1/restore", &json!({ "text": text }))).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    let msg = a.json()["error"].as_str().unwrap().to_string();
    assert!(msg.contains("timeout of 0.001 s"), "{msg}");
}

#[tokio::test]
async fn trace_finds_the_source_in_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(
        state_with(Limits::default())
            .with_index(common::index(dir.path()))
            .unwrap(),
    );
    let text = example("spun-news.txt");
    let a = call(&s, post_json("/v1/trace", &json!({ "text": text }))).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let v = a.json();
    let matches = v["matches"].as_array().unwrap();
    assert_eq!(matches[0]["id"], "news-1", "{v}");
    let score = matches[0]["score"].as_f64().unwrap();
    assert!(score > 0.6 && score <= 1.0, "{v}");
    let edits = matches[0]["alignment"]["edits"].as_array().unwrap();
    assert!(
        edits
            .iter()
            .any(|e| e["spun"] == "troopers" && e["source"] == "soldiers"),
        "{v}"
    );
    assert!(matches.iter().all(|m| m["id"] != "cooking"), "{v}");

    let bare = call(
        &s,
        post_json(
            "/v1/trace",
            &json!({ "text": text, "alignment": false, "top": 1 }),
        ),
    )
    .await
    .json();
    assert_eq!(bare["matches"].as_array().unwrap().len(), 1);
    assert!(bare["matches"][0].get("alignment").is_none(), "{bare}");

    let bad = call(
        &s,
        post_json("/v1/trace", &json!({ "text": text, "min_score": 1.5 })),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let doc = call(
        &s,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await
    .json();
    assert!(doc["paths"]["/v1/trace"]["post"].is_object());
    let h = call(&s, Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .json();
    assert_eq!(h["index_docs"], 3);
}

#[tokio::test]
async fn fingerprint_hits_restore_to_the_expected_form_and_can_be_turned_off() {
    let csv =
        std::fs::read(common::root().join("crates/unspin/tests/data/pps_sample.csv")).unwrap();
    // The sample also holds rows that cannot be read (for the importer's tests): skipped here.
    let (list, _errors) = unspin::fingerprint::FingerprintList::import_csv(&csv, "pps_sample.csv");
    let s = Arc::new(state_with(Limits::default()).with_fingerprints(Some(list.matcher())));
    let text = "We used a sack of words model to study liver sickness in the cohort.";

    let d = call(&s, post_json("/v1/detect", &json!({ "text": text })))
        .await
        .json();
    let hits = d["fingerprints"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{d}");
    assert_eq!(hits[0]["matched"], "sack of words");
    assert_eq!(hits[0]["expected"], "bag of words");
    assert_eq!(d["flagged"], true, "a fingerprint hit flags the text: {d}");

    let r = call(&s, post_json("/v1/restore", &json!({ "text": text })))
        .await
        .json();
    assert!(
        r["text"].as_str().unwrap().contains("a bag of words model"),
        "{r}"
    );
    assert!(r["text"].as_str().unwrap().contains("liver disease"), "{r}");
    let fp: Vec<_> = r["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "fingerprint")
        .collect();
    assert_eq!(fp.len(), 2, "{r}");

    let off = call(
        &s,
        post_json(
            "/v1/detect",
            &json!({ "text": text, "fingerprints": false }),
        ),
    )
    .await
    .json();
    assert_eq!(off["fingerprints"], json!([]));
    let off = call(
        &s,
        post_json(
            "/v1/restore",
            &json!({ "text": text, "fingerprints": false }),
        ),
    )
    .await
    .json();
    assert!(off["spans"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["source"] == "model"));
    let h = call(&s, Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .json();
    assert_eq!(h["fingerprints"], true);
}

/// With one permit, a short request sent while a long one runs waits for it: the cap holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_makes_requests_wait() {
    let s = Arc::new(state_with(Limits {
        concurrency: 1,
        ..Limits::default()
    }));
    let long = example("spun-news.txt").repeat(1000);
    let a = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            let r = call(&s, post_json("/v1/detect", &json!({ "text": long }))).await;
            (r.status, std::time::Instant::now())
        })
    };
    let t = std::time::Instant::now();
    loop {
        let h = call(&s, Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .json();
        if h["busy"] == 1 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the long request never started"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let b = call(
        &s,
        post_json("/v1/restore", &json!({ "text": "The troopers fled." })),
    )
    .await;
    let b_done = std::time::Instant::now();
    let (a_status, a_done) = a.await.unwrap();
    assert_eq!((a_status, b.status), (StatusCode::OK, StatusCode::OK));
    // Without the cap the short request would finish long before the long one (which takes
    // hundreds of milliseconds); with it, it finishes when the long one frees the permit (its
    // answer still has to be serialised and read, so a little before its caller sees it).
    assert!(
        a_done - t > Duration::from_millis(100),
        "the long request was too short to tell"
    );
    let early = a_done.saturating_duration_since(b_done);
    assert!(
        early < Duration::from_millis(50),
        "the short request finished {early:?} before the long one"
    );
}

/// A stand-in sentence model for the pool's bookkeeping (the real one, SmolLM2, is tested
/// through `unspin serve --precise` in the CLI's tests): it prefers shorter sentences and counts
/// its calls.
struct Shortest(Arc<std::sync::atomic::AtomicUsize>);

impl unspin::restore::SentenceScorer for Shortest {
    fn score_variants(&mut self, prefix: &str, variants: &[&str]) -> Result<Vec<f32>, String> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(variants
            .iter()
            .map(|v| -((prefix.len() + v.len()) as f32))
            .collect())
    }

    fn name(&self) -> &str {
        "shortest"
    }
}

#[tokio::test]
async fn precise_requests_share_the_servers_sentence_models() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let s = Arc::new(
        state_with(Limits {
            concurrency: 4,
            ..Limits::default()
        })
        .with_sentence_scorers(vec![Box::new(Shortest(Arc::clone(&calls)))]),
    );
    let h = call(&s, Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .json();
    assert_eq!(h["precise"], "shortest");
    let text = example("spun-news.txt");

    // Precise by default on such a server; eight requests at once share the one model.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, text) = (Arc::clone(&s), text.clone());
        let path = if i % 2 == 0 {
            "/v1/restore"
        } else {
            "/v1/detect"
        };
        tasks.push(tokio::spawn(async move {
            call(&s, post_json(path, &json!({ "text": text }))).await
        }));
    }
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&a.body)
        );
        assert_eq!(a.json()["scorer"], "shortest");
    }
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) >= 8);

    // A request may turn it off, and then answers as a server without the model does.
    let plain = call(
        &s,
        post_json("/v1/restore", &json!({ "text": text, "precise": false })),
    )
    .await
    .json();
    assert_eq!(plain["scorer"], "trigram");
    let r = Restorer::new(&pack()).restore(&text);
    assert_eq!(plain, as_printed(&RestoreJson::from(&r)));

    let doc = call(
        &s,
        Request::get("/openapi.json").body(Body::empty()).unwrap(),
    )
    .await
    .json();
    assert_eq!(
        doc["components"]["schemas"]["RestoreRequest"]["properties"]["precise"]["default"],
        true
    );
}
