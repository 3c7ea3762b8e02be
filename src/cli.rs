//! The plain CLI subcommands: useful in scripts, and a quick way to see what
//! termdesk sees. Output is text for people or `--json` for programs.

pub mod contacts;
pub mod contacts_csv;
pub mod sandboxes;
pub mod templates;

use std::net::SocketAddr;

use chrono::Utc;
use serde::Serialize;

use crate::api::Provider;
use crate::domain::{
    Agent, AgentId, Conversation, ConversationId, ConversationQuery, ConversationStatus,
    ConversationUpdate, MessageQuery, OutgoingText, Tag, TagId,
};
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::store::search_text::fold;
use crate::text;
use crate::timefmt;

fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|err| err.to_string())?;
    println!("{text}");
    Ok(())
}

pub fn parse_status(s: &str) -> Result<ConversationStatus, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "open" => Ok(ConversationStatus::Open),
        "pending" => Ok(ConversationStatus::Pending),
        "resolved" => Ok(ConversationStatus::Resolved),
        "closed" => Ok(ConversationStatus::Closed),
        _ => Err(format!(
            "unknown status `{}` (use open, pending, resolved or closed)",
            text::sanitize_line(s)
        )),
    }
}

pub fn parse_statuses(list: &[String]) -> Result<Vec<ConversationStatus>, String> {
    list.iter().map(|s| parse_status(s)).collect()
}

/// Which conversations `conversations list` shows: the inbox's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum View {
    /// Assigned to the account's `agent`.
    Mine,
    /// Assigned to nobody.
    Unassigned,
    /// Every conversation.
    #[default]
    All,
}

/// Longest id accepted: provider ids are short (Qpien's are 24 hex digits).
const MAX_ID_LEN: usize = 128;

