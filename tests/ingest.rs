//! `rua ingest` end to end: totals against the parser, idempotence in any order, SIGKILL at
//! random points, two processes at once, and rejects kept with their bytes.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TempDir, assert_no_partial_report, number, rua, rua_ok, sql};
use rua_report::aggregate::Record;
use rua_testkit::{corpus, files_below, sample_reports};

const OK: i32 = 0;
const REJECTS: i32 = 1;
const LOCKED: i32 = 3;

/// What the parser alone says of every file below `dir` read as XML: path → (records,
/// messages) for those that parse.
fn parsed(dir: &Path) -> BTreeMap<String, (i64, i64)> {
    let mut out = BTreeMap::new();
    for rel in files_below(dir) {
        let path = dir.join(&rel);
        let bytes = std::fs::read(&path).unwrap();
        let Ok(parsed) = rua_report::aggregate::parse_bytes(&bytes, &mut |_: &Record| {});
        if let Ok(report) = parsed {
            out.insert(
                path.display().to_string(),
                (report.n_records as i64, report.n_messages as i64),
            );
        }
    }
    out
}

fn totals(db: &Path) -> (i64, i64, i64) {
    let rows = sql(
        db,
        "SELECT count(*), coalesce(sum(n_records), 0), coalesce(sum(n_messages), 0) FROM counted_reports",
    );
    let n = |i: usize| rows[0][i].parse::<i64>().unwrap();
    (n(0), n(1), n(2))
}

#[test]
fn corpus_totals_equal_the_parser_per_report_and_survive_reingest_in_any_order() {
    let Some(corpus) = corpus() else { return };
    let aggregate = corpus.join("aggregate");
    let dir = TempDir::new("corpus");
    let db = dir.db();
    // The corpus holds broken reports on purpose: exit code 1.
    rua_ok(&db, &["ingest", aggregate.to_str().unwrap()], REJECTS);
    assert_no_partial_report(&db);

    // Per report: every stored report from a plain XML file has the parser's counts.
    let expected = parsed(&aggregate);
    let stored = sql(
        &db,
        "SELECT source, n_records, n_messages FROM reports WHERE source_chain = ''",
    );
    assert!(stored.len() > 1000, "only {} reports stored", stored.len());
    for row in &stored {
        let want = expected
            .get(&row[0])
            .unwrap_or_else(|| panic!("{} stored but not parsed", row[0]));
        assert_eq!(
            (row[1].parse().unwrap(), row[2].parse().unwrap()),
            *want,
            "{}",
            row[0]
        );
    }
    // Every payload that parses is stored, a duplicate, or a conflict; every other one is a
    // reject: none is lost.
    let first = sql(
        &db,
        "SELECT n_reports_new, n_duplicates, n_conflicts, n_rejects FROM ingest_runs",
    );
    let n = |i: usize| first[0][i].parse::<usize>().unwrap();
    let walked = common::walk(&aggregate);
    let (n_parsed, n_unreadable) = (walked.parsed.len(), walked.n_unreadable);
    assert_eq!(
        (n(0) + n(1) + n(2), n(3)),
        (n_parsed, n_unreadable),
        "{first:?}"
    );
    assert_eq!(
        n(0) + n(2),
        stored.len()
            + number(&db, "SELECT count(*) FROM reports WHERE source_chain <> ''") as usize
    );
    let before = totals(&db);

    // Again, twice, and file by file in reverse order: nothing new.
    rua_ok(&db, &["ingest", aggregate.to_str().unwrap()], REJECTS);
    let mut files: Vec<PathBuf> = files_below(&aggregate)
        .into_iter()
        .map(|p| aggregate.join(p))
        .collect();
    files.reverse();
    let mut args = vec!["ingest".to_owned()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    rua_ok(&db, &args, REJECTS);
    assert_eq!(totals(&db), before);
    let runs = sql(
        &db,
        "SELECT n_reports_new, n_conflicts, n_duplicates FROM ingest_runs ORDER BY run_id",
    );
    assert_eq!(runs.len(), 3);
    for run in &runs[1..] {
        assert_eq!(run[0], "0", "a re-ingest added reports: {runs:?}");
        assert_eq!(run[1], "0", "a re-ingest added conflicts: {runs:?}");
        assert_eq!(
            run[2].parse::<usize>().unwrap(),
            n(0) + n(1) + n(2),
            "{runs:?}"
        );
    }
    assert_eq!(
        number(&db, "SELECT count(*) FROM rejects"),
        n(3) as i64,
        "rejects were stored twice"
    );
}

#[test]
fn sample_reports_ingest_with_rejects_kept_and_the_run_going_on() {
    let dir = TempDir::new("samples");
    let db = dir.db();
    let out = rua_ok(
        &db,
        &["ingest", sample_reports().to_str().unwrap()],
        REJECTS,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rejected") && stderr.contains("not-xml-unused.xml"),
        "{stderr}"
    );
    assert_no_partial_report(&db);
    // Every hard-error fixture is a reject with its bytes, and so is the unused gzip.
    let rejects = sql(
        &db,
        "SELECT reason_code, source, payload_bytes, raw_gz IS NOT NULL FROM rejects ORDER BY source",
    );
    for name in [
        "invalid-count.xml",
        "truncated.xml",
        "wrong-root.xml",
        "no-report-id.xml",
        "yahoo-unused.xml.gz",
        "no-report.eml",
    ] {
        let row = rejects
            .iter()
            .find(|r| r[1].ends_with(name))
            .unwrap_or_else(|| panic!("{name} not rejected: {rejects:?}"));
        assert_eq!(row[3], "true", "{name} kept without bytes");
    }
    let codes: Vec<&str> = rejects.iter().map(|r| r[0].as_str()).collect();
    for code in [
        "invalid_value",
        "truncated",
        "not_feedback",
        "missing_element",
        "not_report",
        "mismatched_end_tag",
        "malformed_xml",
    ] {
        assert!(codes.contains(&code), "no {code} reject in {codes:?}");
    }
    // SMTP TLS reports are read into their own tables: the one in containers/ and two of
    // smtp-tls/ (the mail holds the same report as ipv6-dane-failures.json, stored once; the
    // truncated one is a reject).
    assert_eq!(number(&db, "SELECT count(*) FROM tls_reports"), 3);
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 0);
    // Rejects are numbered in the order their inputs were found (sorted paths), whatever the
    // parser threads were doing when a payload that is not a report came along.
    let found: Vec<String> = sql(&db, "SELECT source FROM rejects ORDER BY reject_key")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let mut sorted = found.clone();
    sorted.sort();
    assert_eq!(found, sorted, "rejects numbered out of the order found");
    // The rejects listing shows them.
    let listing = rua_ok(&db, &["rejects", "--format", "csv"], OK);
    assert!(String::from_utf8_lossy(&listing.stdout).contains("truncated"));
}

