//! The regional dashboards through HTTP, as the users of a province, two of its cities and a
//! cluster see them: scope (an authority sees its subtree only, a cluster its cluster), consent
//! (individual enterprises only through campaign membership; anything else is 404, as for a
//! missing id), suppression (cluster users always, authorities in public exports), exports (CSV
//! and XLSX rows equal the table on the page, formulas escaped, audit-logged), filters, the two
//! rounds of a campaign, and both languages.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use smedx_core::recommend::Engine;
use smedx_store::regional::{
    AssessmentList, ImportResult, NewCampaign, NewCompletedAssessment, NewEnterpriseRecord,
    NewStaffUser,
};
use smedx_store::scope::days_from_civil;
use smedx_store::{AuditCtx, Id, Page, Role, Scope, Store};

use crate::helpers::{self, App, Browser, PASSWORD};

const DAY: i64 = 86_400;
/// Round 1 and round 2 of the Suzhou campaign (2026).
fn at(y: i64, m: i64, d: i64) -> i64 {
    days_from_civil(y, m, d) * DAY + 12 * 3600
}

fn audit() -> AuditCtx {
    AuditCtx {
        at: at(2026, 1, 1),
        ..AuditCtx::default()
    }
}

fn hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("hash")
        .to_string()
}

/// A completed assessment of demo row `index` (the engine's real report).
fn assessed(engine: &Engine, index: u64, seed: u64, completed_at: i64) -> NewCompletedAssessment {
    let generator = smedx_io::demo::Generator::new(&engine.kb, seed);
    let row = generator.row(index);
    let p = smedx_core::profile::validate(&engine.kb, &row.profile).expect("demo profile");
    let a = smedx_core::assessment::parse_answers(&engine.kb.questionnaire, &row.answers)
        .expect("demo answers");
    let report = engine.run(&p, Some(&a)).expect("engine");
    NewCompletedAssessment::new(
        &row.profile_value(),
        &row.answers_value(),
        &serde_json::to_value(&report).expect("report"),
        report.assessment.as_ref().map(|x| x.score),
        report.assessment.as_ref().map(|x| i64::from(x.level)),
        completed_at,
    )
}

struct Firm {
    name: String,
    credit: String,
    region: &'static str,
    cluster: Option<&'static str>,
}

async fn import(app: &App, firms: &[Firm], seed: u64, completed_at: i64) {
    let engine = app.state.engine.clone();
    let records: Vec<NewEnterpriseRecord> = firms
        .iter()
        .enumerate()
        .map(|(i, f)| NewEnterpriseRecord {
            row: i + 2,
            name: f.name.clone(),
            credit_code: Some(f.credit.clone()),
            region_code: f.region.to_owned(),
            cluster_id: f.cluster.map(str::to_owned),
        })
        .collect();
    let list = (0..firms.len() as u64)
        .map(|i| Some(assessed(&engine, i, seed, completed_at)))
        .collect();
    let r = app
        .state
        .store
        .import_enterprises(
            &Scope::All,
            &records,
            &mut AssessmentList(list),
            None,
            completed_at,
            &audit(),
        )
        .await
        .expect("import");
    assert!(matches!(r, ImportResult::Imported(_)), "{r:?}");
}

async fn enterprise_id(store: &dyn Store, name: &str) -> Id {
    let (list, _) = store
        .visible_enterprises(
            &Scope::All,
            &Default::default(),
            None,
            Page {
                offset: 0,
                limit: 1000,
            },
        )
        .await
        .expect("list");
    list.iter()
        .find(|v| v.enterprise.name == name)
        .map(|v| v.enterprise.id)
        .unwrap_or_else(|| panic!("no enterprise {name}"))
}

/// A province (Jiangsu), two cities (Suzhou with 12 firms, 6 of them in a cluster; Nanjing with
/// 7), a campaign in each city, the staff users of each, and two rounds for Suzhou's members.
struct World {
    app: App,
    suzhou_campaign: Id,
    /// Suzhou firms that joined the Suzhou campaign.
    suzhou_members: Vec<Id>,
    /// A Suzhou firm that joined nothing.
    suzhou_outsider: Id,
    nanjing_member: Id,
    /// The id of a completed assessment of `nanjing_member`.
    nanjing_assessment: Id,
    suzhou_assessment: Id,
}

