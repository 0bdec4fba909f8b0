//! `rua`: DMARC aggregate reports into DuckDB, and answers out of it.
//!
//! The binary wires the library crates together: sources → unpack → parse → store → query.
//! It owns the command line, logging, progress and exit codes; the libraries own the work.

mod config;
mod fetch;
mod ingest;
mod output;
mod period;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use rua_store::{ExportFormat, ExportSpec, OpenOptions, Param, Store, StoreError};

use crate::output::Format;

/// Exit codes, for cron and systemd.
pub mod exit {
    /// Everything was read and stored (duplicates included).
    pub const OK: u8 = 0;
    /// The run finished, but some inputs were rejected (see `rua rejects`).
    pub const REJECTS: u8 = 1;
    /// Nothing could be done: bad usage, unreadable configuration, database error.
    pub const FATAL: u8 = 2;
    /// The database cannot be opened: locked by another rua process for longer than
    /// `--lock-timeout`, written by a newer rua, or not a database.
    pub const DATABASE: u8 = 3;
    /// `rua fetch`: no mailbox could be reached or logged in to.
    pub const CANNOT_CONNECT: u8 = 4;
    /// `rua fetch`: every mailbox was read and held no new message.
    pub const NOTHING_TO_DO: u8 = 5;
}

const EXIT_CODES: &str = "\
EXIT CODES:
    0  success: every input was stored (or was already there)
    1  finished, but some inputs were rejected (listed by `rua rejects`); for fetch also:
       some mailbox failed part-way or could not be reached (the rest is read next time)
    2  fatal: bad usage or configuration, unreadable input list, database error
    3  the database cannot be opened: locked by another rua process past --lock-timeout,
       written by a newer rua, or not a DuckDB file
    4  fetch, config check: no mailbox could be reached or logged in to
    5  fetch: nothing new in any mailbox";

