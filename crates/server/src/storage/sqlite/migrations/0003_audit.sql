-- Canopy server schema 3: the append-only, hash-chained audit log.
-- hash = SHA-256(prev_hash || canonical event bytes); see storage/audit.rs.

CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY CHECK (seq > 0),
    at         INTEGER NOT NULL,
    -- No foreign key: the log outlives and never blocks changes to accounts.
    actor_account_id INTEGER,
    action     TEXT    NOT NULL,
    target     TEXT,
    details    TEXT    NOT NULL,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32)
);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
