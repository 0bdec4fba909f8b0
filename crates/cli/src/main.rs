//! `rua`: DMARC aggregate reports into DuckDB, and answers out of it.
//!
//! The binary wires the library crates together: sources → unpack → parse → store → query.
//! It owns the command line, logging, progress and exit codes; the libraries own the work.
//! Each command is a module of `commands/` with its own arguments; the ingest pipeline that
//! several of them share is `pipeline/`.

mod commands;
mod config;
mod output;
mod period;
mod pipeline;
mod report;
mod settings;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rua_store::StoreError;

use crate::settings::{Globals, Settings};

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
    /// `rua alerts`: there are new alerts (printed on stdout).
    pub const NEW_ALERTS: u8 = 6;
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
    5  fetch: nothing new in any mailbox
    6  alerts: new alerts were printed (0: none)";

#[derive(Debug, Parser)]
#[command(name = "rua", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(flatten)]
    globals: Globals,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read report files, directories, messages, mbox files and Maildirs (`-` for stdin).
    Ingest(commands::ingest::Args),
    /// Fetch report mails from the configured IMAP mailboxes (once, for cron; or --watch).
    Fetch(commands::fetch::Args),
    /// Check the configuration and log in to every mailbox.
    Config {
        #[command(subcommand)]
        action: commands::config::Action,
    },
    /// Who sent it: reverse DNS, network, country and a named sender for new source addresses.
    Enrich(commands::enrich::Args),
    /// Pass rates per domain and the sources that fail DMARC, or one summary with --by.
    Summary(commands::summary::Args),
    /// Is each domain ready for p=reject: messages by class, what enforcement would do, a verdict.
    Policy(commands::policy::Args),
    /// What changed: new senders, pass-rate drops, spoofing spikes, silent reporters, policy
    /// changes (new ones are printed once; exit code 6 when there are any).
    Alerts(commands::alerts::Args),
    /// One self-contained HTML report (charts, sortable tables), or a mail digest (--format eml).
    Report(commands::report::Args),
    /// Write a table, view or query to CSV, Parquet or JSON lines, optionally partitioned.
    Export(commands::export::Args),
    /// Run SQL over the database (read-only unless --write).
    Sql(commands::sql::Args),
    /// Parse every kept report again (after a rua upgrade) and retry rejected reports.
    Reparse,
    /// List the inputs that could not be read, and why.
    Rejects(commands::rejects::Args),
}

fn run(cli: &Cli, settings: &Settings) -> anyhow::Result<u8> {
    match &cli.command {
        Command::Ingest(args) => commands::ingest::run(args, settings, cli.globals.quiet),
        Command::Fetch(args) => commands::fetch::run(args, settings),
        Command::Config { action } => commands::config::run(action, settings),
        Command::Enrich(args) => commands::enrich::run(args, settings),
        Command::Summary(args) => commands::summary::run(args, settings),
        Command::Policy(args) => commands::policy::run(args, settings),
        Command::Alerts(args) => commands::alerts::run(args, settings),
        Command::Report(args) => commands::report::run(args, settings),
        Command::Export(args) => commands::export::run(args, settings),
        Command::Sql(args) => commands::sql::run(args, settings),
        Command::Reparse => commands::reparse::run(settings),
        Command::Rejects(args) => commands::rejects::run(args, settings),
    }
}

fn init_logging(globals: &Globals) {
    let is_terminal = std::io::stderr().is_terminal();
    // Under cron (no terminal) only problems are printed, so that cron mails mean something.
    let level = match (globals.quiet, globals.verbose, is_terminal) {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.globals);
    let result = Settings::resolve(&cli.globals).and_then(|settings| run(&cli, &settings));
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
