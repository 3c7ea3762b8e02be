//! The request scheduler: one per account, it owns the provider's rate
//! budget so that many workers (sync, backfill, the open thread, the agent's
//! own sends) share it without overrunning the server's limit, and so that
//! the agent's actions always go first.
//!
//! The decision is the pure [`Budget`] (time is passed in); [`Scheduler`]
//! only adds waiting. Priority travels in a task-local (see
//! [`with_priority`]) so the `Provider` trait does not need a parameter for
//! it and every HTTP request, token fetches included, is counted.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Who is asking, highest first. Lower priorities leave headroom in the
/// window for higher ones and never overtake a waiting higher one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// The agent's sends and other actions.
    Send,
    /// The open thread.
    Thread,
    /// Polling the conversation list for changes.
    ListChanges,
    /// Backfill of history and the contact directory.
    Backfill,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Send,
        Priority::Thread,
        Priority::ListChanges,
        Priority::Backfill,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Share of the window this priority may fill, in percent. The gaps are
    /// the headroom kept for the priorities above it.
    fn share_percent(self) -> u64 {
        match self {
            Priority::Send => 100,
            Priority::Thread => 95,
            Priority::ListChanges => 90,
            Priority::Backfill => 75,
        }
    }
}

/// The server counts requests in fixed 60 s windows. Any 60 s span lies
/// inside some 61 s span, so holding at most `limit` requests in every 61 s
/// sliding window keeps every server window within the limit too, with a
/// second to spare for network jitter between our clock and theirs.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(61);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Go,
    /// Not before this instant. It is a lower bound: a waiter woken earlier
    /// (something changed) or at this time asks again.
    WaitUntil(Instant),
}

/// What the status bar shows about the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerStatus {
    /// Requests in the current window.
    pub used: u32,
    pub limit: u32,
    pub window: Duration,
    /// Set after the server refused (429) or reported its budget spent.
    pub paused_until: Option<Instant>,
    /// Waiting requests, indexed like [`Priority::ALL`].
    pub waiting: [u32; 4],
}

impl SchedulerStatus {
    pub fn waiting_for(&self, priority: Priority) -> u32 {
        self.waiting[priority.index()]
    }
}

/// The rate budget as a pure state machine: a sliding window of the start
/// times of granted requests, a pause set from the server's answers, and the
/// number of requests waiting at each priority.
#[derive(Debug, Clone)]
pub struct Budget {
    limit: u32,
    window: Duration,
    /// Start times of the requests granted within the last `window`, oldest first.
    granted: VecDeque<Instant>,
    paused_until: Option<Instant>,
    waiting: [u32; 4],
    /// What the server last said is left (`remaining`) until its window
    /// resets: guards against other users of the same API key, whom our own
    /// count cannot see.
    server_left: Option<(u32, Instant)>,
}

