-- Canopy server schema 10: the product catalogue the order form offers, and what each
-- entry of the change log is about.

CREATE TABLE products (
    sku           TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    price_minor   INTEGER NOT NULL CHECK (price_minor >= 0),
    currency      TEXT    NOT NULL CHECK (length(currency) = 3),
    pv_hundredths INTEGER NOT NULL CHECK (pv_hundredths >= 0),
    -- 0: no longer sold (past orders still name it).
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
) WITHOUT ROWID;

-- A member (member_id), or the catalogue (member_id 0: devices read the whole catalogue,
-- which is small, again when it changed).
ALTER TABLE member_changes ADD COLUMN subject TEXT NOT NULL DEFAULT 'member'
    CHECK (subject IN ('member', 'catalogue'));
