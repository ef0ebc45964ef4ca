import { describe, expect, it } from "vitest";
import type { Preferences } from "../bindings/Preferences";
import type { SetAside } from "../bindings/SetAside";
import { renderAttention } from "../attention/attention-view";
import { type SettingsActions, type SignIn, SettingsView } from "./settings-view";

const signedOut: Preferences = {
  server: null,
  account: null,
  endToEnd: false,
  hasRecoveryKey: false,
  conflictPolicy: "merge",
  syncInterval: 60,
  trashDays: 30,
  vaultDir: null,
  keepInTray: true,
  startAtLogin: false,
};

const signedInEndToEnd: Preferences = {
  ...signedOut,
  server: "https://sync.example",
  account: "ada",
  endToEnd: true,
  hasRecoveryKey: true,
};

const RECOVERY_KEY = "ABCDE-FGHJK-MNPQR-STVWX-YZ012-34567-89ABC-DEFGH-JKMNP-QRSTV-WXYZ0";

function byTestId(root: HTMLElement, id: string): HTMLElement {
  const found = root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`no ${id}`);
  return found;
}

function input(root: HTMLElement, id: string): HTMLInputElement {
  const found = byTestId(root, id);
  if (!(found instanceof HTMLInputElement)) throw new Error(`${id} is not an input`);
  return found;
}

function view(pane: HTMLElement, calls: string[], signIns: SignIn[]): SettingsView {
  return new SettingsView(pane, actions(calls, signIns));
}

function actions(calls: string[], signIns: SignIn[]): SettingsActions {
  return {
    setPreference: (key, value) => {
      calls.push(`${key}=${value}`);
      return Promise.resolve({ ...signedOut, syncInterval: Number(value) });
    },
    setStartAtLogin: (on) => {
      calls.push(`start-at-login=${String(on)}`);
      return Promise.resolve({ ...signedOut, startAtLogin: on });
    },
    unsetPreference: (key) => {
      calls.push(`unset ${key}`);
      return Promise.resolve(signedOut);
    },
    signIn: (request) => {
      signIns.push(request);
      return Promise.reject(new Error("the sync server refused the request (400): password too short"));
    },
    changePassword: (current, next) => {
      calls.push(`password ${current} -> ${next}`);
      return Promise.resolve(signedInEndToEnd);
    },
    recoveryKey: () => Promise.resolve(RECOVERY_KEY),
    upgradeAccount: (password) => {
      calls.push(`upgrade ${password}`);
      return Promise.resolve(signedInEndToEnd);
    },
    signOut: () => Promise.resolve(signedOut),
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
  };
}