const SUZHOU: &str = "suzhou@gov.test";
const NANJING: &str = "nanjing@gov.test";
const JIANGSU: &str = "jiangsu@gov.test";
const CLUSTER: &str = "park@gov.test";
const PROVIDER: &str = "vendor@gov.test";
const ADMIN: &str = "admin@example.cn";
/// The name of a firm that tries formula injection.
const FORMULA: &str = "=HYPERLINK(\"http://x.test\",\"点我\")";

async fn world() -> World {
    let app = helpers::spawn().await;
    let store = app.state.store.clone();
    smedx_web::ensure_admin(&app.state, Some(ADMIN), Some(PASSWORD))
        .await
        .expect("admin");
    store
        .create_cluster(
            "wz-precision",
            "吴中精密制造园",
            "320500",
            at(2026, 1, 1),
            &audit(),
        )
        .await
        .expect("cluster");
    let pw = hash(PASSWORD);
    for (email, role, region, cluster) in [
        (SUZHOU, Role::Authority, Some("320500"), None),
        (NANJING, Role::Authority, Some("320100"), None),
        (JIANGSU, Role::Authority, Some("320000"), None),
        (CLUSTER, Role::Cluster, None, Some("wz-precision")),
        (PROVIDER, Role::Provider, None, None),
    ] {
        store
            .create_staff_user(
                &NewStaffUser {
                    email,
                    password_hash: &pw,
                    role,
                    region_code: region,
                    cluster_id: cluster,
                    lang: None,
                },
                at(2026, 1, 1),
                &audit(),
            )
            .await
            .expect("staff user");
    }
    let suzhou: Vec<Firm> = (0..12)
        .map(|i| Firm {
            name: if i == 11 {
                FORMULA.to_owned()
            } else {
                format!("苏州企业{i:02}")
            },
            credit: format!("9132050{i:011}"),
            region: "320506",
            cluster: (i < 6).then_some("wz-precision"),
        })
        .collect();
    let nanjing: Vec<Firm> = (0..7)
        .map(|i| Firm {
            name: format!("南京企业{i:02}"),
            credit: format!("9132010{i:011}"),
            region: "320102",
            cluster: None,
        })
        .collect();
    import(&app, &suzhou, 11, at(2026, 3, 1)).await;
    import(&app, &nanjing, 22, at(2026, 3, 1)).await;

    let campaign = |email: &'static str, name: &'static str| {
        let store = store.clone();
        async move {
            let u = store
                .user_by_email(email)
                .await
                .expect("user")
                .expect("exists");
            let scope = smedx_store::scope_for(&u).expect("scope");
            store
                .create_campaign(
                    &scope,
                    u.id,
                    &NewCampaign {
                        name: name.to_owned(),
                        region_code: None,
                        starts_on: "2026-01-01".into(),
                        ends_on: "2099-12-31".into(),
                        target_sectors: Vec::new(),
                        target_level: 2,
                    },
                    at(2026, 1, 2),
                    &audit(),
                )
                .await
                .expect("campaign")
        }
    };
    let sz = campaign(SUZHOU, "2026 苏州试点").await;
    let nj = campaign(NANJING, "2026 南京试点").await;
    let mut suzhou_members = Vec::new();
    // Members: four of the cluster's firms, two outside it, and the formula firm.
    for name in [
        "苏州企业00",
        "苏州企业01",
        "苏州企业02",
        "苏州企业03",
        "苏州企业07",
        "苏州企业08",
        FORMULA,
    ] {
        let id = enterprise_id(store.as_ref(), name).await;
        store
            .join_campaign(id, &sz.invite_code, at(2026, 3, 2), &audit())
            .await
            .expect("join");
        suzhou_members.push(id);
    }
    let nanjing_member = enterprise_id(store.as_ref(), "南京企业00").await;
    store
        .join_campaign(nanjing_member, &nj.invite_code, at(2026, 3, 2), &audit())
        .await
        .expect("join");
    // Round 2 for the first five Suzhou members (same credit codes: a second assessment).
    import(&app, &suzhou[..5], 33, at(2099, 9, 1)).await;

    let first_assessment = |eid: Id| {
        let store = store.clone();
        async move {
            store
                .member_assessments(
                    &Scope::All,
                    eid,
                    Page {
                        offset: 0,
                        limit: 10,
                    },
                )
                .await
                .expect("assessments")
                .0[0]
                .id
        }
    };
    let nanjing_assessment = first_assessment(nanjing_member).await;
    let suzhou_assessment = first_assessment(suzhou_members[0]).await;
    World {
        suzhou_outsider: enterprise_id(store.as_ref(), "苏州企业09").await,
        app,
        suzhou_campaign: sz.id,
        suzhou_members,
        nanjing_member,
        nanjing_assessment,
        suzhou_assessment,
    }
}

