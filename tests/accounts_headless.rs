//! Two accounts in one inbox — two Qpien sandboxes with different data —
//! through the real runtime, sync workers, router and cache.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use crossterm::event::KeyCode;

use common::headless::{
    CacheProbe, RunningApp, fresh_cache, roomy, roomy_client, sandbox, wait_until,
    wait_until_blocking,
};
use termdesk::api::{ApiResult, BulkRowOutcome, Capabilities, Provider};
use termdesk::domain::*;
use termdesk::sandbox::{SandboxControl, SandboxOptions};
use termdesk::sync::cursor::META_KEY;

/// A provider that offers everything its inner one does but starring.
struct NoStars(Arc<dyn Provider>);

#[async_trait]
impl Provider for NoStars {
    fn name(&self) -> &str {
        "Shop API"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            star: false,
            ..self.0.capabilities()
        }
    }
    fn budget(&self) -> Option<termdesk::sync::scheduler::SchedulerStatus> {
        self.0.budget()
    }
    async fn authenticate(&self) -> ApiResult<()> {
        self.0.authenticate().await
    }
    async fn list_conversations(&self, q: &ConversationQuery) -> ApiResult<Page<Conversation>> {
        self.0.list_conversations(q).await
    }
    async fn get_conversation(&self, id: &ConversationId) -> ApiResult<Conversation> {
        self.0.get_conversation(id).await
    }
    async fn update_conversation(
        &self,
        id: &ConversationId,
        u: &ConversationUpdate,
    ) -> ApiResult<Conversation> {
        self.0.update_conversation(id, u).await
    }
    async fn list_messages(&self, q: &MessageQuery) -> ApiResult<Page<Message>> {
        self.0.list_messages(q).await
    }
    async fn send_text(&self, m: &OutgoingText) -> ApiResult<Message> {
        self.0.send_text(m).await
    }
    async fn list_contacts(&self, q: &ContactQuery) -> ApiResult<Page<Contact>> {
        self.0.list_contacts(q).await
    }
    async fn get_contact(&self, id: &ContactId) -> ApiResult<Contact> {
        self.0.get_contact(id).await
    }
    async fn list_conversation_pages(
        &self,
        q: &ConversationQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Conversation>>> {
        self.0.list_conversation_pages(q, pages).await
    }
    async fn list_message_batch(&self, q: &[MessageQuery]) -> Vec<ApiResult<Page<Message>>> {
        self.0.list_message_batch(q).await
    }
    async fn list_contact_pages(
        &self,
        q: &ContactQuery,
        pages: usize,
    ) -> ApiResult<Vec<Page<Contact>>> {
        self.0.list_contact_pages(q, pages).await
    }
    async fn get_contacts(&self, ids: &[ContactId]) -> ApiResult<Vec<Contact>> {
        self.0.get_contacts(ids).await
    }
    async fn import_contacts(&self, rows: &[ContactUpdate]) -> ApiResult<Vec<BulkRowOutcome>> {
        self.0.import_contacts(rows).await
    }
    async fn list_agents(&self) -> ApiResult<Vec<Agent>> {
        self.0.list_agents().await
    }
    async fn list_channels(&self) -> ApiResult<Vec<ChannelInfo>> {
        self.0.list_channels().await
    }
    async fn list_templates(&self) -> ApiResult<Vec<Template>> {
        self.0.list_templates().await
    }
}

/// Conversation and contact list requests the sandbox has answered.
fn list_docs(control: &SandboxControl) -> (u64, u64) {
    let ops = control.stats().operations;
    let get = |name: &str| ops.get(name).copied().unwrap_or(0);
    (get("getConversationList"), get("getContactList"))
}