/// Mails the fuzzer made (one had the unpacker follow a cycle of MIME parts until the stack
/// overflowed, which aborted rua): each is kept with its bytes (as rejects, or aside as
/// another kind of report), and a report ingested in the same run is stored.
#[test]
fn hostile_mails_are_kept_as_rejects_and_the_run_goes_on() {
    let dir = TempDir::new("hostile");
    let db = dir.db();
    let hostile = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/unpack/tests/regressions");
    let good = sample_reports().join("aggregate/ok/google-np.xml");
    rua_ok(
        &db,
        &["ingest", hostile.to_str().unwrap(), good.to_str().unwrap()],
        REJECTS,
    );
    assert_eq!(number(&db, "SELECT count(*) FROM reports"), 1);
    let kept = sql(
        &db,
        "SELECT source, raw_gz IS NOT NULL FROM rejects \
         UNION ALL SELECT source, raw_gz IS NOT NULL FROM other_payloads",
    );
    assert!(
        kept.iter().any(|r| r[0].ends_with("part-cycle.eml")),
        "{kept:?}"
    );
    for name in files_below(&hostile) {
        let name = name.to_str().unwrap();
        let kept: Vec<_> = kept.iter().filter(|r| r[0].contains(name)).collect();
        assert!(!kept.is_empty(), "{name} not kept");
        assert!(
            kept.iter().all(|r| r[1] == "true"),
            "{name} kept without bytes"
        );
    }
    assert_no_partial_report(&db);
}

#[test]
fn stdin_and_single_files_are_inputs_too() {
    let dir = TempDir::new("stdin");
    let db = dir.db();
    let file = sample_reports().join("containers/double-gzip.xml.gz.gz");
    let mut child = Command::new(common::RUA)
        .args(["--db", db.to_str().unwrap(), "ingest", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::copy(
        &mut std::fs::File::open(&file).unwrap(),
        child.stdin.as_mut().unwrap(),
    )
    .unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(OK),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sql(&db, "SELECT source, source_chain FROM reports"),
        [["-", "gzip > gzip"]]
    );
    // The same report from a file is a duplicate.
    rua_ok(
        &db,
        &[
            "ingest",
            sample_reports()
                .join("aggregate/ok/gmx-dmarc2-namespace.xml")
                .to_str()
                .unwrap(),
        ],
        OK,
    );
    assert_eq!(
        number(
            &db,
            "SELECT n_duplicates FROM ingest_runs ORDER BY run_id DESC LIMIT 1"
        ),
        1
    );
    // A named pipe, as `rua ingest <(zcat ...)` gives: read as a stream, a zip included
    // (which a file on disk would be read from in place, seeking).
    let fifo = dir.0.join("reports.zip");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let zip = sample_reports().join("containers/several-members-empty-name.zip");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, std::fs::read(zip).unwrap()).unwrap())
    };
    rua_ok(&db, &["ingest", fifo.to_str().unwrap()], REJECTS);
    writer.join().unwrap();
    assert_eq!(
        sql(
            &db,
            "SELECT count(*), string_agg(file_name, '|' ORDER BY file_name) FROM reports
             WHERE source_chain LIKE 'zip member%'"
        ),
        [["2", "|cisco.xml"]]
    );
}

/// Many small report files with distinct identities, for a run that takes a while.
fn many_reports(dir: &Path, n: usize) -> PathBuf {
    let template =
        std::fs::read_to_string(sample_reports().join("aggregate/ok/google-np.xml")).unwrap();
    let out = dir.join("many");
    std::fs::create_dir_all(&out).unwrap();
    for i in 0..n {
        let doc = template.replace("12345678901234567890", &format!("crash-{i}"));
        std::fs::write(out.join(format!("r{i:05}.xml")), doc).unwrap();
    }
    out
}

