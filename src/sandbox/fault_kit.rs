//! Fault switches every sandbox shares (GraphQL and REST alike): the seeded
//! error roll, one-shot counters for storms and broken answers, the
//! truncating and hanging bodies, and the tally of faults served. Each
//! server decides where in its pipeline a switch applies and in which
//! provider's words it answers.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use tokio::sync::watch;

use super::{clamp_rate, lock};

/// Largest answer the kit buffers to break it.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// `Retry-After` of a storm unless set.
pub(crate) const DEFAULT_STORM_RETRY_AFTER_S: u64 = 2;

/// The switches, as `/__sandbox/faults` shows and sets them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Switches {
    /// Share (0.0–1.0) of API requests answered 5xx before anything is done.
    pub error_rate: f64,
    /// The next N API requests answer 429, whatever the regular limiter says.
    pub storm_next: u32,
    pub storm_retry_after_s: u64,
    /// The next N answers are HTTP 200 with a body that is not JSON.
    pub malformed_json_next: u32,
    /// The next N answers declare their full length and stop halfway.
    pub truncate_next: u32,
    /// The next N answers send headers and half the body, then nothing more.
    pub hang_next: u32,
    /// The next N GraphQL answers with data lose one root field to an error.
    pub partial_errors_next: u32,
    /// Every N-th row of a list answer carries a field of the wrong type.
    pub wrong_type_every: Option<usize>,
    /// Sign-in (client credentials, password grant, API key) refused.
    pub reject_credentials: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            storm_next: 0,
            storm_retry_after_s: DEFAULT_STORM_RETRY_AFTER_S,
            malformed_json_next: 0,
            truncate_next: 0,
            hang_next: 0,
            partial_errors_next: 0,
            wrong_type_every: None,
            reject_credentials: false,
        }
    }
}

/// The switches' keys of a `/__sandbox/faults` patch; absent = unchanged.
/// [`split_patch`] takes them out of a body before the sandbox's own keys
/// are read, so both can refuse unknown keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SwitchPatch {
    pub error_rate: Option<f64>,
    pub storm_next: Option<u32>,
    pub storm_retry_after_s: Option<u64>,
    pub malformed_json_next: Option<u32>,
    pub truncate_next: Option<u32>,
    pub hang_next: Option<u32>,
    pub partial_errors_next: Option<u32>,
    /// `null` or 0 = off.
    #[serde(default, deserialize_with = "present")]
    pub wrong_type_every: Option<Option<usize>>,
    pub reject_credentials: Option<bool>,
}

/// Tells "absent" (leave as is) from `null` (clear).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

const SWITCH_KEYS: [&str; 9] = [
    "error_rate",
    "storm_next",
    "storm_retry_after_s",
    "malformed_json_next",
    "truncate_next",
    "hang_next",
    "partial_errors_next",
    "wrong_type_every",
    "reject_credentials",
];

/// Reads a `/__sandbox/faults` body (empty = no change) into the switches
/// and the sandbox's own patch `T`; the error is worded for the person
/// steering the sandbox.
pub(crate) fn split_patch<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
) -> Result<(T, SwitchPatch), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((T::default(), SwitchPatch::default()));
    }
    let mut own = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => return Err("the body must be a JSON object".to_string()),
        Err(e) => return Err(e.to_string()),
    };
    let mut switches = serde_json::Map::new();
    for key in SWITCH_KEYS {
        if let Some(v) = own.remove(key) {
            switches.insert(key.to_string(), v);
        }
    }
    let own = serde_json::from_value::<T>(own.into()).map_err(|e| e.to_string())?;
    let switches =
        serde_json::from_value::<SwitchPatch>(switches.into()).map_err(|e| e.to_string())?;
    Ok((own, switches))
}

/// How one answer is broken after the handler has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BrokenAnswer {
    MalformedJson,
    Truncate,
    Hang,
}

impl BrokenAnswer {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            BrokenAnswer::MalformedJson => "malformed_json",
            BrokenAnswer::Truncate => "truncate",
            BrokenAnswer::Hang => "hang",
        }
    }
}

/// One per sandbox server.
pub(crate) struct FaultKit {
    switches: Mutex<Switches>,
    rng: Mutex<ChaCha8Rng>,
    served: Mutex<BTreeMap<String, u64>>,
    /// Set when the server stops: hanging answers end so shutdown is not held.
    stopping: watch::Sender<bool>,
}

