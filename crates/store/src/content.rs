//! What is kept of a payload's bytes: its hash, its size, and (optionally) a compressed copy.

use std::io::{self, BufRead, Read, Write};

use flate2::Compression;
use flate2::write::GzEncoder;

/// A payload's bytes as the store keeps them.
#[derive(Debug, Clone)]
pub struct Content {
    /// BLAKE3 of the bytes, hex.
    pub hash: String,
    pub n_bytes: u64,
    /// The bytes, gzip-compressed, when kept.
    pub raw_gz: Option<Vec<u8>>,
}

impl Content {
    /// Content of bytes held in memory.
    pub fn of(bytes: &[u8], keep_raw: bool) -> Content {
        let raw_gz = keep_raw.then(|| {
            let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
            // Writing to a Vec cannot fail.
            let _ = enc.write_all(bytes);
            enc.finish().unwrap_or_default()
        });
        Content {
            hash: blake3::hash(bytes).to_hex().to_string(),
            n_bytes: bytes.len() as u64,
            raw_gz,
        }
    }
}

/// Passes a payload through to the parser while hashing (and optionally compressing) every
/// byte read, so the stored copy is exactly what was parsed and nothing is read twice.
impl Content {
    /// A payload whose bytes are not kept (e.g. a message over the size limit, left on the
    /// server): identified by where it is instead of what it holds.
    pub fn not_kept(location: &str, n_bytes: u64) -> Content {
        Content {
            hash: blake3::hash(format!("not kept: {location}").as_bytes())
                .to_hex()
                .to_string(),
            n_bytes,
            raw_gz: None,
        }
    }
}

pub struct PayloadTee<R> {
    inner: R,
    hasher: blake3::Hasher,
    n_bytes: u64,
    raw: Option<GzEncoder<Vec<u8>>>,
}

impl<R> std::fmt::Debug for PayloadTee<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadTee")
            .field("n_bytes", &self.n_bytes)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> PayloadTee<R> {
    pub fn new(inner: R, keep_raw: bool) -> Self {
        Self {
            inner,
            hasher: blake3::Hasher::new(),
            n_bytes: 0,
            raw: keep_raw.then(|| GzEncoder::new(Vec::new(), Compression::fast())),
        }
    }

    /// Reads whatever the parser left unread (it stops at `</feedback>`), so the hash covers
    /// the whole payload, then returns the content. Errors are the payload's read errors.
    pub fn finish(mut self) -> io::Result<Content> {
        io::copy(&mut self, &mut io::sink())?;
        self.finish_partial()
    }

    /// The content read so far, for a payload that failed part-way.
    pub fn finish_partial(self) -> io::Result<Content> {
        let raw_gz = match self.raw {
            Some(enc) => Some(enc.finish()?),
            None => None,
        };
        Ok(Content {
            hash: self.hasher.finalize().to_hex().to_string(),
            n_bytes: self.n_bytes,
            raw_gz,
        })
    }
}

impl<R: BufRead> Read for PayloadTee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for PayloadTee<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes being consumed are still in the inner buffer: `fill_buf` returns them
        // again without reading.
        if let Ok(buf) = self.inner.fill_buf() {
            let taken = &buf[..amt.min(buf.len())];
            self.hasher.update(taken);
            self.n_bytes += taken.len() as u64;
            if let Some(enc) = &mut self.raw {
                // Compressing into a Vec cannot fail.
                let _ = enc.write_all(taken);
            }
        }
        self.inner.consume(amt);
    }
}
