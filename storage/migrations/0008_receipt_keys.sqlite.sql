-- 0008 for SQLite, which cannot change a table's primary key: each table is
-- built anew under its new key and the rows copied (the same schema as the
-- shared file gives PostgreSQL).
UPDATE purchases SET partner_id = COALESCE((SELECT s.partner_id FROM stores s WHERE s.id = purchases.store_id), '')
    WHERE partner_id IS NULL;

CREATE TABLE purchases_new (
    receipt_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    store_id TEXT NOT NULL,
    card_number TEXT,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    earn_lot_id TEXT,
    earned_reversed BIGINT NOT NULL,
    spends TEXT NOT NULL,
    quote TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    partner_id TEXT NOT NULL,
    PRIMARY KEY (receipt_id, partner_id)
);
INSERT INTO purchases_new (receipt_id, member_id, store_id, card_number, request_hash, status, tx_id, earn_lot_id,
        earned_reversed, spends, quote, occurred_at, created_at, partner_id)
    SELECT receipt_id, member_id, store_id, card_number, request_hash, status, tx_id, earn_lot_id,
        earned_reversed, spends, quote, occurred_at, created_at, partner_id FROM purchases;
DROP TABLE purchases;
ALTER TABLE purchases_new RENAME TO purchases;
CREATE INDEX purchases_member ON purchases (member_id, occurred_at);

CREATE TABLE purchase_lines_new (
    receipt_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    price BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    earned BIGINT NOT NULL,
    spent BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, partner_id, line),
    CONSTRAINT purchase_lines_refunded_check CHECK (refunded >= 0 AND refunded <= quantity)
);
INSERT INTO purchase_lines_new (receipt_id, partner_id, line, sku, category, quantity, price, amount, earned, spent, refunded)
    SELECT l.receipt_id, p.partner_id, l.line, l.sku, l.category, l.quantity, l.price, l.amount, l.earned, l.spent, l.refunded
    FROM purchase_lines l JOIN purchases p ON p.receipt_id = l.receipt_id;
DROP TABLE purchase_lines;
ALTER TABLE purchase_lines_new RENAME TO purchase_lines;

CREATE TABLE refunds_new (
    receipt_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, partner_id, refund_id)
);
INSERT INTO refunds_new (receipt_id, partner_id, refund_id, request_hash, tx_id, result, created_at)
    SELECT r.receipt_id, p.partner_id, r.refund_id, r.request_hash, r.tx_id, r.result, r.created_at
    FROM refunds r JOIN purchases p ON p.receipt_id = r.receipt_id;
DROP TABLE refunds;
ALTER TABLE refunds_new RENAME TO refunds;
