//! Runs commands against the provider on tokio tasks and reports back as
//! events. `Quit` and `OpenEditor` belong to the runtime, not here.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::api::Provider;
use crate::app::command::Command;
use crate::app::event::Event;
use crate::domain::MessageQuery;
use crate::sync::{SyncWorker, THREAD_PAGE};

pub struct Executor {
    provider: Arc<dyn Provider>,
    events: mpsc::UnboundedSender<Event>,
    sync: SyncWorker,
}

impl Executor {
    pub fn new(
        provider: Arc<dyn Provider>,
        events: mpsc::UnboundedSender<Event>,
        sync: SyncWorker,
    ) -> Self {
        Self {
            provider,
            events,
            sync,
        }
    }

    pub fn run(&self, command: Command) {
        let provider = self.provider.clone();
        let events = self.events.clone();
        match command {
            Command::LoadMessages {
                conversation_id,
                before,
            } => {
                tokio::spawn(async move {
                    let query = MessageQuery {
                        conversation_id: conversation_id.clone(),
                        before,
                        after: None,
                        limit: THREAD_PAGE,
                    };
                    let older = before.is_some();
                    let event = match provider.list_messages(&query).await {
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
                    };
                    let _ = events.send(event);
                });
            }
            Command::WatchConversation(id) => self.sync.watch(id),
            Command::Send(outgoing) => {
                tokio::spawn(async move {
                    let event = match provider.send_text(&outgoing).await {
                        Ok(message) => Event::SendConfirmed {
                            client_id: outgoing.client_id,
                            message: Box::new(message),
                        },
                        Err(error) => {
                            tracing::warn!(%error, conversation = %outgoing.conversation_id, "send failed");
                            Event::SendFailed {
                                client_id: outgoing.client_id,
                                error,
                            }
                        }
                    };
                    let _ = events.send(event);
                });
            }
            Command::ScheduleRetry { client_id, after } => {
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = events.send(Event::RetryDue { client_id });
                });
            }
            Command::OpenEditor { .. } | Command::Quit => {
                tracing::error!("runtime command reached the executor");
            }
        }
    }
}
