//! The report as one HTML file that needs nothing else: its style, its charts (SVG) and
//! the few lines of script that sort its tables are inside it, and it loads nothing. The
//! mail digest's HTML part is the same page without charts and script (`Mode::Mail`),
//! with bars drawn by CSS, which mail readers show.

use std::fmt::Write as _;

use rua_store::{QueryResult, Value};

use super::charts::{self, ChartError};
use super::{CLASSES, ReportData, cell, class_counts, count, number, shown, thousands};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A page for a browser: charts and sortable tables.
    Page,
    /// The HTML part of a mail: no script, no SVG.
    Mail,
}

/// Text for HTML (element content and attribute values).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f23; --muted: #57606a; --line: #d0d7de; --head: #f3f5f7; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1216; --fg: #e6e8eb; --muted: #9aa4ae; --line: #343b43; --head: #1a1f25; }
}
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
       background: var(--bg); color: var(--fg); margin: 0 auto; max-width: 1360px; padding: 20px 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
p.muted, .muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
table.sortable th { cursor: pointer; }
table.sortable th[data-dir="asc"]::after { content: " \25B2"; }
table.sortable th[data-dir="desc"]::after { content: " \25BC"; }
.nowrap { white-space: nowrap; }
.wide { overflow-x: auto; }
@media print { .wide { overflow: visible; } }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 130px; }
.card b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.bar { display: flex; height: 12px; min-width: 90px; border: 1px solid var(--line); }
.bar span { display: block; height: 100%; }
.key span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
.verdict { font-weight: 600; }
svg { max-width: 100%; height: auto; display: block; }
svg text { fill: var(--fg) !important; }
ul.reasons { margin: 4px 0 10px 0; padding-left: 20px; }
details { margin: 6px 0; } summary { cursor: pointer; }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; }
  section { break-inside: avoid-page; }
  table.sortable th::after { content: none; }
}
"#;

