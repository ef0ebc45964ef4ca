//! [`Device`]: how a Quire device fits together, the one façade the desktop app and the
//! `quire` CLI call. It owns the store, the credentials, and (in the app) the background
//! sync task and the vault folder watcher.
//!
//! Every method that changes notes or settings writes first, then tells whoever must
//! follow: the sync task (a round soon), the vault folder (written out), the vault watcher
//! (restarted on another folder). No caller has to remember to.
//!
//! A device opened with [`Device::open`] runs nothing by itself, as a CLI command wants: what
//! it changed reaches the vault folder in one pass when it is [closed](Device::close).
//! [`Device::in_background`] starts the sync task and the vault watcher, as the app wants;
//! their news comes out of [`Device::watch_status`] and [`Device::events`].
//!
//! # Layout
//! - this module: opening, and every operation on notes, conflicts, settings and account.
//! - `background`: the sync task and vault watcher of a device running in the app.

mod background;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use quire_core::settings::{ConflictPolicy, SettingKey};
use quire_core::{Note, NoteFields, NoteId, OpId, Version};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use self::background::Background;
use crate::account::{self, AccountRequest, LogoutOutcome, SignedIn};
use crate::autostart::Autostart;
use crate::credentials::{self, SecretStore};
use crate::engine::{self, CheckWhen, Notice, SyncPreview, SyncReport};
use crate::history::{self, OldVersion, VersionComparison, VersionInfo};
use crate::preferences::Preferences;
use crate::service::{ServiceConfig, SyncState, SyncStatus};
use crate::store::{
    Conflict, NoteEdit, NoteSummary, QueuedOp, Resolution, SearchHit, SetAside, StoreStatus,
    UnreadableNote, MAX_RESULTS,
};
use crate::vault::{self, watch::VaultWatcher, Scope, VaultProblem, VaultProgress, VaultReport};
use crate::{paths, Error, Result, Store};

/// News from a device running in the background, for the front end to pass on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// Something the person must hear (a desktop notification).
    Notice(Notice),
    /// Notes changed outside the window (taken in from the vault folder).
    NotesChanged,
    /// How far a long vault pass has come (`Finished` when it is over).
    VaultProgress(VaultProgress),
}

pub struct Device {
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
    data_dir: PathBuf,
    warning: Option<String>,
    events: broadcast::Sender<DeviceEvent>,
    /// The receiver made with the channel: the first [`Device::events`] call gets it, and
    /// with it whatever was sent while the background part was starting.
    first_events: Mutex<Option<broadcast::Receiver<DeviceEvent>>>,
    background: Option<Background>,
    /// Without a background watcher: notes changed, so the vault folder follows on close.
    vault_behind: AtomicBool,
    /// The `keep-in-tray` setting, kept at hand: the window's close handler asks for it on
    /// the GUI thread, which must not wait for the store.
    keep_in_tray: AtomicBool,
}

/// Engine state: the person was told once that closing the window keeps Quire in the tray.
const TRAY_EXPLAINED: &str = "state.tray-explained";

impl Device {
    /// Opens the device in the data dir chosen by `data_dir`, `QUIRE_DATA_DIR` or the
    /// platform default, with the credentials store chosen by `QUIRE_CREDENTIALS`.
    pub async fn open(data_dir: Option<&Path>) -> Result<Self> {
        let data_dir = paths::data_dir(data_dir)?;
        let chosen = credentials::from_env(&data_dir)?;
        let mut device = Self::open_with(data_dir, Arc::from(chosen.store)).await?;
        device.warning = chosen.warning;
        Ok(device)
    }

    /// Opens the device in `data_dir` with its secrets in `secrets`, chosen by the caller.
    pub async fn open_with(data_dir: PathBuf, secrets: Arc<dyn SecretStore>) -> Result<Self> {
        let store = Store::open(&data_dir, secrets.as_ref()).await?;
        let keep_in_tray = store.setting_as(SettingKey::KeepInTray, true).await?;
        let (events, first_events) = broadcast::channel(32);
        Ok(Self {
            store: Arc::new(store),
            secrets,
            data_dir,
            warning: None,
            events,
            first_events: Mutex::new(Some(first_events)),
            background: None,
            vault_behind: AtomicBool::new(false),
            keep_in_tray: AtomicBool::new(keep_in_tray),
        })
    }

