//! `sendWhatsappTemplateMessage` and `createMessageByWhatsapp` with the
//! rules of the real service: the sending number must be a connected
//! WhatsApp platform, only APPROVED templates go out, every placeholder
//! needs its value (Meta's 132000 otherwise), and a recipient may be a
//! conversation, a contact or a phone (an unknown phone becomes a contact;
//! a contact without a conversation on the number gets one).
//!
//! Templates go out whatever the 24-hour window; free-form messages follow
//! the window rule of `createMessage` (see [`World::free_form_allowed`]).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::contact_ops::is_e164;
use super::corpus;
use super::ops::{self, CreateMessageInput, MediaInput, api_sender, decode, not_found, to_json};
use super::world::{ContactPlatform, ConvMeta, Conversation, Message, Platform, World, new_id};
use crate::domain::{
    Template, TemplateButton, TemplateId, TemplateParam, TemplateStatus, TemplateValues,
};
use crate::template_text;

/// `(code, message)` of a refusal, as the envelope carries it.
type Refusal = (i64, String);

/// Meta's error for missing, extra or unknown template parameters.
pub(crate) const PARAMS_MISMATCH: i64 = 132000;
const PARAMS_MISMATCH_TEXT: &str =
    "Number of parameters does not match the expected number of params";
/// Meta's error for a parameter of the wrong kind (a media header sent as text…).
const FORMAT_MISMATCH: i64 = 132012;
const FORMAT_MISMATCH_TEXT: &str = "Parameter format does not match format in the created template";

