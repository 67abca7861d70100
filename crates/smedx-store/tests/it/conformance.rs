//! The behaviour every [`Store`] implementation must have, written as stories against
//! `&dyn Store` so that each backend (SQLite now, PostgreSQL later) runs the same suite on a
//! fresh, empty database.

use std::fmt::Debug;

use async_trait::async_trait;
use serde_json::json;
use smedx_store::{
    AUDIT_TEXT_MAX, AssessmentStatus, AuditAction, AuditCtx, AuditEntry, AuditRecord, Enterprise,
    Id, Page, Result, Role, Session, Store, StoreError, User,
};

/// What a story needs to look at beyond the trait (backend-specific helpers).
#[async_trait]
pub trait Probe: Sync {
    async fn count_enterprises(&self) -> i64;
}

/// A fixed clock for the methods that take `now`.
const NOW: i64 = 1_700_000_000;

fn page(offset: i64, limit: i64) -> Page {
    Page { offset, limit }
}

async fn sign_up(store: &dyn Store, name: &str, email: &str) -> (Enterprise, User) {
    store
        .create_enterprise_user(name, email, "argon2-hash", Some("zh"))
        .await
        .expect("sign-up of a new e-mail address succeeds")
}

#[track_caller]
fn assert_not_found<T: Debug>(result: Result<T>, what: &str) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

#[track_caller]
fn assert_conflict<T: Debug>(result: Result<T>, what: &str) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("{what}: expected Conflict, got {other:?}"),
    }
}

// ---- accounts ------------------------------------------------------------------------------

pub async fn sign_up_creates_enterprise_and_user(store: &dyn Store) {
    let (enterprise, user) = store
        .create_enterprise_user("星河精密机械", "Owner@Example.com", "hash-1", Some("zh"))
        .await
        .expect("sign-up succeeds");
    assert_eq!(enterprise.name, "星河精密机械");
    assert!(enterprise.created_at > 0, "created_at is set");
    assert_eq!(
        user.email, "Owner@Example.com",
        "the e-mail address is stored as given"
    );
    assert_eq!(user.password_hash, "hash-1");
    assert_eq!(user.role, Role::Enterprise);
    assert_eq!(user.enterprise_id, Some(enterprise.id));
    assert_eq!(user.lang.as_deref(), Some("zh"));
    assert!(user.created_at > 0, "created_at is set");

    let stored = store
        .enterprise(enterprise.id)
        .await
        .expect("enterprise lookup");
    assert_eq!(stored.as_ref(), Some(&enterprise));
    let stored = store.user(user.id).await.expect("user lookup");
    assert_eq!(stored.as_ref(), Some(&user));
    for spelling in [
        "Owner@Example.com",
        "owner@example.com",
        "OWNER@EXAMPLE.COM",
    ] {
        let found = store
            .user_by_email(spelling)
            .await
            .expect("lookup by e-mail");
        assert_eq!(
            found.as_ref(),
            Some(&user),
            "lookup by {spelling} is case-insensitive"
        );
    }

    let (other, no_lang) = store
        .create_enterprise_user("Other Co", "other@example.com", "hash-2", None)
        .await
        .expect("a second sign-up");
    assert_ne!(other.id, enterprise.id);
    assert_eq!(
        no_lang.lang, None,
        "lang stays unset until the user picks one"
    );
    let (users, total) = store.list_users(Page::default()).await.expect("list users");
    assert_eq!(total, 2);
    assert_eq!(users.len(), 2);
}

pub async fn duplicate_email_conflicts_and_writes_nothing(store: &dyn Store, probe: &dyn Probe) {
    let (enterprise, user) = sign_up(store, "First Co", "a@example.com").await;
    let enterprises_before = probe.count_enterprises().await;
    assert_eq!(enterprises_before, 1);

    for spelling in ["a@example.com", "A@EXAMPLE.COM", "a@Example.Com"] {
        let result = store
            .create_enterprise_user("Second Co", spelling, "hash", None)
            .await;
        assert_conflict(
            result,
            &format!("sign-up with the taken address {spelling}"),
        );
    }
    assert_eq!(
        probe.count_enterprises().await,
        enterprises_before,
        "a failed sign-up leaves no enterprise behind"
    );
    assert_conflict(
        store
            .add_enterprise_user(enterprise.id, "A@example.com", "hash")
            .await,
        "adding a user with a taken address",
    );
    assert_conflict(
        store.create_admin("a@EXAMPLE.com", "hash").await,
        "an administrator with a taken address",
    );
    let (_, total) = store.list_users(Page::default()).await.expect("list users");
    assert_eq!(total, 1, "no user was added");
    let found = store
        .user_by_email("a@example.com")
        .await
        .expect("lookup")
        .expect("the first user is still there");
    assert_eq!(found, user);
    assert!(!store.has_admin().await.expect("has_admin"));
}

