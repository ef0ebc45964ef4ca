// A real quire-server on a loopback port, with its SQLite file in a temp dir; it can be
// stopped and started again on the same port (a server that goes away and comes back).
import { spawn, type ChildProcess } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { artifactsDir, freePort } from "./app.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");

function serverBinary(): string {
  const fromEnv = process.env.QUIRE_SERVER_BIN;
  if (fromEnv) return fromEnv;
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target");
  return path.join(targetDir, "debug", "quire-server");
}

export class SyncServer {
  private child: ChildProcess | null = null;

  private constructor(
    readonly url: string,
    private readonly port: number,
    private readonly dataDir: string,
  ) {}

  static async start(dataDir: string): Promise<SyncServer> {
    const port = await freePort();
    const server = new SyncServer(`http://127.0.0.1:${String(port)}`, port, dataDir);
    await server.resume();
    return server;
  }

  /** Starts (again) on the same port and database. */
  async resume(): Promise<void> {
    const log = openSync(path.join(artifactsDir, `server-${String(this.port)}.log`), "a");
    this.child = spawn(
      serverBinary(),
      ["--listen", `127.0.0.1:${String(this.port)}`, "--db", `sqlite://${path.join(this.dataDir, "server.db")}`],
      { stdio: ["ignore", log, log] },
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/v1/health`)).ok) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`quire-server did not come up on ${this.url}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => { resolve(); });
      child.kill("SIGTERM");
    });
  }
}

export interface ServerFixture {
  /** A temp dir for this suite: the server's database, and devices' data dirs. */
  readonly root: string;
  readonly server: SyncServer;
}

/** A fresh server for the suite it is called in, stopped and removed after it. */
export function useSyncServer(name: string): ServerFixture {
  let root: string | undefined;
  let server: SyncServer | undefined;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), `quire-e2e-${name}-`));
    server = await SyncServer.start(root);
  });
  after(async () => {
    await server?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the suite's server is not started (use it inside a test)");
    return value;
  };
  return {
    get root() {
      return started(root);
    },
    get server() {
      return started(server);
    },
  };
}
