-- Indexes that let a sync round read numbers without reading texts (issue 18).

-- The queue in order with each op's note. Choosing the next batch passes over the ops of
-- the batch still on the wire and of notes waiting for a decision; through this index it
-- passes over their note ids, not their texts, and reads the rows it takes.
CREATE INDEX outbox_queue ON outbox (seq, note_id);
