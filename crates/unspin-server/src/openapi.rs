//! The OpenAPI 3.1 document of the API, written by hand next to the handlers it describes (a
//! test checks its response schemas against real answers).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::api::MAX_TOP;
use crate::AppState;

/// `GET /openapi.json`: the document; without an index it leaves `/v1/trace` out.
pub async fn document(State(state): State<Arc<AppState>>) -> Json<Value> {
    let mut doc = spec(&state);
    if state.index.is_none() {
        if let Some(paths) = doc["paths"].as_object_mut() {
            paths.remove("/v1/trace");
        }
    }
    Json(doc)
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn errors() -> Value {
    json!({
        "400": error_response("malformed JSON, a missing \"text\", an unknown field, an option out of range, or \"precise\" on a server without a sentence model"),
        "413": error_response("the body is larger than the server's --max-body"),
        "503": error_response("the request took longer than the server's --timeout (waiting for a free worker included)"),
        "500": error_response("the analysis failed (a bug; details stay in the server's log)")
    })
}

fn post(summary: &str, description: &str, request: &str, response: &str) -> Value {
    let mut responses = errors();
    responses["200"] = json!({
        "description": "the analysis",
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{response}")}}}
    });
    json!({
        "post": {
            "summary": summary,
            "description": description,
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{request}")}}}
            },
            "responses": responses
        }
    })
}

