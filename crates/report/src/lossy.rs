//! A `BufRead` adapter that hands quick-xml valid UTF-8 whatever the reporter wrote.
//!
//! Reports declare UTF-8 (or nothing) but some carry stray Windows-1252 bytes (a 0x91 smart
//! quote in a URL) or declare `windows-1252` outright. quick-xml rejects invalid UTF-8, so
//! invalid bytes are read as Windows-1252 here and counted; a leading UTF-8 byte order mark
//! is dropped. Memory is bounded by the inner reader's buffer.

use std::io::{self, BufRead, Read};

pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug)]
pub(crate) struct Utf8Lossy<R> {
    inner: R,
    out: Vec<u8>,
    pos: usize,
    /// An incomplete UTF-8 sequence (or a possible BOM) waiting for the next chunk.
    pending: Vec<u8>,
    work: Vec<u8>,
    is_at_start: bool,
    /// Bytes of input consumed from `inner`.
    n_consumed: u64,
    pub(crate) n_invalid_bytes: u64,
    pub(crate) first_invalid_offset: Option<u64>,
    pub(crate) has_bom: bool,
}

impl<R: BufRead> Utf8Lossy<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            out: Vec::new(),
            pos: 0,
            pending: Vec::new(),
            work: Vec::new(),
            is_at_start: true,
            n_consumed: 0,
            n_invalid_bytes: 0,
            first_invalid_offset: None,
            has_bom: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() {
            let chunk = self.inner.fill_buf()?;
            let n = chunk.len();
            if n == 0 {
                // End of input: whatever is pending can no longer become valid.
                let offset = self.n_consumed - self.pending.len() as u64;
                let pending = std::mem::take(&mut self.pending);
                if self.is_at_start && pending == BOM {
                    self.has_bom = true;
                } else {
                    self.replace_invalid(&pending, offset);
                }
                self.is_at_start = false;
                return Ok(());
            }
            let chunk_offset = self.n_consumed - self.pending.len() as u64;
            if self.pending.is_empty() && !self.is_at_start {
                let (out, pending) = (&mut self.out, &mut self.pending);
                let mut stats = Stats::default();
                decode_into(chunk, chunk_offset, out, pending, &mut stats);
                self.inner.consume(n);
                self.note(stats);
            } else {
                self.work.clear();
                self.work.extend_from_slice(&self.pending);
                self.work.extend_from_slice(chunk);
                self.inner.consume(n);
                self.pending.clear();
                let mut start = 0;
                if self.is_at_start {
                    if self.work.len() < BOM.len() && BOM.starts_with(&self.work) {
                        std::mem::swap(&mut self.pending, &mut self.work);
                        self.n_consumed += n as u64;
                        continue;
                    }
                    if self.work.starts_with(BOM) {
                        self.has_bom = true;
                        start = BOM.len();
                    }
                    self.is_at_start = false;
                }
                let mut stats = Stats::default();
                let work = std::mem::take(&mut self.work);
                decode_into(
                    &work[start..],
                    chunk_offset + start as u64,
                    &mut self.out,
                    &mut self.pending,
                    &mut stats,
                );
                self.work = work;
                self.note(stats);
            }
            self.n_consumed += n as u64;
        }
        Ok(())
    }

    fn note(&mut self, stats: Stats) {
        if stats.n_invalid > 0 {
            self.n_invalid_bytes += stats.n_invalid;
            self.first_invalid_offset = self.first_invalid_offset.or(stats.first_invalid);
        }
    }

    fn replace_invalid(&mut self, bytes: &[u8], offset: u64) {
        if bytes.is_empty() {
            return;
        }
        for &b in bytes {
            push_cp1252(b, &mut self.out);
        }
        self.n_invalid_bytes += bytes.len() as u64;
        self.first_invalid_offset = self.first_invalid_offset.or(Some(offset));
    }
}

#[derive(Default)]
struct Stats {
    n_invalid: u64,
    first_invalid: Option<u64>,
}

/// Appends the valid UTF-8 of `src` to `out`, invalid bytes as Windows-1252, and leaves a
/// trailing incomplete sequence in `pending`.
fn decode_into(
    mut src: &[u8],
    mut offset: u64,
    out: &mut Vec<u8>,
    pending: &mut Vec<u8>,
    stats: &mut Stats,
) {
    loop {
        match std::str::from_utf8(src) {
            Ok(valid) => {
                out.extend_from_slice(valid.as_bytes());
                return;
            }
            Err(e) => {
                let valid = e.valid_up_to();
                out.extend_from_slice(&src[..valid]);
                match e.error_len() {
                    Some(len) => {
                        for &b in &src[valid..valid + len] {
                            push_cp1252(b, out);
                        }
                        stats.n_invalid += len as u64;
                        stats.first_invalid.get_or_insert(offset + valid as u64);
                        src = &src[valid + len..];
                        offset += (valid + len) as u64;
                    }
                    None => {
                        pending.extend_from_slice(&src[valid..]);
                        return;
                    }
                }
            }
        }
    }
}

/// Windows-1252 for 0x80..=0x9F, Latin-1 above; undefined code points become U+FFFD.
fn push_cp1252(b: u8, out: &mut Vec<u8>) {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    let c = match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    };
    let mut tmp = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

impl<R: BufRead> Read for Utf8Lossy<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Utf8Lossy<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn decode(input: &[u8], capacity: usize) -> (String, u64, bool) {
        let mut r = Utf8Lossy::new(BufReader::with_capacity(capacity, input));
        let mut s = String::new();
        r.read_to_string(&mut s).expect("decodes");
        (s, r.n_invalid_bytes, r.has_bom)
    }

    #[test]
    fn valid_utf8_passes_through_at_any_buffer_size() {
        let text = "<a>héllo ✓ 😀</a>";
        for cap in [1, 2, 3, 7, 64] {
            assert_eq!(
                decode(text.as_bytes(), cap),
                (text.to_owned(), 0, false),
                "cap {cap}"
            );
        }
    }

    #[test]
    fn bom_is_dropped_and_invalid_bytes_read_as_cp1252() {
        for cap in [1, 2, 5, 64] {
            let (s, n, bom) = decode(b"\xEF\xBB\xBF<a>\x91q\x92 caf\xE9</a>", cap);
            assert_eq!(s, "<a>‘q’ café</a>", "cap {cap}");
            assert_eq!(n, 3);
            assert!(bom);
        }
        // A truncated multi-byte sequence at the end is invalid too.
        assert_eq!(decode(b"ab\xE2\x82", 1), ("abâ‚".to_owned(), 2, false));
        assert_eq!(decode(b"\x81", 4), ("\u{FFFD}".to_owned(), 1, false));
        assert_eq!(decode(b"\xEF\xBB", 1), ("ï»".to_owned(), 2, false));
    }
}
