import type { ConflictPolicy } from "../bindings/ConflictPolicy";
import type { Preferences } from "../bindings/Preferences";
import type { SettingKey } from "../bindings/SettingKey";
import type { SyncState } from "../bindings/SyncState";
import { el } from "../dom";

export interface SignIn {
  server: string;
  username: string;
  password: string;
  createAccount: boolean;
  /** Sign in to an account made before end-to-end encryption, which encrypts it. */
  allowLegacy: boolean;
}

export interface SettingsActions {
  setPreference(key: SettingKey, value: string): Promise<Preferences>;
  unsetPreference(key: SettingKey): Promise<Preferences>;
  setStartAtLogin(on: boolean): Promise<Preferences>;
  signIn(request: SignIn): Promise<Preferences>;
  changePassword(current: string, next: string): Promise<Preferences>;
  recoveryKey(): Promise<string>;
  upgradeAccount(password: string): Promise<Preferences>;
  signOut(): Promise<Preferences>;
  pause(): void;
  resume(): void;
}

const PASSWORD_HINT =
  "At least 8 characters. It never leaves this device: your notes are encrypted here, and the server cannot read them.";

/** A labelled control, with a hint below and buttons that act on it beside it. */
function field(label: string, control: HTMLElement, hint?: string, beside: HTMLElement[] = []): HTMLElement {
  const id = control.getAttribute("id") ?? "";
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label),
    beside.length === 0 ? control : el("div", { class: "field-row" }, control, ...beside),
    ...(hint === undefined ? [] : [el("p", { class: "hint", "data-testid": `${id}-hint` }, hint)]),
  );
}

/**
 * Settings: the sync account (sign in, create, sign out), the conflict policy, how often to
 * sync, pause, and the vault folder (set or cleared). Every change is checked by the Rust
 * side; its message is shown next to the form.
 */
export class SettingsView {
  constructor(
    private readonly pane: HTMLElement,
    private readonly actions: SettingsActions,
  ) {}

  /** Shows the settings; `recoveryKey`, right after an account was made, is shown once. */
  show(prefs: Preferences, syncState: SyncState, suggestedServer: string | null, recoveryKey: string | null = null): void {
    const message = el("p", { class: "form-message", role: "status", "data-testid": "settings-message" });
    const failed = (reason: unknown) => {
      message.textContent = reason instanceof Error ? reason.message : "That did not work.";
      message.classList.add("error");
    };
    const saved = (text: string, key: string | null = null) => (next: Preferences) => {
      this.show(next, syncState, suggestedServer, key);
      const shown = this.pane.querySelector('[data-testid="settings-message"]');
      if (shown) shown.textContent = text;
    };

    this.pane.replaceChildren(
      el(
        "section",
        { class: "view settings", "data-testid": "settings", "aria-labelledby": "settings-title" },
        el("h2", { class: "view-title", id: "settings-title" }, "Settings"),
        this.account(prefs, suggestedServer, recoveryKey, { saved, failed, syncState }),
        this.syncOptions(prefs, syncState, saved, failed),
        message,
      ),
    );
  }

