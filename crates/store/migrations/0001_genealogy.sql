-- The user's scope of the genealogy: public fields in `members`, personal fields apart in
-- `member_personal` (present only where the server sent them), and the ranks they hold.
CREATE TABLE ranks (
    level INTEGER PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    sponsor_id INTEGER,
    placement_id INTEGER,
    placement_slot INTEGER,
    rank_level INTEGER NOT NULL,
    status TEXT NOT NULL,
    joined_on TEXT NOT NULL,
    country TEXT NOT NULL,
    display_name TEXT NOT NULL,
    -- The sponsor tree's index (tree.rs): depth below the scope's root, and the pre-order
    -- interval [pre, last] that holds exactly the member's subtree.
    depth INTEGER NOT NULL DEFAULT 0,
    pre INTEGER NOT NULL DEFAULT 0,
    last INTEGER NOT NULL DEFAULT 0,
    -- Everyone below at any depth (kept with subtree_stats, here so lists need no join).
    team_size INTEGER NOT NULL DEFAULT 0,
    -- The same for the placement tree.
    p_depth INTEGER NOT NULL DEFAULT 0,
    p_pre INTEGER NOT NULL DEFAULT 0,
    p_last INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE member_personal (
    member_id INTEGER PRIMARY KEY,
    legal_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    date_of_birth TEXT,
    address TEXT,
    tax_id TEXT
) STRICT;

-- Rank held per closed period.
CREATE TABLE rank_history (
    member_id INTEGER NOT NULL,
    period INTEGER NOT NULL,
    rank_level INTEGER NOT NULL,
    PRIMARY KEY (member_id, period)
) STRICT, WITHOUT ROWID;

-- Personal volume as sent; group volume (own + everyone below) kept by tree.rs. Keyed
-- period first: a period's volumes are one range, for the pages and the rebuild.
CREATE TABLE volumes (
    member_id INTEGER NOT NULL,
    period INTEGER NOT NULL,
    pv INTEGER NOT NULL,
    gv INTEGER NOT NULL,
    PRIMARY KEY (period, member_id)
) STRICT, WITHOUT ROWID;

-- Subtree aggregates of every member with a downline (tree.rs): team size, members per
-- rank and per level below, as little-endian u32 arrays.
CREATE TABLE subtree_stats (
    member_id INTEGER PRIMARY KEY,
    team_size INTEGER NOT NULL,
    ranks BLOB NOT NULL,
    levels BLOB NOT NULL
) STRICT;

-- Settings and state of this cache (tree index validity, the scope's owner, …).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
