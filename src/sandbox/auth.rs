//! OAuth tokens and scope checks (qpien.md §2–3).

use std::collections::HashMap;

use async_graphql::ErrorExtensions;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::Rng;

/// Every scope the sandbox knows; a token without an override gets all of them.
pub(crate) const ALL_SCOPES: &[&str] = &[
    "read_contacts",
    "write_contacts",
    "read_customerPersons",
    "write_customerPersons",
    "read_conversations",
    "write_conversations",
    "read_messages",
    "write_messages",
    "read_channels",
    "read_whatsappBusinessTemplates",
];

/// Scope needed by a root field; `None` for token generation (and unknown
/// fields, which the GraphQL validator rejects anyway).
pub(crate) fn required_scope(field: &str) -> Option<&'static str> {
    Some(match field {
        "getContact" | "getContactList" => "read_contacts",
        "createContact" | "updateContact" | "deleteContact" => "write_contacts",
        "getCustomerPerson" | "getCustomerPersonList" => "read_customerPersons",
        "createCustomerPerson" | "updateCustomerPerson" | "deleteCustomerPerson" => {
            "write_customerPersons"
        }
        "getConversation" | "getConversationList" => "read_conversations",
        "updateConversation" => "write_conversations",
        "getMessage" | "getMessages" => "read_messages",
        "createMessage" | "createMessageByWhatsapp" | "sendWhatsappTemplateMessage" => {
            "write_messages"
        }
        "getAllConnectedPlatformList" => "read_channels",
        "getWhatsappBusinessTemplate" | "getWhatsappBusinessTemplateList" => {
            "read_whatsappBusinessTemplates"
        }
        _ => return None,
    })
}

#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub expires_at: DateTime<Utc>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct AuthState {
    pub tokens: HashMap<String, TokenInfo>,
    /// Tokens refused as revoked.
    pub revoked: std::collections::HashSet<String>,
    pub scopes_override: Option<Vec<String>>,
    pub issued: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthError {
    Unauthorized(&'static str),
    Expired,
    InsufficientScope(&'static str),
    InvalidClient,
}

impl AuthError {
    pub fn into_graphql(self) -> async_graphql::Error {
        match self {
            AuthError::Unauthorized(why) => {
                async_graphql::Error::new(why).extend_with(|_, e| e.set("code", "UNAUTHORIZED"))
            }
            AuthError::Expired => async_graphql::Error::new("Token expired")
                .extend_with(|_, e| e.set("code", "TOKEN_EXPIRED")),
            AuthError::InsufficientScope(scope) => async_graphql::Error::new(
                "Insufficient scopes for this operation",
            )
            .extend_with(|_, e| {
                e.set("code", "INSUFFICIENT_SCOPES");
                e.set("requiredScope", scope);
            }),
            AuthError::InvalidClient => async_graphql::Error::new("Invalid client credentials")
                .extend_with(|_, e| e.set("code", "INVALID_CLIENT")),
        }
    }
}

impl AuthState {
    /// Issues a random opaque token carrying the scopes configured right now.
    pub fn issue(&mut self, ttl: std::time::Duration, now: DateTime<Utc>) -> (String, TokenInfo) {
        let bytes: [u8; 24] = rand::rng().random();
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("qps_{token}");
        let ttl = ChronoDuration::from_std(ttl).unwrap_or(ChronoDuration::hours(1));
        let info = TokenInfo {
            expires_at: now + ttl,
            scopes: self
                .scopes_override
                .clone()
                .unwrap_or_else(|| ALL_SCOPES.iter().map(|s| s.to_string()).collect()),
        };
        self.tokens.insert(token.clone(), info.clone());
        self.issued += 1;
        (token, info)
    }

    pub fn check(
        &self,
        bearer: Option<&str>,
        field: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        let Some(token) = bearer else {
            return Err(AuthError::Unauthorized("Missing access token"));
        };
        if self.revoked.contains(token) {
            return Err(AuthError::Unauthorized("Access token revoked"));
        }
        let Some(info) = self.tokens.get(token) else {
            return Err(AuthError::Unauthorized("Invalid access token"));
        };
        if info.expires_at <= now {
            return Err(AuthError::Expired);
        }
        match required_scope(field) {
            Some(scope) if !info.scopes.iter().any(|s| s == scope) => {
                Err(AuthError::InsufficientScope(scope))
            }
            _ => Ok(()),
        }
    }

    pub fn revoke_all(&mut self) {
        self.revoked
            .extend(self.tokens.drain().map(|(token, _)| token));
    }

    pub fn expire_all(&mut self, now: DateTime<Utc>) {
        for info in self.tokens.values_mut() {
            info.expires_at = info.expires_at.min(now - ChronoDuration::seconds(1));
        }
    }
}
