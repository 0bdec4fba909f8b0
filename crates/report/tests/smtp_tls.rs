//! Golden files for SMTP TLS reports: every TLS report in `sample-reports/smtp-tls/` and in
//! the shared corpus (JSON files, gzip, mails: unpacked as `rua ingest` does) parses to its
//! expected rendering (`tests/expect/smtp-tls/**.<ext>.txt`) or fails with its expected
//! error (`.<ext>.err`). `UPDATE_EXPECT=1` regenerates them.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use common::coded;
use rua_report::smtp_tls::{TlsReport, parse};
use rua_testkit::{corpus, crate_dir, sample_reports};
use rua_unpack::PayloadKind;

mod common;

fn expect_dir() -> PathBuf {
    crate_dir(env!("CARGO_MANIFEST_DIR")).join("tests/expect/smtp-tls")
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".to_owned(), |v| v.to_string())
}

/// One line per fact, stable across runs.
fn render(r: &TlsReport) -> String {
    let mut s = String::new();
    writeln!(
        s,
        "organization_name: {}",
        opt(r.organization_name.as_ref())
    )
    .unwrap();
    writeln!(s, "contact_info: {}", opt(r.contact_info.as_ref())).unwrap();
    writeln!(s, "report_id: {}", r.report_id).unwrap();
    writeln!(
        s,
        "date_range: {} {} (raw {:?} {:?})",
        r.begin, r.end, r.begin_raw, r.end_raw
    )
    .unwrap();
    for (i, p) in r.policies.iter().enumerate() {
        writeln!(
            s,
            "policy {i}: type={} domain={} (raw {}) mx_hosts={:?} sessions ok={} failed={}",
            coded(&p.policy_type),
            opt(p.policy_domain.as_ref()),
            opt(p.policy_domain_raw.as_ref()),
            p.mx_hosts,
            opt(p.successful_sessions),
            opt(p.failed_sessions)
        )
        .unwrap();
        for line in &p.policy_strings {
            writeln!(s, "  policy_string: {line}").unwrap();
        }
        for d in &p.failure_details {
            writeln!(
                s,
                "  failure: {} sessions={} sending_mta={} (raw {}) mx={} (raw {}) helo={} receiving_ip={} (raw {}) reason_code={} info={}",
                coded(&d.result_type),
                opt(d.failed_sessions),
                opt(d.sending_mta_ip),
                opt(d.sending_mta_ip_raw.as_ref()),
                opt(d.receiving_mx_hostname.as_ref()),
                opt(d.receiving_mx_hostname_raw.as_ref()),
                opt(d.receiving_mx_helo.as_ref()),
                opt(d.receiving_ip),
                opt(d.receiving_ip_raw.as_ref()),
                opt(d.failure_reason_code.as_ref()),
                opt(d.additional_information.as_ref())
            )
            .unwrap();
        }
    }
    for w in &r.warnings {
        writeln!(s, "warning: {} at {} raw={:?}", w.code, w.path, w.raw).unwrap();
    }
    s
}

/// The TLS reports below `base` against `expect/smtp-tls/<name>/`.
fn check_below(base: &Path, name: &str, problems: &mut Vec<String>) -> (usize, usize) {
    let expect = expect_dir().join(name);
    let render = |json: &[u8]| {
        parse(json)
            .map(|r| render(&r))
            .map_err(|e| format!("{e}\n"))
    };
    common::check_below(base, PayloadKind::SmtpTls, &expect, render, problems)
}

fn finish(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn sample_tls_reports_match_their_golden_files() {
    let mut problems = Vec::new();
    let counts = check_below(
        &sample_reports().join("smtp-tls"),
        "sample-reports",
        &mut problems,
    );
    finish(problems);
    // Three that parse (one in a mail whose gzip is declared octet-stream), one truncated.
    assert_eq!(counts, (3, 1));
}

#[test]
fn corpus_tls_reports_match_their_golden_files() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let (n_ok, n_err) = check_below(&corpus.join("smtp_tls"), "corpus", &mut problems);
    finish(problems);
    // Every one of the 22 files holds a report rua reads.
    assert_eq!((n_ok, n_err), (22, 0));
}
