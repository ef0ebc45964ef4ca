import type { AppInfo } from "./bindings/AppInfo";
import type { StoreStatus } from "./bindings/StoreStatus";
import type { ApiError } from "./api";
import { el } from "./dom";

/** What the status line shows: the store's state, or why it cannot be used. */
export type StatusView =
  | { kind: "loading" }
  | { kind: "ready"; info: AppInfo; status: StoreStatus }
  | { kind: "failed"; error: ApiError };

export function describeSync(status: StoreStatus): string {
  const pending =
    status.pendingOps === 0
      ? "nothing pending"
      : `${status.pendingOps} ${status.pendingOps === 1 ? "change" : "changes"} pending`;
  const where = status.server === null ? "Local only · sync is not set up" : `Sync server ${status.server}`;
  return `${where} · ${pending}`;
}

export function renderStatusLine(target: HTMLElement, view: StatusView): void {
  switch (view.kind) {
    case "loading":
      target.replaceChildren(el("span", { "data-testid": "status-text" }, "Starting…"));
      break;
    case "ready":
      target.replaceChildren(
        el("span", { "data-testid": "status-text" }, describeSync(view.status)),
        // The outer span clips a long path with an ellipsis; the full path is its tooltip.
        el(
          "span",
          { class: "data-dir", title: view.info.dataDir },
          el("span", { "data-testid": "data-dir" }, view.info.dataDir),
        ),
        el("span", { class: "version", "data-testid": "version" }, `Quire ${view.info.version}`),
      );
      break;
    case "failed":
      target.replaceChildren(
        el("span", { class: "error", "data-testid": "status-text", role: "alert" }, view.error.message),
      );
      break;
  }
}
