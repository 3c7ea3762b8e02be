//! The fault switches of the GraphQL sandbox over real HTTP.

use std::time::Duration;

use serde_json::{Value, json};

use super::fault_kit::raw;
use super::tests::{Harness, LIST, small};

const BATCH: &str = "{ a: getConversationList(input: { limit: 1 }) { success } \
                      b: getConversationList(input: { limit: 2 }) { success } }";

impl Harness {
    async fn steer(&self, patch: Value) -> (u16, Value) {
        let url = self.url.replace("/api/v1", "/__sandbox/faults");
        let resp = self
            .http
            .post(url)
            .json(&patch)
            .send()
            .await
            .expect("control answers");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    fn served(&self, kind: &str) -> u64 {
        self.sandbox
            .stats()
            .faults_served
            .get(kind)
            .copied()
            .unwrap_or(0)
    }

    async fn raw_list(&self, token: &str) -> raw::RawAnswer {
        let body = json!({ "query": LIST, "variables": {} }).to_string();
        let auth = format!("Bearer {token}");
        raw::send(
            self.sandbox.addr,
            "POST",
            "/api/v1",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
            &body,
        )
        .await
    }
}

#[tokio::test]
async fn a_storm_answers_429_with_seconds_until_reset() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let (status, body) = h.steer(json!({ "storm_next": 2 })).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..2 {
        let r = h.gql(Some(&token), LIST, json!({})).await;
        assert_eq!((r.status, r.code()), (429, Some("RATE_LIMITED")));
        assert_eq!(r.header("retry-after"), Some(2));
        assert_eq!(r.header("x-ratelimit-reset"), Some(2));
        assert_eq!(r.header("x-ratelimit-remaining"), Some(0));
        assert_eq!(r.header("x-ratelimit-limit"), Some(100));
    }
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 200);
    h.steer(json!({ "storm_next": 1, "storm_retry_after_s": 7 }))
        .await;
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some(7)));
    assert_eq!(h.served("storm"), 3);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_error_rate_answers_503_before_anything_is_done() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let conv = h.sandbox.conversation_ids()[0].clone();
    h.steer(json!({ "error_rate": 1.0 })).await;
    let send = super::tests::SEND;
    let r = h
        .gql(
            Some(&token),
            send,
            json!({ "input": { "conversationId": conv, "content": "never stored", "frontMsgId": "f-err" } }),
        )
        .await;
    assert_eq!((r.status, r.code()), (503, Some("SERVICE_UNAVAILABLE")));
    assert_eq!(h.sandbox.messages_containing(&conv, "never stored"), 0);
    assert_eq!(h.served("error_rate"), 1);
    let (_, state) = h.steer(json!({ "reset": true })).await;
    assert_eq!(state["switches"]["error_rate"], 0.0);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn malformed_truncated_and_hanging_answers() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    h.steer(json!({ "malformed_json_next": 1, "truncate_next": 1 }))
        .await;
    let malformed = h.raw_list(&token).await;
    assert_eq!(malformed.status(), 200);
    assert!(malformed.body.starts_with(br#"{"data": {"getConv"#));
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());
    let cut = h.raw_list(&token).await;
    let declared: usize = cut
        .header("content-length")
        .and_then(|n| n.parse().ok())
        .expect("declared length");
    assert!(!cut.body.is_empty() && cut.body.len() < declared);
    let whole = h.raw_list(&token).await;
    assert!(serde_json::from_slice::<Value>(&whole.body).is_ok());

    h.steer(json!({ "hang_next": 1 })).await;
    let mut resp = h
        .http
        .post(&h.url)
        .bearer_auth(&token)
        .json(&json!({ "query": LIST }))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.chunk().await.expect("first half").is_some());
    let rest = tokio::time::timeout(Duration::from_millis(300), resp.chunk()).await;
    assert!(rest.is_err(), "the body went on");
    assert_eq!(
        (
            h.served("malformed_json"),
            h.served("truncate"),
            h.served("hang")
        ),
        (1, 1, 1)
    );
    let shutdown = tokio::time::timeout(Duration::from_secs(4), h.sandbox.shutdown()).await;
    assert!(shutdown.is_ok(), "shutdown waited for the hanging answer");
    let end = tokio::time::timeout(Duration::from_secs(4), resp.chunk())
        .await
        .expect("the body ends once the server stops");
    assert!(end.is_err(), "a cut body, not a complete one");
}

#[tokio::test]
async fn partial_errors_null_the_last_alias() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    h.steer(json!({ "partial_errors_next": 1 })).await;
    let r = h.gql(Some(&token), BATCH, json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["a"]["success"], true);
    assert_eq!(r.body["data"]["b"], Value::Null);
    let err = &r.body["errors"][0];
    assert_eq!(err["path"], json!(["b"]));
    assert_eq!(err["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    assert!(err["message"].as_str().is_some_and(|m| !m.is_empty()));
    let r = h.gql(Some(&token), BATCH, json!({})).await;
    assert_eq!(r.body["data"]["b"]["success"], true);
    assert!(r.body.get("errors").is_none());
    assert_eq!(h.served("partial_errors"), 1);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn token_switches_expire_revoke_and_reject() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    h.steer(json!({ "expire_tokens": true })).await;
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.code(), Some("TOKEN_EXPIRED"));

    let token = h.token().await;
    h.steer(json!({ "revoke_tokens": true })).await;
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.code(), Some("UNAUTHORIZED"));
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("revoked"))
    );
    let fresh = h.token().await;
    assert_eq!(h.gql(Some(&fresh), LIST, json!({})).await.status, 200);

    h.steer(json!({ "reject_credentials": true })).await;
    let r = h.token_with("demo", "demo").await;
    assert_eq!(r.code(), Some("INVALID_CLIENT"));
    // Tokens already issued keep working.
    assert_eq!(h.gql(Some(&fresh), LIST, json!({})).await.status, 200);
    h.steer(json!({ "reject_credentials": false })).await;
    assert!(!h.token().await.is_empty());
    assert_eq!(
        (
            h.served("expire_tokens"),
            h.served("revoke_tokens"),
            h.served("reject_credentials")
        ),
        (1, 1, 1)
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn wrong_types_reach_contact_and_message_lists() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let (status, _) = h.steer(json!({ "wrong_type_every": 2 })).await;
    assert_eq!(status, 200);
    let r = h
        .gql(
            Some(&token),
            "{ getContactList(input: { limit: 4 }) { data { docs { _id updatedAt } } } }",
            json!({}),
        )
        .await;
    let docs = &r.body["data"]["getContactList"]["data"]["docs"];
    assert!(docs[0]["updatedAt"].is_string(), "{docs}");
    assert_eq!(docs[1]["updatedAt"], true);
    let conv = h.sandbox.conversation_ids()[0].clone();
    let r = h
        .gql(
            Some(&token),
            "query($input: GetMessagesInput!) { getMessages(input: $input) { data { docs { _id createdAt } } } }",
            json!({ "input": { "conversationId": conv, "limit": 4 } }),
        )
        .await;
    let docs = &r.body["data"]["getMessages"]["data"]["docs"];
    assert_eq!(docs[1]["updatedAt"], true, "{docs}");
    assert!(h.served("wrong_type") >= 2);
    let (status, body) = h.steer(json!({ "wrong_type_evry": 2 })).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("wrong_type_evry"))
    );
    h.sandbox.shutdown().await;
}
