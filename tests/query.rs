//! The query layer end to end: every summary over the ingested corpus adds up to the total
//! message count, per-reporter DMARC pass counts agree with the parser plus rua-align applied
//! independently of SQL, and exports read back by pyarrow agree with the database.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Command;

use common::{TempDir, number, rua, rua_ok, sql};
use rua_report::aggregate::Alignment;
use rua_testkit::{corpus, sample_reports};

const BY: [&str; 12] = [
    "ip",
    "net",
    "alignment",
    "domain",
    "reporter",
    "day",
    "disposition",
    "class",
    "class-sender",
    "sender",
    "asn",
    "country",
];

fn csv_rows(out: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let text = String::from_utf8_lossy(out);
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .collect();
    (header, lines.map(parse_csv_line).collect())
}

/// One CSV line (fields may be quoted, e.g. reporter names with commas).
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn column_sum(header: &[String], rows: &[Vec<String>], name: &str) -> i64 {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter().map(|r| r[i].parse::<i64>().unwrap_or(0)).sum()
}

/// Per reporter: (messages, messages passing DMARC by rua's alignment), computed from the
/// files with the parser and rua-align only, counting each report identity once (first file
/// in ingest order wins, as in the database).
fn independent_pass_counts(dir: &Path) -> BTreeMap<String, (i64, i64)> {
    let parsed = common::walk(dir).parsed;
    let mut seen = HashSet::new();
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (report, records) in parsed {
        let key = (
            report
                .org_name
                .clone()
                .map(|o| o.to_lowercase())
                .unwrap_or_else(|| {
                    format!(
                        "email:{}",
                        report.email.clone().unwrap_or_default().to_lowercase()
                    )
                }),
            report.report_id.trim().to_owned(),
            report
                .policy
                .domain
                .as_deref()
                .map(|d| rua_align::normalize(d).into_owned()),
            report.begin,
            report.end,
        );
        // A report without records has no rows to summarize.
        if !seen.insert(key) || records.is_empty() {
            continue;
        }
        let strict_dkim = report.policy.adkim.value == Some(Alignment::Strict);
        let strict_spf = report.policy.aspf.value == Some(Alignment::Strict);
        let entry = out
            .entry(report.org_name.clone().unwrap_or_else(|| "(none)".into()))
            .or_default();
        for r in &records {
            let a = rua_align::evaluate(r);
            let dkim = if strict_dkim {
                a.is_dkim_aligned_strict
            } else {
                a.is_dkim_aligned_relaxed
            };
            let spf = if strict_spf {
                a.is_spf_aligned_strict
            } else {
                a.is_spf_aligned_relaxed
            };
            entry.0 += r.count as i64;
            if dkim || spf {
                entry.1 += r.count as i64;
            }
        }
    }
    out
}

