-- Failed sign-ins of e-mail addresses that are no operator's, counted like
-- an operator's own (operators.failed_logins), so that a lock-out answers
-- alike for an operator's address and any other: it tells nobody who is an
-- operator.
CREATE TABLE login_failures (
    email TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT,
    updated_at BIGINT NOT NULL,
    CONSTRAINT login_failures_pkey PRIMARY KEY (email)
);
