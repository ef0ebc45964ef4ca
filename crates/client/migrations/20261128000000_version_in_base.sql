-- A note's synced version is its base's version; `notes.version` goes (issue 18).
-- The two were written together everywhere, and every pushed note took a new version:
-- SQLite rewrites a whole row, text and all, to change one column, so a push of 10,000
-- notes rewrote (and SQLCipher re-encrypted) 10 MB to record 10,000 integers. A base row
-- that shares its note's text is a few dozen bytes. No base: never on the server.

-- Stores made by any Quire so far hold a base exactly where a note has a version, at the
-- same version. Should one not, nothing is guessed that could cost text:
-- a version with no base and nothing queued means the note is the server's text at that
-- version, so that is its base;
INSERT INTO bases (note_id, version)
SELECT n.id, n.version FROM notes n
WHERE n.version IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM bases b WHERE b.note_id = n.id)
    AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.note_id = n.id);
-- with queued changes the server's text is unknown: the note keeps no base, its queued ops
-- keep the versions they were made on, and the server's answer to them brings the base
-- (or a conflict for the person to decide). A base at another version stays as it is:
-- its text is the server's at its version.

ALTER TABLE notes DROP COLUMN version;
