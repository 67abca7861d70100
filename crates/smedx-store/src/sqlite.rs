//! The SQLite implementation of [`Store`], the embedded default.
//!
//! One database file opened in WAL mode (readers do not block the writer), with foreign keys
//! enforced, a 5 s busy timeout and `synchronous = NORMAL`. The schema lives in
//! `migrations/sqlite/` and is applied by [`SqliteStore::open`]; it is written in portable SQL so
//! the PostgreSQL implementation can mirror it table for table. Queries use `$N` placeholders,
//! which SQLite and PostgreSQL both understand.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so two
//! concurrent writers queue on the busy timeout instead of failing when a read turns into a write.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::error::ErrorKind;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::{
    Assessment, AssessmentStatus, AuditAction, AuditCtx, AuditEntry, AuditRecord, Enterprise, Id,
    Page, Result, Role, Session, Store, StoreError, User, audit_text,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The version and checksum of every migration this version applies to a SQLite database.
pub(crate) fn known_migrations() -> Vec<(i64, Vec<u8>)> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect()
}

/// How long a statement waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Pooled connections to a database file (WAL: many readers, one writer at a time).
const MAX_CONNECTIONS: u32 = 4;

/// Login failures older than this (relative to the newest failure recorded for the same key) are
/// deleted when a failure is recorded, so the table stays small. Rate-limit windows passed to
/// [`Store::login_failures`] must therefore not be longer than this.
pub const LOGIN_FAILURE_RETENTION_SECS: i64 = 24 * 60 * 60;

/// The columns of `users`, in the order [`user_from_row`] reads them by name.
macro_rules! user_cols {
    () => {
        "id, email, password_hash, role, enterprise_id, lang, created_at, region_code, cluster_id"
    };
}

/// The columns of `enterprises` (the same as `crate::regional::ENTERPRISE_COLS`).
macro_rules! enterprise_cols {
    () => {
        "id, name, created_at, region_code, cluster_id, credit_code"
    };
}

/// The columns of `assessments`.
macro_rules! assessment_cols {
    () => {
        "id, enterprise_id, status, step, profile, answers, result, score, level, created_at, updated_at, \
         completed_at"
    };
}

/// [`Store`] on SQLite. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it and its directory when missing) the database file at `path` and brings
    /// its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create the database directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_release(|conn, _| Box::pin(still_usable(conn)))
            .connect_with(options)
            .await
            .map_err(|e| in_file(map_err(e), path))?;
        let store = SqliteStore { pool };
        if let Err(e) = MIGRATOR.run(&store.pool).await {
            store.pool.close().await;
            return Err(in_file(migrate_err(e), path));
        }
        if let Err(e) = store.backfill_facts().await {
            store.pool.close().await;
            return Err(in_file(e, path));
        }
        Ok(store)
    }

    /// Opens an existing, already migrated database file read-only: reads work, every write fails
    /// with [`StoreError::Unavailable`]. No migrations are run.
    pub async fn open_read_only(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_release(|conn, _| Box::pin(still_usable(conn)))
            .connect_with(options)
            .await
            .map_err(|e| in_file(map_err(e), path))?;
        Ok(SqliteStore { pool })
    }

    /// A fresh, private in-memory database (for tests). It lives as long as the store: the pool
    /// holds exactly one connection that is never closed, so every query sees the same data.
    pub async fn memory() -> Result<Self> {
        // "sqlite::memory:" names a new shared-cache in-memory database for every call.
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(map_err)?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        MIGRATOR.run(&pool).await.map_err(migrate_err)?;
        let store = SqliteStore { pool };
        store.backfill_facts().await?;
        Ok(store)
    }

    /// Closes every connection (waiting for those in use to be returned). Later calls fail with
    /// [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The number of enterprises (for administration and tests).
    pub async fn count_enterprises(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM enterprises")
            .fetch_one(&self.pool)
            .await
            .db()
    }

    /// The journal mode of the database, e.g. "wal" for a file opened by [`SqliteStore::open`].
    pub async fn journal_mode(&self) -> Result<String> {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await
            .db()?;
        Ok(mode.to_ascii_lowercase())
    }

    /// Deletes expired sessions and setup tokens and login failures older than
    /// [`LOGIN_FAILURE_RETENTION_SECS`]; returns the number of rows deleted. For a periodic job.
    pub async fn purge_expired(&self, now: i64) -> Result<u64> {
        let mut tx = self.write().await?;
        let mut deleted = 0;
        deleted += sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        deleted += sqlx::query("DELETE FROM setup_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        deleted += sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now.saturating_sub(LOGIN_FAILURE_RETENTION_SECS))
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        tx.commit().await.db()?;
        Ok(deleted)
    }

    /// A write transaction holding the database's write lock from the start.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.db()
    }

    /// A read transaction: one consistent snapshot for several queries.
    async fn read(&self) -> Result<Transaction<'static, Sqlite>> {
        self.pool.begin().await.db()
    }
}

