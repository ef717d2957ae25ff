-- Secondary indexes of the genealogy and the name search. The bulk load drops and rebuilds
-- exactly these (load.rs), so a bootstrap appends rows without maintaining them.
CREATE INDEX members_number ON members (number);
CREATE INDEX members_sponsor ON members (sponsor_id, id);
CREATE INDEX members_placement ON members (placement_id, placement_slot);
CREATE INDEX members_pre ON members (pre);
CREATE INDEX members_placement_pre ON members (p_pre);
-- The sort orders of the downline list. Each carries `pre` and `depth`, so a page of a big
-- team is read in order and rows outside the team are skipped in the index.
CREATE INDEX members_joined ON members (joined_on, id, pre, depth);
CREATE INDEX members_rank ON members (rank_level, id, pre, depth);
CREATE INDEX members_country ON members (country, id, pre, depth);
CREATE INDEX members_status ON members (status, id, pre, depth);
CREATE INDEX members_name ON members (display_name COLLATE NOCASE, id, pre, depth);
-- A level of the tree in tree order (and the levels of one team: depth, then pre range).
CREATE INDEX members_depth ON members (depth, pre);
CREATE INDEX personal_email ON member_personal (lower(email));
CREATE INDEX volumes_member ON volumes (member_id, period);

-- Names (display and, where sent, legal) by word prefix; the rowid is the member id.
-- Only words and word prefixes are searched, so no positions are kept (`detail = none`):
-- at 1M members the bootstrap builds it in about 16 s instead of 23 s, and a search still
-- takes 3 ms at p95.
CREATE VIRTUAL TABLE member_search USING fts5 (
    name,
    content = '',
    contentless_delete = 1,
    detail = none,
    prefix = '1 2 3',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- A cache from before this migration has members already: index their names.
INSERT INTO member_search (rowid, name)
SELECT m.id, m.display_name || coalesce(' ' || p.legal_name, '')
FROM members m LEFT JOIN member_personal p ON p.member_id = m.id;