impl FaultKit {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            switches: Mutex::new(Switches::default()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x00e4_405a_7e0f_fa17)),
            served: Mutex::new(BTreeMap::new()),
            stopping: watch::Sender::new(false),
        }
    }

    pub(crate) fn switches(&self) -> Switches {
        lock(&self.switches).clone()
    }

    pub(crate) fn set_switches(&self, s: Switches) {
        *lock(&self.switches) = s;
    }

    /// Changes the switches in place.
    pub(crate) fn edit(&self, f: impl FnOnce(&mut Switches)) {
        f(&mut lock(&self.switches));
    }

    /// Applies the present keys of a patch.
    pub(crate) fn apply(&self, p: &SwitchPatch) {
        self.edit(|s| {
            if let Some(r) = p.error_rate {
                s.error_rate = clamp_rate(r);
            }
            if let Some(n) = p.storm_next {
                s.storm_next = n;
            }
            if let Some(n) = p.storm_retry_after_s {
                s.storm_retry_after_s = n.max(1);
            }
            if let Some(n) = p.malformed_json_next {
                s.malformed_json_next = n;
            }
            if let Some(n) = p.truncate_next {
                s.truncate_next = n;
            }
            if let Some(n) = p.hang_next {
                s.hang_next = n;
            }
            if let Some(n) = p.partial_errors_next {
                s.partial_errors_next = n;
            }
            if let Some(n) = p.wrong_type_every {
                s.wrong_type_every = n.filter(|n| *n > 0);
            }
            if let Some(r) = p.reject_credentials {
                s.reject_credentials = r;
            }
        });
    }

    /// The switches as JSON for `/__sandbox/stats`.
    pub(crate) fn describe(&self) -> serde_json::Value {
        let s = self.switches();
        serde_json::json!({
            "error_rate": s.error_rate,
            "storm_next": s.storm_next,
            "storm_retry_after_s": s.storm_retry_after_s,
            "malformed_json_next": s.malformed_json_next,
            "truncate_next": s.truncate_next,
            "hang_next": s.hang_next,
            "partial_errors_next": s.partial_errors_next,
            "wrong_type_every": s.wrong_type_every,
            "reject_credentials": s.reject_credentials,
        })
    }

    /// Tallies one fault served.
    pub(crate) fn count(&self, kind: &str) {
        *lock(&self.served).entry(kind.to_string()).or_default() += 1;
    }

    /// Faults served so far, by kind.
    pub(crate) fn served(&self) -> BTreeMap<String, u64> {
        lock(&self.served).clone()
    }

    /// Whether this request is answered 5xx by `error_rate`; the seeded
    /// stream only moves for rates strictly between 0 and 1.
    pub(crate) fn roll_error(&self) -> bool {
        let rate = lock(&self.switches).error_rate;
        let hit = if rate <= 0.0 {
            false
        } else if rate >= 1.0 {
            true
        } else {
            lock(&self.rng).random::<f64>() < rate
        };
        if hit {
            self.count("error_rate");
        }
        hit
    }

    /// `Some(retry_after_s)` when this request is one of a storm's.
    pub(crate) fn take_storm(&self) -> Option<u64> {
        let mut s = lock(&self.switches);
        if s.storm_next == 0 {
            return None;
        }
        s.storm_next -= 1;
        let secs = s.storm_retry_after_s.max(1);
        drop(s);
        self.count("storm");
        Some(secs)
    }

    /// Takes the next broken-answer fault, malformed before truncated before hung.
    pub(crate) fn take_broken_answer(&self) -> Option<BrokenAnswer> {
        let mut s = lock(&self.switches);
        let how = if s.malformed_json_next > 0 {
            s.malformed_json_next -= 1;
            BrokenAnswer::MalformedJson
        } else if s.truncate_next > 0 {
            s.truncate_next -= 1;
            BrokenAnswer::Truncate
        } else if s.hang_next > 0 {
            s.hang_next -= 1;
            BrokenAnswer::Hang
        } else {
            return None;
        };
        drop(s);
        self.count(how.kind());
        Some(how)
    }

    pub(crate) fn partial_errors_pending(&self) -> bool {
        lock(&self.switches).partial_errors_next > 0
    }

    /// Takes one partial-errors answer if one is pending.
    pub(crate) fn take_partial_errors(&self) -> bool {
        let mut s = lock(&self.switches);
        if s.partial_errors_next == 0 {
            return false;
        }
        s.partial_errors_next -= 1;
        drop(s);
        self.count("partial_errors");
        true
    }

    pub(crate) fn rejecting_credentials(&self) -> bool {
        lock(&self.switches).reject_credentials
    }

    pub(crate) fn wrong_type_every(&self) -> Option<usize> {
        lock(&self.switches).wrong_type_every
    }

    /// Ends every hanging answer; call before stopping the server.
    pub(crate) fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Breaks `resp` as `how` says. `malformed_prefix` is the start of a
    /// plausible answer of the provider, cut off and followed by garbage.
    pub(crate) async fn break_answer(
        &self,
        resp: Response,
        how: BrokenAnswer,
        malformed_prefix: &str,
    ) -> Response {
        let (mut parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .unwrap_or_default();
        match how {
            BrokenAnswer::MalformedJson => {
                let mut text = malformed_prefix.as_bytes().to_vec();
                text.extend_from_slice(b"\x00\xff<html>502 Bad Gateway</ht");
                parts.status = StatusCode::OK;
                parts.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                parts.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(text))
            }
            BrokenAnswer::Truncate => {
                let first = halves(bytes, &mut parts.headers);
                // The cut comes a moment after the first half so the server
                // flushes it; an immediate error would drop it unsent.
                let cut = async {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Err::<Bytes, _>(std::io::Error::other("answer cut off"))
                };
                let stream = futures::StreamExt::chain(
                    futures::stream::iter([Ok(first)]),
                    futures::stream::once(cut),
                );
                Response::from_parts(parts, Body::from_stream(stream))
            }
            BrokenAnswer::Hang => {
                let first = halves(bytes, &mut parts.headers);
                let mut stopping = self.stopping.subscribe();
                let rest = async move {
                    // Pending until the server stops (or the client leaves
                    // and the connection is dropped with this stream).
                    let _ = stopping.wait_for(|s| *s).await;
                    Err::<Bytes, _>(std::io::Error::other("sandbox stopped"))
                };
                let stream = futures::StreamExt::chain(
                    futures::stream::iter([Ok(first)]),
                    futures::stream::once(rest),
                );
                Response::from_parts(parts, Body::from_stream(stream))
            }
        }
    }
}

