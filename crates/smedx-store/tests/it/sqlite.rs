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
    (plain: [$($plain:ident),* $(,)?], probed: [$($probed:ident),* $(,)?] $(,)?) => {
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
    ],
    probed: [
        duplicate_email_conflicts_and_writes_nothing,
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
