//! The config file: accounts, polling, composer behaviour. Secrets never
//! live in it: they come from an environment variable or a command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 5;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 15;
/// Qpien's documented limit per API key.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 100;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Account used when `--account` is not given; the first one otherwise.
    pub default_account: Option<String>,
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    #[serde(default)]
    pub composer: ComposerConfig,
    #[serde(default)]
    pub triage: TriageConfig,
    #[serde(default)]
    pub ui: UiConfig,
    /// Key overrides per mode: `[keys.list]`, `[keys.thread]`,
    /// `[keys.composer]`, `[keys.global]`; each entry is `"key" = "action"`.
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

pub const DEFAULT_UNDO_GRACE_SECS: u64 = 5;
pub const DEFAULT_SLA_MINUTES: u64 = 15;

/// How actions on conversations behave.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TriageConfig {
    /// Seconds an action waits before it is sent, while `u` can undo it.
    #[serde(default = "default_undo_grace")]
    pub undo_grace_secs: u64,
    /// A customer waiting longer than this is highlighted.
    #[serde(default = "default_sla_minutes")]
    pub sla_minutes: u64,
}

impl Default for TriageConfig {
    fn default() -> Self {
        Self {
            undo_grace_secs: DEFAULT_UNDO_GRACE_SECS,
            sla_minutes: DEFAULT_SLA_MINUTES,
        }
    }
}

fn default_undo_grace() -> u64 {
    DEFAULT_UNDO_GRACE_SECS
}

fn default_sla_minutes() -> u64 {
    DEFAULT_SLA_MINUTES
}

/// The terminal side: mouse, bell, desktop notifications.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    #[serde(default = "yes")]
    pub mouse: bool,
    /// Ring the terminal bell when a customer writes in Mine or Unassigned.
    #[serde(default = "yes")]
    pub bell: bool,
    /// Desktop notifications (only in builds with the `desktop-notify`
    /// feature).
    #[serde(default)]
    pub desktop_notifications: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            mouse: true,
            bell: true,
            desktop_notifications: false,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Qpien,
    Superwaba,
    Dmchamp,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub name: String,
    pub provider: ProviderKind,
    pub base_url: String,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_cmd: Option<String>,
    #[serde(default = "default_poll_interval")]
    pub poll_interval_secs: u64,
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// The API key's rate limit; lower it when other tools share the key.
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
    /// Who "Mine" is: the agent's e-mail or id on the provider. Without it
    /// termdesk asks once and remembers.
    pub agent: Option<String>,
    /// The account's country (ISO 3166-1 alpha-2): phone numbers typed
    /// without `+` are read in it when the contact has no country.
    pub country: Option<String>,
}

fn default_poll_interval() -> u64 {
    DEFAULT_POLL_INTERVAL_SECS
}

fn default_request_timeout() -> u64 {
    DEFAULT_REQUEST_TIMEOUT_SECS
}

fn default_requests_per_minute() -> u32 {
    DEFAULT_REQUESTS_PER_MINUTE
}

/// Which key sends in the composer; the other one inserts a line break.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SendKey {
    #[default]
    Enter,
    AltEnter,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ComposerConfig {
    #[serde(default)]
    pub send_key: SendKey,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}, line {line}, key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("config file {path}: {message}")]
    Account { path: PathBuf, message: String },
}

