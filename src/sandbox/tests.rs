//! End-to-end tests over real HTTP on 127.0.0.1:0 with raw JSON.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Faults, Sandbox, SandboxOptions};

pub(super) const LIST: &str = r#"query Inbox($input: GetConversationListInput) {
  getConversationList(input: $input) {
    success code message
    data {
      totalDocs limit page totalPages hasNextPage hasPrevPage nextPage prevPage
      docs { _id status isStarred priority type joinedPerson joinedCPerson updatedAt createdAt
        lastReceivedMessageChannel
        lastMessage { _id content messageType senderType ackStatus createdAt }
        tags { _id name color } channels { _id name type channelId } }
    }
  }
}"#;

pub(super) const SEND: &str = r#"mutation Reply($input: CreateMessageInput!) {
  createMessage(input: $input) { success code message data { _id frontMsgId ackStatus senderType content createdAt conversation } }
}"#;

const TOKEN: &str = r#"mutation T($input: GenerateOAuthTokenInput!) {
  generateOAuthToken(input: $input) { success code message data { accessToken tokenType expiresIn expiresAt scopes } }
}"#;

pub(super) struct Harness {
    pub(super) sandbox: Sandbox,
    pub(super) http: reqwest::Client,
    pub(super) url: String,
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) body: Value,
}

impl Reply {
    pub(super) fn code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
    pub(super) fn header(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.to_str().ok()?.parse().ok()
    }
}

impl Harness {
    pub(super) async fn start(options: SandboxOptions) -> Harness {
        let addr = "127.0.0.1:0".parse().expect("addr");
        let sandbox = Sandbox::start(addr, options).await.expect("sandbox starts");
        let url = sandbox.base_url();
        Harness {
            sandbox,
            http: reqwest::Client::new(),
            url,
        }
    }

    pub(super) async fn raw(&self, token: Option<&str>, body: Value) -> Reply {
        let mut req = self.http.post(&self.url).json(&body);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json::<Value>().await.expect("JSON body");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(super) async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        self.raw(token, json!({ "query": query, "variables": variables }))
            .await
    }

    pub(super) async fn token_with(&self, id: &str, secret: &str) -> Reply {
        self.gql(
            None,
            TOKEN,
            json!({ "input": { "clientId": id, "clientSecret": secret } }),
        )
        .await
    }

    pub(super) async fn token(&self) -> String {
        let r = self.token_with("demo", "demo").await;
        r.body["data"]["generateOAuthToken"]["data"]["accessToken"]
            .as_str()
            .expect("token issued")
            .to_string()
    }
}

pub(super) fn small() -> SandboxOptions {
    SandboxOptions {
        conversations: 40,
        ..SandboxOptions::default()
    }
}

