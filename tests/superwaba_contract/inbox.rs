//! Conversations, messages and the agent.

use termdesk::api::{ApiError, Provider};
use termdesk::domain::{
    Ack, AgentId, ConversationId, ConversationQuery, ConversationStatus, ConversationUpdate,
    MessageQuery, OutgoingText,
};
use termdesk::sandbox::superwaba::{DEMO_EMAIL, DEMO_USER_ID};

use super::{client, open_window, rejected, start};

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
