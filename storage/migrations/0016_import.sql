-- Members an import knows by another system's customer id: the same id
-- from two sources is two members (importer). The member's id is derived
-- from the pair, so an import writes here without reading.
CREATE TABLE member_refs (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX member_refs_member ON member_refs (member_id);
-- A member's purchases at one partner over time: an imported return looks
-- for the purchase it returns here (without it SQLite walks the partner's
-- purchases_partner), and the analytics read a member's history by partner.
CREATE INDEX purchases_member_partner ON purchases (member_id, partner_id, occurred_at);
