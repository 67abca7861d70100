//! The conformance suite on PostgreSQL, and what only a database server can show.
//!
//! Each test gets a fresh schema `smedx_t_<pid>_<n>` in the test database and connects its store
//! with `search_path` set to it, so tests run in parallel on one database; the schema is dropped
//! when the test ends, passed or failed. The server is `SMEDX_TEST_POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`. When it cannot be reached the tests FAIL, unless
//! `SMEDX_SKIP_POSTGRES=1` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;
use smedx_store::postgres::PgStore;
use smedx_store::sqlite::SqliteStore;
use smedx_store::{AssessmentStatus, Page, Store, StoreError};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor};

use crate::conformance::{self, Probe};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[async_trait]
impl Probe for PgStore {
    async fn count_enterprises(&self) -> i64 {
        PgStore::count_enterprises(self)
            .await
            .expect("count enterprises")
    }
}

fn server_url() -> String {
    std::env::var("SMEDX_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

fn skipped() -> bool {
    let skip = std::env::var("SMEDX_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SMEDX_SKIP_POSTGRES=1: skipping a PostgreSQL test");
    }
    skip
}

/// `url` with one more query parameter.
fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// A fresh, empty schema of the test database, dropped (with everything in it) on drop.
struct TestSchema {
    server: String,
    name: String,
}

impl TestSchema {
    /// None when PostgreSQL tests are skipped; panics when the server cannot be reached.
    async fn new() -> Option<TestSchema> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        if skipped() {
            return None;
        }
        let server = server_url();
        let name = format!(
            "smedx_t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = admin_connection(&server).await;
        conn.execute(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        )))
        .await
        .unwrap_or_else(|e| panic!("cannot create the test schema {name}: {e}"));
        let _ = conn.close().await;
        Some(TestSchema { server, name })
    }

    /// The URL of the test database with this schema as the search path (and as the
    /// application name, so that [`Drop`] can find and end the store's connections).
    fn url(&self) -> String {
        self.url_with_options("")
    }

    /// [`TestSchema::url`] with more server options, e.g. "-c default_transaction_read_only=on".
    fn url_with_options(&self, extra: &str) -> String {
        let options = format!("-c search_path={} {extra}", self.name);
        let encoded = options.trim().replace(' ', "%20").replace('=', "%3D");
        with_param(
            &with_param(&self.server, &format!("options={encoded}")),
            &format!("application_name={}", self.name),
        )
    }

    async fn store(&self) -> PgStore {
        PgStore::connect(&self.url())
            .await
            .expect("connect a store to the test schema")
    }
}

async fn admin_connection(server: &str) -> PgConnection {
    match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(server)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!("{}", unreachable_message(server, &e.to_string())),
        Err(_) => panic!("{}", unreachable_message(server, "no answer within 10 s")),
    }
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

fn unreachable_message(server: &str, why: &str) -> String {
    let server = redacted(server);
    format!(
        "PostgreSQL is not reachable at {server}: {why}.\n\
         The PostgreSQL tests need a server (trust authentication, database `test`); point \
         SMEDX_TEST_POSTGRES_URL at one, or set SMEDX_SKIP_POSTGRES=1 to skip these tests."
    )
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        // Drop cannot await: clean up on a runtime of its own, in a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                // A store left open (e.g. by a failed test) may hold locks: end its connections.
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                )
                .bind(&name)
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
                conn.execute(AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .await
                .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<_, String>(())
            })
        });
        let outcome = cleanup
            .join()
            .unwrap_or_else(|_| Err("the cleanup thread panicked".into()));
        if let Err(e) = outcome {
            if std::thread::panicking() {
                eprintln!("could not drop the test schema {}: {e}", self.name);
            } else {
                panic!("could not drop the test schema {}: {e}", self.name);
            }
        }
    }
}

