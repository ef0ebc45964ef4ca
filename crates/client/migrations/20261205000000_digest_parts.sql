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
-- Covering the sums by bucket, so that they read this index in order and never the table:
-- parts written a few at a time, between other writes, lie scattered in the file, and
-- looking each one up cost 1.4 s for 100,000 (a page decrypted per row).
CREATE INDEX digest_parts_by_bucket ON digest_parts (bucket, part);

-- Every mark gets a random `seq`, and a note marked again gets a new one: a check takes
-- away only the marks it read, as it read them, so a note changed while its part was
-- being made (by this check or by another process's at the same time) stays marked.
CREATE TABLE digest_stale (
    note_id TEXT    PRIMARY KEY,
    seq     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO digest_stale (note_id, seq) SELECT id, random() FROM notes;

CREATE TRIGGER notes_digest_stale_on_insert AFTER INSERT ON notes
BEGIN
    INSERT INTO digest_stale (note_id, seq) VALUES (new.id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER notes_digest_stale_on_update AFTER UPDATE OF id, title, body, deleted, purged ON notes
BEGIN
    INSERT INTO digest_stale (note_id, seq) VALUES (old.id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO digest_stale (note_id, seq) VALUES (new.id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER notes_digest_stale_on_delete AFTER DELETE ON notes
BEGIN
    INSERT INTO digest_stale (note_id, seq) VALUES (old.id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER bases_digest_stale_on_insert AFTER INSERT ON bases
BEGIN
    INSERT INTO digest_stale (note_id, seq) VALUES (new.note_id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER bases_digest_stale_on_update AFTER UPDATE OF note_id, version ON bases
BEGIN
    INSERT INTO digest_stale (note_id, seq) VALUES (old.note_id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
    INSERT INTO digest_stale (note_id, seq) VALUES (new.note_id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
END;

CREATE TRIGGER bases_digest_stale_on_delete AFTER DELETE ON bases
BEGIN
    INSERT INTO digest_stale (note_id, seq) VALUES (old.note_id, random())
        ON CONFLICT (note_id) DO UPDATE SET seq = excluded.seq;
END;
