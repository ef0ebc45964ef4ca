// The real tray menu, clicked over D-Bus the way a desktop panel clicks it: it shows the
// sync state, pauses and resumes sync, and "Sync now" runs a round.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Note } from "../../ui/src/bindings/Note.ts";
import { byTestId, launchApp, noteTitles, type Browser } from "./support/app.ts";
import { twoDevices } from "./support/cli.ts";
import { useSyncServer } from "./support/server.ts";
import { clickTrayItem, findTrayMenu, trayItems, type TrayMenu } from "./support/tray.ts";

const password = "long enough pw";

async function waitForMenu(browser: Browser): Promise<TrayMenu> {
  const found: TrayMenu[] = [];
  await browser.waitUntil(
    async () => {
      const menu = await findTrayMenu();
      if (menu !== null) found.push(menu);
      return menu !== null;
    },
    { timeout: 15_000, timeoutMsg: "the app exported no tray menu on the session bus" },
  );
  const [menu] = found;
  if (menu === undefined) throw new Error("no tray menu");
  return menu;
}

describe("the tray menu", () => {
  const fixture = useSyncServer("tray");

  it("shows the state, pauses and resumes, and Sync now runs a round", async () => {
    const { root, server } = fixture;
    const { laptop, phone, cli } = await twoDevices(root, server.url, "tray", password);

    const app = await launchApp({ dataDir: laptop });
    try {
      const { browser } = app;
      const status = byTestId(browser, "status-text");
      await browser.waitUntil(async () => (await status.getText()).startsWith("Up to date"), {
        timeout: 20_000,
        timeoutMsg: "the first round never finished",
      });
      const menu = await waitForMenu(browser);
      const labels = () => trayItems(menu).then((items) => [...items.keys()]);
      await browser.waitUntil(async () => (await labels())[0]?.startsWith("Up to date") ?? false, {
        timeout: 10_000,
        timeoutMsg: "the tray's status item never said up to date",
      });
      assert.deepEqual((await labels()).slice(1), ["Sync now", "Pause sync", "Show conflicts", "Open Quire", "Quit"]);

      await clickTrayItem(menu, "Pause sync");
      await browser.waitUntil(async () => (await status.getText()).startsWith("Sync paused"), {
        timeout: 10_000,
        timeoutMsg: "pausing from the tray did not reach the window",
      });
      await browser.waitUntil(async () => (await labels()).includes("Resume sync"), {
        timeout: 10_000,
        timeoutMsg: "the tray never offered Resume sync",
      });

      // A note from the other device arrives when the tray's "Sync now" is clicked.
      await cli<Note>(phone, ["note", "add", "--title", "From the phone"], "hello\n");
      await cli(phone, ["sync"]);
      await clickTrayItem(menu, "Sync now");
      await browser.waitUntil(
        async () => (await noteTitles(browser)).includes("From the phone"),
        { timeout: 15_000, timeoutMsg: "Sync now from the tray brought nothing" },
      );

      await clickTrayItem(menu, "Resume sync");
      await browser.waitUntil(async () => (await status.getText()).startsWith("Up to date"), {
        timeout: 10_000,
        timeoutMsg: "resuming from the tray did not reach the window",
      });
      assert.ok((await labels()).includes("Pause sync"));
    } finally {
      await app.close();
    }
  });
});
