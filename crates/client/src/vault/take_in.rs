//! A pass's first half: the folder into the store. Only the files that may have changed are
//! read (see the module above); an outside edit becomes an ordinary queued op, merged with
//! app edits made meanwhile; new files become notes together, in one transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use quire_core::merge::merge3;
use quire_core::vault::{parse, FileHash};
use quire_core::{Note, NoteFields, NoteId};

use super::files::{self, FileText, Held, Kind, Listed, Listing, Unreadable};
use super::{title_of, Progress, Scope, VaultProblem, VaultStage};
use crate::store::{FileRecord, IndexedFile, NoteEdit, VaultEntry};
use crate::{Error, Result, Store};

/// How often a pass says how far it has come, in files.
const PROGRESS_EVERY: usize = 250;

/// What taking the folder in did.
#[derive(Default)]
pub(super) struct TakenIn {
    /// The notes that have a file in the folder (looked at or known unchanged).
    pub seen: HashSet<NoteId>,
    /// The files left as they are, in name order.
    pub held: Vec<Held>,
    pub files_read: u64,
    pub created: u64,
    pub updated: u64,
    pub merged: u64,
    pub conflicts: u64,
    pub problems: Vec<VaultProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    Created,
    Updated,
    Merged,
    Conflict,
}

pub(super) async fn take_in(
    store: &Store,
    dir: &Path,
    listing: &Listing,
    index: &[IndexedFile],
    scope: &Scope,
    ours: bool,
    progress: &Progress<'_>,
) -> Result<TakenIn> {
    let by_name: HashMap<String, &IndexedFile> = index
        .iter()
        .map(|file| (file.file_name.to_lowercase(), file))
        .collect();
    // The files of notes changed since the last pass are looked at before they are written.
    let changed: HashSet<NoteId> = store.vault_pending().await?.into_iter().collect();
    // Files the index knows that are no longer there, by their bytes: a new name with the
    // same bytes is the same note renamed (a file taken in as it was has no id to tell it by).
    let moved_away: HashMap<FileHash, NoteId> = index
        .iter()
        .filter(|file| !listing.names.contains(&file.file_name.to_lowercase()))
        .filter_map(|file| Some((file.file_hash?, file.note_id)))
        .collect();
    let mut taken = TakenIn::default();
    let mut look_at: Vec<(&Listed, Option<&IndexedFile>)> = Vec::new();
    for entry in &listing.entries {
        let known = by_name.get(&entry.name.to_lowercase()).copied();
        let look = known.is_none_or(|file| {
            file.stamp.is_none() || changed.contains(&file.note_id) || scope.includes(&entry.name)
        });
        match known {
            _ if look => look_at.push((entry, known)),
            Some(file) => {
                taken.seen.insert(file.note_id);
            }
            None => {}
        }
    }
    // A file at its note's own name claims that note before a copy of it does.
    look_at.sort_by_key(|(_, known)| known.is_none());

    let total = look_at.len() as u64;
    let mut restamps = Vec::new();
    let mut records = Vec::new();
    let mut new_files: Vec<(String, NoteFields, FileRecord)> = Vec::new();
    for (at, (entry, known)) in look_at.into_iter().enumerate() {
        if at % PROGRESS_EVERY == 0 && at > 0 {
            progress.step(VaultStage::Reading, at as u64, total);
        }
        let read = match entry.kind {
            Kind::Link => Err(Unreadable::Link),
            Kind::Other => Err(Unreadable::NotAFile),
            Kind::File => {
                let unchanged = known
                    .and_then(|file| file.stamp)
                    .is_some_and(|stamp| files::stamp(dir, &entry.name) == Some(stamp));
                if let (true, Some(file)) = (unchanged, known) {
                    taken.seen.insert(file.note_id);
                    continue;
                }
                taken.files_read += 1;
                files::read(dir, &entry.name)
            }
        };
        let file = match read {
            Ok(file) => file,
            Err(why) => {
                tracing::warn!(file = %entry.name, reason = %why, "vault file left as it is");
                // Held files are looked at on every pass, so they are told about on every one.
                if let Some(known) = known.filter(|file| file.stamp.is_some()) {
                    restamps.push((known.note_id, None));
                }
                taken.held.push(Held {
                    name: entry.name.clone(),
                    why,
                });
                continue;
            }
        };
        if let Some(known) = known.filter(|known| known.file_hash == Some(file.hash)) {
            // Touched, or copied back: the same bytes.
            taken.seen.insert(known.note_id);
            if known.stamp != file.stamp {
                restamps.push((known.note_id, file.stamp));
            }
            continue;
        }
        // A file without an id is its note's by its name, or by its bytes when it moved.
        let by_name_or_bytes = known
            .map(|file| file.note_id)
            .or_else(|| moved_away.get(&file.hash).copied())
            .filter(|id| !taken.seen.contains(id));
        match take_in_file(
            store,
            &entry.name,
            file,
            by_name_or_bytes,
            &taken.seen,
            ours,
        )
        .await
        {
            Ok(Taken::New(fields, record)) => new_files.push((entry.name.clone(), fields, record)),
            Ok(Taken::Known(id, change, record)) => {
                taken.seen.insert(id);
                match change {
                    Change::None => {}
                    Change::Created => taken.created += 1,
                    Change::Updated => taken.updated += 1,
                    Change::Merged => taken.merged += 1,
                    Change::Conflict => taken.conflicts += 1,
                }
                records.push((id, record));
            }
            Err(err @ (Error::Invalid(_) | Error::NoteDeleted(_))) => {
                taken.problems.push(VaultProblem {
                    file: entry.name.clone(),
                    reason: err.to_string(),
                });
            }
            Err(other) => return Err(other),
        }
    }
    taken.held.sort_by(|a, b| a.name.cmp(&b.name));
    store.restamp_vault_files(&restamps).await?;
    store.record_vault_files(&records).await?;

    let (names, new_files): (Vec<String>, Vec<_>) = new_files
        .into_iter()
        .map(|(name, fields, record)| (name, (fields, record)))
        .unzip();
    // Each new file is logged when there are a few; an import is one line.
    let few = names.len() <= 20;
    if !few {
        tracing::info!(files = names.len(), "vault: new notes from files");
    }
    for (name, outcome) in names
        .into_iter()
        .zip(store.take_in_new_files(new_files).await?)
    {
        match outcome {
            Ok(id) => {
                if few {
                    tracing::info!(file = %name, note = %id, "vault: new note from a file");
                }
                taken.seen.insert(id);
                taken.created += 1;
            }
            Err(err @ Error::Invalid(_)) => taken.problems.push(VaultProblem {
                file: name,
                reason: err.to_string(),
            }),
            Err(other) => return Err(other),
        }
    }
    Ok(taken)
}

