import type { Note } from "../bindings/Note";
import type { NoteId } from "../bindings/NoteId";
import { Debouncer } from "../debounce";
import { el } from "../dom";

export type SaveEdit = (id: NoteId, edit: { title: string; body: string }) => Promise<Note>;

/** How long typing may pause before the note is saved. */
export const AUTOSAVE_DELAY_MS = 400;

/**
 * The editor pane for one note: a title field and the text, saved automatically shortly
 * after typing stops, and before another note is opened.
 */
export class NoteEditor {
  private note: Note | undefined;
  private readonly title = el("input", {
    class: "note-title-input",
    type: "text",
    "data-testid": "note-title",
    "aria-label": "Title",
  });
  private readonly body = el("textarea", {
    class: "note-body",
    "data-testid": "note-body",
    "aria-label": "Note text",
    spellcheck: "true",
  });
  private readonly saveState = el("span", { class: "save-state", "data-testid": "save-state", "aria-live": "polite" });
  private readonly deleteArea = el("span", { class: "delete-area" });
  private readonly autosave: Debouncer;

  constructor(
    private readonly pane: HTMLElement,
    private readonly save: SaveEdit,
    private readonly onSaved: (note: Note) => void,
    private readonly onDelete?: (note: Note) => void,
    private readonly onHistory?: (note: Note) => void,
  ) {
    this.autosave = new Debouncer(AUTOSAVE_DELAY_MS, () => this.saveNow());
    for (const field of [this.title, this.body]) {
      field.addEventListener("input", () => {
        this.saveState.textContent = "Editing…";
        this.autosave.schedule();
      });
      field.addEventListener("blur", () => void this.autosave.flush());
    }
  }

  get openId(): NoteId | undefined {
    return this.note?.id;
  }

  /** Typing that has not been saved yet (a reload now would throw it away). */
  get hasUnsavedTyping(): boolean {
    return this.autosave.pending;
  }

  /** Shows the note's text as the store now has it, keeping the cursor where it can. */
  reload(note: Note): void {
    if (this.note?.id !== note.id || this.autosave.pending) return;
    const { selectionStart, selectionEnd } = this.body;
    this.note = note;
    if (this.title.value !== note.title) this.title.value = note.title;
    if (this.body.value !== note.body) {
      this.body.value = note.body;
      this.body.setSelectionRange(selectionStart, selectionEnd);
    }
  }

  /** Shows `note`, first saving what was typed into the one open before. */
  async open(note: Note): Promise<void> {
    await this.autosave.flush();
    this.note = note;
    this.title.value = note.title;
    this.body.value = note.body;
    this.saveState.textContent = "Saved";
    this.pane.classList.add("has-note");
    this.showDeleteButton();
    const history = el("button", { type: "button", class: "link-button", "data-testid": "open-history" }, "History");
    history.addEventListener("click", () => {
      const open = this.note;
      if (open !== undefined) void this.autosave.flush().then(() => this.onHistory?.(open));
    });
    this.pane.replaceChildren(
      el(
        "div",
        { class: "editor-head" },
        this.title,
        this.saveState,
        ...(this.onHistory === undefined ? [] : [history]),
        this.deleteArea,
      ),
      this.body,
    );
  }

  /** Saves what is typed and lets go of the note (another view takes the pane). */
  async close(): Promise<void> {
    await this.autosave.flush();
    this.note = undefined;
    this.pane.classList.remove("has-note");
  }

  /** Deleting asks once, in place: "Delete this note?" with Delete and Cancel. */
  private showDeleteButton(): void {
    if (this.onDelete === undefined) {
      this.deleteArea.replaceChildren();
      return;
    }
    const ask = el("button", { type: "button", class: "link-button", "data-testid": "delete-note" }, "Delete");
    ask.addEventListener("click", () => {
      const confirm = el("button", { type: "button", class: "danger", "data-testid": "confirm-delete" }, "Delete");
      const cancel = el("button", { type: "button", "data-testid": "cancel-delete" }, "Cancel");
      confirm.addEventListener("click", () => {
        const note = this.note;
        if (note !== undefined) void this.autosave.flush().then(() => this.onDelete?.(note));
      });
      cancel.addEventListener("click", () => {
        this.showDeleteButton();
      });
      this.deleteArea.replaceChildren(el("span", { role: "alert" }, "Delete this note?"), confirm, cancel);
      cancel.focus();
    });
    this.deleteArea.replaceChildren(ask);
  }

  focusTitle(): void {
    this.title.focus();
    this.title.select();
  }

  private async saveNow(): Promise<void> {
    const note = this.note;
    if (!note) return;
    this.saveState.textContent = "Saving…";
    try {
      const saved = await this.save(note.id, { title: this.title.value, body: this.body.value });
      if (this.note?.id === saved.id) this.note = saved;
      this.saveState.textContent = "Saved";
      this.saveState.classList.remove("error");
      this.onSaved(saved);
    } catch (reason) {
      // Nothing typed is thrown away: the text stays in the editor and saves on the next edit.
      this.saveState.textContent = reason instanceof Error ? reason.message : "Not saved";
      this.saveState.classList.add("error");
    }
  }
}
