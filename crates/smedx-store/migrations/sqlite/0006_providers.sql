-- Solution providers (sqlite; the migration of the same number for the other backend mirrors it):
-- provider profiles awaiting or past approval, their products, leads (an enterprise's request to
-- be contacted, with a copy of exactly what it chose to share), project outcomes, and the budget
-- an enterprise states for matching.

CREATE TABLE provider_profiles (
    user_id         BIGINT  PRIMARY KEY REFERENCES users (id),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    name            TEXT    NOT NULL,
    -- where the provider is registered: the authority of this region may approve it
    home_region     BIGINT  NOT NULL CHECK (home_region BETWEEN 100000 AND 999999),
    -- comma-separated six-digit codes served ('' = nationwide)
    regions         TEXT    NOT NULL DEFAULT '',
    contact         TEXT    NOT NULL,
    certifications  TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    decided_at      BIGINT,
    decided_by      BIGINT  REFERENCES users (id)
);
CREATE INDEX provider_profiles_region ON provider_profiles (home_region, status);

CREATE TABLE products (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id          BIGINT  NOT NULL REFERENCES provider_profiles (user_id),
    name                 TEXT    NOT NULL,
    description_zh       TEXT    NOT NULL,
    description_en       TEXT    NOT NULL DEFAULT '',
    -- comma-separated ids: scenarios delivered, sub-sectors and size classes fitted ('' = all)
    scenarios            TEXT    NOT NULL,
    sectors              TEXT    NOT NULL DEFAULT '',
    sizes                TEXT    NOT NULL DEFAULT '',
    deployment           TEXT    NOT NULL CHECK (deployment IN ('saas', 'on_premises', 'hardware_service')),
    price_model          TEXT    NOT NULL CHECK (price_model IN ('per_user_month', 'one_off', 'per_device')),
    price_min            REAL NOT NULL CHECK (price_min >= 0),
    price_max            REAL NOT NULL,
    golive_weeks         BIGINT  NOT NULL CHECK (golive_weeks BETWEEN 1 AND 208),
    reference_customers  TEXT    NOT NULL DEFAULT '',
    -- comma-separated digital levels (1-4) it helps reach
    levels               TEXT    NOT NULL DEFAULT '',
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    -- set when the provider deletes it (leads keep pointing at it)
    deleted_at           BIGINT,
    CHECK (price_min <= price_max)
);
CREATE INDEX products_provider ON products (provider_id, deleted_at);

CREATE TABLE leads (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id     BIGINT  NOT NULL REFERENCES products (id),
    provider_id    BIGINT  NOT NULL REFERENCES provider_profiles (user_id),
    enterprise_id  BIGINT  NOT NULL REFERENCES enterprises (id),
    requested_by   BIGINT  NOT NULL REFERENCES users (id),
    assessment_id  BIGINT  REFERENCES assessments (id),
    scenario       TEXT    NOT NULL,
    -- what the enterprise chose to share (1 = shared), and a JSON copy of exactly that
    share_profile  BIGINT  NOT NULL CHECK (share_profile IN (0, 1)),
    share_level    BIGINT  NOT NULL CHECK (share_level IN (0, 1)),
    share_recs     BIGINT  NOT NULL CHECK (share_recs IN (0, 1)),
    shared         TEXT    NOT NULL,
    contact        TEXT    NOT NULL,
    message        TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL CHECK (status IN ('new', 'contacted', 'proposal', 'won', 'lost')),
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    UNIQUE (enterprise_id, product_id)
);
CREATE INDEX leads_provider ON leads (provider_id, updated_at);
CREATE INDEX leads_enterprise ON leads (enterprise_id, updated_at);

CREATE TABLE lead_outcomes (
    lead_id      BIGINT  PRIMARY KEY REFERENCES leads (id),
    went_live    BIGINT  NOT NULL CHECK (went_live IN (0, 1)),
    -- JSON array of {"name", "before", "after"}
    kpis         TEXT    NOT NULL DEFAULT '[]',
    note         TEXT    NOT NULL DEFAULT '',
    recorded_at  BIGINT  NOT NULL
);

CREATE TABLE enterprise_budgets (
    enterprise_id  BIGINT  PRIMARY KEY REFERENCES enterprises (id),
    -- yuan
    budget         REAL NOT NULL CHECK (budget >= 0),
    updated_at     BIGINT  NOT NULL
);
