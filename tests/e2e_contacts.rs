//! End-to-end contact editing: the real binary in a pseudo-terminal opens
//! a conversation, edits its contact's phone and e-mail, saves, and the
//! sandbox holds the new values.

mod common;

use common::pty::{LONG, Tty, account_config, scratch_home, wait};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");
const CTRL_S: &str = "\x13";
const CTRL_U: &str = "\x15";
const TAB: &str = "\t";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_a_contacts_phone_and_email_and_the_server_has_them() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    // Typed the way an agent would; saved as E.164.
    let typed_phone = "+971 50 987 6543";
    let phone = "+971509876543";
    let email = "ayse.e2e@örnek.com.tr";
    assert!(
        control.contact_id_by_phone(phone).is_none(),
        "a fresh number"
    );
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
            200,
            50,
        );
        tty.wait_for("the inbox", LONG, |s| s.contains("All "));
        tty.send("\r");
        // The profile beside the thread once the contact is read.
        tty.wait_for("the profile", LONG, |s| s.contains("Conversations"));
        tty.send("E");
        tty.wait_for("the editor", LONG, |s| s.contains("Edit contact"));
        // First name, last name, username, then the phone.
        tty.send(&TAB.repeat(3));
        tty.send(CTRL_U);
        tty.send(typed_phone);
        tty.wait_for("the phone read as E.164", LONG, |s| {
            s.contains(&format!("saved as {phone}"))
        });
        tty.send(TAB);
        tty.send(CTRL_U);
        tty.send(email);
        tty.send(CTRL_S);
        tty.wait_for("the save confirmed", LONG, |s| s.contains("Saved "));
        wait("the server to hold both values", || {
            control
                .contact_id_by_phone(phone)
                .and_then(|id| control.contact(&id))
                .is_some_and(|c| c.email.as_deref() == Some(email))
        });
        // The profile shows what was saved.
        tty.wait_for("the profile updated", LONG, |s| s.contains(phone));
        let cache = home.join("data/termdesk/cache/e2e.sqlite");
        wait("the log to empty", || {
            termdesk::store::db::Db::open_read_only(&cache)
                .and_then(|db| db.load_mutations(termdesk::store::contact_edits::KIND))
                .is_ok_and(|log| log.is_empty())
        });
        tty.send("q");
        assert!(tty.wait_exit(LONG).success());
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
}
