//! Reading and writing the vault folder's files: every failure becomes a clear message, a
//! write is a temp file renamed over the old one, and nothing outside the folder is touched.
//!
//! A file Quire cannot read, or a symlink, is *held*: it is listed with the reason, and no
//! write, rename or removal here ever replaces it (the pass writes the note beside it). A
//! symlink is never followed either, so a link cannot make Quire read or write elsewhere.

use std::collections::HashSet;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use quire_core::vault::{is_note_file, parse};
use quire_core::NoteId;

use crate::{Error, Result};

/// Bigger files are not notes Quire takes in (the server's note limit is 8 MiB).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// How much of a file too large to take in is read to find the note id in its front matter.
const HEAD_BYTES: u64 = 64 * 1024;

pub struct FileText {
    pub name: String,
    pub text: String,
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

pub struct Listing {
    /// The note files Quire read, in name order.
    pub files: Vec<FileText>,
    /// The ones it must leave as they are, in name order.
    pub held: Vec<Held>,
    /// Every note file name present, held ones too, lower-cased.
    pub names: HashSet<String>,
}

impl Listing {
    /// The held files' names, lower-cased.
    pub fn held_names(&self) -> HashSet<String> {
        self.held.iter().map(|h| h.name.to_lowercase()).collect()
    }
}

fn folder_error(dir: &Path, detail: impl std::fmt::Display) -> Error {
    Error::VaultDir {
        path: dir.to_path_buf(),
        detail: detail.to_string(),
    }
}

pub fn list(dir: &Path) -> Result<Listing> {
    let entries = std::fs::read_dir(dir).map_err(|err| folder_error(dir, err))?;
    let mut files = Vec::new();
    let mut held = Vec::new();
    let mut names = HashSet::new();
    for entry in entries {
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
        names.insert(name.to_lowercase());
        match read(&entry.path()) {
            Ok(text) => files.push(FileText { name, text }),
            Err(why) => held.push(Held { name, why }),
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    held.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { files, held, names })
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
fn read(path: &Path) -> std::result::Result<String, Unreadable> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
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
    String::from_utf8(bytes).map_err(|err| Unreadable::NotUtf8 {
        at: err.utf8_error().valid_up_to(),
        id: id_in(err.as_bytes()),
    })
}

/// Opens a regular file right in the folder, never through a symlink: the name (lstat) and
/// the file opened (fstat) must be one file, so a link swapped in meanwhile is not followed.
fn open_regular(path: &Path) -> std::result::Result<File, Unreadable> {
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
    Ok(file)
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
    let temp = dir.join(format!(".quire-{}.tmp", uuid::Uuid::now_v7()));
    let target = dir.join(name);
    let result = (|| {
        // `create_new` never opens through a symlink that happens to have the temp's name.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        may_replace(&target)?;
        std::fs::rename(&temp, &target)
    })();
    result.map_err(|err| {
        let _ = std::fs::remove_file(&temp);
        folder_error(dir, format!("cannot write {name}: {err}"))
    })
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
    read(&dir.join(MARKER)).is_ok_and(|text| text.trim() == store_id)
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
        assert!(listing.files.is_empty(), "a link is not read");
        assert_eq!(
            listing.held,
            [
                Held {
                    name: "Gone.md".to_owned(),
                    why: Unreadable::Link
                },
                Held {
                    name: "Plan.md".to_owned(),
                    why: Unreadable::Link
                }
            ]
        );
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
