import type { NoteId } from "../bindings/NoteId";
import type { NoteSummary } from "../bindings/NoteSummary";
import { el } from "../dom";

export interface TrashActions {
  restore(id: NoteId): void;
  purge(id: NoteId): void;
}

/** "3 days ago", "today": when a note went to the trash, in words. */
export function deletedWhen(at: number, now: number): string {
  const days = Math.floor((now - at) / 86_400_000);
  if (days <= 0) return "today";
  if (days === 1) return "yesterday";
  return `${String(days)} days ago`;
}

/**
 * Trash: deleted notes, newest first, each with Restore and "Delete forever" (asked once,
 * in place). Notes left here longer than the trash-days setting are deleted forever by
 * the next sync.
 */
export function renderTrash(
  pane: HTMLElement,
  notes: NoteSummary[],
  trashDays: number,
  actions: TrashActions,
  now: number = Date.now(),
): void {
  const items = notes.map((note) => {
    const restore = el("button", { type: "button", "data-testid": "restore-note" }, "Restore");
    restore.addEventListener("click", () => { actions.restore(note.id); });
    const forever = el("button", { type: "button", class: "link-button danger-link", "data-testid": "purge-note" }, "Delete forever");
    const actionsArea = el("div", { class: "trash-actions" }, restore, forever);
    forever.addEventListener("click", () => {
      const confirm = el("button", { type: "button", class: "danger", "data-testid": "confirm-purge" }, "Delete forever");
      const cancel = el("button", { type: "button", "data-testid": "cancel-purge" }, "Cancel");
      confirm.addEventListener("click", () => { actions.purge(note.id); });
      cancel.addEventListener("click", () => { actionsArea.replaceChildren(restore, forever); });
      actionsArea.replaceChildren(
        el("span", { role: "alert" }, "Delete forever, on every device? This cannot be undone."),
        confirm,
        cancel,
      );
      cancel.focus();
    });
    return el(
      "li",
      { class: "trash-item", "data-testid": "trash-item" },
      el(
        "div",
        { class: "trash-what" },
        el("span", { class: "trash-title" }, note.title),
        el("span", { class: "muted" }, `Deleted ${deletedWhen(note.updatedAt, now)}`),
      ),
      actionsArea,
    );
  });
  const hint =
    trashDays > 0
      ? `Deleted notes stay here for ${String(trashDays)} days, then they are deleted forever. Change this in Settings.`
      : "Deleted notes stay here until you delete them forever.";
  pane.replaceChildren(
    el(
      "section",
      { class: "view trash", "data-testid": "trash", "aria-labelledby": "trash-title" },
      el("h2", { class: "view-title", id: "trash-title" }, "Trash"),
      el("p", { class: "hint" }, hint),
      items.length === 0
        ? el("p", { class: "empty", "data-testid": "trash-empty" }, "The trash is empty.")
        : el("ul", { class: "trash-list" }, ...items),
    ),
  );
}
