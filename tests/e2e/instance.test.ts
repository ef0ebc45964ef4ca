// One app per data folder: a second launch on the same folder shows the running window and
// exits 0; the CLI keeps working beside the app; another folder gets an app of its own.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { appBinary, appProcessesOn, byTestId, launchApp } from "./support/app.ts";
import { quireJson } from "./support/cli.ts";

/** Launches quire-app directly (not through the driver) and waits for it to exit. */
function launchAgain(dataDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(appBinary(), [], {
      env: { ...process.env, QUIRE_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the second launch was still running after 20 s:\n${output}`));
    }, 20_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("one app per data folder", () => {
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "quire-e2e-instance-"));
  });

  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("a second launch shows the running window and exits 0", async () => {
    const app = await launchApp({ dataDir });
    try {
      const { browser } = app;
      await byTestId(browser, "version").waitForExist({ timeout: 10_000 });
      assert.equal((await appProcessesOn(dataDir)).length, 1);

      const second = await launchAgain(dataDir);
      assert.equal(second.code, 0, second.output);
      assert.match(second.output, /already runs on this data folder/);
      assert.equal((await appProcessesOn(dataDir)).length, 1, "one app is left");

      // The first app still answers, and the CLI works beside it on the same data.
      await byTestId(browser, "new-note").click();
      await byTestId(browser, "note-title").waitForDisplayed({ timeout: 5_000 });
      const status = await quireJson<{ notes: number }>(dataDir, "status");
      assert.equal(typeof status.notes, "number");
    } finally {
      await app.close();
    }
  });

  it("after the app has quit, the next launch is the app again", async () => {
    const app = await launchApp({ dataDir });
    try {
      await byTestId(app.browser, "version").waitForExist({ timeout: 10_000 });
    } finally {
      await app.close();
    }
  });
});
