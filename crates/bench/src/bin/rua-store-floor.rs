//! `rua-store-floor INGESTED.duckdb NEW.duckdb THREADS`: the store's floor, the lower bound
//! `rua ingest` is measured against on the writing side. It copies the rows of a database
//! rua ingested into the same tables of a new one with DuckDB alone (no parsing, no
//! conversion from Rust), after holding them in memory (not timed), and prints one line:
//! `rows seconds`. See `sql/bench/store_floor.sql`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::Instant;

use rua_store::{OpenOptions, Store, StoreError, Value};

/// The tables `rua ingest` fills for each report.
const TABLES: [&str; 6] = [
    "reports",
    "records",
    "dkim_results",
    "spf_results",
    "override_reasons",
    "report_warnings",
];

const SQL: &str = include_str!("../../../../sql/bench/store_floor.sql");

/// The statements of one section of `SQL` (`-- setup`, `-- count` or `-- timed`), each once per table
/// when it names `{table}`.
fn statements(section: &str, source: &str) -> Vec<String> {
    let mut in_section = false;
    let mut out = Vec::new();
    for line in SQL.lines() {
        if let Some(name) = line.strip_prefix("-- ") {
            if !name.contains(' ') {
                in_section = name == section;
            }
            continue;
        }
        let line = line.trim();
        if !in_section || line.is_empty() {
            continue;
        }
        let line = line.replace("{source}", source);
        if line.contains("{table}") {
            out.extend(TABLES.iter().map(|t| line.replace("{table}", t)));
        } else {
            out.push(line);
        }
    }
    out
}

fn run(ingested: &str, new: &Path, threads: i64) -> Result<(i128, f64), StoreError> {
    let options = OpenOptions {
        memory_limit: Some("16GB".into()),
        threads: Some(threads),
        ..OpenOptions::default()
    };
    let store = Store::open(new, &options)?;
    for sql in statements("setup", ingested) {
        store.query(&sql, &[])?;
    }
    let mut rows = 0;
    for sql in statements("count", ingested) {
        let count = store.query(&sql, &[])?;
        if let Some(Value::Int(n)) = count.rows.first().and_then(|r| r.first()) {
            rows += *n;
        }
    }
    let started = Instant::now();
    for sql in statements("timed", ingested) {
        store.query(&sql, &[])?;
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(ingested), Some(new), Some(Ok(threads))) = (
        args.first(),
        args.get(1),
        args.get(2).map(|t| t.parse::<i64>()),
    ) else {
        eprintln!("usage: rua-store-floor INGESTED.duckdb NEW.duckdb THREADS");
        std::process::exit(2)
    };
    match run(ingested, Path::new(new), threads) {
        Ok((rows, seconds)) => println!("{rows} {seconds:.3}"),
        Err(e) => {
            eprintln!("rua-store-floor: {e}");
            std::process::exit(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_section_has_its_statements_once_per_table() {
        let setup = statements("setup", "/data/in.duckdb");
        assert_eq!(setup.len(), 1 + TABLES.len());
        assert!(setup[0].contains("'/data/in.duckdb'"));
        assert_eq!(statements("count", "x").len(), TABLES.len());
        let timed = statements("timed", "x");
        assert_eq!(timed.len(), 1 + TABLES.len() + 2);
        assert!(timed[1].contains("main.reports") && timed[1].contains("held_reports"));
        let all = [setup, timed].concat();
        assert!(all.iter().all(|s| !s.contains('{') && !s.starts_with("--")));
    }
}
