//! The client's token handling against a small local GraphQL server: which
//! answers renew the token, how often, and how a failing fetch backs off.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;

/// How the server answers token fetches and the other operations.
#[derive(Default)]
struct Server {
    token_mode: AtomicU8,
    op_mode: AtomicU8,
    token_hits: AtomicUsize,
    op_hits: AtomicUsize,
}

// Mode 0 answers normally.
const TOKEN_DOWN: u8 = 1;
const TOKEN_LIMITED: u8 = 2;
const TOKEN_REFUSED: u8 = 3;

const OP_FORBIDDEN: u8 = 1;
const OP_UNAUTHORIZED: u8 = 2;
const OP_EXPIRED_ONCE: u8 = 3;

fn graphql_error(status: StatusCode, code: Option<&str>, message: &str) -> Response {
    let mut error = json!({"message": message});
    if let Some(code) = code {
        error["extensions"] = json!({"code": code});
    }
    (status, axum::Json(json!({"data": null, "errors": [error]}))).into_response()
}

async fn endpoint(State(server): State<Arc<Server>>, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or_default();
    let query = body["query"].as_str().unwrap_or_default();
    if query.contains("generateOAuthToken") {
        let n = server.token_hits.fetch_add(1, Ordering::SeqCst);
        return match server.token_mode.load(Ordering::SeqCst) {
            TOKEN_DOWN => (StatusCode::SERVICE_UNAVAILABLE, "down").into_response(),
            TOKEN_LIMITED => (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "30")],
                "slow down",
            )
                .into_response(),
            TOKEN_REFUSED => graphql_error(StatusCode::OK, Some("INVALID_CLIENT"), "bad client"),
            _ => axum::Json(json!({"data": {"generateOAuthToken": {
                "success": true, "code": 200,
                "data": {"accessToken": format!("token-{n}"), "expiresIn": 3600}
            }}}))
            .into_response(),
        };
    }
    let n = server.op_hits.fetch_add(1, Ordering::SeqCst);
    match server.op_mode.load(Ordering::SeqCst) {
        OP_FORBIDDEN => graphql_error(StatusCode::FORBIDDEN, None, "agents cannot read this"),
        OP_UNAUTHORIZED => graphql_error(StatusCode::UNAUTHORIZED, None, "who are you"),
        OP_EXPIRED_ONCE if n == 0 => {
            graphql_error(StatusCode::OK, Some("TOKEN_EXPIRED"), "token expired")
        }
        _ => axum::Json(json!({"data": {"getContact": {
            "success": true, "code": 200,
            "data": {"_id": "p1", "firstName": "Ana", "avatar": ""}
        }}}))
        .into_response(),
    }
}

fn serve() -> (SocketAddr, Arc<Server>) {
    let server = Arc::new(Server::default());
    let app = Router::new()
        .route("/api/v1", post(endpoint))
        .with_state(server.clone());
    let addr = crate::api::http::test_server::serve_in_background(app);
    (addr, server)
}

fn client(addr: SocketAddr) -> QpienClient {
    let mut config = QpienConfig::new(
        format!("http://{addr}/api/v1"),
        "id",
        SecretString::from("secret"),
    );
    config.request_timeout = Duration::from_secs(10);
    QpienClient::new(config).unwrap()
}

async fn read(client: &QpienClient) -> ApiResult<Contact> {
    client.get_contact(&ContactId::new("p1")).await
}

fn hits(server: &Server) -> (usize, usize) {
    (
        server.token_hits.load(Ordering::SeqCst),
        server.op_hits.load(Ordering::SeqCst),
    )
}

#[tokio::test]
async fn a_403_is_not_allowed_and_keeps_the_token() {
    let (addr, server) = serve();
    let client = client(addr);
    server.op_mode.store(OP_FORBIDDEN, Ordering::SeqCst);
    let error = read(&client).await.unwrap_err();
    assert_eq!(
        error,
        ApiError::Rejected {
            code: Some(403),
            message: "not allowed: agents cannot read this".into()
        }
    );
    assert_eq!(hits(&server), (1, 1), "no token renewal, no replay");
}

#[tokio::test]
async fn a_401_renews_the_token_once_per_call() {
    let (addr, server) = serve();
    let client = client(addr);
    server.op_mode.store(OP_UNAUTHORIZED, Ordering::SeqCst);
    let error = read(&client).await.unwrap_err();
    assert!(matches!(error, ApiError::Unauthorized(_)), "{error:?}");
    assert_eq!(hits(&server), (2, 2));
}

#[tokio::test]
async fn an_expired_token_is_renewed_and_the_call_replayed() {
    let (addr, server) = serve();
    let client = client(addr);
    server.op_mode.store(OP_EXPIRED_ONCE, Ordering::SeqCst);
    assert_eq!(read(&client).await.unwrap().id.as_str(), "p1");
    assert_eq!(hits(&server), (2, 2));
}

#[tokio::test]
async fn a_failing_proactive_refresh_backs_off_within_the_tokens_life() {
    let (addr, server) = serve();
    let client = client(addr);
    read(&client).await.unwrap();
    server.token_mode.store(TOKEN_DOWN, Ordering::SeqCst);
    client.tokens.make_due().await;
    for _ in 0..5 {
        // The current token still serves every call.
        read(&client).await.unwrap();
    }
    assert_eq!(hits(&server), (2, 6), "one failed refresh, then backoff");
    let (refresh_at, expires_at) = client.tokens.schedule().await.unwrap();
    assert!(refresh_at > tokio::time::Instant::now());
    assert!(refresh_at <= expires_at);
}

#[tokio::test]
async fn a_rate_limited_token_fetch_answers_at_once_and_only_once() {
    let (addr, server) = serve();
    let client = Arc::new(client(addr));
    server.token_mode.store(TOKEN_LIMITED, Ordering::SeqCst);
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { read(&client).await })
        })
        .collect();
    for call in calls {
        let error = call.await.unwrap().unwrap_err();
        assert!(
            matches!(error, ApiError::RateLimited { retry_after } if retry_after > Duration::from_secs(10)),
            "{error:?}"
        );
    }
    assert_eq!(hits(&server), (1, 0));
}

#[tokio::test]
async fn refused_credentials_are_not_asked_again_at_once() {
    let (addr, server) = serve();
    let client = client(addr);
    server.token_mode.store(TOKEN_REFUSED, Ordering::SeqCst);
    for _ in 0..5 {
        let error = read(&client).await.unwrap_err();
        assert_eq!(error, ApiError::InvalidCredentials("bad client".into()));
    }
    assert_eq!(
        client.authenticate().await.unwrap_err(),
        ApiError::InvalidCredentials("bad client".into())
    );
    assert_eq!(hits(&server), (1, 0));
}
