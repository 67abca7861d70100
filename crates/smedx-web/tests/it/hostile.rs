//! Hostile input against the running server: session fixation, CSRF on every form route,
//! overlong fields, wrong content types, malformed JSON, huge numbers and NaN, NUL bytes, unknown
//! query parameters, odd methods, path traversal in static asset URLs, redirects after log-in.
//!
//! The routes come from [`crate::authz_matrix::ROUTES`], so a new route is covered here too.
//! Tests marked `#[ignore = "BUG: …"]` show a reported defect; they pass once it is fixed.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::authz_matrix::{Body, ROUTES, Role, RouteSpec, Tenant, World};
use crate::helpers::{self, App, Browser, PASSWORD};

const CSRF_MESSAGE: &str = "表单已过期";
const TOO_LARGE_PAGE: &str = "提交的内容太大";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn session_cookie(r: &helpers::Resp) -> Option<String> {
    r.cookies().into_iter().find_map(|c| {
        c.strip_prefix("smedx_session=")
            .map(|v| v.split(';').next().unwrap_or("").to_string())
    })
}

/// GET `path` with exactly these cookies (no jar).
async fn get_with_cookies(app: &App, path: &str, cookies: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookies)
        .send()
        .await
        .expect("get")
}

/// One request written byte for byte (the path is not normalised as a client library would);
/// returns the status (0 when the server closed the connection without answering) and the text.
async fn raw(app: &App, request: String) -> (u16, String) {
    let addr = app.base.trim_start_matches("http://").to_string();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let request = request.replace("{host}", &addr);
        s.write_all(request.as_bytes()).expect("write");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, text)
    })
    .await
    .expect("join")
}

