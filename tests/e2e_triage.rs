//! End-to-end triage: the real binary in a pseudo-terminal switches to
//! Unassigned, filters to a customer, assigns to me, resolves, and the
//! sandbox holds both once the grace period is over.

mod common;

use common::pty::{LONG, Tty, account_config, scratch_home, wait};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const AGENT: &str = "sarah@acme-store.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigns_to_me_and_resolves_a_filtered_unassigned_conversation() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    let me = control.agent_id(AGENT).unwrap();
    // The newest unassigned conversation whose customer's name is plain
    // letters and no one else's: typing it finds that row alone.
    let states: Vec<_> = control
        .conversation_ids()
        .into_iter()
        .filter_map(|id| Some((control.conversation_state(&id)?, id)))
        .collect();
    let (target, name) = states
        .iter()
        .find(|(state, _)| {
            state.assignee.is_none()
                && state.status == "OPEN"
                && !state.contact_name.is_empty()
                && state
                    .contact_name
                    .chars()
                    .all(|c| c.is_alphabetic() || c == ' ')
                && states
                    .iter()
                    .filter(|(other, _)| other.contact_name == state.contact_name)
                    .count()
                    == 1
        })
        .map(|(state, id)| (id.clone(), state.contact_name.clone()))
        .expect("an unassigned conversation");
    // Once the agents are in, "Mine" counts Sarah's conversations.
    let mine = states
        .iter()
        .filter(|(state, _)| state.assignee.as_deref() == Some(me.as_str()))
        .count();
    assert!(
        mine > 0,
        "the seed assigns some conversations to the demo agent"
    );
    let home = scratch_home();
    let config_arg = account_config(
        &home,
        "e2e",
        &sandbox.base_url(),
        &format!("agent = \"{AGENT}\"\n\n[triage]\nundo_grace_secs = 2\n"),
    );
    let (script_control, script_target) = (control.clone(), target.clone());
    tokio::task::spawn_blocking(move || {
        let (control, target) = (script_control, script_target);
        let mut tty = Tty::spawn(
            BINARY.as_ref(),
            &["--config", &config_arg],
            &home,
            &[("TERMDESK_E2E_SECRET", "demo")],
            120,
            30,
        );
        // "Assign to me" needs the agents: they arrive after the first rows.
        tty.wait_for("the agent known", LONG, |s| {
            s.contains(&format!("Mine {mine}"))
        });
        tty.send("2");
        tty.send("/");
        tty.send(&name);
        // Once in the filter bar and once as the row it leaves.
        tty.wait_for("the customer's row under the filter", LONG, |s| {
            s.matches(name.as_str()).count() >= 2
        });
        tty.send("\r");
        tty.send("A");
        tty.send("x");
        wait("the server to hold both changes", || {
            control.conversation_state(&target).is_some_and(|s| {
                s.assignee.as_deref() == Some(me.as_str()) && s.status == "RESOLVED"
            })
        });
        let cache = home.join("data/termdesk/cache/e2e.sqlite");
        wait("the log to empty", || {
            termdesk::store::db::Db::open_read_only(&cache)
                .and_then(|db| db.load_mutations(termdesk::store::mutations::KIND))
                .is_ok_and(|log| log.is_empty())
        });
        tty.wait_for("the row resolved", LONG, |s| s.contains("resolved"));
        tty.send("q");
        assert!(tty.wait_exit(LONG).success());
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
}
