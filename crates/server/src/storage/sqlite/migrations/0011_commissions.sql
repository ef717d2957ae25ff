-- Canopy server schema 11: commission periods, runs (the audit of every run), earnings
-- lines and each member's period results. Amounts are integer minor units; volumes are
-- hundredths of a point. A line's id is derived from its period (see commissions/ids.rs),
-- so one period's lines are one range of the primary key.

CREATE TABLE commission_plans (
    hash    TEXT    PRIMARY KEY,
    version INTEGER NOT NULL,
    name    TEXT    NOT NULL,
    toml    TEXT    NOT NULL
);

CREATE TABLE commission_periods (
    period      TEXT    PRIMARY KEY CHECK (length(period) = 7),
    state       TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
    closed_at   INTEGER,
    closed_by   INTEGER,
    plan_hash   TEXT    NOT NULL REFERENCES commission_plans (hash),
    last_run_id INTEGER,
    CHECK ((state = 'closed') = (closed_at IS NOT NULL))
);

CREATE TABLE commission_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    period        TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL,
    -- No foreign key: the audit of a run outlives the account that started it.
    by_account_id INTEGER,
    plan_hash     TEXT    NOT NULL REFERENCES commission_plans (hash),
    input_members INTEGER NOT NULL,
    input_orders  INTEGER NOT NULL,
    lines         INTEGER NOT NULL,
    total_minor   INTEGER NOT NULL,
    currency      TEXT    NOT NULL CHECK (length(currency) = 3),
    result_hash   TEXT    NOT NULL
);

CREATE INDEX commission_runs_by_period ON commission_runs (period, id);

CREATE TABLE earnings_lines (
    id               INTEGER PRIMARY KEY,
    period           TEXT    NOT NULL,
    member_id        INTEGER NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    order_id         INTEGER,
    source_member_id INTEGER,
    level            INTEGER,
    rule             TEXT    NOT NULL,
    rate_bps         INTEGER,
    run_id           INTEGER NOT NULL,
    reverses_line_id INTEGER
);

-- A statement is one range; a refunded order's lines are found by order.
CREATE INDEX earnings_lines_by_member ON earnings_lines (member_id, period);
CREATE INDEX earnings_lines_by_order ON earnings_lines (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE member_period_results (
    period        TEXT    NOT NULL,
    member_id     INTEGER NOT NULL,
    pv_hundredths INTEGER NOT NULL,
    gv_hundredths INTEGER NOT NULL,
    rank_level    INTEGER NOT NULL,
    best_rank     INTEGER NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    PRIMARY KEY (period, member_id)
) WITHOUT ROWID;

-- A period's orders are one range of placing times; the index covers what a run reads of
-- an order, so the orders table itself is never visited.
CREATE INDEX orders_by_placed_at ON orders (placed_at, status, id, member_id, currency);
