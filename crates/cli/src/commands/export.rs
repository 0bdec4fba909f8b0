//! `rua export`: a table, view or query to CSV, Parquet or JSON lines, streamed by DuckDB.

use std::path::PathBuf;

use rua_store::{ExportFormat, ExportSpec};

use crate::exit;
use crate::period;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value = "parquet")]
    format: FormatArg,
    /// A table or view (default: report_records).
    #[arg(long, conflicts_with = "query")]
    table: Option<String>,
    /// A query to export instead of a table.
    #[arg(long)]
    query: Option<String>,
    /// Reports whose period ends after this: a date (2024-11-01), a date-time, or a
    /// duration back from now (30d, 12h, 2w).
    #[arg(long, value_parser = period::parse)]
    since: Option<i64>,
    /// Reports whose period begins before this (same forms as --since).
    #[arg(long, value_parser = period::parse)]
    until: Option<i64>,
    /// Hive partition columns, e.g. `day` or `day,policy_domain` (output is a directory).
    #[arg(long, value_delimiter = ',')]
    partition_by: Vec<String>,
    /// Output file, or directory when partitioning.
    #[arg(long, short)]
    output: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
    Json,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let store = settings.open(true, false)?;
    let spec = ExportSpec {
        table: if args.query.is_some() {
            None
        } else {
            Some(args.table.as_deref().unwrap_or("report_records"))
        },
        query: args.query.as_deref(),
        format: match args.format {
            FormatArg::Csv => ExportFormat::Csv,
            FormatArg::Parquet => ExportFormat::Parquet,
            FormatArg::Json => ExportFormat::Json,
        },
        path: &args.output,
        since: args.since,
        until: args.until,
        partition_by: &args.partition_by,
    };
    let n_rows = store.export(&spec)?;
    tracing::info!("exported {n_rows} rows to {}", args.output.display());
    Ok(exit::OK)
}
