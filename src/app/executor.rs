//! Runs commands against the provider and the cache on tokio tasks and
//! reports back as events. `Quit` and `OpenEditor` belong to the runtime.
//! Every provider call carries its priority for the account's scheduler.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use tokio::sync::mpsc;

use crate::api::{ApiError, ApiResult, Provider};
use crate::app::command::Command;
use crate::app::event::Event;
use crate::app::retry_timers::RetryTimers;
use crate::app::update::CACHE_PAGE;
use crate::domain::{
    ContactId, ContactQuery, ConversationId, ConversationQuery, Message, MessageId, MessageQuery,
    Recipient,
};
use crate::store::db::Db;
use crate::store::gap_key;
use crate::store::outbox::Outgoing;
use crate::store::writer::DbWriter;
use crate::sync::scheduler::{Priority, with_priority};
use crate::sync::{SyncControl, THREAD_PAGE};

/// How far before a reply's creation its echo is looked for: the agent's
/// clock and the server's may disagree.
const ECHO_CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(10);
/// Pages of newer messages searched for an echo before giving up on it.
const ECHO_PAGES: usize = 5;
const SEARCH_LIMIT: usize = 200;
/// Conversations asked of the server for a filter the cache cannot answer.
const SERVER_SEARCH_LIMIT: u32 = 50;

/// The account's database as the executor sees it: the writer (replies go
/// to disk before the network) and a read connection for threads and search.
#[derive(Clone)]
pub struct CacheAccess {
    pub writer: DbWriter,
    pub reader: Arc<Mutex<Db>>,
}

pub struct Executor {
    provider: Arc<dyn Provider>,
    events: mpsc::UnboundedSender<Event>,
    sync: Box<dyn SyncControl>,
    cache: Option<CacheAccess>,
    /// Stopped when the executor is dropped, at shutdown.
    retries: RetryTimers,
}

impl Executor {
    pub fn new(
        provider: Arc<dyn Provider>,
        events: mpsc::UnboundedSender<Event>,
        sync: impl SyncControl + 'static,
        cache: Option<CacheAccess>,
    ) -> Self {
        Self {
            provider,
            retries: RetryTimers::new(events.clone()),
            events,
            sync: Box::new(sync),
            cache,
        }
    }

