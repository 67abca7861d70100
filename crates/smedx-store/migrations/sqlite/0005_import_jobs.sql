-- Background import jobs (sqlite; the migration of the same number for the other backend mirrors
-- it). An upload is validated and imported by a background task of the app server that received
-- it; its phase and progress live here so that any app server behind the load balancer can answer
-- the page that polls it.

CREATE TABLE import_jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    -- who may follow the job: the scope of the uploader ('all', 'region:3205', 'cluster:<id>')
    scope_key   TEXT    NOT NULL,
    -- the uploaded file's name as the browser gave it (shown only, never used as a path)
    file_name   TEXT    NOT NULL,
    status      TEXT    NOT NULL
        CHECK (status IN ('queued', 'validating', 'importing', 'imported', 'rejected', 'failed')),
    rows_done   BIGINT  NOT NULL DEFAULT 0,
    rows_total  BIGINT  NOT NULL DEFAULT 0,
    -- JSON: the counts of an imported file, the problems of a rejected one, the reason of a failure
    result      TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX import_jobs_scope ON import_jobs (scope_key, created_at DESC, id DESC);
