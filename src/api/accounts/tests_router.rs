//! The router: each id to its account, account-wide calls to the account
//! in focus or merged, cursors that page on across accounts.

use std::sync::Arc;

use super::tests::*;
use super::*;
use crate::domain::*;

fn router_of(accounts: Vec<(&str, Arc<Recorder>)>) -> Router {
    Router::new(
        accounts
            .into_iter()
            .map(|(name, inner)| Arc::new(AccountProvider::new(name, inner as Arc<dyn Provider>)))
            .collect(),
    )
}

#[tokio::test]
async fn the_router_sends_each_id_to_its_account() {
    let work = Recorder::new("Qpien");
    let shop = Recorder::new("SuperWaba");
    let router = router_of(vec![("work", work.clone()), ("shop", shop.clone())]);
    assert_eq!(router.name(), "Qpien + SuperWaba");
    router
        .get_conversation(&ConversationId::new("shop:c1"))
        .await
        .unwrap();
    router
        .update_conversation(
            &ConversationId::new("work:c2"),
            &ConversationUpdate::default(),
        )
        .await
        .unwrap();
    let sent = router
        .send_text(&OutgoingText {
            conversation_id: ConversationId::new("shop:c3"),
            client_id: "x".into(),
            text: "t".into(),
            channel_id: None,
        })
        .await
        .unwrap();
    assert_eq!(sent.id.as_str(), "shop:m9");
    router
        .get_message(&MessageId::new("work:m1"))
        .await
        .unwrap();
    router
        .get_contact(&ContactId::new("shop:k1"))
        .await
        .unwrap();
    router
        .update_contact(&ContactId::new("work:k1"), &ContactUpdate::default())
        .await
        .unwrap();
    router
        .delete_contact(&ContactId::new("shop:k2"))
        .await
        .unwrap();
    router
        .send_template(&OutgoingTemplate {
            client_id: "x".into(),
            recipient: Recipient::Contact(ContactId::new("work:k1")),
            channel_id: None,
            template_id: TemplateId::new("work:tp1"),
            template_name: "w".into(),
            language: "en".into(),
            values: TemplateValues::default(),
        })
        .await
        .unwrap();
    let found = router
        .get_contacts(&[
            ContactId::new("shop:k1"),
            ContactId::new("work:k2"),
            ContactId::new("gone:k3"),
            ContactId::new("shop:k4"),
        ])
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
    let q = |id: &str| MessageQuery {
        conversation_id: ConversationId::new(id),
        before: None,
        after: None,
        limit: 5,
    };
    let batch = router
        .list_message_batch(&[q("shop:c1"), q("work:c2"), q("gone:c3"), q("shop:c4")])
        .await;
    let answered: Vec<Option<String>> = batch
        .iter()
        .map(|r| {
            r.as_ref()
                .ok()
                .map(|p| p.items[0].conversation_id.0.clone())
        })
        .collect();
    assert_eq!(
        answered,
        [
            Some("shop:c1".into()),
            Some("work:c2".into()),
            None,
            Some("shop:c4".into())
        ]
    );
    assert!(matches!(
        router
            .get_conversation(&ConversationId::new("gone:c1"))
            .await,
        Err(ApiError::NotFound(_))
    ));
    assert!(matches!(
        router.get_conversation(&ConversationId::new("c1")).await,
        Err(ApiError::NotFound(_))
    ));
    assert_eq!(
        work.seen(),
        [
            "update_conversation c2 assignee=None tags=None",
            "get_message m1",
            "update_contact k1 tags=None",
            "send_template Contact(ContactId(\"k1\")) channel=None template=tp1",
            "get_contacts k2",
            "list_message_batch c2",
        ]
    );
    assert_eq!(
        shop.seen(),
        [
            "get_conversation c1",
            "send_text c3 channel=None",
            "get_contact k1",
            "delete_contact k2",
            "get_contacts k1,k4",
            "list_message_batch c1,c4",
        ]
    );
}

