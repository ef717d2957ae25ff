-- Canopy server schema 12: the earnings lines' secondary indexes lead with the period.
-- A run replaces one period's lines; with the period first, each index's entries for that
-- period are one contiguous range, so the run's deletes and inserts touch only that range
-- (about 30 MB for a million lines) instead of pages spread over every period's entries.
-- Keyed by order alone, the index took a million random inserts per run and tripled the
-- run's write time. Lookups by member or order name the period (a statement is one period;
-- a refunded order's lines are sought in each period the company has run, a few dozen).

DROP INDEX earnings_lines_by_member;
DROP INDEX earnings_lines_by_order;
CREATE INDEX earnings_lines_by_period_member ON earnings_lines (period, member_id);
CREATE INDEX earnings_lines_by_period_order ON earnings_lines (period, order_id)
    WHERE order_id IS NOT NULL;
