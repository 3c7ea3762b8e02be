//! One `[[accounts]]` entry: the keys every provider shares, and each
//! provider's own — its endpoint, who signs in, and where its secrets come
//! from. The file is read flat (so a wrong type is reported at its line) and
//! then checked against the provider's own keys.

use std::time::Duration;

use serde::Deserialize;

pub use super::secret::{InlineSecret, SecretSource};

use super::{
    DEFAULT_POLL_INTERVAL_SECS, DEFAULT_REQUEST_TIMEOUT_SECS, DEFAULT_REQUESTS_PER_MINUTE,
};

pub const QPIEN_BASE_URL: &str = "https://api.qpien.com/api/v1";
pub const SUPERWABA_BASE_URL: &str = "https://app.superwaba.com/api";
pub const SUPERWABA_DEVELOPER_BASE_URL: &str = "https://app.superwaba.com/api/developer";
pub const DMCHAMP_BASE_URL: &str = "https://api.dmchamp.com/v1";

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Qpien,
    Superwaba,
    Dmchamp,
}

impl ProviderKind {
    /// The platform's name as people write it.
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Qpien => "Qpien",
            ProviderKind::Superwaba => "SuperWaba",
            ProviderKind::Dmchamp => "DM Champ",
        }
    }

    fn key(self) -> &'static str {
        match self {
            ProviderKind::Qpien => "qpien",
            ProviderKind::Superwaba => "superwaba",
            ProviderKind::Dmchamp => "dmchamp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QpienSettings {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: SecretSource,
}

/// How a SuperWaba agent signs in to the session API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuperWabaLogin {
    Password {
        email: String,
        password: SecretSource,
    },
    /// A refresh token from an earlier sign-in (e.g. one made with Google).
    RefreshToken(SecretSource),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuperWabaSettings {
    pub base_url: String,
    pub developer_base_url: String,
    pub org_id: String,
    pub supabase_url: String,
    pub supabase_anon_key: SecretSource,
    pub login: SuperWabaLogin,
    /// The Developer API key (templates); without it templates are not
    /// offered.
    pub api_key: Option<SecretSource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmChampSettings {
    pub base_url: String,
    pub api_key: SecretSource,
}

// Read once per start and never moved in a hot path: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderSettings {
    Qpien(QpienSettings),
    SuperWaba(SuperWabaSettings),
    DmChamp(DmChampSettings),
}

