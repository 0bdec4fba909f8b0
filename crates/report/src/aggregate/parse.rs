//! The pull loop: one quick-xml event at a time, borrowed from bytes in memory (a whole
//! document or one reused window of a stream), and an explicit element stack.

use std::borrow::Cow;
use std::io::BufRead;
use std::net::IpAddr;

use quick_xml::Reader;
use quick_xml::errors::SyntaxError;
use quick_xml::events::{BytesStart, Event};

use super::error::{ErrorKind, ParseError};
use super::model::{
    Coded, DkimResult, OverrideReason, Record, Report, SpfResult, Warning, WarningCode,
};
use crate::lossy::Utf8Lossy;
use crate::vocab::{Reading, Vocabulary, read_word};

/// Receives each record while the document is read. The record is reused afterwards: copy
/// what you keep. A sink that fails (its database, say) stops the parse with its own error,
/// which the parse returns as it was.
pub trait RecordSink {
    type Error;

    fn record(&mut self, record: &Record) -> Result<(), Self::Error>;
}

/// A closure that takes every record and cannot fail.
impl<F: FnMut(&Record)> RecordSink for F {
    type Error = std::convert::Infallible;

    fn record(&mut self, record: &Record) -> Result<(), Self::Error> {
        self(record);
        Ok(())
    }
}

/// What a parse comes to: the report or what is wrong with the document (inner), unless the
/// sink failed (outer, the sink's own error).
pub type Parsed<E> = Result<Result<Report, ParseError>, E>;

/// Limits on what one document may make the parser hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Longest text of one element (and longest single piece of markup in a stream), in
    /// bytes; a longer one fails the report with [`ErrorKind::TextTooLong`] at its element.
    pub max_text_bytes: usize,
}

impl Options {
    /// 1 MiB: a thousand times longer than any real value.
    pub const DEFAULT_MAX_TEXT_BYTES: usize = 1 << 20;
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_text_bytes: Self::DEFAULT_MAX_TEXT_BYTES,
        }
    }
}

/// Parses one aggregate report, streaming its records into `sink`.
///
/// Records reach the sink before the document has been read to its end: if this returns an
/// error, discard what the sink received.
pub fn parse<R: BufRead, S: RecordSink + ?Sized>(input: R, sink: &mut S) -> Parsed<S::Error> {
    parse_with(input, sink, &Options::default())
}

/// [`parse`] within `options`.
pub fn parse_with<R: BufRead, S: RecordSink + ?Sized>(
    input: R,
    sink: &mut S,
    options: &Options,
) -> Parsed<S::Error> {
    parse_windows(input, sink, WINDOW_BYTES, options)
}

/// How much of a stream [`parse`] reads at a time (more when a single event is longer).
const WINDOW_BYTES: usize = 256 * 1024;

/// [`parse`] reading `window` bytes at a time: public so that tests can cut a document at
/// every place. The result does not depend on `window`.
#[doc(hidden)]
pub fn parse_in_windows<R: BufRead, S: RecordSink + ?Sized>(
    input: R,
    sink: &mut S,
    window: usize,
) -> Parsed<S::Error> {
    parse_windows(input, sink, window, &Options::default())
}

fn parse_windows<R: BufRead, S: RecordSink + ?Sized>(
    input: R,
    sink: &mut S,
    window: usize,
    options: &Options,
) -> Parsed<S::Error> {
    let mut source = Utf8Lossy::new(input);
    let mut parser = Parser::new(options);
    let result = parser.run_windows(&mut source, sink, window.max(1));
    let bom = if source.has_bom { 3 } else { 0 };
    let invalid = (source.n_invalid_bytes > 0).then(|| {
        (
            source.n_invalid_bytes,
            source.first_invalid_offset.unwrap_or(0),
        )
    });
    parser.conclude(result, bom, invalid)
}

/// Parses a report held in memory. Valid UTF-8 (the usual case) is read in place, without
/// copying events into a buffer; anything else goes through the same repair as [`parse`].
/// The result is the same either way.
pub fn parse_bytes<S: RecordSink + ?Sized>(bytes: &[u8], sink: &mut S) -> Parsed<S::Error> {
    parse_bytes_with(bytes, sink, &Options::default())
}

/// [`parse_bytes`] within `options`.
pub fn parse_bytes_with<S: RecordSink + ?Sized>(
    bytes: &[u8],
    sink: &mut S,
    options: &Options,
) -> Parsed<S::Error> {
    let bom = leading_boms(bytes);
    let text = &bytes[bom..];
    if std::str::from_utf8(text).is_err() {
        return parse_with(bytes, sink, options);
    }
    let mut parser = Parser::new(options);
    let result = match parser.run(&mut Borrowed::new(text, 0), sink) {
        Ok(Stop::Closed) => Ok(()),
        Ok(Stop::Eof) => Err(parser.eof().into()),
        Err(halt) => Err(halt),
    };
    parser.conclude(result, bom as u64, None)
}

/// Reads `source` to its end.
fn drain(source: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let n = source.fill_buf()?.len();
        if n == 0 {
            return Ok(());
        }
        source.consume(n);
    }
}

/// How many bytes of byte order marks `bytes` starts with. quick-xml drops one at the start of
/// its input without counting it in its positions, so rua drops them all before and counts
/// them itself (a stream's first one is dropped by [`Utf8Lossy`]).
fn leading_boms(bytes: &[u8]) -> usize {
    let mut n = 0;
    while bytes[n..].starts_with(crate::lossy::BOM) {
        n += crate::lossy::BOM.len();
    }
    n
}

/// Names are matched by the parser itself so that it can recover from junk elements.
fn configure<R>(reader: &mut Reader<R>) {
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    config.check_comments = false;
}

/// Where [`Parser::run`] stopped without an error.
enum Stop {
    /// The root element closed: the report is complete.
    Closed,
    /// The input ended (for a window of a stream: the window did).
    Eof,
}

/// The events of bytes in memory (borrowed from them), with positions counted from `base`:
/// a whole document, or a window of a stream that starts `base` bytes into it.
struct Borrowed<'i> {
    reader: Reader<&'i [u8]>,
    base: u64,
}

