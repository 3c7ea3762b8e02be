use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::*;

/// Echoes what it receives inside answers full of ids, and records every
/// id it was given.
pub(super) struct Recorder {
    pub(super) name: &'static str,
    pub(super) capabilities: Capabilities,
    pub(super) seen: Mutex<Vec<String>>,
    /// Conversations answered by lists, newest first.
    pub(super) rows: Vec<Conversation>,
}

impl Recorder {
    pub(super) fn new(name: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            capabilities: Capabilities::default(),
            seen: Mutex::new(Vec::new()),
            rows: Vec::new(),
        })
    }

    pub(super) fn with_rows(name: &'static str, rows: Vec<Conversation>) -> Arc<Self> {
        Arc::new(Self {
            rows,
            ..Arc::into_inner(Self::new(name)).unwrap()
        })
    }

    fn see(&self, what: impl Into<String>) {
        self.seen.lock().unwrap().push(what.into());
    }

    pub(super) fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

pub(super) fn at(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

pub(super) fn tag(id: &str) -> Tag {
    Tag {
        id: TagId::new(id),
        name: format!("tag {id}"),
        color: None,
    }
}

pub(super) fn conversation(id: &str, updated: i64) -> Conversation {
    Conversation {
        id: ConversationId::new(id),
        contact_id: Some(ContactId::new(format!("k-{id}"))),
        contact_name: String::new(),
        channel: Channel::WhatsApp,
        reply_channel_id: Some(ChannelId::new("ch1")),
        status: ConversationStatus::Open,
        assignee: Some(AgentId::new("a1")),
        starred: false,
        priority: None,
        tags: vec![tag("t1")],
        last_message: None,
        created_at: None,
        updated_at: at(updated),
        unread: None,
    }
}

pub(super) fn message(id: &str, conversation: &ConversationId) -> Message {
    Message {
        id: MessageId::new(id),
        conversation_id: conversation.clone(),
        client_id: Some("client-1".into()),
        sender: SenderKind::Agent,
        sender_name: None,
        kind: MessageKind::Text,
        channel: None,
        text: "hi".into(),
        subject: None,
        media: Vec::new(),
        quoted: Some(QuotedMessage {
            id: Some(MessageId::new("m0")),
            text: "before".into(),
        }),
        ack: Ack::Sent,
        failed_reason: None,
        created_at: at(0),
    }
}

pub(super) fn contact(id: &str) -> Contact {
    let mut contact = Contact::named(id, "Ayşe");
    contact.tags = vec![tag("t1")];
    contact
}

pub(super) fn agent(id: &str) -> Agent {
    Agent {
        id: AgentId::new(id),
        first_name: "Ada".into(),
        last_name: String::new(),
        email: format!("{id}@example.com"),
        role: "ADMIN".into(),
        active: true,
        is_bot: false,
    }
}

pub(super) fn page<T>(items: Vec<T>) -> Page<T> {
    Page::last(items)
}

pub(super) fn cursor_text(cursor: &Option<PageCursor>) -> Option<&str> {
    cursor.as_ref().map(PageCursor::as_str)
}

/// `pages` pages of `items` from `cursor` on ("p2", "p3"… link them).
pub(super) fn pages_of<T: Clone>(
    items: &[T],
    cursor: &Option<PageCursor>,
    pages: usize,
) -> Vec<Page<T>> {
    let first: usize = cursor_text(cursor)
        .and_then(|c| c.strip_prefix('p'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    (first..first + pages)
        .map(|n| {
            let next = (n + 1 < first + pages).then(|| PageCursor::new(format!("p{}", n + 1)));
            Page {
                next,
                ..page(items.to_vec())
            }
        })
        .collect()
}

#[async_trait]
impl Provider for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn statuses(&self) -> &'static [ConversationStatus] {
        if self.name == "Qpien" {
            &[ConversationStatus::Open, ConversationStatus::Pending]
        } else {
            &[ConversationStatus::Open]
        }
    }

    async fn authenticate(&self) -> ApiResult<()> {
        self.see("authenticate");
        Ok(())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        self.see(format!(
            "list_conversations assignee={:?} cursor={:?}",
            query.assignee.as_ref().map(|a| a.as_str().to_string()),
            cursor_text(&query.cursor)
        ));
        // Two pages: the first says where the second starts.
        Ok(Page {
            next: query.cursor.is_none().then(|| PageCursor::new("p2")),
            total: Some(self.rows.len() as u64),
            ..page(self.rows.clone())
        })
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        self.see(format!("get_conversation {id}"));
        Ok(conversation(id.as_str(), 0))
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        self.see(format!(
            "update_conversation {id} assignee={:?} tags={:?}",
            update.assignee, update.tags
        ));
        Ok(conversation(id.as_str(), 0))
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        self.see(format!("list_messages {}", query.conversation_id));
        Ok(page(vec![message("m1", &query.conversation_id)]))
    }

    async fn get_message(&self, id: &MessageId) -> ApiResult<Message> {
        self.see(format!("get_message {id}"));
        Ok(message(id.as_str(), &ConversationId::new("c1")))
    }

    async fn send_text(&self, message_out: &OutgoingText) -> ApiResult<Message> {
        self.see(format!(
            "send_text {} channel={:?}",
            message_out.conversation_id, message_out.channel_id
        ));
        Ok(message("m9", &message_out.conversation_id))
    }

    async fn list_contacts(&self, _query: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.see("list_contacts");
        Ok(page(vec![contact("k1")]))
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        self.see(format!("get_contact {id}"));
        Ok(contact(id.as_str()))
    }

    async fn create_contact(&self, fields: &ContactUpdate) -> ApiResult<Contact> {
        self.see(format!("create_contact tags={:?}", tag_ids(fields)));
        Ok(contact("k-new"))
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        self.see(format!("update_contact {id} tags={:?}", tag_ids(update)));
        Ok(contact(id.as_str()))
    }

    async fn delete_contact(&self, id: &ContactId) -> ApiResult<()> {
        self.see(format!("delete_contact {id}"));
        Ok(())
    }

    async fn list_conversation_pages(
        &self,
        query: &ConversationQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Conversation>>> {
        self.see(format!(
            "list_conversation_pages {pages} cursor={:?}",
            cursor_text(&query.cursor)
        ));
        Ok(pages_of(&self.rows, &query.cursor, pages))
    }

    async fn list_message_batch(&self, queries: &[MessageQuery]) -> Vec<ApiResult<Page<Message>>> {
        let ids: Vec<&str> = queries.iter().map(|q| q.conversation_id.as_str()).collect();
        self.see(format!("list_message_batch {}", ids.join(",")));
        queries
            .iter()
            .map(|q| Ok(page(vec![message("m1", &q.conversation_id)])))
            .collect()
    }

    async fn list_contact_pages(
        &self,
        query: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        self.see(format!(
            "list_contact_pages {pages} cursor={:?}",
            cursor_text(&query.cursor)
        ));
        Ok(pages_of(&[contact("k1")], &query.cursor, pages))
    }

    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        let raw: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
        self.see(format!("get_contacts {}", raw.join(",")));
        Ok(ids.iter().map(|id| contact(id.as_str())).collect())
    }

    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        self.see(format!(
            "import_contacts {:?}",
            rows.iter().map(tag_ids).collect::<Vec<_>>()
        ));
        Ok(vec![
            BulkRowOutcome::Created(contact("k2")),
            BulkRowOutcome::Updated(contact("k3")),
            BulkRowOutcome::Failed("duplicate".into()),
        ])
    }

    async fn current_agent(&self) -> ApiResult<Option<Agent>> {
        self.see("current_agent");
        Ok(Some(agent("a1")))
    }

    async fn list_agents(&self) -> ApiResult<Vec<Agent>> {
        self.see("list_agents");
        Ok(vec![agent("a1")])
    }

    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>> {
        self.see("list_channels");
        Ok(vec![ChannelInfo {
            id: ChannelId::new("ch1"),
            name: "Main".into(),
            channel: Channel::WhatsApp,
            connected: true,
            address: None,
        }])
    }

    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        self.see("list_templates");
        Ok(vec![Template {
            id: TemplateId::new("tp1"),
            name: "welcome".into(),
            language: "en".into(),
            category: None,
            status: TemplateStatus::Approved,
            channel_id: Some(ChannelId::new("ch1")),
            header: None,
            header_format: None,
            body: "Hello".into(),
            footer: None,
            buttons: Vec::new(),
            rejected_reason: None,
        }])
    }

    async fn send_template(&self, m: &OutgoingTemplate) -> ApiResult<Message> {
        self.see(format!(
            "send_template {:?} channel={:?} template={}",
            m.recipient, m.channel_id, m.template_id
        ));
        let conversation = match &m.recipient {
            Recipient::Conversation(id) => id.clone(),
            Recipient::Contact(_) => ConversationId::new("c-started"),
        };
        Ok(message("m5", &conversation))
    }
}

