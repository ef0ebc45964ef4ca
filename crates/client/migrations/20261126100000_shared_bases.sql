-- A base that is the note's own text is not kept twice (issue 18): NULL title or body in
-- `bases` reads as the note's current one. A sync round writes the base of every note it
-- pushes or pulls, almost always the text the note has, and a second copy of each text
-- doubled what a round wrote (and SQLCipher encrypted). Readers take
-- coalesce(bases.x, notes.x); the trigger below keeps that true when a note's text changes.

CREATE TABLE bases_shared (
    note_id TEXT    PRIMARY KEY REFERENCES notes (id),
    version INTEGER NOT NULL,
    -- NULL: the same as notes.title / notes.body.
    title   TEXT,
    body    TEXT
);
INSERT INTO bases_shared (note_id, version, title, body)
SELECT b.note_id, b.version,
       CASE WHEN b.title = n.title THEN NULL ELSE b.title END,
       CASE WHEN b.body = n.body THEN NULL ELSE b.body END
FROM bases b LEFT JOIN notes n ON n.id = b.note_id;
DROP TABLE bases;
ALTER TABLE bases_shared RENAME TO bases;

-- Before a note's text changes, a base that shares it takes its own copy of the old one.
-- A trigger, so that no write path (edits, merges, pulls, the vault) can forget it.
CREATE TRIGGER notes_text_leaves_shared_base AFTER UPDATE OF title, body ON notes
BEGIN
    UPDATE bases SET title = coalesce(title, old.title), body = coalesce(body, old.body)
    WHERE note_id = old.id AND (title IS NULL OR body IS NULL);
END;