async fn login(app: &App, email: &str) -> Browser {
    let b = Browser::new(app);
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {email}: {}", r.text);
    // Staff land on their dashboard, administrators on the user list: never on a page that
    // would answer 403.
    let start = match email.split('@').next() {
        Some("admin") => "/admin/users",
        Some("vendor") => "/provider",
        _ => "/region",
    };
    assert_eq!(r.location(), start, "login {email}");
    b
}

async fn get_bytes(b: &Browser, path: &str) -> (StatusCode, String, Vec<u8>) {
    let r = b
        .http
        .get(format!("{}{path}", b.base))
        .send()
        .await
        .expect("GET");
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ct, r.bytes().await.expect("body").to_vec())
}

/// The rows of a CSV export (byte-order mark removed).
async fn csv(b: &Browser, path: &str) -> Vec<Vec<String>> {
    let (status, ct, bytes) = get_bytes(b, path).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(ct.starts_with("text/csv"), "{path}: {ct}");
    let text = String::from_utf8(bytes).expect("utf-8");
    let text = text.trim_start_matches('\u{feff}');
    csv_rows(text)
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // A small reader for the exports' CSV: quoted fields may hold commas, quotes and newlines.
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The figure of the row whose first cell is `label`, in column `col`.
fn cell<'a>(rows: &'a [Vec<String>], label: &str, col: usize) -> &'a str {
    rows.iter()
        .find(|r| r.first().is_some_and(|c| c == label))
        .and_then(|r| r.get(col))
        .map_or_else(|| panic!("no row {label:?} in {rows:?}"), String::as_str)
}

fn num(rows: &[Vec<String>], label: &str, col: usize) -> i64 {
    let v = cell(rows, label, col);
    v.parse()
        .unwrap_or_else(|_| panic!("{label:?} is {v:?}, not a number"))
}

/// The rows of the table of a dashboard view, as text (header row first).
fn html_table(page: &str, view: &str) -> Vec<Vec<String>> {
    let start = page
        .find(&format!("id=\"view-{view}\""))
        .unwrap_or_else(|| panic!("no view {view}"));
    let rest = &page[start..];
    let t0 = rest.find("<table").expect("table");
    let t1 = rest.find("</table>").expect("table end");
    let table = &rest[t0..t1];
    table
        .split("<tr")
        .skip(1)
        .map(|tr| {
            let tr = tr.split("</tr>").next().unwrap_or("");
            let mut cells = Vec::new();
            let mut rest = tr;
            while let Some(i) = rest.find(['<']) {
                let tag = &rest[i..];
                if tag.starts_with("<th") || tag.starts_with("<td") {
                    let open_end = tag.find('>').expect("tag") + 1;
                    let close = tag
                        .find(if tag.starts_with("<th") {
                            "</th>"
                        } else {
                            "</td>"
                        })
                        .expect("close");
                    cells.push(text_of(&tag[open_end..close]));
                    rest = &tag[close..];
                    rest = &rest[5..];
                } else {
                    rest = &tag[1..];
                }
            }
            cells
        })
        .collect()
}

