//! `rua report` end to end, looked at the way a person would: the page opened in headless
//! Chromium with the network blocked (tests/support/browse.py), its totals read from the
//! DOM and compared with `rua summary`'s, and a screenshot; the mail digest parsed by an
//! independent MIME parser (Python's `email`); an empty database and a filter that matches
//! nothing.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, rua_ok};
use serde_json::Value;

/// What the test reads from the page.
const READ_DOM: &str = r##"JSON.stringify({
  total: Number(document.getElementById("total-messages").dataset.value),
  pass: Number(document.getElementById("total-pass").dataset.value),
  domains: Array.from(document.querySelectorAll("#domain-table tbody tr")).map(function (r) {
    return { domain: r.dataset.domain,
             messages: Number(r.querySelector("[data-col=messages]").dataset.value),
             dmarc_pass: Number(r.querySelector("[data-col=dmarc_pass]").dataset.value) };
  }),
  sections: Array.from(document.querySelectorAll("section")).map(function (s) { return s.id; }),
  charts: document.querySelectorAll("svg").length,
  empty: document.body.innerText.indexOf("No aggregate report matches these filters.") >= 0
})"##;

/// Chromium and Python's websocket-client are there (`make test-deps`); without them the
/// browser tests are skipped, except under CI, where that is a failure.
fn have_browser() -> bool {
    let chromium = Command::new("sh")
        .args(["-c", "command -v chromium"])
        .output()
        .is_ok_and(|o| o.status.success());
    common::available(
        "chromium or python3 websocket-client",
        chromium && common::python_has("websocket"),
    )
}

