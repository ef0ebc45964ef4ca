-- Verification (issue 22): each note's part of the account digest as this device counts it
-- (quire_core::digest::element of its id, base version, trash state and the keyed hash of
-- its text), kept so that a check sums 100,000 small rows inside SQLite instead of reading
-- and hashing every note's text (5 s for 100,000 notes of 1 KB; the target is 200 ms).
--
-- Triggers mark a note stale in the transaction of every change to what its part is made
-- of: its row, text, trash state or purge, and its base's version. A check computes the
-- stale notes' parts first. A change made behind the store's back through SQL marks its
-- note stale all the same, so the check still finds it.
CREATE TABLE digest_parts (
    note_id TEXT    PRIMARY KEY,
    bucket  INTEGER NOT NULL,
    -- The element as a signed 64-bit integer.
    part    INTEGER NOT NULL,
    -- The base version it was counted at.
    version INTEGER NOT NULL
);
CREATE INDEX digest_parts_by_bucket ON digest_parts (bucket);

-- A note marked again while its part is being made has its `seq` moved on: the check then
-- leaves the mark for the next pass instead of taking it away with an outdated part.
CREATE TABLE digest_stale (
    note_id TEXT    PRIMARY KEY,
    seq     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO digest_stale (note_id) SELECT id FROM notes;

CREATE TRIGGER notes_digest_stale_on_insert AFTER INSERT ON notes
BEGIN
    INSERT INTO digest_stale (note_id) VALUES (new.id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
END;

CREATE TRIGGER notes_digest_stale_on_update AFTER UPDATE OF id, title, body, deleted, purged ON notes
BEGIN
    INSERT INTO digest_stale (note_id) VALUES (old.id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO digest_stale (note_id) VALUES (new.id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
END;

CREATE TRIGGER notes_digest_stale_on_delete AFTER DELETE ON notes
BEGIN
    INSERT INTO digest_stale (note_id) VALUES (old.id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
END;

CREATE TRIGGER bases_digest_stale_on_insert AFTER INSERT ON bases
BEGIN
    INSERT INTO digest_stale (note_id) VALUES (new.note_id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
END;

CREATE TRIGGER bases_digest_stale_on_update AFTER UPDATE OF note_id, version ON bases
BEGIN
    INSERT INTO digest_stale (note_id) VALUES (old.note_id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO digest_stale (note_id) VALUES (new.note_id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
END;

CREATE TRIGGER bases_digest_stale_on_delete AFTER DELETE ON bases
BEGIN
    INSERT INTO digest_stale (note_id) VALUES (old.note_id) ON CONFLICT (note_id) DO UPDATE SET seq = seq + 1;
END;
