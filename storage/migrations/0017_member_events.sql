-- What happened to a member that others act on: a member crossing into
-- churn risk ("churn.at_risk") is written here by the analytics' refresh,
-- in the transaction that tags them, for the communications work to read
-- in order.
CREATE TABLE member_events (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX member_events_kind ON member_events (kind, created_at, id);
CREATE INDEX member_events_member ON member_events (member_id, created_at);
