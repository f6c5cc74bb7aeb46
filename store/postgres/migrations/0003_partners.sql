-- Coalition: partners, their stores, the partner each ledger transaction
-- happened at, and closed settlements.
CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    legal_id TEXT NOT NULL,
    status TEXT NOT NULL,
    earn_rate BIGINT,
    max_spend BIGINT,
    categories TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Coordinates are degrees; a store without them (online) has NULLs. The
-- (lat, lon) index serves the nearest-store search's bounding box.
CREATE TABLE stores (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners (id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    time_zone TEXT NOT NULL,
    hours TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stores_partner ON stores (partner_id, id);
CREATE INDEX stores_location ON stores (lat, lon) WHERE lat IS NOT NULL;

ALTER TABLE purchases ADD COLUMN partner_id TEXT;
ALTER TABLE transactions ADD COLUMN store_id TEXT;
ALTER TABLE transactions ADD COLUMN partner_id TEXT;
-- A statement reads one partner's transactions of a period.
CREATE INDEX transactions_partner ON transactions (partner_id, created_at, id) WHERE partner_id IS NOT NULL;

CREATE TABLE settlements (
    partner_id TEXT NOT NULL,
    period TEXT NOT NULL,
    statement TEXT NOT NULL,
    closed_at BIGINT NOT NULL,
    PRIMARY KEY (partner_id, period)
);

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

-- Keys scoped to a partner and, optionally, to some of its stores.
ALTER TABLE api_keys ADD COLUMN partner_id TEXT;
ALTER TABLE api_keys ADD COLUMN store_ids TEXT NOT NULL DEFAULT '[]';
