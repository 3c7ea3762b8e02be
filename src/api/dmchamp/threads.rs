//! The inbox on a contact-centric API: one conversation per book contact,
//! its thread from `GET /contacts/messages/{id}`, replies to custom-channel
//! contacts, and WhatsApp templates (no per-send values).

use chrono::{DateTime, Utc};
use serde_json::json;
use unicode_segmentation::UnicodeSegmentation;

use super::book::BookEntry;
use super::wire::{
    SendAnswer, WireMessage, WireTemplate, channel_from_wire, map_message, map_template, records,
};
use super::{DEFAULT_PAGE_SIZE, DmChampClient, local_page};
use crate::api::http::{HttpRequest, segment};
use crate::api::{ApiError, ApiResult};
use crate::domain::{
    Ack, Channel, ContactId, Conversation, ConversationId, ConversationQuery, ConversationStatus,
    Message, MessageId, MessageKind, MessagePreview, MessageQuery, OutgoingTemplate, OutgoingText,
    Page, PageCursor, Recipient, SenderKind, Template,
};

/// Longest preview text kept in the book.
const PREVIEW_CHARS: usize = 200;

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::Rejected {
        code: None,
        message: message.into(),
    }
}

fn preview(m: &Message) -> MessagePreview {
    MessagePreview {
        // One line, cut between graphemes so no flag or family is halved.
        text: crate::text::sanitize_line(&m.text)
            .graphemes(true)
            .take(PREVIEW_CHARS)
            .collect(),
        sender: m.sender,
        kind: m.kind.clone(),
        ack: m.ack,
        created_at: m.created_at,
    }
}

fn not_in_book(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "contact {} is not in termdesk's DM Champ contact book; look it up by phone or e-mail",
        crate::text::sanitize_line(id)
    ))
}

fn conversation_of(e: &BookEntry) -> Conversation {
    let contact = e.contact();
    Conversation {
        id: ConversationId(e.id.clone()),
        contact_id: Some(ContactId(e.id.clone())),
        contact_name: contact.label(),
        channel: e
            .channel
            .as_deref()
            .map(channel_from_wire)
            .unwrap_or(Channel::WhatsApp),
        reply_channel_id: None,
        status: ConversationStatus::Open,
        assignee: None,
        starred: false,
        priority: None,
        tags: Vec::new(),
        // The book file may have been edited by hand.
        last_message: e.preview.clone().map(|mut p| {
            p.text = crate::text::sanitize_line(&p.text);
            p
        }),
        created_at: e.added_at,
        updated_at: e.activity(),
        unread: None,
    }
}

impl DmChampClient {
    pub(super) fn conversations(&self, query: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        // Every DM Champ conversation is open and nobody's.
        let offered = (query.status.is_empty() || query.status.contains(&ConversationStatus::Open))
            && query.assignee.is_none();
        if !offered {
            return local_page(Vec::new(), query.cursor.as_ref(), query.limit);
        }
        let search = query.search.as_deref().unwrap_or("");
        let book = self.book();
        let mut entries: Vec<&BookEntry> = book
            .by_activity()
            .into_iter()
            .filter(|e| e.matches(search))
            .filter(|e| {
                query
                    .updated_since
                    .is_none_or(|since| e.activity() >= since)
            })
            .collect();
        if query.oldest_first {
            entries.reverse();
        }
        let items = entries.into_iter().map(conversation_of).collect();
        local_page(items, query.cursor.as_ref(), query.limit)
    }

