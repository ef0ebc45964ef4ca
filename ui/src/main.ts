import { appInfo, toApiError } from "./api";
import { buildLayout } from "./layout";
import { renderStatusLine } from "./status-line";

async function start(mount: HTMLElement): Promise<void> {
  const layout = buildLayout();
  mount.replaceChildren(layout.root);
  renderStatusLine(layout.statusLine, { kind: "loading" });
  try {
    renderStatusLine(layout.statusLine, { kind: "ready", info: await appInfo() });
  } catch (reason) {
    renderStatusLine(layout.statusLine, { kind: "failed", error: toApiError(reason) });
  }
}

const mount = document.getElementById("app");
if (mount) {
  void start(mount);
}