/// What a changed file stands for.
enum Taken {
    /// A new note, made with the other new files at the end of the pass.
    New(NoteFields, FileRecord),
    /// A note this device has, as the file left it, and what to remember of the file.
    Known(NoteId, Change, FileRecord),
}

async fn take_in_file(
    store: &Store,
    name: &str,
    file: FileText,
    without_id: Option<NoteId>,
    seen: &HashSet<NoteId>,
    ours: bool,
) -> Result<Taken> {
    let parsed = parse(&file.text);
    let from_file = NoteFields::new(title_of(name, parsed.title.as_deref()), parsed.body);
    let record = FileRecord {
        entry: VaultEntry {
            file_name: name.to_owned(),
            title: from_file.title.clone(),
            body: from_file.body.clone(),
        },
        stamp: file.stamp,
        file_hash: file.hash,
    };
    // By the id in its front matter, else (a file without one) by its name or bytes.
    let known = match parsed.id.or(without_id) {
        Some(id) if !seen.contains(&id) => store.note(id).await.ok(),
        // A new file, or a copy of another note's file: a new note.
        _ => None,
    };
    let Some(note) = known else {
        return Ok(Taken::New(from_file, record));
    };
    let here = NoteFields::new(&note.title, &note.body);
    let change = if ours || here == from_file {
        // The base is what the file held last; a note the index has no file for is taken
        // as its own base.
        let base = match store.vault_entries(&[note.id]).await?.remove(&note.id) {
            Some(entry) => entry,
            None => VaultEntry {
                file_name: name.to_owned(),
                title: note.title.clone(),
                body: note.body.clone(),
            },
        };
        take_in_edit(store, &note, &base, name, &from_file).await?
    } else {
        // A file of a known note in a folder Quire does not know (an old copy, say):
        // whether it is newer cannot be told, so the person decides.
        store
            .record_file_conflict(&note, &note.body, &from_file)
            .await?;
        (note.id, Change::Conflict)
    };
    // What the file holds now is what the index knows of it (for a conflict too: the
    // write-out puts the kept text back in the file).
    Ok(Taken::Known(change.0, change.1, record))
}

/// A file of a known note: an outside edit when it differs from the index.
async fn take_in_edit(
    store: &Store,
    note: &Note,
    base: &VaultEntry,
    file_name: &str,
    from_file: &NoteFields,
) -> Result<(NoteId, Change)> {
    let base = NoteFields::new(&base.title, &base.body);
    if *from_file == base {
        return Ok((note.id, Change::None));
    }
    if note.deleted {
        // Edited in the folder after it was deleted: the edit wins, as a new note.
        let created = store.create_note(from_file.clone()).await?;
        store.forget_vault_files(&[note.id]).await?;
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
