//! DMARC aggregate reports: the model and a streaming parser.
//!
//! [`parse`] reads one XML document from any `BufRead` and hands each `<record>` to a
//! [`RecordSink`] as soon as it is complete, reusing one record and one window of the input,
//! so memory does not grow with the number of records. It returns the rest of the report
//! ([`Report`]: metadata, published policy, counts and warnings) at the end.
//!
//! Both RFC 7489 and RFC 9990 (`urn:ietf:params:xml:ns:dmarc-2.0`) documents are read,
//! matching elements by local name in any order. What real reporters get wrong is tolerated
//! and recorded as [`Warning`]s; what would make the data wrong is a [`ParseError`].
//!
//! A parse returns `Result<Result<Report, ParseError>, S::Error>`: the outer error is the
//! sink's own (the caller's failure, e.g. its database), the inner one the document's.

mod error;
mod model;
mod parse;

pub use error::{ErrorKind, ParseError};
pub use model::{
    Alignment, AuthResult, Coded, DiscoveryMethod, Disposition, DkimResult, OverrideReason,
    OverrideType, Policy, PolicyPublished, Record, Report, SpfResult, SpfScope, Testing, Verdict,
    Warning, WarningCode,
};
pub use parse::{
    Options, Parsed, RecordSink, parse, parse_bytes, parse_bytes_with, parse_in_windows,
    parse_to_vec, parse_with,
};

/// The RFC 9990 namespace.
pub const DMARC_2_NAMESPACE: &str = "urn:ietf:params:xml:ns:dmarc-2.0";