    pub fn run(&self, command: Command) {
        let provider = self.provider.clone();
        match command {
            Command::LoadCachedThread { conversation_id } => {
                let Some(cache) = self.cache.clone() else {
                    return;
                };
                let events = self.events.clone();
                tokio::task::spawn_blocking(move || {
                    let loaded = read(&cache, |db| {
                        let messages = db.load_messages(&conversation_id, None, CACHE_PAGE)?;
                        let gap = db.get_meta(&gap_key(&conversation_id))?;
                        Ok((messages, gap))
                    });
                    match loaded {
                        Ok((mut messages, gap)) => {
                            messages.reverse();
                            let _ = events.send(Event::CachedMessages {
                                conversation_id,
                                has_older: messages.len() >= CACHE_PAGE,
                                messages,
                                older: false,
                                gap_before: gap.filter(|g| !g.is_empty()).map(MessageId::new),
                            });
                        }
                        Err(error) => tracing::warn!(%error, "reading a cached thread failed"),
                    }
                });
            }
            Command::LoadMessages {
                conversation_id,
                before,
                held_at_anchor,
                cache_first,
            } => {
                let older = before.is_some();
                let on_panic = Event::MessagesFailed {
                    conversation_id: conversation_id.clone(),
                    error: internal_error(),
                    older,
                };
                let cache = if cache_first {
                    self.cache.clone()
                } else {
                    None
                };
                self.spawn_reporting(on_panic, async move {
                    if let (Some(cache), Some(anchor)) = (cache, before.clone()) {
                        let id = conversation_id.clone();
                        let cached = tokio::task::spawn_blocking(move || {
                            read(&cache, |db| db.load_messages(&id, Some(anchor), CACHE_PAGE))
                        })
                        .await;
                        if let Ok(Ok(mut messages)) = cached
                            && !messages.is_empty()
                        {
                            messages.reverse();
                            return Event::CachedMessages {
                                conversation_id,
                                has_older: true,
                                messages,
                                older: true,
                                gap_before: None,
                            };
                        }
                    }
                    let loaded = match before {
                        Some((anchor, _)) => {
                            let older = crate::sync::older::older_messages(
                                provider.as_ref(),
                                &conversation_id,
                                anchor,
                                held_at_anchor,
                                THREAD_PAGE,
                            );
                            with_priority(Priority::Thread, older).await
                        }
                        None => {
                            let query = MessageQuery {
                                conversation_id: conversation_id.clone(),
                                before: None,
                                after: None,
                                limit: THREAD_PAGE,
                            };
                            with_priority(Priority::Thread, provider.list_messages(&query)).await
                        }
                    };
                    match loaded {
                        Ok(page) => Event::MessagesLoaded {
                            conversation_id,
                            page,
                            older,
                        },
                        Err(error) => Event::MessagesFailed {
                            conversation_id,
                            error,
                            older,
                        },
                    }
                });
            }
            Command::WatchConversation(id) => self.sync.watch(id),
            Command::Send {
                outgoing,
                check_echo,
                created_at,
            } => {
                // Sent early (the connection came back): its timer is moot.
                self.retries.cancel(outgoing.client_id());
                let on_panic = Event::SendFailed {
                    client_id: outgoing.client_id().to_string(),
                    error: internal_error(),
                };
                let writer = self.cache.as_ref().map(|c| c.writer.clone());
                self.spawn_reporting(on_panic, async move {
                    // The reply is on disk before it goes anywhere: a crash
                    // from here on resumes it instead of losing it.
                    if let Some(writer) = writer
                        && let Err(error) = writer.flush().await
                    {
                        tracing::warn!(%error, "could not save a reply before sending it");
                    }
                    send(provider.as_ref(), outgoing, check_echo, created_at).await
                });
            }
            Command::CheckEcho {
                client_id,
                conversation_id,
                created_at,
            } => {
                let on_panic = Event::EchoChecked {
                    client_id: client_id.clone(),
                    result: Err(internal_error()),
                };
                self.spawn_reporting(on_panic, async move {
                    let result =
                        find_echo(provider.as_ref(), &conversation_id, &client_id, created_at)
                            .await
                            .map(|found| found.map(Box::new));
                    Event::EchoChecked { client_id, result }
                });
            }
            Command::ScheduleRetry { client_id, after } => {
                self.retries.schedule(client_id, after);
            }
            Command::CancelRetry { client_id } => self.retries.cancel(&client_id),
            Command::Search { query } => {
                let events = self.events.clone();
                let Some(cache) = self.cache.clone() else {
                    let _ = events.send(Event::SearchResults {
                        query,
                        result: Err("search needs the cache, which could not be opened".into()),
                    });
                    return;
                };
                tokio::task::spawn_blocking(move || {
                    let result = read(&cache, |db| db.search(&query, SEARCH_LIMIT));
                    let _ = events.send(Event::SearchResults { query, result });
                });
            }
            Command::UpdateConversation {
                mutation_id,
                conversation_id,
                update,
            } => {
                let on_panic = Event::MutationSent {
                    mutation_id: mutation_id.clone(),
                    result: Err(internal_error()),
                };
                self.spawn_reporting(on_panic, async move {
                    // The agent's own actions share the replies' priority.
                    let result = with_priority(
                        Priority::Send,
                        provider.update_conversation(&conversation_id, &update),
                    )
                    .await
                    .map(Box::new);
                    if let Err(error) = &result {
                        tracing::warn!(%error, conversation = %conversation_id, "action failed");
                    }
                    Event::MutationSent {
                        mutation_id,
                        result,
                    }
                });
            }
            Command::LoadTemplates => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    match with_priority(Priority::Thread, provider.list_templates()).await {
                        Ok(templates) => {
                            let _ = events
                                .send(Event::Sync(crate::sync::SyncEvent::Templates(templates)));
                        }
                        Err(error) => {
                            tracing::warn!(%error, "reading templates failed");
                            let _ = events.send(Event::TemplatesFailed(error));
                        }
                    }
                });
            }
            Command::RefreshConversation(conversation_id) => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    match with_priority(
                        Priority::Thread,
                        provider.get_conversation(&conversation_id),
                    )
                    .await
                    {
                        Ok(conversation) => {
                            let _ = events.send(Event::Sync(
                                crate::sync::SyncEvent::Conversations(vec![conversation]),
                            ));
                        }
                        Err(error) => {
                            tracing::warn!(%error, conversation = %conversation_id, "refresh failed")
                        }
                    }
                });
            }
            Command::SearchConversations { query } => {
                let on_panic = Event::ConversationsFound {
                    query: query.clone(),
                    result: Err(internal_error()),
                };
                self.spawn_reporting(on_panic, async move {
                    let request = ConversationQuery {
                        limit: SERVER_SEARCH_LIMIT,
                        search: Some(query.clone()),
                        ..ConversationQuery::default()
                    };
                    let result =
                        with_priority(Priority::Thread, provider.list_conversations(&request))
                            .await
                            .map(|page| page.items);
                    Event::ConversationsFound { query, result }
                });
            }
            Command::LoadContact {
                contact_id,
                from_server,
            } => {
                let cache = self.cache.clone();
                let on_panic = Event::ContactLoaded {
                    contact_id: contact_id.clone(),
                    from_server,
                    result: Err(internal_error()),
                };
                let events = self.events.clone();
                self.spawn_reporting(on_panic, async move {
                    let cached = match cache {
                        Some(cache) => {
                            let id = contact_id.clone();
                            tokio::task::spawn_blocking(move || {
                                read(&cache, |db| db.get_contact(&id))
                            })
                            .await
                            .ok()
                            .and_then(Result::ok)
                            .flatten()
                        }
                        None => None,
                    };
                    if !from_server {
                        return Event::ContactLoaded {
                            contact_id,
                            from_server: false,
                            result: cached
                                .map(Box::new)
                                .ok_or_else(|| ApiError::NotFound("not in the cache".into())),
                        };
                    }
                    // A cached copy shows at once. A miss says nothing: the
                    // server's answer is on its way, and a "not cached" now
                    // would only ask the server again.
                    if let Some(contact) = cached {
                        let _ = events.send(Event::ContactLoaded {
                            contact_id: contact_id.clone(),
                            from_server: false,
                            result: Ok(Box::new(contact)),
                        });
                    }
                    let result = with_priority(Priority::Thread, provider.get_contact(&contact_id))
                        .await
                        .map(Box::new);
                    Event::ContactLoaded {
                        contact_id,
                        from_server: true,
                        result,
                    }
                });
            }
            Command::SaveContact {
                edit_id,
                op,
                attempts,
            } => {
                let on_panic = Event::ContactSaved {
                    edit_id: edit_id.clone(),
                    result: Err(crate::app::event::ContactSaveError::Api(internal_error())),
                };
                let writer = self.cache.as_ref().map(|c| c.writer.clone());
                self.spawn_reporting(on_panic, async move {
                    // On disk before it goes anywhere, like a reply.
                    if let Some(writer) = writer
                        && let Err(error) = writer.flush().await
                    {
                        tracing::warn!(%error, "could not save a contact change before sending it");
                    }
                    let result =
                        crate::app::save_contact::save_contact(provider.as_ref(), &op, attempts)
                            .await;
                    if let Err(error) = &result {
                        tracing::warn!(?error, "saving a contact did not go through");
                    }
                    Event::ContactSaved { edit_id, result }
                });
            }
            Command::SearchContacts { query } => {
                let on_panic = Event::ContactsFound {
                    query: query.clone(),
                    result: Err(internal_error()),
                };
                self.spawn_reporting(on_panic, async move {
                    let request = ContactQuery {
                        limit: SERVER_SEARCH_LIMIT,
                        search: Some(query.clone()),
                        ..ContactQuery::default()
                    };
                    let result = with_priority(Priority::Thread, provider.list_contacts(&request))
                        .await
                        .map(|page| page.items);
                    Event::ContactsFound { query, result }
                });
            }
            Command::OpenEditor { .. }
            | Command::OpenPager { .. }
            | Command::Alert { .. }
            | Command::Quit => {
                tracing::error!("runtime command reached the executor");
            }
        }
    }

    /// Runs `work` and sends its event; if it panics, sends `on_panic`, so a
    /// reply never hangs in "sending" and a load never hangs in "loading".
    fn spawn_reporting(
        &self,
        on_panic: Event,
        work: impl std::future::Future<Output = Event> + Send + 'static,
    ) {
        let events = self.events.clone();
        tokio::spawn(async move {
            let event = AssertUnwindSafe(work)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!("a background task panicked");
                    on_panic
                });
            let _ = events.send(event);
        });
    }
}

