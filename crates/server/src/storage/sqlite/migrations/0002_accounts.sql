-- Canopy server schema 2: accounts, MFA, recovery codes, devices, sessions and tokens,
-- sign-in history and throttling. All security state lives here, never in a process.

CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY,
    email               TEXT    NOT NULL,
    -- The email in full Unicode lowercase, computed by the server: the unique key.
    email_key           TEXT    NOT NULL UNIQUE,
    password_hash       TEXT    NOT NULL,
    role                TEXT    NOT NULL CHECK (role IN ('distributor', 'manager', 'admin')),
    member_id           INTEGER UNIQUE REFERENCES members (id),
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL,
    -- The TOTP secret sealed (AEAD) with the server's key; never the raw secret.
    totp_secret_sealed  BLOB,
    mfa_enabled         INTEGER NOT NULL DEFAULT 0 CHECK (mfa_enabled IN (0, 1)),
    -- The last TOTP time step accepted: the replay guard.
    last_totp_step      INTEGER,
    CHECK (mfa_enabled = 0 OR totp_secret_sealed IS NOT NULL)
);

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash  BLOB    NOT NULL CHECK (length(code_hash) = 32),
    used_at    INTEGER,
    UNIQUE (account_id, code_hash)
);

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    public_key   BLOB    NOT NULL UNIQUE CHECK (length(public_key) = 32),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER,
    revoked_at   INTEGER
);

CREATE INDEX devices_by_account ON devices (account_id);

-- A session: one sign-in on one device, the family its refresh tokens rotate within.
CREATE TABLE session_families (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id       INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    mfa_verified_at INTEGER,
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);

CREATE INDEX session_families_by_account ON session_families (account_id);
CREATE INDEX session_families_by_device ON session_families (device_id);

CREATE TABLE refresh_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    family_id  INTEGER NOT NULL REFERENCES session_families (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    used_at    INTEGER,
    expires_at INTEGER NOT NULL
);

CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

CREATE TABLE access_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    family_id  INTEGER NOT NULL REFERENCES session_families (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
);

CREATE INDEX access_tokens_by_family ON access_tokens (family_id);
CREATE INDEX access_tokens_by_device ON access_tokens (device_id);

CREATE TABLE sign_ins (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    -- A keyed hash of the email typed, for attempts on addresses with no account.
    email_hash BLOB CHECK (email_hash IS NULL OR length(email_hash) = 32),
    ip         TEXT    NOT NULL,
    device_id  INTEGER REFERENCES devices (id) ON DELETE SET NULL,
    outcome    TEXT    NOT NULL
);

CREATE INDEX sign_ins_by_account ON sign_ins (account_id, at);
CREATE INDEX sign_ins_by_account_ip ON sign_ins (account_id, ip, outcome);

-- One row per counted failure, so the window slides; pruned as failures leave it.
CREATE TABLE throttle_failures (
    id           INTEGER PRIMARY KEY,
    throttle_key TEXT    NOT NULL,
    at           INTEGER NOT NULL
);

CREATE INDEX throttle_failures_by_key ON throttle_failures (throttle_key, at);

CREATE TABLE throttle_state (
    throttle_key    TEXT PRIMARY KEY,
    next_allowed_at INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);
