//! `rua report`: the report as one self-contained HTML file (`--output report.html`), or as
//! a mail digest (`--format eml`, a MIME message on stdout for `sendmail -t`). The numbers
//! are the summaries' for the same filters; rendering is `crate::report`.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use rua_store::{Param, Store};

use crate::commands::policy::{self, Part};
use crate::commands::summary::Filters;
use crate::exit;
use crate::period;
use crate::report::{ReportData, digest, html};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    filters: Filters,
    /// An HTML page, or a mail (MIME, with a plain-text and an HTML part).
    #[arg(long, value_enum, default_value = "html")]
    format: ReportFormat,
    /// Where to write it (`-`: standard output) [default: stdout].
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The digest's recipients (To:), for `| sendmail -t`.
    #[arg(long)]
    to: Vec<String>,
    /// The digest's sender (From:).
    #[arg(long, default_value = "rua@localhost")]
    from: String,
    /// Senders listed, the most failing messages first.
    #[arg(long, default_value_t = 50)]
    senders: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    Html,
    Eml,
}

/// DuckDB's memory for the report's queries: with rua's own, the report stays under 300 MB
/// over ten million records (the senders' distinct addresses spill beyond it).
const MEMORY_LIMIT: &str = "192MB";

/// Runs the report's queries for these filters.
fn gather(store: &Store, args: &Args, settings: &Settings) -> anyhow::Result<ReportData> {
    let params = args.filters.params();
    let with = |extra: i64| {
        let mut p = params.clone();
        p.push(Param::Int(extra));
        p
    };
    let q = |sql: &str, p: &[Param]| store.query(sql, p);
    Ok(ReportData {
        filters: args.filters.describe(),
        generated_at: period::now_text(),
        domains: q(
            include_str!("../../../../sql/queries/summary_domains.sql"),
            &params,
        )?,
        readiness: policy::query(
            store,
            Part::Readiness,
            &args.filters,
            None,
            &settings.config.policy,
        )?,
        daily_classes: q(
            include_str!("../../../../sql/queries/report_daily.sql"),
            &params,
        )?,
        alignment: q(
            include_str!("../../../../sql/queries/summary_by_alignment.sql"),
            &with(i64::MAX),
        )?,
        senders: q(
            include_str!("../../../../sql/queries/report_senders.sql"),
            &with(args.senders),
        )?,
        reporters: q(
            include_str!("../../../../sql/queries/report_reporters.sql"),
            &params,
        )?,
        other: q(
            include_str!("../../../../sql/queries/report_other.sql"),
            &params,
        )?,
    })
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let store = settings.open(true, false)?;
    store.limit_memory(MEMORY_LIMIT)?;
    let data = gather(&store, args, settings)?;
    let bytes = match args.format {
        ReportFormat::Html => html::render(&data, html::Mode::Page)?.into_bytes(),
        ReportFormat::Eml => digest::eml(&data, &args.from, &args.to)?,
    };
    match args.output.as_deref().filter(|p| p.as_os_str() != "-") {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
        Some(path) => {
            // Whole or not at all: a page being published is never seen half written.
            let tmp = path.with_extension("rua-tmp");
            std::fs::write(&tmp, &bytes)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(std::io::stdout().lock(), "{}", path.display())?;
        }
    }
    Ok(exit::OK)
}
