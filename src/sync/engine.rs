//! The worker's three loops:
//! - **live**: the newest page at start, then every interval the changes
//!   since the cursor (all of them, page after page: an outage of any length
//!   leaves no gap) and the open thread;
//! - **history**: agents, channels and templates once, the whole
//!   conversation list in the background (several pages per request), then
//!   the contact directory, then the directory's changes now and then;
//! - **names**: contacts that rows need and the store lacks, many per request.
//!
//! Every request carries a priority for the account's scheduler.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::backoff::Backoff;
use super::cursor::{Backfill, ChainCursor, SyncCursors};
use super::scheduler::{Priority, with_priority};
use super::{SyncEvent, SyncSettings, SyncStart, THREAD_PAGE};
use crate::api::{ApiError, Provider};
use crate::bounded::BoundedSet;
use crate::domain::{
    ContactId, ContactQuery, Conversation, ConversationId, ConversationQuery, MessageQuery,
};
use crate::store::MISSING_CONTACTS_KEPT;

const PAGE_SIZE: u32 = 100;

type Events = mpsc::UnboundedSender<SyncEvent>;

/// What the loops share: the cursors (each loop moves its own), the
/// contacts known to exist, and the ids waiting for a lookup.
struct Shared {
    cursors: SyncCursors,
    known_contacts: HashSet<ContactId>,
    /// Contacts looked up that do not exist, not asked about again (the
    /// oldest are forgotten past a limit and may be).
    missing_contacts: BoundedSet<ContactId, MISSING_CONTACTS_KEPT>,
    wanted_contacts: Vec<ContactId>,
    /// Contacts of backfilled rows, left to the directory; those it does
    /// not bring are looked up once it is complete.
    deferred_contacts: HashSet<ContactId>,
    /// Change times of conversations seen, for reading ahead the most
    /// recently active threads (trimmed to the newest few hundred).
    recent: std::collections::HashMap<ConversationId, DateTime<Utc>>,
}

impl Shared {
    fn is_known(&self, id: &ContactId) -> bool {
        self.known_contacts.contains(id) || self.missing_contacts.contains(id)
    }
}

/// Contacts left to the directory at most; past this, names are looked up
/// at once rather than remembered for later.
const DEFERRED_LIMIT: usize = 50_000;

struct Context {
    provider: Arc<dyn Provider>,
    settings: SyncSettings,
    events: Events,
    shared: Mutex<Shared>,
    names_wanted: Notify,
    /// The newest page has been delivered: history may start, so the first
    /// screen never waits behind older pages.
    head_delivered: watch::Sender<bool>,
}

impl Context {
    fn shared(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, event: SyncEvent) -> bool {
        self.events.send(event).is_ok()
    }

    fn publish_cursors(&self) {
        let cursors = self.shared().cursors.clone();
        self.send(SyncEvent::Cursors(cursors));
    }

    /// Passes conversations on and queues the contacts they name that the
    /// store does not hold. During the backfill only rows the agent sees
    /// first ask for names one by one: the directory brings the rest.
    fn deliver(&self, items: Vec<Conversation>, want_names: bool) {
        if items.is_empty() {
            return;
        }
        {
            let mut shared = self.shared();
            let shared = &mut *shared;
            remember_recent(&mut shared.recent, &items, self.settings.threads_read_ahead);
            for conversation in &items {
                let Some(id) = &conversation.contact_id else {
                    continue;
                };
                if shared.is_known(id) {
                    continue;
                }
                if !want_names && shared.deferred_contacts.len() < DEFERRED_LIMIT {
                    shared.deferred_contacts.insert(id.clone());
                } else if !shared.wanted_contacts.contains(id) {
                    shared.wanted_contacts.push(id.clone());
                }
            }
            if !shared.wanted_contacts.is_empty() {
                self.names_wanted.notify_one();
            }
        }
        self.send(SyncEvent::Conversations(items));
    }
}

