-- The regional authority workspace (PostgreSQL): migrations/sqlite/0003_regional.sql with the
-- same tables, columns, constraints and index names; types as in 0001 (small codes in the fact
-- table are SMALLINT here, INTEGER there). Region codes are the six-digit GB/T 2260 codes as
-- integers, so a region subtree is an integer range.

-- Administrative regions (GB/T 2260): all 31 provincial-level divisions and the prefecture-level
-- cities of Jiangsu. Counties need no row: a county code belongs to the city of its first four
-- digits. More regions can be added with plain INSERTs.
CREATE TABLE regions (
    code     BIGINT  PRIMARY KEY,
    name_zh  TEXT    NOT NULL,
    name_en  TEXT    NOT NULL,
    parent   BIGINT  REFERENCES regions (code),
    CHECK (code BETWEEN 100000 AND 999999)
);
CREATE INDEX regions_parent ON regions (parent);
INSERT INTO regions (code, name_zh, name_en, parent) VALUES
    (110000, '北京市', 'Beijing', NULL),
    (120000, '天津市', 'Tianjin', NULL),
    (130000, '河北省', 'Hebei', NULL),
    (140000, '山西省', 'Shanxi', NULL),
    (150000, '内蒙古自治区', 'Inner Mongolia', NULL),
    (210000, '辽宁省', 'Liaoning', NULL),
    (220000, '吉林省', 'Jilin', NULL),
    (230000, '黑龙江省', 'Heilongjiang', NULL),
    (310000, '上海市', 'Shanghai', NULL),
    (320000, '江苏省', 'Jiangsu', NULL),
    (330000, '浙江省', 'Zhejiang', NULL),
    (340000, '安徽省', 'Anhui', NULL),
    (350000, '福建省', 'Fujian', NULL),
    (360000, '江西省', 'Jiangxi', NULL),
    (370000, '山东省', 'Shandong', NULL),
    (410000, '河南省', 'Henan', NULL),
    (420000, '湖北省', 'Hubei', NULL),
    (430000, '湖南省', 'Hunan', NULL),
    (440000, '广东省', 'Guangdong', NULL),
    (450000, '广西壮族自治区', 'Guangxi', NULL),
    (460000, '海南省', 'Hainan', NULL),
    (500000, '重庆市', 'Chongqing', NULL),
    (510000, '四川省', 'Sichuan', NULL),
    (520000, '贵州省', 'Guizhou', NULL),
    (530000, '云南省', 'Yunnan', NULL),
    (540000, '西藏自治区', 'Xizang (Tibet)', NULL),
    (610000, '陕西省', 'Shaanxi', NULL),
    (620000, '甘肃省', 'Gansu', NULL),
    (630000, '青海省', 'Qinghai', NULL),
    (640000, '宁夏回族自治区', 'Ningxia', NULL),
    (650000, '新疆维吾尔自治区', 'Xinjiang', NULL),
    (320100, '南京市', 'Nanjing', 320000),
    (320200, '无锡市', 'Wuxi', 320000),
    (320300, '徐州市', 'Xuzhou', 320000),
    (320400, '常州市', 'Changzhou', 320000),
    (320500, '苏州市', 'Suzhou', 320000),
    (320600, '南通市', 'Nantong', 320000),
    (320700, '连云港市', 'Lianyungang', 320000),
    (320800, '淮安市', 'Huai''an', 320000),
    (320900, '盐城市', 'Yancheng', 320000),
    (321000, '扬州市', 'Yangzhou', 320000),
    (321100, '镇江市', 'Zhenjiang', 320000),
    (321200, '泰州市', 'Taizhou', 320000),
    (321300, '宿迁市', 'Suqian', 320000);

-- Industrial clusters and parks, set up by administrators; the id is a short slug.
CREATE TABLE clusters (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    region_code  BIGINT  NOT NULL CHECK (region_code BETWEEN 100000 AND 999999),
    created_at   BIGINT  NOT NULL
);
CREATE INDEX clusters_region ON clusters (region_code);