pub async fn accounts_can_be_added_and_changed(store: &dyn Store) {
    let (enterprise, owner) = sign_up(store, "Acme", "owner@acme.test").await;

    assert_not_found(
        store
            .add_enterprise_user(enterprise.id + 1000, "x@acme.test", "hash")
            .await,
        "a user of a missing enterprise",
    );
    let colleague = store
        .add_enterprise_user(enterprise.id, "it@acme.test", "hash-c")
        .await
        .expect("add a colleague");
    assert_eq!(colleague.enterprise_id, Some(enterprise.id));
    assert_eq!(colleague.role, Role::Enterprise);
    assert_eq!(colleague.lang, None);
    assert_ne!(colleague.id, owner.id);

    assert!(!store.has_admin().await.expect("has_admin"));
    let admin = store
        .create_admin("root@region.gov.test", "hash-a")
        .await
        .expect("create admin");
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(
        admin.enterprise_id, None,
        "administrators belong to no enterprise"
    );
    assert!(store.has_admin().await.expect("has_admin"));

    store
        .rename_enterprise(enterprise.id, "Acme 精工")
        .await
        .expect("rename");
    let renamed = store
        .enterprise(enterprise.id)
        .await
        .expect("lookup")
        .expect("exists");
    assert_eq!(renamed.name, "Acme 精工");
    assert_eq!(renamed.created_at, enterprise.created_at);
    assert_not_found(
        store.rename_enterprise(enterprise.id + 1000, "x").await,
        "renaming a missing enterprise",
    );

    store
        .set_password(owner.id, "hash-new")
        .await
        .expect("set password");
    store.set_user_lang(owner.id, "en").await.expect("set lang");
    let changed = store.user(owner.id).await.expect("lookup").expect("exists");
    assert_eq!(changed.password_hash, "hash-new");
    assert_eq!(changed.lang.as_deref(), Some("en"));
    assert_eq!(changed.email, owner.email);
    assert_not_found(
        store.set_password(admin.id + 1000, "h").await,
        "password of a missing user",
    );
    assert_not_found(
        store.set_user_lang(admin.id + 1000, "zh").await,
        "lang of a missing user",
    );

    assert_eq!(store.user(admin.id + 1000).await.expect("lookup"), None);
    assert_eq!(
        store
            .enterprise(enterprise.id + 1000)
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(
        store
            .user_by_email("nobody@acme.test")
            .await
            .expect("lookup"),
        None
    );
}

pub async fn users_are_listed_newest_first_in_pages(store: &dyn Store) {
    let (enterprise, _) = sign_up(store, "Acme", "u0@acme.test").await;
    for i in 1..5 {
        store
            .add_enterprise_user(enterprise.id, &format!("u{i}@acme.test"), "hash")
            .await
            .expect("add user");
    }
    let (all, total) = store.list_users(page(0, 50)).await.expect("list");
    assert_eq!(total, 5);
    let emails: Vec<&str> = all.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "u4@acme.test",
            "u3@acme.test",
            "u2@acme.test",
            "u1@acme.test",
            "u0@acme.test"
        ],
        "newest first"
    );

    let (first, total) = store.list_users(page(0, 2)).await.expect("page 1");
    assert_eq!((first.len(), total), (2, 5));
    assert_eq!(first[..], all[..2]);
    let (second, _) = store.list_users(page(2, 2)).await.expect("page 2");
    assert_eq!(second[..], all[2..4]);
    let (last, _) = store.list_users(page(4, 2)).await.expect("page 3");
    assert_eq!(last[..], all[4..]);
    let (beyond, total) = store.list_users(page(10, 2)).await.expect("past the end");
    assert!(beyond.is_empty());
    assert_eq!(total, 5, "the total does not depend on the page");
    let (none, _) = store.list_users(page(0, 0)).await.expect("empty page");
    assert!(none.is_empty());
}

// ---- sessions, tokens, rate limit ------------------------------------------------------------

pub async fn sessions_expire(store: &dyn Store) {
    let (_, user) = sign_up(store, "Acme", "s@acme.test").await;
    store
        .create_session("session-hash", user.id, "csrf-1", NOW + 3600)
        .await
        .expect("create session");
    let expected = Session {
        user_id: user.id,
        csrf_token: "csrf-1".into(),
        expires_at: NOW + 3600,
    };
    assert_eq!(
        store.session("session-hash", NOW).await.expect("lookup"),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .session("session-hash", NOW + 3599)
            .await
            .expect("lookup"),
        Some(expected),
        "valid until the last second"
    );
    assert_eq!(
        store
            .session("session-hash", NOW + 3600)
            .await
            .expect("lookup"),
        None,
        "expired at expires_at"
    );
    assert_eq!(
        store.session("other-hash", NOW).await.expect("lookup"),
        None
    );

    assert_conflict(
        store
            .create_session("session-hash", user.id, "csrf-2", NOW + 10)
            .await,
        "a session hash used twice",
    );
    assert_not_found(
        store
            .create_session("ghost-hash", user.id + 1000, "csrf", NOW + 10)
            .await,
        "a session of a missing user",
    );

    store
        .delete_session("session-hash")
        .await
        .expect("delete session");
    assert_eq!(
        store.session("session-hash", NOW).await.expect("lookup"),
        None
    );
    store
        .delete_session("session-hash")
        .await
        .expect("deleting a missing session is not an error");
}