fn spec(state: &AppState) -> Value {
    let mut trace = post(
        "Find the likeliest sources of a spun text in the server's index",
        "The shape of `unspin trace --json`. Only served when the server was started with --index.",
        "TraceRequest",
        "TraceResponse",
    );
    trace["post"]["responses"]["404"] = error_response("the server has no index");
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "unspin",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Undo article spinning: restore spun text to its likely original wording, score how likely a text is to be spun, and trace it to its sources. Offsets are bytes of the UTF-8 input. Every error is {\"error\": \"…\"} with a 4xx or 5xx status.",
            "license": {"name": "MIT OR Apache-2.0"}
        },
        "paths": {
            "/v1/restore": post(
                "Restore a spun text to its likely original wording",
                "The shape of `unspin restore --json`: the restored text and every replaced span with its confidence and alternatives.",
                "RestoreRequest",
                "RestoreResponse",
            ),
            "/v1/detect": post(
                "Score a text for being spun, with the evidence",
                "The shape of `unspin detect --json` without \"path\".",
                "DetectRequest",
                "DetectResponse",
            ),
            "/v1/trace": trace,
            "/healthz": {"get": {
                "summary": "Liveness, the server's settings and how many analyses are running",
                "responses": {"200": {"description": "the server is up", "content": {"application/json": {"schema": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}}}}}
            }},
            "/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {}}}}
            }},
            "/": {"get": {
                "summary": "The web page: paste a text and see what was spun",
                "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}
            }}
        },
        "components": {"schemas": {
            "Error": {
                "type": "object", "required": ["error"], "additionalProperties": false,
                "properties": {"error": {"type": "string", "description": "what went wrong"}}
            },
            "RestoreRequest": {
                "type": "object", "required": ["text"], "additionalProperties": false,
                "properties": {
                    "text": {"type": "string", "description": "the text to restore"},
                    "fingerprints": {"type": "boolean", "default": true, "description": "replace known tortured phrases by the fingerprint list's expected forms (no effect when the server has no list)"},
                    "precise": {"type": "boolean", "default": state.scorers.is_some(), "description": "revisit the trigram's choices with the sentence model (needs a server started with --precise; then the default); \"scorer\" in the answer names the model that chose"}
                }
            },
            "DetectRequest": {
                "type": "object", "required": ["text"], "additionalProperties": false,
                "properties": {
                    "text": {"type": "string", "description": "the text to score"},
                    "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": state.detect.threshold, "description": "score at or above which the text is flagged"},
                    "top": {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "description": "keep only the strongest evidence spans (by log odds), still in input order [default: all]"},
                    "fingerprints": {"type": "boolean", "default": true, "description": "report fingerprint hits"},
                    "precise": {"type": "boolean", "default": state.scorers.is_some(), "description": "give the evidence the sentence model's view (needs a server started with --precise; then the default)"}
                }
            },
            "TraceRequest": {
                "type": "object", "required": ["text"], "additionalProperties": false,
                "properties": {
                    "text": {"type": "string", "description": "the spun text"},
                    "top": {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": 5, "description": "sources reported at most"},
                    "min_score": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.6, "description": "lowest alignment score reported"},
                    "alignment": {"type": "boolean", "default": true, "description": "include each match's word alignment"}
                }
            },
            "Alternative": {
                "type": "object", "required": ["text", "confidence"],
                "properties": {"text": {"type": "string"}, "confidence": {"type": "number"}}
            },
            "RestoreSpan": {
                "type": "object",
                "required": ["start", "end", "spun", "restored", "confidence", "alternatives", "log_odds", "source"],
                "properties": {
                    "start": {"type": "integer", "description": "byte offset in the input"},
                    "end": {"type": "integer", "description": "byte offset one past the span"},
                    "spun": {"type": "string"},
                    "restored": {"type": "string"},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Alternative"}},
                    "log_odds": {"type": "number", "description": "log10 odds of the restored text against the spun one here"},
                    "source": {"enum": ["model", "fingerprint"]}
                }
            },
            "RestoreResponse": {
                "type": "object", "required": ["text", "spans", "spin_rate", "words", "scorer"],
                "properties": {
                    "text": {"type": "string", "description": "the restored text"},
                    "spans": {"type": "array", "items": {"$ref": "#/components/schemas/RestoreSpan"}},
                    "spin_rate": {"type": "number"},
                    "words": {"type": "integer"},
                    "scorer": {"type": "string"}
                }
            },
            "Evidence": {
                "type": "object",
                "required": ["start", "end", "spun", "original", "confidence", "log_odds", "alternatives"],
                "properties": {
                    "start": {"type": "integer"}, "end": {"type": "integer"},
                    "spun": {"type": "string"}, "original": {"type": "string"},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    "log_odds": {"type": "number"},
                    "alternatives": {"type": "array", "items": {"$ref": "#/components/schemas/Alternative"}}
                }
            },
            "Paragraph": {
                "type": "object", "required": ["start", "end", "score", "own_score", "words", "spans"],
                "properties": {
                    "start": {"type": "integer"}, "end": {"type": "integer"},
                    "score": {"type": "number", "minimum": 0, "maximum": 1, "description": "given the paragraph's own evidence and, the shorter it is the more, its document's"},
                    "own_score": {"type": "number", "minimum": 0, "maximum": 1, "description": "on the paragraph's own evidence alone"},
                    "words": {"type": "integer"}, "spans": {"type": "integer"}
                }
            },
            "Fingerprint": {
                "type": "object", "required": ["start", "end", "matched", "tortured", "expected", "query"],
                "properties": {
                    "start": {"type": "integer"}, "end": {"type": "integer"},
                    "matched": {"type": "string"}, "tortured": {"type": "string"},
                    "expected": {"type": ["string", "null"]}, "query": {"type": "string"}
                }
            },
            "DetectResponse": {
                "type": "object",
                "required": ["score", "flagged", "spans", "paragraphs", "fingerprints", "spin_rate", "words", "scorer", "stage"],
                "properties": {
                    "score": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                    "flagged": {"type": "boolean"},
                    "spans": {"type": "array", "items": {"$ref": "#/components/schemas/Evidence"}},
                    "paragraphs": {"type": "array", "items": {"$ref": "#/components/schemas/Paragraph"}},
                    "fingerprints": {"type": "array", "items": {"$ref": "#/components/schemas/Fingerprint"}},
                    "spin_rate": {"type": ["number", "null"]},
                    "words": {"type": ["integer", "null"]},
                    "scorer": {"type": "string"},
                    "stage": {"enum": ["lattice", "screen", "fingerprints"]}
                }
            },
            "Alignment": {
                "type": "object",
                "description": "the word alignment, as `unspin trace --json` prints it",
                "required": ["score", "words", "matched", "explained", "unexplained", "source_start", "source_end", "edits"]
            },
            "TraceMatch": {
                "type": "object", "required": ["id", "score"],
                "properties": {
                    "id": {"type": "string"},
                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "alignment": {"$ref": "#/components/schemas/Alignment"}
                }
            },
            "TraceResponse": {
                "type": "object", "required": ["matches"],
                "properties": {"matches": {"type": "array", "items": {"$ref": "#/components/schemas/TraceMatch"}}}
            }
        }}
    })
}