-- users: the new roles, a region (authority) or a cluster (cluster users).
ALTER TABLE users
    DROP CONSTRAINT users_role_check,
    DROP CONSTRAINT users_check,
    -- authority users: the six-digit code of their region (a province code sees the province)
    ADD COLUMN region_code BIGINT CHECK (region_code BETWEEN 100000 AND 999999),
    -- cluster users: their cluster
    ADD COLUMN cluster_id TEXT REFERENCES clusters (id),
    ADD CONSTRAINT users_role_check
    CHECK (role IN ('enterprise', 'admin', 'authority', 'cluster', 'provider')),
    ADD CONSTRAINT users_check
    CHECK ((role = 'enterprise' AND enterprise_id IS NOT NULL AND region_code IS NULL AND cluster_id IS NULL)
        OR (role = 'admin' AND enterprise_id IS NULL AND region_code IS NULL AND cluster_id IS NULL)
        OR (role = 'authority' AND enterprise_id IS NULL AND region_code IS NOT NULL AND cluster_id IS NULL)
        OR (role = 'cluster' AND enterprise_id IS NULL AND region_code IS NULL AND cluster_id IS NOT NULL)
        OR (role = 'provider' AND enterprise_id IS NULL AND region_code IS NULL AND cluster_id IS NULL));
CREATE INDEX users_region ON users (region_code);
CREATE INDEX users_cluster ON users (cluster_id);

-- enterprises: location, the unified social credit code, and what the campaign pages need to
-- tell joined, finished and stuck firms apart without reading every assessment.
ALTER TABLE enterprises
    ADD COLUMN region_code BIGINT CHECK (region_code BETWEEN 100000 AND 999999),
    ADD COLUMN cluster_id TEXT REFERENCES clusters (id),
    ADD COLUMN credit_code TEXT,
    -- the last time an assessment of the enterprise was created, saved or completed
    ADD COLUMN last_activity_at BIGINT,
    -- the completion time of its latest completed assessment
    ADD COLUMN last_completed_at BIGINT;
UPDATE enterprises SET
    last_activity_at = (SELECT max(a.updated_at) FROM assessments a WHERE a.enterprise_id = enterprises.id),
    last_completed_at = (SELECT max(a.completed_at) FROM assessments a
                         WHERE a.enterprise_id = enterprises.id AND a.status = 'complete');
-- unique when present (NULLs are distinct)
CREATE UNIQUE INDEX enterprises_credit_code ON enterprises (credit_code);
CREATE INDEX enterprises_region_state ON enterprises (region_code, last_completed_at, last_activity_at);
CREATE INDEX enterprises_cluster_state ON enterprises (cluster_id, last_completed_at, last_activity_at);

-- Campaigns of an authority (or of a cluster): enterprises join with the invitation code.
CREATE TABLE campaigns (
    id              BIGINT  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    region_code     BIGINT  NOT NULL CHECK (region_code BETWEEN 100000 AND 999999),
    -- set for a cluster's campaign
    cluster_id      TEXT    REFERENCES clusters (id),
    created_by      BIGINT  NOT NULL REFERENCES users (id),
    name            TEXT    NOT NULL,
    -- YYYY-MM-DD, inclusive
    starts_on       TEXT    NOT NULL,
    ends_on         TEXT    NOT NULL,
    -- comma-separated sub-sector or group ids ('' = every sector)
    target_sectors  TEXT    NOT NULL DEFAULT '',
    target_level    BIGINT  NOT NULL CHECK (target_level BETWEEN 1 AND 4),
    -- random, URL-safe
    invite_code     TEXT    NOT NULL UNIQUE,
    created_at      BIGINT  NOT NULL,
    CHECK (starts_on <= ends_on)
);
CREATE INDEX campaigns_region ON campaigns (region_code, created_at DESC, id DESC);
CREATE INDEX campaigns_cluster ON campaigns (cluster_id);

-- Membership is the enterprise's consent: the campaign's authority may see its assessments.
CREATE TABLE campaign_members (
    campaign_id    BIGINT  NOT NULL REFERENCES campaigns (id),
    enterprise_id  BIGINT  NOT NULL REFERENCES enterprises (id),
    joined_at      BIGINT  NOT NULL,
    PRIMARY KEY (campaign_id, enterprise_id)
);
CREATE INDEX campaign_members_enterprise ON campaign_members (enterprise_id);

-- The enterprise inbox (campaign reminders).
CREATE TABLE messages (
    id             BIGINT  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    enterprise_id  BIGINT  NOT NULL REFERENCES enterprises (id),
    campaign_id    BIGINT  REFERENCES campaigns (id),
    body           TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    read_at        BIGINT
);
CREATE INDEX messages_enterprise ON messages (enterprise_id, created_at DESC, id DESC);

