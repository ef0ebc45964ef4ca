import type { AppInfo } from "./bindings/AppInfo";
import type { ApiError } from "./api";
import { el } from "./dom";

/** What the status line can show before sync exists: where notes live, or why it cannot tell. */
export type StatusView =
  | { kind: "loading" }
  | { kind: "ready"; info: AppInfo }
  | { kind: "failed"; error: ApiError };

export function renderStatusLine(target: HTMLElement, view: StatusView): void {
  switch (view.kind) {
    case "loading":
      target.replaceChildren(el("span", { "data-testid": "status-text" }, "Starting…"));
      break;
    case "ready":
      target.replaceChildren(
        el("span", { "data-testid": "status-text" }, "Local only · sync is not set up"),
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
