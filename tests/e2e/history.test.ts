// History and Trash in the real app, against a real server with the `quire` CLI as a
// second device: the person opens a note's History, sees an older version beside the note
// now with the changed words marked, restores it, and the restore reaches the other
// device; then deletes a note and deletes it forever from Trash, and the other device
// loses it too.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Note } from "../../ui/src/bindings/Note.ts";
import type { NoteSummary } from "../../ui/src/bindings/NoteSummary.ts";
import { byTestId, launchApp, noteTitles, screenshot, type Browser } from "./support/app.ts";
import { twoDevices } from "./support/cli.ts";
import { editorText } from "./support/editor.ts";
import { useSyncServer } from "./support/server.ts";

const password = "long enough pw";

function marked(browser: Browser, testId: string): Promise<string[]> {
  return browser.execute(
    (id) => Array.from(document.querySelectorAll(`[data-testid="${id}"] mark`), (m) => m.textContent),
    testId,
  );
}

/** Waits until the other device, syncing again and again, sees what the app did. */
async function reaches(browser: Browser, what: string, seen: () => Promise<boolean>): Promise<void> {
  await browser.waitUntil(seen, { timeout: 30_000, interval: 1_000, timeoutMsg: `${what} never reached the other device` });
}

describe("history and trash", () => {
  const fixture = useSyncServer("history");

  it("restores an older version from History, and deletes a note forever from Trash, on both devices", async () => {
    const { root, server } = fixture;
    const { laptop, phone, cli } = await twoDevices(root, server.url, "hist", password);
    const plan = await cli<Note>(phone, ["note", "add", "--title", "Trip plan"], "day one: museum\nday two: hike\n");
    await cli(phone, ["sync"]);
    await cli(phone, ["note", "edit", plan.id, "--file", "-"], "day one: beach\nday two: hike\n");
    await cli(phone, ["sync"]);
    const old = await cli<Note>(phone, ["note", "add", "--title", "Old receipts"], "nothing to keep\n");
    await cli(phone, ["sync"]);
    await cli(laptop, ["sync"]);

    const app = await launchApp({ dataDir: laptop });
    try {
      const { browser } = app;
      await browser.waitUntil(async () => (await noteTitles(browser)).includes("Trip plan"), {
        timeout: 10_000,
        timeoutMsg: "the note list never showed the synced note",
      });
      await browser.$(`[data-note-id="${plan.id}"]`).click();
      await byTestId(browser, "open-history").click();
      await byTestId(browser, "version-change").waitForDisplayed({
        timeout: 10_000,
        timeoutMsg: "History never showed the older version beside the note",
      });
      const listed = await browser.execute(() => Array.from(document.querySelectorAll('[data-testid="history-version"]'), (v) => v.textContent));
      assert.equal(listed.length, 2, JSON.stringify(listed));
      // The version before (chosen first) beside the note now: the word that changed.
      assert.deepEqual(await marked(browser, "version-change"), ["museum", "beach"]);
      await screenshot("history");

      await byTestId(browser, "restore-version").click();
      await byTestId(browser, "note-body").waitForDisplayed({ timeout: 5_000 });
      assert.equal(await editorText(browser), "day one: museum\nday two: hike\n");
      // The restore syncs by itself, like any edit.
      await reaches(browser, "the restore", async () => {
        await cli(phone, ["sync"]);
        return (await cli<Note>(phone, ["note", "show", plan.id])).body === "day one: museum\nday two: hike\n";
      });

      // Trash: delete, then delete forever.
      await browser.$(`[data-note-id="${old.id}"]`).click();
      await byTestId(browser, "delete-note").click();
      await byTestId(browser, "confirm-delete").click();
      await byTestId(browser, "nav-trash").click();
      await byTestId(browser, "trash-item").waitForDisplayed({ timeout: 5_000 });
      await screenshot("trash");
      assert.match(
        await browser.execute(() => document.querySelector('[data-testid="trash-item"]')?.textContent ?? ""),
        /Old receipts\s*Deleted today/,
      );
      await byTestId(browser, "purge-note").click();
      await byTestId(browser, "confirm-purge").click();
      await byTestId(browser, "trash-empty").waitForDisplayed({
        timeout: 5_000,
        timeoutMsg: "Trash still listed the note after Delete forever",
      });
      await reaches(browser, "the delete forever", async () => {
        await cli(phone, ["sync"]);
        const [list, trash] = await Promise.all([
          cli<NoteSummary[]>(phone, ["note", "list"]),
          cli<NoteSummary[]>(phone, ["note", "trash"]),
        ]);
        return list.map((n) => n.title).join() === "Trip plan" && trash.length === 0;
      });
    } finally {
      await app.close();
    }
  });
});
