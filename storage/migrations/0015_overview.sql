-- The overview and the reports read by time across all members: members by
-- registration, purchases by when they happened, ledger transactions by
-- when they were posted.
CREATE INDEX members_created ON members (created_at);
CREATE INDEX purchases_occurred ON purchases (occurred_at);
CREATE INDEX transactions_created ON transactions (created_at);
