//! Rows waiting to be appended, held column by column: one contiguous buffer per column
//! instead of an allocation per value, handed to DuckDB as one Arrow batch per table (a
//! row-at-a-time appender call costs more than parsing the row did).

use std::sync::Arc;

use duckdb::arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray,
    TimestampMicrosecondArray,
};
use duckdb::arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use duckdb::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use duckdb::arrow::error::ArrowError;
use duckdb::arrow::record_batch::RecordBatch;

/// A column's DuckDB type, as the table declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// VARCHAR
    Text,
    /// BIGINT
    Int64,
    /// INTEGER
    Int32,
    /// BOOLEAN
    Bool,
    /// TIMESTAMP (microseconds)
    Timestamp,
    /// BLOB
    Blob,
}

impl Kind {
    /// The type `information_schema.columns` reports for a column of this kind.
    #[cfg(test)]
    pub(crate) fn sql_name(self) -> &'static str {
        match self {
            Kind::Text => "VARCHAR",
            Kind::Int64 => "BIGINT",
            Kind::Int32 => "INTEGER",
            Kind::Bool => "BOOLEAN",
            Kind::Timestamp => "TIMESTAMP",
            Kind::Blob => "BLOB",
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::LargeUtf8,
            Kind::Int64 => DataType::Int64,
            Kind::Int32 => DataType::Int32,
            Kind::Bool => DataType::Boolean,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::Blob => DataType::LargeBinary,
        }
    }
}

#[derive(Debug)]
enum Values {
    /// Text and blobs: the bytes of every value end to end, and where each ends.
    Bytes {
        ends: Vec<i64>,
        data: Vec<u8>,
    },
    Int64(Vec<i64>),
    Int32(Vec<i32>),
    Bool(Vec<bool>),
}

#[derive(Debug)]
struct Column {
    kind: Kind,
    values: Values,
    is_valid: Vec<bool>,
}

impl Column {
    fn new(kind: Kind) -> Column {
        let values = match kind {
            Kind::Text | Kind::Blob => Values::Bytes {
                ends: Vec::new(),
                data: Vec::new(),
            },
            Kind::Int64 | Kind::Timestamp => Values::Int64(Vec::new()),
            Kind::Int32 => Values::Int32(Vec::new()),
            Kind::Bool => Values::Bool(Vec::new()),
        };
        Column {
            kind,
            values,
            is_valid: Vec::new(),
        }
    }

    /// An empty column with room for `other`'s values and a quarter more.
    fn sized_like(other: &Column) -> Column {
        fn room(n: usize) -> usize {
            n + n / 4
        }
        let values = match &other.values {
            Values::Bytes { ends, data } => Values::Bytes {
                ends: Vec::with_capacity(room(ends.len())),
                data: Vec::with_capacity(room(data.len())),
            },
            Values::Int64(v) => Values::Int64(Vec::with_capacity(room(v.len()))),
            Values::Int32(v) => Values::Int32(Vec::with_capacity(room(v.len()))),
            Values::Bool(v) => Values::Bool(Vec::with_capacity(room(v.len()))),
        };
        Column {
            kind: other.kind,
            values,
            is_valid: Vec::with_capacity(room(other.is_valid.len())),
        }
    }

    fn extend(&mut self, other: &Column) {
        self.is_valid.extend_from_slice(&other.is_valid);
        match (&mut self.values, &other.values) {
            (Values::Bytes { ends, data }, Values::Bytes { ends: e2, data: d2 }) => {
                let base = data.len() as i64;
                ends.extend(e2.iter().map(|e| base.saturating_add(*e)));
                data.extend_from_slice(d2);
            }
            (Values::Int64(a), Values::Int64(b)) => a.extend_from_slice(b),
            (Values::Int32(a), Values::Int32(b)) => a.extend_from_slice(b),
            (Values::Bool(a), Values::Bool(b)) => a.extend_from_slice(b),
            _ => unreachable!("columns of one table have the same kinds"),
        }
    }

