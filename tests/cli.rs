//! The command line as a user runs it: the binary against the sandbox over
//! real HTTP, its effects read back from the sandbox.

use std::path::PathBuf;
use std::process::{Command, Output};

use secrecy::SecretString;
use serde_json::Value;
use termdesk::api::Provider;
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::domain::{Agent, ConversationId, ConversationQuery, ConversationStatus, Tag};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const SECRET_ENV: &str = "TERMDESK_CLI_TEST_SECRET";
const ME: &str = "sarah@acme-store.test";

/// A scratch home with a config whose one account points at `base_url`.
struct Home {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Home {
    fn new(base_url: &str, agent: Option<&str>) -> Home {
        let dir = tempfile::tempdir().expect("scratch home");
        let config = dir.path().join("termdesk.toml");
        let agent = agent
            .map(|a| format!("agent = \"{a}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            &config,
            format!(
                "[[accounts]]\nname = \"cli\"\nprovider = \"qpien\"\nbase_url = \"{base_url}\"\n\
                 client_id = \"demo\"\nclient_secret_env = \"{SECRET_ENV}\"\n\
                 requests_per_minute = 100000\n{agent}"
            ),
        )
        .expect("config written");
        Home { dir, config }
    }

    /// Runs `termdesk --config <config> args…` to completion.
    async fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BINARY);
        command.arg("--config").arg(&self.config);
        self.spawn(command, args).await
    }

    /// Runs `termdesk args…` with no config file anywhere (the demo).
    async fn run_without_config(&self, args: &[&str]) -> Output {
        self.spawn(Command::new(BINARY), args).await
    }

