//! Storage for smedx behind one trait, [`Store`]. The web layer holds an `Arc<dyn Store>`; SQLite is
//! the embedded default (a PostgreSQL implementation follows the same trait and conformance tests).
//!
//! Authorisation scoping lives here: every enterprise-data method takes the caller's enterprise id,
//! so a handler cannot read another enterprise's data by forgetting a check. Every write runs in a
//! transaction. Timestamps are Unix seconds (UTC).
//!
//! The audit log (`audit_log`, migration 0002) is append-only. The `*_audited` methods write a
//! change and its audit entry in one transaction (both or neither); [`Store::record_audit`]
//! appends an entry on its own, for events that change nothing else (log-in, log-out).
//! [`backup`] copies and restores the SQLite database file.
//!
//! The regional authority workspace (migration 0003) is the [`Regional`] supertrait: regions and
//! clusters, authority and cluster users, campaigns whose membership is an enterprise's consent,
//! the enterprise inbox, bulk import, and dashboard aggregates over [`facts`] (one row per
//! completed assessment, rolled up as it is written). Every one of those methods takes a
//! [`Scope`] (see [`scope_for`]), so a route that forgets its guard still cannot read outside the
//! caller's region, cluster or enterprise; small-group suppression is [`aggregate::suppress_table`].

pub mod aggregate;
pub mod backup;
pub mod facts;
pub mod jobs;
pub mod postgres;
pub mod providers;
pub mod regional;
pub mod scope;
pub mod sqlite;

pub use providers::Providers;
pub use regional::Regional;
pub use scope::{RegionPrefix, Scope, scope_for};

use std::path::{Path, PathBuf};
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
    /// The caller passed a value the store refuses (a malformed region code, an unknown cluster,
    /// a campaign that ends before it starts …); the message says which.
    #[error("invalid input: {0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A user of one enterprise.
    Enterprise,
    Admin,
    /// A regional authority: sees its region's aggregates, and individual assessments of the
    /// enterprises that joined one of its campaigns.
    Authority,
    /// The manager of one industrial cluster or park: its cluster's aggregates (suppressed), and
    /// its own campaigns' members.
    Cluster,
    /// Reserved for service providers; sees no enterprise data.
    Provider,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Enterprise,
        Role::Admin,
        Role::Authority,
        Role::Cluster,
        Role::Provider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Enterprise => "enterprise",
            Role::Admin => "admin",
            Role::Authority => "authority",
            Role::Cluster => "cluster",
            Role::Provider => "provider",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
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
    /// Authority users: the six-digit GB/T 2260 code of their region ("320000" is the province of
    /// Jiangsu, "320500" the city of Suzhou, "320506" a district); see [`scope_for`].
    pub region_code: Option<String>,
    /// Cluster users: the id of their cluster.
    pub cluster_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enterprise {
    pub id: Id,
    pub name: String,
    pub created_at: i64,
    /// Six-digit GB/T 2260 code of its location, when known.
    pub region_code: Option<String>,
    pub cluster_id: Option<String>,
    /// The 18-character unified social credit code (unique when present).
    pub credit_code: Option<String>,
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

/// What the audit log records. Stored as the stable code of [`AuditAction::as_str`]; entries read
/// back keep the code as text, so a log written by a newer version still lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    LoginOk,
    LoginFailed,
    Logout,
    Signup,
    AdminCreated,
    PasswordReset,
    ColleagueAdded,
    AssessmentCompleted,
    ApiTokenCreated,
    /// An administrator created an authority, cluster or provider account.
    StaffCreated,
    ClusterCreated,
    CampaignCreated,
    /// An enterprise joined a campaign (consent to the campaign's authority seeing its data).
    CampaignJoined,
    /// An enterprise left a campaign (consent withdrawn).
    CampaignLeft,
    RemindersSent,
    EnterprisesImported,
    /// A dashboard table or the enterprise list was downloaded.
    DataExported,
    /// An administrator or an authority approved a solution provider.
    ProviderApproved,
    ProviderRejected,
    /// An enterprise asked a provider to contact it (consent to share what it chose).
    LeadRequested,
    /// A provider moved a lead (new, contacted, proposal, won, lost).
    LeadStatusChanged,
    /// An enterprise recorded the outcome of a provider's project.
    OutcomeRecorded,
}

