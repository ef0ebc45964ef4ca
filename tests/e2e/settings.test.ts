// First run next to a local server (what `make run` sets up): the app offers an account on
// it with the address filled in; creating one from the Settings form starts syncing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
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

describe("an account made before end-to-end encryption", () => {
  const fixture = useSyncServer("legacy");

  it("asks before sending the password, then encrypts the notes and shows the recovery key", async () => {
    const { root, server } = fixture;
    const database = path.join(root, "server.db");
    // As Quire 0.1 made it: the password itself signs in, and the server holds the notes in
    // the clear. (Made through today's sign-up, whose auth secret is hex, then turned back.)
    const password = "5a".repeat(32);
    const made = await fetch(`${server.url}/v1/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        username: "old",
        password,
        keys: {
          account_id: "01936d4c-0000-7000-8000-0000000000aa",
          salt: "11".repeat(16),
          kdf: { memory_kib: 65536, iterations: 3, parallelism: 1 },
          wrapped_key: "22".repeat(73),
          recovery_auth: "44".repeat(32),
          recovery_wrapped_key: "33".repeat(73),
        },
      }),
    });
    assert.equal(made.status, 201);
    sql(
      database,
      "UPDATE accounts SET key_scheme = 'legacy', kdf_salt = NULL, kdf_memory_kib = NULL, kdf_iterations = NULL, " +
        "kdf_parallelism = NULL, wrapped_key = NULL, recovery_auth_hash = NULL, recovery_wrapped_key = NULL",
    );
    const session = await fetch(`${server.url}/v1/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "old", password }),
    });
    assert.equal(session.status, 201);
    const { token } = (await session.json()) as { token: string };
    const pushed = await fetch(`${server.url}/v1/sync/push`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        ops: [
          {
            op_id: randomUUID(),
            note_id: randomUUID(),
            kind: "create",
            title: "Written in 2025",
            body: "sentinel-0ld-e2e-91c4\n",
            device_id: randomUUID(),
            clock: 1,
          },
        ],
      }),
    });
    assert.equal(pushed.status, 200);
    assert.equal(sql(database, "SELECT count(*) FROM notes WHERE snapshot_version IS NULL"), "1");

    const app = await launchApp({
      dataDir: path.join(root, "desk"),
      env: { QUIRE_SUGGESTED_SERVER: server.url },
    });
    try {
      const { browser } = app;
      await byTestId(browser, "server-url").waitForDisplayed({ timeout: 15_000 });
      await byTestId(browser, "username").setValue("old");
      await byTestId(browser, "password").setValue(password);
      await byTestId(browser, "sign-in").click();
      // Nothing is sent before the person says so; then the form says what happens.
      const consent = byTestId(browser, "legacy-consent");
      await consent.waitForDisplayed({ timeout: 10_000, timeoutMsg: "no question before sending the password" });
      assert.match(await consent.getText(), /encrypts every note/);
      await screenshot("legacy-consent");
      await byTestId(browser, "password").setValue(password);
      await byTestId(browser, "allow-legacy").click();
      await byTestId(browser, "sign-in").click();
      const key = byTestId(browser, "recovery-key");
      await key.waitForDisplayed({ timeout: 30_000, timeoutMsg: "no recovery key after the upgrade" });
      assert.match(await key.getText(), /^([0-9A-Z]{5}-){10}[0-9A-Z]{5}$/);
      assert.match(await byTestId(browser, "encryption-state").getText(), /encrypted end to end/);
      await screenshot("legacy-upgraded");
      await byTestId(browser, "recovery-key-done").click();
      const status = byTestId(browser, "status-text");
      await browser.waitUntil(async () => /^Up to date · nothing pending/.test(await status.getText()), {
        timeout: 20_000,
        timeoutMsg: "the sealed copies never went",
      });
    } finally {
      await app.close();
    }
    const notes = await quireJsonWith<NoteSummary[]>({ dataDir: path.join(root, "desk") }, "note", "list");
    assert.deepEqual(notes.map((n) => n.title), ["Written in 2025"]);
    // The server keeps the note sealed only.
    assert.equal(sql(database, "SELECT count(*) FROM notes WHERE snapshot_version IS NULL"), "0");
    assert.equal(sql(database, "SELECT count(*) FROM notes WHERE title || body LIKE '%sentinel-0ld%'"), "0");
  });
});

/** One statement on the server's SQLite file (python3's sqlite3: Node 20 has none); the
 * first column of the first row, as text. */
function sql(database: string, statement: string): string {
  const script =
    "import sqlite3, sys\n" +
    "db = sqlite3.connect(sys.argv[1], timeout=10)\n" +
    "row = db.execute(sys.argv[2]).fetchone()\n" +
    "db.commit()\n" +
    "print('' if row is None else row[0])\n";
  return execFileSync("python3", ["-c", script, database, statement], { encoding: "utf8" }).trim();
}
