-- Canopy server schema 4: security alerts (SECURITY.md #15) for a user (a sign-in from a
-- new device or address) or for admins (repeated failures). Evidence is JSON holding ids,
-- addresses and device names only: never passwords, codes or tokens.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    -- The account the alert is about, if any.
    account_id      INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    audience        TEXT    NOT NULL CHECK (audience IN ('user', 'admin')),
    kind            TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    severity        TEXT    NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    evidence        TEXT    NOT NULL CHECK (json_valid(evidence)),
    created_at      INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    resolved_at     INTEGER,
    resolved_by     INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    CHECK (acknowledged_by IS NULL OR acknowledged_at IS NOT NULL),
    CHECK (resolved_by IS NULL OR resolved_at IS NOT NULL)
);

-- "My alerts", and the open-alert check before raising a deduplicated one.
CREATE INDEX alerts_by_account ON alerts (account_id, audience, kind, resolved_at);
CREATE INDEX alerts_by_account_time ON alerts (account_id, audience, created_at);
-- The admins' list: by audience and state, newest first.
CREATE INDEX alerts_by_audience_state
    ON alerts (audience, resolved_at, acknowledged_at, created_at);
