//! A pass's second half: the store out to the folder. Only the notes changed since the last
//! pass are looked at (every note when the index starts over); files are written in
//! batches made durable together, and a held file is never written over, renamed over or
//! removed: a changed note whose file it is goes to a free name beside it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use quire_core::vault::{file_hash, file_name_for, render};
use quire_core::{Note, NoteId};

use super::{files, title_of, Progress, VaultProblem, VaultStage};
use crate::store::{FileRecord, VaultEntry};
use crate::{Error, Result, Store};

/// Files per batch: each batch is one sync, and one progress step.
const FILES_PER_BATCH: usize = 500;

/// The folder as this pass found it.
pub(super) struct Folder<'a> {
    pub dir: &'a Path,
    /// The files Quire must leave as they are (unreadable, symlinks), lower-cased.
    pub held: HashSet<String>,
    /// Names a new file must not take: on disk, or some note's file (lower-cased).
    pub in_use: &'a (dyn Fn() -> HashSet<String> + Sync),
}

impl Folder<'_> {
    fn holds(&self, file_name: &str) -> bool {
        self.held.contains(&file_name.to_lowercase())
    }
}

/// A file to write for a note.
struct Planned {
    note_id: NoteId,
    name: String,
    text: String,
    entry: VaultEntry,
    /// The note's previous file, to remove once the new one is written (a rename).
    replaces: Option<String>,
    /// The held file the note was written beside.
    beside: Option<String>,
}

/// Writes every changed note whose file is missing or out of date, and removes deleted
/// notes' files. Returns how many files it wrote or removed.
pub(super) async fn write_out(
    store: &Store,
    folder: &Folder<'_>,
    start_over: bool,
    last_change: i64,
    looked_at: &HashSet<NoteId>,
    problems: &mut Vec<VaultProblem>,
    progress: &Progress<'_>,
) -> Result<u64> {
    // A note changed after the pass looked at the files (typing, a sync round) waits for
    // the next pass, which looks at its file first; one the pass itself changed goes now.
    let notes: Vec<Note> = store
        .vault_notes_to_write(start_over)
        .await?
        .into_iter()
        .filter(|(note, seq)| {
            start_over || seq.is_some_and(|seq| seq <= last_change) || looked_at.contains(&note.id)
        })
        .map(|(note, _)| note)
        .collect();
    let ids: Vec<NoteId> = notes.iter().map(|n| n.id).collect();
    let mut entries = store.vault_entries(&ids).await?;
    let mut taken: Option<HashSet<String>> = None;

    let mut forget: Vec<NoteId> = Vec::new();
    let mut planned: Vec<Planned> = Vec::new();
    let mut written = 0;
    for note in notes {
        let entry = entries.remove(&note.id);
        if note.deleted {
            if let Some(entry) = entry {
                // A held file stays (it may hold the only copy of an outside edit) and is no
                // longer the note's file. One that cannot go stays listed, and is tried
                // again next pass.
                if !folder.holds(&entry.file_name) {
                    if let Err(err) = files::remove(folder.dir, &entry.file_name) {
                        problems.push(VaultProblem {
                            file: entry.file_name.clone(),
                            reason: err.to_string(),
                        });
                        continue;
                    }
                    written += 1;
                }
                forget.push(note.id);
            }
            continue;
        }
        // The note's text differs from its file's (or it has none yet).
        let held = entry.as_ref().filter(|e| folder.holds(&e.file_name));
        let beside = held.map(|e| e.file_name.clone());
        let wanted_name = match &entry {
            Some(entry)
                if held.is_none()
                    && title_of(&entry.file_name, Some(&note.title)) == note.title =>
            {
                entry.file_name.clone()
            }
            // New, renamed, or its file is held: a free name (never a held one, as held
            // files are on disk).
            _ => file_name_for(&note.title, taken.get_or_insert_with(|| (folder.in_use)())),
        };
        if let Some(taken) = &mut taken {
            taken.insert(wanted_name.to_lowercase());
        }
        let text = render(note.id, &note.title, &note.body);
        let old_name = entry.map(|e| e.file_name);
        planned.push(Planned {
            note_id: note.id,
            entry: VaultEntry {
                file_name: wanted_name.clone(),
                title: note.title,
                body: note.body,
            },
            name: wanted_name.clone(),
            text,
            beside,
            replaces: old_name.filter(|old| *old != wanted_name && !folder.holds(old)),
        });
    }

    let total = planned.len() as u64;
    let mut records = Vec::with_capacity(planned.len());
    let mut batches = Vec::new();
    while !planned.is_empty() {
        let rest = planned.split_off(planned.len().min(FILES_PER_BATCH));
        batches.push(std::mem::replace(&mut planned, rest));
    }
    let mut done_files = 0;
    for batch in batches {
        progress.step(VaultStage::Writing, done_files, total);
        done_files += batch.len() as u64;
        for (plan, outcome) in write_batch(folder.dir, batch).await? {
            // A read-only folder or file: said, and tried again next pass; the note is safe.
            if let Err(err) = outcome {
                problems.push(VaultProblem {
                    file: plan.name,
                    reason: err.to_string(),
                });
                continue;
            }
            if let Some(held) = &plan.beside {
                tracing::warn!(file = %held, note = %plan.note_id, beside = %plan.name,
                    "vault: the note's file is left as it is; the note went beside it");
            }
            if let Some(old) = &plan.replaces {
                if let Err(err) = files::remove(folder.dir, old) {
                    problems.push(VaultProblem {
                        file: old.clone(),
                        reason: err.to_string(),
                    });
                }
            }
            records.push((
                plan.note_id,
                FileRecord {
                    file_hash: file_hash(&plan.text),
                    // Just written: read again next time to settle it.
                    stamp: None,
                    entry: plan.entry,
                },
            ));
            written += 1;
        }
    }
    store.forget_vault_files(&forget).await?;
    store.record_vault_files(&records).await?;
    // What is in the folder now is no longer pending; what failed is tried next pass.
    store.settle_vault_pending(last_change).await?;
    Ok(written)
}

/// Writes a batch off the async workers (it waits on the disk); each plan with its outcome.
async fn write_batch(dir: &Path, batch: Vec<Planned>) -> Result<Vec<(Planned, Result<()>)>> {
    let dir: PathBuf = dir.to_path_buf();
    let folder = dir.clone();
    tokio::task::spawn_blocking(move || {
        let files: Vec<(&str, &str)> = batch
            .iter()
            .map(|plan| (plan.name.as_str(), plan.text.as_str()))
            .collect();
        let outcomes = files::write_many(&dir, &files);
        batch.into_iter().zip(outcomes).collect()
    })
    .await
    .map_err(|err| Error::VaultDir {
        path: folder,
        detail: format!("writing files stopped: {err}"),
    })
}
