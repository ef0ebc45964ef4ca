// Closing the window with and without a panel that hosts tray icons: with one, Quire stays
// in the tray and keeps syncing; without one (or once it goes), the window is never lost.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import type { NoteSummary } from "../../ui/src/bindings/NoteSummary.ts";
import { appProcessesOn, byTestId, launchApp, type Browser, type RunningApp } from "./support/app.ts";
import { quireJson, twoDevices } from "./support/cli.ts";
import { NotificationServer, requestClose, TrayHost, windowShown } from "./support/desktop.ts";
import { useSyncServer } from "./support/server.ts";
import { clickTrayItem, findTrayMenu } from "./support/tray.ts";

const password = "long enough pw";

async function until(browser: Browser, what: string, check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  await browser.waitUntil(check, { timeout, interval: 200, timeoutMsg: `timed out: ${what}` });
}

/** Ends the test's session whether or not the app is still there to end it. */
async function closeQuietly(app: RunningApp): Promise<void> {
  try {
    await app.close();
  } catch {
    // The app quit by itself, as the test wanted.
  }
}

describe("closing the window", () => {
  const fixture = useSyncServer("tray-host");

  it("with a tray host hides it, sync goes on, and the tray or a vanished host brings it back", async () => {
    const { root, server } = fixture;
    const { laptop, phone, cli } = await twoDevices(root, server.url, "trayhost", password);
    await cli(laptop, ["config", "set", "sync-interval", "5"]);
    const host = await TrayHost.start(true);
    const desktop = await NotificationServer.start({ actions: true });
    const told = () => desktop.calls.filter((call) => call.summary === "Quire is still running");
    const app = await launchApp({ dataDir: laptop });
    try {
      const { browser } = app;
      await byTestId(browser, "version").waitForExist({ timeout: 10_000 });
      await until(browser, "the window is on screen", () => windowShown());

      await requestClose();
      await until(browser, "the window hides", async () => !(await windowShown()));
      assert.equal((await appProcessesOn(laptop)).length, 1, "Quire keeps running in the tray");
      await until(browser, "the person is told where Quit is", () => Promise.resolve(told().length === 1));
      assert.match(told()[0]?.body ?? "", /Quit/);

      // Written on another device while the window is closed: the laptop's store gets it.
      await cli(phone, ["note", "add", "--title", "While the window was closed"], "from the phone");
      await cli(phone, ["sync"]);
      await until(browser, "the hidden app pulled the phone's note", async () => {
        const notes = await cli<NoteSummary[]>(laptop, ["note", "list"]);
        return notes.some((note) => note.title === "While the window was closed");
      }, 30_000);

      const menu = await findTrayMenu();
      assert.ok(menu, "the tray menu is on the bus");
      await clickTrayItem(menu, "Open Quire");
      await until(browser, "Open Quire shows the window", () => windowShown());

      // Hidden again, then the panel goes away: the window must not be lost with it.
      await requestClose();
      await until(browser, "the window hides again", async () => !(await windowShown()));
      await host.setHost(false);
      await until(browser, "the window comes back when the tray goes", () => windowShown());
      assert.equal(told().length, 1, "told once, not at every close");

      // No host now: closing quits.
      await requestClose();
      await until(browser, "the app quits", async () => (await appProcessesOn(laptop)).length === 0);
    } finally {
      await closeQuietly(app);
      await host.stop();
      await desktop.stop();
    }
  });

  it("with the setting off, or without any tray host, quits", async () => {
    const { root, server } = fixture;
    const { laptop, cli } = await twoDevices(root, server.url, "trayoff", password);
    await cli(laptop, ["config", "set", "keep-in-tray", "false"]);
    const host = await TrayHost.start(true);
    const app = await launchApp({ dataDir: laptop });
    try {
      const { browser } = app;
      await byTestId(browser, "version").waitForExist({ timeout: 10_000 });
      await until(browser, "the window is on screen", () => windowShown());
      await requestClose();
      await until(browser, "the app quits", async () => (await appProcessesOn(laptop)).length === 0);
    } finally {
      await closeQuietly(app);
      await host.stop();
    }
  });
});

describe("starting at login", () => {
  it("Settings writes and removes an autostart entry that starts Quire hidden", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-login-"));
    const config = await mkdtemp(path.join(tmpdir(), "quire-e2e-xdg-"));
    const entry = path.join(config, "autostart", "quire.desktop");
    await quireJson(dataDir, "status");
    const app = await launchApp({ dataDir, env: { XDG_CONFIG_HOME: config } });
    try {
      const { browser } = app;
      await byTestId(browser, "nav-settings").click();
      const toggle = byTestId(browser, "start-at-login");
      await toggle.waitForDisplayed({ timeout: 10_000 });
      assert.equal(await toggle.isSelected(), false);
      await toggle.click();
      await until(browser, "the entry is written", async () => {
        try {
          return (await readFile(entry, "utf8")).includes("--hidden");
        } catch {
          return false;
        }
      });
      const text = await readFile(entry, "utf8");
      assert.match(text, /^Exec=env "QUIRE_DATA_DIR=[^"]+" .*"[^"]*quire-app" --hidden$/m);
      assert.ok(text.includes(`QUIRE_DATA_DIR=${dataDir}`), text);

      await byTestId(browser, "start-at-login").click();
      await until(browser, "the entry is removed", async () => {
        try {
          await readFile(entry);
          return false;
        } catch {
          return true;
        }
      });
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(config, { recursive: true, force: true });
    }
  });

  it("--hidden stays in the tray when there is one, and shows the window when there is none", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-hidden-"));
    const host = await TrayHost.start(true);
    try {
      const inTray = await launchApp({ dataDir, args: ["--hidden"] });
      try {
        await byTestId(inTray.browser, "version").waitForExist({ timeout: 10_000 });
        // Give a window that would wrongly show the time to be mapped.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.equal(await windowShown(), false, "started hidden in the tray");
        assert.equal((await appProcessesOn(dataDir)).length, 1);
      } finally {
        await closeQuietly(inTray);
      }
      await host.stop();
      await until(inTray.browser, "the first app is gone", async () => (await appProcessesOn(dataDir)).length === 0);

      const noTray = await launchApp({ dataDir, args: ["--hidden"] });
      try {
        await byTestId(noTray.browser, "version").waitForExist({ timeout: 10_000 });
        await until(noTray.browser, "the window shows without a tray", () => windowShown());
      } finally {
        await closeQuietly(noTray);
      }
    } finally {
      await host.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
