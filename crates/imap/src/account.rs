//! One mailbox as configured: where it is, how to log in, which folder, what to do after.

use std::path::PathBuf;

use serde::Deserialize;

/// A report mailbox (one `[[mailbox]]` table of rua's configuration file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// A short name for logs, state and environment overrides (`RUA_MAILBOX_<NAME>_HOST`).
    pub name: String,
    pub host: String,
    /// Default: 993 for `tls`, 143 for `starttls` and `plain`.
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    pub user: String,
    #[serde(default)]
    pub auth: AuthMethod,
    /// The password, or the OAuth2 access token for `xoauth2`.
    pub secret: Secret,
    /// PEM file of the certificate authorities to trust instead of the system's.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Open the folder with EXAMINE and never change it (every action must be `leave`).
    #[serde(default)]
    pub read_only: bool,
    /// Messages per UID FETCH batch; each batch is committed before its actions run.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Seconds to wait for any server response before giving up on the connection.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Seconds in IDLE before it is renewed (servers drop idle clients after 30 minutes).
    #[serde(default = "default_idle_secs")]
    pub idle_secs: u64,
    /// Seconds between polls in watch mode when the server has no IDLE.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    #[serde(default)]
    pub after: AfterActions,
}

fn default_folder() -> String {
    "INBOX".to_owned()
}
fn default_batch_size() -> usize {
    200
}
fn default_timeout_secs() -> u64 {
    120
}
fn default_idle_secs() -> u64 {
    25 * 60
}
fn default_poll_secs() -> u64 {
    60
}

impl Account {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            Security::Tls => 993,
            Security::Starttls | Security::Plain => 143,
        })
    }

    /// Identifies the mailbox in the state table and in provenance: `user@host:port/folder`.
    pub fn location(&self) -> String {
        format!(
            "imap://{}@{}:{}/{}",
            self.user,
            self.host,
            self.port(),
            self.folder
        )
    }

    /// Settings that cannot work together, as a message.
    pub fn check(&self) -> Result<(), String> {
        if self.read_only {
            for (which, action) in [
                ("report", &self.after.report),
                ("rejected", &self.after.rejected),
                ("no_report", &self.after.no_report),
            ] {
                if *action != Action::Leave {
                    return Err(format!(
                        "mailbox {:?} is read_only, so after.{which} must be \"leave\"",
                        self.name
                    ));
                }
            }
        }
        if self.batch_size == 0 {
            return Err(format!(
                "mailbox {:?}: batch_size must be at least 1",
                self.name
            ));
        }
        Ok(())
    }
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (port 993).
    #[default]
    Tls,
    /// Plain connection upgraded with STARTTLS before logging in (port 143).
    Starttls,
    /// No encryption: refused unless the host is a loopback address.
    Plain,
}

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The LOGIN command.
    #[default]
    Login,
    /// AUTHENTICATE PLAIN (RFC 4616).
    Plain,
    /// AUTHENTICATE XOAUTH2 with an OAuth2 access token (Gmail, Microsoft 365).
    Xoauth2,
}

/// Where a password or token comes from; never from the command line.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Secret {
    /// A file holding it (a trailing newline is ignored).
    File(PathBuf),
    /// An environment variable holding it.
    Env(String),
    /// A shell command printing it (e.g. `pass show dmarc`, or a token refresher).
    Command(String),
}

impl std::fmt::Debug for Secret {
    // Only where the secret comes from; never its value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::File(path) => write!(f, "file {}", path.display()),
            Secret::Env(name) => write!(f, "environment variable {name}"),
            Secret::Command(command) => write!(f, "command `{command}`"),
        }
    }
}

/// What to do with a message once its reports are committed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Action {
    /// Leave it as it is (the only choice for read-only mailboxes).
    Leave,
    /// Move it to this folder (created if missing).
    Move(String),
    /// Add this flag (`\Seen`, `\Flagged`) or keyword (`rua-done`).
    Flag(String),
    /// Delete it (flag `\Deleted` and expunge).
    Delete,
}

/// The action for each kind of message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfterActions {
    /// Every report in it was stored (or was already stored).
    #[serde(default = "leave")]
    pub report: Action,
    /// Something in it looked like a report but could not be read (kept in `rejects`).
    #[serde(default = "leave")]
    pub rejected: Action,
    /// It holds no report at all (a bounce, a newsletter).
    #[serde(default = "leave")]
    pub no_report: Action,
}

fn leave() -> Action {
    Action::Leave
}

impl Default for AfterActions {
    fn default() -> Self {
        Self {
            report: Action::Leave,
            rejected: Action::Leave,
            no_report: Action::Leave,
        }
    }
}
