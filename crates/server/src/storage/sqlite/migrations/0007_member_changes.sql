-- Canopy server schema 7: the change log the sync's deltas read. Every change to a member
-- after the company is seeded appends the member's id (a moved member: the whole subtree,
-- since all of it may enter or leave someone's scope). A bootstrap snapshot remembers the
-- log's position when it was listed; its deltas start there.

CREATE TABLE member_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL,
    at        INTEGER NOT NULL
);

ALTER TABLE sync_snapshots ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
