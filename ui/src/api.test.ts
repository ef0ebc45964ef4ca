import { describe, expect, it } from "vitest";
import { toApiError } from "./api";

describe("toApiError", () => {
  it("keeps the code and message of a command error", () => {
    const err = toApiError({ code: "data_dir", message: "set QUIRE_DATA_DIR" });
    expect(err.code).toBe("data_dir");
    expect(err.message).toBe("set QUIRE_DATA_DIR");
  });

  it("never shows [object Object] for an unknown shape", () => {
    const err = toApiError({ unexpected: true });
    expect(err.code).toBe("unexpected");
    expect(err.message).toBe("Something went wrong.");
  });

  it("uses the text of a plain string or Error", () => {
    expect(toApiError("window closed").message).toBe("window closed");
    expect(toApiError(new Error("ipc failed")).message).toBe("ipc failed");
  });
});
