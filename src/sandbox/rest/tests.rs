//! The shared layer over real HTTP, with a two-route toy API.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::middleware;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::*;

struct Toy {
    server: RestServer,
    state: Arc<RestState>,
    stored: Arc<AtomicU64>,
    http: reqwest::Client,
}

fn bodies() -> ErrorBodies {
    ErrorBodies {
        rate_limited: json!({ "success": false, "message": "Rate limit exceeded" }),
        retry_after: true,
        unavailable: json!({ "success": false, "message": "Service unavailable" }),
        lost_answer: json!({ "success": false, "message": "Internal server error" }),
        malformed_prefix: r#"{"items": ["#,
    }
}

async fn start(rate_limit: u32, lose: f64) -> Toy {
    let state = RestState::new(RestConfig {
        seed: 7,
        rate_limit,
        rate_window: Duration::from_secs(60),
        lose_answer_rate: lose,
        bodies: bodies(),
    });
    let stored = Arc::new(AtomicU64::new(0));
    let api = Router::new()
        .route("/api/items", get(|| async { "[]" }))
        .route(
            "/api/rows",
            get(|| async {
                axum::Json(json!({ "data": [
                    { "id": "r1", "name": "One", "created_at": "2026-01-01T00:00:00Z" },
                    { "id": "r2", "name": "Two", "created_at": "2026-01-01T00:00:00Z" },
                    { "id": "r3", "name": "Three", "created_at": "2026-01-01T00:00:00Z" },
                ], "total": 3 }))
            }),
        )
        .route(
            "/api/items",
            post(|State(n): State<Arc<AtomicU64>>| async move {
                n.fetch_add(1, Ordering::SeqCst);
                "{}"
            }),
        )
        .with_state(stored.clone())
        .route_layer(middleware::from_fn_with_state(
            Guard {
                state: state.clone(),
                rate_limited: true,
            },
            guard,
        ));
    let app = api.merge(control_router(state.clone()));
    let server = RestServer::start(
        "127.0.0.1:0".parse().expect("addr"),
        app,
        state.clone(),
        "toy",
    )
    .await
    .expect("starts");
    Toy {
        server,
        state,
        stored,
        http: reqwest::Client::new(),
    }
}

impl Toy {
    async fn call(&self, post: bool) -> (u16, Value, Option<String>) {
        let url = format!("{}/api/items", self.server.origin());
        let req = if post {
            self.http.post(url)
        } else {
            self.http.get(url)
        };
        let resp = req.send().await.expect("answered");
        let status = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body, retry)
    }
}

#[tokio::test]
async fn faults_answer_with_the_providers_bodies() {
    let toy = start(2, 0.0).await;
    toy.state.set_fail_next(1);
    let (status, body, _) = toy.call(false).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (503, Some("Service unavailable"))
    );
    let (status, _, _) = toy.call(false).await;
    assert_eq!(status, 200);
    let (status, body, retry) = toy.call(false).await;
    assert_eq!(status, 429);
    assert_eq!(body["message"], "Rate limit exceeded");
    assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1)));
    let stats = toy.state.stats();
    assert_eq!(
        (stats.requests, stats.unavailable, stats.rate_limited),
        (3, 1, 1)
    );
    assert_eq!(stats.routes.get("GET /api/items"), Some(&3));
    toy.server.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_comes_after_the_write_is_stored() {
    let toy = start(100, 1.0).await;
    let (status, body, _) = toy.call(true).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (500, Some("Internal server error"))
    );
    assert_eq!(toy.stored.load(Ordering::SeqCst), 1);
    // Reads are never lost.
    assert_eq!(toy.call(false).await.0, 200);
    toy.state.set_lose_answer_rate(f64::NAN);
    assert_eq!(toy.call(true).await.0, 200);
    assert_eq!(toy.stored.load(Ordering::SeqCst), 2);
    assert_eq!(toy.state.stats().lost_answers, 1);
    toy.server.shutdown().await;
}

