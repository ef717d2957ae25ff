-- The downline list sorted by personal or group volume in a period: a big team's page is
-- read in volume order from these (period, volume, member) ranges instead of sorting the
-- whole team. Zero volumes are left out (most of a period's PV, and every member without a
-- row sorts as zero anyway): the list reads members at zero in id order from `members`.
CREATE INDEX volumes_gv ON volumes (period, gv, member_id) WHERE gv <> 0;
CREATE INDEX volumes_pv ON volumes (period, pv, member_id) WHERE pv <> 0;

-- Every filter of the list in one index, most selective-by-design first: a filtered page
-- of a big team reads exactly the members that pass the rank and country filters from
-- here, and checks the others without touching the table.
CREATE INDEX members_facets ON members (rank_level, country, status, joined_on, depth, pre);

-- Member ids follow join dates, so a walk in rank or country order filtered by join date
-- skips long runs of members: it checks the date in the index, not in the table.
DROP INDEX members_rank;
CREATE INDEX members_rank ON members (rank_level, id, pre, depth, joined_on);
DROP INDEX members_country;
CREATE INDEX members_country ON members (country, id, pre, depth, joined_on);
