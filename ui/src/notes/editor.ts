import type { Note } from "../bindings/Note";
import type { NoteId } from "../bindings/NoteId";
import { Debouncer } from "../debounce";
import { el } from "../dom";
import type { NoteText } from "./code-editor";

export type SaveEdit = (id: NoteId, edit: { title: string; body: string }) => Promise<Note>;

type PreviewModule = typeof import("./markdown-preview");

/** How long typing may pause before the note is saved. */
export const AUTOSAVE_DELAY_MS = 400;

/**
 * The editor pane for one note: a title field and the text (CodeMirror, or its Markdown
 * preview), saved automatically shortly after typing stops, and before another note is opened.
 */
export class NoteEditor {
  private note: Note | undefined;
  private readonly title = el("input", {
    class: "note-title-input",
    type: "text",
    "data-testid": "note-title",
    "aria-label": "Title",
  });
  /** CodeMirror, loaded when the first note opens. */
  private text: NoteText | undefined;
  private textLoading: Promise<NoteText> | undefined;
  private previewLoading: Promise<PreviewModule> | undefined;
  private readonly textArea = el("div", { class: "note-text-area" });
  private readonly preview = el("article", {
    class: "note-preview",
    "data-testid": "note-preview",
    "aria-label": "Preview",
    tabindex: "0",
    hidden: "",
  });
  private readonly previewToggle = el(
    "button",
    { type: "button", class: "link-button", "data-testid": "toggle-preview", "aria-pressed": "false" },
    "Preview",
  );
  private previewing = false;
  private readonly body = el("div", { class: "note-body-area" }, this.textArea, this.preview);
  private readonly saveState = el("span", { class: "save-state", "data-testid": "save-state", "aria-live": "polite" });
  private readonly deleteArea = el("span", { class: "delete-area" });
  private readonly autosave: Debouncer;
  /** Saves under way: a reload now would show the text from before them. */
  private saving = 0;
  /** Notes whose last save was refused; their typing is kept in their editor state. */
  private readonly notSaved = new Set<NoteId>();
  /** The titles typed into those notes. */
  private readonly keptTitles = new Map<NoteId, string>();

  constructor(
    private readonly pane: HTMLElement,
    private readonly save: SaveEdit,
    private readonly onSaved: (note: Note) => void,
    private readonly onDelete?: (note: Note) => void,
    private readonly onHistory?: (note: Note) => void,
    /** Opens an http(s) or mailto link from the preview outside the app. */
    private readonly onOpenLink?: (url: string) => void,
  ) {
    this.autosave = new Debouncer(AUTOSAVE_DELAY_MS, () => this.saveNow());
    this.title.addEventListener("input", () => {
      this.edited();
    });
    this.title.addEventListener("blur", () => void this.autosave.flush());
    this.previewToggle.addEventListener("click", () => void this.setPreviewing(!this.previewing));
  }

  get openId(): NoteId | undefined {
    return this.note?.id;
  }

  /**
   * Typing that is not saved yet (a reload now would throw it away): waiting for the
   * autosave, being saved right now, or refused the last time it was saved.
   */
  get hasUnsavedTyping(): boolean {
    const open = this.note?.id;
    return this.autosave.pending || this.saving > 0 || (open !== undefined && this.notSaved.has(open));
  }

  /** Shows the note's text as the store now has it, keeping the cursor where it can. */
  reload(note: Note): void {
    if (this.note?.id !== note.id || this.hasUnsavedTyping) return;
    this.note = note;
    if (this.title.value !== note.title) this.title.value = note.title;
    this.text?.replaceText(note.body);
    void this.renderPreview();
  }