/// The first half of `bytes` (at least one byte when there is any), with
/// `Content-Length` set to the whole length so the cut shows.
fn halves(bytes: Bytes, headers: &mut axum::http::HeaderMap) -> Bytes {
    let full = bytes.len();
    let half = (full / 2).max(full.min(1));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full as u64));
    bytes.slice(..half)
}

/// Gives every `every`-th row of `rows` (1-based) a field of the wrong type:
/// a name or text as a number, else a timestamp as `true`, else any other
/// string as a number. Returns how many rows were broken.
pub(crate) fn wrong_type_rows(rows: &mut [serde_json::Value], every: usize) -> u64 {
    use serde_json::Value;
    let mut broken = 0;
    if every == 0 {
        return 0;
    }
    for row in rows.iter_mut().skip(every - 1).step_by(every) {
        let Value::Object(map) = row else { continue };
        const TEXT: [&str; 8] = [
            "name",
            "full_name",
            "first_name",
            "firstName",
            "body",
            "text",
            "content",
            "message",
        ];
        let text = TEXT
            .iter()
            .find(|k| map.get(**k).is_some_and(Value::is_string))
            .map(|k| k.to_string());
        let stamp = || {
            map.iter()
                .find(|(k, v)| {
                    v.is_string() && (k.ends_with("_at") || k.ends_with("At") || *k == "timestamp")
                })
                .map(|(k, _)| k.clone())
        };
        let other = || {
            map.iter()
                .find(|(k, v)| v.is_string() && !k.ends_with("id") && !k.ends_with("Id"))
                .map(|(k, _)| k.clone())
        };
        if let Some(k) = text {
            map.insert(k, Value::from(12345));
        } else if let Some(k) = stamp() {
            map.insert(k, Value::Bool(true));
        } else if let Some(k) = other() {
            map.insert(k, Value::from(12345));
        } else {
            continue;
        }
        broken += 1;
    }
    broken
}