pub(super) fn spawn(
    provider: Arc<dyn Provider>,
    settings: SyncSettings,
    start: SyncStart,
    events: Events,
    watched: watch::Receiver<Option<ConversationId>>,
    nudge: Arc<Notify>,
) -> Vec<JoinHandle<()>> {
    let directory_complete = start.cursors.contacts_complete;
    let context = Arc::new(Context {
        provider,
        settings,
        events,
        shared: Mutex::new(Shared {
            cursors: start.cursors,
            known_contacts: start.known_contacts,
            missing_contacts: BoundedSet::new(),
            // Rows cached without a name: looked up now if the directory is
            // complete, or after it otherwise.
            wanted_contacts: if directory_complete {
                start.unnamed_contacts.clone()
            } else {
                Vec::new()
            },
            recent: std::collections::HashMap::new(),
            deferred_contacts: if directory_complete {
                HashSet::new()
            } else {
                start.unnamed_contacts.iter().cloned().collect()
            },
        }),
        names_wanted: Notify::new(),
        head_delivered: watch::channel(false).0,
    });
    let live = {
        let context = context.clone();
        supervise(context.clone(), "live", move || {
            live(context.clone(), watched.clone(), nudge.clone()).boxed()
        })
    };
    let history = {
        let context = context.clone();
        supervise(context.clone(), "history", move || {
            history(context.clone()).boxed()
        })
    };
    let names = {
        let context = context.clone();
        supervise(context.clone(), "names", move || {
            names(context.clone()).boxed()
        })
    };
    let budget = {
        let context = context.clone();
        supervise(context.clone(), "budget", move || {
            budget(context.clone()).boxed()
        })
    };
    vec![live, history, names, budget]
}

/// Runs a loop and restarts it if it ever panics, telling the agent: a
/// silent stop would leave the inbox frozen with no sign of it.
fn supervise(
    context: Arc<Context>,
    name: &'static str,
    make: impl Fn() -> futures::future::BoxFuture<'static, ()> + Send + 'static,
) -> JoinHandle<()> {
    const RESTART_DELAY: Duration = Duration::from_secs(5);
    tokio::spawn(async move {
        loop {
            if AssertUnwindSafe(make()).catch_unwind().await.is_ok() {
                return;
            }
            tracing::error!(task = name, "a sync task panicked; restarting it");
            let reported = context.send(SyncEvent::Failed {
                error: ApiError::Decode("internal error in the sync worker; restarted it".into()),
                retry_in: RESTART_DELAY,
            });
            if !reported {
                return;
            }
            tokio::time::sleep(RESTART_DELAY).await;
        }
    })
}

async fn live(
    context: Arc<Context>,
    mut watched: watch::Receiver<Option<ConversationId>>,
    nudge: Arc<Notify>,
) {
    if !context.send(SyncEvent::Connecting) {
        return;
    }
    let mut head_done = false;
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        let round = async {
            if !head_done {
                head(&context).await?;
                head_done = true;
                context.head_delivered.send_replace(true);
            }
            changes(&context).await
        };
        let wait = match round.await {
            Ok(()) => {
                backoff.reset();
                context.send(SyncEvent::Synced);
                let open = watched.borrow_and_update().clone();
                if let Some(id) = open {
                    refresh_thread(&context, id).await;
                }
                context.settings.interval
            }
            Err(error) => {
                let delay = match &error {
                    ApiError::RateLimited { retry_after } => *retry_after,
                    _ => backoff.next_delay(rand::random::<f64>()),
                };
                tracing::warn!(%error, ?delay, "sync failed");
                if !context.send(SyncEvent::Failed {
                    error,
                    retry_in: delay,
                }) {
                    return;
                }
                delay
            }
        };
        if context.events.is_closed() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = nudge.notified() => {}
        }
    }
}

