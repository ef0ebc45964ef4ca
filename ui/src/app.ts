// Wires the views to the Rust side: what happens when notes load, open, change, or fail.
import * as api from "./api";
import type { AppInfo } from "./bindings/AppInfo";
import type { NoteId } from "./bindings/NoteId";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { Layout } from "./layout";
import { NoteEditor } from "./notes/editor";
import { renderNoteList } from "./notes/note-list";
import { describeSync, renderStatusLine, type SyncControls } from "./status-line";

export class App {
  private readonly editor: NoteEditor;
  private info: AppInfo | null = null;
  private lastSyncAt: number | null = null;
  /** Re-renders the "retrying in N s" countdown while a retry is scheduled. */
  private countdown: ReturnType<typeof setInterval> | null = null;
  private readonly controls: SyncControls = {
    syncNow: () => void this.control(api.syncNow()),
    pause: () => void this.control(api.pauseSync()),
    resume: () => void this.control(api.resumeSync()),
  };

  constructor(private readonly layout: Layout) {
    this.editor = new NoteEditor(
      layout.editor,
      (id, edit) => api.updateNote(id, edit),
      () => void this.refresh(),
    );
    layout.newNote.addEventListener("click", () => void this.newNote());
  }

  async start(): Promise<void> {
    renderStatusLine(this.layout.statusLine, { kind: "loading" });
    await api.onSyncStatus((status) => { this.showSync(status); });
    await this.refresh();
  }

  /** Reloads the note list and the status line from the store. */
  async refresh(): Promise<void> {
    try {
      const [info, sync, notes] = await Promise.all([api.appInfo(), api.syncStatus(), api.listNotes()]);
      this.info = info;
      this.lastSyncAt = sync.lastSyncAt;
      renderNoteList(this.layout.notes, notes, this.editor.openId, (id) => void this.open(id));
      renderStatusLine(this.layout.statusLine, { kind: "ready", info, sync }, this.controls);
    } catch (reason) {
      this.fail(reason);
    }
  }

  /** A status from the background task; a finished round may have brought notes. */
  private showSync(sync: SyncStatus): void {
    const info = this.info;
    if (info === null) return;
    renderStatusLine(this.layout.statusLine, { kind: "ready", info, sync }, this.controls);
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
      void this.refreshNotes();
    }
  }

  private async refreshNotes(): Promise<void> {
    try {
      const notes = await api.listNotes();
      renderNoteList(this.layout.notes, notes, this.editor.openId, (id) => void this.open(id));
    } catch (reason) {
      this.fail(reason);
    }
  }

  private async control(request: Promise<void>): Promise<void> {
    try {
      await request;
    } catch (reason) {
      this.fail(reason);
    }
  }

  private async open(id: NoteId): Promise<void> {
    try {
      await this.editor.open(await api.getNote(id));
      await this.refresh();
    } catch (reason) {
      this.fail(reason);
    }
  }

  private async newNote(): Promise<void> {
    try {
      const note = await api.createNote("Untitled", "");
      await this.editor.open(note);
      this.editor.focusTitle();
      await this.refresh();
    } catch (reason) {
      this.fail(reason);
    }
  }

  private fail(reason: unknown): void {
    renderStatusLine(this.layout.statusLine, { kind: "failed", error: api.toApiError(reason) });
  }
}
