//! HTTP transport: one POST per operation, pacing, timeouts, and decoding of
//! the response (GraphQL `errors[]`, the `{success, code, message, data}`
//! envelope, then the typed payload).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::operations::Operation;
use super::pacing::{Pacer, RateHeaders, retry_delay};
use crate::api::{ApiError, ApiResult};
use crate::text;

/// Responses larger than this are refused rather than buffered.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Retries after HTTP 429 before giving up with `RateLimited`.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// Longest server-provided text kept in an error message (terminal cells).
const MAX_ERROR_TEXT: usize = 300;

pub struct Transport {
    http: reqwest::Client,
    url: reqwest::Url,
    timeout: Duration,
    pacer: Pacer,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("url", &redacted_url(&self.url))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Scheme, host, port and path only: a query string could carry secrets.
fn redacted_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    shown.to_string()
}

impl Transport {
    pub fn new(base_url: &str, timeout: Duration) -> ApiResult<Self> {
        let url = reqwest::Url::parse(base_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ApiError::Network(format!(
                    "invalid API URL {:?}: expected http(s)://host/path",
                    text::sanitize_line(base_url.split('?').next().unwrap_or_default())
                ))
            })?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("termdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ApiError::Network(format!("cannot set up HTTP client: {}", describe(&e)))
            })?;
        Ok(Transport {
            http,
            url,
            timeout,
            pacer: Pacer::new(),
        })
    }

    /// The JSON request body of an operation.
    pub fn body<Q: Operation>(variables: Q::Variables) -> ApiResult<Vec<u8>> {
        serde_json::to_vec(&Q::build_query(variables))
            .map_err(|e| ApiError::Decode(format!("cannot encode request: {e}")))
    }

    /// Posts `body` and decodes the payload of root field `root`.
    /// HTTP 429 is retried here (the server did not process the request);
    /// every other failure is returned to the caller.
    pub async fn post<T: DeserializeOwned>(
        &self,
        body: &[u8],
        root: &str,
        bearer: Option<&SecretString>,
    ) -> ApiResult<T> {
        let mut attempt = 0;
        loop {
            self.pacer.acquire().await;
            let started = std::time::Instant::now();
            let (status, rate, bytes) = self.send_once(body, bearer).await?;
            self.pacer.observe(&rate).await;
            tracing::debug!(
                op = root,
                status,
                ms = started.elapsed().as_millis() as u64,
                remaining = rate.remaining,
                "qpien request"
            );
            if status == 429 {
                let jitter = rand::rng().random_range(0.0..1.0);
                let wait = retry_delay(&rate, attempt, jitter);
                if attempt >= MAX_RATE_LIMIT_RETRIES {
                    return Err(ApiError::RateLimited { retry_after: wait });
                }
                tracing::info!(
                    op = root,
                    wait_ms = wait.as_millis() as u64,
                    "rate-limited (429), waiting"
                );
                self.pacer.block_for(wait).await;
                attempt += 1;
                continue;
            }
            return decode_response(status, &bytes, root);
        }
    }

    async fn send_once(
        &self,
        body: &[u8],
        bearer: Option<&SecretString>,
    ) -> ApiResult<(u16, RateHeaders, Vec<u8>)> {
        let mut request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body.to_vec());
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| {
                    ApiError::Unauthorized("the access token is not a valid header value".into())
                })?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(|e| self.transport_error(&e))?;
            let status = response.status().as_u16();
            let now_unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let rate = RateHeaders::from_headers(response.headers(), now_unix);
            if response
                .content_length()
                .is_some_and(|len| len > MAX_BODY_BYTES as u64)
            {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| self.transport_error(&e))?
            {
                if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok((status, rate, bytes))
        };
        // reqwest's own timeout covers the same span; this one also bounds
        // slow body streaming regardless of how the client was built.
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ApiError::Timeout(self.timeout)),
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> ApiError {
        if err.is_timeout() {
            return ApiError::Timeout(self.timeout);
        }
        let host = self.url.host_str().unwrap_or("the server");
        ApiError::Network(format!("cannot reach {host}: {}", describe(err)))
    }
}

