//! The GraphQL side of Qpien's HTTP: one POST per operation (or per batch
//! of aliased operations) through the shared [`HttpClient`], then decoding
//! of the answer (GraphQL `errors[]`, the `{success, code, message, data}`
//! envelope, then the typed payload). Scheduling, 429s, the body cap and
//! timeouts are the shared client's.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::operations::Operation;
pub use crate::api::http::server_text;
use crate::api::http::{HttpClient, HttpRequest, forbidden, status_reason};
use crate::api::{ApiError, ApiResult};
use crate::sync::scheduler::Scheduler;

pub struct Transport {
    http: HttpClient,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("http", &self.http)
            .finish()
    }
}

impl Transport {
    pub fn new(base_url: &str, timeout: Duration, scheduler: Arc<Scheduler>) -> ApiResult<Self> {
        Ok(Transport {
            http: HttpClient::new(base_url, timeout, scheduler, "qpien")?,
        })
    }

    pub fn scheduler(&self) -> &Arc<Scheduler> {
        self.http.scheduler()
    }

    /// The JSON request body of an operation.
    pub fn body<Q: Operation>(variables: Q::Variables) -> ApiResult<Vec<u8>> {
        serde_json::to_vec(&Q::build_query(variables))
            .map_err(|e| ApiError::Decode(format!("cannot encode request: {e}")))
    }

    /// Posts `body` and decodes the payload of root field `root`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        body: &[u8],
        root: &'static str,
        bearer: Option<&SecretString>,
    ) -> ApiResult<T> {
        let (status, bytes) = self.exchange(body, root, bearer).await?;
        decode_response(status, &bytes, root)
    }

    /// Posts `body` and returns the whole `data` object, its envelope at
    /// `root` checked but not yet decoded (list callers prune bad rows first).
    pub async fn post_data(
        &self,
        body: &[u8],
        root: &'static str,
        bearer: Option<&SecretString>,
    ) -> ApiResult<Value> {
        let (status, bytes) = self.exchange(body, root, bearer).await?;
        let mut data = decode_json(status, &bytes)?;
        check_envelope(&mut data, root)?;
        Ok(data)
    }

    /// Posts a document built by [`batch_body`] and splits the answer per
    /// alias (see [`decode_batch`]).
    pub async fn post_batch(
        &self,
        body: &[u8],
        root: &'static str,
        count: usize,
        bearer: Option<&SecretString>,
    ) -> ApiResult<Vec<ApiResult<Value>>> {
        let (status, bytes) = self.exchange(body, root, bearer).await?;
        decode_batch(status, &bytes, root, count)
    }

    /// One POST of `body` to the endpoint; 429s are waited out by the
    /// shared client, every other status is decoded by the caller.
    async fn exchange(
        &self,
        body: &[u8],
        root: &'static str,
        bearer: Option<&SecretString>,
    ) -> ApiResult<(u16, Vec<u8>)> {
        let mut request = HttpRequest::post("")
            .raw_body("application/json", body.to_vec())
            .operation(root)
            .read(is_query(body));
        if bearer.is_none() {
            // Only the token fetch goes without a token: it holds up every
            // other request, so it never sits out a 429 window.
            request = request.fail_fast_when_limited();
        }
        if let Some(token) = bearer {
            request = request.bearer(token);
        }
        let response = self.http.send(request).await?;
        Ok((response.status, response.body))
    }
}

/// Whether a request body holds a query (a read, safe to send again) rather
/// than a mutation.
pub fn is_query(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Document<'a> {
        #[serde(borrow)]
        query: std::borrow::Cow<'a, str>,
    }
    let Ok(document) = serde_json::from_slice::<Document>(body) else {
        return false;
    };
    let text = strip_comments(&document.query);
    let text = text.trim_start();
    text.starts_with('{')
        || text
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            == Some("query")
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
        _ if http_status == 401 => ApiError::Unauthorized(message),
        _ if http_status == 403 => forbidden(&message),
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

