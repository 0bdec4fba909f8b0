//! Turns inputs (files, directories, stdin, messages, mbox, Maildir) into report payloads.
//!
//! Every container is recognized by its bytes, never by its name or Content-Type: gzip
//! (first member only; trailing bytes ignored), zip (every member), plain XML, JSON, RFC 5322
//! messages (every MIME part, nested `message/rfc822` included) and mbox. Each payload is
//! handed to a [`Visitor`] as a stream, with its [`Provenance`] and [`PayloadKind`].
//! Decompression is bounded by [`Limits`], so a bomb stops at the cap with an error. Small
//! files and payloads (up to 8 MiB, every typical report) are read and inflated in memory,
//! where a compressed payload's end and checksum are checked before it is handed over with
//! its compressed form ([`Payload::gzip`]); anything larger is streamed, so a large report
//! is never held whole in memory.

mod inflate;
mod limit;
mod message;
mod sniff;
mod walk;

use std::fmt;

pub use limit::{LimitExceeded, limit_exceeded};
pub use walk::{unpack_message, unpack_path, unpack_reader};

/// Files and compressed payloads up to this size are read and inflated whole in memory;
/// larger ones are streamed. A consumer that reads payloads into memory up to the same size
/// gets every one the unpacker held whole.
pub const IN_MEMORY_BYTES: u64 = 8 << 20;

/// Caps on what one input may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message (or stdin input that is a message) read into memory.
    pub max_message_bytes: u64,
    /// Largest decompressed payload (per gzip stream or zip member).
    pub max_decompressed_bytes: u64,
    /// Most members a zip archive may have.
    pub max_zip_members: usize,
    /// Deepest nesting of containers (gzip, zip, attached messages).
    pub max_depth: usize,
    /// Largest SMTP TLS or failure report a consumer reads into memory (reports of these
    /// kinds are small; a payload that is not a report is never read whole).
    pub max_other_report_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 256 << 20,
            max_decompressed_bytes: 1 << 30,
            max_zip_members: 1000,
            max_depth: 4,
            max_other_report_bytes: 16 << 20,
        }
    }
}

/// What a payload is, decided by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// XML: a DMARC aggregate report (or XML that the parser will refuse).
    Aggregate,
    /// JSON SMTP TLS report (RFC 8460).
    SmtpTls,
    /// A failure (forensic) report message (RFC 6591), kept whole.
    Failure,
    /// Bytes that are none of the above (a message without a report, `unused`, an image).
    NotReport,
}

impl PayloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadKind::Aggregate => "aggregate",
            PayloadKind::SmtpTls => "smtp_tls",
            PayloadKind::Failure => "failure",
            PayloadKind::NotReport => "not_report",
        }
    }
}

/// Headers of the message a payload came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageInfo {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub date: Option<String>,
}

/// Where a payload came from: the input, then each container it was found in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// A file path, `-` for stdin, or an IMAP location given by the caller.
    pub source: String,
    /// Containers from the outside in, e.g. `["message", "part 2 \"r.xml.gz\"", "gzip"]`.
    pub chain: Vec<String>,
    /// The innermost message, if the payload came from one.
    pub message: Option<MessageInfo>,
    /// The innermost file name known: an attachment's or a zip member's.
    pub file_name: Option<String>,
}

impl Provenance {
    pub fn new(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            ..Self::default()
        }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        for link in &self.chain {
            write!(f, " > {link}")?;
        }
        Ok(())
    }
}

/// One payload, to be read while the visitor holds it.
pub struct Payload<'a> {
    pub kind: PayloadKind,
    pub provenance: &'a Provenance,
    /// The payload's bytes, decompressed on the fly and bounded by the limits. Reading may
    /// fail with a decompression error or a [`LimitExceeded`].
    pub reader: &'a mut dyn std::io::BufRead,
    /// The bytes of the innermost container as received (e.g. the gzip attachment), when
    /// they are in memory; kept with a reject so nothing is lost.
    pub container_bytes: Option<&'a [u8]>,
    /// The payload as one gzip member, when it arrived compressed and small enough to be
    /// inflated in memory: a `.gz` member exactly as received, or a zip member's deflate
    /// data as received, framed as gzip. Unpacking has already inflated it, found it ends
    /// where it should and checked its CRC-32 and length against the payload; a consumer
    /// can keep these bytes instead of compressing the payload again.
    pub gzip: Option<&'a [u8]>,
}

impl fmt::Debug for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload")
            .field("kind", &self.kind)
            .field("provenance", &self.provenance)
            .finish_non_exhaustive()
    }
}

/// Input that could not be unpacked at all.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("cannot read input: {0}")]
    Io(#[from] std::io::Error),
    #[error("message is larger than the limit of {limit} bytes")]
    MessageTooLarge { limit: u64 },
    #[error("zip archive has {count} members, more than the limit of {limit}")]
    TooManyMembers { count: usize, limit: usize },
    #[error("containers are nested deeper than the limit of {limit}")]
    TooDeep { limit: usize },
    #[error("unreadable zip archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("unreadable message: the MIME parser failed on it")]
    BadMessage,
}

impl UnpackError {
    /// A stable code for storing and grouping rejects.
    pub fn code(&self) -> &'static str {
        match self {
            UnpackError::Io(e) if limit_exceeded(e).is_some() => "limit_decompressed",
            UnpackError::Io(_) => "io",
            UnpackError::MessageTooLarge { .. } => "limit_message",
            UnpackError::TooManyMembers { .. } => "limit_zip_members",
            UnpackError::TooDeep { .. } => "limit_depth",
            UnpackError::Zip(_) => "bad_zip",
            UnpackError::BadMessage => "bad_message",
        }
    }
}

/// Receives what unpacking finds. Its own error type stops the walk (e.g. the database
/// failed); everything about the input itself is reported through these methods instead.
pub trait Visitor {
    type Error;

    /// A payload; read it (or not) before returning.
    fn payload(&mut self, payload: Payload<'_>) -> Result<(), Self::Error>;

    /// Input that could not be unpacked, with its bytes when they are in memory.
    fn reject(
        &mut self,
        provenance: &Provenance,
        error: UnpackError,
        bytes: Option<&[u8]>,
    ) -> Result<(), Self::Error>;
}
