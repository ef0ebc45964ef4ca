-- Notes deleted forever (docs/history-design.md, "Trash and purge"). The row stays as a
-- stub with no text, deleted, so that the vault folder removes the note's file as for any
-- delete, and so that the server can be told: 1 = deleted forever here, the server not
-- told yet; 2 = the server has it (told by this device or another).
ALTER TABLE notes ADD COLUMN purged INTEGER NOT NULL DEFAULT 0 CHECK (purged IN (0, 1, 2));
CREATE INDEX notes_purge_unsent ON notes (id) WHERE purged = 1;
