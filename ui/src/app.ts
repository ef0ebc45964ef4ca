// Wires the views to the Rust side: what happens when notes load, open, change, or fail.
import * as api from "./api";
import type { NoteId } from "./bindings/NoteId";
import type { Layout } from "./layout";
import { NoteEditor } from "./notes/editor";
import { renderNoteList } from "./notes/note-list";
import { renderStatusLine } from "./status-line";

export class App {
  private readonly editor: NoteEditor;

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
    await this.refresh();
  }

  /** Reloads the note list and the status line from the store. */
  async refresh(): Promise<void> {
    try {
      const [info, status, notes] = await Promise.all([api.appInfo(), api.storeStatus(), api.listNotes()]);
      renderNoteList(this.layout.notes, notes, this.editor.openId, (id) => void this.open(id));
      renderStatusLine(this.layout.statusLine, { kind: "ready", info, status });
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