/// The body as JSON; a body that is not JSON is judged by its status.
fn parse_body(status: u16, body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|e| match status {
        500..=599 => ApiError::Server {
            status,
            message: status_reason(status),
        },
        401 => ApiError::Unauthorized(format!("HTTP {status} {}", status_reason(status))),
        403 => forbidden(&format!("HTTP {status} {}", status_reason(status))),
        404 => ApiError::NotFound("HTTP 404 from the API endpoint; check the URL".into()),
        _ => ApiError::Decode(format!("response is not JSON (HTTP {status}): {e}")),
    })
}

/// HTTP-level failures that GraphQL `errors[]` did not already explain.
fn check_status(status: u16, json: &Value) -> ApiResult<()> {
    let top_message = || {
        json.get("message")
            .and_then(Value::as_str)
            .map(server_text)
            .unwrap_or_else(|| status_reason(status))
    };
    match status {
        500..=599 => Err(ApiError::Server {
            status,
            message: top_message(),
        }),
        401 => Err(ApiError::Unauthorized(top_message())),
        403 => Err(forbidden(&top_message())),
        _ => Ok(()),
    }
}

fn take_data(status: u16, json: Value) -> ApiResult<Value> {
    let data = match json {
        Value::Object(mut map) => map.remove("data").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    if data.is_object() {
        return Ok(data);
    }
    if !(200..300).contains(&status) {
        return Err(ApiError::Rejected {
            code: Some(i64::from(status)),
            message: format!("HTTP {status} {}", status_reason(status)),
        });
    }
    Err(ApiError::Decode("missing field `data` in response".into()))
}

/// The `data` object of a complete HTTP response, after `errors[]` and the
/// HTTP status (pure; no I/O).
pub fn decode_json(status: u16, body: &[u8]) -> ApiResult<Value> {
    let json = parse_body(status, body)?;
    if let Some(errors) = json.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        return Err(map_graphql_errors(errors, status));
    }
    check_status(status, &json)?;
    take_data(status, json)
}

/// Checks the `{success, code, message, data}` envelope at `data.<root>`
/// and normalizes its `code`.
pub fn check_envelope(data: &mut Value, root: &str) -> ApiResult<()> {
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
    Ok(())
}

/// Typed decoding of a `data` object; a failure names the path of the field.
pub fn decode_data<T: DeserializeOwned>(data: &Value) -> ApiResult<T> {
    serde_path_to_error::deserialize::<_, T>(data).map_err(|e| {
        let path = e.path().to_string();
        let inner = server_text(&e.inner().to_string());
        if path.is_empty() || path == "." {
            ApiError::Decode(format!("{inner} at data"))
        } else {
            ApiError::Decode(format!("{inner} at data.{path}"))
        }
    })
}

/// Decodes a complete HTTP response (pure; no I/O).
pub fn decode_response<T: DeserializeOwned>(status: u16, body: &[u8], root: &str) -> ApiResult<T> {
    let mut data = decode_json(status, body)?;
    check_envelope(&mut data, root)?;
    decode_data(&data)
}

/// Removes the rows at JSON `pointer` (an array of records) that do not
/// decode as `D`, so one malformed record costs only itself, never its page.
/// Returns how many were removed; each is logged with the failing field.
pub fn prune_rows<D: DeserializeOwned>(data: &mut Value, pointer: &str, what: &str) -> usize {
    let Some(rows) = data.pointer_mut(pointer).and_then(Value::as_array_mut) else {
        return 0;
    };
    let before = rows.len();
    rows.retain(|row| match serde_path_to_error::deserialize::<_, D>(row) {
        Ok(_) => true,
        Err(e) => {
            let id = row
                .get("_id")
                .and_then(Value::as_str)
                .map(server_text)
                .unwrap_or_default();
            tracing::warn!(
                field = %e.path(),
                error = %server_text(&e.inner().to_string()),
                id,
                "skipping a malformed {what}"
            );
            false
        }
    });
    before - rows.len()
}

