//! `rua export`: a table, view or query to CSV, Parquet or JSON lines, streamed by DuckDB;
//! or, with `--incremental`, what was committed since the last publish, to a Parquet lake.

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
    /// Output file, or directory when partitioning or publishing (default for
    /// --incremental: `[lake] path`).
    #[arg(long, short, required_unless_present = "incremental")]
    output: Option<PathBuf>,
    /// Publish to a Parquet lake: only what was committed since the last publish, as new
    /// files (records, reports, tls_policies, failure_reports; by month and node).
    #[arg(long, conflicts_with_all = ["table", "query", "since", "until", "partition_by"])]
    incremental: bool,
    #[command(flatten)]
    lake: crate::commands::lake::Overrides,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    Csv,
    Parquet,
    Json,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    if args.incremental {
        if args.format != FormatArg::Parquet {
            anyhow::bail!("--incremental writes Parquet only");
        }
        let Some(root) = args.output.as_ref().or(settings.config.lake.path.as_ref()) else {
            anyhow::bail!("--incremental needs --output DIR or [lake] path");
        };
        let lake = crate::commands::lake::options(settings, root, &args.lake)?;
        let mut store = settings.open(false, settings.keep_raw)?;
        crate::commands::lake::publish(&mut store, &lake)?;
        return Ok(exit::OK);
    }
    let Some(output) = args.output.as_ref() else {
        anyhow::bail!("--output is required");
    };
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
        path: output,
        since: args.since,
        until: args.until,
        partition_by: &args.partition_by,
    };
    let n_rows = store.export(&spec)?;
    tracing::info!("exported {n_rows} rows to {}", output.display());
    Ok(exit::OK)
}
