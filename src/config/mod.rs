//! The config file: accounts, polling, composer behaviour. Secrets are best
//! kept out of it (an environment variable or a password manager's command);
//! a file that holds one should be readable by its owner alone.

mod account;
mod secret;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use account::{
    AccountConfig, DmChampSettings, InlineSecret, ProviderKind, ProviderSettings, QpienSettings,
    SecretSource, SuperWabaLogin, SuperWabaSettings,
};
pub use secret::shared_file_warning;

pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 5;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 15;
/// Qpien's documented limit per API key.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 100;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Account used when `--account` is not given; the first one otherwise.
    pub default_account: Option<String>,
    pub accounts: Vec<AccountConfig>,
    pub composer: ComposerConfig,
    pub triage: TriageConfig,
    pub ui: UiConfig,
    /// Key overrides per mode: `[keys.list]`, `[keys.thread]`,
    /// `[keys.composer]`, `[keys.global]`; each entry is `"key" = "action"`.
    pub keys: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

/// The file as written; accounts are checked against their provider after.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_account: Option<String>,
    #[serde(default)]
    accounts: Vec<account::RawAccount>,
    #[serde(default)]
    composer: ComposerConfig,
    #[serde(default)]
    triage: TriageConfig,
    #[serde(default)]
    ui: UiConfig,
    #[serde(default)]
    keys: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
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
}

impl Config {
    /// Where the config lives when `--config` is not given.
    pub fn default_path() -> Option<PathBuf> {
        crate::paths::project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
    }

    /// Whether any account has a secret written in the file itself.
    pub fn holds_secret(&self) -> bool {
        self.accounts
            .iter()
            .any(|a| a.secret_sources().any(|s| s.value.is_some()))
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Reads and checks the whole file; every error names the file, the
    /// line and the key.
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
        let raw: RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            invalid(err.inner(), key)
        })?;
        let mut accounts: Vec<AccountConfig> = Vec::with_capacity(raw.accounts.len());
        let tables = account_tables(text);
        for (index, raw_account) in raw.accounts.into_iter().enumerate() {
            // (first line, its text) of this account's table
            let (first, table) = tables.get(index).cloned().unwrap_or((1, ""));
            let account = raw_account
                .check()
                .map_err(|(key, message)| ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line: first + key_line(table, &key).unwrap_or(0),
                    key: format!("accounts[{index}].{key}"),
                    message,
                })?;
            if accounts.iter().any(|other| other.name == account.name) {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line: first + key_line(table, "name").unwrap_or(0),
                    key: format!("accounts[{index}].name"),
                    message: format!(
                        "two accounts are named `{}`; names must be unique",
                        account.name
                    ),
                });
            }
            accounts.push(account);
        }
        if let Some(name) = &raw.default_account
            && !accounts.iter().any(|a| &a.name == name)
        {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                line: text
                    .lines()
                    .position(|l| l.trim_start().starts_with("default_account"))
                    .map_or(1, |i| i + 1),
                key: "default_account".into(),
                message: format!("`{name}` matches no [[accounts]] entry"),
            });
        }
        Ok(Config {
            default_account: raw.default_account,
            accounts,
            composer: raw.composer,
            triage: raw.triage,
            ui: raw.ui,
            keys: raw.keys,
        })
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

/// Each `[[accounts]]` table of the file: its first line (1-based) and its
/// text up to the next table header.
fn account_tables(text: &str) -> Vec<(usize, &str)> {
    let mut starts = Vec::new();
    let mut headers = Vec::new();
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            headers.push(offset);
            let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.starts_with("[[accounts]]") {
                starts.push((number + 1, offset));
            }
        }
        offset += line.len();
    }
    starts
        .into_iter()
        .map(|(number, start)| {
            let end = headers
                .iter()
                .copied()
                .find(|&h| h > start)
                .unwrap_or(text.len());
            (number, &text[start..end])
        })
        .collect()
}

/// Lines from the start of an account's table to `key = …` in it, when
/// the key is written there.
fn key_line(table: &str, key: &str) -> Option<usize> {
    table.lines().position(|line| {
        line.trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests;