/// The newest page, on every start: the first screen is right at once,
/// however long termdesk was closed.
async fn head(context: &Context) -> Result<(), ApiError> {
    let query = ConversationQuery {
        limit: PAGE_SIZE,
        ..ConversationQuery::default()
    };
    let page = with_priority(
        Priority::ListChanges,
        context.provider.list_conversations(&query),
    )
    .await?;
    let newest = page.items.iter().map(|c| c.updated_at).max();
    context.send(SyncEvent::Totals {
        conversations: page.total,
        contacts: None,
    });
    let moved = {
        let mut shared = context.shared();
        let fresh = shared.cursors.conversations.is_none();
        if fresh {
            // Everything older than the newest page is the backfill's job.
            let since = newest.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
            shared.cursors.conversations = Some(ChainCursor::at(since));
        }
        let pending = shared.cursors.backfill == Backfill::Pending;
        if pending {
            shared.cursors.backfill = match &page.next {
                Some(next) => Backfill::At(next.clone()),
                None => Backfill::Done,
            };
        }
        fresh || pending
    };
    context.deliver(page.items, true);
    if moved {
        context.publish_cursors();
    }
    Ok(())
}

/// Every change since the cursor, oldest first, page after page until the
/// end: the cursor is saved after each request, so a failure resumes there.
async fn changes(context: &Context) -> Result<(), ApiError> {
    // A quiet poll needs one page; a backlog gets several per request.
    let mut backlog = false;
    loop {
        let (cursor, pages) = {
            let shared = context.shared();
            let Some(cursor) = shared.cursors.conversations.clone() else {
                return Ok(());
            };
            let pages = if backlog {
                context.settings.pages_per_request.max(1) as usize
            } else {
                1
            };
            (cursor, pages)
        };
        backlog = true;
        let query = ConversationQuery {
            cursor: cursor.next.clone(),
            limit: PAGE_SIZE,
            updated_since: Some(cursor.since),
            oldest_first: true,
            ..ConversationQuery::default()
        };
        // Several pages per request where the provider allows it (one with a
        // query-cost limit learns to send fewer by itself).
        let results = with_priority(
            Priority::ListChanges,
            context.provider.list_conversation_pages(&query, pages),
        )
        .await?;
        let mut last_time = None;
        let mut newest = None;
        let mut following = None;
        let mut at_end = results.is_empty();
        for page in results {
            if let Some(last) = page.items.last() {
                last_time = Some(last.updated_at);
            }
            if let Some(max) = page.items.iter().map(|c| c.updated_at).max() {
                newest = Some(newest.map_or(max, |n: DateTime<Utc>| n.max(max)));
            }
            at_end |= !page.has_more() || page.items.is_empty();
            following = page.next;
            context.deliver(page.items, true);
            if at_end {
                break;
            }
        }
        let next = if at_end {
            cursor.caught_up(newest)
        } else {
            cursor.advance(last_time, following)
        };
        let moved = next != cursor;
        if moved {
            context.shared().cursors.conversations = Some(next);
            context.publish_cursors();
        }
        if at_end {
            return Ok(());
        }
    }
}

async fn refresh_thread(context: &Context, id: ConversationId) {
    let query = MessageQuery {
        conversation_id: id.clone(),
        before: None,
        after: None,
        limit: THREAD_PAGE,
    };
    match with_priority(Priority::Thread, context.provider.list_messages(&query)).await {
        Ok(page) => {
            context.send(SyncEvent::Messages {
                conversation_id: id,
                page,
            });
        }
        // The next poll tries again; the conversation poll reports outages.
        Err(error) => tracing::warn!(%error, conversation = %id, "refreshing thread failed"),
    }
}