impl Budget {
    pub fn new(limit: u32, window: Duration) -> Self {
        Budget {
            limit: limit.max(1),
            window: window.max(Duration::from_millis(1)),
            granted: VecDeque::new(),
            paused_until: None,
            waiting: [0; 4],
            server_left: None,
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// How many requests of `priority` the window may hold. Never below 1,
    /// and never above the cap of a higher priority.
    pub fn cap(&self, priority: Priority) -> u32 {
        let scaled = u64::from(self.limit) * priority.share_percent() / 100;
        (scaled as u32).clamp(1, self.limit)
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&oldest) = self.granted.front() {
            if oldest + self.window <= now {
                self.granted.pop_front();
            } else {
                break;
            }
        }
        if self.paused_until.is_some_and(|until| until <= now) {
            self.paused_until = None;
        }
        if self.server_left.is_some_and(|(_, reset)| reset <= now) {
            self.server_left = None;
        }
    }

    /// When the window will hold fewer than `cap` requests.
    fn free_at(&self, cap: u32) -> Instant {
        let used = self.granted.len();
        let must_expire = used + 1 - cap as usize;
        self.granted[must_expire - 1] + self.window
    }

    /// Grants (and records) a request now, or says how long to wait.
    pub fn decide(&mut self, now: Instant, priority: Priority) -> Decision {
        self.expire(now);
        if let Some(until) = self.paused_until {
            return Decision::WaitUntil(until);
        }
        if let Some((0, reset)) = self.server_left {
            return Decision::WaitUntil(reset);
        }
        let cap = self.cap(priority);
        let full = self.granted.len() >= cap as usize;
        let outranked = Priority::ALL[..priority.index()]
            .iter()
            .any(|p| self.waiting[p.index()] > 0);
        if full {
            return Decision::WaitUntil(self.free_at(cap));
        }
        if outranked {
            // The higher request goes first; its grant wakes everyone again.
            // The time is only a fallback should that wake-up be missed.
            return Decision::WaitUntil(now + self.window);
        }
        self.granted.push_back(now);
        if let Some((left, _)) = self.server_left.as_mut() {
            *left -= 1;
        }
        Decision::Go
    }

    /// Whether a request of `priority` waits only because a higher one is
    /// waiting (so its wait has no known end).
    pub fn is_outranked(&self, priority: Priority) -> bool {
        Priority::ALL[..priority.index()]
            .iter()
            .any(|p| self.waiting[p.index()] > 0)
    }

    /// Nobody is granted anything before `until`.
    pub fn pause_until(&mut self, until: Instant) {
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Takes in the server's `X-RateLimit-Remaining` / `Reset` of one
    /// response. Answers can arrive out of order, so within one server
    /// window (reset times within a second of each other) the lowest count
    /// is the most recent truth.
    pub fn observe_server(&mut self, now: Instant, remaining: u32, reset_in: Duration) {
        let reset = now + reset_in;
        let same_window = |old: Instant| {
            let gap = if old > reset {
                old - reset
            } else {
                reset - old
            };
            gap < Duration::from_secs(1)
        };
        self.server_left = match self.server_left {
            Some((left, old)) if same_window(old) => Some((left.min(remaining), old.max(reset))),
            _ => Some((remaining, reset)),
        };
    }

    pub fn add_waiter(&mut self, priority: Priority) {
        self.waiting[priority.index()] += 1;
    }

    pub fn remove_waiter(&mut self, priority: Priority) {
        let n = &mut self.waiting[priority.index()];
        *n = n.saturating_sub(1);
    }

    pub fn status(&mut self, now: Instant) -> SchedulerStatus {
        self.expire(now);
        // A server that reported its budget spent holds requests back just
        // like a 429 does: the agent is told either way.
        let server_spent = self
            .server_left
            .filter(|(left, reset)| *left == 0 && *reset > now)
            .map(|(_, reset)| reset);
        SchedulerStatus {
            used: self.granted.len() as u32,
            limit: self.limit,
            window: self.window,
            paused_until: self.paused_until.filter(|p| *p > now).max(server_spent),
            waiting: self.waiting,
        }
    }
}

/// The shared, waiting front of a [`Budget`]. Share it in an `Arc`.
#[derive(Debug)]
pub struct Scheduler {
    budget: Mutex<Budget>,
    /// Woken whenever a grant or a pause may change another waiter's answer.
    changed: Notify,
}

/// Keeps a waiter counted while its `acquire` is pending, including when the
/// future is dropped half-way (a cancelled request must not block lower
/// priorities forever).
struct WaiterGuard<'a> {
    scheduler: &'a Scheduler,
    priority: Priority,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.scheduler.lock().remove_waiter(self.priority);
        self.scheduler.changed.notify_waiters();
    }
}

impl Scheduler {
    pub fn new(requests_per_minute: u32) -> Self {
        Self::with_window(requests_per_minute, DEFAULT_WINDOW)
    }

    /// A budget of `limit` requests per `window`; short windows are for tests.
    pub fn with_window(limit: u32, window: Duration) -> Self {
        Scheduler {
            budget: Mutex::new(Budget::new(limit, window)),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        // The budget is plain data and every update is complete before the
        // lock is released, so a poisoned lock still holds a sound state.
        self.budget.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns when a request of `priority` may start now, and counts it.
    pub async fn acquire(&self, priority: Priority) {
        // A year is "no deadline": every wait fits.
        let never = Instant::now() + Duration::from_secs(365 * 86_400);
        let _ = self.acquire_within(priority, never).await;
    }

    /// Like [`Scheduler::acquire`], but gives up at once with the wait it
    /// would need when that wait ends after `deadline`. A wait behind higher
    /// priorities has no known end: it is waited out up to the deadline.
    pub async fn acquire_within(
        &self,
        priority: Priority,
        deadline: Instant,
    ) -> Result<(), Duration> {
        self.lock().add_waiter(priority);
        let _guard = WaiterGuard {
            scheduler: self,
            priority,
        };
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before deciding, so a grant between the decision
            // and the wait still wakes us.
            changed.as_mut().enable();
            let now = Instant::now();
            let (decision, outranked) = {
                let mut budget = self.lock();
                let decision = budget.decide(now, priority);
                (decision, budget.is_outranked(priority))
            };
            match decision {
                Decision::Go => return Ok(()),
                Decision::WaitUntil(until) if until > deadline && !outranked => {
                    return Err(until - now);
                }
                Decision::WaitUntil(_) if now >= deadline => {
                    return Err(Duration::from_secs(1));
                }
                Decision::WaitUntil(until) => {
                    tracing::trace!(?priority, "waiting for the rate budget");
                    let until = until.min(deadline);
                    tokio::select! {
                        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(until)) => {}
                        _ = changed => {}
                    }
                }
            }
        }
    }

