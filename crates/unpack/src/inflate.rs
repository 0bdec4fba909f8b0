//! Small compressed payloads inflated whole in memory, where their end and checksum are
//! checked before the payload is handed over: the payload then comes with its bytes as one
//! gzip member as received ([`crate::Payload::gzip`]), which a consumer can keep instead of
//! compressing the payload again.
//!
//! Anything these functions do not accept (too large, corrupt, bytes left over) returns
//! `None`, and the caller unpacks it as a stream instead, which reports what is wrong.

use flate2::{Decompress, FlushDecompress, Status};

/// Inflates the first gzip member of `bytes`: its content and the member's own bytes
/// (header to trailer, without what follows it), when the content is at most `cap` bytes
/// and the trailer's CRC-32 and length match it. A header with a checksum of its own or
/// reserved flags is left to the stream.
pub(crate) fn gzip(bytes: &[u8], cap: u64) -> Option<(Vec<u8>, &[u8])> {
    let start = gzip_header_len(bytes)?;
    // A member is nearly always the whole input, so its last four bytes are the content's
    // length (modulo 2^32): the buffer's size, unless that is wrong, when it grows.
    // Deflate expands at most 1032 times, so a larger hint is not a length.
    let hint = bytes
        .last_chunk::<4>()
        .map_or(0, |n| u64::from(u32::from_le_bytes(*n)))
        .min(bytes.len() as u64 * 1032);
    let (content, n_deflate) = inflate_raw(&bytes[start..], hint, cap)?;
    let end = start + n_deflate;
    let trailer = bytes.get(end..end + 8)?;
    let is_whole = trailer[..4] == crc32fast::hash(&content).to_le_bytes()
        && trailer[4..] == ((content.len() as u64 & 0xffff_ffff) as u32).to_le_bytes();
    is_whole.then(|| (content, &bytes[..end + 8]))
}