    async fn spawn(&self, mut command: Command, args: &[&str]) -> Output {
        let home = self.dir.path();
        command
            .args(args)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env(SECRET_ENV, "demo");
        // The sandbox serves on this runtime; wait for the process elsewhere.
        tokio::task::spawn_blocking(move || command.output().expect("termdesk runs"))
            .await
            .expect("the wait finishes")
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Succeeded; its standard output.
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// Failed with a message containing `words`, and printed nothing on stdout.
fn fails_with(output: Output, words: &str) {
    assert!(!output.status.success(), "should fail: {}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains(words), "expected `{words}` in: {err}");
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

async fn start() -> Sandbox {
    Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            conversations: 60,
            rate_limit: 100_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("sandbox starts")
}

/// A client of its own to read the sandbox's state back.
fn reader(sandbox: &Sandbox) -> QpienClient {
    QpienClient::new(QpienConfig::new(
        sandbox.base_url(),
        "demo",
        SecretString::from("demo".to_string()),
    ))
    .expect("client builds")
}

async fn agent(client: &QpienClient, email: &str) -> Agent {
    client
        .list_agents()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.email == email)
        .expect("seeded agent")
}

fn conversations(json: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(json)
        .expect("JSON output")
        .as_array()
        .cloned()
        .expect("a JSON array")
}

fn updates(sandbox: &Sandbox) -> u64 {
    sandbox
        .control()
        .stats()
        .operations
        .get("updateConversation")
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_commands_change_the_sandbox() {
    let sandbox = start().await;
    let client = reader(&sandbox);
    let home = Home::new(&sandbox.base_url(), Some(ME));
    let id = sandbox.control().conversation_ids()[5].clone();
    let conv_id = ConversationId::new(id.clone());
    let read = || client.get_conversation(&conv_id);
    let contact = client
        .get_contact(read().await.unwrap().contact_id.as_ref().unwrap())
        .await
        .unwrap()
        .label();
    let sarah = agent(&client, ME).await;

    // Assign to me (the config's `agent`), read back, and see it in "mine".
    let out = ok(home.run(&["assign", &id, "me"]).await);
    assert_eq!(
        out.trim(),
        format!("assigned {id} ({contact}) to Sarah Collins")
    );
    assert_eq!(read().await.unwrap().assignee, Some(sarah.id.clone()));
    let mine = conversations(&ok(home
        .run(&[
            "conversations",
            "list",
            "--view",
            "mine",
            "--limit",
            "100",
            "--json",
        ])
        .await));
    assert!(mine.iter().any(|c| c["id"] == id.as_str()));
    assert!(mine.iter().all(|c| c["assignee"] == sarah.id.as_str()));

    // Open, then resolve.
    ok(home.run(&["status", &id, "open"]).await);
    let out = ok(home.run(&["status", &id, "resolved"]).await);
    assert_eq!(out.trim(), format!("resolved {id} ({contact})"));
    assert_eq!(read().await.unwrap().status, ConversationStatus::Resolved);
    let resolved = conversations(&ok(home
        .run(&[
            "conversations",
            "list",
            "--status",
            "resolved",
            "--limit",
            "100",
            "--json",
        ])
        .await));
    assert!(resolved.iter().any(|c| c["id"] == id.as_str()));

    // Star and unstar; --json prints the updated conversation.
    let out = ok(home.run(&["star", &id]).await);
    assert_eq!(out.trim(), format!("starred {id} ({contact})"));
    assert!(read().await.unwrap().starred);
    let json: Value = serde_json::from_str(&ok(home.run(&["star", &id, "--off", "--json"]).await))
        .expect("JSON output");
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["starred"], false);
    assert!(!read().await.unwrap().starred);

    // Tags by name, any case: added to and removed from the current set.
    let page = client
        .list_conversations(&ConversationQuery {
            limit: 100,
            ..ConversationQuery::default()
        })
        .await
        .unwrap();
    let mut known: Vec<Tag> = Vec::new();
    for tag in page.items.into_iter().flat_map(|c| c.tags) {
        if !known.iter().any(|t| t.id == tag.id) {
            known.push(tag);
        }
    }
    assert!(known.len() >= 2, "{known:?}");
    let before: Vec<Tag> = read().await.unwrap().tags;
    let (a, b) = (&known[0], &known[1]);
    let plus_a = format!("+{}", a.name.to_uppercase());
    let plus_b = format!("+{}", b.id);
    ok(home.run(&["tag", &id, &plus_a, &plus_b]).await);
    let tags = read().await.unwrap().tags;
    for tag in before.iter().chain([a, b]) {
        assert!(tags.iter().any(|t| t.id == tag.id), "{tag:?} in {tags:?}");
    }
    let minus_a = format!("-{}", a.name.to_lowercase());
    let json: Value = serde_json::from_str(&ok(home.run(&["tag", &id, &minus_a, "--json"]).await))
        .expect("JSON output");
    let names: Vec<&str> = json["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(!names.contains(&a.name.as_str()), "{names:?}");
    assert!(names.contains(&b.name.as_str()), "{names:?}");
    let tags = read().await.unwrap().tags;
    assert!(!tags.iter().any(|t| t.id == a.id) && tags.iter().any(|t| t.id == b.id));

    // Assign by name, then to nobody.
    let out = ok(home.run(&["assign", &id, "kenji"]).await);
    assert!(out.contains("to Kenji Watanabe"), "{out}");
    let kenji = agent(&client, "kenji@acme-store.test").await;
    assert_eq!(read().await.unwrap().assignee, Some(kenji.id));
    let out = ok(home.run(&["assign", &id, "none"]).await);
    assert_eq!(out.trim(), format!("unassigned {id} ({contact})"));
    assert_eq!(read().await.unwrap().assignee, None);
    let unassigned = conversations(&ok(home
        .run(&[
            "conversations",
            "list",
            "--view",
            "unassigned",
            "--limit",
            "100",
            "--json",
        ])
        .await));
    assert!(unassigned.iter().any(|c| c["id"] == id.as_str()));
    assert!(unassigned.iter().all(|c| c["assignee"].is_null()));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_fails_before_any_request() {
    let sandbox = start().await;
    let control = sandbox.control();
    let home = Home::new(&sandbox.base_url(), Some(ME));
    let anonymous = Home::new(&sandbox.base_url(), None);
    let id = control.conversation_ids()[0].clone();
    let cases: Vec<(&Home, Vec<&str>, &str)> = vec![
        (&home, vec!["status", &id, "done"], "unknown status `done`"),
        (
            &home,
            vec!["status", " ", "open"],
            "the conversation id is empty",
        ),
        (&home, vec!["star", "not an id"], "is not a conversation id"),
        (&home, vec!["assign", &id, " "], "say whom to assign to"),
        (
            &home,
            vec!["tag", &id, "vip"],
            "start each tag with + to add it",
        ),
        (
            &home,
            vec!["tag", &id, "+vip", "-VIP"],
            "both added and removed",
        ),
        (
            &home,
            vec!["tag", &id, "+vip", "--limit"],
            "put options before the tags",
        ),
        (
            &home,
            vec!["conversations", "list", "--status", "open,later"],
            "unknown status `later`",
        ),
        (
            &anonymous,
            vec!["conversations", "list", "--view", "mine"],
            "set `agent` (your e-mail or agent id)",
        ),
        (&anonymous, vec!["assign", &id, "me"], "set `agent`"),
        (
            &home,
            vec!["conversations", "list", "--view", "everyone"],
            "invalid value 'everyone'",
        ),
    ];
    for (home, args, words) in cases {
        let requests = control.request_count();
        fails_with(home.run(&args).await, words);
        assert_eq!(control.request_count(), requests, "{args:?} made a request");
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_ambiguous_names_fail_before_any_write() {
    let sandbox = start().await;
    let client = reader(&sandbox);
    let home = Home::new(&sandbox.base_url(), Some(ME));
    let id = sandbox.control().conversation_ids()[1].clone();
    let before = client
        .get_conversation(&ConversationId::new(id.clone()))
        .await
        .unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["assign", &id, "sarha"], "close matches: Sarah Collins"),
        (vec!["assign", &id, "a"], "matches several agents"),
        (
            vec!["assign", &id, "zzzz"],
            "no agent matches `zzzz`; agents:",
        ),
        (
            vec!["tag", &id, "+no-such-tag"],
            "unknown tag `no-such-tag`",
        ),
        (vec!["tag", &id, "+vp"], "close matches: VIP"),
    ];
    for (args, words) in cases {
        fails_with(home.run(&args).await, words);
    }
    let unknown_me = Home::new(&sandbox.base_url(), Some("ghost@acme-store.test"));
    fails_with(
        unknown_me.run(&["assign", &id, "me"]).await,
        "`agent` = `ghost@acme-store.test` matches no agent",
    );
    assert_eq!(updates(&sandbox), 0, "nothing was written");
    let after = client
        .get_conversation(&ConversationId::new(id))
        .await
        .unwrap();
    assert_eq!(after, before);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_refusals_exit_with_the_server_message() {
    let sandbox = start().await;
    let home = Home::new(&sandbox.base_url(), Some(ME));
    let id = sandbox.control().conversation_ids()[2].clone();
    fails_with(home.run(&["assign", &id, "tom"]).await, "is not active");
    fails_with(
        home.run(&["assign", &id, "bot@acme-store.test"]).await,
        "is a bot and cannot be assigned",
    );
    ok(home.run(&["status", &id, "closed"]).await);
    fails_with(
        home.run(&["status", &id, "pending"]).await,
        "Conversation is closed; reopen it first",
    );
    fails_with(
        home.run(&["star", "ffffffffffffffffffffffff"]).await,
        "Conversation not found",
    );
    fails_with(
        home.run(&["tag", &id, "+eeeeeeeeeeeeeeeeeeeeeeee"]).await,
        "Tag not found: eeeeeeeeeeeeeeeeeeeeeeee",
    );
    ok(home.run(&["status", &id, "open"]).await);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_its_own_agent() {
    let home = Home::new("http://127.0.0.1:9/unused", None);
    let mine = conversations(&ok(home
        .run_without_config(&["conversations", "list", "--view", "mine", "--json"])
        .await));
    assert!(!mine.is_empty());
    let first = mine[0]["assignee"].as_str().expect("assigned").to_string();
    assert!(mine.iter().all(|c| c["assignee"] == first.as_str()));
}

/// A home whose account reads phones typed without + in `country`.
fn home_in(base_url: &str, country: &str) -> Home {
    let home = Home::new(base_url, None);
    let mut config = std::fs::read_to_string(&home.config).expect("config read");
    config.push_str(&format!("country = \"{country}\"\n"));
    std::fs::write(&home.config, config).expect("config written");
    home
}

fn contact_writes(sandbox: &Sandbox) -> u64 {
    let operations = sandbox.control().stats().operations;
    ["createContact", "updateContact", "deleteContact"]
        .iter()
        .map(|op| operations.get(*op).copied().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_commands_change_the_sandbox() {
    let sandbox = start().await;
    let control = sandbox.control();
    let home = home_in(&sandbox.base_url(), "TR");
    let count = control.contact_count();

    // Create: the phone typed the Turkish way is stored in E.164.
    let made: Value = serde_json::from_str(&ok(home
        .run(&[
            "contacts",
            "create",
            "--first-name",
            "Deniz",
            "--phone",
            "0532 111 22 33",
            "--email",
            "deniz@example.com",
            "--gender",
            "female",
            "--json",
        ])
        .await))
    .expect("JSON output");
    let id = made["id"].as_str().expect("an id").to_string();
    assert_eq!(made["phone"], "+905321112233");
    assert_eq!(control.contact_count(), count + 1);
    let state = control.contact(&id).expect("stored");
    assert_eq!(state.phone_country_code.as_deref(), Some("90"));
    assert_eq!(state.gender.as_deref(), Some("female"));

    // List and show.
    let out = ok(home.run(&["contacts", "list", "--search", "deniz"]).await);
    let line = out
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} in {out}"));
    assert!(
        line.contains("Deniz")
            && line.contains("+905321112233")
            && line.contains("deniz@example.com"),
        "{line}"
    );
    let listed: Vec<Value> = serde_json::from_str(&ok(home
        .run(&["contacts", "list", "--limit", "3", "--json"])
        .await))
    .expect("JSON output");
    assert_eq!(listed.len(), 3);
    let out = ok(home.run(&["contacts", "show", &id]).await);
    assert!(out.contains("Id:") && out.contains(&id), "{out}");
    assert!(
        out.contains("deniz@example.com") && out.contains("+905321112233"),
        "{out}"
    );
    let shown: Value =
        serde_json::from_str(&ok(home.run(&["contacts", "show", &id, "--json"]).await))
            .expect("JSON output");
    assert_eq!(shown["first_name"], "Deniz");

    // Update: only what is given changes; "" clears.
    let out = ok(home
        .run(&[
            "contacts",
            "update",
            &id,
            "--last-name",
            "Kaya",
            "--email",
            "",
            "--country",
            "de",
        ])
        .await);
    assert!(
        out.starts_with(&format!("updated {id} (Deniz Kaya)")),
        "{out}"
    );
    assert!(out.contains("E-mail: deniz@example.com → —"), "{out}");
    assert!(out.contains("Country: — → DE"), "{out}");
    let state = control.contact(&id).unwrap();
    assert_eq!(state.last_name.as_deref(), Some("Kaya"));
    assert_eq!(state.email, None);
    assert_eq!(state.country.as_deref(), Some("DE"));
    assert_eq!(state.phone.as_deref(), Some("+905321112233"));

    // A taken phone: refused, naming who has it.
    let before = control.contact_count();
    fails_with(
        home.run(&[
            "contacts",
            "create",
            "--first-name",
            "Other",
            "--phone",
            "+905321112233",
        ])
        .await,
        &format!("+905321112233 already belongs to Deniz Kaya (id {id})"),
    );
    assert_eq!(control.contact_count(), before);

    // The same on update.
    let other: Value = serde_json::from_str(&ok(home
        .run(&[
            "contacts",
            "create",
            "--first-name",
            "Ece",
            "--phone",
            "+905321112244",
            "--json",
        ])
        .await))
    .expect("JSON output");
    let other = other["id"].as_str().unwrap().to_string();
    fails_with(
        home.run(&["contacts", "update", &other, "--phone", "+90 532 111 22 33"])
            .await,
        &format!("+905321112233 already belongs to Deniz Kaya (id {id})"),
    );
    assert_eq!(
        control.contact(&other).unwrap().phone.as_deref(),
        Some("+905321112244")
    );

    // Delete needs --yes without a terminal; then the contact is gone.
    let requests = control.request_count();
    fails_with(home.run(&["contacts", "delete", &id]).await, "pass --yes");
    assert_eq!(control.request_count(), requests);
    let out = ok(home.run(&["contacts", "delete", &id, "--yes"]).await);
    assert_eq!(
        out.trim(),
        format!("deleted {id} (Deniz Kaya); its conversations stay, shown as \"Unknown contact\"")
    );
    assert!(control.contact(&id).is_none());
    fails_with(home.run(&["contacts", "show", &id]).await, "no contact");
    fails_with(
        home.run(&["contacts", "update", &id, "--last-name", "X"])
            .await,
        "no contact",
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_invalid_input_fails_before_any_request() {
    let sandbox = start().await;
    let control = sandbox.control();
    let home = home_in(&sandbox.base_url(), "TR");
    let nowhere = Home::new(&sandbox.base_url(), None);
    let id = "6701beef00112233445566aa";
    let cases: Vec<(&Home, Vec<&str>, &str)> = vec![
        (
            &home,
            vec!["contacts", "update", id, "--phone", "+90 532 123"],
            "--phone \"+90 532 123\": not a valid number for +90 (check the number of digits)",
        ),
        (
            &nowhere,
            vec![
                "contacts",
                "create",
                "--first-name",
                "A",
                "--phone",
                "0532 111 22 33",
            ],
            "--phone \"0532 111 22 33\": start with + and the country code",
        ),
        (
            &home,
            vec!["contacts", "update", id, "--email", "a@b"],
            "--email \"a@b\": ",
        ),
        (
            &home,
            vec!["contacts", "update", id, "--country", "XX"],
            "--country \"XX\": XX is not a country code",
        ),
        (
            &home,
            vec!["contacts", "update", id, "--language", "en_GB"],
            "--language \"en_GB\": language tags use '-'",
        ),
        (
            &home,
            vec!["contacts", "update", id, "--gender", "robot"],
            "--gender \"robot\": use female, male or other",
        ),
        (
            &home,
            vec!["contacts", "update", id, "--email-permission", "maybe"],
            "--email-permission \"maybe\": use yes or no",
        ),
        (
            &home,
            vec!["contacts", "update", id, "--first-name", ""],
            "a contact needs a first name",
        ),
        (&home, vec!["contacts", "update", id], "nothing to change"),
        (
            &home,
            vec!["contacts", "create", "--first-name", "A", "--phone", " "],
            "a new contact needs a phone number",
        ),
        (
            &home,
            vec!["contacts", "create", "--first-name", "A"],
            "--phone <NUMBER>",
        ),
        (
            &home,
            vec!["contacts", "show", "a b"],
            "is not a contact id",
        ),
        (
            &home,
            vec!["contacts", "delete", " "],
            "the contact id is empty",
        ),
    ];
    for (home, args, words) in cases {
        let requests = control.request_count();
        let output = home.run(&args).await;
        assert_ne!(output.status.code(), Some(0), "{args:?}");
        fails_with(output, words);
        assert_eq!(control.request_count(), requests, "{args:?} made a request");
    }
    assert_eq!(contact_writes(&sandbox), 0);
    sandbox.shutdown().await;
}

fn template_sends(sandbox: &Sandbox) -> u64 {
    sandbox
        .control()
        .stats()
        .operations
        .get("sendWhatsappTemplateMessage")
        .copied()
        .unwrap_or(0)
}

/// A conversation on the WhatsApp number of the template `name` (`language`).
fn conversation_for(sandbox: &Sandbox, name: &str, language: &str) -> String {
    let number = sandbox
        .templates()
        .into_iter()
        .find(|t| t.name == name && t.language == language)
        .expect("seeded template")
        .channel_id;
    sandbox
        .whatsapp_conversations()
        .into_iter()
        .find(|c| c.channel_id == number)
        .expect("a conversation on the template's number")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_listed_and_sent() {
    let sandbox = start().await;
    let home = Home::new(&sandbox.base_url(), None);

    let table = ok(home.run(&["templates", "list"]).await);
    let header = table.lines().next().unwrap_or_default();
    for column in ["NAME", "LANG", "CATEGORY", "STATUS", "VARIABLES", "BODY"] {
        assert!(header.contains(column), "{header}");
    }
    let row = |name: &str, lang: &str| {
        table
            .lines()
            .find(|l| {
                let mut words = l.split_whitespace();
                words.next() == Some(name) && words.next() == Some(lang)
            })
            .unwrap_or_else(|| panic!("{name} {lang} in:\n{table}"))
            .to_string()
    };
    let shipped = row("order_shipped", "tr");
    assert!(
        shipped.contains("utility")
            && shipped.contains("approved")
            && shipped.contains("header {{1}} {{2}} {{3}} button.0")
            && shipped.contains("Merhaba {{1}}"),
        "{shipped}"
    );
    assert!(row("order_confirmation", "en").contains("{{first_name}} {{order_id}} button.0"));
    assert!(row("summer_sale", "tr").contains("header-url {{1}} {{2}}"));
    assert!(row("welcome_offer", "tr").contains("pending"));
    assert!(
        table.contains("back_in_stock (ar): rejected by WhatsApp's review: PROMOTIONAL"),
        "{table}"
    );

    let listed: Vec<Value> =
        serde_json::from_str(&ok(home.run(&["templates", "list", "--json"]).await))
            .expect("JSON output");
    assert_eq!(listed.len(), sandbox.templates().len());
    let sale = listed
        .iter()
        .find(|t| t["name"] == "summer_sale" && t["language"] == "en")
        .expect("summer_sale");
    assert_eq!(sale["header_format"], "IMAGE");
    assert!(
        listed
            .iter()
            .any(|t| t["name"] == "back_in_stock" && t["rejected_reason"].is_string())
    );

    let conversation = conversation_for(&sandbox, "order_shipped", "tr");
    let out = ok(home
        .run(&[
            "send-template",
            &conversation,
            "order_shipped",
            "--lang",
            "tr",
            "--var",
            "header=A-1042",
            "--var",
            "1=Deniz",
            "--var",
            "2=A-1042",
            "--var",
            "3=Cuma",
            "--var",
            "button.0=A-1042",
        ])
        .await);
    assert!(
        out.starts_with(&format!(
            "Sent order_shipped (tr) to {conversation}: message "
        )),
        "{out}"
    );
    let last = sandbox.messages(&conversation).pop().expect("a message");
    assert_eq!(last.message_type, "TEMPLATE");
    assert_eq!(last.sender_type, "AGENT");
    assert!(last.front_msg_id.is_some());
    assert!(
        last.content
            .as_deref()
            .is_some_and(|c| c.starts_with("Sipariş A-1042\nMerhaba Deniz, A-1042")),
        "{:?}",
        last.content
    );

    // Named placeholders by name; --json prints the message.
    let conversation = conversation_for(&sandbox, "order_confirmation", "tr");
    let out = ok(home
        .run(&[
            "send-template",
            &conversation,
            "order_confirmation",
            "--lang",
            "tr",
            "--var",
            "first_name=Ayşe",
            "--var",
            "{{order_id}}=A-7",
            "--var",
            "button.0=A-7",
            "--json",
        ])
        .await);
    let message: Value = serde_json::from_str(&out).expect("JSON output");
    assert_eq!(message["kind"], "Template");
    assert_eq!(message["conversation_id"], conversation.as_str());
    assert!(
        message["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Merhaba Ayşe, A-7 numaralı")),
        "{message}"
    );
    assert_eq!(template_sends(&sandbox), 2);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_template_refusals_send_nothing() {
    let sandbox = start().await;
    let control = sandbox.control();
    let home = Home::new(&sandbox.base_url(), None);
    let conversation = conversation_for(&sandbox, "order_shipped", "tr");
    let (_, _, messages) = sandbox.counts();

    // Checked before connecting: not a single request.
    for (args, words) in [
        (
            vec![
                "send-template",
                &conversation,
                "order_shipped",
                "--var",
                "Deniz",
            ],
            "--var \"Deniz\": write it as KEY=VALUE",
        ),
        (
            vec![
                "send-template",
                &conversation,
                "summer_sale",
                "--header-url",
                "cdn.example/x.jpg",
            ],
            "--header-url \"cdn.example/x.jpg\": must start with https://",
        ),
        (
            vec![
                "send-template",
                &conversation,
                "login_code",
                "--var",
                "1=a",
                "--var",
                "1=b",
            ],
            "--var 1 is given twice",
        ),
        (
            vec!["send-template", "a b", "login_code"],
            "is not a conversation id",
        ),
    ] {
        let requests = control.request_count();
        fails_with(home.run(&args).await, words);
        assert_eq!(control.request_count(), requests, "{args:?} made a request");
    }

    // Checked against the template before anything is sent.
    for (args, words) in [
        (
            vec![
                "send-template",
                &conversation,
                "order_shipped",
                "--lang",
                "tr",
                "--var",
                "1=Deniz",
            ],
            "missing values for order_shipped (tr): header, {{2}}, {{3}}, button.0 \
             (give --var header=… --var 2=… --var 3=… --var button.0=…)",
        ),
        (
            vec![
                "send-template",
                &conversation,
                "order_shipped",
                "--var",
                "1=Deniz",
            ],
            "template `order_shipped` exists in several languages (ar, en, tr): choose one with --lang",
        ),
        (
            vec![
                "send-template",
                &conversation,
                "order_shiped",
                "--lang",
                "tr",
            ],
            "no template `order_shiped`",
        ),
        (
            vec![
                "send-template",
                &conversation,
                "welcome_offer",
                "--var",
                "1=Elif",
            ],
            "welcome_offer (tr) cannot be sent: it is pending (waiting for WhatsApp's review)",
        ),
        (
            vec!["send-template", &conversation, "back_in_stock"],
            "back_in_stock (ar) cannot be sent: it is rejected (rejected by WhatsApp's review: \
             PROMOTIONAL: the template contains excessive punctuation)",
        ),
        (
            vec!["send-template", &conversation, "cart_reminder"],
            "it is paused",
        ),
        (
            vec![
                "send-template",
                &conversation,
                "login_code",
                "--lang",
                "tr",
                "--var",
                "2=x",
            ],
            "--var 2: login_code (tr) has no such variable (it takes {{1}})",
        ),
    ] {
        fails_with(home.run(&args).await, words);
    }
    assert_eq!(template_sends(&sandbox), 0, "no send request");
    assert_eq!(sandbox.counts().2, messages, "no message stored");

    // The server's refusals come back plainly.
    let instagram = control
        .conversation_ids()
        .into_iter()
        .find(|id| !sandbox.whatsapp_conversations().iter().any(|c| &c.id == id))
        .expect("a conversation that is not on WhatsApp");
    fails_with(
        home.run(&[
            "send-template",
            &instagram,
            "login_code",
            "--lang",
            "tr",
            "--var",
            "1=482913",
        ])
        .await,
        "templates go out on WhatsApp only",
    );
    let other = conversation_for(&sandbox, "login_code", "en");
    fails_with(
        home.run(&[
            "send-template",
            &other,
            "login_code",
            "--lang",
            "tr",
            "--var",
            "1=482913",
        ])
        .await,
        "cannot send login_code (tr): the server refused: channel is not linked to this conversation",
    );
    assert_eq!(sandbox.counts().2, messages, "no message stored");
    sandbox.shutdown().await;
}