impl ProviderSettings {
    pub fn kind(&self) -> ProviderKind {
        match self {
            ProviderSettings::Qpien(_) => ProviderKind::Qpien,
            ProviderSettings::SuperWaba(_) => ProviderKind::Superwaba,
            ProviderSettings::DmChamp(_) => ProviderKind::Dmchamp,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountConfig {
    pub name: String,
    pub poll_interval_secs: u64,
    pub request_timeout_secs: u64,
    /// The API key's rate limit; lower it when other tools share the key.
    pub requests_per_minute: u32,
    /// Who "Mine" is: the agent's e-mail or id on the provider. Without it
    /// termdesk asks once (or, where the sign-in says who it is, knows).
    pub agent: Option<String>,
    /// The account's country (ISO 3166-1 alpha-2): phone numbers typed
    /// without `+` are read in it when the contact has no country.
    pub country: Option<String>,
    pub provider: ProviderSettings,
}

impl AccountConfig {
    pub fn kind(&self) -> ProviderKind {
        self.provider.kind()
    }

    /// Every secret the account is configured with.
    pub fn secret_sources(&self) -> impl Iterator<Item = &SecretSource> {
        let sources: Vec<&SecretSource> = match &self.provider {
            ProviderSettings::Qpien(q) => vec![&q.client_secret],
            ProviderSettings::SuperWaba(s) => {
                let login = match &s.login {
                    SuperWabaLogin::Password { password, .. } => password,
                    SuperWabaLogin::RefreshToken(token) => token,
                };
                let mut all = vec![&s.supabase_anon_key, login];
                all.extend(s.api_key.as_ref());
                all
            }
            ProviderSettings::DmChamp(d) => vec![&d.api_key],
        };
        sources.into_iter()
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_interval_secs)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// A Qpien account with every optional key at its default, for tests
    /// and the demo.
    pub fn qpien(name: &str, base_url: &str, client_id: &str, secret: SecretSource) -> Self {
        AccountConfig {
            name: name.to_string(),
            poll_interval_secs: DEFAULT_POLL_INTERVAL_SECS,
            request_timeout_secs: DEFAULT_REQUEST_TIMEOUT_SECS,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            agent: None,
            country: None,
            provider: ProviderSettings::Qpien(QpienSettings {
                base_url: base_url.to_string(),
                client_id: client_id.to_string(),
                client_secret: secret,
            }),
        }
    }
}

/// An `[[accounts]]` table as written: every key any provider knows, so an
/// unknown key or a wrong type is reported with its own line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    name: String,
    provider: ProviderKind,
    base_url: Option<String>,
    poll_interval_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    requests_per_minute: Option<u32>,
    agent: Option<String>,
    country: Option<String>,
    // Qpien
    client_id: Option<String>,
    client_secret: Option<InlineSecret>,
    client_secret_env: Option<String>,
    client_secret_cmd: Option<String>,
    // SuperWaba
    developer_base_url: Option<String>,
    org_id: Option<String>,
    supabase_url: Option<String>,
    supabase_anon_key: Option<InlineSecret>,
    supabase_anon_key_env: Option<String>,
    supabase_anon_key_cmd: Option<String>,
    email: Option<String>,
    password: Option<InlineSecret>,
    password_env: Option<String>,
    password_cmd: Option<String>,
    refresh_token: Option<InlineSecret>,
    refresh_token_env: Option<String>,
    refresh_token_cmd: Option<String>,
    // SuperWaba's Developer API and DM Champ
    api_key: Option<InlineSecret>,
    api_key_env: Option<String>,
    api_key_cmd: Option<String>,
}

/// A problem with one key of an account: the key (without the
/// `accounts[i].` prefix) and what is wrong.
pub(super) type KeyProblem = (String, String);

/// Keys each provider reads besides the shared ones.
fn own_keys(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::Qpien => &[
            "client_id",
            "client_secret",
            "client_secret_env",
            "client_secret_cmd",
        ],
        ProviderKind::Superwaba => &[
            "developer_base_url",
            "org_id",
            "supabase_url",
            "supabase_anon_key",
            "supabase_anon_key_env",
            "supabase_anon_key_cmd",
            "email",
            "password",
            "password_env",
            "password_cmd",
            "refresh_token",
            "refresh_token_env",
            "refresh_token_cmd",
            "api_key",
            "api_key_env",
            "api_key_cmd",
        ],
        ProviderKind::Dmchamp => &["api_key", "api_key_env", "api_key_cmd"],
    }
}

impl RawAccount {
    fn set_keys(&self) -> Vec<&'static str> {
        let keys: [(&'static str, bool); 20] = [
            ("client_id", self.client_id.is_some()),
            ("client_secret", self.client_secret.is_some()),
            ("supabase_anon_key", self.supabase_anon_key.is_some()),
            ("password", self.password.is_some()),
            ("refresh_token", self.refresh_token.is_some()),
            ("api_key", self.api_key.is_some()),
            ("client_secret_env", self.client_secret_env.is_some()),
            ("client_secret_cmd", self.client_secret_cmd.is_some()),
            ("developer_base_url", self.developer_base_url.is_some()),
            ("org_id", self.org_id.is_some()),
            ("supabase_url", self.supabase_url.is_some()),
            (
                "supabase_anon_key_env",
                self.supabase_anon_key_env.is_some(),
            ),
            (
                "supabase_anon_key_cmd",
                self.supabase_anon_key_cmd.is_some(),
            ),
            ("email", self.email.is_some()),
            ("password_env", self.password_env.is_some()),
            ("password_cmd", self.password_cmd.is_some()),
            ("refresh_token_env", self.refresh_token_env.is_some()),
            ("refresh_token_cmd", self.refresh_token_cmd.is_some()),
            ("api_key_env", self.api_key_env.is_some()),
            ("api_key_cmd", self.api_key_cmd.is_some()),
        ];
        keys.iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| *k)
            .collect()
    }

