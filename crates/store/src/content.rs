//! What is kept of a payload's bytes: its hash, its size, and (optionally) a compressed copy.

use std::cell::RefCell;
use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::write::DeflateEncoder;
use flate2::{Compress, Compression, FlushCompress, Status};

/// BLAKE3 of a payload's bytes (decompressed): what identifies the payload itself, whatever
/// it holds. Stored as hex in `payload_hash` columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayloadHash(blake3::Hash);

impl PayloadHash {
    pub fn of(bytes: &[u8]) -> PayloadHash {
        PayloadHash(blake3::hash(bytes))
    }

    /// The hash as stored (64 lower-case hex digits), or `None` if `hex` is not one.
    pub(crate) fn from_hex(hex: &str) -> Option<PayloadHash> {
        blake3::Hash::from_hex(hex).ok().map(PayloadHash)
    }

    pub(crate) fn hex(&self) -> impl std::ops::Deref<Target = str> {
        self.0.to_hex()
    }
}

/// A payload's bytes as the store keeps them.
#[derive(Debug, Clone)]
pub struct Content {
    pub hash: PayloadHash,
    pub n_bytes: u64,
    /// The bytes, gzip-compressed, when kept.
    pub raw_gz: Option<Vec<u8>>,
}

impl Content {
    /// Content of bytes held in memory, kept: as `gzip` when they arrived so (one member
    /// whose content is exactly `bytes`, as the unpacker checked), else compressed here.
    pub fn of(bytes: &[u8], gzip: Option<Vec<u8>>) -> Content {
        Content::of_hashed(bytes, PayloadHash::of(bytes), gzip, true)
    }

    /// Content of bytes held in memory whose hash is known, kept (as [`Content::of`]) or not.
    pub fn of_hashed(
        bytes: &[u8],
        hash: PayloadHash,
        gzip: Option<Vec<u8>>,
        keep_raw: bool,
    ) -> Content {
        let raw_gz = keep_raw.then(|| {
            gzip.or_else(|| compress(bytes)).unwrap_or_else(|| {
                let mut gz = GzipWriter::new();
                gz.write(bytes);
                gz.finish().unwrap_or_default()
            })
        });
        Content {
            hash,
            n_bytes: bytes.len() as u64,
            raw_gz,
        }
    }

    /// A payload whose bytes are not kept (e.g. a message over the size limit, left on the
    /// server): identified by where it is instead of what it holds.
    pub fn not_kept(location: &str, n_bytes: u64) -> Content {
        Content {
            hash: PayloadHash::of(format!("not kept: {location}").as_bytes()),
            n_bytes,
            raw_gz: None,
        }
    }
}

thread_local! {
    /// The deflate stream each thread compresses payloads with, reset between them: setting
    /// one up allocates and clears about 300 KB, which cost more than compressing a typical
    /// report, and freeing it churned the allocator.
    static DEFLATE: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// A gzip member's header (RFC 1952): deflate, no name, no time, "unknown" system.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// Ends a gzip member: the CRC-32 of the bytes (from crc32fast, which uses the CPU's
/// carry-less multiply: several times faster than zlib-rs's portable one) and their length
/// modulo 2^32.
fn gzip_trailer(out: &mut Vec<u8>, crc: u32, n_bytes: u64) {
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&((n_bytes & 0xffff_ffff) as u32).to_le_bytes());
}

/// A gzip member written as it comes.
struct GzipWriter {
    deflate: DeflateEncoder<Vec<u8>>,
    crc: crc32fast::Hasher,
    n_bytes: u64,
}

