//! Reading and writing the vault folder's files: every failure becomes a clear message, a
//! write is a temp file renamed over the old one, and nothing outside the folder is touched.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use quire_core::vault::is_note_file;

use crate::{Error, Result};

/// Bigger files are not notes Quire takes in (the server's note limit is 8 MiB).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

pub struct FileText {
    pub name: String,
    /// The text, or why it cannot be taken in.
    pub text: std::result::Result<String, String>,
}

pub struct Listing {
    /// The note files, in name order.
    pub files: Vec<FileText>,
    /// Every note file name present, lower-cased.
    pub names: HashSet<String>,
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
    let mut names = HashSet::new();
    for entry in entries {
        let entry = entry.map_err(|err| folder_error(dir, err))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_note_file(&name) {
            continue;
        }
        // Only regular files right in the folder: a symlink could lead anywhere.
        match entry.file_type() {
            Ok(kind) if kind.is_file() => {}
            _ => continue,
        }
        names.insert(name.to_lowercase());
        let text = read(&entry.path());
        files.push(FileText { name, text });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { files, names })
}

fn read(path: &Path) -> std::result::Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|err| err.to_string())?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "the file is {size} bytes; notes are at most {MAX_FILE_BYTES} bytes, so it was left as it is"
        ));
    }
    let bytes = std::fs::read(path).map_err(|err| err.to_string())?;
    String::from_utf8(bytes).map_err(|err| {
        format!(
            "the file is not UTF-8 text (at byte {}), so it was left as it is",
            err.utf8_error().valid_up_to()
        )
    })
}

/// Writes `text` to `dir/name` through a temp file in the same folder, so an editor (or a
/// crash) never sees half a file.
pub fn write_atomically(dir: &Path, name: &str, text: &str) -> Result<()> {
    let temp = dir.join(format!(".quire-{}.tmp", uuid::Uuid::now_v7()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, dir.join(name))
    })();
    result.map_err(|err| {
        let _ = std::fs::remove_file(&temp);
        folder_error(dir, format!("cannot write {name}: {err}"))
    })
}

pub fn remove(dir: &Path, name: &str) -> Result<()> {
    match std::fs::remove_file(dir.join(name)) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(folder_error(dir, format!("cannot remove {name}: {err}"))),
    }
}

/// The marker Quire keeps in a folder it mirrors into, naming the store. Without it (a new
/// folder, or one that was removed and made again), the index says nothing about the files,
/// and missing files must not be read as deleted notes.
const MARKER: &str = ".quire-vault";

pub fn is_ours(dir: &Path, store_id: &str) -> bool {
    std::fs::read_to_string(dir.join(MARKER)).is_ok_and(|text| text.trim() == store_id)
}

pub fn mark_ours(dir: &Path, store_id: &str) -> Result<()> {
    if is_ours(dir, store_id) {
        return Ok(());
    }
    write_atomically(dir, MARKER, &format!("{store_id}\n"))
}