fn too_large() -> ApiError {
    ApiError::Decode(format!(
        "response larger than {} MiB refused",
        MAX_BODY_BYTES / (1024 * 1024)
    ))
}

/// The error and its causes, without the request URL.
fn describe(err: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(err);
    while let Some(e) = source {
        let s = e.to_string();
        if !parts.contains(&s) {
            parts.push(s);
        }
        source = e.source();
    }
    if parts.is_empty() {
        parts.push(if err.is_connect() {
            "connection failed".to_string()
        } else if err.is_body() || err.is_decode() {
            "the response was cut off".to_string()
        } else {
            "request failed".to_string()
        });
    }
    // Defensive: never echo a query string even if a cause quotes the URL.
    let joined = parts.join(": ");
    let cleaned: String = joined
        .split_whitespace()
        .map(|word| match word.find('?') {
            Some(i) if word.contains("://") => &word[..i],
            _ => word,
        })
        .collect::<Vec<_>>()
        .join(" ");
    server_text(&cleaned)
}

/// Server-provided text made safe for the terminal and kept short.
pub fn server_text(s: &str) -> String {
    text::truncate(text::sanitize_line(s).trim(), MAX_ERROR_TEXT).into_owned()
}

fn error_code(err: &Value) -> Option<&str> {
    err.pointer("/extensions/code")
        .or_else(|| err.get("code"))
        .and_then(Value::as_str)
}

fn error_message(err: &Value) -> String {
    err.get("message")
        .and_then(Value::as_str)
        .map(server_text)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "no message".to_string())
}

fn is_schema_mismatch(code: Option<&str>, message: &str) -> bool {
    matches!(
        code,
        Some("GRAPHQL_VALIDATION_FAILED") | Some("GRAPHQL_PARSE_FAILED")
    ) || message.contains("Cannot query field")
        || message.contains("Unknown argument")
        || message.contains("Unknown type")
}

/// Maps one GraphQL error object (`errors[i]`) to an `ApiError`.
pub fn map_graphql_error(err: &Value, http_status: u16) -> ApiError {
    let code = error_code(err);
    let message = error_message(err);
    match code {
        Some("UNAUTHORIZED") | Some("UNAUTHENTICATED") => ApiError::Unauthorized(message),
        Some("TOKEN_EXPIRED") => ApiError::TokenExpired,
        Some("INVALID_CLIENT") => ApiError::InvalidCredentials(message),
        Some("INSUFFICIENT_SCOPES") => {
            let scope = err
                .pointer("/extensions/requiredScope")
                .or_else(|| err.get("requiredScope"))
                .and_then(Value::as_str)
                .map(server_text)
                .filter(|s| !s.is_empty());
            ApiError::InsufficientScope { scope }
        }
        Some("NOT_FOUND") => ApiError::NotFound(message),
        Some("RATE_LIMITED") | Some("TOO_MANY_REQUESTS") => ApiError::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        Some("INTERNAL_SERVER_ERROR") => ApiError::Server {
            status: if http_status >= 500 { http_status } else { 500 },
            message,
        },
        _ if is_schema_mismatch(code, &message) => ApiError::SchemaMismatch(message),
        _ if http_status == 401 || http_status == 403 => ApiError::Unauthorized(message),
        _ if http_status >= 500 => ApiError::Server {
            status: http_status,
            message,
        },
        _ => ApiError::Rejected {
            code: None,
            message,
        },
    }
}

/// Picks the error to report from `errors[]`: auth problems first (they
/// decide whether to refresh the token), then the first one.
pub fn map_graphql_errors(errors: &[Value], http_status: u16) -> ApiError {
    let priority = |e: &ApiError| match e {
        ApiError::InvalidCredentials(_) => 0,
        ApiError::TokenExpired => 1,
        ApiError::Unauthorized(_) => 2,
        ApiError::InsufficientScope { .. } => 3,
        _ => 4,
    };
    errors
        .iter()
        .map(|e| map_graphql_error(e, http_status))
        .min_by_key(priority)
        .unwrap_or_else(|| ApiError::Decode("empty `errors` list".into()))
}