describe("settings", () => {
  it("asks before signing in to an account made before encryption, then shows its new recovery key", async () => {
    // Attached, so that its forms submit.
    const pane = document.body.appendChild(document.createElement("main"));
    const signIns: SignIn[] = [];
    new SettingsView(pane, {
      ...actions([], signIns),
      signIn: (request) => {
        signIns.push(request);
        if (!request.allowLegacy) {
          return Promise.reject(Object.assign(new Error("the account is not end-to-end encrypted"), { code: "legacy_account" }));
        }
        return Promise.resolve(signedInEndToEnd);
      },
    }).show(signedOut, "local_only", "https://sync.example");
    expect(byTestId(pane, "legacy-consent").hidden).toBe(true);
    input(pane, "username").value = "old";
    input(pane, "password").value = "old password";
    byTestId(pane, "sign-in").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(byTestId(pane, "legacy-consent").hidden).toBe(false);
    expect(byTestId(pane, "password-hint").textContent).not.toContain("never leaves");
    expect(byTestId(pane, "settings-message").textContent).toContain("not end-to-end encrypted");

    input(pane, "password").value = "old password";
    input(pane, "allow-legacy").checked = true;
    byTestId(pane, "sign-in").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(signIns.map((request) => request.allowLegacy)).toEqual([false, true]);
    expect(byTestId(pane, "recovery-key").textContent).toBe(RECOVERY_KEY);
    expect(byTestId(pane, "settings-message").textContent).toContain("encrypted now");
    pane.remove();
  });

  it("encrypts a signed-in account made before encryption with its password", async () => {
    const pane = document.body.appendChild(document.createElement("main"));
    const calls: string[] = [];
    const legacy = { ...signedOut, server: "https://sync.example", account: "old" };
    view(pane, calls, []).show(legacy, "idle", null);
    expect(byTestId(pane, "encryption-state").textContent).toContain("the server can read");
    expect(pane.querySelector('[data-testid="change-password"]')).toBeNull();
    byTestId(pane, "upgrade-account").click();
    input(pane, "upgrade-password").value = "old password";
    byTestId(pane, "upgrade-submit").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual(["upgrade old password"]);
    expect(byTestId(pane, "encryption-state").textContent).toContain("encrypted end to end");
    expect(byTestId(pane, "recovery-key").textContent).toBe(RECOVERY_KEY);
    expect(pane.querySelector('[data-testid="upgrade-account"]')).toBeNull();
    pane.remove();
  });


  it("prefills the suggested server, sends the form once and forgets the password", async () => {
    const pane = document.createElement("main");
    const calls: string[] = [];
    const signIns: SignIn[] = [];
    view(pane, calls, signIns).show(signedOut, "local_only", "http://127.0.0.1:8787");
    expect(input(pane, "server-url").value).toBe("http://127.0.0.1:8787");
    input(pane, "username").value = "me";
    input(pane, "password").value = "secret words";
    byTestId(pane, "create-account").click();
    expect(signIns).toEqual([
      { server: "http://127.0.0.1:8787", username: "me", password: "secret words", createAccount: true, allowLegacy: false },
    ]);
    expect(input(pane, "password").value).toBe("");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(byTestId(pane, "settings-message").textContent).toContain("password too short");
  });

  it("saves a changed interval and shows who is signed in", async () => {
    const pane = document.createElement("main");
    const calls: string[] = [];
    view(pane, calls, []).show({ ...signedOut, server: "https://sync.example", account: "ada" }, "paused", null);
    expect(byTestId(pane, "signed-in-as").textContent).toBe("Signed in as ada on https://sync.example");
    const interval = input(pane, "sync-interval");
    interval.value = "300";
    interval.dispatchEvent(new Event("change"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual(["sync-interval=300"]);
    expect(byTestId(pane, "settings-message").textContent).toBe("Sync interval saved.");
    expect(byTestId(pane, "settings-pause").textContent).toBe("Resume sync");
    byTestId(pane, "settings-pause").click();
    expect(calls).toEqual(["sync-interval=300", "resume"]);
  });

  it("clears a set vault folder, and offers no Clear without one", async () => {
    const pane = document.createElement("main");
    const calls: string[] = [];
    view(pane, calls, []).show({ ...signedOut, vaultDir: "/home/me/Notes" }, "idle", null);
    expect(input(pane, "vault-dir").value).toBe("/home/me/Notes");
    byTestId(pane, "settings-vault-clear").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual(["unset vault-dir"]);
    expect(input(pane, "vault-dir").value).toBe("");
    expect(byTestId(pane, "settings-message").textContent).toBe("Vault folder cleared.");
    expect(pane.querySelector('[data-testid="settings-vault-clear"]')).toBeNull();
  });

  it("turns keeping sync going in the tray off and on", async () => {
    const pane = document.createElement("main");
    const calls: string[] = [];
    view(pane, calls, []).show(signedOut, "idle", null);
    const keep = input(pane, "keep-in-tray");
    expect(keep.checked).toBe(true);
    keep.checked = false;
    keep.dispatchEvent(new Event("change"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual(["keep-in-tray=false"]);
    expect(byTestId(pane, "settings-message").textContent).toBe("Saved.");
  });

  it("shows the recovery key once after an account is made, and says what losing it means", async () => {
    const pane = document.createElement("main");
    const signIns: SignIn[] = [];
    const settings = new SettingsView(pane, {
      ...actions([], signIns),
      signIn: (request) => {
        signIns.push(request);
        return Promise.resolve(signedInEndToEnd);
      },
    });
    settings.show(signedOut, "local_only", "http://127.0.0.1:8787");
    expect(byTestId(pane, "encryption-warning").textContent).toContain("nobody");
    input(pane, "username").value = "ada";
    input(pane, "password").value = "secret words";
    byTestId(pane, "create-account").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(byTestId(pane, "recovery-key").textContent).toBe(RECOVERY_KEY);
    expect(byTestId(pane, "recovery-key-panel").textContent).toContain("nobody");
    expect(byTestId(pane, "settings-message").textContent).toBe("Account created; syncing now.");
    expect(byTestId(pane, "encryption-state").textContent).toContain("encrypted end to end");
    byTestId(pane, "recovery-key-done").click();
    expect(pane.querySelector('[data-testid="recovery-key"]')).toBeNull();
    // And again on request.
    byTestId(pane, "show-recovery-key").click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(byTestId(pane, "recovery-key").textContent).toBe(RECOVERY_KEY);
  });

  it("changes the password only when the new one is typed twice alike, and forgets them", async () => {
    const pane = document.createElement("main");
    // A form submits only when it is in a document.
    document.body.append(pane);
    const calls: string[] = [];
    view(pane, calls, []).show(signedInEndToEnd, "idle", null);
    byTestId(pane, "change-password").click();
    input(pane, "current-password").value = "old words";
    input(pane, "new-password").value = "new words 1";
    input(pane, "new-password-again").value = "new words 2";
    byTestId(pane, "change-password-submit").click();
    expect(calls).toEqual([]);
    expect(byTestId(pane, "settings-message").textContent).toContain("differ");
    input(pane, "new-password-again").value = "new words 1";
    byTestId(pane, "change-password-submit").click();
    expect(calls).toEqual(["password old words -> new words 1"]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(byTestId(pane, "settings-message").textContent).toContain("other devices must sign in again");
    expect(pane.querySelector('[data-testid="current-password"]')).toBeNull();
    pane.remove();
  });

  it("says plainly when an account's notes are not encrypted end to end", () => {
    const pane = document.createElement("main");
    view(pane, [], []).show({ ...signedOut, server: "https://sync.example", account: "old" }, "idle", null);
    expect(byTestId(pane, "encryption-state").textContent).toContain("can read");
    expect(pane.querySelector('[data-testid="change-password"]')).toBeNull();
    expect(pane.querySelector('[data-testid="show-recovery-key"]')).toBeNull();
  });

  it("turns starting at login on", async () => {
    const pane = document.createElement("main");
    const calls: string[] = [];
    view(pane, calls, []).show(signedOut, "idle", null);
    const start = input(pane, "start-at-login");
    expect(start.checked).toBe(false);
    start.checked = true;
    start.dispatchEvent(new Event("change"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(calls).toEqual(["start-at-login=true"]);
    expect(input(pane, "start-at-login").checked).toBe(true);
  });
});

describe("needs attention", () => {
  it("lists refused changes with the reason and their text, and dismisses one", () => {
    const pane = document.createElement("main");
    const item: SetAside = {
      opId: "op1",
      noteId: "n1",
      kind: "update",
      title: "Huge",
      body: "lots of text",
      reason: "the change is larger than the server accepts",
      rejectedAt: 1,
    };
    const dismissed: string[] = [];
    renderAttention(pane, [item], (id) => dismissed.push(id));
    expect(byTestId(pane, "attention-reason").textContent).toBe(item.reason);
    expect(pane.querySelector("pre")?.textContent).toBe("lots of text");
    byTestId(pane, "dismiss-attention").click();
    expect(dismissed).toEqual(["op1"]);
  });

  it("lists notes from the server that failed their encryption check, with the reason", () => {
    const pane = document.createElement("main");
    renderAttention(pane, [], () => undefined, [], [
      {
        noteId: "n2",
        title: "Diary",
        version: 4,
        reason: "a sealed value failed its check",
        noticedAt: 1,
      },
    ]);
    const item = byTestId(pane, "unreadable-note");
    expect(item.textContent).toContain("“Diary” from the server could not be read");
    expect(item.textContent).toContain("failed its check");
    expect(item.textContent).toContain("keeps its own copy");
  });
});
