-- Canopy server schema 6: bootstrap snapshots. When a device starts a bootstrap, the ids
-- of everything its user may see are listed once, in order, under a checkpoint; each page
-- is then one range of that list (so a page costs what it holds, and a bootstrap cut by
-- either side resumes at the same rows). The rows themselves are read when the page is.

CREATE TABLE sync_snapshots (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Whose downline; NULL for the whole company (an admin).
    root_member_id INTEGER,
    rows_total     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX sync_snapshots_by_account ON sync_snapshots (account_id);

CREATE TABLE sync_snapshot_members (
    snapshot_id INTEGER NOT NULL REFERENCES sync_snapshots (id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, ord)
) WITHOUT ROWID;