async fn raw_get(app: &App, path: &str) -> (u16, String) {
    raw(
        app,
        format!("GET {path} HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

fn is_4xx(s: StatusCode) -> bool {
    s.is_client_error()
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_planted_session_cookie_is_replaced_at_login_and_never_valid() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Fixation Co", "fix@example.cn").await;
    // The attacker plants a well-formed session id (and CSRF cookie) in the victim's browser.
    let planted = "ab".repeat(32);
    let planted_csrf = "cd".repeat(32);
    let http = client();
    let cookies = format!("smedx_session={planted}; smedx_csrf={planted_csrf}");
    let page = http
        .get(format!("{}/login", app.base))
        .header("cookie", &cookies)
        .send()
        .await
        .expect("login page");
    assert_eq!(page.status(), StatusCode::OK);
    let r = http
        .post(format!("{}/login", app.base))
        .header("cookie", &cookies)
        .form(&[
            ("csrf", planted_csrf.as_str()),
            ("email", "fix@example.cn"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let issued: String = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("smedx_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .expect("a new session cookie");
    assert_ne!(
        issued, planted,
        "the session id must be issued by the server"
    );
    assert_eq!(issued.len(), 64);

    // The planted id opens nothing, before or after the victim logged in.
    let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={planted}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap_or("")
            .starts_with("/login")
    );
    // The issued one does.
    let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={issued}")).await;
    assert_eq!(r.status(), StatusCode::OK);

    // The CSRF token the attacker planted does not carry over into the session.
    let logged = format!("smedx_session={issued}; smedx_csrf={planted_csrf}");
    let page = client()
        .get(format!("{}/assess", app.base))
        .header("cookie", &logged)
        .send()
        .await
        .expect("page");
    let text = page.text().await.expect("text");
    assert!(
        !text.contains(&planted_csrf),
        "session pages use the session's token"
    );
    let r = client()
        .post(format!("{}/assessments", app.base))
        .header("cookie", &logged)
        .form(&[("csrf", planted_csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_visitor_csrf_token_is_not_the_session_token() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Tokens Co", "tokens@example.cn").await;
    let b = Browser::new(&app);
    let before = b.get("/login").await.csrf();
    let r = b.login("tokens@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = b.get("/assess").await.csrf();
    assert!(!after.is_empty());
    assert_ne!(
        before, after,
        "logging in must switch to the session's CSRF token"
    );
    let r = b
        .post_raw("/assessments", &[("csrf", before.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_login_is_a_new_session_and_logout_ends_it_on_the_server() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Sessions Co", "s@example.cn").await;
    let one = Browser::new(&app);
    let r1 = one.login("s@example.cn", PASSWORD).await;
    let two = Browser::new(&app);
    let r2 = two.login("s@example.cn", PASSWORD).await;
    let (c1, c2) = (
        session_cookie(&r1).expect("cookie 1"),
        session_cookie(&r2).expect("cookie 2"),
    );
    assert_ne!(c1, c2);
    let csrf1 = one.get("/assess").await.csrf();

    let r = one.post("/assess", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cleared = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("smedx_session="))
        .expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // Replaying the old cookie (e.g. copied before logout) opens nothing...
    let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={c1}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "old session still valid");
    let r = client()
        .post(format!("{}/assessments", app.base))
        .header("cookie", format!("smedx_session={c1}"))
        .form(&[("csrf", csrf1.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "old session's CSRF token"
    );
    // ... while the other session of the same user goes on.
    let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={c2}")).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_ids_and_api_tokens_are_not_interchangeable() {
    let app = helpers::spawn().await;
    let b = helpers::user(&app, "Mixed Co", "mixed@example.cn").await;
    let r = b.login("mixed@example.cn", PASSWORD).await;
    let session = session_cookie(&r).expect("session");
    let token = helpers::token(&app, "mixed@example.cn").await;
    // A session id is not an API token...
    let r = client()
        .get(format!("{}/api/v1/assessments", app.base))
        .bearer_auth(&session)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // ... an API token is not a session id...
    let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={token}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // ... and the same id in capitals is another id.
    let upper = session.to_uppercase();
    let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={upper}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Odd cookie values are ignored, not errors.
    for v in ["", "x", "%00", &"a".repeat(5000), "../../etc/passwd"] {
        let r = get_with_cookies(&app, "/assessments", &format!("smedx_session={v}")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "cookie {v:.20}");
    }
}

// ---------------------------------------------------------------------------------------------
// CSRF on every form route
// ---------------------------------------------------------------------------------------------

fn form_routes() -> Vec<&'static RouteSpec> {
    ROUTES.iter().filter(|s| s.is_form_post()).collect()
}

async fn count_users(app: &App) -> i64 {
    app.state
        .store
        .list_users(smedx_store::Page::default())
        .await
        .expect("users")
        .1
}

async fn count_assessments(w: &World, email: &str) -> i64 {
    let ent = crate::journey::enterprise_of(&w.app, email).await;
    w.app
        .state
        .store
        .list_assessments(ent, smedx_store::Page::default())
        .await
        .expect("assessments")
        .1
}

#[tokio::test]
async fn every_form_route_refuses_a_missing_wrong_or_foreign_csrf_token() {
    let w = World::new().await;
    let routes = form_routes();
    assert!(routes.len() >= 9, "{routes:?}");
    let users = count_users(&w.app).await;
    let assessments = count_assessments(&w, "a@example.cn").await;
    let foreign = w.callers[&Role::UserB].csrf.clone();
    let mut wrong = Vec::new();
    for spec in &routes {
        let role = spec.allowed_role();
        let caller = w.fresh(role).await;
        let id = w.target_id(spec.target, Tenant::A);
        let url = spec.url(&w.app.base, id, role);
        let own = caller.csrf.clone();
        let variants: Vec<(&str, Option<String>)> = vec![
            ("no token", None),
            ("empty token", Some(String::new())),
            ("random token", Some("5".repeat(64))),
            ("another user's token", Some(foreign.clone())),
            ("own token in capitals", Some(own.to_uppercase())),
            ("own token cut short", Some(own[..63].to_string())),
            ("own token and more", Some(format!("{own}0"))),
            ("own token with a NUL", Some(format!("{own}\0"))),
        ];
        for (what, token) in variants {
            let mut f: Vec<(String, String)> = Vec::new();
            if let Some(t) = token {
                f.push(("csrf".into(), t));
            }
            f.extend(spec.fields(id, role));
            let r = caller.http.post(&url).form(&f).send().await.expect("post");
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            if status != StatusCode::FORBIDDEN || !text.contains(CSRF_MESSAGE) {
                wrong.push(format!("POST {url} with {what}: {status}"));
            }
        }
        // The right token only in the query string or in a header does not count.
        let fields = spec.fields(id, role);
        let r = caller
            .http
            .post(format!(
                "{url}{}csrf={own}",
                if url.contains('?') { '&' } else { '?' }
            ))
            .header("x-csrf-token", &own)
            .form(&fields)
            .send()
            .await
            .expect("post");
        if r.status() != StatusCode::FORBIDDEN {
            wrong.push(format!(
                "POST {url} with the token in query and header: {}",
                r.status()
            ));
        }
    }
    assert!(wrong.is_empty(), "CSRF not enforced: {wrong:#?}");
    assert_eq!(count_users(&w.app).await, users, "no user was created");
    assert_eq!(
        count_assessments(&w, "a@example.cn").await,
        assessments,
        "no assessment was created"
    );
    // The victim of the administrator's reset still logs in with the same password, and the
    // sessions survived.
    let r = Browser::new(&w.app).login("a2@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = w.callers[&Role::UserA]
        .http
        .get(format!("{}/assessments", w.app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);

    // Control: with the right token each route reaches its handler (so the 403s were CSRF).
    for spec in routes {
        let role = spec.allowed_role();
        let caller = w.fresh(role).await;
        let id = w.target_id(spec.target, Tenant::A);
        let r = w.send(spec, role, &caller, id, None).await;
        assert_ne!(r.status, 403, "POST {} with the right token", spec.path);
    }
}

#[tokio::test]
async fn a_visitor_without_the_csrf_cookie_cannot_post_a_token_of_its_own() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Cookie Co", "cookie@example.cn").await;
    // Never fetched a page: no smedx_csrf cookie, so no token can match.
    let r = client()
        .post(format!("{}/login", app.base))
        .form(&[
            ("csrf", "1".repeat(64).as_str()),
            ("email", "cookie@example.cn"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        !r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap_or("").starts_with("smedx_session=")),
        "no session"
    );
}

// ---------------------------------------------------------------------------------------------
// Overlong fields
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn overlong_account_fields_are_refused_next_to_the_field_and_nothing_is_stored() {
    let app = helpers::spawn().await;
    let b = Browser::new(&app);
    let name = "企".repeat(10 * 1024 / 3);
    let long_email = format!("{}@example.cn", "a".repeat(300));
    let long_password = "p".repeat(10 * 1024);
    let cases: [(&str, &str, &str, &str); 3] = [
        (
            "enterprise",
            name.as_str(),
            "long-name@example.cn",
            PASSWORD,
        ),
        ("email", "Long Mail Co", long_email.as_str(), PASSWORD),
        (
            "password",
            "Long Password Co",
            "long-pw@example.cn",
            long_password.as_str(),
        ),
    ];
    for (field, enterprise, email, password) in cases {
        let r = b.signup(enterprise, email, password).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{field}: message next to the field"
        );
        assert!(
            !r.text.contains(&long_password),
            "passwords are never echoed"
        );
    }
    assert_eq!(count_users(&app).await, 0);

    // A colleague with an overlong address or password, and an administrator's overlong reset.
    let owner = helpers::user(&app, "Owner Co", "owner@example.cn").await;
    for (email, password) in [
        (long_email.as_str(), PASSWORD),
        ("colleague@example.cn", long_password.as_str()),
    ] {
        let r = owner
            .post(
                "/account",
                "/account/users",
                &[
                    ("email", email),
                    ("password", password),
                    ("confirm", password),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(count_users(&app).await, 1);
    smedx_web::ensure_admin(&app.state, Some("root@example.cn"), Some(PASSWORD))
        .await
        .expect("admin");
    let admin = Browser::new(&app);
    admin.login("root@example.cn", PASSWORD).await;
    let owner_id = app
        .state
        .store
        .user_by_email("owner@example.cn")
        .await
        .expect("store")
        .expect("owner")
        .id;
    let path = format!("/admin/users/{owner_id}/password");
    let r = admin
        .post(
            "/admin/users",
            &path,
            &[("password", long_password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = Browser::new(&app).login("owner@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "password unchanged");
}

/// A draft at step 6 (the first five wizard steps saved).
async fn draft_at_step_6(app: &App, email: &str) -> (Browser, i64, i64) {
    let b = helpers::user(app, "Pain Co", email).await;
    let id = b.start_assessment().await;
    for (n, form) in helpers::wizard_forms("2").iter().take(5).enumerate() {
        let n = u8::try_from(n + 1).expect("step");
        let r = b.step(id, n, form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "step {n}: {}", r.text);
    }
    let ent = crate::journey::enterprise_of(app, email).await;
    (b, ent, id)
}

async fn stored_pain(app: &App, ent: i64, id: i64) -> (Value, smedx_store::AssessmentStatus) {
    let a = app.state.store.assessment(ent, id).await.expect("stored");
    (a.profile["pain_points"].clone(), a.status)
}

#[tokio::test]
async fn pain_text_over_the_field_limit_is_422_and_over_the_body_limit_413() {
    let app = helpers::spawn().await;
    let (b, ent, id) = draft_at_step_6(&app, "pain@example.cn").await;
    let page = format!("/assessments/{id}/step/6");
    // Within the 256 KiB body limit, beyond the 4000-character field limit.
    for size in [4001, 200 * 1024] {
        let pain = "late ".repeat(size / 5 + 1);
        let r = b
            .post(
                &page,
                &page,
                &[("pain_points", pain.as_str()), ("budget_wan", "30")],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{size} characters"
        );
        assert!(r.text.contains("data-field=\"pain_points\""), "{size}");
        assert!(r.text.contains("4000"), "the message says the limit");
        assert_eq!(
            stored_pain(&app, ent, id).await,
            (Value::Null, smedx_store::AssessmentStatus::Draft)
        );
    }
    // Beyond the body limit: 413, nothing stored. (Sent chunked, without a Content-Length; see
    // `over_the_body_limit_with_a_content_length_the_answer_is_the_usual_error` for the other.)
    let session = session_cookie(&b.login("pain@example.cn", PASSWORD).await).expect("session");
    let cookie = format!("smedx_session={session}");
    let csrf = b.get(&page).await.csrf();
    let pain = "x".repeat(1024 * 1024);
    let body = format!("csrf={csrf}&pain_points={pain}");
    let (status, text) = raw(
        &app,
        chunked_post(&page, &cookie, "application/x-www-form-urlencoded", &body),
    )
    .await;
    assert_eq!(status, 413, "{}", &text[..text.len().min(300)]);
    assert!(text.contains(TOO_LARGE_PAGE), "a translated message");
    assert_eq!(
        stored_pain(&app, ent, id).await,
        (Value::Null, smedx_store::AssessmentStatus::Draft)
    );
    // And with a Content-Length the status is 413 too.
    let r = b
        .post(&page, &page, &[("pain_points", pain.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        stored_pain(&app, ent, id).await,
        (Value::Null, smedx_store::AssessmentStatus::Draft)
    );
}

fn chunked_post(path: &str, cookie: &str, content_type: &str, body: &str) -> String {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\nCookie: {cookie}\r\n\
         Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(64 * 1024) {
        req.push_str(&format!("{:x}\r\n", chunk.len()));
        req.push_str(std::str::from_utf8(chunk).expect("ascii body"));
        req.push_str("\r\n");
    }
    req.push_str("0\r\n\r\n");
    req
}

#[tokio::test]
async fn overlong_api_fields_are_refused_with_a_json_error() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Api Long Co", "long@example.cn").await;
    let t = helpers::token(&app, "long@example.cn").await;
    let http = client();
    let url = |p: &str| format!("{}/api/v1{p}", app.base);
    let draft: Value = http
        .post(url("/assessments"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = draft["id"].as_i64().expect("id");
    for (field, doc) in [
        (
            "pain_points",
            json!({"industry": "C3311", "employees": 5, "revenue": 1000000, "pain_points": "延".repeat(5000)}),
        ),
        (
            "name",
            json!({"industry": "C3311", "employees": 5, "revenue": 1000000, "name": "名".repeat(10 * 1024)}),
        ),
    ] {
        let r = http
            .put(url(&format!("/assessments/{id}/profile")))
            .bearer_auth(&t)
            .json(&doc)
            .send()
            .await
            .expect("put");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["field"], field);
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let stored: Value = http
        .get(url(&format!("/assessments/{id}")))
        .bearer_auth(&t)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(stored["profile"], json!({}), "nothing stored");

    // Beyond the body limit, sent chunked: 413 with the JSON error.
    let pain = "x".repeat(1024 * 1024);
    let body = format!("{{\"industry\": \"C3311\", \"pain_points\": \"{pain}\"}}");
    let req = format!(
        "PUT /api/v1/assessments/{id}/profile HTTP/1.1\r\nHost: {{host}}\r\nConnection: close\r\n\
         Authorization: Bearer {t}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let (status, text) = raw(&app, req).await;
    assert_eq!(status, 413);
    assert!(
        text.contains("\"code\":\"too_large\""),
        "{}",
        &text[..text.len().min(400)]
    );

    // A long token name is cut, a long search is cut: no error.
    let r = http
        .post(url("/tokens"))
        .json(&json!({"email": "long@example.cn", "password": PASSWORD, "name": "n".repeat(10 * 1024)}))
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::CREATED);
    let q = "交期".repeat(1000);
    let r = http
        .get(url("/search"))
        .query(&[("q", q.as_str())])
        .send()
        .await
        .expect("search");
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .get(format!("{}/search", app.base))
        .query(&[("q", q.as_str())])
        .send()
        .await
        .expect("search page");
    assert_eq!(r.status(), StatusCode::OK);
}

/// Over the body limit with a Content-Length header, the tower-http limit answers first with a
/// bare `text/plain` "length limit exceeded": not the translated error page of the forms, nor
/// the `{"code": "too_large"}` every other API error has.
#[tokio::test]
async fn over_the_body_limit_with_a_content_length_the_answer_is_the_usual_error() {
    let app = helpers::spawn().await;
    let big = "x".repeat(300 * 1024);
    let b = Browser::new(&app);
    let csrf = b.get("/signup").await.csrf();
    let r = b
        .post_raw(
            "/signup",
            &[("csrf", csrf.as_str()), ("enterprise", big.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text.contains(TOO_LARGE_PAGE), "page: {:.200}", r.text);
    let r = client()
        .post(format!("{}/api/v1/assess", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"profile\": {{\"pain_points\": \"{big}\"}}}}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(v["code"], "too_large");
}

// ---------------------------------------------------------------------------------------------
// Content types and malformed JSON
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_content_types_on_form_routes_are_4xx() {
    let w = World::new().await;
    let mut wrong = Vec::new();
    for spec in form_routes() {
        let role = spec.allowed_role();
        let caller = w.fresh(role).await;
        let id = w.target_id(spec.target, Tenant::A);
        let url = spec.url(&w.app.base, id, role);
        let mut fields = vec![("csrf".to_string(), caller.csrf.clone())];
        fields.extend(spec.fields(id, role));
        let urlencoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        let as_json: serde_json::Map<String, Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let boundary = "XyZ";
        let mut multipart = String::new();
        for (k, v) in &fields {
            multipart.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        multipart.push_str(&format!("--{boundary}--\r\n"));
        let sends: Vec<(&str, String, String)> = vec![
            (
                "JSON",
                "application/json".into(),
                Value::Object(as_json).to_string(),
            ),
            (
                "form labelled JSON",
                "application/json".into(),
                urlencoded.clone(),
            ),
            ("text/plain", "text/plain".into(), urlencoded.clone()),
            (
                "multipart",
                format!("multipart/form-data; boundary={boundary}"),
                multipart,
            ),
            ("XML", "application/xml".into(), "<csrf/>".into()),
        ];
        for (what, ct, body) in sends {
            let r = caller
                .http
                .post(&url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .expect("post");
            let st = r.status();
            // Handlers without form fields (log-out, re-assess) need only the token: a
            // urlencoded body under another label still carries it, and that is fine.
            let fieldless = matches!(spec.body, Body::Empty);
            if st.is_server_error() || (!is_4xx(st) && !fieldless) {
                wrong.push(format!("POST {} as {what}: {st}", spec.path));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

async fn api_world() -> (App, String, i64, reqwest::Client) {
    let app = helpers::spawn().await;
    helpers::user(&app, "Json Co", "json@example.cn").await;
    let t = helpers::token(&app, "json@example.cn").await;
    let http = client();
    let v: Value = http
        .post(format!("{}/api/v1/assessments", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = v["id"].as_i64().expect("id");
    (app, t, id, http)
}

/// The JSON API operations that take a body: (method, path).
fn json_operations(id: i64) -> Vec<(reqwest::Method, String)> {
    vec![
        (reqwest::Method::POST, "/api/v1/tokens".into()),
        (reqwest::Method::POST, "/api/v1/classify".into()),
        (reqwest::Method::POST, "/api/v1/assess".into()),
        (reqwest::Method::POST, "/api/v1/assessments".into()),
        (
            reqwest::Method::PUT,
            format!("/api/v1/assessments/{id}/profile"),
        ),
        (
            reqwest::Method::PUT,
            format!("/api/v1/assessments/{id}/answers"),
        ),
    ]
}

#[tokio::test]
async fn forms_and_multipart_sent_to_the_json_api_are_400_with_a_json_error() {
    let (app, t, id, http) = api_world().await;
    for (m, p) in json_operations(id) {
        for (ct, body) in [
            (
                "application/x-www-form-urlencoded",
                "industry=C3311&employees=5",
            ),
            (
                "multipart/form-data; boundary=B",
                "--B\r\nContent-Disposition: form-data; name=\"industry\"\r\n\r\nC3311\r\n--B--\r\n",
            ),
        ] {
            let r = http
                .request(m.clone(), format!("{}{p}", app.base))
                .bearer_auth(&t)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{m} {p} as {ct}");
            let v: Value = r.json().await.expect("JSON error");
            assert_eq!(v["code"], "invalid_json", "{m} {p}");
        }
    }
}

/// The API reads any body as JSON whatever its Content-Type says (text/plain, none, XML): a
/// client mistake goes unnoticed, and text/plain is what a cross-site form can send without a
/// CORS preflight (harmless today only because the API ignores cookies).
#[tokio::test]
async fn the_json_api_refuses_bodies_that_are_not_labelled_json() {
    let (app, t, id, http) = api_world().await;
    let profile = r#"{"industry": "C3311", "employees": 5, "revenue": 1000000}"#;
    for (m, p) in json_operations(id).into_iter().skip(1) {
        for ct in ["text/plain", "application/xml"] {
            let r = http
                .request(m.clone(), format!("{}{p}", app.base))
                .bearer_auth(&t)
                .header("content-type", ct)
                .body(profile)
                .send()
                .await
                .expect("send");
            assert_eq!(
                r.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{m} {p} as {ct}"
            );
        }
    }
}

#[tokio::test]
async fn json_bodies_required_optional_unlabelled_and_empty() {
    let (app, t, id, http) = api_world().await;
    let send = |m: reqwest::Method, p: String, ct: Option<&'static str>, body: &'static str| {
        let mut rq = http
            .request(m, format!("{}{p}", app.base))
            .bearer_auth(&t)
            .body(body);
        if let Some(ct) = ct {
            rq = rq.header("content-type", ct);
        }
        rq.send()
    };
    // A required body that is missing or empty: 400 invalid_json.
    for (m, p) in json_operations(id) {
        if p == "/api/v1/assessments" {
            continue;
        }
        for (ct, body) in [(None, ""), (Some("application/json"), " \n")] {
            let r = send(m.clone(), p.clone(), ct, body).await.expect("send");
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{m} {p} {ct:?}");
            let v: Value = r.json().await.expect("json");
            assert_eq!(v["code"], "invalid_json", "{m} {p}");
        }
    }
    // The optional body of POST /assessments: none, empty, `{}` or `null` start a draft.
    for (ct, body) in [
        (None, ""),
        (Some("application/x-www-form-urlencoded"), ""),
        (Some("application/json"), "{}"),
        (Some("application/json"), "null"),
    ] {
        let r = send(
            reqwest::Method::POST,
            "/api/v1/assessments".into(),
            ct,
            body,
        )
        .await
        .expect("send");
        assert_eq!(r.status(), StatusCode::CREATED, "{ct:?} {body:?}");
    }
    // A JSON document without a Content-Type: 415 with the JSON error.
    let r = send(
        reqwest::Method::POST,
        "/api/v1/classify".into(),
        None,
        r#"{"industry": "C3311", "employees": 5, "revenue": 1000000}"#,
    )
    .await
    .expect("send");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "unsupported_media_type");
    // A missing field is named.
    let r = send(
        reqwest::Method::POST,
        "/api/v1/tokens".into(),
        Some("application/json"),
        r#"{"password": "x"}"#,
    )
    .await
    .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["field"], "email");
}

#[tokio::test]
async fn json_with_a_charset_is_json() {
    let (app, t, _, http) = api_world().await;
    let r = http
        .post(format!("{}/api/v1/classify", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"industry": "C3311", "employees": 5, "revenue": 1000000}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_400_with_a_json_error_never_5xx() {
    let (app, t, id, http) = api_world().await;
    let deep_array = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!(
        "{{\"profile\": {}1{}}}",
        "{\"a\": ".repeat(20_000),
        "}".repeat(20_000)
    );
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", br#"{"profile": {"industry": "C33"#.to_vec()),
        ("trailing garbage", br#"{"profile": {}} x"#.to_vec()),
        ("single quotes", b"{'profile': {}}".to_vec()),
        (
            "NaN literal",
            br#"{"profile": {"employees": NaN}}"#.to_vec(),
        ),
        (
            "Infinity literal",
            br#"{"profile": {"employees": Infinity}}"#.to_vec(),
        ),
        (
            "number out of range",
            br#"{"profile": {"employees": 1e400}, "copy_from": 1e400}"#.to_vec(),
        ),
        (
            "invalid UTF-8",
            b"{\"profile\": {\"name\": \"\xff\xfe\"}}".to_vec(),
        ),
        ("byte order mark", b"\xef\xbb\xbf{\"profile\": {}}".to_vec()),
        (
            "lone surrogate",
            br#"{"profile": {"name": "\ud800"}}"#.to_vec(),
        ),
        (
            "NUL byte raw",
            b"{\"profile\": {\"name\": \"a\0b\"}}".to_vec(),
        ),
        ("deep array", deep_array.into_bytes()),
        ("deep object", deep_object.into_bytes()),
        (
            "duplicate keys",
            br#"{"profile": {}, "profile": {}}"#.to_vec(),
        ),
        ("comment", b"{/* */ \"profile\": {}}".to_vec()),
    ];
    let mut wrong = Vec::new();
    for (m, p) in json_operations(id) {
        for (what, body) in &bodies {
            let r = http
                .request(m.clone(), format!("{}{p}", app.base))
                .bearer_auth(&t)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{m} {p} with {what}: no answer ({e})"));
            let st = r.status();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            // Most are syntax errors (400); a few parse and then fail validation (422) or a
            // lookup (404: no such copy_from), and an invalid login is 401. Creating an
            // assessment ignores fields it does not know (`profile` here): 201.
            let created = p == "/api/v1/assessments" && st == StatusCode::CREATED;
            let ok = created
                || matches!(st.as_u16(), 400 | 401 | 404 | 422)
                    && ct.starts_with("application/json")
                    && v["code"].is_string();
            if !ok {
                wrong.push(format!("{m} {p} with {what}: {st} {ct} {v}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

const EXTREMES: [&str; 12] = [
    "0",
    "-1",
    "-0.0",
    "0.5",
    "1e-320",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "9007199254740993",
    "9223372036854775807",
    "18446744073709551616",
    "123456789012345678901234567890",
];

/// The API as one token holder: `send` answers the status and the JSON (or null).
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn send(&self, m: reqwest::Method, p: &str, body: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .request(m, format!("{}/api/v1{p}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{p}: no answer ({e})"));
        let st = r.status();
        (st, r.json().await.unwrap_or(Value::Null))
    }
}

const EXAMPLE_PROFILE: &str = r#"{"industry": "C3311", "employees": 85, "revenue": 32000000}"#;

/// Each answers document through a stored draft, completion, the API result and the result and
/// report pages (as `browser`, logged in to the same enterprise); what went wrong.
async fn complete_with_answers(api: &Api, browser: &Browser, docs: &[&str]) -> Vec<String> {
    use reqwest::Method;
    let mut wrong = Vec::new();
    for doc in docs {
        let (_, v) = api.send(Method::POST, "/assessments", "{}").await;
        let id = v["id"].as_i64().expect("id");
        let (st, v) = api
            .send(
                Method::PUT,
                &format!("/assessments/{id}/profile"),
                EXAMPLE_PROFILE,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let (st, v) = api
            .send(Method::PUT, &format!("/assessments/{id}/answers"), doc)
            .await;
        if st.is_server_error() {
            wrong.push(format!("PUT answers {doc}: {st} {v}"));
            continue;
        }
        let stateless = format!("{{\"profile\": {EXAMPLE_PROFILE}, \"answers\": {doc}}}");
        let (st, v) = api.send(Method::POST, "/assess", &stateless).await;
        if st.is_server_error() {
            wrong.push(format!("POST /assess answers {doc}: {st} {v}"));
        }
        if st != StatusCode::OK {
            continue;
        }
        let (st, v) = api
            .send(Method::POST, &format!("/assessments/{id}/complete"), "")
            .await;
        if st != StatusCode::OK {
            wrong.push(format!("complete with {doc}: {st} {v}"));
            continue;
        }
        let (st, v) = api
            .send(Method::GET, &format!("/assessments/{id}/result"), "")
            .await;
        if st != StatusCode::OK {
            wrong.push(format!("result with {doc}: {st} {v}"));
        }
        for page in [
            format!("/assessments/{id}"),
            format!("/assessments/{id}/report"),
        ] {
            let r = browser.get(&page).await;
            if r.status != StatusCode::OK {
                wrong.push(format!("GET {page} with {doc}: {}", r.status));
            }
        }
    }
    wrong
}

async fn api_and_browser() -> (App, Api, Browser) {
    let (app, token, _, http) = api_world().await;
    let api = Api {
        http,
        base: app.base.clone(),
        token,
    };
    let b = Browser::new(&app);
    assert_eq!(
        b.login("json@example.cn", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    (app, api, b)
}

#[tokio::test]
async fn extreme_numbers_in_profiles_and_answers_never_5xx() {
    let (_app, api, b) = api_and_browser().await;
    let mut wrong = Vec::new();
    // E47 (construction) sizes firms by revenue and assets, so every figure is used.
    let defaults = [
        ("employees", "85"),
        ("revenue", "32000000"),
        ("assets", "40000000"),
        ("budget", "300000"),
    ];
    for x in EXTREMES {
        for (field, _) in defaults {
            let figures: Vec<String> = defaults
                .iter()
                .map(|(k, v)| format!("\"{k}\": {}", if *k == field { x } else { v }))
                .collect();
            let profile = format!("{{\"industry\": \"E47\", {}}}", figures.join(", "));
            let (st, v) = api.send(reqwest::Method::POST, "/classify", &profile).await;
            if st.is_server_error() || (st != StatusCode::OK && !v["code"].is_string()) {
                wrong.push(format!("POST /classify {field}={x}: {st} {v}"));
            }
            let (st, v) = api
                .send(
                    reqwest::Method::POST,
                    "/assess",
                    &format!("{{\"profile\": {profile}}}"),
                )
                .await;
            if st.is_server_error() {
                wrong.push(format!("POST /assess {field}={x}: {st} {v}"));
            }
        }
    }
    // Answers: ratios with zero or huge parts, trends from zero, ratings out of range.
    wrong.extend(
        complete_with_answers(
            &api,
            &b,
            &[
                r#"{"equipment_digital": {"digital": 5, "total": 0}}"#,
                r#"{"equipment_digital": {"digital": 1e308, "total": 1e-308}}"#,
                r#"{"equipment_digital": {"digital": -1, "total": 10}}"#,
                r#"{"equipment_digital": {"digital": 0, "total": 0}}"#,
                r#"{"green": {"before": {"energy": 0, "revenue": 0}, "after": {"energy": 0, "revenue": 0}}}"#,
                r#"{"quality": {"before": 1e308, "after": -1e308}}"#,
                r#"{"quality": {"before": 0, "after": 0}}"#,
                r#"{"funding": {"investment": 1e308, "revenue": 0}}"#,
                r#"{"revenue_per_head": {"before": {"revenue": 1, "employees": 0}, "after": {"revenue": 0, "employees": 0}}}"#,
                r#"{"scenarios": {"production_control": 1e10}}"#,
                r#"{"scenarios": {"production_control": -1}}"#,
                r#"{"scenarios": {"production_control": 2.5}}"#,
                r#"{"scenarios": {"production_control": 9223372036854775808}}"#,
            ],
        )
        .await,
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A trend whose ratio overflows (energy 1e308 per revenue 1e-308) makes the engine compute an
/// infinite intensity; serde_json writes it as `null`; the stored report then no longer reads
/// back as a `Report` ("stored data cannot be read: invalid type: null, expected f64"), so the
/// result page, the report page and compare answer 500 for that assessment for ever. The same
/// figures can be typed into wizard step 4.
#[tokio::test]
async fn overflowing_trend_figures_do_not_break_the_result_page() {
    let (_app, api, b) = api_and_browser().await;
    let wrong = complete_with_answers(
        &api,
        &b,
        &[
            r#"{"green": {"before": {"energy": 1e308, "revenue": 1e-308}, "after": {"energy": 1, "revenue": 1e308}}}"#,
            r#"{"cost_per_100": {"before": {"cost": -5, "revenue": 0}, "after": {"cost": 1e308, "revenue": 1e-308}}}"#,
            r#"{"revenue_per_head": {"before": {"revenue": 1e308, "employees": 1e-308}, "after": {"revenue": 1, "employees": 1}}}"#,
        ],
    )
    .await;
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// 1.79e308 万元 of assets is finite as typed and infinite in yuan; the infinite number becomes
/// JSON null, which the profile reads as "not given": the figure the user typed is dropped
/// without a word (for revenue, required, the message says it is missing).
#[tokio::test]
async fn a_figure_that_overflows_in_yuan_is_refused() {
    let app = helpers::spawn().await;
    let b = helpers::user(&app, "Overflow Co", "overflow@example.cn").await;
    let id = b.start_assessment().await;
    let r = b
        .step(
            id,
            1,
            &[
                ("name", "Overflow Co"),
                ("industry", "C3311"),
                ("employees", "85"),
                ("revenue_wan", "3200"),
                ("assets_wan", "1.7976931348623157e308"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"assets_wan\""));
}

#[tokio::test]
async fn absurdly_large_figures_are_refused_by_the_api_naming_the_field() {
    let (app, t, id, http) = api_world().await;
    let api = Api {
        http,
        base: app.base.clone(),
        token: t,
    };
    use reqwest::Method;
    for (field, doc) in [
        (
            "revenue",
            r#"{"industry": "C3311", "employees": 85, "revenue": 1e16}"#,
        ),
        (
            "employees",
            r#"{"industry": "C3311", "employees": 1e300, "revenue": 3200}"#,
        ),
        (
            "budget",
            r#"{"industry": "C3311", "employees": 85, "revenue": 3200, "budget": 1e308}"#,
        ),
    ] {
        for (p, body) in [
            (format!("/assessments/{id}/profile"), doc.to_string()),
            ("/classify".to_string(), doc.to_string()),
            ("/assess".to_string(), format!("{{\"profile\": {doc}}}")),
        ] {
            let m = if p.ends_with("/profile") {
                Method::PUT
            } else {
                Method::POST
            };
            let (st, v) = api.send(m, &p, &body).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p} {doc}: {v}");
            assert_eq!(v["field"], field, "{p}: {v}");
        }
    }
    for (field, doc) in [
        (
            "equipment_digital",
            r#"{"equipment_digital": {"digital": 1e16, "total": 1e16}}"#,
        ),
        (
            "green",
            r#"{"green": {"before": {"energy": 1e15, "revenue": 1e-300}, "after": {"energy": 1, "revenue": 1}}}"#,
        ),
    ] {
        let (st, v) = api
            .send(Method::PUT, &format!("/assessments/{id}/answers"), doc)
            .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{doc}: {v}");
        assert_eq!(v["field"], field, "{v}");
    }
    let (_, v) = api
        .send(Method::GET, &format!("/assessments/{id}"), "")
        .await;
    assert_eq!(v["profile"], json!({}), "nothing stored");
    assert_eq!(v["answers"], json!({}), "nothing stored");
}

/// The wizard refuses the same figures at the step they are typed in (step 4: a trend per 100
/// yuan whose ratio overflows; step 2: a figure over 10^15), naming the question.
#[tokio::test]
async fn the_wizard_refuses_figures_whose_ratio_overflows() {
    let app = helpers::spawn().await;
    let b = helpers::user(&app, "Ratio Co", "ratio@example.cn").await;
    let id = b.start_assessment().await;
    let forms = helpers::wizard_forms("2");
    for (n, form) in forms.iter().take(3).enumerate() {
        let n = u8::try_from(n + 1).expect("step");
        assert_eq!(b.step(id, n, form).await.status, StatusCode::SEE_OTHER);
    }
    let ent = crate::journey::enterprise_of(&app, "ratio@example.cn").await;
    let mut form = forms[3].clone();
    form.retain(|(k, _)| !k.starts_with("green.before"));
    form.push(("green.before.energy", "1e15"));
    form.push(("green.before.revenue", "1e-300"));
    let r = b.step(id, 4, &form).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:.300}",
        r.text
    );
    assert!(r.text.contains("data-field=\"green\""));
    let mut form = forms[1].clone();
    form.retain(|(k, _)| *k != "equipment_digital.total");
    form.push(("equipment_digital.total", "1e16"));
    let r = b.step(id, 2, &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"equipment_digital\""));
    let a = app.state.store.assessment(ent, id).await.expect("stored");
    assert_eq!(a.step, 3, "nothing saved");
    assert!(a.answers.get("green").is_none());
}

/// A report stored before figures were checked (a number that is not finite became null) no
/// longer reads as a report: its pages explain that and offer a new assessment from the same
/// answers, instead of answering 500 for ever.
#[tokio::test]
async fn a_stored_result_that_cannot_be_read_offers_a_new_assessment() {
    let app = helpers::spawn().await;
    let b = helpers::user(&app, "Old Co", "old@example.cn").await;
    let id = b.start_assessment().await;
    let ent = crate::journey::enterprise_of(&app, "old@example.cn").await;
    let store = &app.state.store;
    store
        .save_step(
            ent,
            id,
            6,
            &json!({"industry": "C3311", "employees": 85, "revenue": 32000000}),
            &json!({}),
            1,
        )
        .await
        .expect("save");
    store
        .complete_assessment_audited(
            ent,
            id,
            &json!({"classification": null, "assessment": {"score": null}}),
            None,
            None,
            2,
            &smedx_store::AuditCtx::default(),
        )
        .await
        .expect("complete");
    for page in [
        format!("/assessments/{id}"),
        format!("/assessments/{id}/report"),
    ] {
        let r = b.get(&page).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{page}");
        assert!(
            r.text.contains("无法显示这次的结果"),
            "{page}: {:.300}",
            r.text
        );
        assert!(
            r.text
                .contains(&format!("action=\"/assessments/{id}/reassess\"")),
            "{page}"
        );
    }
    let r = b
        .post(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/reassess"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().ends_with("/step/1"), "{}", r.location());
}

#[tokio::test]
async fn numbers_typed_into_the_wizard_that_are_not_finite_are_422() {
    let app = helpers::spawn().await;
    let b = helpers::user(&app, "Typing Co", "typing@example.cn").await;
    let id = b.start_assessment().await;
    let ent = crate::journey::enterprise_of(&app, "typing@example.cn").await;
    let base: Vec<(&str, &str)> = vec![
        ("name", "Typing Co"),
        ("industry", "C3311"),
        ("employees", "85"),
        ("revenue_wan", "3200"),
    ];
    for (field, value) in [
        ("employees", "1e400"),
        ("employees", "NaN"),
        ("employees", "inf"),
        ("employees", "-inf"),
        ("employees", "0x10"),
        ("employees", "1_000"),
        // Finite as typed, infinite once 万元 become yuan (revenue is required: "missing").
        ("revenue_wan", "1e305"),
    ] {
        let mut form = base.clone();
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = b.step(id, 1, &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {:.300}",
            r.text
        );
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{field}={value}"
        );
        let a = app.state.store.assessment(ent, id).await.expect("stored");
        assert_eq!(a.step, 0, "{field}={value} saved nothing");
    }
    // Extreme but finite figures are the engine's business: never a 5xx.
    for value in ["0", "-5", "1e300", "0.0000001", "９９９９"] {
        let mut form = base.clone();
        form.retain(|(k, _)| *k != "employees");
        form.push(("employees", value));
        let r = b.step(id, 1, &form).await;
        assert!(
            !r.status.is_server_error(),
            "employees={value}: {}",
            r.status
        );
    }
    // Ratings out of range on step 5 (steps 1–4 saved first).
    let b2 = helpers::user(&app, "Rating Co", "rating@example.cn").await;
    let id2 = b2.start_assessment().await;
    for (n, form) in helpers::wizard_forms("2").iter().take(4).enumerate() {
        let n = u8::try_from(n + 1).expect("step");
        assert_eq!(b2.step(id2, n, form).await.status, StatusCode::SEE_OTHER);
    }
    for value in ["5", "-1", "99999999999999999999", "NaN", "2.5", "１"] {
        let r = b2
            .step(id2, 5, &[("scenarios.production_control", value)])
            .await;
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::SEE_OTHER,
            "rating {value}: {}",
            r.status
        );
    }
}

#[tokio::test]
async fn huge_or_odd_numbers_in_paths_and_queries_are_4xx() {
    let w = World::new().await;
    let user = &w.callers[&Role::UserA];
    let tok = &w.callers[&Role::TokenA];
    let pages = [
        "/assessments/99999999999999999999",
        "/assessments/-1",
        "/assessments/9223372036854775807",
        "/assessments/-9223372036854775808/report",
        "/assessments/1e3",
        "/assessments/NaN",
        "/assessments/0x10",
        "/assessments/1/step/256",
        "/assessments/1/step/0",
        "/assessments/1/step/-1",
        "/assessments/compare?a=1e400&b=NaN",
        "/assessments/compare?a=99999999999999999999&b=1",
        "/assessments/compare?a=1",
        "/admin/users?offset=abc",
        "/admin/users?offset=-9223372036854775808",
    ];
    let mut wrong = Vec::new();
    for p in pages {
        let r = user
            .http
            .get(format!("{}{p}", w.app.base))
            .send()
            .await
            .expect("get");
        // /admin/* is 403 for an enterprise user whatever the query; the rest 4xx.
        if !is_4xx(r.status()) {
            wrong.push(format!("GET {p}: {}", r.status()));
        }
    }
    for p in [
        "/api/v1/assessments/99999999999999999999",
        "/api/v1/assessments/9223372036854775807",
        "/api/v1/assessments/-9223372036854775808/result",
        "/api/v1/assessments/1e3",
        "/api/v1/assessments/NaN/complete",
    ] {
        let r = tok
            .http
            .request(
                if p.ends_with("/complete") {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::GET
                },
                format!("{}{p}", w.app.base),
            )
            .send()
            .await
            .expect("get");
        if !is_4xx(r.status()) {
            wrong.push(format!("API {p}: {}", r.status()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// `offset + 50` overflows in `admin_users` (pages.rs): a debug build panics (the connection is
/// dropped without an answer), a release build wraps and shows a negative "next" link.
#[tokio::test]
async fn the_admin_user_list_survives_a_huge_offset() {
    let w = World::new().await;
    let admin = &w.callers[&Role::Admin];
    for offset in ["9223372036854775807", "9223372036854775758"] {
        let r = admin
            .http
            .get(format!("{}/admin/users?offset={offset}", w.app.base))
            .send()
            .await;
        let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
        assert!(
            status == 200 || (400..500).contains(&status),
            "offset={offset}: {status} (0 = connection dropped)"
        );
    }
}

#[tokio::test]
async fn huge_offsets_on_the_audit_log_page_and_api_are_clamped() {
    let w = World::new().await;
    let admin = &w.callers[&Role::Admin];
    let tok = &w.callers[&Role::TokenAdmin];
    for offset in [
        "9223372036854775807",
        "9223372036854775758",
        "-9223372036854775808",
    ] {
        let r = admin
            .http
            .get(format!("{}/admin/audit?offset={offset}", w.app.base))
            .send()
            .await;
        let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
        assert_eq!(status, 200, "page offset={offset}");
        let r = tok
            .http
            .get(format!(
                "{}/api/v1/admin/audit?offset={offset}&limit=9223372036854775807",
                w.app.base
            ))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::OK, "API offset={offset}");
        let v: Value = r.json().await.expect("json");
        let o = v["offset"].as_i64().expect("offset");
        assert!((0..=1_000_000_000).contains(&o), "{v}");
        assert_eq!(v["limit"], 200);
    }
}

/// Page routes whose path or query does not parse answer the translated error page, not axum's
/// plain-text rejection.
#[tokio::test]
async fn page_parameters_that_do_not_parse_get_the_error_page() {
    let w = World::new().await;
    let user = &w.callers[&Role::UserA];
    let admin = &w.callers[&Role::Admin];
    for (caller, p) in [
        (user, "/assessments/abc"),
        (user, "/assessments/1/step/x"),
        (user, "/assessments/compare?a=1"),
        (admin, "/admin/users?offset=abc"),
    ] {
        let r = caller
            .http
            .get(format!("{}{p}", w.app.base))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{p}");
        let ct = r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_string();
        assert!(ct.starts_with("text/html"), "{p}: {ct}");
        let text = r.text().await.expect("text");
        assert!(
            text.contains("访问的地址或提交的表单无效"),
            "{p}: {text:.300}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// NUL bytes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn nul_bytes_in_lookups_and_documents_are_harmless() {
    let (app, t, id, http) = api_world().await;
    // Log-in and token look-ups by an address with a NUL find nobody.
    let b = Browser::new(&app);
    let r = b.login("json\0@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = http
        .post(format!("{}/api/v1/tokens", app.base))
        .json(&json!({"email": "json@example.cn\u{0}", "password": PASSWORD}))
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    for p in [
        "/search?q=%00",
        "/api/v1/search?q=%00%00",
        "/api/v1/scenarios/%00",
    ] {
        let r = http
            .get(format!("{}{p}", app.base))
            .send()
            .await
            .expect("get");
        assert!(!r.status().is_server_error(), "{p}: {}", r.status());
    }
    // NUL inside JSON documents is stored as an escape and comes back unchanged.
    let doc = json!({"industry": "C3311", "employees": 5, "revenue": 1000000, "name": "A\u{0}B", "pain_points": "交期\u{0}延误"});
    let r = http
        .put(format!("{}/api/v1/assessments/{id}/profile", app.base))
        .bearer_auth(&t)
        .json(&doc)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["profile"]["name"], "A\u{0}B");
    // The wizard's text fields too.
    b.login("json@example.cn", PASSWORD).await;
    let draft: Value = http
        .post(format!("{}/api/v1/assessments", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let draft = draft["id"].as_i64().expect("id");
    let r = b
        .step(
            draft,
            1,
            &[
                ("name", "A\0B"),
                ("industry", "C3311\0"),
                ("employees", "8\u{0}5"),
                ("revenue_wan", "3200"),
            ],
        )
        .await;
    assert!(!r.status.is_server_error(), "{}", r.status);
}

/// PostgreSQL cannot store NUL in text: the store says "the web layer should refuse it in its
/// input validation", but sign-up passes the enterprise name (and the e-mail address) through, so
/// on PostgreSQL sign-up answers 500; the same holds for adding a colleague, the administrator
/// set-up form and an API token's name. On SQLite the NUL is stored.
#[tokio::test]
async fn nul_bytes_in_account_fields_are_refused() {
    let app = helpers::spawn().await;
    let b = Browser::new(&app);
    let r = b.signup("A\0B Co", "nul@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"enterprise\""));
    let r = b.signup("Nul Co", "nul\0@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"email\""));
    assert_eq!(count_users(&app).await, 0);
}

#[tokio::test]
async fn nul_bytes_in_colleagues_token_names_and_the_setup_form_are_refused() {
    let app = helpers::spawn().await;
    let owner = helpers::user(&app, "Owner Co", "owner@example.cn").await;
    let r = owner
        .post(
            "/account",
            "/account/users",
            &[
                ("email", "col\0league@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"email\""));
    assert_eq!(count_users(&app).await, 1);

    // A token name with a NUL (or another control character): 422 naming the field.
    for name in ["a\0b", "tab\there", "bell\u{7}"] {
        let r = client()
            .post(format!("{}/api/v1/tokens", app.base))
            .json(&json!({"email": "owner@example.cn", "password": PASSWORD, "name": name}))
            .send()
            .await
            .expect("token");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["code"], "validation_failed");
        assert_eq!(v["field"], "name");
    }

    // The set-up form: mistakes (an address with NUL, one already taken) leave the one-time
    // link usable.
    let setup = smedx_web::ensure_admin(&app.state, None, None)
        .await
        .expect("setup");
    let smedx_web::AdminSetup::SetupToken(token) = setup else {
        panic!("expected a setup token, got {setup:?}");
    };
    let b = Browser::new(&app);
    let page = format!("/setup/{token}");
    for email in ["root\0@example.cn", "owner@example.cn"] {
        let r = b
            .post(
                &page,
                &page,
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{email:?}");
        assert!(r.text.contains("data-field=\"email\""), "{email:?}");
    }
    let r = b
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
    assert_eq!(r.location(), "/admin/users");
}

// ---------------------------------------------------------------------------------------------
// Query parameters and methods on every route
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_query_parameters_are_ignored_on_every_get_route() {
    let w = World::new().await;
    let extra = "utm_source=mail&x%5B%5D=1&__proto__=1&debug=true&admin=1&%F0%9F%98%80=%00";
    let mut wrong = Vec::new();
    for spec in ROUTES
        .iter()
        .filter(|s| s.method == "GET" || s.method == "ANY")
    {
        let role = spec.allowed_role();
        let caller = &w.callers[&role];
        let id = w.target_id(spec.target, Tenant::A);
        let url = spec.url(&w.app.base, id, role);
        let plain = caller.http.get(&url).send().await.expect("get").status();
        let sep = if url.contains('?') { '&' } else { '?' };
        let with = caller
            .http
            .get(format!("{url}{sep}{extra}"))
            .send()
            .await
            .expect("get")
            .status();
        if plain != with {
            wrong.push(format!(
                "GET {url}: {plain} plain, {with} with extra parameters"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn head_options_and_odd_methods_never_5xx() {
    let w = World::new().await;
    let mut wrong = Vec::new();
    for spec in ROUTES {
        for role in [Role::Anonymous, Role::UserA, Role::TokenA] {
            let caller = &w.callers[&role];
            let id = w.target_id(spec.target, Tenant::A);
            let url = spec.url(&w.app.base, id, role);
            let get = if spec.method == "GET" {
                Some(caller.http.get(&url).send().await.expect("get").status())
            } else {
                None
            };
            for m in ["HEAD", "OPTIONS", "TRACE", "PROPFIND", "FOO"] {
                let r = caller
                    .http
                    .request(m.parse().expect("method"), &url)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{m} {url}: no answer ({e})"));
                let st = r.status();
                if st.is_server_error() {
                    wrong.push(format!("{m} {url} as {}: {st}", role.label()));
                }
                if m == "HEAD"
                    && let Some(g) = get
                    && g != st
                {
                    wrong.push(format!("HEAD {url} as {}: {st}, GET: {g}", role.label()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

// ---------------------------------------------------------------------------------------------
// Path traversal
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn path_traversal_in_static_urls_is_404() {
    let app = helpers::spawn().await;
    let (st, _) = raw_get(&app, "/static/app.css").await;
    assert_eq!(st, 200, "control");
    let attempts = [
        "/static/../../etc/passwd",
        "/static/../../../../../../etc/passwd",
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/..%252f..%252f..%252fetc%252fpasswd",
        "/static/..%5c..%5c..%5cetc%5cpasswd",
        "/static/..\\..\\..\\etc\\passwd",
        "/static/....//....//....//etc/passwd",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/..%2fCargo.toml",
        "/static/..%2f..%2f..%2fCargo.toml",
        "/static/..%2fsrc%2flib.rs",
        "/static/..%2ftemplates%2fbase.html",
        "/static/vendor/..%2f..%2fCargo.toml",
        "/static/vendor/../../Cargo.toml",
        "/static/app.css%00.png",
        "/static/app.css/..%2f..%2fCargo.toml",
        "/static/..%c0%af..%c0%afetc/passwd",
        "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
        "/static/~/.bashrc",
        "/static/%00",
    ];
    let mut wrong = Vec::new();
    for p in attempts {
        let (st, text) = raw_get(&app, p).await;
        let leaked = ["root:", "[package]", "mod api", "<!doctype", "{%"]
            .iter()
            .any(|m| text.contains(m));
        // 404, or 400 for a path that is not even valid UTF-8 once decoded.
        if !(st == 404 || st == 400) || leaked {
            wrong.push(format!("{p}: {st}{}", if leaked { " LEAKED" } else { "" }));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The same against the other wildcard-ish routes.
    for p in [
        "/scenarios/..%2f..%2fetc%2fpasswd",
        "/api/v1/scenarios/..%2f..%2fetc%2fpasswd",
        "/setup/..%2f..%2fetc%2fpasswd",
    ] {
        let (st, text) = raw_get(&app, p).await;
        assert!(!text.contains("root:"), "{p}");
        assert!(st < 500, "{p}: {st}");
    }
}

// ---------------------------------------------------------------------------------------------
// Redirects after log-in
// ---------------------------------------------------------------------------------------------

/// `next` after log-in must stay on this site. A tab (or CR/LF) passes the `safe_next` check;
/// browsers drop tabs and newlines from URLs (WHATWG URL parsing), so `Location: /\t/evil.example`
/// is followed to `//evil.example`: an open redirect from a link like
/// `/login?next=/%09/evil.example`. CR, LF and NUL make the redirect header invalid: 500 after the
/// session was created.
#[tokio::test]
async fn next_after_login_stays_on_the_site() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Next Co", "next@example.cn").await;
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: x=1",
        "/\0",
        "\t//evil.example",
        "/ /evil.example",
    ] {
        // The log-in page keeps `next` in a hidden field, as a link would put it there.
        let b = Browser::new(&app);
        let r = b
            .post(
                "/login",
                "/login",
                &[
                    ("email", "next@example.cn"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "next={next:?}");
        let loc = r.location();
        let cleaned: String = loc
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        assert!(
            cleaned.starts_with('/') && !cleaned.starts_with("//") && !cleaned.starts_with("/\\"),
            "next={next:?} → Location {loc:?}"
        );
        assert!(
            !loc.chars().any(char::is_control),
            "next={next:?} → {loc:?}"
        );
    }
}

#[tokio::test]
async fn next_after_login_refuses_other_sites() {
    let app = helpers::spawn().await;
    helpers::user(&app, "Next Co", "next@example.cn").await;
    for next in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "%2F%2Fevil.example",
    ] {
        let b = Browser::new(&app);
        let r = b
            .post(
                "/login",
                "/login",
                &[
                    ("email", "next@example.cn"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "next={next:?}");
        assert_eq!(r.location(), "/assess", "next={next:?}");
    }
    // A local `next` is honoured.
    let b = Browser::new(&app);
    let r = b
        .post(
            "/login",
            "/login",
            &[
                ("email", "next@example.cn"),
                ("password", PASSWORD),
                ("next", "/assessments?x=1"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/assessments?x=1");
}

/// Every public API operation answers JSON even for an undocumented path parameter problem: a
/// non-integer id is axum's `text/plain` "Invalid URL: Cannot parse …" today.
#[tokio::test]
async fn api_parameter_errors_are_json() {
    let w = World::new().await;
    let tok = &w.callers[&Role::TokenA];
    for (m, p) in [
        ("GET", "/api/v1/assessments/abc"),
        ("GET", "/api/v1/assessments/1.5/result"),
        ("POST", "/api/v1/assessments/99999999999999999999/complete"),
        ("GET", "/api/v1/search?q=a&q=b"),
    ] {
        let r = tok
            .http
            .request(m.parse().expect("method"), format!("{}{p}", w.app.base))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{m} {p}");
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(v["code"].is_string(), "{m} {p}: {v}");
    }
}