#[derive(Debug, Parser)]
#[command(name = "rua", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// The database file [default: the configuration's, else
    /// ~/.local/share/rua/rua.duckdb].
    #[arg(long, env = "RUA_DB", global = true)]
    db: Option<PathBuf>,

    /// The configuration file [default: ~/.config/rua/config.toml, then
    /// /etc/rua/config.toml, if present].
    #[arg(long, env = "RUA_CONFIG", global = true)]
    config: Option<PathBuf>,

    /// Seconds to wait for another rua process holding the database [default: 60].
    #[arg(long, env = "RUA_LOCK_TIMEOUT", global = true)]
    lock_timeout: Option<u64>,

    /// Only errors.
    #[arg(short, long, global = true)]
    quiet: bool,

    /// More detail (repeat for debug output).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read report files, directories, messages, mbox files and Maildirs (`-` for stdin).
    Ingest {
        /// Inputs; directories are read recursively.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Do not keep each accepted report's XML (smaller database; no `rua reparse`).
        #[arg(long)]
        no_keep_raw: bool,
    },
    /// Fetch report mails from the configured IMAP mailboxes (once, for cron; or --watch).
    Fetch {
        /// Keep running: wait for new mail with IDLE (or polling) until SIGTERM or SIGINT.
        #[arg(long)]
        watch: bool,
        /// Only the mailbox with this name.
        #[arg(long)]
        mailbox: Option<String>,
    },
    /// Check the configuration and log in to every mailbox.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Pass rates per domain and the sources that fail DMARC, or one summary with --by.
    Summary {
        /// Group by source IP, network (/24, /64), alignment category, From domain,
        /// reporting organisation, day, or disposition and override reason.
        #[arg(long, value_enum)]
        by: Option<SummaryBy>,
        #[command(flatten)]
        filters: Filters,
        /// Most rows per summary (per domain for the default's failing sources).
        #[arg(long)]
        limit: Option<i64>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Write a table, view or query to CSV, Parquet or JSON lines, optionally partitioned.
    Export {
        #[arg(long, value_enum, default_value = "parquet")]
        format: ExportFormatArg,
        /// A table or view (default: report_records).
        #[arg(long, conflicts_with = "query")]
        table: Option<String>,
        /// A query to export instead of a table.
        #[arg(long)]
        query: Option<String>,
        /// Reports whose period ends after this: a date (2024-11-01), a date-time, or a
        /// duration back from now (30d, 12h, 2w).
        #[arg(long, value_parser = period::parse)]
        since: Option<i64>,
        /// Reports whose period begins before this (same forms as --since).
        #[arg(long, value_parser = period::parse)]
        until: Option<i64>,
        /// Hive partition columns, e.g. `day` or `day,policy_domain` (output is a directory).
        #[arg(long, value_delimiter = ',')]
        partition_by: Vec<String>,
        /// Output file, or directory when partitioning.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Run SQL over the database (read-only unless --write).
    Sql {
        query: String,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Allow statements that change the database.
        #[arg(long)]
        write: bool,
    },
    /// Parse every kept report again (after a rua upgrade) and retry rejected reports.
    Reparse,
    /// List the inputs that could not be read, and why.
    Rejects {
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Validate the file, show what rua will use, and connect to every mailbox.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SummaryBy {
    Ip,
    Net,
    Alignment,
    Domain,
    Reporter,
    Day,
    Disposition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormatArg {
    Csv,
    Parquet,
    Json,
}

/// Filters shared by the summaries.
#[derive(Debug, clap::Args)]
struct Filters {
    /// Only this policy domain or From domain.
    #[arg(long)]
    domain: Option<String>,
    /// Reports whose period ends after this: a date (2024-11-01), a date-time
    /// (2024-11-01T12:00:00), or a duration back from now (30d, 12h, 2w).
    #[arg(long, value_parser = period::parse)]
    since: Option<i64>,
    /// Reports whose period begins before this (same forms as --since).
    #[arg(long, value_parser = period::parse)]
    until: Option<i64>,
    /// Only reporting organisations matching this (case-insensitive; % is a wildcard).
    #[arg(long)]
    reporter: Option<String>,
}

impl Filters {
    fn params(&self) -> Vec<Param> {
        let text = |v: &Option<String>| v.clone().map_or(Param::Null, Param::Text);
        let time = |v: Option<i64>| v.map_or(Param::Null, Param::Timestamp);
        vec![
            text(&self.domain),
            time(self.since),
            time(self.until),
            text(&self.reporter),
        ]
    }
}

fn summary_sql(by: SummaryBy) -> &'static str {
    match by {
        SummaryBy::Ip => include_str!("../../../sql/queries/summary_by_ip.sql"),
        SummaryBy::Net => include_str!("../../../sql/queries/summary_by_network.sql"),
        SummaryBy::Alignment => include_str!("../../../sql/queries/summary_by_alignment.sql"),
        SummaryBy::Domain => include_str!("../../../sql/queries/summary_by_domain.sql"),
        SummaryBy::Reporter => include_str!("../../../sql/queries/summary_by_reporter.sql"),
        SummaryBy::Day => include_str!("../../../sql/queries/summary_by_day.sql"),
        SummaryBy::Disposition => include_str!("../../../sql/queries/summary_by_disposition.sql"),
    }
}

/// `$XDG_DATA_HOME/rua/rua.duckdb`, else `~/.local/share/rua/rua.duckdb`, else `./rua.duckdb`.
fn default_db() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    base.map_or_else(|| PathBuf::from("rua.duckdb"), |b| b.join("rua/rua.duckdb"))
}

fn init_logging(cli: &Cli) {
    let is_terminal = std::io::stderr().is_terminal();
    // Under cron (no terminal) only problems are printed, so that cron mails mean something.
    let level = match (cli.quiet, cli.verbose, is_terminal) {
        (true, _, _) => "error",
        (false, 0, false) => "warn",
        (false, 0, true) | (false, 1, _) => "info",
        (false, _, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(is_terminal)
        .with_target(false)
        .without_time()
        .init();
}

/// DuckDB's memory limit for commands that write, unless the configuration says otherwise.
const DEFAULT_MEMORY_LIMIT: &str = "128MB";

/// What the command line, the environment and the configuration file decided together.
struct Settings {
    db: PathBuf,
    lock_timeout: Duration,
    keep_raw: bool,
    limits: ingest::Bounds,
    config: config::Config,
    config_path: Option<PathBuf>,
}

impl Settings {
    fn resolve(cli: &Cli) -> anyhow::Result<Settings> {
        let (config, config_path) = config::load(cli.config.as_deref())?;
        let db = cli
            .db
            .clone()
            .or_else(|| config.database.path.clone())
            .unwrap_or_else(default_db);
        let lock_timeout = cli
            .lock_timeout
            .or(config.database.lock_timeout_secs)
            .unwrap_or(60);
        Ok(Settings {
            db,
            lock_timeout: Duration::from_secs(lock_timeout),
            keep_raw: config.database.keep_raw.unwrap_or(true),
            limits: ingest::Bounds {
                unpack: config.limits.limits(),
                parse: config.limits.parse_options(),
            },
            config,
            config_path,
        })
    }

    fn options(&self, is_read_only: bool, keep_raw: bool) -> OpenOptions {
        // Ingest keeps its memory flat: what DuckDB holds beyond this is spilled or
        // checkpointed (queries that only read get DuckDB's default).
        let memory_limit = self.config.database.memory_limit.as_deref();
        OpenOptions {
            lock_timeout: self.lock_timeout,
            is_read_only,
            keep_raw,
            memory_limit: Some(memory_limit.unwrap_or(DEFAULT_MEMORY_LIMIT).to_owned()),
            ..OpenOptions::default()
        }
    }

    /// For commands that store reports (ingest, fetch, reparse): one DuckDB thread.
    fn ingest_options(&self, keep_raw: bool) -> OpenOptions {
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

    fn open(&self, is_read_only: bool, keep_raw: bool) -> anyhow::Result<Store> {
        open_store(&self.db, &self.options(is_read_only, keep_raw))
    }
}

/// Opens the database, creating its directory for writers; readers need it to exist.
fn open_store(db: &Path, options: &OpenOptions) -> anyhow::Result<Store> {
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
    Ok(Store::open(db, options)?)
}

/// SIGTERM and SIGINT raise the returned flag; long-running work checks it between batches.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install the signal handler")?;
    }
    Ok(stop)
}

/// The configured mailboxes, or the one named.
fn mailboxes(settings: &Settings, only: Option<&str>) -> anyhow::Result<Vec<rua_imap::Account>> {
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

/// `rua config check`: what rua will use, on stdout; a mailbox that fails, on stderr.
fn config_check(settings: &Settings) -> anyhow::Result<u8> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match &settings.config_path {
        Some(path) => writeln!(out, "configuration: {}", path.display())?,
        None => writeln!(out, "configuration: none found, using defaults")?,
    }
    writeln!(out, "database: {}", settings.db.display())?;
    let mut n_unreachable = 0;
    for account in &mailboxes(settings, None)? {
        let checked = rua_imap::Client::connect(account).and_then(|mut client| {
            let status = client.select(&account.folder, true);
            client.logout();
            status
        });
        match checked {
            Ok(status) => writeln!(
                out,
                "mailbox {}: ok, {} holds {} messages (UIDVALIDITY {})",
                account.name,
                account.location(),
                status.n_messages,
                status.uid_validity
            )?,
            Err(e) => {
                tracing::error!("mailbox {}: {e}", account.name);
                n_unreachable += 1;
            }
        }
    }
    Ok(if n_unreachable > 0 {
        exit::CANNOT_CONNECT
    } else {
        exit::OK
    })
}

fn run(cli: &Cli, settings: &Settings) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Ingest {
            inputs,
            no_keep_raw,
        } => {
            let options = settings.ingest_options(settings.keep_raw && !no_keep_raw);
            let mut store = open_store(&settings.db, &options)?;
            let show_progress = !cli.quiet && std::io::stderr().is_terminal();
            let counts = ingest::ingest(&mut store, inputs, &settings.limits, show_progress)?;
            let line = ingest::summary_line(&counts);
            if counts.n_rejects > 0 {
                tracing::warn!("{line}; see `rua rejects`");
                Ok(exit::REJECTS)
            } else {
                tracing::info!("{line}");
                Ok(exit::OK)
            }
        }
        Command::Fetch { watch, mailbox } => {
            let accounts = mailboxes(settings, mailbox.as_deref())?;
            let target = fetch::Target {
                db: &settings.db,
                options: settings.ingest_options(settings.keep_raw),
                limits: settings.limits,
            };
            let stop = stop_flag()?;
            if *watch {
                fetch::watch(&target, &accounts, &stop)?;
                return Ok(exit::OK);
            }
            let pass = fetch::fetch_once(&target, &accounts, &stop)?;
            Ok(if pass.n_unreachable == accounts.len() as u64 {
                exit::CANNOT_CONNECT
            } else if pass.n_unreachable > 0 || pass.n_failed > 0 || pass.n_rejected > 0 {
                exit::REJECTS
            } else if pass.n_messages == 0 {
                exit::NOTHING_TO_DO
            } else {
                exit::OK
            })
        }
        Command::Config {
            action: ConfigAction::Check,
        } => config_check(settings),
        Command::Summary {
            by,
            filters,
            limit,
            format,
        } => {
            let store = settings.open(true, false)?;
            let format = output::resolve(*format);
            let mut params = filters.params();
            match by {
                Some(by) => {
                    params.push(Param::Int(limit.unwrap_or(i64::MAX)));
                    output::print(format, &store.query(summary_sql(*by), &params)?)?;
                }
                None => {
                    let domains = store.query(
                        include_str!("../../../sql/queries/summary_domains.sql"),
                        &params,
                    )?;
                    params.push(Param::Int(limit.unwrap_or(5)));
                    let failing = store.query(
                        include_str!("../../../sql/queries/summary_top_failing.sql"),
                        &params,
                    )?;
                    output::print_sections(
                        format,
                        &[("domains", &domains), ("top failing sources", &failing)],
                    )?;
                }
            }
            Ok(exit::OK)
        }
        Command::Export {
            format,
            table,
            query,
            since,
            until,
            partition_by,
            output: path,
        } => {
            let store = settings.open(true, false)?;
            let spec = ExportSpec {
                table: if query.is_some() {
                    None
                } else {
                    Some(table.as_deref().unwrap_or("report_records"))
                },
                query: query.as_deref(),
                format: match format {
                    ExportFormatArg::Csv => ExportFormat::Csv,
                    ExportFormatArg::Parquet => ExportFormat::Parquet,
                    ExportFormatArg::Json => ExportFormat::Json,
                },
                path,
                since: *since,
                until: *until,
                partition_by,
            };
            let n_rows = store.export(&spec)?;
            tracing::info!("exported {n_rows} rows to {}", path.display());
            Ok(exit::OK)
        }
        Command::Sql {
            query,
            format,
            write,
        } => {
            let store = settings.open(!write, false)?;
            let result = store.query(query, &[])?;
            output::print(output::resolve(*format), &result)?;
            Ok(exit::OK)
        }
        Command::Reparse => {
            let mut store = open_store(&settings.db, &settings.ingest_options(true))?;
            let outcome = ingest::reparse(&mut store, &settings.limits.parse)?;
            tracing::info!(
                "reparsed {} reports ({} no longer parse and were kept as they were); {} rejects now parse",
                outcome.n_reparsed,
                outcome.n_failed,
                outcome.n_recovered
            );
            Ok(if outcome.n_failed > 0 {
                exit::REJECTS
            } else {
                exit::OK
            })
        }
        Command::Rejects { format } => {
            let store = settings.open(true, false)?;
            let result = store.query(include_str!("../../../sql/queries/rejects.sql"), &[])?;
            output::print(output::resolve(*format), &result)?;
            Ok(exit::OK)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    let result = Settings::resolve(&cli).and_then(|settings| run(&cli, &settings));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tracing::error!("{e:#}");
            let is_database = e.downcast_ref::<StoreError>().is_some_and(|s| {
                matches!(
                    s,
                    StoreError::Locked { .. }
                        | StoreError::TooNew { .. }
                        | StoreError::Open { .. }
                        | StoreError::NotADatabase { .. }
                        | StoreError::Missing { .. }
                        | StoreError::Create { .. }
                )
            });
            ExitCode::from(if is_database {
                exit::DATABASE
            } else {
                exit::FATAL
            })
        }
    }
}
