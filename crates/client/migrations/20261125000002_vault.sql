-- The vault folder as Quire last wrote or read it: the file that holds each note, and the
-- title and text that file had then. An outside edit is what differs from this; when the
-- note changed here too, this text is the base they are merged from.
CREATE TABLE vault_files (
    note_id   TEXT PRIMARY KEY REFERENCES notes (id),
    file_name TEXT NOT NULL,
    title     TEXT NOT NULL,
    body      TEXT NOT NULL
);

-- A conflict between the app and the note's file (not another device): its "theirs" is not
-- on the server, so taking it is an edit to push like any other.
ALTER TABLE conflicts ADD COLUMN from_file INTEGER NOT NULL DEFAULT 0 CHECK (from_file IN (0, 1));
