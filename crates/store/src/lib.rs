//! rua's DuckDB store: one embedded database file holding every report, record, reject and
//! ingest run.
//!
//! [`Store::open`] waits for a writer lock held by another process, applies the numbered
//! migrations in `sql/migrations` and recreates the views in `sql/views.sql`. Ingest is
//! idempotent: a report's identity (organisation, report_id, policy domain, begin, end) and
//! its content hash decide whether it is new, a duplicate (nothing is written) or a conflict
//! (kept, flagged, never counted twice). Each report's rows are committed together; reports
//! are batched per transaction for speed. This is the only crate that links DuckDB.

mod alerts;
mod columns;
mod content;
mod content_hash;
mod dedup;
mod enrich;
mod export;
mod file;
mod ingest;
mod lake;
mod model;
mod query;
mod reparse;
mod schema;
mod source_state;
mod tables;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use content::{Content, PayloadHash, PayloadTee};
pub use enrich::{EnrichTodo, IpInfo, SenderRow, TodoFilter};
pub use export::{ExportFormat, ExportSpec};
pub use ingest::{ParsedReport, ReportWriter};
pub use lake::{LakeOptions, PublishSummary, is_node_name};
pub use model::{Origin, Outcome, RejectRow, RunCounts};
pub use query::{Param, QueryResult, Value};
pub use reparse::{KeptPayload, StoredPayload};
pub use source_state::FolderState;
pub use tables::INGESTED_TABLES;

/// How to open a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// How long to wait for another rua process that holds the database.
    pub lock_timeout: Duration,
    pub is_read_only: bool,
    /// Keep each accepted report's XML (compressed) for `rua reparse`.
    pub keep_raw: bool,
    /// Keep a failure report's original message body and the whole report mail (personal
    /// data: off unless configured). Its headers are kept either way.
    pub keep_failure_bodies: bool,
    /// DuckDB's memory limit when writing (e.g. `128MB`); DuckDB's default (80% of RAM)
    /// when None. Readers always get DuckDB's default.
    pub memory_limit: Option<String>,
    /// DuckDB's threads when writing; DuckDB's default (one per core) when None. Ingest
    /// wants one: it appends on a thread of its own, and a DuckDB thread beside it only
    /// competed with the parsers for the cores (docs/performance.md).
    pub threads: Option<i64>,
    /// Records the writer's transaction takes before it commits, unless a caller needs the
    /// reports durable sooner ([`Store::hand_over`], [`Store::commit`]).
    pub commit_records: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(60),
            is_read_only: false,
            keep_raw: true,
            keep_failure_bodies: false,
            memory_limit: None,
            threads: None,
            commit_records: ingest::COMMIT_RECORDS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path} is in use by another process (waited {waited_ms} ms): {source}")]
    Locked {
        path: PathBuf,
        waited_ms: u128,
        source: duckdb::Error,
    },
    #[error(
        "database {path} was written by a newer rua (schema version {found}, this rua knows up to {known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: duckdb::Error,
    },
    #[error(
        "{path} {what}: refusing to use it as rua's database (check --db, RUA_DB or database.path)"
    )]
    NotADatabase { path: PathBuf, what: String },
    #[error("no database at {path}")]
    Missing { path: PathBuf },
    #[error("cannot create database {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("migration {version} failed: {source}")]
    Migration { version: i64, source: duckdb::Error },
    #[error("{context}: {source}")]
    Db {
        context: &'static str,
        source: duckdb::Error,
    },
    #[error("invalid query: {0}")]
    Query(duckdb::Error),
    #[error("invalid export: {0}")]
    Export(String),
    #[error("lake {path}: {what}: {source}")]
    Lake {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("the database writer thread stopped")]
    WriterStopped,
}

impl StoreError {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(duckdb::Error) -> StoreError {
        move |source| StoreError::Db { context, source }
    }
}

