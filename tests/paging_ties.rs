//! A thread with more messages at one millisecond than a page holds pages
//! back to its first message, each message once, and stops: against the
//! Qpien and SuperWaba sandboxes over real HTTP.

use chrono::{Duration, SubsecRound};
use secrecy::SecretString;
use termdesk::api::Provider;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::domain::{ConversationId, MessageQuery};
use termdesk::sandbox::superwaba::{
    DEMO_ANON_KEY, DEMO_API_KEY, DEMO_EMAIL, DEMO_ORG_ID, DEMO_PASSWORD, SuperWabaSandbox,
    SuperWabaSandboxOptions,
};
use termdesk::sandbox::{Sandbox, SandboxOptions};
use termdesk::store::Store;
use termdesk::sync::THREAD_PAGE;
use termdesk::sync::older::older_messages;

const TIED: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_back_through_one_millisecond_reaches_the_first_message_once() {
    let sandbox = Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            conversations: 5,
            rate_limit: 100_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts");
    let control = sandbox.control();
    let client = QpienClient::new(QpienConfig::new(
        sandbox.base_url(),
        "demo",
        SecretString::from("demo".to_string()),
    ))
    .expect("client builds");
    let conversation = control.conversation_ids()[0].clone();
    let id = ConversationId::new(conversation.clone());

    let newest = client
        .list_messages(&MessageQuery {
            conversation_id: id.clone(),
            before: None,
            after: None,
            limit: 100,
        })
        .await
        .unwrap();
    // The whole thread's first messages: older than anything there.
    let oldest_before = newest
        .items
        .iter()
        .map(|m| m.created_at)
        .min()
        .unwrap_or_else(chrono::Utc::now);
    let at = oldest_before - Duration::days(3);
    let tied = control.add_messages_at(&conversation, TIED, at, "tied");
    assert_eq!(tied.len(), TIED);
    // And a run in the middle of the thread, also past a page's size.
    let middle = control.add_messages_at(
        &conversation,
        THREAD_PAGE as usize + 7,
        at + Duration::hours(1),
        "middle",
    );
    let total = control.message_contents(&conversation).len();
    assert!(total > TIED + middle.len());

    let store = page_back(&client, &id).await;
    let thread = store.thread(&id).unwrap();
    let mut ids: Vec<&str> = thread.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), total, "every message is loaded");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "each message once");
    for id in tied.iter().chain(&middle) {
        assert!(ids.binary_search(&id.as_str()).is_ok(), "{id} was skipped");
    }
    assert_eq!(thread.messages[0].created_at, at.trunc_subsecs(3));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superwaba_pages_back_through_one_millisecond_to_the_first_message_once() {
    let sandbox = SuperWabaSandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SuperWabaSandboxOptions {
            conversations: 5,
            contacts: 10,
            rate_limit: 100_000,
            ..SuperWabaSandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts");
    let control = sandbox.control();
    let client = SuperWabaClient::new(SuperWabaOptions {
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
        timeout: std::time::Duration::from_secs(10),
        requests_per_minute: 100_000,
    })
    .expect("client builds");
    let conversation = control.conversation_ids()[0].clone();
    let id = ConversationId::new(conversation.clone());
    let at = chrono::Utc::now() - Duration::days(400);
    let tied = control.add_messages_at(&conversation, TIED, at, "tied");
    assert_eq!(tied.len(), TIED);
    let middle = control.add_messages_at(
        &conversation,
        THREAD_PAGE as usize + 7,
        at + Duration::hours(1),
        "middle",
    );
    let total = control.messages(&conversation).len();
    assert!(total >= TIED + middle.len());

    let store = page_back(&client, &id).await;
    let thread = store.thread(&id).unwrap();
    let mut ids: Vec<&str> = thread.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), total, "every message is loaded");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), total, "each message once");
    for id in tied.iter().chain(&middle) {
        assert!(ids.binary_search(&id.as_str()).is_ok(), "{id} was skipped");
    }
    assert_eq!(thread.messages[0].created_at, at.trunc_subsecs(3));
    sandbox.shutdown().await;
}

/// As the thread does: the newest page, then older pages from the oldest
/// message held, until the server says there is nothing older.
async fn page_back(client: &dyn Provider, id: &ConversationId) -> Store {
    let id = id.clone();
    let mut store = Store::default();
    let first = client
        .list_messages(&MessageQuery {
            conversation_id: id.clone(),
            before: None,
            after: None,
            limit: THREAD_PAGE,
        })
        .await
        .unwrap();
    let mut has_older = first.has_more();
    store.merge_messages(&id, first.items, None, Some(has_older));
    let mut loads = 0;
    while has_older {
        loads += 1;
        assert!(loads <= 100, "paging back never ends");
        let thread = store.thread(&id).unwrap();
        let anchor = thread.messages[0].created_at;
        let held = thread
            .messages
            .iter()
            .filter(|m| m.created_at == anchor)
            .count();
        let page = older_messages(client, &id, anchor, held, THREAD_PAGE)
            .await
            .unwrap();
        assert!(
            !page.items.is_empty(),
            "a load that brings nothing would repeat forever"
        );
        has_older = page.has_more();
        let before = store.thread(&id).unwrap().messages.len();
        store.merge_messages(&id, page.items, Some(has_older), None);
        assert!(
            store.thread(&id).unwrap().messages.len() > before,
            "each load brings messages not held yet"
        );
    }
    store
}
