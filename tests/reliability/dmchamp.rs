//! DM Champ (REST, static API key) under the faults that apply to it.

use secrecy::SecretString;
use termdesk::api::dmchamp::{DmChampClient, DmChampOptions};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{ConversationId, MessageQuery};
use termdesk::sandbox::dmchamp::{DEMO_API_KEY, DmChampSandbox, DmChampSandboxOptions};

use super::{TIMEOUT, is_clear_passing_error, within_deadline};

async fn start() -> DmChampSandbox {
    DmChampSandbox::start(
        "127.0.0.1:0".parse().expect("addr"),
        DmChampSandboxOptions {
            contacts: 20,
            rate_limit: 100_000,
            ..DmChampSandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn client_with_timeout(
    sandbox: &DmChampSandbox,
    key: &str,
    timeout: std::time::Duration,
) -> DmChampClient {
    let mut options = DmChampOptions::new(sandbox.base_url(), SecretString::from(key.to_string()));
    options.timeout = timeout;
    options.requests_per_minute = 100_000;
    DmChampClient::new(options).expect("client builds")
}

fn client(sandbox: &DmChampSandbox) -> DmChampClient {
    client_with_timeout(sandbox, DEMO_API_KEY, TIMEOUT)
}

/// How many of `kind` the sandbox has served.
fn served(sandbox: &DmChampSandbox, kind: &str) -> u64 {
    sandbox
        .control()
        .stats()
        .faults_served
        .get(kind)
        .copied()
        .unwrap_or(0)
}

/// One read: the account's tags.
async fn read(client: &DmChampClient) -> Result<(), ApiError> {
    client.authenticate().await
}

fn requests(sandbox: &DmChampSandbox) -> u64 {
    sandbox.control().stats().requests
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_on_a_read_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    control.fail_next(2);
    assert_eq!(read(&client).await, Ok(()));
    assert_eq!(control.stats().unavailable, 2);
    control.faults_control().set_error_rate(1.0);
    let before = requests(&sandbox);
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Server { status: 503, .. }),
        "{error:?}"
    );
    assert!((2..=3).contains(&(requests(&sandbox) - before)));
    control.faults_control().set_error_rate(0.0);
    assert_eq!(read(&client).await, Ok(()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client_with_timeout(&sandbox, DEMO_API_KEY, std::time::Duration::from_secs(15));
    let before = control.stats();
    control.faults_control().storm_next(2, 1);
    assert_eq!(read(&client).await, Ok(()));
    let after = control.stats();
    assert_eq!(after.rate_limited - before.rate_limited, 2);
    assert_eq!(after.requests - before.requests, 3);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let faults = sandbox.control().faults_control();
    let client = client(&sandbox);
    faults.malformed_json_next(1);
    assert_eq!(read(&client).await, Ok(()));
    assert_eq!(served(&sandbox, "malformed_json"), 1);
    faults.malformed_json_next(10);
    let error = read(&client).await.unwrap_err();
    assert!(is_clear_passing_error(&error), "{error:?}");
    faults.malformed_json_next(0);
    assert_eq!(read(&client).await, Ok(()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_answer_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let faults = sandbox.control().faults_control();
    let client = client(&sandbox);
    faults.truncate_next(1);
    assert_eq!(read(&client).await, Ok(()));
    assert_eq!(served(&sandbox, "truncate"), 1);
    faults.truncate_next(10);
    let error = read(&client).await.unwrap_err();
    assert!(is_clear_passing_error(&error), "{error:?}");
    faults.truncate_next(0);
    assert_eq!(read(&client).await, Ok(()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_ending_answer_times_out_and_the_next_call_works() {
    let sandbox = start().await;
    let client = client(&sandbox);
    sandbox.control().faults_control().hang_next(1);
    let error = within_deadline("a call to a hanging server", read(&client)).await;
    assert_eq!(error, Err(ApiError::Timeout(TIMEOUT)));
    assert_eq!(served(&sandbox, "hang"), 1);
    assert_eq!(read(&client).await, Ok(()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_key_is_a_clear_error() {
    let sandbox = start().await;
    let client = client(&sandbox);
    sandbox
        .control()
        .faults_control()
        .set_reject_credentials(true);
    let before = requests(&sandbox);
    let error = read(&client).await.unwrap_err();
    assert!(
        matches!(error, ApiError::InvalidCredentials(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("API key"), "{error}");
    assert_eq!(requests(&sandbox) - before, 1, "a refusal is not retried");
    sandbox
        .control()
        .faults_control()
        .set_reject_credentials(false);
    assert_eq!(read(&client).await, Ok(()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_field_skips_its_row_and_keeps_the_page() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let contact = control.sample_contacts(1, Some("whatsapp"))[0].clone();
    let id = contact.id.clone();
    for n in 0..4 {
        control.inject_incoming_message(&id, &format!("Question {n}"));
    }
    let query = MessageQuery {
        conversation_id: ConversationId::new(id.clone()),
        before: None,
        after: None,
        limit: 100,
    };
    let whole = client.list_messages(&query).await.expect("thread");
    assert_eq!(whole.skipped, 0);
    control.faults_control().set_wrong_type_every(Some(2));
    let page = client
        .list_messages(&query)
        .await
        .expect("the page is kept");
    assert!(page.skipped >= 1, "{page:?}");
    assert_eq!(page.items.len() + page.skipped, whole.items.len());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_is_a_clear_network_error_and_the_next_call_after_it_works() {
    let sandbox = start().await;
    let client = client(&sandbox);
    sandbox.control().go_offline();
    let error = within_deadline("a call to an unreachable server", read(&client))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Network(_)), "{error:?}");
    assert!(error.to_string().starts_with("network error"), "{error}");
    sandbox.control().go_online();
    assert_eq!(read(&client).await, Ok(()));
    sandbox.shutdown().await;
}