pub(super) fn tag_ids(update: &ContactUpdate) -> Option<Vec<String>> {
    update
        .tags
        .as_ref()
        .map(|tags| tags.iter().map(|t| t.id.as_str().to_string()).collect())
}

pub(super) fn work() -> (Arc<Recorder>, AccountProvider) {
    let inner = Recorder::new("Qpien");
    (inner.clone(), AccountProvider::new("work", inner))
}

pub(super) fn conversation_ids(c: &Conversation) -> Vec<String> {
    let mut ids = vec![c.id.0.clone()];
    ids.extend(c.contact_id.iter().map(|i| i.0.clone()));
    ids.extend(c.reply_channel_id.iter().map(|i| i.0.clone()));
    ids.extend(c.assignee.iter().map(|i| i.0.clone()));
    ids.extend(c.tags.iter().map(|t| t.id.0.clone()));
    ids
}

pub(super) fn message_ids(m: &Message) -> Vec<String> {
    let mut ids = vec![m.id.0.clone(), m.conversation_id.0.clone()];
    ids.extend(
        m.quoted
            .iter()
            .filter_map(|q| q.id.as_ref())
            .map(|i| i.0.clone()),
    );
    ids
}

pub(super) fn all_prefixed(ids: &[String], account: &str) {
    for id in ids {
        assert!(
            id.starts_with(&format!("{account}:")),
            "{id} lacks the prefix {account}:"
        );
        assert!(
            !id[account.len() + 1..].contains(':'),
            "{id} prefixed twice"
        );
    }
}

