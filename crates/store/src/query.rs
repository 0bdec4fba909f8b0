//! Running SQL (the views in `sql/`, or an analyst's own) and returning plain values.

use std::fmt;

use duckdb::types::ValueRef;

use crate::{Store, StoreError};

/// One cell of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// A query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    /// Seconds since the Unix epoch, UTC.
    Timestamp(i64),
}

impl duckdb::ToSql for Param {
    fn to_sql(&self) -> duckdb::Result<duckdb::types::ToSqlOutput<'_>> {
        use duckdb::types::{TimeUnit, ToSqlOutput, Value as V};
        Ok(ToSqlOutput::Owned(match self {
            Param::Null => V::Null,
            Param::Int(i) => V::BigInt(*i),
            Param::Float(x) => V::Double(*x),
            Param::Text(t) => V::Text(t.clone()),
            Param::Timestamp(s) => V::Timestamp(TimeUnit::Second, *s),
        }))
    }
}

/// Column names and rows of a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Boolean(b) => Value::Bool(b),
        ValueRef::TinyInt(i) => Value::Int(i.into()),
        ValueRef::SmallInt(i) => Value::Int(i.into()),
        ValueRef::Int(i) => Value::Int(i.into()),
        ValueRef::BigInt(i) => Value::Int(i.into()),
        ValueRef::HugeInt(i) => Value::Int(i),
        ValueRef::UTinyInt(i) => Value::Int(i.into()),
        ValueRef::USmallInt(i) => Value::Int(i.into()),
        ValueRef::UInt(i) => Value::Int(i.into()),
        ValueRef::UBigInt(i) => Value::Int(i.into()),
        ValueRef::Float(x) => Value::Float(x.into()),
        ValueRef::Double(x) => Value::Float(x),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Date32(days) => {
            let text = timestamp_text(duckdb::types::TimeUnit::Second, i64::from(days) * 86_400);
            Value::Text(text[..10].to_owned())
        }
        other => Value::Text(owned_text(other.to_owned())),
    }
}

/// Text for the values [`value`] has no variant of: timestamps, decimals, blobs, and lists
/// as `[a, b]` (ip_info.ptr_names).
fn owned_text(v: duckdb::types::Value) -> String {
    use duckdb::types::Value as V;
    match v {
        V::Timestamp(unit, n) => timestamp_text(unit, n),
        V::Decimal(d) => d.to_string(),
        V::Blob(b) => format!("<{} bytes>", b.len()),
        V::List(items) | V::Array(items) => {
            let items: Vec<String> = items
                .into_iter()
                .map(|item| match value(ValueRef::from(&item)) {
                    Value::Null => "NULL".to_owned(),
                    shown => shown.to_string(),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        owned => format!("{owned:?}"),
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) for a DuckDB timestamp.
fn timestamp_text(unit: duckdb::types::TimeUnit, n: i64) -> String {
    use duckdb::types::TimeUnit;
    let seconds = match unit {
        TimeUnit::Second => n,
        TimeUnit::Millisecond => n.div_euclid(1_000),
        TimeUnit::Microsecond => n.div_euclid(1_000_000),
        TimeUnit::Nanosecond => n.div_euclid(1_000_000_000),
    };
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (year, month, day) = rua_report::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

impl Store {
    /// Runs one SQL statement with parameters and collects its result.
    pub fn query(&self, sql: &str, params: &[Param]) -> Result<QueryResult, StoreError> {
        collect(&self.conn, sql, params)
    }

    /// Caps the memory DuckDB holds for this connection's queries (`"192MB"`).
    pub fn limit_memory(&self, limit: &str) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                &include_str!("../../../sql/store/memory_limit.sql")
                    .replace("{memory_limit}", &crate::export::literal(limit)),
            )
            .map_err(StoreError::db("setting the memory limit"))
    }
}

/// Runs one statement on `conn` (the store's, or a transaction's) and collects its result.
pub(crate) fn collect(
    conn: &duckdb::Connection,
    sql: &str,
    params: &[Param],
) -> Result<QueryResult, StoreError> {
    let mut stmt = conn.prepare(sql).map_err(StoreError::Query)?;
    let mut rows = stmt
        .query(duckdb::params_from_iter(params))
        .map_err(StoreError::Query)?;
    let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
    let mut result = QueryResult {
        columns,
        rows: Vec::new(),
    };
    while let Some(row) = rows.next().map_err(StoreError::Query)? {
        let mut cells = Vec::with_capacity(result.columns.len());
        for i in 0..result.columns.len() {
            cells.push(value(row.get_ref(i).map_err(StoreError::Query)?));
        }
        result.rows.push(cells);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_utc_dates() {
        use duckdb::types::TimeUnit;
        assert_eq!(timestamp_text(TimeUnit::Second, 0), "1970-01-01 00:00:00");
        assert_eq!(
            timestamp_text(TimeUnit::Second, 1_732_838_399),
            "2024-11-28 23:59:59"
        );
        assert_eq!(
            timestamp_text(TimeUnit::Microsecond, 951_782_400_000_000),
            "2000-02-29 00:00:00"
        );
    }
}
