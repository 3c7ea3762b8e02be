//! SuperWaba's JSON as it arrives, decoded leniently: camelCase with
//! snake_case aliases (the PATCH answer is snake_case), nulls where lists
//! are expected, numbers where strings are expected, unknown fields and
//! enum values kept as text. A missing required field is an error naming
//! it; one bad row of a list costs only itself.

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

use crate::api::{ApiError, ApiResult};
use crate::text::sanitize_line;

/// `null` or a missing value as the type's default.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A string, or a number written as one (ids, template ids).
fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Strings of a list; anything else in it is left out.
fn loose_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// A boolean, or `"true"`/`"false"`, `1`/`0`.
fn loose_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        Some(Value::Number(n)) => n.as_i64().map(|n| n != 0),
        _ => None,
    })
}

fn loose_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireContact {
    #[serde(default, deserialize_with = "loose_string", alias = "_id")]
    pub id: Option<String>,
    #[serde(
        default,
        deserialize_with = "loose_string",
        alias = "vendor_contact_id"
    )]
    pub vendor_contact_id: Option<String>,
    #[serde(default, alias = "userName", alias = "user_name")]
    pub name: Option<String>,
    #[serde(default, alias = "userNumber", alias = "user_number")]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, alias = "country_code")]
    pub country_code: Option<String>,
    #[serde(default, deserialize_with = "loose_strings")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "loose_strings")]
    pub labels: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default, deserialize_with = "loose_bool", alias = "opted_in")]
    pub opted_in: Option<bool>,
    #[serde(default, deserialize_with = "loose_bool", alias = "is_blocked")]
    pub is_blocked: Option<bool>,
    #[serde(default, alias = "last_message_at")]
    pub last_message_at: Option<String>,
    #[serde(default, alias = "created_at")]
    pub created_at: Option<String>,
    #[serde(default, alias = "updated_at")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireConversationContact {
    #[serde(default, deserialize_with = "loose_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireLastMessage {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireConversation {
    #[serde(default, deserialize_with = "loose_string", alias = "_id")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "loose_string", alias = "contact_id")]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub contact: Option<WireConversationContact>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(
        default,
        deserialize_with = "loose_string",
        alias = "assignee_id",
        alias = "assignee"
    )]
    pub assignee_id: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default, alias = "last_message")]
    pub last_message: Option<WireLastMessage>,
    #[serde(default, deserialize_with = "loose_u32", alias = "unread_count")]
    pub unread_count: Option<u32>,
    #[serde(default, deserialize_with = "loose_bool", alias = "ai_handling")]
    pub ai_handling: Option<bool>,
    #[serde(default, alias = "created_at")]
    pub created_at: Option<String>,
    #[serde(default, alias = "updated_at")]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMessage {
    #[serde(default, deserialize_with = "loose_string", alias = "_id")]
    pub id: Option<String>,
    #[serde(default, alias = "wa_message_id")]
    pub wa_message_id: Option<String>,
    #[serde(default, deserialize_with = "loose_string", alias = "conversation_id")]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Shaped by `type`; read in `mapping`.
    #[serde(default)]
    pub content: Value,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, alias = "created_at", alias = "createdAt")]
    pub timestamp: Option<String>,
    #[serde(default, deserialize_with = "loose_string", alias = "sender_id")]
    pub sender_id: Option<String>,
    #[serde(
        default,
        alias = "client_message_id",
        alias = "biz_opaque_callback_data"
    )]
    pub client_message_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireButton {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireComponent {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub buttons: Vec<WireButton>,
}

/// `"en"` or Meta's `{ "code": "en" }`.
fn language<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Object(o)) => o.get("code").and_then(Value::as_str).map(str::to_string),
        _ => None,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTemplate {
    #[serde(default, deserialize_with = "loose_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "language")]
    pub language: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub components: Vec<WireComponent>,
    #[serde(default, alias = "rejected_reason")]
    pub rejected_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireSent {
    #[serde(default, alias = "message_id", alias = "wamid", alias = "id")]
    pub message_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireBulkError {
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default, alias = "message")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireBulkRow {
    #[serde(default, deserialize_with = "loose_string")]
    pub id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireBulk {
    #[serde(default, deserialize_with = "null_default")]
    pub errors: Vec<WireBulkError>,
    #[serde(default, deserialize_with = "null_default")]
    pub contacts: Vec<WireBulkRow>,
}

/// What a grant at `/auth/v1/token` answers.
#[derive(Deserialize)]
pub struct WireGrant {
    pub access_token: SecretString,
    #[serde(default)]
    pub expires_in: Option<u64>,
    pub refresh_token: SecretString,
    pub user: WireUser,
}

#[derive(Deserialize)]
pub struct WireUser {
    #[serde(deserialize_with = "required_string")]
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub user_metadata: Map<String, Value>,
}

fn required_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    loose_string(d)?.ok_or_else(|| serde::de::Error::custom("expected a string"))
}

impl std::fmt::Debug for WireGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireGrant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Decodes `value`, naming the failing field path.
pub fn decode<T: DeserializeOwned>(value: &Value, what: &str) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Decode(format!(
            "{what}: {} at {}",
            crate::api::http::server_text(&e.inner().to_string()),
            if path == "." {
                "the top level".into()
            } else {
                path
            }
        ))
    })
}

