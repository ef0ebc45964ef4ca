// First run next to a local server (what `make run` sets up): the app offers an account on
// it with the address filled in; creating one from the Settings form starts syncing.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import type { NoteSummary } from "../../ui/src/bindings/NoteSummary.ts";
import { byTestId, launchApp, screenshot } from "./support/app.ts";
import { quireJsonWith } from "./support/cli.ts";
import { useSyncServer } from "./support/server.ts";

describe("settings on first run", () => {
  const fixture = useSyncServer("settings");

  it("offers an account on the suggested server, and a wrong password is a clear message", async () => {
    const { root, server } = fixture;
    let recoveryKey: string | undefined;
    const app = await launchApp({
      dataDir: path.join(root, "laptop"),
      env: { QUIRE_SUGGESTED_SERVER: server.url },
    });
    try {
      const { browser } = app;
      const serverField = byTestId(browser, "server-url");
      await serverField.waitForDisplayed({ timeout: 15_000, timeoutMsg: "the first run offered no account" });
      assert.equal(await serverField.getValue(), server.url);
      await screenshot("first-run");

      // Too short a password: the server's reason is shown, nothing is signed in.
      await byTestId(browser, "username").setValue("first");
      await byTestId(browser, "password").setValue("short");
      await byTestId(browser, "create-account").click();
      const message = byTestId(browser, "settings-message");
      await browser.waitUntil(async () => (await message.getText()) !== "", { timeout: 10_000 });
      assert.match(await message.getText(), /password/i);
      assert.equal(await byTestId(browser, "password").getValue(), "", "the password is not kept in the form");

      await byTestId(browser, "password").setValue("long enough pw");
      await byTestId(browser, "create-account").click();
      await byTestId(browser, "signed-in-as").waitForDisplayed({ timeout: 10_000 });
      // The recovery key, shown once, with what losing it means.
      const key = byTestId(browser, "recovery-key");
      await key.waitForDisplayed({ timeout: 10_000, timeoutMsg: "no recovery key after sign-up" });
      recoveryKey = await key.getText();
      assert.match(recoveryKey, /^([0-9A-Z]{5}-){10}[0-9A-Z]{5}$/);
      assert.match(await byTestId(browser, "recovery-key-panel").getText(), /nobody/);
      assert.match(await byTestId(browser, "encryption-state").getText(), /encrypted end to end/);
      await screenshot("recovery-key");
      await byTestId(browser, "recovery-key-done").click();
      await key.waitForDisplayed({ reverse: true, timeout: 5_000 });
      const status = byTestId(browser, "status-text");
      await browser.waitUntil(async () => (await status.getText()).startsWith("Up to date"), {
        timeout: 20_000,
        timeoutMsg: "signing in did not start syncing",
      });

      await byTestId(browser, "new-note").click();
      await byTestId(browser, "note-title").setValue("From the first run");
      await browser.waitUntil(async () => /^Up to date · nothing pending/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the new note never synced",
      });
    } finally {
      await app.close();
    }
    // The same key, again, on the device that made it.
    const shown = await quireJsonWith<{ recovery_key: string }>(
      { dataDir: path.join(root, "laptop") },
      "account",
      "recovery-key",
    );
    assert.equal(shown.recovery_key, recoveryKey);
    const phone = path.join(root, "phone");
    await quireJsonWith({ dataDir: phone, password: "long enough pw" }, "account", "login", "--server", server.url, "--user", "first");
    await quireJsonWith({ dataDir: phone }, "sync");
    const notes = await quireJsonWith<NoteSummary[]>({ dataDir: phone }, "note", "list");
    assert.ok(notes.some((n) => n.title === "From the first run"), JSON.stringify(notes));
  });
});