// ---- error mapping ---------------------------------------------------------------------------

/// Whether a connection given back to the pool may be reused. A write that fails with
/// SQLITE_FULL or SQLITE_IOERR can end its transaction inside SQLite; the ROLLBACK sqlx then sends
/// for the dropped transaction fails, and the connection would believe for ever that it is in a
/// transaction (every later BEGIN on it fails). Such a connection is closed instead, so that the
/// store works again as soon as the disk has room.
async fn still_usable(conn: &mut SqliteConnection) -> std::result::Result<bool, sqlx::Error> {
    // The ping queues behind the pending rollback, so the answer below is the settled state.
    sqlx::Connection::ping(&mut *conn).await?;
    Ok(!sqlx::Connection::is_in_transaction(&*conn))
}

/// SQLite primary result codes (the low byte of an extended result code).
const SQLITE_PERM: i32 = 3;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            let message = db.message().to_owned();
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return StoreError::Conflict(conflict_subject(&message));
                }
                // Every write here references an existing parent (user, enterprise): a missing one
                // is a record the caller cannot see.
                ErrorKind::ForeignKeyViolation => return StoreError::NotFound,
                _ => {}
            }
            let primary = db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .map(|code| code & 0xff);
            let lower = message.to_ascii_lowercase();
            match primary {
                Some(SQLITE_READONLY) => StoreError::Unavailable(format!(
                    "the database is read-only (check the permissions of the database file and its directory): \
                     {message}"
                )),
                Some(SQLITE_FULL) => {
                    StoreError::Unavailable(format!("the disk is full: {message}"))
                }
                Some(SQLITE_CANTOPEN) => StoreError::Unavailable(format!(
                    "unable to open the database file (check that the path exists and is accessible): {message}"
                )),
                Some(SQLITE_PERM) => {
                    StoreError::Unavailable(format!("access to the database was denied: {message}"))
                }
                Some(SQLITE_IOERR) => StoreError::Unavailable(format!("disk I/O error: {message}")),
                _ if lower.contains("readonly") || lower.contains("read-only") => {
                    StoreError::Unavailable(format!("the database is read-only: {message}"))
                }
                _ if lower.contains("disk full") || lower.contains("database or disk is full") => {
                    StoreError::Unavailable(format!("the disk is full: {message}"))
                }
                _ if lower.contains("unable to open") => {
                    StoreError::Unavailable(format!("unable to open the database file: {message}"))
                }
                _ => StoreError::Database(db.to_string()),
            }
        }
        sqlx::Error::Io(io) => StoreError::Unavailable(format!("database I/O error: {io}")),
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(
            "timed out waiting for a database connection (the database is busy)".into(),
        ),
        sqlx::Error::PoolClosed => StoreError::Unavailable("the database has been closed".into()),
        other => StoreError::Database(other.to_string()),
    }
}

/// What a unique violation is about, from SQLite's "UNIQUE constraint failed: …" message.
fn conflict_subject(message: &str) -> String {
    let subject = if message.contains("users_email_lower") || message.contains("users.email") {
        "e-mail address"
    } else if message.contains("api_tokens.") {
        "API token"
    } else if message.contains("sessions.") {
        "session"
    } else if message.contains("setup_tokens.") {
        "setup token"
    } else {
        return message.to_owned();
    };
    subject.to_owned()
}

