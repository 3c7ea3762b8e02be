//! GraphQL over HTTP at `/api/v1`, with the rate limiter and fault
//! injection as middleware in front of it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use async_graphql::dynamic::Schema;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::ops::{RequestAuth, RequestEffects};
use super::rate_limit::Decision;
use super::{Shared, control, faults, lock};

/// Largest body the fault rewriter will buffer.
const MAX_BODY: usize = 64 * 1024 * 1024;

#[derive(Clone)]
pub(crate) struct App {
    pub(crate) shared: Arc<Shared>,
    schema: Schema,
}

pub(crate) fn router(shared: Arc<Shared>, schema: Schema) -> Router {
    let app = App { shared, schema };
    // Routes added after the layer bypass it: steering the sandbox neither
    // counts against the rate limit nor meets the faults it sets.
    Router::new()
        .route("/api/v1", post(graphql).get(hint))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .route("/__sandbox/faults", post(control::set_faults))
        .route("/__sandbox/stats", get(control::stats))
        .with_state(app)
}

async fn hint() -> &'static str {
    "Qpien sandbox: POST GraphQL requests here as JSON {query, variables, operationName}.\n"
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub(crate) fn bad_request(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] }),
    )
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The answer of a server with a query-cost limit to a document with more
/// root fields (aliases) than it allows.
fn too_many_root_fields(app: &App, query: &str) -> Option<Response> {
    let max = lock(&app.shared.faults).max_root_fields?;
    let document = async_graphql_parser::parse_query(query).ok()?;
    let count = document
        .operations
        .iter()
        .map(|(_, operation)| operation.node.selection_set.node.items.len())
        .max()
        .unwrap_or(0);
    (count > max).then(|| {
        json_response(
            StatusCode::OK,
            &json!({
                "data": null,
                "errors": [{
                    "message": format!("Query is too complex: {count} root fields, at most {max} allowed"),
                    "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
                }]
            }),
        )
    })
}

async fn graphql(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("Request body is not valid JSON");
    };
    let Some(query) = parsed.get("query").and_then(Value::as_str) else {
        return bad_request("Missing \"query\" in the request body");
    };
    if let Some(refusal) = too_many_root_fields(&app, query) {
        return refusal;
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(op) = parsed.get("operationName").and_then(Value::as_str) {
        request = request.operation_name(op);
    }
    match parsed.get("variables") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => {
            request = request.variables(async_graphql::Variables::from_json(v.clone()));
        }
        Some(_) => return bad_request("\"variables\" must be an object"),
    }
    let effects = Arc::new(RequestEffects::default());
    let request = request
        .data(RequestAuth {
            bearer: bearer(&headers),
        })
        .data(effects.clone());
    let response = app.schema.execute(request).await;
    if effects.lose_answer.load(Ordering::Relaxed) {
        app.shared.lost_answers.fetch_add(1, Ordering::Relaxed);
        app.shared.kit.count("lose_answers");
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "errors": [{ "message": "Internal server error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] }),
        );
    }
    let mut out = serde_json::to_value(&response).unwrap_or_else(
        |e| json!({ "data": null, "errors": [{ "message": format!("internal: {e}") }] }),
    );
    shape_errors(&mut out);
    let broken = std::mem::take(&mut *lock(&effects.malformed));
    if !broken.is_empty() {
        app.shared.kit.count("wrong_type");
        let how = lock(&app.shared.faults).malformed;
        if let Some(data) = out.get_mut("data") {
            faults::malform(data, &broken, how);
        }
    }
    json_response(StatusCode::OK, &out)
}

/// Brings errors into the documented shape: `data: null` present,
/// `success: false` inside coded errors (qpien.md §2.4), and validation errors
/// tagged and worded like the Apollo-style server the real API is.
fn shape_errors(out: &mut Value) {
    let Some(obj) = out.as_object_mut() else {
        return;
    };
    let Some(errors) = obj.get_mut("errors").and_then(Value::as_array_mut) else {
        return;
    };
    for err in errors.iter_mut() {
        let Some(e) = err.as_object_mut() else {
            continue;
        };
        let has_code = e.get("extensions").and_then(|x| x.get("code")).is_some();
        if has_code {
            e.insert("success".into(), Value::Bool(false));
        } else if !e.contains_key("path") {
            if let Some(Value::String(msg)) = e.get_mut("message")
                && let Some(rest) = msg.strip_prefix("Unknown field ")
            {
                *msg = format!("Cannot query field {rest}");
            }
            let ext = e.entry("extensions").or_insert_with(|| json!({}));
            if let Some(ext) = ext.as_object_mut() {
                ext.insert("code".into(), json!("GRAPHQL_VALIDATION_FAILED"));
            }
        }
    }
    obj.entry("data").or_insert(Value::Null);
}

