-- Back-office people, sessions of operators and members, members'
-- one-time login codes, and the append-only audit log.
CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until BIGINT,
    last_login_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX operators_email_key ON operators (email);

-- Only the token's hash is stored.
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_subject ON sessions (subject_id) WHERE revoked_at IS NULL;

CREATE TABLE otp_codes (
    address TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    hash TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- wrong codes since failures_since, over all of the address's codes
    failures BIGINT NOT NULL,
    failures_since BIGINT NOT NULL
);

-- Nothing in Kopilka updates or deletes these rows.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    partner_id TEXT,
    action TEXT NOT NULL,
    path TEXT NOT NULL,
    target TEXT,
    status INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    request TEXT,
    before_state TEXT,
    after_state TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_target ON audit_log (target, at) WHERE target IS NOT NULL;
