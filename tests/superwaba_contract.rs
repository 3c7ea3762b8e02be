//! Contract tests: the SuperWaba client against the SuperWaba sandbox over
//! real HTTP — every endpoint the client uses, each error status, token
//! renewal and the token file.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::api::{ApiError, BulkRowOutcome, Provider};
use termdesk::domain::{
    Ack, AgentId, ContactId, ContactQuery, ContactUpdate, ConversationId, ConversationQuery,
    ConversationStatus, ConversationUpdate, MessageKind, MessageQuery, OutgoingTemplate,
    OutgoingText, Recipient, Tag, TagId, TemplateId, TemplateParam, TemplateValues,
};
use termdesk::sandbox::superwaba::{
    DEMO_ANON_KEY, DEMO_API_KEY, DEMO_EMAIL, DEMO_ORG_ID, DEMO_PASSWORD, DEMO_USER_ID,
    SuperWabaSandbox, SuperWabaSandboxOptions,
};

async fn start() -> SuperWabaSandbox {
    start_with(SuperWabaSandboxOptions::default()).await
}

async fn start_with(options: SuperWabaSandboxOptions) -> SuperWabaSandbox {
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

fn options(sandbox: &SuperWabaSandbox) -> SuperWabaOptions {
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

fn client(sandbox: &SuperWabaSandbox) -> SuperWabaClient {
    SuperWabaClient::new(options(sandbox)).expect("client builds")
}

fn rejected(result: Result<impl std::fmt::Debug, ApiError>) -> (Option<i64>, String) {
    match result {
        Err(ApiError::Rejected { code, message }) => (code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A conversation whose customer wrote within 24 hours.
fn open_window(sandbox: &SuperWabaSandbox) -> String {
    sandbox
        .conversation_ids()
        .into_iter()
        .find(|id| sandbox.window_open(id) == Some(true))
        .expect("a conversation with an open window")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_and_knows_the_agent() {
    let sandbox = start().await;
    let client = client(&sandbox);
    client.authenticate().await.expect("signed in");
    let me = client.current_agent().await.unwrap().expect("an agent");
    assert_eq!(me.id, AgentId::new(DEMO_USER_ID));
    assert_eq!(me.email, DEMO_EMAIL);
    assert_eq!(client.name(), "SuperWaba");
    assert!(client.capabilities().bulk_contact_import);
    let statuses: Vec<&str> = client.statuses().iter().map(|s| s.label()).collect();
    assert_eq!(statuses, ["open", "ai_handling", "escalated", "closed"]);
    assert_eq!(sandbox.password_grants(), 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filters_reads_closes_and_assigns_conversations() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let first = client
        .list_conversations(&ConversationQuery {
            limit: 10,
            ..ConversationQuery::default()
        })
        .await
        .expect("a page");
    assert_eq!(first.items.len(), 10);
    assert!(first.has_more());
    assert_eq!(first.total, Some(40));
    let ids: Vec<String> = first.items.iter().map(|c| c.id.0.clone()).collect();
    assert_eq!(ids, sandbox.conversation_ids()[..10]);
    assert!(first.items.iter().all(|c| !c.contact_name.is_empty()));
    // The next pages start where the cursor says.
    let pages = client
        .list_conversation_pages(
            &ConversationQuery {
                cursor: first.next.clone(),
                limit: 10,
                ..ConversationQuery::default()
            },
            2,
        )
        .await
        .unwrap();
    let more: Vec<String> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|c| c.id.0.clone()))
        .collect();
    assert_eq!(more, sandbox.conversation_ids()[10..30]);
    let foreign = client
        .list_conversations(&ConversationQuery {
            cursor: Some(termdesk::domain::PageCursor::new("after:xyz")),
            ..ConversationQuery::default()
        })
        .await;
    assert!(matches!(foreign, Err(ApiError::Decode(_))), "{foreign:?}");

    let closed = client
        .list_conversations(&ConversationQuery {
            limit: 100,
            status: vec![ConversationStatus::Closed],
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    assert!(!closed.items.is_empty());
    assert!(
        closed
            .items
            .iter()
            .all(|c| c.status == ConversationStatus::Closed)
    );
    let escalated = ConversationStatus::Unknown("escalated".into());
    let handed_over = client
        .list_conversations(&ConversationQuery {
            limit: 100,
            status: vec![escalated.clone()],
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    assert!(!handed_over.items.is_empty());
    assert!(handed_over.items.iter().all(|c| c.status == escalated));
    let mine = client
        .list_conversations(&ConversationQuery {
            limit: 100,
            assignee: Some(AgentId::new(DEMO_USER_ID)),
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    assert!(
        mine.items
            .iter()
            .all(|c| c.assignee == Some(AgentId::new(DEMO_USER_ID)))
    );

    let id = ConversationId(ids[0].clone());
    let one = client.get_conversation(&id).await.unwrap();
    assert_eq!(one.id, id);
    let after = client
        .update_conversation(
            &id,
            &ConversationUpdate {
                status: Some(ConversationStatus::Resolved),
                assignee: Some(Some(AgentId::new(DEMO_USER_ID))),
                ..ConversationUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.status, ConversationStatus::Closed);
    let state = sandbox.conversation_state(&ids[0]).unwrap();
    assert_eq!(
        (state.status.as_str(), state.assignee.as_deref()),
        ("closed", Some(DEMO_USER_ID))
    );
    client
        .update_conversation(
            &id,
            &ConversationUpdate {
                assignee: Some(None),
                ..ConversationUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(sandbox.conversation_state(&ids[0]).unwrap().assignee, None);

    let requests = sandbox.stats().requests;
    let (_, reopen) = rejected(
        client
            .update_conversation(
                &id,
                &ConversationUpdate {
                    status: Some(ConversationStatus::Open),
                    ..ConversationUpdate::default()
                },
            )
            .await,
    );
    assert!(reopen.contains("only be closed"), "{reopen}");
    let star = client
        .update_conversation(
            &id,
            &ConversationUpdate {
                starred: Some(true),
                ..ConversationUpdate::default()
            },
        )
        .await;
    assert!(matches!(star, Err(ApiError::Unsupported(_))), "{star:?}");
    assert_eq!(sandbox.stats().requests, requests, "refused without asking");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_since_a_time_come_oldest_first() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let ids = sandbox.conversation_ids();
    let since = sandbox.conversation_state(&ids[5]).unwrap().updated_at;
    let page = client
        .list_conversations(&ConversationQuery {
            limit: 100,
            updated_since: Some(since),
            oldest_first: true,
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    let got: Vec<String> = page.items.iter().map(|c| c.id.0.clone()).collect();
    let mut want = ids[..6].to_vec();
    want.reverse();
    assert_eq!(got, want);
    assert!(!page.has_more());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_messages_backwards_and_sends_a_reply() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let conversation = open_window(&sandbox);
    let stored = sandbox.messages(&conversation);
    let query = |before| MessageQuery {
        conversation_id: ConversationId(conversation.clone()),
        before,
        after: None,
        limit: 2,
    };
    let newest = client.list_messages(&query(None)).await.unwrap();
    assert_eq!(newest.items.len(), 2);
    assert!(newest.items[0].created_at >= newest.items[1].created_at);
    assert_eq!(newest.items[0].id.0, stored[stored.len() - 1].id);
    let older = client
        .list_messages(&query(Some(newest.items[1].created_at)))
        .await
        .unwrap();
    let ids: Vec<&str> = older.items.iter().map(|m| m.id.as_str()).collect();
    let want: Vec<&str> = stored[stored.len().saturating_sub(4)..stored.len() - 2]
        .iter()
        .rev()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, want);
    assert_eq!(older.has_more(), stored.len() > 4);
    // A client that has not seen the page edge walks to it.
    let fresh = self::client(&sandbox)
        .list_messages(&query(Some(newest.items[1].created_at)))
        .await
        .unwrap();
    assert_eq!(fresh.items, older.items);
    assert_eq!(fresh.has_more(), older.has_more());

    let sent = client
        .send_text(&OutgoingText {
            conversation_id: ConversationId(conversation.clone()),
            client_id: "client-42".into(),
            text: "Your new address is saved.".into(),
            channel_id: None,
        })
        .await
        .unwrap();
    assert_eq!(sent.client_id.as_deref(), Some("client-42"));
    assert_eq!(sent.ack, Ack::Sent);
    let last = sandbox.messages(&conversation).pop().unwrap();
    assert_eq!(last.text, "Your new address is saved.");
    assert_eq!(last.client_message_id.as_deref(), Some("client-42"));
    // The echo is found by its client id.
    let echo = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId(conversation.clone()),
            before: None,
            after: Some(sent.created_at - chrono::Duration::seconds(5)),
            limit: 100,
        })
        .await
        .unwrap();
    assert!(
        echo.items
            .iter()
            .any(|m| m.client_id.as_deref() == Some("client-42"))
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_list_get_create_and_update() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let page = client
        .list_contacts(&ContactQuery {
            limit: 25,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 25);
    assert_eq!(page.total, Some(60));
    let known = page.items[0].clone();
    let got = client.get_contact(&known.id).await.unwrap();
    assert_eq!(got.phone, known.phone);
    let by_phone = client
        .list_contacts(&ContactQuery {
            limit: 10,
            phone: known.phone.clone(),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_phone.items.len(), 1);

    let made = client
        .create_contact(&ContactUpdate {
            first_name: Some("Layla".into()),
            last_name: Some(Some("Nasser".into())),
            phone: Some(Some("+971502468013".into())),
            email: Some(Some("layla@example.net".into())),
            country: Some(Some("AE".into())),
            tags: Some(vec![Tag {
                id: TagId::new("lead"),
                name: "lead".into(),
                color: None,
            }]),
            phone_usage_permission: Some(true),
            ..ContactUpdate::default()
        })
        .await
        .unwrap();
    assert_eq!(made.first_name, "Layla Nasser");
    assert_eq!(made.phone_country_code.as_deref(), Some("971"));
    assert_eq!(made.phone_usage_permission, Some(true));
    let state = sandbox.contact(made.id.as_str()).unwrap();
    assert_eq!((state.source.as_str(), state.opted_in), ("api", true));
    assert_eq!(state.tags, ["lead"]);

    let after = client
        .update_contact(
            &made.id,
            &ContactUpdate {
                last_name: Some(Some("N.".into())),
                email: Some(None),
                phone_usage_permission: Some(false),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.first_name, "Layla Nasser N.");
    let state = sandbox.contact(made.id.as_str()).unwrap();
    assert_eq!(
        (state.name.as_str(), state.email.as_deref(), state.opted_in),
        ("Layla Nasser N.", None, false)
    );

    let requests = sandbox.stats().requests;
    let (_, phone) = rejected(
        client
            .update_contact(
                &made.id,
                &ContactUpdate {
                    phone: Some(Some("+971500000000".into())),
                    ..ContactUpdate::default()
                },
            )
            .await,
    );
    assert!(phone.contains("phone"), "{phone}");
    let (_, gender) = rejected(
        client
            .update_contact(
                &made.id,
                &ContactUpdate {
                    gender: Some(Some("female".into())),
                    ..ContactUpdate::default()
                },
            )
            .await,
    );
    assert!(gender.contains("gender"), "{gender}");
    assert_eq!(sandbox.stats().requests, requests, "refused without asking");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_contacts_row_by_row() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let existing = sandbox
        .conversation_state(&sandbox.conversation_ids()[0])
        .unwrap()
        .contact_id;
    let existing_phone = sandbox.contact(&existing).unwrap().phone;
    let row = |name: &str, phone: &str| ContactUpdate {
        first_name: Some(name.into()),
        phone: Some(Some(phone.into())),
        ..ContactUpdate::default()
    };
    let outcomes = client
        .import_contacts(&[
            row("Omar Saleh", "+971500000101"),
            row("Returning", &existing_phone),
            row("No phone", ""),
            row("Bad phone", "12345"),
            row("Rana Haddad", "+971500000102"),
        ])
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 5);
    match &outcomes[0] {
        BulkRowOutcome::Created(c) => {
            assert_eq!(c.first_name, "Omar Saleh");
            assert_eq!(
                sandbox.contact_id_by_phone("+971500000101").as_deref(),
                Some(c.id.as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    match &outcomes[1] {
        BulkRowOutcome::Updated(c) => assert_eq!(c.id.as_str(), existing),
        other => panic!("{other:?}"),
    }
    assert_eq!(sandbox.contact(&existing).unwrap().name, "Returning");
    assert!(
        matches!(&outcomes[2], BulkRowOutcome::Failed(why) if why.contains("phone")),
        "{:?}",
        outcomes[2]
    );
    assert!(
        matches!(&outcomes[3], BulkRowOutcome::Failed(why) if why.contains("E.164")),
        "{:?}",
        outcomes[3]
    );
    assert!(matches!(&outcomes[4], BulkRowOutcome::Created(_)));
    assert_eq!(
        sandbox
            .stats()
            .routes
            .get("POST /api/whatsapp/contacts/bulk"),
        Some(&1)
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_sends_templates() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let templates = client.list_templates().await.unwrap();
    let order = templates
        .iter()
        .find(|t| t.name == "order_update" && t.language == "en")
        .expect("order_update");
    assert_eq!(order.header.as_deref(), Some("Order {{1}}"));
    assert!(order.buttons.iter().any(|b| b.url.is_some()));
    let conversation = sandbox.conversation_ids()[3].clone();
    let values = TemplateValues {
        header_text: Some("A-2291".into()),
        body: ["Layla", "A-2291", "out for delivery"]
            .iter()
            .enumerate()
            .map(|(i, v)| TemplateParam {
                key: (i + 1).to_string(),
                value: v.to_string(),
            })
            .collect(),
        buttons: vec![(0, "A-2291".into())],
        ..TemplateValues::default()
    };
    let sent = client
        .send_template(&OutgoingTemplate {
            client_id: "tpl-1".into(),
            recipient: Recipient::Conversation(ConversationId(conversation.clone())),
            channel_id: None,
            template_id: order.id.clone(),
            template_name: "order_update".into(),
            language: "en".into(),
            values: values.clone(),
        })
        .await
        .unwrap();
    assert_eq!(sent.conversation_id.as_str(), conversation);
    assert_eq!(sent.kind, MessageKind::Template);
    assert_eq!(sent.client_id.as_deref(), Some("tpl-1"));
    assert!(sent.text.contains("out for delivery"), "{}", sent.text);
    let stored = sandbox.messages(&conversation).pop().unwrap();
    assert_eq!(stored.id, sent.id.0);

    // To a contact: the message lands in the contact's conversation.
    let contact = sandbox
        .conversation_state(&conversation)
        .unwrap()
        .contact_id;
    let to_contact = client
        .send_template(&OutgoingTemplate {
            client_id: "tpl-2".into(),
            recipient: Recipient::Contact(ContactId(contact)),
            channel_id: None,
            template_id: TemplateId::new("x"),
            template_name: "order_update".into(),
            language: "en".into(),
            values,
        })
        .await
        .unwrap();
    assert_eq!(to_contact.conversation_id.as_str(), conversation);

    let (code, wrong) = rejected(
        client
            .send_template(&OutgoingTemplate {
                client_id: "tpl-3".into(),
                recipient: Recipient::Conversation(ConversationId(conversation.clone())),
                channel_id: None,
                template_id: TemplateId::new("x"),
                template_name: "order_update".into(),
                language: "en".into(),
                values: TemplateValues::default(),
            })
            .await,
    );
    assert_eq!(code, Some(400));
    assert!(wrong.contains("body parameters"), "{wrong}");

    let keyless = SuperWabaClient::new(SuperWabaOptions {
        api_key: None,
        ..options(&sandbox)
    })
    .unwrap();
    let missing = keyless.list_templates().await.unwrap_err().to_string();
    assert!(missing.contains("Developer API key"), "{missing}");
    sandbox.shutdown().await;
}

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
    // 503, transient.
    sandbox.fail_next(1);
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
    // 403: another organization.
    let other = SuperWabaClient::new(SuperWabaOptions {
        org_id: "another-org".into(),
        ..options(&sandbox)
    })
    .unwrap();
    let forbidden = other.authenticate().await;
    assert!(
        matches!(&forbidden, Err(ApiError::Unauthorized(m)) if m.contains("not a member")),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seeded_thread_decodes_whatever_its_message_types() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let mut kinds = std::collections::BTreeSet::new();
    for id in sandbox.conversation_ids() {
        let page = client
            .list_messages(&MessageQuery {
                conversation_id: ConversationId(id.clone()),
                before: None,
                after: None,
                limit: 100,
            })
            .await
            .unwrap();
        assert_eq!(page.skipped, 0, "{id}");
        assert_eq!(page.items.len(), sandbox.messages(&id).len());
        for m in &page.items {
            kinds.insert(format!("{:?}", m.kind));
            assert!(!m.text.is_empty() || !m.media.is_empty(), "{m:?}");
        }
    }
    assert!(kinds.len() >= 3, "{kinds:?}");
    sandbox.shutdown().await;
}
