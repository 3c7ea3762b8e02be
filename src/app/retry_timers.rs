//! The outbox's retry timers: one per reply at most, cancelled when the
//! reply leaves the outbox or is sent early, and all stopped on shutdown,
//! so no timer outlives what it was waiting for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::app::event::Event;

#[derive(Default)]
struct Timers {
    /// Each live timer with the generation that armed it: a timer that
    /// fires removes only its own entry, never a newer one for the same id.
    by_id: HashMap<String, (u64, AbortHandle)>,
    generation: u64,
}

pub struct RetryTimers {
    timers: Arc<Mutex<Timers>>,
    events: mpsc::UnboundedSender<Event>,
}

impl RetryTimers {
    pub fn new(events: mpsc::UnboundedSender<Event>) -> Self {
        Self {
            timers: Arc::default(),
            events,
        }
    }

    /// Sends `Event::RetryDue` for `client_id` after `after`, replacing any
    /// timer already set for it.
    pub fn schedule(&self, client_id: String, after: Duration) {
        let Ok(mut timers) = self.timers.lock() else {
            return;
        };
        timers.generation += 1;
        let generation = timers.generation;
        let shared = Arc::clone(&self.timers);
        let events = self.events.clone();
        let id = client_id.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            if let Ok(mut timers) = shared.lock()
                && timers.by_id.get(&id).is_some_and(|(g, _)| *g == generation)
            {
                timers.by_id.remove(&id);
            }
            let _ = events.send(Event::RetryDue { client_id: id });
        });
        if let Some((_, old)) = timers
            .by_id
            .insert(client_id, (generation, task.abort_handle()))
        {
            old.abort();
        }
    }

    /// Stops the timer of `client_id`, if one is set.
    pub fn cancel(&self, client_id: &str) {
        if let Ok(mut timers) = self.timers.lock()
            && let Some((_, handle)) = timers.by_id.remove(client_id)
        {
            handle.abort();
        }
    }

    /// Timers still waiting.
    pub fn len(&self) -> usize {
        self.timers.lock().map(|t| t.by_id.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for RetryTimers {
    fn drop(&mut self) {
        if let Ok(mut timers) = self.timers.lock() {
            for (_, (_, handle)) in timers.by_id.drain() {
                handle.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(3600);

    fn due(rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<String> {
        let mut ids = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let Event::RetryDue { client_id } = event {
                ids.push(client_id);
            }
        }
        ids
    }

    /// Waits (with a deadline) until `live` timer tasks still hold a copy
    /// of the channel besides `probe` and the one `RetryTimers` keeps.
    async fn until_tasks(probe: &mpsc::UnboundedSender<Event>, owner: usize, live: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while probe.strong_count() != 1 + owner + live {
            assert!(
                std::time::Instant::now() < deadline,
                "{} timer tasks alive, expected {live}",
                probe.strong_count() - 1 - owner
            );
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_timer_fires_once_and_forgets_itself() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let timers = RetryTimers::new(tx.clone());
        timers.schedule("a".into(), Duration::ZERO);
        until_tasks(&tx, 1, 0).await;
        assert_eq!(due(&mut rx), vec!["a".to_string()]);
        assert!(timers.is_empty());
    }

    #[tokio::test]
    async fn a_replaced_timer_fires_once() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let timers = RetryTimers::new(tx.clone());
        timers.schedule("a".into(), LONG);
        timers.schedule("a".into(), Duration::ZERO);
        // The first timer is gone, not merely forgotten, and the second fired.
        until_tasks(&tx, 1, 0).await;
        assert_eq!(due(&mut rx), vec!["a".to_string()]);
        assert!(timers.is_empty());
    }

    #[tokio::test]
    async fn a_replacement_made_after_firing_is_kept() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let timers = RetryTimers::new(tx.clone());
        timers.schedule("a".into(), Duration::ZERO);
        until_tasks(&tx, 1, 0).await;
        timers.schedule("a".into(), LONG);
        assert_eq!(timers.len(), 1);
        until_tasks(&tx, 1, 1).await;
        assert_eq!(due(&mut rx), vec!["a".to_string()]);
    }

    #[tokio::test]
    async fn a_cancelled_timer_never_fires() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let timers = RetryTimers::new(tx.clone());
        timers.schedule("a".into(), LONG);
        timers.schedule("b".into(), Duration::ZERO);
        timers.cancel("a");
        timers.cancel("missing");
        until_tasks(&tx, 1, 0).await;
        assert_eq!(due(&mut rx), vec!["b".to_string()]);
        assert!(timers.is_empty());
    }

    #[tokio::test]
    async fn nothing_is_left_after_drop() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let timers = RetryTimers::new(tx.clone());
        for i in 0..100 {
            timers.schedule(format!("m{i}"), LONG);
        }
        assert_eq!(timers.len(), 100);
        until_tasks(&tx, 1, 100).await;
        drop(timers);
        until_tasks(&tx, 0, 0).await;
        assert!(due(&mut rx).is_empty());
    }
}