fn migrate_err(e: MigrateError) -> StoreError {
    match e {
        MigrateError::Execute(e) => map_err(e),
        MigrateError::ExecuteMigration(e, version) => match map_err(e) {
            StoreError::Database(msg) => {
                StoreError::Database(format!("migration {version} failed: {msg}"))
            }
            other => other,
        },
        MigrateError::VersionMissing(version) => StoreError::Database(format!(
            "the database was migrated by a newer smedx (migration {version} is unknown to this version)"
        )),
        other => StoreError::Database(format!("migrating the database failed: {other}")),
    }
}

/// Names the file in "cannot open/write" errors, where the path is what the operator must fix.
fn in_file(e: StoreError, path: &Path) -> StoreError {
    match e {
        StoreError::Unavailable(msg) => {
            StoreError::Unavailable(format!("{}: {msg}", path.display()))
        }
        other => other,
    }
}

trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(map_err)
    }
}

// ---- rows --------------------------------------------------------------------------------------

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn user_from_row(row: &SqliteRow) -> Result<User> {
    let id: Id = row.try_get("id").db()?;
    let role: String = row.try_get("role").db()?;
    Ok(User {
        id,
        email: row.try_get("email").db()?,
        password_hash: row.try_get("password_hash").db()?,
        role: Role::parse(&role).ok_or_else(|| {
            StoreError::Database(format!("user {id} has an unknown role {role:?}"))
        })?,
        enterprise_id: row.try_get("enterprise_id").db()?,
        lang: row.try_get("lang").db()?,
        created_at: row.try_get("created_at").db()?,
        region_code: row
            .try_get::<Option<i64>, _>("region_code")
            .db()?
            .map(crate::scope::region_code_text),
        cluster_id: row.try_get("cluster_id").db()?,
    })
}

fn enterprise_from_row(row: &SqliteRow) -> Result<Enterprise> {
    Ok(Enterprise {
        id: row.try_get("id").db()?,
        name: row.try_get("name").db()?,
        created_at: row.try_get("created_at").db()?,
        region_code: row
            .try_get::<Option<i64>, _>("region_code")
            .db()?
            .map(crate::scope::region_code_text),
        cluster_id: row.try_get("cluster_id").db()?,
        credit_code: row.try_get("credit_code").db()?,
    })
}

pub(crate) fn status_str(status: AssessmentStatus) -> &'static str {
    match status {
        AssessmentStatus::Draft => "draft",
        AssessmentStatus::Complete => "complete",
    }
}

pub(crate) fn parse_status(id: Id, s: &str) -> Result<AssessmentStatus> {
    match s {
        "draft" => Ok(AssessmentStatus::Draft),
        "complete" => Ok(AssessmentStatus::Complete),
        _ => Err(StoreError::Database(format!(
            "assessment {id} has an unknown status {s:?}"
        ))),
    }
}

pub(crate) fn parse_json(id: Id, column: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::Database(format!(
            "assessment {id}: column {column} is not valid JSON: {e}"
        ))
    })
}

pub(crate) fn to_json(value: &serde_json::Value) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Database(format!("cannot serialise a JSON document: {e}")))
}

fn assessment_from_row(row: &SqliteRow) -> Result<Assessment> {
    let id: Id = row.try_get("id").db()?;
    let status: String = row.try_get("status").db()?;
    let profile: String = row.try_get("profile").db()?;
    let answers: String = row.try_get("answers").db()?;
    let result: Option<String> = row.try_get("result").db()?;
    Ok(Assessment {
        id,
        enterprise_id: row.try_get("enterprise_id").db()?,
        status: parse_status(id, &status)?,
        step: row.try_get("step").db()?,
        profile: parse_json(id, "profile", &profile)?,
        answers: parse_json(id, "answers", &answers)?,
        result: result
            .map(|text| parse_json(id, "result", &text))
            .transpose()?,
        score: row.try_get("score").db()?,
        level: row.try_get("level").db()?,
        created_at: row.try_get("created_at").db()?,
        updated_at: row.try_get("updated_at").db()?,
        completed_at: row.try_get("completed_at").db()?,
    })
}

/// Negative offsets and limits count as 0.
pub(crate) fn bounds(page: Page) -> (i64, i64) {
    (page.offset.max(0), page.limit.max(0))
}

