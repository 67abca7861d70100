//! The conformance suite on SQLite (a private in-memory database and a database file per test),
//! and what only a database file can show.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use serde_json::json;
use smedx_store::sqlite::SqliteStore;
use smedx_store::{Page, Store, StoreError};

use crate::conformance::{self, Probe};

#[async_trait]
impl Probe for SqliteStore {
    async fn count_enterprises(&self) -> i64 {
        SqliteStore::count_enterprises(self)
            .await
            .expect("count enterprises")
    }
}

/// A fresh directory under the system temp dir, removed (with its contents) on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "smedx-store-{name}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Each story runs twice, on a fresh in-memory database and on a fresh database file.
macro_rules! stories {
    (plain: [$($plain:ident),* $(,)?], probed: [$($probed:ident),* $(,)?], regional: [$($regional:ident),* $(,)?], regional_probed: [$($rprobed:ident),* $(,)?] $(,)?) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $plain() {
                    let store = SqliteStore::memory().await.expect("open an in-memory store");
                    conformance::$plain(&store).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $probed() {
                    let store = SqliteStore::memory().await.expect("open an in-memory store");
                    conformance::$probed(&store, &store).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $regional() {
                    let store = SqliteStore::memory().await.expect("open an in-memory store");
                    crate::regional::$regional(&store).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $rprobed() {
                    let store = SqliteStore::memory().await.expect("open an in-memory store");
                    crate::regional::$rprobed(&store, &store).await;
                }
            )*
        }
        mod file {
            use super::*;
            $(
                #[tokio::test]
                async fn $plain() {
                    let dir = TempDir::new(stringify!($plain));
                    let store = SqliteStore::open(&dir.path().join("smedx.db")).await.expect("open a file store");
                    conformance::$plain(&store).await;
                    store.close().await;
                }
            )*
            $(
                #[tokio::test]
                async fn $probed() {
                    let dir = TempDir::new(stringify!($probed));
                    let store = SqliteStore::open(&dir.path().join("smedx.db")).await.expect("open a file store");
                    conformance::$probed(&store, &store).await;
                    store.close().await;
                }
            )*
            $(
                #[tokio::test]
                async fn $regional() {
                    let dir = TempDir::new(stringify!($regional));
                    let store = SqliteStore::open(&dir.path().join("smedx.db")).await.expect("open a file store");
                    crate::regional::$regional(&store).await;
                    store.close().await;
                }
            )*
            $(
                #[tokio::test]
                async fn $rprobed() {
                    let dir = TempDir::new(stringify!($rprobed));
                    let store = SqliteStore::open(&dir.path().join("smedx.db")).await.expect("open a file store");
                    crate::regional::$rprobed(&store, &store).await;
                    store.close().await;
                }
            )*
        }
    };
}

stories! {
    plain: [
        sign_up_creates_enterprise_and_user,
        accounts_can_be_added_and_changed,
        users_are_listed_newest_first_in_pages,
        sessions_expire,
        deleting_user_sessions_keeps_other_users_sessions,
        api_tokens_identify_their_user,
        setup_tokens_are_single_use_and_expire,
        login_failures_are_counted_in_a_window_and_cleared,
        assessment_lifecycle,
        a_completed_assessment_is_frozen,
        assessments_are_listed_newest_first_in_pages,
        latest_draft_is_the_one_saved_last,
        a_new_assessment_can_start_from_an_earlier_one,
        another_enterprises_assessment_is_not_found,
        ping_answers,
        audit_entries_are_listed_newest_first_in_pages,
        audited_changes_are_written_with_their_entry,
    ],
    probed: [
        duplicate_email_conflicts_and_writes_nothing,
    ],
    regional: [
        regions_and_clusters_are_listed_in_scope,
        staff_accounts_have_a_region_or_a_cluster,
        enterprise_location_is_validated,
        campaigns_are_created_and_listed_in_scope,
        joining_a_campaign_is_consent,
        members_are_joined_finished_or_stuck_and_get_reminders,
        completions_write_facts_and_dashboards_count_the_latest,
        dashboards_respect_scope_and_filters,
        enterprise_list_is_filtered_and_searched,
        small_groups_are_suppressed,
        target_tracker_and_progress_between_rounds,
        progress_takes_the_later_of_two_assessments_of_the_same_second,
        rollups_match_a_rebuild,
        concurrent_completions_keep_one_latest_fact,
        a_malformed_scope_sees_nothing,
    ],
    regional_probed: [
        import_is_all_or_nothing,
    ],
}

