//! Templates over the Developer API: the approved list, and the Meta-style
//! send (`POST /v1/send-message`), whose message is then looked up in the
//! conversation through the Session API by its `waMessageId`.

use chrono::Utc;
use serde_json::{Value, json};

use super::SuperWabaClient;
use super::conversations::{self, get_raw};
use super::mapping::{map_message, map_template};
use super::wire::{self, WireMessage, WireSent, WireTemplate};
use crate::api::http::HttpRequest;
use crate::api::{ApiError, ApiResult};
use crate::domain::{
    Ack, ContactId, ConversationId, Message, MessageId, MessageKind, OutgoingTemplate, Recipient,
    SenderKind, Template, TemplateValues,
};

pub(super) async fn list(client: &SuperWabaClient) -> ApiResult<Vec<Template>> {
    let data = client.developer_json(HttpRequest::get("templates")).await?;
    let (rows, _) = wire::rows::<WireTemplate>(&data, "templates", "template")?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            map_template(row)
                .map_err(|e| tracing::warn!("superwaba: skipped a template: {e}"))
                .ok()
        })
        .collect())
}

/// The `components` of a send, parameters in placeholder order.
pub(super) fn components(values: &TemplateValues) -> Vec<Value> {
    let text = |t: &str| json!({ "type": "text", "text": t });
    let mut out = Vec::new();
    if let Some(url) = &values.header_media_url {
        let kind = values
            .header_media_format
            .as_deref()
            .unwrap_or("IMAGE")
            .to_ascii_lowercase();
        let mut param = serde_json::Map::new();
        param.insert("type".into(), json!(kind));
        param.insert(kind, json!({ "link": url }));
        out.push(json!({ "type": "header", "parameters": [ Value::Object(param) ] }));
    } else if let Some(header) = &values.header_text {
        out.push(json!({ "type": "header", "parameters": [ text(header) ] }));
    }
    if !values.body.is_empty() {
        let params: Vec<Value> = values.body.iter().map(|p| text(&p.value)).collect();
        out.push(json!({ "type": "body", "parameters": params }));
    }
    for (index, value) in &values.buttons {
        out.push(
            json!({ "type": "button", "sub_type": "url", "index": index.to_string(),
            "parameters": [ text(value) ] }),
        );
    }
    out
}

/// Digits only, as the documented example sends `to`.
fn digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// The phone to send to, and the conversation when known.
async fn recipient(
    client: &SuperWabaClient,
    recipient: &Recipient,
) -> ApiResult<(String, Option<ConversationId>, Option<ContactId>)> {
    match recipient {
        Recipient::Contact(id) => {
            let contact = super::contacts::get(client, id).await?;
            let phone = contact.phone.ok_or_else(|| ApiError::Rejected {
                code: None,
                message: "this contact has no phone number to send a WhatsApp template to".into(),
            })?;
            Ok((phone, None, Some(id.clone())))
        }
        Recipient::Conversation(id) => {
            let raw = get_raw(client, id).await?;
            let contact_id = raw
                .get("contactId")
                .or_else(|| raw.pointer("/contact/id"))
                .and_then(Value::as_str)
                .map(ContactId::new);
            let phone = match raw.pointer("/contact/phone").and_then(Value::as_str) {
                Some(p) => p.to_string(),
                None => {
                    let contact = contact_id.as_ref().ok_or_else(|| {
                        ApiError::Decode("the conversation names no contact to send to".into())
                    })?;
                    super::contacts::get(client, contact)
                        .await?
                        .phone
                        .ok_or_else(|| ApiError::Rejected {
                            code: None,
                            message: "this conversation's contact has no phone number".into(),
                        })?
                }
            };
            Ok((phone, Some(id.clone()), contact_id))
        }
    }
}