/// Rows of the list (left pane) that carry `tag` as their account marker
/// (a narrow list shows the name's first two letters).
fn rows_marked(screen: &str, tag: &str) -> usize {
    screen
        .lines()
        .filter(|line| {
            line.trim_start_matches('"')
                .starts_with(&format!("│ {tag} "))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_share_one_inbox_each_in_its_own_namespace() {
    // Ten pages each: a full history read costs several requests more
    // than a resumed one.
    const CONVERSATIONS: usize = 1_000;
    let options = |seed| {
        roomy(SandboxOptions {
            seed,
            conversations: CONVERSATIONS,
            ..SandboxOptions::default()
        })
    };
    let work_sandbox = sandbox(options(7)).await;
    let shop_sandbox = sandbox(options(8)).await;
    let (work, shop) = (work_sandbox.control(), shop_sandbox.control());
    let accounts = || -> Vec<(&str, Arc<dyn Provider>)> {
        vec![
            ("work", roomy_client(&work_sandbox)),
            ("shop", Arc::new(NoStars(roomy_client(&shop_sandbox)))),
        ]
    };
    let cache = fresh_cache();
    let app = RunningApp::start_accounts(accounts(), cache.clone(), Duration::from_millis(300));

    // Both accounts' rows, each marked, and both accounts synced.
    let screen = app
        .wait_for_screen("both accounts synced", |s| {
            s.contains("work·Qpien ✓") && s.contains("shop·Shop API ✓") && s.contains("All 2,000")
        })
        .await;
    assert!(rows_marked(&screen, "wo") > 0, "{screen}");
    assert!(rows_marked(&screen, "sh") > 0, "{screen}");

    // Narrowed to the shop account.
    app.press(KeyCode::Char(':'));
    app.type_text("account: shop");
    app.press(KeyCode::Enter);
    let screen = app
        .wait_for_screen("only the shop's rows", |s| {
            s.contains("@shop") && s.contains("All 1,000")
        })
        .await;
    assert_eq!(rows_marked(&screen, "wo"), 0, "{screen}");
    assert!(rows_marked(&screen, "sh") > 0, "{screen}");

    // A reply in the shop's newest conversation reaches the shop only,
    // even where the other sandbox uses the same id.
    let top = shop.conversation_ids()[0].clone();
    app.press(KeyCode::Enter);
    app.wait_for_screen("the open thread", |s| s.contains("Reply to"))
        .await;
    let reply = "Only for the shop 🛍";
    app.press(KeyCode::Char('r'));
    app.type_text(reply);
    app.press(KeyCode::Enter);
    wait_until("the shop's sandbox to hold the reply", || {
        shop.messages_containing(&top, reply) == 1
    })
    .await;
    for id in work.conversation_ids() {
        assert_eq!(
            work.messages_containing(&id, reply),
            0,
            "sent to work's {id}"
        );
    }

    // Starring is refused on the shop's rows: its provider lacks it.
    let starred = shop.conversation_state(&top).map(|c| c.starred);
    app.press(KeyCode::Esc);
    app.press(KeyCode::Char('*'));
    app.wait_for_screen("the refusal", |s| s.contains("Shop API does not offer"))
        .await;
    assert_eq!(shop.conversation_state(&top).map(|c| c.starred), starred);

    // Each account's cursors are saved under its own key, none under the
    // single-account one.
    let probe = CacheProbe::new(&cache);
    wait_until_blocking("both accounts fully synced in the cache", {
        let probe = probe.clone();
        move || {
            ["work", "shop"].iter().all(|a| {
                probe
                    .account_cursors(a)
                    .is_some_and(|c| c.backfill_done() && c.contacts_complete)
            })
        }
    })
    .await;
    // Quit once the reply's answer is in, as an agent would without being
    // asked "Quit?".
    wait_until_blocking("the reply's answer taken in", {
        let probe = probe.clone();
        move || probe.outbox().is_empty()
    })
    .await;
    let state = app.quit().await;
    assert_eq!(state.store.len(), 2 * CONVERSATIONS);
    assert!(
        state
            .store
            .get(&ConversationId::new(format!("shop:{top}")))
            .is_some_and(|e| Some(e.conversation.starred) == starred)
    );
    assert!(state.mutations.items().is_empty(), "no action was queued");
    assert!(probe.cursors().is_none(), "nothing saved under {META_KEY}");
    let first = (list_docs(&work), list_docs(&shop));

    // A restart resumes both accounts, the account filter kept with the
    // view, and neither account reads its whole history again.
    let app = RunningApp::start_accounts(accounts(), cache.clone(), Duration::from_secs(600));
    app.wait_for_screen("both accounts synced again", |s| {
        s.contains("@shop")
            && s.contains("All 1,000")
            && s.contains("work·Qpien ✓")
            && s.contains("shop·Shop API ✓")
    })
    .await;
    // The contact directory is read after the history: once both were
    // asked about it, a history read would have happened.
    wait_until("both directories checked for changes", || {
        list_docs(&work).1 > first.0.1 && list_docs(&shop).1 > first.1.1
    })
    .await;
    let state = app.quit().await;
    assert_eq!(state.store.len(), 2 * CONVERSATIONS);
    // The newest page and one page of changes each; reading the history
    // again would take three requests more.
    let again = (
        list_docs(&work).0 - first.0.0,
        list_docs(&shop).0 - first.1.0,
    );
    assert!(
        again.0 <= 2 && again.1 <= 2,
        "the restart read {again:?} conversation lists"
    );
    work_sandbox.shutdown().await;
    shop_sandbox.shutdown().await;
}
