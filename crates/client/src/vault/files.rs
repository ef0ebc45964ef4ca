//! Reading and writing the vault folder's files: every failure becomes a clear message, a
//! write is a temp file renamed over the old one, and nothing outside the folder is touched.
//! Listing the folder reads no file; a pass reads only the files whose stamp changed.
//!
//! A file Quire cannot read, or a symlink, is *held*: it is listed with the reason, and no
//! write, rename or removal here ever replaces it (the pass writes the note beside it). A
//! symlink is never followed either, so a link cannot make Quire read or write elsewhere.

use std::collections::HashSet;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use quire_core::vault::{file_hash, is_note_file, parse, FileHash, FileStamp};
use quire_core::NoteId;

use crate::{Error, Result};

/// Bigger files are not notes Quire takes in (the server's note limit is 8 MiB).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// How much of a file too large to take in is read to find the note id in its front matter.
const HEAD_BYTES: u64 = 64 * 1024;

/// A note file's text, and what its metadata said when it was opened.
pub struct FileText {
    pub text: String,
    pub hash: FileHash,
    /// None when the stamp was taken too soon after a write to tell later ones apart.
    pub stamp: Option<FileStamp>,
}

/// A file named like a note that Quire must leave exactly as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub name: String,
    pub why: Unreadable,
}

/// Why a file is held, in words for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// `id`: the note its front matter names, if that much could be read.
    NotUtf8 {
        at: usize,
        id: Option<NoteId>,
    },
    TooLarge {
        bytes: u64,
        id: Option<NoteId>,
    },
    Link,
    NotAFile,
    Failed(String),
}

impl From<std::io::Error> for Unreadable {
    fn from(err: std::io::Error) -> Self {
        Self::Failed(err.to_string())
    }
}

impl Unreadable {
    /// The note the file's own front matter names, when its bytes could be seen.
    pub fn id(&self) -> Option<NoteId> {
        match self {
            Self::NotUtf8 { id, .. } | Self::TooLarge { id, .. } => *id,
            Self::Link | Self::NotAFile | Self::Failed(_) => None,
        }
    }
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotUtf8 { at, .. } => write!(f, "the file is not UTF-8 text (at byte {at})"),
            Self::TooLarge { bytes, .. } => write!(
                f,
                "the file is {bytes} bytes; notes are at most {MAX_FILE_BYTES} bytes"
            ),
            Self::Link => {
                f.write_str("it is a symbolic link, which Quire never follows or replaces")
            }
            Self::NotAFile => f.write_str("it is not a regular file"),
            Self::Failed(detail) => write!(f, "it cannot be read ({detail})"),
        }
    }
}

/// What the folder's own entry says a name is (no file is opened to know it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Link,
    Other,
}

/// A name in the folder that is named like a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub kind: Kind,
}

pub struct Listing {
    /// Every note file name present, in name order.
    pub entries: Vec<Listed>,
    /// The same names, lower-cased.
    pub names: HashSet<String>,
}

impl Listing {
    /// Whether a file of exactly this name is there (case counts).
    pub fn has(&self, name: &str) -> bool {
        self.entries
            .binary_search_by(|entry| entry.name.as_str().cmp(name))
            .is_ok()
    }
}

fn folder_error(dir: &Path, detail: impl std::fmt::Display) -> Error {
    Error::VaultDir {
        path: dir.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// The note files in `dir`, without reading any.
pub fn list(dir: &Path) -> Result<Listing> {
    let read_dir = std::fs::read_dir(dir).map_err(|err| folder_error(dir, err))?;
    let mut entries = Vec::new();
    let mut names = HashSet::new();
    for entry in read_dir {
        let entry = entry.map_err(|err| folder_error(dir, err))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name == MARKER {
            refuse_linked_marker(dir, &entry)?;
        }
        if !is_note_file(&name) {
            continue;
        }
        // The directory entry's type: no stat on filesystems that report it.
        let kind = match entry.file_type() {
            Ok(kind) if kind.is_symlink() => Kind::Link,
            Ok(kind) if kind.is_file() => Kind::File,
            Ok(_) => Kind::Other,
            // Unknown: reading it will say why.
            Err(_) => Kind::File,
        };
        names.insert(name.to_lowercase());
        entries.push(Listed { name, kind });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { entries, names })
}

/// Nanoseconds since the Unix epoch, now.
fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(unix)]
fn stamp_of(meta: &Metadata) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    FileStamp {
        size: meta.size(),
        mtime_ns: meta.mtime().saturating_mul(1_000_000_000) + meta.mtime_nsec(),
        inode: meta.ino(),
    }
}

