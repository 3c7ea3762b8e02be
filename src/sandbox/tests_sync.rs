//! Large accounts and the faults a sync engine has to survive, over real HTTP.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::tests::{Harness, LIST, SEND};
use super::{Faults, Malformed, SandboxOptions};

const CONTACTS: &str = r#"query People($input: GetContactListInput) {
  getContactList(input: $input) {
    success code message
    data { totalDocs limit page totalPages hasNextPage nextPage docs { _id firstName lastName phone updatedAt } }
  }
}"#;

const UPDATE: &str = r#"mutation U($input: UpdateConversationInput!) {
  updateConversation(input: $input) { success code data { _id status } }
}"#;

fn sized() -> SandboxOptions {
    SandboxOptions {
        conversations: 450,
        contacts: 500,
        messages: 5_000,
        rate_limit: 100_000,
        ..SandboxOptions::default()
    }
}

/// Polls `f` until it holds, failing after a generous deadline.
async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every page of a list, in order; `field` is the root field.
async fn all_pages(h: &Harness, token: &str, query: &str, field: &str, input: Value) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut page = 1;
    loop {
        let mut input = input.clone();
        input["page"] = json!(page);
        input["limit"] = json!(100);
        let r = h.gql(Some(token), query, json!({ "input": input })).await;
        let data = &r.body["data"][field]["data"];
        assert_eq!(r.body["data"][field]["success"], true, "{}", r.body);
        let batch = data["docs"].as_array().cloned().unwrap_or_default();
        docs.extend(batch);
        let total = data["totalDocs"].as_u64().unwrap_or(0) as usize;
        if data["hasNextPage"] != true {
            assert_eq!(docs.len(), total, "hasNextPage false only on the last page");
            assert_eq!(data["nextPage"], Value::Null);
            return docs;
        }
        assert!(
            docs.len() < total,
            "hasNextPage while all {total} were served"
        );
        page += 1;
    }
}

fn ids(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .filter_map(|d| d["_id"].as_str().map(str::to_string))
        .collect()
}

