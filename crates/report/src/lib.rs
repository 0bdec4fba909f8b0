//! The reports rua reads, one module per kind, and nothing else: this crate does no I/O of its
//! own (it reads only the `BufRead` or bytes it is given).
//!
//! - [`aggregate`]: DMARC aggregate reports (RFC 7489 and RFC 9990), a streaming XML parser.
//! - [`smtp_tls`]: SMTP TLS reports (RFC 8460), JSON held in memory (they are small).
//! - [`failure`]: failure reports (RFC 6591 ARF), MIME read by mail-parser.
//!
//! What they share lives here: [`Vocabulary`] and [`Coded`] (enumerated words with their
//! aliases, raw beside normalized) and the UTF-8 repair in front of a parser (`lossy`).

pub mod aggregate;
pub mod failure;
mod lossy;
pub mod smtp_tls;
pub mod time;
mod vocab;

pub use vocab::{Coded, Vocabulary};