pub(super) async fn send(
    client: &SuperWabaClient,
    message: &OutgoingTemplate,
) -> ApiResult<Message> {
    let (phone, known_conversation, contact) = recipient(client, &message.recipient).await?;
    let to = digits(&phone);
    if to.is_empty() {
        return Err(ApiError::Rejected {
            code: None,
            message: "the recipient's phone number has no digits".into(),
        });
    }
    let body = json!({
        "to": to,
        "type": "template",
        "template": {
            "name": message.template_name,
            "language": { "code": message.language },
            "components": components(&message.values),
        },
        // Meta's free-form reference, echoed with the message where kept.
        "biz_opaque_callback_data": message.client_id,
    });
    let data = client
        .developer_json(HttpRequest::post("send-message").json(body))
        .await?;
    let sent: WireSent = wire::decode(&data, "send answer")?;
    let wamid = sent.message_id.unwrap_or_default();
    let conversation = match known_conversation {
        Some(id) => Some(id),
        None => find_conversation(client, contact.as_ref()).await,
    };
    if let Some(conversation) = &conversation
        && !wamid.is_empty()
        && let Some(found) = find_sent(client, conversation, &wamid).await
    {
        return Ok(found);
    }
    // Sent, but not (yet) visible in a thread: what the send said.
    Ok(Message {
        id: MessageId(if wamid.is_empty() {
            message.client_id.clone()
        } else {
            wamid
        }),
        conversation_id: conversation.unwrap_or_else(|| ConversationId::new("")),
        client_id: Some(message.client_id.clone()),
        sender: SenderKind::Agent,
        sender_name: None,
        kind: MessageKind::Template,
        channel: Some(crate::domain::Channel::WhatsApp),
        text: message.template_name.clone(),
        subject: None,
        media: Vec::new(),
        quoted: None,
        ack: Ack::Sent,
        failed_reason: None,
        created_at: Utc::now(),
    })
}

/// The contact's conversation: the send made it the most recently updated.
async fn find_conversation(
    client: &SuperWabaClient,
    contact: Option<&ContactId>,
) -> Option<ConversationId> {
    let contact = contact?;
    let page = conversations::fetch_page(client, 1, 20, None, None)
        .await
        .ok()?;
    page.items
        .into_iter()
        .find(|c| c.contact_id.as_ref() == Some(contact))
        .map(|c| c.id)
}

/// The stored message with this `waMessageId` among the newest.
async fn find_sent(
    client: &SuperWabaClient,
    conversation: &ConversationId,
    wamid: &str,
) -> Option<Message> {
    let data = client
        .session_body(|| {
            HttpRequest::get("whatsapp/messages")
                .query("conversationId", conversation.as_str())
                .query("limit", "20")
        })
        .await
        .ok()?;
    let data = data.get("data").cloned().unwrap_or(Value::Null);
    let (rows, _) = wire::rows::<WireMessage>(&data, "data", "message").ok()?;
    let row = rows
        .into_iter()
        .find(|m| m.wa_message_id.as_deref() == Some(wamid))?;
    map_message(row, conversation.as_str()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TemplateParam;

    #[test]
    fn components_follow_metas_format() {
        let values = TemplateValues {
            header_text: Some("A-2291".into()),
            body: vec![
                TemplateParam {
                    key: "1".into(),
                    value: "Layla".into(),
                },
                TemplateParam {
                    key: "2".into(),
                    value: "A-2291".into(),
                },
            ],
            buttons: vec![(0, "A-2291".into())],
            ..TemplateValues::default()
        };
        let c = components(&values);
        assert_eq!(
            c[0],
            json!({ "type": "header", "parameters": [ { "type": "text", "text": "A-2291" } ] })
        );
        assert_eq!(c[1]["parameters"][1]["text"], "A-2291");
        assert_eq!(
            c[2],
            json!({ "type": "button", "sub_type": "url", "index": "0",
            "parameters": [ { "type": "text", "text": "A-2291" } ] })
        );
        let media = TemplateValues {
            header_media_url: Some("https://x/y.jpg".into()),
            header_media_format: Some("IMAGE".into()),
            ..TemplateValues::default()
        };
        assert_eq!(
            components(&media)[0]["parameters"][0],
            json!({ "type": "image", "image": { "link": "https://x/y.jpg" } })
        );
        assert_eq!(digits("+971 50-246"), "97150246");
    }
}
