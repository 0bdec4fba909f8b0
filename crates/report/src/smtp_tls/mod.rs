//! SMTP TLS reports (RFC 8460): whether senders could deliver to a domain's MX hosts over
//! TLS as its MTA-STS or DANE policy demands. A report is JSON, small (a summary per policy
//! and a line per kind of failure), so [`parse`] takes it whole from memory; the caller bounds
//! its size. What real reporters do differently is tolerated and recorded as [`Warning`]s;
//! what would make the data wrong (no report-id, no period, no policies) is a [`ParseError`].

mod error;
mod model;
mod parse;

pub use error::{ErrorKind, ParseError};
pub use model::{
    FailureDetail, PolicyType, ResultType, TlsPolicy, TlsReport, Warning, WarningCode,
};
pub use parse::parse;
