//! Solution providers through the real HTTP server: registration and approval (by an
//! administrator or the authority of the provider's region), product CRUD and every bad product
//! input, matched products on the enterprise's result page in the right order with reasons, a
//! contact request sharing only what the enterprise chose, status on both sides, outcomes that
//! change the ranking, the authority's supply–demand view and exports — and consent: a provider
//! never reaches an enterprise that did not ask, on any provider route.

use reqwest::StatusCode;
use smedx_store::regional::{EnterpriseLocation, NewStaffUser};
use smedx_store::{AuditCtx, Id, Role};

use crate::helpers::{App, Browser, PASSWORD, spawn, user};

fn hash() -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .expect("hash")
        .to_string()
}

async fn staff(app: &App, email: &str, role: Role, region: Option<&str>) -> Browser {
    let pw = hash();
    if role == Role::Admin {
        app.state
            .store
            .create_admin(email, &pw)
            .await
            .expect("admin");
    } else {
        app.state
            .store
            .create_staff_user(
                &NewStaffUser {
                    email,
                    password_hash: &pw,
                    role,
                    region_code: region,
                    cluster_id: None,
                    lang: None,
                },
                1,
                &AuditCtx::default(),
            )
            .await
            .expect("staff");
    }
    let b = Browser::new(app);
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {email}");
    b
}

/// Registers a provider through the sign-up page and logs it in (still pending).
async fn provider(app: &App, email: &str, name: &str, home: &str, regions: &str) -> (Browser, Id) {
    let b = Browser::new(app);
    let r = b
        .post(
            "/providers/signup",
            "/providers/signup",
            &[
                ("name", name),
                ("home_region", home),
                ("regions", regions),
                ("contact", "400-800-0000"),
                ("certifications", "ISO 9001"),
                ("email", email),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("id=\"signup-done\""));
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        "/provider",
        "providers land on their workspace"
    );
    let id = app
        .state
        .store
        .user_by_email(email)
        .await
        .expect("read")
        .expect("provider user")
        .id;
    (b, id)
}

async fn approve(admin: &Browser, id: Id) {
    let r = admin
        .post(
            "/admin/providers",
            &format!("/admin/providers/{id}/decide"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
}

/// A product form: covering `scenario`, fitting `sectors` and small firms, priced per user per
/// month.
fn product<'a>(
    name: &'a str,
    scenario: &'a str,
    sectors: &'a [&'a str],
    size: &'a str,
    min: &'a str,
    max: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", name),
        ("description_zh", "车间数据采集与看板"),
        ("description_en", "Shop-floor data and dashboards"),
        ("scenarios", scenario),
        ("sizes", size),
        ("deployment", "saas"),
        ("price_model", "per_user_month"),
        ("price_min", min),
        ("price_max", max),
        ("golive_weeks", "6"),
        ("levels", "2"),
    ];
    f.extend(sectors.iter().map(|s| ("sectors", *s)));
    f
}

async fn create_product(b: &Browser, form: &[(&str, &str)]) {
    let r = b
        .post("/provider/products/new", "/provider/products", form)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
}

async fn product_ids(app: &App, provider: Id) -> Vec<Id> {
    app.state
        .store
        .products_of(provider)
        .await
        .expect("products")
        .iter()
        .map(|p| p.id)
        .collect()
}

/// An enterprise in Suzhou with a completed assessment of the example firm.
struct Firm {
    b: Browser,
    ent: Id,
    asm: Id,
    /// The first recommended scenario.
    s0: String,
    sector: String,
    size: String,
}

async fn assessed_firm(app: &App, name: &str, email: &str) -> Firm {
    let b = user(app, name, email).await;
    let ent = app
        .state
        .store
        .user_by_email(email)
        .await
        .expect("read")
        .and_then(|u| u.enterprise_id)
        .expect("enterprise");
    app.state
        .store
        .set_enterprise_location(
            ent,
            &EnterpriseLocation {
                region_code: Some("320506"),
                cluster_id: None,
                credit_code: None,
            },
        )
        .await
        .expect("location");
    let id = b.start_assessment().await;
    let r = b.complete_wizard(id, "2").await;
    assert_eq!(r.status, StatusCode::OK);
    let a = app
        .state
        .store
        .assessment(ent, id)
        .await
        .expect("assessment");
    let result = a.result.expect("result");
    let first = result["recommendations"][0]["scenario"]
        .as_str()
        .expect("a recommendation")
        .to_owned();
    let sector = result["classification"]["sector"]
        .as_str()
        .unwrap_or("metal")
        .to_owned();
    let size = result["classification"]["size"]["size_class"]
        .as_str()
        .unwrap_or("small")
        .to_owned();
    Firm {
        b,
        ent,
        asm: id,
        s0: first,
        sector,
        size,
    }
}

