// Wires the views to the Rust side: what happens when notes load, open, change, or fail.
// Which view the main pane shows is kept by navigation.ts.
import * as api from "./api";
import type { AppInfo } from "./bindings/AppInfo";
import type { Note } from "./bindings/Note";
import type { NoteId } from "./bindings/NoteId";
import type { NoteSummary } from "./bindings/NoteSummary";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { VaultProgress } from "./bindings/VaultProgress";
import { renderAttention } from "./attention/attention-view";
import { ConflictCenter } from "./conflicts/conflict-center";
import { type Layout, setNavCount } from "./layout";
import { Navigation, type NavView } from "./navigation";
import { HistoryView } from "./history/history-view";
import { NoteEditor } from "./notes/editor";
import { filterNotes, listKeyboardNavigation, type NoteFilter, renderNoteList } from "./notes/note-list";
import { hitRows, LiveSearch, type SearchAnswer, searchWords, wordsToMark } from "./notes/search-results";
import { SettingsView } from "./settings/settings-view";
import { renderTrash } from "./trash/trash-view";
import { openAbout } from "./about";
import { el } from "./dom";
import { describeSync, renderStatusLine, type SyncControls } from "./status-line";

export class App {
  private readonly editor: NoteEditor;
  private readonly conflicts: ConflictCenter;
  private readonly settings: SettingsView;
  private readonly history: HistoryView;
  /** The note whose History is shown. */
  private historyNote: Note | null = null;
  private readonly navigation: Navigation;
  private info: AppInfo | null = null;
  private sync: SyncStatus | null = null;
  /** A long vault pass going on, shown in the status line. */
  private vault: VaultProgress | null = null;
  private notes: NoteSummary[] = [];
  private readonly liveSearch: LiveSearch;
  /** The newest answer to the search box; `null` while it is empty or the first answer is on its way. */
  private searchAnswer: SearchAnswer | null = null;
  /** The index did not answer: the list filters by title instead, as it did before full-text search. */
  private searchFailed = false;
  private lastSyncAt: number | null = null;
  /** Re-renders the "retrying in N s" countdown while a retry is scheduled. */
  private countdown: ReturnType<typeof setInterval> | null = null;
  private readonly controls: SyncControls = {
    syncNow: () => void this.guard(() => api.syncNow()),
    pause: () => void this.guard(() => api.pauseSync()),
    resume: () => void this.guard(() => api.resumeSync()),
  };