#[cfg(not(unix))]
fn stamp_of(meta: &Metadata) -> FileStamp {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    FileStamp {
        size: meta.len(),
        mtime_ns,
        inode: 0,
    }
}

/// The stamp of the regular file `dir/name` as it is now, without opening it; None for
/// anything else (gone, a link, a folder).
pub fn stamp(dir: &Path, name: &str) -> Option<FileStamp> {
    std::fs::symlink_metadata(dir.join(name))
        .ok()
        .filter(Metadata::is_file)
        .map(|meta| stamp_of(&meta))
}

/// A linked marker would make Quire trust (and write) a file elsewhere: the pass stops
/// before it changes anything, and says how to fix it.
fn refuse_linked_marker(dir: &Path, entry: &std::fs::DirEntry) -> Result<()> {
    match entry.file_type() {
        Ok(kind) if kind.is_file() => Ok(()),
        _ => Err(folder_error(
            dir,
            format!(
                "{MARKER} is not a regular file; Quire keeps its own marker there, so remove it"
            ),
        )),
    }
}

/// A note file's text; a symlink or anything but a regular file is not opened at all.
pub fn read(dir: &Path, name: &str) -> std::result::Result<FileText, Unreadable> {
    // Taken before the file is opened: a stamp settled by then tells any later write apart.
    let seen_at = now_ns();
    let (file, opened) = open_regular(&dir.join(name))?;
    let stamp = stamp_of(&opened);
    let len = opened.len();
    // Too large: only the head, for the id (the watcher runs passes often).
    let limit = if len > MAX_FILE_BYTES {
        HEAD_BYTES
    } else {
        MAX_FILE_BYTES + 1
    };
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if len > MAX_FILE_BYTES || read > MAX_FILE_BYTES {
        return Err(Unreadable::TooLarge {
            bytes: len.max(read),
            id: id_in(&bytes),
        });
    }
    let text = String::from_utf8(bytes).map_err(|err| Unreadable::NotUtf8 {
        at: err.utf8_error().valid_up_to(),
        id: id_in(err.as_bytes()),
    })?;
    Ok(FileText {
        hash: file_hash(&text),
        stamp: stamp.settled(seen_at).then_some(stamp),
        text,
    })
}