async fn insert_user(
    conn: &mut SqliteConnection,
    email: &str,
    password_hash: &str,
    role: Role,
    enterprise_id: Option<Id>,
    lang: Option<&str>,
    now: i64,
) -> Result<User> {
    let row = sqlx::query(concat!(
        "INSERT INTO users (email, password_hash, role, enterprise_id, lang, created_at) ",
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        user_cols!()
    ))
    .bind(email)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(enterprise_id)
    .bind(lang)
    .bind(now)
    .fetch_one(conn)
    .await
    .db()?;
    user_from_row(&row)
}

async fn fetch_assessment(
    conn: &mut SqliteConnection,
    enterprise_id: Id,
    id: Id,
) -> Result<Option<Assessment>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        assessment_cols!(),
        " FROM assessments WHERE id = $1 AND enterprise_id = $2"
    ))
    .bind(id)
    .bind(enterprise_id)
    .fetch_optional(conn)
    .await
    .db()?;
    row.as_ref().map(assessment_from_row).transpose()
}

async fn create_enterprise_user_in(
    conn: &mut SqliteConnection,
    enterprise_name: &str,
    email: &str,
    password_hash: &str,
    lang: Option<&str>,
    now: i64,
) -> Result<(Enterprise, User)> {
    let row = sqlx::query(concat!(
        "INSERT INTO enterprises (name, created_at) VALUES ($1, $2) RETURNING ",
        enterprise_cols!()
    ))
    .bind(enterprise_name)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .db()?;
    let enterprise = enterprise_from_row(&row)?;
    // A taken e-mail address fails here; dropping the transaction rolls the enterprise back.
    let user = insert_user(
        conn,
        email,
        password_hash,
        Role::Enterprise,
        Some(enterprise.id),
        lang,
        now,
    )
    .await?;
    Ok((enterprise, user))
}

async fn add_enterprise_user_in(
    conn: &mut SqliteConnection,
    enterprise_id: Id,
    email: &str,
    password_hash: &str,
    now: i64,
) -> Result<User> {
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enterprises WHERE id = $1")
        .bind(enterprise_id)
        .fetch_one(&mut *conn)
        .await
        .db()?;
    if exists == 0 {
        return Err(StoreError::NotFound);
    }
    insert_user(
        conn,
        email,
        password_hash,
        Role::Enterprise,
        Some(enterprise_id),
        None,
        now,
    )
    .await
}

async fn set_password_in(
    conn: &mut SqliteConnection,
    user_id: Id,
    password_hash: &str,
) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .db()?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

async fn delete_user_sessions_in(conn: &mut SqliteConnection, user_id: Id) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(())
}

async fn create_api_token_in(
    conn: &mut SqliteConnection,
    user_id: Id,
    name: &str,
    token_hash: &str,
    now: i64,
) -> Result<Id> {
    sqlx::query_scalar(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(name)
    .bind(token_hash)
    .bind(now)
    .fetch_one(conn)
    .await
    .db()
}

async fn complete_assessment_in(
    conn: &mut SqliteConnection,
    enterprise_id: Id,
    id: Id,
    result: &serde_json::Value,
    score: Option<f64>,
    level: Option<i64>,
    now: i64,
) -> Result<()> {
    let report = result;
    let result = to_json(result)?;
    // SQLite would store NaN as NULL while PostgreSQL keeps it: store no score in both.
    let score = score.filter(|s| s.is_finite());
    let status: String =
        sqlx::query_scalar("SELECT status FROM assessments WHERE id = $1 AND enterprise_id = $2")
            .bind(id)
            .bind(enterprise_id)
            .fetch_optional(&mut *conn)
            .await
            .db()?
            .ok_or(StoreError::NotFound)?;
    if parse_status(id, &status)? == AssessmentStatus::Complete {
        return Err(StoreError::Conflict(format!(
            "assessment {id} is already complete"
        )));
    }
    sqlx::query(
        "UPDATE assessments SET status = $1, result = $2, score = $3, level = $4, completed_at = $5, \
         updated_at = $5 WHERE id = $6 AND enterprise_id = $7",
    )
    .bind(status_str(AssessmentStatus::Complete))
    .bind(result)
    .bind(score)
    .bind(level)
    .bind(now)
    .bind(id)
    .bind(enterprise_id)
    .execute(&mut *conn)
    .await
    .db()?;
    // The dashboards' fact and rollups, in the same transaction.
    regional_impl::record_fact_in(conn, enterprise_id, id, report, now).await
}

async fn insert_audit(conn: &mut SqliteConnection, record: &AuditRecord) -> Result<Id> {
    sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor_user_id, action, target, detail, ip) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(record.at)
    .bind(record.actor_user_id)
    .bind(audit_text(&record.action))
    .bind(audit_text(&record.target))
    .bind(audit_text(&record.detail))
    .bind(record.ip.as_deref().map(audit_text))
    .fetch_one(conn)
    .await
    .db()
}

