-- Service cases: a member's dispute, complaint or request, with its log of
-- notes, compensations and resolutions (package cases).
CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL REFERENCES members (id),
    kind          TEXT NOT NULL,
    channel       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    receipt_id    TEXT NOT NULL DEFAULT '',
    partner_id    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    resolution    TEXT NOT NULL DEFAULT '',
    opened_by     TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    resolved_by   TEXT NOT NULL DEFAULT '',
    resolved_at   BIGINT,
    first_contact BIGINT NOT NULL DEFAULT 0,
    compensated   BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL,
    CONSTRAINT cases_status_check CHECK (status = 'open' OR status = 'resolved')
);
CREATE INDEX cases_member ON cases (member_id, opened_at);
CREATE INDEX cases_opened ON cases (opened_at);
CREATE INDEX cases_status ON cases (status, opened_at);

CREATE TABLE case_notes (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq     INTEGER NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    text    TEXT NOT NULL,
    tx_id   TEXT NOT NULL DEFAULT '',
    points  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, seq)
);