pub async fn deleting_user_sessions_keeps_other_users_sessions(store: &dyn Store) {
    let (_, alice) = sign_up(store, "A", "alice@a.test").await;
    let (_, bob) = sign_up(store, "B", "bob@b.test").await;
    for (hash, user) in [("a1", &alice), ("a2", &alice), ("b1", &bob)] {
        store
            .create_session(hash, user.id, "csrf", NOW + 600)
            .await
            .expect("create session");
    }
    store
        .delete_user_sessions(alice.id)
        .await
        .expect("delete alice's sessions");
    assert_eq!(store.session("a1", NOW).await.expect("lookup"), None);
    assert_eq!(store.session("a2", NOW).await.expect("lookup"), None);
    let bobs = store.session("b1", NOW).await.expect("lookup");
    assert_eq!(bobs.map(|s| s.user_id), Some(bob.id), "bob stays signed in");
    store
        .delete_user_sessions(alice.id)
        .await
        .expect("idempotent");
}

pub async fn api_tokens_identify_their_user(store: &dyn Store) {
    let (_, user) = sign_up(store, "Acme", "api@acme.test").await;
    let first = store
        .create_api_token(user.id, "erp sync", "token-hash-1")
        .await
        .expect("create token");
    let second = store
        .create_api_token(user.id, "report export", "token-hash-2")
        .await
        .expect("create another token");
    assert_ne!(first, second);
    assert_eq!(
        store.api_token_user("token-hash-1").await.expect("lookup"),
        Some(user.clone())
    );
    assert_eq!(
        store.api_token_user("token-hash-2").await.expect("lookup"),
        Some(user.clone())
    );
    assert_eq!(store.api_token_user("unknown").await.expect("lookup"), None);
    assert_conflict(
        store
            .create_api_token(user.id, "again", "token-hash-1")
            .await,
        "a token hash used twice",
    );
    assert_not_found(
        store
            .create_api_token(user.id + 1000, "ghost", "token-hash-3")
            .await,
        "a token of a missing user",
    );
}

pub async fn setup_tokens_are_single_use_and_expire(store: &dyn Store) {
    store
        .create_setup_token("setup-1", NOW + 900)
        .await
        .expect("create setup token");
    assert!(
        store
            .consume_setup_token("setup-1", NOW)
            .await
            .expect("consume")
    );
    assert!(
        !store
            .consume_setup_token("setup-1", NOW)
            .await
            .expect("consume again"),
        "a setup token works once"
    );

    store
        .create_setup_token("setup-2", NOW + 10)
        .await
        .expect("create setup token");
    assert!(
        !store
            .consume_setup_token("setup-2", NOW + 10)
            .await
            .expect("consume late"),
        "an expired token is refused"
    );
    assert!(
        !store
            .consume_setup_token("setup-2", NOW)
            .await
            .expect("consume"),
        "an expired token stays refused"
    );
    assert!(
        !store
            .consume_setup_token("never-issued", NOW)
            .await
            .expect("consume")
    );
}

pub async fn login_failures_are_counted_in_a_window_and_cleared(store: &dyn Store) {
    for at in [NOW - 100, NOW - 50, NOW - 10] {
        store
            .record_login_failure("ip:203.0.113.9", at)
            .await
            .expect("record failure");
    }
    store
        .record_login_failure("email:a@example.com", NOW - 5)
        .await
        .expect("record failure");

    let count = |since| store.login_failures("ip:203.0.113.9", since);
    assert_eq!(
        count(NOW - 60).await.expect("count"),
        2,
        "only failures in the window"
    );
    assert_eq!(
        count(NOW - 100).await.expect("count"),
        3,
        "the window includes `since`"
    );
    assert_eq!(count(NOW).await.expect("count"), 0);
    assert_eq!(
        store
            .login_failures("ip:unknown", NOW - 1000)
            .await
            .expect("count"),
        0
    );

    store
        .clear_login_failures("ip:203.0.113.9")
        .await
        .expect("clear");
    assert_eq!(count(NOW - 1000).await.expect("count"), 0, "cleared");
    assert_eq!(
        store
            .login_failures("email:a@example.com", NOW - 1000)
            .await
            .expect("count"),
        1,
        "other keys are untouched"
    );
}

