-- Canopy server schema 8: the outbox push. Every command a device pushes is answered once
-- and the answer kept under the device's idempotency key, so a push repeated after a lost
-- response gets the same answer and changes nothing. Enrollments keep their consent.

CREATE TABLE applied_commands (
    account_id      INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    -- canopy_core::sync::push::Outcome as JSON.
    outcome         TEXT    NOT NULL,
    applied_at      INTEGER NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
) WITHOUT ROWID;

-- GDPR art. 7: what was consented to, when, under which text version, offline or not.
CREATE TABLE enrollment_consents (
    member_id     INTEGER PRIMARY KEY REFERENCES members (id),
    text_version  TEXT    NOT NULL,
    purposes      TEXT    NOT NULL,
    given_at      INTEGER NOT NULL,
    given_offline INTEGER NOT NULL,
    enrolled_by   INTEGER NOT NULL
);

-- One member per email address: the enrollment check.
CREATE INDEX member_personal_email ON member_personal (lower(email));
