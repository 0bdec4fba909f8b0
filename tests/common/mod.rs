//! Running the real `rua` binary against temporary databases.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod dnsmasq;
pub mod dovecot;

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

/// Whether python3 can import `modules` (comma-separated).
pub fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success())
}

/// `present`, saying so when it is not: outside CI a missing tool skips the test; under CI
/// (`CI=true`) it is a failure.
pub fn available(what: &str, present: bool) -> bool {
    if !present {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{what} missing (make test-deps installs it)"
        );
        eprintln!("skipping: {what} missing (make test-deps installs it)");
    }
    present
}

pub fn rua(db: &Path, args: &[&str]) -> Output {
    rua_command(db, args).output().unwrap()
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

/// Runs `command` and returns its output with the peak resident memory of its process in
/// bytes (measured by tests/support/peak_rss.py from the kernel's own account).
pub fn peak_rss(command: &Command) -> (Output, u64) {
    let script = rua_testkit::repo_root().join("tests/support/peak_rss.py");
    let report = std::env::temp_dir().join(format!(
        "rua-peak-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut wrapped = Command::new("python3");
    wrapped
        .arg(script)
        .arg(&report)
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    let output = wrapped.output().unwrap();
    let peak = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no peak from {command:?}: {e}; {output:?}"))
        .parse()
        .unwrap();
    let _ = std::fs::remove_file(&report);
    (output, peak)
}

/// `rua --db DB ARGS` as a command, with nothing from the environment or a configuration.
pub fn rua_command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(RUA);
    command
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUA_DB")
        .env_remove("RUA_LOG")
        // No configuration file of the machine's: an empty one.
        .env("RUA_CONFIG", "/dev/null")
        // No DNS: the enrichment tests start their own server and say so.
        .env("RUA_OFFLINE", "1");
    command
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

/// Every input below `dir` unpacked and parsed by the library crates alone (no binary, no
/// store), in the order `rua ingest` meets them.
#[derive(Default)]
pub struct Walked {
    /// Aggregate payloads that parse, with their records.
    pub parsed: Vec<(
        rua_report::aggregate::Report,
        Vec<rua_report::aggregate::Record>,
    )>,
    /// Payloads and inputs that cannot be read as reports (rua's rejects).
    pub n_unreadable: usize,
}

impl rua_unpack::Visitor for Walked {
    type Error = std::convert::Infallible;

    fn payload(&mut self, p: rua_unpack::Payload<'_>) -> Result<(), Self::Error> {
        use rua_unpack::PayloadKind;
        match p.kind {
            PayloadKind::Aggregate => {
                let mut records = Vec::new();
                let Ok(parsed) = rua_report::aggregate::parse(
                    &mut *p.reader,
                    &mut |r: &rua_report::aggregate::Record| records.push(r.clone()),
                );
                match parsed {
                    Ok(report) => self.parsed.push((report, records)),
                    Err(_) => self.n_unreadable += 1,
                }
            }
            PayloadKind::NotReport => self.n_unreadable += 1,
            PayloadKind::SmtpTls | PayloadKind::Failure => {}
        }
        Ok(())
    }

    fn reject(
        &mut self,
        _: &rua_unpack::Provenance,
        _: rua_unpack::UnpackError,
        _: Option<&[u8]>,
    ) -> Result<(), Self::Error> {
        self.n_unreadable += 1;
        Ok(())
    }
}

pub fn walk(dir: &Path) -> Walked {
    let mut walked = Walked::default();
    rua_unpack::unpack_path(dir, &rua_unpack::Limits::default(), &mut walked).unwrap();
    walked
}
