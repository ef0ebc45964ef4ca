import type { NoteId } from "../bindings/NoteId";
import type { NoteSummary } from "../bindings/NoteSummary";
import { el } from "../dom";

/** Which notes the list shows. */
export type NoteFilter = "all" | "pending" | "conflict";

/** The notes whose title contains every word of `query` (any case) and that pass `filter`. */
export function filterNotes(notes: NoteSummary[], query: string, filter: NoteFilter): NoteSummary[] {
  const words = query.toLocaleLowerCase().split(/\s+/).filter((word) => word !== "");
  return notes.filter((note) => {
    if (filter === "pending" && !note.pending) return false;
    if (filter === "conflict" && !note.conflict) return false;
    const title = note.title.toLocaleLowerCase();
    return words.every((word) => title.includes(word));
  });
}

/** Fills the note list: one button per note, the open one marked as current. */
export function renderNoteList(
  list: HTMLElement,
  notes: NoteSummary[],
  openId: NoteId | undefined,
  onOpen: (id: NoteId) => void,
): void {
  list.replaceChildren(
    ...notes.map((note) => {
      const button = el(
        "button",
        { class: "note-item", type: "button", "data-testid": "note-item", "data-note-id": note.id },
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
        button.append(
          el("span", { class: "badge", "data-testid": "pending-badge", title: "Not synced yet" }, "pending"),
        );
        states.push("not synced yet");
      }
      if (states.length > 0) button.setAttribute("aria-description", states.join(", "));
      if (note.id === openId) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => {
        onOpen(note.id);
      });
      return el("li", {}, button);
    }),
  );
}

/** Up and Down move between notes in the list, as in any list a person tabs into. */
export function listKeyboardNavigation(list: HTMLElement): void {
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const items = [...list.querySelectorAll<HTMLButtonElement>('[data-testid="note-item"]')];
    const at = items.findIndex((item) => item === document.activeElement);
    if (at === -1) return;
    const next = items[event.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : Math.max(at - 1, 0)];
    next?.focus();
    event.preventDefault();
  });
}
