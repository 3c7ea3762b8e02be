//! One HTTP request as data (so a 429 can replay it) and its answer.

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::errors::{decode_error, server_text};
use crate::api::{ApiError, ApiResult};

enum Body {
    Json(serde_json::Value),
    Raw(&'static str, Vec<u8>),
}

/// A request relative to the client's base URL. Secret parts (query values,
/// headers) are kept apart so they reach the wire and nothing else.
pub struct HttpRequest {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    secret_query: Vec<(&'static str, SecretString)>,
    headers: Vec<(&'static str, String)>,
    secret_headers: Vec<(&'static str, SecretString)>,
    body: Option<Body>,
    operation: Option<&'static str>,
    /// `Some(true)` marks a POST that only reads (a GraphQL query);
    /// `None` goes by the method.
    read: Option<bool>,
    fail_fast_when_limited: bool,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret_query: Vec<_> = self
            .secret_query
            .iter()
            .map(|(k, _)| format!("{k}=[redacted]"))
            .collect();
        let headers: Vec<_> = self.headers.iter().map(|(k, _)| *k).collect();
        let secret_headers: Vec<_> = self.secret_headers.iter().map(|(k, _)| *k).collect();
        let body = match &self.body {
            None => "none".to_string(),
            Some(Body::Json(_)) => "json".to_string(),
            Some(Body::Raw(ct, bytes)) => format!("{ct}, {} bytes", bytes.len()),
        };
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("secret_query", &secret_query)
            .field("headers", &headers)
            .field("secret_headers", &secret_headers)
            .field("body", &body)
            .finish()
    }
}

impl HttpRequest {
    fn new(method: Method, path: impl Into<String>) -> Self {
        HttpRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            secret_query: Vec::new(),
            headers: Vec::new(),
            secret_headers: Vec::new(),
            body: None,
            operation: None,
            read: None,
            fail_fast_when_limited: false,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// A query parameter; the value is percent-encoded on the wire.
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// A query parameter carrying a credential: sent, never logged or shown.
    pub fn secret_query(mut self, key: &'static str, value: &SecretString) -> Self {
        self.secret_query.push((key, value.clone()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A header carrying a credential (marked sensitive for the HTTP stack).
    pub fn secret_header(mut self, name: &'static str, value: &SecretString) -> Self {
        self.secret_headers.push((name, value.clone()));
        self
    }

    pub fn bearer(self, token: &SecretString) -> Self {
        let value = SecretString::from(format!("Bearer {}", token.expose_secret()));
        self.secret_header("authorization", &value)
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(Body::Json(body));
        self
    }

    /// A body already encoded by the caller.
    pub fn raw_body(mut self, content_type: &'static str, body: Vec<u8>) -> Self {
        self.body = Some(Body::Raw(content_type, body));
        self
    }

    /// Names the request in log lines (e.g. a GraphQL root field); the path
    /// is used otherwise.
    pub fn operation(mut self, name: &'static str) -> Self {
        self.operation = Some(name);
        self
    }

    /// Marks the request as a read (safe to send again) or a write, whatever
    /// its method: only reads are retried after a transient failure.
    pub fn read(mut self, read: bool) -> Self {
        self.read = Some(read);
        self
    }

    /// Whether the request only reads: GET and HEAD unless marked otherwise.
    pub fn is_read(&self) -> bool {
        self.read
            .unwrap_or(matches!(self.method, Method::GET | Method::HEAD))
    }

    /// A 429 answers `RateLimited` at once instead of being waited out
    /// (for token fetches, which others queue behind).
    pub fn fail_fast_when_limited(mut self) -> Self {
        self.fail_fast_when_limited = true;
        self
    }

    pub(crate) fn fails_fast_when_limited(&self) -> bool {
        self.fail_fast_when_limited
    }

    pub(crate) fn log_name(&self) -> &str {
        self.operation.unwrap_or(&self.path)
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL without the secret query parameters.
    pub fn url(&self, base: &reqwest::Url) -> reqwest::Url {
        let mut url = base.clone();
        let path = self.path.trim_start_matches('/');
        if !path.is_empty() {
            let joined = format!("{}/{path}", base.path().trim_end_matches('/'));
            url.set_path(&joined);
        }
        if !self.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.query {
                pairs.append_pair(k, v);
            }
        }
        url
    }

    /// The request as reqwest sends it, secrets included.
    pub(crate) fn build(
        &self,
        client: &reqwest::Client,
        base: &reqwest::Url,
    ) -> ApiResult<reqwest::RequestBuilder> {
        let mut url = self.url(base);
        if !self.secret_query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.secret_query {
                pairs.append_pair(k, v.expose_secret());
            }
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                encode_error(format!(
                    "the `{name}` header has characters HTTP does not allow"
                ))
            })?;
            headers.append(header_name(name)?, value);
        }
        for (name, value) in &self.secret_headers {
            let mut value = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
                ApiError::Unauthorized(if name.eq_ignore_ascii_case("authorization") {
                    "the access token is not a valid header value".into()
                } else {
                    format!("the `{name}` credential is not a valid header value")
                })
            })?;
            value.set_sensitive(true);
            headers.insert(header_name(name)?, value);
        }
        let mut request = client.request(self.method.clone(), url);
        match &self.body {
            None => {}
            Some(Body::Json(value)) => {
                let bytes = serde_json::to_vec(value)
                    .map_err(|e| encode_error(format!("cannot encode the body: {e}")))?;
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                request = request.body(bytes);
            }
            Some(Body::Raw(content_type, bytes)) => {
                let ct = HeaderValue::from_str(content_type)
                    .map_err(|_| encode_error("invalid content type".into()))?;
                headers.insert(reqwest::header::CONTENT_TYPE, ct);
                request = request.body(bytes.clone());
            }
        }
        headers
            .entry(reqwest::header::ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        Ok(request.headers(headers))
    }
}

fn header_name(name: &str) -> ApiResult<HeaderName> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| encode_error(format!("`{name}` is not a valid header name")))
}

fn encode_error(why: String) -> ApiError {
    ApiError::Decode(format!("cannot encode request: {why}"))
}

/// A complete answer: any status except 429, the body within the size cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> ApiResult<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::Decode(format!(
                "the answer is not JSON (HTTP {}): {}",
                self.status,
                server_text(&e.to_string())
            ))
        })
    }

    /// Typed decoding; a failure names the path of the failing field.
    pub fn decode<T: DeserializeOwned>(&self) -> ApiResult<T> {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de).map_err(decode_error)
    }
}