impl GzipWriter {
    fn new() -> GzipWriter {
        GzipWriter {
            deflate: DeflateEncoder::new(GZIP_HEADER.to_vec(), Compression::fast()),
            crc: crc32fast::Hasher::new(),
            n_bytes: 0,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        // Compressing into a Vec cannot fail.
        let _ = self.deflate.write_all(bytes);
        self.crc.update(bytes);
        self.n_bytes += bytes.len() as u64;
    }

    fn finish(self) -> io::Result<Vec<u8>> {
        let mut out = self.deflate.finish()?;
        gzip_trailer(&mut out, self.crc.finalize(), self.n_bytes);
        Ok(out)
    }
}

/// `bytes` as one gzip member, or `None` if the compressor failed.
fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(GZIP_HEADER.len() + bytes.len() / 4 + 64);
    out.extend_from_slice(&GZIP_HEADER);
    DEFLATE.with_borrow_mut(|z| {
        z.reset();
        let mut input = bytes;
        loop {
            if out.capacity() - out.len() < 1024 {
                out.reserve(out.capacity());
            }
            let before = z.total_in();
            let status = z
                .compress_vec(input, &mut out, FlushCompress::Finish)
                .ok()?;
            let n_read = usize::try_from(z.total_in() - before).ok()?;
            input = input.get(n_read..)?;
            if status == Status::StreamEnd {
                return Some(());
            }
        }
    })?;
    gzip_trailer(&mut out, crc32fast::hash(bytes), bytes.len() as u64);
    Some(out)
}

/// Bytes read through a [`PayloadTee`] are hashed and compressed in chunks of this size, on
/// a thread of its own once there is more than one chunk: a large report's parser runs on
/// the unpacking thread, which then spends its time parsing only.
const TEE_CHUNK: usize = 256 << 10;

/// Passes a payload through to the parser while hashing (and optionally compressing) every
/// byte read, so the stored copy is exactly what was parsed and nothing is read twice.
pub struct PayloadTee<R> {
    inner: R,
    /// Bytes read and not yet digested.
    chunk: Vec<u8>,
    digest: Digest,
    /// A helper thread was asked for (at the first full chunk; once, even if refused).
    is_helper_tried: bool,
}

/// Where the bytes read are hashed and compressed.
enum Digest {
    /// Boxed: a BLAKE3 hasher is 2 KB, and the tee moves between stack frames.
    Here(Box<Digester>),
    Helper {
        chunks: SyncSender<Vec<u8>>,
        thread: JoinHandle<Option<Box<Digester>>>,
    },
}

/// What a payload's bytes come to: their hash, length and compressed copy.
struct Digester {
    hasher: blake3::Hasher,
    n_bytes: u64,
    raw: Option<GzipWriter>,
}

impl Digester {
    fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.n_bytes += bytes.len() as u64;
        if let Some(gz) = &mut self.raw {
            gz.write(bytes);
        }
    }

    fn finish(self) -> io::Result<Content> {
        let raw_gz = match self.raw {
            Some(gz) => Some(gz.finish()?),
            None => None,
        };
        Ok(Content {
            hash: PayloadHash(self.hasher.finalize()),
            n_bytes: self.n_bytes,
            raw_gz,
        })
    }
}

