-- Canopy server schema 14: the retention purge (GDPR art. 5(1)(e), `retention`) deletes
-- sign-ins by age and alerts by when they were resolved; each is one index range. Failed
-- sign-ins from one address (across accounts: credential stuffing) are counted by address.

CREATE INDEX sign_ins_by_time ON sign_ins (at);
CREATE INDEX alerts_by_resolved ON alerts (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX sign_ins_by_ip ON sign_ins (ip, at);
