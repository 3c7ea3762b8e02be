//! Sign-in, renewal and the token file.

use std::path::PathBuf;

use secrecy::SecretString;
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{AgentId, ConversationQuery};
use termdesk::sandbox::superwaba::DEMO_USER_ID;

use super::{options, start};

fn token_file(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tokens/superwaba.json")
}

fn saved_token(path: &PathBuf) -> String {
    let text = std::fs::read_to_string(path).expect("token file");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_renewed_once_and_the_new_refresh_token_kept() {
    let sandbox = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = token_file(&dir);
    let client = std::sync::Arc::new(
        SuperWabaClient::new(SuperWabaOptions {
            token_file: Some(path.clone()),
            ..options(&sandbox)
        })
        .unwrap(),
    );
    client.authenticate().await.unwrap();
    let first = saved_token(&path);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    sandbox.expire_access_tokens();
    let calls = (0..4).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .list_conversations(&ConversationQuery::default())
                .await
        })
    });
    for call in calls {
        call.await.unwrap().expect("replayed after renewal");
    }
    assert_eq!(sandbox.refresh_grants(), 1, "exactly one renewal");
    assert_eq!(sandbox.password_grants(), 1);
    let second = saved_token(&path);
    assert_ne!(first, second, "the rotated token is saved");

    // The next start prefers the saved token over the password.
    let next = SuperWabaClient::new(SuperWabaOptions {
        token_file: Some(path.clone()),
        ..options(&sandbox)
    })
    .unwrap();
    next.authenticate().await.unwrap();
    assert_eq!(
        (sandbox.password_grants(), sandbox.refresh_grants()),
        (1, 2)
    );
    assert_ne!(saved_token(&path), second);

    // A refused refresh token falls back to the password.
    sandbox.revoke_refresh_tokens();
    sandbox.expire_access_tokens();
    next.list_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(sandbox.password_grants(), 2);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_login_and_its_refusal() {
    let sandbox = start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = token_file(&dir);
    // Get a refresh token the way an agent would, with the password once.
    let seeding = SuperWabaClient::new(SuperWabaOptions {
        token_file: Some(path.clone()),
        ..options(&sandbox)
    })
    .unwrap();
    seeding.authenticate().await.unwrap();
    let token = saved_token(&path);
    let by_token = SuperWabaClient::new(SuperWabaOptions {
        login: SuperWabaLogin::RefreshToken(SecretString::from(token)),
        ..options(&sandbox)
    })
    .unwrap();
    by_token.authenticate().await.unwrap();
    assert_eq!(
        by_token.current_agent().await.unwrap().map(|a| a.id),
        Some(AgentId::new(DEMO_USER_ID))
    );
    sandbox.revoke_refresh_tokens();
    sandbox.expire_access_tokens();
    let refused = by_token
        .list_conversations(&ConversationQuery::default())
        .await;
    assert!(
        matches!(&refused, Err(ApiError::InvalidCredentials(m)) if m.contains("refresh token")),
        "{refused:?}"
    );
    sandbox.shutdown().await;
}
