-- The audit log: who did what, when and from where (log-ins, sign-ups, password resets, …).
-- Append-only: the application never updates or deletes an entry. The PostgreSQL migration of
-- the same number mirrors this table (ids and types as in 0001).
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Unix seconds (UTC)
    at             BIGINT  NOT NULL,
    -- NULL for an anonymous actor (a failed log-in to an unknown address)
    actor_user_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    -- a stable code: login_ok, login_failed, logout, signup, admin_created, password_reset, …
    action         TEXT    NOT NULL,
    -- what it was done to, e.g. user:12, assessment:40, or the e-mail address of a failed log-in
    target         TEXT    NOT NULL DEFAULT '',
    -- key=value facts (never a password or a secret)
    detail         TEXT    NOT NULL DEFAULT '',
    -- the client's address
    ip             TEXT
);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);