// ---------------------------------------------------------------------------
// Batches: several operations in one request, as aliases of one document
// ---------------------------------------------------------------------------

/// The alias of the `index`-th operation of a batch.
pub fn alias(index: usize) -> String {
    format!("a{index}")
}

/// Drops `#` comments (the documents carry no string literals with `#`).
fn strip_comments(doc: &str) -> String {
    doc.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text between the bracket at byte `open` and its partner.
fn bracketed(text: &str, open: usize, left: char, right: char) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        if c == left {
            depth += 1;
        } else if c == right {
            depth -= 1;
            if depth == 0 {
                return Some((open + 1, open + i));
            }
        }
    }
    None
}

/// `$name` → `$a3_name`, so each alias keeps its own variables.
fn rename_variables(text: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' {
            out.push_str(prefix);
            while let Some(&next) = chars.peek() {
                if next.is_ascii_alphanumeric() || next == '_' {
                    out.push(next);
                    chars.next();
                } else {
                    break;
                }
            }
        }
    }
    out
}

/// The parts of a one-operation document: keyword (`query`/`mutation`),
/// variable definitions and the selection set, all without the brackets.
fn split_document(doc: &str) -> ApiResult<(&str, &str, &str)> {
    let unsupported =
        |why: &str| ApiError::Decode(format!("cannot batch this operation document: {why}"));
    let open = doc
        .find('{')
        .ok_or_else(|| unsupported("no selection set"))?;
    let header = &doc[..open];
    let keyword = header
        .split_whitespace()
        .next()
        .filter(|k| matches!(*k, "query" | "mutation"))
        .ok_or_else(|| unsupported("not a named query or mutation"))?;
    let defs = match header.find('(') {
        Some(p) => {
            let (from, to) =
                bracketed(header, p, '(', ')').ok_or_else(|| unsupported("unclosed `(`"))?;
            &header[from..to]
        }
        None => "",
    };
    let (from, to) = bracketed(doc, open, '{', '}').ok_or_else(|| unsupported("unclosed `{`"))?;
    if !doc[to + 1..].trim().is_empty() {
        return Err(unsupported("more than one definition"));
    }
    Ok((keyword, defs, &doc[from..to]))
}

/// One request body running `Q` once per variable set, as aliases `a0`,
/// `a1`, … of one document built from `Q`'s own text, so the selection
/// cannot drift from the checked single-operation document.
pub fn batch_body<Q: Operation>(variables: Vec<Q::Variables>) -> ApiResult<Vec<u8>> {
    let encode = |e: serde_json::Error| ApiError::Decode(format!("cannot encode request: {e}"));
    let mut defs = Vec::with_capacity(variables.len());
    let mut selections = Vec::with_capacity(variables.len());
    let mut all_vars = serde_json::Map::new();
    let mut keyword = "query";
    for (i, vars) in variables.into_iter().enumerate() {
        let one = Q::build_query(vars);
        let doc = strip_comments(one.query);
        let (kw, def, selection) = split_document(&doc)?;
        let root = selection.trim_start();
        if !root.starts_with(Q::ROOT) {
            return Err(ApiError::Decode(format!(
                "cannot batch this operation document: it does not start with `{}`",
                Q::ROOT
            )));
        }
        keyword = if kw == "mutation" {
            "mutation"
        } else {
            "query"
        };
        let alias = alias(i);
        let prefix = format!("{alias}_");
        if !def.trim().is_empty() {
            defs.push(rename_variables(def.trim(), &prefix));
        }
        selections.push(format!(
            "{alias}: {}",
            rename_variables(root.trim_end(), &prefix)
        ));
        match serde_json::to_value(&one.variables).map_err(encode)? {
            Value::Object(map) => {
                for (name, value) in map {
                    all_vars.insert(format!("{prefix}{name}"), value);
                }
            }
            Value::Null => {}
            _ => return Err(ApiError::Decode("variables are not an object".into())),
        }
    }
    let defs = if defs.is_empty() {
        String::new()
    } else {
        format!("({})", defs.join(", "))
    };
    let query = format!("{keyword} Batch{defs} {{\n{}\n}}", selections.join("\n"));
    serde_json::to_vec(&serde_json::json!({ "query": query, "variables": all_vars }))
        .map_err(encode)
}

