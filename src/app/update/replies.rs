//! Replies on their way out: the outbox, sent one at a time per
//! conversation, exactly once, saved in the cache at every step.

use super::*;
use crate::domain::ChannelId;

pub(super) fn try_send(state: &mut AppState, client_id: String) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        state.notify(NoticeLevel::Warning, "Open a conversation before replying.");
        return Vec::new();
    };
    if state.composer.is_blank() {
        state.notify(NoticeLevel::Warning, "Nothing to send: the reply is empty.");
        return Vec::new();
    }
    if super::templates::blocked_by_window(state, &id) {
        save_draft(state);
        return Vec::new();
    }
    let newest = newest_inbound_id(state);
    if newest.is_some() && newest != state.composer.seen_inbound {
        let seen = state.composer.seen_inbound.take();
        let arrived = seen
            .as_ref()
            .map(|seen| count_inbound_after(state, &id, seen));
        state.composer.seen_inbound = newest;
        state.thread_scroll = 0;
        let who = state
            .store
            .get(&id)
            .map(|e| e.conversation.contact_name.clone())
            .unwrap_or_else(|| "the customer".into());
        let what = match arrived {
            Some(1) => "1 new message".to_string(),
            Some(n) if n > 1 => format!("{n} new messages"),
            _ => "New messages".to_string(),
        };
        state.notify(
            NoticeLevel::Warning,
            format!(
                "{what} from {who} while you typed; read them, then press Enter again to send."
            ),
        );
        return Vec::new();
    }
    let channel_id = reply_channel(state, &id);
    let text = state.composer.text().trim_end().to_string();
    let commands = enqueue(state, client_id, id, channel_id, text, None);
    state.composer = Composer {
        seen_inbound: newest,
        ..Composer::default()
    };
    save_draft(state);
    state.thread_scroll = 0;
    commands
}

pub(super) fn reply_channel(state: &AppState, id: &ConversationId) -> Option<ChannelId> {
    state
        .store
        .get(id)
        .and_then(|e| e.conversation.reply_channel_id.clone())
}

/// Puts a message in the outbox (on disk first). One message of a
/// conversation is on its way at a time, so they arrive in the order
/// written: the send starts now only if nothing is ahead of it.
pub(super) fn enqueue(
    state: &mut AppState,
    client_id: String,
    conversation_id: ConversationId,
    channel_id: Option<ChannelId>,
    text: String,
    template: Option<crate::store::outbox::OutboxTemplate>,
) -> Vec<Command> {
    let first_in_line = state.outbox.head_of(&conversation_id).is_none();
    let item = OutboxItem {
        client_id: client_id.clone(),
        conversation_id,
        channel_id,
        text,
        created_at: state.now,
        state: if first_in_line {
            OutboxState::Sending { attempt: 1 }
        } else {
            OutboxState::Queued
        },
        fate_unknown: false,
        template,
    };
    let command = send_command(&item);
    state.outbox.push(item);
    persist_outbox_item(state, &client_id);
    state.dirty = true;
    if first_in_line {
        vec![command]
    } else {
        Vec::new()
    }
}

pub(super) fn send_command(item: &OutboxItem) -> Command {
    Command::Send {
        outgoing: item.outgoing(),
        check_echo: item.fate_unknown,
        created_at: item.created_at,
    }
}

/// Writes an outbox item's current state to the journal, or its removal.
pub(super) fn persist_outbox_item(state: &mut AppState, client_id: &str) {
    let write = match state.outbox.get(client_id) {
        Some(item) => DbWrite::PutMutation {
            kind: crate::store::outbox::KIND,
            id: item.client_id.clone(),
            conversation_id: item.conversation_id.clone(),
            json: item.to_json(),
        },
        None => DbWrite::RemoveMutation {
            id: client_id.to_string(),
        },
    };
    state.store.record(write);
}

pub(super) fn remove_outbox_item(state: &mut AppState, client_id: &str) -> bool {
    let removed = state.outbox.remove(client_id).is_some();
    if removed {
        persist_outbox_item(state, client_id);
    }
    removed
}

/// Starts the next reply of every conversation whose line is free: after a
/// confirmation, and at start for replies restored from the database.
pub fn next_sends(state: &mut AppState) -> Vec<Command> {
    let mut commands = Vec::new();
    for client_id in state.outbox.ready_heads() {
        let Some(item) = state.outbox.get_mut(&client_id) else {
            continue;
        };
        item.state = OutboxState::Sending { attempt: 1 };
        commands.push(send_command(item));
        persist_outbox_item(state, &client_id);
        state.dirty = true;
    }
    commands
}

/// Customer messages after `seen` (all of them if `seen` is no longer in
/// the thread).
pub(super) fn count_inbound_after(
    state: &AppState,
    id: &ConversationId,
    seen: &MessageId,
) -> usize {
    let Some(thread) = state.store.thread(id) else {
        return 0;
    };
    let start = thread
        .messages
        .iter()
        .position(|m| &m.id == seen)
        .map(|i| i + 1)
        .unwrap_or(0);
    thread.messages[start..]
        .iter()
        .filter(|m| m.sender == crate::domain::SenderKind::Contact)
        .count()
}

