import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { buildLayout } from "./layout";
import { renderStatusLine } from "./status-line";

function byTestId(root: HTMLElement, id: string): HTMLElement {
  const found = root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`no element with data-testid=${id}`);
  return found;
}

describe("layout", () => {
  it("has a labelled note list, editor and status line", () => {
    const { root } = buildLayout();
    expect(byTestId(root, "note-list").getAttribute("aria-label")).toBe("Notes");
    expect(byTestId(root, "editor").getAttribute("aria-label")).toBe("Editor");
    expect(byTestId(root, "status-line").getAttribute("role")).toBe("status");
    expect(byTestId(root, "note-list-empty").textContent).toBe("No notes yet.");
  });
});

describe("status line", () => {
  it("shows where notes live and the version once the app answered", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, {
      kind: "ready",
      info: { version: "1.2.3", dataDir: "/home/me/.local/share/quire" },
    });
    expect(byTestId(statusLine, "data-dir").textContent).toBe("/home/me/.local/share/quire");
    expect(byTestId(statusLine, "version").textContent).toBe("Quire 1.2.3");
    expect(byTestId(statusLine, "status-text").textContent).toContain("sync is not set up");
  });

  it("shows a readable error as an alert", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, { kind: "failed", error: new ApiError("data_dir", "No data directory") });
    const text = byTestId(statusLine, "status-text");
    expect(text.textContent).toBe("No data directory");
    expect(text.getAttribute("role")).toBe("alert");
  });
});