impl<'i> Borrowed<'i> {
    fn new(bytes: &'i [u8], base: u64) -> Self {
        let mut reader = Reader::from_reader(bytes);
        configure(&mut reader);
        Self { reader, base }
    }

    fn next_event(&mut self) -> quick_xml::Result<Event<'i>> {
        self.reader.read_event()
    }

    fn buffer_position(&self) -> u64 {
        self.base + self.reader.buffer_position()
    }

    fn error_position(&self) -> u64 {
        self.base + self.reader.error_position()
    }
}

/// Parses a report held in memory and collects its records (for tests and small inputs).
pub fn parse_to_vec(bytes: &[u8]) -> Result<(Report, Vec<Record>), ParseError> {
    let mut records = Vec::new();
    let Ok(parsed) = parse_bytes(bytes, &mut |r: &Record| records.push(r.clone()));
    Ok((parsed?, records))
}

/// Where the parser is: one entry per open element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// An `<xs:schema>` start tag some reporters put around the report.
    Wrapper,
    Feedback,
    Metadata,
    DateRange,
    Policy,
    Record,
    Row,
    PolicyEvaluated,
    Reason,
    Identifiers,
    AuthResults,
    Dkim,
    Spf,
    Leaf(Leaf),
    /// An element rua does not read, and everything inside it.
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Version,
    OrgName,
    Email,
    ExtraContactInfo,
    ReportId,
    Begin,
    End,
    Error,
    Generator,
    Domain,
    Adkim,
    Aspf,
    P,
    Sp,
    Np,
    Pct,
    Fo,
    Testing,
    DiscoveryMethod,
    SourceIp,
    Count,
    Disposition,
    VerdictDkim,
    VerdictSpf,
    ReasonType,
    ReasonComment,
    HeaderFrom,
    EnvelopeFrom,
    EnvelopeTo,
    AuthDomain,
    Selector,
    AuthResult,
    HumanResult,
    Scope,
}

/// What a child element becomes, and what the parser should say about it.
enum Child {
    Node(Node),
    /// Known container, skipped quietly (RFC 9990 extensions).
    Quiet,
    Unknown,
}

fn child(parent: Node, name: &str) -> Child {
    use Leaf as L;
    use Node as N;
    let node = match (parent, name) {
        (N::Wrapper, "feedback") => N::Feedback,
        (N::Feedback, "version") => N::Leaf(L::Version),
        (N::Feedback, "report_metadata") => N::Metadata,
        (N::Feedback, "policy_published") => N::Policy,
        (N::Feedback, "record") => N::Record,
        (N::Feedback | N::Record, "extension" | "extensions") => return Child::Quiet,
        (N::Metadata, "org_name") => N::Leaf(L::OrgName),
        (N::Metadata, "email") => N::Leaf(L::Email),
        (N::Metadata, "extra_contact_info") => N::Leaf(L::ExtraContactInfo),
        (N::Metadata, "report_id") => N::Leaf(L::ReportId),
        (N::Metadata, "date_range") => N::DateRange,
        (N::Metadata, "error") => N::Leaf(L::Error),
        (N::Metadata, "generator") => N::Leaf(L::Generator),
        (N::DateRange, "begin") => N::Leaf(L::Begin),
        (N::DateRange, "end") => N::Leaf(L::End),
        (N::Policy, "domain") => N::Leaf(L::Domain),
        (N::Policy, "adkim") => N::Leaf(L::Adkim),
        (N::Policy, "aspf") => N::Leaf(L::Aspf),
        (N::Policy, "p") => N::Leaf(L::P),
        (N::Policy, "sp") => N::Leaf(L::Sp),
        (N::Policy, "np") => N::Leaf(L::Np),
        (N::Policy, "pct") => N::Leaf(L::Pct),
        (N::Policy, "fo") => N::Leaf(L::Fo),
        (N::Policy, "testing") => N::Leaf(L::Testing),
        (N::Policy, "discovery_method") => N::Leaf(L::DiscoveryMethod),
        (N::Record, "row") => N::Row,
        (N::Record, "identifiers" | "identities") => N::Identifiers,
        (N::Record, "auth_results") => N::AuthResults,
        (N::Row, "source_ip") => N::Leaf(L::SourceIp),
        (N::Row, "count") => N::Leaf(L::Count),
        (N::Row, "policy_evaluated") => N::PolicyEvaluated,
        (N::PolicyEvaluated, "disposition") => N::Leaf(L::Disposition),
        (N::PolicyEvaluated, "dkim") => N::Leaf(L::VerdictDkim),
        (N::PolicyEvaluated, "spf") => N::Leaf(L::VerdictSpf),
        (N::PolicyEvaluated, "reason") => N::Reason,
        (N::Reason, "type") => N::Leaf(L::ReasonType),
        (N::Reason, "comment") => N::Leaf(L::ReasonComment),
        (N::Identifiers, "header_from") => N::Leaf(L::HeaderFrom),
        (N::Identifiers, "envelope_from") => N::Leaf(L::EnvelopeFrom),
        (N::Identifiers, "envelope_to") => N::Leaf(L::EnvelopeTo),
        (N::AuthResults, "dkim") => N::Dkim,
        (N::AuthResults, "spf") => N::Spf,
        (N::Dkim | N::Spf, "domain") => N::Leaf(L::AuthDomain),
        (N::Dkim, "selector") => N::Leaf(L::Selector),
        (N::Spf, "scope") => N::Leaf(L::Scope),
        (N::Dkim | N::Spf, "result") => N::Leaf(L::AuthResult),
        (N::Dkim | N::Spf, "human_result") => N::Leaf(L::HumanResult),
        (N::Skip, _) => return Child::Quiet,
        _ => return Child::Unknown,
    };
    Child::Node(node)
}

/// Warnings, merged by (code, path) so that a quirk on every record costs one entry.
#[derive(Debug, Default)]
struct Warnings {
    list: Vec<Warning>,
}