fn invalid(what: &str) -> Refusal {
    (400, format!("invalid input: {what}"))
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ParameterInput {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    url: Option<String>,
    parameter_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ComponentInput {
    #[serde(rename = "type")]
    kind: String,
    index: Option<i64>,
    #[serde(default)]
    parameters: Vec<ParameterInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateSendInput {
    channel_id: String,
    template_id: Option<String>,
    template_name: Option<String>,
    language: Option<String>,
    conversation_id: Option<String>,
    contact_id: Option<String>,
    phone: Option<String>,
    body_parameters: Option<Vec<String>>,
    header_text: Option<String>,
    header_media: Option<MediaInput>,
    components: Option<Vec<ComponentInput>>,
    front_msg_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WhatsappMessageInput {
    channel_id: String,
    conversation_id: Option<String>,
    contact_id: Option<String>,
    phone: Option<String>,
    content: Option<String>,
    media: Option<Vec<MediaInput>>,
    quoted_message_id: Option<String>,
    quick_reply_buttons: Option<Vec<String>>,
    front_msg_id: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------
// Channel and recipient
// ---------------------------------------------------------------------------

/// The connected WhatsApp number `channel_id` names.
fn whatsapp_platform(world: &World, channel_id: &str) -> Result<Platform, Refusal> {
    let platform = world
        .platform(channel_id.trim())
        .ok_or_else(|| not_found("Channel"))?;
    if platform.channel_type != "WHATSAPP" {
        return Err((
            400,
            format!(
                "Channel {} is not a WhatsApp number (it is {})",
                platform.name, platform.channel_type
            ),
        ));
    }
    if platform.status != "ACTIVE" {
        return Err((
            400,
            format!(
                "WhatsApp number {} is not connected (status {})",
                platform.name, platform.status
            ),
        ));
    }
    Ok(platform.clone())
}

/// Who a message goes to, found without changing anything.
enum Found {
    Conversation(usize),
    /// An existing contact and its newest conversation on the number.
    Contact {
        id: String,
        conversation: Option<usize>,
    },
    /// A phone no contact has yet.
    NewPhone(String),
}

fn conversation_on(world: &World, contact_id: &str, platform: &Platform) -> Option<usize> {
    world
        .conversations
        .iter()
        .enumerate()
        .filter(|(_, c)| c.joined_person == contact_id)
        .filter(|(_, c)| c.channels.iter().any(|ch| ch.id == platform.id))
        .max_by_key(|(_, c)| c.updated_at)
        .map(|(i, _)| i)
}

fn find_recipient(
    world: &World,
    platform: &Platform,
    conversation_id: &Option<String>,
    contact_id: &Option<String>,
    phone: &Option<String>,
) -> Result<Found, Refusal> {
    let (conversation_id, contact_id, phone) =
        (given(conversation_id), given(contact_id), given(phone));
    match [conversation_id, contact_id, phone]
        .iter()
        .filter(|v| v.is_some())
        .count()
    {
        0 => return Err(invalid("give one of conversationId, contactId or phone")),
        1 => {}
        _ => {
            return Err(invalid(
                "give only one of conversationId, contactId or phone",
            ));
        }
    }
    if let Some(id) = conversation_id {
        let (ci, conv) = world
            .conversation(id)
            .ok_or_else(|| not_found("Conversation"))?;
        if !conv.channels.iter().any(|c| c.kind == "WHATSAPP") {
            return Err((400, "Conversation is not a WhatsApp conversation".into()));
        }
        if !conv.channels.iter().any(|c| c.id == platform.id) {
            return Err((400, "channel is not linked to this conversation".into()));
        }
        return Ok(Found::Conversation(ci));
    }
    if let Some(id) = contact_id {
        let contact = world.contact(id).ok_or_else(|| not_found("Contact"))?;
        let conversation = conversation_on(world, id, platform);
        let reachable = contact.phone.is_some()
            || contact
                .platforms
                .iter()
                .any(|p| p.channel_type == "WHATSAPP");
        if conversation.is_none() && !reachable {
            return Err((
                422,
                "Contact has no phone number to reach on WhatsApp".into(),
            ));
        }
        return Ok(Found::Contact {
            id: id.to_string(),
            conversation,
        });
    }
    let phone = phone.unwrap_or_default();
    if !is_e164(phone) {
        return Err((422, "Invalid phone: use E.164, e.g. +905321234567".into()));
    }
    Ok(
        match world
            .contacts
            .iter()
            .find(|c| c.phone.as_deref() == Some(phone))
        {
            Some(c) => Found::Contact {
                id: c.id.clone(),
                conversation: conversation_on(world, &c.id, platform),
            },
            None => Found::NewPhone(phone.to_string()),
        },
    )
}

/// The conversation `found` names, creating the contact and the
/// conversation it needs. Returns the conversation's index.
fn place(
    world: &mut World,
    found: Found,
    platform: &Platform,
    language: &str,
    now: DateTime<Utc>,
) -> Result<usize, Refusal> {
    let contact_id = match found {
        Found::Conversation(ci) => return Ok(ci),
        Found::Contact {
            conversation: Some(ci),
            ..
        } => return Ok(ci),
        Found::Contact { id, .. } => id,
        Found::NewPhone(phone) => {
            // Known by the number alone until the customer writes.
            let made = super::contact_ops::create(
                world,
                &json!({ "firstName": phone, "phone": phone }),
                now,
            )?;
            made["_id"].as_str().unwrap_or_default().to_string()
        }
    };
    if let Some(&i) = world.contact_idx.get(&contact_id) {
        let contact = &mut world.contacts[i];
        if !contact
            .platforms
            .iter()
            .any(|p| p.platform_id == platform.id)
        {
            let external_id = contact
                .phone
                .as_deref()
                .unwrap_or_default()
                .trim_start_matches('+')
                .to_string();
            contact.platforms.push(ContactPlatform {
                channel_type: "WHATSAPP".into(),
                platform_id: platform.id.clone(),
                external_id,
                username: None,
            });
        }
    }
    let lang = world
        .contact(&contact_id)
        .and_then(|c| c.language.clone())
        .unwrap_or_else(|| language.to_string());
    let id = new_id(&mut world.rng);
    let ci = world.conversations.len();
    world.conversations.push(Conversation::direct(
        id.clone(),
        world.customer.clone(),
        contact_id,
        platform,
        now,
    ));
    world.conv_idx.insert(id, ci);
    world.conv_meta.push(ConvMeta {
        lang: corpus::lang(lang.split(['-', '_']).next().unwrap_or("en")).code,
    });
    world.messages.push(Vec::new());
    Ok(ci)
}

// ---------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------

/// A stored template as the provider-neutral type, so its placeholders
/// are read and filled by the same code as the client's.
pub(crate) fn domain_template(t: &super::world::Template) -> Template {
    let components = t.components.as_array().cloned().unwrap_or_default();
    let of = |kind: &str| components.iter().find(|c| c["type"] == kind);
    let text = |c: Option<&Value>| c.and_then(|c| c["text"].as_str()).map(str::to_string);
    let header = of("HEADER");
    let buttons = components
        .iter()
        .filter(|c| c["type"] == "BUTTONS")
        .flat_map(|c| c["buttons"].as_array().cloned().unwrap_or_default())
        .map(|b| TemplateButton {
            kind: b["type"].as_str().unwrap_or_default().to_string(),
            text: b["text"].as_str().unwrap_or_default().to_string(),
            url: b["url"].as_str().map(str::to_string),
        })
        .collect();
    Template {
        id: TemplateId::new(t.id.clone()),
        name: t.name.clone(),
        language: t.language.clone(),
        category: Some(t.category.clone()),
        status: match t.status.as_str() {
            "APPROVED" => TemplateStatus::Approved,
            "PENDING" => TemplateStatus::Pending,
            "REJECTED" => TemplateStatus::Rejected,
            "PAUSED" => TemplateStatus::Paused,
            "DISABLED" => TemplateStatus::Disabled,
            other => TemplateStatus::Other(other.to_string()),
        },
        channel_id: None,
        header: text(header),
        header_format: header
            .and_then(|h| h["format"].as_str())
            .map(str::to_string),
        body: text(of("BODY")).unwrap_or_default(),
        footer: text(of("FOOTER")),
        buttons,
        rejected_reason: t.rejected_reason.clone(),
    }
}

fn find_template<'w>(
    world: &'w World,
    i: &TemplateSendInput,
) -> Result<&'w super::world::Template, Refusal> {
    if let Some(id) = given(&i.template_id) {
        return world
            .templates
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| not_found("Template"));
    }
    let Some(name) = given(&i.template_name) else {
        return Err(invalid("give templateId, or templateName and language"));
    };
    let Some(language) = given(&i.language) else {
        return Err(invalid("templateName needs language"));
    };
    world
        .templates
        .iter()
        .find(|t| t.name == name && t.language.eq_ignore_ascii_case(language))
        .ok_or_else(|| not_found("Template"))
}

/// Only APPROVED templates can be sent; the refusal names the status.
fn check_sendable(t: &super::world::Template) -> Result<(), Refusal> {
    let code = match t.status.as_str() {
        "APPROVED" => return Ok(()),
        // Meta: "Template is paused" / "Template is disabled".
        "PAUSED" => 132015,
        "DISABLED" => 132016,
        _ => 422,
    };
    let why = match (t.status.as_str(), t.rejected_reason.as_deref()) {
        ("REJECTED", Some(reason)) => format!(" ({reason})"),
        _ => String::new(),
    };
    Err((
        code,
        format!(
            "Template {} ({}) is {}{why} and cannot be sent: only APPROVED templates can be sent",
            t.name, t.language, t.status
        ),
    ))
}

/// One value the request gives for one placeholder.
struct Param {
    kind: String,
    text: Option<String>,
    url: Option<String>,
    name: Option<String>,
}

impl From<ParameterInput> for Param {
    fn from(p: ParameterInput) -> Param {
        Param {
            kind: p.kind.unwrap_or_else(|| "TEXT".into()),
            text: p.text,
            url: p.url,
            name: p.parameter_name,
        }
    }
}

/// The request's parameters per component.
#[derive(Default)]
struct Given {
    header: Vec<Param>,
    body: Vec<Param>,
    /// Button index and its parameters.
    buttons: Vec<(i64, Vec<Param>)>,
    footer: usize,
}

/// The full `components` form when given (it takes precedence), else the
/// shortcuts.
fn given_params(i: TemplateSendInput) -> Result<Given, Refusal> {
    let mut out = Given::default();
    if let Some(components) = i.components {
        for c in components {
            let params = c.parameters.into_iter().map(Param::from);
            match c.kind.as_str() {
                "HEADER" => out.header.extend(params),
                "BODY" => out.body.extend(params),
                "FOOTER" => out.footer += params.count(),
                "BUTTONS" => {
                    let index = c
                        .index
                        .ok_or_else(|| invalid("BUTTONS parameters need the button index"))?;
                    out.buttons.push((index, params.collect()));
                }
                other => return Err(invalid(&format!("unknown component type {other}"))),
            }
        }
        return Ok(out);
    }
    if let Some(text) = i.header_text {
        out.header.push(Param {
            kind: "TEXT".into(),
            text: Some(text),
            url: None,
            name: None,
        });
    }
    if let Some(media) = i.header_media {
        out.header.push(Param {
            kind: media.kind,
            text: None,
            url: Some(media.url),
            name: None,
        });
    }
    out.body = i
        .body_parameters
        .unwrap_or_default()
        .into_iter()
        .map(|text| Param {
            kind: "TEXT".into(),
            text: Some(text),
            url: None,
            name: None,
        })
        .collect();
    Ok(out)
}

fn filled(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// Checks the parameters against the template's placeholders and returns
/// the values that fill them. Everything missing, extra or unknown is
/// named in one refusal.
fn template_values(template: &Template, given: Given) -> Result<TemplateValues, Refusal> {
    let mut values = TemplateValues::default();
    let mut missing: Vec<String> = Vec::new();
    let mut wrong: Vec<String> = Vec::new();
    let format_error = |what: String| (FORMAT_MISMATCH, format!("{FORMAT_MISMATCH_TEXT}: {what}"));

    // Header: a media URL, one text value, or nothing.
    let header_keys = template
        .header
        .as_deref()
        .map(template_text::keys)
        .unwrap_or_default();
    if template.has_media_header() {
        let format = template.header_format.clone().unwrap_or_default();
        let what = format!("header {} URL", format.to_lowercase());
        match given.header.as_slice() {
            [] => missing.push(what),
            [p] => {
                let kind = if p.kind == "FILE" {
                    "DOCUMENT"
                } else {
                    &p.kind
                };
                if kind != format {
                    return Err(format_error(format!(
                        "the header is {format}, the parameter is {}",
                        p.kind
                    )));
                }
                match filled(&p.url) {
                    None => missing.push(what),
                    Some(url) => {
                        template_text::check_media_url(&url)
                            .map_err(|why| format_error(format!("the {what} {why}")))?;
                        values.header_media_url = Some(url);
                    }
                }
            }
            more => wrong.push(format!("header: expected 1, received {}", more.len())),
        }
    } else if let Some(key) = header_keys.first() {
        match given.header.as_slice() {
            [] => missing.push(format!("header {{{{{key}}}}}")),
            [p] if p.kind != "TEXT" => {
                return Err(format_error(format!(
                    "the header takes text, the parameter is {}",
                    p.kind
                )));
            }
            [p] => match filled(&p.text) {
                None => missing.push(format!("header {{{{{key}}}}}")),
                Some(text) => values.header_text = Some(text),
            },
            more => wrong.push(format!("header: expected 1, received {}", more.len())),
        }
    } else if !given.header.is_empty() {
        wrong.push(format!(
            "header: expected 0, received {}",
            given.header.len()
        ));
    }

    // Body: by parameter name, else in placeholder order.
    let keys = template_text::keys(&template.body);
    let named = keys.iter().any(|k| !k.chars().all(|c| c.is_ascii_digit()));
    if given.body.len() > keys.len() {
        wrong.push(format!(
            "body: expected {}, received {}",
            keys.len(),
            given.body.len()
        ));
    }
    let mut body: Vec<(String, Option<String>)> = Vec::new();
    for (n, p) in given.body.iter().enumerate() {
        if p.kind != "TEXT" {
            return Err(format_error(format!(
                "body parameters are text, one is {}",
                p.kind
            )));
        }
        let key = match p.name.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            Some(name) => name
                .trim_start_matches("{{")
                .trim_end_matches("}}")
                .to_string(),
            None if named => match keys.get(n) {
                Some(key) => key.clone(),
                None => continue,
            },
            None => (n + 1).to_string(),
        };
        if !keys.contains(&key) {
            wrong.push(format!("body has no placeholder {{{{{key}}}}}"));
        } else if body.iter().any(|(k, _)| *k == key) {
            wrong.push(format!("body {{{{{key}}}}} given twice"));
        } else {
            body.push((key, filled(&p.text)));
        }
    }
    for key in &keys {
        match body.iter().find(|(k, _)| k == key) {
            Some((_, Some(value))) => values.body.push(TemplateParam {
                key: key.clone(),
                value: value.clone(),
            }),
            _ => missing.push(format!("body {{{{{key}}}}}")),
        }
    }

    // URL buttons: one value for the placeholder at the end of the URL.
    let wants = |index: i64| {
        usize::try_from(index)
            .ok()
            .and_then(|i| template.buttons.get(i))
            .and_then(|b| b.url.as_deref())
            .is_some_and(|url| !template_text::keys(url).is_empty())
    };
    for (index, params) in &given.buttons {
        if !wants(*index) {
            wrong.push(format!("button {index} takes no parameters"));
        } else if params.len() > 1 {
            wrong.push(format!(
                "button {index}: expected 1, received {}",
                params.len()
            ));
        }
    }
    for (index, button) in template.buttons.iter().enumerate() {
        let Some(key) = button
            .url
            .as_deref()
            .and_then(|url| template_text::keys(url).into_iter().next())
        else {
            continue;
        };
        let value = given
            .buttons
            .iter()
            .find(|(i, _)| *i == index as i64)
            .and_then(|(_, params)| params.first())
            .and_then(|p| filled(&p.text));
        match value {
            Some(value) => values.buttons.push((index as u32, value)),
            None => missing.push(format!("button {index} {{{{{key}}}}}")),
        }
    }
    if given.footer > 0 {
        wrong.push("the footer takes no parameters".into());
    }

    if missing.is_empty() && wrong.is_empty() {
        return Ok(values);
    }
    let mut details = Vec::new();
    if !missing.is_empty() {
        details.push(format!("missing {}", missing.join(", ")));
    }
    details.extend(wrong);
    Err((
        PARAMS_MISMATCH,
        format!("{PARAMS_MISMATCH_TEXT}: {}", details.join("; ")),
    ))
}

/// The answer of a send: the message, and where it went.
fn sent(world: &World, message_id: &str) -> Value {
    let message = world.message(message_id);
    let conversation_id = message.map(|m| m.conversation.clone());
    let contact_id = conversation_id
        .as_deref()
        .and_then(|c| world.conversation(c))
        .map(|(_, c)| c.joined_person.clone());
    json!({
        "message": message.map(to_json),
        "conversationId": conversation_id,
        "contactId": contact_id,
    })
}

/// An earlier message sent with this `frontMsgId`, handed back instead of
/// a copy when de-duplication is on (as `createMessage` does).
fn repeated<'w>(world: &'w World, front: &Option<String>, dedup: bool) -> Option<&'w Message> {
    let front = front.as_deref().filter(|f| !f.is_empty())?;
    dedup
        .then(|| world.front_ids.get(front).and_then(|id| world.message(id)))
        .flatten()
}

