//! `rua policy`: is each domain ready for `p=reject`? Messages by class, what enforcement
//! would do, the senders to fix first, and a verdict with its reasons (all in
//! `sql/queries/policy_*.sql`; the thresholds are `[policy]` in the configuration).

use rua_store::{Param, QueryResult, Store, Value};

use crate::config::PolicyConfig;

use crate::commands::summary::Filters;
use crate::exit;
use crate::output::{self, Format, Section};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    filters: Filters,
    /// Without --since: the days judged, up to the newest report [default: `[policy]`
    /// window_days, else 30].
    #[arg(long)]
    days: Option<u32>,
    /// One part only. Without it a table shows all three; CSV and JSON show the readiness.
    #[arg(long, value_enum)]
    section: Option<Part>,
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// One row per policy domain: messages by class, the verdict and its reasons.
    Readiness,
    /// Per domain, what p=quarantine, p=reject and strict alignment would have done.
    Simulation,
    /// Per domain, the legitimate sources that fail DMARC, with the fix.
    Senders,
}

impl Part {
    fn title(self) -> &'static str {
        match self {
            Part::Readiness => "readiness",
            Part::Simulation => "what enforcement would have done",
            Part::Senders => "senders to fix first",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Part::Readiness => include_str!("../../../../sql/queries/policy_readiness.sql"),
            Part::Simulation => include_str!("../../../../sql/queries/policy_simulation.sql"),
            Part::Senders => include_str!("../../../../sql/queries/policy_senders.sql"),
        }
    }
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let store = settings.open(true, false)?;
    let format = output::resolve(args.format);
    let policy = &settings.config.policy;
    let parts = match (args.section, format) {
        (Some(part), _) => vec![part],
        (None, Format::Table) => vec![Part::Readiness, Part::Simulation, Part::Senders],
        (None, _) => vec![Part::Readiness],
    };
    let mut sections = Vec::new();
    for part in parts {
        let result = query(&store, part, &args.filters, args.days, policy)?;
        if part == Part::Readiness && format == Format::Table {
            let (figures, reasons) = split_reasons(result);
            sections.push(Section::new(part.title(), figures));
            sections.push(Section::new("reasons", reasons));
        } else {
            sections.push(Section::new(part.title(), result));
        }
    }
    output::print_sections(format, &sections)?;
    Ok(exit::OK)
}

/// One part of `rua policy` for these filters (`days`: the window without `--since`).
pub fn query(
    store: &Store,
    part: Part,
    filters: &Filters,
    days: Option<u32>,
    policy: &PolicyConfig,
) -> Result<QueryResult, rua_store::StoreError> {
    let mut params = filters.params();
    params.push(Param::Int(days.unwrap_or(policy.window_days).into()));
    if part == Part::Readiness {
        params.extend([
            Param::Int(policy.min_days.into()),
            Param::Int(policy.min_reporters.into()),
            Param::Float(policy.max_misconfigured_pct),
        ]);
    }
    store.query(part.sql(), &params)
}

/// The columns a readiness table shows; the reasons follow one per line.
const TABLE_COLUMNS: &[&str] = &[
    "domain",
    "messages",
    "compliant",
    "forwarded",
    "misconfigured",
    "unauthorized",
    "verdict",
    "published",
    "days",
    "reporters",
];

/// For a terminal: the readiness figures without the long text columns, and the reasons
/// one per row.
fn split_reasons(readiness: QueryResult) -> (QueryResult, QueryResult) {
    let index = |name: &str| readiness.columns.iter().position(|c| c == name);
    let shown: Vec<usize> = TABLE_COLUMNS.iter().filter_map(|c| index(c)).collect();
    let mut reasons = QueryResult {
        columns: vec!["domain".to_owned(), "reason".to_owned()],
        rows: Vec::new(),
    };
    if let (Some(domain), Some(text)) = (index("domain"), index("reasons")) {
        for row in &readiness.rows {
            for reason in row[text].to_string().split("; ").filter(|r| !r.is_empty()) {
                reasons
                    .rows
                    .push(vec![row[domain].clone(), Value::Text(reason.to_owned())]);
            }
        }
    }
    let figures = QueryResult {
        columns: shown
            .iter()
            .map(|&i| readiness.columns[i].clone())
            .collect(),
        rows: readiness
            .rows
            .iter()
            .map(|row| shown.iter().map(|&i| row[i].clone()).collect())
            .collect(),
    };
    (figures, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_gets_the_figures_and_one_reason_per_line() {
        let text = |s: &str| Value::Text(s.to_owned());
        let readiness = QueryResult {
            columns: ["domain", "messages", "verdict", "reasons", "policy_changes"]
                .map(String::from)
                .to_vec(),
            rows: vec![vec![
                text("example.com"),
                Value::Int(10),
                text("ready"),
                text("a; b: c, d"),
                text("x"),
            ]],
        };
        let (figures, reasons) = split_reasons(readiness);
        assert_eq!(figures.columns, ["domain", "messages", "verdict"]);
        assert_eq!(
            figures.rows,
            [vec![text("example.com"), Value::Int(10), text("ready")]]
        );
        assert_eq!(
            reasons.rows,
            [
                vec![text("example.com"), text("a")],
                vec![text("example.com"), text("b: c, d")]
            ]
        );
    }
}
