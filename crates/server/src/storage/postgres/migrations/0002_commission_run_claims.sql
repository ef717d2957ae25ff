-- Canopy server schema for PostgreSQL, version 2 (SQLite's 15): one commission run of a
-- period at a time, across every server instance on the database. A run claims its period
-- first; the claim is a lease (it lapses at `expires_at`), so a run whose process died
-- doesn't block the period for ever.

CREATE TABLE commission_run_claims (
    period     TEXT   PRIMARY KEY CHECK (length(period) = 7),
    holder     TEXT   NOT NULL,
    claimed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