impl Warnings {
    /// Distinct (code, path) pairs kept; further paths are merged under `*`.
    const MAX_DISTINCT: usize = 256;

    fn add(&mut self, code: WarningCode, path: &str, raw: Option<&str>, offset: u64) {
        let path = if self.list.len() >= Self::MAX_DISTINCT {
            "*"
        } else {
            path
        };
        if let Some(w) = self
            .list
            .iter_mut()
            .find(|w| w.code == code && w.path == path)
        {
            w.count += 1;
            return;
        }
        self.list.push(Warning {
            code,
            path: path.to_owned(),
            raw: raw.map(str::to_owned),
            offset,
            count: 1,
        });
    }
}

/// What is wrong with the document, and where.
type Failure = (ErrorKind, u64);

/// Why a parse stopped early: the document, or the sink.
enum Halt<E> {
    Document(Failure),
    Sink(E),
}

impl<E> From<Failure> for Halt<E> {
    fn from(failure: Failure) -> Self {
        Halt::Document(failure)
    }
}

#[derive(Debug, Default)]
struct Parser {
    report: Report,
    record: Record,
    warnings: Warnings,
    /// Open elements with the length of `path` before each was entered.
    stack: Vec<(Node, usize)>,
    /// Element path of the innermost open element, by local names.
    path: String,
    /// Text of the leaf being read, entity references resolved.
    text: String,
    /// Emptied text buffers from earlier records (see [`Record::clear`]).
    spare: Vec<String>,
    has_root: bool,
    has_policy: bool,
    has_report_id: bool,
    has_begin: bool,
    has_end: bool,
    has_count: bool,
    /// Position of the event being handled.
    offset: u64,
    /// [`Options::max_text_bytes`].
    max_text: usize,
}

impl Parser {
    fn new(options: &Options) -> Parser {
        Parser {
            max_text: options.max_text_bytes,
            ..Parser::default()
        }
    }

    /// Fails when the text being read would grow past the limit.
    fn check_text(&self, more: usize) -> Result<(), Failure> {
        if self.text.len().saturating_add(more) > self.max_text {
            let limit = self.max_text;
            return Err((ErrorKind::TextTooLong { limit }, self.offset));
        }
        Ok(())
    }

    /// The report (with its warnings, offsets counted from the input's first byte) or the
    /// error, from what [`Parser::run`] returned. `invalid` is how many bytes were not UTF-8
    /// and where the first was.
    fn conclude<E>(
        mut self,
        result: Result<(), Halt<E>>,
        bom: u64,
        invalid: Option<(u64, u64)>,
    ) -> Parsed<E> {
        Ok(match result {
            Ok(()) => {
                if let Some((n_invalid, offset)) = invalid {
                    self.warnings
                        .add(WarningCode::InvalidUtf8, "", None, offset);
                    if let Some(w) = self.warnings.list.last_mut() {
                        w.count = n_invalid;
                    }
                }
                let mut report = self.report;
                report.warnings = self.warnings.list;
                for w in &mut report.warnings {
                    w.offset += bom;
                }
                Ok(report)
            }
            Err(Halt::Document((kind, offset))) => Err(ParseError {
                kind,
                path: self.path,
                offset: offset + bom,
            }),
            Err(Halt::Sink(e)) => return Err(e),
        })
    }

