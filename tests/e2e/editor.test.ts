// The CodeMirror editor and the Markdown preview in the real window: a note full of attempts to
// run script shows them as text, runs none of them, and no link moves the window.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { Key } from "webdriverio";
import type { Note } from "../../ui/src/bindings/Note.ts";
import { byTestId, launchApp, noteTitles, screenshot, type Browser } from "./support/app.ts";
import { deviceCli } from "./support/cli.ts";
import { editorText, pressCtrl, typeInEditor } from "./support/editor.ts";

/** Each would set `window.__xss` if the preview let it run. */
const ATTACKS = [
  "<script>window.__xss = 1</script>",
  '<img src=x onerror="window.__xss = 1">',
  "[a script link](javascript:window.__xss=1)",
  '<a href="javascript:window.__xss=1">a raw link</a>',
  '<iframe src="javascript:window.__xss=1"></iframe>',
  '<svg onload="window.__xss=1"><circle r="4"/></svg>',
];

const BODY = [
  "# Things a note must not do",
  "",
  "Every line below tries to run script; the preview shows each as **text**.",
  "",
  ...ATTACKS.flatMap((attack) => [attack, ""]),
  "- a list item",
  "- [a web link](https://example.com/)",
  "",
  "> a quote, and `some code`",
  "",
].join("\n");

/** What the page has that could run script or leave the window, inside the preview. */
function liveInPreview(browser: Browser): Promise<string[]> {
  return browser.execute(() => {
    const preview = document.querySelector('[data-testid="note-preview"]');
    const found: string[] = [];
    for (const element of preview?.querySelectorAll("*") ?? []) {
      const tag = element.tagName.toLowerCase();
      if (["script", "iframe", "svg", "object", "embed", "style"].includes(tag)) found.push(tag);
      for (const attribute of Array.from(element.attributes)) {
        if (attribute.name.startsWith("on")) found.push(`${tag}[${attribute.name}]`);
        if (/^\s*javascript:/i.test(attribute.value)) found.push(`${tag}[${attribute.name}=${attribute.value}]`);
      }
    }
    return found;
  });
}

function xssFlag(browser: Browser): Promise<unknown> {
  return browser.execute(() => (window as unknown as { __xss?: unknown }).__xss ?? null);
}

describe("the editor and the Markdown preview", () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-editor-"));
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("shows script in a note as text, runs none of it, and no link moves the window", async () => {
    const cli = deviceCli("unused");
    const note = await cli<Note>(dataDir, ["note", "add", "--title", "Payloads"], BODY);

    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await browser.waitUntil(async () => (await noteTitles(browser)).includes("Payloads"), {
        timeout: 10_000,
        timeoutMsg: "the note never appeared in the list",
      });
      await browser.$(`[data-note-id="${note.id}"]`).click();
      await byTestId(browser, "note-body").waitForDisplayed({ timeout: 5_000 });
      assert.equal(await editorText(browser), BODY);
      await screenshot("editor-markdown");

      const home = await browser.execute(() => location.href);
      await byTestId(browser, "toggle-preview").click();
      const preview = byTestId(browser, "note-preview");
      await preview.waitForDisplayed({ timeout: 5_000, timeoutMsg: "the preview never showed" });
      await browser.waitUntil(async () => (await preview.getText()).includes("Things a note must not do"), {
        timeout: 5_000,
        timeoutMsg: "the preview never rendered the note",
      });
      const shown = await browser.execute(() => document.querySelector('[data-testid="note-preview"]')?.textContent ?? "");
      for (const attack of ATTACKS) assert.ok(shown.includes(attack), `the preview does not show ${attack} as text`);
      assert.deepEqual(await liveInPreview(browser), []);
      assert.equal(
        await browser.execute(() => document.querySelector('[data-testid="note-preview"] a')?.getAttribute("href") ?? null),
        "https://example.com/",
      );
      // Give anything that slipped through time to run.
      await sleep(500);
      assert.equal(await xssFlag(browser), null);
      await screenshot("editor-preview");

      // A javascript: link, as if one got past the sanitizer: clicking it does nothing.
      await browser.execute(() => {
        const link = document.createElement("a");
        link.setAttribute("href", "javascript:window.__xss=1");
        link.setAttribute("data-testid", "planted-link");
        link.textContent = "planted link";
        document.querySelector('[data-testid="note-preview"]')?.append(link);
      });
      await byTestId(browser, "planted-link").click();
      await sleep(500);
      assert.equal(await xssFlag(browser), null);
      assert.equal(await browser.execute(() => location.href), home);
      assert.ok(await byTestId(browser, "note-preview").isDisplayed(), "the window left the app");

      // Anything that navigates without a click (script that got in, a form, a redirect) is
      // stopped by the app itself, not only by the preview's click handler.
      await browser.execute(() => {
        window.location.assign("https://example.org/");
      });
      await sleep(1_000);
      assert.equal(await browser.execute(() => location.href), home);
      assert.ok(await byTestId(browser, "note-preview").isDisplayed(), "the window navigated away");

      await byTestId(browser, "toggle-preview").click();
      await byTestId(browser, "note-body").waitForDisplayed({ timeout: 5_000 });
      assert.equal(await editorText(browser), BODY);
    } finally {
      await app.close();
    }
  });

  it("types into the text, saves it, and finds in it with Ctrl+F", async () => {
    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await byTestId(browser, "new-note").waitForDisplayed({ timeout: 10_000 });
      await byTestId(browser, "new-note").click();
      await byTestId(browser, "note-title").waitForDisplayed({ timeout: 5_000 });
      await typeInEditor(browser, "- milk", Key.Enter, "eggs");
      const saveState = byTestId(browser, "save-state");
      await browser.waitUntil(async () => (await saveState.getText()) === "Saved", {
        timeout: 10_000,
        timeoutMsg: "the note was never saved",
      });
      // Enter in a list continues it.
      assert.equal(await editorText(browser), "- milk\n- eggs");

      await pressCtrl(browser, "f");
      const find = browser.$(".cm-search input[name=search]");
      await find.waitForDisplayed({ timeout: 5_000, timeoutMsg: "Ctrl+F in the text did not open find" });
      assert.equal(await browser.execute(() => document.activeElement?.getAttribute("name") ?? null), "search");
      await screenshot("editor-find");
    } finally {
      await app.close();
    }
  });
});
