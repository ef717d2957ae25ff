-- Statements sync by digest (canopy_core::sync::statements): each statement remembers the
-- server's digest of it, and the compensation plan in force is kept for the app's
-- offline rank progress. The plan is not part of a snapshot: a bootstrap keeps it.
ALTER TABLE statements ADD COLUMN digest TEXT;

CREATE TABLE comp_plan (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    hash TEXT NOT NULL,
    toml TEXT NOT NULL
) STRICT;
