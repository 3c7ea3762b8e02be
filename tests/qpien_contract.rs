//! Contract tests: the Qpien client against the sandbox over real HTTP.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{
    AgentId, ContactId, ContactQuery, ConversationId, ConversationQuery, ConversationStatus,
    ConversationUpdate, MessageQuery, OutgoingText, TagId,
};
use termdesk::sandbox::{Faults, Sandbox, SandboxOptions};
use termdesk::sync::scheduler::{Priority, Scheduler, with_priority};

fn options() -> SandboxOptions {
    SandboxOptions {
        conversations: 60,
        // Generous, so only the pacing test meets the limit.
        rate_limit: 100_000,
        ..SandboxOptions::default()
    }
}

async fn start(options: SandboxOptions) -> Sandbox {
    Sandbox::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .expect("sandbox starts")
}

fn client_with(sandbox: &Sandbox, secret: &str) -> QpienClient {
    QpienClient::new(QpienConfig::new(
        sandbox.base_url(),
        "demo",
        SecretString::from(secret.to_string()),
    ))
    .expect("client builds")
}

fn client(sandbox: &Sandbox) -> QpienClient {
    client_with(sandbox, "demo")
}

fn first_page(limit: u32) -> ConversationQuery {
    ConversationQuery {
        limit,
        ..ConversationQuery::default()
    }
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticates_with_valid_credentials() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.authenticate().await.expect("authenticated");
    assert_eq!(control.token_count(), 1);
    // The cached token is reused.
    client.list_channels().await.unwrap();
    client.list_channels().await.unwrap();
    assert_eq!(control.token_count(), 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_invalid_credentials() {
    let sandbox = start(options()).await;
    let client = client_with(&sandbox, "wrong-secret");
    let err = client.authenticate().await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidCredentials(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));
    let err = client.list_conversations(&first_page(5)).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidCredentials(_)), "{err:?}");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_replaced_and_the_call_replayed() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.list_channels().await.unwrap();
    let tokens = control.token_count();
    control.expire_all_tokens();
    client
        .list_channels()
        .await
        .expect("call succeeds after refresh");
    assert_eq!(control.token_count(), tokens + 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_token_is_refreshed_before_use() {
    let sandbox = start(SandboxOptions {
        token_ttl: Duration::from_secs(1),
        ..options()
    })
    .await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.list_channels().await.unwrap();
    assert_eq!(control.token_count(), 1);
    // Calls go on until the client has replaced its token by itself.
    let requests = control.request_count();
    let mut calls = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while control.token_count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the token was never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        client.list_channels().await.unwrap();
        calls += 1;
    }
    // The calls and one token request: no call was refused first.
    assert_eq!(control.request_count() - requests, calls + 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_walks_every_conversation_once() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let mut seen = Vec::new();
    let mut total = None;
    let mut cursor = None;
    for _ in 1..=50 {
        let result = client
            .list_conversations(&ConversationQuery {
                cursor: cursor.take(),
                limit: 7,
                ..ConversationQuery::default()
            })
            .await
            .unwrap();
        total = result.total;
        seen.extend(result.items.into_iter().map(|c| c.id));
        match result.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages");
    assert_eq!(Some(seen.len() as u64), total);
    assert_eq!(seen.len(), control.conversation_ids().len());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_page_is_one_request_without_contact_lookups() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.authenticate().await.unwrap();
    let before = control.request_count();
    let page = client.list_conversations(&first_page(30)).await.unwrap();
    assert_eq!(control.request_count() - before, 1, "no per-row lookups");
    assert_eq!(page.items.len(), 30);
    assert_eq!(page.skipped, 0);
    for c in &page.items {
        assert!(c.contact_id.is_some());
        // Names come from the store's contact directory, not the client.
        assert!(c.contact_name.is_empty());
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_are_looked_up_many_per_request() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let page = client.list_conversations(&first_page(40)).await.unwrap();
    let mut ids: Vec<ContactId> = page
        .items
        .iter()
        .filter_map(|c| c.contact_id.clone())
        .collect();
    let unique: HashSet<ContactId> = ids.iter().cloned().collect();
    assert!(unique.len() > 10, "{} distinct contacts", unique.len());
    // A duplicate and an unknown id cost nothing and break nothing.
    ids.push(ids[0].clone());
    ids.push(ContactId("000000000000000000000000".into()));

    let before = control.request_count();
    let contacts = client.get_contacts(&ids).await.unwrap();
    assert_eq!(control.request_count() - before, 1, "one aliased request");
    let found: HashSet<ContactId> = contacts.iter().map(|c| c.id.clone()).collect();
    assert_eq!(found, unique);
    assert_eq!(contacts.len(), unique.len());
    for c in &contacts {
        let single = client.get_contact(&c.id).await.unwrap();
        assert_eq!(&single, c, "the batch decodes like a single lookup");
    }
    assert!(client.get_contacts(&[]).await.unwrap().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_pages_come_in_one_request() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.authenticate().await.unwrap();
    let mut query = ConversationQuery {
        limit: 10,
        ..ConversationQuery::default()
    };
    let before = control.request_count();
    let pages = client.list_conversation_pages(&query, 3).await.unwrap();
    assert_eq!(control.request_count() - before, 1);
    assert_eq!(pages.len(), 3);
    // Each page is the one its predecessor's cursor leads to.
    for (i, page) in pages.iter().enumerate() {
        let single = client.list_conversations(&query).await.unwrap();
        let ids = |p: &termdesk::domain::Page<termdesk::domain::Conversation>| {
            p.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(page), ids(&single), "page {i}");
        assert_eq!(page.next, single.next);
        query.cursor = single.next;
    }
    // Starting from a cursor continues there.
    let from_second = ConversationQuery {
        cursor: pages[0].next.clone(),
        ..query.clone()
    };
    let rest = client
        .list_conversation_pages(&from_second, 2)
        .await
        .unwrap();
    assert_eq!(rest, pages[1..].to_vec());

    let contact_query = ContactQuery {
        limit: 5,
        ..ContactQuery::default()
    };
    let before = control.request_count();
    let pages = client.list_contact_pages(&contact_query, 2).await.unwrap();
    assert_eq!(control.request_count() - before, 1);
    assert_eq!(pages.len(), 2);
    let all: HashSet<_> = pages.iter().flat_map(|p| &p.items).map(|c| &c.id).collect();
    assert_eq!(all.len(), 10, "two distinct pages");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_changed_since_a_cursor_come_oldest_first() {
    let sandbox = start(options()).await;
    let client = client(&sandbox);
    let all = client
        .list_contacts(&ContactQuery {
            limit: 100,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    let mut times: Vec<_> = all.items.iter().filter_map(|c| c.updated_at).collect();
    times.sort();
    let cursor = times[times.len() / 2];
    let changed = client
        .list_contacts(&ContactQuery {
            limit: 100,
            updated_since: Some(cursor),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert!(!changed.items.is_empty());
    assert!(changed.items.len() < all.items.len() || all.has_more());
    let changed_times: Vec<_> = changed
        .items
        .iter()
        .map(|c| c.updated_at.unwrap())
        .collect();
    assert!(changed_times.iter().all(|t| *t >= cursor));
    assert!(
        changed_times.windows(2).all(|w| w[0] <= w[1]),
        "oldest change first"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_burst_is_never_refused() {
    // The server allows 20 requests per 1 s window; the scheduler holds 20
    // per 1.2 s sliding window (the same margin as 61 s over 60 s).
    let sandbox = start(SandboxOptions {
        rate_limit: 20,
        rate_window: Duration::from_secs(1),
        ..options()
    })
    .await;
    let control = sandbox.control();
    let scheduler = Arc::new(Scheduler::with_window(20, Duration::from_millis(1200)));
    let client = Arc::new(
        QpienClient::with_scheduler(
            QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo")),
            scheduler.clone(),
        )
        .unwrap(),
    );
    assert!(Arc::ptr_eq(&client.scheduler(), &scheduler));
    let calls = (0..60).map(|i| {
        let client = client.clone();
        let priority = Priority::ALL[i % 4];
        tokio::spawn(with_priority(priority, async move {
            client.list_channels().await
        }))
    });
    for result in futures::future::join_all(calls).await {
        result.expect("task").expect("call succeeds");
    }
    assert_eq!(control.rate_limited_count(), 0, "a request was refused");
    // 60 calls and one token request, nothing retried.
    assert_eq!(control.request_count(), 61);
    let status = scheduler.status();
    assert_eq!(status.waiting, [0; 4]);
    assert!(status.used <= 20);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_returns_only_recent_conversations() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let ids = control.conversation_ids();
    let target = ids.last().expect("conversations").clone();
    let cursor = Utc::now() - chrono::Duration::milliseconds(5);
    let msg_id = control.inject_incoming_message(&target, "Any news about my parcel?");
    assert!(!msg_id.is_empty());

    let page = client
        .list_conversations(&ConversationQuery {
            limit: 100,
            updated_since: Some(cursor),
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    assert!(page.items.iter().any(|c| c.id.as_str() == target));
    assert!(page.items.len() < ids.len());
    for c in &page.items {
        assert!(c.updated_at >= cursor, "{} updated {}", c.id, c.updated_at);
    }
    let newest = page.items.iter().find(|c| c.id.as_str() == target).unwrap();
    let preview = newest.last_message.as_ref().expect("preview");
    assert_eq!(preview.text, "Any news about my parcel?");

    // The new message is there when refreshing the thread incrementally.
    let messages = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId(target.clone()),
            before: None,
            after: Some(cursor),
            limit: 50,
        })
        .await
        .unwrap();
    assert!(messages.items.iter().any(|m| m.id.as_str() == msg_id));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_twice_with_one_client_id_creates_one_message() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let conv = ConversationId(control.conversation_ids()[0].clone());
    let out = OutgoingText {
        conversation_id: conv.clone(),
        client_id: uuid::Uuid::new_v4().to_string(),
        text: "It ships today.".into(),
        channel_id: None,
    };
    let first = client.send_text(&out).await.unwrap();
    let second = client.send_text(&out).await.unwrap();
    assert_eq!(first.id, second.id);
    assert_eq!(first.client_id.as_deref(), Some(out.client_id.as_str()));
    assert_eq!(first.conversation_id, conv);
    assert_eq!(first.text, "It ships today.");
    assert_eq!(control.count_messages_with_front_id(&out.client_id), 1);
    assert_eq!(
        control.messages_containing(conv.as_str(), "It ships today."),
        1
    );
    sandbox.shutdown().await;
}

/// A sandbox allowing 5 requests per 2-second window.
async fn start_rate_limited() -> Sandbox {
    start(SandboxOptions {
        rate_limit: 5,
        rate_window: Duration::from_secs(2),
        ..options()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_and_429_retries_keep_every_call_alive() {
    let sandbox = start_rate_limited().await;
    let control = sandbox.control();
    let client = Arc::new(client(&sandbox));
    let calls = (0..12).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_channels().await })
    });
    for result in futures::future::join_all(calls).await {
        result.expect("task").expect("call succeeds");
    }
    // 12 calls + 1 token request, plus any refused attempts.
    assert!(control.request_count() >= 13);

    // One caller at a time, straight after the burst: the server's headers
    // alone keep it under the limit, waiting for the reset when it is spent.
    let refused = control.rate_limited_count();
    for _ in 0..12 {
        client.list_channels().await.expect("call succeeds");
    }
    assert_eq!(
        control.rate_limited_count(),
        refused,
        "sequential calls were refused"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_are_retried_after_the_reset() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = Arc::new(client(&sandbox));
    client.authenticate().await.unwrap();
    // A fresh window far longer than the steps below take; another user of
    // the same key spends all of it behind the client's back.
    control.set_rate_limit(3, Duration::from_secs(4));
    let other = reqwest::Client::new();
    for _ in 0..3 {
        other
            .post(sandbox.base_url())
            .json(&serde_json::json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
    }
    let refused = control.rate_limited_count();
    let calls = (0..3).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_channels().await })
    });
    for result in futures::future::join_all(calls).await {
        result.expect("task").expect("call succeeds after 429");
    }
    assert!(
        control.rate_limited_count() > refused,
        "the 429 path was not exercised"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_are_ignored() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    control.set_faults(Faults {
        extra_unknown_fields: true,
        ..Faults::default()
    });
    let client = client(&sandbox);
    let page = client.list_conversations(&first_page(10)).await.unwrap();
    assert!(!page.items.is_empty());
    client
        .list_messages(&MessageQuery {
            conversation_id: page.items[0].id.clone(),
            before: None,
            after: None,
            limit: 20,
        })
        .await
        .unwrap();
    client.list_agents().await.unwrap();
    client.list_channels().await.unwrap();
    client.list_templates().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_required_field_is_a_decode_error_naming_it() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.authenticate().await.unwrap();
    control.set_faults(Faults {
        drop_field: Some("docs".into()),
        ..Faults::default()
    });
    let err = client
        .list_conversations(&first_page(10))
        .await
        .unwrap_err();
    match err {
        ApiError::Decode(message) => assert!(message.contains("docs"), "{message}"),
        other => panic!("expected Decode, got {other:?}"),
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_scope_names_the_scope() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    control.set_token_scopes(Some(vec!["read_conversations".into()]));
    let client = client(&sandbox);
    let conv = ConversationId(control.conversation_ids()[0].clone());
    let err = client
        .send_text(&OutgoingText {
            conversation_id: conv,
            client_id: uuid::Uuid::new_v4().to_string(),
            text: "hello".into(),
            channel_id: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ApiError::InsufficientScope {
            scope: Some("write_messages".into())
        }
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_unavailable_is_a_server_error() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    client.authenticate().await.unwrap();
    // A read is tried a few times: the failure has to last.
    control.set_faults(Faults {
        fail_next: 3,
        ..Faults::default()
    });
    let err = client.list_channels().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());
    client.list_channels().await.expect("recovers");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_server_times_out() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let mut config = QpienConfig::new(sandbox.base_url(), "demo", SecretString::from("demo"));
    config.request_timeout = Duration::from_millis(300);
    let client = QpienClient::new(config).unwrap();
    client.authenticate().await.unwrap();
    control.set_faults(Faults {
        delay: Some(Duration::from_secs(2)),
        ..Faults::default()
    });
    let err = client.list_channels().await.unwrap_err();
    assert_eq!(err, ApiError::Timeout(Duration::from_millis(300)));
    control.set_faults(Faults::default());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_network_error() {
    // Bind then drop a listener to get a port nobody serves.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = QpienClient::new(QpienConfig::new(
        format!("http://127.0.0.1:{port}/api/v1?key=topsecret"),
        "demo",
        SecretString::from("demo"),
    ))
    .unwrap();
    let err = client.authenticate().await.unwrap_err();
    assert!(matches!(err, ApiError::Network(_)), "{err:?}");
    assert!(!err.to_string().contains("topsecret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_arrives_sanitized() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let conv = control.conversation_ids()[0].clone();
    let evil = "pay \u{1b}[31mnow\u{1b}[0m\u{1b}]0;owned\u{7}\r\nplease\u{9b}2J";
    let id = control.inject_incoming_message(&conv, evil);
    let messages = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId(conv.clone()),
            before: None,
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    let msg = messages
        .items
        .iter()
        .find(|m| m.id.as_str() == id)
        .expect("injected message listed");
    assert_eq!(msg.text, "pay now\nplease");
    let page = client.list_conversations(&first_page(5)).await.unwrap();
    let row = page.items.iter().find(|c| c.id.as_str() == conv).unwrap();
    let preview = &row.last_message.as_ref().unwrap().text;
    assert!(
        !has_control_chars(preview) && !preview.contains('\n'),
        "{preview:?}"
    );

    // Seeded data carries hostile text too; nothing anywhere may keep escapes.
    for c in client
        .list_conversations(&first_page(100))
        .await
        .unwrap()
        .items
    {
        let thread = client
            .list_messages(&MessageQuery {
                conversation_id: c.id.clone(),
                before: None,
                after: None,
                limit: 100,
            })
            .await
            .unwrap();
        for m in thread.items {
            assert!(!has_control_chars(&m.text), "{:?}", m.text);
            assert!(!m.text.contains("owned"), "{:?}", m.text);
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_method_works() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let caps = client.capabilities();
    assert!(caps.incremental_sync && caps.send_text && caps.templates);
    assert_eq!(client.name(), "Qpien");

    let conv_id = ConversationId(control.conversation_ids()[0].clone());
    let conv = client.get_conversation(&conv_id).await.unwrap();
    assert_eq!(conv.id, conv_id);
    assert!(conv.contact_id.is_some());

    let agents = client.list_agents().await.unwrap();
    assert!(!agents.is_empty());
    let agent = agents
        .iter()
        .find(|a| a.active && !a.is_bot)
        .unwrap_or(&agents[0]);

    let updated = client
        .update_conversation(
            &conv_id,
            &ConversationUpdate {
                status: Some(ConversationStatus::Resolved),
                starred: Some(true),
                assignee: Some(Some(AgentId(agent.id.0.clone()))),
                ..ConversationUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.status, ConversationStatus::Resolved);
    assert!(updated.starred);
    assert_eq!(updated.assignee.as_ref(), Some(&agent.id));
    let unassigned = client
        .update_conversation(
            &conv_id,
            &ConversationUpdate {
                assignee: Some(None),
                ..ConversationUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(unassigned.assignee, None);

    let messages = client
        .list_messages(&MessageQuery {
            conversation_id: conv_id.clone(),
            before: None,
            after: None,
            limit: 5,
        })
        .await
        .unwrap();
    assert!(!messages.items.is_empty());
    for pair in messages.items.windows(2) {
        assert!(pair[0].created_at >= pair[1].created_at, "newest first");
    }
    let one = client.get_message(&messages.items[0].id).await.unwrap();
    assert_eq!(one.id, messages.items[0].id);

    // Paging backwards with `before` gives strictly older messages.
    let oldest = messages.items.last().unwrap().created_at;
    let older = client
        .list_messages(&MessageQuery {
            conversation_id: conv_id.clone(),
            before: Some(oldest),
            after: None,
            limit: 5,
        })
        .await
        .unwrap();
    assert!(older.items.iter().all(|m| m.created_at < oldest));

    let contacts = client
        .list_contacts(&ContactQuery {
            limit: 10,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert!(!contacts.items.is_empty());
    let contact = client.get_contact(&contacts.items[0].id).await.unwrap();
    assert_eq!(contact.id, contacts.items[0].id);
    let missing = client
        .get_contact(&termdesk::domain::ContactId(
            "000000000000000000000000".into(),
        ))
        .await
        .unwrap_err();
    assert!(matches!(missing, ApiError::NotFound(_)), "{missing:?}");

    let channels = client.list_channels().await.unwrap();
    assert!(!channels.is_empty());
    let templates = client.list_templates().await.unwrap();
    assert!(!templates.is_empty());
    assert!(templates.iter().all(|t| !t.body.is_empty()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_large_batches_gets_smaller_ones_and_every_answer() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    // A query-cost limit: at most two root fields per document.
    control.set_faults(Faults {
        max_root_fields: Some(2),
        ..Faults::default()
    });
    let client = client(&sandbox);
    client.authenticate().await.unwrap();
    let query = ConversationQuery {
        limit: 10,
        ..ConversationQuery::default()
    };
    let pages = client.list_conversation_pages(&query, 5).await.unwrap();
    assert_eq!(pages.len(), 5, "every page, in smaller batches");
    let ids: HashSet<_> = pages.iter().flat_map(|p| &p.items).map(|c| &c.id).collect();
    assert_eq!(ids.len(), 50);

    // The limit is remembered: the next batch is sized to it at once.
    let contacts: Vec<ContactId> = pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|c| c.contact_id.clone())
        .take(6)
        .collect();
    let before = control.request_count();
    let found = client.get_contacts(&contacts).await.unwrap();
    assert_eq!(found.len(), contacts.len());
    assert_eq!(
        control.request_count() - before,
        3,
        "six lookups, two per request, none refused"
    );
    sandbox.shutdown().await;
}

/// Tags seen on the first page of conversations (Qpien has no tag list).
async fn known_tags(client: &QpienClient) -> Vec<termdesk::domain::Tag> {
    let page = client.list_conversations(&first_page(100)).await.unwrap();
    let mut tags: Vec<termdesk::domain::Tag> = Vec::new();
    for tag in page.items.into_iter().flat_map(|c| c.tags) {
        if !tags.iter().any(|t| t.id == tag.id) {
            tags.push(tag);
        }
    }
    tags
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_conversation_changes_read_back() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let id = ConversationId(control.conversation_ids()[2].clone());
    let update = |u: ConversationUpdate| {
        let (client, id) = (&client, &id);
        async move { client.update_conversation(id, &u).await.unwrap() }
    };

    let before = client.get_conversation(&id).await.unwrap();
    let status = if before.status == ConversationStatus::Pending {
        ConversationStatus::Open
    } else {
        ConversationStatus::Pending
    };
    let changed = update(ConversationUpdate {
        status: Some(status.clone()),
        starred: Some(!before.starred),
        priority: Some(termdesk::domain::Priority::Urgent),
        ..ConversationUpdate::default()
    })
    .await;
    let read = client.get_conversation(&id).await.unwrap();
    assert_eq!(read, changed);
    assert_eq!(read.status, status);
    assert_eq!(read.starred, !before.starred);
    assert_eq!(read.priority, Some(termdesk::domain::Priority::Urgent));
    assert!(read.updated_at >= before.updated_at);

    // Tags are replaced as a set, duplicates folded.
    let tags = known_tags(&client).await;
    assert!(tags.len() >= 2, "{tags:?}");
    let wanted = vec![tags[0].id.clone(), tags[1].id.clone(), tags[0].id.clone()];
    update(ConversationUpdate {
        tags: Some(wanted),
        ..ConversationUpdate::default()
    })
    .await;
    let read = client.get_conversation(&id).await.unwrap();
    let ids: Vec<_> = read.tags.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, vec![tags[0].id.clone(), tags[1].id.clone()]);
    assert_eq!(read.tags[0].name, tags[0].name);
    update(ConversationUpdate {
        tags: Some(Vec::new()),
        ..ConversationUpdate::default()
    })
    .await;
    assert!(client.get_conversation(&id).await.unwrap().tags.is_empty());

    // Assign, then unassign.
    let agents = client.list_agents().await.unwrap();
    let agent = agents.iter().find(|a| a.active && !a.is_bot).unwrap();
    update(ConversationUpdate {
        assignee: Some(Some(agent.id.clone())),
        ..ConversationUpdate::default()
    })
    .await;
    let read = client.get_conversation(&id).await.unwrap();
    assert_eq!(read.assignee.as_ref(), Some(&agent.id));
    let mine = client
        .list_conversations(&ConversationQuery {
            assignee: Some(agent.id.clone()),
            ..first_page(100)
        })
        .await
        .unwrap();
    assert!(mine.items.iter().any(|c| c.id == id));
    assert!(
        mine.items
            .iter()
            .all(|c| c.assignee.as_ref() == Some(&agent.id))
    );
    update(ConversationUpdate {
        assignee: Some(None),
        ..ConversationUpdate::default()
    })
    .await;
    assert_eq!(client.get_conversation(&id).await.unwrap().assignee, None);
    let unassigned = client
        .list_conversations(&ConversationQuery {
            unassigned: true,
            ..first_page(100)
        })
        .await
        .unwrap();
    assert!(unassigned.items.iter().any(|c| c.id == id));
    assert!(unassigned.items.iter().all(|c| c.assignee.is_none()));

    // An update that changes nothing is not sent; the conversation comes back.
    let requests = control.request_count();
    let same = update(ConversationUpdate::default()).await;
    assert_eq!(same.id, id);
    assert_eq!(control.request_count(), requests + 1);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_updates_are_final_and_say_why() {
    let sandbox = start(options()).await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let id = ConversationId(control.conversation_ids()[4].clone());
    let agents = client.list_agents().await.unwrap();
    let inactive = agents.iter().find(|a| !a.active && !a.is_bot).unwrap();
    let bot = agents.iter().find(|a| a.is_bot).unwrap();
    let nobody = AgentId("ffffffffffffffffffffffff".into());
    client
        .update_conversation(
            &id,
            &ConversationUpdate {
                status: Some(ConversationStatus::Closed),
                ..ConversationUpdate::default()
            },
        )
        .await
        .unwrap();
    let before = client.get_conversation(&id).await.unwrap();

    let assign = |agent: &AgentId| ConversationUpdate {
        assignee: Some(Some(agent.clone())),
        ..ConversationUpdate::default()
    };
    let status = |s: ConversationStatus| ConversationUpdate {
        status: Some(s),
        ..ConversationUpdate::default()
    };
    let cases: Vec<(&str, ConversationId, ConversationUpdate, &str)> = vec![
        (
            "unknown agent",
            id.clone(),
            assign(&nobody),
            "Customer person not found",
        ),
        (
            "inactive agent",
            id.clone(),
            assign(&inactive.id),
            "not active",
        ),
        ("bot", id.clone(), assign(&bot.id), "bot"),
        (
            "unknown tag",
            id.clone(),
            ConversationUpdate {
                tags: Some(vec![TagId("eeeeeeeeeeeeeeeeeeeeeeee".into())]),
                ..ConversationUpdate::default()
            },
            "Tag not found: eeeeeeeeeeeeeeeeeeeeeeee",
        ),
        (
            "closed to pending",
            id.clone(),
            status(ConversationStatus::Pending),
            "Conversation is closed; reopen it first",
        ),
        (
            "closed to resolved",
            id.clone(),
            status(ConversationStatus::Resolved),
            "reopen it first",
        ),
        (
            "unknown conversation",
            ConversationId("dddddddddddddddddddddddd".into()),
            ConversationUpdate {
                starred: Some(true),
                ..ConversationUpdate::default()
            },
            "Conversation not found",
        ),
    ];
    for (what, target, update, words) in cases {
        let error = client
            .update_conversation(&target, &update)
            .await
            .unwrap_err();
        assert!(!error.is_transient(), "{what}: {error:?}");
        match &error {
            ApiError::NotFound(message) | ApiError::Rejected { message, .. } => {
                assert!(message.contains(words), "{what}: {error}")
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(error.to_string().contains(words), "{what}: {error}");
    }
    // Nothing refused was applied.
    assert_eq!(client.get_conversation(&id).await.unwrap(), before);
    // Reopening is the way out.
    let reopened = client
        .update_conversation(&id, &status(ConversationStatus::Open))
        .await
        .unwrap();
    assert_eq!(reopened.status, ConversationStatus::Open);
    sandbox.shutdown().await;
}