-- One row per completed assessment, written in the same transaction as the completion: what the
-- dashboards count, as of completion (the enterprise's region and cluster at that time).
-- Compact encodings: scenario_levels is one digit 0-4 per indicator scenario in questionnaire
-- order; recommended, obstacles and pain_words are comma-separated; one_away has bit k-1 set when
-- the firm is one indicator scenario short of level k (score condition met).
CREATE TABLE assessment_facts (
    assessment_id    BIGINT  PRIMARY KEY REFERENCES assessments (id),
    enterprise_id    BIGINT  NOT NULL REFERENCES enterprises (id),
    region_code      BIGINT,
    cluster_id       TEXT,
    sector           TEXT,
    grp              TEXT    NOT NULL,
    size             TEXT    NOT NULL,
    level            SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 4),
    score            DOUBLE PRECISION NOT NULL,
    completed_at     BIGINT  NOT NULL,
    primary_path     TEXT,
    scenario_levels  TEXT    NOT NULL,
    one_away         SMALLINT NOT NULL DEFAULT 0,
    recommended      TEXT    NOT NULL DEFAULT '',
    obstacles        TEXT    NOT NULL DEFAULT '',
    pain_words       TEXT    NOT NULL DEFAULT '',
    -- 1 for the enterprise's latest completed assessment, else 0
    is_latest        SMALLINT NOT NULL CHECK (is_latest IN (0, 1))
);
CREATE INDEX assessment_facts_enterprise ON assessment_facts (enterprise_id, completed_at);
CREATE UNIQUE INDEX assessment_facts_latest ON assessment_facts (enterprise_id) WHERE is_latest = 1;

-- Completed assessments written before this migration, whose facts the store derives from the
-- stored result when it next opens the database (then deletes the row).
CREATE TABLE fact_backfill (
    assessment_id  BIGINT  PRIMARY KEY
);
INSERT INTO fact_backfill (assessment_id) SELECT id FROM assessments WHERE status = 'complete';