#[test]
fn the_first_colon_splits_the_account_from_the_id() {
    assert_eq!(qualify("work", "a:b"), "work:a:b");
    assert_eq!(account_of("work:a:b"), Some("work"));
    assert_eq!(account_of("plain"), None);
}

#[tokio::test]
async fn conversations_are_namespaced_both_ways() {
    let (inner, work) = work();
    let c = work
        .get_conversation(&ConversationId::new("work:c1"))
        .await
        .unwrap();
    assert_eq!(c.id.as_str(), "work:c1");
    assert_eq!(
        conversation_ids(&c),
        ["work:c1", "work:k-c1", "work:ch1", "work:a1", "work:t1"]
    );
    let update = ConversationUpdate {
        assignee: Some(Some(AgentId::new("work:a2"))),
        tags: Some(vec![TagId::new("work:t1"), TagId::new("work:t2")]),
        ..ConversationUpdate::default()
    };
    let c = work
        .update_conversation(&ConversationId::new("work:c1"), &update)
        .await
        .unwrap();
    all_prefixed(&conversation_ids(&c), "work");
    let unassign = ConversationUpdate {
        assignee: Some(None),
        ..ConversationUpdate::default()
    };
    work.update_conversation(&ConversationId::new("work:c1"), &unassign)
        .await
        .unwrap();
    let query = ConversationQuery {
        assignee: Some(AgentId::new("work:a1")),
        ..ConversationQuery::default()
    };
    let first = work.list_conversations(&query).await.unwrap();
    assert_eq!(
        cursor_text(&first.next),
        Some("work:p2"),
        "cursors are namespaced too"
    );
    let next = ConversationQuery {
        cursor: first.next.clone(),
        ..query.clone()
    };
    let pages = work.list_conversation_pages(&next, 2).await.unwrap();
    assert_eq!(cursor_text(&pages[0].next), Some("work:p3"));
    let foreign = ConversationQuery {
        cursor: Some(PageCursor::new("shop:p2")),
        ..query
    };
    assert!(matches!(
        work.list_conversations(&foreign).await,
        Err(ApiError::NotFound(_))
    ));
    assert_eq!(
        inner.seen(),
        [
            "get_conversation c1",
            "update_conversation c1 assignee=Some(Some(AgentId(\"a2\"))) tags=Some([TagId(\"t1\"), TagId(\"t2\")])",
            "update_conversation c1 assignee=Some(None) tags=None",
            "list_conversations assignee=Some(\"a1\") cursor=None",
            "list_conversation_pages 2 cursor=Some(\"p2\")",
        ]
    );
}

#[tokio::test]
async fn listed_rows_come_back_prefixed() {
    let inner = Recorder::with_rows("Qpien", vec![conversation("c1", 2), conversation("c2", 1)]);
    let work = AccountProvider::new("work", inner);
    let page = work
        .list_conversations(&ConversationQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.has_more());
    for c in &page.items {
        all_prefixed(&conversation_ids(c), "work");
    }
    let pages = work
        .list_conversation_pages(&ConversationQuery::default(), 1)
        .await
        .unwrap();
    all_prefixed(&conversation_ids(&pages[0].items[0]), "work");
}

