//! Template sends and free-form WhatsApp messages over real HTTP with raw
//! JSON: the shortcuts form, refusals, de-duplication, lost answers and
//! the steering endpoint.

use serde_json::{Value, json};

use super::tests::Harness;
use super::{Sandbox, SandboxOptions};

const SEND_TEMPLATE: &str = r#"mutation S($input: SendWhatsappTemplateMessageInput!) {
  sendWhatsappTemplateMessage(input: $input) {
    success code message
    data { conversationId contactId message { _id conversation messageType senderType channelType content frontMsgId ackStatus } }
  }
}"#;

const SEND_WHATSAPP: &str = r#"mutation W($input: CreateMessageByWhatsappInput!) {
  createMessageByWhatsapp(input: $input) {
    success code message
    data { _id conversation messageType senderType content frontMsgId ackStatus }
  }
}"#;

fn options() -> SandboxOptions {
    SandboxOptions {
        conversations: 40,
        rate_limit: 100_000,
        ..SandboxOptions::default()
    }
}

/// Platform id of the connected platform with this phone number.
async fn platform(h: &Harness, token: &str, phone: &str) -> String {
    let r = h
        .gql(
            Some(token),
            "{ getAllConnectedPlatformList { data { _id phoneNumber channelType } } }",
            json!({}),
        )
        .await;
    r.body["data"]["getAllConnectedPlatformList"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["phoneNumber"] == phone)
        .and_then(|p| p["_id"].as_str())
        .expect("seeded WhatsApp number")
        .to_string()
}