#[test]
fn every_summary_adds_up_and_rates_agree_with_an_independent_computation() {
    let Some(corpus) = corpus() else { return };
    let aggregate = corpus.join("aggregate");
    let dir = TempDir::new("summaries");
    let db = dir.db();
    rua_ok(&db, &["ingest", aggregate.to_str().unwrap()], 1);
    let total = number(&db, "SELECT sum(message_count) FROM report_records");
    assert!(total > 50_000, "total {total}");
    let passing = number(
        &db,
        "SELECT sum(message_count) FILTER (WHERE dmarc_pass) FROM report_records",
    );
    for by in BY {
        let out = rua_ok(&db, &["summary", "--by", by, "--format", "csv"], 0);
        let (header, rows) = csv_rows(&out.stdout);
        assert_eq!(
            column_sum(&header, &rows, "messages"),
            total,
            "summary --by {by}"
        );
        // Sorted sums over report_records once kept one byte of each (is_one_of in
        // sql/views.sql): the passing messages must add up too.
        if header.iter().any(|c| c == "dmarc_pass") {
            assert_eq!(
                column_sum(&header, &rows, "dmarc_pass"),
                passing,
                "--by {by}"
            );
        }
    }
    // `--limit` ranks first and counts distinct values for the rows shown only: the rows
    // are the view's first ones, distinct counts included.
    for (by, view, key) in [
        ("ip", "summary_by_ip", "source_ip"),
        ("net", "summary_by_network", "source_network"),
    ] {
        let out = rua_ok(
            &db,
            &["summary", "--by", by, "--limit", "25", "--format", "csv"],
            0,
        );
        let (header, rows) = csv_rows(&out.stdout);
        let query = format!("SELECT * FROM {view} ORDER BY messages DESC, {key} LIMIT 25");
        let out = rua_ok(&db, &["sql", "--format", "csv", &query], 0);
        let (view_header, view_rows) = csv_rows(&out.stdout);
        assert_eq!(header, view_header, "--by {by}");
        assert_eq!(rows.len(), 25, "--by {by}");
        assert_eq!(rows, view_rows, "--by {by} against {view}");
    }
    // The default overview adds up too.
    let out = rua_ok(&db, &["summary", "--format", "json"], 0);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("{\"domains\":["));

    let expected = independent_pass_counts(&aggregate);
    let out = rua_ok(&db, &["summary", "--by", "reporter", "--format", "csv"], 0);
    let (header, rows) = csv_rows(&out.stdout);
    let (i_rep, i_msg, i_pass, i_pct) = (
        header.iter().position(|h| h == "reporter").unwrap(),
        header.iter().position(|h| h == "messages").unwrap(),
        header.iter().position(|h| h == "dmarc_pass").unwrap(),
        header.iter().position(|h| h == "dmarc_pass_pct").unwrap(),
    );
    let in_db: HashSet<&str> = rows.iter().map(|r| r[i_rep].as_str()).collect();
    let only_parsed: Vec<&String> = expected
        .keys()
        .filter(|k| !in_db.contains(k.as_str()))
        .collect();
    assert_eq!(
        rows.len(),
        expected.len(),
        "only in the independent computation: {only_parsed:?}"
    );
    for row in &rows {
        let (messages, pass) = expected[&row[i_rep]];
        assert_eq!(
            row[i_msg].parse::<i64>().unwrap(),
            messages,
            "{}",
            row[i_rep]
        );
        assert_eq!(
            row[i_pass].parse::<i64>().unwrap_or(0),
            pass,
            "{}",
            row[i_rep]
        );
        let pct = (1000.0 * pass as f64 / messages as f64).round() / 10.0;
        assert!(
            (row[i_pct].parse::<f64>().unwrap_or(0.0) - pct).abs() < 0.051,
            "{}: {} vs {pct}",
            row[i_rep],
            row[i_pct]
        );
    }
}

#[test]
fn daily_allocation_is_proportional_and_exact() {
    let dir = TempDir::new("daily");
    let db = dir.db();
    // 36 hours from noon: a third on the first day, two thirds on the second.
    let template =
        std::fs::read_to_string(sample_reports().join("aggregate/ok/google-np.xml")).unwrap();
    let doc = template
        .replace("<begin>1732752000</begin>", "<begin>1732795200</begin>")
        .replace("<end>1732838399</end>", "<end>1732924800</end>");
    let path = dir.0.join("span.xml");
    std::fs::write(&path, doc).unwrap();
    rua_ok(&db, &["ingest", path.to_str().unwrap()], 0);
    let out = rua_ok(&db, &["summary", "--by", "day", "--format", "csv"], 0);
    let (header, rows) = csv_rows(&out.stdout);
    let messages: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    // 42 and 5 messages: 14 + 28 and 1.67 + 3.33 → 2 + 3 by largest remainder.
    assert_eq!(
        messages,
        [("2024-11-29".to_owned(), 31), ("2024-11-28".to_owned(), 16)],
        "{header:?} {rows:?}"
    );
}

/// Whether python3 can import `module` (outside CI a missing module skips the test).
fn have_python(module: &str) -> bool {
    common::available(&format!("python3 {module}"), common::python_has(module))
}