/// Like [`decode`], naming only the path: for answers carrying secrets,
/// whose values must not reach an error text.
pub fn decode_quiet<T: DeserializeOwned>(value: &Value, what: &str) -> ApiResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Decode(format!(
            "{what}: missing or unreadable {}",
            if path == "." { "fields".into() } else { path }
        ))
    })
}

/// The payload of an answer: `data` when the envelope has one (the
/// Messages list has none: then the whole body). `success: false` with
/// HTTP 2xx is a refusal.
pub fn payload(body: Value) -> ApiResult<Value> {
    if body.get("success").and_then(Value::as_bool) == Some(false) {
        let text = error_text(&body).unwrap_or_else(|| "the request was refused".into());
        return Err(ApiError::Rejected {
            code: None,
            message: text,
        });
    }
    match body {
        Value::Object(mut map) if map.contains_key("data") => {
            Ok(map.remove("data").unwrap_or(Value::Null))
        }
        other => Ok(other),
    }
}

/// `message` ?? `error` ?? `error_description` ?? `msg`, made safe to show.
pub fn error_text(body: &Value) -> Option<String> {
    ["message", "error_description", "msg", "error"]
        .iter()
        .filter_map(|k| body.get(*k))
        .find_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .map(|s| crate::text::truncate(sanitize_line(&s).trim(), 300).into_owned())
        .filter(|s| !s.is_empty())
}

/// The rows at `key` in `data` (or `data` itself when it is the array);
/// rows that do not decode are counted and left out.
pub fn rows<T: DeserializeOwned>(
    data: &Value,
    key: &str,
    what: &str,
) -> ApiResult<(Vec<T>, usize)> {
    let list = match data {
        Value::Array(items) => items,
        Value::Object(o) => match o.get(key) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => return Ok((Vec::new(), 0)),
            Some(_) => return Err(ApiError::Decode(format!("{what}: {key} is not a list"))),
        },
        Value::Null => return Ok((Vec::new(), 0)),
        _ => return Err(ApiError::Decode(format!("{what}: expected a list"))),
    };
    let mut out = Vec::with_capacity(list.len());
    let mut skipped = 0;
    for row in list {
        match decode::<T>(row, what) {
            Ok(v) => out.push(v),
            Err(e) => {
                tracing::warn!("superwaba: skipped a row: {e}");
                skipped += 1;
            }
        }
    }
    Ok((out, skipped))
}

