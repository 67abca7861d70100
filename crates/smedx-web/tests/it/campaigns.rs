//! Campaigns through HTTP: an authority creates one (every invalid field answered next to the
//! field, in both languages, nothing stored), gets the invitation link, code and QR code;
//! enterprises join by link and by code (visitors log in or sign up first and come back), see
//! who can see their data and withdraw; the authority sees its members by status and reminds
//! the stuck ones, whose inboxes alone get the message; another city's authority gets 404.
//! Also the staff administration pages (clusters and staff accounts).

use reqwest::StatusCode;
use smedx_store::regional::{NewCampaign, NewStaffUser};
use smedx_store::scope::days_from_civil;
use smedx_store::{AuditCtx, Id, Page, Role, Scope};

use crate::helpers::{self, App, Browser, PASSWORD};

pub const ADMIN: &str = "admin@smedx.test";
pub const SUZHOU: &str = "gov@suzhou.test";
pub const NANJING: &str = "gov@nanjing.test";
pub const JIANGSU: &str = "gov@jiangsu.test";
pub const PROVIDER: &str = "sales@provider.test";

pub fn hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("hash")
        .to_string()
}

/// An app with an administrator, the authorities of Suzhou, Nanjing and Jiangsu and a provider.
pub async fn world() -> App {
    let app = helpers::spawn().await;
    smedx_web::ensure_admin(&app.state, Some(ADMIN), Some(PASSWORD))
        .await
        .expect("admin");
    let pw = hash(PASSWORD);
    for (email, role, region) in [
        (SUZHOU, Role::Authority, Some("320500")),
        (NANJING, Role::Authority, Some("320100")),
        (JIANGSU, Role::Authority, Some("320000")),
        (PROVIDER, Role::Provider, None),
    ] {
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
            .expect("staff user");
    }
    app
}

pub async fn login(app: &App, email: &str) -> Browser {
    let b = Browser::new(app);
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {email}: {}", r.text);
    b
}

fn campaign_id(location: &str) -> Id {
    location
        .strip_prefix("/campaigns/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a campaign location: {location}"))
}

fn today() -> String {
    smedx_store::scope::date_text(smedx_web_now())
}

fn smedx_web_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

const YEAR_END: &str = "2099-12-31";

