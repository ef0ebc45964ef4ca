-- Verification (quire_core::digest): an order-independent digest of each account's notes,
-- kept by bucket of note ids in the same transaction as every write. Keep in step with
-- migrations/postgres.

-- Each sealed note's bucket and element (the element as a signed 64-bit integer; 0 for a
-- note deleted forever, which counts nothing). NULL until computed: notes in the clear
-- are never counted, and sealed notes from before this migration are counted the first
-- time their account's digest is asked for (the server's digest module), under the
-- account's lock.
ALTER TABLE notes ADD COLUMN digest_bucket INTEGER;
ALTER TABLE notes ADD COLUMN digest_part INTEGER;
CREATE INDEX notes_by_digest_bucket ON notes (account_id, digest_bucket, id);
CREATE INDEX notes_digest_missing ON notes (account_id)
    WHERE digest_part IS NULL AND snapshot_version IS NOT NULL;

-- Per account and bucket: the notes counted, and the exact sums of their elements' low
-- and high 32 bits. At most 4,096 rows an account, and no more than it has notes.
CREATE TABLE note_digests (
    account_id TEXT    NOT NULL,
    bucket     INTEGER NOT NULL,
    notes      INTEGER NOT NULL,
    low        INTEGER NOT NULL,
    high       INTEGER NOT NULL,
    PRIMARY KEY (account_id, bucket)
);

-- Nothing in the server deletes a note's row (a purge keeps it, counting nothing), but a
-- row removed by hand or lost to damage must leave the digest with it, or the digest would
-- vouch for a note the server no longer has. Inserts and updates are counted by the server
-- itself, a batch at a time.
CREATE TRIGGER notes_leave_digest AFTER DELETE ON notes
WHEN old.digest_part IS NOT NULL AND old.digest_part <> 0
BEGIN
    UPDATE note_digests SET notes = notes - 1,
        low = low - (old.digest_part & 4294967295),
        high = high - ((old.digest_part >> 32) & 4294967295)
    WHERE account_id = old.account_id AND bucket = old.digest_bucket;
END;
