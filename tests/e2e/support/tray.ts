// Drives the app's real tray menu the way a desktop panel does: libayatana-appindicator
// exports it on the session bus as com.canonical.dbusmenu; we read its layout and send
// "clicked" events to its items.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const MENU_INTERFACE = "com.canonical.dbusmenu";

async function gdbus(...args: string[]): Promise<string> {
  const { stdout } = await run("gdbus", args, { timeout: 10_000 });
  return stdout;
}

export interface TrayMenu {
  dest: string;
  path: string;
}

/** Finds the bus connection and object path where the tray menu is exported. */
export async function findTrayMenu(): Promise<TrayMenu | null> {
  const names = await gdbus(
    "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
    "--method", "org.freedesktop.DBus.ListNames",
  );
  for (const [, dest] of names.matchAll(/'(:\d+\.\d+)'/g)) {
    if (dest === undefined) continue;
    let tree: string;
    try {
      tree = await gdbus("introspect", "--session", "--dest", dest, "--object-path", "/", "--recurse");
    } catch {
      continue;
    }
    const menu = /node (\/org\/ayatana\/NotificationItem\/\S+\/Menu) \{/.exec(tree);
    if (menu?.[1] !== undefined) return { dest, path: menu[1] };
  }
  return null;
}

/** The menu's items, label to id, top to bottom. */
export async function trayItems(menu: TrayMenu): Promise<Map<string, number>> {
  const layout = await gdbus(
    "call", "--session", "--dest", menu.dest, "--object-path", menu.path,
    "--method", `${MENU_INTERFACE}.GetLayout`, "0", "int32 -1", "@as []",
  );
  const items = new Map<string, number>();
  for (const [, id, props] of layout.matchAll(/\((\d+), \{([^}]*)\}/g)) {
    const label = /'label': <'([^']*)'>/.exec(props ?? "")?.[1];
    if (label !== undefined && id !== undefined) items.set(label, Number(id));
  }
  return items;
}

/** Clicks the item with this label, as a panel does when a person picks it. */
export async function clickTrayItem(menu: TrayMenu, label: string): Promise<void> {
  const id = (await trayItems(menu)).get(label);
  if (id === undefined) throw new Error(`the tray menu has no "${label}"`);
  await gdbus(
    "call", "--session", "--dest", menu.dest, "--object-path", menu.path,
    "--method", `${MENU_INTERFACE}.Event`, String(id), "clicked", "<0>", "0",
  );
}
