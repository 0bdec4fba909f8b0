//! `rua summary`: named sections of query results, which any output renders (a table, CSV,
//! JSON). To add a summary: a query in `sql/queries/` and a variant of [`By`].

use rua_store::{Param, Store};

use crate::exit;
use crate::output::{self, Format, Section};
use crate::period;
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Group by source IP, network (/24, /64), alignment category, From domain,
    /// reporting organisation, day, or disposition and override reason; by class; by who
    /// sent it (sender, asn, country: see `rua enrich`); or the SMTP TLS reports per policy domain
    /// (tls), or the failure reports per domain and source (failure).
    #[arg(long, value_enum)]
    by: Option<By>,
    #[command(flatten)]
    filters: Filters,
    /// Most rows per summary (per domain for the default's failing sources).
    #[arg(long)]
    limit: Option<i64>,
    #[arg(long, value_enum)]
    format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    Ip,
    Net,
    Alignment,
    Domain,
    Reporter,
    Day,
    Disposition,
    /// SMTP TLS reports: sessions and failures per policy domain and policy type.
    Tls,
    /// Failure reports per reported domain and source address.
    Failure,
    /// Per source class (compliant, forwarded, misconfigured, unauthorized) and rule.
    Class,
    /// Per class and, within it, per sender, with the rule and the fix (--limit: per class).
    ClassSender,
    /// Per named sender (`rua enrich`).
    Sender,
    /// Per network owner (autonomous system), from the IP databases.
    Asn,
    /// Per country, from the IP databases.
    Country,
}

impl By {
    fn sql(self) -> &'static str {
        match self {
            By::Ip => include_str!("../../../../sql/queries/summary_by_ip.sql"),
            By::Net => include_str!("../../../../sql/queries/summary_by_network.sql"),
            By::Alignment => include_str!("../../../../sql/queries/summary_by_alignment.sql"),
            By::Domain => include_str!("../../../../sql/queries/summary_by_domain.sql"),
            By::Reporter => include_str!("../../../../sql/queries/summary_by_reporter.sql"),
            By::Day => include_str!("../../../../sql/queries/summary_by_day.sql"),
            By::Disposition => include_str!("../../../../sql/queries/summary_by_disposition.sql"),
            By::Tls => include_str!("../../../../sql/queries/summary_by_tls.sql"),
            By::Failure => include_str!("../../../../sql/queries/summary_by_failure.sql"),
            By::Class => include_str!("../../../../sql/queries/summary_by_class.sql"),
            By::ClassSender => {
                include_str!("../../../../sql/queries/summary_by_class_sender.sql")
            }
            By::Sender => include_str!("../../../../sql/queries/summary_by_sender.sql"),
            By::Asn => include_str!("../../../../sql/queries/summary_by_asn.sql"),
            By::Country => include_str!("../../../../sql/queries/summary_by_country.sql"),
        }
    }
}

/// Filters shared by the summaries.
#[derive(Debug, clap::Args)]
pub struct Filters {
    /// Only this policy domain or From domain.
    #[arg(long)]
    domain: Option<String>,
    /// Reports whose period ends after this: a date (2024-11-01), a date-time
    /// (2024-11-01T12:00:00), or a duration back from now (30d, 12h, 2w).
    #[arg(long, value_parser = period::parse)]
    since: Option<i64>,
    /// Reports whose period begins before this (same forms as --since).
    #[arg(long, value_parser = period::parse)]
    until: Option<i64>,
    /// Only reporting organisations matching this (case-insensitive; % is a wildcard).
    #[arg(long)]
    reporter: Option<String>,
}

impl Filters {
    /// The filters in words (`domain example.com`, `since 2024-11-01 00:00`), none for none.
    pub fn describe(&self) -> Vec<String> {
        let mut words = Vec::new();
        if let Some(domain) = &self.domain {
            words.push(format!("domain {domain}"));
        }
        if let Some(since) = self.since {
            words.push(format!("since {}", period::text(since)));
        }
        if let Some(until) = self.until {
            words.push(format!("until {}", period::text(until)));
        }
        if let Some(reporter) = &self.reporter {
            words.push(format!("reporter {reporter}"));
        }
        words
    }

    pub fn params(&self) -> Vec<Param> {
        let text = |v: &Option<String>| v.clone().map_or(Param::Null, Param::Text);
        let time = |v: Option<i64>| v.map_or(Param::Null, Param::Timestamp);
        vec![
            text(&self.domain),
            time(self.since),
            time(self.until),
            text(&self.reporter),
        ]
    }
}

/// The sections of a summary: one for `--by`, else the domains and their failing sources.
pub fn sections(
    store: &Store,
    by: Option<By>,
    filters: &Filters,
    limit: Option<i64>,
) -> anyhow::Result<Vec<Section>> {
    let mut params = filters.params();
    Ok(match by {
        Some(by) => {
            params.push(Param::Int(limit.unwrap_or(i64::MAX)));
            vec![Section::new("summary", store.query(by.sql(), &params)?)]
        }
        None => {
            let domains = store.query(
                include_str!("../../../../sql/queries/summary_domains.sql"),
                &params,
            )?;
            params.push(Param::Int(limit.unwrap_or(5)));
            let failing = store.query(
                include_str!("../../../../sql/queries/summary_top_failing.sql"),
                &params,
            )?;
            vec![
                Section::new("domains", domains),
                Section::new("top failing sources", failing),
            ]
        }
    })
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    let store = settings.open(true, false)?;
    let sections = sections(&store, args.by, &args.filters, args.limit)?;
    output::print_sections(output::resolve(args.format), &sections)?;
    Ok(exit::OK)
}
