//! End-to-end: the real binary in a pseudo-terminal, read through vt100.

mod common;

use std::time::Duration;

use common::pty::{LONG, Tty, account_config, scratch_home};
use termdesk::sandbox::{Sandbox, SandboxOptions};

const BINARY: &str = env!("CARGO_BIN_EXE_termdesk");

fn leaves_terminal_clean(output: &[u8]) -> bool {
    let text = String::from_utf8_lossy(output);
    let leave = text.rfind("\u{1b}[?1049l");
    let enter = text.rfind("\u{1b}[?1049h");
    matches!((enter, leave), (Some(enter), Some(leave)) if leave > enter)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_a_conversation_against_the_sandbox() {
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), SandboxOptions::default())
        .await
        .unwrap();
    let control = sandbox.control();
    let top = control.conversation_ids()[0].clone();
    let home = scratch_home();
    let config_arg = account_config(&home, "e2e", &sandbox.base_url(), "");
    let reply = format!("PTY reply {}", &uuid::Uuid::new_v4().to_string()[..8]);

    let (script_control, script_top) = (control.clone(), top.clone());
    let script = tokio::task::spawn_blocking(move || {
        let (control, top) = (script_control, script_top);
        let mut tty = Tty::spawn(
            BINARY.as_ref(),
            &["--config", &config_arg],
            &home,
            &[("TERMDESK_E2E_SECRET", "demo")],
            100,
            30,
        );
        tty.wait_for("the conversation list", LONG, |s| s.contains("All 320"));
        assert!(
            tty.screen().contains("e2e"),
            "the account name is in the status bar"
        );
        tty.send("\r");
        // Replying before the thread is on screen would (rightly) hold the
        // first Enter back: the agent has not seen the customer's messages.
        tty.wait_for("the open thread", LONG, |s| {
            s.contains("Reply to")
                && (s.contains("start of conversation") || s.contains("older messages"))
        });
        tty.send("r");
        tty.send(&reply);
        tty.send("\r");
        // The typed text is on screen before Enter is even read: wait for it
        // to leave the composer, then for the server to hold it, then for
        // termdesk to have taken the confirmation (its outbox is empty).
        tty.wait_for("the reply out of the composer", LONG, |s| {
            s.contains(&reply) && s.contains("Type a reply")
        });
        let deadline = std::time::Instant::now() + LONG;
        while control.messages_containing(&top, &reply) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "never reached the server"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let cache = home.join("data/termdesk/cache/e2e.sqlite");
        while !termdesk::store::db::Db::open_read_only(&cache)
            .and_then(|db| db.load_outbox())
            .is_ok_and(|outbox| outbox.is_empty())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the outbox never emptied"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        tty.wait_for("the reply confirmed", LONG, |s| {
            s.contains(&reply) && !s.contains("sending…")
        });
        tty.send("\u{1b}");
        // A lone Esc and the next key must not reach termdesk as one Alt
        // sequence: wait until it has taken effect.
        tty.wait_for("the composer left", LONG, |s| !s.contains("Esc leave"));
        tty.send("q");
        let status = tty.wait_exit(LONG);
        assert!(status.success(), "exit status {status:?}");
        assert!(
            leaves_terminal_clean(&tty.output()),
            "the alternate screen was left"
        );
        reply
    });
    let reply = script.await.unwrap();
    assert_eq!(
        control.messages_containing(&top, &reply),
        1,
        "the sandbox holds the reply exactly once"
    );
    sandbox.shutdown().await;
}

#[test]
fn runs_the_labelled_demo_without_a_config() {
    let home = scratch_home();
    let mut tty = Tty::spawn(BINARY.as_ref(), &[], &home, &[], 80, 24);
    tty.wait_for("the demo inbox", LONG, |s| {
        s.contains("DEMO") && s.contains("All 3")
    });
    tty.send("?");
    tty.wait_for("the help overlay", LONG, |s| {
        s.contains("Keys — Esc or ? closes")
    });
    tty.send("\u{1b}");
    tty.wait_for("the help closed", LONG, |s| {
        !s.contains("Keys — Esc or ? closes")
    });
    tty.send("q");
    assert!(tty.wait_exit(LONG).success());
    assert!(leaves_terminal_clean(&tty.output()));
}

