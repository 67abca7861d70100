//! The PostgreSQL implementation of [`Store`], for deployments that run a database server.
//!
//! It mirrors [`SqliteStore`](crate::sqlite::SqliteStore) query for query: the schema in
//! `migrations/postgres/` has the same tables, columns, constraints and index names as the SQLite
//! one (see the header of `0001_initial.sql` for the few type differences), JSON documents are
//! stored as text so both backends return identical values, and errors map to the same
//! [`StoreError`] variants.
//!
//! [`PgStore::connect`] takes a `postgres://` URL. Every libpq-style URL parameter sqlx knows is
//! accepted, notably `options=-c search_path=…` to keep the tables in a schema of their own. TLS
//! is not compiled in: `sslmode=prefer` (the default) connects in plain text, `sslmode=require`
//! fails; use a local socket or a private network.
//!
//! PostgreSQL cannot store a NUL character in text, which SQLite can. No stored value can contain
//! one, so lookups by such a string (an e-mail address, a token hash) find nothing without asking
//! the server, and login-failure keys store NUL as U+FFFD, so the rate limit counts odd keys as
//! SQLite does. Any other write of such text fails with [`StoreError::Database`] (the web layer
//! should refuse it in its input validation).
//!
//! Every write runs in a transaction (`READ COMMITTED`). Where a write decides on what it read
//! (completing an assessment), it locks the row first (`SELECT … FOR UPDATE`), so concurrent
//! writers queue as they do on SQLite's write lock. Reads that take several queries (a page and its
//! total) run in one `REPEATABLE READ, READ ONLY` transaction so they see one snapshot.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::error::ErrorKind;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection, Postgres, Row, Transaction};

pub use crate::sqlite::LOGIN_FAILURE_RETENTION_SECS;
use crate::sqlite::{
    LIST_AUDIT_SQL, bounds, parse_json, parse_status, status_str, to_json, unix_now,
};
use crate::{
    Assessment, AssessmentStatus, AuditAction, AuditCtx, AuditEntry, AuditRecord, Enterprise, Id,
    Page, Result, Role, Session, Store, StoreError, User, audit_text,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long [`PgStore::connect`] waits for the server to accept the first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free pooled connection (or for a new one to be established).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Pooled connections to the server.
const MAX_CONNECTIONS: u32 = 8;

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

/// [`Store`] on PostgreSQL. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database?…`) and
    /// brings its schema up to date. Fails fast, with [`StoreError::Unavailable`], when the server
    /// refuses the connection or does not answer within 5 s.
    pub async fn connect(url: &str) -> Result<Self> {
        // sqlx's URL errors do not repeat the URL, so no password can leak into the message.
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("invalid PostgreSQL URL: {e}")))?;
        Self::connect_with(options).await
    }

    /// [`PgStore::connect`] with options built in code.
    ///
    /// Migrations run on a first, dedicated connection, so a refused connection, a wrong password
    /// or a missing database is reported at once with the server's reason (the pool would retry a
    /// refused connection until its acquire timeout). When the schema is already up to date no DDL
    /// is run at all: a store can then be opened on a read-only server (a hot standby) or by a
    /// role that may not create tables; its writes fail with [`StoreError::Unavailable`].
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let server = describe(&options);
        let mut conn =
            match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await
            {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => return Err(at_server(map_err(e), &server)),
                Err(_) => {
                    return Err(StoreError::Unavailable(format!(
                        "{server}: the database server did not answer within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    )));
                }
            };
        let migrated = migrate(&mut conn).await;
        // The connection is of no further use either way; failing to say goodbye is harmless.
        let _ = conn.close().await;
        migrated.map_err(|e| at_server(e, &server))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        let store = PgStore { pool };
        store
            .backfill_facts()
            .await
            .map_err(|e| at_server(e, &server))?;
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

    /// A write transaction.
    async fn write(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.db()
    }

    /// A read transaction: one consistent snapshot for several queries.
    async fn read(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .db()
    }
}

/// Applies the pending migrations, unless every migration is applied already (then nothing is
/// written: sqlx's migrator would at least run `CREATE TABLE IF NOT EXISTS`, which a read-only
/// server refuses).
async fn migrate(conn: &mut PgConnection) -> Result<()> {
    if is_up_to_date(conn).await? {
        return Ok(());
    }
    MIGRATOR.run(&mut *conn).await.map_err(migrate_err)
}

/// True when the applied migrations are exactly this version's, successful and unchanged. Anything
/// else (nothing applied yet, a pending, failed, edited or unknown migration) is left to the
/// migrator, which applies or reports it.
async fn is_up_to_date(conn: &mut PgConnection) -> Result<bool> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(&mut *conn)
        .await
        .db()?;
    if table.is_none() {
        return Ok(false);
    }
    let mut applied: Vec<(i64, bool, Vec<u8>)> =
        sqlx::query_as("SELECT version, success, checksum FROM _sqlx_migrations")
            .fetch_all(&mut *conn)
            .await
            .db()?;
    applied.sort_by_key(|(version, _, _)| *version);
    let mut expected: Vec<(i64, bool, Vec<u8>)> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, true, m.checksum.to_vec()))
        .collect();
    expected.sort_by_key(|(version, _, _)| *version);
    Ok(applied == expected)
}