// ---- assessments -----------------------------------------------------------------------------

fn profile_doc() -> serde_json::Value {
    json!({"name": "星河精密", "industry": "C3484", "employees": 120, "revenue": 35_000_000})
}

fn answers_doc() -> serde_json::Value {
    json!({"D1.1": 2, "D1.2": 3, "scenarios": ["pl.transparency"], "obstacles": ["funds"]})
}

pub async fn assessment_lifecycle(store: &dyn Store) {
    let (enterprise, _) = sign_up(store, "Acme", "wizard@acme.test").await;
    let eid = enterprise.id;
    assert_eq!(store.latest_draft(eid).await.expect("latest draft"), None);

    let draft = store
        .create_assessment(eid, None, NOW)
        .await
        .expect("create assessment");
    assert_eq!(draft.enterprise_id, eid);
    assert_eq!(draft.status, AssessmentStatus::Draft);
    assert_eq!(draft.step, 0);
    assert_eq!(draft.profile, json!({}));
    assert_eq!(draft.answers, json!({}));
    assert_eq!(
        (
            draft.result.clone(),
            draft.score,
            draft.level,
            draft.completed_at
        ),
        (None, None, None, None)
    );
    assert_eq!((draft.created_at, draft.updated_at), (NOW, NOW));
    assert_eq!(
        store.assessment(eid, draft.id).await.expect("lookup"),
        draft,
        "create returns what is stored"
    );

    let mut answers = json!({});
    store
        .save_step(eid, draft.id, 1, &profile_doc(), &answers, NOW + 10)
        .await
        .expect("save step 1");
    answers = json!({"D1.1": 2});
    store
        .save_step(eid, draft.id, 2, &profile_doc(), &answers, NOW + 20)
        .await
        .expect("save step 2");
    store
        .save_step(eid, draft.id, 3, &profile_doc(), &answers_doc(), NOW + 30)
        .await
        .expect("save step 3");
    let saved = store.assessment(eid, draft.id).await.expect("lookup");
    assert_eq!(saved.step, 3);
    assert_eq!(saved.profile, profile_doc());
    assert_eq!(saved.answers, answers_doc());
    assert_eq!((saved.created_at, saved.updated_at), (NOW, NOW + 30));
    assert_eq!(saved.status, AssessmentStatus::Draft);
    assert_eq!(
        store.latest_draft(eid).await.expect("latest draft"),
        Some(saved.clone())
    );

    let report =
        json!({"level": 3, "recommendations": [{"scenario": "pl.transparency", "why": "…"}]});
    store
        .complete_assessment(eid, draft.id, &report, Some(72.5), Some(3), NOW + 40)
        .await
        .expect("complete");
    let done = store.assessment(eid, draft.id).await.expect("lookup");
    assert_eq!(done.status, AssessmentStatus::Complete);
    assert_eq!(done.result, Some(report));
    assert_eq!(done.score, Some(72.5));
    assert_eq!(done.level, Some(3));
    assert_eq!(done.completed_at, Some(NOW + 40));
    assert_eq!(done.updated_at, NOW + 40);
    assert_eq!(
        (done.profile, done.answers, done.step),
        (saved.profile, saved.answers, saved.step),
        "completing keeps the answers"
    );
    assert_eq!(
        store.latest_draft(eid).await.expect("latest draft"),
        None,
        "a complete assessment is no draft"
    );
    let (items, total) = store
        .list_assessments(eid, Page::default())
        .await
        .expect("list");
    assert_eq!((items.len(), total), (1, 1));
}

pub async fn a_completed_assessment_is_frozen(store: &dyn Store) {
    let (enterprise, _) = sign_up(store, "Acme", "frozen@acme.test").await;
    let eid = enterprise.id;
    let a = store
        .create_assessment(eid, None, NOW)
        .await
        .expect("create");
    store
        .save_step(eid, a.id, 4, &profile_doc(), &answers_doc(), NOW + 1)
        .await
        .expect("save");
    store
        .complete_assessment(eid, a.id, &json!({"level": 2}), None, Some(2), NOW + 2)
        .await
        .expect("complete");
    let done = store.assessment(eid, a.id).await.expect("lookup");
    assert_eq!(done.score, None);

    assert_not_found(
        store
            .save_step(eid, a.id, 5, &json!({}), &json!({}), NOW + 3)
            .await,
        "saving a step of a complete assessment",
    );
    assert_conflict(
        store
            .complete_assessment(
                eid,
                a.id,
                &json!({"level": 5}),
                Some(99.0),
                Some(5),
                NOW + 4,
            )
            .await,
        "completing twice",
    );
    assert_eq!(
        store.assessment(eid, a.id).await.expect("lookup"),
        done,
        "history stays as it was"
    );
}