/// Envelope `code` as a number, whatever form it came in.
fn envelope_code(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Decodes a complete HTTP response (pure; no I/O).
pub fn decode_response<T: DeserializeOwned>(status: u16, body: &[u8], root: &str) -> ApiResult<T> {
    let reason = || {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_string()
    };
    let json: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Err(match status {
                500..=599 => ApiError::Server {
                    status,
                    message: reason(),
                },
                401 | 403 => ApiError::Unauthorized(format!("HTTP {status} {}", reason())),
                404 => ApiError::NotFound("HTTP 404 from the API endpoint; check the URL".into()),
                _ => ApiError::Decode(format!("response is not JSON (HTTP {status}): {e}")),
            });
        }
    };

    if let Some(errors) = json.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        return Err(map_graphql_errors(errors, status));
    }

    let top_message = || {
        json.get("message")
            .and_then(Value::as_str)
            .map(server_text)
            .unwrap_or_else(reason)
    };
    match status {
        500..=599 => {
            return Err(ApiError::Server {
                status,
                message: top_message(),
            });
        }
        401 | 403 => return Err(ApiError::Unauthorized(top_message())),
        _ => {}
    }

    let mut data = match json {
        Value::Object(mut map) => map.remove("data").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    if !data.is_object() {
        if !(200..300).contains(&status) {
            return Err(ApiError::Rejected {
                code: Some(i64::from(status)),
                message: format!("HTTP {status} {}", reason()),
            });
        }
        return Err(ApiError::Decode("missing field `data` in response".into()));
    }

    let envelope = data
        .get_mut(root)
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::Decode(format!("missing field `{root}` at data")))?;
    let code = envelope_code(envelope.get("code"));
    if envelope.get("success").and_then(Value::as_bool) == Some(false) {
        let message = envelope
            .get("message")
            .and_then(Value::as_str)
            .map(server_text)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "no reason given".to_string());
        return Err(match code {
            Some(404) => ApiError::NotFound(message),
            _ => ApiError::Rejected { code, message },
        });
    }
    // `code` is typed Int but documented as "number or string".
    if let Some(obj) = envelope.as_object_mut() {
        obj.insert("code".into(), code.map(Value::from).unwrap_or(Value::Null));
    }

    serde_path_to_error::deserialize::<_, T>(&data).map_err(|e| {
        let path = e.path().to_string();
        let inner = server_text(&e.inner().to_string());
        if path.is_empty() || path == "." {
            ApiError::Decode(format!("{inner} at data"))
        } else {
            ApiError::Decode(format!("{inner} at data.{path}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::qpien::operations::conversation_list;

    fn decode(status: u16, body: Value) -> ApiResult<conversation_list::ResponseData> {
        decode_response(status, body.to_string().as_bytes(), "getConversationList")
    }

    fn err(status: u16, body: Value) -> ApiError {
        decode(status, body).unwrap_err()
    }

    fn error_body(code: &str) -> Value {
        json!({"data": null, "errors": [{"message": "nope", "extensions": {"code": code}}]})
    }

    #[test]
    fn maps_each_error_code() {
        assert_eq!(
            err(200, error_body("UNAUTHORIZED")),
            ApiError::Unauthorized("nope".into())
        );
        assert_eq!(
            err(401, error_body("TOKEN_EXPIRED")),
            ApiError::TokenExpired
        );
        assert_eq!(
            err(200, error_body("INVALID_CLIENT")),
            ApiError::InvalidCredentials("nope".into())
        );
        assert_eq!(
            err(200, error_body("GRAPHQL_VALIDATION_FAILED")),
            ApiError::SchemaMismatch("nope".into())
        );
        assert_eq!(
            err(200, error_body("SOMETHING_ELSE")),
            ApiError::Rejected {
                code: None,
                message: "nope".into()
            }
        );
        assert_eq!(
            err(403, error_body("SOMETHING_ELSE")),
            ApiError::Unauthorized("nope".into())
        );
        let scopes = json!({"data": null, "errors": [{
            "message": "Insufficient scopes for this operation",
            "extensions": {"code": "INSUFFICIENT_SCOPES", "requiredScope": "write_conversations"},
            "success": false
        }]});
        assert_eq!(
            err(200, scopes),
            ApiError::InsufficientScope {
                scope: Some("write_conversations".into())
            }
        );
        let no_scope =
            json!({"errors": [{"message": "x", "extensions": {"code": "INSUFFICIENT_SCOPES"}}]});
        assert_eq!(
            err(403, no_scope),
            ApiError::InsufficientScope { scope: None }
        );
    }

    #[test]
    fn validation_messages_are_schema_mismatch() {
        for msg in [
            "Cannot query field \"foo\" on type \"Query\".",
            "Unknown argument \"bar\" on field \"getContact\".",
        ] {
            let body = json!({"errors": [{"message": msg}]});
            assert!(matches!(
                decode(400, body),
                Err(ApiError::SchemaMismatch(_))
            ));
        }
    }

    #[test]
    fn auth_error_wins_over_others() {
        let body = json!({"errors": [
            {"message": "bad", "extensions": {"code": "BAD_USER_INPUT"}},
            {"message": "old", "extensions": {"code": "TOKEN_EXPIRED"}}
        ]});
        assert_eq!(err(200, body), ApiError::TokenExpired);
    }

    #[test]
    fn envelope_failure_is_rejected_or_not_found() {
        let body = json!({"data": {"getConversationList": {"success": false, "code": 400, "message": "bad \u{1b}[31mpage"}}});
        assert_eq!(
            err(200, body),
            ApiError::Rejected {
                code: Some(400),
                message: "bad page".into()
            }
        );
        let body = json!({"data": {"getConversationList": {"success": false, "code": "404", "message": "gone"}}});
        assert_eq!(err(200, body), ApiError::NotFound("gone".into()));
    }

    #[test]
    fn server_errors_and_garbage() {
        assert!(matches!(
            decode_response::<Value>(503, b"<html><title>Down</title></html>", "x"),
            Err(ApiError::Server { status: 503, .. })
        ));
        assert!(matches!(
            decode_response::<Value>(500, br#"{"message":"boom"}"#, "x"),
            Err(ApiError::Server { status: 500, .. })
        ));
        assert!(matches!(
            decode_response::<Value>(200, b"\xff\xfe garbage", "x"),
            Err(ApiError::Decode(_))
        ));
        assert!(matches!(
            decode_response::<Value>(200, b"[1,2,3]", "x"),
            Err(ApiError::Decode(_))
        ));
        assert!(matches!(
            decode_response::<Value>(200, b"{\"data\":{\"y\":{}}}", "x"),
            Err(ApiError::Decode(m)) if m.contains("`x`")
        ));
        assert!(matches!(
            decode_response::<Value>(401, b"Unauthorized", "x"),
            Err(ApiError::Unauthorized(_))
        ));
    }

    #[test]
    fn missing_required_field_is_named_with_its_path() {
        let body = json!({"data": {"getConversationList": {
            "success": true, "code": 200,
            "data": {"totalDocs": 0, "page": 1, "hasNextPage": false}
        }}});
        match decode(200, body) {
            Err(ApiError::Decode(m)) => {
                assert!(m.contains("missing field `docs`"), "{m}");
                assert!(m.contains("data.getConversationList.data"), "{m}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn string_code_and_unknown_fields_are_tolerated() {
        let body = json!({"data": {"getConversationList": {
            "success": true, "code": "200", "extra": {"a": 1},
            "data": {"totalDocs": 1, "hasNextPage": false, "somethingNew": true,
                     "docs": [{"_id": "c1", "status": "SNOOZED", "futureField": [1]}]}
        }}, "extensions": {"cost": 3}});
        let data = decode(200, body).unwrap();
        let page = data.get_conversation_list.data.unwrap();
        assert_eq!(page.docs.len(), 1);
        assert_eq!(data.get_conversation_list.code, Some(200));
    }

    #[test]
    fn server_text_is_sanitized_and_bounded() {
        let long = "\u{1b}]0;pwned\u{7}x".to_string() + &"y".repeat(1000);
        let s = server_text(&long);
        assert!(!s.contains('\u{1b}'));
        assert!(s.chars().count() <= MAX_ERROR_TEXT);
    }
}
