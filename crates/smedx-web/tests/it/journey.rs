//! The enterprise user's journeys through the pages.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn signup_wizard_result_report_reassess_compare() {
    let app = spawn().await;
    let b = user(&app, "某某精密五金", "owner@example.cn").await;

    // The home page's button leads to the wizard's start page.
    let home = b.get("/").await;
    assert!(home.text.contains("href=\"/assess\""));
    let start = b.get("/assess").await;
    assert_eq!(start.status, StatusCode::OK);
    let id = b.start_assessment().await;

    // Step 1 is prefilled with the enterprise name.
    let s1 = b.get(&format!("/assessments/{id}/step/1")).await;
    assert!(s1.text.contains("value=\"某某精密五金\""), "{}", s1.text);
    assert!(s1.text.contains("<datalist id=\"industry-list\">"));
    assert!(s1.text.contains("<progress"));

    let result = b.complete_wizard(id, "2").await;
    assert_eq!(result.status, StatusCode::OK);
    let t = &result.text;
    assert!(t.contains("一级"), "level shown");
    assert!(t.contains("44.5"), "score shown");
    assert!(t.contains("距离二级还差什么"), "gap shown");
    assert!(t.contains("推荐场景"), "recommendations shown");
    assert!(t.contains("<mark>"), "pain-point words highlighted");
    assert!(t.contains("id=\"chart-data\""), "chart data embedded");
    assert!(t.contains("/static/vendor/echarts.min.js"));
    assert!(
        t.contains("安全基线"),
        "security baseline for weak security answers"
    );
    assert!(t.contains("实施路线图"));
    assert!(t.contains("同行案例"));

    // The printable report.
    let report = b.get(&format!("/assessments/{id}/report")).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.text.contains("数字化转型诊断报告"));
    assert!(report.text.contains("某某精密五金"));
    assert!(report.text.contains("data-print"));
    assert!(report.text.contains("另存为 PDF"));

    // Re-assess: a new draft prefilled with the last answers.
    let page = format!("/assessments/{id}");
    let r = b
        .post(&page, &format!("/assessments/{id}/reassess"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id2 = id_from(&r.location());
    assert_ne!(id, id2);
    let s1 = b.get(&format!("/assessments/{id2}/step/1")).await;
    assert!(s1.text.contains("value=\"C3311\""), "industry prefilled");
    assert!(
        s1.text.contains("value=\"3200\""),
        "revenue prefilled in 万元"
    );
    // Each step is shown again, prefilled; saving step 1 as it is opens step 2.
    let forms = wizard_forms("2");
    assert_eq!(
        b.step(id2, 1, &forms[0]).await.status,
        StatusCode::SEE_OTHER
    );
    let s2 = b.get(&format!("/assessments/{id2}/step/2")).await;
    assert!(
        s2.text.contains("value=\"application_network\" checked"),
        "answers prefilled"
    );
    let result2 = b.complete_wizard(id2, "3").await;
    assert_eq!(result2.status, StatusCode::OK);

    // History lists both; compare shows what changed.
    let h = b.get("/assessments").await;
    assert!(h.text.contains(&format!("/assessments/{id}/report")));
    assert!(h.text.contains(&format!("/assessments/{id2}/report")));
    let c = b.get(&format!("/assessments/compare?a={id2}&b={id}")).await;
    assert_eq!(c.status, StatusCode::OK);
    assert!(c.text.contains("生产管控：2 级 → 3 级"), "{}", c.text);

    // A completed assessment's wizard goes to the result.
    let w = b.get(&format!("/assessments/{id}/step/3")).await;
    assert_eq!(w.status, StatusCode::SEE_OTHER);
    assert_eq!(w.location(), format!("/assessments/{id}"));
}

#[tokio::test]
async fn leaving_mid_wizard_resumes_where_it_stopped() {
    let app = spawn().await;
    let b = user(&app, "Resume Co", "resume@example.cn").await;
    let id = b.start_assessment().await;
    let forms = wizard_forms("2");
    for n in 1..=2u8 {
        let r = b.step(id, n, &forms[usize::from(n - 1)]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    // Later, on another device.
    let other = Browser::new(&app);
    assert_eq!(
        other.login("resume@example.cn", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let r = other.get("/assess").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/assessments/{id}/step/3"));
    let s2 = other.get(&format!("/assessments/{id}/step/2")).await;
    assert!(s2.text.contains("value=\"14\""));
    assert!(s2.text.contains("value=\"multiple\" checked"));
    // Steps cannot be skipped.
    let s5 = other.get(&format!("/assessments/{id}/step/5")).await;
    assert_eq!(s5.location(), format!("/assessments/{id}/step/3"));
}

#[tokio::test]
async fn invalid_steps_show_errors_next_to_fields_and_do_not_advance() {
    let app = spawn().await;
    let b = user(&app, "Typo Co", "typo@example.cn").await;
    let id = b.start_assessment().await;
    let r = b
        .step(
            id,
            1,
            &[
                ("industry", "X99zz"),
                ("employees", "abc"),
                ("revenue_wan", "3200"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"industry\""), "{}", r.text);
    assert!(r.text.contains("data-field=\"employees\""));
    assert!(r.text.contains("value=\"X99zz\""), "typed value kept");
    let a = app
        .state
        .store
        .assessment(enterprise_of(&app, "typo@example.cn").await, id)
        .await
        .expect("assessment");
    assert_eq!(a.step, 0, "nothing saved");
    let s2 = b.get(&format!("/assessments/{id}/step/2")).await;
    assert_eq!(s2.location(), format!("/assessments/{id}/step/1"));

    // A size rule that needs assets (construction) names the assets field.
    let r = b
        .step(
            id,
            1,
            &[
                ("industry", "E47"),
                ("employees", "20"),
                ("revenue_wan", "300"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"assets_wan\""), "{}", r.text);

    // A valid step 1, then bad figures in step 2.
    let forms = wizard_forms("2");
    assert_eq!(b.step(id, 1, &forms[0]).await.status, StatusCode::SEE_OTHER);
    let r = b
        .step(
            id,
            2,
            &[
                ("equipment_digital.digital", "many"),
                ("equipment_digital.total", "40"),
                ("equipment_networked.networked", "6"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"equipment_digital\""));
    assert!(
        r.text.contains("data-field=\"equipment_networked\""),
        "missing total named"
    );
    let a = app
        .state
        .store
        .assessment(enterprise_of(&app, "typo@example.cn").await, id)
        .await
        .expect("assessment");
    assert_eq!(a.step, 1);
    assert!(a.answers.get("equipment_digital").is_none());

    // Step 6: a budget that is not a number.
    for n in 2..=5u8 {
        assert_eq!(
            b.step(id, n, &forms[usize::from(n - 1)]).await.status,
            StatusCode::SEE_OTHER
        );
    }
    let r = b.step(id, 6, &[("budget_wan", "lots")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"budget_wan\""));
}

pub async fn enterprise_of(app: &App, email: &str) -> i64 {
    app.state
        .store
        .user_by_email(email)
        .await
        .expect("store")
        .and_then(|u| u.enterprise_id)
        .expect("enterprise user")
}

#[tokio::test]
async fn knowledge_pages_and_search_need_no_account() {
    let app = spawn().await;
    let b = Browser::new(&app);
    for p in [
        "/",
        "/scenarios",
        "/scenarios/pl.transparency",
        "/sectors",
        "/cases",
    ] {
        assert_eq!(b.get(p).await.status, StatusCode::OK, "{p}");
    }
    let s = b.get("/scenarios/pl.transparency").await;
    assert!(s.text.contains("现场透明化管理"));
    assert!(s.text.contains("用过这个场景的企业"));
    assert_eq!(
        b.get("/scenarios/no.such").await.status,
        StatusCode::NOT_FOUND
    );
    let r = b.get("/search?q=设备经常停机，交期总是延误").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<mark>"), "{}", r.text);
    assert!(r.text.contains("/scenarios/"));
    // Pages that need an account send visitors to log in and come back.
    let r = b.get("/assess").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login?next=%2Fassess");
}

#[tokio::test]
async fn colleagues_share_the_enterprise() {
    let app = spawn().await;
    let a = user(&app, "Shared Co", "boss@example.cn").await;
    let id = a.start_assessment().await;
    let r = a
        .post(
            "/account",
            "/account/users",
            &[
                ("email", "colleague@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("colleague@example.cn"));
    let c = Browser::new(&app);
    assert_eq!(
        c.login("colleague@example.cn", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        c.get(&format!("/assessments/{id}/step/1")).await.status,
        StatusCode::OK
    );
    // A taken e-mail is refused next to the field.
    let r = a
        .post(
            "/account",
            "/account/users",
            &[
                ("email", "colleague@example.cn"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"email\""));
}