/// A conversation id as typed; checked before any request is made.
pub fn conversation_id(raw: &str) -> Result<ConversationId, String> {
    let id = raw.trim();
    if id.is_empty() {
        return Err("the conversation id is empty".into());
    }
    if id.len() > MAX_ID_LEN || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{}` is not a conversation id (see `termdesk conversations list`)",
            text::truncate(&text::sanitize_line(id), 40)
        ));
    }
    Ok(ConversationId::new(id))
}

/// The account's `agent` key, which `what` needs to know who "me" is.
pub fn require_me(agent: Option<String>, account: &str, what: &str) -> Result<String, String> {
    agent.filter(|a| !a.trim().is_empty()).ok_or_else(|| {
        format!(
            "{what} needs to know which agent you are: set `agent` (your e-mail or agent id) \
             in the [[accounts]] block of `{account}` in the config"
        )
    })
}

/// Who `termdesk assign` hands a conversation to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Me,
    Nobody,
    /// An agent's e-mail, id or name, resolved against the agent list.
    Agent(String),
}

pub fn parse_assignee(raw: &str) -> Result<Assignee, String> {
    let who = raw.trim();
    if who.is_empty() {
        return Err("say whom to assign to: an agent's e-mail, id or name, `me` or `none`".into());
    }
    Ok(match who.to_lowercase().as_str() {
        "me" => Assignee::Me,
        "none" | "nobody" => Assignee::Nobody,
        _ => Assignee::Agent(who.to_string()),
    })
}

/// One argument of `termdesk tag`: `+name` adds, `-name` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagChange {
    Add(String),
    Remove(String),
}

impl TagChange {
    fn name(&self) -> &str {
        match self {
            TagChange::Add(name) | TagChange::Remove(name) => name,
        }
    }
}

/// `termdesk tag`'s arguments after the id: the changes, and whether
/// `--json` was among them (the changes take any leading hyphen, so clap
/// leaves options written after them here).
pub fn split_tag_args(args: &[String]) -> Result<(Vec<TagChange>, bool), String> {
    let mut json = false;
    let mut rest = Vec::with_capacity(args.len());
    for arg in args {
        match arg.as_str() {
            "--json" => json = true,
            "--" => {}
            option if option.starts_with("--") => {
                return Err(format!(
                    "`{}`: put options before the tags (a tag to remove is written -name)",
                    text::sanitize_line(option)
                ));
            }
            _ => rest.push(arg.clone()),
        }
    }
    Ok((parse_tag_changes(&rest)?, json))
}

pub fn parse_tag_changes(args: &[String]) -> Result<Vec<TagChange>, String> {
    if args.is_empty() {
        return Err("give tags to change, e.g. `+vip -spam`".into());
    }
    let mut changes: Vec<TagChange> = Vec::with_capacity(args.len());
    for arg in args {
        let arg = arg.trim();
        let change = match (arg.strip_prefix('+'), arg.strip_prefix('-')) {
            (Some(name), _) => TagChange::Add(name.trim().to_string()),
            (_, Some(name)) => TagChange::Remove(name.trim().to_string()),
            _ => {
                return Err(format!(
                    "`{}`: start each tag with + to add it or - to remove it",
                    text::sanitize_line(arg)
                ));
            }
        };
        if change.name().is_empty() {
            return Err(format!("`{}` names no tag", text::sanitize_line(arg)));
        }
        let key = fold(change.name());
        let adds = matches!(change, TagChange::Add(_));
        if changes
            .iter()
            .any(|c| fold(c.name()) == key && matches!(c, TagChange::Add(_)) != adds)
        {
            return Err(format!(
                "`{}` is both added and removed",
                text::sanitize_line(change.name())
            ));
        }
        changes.push(change);
    }
    Ok(changes)
}

pub async fn list_conversations(
    provider: &dyn Provider,
    limit: u32,
    statuses: Vec<ConversationStatus>,
    view: View,
    me: Option<&str>,
    json: bool,
) -> Result<(), String> {
    let mut query = ConversationQuery {
        limit: limit.clamp(1, 100),
        status: statuses,
        ..ConversationQuery::default()
    };
    match view {
        View::All => {}
        View::Unassigned => query.unassigned = true,
        View::Mine => {
            let hint = me.ok_or("`--view mine` needs the account's `agent` key")?;
            let agents = provider
                .list_agents()
                .await
                .map_err(|err| format!("cannot list the agents: {err}"))?;
            query.assignee = Some(resolve_me(&agents, hint)?.id.clone());
        }
    }
    let page = provider
        .list_conversations(&query)
        .await
        .map_err(|err| err.to_string())?;
    if json {
        return print_json(&page.items);
    }
    let now = Utc::now();
    println!(
        "{:<24}  {:<2}  {:<8}  {:<22}  {:>4}  PREVIEW",
        "ID", "CH", "STATUS", "CONTACT", "AGE"
    );
    for conversation in &page.items {
        let preview = conversation
            .last_message
            .as_ref()
            .map(|m| text::sanitize_line(&m.text))
            .unwrap_or_default();
        // The provider leaves names to the store's contact directory, which
        // this one-shot listing does not open: show the contact id instead.
        let who = match (&conversation.contact_name, &conversation.contact_id) {
            (name, _) if !name.is_empty() => text::sanitize_line(name),
            (_, Some(id)) => text::sanitize_line(id.as_str()),
            (_, None) => String::new(),
        };
        println!(
            "{:<24}  {:<2}  {:<8}  {}  {:>4}  {}",
            text::sanitize_line(conversation.id.as_str()),
            conversation.channel.short(),
            conversation.status.label(),
            pad(&who, 22),
            timefmt::relative(now, conversation.updated_at, timefmt::local_offset()),
            text::truncate(&preview, 60)
        );
    }
    let total = page.total.map(|t| format!(" of {t}")).unwrap_or_default();
    println!("({} shown{total})", page.items.len());
    Ok(())
}

pub async fn show_messages(
    provider: &dyn Provider,
    conversation: &str,
    limit: u32,
    json: bool,
) -> Result<(), String> {
    let query = MessageQuery {
        conversation_id: ConversationId::new(conversation),
        before: None,
        after: None,
        limit: limit.clamp(1, 100),
    };
    let page = provider
        .list_messages(&query)
        .await
        .map_err(|err| err.to_string())?;
    let mut messages = page.items;
    messages.reverse();
    if json {
        return print_json(&messages);
    }
    let now = Utc::now();
    for message in &messages {
        let who = message
            .sender_name
            .clone()
            .unwrap_or_else(|| format!("{:?}", message.sender).to_lowercase());
        println!(
            "[{}] {} ({:?})",
            timefmt::clock(now, message.created_at, timefmt::local_offset()),
            who,
            message.ack
        );
        if let Some(subject) = &message.subject {
            println!("  Subject: {subject}");
        }
        for line in message.text.lines() {
            println!("  {line}");
        }
        for media in &message.media {
            println!(
                "  [{}] {}",
                media.kind,
                media.url.as_deref().unwrap_or("(no URL)")
            );
        }
    }
    Ok(())
}

pub async fn send(
    provider: &dyn Provider,
    conversation: &str,
    body: &str,
    json: bool,
) -> Result<(), String> {
    if body.trim().is_empty() {
        return Err("refusing to send an empty message".into());
    }
    let outgoing = OutgoingText {
        conversation_id: ConversationId::new(conversation),
        client_id: uuid::Uuid::new_v4().to_string(),
        text: body.to_string(),
        channel_id: None,
    };
    let message = provider
        .send_text(&outgoing)
        .await
        .map_err(|err| err.to_string())?;
    if json {
        return print_json(&message);
    }
    println!(
        "sent {} ({:?})",
        text::sanitize_line(message.id.as_str()),
        message.ack
    );
    Ok(())
}

/// Serves the sandbox until Ctrl-C.
pub async fn run_sandbox(
    host: [u8; 4],
    port: u16,
    options: SandboxOptions,
    faults: sandboxes::StartFaults,
) -> Result<(), String> {
    let (seed, live) = (options.seed, options.live);
    let misbehaviour = format!(
        "  {} requests per {} s, frontMsgId dedup {}, {}% of write answers lost",
        options.rate_limit,
        options.rate_window.as_secs(),
        if options.dedup_front_msg_id {
            "on"
        } else {
            "off"
        },
        options.lose_answer_rate * 100.0
    );
    let started = std::time::Instant::now();
    let (client_id, client_secret) = (options.client_id.clone(), options.client_secret.clone());
    let sandbox = Sandbox::start(SocketAddr::from((host, port)), options)
        .await
        .map_err(|err| format!("cannot start the sandbox on port {port}: {err}"))?;
    let url = sandbox.base_url();
    sandbox.set_delay(faults.latency);
    sandbox.set_error_rate(faults.error_rate);
    let (conversations, contacts, messages) = sandbox.counts();
    println!("Qpien sandbox listening on {url}");
    println!(
        "  {conversations} conversations, {contacts} contacts, {messages} messages (ready in {} ms)",
        started.elapsed().as_millis()
    );
    println!("  client id:     {client_id}");
    println!("  client secret: {client_secret}");
    println!(
        "  seed {seed}, live traffic {}",
        if live { "on" } else { "off (use --live)" }
    );
    println!("{misbehaviour}");
    if let Some(line) = sandboxes::describe_faults(&faults) {
        println!("{line}");
    }
    println!();
    println!("Get a token:");
    println!(
        "  curl -s {url} -H 'Content-Type: application/json' -d '{{\"query\":\"mutation {{ generateOAuthToken(input: {{clientId: \\\"{client_id}\\\", clientSecret: \\\"{client_secret}\\\"}}) {{ data {{ accessToken expiresIn }} }} }}\"}}'"
    );
    println!("Then send it as `Authorization: Bearer TOKEN`.");
    println!(
        "Steer it with POST {} (JSON, see the README). Press Ctrl-C to stop.",
        url.replace("/api/v1", "/__sandbox/faults")
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|err| format!("cannot wait for Ctrl-C: {err}"))?;
    sandbox.shutdown().await;
    Ok(())
}

fn pad(s: &str, width: usize) -> String {
    let cut = text::truncate(s, width);
    let fill = width.saturating_sub(text::width(&cut));
    format!("{cut}{}", " ".repeat(fill))
}

/// `termdesk search`: the local cache only, so it works offline and costs
/// no requests.
pub fn search(
    cache: &std::path::Path,
    query: &str,
    limit: usize,
    json: bool,
) -> Result<(), String> {
    use crate::store::db::{Db, SearchHit};
    if !cache.exists() {
        return Err(format!(
            "no cache yet at {}: run termdesk once to sync the account",
            cache.display()
        ));
    }
    let db = Db::open_read_only(cache).map_err(|err| err.to_string())?;
    let hits = db
        .search(query, limit.max(1))
        .map_err(|err| err.to_string())?;
    if json {
        let rows: Vec<serde_json::Value> = hits
            .iter()
            .map(|hit| match hit {
                SearchHit::Message {
                    conversation_id,
                    message_id,
                    created_at,
                    sender_name,
                    context,
                } => serde_json::json!({
                    "kind": "message",
                    "conversation_id": conversation_id,
                    "message_id": message_id,
                    "created_at": created_at,
                    "sender": sender_name,
                    "context": context,
                }),
                SearchHit::Contact { contact_id, name } => serde_json::json!({
                    "kind": "contact",
                    "contact_id": contact_id,
                    "name": name,
                }),
            })
            .collect();
        return print_json(&rows);
    }
    if hits.is_empty() {
        println!("No matches for {:?}.", text::sanitize_line(query));
        return Ok(());
    }
    let now = Utc::now();
    for hit in &hits {
        match hit {
            SearchHit::Message {
                conversation_id,
                created_at,
                sender_name,
                context,
                ..
            } => println!(
                "{}  {:>4}  {:<18}  {}",
                text::sanitize_line(conversation_id.as_str()),
                timefmt::relative(now, *created_at, timefmt::local_offset()),
                pad(
                    &text::sanitize_line(sender_name.as_deref().unwrap_or("")),
                    18
                ),
                text::sanitize_line(context)
            ),
            SearchHit::Contact { contact_id, name } => println!(
                "{}  contact  {}",
                text::sanitize_line(contact_id.as_str()),
                text::sanitize_line(name)
            ),
        }
    }
    println!("({} matches)", hits.len());
    Ok(())
}

/// The agent the config's `agent` key (an e-mail or id) names.
pub fn resolve_me<'a>(agents: &'a [Agent], hint: &str) -> Result<&'a Agent, String> {
    let hint = hint.trim();
    agents.iter().find(|a| a.is_named_by(hint)).ok_or_else(|| {
        format!(
            "the config's `agent` = `{}` matches no agent of this account (by e-mail or id); \
                 agents: {}",
            text::sanitize_line(hint),
            agent_list(agents.iter())
        )
    })
}

/// The agent `query` names: an id, an e-mail (any case), or a name, whole
/// or in part, that only one agent has (case and accents ignored).
pub fn match_agent<'a>(agents: &'a [Agent], query: &str) -> Result<&'a Agent, String> {
    let query = query.trim();
    if let Some(agent) = agents.iter().find(|a| a.is_named_by(query)) {
        return Ok(agent);
    }
    let wanted = fold(query);
    let shown = text::sanitize_line(query);
    if wanted.is_empty() {
        return Err(format!("`{shown}` names no agent"));
    }
    let named = |exact: bool| -> Vec<&'a Agent> {
        agents
            .iter()
            .filter(|a| {
                let name = fold(&a.display_name());
                if exact {
                    name == wanted
                } else {
                    name.contains(&wanted)
                }
            })
            .collect()
    };
    for exact in [true, false] {
        match named(exact).as_slice() {
            [] => {}
            [one] => return Ok(one),
            several => {
                return Err(format!(
                    "`{shown}` matches several agents: {}; give more of the name, the e-mail or the id",
                    agent_list(several.iter().copied())
                ));
            }
        }
    }
    let close: Vec<&Agent> = agents
        .iter()
        .filter(|a| {
            let local = a.email.split('@').next().unwrap_or_default().to_lowercase();
            let name = fold(&a.display_name());
            name.split(' ')
                .chain([name.as_str(), local.as_str()])
                .any(|word| is_close(&wanted, word))
        })
        .collect();
    if close.is_empty() {
        Err(format!(
            "no agent matches `{shown}`; agents: {}",
            agent_list(agents.iter())
        ))
    } else {
        Err(format!(
            "no agent matches `{shown}`; close matches: {}",
            agent_list(close.into_iter())
        ))
    }
}

/// Agents for an error message; a long list is cut short.
fn agent_list<'a>(agents: impl Iterator<Item = &'a Agent>) -> String {
    let mut shown: Vec<String> = agents
        .map(|a| {
            let mut entry = format!(
                "{} <{}>",
                text::sanitize_line(&a.display_name()),
                text::sanitize_line(&a.email)
            );
            if a.is_bot {
                entry.push_str(" (bot)");
            } else if !a.active {
                entry.push_str(" (inactive)");
            }
            entry
        })
        .collect();
    if shown.is_empty() {
        return "none".into();
    }
    if shown.len() > 10 {
        let more = shown.len() - 10;
        shown.truncate(10);
        shown.push(format!("and {more} more"));
    }
    shown.join(", ")
}

/// A typo away: within an edit distance of a third of the word (at least 1).
fn is_close(typed: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let allowed = (typed.chars().count() / 3).max(1);
    edit_distance(typed, word) <= allowed
}

/// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows: two back is needed for swaps.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Looks like a Qpien id (24 hex digits): accepted as a tag id even when
/// no conversation seen so far carries it; the server has the last word.
fn looks_like_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The tag `query` names among `known`: its id, or its name (case and
/// accents ignored). `None` when nothing known matches.
fn find_tag(known: &[Tag], query: &str) -> Result<Option<Tag>, String> {
    if let Some(tag) = known.iter().find(|t| t.id.as_str() == query) {
        return Ok(Some(tag.clone()));
    }
    let wanted = fold(query);
    let mut named: Vec<&Tag> = known.iter().filter(|t| fold(&t.name) == wanted).collect();
    named.dedup_by(|a, b| a.id == b.id);
    match named.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        several => Err(format!(
            "`{}` names several tags ({}); give its id",
            text::sanitize_line(query),
            several
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Pages of recent conversations read to learn tag names: Qpien offers no
/// list of tags, so the ones in use are what can be named.
const TAG_PAGES: usize = 3;

async fn known_tags(provider: &dyn Provider, mut known: Vec<Tag>) -> Result<Vec<Tag>, String> {
    let query = ConversationQuery {
        limit: 100,
        ..ConversationQuery::default()
    };
    let pages = provider
        .list_conversation_pages(&query, TAG_PAGES)
        .await
        .map_err(|err| format!("cannot read conversations to learn tag names: {err}"))?;
    for tag in pages.into_iter().flat_map(|p| p.items).flat_map(|c| c.tags) {
        if !known.iter().any(|t| t.id == tag.id) {
            known.push(tag);
        }
    }
    Ok(known)
}

fn unknown_tag(known: &[Tag], query: &str) -> String {
    let wanted = fold(query);
    let mut names: Vec<String> = known.iter().map(|t| text::sanitize_line(&t.name)).collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup();
    let close: Vec<&String> = names
        .iter()
        .filter(|n| {
            let name = fold(n);
            is_close(&wanted, &name) || name.contains(&wanted) || wanted.contains(&name)
        })
        .collect();
    let shown = text::sanitize_line(query);
    if !close.is_empty() {
        let close: Vec<&str> = close.iter().map(|s| s.as_str()).collect();
        format!("unknown tag `{shown}`; close matches: {}", close.join(", "))
    } else if names.is_empty() {
        format!("unknown tag `{shown}`: no tags are in use yet; give a tag id")
    } else {
        format!("unknown tag `{shown}`; tags in use: {}", names.join(", "))
    }
}

/// The contact's name for a one-line report; its id when the name cannot
/// be read.
async fn contact_label(provider: &dyn Provider, conversation: &Conversation) -> String {
    if !conversation.contact_name.trim().is_empty() {
        return text::sanitize_line(&conversation.contact_name);
    }
    let Some(id) = &conversation.contact_id else {
        return crate::domain::UNKNOWN_CONTACT.to_string();
    };
    match provider.get_contact(id).await {
        Ok(contact) => text::sanitize_line(&contact.label()),
        Err(_) => text::sanitize_line(id.as_str()),
    }
}

/// Sends one change and reports it: JSON of the updated conversation, or
/// one line `<verb> <id> (<contact>)<detail>`.
async fn apply(
    provider: &dyn Provider,
    id: &ConversationId,
    update: &ConversationUpdate,
    action: &str,
    report: impl FnOnce(&Conversation) -> (String, String),
    json: bool,
) -> Result<(), String> {
    let conversation = provider
        .update_conversation(id, update)
        .await
        .map_err(|err| {
            format!(
                "cannot {action} {}: {err}",
                text::sanitize_line(id.as_str())
            )
        })?;
    if json {
        return print_json(&conversation);
    }
    let (verb, detail) = report(&conversation);
    let who = contact_label(provider, &conversation).await;
    println!(
        "{verb} {} ({who}){detail}",
        text::sanitize_line(conversation.id.as_str())
    );
    Ok(())
}

/// `termdesk assign`. `me` is the config's `agent` key, checked by the
/// caller when `assignee` is [`Assignee::Me`].
pub async fn assign(
    provider: &dyn Provider,
    id: &ConversationId,
    assignee: &Assignee,
    me: Option<&str>,
    json: bool,
) -> Result<(), String> {
    let agent = match assignee {
        Assignee::Nobody => None,
        Assignee::Me | Assignee::Agent(_) => {
            let agents = provider
                .list_agents()
                .await
                .map_err(|err| format!("cannot list the agents: {err}"))?;
            let agent = match assignee {
                Assignee::Agent(query) => match_agent(&agents, query)?,
                _ => resolve_me(&agents, me.ok_or("`me` needs the account's `agent` key")?)?,
            };
            Some(agent.clone())
        }
    };
    let update = ConversationUpdate {
        assignee: Some(agent.as_ref().map(|a| AgentId::new(a.id.as_str()))),
        ..ConversationUpdate::default()
    };
    let report = |_: &Conversation| match &agent {
        Some(agent) => (
            "assigned".to_string(),
            format!(" to {}", text::sanitize_line(&agent.display_name())),
        ),
        None => ("unassigned".to_string(), String::new()),
    };
    apply(provider, id, &update, "assign", report, json).await
}

/// `termdesk status`.
pub async fn set_status(
    provider: &dyn Provider,
    id: &ConversationId,
    status: ConversationStatus,
    json: bool,
) -> Result<(), String> {
    let verb = match &status {
        ConversationStatus::Open => "reopened".to_string(),
        ConversationStatus::Pending => "set pending".to_string(),
        other => other.label().to_string(),
    };
    let update = ConversationUpdate {
        status: Some(status),
        ..ConversationUpdate::default()
    };
    let report = |_: &Conversation| (verb, String::new());
    apply(provider, id, &update, "change the status of", report, json).await
}

/// `termdesk star` (and `--off`).
pub async fn star(
    provider: &dyn Provider,
    id: &ConversationId,
    on: bool,
    json: bool,
) -> Result<(), String> {
    let update = ConversationUpdate {
        starred: Some(on),
        ..ConversationUpdate::default()
    };
    let verb = if on { "starred" } else { "unstarred" };
    let report = |_: &Conversation| (verb.to_string(), String::new());
    apply(provider, id, &update, "star", report, json).await
}

/// `termdesk tag`: the server replaces the whole set, so the new set is
/// the conversation's current tags with the changes applied. Every name
/// is resolved before anything is written.
pub async fn tag(
    provider: &dyn Provider,
    id: &ConversationId,
    changes: &[TagChange],
    json: bool,
) -> Result<(), String> {
    let current = provider
        .get_conversation(id)
        .await
        .map_err(|err| format!("cannot read {}: {err}", text::sanitize_line(id.as_str())))?;
    let mut known = current.tags.clone();
    let mut fetched = false;
    let mut resolved: Vec<(bool, Tag)> = Vec::with_capacity(changes.len());
    for change in changes {
        let name = change.name();
        let mut found = find_tag(&known, name)?;
        if found.is_none() && !fetched {
            known = known_tags(provider, known).await?;
            fetched = true;
            found = find_tag(&known, name)?;
        }
        let tag = match found {
            Some(tag) => tag,
            None if looks_like_id(name) => Tag {
                id: TagId::new(name),
                name: name.to_string(),
                color: None,
            },
            None => return Err(unknown_tag(&known, name)),
        };
        resolved.push((matches!(change, TagChange::Add(_)), tag));
    }
    let mut tags = current.tags.clone();
    for (add, tag) in resolved {
        if add {
            if !tags.iter().any(|t| t.id == tag.id) {
                tags.push(tag);
            }
        } else {
            tags.retain(|t| t.id != tag.id);
        }
    }
    let ids: Vec<TagId> = tags.iter().map(|t| t.id.clone()).collect();
    let before: Vec<&TagId> = current.tags.iter().map(|t| &t.id).collect();
    if ids.iter().collect::<Vec<_>>() == before {
        // Nothing to write: say so, and show the conversation as it is.
        if json {
            return print_json(&current);
        }
        let who = contact_label(provider, &current).await;
        println!(
            "unchanged {} ({who}){}",
            text::sanitize_line(current.id.as_str()),
            tag_detail(&current.tags)
        );
        return Ok(());
    }
    let update = ConversationUpdate {
        tags: Some(ids),
        ..ConversationUpdate::default()
    };
    let report = |c: &Conversation| ("tagged".to_string(), tag_detail(&c.tags));
    apply(provider, id, &update, "tag", report, json).await
}

fn tag_detail(tags: &[Tag]) -> String {
    if tags.is_empty() {
        return ": no tags".into();
    }
    let names: Vec<String> = tags.iter().map(|t| text::sanitize_line(&t.name)).collect();
    format!(": {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::fixtures::agent;

    fn agents() -> Vec<Agent> {
        vec![
            agent("a1", "Sarah", "Collins", "sarah@acme.test"),
            agent("a2", "Sara", "Yılmaz", "sara.y@acme.test"),
            agent("a3", "Kenji", "Watanabe", "kenji@acme.test"),
            agent("a4", "Zeynep", "Kurt", "zeynep@acme.test"),
        ]
    }

    #[test]
    fn agents_match_by_id_email_or_a_unique_name() {
        let agents = agents();
        let id = |q: &str| match_agent(&agents, q).map(|a| a.id.as_str().to_string());
        assert_eq!(id("a3"), Ok("a3".into()));
        assert_eq!(id("KENJI@acme.test"), Ok("a3".into()));
        assert_eq!(id("kenji"), Ok("a3".into()));
        assert_eq!(id("sara yilmaz"), Ok("a2".into()));
        assert_eq!(id("Sara Yılmaz"), Ok("a2".into()));
        assert_eq!(id("collins"), Ok("a1".into()));
        let err = id("sar").unwrap_err();
        assert!(
            err.contains("several agents") && err.contains("Sarah Collins"),
            "{err}"
        );
        let err = id("kenjj").unwrap_err();
        assert!(err.contains("close matches: Kenji Watanabe"), "{err}");
        let err = id("nobody-like-this").unwrap_err();
        assert!(
            err.contains("no agent matches") && err.contains("agents: "),
            "{err}"
        );
        assert!(id("  ").is_err());
    }

    #[test]
    fn me_is_found_by_email_or_id_only() {
        let agents = agents();
        assert_eq!(
            resolve_me(&agents, "ZEYNEP@acme.test").unwrap().id.as_str(),
            "a4"
        );
        assert_eq!(resolve_me(&agents, "a1").unwrap().id.as_str(), "a1");
        let err = resolve_me(&agents, "Zeynep").unwrap_err();
        assert!(err.contains("`agent` = `Zeynep`"), "{err}");
    }

    #[test]
    fn tag_changes_need_a_sign_and_a_name() {
        let args =
            |a: &[&str]| parse_tag_changes(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            args(&["+vip", "-spam"]),
            Ok(vec![
                TagChange::Add("vip".into()),
                TagChange::Remove("spam".into())
            ])
        );
        assert!(args(&[]).unwrap_err().contains("+vip"));
        assert!(
            args(&["vip"])
                .unwrap_err()
                .contains("start each tag with +")
        );
        assert!(args(&["+"]).unwrap_err().contains("names no tag"));
        assert!(
            args(&["+VIP", "-vip"])
                .unwrap_err()
                .contains("both added and removed")
        );
        assert_eq!(args(&["+vip", "+VIP"]).map(|c| c.len()), Ok(2));
        let split =
            |a: &[&str]| split_tag_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            split(&["+vip", "--json", "--", "-x"]),
            Ok((
                vec![TagChange::Add("vip".into()), TagChange::Remove("x".into())],
                true
            ))
        );
        assert_eq!(
            split(&["-spam"]),
            Ok((vec![TagChange::Remove("spam".into())], false))
        );
        assert!(
            split(&["+vip", "--account"])
                .unwrap_err()
                .contains("put options before")
        );
    }

    #[test]
    fn typos_count_swaps_as_one_edit() {
        assert_eq!(edit_distance("sarha", "sarah"), 1);
        assert_eq!(edit_distance("kenjj", "kenji"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("vip", "vip"), 0);
        assert_eq!(edit_distance("abc", "xyz"), 3);
    }

    #[test]
    fn ids_statuses_and_assignees_are_checked_before_any_request() {
        assert!(conversation_id(" ").unwrap_err().contains("empty"));
        assert!(
            conversation_id("a b")
                .unwrap_err()
                .contains("not a conversation id")
        );
        assert!(conversation_id(&"x".repeat(500)).is_err());
        assert_eq!(conversation_id(" 6701beef ").unwrap().as_str(), "6701beef");
        assert_eq!(parse_status("Resolved"), Ok(ConversationStatus::Resolved));
        assert!(parse_status("done").unwrap_err().contains("open, pending"));
        assert_eq!(parse_assignee("ME"), Ok(Assignee::Me));
        assert_eq!(parse_assignee("none"), Ok(Assignee::Nobody));
        assert_eq!(parse_assignee("Sarah"), Ok(Assignee::Agent("Sarah".into())));
        assert!(parse_assignee("").is_err());
        let err = require_me(None, "work", "`--view mine`").unwrap_err();
        assert!(err.contains("`agent`") && err.contains("`work`"), "{err}");
        assert_eq!(
            require_me(Some("me@x".into()), "work", "x"),
            Ok("me@x".into())
        );
    }

    #[test]
    fn tags_resolve_by_id_or_name() {
        let tag = |id: &str, name: &str| Tag {
            id: TagId::new(id),
            name: name.into(),
            color: None,
        };
        let known = vec![tag("t1", "VIP"), tag("t2", "Geri arama")];
        assert_eq!(find_tag(&known, "vip").unwrap().unwrap().id.as_str(), "t1");
        assert_eq!(find_tag(&known, "t2").unwrap().unwrap().name, "Geri arama");
        assert_eq!(
            find_tag(&known, "geri ARAMA").unwrap().unwrap().id.as_str(),
            "t2"
        );
        assert_eq!(find_tag(&known, "spam"), Ok(None));
        assert!(unknown_tag(&known, "vp").contains("close matches: VIP"));
        assert!(unknown_tag(&known, "zzzzzz").contains("tags in use: Geri arama, VIP"));
        assert!(looks_like_id("6701beef00112233445566aa"));
        assert!(!looks_like_id("vip"));
    }
}