/// "PostgreSQL user@host:port/database", to name the server in connection errors (never the
/// password).
fn describe(options: &PgConnectOptions) -> String {
    let place = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    format!(
        "PostgreSQL {}@{place}/{}",
        options.get_username(),
        options.get_database().unwrap_or(options.get_username())
    )
}

// ---- error mapping ---------------------------------------------------------------------------

/// SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const READ_ONLY_SQL_TRANSACTION: &str = "25006";
const DISK_FULL: &str = "53100";
/// Class 53, insufficient resources: disk full, out of memory, too many connections, …
const CLASS_INSUFFICIENT_RESOURCES: &str = "53";
/// Class 08, connection exception.
const CLASS_CONNECTION_EXCEPTION: &str = "08";
const ADMIN_SHUTDOWN: &str = "57P01";
const CRASH_SHUTDOWN: &str = "57P02";
const CANNOT_CONNECT_NOW: &str = "57P03";
const IO_ERROR: &str = "58030";
/// E.g. a NUL character in text.
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    return StoreError::Conflict(conflict_subject(db.constraint(), db.message()));
                }
                // Every write here references an existing parent (user, enterprise): a missing one
                // is a record the caller cannot see.
                ErrorKind::ForeignKeyViolation => return StoreError::NotFound,
                _ => {}
            }
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message();
            match code.as_str() {
                READ_ONLY_SQL_TRANSACTION => StoreError::Unavailable(format!(
                    "the database is read-only (a standby server, or default_transaction_read_only is on): \
                     {message}"
                )),
                DISK_FULL => StoreError::Unavailable(format!(
                    "the disk of the database server is full: {message}"
                )),
                c if c.starts_with(CLASS_INSUFFICIENT_RESOURCES) => StoreError::Unavailable(
                    format!("the database server is out of resources: {message}"),
                ),
                c if c.starts_with(CLASS_CONNECTION_EXCEPTION) => {
                    StoreError::Unavailable(format!("the database connection failed: {message}"))
                }
                ADMIN_SHUTDOWN | CRASH_SHUTDOWN | CANNOT_CONNECT_NOW => StoreError::Unavailable(
                    format!("the database server is shutting down or starting up: {message}"),
                ),
                IO_ERROR => {
                    StoreError::Unavailable(format!("I/O error on the database server: {message}"))
                }
                CHARACTER_NOT_IN_REPERTOIRE => StoreError::Database(format!(
                    "text that PostgreSQL cannot store (e.g. a NUL character): {message}"
                )),
                _ => StoreError::Database(db.to_string()),
            }
        }
        sqlx::Error::Io(io) => {
            StoreError::Unavailable(format!("cannot reach the database server: {io}"))
        }
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(
            "timed out waiting for a database connection (the server is unreachable or busy)"
                .into(),
        ),
        sqlx::Error::PoolClosed => StoreError::Unavailable("the database has been closed".into()),
        other => StoreError::Database(other.to_string()),
    }
}

