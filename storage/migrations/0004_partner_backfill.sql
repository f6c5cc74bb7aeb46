-- The columns 0003 added: their index, and the back-fill of an installation
-- that took receipts before stores were registered.
-- A statement reads one partner's transactions of a period.
CREATE INDEX transactions_partner ON transactions (partner_id, created_at, id) WHERE partner_id IS NOT NULL;


-- An installation that took receipts before stores were registered: its
-- store ids become stores of one partner, "main", so that refunds and
-- statements of its purchases keep working. Set their coordinates and
-- hours afterwards.
INSERT INTO partners (id, name, legal_id, status, categories, created_at, updated_at)
    SELECT 'main', 'Main', '', 'active', '[]', MIN(created_at), MIN(created_at) FROM purchases HAVING COUNT(*) > 0;
INSERT INTO stores (id, partner_id, name, address, time_zone, hours, status, created_at, updated_at)
    SELECT store_id, 'main', store_id, '', 'UTC', '[]', 'open', MIN(created_at), MIN(created_at) FROM purchases GROUP BY store_id;
UPDATE purchases SET partner_id = 'main';
UPDATE transactions SET partner_id = 'main',
    store_id = (SELECT p.store_id FROM purchases p WHERE p.receipt_id = transactions.receipt_id)
    WHERE receipt_id IS NOT NULL AND kind IN ('purchase', 'refund', 'cancel');
