//! Golden files for failure reports: every failure report mail in `sample-reports/` and the
//! shared corpus (found by
//! rua-unpack as `rua ingest` finds them) parses to its expected rendering
//! (`tests/expect/failure/**.<ext>.txt`) or fails with its expected error (`.<ext>.err`).
//! `UPDATE_EXPECT=1` regenerates them.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;

use rua_report::failure::parse;
use rua_testkit::{corpus, crate_dir};
use rua_unpack::PayloadKind;

mod common;

fn render(bytes: &[u8]) -> Result<String, String> {
    let parsed = parse(bytes).map_err(|e| format!("{e}\n"))?;
    let r = &parsed.report;
    let mut s = String::new();
    let fields: [(&str, &Option<String>); 26] = [
        ("feedback_type", &r.feedback_type),
        ("user_agent", &r.user_agent),
        ("version", &r.version),
        ("original_envelope_id", &r.original_envelope_id),
        ("original_mail_from", &r.original_mail_from),
        ("original_rcpt_to", &r.original_rcpt_to),
        ("arrival_date_raw", &r.arrival_date_raw),
        ("reporting_mta", &r.reporting_mta),
        ("source_ip_raw", &r.source_ip_raw),
        ("incidents", &r.incidents),
        ("authentication_results", &r.authentication_results),
        ("auth_failure", &r.auth_failure),
        ("delivery_result", &r.delivery_result),
        ("dkim_domain", &r.dkim_domain),
        ("dkim_identity", &r.dkim_identity),
        ("dkim_selector", &r.dkim_selector),
        ("spf_dns", &r.spf_dns),
        ("identity_alignment", &r.identity_alignment),
        ("reported_domain", &r.reported_domain),
        ("reported_uri", &r.reported_uri),
        ("original_from", &r.original_from),
        ("original_to", &r.original_to),
        ("original_subject", &r.original_subject),
        ("original_date", &r.original_date),
        ("original_message_id", &r.original_message_id),
        (
            "original_headers",
            &r.original_headers
                .as_ref()
                .map(|h| format!("{} bytes", h.len())),
        ),
    ];
    for (name, value) in fields {
        writeln!(s, "{name}: {:?}", value.as_deref().unwrap_or("-")).unwrap();
    }
    writeln!(s, "arrival_date: {:?}", r.arrival_date).unwrap();
    writeln!(s, "source_ip: {:?}", r.source_ip).unwrap();
    writeln!(
        s,
        "original_body: {:?} bytes",
        parsed.original_body.map(|b| b.len())
    )
    .unwrap();
    Ok(s)
}

/// The failure reports below `base` against `expect/failure/<name>/`.
fn check_below(base: &Path, name: &str, problems: &mut Vec<String>) -> (usize, usize) {
    let expect = crate_dir(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expect/failure")
        .join(name);
    common::check_below(base, PayloadKind::Failure, &expect, render, problems)
}

#[test]
fn corpus_failure_reports_match_their_golden_files() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let counts = check_below(&corpus.join("forensic"), "corpus", &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The nine ARF mails parse; Exim's plain-text notice has no ARF part and is not handed
    // over as a failure report at all.
    assert_eq!(counts, (9, 0));
}

#[test]
fn sample_failure_reports_match_their_golden_files() {
    let mut problems = Vec::new();
    let counts = check_below(
        &rua_testkit::sample_reports(),
        "sample-reports",
        &mut problems,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // containers/arf-dmarc-failure.eml and failure/arf-multipart-original.eml.
    assert_eq!(counts, (2, 0));
}