fn read<T>(
    cache: &CacheAccess,
    query: impl FnOnce(&Db) -> Result<T, crate::store::db::DbError>,
) -> Result<T, String> {
    let db = cache
        .reader
        .lock()
        .map_err(|_| "the cache reader is unavailable".to_string())?;
    query(&db).map_err(|e| e.to_string())
}

/// Sends a reply exactly once. After an attempt whose outcome is unknown the
/// server is searched for the reply's echo first, whether or not it
/// de-duplicates `frontMsgId` itself.
async fn send(
    provider: &dyn Provider,
    outgoing: Outgoing,
    check_echo: bool,
    created_at: DateTime<Utc>,
) -> Event {
    let client_id = outgoing.client_id().to_string();
    if check_echo {
        let found = match &outgoing {
            Outgoing::Text(text) => {
                find_echo(provider, &text.conversation_id, &client_id, created_at).await
            }
            Outgoing::Template(template) => match &template.recipient {
                Recipient::Conversation(id) => {
                    find_echo(provider, id, &client_id, created_at).await
                }
                Recipient::Contact(contact) => {
                    find_echo_for_contact(provider, contact, &client_id, created_at).await
                }
            },
        };
        match found {
            Ok(Some(message)) => {
                return Event::SendConfirmed {
                    client_id,
                    message: Box::new(message),
                    found_echo: true,
                };
            }
            Ok(None) => {}
            Err(error) => return Event::SendFailed { client_id, error },
        }
    }
    let sent = match &outgoing {
        Outgoing::Text(text) => with_priority(Priority::Send, provider.send_text(text)).await,
        Outgoing::Template(template) => {
            with_priority(Priority::Send, provider.send_template(template)).await
        }
    };
    match sent {
        Ok(message) => Event::SendConfirmed {
            client_id,
            message: Box::new(message),
            found_echo: false,
        },
        Err(error) => {
            tracing::warn!(%error, "send failed");
            Event::SendFailed { client_id, error }
        }
    }
}

