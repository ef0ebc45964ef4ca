// Background sync in the real app against a real quire-server, with the `quire` CLI as a
// second device: the startup round meets a conflict and the desktop is notified; the server
// goes away and the status line says so; "Sync now" drains the queue when it is back.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import type { NoteSummary } from "../../ui/src/bindings/NoteSummary.ts";
import { byTestId, launchApp, screenshot } from "./support/app.ts";
import { conflictingEdits, twoDevices } from "./support/cli.ts";
import { useSyncServer } from "./support/server.ts";

const password = "long enough pw";

/** Records the Notify calls on this D-Bus session (the one scripts/with-keyring.sh made). */
function watchNotifications(): { calls: () => string; stop: () => void } {
  let seen = "";
  const monitor: ChildProcess = spawn(
    "dbus-monitor",
    ["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  monitor.stdout?.on("data", (chunk: Buffer) => {
    seen += chunk.toString();
  });
  return {
    calls: () => seen,
    stop: () => monitor.kill("SIGTERM"),
  };
}

describe("background sync in the app", () => {
  const fixture = useSyncServer("sync");

  it("notifies about a conflict, shows offline with the pending count, and Sync now drains the queue", async () => {
    const { root, server } = fixture;
    const devices = await twoDevices(root, server.url, "e2e", password);
    const { laptop, phone, cli } = devices;
    // Both devices change line 2 while apart; the phone's change reaches the server first.
    await conflictingEdits(devices, "Plan", "1\n2\n3\n", "1\nphone\n3\n", "1\nlaptop\n3\n");

    const notifications = watchNotifications();
    const app = await launchApp({ dataDir: laptop });
    try {
      const { browser } = app;
      const status = byTestId(browser, "status-text");
      // Nobody clicks anything: the app's own first round meets the phone's change.
      await browser.waitUntil(async () => /1 note to decide/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the status line never showed the conflict",
      });
      await browser.waitUntil(() => Promise.resolve(notifications.calls().includes("1 note needs your decision")), {
        timeout: 10_000,
        timeoutMsg: `no Notify call with the conflict; saw: ${notifications.calls()}`,
      });
      assert.match(notifications.calls(), /Quire: notes need your decision/);
      await screenshot("sync-conflict");

      // The server goes away; a note written now waits, and the status line says why.
      await server.stop();
      await byTestId(browser, "new-note").click();
      const title = byTestId(browser, "note-title");
      await title.waitForDisplayed({ timeout: 5_000 });
      await title.setValue("Written offline");
      await browser.waitUntil(async () => /^Offline · 1 change pending/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the status line never said offline with 1 pending",
      });
      assert.match(await byTestId(browser, "sync-error").getText(), /cannot reach the sync server/);
      assert.equal(await byTestId(browser, "sync-now").getText(), "Retry");
      await screenshot("sync-offline");

      // Back again; one click and the queue is empty.
      await server.resume();
      await byTestId(browser, "sync-now").click();
      await browser.waitUntil(async () => /^Up to date · nothing pending/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the queue never drained after Sync now",
      });
      // The round that sent it was followed by the check: the status line says when this
      // device was last found holding exactly what the server holds.
      await browser.waitUntil(async () => /verified equal to the server/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the status line never said when the devices were last verified equal",
      });
      await screenshot("sync-verified");
      // Every state change went to the rotating log file in the data dir, and no secret did.
      const logs = await readdir(path.join(laptop, "logs"));
      assert.equal(logs.length, 1, logs.join(", "));
      assert.match(logs[0] ?? "", /^quire\.\d{4}-\d{2}-\d{2}\.log$/);
      const log = await readFile(path.join(laptop, "logs", logs[0] ?? ""), "utf8");
      for (const line of ["sync round done", "sync round failed", "1 note needs your decision"]) {
        assert.ok(log.includes(line), `the log lacks "${line}"`);
      }
      assert.ok(!log.includes(password), "the password is in the log");

      await cli(phone, ["sync"]);
      const onPhone = await cli<NoteSummary[]>(phone, ["note", "list"]);
      assert.ok(onPhone.some((n) => n.title === "Written offline"), JSON.stringify(onPhone));
    } finally {
      notifications.stop();
      await app.close();
    }
  });
});
