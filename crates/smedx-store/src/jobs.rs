//! Background import jobs (migration 0005): the [`Jobs`] trait, a supertrait of
//! [`Store`](crate::Store), written once as the macro `impl_jobs!` and instantiated by both
//! backends (like `impl_regional!`).
//!
//! A web upload is validated and imported by a task of the app server that received it; the
//! task writes its phase and progress here, so that whichever app server answers the page that
//! polls the job sees the same figures (app servers keep no state of their own).
//!
//! Also here, because it is the other listing the administration pages need and it is written
//! the same way: [`StaffDirectory`], the authority, cluster and provider accounts.

use async_trait::async_trait;
use serde::Serialize;

use crate::{Id, Page, Result};

/// Longest file name kept (characters); longer names are cut.
pub const MAX_FILE_NAME_CHARS: usize = 200;
/// Longest scope key (characters).
pub const MAX_SCOPE_KEY_CHARS: usize = 100;

/// Where an import job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Received, not started.
    Queued,
    /// Reading and checking the file.
    Validating,
    /// Assessing and writing the rows (one transaction).
    Importing,
    /// Finished: everything stored.
    Imported,
    /// Finished: the file had problems, nothing stored.
    Rejected,
    /// Finished: the import could not run (the database refused, the server stopped …).
    Failed,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Validating,
        JobStatus::Importing,
        JobStatus::Imported,
        JobStatus::Rejected,
        JobStatus::Failed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Validating => "validating",
            JobStatus::Importing => "importing",
            JobStatus::Imported => "imported",
            JobStatus::Rejected => "rejected",
            JobStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|j| j.as_str() == s)
    }
    /// Imported, rejected or failed: nothing changes any more.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Imported | JobStatus::Rejected | JobStatus::Failed
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportJob {
    pub id: Id,
    pub user_id: Id,
    pub scope_key: String,
    pub file_name: String,
    pub status: JobStatus,
    pub rows_done: i64,
    pub rows_total: i64,
    /// Set by the job: its counts, problems or failure (the web layer's JSON).
    pub result: Option<serde_json::Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A job's new state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobUpdate<'a> {
    pub status: JobStatus,
    pub rows_done: i64,
    pub rows_total: i64,
    pub result: Option<&'a serde_json::Value>,
}

#[async_trait]
pub trait Jobs: Send + Sync {
    /// A queued job of `user_id`, followed by the users whose scope key is `scope_key`.
    /// Err(Invalid) for an empty or overlong scope key; the file name is cleaned (control
    /// characters dropped, cut to [`MAX_FILE_NAME_CHARS`]).
    async fn create_import_job(
        &self,
        user_id: Id,
        scope_key: &str,
        file_name: &str,
        now: i64,
    ) -> Result<ImportJob>;
    /// Moves a job on. A finished job does not change any more: Ok(false) then (a late progress
    /// report cannot undo a result). Err(NotFound) for an unknown job.
    async fn update_import_job(&self, id: Id, update: &JobUpdate<'_>, now: i64) -> Result<bool>;
    /// One job, when `scope_key` is its scope key or None (administrators); else Err(NotFound).
    async fn import_job(&self, id: Id, scope_key: Option<&str>) -> Result<ImportJob>;
    /// The jobs of a scope key (None: all), newest first, with the total count.
    async fn import_jobs(
        &self,
        scope_key: Option<&str>,
        page: Page,
    ) -> Result<(Vec<ImportJob>, i64)>;
}

/// The accounts an administrator creates (authority, cluster and provider users).
#[async_trait]
pub trait StaffDirectory: Send + Sync {
    /// Newest first, with the total count.
    async fn staff_users(&self, page: Page) -> Result<(Vec<crate::User>, i64)>;
}

pub(crate) fn clean_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "-".to_owned()
    } else {
        cleaned.to_owned()
    }
}

pub(crate) fn check_scope_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.chars().count() > MAX_SCOPE_KEY_CHARS
        || key.chars().any(char::is_control)
    {
        return Err(crate::StoreError::Invalid(format!(
            "{key:?} is not a scope key"
        )));
    }
    Ok(())
}

