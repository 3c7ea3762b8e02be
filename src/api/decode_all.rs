//! One answer body through every provider's decoding, down to domain values
//! or an error. The property tests and the fuzz targets drive it, so every
//! decoder meets hostile bytes in one place.

use serde::Serialize;
use serde_json::Value;

use crate::api::dmchamp::{book::BookEntry, wire as dm};
use crate::api::http::HttpResponse;
use crate::api::qpien::mapping::{
    map_agent, map_channel, map_template, wire_agent, wire_channel, wire_template,
};
use crate::api::qpien::{operations as ops, transport};
use crate::api::superwaba::{mapping as sw_map, wire as sw};
use crate::api::{ApiError, ApiResult, http::rest_error};
use crate::domain::ContactId;

/// Each body is read as a success, a refusal, a miss and a server fault.
const STATUSES: [u16; 4] = [200, 400, 404, 500];

/// Every text decoding `body` produced that could reach the screen, the
/// CLI or the cache: error messages and every string of every domain
/// value. Never panics, whatever the bytes.
pub fn decode_all(body: &[u8]) -> Vec<String> {
    let mut out = Texts::default();
    for status in STATUSES {
        qpien(status, body, &mut out);
        superwaba(status, body, &mut out);
        dmchamp(status, body, &mut out);
    }
    out.0
}

#[derive(Default)]
struct Texts(Vec<String>);

impl Texts {
    fn error(&mut self, e: &ApiError) {
        self.0.push(e.to_string());
    }

    fn value<T: Serialize>(&mut self, v: &T) {
        if let Ok(json) = serde_json::to_value(v) {
            strings(&json, &mut self.0);
        }
    }

    fn result<T: Serialize>(&mut self, r: ApiResult<T>) {
        match r {
            Ok(v) => self.value(&v),
            Err(e) => self.error(&e),
        }
    }

    fn items<T: Serialize>(&mut self, r: ApiResult<Vec<T>>) {
        self.result(r)
    }
}

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out);
        }),
        _ => {}
    }
}

fn qpien(status: u16, body: &[u8], out: &mut Texts) {
    match transport::decode_batch(status, body, "getMessages", 2) {
        Ok(answers) => answers.into_iter().for_each(|a| {
            out.result(
                a.and_then(|d| super::qpien::message_page(d, "c1"))
                    .map(|p| p.items),
            )
        }),
        Err(e) => out.error(&e),
    }
    let data = match transport::decode_json(status, body) {
        Ok(data) => data,
        Err(e) => return out.error(&e),
    };
    let under = |root: &str| -> ApiResult<Value> {
        let mut d = data.clone();
        transport::check_envelope(&mut d, root)?;
        Ok(d)
    };
    out.result(
        under("getMessages")
            .and_then(|d| super::qpien::message_page(d, "c1"))
            .map(|p| p.items),
    );
    out.result(
        under("getConversationList")
            .and_then(|d| super::qpien::conversation_page(d, 1))
            .map(|p| p.items),
    );
    out.result(
        under("getContactList")
            .and_then(|d| super::qpien::contact_page(d, 1))
            .map(|p| p.items),
    );
    out.items(under("getCustomerPersonList").and_then(|d| {
        let data: ops::agents::ResponseData = transport::decode_data(&d)?;
        let docs = data.get_customer_person_list.data.map(|p| p.docs);
        Ok(docs
            .into_iter()
            .flatten()
            .map(|a| map_agent(wire_agent!(a)))
            .collect())
    }));
    out.items(under("getWhatsappBusinessTemplateList").and_then(|d| {
        let data: ops::templates::ResponseData = transport::decode_data(&d)?;
        let docs = data
            .get_whatsapp_business_template_list
            .data
            .map(|p| p.docs);
        Ok(docs
            .into_iter()
            .flatten()
            .map(|t| map_template(wire_template!(t)))
            .collect())
    }));
    out.items(under("getAllConnectedPlatformList").and_then(|d| {
        let data: ops::channels::ResponseData = transport::decode_data(&d)?;
        Ok(data
            .get_all_connected_platform_list
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|c| map_channel(wire_channel!(c)))
            .collect())
    }));
}

/// The JSON of a REST answer, or `None` when it is an error (recorded).
fn rest_json(status: u16, body: &[u8], out: &mut Texts) -> Option<Value> {
    if !(200..300).contains(&status) {
        out.error(&rest_error(status, body));
        return None;
    }
    let response = HttpResponse {
        status,
        body: body.to_vec(),
    };
    match response.json() {
        Ok(json) => Some(json),
        Err(e) => {
            out.error(&e);
            None
        }
    }
}

fn superwaba(status: u16, body: &[u8], out: &mut Texts) {
    let Some(json) = rest_json(status, body, out) else {
        return;
    };
    out.0.extend(sw::error_text(&json));
    let data = match sw::payload(json) {
        Ok(data) => data,
        Err(e) => return out.error(&e),
    };
    out.items(
        sw::rows(&data, "conversations", "conversation")
            .and_then(|(rows, _)| rows.into_iter().map(sw_map::map_conversation).collect()),
    );
    out.items(
        sw::rows(&data, "contacts", "contact")
            .and_then(|(rows, _)| rows.into_iter().map(sw_map::map_contact).collect()),
    );
    out.items(sw::rows(&data, "data", "message").and_then(|(rows, _)| {
        rows.into_iter()
            .map(|m| sw_map::map_message(m, "c1"))
            .collect()
    }));
    out.items(
        sw::rows(&data, "templates", "template")
            .and_then(|(rows, _)| rows.into_iter().map(sw_map::map_template).collect()),
    );
    out.result(sw::decode(&data, "conversation").and_then(sw_map::map_conversation));
    out.result(sw::decode(&data, "contact").and_then(sw_map::map_contact));
    out.result(sw::decode(&data, "message").and_then(|m| sw_map::map_message(m, "c1")));
}

fn dmchamp(status: u16, body: &[u8], out: &mut Texts) {
    let Some(json) = rest_json(status, body, out) else {
        return;
    };
    let response = HttpResponse {
        status,
        body: body.to_vec(),
    };
    out.result(
        response
            .decode::<dm::ContactIdAnswer>()
            .and_then(|a| a.contact_id()),
    );
    out.result(response.decode::<dm::SendAnswer>().map(|a| a.message_id()));
    let contact = ContactId("c1".into());
    out.items(
        dm::records::<dm::WireMessage>(json.clone(), "message").and_then(|(rows, _)| {
            rows.into_iter()
                .enumerate()
                .map(|(i, m)| dm::map_message(m, &contact, i))
                .collect()
        }),
    );
    out.items(
        dm::records::<dm::WireTag>(json.clone(), "tag")
            .map(|(rows, _)| rows.into_iter().filter_map(dm::map_tag).collect()),
    );
    out.items(
        dm::records::<dm::WireTemplate>(json.clone(), "template")
            .and_then(|(rows, _)| rows.into_iter().map(dm::map_template).collect()),
    );
    // The contact book keeps entries as the server and the agent gave them.
    if let Ok(entry) = serde_json::from_value::<BookEntry>(json)
        && entry.has_usable_id()
    {
        out.value(&entry.contact());
    }
}

#[cfg(test)]
mod tests;
