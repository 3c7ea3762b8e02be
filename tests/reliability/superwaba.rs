//! SuperWaba (REST, Supabase session) under the faults that apply to it.

use std::time::Duration;

use secrecy::SecretString;
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{ContactQuery, ConversationQuery};
use termdesk::sandbox::superwaba::{
    DEMO_ANON_KEY, DEMO_API_KEY, DEMO_EMAIL, DEMO_ORG_ID, DEMO_PASSWORD, SuperWabaSandbox,
    SuperWabaSandboxOptions,
};

use super::{TIMEOUT, is_clear_passing_error, within_deadline};

async fn start() -> SuperWabaSandbox {
    SuperWabaSandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SuperWabaSandboxOptions {
            conversations: 20,
            contacts: 30,
            rate_limit: 100_000,
            ..SuperWabaSandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn client_with_timeout(sandbox: &SuperWabaSandbox, timeout: Duration) -> SuperWabaClient {
    SuperWabaClient::new(SuperWabaOptions {
        base_url: sandbox.base_url(),
        developer_base_url: sandbox.developer_base_url(),
        org_id: DEMO_ORG_ID.into(),
        supabase_url: sandbox.supabase_url(),
        supabase_anon_key: SecretString::from(DEMO_ANON_KEY.to_string()),
        login: SuperWabaLogin::Password {
            email: DEMO_EMAIL.into(),
            password: SecretString::from(DEMO_PASSWORD.to_string()),
        },
        api_key: Some(SecretString::from(DEMO_API_KEY.to_string())),
        token_file: None,
        timeout,
        requests_per_minute: 100_000,
    })
    .expect("client builds")
}

async fn signed_in(sandbox: &SuperWabaSandbox, timeout: Duration) -> SuperWabaClient {
    let client = client_with_timeout(sandbox, timeout);
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
fn served(sandbox: &SuperWabaSandbox, kind: &str) -> u64 {
    sandbox
        .control()
        .stats()
        .faults_served
        .get(kind)
        .copied()
        .unwrap_or(0)
}

async fn list(client: &SuperWabaClient) -> Result<usize, ApiError> {
    client
        .list_conversations(&page(5))
        .await
        .map(|p| p.items.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_below_the_timeout_works_and_above_it_times_out_then_recovers() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox, TIMEOUT).await;
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
    let client = signed_in(&sandbox, TIMEOUT).await;
    control.fail_next(2);
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(control.stats().unavailable, 2);
    control.faults_control().set_error_rate(1.0);
    let before = control.stats().requests;
    let error = list(&client).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Server { status: 503, .. }),
        "{error:?}"
    );
    assert!((2..=3).contains(&(control.stats().requests - before)));
    control.faults_control().set_error_rate(0.0);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_waited_out() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox, Duration::from_secs(15)).await;
    let before = control.stats();
    control.faults_control().storm_next(2, 1);
    assert_eq!(list(&client).await, Ok(5));
    let after = control.stats();
    assert_eq!(after.rate_limited - before.rate_limited, 2);
    assert_eq!(after.requests - before.requests, 3);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let faults = sandbox.control().faults_control();
    let client = signed_in(&sandbox, TIMEOUT).await;
    faults.malformed_json_next(1);
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(served(&sandbox, "malformed_json"), 1);
    faults.malformed_json_next(10);
    let error = list(&client).await.unwrap_err();
    assert!(is_clear_passing_error(&error), "{error:?}");
    faults.malformed_json_next(0);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_answer_is_retried_and_a_lasting_one_is_a_clear_error() {
    let sandbox = start().await;
    let faults = sandbox.control().faults_control();
    let client = signed_in(&sandbox, TIMEOUT).await;
    faults.truncate_next(1);
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(served(&sandbox, "truncate"), 1);
    faults.truncate_next(10);
    let error = list(&client).await.unwrap_err();
    assert!(is_clear_passing_error(&error), "{error:?}");
    faults.truncate_next(0);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_ending_answer_times_out_and_the_next_call_works() {
    let sandbox = start().await;
    let client = signed_in(&sandbox, TIMEOUT).await;
    sandbox.control().faults_control().hang_next(1);
    let error = within_deadline("a call to a hanging server", list(&client)).await;
    assert_eq!(error, Err(ApiError::Timeout(TIMEOUT)));
    assert_eq!(served(&sandbox, "hang"), 1);
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expiry_mid_session_costs_one_renewal() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox, TIMEOUT).await;
    let grants = (control.password_grants(), control.refresh_grants());
    control.expire_access_tokens();
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(list(&client).await, Ok(5));
    assert_eq!(
        (control.password_grants(), control.refresh_grants()),
        (grants.0, grants.1 + 1)
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_is_renewed_and_the_call_succeeds() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = signed_in(&sandbox, TIMEOUT).await;
    let grants = control.password_grants() + control.refresh_grants();
    control.revoke_tokens();
    assert_eq!(list(&client).await, Ok(5));
    let renewals = control.password_grants() + control.refresh_grants() - grants;
    assert!((1..=2).contains(&renewals), "{renewals} grants");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_are_a_clear_error_without_hammering() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client_with_timeout(&sandbox, TIMEOUT);
    control.set_reject_credentials(true);
    for _ in 0..5 {
        let error = list(&client).await.unwrap_err();
        assert!(
            matches!(error, ApiError::InvalidCredentials(_)),
            "{error:?}"
        );
    }
    assert_eq!(
        control.password_grants() + control.refresh_grants(),
        0,
        "no grant issued"
    );
    let tries = control
        .stats()
        .routes
        .iter()
        .filter(|(route, _)| route.contains("token"))
        .map(|(_, n)| *n)
        .sum::<u64>();
    assert!(
        tries <= 1,
        "one refused sign-in, then the client waits: {tries}"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_type_field_skips_its_row_and_keeps_the_page() {
    let sandbox = start().await;
    let client = signed_in(&sandbox, TIMEOUT).await;
    let whole = client.list_conversations(&page(20)).await.expect("page");
    sandbox
        .control()
        .faults_control()
        .set_wrong_type_every(Some(4));
    let broken = client
        .list_conversations(&page(20))
        .await
        .expect("the page is kept");
    assert!(broken.skipped >= 1, "{broken:?}");
    assert_eq!(broken.items.len() + broken.skipped, whole.items.len());
    let contacts = client
        .list_contacts(&ContactQuery {
            limit: 20,
            ..ContactQuery::default()
        })
        .await
        .expect("the page is kept");
    assert!(contacts.skipped >= 1, "{contacts:?}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_is_a_clear_network_error_and_the_next_call_after_it_works() {
    let sandbox = start().await;
    let client = signed_in(&sandbox, TIMEOUT).await;
    sandbox.control().go_offline();
    let error = within_deadline("a call to an unreachable server", list(&client))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Network(_)), "{error:?}");
    assert!(error.to_string().starts_with("network error"), "{error}");
    sandbox.control().go_online();
    assert_eq!(list(&client).await, Ok(5));
    sandbox.shutdown().await;
}
