//! `rua fetch` against a real Dovecot started by each test (see common/dovecot.rs); mails are
//! APPENDed and inspected with an independent client (Python's imaplib).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::dovecot::{Dovecot, PASSWORD};
use common::{RUA, TempDir, rua_ok};

const NOTHING_TO_DO: i32 = 5;
const CANNOT_CONNECT: i32 = 4;

fn repo() -> PathBuf {
    rua_testkit::repo_root()
}

/// rua with this configuration file (and nothing from the environment).
fn rua_command(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(RUA);
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("RUA_DB")
        .env_remove("RUA_LOG")
        .env("RUA_OFFLINE", "1");
    command
}

fn rua_config(config: &Path, args: &[&str]) -> Output {
    rua_command(config, args).output().unwrap()
}

fn fetch(config: &Path, expected: &[i32]) -> Output {
    let out = rua_config(config, &["fetch"]);
    assert!(
        expected.contains(&out.status.code().unwrap_or(-1)),
        "rua fetch exited {:?}, expected one of {expected:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What an analyst would compare: counted reports, records, messages, rejects, other reports.
fn totals(db: &Path) -> Vec<i64> {
    let row = &common::sql(
        db,
        "SELECT (SELECT count(*) FROM reports WHERE conflict_of IS NULL),
                (SELECT count(*) FROM records),
                (SELECT coalesce(sum(message_count), 0) FROM records),
                (SELECT count(*) FROM rejects),
                (SELECT count(*) FROM other_payloads)",
    )[0];
    row.iter().map(|v| v.parse().unwrap()).collect()
}

fn stored_message_ids(db: &Path) -> std::collections::HashSet<String> {
    common::sql(
        db,
        "SELECT message_id FROM reports WHERE message_id IS NOT NULL
         UNION SELECT message_id FROM rejects WHERE message_id IS NOT NULL
         UNION SELECT message_id FROM other_payloads WHERE message_id IS NOT NULL",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

fn corpus_inputs(corpus: &Path) -> Vec<PathBuf> {
    let aggregate = corpus.join("aggregate");
    let mut files: Vec<PathBuf> = rua_testkit::files_below(&aggregate)
        .into_iter()
        .map(|p| aggregate.join(p))
        .collect();
    files.sort();
    files
}

#[test]
fn fetch_ingests_what_a_local_ingest_does_and_acts_only_after_commit() {
    let Some(server) = Dovecot::start("fetch") else {
        return;
    };
    let Some(corpus) = rua_testkit::corpus() else {
        return;
    };
    let dir = TempDir::new("imap-fetch");
    let saved = dir.0.join("saved");
    let samples = repo().join("sample-reports");
    let mut inputs = vec![samples.join("containers"), samples.join("aggregate")];
    inputs.extend(corpus_inputs(&corpus));
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let n_appended = server.append("INBOX", &saved, &inputs);
    assert!(n_appended > 1600, "{n_appended}");

    let db = dir.0.join("fetched.duckdb");
    let config = server.config(
        &db,
        "after = { report = { move = \"Archive\" }, rejected = { flag = \"\\\\Flagged\" }, no_report = \"delete\" }",
    );
    fetch(&config, &[1]);

    // The same mails read from files give the same database.
    let local = dir.0.join("local.duckdb");
    rua_ok(&local, &["ingest", saved.to_str().unwrap()], 1);
    let fetched = totals(&db);
    assert_eq!(
        fetched,
        totals(&local),
        "fetched vs local: reports, records, messages, rejects, others"
    );
    assert!(fetched[0] > 1500 && fetched[3] > 0, "{fetched:?}");
    common::assert_no_partial_report(&db);
    // The fetch enriched what it committed (offline here: every address has its row).
    assert_eq!(
        common::number(&db, "SELECT count(DISTINCT source_ip) FROM records"),
        common::number(
            &db,
            "SELECT count(*) FROM ip_info WHERE status = 'not_looked_up'"
        )
    );
    let n_imap_sources = common::number(
        &db,
        &format!(
            "SELECT count(*) FROM reports WHERE source LIKE 'imap://dmarc@127.0.0.1:{}/INBOX;UIDVALIDITY=%;UID=%'",
            server.imaps_port
        ),
    );
    assert_eq!(
        n_imap_sources,
        fetched[0]
            + common::number(
                &db,
                "SELECT count(*) FROM reports WHERE conflict_of IS NOT NULL"
            )
    );

    // After-actions: report mails archived, rejected ones flagged in place, mails without a
    // report deleted (they are kept in `rejects`).
    let archived = server.messages("Archive");
    let inbox = server.messages("INBOX");
    let is_flagged = |flags: &Vec<String>, f: &str| flags.iter().any(|x| x == f);
    assert!(!inbox.is_empty() && !archived.is_empty());
    assert!(
        inbox.iter().all(|m| is_flagged(&m.1, "\\Flagged")),
        "only rejected mails stay, flagged: {inbox:?}"
    );
    let n_deleted = n_appended - archived.len() - inbox.len();
    let n_kept_not_report = common::number(
        &db,
        "SELECT count(*) FROM rejects WHERE payload_kind = 'not_report' AND source_chain = 'message'",
    );
    assert!(n_deleted > 0, "mails without a report were deleted");
    assert!(
        n_kept_not_report >= 1 && n_deleted as i64 >= n_kept_not_report,
        "deleted {n_deleted}, kept {n_kept_not_report}"
    );
    assert!(
        archived.iter().all(|m| m.1.iter().all(|f| f != "\\Seen")),
        "BODY.PEEK leaves mail unseen"
    );

    // A second run has nothing to do; the database is unchanged.
    fetch(&config, &[NOTHING_TO_DO]);
    assert_eq!(totals(&db), fetched);
    let last_run = common::sql(
        &db,
        "SELECT command, status, n_payloads FROM ingest_runs ORDER BY run_id DESC LIMIT 1",
    );
    assert_eq!(last_run[0], ["fetch", "ok", "0"]);
}

#[test]
fn read_only_mode_rereads_nothing_and_a_new_uidvalidity_rescans_without_duplicating() {
    let Some(server) = Dovecot::start("readonly") else {
        return;
    };
    let dir = TempDir::new("imap-readonly");
    let containers = repo().join("sample-reports/containers");
    let n = server.append("Reports", &dir.0.join("saved"), &[containers.as_path()]);
    let before = server.messages("Reports");
    let db = dir.0.join("rua.duckdb");
    // STARTTLS on the plain port, AUTHENTICATE PLAIN, EXAMINE.
    let config = server.config(
        &db,
        "folder = \"Reports\"\nread_only = true\nauth = \"plain\"\nsecurity = \"starttls\"",
    );
    let config = {
        let text = std::fs::read_to_string(&config).unwrap().replace(
            &format!("port = {}", server.imaps_port),
            &format!("port = {}", server.imap_port),
        );
        std::fs::write(&config, text).unwrap();
        config
    };
    fetch(&config, &[0, 1]);
    let first = totals(&db);
    assert!(first[0] > 0, "{first:?}");
    assert_eq!(
        server.messages("Reports"),
        before,
        "read-only: no flag, no move, nothing seen"
    );
    assert_eq!(before.len(), n);

    fetch(&config, &[NOTHING_TO_DO]);

    // Deleting and recreating the folder gives it a new UIDVALIDITY: everything is read again
    // and recognized as duplicates.
    server.tool(&["recreate", "Reports"]);
    fetch(&config, &[0, 1]);
    assert_eq!(totals(&db), first);
    // Every report the first run met (new, or a copy of one before it; the SMTP TLS report
    // among them, counted in n_other) is now a duplicate.
    let runs = common::sql(
        &db,
        "SELECT n_reports_new, n_reports_new + n_duplicates + n_conflicts + n_other, n_duplicates
         FROM ingest_runs ORDER BY run_id",
    );
    let (first_run, rescan) = (&runs[0], &runs[runs.len() - 1]);
    assert_eq!(rescan[0], "0", "{runs:?}");
    assert_eq!(rescan[2], first_run[1], "{runs:?}");
}

#[test]
fn killing_the_server_mid_fetch_moves_nothing_before_commit_and_a_rerun_is_exact() {
    let Some(mut server) = Dovecot::start("kill") else {
        return;
    };
    let dir = TempDir::new("imap-kill");
    let saved = dir.0.join("saved");
    // Generated report mails: each holds a different report under its own Message-ID.
    let generated = dir.0.join("generated");
    rua_bench::write_corpus(&generated, 800, 3, Some(rua_bench::Container::Eml)).unwrap();
    let n = server.append("INBOX", &saved, &[generated.as_path()]);
    assert_eq!(n, 800);
    let db = dir.0.join("rua.duckdb");
    let config = server.config(
        &db,
        "batch_size = 25\nafter = { report = { move = \"Archive\" }, rejected = { move = \"Rejected\" }, no_report = { move = \"Rejected\" } }",
    );

    let mut child = rua_command(&config, &["-v", "fetch"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    // Wait until the fetch is under way, then crash the server.
    let started = Instant::now();
    while !rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap()
        .contains("new messages")
    {}
    std::thread::sleep(Duration::from_millis(300));
    server.kill();
    let status = child.wait().unwrap();
    let killed_after = started.elapsed();
    assert_eq!(
        status.code(),
        Some(1),
        "a mailbox failing mid-way is a partial failure"
    );

    server.restart();
    let archived = server.messages("Archive");
    let moved_away = archived.len() + server.messages("Rejected").len();
    eprintln!("killed after {killed_after:?}: {moved_away} of {n} messages had been moved");
    assert!(moved_away < n, "the kill came too late to test anything");
    let stored = stored_message_ids(&db);
    for (uid, _, id) in &archived {
        let id = id.as_ref().unwrap().trim_matches(['<', '>']);
        assert!(
            stored.contains(id),
            "uid {uid} was moved before its report was committed"
        );
    }
    common::assert_no_partial_report(&db);

    fetch(&config, &[0]);
    assert!(server.messages("INBOX").is_empty());
    let local = dir.0.join("local.duckdb");
    rua_ok(&local, &["ingest", saved.to_str().unwrap()], 0);
    let fetched = totals(&db);
    assert_eq!(fetched, totals(&local));
    assert_eq!(fetched[0], 800);
}

#[test]
fn watch_mode_picks_up_new_mail_while_idle_and_survives_a_server_restart() {
    let Some(mut server) = Dovecot::start("watch") else {
        return;
    };
    let dir = TempDir::new("imap-watch");
    let db = dir.0.join("rua.duckdb");
    let config = server.config(&db, "after = { report = { move = \"Archive\" } }");
    let mut watcher = rua_command(&config, &["fetch", "--watch"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let n_reports = |db: &Path| -> i64 {
        if !db.exists() {
            return 0;
        }
        let out = common::rua(
            db,
            &[
                "--lock-timeout",
                "20",
                "sql",
                "--format",
                "csv",
                "SELECT count(*) FROM reports",
            ],
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0)
    };
    let wait_for = |n: i64, limit: Duration| -> Duration {
        let started = Instant::now();
        while n_reports(&db) < n {
            assert!(started.elapsed() < limit, "no report {n} within {limit:?}");
            std::thread::sleep(Duration::from_millis(250));
        }
        started.elapsed()
    };
    std::thread::sleep(Duration::from_secs(2));
    let ok = repo().join("sample-reports/aggregate/ok");
    server.append(
        "INBOX",
        &dir.0.join("saved"),
        &[ok.join("google-np.xml").as_path()],
    );
    let took = wait_for(1, Duration::from_secs(15));
    eprintln!("picked up while idle after {took:?}");

    server.restart();
    server.append(
        "INBOX",
        &dir.0.join("saved"),
        &[ok.join("yahoo-trailing-tabs.xml").as_path()],
    );
    let took = wait_for(2, Duration::from_secs(60));
    eprintln!("picked up after the restart in {took:?}");
    assert_eq!(server.messages("Archive").len(), 2);

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(watcher.id().to_string())
        .status();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = watcher.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "watch did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn wrong_password_wrong_certificate_and_unreachable_hosts_fail_clearly_with_exit_4() {
    let Some(server) = Dovecot::start("failures") else {
        return;
    };
    let dir = TempDir::new("imap-failures");
    let db = dir.0.join("rua.duckdb");
    let good = server.config(&db, "");
    assert_eq!(
        rua_config(&good, &["config", "check"]).status.code(),
        Some(0)
    );

    let n_configs = std::cell::Cell::new(0);
    let rewrite = |from: &str, to: &str| -> PathBuf {
        n_configs.set(n_configs.get() + 1);
        let path = dir.0.join(format!("bad-{}.toml", n_configs.get()));
        let text = std::fs::read_to_string(&good).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
        path
    };
    let expect = |config: &Path, needle: &str| {
        for args in [&["fetch"][..], &["config", "check"][..]] {
            let out = rua_config(config, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(CANNOT_CONNECT),
                "{args:?}: {stderr}"
            );
            assert!(
                stderr.contains(needle),
                "{args:?}: expected {needle:?} in {stderr}"
            );
            assert!(
                !stderr.contains(PASSWORD) && !stderr.contains("not-the-password"),
                "a secret leaked: {stderr}"
            );
        }
    };

    let wrong_password = dir.0.join("wrong-password");
    std::fs::write(&wrong_password, "not-the-password\n").unwrap();
    let secret_line = format!("secret = {{ file = {:?} }}", server.dir.0.join("password"));
    expect(
        &rewrite(
            &secret_line,
            &format!("secret = {{ file = {wrong_password:?} }}"),
        ),
        "refused the login of dmarc",
    );
    let ca_line = format!("ca_file = {:?}", server.ca());
    expect(&rewrite(&ca_line, ""), "invalid peer certificate");
    let port_line = format!("port = {}", server.imaps_port);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    expect(
        &rewrite(&port_line, &format!("port = {closed}")),
        "cannot connect to 127.0.0.1",
    );
    expect(
        &rewrite(
            "host = \"127.0.0.1\"",
            "host = \"192.0.2.1\"\nsecurity = \"plain\"",
        ),
        "refusing plaintext IMAP to 192.0.2.1",
    );
    assert!(!db.exists() || common::number(&db, "SELECT count(*) FROM reports") == 0);

    // A message over the size limit is not downloaded: it is recorded as a reject (without
    // bytes) and left on the server.
    let small = dir.0.join("small-limit.toml");
    let text = std::fs::read_to_string(&good).unwrap().replace(
        "[[mailbox]]",
        "[limits]\nmax_message_bytes = 300\n\n[[mailbox]]",
    );
    std::fs::write(&small, text).unwrap();
    let report = rua_testkit::repo_root().join("sample-reports/aggregate/ok/google-np.xml");
    server.append("INBOX", &dir.0.join("saved"), &[report.as_path()]);
    assert_eq!(rua_config(&small, &["fetch"]).status.code(), Some(1));
    let rows = common::sql(&db, "SELECT reason_code, raw_gz IS NULL FROM rejects");
    assert_eq!(rows, [["limit_message", "true"]]);
    assert_eq!(server.messages("INBOX").len(), 1);
}

#[test]
fn watch_mode_polls_a_server_without_idle() {
    // The capabilities Dovecot announces, minus IDLE.
    let no_idle = "protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS MOVE NAMESPACE\n}\n";
    let Some(server) = Dovecot::start_with("noidle", no_idle) else {
        return;
    };
    let dir = TempDir::new("imap-noidle");
    let db = dir.0.join("rua.duckdb");
    let config = server.config(
        &db,
        "poll_secs = 1\nafter = { report = { move = \"Archive\" } }",
    );
    let watcher = rua_command(&config, &["-v", "fetch", "--watch"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let ok = rua_testkit::repo_root().join("sample-reports/aggregate/ok/google-np.xml");
    server.append("INBOX", &dir.0.join("saved"), &[ok.as_path()]);
    let started = Instant::now();
    while server.messages("Archive").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not picked up by polling"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(watcher.id().to_string())
        .status();
    let out = watcher.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("the server has no IDLE; polling every 1 s"),
        "{stderr}"
    );
    assert_eq!(common::number(&db, "SELECT count(*) FROM reports"), 1);
}
