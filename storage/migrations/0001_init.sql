-- Kopilka's first schema. Times are BIGINT microseconds since the epoch (UTC),
-- the same in every dialect; points and money are BIGINT minor units.
CREATE TABLE programme (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    phone TEXT,
    email TEXT,
    name TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    consents TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX members_phone_key ON members (phone);
CREATE UNIQUE INDEX members_email_key ON members (email);

CREATE TABLE cards (
    number TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    replaced_by TEXT,
    created_at BIGINT NOT NULL,
    CONSTRAINT cards_pkey PRIMARY KEY (number)
);
CREATE INDEX cards_member ON cards (member_id);

-- One row per member: the only row a purchase locks, and only its own member's.
CREATE TABLE balances (
    member_id TEXT PRIMARY KEY REFERENCES members (id),
    available BIGINT NOT NULL,
    pending BIGINT NOT NULL,
    CONSTRAINT balances_available_check CHECK (available >= 0),
    CONSTRAINT balances_pending_check CHECK (pending >= 0)
);

CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    receipt_id TEXT,
    refund_id TEXT,
    available BIGINT NOT NULL,
    pending BIGINT NOT NULL,
    reason TEXT,
    actor TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX transactions_member ON transactions (member_id, created_at, id);
CREATE UNIQUE INDEX transactions_idempotency ON transactions (member_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Programme accounts (issuance, redemption, expiry, adjustment) have no
-- balance row: their balance is the sum of these rows, so no hot row exists.
-- No index beyond the key: only verify and reports read postings by account,
-- and every purchase would pay to maintain one.
CREATE TABLE postings (
    tx_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    account TEXT NOT NULL,
    member_id TEXT,
    amount BIGINT NOT NULL,
    PRIMARY KEY (tx_id, seq)
);

CREATE TABLE lots (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    points BIGINT NOT NULL,
    remaining BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    state TEXT NOT NULL,
    activates_at BIGINT NOT NULL,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    CONSTRAINT lots_points_check CHECK (points > 0),
    CONSTRAINT lots_remaining_check CHECK (remaining >= 0 AND expired >= 0 AND remaining + expired <= points)
);
CREATE INDEX lots_member ON lots (member_id, state) WHERE remaining > 0;
CREATE INDEX lots_activation ON lots (activates_at) WHERE state = 'pending' AND remaining > 0;
CREATE INDEX lots_expiry ON lots (expires_at) WHERE state = 'active' AND remaining > 0;

CREATE TABLE lot_moves (
    tx_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    lot_id TEXT NOT NULL,
    delta BIGINT NOT NULL,
    PRIMARY KEY (tx_id, seq)
);

CREATE TABLE purchases (
    receipt_id TEXT PRIMARY KEY,
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
    created_at BIGINT NOT NULL
);
CREATE INDEX purchases_member ON purchases (member_id, occurred_at);

CREATE TABLE purchase_lines (
    receipt_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    price BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    earned BIGINT NOT NULL,
    spent BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, line),
    CONSTRAINT purchase_lines_refunded_check CHECK (refunded >= 0 AND refunded <= quantity)
);

CREATE TABLE refunds (
    receipt_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    tx_id TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, refund_id)
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
