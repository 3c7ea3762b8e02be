//! Several accounts in one inbox: one worker per account, their events
//! merged into the one channel the app reads. Lists that replace the whole
//! set (agents, channels, templates) are sent as every account's latest
//! together; totals are summed; cursors are saved per account; each
//! account's health is reported on its own and folded into the overall one.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{SyncControl, SyncEvent, SyncSettings, SyncStart, SyncWorker};
use crate::api::Provider;
use crate::api::accounts::account_of;
use crate::domain::{Agent, ChannelInfo, ConversationId, Template};

/// One account to keep in step: its provider already namespaces ids.
pub struct AccountSync {
    pub name: String,
    pub provider: Arc<dyn Provider>,
    pub settings: SyncSettings,
    pub start: SyncStart,
}

/// The lists the cache holds, shown for each account until its own arrive.
#[derive(Debug, Clone, Default)]
pub struct CachedLists {
    pub agents: Vec<Agent>,
    pub channels: Vec<ChannelInfo>,
    pub templates: Vec<Template>,
}

pub struct AccountsSync {
    names: Vec<String>,
    workers: Vec<SyncWorker>,
    tasks: Vec<JoinHandle<()>>,
}

impl AccountsSync {
    pub fn spawn(
        accounts: Vec<AccountSync>,
        cached: CachedLists,
        events: mpsc::UnboundedSender<SyncEvent>,
    ) -> Self {
        let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
        let (merged_tx, mut merged_rx) = mpsc::unbounded_channel::<(usize, SyncEvent)>();
        let mut workers = Vec::with_capacity(accounts.len());
        let mut tasks = Vec::with_capacity(accounts.len() + 1);
        for (index, account) in accounts.into_iter().enumerate() {
            let (tx, mut rx) = mpsc::unbounded_channel();
            workers.push(SyncWorker::spawn(
                account.provider,
                account.settings,
                account.start,
                tx,
            ));
            let merged = merged_tx.clone();
            tasks.push(tokio::spawn(async move {
                while let Some(event) = rx.recv().await {
                    if merged.send((index, event)).is_err() {
                        return;
                    }
                }
            }));
        }
        drop(merged_tx);
        let mut fan_in = FanIn::new(names.clone(), cached);
        tasks.push(tokio::spawn(async move {
            while let Some((index, event)) = merged_rx.recv().await {
                for out in fan_in.on(index, event) {
                    if events.send(out).is_err() {
                        return;
                    }
                }
            }
        }));
        Self {
            names,
            workers,
            tasks,
        }
    }
}

impl SyncControl for AccountsSync {
    /// Only the owning account's worker follows the thread.
    fn watch(&self, id: Option<ConversationId>) {
        let owner = id
            .as_ref()
            .and_then(|id| account_of(id.as_str()))
            .and_then(|account| self.names.iter().position(|n| n == account));
        for (index, worker) in self.workers.iter().enumerate() {
            worker.watch(if owner == Some(index) {
                id.clone()
            } else {
                None
            });
        }
    }

    fn poll_now(&self) {
        for worker in &self.workers {
            worker.poll_now();
        }
    }
}

impl Drop for AccountsSync {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    Connecting,
    Ok,
    Paused,
    Failed,
}

/// One account's latest totals: conversations, contacts.
type Totals = (Option<u64>, Option<u64>);

/// The merging, apart from the tasks so it can be tested alone.
struct FanIn {
    names: Vec<String>,
    agents: Vec<Vec<Agent>>,
    channels: Vec<Vec<ChannelInfo>>,
    templates: Vec<Vec<Template>>,
    totals: Vec<Totals>,
    health: Vec<Health>,
}

/// The items of `all` whose id belongs to each account, in account order.
fn split<T>(names: &[String], all: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = names.iter().map(|_| Vec::new()).collect();
    for item in all {
        let owner = account_of(id(&item)).and_then(|a| names.iter().position(|n| n == a));
        if let Some(owner) = owner {
            out[owner].push(item);
        }
    }
    out
}

