//! Picks what termdesk talks to: the configured account, or the demo (the
//! Qpien sandbox started in-process).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::api::Provider;
use crate::api::qpien::{QpienClient, QpienConfig};
use crate::canned::{self, CannedReply};
use crate::config::{AccountConfig, Config, ProviderKind};
use crate::sandbox::{Sandbox, SandboxOptions};

#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    pub config_path: Option<PathBuf>,
    pub account: Option<String>,
    /// Run the demo even when a config file exists.
    pub demo: bool,
    /// Simulated live traffic in the demo sandbox.
    pub live: bool,
}

/// A provider ready to use, and what the status bar should call it.
pub struct Connection {
    pub provider: Arc<dyn Provider>,
    /// Account name, or "demo".
    pub label: String,
    pub poll_interval: Duration,
    pub config: Config,
    /// Present in the demo; dropping it stops the sandbox.
    pub demo_sandbox: Option<Sandbox>,
}

impl Connection {
    pub fn is_demo(&self) -> bool {
        self.demo_sandbox.is_some()
    }
}

/// What to connect to, decided before any network or terminal work so
/// config mistakes are reported plainly on stderr.
pub struct LaunchPlan {
    pub label: String,
    pub provider_label: String,
    pub is_demo: bool,
    pub config: Config,
    pub live: bool,
    /// The config file read, if any: canned replies sit beside it.
    pub config_path: Option<PathBuf>,
    account: Option<(AccountConfig, SecretString)>,
}

/// Reads the config (if any) and picks the account. The demo is used when
/// asked for, or when there is no `--config` and no config file at the
/// default path.
pub fn plan(options: &LaunchOptions) -> Result<LaunchPlan, String> {
    let config_path = match &options.config_path {
        Some(path) => Some(path.clone()),
        None => Config::default_path().filter(|path| path.exists()),
    };
    let config = match &config_path {
        Some(path) => Config::load(path).map_err(|err| err.to_string())?,
        None => Config::default(),
    };
    if options.demo || config_path.is_none() {
        return Ok(LaunchPlan {
            label: "demo".into(),
            provider_label: "Qpien sandbox".into(),
            is_demo: true,
            config,
            live: options.live,
            config_path,
            account: None,
        });
    }
    let account = config.select_account(options.account.as_deref())?.clone();
    if account.provider != ProviderKind::Qpien {
        return Err(format!(
            "account `{}`: this build of termdesk supports only provider = \"qpien\"",
            account.name
        ));
    }
    if account.client_id.is_none() {
        return Err(format!("account `{}` needs a client_id", account.name));
    }
    let secret = account.resolve_secret()?;
    Ok(LaunchPlan {
        label: account.name.clone(),
        provider_label: "Qpien".into(),
        is_demo: false,
        config,
        live: options.live,
        config_path,
        account: Some((account, secret)),
    })
}

/// Where this run keeps its cache.
pub enum CachePlace {
    /// The account's own file, kept between runs.
    Account(PathBuf),
    /// The demo's sandbox is new on every run, so its cache is too: a file
    /// in a temporary directory removed on exit.
    Scratch(tempfile::TempDir),
}

impl CachePlace {
    pub fn path(&self) -> PathBuf {
        match self {
            CachePlace::Account(path) => path.clone(),
            CachePlace::Scratch(dir) => dir.path().join("demo.sqlite"),
        }
    }
}

/// Who the demo's agent is: one of the sandbox's seeded agents.
pub const DEMO_AGENT: &str = "sarah@acme-store.test";
pub const DEMO_COUNTRY: &str = "TR";

impl LaunchPlan {
    /// The account's `agent` key ("Mine"); the demo plays one of its agents.
    pub fn agent(&self) -> Option<String> {
        if self.is_demo {
            return Some(DEMO_AGENT.to_string());
        }
        self.account
            .as_ref()
            .and_then(|(account, _)| account.agent.clone())
    }

    /// The account's country, for phone numbers typed without `+`. The
    /// demo's shop is in Türkiye.
    pub fn country(&self) -> Option<String> {
        if self.is_demo {
            return Some(DEMO_COUNTRY.to_string());
        }
        self.account
            .as_ref()
            .and_then(|(account, _)| account.country.clone())
            .map(|c| c.trim().to_uppercase())
    }

