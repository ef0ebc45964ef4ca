// The UI's only door to the Rust side. Types come from ui/src/bindings, generated from Rust.
import { invoke } from "@tauri-apps/api/core";
import { listen as tauriListen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppInfo } from "./bindings/AppInfo";
import type { CommandError } from "./bindings/CommandError";
import type { Note } from "./bindings/Note";
import type { NoteId } from "./bindings/NoteId";
import type { NoteSummary } from "./bindings/NoteSummary";
import type { SearchHit } from "./bindings/SearchHit";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { VaultProgress } from "./bindings/VaultProgress";
import type { ConflictView } from "./bindings/ConflictView";
import type { OpId } from "./bindings/OpId";
import type { Preferences } from "./bindings/Preferences";
import type { SetAside } from "./bindings/SetAside";
import type { UnreadableNote } from "./bindings/UnreadableNote";
import type { SettingKey } from "./bindings/SettingKey";
import type { VaultProblem } from "./bindings/VaultProblem";
import type { VersionComparison } from "./bindings/VersionComparison";
import type { VersionInfo } from "./bindings/VersionInfo";
import type { CommandName, EventName } from "./commands";

/** A failed command as the UI handles it: a stable code and a message fit to show. */
export class ApiError extends Error {
  readonly code: CommandError["code"] | "unexpected";

  constructor(code: CommandError["code"] | "unexpected", message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
  }
}

function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>).code === "string" &&
    typeof (value as Record<string, unknown>).message === "string"
  );
}

/** Turns whatever a rejected `invoke` gives into an ApiError with a readable message. */
export function toApiError(reason: unknown): ApiError {
  if (isCommandError(reason)) {
    return new ApiError(reason.code, reason.message);
  }
  if (reason instanceof Error) {
    return new ApiError("unexpected", reason.message);
  }
  return new ApiError("unexpected", typeof reason === "string" ? reason : "Something went wrong.");
}

// call and listen take only the names in commands.ts, which a Rust test checks against the app.
async function call<T>(command: CommandName, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (reason) {
    throw toApiError(reason);
  }
}

/** What each event carries; indexing it by EventName keeps it complete. */
interface EventPayloads {
  "sync-status": SyncStatus;
  navigate: string;
  "notes-changed": unknown;
  "vault-progress": VaultProgress;
}

function listen<E extends EventName>(event: E, handler: (payload: EventPayloads[E]) => void): Promise<UnlistenFn> {
  return tauriListen<EventPayloads[E]>(event, (received) => {
    handler(received.payload);
  });
}

export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}

export function listNotes(): Promise<NoteSummary[]> {
  return call<NoteSummary[]>("list_notes");
}

export function getNote(id: NoteId): Promise<Note> {
  return call<Note>("get_note", { id });
}

export function createNote(title: string, body: string): Promise<Note> {
  return call<Note>("create_note", { title, body });
}

/** Changes a note; a part left undefined stays as it is. */
export function updateNote(id: NoteId, edit: { title?: string; body?: string }): Promise<Note> {
  return call<Note>("update_note", { id, title: edit.title ?? null, body: edit.body ?? null });
}

/** Notes whose title or text has every word typed (the last may be half typed), best first. */
export function searchNotes(query: string): Promise<SearchHit[]> {
  return call<SearchHit[]>("search_notes", { query });
}

/** Opens an http(s) or mailto link from a note in the system's browser or mail program. */
export function openLink(url: string): Promise<void> {
  return call<undefined>("open_link", { url });
}

export function syncStatus(): Promise<SyncStatus> {
  return call<SyncStatus>("sync_status");
}

export function syncNow(): Promise<void> {
  return call<undefined>("sync_now");
}

export function pauseSync(): Promise<void> {
  return call<undefined>("pause_sync");
}

export function resumeSync(): Promise<void> {
  return call<undefined>("resume_sync");
}

/** The background task's status, each time it changes (the `sync-status` event). */
export function onSyncStatus(handler: (status: SyncStatus) => void): Promise<UnlistenFn> {
  return listen("sync-status", handler);
}

