//! End-to-end outage test: the real binary in a pseudo-terminal while its
//! Qpien server goes away. Keys keep working, the reply typed and sent while
//! offline waits and is delivered exactly once when the server is back, and
//! the status bar recovers.

mod common;

use std::path::{Path, PathBuf};

use common::headless::{CacheProbe, roomy};
use common::pty::{LONG, Tty, account_config, find_cache, scratch_home, wait};
use termdesk::sandbox::{Sandbox, SandboxControl, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");

fn start(home: &Path, config: &str) -> Tty {
    Tty::spawn(
        BINARY.as_ref(),
        &["--config", config],
        home,
        &[("TERMDESK_E2E_SECRET", "demo")],
        110,
        32,
    )
}

/// What the server does when it comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Return {
    /// Answers normally.
    Healthy,
    /// Stores the first write and loses its answer (HTTP 500).
    LosesFirstAnswer,
}

fn script(control: SandboxControl, top: String, home: PathBuf, config: String, back: Return) {
    let tag = &uuid::Uuid::new_v4().to_string()[..8];
    let reply = format!("Outage reply {tag}");
    let draft = format!("second line {tag}");

    let mut tty = start(&home, &config);
    tty.wait_for("the conversation list", LONG, |s| s.contains("All 320"));
    tty.send("\r");
    tty.wait_for("the open thread", LONG, |s| {
        s.contains("Reply to")
            && (s.contains("start of conversation") || s.contains("older messages"))
    });
    let cache = find_cache(&home.join("data")).expect("the account's cache file");
    let probe = CacheProbe::new(&cache);

    control.go_offline();
    tty.wait_for("the status bar saying offline", LONG, |s| {
        s.contains("offline since") && s.contains("retrying in")
    });

    // Keys keep working while offline: the composer echoes what is typed.
    tty.send("r");
    tty.send(&reply);
    tty.wait_for("the typed reply in the composer", LONG, |s| {
        s.contains(&reply)
    });
    tty.send("\r");
    tty.wait_for("the reply waiting to be sent", LONG, |s| {
        s.contains(&reply) && s.contains("not sent:") && s.contains("retrying in")
    });
    wait("the reply saved in the outbox", || {
        probe.outbox().iter().any(|item| item.text == reply)
    });
    tty.send(&draft);
    tty.wait_for("the next line typed while offline", LONG, |s| {
        s.contains(&draft)
    });
    assert_eq!(
        control.messages_containing(&top, &reply),
        0,
        "nothing reached the server while it was offline"
    );

    if back == Return::LosesFirstAnswer {
        control.set_lose_answer_rate(1.0);
    }
    let lost_before = control.stats().lost_answers;
    control.go_online();
    if back == Return::LosesFirstAnswer {
        wait("the first write's answer lost", || {
            control.stats().lost_answers > lost_before
        });
        control.set_lose_answer_rate(0.0);
    }

    wait("the reply on the server", || {
        control.messages_containing(&top, &reply) >= 1
    });
    wait("an empty outbox", || probe.outbox().is_empty());
    tty.wait_for(
        "the status bar recovered and the reply delivered",
        LONG,
        |s| {
            !s.contains("offline")
                && s.contains(&reply)
                && !s.contains("not sent:")
                && !s.contains("sending…")
        },
    );
    // The line typed while offline is still in the composer.
    assert!(tty.screen().contains(&draft), "{}", tty.screen());

    tty.send("\u{1b}");
    tty.wait_for("the composer left", LONG, |s| !s.contains("Esc leave"));
    tty.send("q");
    assert!(tty.wait_exit(LONG).success());
    if back == Return::LosesFirstAnswer {
        // The reply is the only write, so the lost answer was its own.
        let stats = control.stats();
        assert_eq!(stats.faults_served.get("lose_answers"), Some(&1));
        assert_eq!(stats.lost_answers, 1);
    }
    assert_eq!(
        control.messages_containing(&top, &reply),
        1,
        "the server holds the reply exactly once"
    );
}

async fn outage(back: Return) {
    let sandbox = Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        roomy(SandboxOptions {
            // A second copy would be stored, not folded into the first.
            dedup_front_msg_id: false,
            ..SandboxOptions::default()
        }),
    )
    .await
    .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let home = scratch_home();
    let config = account_config(
        &home,
        "outage",
        &sandbox.base_url(),
        "requests_per_minute = 100000\n",
    );
    tokio::task::spawn_blocking(move || script(control, top, home, config, back))
        .await
        .unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_sent_while_offline_is_delivered_once_when_the_server_returns() {
    outage(Return::Healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_whose_first_answer_is_lost_after_an_outage_is_delivered_once() {
    outage(Return::LosesFirstAnswer).await;
}