/// The length of a gzip member's header (RFC 1952, section 2.3), when it is one this module
/// reads: deflate, no reserved flags, no header CRC.
fn gzip_header_len(bytes: &[u8]) -> Option<usize> {
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let [0x1f, 0x8b, 8, flags, ..] = *bytes else {
        return None;
    };
    if flags & !(1 | FEXTRA | FNAME | FCOMMENT) != 0 {
        return None;
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let n = bytes.get(at..at + 2)?;
        at += 2 + usize::from(u16::from_le_bytes([n[0], n[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at += bytes.get(at..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    (at <= bytes.len()).then_some(at)
}

/// Inflates the raw deflate stream at the start of `deflate` into a buffer of `hint` bytes
/// (grown if that is short): the content and the length of the stream, when the stream
/// ends and its content is at most `cap` bytes.
fn inflate_raw(deflate: &[u8], hint: u64, cap: u64) -> Option<(Vec<u8>, usize)> {
    let limit = usize::try_from(cap.saturating_add(1)).ok()?;
    // One byte beyond the hint, so that a content of exactly `hint` bytes ends the stream
    // without growing the buffer.
    let mut content = Vec::with_capacity(usize::try_from(hint).ok()?.saturating_add(1).min(limit));
    let mut inflater = Decompress::new(false);
    loop {
        if content.len() == content.capacity() {
            let more = content.len().max(8 << 10).min(limit - content.len());
            if more == 0 {
                return None;
            }
            content.reserve_exact(more);
        }
        let before = (inflater.total_in(), inflater.total_out());
        let rest = deflate.get(usize::try_from(inflater.total_in()).ok()?..)?;
        let status = inflater
            .decompress_vec(rest, &mut content, FlushDecompress::None)
            .ok()?;
        if status == Status::StreamEnd {
            break;
        }
        if (inflater.total_in(), inflater.total_out()) == before {
            return None; // the input ended before the stream did
        }
    }
    if content.len() as u64 > cap {
        return None;
    }
    Some((content, usize::try_from(inflater.total_in()).ok()?))
}

/// A zip member's raw deflate data, inflated: the content and the same data as one gzip
/// member, when the content is at most `cap` bytes, the deflate stream ends exactly where
/// the member's data does, and the CRC-32 and size from the archive match.
pub(crate) fn zip_deflated(
    raw: &[u8],
    crc: u32,
    size: u64,
    cap: u64,
) -> Option<(Vec<u8>, Vec<u8>)> {
    if size > cap {
        return None;
    }
    let (content, n_deflate) = inflate_raw(raw, size, cap)?;
    let is_whole = n_deflate == raw.len() && content.len() as u64 == size;
    if !is_whole || crc32fast::hash(&content) != crc {
        return None;
    }
    Some((content, gzip_member(raw, crc, size)))
}

/// A raw deflate stream as one gzip member (RFC 1952): a header (no name, no time,
/// "unknown" system), the stream, then the CRC-32 and length (modulo 2^32) of its content.
fn gzip_member(deflate: &[u8], crc: u32, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(deflate.len() + 18);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(deflate);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&((size & 0xffff_ffff) as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::{Read, Write};

    use flate2::Compression;

    use super::*;
    use crate::IN_MEMORY_BYTES;

    const XML: &[u8] = b"<feedback><record><row><count>3</count></row></record></feedback>\n";

    fn gzipped(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), Compression::best());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn deflated(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_gzip_member_is_kept_without_the_bytes_after_it() {
        let member = gzipped(XML);
        let mut bytes = member.clone();
        bytes.extend_from_slice(b"\r\n");
        let (content, kept) = gzip(&bytes, IN_MEMORY_BYTES).unwrap();
        assert_eq!(content, XML);
        assert_eq!(kept, &member[..]);
        // A second member is not part of the first one's payload.
        let mut two = member.clone();
        two.extend_from_slice(&gzipped(b"more"));
        assert_eq!(gzip(&two, IN_MEMORY_BYTES).unwrap().1, &member[..]);
    }

    #[test]
    fn a_gzip_member_that_is_cut_short_corrupt_or_too_large_streams_instead() {
        let member = gzipped(XML);
        assert!(gzip(&member[..member.len() - 3], IN_MEMORY_BYTES).is_none());
        let mut bad_crc = member.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert!(gzip(&bad_crc, IN_MEMORY_BYTES).is_none());
        assert!(gzip(&member, XML.len() as u64 - 1).is_none());
        assert!(gzip(&member, XML.len() as u64).is_some());
    }

    #[test]
    fn a_gzip_header_with_extra_field_name_and_comment_is_read() {
        let mut enc = flate2::GzBuilder::new()
            .extra(&b"ab\x02\x00xy"[..])
            .filename("report.xml")
            .comment("from the reporter")
            .write(Vec::new(), Compression::default());
        enc.write_all(XML).unwrap();
        let member = enc.finish().unwrap();
        let (content, kept) = gzip(&member, IN_MEMORY_BYTES).unwrap();
        assert_eq!(content, XML);
        assert_eq!(kept, &member[..]);
        // A header cut inside its extra field, or with a header CRC, is left to the stream.
        assert!(gzip(&member[..14], IN_MEMORY_BYTES).is_none());
        let mut with_hcrc = member.clone();
        with_hcrc[3] |= 2;
        assert!(gzip(&with_hcrc, IN_MEMORY_BYTES).is_none());
    }

    #[test]
    fn zip_deflate_data_becomes_a_gzip_member_of_the_same_content() {
        let raw = deflated(XML);
        let crc = crc32fast::hash(XML);
        let size = XML.len() as u64;
        let (content, member) = zip_deflated(&raw, crc, size, IN_MEMORY_BYTES).unwrap();
        assert_eq!(content, XML);
        assert_eq!(gunzip(&member), XML);
        // Stated size or checksum wrong, data left over after the stream, too large: refused.
        assert!(zip_deflated(&raw, crc ^ 1, size, IN_MEMORY_BYTES).is_none());
        assert!(zip_deflated(&raw, crc, size + 1, IN_MEMORY_BYTES).is_none());
        assert!(zip_deflated(&raw, crc, size - 1, IN_MEMORY_BYTES).is_none());
        let mut trailing = raw.clone();
        trailing.push(0);
        assert!(zip_deflated(&trailing, crc, size, IN_MEMORY_BYTES).is_none());
        assert!(zip_deflated(&raw, crc, size, size - 1).is_none());
    }
}
