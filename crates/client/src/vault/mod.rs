//! The vault folder (PRODUCT.md, "Vault folder"): notes mirrored as Markdown files, and
//! edits made there by any editor taken in as ordinary queued ops.
//!
//! One pass ([`pass`]) compares the folder, the store and the index of what Quire last
//! wrote or read ([`VaultEntry`]): files that differ from the index are outside edits (taken
//! in, merged with app edits made meanwhile), notes that differ from it are app or sync
//! edits (written out, atomically). Our own writes match the index, so they never come back
//! as ops. [`watch`] runs passes when files change.
//!
//! A pass costs what changed, not what the folder holds: it lists the folder (no file
//! opened), looks only at the files in its [`Scope`] (the names the watcher reported), at
//! files the index does not know or must read again, and at the files of notes changed
//! since the last pass; of those it reads only the ones whose size, time or inode moved,
//! and parses only the ones whose bytes did. Notes go out only when they changed (the
//! store keeps that list). Many new files are taken in with one transaction, and many
//! files written with one sync.
//!
//! A file Quire cannot read (not UTF-8, too large) and a symlink are *held*: never written
//! over, renamed over or removed, since they may hold the only copy of an outside edit (or
//! lead outside the folder). A note that changed while its file is held is written beside
//! it, to a free name, and the report says where: both texts are kept.

mod files;
mod take_in;
pub mod watch;
mod write_out;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use quire_core::vault::{file_name_for, safe_stem};
use quire_core::NoteId;
use serde::Serialize;

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
    /// Files the pass opened and read (the others were known unchanged by their stamps).
    pub files_read: u64,
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

/// Which files a pass looks at, besides those it always does (files the index does not
/// know or must read again, and the files of notes changed since the last pass).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every file (checked by its stamp, read only if that moved): at start, on `quire
    /// vault scan`, and when the watcher may have missed events.
    Everything,
    /// The files with these names (as the watcher reported them).
    Names(HashSet<String>),
}

impl Scope {
    /// Only what changed in the store (a nudge): no file beyond those always looked at.
    pub fn store_changes() -> Self {
        Self::Names(HashSet::new())
    }

    fn includes(&self, name: &str) -> bool {
        match self {
            Self::Everything => true,
            Self::Names(names) => names.contains(name),
        }
    }

    /// What two passes would have looked at, for one pass instead.
    pub fn merge(self, other: Self) -> Self {
        match (self, other) {
            (Self::Names(mut a), Self::Names(b)) => {
                a.extend(b);
                Self::Names(a)
            }
            _ => Self::Everything,
        }
    }
}

/// How far a long pass has come, for a progress indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VaultProgress {
    pub stage: VaultStage,
    /// Counts of files: far inside a JavaScript number's exact range.
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum VaultStage {
    /// Reading files that changed in the folder.
    Reading,
    /// Writing notes that changed out to their files.
    Writing,
    /// The pass is over (sent only after a pass that told its progress).
    Finished,
}

/// How long a pass runs before it tells its progress: shorter ones pass unnoticed.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// Tells a pass's progress, once the pass has run for [`QUIET_FOR`].
struct Progress<'a> {
    started: Instant,
    quiet_for: Duration,
    told: AtomicBool,
    to: &'a (dyn Fn(VaultProgress) + Sync),
}