    fn clear(&mut self) {
        self.is_valid.clear();
        match &mut self.values {
            Values::Bytes { ends, data } => {
                ends.clear();
                data.clear();
            }
            Values::Int64(v) => v.clear(),
            Values::Int32(v) => v.clear(),
            Values::Bool(v) => v.clear(),
        }
    }

    fn bytes_len(&self) -> usize {
        match &self.values {
            Values::Bytes { data, .. } => data.len(),
            _ => 0,
        }
    }

    fn into_array(self) -> Result<ArrayRef, ArrowError> {
        let nulls = self
            .is_valid
            .contains(&false)
            .then(|| NullBuffer::new(BooleanBuffer::from(self.is_valid)));
        Ok(match (self.kind, self.values) {
            (kind, Values::Bytes { ends, data }) => {
                let offsets = OffsetBuffer::new(ScalarBuffer::from(
                    std::iter::once(0).chain(ends).collect::<Vec<i64>>(),
                ));
                let data = Buffer::from_vec(data);
                if kind == Kind::Text {
                    Arc::new(LargeStringArray::try_new(offsets, data, nulls)?)
                } else {
                    Arc::new(LargeBinaryArray::try_new(offsets, data, nulls)?)
                }
            }
            (Kind::Timestamp, Values::Int64(v)) => Arc::new(TimestampMicrosecondArray::try_new(
                ScalarBuffer::from(v),
                nulls,
            )?),
            (_, Values::Int64(v)) => Arc::new(Int64Array::try_new(ScalarBuffer::from(v), nulls)?),
            (_, Values::Int32(v)) => Arc::new(Int32Array::try_new(ScalarBuffer::from(v), nulls)?),
            (_, Values::Bool(v)) => Arc::new(BooleanArray::new(BooleanBuffer::from(v), nulls)),
        })
    }
}

/// The rows of one table, column by column. Values are pushed a row at a time, in the
/// table's column order, through [`Columns::row`].
#[derive(Debug)]
pub(crate) struct Columns {
    /// The table's columns (name, kind), in order.
    kinds: &'static [(&'static str, Kind)],
    columns: Vec<Column>,
    n_rows: usize,
}

impl Columns {
    pub(crate) fn new(kinds: &'static [(&'static str, Kind)]) -> Columns {
        Columns {
            kinds,
            columns: kinds.iter().map(|&(_, k)| Column::new(k)).collect(),
            n_rows: 0,
        }
    }

    /// Empty columns with room for as many rows and bytes as these hold, and a quarter
    /// more: the next batch, filled without growing (and so copying) its buffers.
    pub(crate) fn sized_like(&self) -> Columns {
        Columns {
            kinds: self.kinds,
            columns: self.columns.iter().map(Column::sized_like).collect(),
            n_rows: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.n_rows
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.n_rows == 0
    }

    /// Bytes of text and blob values held (what dominates the memory of a batch).
    pub(crate) fn bytes_len(&self) -> usize {
        self.columns.iter().map(Column::bytes_len).sum()
    }

    /// Starts a row: push exactly one value per column, in order.
    pub(crate) fn row(&mut self) -> Row<'_> {
        self.n_rows += 1;
        Row {
            columns: &mut self.columns,
            next: 0,
        }
    }

    /// Empties, keeping the memory for the next rows.
    pub(crate) fn clear(&mut self) {
        self.columns.iter_mut().for_each(Column::clear);
        self.n_rows = 0;
    }

    /// Appends another set of the same table's rows after these.
    pub(crate) fn extend(&mut self, other: &Columns) {
        for (mine, theirs) in self.columns.iter_mut().zip(&other.columns) {
            mine.extend(theirs);
        }
        self.n_rows += other.n_rows;
    }

    /// Takes the rows out as one Arrow batch, leaving this empty.
    pub(crate) fn take_batch(&mut self) -> Result<RecordBatch, ArrowError> {
        let taken = std::mem::replace(self, Columns::new(self.kinds));
        let fields: Vec<Field> = taken
            .kinds
            .iter()
            .map(|&(name, k)| Field::new(name, k.data_type(), true))
            .collect();
        let arrays = taken
            .columns
            .into_iter()
            .map(Column::into_array)
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }
}

