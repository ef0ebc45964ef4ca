import { describe, expect, it } from "vitest";
import type { ConflictView } from "../bindings/ConflictView";
import type { Part } from "../bindings/Part";
import { composeMerged } from "./compose";
import { ConflictCenter } from "./conflict-center";

const parts: Part[] = [
  { kind: "merged", text: "title\n" },
  {
    kind: "conflict",
    base: "meet monday\n",
    mine: "meet tuesday\n",
    theirs: "meet friday\n",
    mineSpans: [{ text: "meet ", changed: false }, { text: "tuesday", changed: true }, { text: "\n", changed: false }],
    theirsSpans: [{ text: "meet ", changed: false }, { text: "friday", changed: true }, { text: "\n", changed: false }],
  },
  { kind: "merged", text: "end\n" },
  {
    kind: "conflict",
    base: "a",
    mine: "b",
    theirs: "c",
    mineSpans: [{ text: "b", changed: true }],
    theirsSpans: [{ text: "c", changed: true }],
  },
];

describe("composing the merged text", () => {
  it("takes each conflict as chosen and keeps merged parts", () => {
    expect(composeMerged(parts, ["mine", "theirs"])).toBe("title\nmeet tuesday\nend\nc");
    expect(composeMerged(parts, ["theirs", "mine"])).toBe("title\nmeet friday\nend\nb");
    expect(composeMerged(parts, ["both", "both"])).toBe("title\nmeet tuesday\nmeet friday\nend\nb\nc");
    expect(composeMerged(parts, [])).toBe("title\nmeet tuesday\nend\nb");
  });
});

describe("conflict center", () => {
  const view: ConflictView = { noteId: "n1", mineTitle: "Plan", theirsTitle: "Plan", parts, createdAt: 1 };

  it("shows both sides with the differing words marked, and resolves with the choices", async () => {
    const pane = document.createElement("main");
    const resolved: [string, string][] = [];
    const done: string[] = [];
    const center = new ConflictCenter(
      pane,
      {
        resolve: (id, body) => {
          resolved.push([id, body]);
          return Promise.resolve();
        },
      },
      (id) => done.push(id),
    );
    center.show([view]);
    const marks = (side: string) =>
      [...pane.querySelectorAll(`[data-testid="${side}"] mark`)].map((mark) => mark.textContent);
    expect(marks("mine-side")).toEqual(["tuesday", "b"]);
    expect(marks("theirs-side")).toEqual(["friday", "c"]);
    expect(pane.querySelectorAll('[data-testid="merged-part"]')).toHaveLength(2);

    const firstTheirs = pane.querySelector<HTMLButtonElement>('[data-testid="take-theirs"]');
    firstTheirs?.click();
    expect(firstTheirs?.getAttribute("aria-pressed")).toBe("true");
    const merged = pane.querySelector<HTMLTextAreaElement>('[data-testid="merged-text"]');
    expect(merged?.value).toBe("title\nmeet friday\nend\nb");

    // A sync round that brings the same conflict again keeps what the person chose.
    center.show([view]);
    expect(pane.querySelector('[data-testid="take-theirs"]')?.getAttribute("aria-pressed")).toBe("true");

    if (merged) merged.value = "edited by hand\n";
    pane.querySelector<HTMLButtonElement>('[data-testid="resolve"]')?.click();
    await Promise.resolve();
    expect(resolved).toEqual([["n1", "edited by hand\n"]]);
    expect(done).toEqual(["n1"]);
  });

  it("says so when there is nothing to decide", () => {
    const pane = document.createElement("main");
    new ConflictCenter(pane, { resolve: () => Promise.resolve() }, () => undefined).show([]);
    expect(pane.querySelector('[data-testid="no-conflicts"]')?.textContent).toContain("Nothing to decide");
  });
});
