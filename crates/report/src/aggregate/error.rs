//! Hard failures: the document cannot be read as an aggregate report.

use std::fmt;

/// A document that is not a readable aggregate report, with where the problem is.
#[derive(Debug)]
pub struct ParseError {
    pub kind: ErrorKind,
    /// Element path at the problem, e.g. `feedback/record/row/count` (empty before the root).
    pub path: String,
    /// Byte offset of the problem in the document.
    pub offset: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("empty document")]
    Empty,
    #[error("not XML: {found:?} where markup was expected")]
    NotXml { found: String },
    #[error("not an aggregate report: root element is <{root}>, expected <feedback>")]
    NotFeedback { root: String },
    #[error("malformed XML: {0}")]
    Xml(#[from] quick_xml::Error),
    #[error("malformed XML: invalid element name <{name}>")]
    InvalidName { name: String },
    #[error("mismatched end tag </{found}>, expected </{expected}>")]
    MismatchedEnd { expected: String, found: String },
    #[error("truncated document: the input ends before </{open}>")]
    Truncated { open: String },
    #[error("missing required element <{0}>")]
    Missing(&'static str),
    #[error("invalid value {raw:?}")]
    InvalidValue { raw: String },
    #[error("element text longer than the limit of {limit} bytes")]
    TextTooLong { limit: usize },
    /// The input itself failed (a decompression error, a size limit).
    #[error("cannot read the document: {0}")]
    Read(std::io::Error),
}

impl ErrorKind {
    /// A stable code for storing and grouping rejects.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::NotXml { .. } => "not_xml",
            ErrorKind::NotFeedback { .. } => "not_feedback",
            ErrorKind::Xml(_) | ErrorKind::InvalidName { .. } => "malformed_xml",
            ErrorKind::MismatchedEnd { .. } => "mismatched_end_tag",
            ErrorKind::Truncated { .. } => "truncated",
            ErrorKind::Missing(_) => "missing_element",
            ErrorKind::InvalidValue { .. } => "invalid_value",
            ErrorKind::TextTooLong { .. } => "limit_text",
            ErrorKind::Read(_) => "read_error",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.path.is_empty() {
            write!(f, " at <{}>", self.path)?;
        }
        write!(f, " (byte {})", self.offset)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Xml(e) => Some(e),
            ErrorKind::Read(e) => Some(e),
            _ => None,
        }
    }
}
