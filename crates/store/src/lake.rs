//! The Parquet lake (`rua export --incremental`): what this database committed since its last
//! publish, written as new Parquet files under a Hive layout that Spark, Trino, DuckDB and
//! pyarrow read as one dataset per kind of row:
//!
//! ```text
//! ROOT/records/month=2024-11/node=mx1/part-mx1-00000007.parquet
//! ROOT/reports/…  ROOT/tls_policies/…  ROOT/failure_reports/…
//! ROOT/_rua_staging/mx1/   (this node's work in progress: hidden from readers)
//! ```
//!
//! Each report belongs to one *batch* (the publish that first wrote it, or the compaction that
//! merged that publish's file) and one month; a (batch, month) *group* has one file per
//! dataset, named after the node and the batch. Writing a group again (after a crash, after
//! `rua reparse`) renames a new file over the old one, so a reader sees one or the other and
//! never both. A file is written under the staging directory and renamed into place, so no
//! reader sees a partial file. The order of a publish: the batch and its reports are committed
//! to the database as `writing`; the files are written; the batch is marked `done` with its
//! files. A publish killed anywhere leaves a `writing` batch, which the next publish writes
//! again, whole, under the same names: nothing is published twice or missed.
//!
//! A compaction merges a month's small groups into one: its file is put beside hard links to
//! every other file of the node's month directory in a new directory, which is then
//! exchanged with the live one in one atomic rename (Linux's `renameat2(RENAME_EXCHANGE)`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::{Store, StoreError};

/// The datasets of a lake, each with the kind of report its rows come from and the query
/// that gives its rows for `lake_keys`.
const DATASETS: [(&str, &str, &str); 4] = [
    (
        "records",
        "aggregate",
        include_str!("../../../sql/lake/records.sql"),
    ),
    (
        "reports",
        "aggregate",
        include_str!("../../../sql/lake/reports.sql"),
    ),
    (
        "tls_policies",
        "tls",
        include_str!("../../../sql/lake/tls_policies.sql"),
    ),
    (
        "failure_reports",
        "failure",
        include_str!("../../../sql/lake/failure_reports.sql"),
    ),
];

/// The directory under a lake's root where each node prepares its files (readers skip names
/// that start with `_`).
const STAGING_DIR: &str = "_rua_staging";

/// Where and how to publish.
#[derive(Debug, Clone)]
pub struct LakeOptions {
    pub root: PathBuf,
    /// This database's name in the lake: letters, digits, `.`, `_` and `-`.
    pub node: String,
    /// Merge a month's groups only when their files are this much older than the lake's
    /// newest file; None: never compact.
    pub compact_after: Option<Duration>,
    /// Merge at least this many groups at once.
    pub compact_min_files: usize,
    /// Groups of this size or more are left alone, and a merged file stays under it.
    pub target_file_bytes: u64,
}

/// What a publish did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PublishSummary {
    /// Reports published for the first time.
    pub new_reports: u64,
    /// Batches a killed publish had left half written, now written whole.
    pub resumed_batches: u64,
    /// Groups written again because `rua reparse` changed one of their reports.
    pub rewritten_groups: u64,
    /// Groups merged by compactions, and the compactions.
    pub merged_groups: u64,
    pub compactions: u64,
    /// Compactions were due but the lake's file system cannot exchange two directories in
    /// one rename (NFS, most FUSE mounts): the small files stay.
    pub cannot_compact: bool,
    pub files_written: u64,
    pub rows_written: u64,
}

/// One file written into the lake.
struct LakeFile {
    batch_id: i64,
    dataset: &'static str,
    month: String,
    /// Relative to the lake's root.
    path: String,
    n_rows: i64,
    bytes: i64,
    modified_ms: i64,
}

/// A (batch, month) group.
type Group = (i64, String);

