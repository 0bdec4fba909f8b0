//! The reports rua reads, one module per kind, and nothing else: this crate does no I/O of its
//! own (it reads only the `BufRead` or bytes it is given).
//!
//! - [`aggregate`]: DMARC aggregate reports (RFC 7489 and RFC 9990), a streaming XML parser.
//! - [`smtp_tls`]: SMTP TLS reports (RFC 8460), JSON held in memory (they are small).
//!
//! Failure reports (RFC 6591) will be a sibling, with its own model, parser and error. What they share lives here:
//! [`Vocabulary`] (enumerated words with their aliases) and the UTF-8 repair in front of a
//! parser (`lossy`).

pub mod aggregate;
mod lossy;
pub mod smtp_tls;
mod vocab;

pub use vocab::{Coded, Vocabulary};
