import type { AppInfo } from "./bindings/AppInfo";
import { el } from "./dom";

function fact(label: string, value: string, testId: string): HTMLElement[] {
  return [el("dt", {}, label), el("dd", { "data-testid": testId }, value)];
}

/** The About box: what this is, which version, where its notes and logs are. */
export function openAbout(info: AppInfo, host: HTMLElement = document.body): HTMLDialogElement {
  host.querySelector("dialog.about")?.remove();
  const close = el("button", { type: "button", "data-testid": "about-close" }, "Close");
  const dialog = el(
    "dialog",
    { class: "about", "aria-labelledby": "about-title", "data-testid": "about" },
    el("h2", { id: "about-title" }, "Quire"),
    el("p", {}, "Offline-first notes that sync in the background."),
    el(
      "dl",
      {},
      ...fact("Version", info.version, "about-version"),
      ...fact("Licence", info.license, "about-license"),
      ...fact("Notes", info.dataDir, "about-data-dir"),
      ...fact("Logs", info.logDir, "about-log-dir"),
    ),
    el("div", { class: "actions" }, close),
  );
  close.addEventListener("click", () => { dialog.close(); });
  dialog.addEventListener("close", () => { dialog.remove(); });
  host.append(dialog);
  dialog.showModal();
  close.focus();
  return dialog;
}
