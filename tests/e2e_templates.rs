//! End-to-end template sending: the real binary in a pseudo-terminal opens
//! a WhatsApp conversation, picks a template, fills its variables, sends
//! it, and the sandbox holds exactly that message.

mod common;

use common::pty::{LONG, Tty, account_config, scratch_home, wait};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const CTRL_S: &str = "\x13";
const TAB: &str = "\t";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picks_fills_and_sends_a_template() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    // The customer writes now: their conversation is the top row.
    let target = control.whatsapp_conversations()[0].id.clone();
    control.inject_incoming_message(&target, "When is my appointment?");
    let sent_before = control
        .messages(&target)
        .iter()
        .filter(|m| m.message_type == "TEMPLATE")
        .count();
    let home = scratch_home();
    let config_arg = account_config(&home, "e2e", &sandbox.base_url(), "");
    let script_control = control.clone();
    tokio::task::spawn_blocking(move || {
        let control = script_control;
        let mut tty = Tty::spawn(
            BINARY.as_ref(),
            &["--config", &config_arg],
            &home,
            &[("TERMDESK_E2E_SECRET", "demo")],
            120,
            40,
        );
        tty.wait_for("the inbox", LONG, |s| s.contains("All "));
        tty.send("\r");
        tty.wait_for("the thread", LONG, |s| {
            s.contains("When is my appointment?")
        });
        tty.send("t");
        tty.wait_for("the picker", LONG, |s| s.contains("Canned replies"));
        tty.send("appointment");
        tty.wait_for("the English reminder previewed", LONG, |s| {
            s.contains("Reply 1 to confirm")
        });
        tty.send("\r");
        tty.wait_for("the variables form", LONG, |s| s.contains("Ctrl-S"));
        tty.send("Deniz");
        tty.send(TAB);
        tty.send("12 May");
        tty.send(TAB);
        tty.send("15:00");
        tty.wait_for("the preview filled", LONG, |s| {
            s.contains("Hi Deniz, this is a reminder") && s.contains("15:00. Reply 1")
        });
        tty.send(CTRL_S);
        wait("the template on the server", || {
            control
                .messages(&target)
                .iter()
                .filter(|m| m.message_type == "TEMPLATE")
                .count()
                > sent_before
        });
        tty.wait_for("the template in the thread", LONG, |s| {
            s.contains("· template") && s.contains("Hi Deniz, this is a reminder")
        });
        let templates: Vec<_> = control
            .messages(&target)
            .into_iter()
            .filter(|m| m.message_type == "TEMPLATE")
            .collect();
        assert_eq!(templates.len(), sent_before + 1, "sent once");
        let last = templates.last().unwrap();
        assert!(
            last.content.as_deref().is_some_and(|c| c
                .contains("Hi Deniz, this is a reminder of your appointment on 12 May at 15:00.")),
            "{last:?}"
        );
        assert!(last.front_msg_id.is_some(), "sent with a client id");
        // Confirmed: out of the outbox, so quitting asks nothing.
        let cache = home.join("data/termdesk/cache/e2e.sqlite");
        wait("the outbox to empty", || {
            termdesk::store::db::Db::open_read_only(&cache)
                .and_then(|db| db.load_outbox())
                .is_ok_and(|outbox| outbox.is_empty())
        });
        tty.send("q");
        assert!(tty.wait_exit(LONG).success());
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
}