impl AuditAction {
    pub const ALL: [AuditAction; 22] = [
        AuditAction::LoginOk,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::Signup,
        AuditAction::AdminCreated,
        AuditAction::PasswordReset,
        AuditAction::ColleagueAdded,
        AuditAction::AssessmentCompleted,
        AuditAction::ApiTokenCreated,
        AuditAction::StaffCreated,
        AuditAction::ClusterCreated,
        AuditAction::CampaignCreated,
        AuditAction::CampaignJoined,
        AuditAction::CampaignLeft,
        AuditAction::RemindersSent,
        AuditAction::EnterprisesImported,
        AuditAction::DataExported,
        AuditAction::ProviderApproved,
        AuditAction::ProviderRejected,
        AuditAction::LeadRequested,
        AuditAction::LeadStatusChanged,
        AuditAction::OutcomeRecorded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginOk => "login_ok",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::Signup => "signup",
            AuditAction::AdminCreated => "admin_created",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::ColleagueAdded => "colleague_added",
            AuditAction::AssessmentCompleted => "assessment_completed",
            AuditAction::ApiTokenCreated => "api_token_created",
            AuditAction::StaffCreated => "staff_created",
            AuditAction::ClusterCreated => "cluster_created",
            AuditAction::CampaignCreated => "campaign_created",
            AuditAction::CampaignJoined => "campaign_joined",
            AuditAction::CampaignLeft => "campaign_left",
            AuditAction::RemindersSent => "reminders_sent",
            AuditAction::EnterprisesImported => "enterprises_imported",
            AuditAction::DataExported => "data_exported",
            AuditAction::ProviderApproved => "provider_approved",
            AuditAction::ProviderRejected => "provider_rejected",
            AuditAction::LeadRequested => "lead_requested",
            AuditAction::LeadStatusChanged => "lead_status_changed",
            AuditAction::OutcomeRecorded => "outcome_recorded",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Longest text kept in an audit entry's `target` and `detail` (longer text is cut, on a
/// character boundary).
pub const AUDIT_TEXT_MAX: usize = 1000;

/// One entry to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Unix seconds.
    pub at: i64,
    /// Who did it; None for an anonymous actor (e.g. a failed log-in to an unknown address).
    pub actor_user_id: Option<Id>,
    /// An [`AuditAction`] code.
    pub action: String,
    /// What it was done to, e.g. `user:12`, `assessment:40`, or the e-mail address a failed
    /// log-in named.
    pub target: String,
    /// More facts, as `key=value` pairs (never a password or a secret).
    pub detail: String,
    /// The client's address.
    pub ip: Option<String>,
}

/// Who makes an audited change, for the `*_audited` methods: the store writes the audit entry in
/// the same transaction as the change, filling in the action and the target it alone knows (the
/// id of a new user, token …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditCtx {
    pub at: i64,
    /// The acting user. None where the change creates the actor (sign-up, administrator
    /// creation): the new user is then recorded as the actor.
    pub actor_user_id: Option<Id>,
    pub ip: Option<String>,
    /// `key=value` facts the caller adds (e.g. `via=setup_link`).
    pub detail: String,
}

