import { describe, expect, it } from "vitest";
import type { NoteSummary } from "../bindings/NoteSummary";
import type { VersionComparison } from "../bindings/VersionComparison";
import type { VersionInfo } from "../bindings/VersionInfo";
import { HistoryView } from "../history/history-view";
import { deletedWhen, renderTrash } from "./trash-view";

const DAY = 86_400_000;
const deleted = (id: string, title: string, updatedAt: number): NoteSummary => ({
  id,
  title,
  updatedAt,
  pending: false,
  conflict: false,
});

function byTestId<T extends HTMLElement>(root: HTMLElement, id: string): T[] {
  return Array.from(root.querySelectorAll<T>(`[data-testid="${id}"]`));
}

describe("trash", () => {
  it("lists deleted notes with when they went, restores, and deletes forever only once confirmed", () => {
    const pane = document.createElement("main");
    const asked: string[] = [];
    const now = 100 * DAY;
    renderTrash(pane, [deleted("a", "Diary", now - 3 * DAY), deleted("b", "List", now)], 30, {
      restore: (id) => asked.push(`restore ${id}`),
      purge: (id) => asked.push(`purge ${id}`),
    }, now);
    const items = byTestId(pane, "trash-item");
    expect(items.map((item) => item.textContent)).toEqual([
      expect.stringContaining("Deleted 3 days ago"),
      expect.stringContaining("Deleted today"),
    ]);
    expect(pane.textContent).toContain("30 days");
    byTestId<HTMLButtonElement>(pane, "restore-note")[0]?.click();
    byTestId<HTMLButtonElement>(pane, "purge-note")[1]?.click();
    expect(asked).toEqual(["restore a"]);
    expect(pane.textContent).toContain("cannot be undone");
    byTestId<HTMLButtonElement>(pane, "cancel-purge")[0]?.click();
    expect(byTestId(pane, "confirm-purge")).toHaveLength(0);
    byTestId<HTMLButtonElement>(pane, "purge-note")[1]?.click();
    byTestId<HTMLButtonElement>(pane, "confirm-purge")[0]?.click();
    expect(asked).toEqual(["restore a", "purge b"]);
  });

  it("says when it is empty and when it never empties itself", () => {
    const pane = document.createElement("main");
    renderTrash(pane, [], 0, { restore: () => undefined, purge: () => undefined });
    expect(byTestId(pane, "trash-empty")).toHaveLength(1);
    expect(pane.textContent).toContain("until you delete them forever");
    expect(deletedWhen(10 * DAY, 11 * DAY + 5)).toBe("yesterday");
  });
});

describe("history", () => {
  const versions: VersionInfo[] = [
    { version: 3, at: 3 * DAY, device: "d2", thisDevice: false, bytes: 100, kind: "edit" },
    { version: 2, at: 2 * DAY, device: "d1", thisDevice: true, bytes: 90, kind: "edit" },
    { version: 1, at: DAY, device: "d1", thisDevice: true, bytes: 400, kind: "whole" },
  ];
  const comparison = (version: number): VersionComparison => ({
    old: { version, title: "Plan", body: "old\n", deleted: false },
    currentTitle: "Plan",
    parts: [
      { kind: "merged", text: "same\n" },
      {
        kind: "conflict",
        base: "",
        mine: "old\n",
        theirs: "new\n",
        mineSpans: [{ text: "old", changed: true }, { text: "\n", changed: false }],
        theirsSpans: [{ text: "new", changed: true }, { text: "\n", changed: false }],
      },
    ],
  });

  it("lists versions by time and device, opens the one before the newest beside the note, and restores it", async () => {
    const pane = document.createElement("main");
    const asked: string[] = [];
    const view = new HistoryView(pane, {
      compare: (version) => {
        asked.push(`compare ${String(version)}`);
        return Promise.resolve(comparison(version));
      },
      restore: (version) => asked.push(`restore ${String(version)}`),
      back: () => asked.push("back"),
    });
    view.show({ id: "n", title: "Plan", body: "new\n", createdAt: 1, updatedAt: 1, deleted: false, version: 3 }, versions);
    await Promise.resolve();
    await Promise.resolve();
    const listed = byTestId(pane, "history-version");
    expect(listed.map((v) => v.textContent)).toEqual([
      expect.stringContaining("another device · latest on the server"),
      expect.stringContaining("Edited · this device"),
      expect.stringContaining("Saved · this device"),
    ]);
    expect(asked).toEqual(["compare 2"]);
    expect(listed[1]?.getAttribute("aria-pressed")).toBe("true");
    const change = byTestId(pane, "version-change")[0];
    expect(change?.querySelectorAll("mark")).toHaveLength(2);
    byTestId<HTMLButtonElement>(pane, "restore-version")[0]?.click();
    byTestId<HTMLButtonElement>(pane, "history-back")[0]?.click();
    expect(asked).toEqual(["compare 2", "restore 2", "back"]);
  });
});
