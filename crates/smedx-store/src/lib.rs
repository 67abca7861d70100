//! Storage for smedx behind one trait, [`Store`]. The web layer holds an `Arc<dyn Store>`; SQLite is
//! the embedded default (a PostgreSQL implementation follows the same trait and conformance tests).
//!
//! Authorisation scoping lives here: every enterprise-data method takes the caller's enterprise id,
//! so a handler cannot read another enterprise's data by forgetting a check. Every write runs in a
//! transaction. Timestamps are Unix seconds (UTC).

pub mod postgres;
pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub type Id = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (e.g. an e-mail address) is already taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The record does not exist, or the caller may not see it (the two are not distinguished).
    #[error("not found")]
    NotFound,
    /// The database is read-only, full or otherwise refuses writes.
    #[error("the database cannot be written: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A user of one enterprise.
    Enterprise,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Enterprise => "enterprise",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "enterprise" => Some(Role::Enterprise),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: Id,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    /// Enterprise users belong to exactly one enterprise; administrators to none.
    pub enterprise_id: Option<Id>,
    /// "zh" or "en"; None until the user picks one.
    pub lang: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enterprise {
    pub id: Id,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub user_id: Id,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssessmentStatus {
    Draft,
    Complete,
}

/// One assessment of an enterprise: the wizard's answers as it goes, and the result once complete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub id: Id,
    pub enterprise_id: Id,
    pub status: AssessmentStatus,
    /// The last wizard step saved (0 = nothing yet).
    pub step: i64,
    /// The profile document (JSON object, the profile format of the README).
    pub profile: serde_json::Value,
    /// The answers document (JSON object keyed by question id, plus "scenarios" and "obstacles").
    pub answers: serde_json::Value,
    /// The engine's report, stored when the assessment completes (so history stays as it was).
    pub result: Option<serde_json::Value>,
    pub score: Option<f64>,
    pub level: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            offset: 0,
            limit: 50,
        }
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- accounts --------------------------------------------------------------------------
    /// Creates an enterprise and its first user in one transaction.
    async fn create_enterprise_user(
        &self,
        enterprise_name: &str,
        email: &str,
        password_hash: &str,
        lang: Option<&str>,
    ) -> Result<(Enterprise, User)>;
    /// Adds another user to an existing enterprise.
    async fn add_enterprise_user(
        &self,
        enterprise_id: Id,
        email: &str,
        password_hash: &str,
    ) -> Result<User>;
    async fn create_admin(&self, email: &str, password_hash: &str) -> Result<User>;
    async fn has_admin(&self) -> Result<bool>;
    /// E-mail comparison is case-insensitive.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    async fn user(&self, id: Id) -> Result<Option<User>>;
    async fn enterprise(&self, id: Id) -> Result<Option<Enterprise>>;
    async fn rename_enterprise(&self, id: Id, name: &str) -> Result<()>;
    /// All users, newest first (administrators' user list), with the total count.
    async fn list_users(&self, page: Page) -> Result<(Vec<User>, i64)>;
    async fn set_password(&self, user_id: Id, password_hash: &str) -> Result<()>;
    async fn set_user_lang(&self, user_id: Id, lang: &str) -> Result<()>;

    // ---- one-time administrator setup ----------------------------------------------------
    async fn create_setup_token(&self, token_hash: &str, expires_at: i64) -> Result<()>;
    /// True once: deletes the token when it exists and has not expired.
    async fn consume_setup_token(&self, token_hash: &str, now: i64) -> Result<bool>;

    // ---- sessions and API tokens (only hashes of the secrets are stored) -------------------
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: Id,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()>;
    /// The session when it exists and has not expired.
    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_user_sessions(&self, user_id: Id) -> Result<()>;
    async fn create_api_token(&self, user_id: Id, name: &str, token_hash: &str) -> Result<Id>;
    async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>>;

    // ---- login rate limit -------------------------------------------------------------------
    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()>;
    /// Failures for `key` since `since`.
    async fn login_failures(&self, key: &str, since: i64) -> Result<i64>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;

    // ---- assessments, always scoped to the caller's enterprise -------------------------------
    /// A new draft; with `copy_from`, starts from that assessment's profile and answers.
    async fn create_assessment(
        &self,
        enterprise_id: Id,
        copy_from: Option<Id>,
        now: i64,
    ) -> Result<Assessment>;
    /// Err(NotFound) when it does not exist or belongs to another enterprise.
    async fn assessment(&self, enterprise_id: Id, id: Id) -> Result<Assessment>;
    /// Saves one wizard step of a draft (Err(NotFound) for another enterprise's or a completed one).
    async fn save_step(
        &self,
        enterprise_id: Id,
        id: Id,
        step: i64,
        profile: &serde_json::Value,
        answers: &serde_json::Value,
        now: i64,
    ) -> Result<()>;
    /// Stores the result and marks the assessment complete.
    async fn complete_assessment(
        &self,
        enterprise_id: Id,
        id: Id,
        result: &serde_json::Value,
        score: Option<f64>,
        level: Option<i64>,
        now: i64,
    ) -> Result<()>;
    /// Newest first, with the total count.
    async fn list_assessments(
        &self,
        enterprise_id: Id,
        page: Page,
    ) -> Result<(Vec<Assessment>, i64)>;
    /// The enterprise's most recent draft, if any (to resume the wizard).
    async fn latest_draft(&self, enterprise_id: Id) -> Result<Option<Assessment>>;
}

/// The SQLite file [`open_url`] uses, in the data directory, when no database URL is given.
pub const DEFAULT_SQLITE_FILE: &str = "smedx.sqlite";

/// Opens the store a database URL names, for the command line and configuration:
///
/// * `postgres://…` or `postgresql://…`: [`postgres::PgStore::connect`] (the schema is migrated);
/// * `sqlite:PATH` or `sqlite://PATH`: the SQLite file at PATH, created when missing; a relative
///   PATH is taken from `data_dir` (`sqlite:///abs/path` is absolute);
/// * `sqlite::memory:`: a private in-memory SQLite database (for tests and demos);
/// * an empty URL: the SQLite file [`DEFAULT_SQLITE_FILE`] in `data_dir`.
///
/// Anything else is an error that names only the URL's scheme (a URL may carry a password).
pub async fn open_url(url: &str, data_dir: &Path) -> Result<Arc<dyn Store>> {
    let url = url.trim();
    if url.is_empty() {
        let store = sqlite::SqliteStore::open(&data_dir.join(DEFAULT_SQLITE_FILE)).await?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url).await?;
        return Ok(Arc::new(store));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" {
            return Ok(Arc::new(sqlite::SqliteStore::memory().await?));
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() || path.contains('?') {
            return Err(StoreError::Database(
                "a sqlite: database URL takes a file path and no parameters, e.g. sqlite://smedx.db"
                    .into(),
            ));
        }
        let store = sqlite::SqliteStore::open(&data_dir.join(path)).await?;
        return Ok(Arc::new(store));
    }
    let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
    Err(StoreError::Database(format!(
        "unsupported database URL scheme {scheme:?}: expected postgres://, postgresql:// or sqlite:"
    )))
}