impl FanIn {
    fn new(names: Vec<String>, cached: CachedLists) -> Self {
        let n = names.len();
        Self {
            agents: split(&names, cached.agents, |a| a.id.as_str()),
            channels: split(&names, cached.channels, |c| c.id.as_str()),
            templates: split(&names, cached.templates, |t| t.id.as_str()),
            totals: vec![(None, None); n],
            health: vec![Health::Connecting; n],
            names,
        }
    }

    /// Whether an account other than `index` is held back or failing.
    fn others_unwell(&self, index: usize) -> bool {
        self.health
            .iter()
            .enumerate()
            .any(|(i, h)| i != index && matches!(h, Health::Paused | Health::Failed))
    }

    fn on(&mut self, index: usize, event: SyncEvent) -> Vec<SyncEvent> {
        if index >= self.names.len() {
            return Vec::new();
        }
        match event {
            SyncEvent::Agents(agents) => {
                self.agents[index] = agents;
                vec![SyncEvent::Agents(self.agents.concat())]
            }
            SyncEvent::SignedIn(agent) => {
                // Kept with the account's list so other accounts' lists
                // arriving later do not drop it.
                self.agents[index] = vec![agent.clone()];
                vec![
                    SyncEvent::Agents(self.agents.concat()),
                    SyncEvent::SignedIn(agent),
                ]
            }
            SyncEvent::Channels(channels) => {
                self.channels[index] = channels;
                vec![SyncEvent::Channels(self.channels.concat())]
            }
            SyncEvent::Templates(templates) => {
                self.templates[index] = templates;
                vec![SyncEvent::Templates(self.templates.concat())]
            }
            SyncEvent::Cursors(cursors) => vec![SyncEvent::AccountCursors {
                account: self.names[index].clone(),
                cursors,
            }],
            SyncEvent::Totals {
                conversations,
                contacts,
            } => {
                let totals = &mut self.totals[index];
                totals.0 = conversations.or(totals.0);
                totals.1 = contacts.or(totals.1);
                let sum = |pick: fn(&Totals) -> Option<u64>| {
                    self.totals.iter().filter_map(pick).sum::<u64>()
                };
                vec![SyncEvent::Totals {
                    conversations: conversations.map(|_| sum(|t| t.0)),
                    contacts: contacts.map(|_| sum(|t| t.1)),
                }]
            }
            SyncEvent::Connecting => {
                self.health[index] = Health::Connecting;
                self.health_events(index, SyncEvent::Connecting, true)
            }
            SyncEvent::Synced => {
                self.health[index] = Health::Ok;
                let overall = !self.others_unwell(index);
                self.health_events(index, SyncEvent::Synced, overall)
            }
            SyncEvent::Paused(Some(wait)) => {
                self.health[index] = Health::Paused;
                self.health_events(index, SyncEvent::Paused(Some(wait)), true)
            }
            SyncEvent::Paused(None) => {
                if self.health[index] == Health::Paused {
                    self.health[index] = Health::Ok;
                }
                let overall = !self.others_unwell(index);
                self.health_events(index, SyncEvent::Paused(None), overall)
            }
            failed @ SyncEvent::Failed { .. } => {
                self.health[index] = Health::Failed;
                self.health_events(index, failed, true)
            }
            other => vec![other],
        }
    }

    /// The account's own state, and the overall one when it changes it.
    fn health_events(&self, index: usize, event: SyncEvent, overall: bool) -> Vec<SyncEvent> {
        let mut out = vec![SyncEvent::Account {
            index,
            state: Box::new(event.clone()),
        }];
        if overall {
            out.push(event);
        }
        out
    }
}