pub async fn assessments_are_listed_newest_first_in_pages(store: &dyn Store) {
    let (enterprise, _) = sign_up(store, "Acme", "list@acme.test").await;
    let (other, _) = sign_up(store, "Other", "list@other.test").await;
    let eid = enterprise.id;
    let mut ids: Vec<Id> = Vec::new();
    // Two share a timestamp: the later id comes first.
    for at in [NOW, NOW + 10, NOW + 10, NOW + 20, NOW + 30] {
        ids.push(
            store
                .create_assessment(eid, None, at)
                .await
                .expect("create")
                .id,
        );
        store
            .create_assessment(other.id, None, at + 1)
            .await
            .expect("the other enterprise's assessment");
    }
    let newest_first: Vec<Id> = ids.iter().rev().copied().collect();

    let (all, total) = store
        .list_assessments(eid, page(0, 50))
        .await
        .expect("list");
    assert_eq!(total, 5, "only the enterprise's own assessments count");
    assert_eq!(all.iter().map(|a| a.id).collect::<Vec<_>>(), newest_first);
    assert!(all.iter().all(|a| a.enterprise_id == eid));

    let (first, total) = store
        .list_assessments(eid, page(0, 3))
        .await
        .expect("page 1");
    assert_eq!(total, 5);
    assert_eq!(
        first.iter().map(|a| a.id).collect::<Vec<_>>(),
        newest_first[..3]
    );
    let (rest, total) = store
        .list_assessments(eid, page(3, 3))
        .await
        .expect("page 2");
    assert_eq!(total, 5);
    assert_eq!(
        rest.iter().map(|a| a.id).collect::<Vec<_>>(),
        newest_first[3..]
    );
    let (beyond, total) = store
        .list_assessments(eid, page(5, 3))
        .await
        .expect("past the end");
    assert!(beyond.is_empty());
    assert_eq!(total, 5);

    let (nobody, total) = store
        .list_assessments(other.id + 1000, Page::default())
        .await
        .expect("a missing enterprise has no assessments");
    assert!(nobody.is_empty());
    assert_eq!(total, 0);
}

pub async fn latest_draft_is_the_one_saved_last(store: &dyn Store) {
    let (enterprise, _) = sign_up(store, "Acme", "drafts@acme.test").await;
    let eid = enterprise.id;
    let a = store
        .create_assessment(eid, None, NOW)
        .await
        .expect("create a");
    let b = store
        .create_assessment(eid, None, NOW + 1)
        .await
        .expect("create b");
    let latest_id = || async {
        store
            .latest_draft(eid)
            .await
            .expect("latest draft")
            .map(|d| d.id)
    };
    assert_eq!(latest_id().await, Some(b.id), "the newer draft");
    store
        .save_step(eid, a.id, 1, &profile_doc(), &json!({}), NOW + 5)
        .await
        .expect("save a");
    assert_eq!(latest_id().await, Some(a.id), "the draft worked on last");
    store
        .complete_assessment(eid, a.id, &json!({}), None, None, NOW + 6)
        .await
        .expect("complete a");
    assert_eq!(
        latest_id().await,
        Some(b.id),
        "complete assessments are skipped"
    );
    store
        .complete_assessment(eid, b.id, &json!({}), None, None, NOW + 7)
        .await
        .expect("complete b");
    assert_eq!(latest_id().await, None);
}

pub async fn a_new_assessment_can_start_from_an_earlier_one(store: &dyn Store) {
    let (enterprise, _) = sign_up(store, "Acme", "copy@acme.test").await;
    let eid = enterprise.id;
    let first = store
        .create_assessment(eid, None, NOW)
        .await
        .expect("create");
    store
        .save_step(eid, first.id, 6, &profile_doc(), &answers_doc(), NOW + 1)
        .await
        .expect("save");
    store
        .complete_assessment(
            eid,
            first.id,
            &json!({"level": 2}),
            Some(40.0),
            Some(2),
            NOW + 2,
        )
        .await
        .expect("complete");

    let copy = store
        .create_assessment(eid, Some(first.id), NOW + 100)
        .await
        .expect("copy");
    assert_ne!(copy.id, first.id);
    assert_eq!(copy.status, AssessmentStatus::Draft);
    assert_eq!(copy.profile, profile_doc());
    assert_eq!(copy.answers, answers_doc());
    assert_eq!(copy.step, 0);
    assert_eq!(
        (copy.result, copy.score, copy.level, copy.completed_at),
        (None, None, None, None)
    );
    assert_eq!((copy.created_at, copy.updated_at), (NOW + 100, NOW + 100));

    assert_not_found(
        store
            .create_assessment(eid, Some(copy.id + 1000), NOW + 200)
            .await,
        "copying a missing assessment",
    );
    let (_, total) = store
        .list_assessments(eid, Page::default())
        .await
        .expect("list");
    assert_eq!(total, 2, "a failed copy creates nothing");
    assert_not_found(
        store.create_assessment(eid + 1000, None, NOW).await,
        "an assessment of a missing enterprise",
    );
}