/// A failed reply whose echo is in the thread did reach the server (its
/// answer was lost): resending it would duplicate it.
pub(super) fn already_delivered(state: &mut AppState, client_id: &str) -> bool {
    let Some(item) = state.outbox.get(client_id) else {
        return false;
    };
    let delivered = state.store.thread(&item.conversation_id).is_some_and(|t| {
        t.messages
            .iter()
            .any(|m| m.client_id.as_deref() == Some(client_id))
    });
    if delivered {
        remove_outbox_item(state, client_id);
        state.notify(
            NoticeLevel::Info,
            "That reply reached the customer after all; nothing to resend.",
        );
    }
    delivered
}

pub(super) fn retry_failed(state: &mut AppState, fresh_id: String) -> Vec<Command> {
    let Some(id) = state.open.clone().or_else(|| state.selected.clone()) else {
        return Vec::new();
    };
    let Some(client_id) = state.outbox.latest_failed(&id).map(|i| i.client_id.clone()) else {
        if let Some(message) = super::templates::latest_server_failed(state) {
            return super::templates::resend_failed_message(state, &message, fresh_id);
        }
        state.notify(NoticeLevel::Info, "No failed reply here to retry.");
        return Vec::new();
    };
    if already_delivered(state, &client_id) {
        return next_sends(state);
    }
    let Some(item) = state.outbox.get_mut(&client_id) else {
        return Vec::new();
    };
    item.state = OutboxState::Sending { attempt: 1 };
    let command = send_command(item);
    persist_outbox_item(state, &client_id);
    vec![command]
}

pub(super) fn edit_failed(state: &mut AppState) -> Vec<Command> {
    let Some(id) = state.open.clone() else {
        return Vec::new();
    };
    let Some(client_id) = state.outbox.latest_failed(&id).map(|i| i.client_id.clone()) else {
        if let Some(message) = super::templates::latest_server_failed(state) {
            return super::templates::edit_failed_message(state, &message);
        }
        state.notify(NoticeLevel::Info, "No failed reply here to edit.");
        return Vec::new();
    };
    if already_delivered(state, &client_id) {
        return Vec::new();
    }
    let Some(item) = state.outbox.get(&client_id) else {
        return Vec::new();
    };
    if item.template.is_some() && !item.fate_unknown {
        return super::templates::edit_failed_template(state, &client_id);
    }
    if item.fate_unknown {
        // It may be on the server already: editing and sending it again
        // could deliver it twice. Ask the server first.
        let command = Command::CheckEcho {
            client_id,
            conversation_id: item.conversation_id.clone(),
            created_at: item.created_at,
        };
        state.notify(
            NoticeLevel::Info,
            "Checking whether that reply arrived after all…",
        );
        return vec![command];
    }
    move_to_composer(state, &client_id)
}

/// Takes a failed reply out of the outbox and into the composer. Replies
/// queued behind it go out now rather than wait for an edit that may never
/// be sent.
pub(super) fn move_to_composer(state: &mut AppState, client_id: &str) -> Vec<Command> {
    if state
        .outbox
        .get(client_id)
        .is_some_and(|item| item.template.is_some())
    {
        return super::templates::edit_failed_template(state, client_id);
    }
    let Some(item) = state.outbox.remove(client_id) else {
        return Vec::new();
    };
    persist_outbox_item(state, client_id);
    let text = if state.composer.is_blank() {
        item.text
    } else {
        format!("{}\n{}", state.composer.text(), item.text)
    };
    state.composer.set_text(&text);
    state.draft_changed_at = Some(state.now);
    begin_compose(state);
    next_sends(state)
}

pub(super) fn on_echo_checked(
    state: &mut AppState,
    client_id: &str,
    result: Result<Option<Box<Message>>, ApiError>,
) -> Vec<Command> {
    match result {
        Ok(Some(message)) => {
            state.notify(
                NoticeLevel::Info,
                "That reply reached the customer after all; nothing to edit or resend.",
            );
            on_send_confirmed(state, client_id, *message)
        }
        Ok(None) => {
            if let Some(item) = state.outbox.get_mut(client_id) {
                item.fate_unknown = false;
            }
            state.dirty = true;
            move_to_composer(state, client_id)
        }
        Err(error) => {
            state.notify_error(
                "Could not check whether the reply arrived; try again when online",
                &error,
            );
            Vec::new()
        }
    }
}

/// Replies waiting out a retry delay are sent at once when the connection
/// comes back, instead of when their timers run out.
pub(super) fn retry_waiting_now(state: &mut AppState) -> Vec<Command> {
    waiting_retries(state)
        .into_iter()
        .flat_map(|client_id| update_retry_due(state, client_id))
        .collect()
}