/// What a unique violation is about, from the constraint's name; the same words as SQLite's.
fn conflict_subject(constraint: Option<&str>, message: &str) -> String {
    let subject = match constraint.unwrap_or_default() {
        "users_email_lower" => "e-mail address",
        c if c.starts_with("api_tokens_") => "API token",
        c if c.starts_with("sessions_") => "session",
        c if c.starts_with("setup_tokens_") => "setup token",
        _ => return message.to_owned(),
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

/// Names the server in connection errors, where the address is what the operator must fix.
fn at_server(e: StoreError, server: &str) -> StoreError {
    match e {
        StoreError::Unavailable(msg) => StoreError::Unavailable(format!("{server}: {msg}")),
        StoreError::Database(msg) => StoreError::Database(format!("{server}: {msg}")),
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

// ---- text PostgreSQL cannot store -----------------------------------------------------------

/// No stored text contains NUL: a lookup by a string with one finds nothing.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// A login-failure key as stored: NUL (which PostgreSQL cannot store) becomes U+FFFD.
fn failure_key(key: &str) -> std::borrow::Cow<'_, str> {
    if storable(key) {
        std::borrow::Cow::Borrowed(key)
    } else {
        std::borrow::Cow::Owned(key.replace('\0', "\u{fffd}"))
    }
}

// ---- rows --------------------------------------------------------------------------------------

fn user_from_row(row: &PgRow) -> Result<User> {
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

fn enterprise_from_row(row: &PgRow) -> Result<Enterprise> {
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

fn assessment_from_row(row: &PgRow) -> Result<Assessment> {
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

async fn insert_user(
    conn: &mut PgConnection,
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

async fn create_enterprise_user_in(
    conn: &mut PgConnection,
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
    conn: &mut PgConnection,
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

async fn set_password_in(conn: &mut PgConnection, user_id: Id, password_hash: &str) -> Result<()> {
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

async fn delete_user_sessions_in(conn: &mut PgConnection, user_id: Id) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(())
}

async fn create_api_token_in(
    conn: &mut PgConnection,
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
    conn: &mut PgConnection,
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
    // The row lock makes a concurrent completion wait and then see "complete" (→ Conflict).
    let status: String = sqlx::query_scalar(
        "SELECT status FROM assessments WHERE id = $1 AND enterprise_id = $2 FOR UPDATE",
    )
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

/// Texts go through [`audit_text`] (which also replaces NUL, so every entry can be stored).
async fn insert_audit(conn: &mut PgConnection, record: &AuditRecord) -> Result<Id> {
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

fn audit_entry_from_row(row: &PgRow) -> Result<AuditEntry> {
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

// ---- the trait ---------------------------------------------------------------------------------

#[async_trait]
impl Store for PgStore {
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
        sqlx::query_scalar::<_, i32>("SELECT 1")
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

    /// Case-insensitive for ASCII letters only, like SQLite (the "C" collation matches the unique
    /// index `users_email_lower`).
    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        if !storable(email) {
            return Ok(None);
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE lower(email COLLATE \"C\") = lower($1 COLLATE \"C\")"
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
        if !storable(token_hash) {
            return Ok(false);
        }
        let mut tx = self.write().await?;
        // A concurrent consumer of the same token waits for this row lock and then deletes nothing.
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
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
        )
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
        if !storable(token_hash) {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
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
        if !storable(token_hash) {
            return Ok(());
        }
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
        if !storable(token_hash) {
            return Ok(None);
        }
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
        let key = failure_key(key);
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(&*key)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
            .bind(&*key)
            .bind(at.saturating_sub(LOGIN_FAILURE_RETENTION_SECS))
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<i64> {
        let key = failure_key(key);
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
            .bind(&*key)
            .bind(since)
            .fetch_one(&self.pool)
            .await
            .db()
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let key = failure_key(key);
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(&*key)
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
        let (profile, answers): (String, String) = match copy_from {
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
        let row = sqlx::query(concat!(
            "SELECT ",
            assessment_cols!(),
            " FROM assessments WHERE id = $1 AND enterprise_id = $2"
        ))
        .bind(id)
        .bind(enterprise_id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref()
            .map(assessment_from_row)
            .transpose()?
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
    store: PgStore,
    db: sqlx::Postgres,
    conn: PgConnection,
    row: PgRow,
    pg: true,
    write_cube: super::write_cube_unnest,
    write_items: super::write_items_unnest,
    write_totals: super::write_totals_unnest
);

// ---- bulk rollup writes ---------------------------------------------------------------------------

/// Rows per UNNEST statement.
const UNNEST_CHUNK: usize = 20_000;
const CUBE_KEYS: &str = "campaign_id, region_key, cluster_id, sector, grp, size, month";

/// The key columns of rollup rows, as arrays.
#[derive(Default)]
struct KeyArrays {
    campaign: Vec<i64>,
    region: Vec<String>,
    cluster: Vec<String>,
    sector: Vec<String>,
    grp: Vec<String>,
    size: Vec<String>,
    month: Vec<i64>,
}

impl KeyArrays {
    fn push(&mut self, k: &crate::facts::CubeKeyRef<'_>) {
        self.campaign.push(k.campaign_id);
        self.region.push(k.region_key.to_owned());
        self.cluster.push(k.cluster_id.to_owned());
        self.sector.push(k.sector.to_owned());
        self.grp.push(k.grp.to_owned());
        self.size.push(k.size.to_owned());
        self.month.push(k.month);
    }

    fn bind(
        self,
        q: sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
        q.bind(self.campaign)
            .bind(self.region)
            .bind(self.cluster)
            .bind(self.sector)
            .bind(self.grp)
            .bind(self.size)
            .bind(self.month)
    }
}

const KEY_TYPES: &str =
    "$1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]";

/// Rollup rows as one upsert per 20,000 rows, the columns bound as arrays (PostgreSQL parses
/// and plans the statement once instead of once per few hundred rows).
pub(crate) async fn write_cube_unnest(
    conn: &mut PgConnection,
    main: &[(
        crate::facts::CubeKeyRef<'_>,
        &[i64; crate::facts::NCOUNTERS],
    )],
) -> Result<()> {
    use crate::facts::{COUNTERS, NCOUNTERS};
    let arrays: Vec<String> = (0..NCOUNTERS)
        .map(|i| format!("${}::bigint[]", i + 8))
        .collect();
    let set: Vec<String> = COUNTERS
        .iter()
        .map(|c| format!("{c} = fact_cube.{c} + excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO fact_cube ({CUBE_KEYS}, {}) SELECT * FROM UNNEST({KEY_TYPES}, {}) \
         ON CONFLICT ({CUBE_KEYS}) DO UPDATE SET {}",
        COUNTERS.join(", "),
        arrays.join(", "),
        set.join(", ")
    );
    for chunk in main.chunks(UNNEST_CHUNK) {
        let mut keys = KeyArrays::default();
        let mut counters: Vec<Vec<i64>> = (0..NCOUNTERS)
            .map(|_| Vec::with_capacity(chunk.len()))
            .collect();
        for (k, c) in chunk {
            keys.push(k);
            for (column, v) in counters.iter_mut().zip(c.iter()) {
                column.push(*v);
            }
        }
        let mut q = keys.bind(sqlx::query(AssertSqlSafe(sql.clone())));
        for column in counters {
            q = q.bind(column);
        }
        q.execute(&mut *conn).await.db()?;
    }
    Ok(())
}

/// Item rows, bound as arrays (see [`write_cube_unnest`]).
pub(crate) async fn write_items_unnest(
    conn: &mut PgConnection,
    items: &[(
        crate::facts::CubeKeyRef<'_>,
        crate::facts::ItemKind,
        &str,
        i64,
    )],
) -> Result<()> {
    let sql = format!(
        "INSERT INTO fact_cube_items ({CUBE_KEYS}, kind, item, n) \
         SELECT * FROM UNNEST({KEY_TYPES}, $8::text[], $9::text[], $10::bigint[]) \
         ON CONFLICT ({CUBE_KEYS}, kind, item) DO UPDATE SET n = fact_cube_items.n + excluded.n"
    );
    for chunk in items.chunks(UNNEST_CHUNK) {
        let mut keys = KeyArrays::default();
        let mut kinds = Vec::with_capacity(chunk.len());
        let mut names = Vec::with_capacity(chunk.len());
        let mut counts = Vec::with_capacity(chunk.len());
        for (k, kind, item, n) in chunk {
            keys.push(k);
            kinds.push(kind.code().to_owned());
            names.push((*item).to_owned());
            counts.push(*n);
        }
        keys.bind(sqlx::query(AssertSqlSafe(sql.clone())))
            .bind(kinds)
            .bind(names)
            .bind(counts)
            .execute(&mut *conn)
            .await
            .db()?;
    }
    Ok(())
}

/// Item totals, bound as arrays (see [`write_cube_unnest`]).
pub(crate) async fn write_totals_unnest(
    conn: &mut PgConnection,
    totals: &[(Id, &str, crate::facts::ItemKind, i64, &str, i64)],
) -> Result<()> {
    const SQL: &str = "INSERT INTO fact_item_totals (campaign_id, region_key, kind, month, item, n) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) \
         ON CONFLICT (campaign_id, region_key, kind, month, item) DO UPDATE SET n = fact_item_totals.n + excluded.n";
    for chunk in totals.chunks(UNNEST_CHUNK) {
        let mut campaigns = Vec::with_capacity(chunk.len());
        let mut regions = Vec::with_capacity(chunk.len());
        let mut kinds = Vec::with_capacity(chunk.len());
        let mut months = Vec::with_capacity(chunk.len());
        let mut items = Vec::with_capacity(chunk.len());
        let mut counts = Vec::with_capacity(chunk.len());
        for (campaign, region, kind, month, item, n) in chunk {
            campaigns.push(*campaign);
            regions.push((*region).to_owned());
            kinds.push(kind.code().to_owned());
            months.push(*month);
            items.push((*item).to_owned());
            counts.push(*n);
        }
        sqlx::query(SQL)
            .bind(campaigns)
            .bind(regions)
            .bind(kinds)
            .bind(months)
            .bind(items)
            .bind(counts)
            .execute(&mut *conn)
            .await
            .db()?;
    }
    Ok(())
}

crate::jobs::impl_jobs!(store: PgStore, row: PgRow);

crate::providers::impl_providers!(store: PgStore, db: sqlx::Postgres, conn: PgConnection, row: PgRow);
