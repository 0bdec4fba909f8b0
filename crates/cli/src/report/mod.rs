//! `rua report`'s renderers: the self-contained HTML page (`html.rs`, with the charts of
//! `charts.rs`) and the mail digest (`digest.rs`), both from one [`ReportData`] that the
//! command fills with the queries of `sql/queries/report_*.sql` and the summaries'.

pub mod charts;
pub mod digest;
pub mod html;

use rua_store::{QueryResult, Value};

/// What a report shows, each part a query result.
#[derive(Debug, Default)]
pub struct ReportData {
    /// The filters in words (`domain example.com`, `since 2024-11-01`), empty for none.
    pub filters: Vec<String>,
    /// When the report was made (UTC, `YYYY-MM-DD HH:MM`).
    pub generated_at: String,
    /// `rua summary`'s domains: messages by class, pass rates, policy, reporters, days.
    pub domains: QueryResult,
    /// `rua policy`'s readiness rows (verdict, reasons) for the same filters.
    pub readiness: QueryResult,
    /// Messages per day and class (`report_daily.sql`): each day adds up to `rua summary
    /// --by day`'s messages, and its compliant messages to that day's `dmarc_pass`.
    pub daily_classes: QueryResult,
    /// `rua summary --by alignment`.
    pub alignment: QueryResult,
    /// Senders, failing ones first (`report_senders.sql`).
    pub senders: QueryResult,
    /// Reporters (`report_reporters.sql`).
    pub reporters: QueryResult,
    /// Everything else, in brief (`report_other.sql`).
    pub other: QueryResult,
}

impl ReportData {
    /// The filters in words, or `every report`.
    pub fn filter_text(&self) -> String {
        if self.filters.is_empty() {
            "every report".to_owned()
        } else {
            self.filters.join(", ")
        }
    }
}

/// The source classes in the order they are shown, with their colours (Okabe-Ito: told
/// apart by readers with any common colour-vision deficiency, and in grey print by their
/// lightness).
pub const CLASSES: [(&str, &str); 4] = [
    ("compliant", "#009E73"),
    ("forwarded", "#56B4E9"),
    ("misconfigured", "#E69F00"),
    ("unauthorized", "#D55E00"),
];

/// Passing and failing DMARC, in the same palette.
pub const PASS_COLOUR: &str = "#0072B2";
pub const FAIL_COLOUR: &str = "#D55E00";

/// The index of a column, by name.
pub fn column(result: &QueryResult, name: &str) -> Option<usize> {
    result.columns.iter().position(|c| c == name)
}

/// A cell by column name (Null when there is no such column).
pub fn cell<'a>(result: &QueryResult, row: &'a [Value], name: &str) -> &'a Value {
    const NULL: &Value = &Value::Null;
    column(result, name)
        .and_then(|i| row.get(i))
        .unwrap_or(NULL)
}

/// A cell as a number: integers, floats, and decimals (which arrive as text, digits and a
/// point only: a sender named `1e5` or `inf` stays text).
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(x) => Some(*x),
        Value::Text(t)
            if t.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-') =>
        {
            t.parse().ok()
        }
        Value::Text(_) | Value::Bool(_) | Value::Null => None,
    }
}

/// An integer cell, 0 when empty.
pub fn count(v: &Value) -> i128 {
    match v {
        Value::Int(i) => *i,
        other => number(other).map_or(0, |x| x as i128),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A cell for people: counts with thousands separators, percentages as `97.3%`, text as
/// it is, nothing for NULL.
pub fn shown(name: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        _ if name.ends_with("_pct") => number(v).map_or_else(String::new, |x| format!("{x:.1}%")),
        Value::Int(i) => thousands(*i),
        other => other.to_string(),
    }
}

/// Messages per class of one domain row (or of any row with the four class columns).
pub fn class_counts(result: &QueryResult, row: &[Value]) -> [i128; 4] {
    CLASSES.map(|(class, _)| count(cell(result, row, class)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(
            shown("dmarc_pass_pct", &Value::Text("97.25".into())),
            "97.2%"
        );
        assert_eq!(shown("messages", &Value::Int(12_345)), "12,345");
        assert_eq!(shown("sender", &Value::Null), "");
    }
}