/** Where the tray (or a notification) wants the window to go. */
export function onNavigate(handler: (view: string) => void): Promise<UnlistenFn> {
  return listen("navigate", handler);
}

export function deleteNote(id: NoteId): Promise<void> {
  return call<undefined>("delete_note", { id });
}

/** Brings a deleted note back with the text it had. */
export function restoreNote(id: NoteId): Promise<Note> {
  return call<Note>("restore_note", { id });
}

export function listTrash(): Promise<NoteSummary[]> {
  return call<NoteSummary[]>("list_trash");
}

/** Deletes a note in the trash forever: here now, everywhere with the next sync. */
export function purgeNote(id: NoteId): Promise<void> {
  return call<undefined>("purge_note", { id });
}

export function noteVersions(id: NoteId): Promise<VersionInfo[]> {
  return call<VersionInfo[]>("note_versions", { id });
}

export function compareVersion(id: NoteId, version: number): Promise<VersionComparison> {
  return call<VersionComparison>("compare_version", { id, version });
}

export function restoreVersion(id: NoteId, version: number): Promise<Note> {
  return call<Note>("restore_version", { id, version });
}

export function listConflicts(): Promise<ConflictView[]> {
  return call<ConflictView[]>("list_conflicts");
}

export function getConflict(id: NoteId): Promise<ConflictView> {
  return call<ConflictView>("get_conflict", { id });
}

export function resolveConflict(id: NoteId, body: string): Promise<void> {
  return call<undefined>("resolve_conflict", { id, body });
}

/** Notes the server sent that failed their encryption check (kept apart, retried). */
export function listUnreadable(): Promise<UnreadableNote[]> {
  return call<UnreadableNote[]>("list_unreadable");
}

export function listAttention(): Promise<SetAside[]> {
  return call<SetAside[]>("list_attention");
}

export function dismissAttention(opId: OpId): Promise<void> {
  return call<undefined>("dismiss_attention", { opId });
}

export function getPreferences(): Promise<Preferences> {
  return call<Preferences>("get_preferences");
}

export function setPreference(key: SettingKey, value: string): Promise<Preferences> {
  return call<Preferences>("set_preference", { key, value });
}

/** Forgets a setting, so its default applies again (no vault folder, for "vault-dir"). */
export function unsetPreference(key: SettingKey): Promise<Preferences> {
  return call<Preferences>("unset_preference", { key });
}

/** Starts Quire in the tray at login, or stops doing so. */
export function setStartAtLogin(on: boolean): Promise<Preferences> {
  return call<Preferences>("set_start_at_login", { on });
}

export function signIn(request: {
  server: string;
  username: string;
  password: string;
  createAccount: boolean;
  /** Sign in to an account made before end-to-end encryption (it is then encrypted). */
  allowLegacy: boolean;
}): Promise<Preferences> {
  return call<Preferences>("sign_in", { ...request, insecureHttp: false });
}

/** Encrypts an account made before end-to-end encryption; its notes go again, sealed. */
export function upgradeAccount(password: string): Promise<Preferences> {
  return call<Preferences>("upgrade_account", { password });
}

/** Changes the account's password; every other device must sign in again. */
export function changePassword(current: string, next: string): Promise<Preferences> {
  return call<Preferences>("change_password", { current, new: next });
}

/** The account's recovery key, on the device that holds it. */
export function recoveryKey(): Promise<string> {
  return call<string>("recovery_key");
}

export function signOut(): Promise<Preferences> {
  return call<Preferences>("sign_out");
}

export function vaultProblems(): Promise<VaultProblem[]> {
  return call<VaultProblem[]>("vault_problems");
}

/** How far a long vault pass has come; `finished` when it is over. */
export function onVaultProgress(handler: (progress: VaultProgress) => void): Promise<UnlistenFn> {
  return listen("vault-progress", handler);
}

/** Notes changed outside the window (a file in the vault folder). */
export function onNotesChanged(handler: () => void): Promise<UnlistenFn> {
  return listen("notes-changed", () => {
    handler();
  });
}
