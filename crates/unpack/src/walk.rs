//! Walking inputs and containers down to payloads.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;

use zip::CompressionMethod;

use crate::inflate;
use crate::limit::Limited;
use crate::sniff::{HEAD_LEN, Sniffed, is_tls_report, sniff};
use crate::{IN_MEMORY_BYTES, Limits, Payload, PayloadKind, Provenance, UnpackError, Visitor};

const BUF_LEN: usize = 64 * 1024;

/// What of a stream is held in memory.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Held<'a> {
    /// The bytes of the innermost container as received, kept with a reject.
    pub(crate) container: Option<&'a [u8]>,
    /// Exactly the bytes the stream's reader yields.
    pub(crate) whole: Option<&'a [u8]>,
    /// The stream's bytes as one checked gzip member ([`Payload::gzip`]).
    pub(crate) gzip: Option<&'a [u8]>,
}

impl<'a> Held<'a> {
    /// A stream read from `bytes`, which are also the container kept with a reject.
    pub(crate) fn bytes(bytes: &'a [u8]) -> Held<'a> {
        Held {
            container: Some(bytes),
            whole: Some(bytes),
            gzip: None,
        }
    }

    /// A stream inflated in memory from `gzip` (checked), inside `container`.
    fn inflated(container: Option<&'a [u8]>, content: &'a [u8], gzip: &'a [u8]) -> Held<'a> {
        Held {
            container,
            whole: Some(content),
            gzip: Some(gzip),
        }
    }

    /// A stream not held in memory, inside `container`.
    pub(crate) fn within(container: Option<&'a [u8]>) -> Held<'a> {
        Held {
            container,
            ..Held::default()
        }
    }
}

pub(crate) struct Walker<'v, V> {
    pub(crate) limits: Limits,
    pub(crate) visitor: &'v mut V,
    pub(crate) prov: Provenance,
    /// Payloads and rejects reported so far, to tell a message that held nothing.
    pub(crate) n_found: u64,
}

/// Unpacks a file, a directory (recursively; a Maildir is read as one), or `-` for stdin.
pub fn unpack_path<V: Visitor>(
    path: &Path,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    if path.as_os_str() == "-" {
        return unpack_reader("-", io::stdin().lock(), limits, visitor);
    }
    let mut walker = Walker::new(path.display().to_string(), limits, visitor);
    walker.path(path)
}

/// Unpacks a stream (stdin): a message, an mbox, an archive or a report.
pub fn unpack_reader<V: Visitor, R: Read>(
    source: &str,
    reader: R,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    let mut walker = Walker::new(source.to_owned(), limits, visitor);
    let mut reader = BufReader::with_capacity(BUF_LEN, reader);
    let head = match read_head(&mut reader) {
        Ok(head) => head,
        Err(e) => return walker.reject(UnpackError::Io(e), None),
    };
    let mut joined = Cursor::new(head).chain(reader);
    walker.top(&mut joined, Held::default())
}

/// Unpacks one RFC 5322 message held in memory (as fetched over IMAP).
pub fn unpack_message<V: Visitor>(
    source: &str,
    bytes: &[u8],
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    let mut walker = Walker::new(source.to_owned(), limits, visitor);
    if bytes.len() as u64 > limits.max_message_bytes {
        let limit = limits.max_message_bytes;
        return walker.reject(UnpackError::MessageTooLarge { limit }, Some(bytes));
    }
    walker.message(bytes, 0)
}

fn read_head(reader: &mut dyn BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    reader.take(HEAD_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Reads a whole stream into memory, failing past `limit`.
fn read_capped(reader: &mut dyn BufRead, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    Limited::new(reader, limit).read_to_end(&mut out)?;
    Ok(out)
}

/// A whole stream in memory: the bytes already held when they are, else read (both failing
/// past `limit`).
fn whole<'a>(reader: &mut dyn BufRead, held: Held<'a>, limit: u64) -> io::Result<Cow<'a, [u8]>> {
    match held.whole {
        Some(bytes) if bytes.len() as u64 <= limit => Ok(Cow::Borrowed(bytes)),
        _ => read_capped(reader, limit).map(Cow::Owned),
    }
}

/// A stream that must be read more than once (a zip archive, which is read from its end).
enum Spooled<'a> {
    Memory(Cow<'a, [u8]>),
    /// Larger than [`IN_MEMORY_BYTES`]: in an unnamed temporary file.
    File(File),
}

/// A stream held for random access: where it is when it is in memory already, read into
/// memory up to [`IN_MEMORY_BYTES`], else written to a temporary file (removed from its
/// directory at once, gone when closed); failing past `limit` in every case.
fn spool<'a>(reader: &mut dyn BufRead, held: Held<'a>, limit: u64) -> io::Result<Spooled<'a>> {
    let in_memory = limit.min(IN_MEMORY_BYTES);
    if let Some(bytes) = held.whole.filter(|b| b.len() as u64 <= limit) {
        return Ok(Spooled::Memory(Cow::Borrowed(bytes)));
    }
    let mut reader = Limited::new(reader, limit);
    let mut head = Vec::new();
    (&mut reader).take(in_memory + 1).read_to_end(&mut head)?;
    if head.len() as u64 <= in_memory {
        return Ok(Spooled::Memory(Cow::Owned(head)));
    }
    let mut file = temporary_file()?;
    io::Write::write_all(&mut file, &head)?;
    drop(head);
    io::copy(&mut reader, &mut file)?;
    file.rewind()?;
    Ok(Spooled::File(file))
}