async fn history(context: Arc<Context>) {
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(120));
    let mut directories_loaded = false;
    let mut threads_read =
        !context.provider.capabilities().batched_reads || context.settings.threads_read_ahead == 0;
    if !context.provider.capabilities().contacts {
        context.shared().cursors.contacts_complete = true;
    }
    let mut head = context.head_delivered.subscribe();
    if head.wait_for(|delivered| *delivered).await.is_err() {
        return;
    }
    loop {
        let step = async {
            if !directories_loaded {
                directories(&context).await;
                directories_loaded = true;
            }
            let (backfill_done, contacts_done) = {
                let shared = context.shared();
                (
                    shared.cursors.backfill_done(),
                    shared.cursors.contacts_complete,
                )
            };
            if !backfill_done {
                backfill_step(&context).await.map(|()| None)
            } else if !contacts_done {
                contact_directory_step(&context).await.map(|()| None)
            } else if !threads_read {
                threads_read = true;
                read_threads_ahead(&context).await;
                Ok(None)
            } else {
                contact_directory_step(&context)
                    .await
                    .map(|()| Some(context.settings.directory_interval))
            }
        };
        let pause = match step.await {
            Ok(pause) => {
                backoff.reset();
                pause
            }
            // History waiting for its share of the budget is the normal
            // pace of a large account, not a failure worth a warning.
            Err(ApiError::RateLimited { retry_after }) => {
                tracing::debug!(?retry_after, "loading history waits for the rate budget");
                Some(retry_after)
            }
            Err(error) => {
                let delay = backoff.next_delay(rand::random::<f64>());
                tracing::warn!(%error, ?delay, "loading history failed; trying again");
                Some(delay)
            }
        };
        if context.events.is_closed() {
            return;
        }
        if let Some(pause) = pause {
            tokio::time::sleep(pause).await;
        }
    }
}

/// Keeps the change times of the newest `keep` conversations seen.
fn remember_recent(
    recent: &mut std::collections::HashMap<ConversationId, DateTime<Utc>>,
    items: &[Conversation],
    keep: usize,
) {
    for conversation in items {
        let entry = recent
            .entry(conversation.id.clone())
            .or_insert(conversation.updated_at);
        *entry = (*entry).max(conversation.updated_at);
    }
    if recent.len() > keep.max(1) * 2 {
        let mut times: Vec<DateTime<Utc>> = recent.values().copied().collect();
        times.sort_unstable_by(|a, b| b.cmp(a));
        let cutoff = times[keep.max(1) - 1];
        recent.retain(|_, at| *at >= cutoff);
    }
}

/// The newest messages of the most recently active threads, many threads
/// per request, once per start: they open instantly, offline too, and
/// their words are found by search.
async fn read_threads_ahead(context: &Context) {
    const PER_THREAD: u32 = 30;
    const PER_REQUEST: usize = 10;
    let mut ids: Vec<(DateTime<Utc>, ConversationId)> = context
        .shared()
        .recent
        .iter()
        .map(|(id, at)| (*at, id.clone()))
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.truncate(context.settings.threads_read_ahead);
    for chunk in ids.chunks(PER_REQUEST) {
        let queries: Vec<MessageQuery> = chunk
            .iter()
            .map(|(_, id)| MessageQuery {
                conversation_id: id.clone(),
                before: None,
                after: None,
                limit: PER_THREAD,
            })
            .collect();
        let results = with_priority(
            Priority::Backfill,
            context.provider.list_message_batch(&queries),
        )
        .await;
        let mut read = Vec::new();
        for (query, result) in queries.into_iter().zip(results) {
            match result {
                Ok(page) => read.push((query.conversation_id, page)),
                Err(error) => {
                    tracing::warn!(%error, "reading threads ahead failed; stopping");
                    if !read.is_empty() {
                        context.send(SyncEvent::ThreadsRead(read));
                    }
                    return;
                }
            }
        }
        if !context.send(SyncEvent::ThreadsRead(read)) {
            return;
        }
    }
}

