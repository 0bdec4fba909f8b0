//! RFC 5322 messages: every MIME part, whatever its declared type.

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use crate::walk::{Held, Walker};
use crate::{MessageInfo, PayloadKind, UnpackError, Visitor};

fn info(message: &Message<'_>) -> MessageInfo {
    let from = message.from().and_then(|list| {
        list.first()
            .and_then(|a| a.address().or_else(|| a.name()).map(str::to_owned))
    });
    MessageInfo {
        message_id: message.message_id().map(str::to_owned),
        subject: message.subject().map(str::to_owned),
        from,
        date: message.date().map(|d| d.to_rfc3339()),
    }
}

/// An ARF failure report (RFC 6591): `multipart/report; report-type=feedback-report`, or a
/// `message/feedback-report` part anywhere.
fn is_failure_report(message: &Message<'_>) -> bool {
    let is_arf_root = message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("feedback-report"))
    });
    is_arf_root
        || message
            .parts
            .iter()
            .any(|p| p.is_content_type("message", "feedback-report"))
}

impl<V: Visitor> Walker<'_, V> {
    /// A whole message held in memory.
    pub(crate) fn message(&mut self, bytes: &[u8], depth: usize) -> Result<(), V::Error> {
        // mail-parser asserts on some malformed structures (the fuzzer found one); hostile
        // input must not end the run, so a panic there makes the message unreadable.
        let parsed = std::panic::catch_unwind(|| MessageParser::new().parse(bytes));
        match parsed {
            Ok(Some(parsed)) => self.parsed_message(&parsed, depth),
            Ok(None) => self.payload(PayloadKind::NotReport, &mut &bytes[..], Held::bytes(bytes)),
            Err(_) => self.reject(UnpackError::BadMessage, Some(bytes)),
        }
    }

    fn parsed_message(&mut self, message: &Message<'_>, depth: usize) -> Result<(), V::Error> {
        let raw = message.raw_message();
        let saved = (self.prov.message.take(), self.prov.file_name.take());
        self.prov.message = Some(info(message));
        self.prov.chain.push("message".to_owned());
        let n_before = self.n_found;
        let result = if is_failure_report(message) {
            self.payload(PayloadKind::Failure, &mut &raw[..], Held::bytes(raw))
        } else {
            self.parts(message, depth)
        };
        // A message that held nothing at all is kept, not dropped.
        let result = result.and_then(|()| {
            if self.n_found == n_before {
                self.payload(PayloadKind::NotReport, &mut &raw[..], Held::bytes(raw))
            } else {
                Ok(())
            }
        });
        self.prov.chain.pop();
        (self.prov.message, self.prov.file_name) = saved;
        result
    }

    /// Every part of `message`, depth first in document order, each once: a malformed
    /// message can make mail-parser list a multipart among its own descendants (the fuzzer
    /// found one, 5 KB long), which recursion would follow until the stack overflows.
    fn parts(&mut self, message: &Message<'_>, depth: usize) -> Result<(), V::Error> {
        let mut seen = vec![false; message.parts.len()];
        // Parts still to visit, the next one last, with their numbers ("1.2.1").
        let mut todo = vec![(0, "1".to_owned())];
        while let Some((id, number)) = todo.pop() {
            let (Some(part), Some(is_seen)) = (message.part(id), seen.get_mut(id as usize)) else {
                continue;
            };
            if std::mem::replace(is_seen, true) {
                continue;
            }
            match &part.body {
                PartType::Multipart(children) => {
                    let children = children.iter().enumerate().rev();
                    todo.extend(children.map(|(i, &child)| (child, format!("{number}.{}", i + 1))));
                }
                PartType::Message(nested) => {
                    self.prov
                        .chain
                        .push(format!("part {number} message/rfc822"));
                    let result = if depth + 1 >= self.limits.max_depth {
                        let limit = self.limits.max_depth;
                        self.reject(UnpackError::TooDeep { limit }, Some(nested.raw_message()))
                    } else {
                        self.parsed_message(nested, depth + 1)
                    };
                    self.prov.chain.pop();
                    result?;
                }
                PartType::Text(_)
                | PartType::Html(_)
                | PartType::Binary(_)
                | PartType::InlineBinary(_) => self.leaf(part, depth, &number)?,
            }
        }
        Ok(())
    }

    fn leaf(&mut self, part: &MessagePart<'_>, depth: usize, number: &str) -> Result<(), V::Error> {
        let name = part.attachment_name();
        let (ctype, subtype) = part.content_type().map_or(("text", "plain"), |ct| {
            (ct.ctype(), ct.subtype().unwrap_or(""))
        });
        let is_attachment = part
            .content_disposition()
            .is_some_and(|d| d.is_attachment());
        let decoded = part.contents();
        // The human-readable body of a report mail is not a payload; an inline body is
        // only read when its bytes are a report.
        let is_body_text = name.is_none()
            && !is_attachment
            && ctype.eq_ignore_ascii_case("text")
            && (subtype.eq_ignore_ascii_case("plain") || subtype.eq_ignore_ascii_case("html"));
        if is_body_text && !looks_like_report(decoded) {
            return Ok(());
        }
        let label = match name {
            Some(name) => format!("part {number} {ctype}/{subtype} {name:?}"),
            None => format!("part {number} {ctype}/{subtype}"),
        };
        self.prov.chain.push(label);
        let saved = std::mem::replace(&mut self.prov.file_name, name.map(str::to_owned));
        let result = self.stream(&mut &decoded[..], depth, Held::bytes(decoded));
        self.prov.file_name = saved;
        self.prov.chain.pop();
        result
    }
}

/// Whether inline body text is really a report: compressed, or XML with a `<feedback>`.
fn looks_like_report(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(b"PK\x03\x04") {
        return true;
    }
    let head = &bytes[..bytes.len().min(crate::sniff::HEAD_LEN)];
    head.windows(9).any(|w| w == b"<feedback")
        || head.windows(16).any(|w| w == b"\"policy-domain\"")
}
