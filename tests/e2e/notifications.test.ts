// Desktop notifications that lead to the decision, against a stand-in notification server
// on the suite's private bus: the conflicts notice carries Open and Resolve, a click opens the
// conflict center, deciding closes the notice; a server without actions gets a plain one, and
// a server that never answers holds nothing up.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { byTestId, launchApp, type Browser } from "./support/app.ts";
import { conflictingEdits, twoDevices } from "./support/cli.ts";
import { NotificationServer, type NotificationCall } from "./support/desktop.ts";
import { useSyncServer } from "./support/server.ts";

const password = "long enough pw";
const DECIDE = "Quire: notes need your decision";

async function notified(browser: Browser, server: NotificationServer, what: string,
  match: (call: NotificationCall) => boolean): Promise<NotificationCall> {
  const found: NotificationCall[] = [];
  await browser.waitUntil(async () => {
    const call = server.calls.find(match);
    if (call !== undefined) found.push(call);
    return Promise.resolve(call !== undefined);
  }, { timeout: 20_000, interval: 200, timeoutMsg: `no ${what}: ${JSON.stringify(server.calls)}` });
  const [call] = found;
  if (call === undefined) throw new Error(`no ${what}`);
  return call;
}

describe("notifications", () => {
  const fixture = useSyncServer("notifications");

  it("lead to the conflict center, and close when the conflict is decided", async () => {
    const { root, server } = fixture;
    const devices = await twoDevices(root, server.url, "notify", password);
    await conflictingEdits(devices, "Plan", "1\n2\n3\n", "1\nphone\n3\n", "1\nlaptop\n3\n");
    const desktop = await NotificationServer.start({ actions: true });
    const app = await launchApp({ dataDir: devices.laptop });
    try {
      const { browser } = app;
      const notice = await notified(browser, desktop, "conflicts notice", (c) => c.summary === DECIDE);
      assert.deepEqual(notice.actions, ["default", "Open", "resolve", "Resolve"]);
      assert.equal(notice.body, "1 note needs your decision: edited on two devices");

      // The person is elsewhere in the app; the Resolve button brings the conflict center.
      await byTestId(browser, "nav-settings").click();
      await byTestId(browser, "settings").waitForDisplayed({ timeout: 5_000 });
      desktop.invoke(notice.id ?? 0, "resolve");
      await byTestId(browser, "conflict-part").waitForDisplayed({ timeout: 10_000 });
      assert.equal(await byTestId(browser, "conflict-title").getText(), "Plan");

      await byTestId(browser, "take-both").click();
      await byTestId(browser, "resolve").click();
      await byTestId(browser, "no-conflicts").waitForDisplayed({ timeout: 10_000 });
      await notified(browser, desktop, "close of the decided notice",
        (c) => c.call === "CloseNotification" && c.id === notice.id);
    } finally {
      await app.close();
      await desktop.stop();
    }
  });

  it("are plain where the server shows no actions, and a hung server holds nothing up", async () => {
    const { root, server } = fixture;
    for (const options of [{ actions: false }, { actions: true, answer: false }]) {
      const name = options.actions ? "hung" : "plain";
      const devices = await twoDevices(path.join(root, name), server.url, name, password);
      await conflictingEdits(devices, "Plan", "1\n2\n3\n", "1\nphone\n3\n", "1\nlaptop\n3\n");
      const desktop = await NotificationServer.start(options);
      const app = await launchApp({ dataDir: devices.laptop });
      try {
        const { browser } = app;
        const notice = await notified(browser, desktop, "conflicts notice", (c) => c.summary === DECIDE);
        assert.deepEqual(notice.actions, options.actions ? ["default", "Open", "resolve", "Resolve"] : []);
        // The app goes on: a new note is saved and listed while the server says nothing.
        await byTestId(browser, "new-note").click();
        const title = byTestId(browser, "note-title");
        await title.waitForDisplayed({ timeout: 5_000 });
        await title.setValue("Still working");
        await browser.waitUntil(async () => (await byTestId(browser, "save-state").getText()) === "Saved", {
          timeout: 10_000,
          timeoutMsg: "the note was never saved",
        });
      } finally {
        await app.close();
        await desktop.stop();
      }
    }
  });
});