pub async fn another_enterprises_assessment_is_not_found(store: &dyn Store) {
    let (mine, _) = sign_up(store, "Mine", "me@mine.test").await;
    let (theirs, _) = sign_up(store, "Theirs", "them@theirs.test").await;
    let draft = store
        .create_assessment(mine.id, None, NOW)
        .await
        .expect("create");
    store
        .save_step(
            mine.id,
            draft.id,
            2,
            &profile_doc(),
            &answers_doc(),
            NOW + 1,
        )
        .await
        .expect("save");
    let done = store
        .create_assessment(mine.id, None, NOW + 2)
        .await
        .expect("create");
    store
        .complete_assessment(
            mine.id,
            done.id,
            &json!({"level": 1}),
            Some(10.0),
            Some(1),
            NOW + 3,
        )
        .await
        .expect("complete");
    let draft_before = store.assessment(mine.id, draft.id).await.expect("lookup");
    let done_before = store.assessment(mine.id, done.id).await.expect("lookup");

    for id in [draft.id, done.id] {
        assert_not_found(
            store.assessment(theirs.id, id).await,
            "reading another's assessment",
        );
        assert_not_found(
            store
                .save_step(
                    theirs.id,
                    id,
                    9,
                    &json!({"x": 1}),
                    &json!({"y": 2}),
                    NOW + 50,
                )
                .await,
            "saving another's assessment",
        );
        assert_not_found(
            store
                .complete_assessment(
                    theirs.id,
                    id,
                    &json!({"evil": true}),
                    Some(1.0),
                    Some(1),
                    NOW + 50,
                )
                .await,
            "completing another's assessment",
        );
        assert_not_found(
            store.create_assessment(theirs.id, Some(id), NOW + 50).await,
            "copying another's assessment",
        );
    }
    // Another enterprise's id behaves exactly like a missing one.
    assert_not_found(
        store.assessment(mine.id, done.id + 1000).await,
        "a missing id",
    );

    assert_eq!(
        store.assessment(mine.id, draft.id).await.expect("lookup"),
        draft_before
    );
    assert_eq!(
        store.assessment(mine.id, done.id).await.expect("lookup"),
        done_before
    );
    let (theirs_list, total) = store
        .list_assessments(theirs.id, Page::default())
        .await
        .expect("list");
    assert!(theirs_list.is_empty());
    assert_eq!(total, 0, "the failed copies created nothing");
    assert_eq!(
        store.latest_draft(theirs.id).await.expect("latest draft"),
        None
    );
    let (_, total) = store
        .list_assessments(mine.id, Page::default())
        .await
        .expect("list");
    assert_eq!(total, 2);
}

// ---- health and the audit log ---------------------------------------------------------------

pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.expect("a fresh database answers");
}

fn ctx(actor: Option<Id>, detail: &str) -> AuditCtx {
    AuditCtx {
        at: NOW,
        actor_user_id: actor,
        ip: Some("192.0.2.7".into()),
        detail: detail.into(),
    }
}

async fn audit_total(store: &dyn Store) -> i64 {
    store
        .list_audit(Page::default())
        .await
        .expect("list audit")
        .1
}

async fn newest_audit(store: &dyn Store) -> AuditEntry {
    let (entries, _) = store.list_audit(page(0, 1)).await.expect("list audit");
    entries.into_iter().next().expect("an audit entry")
}