/// The text of an HTML fragment: tags and visually hidden spans removed, entities decoded.
fn text_of(html: &str) -> String {
    let mut html = html.to_owned();
    while let Some(i) = html.find("<span class=\"visually-hidden\">") {
        let end = html[i..].find("</span>").map_or(html.len(), |e| i + e + 7);
        html.replace_range(i..end, "");
    }
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut wb = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    let range = wb
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Int(i) => i.to_string(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
                    Data::Float(f) => f.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_authority_sees_its_own_subtree() {
    let w = world().await;
    let app = &w.app;

    // Suzhou: its 12 firms only.
    let sz = login(app, SUZHOU).await;
    let levels = csv(&sz, "/region/export/levels.csv").await;
    assert_eq!(num(&levels, "合计", 1), 12);
    let part = csv(&sz, "/region/export/participation.csv").await;
    assert_eq!(num(&part, "登记企业", 1), 12);
    assert_eq!(num(&part, "已完成评估", 1), 12);

    // Nanjing: its 7.
    let nj = login(app, NANJING).await;
    assert_eq!(
        num(&csv(&nj, "/region/export/levels.csv").await, "合计", 1),
        7
    );

    // The province: both cities, and it may pick one of them.
    let js = login(app, JIANGSU).await;
    assert_eq!(
        num(&csv(&js, "/region/export/levels.csv").await, "合计", 1),
        19
    );
    let page = js.get("/region").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(">苏州市</option>") && page.text.contains(">南京市</option>"));
    assert_eq!(
        num(
            &csv(&js, "/region/export/levels.csv?region=320100").await,
            "合计",
            1
        ),
        7
    );
    // A city outside its province counts nothing.
    let outside = csv(&js, "/region/export/levels.csv?region=330100").await;
    assert_eq!(num(&outside, "合计", 1), 0);
    // Nanjing asking for Suzhou gets nothing either.
    assert_eq!(
        num(
            &csv(&nj, "/region/export/levels.csv?region=320500").await,
            "合计",
            1
        ),
        0
    );

    // The administrator sees everything.
    let admin = login(app, ADMIN).await;
    assert_eq!(
        num(&csv(&admin, "/region/export/levels.csv").await, "合计", 1),
        19
    );
}

#[tokio::test]
async fn individual_enterprises_only_through_campaign_membership() {
    let w = world().await;
    let app = &w.app;
    let sz = login(app, SUZHOU).await;

    let list = sz.get("/region/enterprises").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains("苏州企业00"), "a member is listed");
    assert!(
        !list.text.contains("苏州企业09"),
        "a firm that joined nothing is not"
    );
    assert!(
        !list.text.contains("南京企业"),
        "another city's firms are not"
    );
    assert!(list.text.contains("共 7 家企业"), "{}", list.text);

    // A member, its assessments and one result.
    let m = w.suzhou_members[0];
    let detail = sz.get(&format!("/region/enterprises/{m}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.text.contains("苏州企业00"));
    assert!(detail.text.contains(&format!(
        "/region/enterprises/{m}/assessments/{}",
        w.suzhou_assessment
    )));
    let result = sz
        .get(&format!(
            "/region/enterprises/{m}/assessments/{}",
            w.suzhou_assessment
        ))
        .await;
    assert_eq!(result.status, StatusCode::OK);
    assert!(
        result.text.contains("id=\"chart-data\""),
        "the result's charts"
    );
    assert!(
        !result.text.contains("/reassess"),
        "read-only: no re-assessment form"
    );

    // Another city's member, a non-member and a missing id: all 404 alike.
    let nj = w.nanjing_member;
    for path in [
        format!("/region/enterprises/{nj}"),
        format!(
            "/region/enterprises/{nj}/assessments/{}",
            w.nanjing_assessment
        ),
        format!("/region/enterprises/{}", w.suzhou_outsider),
        "/region/enterprises/99999999".to_owned(),
        format!(
            "/region/enterprises/{m}/assessments/{}",
            w.nanjing_assessment
        ),
    ] {
        let r = sz.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text.contains("南京企业00"), "{path}");
    }

    // The province sees the members of both cities' campaigns.
    let js = login(app, JIANGSU).await;
    let list = js.get("/region/enterprises").await;
    assert!(list.text.contains("苏州企业00") && list.text.contains("南京企业00"));
    assert_eq!(
        js.get(&format!(
            "/region/enterprises/{nj}/assessments/{}",
            w.nanjing_assessment
        ))
        .await
        .status,
        StatusCode::OK
    );

    // Nanjing: an empty state would not apply (it has one member), Suzhou's are 404.
    let njb = login(app, NANJING).await;
    assert_eq!(
        njb.get(&format!("/region/enterprises/{m}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_enterprise_list_takes_the_dashboard_filters_and_a_search() {
    let w = world().await;
    let app = &w.app;
    let js = login(app, JIANGSU).await;
    let c = w.suzhou_campaign;

    // The province narrowed to the Suzhou campaign: its 7 members, in the page and the export.
    let page = js.get(&format!("/region/enterprises?campaign={c}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("共 7 家企业"), "{}", page.text);
    assert!(
        !page.text.contains("南京企业"),
        "Nanjing's member is not in it"
    );
    assert!(
        page.text
            .contains(&format!("/region/export/enterprises.csv?campaign={c}")),
        "the export keeps the filter"
    );
    let rows = csv(&js, &format!("/region/export/enterprises.csv?campaign={c}")).await;
    assert_eq!(rows.len(), 1 + 7, "a header and the 7 members");
    assert!(
        rows.iter()
            .skip(1)
            .all(|r| r.iter().any(|v| v.starts_with("9132050"))),
        "Suzhou credit codes only: {rows:?}"
    );
    // With the cluster too: the four members in the park.
    let park = js
        .get(&format!(
            "/region/enterprises?campaign={c}&cluster=wz-precision"
        ))
        .await;
    assert!(park.text.contains("共 4 家企业"), "{}", park.text);

    // A search by part of the name, with the filter; the pager keeps both.
    let found = js
        .get(&format!(
            "/region/enterprises?campaign={c}&q=%E4%BC%81%E4%B8%9A00"
        ))
        .await;
    assert!(found.text.contains("共 1 家企业"), "{}", found.text);
    assert!(
        found.text.contains("value=\"企业00\""),
        "the search box is filled in"
    );
    let nothing = js
        .get("/region/enterprises?q=%E6%97%A0%E6%AD%A4%E4%BC%81%E4%B8%9A")
        .await;
    assert_eq!(nothing.status, StatusCode::OK);
    assert!(
        nothing.text.contains("没有符合条件的企业"),
        "{}",
        nothing.text
    );

    // Bad filters are explained; another authority's campaign is not found.
    let bad = js.get("/region/enterprises?from=2026-13").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("err-summary"));
    let nj = login(app, NANJING).await;
    for path in [
        format!("/region/enterprises?campaign={c}"),
        format!("/region/export/enterprises.csv?campaign={c}"),
    ] {
        let r = nj.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!r.text.contains("苏州企业"), "{path}");
    }

    // In English too.
    let en = js
        .get(&format!("/region/enterprises?campaign={c}&lang=en"))
        .await;
    assert!(en.text.contains("7 enterprises"), "{}", en.text);
}

#[tokio::test]
async fn empty_list_explains_how_enterprises_appear() {
    let app = helpers::spawn().await;
    smedx_web::ensure_admin(&app.state, Some(ADMIN), Some(PASSWORD))
        .await
        .expect("admin");
    app.state
        .store
        .create_staff_user(
            &NewStaffUser {
                email: SUZHOU,
                password_hash: &hash(PASSWORD),
                role: Role::Authority,
                region_code: Some("320500"),
                cluster_id: None,
                lang: None,
            },
            at(2026, 1, 1),
            &audit(),
        )
        .await
        .expect("staff");
    let b = login(&app, SUZHOU).await;
    let r = b.get("/region/enterprises").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("企业加入您的活动"), "{}", r.text);
    let r = b.get("/region/enterprises?lang=en").await;
    assert!(r.text.contains("Enterprises appear here when they join"));
    // The dashboard of an empty region says there is no data yet, in every view.
    let r = b.get("/region?lang=zh").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("暂无数据"), "{}", r.text);
}

#[tokio::test]
async fn cluster_users_see_their_cluster_suppressed() {
    let w = world().await;
    let app = &w.app;
    let cl = login(app, CLUSTER).await;
    let page = cl.get("/region").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("少于 5 家企业的分组不显示具体数字"));
    assert!(
        page.text.contains("num suppressed"),
        "some groups are below k"
    );
    assert!(
        !page.text.contains("公开版"),
        "no separate public export: always suppressed"
    );

    // Its 6 firms (not Suzhou's 12), and small groups hidden in the export too.
    let levels = csv(&cl, "/region/export/levels.csv").await;
    assert_eq!(num(&levels, "合计", 1), 6);
    let by_group = csv(&cl, "/region/export/sector_size.csv").await;
    assert!(
        by_group.iter().flatten().any(|c| c == "—"),
        "groups under 5 firms are suppressed: {by_group:?}"
    );
    // A "public=0" request does not lift it.
    let again = csv(&cl, "/region/export/sector_size.csv?public=0").await;
    assert!(again.iter().flatten().any(|c| c == "—"));

    // Individually: only members of its own campaigns (none), so Suzhou's members are 404.
    let list = cl.get("/region/enterprises").await;
    assert!(list.text.contains("企业加入您的活动"));
    assert_eq!(
        cl.get(&format!("/region/enterprises/{}", w.suzhou_members[0]))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn exports_match_the_tables_and_public_ones_suppress() {
    let w = world().await;
    let app = &w.app;
    let sz = login(app, SUZHOU).await;
    let page = sz.get("/region").await;
    assert_eq!(page.status, StatusCode::OK);
    for view in ["levels", "scenarios", "paths", "obstacles", "participation"] {
        let shown = html_table(&page.text, view);
        let rows = csv(&sz, &format!("/region/export/{view}.csv")).await;
        assert_eq!(rows, shown, "{view}: the CSV is the table on the page");
        let (status, ct, bytes) = get_bytes(&sz, &format!("/region/export/{view}.xlsx")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(ct.contains("spreadsheetml"), "{ct}");
        let sheet = xlsx_rows(&bytes);
        assert_eq!(sheet[0], shown[0], "{view}: the XLSX header");
        assert_eq!(sheet.len(), shown.len(), "{view}: the XLSX rows");
        assert_eq!(
            sheet.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
            shown.iter().map(|r| r[0].clone()).collect::<Vec<_>>()
        );
    }

    // Exact figures for the authority; the public export hides groups under 5.
    let exact = csv(&sz, "/region/export/levels.csv").await;
    assert!(!exact.iter().flatten().any(|c| c == "—"));
    let public = csv(&sz, "/region/export/levels.csv?public=1").await;
    assert!(public.iter().flatten().any(|c| c == "—"), "{public:?}");
    assert!(
        public
            .last()
            .is_some_and(|r| r[0].contains("少于 5 家企业")),
        "the note says why: {public:?}"
    );
    let (_, _, bytes) = get_bytes(&sz, "/region/export/levels.xlsx?public=1").await;
    assert!(xlsx_rows(&bytes).iter().flatten().any(|c| c == "—"));

    // The enterprise list: a name starting with "=" is not a formula.
    let ents = csv(&sz, "/region/export/enterprises.csv").await;
    assert_eq!(ents.len(), 1 + w.suzhou_members.len());
    assert!(
        ents.iter().flatten().any(|c| c == &format!("'{FORMULA}")),
        "escaped in CSV: {ents:?}"
    );
    let (_, _, bytes) = get_bytes(&sz, "/region/export/enterprises.xlsx").await;
    let sheet = xlsx_rows(&bytes);
    assert!(
        sheet.iter().flatten().any(|c| c == FORMULA),
        "a string in XLSX"
    );
    let mut wb = Xlsx::new(Cursor::new(bytes)).expect("xlsx");
    let formulas = wb.worksheet_formula("企业名单").expect("sheet");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula cells"
    );

    // Every export is in the audit log, with its format and the public flag.
    let (entries, _) = app
        .state
        .store
        .list_audit(Page {
            offset: 0,
            limit: 100,
        })
        .await
        .expect("audit");
    let public_export = entries
        .iter()
        .find(|e| {
            e.action == "data_exported"
                && e.target == "table:levels"
                && e.detail.contains("public=1")
        })
        .expect("the public export is logged");
    assert!(public_export.detail.contains("k=5"));

    // Unknown tables and formats are 404; a bad filter 400; visitors go to the log-in page.
    assert_eq!(
        sz.get("/region/export/secrets.csv").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sz.get("/region/export/levels.pdf").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sz.get("/region/export/levels.csv?size=huge").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sz.get("/region/export/target.csv").await.status,
        StatusCode::BAD_REQUEST,
        "the target tracker needs a campaign"
    );
    let anon = Browser::new(app);
    let r = anon.get("/region/export/levels.csv").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/login?next="));
}

#[tokio::test]
async fn filters_change_the_numbers_and_bad_ones_are_explained() {
    let w = world().await;
    let app = &w.app;
    let admin = login(app, ADMIN).await;
    let all = num(&csv(&admin, "/region/export/levels.csv").await, "合计", 1);
    assert_eq!(all, 19);
    let mut by_size = 0;
    for size in ["micro", "small", "medium", "large"] {
        let n = num(
            &csv(&admin, &format!("/region/export/levels.csv?size={size}")).await,
            "合计",
            1,
        );
        assert!(n < all || n == all && by_size == 0, "{size}: {n}");
        by_size += n;
    }
    assert_eq!(by_size, all, "the size classes add up");
    assert_eq!(
        num(
            &csv(&admin, "/region/export/levels.csv?cluster=wz-precision").await,
            "合计",
            1
        ),
        6
    );
    let c = w.suzhou_campaign;
    let members = csv(&admin, &format!("/region/export/levels.csv?campaign={c}")).await;
    assert_eq!(num(&members, "合计", 1), 7);
    // A month range after everything: nothing.
    assert_eq!(
        num(
            &csv(&admin, "/region/export/levels.csv?from=2100-01&to=2100-12").await,
            "合计",
            1
        ),
        0
    );
    // The filters stay in the form and in the export links.
    let page = admin.get("/region?cluster=wz-precision&size=small").await;
    assert!(page.text.contains("value=\"small\" selected"));
    assert!(
        page.text
            .contains("/region/export/levels.xlsx?cluster=wz-precision&#38;size=small"),
        "{}",
        &page.text[page.text.find("/region/export/levels.xlsx").unwrap_or(0)..][..200]
    );
    // With a campaign, the target tracker appears.
    let page = admin.get(&format!("/region?campaign={c}")).await;
    assert!(page.text.contains("id=\"view-target\""));
    let target = csv(&admin, &format!("/region/export/target.csv?campaign={c}")).await;
    assert_eq!(target.len(), 4, "{target:?}");

    // Bad input: a clear message in the user's language, nothing computed.
    let r = admin.get("/region?size=huge&from=2026-13&region=abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("“huge”不是有效的企业规模"));
    assert!(r.text.contains("“2026-13”不是有效的月份"));
    assert!(r.text.contains("“abc”不是有效的行政区划代码"));
    let r = admin.get("/region?size=huge&lang=en").await;
    assert!(
        r.text.contains("huge&#34; is not a valid size class"),
        "{}",
        r.text
    );
    let r = admin.get("/region?from=2026-05&to=2026-01").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A campaign outside the scope is the same as a missing one.
    let nj = login(app, NANJING).await;
    assert_eq!(
        nj.get(&format!("/region?campaign={c}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn two_rounds_of_a_campaign() {
    let w = world().await;
    let app = &w.app;
    let sz = login(app, SUZHOU).await;
    let c = w.suzhou_campaign;
    let r = sz.get("/region/progress").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("请先在上方选择一个活动"));
    let q = format!(
        "campaign={c}&r1_from=2026-01-01&r1_to=2026-06-30&r2_from=2099-01-01&r2_to=2099-12-31"
    );
    let r = sz.get(&format!("/region/progress?{q}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let shown = html_table(&r.text, "progress");
    // Members 00–03 were assessed again (firm 04 joined nothing).
    assert_eq!(cell(&shown, "两轮都完成评估的企业", 1), "4");
    let up: i64 = cell(&shown, "等级提升", 1).parse().expect("n");
    let same: i64 = cell(&shown, "等级不变", 1).parse().expect("n");
    let down: i64 = cell(&shown, "等级下降", 1).parse().expect("n");
    assert_eq!(up + same + down, 4);
    // Its export is the same table.
    assert_eq!(
        csv(&sz, &format!("/region/export/progress.csv?{q}")).await,
        shown
    );
    // The members who moved, with links to their pages.
    assert!(
        r.text
            .contains(&format!("/region/enterprises/{}", w.suzhou_members[0]))
    );
    // Rounds that make no sense are explained.
    let bad = sz
        .get(&format!(
            "/region/progress?campaign={c}&r1_from=2026-06-01&r1_to=2026-01-01"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("每一轮的开始日期不能晚于结束日期"));
    // Another city's authority cannot read this campaign's rounds.
    let nj = login(app, NANJING).await;
    assert_eq!(
        nj.get(&format!("/region/progress?{q}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn who_may_open_the_dashboards_in_both_languages() {
    let w = world().await;
    let app = &w.app;
    // Visitors log in first; enterprise and provider users are refused.
    let anon = Browser::new(app);
    for path in ["/region", "/region/progress", "/region/enterprises"] {
        let r = anon.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(r.location().starts_with("/login?next=%2Fregion"), "{path}");
    }
    let firm = helpers::user(app, "某某五金", "firm@example.cn").await;
    let provider = login(app, PROVIDER).await;
    for b in [&firm, &provider] {
        for path in [
            "/region",
            "/region/progress",
            "/region/enterprises",
            "/region/export/levels.csv",
        ] {
            assert_eq!(b.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
        }
        assert!(
            !b.get("/").await.text.contains("href=\"/region\""),
            "no link for them"
        );
    }

    let sz = login(app, SUZHOU).await;
    let zh = sz.get("/region").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.text.contains("<h1>数据看板</h1>"));
    assert!(zh.text.contains("href=\"/region\""), "the navigation link");
    for title in [
        "数字化水平等级分布",
        "16 个评价场景的水平分布",
        "按企业规模看转型困难",
        "最常被推荐的场景",
    ] {
        assert!(zh.text.contains(title), "{title}");
    }
    assert!(
        zh.text.contains("\"title\":\"数字化水平等级分布\""),
        "chart titles are translated"
    );
    let en = sz.get("/region?lang=en").await;
    assert!(en.text.contains("<h1>Dashboards</h1>"));
    for title in [
        "Digital level distribution",
        "The 16 indicator scenarios: level distribution",
        "Obstacles by size class",
        "Most recommended scenarios",
    ] {
        assert!(en.text.contains(title), "{title}");
    }
    assert!(!en.text.contains("数字化水平等级分布"));
    // The export follows the language too.
    let rows = csv(&sz, "/region/export/levels.csv").await;
    assert_eq!(rows[0][0], "Level");
    let rows = csv(&sz, "/region/export/levels.csv?lang=zh").await;
    assert_eq!(rows[0][0], "等级");
    // The enterprise pages in English.
    let r = sz.get("/region/enterprises?lang=en").await;
    assert!(r.text.contains("<h1>Enterprises</h1>"));
    let r = sz
        .get(&format!(
            "/region/progress?campaign={}&lang=en",
            w.suzhou_campaign
        ))
        .await;
    assert!(r.text.contains("Enterprises assessed in both rounds"));
}