    /// The team's canned replies and, when their file could not be read,
    /// why: `canned_replies.toml` beside the config for an account (none
    /// when it is missing), the shipped example in the demo.
    pub fn canned_replies(&self) -> (Vec<CannedReply>, Option<String>) {
        let loaded = if self.is_demo {
            canned::parse(include_str!("../assets/canned_replies.example.toml"))
        } else {
            match &self.config_path {
                Some(path) => canned::load(&canned::path_beside(path)),
                None => Ok(Vec::new()),
            }
        };
        match loaded {
            Ok(replies) => (replies, None),
            Err(error) => (Vec::new(), Some(error)),
        }
    }

    /// The cache file for this plan, or why there is none.
    pub fn cache_place(&self) -> Result<CachePlace, String> {
        if self.is_demo {
            return tempfile::Builder::new()
                .prefix("termdesk-demo-")
                .tempdir()
                .map(CachePlace::Scratch)
                .map_err(|err| format!("cannot create a scratch cache for the demo: {err}"));
        }
        crate::store::cache::cache_path(&self.label)
            .map(CachePlace::Account)
            .ok_or_else(|| "no data directory on this system for the cache".to_string())
    }
}

/// Plans and connects in one step.
pub async fn connect(options: &LaunchOptions) -> Result<Connection, String> {
    connect_plan(plan(options)?).await
}

pub async fn connect_plan(plan: LaunchPlan) -> Result<Connection, String> {
    let Some((account, secret)) = plan.account else {
        return start_demo(plan.config, plan.live).await;
    };
    let client_id = account.client_id.clone().unwrap_or_default();
    let mut qpien = QpienConfig::new(account.base_url.clone(), client_id, secret);
    qpien.request_timeout = account.request_timeout();
    qpien.requests_per_minute = account.requests_per_minute;
    let provider: Arc<dyn Provider> =
        Arc::new(QpienClient::new(qpien).map_err(|err| err.to_string())?);
    Ok(Connection {
        provider,
        label: account.name.clone(),
        poll_interval: account.poll_interval(),
        config: plan.config,
        demo_sandbox: None,
    })
}

async fn start_demo(config: Config, live: bool) -> Result<Connection, String> {
    let options = SandboxOptions {
        live,
        ..SandboxOptions::default()
    };
    let client_id = options.client_id.clone();
    let secret = SecretString::from(options.client_secret.clone());
    let sandbox = Sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)), options)
        .await
        .map_err(|err| format!("cannot start the demo sandbox: {err}"))?;
    let client = QpienClient::new(QpienConfig::new(sandbox.base_url(), client_id, secret))
        .map_err(|err| err.to_string())?;
    Ok(Connection {
        provider: Arc::new(client),
        label: "demo".to_string(),
        poll_interval: Duration::from_secs(2),
        config,
        demo_sandbox: Some(sandbox),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &std::path::Path, demo: bool) -> LaunchOptions {
        let path = dir.join("config.toml");
        std::fs::write(
            &path,
            "[[accounts]]\nname = \"work\"\nprovider = \"qpien\"\n\
             base_url = \"http://127.0.0.1:9\"\nclient_id = \"ck_test\"\n\
             client_secret_cmd = \"echo secret\"\n",
        )
        .unwrap();
        LaunchOptions {
            config_path: Some(path),
            demo,
            ..LaunchOptions::default()
        }
    }

    #[test]
    fn canned_replies_come_from_beside_the_config_or_the_shipped_example() {
        let dir = tempfile::tempdir().unwrap();
        let demo = plan(&options(dir.path(), true)).unwrap();
        let (replies, error) = demo.canned_replies();
        assert!(!replies.is_empty() && error.is_none(), "{error:?}");

        let account = plan(&options(dir.path(), false)).unwrap();
        assert_eq!(account.canned_replies(), (Vec::new(), None), "no file yet");
        let file = dir.path().join(canned::FILE_NAME);
        std::fs::write(&file, "[[reply]]\nname = \"Hi\"\ntext = \"Hello\"\n").unwrap();
        let (replies, error) = account.canned_replies();
        assert_eq!((replies.len(), error), (1, None));
        std::fs::write(&file, "[[reply]\n").unwrap();
        let (replies, error) = account.canned_replies();
        assert!(replies.is_empty());
        assert!(error.unwrap().contains(canned::FILE_NAME));
    }
}
