//! The client against a small local server: 429 handling, the body cap, the
//! timeout, and secrets kept out of errors and logs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use secrecy::SecretString;

use super::*;

const SECRET: &str = "s3cret-api-key";

#[derive(Clone, Default)]
struct Hits(Arc<AtomicUsize>);

async fn echo(uri: Uri, headers: HeaderMap) -> impl IntoResponse {
    let names: Vec<String> = headers.keys().map(|k| k.to_string()).collect();
    (
        [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "30")],
        axum::Json(serde_json::json!({
            "uri": uri.to_string(),
            "headers": names,
            "api_key": headers.get("x-api-key").and_then(|v| v.to_str().ok()),
        })),
    )
}

async fn always_limited(State(hits): State<Hits>) -> impl IntoResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "0")],
        "Rate limit exceeded",
    )
}

async fn limited_once(State(hits): State<Hits>) -> impl IntoResponse {
    if hits.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "0")],
            "slow down",
        );
    }
    (StatusCode::OK, [("retry-after", "0")], "done")
}

async fn huge() -> impl IntoResponse {
    vec![b'x'; MAX_BODY_BYTES + 1]
}

async fn hang() -> &'static str {
    std::future::pending::<()>().await;
    "never"
}

/// 503 on the first call, then an answer.
async fn down_once(State(hits): State<Hits>) -> impl IntoResponse {
    if hits.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    axum::Json(serde_json::json!({"ok": true})).into_response()
}

async fn always_down(State(hits): State<Hits>) -> impl IntoResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    (StatusCode::BAD_GATEWAY, "<html>Bad gateway</html>")
}

/// A 200 whose body is not JSON, on the first call.
async fn garbage_once(State(hits): State<Hits>) -> impl IntoResponse {
    if hits.0.fetch_add(1, Ordering::SeqCst) == 0 {
        return (
            [("content-type", "application/json")],
            "<html>maintenance</html>",
        )
            .into_response();
    }
    axum::Json(serde_json::json!({"ok": true})).into_response()
}

async fn always_garbage(State(hits): State<Hits>) -> impl IntoResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    ([("content-type", "application/json")], "{\"a\": nope}")
}

/// Complete HTTP, but the JSON stops half-way.
async fn half_json(State(hits): State<Hits>) -> impl IntoResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    (
        [("content-type", "application/json")],
        "{\"items\": [{\"id\": 1}, {\"id\"",
    )
}

async fn limited_long(State(hits): State<Hits>) -> impl IntoResponse {
    hits.0.fetch_add(1, Ordering::SeqCst);
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "30")],
        "Rate limit exceeded",
    )
}

async fn refuse() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        r#"{"error":{"message":"Contact not found"}}"#,
    )
}

/// Serves on its own thread and runtime, so the server's own logging is not
/// mixed into what a test captures from the client.
fn serve() -> (SocketAddr, Hits) {
    let hits = Hits::default();
    let app = Router::new()
        .route("/v1/echo", any(echo))
        .route("/v1/limited", get(always_limited))
        .route("/v1/once", get(limited_once))
        .route("/v1/huge", get(huge))
        .route("/v1/hang", get(hang))
        .route("/v1/missing", get(refuse))
        .route("/v1/down-once", any(down_once))
        .route("/v1/down", any(always_down))
        .route("/v1/garbage-once", any(garbage_once))
        .route("/v1/garbage", any(always_garbage))
        .route("/v1/half", any(half_json))
        .route("/v1/limited-long", any(limited_long))
        .with_state(hits.clone());
    let addr = crate::api::http::test_server::serve_in_background(app);
    (addr, hits)
}

fn client(addr: SocketAddr, timeout: Duration) -> HttpClient {
    HttpClient::new(
        &format!("http://{addr}/v1/"),
        timeout,
        Arc::new(Scheduler::new(1000)),
        "test",
    )
    .unwrap()
}

fn key() -> SecretString {
    SecretString::from(SECRET)
}