fn audit_entry_from_row(row: &SqliteRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id").db()?,
        at: row.try_get("at").db()?,
        actor_user_id: row.try_get("actor_user_id").db()?,
        actor_email: row.try_get("actor_email").db()?,
        action: row.try_get("action").db()?,
        target: row.try_get("target").db()?,
        detail: row.try_get("detail").db()?,
        ip: row.try_get("ip").db()?,
    })
}

/// The audit log, newest first, with the actor's e-mail address (same SQL on both backends).
pub(crate) const LIST_AUDIT_SQL: &str = "SELECT a.id, a.at, a.actor_user_id, u.email AS actor_email, \
     a.action, a.target, a.detail, a.ip FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
     ORDER BY a.at DESC, a.id DESC LIMIT $1 OFFSET $2";

// ---- the trait ---------------------------------------------------------------------------------

#[async_trait]
impl Store for SqliteStore {
    async fn create_enterprise_user(
        &self,
        enterprise_name: &str,
        email: &str,
        password_hash: &str,
        lang: Option<&str>,
    ) -> Result<(Enterprise, User)> {
        let mut tx = self.write().await?;
        let created = create_enterprise_user_in(
            &mut tx,
            enterprise_name,
            email,
            password_hash,
            lang,
            unix_now(),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(created)
    }

    async fn add_enterprise_user(
        &self,
        enterprise_id: Id,
        email: &str,
        password_hash: &str,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let user = add_enterprise_user_in(&mut tx, enterprise_id, email, password_hash, unix_now())
            .await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    async fn create_admin(&self, email: &str, password_hash: &str) -> Result<User> {
        let now = unix_now();
        let mut tx = self.write().await?;
        let user = insert_user(&mut tx, email, password_hash, Role::Admin, None, None, now).await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .db()
            .map(|_| ())
    }

    async fn has_admin(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM users WHERE role = 'admin' LIMIT 1) AS a",
        )
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(n > 0)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE lower(email) = lower($1)"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user(&self, id: Id) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn enterprise(&self, id: Id) -> Result<Option<Enterprise>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            enterprise_cols!(),
            " FROM enterprises WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(enterprise_from_row).transpose()
    }

    async fn rename_enterprise(&self, id: Id, name: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE enterprises SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.db()
    }

    async fn list_users(&self, page: Page) -> Result<(Vec<User>, i64)> {
        let (offset, limit) = bounds(page);
        let mut tx = self.read().await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await
            .db()?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        let users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
        Ok((users, total))
    }

    async fn set_password(&self, user_id: Id, password_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        set_password_in(&mut tx, user_id, password_hash).await?;
        tx.commit().await.db()
    }

    async fn set_user_lang(&self, user_id: Id, lang: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
            .bind(lang)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.db()
    }

