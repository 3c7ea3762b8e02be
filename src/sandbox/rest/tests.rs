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
