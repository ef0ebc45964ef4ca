import { beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "./api";
import type { SyncStatus } from "./bindings/SyncStatus";
import { buildLayout } from "./layout";
import { openAbout } from "./about";
import { describeSync, describeVault, renderStatusLine } from "./status-line";

function byTestId(root: HTMLElement, id: string): HTMLElement {
  const found = root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`no element with data-testid=${id}`);
  return found;
}

const localStatus: SyncStatus = {
  state: "local_only",
  pending: 3,
  conflicts: 0,
  needsAttention: 0,
  lastSyncAt: null,
  lastVerifiedAt: null,
  nextAttemptAt: null,
  error: null,
  lastReport: null,
};
const now = Date.UTC(2026, 10, 25, 12, 0, 0);

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
  const info = {
    version: "1.2.3",
    license: "MIT",
    dataDir: "/home/me/.local/share/quire",
    logDir: "/home/me/.local/share/quire/logs",
    suggestedServer: null,
  };

  it("shows sync state, pending count, data dir and version", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, { kind: "ready", info, sync: localStatus });
    expect(byTestId(statusLine, "status-text").textContent).toBe(
      "Local only · sync is not set up · 3 changes pending",
    );
    expect(byTestId(statusLine, "data-dir").textContent).toBe("/home/me/.local/share/quire");
    expect(byTestId(statusLine, "version").textContent).toBe("Quire 1.2.3");
  });

  it("shows a long vault pass's progress, and nothing once it is over", () => {
    const { statusLine } = buildLayout();
    const reading = { stage: "reading", done: 2500, total: 10000 } as const;
    renderStatusLine(statusLine, { kind: "ready", info, sync: localStatus, vault: reading });
    expect(byTestId(statusLine, "vault-progress").textContent).toBe(
      `Vault folder: ${(2500).toLocaleString()} of ${(10000).toLocaleString()} files read…`,
    );
    expect(describeVault({ stage: "writing", done: 0, total: 3 })).toBe("Vault folder: 0 of 3 files written…");
    const finished = { stage: "finished", done: 0, total: 0 } as const;
    renderStatusLine(statusLine, { kind: "ready", info, sync: localStatus, vault: finished });
    expect(statusLine.querySelector('[data-testid="vault-progress"]')).toBeNull();
  });

  // jsdom has no modal dialogs: these do what WebKit does, as far as the About box needs
  // (the e2e suite opens the real one).
  beforeAll(() => {
    HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
      this.setAttribute("open", "");
    };
    HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
      this.removeAttribute("open");
      this.dispatchEvent(new Event("close"));
    };
  });

  it("opens the About box from the version, with version, licence and folders", () => {
    const { statusLine } = buildLayout();
    const controls = { syncNow: () => undefined, pause: () => undefined, resume: () => undefined };
    renderStatusLine(statusLine, { kind: "ready", info, sync: localStatus }, {
      ...controls,
      about: () => { openAbout(info); },
    });
    byTestId(statusLine, "version").click();
    const about = byTestId(document.body, "about") as HTMLDialogElement;
    expect(about.open).toBe(true);
    expect(byTestId(about, "about-version").textContent).toBe("1.2.3");
    expect(byTestId(about, "about-license").textContent).toBe("MIT");
    expect(byTestId(about, "about-log-dir").textContent).toBe("/home/me/.local/share/quire/logs");
    expect(document.activeElement).toBe(byTestId(about, "about-close"));
    byTestId(about, "about-close").click();
    expect(document.querySelector("dialog.about")).toBeNull();
  });

  it("words the state and counts for people", () => {
    expect(describeSync({ ...localStatus, pending: 0 }, now)).toContain("nothing pending");
    expect(describeSync({ ...localStatus, pending: 1 }, now)).toContain("1 change pending");
    const offline: SyncStatus = { ...localStatus, state: "offline", nextAttemptAt: now + 30_000 };
    expect(describeSync(offline, now)).toBe("Offline · 3 changes pending · retrying in 30 s");
    const busy: SyncStatus = { ...localStatus, state: "idle", pending: 0, conflicts: 2, needsAttention: 1 };
    expect(describeSync(busy, now)).toBe("Up to date · nothing pending · 2 notes to decide · 1 change needs attention");
    expect(describeSync({ ...busy, conflicts: 0, needsAttention: 0, lastSyncAt: now }, now)).toMatch(
      /^Up to date · nothing pending · last synced \d/,
    );
    const verified = { ...busy, conflicts: 0, needsAttention: 0, lastSyncAt: now, lastVerifiedAt: now - 60 * 60_000 };
    expect(describeSync(verified, now)).toMatch(
      /^Up to date · nothing pending · last synced \d\d?:\d\d.* · verified equal to the server \d\d?:\d\d/,
    );
    // Checked by the same round: said once.
    expect(describeSync({ ...verified, lastVerifiedAt: now }, now)).toMatch(
      /^Up to date · nothing pending · last synced \d\d?:\d\d[^·]*, verified equal to the server$/,
    );
    // A check from another day says the day.
    const older = { ...verified, lastVerifiedAt: now - 3 * 24 * 60 * 60 * 1000 };
    expect(describeSync(older, now)).toMatch(/verified equal to the server (22 Nov|Nov 22)$/);
    // Never checked, or not syncing: nothing is claimed.
    expect(describeSync({ ...verified, lastVerifiedAt: null }, now)).not.toContain("verified");
    expect(describeSync({ ...verified, state: "local_only" }, now)).not.toContain("verified");
  });

  it("offers Sync now and Pause, and Retry with the reason when a round failed", () => {
    const calls: string[] = [];
    const controls = {
      syncNow: () => calls.push("sync"),
      pause: () => calls.push("pause"),
      resume: () => calls.push("resume"),
    };
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, { kind: "ready", info, sync: { ...localStatus, state: "idle" } }, controls, now);
    byTestId(statusLine, "sync-now").click();
    byTestId(statusLine, "pause-sync").click();
    expect(byTestId(statusLine, "sync-now").textContent).toBe("Sync now");

    const failed: SyncStatus = {
      ...localStatus,
      state: "offline",
      error: { code: "offline", message: "cannot reach the sync server http://127.0.0.1:9: connection refused" },
    };
    renderStatusLine(statusLine, { kind: "ready", info, sync: failed }, controls, now);
    expect(byTestId(statusLine, "sync-error").textContent).toContain("connection refused");
    expect(byTestId(statusLine, "sync-error").getAttribute("role")).toBe("alert");
    byTestId(statusLine, "sync-now").click();
    expect(byTestId(statusLine, "sync-now").textContent).toBe("Retry");

    renderStatusLine(statusLine, { kind: "ready", info, sync: { ...localStatus, state: "paused" } }, controls, now);
    expect(byTestId(statusLine, "pause-sync").textContent).toBe("Resume sync");
    byTestId(statusLine, "pause-sync").click();
    expect(calls).toEqual(["sync", "pause", "sync", "resume"]);
  });

  it("has no sync buttons while nothing is set up to sync", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, { kind: "ready", info, sync: localStatus }, {
      syncNow: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
    });
    expect(statusLine.querySelector('[data-testid="sync-now"]')).toBeNull();
  });

  it("shows a readable error as an alert", () => {
    const { statusLine } = buildLayout();
    renderStatusLine(statusLine, { kind: "failed", error: new ApiError("data_dir", "No data directory") });
    const text = byTestId(statusLine, "status-text");
    expect(text.textContent).toBe("No data directory");
    expect(text.getAttribute("role")).toBe("alert");
  });
});
