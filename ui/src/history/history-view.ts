import type { Note } from "../bindings/Note";
import type { VersionComparison } from "../bindings/VersionComparison";
import type { VersionInfo } from "../bindings/VersionInfo";
import { el } from "../dom";
import { spans } from "../side-text";

export interface HistoryActions {
  /** The chosen version beside the note now. */
  compare(version: number): Promise<VersionComparison>;
  restore(version: number): void;
  back(): void;
}

const kindLabels: Record<VersionInfo["kind"], string> = {
  whole: "Saved",
  edit: "Edited",
  deleted: "Moved to trash",
};

/** A version's time as the person reads it: "27 Nov 2026, 14:05:09" (versions come seconds apart). */
export function versionTime(at: number): string {
  return new Date(at).toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/**
 * A note's History: its versions by time and device (newest first) and, for the chosen
 * one, its text side by side with the note now (the conflict center's word marks), with
 * "Restore this version". A restore is an edit: it syncs like any other.
 */
export class HistoryView {
  private chosen: number | undefined;
  private readonly detail = el("div", { class: "history-detail", "data-testid": "history-detail" });

  constructor(
    private readonly pane: HTMLElement,
    private readonly actions: HistoryActions,
  ) {}

  show(note: Note, versions: VersionInfo[]): void {
    const back = el("button", { type: "button", "data-testid": "history-back" }, "Back to note");
    back.addEventListener("click", () => { this.actions.back(); });
    const list = el("ol", { class: "version-list", "data-testid": "versions", "aria-label": "Versions" });
    const items = versions.map((version, at) => {
      const current = at === 0;
      const button = el(
        "button",
        { type: "button", class: "version", "data-testid": "history-version", "data-version": String(version.version) },
        el("span", { class: "version-time" }, versionTime(version.at)),
        el(
          "span",
          { class: "muted" },
          `${kindLabels[version.kind]} · ${version.thisDevice ? "this device" : "another device"}${current ? " · latest on the server" : ""}`,
        ),
      );
      button.addEventListener("click", () => void this.choose(version, items));
      return button;
    });
    list.replaceChildren(...items.map((item) => el("li", {}, item)));
    this.detail.replaceChildren(
      el("p", { class: "empty" }, versions.length > 1 ? "Pick a version to compare it with the note now." : "This note has no earlier versions yet."),
    );
    this.pane.replaceChildren(
      el(
        "section",
        { class: "view history", "data-testid": "history", "aria-labelledby": "history-title" },
        el("div", { class: "history-head" }, el("h2", { class: "view-title", id: "history-title" }, `History of “${note.title}”`), back),
        el("div", { class: "history-body" }, list, this.detail),
      ),
    );
    const older = versions[1];
    if (older !== undefined) void this.choose(older, items);
  }

  private async choose(version: VersionInfo, items: HTMLButtonElement[]): Promise<void> {
    this.chosen = version.version;
    for (const item of items) {
      item.setAttribute("aria-pressed", String(item.dataset.version === String(version.version)));
    }
    this.detail.replaceChildren(el("p", { class: "muted" }, "Opening this version…"));
    try {
      const comparison = await this.actions.compare(version.version);
      if (this.chosen !== version.version) return;
      this.detail.replaceChildren(...this.render(version, comparison));
    } catch (reason) {
      this.detail.replaceChildren(
        el("p", { class: "error", role: "alert" }, reason instanceof Error ? reason.message : "Could not open this version."),
      );
    }
  }

  private render(version: VersionInfo, comparison: VersionComparison): HTMLElement[] {
    const rows = comparison.parts.map((part) =>
      part.kind === "merged"
        ? el("div", { class: "part merged" }, part.text)
        : el(
            "div",
            { class: "part conflict", "data-testid": "version-change" },
            el("div", { class: "side mine", "aria-label": "This version" }, spans(part.mineSpans)),
            el("div", { class: "side theirs", "aria-label": "Now" }, spans(part.theirsSpans)),
          ),
    );
    const same = comparison.parts.every((part) => part.kind === "merged") && comparison.old.title === comparison.currentTitle;
    const restore = el("button", { type: "button", class: "primary", "data-testid": "restore-version" }, "Restore this version");
    restore.addEventListener("click", () => {
      restore.setAttribute("disabled", "");
      this.actions.restore(version.version);
    });
    if (same) restore.setAttribute("disabled", "");
    const titles =
      comparison.old.title === comparison.currentTitle
        ? []
        : [el("p", { class: "muted" }, `Title then: ${comparison.old.title}`)];
    return [
      ...titles,
      el(
        "div",
        { class: "side-heads", "aria-hidden": "true" },
        el("span", {}, `${versionTime(version.at)}${comparison.old.deleted ? " (in the trash)" : ""}`),
        el("span", {}, "Now"),
      ),
      same
        ? el("p", { class: "muted", "data-testid": "version-same" }, "The same as the note now.")
        : el("div", { class: "parts" }, ...rows),
      el("div", { class: "actions" }, restore),
    ];
  }
}
