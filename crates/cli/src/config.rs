//! The configuration file (TOML): database, limits, mailboxes. Environment variables override
//! it, and command-line flags override both.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rua_imap::Account;
use rua_unpack::Limits;
use serde::Deserialize;

/// rua's configuration file. Every part is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub database: Database,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default, rename = "mailbox")]
    pub mailboxes: Vec<Account>,
    /// Who sent it: DNS, IP databases, sender rules (`rua enrich`).
    #[serde(default)]
    pub enrich: rua_enrich::Config,
    /// When `rua policy` calls a domain ready.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// What `rua alerts` calls a change.
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// The Parquet lake this database publishes to (`rua export --incremental`, and `rua
    /// ingest` and `rua fetch` after each commit when `path` is set).
    #[serde(default)]
    pub lake: LakeConfig,
}

/// `[lake]`: where and as whom to publish, and when to compact.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LakeConfig {
    /// The lake's root directory; when set, ingest and fetch publish after each commit.
    pub path: Option<PathBuf>,
    /// This database's name in the lake (default: the host name). Unique per database.
    pub node: Option<String>,
    /// Merge a month's small files once they are this much older than the lake's newest
    /// file (`14d`; `off` never merges). Keep it above a Spark stream's maxFileAge (7 days
    /// by default).
    pub compact_after: String,
    /// Merge at least this many small files at once.
    pub compact_min_files: usize,
    /// Files of this size or more are left alone, and merged files stay under it.
    pub target_file_mb: u64,
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            path: None,
            node: None,
            compact_after: "14d".to_owned(),
            compact_min_files: 8,
            target_file_mb: 512,
        }
    }
}

/// `[policy]`: the readiness verdict's thresholds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Days judged without `--since`, up to the newest report.
    pub window_days: u32,
    /// Fewer days with reports than this is not enough data.
    pub min_days: u32,
    /// Fewer reporting organisations than this is not enough data.
    pub min_reporters: u32,
    /// Misconfigured (legitimate but failing) mail above this share of all mail, in
    /// percent, must be fixed before enforcing.
    pub max_misconfigured_pct: f64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            window_days: 30,
            min_days: 14,
            min_reporters: 2,
            max_misconfigured_pct: 0.0,
        }
    }
}

/// `[alerts]`: the thresholds of `rua alerts`. Days are UTC days of report periods, counted
/// back from the newest report rua holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Events on the last this many days are reported (older ones never are).
    pub window_days: u32,
    /// The trailing baseline an event is compared with, in days before it.
    pub baseline_days: u32,
    /// A day's DMARC pass rate this many percentage points under the baseline's is a drop.
    pub pass_rate_drop_points: f64,
    /// Days (and baselines) with fewer messages than this are not judged for a drop.
    pub pass_rate_min_messages: u64,
    /// A day's unauthorized messages above this many times the baseline's daily mean is a
    /// spike,
    pub spike_factor: f64,
    /// and at least this many.
    pub spike_min_messages: u64,
    /// A reporter silent for more than this many days after the newest report,
    pub silent_after_days: u32,
    /// having reported on at least this many of the baseline days before its last report.
    pub silent_min_days: u32,
    /// A new source is named once it has sent at least this many messages that are not
    /// unauthorized (spoofing is the spike alert's business).
    pub new_source_min_messages: u64,
}

impl AlertsConfig {
    /// The parameters of `alert_candidates` (sql/views.sql), in its order.
    pub fn params(&self) -> Vec<rua_store::Param> {
        use rua_store::Param;
        let count = |n: u64| Param::Int(i64::try_from(n).unwrap_or(i64::MAX));
        vec![
            Param::Int(self.window_days.into()),
            Param::Int(self.baseline_days.into()),
            Param::Float(self.pass_rate_drop_points),
            count(self.pass_rate_min_messages),
            Param::Float(self.spike_factor),
            count(self.spike_min_messages),
            Param::Int(self.silent_after_days.into()),
            Param::Int(self.silent_min_days.into()),
            count(self.new_source_min_messages),
        ]
    }
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            window_days: 7,
            baseline_days: 14,
            pass_rate_drop_points: 10.0,
            pass_rate_min_messages: 50,
            spike_factor: 3.0,
            spike_min_messages: 50,
            silent_after_days: 2,
            silent_min_days: 7,
            new_source_min_messages: 1,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub path: Option<PathBuf>,
    pub lock_timeout_secs: Option<u64>,
    /// Keep each accepted report's XML for `rua reparse` (default true).
    pub keep_raw: Option<bool>,
    /// Keep failure reports' original message bodies (personal data; off by default).
    pub keep_failure_bodies: Option<bool>,
    /// DuckDB's memory limit for the commands that write (default 128MB).
    pub memory_limit: Option<String>,
    /// Records an ingest commits at a time (default 491,520): a killed run loses at most
    /// this much work, which the next run does again.
    pub commit_records: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_message_bytes: Option<u64>,
    pub max_decompressed_bytes: Option<u64>,
    pub max_zip_members: Option<usize>,
    pub max_other_report_bytes: Option<u64>,
    pub max_text_bytes: Option<usize>,
}

impl LimitsConfig {
    pub fn limits(&self) -> Limits {
        let default = Limits::default();
        Limits {
            max_message_bytes: self.max_message_bytes.unwrap_or(default.max_message_bytes),
            max_decompressed_bytes: self
                .max_decompressed_bytes
                .unwrap_or(default.max_decompressed_bytes),
            max_zip_members: self.max_zip_members.unwrap_or(default.max_zip_members),
            max_depth: default.max_depth,
            max_other_report_bytes: self
                .max_other_report_bytes
                .unwrap_or(default.max_other_report_bytes),
        }
    }