impl<R> std::fmt::Debug for PayloadTee<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadTee")
            .field("n_pending", &self.chunk.len())
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> PayloadTee<R> {
    pub fn new(inner: R, keep_raw: bool) -> Self {
        Self {
            inner,
            chunk: Vec::new(),
            digest: Digest::Here(Box::new(Digester {
                hasher: blake3::Hasher::new(),
                n_bytes: 0,
                raw: keep_raw.then(GzipWriter::new),
            })),
            is_helper_tried: false,
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
        let digester = match self.digest {
            Digest::Here(mut digester) => {
                digester.update(&self.chunk);
                digester
            }
            Digest::Helper { chunks, thread } => {
                let is_sent = chunks.send(self.chunk).is_ok();
                drop(chunks);
                match thread.join() {
                    Ok(Some(digester)) if is_sent => digester,
                    _ => return Err(io::Error::other("the payload digest thread failed")),
                }
            }
        };
        digester.finish()
    }

    /// Hands the full chunk to the helper thread (started on the first one), or digests it
    /// here if no thread can be started.
    fn hand_off(&mut self) {
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(TEE_CHUNK));
        if !self.is_helper_tried {
            self.is_helper_tried = true;
            self.start_helper();
        }
        match &mut self.digest {
            Digest::Here(digester) => digester.update(&chunk),
            Digest::Helper { chunks, .. } => {
                // A send fails only if the thread died; finish_partial reports that.
                let _ = chunks.send(chunk);
            }
        }
    }

    /// Moves the digest to a thread of its own; it stays here if none can be started.
    fn start_helper(&mut self) {
        let (chunks, incoming) = sync_channel::<Vec<u8>>(2);
        let (start, started) = sync_channel::<Box<Digester>>(1);
        let spawned = std::thread::Builder::new()
            .name("rua-payload-digest".into())
            .spawn(move || {
                let mut digester = started.recv().ok()?;
                for chunk in incoming {
                    digester.update(&chunk);
                }
                Some(digester)
            });
        let Ok(thread) = spawned else { return };
        let helper = Digest::Helper { chunks, thread };
        if let Digest::Here(digester) = std::mem::replace(&mut self.digest, helper) {
            // The thread waits for it; it cannot have gone.
            let _ = start.send(digester);
        }
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
            self.chunk.extend_from_slice(&buf[..amt.min(buf.len())]);
        }
        self.inner.consume(amt);
        if self.chunk.len() >= TEE_CHUNK {
            self.hand_off();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    #[test]
    fn kept_bytes_decompress_to_the_payload_whatever_its_size() {
        // Sizes around the compressor's output reserve, and one that barely compresses.
        let mut noise = Vec::new();
        let mut x: u32 = 7;
        for _ in 0..300_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            noise.push((x >> 16) as u8);
        }
        let text = b"<record><row><source_ip>192.0.2.1</source_ip></row></record>".repeat(5000);
        for bytes in [&b""[..], b"<feedback/>", &text, &noise] {
            let content = Content::of(bytes, None);
            let gz = content.raw_gz.expect("kept");
            assert_eq!(gunzip(&gz), bytes);
            assert_eq!(content.n_bytes, bytes.len() as u64);
        }
        // The stream is reused: a second payload on this thread comes out whole too.
        assert_eq!(gunzip(&compress(&text).expect("compresses")), text);
    }

    #[test]
    fn a_payload_read_through_the_tee_is_kept_whole() {
        // Under one chunk (digested at the end), and several (digested on the helper thread).
        for n in [20_000, 90_000] {
            let text = b"<feedback><record>192.0.2.1</record></feedback>\n".repeat(n);
            let mut tee = PayloadTee::new(io::BufReader::with_capacity(4096, &text[..]), true);
            // The parser reads part of it; finish reads the rest.
            let mut head = [0; 1000];
            tee.read_exact(&mut head).expect("reads");
            let content = tee.finish().expect("finishes");
            assert_eq!(content.n_bytes, text.len() as u64);
            assert_eq!(content.hash, PayloadHash::of(&text));
            assert_eq!(gunzip(&content.raw_gz.expect("kept")), text);
        }
    }

    #[test]
    fn a_payload_that_fails_part_way_keeps_what_was_read() {
        let text = b"<feedback><record>192.0.2.1</record></feedback>\n".repeat(90_000);
        let mut tee = PayloadTee::new(io::BufReader::with_capacity(4096, &text[..]), true);
        let mut read = vec![0; 3 * TEE_CHUNK + 12_345];
        tee.read_exact(&mut read).expect("reads");
        let content = tee.finish_partial().expect("finishes");
        assert_eq!(content.n_bytes, read.len() as u64);
        assert_eq!(content.hash, PayloadHash::of(&read));
        assert_eq!(gunzip(&content.raw_gz.expect("kept")), read);
    }
}
