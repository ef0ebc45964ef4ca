-- Full-text search over every note (issue 21): an FTS5 index of the titles and bodies of
-- the notes a search can find (not those in the trash or deleted forever) inside the
-- encrypted store, diacritics folded (café finds cafe). Three-letter prefixes have an
-- index of their own, so a half-typed word ("gar") reads one list, not every word's it
-- begins.
--
-- Triggers keep it in the transaction of every write to `notes`: an edit, a sync's merge or
-- overwrite, a vault pass, a conflict's resolution, a delete, a restore, a purge. One write
-- is let through unindexed: a note new to this device that a pull brings
-- (`search_indexed = 0`, set by the bulk insert of a pull page), because tokenizing a first
-- sync of 100,000 notes inside it would double the sync. Those rows are indexed right after
-- the round and, before that, by the first search that runs (`Store::index_pending`), so
-- no search ever answers from an index that lacks a note or still holds its old words.
--
-- `search_indexed = 1` says the index holds what it should for the row: its text when the
-- note is live, nothing when it is not.
--
-- The index refers to `notes` by rowid. `notes` has no INTEGER PRIMARY KEY, so a VACUUM
-- could renumber its rows: never VACUUM this store without rebuilding `notes_search`.
ALTER TABLE notes ADD COLUMN search_indexed INTEGER NOT NULL DEFAULT 1
    CHECK (search_indexed IN (0, 1));
CREATE INDEX notes_unindexed ON notes (search_indexed) WHERE search_indexed = 0;

CREATE VIRTUAL TABLE notes_search USING fts5(
    title,
    body,
    content = 'notes',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);

CREATE TRIGGER notes_search_on_insert AFTER INSERT ON notes
WHEN new.search_indexed = 1 AND new.deleted = 0 AND new.purged = 0
BEGIN
    INSERT INTO notes_search (rowid, title, body) VALUES (new.rowid, new.title, new.body);
END;

CREATE TRIGGER notes_search_on_delete AFTER DELETE ON notes
WHEN old.search_indexed = 1 AND old.deleted = 0 AND old.purged = 0
BEGIN
    INSERT INTO notes_search (notes_search, rowid, title, body)
    VALUES ('delete', old.rowid, old.title, old.body);
END;

-- The old words go (if the index had them), the new ones come (if the note is live).
CREATE TRIGGER notes_search_on_update AFTER UPDATE OF title, body, deleted, purged ON notes
WHEN old.title IS NOT new.title OR old.body IS NOT new.body
  OR old.deleted IS NOT new.deleted OR old.purged IS NOT new.purged
BEGIN
    INSERT INTO notes_search (notes_search, rowid, title, body)
    SELECT 'delete', old.rowid, old.title, old.body
    WHERE old.search_indexed = 1 AND old.deleted = 0 AND old.purged = 0;
    INSERT INTO notes_search (rowid, title, body)
    SELECT new.rowid, new.title, new.body WHERE new.deleted = 0 AND new.purged = 0;
    UPDATE notes SET search_indexed = 1 WHERE rowid = new.rowid AND search_indexed = 0;
END;

-- Stores made before this: every live note they hold.
INSERT INTO notes_search (rowid, title, body)
SELECT rowid, title, body FROM notes WHERE deleted = 0 AND purged = 0;
