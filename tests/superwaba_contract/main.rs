//! Contract tests: the SuperWaba client against the SuperWaba sandbox over
//! real HTTP — every endpoint the client uses, each error status, token
//! renewal and the token file.

mod auth;
mod contacts;
mod errors;
mod inbox;

use std::time::Duration;

use secrecy::SecretString;
use termdesk::api::ApiError;
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::sandbox::superwaba::{
    DEMO_ANON_KEY, DEMO_API_KEY, DEMO_EMAIL, DEMO_ORG_ID, DEMO_PASSWORD, SuperWabaSandbox,
    SuperWabaSandboxOptions,
};

pub async fn start() -> SuperWabaSandbox {
    start_with(SuperWabaSandboxOptions::default()).await
}

pub async fn start_with(options: SuperWabaSandboxOptions) -> SuperWabaSandbox {
    SuperWabaSandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SuperWabaSandboxOptions {
            conversations: 40,
            contacts: 60,
            rate_limit: 100_000,
            ..options
        },
    )
    .await
    .expect("sandbox starts")
}

pub fn options(sandbox: &SuperWabaSandbox) -> SuperWabaOptions {
    SuperWabaOptions {
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
        timeout: Duration::from_secs(10),
        requests_per_minute: 100_000,
    }
}

pub fn client(sandbox: &SuperWabaSandbox) -> SuperWabaClient {
    SuperWabaClient::new(options(sandbox)).expect("client builds")
}

pub fn rejected(result: Result<impl std::fmt::Debug, ApiError>) -> (Option<i64>, String) {
    match result {
        Err(ApiError::Rejected { code, message }) => (code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A conversation whose customer wrote within 24 hours.
pub fn open_window(sandbox: &SuperWabaSandbox) -> String {
    sandbox
        .conversation_ids()
        .into_iter()
        .find(|id| sandbox.window_open(id) == Some(true))
        .expect("a conversation with an open window")
}
