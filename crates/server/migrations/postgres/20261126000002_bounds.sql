-- Bounds on what an account can make the server hold, and the hash that binds an op to its
-- exact base. Keep in step with migrations/sqlite.

-- The TextHash of the note's title and body (hex); NULL for rows written before it existed,
-- computed from the text when first needed.
ALTER TABLE notes ADD COLUMN text_hash TEXT;
-- Bytes of title and body, so that a push can weigh what it adds without reading texts.
ALTER TABLE notes ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE notes SET size = octet_length(title) + octet_length(body);

ALTER TABLE note_history ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
UPDATE note_history SET size = octet_length(title) + octet_length(body);

-- Bytes the account holds (its notes and their history, text and rows): its quota counts this.
ALTER TABLE accounts ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
-- Each row is charged 256 bytes beyond its text (push_batch::ROW_OVERHEAD).
UPDATE accounts SET stored_bytes =
    (SELECT coalesce(sum(size + 256), 0) FROM notes WHERE notes.account_id = accounts.id)
  + (SELECT coalesce(sum(size + 256), 0) FROM note_history WHERE note_history.account_id = accounts.id);