#[test]
fn a_broken_config_is_reported_with_file_line_and_key() {
    let home = scratch_home();
    let config = home.join("broken.toml");
    std::fs::write(
        &config,
        "[[accounts]]\nname = \"x\"\nprovider = \"qpien\"\nbase_url = 42\n",
    )
    .unwrap();
    let output = std::process::Command::new(BINARY)
        .args([
            "--config",
            &config.to_string_lossy(),
            "conversations",
            "list",
        ])
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.toml") && stderr.contains("line 4") && stderr.contains("base_url"),
        "{stderr}"
    );
}

/// The demo inbox on screen, then `signal` sent to it: termdesk exits on
/// its own and leaves the terminal as it found it.
fn signal_restores_the_terminal(signal: &str) {
    let home = scratch_home();
    let mut tty = Tty::spawn(BINARY.as_ref(), &[], &home, &[], 80, 24);
    tty.wait_for("the demo inbox", LONG, |s| s.contains("DEMO"));
    let pid = tty.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tty.wait_exit(LONG);
    assert!(
        leaves_terminal_clean(&tty.output()),
        "SIG{signal} left the terminal changed"
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores_the_terminal("TERM");
}

#[test]
fn sigint_sighup_and_sigquit_restore_the_terminal() {
    for signal in ["INT", "HUP", "QUIT"] {
        signal_restores_the_terminal(signal);
    }
}

#[test]
fn a_panic_restores_the_terminal_and_says_what_happened() {
    let home = scratch_home();
    let mut tty = Tty::spawn(
        BINARY.as_ref(),
        &[],
        &home,
        &[("TERMDESK_TEST_PANIC", "1")],
        80,
        24,
    );
    let status = tty.wait_exit(LONG);
    assert!(!status.success());
    let output = tty.output();
    assert!(
        leaves_terminal_clean(&output),
        "the alternate screen was left"
    );
    let text = String::from_utf8_lossy(&output);
    let entered_at = text.rfind("\u{1b}[?1049h").unwrap();
    let restored_at = entered_at + text[entered_at..].find("\u{1b}[?1049l").unwrap();
    let after = &text[restored_at..];
    assert!(
        after.contains("deliberate panic"),
        "the panic message comes after the restore, on the normal screen"
    );
    let log = home.join("state/termdesk/logs/termdesk.log");
    assert!(
        after.contains("details and a backtrace are in") && after.contains("termdesk.log"),
        "the agent is told where the details are: {after}"
    );
    assert!(
        after.contains("Drafts and unsent replies are kept"),
        "{after}"
    );
    let logged = std::fs::read_to_string(&log).expect("the log file");
    assert!(
        logged.contains("deliberate panic") && logged.contains("backtrace"),
        "the panic and its backtrace are in the log: {logged}"
    );
}

#[test]
fn a_mistake_in_the_keys_stops_the_start_and_names_the_entry() {
    let home = scratch_home();
    let config = home.join("keys.toml");
    std::fs::write(
        &config,
        "[[accounts]]\nname = \"x\"\nprovider = \"qpien\"\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"demo\"\nclient_secret_env = \"TERMDESK_E2E_SECRET\"\n\n[keys.list]\n\"ctrl-q\" = \"resolv\"\n",
    )
    .unwrap();
    let output = std::process::Command::new(BINARY)
        .args(["--config", &config.to_string_lossy()])
        .env("HOME", &home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("TERMDESK_E2E_SECRET", "demo")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("keys.toml")
            && stderr.contains("[keys.list] \"ctrl-q\" = \"resolv\"")
            && stderr.contains("did you mean \"resolve\""),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("\u{1b}[?1049h"),
        "the terminal was never touched"
    );
}
