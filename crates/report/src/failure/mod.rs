//! DMARC failure reports (RFC 6591 ARF, the `ruf=` address): one message that failed DMARC,
//! described by a `message/feedback-report` part and followed by the original message or its
//! headers. [`parse`] reads a whole report mail held in memory (the unpacker hands over the
//! message that holds the ARF part) into a [`FailureReport`]: every RFC 6591 field, raw and
//! normalized where it has a normal form, and the original's headers that matter. The original
//! body is returned apart ([`Parsed::original_body`]) so that a caller can choose not to keep
//! it (it is personal data).

mod parse;

pub use parse::{FailureReport, ParseError, Parsed, parse};
