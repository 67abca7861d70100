//! Import jobs (migration 0005) on every backend: a job moves queued → validating → importing
//! → finished, is seen only within its scope key, and does not change once finished.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;
use smedx_store::jobs::{JobStatus, JobUpdate};
use smedx_store::postgres::PgStore;
use smedx_store::regional::NewStaffUser;
use smedx_store::sqlite::SqliteStore;
use smedx_store::{AuditCtx, Page, Role, Store, StoreError};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor};

async fn story(store: &dyn Store) {
    let (_, user) = store
        .create_enterprise_user("Uploader", "jobs-owner@firm.test", "hash", None)
        .await
        .expect("user");

    // Unknown users and empty scope keys are refused; nothing is stored.
    assert!(matches!(
        store.create_import_job(user.id, "", "a.csv", 10).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .import_jobs(None, Page::default())
            .await
            .expect("list")
            .1,
        0
    );

    // A file name with control characters and no visible text is kept as a placeholder.
    let job = store
        .create_import_job(user.id, "region:3205", "企业\u{0}名单.xlsx\n", 100)
        .await
        .expect("create");
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.file_name, "企业名单.xlsx");
    assert_eq!((job.rows_done, job.rows_total), (0, 0));
    let blank = store
        .create_import_job(user.id, "cluster:park", "\u{1}", 101)
        .await
        .expect("create");
    assert_eq!(blank.file_name, "-");

    // Progress, then the result.
    let moved = store
        .update_import_job(
            job.id,
            &JobUpdate {
                status: JobStatus::Importing,
                rows_done: 1000,
                rows_total: 5000,
                result: None,
            },
            110,
        )
        .await
        .expect("progress");
    assert!(moved);
    let seen = store
        .import_job(job.id, Some("region:3205"))
        .await
        .expect("read");
    assert_eq!(seen.status, JobStatus::Importing);
    assert_eq!(
        (seen.rows_done, seen.rows_total, seen.updated_at),
        (1000, 5000, 110)
    );
    assert_eq!(seen.result, None);

    let counts = json!({"rows": 5000, "enterprises_created": 4990});
    store
        .update_import_job(
            job.id,
            &JobUpdate {
                status: JobStatus::Imported,
                rows_done: 5000,
                rows_total: 5000,
                result: Some(&counts),
            },
            120,
        )
        .await
        .expect("finish");
    // A late progress report does not undo the result.
    let late = store
        .update_import_job(
            job.id,
            &JobUpdate {
                status: JobStatus::Importing,
                rows_done: 4000,
                rows_total: 5000,
                result: None,
            },
            130,
        )
        .await
        .expect("late");
    assert!(!late);
    let done = store.import_job(job.id, None).await.expect("read as admin");
    assert_eq!(done.status, JobStatus::Imported);
    assert_eq!(done.rows_done, 5000);
    assert_eq!(done.result, Some(counts));

    // Another scope does not see it; an unknown job is not found.
    assert!(matches!(
        store.import_job(job.id, Some("region:3206")).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.import_job(job.id + 1000, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_import_job(
                job.id + 1000,
                &JobUpdate {
                    status: JobStatus::Failed,
                    rows_done: 0,
                    rows_total: 0,
                    result: None,
                },
                140,
            )
            .await,
        Err(StoreError::NotFound)
    ));

    // Lists per scope key, newest first.
    let (mine, total) = store
        .import_jobs(Some("region:3205"), Page::default())
        .await
        .expect("list");
    assert_eq!(total, 1);
    assert_eq!(mine[0].id, job.id);
    let (all, total) = store.import_jobs(None, Page::default()).await.expect("all");
    assert_eq!(total, 2);
    assert_eq!(all[0].id, blank.id);
    let (page2, _) = store
        .import_jobs(
            None,
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .expect("page");
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].id, job.id);

    // The staff directory lists authority, cluster and provider accounts only, newest first.
    store
        .create_admin("jobs-admin@gov.test", "hash")
        .await
        .expect("admin");
    for (email, role, region) in [
        ("a@gov.test", Role::Authority, Some("320500")),
        ("p@svc.test", Role::Provider, None),
    ] {
        store
            .create_staff_user(
                &NewStaffUser {
                    email,
                    password_hash: "hash",
                    role,
                    region_code: region,
                    cluster_id: None,
                    lang: None,
                },
                200,
                &AuditCtx::default(),
            )
            .await
            .expect("staff");
    }
    let (staff, total) = store
        .staff_users(Page::default())
        .await
        .expect("staff list");
    assert_eq!(total, 2);
    let emails: Vec<&str> = staff.iter().map(|u| u.email.as_str()).collect();
    assert!(
        emails.contains(&"a@gov.test") && emails.contains(&"p@svc.test"),
        "{emails:?}"
    );
    assert_eq!(
        staff
            .iter()
            .find(|u| u.role == Role::Authority)
            .and_then(|u| u.region_code.clone()),
        Some("320500".to_owned())
    );
}

#[tokio::test]
async fn import_jobs_on_sqlite() {
    let store = SqliteStore::memory().await.expect("store");
    story(&store).await;
}

#[tokio::test]
async fn import_jobs_on_postgres() {
    if std::env::var("SMEDX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = std::env::var("SMEDX_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let name = format!(
        "smedx_jobs_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = PgConnection::connect(&server)
        .await
        .expect("PostgreSQL at SMEDX_TEST_POSTGRES_URL (or set SMEDX_SKIP_POSTGRES=1)");
    conn.execute(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
    )))
    .await
    .expect("schema");
    let sep = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{sep}options=-c%20search_path%3D{name}");
    let store = PgStore::connect(&url).await.expect("store");
    story(&store).await;
    store.close().await;
    conn.execute(AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
        .await
        .expect("drop schema");
}
