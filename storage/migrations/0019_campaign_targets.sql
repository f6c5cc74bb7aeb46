-- A campaign's target frozen at its start: the members its segment chose
-- and which of them it held out (the control group), so that its report
-- compares the groups as they were drawn, whatever happened to the
-- members' tags since.
CREATE TABLE campaign_targets (
    campaign_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    held_out INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, member_id)
);
CREATE TABLE campaign_snapshots (
    campaign_id TEXT PRIMARY KEY,
    members BIGINT NOT NULL,
    taken_at BIGINT NOT NULL
);
