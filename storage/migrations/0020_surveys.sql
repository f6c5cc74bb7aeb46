-- Surveys (NPS, CSI, CES) and their invitations, one per survey and the
-- purchase or case it asks about, with the answer once given (surveys).
CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    after_kind TEXT NOT NULL,
    question TEXT NOT NULL,
    attributes TEXT NOT NULL,
    bonus_points BIGINT NOT NULL,
    sample_percent BIGINT NOT NULL,
    valid_days INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE survey_invitations (
    id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    attributes TEXT NOT NULL,
    member_id TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    store_id TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT,
    scores TEXT NOT NULL,
    comment TEXT NOT NULL,
    bonus BIGINT NOT NULL
);
CREATE UNIQUE INDEX survey_invitations_subject ON survey_invitations (survey_id, subject_kind, subject_id);
CREATE INDEX survey_invitations_member ON survey_invitations (member_id, sent_at);
CREATE INDEX survey_invitations_sent ON survey_invitations (survey_id, sent_at);
