//! Rewriting ids between the provider's form and the app's
//! `"{account}:{id}"` form, for every domain type that carries one.

use crate::api::{ApiError, ApiResult};
use crate::domain::{
    Agent, AgentId, ChannelId, ChannelInfo, Contact, ContactId, ContactQuery, ContactUpdate,
    Conversation, ConversationId, ConversationQuery, ConversationUpdate, Message, MessageId,
    MessageQuery, OutgoingTemplate, PageCursor, QuotedMessage, Recipient, Tag, TagId, Template,
    TemplateId,
};

/// The app's form of a provider id.
pub fn qualify(account: &str, id: &str) -> String {
    format!("{account}:{id}")
}

/// The account an app id belongs to (`None` when it carries none).
pub fn account_of(id: &str) -> Option<&str> {
    id.split_once(':').map(|(account, _)| account)
}

/// The seven id types alike.
pub trait Id: Sized {
    fn raw(&self) -> &str;
    fn from_raw(raw: String) -> Self;
    /// What the id names, for error texts.
    const WHAT: &'static str;
}

macro_rules! impl_id {
    ($($ty:ident => $what:literal),* $(,)?) => {$(
        impl Id for $ty {
            fn raw(&self) -> &str {
                &self.0
            }
            fn from_raw(raw: String) -> Self {
                $ty(raw)
            }
            const WHAT: &'static str = $what;
        }
    )*};
}

impl_id!(
    ConversationId => "conversation",
    MessageId => "message",
    ContactId => "contact",
    AgentId => "agent",
    ChannelId => "channel",
    TemplateId => "template",
    TagId => "tag",
);

/// One account's rewriting: `outer` adds its prefix, `inner` takes it off
/// and refuses ids of other accounts.
#[derive(Debug, Clone)]
pub struct Ids {
    account: String,
    prefix: String,
}

impl Ids {
    pub fn new(account: String) -> Self {
        let prefix = format!("{account}:");
        Self { account, prefix }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn outer<I: Id>(&self, id: I) -> I {
        I::from_raw(qualify(&self.account, id.raw()))
    }

    pub fn inner<I: Id>(&self, id: &I) -> ApiResult<I> {
        match id.raw().strip_prefix(&self.prefix) {
            Some(raw) => Ok(I::from_raw(raw.to_string())),
            None => Err(ApiError::NotFound(format!(
                "{} {} is not one of the account {}'s",
                I::WHAT,
                crate::text::sanitize_line(id.raw()),
                self.account
            ))),
        }
    }

    pub fn inner_opt<I: Id>(&self, id: Option<&I>) -> ApiResult<Option<I>> {
        id.map(|id| self.inner(id)).transpose()
    }

    /// Cursors are namespaced like ids, so the router can tell whose
    /// next page a cursor asks for.
    pub fn cursor(&self, cursor: PageCursor) -> PageCursor {
        PageCursor::new(qualify(&self.account, cursor.as_str()))
    }

    pub fn inner_cursor(&self, cursor: Option<&PageCursor>) -> ApiResult<Option<PageCursor>> {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        match cursor.as_str().strip_prefix(&self.prefix) {
            Some(raw) => Ok(Some(PageCursor::new(raw))),
            None => Err(ApiError::NotFound(format!(
                "that page of the list is not one of the account {}'s",
                self.account
            ))),
        }
    }

    fn tag(&self, tag: Tag) -> Tag {
        Tag {
            id: self.outer(tag.id),
            ..tag
        }
    }

    fn inner_tag(&self, tag: &Tag) -> ApiResult<Tag> {
        Ok(Tag {
            id: self.inner(&tag.id)?,
            ..tag.clone()
        })
    }

    pub fn conversation(&self, c: Conversation) -> Conversation {
        Conversation {
            id: self.outer(c.id),
            contact_id: c.contact_id.map(|id| self.outer(id)),
            reply_channel_id: c.reply_channel_id.map(|id| self.outer(id)),
            assignee: c.assignee.map(|id| self.outer(id)),
            tags: c.tags.into_iter().map(|t| self.tag(t)).collect(),
            ..c
        }
    }

    pub fn message(&self, m: Message) -> Message {
        Message {
            id: self.outer(m.id),
            conversation_id: self.outer(m.conversation_id),
            quoted: m.quoted.map(|q| QuotedMessage {
                id: q.id.map(|id| self.outer(id)),
                ..q
            }),
            ..m
        }
    }

    pub fn contact(&self, c: Contact) -> Contact {
        Contact {
            id: self.outer(c.id),
            tags: c.tags.into_iter().map(|t| self.tag(t)).collect(),
            ..c
        }
    }

    pub fn agent(&self, a: Agent) -> Agent {
        Agent {
            id: self.outer(a.id),
            ..a
        }
    }

    pub fn channel(&self, c: ChannelInfo) -> ChannelInfo {
        ChannelInfo {
            id: self.outer(c.id),
            ..c
        }
    }

    pub fn template(&self, t: Template) -> Template {
        Template {
            id: self.outer(t.id),
            channel_id: t.channel_id.map(|id| self.outer(id)),
            ..t
        }
    }

    pub fn conversation_query(&self, q: &ConversationQuery) -> ApiResult<ConversationQuery> {
        Ok(ConversationQuery {
            assignee: self.inner_opt(q.assignee.as_ref())?,
            cursor: self.inner_cursor(q.cursor.as_ref())?,
            ..q.clone()
        })
    }

    pub fn contact_query(&self, q: &ContactQuery) -> ApiResult<ContactQuery> {
        Ok(ContactQuery {
            cursor: self.inner_cursor(q.cursor.as_ref())?,
            ..q.clone()
        })
    }

    pub fn message_query(&self, q: &MessageQuery) -> ApiResult<MessageQuery> {
        Ok(MessageQuery {
            conversation_id: self.inner(&q.conversation_id)?,
            ..q.clone()
        })
    }

    pub fn conversation_update(&self, u: &ConversationUpdate) -> ApiResult<ConversationUpdate> {
        Ok(ConversationUpdate {
            assignee: match &u.assignee {
                Some(assignee) => Some(self.inner_opt(assignee.as_ref())?),
                None => None,
            },
            tags: match &u.tags {
                Some(tags) => Some(
                    tags.iter()
                        .map(|t| self.inner(t))
                        .collect::<ApiResult<_>>()?,
                ),
                None => None,
            },
            ..u.clone()
        })
    }

    pub fn contact_update(&self, u: &ContactUpdate) -> ApiResult<ContactUpdate> {
        Ok(ContactUpdate {
            tags: match &u.tags {
                Some(tags) => Some(
                    tags.iter()
                        .map(|t| self.inner_tag(t))
                        .collect::<ApiResult<_>>()?,
                ),
                None => None,
            },
            ..u.clone()
        })
    }

    pub fn outgoing_template(&self, m: &OutgoingTemplate) -> ApiResult<OutgoingTemplate> {
        Ok(OutgoingTemplate {
            recipient: match &m.recipient {
                Recipient::Conversation(id) => Recipient::Conversation(self.inner(id)?),
                Recipient::Contact(id) => Recipient::Contact(self.inner(id)?),
            },
            channel_id: self.inner_opt(m.channel_id.as_ref())?,
            template_id: self.inner(&m.template_id)?,
            ..m.clone()
        })
    }
}
