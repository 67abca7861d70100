//! Operations: `/healthz`, `/metrics`, request ids, and the audit log (page and API).

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use smedx_store::sqlite::SqliteStore;
use smedx_web::AppState;

use crate::helpers::{self, App, Browser, PASSWORD, spawn, token, user};

/// A server whose SQLite store the test can close (to see the database go away).
struct Closable {
    base: String,
    store: SqliteStore,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn spawn_closable() -> Closable {
    let engine = spawn().await.state.engine.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("smedx.sqlite"))
        .await
        .expect("open sqlite");
    let state = AppState::new(engine, Arc::new(store.clone()), false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = smedx_web::serve(listener, state, async {
            let _ = rx.await;
        })
        .await;
    });
    Closable {
        base: format!("http://{addr}"),
        store,
        _dir: dir,
        _stop: tx,
    }
}

/// A browser (cookies kept, redirects not followed) for any server.
fn browser(base: &str) -> Browser {
    Browser {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        base: base.to_string(),
    }
}

fn request_id(r: &helpers::Resp) -> String {
    r.headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn health_and_metrics_follow_the_database() {
    let app = spawn_closable().await;
    let b = browser(&app.base);
    let r = b.get("/healthz").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&r.text).expect("json"),
        json!({"status": "ok"})
    );
    assert_eq!(
        r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert!(
        r.cookies().is_empty(),
        "health checks get no cookies: {:?}",
        r.cookies()
    );

    // Some traffic: a page with an id in its path, an API call, a miss.
    assert_eq!(
        b.get("/scenarios/pl.transparency").await.status,
        StatusCode::OK
    );
    assert_eq!(
        b.get("/api/v1/scenarios/pl.transparency").await.status,
        StatusCode::OK
    );
    assert_eq!(
        b.get("/no/such/page/secret-token-123").await.status,
        StatusCode::NOT_FOUND
    );
    let m = b.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    let ct = m
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    for needle in [
        "smedx_http_requests_total{method=\"GET\",route=\"/scenarios/{id}\",status_class=\"2xx\"} 1",
        "smedx_http_requests_total{method=\"GET\",route=\"/api/v1/scenarios/{id}\",status_class=\"2xx\"} 1",
        "smedx_http_requests_total{method=\"GET\",route=\"/healthz\",status_class=\"2xx\"} 1",
        "smedx_http_requests_total{method=\"GET\",route=\"(unmatched)\",status_class=\"4xx\"} 1",
        "smedx_http_request_duration_seconds_count{method=\"GET\",route=\"/scenarios/{id}\"} 1",
        "smedx_http_request_duration_seconds_bucket{le=\"+Inf\",method=\"GET\",route=\"/scenarios/{id}\"} 1",
        "smedx_process_uptime_seconds ",
        "smedx_store_up 1",
        "# EOF",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    for leak in ["pl.transparency", "secret-token-123", "/no/such"] {
        assert!(
            !m.text.contains(leak),
            "raw paths must not become labels: {leak}"
        );
    }

    // The database goes away: unhealthy, and a page that needs it shows the request id.
    let form = b.get("/login").await;
    app.store.close().await;
    let r = b.get("/healthz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        serde_json::from_str::<Value>(&r.text).expect("json"),
        json!({"status": "unavailable"})
    );
    let m = b.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.text.contains("smedx_store_up 0"), "{}", m.text);
    let r = b
        .post_raw(
            "/login",
            &[
                ("csrf", form.csrf().as_str()),
                ("email", "a@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    // A database that is gone is "try again later", not an internal error.
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let id = request_id(&r);
    assert!(!id.is_empty());
    assert!(
        r.text.contains(&id),
        "the error page shows the request id {id}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let http = reqwest::Client::new();
    let get = |id: Option<&'static str>| {
        let mut req = http.get(format!("{}/", app.base));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        req.send()
    };
    let r = get(None).await.expect("GET");
    let generated = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let again = get(None).await.expect("GET");
    assert_ne!(
        again.headers().get("x-request-id").map(|v| v.as_bytes()),
        Some(generated.as_bytes()),
        "a new id per request"
    );
    let r = get(Some("lb-7f3a.42")).await.expect("GET");
    assert_eq!(
        r.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("lb-7f3a.42"),
        "a client's id is echoed"
    );
    let r = get(Some("two words")).await.expect("GET");
    let replaced = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(replaced.len(), 36, "an odd id is replaced: {replaced}");
    let r = http
        .get(format!("{}/api/v1/nope", app.base))
        .send()
        .await
        .expect("GET");
    assert!(r.headers().contains_key("x-request-id"), "API answers too");
}

async fn audit_api(app: &App, bearer: Option<&str>, query: &str) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().get(format!("{}/api/v1/admin/audit{query}", app.base));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("GET audit");
    let status = r.status();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn the_audit_log_records_who_did_what_for_administrators_only() {
    let app = spawn().await;

    // Sign-up, log-out, a failed and a good log-in, an assessment, a colleague, an API token.
    let owner = user(&app, "审计精密", "owner@example.cn").await;
    let r = owner.post("/account", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = owner.login("owner@example.cn", "not the password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = owner.login("nobody@example.cn", "not the password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = owner.login("owner@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = owner.start_assessment().await;
    let r = owner.complete_wizard(id, "2").await;
    assert_eq!(r.status, StatusCode::OK);
    let r = owner
        .post(
            "/account",
            "/account/users",
            &[
                ("email", "mate@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let owner_token = token(&app, "owner@example.cn").await;

    // The administrator, by the one-time link; then a password reset.
    let setup = smedx_web::ensure_admin(&app.state, None, None)
        .await
        .expect("setup");
    let smedx_web::AdminSetup::SetupToken(setup_token) = setup else {
        panic!("expected a setup token, got {setup:?}");
    };
    let admin = Browser::new(&app);
    let page = format!("/setup/{setup_token}");
    let r = admin
        .post(
            &page,
            &page,
            &[
                ("email", "root@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let mate = app
        .state
        .store
        .user_by_email("mate@example.cn")
        .await
        .expect("store")
        .expect("mate");
    let reset = format!("/admin/users/{}/password", mate.id);
    let r = admin
        .post(
            "/admin/users",
            &reset,
            &[("password", "a brand new secret")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let admin_token = token(&app, "root@example.cn").await;

    // The API: administrators only.
    let (status, body) = audit_api(&app, None, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = audit_api(&app, Some(&owner_token), "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "forbidden");
    let (status, body) = audit_api(&app, Some(&admin_token), "?limit=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "limit");
    let (status, body) = audit_api(&app, Some(&admin_token), "?limit=200").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().expect("items");
    assert_eq!(body["total"].as_u64(), Some(items.len() as u64));
    let actions: Vec<&str> = items
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "signup",
            "logout",
            "login_failed",
            "login_failed",
            "login_ok",
            "assessment_completed",
            "colleague_added",
            "login_ok",
            "api_token_created",
            "admin_created",
            "password_reset",
            "login_ok",
            "api_token_created",
        ],
        "{body:#}"
    );
    let ids: Vec<i64> = items.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let find =
        |action: &str| -> Vec<&Value> { items.iter().filter(|e| e["action"] == action).collect() };
    let owner_id = app
        .state
        .store
        .user_by_email("owner@example.cn")
        .await
        .expect("store")
        .expect("owner")
        .id;
    let failed = find("login_failed");
    // Newest first: the unknown address, then the wrong password.
    assert_eq!(failed[0]["actor_user_id"], Value::Null);
    assert_eq!(failed[0]["target"], "nobody@example.cn");
    assert_eq!(failed[0]["detail"], "channel=web reason=unknown_account");
    assert_eq!(failed[1]["actor_user_id"], owner_id);
    assert_eq!(failed[1]["target"], "owner@example.cn");
    assert_eq!(failed[1]["detail"], "channel=web reason=wrong_password");
    let signup = find("signup")[0];
    assert_eq!(signup["actor_email"], "owner@example.cn");
    assert_eq!(signup["target"], format!("user:{owner_id}"));
    assert_eq!(signup["ip"], "127.0.0.1");
    let done = find("assessment_completed")[0];
    assert_eq!(done["target"], format!("assessment:{id}"));
    assert_eq!(done["actor_user_id"], owner_id);
    let reset_entry = find("password_reset")[0];
    assert_eq!(reset_entry["actor_email"], "root@example.cn");
    assert_eq!(reset_entry["target"], format!("user:{}", mate.id));
    assert_eq!(reset_entry["detail"], "email=mate@example.cn");
    assert_eq!(
        find("admin_created")[0]["detail"],
        "email=root@example.cn via=setup_link"
    );
    let api_logins: Vec<&Value> = find("login_ok")
        .into_iter()
        .filter(|e| e["detail"] == "channel=api")
        .collect();
    assert_eq!(api_logins.len(), 2, "token requests are log-ins too");
    let text = body.to_string();
    for secret in [
        PASSWORD,
        "not the password",
        "a brand new secret",
        &owner_token,
        &setup_token,
    ] {
        assert!(!text.contains(secret), "the audit log holds no secret");
    }
    let (_, page2) = audit_api(&app, Some(&admin_token), "?offset=10&limit=2").await;
    assert_eq!(page2["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(page2["items"][0]["id"], items[10]["id"]);

    // The page: administrators only, both languages.
    let r = admin.get("/admin/audit").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("审计日志"), "{}", r.text);
    assert!(r.text.contains("重置密码") && r.text.contains("登录失败"));
    assert!(r.text.contains("mate@example.cn") && r.text.contains("127.0.0.1"));
    assert!(
        r.text.contains("href=\"/admin/audit\""),
        "linked from the menu"
    );
    let r = admin.get("/admin/audit?lang=en").await;
    assert!(r.text.contains("Audit log") && r.text.contains("Password reset"));
    assert!(r.text.contains("Log-in failed") && r.text.contains("Assessment completed"));
    assert_eq!(
        owner.get("/admin/audit").await.status,
        StatusCode::FORBIDDEN
    );
    let visitor = Browser::new(&app);
    let r = visitor.get("/admin/audit").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login"), "{}", r.location());
}

#[tokio::test]
async fn the_audit_page_pages_through_many_entries() {
    let app = spawn().await;
    for i in 0..60 {
        app.state
            .store
            .record_audit(&smedx_store::AuditRecord {
                at: 1_700_000_000 + i,
                actor_user_id: None,
                action: if i == 59 {
                    "future_action".into()
                } else {
                    "login_failed".into()
                },
                target: format!("n{i}@example.cn"),
                detail: "channel=web".into(),
                ip: None,
            })
            .await
            .expect("record");
    }
    let setup = smedx_web::ensure_admin(&app.state, None, None)
        .await
        .expect("setup");
    let smedx_web::AdminSetup::SetupToken(t) = setup else {
        panic!("expected a setup token");
    };
    let admin = Browser::new(&app);
    let page = format!("/setup/{t}");
    let r = admin
        .post(
            &page,
            &page,
            &[
                ("email", "root@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let first = admin.get("/admin/audit?lang=en").await;
    assert!(first.text.contains("61 entries"), "{}", first.text);
    assert!(
        first.text.contains("future_action"),
        "an unknown action shows its code"
    );
    assert!(first.text.contains("href=\"/admin/audit?offset=50\""));
    assert!(
        !first.text.contains("n8@example.cn"),
        "older entries are on page 2"
    );
    let second = admin.get("/admin/audit?offset=50&lang=en").await;
    assert!(second.text.contains("n0@example.cn") && second.text.contains("n8@example.cn"));
    assert!(second.text.contains("href=\"/admin/audit?offset=0\""));
}