-- Dashboard rollups of the latest facts, maintained in the transaction that changes a fact or a
-- membership. One row per campaign (0 = all enterprises), region key (the empty string for all
-- regions, then every prefix of the fact's region code: 2, 4 and 6 digits), cluster, sub-sector
-- ('' = none), group, size class and month of completion (YYYYMM, UTC): a dashboard reads only
-- the rows of one campaign and one region key, however large the region.
-- Counters: n facts, score_milli (sum of scores x 1000), lvL (level L), binB (score in
-- [10B, 10B+10), 100 in bin9), awayL (one scenario short of level L), sII_L (indicator scenario II
-- in questionnaire order rated L; rated 0 = n minus the four).
CREATE TABLE fact_cube (
    campaign_id  BIGINT  NOT NULL,
    region_key   TEXT    NOT NULL,
    cluster_id   TEXT    NOT NULL,
    sector       TEXT    NOT NULL,
    grp          TEXT    NOT NULL,
    size         TEXT    NOT NULL,
    month        BIGINT  NOT NULL,
    n BIGINT NOT NULL DEFAULT 0, score_milli BIGINT NOT NULL DEFAULT 0, lv0 BIGINT NOT NULL DEFAULT 0, lv1 BIGINT NOT NULL DEFAULT 0, lv2 BIGINT NOT NULL DEFAULT 0, lv3 BIGINT NOT NULL DEFAULT 0,
    lv4 BIGINT NOT NULL DEFAULT 0, bin0 BIGINT NOT NULL DEFAULT 0, bin1 BIGINT NOT NULL DEFAULT 0, bin2 BIGINT NOT NULL DEFAULT 0, bin3 BIGINT NOT NULL DEFAULT 0, bin4 BIGINT NOT NULL DEFAULT 0,
    bin5 BIGINT NOT NULL DEFAULT 0, bin6 BIGINT NOT NULL DEFAULT 0, bin7 BIGINT NOT NULL DEFAULT 0, bin8 BIGINT NOT NULL DEFAULT 0, bin9 BIGINT NOT NULL DEFAULT 0, away1 BIGINT NOT NULL DEFAULT 0,
    away2 BIGINT NOT NULL DEFAULT 0, away3 BIGINT NOT NULL DEFAULT 0, away4 BIGINT NOT NULL DEFAULT 0, s01_1 BIGINT NOT NULL DEFAULT 0, s01_2 BIGINT NOT NULL DEFAULT 0, s01_3 BIGINT NOT NULL DEFAULT 0,
    s01_4 BIGINT NOT NULL DEFAULT 0, s02_1 BIGINT NOT NULL DEFAULT 0, s02_2 BIGINT NOT NULL DEFAULT 0, s02_3 BIGINT NOT NULL DEFAULT 0, s02_4 BIGINT NOT NULL DEFAULT 0, s03_1 BIGINT NOT NULL DEFAULT 0,
    s03_2 BIGINT NOT NULL DEFAULT 0, s03_3 BIGINT NOT NULL DEFAULT 0, s03_4 BIGINT NOT NULL DEFAULT 0, s04_1 BIGINT NOT NULL DEFAULT 0, s04_2 BIGINT NOT NULL DEFAULT 0, s04_3 BIGINT NOT NULL DEFAULT 0,
    s04_4 BIGINT NOT NULL DEFAULT 0, s05_1 BIGINT NOT NULL DEFAULT 0, s05_2 BIGINT NOT NULL DEFAULT 0, s05_3 BIGINT NOT NULL DEFAULT 0, s05_4 BIGINT NOT NULL DEFAULT 0, s06_1 BIGINT NOT NULL DEFAULT 0,
    s06_2 BIGINT NOT NULL DEFAULT 0, s06_3 BIGINT NOT NULL DEFAULT 0, s06_4 BIGINT NOT NULL DEFAULT 0, s07_1 BIGINT NOT NULL DEFAULT 0, s07_2 BIGINT NOT NULL DEFAULT 0, s07_3 BIGINT NOT NULL DEFAULT 0,
    s07_4 BIGINT NOT NULL DEFAULT 0, s08_1 BIGINT NOT NULL DEFAULT 0, s08_2 BIGINT NOT NULL DEFAULT 0, s08_3 BIGINT NOT NULL DEFAULT 0, s08_4 BIGINT NOT NULL DEFAULT 0, s09_1 BIGINT NOT NULL DEFAULT 0,
    s09_2 BIGINT NOT NULL DEFAULT 0, s09_3 BIGINT NOT NULL DEFAULT 0, s09_4 BIGINT NOT NULL DEFAULT 0, s10_1 BIGINT NOT NULL DEFAULT 0, s10_2 BIGINT NOT NULL DEFAULT 0, s10_3 BIGINT NOT NULL DEFAULT 0,
    s10_4 BIGINT NOT NULL DEFAULT 0, s11_1 BIGINT NOT NULL DEFAULT 0, s11_2 BIGINT NOT NULL DEFAULT 0, s11_3 BIGINT NOT NULL DEFAULT 0, s11_4 BIGINT NOT NULL DEFAULT 0, s12_1 BIGINT NOT NULL DEFAULT 0,
    s12_2 BIGINT NOT NULL DEFAULT 0, s12_3 BIGINT NOT NULL DEFAULT 0, s12_4 BIGINT NOT NULL DEFAULT 0, s13_1 BIGINT NOT NULL DEFAULT 0, s13_2 BIGINT NOT NULL DEFAULT 0, s13_3 BIGINT NOT NULL DEFAULT 0,
    s13_4 BIGINT NOT NULL DEFAULT 0, s14_1 BIGINT NOT NULL DEFAULT 0, s14_2 BIGINT NOT NULL DEFAULT 0, s14_3 BIGINT NOT NULL DEFAULT 0, s14_4 BIGINT NOT NULL DEFAULT 0, s15_1 BIGINT NOT NULL DEFAULT 0,
    s15_2 BIGINT NOT NULL DEFAULT 0, s15_3 BIGINT NOT NULL DEFAULT 0, s15_4 BIGINT NOT NULL DEFAULT 0, s16_1 BIGINT NOT NULL DEFAULT 0, s16_2 BIGINT NOT NULL DEFAULT 0, s16_3 BIGINT NOT NULL DEFAULT 0,
    s16_4 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, region_key, cluster_id, sector, grp, size, month)
);

-- Multi-valued facts rolled up the same way: kind 'rec' (recommended stage-1/2 scenarios), 'pain'
-- (matched pain-point words), 'obstacle' and 'path' (primary transformation path).
CREATE TABLE fact_cube_items (
    campaign_id  BIGINT  NOT NULL,
    region_key   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    cluster_id   TEXT    NOT NULL,
    sector       TEXT    NOT NULL,
    grp          TEXT    NOT NULL,
    size         TEXT    NOT NULL,
    month        BIGINT  NOT NULL,
    item         TEXT    NOT NULL,
    n            BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, region_key, kind, cluster_id, sector, grp, size, month, item)
);
