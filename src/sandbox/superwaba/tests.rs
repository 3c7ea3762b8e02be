//! The SuperWaba sandbox over real HTTP with raw JSON.

use serde_json::{Value, json};

use super::*;

struct H {
    sandbox: SuperWabaSandbox,
    http: reqwest::Client,
    token: String,
}

struct Reply {
    status: u16,
    body: Value,
}

async fn start(options: SuperWabaSandboxOptions) -> H {
    let sandbox = SuperWabaSandbox::start("127.0.0.1:0".parse().expect("addr"), options)
        .await
        .expect("starts");
    let http = reqwest::Client::new();
    let mut h = H {
        sandbox,
        http,
        token: String::new(),
    };
    let grant = h
        .grant(
            "password",
            json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(grant.status, 200, "{}", grant.body);
    h.token = grant.body["access_token"].as_str().expect("token").into();
    h
}

fn small() -> SuperWabaSandboxOptions {
    SuperWabaSandboxOptions {
        conversations: 30,
        contacts: 40,
        ..SuperWabaSandboxOptions::default()
    }
}

impl H {
    async fn grant(&self, grant_type: &str, body: Value) -> Reply {
        let resp = self
            .http
            .post(format!(
                "{}/auth/v1/token?grant_type={grant_type}",
                self.sandbox.supabase_url()
            ))
            .header("apikey", DEMO_ANON_KEY)
            .json(&body)
            .send()
            .await
            .expect("answers");
        reply(resp).await
    }

    async fn session(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .header("x-org-id", DEMO_ORG_ID)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.expect("answers")).await
    }

    async fn get(&self, path: &str) -> Reply {
        self.session(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.session(reqwest::Method::POST, path, Some(body)).await
    }

    async fn developer(&self, path: &str, key: &str, body: Option<Value>) -> Reply {
        let url = format!("{}/v1{path}", self.sandbox.developer_base_url());
        let req = match body {
            Some(body) => self.http.post(url).json(&body),
            None => self.http.get(url),
        };
        reply(req.header("x-api-key", key).send().await.expect("answers")).await
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Reply { status, body }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_expired_access_is_refused() {
    let h = start(small()).await;
    let first = h
        .grant(
            "password",
            json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(first.body["user"]["id"], DEMO_USER_ID);
    let refresh = first.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let second = h
        .grant("refresh_token", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(second.status, 200);
    assert_ne!(second.body["refresh_token"], first.body["refresh_token"]);
    // The used one is gone.
    let again = h
        .grant("refresh_token", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(
        (again.status, again.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let wrong = h
        .grant(
            "password",
            json!({ "email": DEMO_EMAIL, "password": "nope" }),
        )
        .await;
    assert_eq!(wrong.body["error_description"], "Invalid login credentials");

    assert_eq!(h.get("/whatsapp/conversations").await.status, 200);
    h.sandbox.expire_access_tokens();
    let expired = h.get("/whatsapp/conversations").await;
    assert_eq!(
        (expired.status, expired.body["message"].as_str()),
        (401, Some("Unauthorized"))
    );
    assert_eq!(h.sandbox.refresh_grants(), 1);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn contacts_follow_the_references_shapes() {
    let h = start(small()).await;
    let page = h
        .get("/whatsapp/contacts?limit=5&sortBy=name&sortOrder=asc")
        .await;
    assert_eq!(page.body["success"], true);
    let rows = page.body["data"]["contacts"].as_array().expect("rows");
    assert_eq!(rows.len(), 5);
    assert_eq!(page.body["data"]["total"], 40);
    assert_eq!(page.body["data"]["hasNext"], true);
    assert!(rows[0].get("vendorContactId").is_none());
    assert_eq!(h.get("/whatsapp/contacts?limit=101").await.status, 400);

    let id = rows[0]["id"].as_str().expect("id");
    let one = h.get(&format!("/whatsapp/contacts/{id}")).await;
    let vendor = one.body["data"]["vendorContactId"]
        .as_str()
        .expect("vendor id");
    let by_vendor = h.get(&format!("/whatsapp/contacts/{vendor}")).await;
    assert_eq!(by_vendor.body["data"]["id"], id);
    let missing = h.get("/whatsapp/contacts/contact_nope").await;
    assert_eq!(
        (missing.status, missing.body["error"].as_str()),
        (404, Some("Contact not found"))
    );

    let made = h
        .post(
            "/whatsapp/contacts",
            json!({ "userNumber": "+971502468013", "userName": "Layla Nasser", "countryCode": "AE" }),
        )
        .await;
    assert_eq!(made.status, 201);
    assert_eq!(
        (
            made.body["data"]["source"].as_str(),
            made.body["data"]["optedIn"].as_bool()
        ),
        (Some("api"), Some(false))
    );
    let twice = h
        .post(
            "/whatsapp/contacts",
            json!({ "userNumber": "+971502468013" }),
        )
        .await;
    assert_eq!(twice.status, 409);
    let no_phone = h
        .post("/whatsapp/contacts", json!({ "userName": "X" }))
        .await;
    assert_eq!(
        no_phone.body["error"],
        "Phone number (userNumber) is required"
    );

    let new_id = made.body["data"]["id"].as_str().expect("id");
    let patched = h
        .session(
            reqwest::Method::PATCH,
            &format!("/whatsapp/contacts/{new_id}"),
            Some(json!({ "name": "Layla N.", "opted_in": true, "phone": "+1" })),
        )
        .await;
    assert_eq!(patched.body["data"]["opted_in"], true);
    assert_eq!(patched.body["data"]["phone"], "+971502468013");
    let nothing = h
        .session(
            reqwest::Method::PATCH,
            &format!("/whatsapp/contacts/{new_id}"),
            Some(json!({ "phone": "+1" })),
        )
        .await;
    assert_eq!(
        (nothing.status, nothing.body["error"].as_str()),
        (400, Some("No valid fields to update"))
    );

    let bulk = h
        .post(
            "/whatsapp/contacts/bulk",
            json!({ "contacts": [
                { "userNumber": "+971500000101", "userName": "Omar" },
                { "userNumber": "+971502468013" },
                { "userName": "no phone" } ] }),
        )
        .await;
    assert_eq!(bulk.body["success"], true);
    assert_eq!(
        (
            bulk.body["data"]["imported"].as_u64(),
            bulk.body["data"]["skipped"].as_u64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(bulk.body["data"]["errors"][0]["index"], 1);
    assert_eq!(bulk.body["data"]["errors"][1]["index"], 2);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn conversations_messages_and_templates() {
    let h = start(small()).await;
    let open = h.get("/whatsapp/conversations?status=open&limit=100").await;
    let rows = open.body["data"]["conversations"]
        .as_array()
        .expect("rows")
        .clone();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|c| c["status"] == "open"));
    assert_eq!(
        h.get("/whatsapp/conversations?status=nope").await.status,
        400
    );
    let me = h
        .get(&format!(
            "/whatsapp/conversations?assignee={DEMO_USER_ID}&limit=100"
        ))
        .await;
    assert!(
        me.body["data"]["conversations"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|c| c["assigneeId"] == DEMO_USER_ID)
    );

    let id = h.sandbox.conversation_ids()[0].clone();
    let messages = h
        .get(&format!("/whatsapp/messages?conversationId={id}&limit=2"))
        .await;
    assert!(
        messages.body.get("success").is_none(),
        "documented without wrapper"
    );
    let data = messages.body["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    let older = h
        .get(&format!(
            "/whatsapp/messages?conversationId={id}&limit=100&before={}",
            data[0]["id"].as_str().unwrap_or_default()
        ))
        .await;
    let total = messages.body["total"].as_u64().unwrap_or(0) as usize;
    assert_eq!(older.body["data"].as_array().map(Vec::len), Some(total - 2));

    assert_eq!(h.sandbox.window_open(&id), Some(true));
    let sent = h
        .post("/whatsapp/messages", json!({ "conversationId": id, "type": "text", "content": { "text": "On its way" }, "clientMessageId": "c-1" }))
        .await;
    assert_eq!(sent.body["data"]["clientMessageId"], "c-1");
    assert_eq!(
        h.sandbox
            .messages(&id)
            .last()
            .map(|m| m.text.clone())
            .as_deref(),
        Some("On its way")
    );

    let closed = h
        .post(&format!("/whatsapp/conversations/{id}/close"), json!({}))
        .await;
    assert_eq!(closed.body["data"]["status"], "closed");
    let assigned = h
        .post(
            &format!("/whatsapp/conversations/{id}/assign"),
            json!({ "assigneeId": null }),
        )
        .await;
    assert_eq!(assigned.body["data"]["assigneeId"], Value::Null);
    assert_eq!(
        h.post(
            &format!("/whatsapp/conversations/{id}/assign"),
            json!({ "assigneeId": "user_x" })
        )
        .await
        .status,
        400
    );

    let refused = h.developer("/templates", "sgk_wrong", None).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (401, Some("INVALID_API_KEY"))
    );
    let templates = h.developer("/templates", DEMO_API_KEY, None).await;
    assert!(
        templates.body["data"]["templates"]
            .as_array()
            .expect("list")
            .iter()
            .all(|t| t["status"] == "APPROVED")
    );
    let contact = h.sandbox.conversation_state(&id).expect("state").contact_id;
    let phone = h.sandbox.contact(&contact).expect("contact").phone;
    let send = json!({ "to": phone.trim_start_matches('+'), "type": "template",
        "template": { "name": "welcome_back", "language": { "code": "en" },
            "components": [ { "type": "body", "parameters": [ { "type": "text", "text": "Layla" } ] } ] },
        "biz_opaque_callback_data": "c-2" });
    let sent = h
        .developer("/send-message", DEMO_API_KEY, Some(send.clone()))
        .await;
    assert_eq!(sent.body["data"]["status"], "sent", "{}", sent.body);
    let last = h.sandbox.messages(&id).last().cloned().expect("stored");
    assert_eq!(
        (last.kind.as_str(), last.client_message_id.as_deref()),
        ("template", Some("c-2"))
    );
    assert_eq!(
        sent.body["data"]["messageId"].as_str(),
        Some(last.wa_message_id.as_str())
    );
    h.sandbox.set_monthly_events(Some(0));
    let capped = h.developer("/send-message", DEMO_API_KEY, Some(send)).await;
    assert_eq!(
        (capped.status, capped.body["code"].as_str()),
        (429, Some("API_LIMIT_REACHED"))
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_session_api_is_rate_limited_and_guarded_by_org() {
    let h = start(SuperWabaSandboxOptions {
        rate_limit: 2,
        ..small()
    })
    .await;
    assert_eq!(h.get("/whatsapp/conversations").await.status, 200);
    assert_eq!(h.get("/whatsapp/conversations").await.status, 200);
    let limited = h.get("/whatsapp/conversations").await;
    assert_eq!(
        (limited.status, limited.body["message"].as_str()),
        (429, Some("Rate limit exceeded"))
    );
    // Templates are not counted against the session limit.
    assert_eq!(
        h.developer("/templates", DEMO_API_KEY, None).await.status,
        200
    );
    h.sandbox
        .set_rate_limit(100, std::time::Duration::from_secs(60));
    let other_org = h
        .http
        .get(format!("{}/whatsapp/conversations", h.sandbox.base_url()))
        .header("x-org-id", "another-org")
        .bearer_auth(&h.token)
        .send()
        .await
        .expect("answers");
    assert_eq!(other_org.status().as_u16(), 403);
    let stats = h.sandbox.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.routes.get("POST /auth/v1/token"), Some(&1));
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn live_traffic_and_the_control_route() {
    let h = start(SuperWabaSandboxOptions {
        live: true,
        live_interval: std::time::Duration::from_millis(50),
        ..small()
    })
    .await;
    let before: usize = h
        .sandbox
        .conversation_ids()
        .iter()
        .map(|id| h.sandbox.messages(id).len())
        .sum();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now: usize = h
            .sandbox
            .conversation_ids()
            .iter()
            .map(|id| h.sandbox.messages(id).len())
            .sum();
        if now > before {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no live message");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let id = h.sandbox.conversation_ids()[0].clone();
    let control = format!("{}/__sandbox/superwaba", h.sandbox.supabase_url());
    let resp: Value = h
        .http
        .post(&control)
        .json(
            &json!({ "inject_message": { "conversation_id": id, "text": "Still there?" },
            "expire_access_tokens": true, "monthly_events": 3 }),
        )
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let injected = resp["injected_message_id"].as_str().expect("an id");
    assert!(
        h.sandbox
            .messages(&id)
            .iter()
            .any(|m| m.id == injected && m.text == "Still there?")
    );
    assert_eq!(h.get("/whatsapp/conversations").await.status, 401);
    let typo = h
        .http
        .post(&control)
        .json(&json!({ "expire_tokens": true }))
        .send()
        .await
        .expect("answers");
    assert_eq!(typo.status().as_u16(), 400);
    h.sandbox.shutdown().await;
}

impl H {
    async fn steer(&self, patch: Value) -> Reply {
        let resp = self
            .http
            .post(format!("{}/__sandbox/faults", self.sandbox.supabase_url()))
            .json(&patch)
            .send()
            .await
            .expect("control answers");
        reply(resp).await
    }

    fn served(&self, kind: &str) -> u64 {
        self.sandbox
            .stats()
            .faults_served
            .get(kind)
            .copied()
            .unwrap_or(0)
    }

    async fn sign_in(&self) -> Reply {
        self.grant(
            "password",
            json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }),
        )
        .await
    }
}

#[tokio::test]
async fn token_switches_revoke_everything_and_refuse_the_password() {
    let h = start(small()).await;
    let refresh = h.sign_in().await.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    assert_eq!(h.steer(json!({ "revoke_tokens": true })).await.status, 200);
    assert_eq!(h.get("/whatsapp/conversations").await.status, 401);
    let refused = h
        .grant("refresh_token", json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The password grant still works.
    assert_eq!(h.sign_in().await.status, 200);

    assert_eq!(
        h.steer(json!({ "reject_credentials": true })).await.status,
        200
    );
    let rejected = h.sign_in().await;
    assert_eq!(
        (rejected.status, rejected.body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    h.steer(json!({ "reject_credentials": false })).await;
    let fresh = h.sign_in().await;
    assert_eq!(fresh.status, 200);

    let token = fresh.body["access_token"].as_str().expect("token");
    h.steer(json!({ "expire_tokens": true })).await;
    let resp = h
        .http
        .get(format!("{}/whatsapp/conversations", h.sandbox.base_url()))
        .header("x-org-id", DEMO_ORG_ID)
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        (
            h.served("revoke_tokens"),
            h.served("reject_credentials"),
            h.served("expire_tokens")
        ),
        (1, 1, 1)
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn storms_and_wrong_types_in_superwaba_words() {
    let h = start(small()).await;
    let state = h
        .steer(json!({ "storm_next": 1, "wrong_type_every": 2 }))
        .await;
    assert_eq!(state.status, 200, "{}", state.body);
    assert!(
        state.body["tokens"]
            .as_str()
            .is_some_and(|t| t.contains("act on"))
    );
    let resp = h
        .http
        .get(format!(
            "{}/whatsapp/contacts?limit=4",
            h.sandbox.base_url()
        ))
        .header("x-org-id", DEMO_ORG_ID)
        .bearer_auth(&h.token)
        .send()
        .await
        .expect("answers");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_eq!(
        resp.headers()
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok()),
        Some("0")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["message"], "Rate limit exceeded");

    let page = h.get("/whatsapp/contacts?limit=4").await;
    let rows = page.body["data"]["contacts"].as_array().expect("rows");
    assert!(rows[0]["name"].is_string());
    assert_eq!(rows[1]["name"], 12345);
    assert_eq!(h.served("storm"), 1);
    assert_eq!(h.served("wrong_type"), 1);
    let refused = h.steer(json!({ "partial_errors_next": 1 })).await;
    assert_eq!(refused.status, 400);
    h.sandbox.shutdown().await;
}
