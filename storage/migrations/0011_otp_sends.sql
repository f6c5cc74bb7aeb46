-- How many codes an address was sent since sends_since, so that no address
-- (a member's or nobody's) gets more than access.OTPDailyCodes a day.
ALTER TABLE otp_codes ADD COLUMN sends BIGINT NOT NULL DEFAULT 0;
ALTER TABLE otp_codes ADD COLUMN sends_since BIGINT NOT NULL DEFAULT 0;
