-- An operator may belong to one partner: a partner's manager (role
-- partner-admin) signs in to the back office and sees that partner's
-- stores, receipts, rates and statements only. '' is the programme's own.
ALTER TABLE operators ADD COLUMN partner_id TEXT NOT NULL DEFAULT '';