/// Creates a campaign through the form; returns its id.
async fn create(b: &Browser, name: &str) -> Id {
    let start = today();
    let r = b
        .post(
            "/campaigns/new",
            "/campaigns/new",
            &[
                ("name", name),
                ("starts_on", &start),
                ("ends_on", YEAR_END),
                ("sectors", "auto_parts"),
                ("sectors", "pcb"),
                ("level", "2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    campaign_id(&r.location())
}

async fn campaigns_in(app: &App, scope: &Scope) -> i64 {
    app.state
        .store
        .campaigns(scope, Page::default())
        .await
        .expect("campaigns")
        .1
}

#[tokio::test]
async fn an_authority_creates_a_campaign_and_every_invalid_field_is_explained() {
    let app = world().await;
    let gov = login(&app, SUZHOU).await;

    let r = gov.get("/campaigns").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("还没有活动"), "empty state: {}", r.text);

    // Who else may come in: visitors log in first; enterprise and provider users are refused.
    let r = Browser::new(&app).get("/campaigns").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login?next="), "{}", r.location());
    let firm = helpers::user(&app, "苏州甲精密", "owner@jia.test").await;
    assert_eq!(firm.get("/campaigns").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        firm.get("/campaigns/new").await.status,
        StatusCode::FORBIDDEN
    );
    let provider = login(&app, PROVIDER).await;
    assert_eq!(
        provider.get("/campaigns").await.status,
        StatusCode::FORBIDDEN
    );

    let form = gov.get("/campaigns/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.text.contains("value=\"auto_parts\""),
        "KB sectors offered"
    );
    assert!(form.text.contains("二级"), "levels named");

    // Every invalid field: 422, the message next to the field, nothing stored.
    let start = today();
    let long = "名".repeat(201);
    // (fields changed, the field that gets the message, the message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("name", "  ")], "name", "请填写活动名称"),
        (vec![("name", long.as_str())], "name", "不能超过 200 个字"),
        (vec![("starts_on", "2026-02-30")], "starts_on", "有效日期"),
        (vec![("ends_on", "soon")], "ends_on", "有效日期"),
        (
            vec![("ends_on", "2000-01-01")],
            "ends_on",
            "不能早于开始日期",
        ),
        (vec![("sectors", "C99")], "sectors", "“C99”不是已知的行业"),
        (vec![("level", "5")], "level", "一级到四级"),
        (vec![("region", "32O500")], "region", "6 位数字"),
        (vec![("region", "320100")], "region", "不在您的管辖范围内"),
    ];
    for (changes, field, message) in &cases {
        let mut form: Vec<(&str, &str)> = vec![
            ("name", "2026 试点"),
            ("starts_on", &start),
            ("ends_on", YEAR_END),
            ("level", "2"),
        ];
        for (k, v) in changes {
            form.retain(|(n, _)| n != k);
            form.push((k, v));
        }
        let r = gov.post("/campaigns/new", "/campaigns/new", &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{changes:?}");
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")) && r.text.contains(message),
            "{changes:?}: expected {message:?} at {field}: {}",
            r.text
        );
    }
    assert_eq!(campaigns_in(&app, &Scope::All).await, 0, "nothing stored");

    // The same in English.
    let r = gov
        .post(
            "/campaigns/new?lang=en",
            "/campaigns/new?lang=en",
            &[
                ("name", ""),
                ("starts_on", "2026-13-01"),
                ("ends_on", YEAR_END),
                ("level", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in [
        "Enter a campaign name.",
        "Enter a valid date (YYYY-MM-DD).",
        "Choose a target level from 1 to 4.",
    ] {
        assert!(r.text.contains(m), "{m}: {}", r.text);
    }
    gov.get("/campaigns?lang=zh").await;

    // A valid campaign: the invitation link (absolute, from the request's host), the code and
    // the QR code.
    let id = create(&gov, "2026 试点：达到二级").await;
    let stored = app
        .state
        .store
        .campaign(&Scope::All, id)
        .await
        .expect("stored");
    assert_eq!(stored.target_sectors, vec!["auto_parts", "pcb"]);
    assert_eq!(stored.target_level, 2);
    assert_eq!(stored.region_code, "320500");
    let page = gov.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let link = format!("{}/join/{}", app.base, stored.invite_code);
    assert!(
        page.text.contains(&format!("href=\"{link}\"")),
        "link: {}",
        page.text
    );
    assert!(page.text.contains(&stored.invite_code));
    assert!(
        page.text.contains("<svg") && page.text.contains("<path"),
        "QR code"
    );
    assert!(page.text.contains("二级"));
    assert!(page.text.contains("暂无企业"), "no members yet");
    let list = gov.get("/campaigns").await;
    assert!(list.text.contains("2026 试点：达到二级"));

    // Another city's authority: 404 on the page and the reminder; the province sees it.
    let nanjing = login(&app, NANJING).await;
    assert_eq!(
        nanjing.get(&format!("/campaigns/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = nanjing
        .post(
            "/campaigns",
            &format!("/campaigns/{id}/remind"),
            &[("message", "hello")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!nanjing.get("/campaigns").await.text.contains("2026 试点"));
    let jiangsu = login(&app, JIANGSU).await;
    assert_eq!(
        jiangsu.get(&format!("/campaigns/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        gov.get("/campaigns/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

fn code_of(app_text: &str) -> String {
    let marker = "id=\"invite-code\">";
    let i = app_text.find(marker).expect("code on the page") + marker.len();
    app_text[i..].chars().take_while(|c| *c != '<').collect()
}

#[tokio::test]
async fn enterprises_join_by_link_and_code_see_who_sees_them_and_can_leave() {
    let app = world().await;
    let store = app.state.store.clone();
    let gov = login(&app, SUZHOU).await;
    let id = create(&gov, "吴中区数字化评估").await;
    let code = code_of(&gov.get(&format!("/campaigns/{id}")).await.text);

    // A visitor follows the link: the campaign, what joining shares, and log-in / sign-up
    // links that come back here.
    let visitor = Browser::new(&app);
    let r = visitor.get(&format!("/join/{code}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("吴中区数字化评估"));
    assert!(r.text.contains("苏州市中小企业主管部门"), "{}", r.text);
    assert!(
        r.text.contains("可以查看本企业已完成"),
        "what joining shares"
    );
    let next = format!("%2Fjoin%2F{code}");
    assert!(
        r.text.contains(&format!("/signup?next={next}")),
        "{}",
        r.text
    );
    let r = visitor
        .post(
            &format!("/signup?next={next}"),
            "/signup",
            &[
                ("enterprise", "苏州甲精密机械有限公司"),
                ("email", "owner@jia.test"),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
                ("next", &format!("/join/{code}")),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        format!("/join/{code}"),
        "back to the invitation"
    );
    let page = visitor.get(&format!("/join/{code}")).await;
    assert!(page.text.contains("同意并加入"), "{}", page.text);
    // Before consenting, the authority sees nothing of it.
    let r = visitor
        .post(&format!("/join/{code}"), &format!("/join/{code}"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/privacy?joined={id}"));
    let privacy = visitor.get(&r.location()).await;
    assert!(
        privacy.text.contains("已加入“吴中区数字化评估”"),
        "{}",
        privacy.text
    );
    assert!(
        privacy.text.contains(SUZHOU),
        "the authority is listed: {}",
        privacy.text
    );
    assert!(privacy.text.contains(JIANGSU), "and the province above it");
    assert!(!privacy.text.contains(NANJING), "not another city");
    // Joining again changes nothing.
    let again = visitor.get(&format!("/join/{code}")).await;
    assert!(again.text.contains("本企业已经加入这个活动"));

    // A second enterprise types the code (lower case, with a hyphen).
    let yi = helpers::user(&app, "苏州乙电子有限公司", "owner@yi.test").await;
    let typed = format!("{}-{}", &code[..6], &code[6..]).to_lowercase();
    let r = yi.get(&format!("/join?code={typed}")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/join/{code}"));
    let r = yi
        .post(&format!("/join/{code}"), &format!("/join/{code}"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Unknown and malformed codes.
    let r = yi.get("/join/ZZZZZZZZZZZZ").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("没有找到这个邀请码"));
    let r = yi.get("/join?code=%3Cscript%3E").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Staff cannot join.
    let r = gov
        .post(&format!("/join/{code}"), &format!("/join/{code}"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A third enterprise joined a month ago and has done nothing since: stuck.
    let (bing, _) = store
        .create_enterprise_user(
            "苏州丙化工有限公司",
            "owner@bing.test",
            &hash(PASSWORD),
            None,
        )
        .await
        .expect("enterprise");
    let month_ago = smedx_web_now() - 30 * 86_400;
    store
        .join_campaign(bing.id, &code, month_ago, &AuditCtx::default())
        .await
        .expect("join");

    // The authority sees all three, by status.
    let page = gov.get(&format!("/campaigns/{id}")).await;
    for name in [
        "苏州甲精密机械有限公司",
        "苏州乙电子有限公司",
        "苏州丙化工有限公司",
    ] {
        assert!(page.text.contains(name), "{name} listed");
    }
    assert!(
        page.text.contains("data-count=\"members\">3<"),
        "{}",
        page.text
    );
    assert!(page.text.contains("data-count=\"stuck\">1<"));
    let stuck = gov.get(&format!("/campaigns/{id}?status=stuck")).await;
    assert!(stuck.text.contains("苏州丙化工有限公司"));
    assert!(!stuck.text.contains("苏州甲精密机械有限公司"));

    // A reminder reaches the stuck member's inbox only.
    let r = gov
        .post(
            &format!("/campaigns/{id}"),
            &format!("/campaigns/{id}/remind"),
            &[("message", "请在月底前完成评估。")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let sent = gov.get(&r.location()).await;
    assert!(sent.text.contains("1 家企业收到了消息"), "{}", sent.text);
    let r = gov
        .post(
            &format!("/campaigns/{id}"),
            &format!("/campaigns/{id}/remind"),
            &[("message", "   ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("请填写提醒内容"));

    let bing_b = login(&app, "owner@bing.test").await;
    let home = bing_b.get("/assess").await;
    assert!(home.text.contains("/static/inbox.js") && home.text.contains("id=\"nav-inbox\""));
    let unread = bing_b.get("/inbox/unread.json").await;
    assert_eq!(unread.text, r#"{"unread":1}"#);
    let inbox = bing_b.get("/inbox").await;
    assert!(
        inbox.text.contains("请在月底前完成评估。"),
        "{}",
        inbox.text
    );
    assert!(inbox.text.contains("1 条未读"));
    let msg_id: String = inbox
        .text
        .split("data-message=\"")
        .nth(1)
        .expect("a message")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = bing_b
        .post("/inbox", &format!("/inbox/{msg_id}/read"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        bing_b.get("/inbox/unread.json").await.text,
        r#"{"unread":0}"#
    );
    // Another enterprise cannot mark it (404) and got nothing.
    let r = yi
        .post("/inbox", &format!("/inbox/{msg_id}/read"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let yi_inbox = yi.get("/inbox").await;
    assert!(yi_inbox.text.contains("暂无消息"), "{}", yi_inbox.text);
    assert_eq!(gov.get("/inbox").await.status, StatusCode::FORBIDDEN);

    // Withdrawing consent: the authority no longer sees the enterprise.
    let r = visitor
        .post(
            "/privacy",
            "/privacy/leave",
            &[("campaign", &id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let privacy = visitor.get(&r.location()).await;
    assert!(privacy.text.contains("已撤回同意"));
    assert!(privacy.text.contains("没有加入任何活动"));
    let page = gov.get(&format!("/campaigns/{id}")).await;
    assert!(!page.text.contains("苏州甲精密机械有限公司"));
    assert!(page.text.contains("data-count=\"members\">2<"));
    // Leaving twice: not a member any more.
    let r = visitor
        .post(
            "/privacy",
            "/privacy/leave",
            &[("campaign", &id.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Every consent change is in the audit log.
    let (entries, _) = store
        .list_audit(Page {
            offset: 0,
            limit: 200,
        })
        .await
        .expect("audit");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "campaign_joined").count(),
        3
    );
    assert_eq!(actions.iter().filter(|a| **a == "campaign_left").count(), 1);
    assert!(actions.contains(&"reminders_sent"));
    assert!(actions.contains(&"campaign_created"));
}

#[tokio::test]
async fn join_and_privacy_pages_speak_english_and_ended_campaigns_refuse() {
    let app = world().await;
    let store = app.state.store.clone();
    let gov = store.user_by_email(SUZHOU).await.expect("q").expect("gov");
    let scope = smedx_store::scope_for(&gov).expect("scope");
    let old = store
        .create_campaign(
            &scope,
            gov.id,
            &NewCampaign {
                name: "2020 round".into(),
                region_code: None,
                starts_on: "2020-01-01".into(),
                ends_on: "2020-12-31".into(),
                target_sectors: vec![],
                target_level: 3,
            },
            days_from_civil(2020, 1, 1) * 86_400,
            &AuditCtx::default(),
        )
        .await
        .expect("campaign");
    let firm = Browser::with_lang(&app, Some("en"));
    let r = firm
        .signup("Jia Precision", "owner@jia.test", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = firm.get(&format!("/join/{}", old.invite_code)).await;
    assert!(
        page.text.contains("This campaign has ended"),
        "{}",
        page.text
    );
    assert!(page.text.contains("SME authority of Suzhou"));
    assert!(page.text.contains("Every sector"));
    let r = firm
        .post(
            &format!("/join/{}", old.invite_code),
            &format!("/join/{}", old.invite_code),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let privacy = firm.get("/privacy").await;
    assert!(privacy.text.contains("has not joined any campaign"));
    let inbox = firm.get("/inbox").await;
    assert!(inbox.text.contains("No messages."));
    let form = firm.get("/join").await;
    assert!(form.text.contains("Invitation code"));
}

#[tokio::test]
async fn administrators_set_up_clusters_and_staff_accounts() {
    let app = world().await;
    let admin = login(&app, ADMIN).await;
    let store = app.state.store.clone();

    let r = admin.get("/admin/clusters").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("还没有园区"));
    for (form, field) in [
        (
            vec![("id", "bad id!"), ("name", "园区"), ("region", "320500")],
            "id",
        ),
        (
            vec![("id", "wz"), ("name", ""), ("region", "320500")],
            "name",
        ),
        (
            vec![("id", "wz"), ("name", "园区"), ("region", "990000")],
            "region",
        ),
    ] {
        let r = admin
            .post("/admin/clusters", "/admin/clusters", &form)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{form:?}"
        );
    }
    assert!(
        store
            .clusters(&Scope::All)
            .await
            .expect("clusters")
            .is_empty()
    );
    let ok = [
        ("id", "wuzhong-precision"),
        ("name", "吴中精密制造园"),
        ("region", "320506"),
    ];
    let r = admin.post("/admin/clusters", "/admin/clusters", &ok).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        admin
            .get(&r.location())
            .await
            .text
            .contains("吴中精密制造园")
    );
    let r = admin.post("/admin/clusters", "/admin/clusters", &ok).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("这个编号已被使用"));

    let r = admin.get("/admin/staff").await;
    assert!(
        r.text.contains(SUZHOU) && r.text.contains("320500"),
        "staff listed"
    );
    assert!(!r.text.contains(ADMIN), "administrators are not staff");
    for (form, field) in [
        (
            vec![
                ("email", "x"),
                ("password", PASSWORD),
                ("role", "authority"),
                ("region", "320500"),
            ],
            "email",
        ),
        (
            vec![
                ("email", "a@b.test"),
                ("password", "short"),
                ("role", "authority"),
                ("region", "320500"),
            ],
            "password",
        ),
        (
            vec![
                ("email", "a@b.test"),
                ("password", PASSWORD),
                ("role", "admin"),
            ],
            "role",
        ),
        (
            vec![
                ("email", "a@b.test"),
                ("password", PASSWORD),
                ("role", "authority"),
                ("region", "32"),
            ],
            "region",
        ),
        (
            vec![
                ("email", "a@b.test"),
                ("password", PASSWORD),
                ("role", "cluster"),
                ("cluster", "nope"),
            ],
            "cluster",
        ),
        (
            vec![
                ("email", SUZHOU),
                ("password", PASSWORD),
                ("role", "provider"),
            ],
            "email",
        ),
    ] {
        let r = admin.post("/admin/staff", "/admin/staff", &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            r.text.contains(&format!("data-field=\"{field}\"")),
            "{form:?}: {}",
            r.text
        );
    }
    assert!(store.user_by_email("a@b.test").await.expect("q").is_none());
    let r = admin
        .post(
            "/admin/staff",
            "/admin/staff",
            &[
                ("email", "park@wz.test"),
                ("password", PASSWORD),
                ("role", "cluster"),
                ("cluster", "wuzhong-precision"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let park = store
        .user_by_email("park@wz.test")
        .await
        .expect("q")
        .expect("created");
    assert_eq!(park.role, Role::Cluster);
    assert_eq!(park.cluster_id.as_deref(), Some("wuzhong-precision"));
    // The new account works, and sees the campaign pages of its cluster.
    let park_b = login(&app, "park@wz.test").await;
    assert_eq!(park_b.get("/campaigns").await.status, StatusCode::OK);

    // Only administrators.
    let gov = login(&app, SUZHOU).await;
    assert_eq!(gov.get("/admin/staff").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        gov.get("/admin/clusters").await.status,
        StatusCode::FORBIDDEN
    );
    let r = gov.post("/campaigns", "/admin/clusters", &ok).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