#[tokio::test]
async fn sends_the_request_and_takes_in_the_rate_headers() {
    let (addr, _) = serve();
    let http = client(addr, Duration::from_secs(10));
    let response = http
        .send(
            HttpRequest::post("/echo")
                .query("phone", "+971 5")
                .secret_query("apiKey", &key())
                .secret_header("x-api-key", &key())
                .json(serde_json::json!({"a": 1})),
        )
        .await
        .unwrap();
    assert!(response.is_success());
    let json = response.json().unwrap();
    assert_eq!(
        json["uri"],
        format!("/v1/echo?phone=%2B971+5&apiKey={SECRET}")
    );
    assert_eq!(json["api_key"], SECRET);
    // Remaining 0 until the reset: the account holds back.
    assert!(http.scheduler().status().paused_until.is_some());
}

#[tokio::test]
async fn a_429_pauses_and_retries_then_gives_up() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(10));
    let once = http.send(HttpRequest::get("once")).await.unwrap();
    assert_eq!((once.status, once.body.as_slice()), (200, &b"done"[..]));

    let (addr, hits_always) = serve();
    let http = client(addr, Duration::from_secs(10));
    let error = http.send(HttpRequest::get("limited")).await.unwrap_err();
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    assert_eq!(
        hits_always.0.load(Ordering::SeqCst),
        1 + MAX_RATE_LIMIT_RETRIES as usize
    );
    assert_eq!(hits.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_statuses_come_back_as_answers() {
    let (addr, _) = serve();
    let http = client(addr, Duration::from_secs(10));
    let response = http.send(HttpRequest::get("missing")).await.unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(
        rest_error(response.status, &response.body),
        ApiError::NotFound("Contact not found".into())
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (addr, _) = serve();
    let http = client(addr, Duration::from_secs(30));
    let error = http.send(HttpRequest::get("huge")).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Decode(m) if m.contains("16 MiB")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (addr, _) = serve();
    let http = client(addr, Duration::from_millis(300));
    let error = http.send(HttpRequest::get("hang")).await.unwrap_err();
    assert_eq!(error, ApiError::Timeout(Duration::from_millis(300)));
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_reach_debug_errors_or_logs() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (addr, _) = serve();
    let http = client(addr, Duration::from_secs(10));
    let request = || {
        HttpRequest::get("limited")
            .secret_query("apiKey", &key())
            .secret_header("x-api-key", &key())
            .bearer(&key())
    };
    let mut texts = vec![format!("{:?}", request()), format!("{http:?}")];
    // Refused, retried and given up on: every log line of that path.
    texts.push(http.send(request()).await.unwrap_err().to_string());
    // Nobody listening: the transport error.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let unreachable = client(closed, Duration::from_secs(10));
    let error = unreachable.send(request()).await.unwrap_err();
    assert!(matches!(error, ApiError::Network(_)), "{error:?}");
    texts.push(error.to_string());
    // A base URL with a query in it is shown without it.
    let bad = HttpClient::new(
        &format!("ftp://h.example/?apiKey={SECRET}"),
        Duration::from_secs(1),
        Arc::new(Scheduler::new(1)),
        "test",
    )
    .unwrap_err();
    texts.push(bad.to_string());

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("rate-limited (429)"), "{logs}");
    texts.push(logs);
    for text in texts {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn a_read_that_meets_a_5xx_is_tried_again() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(10));
    let response = http.send(HttpRequest::get("down-once")).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(hits.0.load(Ordering::SeqCst), 2);
    // A query sent by POST is a read too, when marked so.
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(10));
    let response = http
        .send(HttpRequest::post("down-once").read(true))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(hits.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_write_is_never_sent_twice() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(10));
    for request in [
        HttpRequest::post("down-once"),
        HttpRequest::put("down"),
        HttpRequest::get("down").read(false),
    ] {
        hits.0.store(0, Ordering::SeqCst);
        let response = http.send(request).await.unwrap();
        assert!(response.status >= 500);
        assert_eq!(hits.0.load(Ordering::SeqCst), 1);
    }
    let error = http.send(HttpRequest::post("garbage")).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(hits.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_read_gives_up_after_a_few_tries() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(30));
    let response = http.send(HttpRequest::get("down")).await.unwrap();
    assert_eq!(response.status, 502);
    assert_eq!(hits.0.load(Ordering::SeqCst), READ_ATTEMPTS as usize);
    assert_eq!(
        rest_error(response.status, &response.body),
        ApiError::Server {
            status: 502,
            message: "HTTP 502 Bad Gateway".into()
        }
    );
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_a_clear_passing_error() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(30));
    let response = http.send(HttpRequest::get("garbage-once")).await.unwrap();
    assert_eq!(response.json().unwrap()["ok"], true);
    assert_eq!(hits.0.load(Ordering::SeqCst), 2);

    let error = http.send(HttpRequest::get("garbage")).await.unwrap_err();
    assert_eq!(
        error,
        ApiError::Server {
            status: 200,
            message: "the server answered with something that is not JSON".into()
        }
    );
    assert!(error.is_transient());
    assert_eq!(hits.0.load(Ordering::SeqCst), 2 + READ_ATTEMPTS as usize);

    hits.0.store(0, Ordering::SeqCst);
    let error = http.send(HttpRequest::get("half")).await.unwrap_err();
    assert_eq!(
        error,
        ApiError::Network("the server's answer was cut off".into())
    );
    assert_eq!(hits.0.load(Ordering::SeqCst), READ_ATTEMPTS as usize);
}

