//! `termdesk sandbox --provider superwaba|dmchamp`: the REST sandboxes
//! served until Ctrl-C, with what a config needs to reach them.

use std::net::SocketAddr;

use crate::sandbox::dmchamp::{DmChampSandbox, DmChampSandboxOptions};
use crate::sandbox::superwaba::{SuperWabaSandbox, SuperWabaSandboxOptions};

/// Faults a sandbox starts with, from `termdesk sandbox` flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartFaults {
    /// Latency before every API request is handled.
    pub latency: Option<std::time::Duration>,
    /// Share (0.0–1.0) of API requests answered 503 before anything is done.
    pub error_rate: f64,
}

impl StartFaults {
    /// The line saying which of them are on, if any.
    fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(l) = self.latency {
            parts.push(format!("{} ms latency", l.as_millis()));
        }
        if self.error_rate > 0.0 {
            parts.push(format!(
                "{}% of requests answered 503",
                self.error_rate * 100.0
            ));
        }
        (!parts.is_empty()).then(|| format!("  faults: {}", parts.join(", ")))
    }
}

/// Seeded phone numbers printed for looking contacts up.
const SAMPLE_PHONES: usize = 5;

pub async fn run_dmchamp(
    host: [u8; 4],
    port: u16,
    options: DmChampSandboxOptions,
    faults: StartFaults,
) -> Result<(), String> {
    let summary = summary(
        options.seed,
        options.live,
        "requests",
        options.rate_limit,
        options.rate_window,
        options.lose_answer_rate,
    );
    let key = options.api_key.clone();
    let sandbox = DmChampSandbox::start(SocketAddr::from((host, port)), options)
        .await
        .map_err(|err| format!("cannot start the sandbox on port {port}: {err}"))?;
    let url = sandbox.base_url();
    let control = sandbox.control();
    control.set_delay(faults.latency);
    control.faults_control().set_error_rate(faults.error_rate);
    println!("DM Champ sandbox listening on {url}");
    println!("  {} contacts; API key: {key}", control.contact_count());
    println!("{summary}");
    if let Some(line) = faults.describe() {
        println!("{line}");
    }
    println!("  Look these up (contacts directory, C): {}", {
        let phones: Vec<String> = control
            .sample_contacts(SAMPLE_PHONES, None)
            .into_iter()
            .filter_map(|c| c.phone)
            .collect();
        phones.join(", ")
    });
    println!();
    println!("A config for it (the key in DMCHAMP_API_KEY={key}):");
    println!(
        "  [[accounts]]\n  name = \"dm\"\n  provider = \"dmchamp\"\n  base_url = \"{url}\"\n  api_key_env = \"DMCHAMP_API_KEY\""
    );
    println!(
        "Steer it with POST {} (JSON, see the README). Press Ctrl-C to stop.",
        url.replace("/v1", "/__sandbox/faults")
    );
    wait_for_ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

pub async fn run_superwaba(
    host: [u8; 4],
    port: u16,
    options: SuperWabaSandboxOptions,
    faults: StartFaults,
) -> Result<(), String> {
    let summary = summary(
        options.seed,
        options.live,
        "Session API requests",
        options.rate_limit,
        options.rate_window,
        options.lose_answer_rate,
    );
    let (org, email, password, anon, key) = (
        options.org_id.clone(),
        options.email.clone(),
        options.password.clone(),
        options.anon_key.clone(),
        options.api_key.clone(),
    );
    let sandbox = SuperWabaSandbox::start(SocketAddr::from((host, port)), options)
        .await
        .map_err(|err| format!("cannot start the sandbox on port {port}: {err}"))?;
    let url = sandbox.base_url();
    sandbox.set_delay(faults.latency);
    sandbox.faults_control().set_error_rate(faults.error_rate);
    println!("SuperWaba sandbox listening on {}", sandbox.supabase_url());
    println!(
        "  {} conversations, {} contacts; sign in as {email} / {password}",
        sandbox.conversation_ids().len(),
        sandbox.contact_count()
    );
    println!("{summary}");
    if let Some(line) = faults.describe() {
        println!("{line}");
    }
    println!();
    println!(
        "A config for it (SUPERWABA_ANON_KEY={anon} SUPERWABA_PASSWORD={password} SUPERWABA_API_KEY={key}):"
    );
    println!(
        "  [[accounts]]\n  name = \"sw\"\n  provider = \"superwaba\"\n  base_url = \"{url}\"\n  developer_base_url = \"{}\"\n  org_id = \"{org}\"\n  supabase_url = \"{}\"\n  supabase_anon_key_env = \"SUPERWABA_ANON_KEY\"\n  email = \"{email}\"\n  password_env = \"SUPERWABA_PASSWORD\"\n  api_key_env = \"SUPERWABA_API_KEY\"",
        sandbox.developer_base_url(),
        sandbox.supabase_url()
    );
    println!(
        "Steer it with POST {}/__sandbox/faults and /__sandbox/superwaba (JSON, see the README). Press Ctrl-C to stop.",
        sandbox.supabase_url()
    );
    wait_for_ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}

/// The line of the Qpien sandbox's start-up faults, if any.
pub fn describe_faults(faults: &StartFaults) -> Option<String> {
    faults.describe()
}

/// The line saying how the sandbox behaves.
fn summary(
    seed: u64,
    live: bool,
    limited: &str,
    rate_limit: u32,
    rate_window: std::time::Duration,
    lose_answer_rate: f64,
) -> String {
    format!(
        "  seed {seed}, live traffic {}, {rate_limit} {limited} per {} s, {}% of write answers lost",
        if live { "on" } else { "off (use --live)" },
        rate_window.as_secs(),
        lose_answer_rate * 100.0
    )
}

async fn wait_for_ctrl_c() -> Result<(), String> {
    tokio::signal::ctrl_c()
        .await
        .map_err(|err| format!("cannot wait for Ctrl-C: {err}"))
}