/// `impl Jobs for $store`, expanded inside each backend's module (which owns the pool, the
/// transactions and the error mapping).
macro_rules! impl_jobs {
    (store: $store:ty, row: $row:ty $(,)?) => {
        mod jobs_impl {
            use super::*;
            use crate::jobs::{ImportJob, JobStatus, JobUpdate, Jobs, check_scope_key, clean_file_name};
            use crate::{Id, Page, Result, StoreError};

            const JOB_COLS: &str = "id, user_id, scope_key, file_name, status, rows_done, rows_total, \
                 result, created_at, updated_at";

            fn job_from_row(row: &$row) -> Result<ImportJob> {
                let status: String = row.try_get("status").db()?;
                let result: Option<String> = row.try_get("result").db()?;
                let id: Id = row.try_get("id").db()?;
                Ok(ImportJob {
                    id,
                    user_id: row.try_get("user_id").db()?,
                    scope_key: row.try_get("scope_key").db()?,
                    file_name: row.try_get("file_name").db()?,
                    status: JobStatus::parse(&status).ok_or_else(|| {
                        StoreError::Database(format!("import job {id} has the unknown status {status:?}"))
                    })?,
                    rows_done: row.try_get("rows_done").db()?,
                    rows_total: row.try_get("rows_total").db()?,
                    result: result
                        .map(|t| {
                            serde_json::from_str(&t).map_err(|e| {
                                StoreError::Database(format!("import job {id}: unreadable result: {e}"))
                            })
                        })
                        .transpose()?,
                    created_at: row.try_get("created_at").db()?,
                    updated_at: row.try_get("updated_at").db()?,
                })
            }

            #[async_trait::async_trait]
            impl Jobs for $store {
                async fn create_import_job(
                    &self,
                    user_id: Id,
                    scope_key: &str,
                    file_name: &str,
                    now: i64,
                ) -> Result<ImportJob> {
                    check_scope_key(scope_key)?;
                    let mut tx = self.write().await?;
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO import_jobs (user_id, scope_key, file_name, status, created_at, updated_at) \
                         VALUES ($1, $2, $3, 'queued', $4, $4) RETURNING {JOB_COLS}"
                    )))
                    .bind(user_id)
                    .bind(scope_key)
                    .bind(clean_file_name(file_name))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match map_err(e) {
                        // the only reference: the user
                        StoreError::Conflict(_) => StoreError::NotFound,
                        other => other,
                    })?;
                    let job = job_from_row(&row)?;
                    tx.commit().await.db()?;
                    Ok(job)
                }

                async fn update_import_job(&self, id: Id, update: &JobUpdate<'_>, now: i64) -> Result<bool> {
                    let result = update
                        .result
                        .map(|v| {
                            serde_json::to_string(v)
                                .map_err(|e| StoreError::Invalid(format!("job result: {e}")))
                        })
                        .transpose()?;
                    let mut tx = self.write().await?;
                    let changed = sqlx::query(
                        "UPDATE import_jobs SET status = $1, rows_done = $2, rows_total = $3, \
                         result = COALESCE($4, result), updated_at = $5 \
                         WHERE id = $6 AND status NOT IN ('imported', 'rejected', 'failed')",
                    )
                    .bind(update.status.as_str())
                    .bind(update.rows_done.max(0))
                    .bind(update.rows_total.max(0))
                    .bind(result)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
                    if changed == 0 {
                        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_jobs WHERE id = $1")
                            .bind(id)
                            .fetch_one(&mut *tx)
                            .await
                            .db()?;
                        tx.commit().await.db()?;
                        return if exists == 0 { Err(StoreError::NotFound) } else { Ok(false) };
                    }
                    tx.commit().await.db()?;
                    Ok(true)
                }

                async fn import_job(&self, id: Id, scope_key: Option<&str>) -> Result<ImportJob> {
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {JOB_COLS} FROM import_jobs WHERE id = $1"
                    )))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .db()?
                    .ok_or(StoreError::NotFound)?;
                    let job = job_from_row(&row)?;
                    match scope_key {
                        Some(k) if k != job.scope_key => Err(StoreError::NotFound),
                        _ => Ok(job),
                    }
                }

                async fn import_jobs(
                    &self,
                    scope_key: Option<&str>,
                    page: Page,
                ) -> Result<(Vec<ImportJob>, i64)> {
                    let (offset, limit) = (page.offset.max(0), page.limit.max(0));
                    let mut tx = self.read().await?;
                    let (total, rows): (i64, Vec<$row>) = match scope_key {
                        Some(k) => (
                            sqlx::query_scalar("SELECT COUNT(*) FROM import_jobs WHERE scope_key = $1")
                                .bind(k)
                                .fetch_one(&mut *tx)
                                .await
                                .db()?,
                            sqlx::query(sqlx::AssertSqlSafe(format!(
                                "SELECT {JOB_COLS} FROM import_jobs WHERE scope_key = $1 \
                                 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                            )))
                            .bind(k)
                            .bind(limit)
                            .bind(offset)
                            .fetch_all(&mut *tx)
                            .await
                            .db()?,
                        ),
                        None => (
                            sqlx::query_scalar("SELECT COUNT(*) FROM import_jobs")
                                .fetch_one(&mut *tx)
                                .await
                                .db()?,
                            sqlx::query(sqlx::AssertSqlSafe(format!(
                                "SELECT {JOB_COLS} FROM import_jobs \
                                 ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
                            )))
                            .bind(limit)
                            .bind(offset)
                            .fetch_all(&mut *tx)
                            .await
                            .db()?,
                        ),
                    };
                    tx.commit().await.db()?;
                    let jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
                    Ok((jobs, total))
                }
            }

            #[async_trait::async_trait]
            impl crate::jobs::StaffDirectory for $store {
                async fn staff_users(&self, page: Page) -> Result<(Vec<crate::User>, i64)> {
                    let (offset, limit) = (page.offset.max(0), page.limit.max(0));
                    let mut tx = self.read().await?;
                    let total: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM users WHERE role IN ('authority', 'cluster', 'provider')",
                    )
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {} FROM users WHERE role IN ('authority', 'cluster', 'provider') \
                         ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
                        crate::regional::USER_COLS
                    )))
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    tx.commit().await.db()?;
                    let users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
                    Ok((users, total))
                }
            }
        }
    };
}
pub(crate) use impl_jobs;
