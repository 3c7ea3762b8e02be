//! Qpien (GraphQL) under every fault.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::{ApiError, Provider};
use termdesk::app::state::SyncStatus;
use termdesk::app::{AppState, Event, SyncEvent, update};
use termdesk::config::SendKey;
use termdesk::domain::{ConversationId, ConversationQuery, MessageQuery, OutgoingText};
use termdesk::sandbox::{Faults, Malformed, Sandbox, SandboxOptions};
use termdesk::sync::{SyncSettings, SyncStart, SyncWorker};
use tokio::sync::mpsc;

use super::common::headless::DEADLINE;
use super::{TIMEOUT, is_clear_passing_error, within_deadline};

async fn start() -> Sandbox {
    Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            conversations: 30,
            rate_limit: 100_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn client(sandbox: &Sandbox) -> QpienClient {
    client_with_timeout(sandbox, TIMEOUT)
}

fn client_with_timeout(sandbox: &Sandbox, timeout: Duration) -> QpienClient {
    let mut config = QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo"));
    config.request_timeout = timeout;
    config.requests_per_minute = 100_000;
    QpienClient::new(config).expect("client builds")
}

/// A signed-in client, so a fault thrown next meets the call, not the sign-in.
async fn signed_in(sandbox: &Sandbox) -> QpienClient {
    let client = client(sandbox);
    client.authenticate().await.expect("signs in");
    client
}

fn page(limit: u32) -> ConversationQuery {
    ConversationQuery {
        limit,
        ..ConversationQuery::default()
    }
}

/// How many of `kind` the sandbox has served.
fn served(sandbox: &Sandbox, kind: &str) -> u64 {
    sandbox
        .control()
        .stats()
        .faults_served
        .get(kind)
        .copied()
        .unwrap_or(0)
}

async fn list(client: &QpienClient) -> Result<usize, ApiError> {
    client
        .list_conversations(&page(5))
        .await
        .map(|p| p.items.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_below_the_timeout_works_and_above_it_times_out_then_recovers() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.set_delay(Some(TIMEOUT / 4));
    assert_eq!(list(&client).await, Ok(5));
    control.set_delay(Some(TIMEOUT * 3));
    let error = within_deadline("a call to a slow server", list(&client)).await;
    assert_eq!(error, Err(ApiError::Timeout(TIMEOUT)));
    control.set_delay(None);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_on_a_read_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.set_faults(Faults {
        fail_next: 2,
        ..Faults::default()
    });
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(control.stats().unavailable, 2);

    control.set_error_rate(1.0);
    let before = control.stats().requests;
    let error = list(&client).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Server { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.is_transient());
    let tries = control.stats().requests - before;
    assert!((2..=3).contains(&tries), "a few tries, not more: {tries}");
    control.set_error_rate(0.0);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_is_never_sent_twice_by_the_client() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    let conversation = control.conversation_ids()[0].clone();
    control.set_error_rate(1.0);
    let reply = OutgoingText {
        conversation_id: ConversationId::new(conversation.clone()),
        client_id: "reliability-write-1".into(),
        text: "Sent once or not at all".into(),
        channel_id: None,
    };
    let before = control.stats().requests;
    let error = client.send_text(&reply).await.unwrap_err();
    assert!(error.is_transient(), "the outbox retries it: {error:?}");
    assert_eq!(control.stats().requests - before, 1, "one try only");
    control.set_error_rate(0.0);
    assert_eq!(control.messages_containing(&conversation, &reply.text), 0);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out() {
    let sandbox = start().await;
    let control = sandbox.control();
    // Room in the deadline for two one-second waits.
    let client = client_with_timeout(&sandbox, Duration::from_secs(15));
    client.authenticate().await.expect("signs in");
    let before = control.stats();
    control.storm_next(2, 1);
    assert_eq!(list(&client).await, Ok(5));
    let after = control.stats();
    assert_eq!(after.rate_limited - before.rate_limited, 2);
    assert_eq!(
        after.requests - before.requests,
        3,
        "two refused, one answered: no request beyond what the storm asked"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_wait_longer_than_the_deadline_is_rate_limited_at_once() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.storm_next(1, 60);
    let error = within_deadline("a call told to wait a minute", list(&client))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::RateLimited { retry_after } if retry_after > TIMEOUT),
        "{error:?}"
    );
    assert!(error.to_string().contains("retrying in"), "{error}");
    // The account holds back for the server's wait: the next call does not
    // even go out.
    let before = control.stats().requests;
    assert!(matches!(
        list(&client).await,
        Err(ApiError::RateLimited { .. })
    ));
    assert_eq!(control.stats().requests, before);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_mid_session_costs_one_token_fetch() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    assert_eq!(control.token_count(), 1);
    control.expire_all_tokens();
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(control.token_count(), 2);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_replaced_and_the_call_succeeds() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.revoke_all_tokens();
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(control.token_count(), 2);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_are_a_clear_error_without_hammering() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    control.set_reject_credentials(true);
    for _ in 0..5 {
        let error = list(&client).await.unwrap_err();
        assert!(
            matches!(error, ApiError::InvalidCredentials(_)),
            "{error:?}"
        );
        assert!(error.to_string().contains("credentials"), "{error}");
    }
    assert_eq!(
        client
            .authenticate()
            .await
            .map_err(|e| matches!(e, ApiError::InvalidCredentials(_))),
        Err(true)
    );
    assert_eq!(
        control.stats().requests,
        1,
        "one refused sign-in, then the client waits before asking again"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.malformed_json_next(1);
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(served(&sandbox, "malformed_json"), 1);
    control.malformed_json_next(10);
    let error = list(&client).await.unwrap_err();
    assert!(is_clear_passing_error(&error), "{error:?}");
    control.malformed_json_next(0);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_answer_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.truncate_next(1);
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(served(&sandbox, "truncate"), 1);
    control.truncate_next(10);
    let error = list(&client).await.unwrap_err();
    assert!(is_clear_passing_error(&error), "{error:?}");
    assert!(error.to_string().contains("cut off"), "{error}");
    control.truncate_next(0);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_ending_answer_times_out_and_the_next_call_works() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.hang_next(1);
    let error = within_deadline("a call to a hanging server", list(&client)).await;
    assert_eq!(error, Err(ApiError::Timeout(TIMEOUT)));
    assert_eq!(served(&sandbox, "hang"), 1);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_is_a_clear_network_error_and_the_sync_recovers_by_itself() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = Arc::new(signed_in(&sandbox).await);
    control.go_offline();
    let error = list(&client).await.unwrap_err();
    assert!(matches!(error, ApiError::Network(_)), "{error:?}");
    assert!(error.to_string().starts_with("network error"), "{error}");

    let (tx, mut rx) = mpsc::unbounded_channel();
    let _worker = SyncWorker::spawn(
        client.clone() as Arc<dyn Provider>,
        SyncSettings::new(Duration::from_millis(200)),
        SyncStart::default(),
        tx,
    );
    let mut state = AppState::new(
        "demo",
        "Qpien sandbox",
        true,
        SendKey::Enter,
        Utc::now(),
        (120, 36),
    );
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut seen_offline = false;
    loop {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the sync reports offline, then synced")
            .expect("the sync worker runs");
        let failed = matches!(event, SyncEvent::Failed { .. });
        update(&mut state, Event::Sync(event), Utc::now());
        if failed && !seen_offline {
            match &state.sync {
                SyncStatus::Offline {
                    retry_at, reason, ..
                } => {
                    assert!(*retry_at > Utc::now() - chrono::Duration::seconds(1));
                    assert!(!reason.is_empty());
                }
                other => panic!("offline expected, got {other:?}"),
            }
            seen_offline = true;
            control.go_online();
        }
        if seen_offline && matches!(state.sync, SyncStatus::Synced { .. }) {
            break;
        }
    }
    assert!(!state.store.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_errors_keep_the_rest_of_a_batch() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    let queries: Vec<MessageQuery> = control
        .conversation_ids()
        .into_iter()
        .take(3)
        .map(|id| MessageQuery {
            conversation_id: ConversationId::new(id),
            before: None,
            after: None,
            limit: 5,
        })
        .collect();
    control.partial_errors_next(1);
    let results = client.list_message_batch(&queries).await;
    assert_eq!(results.len(), 3);
    let failed: Vec<&ApiError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert!(matches!(failed[0], ApiError::Server { .. }), "{failed:?}");
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    // A single operation that loses its root field is that error, in words.
    control.partial_errors_next(1);
    let error = list(&client).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::Server { message, .. } if message.contains("getConversationList")),
        "{error:?}"
    );
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_field_skips_its_row_and_keeps_the_page() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox).await;
    control.set_faults(Faults {
        malformed_conversation_every: Some(3),
        malformed: Malformed::WrongTypeUpdatedAt,
        ..Faults::default()
    });
    let page = client
        .list_conversations(&page(30))
        .await
        .expect("the page is kept");
    assert!(page.skipped >= 1, "{page:?}");
    assert_eq!(page.items.len() + page.skipped, 30);
    let broken = control.malformed_conversation_ids();
    assert!(page.items.iter().all(|c| !broken.contains(&c.id.0)));
    sandbox.shutdown().await;
}