    /// Starts the background sync task and the vault watcher (the app's way of running).
    /// Needs a tokio runtime.
    pub async fn in_background(mut self, config: ServiceConfig) -> Self {
        let background = Background::start(&self.store, &self.secrets, &self.events, config).await;
        self.background = Some(background);
        self
    }

    /// Where this device keeps its data.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Something the person should be told about how the device was opened, such as its
    /// secrets being kept in a file.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// The store, for reading what no method here offers (tests, benchmarks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A note changed here: sync it soon, and write it to the vault folder.
    fn changed_locally(&self) {
        if let Some(background) = &self.background {
            background.sync.local_change();
        }
        self.vault_follows();
    }

    /// The notes changed: the vault folder follows, now (watcher) or on close (CLI).
    fn vault_follows(&self) {
        match &self.background {
            Some(background) => background.vault.nudge(),
            None => self.vault_behind.store(true, Ordering::Relaxed),
        }
    }

    // Notes.

    pub async fn list_notes(&self) -> Result<Vec<NoteSummary>> {
        self.store.list_notes().await
    }

    pub async fn note(&self, id: NoteId) -> Result<Note> {
        self.store.note(id).await
    }

    pub async fn create_note(&self, fields: NoteFields) -> Result<Note> {
        let note = self.store.create_note(fields).await?;
        self.changed_locally();
        Ok(note)
    }

    pub async fn update_note(&self, id: NoteId, edit: NoteEdit) -> Result<Note> {
        let note = self.store.update_note(id, edit).await?;
        self.changed_locally();
        Ok(note)
    }

    pub async fn delete_note(&self, id: NoteId) -> Result<()> {
        self.store.delete_note(id).await?;
        self.changed_locally();
        Ok(())
    }

    /// The notes that hold every word typed (the last as a prefix), best first.
    pub async fn search(&self, typed: &str) -> Result<Vec<SearchHit>> {
        self.store.search(typed, MAX_RESULTS).await
    }

    /// Deleted notes, most recently deleted first.
    pub async fn trash(&self) -> Result<Vec<NoteSummary>> {
        self.store.trash().await
    }

    /// Brings a deleted note back (Trash, Undo).
    pub async fn restore_note(&self, id: NoteId) -> Result<Note> {
        let note = self.store.restore_note(id).await?;
        self.changed_locally();
        Ok(note)
    }

    /// Deletes a note in the trash forever: here now, on the server and every device with
    /// the next round (its text and history go).
    pub async fn purge_note(&self, id: NoteId) -> Result<()> {
        self.store.purge_note(id).await?;
        self.changed_locally();
        Ok(())
    }

    // History.

    /// The versions the server keeps of a note, newest first.
    pub async fn note_versions(&self, id: NoteId) -> Result<Vec<VersionInfo>> {
        history::versions(&self.store, self.secrets.as_ref(), id).await
    }

    /// One version of a note, fetched and opened here.
    pub async fn note_version(&self, id: NoteId, version: Version) -> Result<OldVersion> {
        history::version(&self.store, self.secrets.as_ref(), id, version).await
    }

    /// One version of a note beside its text now (History's side-by-side view).
    pub async fn compare_version(&self, id: NoteId, version: Version) -> Result<VersionComparison> {
        history::compare(&self.store, self.secrets.as_ref(), id, version).await
    }

    /// Gives a note the text of one of its versions back, as an edit that syncs like any
    /// other (and brings the note out of the trash).
    pub async fn restore_version(&self, id: NoteId, version: Version) -> Result<Note> {
        let note = history::restore(&self.store, self.secrets.as_ref(), id, version).await?;
        self.changed_locally();
        Ok(note)
    }

    // Conflicts and changes the server refused.

    pub async fn conflicts(&self) -> Result<Vec<Conflict>> {
        self.store.conflicts().await
    }

    pub async fn conflict(&self, id: NoteId) -> Result<Conflict> {
        self.store.conflict(id).await
    }

    /// Settles a conflict; the decision syncs like any edit.
    pub async fn resolve_conflict(&self, id: NoteId, resolution: Resolution) -> Result<()> {
        self.store.resolve_conflict(id, resolution).await?;
        self.changed_locally();
        Ok(())
    }

