//! Developer API (superwaba.md §8, §9): approved templates and the
//! Meta-style template send, with its monthly event cap.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Shared, auth, wire};
use crate::sandbox::lock;

pub(crate) async fn templates(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = auth::developer(&shared, &headers) {
        return *refusal;
    }
    let world = lock(&shared.world);
    let templates: Vec<Value> = world
        .templates
        .iter()
        .filter(|t| t.status == "APPROVED")
        .map(wire::template)
        .collect();
    wire::ok(json!({ "templates": templates }))
}

/// Distinct `{{n}}` placeholders in a text.
fn placeholders(text: &str) -> usize {
    let mut seen = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let key = after[..close].trim();
        if !seen.contains(&key) {
            seen.push(key);
        }
        rest = &after[close + 2..];
    }
    seen.len()
}

/// `{{1}}`, `{{2}}`… replaced by the values in order.
fn render(text: &str, values: &[String]) -> String {
    values
        .iter()
        .enumerate()
        .fold(text.to_string(), |t, (i, v)| {
            t.replace(&format!("{{{{{}}}}}", i + 1), v)
        })
}

fn component_text(components: &Value, kind: &str) -> Option<String> {
    components
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))?
        .get("text")?
        .as_str()
        .map(str::to_string)
}

fn parameters(sent: &Value, kind: &str) -> Vec<String> {
    sent.pointer("/template/components")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        })
        .and_then(|c| c.get("parameters"))
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    p.get("text")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn refuse(status: StatusCode, message: &str, code: &str) -> Response {
    wire::developer_error(status, message, code, "")
}

pub(crate) async fn send_message(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = auth::developer(&shared, &headers) {
        return *refusal;
    }
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let to = sent.get("to").and_then(Value::as_str).unwrap_or_default();
    if !(7..=15).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "to must be the number with its country code, digits only (no +)",
            "INVALID_PHONE_NUMBER",
        );
    }
    if sent.get("type").and_then(Value::as_str) != Some("template") {
        return refuse(
            StatusCode::BAD_REQUEST,
            "type must be \"template\"",
            "INVALID_MESSAGE_TYPE",
        );
    }
    let name = sent
        .pointer("/template/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let language = sent
        .pointer("/template/language/code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut world = lock(&shared.world);
    let Some(template) = world
        .templates
        .iter()
        .find(|t| t.name == name && t.language.eq_ignore_ascii_case(language))
        .cloned()
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            &format!("Template {name} ({language}) not found"),
            "TEMPLATE_NOT_FOUND",
        );
    };
    if template.status != "APPROVED" {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("Template {name} ({language}) is not approved"),
            "TEMPLATE_NOT_APPROVED",
        );
    }
    let body_text = component_text(&template.components, "BODY").unwrap_or_default();
    let body_values = parameters(&sent, "body");
    let wanted = placeholders(&body_text);
    if body_values.len() != wanted {
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!(
                "Template {name} needs {wanted} body parameters, got {}",
                body_values.len()
            ),
            "PARAMETER_MISMATCH",
        );
    }
    {
        let mut left = lock(&shared.monthly_events_left);
        match left.as_mut() {
            Some(0) => {
                return wire::developer_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Monthly API event limit reached (5000/5000). Upgrade your plan for more.",
                    "API_LIMIT_REACHED",
                    "",
                );
            }
            Some(n) => *n -= 1,
            None => {}
        }
    }
    let phone = format!("+{to}");
    let contact = match world.contact_by_phone(&phone) {
        Some(i) => i,
        None => world.new_contact(&phone, "", "api"),
    };
    let contact_id = world.contacts[contact].id.clone();
    let conversation = world.conversation_for_contact(&contact_id);
    let mut text = render(&body_text, &body_values);
    if let Some(header) = component_text(&template.components, "HEADER") {
        let header = render(&header, &parameters(&sent, "header"));
        text = format!("{header}\n{text}");
    }
    let client = sent
        .get("biz_opaque_callback_data")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = world.add_outbound(
        &conversation,
        "template",
        json!({ "text": text, "templateName": name, "language": language }),
        client,
    );
    wire::ok(json!({ "messageId": message.wa_message_id, "to": to, "status": "sent" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_distinct_keys_and_render_in_order() {
        assert_eq!(placeholders("Hi {{1}}, order {{2}} is {{3}} ({{1}})"), 3);
        assert_eq!(placeholders("no params {{"), 0);
        assert_eq!(
            render("Hi {{1}}, order {{2}}", &["Ana".into(), "A-1".into()]),
            "Hi Ana, order A-1"
        );
    }
}