/// Replies whose retry timer is running.
pub(super) fn waiting_retries(state: &AppState) -> Vec<String> {
    state
        .outbox
        .items()
        .iter()
        .filter(|i| matches!(i.state, OutboxState::WaitingRetry { .. }))
        .map(|i| i.client_id.clone())
        .collect()
}

/// Stops the timers of replies that were waiting and have left the outbox
/// (delivered after all, discarded, taken back to edit).
pub(super) fn cancel_left_retries(state: &AppState, waiting: Vec<String>) -> Vec<Command> {
    waiting
        .into_iter()
        .filter(|id| state.outbox.get(id).is_none())
        .map(|client_id| Command::CancelRetry { client_id })
        .collect()
}

pub(super) fn update_retry_due(state: &mut AppState, client_id: String) -> Vec<Command> {
    if already_delivered(state, &client_id) {
        return next_sends(state);
    }
    let Some(item) = state.outbox.get_mut(&client_id) else {
        return Vec::new();
    };
    let OutboxState::WaitingRetry { attempt, .. } = item.state else {
        return Vec::new();
    };
    item.state = OutboxState::Sending {
        attempt: attempt + 1,
    };
    state.dirty = true;
    let command = send_command(item);
    persist_outbox_item(state, &client_id);
    vec![command]
}

pub(super) fn on_send_confirmed(
    state: &mut AppState,
    client_id: &str,
    message: Message,
) -> Vec<Command> {
    let started = state
        .outbox
        .get(client_id)
        .and_then(|item| item.template.as_ref()?.contact_id.clone());
    remove_outbox_item(state, client_id);
    let id = message.conversation_id.clone();
    let mut commands = Vec::new();
    if let Some(contact) = started
        && state.store.get(&id).is_none()
    {
        commands.extend(super::templates::on_conversation_started(
            state, &contact, &id,
        ));
    }
    if let Some(entry) = state.store.get(&id).cloned() {
        let mut conversation = entry.conversation;
        conversation.last_message = Some(MessagePreview {
            text: text::sanitize_line(&message.text),
            sender: message.sender,
            kind: message.kind.clone(),
            ack: message.ack,
            created_at: message.created_at,
        });
        conversation.updated_at = conversation.updated_at.max(message.created_at);
        state
            .store
            .upsert_conversations(vec![conversation], state.open.as_ref());
        ensure_selected_visible(state);
    }
    if state.store.has_thread(&id) || state.open.as_ref() == Some(&id) {
        state.store.merge_messages(&id, vec![message], None, None);
    } else {
        // Its thread was dropped from memory: the cache keeps the message.
        state.store.read_ahead(&id, vec![message], false);
    }
    state.dirty = true;
    commands.extend(next_sends(state));
    commands
}

pub(super) fn on_send_failed(
    state: &mut AppState,
    client_id: &str,
    error: &ApiError,
) -> Vec<Command> {
    let Some(item) = state.outbox.get_mut(client_id) else {
        return Vec::new();
    };
    let attempt = match item.state {
        OutboxState::Sending { attempt } | OutboxState::WaitingRetry { attempt, .. } => attempt,
        OutboxState::Failed { .. } | OutboxState::Queued => return Vec::new(),
    };
    // The server may have stored it before the answer went missing (or
    // came back garbled); a 429 or a refusal says for sure that it did not.
    let ambiguous = matches!(error, ApiError::Decode(_))
        || (error.is_transient() && !matches!(error, ApiError::RateLimited { .. }));
    if ambiguous {
        item.fate_unknown = true;
    }
    state.dirty = true;
    // An outage never turns a reply into a failure: it waits for the
    // connection, however long. Garbled answers are retried a few times.
    let retry = error.is_transient()
        || (ambiguous && attempt < crate::store::outbox::MAX_AUTOMATIC_ATTEMPTS);
    if retry {
        let delay = match error {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => crate::store::outbox::retry_delay(attempt),
        };
        item.state = OutboxState::WaitingRetry {
            attempt,
            retry_at: state.now + chrono::Duration::from_std(delay).unwrap_or_default(),
            // The line shows when it is tried again; the error's own
            // "retrying in" would say it twice.
            reason: match error {
                ApiError::RateLimited { .. } => "rate-limited".to_string(),
                other => other.to_string(),
            },
        };
        persist_outbox_item(state, client_id);
        return vec![Command::ScheduleRetry {
            client_id: client_id.to_string(),
            after: delay,
        }];
    }
    let reason = if ambiguous {
        format!("{error} (gave up after {attempt} attempts)")
    } else {
        error.to_string()
    };
    item.state = OutboxState::Failed { reason };
    let conversation = item.conversation_id.clone();
    persist_outbox_item(state, client_id);
    let who = state
        .store
        .get(&conversation)
        .map(|e| e.conversation.contact_name.clone())
        .unwrap_or_else(|| "the customer".into());
    state.notify(
        NoticeLevel::Error,
        format!("Reply to {who} not sent: {error}. Its text is kept: R retries, e edits."),
    );
    Vec::new()
}