fn times(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .filter_map(|d| d["updatedAt"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn large_account_lists_page_filter_and_sort() {
    let h = Harness::start(sized()).await;
    assert_eq!(h.sandbox.counts(), (450, 500, 5_000));
    let token = h.token().await;

    // Conversations: newest first by default, every one exactly once.
    let convs = all_pages(&h, &token, LIST, "getConversationList", json!({})).await;
    assert_eq!(convs.len(), 450);
    let conv_ids = ids(&convs);
    assert_eq!(conv_ids.iter().collect::<HashSet<_>>().len(), 450);
    assert_eq!(conv_ids, h.sandbox.conversation_ids());
    let t = times(&convs);
    assert!(t.windows(2).all(|w| w[0] >= w[1]), "updatedAt DESC");
    assert!(convs.iter().all(|c| c["joinedPerson"].is_string()));
    let statuses: HashSet<&str> = convs.iter().filter_map(|c| c["status"].as_str()).collect();
    assert_eq!(statuses.len(), 4, "{statuses:?}");

    // updatedAfter is "at or after", with totalDocs and hasNextPage to match.
    let cut = &t[137];
    let expected = t.iter().filter(|x| x.as_str() >= cut.as_str()).count();
    let r = h
        .gql(
            Some(&token),
            LIST,
            json!({ "input": { "updatedAfter": cut, "limit": 100 } }),
        )
        .await;
    let page = &r.body["data"]["getConversationList"]["data"];
    assert_eq!(page["totalDocs"], expected, "{}", r.body);
    assert_eq!(page["hasNextPage"], expected > 100);
    let recent = all_pages(
        &h,
        &token,
        LIST,
        "getConversationList",
        json!({ "updatedAfter": cut }),
    )
    .await;
    assert_eq!(ids(&recent), conv_ids[..expected].to_vec());
    assert_eq!(times(&recent).last(), Some(cut));

    // Contacts: updatedAt in both directions, updatedAfter inclusive.
    let asc = all_pages(
        &h,
        &token,
        CONTACTS,
        "getContactList",
        json!({ "sort": { "field": "updatedAt", "order": "ASC" } }),
    )
    .await;
    assert_eq!(asc.len(), 500);
    let at = times(&asc);
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "updatedAt ASC");
    let desc = all_pages(
        &h,
        &token,
        CONTACTS,
        "getContactList",
        json!({ "sort": { "field": "updatedAt", "order": "DESC" } }),
    )
    .await;
    let mut reversed = ids(&desc);
    reversed.reverse();
    assert_eq!(reversed, ids(&asc));
    let cut = &at[321];
    let expected: Vec<String> = asc
        .iter()
        .filter(|c| c["updatedAt"].as_str().is_some_and(|u| u >= cut.as_str()))
        .filter_map(|c| c["_id"].as_str().map(str::to_string))
        .collect();
    let since = all_pages(
        &h,
        &token,
        CONTACTS,
        "getContactList",
        json!({ "updatedAfter": cut, "sort": { "field": "updatedAt", "order": "ASC" } }),
    )
    .await;
    assert_eq!(ids(&since), expected);
    // Some contacts never wrote in.
    let writers: HashSet<&str> = convs
        .iter()
        .filter_map(|c| c["joinedPerson"].as_str())
        .collect();
    let contact_ids = ids(&asc);
    assert!(writers.iter().all(|w| contact_ids.iter().any(|c| c == w)));
    assert!(contact_ids.iter().any(|c| !writers.contains(c.as_str())));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn aliases_batch_many_fields_into_one_rate_limited_request() {
    let h = Harness::start(SandboxOptions {
        rate_limit: 5,
        ..sized()
    })
    .await;
    let token = h.token().await;
    let r = h
        .gql(Some(&token), CONTACTS, json!({ "input": { "limit": 40 } }))
        .await;
    let people = ids(r.body["data"]["getContactList"]["data"]["docs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default());
    assert_eq!(people.len(), 40);
    let mut doc = String::from("query Batch {\n");
    for (i, id) in people.iter().enumerate() {
        doc.push_str(&format!(
            "  c{i}: getContact(input: {{ contactId: \"{id}\" }}) {{ success data {{ _id firstName }} }}\n"
        ));
    }
    doc.push_str("  missing: getContact(input: { contactId: \"000000000000000000000000\" }) { success code }\n");
    for page in 1..=2 {
        doc.push_str(&format!(
            "  convs{page}: getConversationList(input: {{ page: {page}, limit: 100 }}) {{ data {{ page hasNextPage docs {{ _id }} }} }}\n"
        ));
        doc.push_str(&format!(
            "  people{page}: getContactList(input: {{ page: {page}, limit: 100, sort: {{ field: \"updatedAt\", order: ASC }} }}) {{ data {{ page docs {{ _id updatedAt }} }} }}\n"
        ));
    }
    doc.push('}');

    let before = h.sandbox.stats();
    let r = h.gql(Some(&token), &doc, json!({})).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("errors").is_none(), "{}", r.body);
    let data = &r.body["data"];
    for (i, id) in people.iter().enumerate() {
        assert_eq!(data[format!("c{i}")]["data"]["_id"], id.as_str());
    }
    assert_eq!(data["missing"]["code"], 404);
    assert_eq!(data["convs1"]["data"]["page"], 1);
    assert_eq!(data["convs2"]["data"]["page"], 2);
    let c1 = ids(data["convs1"]["data"]["docs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default());
    let c2 = ids(data["convs2"]["data"]["docs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default());
    assert_eq!((c1.len(), c2.len()), (100, 100));
    assert!(c1.iter().all(|id| !c2.contains(id)));
    assert_eq!(data["people2"]["data"]["page"], 2);

    // One HTTP request, one hit on the limiter, however many fields.
    let after = h.sandbox.stats();
    assert_eq!(after.requests, before.requests + 1);
    assert_eq!(r.header("x-ratelimit-remaining"), Some(2));
    let ran = |s: &super::SandboxStats, op: &str| s.operations.get(op).copied().unwrap_or(0);
    assert_eq!(ran(&after, "getContact") - ran(&before, "getContact"), 41);
    assert_eq!(ran(&after, "getConversationList"), 2);
    assert_eq!(
        ran(&after, "getContactList") - ran(&before, "getContactList"),
        2
    );
    assert_eq!(ran(&after, "generateOAuthToken"), 1);

    // The limit still bites: two more pass, the next is refused.
    for _ in 0..2 {
        assert_eq!(h.gql(Some(&token), &doc, json!({})).await.status, 200);
    }
    let r = h.gql(Some(&token), &doc, json!({})).await;
    assert_eq!(r.status, 429);
    let s = h.sandbox.stats();
    assert_eq!((s.requests, s.rate_limited), (before.requests + 4, 1));
    assert_eq!(ran(&s, "getContact") - ran(&before, "getContact"), 3 * 41);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn dedup_switch_stores_every_copy() {
    let h = Harness::start(SandboxOptions {
        conversations: 30,
        ..SandboxOptions::default()
    })
    .await;
    let token = h.token().await;
    let conv = h.sandbox.conversation_ids()[5].clone();
    let send = |front: &str| json!({ "input": { "conversationId": conv, "content": "Copy?", "frontMsgId": front } });

    for _ in 0..2 {
        let r = h.gql(Some(&token), SEND, send("f-1")).await;
        assert_eq!(r.body["data"]["createMessage"]["success"], true);
    }
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "f-1"), 1);

    h.sandbox.set_dedup_front_msg_id(false);
    let mut seen = HashSet::new();
    for _ in 0..3 {
        let r = h.gql(Some(&token), SEND, send("f-2")).await;
        seen.insert(r.body["data"]["createMessage"]["data"]["_id"].clone());
    }
    assert_eq!(seen.len(), 3, "a new message every time");
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "f-2"), 3);
    assert_eq!(h.sandbox.messages_with_front_msg_id("nope", "f-2"), 0);

    h.sandbox.set_dedup_front_msg_id(true);
    h.gql(Some(&token), SEND, send("f-2")).await;
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "f-2"), 3);
    h.sandbox.shutdown().await;

    // And off from the start.
    let h = Harness::start(SandboxOptions {
        conversations: 30,
        dedup_front_msg_id: false,
        ..SandboxOptions::default()
    })
    .await;
    let token = h.token().await;
    let conv = h.sandbox.conversation_ids()[0].clone();
    let input = json!({ "input": { "conversationId": conv, "content": "x", "frontMsgId": "f" } });
    h.gql(Some(&token), SEND, input.clone()).await;
    h.gql(Some(&token), SEND, input).await;
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "f"), 2);
    h.sandbox.shutdown().await;
}

/// Sends `n` messages and reports which answers were lost.
async fn lost_pattern(seed: u64, n: usize) -> Vec<bool> {
    let h = Harness::start(SandboxOptions {
        seed,
        conversations: 30,
        lose_answer_rate: 0.5,
        ..SandboxOptions::default()
    })
    .await;
    let token = h.token().await;
    let conv = h.sandbox.conversation_ids()[0].clone();
    let mut lost = Vec::new();
    for i in 0..n {
        let front = format!("p-{i}");
        let r = h
            .gql(
                Some(&token),
                SEND,
                json!({ "input": { "conversationId": conv, "content": "x", "frontMsgId": front } }),
            )
            .await;
        lost.push(r.status == 500);
        // Stored either way.
        assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, &front), 1);
    }
    assert_eq!(
        h.sandbox.stats().lost_answers,
        lost.iter().filter(|l| **l).count() as u64
    );
    h.sandbox.shutdown().await;
    lost
}

