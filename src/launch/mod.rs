//! Picks what termdesk talks to: the configured account, or the demo (the
//! Qpien sandbox started in-process).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::api::Provider;
use crate::api::dmchamp::{DmChampClient, DmChampOptions};
use crate::api::qpien::{QpienClient, QpienConfig};
use crate::api::superwaba::{self, SuperWabaClient, SuperWabaOptions};
use crate::canned::{self, CannedReply};
use crate::config::{AccountConfig, Config, ProviderKind, ProviderSettings, SuperWabaLogin};

mod demo;

pub use demo::DemoSandbox;
use demo::start_demo;

#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    pub config_path: Option<PathBuf>,
    pub account: Option<String>,
    /// Run the demo even when a config file exists.
    pub demo: bool,
    /// Which platform the demo plays (Qpien when not given).
    pub demo_provider: Option<ProviderKind>,
    /// Simulated live traffic in the demo sandbox.
    pub live: bool,
}

/// A provider ready to use, and what the status bar should call it.
pub struct Connection {
    pub provider: Arc<dyn Provider>,
    /// Account name, or "demo".
    pub label: String,
    /// The platform, e.g. "SuperWaba".
    pub provider_label: String,
    pub poll_interval: Duration,
    pub config: Config,
    /// Present in the demo; dropping it stops the sandbox.
    pub demo_sandbox: Option<DemoSandbox>,
}

impl Connection {
    pub fn is_demo(&self) -> bool {
        self.demo_sandbox.is_some()
    }
}

/// An account whose secrets have been read.
pub struct ReadyAccount {
    pub config: AccountConfig,
    secrets: Secrets,
}

/// An account's secrets, read before the terminal changes so a missing one
/// is reported plainly.
enum Secrets {
    Qpien {
        client_secret: SecretString,
    },
    SuperWaba {
        anon_key: SecretString,
        login: SecretString,
        api_key: Option<SecretString>,
    },
    DmChamp {
        api_key: SecretString,
    },
}

impl ReadyAccount {
    pub fn read(config: AccountConfig) -> Result<Self, String> {
        let name = config.name.clone();
        let secrets = match &config.provider {
            ProviderSettings::Qpien(qpien) => Secrets::Qpien {
                client_secret: qpien.client_secret.resolve(&name)?,
            },
            ProviderSettings::SuperWaba(superwaba) => Secrets::SuperWaba {
                anon_key: superwaba.supabase_anon_key.resolve(&name)?,
                login: match &superwaba.login {
                    SuperWabaLogin::Password { password, .. } => password.resolve(&name)?,
                    SuperWabaLogin::RefreshToken(token) => token.resolve(&name)?,
                },
                api_key: match &superwaba.api_key {
                    Some(source) => Some(source.resolve(&name)?),
                    None => None,
                },
            },
            ProviderSettings::DmChamp(dmchamp) => Secrets::DmChamp {
                api_key: dmchamp.api_key.resolve(&name)?,
            },
        };
        Ok(ReadyAccount { config, secrets })
    }

