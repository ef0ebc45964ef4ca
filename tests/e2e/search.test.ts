// Full-text search in the real window: a word found only in one note's text lists that note with
// the word marked in its snippet, and opening it marks the word in the editor.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Key } from "webdriverio";
import type { Note } from "../../ui/src/bindings/Note.ts";
import { byTestId, launchApp, noteTitles, screenshot, type Browser } from "./support/app.ts";
import { deviceCli } from "./support/cli.ts";
import { markedInEditor, pressCtrl, pressKeys } from "./support/editor.ts";

function snippetMarks(browser: Browser): Promise<string[]> {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="search-snippet"] mark'), (mark) => mark.textContent.toLowerCase()),
  );
}

describe("full-text search", () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-search-"));
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("lists the note whose text has the word, marked, and marks it in the opened note", async () => {
    const cli = deviceCli("unused");
    await cli<Note>(dataDir, ["note", "add", "--title", "Groceries"], "milk, eggs, bread\n");
    const trip = await cli<Note>(
      dataDir,
      ["note", "add", "--title", "Trip plan"],
      "Day one: the old town.\nDay two: the Aquarium, then lunch by the harbour.\nDay three: hike.\n",
    );
    await cli<Note>(dataDir, ["note", "add", "--title", "Reading"], "A book about whales and the sea.\n");

    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await browser.waitUntil(async () => (await noteTitles(browser)).length === 3, {
        timeout: 10_000,
        timeoutMsg: "the three notes never appeared in the list",
      });

      await byTestId(browser, "note-search").setValue("aquarium");
      await browser.waitUntil(async () => (await noteTitles(browser)).join() === "Trip plan", {
        timeout: 10_000,
        timeoutMsg: "the search never listed only the note with the word",
      });
      const hit = browser.$(`[data-testid="note-item"][data-note-id="${trip.id}"]`);
      await hit.$('[data-testid="search-snippet"]').waitForDisplayed({ timeout: 5_000 });
      assert.deepEqual(await snippetMarks(browser), ["aquarium"]);
      await screenshot("search-hits");

      await hit.click();
      await browser.waitUntil(async () => (await markedInEditor(browser)).length > 0, {
        timeout: 5_000,
        timeoutMsg: "the opened note never marked the word",
      });
      assert.deepEqual((await markedInEditor(browser)).map((word) => word.toLowerCase()), ["aquarium"]);
      assert.equal(await byTestId(browser, "note-title").getValue(), "Trip plan");
      await screenshot("search-opened");

      // Typing takes the marks away.
      await browser.$('[data-testid="note-body"]').click();
      await pressKeys(browser, "x");
      await browser.waitUntil(async () => (await markedInEditor(browser)).length === 0, {
        timeout: 5_000,
        timeoutMsg: "typing left the marks in place",
      });

      // An empty search box lists every note again.
      await byTestId(browser, "note-search").click();
      await pressCtrl(browser, "a");
      await pressKeys(browser, Key.Backspace);
      await browser.waitUntil(async () => (await noteTitles(browser)).length === 3, {
        timeout: 5_000,
        timeoutMsg: "emptying the search box did not bring every note back",
      });
    } finally {
      await app.close();
    }
  });
});