  /** Shows `note`, first saving what was typed into the one open before. */
  async open(note: Note): Promise<void> {
    await this.autosave.flush();
    const text = await this.loadText();
    this.note = note;
    const keepTyped = this.notSaved.has(note.id) && this.keptTitles.has(note.id);
    this.title.value = keepTyped ? (this.keptTitles.get(note.id) ?? note.title) : note.title;
    this.saveState.textContent = "Saved";
    this.saveState.classList.remove("error");
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
        this.previewToggle,
        ...(this.onHistory === undefined ? [] : [history]),
        this.deleteArea,
      ),
      this.body,
    );
    // In the page before it is shown: CodeMirror measures what it shows.
    text.show(note.id, note.body, keepTyped);
    await this.setPreviewing(false);
    if (keepTyped) {
      // What was typed and refused is still here: try again, and say so if it fails.
      this.saveState.textContent = "Not saved yet";
      this.autosave.schedule();
    }
  }

  /** Saves what is typed and lets go of the note (another view takes the pane). */
  async close(): Promise<void> {
    await this.autosave.flush();
    this.note = undefined;
    this.pane.classList.remove("has-note");
  }

  /**
   * Marks where a search's words are in the open note, and brings the first into view with
   * the cursor on it. The marks go when the person types or opens another note.
   */
  showMatches(words: readonly string[]): void {
    if (this.text === undefined || this.note === undefined) return;
    if (this.previewing) void this.setPreviewing(false);
    this.text.showMatches(words);
  }

  focusTitle(): void {
    this.title.focus();
    this.title.select();
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

  /** Typing in the title or the text: save once it pauses. Runs per keystroke, so it stays O(1). */
  private edited(): void {
    if (this.saveState.textContent !== "Editing…") this.saveState.textContent = "Editing…";
    this.autosave.schedule();
  }

  private loadText(): Promise<NoteText> {
    this.textLoading ??= import("./code-editor").then(
      ({ NoteText }) => {
        const text = new NoteText({
          edited: () => {
            this.edited();
          },
          left: () => void this.autosave.flush(),
        });
        this.textArea.replaceChildren(text.dom);
        this.text = text;
        return text;
      },
      (reason: unknown) => {
        // Try again at the next open.
        this.textLoading = undefined;
        throw reason;
      },
    );
    return this.textLoading;
  }

  private loadPreview(): Promise<PreviewModule> {
    this.previewLoading ??= import("./markdown-preview").then(
      (preview) => {
        preview.guardLinks(this.preview, (url) => this.onOpenLink?.(url));
        return preview;
      },
      (reason: unknown) => {
        this.previewLoading = undefined;
        throw reason;
      },
    );
    return this.previewLoading;
  }

  /** Shows the rendered Markdown in place of the text, or the text again. */
  private async setPreviewing(on: boolean): Promise<void> {
    this.previewing = on;
    this.previewToggle.setAttribute("aria-pressed", String(on));
    this.preview.hidden = !on;
    this.textArea.hidden = on;
    if (on) {
      await this.renderPreview();
    } else {
      this.preview.replaceChildren();
      this.text?.remeasure();
    }
  }

  /** Renders the open text into the preview, when it is shown. */
  private async renderPreview(): Promise<void> {
    if (!this.previewing || this.text === undefined) return;
    const { showMarkdown } = await this.loadPreview();
    // The person may have gone back to the text while the preview's code loaded.
    if (!this.preview.hidden) showMarkdown(this.preview, this.text.text);
  }

  private async saveNow(): Promise<void> {
    const note = this.note;
    if (!note) return;
    this.saveState.textContent = "Saving…";
    const title = this.title.value;
    this.saving += 1;
    try {
      const saved = await this.save(note.id, { title, body: this.text?.text ?? note.body });
      this.notSaved.delete(note.id);
      this.keptTitles.delete(note.id);
      if (this.note?.id === saved.id) this.note = saved;
      this.saveState.textContent = "Saved";
      this.saveState.classList.remove("error");
      this.onSaved(saved);
      void this.renderPreview();
    } catch (reason) {
      // Nothing typed is thrown away: the text stays in the editor (and in this note's kept
      // state when another note is opened) and saves on the next edit or the next opening.
      this.notSaved.add(note.id);
      this.keptTitles.set(note.id, title);
      this.saveState.textContent = reason instanceof Error ? reason.message : "Not saved";
      this.saveState.classList.add("error");
    } finally {
      this.saving -= 1;
    }
  }
}
