//! The Parquet lake end to end (`rua export --incremental`): two nodes that share some of
//! the corpus's reports publish in several passes into one directory; a publish killed at
//! its 1st, 2nd, 3rd, 5th, 8th... step and run again; `rua reparse` and a compaction; the
//! lake read by pyarrow and by Spark itself (local mode, tests/support/lake_read.py), batch
//! and streaming, whose figures must equal the databases' own.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{RUA, TempDir, rua, rua_command, rua_ok, sql};
use serde_json::Value;

/// Each report's identity and messages, as the database holds them.
const IDENTITIES: &str = "SELECT report_identity(org_name, org_email, report_id, policy_domain, \
     begin_at, end_at), n_messages FROM counted_reports";

/// The README's DuckDB query over the lake (`{lake}` is the lake's root).
const DEDUP_DUCKDB: &str = "WITH records AS (FROM read_parquet('{lake}/records/**/*.parquet', hive_partitioning = true)), \
     reports AS (FROM read_parquet('{lake}/reports/**/*.parquet', hive_partitioning = true)), \
     firsts AS (SELECT report_identity, min(node) AS node FROM reports GROUP BY report_identity) \
     SELECT (SELECT count(*) FROM firsts), sum(r.message_count) \
     FROM records r JOIN firsts f ON r.report_identity = f.report_identity AND r.node = f.node";

/// pyarrow, and for Spark a Java runtime and pyspark (`make test-deps`).
fn have(what: &str, modules: &str, java: bool) -> bool {
    let java_ok = !java
        || Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    common::available(what, java_ok && common::python_has(modules))
}

