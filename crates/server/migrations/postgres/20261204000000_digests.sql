-- Verification (quire_core::digest): an order-independent digest of each account's notes,
-- kept by bucket of note ids in the same transaction as every write. Keep in step with
-- migrations/sqlite.

-- Each sealed note's bucket and element (the element as a signed 64-bit integer; 0 for a
-- note deleted forever, which counts nothing). NULL until computed: notes in the clear
-- are never counted, and sealed notes from before this migration are counted the first
-- time their account's digest is asked for (the server's digest module), under the
-- account's lock.
ALTER TABLE notes ADD COLUMN digest_bucket BIGINT;
ALTER TABLE notes ADD COLUMN digest_part BIGINT;
CREATE INDEX notes_by_digest_bucket ON notes (account_id, digest_bucket, id);
CREATE INDEX notes_digest_missing ON notes (account_id)
    WHERE digest_part IS NULL AND snapshot_version IS NOT NULL;

-- Per account and bucket: the notes counted, and the exact sums of their elements' low
-- and high 32 bits. At most 4,096 rows an account, and no more than it has notes.
CREATE TABLE note_digests (
    account_id TEXT    NOT NULL,
    bucket     BIGINT NOT NULL,
    notes      BIGINT NOT NULL,
    low        BIGINT NOT NULL,
    high       BIGINT NOT NULL,
    PRIMARY KEY (account_id, bucket)
);