pub(crate) fn send_template(
    world: &mut World,
    input: Value,
    now: DateTime<Utc>,
    dedup: bool,
) -> Result<Value, Refusal> {
    let i: TemplateSendInput = decode(input)?;
    if let Some(existing) = repeated(world, &i.front_msg_id, dedup) {
        let id = existing.id.clone();
        return Ok(sent(world, &id));
    }
    let platform = whatsapp_platform(world, &i.channel_id)?;
    let stored = find_template(world, &i)?;
    check_sendable(stored)?;
    let template = domain_template(stored);
    let found = find_recipient(
        world,
        &platform,
        &i.conversation_id,
        &i.contact_id,
        &i.phone,
    )?;
    let front_msg_id = i.front_msg_id.clone().filter(|f| !f.is_empty());
    let values = template_values(&template, given_params(i)?)?;

    let ci = place(world, found, &platform, &template.language, now)?;
    let conversation_id = world.conversations[ci].id.clone();
    let msg = Message {
        id: new_id(&mut world.rng),
        sender: api_sender(world),
        conversation: conversation_id,
        message_type: "TEMPLATE".into(),
        channel_type: "WHATSAPP".into(),
        sender_type: "AGENT".into(),
        content: Some(template_text::rendered(&template, &values)),
        content_html: None,
        subject: None,
        email_data: None,
        media: Vec::new(),
        channel_message_id: Some(format!("out.{}", new_id(&mut world.rng))),
        ack_status: Some("SENT".into()),
        created_at: now,
        auto_create: false,
        failed_reason: None,
        quoted_message: None,
        reactions: None,
        front_msg_id,
    };
    let id = world.push_message(ci, msg);
    world.conversations[ci].updated_at = world.conversations[ci].updated_at.max(now);
    if world.live {
        world.schedule_acks(&id, now);
    }
    Ok(sent(world, &id))
}