/// The alias index an error entry belongs to (`path[0]` = `aN`).
fn error_alias(err: &Value, count: usize) -> Option<usize> {
    let first = err.get("path")?.as_array()?.first()?.as_str()?;
    let index: usize = first.strip_prefix('a')?.parse().ok()?;
    (index < count).then_some(index)
}

/// Splits the answer to a [`batch_body`] request per alias. Each `Ok` is a
/// `data` object `{root: envelope}` with its envelope checked, ready for
/// typed decoding like a single answer. One alias's error entry, `null` or
/// failed envelope fails only that alias. The whole batch fails when the
/// request itself did (HTTP, errors without an alias path) or when an
/// error concerns the credentials, which every alias shares.
pub fn decode_batch(
    status: u16,
    body: &[u8],
    root: &str,
    count: usize,
) -> ApiResult<Vec<ApiResult<Value>>> {
    let json = parse_body(status, body)?;
    let mut per_alias: Vec<Vec<Value>> = vec![Vec::new(); count];
    let mut global = Vec::new();
    for err in json
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match error_alias(err, count) {
            Some(i) => per_alias[i].push(err.clone()),
            None => global.push(err.clone()),
        }
    }
    if !global.is_empty() {
        return Err(map_graphql_errors(&global, status));
    }
    let alias_errors: Vec<Option<ApiError>> = per_alias
        .iter()
        .map(|errs| (!errs.is_empty()).then(|| map_graphql_errors(errs, status)))
        .collect();
    if let Some(shared) = alias_errors.iter().flatten().find(|e| {
        matches!(
            e,
            ApiError::InvalidCredentials(_)
                | ApiError::TokenExpired
                | ApiError::Unauthorized(_)
                | ApiError::InsufficientScope { .. }
        )
    }) {
        return Err(shared.clone());
    }
    check_status(status, &json)?;
    let data = match json {
        Value::Object(mut map) => map.remove("data").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let any_error = alias_errors.iter().any(Option::is_some);
    if !data.is_object() && !any_error {
        take_data(status, serde_json::json!({ "data": data }))?;
    }
    Ok(alias_errors
        .into_iter()
        .enumerate()
        .map(|(i, error)| {
            if let Some(error) = error {
                return Err(error);
            }
            let value = data.get(alias(i)).cloned().unwrap_or(Value::Null);
            if value.is_null() {
                return Err(ApiError::Decode(if data.is_object() {
                    format!("missing field `{root}` at data.{}", alias(i))
                } else {
                    "the answer was lost to another lookup's error in the same request".into()
                }));
            }
            let mut one = serde_json::json!({ root: value });
            check_envelope(&mut one, root)?;
            Ok(one)
        })
        .collect())
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
        // A 403 says the action is not allowed, not that the token is stale.
        let not_allowed = ApiError::Rejected {
            code: Some(403),
            message: "not allowed: nope".into(),
        };
        assert_eq!(err(403, error_body("SOMETHING_ELSE")), not_allowed);
        assert_eq!(
            err(403, json!({"errors": [{"message": "nope"}]})),
            not_allowed
        );
        assert_eq!(err(403, json!({"message": "nope"})), not_allowed);
        assert!(matches!(
            decode_response::<Value>(403, b"Forbidden", "x"),
            Err(ApiError::Rejected { code: Some(403), message }) if message.starts_with("not allowed")
        ));
        // The codes that do speak of the token still say so, whatever the status.
        assert_eq!(
            err(403, error_body("UNAUTHENTICATED")),
            ApiError::Unauthorized("nope".into())
        );
        assert_eq!(
            err(401, json!({"message": "nope"})),
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
        // Refusals of a write (invalid input, a state conflict, an agent who
        // cannot take work) are final: the app rolls the change back.
        for code in [400, 404, 409, 422] {
            let body = json!({"data": {"getConversationList": {"success": false, "code": code, "message": "no"}}});
            let error = err(200, body);
            assert!(!error.is_transient(), "{code}: {error:?}");
        }
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

    fn contact_vars(id: &str) -> crate::api::qpien::operations::contact::Variables {
        use crate::api::qpien::operations::contact as op;
        op::Variables {
            input: op::GetContactInput {
                contact_id: id.into(),
            },
        }
    }

    #[test]
    fn batch_document_aliases_each_operation_with_its_own_variables() {
        use crate::api::qpien::operations::Contact;
        let body = batch_body::<Contact>(vec![contact_vars("p1"), contact_vars("p2")]).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let query = body["query"].as_str().unwrap();
        assert!(
            query.starts_with(
                "query Batch($a0_input: GetContactInput!, $a1_input: GetContactInput!) {"
            ),
            "{query}"
        );
        assert!(
            query.contains("a0: getContact(input: $a0_input) {"),
            "{query}"
        );
        assert!(
            query.contains("a1: getContact(input: $a1_input) {"),
            "{query}"
        );
        assert!(!query.contains('#'), "comments are dropped: {query}");
        // The selection is the checked document's own.
        assert_eq!(query.matches("phoneUsagePermission").count(), 2);
        assert_eq!(
            body["variables"],
            json!({"a0_input": {"contactId": "p1"}, "a1_input": {"contactId": "p2"}})
        );
        // The whole document parses as GraphQL.
        async_graphql_parser::parse_query(query).expect("valid document");
    }

    fn contact_envelope(id: &str) -> Value {
        json!({"success": true, "code": "200", "data": {"_id": id, "firstName": "A", "avatar": ""}})
    }

    #[test]
    fn one_failing_alias_does_not_fail_the_others() {
        let body = json!({
            "data": {
                "a0": contact_envelope("p0"),
                "a1": null,
                "a2": {"success": false, "code": 404, "message": "Contact not found", "data": null},
                "a3": contact_envelope("p3"),
                "a4": null
            },
            "errors": [{"message": "boom", "path": ["a4", "data"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
        });
        let results = decode_batch(200, body.to_string().as_bytes(), "getContact", 5).unwrap();
        assert_eq!(results.len(), 5);
        assert_eq!(
            results[0].as_ref().unwrap()["getContact"]["data"]["_id"],
            "p0"
        );
        assert_eq!(results[0].as_ref().unwrap()["getContact"]["code"], 200);
        assert!(matches!(&results[1], Err(ApiError::Decode(m)) if m.contains("a1")));
        assert!(matches!(&results[2], Err(ApiError::NotFound(_))));
        assert!(results[3].is_ok());
        assert!(matches!(&results[4], Err(ApiError::Server { .. })));
    }

    #[test]
    fn a_lost_data_object_fails_only_the_aliases_without_their_own_error() {
        let body = json!({"data": null, "errors": [{"message": "x", "path": ["a1"]}]});
        let results = decode_batch(200, body.to_string().as_bytes(), "getContact", 2).unwrap();
        assert!(matches!(&results[0], Err(ApiError::Decode(m)) if m.contains("lost")));
        assert!(matches!(&results[1], Err(ApiError::Rejected { .. })));
    }

    #[test]
    fn request_wide_failures_fail_the_batch() {
        // A validation error has no alias path.
        let body = json!({"data": null, "errors": [{"message": "Cannot query field \"x\""}]});
        assert!(matches!(
            decode_batch(200, body.to_string().as_bytes(), "getContact", 2),
            Err(ApiError::SchemaMismatch(_))
        ));
        // Every alias shares the token: an expired one fails them all, so
        // the caller refreshes it and replays the request.
        let body = json!({"data": null, "errors": [
            {"message": "old", "path": ["a0"], "extensions": {"code": "TOKEN_EXPIRED"}},
            {"message": "old", "path": ["a1"], "extensions": {"code": "TOKEN_EXPIRED"}}
        ]});
        assert_eq!(
            decode_batch(200, body.to_string().as_bytes(), "getContact", 2).unwrap_err(),
            ApiError::TokenExpired
        );
        assert!(matches!(
            decode_batch(503, b"down", "getContact", 2),
            Err(ApiError::Server { status: 503, .. })
        ));
    }

    #[test]
    fn malformed_rows_are_pruned_and_counted() {
        use crate::api::qpien::operations::contact_list as op;
        let mut data = json!({"getContactList": {"success": true, "data": {
        "totalDocs": 3, "hasNextPage": false, "docs": [
            {"_id": "p1", "firstName": "A", "avatar": ""},
            {"firstName": "no id", "avatar": ""},
            {"_id": "p3", "firstName": 7, "avatar": ""},
            {"_id": "p4", "firstName": "D", "avatar": ""}
        ]}}});
        let skipped = prune_rows::<op::ContactListGetContactListDataDocs>(
            &mut data,
            "/getContactList/data/docs",
            "contact",
        );
        assert_eq!(skipped, 2);
        let decoded: op::ResponseData = decode_data(&data).unwrap();
        let ids: Vec<String> = decoded
            .get_contact_list
            .data
            .unwrap()
            .docs
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, vec!["p1", "p4"]);
        assert_eq!(prune_rows::<Value>(&mut json!({}), "/nothing/here", "x"), 0);
    }

    #[test]
    fn queries_are_reads_and_mutations_writes() {
        let body = |doc: &str| json!({"query": doc, "variables": {}}).to_string();
        assert!(is_query(body("query Q($a: Int) { x }").as_bytes()));
        assert!(is_query(body("# a comment\n  query Batch { a0: x }").as_bytes()));
        assert!(is_query(body("{ x }").as_bytes()));
        assert!(!is_query(body("mutation M { x }").as_bytes()));
        assert!(!is_query(body("queryish").as_bytes()));
        assert!(!is_query(b"not json"));
        use crate::api::qpien::operations::Contact;
        let read = Transport::body::<Contact>(contact_vars("p1")).unwrap();
        assert!(is_query(&read));
        let batch = batch_body::<Contact>(vec![contact_vars("p1"), contact_vars("p2")]).unwrap();
        assert!(is_query(&batch));
        for doc in [
            include_str!("../../../assets/graphql/create_message.graphql"),
            include_str!("../../../assets/graphql/generate_oauth_token.graphql"),
            include_str!("../../../assets/graphql/update_conversation.graphql"),
        ] {
            assert!(!is_query(body(doc).as_bytes()), "{doc}");
        }
        for doc in [
            include_str!("../../../assets/graphql/messages.graphql"),
            include_str!("../../../assets/graphql/conversation_list.graphql"),
        ] {
            assert!(is_query(body(doc).as_bytes()), "{doc}");
        }
    }

    #[test]
    fn a_partial_answer_keeps_the_aliases_that_have_data() {
        // A root field null with its own error, the others answered.
        let body = json!({
            "data": {"a0": contact_envelope("p0"), "a1": null, "a2": contact_envelope("p2")},
            "errors": [{"message": "Contact lookup failed", "path": ["a1"]}]
        });
        let results = decode_batch(200, body.to_string().as_bytes(), "getContact", 3).unwrap();
        assert!(results[0].is_ok() && results[2].is_ok());
        assert_eq!(
            results[1],
            Err(ApiError::Rejected {
                code: None,
                message: "Contact lookup failed".into()
            })
        );
        // A single operation with a partial error is that error, in words.
        let single = json!({
            "data": {"getConversationList": null},
            "errors": [{"message": "Conversation list failed", "path": ["getConversationList"],
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
        });
        let error = err(200, single);
        assert_eq!(
            error,
            ApiError::Server {
                status: 500,
                message: "Conversation list failed".into()
            }
        );
        assert!(error.is_transient());
    }
}
