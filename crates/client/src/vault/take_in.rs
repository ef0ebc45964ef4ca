//! A pass's first half: the folder into the store. Only the files that may have changed are
//! read (see the module above); an outside edit becomes an ordinary queued op, merged with
//! app edits made meanwhile; new files become notes together, in one transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use quire_core::merge::merge3;
use quire_core::text_hash::TextHash;
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
    /// The last note change this pass looked at files for: write-out goes no further,
    /// except for the notes in `looked_at`.
    pub last_change: i64,
    /// The notes whose file this pass looked at (and those it made).
    pub looked_at: HashSet<NoteId>,
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
    // Exact names: on a filesystem that keeps case, `PLAN.md` beside `Plan.md` is another
    // file, and a rename that only changes case is a rename.
    let by_name: HashMap<&str, &IndexedFile> = index
        .iter()
        .map(|file| (file.file_name.as_str(), file))
        .collect();
    let by_id: HashMap<NoteId, &IndexedFile> =
        index.iter().map(|file| (file.note_id, file)).collect();
    // The files of notes changed since the last pass are looked at before they are written
    // (write-out goes no further than this snapshot; later changes wait for the next pass).
    let (last_change, changed) = store.vault_pending().await?;
    let changed: HashSet<NoteId> = changed.into_iter().collect();
    tracing::debug!(
        pending = changed.len(),
        last_change,
        "vault: notes changed since"
    );
    // Files the index knows that are no longer there, by their bytes: a new name with the
    // same bytes is the same note renamed (a file taken in as it was has no id to tell it by).
    let gone: Vec<NoteId> = index
        .iter()
        .filter(|file| !listing.has(&file.file_name))
        .map(|file| file.note_id)
        .collect();
    let moved_away: HashMap<FileHash, NoteId> = store
        .vault_hashes(&gone)
        .await?
        .into_iter()
        .map(|(id, hash)| (hash, id))
        .collect();
    // In a folder the index does not describe, a file without an id that says exactly what
    // a note says is that note's (a lost marker must not double every note).
    let same_text: HashMap<TextHash, NoteId> = if ours {
        HashMap::new()
    } else {
        store.live_note_hashes().await?
    };
    let mut taken = TakenIn {
        last_change,
        ..TakenIn::default()
    };
    let mut look_at: Vec<(&Listed, Option<&IndexedFile>)> = Vec::new();
    for entry in &listing.entries {
        let known = by_name.get(entry.name.as_str()).copied();
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
                    taken.looked_at.insert(file.note_id);
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
                if let Some(known) = known {
                    taken.looked_at.insert(known.note_id);
                    if known.stamp.is_some() {
                        restamps.push((known.note_id, None));
                    }
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
            taken.looked_at.insert(known.note_id);
            if known.stamp != file.stamp {
                restamps.push((known.note_id, file.stamp));
            }
            continue;
        }
        let owner = Owner {
            by_name: known.map(|file| file.note_id),
            moved_from: moved_away.get(&file.hash).copied(),
            id_elsewhere: |id: NoteId| {
                by_id
                    .get(&id)
                    .is_some_and(|file| listing.has(&file.file_name))
            },
            same_text: &same_text,
        };
        match take_in_file(store, &entry.name, file, &owner, &taken.seen, ours).await {
            Ok(Taken::New(fields, record)) => new_files.push((entry.name.clone(), fields, record)),
            Ok(Taken::Known(id, change, record)) => {
                taken.seen.insert(id);
                taken.looked_at.insert(id);
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
                taken.looked_at.insert(id);
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

/// What tells which note a changed file is.
struct Owner<'a, F: Fn(NoteId) -> bool> {
    /// The note the index knows this file name for.
    by_name: Option<NoteId>,
    /// The note whose file went with these very bytes (a rename of a file without an id).
    moved_from: Option<NoteId>,
    /// Whether a note's own file (as the index knows it) is still in the folder.
    id_elsewhere: F,
    /// Live notes by their text, when the folder is not the one the index describes.
    same_text: &'a HashMap<TextHash, NoteId>,
}

impl<F: Fn(NoteId) -> bool> Owner<'_, F> {
    /// The note a file stands for. The index's knowledge of the name comes first (a copy of
    /// a note's file keeps the original's id in its front matter); then the id, unless that
    /// note's own file is still there (then this is a copy: a new note); then the bytes.
    fn note_of(&self, front_matter: Option<NoteId>, fields: &NoteFields) -> Option<NoteId> {
        self.by_name
            .or_else(|| front_matter.filter(|id| !(self.id_elsewhere)(*id)))
            .or_else(|| {
                if front_matter.is_none() {
                    self.moved_from
                } else {
                    None
                }
            })
            .or_else(|| {
                self.same_text
                    .get(&TextHash::of(&fields.title, &fields.body))
                    .copied()
            })
    }
}

async fn take_in_file<F: Fn(NoteId) -> bool>(
    store: &Store,
    name: &str,
    file: FileText,
    owner: &Owner<'_, F>,
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
    let known = match owner.note_of(parsed.id, &from_file) {
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
    if here == *from_file {
        // The file already says what the note says (written out, then stopped before the
        // index heard of it): nothing to take in.
        return Ok((note.id, Change::None));
    }
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