fn read_lake(lake: &Path, args: &[&str]) -> Value {
    let script = rua_testkit::repo_root().join("tests/support/lake_read.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(lake)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lake_read.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A node: its database and configuration.
struct Node {
    name: &'static str,
    db: PathBuf,
    config: PathBuf,
}

impl Node {
    fn new(dir: &Path, name: &'static str) -> Node {
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!("[lake]\nnode = \"{name}\"\ncompact_min_files = 2\ncompact_after = \"off\"\n"),
        )
        .unwrap();
        Node {
            name,
            db: dir.join(format!("{name}.duckdb")),
            config,
        }
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--config", self.config.to_str().unwrap(), "-v"];
        all.extend_from_slice(args);
        all
    }

    fn ingest(&self, files: &[PathBuf]) {
        let mut args = self.args(&["ingest", "-q"]);
        args.extend(files.iter().map(|p| p.to_str().unwrap()));
        let out = rua(&self.db, &args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    }

    fn publish(&self, lake: &Path, extra: &[&str]) -> String {
        let mut args = self.args(&["export", "--incremental", "-o", lake.to_str().unwrap()]);
        args.extend_from_slice(extra);
        let out = rua_ok(&self.db, &args, 0);
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Publishes, killed (aborted) at its 1st, 2nd, 3rd, 5th, 8th... step (a commit, a file
    /// written, renamed or exchanged) and run again, each run first finishing what the
    /// killed one left, until a run gets to its end; returns the number of kills.
    fn publish_killed(&self, lake: &Path, extra: &[&str]) -> u32 {
        let (mut kill_at, mut next) = (1u32, 2u32);
        let mut kills = 0;
        loop {
            let mut args = self.args(&["export", "--incremental", "-o", lake.to_str().unwrap()]);
            args.extend_from_slice(extra);
            let out = rua_command(&self.db, &args)
                .env("RUA_LAKE_KILL_AT", kill_at.to_string())
                .output()
                .unwrap();
            if out.status.success() {
                return kills;
            }
            assert_eq!(out.status.code(), None, "killed, not failed: {out:?}");
            kills += 1;
            (kill_at, next) = (next, kill_at + next);
            assert!(kills < 30, "the publish never finished");
        }
    }

    /// Records and messages, as `report_records` counts them.
    fn totals(&self) -> (i64, i64) {
        let row = &sql(
            &self.db,
            "SELECT count(*), coalesce(sum(message_count), 0) FROM report_records",
        )[0];
        (row[0].parse().unwrap(), row[1].parse().unwrap())
    }

    fn count(&self, query: &str) -> i64 {
        common::number(&self.db, query)
    }

    fn identities(&self) -> HashMap<String, i64> {
        sql(&self.db, IDENTITIES)
            .into_iter()
            .map(|r| (r[0].clone(), r[1].parse().unwrap()))
            .collect()
    }
}

/// What a reader found for one node in one dataset: rows, duplicates (and messages).
fn figures(read: &Value, dataset: &str, node: &str) -> (i64, i64, Option<i64>) {
    let f = &read[dataset][node];
    (
        f["rows"].as_i64().unwrap_or(0),
        f["duplicates"].as_i64().unwrap_or(-1),
        f["messages"].as_i64(),
    )
}

/// Every dataset of the lake holds each node's rows exactly once.
fn assert_lake_matches(read: &Value, nodes: &[&Node], reader: &str) {
    for node in nodes {
        let (records, messages) = node.totals();
        assert_eq!(
            figures(read, "records", node.name),
            (records, 0, Some(messages)),
            "{reader}: records of node {}",
            node.name
        );
        for (dataset, count) in [
            ("reports", "SELECT count(*) FROM counted_reports"),
            ("tls_policies", "SELECT count(*) FROM tls_policy_results"),
            ("failure_reports", "SELECT count(*) FROM failure_reports"),
        ] {
            let expected = node.count(count);
            let (rows, duplicates, _) = figures(read, dataset, node.name);
            assert_eq!(
                (rows, duplicates.max(0)),
                (expected, 0),
                "{reader}: {dataset} of node {}",
                node.name
            );
        }
    }
}

/// Distinct reports and their messages across the nodes, the first node's copy of each.
fn deduplicated(nodes: &[&Node]) -> (i64, i64) {
    let mut all: HashMap<String, i64> = HashMap::new();
    for node in nodes {
        for (identity, messages) in node.identities() {
            all.entry(identity).or_insert(messages);
        }
    }
    (all.len() as i64, all.values().sum())
}

/// The lake's files as the database recorded them, and as they are on disk.
fn lake_files(node: &Node, lake: &Path) -> (Vec<String>, Vec<String>) {
    let mut recorded: Vec<String> = sql(&node.db, "SELECT path FROM lake_files ORDER BY path")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    recorded.sort();
    let mut on_disk: Vec<String> = rua_testkit::files_below(lake)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p.contains(&format!("/node={}/", node.name)))
        .collect();
    on_disk.sort();
    (recorded, on_disk)
}

#[test]
fn two_nodes_publish_once_through_kills_reparse_and_compaction_and_spark_reads_it() {
    let Some(corpus) = rua_testkit::corpus() else {
        return;
    };
    if !have("pyarrow", "pyarrow", false) {
        return;
    }
    let dir = TempDir::new("lake");
    let lake = dir.0.join("lake");
    let a = Node::new(&dir.0, "a");
    let b = Node::new(&dir.0, "b");

    // The corpus's aggregate reports: a tenth kept for the streaming test, the rest shared
    // out so that both nodes hold the middle third.
    let below = |kind: &str| -> Vec<PathBuf> {
        let dir = corpus.join(kind);
        rua_testkit::files_below(&dir)
            .into_iter()
            .map(|p| dir.join(p))
            .collect()
    };
    let files = below("aggregate");
    let (rest, streamed) = files.split_at(files.len() * 9 / 10);
    let third = rest.len() / 3;
    let (a1, a2) = (&rest[..third], &rest[third..2 * third]);
    let (b1, b2) = (&rest[third..2 * third], &rest[2 * third..]);

    a.ingest(a1);
    a.publish(&lake, &[]);
    b.ingest(b1);
    b.publish(&lake, &[]);
    a.ingest(a2);
    let said = a.publish(&lake, &[]);
    assert!(said.contains("new reports"), "{said}");

    // Node b's second publish (aggregate, TLS and failure reports), killed at its 1st, 2nd,
    // 3rd, 5th, 8th... step (a commit, a file written, renamed or exchanged) and run again,
    // each run first finishing what the killed one left, until a run gets to its end.
    let mut more = b2.to_vec();
    more.extend(below("smtp_tls"));
    more.extend(below("forensic"));
    b.ingest(&more);
    let kills = b.publish_killed(&lake, &[]);
    assert!(kills >= 6, "only {kills} kills");
    eprintln!("node b's publish was killed {kills} times");
    assert_eq!(
        b.count("SELECT count(*) FROM lake_batches WHERE state <> 'done'"),
        0
    );
    let read = read_lake(&lake, &["pyarrow"]);
    assert_lake_matches(&read, &[&a, &b], "pyarrow after the kills");

    // Nothing new: nothing written.
    let said = b.publish(&lake, &[]);
    assert!(said.contains("published 0 new reports"), "{said}");

    // `rua reparse` replaces node a's rows in place: the next publish writes exactly the
    // changed groups again, under the same names.
    let (before, _) = lake_files(&a, &lake);
    rua_ok(&a.db, &a.args(&["reparse", "-q"]), 0);
    let changed =
        a.count("SELECT count(DISTINCT (batch_id, month)) FROM lake_reports WHERE changed");
    assert!(changed > 0);
    let said = a.publish(&lake, &[]);
    assert!(
        said.contains(&format!("wrote {changed} file group(s) again")),
        "{said}"
    );
    assert_eq!(lake_files(&a, &lake).0, before, "same files, replaced");

    // The README's DuckDB query counts each report once.
    let dedup = deduplicated(&[&a, &b]);
    let query = DEDUP_DUCKDB.replace("{lake}", lake.to_str().unwrap());
    let row = &sql(&a.db, &query)[0];
    assert_eq!((row[0].parse().unwrap(), row[1].parse().unwrap()), dedup);
    assert!(
        dedup.0
            < a.count("SELECT count(*) FROM counted_reports")
                + b.count("SELECT count(*) FROM counted_reports")
    );

    // A compaction merges the months where node a's two publishes both have a file: the same
    // rows after it. With Spark, it runs while a stream watches (below); without, here.
    let compact = |a: &Node| {
        let said = a.publish(&lake, &["--compact-after", "2s"]);
        assert!(said.contains("merged"), "{said}");
    };
    let spark = have("Spark (a Java runtime and pyspark)", "pyspark", true);
    if !spark {
        std::thread::sleep(std::time::Duration::from_secs(3));
        a.ingest(streamed);
        compact(&a);
    } else {
        // Spark: batch figures; then a stream, started before node a's next publish, sees
        // exactly its rows; then a compaction of the older files, which the stream (its
        // maxFileAge under compact_after) must not read again.
        let (records_before, messages_before) = a.totals();
        let rua_argv = |args: Vec<&str>| -> Vec<String> {
            let mut argv = vec![RUA.to_owned(), "--db".into(), a.db.display().to_string()];
            argv.extend(a.args(&args).iter().map(|s| s.to_string()));
            argv
        };
        let mut ingest = rua_argv(vec!["ingest", "-q"]);
        ingest.extend(streamed.iter().map(|p| p.display().to_string()));
        let publish = rua_argv(vec![
            "export",
            "--incremental",
            "-o",
            lake.to_str().unwrap(),
        ]);
        let compaction = rua_argv(vec![
            "export",
            "--incremental",
            "-o",
            lake.to_str().unwrap(),
            "--compact-after",
            "2s",
        ]);
        let commands = dir.0.join("stream-commands.json");
        let phases = serde_json::json!({"publish": [ingest, publish], "compact": [compaction]});
        std::fs::write(&commands, phases.to_string()).unwrap();
        let read = read_lake(&lake, &["spark", commands.to_str().unwrap()]);
        eprintln!("spark: {read}");
        let (records_after, messages_after) = a.totals();
        assert!(records_after > records_before);
        let stream = &read["stream"];
        assert_eq!(
            (
                stream["new_rows"].as_i64().unwrap(),
                stream["new_messages"].as_i64().unwrap()
            ),
            (
                records_after - records_before,
                messages_after - messages_before
            ),
            "the stream saw exactly the new rows"
        );
        assert_eq!(
            stream["rows_after_compaction"].as_i64(),
            Some(0),
            "the stream read a compacted file again"
        );
        let (b_records, _) = b.totals();
        assert_eq!(
            stream["initial_rows"].as_i64().unwrap(),
            records_before + b_records
        );
        assert_lake_matches(&read["after"], &[&a, &b], "Spark");
        let dedup = deduplicated(&[&a, &b]);
        assert_eq!(
            (
                read["after"]["dedup"]["reports"].as_i64().unwrap(),
                read["after"]["dedup"]["messages"].as_i64().unwrap()
            ),
            dedup,
            "Spark's count of each report once"
        );
    }
    let (recorded, on_disk) = lake_files(&a, &lake);
    assert_eq!(recorded, on_disk);
    assert!(a.count("SELECT count(*) FROM lake_batches WHERE kind = 'compact'") > 0);
    // The merged files keep their newest modification time, older than the newest publish's.
    assert!(
        a.count(
            "SELECT count(*) FROM lake_files f JOIN lake_batches b USING (batch_id) \
             WHERE b.kind = 'compact' AND f.modified_ms > (SELECT max(modified_ms) FROM lake_files \
             WHERE batch_id = (SELECT max(batch_id) FROM lake_batches WHERE kind = 'publish')) - 2000"
        ) == 0
    );
    let read = read_lake(&lake, &["pyarrow"]);
    assert_lake_matches(&read, &[&a, &b], "pyarrow after the compaction");
}

#[test]
fn a_compaction_killed_at_any_step_leaves_every_row_once() {
    let Some(corpus) = rua_testkit::corpus() else {
        return;
    };
    if !have("pyarrow", "pyarrow", false) {
        return;
    }
    let dir = TempDir::new("lake-compact");
    let lake = dir.0.join("lake");
    let a = Node::new(&dir.0, "a");
    let aggregate = corpus.join("aggregate");
    let files: Vec<PathBuf> = rua_testkit::files_below(&aggregate)
        .into_iter()
        .map(|p| aggregate.join(p))
        .collect();
    // Two publishes of alternate files, so that most months have a file of each.
    let (even, odd): (Vec<_>, Vec<_>) = files
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    for half in [even, odd] {
        a.ingest(&half.into_iter().map(|(_, p)| p).collect::<Vec<_>>());
        a.publish(&lake, &[]);
    }
    let (before, _) = lake_files(&a, &lake);
    let kills = a.publish_killed(&lake, &["--compact-after", "0s"]);
    assert!(kills >= 6, "only {kills} kills");
    eprintln!("the compaction was killed {kills} times");
    assert_eq!(
        a.count("SELECT count(*) FROM lake_batches WHERE state <> 'done'"),
        0
    );
    assert!(a.count("SELECT count(*) FROM lake_batches WHERE kind = 'compact'") > 0);
    let (recorded, on_disk) = lake_files(&a, &lake);
    assert_eq!(recorded, on_disk);
    assert!(
        recorded.len() < before.len(),
        "{} files, were {}",
        recorded.len(),
        before.len()
    );
    assert!(
        !lake.join("_rua_staging/a").exists()
            || rua_testkit::files_below(&lake.join("_rua_staging/a")).is_empty()
    );
    let read = read_lake(&lake, &["pyarrow"]);
    assert_lake_matches(&read, &[&a], "pyarrow after the killed compaction");
}

#[test]
fn a_database_publishes_to_one_lake_as_one_node() {
    let dir = TempDir::new("lake-node");
    let db = dir.db();
    let samples = rua_testkit::sample_reports();
    rua_ok(&db, &["ingest", "-q", samples.to_str().unwrap()], 1);
    let lake = dir.0.join("lake");
    let lake = lake.to_str().unwrap();
    let out = rua(
        &db,
        &["export", "--incremental", "-o", lake, "--node", "../x"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid node name"));
    rua_ok(
        &db,
        &["export", "--incremental", "-o", lake, "--node", "mx1"],
        0,
    );
    // The same directory by another name is the same lake.
    let again = format!("{lake}/../lake");
    rua_ok(
        &db,
        &["export", "--incremental", "-o", &again, "--node", "mx1"],
        0,
    );
    let out = rua(
        &db,
        &["export", "--incremental", "-o", lake, "--node", "mx2"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("publishes to"),
        "{out:?}"
    );
    let published = common::number(&db, "SELECT count(*) FROM lake_reports");
    assert_eq!(
        published,
        common::number(
            &db,
            "SELECT (SELECT count(*) FROM counted_reports) + (SELECT count(*) FROM counted_tls_reports) \
             + (SELECT count(*) FROM failure_reports)"
        )
    );
    // `[lake] path`: ingest publishes after its commit.
    let config = dir.0.join("rua.toml");
    let other = dir.0.join("lake2");
    std::fs::write(
        &config,
        format!("[lake]\npath = \"{}\"\nnode = \"mx1\"\n", other.display()),
    )
    .unwrap();
    let db2 = dir.0.join("second.duckdb");
    let out = rua_ok(
        &db2,
        &[
            "--config",
            config.to_str().unwrap(),
            "-v",
            "ingest",
            samples.to_str().unwrap(),
        ],
        1,
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("published"), "{said}");
    let written = rua_testkit::files_below(&other.join("records")).len();
    // `rua config check` shows the lake (and then fails for want of a mailbox).
    let out = rua(
        &db2,
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains(&format!(
            "lake: {} as node mx1; merges small files 14d older than the newest",
            other.display()
        )),
        "{shown}"
    );
    assert!(written > 0);
}
