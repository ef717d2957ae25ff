-- Canopy server schema 1: the genealogy (members and their personal details) and orders.
-- Instants are UTC unix seconds (INTEGER); dates are 'YYYY-MM-DD' text.

CREATE TABLE members (
    id                  INTEGER PRIMARY KEY,
    member_number       TEXT    NOT NULL UNIQUE,
    -- Deferred so a batch may insert a member before their sponsor or parent.
    sponsor_id          INTEGER REFERENCES members (id) DEFERRABLE INITIALLY DEFERRED,
    placement_parent_id INTEGER REFERENCES members (id) DEFERRABLE INITIALLY DEFERRED,
    placement_leg       TEXT    CHECK (placement_leg IN ('left', 'right', 'unilevel')),
    -- The unilevel position from 0; 0 for binary legs, so the slot index below is unique.
    placement_index     INTEGER NOT NULL DEFAULT 0 CHECK (placement_index >= 0),
    rank_level          INTEGER NOT NULL DEFAULT 0 CHECK (rank_level BETWEEN 0 AND 65535),
    status              TEXT    NOT NULL
        CHECK (status IN ('active', 'inactive', 'suspended', 'terminated', 'erased')),
    joined_on           TEXT    NOT NULL,
    country             TEXT    NOT NULL CHECK (length(country) = 2),
    display_name        TEXT    NOT NULL,
    CHECK ((placement_parent_id IS NULL) = (placement_leg IS NULL)),
    CHECK (sponsor_id IS NULL OR sponsor_id <> id),
    CHECK (placement_parent_id IS NULL OR placement_parent_id <> id)
);

-- Downline walks follow these two indexes (a top leader's downline holds ~1,000,000 rows).
CREATE INDEX members_by_sponsor ON members (sponsor_id, id);
CREATE UNIQUE INDEX members_by_placement
    ON members (placement_parent_id, placement_leg, placement_index);

-- Classified personal data, apart from the genealogy so it can be minimised and erased.
CREATE TABLE member_personal (
    member_id     INTEGER PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    legal_name    TEXT NOT NULL,
    email         TEXT,
    phone         TEXT,
    date_of_birth TEXT,
    address_line1 TEXT,
    address_line2 TEXT,
    address_city  TEXT,
    address_region TEXT,
    postal_code   TEXT,
    tax_id        TEXT,
    CHECK ((address_line1 IS NULL) = (address_city IS NULL))
);

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members (id),
    -- Set for a retail order placed for one of the member's customers.
    customer_id INTEGER,
    placed_at   INTEGER NOT NULL,
    status      TEXT    NOT NULL
        CHECK (status IN ('pending', 'paid', 'shipped', 'returned', 'refunded', 'cancelled')),
    currency    TEXT    NOT NULL CHECK (length(currency) = 3)
);

CREATE INDEX orders_by_member ON orders (member_id, placed_at);

CREATE TABLE order_lines (
    order_id           INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no            INTEGER NOT NULL,
    sku                TEXT    NOT NULL,
    quantity           INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor   INTEGER NOT NULL,
    unit_pv_hundredths INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