/// The echo of a message that started a conversation with `contact`: it
/// is in one of the contact's conversations updated since it was written.
async fn find_echo_for_contact(
    provider: &dyn Provider,
    contact: &ContactId,
    client_id: &str,
    created_at: DateTime<Utc>,
) -> ApiResult<Option<Message>> {
    let query = ConversationQuery {
        limit: 100,
        updated_since: Some(created_at - ECHO_CLOCK_SLACK),
        ..ConversationQuery::default()
    };
    let page = with_priority(Priority::Send, provider.list_conversations(&query)).await?;
    for conversation in page
        .items
        .iter()
        .filter(|c| c.contact_id.as_ref() == Some(contact))
    {
        if let Some(echo) = find_echo(provider, &conversation.id, client_id, created_at).await? {
            return Ok(Some(echo));
        }
    }
    if page.has_more() {
        return Err(ApiError::Decode(
            "too many conversations changed since the message to be sure it was not delivered"
                .into(),
        ));
    }
    Ok(None)
}

/// The server's copy of a reply, looked for among the conversation's
/// messages since the reply was written.
pub async fn find_echo(
    provider: &dyn Provider,
    conversation_id: &ConversationId,
    client_id: &str,
    created_at: DateTime<Utc>,
) -> ApiResult<Option<Message>> {
    let after = created_at - ECHO_CLOCK_SLACK;
    // Page numbers under a fixed query: messages arriving meanwhile push
    // others to later pages (seen twice), never past one, and many sharing
    // one time are not stepped over as paging by time would.
    let query = MessageQuery {
        conversation_id: conversation_id.clone(),
        before: None,
        after: Some(after),
        limit: 100,
    };
    for page in 1..=ECHO_PAGES as u32 {
        let found =
            with_priority(Priority::Send, provider.list_messages_page(&query, page)).await?;
        if let Some(echo) = found
            .items
            .iter()
            .find(|m| m.client_id.as_deref() == Some(client_id))
        {
            return Ok(Some(echo.clone()));
        }
        if !found.has_more() || found.items.is_empty() {
            return Ok(None);
        }
    }
    Err(ApiError::Decode(
        "too many messages since the reply to be sure it was not delivered".into(),
    ))
}

fn internal_error() -> ApiError {
    ApiError::Decode("internal error (details in the log)".into())
}
