-- Coalition: partners, their stores, the partner each ledger transaction
-- happened at, and closed settlements. Columns are added here and indexed
-- and filled in 0004: CockroachDB does not index or update a column in the
-- transaction that adds it.
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
CREATE TABLE settlements (
    partner_id TEXT NOT NULL,
    period TEXT NOT NULL,
    statement TEXT NOT NULL,
    closed_at BIGINT NOT NULL,
    PRIMARY KEY (partner_id, period)
);

-- Keys scoped to a partner and, optionally, to some of its stores.
ALTER TABLE api_keys ADD COLUMN partner_id TEXT;
ALTER TABLE api_keys ADD COLUMN store_ids TEXT NOT NULL DEFAULT '[]';
