// The Tauri commands and events the UI uses. A Rust test in src-tauri checks these lists
// against the commands the app registers and the events it emits.
export const COMMANDS = [
  "app_info",
  "list_notes",
  "get_note",
  "create_note",
  "update_note",
  "sync_status",
  "sync_now",
  "pause_sync",
  "resume_sync",
  "delete_note",
  "restore_note",
  "list_trash",
  "purge_note",
  "note_versions",
  "compare_version",
  "restore_version",
  "list_conflicts",
  "get_conflict",
  "resolve_conflict",
  "list_attention",
  "dismiss_attention",
  "list_unreadable",
  "vault_problems",
  "get_preferences",
  "set_preference",
  "unset_preference",
  "set_start_at_login",
  "sign_in",
  "change_password",
  "recovery_key",
  "upgrade_account",
  "sign_out",
  "search_notes",
  "open_link",
] as const;
export type CommandName = (typeof COMMANDS)[number];

export const EVENTS = [
  "sync-status",
  "navigate",
  "notes-changed",
  "vault-progress",
] as const;
export type EventName = (typeof EVENTS)[number];
