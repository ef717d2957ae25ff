-- Canopy server schema 13: what each push applied, by whom, from which device and network
-- address, for the transaction watch (SECURITY.md #15: unusual transactions raise admin
-- alerts). Orders and enrollments don't record who placed them or from where; this does,
-- with the order's total and volume, so each rule is one index range. Rows older than the
-- watch looks back are deleted as new ones come (the address is personal data).

CREATE TABLE push_events (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    device_id     INTEGER NOT NULL,
    -- The client's address, canonical text (an IPv4-mapped IPv6 address as IPv4).
    ip            TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('enroll', 'order')),
    -- The member enrolled, or the member the order is for.
    member_id     INTEGER NOT NULL,
    order_id      INTEGER,
    amount_minor  INTEGER,
    currency      TEXT,
    pv_hundredths INTEGER,
    CHECK ((kind = 'order') = (order_id IS NOT NULL)),
    CHECK ((kind = 'order') = (amount_minor IS NOT NULL AND currency IS NOT NULL
                               AND pv_hundredths IS NOT NULL))
);

-- One row per order and per enrolled member: a push repeated after a lost response (the
-- same answers again) records nothing twice.
CREATE UNIQUE INDEX push_events_by_order ON push_events (order_id) WHERE kind = 'order';
CREATE UNIQUE INDEX push_events_by_enrolled ON push_events (member_id) WHERE kind = 'enroll';
-- The watch's windows: by account, device, address, the member ordered for; and by time,
-- for the clean-up.
CREATE INDEX push_events_by_account ON push_events (account_id, kind, at);
CREATE INDEX push_events_by_device ON push_events (device_id, kind, at);
CREATE INDEX push_events_by_ip ON push_events (ip, kind, at);
CREATE INDEX push_events_by_member ON push_events (member_id, kind, at);
CREATE INDEX push_events_by_time ON push_events (at);
