//! The sync worker's memory of contacts stays bounded.

use super::*;
use crate::api::{ApiResult, Capabilities};
use crate::store::fixtures::conversation;

struct Bare;

#[async_trait::async_trait]
impl Provider for Bare {
    fn name(&self) -> &str {
        "Bare"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    async fn authenticate(&self) -> ApiResult<()> {
        Ok(())
    }
}

fn context() -> (Context, mpsc::UnboundedReceiver<SyncEvent>) {
    let (events, rx) = mpsc::unbounded_channel();
    let context = Context {
        provider: Arc::new(Bare),
        settings: SyncSettings::new(Duration::from_secs(5)),
        events,
        shared: Mutex::new(Shared {
            cursors: SyncCursors::fresh(),
            known_contacts: HashSet::new(),
            missing_contacts: BoundedSet::new(),
            wanted_contacts: Vec::new(),
            deferred_contacts: HashSet::new(),
            recent: std::collections::HashMap::new(),
        }),
        names_wanted: Notify::new(),
        head_delivered: watch::channel(false).0,
    };
    (context, rx)
}

#[test]
fn contacts_left_to_the_directory_are_bounded_and_the_rest_asked_for() {
    let (context, _rx) = context();
    let extra = 1_000;
    let rows: Vec<Conversation> = (0..DEFERRED_LIMIT + extra)
        .map(|n| conversation(&format!("r{n}"), n as i64, true))
        .collect();
    context.deliver(rows, false);
    let shared = context.shared();
    assert_eq!(shared.deferred_contacts.len(), DEFERRED_LIMIT);
    assert_eq!(shared.wanted_contacts.len(), extra);
    assert!(shared.recent.len() <= context.settings.threads_read_ahead.max(1) * 2);
}

#[test]
fn contacts_known_missing_are_not_asked_for_again_up_to_a_limit() {
    let (context, _rx) = context();
    {
        let mut shared = context.shared();
        shared
            .missing_contacts
            .extend((0..MISSING_CONTACTS_KEPT + 1).map(|n| ContactId::new(format!("c-r{n}"))));
        assert_eq!(shared.missing_contacts.len(), MISSING_CONTACTS_KEPT);
    }
    // The first was forgotten (asked about again), the last is remembered.
    let first = conversation("r0", 1, true);
    let last = conversation(&format!("r{MISSING_CONTACTS_KEPT}"), 2, true);
    context.deliver(vec![first.clone(), last], true);
    let shared = context.shared();
    assert_eq!(shared.wanted_contacts, vec![first.contact_id.unwrap()]);
}
