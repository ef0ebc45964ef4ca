// Notes in the real app window, on the same encrypted store the `quire` CLI uses.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Key } from "webdriverio";
import type { Note } from "../../ui/src/bindings/Note.ts";
import type { NoteSummary } from "../../ui/src/bindings/NoteSummary.ts";
import { quireJson } from "./support/cli.ts";
import { byTestId, launchApp, noteTitles, screenshot } from "./support/app.ts";
import { editorText, typeInEditor } from "./support/editor.ts";

/** The titles in the note list, top to bottom. */
describe("notes shared by the app and the CLI", () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-notes-"));
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("shows a note the CLI wrote, and one made in the app reaches the CLI", async () => {
    // The CLI creates the store (and its key in the session's keyring) first.
    await quireJson<Note>(dataDir, "note", "add", "--title", "Written by the CLI", "--file", "/dev/null");

    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await browser.waitUntil(async () => (await noteTitles(browser)).includes("Written by the CLI"), {
        timeout: 10_000,
        timeoutMsg: "the CLI's note never appeared in the list",
      });
      assert.match(await byTestId(browser, "status-text").getText(), /1 change pending/);

      await byTestId(browser, "new-note").click();
      const title = byTestId(browser, "note-title");
      await title.waitForDisplayed({ timeout: 5_000 });
      await title.setValue("Made in the app");
      // A literal "\n" is not a keystroke to WebKitWebDriver; Enter is.
      await typeInEditor(browser, "first line", Key.Enter, "second line");
      const saveState = byTestId(browser, "save-state");
      await browser.waitUntil(async () => (await saveState.getText()) === "Saved", {
        timeout: 10_000,
        timeoutMsg: "the note was never saved",
      });
      await browser.waitUntil(async () => (await noteTitles(browser)).includes("Made in the app"), {
        timeout: 10_000,
        timeoutMsg: "the list never showed the new title",
      });
      assert.match(await byTestId(browser, "status-text").getText(), /2 changes pending/);
      await screenshot("note-editor");
    } finally {
      await app.close();
    }

    const notes = await quireJson<NoteSummary[]>(dataDir, "note", "list");
    const made = notes.find((n) => n.title === "Made in the app");
    assert.ok(made, `the CLI does not see the app's note: ${JSON.stringify(notes)}`);
    const full = await quireJson<Note>(dataDir, "note", "show", made.id);
    assert.equal(full.body, "first line\nsecond line");
  });

  it("still has both notes after the app is restarted", async () => {
    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await browser.waitUntil(async () => (await noteTitles(browser)).length === 2, {
        timeout: 10_000,
        timeoutMsg: "the notes did not come back after a restart",
      });
      assert.deepEqual((await noteTitles(browser)).sort(), ["Made in the app", "Written by the CLI"]);
      await browser.$('[data-testid="note-item"]').click();
      await byTestId(browser, "note-title").waitForDisplayed({ timeout: 5_000 });
      assert.equal(await byTestId(browser, "note-title").getValue(), "Made in the app");
      await byTestId(browser, "note-body").waitForDisplayed({ timeout: 5_000 });
      assert.equal(await editorText(browser), "first line\nsecond line");
    } finally {
      await app.close();
    }
  });

  it("brings a deleted note back with Undo, and the CLI sees it back", async () => {
    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await browser.waitUntil(async () => (await noteTitles(browser)).includes("Written by the CLI"), {
        timeout: 10_000,
        timeoutMsg: "the CLI's note never appeared in the list",
      });
      const titles = await noteTitles(browser);
      const at = titles.indexOf("Written by the CLI");
      const row = browser.$$('[data-testid="note-item"]')[at];
      assert.ok(at >= 0 && row, `no list row for the CLI's note: ${JSON.stringify(titles)}`);
      await row.click();
      await browser.waitUntil(async () => (await byTestId(browser, "note-title").getValue()) === "Written by the CLI", {
        timeout: 5_000,
        timeoutMsg: "the CLI's note did not open",
      });
      await byTestId(browser, "delete-note").click();
      await byTestId(browser, "confirm-delete").click();
      const undo = byTestId(browser, "undo-delete");
      await undo.waitForDisplayed({ timeout: 5_000 });
      await browser.waitUntil(async () => !(await noteTitles(browser)).includes("Written by the CLI"), {
        timeout: 10_000,
        timeoutMsg: "the deleted note stayed in the list",
      });
      await screenshot("note-deleted-undo");
      await undo.click();
      await browser.waitUntil(async () => (await noteTitles(browser)).includes("Written by the CLI"), {
        timeout: 10_000,
        timeoutMsg: "Undo did not bring the note back to the list",
      });
      await byTestId(browser, "note-title").waitForDisplayed({ timeout: 5_000 });
      assert.equal(await byTestId(browser, "note-title").getValue(), "Written by the CLI");
    } finally {
      await app.close();
    }
    const trash = await quireJson<NoteSummary[]>(dataDir, "note", "trash");
    assert.deepEqual(trash, []);
    const notes = await quireJson<NoteSummary[]>(dataDir, "note", "list");
    assert.ok(notes.some((n) => n.title === "Written by the CLI"), JSON.stringify(notes));
  });
});
