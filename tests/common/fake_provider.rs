//! An in-memory provider: the app and UI tests run on it, so what they prove
//! holds for every platform, whatever it offers. It refuses (and counts)
//! every request its capabilities do not include, so a test can assert the
//! app never asked for something the provider lacks.
#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};

use termdesk::api::{ApiError, ApiResult, Capabilities, Provider};
use termdesk::domain::{
    Ack, Channel, Contact, ContactId, ContactQuery, ContactUpdate, Conversation, ConversationId,
    ConversationQuery, ConversationStatus, ConversationUpdate, Message, MessageId, MessageKind,
    MessagePreview, MessageQuery, OutgoingText, Page, PageCursor, SenderKind,
};

#[derive(Default)]
struct World {
    conversations: Vec<Conversation>,
    /// Per conversation, oldest first.
    messages: std::collections::HashMap<ConversationId, Vec<Message>>,
    contacts: Vec<Contact>,
    next_id: u64,
}

pub struct FakeProvider {
    name: String,
    capabilities: Capabilities,
    world: Mutex<World>,
    /// Requests for something the capabilities leave out.
    pub unsupported_calls: AtomicUsize,
    pub requests: AtomicUsize,
}

/// One page of `rows`: the cursor is the offset of the page's first row.
fn paged<T: Clone>(rows: &[&T], cursor: Option<&PageCursor>, limit: u32) -> Page<T> {
    let start: usize = cursor.and_then(|c| c.as_str().parse().ok()).unwrap_or(0);
    let items: Vec<T> = rows
        .iter()
        .skip(start)
        .take(limit.max(1) as usize)
        .map(|row| (*row).clone())
        .collect();
    let end = start + items.len();
    let mut page = if end < rows.len() && !items.is_empty() {
        Page::more(items, PageCursor::new(end.to_string()))
    } else {
        Page::last(items)
    };
    page.total = Some(rows.len() as u64);
    page
}

/// A fixed, recent start so reply windows and "today" labels behave.
fn base_time() -> DateTime<Utc> {
    let now = Utc::now();
    Utc.timestamp_opt(now.timestamp() - 3 * 3600, 0).unwrap()
}

