//! A document that is not a usable SMTP TLS report, with where (a JSON path).

use std::fmt;

#[derive(Debug)]
pub struct ParseError {
    pub kind: ErrorKind,
    /// JSON path of the problem, e.g. `date-range/start-datetime` (empty for the document).
    pub path: String,
}

impl ParseError {
    pub(crate) fn at(path: &str, kind: ErrorKind) -> ParseError {
        ParseError {
            kind,
            path: path.to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// Not JSON at all, or cut short (serde_json's message says where: line and column).
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not an object")]
    NotObject,
    #[error("not an array but {0}")]
    NotArray(&'static str),
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("invalid value {raw:?}")]
    InvalidValue { raw: String },
}

impl ErrorKind {
    /// A stable code for storing and grouping rejects.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Json(_) => "not_json",
            ErrorKind::NotObject | ErrorKind::NotArray(_) => "not_tls_report",
            ErrorKind::Missing(_) => "missing_element",
            ErrorKind::InvalidValue { .. } => "invalid_value",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.path.is_empty() {
            write!(f, " at {}", self.path)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}
