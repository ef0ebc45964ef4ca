// Starts the real quire-app through tauri-driver and hands back a WebDriver session.
//
// Each launch gets its own tauri-driver, because the app inherits the driver's environment:
// that is how a test chooses the data dir (QUIRE_DATA_DIR) or anything else the app reads.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { mkdir, readdir, readFile, readlink } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { remote } from "webdriverio";

export type Browser = WebdriverIO.Browser;

export interface LaunchOptions {
  /** Where the app keeps its data (QUIRE_DATA_DIR). */
  dataDir: string;
  /** More environment for the app. */
  env?: Record<string, string>;
  /** Command-line arguments for the app (`--hidden`). */
  args?: string[];
}

export interface RunningApp {
  browser: Browser;
  /** Ends the session (which closes the app) and stops the driver. */
  close(): Promise<void>;
}

const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");
export const artifactsDir = path.join(repoRoot, "tests", "e2e", "artifacts");

/** The app binary under test; the Makefile builds it once per run and passes its path. */
export function appBinary(): string {
  const fromEnv = process.env.QUIRE_APP_BIN;
  if (fromEnv) return fromEnv;
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target");
  return path.join(targetDir, "debug", "quire-app");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port was assigned"));
      });
    });
  });
}

async function waitForDriver(port: number, driver: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (driver.exitCode !== null) {
      throw new Error(`tauri-driver exited with code ${driver.exitCode} before it was ready`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/status`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`tauri-driver did not answer on port ${port} within ${timeoutMs} ms`);
}

function stopDriver(driver: ChildProcess): Promise<void> {
  if (driver.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    driver.once("exit", () => { resolve(); });
    driver.kill("SIGTERM");
  });
}

let launches = 0;

export async function launchApp(options: LaunchOptions): Promise<RunningApp> {
  const port = await freePort();
  const nativePort = await freePort();
  // The driver's and the app's output (the app logs to stderr) go to a file per launch,
  // kept with the screenshots for when a test fails.
  await mkdir(artifactsDir, { recursive: true });
  launches += 1;
  const log = openSync(path.join(artifactsDir, `app-${String(process.pid)}-${String(launches)}.log`), "w");
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    env: { ...process.env, ...options.env, QUIRE_DATA_DIR: options.dataDir },
    stdio: ["ignore", log, log],
  });
  try {
    await waitForDriver(port, driver, 20_000);
    const browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "warn",
      connectionRetryCount: 0,
      capabilities: {
        // tauri-driver on Linux forwards to WebKitWebDriver, which drives the app's WebKitGTK view.
        "tauri:options": { application: appBinary(), args: options.args ?? [] },
      } as WebdriverIO.Capabilities,
    });
    return {
      browser,
      async close() {
        try {
          await browser.deleteSession();
        } finally {
          await stopDriver(driver);
        }
      },
    };
  } catch (error) {
    await stopDriver(driver);
    throw error;
  }
}

/** Finds an element by its data-testid, the only way specs select elements. */
/** The titles in the note list, top to bottom. */
export function noteTitles(browser: Browser): Promise<string[]> {
  return browser.execute(() =>
    Array.from(document.querySelectorAll('[data-testid="note-item"] .note-title'), (el) => el.textContent),
  );
}

export function byTestId(browser: Browser, id: string): ReturnType<Browser["$"]> {
  return browser.$(`[data-testid="${id}"]`);
}

/**
 * Saves a picture of the app window, as the X server shows it, into the artifacts folder.
 *
 * WebKitWebDriver's own screenshot command never answers under Xvfb (WebKitGTK 2.4x), so the
 * window is grabbed from the display by its title instead: the pixels a person would see.
 */
export async function screenshot(name: string, windowTitle = "Quire"): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await promisify(execFile)("import", ["-window", windowTitle, file], { timeout: 20_000 });
  return file;
}

/** quire-app processes running with this data folder, read from /proc. */
export async function appProcessesOn(dataDir: string): Promise<number[]> {
  const binary = appBinary();
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/exe`)) !== binary) continue;
      const environment = (await readFile(`/proc/${entry}/environ`)).toString().split("\0");
      if (environment.includes(`QUIRE_DATA_DIR=${dataDir}`)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}
