import type { Marked } from "../bindings/Marked";
import type { NoteId } from "../bindings/NoteId";
import type { NoteSummary } from "../bindings/NoteSummary";
import { el } from "../dom";
import { snippetElement } from "./search-results";

/** Which notes the list shows. */
export type NoteFilter = "all" | "pending" | "conflict";

/** A line of the list: a note, and when a search found it, the words around the match. */
export type NoteRow = NoteSummary & { snippet?: Marked[] };

/** Whether a note's sync state passes `filter`. */
export function passesFilter(note: { pending: boolean; conflict: boolean }, filter: NoteFilter): boolean {
  if (filter === "pending") return note.pending;
  if (filter === "conflict") return note.conflict;
  return true;
}

/** The notes whose title contains every word of `query` (any case) and that pass `filter`. */
export function filterNotes(notes: NoteSummary[], query: string, filter: NoteFilter): NoteSummary[] {
  const words = query.toLocaleLowerCase().split(/\s+/).filter((word) => word !== "");
  return notes.filter((note) => {
    if (!passesFilter(note, filter)) return false;
    const title = note.title.toLocaleLowerCase();
    return words.every((word) => title.includes(word));
  });
}

/** Lists up to this long are rendered whole; longer ones only around what is in view. */
export const WINDOWED_ABOVE = 200;
/** Rows rendered beyond each edge of the view, so scrolling never shows a gap. */
const OVERSCAN = 20;
/** Rows taken to be in view before the list has been laid out. */
const MIN_VISIBLE_ROWS = 40;

interface ListState {
  notes: NoteRow[];
  openId: NoteId | undefined;
  onOpen: (id: NoteId) => void;
  /** Measured from a rendered row; a guess until then. */
  rowHeight: number;
  scroller: HTMLElement;
}

const lists = new WeakMap<HTMLElement, ListState>();

function noteItem(note: NoteRow, index: number, total: number, state: ListState): HTMLElement {
  const button = el(
    "button",
    {
      class: "note-item",
      type: "button",
      "data-testid": "note-item",
      "data-note-id": note.id,
      "data-index": String(index),
    },
    el("span", { class: "note-title" }, note.title === "" ? "Untitled" : note.title),
  );
  const states: string[] = [];
  if (note.conflict) {
    button.append(
      el(
        "span",
        { class: "badge badge-conflict", "data-testid": "conflict-badge", title: "Changed on two devices: decide in Conflicts" },
        "decide",
      ),
    );
    states.push("changed on two devices");
  }
  if (note.pending) {
    button.append(el("span", { class: "badge", "data-testid": "pending-badge", title: "Not synced yet" }, "pending"));
    states.push("not synced yet");
  }
  if (note.snippet !== undefined) {
    button.classList.add("with-snippet");
    button.append(snippetElement(note.snippet));
  }
  if (states.length > 0) button.setAttribute("aria-description", states.join(", "));
  if (note.id === state.openId) button.setAttribute("aria-current", "true");
  button.addEventListener("click", () => {
    state.onOpen(note.id);
  });
  // Screen readers hear the whole list's size even when only part of it is rendered.
  return el("li", { "aria-setsize": String(total), "aria-posinset": String(index + 1) }, button);
}

function focusedIndex(list: HTMLElement): number | null {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !list.contains(active)) return null;
  const index = Number(active.dataset.index);
  return Number.isInteger(index) ? index : null;
}

function itemAt(list: HTMLElement, index: number): HTMLButtonElement | null {
  return list.querySelector<HTMLButtonElement>(`[data-testid="note-item"][data-index="${String(index)}"]`);
}

/** Renders the rows in and near the view (all of them for a short list), keeping focus. */
function renderWindow(list: HTMLElement, state: ListState): void {
  const { notes } = state;
  const focused = focusedIndex(list);
  let first = 0;
  let last = notes.length;
  if (notes.length > WINDOWED_ABOVE) {
    const offset = Math.max(0, state.scroller.scrollTop - list.offsetTop);
    const visible = Math.max(MIN_VISIBLE_ROWS, Math.ceil(state.scroller.clientHeight / state.rowHeight));
    first = Math.min(Math.max(0, Math.floor(offset / state.rowHeight) - OVERSCAN), notes.length);
    last = Math.min(notes.length, first + visible + 2 * OVERSCAN);
  }
  // Padding stands in for the rows not rendered, so the scrollbar is that of the whole list.
  list.style.paddingTop = first > 0 ? `${String(first * state.rowHeight)}px` : "";
  list.style.paddingBottom = last < notes.length ? `${String((notes.length - last) * state.rowHeight)}px` : "";
  list.replaceChildren(...notes.slice(first, last).map((note, i) => noteItem(note, first + i, notes.length, state)));
  if (focused !== null) itemAt(list, focused)?.focus({ preventScroll: true });
  const measured = list.firstElementChild?.getBoundingClientRect().height ?? 0;
  if (measured > 0 && Math.abs(measured - state.rowHeight) > 0.5) {
    state.rowHeight = measured;
    if (notes.length > WINDOWED_ABOVE) renderWindow(list, state);
  }
}

/**
 * Fills the note list: one button per note (with its snippet, for a search's hits), the open
 * one marked as current. A long list renders only the rows around the view (10,000 rows would
 * cost the window tens of MB).
 */
export function renderNoteList(
  list: HTMLElement,
  notes: NoteRow[],
  openId: NoteId | undefined,
  onOpen: (id: NoteId) => void,
): void {
  let state = lists.get(list);
  if (state === undefined) {
    const created: ListState = { notes, openId, onOpen, rowHeight: 32, scroller: list.parentElement ?? list };
    created.scroller.addEventListener("scroll", () => { renderWindow(list, created); });
    lists.set(list, created);
    state = created;
  }
  Object.assign(state, { notes, openId, onOpen });
  renderWindow(list, state);
}

/** Up and Down move between notes in the list, as in any list a person tabs into. */
export function listKeyboardNavigation(list: HTMLElement): void {
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const state = lists.get(list);
    const at = focusedIndex(list);
    if (state === undefined || at === null) return;
    const to = event.key === "ArrowDown" ? Math.min(at + 1, state.notes.length - 1) : Math.max(at - 1, 0);
    event.preventDefault();
    let next = itemAt(list, to);
    if (next === null) {
      // Beyond the rendered rows: bring that row into the middle of the view first.
      state.scroller.scrollTop = list.offsetTop + to * state.rowHeight - state.scroller.clientHeight / 2;
      renderWindow(list, state);
      next = itemAt(list, to);
    }
    next?.focus();
  });
}
