//! Failure reports end to end: `rua ingest` reads each into `failure_reports` once by its
//! content, keeps the original's headers but not its body unless configured, `rua summary
//! --by failure` adds up, and `rua reparse` reads the ones an older rua kept aside.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{RUA, TempDir, number, rua_ok, sql};
use rua_testkit::corpus;

const OK: i32 = 0;
const REJECTS: i32 = 1;

/// rua with a configuration file that keeps failure report bodies.
fn rua_keeping_bodies(dir: &Path, db: &Path, args: &[&str]) -> std::process::Output {
    let config = dir.join("keep.toml");
    std::fs::write(&config, "[database]\nkeep_failure_bodies = true\n").unwrap();
    Command::new(RUA)
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RUA_DB")
        .env_remove("RUA_LOG")
        .env("RUA_OFFLINE", "1")
        .output()
        .unwrap()
}

#[test]
fn failure_reports_are_stored_once_with_their_headers_and_no_body_by_default() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("failure");
    let db = dir.db();
    let forensic = corpus.join("forensic");
    let forensic = forensic.to_str().unwrap();
    // Ten mails: nine ARF reports, one of them the same report with other line endings
    // (stored once), and Exim's plain-text notice, which is no ARF report (kept as a reject).
    rua_ok(&db, &["ingest", forensic], REJECTS);
    let run = "SELECT n_other, n_duplicates, n_rejects FROM ingest_runs";
    assert_eq!(sql(&db, run), [["8", "1", "1"]]);
    assert_eq!(
        sql(
            &db,
            "SELECT count(*), count(original_headers), count(original_subject), count(original_body_gz), count(raw_gz)
             FROM failure_reports"
        ),
        // mail-auth's 002.eml has an empty line inside the original's headers: what follows
        // it (To, Subject) is the original's body, as RFC 5322 reads it.
        [["8", "8", "7", "0", "0"]]
    );
    let linkedin = sql(
        &db,
        "SELECT feedback_type, auth_failure, source_ip, reported_domain, original_from, delivery_result
         FROM failure_reports WHERE original_to = 'recipient@linkedin.com'",
    );
    assert_eq!(
        linkedin,
        [[
            "auth-failure",
            "dmarc",
            "10.10.10.10",
            "example.com",
            "sender@example.com",
            "delivered"
        ]]
    );
    // An address followed by its host name is read as the address.
    assert_eq!(
        number(
            &db,
            "SELECT count(*) FROM failure_reports WHERE source_ip = '148.163.85.135'"
        ),
        1
    );
    // Again: nothing new.
    rua_ok(&db, &["ingest", forensic], REJECTS);
    assert_eq!(number(&db, "SELECT count(*) FROM failure_reports"), 8);
    // The summary adds up.
    assert_eq!(
        number(&db, "SELECT sum(reports) FROM summary_by_failure"),
        8
    );
    let out = rua_ok(
        &db,
        &[
            "summary",
            "--by",
            "failure",
            "--domain",
            "domain.de",
            "--format",
            "csv",
        ],
        OK,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("domain.de,10.10.10.10,1,dmarc,smg-policy-action,Subject,"),
        "{text}"
    );

    // With keep_failure_bodies, the body and the whole mail are kept too.
    let kept = dir.0.join("kept.duckdb");
    let out = rua_keeping_bodies(&dir.0, &kept, &["ingest", forensic]);
    assert_eq!(out.status.code(), Some(REJECTS));
    assert_eq!(
        sql(
            &kept,
            "SELECT count(*), count(original_body_gz), count(raw_gz) FROM failure_reports"
        ),
        // Three of the eight hold only the original's headers (text/rfc822-headers, or
        // headers the report cut short): no body to keep.
        [["8", "5", "8"]]
    );
}

#[test]
fn reparse_reads_the_failure_reports_an_older_rua_kept_aside() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("failure-reparse");
    let db = dir.db();
    let forensic = corpus.join("forensic");
    // Kept with their mails, so that they can be put back where an older rua had them.
    let out = rua_keeping_bodies(&dir.0, &db, &["ingest", forensic.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(REJECTS));
    let fields = "SELECT feedback_type, source_ip, reported_domain, original_subject, content_hash
                  FROM failure_reports ORDER BY content_hash";
    let expected = sql(&db, fields);
    rua_ok(
        &db,
        &[
            "sql",
            "--write",
            "INSERT INTO other_payloads
               SELECT report_key, ingest_run_id, ingested_at, 'failure', source, source_chain, file_name,
                      message_id, message_subject, message_from, payload_hash, payload_bytes, raw_gz
               FROM failure_reports;
             DELETE FROM failure_reports;",
        ],
        OK,
    );
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 8);
    // Without keep_failure_bodies: read into the table, the bodies no longer kept anywhere.
    rua_ok(&db, &["reparse"], OK);
    assert_eq!(sql(&db, fields), expected);
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 0);
    assert_eq!(
        number(
            &db,
            "SELECT count(*) FROM failure_reports WHERE original_body_gz IS NOT NULL OR raw_gz IS NOT NULL"
        ),
        0
    );
}