  constructor(private readonly layout: Layout) {
    this.editor = new NoteEditor(
      layout.editor,
      (id, edit) => api.updateNote(id, edit),
      () => void this.refresh(),
      (note) => void this.deleteNote(note),
      (note) => void this.showHistory(note),
      (url) => void this.guard(() => api.openLink(url)),
    );
    this.history = new HistoryView(layout.editor, {
      compare: (version) => this.historyNote === null ? Promise.reject(new Error("No note")) : api.compareVersion(this.historyNote.id, version),
      restore: (version) => void this.restoreVersion(version),
      back: () => void (this.historyNote === null ? Promise.resolve() : this.open(this.historyNote.id)),
    });
    this.conflicts = new ConflictCenter(
      layout.editor,
      { resolve: (id, body) => api.resolveConflict(id, body) },
      () => void this.showConflicts(),
    );
    this.settings = new SettingsView(layout.editor, {
      setPreference: (key, value) => api.setPreference(key, value),
      unsetPreference: (key) => api.unsetPreference(key),
      setStartAtLogin: (on) => api.setStartAtLogin(on),
      signIn: (request) => api.signIn(request),
      changePassword: (current, next) => api.changePassword(current, next),
      recoveryKey: () => api.recoveryKey(),
      upgradeAccount: (password) => api.upgradeAccount(password),
      signOut: () => api.signOut(),
      pause: () => { this.controls.pause(); },
      resume: () => { this.controls.resume(); },
    });
    layout.newNote.addEventListener("click", () => void this.newNote());
    this.liveSearch = new LiveSearch(
      (query) => api.searchNotes(query),
      (answer) => {
        this.searchAnswer = answer;
        this.searchFailed = false;
        this.renderNotes();
      },
      (reason) => {
        this.searchFailed = true;
        this.fail(reason);
        this.renderNotes();
      },
    );
    layout.search.addEventListener("input", () => {
      this.liveSearch.ask(layout.search.value);
      if (searchWords(layout.search.value).length === 0) {
        this.searchAnswer = null;
        this.searchFailed = false;
      }
      this.renderNotes();
    });
    layout.filter.addEventListener("change", () => { this.renderNotes(); });
    this.navigation = new Navigation(layout.nav, {
      open: (view) => void this.show(view),
      leaveNotes: () => this.editor.close(),
      switched: () => { this.renderNotes(); },
    });
    listKeyboardNavigation(layout.notes);
    document.addEventListener("keydown", (event) => {
      // The editor's own keys came first (Ctrl+F there finds in the note).
      if (event.defaultPrevented) return;
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "n") {
        event.preventDefault();
        void this.newNote();
      } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f") {
        event.preventDefault();
        layout.search.focus();
      }
    });
  }

  async start(): Promise<void> {
    renderStatusLine(this.layout.statusLine, { kind: "loading" });
    await api.onSyncStatus((status) => { this.showSync(status); });
    await api.onNotesChanged(() => void this.afterOutsideChange());
    await api.onVaultProgress((progress) => {
      this.vault = progress.stage === "finished" ? null : progress;
      if (this.sync !== null) this.showSync(this.sync);
    });
    // The tray and notifications lead here: the view they name.
    await api.onNavigate((view) => {
      if (view === "conflicts") void this.showConflicts();
      else if (view === "attention") void this.showAttention();
      else if (view === "settings") void this.showSettings();
    });
    await this.refresh();
    // First run next to a local server (make run): offer an account on it right away.
    if (this.info?.suggestedServer != null && this.sync?.state === "local_only" && this.notes.length === 0) {
      await this.showSettings();
    }
  }

  /** Reloads the note list and the status line from the store. */
  async refresh(): Promise<void> {
    await this.guard(async () => {
      const [info, sync, notes] = await Promise.all([api.appInfo(), api.syncStatus(), api.listNotes()]);
      this.info = info;
      this.lastSyncAt = sync.lastSyncAt;
      this.notes = notes;
      this.renderNotes();
      this.searchAgain();
      this.showSync(sync);
    });
  }

  /**
   * The list: the search's hits while the search box has words (the list as it was until the
   * first answer comes), else every note; either passing the filter.
   */
  private renderNotes(): void {
    const typed = this.layout.search.value;
    const filter = this.layout.filter.value as NoteFilter;
    const openId = this.navigation.view === "notes" ? this.editor.openId : undefined;
    const searching = searchWords(typed).length > 0 && !this.searchFailed;
    this.layout.notesEmpty.textContent = this.notes.length === 0 ? "No notes yet." : "No notes match";
    if (searching && this.searchAnswer === null) return;
    if (searching && this.searchAnswer !== null) {
      const rows = hitRows(this.searchAnswer.hits, this.notes, filter);
      renderNoteList(this.layout.notes, rows, openId, (id) => void this.openHit(id));
    } else {
      renderNoteList(this.layout.notes, filterNotes(this.notes, typed, filter), openId, (id) => void this.open(id));
    }
  }

  /** Notes changed: the search box's words may find other notes now. */
  private searchAgain(): void {
    // An empty box asks nothing.
    this.liveSearch.ask(this.layout.search.value);
  }

  /** A status from the background task; a finished round may have brought notes. */
  private showSync(sync: SyncStatus): void {
    const info = this.info;
    if (info === null) return;
    this.sync = sync;
    setNavCount(this.layout.nav.conflicts, "Conflicts", sync.conflicts);
    setNavCount(this.layout.nav.attention, "Needs attention", sync.needsAttention);
    renderStatusLine(this.layout.statusLine, { kind: "ready", info, sync, vault: this.vault }, {
      ...this.controls,
      setUp: () => void this.showSettings(),
      about: () => { openAbout(info); },
    });
    // Only the text ticks, so focus stays on the buttons.
    const text = this.layout.statusLine.querySelector('[data-testid="status-text"]');
    if (this.countdown !== null) clearInterval(this.countdown);
    this.countdown =
      sync.nextAttemptAt === null || text === null
        ? null
        : setInterval(() => {
            text.textContent = describeSync(sync, Date.now());
          }, 1000);
    if (sync.lastSyncAt !== this.lastSyncAt) {
      this.lastSyncAt = sync.lastSyncAt;
      void this.afterRound();
    }
  }

  /** A round finished: notes may have arrived, and an open view may be out of date. */
  private async afterRound(): Promise<void> {
    await this.guard(async () => {
      this.notes = await api.listNotes();
      this.renderNotes();
      this.searchAgain();
      if (this.navigation.view === "conflicts") this.conflicts.show(await api.listConflicts());
    });
  }

  /** A file in the vault folder changed notes: the list, and the open note if untouched here. */
  private async afterOutsideChange(): Promise<void> {
    await this.afterRound();
    const id = this.navigation.view === "notes" ? this.editor.openId : undefined;
    if (id === undefined || this.editor.hasUnsavedTyping) return;
    await this.guard(async () => {
      this.editor.reload(await api.getNote(id));
    });
  }

  /** Opens a note; `words` (a search's) are marked in it. */
  private async open(id: NoteId, words?: string[]): Promise<void> {
    await this.guard(async () => {
      const note = await api.getNote(id);
      await this.navigation.switchTo("notes");
      await this.editor.open(note);
      if (words !== undefined) this.editor.showMatches(words);
      await this.refresh();
    });
  }

  /** Opens a search's hit with the words it matched marked, and those typed. */
  private async openHit(id: NoteId): Promise<void> {
    const hit = this.searchAnswer?.hits.find((found) => found.id === id);
    await this.open(id, wordsToMark(hit, this.layout.search.value));
  }

  private async newNote(): Promise<void> {
    await this.guard(async () => {
      const note = await api.createNote("Untitled", "");
      await this.navigation.switchTo("notes");
      await this.editor.open(note);
      this.editor.focusTitle();
      await this.refresh();
    });
  }

  private async deleteNote(note: Note): Promise<void> {
    await this.guard(async () => {
      await api.deleteNote(note.id);
      await this.editor.close();
      const undo = el("button", { type: "button", "data-testid": "undo-delete" }, "Undo");
      undo.addEventListener("click", () => void this.undoDelete(note));
      this.layout.editor.replaceChildren(
        el("p", { role: "status", class: "deleted-notice" }, `Deleted “${note.title}”. `, undo),
      );
      await this.refresh();
      this.layout.newNote.focus();
    });
  }

  /** Undo of a delete: the note comes back as it was, and opens again. */
  private async undoDelete(note: Note): Promise<void> {
    await this.guard(async () => {
      const restored = await api.restoreNote(note.id);
      await this.navigation.switchTo("notes");
      await this.editor.open(restored);
      await this.refresh();
    });
  }

  /** Opens the view a sidebar button names. */
  private show(view: NavView): Promise<void> {
    switch (view) {
      case "conflicts":
        return this.showConflicts();
      case "attention":
        return this.showAttention();
      case "trash":
        return this.showTrash();
      case "settings":
        return this.showSettings();
    }
  }

  private async showConflicts(): Promise<void> {
    await this.guard(async () => {
      const conflicts = await api.listConflicts();
      await this.navigation.switchTo("conflicts");
      this.conflicts.show(conflicts);
      await this.refresh();
    });
  }

  private async showAttention(): Promise<void> {
    await this.guard(async () => {
      const [items, files, unreadable] = await Promise.all([
        api.listAttention(),
        api.vaultProblems(),
        api.listUnreadable(),
      ]);
      await this.navigation.switchTo("attention");
      renderAttention(
        this.layout.editor,
        items,
        (id) => {
          void this.guard(() => api.dismissAttention(id)).then(() => this.showAttention());
        },
        files,
        unreadable,
      );
    });
  }

  private async showTrash(): Promise<void> {
    await this.guard(async () => {
      const [notes, prefs] = await Promise.all([api.listTrash(), api.getPreferences()]);
      await this.navigation.switchTo("trash");
      renderTrash(this.layout.editor, notes, prefs.trashDays, {
        restore: (id) => void this.guard(async () => {
          await api.restoreNote(id);
          await this.refresh();
          await this.showTrash();
        }),
        purge: (id) => void this.guard(async () => {
          await api.purgeNote(id);
          await this.showTrash();
        }),
      });
    });
  }

  /** A note's History: its versions, one beside the note now, and restore. */
  private async showHistory(note: Note): Promise<void> {
    await this.guard(async () => {
      const versions = await api.noteVersions(note.id);
      this.historyNote = note;
      await this.navigation.switchTo("history");
      this.history.show(note, versions);
    });
  }

  private async restoreVersion(version: number): Promise<void> {
    const note = this.historyNote;
    if (note === null) return;
    await this.guard(async () => {
      const restored = await api.restoreVersion(note.id, version);
      await this.navigation.switchTo("notes");
      await this.editor.open(restored);
      await this.refresh();
    });
  }

  private async showSettings(): Promise<void> {
    await this.guard(async () => {
      const prefs = await api.getPreferences();
      await this.navigation.switchTo("settings");
      this.settings.show(prefs, this.sync?.state ?? "local_only", this.info?.suggestedServer ?? null);
    });
  }

  /** Runs an action against the Rust side and shows its failure in the status line instead of throwing. */
  private async guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (reason) {
      this.fail(reason);
    }
  }

  private fail(reason: unknown): void {
    renderStatusLine(this.layout.statusLine, { kind: "failed", error: api.toApiError(reason) });
  }
}
