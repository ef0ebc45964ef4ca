// The vault folder in the real app: notes appear as files, a file written by another
// program becomes a note, an outside edit of the open note shows in the editor, and
// Settings can clear the folder.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Note } from "../../ui/src/bindings/Note.ts";
import { byTestId, launchApp, noteTitles, screenshot } from "./support/app.ts";
import { deviceCli } from "./support/cli.ts";
import { editorText } from "./support/editor.ts";

describe("the vault folder in the app", () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "quire-e2e-vault-"));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("mirrors notes as files and takes in files changed by other programs", async () => {
    const dataDir = path.join(root, "data");
    const folder = path.join(root, "Notes");
    await mkdir(folder);
    const cli = deviceCli("unused");
    const note = await cli<Note>(dataDir, ["note", "add", "--title", "Plan"], "first line\n");
    await cli(dataDir, ["config", "set", "vault-dir", folder]);

    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      const planFile = path.join(folder, "Plan.md");
      await browser.waitUntil(async () => (await readdir(folder)).includes("Plan.md"), {
        timeout: 15_000,
        timeoutMsg: "the app never wrote the note's file",
      });
      assert.match(await readFile(planFile, "utf8"), new RegExp(`quire-id: ${note.id}`));

      await writeFile(path.join(folder, "From another editor.md"), "written outside\n");
      await browser.waitUntil(
        async () => (await noteTitles(browser)).includes("From another editor"),
        { timeout: 15_000, timeoutMsg: "the new file never showed as a note" },
      );

      await browser.$('[data-testid="note-item"][data-note-id="' + note.id + '"]').click();
      const body = byTestId(browser, "note-body");
      await body.waitForDisplayed({ timeout: 5_000 });
      const text = await readFile(planFile, "utf8");
      await writeFile(planFile, text.replace("first line\n", "first line\nadded in vim\n"));
      await browser.waitUntil(async () => (await editorText(browser)) === "first line\nadded in vim\n", {
        timeout: 15_000,
        timeoutMsg: "the open note never showed the outside edit",
      });
      await screenshot("vault-edit");
    } finally {
      await app.close();
    }
    assert.equal((await cli<Note>(dataDir, ["note", "show", note.id])).body, "first line\nadded in vim\n");
  });

  it("clears the vault folder from Settings", async () => {
    const dataDir = path.join(root, "clearing");
    const folder = path.join(root, "Cleared");
    await mkdir(folder);
    const cli = deviceCli("unused");
    await cli(dataDir, ["config", "set", "vault-dir", folder]);

    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      const settings = byTestId(browser, "nav-settings");
      await settings.waitForDisplayed({ timeout: 15_000 });
      await settings.click();
      const field = byTestId(browser, "vault-dir");
      await field.waitForDisplayed({ timeout: 10_000, timeoutMsg: "Settings never showed the vault folder" });
      assert.equal(await field.getValue(), folder);

      await byTestId(browser, "settings-vault-clear").click();
      const message = byTestId(browser, "settings-message");
      await browser.waitUntil(async () => (await message.getText()) === "Vault folder cleared.", {
        timeout: 10_000,
        timeoutMsg: "clearing the vault folder was never confirmed",
      });
      assert.equal(await byTestId(browser, "vault-dir").getValue(), "");
      assert.equal(await byTestId(browser, "settings-vault-clear").isExisting(), false, "no Clear without a folder");
      await screenshot("vault-cleared");
    } finally {
      await app.close();
    }
    // The setting is gone from the store, not just from the form.
    await assert.rejects(cli(dataDir, ["config", "get", "vault-dir"]));
  });
});