    /// Reads a stream window by window, each parsed in place like a document in memory (much
    /// cheaper than copying every event out of a `BufRead`). A window ends just before its
    /// last `<`, so text is never cut; markup that runs past the end (a `<` inside a comment
    /// or an attribute value) fails with a syntax error and is read again, whole, at the
    /// start of the next, larger window. Positions are the stream's throughout, so the
    /// result is the same as [`parse_bytes`] on the whole document.
    fn run_windows<R: BufRead, S: RecordSink + ?Sized>(
        &mut self,
        source: &mut Utf8Lossy<R>,
        sink: &mut S,
        window: usize,
    ) -> Result<(), Halt<S::Error>> {
        let mut buf: Vec<u8> = Vec::with_capacity(window);
        // Stream position of `buf[0]`, and how many bytes `buf` should hold before parsing.
        let (mut base, mut want) = (0u64, window);
        loop {
            let is_final = loop {
                if buf.len() >= want {
                    break false;
                }
                let chunk = match source.fill_buf() {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        let at = base + buf.len() as u64;
                        return Err(Halt::Document((ErrorKind::Read(e), at)));
                    }
                };
                if chunk.is_empty() {
                    break true;
                }
                buf.extend_from_slice(chunk);
                let n = chunk.len();
                source.consume(n);
            };
            let end = if is_final {
                buf.len()
            } else {
                match buf.iter().skip(1).rposition(|&b| b == b'<') {
                    Some(i) => i + 1,
                    // One event longer than any allowed: parsed as far as it was read (up to
                    // its last entity reference, which is never cut), which fails at its
                    // element as the whole document in memory would.
                    None if buf.len() > self.max_event(window) => buf
                        .iter()
                        .rposition(|&b| b == b'&')
                        .filter(|&i| i > 0)
                        .unwrap_or(buf.len()),
                    // One event longer than the window so far: read on.
                    None => {
                        want = buf.len() * 2;
                        continue;
                    }
                }
            };
            let start = if base == 0 {
                leading_boms(&buf[..end])
            } else {
                0
            };
            let mut events = Borrowed::new(&buf[start..end], base + start as u64);
            let consumed = match self.run(&mut events, sink) {
                // What follows the root is read too: its invalid UTF-8 is counted however
                // much of it the window held, and a failure there is the input's.
                Ok(Stop::Closed) => {
                    let at = base + buf.len() as u64;
                    return drain(source).map_err(|e| Halt::Document((ErrorKind::Read(e), at)));
                }
                Ok(Stop::Eof) if is_final => return Err(self.eof().into()),
                Ok(Stop::Eof) => end,
                // Markup cut by the window's end: from its `<` on, again with more bytes.
                Err(Halt::Document((ErrorKind::Xml(quick_xml::Error::Syntax(e)), _)))
                    if !is_final && e != SyntaxError::InvalidBangMarkup =>
                {
                    let consumed = (self.offset - base) as usize;
                    // Markup (a comment, a tag) longer than any allowed is not read on.
                    if consumed == 0 && buf.len() > self.max_event(window) {
                        let limit = self.max_text;
                        let failure = (ErrorKind::TextTooLong { limit }, self.offset);
                        return Err(failure.into());
                    }
                    consumed
                }
                Err(failure) => return Err(failure),
            };
            buf.drain(..consumed);
            base += consumed as u64;
            want = window.max(buf.len() * 2);
        }
    }

    /// How far a window may grow to hold one event: the longest text plus a window.
    fn max_event(&self, window: usize) -> usize {
        self.max_text.saturating_add(window)
    }

    fn run<S: RecordSink + ?Sized>(
        &mut self,
        reader: &mut Borrowed<'_>,
        sink: &mut S,
    ) -> Result<Stop, Halt<S::Error>> {
        loop {
            self.offset = reader.buffer_position();
            let event = match reader.next_event() {
                Ok(event) => event,
                Err(e) => return Err((ErrorKind::Xml(e), reader.error_position()).into()),
            };
            match event {
                Event::Start(e) => self.start(&e)?,
                Event::Empty(e) => {
                    self.start(&e)?;
                    if self.end(local_name(e.name().as_ref()), sink)? {
                        return Ok(Stop::Closed);
                    }
                }
                Event::End(e) => {
                    if self.end(local_name(e.name().as_ref()), sink)? {
                        return Ok(Stop::Closed);
                    }
                }
                Event::Text(t) => self.text(&t)?,
                Event::CData(t) => self.text(&t)?,
                Event::GeneralRef(r) => self.reference(&r)?,
                Event::DocType(_) => {
                    self.warn(WarningCode::DoctypeIgnored, None);
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                Event::Eof => return Ok(Stop::Eof),
            }
        }
    }

    fn top(&self) -> Option<Node> {
        self.stack.last().map(|&(node, _)| node)
    }

    fn warn(&mut self, code: WarningCode, raw: Option<&str>) {
        self.warnings.add(code, &self.path, raw, self.offset);
    }

    fn push(&mut self, node: Node, name: &str) {
        self.stack.push((node, self.path.len()));
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(name);
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), Failure> {
        let qname = e.name();
        let name = local_name(qname.as_ref());
        if name.bytes().any(|b| b == b'<' || b == b'>') {
            let kind = ErrorKind::InvalidName {
                name: e.name().as_ref().to_owned(),
            };
            return Err((kind, self.offset));
        }
        let Some(parent) = self.top() else {
            return self.root(e, name);
        };
        let node = match child(parent, name) {
            Child::Node(node) => node,
            Child::Quiet => Node::Skip,
            Child::Unknown => {
                self.push(Node::Skip, name);
                self.warn(WarningCode::UnknownElement, None);
                return Ok(());
            }
        };
        self.push(node, name);
        match node {
            Node::Policy if self.has_policy => {
                self.warn(WarningCode::RepeatedPolicyPublished, None);
                if let Some(entry) = self.stack.last_mut() {
                    entry.0 = Node::Skip;
                }
            }
            Node::Policy => self.has_policy = true,
            Node::Record => {
                self.record.clear(&mut self.spare);
                self.has_count = false;
            }
            Node::Identifiers if name == "identities" => {
                self.warn(WarningCode::IdentitiesAlias, None);
            }
            Node::Reason => self.record.reasons.push(OverrideReason::default()),
            Node::Dkim => self.record.dkim.push(DkimResult::default()),
            Node::Spf => self.record.spf.push(SpfResult::default()),
            Node::Leaf(_) => self.text.clear(),
            _ => {}
        }
        Ok(())
    }

    fn root(&mut self, e: &BytesStart<'_>, name: &str) -> Result<(), Failure> {
        let node = match name {
            "feedback" => Node::Feedback,
            "schema" if !self.has_root => Node::Wrapper,
            _ => {
                return Err((
                    ErrorKind::NotFeedback {
                        root: name.to_owned(),
                    },
                    self.offset,
                ));
            }
        };
        self.has_root = true;
        self.push(node, name);
        if node == Node::Wrapper {
            self.report.is_recovered = true;
            self.warn(WarningCode::SchemaWrapper, None);
            return Ok(());
        }
        // The namespace bound to the root's prefix (or the default namespace).
        let wanted = match e.name().prefix() {
            Some(prefix) => format!("xmlns:{}", prefix.as_ref()),
            None => "xmlns".to_owned(),
        };
        for attr in e.attributes().with_checks(false).flatten() {
            if attr.key.as_ref() == wanted {
                let uri = attr.value.trim();
                if !uri.is_empty() {
                    self.report.namespace = Some(uri.to_owned());
                }
            }
        }
        Ok(())
    }

    fn text(&mut self, t: &str) -> Result<(), Failure> {
        // Any text, kept or not: a stream would have to hold it whole to skip it.
        if t.len() > self.max_text {
            self.check_text(t.len())?;
        }
        match self.top() {
            Some(Node::Leaf(_)) => {
                self.check_text(t.len())?;
                self.text.push_str(t);
            }
            Some(Node::Skip) => {}
            // Usually the indentation between elements: checked byte by byte first, which
            // is much cheaper than `trim` decoding each character.
            Some(_) if t.trim_ascii().is_empty() => {}
            Some(_) => {
                let t = t.trim();
                if !t.is_empty() {
                    let t = t.to_owned();
                    self.warn(WarningCode::UnexpectedText, Some(&t));
                }
            }
            None => {
                let t = t.trim();
                if !t.is_empty() {
                    let found: String = t.chars().take(32).collect();
                    return Err((ErrorKind::NotXml { found }, self.offset));
                }
            }
        }
        Ok(())
    }

    fn reference(&mut self, name: &str) -> Result<(), Failure> {
        if !matches!(self.top(), Some(Node::Leaf(_))) {
            return Ok(());
        }
        self.check_text(name.len() + 2)?;
        let resolved = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => name.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match resolved {
            Some(c) => self.text.push(c),
            None => {
                let literal = format!("&{name};");
                self.text.push_str(&literal);
                self.warn(WarningCode::UnknownEntity, Some(&literal));
            }
        }
        Ok(())
    }

    /// Closes the innermost element; true when the report is complete.
    fn end<S: RecordSink + ?Sized>(
        &mut self,
        name: &str,
        sink: &mut S,
    ) -> Result<bool, Halt<S::Error>> {
        let Some(&(node, len)) = self.stack.last() else {
            return Err(self.mismatched("", name).into());
        };
        if self.open_name(self.stack.len() - 1) != name {
            self.close_unclosed(name)?;
            return self.end(name, sink);
        }
        match node {
            Node::Leaf(leaf) => {
                let text = std::mem::take(&mut self.text);
                let result = self.leaf(leaf, text.trim());
                self.text = text;
                result?;
            }
            Node::Dkim if self.record.dkim.last().is_some_and(DkimResult::is_empty) => {
                self.record.dkim.pop();
                self.warn(WarningCode::EmptyAuthResult, None);
            }
            Node::Spf if self.record.spf.last().is_some_and(SpfResult::is_empty) => {
                self.record.spf.pop();
                self.warn(WarningCode::EmptyAuthResult, None);
            }
            Node::Record => self.finish_record(sink)?,
            Node::Feedback => {
                self.finish_report()?;
                return Ok(true);
            }
            _ => {}
        }
        self.stack.pop();
        self.path.truncate(len);
        Ok(false)
    }

    /// Local name of the open element at `index` in the stack.
    fn open_name(&self, index: usize) -> &str {
        let len = self.stack[index].1;
        let start = if len == 0 { 0 } else { len + 1 };
        let end = self.stack.get(index + 1).map_or(self.path.len(), |e| e.1);
        &self.path[start..end]
    }

    fn innermost_name(&self) -> String {
        self.stack
            .len()
            .checked_sub(1)
            .map_or(String::new(), |i| self.open_name(i).to_owned())
    }

    /// An end tag that does not match the innermost element. Elements rua does not read
    /// that were left open (`<email><bad@example.com></email>`) are closed with a warning;
    /// anything else would change the data and fails the report.
    fn close_unclosed(&mut self, name: &str) -> Result<(), Failure> {
        let matching = (0..self.stack.len())
            .rev()
            .find(|&i| self.open_name(i) == name);
        let is_junk_above =
            |index: usize| self.stack[index + 1..].iter().all(|e| e.0 == Node::Skip);
        let Some(index) = matching.filter(|&i| is_junk_above(i)) else {
            return Err(self.mismatched(&self.innermost_name(), name));
        };
        while self.stack.len() > index + 1 {
            self.warn(WarningCode::UnclosedElement, None);
            if let Some((_, len)) = self.stack.pop() {
                self.path.truncate(len);
            }
        }
        self.report.is_recovered = true;
        Ok(())
    }

    fn mismatched(&self, expected: &str, found: &str) -> Failure {
        let kind = ErrorKind::MismatchedEnd {
            expected: expected.to_owned(),
            found: found.to_owned(),
        };
        (kind, self.offset)
    }

    fn eof(&self) -> Failure {
        let kind = if !self.has_root {
            ErrorKind::Empty
        } else {
            ErrorKind::Truncated {
                open: self.innermost_name(),
            }
        };
        (kind, self.offset)
    }

    fn finish_record<S: RecordSink + ?Sized>(
        &mut self,
        sink: &mut S,
    ) -> Result<(), Halt<S::Error>> {
        if !self.has_count {
            return Err((ErrorKind::Missing("row/count"), self.offset).into());
        }
        if self.record.source_ip_raw.is_empty() {
            self.warn(WarningCode::InvalidIp, Some(""));
        }
        if self.record.header_from.is_none() {
            self.warn(WarningCode::MissingHeaderFrom, None);
        }
        self.report.n_records += 1;
        self.report.n_messages = self.report.n_messages.saturating_add(self.record.count);
        sink.record(&self.record).map_err(Halt::Sink)
    }

    fn finish_report(&mut self) -> Result<(), Failure> {
        if !self.has_report_id {
            return Err((ErrorKind::Missing("report_metadata/report_id"), self.offset));
        }
        if !self.has_begin {
            return Err((
                ErrorKind::Missing("report_metadata/date_range/begin"),
                self.offset,
            ));
        }
        if !self.has_end {
            return Err((
                ErrorKind::Missing("report_metadata/date_range/end"),
                self.offset,
            ));
        }
        if self.report.org_name.is_none() {
            self.warn(WarningCode::MissingOrgName, None);
        }
        if self.report.policy.domain.is_none() {
            self.warn(WarningCode::MissingPolicyDomain, None);
        }
        if self.report.begin > self.report.end {
            let raw = format!("{} > {}", self.report.begin_raw, self.report.end_raw);
            self.warn(WarningCode::BeginAfterEnd, Some(&raw));
        }
        Ok(())
    }

    fn leaf(&mut self, leaf: Leaf, v: &str) -> Result<(), Failure> {
        use Leaf as L;
        let w = &mut self.warnings;
        let at = Site {
            path: &self.path,
            offset: self.offset,
        };
        let report = &mut self.report;
        let policy = &mut report.policy;
        let record = &mut self.record;
        let spare = &mut self.spare;
        match leaf {
            L::Version => set_text(&mut report.version, v, w, at, spare),
            L::OrgName => set_text(&mut report.org_name, v, w, at, spare),
            L::Email => set_text(&mut report.email, v, w, at, spare),
            L::ExtraContactInfo => set_text(&mut report.extra_contact_info, v, w, at, spare),
            L::ReportId => {
                if self.has_report_id {
                    w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
                } else if v.is_empty() {
                    return Err((ErrorKind::Missing("report_metadata/report_id"), self.offset));
                } else {
                    report.report_id = v.to_owned();
                    self.has_report_id = true;
                }
            }
            L::Begin | L::End => {
                let (seen, value, raw) = if leaf == L::Begin {
                    (
                        &mut self.has_begin,
                        &mut report.begin,
                        &mut report.begin_raw,
                    )
                } else {
                    (&mut self.has_end, &mut report.end, &mut report.end_raw)
                };
                if *seen {
                    w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
                } else {
                    let Some(seconds) = timestamp(v, w, at) else {
                        return Err((ErrorKind::InvalidValue { raw: v.to_owned() }, at.offset));
                    };
                    *value = seconds;
                    *raw = v.to_owned();
                    *seen = true;
                }
            }
            L::Error => {
                if !v.is_empty() {
                    report.errors.push(v.to_owned());
                }
            }
            L::Generator => set_text(&mut report.generator, v, w, at, spare),
            L::Domain => set_text(&mut policy.domain, v, w, at, spare),
            L::Adkim => set_coded(&mut policy.adkim, v, w, at),
            L::Aspf => set_coded(&mut policy.aspf, v, w, at),
            L::P => set_coded(&mut policy.p, v, w, at),
            L::Sp => set_coded(&mut policy.sp, v, w, at),
            L::Np => set_coded(&mut policy.np, v, w, at),
            L::Pct => {
                if policy.pct_raw.is_some() {
                    w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
                } else if !v.is_empty() {
                    policy.pct_raw = Some(v.to_owned());
                    policy.pct = v.parse().ok();
                    if policy.pct.is_none() {
                        w.add(WarningCode::InvalidNumber, at.path, Some(v), at.offset);
                    }
                }
            }
            L::Fo => set_text(&mut policy.fo, v, w, at, spare),
            L::Testing => set_coded(&mut policy.testing, v, w, at),
            L::DiscoveryMethod => set_coded(&mut policy.discovery_method, v, w, at),
            L::SourceIp => {
                if !record.source_ip_raw.is_empty() {
                    w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
                } else {
                    record.source_ip_raw.push_str(v);
                    record.source_ip = parse_ip(v);
                    if record.source_ip.is_none() {
                        w.add(WarningCode::InvalidIp, at.path, Some(v), at.offset);
                    }
                }
            }
            L::Count => {
                if self.has_count {
                    w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
                } else {
                    let Ok(count) = v.parse() else {
                        return Err((ErrorKind::InvalidValue { raw: v.to_owned() }, at.offset));
                    };
                    record.count = count;
                    self.has_count = true;
                }
            }
            L::Disposition => set_coded(&mut record.disposition, v, w, at),
            L::VerdictDkim => set_coded(&mut record.dkim_verdict, v, w, at),
            L::VerdictSpf => set_coded(&mut record.spf_verdict, v, w, at),
            L::ReasonType | L::ReasonComment => {
                if let Some(reason) = record.reasons.last_mut() {
                    if leaf == L::ReasonType {
                        set_coded(&mut reason.kind, v, w, at);
                    } else {
                        set_text(&mut reason.comment, v, w, at, spare);
                    }
                }
            }
            L::HeaderFrom => set_text(&mut record.header_from, v, w, at, spare),
            L::EnvelopeFrom => set_text(&mut record.envelope_from, v, w, at, spare),
            L::EnvelopeTo => set_text(&mut record.envelope_to, v, w, at, spare),
            L::AuthDomain | L::Selector | L::AuthResult | L::HumanResult | L::Scope => {
                let parent = self.stack.len().checked_sub(2).map(|i| self.stack[i].0);
                if parent == Some(Node::Dkim) {
                    if let Some(d) = record.dkim.last_mut() {
                        match leaf {
                            L::AuthDomain => set_text(&mut d.domain, v, w, at, spare),
                            L::Selector => set_text(&mut d.selector, v, w, at, spare),
                            L::AuthResult => set_coded(&mut d.result, v, w, at),
                            _ => set_text(&mut d.human_result, v, w, at, spare),
                        }
                    }
                } else if let Some(s) = record.spf.last_mut() {
                    match leaf {
                        L::AuthDomain => set_text(&mut s.domain, v, w, at, spare),
                        L::Scope => set_coded(&mut s.scope, v, w, at),
                        L::AuthResult => set_coded(&mut s.result, v, w, at),
                        _ => set_text(&mut s.human_result, v, w, at, spare),
                    }
                }
            }
        }
        Ok(())
    }
}

