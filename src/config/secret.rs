//! Where an account's secrets come from: written in the config file (which
//! should then be readable by its owner alone), an environment variable, or
//! a command's output (a password manager). Whatever the source, the value
//! only ever lives in a `SecretString`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

/// A secret written in the config file. Its `Debug` shows no value, so a
/// parsed config can be logged or printed in a panic without leaking it.
#[derive(Clone)]
pub struct InlineSecret(SecretString);

impl InlineSecret {
    pub fn new(value: &str) -> Self {
        InlineSecret(SecretString::from(value))
    }
}

impl std::fmt::Debug for InlineSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InlineSecret([REDACTED])")
    }
}

impl PartialEq for InlineSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Eq for InlineSecret {}

impl<'de> Deserialize<'de> for InlineSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(serde::de::Error::custom("is empty"));
        }
        Ok(InlineSecret::new(trimmed))
    }
}

/// One secret's source, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretSource {
    /// The config key stem, e.g. `client_secret`, for messages.
    pub key: &'static str,
    /// Written in the file itself.
    pub value: Option<InlineSecret>,
    pub env: Option<String>,
    pub cmd: Option<String>,
}

/// How long a `*_cmd` may take: a password manager waiting for a prompt
/// nobody sees must not hang the start.
const SECRET_CMD_TIMEOUT: Duration = Duration::from_secs(30);

impl SecretSource {
    pub(super) fn is_set(&self) -> bool {
        self.value.is_some() || self.env.is_some() || self.cmd.is_some()
    }

    /// The keys set among `KEY`, `KEY_env` and `KEY_cmd`.
    pub(super) fn keys_set(&self) -> Vec<String> {
        let key = self.key;
        [
            (self.value.is_some(), key.to_string()),
            (self.env.is_some(), format!("{key}_env")),
            (self.cmd.is_some(), format!("{key}_cmd")),
        ]
        .into_iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| name)
        .collect()
    }

    /// Reads the secret. Errors name where it was looked for, never the
    /// secret.
    pub fn resolve(&self, account: &str) -> Result<SecretString, String> {
        let key = self.key;
        if let Some(value) = &self.value {
            return Ok(value.0.clone());
        }
        if let Some(var) = &self.env {
            return match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value.trim())),
                _ => Err(format!(
                    "account `{account}`: environment variable {var} ({key}_env) is not set"
                )),
            };
        }
        if let Some(cmd) = &self.cmd {
            return run_secret_command(cmd)
                .map(SecretString::from)
                .map_err(|why| format!("account `{account}`: {key}_cmd {why}"));
        }
        Err(format!(
            "account `{account}` has no {key}: set {key}, {key}_env or {key}_cmd"
        ))
    }
}

fn run_secret_command(cmd: &str) -> Result<String, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| format!("cannot be run: {err}"))?;
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        if let Some(mut stdout) = stdout {
            use std::io::Read;
            let _ = stdout.read_to_string(&mut out);
        }
        out
    });
    let deadline = std::time::Instant::now() + SECRET_CMD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "gave no answer within {}s",
                    SECRET_CMD_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(err) => return Err(format!("failed: {err}")),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    let secret = out.trim().to_string();
    if secret.is_empty() {
        return Err("printed nothing".into());
    }
    Ok(secret)
}

/// The warning for a config file that holds a secret and that someone other
/// than its owner may read; `None` when it is private (or not on Unix).
pub fn shared_file_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        (mode & 0o077 != 0).then(|| {
            format!(
                "the config file {} holds a secret and can be read by other users (mode {:o}); run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
