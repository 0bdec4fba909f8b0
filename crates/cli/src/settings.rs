//! What the command line, the environment and the configuration file decide together
//! (flags > environment > file > defaults), and opening the database with it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use rua_store::{OpenOptions, Store};

use crate::config;
use crate::pipeline::Bounds;

/// The options every command takes.
#[derive(Debug, clap::Args)]
pub struct Globals {
    /// The database file [default: the configuration's, else
    /// ~/.local/share/rua/rua.duckdb].
    #[arg(long, env = "RUA_DB", global = true)]
    pub db: Option<PathBuf>,

    /// The configuration file [default: ~/.config/rua/config.toml, then
    /// /etc/rua/config.toml, if present].
    #[arg(long, env = "RUA_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Seconds to wait for another rua process holding the database [default: 60].
    #[arg(long, env = "RUA_LOCK_TIMEOUT", global = true)]
    pub lock_timeout: Option<u64>,

    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// More detail (repeat for debug output).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `$XDG_DATA_HOME/rua/rua.duckdb`, else `~/.local/share/rua/rua.duckdb`, else `./rua.duckdb`.
fn default_db() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.map_or_else(|| PathBuf::from("rua.duckdb"), |b| b.join("rua/rua.duckdb"))
}

/// DuckDB's memory limit for commands that write, unless the configuration says otherwise.
const DEFAULT_MEMORY_LIMIT: &str = "128MB";

/// What the command line, the environment and the configuration file decided together.
#[derive(Debug)]
pub struct Settings {
    pub db: PathBuf,
    pub lock_timeout: Duration,
    pub keep_raw: bool,
    pub limits: Bounds,
    pub config: config::Config,
    pub config_path: Option<PathBuf>,
}

impl Settings {
    pub fn resolve(globals: &Globals) -> anyhow::Result<Settings> {
        let (config, config_path) = config::load(globals.config.as_deref())?;
        let db = globals
            .db
            .clone()
            .or_else(|| config.database.path.clone())
            .unwrap_or_else(default_db);
        let lock_timeout = globals
            .lock_timeout
            .or(config.database.lock_timeout_secs)
            .unwrap_or(60);
        Ok(Settings {
            db,
            lock_timeout: Duration::from_secs(lock_timeout),
            keep_raw: config.database.keep_raw.unwrap_or(true),
            limits: Bounds {
                unpack: config.limits.limits(),
                parse: config.limits.parse_options(),
            },
            config,
            config_path,
        })
    }

    pub fn options(&self, is_read_only: bool, keep_raw: bool) -> OpenOptions {
        // Ingest keeps its memory flat: what DuckDB holds beyond this is spilled or
        // checkpointed (queries that only read get DuckDB's default).
        let memory_limit = self.config.database.memory_limit.as_deref();
        OpenOptions {
            lock_timeout: self.lock_timeout,
            is_read_only,
            keep_raw,
            keep_failure_bodies: self.config.database.keep_failure_bodies.unwrap_or(false),
            memory_limit: Some(memory_limit.unwrap_or(DEFAULT_MEMORY_LIMIT).to_owned()),
            ..OpenOptions::default()
        }
    }

    /// For commands that store reports (ingest, fetch, reparse): one DuckDB thread.
    pub fn ingest_options(&self, keep_raw: bool) -> OpenOptions {
        let options = self.options(false, keep_raw);
        OpenOptions {
            threads: Some(1),
            commit_records: self
                .config
                .database
                .commit_records
                .unwrap_or(options.commit_records),
            ..options
        }
    }

    pub fn open(&self, is_read_only: bool, keep_raw: bool) -> anyhow::Result<Store> {
        open_store(&self.db, &self.options(is_read_only, keep_raw))
    }
}

/// Opens the database, creating its directory for writers; readers need it to exist.
pub fn open_store(db: &Path, options: &OpenOptions) -> anyhow::Result<Store> {
    if !options.is_read_only {
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    } else if !db.exists() {
        anyhow::bail!(
            "no database at {} (run `rua ingest` first, or pass --db)",
            db.display()
        );
    }
    let store = Store::open(db, options)?;
    if !store.is_current() {
        tracing::warn!(
            "{} was written by an older rua: until a command that writes to it (`rua enrich \
             --offline`, or the next ingest or fetch) brings it up to date, what this rua \
             added to its tables and views is missing",
            db.display()
        );
    }
    Ok(store)
}

/// The configured mailboxes, or the one named.
pub fn mailboxes(
    settings: &Settings,
    only: Option<&str>,
) -> anyhow::Result<Vec<rua_imap::Account>> {
    let all = &settings.config.mailboxes;
    if all.is_empty() {
        match &settings.config_path {
            Some(path) => anyhow::bail!("no [[mailbox]] in {}", path.display()),
            None => anyhow::bail!(
                "no configuration file (pass --config, set RUA_CONFIG, or write ~/.config/rua/config.toml)"
            ),
        }
    }
    let chosen: Vec<_> = all
        .iter()
        .filter(|a| only.is_none_or(|name| a.name == name))
        .cloned()
        .collect();
    if chosen.is_empty() {
        anyhow::bail!(
            "no mailbox named {:?} in the configuration",
            only.unwrap_or_default()
        );
    }
    Ok(chosen)
}