#[tokio::test]
async fn lost_answers_store_the_write_then_fail() {
    let h = Harness::start(SandboxOptions {
        conversations: 30,
        ..SandboxOptions::default()
    })
    .await;
    let token = h.token().await;
    let conv = h.sandbox.conversation_ids()[3].clone();
    let input = json!({ "input": { "conversationId": conv, "content": "Did it arrive?", "frontMsgId": "lost-1" } });

    h.sandbox.set_lose_answer_rate(1.0);
    let r = h.gql(Some(&token), SEND, input.clone()).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.code(), Some("INTERNAL_SERVER_ERROR"));
    assert!(r.header("x-ratelimit-limit").is_some());
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "lost-1"), 1);
    // Other writes lose their answer too; reads never do.
    let r = h
        .gql(
            Some(&token),
            UPDATE,
            json!({ "input": { "conversationId": conv, "status": "PENDING" } }),
        )
        .await;
    assert_eq!(r.status, 500);
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.status, 200);
    // A refused write was not stored, so it is answered.
    let r = h
        .gql(
            Some(&token),
            SEND,
            json!({ "input": { "conversationId": conv, "content": " " } }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["data"]["createMessage"]["code"].clone()),
        (200, json!(400))
    );

    // The retry finds the echo instead of storing a second copy.
    h.sandbox.set_lose_answer_rate(0.0);
    let r = h.gql(Some(&token), SEND, input).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["data"]["createMessage"]["data"]["frontMsgId"],
        "lost-1"
    );
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "lost-1"), 1);
    assert_eq!(h.sandbox.stats().lost_answers, 2);
    h.sandbox.shutdown().await;

    // The same seed loses the same answers.
    let a = lost_pattern(9, 24).await;
    assert_eq!(a, lost_pattern(9, 24).await);
    assert!(a.contains(&true) && a.contains(&false), "{a:?}");
}

