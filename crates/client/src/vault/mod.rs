//! The vault folder (PRODUCT.md, "Vault folder"): notes mirrored as Markdown files, and
//! edits made there by any editor taken in as ordinary queued ops.
//!
//! One pass ([`sync_folder`]) compares the folder, the store and the index of what Quire last
//! wrote or read ([`VaultEntry`]): files that differ from the index are outside edits (taken
//! in, merged with app edits made meanwhile), notes that differ from it are app or sync
//! edits (written out, atomically). Our own writes match the index, so they never come back
//! as ops. [`watch`] runs passes when files change.
//!
//! A file Quire cannot read (not UTF-8, too large) and a symlink are *held*: never written
//! over, renamed over or removed, since they may hold the only copy of an outside edit (or
//! lead outside the folder). A note that changed while its file is held is written beside
//! it, to a free name, and the report says where: both texts are kept.

mod files;
pub mod watch;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use quire_core::merge::merge3;
use quire_core::vault::{file_name_for, parse, render, safe_stem};
use quire_core::{Note, NoteFields, NoteId};
use serde::Serialize;

use crate::store::{NoteEdit, VaultEntry};
use crate::{Error, Result, Store};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultReport {
    /// Notes made from new files.
    pub created: u64,
    /// Notes changed from their files (edits and renames).
    pub updated: u64,
    /// Notes whose file was deleted.
    pub deleted: u64,
    /// Files edited both here and in the app that merged cleanly.
    pub merged: u64,
    /// Files edited both here and in the app that wait for a decision.
    pub conflicts: u64,
    /// Files written or removed to match the notes.
    pub written: u64,
    /// Files that could not be taken in, and why; nothing else was held up by them.
    pub problems: Vec<VaultProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct VaultProblem {
    pub file: String,
    pub reason: String,
}

impl VaultReport {
    /// Whether the pass took in any change from the folder (the store has new ops).
    pub fn took_changes(&self) -> bool {
        self.created + self.updated + self.deleted + self.merged + self.conflicts > 0
    }
}

/// The title a file stands for: the one in its front matter, unless the person renamed the
/// file (its name is no longer what Quire would make of that title), then the file's name.
fn title_of(file_name: &str, front_matter: Option<&str>) -> String {
    let stem = file_name.strip_suffix(".md").unwrap_or(file_name);
    match front_matter {
        Some(title)
            if stem == safe_stem(title) || stem.starts_with(&format!("{} (", safe_stem(title))) =>
        {
            title.to_owned()
        }
        _ => stem.to_owned(),
    }
}

/// One pass over the folder in both directions.
pub async fn sync_folder(store: &Store, dir: &Path) -> Result<VaultReport> {
    let listing = files::list(dir)?;
    let held_names = listing.held_names();
    let mut report = VaultReport::default();
    let store_id = store.store_id().to_string();
    let ours = files::is_ours(dir, &store_id);
    if !ours {
        // Not the folder the index describes (new, or removed and made again): start over,
        // reading its files against the notes, and deleting nothing.
        store.clear_vault_index().await?;
    }
    let mut index = store.vault_index().await?;
    let mut seen: HashSet<NoteId> = HashSet::new();
    // Files taken in as new notes: rewritten with their id whatever else holds.
    let mut rewrite: HashSet<NoteId> = HashSet::new();

    // 1. The folder into the store. Held files are not read; they are told about at the end.
    for file in &listing.held {
        tracing::warn!(file = %file.name, reason = %file.why, "vault file left as it is");
    }
    for file in listing.files {
        let parsed = parse(&file.text);
        let title = title_of(&file.name, parsed.title.as_deref());
        let from_file = NoteFields::new(title, parsed.body);
        let known = match parsed.id {
            Some(id) if !seen.contains(&id) => store.note(id).await.ok(),
            _ => None,
        };
        let outcome = match known {
            Some(note) if ours || NoteFields::new(&note.title, &note.body) == from_file => {
                seen.insert(note.id);
                take_in_edit(store, &note, index.get(&note.id), &file.name, &from_file).await
            }
            // A file of a known note in a folder Quire does not know (an old copy, say):
            // whether it is newer cannot be told, so the person decides.
            Some(note) => {
                seen.insert(note.id);
                store
                    .record_file_conflict(&note, &note.body, &from_file)
                    .await
                    .map(|()| (note.id, Change::Conflict))
            }
            // A new file, or a copy of another note's file: a new note.
            None => take_in_new(store, &file.name, &from_file).await,
        };
        match outcome {
            Ok((id, change)) => {
                seen.insert(id);
                match change {
                    Change::None => {}
                    Change::Created => {
                        report.created += 1;
                        rewrite.insert(id);
                    }
                    Change::Updated => report.updated += 1,
                    Change::Merged => report.merged += 1,
                    Change::Conflict => report.conflicts += 1,
                }
                // What the file holds now is what the index knows of it (for a conflict too:
                // the write-out below puts the kept text back in the file).
                let entry = VaultEntry {
                    file_name: file.name.clone(),
                    title: from_file.title.clone(),
                    body: from_file.body.clone(),
                };
                store.set_vault_entry(id, &entry).await?;
                index.insert(id, entry);
            }
            Err(err @ (Error::Invalid(_) | Error::NoteDeleted(_))) => {
                report.problems.push(VaultProblem {
                    file: file.name,
                    reason: err.to_string(),
                });
            }
            Err(other) => return Err(other),
        }
    }

    // 2. Files that are gone: their notes are deleted. (A folder that is gone altogether
    //    failed in `files::list`, and one made again has no marker; a held file is there.)
    //    When every file went at once, that is more likely a mistake than a wish: nothing
    //    is deleted.
    let gone: Vec<NoteId> = index
        .iter()
        .filter(|(id, entry)| {
            !seen.contains(id) && !listing.names.contains(&entry.file_name.to_lowercase())
        })
        .map(|(id, _)| *id)
        .collect();
    if gone.len() > 1 && gone.len() == index.len() {
        report.problems.push(VaultProblem {
            file: String::new(),
            reason: format!(
                "all {} note files are gone from the folder; no note was deleted. Delete notes in \
                 Quire, or set another vault folder",
                gone.len()
            ),
        });
        store.clear_vault_index().await?;
    } else {
        for id in gone {
            if let Ok(note) = store.note(id).await {
                if !note.deleted {
                    store.delete_note(id).await?;
                    report.deleted += 1;
                }
            }
            store.remove_vault_entry(id).await?;
        }
    }
    let mut index = store.vault_index().await?;

    // 3. The store out to the folder.
    files::mark_ours(dir, &store_id)?;
    let folder = Folder {
        dir,
        on_disk: &listing.names,
        held: &held_names,
    };
    report.written += write_out(store, &folder, &mut index, &rewrite, &mut report.problems).await?;
    report
        .problems
        .extend(listing.held.iter().map(|file| held_problem(file, &index)));
    Ok(report)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    Created,
    Updated,
    Merged,
    Conflict,
}

async fn take_in_new(
    store: &Store,
    file_name: &str,
    fields: &NoteFields,
) -> Result<(NoteId, Change)> {
    let note = store.create_note(fields.clone()).await?;
    tracing::info!(file = %file_name, note = %note.id, "vault: new note from a file");
    Ok((note.id, Change::Created))
}

/// A file of a known note: an outside edit when it differs from the index.
async fn take_in_edit(
    store: &Store,
    note: &Note,
    entry: Option<&VaultEntry>,
    file_name: &str,
    from_file: &NoteFields,
) -> Result<(NoteId, Change)> {
    let base = entry.map_or_else(
        || NoteFields::new(&note.title, &note.body),
        |e| NoteFields::new(&e.title, &e.body),
    );
    if *from_file == base {
        return Ok((note.id, Change::None));
    }
    if note.deleted {
        // Edited in the folder after it was deleted: the edit wins, as a new note.
        let created = store.create_note(from_file.clone()).await?;
        store.remove_vault_entry(note.id).await?;
        return Ok((created.id, Change::Created));
    }
    let here = NoteFields::new(&note.title, &note.body);
    if here == base {
        let edit = NoteEdit {
            title: Some(from_file.title.clone()),
            body: Some(from_file.body.clone()),
        };
        store.update_note(note.id, edit).await?;
        tracing::info!(file = %file_name, note = %note.id, "vault: outside edit taken in");
        return Ok((note.id, Change::Updated));
    }
    // Changed in the app and in the file since the last pass: the usual merge rules.
    let title = if from_file.title == base.title {
        &here.title
    } else {
        &from_file.title
    };
    match merge3(&base.body, &here.body, &from_file.body).clean() {
        Some(body) => {
            let edit = NoteEdit {
                title: Some(title.clone()),
                body: Some(body),
            };
            store.update_note(note.id, edit).await?;
            Ok((note.id, Change::Merged))
        }
        None => {
            store
                .record_file_conflict(note, &base.body, from_file)
                .await?;
            tracing::warn!(file = %file_name, note = %note.id, "vault: file and app edits conflict");
            Ok((note.id, Change::Conflict))
        }
    }
}

/// The folder as this pass found it.
struct Folder<'a> {
    dir: &'a Path,
    /// Every note file name present, lower-cased.
    on_disk: &'a HashSet<String>,
    /// The files Quire must leave as they are (unreadable, symlinks), lower-cased.
    held: &'a HashSet<String>,
}