#[test]
fn sigkill_at_random_points_leaves_no_partial_report_and_a_rerun_is_exact() {
    let dir = TempDir::new("crash");
    let inputs = many_reports(&dir.0, 3000);
    // 6,000 records in batches of 2,500: the writer's transaction takes two batches before it
    // commits, so kills land before, between and after commits, and inside a transaction
    // that spans batches.
    let config = dir.0.join("rua.toml");
    std::fs::write(&config, "[database]\ncommit_records = 4000\n").unwrap();
    let ingest = [
        "--config",
        config.to_str().unwrap(),
        "ingest",
        inputs.to_str().unwrap(),
    ];
    let clean = dir.0.join("clean.duckdb");
    rua_ok(&clean, &ingest, OK);
    let expected = totals(&clean);
    assert_eq!(expected.0, 3000);

    let db = dir.db();
    // Deterministic "random" kill points spread over a run's length.
    let started = Instant::now();
    rua_ok(&dir.0.join("timing.duckdb"), &ingest, OK);
    let run_ms = started.elapsed().as_millis().max(50) as u64;
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(seed % (run_ms + 100));
        let mut child = Command::new(common::RUA)
            .args(["--db", db.to_str().unwrap(), "--quiet"])
            .args(ingest)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whatever was committed is whole (a kill before the first migration committed
        // leaves a database without tables; one while DuckDB wrote the new file's header
        // leaves a file shorter than the header, which the next ingest replaces).
        let is_created = std::fs::metadata(&db).is_ok_and(|m| m.len() >= 3 * 4096);
        let has_tables = is_created
            && number(
                &db,
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'reports'",
            ) == 1;
        if has_tables {
            assert_no_partial_report(&db);
        }
    }
    rua_ok(&db, &ingest, OK);
    assert_no_partial_report(&db);
    assert_eq!(totals(&db), expected);
    assert_eq!(number(&db, "SELECT count(*) FROM reports"), 3000);
}

/// A generated Google-style report for example.com (large ones are parsed as streams).
fn google_report(report_id: &str, n_records: u64, seed: u64) -> rua_bench::Spec {
    rua_bench::Spec {
        style: rua_bench::Style::Google,
        report_id: report_id.into(),
        domain: "example.com".into(),
        begin: 1_732_752_000,
        n_records,
        seed,
    }
}

#[test]
fn a_report_too_large_to_buffer_is_committed_whole_once() {
    // Over 20,000 records, a report goes to DuckDB in parts inside its own transaction.
    let dir = TempDir::new("large");
    let spec = google_report("large-1", 45_000, 5);
    let file = dir.0.join("large.xml");
    let written = rua_bench::write_report(&spec, std::fs::File::create(&file).unwrap()).unwrap();
    let small = sample_reports().join("aggregate/ok/google-np.xml");
    let db = dir.db();
    let args = ["ingest", small.to_str().unwrap(), file.to_str().unwrap()];
    rua_ok(&db, &args, OK);
    let Ok(small_report) =
        rua_report::aggregate::parse_bytes(&std::fs::read(&small).unwrap(), &mut |_: &Record| {});
    let small_report = small_report.unwrap();
    let expected = (2, (written.n_records + small_report.n_records) as i64);
    let got = || {
        (
            number(&db, "SELECT count(*) FROM reports"),
            number(&db, "SELECT count(*) FROM records"),
        )
    };
    assert_eq!(got(), expected);
    assert_eq!(
        number(
            &db,
            "SELECT sum(message_count) FROM records WHERE report_key = 2"
        ),
        written.n_messages as i64
    );
    // Again, then a new report: the large one is a duplicate whose parts already handed
    // over are rolled back, and the new one commits after it.
    let other = dir.0.join("other.xml");
    let template = std::fs::read_to_string(&small).unwrap();
    std::fs::write(&other, template.replace("12345678901234567890", "other-1")).unwrap();
    rua_ok(&db, &[&args[..], &[other.to_str().unwrap()]].concat(), OK);
    let small_records = small_report.n_records as i64;
    assert_eq!(got(), (expected.0 + 1, expected.1 + small_records));
    assert_eq!(
        number(
            &db,
            "SELECT n_duplicates FROM ingest_runs ORDER BY run_id DESC LIMIT 1"
        ),
        2
    );
    assert_no_partial_report(&db);
}

/// A gzip payload too large to inflate in memory, whose CRC-32 does not match: the error
/// surfaces after the document's last element, while the parser reads what follows it. The
/// report is not stored; the file is kept as received, as a `read_error` reject; the run goes
/// on.
#[test]
fn a_streamed_payload_failing_after_its_document_is_kept_as_a_reject() {
    let dir = TempDir::new("bad-crc");
    let spec = google_report("bad-crc-1", 20_000, 9);
    let mut xml = Vec::new();
    rua_bench::write_report(&spec, &mut xml).unwrap();
    assert!(xml.len() > 8 << 20, "not streamed: {} bytes", xml.len());
    let mut gz = rua_bench::gzip(&xml).unwrap();
    let crc = gz.len() - 8;
    gz[crc] ^= 0xFF;
    let file = dir.0.join("bad-crc.xml.gz");
    std::fs::write(&file, &gz).unwrap();
    let small = sample_reports().join("aggregate/ok/google-np.xml");
    let db = dir.db();
    rua_ok(
        &db,
        &["ingest", file.to_str().unwrap(), small.to_str().unwrap()],
        REJECTS,
    );
    let ids = sql(&db, "SELECT report_id FROM reports");
    assert!(ids.len() == 1 && ids[0][0] != "bad-crc-1", "{ids:?}");
    let rejects = sql(
        &db,
        "SELECT reason_code, source, payload_bytes FROM rejects",
    );
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0][0], "read_error");
    assert!(rejects[0][1].ends_with("bad-crc.xml.gz"));
    assert_eq!(rejects[0][2], gz.len().to_string());
    assert_no_partial_report(&db);
}