    pub async fn attention(&self) -> Result<Vec<SetAside>> {
        self.store.attention().await
    }

    /// Notes the server sent that failed their encryption check, kept apart.
    pub async fn unreadable_notes(&self) -> Result<Vec<UnreadableNote>> {
        self.store.unreadable_notes().await
    }

    pub async fn dismiss_attention(&self, op_id: OpId) -> Result<()> {
        self.store.dismiss_attention(op_id).await?;
        // The counts in the status line changed.
        if let Some(background) = &self.background {
            background.sync.local_change();
        }
        Ok(())
    }

    // Settings.

    pub async fn setting(&self, key: SettingKey) -> Result<Option<String>> {
        self.store.setting(key).await
    }

    /// Checks and stores a setting; returns the value as stored.
    pub async fn set_setting(&self, key: SettingKey, value: &str) -> Result<String> {
        let stored = self.store.set_setting(key, value).await?;
        self.setting_changed(key, Some(&stored)).await;
        Ok(stored)
    }

    /// Forgets a setting so its default applies again; returns the value that applies now.
    pub async fn unset_setting(&self, key: SettingKey) -> Result<Option<String>> {
        let now = self.store.unset_setting(key).await?;
        self.setting_changed(key, now.as_deref()).await;
        Ok(now)
    }