    pub(super) fn conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        self.book()
            .get(id.as_str())
            .map(conversation_of)
            .ok_or_else(|| not_in_book(id.as_str()))
    }

    /// Records the newest message of a contact's thread in the book.
    fn saw(&self, contact: &str, newest: &Message, channel: Option<String>) {
        self.book().upsert(contact, Utc::now(), |e| {
            if e.last_activity.is_none_or(|t| t <= newest.created_at) {
                e.preview = Some(preview(newest));
            }
            e.touch(newest.created_at);
            if channel.is_some() {
                e.channel = channel;
            }
        });
        self.save_book();
    }

    /// The whole thread (DM Champ has no paging), newest first, with
    /// `before`/`after`/`limit` and page `page` (from 1) applied here.
    pub(super) async fn messages(
        &self,
        query: &MessageQuery,
        page: u32,
    ) -> ApiResult<Page<Message>> {
        let contact = ContactId(query.conversation_id.0.clone());
        let response = self
            .call(HttpRequest::get(format!(
                "contacts/messages/{}",
                segment(contact.as_str())
            )))
            .await
            .map_err(|e| match e {
                ApiError::NotFound(_) => ApiError::NotFound(format!(
                    "DM Champ has no contact {}",
                    crate::text::sanitize_line(contact.as_str())
                )),
                other => other,
            })?;
        let (wires, mut skipped) = records::<WireMessage>(response.json()?, "message")?;
        let channel = wires
            .iter()
            .rev()
            .find_map(|w| w.channel.as_deref().map(|c| c.trim().to_ascii_lowercase()))
            .filter(|c| !c.is_empty());
        let mut messages = Vec::with_capacity(wires.len());
        for (i, w) in wires.into_iter().enumerate() {
            match map_message(w, &contact, i) {
                Ok(m) => messages.push(m),
                Err(error) => {
                    tracing::warn!(%error, "skipping a malformed DM Champ message");
                    skipped += 1;
                }
            }
        }
        messages.sort_by_key(|m| std::cmp::Reverse(m.created_at));
        if let Some(newest) = messages.first() {
            self.saw(contact.as_str(), newest, channel);
        } else {
            self.book().upsert(contact.as_str(), Utc::now(), |_| {});
            self.save_book();
        }
        let in_range = |t: DateTime<Utc>| {
            query.before.is_none_or(|b| t < b) && query.after.is_none_or(|a| t > a)
        };
        messages.retain(|m| in_range(m.created_at));
        let limit = if query.limit == 0 {
            DEFAULT_PAGE_SIZE
        } else {
            query.limit
        } as usize;
        let skip = limit * (page.max(1) as usize - 1);
        messages.drain(..skip.min(messages.len()));
        let has_more = messages.len() > limit;
        messages.truncate(limit);
        // Older pages are asked for with `before`; the cursor names the oldest here.
        let oldest = messages.last().map(|m| m.created_at.to_rfc3339());
        let mut page = match oldest {
            Some(oldest) if has_more => Page::more(messages, PageCursor::new(oldest)),
            _ => Page::last(messages),
        };
        page.skipped = skipped;
        Ok(page)
    }

    /// Free text goes only to custom-channel contacts.
    pub(super) async fn send_custom(&self, outgoing: &OutgoingText) -> ApiResult<Message> {
        let id = outgoing.conversation_id.as_str();
        let entry = self.book().get(id).cloned();
        let Some(entry) = entry else {
            return Err(not_in_book(id));
        };
        if !entry.is_custom_channel() {
            return Err(refused(
                "DM Champ does not offer free-form replies on WhatsApp, SMS, Instagram or Messenger; send a WhatsApp template instead",
            ));
        }
        let (Some(custom_channel), Some(external_id)) = (&entry.custom_channel, &entry.external_id)
        else {
            return Err(refused(
                "termdesk does not know this custom-channel contact's channel and external id, which DM Champ needs to reply",
            ));
        };
        if outgoing.text.trim().is_empty() {
            return Err(refused("the reply is empty"));
        }
        let response = self
            .call(
                HttpRequest::post("send-custom-channel-message").json(json!({
                    "customChannel": custom_channel,
                    "externalId": external_id,
                    "message": outgoing.text,
                    "messageType": "text",
                })),
            )
            .await?;
        let answer: SendAnswer = response
            .json()
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let message = Message {
            id: MessageId(
                answer
                    .message_id()
                    .unwrap_or_else(|| format!("{id}-sent-{}", outgoing.client_id)),
            ),
            conversation_id: outgoing.conversation_id.clone(),
            client_id: Some(outgoing.client_id.clone()),
            sender: SenderKind::Agent,
            sender_name: None,
            kind: MessageKind::Text,
            channel: Some(channel_from_wire("custom")),
            text: crate::text::sanitize(&outgoing.text),
            subject: None,
            media: Vec::new(),
            quoted: None,
            ack: Ack::Sent,
            failed_reason: None,
            created_at: Utc::now(),
        };
        self.saw(id, &message, None);
        Ok(message)
    }

    pub(super) async fn templates(&self) -> ApiResult<Vec<Template>> {
        let response = self.call(HttpRequest::get("whatsapp-templates")).await?;
        let (wires, _) = records::<WireTemplate>(response.json()?, "template")?;
        Ok(wires
            .into_iter()
            .filter_map(|w| match map_template(w) {
                Ok(t) => Some(t),
                Err(error) => {
                    tracing::warn!(%error, "skipping a malformed DM Champ template");
                    None
                }
            })
            .collect())
    }

    pub(super) async fn send_whatsapp_template(
        &self,
        outgoing: &OutgoingTemplate,
    ) -> ApiResult<Message> {
        let values = &outgoing.values;
        let has_values = values.header_text.is_some()
            || values.header_media_url.is_some()
            || !values.body.is_empty()
            || !values.buttons.is_empty();
        if has_values {
            return Err(refused(
                "DM Champ fills a template's variables from the contact's fields and takes no values per send; edit the contact's fields, then send the template without values",
            ));
        }
        let contact = match &outgoing.recipient {
            Recipient::Conversation(c) => c.0.clone(),
            Recipient::Contact(c) => c.0.clone(),
        };
        let sent = self
            .call(HttpRequest::post("whatsapp-templates/send").json(json!({
                "contactId": contact,
                "whatsappTemplateId": outgoing.template_id.as_str(),
            })))
            .await;
        match sent {
            Ok(_) => {}
            // 401 became InvalidCredentials: these are the documented 403.
            Err(ApiError::Unauthorized(why) | ApiError::Rejected { message: why, .. })
                if why.contains("Twilio") =>
            {
                let why = why.trim_start_matches("not allowed: ");
                return Err(ApiError::Rejected {
                    code: Some(403),
                    message: format!(
                        "DM Champ has no WhatsApp sender set up for this account ({why}); connect WhatsApp in DM Champ's settings"
                    ),
                });
            }
            Err(e) => return Err(e),
        }
        let message = Message {
            id: MessageId(format!("{contact}-template-{}", outgoing.client_id)),
            conversation_id: ConversationId(contact.clone()),
            client_id: Some(outgoing.client_id.clone()),
            sender: SenderKind::Agent,
            sender_name: None,
            kind: MessageKind::Template,
            channel: Some(Channel::WhatsApp),
            text: crate::text::sanitize_line(&outgoing.template_name),
            subject: None,
            media: Vec::new(),
            quoted: None,
            ack: Ack::Sent,
            failed_reason: None,
            created_at: Utc::now(),
        };
        self.saw(&contact, &message, None);
        Ok(message)
    }
}