    /// What the aggregate parser may hold of one report.
    pub fn parse_options(&self) -> rua_report::aggregate::Options {
        let default = rua_report::aggregate::Options::default();
        rua_report::aggregate::Options {
            max_text_bytes: self.max_text_bytes.unwrap_or(default.max_text_bytes),
        }
    }
}

/// `$XDG_CONFIG_HOME/rua/config.toml` (or `~/.config/rua/config.toml`), then
/// `/etc/rua/config.toml`: the first that exists.
fn default_paths() -> Vec<PathBuf> {
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    user.map(|dir| dir.join("rua/config.toml"))
        .into_iter()
        .chain([PathBuf::from("/etc/rua/config.toml")])
        .collect()
}

/// Loads the configuration: `explicit` (from `--config` or `RUA_CONFIG`) must exist; without
/// it the default locations are tried, and none is fine (an empty configuration).
pub fn load(explicit: Option<&Path>) -> anyhow::Result<(Config, Option<PathBuf>)> {
    let path = match explicit {
        Some(path) => Some(path.to_owned()),
        None => default_paths().into_iter().find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok((Config::default(), None));
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the configuration {}", path.display()))?;
    let mut config: Config = toml::from_str(&text)
        .with_context(|| format!("invalid configuration {}", path.display()))?;
    apply_env(&mut config, |name| std::env::var(name).ok())
        .with_context(|| format!("configuration {}", path.display()))?;
    for account in &config.mailboxes {
        account
            .check()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("invalid configuration {}", path.display()))?;
    }
    let mut names: Vec<&str> = config.mailboxes.iter().map(|a| a.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        anyhow::bail!(
            "invalid configuration {}: two mailboxes are named {:?}",
            path.display(),
            pair[0]
        );
    }
    Ok((config, Some(path)))
}

/// `RUA_MAILBOX_<NAME>_<FIELD>` overrides a mailbox's host, port, user or folder; NAME is the
/// mailbox name in upper case with every other character than letters and digits as `_`.
fn apply_env(config: &mut Config, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
    for account in &mut config.mailboxes {
        let prefix: String = account
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let get = |field: &str| var(&format!("RUA_MAILBOX_{prefix}_{field}"));
        if let Some(host) = get("HOST") {
            account.host = host;
        }
        if let Some(port) = get("PORT") {
            account.port =
                Some(port.parse().with_context(|| {
                    format!("RUA_MAILBOX_{prefix}_PORT={port:?} is not a port")
                })?);
        }
        if let Some(user) = get("USER") {
            account.user = user;
        }
        if let Some(folder) = get("FOLDER") {
            account.folder = folder;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[database]
path = "/var/lib/rua/rua.duckdb"

[limits]
max_message_bytes = 50_000_000

[[mailbox]]
name = "corp-dmarc"
host = "imap.example.com"
user = "dmarc@example.com"
secret = { file = "/etc/rua/imap-password" }
folder = "INBOX"
after = { report = { move = "Archive.DMARC" }, rejected = { flag = "\\Flagged" }, no_report = "leave" }

[[mailbox]]
name = "m365"
host = "outlook.office365.com"
user = "dmarc@example.org"
auth = "xoauth2"
secret = { command = "rua-token" }
read_only = true
"#;

    #[test]
    fn the_readme_example_parses_and_env_overrides_it() -> anyhow::Result<()> {
        let mut config: Config = toml::from_str(EXAMPLE)?;
        assert_eq!(config.mailboxes.len(), 2);
        let corp = &config.mailboxes[0];
        assert_eq!(corp.port(), 993);
        assert_eq!(
            corp.after.report,
            rua_imap::Action::Move("Archive.DMARC".into())
        );
        assert_eq!(
            corp.after.rejected,
            rua_imap::Action::Flag("\\Flagged".into())
        );
        assert!(config.mailboxes[1].check().is_ok());
        assert_eq!(config.limits.limits().max_message_bytes, 50_000_000);
        apply_env(&mut config, |name| match name {
            "RUA_MAILBOX_CORP_DMARC_HOST" => Some("127.0.0.1".into()),
            "RUA_MAILBOX_CORP_DMARC_PORT" => Some("10993".into()),
            _ => None,
        })?;
        assert_eq!(config.mailboxes[0].host, "127.0.0.1");
        assert_eq!(config.mailboxes[0].port(), 10993);
        Ok(())
    }

    #[test]
    fn mistakes_are_refused() {
        let typo = "[[mailbox]]\nname='a'\nhost='h'\nuser='u'\nsecret={file='f'}\nfolderr='x'\n";
        assert!(toml::from_str::<Config>(typo).is_err());
        let inline = "[[mailbox]]\nname='a'\nhost='h'\nuser='u'\nsecret='hunter2'\n";
        assert!(
            toml::from_str::<Config>(inline).is_err(),
            "secrets only by reference"
        );
        let read_only = "[[mailbox]]\nname='a'\nhost='h'\nuser='u'\nsecret={env='P'}\nread_only=true\nafter={report='delete'}\n";
        let config: Result<Config, _> = toml::from_str(read_only);
        assert!(config.is_ok_and(|c| c.mailboxes[0].check().is_err()));
    }
}