/// `hasNext` / `has_next`; a missing flag means no further page.
pub fn has_next(data: &Value) -> bool {
    data.get("hasNext")
        .or_else(|| data.get("has_next"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

pub fn total(data: &Value) -> Option<u64> {
    data.get("total").and_then(Value::as_u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contacts_decode_camel_and_snake_case_alike() {
        let camel: WireContact = decode(
            &json!({ "id": "contact_1", "countryCode": "AE", "optedIn": true, "isBlocked": false,
                     "updatedAt": "2026-05-16T09:41:00.000Z", "tags": ["vip", 3, null], "zz": {} }),
            "contact",
        )
        .unwrap();
        let snake: WireContact = decode(
            &json!({ "id": "contact_1", "country_code": "AE", "opted_in": "true", "is_blocked": 0,
                     "updated_at": "2026-05-16T09:41:00.000Z", "tags": null, "params": null }),
            "contact",
        )
        .unwrap();
        assert_eq!(camel.country_code, snake.country_code);
        assert_eq!(camel.opted_in, snake.opted_in);
        assert_eq!(
            (camel.is_blocked, snake.is_blocked),
            (Some(false), Some(false))
        );
        assert_eq!(camel.updated_at, snake.updated_at);
        assert_eq!(camel.tags, ["vip"]);
        assert!(snake.tags.is_empty() && snake.params.is_empty());
    }

    #[test]
    fn the_messages_list_has_no_wrapper_and_errors_use_either_key() {
        let bare = json!({ "data": [], "total": 0, "page": 1, "hasNext": false });
        assert_eq!(payload(bare).unwrap(), json!([]));
        let wrapped = json!({ "success": true, "data": { "conversations": [] } });
        assert_eq!(payload(wrapped).unwrap(), json!({ "conversations": [] }));
        for body in [
            json!({ "success": false, "error": "Contact not found" }),
            json!({ "success": false, "message": "Contact not found", "code": "X" }),
        ] {
            assert_eq!(
                payload(body),
                Err(ApiError::Rejected {
                    code: None,
                    message: "Contact not found".into()
                })
            );
        }
        assert_eq!(
            error_text(
                &json!({ "error": "invalid_grant", "error_description": "Invalid login credentials" })
            ),
            Some("Invalid login credentials".into())
        );
        assert_eq!(
            error_text(&json!({ "message": "\u{1b}[31mred\u{1b}[0m" })),
            Some("red".into())
        );
    }

    #[test]
    fn one_bad_row_costs_only_itself() {
        let data =
            json!({ "conversations": [ { "id": "conv_1" }, "garbage", { "id": "conv_2" } ] });
        let (good, skipped) =
            rows::<WireConversation>(&data, "conversations", "conversation").unwrap();
        assert_eq!((good.len(), skipped), (2, 1));
        assert!(
            rows::<WireConversation>(&json!({ "conversations": 3 }), "conversations", "c").is_err()
        );
        let (t, _) = rows::<WireTemplate>(
            &json!([{ "id": 129, "language": { "code": "en" } }]),
            "templates",
            "t",
        )
        .unwrap();
        assert_eq!(
            (t[0].id.as_deref(), t[0].language.as_deref()),
            (Some("129"), Some("en"))
        );
    }

    #[test]
    fn a_grant_error_never_quotes_a_value() {
        let err = decode_quiet::<WireGrant>(
            &json!({ "access_token": 12345678, "refresh_token": "r", "user": { "id": "u" } }),
            "sign-in answer",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("access_token") && !err.contains("12345678"),
            "{err}"
        );
    }

    #[test]
    fn a_grant_without_a_user_id_names_the_field() {
        let err = decode::<WireGrant>(
            &json!({ "access_token": "a", "refresh_token": "r", "user": { "email": "x" } }),
            "sign-in answer",
        )
        .unwrap_err();
        assert!(err.to_string().contains("user"), "{err}");
        let grant: WireGrant = decode(
            &json!({ "access_token": "secret-a", "refresh_token": "secret-r", "user": { "id": "user_1" } }),
            "sign-in answer",
        )
        .unwrap();
        let shown = format!("{grant:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
