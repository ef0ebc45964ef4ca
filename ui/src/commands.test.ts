import { beforeEach, describe, expect, it, vi } from "vitest";
import { COMMANDS, EVENTS } from "./commands";

// Records the names api.ts hands to Tauri instead of reaching a Rust side.
const invoked: string[] = [];
const listened: string[] = [];
vi.mock("@tauri-apps/api/core", () => ({
  invoke: (command: string) => {
    invoked.push(command);
    return Promise.resolve(null);
  },
}));
vi.mock("@tauri-apps/api/event", () => ({
  listen: (event: string) => {
    listened.push(event);
    return Promise.resolve(() => undefined);
  },
}));

const api = await import("./api");

type ApiFunction = (...args: unknown[]) => Promise<unknown>;

/** api.ts's exports that talk to Tauri: everything but the error type and its converter. */
function apiFunctions(): ApiFunction[] {
  return Object.entries(api)
    .filter(([name]) => name !== "ApiError" && name !== "toApiError")
    .map(([, fn]) => fn as ApiFunction);
}

describe("the command and event lists", () => {
  beforeEach(() => {
    invoked.length = 0;
    listened.length = 0;
  });

  it("name each command and event once", () => {
    expect(new Set(COMMANDS).size).toBe(COMMANDS.length);
    expect(new Set(EVENTS).size).toBe(EVENTS.length);
  });

  it("are exactly what api.ts invokes and listens to", async () => {
    for (const fn of apiFunctions()) {
      // Placeholder arguments: the names are what is checked here, not the payloads.
      await fn("id", {});
    }
    expect([...invoked].sort()).toEqual([...COMMANDS].sort());
    expect([...listened].sort()).toEqual([...EVENTS].sort());
  });
});