/// One path segment for an id: everything but unreserved characters is
/// percent-encoded, so an id with `/`, `?` or `#` stays one segment.
pub fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use reqwest::header::AUTHORIZATION;

    use super::*;

    fn base(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn paths_join_without_doubled_slashes() {
        for b in ["https://h.example/api/v1", "https://h.example/api/v1/"] {
            for p in ["contacts", "/contacts"] {
                assert_eq!(
                    HttpRequest::get(p).url(&base(b)).as_str(),
                    "https://h.example/api/v1/contacts"
                );
            }
        }
        assert_eq!(
            HttpRequest::get("/a/b")
                .url(&base("https://h.example"))
                .as_str(),
            "https://h.example/a/b"
        );
        // An empty path is the base URL itself (a GraphQL endpoint).
        assert_eq!(
            HttpRequest::post("")
                .url(&base("https://h.example/api/v1"))
                .as_str(),
            "https://h.example/api/v1"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        let url = HttpRequest::get("contacts")
            .query("phone", "+971 50 123")
            .query("q", "a&b=c#d")
            .query("name", "Zoë")
            .url(&base("https://h.example/v1"));
        assert_eq!(
            url.as_str(),
            "https://h.example/v1/contacts?phone=%2B971+50+123&q=a%26b%3Dc%23d&name=Zo%C3%AB"
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("phone".into(), "+971 50 123".into()));
        assert_eq!(pairs[1], ("q".into(), "a&b=c#d".into()));
    }

    #[test]
    fn ids_stay_one_segment() {
        assert_eq!(segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(segment("abc-1_2.3~"), "abc-1_2.3~");
        let url = HttpRequest::get(format!("contacts/{}", segment("x/../y")))
            .url(&base("https://h.example/v1"));
        assert_eq!(url.as_str(), "https://h.example/v1/contacts/x%2F..%2Fy");
    }

    #[test]
    fn secrets_reach_the_wire_but_not_the_shown_url_or_debug() {
        let key = SecretString::from("s3cret-key");
        let token = SecretString::from("t0ken");
        let request = HttpRequest::get("contacts")
            .query("page", "2")
            .secret_query("apiKey", &key)
            .secret_header("x-api-key", &key)
            .bearer(&token)
            .header("X-Org-Id", "org1");
        let b = base("https://h.example/v1");
        assert!(!request.url(&b).as_str().contains("s3cret"));
        let debug = format!("{request:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("t0ken"),
            "{debug}"
        );
        assert!(debug.contains("apiKey=[redacted]"), "{debug}");
        let built = request
            .build(&reqwest::Client::new(), &b)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            built.url().as_str(),
            "https://h.example/v1/contacts?page=2&apiKey=s3cret-key"
        );
        let auth = built.headers().get(AUTHORIZATION).unwrap();
        assert!(auth.is_sensitive());
        assert_eq!(auth, "Bearer t0ken");
        assert!(built.headers().get("x-api-key").unwrap().is_sensitive());
        assert_eq!(built.headers().get("x-org-id").unwrap(), "org1");
    }

    #[test]
    fn bad_header_values_are_errors_not_panics() {
        let b = base("https://h.example/v1");
        let client = reqwest::Client::new();
        let bad = HttpRequest::get("x").header("x-name", "a\r\nb");
        assert!(matches!(bad.build(&client, &b), Err(ApiError::Decode(m)) if m.contains("x-name")));
        let bad = HttpRequest::get("x").bearer(&SecretString::from("a\nb"));
        assert!(
            matches!(bad.build(&client, &b), Err(ApiError::Unauthorized(m)) if m.contains("access token") && !m.contains("a\nb"))
        );
        let bad = HttpRequest::get("x").header("bad name", "v");
        assert!(matches!(bad.build(&client, &b), Err(ApiError::Decode(_))));
    }

    #[test]
    fn bodies_set_their_content_type() {
        let b = base("https://h.example/v1");
        let client = reqwest::Client::new();
        let built = HttpRequest::post("x")
            .json(serde_json::json!({"a": 1}))
            .build(&client, &b)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(built.headers()["content-type"], "application/json");
        assert_eq!(built.body().unwrap().as_bytes().unwrap(), br#"{"a":1}"#);
        assert_eq!(built.method(), Method::POST);
        let built = HttpRequest::put("x")
            .raw_body("text/csv", b"a,b".to_vec())
            .build(&client, &b)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(built.headers()["content-type"], "text/csv");
        assert_eq!(built.headers()["accept"], "application/json");
    }

    #[test]
    fn responses_decode_with_the_failing_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Row {
            id: String,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Page {
            data: Vec<Row>,
        }
        let ok = HttpResponse {
            status: 200,
            body: br#"{"data":[{"id":"a"},{"idx":"b"}]}"#.to_vec(),
        };
        assert!(ok.is_success());
        match ok.decode::<Page>() {
            Err(ApiError::Decode(m)) => {
                assert!(
                    m.contains("missing field `id`") && m.contains("data[1]"),
                    "{m}"
                )
            }
            other => panic!("unexpected {other:?}"),
        }
        let garbage = HttpResponse {
            status: 500,
            body: b"<html>".to_vec(),
        };
        assert!(!garbage.is_success());
        assert!(matches!(garbage.json(), Err(ApiError::Decode(m)) if m.contains("not JSON")));
        assert!(matches!(garbage.decode::<Page>(), Err(ApiError::Decode(_))));
    }
}
