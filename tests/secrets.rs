//! Secrets stay secret: the client secret, password, keys and every token a
//! server hands out never reach a log line (at TRACE), the screen, the
//! cache database or a client's `Debug` output — through sign-in, token
//! expiry and renewal, failing requests and a reply sent.

mod common;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use secrecy::SecretString;

use common::headless::{CacheProbe, RunningApp, fresh_cache, wait_until, wait_until_blocking};
use common::logs::capture_logs;
use termdesk::api::Provider;
use termdesk::api::dmchamp::{DmChampClient, DmChampOptions};
use termdesk::api::qpien::{QpienClient, QpienConfig};
use termdesk::api::superwaba::{SuperWabaClient, SuperWabaLogin, SuperWabaOptions};
use termdesk::sandbox::dmchamp::{DmChampSandbox, DmChampSandboxOptions};
use termdesk::sandbox::superwaba::{SuperWabaSandbox, SuperWabaSandboxOptions};
use termdesk::sandbox::{Faults, Sandbox, SandboxOptions};

const QPIEN_SECRET: &str = "qpien-client-SECRET-4f1c9e";
const SW_PASSWORD: &str = "sw-password-SECRET-77aa";
const SW_ANON_KEY: &str = "sw-anon-SECRET-0b3d";
const SW_API_KEY: &str = "sw-devkey-SECRET-9c2e";
const DM_API_KEY: &str = "dm-apikey-SECRET-51f0";

/// Where `text` holds something shaped like a token the sandboxes issue:
/// Qpien's `qps_…`, SuperWaba's JWT-like access token and `r1_…` refresh
/// token, each followed by its hex.
fn token_in(text: &str) -> Option<String> {
    const SHAPES: [(&str, usize); 3] = [
        ("qps_", 48),
        ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 48),
        ("r1_", 40),
    ];
    for (prefix, hex_len) in SHAPES {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            let hex = rest
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .take(hex_len)
                .count();
            if hex == hex_len {
                return Some(text[at..at + prefix.len() + hex].to_string());
            }
        }
    }
    None
}

fn assert_clean(place: &str, text: &str) {
    for secret in [
        QPIEN_SECRET,
        SW_PASSWORD,
        SW_ANON_KEY,
        SW_API_KEY,
        DM_API_KEY,
    ] {
        assert!(!text.contains(secret), "{place} holds a configured secret");
    }
    if let Some(token) = token_in(text) {
        panic!(
            "{place} holds an issued token starting {}",
            &token[..token.len().min(8)]
        );
    }
}

