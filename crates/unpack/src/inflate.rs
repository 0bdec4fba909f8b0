//! Small compressed payloads inflated whole in memory, where their end and checksum are
//! checked before the payload is handed over: the payload then comes with its bytes as one
//! gzip member as received ([`crate::Payload::gzip`]), which a consumer can keep instead of
//! compressing the payload again.
//!
//! Anything these functions do not accept (too large, corrupt, bytes left over) returns
//! `None`, and the caller unpacks it as a stream instead, which reports what is wrong.

use std::io::Read;

/// Payloads up to this size (decompressed) are inflated in memory; larger ones stream.
pub(crate) const IN_MEMORY_BYTES: u64 = 8 << 20;

/// Inflates the first gzip member of `bytes`: its content and the member's own bytes
/// (header to trailer, without what follows it), when the content is at most `cap` bytes
/// and the trailer's CRC-32 and length match it.
pub(crate) fn gzip(bytes: &[u8], cap: u64) -> Option<(Vec<u8>, &[u8])> {
    let mut rest = bytes;
    let mut content = Vec::new();
    // The decoder checks the trailer when it reaches it, and reads nothing past it.
    flate2::bufread::GzDecoder::new(&mut rest)
        .take(cap.saturating_add(1))
        .read_to_end(&mut content)
        .ok()?;
    if content.len() as u64 > cap {
        return None;
    }
    let n_member = bytes.len() - rest.len();
    Some((content, &bytes[..n_member]))
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
    let mut rest = raw;
    let mut content = Vec::with_capacity(usize::try_from(size).ok()?);
    flate2::bufread::DeflateDecoder::new(&mut rest)
        .take(size.saturating_add(1))
        .read_to_end(&mut content)
        .ok()?;
    let is_whole = rest.is_empty() && content.len() as u64 == size;
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
