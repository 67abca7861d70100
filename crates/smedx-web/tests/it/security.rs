//! Accounts, CSRF, rate limit, isolation between enterprises, headers, limits, administrators.

use reqwest::StatusCode;

use crate::helpers::*;
use crate::journey::enterprise_of;

#[tokio::test]
async fn signup_errors_are_next_to_the_fields_and_nothing_is_stored() {
    let app = spawn().await;
    let b = Browser::new(&app);
    let r = b
        .post(
            "/signup",
            "/signup",
            &[
                ("enterprise", ""),
                ("email", "not-an-email"),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["enterprise", "email", "password"] {
        assert!(
            r.text.contains(&format!("data-field=\"{f}\"")),
            "{f}: {}",
            r.text
        );
    }
    let r = b
        .post(
            "/signup",
            "/signup",
            &[
                ("enterprise", "Mismatch Co"),
                ("email", "m@example.cn"),
                ("password", PASSWORD),
                ("confirm", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"confirm\""));
    assert!(r.text.contains("value=\"Mismatch Co\""), "input kept");
    assert!(!r.text.contains(PASSWORD), "passwords are never echoed");
    let (users, total) = app
        .state
        .store
        .list_users(smedx_store::Page::default())
        .await
        .expect("list");
    assert_eq!(total, 0, "{users:?}");
}

#[tokio::test]
async fn a_taken_email_creates_no_enterprise() {
    let app = spawn().await;
    user(&app, "First Co", "taken@example.cn").await;
    let b = Browser::new(&app);
    let r = b.signup("Second Co", "TAKEN@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"email\""));
    let (_, total) = app
        .state
        .store
        .list_users(smedx_store::Page::default())
        .await
        .expect("list");
    assert_eq!(total, 1);
    let ent = enterprise_of(&app, "taken@example.cn").await;
    assert_eq!(
        app.state.store.enterprise(ent + 1).await.expect("store"),
        None,
        "no second enterprise"
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn().await;
    let b = Browser::new(&app);
    let r = b
        .post_raw(
            "/signup",
            &[
                ("enterprise", "X"),
                ("email", "x@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let logged = user(&app, "Csrf Co", "csrf@example.cn").await;
    let r = logged.post_raw("/assessments", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = logged
        .post_raw("/assessments", &[("csrf", "0".repeat(64).as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = logged.post_raw("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another visitor's token does not work either.
    let other = Browser::new(&app);
    let foreign = other.get("/login").await.csrf();
    let r = logged
        .post_raw("/assessments", &[("csrf", foreign.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("表单已过期"), "translated message");
}

#[tokio::test]
async fn login_is_rate_limited_per_email() {
    let app = spawn().await;
    user(&app, "Limit Co", "limit@example.cn").await;
    let b = Browser::new(&app);
    for _ in 0..5 {
        let r = b.login("Limit@example.cn", "wrong password!").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.text.contains("邮箱或密码不正确"));
    }
    let r = b.login("limit@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text.contains("15 分钟"));
    // The API's token endpoint shares the limit.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/tokens?lang=en", app.base))
        .json(&serde_json::json!({"email": "limit@example.cn", "password": PASSWORD}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["code"], "rate_limited");
}

#[tokio::test]
async fn another_enterprise_gets_404_on_every_route_of_an_assessment() {
    let app = spawn().await;
    let a = user(&app, "Owner Co", "a@example.cn").await;
    let id = a.start_assessment().await;
    a.complete_wizard(id, "2").await;
    let draft = a.start_assessment().await;

    let b = user(&app, "Nosy Co", "b@example.cn").await;
    let own = b.start_assessment().await;
    let csrf = b.get(&format!("/assessments/{own}/step/1")).await.csrf();
    for target in [id, draft] {
        for p in [
            format!("/assessments/{target}"),
            format!("/assessments/{target}/report"),
            format!("/assessments/{target}/step/1"),
            format!("/assessments/compare?a={target}&b={id}"),
        ] {
            assert_eq!(b.get(&p).await.status, StatusCode::NOT_FOUND, "GET {p}");
        }
        for p in [
            format!("/assessments/{target}/step/1"),
            format!("/assessments/{target}/reassess"),
        ] {
            let r = b
                .post_raw(&p, &[("csrf", csrf.as_str()), ("industry", "C3311")])
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {p}");
        }
        let r = b
            .post_raw(
                "/assessments",
                &[("csrf", csrf.as_str()), ("copy_from", &target.to_string())],
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "copy another's assessment");
    }
    // The history shows only B's own.
    let h = b.get("/assessments").await;
    assert!(!h.text.contains(&format!("/assessments/{id}/")));

    // The API, with B's token.
    let tb = token(&app, "b@example.cn").await;
    let http = reqwest::Client::new();
    for target in [id, draft] {
        let base = format!("{}/api/v1/assessments/{target}", app.base);
        let reqs = [
            http.get(&base),
            http.get(format!("{base}/result")),
            http.put(format!("{base}/profile")).json(
                &serde_json::json!({"industry": "C3311", "employees": 5, "revenue": 1000000}),
            ),
            http.put(format!("{base}/answers"))
                .json(&serde_json::json!({})),
            http.post(format!("{base}/complete")),
        ];
        for rq in reqs {
            let r = rq.bearer_auth(&tb).send().await.expect("send");
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            let v: serde_json::Value = r.json().await.expect("json");
            assert_eq!(v["code"], "not_found");
        }
    }
    // Nothing of A's changed.
    let ea = enterprise_of(&app, "a@example.cn").await;
    let d = app.state.store.assessment(ea, draft).await.expect("draft");
    assert_eq!(d.step, 0);
}

#[tokio::test]
async fn security_headers_and_cookie_flags() {
    let app = spawn().await;
    let b = Browser::new(&app);
    for p in ["/", "/static/app.css", "/api/v1/scenarios", "/nope"] {
        let r = b.get(p).await;
        let h = &r.headers;
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(csp.contains("default-src 'self'"), "{p}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(h["x-content-type-options"], "nosniff", "{p}");
        assert_eq!(h["x-frame-options"], "DENY", "{p}");
        assert_eq!(h["referrer-policy"], "same-origin", "{p}");
    }
    // No inline scripts on the result-style pages: only src= scripts and JSON data blocks.
    let home = b.get("/").await;
    assert!(!home.text.contains("<script>"));

    let r = b.signup("Cookie Co", "cookie@example.cn", PASSWORD).await;
    let session = r
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("smedx_session="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"));
    assert!(session.contains("SameSite=Lax"));
    assert!(!session.contains("Secure"));
    // Behind a TLS proxy the cookie is Secure.
    let proxied = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = proxied
        .get(format!("{}/login", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("get");
    let cookie: String = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("smedx_csrf="))
        .expect("csrf cookie")
        .to_string();
    assert!(cookie.contains("Secure"));
    let csrf_value = cookie
        .trim_start_matches("smedx_csrf=")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let r = proxied
        .post(format!("{}/login", app.base))
        .header("x-forwarded-proto", "https")
        .header("cookie", format!("smedx_csrf={csrf_value}"))
        .form(&[
            ("csrf", csrf_value.as_str()),
            ("email", "cookie@example.cn"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        s.iter()
            .any(|c| c.starts_with("smedx_session=") && c.contains("Secure")),
        "{s:?}"
    );
}

#[tokio::test]
async fn secure_cookies_flag_and_body_limit() {
    let app = spawn_with(true).await;
    let b = Browser::new(&app);
    let r = b.get("/login").await;
    assert!(r.cookies().iter().any(|c| c.contains("Secure")));
    let big = "x".repeat(300 * 1024);
    let r = b.post_raw("/signup", &[("enterprise", big.as_str())]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/assess", app.base))
        .header("content-type", "application/json")
        .body(format!("{{\"profile\": \"{big}\"}}"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn administrator_setup_link_user_list_and_password_reset() {
    let app = spawn().await;
    let setup = smedx_web::ensure_admin(&app.state, None, None)
        .await
        .expect("setup");
    let smedx_web::AdminSetup::SetupToken(token) = setup else {
        panic!("expected a setup token, got {setup:?}");
    };
    user(&app, "Member Co", "member@example.cn").await;
    let admin = Browser::new(&app);
    let page = format!("/setup/{token}");
    let r = admin
        .post(
            &page,
            &page,
            &[
                ("email", "admin@example.cn"),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"password\""));
    let r = admin
        .post(
            &page,
            &page,
            &[
                ("email", "admin@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/users");
    // The link works once.
    let again = Browser::new(&app);
    let r = again
        .post(
            &page,
            &page,
            &[
                ("email", "admin2@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        smedx_web::ensure_admin(&app.state, None, None)
            .await
            .expect("exists"),
        smedx_web::AdminSetup::Exists
    );

    let list = admin.get("/admin/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains("member@example.cn"));
    assert!(list.text.contains("Member Co"));
    let member = app
        .state
        .store
        .user_by_email("member@example.cn")
        .await
        .expect("store")
        .expect("member");
    let path = format!("/admin/users/{}/password", member.id);
    let r = admin
        .post("/admin/users", &path, &[("password", "short")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains(&format!("data-field=\"pw_{}\"", member.id)));
    let r = admin
        .post(
            "/admin/users",
            &path,
            &[("password", "a brand new password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let m = Browser::new(&app);
    assert_eq!(
        m.login("member@example.cn", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        m.login("member@example.cn", "a brand new password")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Enterprise users cannot reach the administration.
    assert_eq!(m.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    let r = m
        .post("/assess", &path, &[("password", "another new password")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn administrator_from_the_command_line_needs_a_real_password() {
    let app = spawn().await;
    let weak = smedx_web::ensure_admin(&app.state, Some("root@example.cn"), Some("123")).await;
    assert!(matches!(
        weak,
        Err(smedx_web::SetupError::WeakPassword { .. })
    ));
    let none = smedx_web::ensure_admin(&app.state, Some("root@example.cn"), None).await;
    assert!(matches!(none, Err(smedx_web::SetupError::MissingPassword)));
    let ok = smedx_web::ensure_admin(&app.state, Some("Root@example.cn"), Some(PASSWORD))
        .await
        .expect("created");
    assert_eq!(ok, smedx_web::AdminSetup::Created("root@example.cn".into()));
    let b = Browser::new(&app);
    let r = b.login("root@example.cn", PASSWORD).await;
    assert_eq!(r.location(), "/admin/users");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn().await;
    let b = user(&app, "Bye Co", "bye@example.cn").await;
    assert_eq!(b.get("/assessments").await.status, StatusCode::OK);
    let r = b.post("/assessments", "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/assessments").await.status, StatusCode::SEE_OTHER);
}
