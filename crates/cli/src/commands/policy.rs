//! `rua policy`: is each domain ready for `p=reject`? Messages by class, what enforcement
//! would do, the senders to fix first, and a verdict with its reasons (all in
//! `sql/queries/policy_*.sql`; the thresholds are `[policy]` in the configuration).

use rua_store::Param;

use crate::commands::summary::Filters;
use crate::exit;
use crate::output::{self, Format, Section};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    filters: Filters,
    /// Without --since: the days judged, up to the newest report [default: [policy]
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
    let mut params = args.filters.params();
    params.push(Param::Int(args.days.unwrap_or(policy.window_days).into()));
    let mut sections = Vec::new();
    for part in parts {
        let mut params = params.clone();
        if part == Part::Readiness {
            params.extend([
                Param::Int(policy.min_days.into()),
                Param::Int(policy.min_reporters.into()),
                Param::Float(policy.max_misconfigured_pct),
            ]);
        }
        sections.push(Section::new(
            part.title(),
            store.query(part.sql(), &params)?,
        ));
    }
    output::print_sections(format, &sections)?;
    Ok(exit::OK)
}