    pub fn provider_label(&self) -> &'static str {
        self.config.kind().label()
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
    /// What the agent should hear about before anything else (a config
    /// file holding a secret that others can read).
    pub warnings: Vec<String>,
    demo_provider: ProviderKind,
    account: Option<ReadyAccount>,
    /// The inbox's other accounts, when it shows several.
    others: Vec<ReadyAccount>,
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
    let warnings: Vec<String> = match &config_path {
        Some(path) if config.holds_secret() => crate::config::shared_file_warning(path)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    if options.demo || config_path.is_none() {
        let demo_provider = options.demo_provider.unwrap_or(ProviderKind::Qpien);
        return Ok(LaunchPlan {
            label: "demo".into(),
            provider_label: format!("{} sandbox", demo_provider.label()),
            is_demo: true,
            config,
            live: options.live,
            config_path,
            warnings,
            demo_provider,
            account: None,
            others: Vec::new(),
        });
    }
    if options.demo_provider.is_some() {
        return Err("--provider chooses the demo's platform: use it with --demo".into());
    }
    let account = ReadyAccount::read(config.select_account(options.account.as_deref())?.clone())?;
    Ok(LaunchPlan {
        label: account.config.name.clone(),
        provider_label: account.provider_label().into(),
        is_demo: false,
        config,
        live: options.live,
        config_path,
        warnings,
        demo_provider: ProviderKind::Qpien,
        account: Some(account),
        others: Vec::new(),
    })
}

/// Like [`plan`], for the inbox: without `--account`, every configured
/// account is opened in one inbox.
pub fn plan_inbox(options: &LaunchOptions) -> Result<LaunchPlan, String> {
    let mut plan = plan(options)?;
    if plan.is_demo || options.account.is_some() || plan.config.accounts.len() < 2 {
        return Ok(plan);
    }
    let chosen = plan.label.clone();
    for account in plan.config.accounts.clone() {
        if account.name != chosen {
            plan.others.push(ReadyAccount::read(account)?);
        }
    }
    plan.label = INBOX_LABEL.to_string();
    plan.provider_label = "several accounts".into();
    Ok(plan)
}

/// What the status bar and cache call an inbox of several accounts.
pub const INBOX_LABEL: &str = "all accounts";

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
            .and_then(|account| account.config.agent.clone())
    }

    /// The account's country, for phone numbers typed without `+`. The
    /// demo's shop is in Türkiye.
    pub fn country(&self) -> Option<String> {
        if self.is_demo {
            return Some(DEMO_COUNTRY.to_string());
        }
        self.account
            .as_ref()
            .and_then(|account| account.config.country.clone())
            .map(|c| c.trim().to_uppercase())
    }

    /// The team's canned replies and, when their file could not be read,
    /// why: `canned_replies.toml` beside the config for an account (none
    /// when it is missing), the shipped example in the demo.
    pub fn canned_replies(&self) -> (Vec<CannedReply>, Option<String>) {
        let loaded = if self.is_demo {
            canned::parse(include_str!("../../assets/canned_replies.example.toml"))
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
        if !self.others.is_empty() {
            // Ids are qualified by account there: a cache of its own.
            return crate::store::cache::inbox_path()
                .map(CachePlace::Account)
                .ok_or_else(|| "no data directory on this system for the cache".to_string());
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
    let Some(account) = plan.account else {
        return start_demo(plan.config, plan.demo_provider, plan.live).await;
    };
    let provider = connect_account(&account)?;
    Ok(Connection {
        provider,
        label: account.config.name.clone(),
        provider_label: account.provider_label().to_string(),
        poll_interval: account.config.poll_interval(),
        config: plan.config,
        demo_sandbox: None,
    })
}

/// Every account of the inbox, connected (the demo's sandbox too).
pub async fn connect_inbox(
    mut plan: LaunchPlan,
) -> Result<(Vec<crate::app::runtime::AccountHandle>, Option<DemoSandbox>), String> {
    let others = std::mem::take(&mut plan.others);
    let order: Vec<String> = plan
        .config
        .accounts
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let first = connect_plan(plan).await?;
    let mut handles = vec![crate::app::runtime::AccountHandle {
        name: first.label.clone(),
        provider_label: first.provider_label.clone(),
        provider: first.provider,
        poll_interval: first.poll_interval,
    }];
    for account in &others {
        handles.push(crate::app::runtime::AccountHandle {
            name: account.config.name.clone(),
            provider_label: account.provider_label().to_string(),
            provider: connect_account(account)?,
            poll_interval: account.config.poll_interval(),
        });
    }
    if handles.len() > 1 {
        // The configured order, whichever account the plan picked first.
        handles.sort_by_key(|h| order.iter().position(|name| name == &h.name));
    }
    Ok((handles, first.demo_sandbox))
}

/// The client of one configured account.
pub fn connect_account(account: &ReadyAccount) -> Result<Arc<dyn Provider>, String> {
    let config = &account.config;
    match (&config.provider, &account.secrets) {
        (ProviderSettings::Qpien(qpien), Secrets::Qpien { client_secret }) => {
            let mut settings = QpienConfig::new(
                qpien.base_url.clone(),
                qpien.client_id.clone(),
                client_secret.clone(),
            );
            settings.request_timeout = config.request_timeout();
            settings.requests_per_minute = config.requests_per_minute;
            Ok(Arc::new(
                QpienClient::new(settings).map_err(|err| err.to_string())?,
            ))
        }
        (
            ProviderSettings::SuperWaba(settings),
            Secrets::SuperWaba {
                anon_key,
                login,
                api_key,
            },
        ) => {
            let login = match &settings.login {
                SuperWabaLogin::Password { email, .. } => superwaba::SuperWabaLogin::Password {
                    email: email.clone(),
                    password: login.clone(),
                },
                SuperWabaLogin::RefreshToken(_) => {
                    superwaba::SuperWabaLogin::RefreshToken(login.clone())
                }
            };
            let options = SuperWabaOptions {
                base_url: settings.base_url.clone(),
                developer_base_url: settings.developer_base_url.clone(),
                org_id: settings.org_id.clone(),
                supabase_url: settings.supabase_url.clone(),
                supabase_anon_key: anon_key.clone(),
                login,
                api_key: api_key.clone(),
                token_file: Some(account_file("superwaba", &config.name, "token.json")),
                timeout: config.request_timeout(),
                requests_per_minute: config.requests_per_minute,
            };
            Ok(Arc::new(
                SuperWabaClient::new(options).map_err(|err| err.to_string())?,
            ))
        }
        (ProviderSettings::DmChamp(dmchamp), Secrets::DmChamp { api_key }) => {
            let mut options = DmChampOptions::new(dmchamp.base_url.clone(), api_key.clone());
            options.book_file = Some(dmchamp_book_file(&config.name));
            options.timeout = config.request_timeout();
            options.requests_per_minute = config.requests_per_minute;
            Ok(Arc::new(
                DmChampClient::new(options).map_err(|err| err.to_string())?,
            ))
        }
        _ => Err(format!(
            "account `{}`: this build of termdesk does not speak {} yet",
            config.name,
            config.kind().label()
        )),
    }
}

/// Where a DM Champ account keeps its contact book: the data dir, one file
/// per account name.
fn dmchamp_book_file(account: &str) -> PathBuf {
    account_file("dmchamp", account, "contacts.json")
}

/// A file of one account in the data dir: `<provider>/<account>.<suffix>`.
fn account_file(provider: &str, account: &str, suffix: &str) -> PathBuf {
    let safe: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    crate::paths::project_dirs()
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| std::env::temp_dir().join("termdesk"))
        .join(provider)
        .join(format!("{safe}.{suffix}"))
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
