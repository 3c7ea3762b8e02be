//! What the store keeps in memory stays bounded however long it runs.

use super::fixtures::*;
use super::*;

fn id(n: usize) -> ConversationId {
    ConversationId::new(format!("conv{n}"))
}

fn add_thread(store: &mut Store, n: usize) {
    let conv = format!("conv{n}");
    store.merge_messages(
        &id(n),
        vec![message(
            &conv,
            &format!("m{n}"),
            10,
            SenderKind::Contact,
            "hi",
        )],
        None,
        Some(false),
    );
}

#[test]
fn threads_beyond_the_limit_go_least_recently_used_first() {
    let mut store = Store::default();
    for n in 0..THREADS_KEPT + 20 {
        add_thread(&mut store, n);
        store.touch_thread(&id(n));
        store.trim_threads(|_| false);
    }
    assert_eq!(store.thread_count(), THREADS_KEPT);
    assert!(!store.has_thread(&id(19)));
    assert!(store.has_thread(&id(20)));
    assert!(store.has_thread(&id(THREADS_KEPT + 19)));
    // Using an old thread again keeps it over newer ones.
    store.touch_thread(&id(20));
    add_thread(&mut store, 1000);
    store.trim_threads(|_| false);
    assert!(store.has_thread(&id(20)));
    assert!(!store.has_thread(&id(21)));
    assert_eq!(store.thread_count(), THREADS_KEPT);
}

#[test]
fn threads_in_use_are_never_dropped() {
    let mut store = Store::default();
    // The first thread stays open while the agent's replies keep the
    // second in use; hundreds of others come and go.
    add_thread(&mut store, 0);
    add_thread(&mut store, 1);
    for n in 2..500 {
        add_thread(&mut store, n);
        store.trim_threads(|t| t == &id(0) || t == &id(1));
        assert!(store.thread_count() <= THREADS_KEPT);
    }
    assert!(store.has_thread(&id(0)) && store.has_thread(&id(1)));
    assert!(store.has_thread(&id(499)) && !store.has_thread(&id(2)));
}

#[test]
fn threads_created_by_late_answers_count_towards_the_limit() {
    let mut store = Store::default();
    for n in 0..THREADS_KEPT * 3 {
        // Never opened (no touch): a confirmation or a late page.
        store.thread_mut(&id(n)).loading_older = false;
        store.trim_threads(|_| false);
    }
    assert_eq!(store.thread_count(), THREADS_KEPT);
}

#[test]
fn contacts_known_missing_are_forgotten_oldest_first() {
    let mut store = Store::default();
    let first = conversation("first", 10, true);
    let last = conversation("last", 20, true);
    let first_contact = first.contact_id.clone().unwrap();
    let last_contact = last.contact_id.clone().unwrap();
    store.upsert_conversations(vec![first, last], None);
    let mut missing = vec![first_contact.clone()];
    missing.extend((0..MISSING_CONTACTS_KEPT).map(|n| ContactId::new(format!("gone{n}"))));
    missing.push(last_contact.clone());
    store.upsert_contacts(Vec::new(), missing);
    assert_eq!(store.missing_contacts.len(), MISSING_CONTACTS_KEPT);
    // The oldest may be asked about again; the newest is still known missing.
    assert_eq!(store.unnamed_contacts(), vec![first_contact]);
    assert!(!store.unnamed_contacts().contains(&last_contact));
}