pub async fn audit_entries_are_listed_newest_first_in_pages(store: &dyn Store) {
    assert_eq!(
        store.list_audit(Page::default()).await.expect("list"),
        (Vec::new(), 0),
        "a new database has an empty audit log"
    );
    let (_, alice) = sign_up(store, "Acme", "alice@acme.test").await;
    let mut ids = Vec::new();
    for (i, action) in [
        AuditAction::LoginFailed,
        AuditAction::LoginOk,
        AuditAction::Logout,
    ]
    .into_iter()
    .enumerate()
    {
        let at = NOW + i64::try_from(i).expect("small");
        let id = store
            .record_audit(&AuditRecord {
                at,
                actor_user_id: (action != AuditAction::LoginFailed).then_some(alice.id),
                action: action.as_str().into(),
                target: if action == AuditAction::LoginFailed {
                    "alice@acme.test".into()
                } else {
                    format!("user:{}", alice.id)
                },
                detail: "channel=web".into(),
                ip: (action != AuditAction::Logout).then(|| "2001:db8::1".to_owned()),
            })
            .await
            .expect("record audit");
        ids.push(id);
    }
    // Two entries in the same second: the later id comes first.
    let same_second = store
        .record_audit(&AuditRecord {
            at: NOW + 2,
            actor_user_id: None,
            action: "some_future_action".into(),
            target: String::new(),
            detail: String::new(),
            ip: None,
        })
        .await
        .expect("an action code this version does not know is kept as text");
    let (all, total) = store.list_audit(Page::default()).await.expect("list");
    assert_eq!(total, 4);
    let listed: Vec<Id> = all.iter().map(|e| e.id).collect();
    assert_eq!(listed, vec![same_second, ids[2], ids[1], ids[0]]);

    let failed = &all[3];
    assert_eq!(failed.action, "login_failed");
    assert_eq!(failed.actor_user_id, None);
    assert_eq!(failed.actor_email, None);
    assert_eq!(failed.target, "alice@acme.test");
    assert_eq!(failed.detail, "channel=web");
    assert_eq!(failed.ip.as_deref(), Some("2001:db8::1"));
    assert_eq!(failed.at, NOW);
    let logout = &all[1];
    assert_eq!(logout.actor_user_id, Some(alice.id));
    assert_eq!(logout.actor_email.as_deref(), Some("alice@acme.test"));
    assert_eq!(logout.ip, None);
    assert_eq!(
        AuditAction::parse(&logout.action),
        Some(AuditAction::Logout)
    );

    let (second_page, total) = store.list_audit(page(1, 2)).await.expect("page");
    assert_eq!(total, 4);
    assert_eq!(
        second_page.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let (beyond, total) = store.list_audit(page(10, 5)).await.expect("page");
    assert_eq!((beyond.len(), total), (0, 4));
    let (none, _) = store.list_audit(page(-3, -1)).await.expect("page");
    assert!(none.is_empty(), "negative bounds count as 0");

    // Odd text is kept the same way on every backend: NUL replaced, long text cut.
    let long: String = "长".repeat(AUDIT_TEXT_MAX + 50);
    store
        .record_audit(&AuditRecord {
            at: NOW + 100,
            actor_user_id: None,
            action: AuditAction::LoginFailed.as_str().into(),
            target: "evil\0@example.test".into(),
            detail: long,
            ip: Some("127.0.0.1".into()),
        })
        .await
        .expect("odd text is stored");
    let odd = newest_audit(store).await;
    assert_eq!(odd.target, "evil\u{fffd}@example.test");
    assert_eq!(odd.detail.chars().count(), AUDIT_TEXT_MAX);

    assert_not_found(
        store
            .record_audit(&AuditRecord {
                at: NOW,
                actor_user_id: Some(alice.id + 1000),
                action: AuditAction::LoginOk.as_str().into(),
                target: String::new(),
                detail: String::new(),
                ip: None,
            })
            .await,
        "an entry whose actor does not exist",
    );
    assert_eq!(
        audit_total(store).await,
        5,
        "the refused entry is not there"
    );
}

pub async fn audited_changes_are_written_with_their_entry(store: &dyn Store) {
    // Sign-up: the new user is the actor.
    let (enterprise, owner) = store
        .create_enterprise_user_audited(
            "Acme",
            "owner@acme.test",
            "hash",
            Some("zh"),
            &ctx(None, "email=owner@acme.test"),
        )
        .await
        .expect("audited sign-up");
    let e = newest_audit(store).await;
    assert_eq!(e.action, "signup");
    assert_eq!(e.actor_user_id, Some(owner.id));
    assert_eq!(e.actor_email.as_deref(), Some("owner@acme.test"));
    assert_eq!(e.target, format!("user:{}", owner.id));
    assert_eq!(e.detail, "email=owner@acme.test");
    assert_eq!((e.at, e.ip.as_deref()), (NOW, Some("192.0.2.7")));
    assert_eq!(
        store.user(owner.id).await.expect("user"),
        Some(owner.clone())
    );

    // A refused change writes no entry (one transaction).
    let before = audit_total(store).await;
    assert_conflict(
        store
            .create_enterprise_user_audited("Other", "OWNER@acme.test", "h", None, &ctx(None, ""))
            .await,
        "an audited sign-up with a taken address",
    );
    assert_conflict(
        store
            .add_enterprise_user_audited(
                enterprise.id,
                "owner@acme.test",
                "h",
                &ctx(Some(owner.id), ""),
            )
            .await,
        "an audited colleague with a taken address",
    );
    assert_not_found(
        store
            .add_enterprise_user_audited(
                enterprise.id + 1000,
                "x@acme.test",
                "h",
                &ctx(Some(owner.id), ""),
            )
            .await,
        "a colleague of a missing enterprise",
    );
    assert_eq!(
        audit_total(store).await,
        before,
        "no entry for refused changes"
    );

    // A colleague: the adding user is the actor, the new one the target.
    let colleague = store
        .add_enterprise_user_audited(
            enterprise.id,
            "mate@acme.test",
            "hash",
            &ctx(Some(owner.id), "email=mate@acme.test"),
        )
        .await
        .expect("audited colleague");
    let e = newest_audit(store).await;
    assert_eq!(e.action, "colleague_added");
    assert_eq!(e.actor_user_id, Some(owner.id));
    assert_eq!(e.target, format!("user:{}", colleague.id));

    // Administrators: created through a setup link (no actor: the new administrator).
    let admin = store
        .create_admin_audited("root@acme.test", "hash", &ctx(None, "via=setup_link"))
        .await
        .expect("audited administrator");
    let e = newest_audit(store).await;
    assert_eq!(e.action, "admin_created");
    assert_eq!(e.actor_user_id, Some(admin.id));
    assert_eq!(e.detail, "via=setup_link");
    assert_eq!(admin.role, Role::Admin);

    // Password reset: new hash, every session ended, who reset whose.
    store
        .create_session("s-1", colleague.id, "csrf", NOW + 600)
        .await
        .expect("session");
    store
        .create_session("s-owner", owner.id, "csrf", NOW + 600)
        .await
        .expect("session");
    store
        .reset_password(colleague.id, "new-hash", &ctx(Some(admin.id), ""))
        .await
        .expect("reset password");
    let reset = store
        .user(colleague.id)
        .await
        .expect("user")
        .expect("exists");
    assert_eq!(reset.password_hash, "new-hash");
    assert_eq!(store.session("s-1", NOW).await.expect("session"), None);
    assert!(
        store
            .session("s-owner", NOW)
            .await
            .expect("session")
            .is_some(),
        "other users stay signed in"
    );
    let e = newest_audit(store).await;
    assert_eq!(e.action, "password_reset");
    assert_eq!(e.actor_user_id, Some(admin.id));
    assert_eq!(e.actor_email.as_deref(), Some("root@acme.test"));
    assert_eq!(e.target, format!("user:{}", colleague.id));
    let before = audit_total(store).await;
    assert_not_found(
        store
            .reset_password(colleague.id + 1000, "h", &ctx(Some(admin.id), ""))
            .await,
        "a reset of a missing user",
    );
    assert_eq!(audit_total(store).await, before);

    // Completing an assessment, once.
    let a = store
        .create_assessment(enterprise.id, None, NOW)
        .await
        .expect("draft");
    let report = json!({"level": 2});
    store
        .complete_assessment_audited(
            enterprise.id,
            a.id,
            &report,
            Some(55.0),
            Some(2),
            NOW + 5,
            &ctx(Some(owner.id), "level=2"),
        )
        .await
        .expect("audited completion");
    let done = store.assessment(enterprise.id, a.id).await.expect("lookup");
    assert_eq!(done.status, AssessmentStatus::Complete);
    assert_eq!(done.result, Some(report.clone()));
    let e = newest_audit(store).await;
    assert_eq!(e.action, "assessment_completed");
    assert_eq!(e.target, format!("assessment:{}", a.id));
    let before = audit_total(store).await;
    assert_conflict(
        store
            .complete_assessment_audited(
                enterprise.id,
                a.id,
                &report,
                None,
                None,
                NOW + 6,
                &ctx(Some(owner.id), ""),
            )
            .await,
        "completing twice",
    );
    assert_not_found(
        store
            .complete_assessment_audited(
                enterprise.id + 1000,
                a.id,
                &report,
                None,
                None,
                NOW + 6,
                &ctx(Some(owner.id), ""),
            )
            .await,
        "completing another enterprise's assessment",
    );
    assert_eq!(audit_total(store).await, before);

    // An API token.
    let token = store
        .create_api_token_audited(
            owner.id,
            "erp",
            "tok-hash",
            &ctx(Some(owner.id), "name=erp"),
        )
        .await
        .expect("audited token");
    assert_eq!(
        store.api_token_user("tok-hash").await.expect("lookup"),
        Some(owner.clone())
    );
    let e = newest_audit(store).await;
    assert_eq!(e.action, "api_token_created");
    assert_eq!(e.target, format!("api_token:{token}"));
    assert_eq!(e.detail, "name=erp");
    let before = audit_total(store).await;
    assert_conflict(
        store
            .create_api_token_audited(owner.id, "again", "tok-hash", &ctx(Some(owner.id), ""))
            .await,
        "a token hash used twice",
    );
    assert_eq!(audit_total(store).await, before);

    let actions: Vec<String> = store
        .list_audit(Page::default())
        .await
        .expect("list")
        .0
        .into_iter()
        .rev()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "signup",
            "colleague_added",
            "admin_created",
            "password_reset",
            "assessment_completed",
            "api_token_created"
        ]
    );
}