#[tokio::test]
async fn token_then_conversation_list() {
    let h = Harness::start(SandboxOptions::default()).await;
    assert!(h.url.starts_with("http://127.0.0.1:") && h.url.ends_with("/api/v1"));
    let t = h.token_with("demo", "demo").await;
    assert_eq!(t.status, 200);
    let data = &t.body["data"]["generateOAuthToken"];
    assert_eq!(data["success"], true);
    assert_eq!(data["data"]["tokenType"], "Bearer");
    assert_eq!(data["data"]["expiresIn"], 3600);
    assert!(
        data["data"]["scopes"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "read_conversations"))
    );
    let token = data["data"]["accessToken"].as_str().expect("token");

    let r = h
        .gql(
            Some(token),
            LIST,
            json!({ "input": { "page": 1, "limit": 25 } }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let page = &r.body["data"]["getConversationList"]["data"];
    assert_eq!(r.body["data"]["getConversationList"]["success"], true);
    let docs = page["docs"].as_array().expect("docs");
    assert_eq!(docs.len(), 25);
    assert!(page["totalDocs"].as_u64().is_some_and(|n| n >= 300));
    assert_eq!(page["hasNextPage"], true);
    assert_eq!(page["nextPage"], 2);
    assert_eq!(page["prevPage"], Value::Null);
    let times: Vec<&str> = docs
        .iter()
        .filter_map(|d| d["updatedAt"].as_str())
        .collect();
    assert_eq!(times.len(), 25);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "updatedAt DESC");
    // 2025-10-02T09:15:00.000Z
    assert!(
        times
            .iter()
            .all(|t| t.len() == 24 && t.ends_with('Z') && &t[19..20] == ".")
    );
    assert_eq!(
        h.sandbox.control().conversation_ids()[0],
        docs[0]["_id"].as_str().unwrap_or_default()
    );
    assert_eq!(r.header("x-ratelimit-limit"), Some(100));
    assert_eq!(r.header("x-ratelimit-remaining"), Some(98));
    assert!(
        r.header("x-ratelimit-reset")
            .is_some_and(|s| (1..=60).contains(&s))
    );

    // Filters, search and the page cap.
    let r = h
        .gql(
            Some(token),
            LIST,
            json!({ "input": { "status": ["CLOSED"], "channelType": ["EMAIL"], "limit": 100 } }),
        )
        .await;
    let docs = r.body["data"]["getConversationList"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        docs.iter()
            .all(|d| d["status"] == "CLOSED" && d["channels"][0]["type"] == "EMAIL")
    );
    let r = h
        .gql(Some(token), LIST, json!({ "input": { "limit": 101 } }))
        .await;
    assert_eq!(r.body["data"]["getConversationList"]["success"], false);
    assert_eq!(r.body["data"]["getConversationList"]["code"], 400);
    let r = h
        .gql(
            Some(token),
            LIST,
            json!({ "input": { "search": "4821", "limit": 100 } }),
        )
        .await;
    assert!(
        r.body["data"]["getConversationList"]["data"]["totalDocs"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    let r = h
        .gql(Some(token), LIST, json!({ "input": { "unassigned": true, "sort": { "field": "createdAt", "order": "ASC" } } }))
        .await;
    let docs = r.body["data"]["getConversationList"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!docs.is_empty() && docs.iter().all(|d| d["joinedCPerson"].is_null()));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn auth_error_codes() {
    let h = Harness::start(small()).await;
    let control = h.sandbox.control();

    let r = h.gql(None, LIST, json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.code(), Some("UNAUTHORIZED"));
    assert_eq!(r.body["data"], Value::Null);

    let r = h.gql(Some("not-a-token"), LIST, json!({})).await;
    assert_eq!(r.code(), Some("UNAUTHORIZED"));

    let r = h.token_with("demo", "wrong").await;
    assert_eq!(r.code(), Some("INVALID_CLIENT"));
    assert_eq!(r.body["data"], Value::Null);
    assert_eq!(control.token_count(), 0);

    let token = h.token().await;
    control.expire_all_tokens();
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.code(), Some("TOKEN_EXPIRED"));

    control.set_token_scopes(Some(vec!["read_conversations".into()]));
    let limited = h.token().await;
    let r = h.gql(Some(&limited), LIST, json!({})).await;
    assert_eq!(
        r.body["data"]["getConversationList"]["success"], true,
        "{}",
        r.body
    );
    let conv = control.conversation_ids()[0].clone();
    let r = h
        .gql(
            Some(&limited),
            SEND,
            json!({ "input": { "conversationId": conv, "content": "hi" } }),
        )
        .await;
    assert_eq!(r.code(), Some("INSUFFICIENT_SCOPES"));
    assert_eq!(
        r.body["errors"][0]["extensions"]["requiredScope"],
        "write_messages"
    );
    assert_eq!(r.body["errors"][0]["success"], false);
    assert_eq!(r.body["data"], Value::Null);
    assert_eq!(control.messages_containing(&conv, "hi"), 0);

    // Scope changes do not touch tokens already issued.
    control.set_token_scopes(None);
    let r = h
        .gql(
            Some(&limited),
            SEND,
            json!({ "input": { "conversationId": conv, "content": "hi" } }),
        )
        .await;
    assert_eq!(r.code(), Some("INSUFFICIENT_SCOPES"));
    assert_eq!(control.token_count(), 2);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_429() {
    let h = Harness::start(SandboxOptions {
        rate_limit: 3,
        ..small()
    })
    .await;
    let token = h.token().await;
    for _ in 0..2 {
        let r = h.gql(Some(&token), LIST, json!({})).await;
        assert_eq!(r.status, 200);
    }
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.code(), Some("RATE_LIMITED"));
    assert_eq!(r.body["errors"][0]["message"], "Too many requests");
    assert_eq!(r.header("x-ratelimit-limit"), Some(3));
    assert_eq!(r.header("x-ratelimit-remaining"), Some(0));
    let reset = r.header("x-ratelimit-reset").expect("reset header");
    assert!((1..=60).contains(&reset));
    assert_eq!(r.header("retry-after"), Some(reset));
    let control = h.sandbox.control();
    assert_eq!(control.rate_limited_count(), 1);
    assert_eq!(control.request_count(), 4);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn create_message_is_idempotent() {
    let h = Harness::start(small()).await;
    let control = h.sandbox.control();
    let token = h.token().await;
    let ids = control.conversation_ids();
    let conv = ids[ids.len() - 1].clone();
    let input = json!({ "input": { "conversationId": conv, "content": "It ships today.", "frontMsgId": "7d0c5e2a-1b7e-4c52-9a53-2f6e0c9b8d11" } });

    let first = h.gql(Some(&token), SEND, input.clone()).await;
    let m1 = &first.body["data"]["createMessage"];
    assert_eq!(m1["success"], true, "{}", first.body);
    assert_eq!(m1["data"]["ackStatus"], "SENT");
    assert_eq!(m1["data"]["senderType"], "AGENT");
    assert_eq!(
        m1["data"]["frontMsgId"],
        "7d0c5e2a-1b7e-4c52-9a53-2f6e0c9b8d11"
    );
    let second = h.gql(Some(&token), SEND, input).await;
    let m2 = &second.body["data"]["createMessage"];
    assert_eq!(m2["success"], true);
    assert_eq!(m1["data"]["_id"], m2["data"]["_id"]);
    assert_eq!(
        control.count_messages_with_front_id("7d0c5e2a-1b7e-4c52-9a53-2f6e0c9b8d11"),
        1
    );
    assert_eq!(control.messages_containing(&conv, "It ships today."), 1);
    // The conversation moved to the top with the new preview.
    assert_eq!(control.conversation_ids()[0], conv);
    let r = h
        .gql(
            Some(&token),
            "query($input: GetConversationInput!) { getConversation(input: $input) { success data { lastMessage { _id content senderType } } } }",
            json!({ "input": { "conversationId": conv } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["getConversation"]["data"]["lastMessage"]["_id"],
        m1["data"]["_id"]
    );

    // Newest first in getMessages, and strict `after`.
    let created_at = m1["data"]["createdAt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let r = h
        .gql(
            Some(&token),
            "query($input: GetMessagesInput!) { getMessages(input: $input) { success data { totalDocs docs { _id content createdAt } } } }",
            json!({ "input": { "conversationId": conv, "limit": 5 } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["getMessages"]["data"]["docs"][0]["_id"],
        m1["data"]["_id"]
    );
    let r = h
        .gql(
            Some(&token),
            "query($input: GetMessagesInput!) { getMessages(input: $input) { data { totalDocs } } }",
            json!({ "input": { "conversationId": conv, "after": created_at } }),
        )
        .await;
    assert_eq!(r.body["data"]["getMessages"]["data"]["totalDocs"], 0);

    let r = h
        .gql(
            Some(&token),
            SEND,
            json!({ "input": { "conversationId": conv, "content": "   " } }),
        )
        .await;
    assert_eq!(r.body["data"]["createMessage"]["success"], false);
    assert_eq!(r.body["data"]["createMessage"]["code"], 400);
    let r = h
        .gql(
            Some(&token),
            SEND,
            json!({ "input": { "conversationId": "000000000000000000000000", "content": "x" } }),
        )
        .await;
    assert_eq!(r.body["data"]["createMessage"]["code"], 404);
    assert_eq!(
        r.body["data"]["createMessage"]["message"],
        "Conversation not found"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn other_operations_and_odd_inputs() {
    let h = Harness::start(SandboxOptions::default()).await;
    let control = h.sandbox.control();
    let token = h.token().await;
    let t = Some(token.as_str());

    // The long threads page backwards with `before`.
    let q = "query($input: GetMessagesInput!) { getMessages(input: $input) { success code data { totalDocs hasNextPage docs { _id createdAt senderType media { url type } } } } }";
    let mut long = None;
    for id in control.conversation_ids().iter().take(30) {
        let r = h
            .gql(
                t,
                q,
                json!({ "input": { "conversationId": id, "limit": 100 } }),
            )
            .await;
        if r.body["data"]["getMessages"]["data"]["totalDocs"]
            .as_u64()
            .is_some_and(|n| n >= 500)
        {
            long = Some((id.clone(), r));
            break;
        }
    }
    let (long_id, r) = long.expect("a 500+ message thread near the top");
    let docs = r.body["data"]["getMessages"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(docs.len(), 100);
    let oldest = docs[99]["createdAt"].as_str().unwrap_or_default();
    let r = h
        .gql(
            t,
            q,
            json!({ "input": { "conversationId": long_id, "limit": 100, "before": oldest } }),
        )
        .await;
    let older = r.body["data"]["getMessages"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(older.len(), 100);
    assert!(
        older
            .iter()
            .all(|d| d["createdAt"].as_str().unwrap_or_default() < oldest)
    );
    // Epoch milliseconds are accepted as Date input too.
    let ms = chrono::DateTime::parse_from_rfc3339(oldest)
        .map(|d| d.timestamp_millis())
        .unwrap_or(0);
    let r = h
        .gql(
            t,
            q,
            json!({ "input": { "conversationId": long_id, "limit": 1, "before": ms } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["getMessages"]["data"]["docs"][0]["_id"],
        older[0]["_id"]
    );

    // updateConversation replaces tags, assigns, and bumps updatedAt.
    let agents = h
        .gql(t, "{ getCustomerPersonList(input: { status: [ACTIVE], limit: 100 }) { success data { totalDocs docs { _id type status } } } }", json!({}))
        .await;
    let agent_docs = agents.body["data"]["getCustomerPersonList"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(agent_docs.len() >= 5 && agent_docs.iter().all(|a| a["status"] == "ACTIVE"));
    let agent = agent_docs[0]["_id"].clone();
    let convs = control.conversation_ids();
    let last = convs[convs.len() - 1].clone();
    let upd = "mutation($input: UpdateConversationInput!) { updateConversation(input: $input) { success code message data { _id status isStarred priority joinedCPerson tags { _id name } } } }";
    let r = h
        .gql(t, upd, json!({ "input": { "conversationId": last, "status": "RESOLVED", "isStarred": true, "priority": "HIGH", "joinedCPerson": agent, "tags": [] } }))
        .await;
    let d = &r.body["data"]["updateConversation"];
    assert_eq!(d["success"], true, "{}", r.body);
    assert_eq!(d["data"]["status"], "RESOLVED");
    assert_eq!(d["data"]["joinedCPerson"], agent);
    assert_eq!(d["data"]["tags"], json!([]));
    assert_eq!(control.conversation_ids()[0], last);
    let r = h
        .gql(
            t,
            upd,
            json!({ "input": { "conversationId": last, "unassign": true } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["updateConversation"]["data"]["joinedCPerson"],
        Value::Null
    );
    let r = h.gql(t, upd, json!({ "input": { "conversationId": last, "joinedCPerson": "ffffffffffffffffffffffff" } })).await;
    assert_eq!(r.body["data"]["updateConversation"]["code"], 404);

    // Templates, channels, contacts.
    let r = h
        .gql(t, "{ getWhatsappBusinessTemplateList(input: { status: [APPROVED], language: \"tr\" }) { success data { totalDocs docs { name language status components { type format text buttons { type text url } } } } } }", json!({}))
        .await;
    let docs = r.body["data"]["getWhatsappBusinessTemplateList"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !docs.is_empty()
            && docs
                .iter()
                .all(|d| d["language"] == "tr" && d["status"] == "APPROVED")
    );
    let r = h.gql(t, "{ getAllConnectedPlatformList { success data { _id name status channelType channelId phoneNumber } } }", json!({})).await;
    assert_eq!(
        r.body["data"]["getAllConnectedPlatformList"]["data"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    let r = h.gql(t, "{ getContactList(input: { limit: 5, search: \"a\" }) { success data { totalDocs docs { _id firstName phone tags { name } createdAt } } } }", json!({})).await;
    assert_eq!(
        r.body["data"]["getContactList"]["success"], true,
        "{}",
        r.body
    );
    let r = h
        .gql(
            t,
            "{ getContact(input: { contactId: \"nope\" }) { success code message } }",
            json!({}),
        )
        .await;
    assert_eq!(r.body["data"]["getContact"]["message"], "Contact not found");

    // Root fields the sandbox does not implement answer 501, never panic.
    let r = h
        .gql(
            t,
            "mutation { deleteCustomerPerson(input: { customerPersonId: \"x\" }) { success code message data } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.body["data"]["deleteCustomerPerson"]["code"], 501,
        "{}",
        r.body
    );
    assert_eq!(
        r.body["data"]["deleteCustomerPerson"]["message"],
        "not supported by the sandbox"
    );
    // Deleting an unknown contact reports it like getContact does.
    let r = h
        .gql(
            t,
            "mutation { deleteContact(input: { contactId: \"x\" }) { success code message data } }",
            json!({}),
        )
        .await;
    assert_eq!(r.body["data"]["deleteContact"]["code"], 404);
    assert_eq!(
        r.body["data"]["deleteContact"]["message"],
        "Contact not found"
    );

    // Schema mismatches look like they do on the real server.
    let r = h
        .gql(t, "{ externalGetConversationList { success } }", json!({}))
        .await;
    assert_eq!(r.code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Cannot query field"))
    );
    // Bad variables, bad bodies, bad dates, huge numbers.
    let r = h
        .gql(t, LIST, json!({ "input": { "limit": "many" } }))
        .await;
    assert!(r.body["errors"].is_array());
    let r = h
        .gql(
            t,
            LIST,
            json!({ "input": { "updatedAfter": "last tuesday" } }),
        )
        .await;
    assert_eq!(r.body["data"]["getConversationList"]["code"], 400);
    let r = h
        .gql(
            t,
            LIST,
            json!({ "input": { "page": 2147483647, "limit": 100 } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["getConversationList"]["data"]["docs"],
        json!([])
    );
    let r = h.raw(t, json!([1, 2])).await;
    assert_eq!(r.status, 400);
    let resp = h
        .http
        .post(&h.url)
        .body("{not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 400);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn update_conversation_refuses_what_a_real_service_would() {
    const UPD: &str = "mutation($input: UpdateConversationInput!) { updateConversation(input: $input) { success code message data { _id status joinedCPerson } } }";
    let h = Harness::start(small()).await;
    let t = Some(h.token().await);
    let t = t.as_deref();
    let agents = h
        .gql(t, "{ getCustomerPersonList(input: { limit: 100 }) { data { docs { _id type status } } } }", json!({}))
        .await;
    let docs = agents.body["data"]["getCustomerPersonList"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let agent_where = |f: &dyn Fn(&Value) -> bool| {
        docs.iter()
            .find(|a| f(a))
            .and_then(|a| a["_id"].as_str())
            .expect("seeded agent")
            .to_string()
    };
    let inactive = agent_where(&|a| a["status"] == "INACTIVE");
    let robot = agent_where(&|a| a["type"] == "ROBOT");
    let person = agent_where(&|a| a["type"] == "PERSON" && a["status"] == "ACTIVE");
    let closed = h.sandbox.conversation_ids()[1].clone();
    let r = h
        .gql(
            t,
            UPD,
            json!({ "input": { "conversationId": closed, "status": "CLOSED" } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["updateConversation"]["data"]["status"],
        "CLOSED"
    );
    let conv = h.sandbox.conversation_ids()[0].clone();

    let refused = |r: &Reply| {
        let d = &r.body["data"]["updateConversation"];
        assert_eq!(d["success"], false, "{}", r.body);
        assert_eq!(d["data"], Value::Null);
        (
            d["code"].as_i64().unwrap_or_default(),
            d["message"].as_str().unwrap_or_default().to_string(),
        )
    };
    let cases = [
        (
            json!({ "conversationId": conv, "joinedCPerson": inactive }),
            422,
            "not active",
        ),
        (
            json!({ "conversationId": conv, "joinedCPerson": robot }),
            422,
            "bot",
        ),
        (
            json!({ "conversationId": conv, "joinedCPerson": "ffffffffffffffffffffffff" }),
            404,
            "Customer person not found",
        ),
        (
            json!({ "conversationId": conv, "tags": ["ffffffffffffffffffffffff"] }),
            404,
            "Tag not found: ffffffffffffffffffffffff",
        ),
        (
            json!({ "conversationId": "ffffffffffffffffffffffff", "isStarred": true }),
            404,
            "Conversation not found",
        ),
        (
            json!({ "conversationId": conv, "joinedCPerson": person, "unassign": true }),
            400,
            "cannot be used together",
        ),
        (json!({ "conversationId": conv }), 400, "nothing to update"),
        (
            json!({ "conversationId": conv, "unassign": false }),
            400,
            "nothing to update",
        ),
        (
            json!({ "conversationId": closed, "status": "PENDING" }),
            409,
            "reopen it first",
        ),
        (
            json!({ "conversationId": closed, "status": "RESOLVED", "isStarred": true }),
            409,
            "reopen it first",
        ),
    ];
    for (input, code, words) in cases {
        let r = h.gql(t, UPD, json!({ "input": input.clone() })).await;
        let (got, message) = refused(&r);
        assert_eq!(got, code, "{input}: {message}");
        assert!(message.contains(words), "{input}: {message}");
    }
    // Nothing refused was stored.
    let r = h
        .gql(t, "query($input: GetConversationInput!) { getConversation(input: $input) { data { status isStarred } } }", json!({ "input": { "conversationId": closed } }))
        .await;
    assert_eq!(
        r.body["data"]["getConversation"]["data"]["status"],
        "CLOSED"
    );

    // Reopening is allowed, and after it every status is.
    for status in ["OPEN", "PENDING", "RESOLVED", "CLOSED"] {
        let r = h
            .gql(
                t,
                UPD,
                json!({ "input": { "conversationId": closed, "status": status } }),
            )
            .await;
        assert_eq!(
            r.body["data"]["updateConversation"]["data"]["status"], status,
            "{}",
            r.body
        );
    }
    let r = h
        .gql(t, UPD, json!({ "input": { "conversationId": conv, "joinedCPerson": person, "unassign": false } }))
        .await;
    assert_eq!(
        r.body["data"]["updateConversation"]["data"]["joinedCPerson"],
        person.as_str()
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn faults_rewrite_responses() {
    let h = Harness::start(small()).await;
    let control = h.sandbox.control();
    let token = h.token().await;
    control.set_faults(Faults {
        extra_unknown_fields: true,
        drop_field: Some("docs".into()),
        ..Faults::default()
    });
    let r = h.gql(Some(&token), LIST, json!({})).await;
    let page = &r.body["data"]["getConversationList"]["data"];
    assert!(page.get("docs").is_none());
    assert_eq!(page["zzUnknownField"]["x"], 1);
    assert_eq!(r.body["data"]["zzUnknownField"]["x"], 1);
    assert!(r.header("x-ratelimit-limit").is_some());

    control.set_faults(Faults {
        fail_next: 2,
        ..Faults::default()
    });
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 503);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 503);
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.status, 200);
    assert!(r.body["data"]["getConversationList"]["data"]["docs"].is_array());
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn live_traffic_arrives_and_acks_progress() {
    let h = Harness::start(SandboxOptions {
        live: true,
        live_interval: Duration::from_millis(100),
        ..small()
    })
    .await;
    let control = h.sandbox.control();
    let token = h.token().await;
    let before = control.conversation_ids();
    let top = before[0].clone();
    let injected = control.inject_incoming_message(&top, "Hello from the test");
    assert_eq!(injected.len(), 24);
    assert_eq!(control.messages_containing(&top, "Hello from the test"), 1);

    let conv = before[before.len() - 1].clone();
    let sent = h
        .gql(Some(&token), SEND, json!({ "input": { "conversationId": conv, "content": "Live ack test", "frontMsgId": "live-1" } }))
        .await;
    let id = sent.body["data"]["createMessage"]["data"]["_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty(), "{}", sent.body);

    // Poll (generous deadline; no assertion on how fast) until the message
    // leaves SENT and the world has moved on.
    let q = "query($input: GetMessageInput!) { getMessage(input: $input) { data { ackStatus failedReason { code message } } } }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut ack = String::new();
    while tokio::time::Instant::now() < deadline {
        let r = h
            .gql(Some(&token), q, json!({ "input": { "messageId": id } }))
            .await;
        ack = r.body["data"]["getMessage"]["data"]["ackStatus"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if ack == "READ" || ack == "FAILED" {
            if ack == "FAILED" {
                assert!(r.body["data"]["getMessage"]["data"]["failedReason"]["code"].is_string());
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(ack == "READ" || ack == "FAILED", "ack stuck at {ack}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while control.conversation_ids()[0] == conv && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(
        control.conversation_ids()[0],
        conv,
        "live traffic updated another conversation"
    );
    h.sandbox.shutdown().await;
}

const CREATE_CONTACT: &str = r#"mutation C($input: CreateContactInput!) {
  createContact(input: $input) { success code message data { _id customer firstName lastName email phone phoneCountryCode country language gender avatar platforms { externalId } tags { _id name } createdAt updatedAt } }
}"#;

const UPDATE_CONTACT: &str = r#"mutation U($input: UpdateContactInput!) {
  updateContact(input: $input) { success code message data { _id firstName lastName email phone phoneCountryCode country language gender updatedAt } }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_mutations_refuse_what_a_real_service_would() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let t = Some(token.as_str());
    let control = h.sandbox.control();
    let before = control.contact_count();
    let create = |input: Value| h.gql(t, CREATE_CONTACT, json!({ "input": input }));
    let r = create(json!({ "firstName": " Ayşe ", "lastName": "Kaya", "phone": "+905321234567", "email": "ayse@example.com", "country": "TR", "language": "tr", "gender": "female" })).await;
    let made = &r.body["data"]["createContact"];
    assert_eq!(made["success"], true, "{}", r.body);
    let id = made["data"]["_id"].as_str().expect("an id").to_string();
    assert!(id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(made["data"]["firstName"], "Ayşe");
    assert_eq!(made["data"]["phoneCountryCode"], "90");
    assert_eq!(made["data"]["avatar"], "");
    assert_eq!(made["data"]["platforms"], json!([]));
    assert_eq!(made["data"]["createdAt"], made["data"]["updatedAt"]);
    assert_eq!(control.contact_count(), before + 1);
    assert_eq!(
        control.contact_id_by_phone("+905321234567").as_deref(),
        Some(id.as_str())
    );

    let refused = |r: &Reply, root: &str| {
        (
            r.body["data"][root]["code"].as_i64().unwrap_or_default(),
            r.body["data"][root]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    let cases = [
        (
            json!({ "firstName": " ", "phone": "+905321234568" }),
            422,
            "firstName is required",
        ),
        (json!({ "firstName": "A" }), 422, "phone is required"),
        (
            json!({ "firstName": "A", "phone": "0532 123 45 67" }),
            422,
            "Invalid phone: use E.164",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234567" }),
            409,
            "A contact with phone +905321234567 already exists",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234568", "email": "nope@" }),
            422,
            "Invalid email: ",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234568", "email": "AYSE@example.com" }),
            409,
            "email already in use",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234568", "country": "tr" }),
            422,
            "Invalid country: ",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234568", "language": "en_GB" }),
            422,
            "Invalid language: ",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234568", "gender": "robot" }),
            422,
            "Invalid gender",
        ),
        (
            json!({ "firstName": "A", "phone": "+905321234568", "tags": ["ffffffffffffffffffffffff"] }),
            404,
            "Tag ffffffffffffffffffffffff not found",
        ),
    ];
    for (input, code, words) in cases {
        let r = create(input.clone()).await;
        let (got, message) = refused(&r, "createContact");
        assert_eq!(got, code, "{input}: {}", r.body);
        assert!(message.starts_with(words), "{input}: {message}");
    }
    assert_eq!(
        control.contact_count(),
        before + 1,
        "nothing refused was stored"
    );

    // Only what is sent changes; null clears.
    let update = |input: Value| h.gql(t, UPDATE_CONTACT, json!({ "input": input }));
    let stamp = control.contact(&id).unwrap().updated_at;
    let r = update(json!({ "contactId": id, "lastName": null, "country": "DE" })).await;
    assert_eq!(
        r.body["data"]["updateContact"]["success"], true,
        "{}",
        r.body
    );
    let state = control.contact(&id).unwrap();
    assert_eq!(state.last_name, None);
    assert_eq!(state.country.as_deref(), Some("DE"));
    assert_eq!(state.email.as_deref(), Some("ayse@example.com"));
    assert_eq!(state.language.as_deref(), Some("tr"));
    assert!(state.updated_at > stamp);
    let r =
        update(json!({ "contactId": id, "phone": "+905321234567", "email": "ayse@example.com" }))
            .await;
    assert_eq!(
        r.body["data"]["updateContact"]["success"], true,
        "its own phone and e-mail"
    );
    for (input, code, words) in [
        (
            json!({ "contactId": id }),
            400,
            "invalid input: nothing to update",
        ),
        (
            json!({ "contactId": id, "firstName": null }),
            422,
            "firstName is required",
        ),
        (
            json!({ "contactId": id, "firstName": "" }),
            422,
            "firstName is required",
        ),
        (
            json!({ "contactId": "nope", "firstName": "X" }),
            404,
            "Contact not found",
        ),
    ] {
        let (got, message) = refused(&update(input.clone()).await, "updateContact");
        assert_eq!(
            (got, message.starts_with(words)),
            (code, true),
            "{input}: {message}"
        );
    }
    // Another contact may not take the phone.
    let other = create(json!({ "firstName": "B", "phone": "+905321234568" })).await;
    let other = other.body["data"]["createContact"]["data"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, message) = refused(
        &update(json!({ "contactId": other, "phone": "+905321234567" })).await,
        "updateContact",
    );
    assert_eq!(code, 409, "{message}");

    // The phone filter is an exact match.
    let r = h
        .gql(t, "query L($input: GetContactListInput) { getContactList(input: $input) { success data { totalDocs docs { _id } } } }",
            json!({ "input": { "phone": "+905321234567" } }))
        .await;
    assert_eq!(
        r.body["data"]["getContactList"]["data"]["totalDocs"], 1,
        "{}",
        r.body
    );
    assert_eq!(
        r.body["data"]["getContactList"]["data"]["docs"][0]["_id"],
        id.as_str()
    );

    // Deleting keeps the index whole: every other contact is still found.
    let r = h
        .gql(t, "mutation D($input: DeleteContactInput!) { deleteContact(input: $input) { success code data } }",
            json!({ "input": { "contactId": id } }))
        .await;
    assert_eq!(
        r.body["data"]["deleteContact"]["data"],
        id.as_str(),
        "{}",
        r.body
    );
    assert!(control.contact(&id).is_none());
    assert!(control.contact(&other).is_some());
    assert_eq!(control.contact_count(), before + 1);
    {
        let world = super::lock(&control.shared.world);
        assert_eq!(world.contact_idx.len(), world.contacts.len());
        for (i, c) in world.contacts.iter().enumerate() {
            assert_eq!(world.contact_idx.get(&c.id), Some(&i));
        }
    }
    h.sandbox.shutdown().await;
}
