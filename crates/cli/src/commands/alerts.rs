//! `rua alerts`: what changed. Each run stores the events it has not seen before (their
//! rules are `alert_candidates` in sql/views.sql, the thresholds `[alerts]`), prints them and
//! exits with [`exit::NEW_ALERTS`], so that cron mails them and monitoring sees them;
//! `rua alerts list` shows the open ones and `rua alerts ack` closes them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rua_store::{Param, QueryResult, Store, Value};

use crate::exit;
use crate::output::{self, Format};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// A line of text per new alert, or a JSON object per line.
    #[arg(long, value_enum, default_value = "text")]
    format: LineFormat,
    /// Also write per-domain gauges (messages by class, pass ratio, reporters, newest
    /// report, open alerts) to this file in Prometheus' text format, for node_exporter's
    /// textfile collector. Written whole or not at all.
    #[arg(long, value_name = "FILE")]
    prometheus: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// The alerts not acknowledged yet.
    List {
        /// Acknowledged ones too.
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// Acknowledge alerts by key (as printed), or every open one with --all.
    Ack {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        keys: Vec<String>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LineFormat {
    Text,
    Json,
}

pub fn run(args: &Args, settings: &Settings) -> anyhow::Result<u8> {
    match &args.action {
        Some(Action::List { all, format }) => {
            let store = settings.open(true, false)?;
            output::print(output::resolve(*format), &store.alerts(*all)?)?;
            Ok(exit::OK)
        }
        Some(Action::Ack { keys, all }) => {
            let mut store = settings.open(false, false)?;
            let mut done = 0;
            if *all {
                done = store.ack_alerts(None)?;
            }
            for key in keys {
                match store.ack_alerts(Some(key))? {
                    0 => tracing::warn!("no open alert has the key {key:?}"),
                    n => done += n,
                }
            }
            tracing::info!("acknowledged {done} alert(s)");
            Ok(exit::OK)
        }
        None => {
            let mut store = settings.open(false, false)?;
            let raised = store.raise_alerts(&settings.config.alerts.params())?;
            print_lines(args.format, &raised)?;
            if let Some(path) = &args.prometheus {
                write_prometheus(&store, settings.config.alerts.window_days, path)?;
            }
            Ok(if raised.rows.is_empty() {
                exit::OK
            } else {
                exit::NEW_ALERTS
            })
        }
    }
}

/// `[kind] day domain: message (key ...)`, or one JSON object, per alert.
fn print_lines(format: LineFormat, alerts: &QueryResult) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let column = |row: &[Value], name: &str| -> String {
        alerts
            .columns
            .iter()
            .position(|c| c == name)
            .map(|i| row[i].to_string())
            .unwrap_or_default()
    };
    for row in &alerts.rows {
        match format {
            LineFormat::Json => writeln!(out, "{}", output::json_object(&alerts.columns, row))?,
            LineFormat::Text => {
                let domain = column(row, "domain");
                let domain = if domain.is_empty() {
                    "-".to_owned()
                } else {
                    domain
                };
                writeln!(
                    out,
                    "[{}] {} {}: {} (key {})",
                    column(row, "kind"),
                    column(row, "day"),
                    domain,
                    column(row, "message"),
                    column(row, "alert_key")
                )?;
            }
        }
    }
    out.flush()
}

/// What each gauge of `sql/queries/alert_gauges.sql` means.
const GAUGES: &[(&str, &str)] = &[
    ("rua_alerts_open", "Alerts not acknowledged, by kind."),
    (
        "rua_dmarc_pass_ratio",
        "Share of messages passing DMARC (rua's alignment) in the alert window.",
    ),
    (
        "rua_messages",
        "Messages reported in the alert window, by source class.",
    ),
    (
        "rua_newest_report_timestamp_seconds",
        "End of the newest report's period.",
    ),
    (
        "rua_reporters",
        "Organisations that reported in the alert window.",
    ),
];

/// Writes the gauges to a temporary file beside `path` and renames it over `path`, so the
/// collector never reads half a file.
fn write_prometheus(store: &Store, window_days: u32, path: &Path) -> anyhow::Result<()> {
    let gauges = store.query(
        include_str!("../../../../sql/queries/alert_gauges.sql"),
        &[Param::Int(window_days.into())],
    )?;
    let text = prometheus_text(&gauges);
    let tmp = path.with_extension("prom.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn prometheus_text(gauges: &QueryResult) -> String {
    let label = |v: &Value| {
        v.to_string()
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut text = String::new();
    let mut current = String::new();
    for row in &gauges.rows {
        let [metric, domain, name, value_label, value] = &row[..] else {
            continue;
        };
        let metric = metric.to_string();
        if metric != current {
            let help = GAUGES
                .iter()
                .find(|(m, _)| *m == metric)
                .map_or("", |(_, h)| h);
            text.push_str(&format!("# HELP {metric} {help}\n# TYPE {metric} gauge\n"));
            current = metric.clone();
        }
        let mut labels = format!("domain=\"{}\"", label(domain));
        if *name != Value::Null {
            labels.push_str(&format!(",{}=\"{}\"", name, label(value_label)));
        }
        let value = match value {
            Value::Null => "NaN".to_owned(),
            other => other.to_string(),
        };
        text.push_str(&format!("{metric}{{{labels}}} {value}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_help_type_and_escaped_labels() {
        let text = |s: &str| Value::Text(s.to_owned());
        let gauges = QueryResult {
            columns: ["metric", "domain", "label", "label_value", "value"]
                .map(String::from)
                .to_vec(),
            rows: vec![
                vec![
                    text("rua_messages"),
                    text("example.com"),
                    text("class"),
                    text("compliant"),
                    Value::Int(12),
                ],
                vec![
                    text("rua_messages"),
                    text("a\"b"),
                    text("class"),
                    text("unauthorized"),
                    Value::Int(0),
                ],
                vec![
                    text("rua_reporters"),
                    text("example.com"),
                    Value::Null,
                    Value::Null,
                    Value::Int(3),
                ],
            ],
        };
        assert_eq!(
            prometheus_text(&gauges),
            "# HELP rua_messages Messages reported in the alert window, by source class.\n\
             # TYPE rua_messages gauge\n\
             rua_messages{domain=\"example.com\",class=\"compliant\"} 12\n\
             rua_messages{domain=\"a\\\"b\",class=\"unauthorized\"} 0\n\
             # HELP rua_reporters Organisations that reported in the alert window.\n\
             # TYPE rua_reporters gauge\n\
             rua_reporters{domain=\"example.com\"} 3\n"
        );
    }
}