#[tokio::test]
async fn one_malformed_conversation_in_list_pages() {
    let h = Harness::start(sized()).await;
    let token = h.token().await;
    let all = h.sandbox.conversation_ids();
    h.sandbox.set_faults(Faults {
        malformed_conversation_every: Some(all.len()),
        ..Faults::default()
    });
    let broken = h.sandbox.malformed_conversation_ids();
    assert_eq!(broken.len(), 1);
    let docs = all_pages(&h, &token, LIST, "getConversationList", json!({})).await;
    assert_eq!(docs.len(), all.len());
    let null_ids = docs.iter().filter(|d| d["_id"].is_null()).count();
    assert_eq!(null_ids, 1);
    let good: HashSet<String> = ids(&docs).into_iter().collect();
    let expected: HashSet<String> = all.iter().filter(|id| **id != broken[0]).cloned().collect();
    assert_eq!(good, expected);
    // Served intact by getConversation.
    let r = h
        .gql(
            Some(&token),
            "query($input: GetConversationInput!) { getConversation(input: $input) { data { _id updatedAt } } }",
            json!({ "input": { "conversationId": broken[0] } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["getConversation"]["data"]["_id"],
        broken[0].as_str()
    );

    h.sandbox.set_faults(Faults {
        malformed_conversation_every: Some(100),
        malformed: Malformed::WrongTypeUpdatedAt,
        ..Faults::default()
    });
    let broken: HashSet<String> = h.sandbox.malformed_conversation_ids().into_iter().collect();
    assert_eq!(broken.len(), 4);
    let docs = all_pages(&h, &token, LIST, "getConversationList", json!({})).await;
    for d in &docs {
        let id = d["_id"].as_str().unwrap_or_default();
        assert_eq!(d["updatedAt"] == true, broken.contains(id), "{d}");
    }
    h.sandbox.set_faults(Faults {
        malformed_conversation_every: Some(1),
        malformed: Malformed::NullUpdatedAt,
        ..Faults::default()
    });
    let r = h.gql(Some(&token), LIST, json!({})).await;
    let docs = r.body["data"]["getConversationList"]["data"]["docs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !docs.is_empty()
            && docs
                .iter()
                .all(|d| d["updatedAt"].is_null() && d["_id"].is_string())
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn offline_and_back_on_the_same_port() {
    let h = Harness::start(SandboxOptions {
        conversations: 30,
        ..SandboxOptions::default()
    })
    .await;
    let token = h.token().await;
    let ok = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(ok.status, 200);

    h.sandbox.go_offline();
    assert!(h.sandbox.is_offline());
    let requests = h.sandbox.stats().requests;
    // Both on the pooled connection and on fresh ones.
    let fresh = reqwest::Client::new();
    for client in [&h.http, &fresh, &h.http] {
        let sent = client
            .post(&h.url)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await;
        assert!(sent.is_err(), "answered while offline: {sent:?}");
    }
    assert_eq!(
        h.sandbox.stats().requests,
        requests,
        "nothing reached the API"
    );

    // The control endpoint still answers, and brings it back.
    let control = h.url.replace("/api/v1", "/__sandbox/faults");
    let r = fresh
        .post(&control)
        .json(&json!({ "offline": false }))
        .send()
        .await
        .expect("control reachable while offline");
    assert_eq!(r.status().as_u16(), 200);
    assert!(!h.sandbox.is_offline());
    let r = h.gql(Some(&token), LIST, json!({})).await;
    assert_eq!(r.status, 200);

    // A request in flight when the sandbox goes offline loses its answer.
    // Long enough that going offline surely lands while the answer is held back.
    h.sandbox.set_delay(Some(Duration::from_secs(1)));
    let before = h.sandbox.stats().requests;
    let http = h.http.clone();
    let url = h.url.clone();
    let pending = tokio::spawn(async move {
        http.post(&url)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
    });
    let sandbox = h.sandbox.control();
    wait_for("the request to arrive", || {
        sandbox.stats().requests > before
    })
    .await;
    h.sandbox.go_offline();
    let answer = pending.await.expect("task");
    assert!(answer.is_err(), "{answer:?}");
    h.sandbox.set_delay(None);
    h.sandbox.go_online();
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn runtime_controls_from_rust_and_http() {
    let h = Harness::start(SandboxOptions {
        conversations: 30,
        ..SandboxOptions::default()
    })
    .await;
    let token = h.token().await;
    let base = h.url.replace("/api/v1", "/__sandbox");
    let control = |body: Value| {
        let http = h.http.clone();
        let url = format!("{base}/faults");
        async move {
            let r = http.post(url).json(&body).send().await.expect("control");
            (r.status().as_u16(), r.json::<Value>().await.expect("JSON"))
        }
    };

    // Rate limit from Rust, then from HTTP; control calls never count.
    h.sandbox.set_rate_limit(2, Duration::from_secs(60));
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 200);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 200);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 429);
    let (status, state) = control(json!({ "rate_limit": 1000 })).await;
    assert_eq!(status, 200);
    assert_eq!(state["rate_limit"], 1000);
    assert_eq!(state["stats"]["rate_limited"], 1);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 200);

    let (_, state) = control(json!({ "fail_next": 2, "lose_answers": 1.0, "dedup": false })).await;
    assert_eq!(state["faults"]["fail_next"], 2);
    assert_eq!(state["lose_answers"], 1.0);
    assert_eq!(state["dedup"], false);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 503);
    assert_eq!(h.gql(Some(&token), LIST, json!({})).await.status, 503);
    let conv = h.sandbox.conversation_ids()[0].clone();
    let send =
        json!({ "input": { "conversationId": conv, "content": "x", "frontMsgId": "http-1" } });
    assert_eq!(h.gql(Some(&token), SEND, send.clone()).await.status, 500);
    assert_eq!(h.gql(Some(&token), SEND, send).await.status, 500);
    assert_eq!(h.sandbox.messages_with_front_msg_id(&conv, "http-1"), 2);

    let (_, state) = control(json!({ "reset": true, "lose_answers": 0, "dedup": true, "delay_ms": 5, "malformed_conversation_every": 7, "malformed": "wrong_type_updated_at" })).await;
    assert_eq!(state["faults"]["delay_ms"], 5);
    assert_eq!(state["faults"]["malformed"], "wrong_type_updated_at");
    let f = h.sandbox.faults();
    assert_eq!(f.malformed_conversation_every, Some(7));
    assert_eq!(f.delay, Some(Duration::from_millis(5)));
    let (_, state) =
        control(json!({ "delay_ms": null, "malformed_conversation_every": null })).await;
    assert_eq!(state["faults"]["delay_ms"], Value::Null);
    assert_eq!(h.sandbox.faults().malformed_conversation_every, None);

    let stats = h.sandbox.stats();
    assert_eq!(
        (
            stats.requests,
            stats.rate_limited,
            stats.unavailable,
            stats.lost_answers
        ),
        (9, 1, 2, 2)
    );
    let r = h
        .http
        .get(format!("{base}/stats"))
        .send()
        .await
        .expect("stats");
    let body: Value = r.json().await.expect("JSON");
    assert_eq!(body["stats"]["requests"], 9);
    assert_eq!(body["stats"]["operations"]["createMessage"], 2);

    // Mistakes are refused, nothing changes.
    let (status, body) = control(json!({ "fail_nxt": 1 })).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("fail_nxt"))
    );
    let (status, _) = control(json!({ "lose_answers": "often" })).await;
    assert_eq!(status, 400);
    let r = h
        .http
        .post(format!("{base}/faults"))
        .body("{")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(h.sandbox.faults().fail_next, 0);
    assert_eq!(h.sandbox.stats().requests, 9);
    h.sandbox.shutdown().await;
}