/// The local part of a qualified name, after its prefix's colon: quick-xml's `local_name`,
/// byte by byte (names are short, and `str::find` cost more than the rest of `start`).
fn local_name(qname: &str) -> &str {
    match qname.bytes().position(|b| b == b':') {
        Some(colon) => &qname[colon + 1..],
        None => qname,
    }
}

/// Where a value was read, for warnings.
#[derive(Clone, Copy)]
struct Site<'a> {
    path: &'a str,
    offset: u64,
}

/// Sets a text field, in a spare buffer when there is one; the first occurrence wins, an
/// empty value stays absent.
fn set_text(
    slot: &mut Option<String>,
    v: &str,
    w: &mut Warnings,
    at: Site<'_>,
    spare: &mut Vec<String>,
) {
    if slot.is_some() {
        w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
    } else if !v.is_empty() {
        let mut text = spare.pop().unwrap_or_default();
        text.push_str(v);
        *slot = Some(text);
    }
}

/// Sets an enumerated field, keeping the raw word and warning about anything non-canonical.
fn set_coded<T: Vocabulary>(slot: &mut Coded<T>, v: &str, w: &mut Warnings, at: Site<'_>) {
    if slot.raw.is_some() {
        w.add(WarningCode::RepeatedElement, at.path, Some(v), at.offset);
        return;
    }
    if v.is_empty() {
        return;
    }
    let reading = read_word::<T>(v);
    slot.raw = Some(match reading {
        Reading::Canonical {
            value,
            is_case_folded: false,
        } => Cow::Borrowed(value.as_str()),
        _ => Cow::Owned(v.to_owned()),
    });
    slot.value = match reading {
        Reading::Empty => None,
        Reading::Canonical {
            value,
            is_case_folded,
        } => {
            if is_case_folded {
                w.add(WarningCode::NonCanonicalCase, at.path, Some(v), at.offset);
            }
            Some(value)
        }
        Reading::Alias(value) => {
            w.add(WarningCode::AliasValue, at.path, Some(v), at.offset);
            Some(value)
        }
        Reading::Unknown => {
            w.add(WarningCode::UnknownValue, at.path, Some(v), at.offset);
            None
        }
    };
}