/// The product ids in the order the result page lists them under `scenario`.
fn listed(html: &str, scenario: &str) -> Vec<Id> {
    let start = html
        .find(&format!("id=\"match-{scenario}\""))
        .unwrap_or_else(|| panic!("no matches for {scenario}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("<h3 id=\"match-")
        .map_or(rest.len(), |e| e + 1);
    rest[..end]
        .split("data-product=\"")
        .skip(1)
        .filter_map(|p| p.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn register_approve_list_match_contact_and_report_outcomes() {
    let app = spawn().await;
    let admin = staff(&app, "admin@smedx.test", Role::Admin, None).await;
    let suzhou = staff(&app, "sz@gov.test", Role::Authority, Some("320500")).await;
    let beijing = staff(&app, "bj@gov.test", Role::Authority, Some("110000")).await;

    // A sign-up with a bad region code and mismatched passwords is refused, field by field.
    let anon = Browser::new(&app);
    let r = anon
        .post(
            "/providers/signup",
            "/providers/signup",
            &[
                ("name", "坏服务商"),
                ("home_region", "3205"),
                ("regions", "320000, abc"),
                ("contact", ""),
                ("email", "bad@p.test"),
                ("password", PASSWORD),
                ("confirm", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["home_region", "regions", "contact", "confirm"] {
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{field}"
        );
    }
    assert!(
        app.state
            .store
            .user_by_email("bad@p.test")
            .await
            .expect("read")
            .is_none()
    );

    let (pa, a_id) = provider(&app, "a@p.test", "苏州智造服务", "320500", "320000").await;
    let (pb, b_id) = provider(&app, "b@p.test", "京工云", "110000", "").await;

    // Pending: nothing but the status.
    let r = pa.get("/provider").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("id=\"account-status\""));
    assert!(!r.text.contains("id=\"products\""));
    assert_eq!(
        pa.get("/provider/products/new").await.status,
        StatusCode::FORBIDDEN
    );

    // The Beijing authority neither sees nor decides on a Suzhou provider; Suzhou's does.
    let r = beijing.get("/admin/providers").await;
    assert!(!r.text.contains("苏州智造服务"));
    let r = beijing
        .post(
            "/admin/providers",
            &format!("/admin/providers/{a_id}/decide"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        suzhou
            .get("/admin/providers")
            .await
            .text
            .contains("苏州智造服务")
    );
    approve(&suzhou, a_id).await;
    approve(&admin, b_id).await;
    let r = pa.get("/provider").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("id=\"no-leads\"") && r.text.contains("id=\"no-products\""));

    // The profile: a bad region code is refused on its field; a good edit is saved.
    let mut profile = vec![
        ("name", "苏州智造服务"),
        ("home_region", "32050X"),
        ("regions", "320000"),
        ("contact", "400-800-0000"),
        ("certifications", ""),
    ];
    let r = pa.post("/provider", "/provider/profile", &profile).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"home_region\""));
    profile[1] = ("home_region", "320500");
    profile[4] = ("certifications", "ISO 9001, ISO 27001");
    let r = pa.post("/provider", "/provider/profile", &profile).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(pa.get("/provider?saved=1").await.text.contains("ISO 27001"));
    // A decision other than approve or reject is refused.
    let r = admin
        .post(
            "/admin/providers",
            &format!("/admin/providers/{a_id}/decide"),
            &[("decision", "maybe")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A provider account an administrator created gives its profile, then waits for approval.
    let made = staff(&app, "made@p.test", Role::Provider, None).await;
    let r = made.get("/provider").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("id=\"complete-profile\""));
    let mut form = profile.clone();
    form[1] = ("home_region", "");
    let r = made.post("/provider", "/provider/profile", &form).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"home_region\""));
    let r = made.post("/provider", "/provider/profile", &profile).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(made.get("/provider").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        made.get("/provider/products/new").await.status,
        StatusCode::FORBIDDEN
    );

    // The enterprise and what it was recommended.
    let Firm {
        b: ent,
        ent: ent_id,
        asm,
        s0,
        sector,
        size,
    } = assessed_firm(&app, "吴江精密五金", "boss@wj.test").await;
    let fit = [sector.as_str()];

    // Every bad product input: a translated error on its field, nothing stored.
    let good = product("看板 A", &s0, &fit, &size, "100", "200");
    let with = |k: &'static str, v: &'static str| -> Vec<(&str, &str)> {
        let mut f: Vec<(&str, &str)> = good.iter().filter(|(n, _)| *n != k).copied().collect();
        f.push((k, v));
        f
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with("scenarios", "no.such.scenario"), "scenarios"),
        (
            good.iter()
                .filter(|(n, _)| *n != "scenarios")
                .copied()
                .collect(),
            "scenarios",
        ),
        (with("price_min", ""), "price_min"),
        (with("price_max", "abc"), "price_max"),
        (with("price_min", "900"), "price_max"),
        (with("name", " "), "name"),
        (with("deployment", "cloud"), "deployment"),
        (with("price_model", "per_hour"), "price_model"),
        (with("golive_weeks", "0"), "golive_weeks"),
        (with("sectors", "nowhere"), "sectors"),
        (with("levels", "9"), "levels"),
    ];
    for (form, field) in &cases {
        let r = pa
            .post("/provider/products/new", "/provider/products", form)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{field}: {}",
            r.text
        );
    }
    assert!(product_ids(&app, a_id).await.is_empty());
    // In English too.
    let r = pa
        .post(
            "/provider/products/new?lang=en",
            "/provider/products?lang=en",
            &with("scenarios", "no.such.scenario"),
        )
        .await;
    assert!(r.text.contains("no such scenario in the knowledge base"));
    pa.get("/provider?lang=zh").await;

    // A: a full fit in its region; another product for other sectors, over the budget.
    create_product(&pa, &product("看板 A", &s0, &fit, &size, "100", "200")).await;
    create_product(
        &pa,
        &product("重型 MES", &s0, &["cement"], &size, "90000", "120000"),
    )
    .await;
    // B: the same fit, nationwide and cheaper.
    create_product(&pb, &product("云看板 B", &s0, &fit, &size, "50", "100")).await;
    let a_ids = product_ids(&app, a_id).await;
    let (p1, p2) = (a_ids[0], a_ids[1]);
    let p3 = product_ids(&app, b_id).await[0];

    // Editing: the form shows the product; another provider's product is not found.
    let r = pa.get(&format!("/provider/products/{p1}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("看板 A"));
    let edit = product("看板 A+", &s0, &fit, &size, "100", "200");
    let r = pa
        .post(
            &format!("/provider/products/{p1}"),
            &format!("/provider/products/{p1}"),
            &edit,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        pb.get(&format!("/provider/products/{p1}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The result page: the products of the first scenario, best fit first, with reasons.
    let page = ent.get(&format!("/assessments/{asm}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("id=\"providers\""));
    assert_eq!(listed(&page.text, &s0), [p3, p1, p2]);
    assert!(page.text.contains("看板 A+"));
    assert!(page.text.contains("服务商覆盖贵企业所在地区"));
    assert!(page.text.contains("主要面向其他细分行业，排序靠后"));
    assert!(page.text.contains("超出预算"));
    let en = ent.get(&format!("/assessments/{asm}?lang=en")).await;
    assert!(en.text.contains("the provider serves your region"));
    ent.get("/assessments?lang=zh").await;

    // A budget stated on the result page replaces the profile's: at 2 000 yuan only the lower
    // end of A's range (1 200 to 2 400 yuan a year per user) fits.
    let r = ent
        .post(
            &format!("/assessments/{asm}"),
            &format!("/assessments/{asm}/budget"),
            &[("budget_wan", "0.2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = ent.get(&format!("/assessments/{asm}")).await;
    assert!(
        page.text.contains("高配可能超出"),
        "{}",
        &page.text[page.text.find("id=\"providers\"").unwrap_or(0)..]
    );
    let r = ent
        .post(
            &format!("/assessments/{asm}"),
            &format!("/assessments/{asm}/budget"),
            &[("budget_wan", "lots")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = ent
        .post(
            &format!("/assessments/{asm}"),
            &format!("/assessments/{asm}/budget"),
            &[("budget_wan", ""), ("clear", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.state
            .store
            .matching_budget(ent_id)
            .await
            .expect("budget"),
        None
    );

    // Contact request: without agreeing nothing is sent; then only the level is shared.
    let contact = format!("/assessments/{asm}/contact/{p1}?scenario={s0}");
    let form_page = ent.get(&contact).await;
    assert_eq!(form_page.status, StatusCode::OK);
    let r = ent
        .post(
            &contact,
            &format!("/assessments/{asm}/contact/{p1}"),
            &[
                ("scenario", s0.as_str()),
                ("share_level", "1"),
                ("contact", "张经理 13800000000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("data-field=\"consent\""));
    assert_eq!(
        pa.get("/provider")
            .await
            .text
            .matches("/provider/leads/")
            .count(),
        0
    );
    let r = ent
        .post(
            &contact,
            &format!("/assessments/{asm}/contact/{p1}"),
            &[
                ("scenario", s0.as_str()),
                ("share_level", "1"),
                ("contact", "张经理 13800000000"),
                ("message", "请介绍一下实施周期"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), "/leads?sent=1");
    // Asking twice about the same product is refused.
    let r = ent
        .post(
            &contact,
            &format!("/assessments/{asm}/contact/{p1}"),
            &[
                ("scenario", s0.as_str()),
                ("contact", "x"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The provider sees exactly what was shared: contact, message, level — not the name, the
    // profile or the recommendations.
    let (leads, _) = app
        .state
        .store
        .provider_leads(a_id, smedx_store::Page::default())
        .await
        .expect("leads");
    let lead = leads[0].id;
    let r = pa.get(&format!("/provider/leads/{lead}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("张经理 13800000000"));
    assert!(r.text.contains("请介绍一下实施周期"));
    assert!(r.text.contains("id=\"shared-level\""));
    assert!(!r.text.contains("id=\"shared-profile\""));
    assert!(!r.text.contains("id=\"shared-recs\""));
    assert!(!r.text.contains("吴江精密五金"));
    assert!(!r.text.contains("boss@wj.test"));

    // Status: the provider moves it, both see it; an unknown status is refused.
    let r = pa
        .post(
            &format!("/provider/leads/{lead}"),
            &format!("/provider/leads/{lead}/status"),
            &[("status", "proposal")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        pa.get(&format!("/provider/leads/{lead}"))
            .await
            .text
            .contains("已提交方案")
    );
    let r = pa
        .post(
            &format!("/provider/leads/{lead}"),
            &format!("/provider/leads/{lead}/status"),
            &[("status", "archived")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let mine = ent.get("/leads").await;
    assert!(mine.text.contains("已提交方案"));
    assert!(mine.text.contains("看板 A+"));
    let page = ent.get(&format!("/assessments/{asm}")).await;
    assert!(page.text.contains("已请求联系"));

    // Outcomes: bad forms store nothing; a project that went live lifts A's product above B's.
    for (form, field) in [
        (
            vec![("kpi0_name", "合格率"), ("kpi0_before", "95")],
            "went_live",
        ),
        (
            vec![
                ("went_live", "1"),
                ("kpi0_name", "合格率"),
                ("kpi0_before", "95"),
            ],
            "kpi0",
        ),
        (
            vec![
                ("went_live", "1"),
                ("kpi1_before", "abc"),
                ("kpi1_after", "3"),
            ],
            "kpi1",
        ),
    ] {
        let r = ent
            .post("/leads", &format!("/leads/{lead}/outcome"), &form)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{field}"
        );
    }
    assert!(
        app.state
            .store
            .enterprise_lead(ent_id, lead)
            .await
            .expect("lead")
            .outcome
            .is_none()
    );
    let r = ent
        .post(
            "/leads",
            &format!("/leads/{lead}/outcome"),
            &[
                ("went_live", "1"),
                ("kpi0_name", "产品合格率（%）"),
                ("kpi0_before", "95.2"),
                ("kpi0_after", "98.6"),
                ("kpi1_name", "准时交付率（%）"),
                ("kpi1_before", ""),
                ("kpi1_after", ""),
                ("note", "三个月上线"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let mine = ent.get("/leads").await;
    assert!(mine.text.contains("98.6") && mine.text.contains("已上线"));
    let page = ent.get(&format!("/assessments/{asm}")).await;
    assert_eq!(listed(&page.text, &s0), [p1, p3, p2]);
    assert!(
        page.text
            .contains("其他企业反馈的 1 个项目中有 1 个成功上线")
    );

    // The authority's view: Suzhou's demand against the products serving it; exports.
    let r = suzhou.get("/region/supply").await;
    assert_eq!(r.status, StatusCode::OK);
    let row = r
        .text
        .split(&format!("data-scenario=\"{s0}\""))
        .nth(1)
        .expect("the scenario's row");
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(1)
        .take(3)
        .map(|c| c.split('<').next().unwrap_or(""))
        .collect();
    assert_eq!(cells, ["1", "3", "2"], "demand, products, providers");
    assert!(r.text.contains("苏州智造服务"));
    // One segment: the firm's sub-sector and size — its demand, the products fitting it.
    let seg = suzhou
        .get(&format!("/region/supply?sector={sector}&size={size}"))
        .await;
    let row = seg
        .text
        .split(&format!("data-scenario=\"{s0}\""))
        .nth(1)
        .expect("the scenario's row in the segment");
    let cells: Vec<&str> = row
        .split("<td>")
        .skip(1)
        .take(3)
        .map(|c| c.split('<').next().unwrap_or(""))
        .collect();
    assert_eq!(cells, ["1", "2", "2"], "the cement product does not fit");
    let other = suzhou.get("/region/supply?sector=cement").await;
    assert!(other.text.contains("0 家企业有评估结果"));
    assert_eq!(
        suzhou.get("/region/supply?size=huge").await.status,
        StatusCode::NOT_FOUND
    );
    let seg_csv = suzhou
        .get(&format!(
            "/region/supply/export/supply.csv?sector={sector}&size={size}"
        ))
        .await;
    assert_eq!(seg_csv.status, StatusCode::OK);
    let csv = suzhou.get("/region/supply/export/supply.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    assert!(csv.text.contains(&s0));
    assert!(csv.text.contains("需求企业数"));
    let xlsx = suzhou.get("/region/supply/export/supply.xlsx").await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(
        xlsx.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .contains("spreadsheetml")
    );
    assert_eq!(
        suzhou.get("/region/supply/export/other.pdf").await.status,
        StatusCode::NOT_FOUND
    );
    let bj = beijing.get("/region/supply").await;
    assert!(
        bj.text.contains("0 家企业有评估结果"),
        "Beijing has no demand"
    );
    for b in [&ent, &pa] {
        assert_eq!(b.get("/region/supply").await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            b.get("/region/supply/export/supply.csv").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            b.get("/admin/providers").await.status,
            StatusCode::FORBIDDEN
        );
    }

    // Deleting a product takes it off the result page; the lead stays.
    let r = pb
        .post("/provider", &format!("/provider/products/{p3}/delete"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = ent.get(&format!("/assessments/{asm}")).await;
    assert_eq!(listed(&page.text, &s0), [p1, p2]);
    assert!(ent.get("/leads").await.text.contains("看板 A+"));

    // The audit log has the approvals, the request (consent), the status change and the outcome.
    let (entries, _) = app
        .state
        .store
        .list_audit(smedx_store::Page {
            offset: 0,
            limit: 200,
        })
        .await
        .expect("audit");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "provider_approved",
        "lead_requested",
        "lead_status_changed",
        "outcome_recorded",
    ] {
        assert!(actions.contains(&a), "{a}");
    }
}

/// Every provider route, called by another provider with the ids of a lead it was not sent, of
/// an enterprise that never asked, and of others' products: 404. Pending providers get 403
/// everywhere; enterprises and anonymous visitors do not reach provider pages.
#[tokio::test]
async fn a_provider_never_sees_an_enterprise_that_did_not_ask() {
    let app = spawn().await;
    let admin = staff(&app, "admin@smedx.test", Role::Admin, None).await;
    let (pa, a_id) = provider(&app, "a@p.test", "甲服务商", "320500", "").await;
    let (pc, c_id) = provider(&app, "c@p.test", "丙服务商", "320500", "").await;
    let (pd, _) = provider(&app, "d@p.test", "丁服务商（待审）", "320500", "").await;
    approve(&admin, a_id).await;
    approve(&admin, c_id).await;

    let one = assessed_firm(&app, "请求企业", "one@firm.test").await;
    let two = assessed_firm(&app, "沉默企业", "two@firm.test").await;
    let (e1, asm1, s0) = (&one.b, one.asm, one.s0.clone());
    let (e2, e2_id, asm2) = (&two.b, two.ent, two.asm);
    create_product(&pa, &product("甲看板", &s0, &[], "", "10", "20")).await;
    let pid = product_ids(&app, a_id).await[0];

    // Both enterprises see the product; only the first asks.
    assert!(
        e2.get(&format!("/assessments/{asm2}"))
            .await
            .text
            .contains("甲看板")
    );
    let r = e1
        .post(
            &format!("/assessments/{asm1}/contact/{pid}"),
            &format!("/assessments/{asm1}/contact/{pid}"),
            &[
                ("scenario", s0.as_str()),
                ("share_profile", "1"),
                ("share_level", "1"),
                ("share_recs", "1"),
                ("contact", "one@firm.test"),
                ("consent", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let lead = app
        .state
        .store
        .provider_leads(a_id, smedx_store::Page::default())
        .await
        .expect("leads")
        .0[0]
        .id;
    // With everything shared, the provider addressed sees the profile and recommendations.
    let r = pa.get(&format!("/provider/leads/{lead}")).await;
    assert!(r.text.contains("id=\"shared-profile\"") && r.text.contains("id=\"shared-recs\""));

    // Nothing of the silent enterprise anywhere in A's workspace.
    let ws = pa.get("/provider").await;
    assert!(!ws.text.contains("沉默企业") && !ws.text.contains("two@firm.test"));
    assert_eq!(ws.text.matches("href=\"/provider/leads/").count(), 1);

    // Ids that are not leads addressed to the caller: the other provider's lead, the silent
    // enterprise's id and assessment id, made-up ids.
    let foreign: Vec<(&Browser, Id)> = vec![
        (&pc, lead),
        (&pa, e2_id),
        (&pa, asm2),
        (&pa, 999_999),
        (&pa, -1),
    ];
    for (b, id) in &foreign {
        let get = b.get(&format!("/provider/leads/{id}")).await;
        assert_eq!(get.status, StatusCode::NOT_FOUND, "GET lead {id}");
        assert!(!get.text.contains("请求企业") && !get.text.contains("沉默企业"));
        let post = b
            .post(
                "/provider",
                &format!("/provider/leads/{id}/status"),
                &[("status", "won")],
            )
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND, "POST status {id}");
    }
    assert_eq!(
        app.state
            .store
            .provider_lead(a_id, lead)
            .await
            .expect("lead")
            .status,
        smedx_store::providers::LeadStatus::New,
        "the other provider changed nothing"
    );
    // Another provider's product, on every product route.
    let pform = product("改名", &s0, &[], "", "1", "2");
    assert_eq!(
        pc.get(&format!("/provider/products/{pid}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = pc
        .post("/provider", &format!("/provider/products/{pid}"), &pform)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = pc
        .post(
            "/provider",
            &format!("/provider/products/{pid}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(product_ids(&app, a_id).await, [pid]);
    let ws = pc.get("/provider").await;
    assert!(ws.text.contains("id=\"no-leads\""));
    assert!(!ws.text.contains("请求企业") && !ws.text.contains("one@firm.test"));

    // A pending provider gets nothing, even with real ids.
    let routes_get = [
        "/provider/products/new".to_owned(),
        format!("/provider/products/{pid}"),
        format!("/provider/leads/{lead}"),
    ];
    let r = pd.get("/provider").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!r.text.contains("请求企业"));
    for path in &routes_get {
        assert_eq!(pd.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let routes_post: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/provider/profile".into(), vec![("name", "x")]),
        ("/provider/products".into(), pform.clone()),
        (format!("/provider/products/{pid}"), pform.clone()),
        (format!("/provider/products/{pid}/delete"), vec![]),
        (
            format!("/provider/leads/{lead}/status"),
            vec![("status", "won")],
        ),
    ];
    for (path, form) in &routes_post {
        assert_eq!(
            pd.post("/provider", path, form).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }

    // Enterprises do not reach provider pages; anonymous visitors are sent to log in.
    for path in routes_get
        .iter()
        .chain(std::iter::once(&"/provider".to_owned()))
    {
        assert_eq!(e1.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
        let anon = Browser::new(&app).get(path).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER, "{path}");
        assert!(anon.location().starts_with("/login"));
    }
    // Providers do not reach the enterprise's side.
    for path in [
        "/leads".to_owned(),
        format!("/assessments/{asm1}/contact/{pid}"),
    ] {
        assert_eq!(pa.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    // The silent enterprise cannot touch the other's lead or contact through its assessment.
    let r = e2
        .post(
            "/leads",
            &format!("/leads/{lead}/outcome"),
            &[("went_live", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        e2.get(&format!("/assessments/{asm1}/contact/{pid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!e2.get("/leads").await.text.contains("甲看板"));
    let (_, n) = app
        .state
        .store
        .enterprise_leads(e2_id, smedx_store::Page::default())
        .await
        .expect("leads");
    assert_eq!(n, 0);
}
