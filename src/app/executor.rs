//! Runs commands against the provider on tokio tasks and reports back as
//! events. `Quit` and `OpenEditor` belong to the runtime, not here.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tokio::sync::mpsc;

use crate::api::{ApiError, Provider};
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
        match command {
            Command::LoadMessages {
                conversation_id,
                before,
            } => {
                let older = before.is_some();
                let on_panic = Event::MessagesFailed {
                    conversation_id: conversation_id.clone(),
                    error: internal_error(),
                    older,
                };
                self.spawn_reporting(on_panic, async move {
                    let query = MessageQuery {
                        conversation_id: conversation_id.clone(),
                        before,
                        after: None,
                        limit: THREAD_PAGE,
                    };
                    match provider.list_messages(&query).await {
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
            Command::Send(outgoing) => {
                let on_panic = Event::SendFailed {
                    client_id: outgoing.client_id.clone(),
                    error: internal_error(),
                };
                self.spawn_reporting(on_panic, async move {
                    match provider.send_text(&outgoing).await {
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
                    }
                });
            }
            Command::ScheduleRetry { client_id, after } => {
                let events = self.events.clone();
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

fn internal_error() -> ApiError {
    ApiError::Decode("internal error (details in the log)".into())
}