impl FakeProvider {
    /// `conversations` conversations, each with a contact and three
    /// messages, the newest ending in the customer's question.
    pub fn new(name: &str, capabilities: Capabilities, conversations: usize) -> Self {
        let mut world = World::default();
        let start = base_time();
        for i in 0..conversations {
            let contact_id = ContactId::new(format!("k{i}"));
            let mut contact = Contact::named(format!("k{i}"), format!("Customer{i:03}"));
            contact.phone = Some(format!("+9053212{i:05}"));
            world.contacts.push(contact);
            let id = ConversationId::new(format!("c{i:03}"));
            let updated = start + Duration::seconds(i as i64 * 10);
            let thread: Vec<Message> = (0..3)
                .map(|m| Message {
                    id: MessageId::new(format!("m{i}-{m}")),
                    conversation_id: id.clone(),
                    client_id: None,
                    sender: if m == 1 {
                        SenderKind::Agent
                    } else {
                        SenderKind::Contact
                    },
                    sender_name: None,
                    kind: MessageKind::Text,
                    channel: Some(Channel::WhatsApp),
                    text: format!("Message {m} of conversation {i:03}"),
                    subject: None,
                    media: Vec::new(),
                    quoted: None,
                    ack: Ack::Delivered,
                    failed_reason: None,
                    created_at: updated - Duration::seconds(3 - m as i64),
                })
                .collect();
            let last = thread.last().unwrap();
            world.conversations.push(Conversation {
                id: id.clone(),
                contact_id: Some(contact_id),
                contact_name: format!("Customer{i:03}"),
                channel: Channel::WhatsApp,
                reply_channel_id: None,
                status: ConversationStatus::Open,
                assignee: None,
                starred: false,
                priority: None,
                tags: Vec::new(),
                last_message: Some(MessagePreview {
                    text: last.text.clone(),
                    sender: last.sender,
                    kind: MessageKind::Text,
                    ack: Ack::Delivered,
                    created_at: last.created_at,
                }),
                created_at: Some(updated - Duration::seconds(60)),
                updated_at: updated,
                unread: None,
            });
            world.messages.insert(id, thread);
        }
        FakeProvider {
            name: name.to_string(),
            capabilities,
            world: Mutex::new(world),
            unsupported_calls: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        }
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refuse<T>(&self, what: &'static str) -> ApiResult<T> {
        self.unsupported_calls.fetch_add(1, Ordering::SeqCst);
        Err(ApiError::Unsupported(what))
    }

    fn count(&self) {
        self.requests.fetch_add(1, Ordering::SeqCst);
    }

    pub fn conversation(&self, id: &str) -> Conversation {
        let world = self.world();
        world
            .conversations
            .iter()
            .find(|c| c.id.as_str() == id)
            .cloned()
            .expect("known conversation")
    }

    /// Messages of a conversation whose text is exactly `text`.
    pub fn messages_with_text(&self, id: &str, text: &str) -> usize {
        let world = self.world();
        world
            .messages
            .get(&ConversationId::new(id))
            .map_or(0, |m| m.iter().filter(|m| m.text == text).count())
    }

    pub fn unsupported(&self) -> usize {
        self.unsupported_calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Provider for FakeProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn statuses(&self) -> &'static [ConversationStatus] {
        static ALL: [ConversationStatus; 4] = [
            ConversationStatus::Open,
            ConversationStatus::Pending,
            ConversationStatus::Resolved,
            ConversationStatus::Closed,
        ];
        if self.capabilities.update_status {
            &ALL
        } else {
            &[]
        }
    }

    async fn authenticate(&self) -> ApiResult<()> {
        Ok(())
    }

    async fn list_conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        self.count();
        let world = self.world();
        let mut rows: Vec<&Conversation> = world
            .conversations
            .iter()
            .filter(|c| {
                query
                    .updated_since
                    .is_none_or(|since| c.updated_at >= since)
            })
            .filter(|c| query.status.is_empty() || query.status.contains(&c.status))
            .filter(|c| query.assignee.is_none() || c.assignee == query.assignee)
            .filter(|c| !query.unassigned || c.assignee.is_none())
            .filter(|c| {
                query
                    .search
                    .as_deref()
                    .is_none_or(|s| c.contact_name.to_lowercase().contains(&s.to_lowercase()))
            })
            .collect();
        rows.sort_by_key(|c| (c.updated_at, c.id.clone()));
        if !query.oldest_first {
            rows.reverse();
        }
        Ok(paged(&rows, query.cursor.as_ref(), query.limit))
    }

    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        self.count();
        let world = self.world();
        world
            .conversations
            .iter()
            .find(|c| &c.id == id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("conversation {id}")))
    }

    async fn update_conversation(
        &self,
        id: &ConversationId,
        update: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        let caps = self.capabilities;
        if (update.status.is_some() && !caps.update_status)
            || (update.starred.is_some() && !caps.star)
            || (update.priority.is_some() && !caps.priority)
            || (update.assignee.is_some() && !caps.assign)
            || (update.tags.is_some() && !caps.conversation_tags)
        {
            return self.refuse("changing conversations this way");
        }
        self.count();
        let mut world = self.world();
        let conversation = world
            .conversations
            .iter_mut()
            .find(|c| &c.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("conversation {id}")))?;
        if let Some(status) = &update.status {
            conversation.status = status.clone();
        }
        if let Some(starred) = update.starred {
            conversation.starred = starred;
        }
        if let Some(priority) = &update.priority {
            conversation.priority = Some(priority.clone());
        }
        if let Some(assignee) = &update.assignee {
            conversation.assignee = assignee.clone();
        }
        conversation.updated_at = Utc::now();
        Ok(conversation.clone())
    }

    async fn list_messages(&self, query: &MessageQuery) -> ApiResult<Page<Message>> {
        self.count();
        let world = self.world();
        let all = world
            .messages
            .get(&query.conversation_id)
            .ok_or_else(|| ApiError::NotFound(format!("conversation {}", query.conversation_id)))?;
        let mut items: Vec<Message> = all
            .iter()
            .rev()
            .filter(|m| query.before.is_none_or(|b| m.created_at < b))
            .filter(|m| query.after.is_none_or(|a| m.created_at > a))
            .cloned()
            .collect();
        let has_more = items.len() > query.limit as usize;
        items.truncate(query.limit as usize);
        // Paging back goes by `before`, so the cursor only says "more".
        Ok(match has_more {
            true => Page::more(items, PageCursor::new("older")),
            false => Page::last(items),
        })
    }

    async fn send_text(&self, message: &OutgoingText) -> ApiResult<Message> {
        if !self.capabilities.send_text {
            return self.refuse("sending replies");
        }
        self.count();
        let mut world = self.world();
        world.next_id += 1;
        let id = MessageId::new(format!("sent-{}", world.next_id));
        let thread = world
            .messages
            .get_mut(&message.conversation_id)
            .ok_or_else(|| {
                ApiError::NotFound(format!("conversation {}", message.conversation_id))
            })?;
        // Like a server that de-duplicates the client's id.
        if let Some(existing) = thread
            .iter()
            .find(|m| m.client_id.as_deref() == Some(message.client_id.as_str()))
        {
            return Ok(existing.clone());
        }
        let sent = Message {
            id,
            conversation_id: message.conversation_id.clone(),
            client_id: Some(message.client_id.clone()),
            sender: SenderKind::Agent,
            sender_name: None,
            kind: MessageKind::Text,
            channel: Some(Channel::WhatsApp),
            text: message.text.clone(),
            subject: None,
            media: Vec::new(),
            quoted: None,
            ack: Ack::Sent,
            failed_reason: None,
            created_at: Utc::now(),
        };
        thread.push(sent.clone());
        Ok(sent)
    }

    async fn list_agents(&self) -> ApiResult<Vec<termdesk::domain::Agent>> {
        if !self.capabilities.agents {
            return self.refuse("listing agents");
        }
        Ok(Vec::new())
    }

    async fn list_channels(&self) -> ApiResult<Vec<termdesk::domain::ChannelInfo>> {
        if !self.capabilities.channels {
            return self.refuse("listing channels");
        }
        Ok(Vec::new())
    }

    async fn list_templates(&self) -> ApiResult<Vec<termdesk::domain::Template>> {
        if !self.capabilities.templates {
            return self.refuse("listing templates");
        }
        Ok(Vec::new())
    }

    async fn list_contacts(&self, query: &ContactQuery) -> ApiResult<Page<Contact>> {
        if !self.capabilities.contacts {
            return self.refuse("listing contacts");
        }
        self.count();
        let world = self.world();
        let rows: Vec<&Contact> = world
            .contacts
            .iter()
            .filter(|c| {
                query
                    .phone
                    .as_deref()
                    .is_none_or(|p| c.phone.as_deref() == Some(p))
            })
            .collect();
        Ok(paged(&rows, query.cursor.as_ref(), query.limit))
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        if !self.capabilities.contacts {
            return self.refuse("reading contacts");
        }
        self.count();
        let world = self.world();
        world
            .contacts
            .iter()
            .find(|c| &c.id == id)
            .cloned()
            .ok_or_else(|| ApiError::NotFound(format!("contact {id}")))
    }

    async fn update_contact(&self, id: &ContactId, update: &ContactUpdate) -> ApiResult<Contact> {
        if !self.capabilities.contacts {
            return self.refuse("editing contacts");
        }
        self.count();
        let mut world = self.world();
        let contact = world
            .contacts
            .iter_mut()
            .find(|c| &c.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("contact {id}")))?;
        if let Some(first) = &update.first_name {
            contact.first_name = first.clone();
        }
        if let Some(email) = &update.email {
            contact.email = email.clone();
        }
        if let Some(phone) = &update.phone {
            contact.phone = phone.clone();
        }
        contact.updated_at = Some(Utc::now());
        Ok(contact.clone())
    }
}