  private account(
    prefs: Preferences,
    suggestedServer: string | null,
    recoveryKey: string | null,
    outcome: {
      saved: (text: string, key?: string | null) => (next: Preferences) => void;
      failed: (reason: unknown) => void;
      syncState: SyncState;
    },
  ): HTMLElement {
    const { saved, failed } = outcome;
    if (prefs.account !== null) return this.signedIn(prefs, recoveryKey, saved, failed);
    const server = el("input", { id: "server-url", type: "url", "data-testid": "server-url", required: "", autocomplete: "url" });
    server.value = prefs.server ?? suggestedServer ?? "";
    const username = el("input", { id: "username", type: "text", "data-testid": "username", required: "", autocomplete: "username" });
    const password = el("input", {
      id: "password",
      type: "password",
      "data-testid": "password",
      required: "",
      autocomplete: "current-password",
    });
    // Shown when the server says the account was made before end-to-end encryption.
    const allowLegacy = el("input", { id: "allow-legacy", type: "checkbox", "data-testid": "allow-legacy" });
    const consent = el(
      "div",
      { class: "legacy-consent", "data-testid": "legacy-consent", hidden: "" },
      el(
        "p",
        { class: "hint" },
        "This account was made before Quire encrypted notes end to end. Signing in sends its password to the server once; Quire then encrypts every note on this device and sends it again, and the server drops the readable copies. Choose a new password afterwards if you do not trust this server.",
      ),
      el("label", { class: "check" }, allowLegacy, " Sign in and encrypt my notes"),
    );
    const submit = (createAccount: boolean) => {
      const request = {
        server: server.value,
        username: username.value,
        password: password.value,
        createAccount,
        allowLegacy: allowLegacy.checked,
      };
      // The password leaves the form as soon as it is sent; it is kept nowhere.
      password.value = "";
      const whenLegacy = (reason: unknown) => {
        if ((reason as { code?: unknown } | null)?.code === "legacy_account") {
          consent.hidden = false;
          // The usual promise does not hold for this account until it is encrypted.
          const hint = form.querySelector('[data-testid="password-hint"]');
          if (hint) hint.textContent = "The password of the account made before encryption.";
          password.focus();
        }
        failed(reason);
      };
      this.actions.signIn(request).then(async (next) => {
        if (!createAccount && !(request.allowLegacy && next.endToEnd)) {
          saved(next.endToEnd || !request.allowLegacy
            ? "Signed in; syncing now."
            : "Signed in, but the notes are not encrypted yet: try again below.")(next);
          return;
        }
        // Shown once, now: the person writes it down before going on.
        const key = await this.actions.recoveryKey().catch(() => null);
        this.show(next, outcome.syncState, suggestedServer, key);
        const shown = this.pane.querySelector('[data-testid="settings-message"]');
        if (shown) {
          shown.textContent = createAccount
            ? "Account created; syncing now."
            : "Signed in. Your notes are encrypted now and are being sent again.";
        }
      }, whenLegacy);
    };
    const signIn = el("button", { type: "submit", class: "primary", "data-testid": "sign-in" }, "Sign in");
    const create = el("button", { type: "button", "data-testid": "create-account" }, "Create account");
    create.addEventListener("click", () => { submit(true); });
    const form = el(
      "form",
      { class: "group", "aria-label": "Sign in to a sync server" },
      el("p", { class: "lead" }, suggestedServer !== null && prefs.server === null
        ? `Sync your notes: create an account on ${suggestedServer}, or sign in to one you have.`
        : "Sign in to a Quire sync server to sync your notes between devices."),
      field("Server", server),
      field("User name", username),
      field("Password", password, PASSWORD_HINT),
      el(
        "p",
        { class: "hint", "data-testid": "encryption-warning" },
        "A new account gets a recovery key. Without your password or that key, nobody, not even the server's operator, can read your notes or get them back.",
      ),
      consent,
      el("div", { class: "actions" }, signIn, create),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(false);
    });
    return form;
  }

  /** Signed in: who and where, how the notes are protected, the recovery key, a new password, sign out. */
  private signedIn(
    prefs: Preferences,
    recoveryKey: string | null,
    saved: (text: string, key?: string | null) => (next: Preferences) => void,
    failed: (reason: unknown) => void,
  ): HTMLElement {
    const group = el("fieldset", { class: "group" }, el("legend", {}, "Sync account"));
    group.append(
      el("p", { "data-testid": "signed-in-as" }, `Signed in as ${prefs.account ?? ""} on ${prefs.server ?? ""}`),
      el(
        "p",
        { class: "hint", "data-testid": "encryption-state" },
        prefs.endToEnd
          ? "Your notes are encrypted end to end: the server stores them but cannot read them."
          : "This account was made before end-to-end encryption: the server can read its notes.",
      ),
    );
    const panel = el("div", { class: "recovery-slot" });
    const showPanel = (key: string, justMade: boolean) => {
      panel.replaceChildren(this.recoveryPanel(key, justMade, () => { panel.replaceChildren(); }));
    };
    if (recoveryKey !== null) showPanel(recoveryKey, true);

    const actions = el("div", { class: "actions" });
    if (prefs.hasRecoveryKey) {
      const show = el("button", { type: "button", "data-testid": "show-recovery-key" }, "Show recovery key");
      show.addEventListener("click", () => {
        this.actions.recoveryKey().then((key) => { showPanel(key, false); }, failed);
      });
      actions.append(show);
    }
    const passwordSlot = el("div", { class: "password-slot" });
    if (!prefs.endToEnd) {
      const upgrade = el("button", { type: "button", class: "primary", "data-testid": "upgrade-account" }, "Encrypt end to end");
      upgrade.addEventListener("click", () => {
        passwordSlot.replaceChildren(this.upgradeForm(saved, failed, () => { passwordSlot.replaceChildren(); }));
      });
      actions.append(upgrade);
    }
    if (prefs.endToEnd) {
      const change = el("button", { type: "button", "data-testid": "change-password" }, "Change password");
      change.addEventListener("click", () => {
        passwordSlot.replaceChildren(this.passwordForm(saved, failed, () => { passwordSlot.replaceChildren(); }));
      });
      actions.append(change);
    }
    const signOut = el("button", { type: "button", "data-testid": "sign-out" }, "Sign out");
    signOut.addEventListener("click", () => {
      this.actions.signOut().then(saved("Signed out. Your notes stay on this device."), failed);
    });
    actions.append(signOut);
    group.append(panel, actions, passwordSlot);
    return group;
  }

  private recoveryPanel(key: string, justMade: boolean, close: () => void): HTMLElement {
    const copied = el("span", { class: "hint", role: "status" });
    const copy = el("button", { type: "button", "data-testid": "copy-recovery-key" }, "Copy");
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(key).then(
        () => { copied.textContent = "Copied."; },
        () => { copied.textContent = "Select the key and copy it."; },
      );
    });
    const done = el(
      "button",
      { type: "button", class: "primary", "data-testid": "recovery-key-done" },
      justMade ? "I have written it down" : "Hide",
    );
    done.addEventListener("click", close);
    return el(
      "section",
      { class: "recovery-key", "data-testid": "recovery-key-panel", "aria-label": "Recovery key" },
      el("h3", {}, "Your recovery key"),
      el("p", {}, justMade
        ? "Write this key down now and keep it somewhere safe, away from this computer. If you forget your password, it is the only way back to your notes."
        : "It sets a new password if you forget yours. Keep it somewhere safe, away from this computer."),
      el("code", { class: "recovery-key-text", "data-testid": "recovery-key" }, key),
      el("p", { class: "hint" }, "Without your password or this key, nobody, not even the server's operator, can read your notes."),
      el("div", { class: "actions" }, copy, done, copied),
    );
  }

  /** The password once more, to encrypt an account made before end-to-end encryption. */
  private upgradeForm(
    saved: (text: string, key?: string | null) => (next: Preferences) => void,
    failed: (reason: unknown) => void,
    close: () => void,
  ): HTMLElement {
    const password = el("input", {
      id: "upgrade-password",
      type: "password",
      "data-testid": "upgrade-password",
      required: "",
      autocomplete: "current-password",
    });
    const submit = el("button", { type: "submit", class: "primary", "data-testid": "upgrade-submit" }, "Encrypt my notes");
    const cancel = el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", close);
    const form = el(
      "form",
      { class: "password-change", "aria-label": "Encrypt end to end" },
      el(
        "p",
        { class: "hint" },
        "Your notes will be encrypted on this device and sent again; the server then drops its readable copies. You get a recovery key, and your other devices must sign in again.",
      ),
      field("Password", password),
      el("div", { class: "actions" }, submit, cancel),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = password.value;
      password.value = "";
      submit.setAttribute("disabled", "");
      this.actions.upgradeAccount(chosen).then(async (next) => {
        const key = await this.actions.recoveryKey().catch(() => null);
        saved("Your notes are encrypted end to end now and are being sent again.", key)(next);
      }, (reason: unknown) => {
        submit.removeAttribute("disabled");
        failed(reason);
      });
    });
    return form;
  }

  private passwordForm(
    saved: (text: string) => (next: Preferences) => void,
    failed: (reason: unknown) => void,
    close: () => void,
  ): HTMLElement {
    const input = (id: string, autocomplete: string) =>
      el("input", { id, type: "password", "data-testid": id, required: "", autocomplete });
    const current = input("current-password", "current-password");
    const next = input("new-password", "new-password");
    const again = input("new-password-again", "new-password");
    const submit = el("button", { type: "submit", class: "primary", "data-testid": "change-password-submit" }, "Change password");
    const cancel = el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", close);
    const form = el(
      "form",
      { class: "password-change", "aria-label": "Change password" },
      field("Current password", current),
      field("New password", next, "At least 8 characters. Your other devices will need to sign in again with it."),
      field("New password again", again),
      el("div", { class: "actions" }, submit, cancel),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (next.value !== again.value) {
        failed(new Error("The new passwords differ; nothing was changed."));
        return;
      }
      const [old, chosen] = [current.value, next.value];
      for (const box of [current, next, again]) box.value = "";
      this.actions
        .changePassword(old, chosen)
        .then(saved("Password changed. Your other devices must sign in again with it."), failed);
    });
    return form;
  }

  private syncOptions(
    prefs: Preferences,
    syncState: SyncState,
    saved: (text: string) => (next: Preferences) => void,
    failed: (reason: unknown) => void,
  ): HTMLElement {
    const policy = el(
      "select",
      { id: "conflict-policy", "data-testid": "conflict-policy" },
      el("option", { value: "merge" }, "Merge, and ask me when both devices changed the same lines"),
      el("option", { value: "lww" }, "Last write wins (the replaced text stays in the server's history)"),
    );
    policy.value = prefs.conflictPolicy satisfies ConflictPolicy;
    policy.addEventListener("change", () => {
      this.actions.setPreference("conflict-policy", policy.value).then(saved("Conflict policy saved."), failed);
    });

    const interval = el("input", {
      id: "sync-interval",
      type: "number",
      min: "5",
      max: "86400",
      "data-testid": "sync-interval",
    });
    interval.value = String(prefs.syncInterval);
    interval.addEventListener("change", () => {
      this.actions.setPreference("sync-interval", interval.value).then(saved("Sync interval saved."), failed);
    });

    const trashDays = el("input", {
      id: "trash-days",
      type: "number",
      min: "0",
      max: "36500",
      "data-testid": "trash-days",
    });
    trashDays.value = String(prefs.trashDays);
    trashDays.addEventListener("change", () => {
      this.actions.setPreference("trash-days", trashDays.value).then(saved("Trash setting saved."), failed);
    });

    const vault = el("input", { id: "vault-dir", type: "text", "data-testid": "vault-dir", placeholder: "/home/me/Notes" });
    vault.value = prefs.vaultDir ?? "";
    vault.addEventListener("change", () => {
      this.actions.setPreference("vault-dir", vault.value).then(saved("Vault folder saved."), failed);
    });
    const clearVault = el(
      "button",
      { type: "button", "data-testid": "settings-vault-clear", "aria-label": "Clear the vault folder" },
      "Clear",
    );
    clearVault.addEventListener("click", () => {
      this.actions.unsetPreference("vault-dir").then(saved("Vault folder cleared."), failed);
    });
    // Only a folder that is set can be cleared, so without one there is no button.
    const vaultSet = (prefs.vaultDir ?? "") !== "";

    const keepInTray = el("input", { id: "keep-in-tray", type: "checkbox", "data-testid": "keep-in-tray" });
    keepInTray.checked = prefs.keepInTray;
    keepInTray.addEventListener("change", () => {
      const value = keepInTray.checked ? "true" : "false";
      this.actions.setPreference("keep-in-tray", value).then(saved("Saved."), failed);
    });
    const keepInTrayRow = el(
      "div",
      { class: "field checkbox" },
      keepInTray,
      el("label", { for: "keep-in-tray" }, "Keep syncing in the tray when the window is closed"),
    );

    const startAtLogin = el("input", { id: "start-at-login", type: "checkbox", "data-testid": "start-at-login" });
    startAtLogin.checked = prefs.startAtLogin;
    startAtLogin.addEventListener("change", () => {
      this.actions.setStartAtLogin(startAtLogin.checked).then(saved("Saved."), failed);
    });
    const startAtLoginRow = el(
      "div",
      { class: "field checkbox" },
      startAtLogin,
      el("label", { for: "start-at-login" }, "Start Quire when I log in"),
    );

    const paused = syncState === "paused";
    const pause = el("button", { type: "button", "data-testid": "settings-pause" }, paused ? "Resume sync" : "Pause sync");
    pause.addEventListener("click", () => {
      if (paused) this.actions.resume();
      else this.actions.pause();
    });

    return el(
      "fieldset",
      { class: "group" },
      el("legend", {}, "Syncing"),
      field("When both devices changed a note", policy),
      field("Sync every (seconds)", interval, "Also soon after each change, and when you click Sync now."),
      field("Empty the trash after (days)", trashDays, "Notes in the trash longer are deleted forever, on every device. 0: this device never empties it (each device keeps its own setting)."),
      field("Vault folder", vault, "Mirror notes as Markdown files in this folder.", vaultSet ? [clearVault] : []),
      keepInTrayRow,
      startAtLoginRow,
      el("div", { class: "actions" }, pause),
    );
  }
}