impl Progress<'_> {
    fn step(&self, stage: VaultStage, done: u64, total: u64) {
        if self.started.elapsed() >= self.quiet_for {
            self.told.store(true, Ordering::Relaxed);
            (self.to)(VaultProgress { stage, done, total });
        }
    }

    fn finish(&self) {
        if self.told.load(Ordering::Relaxed) {
            (self.to)(VaultProgress {
                stage: VaultStage::Finished,
                done: 0,
                total: 0,
            });
        }
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

/// One full pass over the folder in both directions (every file's stamp checked).
pub async fn sync_folder(store: &Store, dir: &Path) -> Result<VaultReport> {
    pass(store, dir, &Scope::Everything, &|_| {}).await
}

/// One pass over the folder in both directions, looking at the files `scope` names;
/// `progress` hears how far it has come as it goes.
pub async fn pass(
    store: &Store,
    dir: &Path,
    scope: &Scope,
    progress: &(dyn Fn(VaultProgress) + Sync),
) -> Result<VaultReport> {
    let progress = Progress {
        started: Instant::now(),
        quiet_for: QUIET_FOR,
        told: AtomicBool::new(false),
        to: progress,
    };
    let _one_at_a_time = one_pass_at_a_time(store).await?;
    let report = pass_telling(store, dir, scope, &progress).await;
    progress.finish();
    report
}

/// Passes over one store take turns, across processes too (the app's watcher and a
/// `quire` command): two at once would both take a new file in, or one would read the
/// index before the other's rename and delete the note it renamed. The lock goes with the
/// returned file (and with the process).
async fn one_pass_at_a_time(store: &Store) -> Result<std::fs::File> {
    let path = store
        .path()
        .parent()
        .map_or_else(|| PathBuf::from(VAULT_LOCK), |dir| dir.join(VAULT_LOCK));
    let failed = |err: std::io::Error| Error::DataDirIo {
        path: path.clone(),
        source: err,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(failed)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|err| failed(std::io::Error::other(err)))?
        .map_err(failed)
}

/// The file in the data dir a pass holds locked.
const VAULT_LOCK: &str = "vault.lock";

async fn pass_telling(
    store: &Store,
    dir: &Path,
    scope: &Scope,
    progress: &Progress<'_>,
) -> Result<VaultReport> {
    let started = Instant::now();
    let listing = files::list(dir)?;
    tracing::debug!(files = listing.entries.len(), took = ?started.elapsed(), "vault: listed");
    let store_id = store.store_id().to_string();
    let ours = files::is_ours(dir, &store_id);
    if !ours {
        // Not the folder the index describes (new, or removed and made again): start over,
        // reading its files against the notes, and deleting nothing. The marker goes in
        // first: a pass that stops (or a folder Quire cannot write to) must not take the
        // same files in again as new notes next time.
        files::mark_ours(dir, &store_id)?;
        store.clear_vault_index().await?;
    }
    let index = store
        .vault_files(matches!(scope, Scope::Everything))
        .await?;
    tracing::debug!(files = index.len(), took = ?started.elapsed(), "vault: index read");
    let mut report = VaultReport::default();

    // 1. The folder into the store.
    let taken = take_in::take_in(store, dir, &listing, &index, scope, ours, progress).await?;
    report.files_read = taken.files_read;
    report.created = taken.created;
    report.updated = taken.updated;
    report.merged = taken.merged;
    report.conflicts = taken.conflicts;
    report.problems = taken.problems;
    tracing::debug!(read = report.files_read, took = ?started.elapsed(), "vault: taken in");

    // 2. Files that are gone: their notes are deleted. (A folder that is gone altogether
    //    failed in `files::list`, and one made again has no marker; a held file is there.)
    //    When every file went at once, that is more likely a mistake than a wish: nothing
    //    is deleted.
    let gone: Vec<NoteId> = index
        .iter()
        .filter(|file| !taken.seen.contains(&file.note_id) && !listing.has(&file.file_name))
        .map(|file| file.note_id)
        .collect();
    let mut start_over = index.is_empty();
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
        start_over = true;
    } else {
        for id in &gone {
            if let Ok(note) = store.note(*id).await {
                if !note.deleted {
                    store.delete_note(*id).await?;
                    report.deleted += 1;
                }
            }
        }
        store.forget_vault_files(&gone).await?;
    }

    tracing::debug!(gone = report.deleted, took = ?started.elapsed(), "vault: gone ones deleted");

    // 3. The store out to the folder.
    // Names a new file must not take: on disk, or still some note's file. Worked out only
    // when a note needs a new name (most passes write none).
    let gone: HashSet<NoteId> = gone.into_iter().collect();
    let in_use = || {
        let mut in_use = listing.names.clone();
        if !start_over {
            in_use.extend(
                index
                    .iter()
                    .filter(|file| !gone.contains(&file.note_id))
                    .map(|file| file.file_name.to_lowercase()),
            );
        }
        in_use
    };
    let folder = write_out::Folder {
        dir,
        held: taken
            .held
            .iter()
            .map(|file| file.name.to_lowercase())
            .collect(),
        in_use: &in_use,
    };
    report.written += write_out::write_out(
        store,
        &folder,
        start_over,
        taken.last_change,
        &taken.looked_at,
        &mut report.problems,
        progress,
    )
    .await?;
    tracing::debug!(written = report.written, took = ?started.elapsed(), "vault: written out");
    if !taken.held.is_empty() {
        let index = store.vault_file_titles().await?;
        report
            .problems
            .extend(taken.held.iter().map(|file| held_problem(file, &index)));
    }
    Ok(report)
}