/// Seconds since the epoch from a decimal that may have a fraction or be in milliseconds.
fn timestamp(v: &str, w: &mut Warnings, at: Site<'_>) -> Option<i64> {
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut seconds: i64 = whole.parse().ok()?;
    if !fraction.is_empty() || v.ends_with('.') {
        w.add(
            WarningCode::FractionalTimestamp,
            at.path,
            Some(v),
            at.offset,
        );
    }
    // No reporter is known to send milliseconds, but a value past the year 5138 can only
    // be one.
    if seconds > 100_000_000_000 {
        w.add(
            WarningCode::MillisecondTimestamp,
            at.path,
            Some(v),
            at.offset,
        );
        seconds /= 1000;
    }
    Some(seconds)
}

/// An IP address, IPv4-mapped IPv6 read as IPv4; brackets around IPv6 are tolerated.
fn parse_ip(v: &str) -> Option<IpAddr> {
    let v = v
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(v);
    v.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a parse whose sink cannot fail says of the document.
    fn document(parsed: Parsed<std::convert::Infallible>) -> Result<Report, ParseError> {
        let Ok(document) = parsed;
        document
    }

    const MINIMAL: &str = r#"<?xml version="1.0"?>
<feedback>
  <report_metadata><org_name>example.net</org_name><report_id>r1</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>
  <policy_published><domain>example.com</domain><p>none</p></policy_published>
  <record><row><source_ip>192.0.2.1</source_ip><count>3</count>
    <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results><dkim><domain>example.com</domain><result>pass</result></dkim>
      <spf><domain>example.com</domain><result>softfail</result></spf></auth_results></record>
</feedback>"#;

    #[test]
    fn minimal_report_reads_every_field() {
        let (report, records) = parse_to_vec(MINIMAL.as_bytes()).expect("parses");
        assert_eq!(report.report_id, "r1");
        assert_eq!((report.begin, report.end), (1_700_000_000, 1_700_086_399));
        assert_eq!(report.n_records, 1);
        assert_eq!(report.n_messages, 3);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let r = &records[0];
        assert_eq!(r.source_ip, Some("192.0.2.1".parse().expect("ip")));
        assert_eq!(r.dkim[0].result.as_str(), Some("pass"));
        assert_eq!(r.spf[0].result.as_str(), Some("softfail"));
    }

    #[test]
    fn a_record_keeps_nothing_of_the_one_before() {
        // The first record's texts are reused as buffers for the second's (see
        // `Record::clear`): the second must hold its own values and nothing more.
        let first = r#"<identifiers><envelope_to>example.org</envelope_to>
      <envelope_from>bounce.example.com</envelope_from><header_from>example.com</header_from></identifiers>
    <auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result>
      <human_result>good</human_result></dkim>
      <spf><domain>example.com</domain><result>softfail</result></spf></auth_results></record>"#;
        let second = r#"<record><row><source_ip>192.0.2.2</source_ip><count>1</count></row>
    <identifiers><header_from>b.example</header_from></identifiers>
    <auth_results><spf><domain>c.example</domain><result>pass</result></spf></auth_results></record>"#;
        let doc = MINIMAL
            .replacen(
                &MINIMAL[MINIMAL.find("<identifiers>").expect("identifiers")
                    ..MINIMAL.find("</record>").expect("record end") + 9],
                first,
                1,
            )
            .replace("</feedback>", &format!("  {second}\n</feedback>"));
        let (_, records) = parse_to_vec(doc.as_bytes()).expect("parses");
        let [one, two] = &records[..] else {
            panic!("two records: {records:?}");
        };
        assert_eq!(one.envelope_to.as_deref(), Some("example.org"));
        assert_eq!(one.dkim[0].human_result.as_deref(), Some("good"));
        assert_eq!(two.header_from.as_deref(), Some("b.example"));
        assert_eq!((&two.envelope_from, &two.envelope_to), (&None, &None));
        assert!(two.dkim.is_empty(), "{:?}", two.dkim);
        assert_eq!(two.spf.len(), 1);
        assert_eq!(two.spf[0].domain.as_deref(), Some("c.example"));
        assert_eq!(two.spf[0].human_result, None);
    }

    #[test]
    fn prefixed_names_are_read_by_their_local_part() {
        let doc = MINIMAL
            .replace(
                "<feedback>",
                r#"<d:feedback xmlns:d="urn:ietf:params:xml:ns:dmarc-2.0">"#,
            )
            .replace("</feedback>", "</d:feedback>")
            .replace("<report_id>r1</report_id>", "<d:report_id>r1</d:report_id>");
        let (report, records) = parse_to_vec(doc.as_bytes()).expect("parses");
        assert!(report.is_dmarcbis());
        assert_eq!(report.report_id, "r1");
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn text_past_the_limit_fails_at_its_element_in_memory_and_streamed_alike() {
        let options = Options {
            max_text_bytes: 1000,
        };
        let fails = |doc: &str| {
            let mut records = |_: &Record| {};
            let in_memory = document(parse_bytes_with(doc.as_bytes(), &mut records, &options))
                .expect_err("too long");
            let streamed = document(parse_windows(
                std::io::BufReader::with_capacity(64, doc.as_bytes()),
                &mut records,
                64,
                &options,
            ))
            .expect_err("too long");
            assert_eq!(in_memory.to_string(), streamed.to_string());
            assert_eq!(in_memory.kind.code(), "limit_text");
            in_memory.to_string()
        };
        let long = "x".repeat(5000);
        let text = MINIMAL.replace("example.net</org_name>", &format!("{long}</org_name>"));
        assert!(
            fails(&text)
                .ends_with("limit of 1000 bytes at <feedback/report_metadata/org_name> (byte 62)"),
            "{}",
            fails(&text)
        );
        let entities = MINIMAL.replace(
            "example.net</org_name>",
            &format!("{}</org_name>", "&amp;".repeat(2000)),
        );
        assert!(fails(&entities).contains("at <feedback/report_metadata/org_name>"));
        // Text nobody keeps is bounded too, and so is markup in a stream.
        let unknown = MINIMAL.replace(
            "<report_metadata>",
            &format!("<report_metadata><junk>{long}</junk>"),
        );
        assert!(fails(&unknown).contains("at <feedback/report_metadata/junk>"));
        let comment = MINIMAL.replace(
            "<report_metadata>",
            &format!("<report_metadata><!--{long}-->"),
        );
        let mut records = |_: &Record| {};
        let streamed = document(parse_windows(
            std::io::BufReader::with_capacity(64, comment.as_bytes()),
            &mut records,
            64,
            &options,
        ));
        assert_eq!(streamed.expect_err("too long").kind.code(), "limit_text");
        // Up to the limit, all is well.
        let fits = MINIMAL.replace(
            "example.net</org_name>",
            &format!("{}</org_name>", "x".repeat(1000)),
        );
        assert!(document(parse_bytes_with(fits.as_bytes(), &mut records, &options)).is_ok());
        let streamed = parse_windows(
            std::io::BufReader::with_capacity(64, fits.as_bytes()),
            &mut records,
            64,
            &options,
        );
        assert!(document(streamed).is_ok());
    }

    #[test]
    fn entity_references_keep_surrounding_spaces() {
        let doc = MINIMAL.replace("example.net</org_name>", "a &amp; b &#x41;&#66;</org_name>");
        let (report, _) = parse_to_vec(doc.as_bytes()).expect("parses");
        assert_eq!(report.org_name.as_deref(), Some("a & b AB"));
    }

    #[test]
    fn junk_element_inside_a_leaf_is_recovered() {
        let doc = MINIMAL.replace(
            "<org_name>example.net</org_name>",
            "<org_name>example.net</org_name><email><bad-xml@bad-xml.net></email>",
        );
        let (report, _) = parse_to_vec(doc.as_bytes()).expect("parses");
        assert!(report.is_recovered);
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.code == WarningCode::UnclosedElement)
        );
    }

    #[test]
    fn unclosed_known_element_is_an_error() {
        let doc = MINIMAL.replace("<report_id>r1</report_id>", "<report_id>r1/report_id>");
        let err = parse_to_vec(doc.as_bytes()).expect_err("fails");
        assert_eq!(err.kind.code(), "mismatched_end_tag");
        assert_eq!(err.path, "feedback/report_metadata/report_id");
    }

    /// Input that fails while being read.
    struct Failing;

    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("corrupt deflate stream"))
        }
    }

    /// What follows the root is read to its end: its invalid UTF-8 is all counted (the fuzzer
    /// found a sequence cut short by the end of input counted only in memory, as a stream
    /// was not read to its end), and a failure to read it fails the parse, as a failure
    /// before the end of the root does.
    #[test]
    fn what_follows_the_root_is_read_to_its_end() {
        let mut doc = MINIMAL.as_bytes().to_vec();
        // Markup (so that a window ends after the root), an invalid byte, and the start of
        // a sequence that the end of input cuts short.
        doc.extend_from_slice(b"\njunk <x \xFF\xE2\x82");
        let whole = document(parse_bytes(&doc, &mut |_: &Record| {})).expect("parses");
        let invalid = whole
            .warnings
            .iter()
            .find(|w| w.code == WarningCode::InvalidUtf8);
        assert_eq!(invalid.map(|w| w.count), Some(3));
        for window in [1, 16, 300] {
            let streamed = document(parse_in_windows(&doc[..], &mut |_: &Record| {}, window));
            assert_eq!(streamed.expect("parses"), whole, "{window}-byte windows");
        }
        for cut in [MINIMAL.len(), MINIMAL.len() / 2] {
            let failing = std::io::Read::chain(&MINIMAL.as_bytes()[..cut], Failing);
            let input = std::io::BufReader::new(failing);
            let err = document(parse_in_windows(input, &mut |_: &Record| {}, 64));
            let err = err.expect_err("fails");
            assert_eq!(err.kind.code(), "read_error", "{err}");
        }
    }

    /// Byte order marks before the document are skipped and counted, so offsets are the
    /// input's own, whether it is parsed in memory or streamed in windows of any size (the
    /// fuzzer found a doubled mark that shifted a streamed window's cut by its length).
    #[test]
    fn offsets_count_every_leading_byte_order_mark() {
        let cut = MINIMAL.replace("<report_id>r1</report_id>", "<report_id>r1/report_id>");
        let at = cut.find("</report_metadata>").expect("in MINIMAL");
        for n_boms in 0..3 {
            let mut doc = crate::lossy::BOM.repeat(n_boms);
            doc.extend_from_slice(cut.as_bytes());
            let err = document(parse_bytes(&doc, &mut |_: &Record| {})).expect_err("fails");
            assert_eq!(err.offset, (3 * n_boms + at) as u64, "{n_boms} marks");
            for window in 1..24 {
                let streamed = document(parse_in_windows(&doc[..], &mut |_: &Record| {}, window));
                let streamed = streamed.expect_err("fails");
                assert_eq!(
                    streamed.to_string(),
                    err.to_string(),
                    "{window}-byte windows"
                );
            }
        }
    }

    #[test]
    fn timestamps_tolerate_fractions_and_milliseconds() {
        let mut w = Warnings::default();
        let at = Site {
            path: "p",
            offset: 0,
        };
        assert_eq!(
            timestamp("1709600619.487850", &mut w, at),
            Some(1_709_600_619)
        );
        assert_eq!(timestamp("1700000000000", &mut w, at), Some(1_700_000_000));
        assert_eq!(timestamp("12a", &mut w, at), None);
        assert_eq!(w.list.len(), 2);
    }
}
