-- The downline list sorted by personal or group volume in a period: a big team's page is
-- read in volume order from these (period, volume, member) ranges instead of sorting the
-- whole team. Zero volumes are left out (most of a period's PV, and every member without a
-- row sorts as zero anyway): the list reads members at zero in id order from `members`.
CREATE INDEX volumes_gv ON volumes (period, gv, member_id) WHERE gv <> 0;
CREATE INDEX volumes_pv ON volumes (period, pv, member_id) WHERE pv <> 0;