    async fn create_setup_token(&self, token_hash: &str, expires_at: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)")
            .bind(token_hash)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn consume_setup_token(&self, token_hash: &str, now: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let consumed =
            sqlx::query("DELETE FROM setup_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
        // Expired tokens are of no further use.
        sqlx::query("DELETE FROM setup_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(consumed > 0)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: Id,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(expires_at)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|row| {
            Ok(Session {
                user_id: row.try_get("user_id").db()?,
                csrf_token: row.try_get("csrf_token").db()?,
                expires_at: row.try_get("expires_at").db()?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn delete_user_sessions(&self, user_id: Id) -> Result<()> {
        let mut tx = self.write().await?;
        delete_user_sessions_in(&mut tx, user_id).await?;
        tx.commit().await.db()
    }

    async fn create_api_token(&self, user_id: Id, name: &str, token_hash: &str) -> Result<Id> {
        let mut tx = self.write().await?;
        let id = create_api_token_in(&mut tx, user_id, name, token_hash, unix_now()).await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = (SELECT user_id FROM api_tokens WHERE token_hash = $1)"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
            .bind(key)
            .bind(at.saturating_sub(LOGIN_FAILURE_RETENTION_SECS))
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
            .bind(key)
            .bind(since)
            .fetch_one(&self.pool)
            .await
            .db()
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn create_assessment(
        &self,
        enterprise_id: Id,
        copy_from: Option<Id>,
        now: i64,
    ) -> Result<Assessment> {
        let mut tx = self.write().await?;
        let (profile, answers) = match copy_from {
            None => ("{}".to_owned(), "{}".to_owned()),
            Some(source) => {
                let row = sqlx::query(
                    "SELECT profile, answers FROM assessments WHERE id = $1 AND enterprise_id = $2",
                )
                .bind(source)
                .bind(enterprise_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or(StoreError::NotFound)?;
                (row.try_get("profile").db()?, row.try_get("answers").db()?)
            }
        };
        // A missing enterprise fails the foreign key (→ NotFound).
        let row = sqlx::query(concat!(
            "INSERT INTO assessments (enterprise_id, status, step, profile, answers, created_at, updated_at) ",
            "VALUES ($1, 'draft', 0, $2, $3, $4, $4) RETURNING ",
            assessment_cols!()
        ))
        .bind(enterprise_id)
        .bind(profile)
        .bind(answers)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let assessment = assessment_from_row(&row)?;
        regional_impl::touch_activity(&mut tx, enterprise_id, now).await?;
        tx.commit().await.db()?;
        Ok(assessment)
    }

    async fn assessment(&self, enterprise_id: Id, id: Id) -> Result<Assessment> {
        let mut conn = self.pool.acquire().await.db()?;
        fetch_assessment(&mut conn, enterprise_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn save_step(
        &self,
        enterprise_id: Id,
        id: Id,
        step: i64,
        profile: &serde_json::Value,
        answers: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        let profile = to_json(profile)?;
        let answers = to_json(answers)?;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE assessments SET step = $1, profile = $2, answers = $3, updated_at = $4 \
             WHERE id = $5 AND enterprise_id = $6 AND status = 'draft'",
        )
        .bind(step)
        .bind(profile)
        .bind(answers)
        .bind(now)
        .bind(id)
        .bind(enterprise_id)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        regional_impl::touch_activity(&mut tx, enterprise_id, now).await?;
        tx.commit().await.db()
    }

    /// Err(NotFound) for a missing assessment or another enterprise's; Err(Conflict) when it is
    /// already complete (its stored result is never replaced).
    async fn complete_assessment(
        &self,
        enterprise_id: Id,
        id: Id,
        result: &serde_json::Value,
        score: Option<f64>,
        level: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        complete_assessment_in(&mut tx, enterprise_id, id, result, score, level, now).await?;
        tx.commit().await.db()
    }

    async fn list_assessments(
        &self,
        enterprise_id: Id,
        page: Page,
    ) -> Result<(Vec<Assessment>, i64)> {
        let (offset, limit) = bounds(page);
        let mut tx = self.read().await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM assessments WHERE enterprise_id = $1")
                .bind(enterprise_id)
                .fetch_one(&mut *tx)
                .await
                .db()?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            assessment_cols!(),
            " FROM assessments WHERE enterprise_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(enterprise_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        let items = rows
            .iter()
            .map(assessment_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((items, total))
    }

    /// The draft saved most recently (by `updated_at`, then the newest id).
    async fn latest_draft(&self, enterprise_id: Id) -> Result<Option<Assessment>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            assessment_cols!(),
            " FROM assessments WHERE enterprise_id = $1 AND status = 'draft' ORDER BY updated_at DESC, id DESC LIMIT 1"
        ))
        .bind(enterprise_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(assessment_from_row).transpose()
    }

    async fn record_audit(&self, record: &AuditRecord) -> Result<Id> {
        let mut tx = self.write().await?;
        let id = insert_audit(&mut tx, record).await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    async fn list_audit(&self, page: Page) -> Result<(Vec<AuditEntry>, i64)> {
        let (offset, limit) = bounds(page);
        let mut tx = self.read().await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&mut *tx)
            .await
            .db()?;
        let rows = sqlx::query(LIST_AUDIT_SQL)
            .bind(limit)
            .bind(offset)
            .fetch_all(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        let entries = rows
            .iter()
            .map(audit_entry_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((entries, total))
    }

    async fn create_enterprise_user_audited(
        &self,
        enterprise_name: &str,
        email: &str,
        password_hash: &str,
        lang: Option<&str>,
        audit: &AuditCtx,
    ) -> Result<(Enterprise, User)> {
        let mut tx = self.write().await?;
        let (enterprise, user) = create_enterprise_user_in(
            &mut tx,
            enterprise_name,
            email,
            password_hash,
            lang,
            unix_now(),
        )
        .await?;
        let mut record = audit.record(AuditAction::Signup, format!("user:{}", user.id));
        record.actor_user_id = Some(user.id);
        insert_audit(&mut tx, &record).await?;
        tx.commit().await.db()?;
        Ok((enterprise, user))
    }

    async fn add_enterprise_user_audited(
        &self,
        enterprise_id: Id,
        email: &str,
        password_hash: &str,
        audit: &AuditCtx,
    ) -> Result<User> {
        let mut tx = self.write().await?;
        let user = add_enterprise_user_in(&mut tx, enterprise_id, email, password_hash, unix_now())
            .await?;
        let record = audit.record(AuditAction::ColleagueAdded, format!("user:{}", user.id));
        insert_audit(&mut tx, &record).await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    async fn create_admin_audited(
        &self,
        email: &str,
        password_hash: &str,
        audit: &AuditCtx,
    ) -> Result<User> {
        let now = unix_now();
        let mut tx = self.write().await?;
        let user = insert_user(&mut tx, email, password_hash, Role::Admin, None, None, now).await?;
        let mut record = audit.record(AuditAction::AdminCreated, format!("user:{}", user.id));
        record.actor_user_id = audit.actor_user_id.or(Some(user.id));
        insert_audit(&mut tx, &record).await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    async fn reset_password(
        &self,
        user_id: Id,
        password_hash: &str,
        audit: &AuditCtx,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        set_password_in(&mut tx, user_id, password_hash).await?;
        delete_user_sessions_in(&mut tx, user_id).await?;
        let record = audit.record(AuditAction::PasswordReset, format!("user:{user_id}"));
        insert_audit(&mut tx, &record).await?;
        tx.commit().await.db()
    }

    async fn complete_assessment_audited(
        &self,
        enterprise_id: Id,
        id: Id,
        result: &serde_json::Value,
        score: Option<f64>,
        level: Option<i64>,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        complete_assessment_in(&mut tx, enterprise_id, id, result, score, level, now).await?;
        let record = audit.record(AuditAction::AssessmentCompleted, format!("assessment:{id}"));
        insert_audit(&mut tx, &record).await?;
        tx.commit().await.db()
    }

    async fn create_api_token_audited(
        &self,
        user_id: Id,
        name: &str,
        token_hash: &str,
        audit: &AuditCtx,
    ) -> Result<Id> {
        let mut tx = self.write().await?;
        let id = create_api_token_in(&mut tx, user_id, name, token_hash, unix_now()).await?;
        let record = audit.record(AuditAction::ApiTokenCreated, format!("api_token:{id}"));
        insert_audit(&mut tx, &record).await?;
        tx.commit().await.db()?;
        Ok(id)
    }
}

crate::regional::impl_regional!(
    store: SqliteStore,
    db: sqlx::Sqlite,
    conn: SqliteConnection,
    row: SqliteRow,
    pg: false,
    write_cube: self::write_cube_values,
    write_items: self::write_items_values,
    write_totals: self::write_totals_values
);

crate::providers::impl_providers!(store: SqliteStore, db: sqlx::Sqlite, conn: SqliteConnection, row: SqliteRow);

crate::jobs::impl_jobs!(store: SqliteStore, row: SqliteRow);