/// A new file in the temporary directory, already unlinked.
fn temporary_file() -> io::Result<File> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("rua-spool-{}-{n}", std::process::id()));
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    fs::remove_file(&path)?;
    Ok(file)
}

/// A zip member's data as stored (compressed), or `None` if it cannot be read.
fn read_raw<R: Read + Seek>(archive: &mut zip::ZipArchive<R>, index: usize) -> Option<Vec<u8>> {
    let mut member = archive.by_index_raw(index).ok()?;
    let mut raw = Vec::with_capacity(usize::try_from(member.compressed_size()).ok()?);
    member.read_to_end(&mut raw).ok()?;
    Some(raw)
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

/// A directory's entries in the order of their names' bytes. Sorting by name, not by path,
/// gives the same order (every entry has the same parent) without splitting each path into
/// components at every comparison.
fn sorted_entries(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut names = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort_unstable();
    Ok(names.into_iter().map(|name| dir.join(name)).collect())
}

impl<'v, V: Visitor> Walker<'v, V> {
    pub(crate) fn new(source: String, limits: &Limits, visitor: &'v mut V) -> Self {
        Self {
            limits: *limits,
            visitor,
            prov: Provenance::new(source),
            n_found: 0,
        }
    }

    pub(crate) fn reject(
        &mut self,
        error: UnpackError,
        bytes: Option<&[u8]>,
    ) -> Result<(), V::Error> {
        self.n_found += 1;
        self.visitor.reject(&self.prov, error, bytes)
    }

    pub(crate) fn payload(
        &mut self,
        kind: PayloadKind,
        reader: &mut dyn BufRead,
        held: Held<'_>,
    ) -> Result<(), V::Error> {
        self.n_found += 1;
        self.visitor.payload(Payload {
            kind,
            provenance: &self.prov,
            reader,
            container_bytes: held.container,
            gzip: held.gzip,
        })
    }

    fn path(&mut self, path: &Path) -> Result<(), V::Error> {
        self.prov.source = path.display().to_string();
        // Opened before anything else is asked of it: one path lookup per file, not two.
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return self.reject(UnpackError::Io(e), None),
        };
        let metadata = file.metadata().ok();
        if metadata.as_ref().is_some_and(fs::Metadata::is_dir) {
            drop(file);
            return self.directory(path);
        }
        // A pipe (`<(zcat ...)`, /dev/stdin) is read as a stream, as stdin is: its size says
        // nothing, and it cannot be read twice.
        let size = metadata.filter(fs::Metadata::is_file).map(|m| m.len());
        // A small file (every report file) is read whole: its bytes are then kept with a
        // reject, and a gzip or zip payload in it comes with its compressed form.
        if size.is_some_and(|n| n <= IN_MEMORY_BYTES) {
            let mut data =
                Vec::with_capacity(size.and_then(|n| usize::try_from(n).ok()).unwrap_or(0));
            if let Err(e) = (&file).take(IN_MEMORY_BYTES + 1).read_to_end(&mut data) {
                return self.reject(UnpackError::Io(e), None);
            }
            if data.len() as u64 <= IN_MEMORY_BYTES {
                return self.top(&mut &data[..], Held::bytes(&data));
            }
            // It grew while being read: read it as a large file.
            if let Err(e) = (&file).rewind() {
                return self.reject(UnpackError::Io(e), None);
            }
        }
        let mut reader = BufReader::with_capacity(BUF_LEN, file);
        let head = match read_head(&mut reader) {
            Ok(head) => head,
            Err(e) => return self.reject(UnpackError::Io(e), None),
        };
        if size.is_some() && sniff(&head) == Sniffed::Zip {
            // A large zip file is read in place rather than copied into memory.
            // Buffered: the zip reader seeks and reads the central directory in small pieces.
            let mut file = BufReader::with_capacity(BUF_LEN, reader.into_inner());
            if let Err(e) = file.rewind() {
                return self.reject(UnpackError::Io(e), None);
            }
            return self.zip(file, 1, None);
        }
        let mut joined = Cursor::new(head).chain(reader);
        self.top(&mut joined, Held::default())
    }

    fn directory(&mut self, dir: &Path) -> Result<(), V::Error> {
        let entries = if is_maildir(dir) {
            // A Maildir: delivered mail in new/ and cur/, then Maildir++ subfolders.
            let mut entries = Vec::new();
            for sub in ["new", "cur"] {
                match sorted_entries(&dir.join(sub)) {
                    Ok(found) => entries.extend(found),
                    Err(e) => return self.reject(UnpackError::Io(e), None),
                }
            }
            if let Ok(found) = sorted_entries(dir) {
                entries.extend(found.into_iter().filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                        && is_maildir(p)
                }));
            }
            entries
        } else {
            match sorted_entries(dir) {
                // Hidden files (editor and OS droppings) are not inputs.
                Ok(found) => found
                    .into_iter()
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
                    })
                    .collect(),
                Err(e) => return self.reject(UnpackError::Io(e), None),
            }
        };
        for entry in entries {
            self.path(&entry)?;
        }
        Ok(())
    }

    /// Top level of a file or stdin: like a container's content, but mbox is allowed and a
    /// message is read into memory within the message limit.
    fn top(&mut self, reader: &mut dyn BufRead, held: Held<'_>) -> Result<(), V::Error> {
        let head = match reader.fill_buf() {
            Ok(head) => head,
            Err(e) => return self.reject(UnpackError::Io(e), None),
        };
        match sniff(head) {
            Sniffed::Mbox => self.mbox(reader),
            Sniffed::Message => {
                let limit = self.limits.max_message_bytes;
                match whole(reader, held, limit) {
                    Ok(data) => self.message(&data, 0),
                    Err(e) if crate::limit_exceeded(&e).is_some() => {
                        self.reject(UnpackError::MessageTooLarge { limit }, None)
                    }
                    Err(e) => self.reject(UnpackError::Io(e), None),
                }
            }
            _ => self.stream(reader, 0, held),
        }
    }

    fn mbox(&mut self, reader: &mut dyn BufRead) -> Result<(), V::Error> {
        let limit = self.limits.max_message_bytes;
        let iter = mail_parser::mailbox::mbox::MessageIterator::new(reader);
        for (i, message) in iter.enumerate() {
            self.prov.chain.push(format!("mbox message {}", i + 1));
            let result = match message {
                Ok(m) if m.contents().len() as u64 > limit => {
                    self.reject(UnpackError::MessageTooLarge { limit }, None)
                }
                Ok(m) => self.message(m.contents(), 0),
                Err(e) => self.reject(UnpackError::Io(e), None),
            };
            self.prov.chain.pop();
            result?;
        }
        Ok(())
    }

    /// A payload stream inside a container (or a plain file): sniff it and descend.
    pub(crate) fn stream(
        &mut self,
        reader: &mut dyn BufRead,
        depth: usize,
        held: Held<'_>,
    ) -> Result<(), V::Error> {
        let container = held.container;
        let head = match read_head(reader) {
            Ok(head) => head,
            Err(e) => return self.reject(UnpackError::Io(e), container),
        };
        let sniffed = sniff(&head);
        let is_tls = sniffed == Sniffed::Json && is_tls_report(&head);
        let mut joined = Cursor::new(head).chain(reader);
        let is_container = matches!(sniffed, Sniffed::Gzip | Sniffed::Zip | Sniffed::Message);
        if is_container && depth >= self.limits.max_depth {
            let limit = self.limits.max_depth;
            return self.reject(UnpackError::TooDeep { limit }, container);
        }
        match sniffed {
            Sniffed::Gzip => {
                // One member, as RFC 1952 readers do: bytes after it (Mimecast's CRLF) are
                // not read at all.
                let limit = self.limits.max_decompressed_bytes;
                let cap = limit.min(IN_MEMORY_BYTES);
                self.prov.chain.push("gzip".to_owned());
                let result = match held.whole.and_then(|bytes| inflate::gzip(bytes, cap)) {
                    Some((content, member)) => {
                        let held = Held::inflated(container, &content, member);
                        self.stream(&mut &content[..], depth + 1, held)
                    }
                    None => {
                        let gz = flate2::bufread::GzDecoder::new(&mut joined);
                        let mut inflated =
                            BufReader::with_capacity(BUF_LEN, Limited::new(gz, limit));
                        self.stream(&mut inflated, depth + 1, Held::within(container))
                    }
                };
                self.prov.chain.pop();
                result
            }
            Sniffed::Zip => {
                let limit = self.limits.max_decompressed_bytes;
                match spool(&mut joined, held, limit) {
                    Ok(Spooled::Memory(data)) => {
                        self.zip(Cursor::new(&data[..]), depth + 1, Some(&data))
                    }
                    Ok(Spooled::File(file)) => {
                        let file = BufReader::with_capacity(BUF_LEN, file);
                        self.zip(file, depth + 1, container)
                    }
                    Err(e) => self.reject(UnpackError::Io(e), container),
                }
            }
            Sniffed::Message => match whole(&mut joined, held, self.limits.max_message_bytes) {
                Ok(data) => self.message(&data, depth + 1),
                Err(e) => self.reject(UnpackError::Io(e), container),
            },
            Sniffed::Xml => self.payload(PayloadKind::Aggregate, &mut joined, held),
            Sniffed::Json if is_tls => self.payload(PayloadKind::SmtpTls, &mut joined, held),
            Sniffed::Json | Sniffed::Mbox | Sniffed::Empty | Sniffed::Unknown => {
                self.payload(PayloadKind::NotReport, &mut joined, held)
            }
        }
    }

    fn zip<R: Read + Seek>(
        &mut self,
        archive: R,
        depth: usize,
        container: Option<&[u8]>,
    ) -> Result<(), V::Error> {
        let mut archive = match zip::ZipArchive::new(archive) {
            Ok(archive) => archive,
            Err(e) => return self.reject(UnpackError::Zip(e), container),
        };
        let count = archive.len();
        if count > self.limits.max_zip_members {
            let limit = self.limits.max_zip_members;
            return self.reject(UnpackError::TooManyMembers { count, limit }, container);
        }
        let saved_name = self.prov.file_name.clone();
        for index in 0..count {
            let member = match archive.by_index(index) {
                Ok(member) => member,
                Err(e) => {
                    self.prov.chain.push(format!("zip member #{}", index + 1));
                    let result = self.reject(UnpackError::Zip(e), container);
                    self.prov.chain.pop();
                    result?;
                    continue;
                }
            };
            if member.is_dir() {
                continue;
            }
            // A name that is not valid text is shown lossily; the content decides anyway.
            let name = member.name().map_or_else(
                |_| String::from_utf8_lossy(member.name_raw()).into_owned(),
                |n| n.into_owned(),
            );
            self.prov.chain.push(format!("zip member {name:?}"));
            self.prov.file_name = Some(name);
            let limit = self.limits.max_decompressed_bytes;
            let cap = limit.min(IN_MEMORY_BYTES);
            // Only a member that can be inflated in memory has its raw data read for it.
            let is_small_deflated = member.compression() == CompressionMethod::Deflated
                && !member.encrypted()
                && member.compressed_size() <= cap
                && member.size() <= cap;
            let (crc, size) = (member.crc32(), member.size());
            let is_raw_small = member.compressed_size() <= IN_MEMORY_BYTES;
            drop(member);
            // The member as stored, when small: what a reject or a payload too large to
            // read keeps of it (rather than the whole archive once per member).
            let raw = is_raw_small
                .then(|| read_raw(&mut archive, index))
                .flatten();
            let in_memory = raw
                .as_deref()
                .filter(|_| is_small_deflated)
                .and_then(|raw| inflate::zip_deflated(raw, crc, size, cap));
            let result = match in_memory {
                Some((content, gzip)) => {
                    let held = Held::inflated(container, &content, &gzip);
                    self.stream(&mut &content[..], depth, held)
                }
                // Read as a stream, which also reports what is wrong with the member.
                None => match archive.by_index(index) {
                    Ok(member) => {
                        let mut reader =
                            BufReader::with_capacity(BUF_LEN, Limited::new(member, limit));
                        let held = Held::within(raw.as_deref().or(container));
                        self.stream(&mut reader, depth, held)
                    }
                    Err(e) => self.reject(UnpackError::Zip(e), container),
                },
            };
            self.prov.chain.pop();
            result?;
        }
        self.prov.file_name = saved_name;
        Ok(())
    }
}
