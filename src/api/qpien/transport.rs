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
#[path = "transport_tests.rs"]
mod tests;