/// Where a group's new files go: renamed one by one into the live directories, or (a
/// compaction) into a copy of each live directory that then takes its place.
enum Place<'a> {
    Live,
    Exchange {
        merged: &'a [Group],
        modified_ms: i64,
    },
}

fn lake_error(path: &Path, what: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::Lake { path, what, source }
}

/// Whether a node name is safe as a path component and a partition value.
pub fn is_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '_', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A group's file in each dataset's month directory.
fn file_name(node: &str, batch_id: i64) -> String {
    format!("part-{node}-{batch_id:08}.parquet")
}

fn modified_ms(metadata: &fs::Metadata) -> i64 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

/// Makes a file, or a directory's entries, durable.
fn sync(path: &Path) -> Result<(), StoreError> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(lake_error(path, "syncing"))
}

/// A test hook: with `RUA_LAKE_KILL_AT=n`, the process aborts at the n-th step of a publish
/// (a commit, a file written or renamed, a directory exchanged), as if killed there.
fn step() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STEPS: AtomicU64 = AtomicU64::new(0);
    let n = STEPS.fetch_add(1, Ordering::Relaxed) + 1;
    if std::env::var("RUA_LAKE_KILL_AT")
        .ok()
        .and_then(|v| v.parse().ok())
        == Some(n)
    {
        std::process::abort();
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<(), StoreError> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE)
        .map_err(|e| lake_error(b, "exchanging directories")(std::io::Error::from(e)))
}

/// Whether the lake's file system exchanges two directories in one rename: tried on two
/// empty directories of the staging area before a compaction commits to it.
fn can_exchange(lake: &LakeOptions) -> Result<bool, StoreError> {
    let probe = lake.root.join(STAGING_DIR).join(&lake.node).join("probe");
    let (a, b) = (probe.join("a"), probe.join("b"));
    for dir in [&a, &b] {
        fs::create_dir_all(dir).map_err(lake_error(dir, "creating"))?;
    }
    let works = exchange(&a, &b).is_ok();
    fs::remove_dir_all(&probe).map_err(lake_error(&probe, "removing"))?;
    Ok(works)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, b: &Path) -> Result<(), StoreError> {
    Err(lake_error(b, "exchanging directories")(
        std::io::Error::other("compaction needs Linux's renameat2"),
    ))
}

impl Store {
    /// Publishes to the lake: first what a killed publish left half written, then the groups
    /// `rua reparse` changed, then every report not published yet, then the compactions due.
    pub fn publish_lake(&mut self, lake: &LakeOptions) -> Result<PublishSummary, StoreError> {
        self.commit()?;
        self.conn
            .execute_batch(include_str!("../../../sql/lake/unlimit.sql"))
            .map_err(StoreError::db("lifting the writer's limits"))?;
        let result = self.publish(lake);
        self.conn
            .execute_batch(&crate::restore_limits(&self.options))
            .map_err(StoreError::db("restoring the writer's limits"))?;
        result
    }

