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
  return quireJsonWith<T>({ dataDir }, ...args);
}

export interface CliOptions {
  dataDir: string;
  /** Text for the command's stdin (a note body). */
  stdin?: string;
  /** QUIRE_PASSWORD, for account commands. */
  password?: string;
}

export async function quireJsonWith<T>(options: CliOptions, ...args: string[]): Promise<T> {
  const env = { ...process.env, ...(options.password === undefined ? {} : { QUIRE_PASSWORD: options.password }) };
  const run = promisify(execFile)(cliBinary(), ["--data-dir", options.dataDir, "--json", ...args], {
    timeout: 30_000,
    env,
  });
  if (options.stdin !== undefined) {
    run.child.stdin?.end(options.stdin);
  }
  const { stdout } = await run;
  return JSON.parse(stdout) as T;
}

/** `quire --json` for any device's data dir, with one account password for account commands. */
export function deviceCli(password: string) {
  return <T>(dataDir: string, args: string[], stdin?: string): Promise<T> =>
    quireJsonWith<T>({ dataDir, password, ...(stdin === undefined ? {} : { stdin }) }, ...args);
}