/// Each story runs on a fresh schema.
macro_rules! stories {
    (plain: [$($plain:ident),* $(,)?], probed: [$($probed:ident),* $(,)?], regional: [$($regional:ident),* $(,)?], regional_probed: [$($rprobed:ident),* $(,)?] $(,)?) => {
        mod stories {
            use super::*;
            $(
                #[tokio::test]
                async fn $plain() {
                    let Some(schema) = TestSchema::new().await else { return };
                    let store = schema.store().await;
                    conformance::$plain(&store).await;
                    store.close().await;
                }
            )*
            $(
                #[tokio::test]
                async fn $probed() {
                    let Some(schema) = TestSchema::new().await else { return };
                    let store = schema.store().await;
                    conformance::$probed(&store, &store).await;
                    store.close().await;
                }
            )*
            $(
                #[tokio::test]
                async fn $regional() {
                    let Some(schema) = TestSchema::new().await else { return };
                    let store = schema.store().await;
                    crate::regional::$regional(&store).await;
                    store.close().await;
                }
            )*
            $(
                #[tokio::test]
                async fn $rprobed() {
                    let Some(schema) = TestSchema::new().await else { return };
                    let store = schema.store().await;
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

// ---- the server only ---------------------------------------------------------------------------

#[tokio::test]
async fn data_survives_a_reconnect() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = schema.store().await;
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
            &json!({"name": "持久化", "nested": {"z": 1, "a": [1.5, null, "\u{0}"]}}),
            &json!({"D1.1": 1}),
            1_700_000_100,
        )
        .await
        .expect("save");
    store
        .complete_assessment(
            enterprise.id,
            a.id,
            &json!({"level": 2}),
            Some(0.1 + 0.2),
            Some(2),
            1_700_000_200,
        )
        .await
        .expect("complete");
    store
        .create_session("kept-session", user.id, "csrf", i64::MAX)
        .await
        .expect("session");
    let saved = store.assessment(enterprise.id, a.id).await.expect("lookup");
    assert_eq!(saved.score, Some(0.1 + 0.2), "a score keeps every bit");
    store.close().await;
    drop(store);

    // Connecting again finds the schema up to date and changes nothing.
    let store = schema.store().await;
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
    // The unique index survives too, and ids go on from where they were.
    let again = store
        .create_enterprise_user("x", "KEEP@acme.test", "hash", None)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let (next, _) = store
        .create_enterprise_user("y", "next@acme.test", "hash", None)
        .await
        .expect("sign up");
    assert!(next.id > enterprise.id);
    store.close().await;
}

#[tokio::test]
async fn a_closed_port_is_unavailable_quickly() {
    // No server needed: nothing listens on port 1.
    let started = Instant::now();
    let result = PgStore::connect("postgres://smedx:s3cret@127.0.0.1:1/test").await;
    let elapsed = started.elapsed();
    match result {
        Err(StoreError::Unavailable(msg)) => {
            assert!(
                msg.contains("127.0.0.1:1"),
                "the message names the server: {msg}"
            );
            assert!(
                !msg.contains("s3cret"),
                "the message hides the password: {msg}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(
        elapsed < Duration::from_secs(3),
        "a refused connection fails at once, took {elapsed:?}"
    );
}

#[tokio::test]
async fn an_invalid_url_is_a_database_error() {
    let result = PgStore::connect("postgres://u:pw@[::1/x").await;
    match result {
        Err(StoreError::Database(msg)) => assert!(!msg.contains("pw"), "{msg}"),
        other => panic!("expected Database, got {other:?}"),
    }
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = schema.store().await;
    store.close().await;
    let result = store.user(1).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_read_only_server_is_unavailable_for_writes() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = schema.store().await;
    let (enterprise, _) = store
        .create_enterprise_user("Acme", "ro@acme.test", "hash", None)
        .await
        .expect("sign up");
    let draft = store
        .create_assessment(enterprise.id, None, 1_700_000_000)
        .await
        .expect("create");
    store.close().await;

    // Every transaction read-only, as on a hot standby: the schema is up to date, so connecting
    // needs no write.
    let store = PgStore::connect(&schema.url_with_options("-c default_transaction_read_only=on"))
        .await
        .expect("connect to a read-only database");
    assert!(
        store
            .user_by_email("RO@acme.test")
            .await
            .expect("read")
            .is_some()
    );
    assert_eq!(
        store
            .assessment(enterprise.id, draft.id)
            .await
            .expect("read")
            .id,
        draft.id
    );
    let (_, total) = store.list_users(Page::default()).await.expect("list");
    assert_eq!(total, 1);

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
        store
            .complete_assessment(enterprise.id, draft.id, &json!({}), None, None, 2)
            .await,
    ];
    for result in results {
        match result {
            Err(StoreError::Unavailable(msg)) => {
                assert!(msg.contains("read-only"), "the message says why: {msg}")
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
    store.close().await;
}

#[tokio::test]
async fn a_fresh_database_cannot_be_opened_read_only() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    // Nothing migrated yet, and the migrations cannot be written.
    let result =
        PgStore::connect(&schema.url_with_options("-c default_transaction_read_only=on")).await;
    match result {
        Err(StoreError::Unavailable(msg)) => {
            assert!(msg.contains("read-only"), "{msg}");
            assert!(
                msg.contains("PostgreSQL"),
                "the message names the server: {msg}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn email_case_folding_is_ascii_only_like_sqlite() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = schema.store().await;
    let (_, upper) = store
        .create_enterprise_user("A", "ÄRGER@acme.test", "hash", None)
        .await
        .expect("sign up");
    // SQLite's lower() folds ASCII letters only; so does this backend, whatever the locale.
    let (_, lower) = store
        .create_enterprise_user("B", "ärger@acme.test", "hash", None)
        .await
        .expect("a different address on both backends");
    assert_ne!(upper.id, lower.id);
    assert_eq!(
        store
            .user_by_email("Ärger@ACME.test")
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(upper.id)
    );
    let taken = store
        .create_admin("ÄRGER@Acme.Test", "hash")
        .await
        .map(|_| ());
    assert!(
        matches!(&taken, Err(StoreError::Conflict(what)) if what == "e-mail address"),
        "{taken:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn a_score_that_is_not_a_number_is_stored_as_none() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = schema.store().await;
    let (enterprise, _) = store
        .create_enterprise_user("Acme", "nan@acme.test", "hash", None)
        .await
        .expect("sign up");
    let a = store
        .create_assessment(enterprise.id, None, 1)
        .await
        .expect("create");
    store
        .complete_assessment(enterprise.id, a.id, &json!({}), Some(f64::NAN), Some(1), 2)
        .await
        .expect("complete");
    let done = store.assessment(enterprise.id, a.id).await.expect("lookup");
    assert_eq!(done.score, None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_do_not_fail() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let (enterprise, _) = store
        .create_enterprise_user("Acme", "owner@acme.test", "hash", None)
        .await
        .expect("sign up");
    let mut tasks = Vec::new();
    for i in 0..24 {
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
    assert_eq!(store.count_enterprises().await.expect("count"), 25);
    assert_eq!(store.login_failures("burst", 0).await.expect("count"), 24);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_completions_store_one_result() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = Arc::new(schema.store().await);
    let (enterprise, _) = store
        .create_enterprise_user("Acme", "race@acme.test", "hash", None)
        .await
        .expect("sign up");
    let a = store
        .create_assessment(enterprise.id, None, 1)
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for i in 0..8_i64 {
        let store = Arc::clone(&store);
        let (eid, id) = (enterprise.id, a.id);
        tasks.push(tokio::spawn(async move {
            store
                .complete_assessment(eid, id, &json!({"by": i}), Some(1.0), Some(i), 10 + i)
                .await
                .map(|()| i)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("task ran") {
            Ok(i) => winners.push(i),
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("expected success or Conflict, got {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one completion wins: {winners:?}");
    let done = store.assessment(enterprise.id, a.id).await.expect("lookup");
    assert_eq!(done.status, AssessmentStatus::Complete);
    assert_eq!(done.result, Some(json!({"by": winners[0]})));
    assert_eq!(done.level, Some(winners[0]));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_setup_token_is_consumed_once_under_concurrency() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = Arc::new(schema.store().await);
    store
        .create_setup_token("once", 100)
        .await
        .expect("setup token");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.consume_setup_token("once", 1).await
        }));
    }
    let mut consumed = 0;
    for task in tasks {
        if task.await.expect("task ran").expect("consume") {
            consumed += 1;
        }
    }
    assert_eq!(consumed, 1);
    store.close().await;
}

#[tokio::test]
async fn purge_removes_only_expired_rows() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = schema.store().await;
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
    store.close().await;
}

#[tokio::test]
async fn open_url_picks_the_backend() {
    let dir = std::env::temp_dir().join(format!("smedx-store-open-url-{}", std::process::id()));
    let store = smedx_store::open_url("sqlite::memory:", &dir)
        .await
        .expect("in-memory SQLite");
    assert!(!store.has_admin().await.expect("query"));
    let refused = smedx_store::open_url("postgresql://u:pw@127.0.0.1:1/x", &dir).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "a postgresql:// URL goes to PostgreSQL"
    );
    let unknown = smedx_store::open_url("mysql://u:pw@host/db", &dir).await;
    match unknown {
        Err(StoreError::Database(msg)) => {
            assert!(msg.contains("\"mysql\""), "{msg}");
            assert!(!msg.contains("pw"), "{msg}");
        }
        Err(other) => panic!("expected Database, got {other:?}"),
        Ok(_) => panic!("expected an error"),
    }

    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let store = smedx_store::open_url(&schema.url(), &dir)
        .await
        .expect("PostgreSQL");
    store
        .create_admin("admin@region.test", "hash")
        .await
        .expect("write");
    assert!(store.has_admin().await.expect("query"));
}

/// What PostgreSQL cannot store (a NUL character) behaves on the read side as on SQLite.
#[tokio::test]
async fn nul_characters_behave_as_on_sqlite() {
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let pg = schema.store().await;
    let sqlite = SqliteStore::memory().await.expect("in-memory SQLite");
    for store in [&pg as &dyn Store, &sqlite] {
        let (_, user) = store
            .create_enterprise_user("Acme", "nul@acme.test", "hash", None)
            .await
            .expect("sign up");
        assert_eq!(
            store
                .user_by_email("nul\0@acme.test")
                .await
                .expect("lookup"),
            None
        );
        assert_eq!(store.session("a\0b", 0).await.expect("lookup"), None);
        assert_eq!(store.api_token_user("a\0b").await.expect("lookup"), None);
        assert!(!store.consume_setup_token("a\0b", 0).await.expect("consume"));
        store.delete_session("a\0b").await.expect("delete");

        // A login with such an address is rate-limited like any other.
        let key = "email:nul\0@acme.test";
        store.record_login_failure(key, 10).await.expect("record");
        store.record_login_failure(key, 20).await.expect("record");
        assert_eq!(store.login_failures(key, 0).await.expect("count"), 2);
        assert_eq!(
            store
                .login_failures("email:nul@acme.test", 0)
                .await
                .expect("count"),
            0
        );
        store.clear_login_failures(key).await.expect("clear");
        assert_eq!(store.login_failures(key, 0).await.expect("count"), 0);
        assert!(store.user(user.id).await.expect("lookup").is_some());
    }
    // Storing such text is refused (SQLite would store it): input validation must catch it.
    let refused = pg
        .create_enterprise_user("Acme\0", "other@acme.test", "hash", None)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Database(_))),
        "{refused:?}"
    );
    pg.close().await;
}

#[tokio::test]
async fn an_older_database_is_migrated_and_its_facts_backfilled() {
    use smedx_store::Regional;
    use smedx_store::aggregate::{Cell, Filters};
    let Some(schema) = TestSchema::new().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("smedx-pg-old-migrations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    for name in ["0001_initial.sql", "0002_audit_log.sql"] {
        std::fs::copy(source.join(name), dir.join(name)).expect("copy a migration");
    }
    let mut conn = PgConnection::connect(&schema.url()).await.expect("connect");
    sqlx::migrate::Migrator::new(dir.as_path())
        .await
        .expect("the old migrations")
        .run(&mut conn)
        .await
        .expect("migrate to 0002");
    let _ = std::fs::remove_dir_all(&dir);
    let report = serde_json::to_string(&crate::regional::report(&crate::regional::spec(2, 47.5)))
        .expect("json");
    for sql in [
        "INSERT INTO enterprises (id, name, created_at) VALUES (1, '老企业', 1)",
        "INSERT INTO users (id, email, password_hash, role, enterprise_id, created_at) \
         VALUES (7, 'old@firm.test', 'h', 'enterprise', 1, 1)",
        "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('s', 7, 'c', 4000000000)",
        "INSERT INTO assessments (enterprise_id, status, step, created_at, updated_at) VALUES (1, 'draft', 2, 5, 9)",
    ] {
        conn.execute(AssertSqlSafe(sql.to_owned()))
            .await
            .expect(sql);
    }
    sqlx::query(
        "INSERT INTO assessments (enterprise_id, status, step, result, score, level, created_at, updated_at, \
         completed_at) VALUES (1, 'complete', 6, $1, 47.5, 2, 2, 3, 3)",
    )
    .bind(report)
    .execute(&mut conn)
    .await
    .expect("a completed assessment");
    // 0003 as a database of that version ran it, and an item rollup row from before 0004.
    let dir = std::env::temp_dir().join(format!("smedx-pg-0003-migrations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for name in [
        "0001_initial.sql",
        "0002_audit_log.sql",
        "0003_regional.sql",
    ] {
        std::fs::copy(source.join(name), dir.join(name)).expect("copy a migration");
    }
    sqlx::migrate::Migrator::new(dir.as_path())
        .await
        .expect("the old migrations")
        .run(&mut conn)
        .await
        .expect("migrate to 0003");
    let _ = std::fs::remove_dir_all(&dir);
    conn.execute(
        "INSERT INTO fact_cube_items (campaign_id, region_key, kind, cluster_id, sector, grp, size, month, item, n) \
         VALUES (0, '', 'rec', '', '', 'g', 'small', 202001, 'old.item', 2)",
    )
    .await
    .expect("an item row");
    let _ = conn.close().await;

    let store = schema.store().await;
    let user = store
        .user(7)
        .await
        .expect("lookup")
        .expect("the user is kept");
    assert_eq!((user.region_code, user.cluster_id), (None, None));
    assert!(store.session("s", 1).await.expect("lookup").is_some());
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
    assert_eq!(
        (p.assessed, p.enterprises),
        (Cell::Shown(1), Some(Cell::Shown(1)))
    );
    let recs = store
        .recommended_scenarios(&smedx_store::Scope::All, &Filters::default(), 10, 1)
        .await
        .expect("recommended");
    let items: Vec<(&str, Option<i64>)> = recs
        .items
        .iter()
        .map(|i| (i.item.as_str(), i.count.value()))
        .collect();
    assert!(items.contains(&("old.item", Some(2))), "{items:?}");
    assert!(items.contains(&("pl.transparency", Some(1))), "{items:?}");
    store.close().await;
    let again = schema.store().await;
    let levels = again
        .level_distribution(&smedx_store::Scope::All, &Filters::default(), 1)
        .await
        .expect("levels");
    assert_eq!(levels.assessed, Cell::Shown(1), "backfilled once");
    again.close().await;
}