    fn publish(&mut self, lake: &LakeOptions) -> Result<PublishSummary, StoreError> {
        if !is_node_name(&lake.node) {
            return Err(StoreError::Export(format!(
                "invalid node name {:?}: letters, digits, '.', '_' and '-', not first",
                lake.node
            )));
        }
        self.check_lake(lake)?;
        let mut summary = PublishSummary::default();
        let unfinished: Vec<(i64, String)> =
            self.lake_rows(include_str!("../../../sql/lake/unfinished.sql"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        for (batch_id, kind) in unfinished {
            if kind == "compact" {
                self.finish_compaction(lake, batch_id, &mut summary)?;
            } else {
                let groups = self.batch_groups(batch_id)?;
                self.write_groups(lake, &groups, &Place::Live, &mut summary)?;
                self.finish_batch(batch_id)?;
            }
            summary.resumed_batches += 1;
        }
        let changed = self.lake_rows(
            include_str!("../../../sql/lake/changed_groups.sql"),
            [],
            group,
        )?;
        if !changed.is_empty() {
            self.write_groups(lake, &changed, &Place::Live, &mut summary)?;
            summary.rewritten_groups = changed.len() as u64;
        }
        // A batch with no report is never committed.
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::db("publishing to the lake"))?;
        let batch_id = new_batch(&tx, lake, "publish")?;
        let n_new = tx
            .execute(
                include_str!("../../../sql/lake/new_reports.sql"),
                [batch_id],
            )
            .map_err(StoreError::db("choosing the reports to publish"))?;
        if n_new == 0 {
            drop(tx); // rolled back
        } else {
            tx.commit()
                .map_err(StoreError::db("publishing to the lake"))?;
            step();
            let groups = self.batch_groups(batch_id)?;
            self.write_groups(lake, &groups, &Place::Live, &mut summary)?;
            self.finish_batch(batch_id)?;
            summary.new_reports = n_new as u64;
        }
        if let Some(after) = lake.compact_after {
            self.compact(lake, after, &mut summary)?;
        }
        Ok(summary)
    }

    /// One database publishes to one lake under one name: a different one is a mistake
    /// (its files would be missing from the other lake, or collide with another node's).
    fn check_lake(&self, lake: &LakeOptions) -> Result<(), StoreError> {
        let path = lake.root.to_string_lossy();
        let published: Vec<(String, String)> =
            self.lake_rows(include_str!("../../../sql/lake/batches.sql"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        for (published_to, node) in published {
            if published_to != path || node != lake.node {
                return Err(StoreError::Export(format!(
                    "this database publishes to {published_to} as node {node:?}, not to {path} as {:?}",
                    lake.node
                )));
            }
        }
        Ok(())
    }

    fn lake_transaction<T>(
        &mut self,
        body: impl FnOnce(&duckdb::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(StoreError::db("publishing to the lake"))?;
        let value = body(&tx)?;
        tx.commit()
            .map_err(StoreError::db("publishing to the lake"))?;
        Ok(value)
    }

    /// The rows of one of the lake's own queries, each read by `row`.
    fn lake_rows<T>(
        &self,
        sql: &str,
        params: impl duckdb::Params,
        row: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let context = "reading what was published";
        let mut stmt = self.conn.prepare(sql).map_err(StoreError::db(context))?;
        let rows = stmt
            .query_map(params, row)
            .map_err(StoreError::db(context))?;
        rows.collect::<duckdb::Result<Vec<T>>>()
            .map_err(StoreError::db(context))
    }

    fn batch_groups(&self, batch_id: i64) -> Result<Vec<Group>, StoreError> {
        self.lake_rows(
            include_str!("../../../sql/lake/batch_groups.sql"),
            [batch_id],
            group,
        )
    }

    fn finish_batch(&mut self, batch_id: i64) -> Result<(), StoreError> {
        step();
        self.conn
            .execute(
                include_str!("../../../sql/lake/finish_batch.sql"),
                [batch_id],
            )
            .map_err(StoreError::db("recording a publish"))?;
        Ok(())
    }

    /// Writes the files of `groups` (every dataset) and records them, one transaction for
    /// the record of them all.
    fn write_groups(
        &mut self,
        lake: &LakeOptions,
        groups: &[Group],
        place: &Place<'_>,
        summary: &mut PublishSummary,
    ) -> Result<(), StoreError> {
        if groups.is_empty() {
            return Ok(());
        }
        let staging = lake.root.join(STAGING_DIR).join(&lake.node);
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(lake_error(&staging, "clearing"))?;
        }
        fs::create_dir_all(&staging).map_err(lake_error(&staging, "creating"))?;
        let mut files = Vec::new();
        for (batch_id, month) in groups {
            self.conn
                .execute(
                    include_str!("../../../sql/lake/keys.sql"),
                    duckdb::params![batch_id, month],
                )
                .map_err(StoreError::db("choosing the reports to write"))?;
            let kinds: Vec<String> =
                self.lake_rows(include_str!("../../../sql/lake/key_kinds.sql"), [], |r| {
                    r.get(0)
                })?;
            for (dataset, kind, source) in DATASETS {
                if !kinds.iter().any(|k| k == kind) {
                    continue;
                }
                let name = file_name(&lake.node, *batch_id);
                let out = staging.join(format!("{dataset}-{month}-{name}"));
                let sql = include_str!("../../../sql/lake/copy.sql")
                    .replace("{path}", &crate::export::literal(&out.to_string_lossy()))
                    .replace("{source}", source.trim().trim_end_matches(';'));
                let n_rows = self
                    .conn
                    .execute(&sql, [])
                    .map_err(StoreError::db("writing Parquet files"))?;
                step();
                if n_rows == 0 {
                    fs::remove_file(&out).map_err(lake_error(&out, "removing"))?;
                    continue;
                }
                let file = LakeFile {
                    batch_id: *batch_id,
                    dataset,
                    month: month.clone(),
                    path: format!("{dataset}/month={month}/node={}/{name}", lake.node),
                    n_rows: n_rows as i64,
                    bytes: 0,
                    modified_ms: 0,
                };
                files.push((file, out));
            }
        }
        let written = match place {
            Place::Live => place_live(lake, groups, files)?,
            Place::Exchange {
                merged,
                modified_ms,
            } => place_exchange(lake, groups, merged, files, *modified_ms)?,
        };
        summary.files_written += written.len() as u64;
        summary.rows_written += written.iter().map(|f| f.n_rows as u64).sum::<u64>();
        step();
        self.lake_transaction(|tx| {
            let context = "recording the published files";
            for (batch_id, month) in groups {
                tx.execute(
                    include_str!("../../../sql/lake/finish_group_files.sql"),
                    duckdb::params![batch_id, month],
                )
                .map_err(StoreError::db(context))?;
                tx.execute(
                    include_str!("../../../sql/lake/finish_group_changes.sql"),
                    duckdb::params![batch_id, month],
                )
                .map_err(StoreError::db(context))?;
            }
            let mut insert = tx
                .prepare(include_str!("../../../sql/lake/insert_file.sql"))
                .map_err(StoreError::db(context))?;
            for f in &written {
                insert
                    .execute(duckdb::params![
                        f.batch_id,
                        f.dataset,
                        f.month,
                        f.path,
                        f.n_rows,
                        f.bytes,
                        f.modified_ms
                    ])
                    .map_err(StoreError::db(context))?;
            }
            Ok(())
        })?;
        fs::remove_dir_all(&staging).map_err(lake_error(&staging, "clearing"))?;
        Ok(())
    }

    /// Merges each month's small groups (see `compact_candidates.sql`) into a new batch.
    fn compact(
        &mut self,
        lake: &LakeOptions,
        after: Duration,
        summary: &mut PublishSummary,
    ) -> Result<(), StoreError> {
        let candidates: Vec<(String, i64, i64)> = self.lake_rows(
            include_str!("../../../sql/lake/compact_candidates.sql"),
            [after.as_millis() as i64, lake.target_file_bytes as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut plans: Vec<Vec<Group>> = Vec::new();
        let mut current: Vec<Group> = Vec::new();
        let mut bytes = 0u64;
        for (month, batch_id, size) in candidates {
            let size = size as u64;
            let same_month = current.first().is_some_and(|(_, m)| *m == month);
            if !same_month || bytes + size > lake.target_file_bytes {
                plans.push(std::mem::take(&mut current));
                bytes = 0;
            }
            current.push((batch_id, month));
            bytes += size;
        }
        plans.push(current);
        plans.retain(|plan| plan.len() >= lake.compact_min_files.max(2));
        if !plans.is_empty() && !can_exchange(lake)? {
            summary.cannot_compact = true;
            return Ok(());
        }
        for plan in plans {
            let batch_id = self.lake_transaction(|tx| {
                let batch_id = new_batch(tx, lake, "compact")?;
                for (merged, month) in &plan {
                    tx.execute(
                        include_str!("../../../sql/lake/insert_merge.sql"),
                        duckdb::params![batch_id, merged, month],
                    )
                    .map_err(StoreError::db("planning a compaction"))?;
                }
                tx.execute(
                    include_str!("../../../sql/lake/merge_reports.sql"),
                    [batch_id],
                )
                .map_err(StoreError::db("planning a compaction"))?;
                Ok(batch_id)
            })?;
            step();
            self.finish_compaction(lake, batch_id, summary)?;
        }
        Ok(())
    }

    /// Writes a compaction's file in place of the ones it merges, and records it.
    fn finish_compaction(
        &mut self,
        lake: &LakeOptions,
        batch_id: i64,
        summary: &mut PublishSummary,
    ) -> Result<(), StoreError> {
        let merges: Vec<(String, i64, Option<i64>)> = self.lake_rows(
            include_str!("../../../sql/lake/merges.sql"),
            [batch_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let modified_ms = merges.first().and_then(|m| m.2).unwrap_or(0);
        let merged: Vec<Group> = merges
            .into_iter()
            .map(|(month, merged, _)| (merged, month))
            .collect();
        let groups = self.batch_groups(batch_id)?;
        let place = Place::Exchange {
            merged: &merged,
            modified_ms,
        };
        self.write_groups(lake, &groups, &place, summary)?;
        self.lake_transaction(|tx| {
            for sql in [
                include_str!("../../../sql/lake/finish_compaction.sql"),
                include_str!("../../../sql/lake/forget_merges.sql"),
                include_str!("../../../sql/lake/finish_batch.sql"),
            ] {
                tx.execute(sql, [batch_id])
                    .map_err(StoreError::db("recording a compaction"))?;
            }
            Ok(())
        })?;
        summary.compactions += 1;
        summary.merged_groups += merged.len() as u64;
        Ok(())
    }
}

fn new_batch(
    tx: &duckdb::Transaction<'_>,
    lake: &LakeOptions,
    kind: &str,
) -> Result<i64, StoreError> {
    tx.query_row(
        include_str!("../../../sql/lake/insert_batch.sql"),
        duckdb::params![lake.root.to_string_lossy(), lake.node, kind],
        |row| row.get(0),
    )
    .map_err(StoreError::db("starting a publish"))
}

/// A (batch, month) row.
fn group(row: &duckdb::Row<'_>) -> duckdb::Result<Group> {
    Ok((row.get(0)?, row.get(1)?))
}

/// Fills in a placed file's size and time.
fn placed(mut file: LakeFile, path: &Path) -> Result<LakeFile, StoreError> {
    let metadata = fs::metadata(path).map_err(lake_error(path, "reading"))?;
    file.bytes = metadata.len() as i64;
    file.modified_ms = modified_ms(&metadata);
    Ok(file)
}

/// The files in `dir` of the groups' batches, by name.
fn group_files(dir: &Path, node: &str, batches: &[i64]) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(lake_error(dir, "listing")(e)),
    };
    let names: Vec<String> = batches.iter().map(|&b| file_name(node, b)).collect();
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(lake_error(dir, "listing"))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if names.iter().any(|n| *name == **n) {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// The live directory of one dataset, month and node.
fn live_dir(lake: &LakeOptions, dataset: &str, month: &str) -> PathBuf {
    lake.root
        .join(dataset)
        .join(format!("month={month}"))
        .join(format!("node={}", lake.node))
}

/// Renames each staged file over its group's file, then removes the group's files that
/// were not written again (a dataset left with no rows).
fn place_live(
    lake: &LakeOptions,
    groups: &[Group],
    files: Vec<(LakeFile, PathBuf)>,
) -> Result<Vec<LakeFile>, StoreError> {
    let mut written = Vec::with_capacity(files.len());
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (file, staged) in files {
        let target = lake.root.join(&file.path);
        let dir = target.parent().map(Path::to_owned).unwrap_or_default();
        fs::create_dir_all(&dir).map_err(lake_error(&dir, "creating"))?;
        sync(&staged)?;
        fs::rename(&staged, &target).map_err(lake_error(&target, "renaming into place"))?;
        step();
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
        written.push(placed(file, &target)?);
    }
    for (dataset, _, _) in DATASETS {
        for (batch_id, month) in groups {
            let dir = live_dir(lake, dataset, month);
            for stale in group_files(&dir, &lake.node, &[*batch_id])? {
                let kept = written.iter().any(|f| lake.root.join(&f.path) == stale);
                if !kept {
                    fs::remove_file(&stale).map_err(lake_error(&stale, "removing"))?;
                    if !dirs.contains(&dir) {
                        dirs.push(dir.clone());
                    }
                }
            }
        }
    }
    for dir in &dirs {
        sync(dir)?;
    }
    Ok(written)
}

/// A compaction: per dataset and month, a new directory with the new files and hard links
/// to every live file but the merged groups' (and an earlier try's), exchanged with the live
/// directory in one step; the new files keep the merged files' newest modification time.
fn place_exchange(
    lake: &LakeOptions,
    groups: &[Group],
    merged: &[Group],
    files: Vec<(LakeFile, PathBuf)>,
    modified_ms: i64,
) -> Result<Vec<LakeFile>, StoreError> {
    let swap_root = lake.root.join(STAGING_DIR).join(&lake.node).join("swap");
    let mut written = Vec::with_capacity(files.len());
    for (dataset, _, _) in DATASETS {
        for (batch_id, month) in groups {
            let live = live_dir(lake, dataset, month);
            let mine: Vec<&(LakeFile, PathBuf)> = files
                .iter()
                .filter(|(f, _)| f.dataset == dataset && f.month == *month)
                .collect();
            if !live.exists() && mine.is_empty() {
                continue;
            }
            fs::create_dir_all(&live).map_err(lake_error(&live, "creating"))?;
            let swap = swap_root.join(dataset).join(month);
            fs::create_dir_all(&swap).map_err(lake_error(&swap, "creating"))?;
            let mut dropped: Vec<i64> = merged
                .iter()
                .filter(|(_, m)| m == month)
                .map(|(b, _)| *b)
                .collect();
            dropped.push(*batch_id);
            let dropped = group_files(&live, &lake.node, &dropped)?;
            for entry in fs::read_dir(&live).map_err(lake_error(&live, "listing"))? {
                let entry = entry.map_err(lake_error(&live, "listing"))?;
                if !dropped.contains(&entry.path()) {
                    let link = swap.join(entry.file_name());
                    fs::hard_link(entry.path(), &link).map_err(lake_error(&link, "linking"))?;
                }
            }
            for (file, staged) in mine {
                let name = Path::new(&file.path)
                    .file_name()
                    .map(Path::new)
                    .unwrap_or(Path::new(""));
                let target = swap.join(name);
                fs::rename(staged, &target).map_err(lake_error(&target, "renaming"))?;
                let time = UNIX_EPOCH + Duration::from_millis(modified_ms.max(0) as u64);
                fs::File::options()
                    .write(true)
                    .open(&target)
                    .and_then(|f| {
                        f.set_modified(time)?;
                        f.sync_all()
                    })
                    .map_err(lake_error(&target, "syncing"))?;
            }
            sync(&swap)?;
            exchange(&swap, &live)?;
            step();
            sync(live.parent().unwrap_or(&live))?;
            fs::remove_dir_all(&swap).map_err(lake_error(&swap, "removing"))?;
        }
    }
    for (file, staged) in files {
        let target = lake.root.join(&file.path);
        debug_assert!(!staged.exists());
        written.push(placed(file, &target)?);
    }
    Ok(written)
}