/// One row being pushed. Each method takes the next column; pushing a value of the wrong
/// kind is a bug in the caller (the kinds are fixed per table and tested against the schema).
#[derive(Debug)]
pub(crate) struct Row<'c> {
    columns: &'c mut [Column],
    next: usize,
}

impl Row<'_> {
    fn column(&mut self) -> &mut Column {
        let i = self.next;
        self.next += 1;
        &mut self.columns[i]
    }

    /// The next text or blob column's value: valid or not, its bytes written by `write`.
    fn bytes_with(&mut self, is_valid: bool, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        let column = self.column();
        column.is_valid.push(is_valid);
        match &mut column.values {
            Values::Bytes { ends, data } => {
                write(data);
                ends.push(data.len() as i64);
            }
            _ => unreachable!(
                "a text or blob value for a column of kind {:?}",
                column.kind
            ),
        }
        self
    }

    fn bytes(&mut self, value: Option<&[u8]>) -> &mut Self {
        self.bytes_with(value.is_some(), |data| {
            data.extend_from_slice(value.unwrap_or_default());
        })
    }

    pub(crate) fn text(&mut self, value: Option<&str>) -> &mut Self {
        self.bytes(value.map(str::as_bytes))
    }

    /// A value's `Display` form as text, written straight into the column's buffer.
    pub(crate) fn display(&mut self, value: Option<impl std::fmt::Display>) -> &mut Self {
        self.bytes_with(value.is_some(), |data| {
            if let Some(value) = value {
                // Writing into a Vec cannot fail.
                let _ = std::io::Write::write_fmt(data, format_args!("{value}"));
            }
        })
    }

    pub(crate) fn blob(&mut self, value: Option<&[u8]>) -> &mut Self {
        self.bytes(value)
    }

    pub(crate) fn int64(&mut self, value: Option<i64>) -> &mut Self {
        let column = self.column();
        column.is_valid.push(value.is_some());
        match &mut column.values {
            Values::Int64(v) => v.push(value.unwrap_or_default()),
            _ => unreachable!("an integer for a column of kind {:?}", column.kind),
        }
        self
    }

    /// Microseconds since the epoch, into a TIMESTAMP column.
    pub(crate) fn micros(&mut self, value: i64) -> &mut Self {
        self.int64(Some(value))
    }

    /// Seconds since the epoch or NULL, into a TIMESTAMP column.
    pub(crate) fn seconds_or_null(&mut self, value: Option<i64>) -> &mut Self {
        self.int64(value.map(|v| v.saturating_mul(1_000_000)))
    }

    /// Seconds since the epoch, into a TIMESTAMP column.
    pub(crate) fn seconds(&mut self, value: i64) -> &mut Self {
        self.int64(Some(value.saturating_mul(1_000_000)))
    }

    pub(crate) fn int32(&mut self, value: Option<i32>) -> &mut Self {
        let column = self.column();
        column.is_valid.push(value.is_some());
        match &mut column.values {
            Values::Int32(v) => v.push(value.unwrap_or_default()),
            _ => unreachable!("an integer for a column of kind {:?}", column.kind),
        }
        self
    }

    pub(crate) fn bool(&mut self, value: bool) -> &mut Self {
        let column = self.column();
        column.is_valid.push(true);
        match &mut column.values {
            Values::Bool(v) => v.push(value),
            _ => unreachable!("a boolean for a column of kind {:?}", column.kind),
        }
        self
    }
}