#[test]
fn a_path_that_is_not_a_database_is_refused_and_never_modified() {
    let dir = TempDir::new("not-a-db");
    let report = sample_reports().join("aggregate/ok/google-np.xml");
    let report = report.to_str().unwrap();
    let config = "[database]\npath = \"/var/lib/rua/rua.duckdb\"\n";
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "notes.txt",
            b"important notes\n",
            "is a text file of 16 bytes",
        ),
        ("config.toml", config.as_bytes(), "is a text file of"),
        ("empty", b"", "is an empty file"),
        // What a killed creation left behind before rua created databases under another
        // name: shorter than DuckDB's header, all zeros.
        (
            "short.duckdb",
            &[0u8; 4096],
            "is a file of 4096 bytes that is not a DuckDB database",
        ),
    ];
    for (name, content, what) in cases {
        let path = dir.0.join(name);
        std::fs::write(&path, content).unwrap();
        for args in [&["ingest", report][..], &["summary"], &["sql", "SELECT 1"]] {
            let out = rua(&path, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(LOCKED), "{name} {args:?}: {stderr}");
            assert!(stderr.contains(what), "{name}: {stderr}");
            assert!(stderr.contains(path.to_str().unwrap()), "{stderr}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                content,
                "{name} was modified"
            );
        }
    }
    let out = rua(&dir.0, &["summary"]);
    assert_eq!(out.status.code(), Some(LOCKED));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
    let out = rua(&dir.0, &["ingest", report]);
    assert_eq!(out.status.code(), Some(LOCKED));
    // Nothing was created beside them either.
    let mut names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["config.toml", "empty", "notes.txt", "short.duckdb"]);
}

#[test]
fn a_kill_while_creating_the_database_never_leaves_a_file_under_its_name() {
    let dir = TempDir::new("create-kill");
    let report = sample_reports().join("aggregate/ok/google-np.xml");
    let report = report.to_str().unwrap();
    // Left by a creation killed long ago: removed by the next creation.
    let stale = dir.0.join("rua.duckdb.creating-1-1");
    std::fs::write(&stale, b"half a header").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let mut rng = rua_bench::Rng::new(17);
    for attempt in 0..20 {
        let db = dir.0.join(format!("rua-{attempt}.duckdb"));
        let mut child = common::rua_command(&db, &["ingest", report])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        let _ = child.kill();
        let _ = child.wait();
        // Either nothing under the name, or a whole database that every command opens.
        if db.exists() {
            rua_ok(&db, &["sql", "SELECT count(*) FROM reports"], OK);
        }
        rua_ok(&db, &["ingest", report], OK);
        assert_eq!(number(&db, "SELECT count(*) FROM reports"), 1);
    }
    let db = dir.db();
    rua_ok(&db, &["ingest", report], OK);
    assert!(!stale.exists(), "a stale temporary file is removed");
}

