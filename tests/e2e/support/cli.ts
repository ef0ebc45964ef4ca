// The `quire` CLI as a second front end on the same data dir (or as a second device).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const repoRoot = path.resolve(import.meta.dirname, "..", "..", "..");

export function cliBinary(): string {
  const fromEnv = process.env.QUIRE_CLI_BIN;
  if (fromEnv) return fromEnv;
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, "target");
  return path.join(targetDir, "debug", "quire");
}

/** Runs `quire --data-dir DIR --json ARGS...` and parses what it prints. */
export async function quireJson<T>(dataDir: string, ...args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(cliBinary(), ["--data-dir", dataDir, "--json", ...args], {
    timeout: 30_000,
  });
  return JSON.parse(stdout) as T;
}