impl AuditCtx {
    /// The entry this context records for `action` on `target`.
    pub fn record(&self, action: AuditAction, target: String) -> AuditRecord {
        AuditRecord {
            at: self.at,
            actor_user_id: self.actor_user_id,
            action: action.as_str().to_owned(),
            target,
            detail: self.detail.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// One entry of the audit log as listed, with the actor's e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: Id,
    pub at: i64,
    pub actor_user_id: Option<Id>,
    /// The actor's current e-mail address (None without an actor).
    pub actor_email: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// Text as the audit log keeps it, the same on every backend: at most [`AUDIT_TEXT_MAX`]
/// characters, NUL (which PostgreSQL cannot store) replaced by U+FFFD.
pub fn audit_text(s: &str) -> String {
    s.chars()
        .take(AUDIT_TEXT_MAX)
        .map(|c| if c == '\0' { '\u{fffd}' } else { c })
        .collect()
}

/// Everything the application stores. The regional workspace's methods come from the
/// supertrait [`Regional`] (callable on `dyn Store` directly).
#[async_trait]
pub trait Store:
    Regional + jobs::Jobs + jobs::StaffDirectory + Providers + Send + Sync + 'static
{
    /// A trivial query: Ok when the database answers (for health checks).
    async fn ping(&self) -> Result<()>;

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

    // ---- the audit log -------------------------------------------------------------------
    /// Appends an entry on its own (for events that change nothing else: log-in, log-out);
    /// `target` and `detail` are stored as [`audit_text`] gives them. Err(NotFound) when the
    /// actor does not exist.
    async fn record_audit(&self, record: &AuditRecord) -> Result<Id>;
    /// Newest first (by time, then id), with the total count.
    async fn list_audit(&self, page: Page) -> Result<(Vec<AuditEntry>, i64)>;

    // ---- changes written together with their audit entry, in one transaction ----------------
    /// [`Store::create_enterprise_user`] + `signup` (actor: the new user; target `user:<id>`).
    async fn create_enterprise_user_audited(
        &self,
        enterprise_name: &str,
        email: &str,
        password_hash: &str,
        lang: Option<&str>,
        audit: &AuditCtx,
    ) -> Result<(Enterprise, User)>;
    /// [`Store::add_enterprise_user`] + `colleague_added` (target `user:<new id>`).
    async fn add_enterprise_user_audited(
        &self,
        enterprise_id: Id,
        email: &str,
        password_hash: &str,
        audit: &AuditCtx,
    ) -> Result<User>;
    /// [`Store::create_admin`] + `admin_created` (actor: the given one, else the new
    /// administrator; target `user:<id>`).
    async fn create_admin_audited(
        &self,
        email: &str,
        password_hash: &str,
        audit: &AuditCtx,
    ) -> Result<User>;
    /// Sets a user's password and ends all of their sessions, + `password_reset` (target
    /// `user:<id>`). Err(NotFound) for an unknown user.
    async fn reset_password(
        &self,
        user_id: Id,
        password_hash: &str,
        audit: &AuditCtx,
    ) -> Result<()>;
    /// [`Store::complete_assessment`] + `assessment_completed` (target `assessment:<id>`).
    #[allow(clippy::too_many_arguments)]
    async fn complete_assessment_audited(
        &self,
        enterprise_id: Id,
        id: Id,
        result: &serde_json::Value,
        score: Option<f64>,
        level: Option<i64>,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<()>;
    /// [`Store::create_api_token`] + `api_token_created` (target `api_token:<id>`).
    async fn create_api_token_audited(
        &self,
        user_id: Id,
        name: &str,
        token_hash: &str,
        audit: &AuditCtx,
    ) -> Result<Id>;
}

/// The SQLite file [`open_url`] uses, in the data directory, when no database URL is given.
pub const DEFAULT_SQLITE_FILE: &str = "smedx.sqlite";

/// Where a database URL points (see [`open_url`] for the forms accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL server (the URL as given).
    Postgres(String),
}

/// Resolves a database URL against the data directory, without opening anything.
pub fn locate(url: &str, data_dir: &Path) -> Result<Location> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(Location::SqliteFile(data_dir.join(DEFAULT_SQLITE_FILE)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Location::Postgres(url.to_owned()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" {
            return Ok(Location::SqliteMemory);
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() || path.contains('?') {
            return Err(StoreError::Database(
                "a sqlite: database URL takes a file path and no parameters, e.g. sqlite://smedx.db"
                    .into(),
            ));
        }
        return Ok(Location::SqliteFile(data_dir.join(path)));
    }
    let scheme = url.split_once(':').map_or("(none)", |(scheme, _)| scheme);
    Err(StoreError::Database(format!(
        "unsupported database URL scheme {scheme:?}: expected postgres://, postgresql:// or sqlite:"
    )))
}

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
    Ok(match locate(url, data_dir)? {
        Location::SqliteFile(path) => Arc::new(sqlite::SqliteStore::open(&path).await?),
        Location::SqliteMemory => Arc::new(sqlite::SqliteStore::memory().await?),
        Location::Postgres(url) => Arc::new(postgres::PgStore::connect(&url).await?),
    })
}
