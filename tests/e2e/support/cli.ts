// The `quire` CLI as a second front end on the same data dir (or as a second device).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { Note } from "../../../ui/src/bindings/Note.ts";

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

/** Two devices of one new account: their data dirs, and the CLI that works on either. */
export interface TwoDevices {
  laptop: string;
  phone: string;
  cli: ReturnType<typeof deviceCli>;
}

/** Registers `user` on `serverUrl` from a laptop data dir under `root` and signs a phone in too. */
export async function twoDevices(root: string, serverUrl: string, user: string, password: string): Promise<TwoDevices> {
  const devices = { laptop: path.join(root, "laptop"), phone: path.join(root, "phone"), cli: deviceCli(password) };
  await devices.cli(devices.laptop, ["account", "register", "--server", serverUrl, "--user", user]);
  await devices.cli(devices.phone, ["account", "login", "--server", serverUrl, "--user", user]);
  return devices;
}

/**
 * A note both devices have, then changed on the same line by each while apart: the phone's
 * change reaches the server first, the laptop's waits in its queue (a conflict to come).
 */
export async function conflictingEdits(
  { laptop, phone, cli }: TwoDevices,
  title: string,
  base: string,
  onPhone: string,
  onLaptop: string,
): Promise<Note> {
  const note = await cli<Note>(laptop, ["note", "add", "--title", title], base);
  await cli(laptop, ["sync"]);
  await cli(phone, ["sync"]);
  await cli(phone, ["note", "edit", note.id, "--file", "-"], onPhone);
  await cli(phone, ["sync"]);
  await cli(laptop, ["note", "edit", note.id, "--file", "-"], onLaptop);
  return note;
}