/// A server that promises more body than it sends, then hangs up.
fn serve_cut_off() -> (SocketAddr, Hits) {
    use std::io::{Read, Write};
    let hits = Hits::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.0.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"items\": [",
            );
            let _ = stream.flush();
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn a_body_cut_off_by_the_connection_is_a_clear_passing_error() {
    let (addr, hits) = serve_cut_off();
    let http = client(addr, Duration::from_secs(30));
    let error = http.send(HttpRequest::get("x")).await.unwrap_err();
    assert_eq!(
        error,
        ApiError::Network("the server's answer was cut off".into())
    );
    assert_eq!(hits.0.load(Ordering::SeqCst), READ_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_429_wait_past_the_deadline_answers_at_once() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(5));
    let error = http
        .send(HttpRequest::get("limited-long"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ApiError::RateLimited {
            retry_after: Duration::from_secs(30)
        }
    );
    assert_eq!(hits.0.load(Ordering::SeqCst), 1);
    // The account holds back for the server's wait all the same.
    assert!(http.scheduler().status().paused_until.is_some());
    // The next call does not even reach the server.
    let error = http.send(HttpRequest::get("echo")).await.unwrap_err();
    assert!(
        matches!(error, ApiError::RateLimited { retry_after } if retry_after > Duration::from_secs(5)),
        "{error:?}"
    );
    assert_eq!(hits.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_request_marked_fail_fast_does_not_wait_out_a_429() {
    let (addr, hits) = serve();
    let http = client(addr, Duration::from_secs(10));
    let error = http
        .send(HttpRequest::get("limited").fail_fast_when_limited())
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    assert_eq!(hits.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_spent_budget_past_the_deadline_is_rate_limited_not_a_silent_wait() {
    let (addr, _) = serve();
    let http = HttpClient::new(
        &format!("http://{addr}/v1/"),
        Duration::from_secs(5),
        Arc::new(Scheduler::with_window(1, Duration::from_secs(60))),
        "test",
    )
    .unwrap();
    http.send(HttpRequest::get("missing")).await.unwrap();
    let error = http.send(HttpRequest::get("missing")).await.unwrap_err();
    assert!(
        matches!(error, ApiError::RateLimited { retry_after } if retry_after > Duration::from_secs(5)),
        "{error:?}"
    );
    assert!(error.to_string().contains("retrying in"), "{error}");
}