/// Opens `page` in the browser: what it met, and the DOM's figures. Asserts the page made
/// no request but for itself and logged no error.
fn browse(page: &Path, shot: &Path, dark: Option<&Path>) -> Value {
    let script = rua_testkit::repo_root().join("tests/support/browse.py");
    let mut command = Command::new("python3");
    command.arg(script).arg(page).arg(shot).arg(READ_DOM);
    if let Some(dark) = dark {
        command.arg(dark);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "browse.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = seen["url"].as_str().unwrap();
    assert_eq!(
        seen["requests"],
        serde_json::json!([url]),
        "only the page itself"
    );
    for key in ["failed", "console", "exceptions", "log"] {
        assert_eq!(seen[key], serde_json::json!([]), "{key}: {seen}");
    }
    let png = std::fs::read(shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a screenshot of something"
    );
    serde_json::from_str(seen["value"].as_str().unwrap()).unwrap()
}

/// `rua summary`'s domains (JSON), by domain: (messages, dmarc_pass).
fn summary_domains(db: &Path, filters: &[&str]) -> Vec<(String, i64, i64)> {
    let mut args = vec!["summary", "--format", "json"];
    args.extend_from_slice(filters);
    let out = rua_ok(db, &args, 0);
    let sections: Value = serde_json::from_slice(&out.stdout).unwrap();
    sections["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["domain"].as_str().unwrap().to_owned(),
                d["messages"].as_i64().unwrap(),
                d["dmarc_pass"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The page's figures equal the summary's: totals over every domain, and each domain shown.
fn assert_same_figures(page: &Value, summary: &[(String, i64, i64)]) {
    let total: i64 = summary.iter().map(|d| d.1).sum();
    let pass: i64 = summary.iter().map(|d| d.2).sum();
    assert_eq!(
        (page["total"].as_i64(), page["pass"].as_i64()),
        (Some(total), Some(pass))
    );
    let shown = page["domains"].as_array().unwrap();
    assert_eq!(shown.len(), summary.len().min(100));
    for (row, (domain, messages, passing)) in shown.iter().zip(summary) {
        assert_eq!(row["domain"], domain.as_str());
        assert_eq!(
            (row["messages"].as_i64(), row["dmarc_pass"].as_i64()),
            (Some(*messages), Some(*passing)),
            "{domain}"
        );
    }
}

fn report(db: &Path, output: &Path, filters: &[&str]) -> PathBuf {
    let mut args = vec!["report", "--output", output.to_str().unwrap()];
    args.extend_from_slice(filters);
    let out = rua_ok(db, &args, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        output.to_str().unwrap()
    );
    output.to_owned()
}

#[test]
fn the_corpus_report_renders_offline_with_the_summary_s_totals() {
    let Some(corpus) = rua_testkit::corpus() else {
        return;
    };
    if !have_browser() {
        return;
    }
    let dir = TempDir::new("report-corpus");
    let db = dir.db();
    rua_ok(&db, &["ingest", "-q", corpus.to_str().unwrap()], 1);
    let page = report(&db, &dir.0.join("corpus.html"), &[]);
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 2_000_000, "{size} bytes");
    let seen = browse(&page, &dir.0.join("corpus.png"), None);
    assert_same_figures(&seen, &summary_domains(&db, &[]));
    assert_eq!(
        seen["sections"],
        serde_json::json!([
            "domains",
            "daily",
            "alignment",
            "senders",
            "reporters",
            "other"
        ])
    );
    assert_eq!(
        seen["charts"], 3,
        "messages per period, pass rate, alignment"
    );
    // The charts' numbers are the summary's: each day's classes add up to `rua summary
    // --by day`'s messages, and its compliant messages to that day's dmarc_pass.
    let daily = ["$1", "$2", "$3", "$4"].iter().fold(
        include_str!("../sql/queries/report_daily.sql").to_owned(),
        |q, p| q.replace(p, "NULL"),
    );
    let compare = format!(
        "WITH c AS ({daily}) SELECT count(*) FROM summary_by_day s FULL JOIN (
           SELECT day, sum(messages) AS messages,
                  sum(messages) FILTER (WHERE class = 'compliant') AS compliant
           FROM c GROUP BY day) c USING (day)
         WHERE s.messages IS DISTINCT FROM c.messages
            OR s.dmarc_pass IS DISTINCT FROM coalesce(c.compliant, 0)"
    );
    assert_eq!(
        common::number(&db, &compare),
        0,
        "days that disagree with the summary"
    );
    assert!(common::number(&db, "SELECT count(*) FROM summary_by_day") > 100);
    // Filtered as the summaries are: the busiest domain since a date.
    let summary = summary_domains(&db, &[]);
    let busiest = summary[0].0.clone();
    let filters = ["--domain", busiest.as_str(), "--since", "2024-01-01"];
    let page = report(&db, &dir.0.join("one.html"), &filters);
    let seen = browse(&page, &dir.0.join("one.png"), None);
    assert_same_figures(&seen, &summary_domains(&db, &filters));
}

#[test]
fn the_sample_report_is_the_readme_s_screenshot_in_both_schemes() {
    if !have_browser() {
        return;
    }
    let dir = TempDir::new("report-samples");
    let db = dir.db();
    let samples = rua_testkit::sample_reports();
    let config = samples.join("rua.toml");
    let inputs = [samples.join("aggregate"), samples.join("containers")];
    let mut args = vec!["--config", config.to_str().unwrap(), "ingest", "-q"];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    rua_ok(&db, &args, 1);
    let page = report(&db, &dir.0.join("samples.html"), &[]);
    let (light, dark) = (dir.0.join("light.png"), dir.0.join("dark.png"));
    let seen = browse(&page, &light, Some(&dark));
    assert_same_figures(&seen, &summary_domains(&db, &[]));
    assert!(std::fs::metadata(&dark).unwrap().len() > 20_000);
    // The README shows this screenshot: `UPDATE_EXPECT=1 make test` replaces it.
    let committed = rua_testkit::repo_root().join("docs/report.png");
    if rua_testkit::is_updating() {
        std::fs::copy(&light, &committed).unwrap();
    }
    assert!(
        committed.exists(),
        "docs/report.png (UPDATE_EXPECT=1 makes it)"
    );
}

#[test]
fn the_digest_is_a_mime_message_with_both_parts_and_the_same_totals() {
    let dir = TempDir::new("report-digest");
    let db = dir.db();
    let samples = rua_testkit::sample_reports().join("aggregate");
    rua_ok(&db, &["ingest", "-q", samples.to_str().unwrap()], 1);
    let out = rua_ok(
        &db,
        &[
            "report",
            "--format",
            "eml",
            "--to",
            "postmaster@example.com",
            "--since",
            "2024-01-01",
        ],
        0,
    );
    let eml = dir.0.join("digest.eml");
    std::fs::write(&eml, &out.stdout).unwrap();
    let parsed = Command::new("python3")
        .args([
            "-c",
            r#"
import email, email.policy, json, re, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
parts = {p.get_content_type(): p.get_content() for p in m.walk() if not p.is_multipart()}
html = parts.get("text/html", "")
print(json.dumps({
    "type": m.get_content_type(), "to": str(m["To"]), "subject": str(m["Subject"]),
    "date": bool(m["Date"]), "message_id": bool(m["Message-ID"]),
    "parts": sorted(parts), "text": parts.get("text/plain", ""),
    "html_total": re.search(r'id="total-messages" data-value="(\d+)"', html).group(1),
    "html_pass": re.search(r'id="total-pass" data-value="(\d+)"', html).group(1),
    "script": "<script" in html, "svg": "<svg" in html,
}))
"#,
            eml.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let m: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(m["type"], "multipart/alternative");
    assert_eq!(m["parts"], serde_json::json!(["text/html", "text/plain"]));
    assert_eq!(m["to"], "postmaster@example.com");
    assert_eq!(
        (m["date"].as_bool(), m["message_id"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        (m["script"].as_bool(), m["svg"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(
        m["subject"]
            .as_str()
            .unwrap()
            .starts_with("DMARC report: since 2024-01-01")
    );
    let summary = summary_domains(&db, &["--since", "2024-01-01"]);
    let total: i64 = summary.iter().map(|d| d.1).sum();
    let pass: i64 = summary.iter().map(|d| d.2).sum();
    assert_eq!(m["html_total"], total.to_string());
    assert_eq!(m["html_pass"], pass.to_string());
    let text = m["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Messages: {total}, passing DMARC: {pass}")),
        "{text}"
    );
    for (domain, messages, _) in &summary {
        assert!(
            text.contains(&format!("{domain}: {messages} messages")),
            "{text}"
        );
    }
}

#[test]
fn an_empty_database_and_a_filter_that_matches_nothing_give_a_clear_page() {
    if !have_browser() {
        return;
    }
    let dir = TempDir::new("report-empty");
    let db = dir.db();
    rua_ok(&db, &["sql", "--write", "SELECT 1"], 0);
    let page = report(&db, &dir.0.join("empty.html"), &[]);
    let seen = browse(&page, &dir.0.join("empty.png"), None);
    assert_eq!(
        (seen["total"].as_i64(), seen["empty"].as_bool()),
        (Some(0), Some(true))
    );
    let samples = rua_testkit::sample_reports().join("aggregate");
    rua_ok(&db, &["ingest", "-q", samples.to_str().unwrap()], 1);
    let page = report(
        &db,
        &dir.0.join("none.html"),
        &["--domain", "nothing.invalid"],
    );
    let seen = browse(&page, &dir.0.join("none.png"), None);
    assert_eq!(
        (seen["total"].as_i64(), seen["empty"].as_bool()),
        (Some(0), Some(true))
    );
    assert_eq!(seen["charts"], 0);
}
