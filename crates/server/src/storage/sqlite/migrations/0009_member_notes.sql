-- Canopy server schema 9: private notes a user keeps on members of their downline (made
-- offline, pushed through the outbox). Only their author sees them.

CREATE TABLE member_notes (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES members (id),
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX member_notes_by_author ON member_notes (account_id, member_id);
