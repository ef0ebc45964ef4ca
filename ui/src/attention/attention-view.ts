import type { OpId } from "../bindings/OpId";
import type { SetAside } from "../bindings/SetAside";
import type { UnreadableNote } from "../bindings/UnreadableNote";
import type { VaultProblem } from "../bindings/VaultProblem";
import { el } from "../dom";

/**
 * "Needs attention": changes the server refused, with its reason and the text that was
 * refused (select and copy it), until the person dismisses them; notes from the server that
 * failed their encryption check (until they open); vault files that could not be taken in.
 */
export function renderAttention(
  pane: HTMLElement,
  items: SetAside[],
  dismiss: (id: OpId) => void,
  vaultProblems: VaultProblem[] = [],
  unreadable: UnreadableNote[] = [],
): void {
  const sealed = unreadable.map((note) =>
    el(
      "li",
      { class: "attention-item", "data-testid": "unreadable-note" },
      el("p", { class: "attention-what" }, `“${note.title ?? "A note"}” from the server could not be read`),
      el("p", { class: "error" }, note.reason),
      el(
        "p",
        { class: "hint" },
        "Nothing of it was applied: this device keeps its own copy, and Quire fetches the note again at every sync.",
      ),
    ),
  );
  const files = vaultProblems.map((problem) =>
    el(
      "li",
      { class: "attention-item", "data-testid": "vault-problem" },
      el("p", { class: "attention-what" }, problem.file === "" ? "The vault folder" : `Vault file “${problem.file}”`),
      el("p", { class: "error" }, problem.reason),
    ),
  );
  const list = items.map((item) => {
    const button = el("button", { type: "button", "data-testid": "dismiss-attention" }, "Dismiss");
    button.addEventListener("click", () => { dismiss(item.opId); });
    return el(
      "li",
      { class: "attention-item", "data-testid": "attention-item" },
      el("p", { class: "attention-what" }, `${item.kind} of “${item.title ?? "a note"}”`),
      el("p", { class: "error", "data-testid": "attention-reason" }, item.reason),
      ...(item.body === null ? [] : [el("pre", { class: "attention-body", tabindex: "0" }, item.body)]),
      button,
    );
  });
  pane.replaceChildren(
    el(
      "section",
      { class: "view attention", "data-testid": "attention", "aria-labelledby": "attention-title" },
      el("h2", { class: "view-title", id: "attention-title" }, "Needs attention"),
      items.length + files.length + sealed.length === 0
        ? el("p", { class: "empty" }, "Nothing here: the server took every change.")
        : el("ul", { class: "attention-list" }, ...list, ...sealed, ...files),
    ),
  );
}
