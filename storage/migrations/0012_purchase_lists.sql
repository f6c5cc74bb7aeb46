-- Purchases are listed by partner and by store over a period, newest
-- first (GET /v1/purchases); by member, purchases_member serves.
CREATE INDEX purchases_partner ON purchases (partner_id, occurred_at);
CREATE INDEX purchases_store ON purchases (store_id, occurred_at);