#[tokio::test]
async fn offline_cuts_the_api_but_not_the_control_routes() {
    let toy = start(100, 0.0).await;
    let control = format!("{}/__sandbox/faults", toy.server.origin());
    let resp = toy
        .http
        .post(&control)
        .json(&json!({ "offline": true }))
        .send()
        .await
        .expect("control answers");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(toy.state.is_offline());
    let url = format!("{}/api/items", toy.server.origin());
    assert!(toy.http.get(&url).send().await.is_err(), "answered offline");
    let resp = toy
        .http
        .post(&control)
        .json(&json!({ "offline": false, "fail_next": 1, "delay_ms": 1 }))
        .send()
        .await
        .expect("control answers while offline");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["offline"], false);
    assert_eq!(body["faults"]["fail_next"], 1);
    assert_eq!(toy.call(false).await.0, 503);
    assert_eq!(toy.call(false).await.0, 200);
    let typo = toy
        .http
        .post(&control)
        .json(&json!({ "fail_nxt": 1 }))
        .send()
        .await
        .expect("answers");
    assert_eq!(typo.status().as_u16(), 400);
    let stats: Value = toy
        .http
        .get(format!("{}/__sandbox/stats", toy.server.origin()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["stats"]["unavailable"], 1);
    toy.server.shutdown().await;
}

