//! `rua`: DMARC aggregate reports into DuckDB, and answers out of it.
//!
//! The binary wires the library crates together: sources → unpack → parse → store → query.
//! It owns the command line, logging, progress and exit codes; the libraries own the work.

mod ingest;
mod output;
mod period;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
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
    /// Another rua process held the database for longer than `--lock-timeout`.
    pub const LOCKED: u8 = 3;
}

const EXIT_CODES: &str = "\
EXIT CODES:
    0  success: every input was stored (or was already there)
    1  finished, but some inputs were rejected (listed by `rua rejects`)
    2  fatal: bad usage, unreadable input list, database error
    3  the database stayed locked by another rua process past --lock-timeout";

#[derive(Debug, Parser)]
#[command(name = "rua", version, about, after_help = EXIT_CODES)]
struct Cli {
    /// The database file.
    #[arg(long, env = "RUA_DB", global = true, default_value_os_t = default_db())]
    db: PathBuf,

    /// Seconds to wait for another rua process holding the database.
    #[arg(long, global = true, default_value_t = 60)]
    lock_timeout: u64,

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

fn open(cli: &Cli, is_read_only: bool, keep_raw: bool) -> anyhow::Result<Store> {
    if !is_read_only {
        if let Some(dir) = cli.db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    } else if !cli.db.exists() {
        anyhow::bail!(
            "no database at {} (run `rua ingest` first, or pass --db)",
            cli.db.display()
        );
    }
    let options = OpenOptions {
        lock_timeout: Duration::from_secs(cli.lock_timeout),
        is_read_only,
        keep_raw,
    };
    Ok(Store::open(&cli.db, &options)?)
}

fn run(cli: &Cli) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Ingest {
            inputs,
            no_keep_raw,
        } => {
            let mut store = open(cli, false, !no_keep_raw)?;
            let show_progress = !cli.quiet && std::io::stderr().is_terminal();
            let counts = ingest::ingest(&mut store, inputs, show_progress)?;
            let line = ingest::summary_line(&counts);
            if counts.n_rejects > 0 {
                tracing::warn!("{line}; see `rua rejects`");
                Ok(exit::REJECTS)
            } else {
                tracing::info!("{line}");
                Ok(exit::OK)
            }
        }
        Command::Summary {
            by,
            filters,
            limit,
            format,
        } => {
            let store = open(cli, true, false)?;
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
            let store = open(cli, true, false)?;
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
            let store = open(cli, !write, false)?;
            let result = store.query(query, &[])?;
            output::print(output::resolve(*format), &result)?;
            Ok(exit::OK)
        }
        Command::Reparse => {
            let mut store = open(cli, false, true)?;
            let outcome = ingest::reparse(&mut store)?;
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
            let store = open(cli, true, false)?;
            let result = store.query(include_str!("../../../sql/queries/rejects.sql"), &[])?;
            output::print(output::resolve(*format), &result)?;
            Ok(exit::OK)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tracing::error!("{e:#}");
            let is_locked = e
                .downcast_ref::<StoreError>()
                .is_some_and(|s| matches!(s, StoreError::Locked { .. }));
            ExitCode::from(if is_locked { exit::LOCKED } else { exit::FATAL })
        }
    }
}
