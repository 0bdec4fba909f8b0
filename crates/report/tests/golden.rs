//! Golden files: every aggregate XML in `sample-reports/` and in the shared corpus parses to
//! its expected rendering (`tests/expect/**.txt`) or fails with its expected error
//! (`tests/expect/**.err`). `UPDATE_EXPECT=1` regenerates them.
//!
//! Independently of the parser, each parsed report's record count and message sum are checked
//! against a plain byte scan of the XML, and every document parses identically when streamed
//! in windows of 1, 7 and 61 bytes (read through 1-, 7- and 4096-byte `BufReader`s).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fmt::Write as _;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use common::coded;
use rua_report::aggregate::{Record, Report, parse_in_windows, parse_to_vec};
use rua_testkit::{check_expect, corpus, crate_dir, files_below, remove_expect, sample_reports};

mod common;

fn expect_dir() -> PathBuf {
    crate_dir(env!("CARGO_MANIFEST_DIR")).join("tests/expect")
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// One line per fact, stable across runs.
fn render(report: &Report, records: &[Record]) -> String {
    let mut s = String::new();
    let r = report;
    let p = &r.policy;
    writeln!(s, "namespace: {}", opt(&r.namespace)).unwrap();
    writeln!(s, "version: {}", opt(&r.version)).unwrap();
    writeln!(s, "org_name: {}", opt(&r.org_name)).unwrap();
    writeln!(s, "email: {}", opt(&r.email)).unwrap();
    writeln!(s, "extra_contact_info: {}", opt(&r.extra_contact_info)).unwrap();
    writeln!(s, "report_id: {}", r.report_id).unwrap();
    writeln!(
        s,
        "date_range: {} {} (raw {:?} {:?})",
        r.begin, r.end, r.begin_raw, r.end_raw
    )
    .unwrap();
    for e in &r.errors {
        writeln!(s, "error: {e}").unwrap();
    }
    writeln!(s, "generator: {}", opt(&r.generator)).unwrap();
    writeln!(
        s,
        "policy: domain={} adkim={} aspf={} p={} sp={} np={} pct={} fo={} testing={} discovery_method={}",
        opt(&p.domain),
        coded(&p.adkim),
        coded(&p.aspf),
        coded(&p.p),
        coded(&p.sp),
        coded(&p.np),
        p.pct_raw.as_deref().unwrap_or("-"),
        opt(&p.fo),
        coded(&p.testing),
        coded(&p.discovery_method),
    )
    .unwrap();
    writeln!(s, "recovered: {}", r.is_recovered).unwrap();
    writeln!(s, "records: {} messages: {}", r.n_records, r.n_messages).unwrap();
    for w in &r.warnings {
        let raw = w
            .raw
            .as_deref()
            .map(|v| format!(" {v:?}"))
            .unwrap_or_default();
        writeln!(
            s,
            "warning: {} at <{}>{raw} x{} (byte {})",
            w.code, w.path, w.count, w.offset
        )
        .unwrap();
    }
    for rec in records {
        let ip = rec.source_ip.map_or_else(
            || format!("?(raw {:?})", rec.source_ip_raw),
            |ip| {
                if ip.to_string() == rec.source_ip_raw {
                    rec.source_ip_raw.clone()
                } else {
                    format!("{ip}(raw {:?})", rec.source_ip_raw)
                }
            },
        );
        writeln!(
            s,
            "record: ip={ip} count={} disposition={} dkim={} spf={} header_from={} envelope_from={} envelope_to={}",
            rec.count,
            coded(&rec.disposition),
            coded(&rec.dkim_verdict),
            coded(&rec.spf_verdict),
            opt(&rec.header_from),
            opt(&rec.envelope_from),
            opt(&rec.envelope_to),
        )
        .unwrap();
        for reason in &rec.reasons {
            writeln!(
                s,
                "  reason: type={} comment={}",
                coded(&reason.kind),
                opt(&reason.comment)
            )
            .unwrap();
        }
        for d in &rec.dkim {
            writeln!(
                s,
                "  dkim: domain={} selector={} result={} human={}",
                opt(&d.domain),
                opt(&d.selector),
                coded(&d.result),
                opt(&d.human_result)
            )
            .unwrap();
        }
        for f in &rec.spf {
            writeln!(
                s,
                "  spf: domain={} scope={} result={} human={}",
                opt(&f.domain),
                coded(&f.scope),
                coded(&f.result),
                opt(&f.human_result)
            )
            .unwrap();
        }
    }
    s
}

/// Counts `<record>` elements and sums `<count>` values by scanning bytes, not parsing.
fn scan_counts(xml: &[u8]) -> (u64, u64) {
    let text = String::from_utf8_lossy(xml);
    let n_records = text
        .match_indices("<record")
        .filter(|(i, m)| {
            matches!(
                text.as_bytes().get(i + m.len()),
                Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')
            )
        })
        .count() as u64;
    let n_messages = text
        .split("<count>")
        .skip(1)
        .map(|rest| {
            rest.split('<')
                .next()
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    (n_records, n_messages)
}

/// Parses one input and returns the rendering or the error, checking the invariants.
fn outcome(xml: &[u8], name: &str, problems: &mut Vec<String>) -> Result<String, String> {
    let parsed = parse_to_vec(xml);
    // Read in small pieces and parsed in small windows, so that every kind of event is cut.
    for (capacity, window) in [(1, 1), (7, 7), (4096, 61)] {
        let mut records = Vec::new();
        let Ok(again) = parse_in_windows(
            BufReader::with_capacity(capacity, xml),
            &mut |r: &Record| records.push(r.clone()),
            window,
        );
        let same = match (&parsed, &again) {
            (Ok((a, ra)), Ok(b)) => a == b && *ra == records,
            (Err(a), Err(b)) => a.to_string() == b.to_string(),
            _ => false,
        };
        if !same {
            problems.push(format!(
                "{name}: differs through a {capacity}-byte BufReader in {window}-byte windows"
            ));
        }
    }
    match parsed {
        Ok((report, records)) => {
            let scanned = scan_counts(xml);
            if scanned != (report.n_records, report.n_messages)
                || records.len() as u64 != report.n_records
            {
                problems.push(format!(
                    "{name}: parser says {} records / {} messages, the XML has {} / {}",
                    report.n_records, report.n_messages, scanned.0, scanned.1
                ));
            }
            Ok(render(&report, &records))
        }
        Err(e) => Err(format!("{e}\n")),
    }
}

/// Checks one input against `<expect>.txt` or `<expect>.err`.
fn check(xml: &[u8], name: &str, expect: &Path, must: Option<bool>, problems: &mut Vec<String>) {
    let txt = expect.with_extension("txt");
    let err = expect.with_extension("err");
    let result = outcome(xml, name, problems);
    let (is_ok, text, (write, remove)) = match &result {
        Ok(t) => (true, t, (&txt, &err)),
        Err(e) => (false, e, (&err, &txt)),
    };
    if let Some(must_parse) = must.filter(|&m| m != is_ok) {
        let expected = if must_parse { "parse" } else { "fail" };
        problems.push(format!("{name}: expected to {expected}: {text}"));
    }
    problems.extend(check_expect(write, text));
    problems.extend(remove_expect(remove));
}

fn finish(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn sample_reports_match_their_golden_files() {
    let base = sample_reports().join("aggregate");
    let mut problems = Vec::new();
    let mut n = 0;
    for rel in files_below(&base) {
        let must = match rel.components().next().and_then(|c| c.as_os_str().to_str()) {
            Some("ok") => true,
            Some("err") => false,
            _ => continue,
        };
        let xml = fs::read(base.join(&rel)).unwrap();
        let expect = expect_dir().join("sample-reports").join(&rel);
        check(
            &xml,
            &rel.display().to_string(),
            &expect,
            Some(must),
            &mut problems,
        );
        n += 1;
    }
    assert!(
        n > 10,
        "only {n} aggregate fixtures found in {}",
        base.display()
    );
    finish(problems);
}

#[test]
fn corpus_reports_match_their_golden_files() {
    let Some(corpus) = corpus() else { return };
    let mut problems = Vec::new();
    let (mut n_ok, mut n_err) = (0, 0);
    for rel in files_below(&corpus.join("aggregate")) {
        if rel.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let xml = fs::read(corpus.join("aggregate").join(&rel)).unwrap();
        let expect = expect_dir().join("corpus").join(&rel);
        check(
            &xml,
            &rel.display().to_string(),
            &expect,
            None,
            &mut problems,
        );
        if expect.with_extension("txt").exists() {
            n_ok += 1;
        } else {
            n_err += 1;
        }
    }
    eprintln!("corpus: {n_ok} parsed, {n_err} rejected");
    assert!(n_ok > 1500, "only {n_ok} corpus reports parse");
    finish(problems);
}
