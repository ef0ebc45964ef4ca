import type { AppInfo } from "./bindings/AppInfo";
import type { SyncState } from "./bindings/SyncState";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { VaultProgress } from "./bindings/VaultProgress";
import type { ApiError } from "./api";
import { el } from "./dom";

/** What the status line shows: sync state and controls, or why the store cannot be used. */
export type StatusView =
  | { kind: "loading" }
  | { kind: "ready"; info: AppInfo; sync: SyncStatus; vault?: VaultProgress | null }
  | { kind: "failed"; error: ApiError };

/** What the status line's buttons do; the tray's "Sync now" and pause call the same code. */
export interface SyncControls {
  syncNow: () => void;
  pause: () => void;
  resume: () => void;
  /** Opens the settings to sign in, when nothing is set up yet. */
  setUp?: () => void;
  /** Opens the About box. */
  about?: () => void;
}

const stateLabels: Record<SyncState, string> = {
  local_only: "Local only · sync is not set up",
  idle: "Up to date",
  syncing: "Syncing…",
  offline: "Offline",
  paused: "Sync paused",
  sign_in_needed: "Sign in to sync",
  error: "Sync failed",
};

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function clockTime(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** The time for today, else the day: a check may be hours or days old on a quiet device. */
function when(at: number, now: number): string {
  const then = new Date(at);
  if (then.toDateString() === new Date(now).toDateString()) return clockTime(at);
  return then.toLocaleDateString([], { day: "numeric", month: "short" });
}

/** One line a person reads: the state, what waits, and when the next try or last sync was. */
export function describeSync(status: SyncStatus, now: number): string {
  const parts = [stateLabels[status.state]];
  parts.push(status.pending === 0 ? "nothing pending" : `${plural(status.pending, "change", "changes")} pending`);
  if (status.conflicts > 0) parts.push(`${plural(status.conflicts, "note", "notes")} to decide`);
  if (status.needsAttention > 0) parts.push(`${plural(status.needsAttention, "change needs", "changes need")} attention`);
  if ((status.state === "offline" || status.state === "error") && status.nextAttemptAt !== null) {
    const seconds = Math.max(0, Math.round((status.nextAttemptAt - now) / 1000));
    parts.push(seconds === 0 ? "retrying now" : `retrying in ${String(seconds)} s`);
  } else if (status.lastSyncAt !== null && status.state !== "local_only") {
    parts.push(`last synced ${clockTime(status.lastSyncAt)}`);
  }
  if (status.lastVerifiedAt !== null && status.state !== "local_only") {
    const verified = when(status.lastVerifiedAt, now);
    const synced = `last synced ${verified}`;
    // Checked by the same round: said once.
    if (parts[parts.length - 1] === synced) parts[parts.length - 1] = `${synced}, verified equal to the server`;
    else parts.push(`verified equal to the server ${verified}`);
  }
  return parts.join(" · ");
}

/** A long vault pass, as a person reads it; null once it is over. */
export function describeVault(progress: VaultProgress): string | null {
  if (progress.stage === "finished") return null;
  const done = progress.done.toLocaleString();
  const total = progress.total.toLocaleString();
  const verb = progress.stage === "reading" ? "read" : "written";
  return `Vault folder: ${done} of ${total} files ${verb}…`;
}

function vaultProgress(progress: VaultProgress | null | undefined): HTMLElement[] {
  const text = progress == null ? null : describeVault(progress);
  if (progress == null || text === null) return [];
  const bar = el("progress", { max: String(progress.total), value: String(progress.done), "aria-hidden": "true" });
  return [el("span", { class: "vault-progress", "data-testid": "vault-progress", role: "status" }, bar, text)];
}

function syncButtons(status: SyncStatus, controls: SyncControls): HTMLElement[] {
  if (status.state === "local_only" || status.state === "sign_in_needed") {
    const setUp = controls.setUp;
    if (setUp === undefined) return [];
    const button = el(
      "button",
      { type: "button", class: "link-button", "data-testid": "set-up-sync" },
      status.state === "local_only" ? "Set up sync" : "Sign in",
    );
    button.addEventListener("click", () => { setUp(); });
    return [button];
  }
  const failed = status.error !== null && status.state !== "syncing" && status.state !== "paused";
  const syncNow = el(
    "button",
    { type: "button", class: "link-button", "data-testid": "sync-now" },
    failed ? "Retry" : "Sync now",
  );
  if (status.state === "syncing") syncNow.setAttribute("disabled", "");
  syncNow.addEventListener("click", () => { controls.syncNow(); });
  const paused = status.state === "paused";
  const pause = el(
    "button",
    { type: "button", class: "link-button", "data-testid": "pause-sync" },
    paused ? "Resume sync" : "Pause sync",
  );
  pause.addEventListener("click", () => { if (paused) controls.resume(); else controls.pause(); });
  return [syncNow, pause];
}

function aboutButton(version: string, about?: () => void): HTMLElement {
  const label = `Quire ${version}`;
  if (!about) return el("span", { class: "version", "data-testid": "version" }, label);
  const button = el(
    "button",
    { type: "button", class: "version link-button", "data-testid": "version", title: "About Quire" },
    label,
  );
  button.addEventListener("click", about);
  return button;
}

export function renderStatusLine(target: HTMLElement, view: StatusView, controls?: SyncControls, now = Date.now()): void {
  switch (view.kind) {
    case "loading":
      target.replaceChildren(el("span", { "data-testid": "status-text" }, "Starting…"));
      break;
    case "ready": {
      const { sync } = view;
      const error =
        sync.error === null
          ? []
          : [el("span", { class: "error", "data-testid": "sync-error", role: "alert" }, sync.error.message)];
      target.replaceChildren(
        el("span", { class: `sync-dot state-${sync.state}`, "aria-hidden": "true" }),
        el(
          "span",
          {
            "data-testid": "status-text",
            "data-state": sync.state,
            title: "Verified: a check after a sync found this device holding exactly the notes the server holds",
          },
          describeSync(sync, now),
        ),
        ...error,
        ...vaultProgress(view.vault),
        ...(controls ? syncButtons(sync, controls) : []),
        // The outer span clips a long path with an ellipsis; the full path is its tooltip.
        el(
          "span",
          { class: "data-dir", title: view.info.dataDir },
          el("span", { "data-testid": "data-dir" }, view.info.dataDir),
        ),
        aboutButton(view.info.version, controls?.about),
      );
      break;
    }
    case "failed":
      target.replaceChildren(
        el("span", { class: "error", "data-testid": "status-text", role: "alert" }, view.error.message),
      );
      break;
  }
}