/// What to tell the person about a file left as it is: why, and where the note it stands
/// for went instead. Worked out from the index after the pass, so every pass says the same
/// until something changes (the app notifies when the problems change).
/// Each note's file name and title, from the index.
type FileTitles = HashMap<NoteId, (String, String)>;

fn held_problem(file: &files::Held, index: &FileTitles) -> VaultProblem {
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
fn note_beside<'a>(file: &files::Held, index: &'a FileTitles) -> Option<&'a str> {
    let name = file.name.to_lowercase();
    let is_here = |(file_name, _): &(String, String)| file_name.to_lowercase() == name;
    let entry = match file.why.id() {
        Some(id) => index.get(&id).filter(|entry| !is_here(entry)),
        // Still some note's file (that note has not changed since): nothing went beside it.
        None if index.values().any(is_here) => None,
        None => index
            .values()
            .filter(|(_, title)| file_name_for(title, &HashSet::new()).to_lowercase() == name)
            .min_by(|a, b| a.0.cmp(&b.0)),
    };
    entry.map(|(file_name, _)| file_name.as_str())
}

/// The vault folder set for this device, if any.
pub async fn vault_dir(store: &Store) -> Result<Option<PathBuf>> {
    Ok(store
        .setting(quire_core::settings::SettingKey::VaultDir)
        .await?
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;

    fn steps(quiet_for: Duration) -> Vec<VaultProgress> {
        let heard = Mutex::new(Vec::new());
        let listen = |p: VaultProgress| heard.lock().unwrap().push(p);
        let progress = Progress {
            started: Instant::now(),
            quiet_for,
            told: AtomicBool::new(false),
            to: &listen,
        };
        progress.step(VaultStage::Reading, 250, 1_000);
        progress.step(VaultStage::Writing, 0, 10);
        progress.finish();
        heard.into_inner().unwrap()
    }

    #[test]
    fn a_long_pass_tells_each_step_and_then_that_it_is_over() {
        let step = |stage, done, total| VaultProgress { stage, done, total };
        assert_eq!(
            steps(Duration::ZERO),
            [
                step(VaultStage::Reading, 250, 1_000),
                step(VaultStage::Writing, 0, 10),
                step(VaultStage::Finished, 0, 0),
            ]
        );
    }

    #[test]
    fn a_short_pass_tells_nothing_not_even_that_it_is_over() {
        assert_eq!(steps(Duration::from_secs(3_600)), []);
    }

    #[test]
    fn scopes_merge_into_what_both_passes_would_have_looked_at() {
        let names = |list: &[&str]| Scope::Names(list.iter().map(|n| (*n).to_owned()).collect());
        assert_eq!(
            names(&["a.md"]).merge(names(&["b.md"])),
            names(&["a.md", "b.md"])
        );
        assert_eq!(
            Scope::store_changes().merge(names(&["a.md"])),
            names(&["a.md"])
        );
        assert_eq!(names(&["a.md"]).merge(Scope::Everything), Scope::Everything);
        assert!(Scope::Everything.includes("anything.md"));
        assert!(!Scope::store_changes().includes("a.md"));
    }
}
