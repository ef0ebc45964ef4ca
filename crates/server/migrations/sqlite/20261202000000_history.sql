-- Note history, trash and purge (docs/history-design.md). Keep in step with
-- migrations/postgres.

-- When the server took each entry, in milliseconds: history lists it, and retention
-- prunes by it. Entries from before this column get the time their op was answered, if
-- that answer is still kept, else their note's last change: never older than they are.
ALTER TABLE note_entries ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE note_entries SET created_at = coalesce(
    (SELECT a.created_at FROM applied_ops a
     WHERE a.account_id = note_entries.account_id AND a.op_id = note_entries.op_id),
    (SELECT n.updated_at FROM notes n
     WHERE n.account_id = note_entries.account_id AND n.id = note_entries.note_id),
    0);

-- The snapshots pruning starts from, oldest first.
CREATE INDEX note_entries_snapshots_by_age ON note_entries (created_at)
    WHERE form = 'snapshot';

-- Deleted forever: the row stays (deleted, with no text and no entries) so that every
-- device learns of it from its pull, and so that the id takes no more ops.
ALTER TABLE notes ADD COLUMN purged INTEGER NOT NULL DEFAULT 0;