/// The rows of a REST list answer: a top-level array, or the arrays of
/// objects directly under the top level or under its `data`.
pub(crate) fn list_rows(body: &mut serde_json::Value) -> Vec<&mut Vec<serde_json::Value>> {
    use serde_json::Value;
    let is_rows = |v: &Vec<Value>| v.first().is_some_and(Value::is_object);
    match body {
        Value::Array(rows) => {
            if is_rows(rows) {
                vec![rows]
            } else {
                Vec::new()
            }
        }
        Value::Object(map) => {
            let mut out = Vec::new();
            for (k, v) in map.iter_mut() {
                match v {
                    Value::Array(rows) if is_rows(rows) => out.push(rows),
                    Value::Object(inner) if k == "data" => {
                        for w in inner.values_mut() {
                            if let Value::Array(rows) = w
                                && is_rows(rows)
                            {
                                out.push(rows);
                            }
                        }
                    }
                    _ => {}
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Plain HTTP/1.1 over a socket, for tests that must see the bytes a
/// client library would hide (a cut body, a body that is not JSON).
#[cfg(test)]
pub(crate) mod raw {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// What came back before the server closed the connection.
    pub(crate) struct RawAnswer {
        pub head: String,
        pub body: Vec<u8>,
    }

    impl RawAnswer {
        pub(crate) fn status(&self) -> u16 {
            self.head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0)
        }

        pub(crate) fn header(&self, name: &str) -> Option<String> {
            self.head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        }
    }

    /// Sends one request (`Connection: close`) and reads until the server
    /// closes or resets the connection; a stalled server fails the test.
    pub(crate) async fn send(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> RawAnswer {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connects");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream
            .write_all(request.as_bytes())
            .await
            .expect("request written");
        let mut bytes = Vec::new();
        let read = async {
            let mut buf = [0u8; 8192];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => bytes.extend_from_slice(&buf[..n]),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("the server closed the connection");
        let split = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head");
        RawAnswer {
            head: String::from_utf8_lossy(&bytes[..split]).into_owned(),
            body: bytes[split + 4..].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_roll_is_seeded_and_bounded() {
        let a = FaultKit::new(7);
        let b = FaultKit::new(7);
        for kit in [&a, &b] {
            kit.edit(|s| s.error_rate = 0.5);
        }
        let ra: Vec<bool> = (0..64).map(|_| a.roll_error()).collect();
        let rb: Vec<bool> = (0..64).map(|_| b.roll_error()).collect();
        assert_eq!(ra, rb);
        assert!(ra.iter().any(|x| *x) && ra.iter().any(|x| !*x));
        a.edit(|s| s.error_rate = 0.0);
        assert!(!a.roll_error());
        a.apply(&SwitchPatch {
            error_rate: Some(f64::NAN),
            ..SwitchPatch::default()
        });
        assert_eq!(a.switches().error_rate, 0.0);
    }

    #[test]
    fn one_shots_count_down_and_are_tallied() {
        let kit = FaultKit::new(1);
        kit.apply(&SwitchPatch {
            storm_next: Some(1),
            malformed_json_next: Some(1),
            hang_next: Some(1),
            ..SwitchPatch::default()
        });
        assert_eq!(kit.take_storm(), Some(DEFAULT_STORM_RETRY_AFTER_S));
        assert_eq!(kit.take_storm(), None);
        assert_eq!(kit.take_broken_answer(), Some(BrokenAnswer::MalformedJson));
        assert_eq!(kit.take_broken_answer(), Some(BrokenAnswer::Hang));
        assert_eq!(kit.take_broken_answer(), None);
        let served = kit.served();
        assert_eq!(served.get("storm"), Some(&1));
        assert_eq!(served.get("hang"), Some(&1));
    }

    #[test]
    fn wrong_types_hit_every_nth_row() {
        let mut body = json!({"data": {"rows": [
            {"id": "1", "name": "A"}, {"id": "2", "name": "B"},
            {"id": "3", "created_at": "t"}, {"id": "4", "created_at": "t"},
        ]}, "total": 4});
        let mut n = 0;
        for rows in list_rows(&mut body) {
            n += wrong_type_rows(rows, 2);
        }
        assert_eq!(n, 2);
        assert_eq!(body["data"]["rows"][0]["name"], "A");
        assert_eq!(body["data"]["rows"][1]["name"], 12345);
        assert_eq!(body["data"]["rows"][3]["created_at"], true);
        assert_eq!(body["data"]["rows"][3]["id"], "4");
    }
}
