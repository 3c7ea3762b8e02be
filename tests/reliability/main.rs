//! How each client behaves under each fault, over real HTTP: the sandboxes'
//! fault switches are thrown, the real client (or the whole app, for the
//! agent's writes) runs against them, and the outcome is checked — a clear
//! error in plain words, bounded requests, and recovery once the fault is
//! spent. Every wait is for a condition, with a deadline.

#[path = "../common/mod.rs"]
mod common;
mod dmchamp;
mod outbox;
mod qpien;
mod superwaba;

use std::future::Future;
use std::time::{Duration, Instant};

use termdesk::api::ApiError;

/// The request timeout of the clients here: short, so a hanging server
/// costs the tests little, long enough for a loaded machine.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// What a call may take beyond its deadline before the test fails: the
/// outcome checked is "ended at its deadline", not a measured speed.
pub const SLACK: Duration = Duration::from_secs(5);

/// Runs `call` and checks that it ended within the deadline (plus slack).
pub async fn within_deadline<T>(what: &str, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let out = call.await;
    let took = started.elapsed();
    assert!(
        took < TIMEOUT + SLACK,
        "{what} ended only after {took:?}, its deadline was {TIMEOUT:?}"
    );
    out
}

/// Whether an error is the passing kind the sync and the outbox retry, and
/// its text says in plain words what happened.
pub fn is_clear_passing_error(error: &ApiError) -> bool {
    let text = error.to_string();
    error.is_transient()
        && !text.contains("at `")
        && !text.contains("at data.")
        && (text.contains("cut off")
            || text.contains("not JSON")
            || text.contains("server error")
            || text.contains("did not answer"))
}
