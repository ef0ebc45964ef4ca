-- Finishing an upgrade whose device stopped (docs/e2e-design.md, "Upgrade"). Keep in step
-- with migrations/postgres.

-- While an upgraded account may still have notes in the clear: when one last left it (or
-- when the account was upgraded), in milliseconds. NULL once none is left, and for every
-- other account, so that their pulls never look.
ALTER TABLE accounts ADD COLUMN upgrade_progress_at INTEGER;

-- The notes still in the clear, by account and id: found without reading the sealed ones.
CREATE INDEX notes_in_the_clear ON notes (account_id, id) WHERE snapshot_version IS NULL;

-- Accounts upgraded before this, with notes left in the clear: long since any progress.
UPDATE accounts SET upgrade_progress_at = 0
WHERE key_scheme = 'e2e-v1'
  AND EXISTS (SELECT 1 FROM notes
              WHERE notes.account_id = accounts.id AND notes.snapshot_version IS NULL);
