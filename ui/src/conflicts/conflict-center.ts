import type { ConflictView } from "../bindings/ConflictView";
import type { NoteId } from "../bindings/NoteId";
import { el } from "../dom";
import { spans } from "../side-text";
import { type Choice, composeMerged, conflictCount } from "./compose";

export interface ConflictActions {
  resolve(id: NoteId, body: string): Promise<void>;
}

const choiceLabels: Record<Choice, string> = { mine: "Take mine", theirs: "Take theirs", both: "Take both" };

/**
 * The conflict center: the notes changed on two devices, and for one of them both texts
 * side by side (this device left, the other right) with the differing words marked. The
 * person picks a side per part, or both, or edits the merged text, then resolves.
 */
export class ConflictCenter {
  private conflicts: ConflictView[] = [];
  private current: ConflictView | undefined;
  private choices: Choice[] = [];

  constructor(
    private readonly pane: HTMLElement,
    private readonly actions: ConflictActions,
    private readonly onResolved: (id: NoteId) => void,
  ) {}

  show(conflicts: ConflictView[], focus?: NoteId): void {
    // A sync round finishing while the person decides must not undo their choices.
    const current = this.current;
    const unchanged =
      focus === undefined &&
      current !== undefined &&
      conflicts.length === this.conflicts.length &&
      conflicts.some((c) => c.noteId === current.noteId && c.createdAt === current.createdAt) &&
      this.pane.querySelector('[data-testid="conflict-center"]') !== null;
    this.conflicts = conflicts;
    if (unchanged) return;
    const pick = conflicts.find((c) => c.noteId === (focus ?? this.current?.noteId)) ?? conflicts[0];
    this.select(pick);
  }

  private select(conflict: ConflictView | undefined): void {
    this.current = conflict;
    this.choices = conflict ? Array.from({ length: conflictCount(conflict.parts) }, (): Choice => "mine") : [];
    this.render();
  }

  private render(): void {
    const heading = el("h2", { class: "view-title", id: "conflicts-title" }, "Conflicts");
    if (this.current === undefined) {
      this.pane.replaceChildren(
        el(
          "section",
          { class: "view conflict-center", "data-testid": "conflict-center", "aria-labelledby": "conflicts-title" },
          heading,
          el("p", { class: "empty", "data-testid": "no-conflicts" }, "Nothing to decide: every note agrees on all devices."),
        ),
      );
      return;
    }
    const tabs = el(
      "div",
      { class: "conflict-tabs", role: "tablist", "aria-label": "Notes to decide" },
      ...this.conflicts.map((conflict) => {
        const tab = el(
          "button",
          {
            type: "button",
            role: "tab",
            class: "conflict-tab",
            "data-testid": "conflict-item",
            "aria-selected": String(conflict.noteId === this.current?.noteId),
          },
          conflict.mineTitle === "" ? "Untitled" : conflict.mineTitle,
        );
        tab.addEventListener("click", () => {
          this.select(conflict);
        });
        return tab;
      }),
    );
    this.pane.replaceChildren(
      el(
        "section",
        { class: "view conflict-center", "data-testid": "conflict-center", "aria-labelledby": "conflicts-title" },
        heading,
        tabs,
        this.detail(this.current),
      ),
    );
  }

  private detail(conflict: ConflictView): HTMLElement {
    const merged = el("textarea", {
      class: "merged-text",
      "data-testid": "merged-text",
      id: "merged-text",
      spellcheck: "true",
    });
    merged.value = composeMerged(conflict.parts, this.choices);
    const rows: HTMLElement[] = [];
    let index = 0;
    for (const part of conflict.parts) {
      if (part.kind === "merged") {
        rows.push(el("div", { class: "part merged", "data-testid": "merged-part", title: "The same on both devices, or changed on one only" }, part.text));
        continue;
      }
      const at = index;
      index += 1;
      const buttons = (["mine", "theirs", "both"] as const).map((choice) => {
        const button = el(
          "button",
          {
            type: "button",
            class: "choice",
            "data-testid": `take-${choice}`,
            "aria-pressed": String(this.choices[at] === choice),
          },
          choiceLabels[choice],
        );
        button.addEventListener("click", () => {
          this.choices[at] = choice;
          merged.value = composeMerged(conflict.parts, this.choices);
          for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
        });
        return button;
      });
      rows.push(
        el(
          "div",
          { class: "part conflict", "data-testid": "conflict-part", role: "group", "aria-label": `Difference ${String(at + 1)}` },
          el("div", { class: "side mine", "data-testid": "mine-side", "aria-label": "This device" }, spans(part.mineSpans)),
          el("div", { class: "side theirs", "data-testid": "theirs-side", "aria-label": "Other device" }, spans(part.theirsSpans)),
          el("div", { class: "choices" }, ...buttons),
        ),
      );
    }
    const resolve = el("button", { type: "button", class: "primary", "data-testid": "resolve" }, "Resolve");
    const problem = el("p", { class: "error", role: "alert", "data-testid": "resolve-error" });
    resolve.addEventListener("click", () => {
      resolve.setAttribute("disabled", "");
      this.actions.resolve(conflict.noteId, merged.value).then(
        () => {
          this.onResolved(conflict.noteId);
        },
        (reason: unknown) => {
          resolve.removeAttribute("disabled");
          problem.textContent = reason instanceof Error ? reason.message : "Could not resolve.";
        },
      );
    });
    const titles =
      conflict.mineTitle === conflict.theirsTitle
        ? []
        : [el("p", { class: "muted" }, `Title on the other device: ${conflict.theirsTitle}`)];
    return el(
      "div",
      { class: "conflict-detail" },
      el("h3", { class: "conflict-note-title", "data-testid": "conflict-title" }, conflict.mineTitle),
      ...titles,
      el(
        "div",
        { class: "side-heads", "aria-hidden": "true" },
        el("span", {}, "This device"),
        el("span", {}, "Other device"),
      ),
      el("div", { class: "parts" }, ...rows),
      el("label", { for: "merged-text", class: "merged-label" }, "Merged text (edit it if you like)"),
      merged,
      el("div", { class: "actions" }, resolve, problem),
    );
  }
}
