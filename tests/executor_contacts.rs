//! Reading a contact from the server while the cache lacks it: the
//! executor says nothing until the server answers. A "not cached" sent
//! meanwhile would make the app ask the server again, once per event,
//! for as long as the answer takes — a burst that spends the account's
//! request budget on one contact.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, mpsc};

use termdesk::api::{ApiResult, Capabilities, Provider};
use termdesk::app::command::Command;
use termdesk::app::event::Event;
use termdesk::app::executor::Executor;
use termdesk::domain::{Contact, ContactId, ConversationId};
use termdesk::sync::SyncControl;

const DEADLINE: Duration = Duration::from_secs(20);

/// Answers `get_contact` only once let go, counting the calls.
#[derive(Default)]
struct SlowContacts {
    calls: AtomicUsize,
    release: Notify,
}

#[async_trait]
impl Provider for SlowContacts {
    fn name(&self) -> &str {
        "slow"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    async fn authenticate(&self) -> ApiResult<()> {
        Ok(())
    }

    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.release.notified().await;
        Ok(Contact::named(id.as_str(), "Ayşe"))
    }
}

struct NoSync;

impl SyncControl for NoSync {
    fn watch(&self, _id: Option<ConversationId>) {}
    fn poll_now(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_read_from_the_server_reports_once_when_the_answer_comes() {
    let provider = Arc::new(SlowContacts::default());
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let executor = Executor::new(provider.clone(), events_tx, NoSync, None);
    let id = ContactId::new("c1");
    executor.run(Command::LoadContact {
        contact_id: id.clone(),
        from_server: true,
    });

    let asked = tokio::time::Instant::now() + DEADLINE;
    while provider.calls.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < asked,
            "the server is never asked"
        );
        tokio::task::yield_now().await;
    }
    // Anything sent before the server was asked is in the channel by now.
    assert!(
        events.try_recv().is_err(),
        "nothing is reported while the server's answer is on its way"
    );

    provider.release.notify_one();
    let event = tokio::time::timeout(DEADLINE, events.recv())
        .await
        .expect("the answer is reported")
        .expect("the executor runs");
    match event {
        Event::ContactLoaded {
            contact_id,
            from_server: true,
            result: Ok(contact),
        } => {
            assert_eq!(contact_id, id);
            assert_eq!(contact.first_name, "Ayşe");
        }
        other => panic!("the server's contact expected, got {other:?}"),
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}
