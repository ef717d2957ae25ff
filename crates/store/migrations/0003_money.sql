-- What the user earns and sells: statements per period, each earnings line with its
-- source, the user's orders and customers.
CREATE TABLE statements (
    period INTEGER PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('open', 'final')),
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    issued_on TEXT
) STRICT;

-- Keyed period first: a statement is one range, with no index to build or keep.
CREATE TABLE earnings_lines (
    id INTEGER NOT NULL,
    period INTEGER NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    order_id INTEGER,
    source_member_id INTEGER,
    level INTEGER,
    rule TEXT NOT NULL,
    rate_bp INTEGER,
    PRIMARY KEY (period, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL,
    customer_id INTEGER,
    period INTEGER NOT NULL,
    placed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    pv INTEGER NOT NULL,
    lines TEXT NOT NULL
) STRICT;
CREATE INDEX orders_by_member ON orders (member_id, placed_at);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    joined_on TEXT NOT NULL
) STRICT;
CREATE INDEX customers_by_member ON customers (member_id);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    created_at TEXT NOT NULL,
    message TEXT NOT NULL,
    state TEXT NOT NULL,
    evidence TEXT
) STRICT;
