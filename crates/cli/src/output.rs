//! Query results as a readable table on a terminal, CSV or JSON otherwise.

use std::io::{self, IsTerminal, Write};

use rua_store::{QueryResult, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// The format asked for, else a table on a terminal and CSV in a pipe.
pub fn resolve(format: Option<Format>) -> Format {
    format.unwrap_or(if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Csv
    })
}

pub fn print(format: Format, result: &QueryResult) -> io::Result<()> {
    let mut out = io::stdout().lock();
    write_result(&mut out, format, result)?;
    out.flush()
}

/// A named query result: one part of what a command shows.
#[derive(Debug)]
pub struct Section {
    pub name: &'static str,
    pub result: QueryResult,
}

impl Section {
    pub fn new(name: &'static str, result: QueryResult) -> Section {
        Section { name, result }
    }
}

/// Named results: one alone as [`print()`] shows it; several as tables with titles, CSV
/// blocks separated by a blank line, or one JSON object keyed by name.
pub fn print_sections(format: Format, sections: &[Section]) -> io::Result<()> {
    if let [one] = sections {
        return print(format, &one.result);
    }
    let mut out = io::stdout().lock();
    if format == Format::Json {
        write!(out, "{{")?;
        for (i, section) in sections.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            write!(out, "{comma}{}:", json_string(section.name))?;
            write_json(&mut out, &section.result)?;
        }
        writeln!(out, "}}")?;
    } else {
        for (i, section) in sections.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            if format == Format::Table {
                writeln!(out, "{}", section.name)?;
            }
            write_result(&mut out, format, &section.result)?;
        }
    }
    out.flush()
}

fn write_result(out: &mut impl Write, format: Format, result: &QueryResult) -> io::Result<()> {
    match format {
        Format::Table => write_table(out, result),
        Format::Csv => write_csv(out, result),
        Format::Json => {
            write_json(out, result)?;
            writeln!(out)
        }
    }
}

fn is_numeric(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

fn write_table(out: &mut impl Write, result: &QueryResult) -> io::Result<()> {
    let cells: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| v.to_string().replace('\n', " "))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = result.columns.iter().map(|c| c.chars().count()).collect();
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, texts: &[String], right: &[bool]| -> io::Result<()> {
        let mut parts = Vec::with_capacity(texts.len());
        for ((text, &w), &is_right) in texts.iter().zip(&widths).zip(right) {
            parts.push(if is_right {
                format!("{text:>w$}")
            } else {
                format!("{text:<w$}")
            });
        }
        writeln!(out, "{}", parts.join("  ").trim_end())
    };
    let left = vec![false; widths.len()];
    line(out, &result.columns, &left)?;
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    line(out, &rule, &left)?;
    for (row, values) in cells.iter().zip(&result.rows) {
        let right: Vec<bool> = values.iter().map(is_numeric).collect();
        line(out, row, &right)?;
    }
    if result.rows.is_empty() {
        writeln!(out, "(no rows)")?;
    }
    Ok(())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn write_csv(out: &mut impl Write, result: &QueryResult) -> io::Result<()> {
    let header: Vec<String> = result.columns.iter().map(|c| csv_field(c)).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in &result.rows {
        let fields: Vec<String> = row.iter().map(|v| csv_field(&v.to_string())).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) if x.is_finite() => x.to_string(),
        Value::Float(_) => "null".to_owned(),
        Value::Text(s) => json_string(s),
    }
}

/// One row as a JSON object keyed by column name.
pub fn json_object(columns: &[String], row: &[Value]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .zip(row)
        .map(|(column, value)| format!("{}:{}", json_string(column), json_value(value)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn write_json(out: &mut impl Write, result: &QueryResult) -> io::Result<()> {
    write!(out, "[")?;
    for (i, row) in result.rows.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        write!(out, "{comma}{}", json_object(&result.columns, row))?;
    }
    write!(out, "]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> QueryResult {
        QueryResult {
            columns: vec!["domain".into(), "messages".into()],
            rows: vec![
                vec![Value::Text("example.com".into()), Value::Int(42)],
                vec![Value::Text("a,\"b\"".into()), Value::Null],
            ],
        }
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut out = Vec::new();
        write_csv(&mut out, &sample()).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "domain,messages\nexample.com,42\n\"a,\"\"b\"\"\",\n"
        );
    }

    #[test]
    fn json_is_an_array_of_objects() {
        let mut out = Vec::new();
        write_json(&mut out, &sample()).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"[{"domain":"example.com","messages":42},{"domain":"a,\"b\"","messages":null}]"#
        );
    }

    #[test]
    fn tables_align_numbers_right() {
        let mut out = Vec::new();
        write_table(&mut out, &sample()).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("example.com        42"), "{text}");
    }
}