impl Folder<'_> {
    fn holds(&self, file_name: &str) -> bool {
        self.held.contains(&file_name.to_lowercase())
    }
}

/// Writes every note whose file is missing or out of date, and removes deleted notes'
/// files. A held file is never written over, renamed over or removed: a changed note whose
/// file it is goes to a free name beside it. Returns how many files it wrote or removed.
async fn write_out(
    store: &Store,
    folder: &Folder<'_>,
    index: &mut HashMap<NoteId, VaultEntry>,
    rewrite: &HashSet<NoteId>,
    problems: &mut Vec<VaultProblem>,
) -> Result<u64> {
    let notes = store.all_notes().await?;
    let mut taken: HashSet<String> = index.values().map(|e| e.file_name.to_lowercase()).collect();
    taken.extend(folder.on_disk.iter().cloned());
    let mut written = 0;
    for note in notes {
        let entry = index.get(&note.id).cloned();
        if note.deleted {
            if let Some(entry) = entry {
                written += remove_deleted(store, folder, note.id, &entry, problems).await?;
            }
            continue;
        }
        let held = entry.as_ref().filter(|e| folder.holds(&e.file_name));
        if held.is_some_and(|e| e.title == note.title && e.body == note.body) {
            // The file changed outside and cannot be read, the note has nothing new: both
            // stay as they are (the file is reported).
            continue;
        }
        let wanted_name = match &entry {
            Some(entry)
                if held.is_none()
                    && title_of(&entry.file_name, Some(&note.title)) == note.title =>
            {
                entry.file_name.clone()
            }
            // New, renamed, or its file is held: a free name (never a held one, as held
            // files are on disk).
            _ => file_name_for(&note.title, &taken),
        };
        let fields_match = entry.as_ref().is_some_and(|e| {
            e.title == note.title && e.body == note.body && e.file_name == wanted_name
        });
        if fields_match
            && folder.on_disk.contains(&wanted_name.to_lowercase())
            && !rewrite.contains(&note.id)
        {
            continue;
        }
        // A read-only folder or file: said, and tried again next pass; the note is safe.
        if let Err(err) = files::write_atomically(
            folder.dir,
            &wanted_name,
            &render(note.id, &note.title, &note.body),
        ) {
            problems.push(VaultProblem {
                file: wanted_name,
                reason: err.to_string(),
            });
            continue;
        }
        if let Some(held) = held {
            tracing::warn!(file = %held.file_name, note = %note.id, beside = %wanted_name,
                "vault: the note's file is left as it is; the note went beside it");
        }
        if let Some(old) = entry
            .as_ref()
            .filter(|e| e.file_name != wanted_name && !folder.holds(&e.file_name))
        {
            if let Err(err) = files::remove(folder.dir, &old.file_name) {
                problems.push(VaultProblem {
                    file: old.file_name.clone(),
                    reason: err.to_string(),
                });
            }
            taken.remove(&old.file_name.to_lowercase());
        }
        taken.insert(wanted_name.to_lowercase());
        let entry = VaultEntry {
            file_name: wanted_name,
            title: note.title.clone(),
            body: note.body.clone(),
        };
        store.set_vault_entry(note.id, &entry).await?;
        index.insert(note.id, entry);
        written += 1;
    }
    Ok(written)
}

