-- Finishing an upgrade whose device stopped (docs/e2e-design.md, "Upgrade"). Keep in step
-- with migrations/sqlite.

-- While an upgraded account may still have notes in the clear: when one last left it (or
-- when the account was upgraded, or another device last took the rest over), in
-- milliseconds. NULL once none is left, and for every other account, so that their pulls
-- never look.
ALTER TABLE accounts ADD COLUMN upgrade_progress_at BIGINT;
-- What the account held in the clear when it was upgraded, sealed by the upgrading device
-- under the data key: a device that takes the rest over takes only what this lists.
ALTER TABLE accounts ADD COLUMN upgrade_manifest BYTEA;

-- The notes still in the clear, by account and id: found without reading the sealed ones.
CREATE INDEX notes_in_the_clear ON notes (account_id, id) WHERE snapshot_version IS NULL;
