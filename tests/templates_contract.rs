//! Contract tests for WhatsApp templates and the reply window: the Qpien
//! client (and raw GraphQL where the client has no call) against the
//! sandbox over real HTTP.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::{Value, json};
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{
    Ack, ChannelId, ContactUpdate, ConversationId, Message, MessageId, MessageKind, MessageQuery,
    OutgoingTemplate, OutgoingText, Recipient, Template, TemplateParam, TemplateStatus,
    TemplateValues,
};
use termdesk::sandbox::{Sandbox, SandboxOptions};
use termdesk::template_text;

const TR_NUMBER: &str = "+908503330000";

async fn start(live: bool) -> Sandbox {
    Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            conversations: 40,
            rate_limit: 100_000,
            live,
            // Acknowledgements progress; no customer writes during a test.
            live_interval: Duration::from_secs(3600),
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn client(sandbox: &Sandbox) -> QpienClient {
    let mut config = QpienConfig::new(
        sandbox.base_url(),
        "demo",
        SecretString::from("demo".to_string()),
    );
    // The sandbox allows far more than the real API; polling needs it.
    config.requests_per_minute = 100_000;
    QpienClient::new(config).expect("client builds")
}

fn rejected(error: &ApiError) -> (Option<i64>, String) {
    match error {
        ApiError::Rejected { code, message } => (*code, message.clone()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn find<'a>(templates: &'a [Template], name: &str, language: &str) -> &'a Template {
    templates
        .iter()
        .find(|t| t.name == name && t.language == language)
        .unwrap_or_else(|| panic!("seeded template {name} ({language})"))
}

/// The WhatsApp number of the Turkish templates and conversations.
async fn tr_number(client: &QpienClient) -> ChannelId {
    client
        .list_channels()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.address.as_deref() == Some(TR_NUMBER))
        .expect("seeded TR number")
        .id
}

/// A conversation on `number`; with `open`, one whose window is open (a
/// customer message is added if none is).
fn conversation_on(sandbox: &Sandbox, number: &ChannelId, open: bool) -> ConversationId {
    let on_number: Vec<_> = sandbox
        .whatsapp_conversations()
        .into_iter()
        .filter(|c| c.channel_id == number.as_str())
        .collect();
    let pick = on_number
        .iter()
        .find(|c| c.window_open == open)
        .or_else(|| on_number.first())
        .expect("a conversation on the number")
        .id
        .clone();
    if open {
        sandbox.inject_incoming_message(&pick, "Merhaba, bir sorum var");
    } else {
        assert!(sandbox.close_whatsapp_window(&pick));
    }
    assert_eq!(sandbox.whatsapp_window_open(&pick), Some(open));
    ConversationId::new(pick)
}

fn values(template: &Template, filled: &[&str]) -> TemplateValues {
    let slots = template_text::slots(template);
    let filled: Vec<String> = filled.iter().map(|v| v.to_string()).collect();
    template_text::values(template, &slots, &filled)
}

fn outgoing(
    template: &Template,
    recipient: Recipient,
    channel: &ChannelId,
    values: TemplateValues,
) -> OutgoingTemplate {
    OutgoingTemplate {
        client_id: uuid::Uuid::new_v4().to_string(),
        recipient,
        channel_id: Some(channel.clone()),
        template_id: template.id.clone(),
        template_name: template.name.clone(),
        language: template.language.clone(),
        values,
    }
}

async fn newest(client: &QpienClient, conversation: &ConversationId) -> Vec<Message> {
    client
        .list_messages(&MessageQuery {
            conversation_id: conversation.clone(),
            before: None,
            after: None,
            limit: 10,
        })
        .await
        .unwrap()
        .items
}

/// Waits (30 s at most) until the server has settled the message's
/// delivery (anything but pending or sent), watching its state in
/// process, then reads it once through the client.
async fn settled(
    sandbox: &Sandbox,
    client: &QpienClient,
    conversation: &str,
    id: &MessageId,
) -> Message {
    let control = sandbox.control();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ack = control
            .messages(conversation)
            .into_iter()
            .find(|m| m.id == id.as_str())
            .and_then(|m| m.ack_status);
        if !matches!(ack.as_deref(), None | Some("PENDING") | Some("SENT")) {
            return client.get_message(id).await.unwrap();
        }
        assert!(Instant::now() < deadline, "message {id} still {ack:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_of_every_status_with_their_parts() {
    let sandbox = start(false).await;
    let client = client(&sandbox);
    let templates = client.list_templates().await.unwrap();
    assert_eq!(templates.len(), sandbox.templates().len(), "every status");
    for status in [
        TemplateStatus::Approved,
        TemplateStatus::Pending,
        TemplateStatus::Rejected,
        TemplateStatus::Paused,
        TemplateStatus::Disabled,
    ] {
        assert!(templates.iter().any(|t| t.status == status), "{status:?}");
    }
    let named = find(&templates, "order_confirmation", "en");
    assert_eq!(
        template_text::keys(&named.body),
        ["first_name", "order_id"],
        "named placeholders"
    );
    let sale = find(&templates, "summer_sale", "tr");
    assert_eq!(sale.header_format.as_deref(), Some("IMAGE"));
    assert!(sale.has_media_header());
    assert_eq!(
        find(&templates, "invoice_ready", "en")
            .header_format
            .as_deref(),
        Some("DOCUMENT")
    );
    let shipped = find(&templates, "order_shipped", "tr");
    assert_eq!(shipped.header_format.as_deref(), Some("TEXT"));
    assert_eq!(shipped.header.as_deref(), Some("Sipariş {{1}}"));
    assert_eq!(
        shipped.buttons[0].url.as_deref(),
        Some("https://shop.example/t/{{1}}")
    );
    let rejected = find(&templates, "back_in_stock", "ar");
    assert_eq!(rejected.status, TemplateStatus::Rejected);
    assert!(
        rejected
            .rejected_reason
            .as_deref()
            .is_some_and(|r| r.contains("excessive punctuation"))
    );
    assert!(templates.iter().all(|t| t.channel_id.is_some()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_lands_in_the_thread_rendered() {
    let sandbox = start(false).await;
    let client = client(&sandbox);
    let templates = client.list_templates().await.unwrap();
    let number = tr_number(&client).await;
    let conversation = conversation_on(&sandbox, &number, false);
    let template = find(&templates, "order_shipped", "tr");
    let values = values(template, &["A-1042", "Deniz", "A-1042", "Cuma", "A-1042"]);
    let message = outgoing(
        template,
        Recipient::Conversation(conversation.clone()),
        &number,
        values.clone(),
    );
    let sent = client.send_template(&message).await.expect("sent");
    assert_eq!(sent.conversation_id, conversation);
    assert_eq!(sent.kind, MessageKind::Template);
    assert_eq!(sent.client_id.as_deref(), Some(message.client_id.as_str()));
    let rendered = template_text::rendered(template, &values);
    assert!(
        rendered.starts_with("Sipariş A-1042\nMerhaba Deniz"),
        "{rendered}"
    );
    assert_eq!(sent.text, rendered);

    let thread = newest(&client, &conversation).await;
    let found = thread
        .iter()
        .find(|m| m.client_id.as_deref() == Some(message.client_id.as_str()))
        .expect("in the thread");
    assert_eq!(found.id, sent.id);
    assert_eq!(found.kind, MessageKind::Template);
    assert_eq!(found.text, rendered);

    // Named placeholders go by name; a media header with its kind, which a
    // client that never listed the templates looks up first.
    let named = find(&templates, "order_confirmation", "tr");
    let mut values = TemplateValues {
        body: vec![
            TemplateParam {
                key: "order_id".into(),
                value: "A-7".into(),
            },
            TemplateParam {
                key: "first_name".into(),
                value: "Ayşe".into(),
            },
        ],
        ..TemplateValues::default()
    };
    values.buttons = vec![(0, "A-7".into())];
    let sent = client
        .send_template(&outgoing(
            named,
            Recipient::Conversation(conversation.clone()),
            &number,
            values,
        ))
        .await
        .expect("named values");
    assert!(
        sent.text.starts_with("Merhaba Ayşe, A-7 numaralı"),
        "{}",
        sent.text
    );
    let sale = find(&templates, "summer_sale", "tr");
    let sent = client
        .send_template(&outgoing(
            sale,
            Recipient::Conversation(conversation.clone()),
            &number,
            self::values(sale, &["https://cdn.example/sale.jpg", "Elif", "40"]),
        ))
        .await
        .expect("media header");
    assert!(
        sent.text
            .starts_with("[image] https://cdn.example/sale.jpg\nMerhaba Elif"),
        "{}",
        sent.text
    );
    // A document whose address says nothing of its kind: the header format
    // travels with the values, so a client that never listed the
    // templates sends it right.
    let fresh = self::client(&sandbox);
    let invoice = find(&templates, "invoice_ready", "en");
    let contact = client
        .get_conversation(&conversation)
        .await
        .unwrap()
        .contact_id
        .expect("a contact");
    let lists = || {
        sandbox
            .stats()
            .operations
            .get("getWhatsappBusinessTemplateList")
            .copied()
            .unwrap_or(0)
    };
    let listed = lists();
    let sent = fresh
        .send_template(&outgoing(
            invoice,
            Recipient::Contact(contact),
            invoice.channel_id.as_ref().expect("its number"),
            self::values(
                invoice,
                &[
                    "https://files.example/inv/2209",
                    "Oliver",
                    "INV-2209",
                    "£120.00",
                ],
            ),
        ))
        .await
        .expect("document header");
    assert!(
        sent.text
            .starts_with("[document] https://files.example/inv/2209"),
        "{}",
        sent.text
    );
    assert_eq!(
        lists(),
        listed,
        "the values carry the header's kind: nothing is looked up"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_without_a_conversation_gets_one() {
    let sandbox = start(false).await;
    let client = client(&sandbox);
    let templates = client.list_templates().await.unwrap();
    let number = tr_number(&client).await;
    let contact = client
        .create_contact(&ContactUpdate {
            first_name: Some("Ayşe".into()),
            phone: Some(Some("+905321234567".into())),
            ..ContactUpdate::default()
        })
        .await
        .expect("created");
    assert!(
        sandbox
            .conversations_of_contact(contact.id.as_str())
            .is_empty()
    );
    let template = find(&templates, "login_code", "tr");
    let sent = client
        .send_template(&outgoing(
            template,
            Recipient::Contact(contact.id.clone()),
            &number,
            values(template, &["482913"]),
        ))
        .await
        .expect("sent");
    assert_eq!(
        sandbox.conversations_of_contact(contact.id.as_str()),
        [sent.conversation_id.to_string()],
        "a new conversation"
    );
    let conversation = client
        .get_conversation(&sent.conversation_id)
        .await
        .unwrap();
    assert_eq!(conversation.contact_id.as_ref(), Some(&contact.id));
    assert_eq!(conversation.reply_channel_id.as_ref(), Some(&number));
    let thread = newest(&client, &sent.conversation_id).await;
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].kind, MessageKind::Template);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsendable_templates_and_missing_values_are_refused() {
    let sandbox = start(false).await;
    let client = client(&sandbox);
    let templates = client.list_templates().await.unwrap();
    let number = tr_number(&client).await;
    let conversation = conversation_on(&sandbox, &number, true);
    let (_, _, before) = sandbox.counts();

    let pending = find(&templates, "welcome_offer", "tr");
    let error = client
        .send_template(&outgoing(
            pending,
            Recipient::Conversation(conversation.clone()),
            &number,
            values(
                pending,
                &["https://cdn.example/x.jpg", "Elif", "15", "HOSGELDIN15"],
            ),
        ))
        .await
        .unwrap_err();
    let (_, message) = rejected(&error);
    assert!(message.contains("PENDING"), "{message}");

    let template = find(&templates, "order_shipped", "tr");
    let mut partial = values(template, &["A-1042", "Deniz", "A-1042", "Cuma", "A-1042"]);
    partial.body.pop();
    partial.buttons.clear();
    let error = client
        .send_template(&outgoing(
            template,
            Recipient::Conversation(conversation.clone()),
            &number,
            partial,
        ))
        .await
        .unwrap_err();
    let (code, message) = rejected(&error);
    assert_eq!(code, Some(132000));
    assert!(
        message.contains("Number of parameters does not match the expected number of params")
            && message.contains("body {{3}}")
            && message.contains("button 0 {{1}}"),
        "{message}"
    );

    let mut no_number = outgoing(
        template,
        Recipient::Conversation(conversation.clone()),
        &number,
        TemplateValues::default(),
    );
    no_number.channel_id = None;
    let (_, message) = rejected(&client.send_template(&no_number).await.unwrap_err());
    assert_eq!(message, "no WhatsApp number to send from");
    let (_, _, after) = sandbox.counts();
    assert_eq!(after, before, "nothing stored");
    sandbox.shutdown().await;
}

/// A raw `createMessageByWhatsapp`, as no client call makes it.
async fn create_by_whatsapp(sandbox: &Sandbox, input: Value) -> Value {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(sandbox.base_url())
        .json(&json!({
            "query": "mutation { generateOAuthToken(input: {clientId: \"demo\", clientSecret: \"demo\"}) { data { accessToken } } }"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["data"]["generateOAuthToken"]["data"]["accessToken"]
        .as_str()
        .expect("token")
        .to_string();
    let answer: Value = http
        .post(sandbox.base_url())
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation W($input: CreateMessageByWhatsappInput!) { createMessageByWhatsapp(input: $input) { success code message data { _id conversation ackStatus frontMsgId } } }",
            "variables": { "input": input }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"]["createMessageByWhatsapp"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_outside_the_window_fails_and_templates_do_not() {
    let sandbox = start(true).await;
    let client = client(&sandbox);
    let number = tr_number(&client).await;
    let conversation = conversation_on(&sandbox, &number, false);

    // createMessage, through the client.
    let sent = client
        .send_text(&OutgoingText {
            conversation_id: conversation.clone(),
            client_id: uuid::Uuid::new_v4().to_string(),
            text: "Merhaba, siparişiniz hazır.".into(),
            channel_id: None,
        })
        .await
        .expect("accepted");
    let settled_text = settled(&sandbox, &client, conversation.as_str(), &sent.id).await;
    assert_eq!(settled_text.ack, Ack::Failed);
    assert!(
        settled_text
            .failed_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("131047")),
        "{:?}",
        settled_text.failed_reason
    );

    // createMessageByWhatsapp, the same rule.
    let answer = create_by_whatsapp(
        &sandbox,
        json!({ "channelId": number.as_str(), "conversationId": conversation.as_str(), "content": "Merhaba?" }),
    )
    .await;
    assert_eq!(answer["success"], true, "{answer}");
    let id = MessageId::new(answer["data"]["_id"].as_str().expect("id"));
    let settled_free = settled(&sandbox, &client, conversation.as_str(), &id).await;
    assert_eq!(settled_free.ack, Ack::Failed);
    assert!(
        settled_free
            .failed_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("131047"))
    );

    // To a phone that never wrote: no window at all.
    let answer = create_by_whatsapp(
        &sandbox,
        json!({ "channelId": number.as_str(), "phone": "+905550001122", "content": "Merhaba" }),
    )
    .await;
    assert_eq!(answer["success"], true, "{answer}");
    let id = MessageId::new(answer["data"]["_id"].as_str().expect("id"));
    let started = answer["data"]["conversation"]
        .as_str()
        .expect("conversation");
    assert!(
        settled(&sandbox, &client, started, &id)
            .await
            .failed_reason
            .is_some_and(|r| r.starts_with("131047"))
    );

    // A template goes out whatever the window.
    let templates = client.list_templates().await.unwrap();
    let template = find(&templates, "login_code", "tr");
    let sent = client
        .send_template(&outgoing(
            template,
            Recipient::Conversation(conversation.clone()),
            &number,
            values(template, &["482913"]),
        ))
        .await
        .expect("sent");
    let settled_template = settled(&sandbox, &client, conversation.as_str(), &sent.id).await;
    assert!(
        !settled_template
            .failed_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("131047")),
        "{:?}",
        settled_template.failed_reason
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_inside_the_window_goes_out() {
    let sandbox = start(true).await;
    let client = client(&sandbox);
    let number = tr_number(&client).await;
    let conversation = conversation_on(&sandbox, &number, true);
    let front = uuid::Uuid::new_v4().to_string();
    let answer = create_by_whatsapp(
        &sandbox,
        json!({ "channelId": number.as_str(), "conversationId": conversation.as_str(),
                "content": "Tabii, yardımcı olayım.", "frontMsgId": front }),
    )
    .await;
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["data"]["conversation"], conversation.as_str());
    assert_eq!(answer["data"]["frontMsgId"], front.as_str());
    let id = MessageId::new(answer["data"]["_id"].as_str().expect("id"));
    let message = settled(&sandbox, &client, conversation.as_str(), &id).await;
    assert!(
        !message
            .failed_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("131047")),
        "{:?}",
        message.failed_reason
    );
    assert_eq!(message.text, "Tabii, yardımcı olayım.");
    assert_eq!(
        sandbox.messages_with_front_msg_id(conversation.as_str(), &front),
        1
    );
    sandbox.shutdown().await;
}
