-- The device that made each note's latest change: a pull can leave out what the asking
-- device wrote itself (it has that text already), which keeps a round's download small.
ALTER TABLE notes ADD COLUMN device_id TEXT;