impl Config {
    /// Where the config lives when `--config` is not given.
    pub fn default_path() -> Option<PathBuf> {
        crate::paths::project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config = Self::parse(&text, path)?;
        config.validate(path)?;
        Ok(config)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |err: &toml::de::Error, key: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: err
                .span()
                .map(|span| line_of(text, span.start))
                .unwrap_or(1),
            key,
            message: err.message().trim().to_string(),
        };
        let deserializer =
            toml::Deserializer::parse(text).map_err(|err| invalid(&err, "(syntax)".into()))?;
        serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            invalid(err.inner(), key)
        })
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let fail = |message: String| ConfigError::Account {
            path: path.to_path_buf(),
            message,
        };
        for (index, account) in self.accounts.iter().enumerate() {
            if account.name.trim().is_empty() {
                return Err(fail(format!("accounts[{index}].name is empty")));
            }
            if self.accounts[..index]
                .iter()
                .any(|other| other.name == account.name)
            {
                return Err(fail(format!(
                    "two accounts are named `{}`; names must be unique",
                    account.name
                )));
            }
            if !(account.base_url.starts_with("http://")
                || account.base_url.starts_with("https://"))
            {
                return Err(fail(format!(
                    "accounts[{index}].base_url must start with http:// or https://"
                )));
            }
            if account.poll_interval_secs == 0 {
                return Err(fail(format!(
                    "accounts[{index}].poll_interval_secs must be at least 1"
                )));
            }
            if account.request_timeout_secs == 0 {
                return Err(fail(format!(
                    "accounts[{index}].request_timeout_secs must be at least 1"
                )));
            }
            if account.requests_per_minute == 0 {
                return Err(fail(format!(
                    "accounts[{index}].requests_per_minute must be at least 1"
                )));
            }
            if let Some(country) = &account.country
                && let Err(reason) = crate::contact_fields::check_country(country)
            {
                return Err(fail(format!("accounts[{index}].country: {reason}")));
            }
        }
        if let Some(name) = &self.default_account
            && !self.accounts.iter().any(|a| &a.name == name)
        {
            return Err(fail(format!(
                "default_account `{name}` matches no [[accounts]] entry"
            )));
        }
        Ok(())
    }

    /// The account to use: `--account`, else `default_account`, else the first.
    pub fn select_account(&self, name: Option<&str>) -> Result<&AccountConfig, String> {
        let wanted = name.or(self.default_account.as_deref());
        match wanted {
            Some(wanted) => self
                .accounts
                .iter()
                .find(|a| a.name == wanted)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.accounts.iter().map(|a| a.name.as_str()).collect();
                    format!(
                        "no account named `{wanted}` (configured: {})",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    )
                }),
            None => self
                .accounts
                .first()
                .ok_or_else(|| "the config file has no [[accounts]] entry".to_string()),
        }
    }
}

