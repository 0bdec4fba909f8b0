//! Running the real `rua` binary against temporary databases.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const RUA: &str = env!("CARGO_BIN_EXE_rua");

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("rua-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("rua.duckdb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn rua(db: &Path, args: &[&str]) -> Output {
    Command::new(RUA)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUA_DB")
        .env_remove("RUA_LOG")
        .output()
        .unwrap()
}

/// Runs rua and asserts its exit code.
pub fn rua_ok(db: &Path, args: &[&str], code: i32) -> Output {
    let out = rua(db, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "rua {args:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Rows of a query as CSV fields (no field may contain a comma or quote).
pub fn sql(db: &Path, query: &str) -> Vec<Vec<String>> {
    let out = rua_ok(db, &["sql", "--format", "csv", query], 0);
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// A single number from a query.
pub fn number(db: &Path, query: &str) -> i64 {
    let rows = sql(db, query);
    rows[0][0]
        .parse()
        .unwrap_or_else(|_| panic!("{query} gave {rows:?}"))
}

/// Every stored report's record rows agree with its own counts (no partial report).
pub fn assert_no_partial_report(db: &Path) {
    let bad = sql(
        db,
        "SELECT r.report_key, r.n_records, count(rec.report_key), r.n_messages, coalesce(sum(rec.message_count), 0)
         FROM reports r LEFT JOIN records rec USING (report_key)
         GROUP BY ALL
         HAVING r.n_records <> count(rec.report_key) OR r.n_messages <> coalesce(sum(rec.message_count), 0)",
    );
    assert!(
        bad.is_empty(),
        "reports whose rows disagree with their counts: {bad:?}"
    );
}
