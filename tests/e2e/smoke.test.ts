// The real app window, driven through tauri-driver under Xvfb (see tests/e2e/run.sh).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { appBinary, byTestId, launchApp, screenshot, type RunningApp } from "./support/app.ts";

describe("the app window", () => {
  let dataDir: string;
  let app: RunningApp;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-"));
    app = await launchApp({ dataDir });
  });

  after(async () => {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is titled Quire", async () => {
    assert.equal(await app.browser.getTitle(), "Quire");
    // The native window's title, asked through Tauri's own window API.
    const nativeTitle = await app.browser.execute(() => {
      const tauri = (window as unknown as {
        __TAURI_INTERNALS__: { invoke(cmd: string, args: object): Promise<string> };
      }).__TAURI_INTERNALS__;
      return tauri.invoke("plugin:window|title", { label: "main" });
    });
    assert.equal(nativeTitle, "Quire");
  });

  it("shows the note list, the editor and the status line", async () => {
    const { browser } = app;
    assert.ok(await byTestId(browser, "note-list").isDisplayed());
    assert.equal(await byTestId(browser, "note-list-empty").getText(), "No notes yet.");
    assert.ok(await byTestId(browser, "editor").isDisplayed());
    assert.ok(await byTestId(browser, "status-line").isDisplayed());
  });

  it("reports the data dir it was started with", async () => {
    const { browser } = app;
    const dataDirLabel = byTestId(browser, "data-dir");
    await dataDirLabel.waitForExist({ timeout: 10_000 });
    assert.equal(await dataDirLabel.getText(), dataDir);
    assert.match(await byTestId(browser, "version").getText(), /^Quire \d+\.\d+\.\d+/);
    await screenshot("main-window");
  });

  it("has an About box with the version the binary reports", async () => {
    const { browser } = app;
    // One version for the workspace: what `quire-app --version` prints is what the window says.
    const printed = execFileSync(appBinary(), ["--version"], { encoding: "utf8" }).trim();
    const version = printed.replace(/^quire-app /, "");
    assert.match(version, /^\d+\.\d+\.\d+/);
    assert.equal(await byTestId(browser, "version").getText(), `Quire ${version}`);
    await byTestId(browser, "version").click();
    const about = byTestId(browser, "about");
    await about.waitForDisplayed({ timeout: 5_000 });
    assert.equal(await byTestId(browser, "about-version").getText(), version);
    assert.equal(await byTestId(browser, "about-data-dir").getText(), dataDir);
    assert.equal(await byTestId(browser, "about-log-dir").getText(), path.join(dataDir, "logs"));
    await screenshot("about");
    await browser.keys("Escape");
    await about.waitForExist({ reverse: true, timeout: 5_000 });
  });
});

describe("the app started with a data dir it cannot use", () => {
  it("says why in the status line instead of failing silently", async () => {
    const app = await launchApp({ dataDir: "relative/notes" });
    try {
      const status = byTestId(app.browser, "status-text");
      await status.waitUntil(async () => (await status.getAttribute("role")) === "alert", {
        timeout: 10_000,
        timeoutMsg: "the status line never showed an error",
      });
      assert.equal(await status.getText(), "the data directory relative/notes must be an absolute path");
      await screenshot("data-dir-error");
    } finally {
      await app.close();
    }
  });
});

describe("the app on a dark desktop", () => {
  it("follows the system's dark preference", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-dark-"));
    const app = await launchApp({ dataDir, env: { GTK_THEME: "Adwaita:dark" } });
    try {
      const { browser } = app;
      await byTestId(browser, "version").waitForExist({ timeout: 10_000 });
      const colors = await browser.execute(() => ({
        dark: window.matchMedia("(prefers-color-scheme: dark)").matches,
        background: getComputedStyle(document.body).backgroundColor,
      }));
      assert.deepEqual(colors, { dark: true, background: "rgb(28, 30, 33)" });
      await screenshot("main-window-dark");
    } finally {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
