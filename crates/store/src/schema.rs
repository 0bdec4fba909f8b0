//! Numbered migrations from `sql/migrations`, recorded in `schema_version`, and the views.

use std::path::Path;

use crate::{OpenOptions, StoreError};

/// Migrations in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../sql/migrations/0001_initial.sql"),
    include_str!("../../../sql/migrations/0002_imap_state.sql"),
    include_str!("../../../sql/migrations/0003_raw_uncompressed.sql"),
    include_str!("../../../sql/migrations/0004_payload_hash.sql"),
    include_str!("../../../sql/migrations/0005_smtp_tls.sql"),
    include_str!("../../../sql/migrations/0006_failure_reports.sql"),
    include_str!("../../../sql/migrations/0007_views_state.sql"),
    include_str!("../../../sql/migrations/0008_enrich.sql"),
    include_str!("../../../sql/migrations/0009_alerts.sql"),
    include_str!("../../../sql/migrations/0010_lake.sql"),
    include_str!("../../../sql/migrations/0011_raw_if_different.sql"),
    include_str!("../../../sql/migrations/0012_stored_classes.sql"),
];
const VIEWS: &str = include_str!("../../../sql/views.sql");

/// The schema version this rua writes.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to date (a writer) or checks it is not too new (a reader), and
/// recreates the views when they are not the ones this rua makes (see [`views_hash`]).
/// Returns whether the database is this rua's: false only for a reader of a database an
/// older rua wrote (older tables, or views not yet recreated), which it leaves as it is.
/// An existing database migrates without the writer's memory limit (a migration that adds
/// a column to ten million records holds them all in its transaction), then gets the
/// limits of `options` again.
pub(crate) fn migrate(
    conn: &duckdb::Connection,
    path: &Path,
    options: &OpenOptions,
) -> Result<bool, StoreError> {
    let has_table: i64 = conn
        .query_row(
            include_str!("../../../sql/store/has_schema_version.sql"),
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::db("reading the schema version"))?;
    let found: i64 = if has_table > 0 {
        conn.query_row(
            include_str!("../../../sql/store/current_version.sql"),
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::db("reading the schema version"))?
    } else {
        0
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    if options.is_read_only {
        if found < SCHEMA_VERSION {
            return Ok(false);
        }
        let (stored, n_views) = views_state(conn)?;
        return Ok(
            stored.as_deref() == Some(views_hash().as_str()) && n_views >= n_declared_views()
        );
    }
    let hash = views_hash();
    let migration = |version| move |source| StoreError::Migration { version, source };
    let views = StoreError::db("creating views");
    if found == 0 {
        // A new database (a temporary file until it is whole, see `file::create`): its
        // migrations and views commit once.
        return in_transaction(conn, || {
            for (index, sql) in MIGRATIONS.iter().enumerate() {
                let version = index as i64 + 1;
                apply_migration(conn, version, sql).map_err(migration(version))?;
            }
            create_views(conn, &hash).map_err(views)
        })
        .map(|()| true);
    }
    // An existing one: a transaction per migration, so a failed one leaves the database
    // whole at the version before it.
    if found < SCHEMA_VERSION {
        let limits = StoreError::db("lifting the writer's memory limit for the migrations");
        conn.execute_batch(include_str!("../../../sql/store/lift_memory_limit.sql"))
            .map_err(limits)?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = index as i64 + 1;
            in_transaction(conn, || {
                apply_migration(conn, version, sql).map_err(migration(version))
            })?;
        }
        // What the migrations left in memory is written out first, or the limit cannot be
        // set again.
        conn.execute_batch(include_str!("../../../sql/store/checkpoint.sql"))
            .map_err(StoreError::db("writing the migrated database"))?;
        conn.execute_batch(&crate::restore_limits(options))
            .map_err(StoreError::db("restoring the writer's limits"))?;
    }
    let (stored, n_views) = views_state(conn)?;
    let is_changed = stored.as_deref() != Some(hash.as_str());
    if is_changed || n_views < n_declared_views() {
        in_transaction(conn, || {
            create_views(conn, &hash).map_err(views)?;
            // Other views may classify records otherwise: the next `rua enrich` works every
            // stored class out again (a view dropped by hand and put back changes nothing).
            if is_changed {
                conn.execute_batch(include_str!("../../../sql/store/unclassify_all.sql"))
                    .map_err(StoreError::db("dropping the stored classes"))?;
            }
            Ok(())
        })?;
    }
    Ok(true)
}

/// Runs `work` in a transaction: committed when it succeeds, rolled back (as the
/// transaction is dropped) when it fails.
fn in_transaction(
    conn: &duckdb::Connection,
    work: impl FnOnce() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let tx = conn
        .unchecked_transaction()
        .map_err(StoreError::db("migrating"))?;
    work()?;
    tx.commit().map_err(StoreError::db("migrating"))
}

/// Applies migration `version` and records it.
fn apply_migration(conn: &duckdb::Connection, version: i64, sql: &str) -> duckdb::Result<()> {
    conn.execute_batch(sql)?;
    conn.execute(
        include_str!("../../../sql/store/record_migration.sql"),
        duckdb::params![version, env!("CARGO_PKG_VERSION")],
    )?;
    Ok(())
}

/// Creates the views and macros and records which they are.
fn create_views(conn: &duckdb::Connection, hash: &str) -> duckdb::Result<()> {
    conn.execute_batch(VIEWS)?;
    conn.execute_batch(include_str!("../../../sql/store/clear_views_state.sql"))?;
    conn.execute(
        include_str!("../../../sql/store/set_views_state.sql"),
        [hash],
    )?;
    Ok(())
}

/// The hash of the views last created, and how many views there are.
fn views_state(conn: &duckdb::Connection) -> Result<(Option<String>, i64), StoreError> {
    conn.query_row(
        include_str!("../../../sql/store/views_state.sql"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .map_err(StoreError::db("reading the views' state"))
}

/// What identifies the views a rua makes: `sql/views.sql` and the schema it is made on.
fn views_hash() -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(VIEWS.as_bytes());
    hasher.update(&SCHEMA_VERSION.to_le_bytes());
    hasher.finalize().to_hex().to_string()
}

/// How many views `sql/views.sql` declares.
fn n_declared_views() -> i64 {
    VIEWS.matches("CREATE OR REPLACE VIEW").count() as i64
}
