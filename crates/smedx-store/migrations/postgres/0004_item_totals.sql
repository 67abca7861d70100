-- Rollup refinements after 0003 (PostgreSQL; the SQLite migration of the same number mirrors
-- it): the fact index also orders by assessment id, so that "an enterprise's latest fact
-- in a time range" is one index lookup (the campaign progress between two rounds), and item
-- totals by campaign, region key, kind and month only, which dashboards without a cluster,
-- sector, group or size filter read instead of the full item rollup.

DROP INDEX assessment_facts_enterprise;
CREATE INDEX assessment_facts_enterprise ON assessment_facts (enterprise_id, completed_at, assessment_id);

CREATE TABLE fact_item_totals (
    campaign_id  BIGINT  NOT NULL,
    region_key   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    month        BIGINT  NOT NULL,
    item         TEXT    NOT NULL,
    n            BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, region_key, kind, month, item)
);

INSERT INTO fact_item_totals (campaign_id, region_key, kind, month, item, n)
    SELECT campaign_id, region_key, kind, month, item, SUM(n)
    FROM fact_cube_items
    GROUP BY campaign_id, region_key, kind, month, item;
