//! Exports for BI: DuckDB's own COPY streams a table, view or query to CSV, Parquet or JSON
//! lines, optionally as a Hive-partitioned directory (`day=2024-11-28/…`) that Spark, Trino,
//! DuckDB and pandas read as one dataset.

use std::path::Path;

use crate::query::Param;
use crate::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Parquet,
    /// Newline-delimited JSON objects.
    Json,
}

/// What to export and where.
#[derive(Debug, Clone)]
pub struct ExportSpec<'a> {
    /// A table or view name (checked against the database).
    pub table: Option<&'a str>,
    /// Or an analyst's query.
    pub query: Option<&'a str>,
    pub format: ExportFormat,
    /// A file, or a directory when partitioning.
    pub path: &'a Path,
    /// Keep rows whose period overlaps [since, until) (seconds since the epoch); needs
    /// `begin_at`/`end_at` columns in the source.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Hive partition columns; `day` is derived from `begin_at` when the source has none.
    pub partition_by: &'a [String],
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A SQL string literal (COPY takes its path as text, not as a parameter).
pub(crate) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Store {
    /// Writes the export; returns the number of rows written.
    pub fn export(&self, spec: &ExportSpec<'_>) -> Result<u64, StoreError> {
        let invalid = StoreError::Export;
        let source = match (spec.table, spec.query) {
            (Some(table), None) => {
                let exists = self.query(
                    include_str!("../../../sql/store/relation_exists.sql"),
                    &[Param::Text(table.to_owned())],
                )?;
                let is_known =
                    exists.rows.first().and_then(|r| r.first()) == Some(&crate::Value::Int(1));
                if !is_identifier(table) || !is_known {
                    return Err(invalid(format!("no table or view named {table:?}")));
                }
                format!("SELECT * FROM \"{table}\"")
            }
            (None, Some(query)) => query.trim().trim_end_matches(';').to_owned(),
            _ => return Err(invalid("export needs a table or a query".to_owned())),
        };
        let columns = self
            .query(
                &include_str!("../../../sql/store/describe_source.sql")
                    .replace("{source}", &source),
                &[],
            )?
            .columns;
        let has = |name: &str| columns.iter().any(|c| c == name);
        let mut filters = Vec::new();
        if spec.since.is_some() || spec.until.is_some() {
            if !has("begin_at") || !has("end_at") {
                return Err(invalid(
                    "--since/--until need begin_at and end_at columns in the export".to_owned(),
                ));
            }
            if let Some(since) = spec.since {
                filters.push(format!(
                    "end_at > make_timestamp({since}::BIGINT * 1000000)"
                ));
            }
            if let Some(until) = spec.until {
                filters.push(format!(
                    "begin_at < make_timestamp({until}::BIGINT * 1000000)"
                ));
            }
        }
        let mut extra = String::new();
        for column in spec.partition_by {
            if !is_identifier(column) {
                return Err(invalid(format!("invalid partition column {column:?}")));
            }
            if column == "day" && !has("day") {
                if !has("begin_at") {
                    return Err(invalid(
                        "partitioning by day needs a begin_at column".to_owned(),
                    ));
                }
                extra.push_str(", CAST(begin_at AS DATE) AS day");
            } else if !has(column) {
                return Err(invalid(format!("no column {column:?} to partition by")));
            }
        }
        let mut options = vec![match spec.format {
            ExportFormat::Csv => "FORMAT csv, HEADER true".to_owned(),
            // Snappy, as Spark writes by default; dictionaries only for columns with few
            // distinct values (building one for addresses costs more than it saves).
            ExportFormat::Parquet => {
                "FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 4096".to_owned()
            }
            ExportFormat::Json => "FORMAT json".to_owned(),
        }];
        if !spec.partition_by.is_empty() {
            let quoted: Vec<String> = spec
                .partition_by
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect();
            options.push(format!(
                "PARTITION_BY ({}), OVERWRITE_OR_IGNORE true",
                quoted.join(", ")
            ));
        }
        let filter = if filters.is_empty() {
            "TRUE".to_owned()
        } else {
            filters.join(" AND ")
        };
        // The source goes in last, so that text in an analyst's query is never substituted.
        let sql = include_str!("../../../sql/queries/export.sql")
            .replace("{filter}", &filter)
            .replace("{extra}", &extra)
            .replace("{path}", &literal(&spec.path.to_string_lossy()))
            .replace("{options}", &options.join(", "))
            .replace("{source}", &source);
        let n = self.conn.execute(&sql, []).map_err(StoreError::Query)?;
        Ok(n as u64)
    }
}
