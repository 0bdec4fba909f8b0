//! The database file itself: what an existing path is, and creating a new database so that
//! no half-created file ever carries its final name.
//!
//! A new database is created and migrated under a temporary name beside the final one, closed
//! (DuckDB checkpoints on close, so no WAL is left), and then linked to its final name, which
//! fails if another process got there first (its database is then used). A process killed
//! while creating leaves only its temporary file, which a later creation removes once it is
//! old. An existing path is opened only when it starts like a DuckDB file: anything else (a
//! text file, a directory, an empty file) is refused and never modified.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::StoreError;

/// DuckDB's main header starts with an 8-byte checksum, then this magic.
const MAGIC: &[u8; 4] = b"DUCK";
const MAGIC_AT: usize = 8;

/// Temporary files of creations older than this were left by a killed process: creating a
/// database takes milliseconds.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// What is at a database path.
pub(crate) enum Found {
    Nothing,
    Database,
}

/// Whether `path` holds a DuckDB database, holds nothing, or holds something else (an error
/// that says what, so that the user sees which path they mixed up).
pub(crate) fn inspect(path: &Path) -> Result<Found, StoreError> {
    let not_database = |what: String| StoreError::NotADatabase {
        path: path.to_owned(),
        what,
    };
    let metadata = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
        Err(e) => return Err(not_database(format!("cannot be read ({e})"))),
    };
    if metadata.is_dir() {
        return Err(not_database("is a directory".to_owned()));
    }
    if !metadata.is_file() {
        return Err(not_database("is not a regular file".to_owned()));
    }
    let mut head = Vec::with_capacity(64);
    let read = fs::File::open(path).and_then(|f| f.take(64).read_to_end(&mut head));
    if let Err(e) = read {
        return Err(not_database(format!("cannot be read ({e})")));
    }
    if head.get(MAGIC_AT..MAGIC_AT + MAGIC.len()) == Some(&MAGIC[..]) {
        return Ok(Found::Database);
    }
    Err(not_database(describe(&head, metadata.len())))
}

/// What a file that is not a database looks like, for the error message.
fn describe(head: &[u8], len: u64) -> String {
    if len == 0 {
        return "is an empty file (not created by rua)".to_owned();
    }
    let is_text = std::str::from_utf8(head).is_ok_and(|t| {
        t.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    });
    if is_text {
        format!("is a text file of {len} bytes, not a DuckDB database")
    } else {
        format!("is a file of {len} bytes that is not a DuckDB database")
    }
}

/// The temporary name a creation by this process uses beside `path`.
fn temporary(path: &Path) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".creating-{}-{nanos}", std::process::id()));
    path.with_file_name(name)
}

/// The WAL DuckDB keeps beside a database file.
fn wal(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".wal");
    PathBuf::from(name)
}

/// Removes temporary files that killed creations left beside `path` (best effort).
fn remove_stale(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.creating-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let is_ours = entry.file_name().to_string_lossy().starts_with(&prefix);
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if is_ours && age.is_some_and(|a| a >= STALE_AFTER) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates a database at `path` (which did not exist): `initialise` opens the temporary file
/// it is given, migrates it and closes it; the file is then linked to `path`. Returns false
/// when another process created `path` meanwhile (its database stands, ours is discarded).
pub(crate) fn create(
    path: &Path,
    initialise: impl FnOnce(&Path) -> Result<(), StoreError>,
) -> Result<bool, StoreError> {
    remove_stale(path);
    let tmp = temporary(path);
    let discard = |tmp: &Path| {
        let _ = fs::remove_file(tmp);
        let _ = fs::remove_file(wal(tmp));
    };
    if let Err(e) = initialise(&tmp) {
        discard(&tmp);
        return Err(e);
    }
    // A hard link never replaces an existing file: the first creator wins.
    let linked = match fs::hard_link(&tmp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(StoreError::Create {
            path: path.to_owned(),
            source,
        }),
    };
    discard(&tmp);
    linked
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rua-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn what(path: &Path) -> String {
        match inspect(path) {
            Ok(Found::Nothing) => "nothing".to_owned(),
            Ok(Found::Database) => "database".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn paths_that_are_not_databases_say_what_they_are() {
        let dir = dir("inspect");
        assert_eq!(what(&dir.join("absent")), "nothing");
        assert!(what(&dir).contains("is a directory"), "{}", what(&dir));
        let text = dir.join("notes.txt");
        fs::write(&text, "important notes\n").unwrap();
        assert!(what(&text).contains("is a text file of 16 bytes"));
        let empty = dir.join("empty");
        fs::write(&empty, "").unwrap();
        assert!(what(&empty).contains("is an empty file"));
        let zeros = dir.join("zeros");
        fs::write(&zeros, [0u8; 4096]).unwrap();
        assert!(what(&zeros).contains("file of 4096 bytes that is not a DuckDB database"));
        let mut header = vec![0u8; 4096];
        header[8..12].copy_from_slice(b"DUCK");
        let db = dir.join("db");
        fs::write(&db, header).unwrap();
        assert_eq!(what(&db), "database");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_creation_never_replaces_a_file_and_leaves_no_temporary_file() {
        let dir = dir("create");
        let path = dir.join("rua.duckdb");
        let write = |content: &'static str| {
            move |tmp: &Path| {
                fs::write(tmp, content).unwrap();
                Ok(())
            }
        };
        assert!(create(&path, write("first")).unwrap());
        assert!(!create(&path, write("second")).unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        let failed = create(&dir.join("other"), |tmp: &Path| {
            fs::write(tmp, "half").unwrap();
            Err(StoreError::Missing {
                path: tmp.to_owned(),
            })
        });
        assert!(failed.is_err());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["rua.duckdb"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
