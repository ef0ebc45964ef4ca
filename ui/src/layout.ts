import { el } from "./dom";
import type { NoteFilter } from "./notes/note-list";

/** The parts of the window that views fill in. */
export interface Layout {
  root: HTMLElement;
  newNote: HTMLButtonElement;
  search: HTMLInputElement;
  filter: HTMLSelectElement;
  notes: HTMLElement;
  /** Shown in place of an empty list: no notes yet, or none that match. */
  notesEmpty: HTMLElement;
  /** The main pane: the editor, or the conflict center, needs attention, trash, history, settings. */
  editor: HTMLElement;
  nav: {
    conflicts: HTMLButtonElement;
    attention: HTMLButtonElement;
    trash: HTMLButtonElement;
    settings: HTMLButtonElement;
  };
  statusLine: HTMLElement;
}

function navButton(testId: string, label: string): HTMLButtonElement {
  return el("button", { type: "button", class: "nav-item", "data-testid": testId }, label);
}

/** Builds the window: sidebar (notes, search, views), main pane, status line. */
export function buildLayout(): Layout {
  const newNote = el(
    "button",
    { class: "new-note", type: "button", "data-testid": "new-note", title: "New note (Ctrl+N)" },
    "New note",
  );
  const search = el("input", {
    class: "search",
    type: "search",
    "data-testid": "note-search",
    placeholder: "Search notes",
    "aria-label": "Search notes",
  });
  const filter = el(
    "select",
    { class: "filter", "data-testid": "note-filter", "aria-label": "Show" },
    ...(
      [
        ["all", "All notes"],
        ["pending", "Not synced yet"],
        ["conflict", "To decide"],
      ] satisfies [NoteFilter, string][]
    ).map(([value, label]) => el("option", { value }, label)),
  );
  const notes = el("ul", { class: "notes", "data-testid": "notes" });
  const notesEmpty = el("p", { class: "empty", "data-testid": "note-list-empty" }, "No notes yet.");
  const nav = {
    conflicts: navButton("nav-conflicts", "Conflicts"),
    attention: navButton("nav-attention", "Needs attention"),
    trash: navButton("nav-trash", "Trash"),
    settings: navButton("nav-settings", "Settings"),
  };
  const noteList = el(
    "nav",
    { class: "note-list", "data-testid": "note-list", "aria-label": "Notes" },
    el("div", { class: "pane-head" }, el("h2", { class: "pane-title" }, "Notes"), newNote),
    el("div", { class: "finder" }, search, filter),
    el(
      "div",
      { class: "note-scroll" },
      notes,
      notesEmpty,
    ),
    el("div", { class: "views", role: "group", "aria-label": "Views" }, nav.conflicts, nav.attention, nav.trash, nav.settings),
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
  return { root, newNote, search, filter, notes, notesEmpty, editor, nav, statusLine };
}

/** Shows a count on a view's button ("Conflicts 2"), or none when zero. */
export function setNavCount(button: HTMLButtonElement, label: string, count: number): void {
  button.replaceChildren(
    label,
    ...(count > 0 ? [el("span", { class: "count", "aria-label": `${String(count)} waiting` }, String(count))] : []),
  );
}
