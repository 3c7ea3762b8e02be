//! The plain CLI subcommands: useful in scripts, and a quick way to see what
//! termdesk sees. Output is text for people or `--json` for programs.

use std::net::SocketAddr;

use chrono::Utc;
use serde::Serialize;

use crate::api::Provider;
use crate::domain::{
    ConversationId, ConversationQuery, ConversationStatus, MessageQuery, OutgoingText,
};
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::text;
use crate::timefmt;

fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|err| err.to_string())?;
    println!("{text}");
    Ok(())
}

pub fn parse_statuses(list: &[String]) -> Result<Vec<ConversationStatus>, String> {
    list.iter()
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "open" => Ok(ConversationStatus::Open),
            "pending" => Ok(ConversationStatus::Pending),
            "resolved" => Ok(ConversationStatus::Resolved),
            "closed" => Ok(ConversationStatus::Closed),
            other => Err(format!(
                "unknown status `{other}` (use open, pending, resolved or closed)"
            )),
        })
        .collect()
}

pub async fn list_conversations(
    provider: &dyn Provider,
    limit: u32,
    statuses: Vec<ConversationStatus>,
    json: bool,
) -> Result<(), String> {
    let query = ConversationQuery {
        page: 1,
        limit: limit.clamp(1, 100),
        status: statuses,
        ..ConversationQuery::default()
    };
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
pub async fn run_sandbox(host: [u8; 4], port: u16, options: SandboxOptions) -> Result<(), String> {
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
