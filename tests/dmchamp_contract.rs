//! Contract tests: the DM Champ client against the DM Champ sandbox over
//! real HTTP — every endpoint, each documented error status as the right
//! `ApiError`, the 409 path, the contact book across restarts, and the API
//! key kept out of logs and errors.

mod common;

use std::time::Duration;

use common::logs::capture_logs;
use secrecy::SecretString;
use termdesk::api::dmchamp::{DmChampClient, DmChampOptions};
use termdesk::api::{ApiError, Provider};
use termdesk::domain::{
    ContactId, ContactQuery, ContactUpdate, ConversationId, ConversationQuery, ConversationStatus,
    MessageQuery, OutgoingTemplate, OutgoingText, Recipient, SenderKind, Tag, TagId, TemplateId,
    TemplateParam, TemplateStatus, TemplateValues,
};
use termdesk::sandbox::dmchamp::{
    DEMO_API_KEY, DmChampSandbox, DmChampSandboxOptions, SeededContact,
};

async fn start() -> DmChampSandbox {
    capture_logs();
    DmChampSandbox::start(
        "127.0.0.1:0".parse().expect("addr"),
        DmChampSandboxOptions {
            contacts: 40,
            rate_limit: 100_000,
            ..DmChampSandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

fn options(base_url: &str, key: &str) -> DmChampOptions {
    let mut options = DmChampOptions::new(base_url, SecretString::from(key.to_string()));
    options.timeout = Duration::from_secs(5);
    options.requests_per_minute = 10_000;
    options
}

fn client(sandbox: &DmChampSandbox) -> DmChampClient {
    DmChampClient::new(options(&sandbox.base_url(), DEMO_API_KEY)).expect("client builds")
}

fn search(text: &str) -> ContactQuery {
    ContactQuery {
        search: Some(text.to_string()),
        ..ContactQuery::default()
    }
}

fn seeded(sandbox: &DmChampSandbox, channel: &str) -> SeededContact {
    sandbox.control().sample_contacts(1, Some(channel))[0].clone()
}

/// Looks a seeded contact up by phone, which puts it in the book.
async fn look_up(client: &DmChampClient, contact: &SeededContact) -> ContactId {
    let phone = contact.phone.as_deref().expect("seeded phone");
    let page = client.list_contacts(&search(phone)).await.expect("lookup");
    assert_eq!(page.items.len(), 1, "found by phone");
    page.items[0].id.clone()
}

fn rejected(error: &ApiError) -> (Option<i64>, &str) {
    match error {
        ApiError::Rejected { code, message } => (*code, message.as_str()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn requests(sandbox: &DmChampSandbox) -> u64 {
    sandbox.control().stats().requests
}

#[tokio::test]
async fn phone_and_email_searches_are_exact_lookups_that_fill_the_book() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let all = sandbox.control().sample_contacts(40, None);
    let one = all
        .iter()
        .find(|c| c.email.is_some())
        .expect("one with e-mail");
    let phone = one.phone.as_deref().expect("phone");
    // Typed as an agent would, with spaces: normalized, and the `+` encoded.
    let spaced = format!("{} {} {}", &phone[..3], &phone[3..6], &phone[6..]);
    let page = client
        .list_contacts(&search(&spaced))
        .await
        .expect("lookup");
    assert_eq!(page.items[0].id.as_str(), one.id);
    assert_eq!(page.items[0].phone.as_deref(), Some(phone));
    let server_tags = sandbox.control().contact(&one.id).expect("c").tags;
    let tags: Vec<String> = page.items[0].tags.iter().map(|t| t.name.clone()).collect();
    assert_eq!(tags, server_tags);

    let other = all
        .iter()
        .find(|c| c.email.is_some() && c.id != one.id)
        .expect("another");
    let email = other.email.as_deref().expect("e-mail");
    let page = client.list_contacts(&search(email)).await.expect("lookup");
    assert_eq!(page.items[0].id.as_str(), other.id);
    assert_eq!(page.items[0].email.as_deref(), Some(email));

    let none = client
        .list_contacts(&search("+31 6 0000 0000"))
        .await
        .expect("nothing found is no error");
    assert!(none.items.is_empty());

    // The book: both, and a name search filters it without a request.
    let before = requests(&sandbox);
    let book = client
        .list_contacts(&ContactQuery::default())
        .await
        .expect("book");
    assert_eq!(book.items.len(), 2);
    let by_phone = client
        .list_contacts(&search(&phone[3..9]))
        .await
        .expect("local");
    assert_eq!(by_phone.items.len(), 1);
    assert_eq!(requests(&sandbox), before, "served from the book");
    let got = client
        .get_contacts(&[ContactId::new(&one.id), ContactId::new("c_unknown")])
        .await
        .expect("from the book");
    assert_eq!(got.len(), 1);
    let fresh = client
        .get_contact(&ContactId::new(&one.id))
        .await
        .expect("get");
    assert_eq!(fresh.phone.as_deref(), Some(phone));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn creates_contacts_and_a_known_phone_answers_409_with_the_existing_one_in_the_book() {
    let sandbox = start().await;
    let client = client(&sandbox);
    let fields = ContactUpdate {
        first_name: Some("Sanne".into()),
        last_name: Some(Some("de Vries".into())),
        email: Some(Some("sanne@example.nl".into())),
        phone: Some(Some("+31 6 1234 5678".into())),
        tags: Some(vec![Tag {
            id: TagId::new("spring"),
            name: "spring".into(),
            color: None,
        }]),
        ..ContactUpdate::default()
    };
    let made = client.create_contact(&fields).await.expect("created");
    assert_eq!(made.first_name, "Sanne");
    assert_eq!(made.phone.as_deref(), Some("+31612345678"));
    assert_eq!(made.phone_country_code.as_deref(), Some("31"));
    let stored = sandbox.control().contact(made.id.as_str()).expect("stored");
    assert_eq!(
        (stored.last_name.as_str(), stored.email.as_str()),
        ("de Vries", "sanne@example.nl")
    );
    assert_eq!(stored.tags, vec!["spring".to_string()]);

    let existing = seeded(&sandbox, "whatsapp");
    let again = ContactUpdate {
        first_name: Some("Someone".into()),
        phone: existing.phone.clone().map(Some),
        ..ContactUpdate::default()
    };
    let error = client.create_contact(&again).await.expect_err("409");
    let (code, message) = rejected(&error);
    assert_eq!(code, Some(409));
    assert!(message.contains("already exists"), "{message}");
    assert!(message.contains(&existing.id), "{message}");
    let found = client
        .list_contacts(&ContactQuery {
            phone: existing.phone.clone(),
            ..ContactQuery::default()
        })
        .await
        .expect("found by phone");
    assert_eq!(found.items[0].id.as_str(), existing.id);
    let conversations = client
        .list_conversations(&ConversationQuery::default())
        .await
        .expect("inbox");
    assert!(
        conversations
            .items
            .iter()
            .any(|c| c.id.as_str() == existing.id)
    );

    let before = requests(&sandbox);
    let no_phone = ContactUpdate {
        first_name: Some("Nobody".into()),
        ..ContactUpdate::default()
    };
    let error = client.create_contact(&no_phone).await.expect_err("refused");
    assert!(rejected(&error).1.contains("needs a phone number"));
    let with_country = ContactUpdate {
        country: Some(Some("NL".into())),
        ..fields.clone()
    };
    let error = client
        .create_contact(&with_country)
        .await
        .expect_err("refused");
    assert!(rejected(&error).1.contains("Country"), "{error}");
    assert_eq!(requests(&sandbox), before, "refused before any request");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn updates_names_email_flags_lists_and_adds_tags_but_never_removes_one() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let one = seeded(&sandbox, "sms");
    let id = look_up(&client, &one).await;
    let server_tags = control.contact(&one.id).expect("c").tags;

    let mut tags: Vec<Tag> = server_tags
        .iter()
        .map(|t| Tag {
            id: TagId::new(t),
            name: t.clone(),
            color: None,
        })
        .collect();
    tags.push(Tag {
        id: TagId::new("hot-lead-2"),
        name: "hot-lead-2".into(),
        color: None,
    });
    let update = ContactUpdate {
        first_name: Some("Ayşe".into()),
        last_name: Some(Some("Kaya".into())),
        email: Some(Some("ayse@example.com".into())),
        tags: Some(tags),
        ..ContactUpdate::default()
    };
    let after = client.update_contact(&id, &update).await.expect("updated");
    assert_eq!(after.display_name(), "Ayşe Kaya");
    assert!(after.tags.iter().any(|t| t.name == "hot-lead-2"));
    let stored = control.contact(&one.id).expect("c");
    assert_eq!(
        (stored.first_name.as_str(), stored.email.as_str()),
        ("Ayşe", "ayse@example.com")
    );
    assert!(stored.tags.contains(&"hot-lead-2".to_string()));

    // Removing a tag refuses the whole update: the name stays.
    let removal = ContactUpdate {
        first_name: Some("Changed".into()),
        tags: Some(Vec::new()),
        ..ContactUpdate::default()
    };
    let error = client
        .update_contact(&id, &removal)
        .await
        .expect_err("refused");
    let (_, message) = rejected(&error);
    assert!(message.contains("cannot remove tags"), "{message}");
    assert!(message.contains("hot-lead-2"), "{message}");
    assert_eq!(control.contact(&one.id).expect("c").first_name, "Ayşe");
    let error = client
        .update_contact(
            &id,
            &ContactUpdate {
                gender: Some(Some("female".into())),
                phone: Some(Some("+31612345670".into())),
                ..ContactUpdate::default()
            },
        )
        .await
        .expect_err("refused");
    let (_, message) = rejected(&error);
    assert!(
        message.contains("Phone") && message.contains("Gender"),
        "{message}"
    );

    client.set_bot_active(&id, false).await.expect("bot off");
    client.set_do_not_disturb(&id, true).await.expect("dnd on");
    let stored = control.contact(&one.id).expect("c");
    assert!(!stored.is_bot_active && stored.do_not_disturb);

    let (lists, denied) = control.list_ids();
    client.add_to_list(&id, &lists[0]).await.expect("added");
    assert!(
        control
            .contact(&one.id)
            .expect("c")
            .lists
            .contains(&lists[0])
    );
    client
        .remove_from_list(&id, &lists[0])
        .await
        .expect("removed");
    assert!(
        !control
            .contact(&one.id)
            .expect("c")
            .lists
            .contains(&lists[0])
    );
    let error = client.add_to_list(&id, &denied[0]).await.expect_err("403");
    assert!(
        matches!(error, ApiError::InsufficientScope { .. }),
        "{error:?}"
    );
    let error = client.add_to_list(&id, "lst_nope").await.expect_err("404");
    assert!(
        matches!(&error, ApiError::NotFound(m) if m.contains("List not found")),
        "{error:?}"
    );

    let account = client.account_tags().await.expect("tags");
    assert!(account.iter().any(|t| t.name == "hot-lead-2"));
    assert_eq!(account.len(), control.account_tags().len());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_inbox_is_the_book_and_threads_come_newest_first() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let a = seeded(&sandbox, "whatsapp");
    let b = seeded(&sandbox, "sms");
    let a_id = look_up(&client, &a).await;
    let b_id = look_up(&client, &b).await;

    let server = control.messages(a_id.as_str());
    let page = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId::new(a_id.as_str()),
            before: None,
            after: None,
            limit: 100,
        })
        .await
        .expect("thread");
    assert_eq!(page.items.len(), server.len());
    assert!(!page.has_more());
    assert!(
        page.items
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at)
    );
    assert_eq!(page.items[0].id.as_str(), server.last().expect("some").id);
    assert_eq!(page.items.last().expect("some").sender, SenderKind::Contact);

    // A new customer message makes that contact the newest conversation.
    control.inject_incoming_message(b_id.as_str(), "Is it shipped yet?");
    let newest = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId::new(b_id.as_str()),
            before: None,
            after: None,
            limit: 1,
        })
        .await
        .expect("thread");
    assert_eq!(newest.items.len(), 1);
    assert_eq!(newest.items[0].text, "Is it shipped yet?");
    assert!(newest.has_more());
    let older = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId::new(b_id.as_str()),
            before: Some(newest.items[0].created_at),
            after: None,
            limit: 100,
        })
        .await
        .expect("older");
    assert_eq!(older.items.len(), control.messages(b_id.as_str()).len() - 1);

    let before = requests(&sandbox);
    let inbox = client
        .list_conversations(&ConversationQuery::default())
        .await
        .expect("inbox");
    let ids: Vec<&str> = inbox.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [b_id.as_str(), a_id.as_str()]);
    let first = client
        .list_conversations(&ConversationQuery {
            limit: 1,
            ..ConversationQuery::default()
        })
        .await
        .expect("page 1");
    let second = client
        .list_conversations(&ConversationQuery {
            limit: 1,
            cursor: first.next.clone(),
            ..ConversationQuery::default()
        })
        .await
        .expect("page 2");
    assert_eq!(first.items[0].id, b_id.as_str().into());
    assert_eq!(second.items[0].id, a_id.as_str().into());
    assert!(!second.has_more());
    let top = &inbox.items[0];
    assert_eq!(top.status, ConversationStatus::Open);
    assert_eq!(top.contact_id.as_ref(), Some(&b_id));
    assert_eq!(
        top.last_message.as_ref().map(|m| m.text.as_str()),
        Some("Is it shipped yet?")
    );
    let since = client
        .list_conversations(&ConversationQuery {
            updated_since: Some(top.updated_at),
            ..ConversationQuery::default()
        })
        .await
        .expect("changes");
    assert_eq!(since.items.len(), 1);
    let closed = client
        .list_conversations(&ConversationQuery {
            status: vec![ConversationStatus::Closed],
            ..ConversationQuery::default()
        })
        .await
        .expect("none closed");
    assert!(closed.items.is_empty());
    let one = client
        .get_conversation(&ConversationId::new(a_id.as_str()))
        .await
        .expect("one");
    // DM Champ never returns names: a looked-up contact shows its phone.
    assert_eq!(Some(one.contact_name), a.phone);
    assert_eq!(requests(&sandbox), before, "the inbox costs no request");

    // Either list shape reads the same.
    control.set_bare_message_list(true);
    let bare = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId::new(a_id.as_str()),
            before: None,
            after: None,
            limit: 100,
        })
        .await
        .expect("bare");
    assert_eq!(bare.items.len(), server.len());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn replies_go_to_custom_channel_contacts_only_and_templates_to_whatsapp() {
    let sandbox = start().await;
    let control = sandbox.control();
    let client = client(&sandbox);
    let wa = seeded(&sandbox, "whatsapp");
    let wa_id = look_up(&client, &wa).await;
    // Reading the thread tells the client the contact's channel.
    let _ = client
        .list_messages(&MessageQuery {
            conversation_id: ConversationId::new(wa_id.as_str()),
            before: None,
            after: None,
            limit: 5,
        })
        .await
        .expect("thread");
    let reply = |to: &ContactId| OutgoingText {
        conversation_id: ConversationId::new(to.as_str()),
        client_id: "c-1".into(),
        text: "Sizes M and L are in stock.".into(),
        channel_id: None,
    };
    let error = client.send_text(&reply(&wa_id)).await.expect_err("refused");
    assert!(
        rejected(&error).1.contains("send a WhatsApp template"),
        "{error}"
    );

    let custom = seeded(&sandbox, "custom");
    let custom_id = look_up(&client, &custom).await;
    client.link_custom_channel(
        &custom_id,
        custom.custom_channel.as_deref().expect("channel"),
        custom.external_id.as_deref().expect("external id"),
    );
    let sent = client.send_text(&reply(&custom_id)).await.expect("sent");
    assert_eq!(sent.client_id.as_deref(), Some("c-1"));
    let last = control.messages(custom_id.as_str()).pop().expect("stored");
    assert_eq!(last.content, "Sizes M and L are in stock.");
    assert_eq!(last.id, sent.id.as_str());

    let templates = client.list_templates().await.expect("templates");
    assert_eq!(templates.len(), control.templates().len());
    let approved = templates
        .iter()
        .find(|t| t.status == TemplateStatus::Approved)
        .expect("approved");
    let template = |values: TemplateValues| OutgoingTemplate {
        client_id: "t-1".into(),
        recipient: Recipient::Contact(wa_id.clone()),
        channel_id: None,
        template_id: approved.id.clone(),
        template_name: approved.name.clone(),
        language: approved.language.clone(),
        values,
    };
    let sent = client
        .send_template(&template(TemplateValues::default()))
        .await
        .expect("sent");
    assert_eq!(sent.conversation_id.as_str(), wa_id.as_str());
    let sends = control.template_sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(
        (sends[0].contact_id.as_str(), sends[0].template_id.as_str()),
        (wa_id.as_str(), approved.id.as_str())
    );

    let with_values = TemplateValues {
        body: vec![TemplateParam {
            key: "1".into(),
            value: "Sanne".into(),
        }],
        ..TemplateValues::default()
    };
    let error = client
        .send_template(&template(with_values))
        .await
        .expect_err("refused");
    assert!(rejected(&error).1.contains("no values per send"), "{error}");

    // 400: a template the server does not know.
    let unknown = OutgoingTemplate {
        template_id: TemplateId::new("tpl_missing"),
        ..template(TemplateValues::default())
    };
    let error = client.send_template(&unknown).await.expect_err("400");
    let (code, message) = rejected(&error);
    assert_eq!(code, Some(400));
    assert!(message.contains("tpl_missing"), "{message}");

    // 403: no WhatsApp sender.
    control.set_whatsapp_sender_configured(false);
    let error = client
        .send_template(&template(TemplateValues::default()))
        .await
        .expect_err("403");
    let (code, message) = rejected(&error);
    assert_eq!(code, Some(403));
    assert!(message.contains("no WhatsApp sender"), "{message}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn statuses_401_404_429_500_become_readable_errors() {
    let sandbox = start().await;
    let control = sandbox.control();
    let wrong = DmChampClient::new(options(&sandbox.base_url(), "dmk_wrong")).expect("builds");
    let error = wrong.authenticate().await.expect_err("401");
    assert!(
        matches!(error, ApiError::InvalidCredentials(_)),
        "{error:?}"
    );
    assert!(error.to_string().contains("API key"), "{error}");

    let client = client(&sandbox);
    client.authenticate().await.expect("the demo key works");
    let error = client
        .get_contact(&ContactId::new("c_nope"))
        .await
        .expect_err("404");
    assert!(
        matches!(&error, ApiError::NotFound(m) if m.contains("c_nope")),
        "{error:?}"
    );

    // A read is tried a few times: the failure has to last.
    control.fail_next_with_server_error(3);
    let error = client.account_tags().await.expect_err("500");
    assert!(
        matches!(&error, ApiError::Server { status: 500, message } if message.contains("Internal server error")),
        "{error:?}"
    );
    assert!(error.is_transient());

    control.fail_next(3);
    let error = client.account_tags().await.expect_err("503");
    assert!(
        matches!(error, ApiError::Server { status: 503, .. }),
        "{error:?}"
    );

    // A 429 is waited out and retried while the waits fit in the call's
    // deadline; when it never ends, RateLimited after a bounded few.
    control.set_rate_limit(0, Duration::from_secs(60));
    let error = client.account_tags().await.expect_err("429");
    assert!(matches!(error, ApiError::RateLimited { .. }), "{error:?}");
    let refused = control.stats().rate_limited;
    assert!((1..=4).contains(&refused), "not hammered: {refused}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_contact_book_survives_a_restart_and_is_private() {
    let sandbox = start().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("dmchamp").join("book.json");
    let with_book = || {
        let mut o = options(&sandbox.base_url(), DEMO_API_KEY);
        o.book_file = Some(path.clone());
        DmChampClient::new(o).expect("builds")
    };
    let one = seeded(&sandbox, "whatsapp");
    let id = {
        let first = with_book();
        let id = look_up(&first, &one).await;
        first
            .update_contact(
                &id,
                &ContactUpdate {
                    first_name: Some("Written".into()),
                    ..ContactUpdate::default()
                },
            )
            .await
            .expect("updated");
        id
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("saved")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = requests(&sandbox);
    let second = with_book();
    let inbox = second
        .list_conversations(&ConversationQuery::default())
        .await
        .expect("inbox");
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].id.as_str(), id.as_str());
    let contacts = second
        .get_contacts(std::slice::from_ref(&id))
        .await
        .expect("book");
    assert_eq!(contacts[0].first_name, "Written");
    assert_eq!(contacts[0].phone, one.phone);
    assert_eq!(requests(&sandbox), before, "read from the book alone");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(!text.contains(DEMO_API_KEY));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_api_key_never_reaches_a_log_line_or_an_error() {
    const KEY: &str = "dmk_live_7Qw3e9Rt_SECRET";
    let log = capture_logs();

    let sandbox = DmChampSandbox::start(
        "127.0.0.1:0".parse().expect("addr"),
        DmChampSandboxOptions {
            contacts: 10,
            api_key: KEY.to_string(),
            rate_limit: 100_000,
            ..DmChampSandboxOptions::default()
        },
    )
    .await
    .expect("starts");
    let control = sandbox.control();
    let mut errors: Vec<ApiError> = Vec::new();

    // 401 with a wrong key that is itself secret.
    let wrong_key = format!("{KEY}_OLD");
    let wrong = DmChampClient::new(options(&sandbox.base_url(), &wrong_key)).expect("builds");
    errors.push(wrong.authenticate().await.expect_err("401"));

    let good = DmChampClient::new(options(&sandbox.base_url(), KEY)).expect("builds");
    // 500, lasting through the read's tries.
    control.fail_next_with_server_error(3);
    errors.push(good.account_tags().await.expect_err("500"));
    // Timeout.
    let mut slow = options(&sandbox.base_url(), KEY);
    slow.timeout = Duration::from_millis(300);
    let slow = DmChampClient::new(slow).expect("builds");
    control.set_delay(Some(Duration::from_secs(3)));
    errors.push(slow.account_tags().await.expect_err("timeout"));
    control.set_delay(None);
    // Connection refused: a port nobody listens on any more.
    let addr = sandbox.addr();
    sandbox.shutdown().await;
    let gone = DmChampClient::new(options(&format!("http://{addr}/v1"), KEY)).expect("builds");
    errors.push(gone.account_tags().await.expect_err("refused"));
    errors.push(
        gone.list_contacts(&search("+31 6 1234 5678"))
            .await
            .expect_err("refused"),
    );

    assert!(
        matches!(errors[0], ApiError::InvalidCredentials(_)),
        "{:?}",
        errors[0]
    );
    assert!(
        matches!(errors[1], ApiError::Server { status: 500, .. }),
        "{:?}",
        errors[1]
    );
    assert!(matches!(errors[2], ApiError::Timeout(_)), "{:?}", errors[2]);
    assert!(matches!(errors[3], ApiError::Network(_)), "{:?}", errors[3]);
    for error in &errors {
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(KEY), "key in an error: {shown}");
            assert!(!shown.contains("apiKey="), "query in an error: {shown}");
        }
    }
    for client in [&wrong, &good, &slow, &gone] {
        assert!(!format!("{client:?}").contains(KEY));
    }
    let logged = log.text();
    assert!(
        logged.contains("dmchamp"),
        "the requests were logged at all: {logged}"
    );
    assert!(!logged.contains(KEY), "key in the log:\n{logged}");
}
