//! Turning HTTP failures into agent-readable [`ApiError`]s: REST error
//! bodies, transport errors, and server text made safe for the terminal.

use std::time::Duration;

use serde_json::Value;

use crate::api::ApiError;
use crate::text;

/// Longest server-provided text kept in an error message (terminal cells).
pub const MAX_ERROR_TEXT: usize = 300;

/// Server-provided text made safe for the terminal and kept short.
pub fn server_text(s: &str) -> String {
    text::truncate(text::sanitize_line(s).trim(), MAX_ERROR_TEXT).into_owned()
}

/// The standard reason phrase of `status` ("Not Found"), or "error".
pub fn status_reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string()
}

/// A non-empty string field, made safe.
fn text_field(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(server_text)
        .filter(|s| !s.is_empty())
}

/// The message of a REST error body, whichever of the usual shapes it has.
fn body_message(json: &Value) -> Option<String> {
    text_field(json.get("message"))
        .or_else(|| match json.get("error") {
            Some(Value::Object(_)) => text_field(json.pointer("/error/message")),
            other => text_field(other),
        })
        .or_else(|| text_field(json.pointer("/errors/0/message")))
        .or_else(|| text_field(json.pointer("/errors/0")))
}

/// The body's own error code (`code`, or `error.code`), as text.
fn body_code(json: &Value) -> Option<String> {
    let code = json.get("code").or_else(|| json.pointer("/error/code"))?;
    match code {
        Value::String(s) => Some(server_text(s)).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A body that is plain text rather than JSON or an HTML error page.
fn plain_text(body: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?.trim();
    if s.is_empty() || s.starts_with('<') {
        return None;
    }
    Some(server_text(s.lines().next().unwrap_or_default())).filter(|s| !s.is_empty())
}

/// Whether a 403 says a permission of the key is missing (rather than the
/// credentials being wrong).
fn is_scope_problem(code: Option<&str>, message: &str) -> bool {
    let code = code.unwrap_or_default().to_ascii_lowercase();
    let message = message.to_ascii_lowercase();
    ["scope", "permission"]
        .iter()
        .any(|w| code.contains(w) || message.contains(w))
}

/// The agent-readable error of a non-2xx REST answer: message from
/// `message` ?? `error` (string, or object with `message`) ??
/// `errors[0].message` ?? the HTTP reason; the body's `code` when present.
pub fn rest_error(status: u16, body: &[u8]) -> ApiError {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let code = json.as_ref().and_then(body_code);
    let found = match &json {
        Some(json) => body_message(json),
        None => plain_text(body),
    };
    let message = match (found, &code) {
        // A numeric code equal to the status adds nothing.
        (Some(m), Some(c)) if c != &status.to_string() && !m.contains(c.as_str()) => {
            format!("{m} ({c})")
        }
        (Some(m), _) => m,
        (None, _) => format!("HTTP {status} {}", status_reason(status)),
    };
    match status {
        401 => ApiError::Unauthorized(message),
        403 if is_scope_problem(code.as_deref(), &message) => {
            let scope = json.as_ref().and_then(|j| {
                text_field(j.get("requiredScope"))
                    .or_else(|| text_field(j.get("scope")))
                    .or_else(|| text_field(j.get("permission")))
            });
            ApiError::InsufficientScope { scope }
        }
        403 => forbidden(&message),
        404 => ApiError::NotFound(message),
        // The caller's 429 retries are over; the scheduler paces the rest.
        429 => ApiError::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        500..=599 => ApiError::Server { status, message },
        _ => ApiError::Rejected {
            code: Some(i64::from(status)),
            message,
        },
    }
}

/// A 403 that is not about a missing scope: the credentials are fine (a
/// new token would not help) but this action is not allowed to them.
pub fn forbidden(message: &str) -> ApiError {
    ApiError::Rejected {
        code: Some(403),
        message: format!("not allowed: {message}"),
    }
}

/// The error and its causes, without the request URL.
pub(crate) fn describe(err: &reqwest::Error) -> String {
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
    server_text(&without_queries(&parts.join(": ")))
}

/// Defensive: never echo a query string even if a cause quotes a URL.
pub(crate) fn without_queries(s: &str) -> String {
    s.split_whitespace()
        .map(|word| match word.find('?') {
            Some(i) if word.contains("://") => &word[..i],
            _ => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JSON decoding failure, naming the path of the failing field.
pub(crate) fn decode_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = server_text(&e.inner().to_string());
    if path.is_empty() || path == "." {
        ApiError::Decode(inner)
    } else {
        ApiError::Decode(format!("{inner} at `{path}`"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(status: u16, body: Value) -> ApiError {
        rest_error(status, body.to_string().as_bytes())
    }

    #[test]
    fn each_status_maps_to_its_kind() {
        let body = json!({"message": "nope"});
        let rejected = |code| ApiError::Rejected {
            code: Some(code),
            message: "nope".into(),
        };
        assert_eq!(err(400, body.clone()), rejected(400));
        assert_eq!(err(422, body.clone()), rejected(422));
        assert_eq!(err(409, body.clone()), rejected(409));
        assert_eq!(err(410, body.clone()), rejected(410));
        assert_eq!(
            err(401, body.clone()),
            ApiError::Unauthorized("nope".into())
        );
        // Forbidden is final: not a reason to renew the token.
        assert_eq!(
            err(403, body.clone()),
            ApiError::Rejected {
                code: Some(403),
                message: "not allowed: nope".into()
            }
        );
        assert!(!err(403, body.clone()).is_transient());
        assert_eq!(err(404, body.clone()), ApiError::NotFound("nope".into()));
        assert!(matches!(
            err(429, body.clone()),
            ApiError::RateLimited { .. }
        ));
        assert_eq!(
            err(503, body),
            ApiError::Server {
                status: 503,
                message: "nope".into()
            }
        );
    }

    #[test]
    fn a_missing_permission_is_insufficient_scope() {
        let body =
            json!({"message": "Insufficient permissions", "requiredScope": "contacts:write"});
        assert_eq!(
            err(403, body),
            ApiError::InsufficientScope {
                scope: Some("contacts:write".into())
            }
        );
        let body = json!({"error": "forbidden", "code": "INSUFFICIENT_SCOPE"});
        assert_eq!(err(403, body), ApiError::InsufficientScope { scope: None });
    }

    #[test]
    fn the_message_comes_from_each_body_shape() {
        let message = |body: Value| match err(400, body) {
            ApiError::Rejected { message, .. } => message,
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(message(json!({"message": "a"})), "a");
        assert_eq!(message(json!({"error": "b"})), "b");
        assert_eq!(message(json!({"error": {"message": "c"}})), "c");
        assert_eq!(
            message(json!({"errors": [{"message": "d"}, {"message": "x"}]})),
            "d"
        );
        assert_eq!(message(json!({"errors": ["e"]})), "e");
        // An empty message falls through to the next shape.
        assert_eq!(message(json!({"message": "", "error": "f"})), "f");
        assert_eq!(
            message(
                json!({"success": false, "message": "Invalid or missing API key", "code": "INVALID_API_KEY"})
            ),
            "Invalid or missing API key (INVALID_API_KEY)"
        );
        assert_eq!(message(json!({"message": "g", "code": 400})), "g");
        assert_eq!(
            message(json!({"error": {"message": "h", "code": 7}})),
            "h (7)"
        );
        assert_eq!(message(json!({"unrelated": true})), "HTTP 400 Bad Request");
        assert_eq!(message(json!([1, 2])), "HTTP 400 Bad Request");
        assert_eq!(message(json!({"message": 5})), "HTTP 400 Bad Request");
    }

    #[test]
    fn garbage_and_empty_bodies_fall_back_to_the_reason() {
        assert_eq!(
            rest_error(404, b""),
            ApiError::NotFound("HTTP 404 Not Found".into())
        );
        assert_eq!(
            rest_error(502, b"<html><body>Bad gateway</body></html>"),
            ApiError::Server {
                status: 502,
                message: "HTTP 502 Bad Gateway".into()
            }
        );
        assert_eq!(
            rest_error(400, b"\xff\xfe\x00garbage"),
            ApiError::Rejected {
                code: Some(400),
                message: "HTTP 400 Bad Request".into()
            }
        );
        assert_eq!(
            rest_error(429, b"Rate limit exceeded"),
            ApiError::RateLimited {
                retry_after: Duration::from_secs(1)
            }
        );
        assert_eq!(
            rest_error(409, b"already exists\nsecond line"),
            ApiError::Rejected {
                code: Some(409),
                message: "already exists".into()
            }
        );
        assert_eq!(
            rest_error(599, b""),
            ApiError::Server {
                status: 599,
                message: "HTTP 599 error".into()
            }
        );
    }

    #[test]
    fn huge_and_hostile_messages_are_bounded_and_clean() {
        let long = "\u{1b}]0;pwned\u{7}".to_string() + &"y".repeat(100_000);
        let ApiError::Rejected { message, .. } = err(422, json!({ "message": long })) else {
            panic!("not rejected");
        };
        assert!(!message.contains('\u{1b}'));
        assert!(message.chars().count() <= MAX_ERROR_TEXT);
        let ApiError::NotFound(message) = rest_error(404, "z".repeat(1 << 20).as_bytes()) else {
            panic!("not not-found");
        };
        assert!(message.chars().count() <= MAX_ERROR_TEXT);
    }

    #[test]
    fn urls_in_causes_lose_their_query() {
        assert_eq!(
            without_queries("error sending request for url (https://h.example/v1/x?apiKey=s3cret)"),
            "error sending request for url (https://h.example/v1/x"
        );
        assert_eq!(without_queries("what? no url"), "what? no url");
    }

    #[test]
    fn server_text_is_sanitized_and_bounded() {
        let long = "\u{1b}]0;pwned\u{7}x".to_string() + &"y".repeat(1000);
        let s = server_text(&long);
        assert!(!s.contains('\u{1b}'));
        assert!(s.chars().count() <= MAX_ERROR_TEXT);
    }
}