#[tokio::test]
async fn messages_are_namespaced_both_ways() {
    let (inner, work) = work();
    let conversation = ConversationId::new("work:c1");
    let query = MessageQuery {
        conversation_id: conversation.clone(),
        before: None,
        after: None,
        limit: 10,
    };
    let page = work.list_messages(&query).await.unwrap();
    assert_eq!(
        message_ids(&page.items[0]),
        ["work:m1", "work:c1", "work:m0"]
    );
    assert_eq!(page.items[0].client_id.as_deref(), Some("client-1"));
    let m = work.get_message(&MessageId::new("work:m1")).await.unwrap();
    all_prefixed(&message_ids(&m), "work");
    let sent = work
        .send_text(&OutgoingText {
            conversation_id: conversation.clone(),
            client_id: "x".into(),
            text: "hello".into(),
            channel_id: Some(ChannelId::new("work:ch1")),
        })
        .await
        .unwrap();
    all_prefixed(&message_ids(&sent), "work");
    let batch = work
        .list_message_batch(&[
            query.clone(),
            MessageQuery {
                conversation_id: ConversationId::new("shop:c9"),
                ..query.clone()
            },
            MessageQuery {
                conversation_id: ConversationId::new("work:c2"),
                ..query
            },
        ])
        .await;
    assert_eq!(batch.len(), 3);
    assert_eq!(
        batch[0].as_ref().unwrap().items[0].conversation_id.as_str(),
        "work:c1"
    );
    assert!(matches!(batch[1], Err(ApiError::NotFound(_))));
    assert_eq!(
        batch[2].as_ref().unwrap().items[0].conversation_id.as_str(),
        "work:c2"
    );
    assert_eq!(
        inner.seen(),
        [
            "list_messages c1",
            "get_message m1",
            "send_text c1 channel=Some(ChannelId(\"ch1\"))",
            "list_message_batch c1,c2",
        ]
    );
}

#[tokio::test]
async fn contacts_are_namespaced_both_ways() {
    let (inner, work) = work();
    let id = ContactId::new("work:k1");
    assert_eq!(work.get_contact(&id).await.unwrap().id.as_str(), "work:k1");
    let update = ContactUpdate {
        tags: Some(vec![Tag {
            id: TagId::new("work:t1"),
            name: "vip".into(),
            color: None,
        }]),
        ..ContactUpdate::default()
    };
    let updated = work.update_contact(&id, &update).await.unwrap();
    assert_eq!(updated.tags[0].id.as_str(), "work:t1");
    let created = work.create_contact(&update).await.unwrap();
    assert_eq!(created.id.as_str(), "work:k-new");
    work.delete_contact(&id).await.unwrap();
    let listed = work.list_contacts(&ContactQuery::default()).await.unwrap();
    assert_eq!(listed.items[0].id.as_str(), "work:k1");
    let pages = work
        .list_contact_pages(&ContactQuery::default(), 2)
        .await
        .unwrap();
    assert_eq!(pages[0].items[0].tags[0].id.as_str(), "work:t1");
    assert_eq!(cursor_text(&pages[0].next), Some("work:p2"));
    let next = ContactQuery {
        cursor: pages[0].next.clone(),
        ..ContactQuery::default()
    };
    work.list_contacts(&next).await.unwrap();
    let found = work
        .get_contacts(&[
            id.clone(),
            ContactId::new("shop:k1"),
            ContactId::new("work:k2"),
        ])
        .await
        .unwrap();
    let found: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        found,
        ["work:k1", "work:k2"],
        "another account's id is left out"
    );
    let outcomes = work
        .import_contacts(std::slice::from_ref(&update))
        .await
        .unwrap();
    assert!(matches!(&outcomes[0], BulkRowOutcome::Created(c) if c.id.as_str() == "work:k2"));
    assert!(matches!(&outcomes[1], BulkRowOutcome::Updated(c) if c.id.as_str() == "work:k3"));
    assert_eq!(outcomes[2], BulkRowOutcome::Failed("duplicate".into()));
    assert_eq!(
        inner.seen(),
        [
            "get_contact k1",
            "update_contact k1 tags=Some([\"t1\"])",
            "create_contact tags=Some([\"t1\"])",
            "delete_contact k1",
            "list_contacts",
            "list_contact_pages 2 cursor=None",
            "list_contacts",
            "get_contacts k1,k2",
            "import_contacts [Some([\"t1\"])]",
        ]
    );
}

