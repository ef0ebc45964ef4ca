import type { NoteId } from "../bindings/NoteId";
import type { NoteSummary } from "../bindings/NoteSummary";
import { el } from "../dom";

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
        el("span", { class: "note-title" }, note.title),
      );
      if (note.pending) {
        button.append(
          el("span", { class: "badge", "data-testid": "pending-badge", title: "Not synced yet" }, "pending"),
        );
      }
      if (note.id === openId) button.setAttribute("aria-current", "true");
      button.addEventListener("click", () => {
        onOpen(note.id);
      });
      return el("li", {}, button);
    }),
  );
}
