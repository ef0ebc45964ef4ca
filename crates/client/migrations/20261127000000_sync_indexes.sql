-- Indexes that let a sync round read numbers without reading texts (issue 18).

-- Each note's synced version beside its id. After a push, the next pull lists the
-- versions of this device's own changes and the store checks it holds each of them; with
-- only the primary key's index, that check read every changed note's whole row (its
-- text) to learn one number: 10,000 notes read 10 MB.
CREATE INDEX notes_versions ON notes (id, version);

-- The queue in order with each op's note. Choosing the next batch passes over the ops of
-- the batch still on the wire and of notes waiting for a decision; through this index it
-- passes over their note ids, not their texts, and reads the rows it takes.
CREATE INDEX outbox_queue ON outbox (seq, note_id);