    /// `key` now has `value` (its default, or none, after an unset).
    async fn setting_changed(&self, key: SettingKey, value: Option<&str>) {
        match (key, &self.background) {
            (SettingKey::VaultDir, Some(background)) => background.vault.start(&self.store).await,
            (SettingKey::KeepInTray, _) => {
                let keep = value.and_then(|v| v.parse().ok()).unwrap_or(true);
                self.keep_in_tray.store(keep, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Whether closing the window should keep Quire syncing in the tray (`keep-in-tray`).
    pub fn keeps_syncing_in_tray(&self) -> bool {
        self.keep_in_tray.load(Ordering::Relaxed)
    }

    /// True the first time it is asked on this device, false after: the person is told once
    /// that a closed window leaves Quire syncing in the tray.
    pub async fn first_time_in_tray(&self) -> Result<bool> {
        if self.store.state(TRAY_EXPLAINED).await?.is_some() {
            return Ok(false);
        }
        self.store.set_state(TRAY_EXPLAINED, "1").await?;
        Ok(true)
    }

    /// Every setting a person can change, with defaults filled in (the Settings screen).
    pub async fn preferences(&self) -> Result<Preferences> {
        let store = &self.store;
        let signed_in = self.signed_in().await?;
        let has_recovery_key = signed_in.as_ref().is_some_and(|who| who.end_to_end)
            && account::holds_recovery_key(store, self.secrets.as_ref())?;
        Ok(Preferences {
            server: store.setting(SettingKey::Server).await?,
            end_to_end: signed_in.as_ref().is_some_and(|who| who.end_to_end),
            has_recovery_key,
            account: signed_in.map(|who| who.username),
            conflict_policy: store
                .setting_as(SettingKey::ConflictPolicy, ConflictPolicy::Merge)
                .await?,
            sync_interval: store.setting_as(SettingKey::SyncInterval, 60).await?,
            trash_days: store.setting_as(SettingKey::TrashDays, 30).await?,
            vault_dir: store.setting(SettingKey::VaultDir).await?,
            keep_in_tray: store.setting_as(SettingKey::KeepInTray, true).await?,
            start_at_login: Autostart::for_this_user(&self.data_dir).is_ok_and(|a| a.is_on()),
        })
    }

    /// Turns starting at login on (the entry starts `app`, the running binary, hidden) or
    /// off, for this device's data folder.
    pub fn set_start_at_login(&self, on: bool, app: &Path) -> Result<()> {
        let entry = Autostart::for_this_user(&self.data_dir)?;
        if on {
            let credentials = std::env::var(credentials::CREDENTIALS_ENV).ok();
            entry.turn_on(app, credentials.as_deref().filter(|c| !c.is_empty()))
        } else {
            entry.turn_off()
        }
    }

    // Account.

    /// Signs in (creating the account first when `new_account`); the password is used
    /// once and kept nowhere. In the app, sync starts right away.
    pub async fn sign_in(
        &self,
        request: AccountRequest<'_>,
        new_account: bool,
    ) -> Result<SignedIn> {
        let secrets = self.secrets.as_ref();
        let upgrade_with = request.allow_legacy.then(|| request.password.clone());
        let mut signed_in = account::sign_in(&self.store, secrets, request, new_account).await?;
        self.account_changed();
        // A legacy account is encrypted end to end right away, while the password is here.
        if let (Some(password), false) = (upgrade_with, signed_in.end_to_end) {
            match self.upgrade_account(password).await {
                Ok(upgraded) => {
                    signed_in.end_to_end = true;
                    signed_in.recovery_key = upgraded.recovery_key;
                }
                Err(err) => {
                    tracing::warn!(%err, "signed in to a legacy account; its upgrade failed");
                    signed_in.upgrade_failed = Some(err.to_string());
                }
            }
        }
        Ok(signed_in)
    }

    /// Encrypts the legacy account this device is signed in to end to end (see
    /// `account::upgrade`). A round in the clear first pushes the queue and pulls to the
    /// account's head, so this device holds every note it seals again; changes that arrive
    /// meanwhile make it pull and try again. The sealed copies go with the next rounds.
    pub async fn upgrade_account(&self, password: String) -> Result<account::Upgraded> {
        let secrets = self.secrets.as_ref();
        let mut tries = 0;
        loop {
            tries += 1;
            match self.sync_once().await {
                // A try that stopped halfway is settled by the upgrade itself.
                Ok(_) | Err(Error::UpgradeUnfinished) => {}
                Err(err) => return Err(err),
            }
            let cursor = self.store.pull_cursor().await?;
            let upgraded = account::upgrade(&self.store, secrets, password.clone(), cursor).await;
            match upgraded {
                Err(Error::ServerRefused { status: 409, .. }) if tries < 3 => continue,
                other => {
                    self.account_changed();
                    return other;
                }
            }
        }
    }

    pub async fn sign_out(&self) -> Result<LogoutOutcome> {
        let outcome = account::logout(&self.store, self.secrets.as_ref()).await?;
        self.account_changed();
        Ok(outcome)
    }

    /// Changes the account's password (see `account::change_password`).
    pub async fn change_password(&self, current: String, new: String) -> Result<()> {
        account::change_password(&self.store, self.secrets.as_ref(), current, new).await
    }

    /// The account's recovery key, on the device that holds it.
    pub async fn recovery_key(&self) -> Result<String> {
        account::recovery_key(&self.store, self.secrets.as_ref()).await
    }

    /// Sets a new password with the recovery key and signs in with it.
    pub async fn recover(
        &self,
        request: AccountRequest<'_>,
        recovery_key: &str,
    ) -> Result<SignedIn> {
        let secrets = self.secrets.as_ref();
        let signed_in = account::recover(&self.store, secrets, request, recovery_key).await?;
        self.account_changed();
        Ok(signed_in)
    }

    pub async fn signed_in(&self) -> Result<Option<SignedIn>> {
        account::signed_in(&self.store, self.secrets.as_ref()).await
    }

    fn account_changed(&self) {
        if let Some(background) = &self.background {
            background.sync.account_changed();
        }
    }

    // Sync.

    /// One full round now, in the caller's task (`quire sync`), and the check of this
    /// device against the server when one is due.
    pub async fn sync_once(&self) -> Result<SyncReport> {
        self.sync(CheckWhen::Due).await
    }

    /// One full round now, then the check of this device against the server `when` asked
    /// (`quire sync --verify`: always).
    pub async fn sync(&self, when: CheckWhen) -> Result<SyncReport> {
        let (api, token) = account::session(&self.store, self.secrets.as_ref()).await?;
        let sealing = account::sealing(&self.store, self.secrets.as_ref()).await?;
        let report =
            engine::sync_and_check(&self.store, &api, &token, sealing.as_ref(), when).await;
        // Even a round that failed halfway may have brought notes.
        self.vault_follows();
        report
    }

    /// What the next round would push and pull, found without changing anything anywhere
    /// (`quire sync --dry-run`).
    pub async fn sync_preview(&self) -> Result<SyncPreview> {
        let (api, token) = account::session(&self.store, self.secrets.as_ref()).await?;
        engine::preview(&self.store, &api, &token).await
    }

    /// The store's counts: notes, pending changes, conflicts, last sync.
    pub async fn status(&self) -> Result<StoreStatus> {
        self.store.status().await
    }

    /// Changes waiting for the server, in order.
    pub async fn queue(&self) -> Result<Vec<QueuedOp>> {
        self.store.pending_ops(u32::MAX).await
    }

    /// The background task's status (the default for a device without one).
    pub fn sync_status(&self) -> SyncStatus {
        self.background
            .as_ref()
            .map_or_else(SyncStatus::default, |b| b.sync.status())
    }

    /// Every change of the background task's status; `None` without one.
    pub fn watch_status(&self) -> Option<watch::Receiver<SyncStatus>> {
        self.background.as_ref().map(|b| b.sync.watch())
    }

    /// Notices and notes changed outside the window, from the background task and watcher.
    /// The first call also gets what was sent before it (at start, before anyone listened).
    pub fn events(&self) -> broadcast::Receiver<DeviceEvent> {
        self.first_events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_else(|| self.events.subscribe())
    }

    /// "Sync now" (the tray, the window): a round right away in the background task.
    pub fn sync_now(&self) {
        if let Some(background) = &self.background {
            background.sync.sync_now();
        }
    }

    pub fn pause_sync(&self) {
        if let Some(background) = &self.background {
            background.sync.pause();
        }
    }

    /// Pauses a running sync, or resumes a paused one (the tray's one item for both).
    pub fn toggle_pause(&self) {
        if self.sync_status().state == SyncState::Paused {
            self.resume_sync();
        } else {
            self.pause_sync();
        }
    }

    pub fn resume_sync(&self) {
        if let Some(background) = &self.background {
            background.sync.resume();
        }
    }

    // The vault folder.

    /// The vault folder set for this device, if any.
    pub async fn vault_dir(&self) -> Result<Option<PathBuf>> {
        vault::vault_dir(&self.store).await
    }

    /// Files in the vault folder the watcher's last pass could not take in, and why.
    pub fn vault_problems(&self) -> Vec<VaultProblem> {
        self.background
            .as_ref()
            .map(|b| b.vault.problems())
            .unwrap_or_default()
    }

    /// One pass over `dir` in both directions, every file's stamp checked (`quire vault
    /// scan`); a long one tells `progress` how far it has come.
    pub async fn scan_vault(
        &self,
        dir: &Path,
        progress: &(dyn Fn(VaultProgress) + Sync),
    ) -> Result<VaultReport> {
        let report = vault::pass(&self.store, dir, &Scope::Everything, progress).await?;
        self.vault_behind.store(false, Ordering::Relaxed);
        Ok(report)
    }

    /// Watches `dir` in the caller's runtime until the watcher is dropped (`quire vault
    /// run`); every pass's outcome goes to `on_pass`, a long pass's progress to `on_progress`.
    pub fn watch_vault(
        &self,
        dir: PathBuf,
        on_pass: impl Fn(&Result<VaultReport>) + Send + 'static,
        on_progress: impl Fn(VaultProgress) + Send + Sync + 'static,
    ) -> (VaultWatcher, JoinHandle<()>) {
        vault::watch::spawn(Arc::clone(&self.store), dir, on_pass, on_progress)
    }

    /// Closes the device. Without a background watcher, what changed reaches the vault
    /// folder first, in one pass: its outcome, or `None` when there was nothing to do.
    pub async fn close(self) -> Option<Result<VaultReport>> {
        let follow = if self.vault_behind.load(Ordering::Relaxed) {
            match self.vault_dir().await {
                // What changed is notes: their files, and any file the index must read.
                Ok(Some(dir)) => {
                    Some(vault::pass(&self.store, &dir, &Scope::store_changes(), &|_| {}).await)
                }
                Ok(None) => None,
                Err(err) => Some(Err(err)),
            }
        } else {
            None
        };
        drop(self.background);
        if let Ok(store) = Arc::try_unwrap(self.store) {
            store.close().await;
        }
        follow
    }
}
