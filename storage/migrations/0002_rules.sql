-- Programme rules: what a member carries for them (verified contacts,
-- segment tags, referrer, tier, chosen categories, birthday bonus year),
-- running totals per member, and campaign budgets split into slices.
ALTER TABLE members ADD COLUMN phone_verified BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN email_verified BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE members ADD COLUMN referred_by TEXT;
ALTER TABLE members ADD COLUMN tier TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN tier_review_at BIGINT;
ALTER TABLE members ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
ALTER TABLE members ADD COLUMN categories_at BIGINT;
-- MM-DD of the birth date, for the birthday job to find members by day.
ALTER TABLE members ADD COLUMN birth_md TEXT;
-- The year of the last birthday bonus given.
ALTER TABLE members ADD COLUMN birthday_year BIGINT;
UPDATE members SET birth_md = substr(birth_date, 6, 5) WHERE birth_date IS NOT NULL;
CREATE INDEX members_birthday ON members (birth_md) WHERE birth_md IS NOT NULL;
CREATE INDEX members_tier_review ON members (tier_review_at) WHERE tier_review_at IS NOT NULL;

-- A member's totals per bucket: spend and points per day (tiers), a rule's
-- points per period (caps). Only that member's purchases write its rows.
CREATE TABLE member_counters (
    member_id TEXT NOT NULL,
    name TEXT NOT NULL,
    bucket TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (member_id, name, bucket)
);

-- A budget is split into slices, each holding its share of the limit, so
-- that concurrent purchases of different members lock different rows.
CREATE TABLE budgets (
    name TEXT NOT NULL,
    slice INTEGER NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (name, slice),
    CONSTRAINT budgets_used_check CHECK (used >= 0)
);
