-- What a campaign with many members reads, kept apart so that it reads only the campaign's rows
-- (PostgreSQL; the SQLite migration of the same number mirrors it).
--
-- campaign_facts: every fact of a campaign member, once per campaign it joined. Comparing two
-- rounds of a campaign needs each member's latest fact in each round: here they are one
-- contiguous range of the primary key, in member and time order, read in one pass instead of
-- two index lookups per member. Maintained with the facts:
-- a new fact of a member, joining (copies the enterprise's facts), leaving (deletes them) and a
-- move of the enterprise (region and cluster of its latest fact).
-- ord: how many facts of the same enterprise completed in the same second have a smaller
-- assessment id, so that (completed_at, ord) orders an enterprise's facts like (completed_at,
-- assessment_id) in a number small enough to carry level and score along (see the store).
CREATE TABLE campaign_facts (
    campaign_id    BIGINT  NOT NULL,
    enterprise_id  BIGINT  NOT NULL,
    completed_at   BIGINT  NOT NULL,
    assessment_id  BIGINT  NOT NULL,
    ord            BIGINT  NOT NULL,
    level          SMALLINT NOT NULL,
    score          DOUBLE PRECISION NOT NULL,
    region_code    BIGINT,
    cluster_id     TEXT,
    sector         TEXT,
    grp            TEXT    NOT NULL,
    size           TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, enterprise_id, completed_at, assessment_id)
);

INSERT INTO campaign_facts (campaign_id, enterprise_id, completed_at, assessment_id, ord, level, score,
                            region_code, cluster_id, sector, grp, size)
    SELECT m.campaign_id, f.enterprise_id, f.completed_at, f.assessment_id,
           (SELECT COUNT(*) FROM assessment_facts x WHERE x.enterprise_id = f.enterprise_id
                AND x.completed_at = f.completed_at AND x.assessment_id < f.assessment_id),
           f.level, f.score, f.region_code, f.cluster_id, f.sector, f.grp, f.size
    FROM campaign_members m JOIN assessment_facts f ON f.enterprise_id = m.enterprise_id;

-- A member's last activity and completion, copied from its enterprise (the store keeps them
-- equal), so that a campaign's member counts and member pages read the campaign's rows only.
ALTER TABLE campaign_members ADD COLUMN last_activity_at BIGINT;
ALTER TABLE campaign_members ADD COLUMN last_completed_at BIGINT;
UPDATE campaign_members SET
    last_activity_at = (SELECT e.last_activity_at FROM enterprises e WHERE e.id = campaign_members.enterprise_id),
    last_completed_at = (SELECT e.last_completed_at FROM enterprises e WHERE e.id = campaign_members.enterprise_id);
-- Covering: member counts, statuses and pages by joining time read this index only.
CREATE INDEX campaign_members_joined
    ON campaign_members (campaign_id, joined_at, enterprise_id, last_activity_at, last_completed_at);

-- The enterprise list, newest first.
CREATE INDEX enterprises_created ON enterprises (created_at, id);
