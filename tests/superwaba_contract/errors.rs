//! Error statuses, as the agent reads them.

use std::time::Duration;

use secrecy::SecretString;
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{ContactId, ContactUpdate, ConversationId, ConversationQuery};
use termdesk::sandbox::superwaba::DEMO_EMAIL;

use super::{client, options, rejected, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_error_status_reads_well() {
    let sandbox = start().await;
    let client = client(&sandbox);
    // 404, with the Contacts page's `error` key.
    let missing = client.get_contact(&ContactId::new("contact_nope")).await;
    assert_eq!(missing, Err(ApiError::NotFound("Contact not found".into())));
    let missing = client
        .get_conversation(&ConversationId::new("conv_nope"))
        .await;
    assert!(
        matches!(missing, Err(ApiError::NotFound(ref m)) if m.contains("Conversation not found")),
        "{missing:?}"
    );
    // 400 and 409.
    let (code, bad) = rejected(
        client
            .create_contact(&ContactUpdate {
                first_name: Some("X".into()),
                phone: Some(Some("12345".into())),
                ..ContactUpdate::default()
            })
            .await,
    );
    assert_eq!(code, Some(400));
    assert!(bad.contains("E.164"), "{bad}");
    let taken = sandbox
        .contact(
            &sandbox
                .conversation_state(&sandbox.conversation_ids()[0])
                .unwrap()
                .contact_id,
        )
        .unwrap()
        .phone;
    let (code, dup) = rejected(
        client
            .create_contact(&ContactUpdate {
                first_name: Some("X".into()),
                phone: Some(Some(taken)),
                ..ContactUpdate::default()
            })
            .await,
    );
    assert_eq!(code, Some(409));
    assert!(dup.contains("already exists"), "{dup}");
    // 500: the write was stored, its answer lost.
    sandbox.set_lose_answer_rate(1.0);
    let lost = client
        .create_contact(&ContactUpdate {
            first_name: Some("Lost".into()),
            phone: Some(Some("+971500000999".into())),
            ..ContactUpdate::default()
        })
        .await;
    assert!(
        matches!(lost, Err(ApiError::Server { status: 500, ref message }) if message == "Internal server error"),
        "{lost:?}"
    );
    assert!(sandbox.contact_id_by_phone("+971500000999").is_some());
    sandbox.set_lose_answer_rate(0.0);
    // 503, transient, lasting through the read's tries.
    sandbox.fail_next(3);
    let down = client
        .list_conversations(&ConversationQuery::default())
        .await;
    assert!(
        matches!(&down, Err(e @ ApiError::Server { status: 503, .. }) if e.is_transient()),
        "{down:?}"
    );
    // 401: a wrong password.
    let wrong = SuperWabaClient::new(SuperWabaOptions {
        login: SuperWabaLogin::Password {
            email: DEMO_EMAIL.into(),
            password: SecretString::from("wrong".to_string()),
        },
        ..options(&sandbox)
    })
    .unwrap();
    let refused = wrong.authenticate().await;
    assert!(
        matches!(&refused, Err(ApiError::InvalidCredentials(m)) if m.contains("Invalid login credentials")),
        "{refused:?}"
    );
    // 401: a wrong anon key.
    let anon = SuperWabaClient::new(SuperWabaOptions {
        supabase_anon_key: SecretString::from("nope".to_string()),
        ..options(&sandbox)
    })
    .unwrap();
    let refused = anon.authenticate().await.unwrap_err().to_string();
    assert!(refused.contains("anon key"), "{refused}");
    // 403: another organization; no token renewal would change that.
    let other = SuperWabaClient::new(SuperWabaOptions {
        org_id: "another-org".into(),
        ..options(&sandbox)
    })
    .unwrap();
    let forbidden = other.authenticate().await;
    assert!(
        matches!(&forbidden, Err(ApiError::Rejected { code: Some(403), message: m }) if m.contains("not allowed") && m.contains("not a member")),
        "{forbidden:?}"
    );
    // 401 from the Developer API.
    let bad_key = SuperWabaClient::new(SuperWabaOptions {
        api_key: Some(SecretString::from("sgk_wrong".to_string())),
        ..options(&sandbox)
    })
    .unwrap();
    let key = bad_key.list_templates().await;
    assert!(
        matches!(&key, Err(ApiError::Unauthorized(m)) if m.contains("Invalid or missing API key")),
        "{key:?}"
    );
    // Offline: a network error.
    sandbox.go_offline();
    let offline = client
        .list_conversations(&ConversationQuery::default())
        .await;
    assert!(matches!(offline, Err(ApiError::Network(_))), "{offline:?}");
    sandbox.go_online();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_surface_as_rate_limited() {
    let sandbox = start().await;
    let client = client(&sandbox);
    client.authenticate().await.unwrap();
    sandbox.set_rate_limit(1, Duration::from_secs(600));
    client
        .list_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    let limited = client
        .list_conversations(&ConversationQuery::default())
        .await;
    assert!(
        matches!(limited, Err(ApiError::RateLimited { .. })),
        "{limited:?}"
    );
    // The first refusal and three retries.
    assert_eq!(sandbox.stats().rate_limited, 4);
    sandbox.shutdown().await;
}