/// Sorts a table by the column whose header is clicked (numbers by `data-value`).
const SORT_SCRIPT: &str = r#"
document.querySelectorAll("table.sortable th").forEach(function (th, i) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var dir = th.dataset.dir === "desc" ? "asc" : "desc";
    table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
    th.dataset.dir = dir;
    var key = function (row) { var td = row.cells[i]; return td.dataset.value !== undefined ? td.dataset.value : td.textContent; };
    var rows = Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"#;

/// A bar of the four classes' shares (CSS only).
fn class_bar(counts: [i128; 4]) -> String {
    let total: i128 = counts.iter().sum();
    let mut out = String::from("<div class=\"bar\" role=\"img\" aria-label=\"");
    let words: Vec<String> = CLASSES
        .iter()
        .zip(counts)
        .map(|((class, _), n)| format!("{class} {}", thousands(n)))
        .collect();
    out.push_str(&esc(&words.join(", ")));
    out.push_str("\">");
    if total > 0 {
        for ((_, colour), n) in CLASSES.iter().zip(counts) {
            if n > 0 {
                let share = n as f64 * 100.0 / total as f64;
                let _ = write!(
                    out,
                    "<span style=\"width:{share:.2}%;background:{colour}\"></span>"
                );
            }
        }
    }
    out.push_str("</div>");
    out
}

fn class_key() -> String {
    let mut out = String::from("<p class=\"key muted\">");
    for (class, colour) in CLASSES {
        let _ = write!(out, "<span style=\"background:{colour}\"></span>{class}");
    }
    out.push_str("</p>");
    out
}

/// A table of `columns` (name in the result, header) of `result`; numbers right-aligned
/// with their raw value in `data-value` (for sorting and for the tests).
fn table(result: &QueryResult, columns: &[(&str, &str)], mode: Mode, id: &str) -> String {
    if result.rows.is_empty() {
        return "<p class=\"muted\">Nothing here for these filters.</p>".to_owned();
    }
    let class = if mode == Mode::Page {
        " class=\"sortable\""
    } else {
        ""
    };
    let mut out = format!("<div class=\"wide\"><table id=\"{id}\"{class}><thead><tr>");
    for (name, header) in columns {
        let numeric = result
            .rows
            .iter()
            .any(|r| number(cell(result, r, name)).is_some());
        let align = if numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<th{align}>{}</th>", esc(header));
    }
    out.push_str("</tr></thead><tbody>");
    for row in &result.rows {
        out.push_str("<tr>");
        for (name, _) in columns {
            let value = cell(result, row, name);
            let _ = match number(value) {
                Some(x) => write!(
                    out,
                    "<td class=\"n\" data-col=\"{name}\" data-value=\"{x}\">{}</td>",
                    esc(&shown(name, value))
                ),
                None => write!(
                    out,
                    "<td data-col=\"{name}\">{}</td>",
                    esc(&shown(name, value))
                ),
            };
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// Totals over every domain.
struct Totals {
    messages: i128,
    passing: i128,
    classes: [i128; 4],
}

fn totals(data: &ReportData) -> Totals {
    let mut t = Totals {
        messages: 0,
        passing: 0,
        classes: [0; 4],
    };
    for row in &data.domains.rows {
        t.messages += count(cell(&data.domains, row, "messages"));
        t.passing += count(cell(&data.domains, row, "dmarc_pass"));
        for (sum, n) in t.classes.iter_mut().zip(class_counts(&data.domains, row)) {
            *sum += n;
        }
    }
    t
}

fn percent(part: i128, whole: i128) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn overview(data: &ReportData, out: &mut String) {
    let t = totals(data);
    let reporters = data.reporters.rows.len();
    let _ = write!(
        out,
        "<div class=\"cards\">\
         <div class=\"card\">messages<b id=\"total-messages\" data-value=\"{}\">{}</b></div>\
         <div class=\"card\">passing DMARC<b id=\"total-pass\" data-value=\"{}\">{}</b>{} messages</div>\
         <div class=\"card\">policy domains<b id=\"total-domains\">{}</b></div>\
         <div class=\"card\">reporters<b>{}</b></div>\
         <div class=\"card\">classes{}</div></div>",
        t.messages,
        thousands(t.messages),
        t.passing,
        percent(t.passing, t.messages),
        thousands(t.passing),
        data.domains.rows.len(),
        reporters,
        class_bar(t.classes),
    );
}

fn plural(n: i128, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `2024-11-27 – 11-29`: the last day without the year the first has.
fn span(first: &str, last: &str) -> String {
    match (first.get(..5), last.get(5..)) {
        (Some(year), Some(rest)) if last.starts_with(year) && first != last => {
            format!("{first} \u{2013} {rest}")
        }
        _ if first == last => first.to_owned(),
        _ => format!("{first} \u{2013} {last}"),
    }
}

/// Domains shown one per row (most messages first); the totals count every domain.
const MAX_DOMAINS: usize = 100;

fn domains(data: &ReportData, mode: Mode, out: &mut String) {
    out.push_str("<section id=\"domains\"><h2>Domains</h2>");
    if data.domains.rows.is_empty() {
        out.push_str("<p class=\"muted\">No aggregate report matches these filters.</p></section>");
        return;
    }
    out.push_str(&class_key());
    let sortable = if mode == Mode::Page {
        " class=\"sortable\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<div class=\"wide\"><table id=\"domain-table\"{sortable}><thead><tr><th>domain</th><th class=\"n\">messages</th>\
         <th>classes</th><th class=\"n\">compliant</th><th class=\"n\">forwarded</th>\
         <th class=\"n\">misconfigured</th><th class=\"n\">unauthorized</th>\
         <th class=\"n\">passing DMARC</th><th>policy</th><th>readiness</th>\
         <th class=\"n\">reporters</th><th>period</th></tr></thead><tbody>"
    );
    let d = &data.domains;
    for row in d.rows.iter().take(MAX_DOMAINS) {
        let domain = cell(d, row, "domain").to_string();
        let verdict = data
            .readiness
            .rows
            .iter()
            .find(|r| cell(&data.readiness, r, "domain").to_string() == domain)
            .map_or_else(
                || "no recent reports".to_owned(),
                |r| cell(&data.readiness, r, "verdict").to_string(),
            );
        let messages = count(cell(d, row, "messages"));
        let passing = count(cell(d, row, "dmarc_pass"));
        let _ = write!(
            out,
            "<tr data-domain=\"{}\"><td>{}</td><td class=\"n\" data-col=\"messages\" data-value=\"{messages}\">{}</td><td>{}</td>",
            esc(&domain),
            esc(&domain),
            thousands(messages),
            class_bar(class_counts(d, row)),
        );
        for ((class, _), n) in CLASSES.iter().zip(class_counts(d, row)) {
            let _ = write!(
                out,
                "<td class=\"n\" data-col=\"{class}\" data-value=\"{n}\">{}</td>",
                thousands(n)
            );
        }
        let _ = write!(
            out,
            "<td class=\"n\" data-col=\"dmarc_pass\" data-value=\"{passing}\">{}</td><td>{}</td>\
             <td class=\"verdict nowrap\">{}</td><td class=\"n\">{}</td><td class=\"nowrap\">{}</td></tr>",
            percent(passing, messages),
            esc(&cell(d, row, "policy").to_string()),
            esc(&verdict),
            esc(&shown("reporters", cell(d, row, "reporters"))),
            esc(&span(
                &cell(d, row, "first_day").to_string(),
                &cell(d, row, "last_day").to_string()
            )),
        );
    }
    out.push_str("</tbody></table></div>");
    if let Some(more) = d.rows.len().checked_sub(MAX_DOMAINS).filter(|n| *n > 0) {
        let _ = write!(
            out,
            "<p class=\"muted\">and {} more domains with fewer messages (<code>rua summary</code> lists them all; the totals above include them).</p>",
            thousands(more as i128)
        );
    }
    out.push_str(
        "<p class=\"muted\">Readiness for <code>p=reject</code> is <code>rua policy</code>'s: \
         over the filters' period, or without <code>--since</code> the last days of reports \
         (<code>[policy] window_days</code>).</p>",
    );
    // The verdicts' reasons (rua policy), a list per domain shown.
    let shown_domains: Vec<String> = d
        .rows
        .iter()
        .take(MAX_DOMAINS)
        .map(|row| cell(d, row, "domain").to_string())
        .collect();
    let r = &data.readiness;
    for row in r
        .rows
        .iter()
        .filter(|row| shown_domains.contains(&cell(r, row, "domain").to_string()))
    {
        let reasons = cell(r, row, "reasons").to_string();
        let open = if shown_domains.len() <= 5 {
            " open"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<details{open}><summary><b>{}</b>: <span class=\"verdict\">{}</span> <span class=\"muted\">({}, {}, published {})</span></summary><ul class=\"reasons\">",
            esc(&cell(r, row, "domain").to_string()),
            esc(&cell(r, row, "verdict").to_string()),
            plural(
                count(cell(r, row, "days")),
                "day of reports",
                "days of reports"
            ),
            plural(count(cell(r, row, "reporters")), "reporter", "reporters"),
            esc(&cell(r, row, "published").to_string()),
        );
        for reason in reasons.split("; ").filter(|s| !s.is_empty()) {
            let _ = write!(out, "<li>{}</li>", esc(reason));
        }
        out.push_str("</ul></details>");
    }
    out.push_str("</section>");
}

/// Days with reports beyond this are shown per month.
const MAX_DAYS: usize = 92;

/// The periods (days, or months when there are more than [`MAX_DAYS`] days with reports)
/// in order, with each one's messages per class and its DMARC pass rate.
struct Periods {
    monthly: bool,
    labels: Vec<String>,
    classes: Vec<[u64; 4]>,
    rates: Vec<Option<f64>>,
}

fn periods(data: &ReportData) -> Periods {
    let dc = &data.daily_classes;
    let day = |row: &[Value]| cell(dc, row, "day").to_string();
    let mut days: Vec<String> = dc.rows.iter().map(|r| day(r)).collect();
    days.dedup();
    let monthly = days.len() > MAX_DAYS;
    let key = |day: String| {
        if monthly {
            day[..7.min(day.len())].to_owned()
        } else {
            day
        }
    };
    let mut labels: Vec<String> = days.into_iter().map(key).collect();
    labels.sort();
    labels.dedup();
    let mut classes = vec![[0u64; 4]; labels.len()];
    for row in &dc.rows {
        let class = cell(dc, row, "class").to_string();
        let period = labels.binary_search(&key(day(row)));
        if let (Ok(i), Some(k)) = (period, CLASSES.iter().position(|(c, _)| *c == class)) {
            classes[i][k] += u64::try_from(count(cell(dc, row, "messages"))).unwrap_or(0);
        }
    }
    // Passing DMARC is the compliant class.
    let rates = classes
        .iter()
        .map(|c| {
            let messages: u64 = c.iter().sum();
            (messages > 0).then(|| c[0] as f64 * 100.0 / messages as f64)
        })
        .collect();
    Periods {
        monthly,
        labels,
        classes,
        rates,
    }
}

fn daily(data: &ReportData, mode: Mode, out: &mut String) -> Result<(), ChartError> {
    let p = periods(data);
    let unit = if p.monthly { "month" } else { "day" };
    let _ = write!(out, "<section id=\"daily\"><h2>Messages per {unit}</h2>");
    if p.labels.is_empty() {
        out.push_str("<p class=\"muted\">No days to show.</p></section>");
        return Ok(());
    }
    match mode {
        Mode::Page => {
            let _ = write!(
                out,
                "<p class=\"muted\">Each {unit}'s messages by class (the days of <code>rua summary --by day</code>{}), then the share passing DMARC.</p>",
                if p.monthly {
                    ", added up per month"
                } else {
                    ""
                }
            );
            out.push_str(&charts::daily_classes(&p.labels, &p.classes)?);
            out.push_str(&charts::pass_rate(&p.labels, &p.rates)?);
        }
        Mode::Mail => {
            out.push_str(&class_key());
            let _ = write!(
                out,
                "<table><thead><tr><th>{unit}</th><th class=\"n\">messages</th><th class=\"n\">passing DMARC</th><th>classes</th></tr></thead><tbody>"
            );
            for ((label, counts), rate) in p.labels.iter().zip(&p.classes).zip(&p.rates) {
                let counts = counts.map(i128::from);
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    esc(label),
                    thousands(counts.iter().sum()),
                    rate.map_or_else(|| "-".to_owned(), |r| format!("{r:.1}%")),
                    class_bar(counts),
                );
            }
            out.push_str("</tbody></table>");
        }
    }
    out.push_str("</section>");
    Ok(())
}

fn alignment(data: &ReportData, mode: Mode, out: &mut String) -> Result<(), ChartError> {
    out.push_str("<section id=\"alignment\"><h2>Alignment</h2>");
    let a = &data.alignment;
    if mode == Mode::Page && !a.rows.is_empty() {
        let rows: Vec<(String, u64, bool)> = a
            .rows
            .iter()
            .map(|r| {
                let name = cell(a, r, "alignment").to_string();
                let passes = name.contains("aligned") && !name.contains("unaligned");
                (
                    name,
                    u64::try_from(count(cell(a, r, "messages"))).unwrap_or(0),
                    passes,
                )
            })
            .collect();
        out.push_str(&charts::alignment(&rows)?);
    }
    out.push_str(&table(
        a,
        &[
            ("alignment", "alignment"),
            ("messages", "messages"),
            ("dmarc_pass_pct", "passing DMARC"),
            ("dkim_aligned_pct", "DKIM aligned"),
            ("spf_aligned_pct", "SPF aligned"),
            ("receiver_pass_pct", "receivers' pass"),
        ],
        mode,
        "alignment-table",
    ));
    out.push_str("</section>");
    Ok(())
}

/// The whole document.
pub fn render(data: &ReportData, mode: Mode) -> Result<String, ChartError> {
    let mut out = String::with_capacity(64 * 1024);
    let filters = data.filter_text();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>DMARC report: {}</title><style>{STYLE}</style></head><body>\
         <header><h1>DMARC report</h1><p class=\"muted\">{}; made {} UTC by rua {}</p></header>",
        esc(&filters),
        esc(&filters),
        esc(&data.generated_at),
        env!("CARGO_PKG_VERSION"),
    );
    overview(data, &mut out);
    domains(data, mode, &mut out);
    daily(data, mode, &mut out)?;
    alignment(data, mode, &mut out)?;
    out.push_str("<section id=\"senders\"><h2>Senders</h2><p class=\"muted\">Who sends as these domains (<code>rua enrich</code>), the most failing messages first.</p>");
    out.push_str(&table(
        &data.senders,
        &[
            ("sender", "sender"),
            ("sender_type", "type"),
            ("messages", "messages"),
            ("failing", "failing"),
            ("dmarc_pass_pct", "passing DMARC"),
            ("dkim_aligned_pct", "DKIM aligned"),
            ("spf_aligned_pct", "SPF aligned"),
            ("source_ips", "addresses"),
            ("ptr", "PTR (busiest)"),
            ("networks", "networks"),
            ("countries", "countries"),
            ("classes", "classes"),
        ],
        mode,
        "sender-table",
    ));
    out.push_str("</section><section id=\"reporters\"><h2>Reporters</h2>");
    out.push_str(&table(
        &data.reporters,
        &[
            ("reporter", "reporter"),
            ("reports", "reports"),
            ("messages", "messages"),
            ("dmarc_pass_pct", "passing DMARC"),
            ("last_report", "last report"),
        ],
        mode,
        "reporter-table",
    ));
    out.push_str("</section><section id=\"other\"><h2>Everything else</h2>");
    out.push_str(&table(
        &data.other,
        &[("what", "what"), ("count", "count"), ("detail", "detail")],
        mode,
        "other-table",
    ));
    out.push_str("</section><footer>Charts drawn with plotters (MIT). Numbers are <code>rua summary</code>'s for the same filters.</footer>");
    if mode == Mode::Page {
        let _ = write!(out, "<script>{SORT_SCRIPT}</script>");
    }
    out.push_str("</body></html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_short() {
        assert_eq!(
            span("2024-11-27", "2024-11-29"),
            "2024-11-27 \u{2013} 11-29"
        );
        assert_eq!(
            span("2024-12-30", "2025-01-02"),
            "2024-12-30 \u{2013} 2025-01-02"
        );
        assert_eq!(span("2024-11-27", "2024-11-27"), "2024-11-27");
    }

    #[test]
    fn text_is_escaped_and_bars_add_up() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let bar = class_bar([1, 0, 1, 2]);
        assert!(bar.contains("width:25.00%;background:#009E73"), "{bar}");
        assert!(bar.contains("width:50.00%;background:#D55E00"), "{bar}");
        assert!(
            !bar.contains("#56B4E9\""),
            "no segment for an empty class: {bar}"
        );
    }

    #[test]
    fn an_empty_report_is_a_page_that_says_so() {
        let page = render(&ReportData::default(), Mode::Page).unwrap_or_default();
        assert!(page.contains("No aggregate report matches these filters."));
        assert!(page.contains("data-value=\"0\""));
        assert!(page.ends_with("</html>\n"));
        let mail = render(&ReportData::default(), Mode::Mail).unwrap_or_default();
        assert!(!mail.contains("<script"));
    }
}