// ---- database files only -----------------------------------------------------------------------

#[tokio::test]
async fn open_creates_missing_directories_and_uses_wal() {
    let dir = TempDir::new("wal");
    let path = dir.path().join("data").join("nested").join("smedx.db");
    let store = SqliteStore::open(&path)
        .await
        .expect("open creates the directories");
    assert!(path.is_file(), "the database file exists");
    assert_eq!(store.journal_mode().await.expect("journal mode"), "wal");
    store.close().await;
}

#[tokio::test]
async fn a_reopened_file_keeps_its_data() {
    let dir = TempDir::new("durable");
    let path = dir.path().join("smedx.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let (enterprise, user) = store
        .create_enterprise_user("持久化测试", "keep@acme.test", "hash", Some("en"))
        .await
        .expect("sign up");
    let a = store
        .create_assessment(enterprise.id, None, 1_700_000_000)
        .await
        .expect("create");
    store
        .save_step(
            enterprise.id,
            a.id,
            2,
            &json!({"name": "持久化"}),
            &json!({"D1.1": 1}),
            1_700_000_100,
        )
        .await
        .expect("save");
    store
        .create_session("kept-session", user.id, "csrf", i64::MAX)
        .await
        .expect("session");
    let saved = store.assessment(enterprise.id, a.id).await.expect("lookup");
    store.close().await;
    drop(store);

    // Opening again runs the (already applied) migrations again: a no-op.
    let store = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(store.journal_mode().await.expect("journal mode"), "wal");
    assert_eq!(
        store.user(user.id).await.expect("lookup"),
        Some(user.clone())
    );
    assert_eq!(
        store.enterprise(enterprise.id).await.expect("lookup"),
        Some(enterprise.clone())
    );
    assert_eq!(
        store.assessment(enterprise.id, a.id).await.expect("lookup"),
        saved
    );
    assert!(
        store
            .session("kept-session", 0)
            .await
            .expect("lookup")
            .is_some()
    );
    assert_eq!(store.count_enterprises().await.expect("count"), 1);
    // The unique index survives too.
    let again = store
        .create_enterprise_user("x", "KEEP@acme.test", "hash", None)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    store.close().await;
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let store = SqliteStore::memory().await.expect("open");
    store.close().await;
    let result = store.user(1).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_unopenable_path_is_unavailable() {
    let dir = TempDir::new("unopenable");
    // The "database file" is a directory.
    let path = dir.path().join("smedx.db");
    std::fs::create_dir_all(&path).expect("create a directory in the way");
    let result = SqliteStore::open(&path).await;
    match result {
        Err(StoreError::Unavailable(msg)) => {
            assert!(
                msg.contains("smedx.db"),
                "the message names the file: {msg}"
            )
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_read_only_file_is_unavailable_for_writes() {
    use std::os::unix::fs::PermissionsExt;

    let dir = TempDir::new("read-only");
    let path = dir.path().join("smedx.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let (enterprise, _) = store
        .create_enterprise_user("Acme", "ro@acme.test", "hash", None)
        .await
        .expect("sign up");
    let draft = store
        .create_assessment(enterprise.id, None, 1_700_000_000)
        .await
        .expect("create");
    store.close().await;
    drop(store);

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod 0444");
    // Root ignores file permissions: then simulate a read-only file by opening it read-only.
    let still_writable = std::fs::OpenOptions::new().write(true).open(&path).is_ok();
    let store = if still_writable {
        SqliteStore::open_read_only(&path)
            .await
            .expect("open read-only")
    } else {
        SqliteStore::open(&path)
            .await
            .expect("a read-only file still opens (for reading)")
    };

    // Reads still work.
    let user = store
        .user_by_email("ro@acme.test")
        .await
        .expect("read from a read-only database");
    assert!(user.is_some());
    assert_eq!(
        store
            .assessment(enterprise.id, draft.id)
            .await
            .expect("read")
            .id,
        draft.id
    );

    // Writes are refused with Unavailable, not a panic or a generic error.
    let results = [
        store
            .create_enterprise_user("Other", "other@acme.test", "hash", None)
            .await
            .map(|_| ()),
        store
            .save_step(
                enterprise.id,
                draft.id,
                1,
                &json!({}),
                &json!({}),
                1_700_000_001,
            )
            .await,
        store.record_login_failure("k", 1).await,
        store
            .create_assessment(enterprise.id, None, 1)
            .await
            .map(|_| ()),
    ];
    for result in results {
        match result {
            Err(StoreError::Unavailable(msg)) => {
                assert!(msg.contains("read-only"), "the message says why: {msg}")
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    let (_, total) = store.list_users(Page::default()).await.expect("list");
    assert_eq!(total, 1, "nothing was written");
    store.close().await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_queue_instead_of_failing() {
    let dir = TempDir::new("concurrent");
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("smedx.db"))
            .await
            .expect("open"),
    );
    let (enterprise, _) = store
        .create_enterprise_user("Acme", "owner@acme.test", "hash", None)
        .await
        .expect("sign up");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let (e, _) = store
                .create_enterprise_user(&format!("E{i}"), &format!("u{i}@acme.test"), "hash", None)
                .await?;
            let a = store.create_assessment(e.id, None, i).await?;
            store
                .save_step(e.id, a.id, 1, &json!({"i": i}), &json!({}), i + 1)
                .await?;
            store.record_login_failure("burst", i).await?;
            store
                .list_assessments(enterprise.id, Page::default())
                .await?;
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.expect("task ran").expect("no write failed");
    }
    assert_eq!(store.count_enterprises().await.expect("count"), 17);
    assert_eq!(store.login_failures("burst", 0).await.expect("count"), 16);
    store.close().await;
}

#[tokio::test]
async fn purge_removes_only_expired_rows() {
    let store = SqliteStore::memory().await.expect("open");
    let (_, user) = store
        .create_enterprise_user("Acme", "p@acme.test", "hash", None)
        .await
        .expect("sign up");
    let now = 1_700_000_000;
    store
        .create_session("old", user.id, "c", now - 1)
        .await
        .expect("session");
    store
        .create_session("live", user.id, "c", now + 60)
        .await
        .expect("session");
    store
        .create_setup_token("old", now)
        .await
        .expect("setup token");
    store
        .create_setup_token("live", now + 60)
        .await
        .expect("setup token");
    store
        .record_login_failure("k", now - 2 * 24 * 3600)
        .await
        .expect("failure");
    store
        .record_login_failure("j", now - 2 * 24 * 3600)
        .await
        .expect("failure");
    // Recording a failure already drops the key's failures older than the retention.
    store
        .record_login_failure("j", now - 10)
        .await
        .expect("failure");
    let deleted = store.purge_expired(now).await.expect("purge");
    assert_eq!(deleted, 3, "one session, one setup token, one old failure");
    assert!(store.session("live", now).await.expect("lookup").is_some());
    assert!(
        store
            .consume_setup_token("live", now)
            .await
            .expect("consume")
    );
    assert_eq!(store.login_failures("j", 0).await.expect("count"), 1);
}

// ---- migration 0003 on an existing database --------------------------------------------------------

/// A database written before the regional workspace (migrations 0001 and 0002 only), with an
/// enterprise, its user's session and API token, an audit entry, a completed assessment and a
/// draft.
async fn database_before_0003(dir: &TempDir) -> PathBuf {
    let old = dir.path().join("migrations");
    std::fs::create_dir_all(&old).expect("dir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for name in ["0001_initial.sql", "0002_audit_log.sql"] {
        std::fs::copy(source.join(name), old.join(name)).expect("copy a migration");
    }
    let path = dir.path().join("smedx.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("open");
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .expect("the old migrations")
        .run(&pool)
        .await
        .expect("migrate to 0002");
    let report = serde_json::to_string(&crate::regional::report(&crate::regional::spec(2, 47.5)))
        .expect("json");
    for sql in [
        "INSERT INTO enterprises (id, name, created_at) VALUES (1, '老企业', 1)",
        "INSERT INTO users (id, email, password_hash, role, enterprise_id, created_at) \
         VALUES (7, 'old@firm.test', 'h', 'enterprise', 1, 1)",
        "INSERT INTO users (id, email, password_hash, role, created_at) VALUES (8, 'root@gov.test', 'h', 'admin', 1)",
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('s', 7, 'c', 4000000000)",
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (7, 'erp', 't', 1)",
        "INSERT INTO audit_log (at, actor_user_id, action) VALUES (1, 7, 'signup')",
        "INSERT INTO assessments (enterprise_id, status, step, created_at, updated_at) VALUES (1, 'draft', 2, 5, 9)",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .expect(sql);
    }
    sqlx::query(
        "INSERT INTO assessments (enterprise_id, status, step, result, score, level, created_at, updated_at, \
         completed_at) VALUES (1, 'complete', 6, $1, 47.5, 2, 2, 3, 3)",
    )
    .bind(report)
    .execute(&pool)
    .await
    .expect("a completed assessment");
    // Migration 0003 as a database of that version ran it (its list of assessments to backfill
    // included), and an item rollup row from before 0004.
    std::fs::copy(
        source.join("0003_regional.sql"),
        old.join("0003_regional.sql"),
    )
    .expect("copy 0003");
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .expect("the old migrations")
        .run(&pool)
        .await
        .expect("migrate to 0003");
    sqlx::query(
        "INSERT INTO fact_cube_items (campaign_id, region_key, kind, cluster_id, sector, grp, size, month, item, n) \
         VALUES (0, '', 'rec', '', '', 'g', 'small', 202001, 'old.item', 2)",
    )
    .execute(&pool)
    .await
    .expect("an item row");
    pool.close().await;
    path
}

#[tokio::test]
async fn an_older_database_is_migrated_and_its_facts_backfilled() {
    // 0001–0002 with data, then 0003 as released, then this version's later migrations.
    use smedx_store::Regional;
    use smedx_store::aggregate::{Cell, Filters};
    let dir = TempDir::new("v0002");
    let path = database_before_0003(&dir).await;
    let store = SqliteStore::open(&path).await.expect("migrates to 0003");
    let user = store
        .user(7)
        .await
        .expect("lookup")
        .expect("the user is kept");
    assert_eq!(
        (user.email.as_str(), user.enterprise_id),
        ("old@firm.test", Some(1))
    );
    assert_eq!((user.region_code, user.cluster_id), (None, None));
    assert!(
        store.session("s", 1).await.expect("lookup").is_some(),
        "sessions survive"
    );
    assert_eq!(
        store
            .api_token_user("t")
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(7),
        "API tokens survive"
    );
    let (audit, _) = store.list_audit(Page::default()).await.expect("audit");
    assert_eq!(audit[0].actor_email.as_deref(), Some("old@firm.test"));
    let next = store
        .create_admin("new@gov.test", "h")
        .await
        .expect("a new user");
    assert!(next.id > 8, "ids are not reused");
    let levels = store
        .level_distribution(&smedx_store::Scope::All, &Filters::default(), 1)
        .await
        .expect("levels");
    assert_eq!(
        levels.assessed,
        Cell::Shown(1),
        "the completed assessment got its fact"
    );
    assert_eq!(levels.levels[2], Cell::Shown(1));
    let p = store
        .participation(&smedx_store::Scope::All, &Filters::default(), 1)
        .await
        .expect("participation");
    assert_eq!(p.assessed, Cell::Shown(1));
    let recs = store
        .recommended_scenarios(&smedx_store::Scope::All, &Filters::default(), 10, 1)
        .await
        .expect("recommended");
    let items: Vec<(&str, Option<i64>)> = recs
        .items
        .iter()
        .map(|i| (i.item.as_str(), i.count.value()))
        .collect();
    assert!(
        items.contains(&("old.item", Some(2))),
        "0004 carried the item rollup over: {items:?}"
    );
    assert!(
        items.contains(&("pl.transparency", Some(1))),
        "the backfilled fact counts: {items:?}"
    );
    store.close().await;
    let again = SqliteStore::open(&path).await.expect("reopen");
    let levels = again
        .level_distribution(&smedx_store::Scope::All, &Filters::default(), 1)
        .await
        .expect("levels");
    assert_eq!(levels.assessed, Cell::Shown(1), "backfilled once");
    again.close().await;
}