#[tokio::test]
async fn directories_and_templates_are_namespaced_both_ways() {
    let (inner, work) = work();
    assert_eq!(work.list_agents().await.unwrap()[0].id.as_str(), "work:a1");
    assert_eq!(
        work.current_agent().await.unwrap().unwrap().id.as_str(),
        "work:a1"
    );
    assert_eq!(
        work.list_channels().await.unwrap()[0].id.as_str(),
        "work:ch1"
    );
    let template = &work.list_templates().await.unwrap()[0];
    assert_eq!(template.id.as_str(), "work:tp1");
    assert_eq!(template.channel_id.as_ref().unwrap().as_str(), "work:ch1");
    let outgoing = OutgoingTemplate {
        client_id: "x".into(),
        recipient: Recipient::Contact(ContactId::new("work:k1")),
        channel_id: Some(ChannelId::new("work:ch1")),
        template_id: TemplateId::new("work:tp1"),
        template_name: "welcome".into(),
        language: "en".into(),
        values: TemplateValues::default(),
    };
    let sent = work.send_template(&outgoing).await.unwrap();
    assert_eq!(sent.conversation_id.as_str(), "work:c-started");
    let to_conversation = OutgoingTemplate {
        recipient: Recipient::Conversation(ConversationId::new("work:c1")),
        channel_id: None,
        ..outgoing
    };
    work.send_template(&to_conversation).await.unwrap();
    work.authenticate().await.unwrap();
    assert_eq!(
        inner.seen(),
        [
            "list_agents",
            "current_agent",
            "list_channels",
            "list_templates",
            "send_template Contact(ContactId(\"k1\")) channel=Some(ChannelId(\"ch1\")) template=tp1",
            "send_template Conversation(ConversationId(\"c1\")) channel=None template=tp1",
            "authenticate",
        ]
    );
}

#[tokio::test]
async fn an_id_of_another_account_is_not_found_and_never_sent() {
    let (inner, work) = work();
    let foreign_conversation = ConversationId::new("shop:c1");
    let not_found = |r: ApiResult<_>| matches!(r, Err(ApiError::NotFound(_)));
    assert!(not_found(
        work.get_conversation(&foreign_conversation).await.map(drop)
    ));
    assert!(not_found(
        work.update_conversation(
            &ConversationId::new("work:c1"),
            &ConversationUpdate {
                assignee: Some(Some(AgentId::new("shop:a1"))),
                ..ConversationUpdate::default()
            }
        )
        .await
        .map(drop)
    ));
    assert!(not_found(
        work.update_conversation(
            &ConversationId::new("work:c1"),
            &ConversationUpdate {
                tags: Some(vec![TagId::new("t1")]),
                ..ConversationUpdate::default()
            }
        )
        .await
        .map(drop)
    ));
    assert!(not_found(
        work.get_message(&MessageId::new("c1")).await.map(drop)
    ));
    assert!(not_found(
        work.send_text(&OutgoingText {
            conversation_id: ConversationId::new("work:c1"),
            client_id: "x".into(),
            text: "t".into(),
            channel_id: Some(ChannelId::new("shop:ch1")),
        })
        .await
        .map(drop)
    ));
    assert!(not_found(
        work.get_contact(&ContactId::new("shop:k1")).await.map(drop)
    ));
    assert!(not_found(
        work.delete_contact(&ContactId::new("shop:k1")).await
    ));
    assert!(not_found(
        work.list_conversations(&ConversationQuery {
            assignee: Some(AgentId::new("shop:a1")),
            ..ConversationQuery::default()
        })
        .await
        .map(drop)
    ));
    let error = work
        .get_conversation(&foreign_conversation)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "not found: conversation shop:c1 is not one of the account work's"
    );
    assert!(inner.seen().is_empty(), "nothing reached the provider");
}

#[test]
fn the_wrapper_passes_name_capabilities_and_budget_through() {
    let inner = Arc::new(Recorder {
        capabilities: Capabilities {
            star: true,
            ..Capabilities::default()
        },
        ..Arc::into_inner(Recorder::new("SuperWaba")).unwrap()
    });
    let account = AccountProvider::new("shop", inner);
    assert_eq!(account.name(), "SuperWaba");
    assert_eq!(account.account(), "shop");
    assert!(account.capabilities().star && !account.capabilities().assign);
    assert!(account.budget().is_none());
    assert_eq!(account.statuses(), [ConversationStatus::Open]);
    assert!(account.owns("shop:c1") && !account.owns("work:c1") && !account.owns("c1"));
}