/// Opens a regular file right in the folder, never through a symlink: the name (lstat) and
/// the file opened (fstat) must be one file, so a link swapped in meanwhile is not followed.
fn open_regular(path: &Path) -> std::result::Result<(File, Metadata), Unreadable> {
    let named = std::fs::symlink_metadata(path)?;
    if named.file_type().is_symlink() {
        return Err(Unreadable::Link);
    }
    if !named.is_file() {
        return Err(Unreadable::NotAFile);
    }
    let file = File::open(path)?;
    let opened = file.metadata()?;
    if !same_file(&named, &opened) {
        return Err(Unreadable::Failed(
            "it was replaced while Quire read it".to_owned(),
        ));
    }
    Ok((file, opened))
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Without inode numbers, a regular file opened is the best check there is.
#[cfg(not(unix))]
fn same_file(_named: &Metadata, opened: &Metadata) -> bool {
    opened.is_file()
}

/// The note id in a file's front matter, read leniently: the bytes that are not UTF-8 are
/// usually in the body, and the id says which note the file stands for.
fn id_in(bytes: &[u8]) -> Option<NoteId> {
    parse(&String::from_utf8_lossy(bytes)).id
}

/// Writes `text` to `dir/name` through a temp file in the same folder, so an editor (or a
/// crash) never sees half a file. Only a regular file (or nothing) is replaced.
pub fn write_atomically(dir: &Path, name: &str, text: &str) -> Result<()> {
    write_many(dir, &[(name, text)])
        .pop()
        .unwrap_or_else(|| Err(folder_error(dir, format!("cannot write {name}"))))
}

/// Writes many files, each through a temp file renamed over the old one, made durable
/// together: every temp is written, then one `syncfs` (an fsync each elsewhere, and for a
/// single file), then the renames and one fsync of the folder. One outcome per file.
pub fn write_many(dir: &Path, files: &[(&str, &str)]) -> Vec<Result<()>> {
    let failed =
        |name: &str, err: std::io::Error| folder_error(dir, format!("cannot write {name}: {err}"));
    let temps: Vec<std::io::Result<PathBuf>> = files
        .iter()
        .map(|(_, text)| {
            let temp = dir.join(format!(".quire-{}.tmp", uuid::Uuid::now_v7()));
            // `create_new` never opens through a symlink that happens to have the temp's name.
            let written = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .and_then(|mut file| file.write_all(text.as_bytes()));
            if written.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            written.map(|()| temp)
        })
        .collect();
    let synced = sync_written(dir, &temps);
    let outcomes = files
        .iter()
        .zip(temps)
        .map(|((name, _), temp)| {
            let temp = temp.map_err(|err| failed(name, err))?;
            let renamed = synced
                .as_ref()
                .map_err(|err| std::io::Error::new(err.kind(), err.to_string()))
                .and_then(|()| may_replace(&dir.join(name)))
                .and_then(|()| std::fs::rename(&temp, dir.join(name)));
            renamed.map_err(|err| {
                let _ = std::fs::remove_file(&temp);
                failed(name, err)
            })
        })
        .collect();
    // The renames themselves: durable once the folder is.
    if let Err(err) = File::open(dir).and_then(|folder| folder.sync_all()) {
        tracing::warn!(dir = %dir.display(), "cannot sync the vault folder: {err}");
    }
    outcomes
}

/// Makes the temps written so far durable before any is renamed into place.
#[cfg(target_os = "linux")]
fn sync_written(dir: &Path, temps: &[std::io::Result<PathBuf>]) -> std::io::Result<()> {
    match temps.iter().filter(|t| t.is_ok()).count() {
        0 => Ok(()),
        // One file: its own fsync is cheaper than the whole filesystem's.
        1 => temps
            .iter()
            .flatten()
            .try_for_each(|temp| File::open(temp)?.sync_all()),
        _ => Ok(rustix::fs::syncfs(File::open(dir)?)?),
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_written(_dir: &Path, temps: &[std::io::Result<PathBuf>]) -> std::io::Result<()> {
    temps
        .iter()
        .flatten()
        .try_for_each(|temp| File::open(temp)?.sync_all())
}

/// Removes a note's file; a symlink (or anything but a regular file) is left where it is.
pub fn remove(dir: &Path, name: &str) -> Result<()> {
    let path = dir.join(name);
    match may_replace(&path).and_then(|()| std::fs::remove_file(&path)) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(folder_error(dir, format!("cannot remove {name}: {err}"))),
    }
}

/// Whether `path` may be replaced or removed: a regular file, or nothing. A rename over a
/// symlink would swap the link (and what it points to) for a file; the person made it.
fn may_replace(path: &Path) -> std::io::Result<()> {
    let refuse = |why: Unreadable| Err(std::io::Error::other(why.to_string()));
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => refuse(Unreadable::Link),
        Ok(meta) if !meta.is_file() => refuse(Unreadable::NotAFile),
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// The marker Quire keeps in a folder it mirrors into, naming the store. Without it (a new
/// folder, or one that was removed and made again), the index says nothing about the files,
/// and missing files must not be read as deleted notes.
const MARKER: &str = ".quire-vault";

pub fn is_ours(dir: &Path, store_id: &str) -> bool {
    read(dir, MARKER).is_ok_and(|file| file.text.trim() == store_id)
}

pub fn mark_ours(dir: &Path, store_id: &str) -> Result<()> {
    if is_ours(dir, store_id) {
        return Ok(());
    }
    write_atomically(dir, MARKER, &format!("{store_id}\n"))
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn a_symlink_is_never_written_over_removed_or_read() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("elsewhere.md");
        std::fs::write(&target, "outside\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("Plan.md");
        symlink(&target, &link).unwrap();
        let dangling = dir.path().join("Gone.md");
        symlink(outside.path().join("missing.md"), &dangling).unwrap();

        for name in ["Plan.md", "Gone.md"] {
            let err = write_atomically(dir.path(), name, "new\n").unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
            assert!(remove(dir.path(), name).is_err());
        }
        assert_eq!(std::fs::read_link(&link).unwrap(), target);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "outside\n");
        assert!(std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(
            !outside.path().join("missing.md").exists(),
            "not written through"
        );

        let listing = list(dir.path()).unwrap();
        assert_eq!(
            listing.entries,
            [
                Listed {
                    name: "Gone.md".to_owned(),
                    kind: Kind::Link
                },
                Listed {
                    name: "Plan.md".to_owned(),
                    kind: Kind::Link
                }
            ],
            "links are listed as links, without following them"
        );
        for name in ["Gone.md", "Plan.md"] {
            assert_eq!(read(dir.path(), name).err(), Some(Unreadable::Link));
            assert_eq!(stamp(dir.path(), name), None);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|name| name.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_linked_marker_stops_the_pass() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("m"), "store\n").unwrap();
        symlink(outside.path().join("m"), dir.path().join(MARKER)).unwrap();
        assert!(!is_ours(dir.path(), "store"), "a link is not read");
        let err = list(dir.path()).err().unwrap();
        assert!(
            err.to_string()
                .contains(".quire-vault is not a regular file"),
            "{err}"
        );
    }
}