impl AccountConfig {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_interval_secs)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// Reads the secret from `client_secret_env` or runs `client_secret_cmd`.
    /// Errors name where it was looked for, never the secret.
    pub fn resolve_secret(&self) -> Result<SecretString, String> {
        if let Some(var) = &self.client_secret_env {
            return match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value.trim())),
                _ => Err(format!(
                    "account `{}`: environment variable {var} (client_secret_env) is not set",
                    self.name
                )),
            };
        }
        if let Some(cmd) = &self.client_secret_cmd {
            let output = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|err| {
                    format!(
                        "account `{}`: cannot run client_secret_cmd: {err}",
                        self.name
                    )
                })?;
            if !output.status.success() {
                return Err(format!(
                    "account `{}`: client_secret_cmd exited with {}",
                    self.name, output.status
                ));
            }
            let secret = String::from_utf8_lossy(&output.stdout).trim().to_string();
            if secret.is_empty() {
                return Err(format!(
                    "account `{}`: client_secret_cmd printed nothing",
                    self.name
                ));
            }
            return Ok(SecretString::from(secret));
        }
        Err(format!(
            "account `{}` has no secret: set client_secret_env or client_secret_cmd",
            self.name
        ))
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let path = Path::new("/tmp/termdesk-test.toml");
        let config = Config::parse(text, path)?;
        config.validate(path)?;
        Ok(config)
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../config.example.toml");
        let config = parse(text).expect("config.example.toml must stay valid");
        assert_eq!(config.accounts.len(), 1);
        assert_eq!(config.accounts[0].provider, ProviderKind::Qpien);
        assert_eq!(config.accounts[0].requests_per_minute, 100);
        assert_eq!(config.triage, TriageConfig::default());
        assert_eq!(config.ui, UiConfig::default());
    }

    #[test]
    fn triage_and_ui_settings_default_and_unknown_keys_are_named() {
        let base = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\n";
        let config = parse(base).unwrap();
        assert_eq!(config.triage.undo_grace_secs, 5);
        assert_eq!(config.triage.sla_minutes, 15);
        assert!(config.ui.mouse && config.ui.bell && !config.ui.desktop_notifications);
        assert_eq!(config.accounts[0].agent, None);
        let config = parse(&format!(
            "{base}agent = \"me@x.test\"\n[triage]\nundo_grace_secs = 0\n[ui]\nmouse = false\n"
        ))
        .unwrap();
        assert_eq!(config.accounts[0].agent.as_deref(), Some("me@x.test"));
        assert_eq!(config.triage.undo_grace_secs, 0);
        assert!(!config.ui.mouse);
        let err = parse(&format!("{base}[triage]\nundo_grace = 3\n")).unwrap_err();
        assert!(err.to_string().contains("undo_grace"), "{err}");
    }

    #[test]
    fn requests_per_minute_defaults_and_must_be_positive() {
        let base = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\n";
        let config = parse(base).unwrap();
        assert_eq!(
            config.accounts[0].requests_per_minute,
            DEFAULT_REQUESTS_PER_MINUTE
        );
        let config = parse(&format!("{base}requests_per_minute = 40\n")).unwrap();
        assert_eq!(config.accounts[0].requests_per_minute, 40);
        let err = parse(&format!("{base}requests_per_minute = 0\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("accounts[0].requests_per_minute"), "{err}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let text = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\npoll_interval_secs = \"soon\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("accounts[0].poll_interval_secs"), "{err}");
        assert!(err.contains("termdesk-test.toml"), "{err}");
    }

    #[test]
    fn unknown_key_is_rejected_with_its_name() {
        let text = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\nclient_secret = \"oops\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("client_secret"), "{err}");
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn syntax_error_names_line() {
        let err = parse("default_account = \n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn unknown_provider_is_rejected() {
        let text = "[[accounts]]\nname = \"w\"\nprovider = \"slack\"\nbase_url = \"http://x\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("accounts[0].provider"), "{err}");
    }

    #[test]
    fn bad_url_and_duplicates_are_rejected() {
        let text = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"ftp://x\"\n";
        assert!(parse(text).unwrap_err().to_string().contains("base_url"));
        let text = "[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\n[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://y\"\n";
        assert!(parse(text).unwrap_err().to_string().contains("unique"));
    }

    #[test]
    fn selects_accounts_by_name_default_or_first() {
        let text = "default_account = \"b\"\n[[accounts]]\nname = \"a\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\n[[accounts]]\nname = \"b\"\nprovider = \"qpien\"\nbase_url = \"http://y\"\n";
        let config = parse(text).unwrap();
        assert_eq!(config.select_account(None).unwrap().name, "b");
        assert_eq!(config.select_account(Some("a")).unwrap().name, "a");
        assert!(
            config
                .select_account(Some("c"))
                .unwrap_err()
                .contains("a, b")
        );
    }

    #[test]
    fn secret_from_command_and_missing_secret() {
        let mut account = parse("[[accounts]]\nname = \"w\"\nprovider = \"qpien\"\nbase_url = \"http://x\"\nclient_secret_cmd = \"echo s3cret\"\n")
            .unwrap()
            .accounts
            .remove(0);
        assert_eq!(account.resolve_secret().unwrap().expose_secret(), "s3cret");
        account.client_secret_cmd = Some("exit 3".into());
        let err = account.resolve_secret().unwrap_err();
        assert!(err.contains("exited"), "{err}");
        account.client_secret_cmd = None;
        account.client_secret_env = Some("TERMDESK_TEST_SURELY_UNSET_VAR".into());
        assert!(
            account
                .resolve_secret()
                .unwrap_err()
                .contains("TERMDESK_TEST_SURELY_UNSET_VAR")
        );
    }
}
