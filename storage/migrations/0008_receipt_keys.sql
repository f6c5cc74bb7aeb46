-- Purchases, their lines and refunds are keyed by receipt id and partner
-- (0007). A purchase without a partner (none since 0004) takes its store's.
-- The key leads with receipt_id, so that finding a receipt among every
-- partner (an operator who names none) reads the key too.
UPDATE purchases SET partner_id = COALESCE((SELECT s.partner_id FROM stores s WHERE s.id = purchases.store_id), '')
    WHERE partner_id IS NULL;
UPDATE purchase_lines SET partner_id = (SELECT p.partner_id FROM purchases p WHERE p.receipt_id = purchase_lines.receipt_id);
UPDATE refunds SET partner_id = (SELECT p.partner_id FROM purchases p WHERE p.receipt_id = refunds.receipt_id);
ALTER TABLE purchases DROP CONSTRAINT purchases_pkey,
    ADD CONSTRAINT purchases_pkey PRIMARY KEY (receipt_id, partner_id);
ALTER TABLE purchase_lines DROP CONSTRAINT purchase_lines_pkey,
    ADD CONSTRAINT purchase_lines_pkey PRIMARY KEY (receipt_id, partner_id, line);
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey,
    ADD CONSTRAINT refunds_pkey PRIMARY KEY (receipt_id, partner_id, refund_id);
