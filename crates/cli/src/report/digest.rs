//! The mail digest: a complete MIME message (multipart/alternative: a plain-text part and
//! the report's HTML without script or SVG) built by mail-builder, for
//! `rua report --format eml | sendmail -t`.

use std::fmt::Write as _;

use mail_builder::MessageBuilder;

use super::html::{self, Mode};
use super::{CLASSES, ReportData, cell, class_counts, count, shown, thousands};

/// The plain-text part: the totals, each domain with its classes and verdict, the senders
/// with failing mail, the reporters.
pub fn text(data: &ReportData) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "DMARC report: {} (made {} UTC by rua)\n",
        data.filter_text(),
        data.generated_at
    );
    let d = &data.domains;
    let messages: i128 = d.rows.iter().map(|r| count(cell(d, r, "messages"))).sum();
    let passing: i128 = d.rows.iter().map(|r| count(cell(d, r, "dmarc_pass"))).sum();
    let _ = writeln!(
        out,
        "Messages: {}, passing DMARC: {}",
        thousands(messages),
        thousands(passing)
    );
    if d.rows.is_empty() {
        out.push_str("\nNo aggregate report matches these filters.\n");
    }
    for row in &d.rows {
        let domain = cell(d, row, "domain").to_string();
        let _ = writeln!(
            out,
            "\n{domain}: {} messages, {} passing DMARC ({}), policy {}",
            shown("messages", cell(d, row, "messages")),
            shown("dmarc_pass", cell(d, row, "dmarc_pass")),
            shown("dmarc_pass_pct", cell(d, row, "dmarc_pass_pct")),
            cell(d, row, "policy"),
        );
        let classes: Vec<String> = CLASSES
            .iter()
            .zip(class_counts(d, row))
            .map(|((class, _), n)| format!("{class} {}", thousands(n)))
            .collect();
        let _ = writeln!(out, "  {}", classes.join(", "));
        let r = &data.readiness;
        if let Some(ready) = r
            .rows
            .iter()
            .find(|x| cell(r, x, "domain").to_string() == domain)
        {
            let _ = writeln!(
                out,
                "  readiness for p=reject: {}",
                cell(r, ready, "verdict")
            );
            for reason in cell(r, ready, "reasons")
                .to_string()
                .split("; ")
                .filter(|s| !s.is_empty())
            {
                let _ = writeln!(out, "  - {reason}");
            }
        }
    }
    let s = &data.senders;
    let failing: Vec<&Vec<rua_store::Value>> = s
        .rows
        .iter()
        .filter(|r| count(cell(s, r, "failing")) > 0)
        .take(10)
        .collect();
    if !failing.is_empty() {
        out.push_str("\nSenders with mail failing DMARC:\n");
        for row in failing {
            let _ = writeln!(
                out,
                "  {} ({}): {} failing of {}",
                cell(s, row, "sender"),
                cell(s, row, "sender_type"),
                shown("failing", cell(s, row, "failing")),
                shown("messages", cell(s, row, "messages")),
            );
        }
    }
    let rep = &data.reporters;
    if !rep.rows.is_empty() {
        out.push_str("\nReporters:\n");
        for row in &rep.rows {
            let _ = writeln!(
                out,
                "  {}: {} reports, {} messages, last {}",
                cell(rep, row, "reporter"),
                shown("reports", cell(rep, row, "reports")),
                shown("messages", cell(rep, row, "messages")),
                cell(rep, row, "last_report"),
            );
        }
    }
    out
}

/// The whole message, addressed to `to` (none: no To header, for a caller that adds it).
pub fn eml(data: &ReportData, from: &str, to: &[String]) -> Result<Vec<u8>, anyhow::Error> {
    let html = html::render(data, Mode::Mail)?;
    let subject = if data.filters.is_empty() {
        "DMARC report".to_owned()
    } else {
        format!("DMARC report: {}", data.filters.join(", "))
    };
    let mut message = MessageBuilder::new()
        .from(("rua", from))
        .subject(subject)
        .text_body(text(data))
        .html_body(html);
    if !to.is_empty() {
        let to: Vec<&str> = to.iter().map(String::as_str).collect();
        message = message.to(to);
    }
    Ok(message.write_to_vec()?)
}
