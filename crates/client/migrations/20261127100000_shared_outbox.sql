-- A queued op whose text is its note's current text does not keep a second copy (issue 18):
-- NULL title and body in a create or update op read as the note's, as in `bases`. Every
-- note made or edited queued a full copy of its text, which a push then read, rewrote
-- when it marked the op sent, and deleted: three writes of every note's text (and
-- SQLCipher encrypting each) for a copy that was almost always the note's own. Readers
-- take coalesce(outbox.x, notes.x); the trigger below keeps that true when a note's text
-- changes.
--
-- SQLite cannot change a CHECK, so the table is made again (the create and update ops
-- may now hold NULL text), keeping its rows, its AUTOINCREMENT counter and its indexes.

CREATE TABLE outbox_shared (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id        TEXT    NOT NULL UNIQUE,
    note_id      TEXT    NOT NULL REFERENCES notes (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('create', 'update', 'delete')),
    -- NULL in a create or update: the same as notes.title / notes.body.
    title        TEXT,
    body         TEXT,
    base_version INTEGER,
    device_id    TEXT    NOT NULL,
    clock        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    -- Set when a push carrying this op has started: from then on it may be on the server,
    -- so later edits must not be folded into it.
    sent_at      INTEGER,
    lww          INTEGER NOT NULL DEFAULT 0 CHECK (lww IN (0, 1)),
    CHECK ((title IS NULL) = (body IS NULL)),
    CHECK (kind <> 'delete' OR title IS NULL)
);

INSERT INTO outbox_shared (seq, op_id, note_id, kind, title, body, base_version, device_id,
                           clock, created_at, sent_at, lww)
SELECT o.seq, o.op_id, o.note_id, o.kind,
       CASE WHEN o.title IS n.title AND o.body IS n.body THEN NULL ELSE o.title END,
       CASE WHEN o.title IS n.title AND o.body IS n.body THEN NULL ELSE o.body END,
       o.base_version, o.device_id, o.clock, o.created_at, o.sent_at, o.lww
FROM outbox o LEFT JOIN notes n ON n.id = o.note_id;

-- Queue places keep counting from where they were, even when the queue is empty now.
DELETE FROM sqlite_sequence WHERE name = 'outbox_shared';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'outbox_shared', max(
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0),
    coalesce((SELECT max(seq) FROM outbox_shared), 0));

DROP TABLE outbox;
ALTER TABLE outbox_shared RENAME TO outbox;
CREATE INDEX outbox_by_note ON outbox (note_id, seq);
CREATE INDEX outbox_queue ON outbox (seq, note_id);

-- Before a note's text changes, the ops that share it take their own copy of the old one.
-- A trigger, so that no write path (edits, merges, pulls, the vault) can forget it.
CREATE TRIGGER notes_text_leaves_shared_ops AFTER UPDATE OF title, body ON notes
WHEN old.title IS NOT new.title OR old.body IS NOT new.body
BEGIN
    UPDATE outbox SET title = old.title, body = old.body
    WHERE note_id = old.id AND kind <> 'delete' AND title IS NULL;
END;
