// The desktop around the app, played by small helpers on the suite's private bus and X
// display: a panel that hosts tray icons (or stops hosting them), and a window manager's
// close request. See tray_host.py and close_window.py beside this file.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = import.meta.dirname;
/** Debian's Python, which has the dbus, gi and Xlib modules setup.sh installs. */
const python = "/usr/bin/python3";

export class TrayHost {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  /** Starts a StatusNotifierWatcher; `host` says whether a host is registered from the start. */
  static async start(host: boolean): Promise<TrayHost> {
    const child = spawn(python, [path.join(here, "tray_host.py"), ...(host ? [] : ["--no-host"])]);
    child.stderr.on("data", (chunk: Buffer) => { process.stderr.write(`tray host: ${chunk.toString()}`); });
    const tray = new TrayHost(child);
    await tray.expect("ready");
    return tray;
  }

  private async expect(word: string): Promise<void> {
    const next = await this.lines.next();
    if (next.done === true || next.value !== word) {
      throw new Error(`the stand-in tray host said ${JSON.stringify(next.value)}, not ${word}`);
    }
  }

  async setHost(on: boolean): Promise<void> {
    this.child.stdin.write(on ? "host on\n" : "host off\n");
    await this.expect("done");
  }

  /** Goes away, name and all, as a panel that quits or crashes. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end("quit\n");
    await exited;
  }
}

/** One call the stand-in notification server got. */
export interface NotificationCall {
  call: "ready" | "Notify" | "CloseNotification";
  id?: number;
  replaces?: number;
  summary?: string;
  body?: string;
  actions?: string[];
}

export class NotificationServer {
  readonly calls: NotificationCall[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.calls.push(JSON.parse(line) as NotificationCall);
    });
  }

  /** Starts a notification server; `actions` says whether it advertises them. */
  static async start(options: { actions: boolean; answer?: boolean }): Promise<NotificationServer> {
    const args = [path.join(here, "notification_server.py")];
    if (!options.actions) args.push("--no-actions");
    if (options.answer === false) args.push("--never-answer");
    const child = spawn(python, args);
    child.stderr.on("data", (chunk: Buffer) => { process.stderr.write(`notification server: ${chunk.toString()}`); });
    const server = new NotificationServer(child);
    const deadline = Date.now() + 10_000;
    while (!server.calls.some((c) => c.call === "ready")) {
      if (Date.now() > deadline) throw new Error("the stand-in notification server never started");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return server;
  }

  /** A click on the notification (`default`) or one of its buttons. */
  invoke(id: number, action: string): void {
    this.child.stdin.write(`invoke ${String(id)} ${action}\n`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin.end("quit\n");
    await exited;
  }
}

/** Clicks the window's close button, as far as the app can tell. */
export async function requestClose(title = "Quire"): Promise<void> {
  await run(python, [path.join(here, "close_window.py"), title], { timeout: 10_000 });
}

/** Whether the window with this title is on screen (mapped and viewable). */
export async function windowShown(title = "Quire"): Promise<boolean> {
  try {
    const { stdout } = await run("xwininfo", ["-name", title], { timeout: 10_000 });
    return /Map State: IsViewable/.test(stdout);
  } catch {
    return false;
  }
}