    /// After the server refused: nobody sends before `until`.
    pub fn pause_until(&self, until: Instant) {
        self.lock().pause_until(until);
        self.changed.notify_waiters();
    }

    /// Feeds the server's rate-limit headers of one response.
    pub fn observe_server(&self, remaining: u32, reset_in: Duration) {
        self.lock()
            .observe_server(Instant::now(), remaining, reset_in);
    }

    pub fn status(&self) -> SchedulerStatus {
        self.lock().status(Instant::now())
    }
}

tokio::task_local! {
    static PRIORITY: Priority;
}

/// Runs `f` with every request it makes scheduled at priority `p`.
pub async fn with_priority<F: Future>(p: Priority, f: F) -> F::Output {
    PRIORITY.scope(p, f).await
}

/// The priority of the current task; `ListChanges` when none was set.
pub fn current_priority() -> Priority {
    PRIORITY.try_with(|p| *p).unwrap_or(Priority::ListChanges)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(61);

    fn fill(b: &mut Budget, now: Instant, p: Priority, n: u32) {
        for i in 0..n {
            assert_eq!(b.decide(now, p), Decision::Go, "request {i}");
        }
    }

    #[test]
    fn caps_scale_with_the_limit() {
        let b = Budget::new(100, MIN);
        let caps: Vec<u32> = Priority::ALL.iter().map(|p| b.cap(*p)).collect();
        assert_eq!(caps, vec![100, 95, 90, 75]);
        let b = Budget::new(20, MIN);
        let caps: Vec<u32> = Priority::ALL.iter().map(|p| b.cap(*p)).collect();
        assert_eq!(caps, vec![20, 19, 18, 15]);
        let b = Budget::new(1, MIN);
        assert!(Priority::ALL.iter().all(|p| b.cap(*p) == 1));
    }

    #[test]
    fn backfill_leaves_headroom_for_sends() {
        let t0 = Instant::now();
        let mut b = Budget::new(100, MIN);
        fill(&mut b, t0, Priority::Backfill, 75);
        assert_eq!(
            b.decide(t0, Priority::Backfill),
            Decision::WaitUntil(t0 + MIN)
        );
        fill(&mut b, t0, Priority::ListChanges, 15);
        assert!(matches!(
            b.decide(t0, Priority::ListChanges),
            Decision::WaitUntil(_)
        ));
        fill(&mut b, t0, Priority::Thread, 5);
        fill(&mut b, t0, Priority::Send, 5);
        assert_eq!(b.decide(t0, Priority::Send), Decision::WaitUntil(t0 + MIN));
        assert_eq!(b.status(t0).used, 100);
    }

    #[test]
    fn the_window_slides() {
        let t0 = Instant::now();
        let mut b = Budget::new(4, Duration::from_secs(10));
        for i in 0..4 {
            assert_eq!(
                b.decide(t0 + Duration::from_secs(i), Priority::Send),
                Decision::Go
            );
        }
        let t = t0 + Duration::from_secs(5);
        assert_eq!(
            b.decide(t, Priority::Send),
            Decision::WaitUntil(t0 + Duration::from_secs(10))
        );
        // The oldest request left the window; one slot is free again.
        let t = t0 + Duration::from_secs(10);
        assert_eq!(b.decide(t, Priority::Send), Decision::Go);
        assert_eq!(
            b.decide(t, Priority::Send),
            Decision::WaitUntil(t0 + Duration::from_secs(11))
        );
    }

    #[test]
    fn a_waiting_send_goes_before_a_waiting_backfill() {
        let t0 = Instant::now();
        let mut b = Budget::new(100, MIN);
        fill(&mut b, t0, Priority::Send, 100);
        b.add_waiter(Priority::Backfill);
        b.add_waiter(Priority::Send);
        // Space frees up: the backfill asks first but the send is waiting.
        let later = t0 + MIN;
        assert!(matches!(
            b.decide(later, Priority::Backfill),
            Decision::WaitUntil(_)
        ));
        assert_eq!(b.decide(later, Priority::Send), Decision::Go);
        b.remove_waiter(Priority::Send);
        assert_eq!(b.decide(later, Priority::Backfill), Decision::Go);
    }

    #[test]
    fn a_send_passes_a_saturated_backfill() {
        let t0 = Instant::now();
        let mut b = Budget::new(100, MIN);
        fill(&mut b, t0, Priority::Backfill, 75);
        b.add_waiter(Priority::Backfill);
        assert!(matches!(
            b.decide(t0, Priority::Backfill),
            Decision::WaitUntil(_)
        ));
        assert_eq!(b.decide(t0, Priority::Send), Decision::Go);
    }

    #[test]
    fn a_pause_holds_everyone() {
        let t0 = Instant::now();
        let mut b = Budget::new(100, MIN);
        let until = t0 + Duration::from_secs(7);
        b.pause_until(until);
        // An earlier pause never shortens a later one.
        b.pause_until(t0 + Duration::from_secs(1));
        for p in Priority::ALL {
            assert_eq!(b.decide(t0, p), Decision::WaitUntil(until));
        }
        assert_eq!(b.status(t0).paused_until, Some(until));
        assert_eq!(b.decide(until, Priority::Backfill), Decision::Go);
        assert_eq!(b.status(until).paused_until, None);
    }

    #[test]
    fn the_servers_count_is_respected() {
        let t0 = Instant::now();
        let mut b = Budget::new(100, MIN);
        b.observe_server(t0, 2, Duration::from_secs(30));
        // A response that left before ours reports more: the lower count stands.
        b.observe_server(t0, 5, Duration::from_millis(29_800));
        fill(&mut b, t0, Priority::Send, 2);
        assert_eq!(
            b.decide(t0, Priority::Send),
            Decision::WaitUntil(t0 + Duration::from_secs(30))
        );
        // The server's window rolled over: our own count rules again.
        assert_eq!(
            b.decide(t0 + Duration::from_secs(30), Priority::Send),
            Decision::Go
        );
    }

    #[test]
    fn a_budget_the_server_reports_spent_shows_as_a_pause() {
        let t0 = Instant::now();
        let mut b = Budget::new(100, MIN);
        b.observe_server(t0, 0, Duration::from_secs(20));
        assert_eq!(
            b.status(t0).paused_until,
            Some(t0 + Duration::from_secs(20))
        );
        assert_eq!(b.status(t0 + Duration::from_secs(20)).paused_until, None);
    }

    #[test]
    fn status_counts_waiters() {
        let t0 = Instant::now();
        let mut b = Budget::new(10, MIN);
        b.add_waiter(Priority::Thread);
        b.add_waiter(Priority::Thread);
        b.add_waiter(Priority::Backfill);
        b.remove_waiter(Priority::Thread);
        let s = b.status(t0);
        assert_eq!(s.waiting_for(Priority::Thread), 1);
        assert_eq!(s.waiting_for(Priority::Backfill), 1);
        assert_eq!(s.waiting_for(Priority::Send), 0);
        assert_eq!((s.limit, s.window), (10, MIN));
    }

    #[tokio::test]
    async fn priority_travels_with_the_task() {
        assert_eq!(current_priority(), Priority::ListChanges);
        let inner = with_priority(Priority::Send, async { current_priority() }).await;
        assert_eq!(inner, Priority::Send);
        let nested = with_priority(Priority::Backfill, async {
            with_priority(Priority::Thread, async { current_priority() }).await
        })
        .await;
        assert_eq!(nested, Priority::Thread);
    }

    #[tokio::test]
    async fn acquire_grants_within_the_budget_and_counts() {
        let s = Scheduler::with_window(3, Duration::from_secs(60));
        for _ in 0..3 {
            s.acquire(Priority::Send).await;
        }
        assert_eq!(s.status().used, 3);
        assert_eq!(s.status().waiting, [0; 4]);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_is_forgotten() {
        let s = Scheduler::with_window(1, Duration::from_secs(60));
        s.acquire(Priority::Send).await;
        let pending = s.acquire(Priority::Send);
        // Polled once (it waits), then dropped.
        assert!(
            futures::FutureExt::now_or_never(pending).is_none(),
            "the budget is spent"
        );
        assert_eq!(s.status().waiting, [0; 4]);
    }

    #[tokio::test]
    async fn a_wait_past_the_deadline_is_refused_at_once() {
        let s = Scheduler::with_window(1, Duration::from_secs(60));
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(s.acquire_within(Priority::Send, deadline).await, Ok(()));
        // The window frees in about a minute, far past the deadline: the
        // answer comes without waiting for either.
        let wait = s
            .acquire_within(Priority::Send, deadline)
            .await
            .unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert_eq!(s.status().waiting, [0; 4]);
        // A pause that ends within the deadline is waited out.
        let s = Scheduler::with_window(10, Duration::from_secs(60));
        s.pause_until(Instant::now() + Duration::from_millis(50));
        let deadline = Instant::now() + Duration::from_secs(30);
        assert_eq!(s.acquire_within(Priority::Send, deadline).await, Ok(()));
        s.pause_until(Instant::now() + Duration::from_secs(40));
        let wait = s
            .acquire_within(Priority::Backfill, deadline)
            .await
            .unwrap_err();
        assert!(wait > Duration::from_secs(30), "{wait:?}");
    }
}
