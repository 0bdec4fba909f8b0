//! SMTP TLS reports end to end: `rua ingest` reads them into their tables exactly once (a
//! copy adds nothing, another report under the same identity is a conflict), an unreadable
//! one is a reject with its bytes, `rua summary --by tls` adds up, and `rua reparse` reads
//! the ones an older rua kept aside in `other_payloads`.

#![allow(clippy::unwrap_used)]

mod common;

use common::{TempDir, number, rua_ok, sql};
use rua_testkit::{corpus, sample_reports};

const OK: i32 = 0;
const REJECTS: i32 = 1;

/// The TLS counts an analyst would compare: reports, conflicts, policies, failure details,
/// and the sessions of the counted reports.
fn tls_totals(db: &std::path::Path) -> Vec<String> {
    sql(
        db,
        "SELECT (SELECT count(*) FROM tls_reports), (SELECT count(*) FROM tls_reports WHERE conflict_of IS NOT NULL),
                (SELECT count(*) FROM tls_policies), (SELECT count(*) FROM tls_failure_details),
                (SELECT coalesce(sum(successful_sessions), 0) FROM tls_policy_results),
                (SELECT coalesce(sum(failed_sessions), 0) FROM tls_policy_results)",
    )[0]
    .clone()
}

#[test]
fn tls_reports_are_stored_once_with_conflicts_flagged_and_rejects_kept() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("tls");
    let db = dir.db();
    let samples = sample_reports().join("smtp-tls");
    let tls_corpus = corpus.join("smtp_tls");
    let inputs = [samples.to_str().unwrap(), tls_corpus.to_str().unwrap()];
    let out = rua_ok(&db, &["ingest", inputs[0], inputs[1]], REJECTS);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truncated.json: not JSON"), "{stderr}");
    // 26 payloads: 4 are copies of another's bytes or values, 2 are the RFC 8460 example
    // under the same identity with other content (kept as conflicts), one is truncated.
    let totals = tls_totals(&db);
    assert_eq!(&totals[..4], ["21", "2", "27", "22"], "{totals:?}");
    assert_eq!(
        sql(&db, "SELECT payload_kind, reason_code FROM rejects"),
        [["smtp_tls", "not_json"]]
    );
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 0);
    // Raw values beside normalized ones, and what was tolerated.
    let lenient = sql(
        &db,
        "SELECT p.policy_type, p.policy_type_raw, p.policy_domain, p.policy_domain_raw, p.successful_sessions
         FROM tls_reports r JOIN tls_policies p USING (report_key)
         WHERE r.report_id = 'quirky-001' AND p.policy_index = 0",
    );
    assert_eq!(
        lenient,
        [["sts", "STS", "acme.example", "Acme.Example.", "42"]]
    );
    assert_eq!(
        number(
            &db,
            "SELECT count(*) FROM tls_report_warnings WHERE code = 'number_as_string'"
        ),
        3
    );
    let ipv6 = sql(
        &db,
        "SELECT sending_mta_ip, sending_mta_ip_raw, receiving_ip FROM tls_failure_details d
         JOIN tls_reports r USING (report_key)
         WHERE r.report_id = '5065427c-23d3-47ca-b6e0-946ea0e8c4be' AND r.organization_name = 'Example Receiver'
         ORDER BY detail_index",
    );
    assert_eq!(
        ipv6,
        [
            [
                "2001:db8:4860:4864:20::2b",
                "2001:db8:4860:4864:20::2b",
                "2001:db8::25"
            ],
            [
                "2001:db8:4860:4864:20::2c",
                "[2001:db8:4860:4864:20::2c]",
                "192.0.2.25"
            ]
        ]
    );

    // The same inputs again add nothing.
    rua_ok(&db, &["ingest", inputs[0], inputs[1]], REJECTS);
    assert_eq!(tls_totals(&db), totals);

    // The summary adds up to the counted reports' sessions.
    let summary = sql(
        &db,
        "SELECT sum(sessions), sum(failed_sessions) FROM summary_by_tls",
    );
    let sessions: i64 = totals[4].parse::<i64>().unwrap() + totals[5].parse::<i64>().unwrap();
    assert_eq!(summary, [[sessions.to_string(), totals[5].clone()]]);
    let out = rua_ok(
        &db,
        &[
            "summary",
            "--by",
            "tls",
            "--domain",
            "example.org",
            "--format",
            "csv",
        ],
        OK,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("example.org,tlsa,1,23,3,87,\"tlsa-invalid 2, starttls-not-supported 1\",2,mx.example.org"),
        "{text}"
    );
}

#[test]
fn reparse_reads_the_tls_reports_an_older_rua_kept_aside() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("tls-reparse");
    let db = dir.db();
    let tls_corpus = corpus.join("smtp_tls");
    let samples = sample_reports().join("smtp-tls");
    rua_ok(
        &db,
        &[
            "ingest",
            samples.to_str().unwrap(),
            tls_corpus.to_str().unwrap(),
        ],
        REJECTS,
    );
    let expected = tls_totals(&db);
    // What a database of an older rua holds: every TLS payload in other_payloads, the
    // unreadable one among them, and nothing in the TLS tables.
    rua_ok(
        &db,
        &[
            "sql",
            "--write",
            "INSERT INTO other_payloads
               SELECT report_key, ingest_run_id, ingested_at, 'smtp_tls', source, source_chain, file_name,
                      message_id, message_subject, message_from, payload_hash, payload_bytes, raw_gz
               FROM tls_reports
             UNION ALL
               SELECT 1000 + reject_key, ingest_run_id, rejected_at, 'smtp_tls', source, source_chain, file_name,
                      message_id, message_subject, message_from, payload_hash, payload_bytes, raw_gz
               FROM rejects;
             DELETE FROM tls_failure_details; DELETE FROM tls_policies; DELETE FROM tls_report_warnings;
             DELETE FROM tls_reports; DELETE FROM rejects;",
        ],
        OK,
    );
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 22);
    rua_ok(&db, &["reparse"], OK);
    assert_eq!(tls_totals(&db), expected);
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 0);
    assert_eq!(
        sql(&db, "SELECT payload_kind, reason_code FROM rejects"),
        [["smtp_tls", "not_json"]]
    );
}