/// An open database.
pub struct Store {
    /// Commits batches in the background; started by the first batch. Declared first so
    /// that it finishes (and joins) before the main connection closes.
    writer: Option<writer::Writer>,
    conn: duckdb::Connection,
    path: PathBuf,
    options: OpenOptions,
    ingest: ingest::State,
    /// False for a reader of a database an older rua wrote (see [`Store::is_current`]).
    is_current: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// WAL size at which a writer checkpoints. Each checkpoint compresses again the row groups
/// that grew since the last one (for `reports`, every kept payload in them), so fewer cost
/// less than DuckDB's default of one every 16 MB (docs/performance.md). A run killed before
/// its checkpoint leaves a WAL that the next open replays.
const CHECKPOINT_THRESHOLD: &str = "256MB";

/// Transaction control, for the writer's long transaction across batches.
const BEGIN: &str = include_str!("../../../sql/store/begin.sql");
const COMMIT: &str = include_str!("../../../sql/store/commit.sql");
const ROLLBACK: &str = include_str!("../../../sql/store/rollback.sql");

fn is_lock_error(e: &duckdb::Error) -> bool {
    let text = e.to_string();
    text.contains("Could not set lock") || text.contains("Conflicting lock")
}

/// DuckDB's configuration for a connection with `options`.
fn config(options: &OpenOptions) -> duckdb::Result<duckdb::Config> {
    let config = duckdb::Config::default();
    if options.is_read_only {
        return config.access_mode(duckdb::AccessMode::ReadOnly);
    }
    let config = config.access_mode(duckdb::AccessMode::ReadWrite)?;
    let config = match &options.memory_limit {
        Some(limit) => config.max_memory(limit)?,
        None => config,
    };
    let config = match options.threads {
        Some(n) => config.threads(n)?,
        None => config,
    };
    config.with("checkpoint_threshold", CHECKPOINT_THRESHOLD)
}

/// The SQL that sets a writer's limits again after they were lifted (sql/lake/unlimit.sql).
pub(crate) fn restore_limits(options: &OpenOptions) -> String {
    let memory_limit = match &options.memory_limit {
        Some(limit) => export::literal(limit),
        None => "'80%'".to_owned(),
    };
    let mut restore =
        include_str!("../../../sql/lake/limit.sql").replace("{memory_limit}", &memory_limit);
    if let Some(threads) = options.threads {
        restore += &include_str!("../../../sql/lake/limit_threads.sql")
            .replace("{threads}", &threads.to_string());
    }
    restore
}

/// Opens a connection to an existing database file, waiting for another process's lock.
fn connect(path: &Path, options: &OpenOptions) -> Result<duckdb::Connection, StoreError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        let config = config(options).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        match duckdb::Connection::open_with_flags(path, config) {
            Ok(conn) => return Ok(conn),
            Err(e) if is_lock_error(&e) => {
                if started.elapsed() >= options.lock_timeout {
                    return Err(StoreError::Locked {
                        path: path.to_owned(),
                        waited_ms: started.elapsed().as_millis(),
                        source: e,
                    });
                }
                std::thread::sleep(
                    delay.min(options.lock_timeout.saturating_sub(started.elapsed())),
                );
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Err(source) => {
                return Err(StoreError::Open {
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
}

impl Store {
    /// Whether the database has this rua's tables and views. A reader leaves an older
    /// database as it is, so queries over what this rua added fail until a command that
    /// writes brings it up to date.
    pub fn is_current(&self) -> bool {
        self.is_current
    }

    /// Opens and migrates a database, waiting for another process's lock. A writer creates
    /// it when nothing is at `path` (see [`file`]); a path that holds anything but a DuckDB
    /// database is refused ([`StoreError::NotADatabase`]) and left as it is.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Store, StoreError> {
        let is_new = matches!(file::inspect(path)?, file::Found::Nothing);
        if is_new {
            if options.is_read_only {
                return Err(StoreError::Missing {
                    path: path.to_owned(),
                });
            }
            file::create(path, |tmp| {
                let conn = connect(tmp, options)?;
                schema::migrate(&conn, tmp, options).map(|_| ())
            })?;
            // Created here or by another process meanwhile: either way, a whole database.
            if let file::Found::Nothing = file::inspect(path)? {
                return Err(StoreError::Missing {
                    path: path.to_owned(),
                });
            }
        }
        let conn = connect(path, options)?;
        let mut store = Store {
            writer: None,
            conn,
            path: path.to_owned(),
            options: options.clone(),
            ingest: ingest::State::default(),
            is_current: true,
        };
        store.is_current = schema::migrate(&store.conn, path, options)?;
        if !options.is_read_only {
            // The table function over Arrow batches that `sql/store/append_batch.sql` reads.
            store
                .conn
                .register_table_function::<duckdb::vtab::arrow::ArrowVTab>("rua_batch")
                .map_err(StoreError::db("registering the batch table function"))?;
            store.load_keys()?;
        } else if store.is_current {
            store.read_stored_classes_when_complete()?;
        }
        Ok(store)
    }
}
