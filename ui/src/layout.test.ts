import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import type { StoreStatus } from "./bindings/StoreStatus";
import { buildLayout } from "./layout";
import { describeSync, renderStatusLine } from "./status-line";

function byTestId(root: HTMLElement, id: string): HTMLElement {
  const found = root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`no element with data-testid=${id}`);
  return found;
}

const localStatus: StoreStatus = {
  deviceId: "0190b5a4-7c1e-7c3a-9a52-3f4f2b7c1d10",
  notes: 2,
  pendingOps: 3,
  openConflicts: 0,
  server: null,
  lastSyncAt: null,
};

describe("layout", () => {
  it("has a labelled note list, editor and status line", () => {
    const { root } = buildLayout();
    expect(byTestId(root, "note-list").getAttribute("aria-label")).toBe("Notes");
    expect(byTestId(root, "editor").getAttribute("aria-label")).toBe("Editor");
    expect(byTestId(root, "status-line").getAttribute("role")).toBe("status");
    expect(byTestId(root, "note-list-empty").textContent).toBe("No notes yet.");
    expect(byTestId(root, "new-note").textContent).toBe("New note");
  });
});

describe("status line", () => {
  it("shows sync state, pending count, data dir and version", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, {
      kind: "ready",
      info: { version: "1.2.3", dataDir: "/home/me/.local/share/quire" },
      status: localStatus,
    });
    expect(byTestId(statusLine, "status-text").textContent).toBe(
      "Local only · sync is not set up · 3 changes pending",
    );
    expect(byTestId(statusLine, "data-dir").textContent).toBe("/home/me/.local/share/quire");
    expect(byTestId(statusLine, "version").textContent).toBe("Quire 1.2.3");
  });

  it("words the pending count for people", () => {
    expect(describeSync({ ...localStatus, pendingOps: 0 })).toContain("nothing pending");
    expect(describeSync({ ...localStatus, pendingOps: 1 })).toContain("1 change pending");
    expect(describeSync({ ...localStatus, server: "https://sync.example" })).toMatch(/^Sync server https:\/\/sync\.example/);
  });

  it("shows a readable error as an alert", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, { kind: "failed", error: new ApiError("data_dir", "No data directory") });
    const text = byTestId(statusLine, "status-text");
    expect(text.textContent).toBe("No data directory");
    expect(text.getAttribute("role")).toBe("alert");
  });
});