/// The cache database with its write-ahead log, as bytes read as text.
fn cache_bytes(cache: &std::path::Path) -> String {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", cache.display());
        if let Ok(bytes) = std::fs::read(&path) {
            all.extend_from_slice(&bytes);
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn the_token_finder_finds_tokens() {
    let hex48 = "ab".repeat(24);
    assert!(token_in(&format!("x qps_{hex48} y")).is_some());
    assert!(token_in(&format!("r1_{}", "0f".repeat(20))).is_some());
    assert!(token_in("qps_ short").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_logs_screen_or_cache() {
    let log = capture_logs();

    let qpien = Sandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SandboxOptions {
            client_secret: QPIEN_SECRET.into(),
            conversations: 30,
            rate_limit: 100_000,
            ..SandboxOptions::default()
        },
    )
    .await
    .expect("Qpien sandbox starts");
    let superwaba = SuperWabaSandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        SuperWabaSandboxOptions {
            conversations: 20,
            contacts: 30,
            password: SW_PASSWORD.into(),
            anon_key: SW_ANON_KEY.into(),
            api_key: SW_API_KEY.into(),
            rate_limit: 100_000,
            ..SuperWabaSandboxOptions::default()
        },
    )
    .await
    .expect("SuperWaba sandbox starts");
    let dmchamp = DmChampSandbox::start(
        "127.0.0.1:0".parse().unwrap(),
        DmChampSandboxOptions {
            contacts: 10,
            api_key: DM_API_KEY.into(),
            rate_limit: 100_000,
            ..DmChampSandboxOptions::default()
        },
    )
    .await
    .expect("DM Champ sandbox starts");

    let mut qpien_config = QpienConfig::new(
        qpien.base_url(),
        "demo",
        SecretString::from(QPIEN_SECRET.to_string()),
    );
    qpien_config.requests_per_minute = 1_000_000;
    let qpien_client = Arc::new(QpienClient::new(qpien_config).expect("Qpien client"));
    let sw_client = Arc::new(
        SuperWabaClient::new(SuperWabaOptions {
            base_url: superwaba.base_url(),
            developer_base_url: superwaba.developer_base_url(),
            org_id: termdesk::sandbox::superwaba::DEMO_ORG_ID.into(),
            supabase_url: superwaba.supabase_url(),
            supabase_anon_key: SecretString::from(SW_ANON_KEY.to_string()),
            login: SuperWabaLogin::Password {
                email: termdesk::sandbox::superwaba::DEMO_EMAIL.into(),
                password: SecretString::from(SW_PASSWORD.to_string()),
            },
            api_key: Some(SecretString::from(SW_API_KEY.to_string())),
            token_file: None,
            timeout: Duration::from_secs(10),
            requests_per_minute: 1_000_000,
        })
        .expect("SuperWaba client"),
    );
    let mut dm_options = DmChampOptions::new(
        dmchamp.base_url(),
        SecretString::from(DM_API_KEY.to_string()),
    );
    dm_options.requests_per_minute = 1_000_000;
    let dm_client = Arc::new(DmChampClient::new(dm_options).expect("DM Champ client"));

    for shown in [
        format!("{qpien_client:?}"),
        format!("{sw_client:?}"),
        format!("{dm_client:?}"),
    ] {
        assert_clean("a client's Debug output", &shown);
    }

    let cache = fresh_cache();
    let app = RunningApp::start_accounts(
        vec![
            ("shop", qpien_client.clone() as Arc<dyn Provider>),
            ("waba", sw_client.clone() as Arc<dyn Provider>),
            ("champ", dm_client.clone() as Arc<dyn Provider>),
        ],
        cache.clone(),
        Duration::from_millis(200),
    );
    let probe = CacheProbe::new(&cache);
    wait_until_blocking("both inbox accounts synced", {
        let probe = probe.clone();
        move || probe.conversation_count() >= 50
    })
    .await;

    // Tokens run out mid-session and are renewed; requests fail.
    let qpien_control = qpien.control();
    let tokens_before = qpien_control.token_count();
    qpien_control.expire_all_tokens();
    let sw_control = superwaba.control();
    let grants = || sw_control.password_grants() + sw_control.refresh_grants();
    let grants_before = grants();
    sw_control.expire_access_tokens();
    wait_until("a new Qpien token and a renewed SuperWaba session", || {
        qpien_control.token_count() > tokens_before && grants() > grants_before
    })
    .await;
    qpien_control.set_faults(Faults {
        fail_next: 2,
        ..Faults::default()
    });
    sw_control.fail_next(2);
    let _ = dm_client.list_templates().await;

    // A reply goes out and its answer comes back.
    app.open_selected().await;
    app.press(KeyCode::Char('r'));
    app.type_text("checking that nothing secret leaks");
    app.press(KeyCode::Enter);
    wait_until_blocking("the reply stored on the server", {
        let probe = probe.clone();
        move || probe.outbox().is_empty()
    })
    .await;

    let screen = app.screen();
    app.quit().await;

    assert_clean("the screen", &screen);
    assert_clean("the log", &log.text());
    assert_clean("the cache database", &cache_bytes(&cache));
    assert!(
        log.text().contains("request"),
        "the capture saw the requests being logged"
    );
}