async fn instagram(h: &Harness, token: &str) -> String {
    let r = h
        .gql(
            Some(token),
            "{ getAllConnectedPlatformList { data { _id channelType } } }",
            json!({}),
        )
        .await;
    r.body["data"]["getAllConnectedPlatformList"]["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["channelType"] == "INSTAGRAM")
        .and_then(|p| p["_id"].as_str())
        .expect("seeded Instagram account")
        .to_string()
}

const TR_NUMBER: &str = "+908503330000";

async fn send(h: &Harness, token: &str, input: Value) -> Value {
    let r = h
        .gql(Some(token), SEND_TEMPLATE, json!({ "input": input }))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"]["sendWhatsappTemplateMessage"].clone()
}

fn tr_conversation(sandbox: &Sandbox, channel: &str) -> String {
    sandbox
        .whatsapp_conversations()
        .into_iter()
        .find(|c| c.channel_id == channel)
        .expect("a conversation on the TR number")
        .id
}

#[tokio::test]
async fn the_shortcuts_fill_a_template_sent_to_a_new_phone() {
    let h = Harness::start(options()).await;
    let token = h.token().await;
    let channel = platform(&h, &token, TR_NUMBER).await;
    let before = h.sandbox.contact_count();
    let input = json!({
        "channelId": channel, "templateName": "order_shipped", "language": "tr",
        "phone": "+905551112233", "headerText": "A-1042",
        "bodyParameters": ["Deniz", "A-1042", "Cuma"],
        "components": null,
        "frontMsgId": "f-1"
    });
    // The URL button's value is missing: the shortcuts have no field for it.
    let refused = send(&h, &token, input.clone()).await;
    assert_eq!(refused["success"], false, "{refused}");
    assert_eq!(refused["code"], 132000);
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing button 0 {{1}}")),
        "{refused}"
    );
    assert_eq!(h.sandbox.contact_count(), before, "nothing stored");

    let mut full = input;
    full["components"] = json!([
        {"type": "HEADER", "parameters": [{"type": "TEXT", "text": "A-1042"}]},
        {"type": "BODY", "parameters": [
            {"type": "TEXT", "text": "Deniz"}, {"type": "TEXT", "text": "A-1042"}, {"type": "TEXT", "text": "Cuma"}]},
        {"type": "BUTTONS", "index": 0, "parameters": [{"type": "TEXT", "text": "A-1042"}]}
    ]);
    let ok = send(&h, &token, full.clone()).await;
    assert_eq!(ok["success"], true, "{ok}");
    let data = &ok["data"];
    let message = &data["message"];
    assert_eq!(message["messageType"], "TEMPLATE");
    assert_eq!(message["senderType"], "AGENT");
    assert_eq!(message["channelType"], "WHATSAPP");
    assert_eq!(message["frontMsgId"], "f-1");
    assert_eq!(
        message["content"],
        "Sipariş A-1042\nMerhaba Deniz, A-1042 numaralı siparişiniz bugün depomuzdan çıktı. \
         Tahmini teslimat: Cuma.\nÇıkmak için DUR yazın\n[Kargo takibi] [Temsilciye bağlan]"
    );
    let conversation = data["conversationId"].as_str().expect("conversation");
    assert_eq!(message["conversation"], conversation);
    let contact = data["contactId"].as_str().expect("contact");
    assert_eq!(
        h.sandbox.contact_count(),
        before + 1,
        "the phone became a contact"
    );
    assert_eq!(
        h.sandbox.contact_id_by_phone("+905551112233").as_deref(),
        Some(contact)
    );
    assert_eq!(h.sandbox.conversations_of_contact(contact), [conversation]);
    assert_eq!(h.sandbox.whatsapp_window_open(conversation), Some(false));

    // The same frontMsgId again: the first message back, no copy.
    let again = send(&h, &token, full).await;
    assert_eq!(again["data"]["message"]["_id"], message["_id"]);
    assert_eq!(h.sandbox.count_messages_with_front_id("f-1"), 1);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn refusals_name_the_reason() {
    let h = Harness::start(options()).await;
    let token = h.token().await;
    let channel = platform(&h, &token, TR_NUMBER).await;
    let conversation = tr_conversation(&h.sandbox, &channel);
    let (_, _, messages_before) = h.sandbox.counts();
    let refusal = |v: &Value| {
        assert_eq!(v["success"], false, "{v}");
        (
            v["code"].as_i64().unwrap_or_default(),
            v["message"].as_str().unwrap_or_default().to_string(),
        )
    };
    let base = json!({ "channelId": channel, "conversationId": conversation });
    let with = |extra: Value| {
        let mut input = base.clone();
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            input[k] = v;
        }
        input
    };

    // Only approved templates go out; each refusal says why.
    for (name, language, expected_code, says) in [
        ("welcome_offer", "tr", 422, &["PENDING"][..]),
        ("cart_reminder", "en", 132015, &["PAUSED"][..]),
        (
            "back_in_stock",
            "ar",
            422,
            &["REJECTED", "excessive punctuation"][..],
        ),
    ] {
        let (code, message) = refusal(
            &send(
                &h,
                &token,
                with(json!({"templateName": name, "language": language})),
            )
            .await,
        );
        assert_eq!(code, expected_code, "{name}: {message}");
        for word in says {
            assert!(message.contains(word), "{name}: {message}");
        }
    }
    let (code, message) = refusal(
        &send(
            &h,
            &token,
            with(json!({"templateName": "no_such_template", "language": "tr"})),
        )
        .await,
    );
    assert_eq!((code, message.as_str()), (404, "Template not found"));
    let (code, _) =
        refusal(&send(&h, &token, with(json!({"templateName": "order_shipped"}))).await);
    assert_eq!(code, 400, "a name needs its language");

    // A media header needs its URL; a named template its named values.
    let (code, message) = refusal(
        &send(
            &h,
            &token,
            with(json!({"templateName": "summer_sale", "language": "tr", "bodyParameters": ["Elif", "40"]})),
        )
        .await,
    );
    assert_eq!(code, 132000);
    assert!(message.contains("header image URL"), "{message}");
    let ok = send(
        &h,
        &token,
        with(json!({"templateName": "summer_sale", "language": "tr",
            "headerMedia": {"type": "IMAGE", "url": "https://cdn.example/sale.jpg"},
            "bodyParameters": ["Elif", "40"]})),
    )
    .await;
    assert_eq!(ok["success"], true, "{ok}");
    assert!(
        ok["data"]["message"]["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("[image] https://cdn.example/sale.jpg\nMerhaba Elif")),
        "{ok}"
    );
    let named = send(
        &h,
        &token,
        with(
            json!({"templateName": "order_confirmation", "language": "tr", "components": [
                {"type": "BODY", "parameters": [
                    {"type": "TEXT", "parameterName": "order_id", "text": "A-7"},
                    {"type": "TEXT", "parameterName": "first_name", "text": "Ayşe"}]},
                {"type": "BUTTONS", "index": 0, "parameters": [{"type": "TEXT", "text": "A-7"}]}
            ]}),
        ),
    )
    .await;
    assert_eq!(named["success"], true, "{named}");
    assert!(
        named["data"]["message"]["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("Merhaba Ayşe, A-7 numaralı")),
        "{named}"
    );

    // Only connected WhatsApp numbers send, and only to their conversations.
    let ig = instagram(&h, &token).await;
    let mut input =
        with(json!({"templateName": "login_code", "language": "tr", "bodyParameters": ["123456"]}));
    input["channelId"] = json!(ig);
    let (code, message) = refusal(&send(&h, &token, input).await);
    assert_eq!(code, 400);
    assert!(message.contains("not a WhatsApp number"), "{message}");
    let other = platform(&h, &token, "+447700900123").await;
    let mut input =
        with(json!({"templateName": "login_code", "language": "tr", "bodyParameters": ["123456"]}));
    input["channelId"] = json!(other);
    let (_, message) = refusal(&send(&h, &token, input).await);
    assert_eq!(message, "channel is not linked to this conversation");
    let (_, _, messages_after) = h.sandbox.counts();
    assert_eq!(
        messages_after,
        messages_before + 2,
        "only the two good sends"
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_lost_answer_still_stores_the_template() {
    let h = Harness::start(options()).await;
    let token = h.token().await;
    let channel = platform(&h, &token, TR_NUMBER).await;
    let conversation = tr_conversation(&h.sandbox, &channel);
    h.sandbox.set_lose_answer_rate(1.0);
    let input = json!({ "input": {
        "channelId": channel, "conversationId": conversation,
        "templateName": "login_code", "language": "tr", "bodyParameters": ["482913"],
        "frontMsgId": "lost-1" } });
    let r = h.gql(Some(&token), SEND_TEMPLATE, input.clone()).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        h.sandbox
            .messages_with_front_msg_id(&conversation, "lost-1"),
        1
    );
    h.sandbox.set_lose_answer_rate(0.0);
    let r = h.gql(Some(&token), SEND_TEMPLATE, input).await;
    assert_eq!(
        r.body["data"]["sendWhatsappTemplateMessage"]["success"],
        true
    );
    assert_eq!(
        h.sandbox
            .messages_with_front_msg_id(&conversation, "lost-1"),
        1
    );
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn free_form_whatsapp_reaches_conversations_contacts_and_phones() {
    let h = Harness::start(options()).await;
    let token = h.token().await;
    let channel = platform(&h, &token, TR_NUMBER).await;
    let conversation = tr_conversation(&h.sandbox, &channel);
    let send = |input: Value| {
        let h = &h;
        let token = token.clone();
        async move {
            let r = h
                .gql(Some(&token), SEND_WHATSAPP, json!({ "input": input }))
                .await;
            r.body["data"]["createMessageByWhatsapp"].clone()
        }
    };
    let ok = send(json!({"channelId": channel, "conversationId": conversation, "content": "Merhaba!", "frontMsgId": "w-1"})).await;
    assert_eq!(ok["success"], true, "{ok}");
    assert_eq!(ok["data"]["conversation"], conversation.as_str());
    assert_eq!(ok["data"]["messageType"], "TEXT");
    assert_eq!(ok["data"]["frontMsgId"], "w-1");

    let ok =
        send(json!({"channelId": channel, "phone": "+905559998877", "content": "Selam"})).await;
    assert_eq!(ok["success"], true, "{ok}");
    let new_conversation = ok["data"]["conversation"].as_str().expect("conversation");
    assert_ne!(new_conversation, conversation);
    assert_eq!(
        h.sandbox.whatsapp_window_open(new_conversation),
        Some(false),
        "a customer who never wrote has no window"
    );

    let refused = send(json!({"channelId": channel, "conversationId": conversation})).await;
    assert_eq!(refused["message"], "content or media is required");
    let refused = send(json!({"channelId": channel, "content": "x"})).await;
    assert_eq!(refused["code"], 400);
    let refused = send(json!({"channelId": channel, "phone": "05551234567", "content": "x"})).await;
    assert_eq!(refused["code"], 422);
    h.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_steering_endpoint_changes_templates_and_windows() {
    let h = Harness::start(options()).await;
    let token = h.token().await;
    let channel = platform(&h, &token, TR_NUMBER).await;
    let open = h
        .sandbox
        .whatsapp_conversations()
        .into_iter()
        .find(|c| c.window_open && c.channel_id == channel);
    let faults = h.url.replace("/api/v1", "/__sandbox/faults");
    let post = |body: Value| {
        let http = h.http.clone();
        let faults = faults.clone();
        async move {
            http.post(&faults)
                .json(&body)
                .send()
                .await
                .expect("sent")
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        post(json!({"template_status": {"name": "welcome_offer", "language": "tr", "status": "APPROVED"}})).await,
        200
    );
    assert!(
        h.sandbox
            .templates()
            .iter()
            .any(|t| t.name == "welcome_offer" && t.status == "APPROVED")
    );
    assert_eq!(
        post(json!({"template_status": {"name": "nope", "language": "tr", "status": "APPROVED"}}))
            .await,
        400
    );
    if let Some(open) = open {
        assert_eq!(post(json!({"close_whatsapp_window": open.id})).await, 200);
        assert_eq!(h.sandbox.whatsapp_window_open(&open.id), Some(false));
    }
    assert_eq!(post(json!({"close_whatsapp_window": "nope"})).await, 400);
    h.sandbox.shutdown().await;
}
