//! The DM Champ sandbox over real HTTP: shapes, statuses and state changes.

use serde_json::{Value, json};

use super::*;

struct Harness {
    sandbox: DmChampSandbox,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Harness {
        let sandbox = DmChampSandbox::start(
            "127.0.0.1:0".parse().expect("addr"),
            DmChampSandboxOptions {
                contacts: 40,
                rate_limit: 100_000,
                ..DmChampSandboxOptions::default()
            },
        )
        .await
        .expect("sandbox starts");
        Harness {
            sandbox,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> reqwest::Url {
        let mut url =
            reqwest::Url::parse(&format!("{}{path}", self.sandbox.base_url())).expect("url");
        url.query_pairs_mut().append_pair("apiKey", DEMO_API_KEY);
        for (k, v) in query {
            url.query_pairs_mut().append_pair(k, v);
        }
        url
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path, query));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answered");
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, query, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, &[], Some(body))
            .await
    }
}

fn message(body: &Value) -> &str {
    body["message"]
        .as_str()
        .or(body["error"].as_str())
        .unwrap_or("")
}

#[tokio::test]
async fn the_key_is_required_on_every_request() {
    let h = Harness::start().await;
    let url = format!("{}/tags?apiKey=wrong", h.sandbox.base_url());
    let r = h.http.get(url).send().await.expect("answered");
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.expect("json");
    assert!(body["error"].as_str().unwrap_or("").contains("API key"));
    let url = format!("{}/tags", h.sandbox.base_url());
    let r = h.http.get(url).send().await.expect("answered");
    assert_eq!(r.status().as_u16(), 401);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn contacts_are_found_by_phone_or_email_and_only_the_id_comes_back() {
    let h = Harness::start().await;
    let control = h.sandbox.control();
    let seeded = control.sample_contacts(40, None);
    let one = seeded
        .iter()
        .find(|c| c.email.is_some())
        .expect("one with e-mail");
    let phone = one.phone.as_deref().expect("phone");
    let (status, body) = h.get("/contacts", &[("phoneNumber", phone)]).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "success": true, "contactId": one.id }));
    let email = one.email.as_deref().expect("email").to_uppercase();
    let (status, body) = h.get("/contacts", &[("email", &email)]).await;
    assert_eq!(
        (status, body["contactId"].as_str()),
        (200, Some(one.id.as_str()))
    );
    // A `+` decoded as a space finds nothing.
    let raw = format!(
        "{}/contacts?apiKey={DEMO_API_KEY}&phoneNumber={phone}",
        h.sandbox.base_url()
    );
    let r = h.http.get(raw).send().await.expect("answered");
    assert_eq!(r.status().as_u16(), 404);
    let (status, body) = h.get("/contacts", &[]).await;
    assert_eq!(status, 400);
    assert!(message(&body).contains("phoneNumber or email"));
    let (status, _) = h.get("/contacts", &[("phoneNumber", "+31600000000")]).await;
    assert_eq!(status, 404);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn create_applies_defaults_lists_atomically_and_refuses_duplicates() {
    let h = Harness::start().await;
    let control = h.sandbox.control();
    let (lists, denied) = control.list_ids();
    let (status, body) = h
        .post(
            "/contacts",
            json!({ "phoneNumber": "+31612345678", "listIds": [lists[0]], "is_bot_active": false }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["message"], "Successfully created new contact");
    let id = body["data"]["contactId"].as_str().expect("id").to_string();
    let made = control.contact(&id).expect("stored");
    assert_eq!(
        (made.first_name.as_str(), made.last_name.as_str()),
        ("Unknown", "Unknown")
    );
    assert_eq!(made.email, "unknown@unknown.com");
    assert!(!made.is_bot_active && !made.do_not_disturb);
    assert_eq!(made.lists, vec![lists[0].clone()]);

    let (status, body) = h
        .post("/contacts", json!({ "phoneNumber": "+31612345678" }))
        .await;
    assert_eq!((status, message(&body)), (409, "Contact already exists"));

    let before = control.contact_count();
    let (status, _) = h
        .post(
            "/contacts",
            json!({ "phoneNumber": "+31612345679", "listIds": [lists[0], denied[0]] }),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = h
        .post(
            "/contacts",
            json!({ "phoneNumber": "+31612345679", "listId": "lst_nope" }),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        control.contact_count(),
        before,
        "a refused list creates nothing"
    );
    for bad in [
        json!({ "firstName": "No phone" }),
        json!({ "phoneNumber": "0612345678" }),
        json!({ "phoneNumber": "+31612345670", "email": "not-an-address" }),
        json!({ "phoneNumber": "+31612345670", "is_bot_active": "yes" }),
        json!([1, 2]),
    ] {
        let (status, body) = h.post("/contacts", bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert!(message(&body).starts_with("Invalid request"), "{body}");
    }
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn update_changes_only_the_fields_sent() {
    let h = Harness::start().await;
    let control = h.sandbox.control();
    let one = &control.sample_contacts(1, None)[0];
    let before = control.contact(&one.id).expect("seeded");
    let (status, body) = h
        .call(
            reqwest::Method::PUT,
            &format!("/contacts/{}", one.id),
            &[],
            Some(json!({ "lastName": "Bakker", "do_not_disturb": true })),
        )
        .await;
    assert_eq!(
        (status, message(&body)),
        (200, "Contact updated successfully")
    );
    let after = control.contact(&one.id).expect("kept");
    assert_eq!(after.last_name, "Bakker");
    assert!(after.do_not_disturb);
    assert_eq!(after.first_name, before.first_name);
    assert_eq!(after.email, before.email);
    let (status, _) = h
        .call(
            reqwest::Method::PUT,
            "/contacts/c_nope",
            &[],
            Some(json!({ "firstName": "X" })),
        )
        .await;
    assert_eq!(status, 404);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn lists_tags_messages_and_templates() {
    let h = Harness::start().await;
    let control = h.sandbox.control();
    let one = control.sample_contacts(1, Some("whatsapp"))[0].clone();
    let (lists, denied) = control.list_ids();
    let body = json!({ "contactId": one.id, "listId": lists[1] });
    let (status, answer) = h.post("/contacts/lists", body.clone()).await;
    assert_eq!(status, 200);
    assert!(message(&answer).starts_with("Contact successfully added to list"));
    assert!(
        control
            .contact(&one.id)
            .expect("c")
            .lists
            .contains(&lists[1])
    );
    let (status, _) = h
        .call(reqwest::Method::DELETE, "/contacts/lists", &[], Some(body))
        .await;
    assert_eq!(status, 200);
    assert!(
        !control
            .contact(&one.id)
            .expect("c")
            .lists
            .contains(&lists[1])
    );
    let (status, _) = h
        .post("/contacts/lists", json!({ "contactId": one.id }))
        .await;
    assert_eq!(status, 400);
    let (status, _) = h
        .post(
            "/contacts/lists",
            json!({ "contactId": one.id, "listId": denied[0] }),
        )
        .await;
    assert_eq!(status, 403);

    let digits = one.phone.as_deref().expect("phone").trim_start_matches('+');
    let (status, _) = h
        .call(
            reqwest::Method::POST,
            "/tags",
            &[("tag", "brand-new"), ("phoneNumber", digits)],
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, tags) = h.get(&format!("/contacts/tags/{}", one.id), &[]).await;
    assert_eq!(status, 200);
    assert!(
        tags.as_array()
            .expect("bare array")
            .iter()
            .any(|t| t["name"] == "brand-new")
    );
    let (_, all) = h.get("/tags", &[]).await;
    assert!(
        all.as_array()
            .expect("bare array")
            .iter()
            .any(|t| t["name"] == "brand-new")
    );
    let with_plus = one.phone.as_deref().expect("phone");
    let (status, _) = h
        .call(
            reqwest::Method::POST,
            "/tags",
            &[("tag", "x"), ("phoneNumber", with_plus)],
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = h
        .call(reqwest::Method::POST, "/tags", &[("tag", "x")], None)
        .await;
    assert_eq!(status, 400);
    let (status, _) = h.get("/contacts/tags/", &[]).await;
    assert_eq!(status, 400);
    let (status, _) = h.get("/contacts/tags/c_nope", &[]).await;
    assert_eq!(status, 404);

    let (status, listed) = h.get(&format!("/contacts/messages/{}", one.id), &[]).await;
    assert_eq!(status, 200);
    let items = listed["data"].as_array().expect("wrapped");
    assert_eq!(items.len(), control.messages(&one.id).len());
    assert!(items[0]["createdAt"].as_str().expect("time").ends_with('Z'));
    control.set_bare_message_list(true);
    let (_, bare) = h.get(&format!("/contacts/messages/{}", one.id), &[]).await;
    assert_eq!(bare.as_array().map(Vec::len), Some(items.len()));

    let (status, templates) = h.get("/whatsapp-templates", &[]).await;
    assert_eq!(status, 200);
    let approved = control
        .templates()
        .into_iter()
        .find(|t| t.status == "approved")
        .expect("one");
    assert!(
        templates["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|t| t["id"] == approved.id)
    );
    let send = json!({ "contactId": one.id, "whatsappTemplateId": approved.id });
    let (status, answer) = h.post("/whatsapp-templates/send", send.clone()).await;
    assert_eq!(
        (status, answer["data"].as_str()),
        (200, Some("WhatsApp template message sent successfully"))
    );
    assert_eq!(control.template_sends().len(), 1);
    control.set_whatsapp_sender_configured(false);
    let (status, answer) = h.post("/whatsapp-templates/send", send).await;
    assert_eq!(
        (status, message(&answer)),
        (403, "Twilio credentials not found")
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn custom_channel_sends_reach_the_contact_or_create_it() {
    let h = Harness::start().await;
    let control = h.sandbox.control();
    let one = control.sample_contacts(1, Some("custom"))[0].clone();
    let (status, answer) = h
        .post(
            "/send-custom-channel-message",
            json!({ "customChannel": one.custom_channel, "externalId": one.external_id, "message": "In stock." }),
        )
        .await;
    assert_eq!(status, 200);
    assert!(answer["messageId"].is_string());
    let last = control.messages(&one.id).pop().expect("stored");
    assert_eq!(
        (last.direction.as_str(), last.content.as_str()),
        ("outbound", "In stock.")
    );
    let before = control.contact_count();
    let (status, _) = h
        .post(
            "/send-custom-channel-message",
            json!({ "customChannel": "shop-01", "externalId": "visitor-new", "message": "Hi" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(control.contact_count(), before + 1);
    let (status, _) = h
        .post(
            "/send-custom-channel-message",
            json!({ "customChannel": "shop-01" }),
        )
        .await;
    assert_eq!(status, 400);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_server_errors_answer_500_then_stop() {
    let h = Harness::start().await;
    h.sandbox.control().fail_next_with_server_error(1);
    let (status, body) = h.get("/tags", &[]).await;
    assert_eq!((status, message(&body)), (500, "Internal server error"));
    let (status, _) = h.get("/tags", &[]).await;
    assert_eq!(status, 200);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_shared_layer_limits_fails_and_counts_with_dm_champ_bodies() {
    let h = Harness::start().await;
    let control = h.sandbox.control();
    control.fail_next(1);
    let (status, body) = h.get("/tags", &[]).await;
    assert_eq!((status, body["success"].as_bool()), (503, Some(false)));
    control.set_rate_limit(1, Duration::from_secs(60));
    let (status, _) = h.get("/tags", &[]).await;
    assert_eq!(status, 200);
    let (status, body) = h.get("/tags", &[]).await;
    assert_eq!(status, 429);
    assert!(message(&body).contains("Too many requests"));
    let stats = control.stats();
    assert_eq!(
        (stats.requests, stats.rate_limited, stats.unavailable),
        (3, 1, 1)
    );
    assert_eq!(stats.routes.get("GET /v1/tags"), Some(&3));
    control.set_rate_limit(1000, Duration::from_secs(60));
    control.set_lose_answer_rate(1.0);
    let (status, body) = h
        .post("/contacts", json!({ "phoneNumber": "+31612340000" }))
        .await;
    assert_eq!((status, message(&body)), (500, "Internal server error"));
    assert!(
        control.contact_id_by_phone("+31612340000").is_some(),
        "stored all the same"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn live_traffic_adds_customer_messages() {
    let sandbox = DmChampSandbox::start(
        "127.0.0.1:0".parse().expect("addr"),
        DmChampSandboxOptions {
            contacts: 3,
            live: true,
            live_interval: Duration::from_millis(50),
            ..DmChampSandboxOptions::default()
        },
    )
    .await
    .expect("starts");
    let control = sandbox.control();
    let ids: Vec<String> = control
        .sample_contacts(3, None)
        .into_iter()
        .map(|c| c.id)
        .collect();
    let count = |ids: &[String]| {
        ids.iter()
            .map(|id| control.messages(id).len())
            .sum::<usize>()
    };
    let before = count(&ids);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count(&ids) == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no live message arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let newest = ids
        .iter()
        .filter_map(|id| {
            control
                .messages(id)
                .into_iter()
                .rev()
                .find(|m| m.direction == "inbound")
        })
        .count();
    assert!(newest > 0);
    sandbox.shutdown().await;
}

impl Harness {
    async fn steer(&self, patch: Value) -> (u16, Value) {
        let url = self.sandbox.base_url().replace("/v1", "/__sandbox/faults");
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
}

#[tokio::test]
async fn token_switches_are_no_ops_and_rejected_keys_answer_401() {
    let h = Harness::start().await;
    let (status, state) = h
        .steer(json!({ "expire_tokens": true, "revoke_tokens": true }))
        .await;
    assert_eq!(status, 200);
    assert!(
        state["tokens"]
            .as_str()
            .is_some_and(|t| t.contains("no tokens"))
    );
    assert_eq!(h.get("/tags", &[]).await.0, 200);
    h.steer(json!({ "reject_credentials": true })).await;
    let (status, body) = h.get("/tags", &[]).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("API key"))
    );
    h.steer(json!({ "reject_credentials": false })).await;
    assert_eq!(h.get("/tags", &[]).await.0, 200);
    let served = h.sandbox.control().stats().faults_served;
    assert_eq!(served.get("reject_credentials"), Some(&1));
    assert_eq!(served.get("expire_tokens"), None);
}

#[tokio::test]
async fn wrong_types_and_malformed_answers_in_dm_champ_lists() {
    let h = Harness::start().await;
    h.steer(json!({ "wrong_type_every": 2 })).await;
    let (status, templates) = h.get("/whatsapp-templates", &[]).await;
    assert_eq!(status, 200);
    let rows = templates["data"].as_array().expect("rows");
    let odd = |row: &Value| {
        row.as_object()
            .is_some_and(|m| m.values().any(|v| *v == json!(12345) || *v == json!(true)))
    };
    assert!(
        rows.len() >= 2 && !odd(&rows[0]) && odd(&rows[1]),
        "{rows:?}"
    );
    h.steer(json!({ "reset": true, "malformed_json_next": 1 }))
        .await;
    let resp = h
        .http
        .get(h.url("/tags", &[]))
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.expect("whole body");
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
    let served = h.sandbox.control().stats().faults_served;
    assert_eq!(
        (served.get("wrong_type"), served.get("malformed_json")),
        (Some(&1), Some(&1))
    );
}
