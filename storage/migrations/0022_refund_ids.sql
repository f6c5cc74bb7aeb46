-- An imported return's refunds are found again by its id (the return's
-- receipt id) on whichever purchases they were made.
CREATE INDEX refunds_id ON refunds (partner_id, refund_id);