fn rate_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(d.reset_secs));
}

/// Counts a request as in flight until it is answered or dropped (a client
/// that goes away mid-request may cancel the handler).
struct InFlight<'a>(&'a super::Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a super::Shared) -> Self {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts, rate-limits and applies injected faults to every request.
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let shared = &app.shared;
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let _in_flight = InFlight::enter(shared);
    let decision = lock(&shared.rate).hit(Instant::now());
    if !decision.allowed {
        shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut resp = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({ "errors": [{ "message": "Too many requests", "extensions": { "code": "RATE_LIMITED" } }] }),
        );
        rate_headers(resp.headers_mut(), &decision);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(decision.reset_secs));
        return resp;
    }

    if let Some(secs) = shared.kit.take_storm() {
        shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut resp = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({ "errors": [{ "message": "Too many requests", "extensions": { "code": "RATE_LIMITED" } }] }),
        );
        let storm = Decision {
            allowed: false,
            limit: decision.limit,
            remaining: 0,
            reset_secs: secs,
        };
        rate_headers(resp.headers_mut(), &storm);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return resp;
    }

    let faults = {
        let mut f = lock(&shared.faults);
        let snapshot = f.clone();
        f.fail_next = f.fail_next.saturating_sub(1);
        snapshot
    };
    if let Some(delay) = faults.delay {
        shared.kit.count("delay");
        tokio::time::sleep(delay).await;
    }
    let failing = faults.fail_next > 0;
    if failing {
        shared.kit.count("fail_next");
    }
    if failing || shared.kit.roll_error() {
        shared.unavailable.fetch_add(1, Ordering::Relaxed);
        let mut resp = json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "errors": [{ "message": "Service temporarily unavailable", "extensions": { "code": "SERVICE_UNAVAILABLE" } }] }),
        );
        rate_headers(resp.headers_mut(), &decision);
        return resp;
    }

    let mut resp = next.run(req).await;
    if let Some(delay) = faults.answer_delay {
        tokio::time::sleep(delay).await;
    }
    if faults.extra_unknown_fields || faults.drop_field.is_some() {
        resp = rewrite_body(resp, &faults).await;
    }
    if resp.status() == StatusCode::OK && shared.kit.partial_errors_pending() {
        resp = partial_errors(resp, shared).await;
    }
    if let Some(how) = shared.kit.take_broken_answer() {
        resp = shared
            .kit
            .break_answer(resp, how, r#"{"data": {"getConv"#)
            .await;
    }
    rate_headers(resp.headers_mut(), &decision);
    resp
}

/// A partial success: the last root field of `data` (the last alias of a
/// batch) becomes null with an error entry saying why, as a resolver that
/// failed on the server would leave it.
async fn partial_errors(resp: Response, shared: &Shared) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response too large").into_response();
    };
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let field = v
        .get("data")
        .and_then(Value::as_object)
        .and_then(|d| d.keys().next_back().cloned());
    let Some(field) = field.filter(|_| shared.kit.take_partial_errors()) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    v["data"][&field] = Value::Null;
    let error = json!({
        "message": format!("Internal server error while resolving {field}"),
        "path": [field],
        "extensions": { "code": "INTERNAL_SERVER_ERROR" },
        "success": false,
    });
    match v.get_mut("errors").and_then(Value::as_array_mut) {
        Some(errors) => errors.push(error),
        None => v["errors"] = json!([error]),
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let out = serde_json::to_vec(&v).map(Bytes::from).unwrap_or(bytes);
    Response::from_parts(parts, Body::from(out))
}

async fn rewrite_body(resp: Response, f: &super::Faults) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response too large").into_response();
    };
    let new_bytes = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut v) => {
            faults::rewrite(&mut v, f);
            serde_json::to_vec(&v).map(Bytes::from).unwrap_or(bytes)
        }
        // Not JSON (e.g. the GET hint): pass through untouched.
        Err(_) => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(new_bytes))
}
