-- Canopy server schema 5: replacing an authenticator (SECURITY.md #10). A new TOTP secret
-- waits here, sealed like the active one, until a code from it confirms it; the active
-- secret and `mfa_enabled` stay as they are until then. Pending secrets expire (15 min).

ALTER TABLE accounts ADD COLUMN pending_totp_secret BLOB;
ALTER TABLE accounts ADD COLUMN pending_totp_created_at INTEGER;
