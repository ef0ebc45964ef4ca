import { el } from "./dom";

/** The parts of the window that views fill in. */
export interface Layout {
  root: HTMLElement;
  newNote: HTMLButtonElement;
  notes: HTMLElement;
  editor: HTMLElement;
  statusLine: HTMLElement;
}

/** Builds the three-part window: note list, editor, status line. */
export function buildLayout(): Layout {
  const newNote = el(
    "button",
    { class: "new-note", type: "button", "data-testid": "new-note", title: "New note" },
    "New note",
  );
  const notes = el("ul", { class: "notes", "data-testid": "notes" });
  const noteList = el(
    "nav",
    { class: "note-list", "data-testid": "note-list", "aria-label": "Notes" },
    el("div", { class: "pane-head" }, el("h2", { class: "pane-title" }, "Notes"), newNote),
    notes,
    el("p", { class: "empty", "data-testid": "note-list-empty" }, "No notes yet."),
  );
  const editor = el(
    "main",
    { class: "editor", "data-testid": "editor", "aria-label": "Editor" },
    el("p", { class: "empty", "data-testid": "editor-empty" }, "No note is open."),
  );
  const statusLine = el("footer", {
    class: "status-line",
    "data-testid": "status-line",
    role: "status",
    "aria-live": "polite",
  });
  const root = el("div", { class: "app", "data-testid": "app" }, noteList, editor, statusLine);
  return { root, newNote, notes, editor, statusLine };
}
