-- What a vault pass needs to skip the files and notes that did not change (issue 18).
--
-- The file as Quire last saw it: size, modification time and inode (its stamp) and a hash
-- of its bytes. A file whose stamp is unchanged is not read; one whose bytes hash the same
-- is not parsed. NULL stamp: read it next pass (never seen, held, or seen so soon after a
-- write that a second write in the same clock tick would leave the stamp as it was).
ALTER TABLE vault_files ADD COLUMN size INTEGER;
ALTER TABLE vault_files ADD COLUMN mtime_ns INTEGER;
ALTER TABLE vault_files ADD COLUMN inode INTEGER;
ALTER TABLE vault_files ADD COLUMN file_hash BLOB;

-- Every pass reads these columns (and the title) for every file: an index that covers them keeps the texts'
-- pages (the merge bases) out of that read.
CREATE INDEX vault_files_stamps
    ON vault_files (note_id, file_name, title, size, mtime_ns, inode, file_hash);

-- Notes whose text changed since the vault last wrote them out: a pass looks at these
-- instead of comparing every note. Kept by triggers, so no write path can forget it. `seq`
-- grows on every change (AUTOINCREMENT never reuses one), so a pass that wrote a note out
-- clears its row only if the note did not change again meanwhile. (The triggers delete and
-- insert rather than INSERT OR REPLACE: an upsert on notes would impose its own conflict
-- handling on the trigger's insert and fail on the second change.) Only while the index
-- knows some file: a pull of 10,000 notes on a device without a vault folder writes no row,
-- and a pass that finds the index empty compares every note anyway.
CREATE TABLE vault_pending (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    note_id TEXT NOT NULL UNIQUE
);
INSERT INTO vault_pending (note_id) SELECT id FROM notes WHERE EXISTS (SELECT 1 FROM vault_files);

CREATE TRIGGER notes_pending_for_vault_on_insert AFTER INSERT ON notes
WHEN EXISTS (SELECT 1 FROM vault_files)
BEGIN
    DELETE FROM vault_pending WHERE note_id = new.id;
    INSERT INTO vault_pending (note_id) VALUES (new.id);
END;

CREATE TRIGGER notes_pending_for_vault_on_update AFTER UPDATE OF title, body, deleted ON notes
WHEN EXISTS (SELECT 1 FROM vault_files)
BEGIN
    DELETE FROM vault_pending WHERE note_id = new.id;
    INSERT INTO vault_pending (note_id) VALUES (new.id);
END;