/// A deleted note's file goes. A held one stays (it may hold the only copy of an outside
/// edit) and is no longer the note's file. Returns how many files were removed.
async fn remove_deleted(
    store: &Store,
    folder: &Folder<'_>,
    id: NoteId,
    entry: &VaultEntry,
    problems: &mut Vec<VaultProblem>,
) -> Result<u64> {
    if folder.holds(&entry.file_name) {
        store.remove_vault_entry(id).await?;
        return Ok(0);
    }
    // A file that cannot go stays listed, and is tried again next pass.
    match files::remove(folder.dir, &entry.file_name) {
        Ok(()) => {
            store.remove_vault_entry(id).await?;
            Ok(1)
        }
        Err(err) => {
            problems.push(VaultProblem {
                file: entry.file_name.clone(),
                reason: err.to_string(),
            });
            Ok(0)
        }
    }
}

/// What to tell the person about a file left as it is: why, and where the note it stands
/// for went instead. Worked out from the index after the pass, so every pass says the same
/// until something changes (the app notifies when the problems change).
fn held_problem(file: &files::Held, index: &HashMap<NoteId, VaultEntry>) -> VaultProblem {
    let reason = match note_beside(file, index) {
        Some(beside) => format!(
            "{}, so Quire left it as it is and keeps the note in '{beside}': both texts are \
             kept",
            file.why
        ),
        None => format!("{}, so Quire left it as it is", file.why),
    };
    VaultProblem {
        file: file.name.clone(),
        reason,
    }
}

/// The file now holding the note a held file stands for, when that is another file: the
/// note its front matter names, or else (a link, an unreadable file) the note that would
/// have been written to its name.
fn note_beside<'a>(file: &files::Held, index: &'a HashMap<NoteId, VaultEntry>) -> Option<&'a str> {
    let name = file.name.to_lowercase();
    let is_here = |entry: &VaultEntry| entry.file_name.to_lowercase() == name;
    let entry = match file.why.id() {
        Some(id) => index.get(&id).filter(|entry| !is_here(entry)),
        // Still some note's file (that note has not changed since): nothing went beside it.
        None if index.values().any(is_here) => None,
        None => index
            .values()
            .filter(|entry| file_name_for(&entry.title, &HashSet::new()).to_lowercase() == name)
            .min_by(|a, b| a.file_name.cmp(&b.file_name)),
    };
    entry.map(|entry| entry.file_name.as_str())
}

/// The vault folder set for this device, if any.
pub async fn vault_dir(store: &Store) -> Result<Option<PathBuf>> {
    Ok(store
        .setting(quire_core::settings::SettingKey::VaultDir)
        .await?
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from))
}
