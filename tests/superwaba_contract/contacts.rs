//! Contacts and templates.

use termdesk::api::superwaba::{SuperWabaClient, SuperWabaOptions};
use termdesk::api::{BulkRowOutcome, Provider};
use termdesk::domain::{
    ContactId, ContactQuery, ContactUpdate, ConversationId, MessageKind, OutgoingTemplate,
    Recipient, Tag, TagId, TemplateId, TemplateParam, TemplateValues,
};

use super::{client, options, rejected, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_list_get_create_and_update() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let page = client
        .list_contacts(&ContactQuery {
            limit: 25,
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 25);
    assert_eq!(page.total, Some(60));
    let known = page.items[0].clone();
    let got = client.get_contact(&known.id).await.unwrap();
    assert_eq!(got.phone, known.phone);
    let by_phone = client
        .list_contacts(&ContactQuery {
            limit: 10,
            phone: known.phone.clone(),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(by_phone.items.len(), 1);

    let made = client
        .create_contact(&ContactUpdate {
            first_name: Some("Layla".into()),
            last_name: Some(Some("Nasser".into())),
            phone: Some(Some("+971502468013".into())),
            email: Some(Some("layla@example.net".into())),
            country: Some(Some("AE".into())),
            tags: Some(vec![Tag {
                id: TagId::new("lead"),
                name: "lead".into(),
                color: None,
            }]),
            phone_usage_permission: Some(true),
            ..ContactUpdate::default()
        })
        .await
        .unwrap();
    assert_eq!(made.first_name, "Layla Nasser");
    assert_eq!(made.phone_country_code.as_deref(), Some("971"));
    assert_eq!(made.phone_usage_permission, Some(true));
    let state = sandbox.contact(made.id.as_str()).unwrap();
    assert_eq!((state.source.as_str(), state.opted_in), ("api", true));
    assert_eq!(state.tags, ["lead"]);

    let after = client
        .update_contact(
            &made.id,
            &ContactUpdate {
                last_name: Some(Some("N.".into())),
                email: Some(None),
                phone_usage_permission: Some(false),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(after.first_name, "Layla Nasser N.");
    let state = sandbox.contact(made.id.as_str()).unwrap();
    assert_eq!(
        (state.name.as_str(), state.email.as_deref(), state.opted_in),
        ("Layla Nasser N.", None, false)
    );

    let requests = sandbox.stats().requests;
    let (_, phone) = rejected(
        client
            .update_contact(
                &made.id,
                &ContactUpdate {
                    phone: Some(Some("+971500000000".into())),
                    ..ContactUpdate::default()
                },
            )
            .await,
    );
    assert!(phone.contains("phone"), "{phone}");
    let (_, gender) = rejected(
        client
            .update_contact(
                &made.id,
                &ContactUpdate {
                    gender: Some(Some("female".into())),
                    ..ContactUpdate::default()
                },
            )
            .await,
    );
    assert!(gender.contains("gender"), "{gender}");
    assert_eq!(sandbox.stats().requests, requests, "refused without asking");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_contacts_row_by_row() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let existing = sandbox
        .conversation_state(&sandbox.conversation_ids()[0])
        .unwrap()
        .contact_id;
    let existing_phone = sandbox.contact(&existing).unwrap().phone;
    let row = |name: &str, phone: &str| ContactUpdate {
        first_name: Some(name.into()),
        phone: Some(Some(phone.into())),
        ..ContactUpdate::default()
    };
    let outcomes = client
        .import_contacts(&[
            row("Omar Saleh", "+971500000101"),
            row("Returning", &existing_phone),
            row("No phone", ""),
            row("Bad phone", "12345"),
            row("Rana Haddad", "+971500000102"),
        ])
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 5);
    match &outcomes[0] {
        BulkRowOutcome::Created(c) => {
            assert_eq!(c.first_name, "Omar Saleh");
            assert_eq!(
                sandbox.contact_id_by_phone("+971500000101").as_deref(),
                Some(c.id.as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    match &outcomes[1] {
        BulkRowOutcome::Updated(c) => assert_eq!(c.id.as_str(), existing),
        other => panic!("{other:?}"),
    }
    assert_eq!(sandbox.contact(&existing).unwrap().name, "Returning");
    assert!(
        matches!(&outcomes[2], BulkRowOutcome::Failed(why) if why.contains("phone")),
        "{:?}",
        outcomes[2]
    );
    assert!(
        matches!(&outcomes[3], BulkRowOutcome::Failed(why) if why.contains("E.164")),
        "{:?}",
        outcomes[3]
    );
    assert!(matches!(&outcomes[4], BulkRowOutcome::Created(_)));
    assert_eq!(
        sandbox
            .stats()
            .routes
            .get("POST /api/whatsapp/contacts/bulk"),
        Some(&1)
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_and_sends_templates() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let templates = client.list_templates().await.unwrap();
    let order = templates
        .iter()
        .find(|t| t.name == "order_update" && t.language == "en")
        .expect("order_update");
    assert_eq!(order.header.as_deref(), Some("Order {{1}}"));
    assert!(order.buttons.iter().any(|b| b.url.is_some()));
    let conversation = sandbox.conversation_ids()[3].clone();
    let values = TemplateValues {
        header_text: Some("A-2291".into()),
        body: ["Layla", "A-2291", "out for delivery"]
            .iter()
            .enumerate()
            .map(|(i, v)| TemplateParam {
                key: (i + 1).to_string(),
                value: v.to_string(),
            })
            .collect(),
        buttons: vec![(0, "A-2291".into())],
        ..TemplateValues::default()
    };
    let sent = client
        .send_template(&OutgoingTemplate {
            client_id: "tpl-1".into(),
            recipient: Recipient::Conversation(ConversationId(conversation.clone())),
            channel_id: None,
            template_id: order.id.clone(),
            template_name: "order_update".into(),
            language: "en".into(),
            values: values.clone(),
        })
        .await
        .unwrap();
    assert_eq!(sent.conversation_id.as_str(), conversation);
    assert_eq!(sent.kind, MessageKind::Template);
    assert_eq!(sent.client_id.as_deref(), Some("tpl-1"));
    assert!(sent.text.contains("out for delivery"), "{}", sent.text);
    let stored = sandbox.messages(&conversation).pop().unwrap();
    assert_eq!(stored.id, sent.id.0);

    // To a contact: the message lands in the contact's conversation.
    let contact = sandbox
        .conversation_state(&conversation)
        .unwrap()
        .contact_id;
    let to_contact = client
        .send_template(&OutgoingTemplate {
            client_id: "tpl-2".into(),
            recipient: Recipient::Contact(ContactId(contact)),
            channel_id: None,
            template_id: TemplateId::new("x"),
            template_name: "order_update".into(),
            language: "en".into(),
            values,
        })
        .await
        .unwrap();
    assert_eq!(to_contact.conversation_id.as_str(), conversation);

    let (code, wrong) = rejected(
        client
            .send_template(&OutgoingTemplate {
                client_id: "tpl-3".into(),
                recipient: Recipient::Conversation(ConversationId(conversation.clone())),
                channel_id: None,
                template_id: TemplateId::new("x"),
                template_name: "order_update".into(),
                language: "en".into(),
                values: TemplateValues::default(),
            })
            .await,
    );
    assert_eq!(code, Some(400));
    assert!(wrong.contains("body parameters"), "{wrong}");

    let keyless = SuperWabaClient::new(SuperWabaOptions {
        api_key: None,
        ..options(&sandbox)
    })
    .unwrap();
    let missing = keyless.list_templates().await.unwrap_err().to_string();
    assert!(missing.contains("Developer API key"), "{missing}");
    sandbox.shutdown().await;
}