impl Toy {
    async fn steer(&self, patch: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/__sandbox/faults", self.server.origin()))
            .json(&patch)
            .send()
            .await
            .expect("control answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    fn served(&self, kind: &str) -> u64 {
        self.state
            .stats()
            .faults_served
            .get(kind)
            .copied()
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn a_storm_answers_429_with_rate_headers_then_passes() {
    let toy = start(100, 0.0).await;
    let (status, body) = toy
        .steer(json!({ "storm_next": 2, "storm_retry_after_s": 3 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["switches"]["storm_next"], 2);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    for _ in 0..2 {
        let answer =
            crate::sandbox::fault_kit::raw::send(toy.server.addr(), "GET", "/api/items", &[], "")
                .await;
        assert_eq!(answer.status(), 429);
        assert_eq!(answer.header("retry-after").as_deref(), Some("3"));
        assert_eq!(answer.header("x-ratelimit-limit").as_deref(), Some("100"));
        assert_eq!(answer.header("x-ratelimit-remaining").as_deref(), Some("0"));
        let reset: u64 = answer
            .header("x-ratelimit-reset")
            .and_then(|r| r.parse().ok())
            .expect("reset");
        assert!(reset >= now + 3, "reset {reset} is a Unix time after now");
        let body: Value = serde_json::from_slice(&answer.body).expect("json");
        assert_eq!(body["message"], "Rate limit exceeded");
    }
    assert_eq!(toy.call(false).await.0, 200);
    assert_eq!(toy.served("storm"), 2);
    assert_eq!(toy.state.stats().rate_limited, 2);
    toy.server.shutdown().await;
}

#[tokio::test]
async fn the_error_rate_is_seeded_and_answers_before_the_handler() {
    let a = start(1000, 0.0).await;
    let b = start(1000, 0.0).await;
    for toy in [&a, &b] {
        assert_eq!(toy.steer(json!({ "error_rate": 0.5 })).await.0, 200);
    }
    let mut runs = Vec::new();
    for toy in [&a, &b] {
        let mut statuses = Vec::new();
        for _ in 0..24 {
            statuses.push(toy.call(true).await.0);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "same seed, same answers");
    let failed = runs[0].iter().filter(|s| **s == 503).count();
    assert!(failed > 0 && failed < 24, "{:?}", runs[0]);
    assert!(runs[0].iter().all(|s| *s == 503 || *s == 200));
    // A refused write was never stored.
    assert_eq!(a.stored.load(Ordering::SeqCst) as usize, 24 - failed);
    assert_eq!(a.served("error_rate") as usize, failed);
    assert_eq!(a.steer(json!({ "error_rate": 1.0 })).await.0, 200);
    assert_eq!(a.call(false).await.0, 503);
    assert_eq!(a.steer(json!({ "reset": true })).await.0, 200);
    assert_eq!(a.call(false).await.0, 200);
    a.server.shutdown().await;
    b.server.shutdown().await;
}

#[tokio::test]
async fn malformed_and_truncated_answers_show_in_the_bytes() {
    let toy = start(100, 0.0).await;
    assert_eq!(
        toy.steer(json!({ "malformed_json_next": 1, "truncate_next": 1 }))
            .await
            .0,
        200
    );
    let addr = toy.server.addr();
    let raw = crate::sandbox::fault_kit::raw::send;
    let malformed = raw(addr, "GET", "/api/rows", &[], "").await;
    assert_eq!(malformed.status(), 200);
    assert!(malformed.body.starts_with(br#"{"items": ["#));
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());

    let cut = raw(addr, "GET", "/api/rows", &[], "").await;
    assert_eq!(cut.status(), 200);
    let declared: usize = cut
        .header("content-length")
        .and_then(|n| n.parse().ok())
        .expect("declared length");
    assert!(
        !cut.body.is_empty() && cut.body.len() < declared,
        "{} of {declared} bytes",
        cut.body.len()
    );
    // A client library sees an error, not a short body.
    assert_eq!(toy.steer(json!({ "truncate_next": 1 })).await.0, 200);
    let resp = toy
        .http
        .get(format!("{}/api/rows", toy.server.origin()))
        .send()
        .await
        .expect("headers arrive");
    assert!(resp.bytes().await.is_err());

    let whole = raw(addr, "GET", "/api/rows", &[], "").await;
    assert!(serde_json::from_slice::<Value>(&whole.body).is_ok());
    assert_eq!(toy.served("malformed_json"), 1);
    assert_eq!(toy.served("truncate"), 2);
    toy.server.shutdown().await;
}

#[tokio::test]
async fn a_hanging_answer_never_finishes_and_does_not_hold_shutdown() {
    let toy = start(100, 0.0).await;
    assert_eq!(toy.steer(json!({ "hang_next": 1 })).await.0, 200);
    let resp = toy
        .http
        .get(format!("{}/api/rows", toy.server.origin()))
        .send()
        .await
        .expect("status and headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    let mut resp = resp;
    let first = resp
        .chunk()
        .await
        .expect("first chunk")
        .expect("some bytes");
    assert!(!first.is_empty());
    let rest = tokio::time::timeout(Duration::from_millis(300), resp.chunk()).await;
    assert!(rest.is_err(), "the body went on");
    assert_eq!(toy.served("hang"), 1);
    // Shutdown ends the hanging answer instead of waiting for it (the
    // server's own cap is 5 s).
    let shutdown = tokio::time::timeout(Duration::from_secs(4), toy.server.shutdown()).await;
    assert!(shutdown.is_ok(), "shutdown waited for the hanging answer");
    let end = tokio::time::timeout(Duration::from_secs(4), resp.chunk())
        .await
        .expect("the body ends once the server stops");
    assert!(end.is_err(), "a cut body, not a complete one: {end:?}");
}

#[tokio::test]
async fn wrong_types_break_every_nth_row_of_lists() {
    let toy = start(100, 0.0).await;
    assert_eq!(toy.steer(json!({ "wrong_type_every": 2 })).await.0, 200);
    let body: Value = toy
        .http
        .get(format!("{}/api/rows", toy.server.origin()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("still JSON");
    assert_eq!(body["data"][0]["name"], "One");
    assert_eq!(body["data"][1]["name"], 12345);
    assert_eq!(body["data"][2]["name"], "Three");
    assert_eq!(toy.served("wrong_type"), 1);
    assert_eq!(toy.steer(json!({ "wrong_type_every": null })).await.0, 200);
    let body: Value = toy
        .http
        .get(format!("{}/api/rows", toy.server.origin()))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["data"][1]["name"], "Two");
    toy.server.shutdown().await;
}

#[tokio::test]
async fn graphql_only_and_unknown_keys_are_refused_in_plain_words() {
    let toy = start(100, 0.0).await;
    let (status, body) = toy.steer(json!({ "partial_errors_next": 1 })).await;
    assert_eq!(status, 400);
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("only the Qpien"), "{message}");
    let (status, body) = toy.steer(json!({ "storm_nxt": 1 })).await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("storm_nxt"))
    );
    let (status, body) = toy.steer(json!({ "error_rate": "high" })).await;
    assert_eq!(status, 400, "{body}");
    // Without a registered token store the token switches do nothing.
    let (status, body) = toy
        .steer(json!({ "expire_tokens": true, "revoke_tokens": true }))
        .await;
    assert_eq!(status, 200);
    assert!(
        body["tokens"]
            .as_str()
            .is_some_and(|t| t.contains("no tokens"))
    );
    toy.server.shutdown().await;
}