#[tokio::test]
async fn account_wide_calls_follow_the_focus() {
    let work = Recorder::new("Qpien");
    let shop = Recorder::new("SuperWaba");
    let router = router_of(vec![("work", work.clone()), ("shop", shop.clone())]);

    // Nothing in focus: lists are merged, the rest goes to the first.
    assert_eq!(router.list_agents().await.unwrap().len(), 2);
    assert_eq!(router.list_channels().await.unwrap().len(), 2);
    let templates: Vec<String> = router
        .list_templates()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.0)
        .collect();
    assert_eq!(templates, ["work:tp1", "shop:tp1"]);
    router
        .create_contact(&ContactUpdate::default())
        .await
        .unwrap();
    assert_eq!(work.seen().last().unwrap(), "create_contact tags=None");

    // The selected conversation's account, when none is chosen.
    router.focus().set_selected(Some(1));
    assert_eq!(
        router.list_agents().await.unwrap()[0].id.as_str(),
        "shop:a1"
    );
    let created = router
        .create_contact(&ContactUpdate::default())
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "shop:k-new");

    // The chosen account wins over the selection.
    router.set_current(Some(0));
    assert_eq!(router.current(), Some(0));
    let templates = router.list_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].id.as_str(), "work:tp1");
    let page = router
        .list_contacts(&ContactQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items[0].id.as_str(), "work:k1");
    router
        .list_contact_pages(&ContactQuery::default(), 1)
        .await
        .unwrap();
    router
        .import_contacts(&[ContactUpdate::default()])
        .await
        .unwrap();
    assert_eq!(
        router.current_agent().await.unwrap().unwrap().id.as_str(),
        "work:a1"
    );
    assert_eq!(
        shop.seen(),
        [
            "list_agents",
            "list_channels",
            "list_templates",
            "list_agents",
            "create_contact tags=None"
        ]
    );
    assert_eq!(
        &work.seen()[4..],
        [
            "list_templates",
            "list_contacts",
            "list_contact_pages 1 cursor=None",
            "import_contacts [None]",
            "current_agent",
        ]
    );
}

#[tokio::test]
async fn searches_merge_every_account_newest_first_unless_one_is_chosen() {
    let work = Recorder::with_rows(
        "Qpien",
        vec![conversation("c1", 30), conversation("c2", 10)],
    );
    let shop = Recorder::with_rows("Qpien", vec![conversation("c1", 20), conversation("c3", 5)]);
    let router = router_of(vec![("work", work.clone()), ("shop", shop.clone())]);
    let query = ConversationQuery {
        limit: 2,
        search: Some("ayşe".into()),
        ..ConversationQuery::default()
    };
    let page = router.list_conversations(&query).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["work:c1", "shop:c1", "work:c2", "shop:c3"]);
    assert_eq!(page.total, Some(4));
    // The next page continues each account where it stopped.
    let next = ConversationQuery {
        cursor: page.next.clone(),
        ..query.clone()
    };
    let second = router.list_conversations(&next).await.unwrap();
    assert_eq!(second.items.len(), 4);
    assert_eq!(second.next, None, "both accounts are at their end");

    let pages = router.list_conversation_pages(&query, 2).await.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].items[0].id.as_str(), "work:c1");
    assert!(pages[0].has_more() && !pages[1].has_more());

    // An assignee or a cursor names its account.
    let mine = ConversationQuery {
        assignee: Some(AgentId::new("shop:a1")),
        ..query.clone()
    };
    let page = router.list_conversations(&mine).await.unwrap();
    assert!(
        page.items
            .iter()
            .all(|c| c.id.as_str().starts_with("shop:"))
    );
    let work_only = ConversationQuery {
        cursor: Some(PageCursor::new("work:p2")),
        ..query.clone()
    };
    let page = router.list_conversations(&work_only).await.unwrap();
    assert!(
        page.items
            .iter()
            .all(|c| c.id.as_str().starts_with("work:"))
    );
    // A cursor nobody issued asks nobody.
    let garbage = ConversationQuery {
        cursor: Some(PageCursor::new("*not json")),
        ..query.clone()
    };
    assert!(
        router
            .list_conversations(&garbage)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    router.set_current(Some(0));
    let page = router.list_conversations(&query).await.unwrap();
    assert!(
        page.items
            .iter()
            .all(|c| c.id.as_str().starts_with("work:"))
    );
    assert_eq!(
        shop.seen(),
        [
            "list_conversations assignee=None cursor=None",
            "list_conversations assignee=None cursor=Some(\"p2\")",
            "list_conversation_pages 2 cursor=None",
            "list_conversations assignee=Some(\"a1\") cursor=None",
        ]
    );
}

#[tokio::test]
async fn the_router_offers_what_any_account_offers() {
    let work = Arc::new(Recorder {
        capabilities: Capabilities {
            star: true,
            ..Capabilities::default()
        },
        ..Arc::into_inner(Recorder::new("Qpien")).unwrap()
    });
    let shop = Arc::new(Recorder {
        capabilities: Capabilities {
            templates: true,
            ..Capabilities::default()
        },
        ..Arc::into_inner(Recorder::new("SuperWaba")).unwrap()
    });
    let router = router_of(vec![("work", work.clone()), ("shop", shop.clone())]);
    let capabilities = router.capabilities();
    assert!(capabilities.star && capabilities.templates && !capabilities.assign);
    assert_eq!(union([Capabilities::all()]), Capabilities::all());
    // Statuses: the largest set with none in focus, else the focused one's.
    assert_eq!(router.statuses().len(), 2);
    router.set_current(Some(1));
    assert_eq!(router.statuses(), [ConversationStatus::Open]);
    assert_eq!(
        statuses_of([work.statuses(), shop.statuses()]),
        [ConversationStatus::Open, ConversationStatus::Pending]
    );
    router.authenticate().await.unwrap();
    assert_eq!(work.seen(), ["authenticate"]);
    assert_eq!(shop.seen(), ["authenticate"]);
}
