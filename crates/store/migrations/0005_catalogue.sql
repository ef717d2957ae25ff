-- The company's product catalogue, for the order form offline: all of it, withdrawn
-- products included (marked), as the server last sent it.
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    pv INTEGER NOT NULL,
    active INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
