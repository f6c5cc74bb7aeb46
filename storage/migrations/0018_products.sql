-- The names of the goods a partner sells, by SKU, as an import found them
-- (the first name seen stays): reports name goods by them.
CREATE TABLE products (
    partner_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (partner_id, sku)
);