/// What each account resumes from: its own cursors, and the contacts of
/// its own that the store holds.
pub fn start_for(store: &crate::store::Store, account: &str) -> SyncStart {
    let prefix = format!("{account}:");
    SyncStart {
        cursors: store.account_cursors(account),
        known_contacts: store
            .known_contacts()
            .into_iter()
            .filter(|id| id.as_str().starts_with(&prefix))
            .collect(),
        unnamed_contacts: store
            .unnamed_contacts()
            .into_iter()
            .filter(|id| id.as_str().starts_with(&prefix))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::domain::AgentId;
    use crate::sync::SyncCursors;
    use std::time::Duration;

    fn agent(id: &str) -> Agent {
        Agent {
            id: AgentId::new(id),
            first_name: id.into(),
            last_name: String::new(),
            email: String::new(),
            role: String::new(),
            active: true,
            is_bot: false,
        }
    }

    fn fan_in() -> FanIn {
        FanIn::new(
            vec!["work".into(), "shop".into()],
            CachedLists {
                agents: vec![agent("work:a0"), agent("shop:b0"), agent("gone:x")],
                ..CachedLists::default()
            },
        )
    }

    fn agent_ids(events: &[SyncEvent]) -> Vec<String> {
        match events {
            [SyncEvent::Agents(agents)] => agents.iter().map(|a| a.id.0.clone()).collect(),
            other => panic!("expected one Agents event, got {other:?}"),
        }
    }

    #[test]
    fn whole_lists_carry_every_accounts_latest() {
        let mut f = fan_in();
        let out = f.on(1, SyncEvent::Agents(vec![agent("shop:b1")]));
        assert_eq!(
            agent_ids(&out),
            ["work:a0", "shop:b1"],
            "the cached ones stay until replaced"
        );
        let out = f.on(
            0,
            SyncEvent::Agents(vec![agent("work:a1"), agent("work:a2")]),
        );
        assert_eq!(agent_ids(&out), ["work:a1", "work:a2", "shop:b1"]);
        let out = f.on(0, SyncEvent::Agents(Vec::new()));
        assert_eq!(agent_ids(&out), ["shop:b1"]);
    }

    #[test]
    fn cursors_are_tagged_with_their_account_and_totals_summed() {
        let mut f = fan_in();
        let out = f.on(1, SyncEvent::Cursors(SyncCursors::fresh()));
        assert!(
            matches!(&out[..], [SyncEvent::AccountCursors { account, .. }] if account == "shop")
        );
        f.on(
            0,
            SyncEvent::Totals {
                conversations: Some(10),
                contacts: None,
            },
        );
        let out = f.on(
            1,
            SyncEvent::Totals {
                conversations: Some(5),
                contacts: Some(7),
            },
        );
        assert!(matches!(
            out[..],
            [SyncEvent::Totals {
                conversations: Some(15),
                contacts: Some(7)
            }]
        ));
        let out = f.on(
            0,
            SyncEvent::Totals {
                conversations: None,
                contacts: Some(3),
            },
        );
        assert!(matches!(
            out[..],
            [SyncEvent::Totals {
                conversations: None,
                contacts: Some(10)
            }]
        ));
    }

    fn account_state(event: &SyncEvent) -> (usize, String) {
        match event {
            SyncEvent::Account { index, state } => (*index, format!("{state:?}")),
            other => panic!("expected an account state, got {other:?}"),
        }
    }

    #[test]
    fn each_account_reports_its_health_and_the_overall_one_shows_trouble() {
        let mut f = fan_in();
        let out = f.on(
            1,
            SyncEvent::Failed {
                error: ApiError::Timeout(Duration::from_secs(5)),
                retry_in: Duration::from_secs(20),
            },
        );
        assert_eq!(out.len(), 2);
        assert_eq!(account_state(&out[0]).0, 1);
        assert!(matches!(out[1], SyncEvent::Failed { .. }));
        // Another account syncing does not hide the failing one.
        let out = f.on(0, SyncEvent::Synced);
        assert_eq!(out.len(), 1);
        assert_eq!(account_state(&out[0]), (0, "Synced".into()));
        let out = f.on(1, SyncEvent::Synced);
        assert!(matches!(
            out[..],
            [SyncEvent::Account { index: 1, .. }, SyncEvent::Synced]
        ));
        let out = f.on(0, SyncEvent::Paused(Some(Duration::from_secs(3))));
        assert!(matches!(out[1], SyncEvent::Paused(Some(_))));
        let out = f.on(0, SyncEvent::Paused(None));
        assert!(matches!(out[1], SyncEvent::Paused(None)));
    }

    #[test]
    fn rows_pass_through_and_unknown_accounts_are_ignored() {
        let mut f = fan_in();
        let out = f.on(0, SyncEvent::Conversations(Vec::new()));
        assert!(matches!(out[..], [SyncEvent::Conversations(_)]));
        assert!(f.on(7, SyncEvent::Synced).is_empty());
    }
}
