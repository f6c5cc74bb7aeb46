-- A receipt id is unique within its partner, not across the coalition:
-- two partners' tills may both number a receipt "0001". Purchase lines and
-- refunds carry the partner too. The columns are added here and filled and
-- keyed in 0008: CockroachDB does not update or index a column in the
-- transaction that adds it.
ALTER TABLE purchase_lines ADD COLUMN partner_id TEXT;
ALTER TABLE refunds ADD COLUMN partner_id TEXT;
