//! `rua-store-floor INGESTED.duckdb NEW.duckdb THREADS`: the store's floor, the lower bound
//! `rua ingest` is measured against on the writing side. It copies the rows of a database
//! rua ingested into the same tables of a new one with DuckDB alone (no parsing, no
//! conversion from Rust), after holding them in memory (not timed), and prints one line:
//! `rows seconds cpu_seconds` (the CPU time of every thread while it stores). See
//! `sql/bench/store_floor.sql`.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::Instant;

use rua_bench::cpu_seconds;
use rua_store::{INGESTED_TABLES as TABLES, OpenOptions, Param, Store, StoreError, Value};

const SQL: &str = include_str!("../../../../sql/bench/store_floor.sql");
const COLUMNS: &str = include_str!("../../../../sql/store/column_types.sql");

/// The statements of one section of `SQL` (`-- attach`, `-- setup`, `-- count` or
/// `-- timed`, the first word of its heading), each once per table when it names `{table}`
/// (and its stored columns, from `columns`, for `{columns}`).
fn statements(section: &str, columns: &[String]) -> Vec<String> {
    let mut in_section = false;
    let mut out = Vec::new();
    for line in SQL.lines() {
        let line = line.trim();
        if let Some(comment) = line.strip_prefix("-- ") {
            let heading = comment.split(' ').next().unwrap_or_default();
            if ["attach", "setup", "count", "timed"].contains(&heading) {
                in_section = heading == section;
            }
        } else if in_section && !line.is_empty() {
            match line.contains("{table}") {
                true => out.extend(
                    TABLES
                        .iter()
                        .zip(columns)
                        .map(|(t, c)| line.replace("{table}", t).replace("{columns}", c)),
                ),
                false => out.push(line.to_owned()),
            }
        }
    }
    out
}

fn run(ingested: &str, new: &Path, threads: i64) -> Result<(i128, f64, f64), StoreError> {
    let options = OpenOptions {
        memory_limit: Some("16GB".into()),
        threads: Some(threads),
        ..OpenOptions::default()
    };
    let store = Store::open(new, &options)?;
    let mut columns = Vec::new();
    for table in TABLES {
        let names = store.query(COLUMNS, &[Param::Text(table.to_owned())])?;
        let names: Vec<String> = names.rows.iter().map(|r| r[0].to_string()).collect();
        columns.push(names.join(", "));
    }
    let statements = |section| statements(section, &columns);
    for sql in statements("attach") {
        store.query(&sql, &[Param::Text(ingested.to_owned())])?;
    }
    for sql in statements("setup") {
        store.query(&sql, &[])?;
    }
    let mut rows = 0;
    for sql in statements("count") {
        let count = store.query(&sql, &[])?;
        if let Some(Value::Int(n)) = count.rows.first().and_then(|r| r.first()) {
            rows += *n;
        }
    }
    let (started, cpu) = (Instant::now(), cpu_seconds());
    for sql in statements("timed") {
        store.query(&sql, &[])?;
    }
    Ok((rows, started.elapsed().as_secs_f64(), cpu_seconds() - cpu))
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
        Ok((rows, seconds, cpu)) => println!("{rows} {seconds:.3} {cpu:.2}"),
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
        let columns: Vec<String> = TABLES.iter().map(|t| format!("{t}_a, {t}_b")).collect();
        let statements = |section| statements(section, &columns);
        assert_eq!(statements("attach"), ["ATTACH ? AS source (READ_ONLY);"]);
        let setup = statements("setup");
        assert_eq!(setup.len(), TABLES.len());
        assert!(setup[0].contains("SELECT reports_a, reports_b FROM source.reports"));
        assert_eq!(statements("count").len(), TABLES.len());
        let timed = statements("timed");
        assert_eq!(timed.len(), 1 + TABLES.len() + 2);
        assert!(
            timed[1].contains("main.reports (reports_a, reports_b)")
                && timed[1].contains("held_reports")
        );
        let all = [setup, timed].concat();
        assert!(all.iter().all(|s| !s.contains('{') && !s.starts_with("--")));
    }
}
