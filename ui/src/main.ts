import { App } from "./app";
import { buildLayout } from "./layout";

const mount = document.getElementById("app");
if (mount) {
  const layout = buildLayout();
  mount.replaceChildren(layout.root);
  void new App(layout).start();
}