/// Agents, channels and templates: small lists, fetched once per start.
async fn directories(context: &Context) {
    let provider = &context.provider;
    let capabilities = provider.capabilities();
    if capabilities.agents {
        match with_priority(Priority::Backfill, provider.list_agents()).await {
            Ok(agents) => {
                context.send(SyncEvent::Agents(agents));
            }
            Err(error) => tracing::warn!(%error, "loading agents failed"),
        }
    } else {
        match with_priority(Priority::Backfill, provider.current_agent()).await {
            Ok(Some(agent)) => {
                context.send(SyncEvent::SignedIn(agent));
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "reading the signed-in agent failed"),
        }
    }
    if capabilities.channels {
        match with_priority(Priority::Backfill, provider.list_channels()).await {
            Ok(channels) => {
                context.send(SyncEvent::Channels(channels));
            }
            Err(error) => tracing::warn!(%error, "loading channels failed"),
        }
    }
    if capabilities.templates {
        match with_priority(Priority::Backfill, provider.list_templates()).await {
            Ok(templates) => {
                context.send(SyncEvent::Templates(templates));
            }
            Err(error) => tracing::warn!(%error, "loading templates failed"),
        }
    }
}

/// The next pages of the whole list, newest first. Conversations that
/// change meanwhile move to the top and only push the rest down: a page may
/// repeat rows (they merge), never skip them.
async fn backfill_step(context: &Context) -> Result<(), ApiError> {
    let (first, pages) = {
        let shared = context.shared();
        let first = match &shared.cursors.backfill {
            Backfill::Done => return Ok(()),
            Backfill::At(cursor) => Some(cursor.clone()),
            // The newest page comes first and sets this; should it not
            // have, reading from the top again only repeats rows.
            Backfill::Pending => None,
        };
        (first, context.settings.pages_per_request.max(1) as usize)
    };
    let query = ConversationQuery {
        cursor: first,
        limit: PAGE_SIZE,
        ..ConversationQuery::default()
    };
    let results = with_priority(
        Priority::Backfill,
        context.provider.list_conversation_pages(&query, pages),
    )
    .await?;
    let mut at_end = results.is_empty();
    let mut following = None;
    let mut total = None;
    let want_names = context.shared().cursors.contacts_complete;
    for page in results {
        total = page.total.or(total);
        at_end |= !page.has_more() || page.items.is_empty();
        following = page.next;
        context.deliver(page.items, want_names);
        if at_end {
            break;
        }
    }
    {
        let mut shared = context.shared();
        shared.cursors.backfill = match following {
            Some(next) if !at_end => Backfill::At(next),
            _ => Backfill::Done,
        };
        if total.is_some() {
            shared.cursors.total_conversations = total;
        }
    }
    if total.is_some() {
        context.send(SyncEvent::Totals {
            conversations: total,
            contacts: None,
        });
    }
    context.publish_cursors();
    Ok(())
}

