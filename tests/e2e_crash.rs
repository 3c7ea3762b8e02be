//! End-to-end crash test: the real binary in a pseudo-terminal is killed
//! with SIGKILL while a reply is on its way, then started again over the
//! same cache. The reply arrives, exactly once.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::headless::{CacheProbe, roomy};
use common::pty::{LONG, Tty, account_config, find_cache, scratch_home, wait};
use termdesk::sandbox::{Sandbox, SandboxControl, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");

fn write_config(home: &Path, base_url: &str) -> String {
    account_config(home, "crash", base_url, "requests_per_minute = 100000\n")
}

fn start(home: &Path, config: &str) -> Tty {
    Tty::spawn(
        BINARY.as_ref(),
        &["--config", config],
        home,
        &[("TERMDESK_E2E_SECRET", "demo")],
        100,
        30,
    )
}

/// Where the reply is when termdesk is killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CutOff {
    /// The server is still waiting to handle it.
    BeforeStored,
    /// The server has stored it; its answer has not come back.
    AfterStored,
}

fn script(control: SandboxControl, top: String, home: PathBuf, config: String, cut: CutOff) {
    let reply = format!(
        "Crash-proof reply {}",
        &uuid::Uuid::new_v4().to_string()[..8]
    );

    let mut tty = start(&home, &config);
    tty.wait_for("the conversation list", LONG, |s| s.contains("All 320"));
    tty.send("\r");
    tty.wait_for("the open thread", LONG, |s| {
        s.contains("Reply to")
            && (s.contains("start of conversation") || s.contains("older messages"))
    });
    let cache = find_cache(&home.join("data")).expect("the account's cache file");
    let probe = CacheProbe::new(&cache);

    // Answers now take long: the reply stays on its way.
    match cut {
        CutOff::BeforeStored => control.set_delay(Some(Duration::from_secs(5))),
        CutOff::AfterStored => control.set_answer_delay(Some(Duration::from_secs(5))),
    }
    tty.send("r");
    tty.send(&reply);
    tty.send("\r");
    tty.wait_for("the reply sending", LONG, |s| {
        s.contains(&reply) && s.contains("sending…")
    });
    wait("the reply saved before it is sent", || {
        probe.outbox().iter().any(|item| item.text == reply)
    });
    if cut == CutOff::AfterStored {
        wait("the reply stored on the server", || {
            control.messages_containing(&top, &reply) == 1
        });
    }
    let pid = tty.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tty.wait_exit(LONG);
    assert!(!status.success(), "killed, not exited: {status:?}");
    drop(tty);

    // The server finishes (or drops) what the dead process had asked for;
    // then it is fast again.
    control.set_delay(None);
    control.set_answer_delay(None);
    wait("the server idle", || control.requests_in_flight() == 0);
    let stored = control.messages_containing(&top, &reply);
    match cut {
        CutOff::BeforeStored => assert!(stored <= 1),
        CutOff::AfterStored => assert_eq!(stored, 1),
    }
    assert!(
        probe.outbox().iter().any(|item| item.text == reply),
        "the reply is still in the outbox"
    );
    eprintln!("{cut:?}: copies on the server when termdesk starts again: {stored}");

    let mut tty = start(&home, &config);
    tty.wait_for("the cached list", LONG, |s| s.contains("All 320"));
    wait("the reply on the server", || {
        control.messages_containing(&top, &reply) == 1
    });
    wait("an empty outbox", || probe.outbox().is_empty());
    tty.send("\r");
    tty.wait_for("the reply delivered in the thread", LONG, |s| {
        s.contains(&reply) && !s.contains("sending…")
    });
    tty.send("\u{1b}");
    // A lone Esc and the next key must not reach termdesk as one Alt
    // sequence: wait until it has taken effect.
    tty.wait_for("the composer left", LONG, |s| !s.contains("Esc leave"));
    tty.send("q");
    assert!(tty.wait_exit(LONG).success());
    assert_eq!(
        control.messages_containing(&top, &reply),
        1,
        "the server holds the reply exactly once"
    );
}

async fn crash_while_sending(cut: CutOff) {
    let sandbox = Sandbox::start(
        ([127, 0, 0, 1], 0).into(),
        roomy(SandboxOptions {
            dedup_front_msg_id: false,
            ..SandboxOptions::default()
        }),
    )
    .await
    .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let home = scratch_home();
    let config = write_config(&home, &sandbox.base_url());
    tokio::task::spawn_blocking(move || script(control, top, home, config, cut))
        .await
        .unwrap();
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_cut_off_by_sigkill_before_the_server_stored_it_is_sent_once_after_a_restart() {
    crash_while_sending(CutOff::BeforeStored).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_stored_but_unanswered_when_sigkill_hit_is_not_sent_again_after_a_restart() {
    crash_while_sending(CutOff::AfterStored).await;
}
