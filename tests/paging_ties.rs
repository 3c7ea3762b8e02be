//! A thread with more messages at one millisecond than a page holds pages
//! back to its first message, each message once, and stops: against the
//! Qpien sandbox over real HTTP.

use chrono::{Duration, SubsecRound};
use secrecy::SecretString;
use termdesk::api::Provider;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::domain::{ConversationId, MessageQuery};
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

    // As the thread does: the newest page, then older pages from the
    // oldest message held, until the server says there is nothing older.
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
        let page = older_messages(&client, &id, anchor, held, THREAD_PAGE)
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
