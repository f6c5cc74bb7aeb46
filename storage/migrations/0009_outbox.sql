-- The outbox: messages to members written in the transaction of the change
-- they tell of and sent after it commits (notify.Dispatcher). A row lives
-- until it is sent or given up. next_at is when it may next be tried; a
-- dispatcher claims a row by moving next_at forward, only if no other has
-- moved it since (no locks held while the gateway answers).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    member_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    not_after BIGINT,
    next_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX outbox_next ON outbox (next_at);
