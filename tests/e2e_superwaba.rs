//! End-to-end on SuperWaba: the real binary in a pseudo-terminal signs in
//! through the sandbox's Supabase grant, opens a conversation, replies and
//! closes it; the sandbox holds the reply once and the closed status.

mod common;

use common::pty::{LONG, Tty, scratch_home, wait};
use termdesk::sandbox::superwaba::{
    DEMO_ANON_KEY, DEMO_EMAIL, DEMO_ORG_ID, DEMO_PASSWORD, SuperWabaSandbox,
    SuperWabaSandboxOptions,
};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opens_replies_to_and_closes_a_superwaba_conversation() {
    let sandbox = SuperWabaSandbox::start(
        ([127, 0, 0, 1], 0).into(),
        SuperWabaSandboxOptions::default(),
    )
    .await
    .unwrap();
    let control = sandbox.control();
    let target = control
        .conversation_ids()
        .into_iter()
        .find(|id| {
            control
                .conversation_state(id)
                .is_some_and(|c| c.status == "open")
        })
        .expect("an open conversation");
    // The customer writes now: their conversation is the top row and its
    // reply window is open.
    let question = "Is my parcel on its way? 📦";
    control.inject_incoming_message(&target, question).unwrap();
    let home = scratch_home();
    let config = home.join("termdesk.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nname = \"shop\"\nprovider = \"superwaba\"\nbase_url = \"{}\"\n\
             developer_base_url = \"{}\"\norg_id = \"{DEMO_ORG_ID}\"\nsupabase_url = \"{}\"\n\
             supabase_anon_key_env = \"TERMDESK_E2E_ANON\"\nemail = \"{DEMO_EMAIL}\"\n\
             password_env = \"TERMDESK_E2E_PASSWORD\"\npoll_interval_secs = 1\n\
             [triage]\nundo_grace_secs = 0\n",
            sandbox.base_url(),
            sandbox.developer_base_url(),
            sandbox.supabase_url()
        ),
    )
    .unwrap();
    let config_arg = config.to_string_lossy().to_string();
    let script_control = control.clone();
    let reply = "On its way today, tracking follows ✅";
    tokio::task::spawn_blocking(move || {
        let control = script_control;
        let mut tty = Tty::spawn(
            BINARY.as_ref(),
            &["--config", &config_arg],
            &home,
            &[
                ("TERMDESK_E2E_ANON", DEMO_ANON_KEY),
                ("TERMDESK_E2E_PASSWORD", DEMO_PASSWORD),
            ],
            140,
            40,
        );
        tty.wait_for("the customer's question at the top", LONG, |s| {
            s.contains("Is my parcel on") && s.contains("SuperWaba")
        });
        tty.send("\r");
        tty.wait_for("the thread", LONG, |s| s.contains(question));
        tty.send("r");
        tty.send(reply);
        tty.send("\r");
        wait("the reply on the server", || {
            control.messages(&target).iter().any(|m| m.text == reply)
        });
        tty.wait_for("the reply confirmed", LONG, |s| {
            s.contains(reply) && !s.contains("sending…")
        });
        tty.send("\x1b");
        tty.send("s");
        tty.wait_for("the status picker", LONG, |s| s.contains("closed"));
        tty.send("closed");
        tty.send("\r");
        wait("the conversation closed on the server", || {
            control
                .conversation_state(&target)
                .is_some_and(|c| c.status == "closed")
        });
        // Quit once the action's answer is in: nothing left to ask about.
        let cache = home.join("data/termdesk/cache/shop.sqlite");
        wait("the action log and the outbox to empty", || {
            termdesk::store::db::Db::open_read_only(&cache).is_ok_and(|db| {
                db.load_mutations(termdesk::store::mutations::KIND)
                    .is_ok_and(|log| log.is_empty())
                    && db.load_outbox().is_ok_and(|outbox| outbox.is_empty())
            })
        });
        tty.send("q");
        assert!(tty.wait_exit(LONG).success());
        assert_eq!(
            control
                .messages(&target)
                .iter()
                .filter(|m| m.text == reply)
                .count(),
            1,
            "the reply was sent once"
        );
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
}
