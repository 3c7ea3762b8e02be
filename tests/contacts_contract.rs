//! Contract tests for contact writes: the Qpien client and `save_contact`
//! against the sandbox over real HTTP.

use secrecy::SecretString;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::{ApiError, Provider};
use termdesk::app::event::{ContactSaveError, ContactSaved};
use termdesk::app::save_contact::{find_by_phone, save_contact};
use termdesk::contact_fields::ContactField;
use termdesk::domain::{Contact, ContactId, ContactQuery, ContactUpdate, ConversationQuery};
use termdesk::sandbox::{Sandbox, SandboxOptions};
use termdesk::store::contact_edits::ContactOp;

const PHONE: &str = "+905321234567";

async fn start() -> Sandbox {
    Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            conversations: 40,
            rate_limit: 100_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn client(sandbox: &Sandbox) -> QpienClient {
    QpienClient::new(QpienConfig::new(
        sandbox.base_url(),
        "demo",
        SecretString::from("demo".to_string()),
    ))
    .expect("client builds")
}

fn new_contact(first_name: &str, phone: &str) -> ContactUpdate {
    ContactUpdate {
        first_name: Some(first_name.into()),
        phone: Some(Some(phone.into())),
        ..ContactUpdate::default()
    }
}

async fn create(client: &QpienClient, first_name: &str, phone: &str) -> Contact {
    client
        .create_contact(&new_contact(first_name, phone))
        .await
        .expect("created")
}

fn rejected(error: &ApiError) -> (Option<i64>, String) {
    match error {
        ApiError::Rejected { code, message } => (*code, message.clone()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_a_contact_with_its_calling_code() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let before = sandbox.contact_count();
    let fields = ContactUpdate {
        last_name: Some(Some("Kaya".into())),
        email: Some(Some("ayse.kaya@example.com".into())),
        country: Some(Some("TR".into())),
        language: Some(Some("tr".into())),
        gender: Some(Some("female".into())),
        email_usage_permission: Some(true),
        ..new_contact("Ayşe", PHONE)
    };
    let made = client.create_contact(&fields).await.expect("created");
    assert_eq!(made.first_name, "Ayşe");
    assert_eq!(made.last_name.as_deref(), Some("Kaya"));
    assert_eq!(made.phone.as_deref(), Some(PHONE));
    assert_eq!(made.phone_country_code.as_deref(), Some("90"));
    assert_eq!(made.email_usage_permission, Some(true));
    assert!(made.created_at.is_some() && made.updated_at.is_some());
    assert_eq!(sandbox.contact_count(), before + 1);
    let state = sandbox.contact(made.id.as_str()).expect("stored");
    assert_eq!(state.country.as_deref(), Some("TR"));
    assert_eq!(state.phone_country_code.as_deref(), Some("90"));
    // Read back as any client would.
    assert_eq!(client.get_contact(&made.id).await.unwrap(), made);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_change_only_what_is_sent_and_null_clears() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let made = client
        .create_contact(&ContactUpdate {
            last_name: Some(Some("Kaya".into())),
            email: Some(Some("ayse@example.com".into())),
            language: Some(Some("tr".into())),
            ..new_contact("Ayşe", PHONE)
        })
        .await
        .unwrap();
    let before = sandbox.contact(made.id.as_str()).unwrap();
    let changed = client
        .update_contact(
            &made.id,
            &ContactUpdate {
                country: Some(Some("DE".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .expect("updated");
    assert_eq!(changed.country.as_deref(), Some("DE"));
    let after = sandbox.contact(made.id.as_str()).unwrap();
    assert_eq!(after.country.as_deref(), Some("DE"));
    assert!(after.updated_at > before.updated_at, "updatedAt moves");
    assert_eq!(
        (
            &after.first_name,
            &after.last_name,
            &after.email,
            &after.phone,
            &after.language
        ),
        (
            &before.first_name,
            &before.last_name,
            &before.email,
            &before.phone,
            &before.language
        ),
        "fields not sent are untouched"
    );
    // An incremental contact sync from just after the last change sees it.
    let changed_since = client
        .list_contacts(&ContactQuery {
            limit: 100,
            updated_since: Some(before.updated_at + chrono::Duration::milliseconds(1)),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert!(changed_since.items.iter().any(|c| c.id == made.id));

    // Clearing: an explicit null.
    let cleared = client
        .update_contact(
            &made.id,
            &ContactUpdate {
                last_name: Some(None),
                email: Some(None),
                ..ContactUpdate::default()
            },
        )
        .await
        .expect("cleared");
    assert_eq!((cleared.last_name, cleared.email), (None, None));
    let state = sandbox.contact(made.id.as_str()).unwrap();
    assert_eq!((state.last_name, state.email), (None, None));
    assert_eq!(state.language.as_deref(), Some("tr"));

    // A changed phone takes its calling code along.
    let moved = client
        .update_contact(
            &made.id,
            &ContactUpdate {
                phone: Some(Some("+442071838750".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.phone_country_code.as_deref(), Some("44"));

    // An empty update changes nothing and returns the contact as it is.
    let same = client
        .update_contact(&made.id, &ContactUpdate::default())
        .await
        .unwrap();
    assert_eq!(same, moved);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_unknown_contacts_are_not_found() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let made = create(&client, "Mehmet", PHONE).await;
    let count = sandbox.contact_count();
    client.delete_contact(&made.id).await.expect("deleted");
    assert_eq!(sandbox.contact_count(), count - 1);
    assert!(sandbox.contact(made.id.as_str()).is_none());
    let err = client.get_contact(&made.id).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound(_)), "{err:?}");
    let err = client.delete_contact(&made.id).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound(_)), "{err:?}");
    let unknown = ContactId::new("ffffffffffffffffffffffff");
    let err = client.delete_contact(&unknown).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound(_)), "{err:?}");
    let err = client
        .update_contact(
            &unknown,
            &ContactUpdate {
                first_name: Some("X".into()),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound(_)), "{err:?}");
    // A contact with conversations: they stay, still pointing at its id.
    let conversation = client
        .list_conversations(&ConversationQuery {
            limit: 20,
            ..ConversationQuery::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.contact_id.is_some())
        .expect("a conversation with a contact");
    let owner = conversation.contact_id.clone().unwrap();
    client.delete_contact(&owner).await.expect("deleted");
    let after = client.get_conversation(&conversation.id).await.unwrap();
    assert_eq!(after.contact_id, Some(owner.clone()));
    let err = client.get_contact(&owner).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound(_)), "{err:?}");
    assert!(client.get_contacts(&[owner]).await.unwrap().is_empty());

    // A delete the server already did counts as done.
    let op = ContactOp::Delete {
        contact_id: made.id.clone(),
        label: "Mehmet".into(),
    };
    assert_eq!(
        save_contact(&client, &op, 1).await,
        Ok(ContactSaved::Deleted)
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_phone_is_refused_and_its_holder_found() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let first = create(&client, "Ayşe", PHONE).await;
    let count = sandbox.contact_count();

    let err = client
        .create_contact(&new_contact("Someone", PHONE))
        .await
        .unwrap_err();
    let (code, message) = rejected(&err);
    assert_eq!(code, Some(409));
    assert!(
        message.contains(PHONE) && message.contains("already exists"),
        "{message}"
    );
    assert_eq!(ContactField::named_in(&message), Some(ContactField::Phone));

    let op = ContactOp::Create {
        fields: new_contact("Someone", PHONE),
    };
    match save_contact(&client, &op, 0).await {
        Err(ContactSaveError::Duplicate(existing)) => assert_eq!(existing.id, first.id),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert_eq!(sandbox.contact_count(), count);

    // On update, another contact's phone is refused; its own is fine.
    let second = create(&client, "Ali", "+905321234568").await;
    let take = ContactUpdate {
        phone: Some(Some(PHONE.into())),
        ..ContactUpdate::default()
    };
    let (code, message) = rejected(&client.update_contact(&second.id, &take).await.unwrap_err());
    assert_eq!(code, Some(409), "{message}");
    assert_eq!(ContactField::named_in(&message), Some(ContactField::Phone));
    client
        .update_contact(&first.id, &take)
        .await
        .expect("its own phone");

    // Found by phone: exact, and nobody for a phone no one has.
    let found = find_by_phone(&client, PHONE).await.unwrap().expect("found");
    assert_eq!(found.id, first.id);
    let page = client
        .list_contacts(&ContactQuery {
            limit: 20,
            phone: Some(PHONE.into()),
            ..ContactQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(
        find_by_phone(&client, "+905329999999")
            .await
            .unwrap()
            .is_none()
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_values_are_refused_naming_the_field() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let existing = create(&client, "Ayşe", PHONE).await;
    client
        .update_contact(
            &existing.id,
            &ContactUpdate {
                email: Some(Some("ayse@example.com".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
    let count = sandbox.contact_count();
    let with = |edit: fn(&mut ContactUpdate)| {
        let mut fields = new_contact("New", "+905321234569");
        edit(&mut fields);
        fields
    };
    let cases: Vec<(ContactUpdate, ContactField)> = vec![
        (
            with(|f| f.phone = Some(Some("05321234569".into()))),
            ContactField::Phone,
        ),
        (with(|f| f.phone = Some(None)), ContactField::Phone),
        (
            with(|f| f.email = Some(Some("new@".into()))),
            ContactField::Email,
        ),
        (
            with(|f| f.email = Some(Some("AYSE@example.com".into()))),
            ContactField::Email,
        ),
        (
            with(|f| f.country = Some(Some("XX".into()))),
            ContactField::Country,
        ),
        (
            with(|f| f.language = Some(Some("en_GB".into()))),
            ContactField::Language,
        ),
        (
            with(|f| f.gender = Some(Some("robot".into()))),
            ContactField::Gender,
        ),
        (
            with(|f| f.first_name = Some("  ".into())),
            ContactField::FirstName,
        ),
    ];
    for (fields, field) in cases {
        let err = client.create_contact(&fields).await.unwrap_err();
        let (_, message) = rejected(&err);
        assert_eq!(
            ContactField::named_in(&message),
            Some(field),
            "{fields:?}: {message}"
        );
    }
    // The same rules on update; a first name cannot be cleared.
    let err = client
        .update_contact(
            &existing.id,
            &ContactUpdate {
                first_name: Some(String::new()),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        ContactField::named_in(&rejected(&err).1),
        Some(ContactField::FirstName)
    );
    let err = client
        .update_contact(
            &existing.id,
            &ContactUpdate {
                country: Some(Some("tr".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        ContactField::named_in(&rejected(&err).1),
        Some(ContactField::Country)
    );
    assert_eq!(sandbox.contact_count(), count, "nothing refused was stored");
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_an_edit_checks_the_server_copy_first() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let made = create(&client, "Ayşe", PHONE).await;
    let base = client
        .update_contact(
            &made.id,
            &ContactUpdate {
                email: Some(Some("ayse@example.com".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .unwrap();
    // Someone else changes the e-mail after editing began.
    assert!(sandbox.set_contact_email(made.id.as_str(), Some("theirs@example.com")));
    let updates = || {
        sandbox
            .stats()
            .operations
            .get("updateContact")
            .copied()
            .unwrap_or(0)
    };
    let sent = updates();
    let mine = ContactOp::Update {
        contact_id: made.id.clone(),
        base: Box::new(base.clone()),
        changes: ContactUpdate {
            email: Some(Some("mine@example.com".into())),
            ..ContactUpdate::default()
        },
    };
    match save_contact(&client, &mine, 0).await {
        Err(ContactSaveError::Conflict(server)) => {
            assert_eq!(server.email.as_deref(), Some("theirs@example.com"))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(updates(), sent, "nothing was written");
    assert_eq!(
        sandbox.contact(made.id.as_str()).unwrap().email.as_deref(),
        Some("theirs@example.com")
    );

    // A different field goes through, and leaves their e-mail alone.
    let other = ContactOp::Update {
        contact_id: made.id.clone(),
        base: Box::new(base),
        changes: ContactUpdate {
            last_name: Some(Some("Kaya".into())),
            ..ContactUpdate::default()
        },
    };
    match save_contact(&client, &other, 0).await {
        Ok(ContactSaved::Saved(saved)) => {
            assert_eq!(saved.last_name.as_deref(), Some("Kaya"));
            assert_eq!(saved.email.as_deref(), Some("theirs@example.com"));
        }
        other => panic!("expected it saved, got {other:?}"),
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_is_not_made_twice() {
    let sandbox = start().await;
    let client = client(&sandbox);
    // The first attempt is stored, and its answer lost.
    sandbox.set_lose_answer_rate(1.0);
    let op = ContactOp::Create {
        fields: new_contact("Zeynep", PHONE),
    };
    let first = save_contact(&client, &op, 0).await;
    assert!(
        matches!(first, Err(ContactSaveError::Api(ApiError::Server { .. }))),
        "{first:?}"
    );
    assert_eq!(sandbox.contacts_with_phone(PHONE), 1);
    let stored = sandbox.contact_id_by_phone(PHONE).expect("stored");
    sandbox.set_lose_answer_rate(0.0);

    // The retry finds it instead of creating it again.
    match save_contact(&client, &op, 1).await {
        Ok(ContactSaved::Saved(contact)) => assert_eq!(contact.id.as_str(), stored),
        other => panic!("expected the existing contact, got {other:?}"),
    }
    assert_eq!(sandbox.contacts_with_phone(PHONE), 1);
    sandbox.shutdown().await;
}
