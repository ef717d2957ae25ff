-- Sync state (one row) and the bootstrap's progress, so a cut bootstrap resumes.
CREATE TABLE sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor TEXT,
    checkpoint TEXT,
    checksum TEXT,
    last_sync_at TEXT
) STRICT;
INSERT INTO sync_state (id) VALUES (1);

CREATE TABLE bootstrap (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checkpoint TEXT NOT NULL,
    next_page INTEGER NOT NULL,
    rows_done INTEGER NOT NULL,
    rows_total INTEGER,
    started_at TEXT NOT NULL
) STRICT;

-- Offline commands waiting for the server, in the order they were made.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'applied', 'rejected')),
    server_ref TEXT,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_state ON outbox (state, seq);

-- Private notes the user keeps on members of their downline.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX notes_by_member ON notes (member_id, created_at);