    /// The typed account, or the first key that is wrong.
    pub(super) fn check(self) -> Result<AccountConfig, KeyProblem> {
        let problem = |key: &str, message: String| (key.to_string(), message);
        let kind = self.provider;
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(problem("name", "is empty".into()));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(problem(
                "name",
                format!("`{name}` may use only letters, digits, `-` and `_`"),
            ));
        }
        for key in self.set_keys() {
            if !own_keys(kind).contains(&key) {
                return Err(problem(
                    key,
                    format!("is not a key of provider = \"{}\"", kind.key()),
                ));
            }
        }
        let positive = |key: &str, value: u64| {
            if value == 0 {
                Err(problem(key, "must be at least 1".into()))
            } else {
                Ok(())
            }
        };
        let poll_interval_secs = self
            .poll_interval_secs
            .unwrap_or(DEFAULT_POLL_INTERVAL_SECS);
        positive("poll_interval_secs", poll_interval_secs)?;
        let request_timeout_secs = self
            .request_timeout_secs
            .unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS);
        positive("request_timeout_secs", request_timeout_secs)?;
        let requests_per_minute = self
            .requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE);
        positive("requests_per_minute", u64::from(requests_per_minute))?;
        if let Some(country) = &self.country
            && let Err(reason) = crate::contact_fields::check_country(country)
        {
            return Err(problem("country", reason.to_string()));
        }
        let url = |key: &str, value: Option<String>, default: &str| -> Result<String, KeyProblem> {
            let value = value.unwrap_or_else(|| default.to_string());
            let trimmed = value.trim();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                Ok(trimmed.trim_end_matches('/').to_string())
            } else {
                Err(problem(key, "must start with http:// or https://".into()))
            }
        };
        let required = |key: &str, value: Option<String>| -> Result<String, KeyProblem> {
            match value.map(|v| v.trim().to_string()) {
                Some(v) if !v.is_empty() => Ok(v),
                _ => Err(problem(
                    key,
                    format!("is required for provider = \"{}\"", kind.key()),
                )),
            }
        };
        let secret = |stem: &'static str,
                      value: Option<InlineSecret>,
                      env: Option<String>,
                      cmd: Option<String>|
         -> Result<SecretSource, KeyProblem> {
            let source = SecretSource {
                key: stem,
                value,
                env,
                cmd,
            };
            let set = source.keys_set();
            if set.len() > 1 {
                return Err(problem(
                    &set[1],
                    format!("set only one of {stem}, {stem}_env and {stem}_cmd"),
                ));
            }
            Ok(source)
        };
        let provider = match kind {
            ProviderKind::Qpien => {
                let client_secret = secret(
                    "client_secret",
                    self.client_secret,
                    self.client_secret_env,
                    self.client_secret_cmd,
                )?;
                if !client_secret.is_set() {
                    return Err(problem(
                        "client_secret_env",
                        "is required (or client_secret or client_secret_cmd) for provider = \"qpien\"".into(),
                    ));
                }
                ProviderSettings::Qpien(QpienSettings {
                    base_url: url("base_url", self.base_url, QPIEN_BASE_URL)?,
                    client_id: required("client_id", self.client_id)?,
                    client_secret,
                })
            }
            ProviderKind::Superwaba => {
                let password = secret(
                    "password",
                    self.password,
                    self.password_env,
                    self.password_cmd,
                )?;
                let refresh = secret(
                    "refresh_token",
                    self.refresh_token,
                    self.refresh_token_env,
                    self.refresh_token_cmd,
                )?;
                let login = match (self.email, password.is_set(), refresh.is_set()) {
                    (Some(email), true, _) if !email.trim().is_empty() => {
                        SuperWabaLogin::Password {
                            email: email.trim().to_string(),
                            password,
                        }
                    }
                    (_, false, true) => SuperWabaLogin::RefreshToken(refresh),
                    (None, true, _) => {
                        return Err(problem(
                            "email",
                            "is required with password/password_env/password_cmd".into(),
                        ));
                    }
                    _ => {
                        return Err(problem(
                            "password_env",
                            "is required (with email), or password/password_cmd, or refresh_token/refresh_token_env/refresh_token_cmd, for provider = \"superwaba\"".into(),
                        ));
                    }
                };
                let anon_key = secret(
                    "supabase_anon_key",
                    self.supabase_anon_key,
                    self.supabase_anon_key_env,
                    self.supabase_anon_key_cmd,
                )?;
                if !anon_key.is_set() {
                    return Err(problem(
                        "supabase_anon_key_env",
                        "is required (or supabase_anon_key or supabase_anon_key_cmd) for provider = \"superwaba\""
                            .into(),
                    ));
                }
                let api_key = secret("api_key", self.api_key, self.api_key_env, self.api_key_cmd)?;
                ProviderSettings::SuperWaba(SuperWabaSettings {
                    base_url: url("base_url", self.base_url, SUPERWABA_BASE_URL)?,
                    developer_base_url: url(
                        "developer_base_url",
                        self.developer_base_url,
                        SUPERWABA_DEVELOPER_BASE_URL,
                    )?,
                    org_id: required("org_id", self.org_id)?,
                    supabase_url: url(
                        "supabase_url",
                        Some(required("supabase_url", self.supabase_url)?),
                        "",
                    )?,
                    supabase_anon_key: anon_key,
                    login,
                    api_key: api_key.is_set().then_some(api_key),
                })
            }
            ProviderKind::Dmchamp => {
                let api_key = secret("api_key", self.api_key, self.api_key_env, self.api_key_cmd)?;
                if !api_key.is_set() {
                    return Err(problem(
                        "api_key_env",
                        "is required (or api_key or api_key_cmd) for provider = \"dmchamp\"".into(),
                    ));
                }
                ProviderSettings::DmChamp(DmChampSettings {
                    base_url: url("base_url", self.base_url, DMCHAMP_BASE_URL)?,
                    api_key,
                })
            }
        };
        Ok(AccountConfig {
            name,
            poll_interval_secs,
            request_timeout_secs,
            requests_per_minute,
            agent: self.agent.filter(|a| !a.trim().is_empty()),
            country: self.country,
            provider,
        })
    }
}
