-- Notes of an end-to-end account whose sealed text from the server failed its check
-- (changed, moved, replayed, or not made on the text this device holds): nothing of them
-- was applied, this device keeps its own copy, and later rounds fetch them again.
CREATE TABLE unreadable_notes (
    note_id    TEXT    PRIMARY KEY,
    -- The version the server claimed.
    version    INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    noticed_at INTEGER NOT NULL
);