/// The next pages of the contact directory, oldest change first, so the
/// saved cursor resumes exactly where it stopped.
async fn contact_directory_step(context: &Context) -> Result<(), ApiError> {
    let (cursor, pages) = {
        let shared = context.shared();
        let cursor = shared
            .cursors
            .contacts
            .clone()
            .unwrap_or_else(|| ChainCursor::at(DateTime::<Utc>::UNIX_EPOCH));
        (cursor, context.settings.pages_per_request.max(1) as usize)
    };
    let query = ContactQuery {
        cursor: cursor.next.clone(),
        limit: PAGE_SIZE,
        updated_since: Some(cursor.since),
        ..ContactQuery::default()
    };
    let results = with_priority(
        Priority::Backfill,
        context.provider.list_contact_pages(&query, pages),
    )
    .await?;
    let mut at_end = results.is_empty();
    let mut following = None;
    let mut last_time = None;
    let mut newest = None;
    let mut total = None;
    for page in results {
        total = page.total.or(total);
        if let Some(last) = page.items.last().and_then(|c| c.updated_at) {
            last_time = Some(last);
        }
        if let Some(max) = page.items.iter().filter_map(|c| c.updated_at).max() {
            newest = Some(newest.map_or(max, |n: DateTime<Utc>| n.max(max)));
        }
        at_end |= !page.has_more() || page.items.is_empty();
        following = page.next;
        if !page.items.is_empty() {
            {
                let mut shared = context.shared();
                for contact in &page.items {
                    shared.known_contacts.insert(contact.id.clone());
                }
            }
            context.send(SyncEvent::Contacts {
                found: page.items,
                missing: Vec::new(),
            });
        }
        if at_end {
            break;
        }
    }
    let became_complete = {
        let mut shared = context.shared();
        let next = if at_end {
            cursor.caught_up(newest)
        } else {
            cursor.advance(last_time, following)
        };
        shared.cursors.contacts = Some(next);
        if total.is_some() && !shared.cursors.contacts_complete {
            shared.cursors.total_contacts = total;
        }
        let became = at_end && !shared.cursors.contacts_complete;
        if at_end {
            shared.cursors.contacts_complete = true;
            let deferred = std::mem::take(&mut shared.deferred_contacts);
            let shared = &mut *shared;
            let mut queued: HashSet<ContactId> = shared.wanted_contacts.iter().cloned().collect();
            for id in deferred {
                if !shared.is_known(&id) && queued.insert(id.clone()) {
                    shared.wanted_contacts.push(id);
                }
            }
        }
        became
    };
    if total.is_some() {
        context.send(SyncEvent::Totals {
            conversations: None,
            contacts: total,
        });
    }
    context.publish_cursors();
    if became_complete {
        // Rows whose contact the directory did not hold still need a name.
        context.names_wanted.notify_one();
    }
    Ok(())
}

/// Tells the agent when the server's rate limit holds requests back: the
/// wait happens inside the scheduler, where nothing else would see it.
async fn budget(context: Arc<Context>) {
    if context.provider.budget().is_none() {
        return;
    }
    let mut reported: Option<std::time::Instant> = None;
    loop {
        let now = std::time::Instant::now();
        let paused = context
            .provider
            .budget()
            .and_then(|status| status.paused_until)
            .filter(|until| *until > now);
        if paused != reported {
            let left = paused.map(|until| until.saturating_duration_since(now));
            if !context.send(SyncEvent::Paused(left)) {
                return;
            }
            reported = paused;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Looks up the contacts rows are waiting for, many per request.
async fn names(context: Arc<Context>) {
    let mut backoff = Backoff::new(Duration::from_secs(2), Duration::from_secs(120));
    loop {
        let batch: Vec<ContactId> = {
            let mut shared = context.shared();
            let take = shared
                .wanted_contacts
                .len()
                .min(context.settings.contact_batch.max(1));
            shared.wanted_contacts.drain(..take).collect()
        };
        if batch.is_empty() {
            if context.events.is_closed() {
                return;
            }
            context.names_wanted.notified().await;
            continue;
        }
        match with_priority(Priority::ListChanges, context.provider.get_contacts(&batch)).await {
            Ok(found) => {
                backoff.reset();
                let found_ids: HashSet<ContactId> = found.iter().map(|c| c.id.clone()).collect();
                let missing: Vec<ContactId> = batch
                    .iter()
                    .filter(|id| !found_ids.contains(*id))
                    .cloned()
                    .collect();
                {
                    let mut shared = context.shared();
                    // Missing ones too: asking again on every poll would
                    // spend the budget on contacts that do not exist.
                    shared.known_contacts.extend(found_ids);
                    shared.missing_contacts.extend(missing.iter().cloned());
                }
                if !context.send(SyncEvent::Contacts { found, missing }) {
                    return;
                }
            }
            Err(error) => {
                let delay = backoff.next_delay(rand::random::<f64>());
                tracing::warn!(%error, ?delay, "looking up contacts failed; trying again");
                {
                    let mut shared = context.shared();
                    let mut again = batch;
                    again.append(&mut shared.wanted_contacts);
                    shared.wanted_contacts = again;
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