fn python(script: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn exports_read_back_by_pyarrow_agree_with_the_database() {
    if !have_python("pyarrow") {
        return;
    }
    let dir = TempDir::new("export");
    let db = dir.db();
    rua_ok(&db, &["ingest", sample_reports().to_str().unwrap()], 1);
    let rows = number(&db, "SELECT count(*) FROM report_records");
    let messages = number(&db, "SELECT sum(message_count) FROM report_records");
    let columns = sql(
        &db,
        "SELECT column_name FROM (DESCRIBE report_records) ORDER BY column_name",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect::<Vec<_>>()
    .join(" ");

    let parquet = dir.0.join("records.parquet");
    rua_ok(
        &db,
        &[
            "export",
            "--format",
            "parquet",
            "--output",
            parquet.to_str().unwrap(),
        ],
        0,
    );
    let csv = dir.0.join("records.csv");
    rua_ok(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--output",
            csv.to_str().unwrap(),
        ],
        0,
    );
    let read = r#"
import sys, pyarrow.parquet as pq, pyarrow.csv as pc
kind, path = sys.argv[1], sys.argv[2]
t = pq.read_table(path) if kind == "parquet" else pc.read_csv(path)
print(t.num_rows, sum(v for v in t.column("message_count").to_pylist()), " ".join(sorted(t.column_names)))
"#;
    for (kind, path) in [("parquet", &parquet), ("csv", &csv)] {
        let got = python(read, &[kind, path.to_str().unwrap()]);
        assert_eq!(got, format!("{rows} {messages} {columns}"), "{kind}");
    }

    // A Hive-partitioned dataset by day and domain, read back as one table.
    let dataset = dir.0.join("dataset");
    rua_ok(
        &db,
        &[
            "export",
            "--format",
            "parquet",
            "--partition-by",
            "day,policy_domain",
            "--output",
            dataset.to_str().unwrap(),
        ],
        0,
    );
    let n_days = number(
        &db,
        "SELECT count(DISTINCT CAST(begin_at AS DATE)) FROM report_records",
    );
    let layout = std::fs::read_dir(&dataset)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(layout.len() as i64, n_days, "{layout:?}");
    assert!(layout.iter().all(|d| d.starts_with("day=")), "{layout:?}");
    let read = r#"
import sys, pyarrow.dataset as ds
t = ds.dataset(sys.argv[1], format="parquet", partitioning="hive").to_table()
print(t.num_rows, sum(t.column("message_count").to_pylist()), "day" in t.column_names, "policy_domain" in t.column_names)
"#;
    assert_eq!(
        python(read, &[dataset.to_str().unwrap()]),
        format!("{rows} {messages} True True")
    );

    // --since/--until and a query export.
    let json = dir.0.join("q.json");
    rua_ok(
        &db,
        &[
            "export",
            "--format",
            "json",
            "--query",
            "SELECT source_ip, message_count FROM report_records",
            "--output",
            json.to_str().unwrap(),
        ],
        0,
    );
    let n_lines = std::fs::read_to_string(&json).unwrap().lines().count() as i64;
    assert_eq!(n_lines, rows);
    let recent = dir.0.join("recent.csv");
    rua_ok(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "2024-11-28",
            "--until",
            "2024-11-29",
            "--output",
            recent.to_str().unwrap(),
        ],
        0,
    );
    let expected = number(
        &db,
        "SELECT count(*) FROM report_records WHERE end_at > '2024-11-28' AND begin_at < '2024-11-29'",
    );
    assert_eq!(
        std::fs::read_to_string(&recent).unwrap().lines().count() as i64 - 1,
        expected
    );
}

#[test]
fn the_database_opens_in_another_duckdb_client_with_views_and_macros() {
    if !have_python("duckdb") {
        return;
    }
    let dir = TempDir::new("client");
    let db = dir.db();
    rua_ok(
        &db,
        &[
            "ingest",
            sample_reports().join("aggregate").to_str().unwrap(),
        ],
        1,
    );
    let ours = sql(
        &db,
        "SELECT alignment, messages FROM summary_by_alignment ORDER BY alignment",
    );
    let read = r#"
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for row in con.sql("SELECT alignment, messages FROM summary_by_alignment ORDER BY alignment").fetchall():
    print(f"{row[0]},{row[1]}")
print(con.sql("SELECT count(*) FROM summary_by_day_for('example.com', NULL, NULL, NULL)").fetchall()[0][0])
"#;
    let theirs = python(read, &[db.to_str().unwrap()]);
    let mut expected: Vec<String> = ours.iter().map(|r| r.join(",")).collect();
    expected.push(
        number(
            &db,
            "SELECT count(*) FROM summary_by_day_for('example.com', NULL, NULL, NULL)",
        )
        .to_string(),
    );
    assert_eq!(theirs, expected.join("\n"));
}

#[test]
fn a_writer_recreates_a_missing_view_and_readers_leave_the_database_as_it_is() {
    let dir = TempDir::new("views");
    let db = dir.db();
    let report = sample_reports().join("aggregate/ok/google-np.xml");
    let report = report.to_str().unwrap();
    rua_ok(&db, &["ingest", report], 0);
    assert_eq!(number(&db, "SELECT count(*) FROM views_state"), 1);
    rua_ok(&db, &["sql", "--write", "DROP VIEW summary_by_day"], 0);
    // A reader does not write: the view stays missing, and it says how to bring it back.
    let out = rua(&db, &["summary", "--by", "reporter"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("was written by an older rua"), "{stderr}");
    let missing = "SELECT count(*) FROM duckdb_views() WHERE view_name = 'summary_by_day'";
    assert_eq!(number(&db, missing), 0);
    // The next writer puts it back (the same report again: nothing else changes).
    rua_ok(&db, &["ingest", report], 0);
    assert_eq!(number(&db, missing), 1);
    assert_eq!(number(&db, "SELECT count(*) FROM views_state"), 1);
}