pub(crate) fn create_by_whatsapp(
    world: &mut World,
    input: Value,
    now: DateTime<Utc>,
    dedup: bool,
) -> Result<Value, Refusal> {
    let i: WhatsappMessageInput = decode(input)?;
    if let Some(existing) = repeated(world, &i.front_msg_id, dedup) {
        return Ok(to_json(existing));
    }
    let platform = whatsapp_platform(world, &i.channel_id)?;
    let has_media = i.media.as_ref().is_some_and(|m| !m.is_empty());
    if given(&i.content).is_none() && !has_media {
        return Err((400, "content or media is required".into()));
    }
    if let Some(buttons) = &i.quick_reply_buttons {
        if buttons.len() > 3 {
            return Err(invalid("at most 3 quickReplyButtons"));
        }
        if buttons.iter().any(|b| b.trim().is_empty()) {
            return Err(invalid("a quick-reply button needs a title"));
        }
    }
    let found = find_recipient(
        world,
        &platform,
        &i.conversation_id,
        &i.contact_id,
        &i.phone,
    )?;
    if let Some(quoted) = given(&i.quoted_message_id) {
        let conversation = match &found {
            Found::Conversation(ci)
            | Found::Contact {
                conversation: Some(ci),
                ..
            } => Some(world.conversations[*ci].id.as_str()),
            _ => None,
        };
        if world
            .message(quoted)
            .is_none_or(|m| Some(m.conversation.as_str()) != conversation)
        {
            return Err(not_found("Quoted message"));
        }
    }
    // A new conversation takes the contact's language, else English.
    let ci = place(world, found, &platform, "en", now)?;
    // From here on a message like createMessage's, under the same window rule.
    ops::create_message(
        world,
        CreateMessageInput {
            conversation_id: world.conversations[ci].id.clone(),
            content: i.content,
            content_html: None,
            subject: None,
            media: i.media,
            quoted_message_id: i.quoted_message_id.filter(|q| !q.trim().is_empty()),
            channel_id: Some(platform.id.clone()),
            front_msg_id: i.front_msg_id,
        },
        now,
        dedup,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(header: Option<(&str, Option<&str>)>, body: &str, url: Option<&str>) -> Template {
        Template {
            id: TemplateId::from("t"),
            name: "t".into(),
            language: "en".into(),
            category: None,
            status: TemplateStatus::Approved,
            channel_id: None,
            header: header.and_then(|(_, text)| text.map(str::to_string)),
            header_format: header.map(|(format, _)| format.to_string()),
            body: body.into(),
            footer: None,
            buttons: url
                .map(|u| TemplateButton {
                    kind: "URL".into(),
                    text: "Track".into(),
                    url: Some(u.into()),
                })
                .into_iter()
                .collect(),
            rejected_reason: None,
        }
    }

    fn text(value: &str) -> Param {
        Param {
            kind: "TEXT".into(),
            text: Some(value.into()),
            url: None,
            name: None,
        }
    }

    fn named(name: &str, value: &str) -> Param {
        Param {
            name: Some(name.into()),
            ..text(value)
        }
    }

    #[test]
    fn every_missing_value_is_named_in_one_refusal() {
        let t = template(
            Some(("TEXT", Some("Order {{1}}"))),
            "Hi {{1}}, order {{2}}",
            Some("https://x/{{1}}"),
        );
        let given = Given {
            body: vec![text("Ayşe")],
            ..Given::default()
        };
        let (code, message) = template_values(&t, given).unwrap_err();
        assert_eq!(code, PARAMS_MISMATCH);
        assert!(message.starts_with(PARAMS_MISMATCH_TEXT), "{message}");
        for what in ["header {{1}}", "body {{2}}", "button 0 {{1}}"] {
            assert!(message.contains(what), "{what} in {message}");
        }
        assert!(!message.contains("body {{1}}"), "{message}");
    }

    #[test]
    fn extra_and_unknown_parameters_are_refused() {
        let t = template(None, "Hi {{1}}", None);
        let (code, message) = template_values(
            &t,
            Given {
                body: vec![text("a"), text("b")],
                ..Given::default()
            },
        )
        .unwrap_err();
        assert_eq!(code, PARAMS_MISMATCH);
        assert!(
            message.contains("body: expected 1, received 2"),
            "{message}"
        );
        let (_, message) = template_values(
            &t,
            Given {
                header: vec![text("x")],
                body: vec![text("a")],
                ..Given::default()
            },
        )
        .unwrap_err();
        assert!(message.contains("header: expected 0"), "{message}");
    }

    #[test]
    fn named_placeholders_are_filled_by_parameter_name() {
        let t = template(None, "Hi {{first_name}}, order {{order_id}}", None);
        let values = template_values(
            &t,
            Given {
                body: vec![named("order_id", "A-1"), named("first_name", "Ayşe")],
                ..Given::default()
            },
        )
        .unwrap();
        assert_eq!(
            template_text::rendered(&t, &values),
            "Hi Ayşe, order A-1",
            "named values land in their placeholders"
        );
        let (_, message) = template_values(
            &t,
            Given {
                body: vec![named("first_name", "Ayşe"), named("orderid", "A-1")],
                ..Given::default()
            },
        )
        .unwrap_err();
        assert!(message.contains("missing body {{order_id}}"), "{message}");
        assert!(message.contains("no placeholder {{orderid}}"), "{message}");
    }

    #[test]
    fn media_headers_need_a_url_of_their_kind() {
        let t = template(Some(("IMAGE", None)), "Hi {{1}}", None);
        let media = |kind: &str, url: Option<&str>| Param {
            kind: kind.into(),
            text: None,
            url: url.map(str::to_string),
            name: None,
        };
        let (code, message) = template_values(
            &t,
            Given {
                body: vec![text("a")],
                ..Given::default()
            },
        )
        .unwrap_err();
        assert_eq!(code, PARAMS_MISMATCH);
        assert!(message.contains("header image URL"), "{message}");
        let (code, _) = template_values(
            &t,
            Given {
                header: vec![media("VIDEO", Some("https://cdn.example/a.mp4"))],
                body: vec![text("a")],
                ..Given::default()
            },
        )
        .unwrap_err();
        assert_eq!(code, FORMAT_MISMATCH);
        let (code, _) = template_values(
            &t,
            Given {
                header: vec![media("IMAGE", Some("cdn.example/a.jpg"))],
                body: vec![text("a")],
                ..Given::default()
            },
        )
        .unwrap_err();
        assert_eq!(code, FORMAT_MISMATCH);
        let values = template_values(
            &t,
            Given {
                header: vec![media("IMAGE", Some("https://cdn.example/a.jpg"))],
                body: vec![text("a")],
                ..Given::default()
            },
        )
        .unwrap();
        assert_eq!(
            values.header_media_url.as_deref(),
            Some("https://cdn.example/a.jpg")
        );
    }
}