#[test]
fn two_processes_on_one_database_both_finish_or_one_exits_locked() {
    let dir = TempDir::new("concurrent");
    let inputs = many_reports(&dir.0, 1500);
    let db = dir.db();
    let spawn = |timeout: &str| {
        Command::new(common::RUA)
            .args([
                "--db",
                db.to_str().unwrap(),
                "--lock-timeout",
                timeout,
                "ingest",
                inputs.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Patient: both finish, one after the other.
    let (a, b) = (spawn("120"), spawn("120"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(
        (a.status.code(), b.status.code()),
        (Some(OK), Some(OK)),
        "first: {}\nsecond: {}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(totals(&db).0, 1500);
    assert_eq!(
        number(&db, "SELECT sum(n_reports_new) FROM ingest_runs"),
        1500
    );

    // Impatient: the second gives up with its own exit code and a clear message.
    let other = dir.0.join("other.duckdb");
    let holder = Command::new(common::RUA)
        .args([
            "--db",
            other.to_str().unwrap(),
            "ingest",
            inputs.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = rua(
        &other,
        &["--lock-timeout", "0", "ingest", inputs.to_str().unwrap()],
    );
    let holder = holder.wait_with_output().unwrap();
    assert_eq!(holder.status.code(), Some(OK));
    match out.status.code() {
        Some(LOCKED) => {
            assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another process"))
        }
        // The first run may already have finished on a fast machine.
        Some(OK) => {}
        code => panic!(
            "unexpected exit {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
    assert_eq!(totals(&other).0, 1500);
}

#[test]
fn a_conflicting_copy_is_kept_flagged_and_never_counted_twice() {
    let dir = TempDir::new("conflict");
    let db = dir.db();
    let original = sample_reports().join("aggregate/ok/google-np.xml");
    // Same identity (org, report_id, domain, begin, end), other content.
    let changed = std::fs::read_to_string(&original)
        .unwrap()
        .replace("<count>42</count>", "<count>43</count>");
    let copy = dir.0.join("resent.xml");
    std::fs::write(&copy, changed).unwrap();
    rua_ok(&db, &["ingest", original.to_str().unwrap()], OK);
    rua_ok(
        &db,
        &["ingest", copy.to_str().unwrap(), original.to_str().unwrap()],
        OK,
    );
    let reports = sql(
        &db,
        "SELECT report_key, conflict_of, n_messages FROM reports ORDER BY report_key",
    );
    assert_eq!(reports, [["1", "", "47"], ["2", "1", "48"]]);
    assert_eq!(
        sql(
            &db,
            "SELECT n_conflicts, n_duplicates FROM ingest_runs WHERE run_id = 2"
        ),
        [["1", "1"]]
    );
    assert_eq!(
        number(&db, "SELECT sum(message_count) FROM report_records"),
        47
    );
    let summary = rua_ok(&db, &["summary", "--format", "csv"], OK);
    assert!(
        String::from_utf8_lossy(&summary.stdout).contains("example.com,47,"),
        "{}",
        String::from_utf8_lossy(&summary.stdout)
    );
}

#[test]
fn a_payload_read_again_is_a_duplicate_by_its_bytes_without_being_parsed() {
    let dir = TempDir::new("same-bytes");
    let db = dir.db();
    let inputs = ingest_samples(&db);
    let n_reports = number(&db, "SELECT count(*) FROM reports");
    // Reports of every kind: aggregate ones and the SMTP TLS report (counted in n_other).
    let n_payloads = number(
        &db,
        "SELECT n_reports_new + n_duplicates + n_conflicts + n_other FROM ingest_runs",
    );
    assert!(n_payloads > n_reports, "the samples hold copies of reports");
    let no_payload_hash = "SELECT count(*) FROM reports WHERE payload_hash IS NULL";
    assert_eq!(number(&db, no_payload_hash), 0);
    // Parsed again, every report would now conflict with the one stored.
    let tamper = "UPDATE reports SET content_hash = 'changed'";
    rua_ok(&db, &["sql", "--write", tamper], OK);
    let run = |id: i64| -> [i64; 3] {
        let row = sql(
            &db,
            &format!(
                "SELECT n_reports_new, n_conflicts, n_duplicates FROM ingest_runs WHERE run_id = {id}"
            ),
        );
        std::array::from_fn(|i| row[0][i].parse().unwrap())
    };
    // Every payload whose bytes are stored is a duplicate; only a copy in other bytes
    // (the rspamd mail's XML, without the byte order mark of the file) is parsed.
    rua_ok(&db, &["ingest", &inputs[0], &inputs[1]], REJECTS);
    let [new, conflicts, duplicates] = run(2);
    assert_eq!((new, conflicts + duplicates), (0, n_payloads));
    assert!(
        conflicts < n_reports / 2,
        "{conflicts} of {n_reports} parsed"
    );
    let parsed_though_stored = "SELECT count(*) FROM reports WHERE ingest_run_id = 2
        AND payload_hash IN (SELECT payload_hash FROM reports WHERE ingest_run_id = 1)";
    assert_eq!(number(&db, parsed_though_stored), 0);
    // Without the payload hashes (as for reports stored before rua kept them), every
    // payload is parsed: each report without a copy stored in its own bytes conflicts.
    let forget = "UPDATE reports SET payload_hash = NULL WHERE ingest_run_id = 1";
    rua_ok(&db, &["sql", "--write", forget], OK);
    rua_ok(&db, &["ingest", &inputs[0], &inputs[1]], REJECTS);
    assert_eq!(run(3)[1], n_reports - conflicts);
    // `rua reparse` fills in the payload hash of every report it reads again.
    rua_ok(&db, &["reparse"], OK);
    assert_eq!(number(&db, no_payload_hash), 0);
    assert_no_partial_report(&db);
}

#[test]
fn a_database_from_a_newer_rua_is_refused() {
    let dir = TempDir::new("newer");
    let db = dir.db();
    rua_ok(
        &db,
        &[
            "ingest",
            sample_reports()
                .join("aggregate/ok/zero-records.xml")
                .to_str()
                .unwrap(),
        ],
        OK,
    );
    rua_ok(
        &db,
        &[
            "sql",
            "--write",
            "INSERT INTO schema_version VALUES (999, now()::TIMESTAMP, '99.0.0')",
        ],
        OK,
    );
    let out = rua_ok(
        &db,
        &[
            "ingest",
            sample_reports()
                .join("aggregate/ok/google-np.xml")
                .to_str()
                .unwrap(),
        ],
        3,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("newer rua (schema version 999"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Ingests the sample reports (some are rejected on purpose); returns the two inputs.
fn ingest_samples(db: &Path) -> [String; 2] {
    let samples = sample_reports();
    let inputs = [
        samples.join("aggregate").display().to_string(),
        samples.join("containers").display().to_string(),
    ];
    rua_ok(db, &["ingest", &inputs[0], &inputs[1]], REJECTS);
    inputs
}

#[test]
fn a_database_of_schema_version_2_is_migrated_keeping_every_payload() {
    let dir = TempDir::new("migrate-2");
    let db = dir.db();
    let inputs = ingest_samples(&db);
    let signers = "SELECT report_key, record_index, dkim_signer FROM records WHERE dkim_signer IS NOT NULL ORDER BY ALL";
    let signed = sql(&db, signers);
    assert!(!signed.is_empty());
    // Turn it back into what rua wrote at schema version 2: the payload columns as plain
    // BLOBs (DuckDB's default compression), no payload hashes, and no later migration
    // recorded.
    for (table, column) in [
        ("reports", "raw_payload_gz"),
        ("rejects", "raw_gz"),
        ("other_payloads", "raw_gz"),
    ] {
        for statement in [
            format!("ALTER TABLE {table} RENAME COLUMN {column} TO old"),
            format!("ALTER TABLE {table} ADD COLUMN {column} BLOB"),
            format!("UPDATE {table} SET {column} = old"),
            format!("ALTER TABLE {table} DROP COLUMN old"),
        ] {
            rua_ok(&db, &["sql", "--write", &statement], OK);
        }
    }
    rua_ok(
        &db,
        &[
            "sql",
            "--write",
            // One statement: opening the database in between would migrate it. The SMTP TLS
            // report goes back to other_payloads, where rua kept it before migration 5, and
            // the tables and columns of migrations 5 to 10 go.
            "ALTER TABLE reports DROP COLUMN payload_hash;
             INSERT INTO other_payloads
               SELECT 1000 + report_key, ingest_run_id, ingested_at, 'smtp_tls', source, source_chain,
                      file_name, message_id, message_subject, message_from, payload_hash, payload_bytes, raw_gz
               FROM tls_reports;
             DROP VIEW summary_by_tls; DROP MACRO TABLE summary_by_tls_for;
             DROP VIEW tls_policy_results; DROP VIEW counted_tls_reports;
             DROP TABLE tls_failure_details; DROP TABLE tls_policies; DROP TABLE tls_report_warnings;
             DROP TABLE tls_reports;
             DROP VIEW summary_by_failure; DROP MACRO TABLE summary_by_failure_for;
             DROP VIEW failure_report_sources; DROP TABLE failure_reports;
             DROP TABLE views_state;
             DROP TABLE ip_info; DROP TABLE dkim_senders; DROP TABLE enrich_state; DROP TABLE source_overrides;
             ALTER TABLE records DROP COLUMN dkim_signer;
             DROP TABLE alerts;
             DROP TABLE lake_batches; DROP TABLE lake_reports; DROP TABLE lake_files; DROP TABLE lake_merges;
             DELETE FROM schema_version WHERE version > 2",
        ],
        OK,
    );
    let payloads = "SELECT 'report', report_key, md5(raw_payload_gz) FROM reports
                    UNION ALL SELECT 'reject', reject_key, md5(raw_gz) FROM rejects
                    UNION ALL SELECT 'other', payload_key, md5(raw_gz) FROM other_payloads
                    ORDER BY ALL";
    let declared = "SELECT count(*) FROM duckdb_tables()
                    WHERE table_name IN ('reports', 'rejects', 'other_payloads')
                      AND sql ILIKE '%BLOB USING COMPRESSION uncompressed%'";
    let before = sql(&db, payloads);
    assert!(before.iter().filter(|r| r[2].is_empty()).count() < before.len());
    assert_eq!(number(&db, declared), 0);
    // The next run that writes applies migrations 3 to 12, and every payload is still
    // there; the reports stored before have no payload hash until they are parsed again.
    rua_ok(&db, &["ingest", &inputs[0]], REJECTS);
    assert_eq!(number(&db, "SELECT max(version) FROM schema_version"), 12);
    // Records stored before migration 8 get their DKIM signer from `rua enrich` (in
    // batches), the same as the ingest finds.
    assert_eq!(number(&db, "SELECT count(dkim_signer) FROM records"), 0);
    rua_ok(&db, &["enrich"], OK);
    assert_eq!(sql(&db, signers), signed);
    // ... and then their sender and class (migration 12).
    let unclassified = "SELECT count(*) FROM records WHERE class_rule IS NULL
                        AND report_key IN (SELECT report_key FROM counted_reports)";
    assert_eq!(number(&db, unclassified), 0);
    assert_eq!(number(&db, declared), 3);
    assert_eq!(sql(&db, payloads), before);
    let no_payload_hash = "SELECT count(*) FROM reports WHERE payload_hash IS NULL";
    assert_eq!(
        number(&db, no_payload_hash),
        number(&db, "SELECT count(*) FROM reports")
    );
    rua_ok(&db, &["reparse"], OK);
    assert_eq!(number(&db, no_payload_hash), 0);
    assert_no_partial_report(&db);
    // The SMTP TLS report kept aside is read into its tables.
    assert_eq!(number(&db, "SELECT count(*) FROM other_payloads"), 0);
    assert_eq!(number(&db, "SELECT count(*) FROM tls_reports"), 1);
}

#[test]
fn reparse_rebuilds_every_kept_report_in_place() {
    let dir = TempDir::new("reparse");
    let db = dir.db();
    ingest_samples(&db);
    let snapshot = |db: &Path| {
        sql(
            db,
            "SELECT report_key, conflict_of, n_records, n_messages, content_hash, source, source_chain,
                    (SELECT count(*) FROM records rec WHERE rec.report_key = r.report_key),
                    (SELECT count(*) FROM dkim_results d WHERE d.report_key = r.report_key),
                    (SELECT count(*) FROM report_warnings w WHERE w.report_key = r.report_key)
             FROM reports r ORDER BY report_key",
        )
    };
    let before = snapshot(&db);
    assert!(before.len() > 10);
    let classes = "SELECT report_key, record_index, sender, class_rule, class FROM records
                   WHERE class_rule IS NOT NULL ORDER BY ALL";
    let classes_before = sql(&db, classes);
    // A report without kept XML is left alone; every other one is rebuilt under its key.
    let out = rua_ok(&db, &["reparse"], OK);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty() || !stderr.contains("no longer parses"),
        "{stderr}"
    );
    assert_eq!(snapshot(&db), before);
    assert_no_partial_report(&db);
    // The records written again got their sender and class stored again.
    assert!(classes_before.len() > 10);
    assert_eq!(sql(&db, classes), classes_before);
    // Every kept report, then every rejected aggregate payload, was read again.
    let n_retried = number(
        &db,
        "SELECT count(*) FROM rejects WHERE payload_kind = 'aggregate' AND raw_gz IS NOT NULL",
    );
    assert!(n_retried > 0);
    let expected = (before.len() as i64 + n_retried).to_string();
    assert_eq!(
        sql(
            &db,
            "SELECT n_payloads FROM ingest_runs WHERE command = 'reparse'"
        ),
        [[expected]]
    );
    // Rejected payloads that still fail stay rejects.
    let n_rejects = number(&db, "SELECT count(*) FROM rejects");
    rua_ok(&db, &["reparse"], OK);
    assert_eq!(number(&db, "SELECT count(*) FROM rejects"), n_rejects);
    assert_eq!(snapshot(&db), before);
}

#[test]
fn reparse_moves_a_reject_that_now_parses_into_reports() {
    use rua_store::{Content, OpenOptions, Origin, RejectRow, Store};
    let dir = TempDir::new("reparse-reject");
    let db = dir.db();
    // A payload an older parser refused, kept with its bytes (as `rua ingest` keeps rejects).
    let xml =
        std::fs::read(sample_reports().join("aggregate/ok/gmx-dmarc2-namespace.xml")).unwrap();
    {
        let mut store = Store::open(&db, &OpenOptions::default()).unwrap();
        store.start_run("test").unwrap();
        let row = RejectRow {
            payload_kind: "aggregate".into(),
            reason_code: "unknown_element".into(),
            reason: "refused by an older parser".into(),
            origin: Origin {
                source: "old-mailbox".into(),
                ..Origin::default()
            },
        };
        assert!(store.reject(row, Content::of(&xml, None)).unwrap());
        store.finish_run(false).unwrap();
    }
    rua_ok(&db, &["reparse"], OK);
    assert_eq!(number(&db, "SELECT count(*) FROM rejects"), 0);
    assert_eq!(
        sql(&db, "SELECT org_name, source, n_messages FROM reports"),
        [["GMX", "old-mailbox", "11"]]
    );
    assert_no_partial_report(&db);
}

/// Every value a reporter wrote, as each record, DKIM and SPF result and override reason
/// holds it: (kind, organization, report ID, begin, record, result, raw values...).
type RawRow = Vec<Option<String>>;

/// The raw values of every aggregate report below `dir`, by the parser alone.
fn parsed_raw_values(dir: &Path) -> std::collections::BTreeSet<RawRow> {
    let s = |v: &str| Some(v.to_owned());
    let o = |v: Option<&str>| v.map(str::to_owned);
    let mut rows = std::collections::BTreeSet::new();
    for (report, records) in common::walk(dir).parsed {
        let row = |kind: &str, i: usize, j: Option<usize>, values: &[Option<&str>]| -> RawRow {
            let mut row = vec![
                s(kind),
                o(report.org_name.as_deref()),
                s(&report.report_id),
                s(&report.begin_raw),
            ];
            row.push(Some(i.to_string()));
            row.push(j.map(|j| j.to_string()));
            row.extend(values.iter().map(|v| o(*v)));
            row.resize(13, None);
            row
        };
        for (i, r) in records.iter().enumerate() {
            rows.insert(row(
                "record",
                i,
                None,
                &[
                    Some(&r.source_ip_raw),
                    r.disposition.raw.as_deref(),
                    r.dkim_verdict.raw.as_deref(),
                    r.spf_verdict.raw.as_deref(),
                    r.header_from.as_deref(),
                    r.envelope_from.as_deref(),
                    r.envelope_to.as_deref(),
                ],
            ));
            for (j, d) in r.dkim.iter().enumerate() {
                rows.insert(row(
                    "dkim",
                    i,
                    Some(j),
                    &[d.domain.as_deref(), d.result.raw.as_deref()],
                ));
            }
            for (j, f) in r.spf.iter().enumerate() {
                rows.insert(row(
                    "spf",
                    i,
                    Some(j),
                    &[
                        f.domain.as_deref(),
                        f.scope.raw.as_deref(),
                        f.result.raw.as_deref(),
                    ],
                ));
            }
            for (j, reason) in r.reasons.iter().enumerate() {
                rows.insert(row("reason", i, Some(j), &[reason.kind.raw.as_deref()]));
            }
        }
    }
    rows
}

/// The same, as the database's `*_raw` columns show them.
fn stored_raw_values(db: &Path) -> std::collections::BTreeSet<RawRow> {
    // Columns named c00 to c12, so that each row's values (a JSON object's, by name) come
    // in order.
    let query = "
        SELECT 'record' AS c00, r.org_name AS c01, r.report_id AS c02, r.begin_raw AS c03,
               t.record_index::VARCHAR AS c04, NULL AS c05, t.source_ip_raw AS c06, t.disposition_raw AS c07,
               t.dkim_verdict_raw AS c08, t.spf_verdict_raw AS c09, t.header_from_raw AS c10,
               t.envelope_from_raw AS c11, t.envelope_to_raw AS c12
        FROM records t JOIN reports r USING (report_key)
        UNION ALL
        SELECT 'dkim', r.org_name, r.report_id, r.begin_raw, t.record_index::VARCHAR, t.result_index::VARCHAR,
               t.domain_raw, t.result_raw, NULL, NULL, NULL, NULL, NULL
        FROM dkim_results t JOIN reports r USING (report_key)
        UNION ALL
        SELECT 'spf', r.org_name, r.report_id, r.begin_raw, t.record_index::VARCHAR, t.result_index::VARCHAR,
               t.domain_raw, t.scope_raw, t.result_raw, NULL, NULL, NULL, NULL
        FROM spf_results t JOIN reports r USING (report_key)
        UNION ALL
        SELECT 'reason', r.org_name, r.report_id, r.begin_raw, t.record_index::VARCHAR, t.reason_index::VARCHAR,
               t.reason_type_raw, NULL, NULL, NULL, NULL, NULL, NULL
        FROM override_reasons t JOIN reports r USING (report_key)";
    let out = rua_ok(db, &["sql", "--format", "json", query], OK);
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter()
        .map(|row| {
            assert!(row.keys().is_sorted() && row.len() == 13);
            row.into_values()
                .map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// Asserts two sets of raw rows are equal, showing a few of the differences.
fn assert_same_raw(
    found: &std::collections::BTreeSet<RawRow>,
    expected: &std::collections::BTreeSet<RawRow>,
) {
    let missing: Vec<_> = expected.difference(found).take(5).collect();
    let extra: Vec<_> = found.difference(expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, not expected {extra:?}"
    );
}

/// The record-level tables keep a reporter's text only where it differs from the normalized
/// value (migration 11), and their `*_raw` columns still show exactly what the reporter
/// wrote: for every record, DKIM and SPF result and override reason of the corpus, after an
/// ingest, after `rua reparse`, and after migrating a database whose tables kept every raw
/// value (schema version 10).
#[test]
fn every_raw_value_reads_back_exactly_though_only_differences_are_stored() {
    let Some(corpus) = corpus() else { return };
    let dir = TempDir::new("raw-values");
    let db = dir.db();
    let aggregate = corpus.join("aggregate");
    rua_ok(
        &db,
        &["ingest", "--no-enrich", aggregate.to_str().unwrap()],
        REJECTS,
    );
    let expected = parsed_raw_values(&aggregate);
    assert!(expected.len() > 70_000, "{}", expected.len());
    assert_same_raw(&stored_raw_values(&db), &expected);
    // Most values are the normalized ones, and are not stored twice; the exceptions are.
    let stored =
        "SELECT count(*), count(source_ip_raw_if_different), count(disposition_raw_if_different),
                         count(header_from_raw_if_different) FROM records";
    let counted = sql(&db, stored);
    let counts: Vec<i64> = counted[0].iter().map(|n| n.parse().unwrap()).collect();
    assert!(
        counts[0] > 20_000 && counts[1..].iter().all(|n| *n * 100 < counts[0]),
        "{counts:?}"
    );
    let spelled = "SELECT count(*) FROM dkim_results WHERE domain_raw_if_different IS NOT NULL
                     AND domain_raw <> domain AND lower(domain_raw) = domain";
    assert!(
        number(&db, spelled) > 0,
        "some DKIM domain is written in capitals in the corpus"
    );

    rua_ok(&db, &["reparse"], OK);
    assert_same_raw(&stored_raw_values(&db), &expected);

    // Back to schema version 10, each raw value in a column of its own, then migrated again.
    let mut downgrade = String::new();
    for (table, stored) in [
        ("records", "source_ip_raw_if_different, disposition_raw_if_different, dkim_verdict_raw_if_different,
                     spf_verdict_raw_if_different, header_from_raw_if_different,
                     envelope_from_raw_if_different, envelope_to_raw_if_different"),
        ("dkim_results", "domain_raw_if_different, result_raw_if_different"),
        ("spf_results", "domain_raw_if_different, scope_raw_if_different, result_raw_if_different"),
        ("override_reasons", "reason_type_raw_if_different"),
    ] {
        downgrade += &format!(
            "CREATE TABLE {table}_10 AS SELECT * EXCLUDE ({stored}) FROM {table};
             DROP TABLE {table}; ALTER TABLE {table}_10 RENAME TO {table};"
        );
    }
    downgrade += "DELETE FROM schema_version WHERE version > 10";
    rua_ok(&db, &["sql", "--write", &downgrade], OK);
    assert_eq!(
        number(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name LIKE '%_raw_if_different'"
        ),
        0
    );
    rua_ok(&db, &["enrich", "--offline"], OK);
    assert_eq!(number(&db, "SELECT max(version) FROM schema_version"), 12);
    assert_eq!(sql(&db, stored), counted);
    assert_same_raw(&stored_raw_values(&db), &expected);
    assert_no_partial_report(&db);
}

/// Every run has its row in `ingest_runs`, whether it stores something (the row goes in
/// before its first write) or nothing (the row and its outcome go in at its end, in one
/// transaction).
#[test]
fn every_run_is_recorded_whether_or_not_it_stores_anything() {
    let dir = TempDir::new("runs");
    let db = dir.db();
    ingest_samples(&db);
    let empty = dir.0.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    rua_ok(&db, &["ingest", empty.to_str().unwrap()], OK);
    rua_ok(&db, &["ingest", empty.to_str().unwrap()], OK);
    let runs = sql(
        &db,
        "SELECT run_id, status, n_payloads > 0, n_reports_new > 0, started_at <= finished_at, duration_ms >= 0
         FROM ingest_runs ORDER BY run_id",
    );
    let n = runs.len();
    assert!(n >= 3, "{runs:?}");
    assert_eq!(runs[0][1..], ["rejects", "true", "true", "true", "true"]);
    for (i, run) in runs[n - 2..].iter().enumerate() {
        assert_eq!(run[0], (n - 1 + i).to_string());
        assert_eq!(run[1..], ["ok", "false", "false", "true", "true"]);
    }
}
