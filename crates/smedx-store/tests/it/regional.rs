//! The regional authority workspace, as stories against `&dyn Store` run on every backend
//! (see the `regional:` lists in `sqlite.rs` and `postgres.rs`): roles and scopes, campaigns
//! and consent, the inbox, facts and dashboard aggregates, suppression, bulk import, and the
//! rollups agreeing with a rebuild from the facts.

use std::sync::Mutex;

use serde_json::{Value, json};
use smedx_store::aggregate::{Cell, Filters, TimeRange};
use smedx_store::facts::ItemKind;
use smedx_store::regional::{
    AssessmentList, AssessmentSource, EnterpriseLocation, ImportProblemKind, ImportResult,
    MemberStatus, NewCampaign, NewCompletedAssessment, NewEnterpriseRecord, NewStaffUser,
    normalize_invite_code,
};
use smedx_store::scope::{days_from_civil, parse_region_code};
use smedx_store::{
    AuditCtx, Id, Page, RegionPrefix, Result, Role, Scope, Store, StoreError, scope_for,
};

use crate::conformance::Probe;

/// 2023-11-14 22:13:20 UTC.
const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

/// Unix time of a date (noon UTC).
fn at(y: i64, m: i64, d: i64) -> i64 {
    days_from_civil(y, m, d) * DAY + 12 * 3600
}

fn audit() -> AuditCtx {
    AuditCtx {
        at: NOW,
        ..AuditCtx::default()
    }
}

fn all_pages() -> Page {
    Page {
        offset: 0,
        limit: 1000,
    }
}

fn region(p: &str) -> Scope {
    Scope::Region(RegionPrefix::parse(p).expect("a region prefix"))
}

fn prefix(p: &str) -> Option<RegionPrefix> {
    Some(RegionPrefix::parse(p).expect("a region prefix"))
}

#[track_caller]
fn expect_err<T: std::fmt::Debug>(r: Result<T>, what: &str, want: fn(&StoreError) -> bool) {
    match r {
        Err(e) if want(&e) => {}
        other => panic!("{what}: unexpected {other:?}"),
    }
}

fn not_found(e: &StoreError) -> bool {
    matches!(e, StoreError::NotFound)
}
fn invalid(e: &StoreError) -> bool {
    matches!(e, StoreError::Invalid(_))
}
fn conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Conflict(_))
}

fn shown(cells: &[Cell]) -> Vec<i64> {
    cells
        .iter()
        .map(|c| c.value().expect("not suppressed with k = 1"))
        .collect()
}

fn n(c: Cell) -> i64 {
    c.value().expect("not suppressed")
}

/// What a test report says; [`report`] builds the engine-shaped JSON.
#[derive(Clone)]
pub(crate) struct Spec {
    level: u8,
    score: f64,
    sector: Option<&'static str>,
    group: &'static str,
    size: &'static str,
    scenarios: [u8; 16],
    obstacles: Vec<&'static str>,
    recommended: Vec<&'static str>,
    pain: Vec<&'static str>,
    path: &'static str,
    /// One scenario short of this level.
    away: Option<u8>,
}

pub(crate) fn spec(level: u8, score: f64) -> Spec {
    Spec {
        level,
        score,
        sector: Some("metal"),
        group: "equipment_mfg",
        size: "small",
        scenarios: [level; 16],
        obstacles: vec!["budget"],
        recommended: vec!["pl.transparency", "ops.erp"],
        pain: vec!["交期"],
        path: "lightweight",
        away: None,
    }
}

impl Spec {
    fn sector(mut self, sector: Option<&'static str>, group: &'static str) -> Spec {
        self.sector = sector;
        self.group = group;
        self
    }
    fn size(mut self, size: &'static str) -> Spec {
        self.size = size;
        self
    }
    fn away(mut self, level: u8) -> Spec {
        self.away = Some(level);
        self
    }
    fn obstacles(mut self, o: Vec<&'static str>) -> Spec {
        self.obstacles = o;
        self
    }
    fn pain(mut self, p: Vec<&'static str>) -> Spec {
        self.pain = p;
        self
    }
    fn path(mut self, p: &'static str) -> Spec {
        self.path = p;
        self
    }
}

const IDS: [&str; 16] = smedx_store::facts::SCENARIO_IDS;

/// A report of the engine's shape (the fields the store reads).
pub(crate) fn report(s: &Spec) -> Value {
    let rules = [
        (1, 20.0, 6, 3),
        (2, 40.0, 6, 3),
        (3, 60.0, 8, 5),
        (4, 80.0, 10, 6),
    ];
    let conditions: Vec<Value> = rules
        .iter()
        .map(|(l, min, all, constrained)| {
            let met = *l <= s.level;
            let away = s.away == Some(*l);
            let score_met = met || away || s.score >= *min;
            let (a, c) = if met {
                (*all, *constrained)
            } else if away {
                (*all - 1, *constrained)
            } else {
                (0, 0)
            };
            json!([l, [
                {"kind": "score", "required": min, "actual": s.score, "met": score_met},
                {"kind": "scenarios", "level": l, "required": all, "actual": a, "met": a >= *all},
                {"kind": "constrained", "level": l, "required": constrained, "actual": c, "met": c >= *constrained}
            ]])
        })
        .collect();
    let levels: serde_json::Map<String, Value> = IDS
        .iter()
        .zip(s.scenarios)
        .map(|(id, l)| ((*id).to_owned(), json!(l)))
        .collect();
    json!({
        "classification": {
            "sector": s.sector, "group": s.group,
            "size": {"size_class": s.size, "is_sme": true},
            "paths": [{"id": s.path, "primary": true}, {"id": "other", "primary": false}]
        },
        "assessment": {
            "score": s.score, "level": s.level, "scenario_levels": levels,
            "conditions": conditions, "obstacles": s.obstacles
        },
        "pain_points": [{"scenario": "x", "relevance": 0.8, "matched": s.pain}],
        "recommendations": s.recommended.iter().map(|r| json!({"scenario": r, "stage": 1})).collect::<Vec<_>>()
    })
}

static EMAILS: Mutex<u32> = Mutex::new(0);

fn email(tag: &str) -> String {
    let mut n = EMAILS.lock().unwrap_or_else(|e| e.into_inner());
    *n += 1;
    format!("{tag}-{}@firm.test", *n)
}

/// A new enterprise at a region (and cluster).
async fn firm(store: &dyn Store, name: &str, region: Option<&str>, cluster: Option<&str>) -> Id {
    let (e, _) = store
        .create_enterprise_user(name, &email("owner"), "hash", Some("zh"))
        .await
        .expect("sign up");
    if region.is_some() || cluster.is_some() {
        store
            .set_enterprise_location(
                e.id,
                &EnterpriseLocation {
                    region_code: region,
                    cluster_id: cluster,
                    credit_code: None,
                },
            )
            .await
            .expect("set location");
    }
    e.id
}

/// Completes a new assessment of `enterprise` at `when` with the report of `s`.
async fn complete(store: &dyn Store, enterprise: Id, s: &Spec, when: i64) -> Id {
    let a = store
        .create_assessment(enterprise, None, when - 60)
        .await
        .expect("create");
    store
        .complete_assessment(
            enterprise,
            a.id,
            &report(s),
            Some(s.score),
            Some(i64::from(s.level)),
            when,
        )
        .await
        .expect("complete");
    a.id
}

async fn admin(store: &dyn Store) -> Id {
    store
        .create_admin(&email("admin"), "hash")
        .await
        .expect("admin")
        .id
}

async fn authority(store: &dyn Store, code: &str) -> Id {
    store
        .create_staff_user(
            &NewStaffUser {
                email: &email("gov"),
                password_hash: "hash",
                role: Role::Authority,
                region_code: Some(code),
                cluster_id: None,
                lang: None,
            },
            NOW,
            &audit(),
        )
        .await
        .expect("authority")
        .id
}

fn new_campaign(name: &str, region_code: Option<&str>, level: u8) -> NewCampaign {
    NewCampaign {
        name: name.into(),
        region_code: region_code.map(str::to_owned),
        starts_on: "2023-11-01".into(),
        ends_on: "2024-06-30".into(),
        target_sectors: vec!["metal".into()],
        target_level: level,
    }
}

async fn cluster(store: &dyn Store, id: &str, code: &str) {
    store
        .create_cluster(id, &format!("{id} 园区"), code, NOW, &audit())
        .await
        .expect("cluster");
}

// ---- regions, clusters, staff ------------------------------------------------------------------

pub async fn regions_and_clusters_are_listed_in_scope(store: &dyn Store) {
    let provinces = store.regions(None).await.expect("provinces");
    assert_eq!(provinces.len(), 31);
    assert_eq!(provinces[0].code, "110000");
    assert_eq!(provinces[0].name_zh, "北京市");
    let cities = store.regions(Some("320000")).await.expect("cities");
    assert_eq!(cities.len(), 13);
    assert!(cities.iter().all(|c| c.parent.as_deref() == Some("320000")));
    let suzhou = store
        .region("320500")
        .await
        .expect("lookup")
        .expect("Suzhou");
    assert_eq!(
        (suzhou.name_zh.as_str(), suzhou.name_en.as_str()),
        ("苏州市", "Suzhou")
    );
    assert_eq!(store.region("320506").await.expect("lookup"), None);
    expect_err(
        store.region("3205").await,
        "a prefix is not a code",
        invalid,
    );
    expect_err(store.regions(Some("x")).await, "a bad parent", invalid);

    cluster(store, "wuzhong-precision", "320506").await;
    cluster(store, "jiangning-intelligent", "320115").await;
    expect_err(
        store
            .create_cluster("wuzhong-precision", "again", "320506", NOW, &audit())
            .await,
        "a taken cluster id",
        conflict,
    );
    expect_err(
        store
            .create_cluster("a,b", "x", "320506", NOW, &audit())
            .await,
        "a comma in a cluster id",
        invalid,
    );
    expect_err(
        store
            .create_cluster("ok", "x", "32050", NOW, &audit())
            .await,
        "a bad region",
        invalid,
    );
    expect_err(
        store
            .create_cluster("ok", " ", "320506", NOW, &audit())
            .await,
        "an empty name",
        invalid,
    );
    let ids = |v: Vec<smedx_store::regional::Cluster>| -> Vec<String> {
        v.into_iter().map(|c| c.id).collect()
    };
    assert_eq!(
        ids(store.clusters(&Scope::All).await.expect("all")).len(),
        2
    );
    assert_eq!(
        ids(store.clusters(&region("3205")).await.expect("Suzhou")),
        ["wuzhong-precision"]
    );
    assert_eq!(
        ids(store.clusters(&region("32")).await.expect("Jiangsu")).len(),
        2
    );
    assert!(
        store
            .clusters(&region("3302"))
            .await
            .expect("Ningbo")
            .is_empty()
    );
    assert_eq!(
        ids(store
            .clusters(&Scope::Cluster("jiangning-intelligent".into()))
            .await
            .expect("own")),
        ["jiangning-intelligent"]
    );
    let e = firm(store, "园区企业", Some("320506"), Some("wuzhong-precision")).await;
    assert_eq!(
        ids(store.clusters(&Scope::Enterprise(e)).await.expect("own")),
        ["wuzhong-precision"]
    );
}

pub async fn staff_accounts_have_a_region_or_a_cluster(store: &dyn Store) {
    cluster(store, "wuzhong-precision", "320506").await;
    let new = |role, region_code, cluster_id| NewStaffUser {
        email: "staff@gov.test",
        password_hash: "hash",
        role,
        region_code,
        cluster_id,
        lang: Some("zh"),
    };
    let gov = store
        .create_staff_user(&new(Role::Authority, Some("320500"), None), NOW, &audit())
        .await
        .expect("authority");
    assert_eq!(gov.role, Role::Authority);
    assert_eq!(gov.region_code.as_deref(), Some("320500"));
    assert_eq!(gov.enterprise_id, None);
    assert_eq!(store.user(gov.id).await.expect("lookup"), Some(gov.clone()));
    assert_eq!(scope_for(&gov), Some(region("3205")));
    expect_err(
        store
            .create_staff_user(&new(Role::Authority, Some("320500"), None), NOW, &audit())
            .await,
        "a taken address",
        conflict,
    );
    let park = store
        .create_staff_user(
            &NewStaffUser {
                email: "park@gov.test",
                ..new(Role::Cluster, None, Some("wuzhong-precision"))
            },
            NOW,
            &audit(),
        )
        .await
        .expect("cluster user");
    assert_eq!(
        scope_for(&park),
        Some(Scope::Cluster("wuzhong-precision".into()))
    );
    let provider = store
        .create_staff_user(
            &NewStaffUser {
                email: "vendor@example.test",
                ..new(Role::Provider, None, None)
            },
            NOW,
            &audit(),
        )
        .await
        .expect("provider");
    assert_eq!(
        scope_for(&provider),
        None,
        "providers see no enterprise data"
    );
    for (what, bad) in [
        ("authority without region", new(Role::Authority, None, None)),
        ("bad region", new(Role::Authority, Some("3205"), None)),
        ("cluster without cluster", new(Role::Cluster, None, None)),
        ("unknown cluster", new(Role::Cluster, None, Some("nowhere"))),
        ("admin", new(Role::Admin, None, None)),
        ("enterprise", new(Role::Enterprise, None, None)),
        (
            "provider with region",
            new(Role::Provider, Some("320500"), None),
        ),
        (
            "authority with cluster",
            new(Role::Authority, Some("320500"), Some("wuzhong-precision")),
        ),
    ] {
        let bad = NewStaffUser {
            email: "bad@gov.test",
            ..bad
        };
        expect_err(
            store.create_staff_user(&bad, NOW, &audit()).await,
            what,
            invalid,
        );
    }
    let (entries, _) = store.list_audit(all_pages()).await.expect("audit");
    let staff: Vec<&str> = entries
        .iter()
        .filter(|e| e.action == "staff_created")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(staff.len(), 3);
    assert!(staff.contains(&"role=authority"));
}

pub async fn enterprise_location_is_validated(store: &dyn Store) {
    cluster(store, "wuzhong-precision", "320506").await;
    let a = firm(store, "甲", None, None).await;
    let b = firm(store, "乙", None, None).await;
    let set = |region, cluster, credit| EnterpriseLocation {
        region_code: region,
        cluster_id: cluster,
        credit_code: credit,
    };
    let e = store
        .set_enterprise_location(
            a,
            &set(
                Some("320506"),
                Some("wuzhong-precision"),
                Some("91320506MA1XXXXX1X"),
            ),
        )
        .await
        .expect("set");
    assert_eq!(e.region_code.as_deref(), Some("320506"));
    assert_eq!(e.cluster_id.as_deref(), Some("wuzhong-precision"));
    assert_eq!(e.credit_code.as_deref(), Some("91320506MA1XXXXX1X"));
    assert_eq!(store.enterprise(a).await.expect("lookup"), Some(e));
    expect_err(
        store
            .set_enterprise_location(b, &set(None, None, Some("91320506MA1XXXXX1X")))
            .await,
        "a taken credit code",
        conflict,
    );
    expect_err(
        store
            .set_enterprise_location(b, &set(Some("99"), None, None))
            .await,
        "a bad region",
        invalid,
    );
    expect_err(
        store
            .set_enterprise_location(b, &set(None, Some("nowhere"), None))
            .await,
        "an unknown cluster",
        invalid,
    );
    expect_err(
        store
            .set_enterprise_location(b, &set(None, None, Some("short")))
            .await,
        "a malformed credit code",
        invalid,
    );
    expect_err(
        store
            .set_enterprise_location(b + 1000, &set(None, None, None))
            .await,
        "a missing enterprise",
        not_found,
    );
    let cleared = store
        .set_enterprise_location(a, &set(None, None, None))
        .await
        .expect("clear");
    assert_eq!(
        (cleared.region_code, cleared.cluster_id, cleared.credit_code),
        (None, None, None)
    );
}

// ---- campaigns, consent and the inbox -----------------------------------------------------------

pub async fn campaigns_are_created_and_listed_in_scope(store: &dyn Store) {
    cluster(store, "wuzhong-precision", "320506").await;
    let suzhou = authority(store, "320500").await;
    let root = admin(store).await;
    let c = store
        .create_campaign(
            &region("3205"),
            suzhou,
            &new_campaign("2024 试点", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("create");
    assert_eq!(
        c.region_code, "320500",
        "the authority's own region by default"
    );
    assert_eq!(c.cluster_id, None);
    assert_eq!(c.created_by, suzhou);
    assert_eq!(
        (c.starts_on.as_str(), c.ends_on.as_str()),
        ("2023-11-01", "2024-06-30")
    );
    assert_eq!(c.target_sectors, ["metal"]);
    assert_eq!(c.target_level, 2);
    assert_eq!(c.invite_code.len(), 12);
    assert!(
        c.invite_code.bytes().all(|b| b.is_ascii_alphanumeric()),
        "URL-safe"
    );
    let county = store
        .create_campaign(
            &region("3205"),
            suzhou,
            &new_campaign("吴中区", Some("320506"), 1),
            NOW + 1,
            &audit(),
        )
        .await
        .expect("a county campaign");
    assert_ne!(county.invite_code, c.invite_code);
    expect_err(
        store
            .create_campaign(
                &region("3205"),
                suzhou,
                &new_campaign("南京", Some("320115"), 1),
                NOW,
                &audit(),
            )
            .await,
        "a region outside the scope",
        not_found,
    );
    let park = store
        .create_campaign(
            &Scope::Cluster("wuzhong-precision".into()),
            root,
            &new_campaign("园区", None, 1),
            NOW + 2,
            &audit(),
        )
        .await
        .expect("a cluster's campaign");
    assert_eq!(park.region_code, "320506");
    assert_eq!(park.cluster_id.as_deref(), Some("wuzhong-precision"));
    for (what, bad) in [
        (
            "bad dates",
            NewCampaign {
                starts_on: "2024-02-30".into(),
                ..new_campaign("x", None, 1)
            },
        ),
        (
            "ends first",
            NewCampaign {
                ends_on: "2023-10-01".into(),
                ..new_campaign("x", None, 1)
            },
        ),
        ("level 5", new_campaign("x", None, 5)),
        ("level 0", new_campaign("x", None, 0)),
        ("no name", new_campaign(" ", None, 1)),
        (
            "bad sector",
            NewCampaign {
                target_sectors: vec!["a,b".into()],
                ..new_campaign("x", None, 1)
            },
        ),
    ] {
        expect_err(
            store
                .create_campaign(&region("3205"), suzhou, &bad, NOW, &audit())
                .await,
            what,
            invalid,
        );
    }
    expect_err(
        store
            .create_campaign(
                &Scope::All,
                root,
                &new_campaign("x", None, 1),
                NOW,
                &audit(),
            )
            .await,
        "an administrator names the region",
        invalid,
    );
    expect_err(
        store
            .create_campaign(
                &Scope::Enterprise(1),
                root,
                &new_campaign("x", None, 1),
                NOW,
                &audit(),
            )
            .await,
        "enterprises create no campaigns",
        not_found,
    );

    let names = |scope: Scope| async move {
        let (list, total) = store.campaigns(&scope, all_pages()).await.expect("list");
        assert_eq!(total as usize, list.len());
        list.into_iter().map(|c| c.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(region("3205")).await,
        ["园区", "吴中区", "2024 试点"],
        "newest first"
    );
    assert_eq!(
        names(region("32")).await.len(),
        3,
        "the province sees its cities"
    );
    assert_eq!(names(region("320506")).await, ["园区", "吴中区"]);
    assert!(
        names(region("3201")).await.is_empty(),
        "another city sees none"
    );
    assert_eq!(
        names(Scope::Cluster("wuzhong-precision".into())).await,
        ["园区"]
    );
    assert_eq!(names(Scope::All).await.len(), 3);
    expect_err(
        store.campaign(&region("3201"), c.id).await,
        "another city's campaign",
        not_found,
    );
    assert_eq!(
        store.campaign(&region("32"), c.id).await.expect("province"),
        c
    );
    let (page, total) = store
        .campaigns(
            &region("3205"),
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .expect("page");
    assert_eq!((page.len(), total), (1, 3));
    assert_eq!(page[0].name, "吴中区");

    // Invitation codes are read forgivingly.
    let spaced = format!(
        " {}-{} ",
        &c.invite_code[..6].to_lowercase(),
        &c.invite_code[6..]
    );
    assert_eq!(normalize_invite_code(&spaced), c.invite_code);
    assert_eq!(
        store.campaign_by_invite(&spaced).await.expect("lookup"),
        Some(c.clone())
    );
    assert_eq!(
        store.campaign_by_invite("NOPE").await.expect("lookup"),
        None
    );
    assert_eq!(
        store.campaign_by_invite("'; --").await.expect("lookup"),
        None
    );
    let (entries, _) = store.list_audit(all_pages()).await.expect("audit");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "campaign_created")
            .count(),
        3
    );
}

pub async fn joining_a_campaign_is_consent(store: &dyn Store) {
    let suzhou = authority(store, "320500").await;
    let nanjing_gov = authority(store, "320100").await;
    let _province = authority(store, "320000").await;
    let c = store
        .create_campaign(
            &region("3205"),
            suzhou,
            &new_campaign("试点", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    let e = firm(store, "南京某厂", Some("320115"), None).await;
    let first = complete(store, e, &spec(1, 30.0), NOW - 10 * DAY).await;
    let draft = store
        .create_assessment(e, None, NOW)
        .await
        .expect("a draft");

    // Before joining, the Suzhou authority sees no individual data of this firm.
    expect_err(
        store
            .member_assessments(&region("3205"), e, all_pages())
            .await,
        "no consent yet",
        not_found,
    );
    let (visible, _) = store
        .visible_enterprises(&region("3205"), &Filters::default(), None, all_pages())
        .await
        .expect("list");
    assert!(visible.is_empty());
    assert!(store.who_can_see(e).await.expect("who").is_empty());

    let joined = store
        .join_campaign(e, &c.invite_code.to_lowercase(), NOW, &audit())
        .await
        .expect("join");
    assert!(joined.newly_joined);
    assert_eq!(joined.campaign.id, c.id);
    let again = store
        .join_campaign(e, &c.invite_code, NOW + 5, &audit())
        .await
        .expect("again");
    assert!(!again.newly_joined, "joining is idempotent");

    let (list, total) = store
        .member_assessments(&region("3205"), e, all_pages())
        .await
        .expect("consented");
    assert_eq!(total, 1, "completed assessments only");
    assert_eq!(list[0].id, first);
    assert_eq!(
        store
            .member_assessment(&region("3205"), e, first)
            .await
            .expect("one")
            .id,
        first
    );
    expect_err(
        store.member_assessment(&region("3205"), e, draft.id).await,
        "a draft is not shown",
        not_found,
    );
    expect_err(
        store
            .member_assessments(&region("3201"), e, all_pages())
            .await,
        "Nanjing's authority has no consent, though the firm is in Nanjing",
        not_found,
    );
    assert!(
        store
            .member_assessments(&region("32"), e, all_pages())
            .await
            .is_ok(),
        "the province"
    );
    assert!(
        store
            .member_assessments(&Scope::All, e, all_pages())
            .await
            .is_ok()
    );
    assert!(
        store
            .member_assessments(&Scope::Enterprise(e), e, all_pages())
            .await
            .is_ok()
    );
    expect_err(
        store
            .member_assessments(&Scope::Enterprise(e + 1), e, all_pages())
            .await,
        "another enterprise",
        not_found,
    );
    let (visible, total) = store
        .visible_enterprises(&region("3205"), &Filters::default(), None, all_pages())
        .await
        .expect("list");
    assert_eq!(total, 1);
    assert_eq!(visible[0].enterprise.id, e);
    assert_eq!(visible[0].level, Some(1));
    assert_eq!(visible[0].sector.as_deref(), Some("metal"));
    let (campaigns, _) = store
        .campaigns(&Scope::Enterprise(e), all_pages())
        .await
        .expect("mine");
    assert_eq!(
        campaigns.len(),
        1,
        "an enterprise lists the campaigns it joined"
    );

    let who = store.who_can_see(e).await.expect("who");
    assert_eq!(who.len(), 1);
    assert_eq!(who[0].campaign.id, c.id);
    assert_eq!(who[0].joined_at, NOW);
    assert_eq!(who[0].region_name_zh.as_deref(), Some("苏州市"));
    let viewers: Vec<(Role, Option<&str>)> = who[0]
        .viewers
        .iter()
        .map(|v| (v.role, v.region_code.as_deref()))
        .collect();
    assert_eq!(
        viewers.len(),
        2,
        "Suzhou's and Jiangsu's authorities: {viewers:?}"
    );
    assert!(viewers.contains(&(Role::Authority, Some("320500"))));
    assert!(viewers.contains(&(Role::Authority, Some("320000"))));
    let _ = nanjing_gov;

    store
        .leave_campaign(e, c.id, &audit())
        .await
        .expect("leave");
    expect_err(
        store.leave_campaign(e, c.id, &audit()).await,
        "not a member",
        not_found,
    );
    expect_err(
        store
            .member_assessments(&region("3205"), e, all_pages())
            .await,
        "consent withdrawn",
        not_found,
    );
    assert!(store.who_can_see(e).await.expect("who").is_empty());

    expect_err(
        store.join_campaign(e, "NOSUCHCODE00", NOW, &audit()).await,
        "unknown code",
        not_found,
    );
    expect_err(
        store
            .join_campaign(e, &c.invite_code, at(2024, 7, 1), &audit())
            .await,
        "the campaign has ended",
        conflict,
    );
    expect_err(
        store
            .join_campaign(e + 1000, &c.invite_code, NOW, &audit())
            .await,
        "no enterprise",
        not_found,
    );
    let (entries, _) = store.list_audit(all_pages()).await.expect("audit");
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "campaign_joined").count(),
        1
    );
    assert_eq!(actions.iter().filter(|a| **a == "campaign_left").count(), 1);
}

pub async fn members_are_joined_finished_or_stuck_and_get_reminders(store: &dyn Store) {
    let gov = authority(store, "320500").await;
    let c = store
        .create_campaign(
            &region("3205"),
            gov,
            &new_campaign("试点", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    let join = |e: Id, when: i64| {
        let code = c.invite_code.clone();
        async move {
            store
                .join_campaign(e, &code, when, &audit())
                .await
                .expect("join")
        }
    };
    // finished: completed after joining
    let done = firm(store, "完成", Some("320506"), None).await;
    join(done, NOW).await;
    complete(store, done, &spec(2, 45.0), NOW + DAY).await;
    // stuck: a draft, untouched for 20 days
    let idle = firm(store, "草稿", Some("320506"), None).await;
    join(idle, NOW).await;
    store
        .create_assessment(idle, None, NOW + DAY)
        .await
        .expect("draft");
    // stuck: nothing since joining 20 days ago; completed before joining does not count
    let early = firm(store, "早评", Some("320506"), None).await;
    complete(store, early, &spec(1, 25.0), NOW - 30 * DAY).await;
    join(early, NOW).await;
    // joined: joined recently
    let fresh = firm(store, "新加入", Some("320506"), None).await;
    join(fresh, NOW + 18 * DAY).await;
    // joined: an active draft
    let busy = firm(store, "进行中", Some("320506"), None).await;
    join(busy, NOW).await;
    let d = store
        .create_assessment(busy, None, NOW + DAY)
        .await
        .expect("draft");
    store
        .save_step(busy, d.id, 2, &json!({}), &json!({}), NOW + 19 * DAY)
        .await
        .expect("save");

    let now = NOW + 20 * DAY;
    let scope = region("3205");
    let counts = store
        .member_counts(&scope, c.id, 14, now)
        .await
        .expect("counts");
    assert_eq!(
        (counts.members, counts.finished, counts.stuck, counts.joined),
        (5, 1, 2, 2)
    );
    let status_of = |members: &[smedx_store::regional::Member], e: Id| {
        members
            .iter()
            .find(|m| m.enterprise_id == e)
            .map(|m| m.status)
    };
    let (members, total) = store
        .campaign_members(&scope, c.id, None, 14, now, all_pages())
        .await
        .expect("members");
    assert_eq!(total, 5);
    assert_eq!(status_of(&members, done), Some(MemberStatus::Finished));
    assert_eq!(status_of(&members, idle), Some(MemberStatus::Stuck));
    assert_eq!(status_of(&members, early), Some(MemberStatus::Stuck));
    assert_eq!(status_of(&members, fresh), Some(MemberStatus::Joined));
    assert_eq!(status_of(&members, busy), Some(MemberStatus::Joined));
    let finished = members
        .iter()
        .find(|m| m.enterprise_id == done)
        .expect("member");
    assert_eq!((finished.level, finished.score), (Some(2), Some(45.0)));
    assert_eq!(finished.region_code.as_deref(), Some("320506"));
    assert_eq!(members[0].enterprise_id, fresh, "newest member first");
    let (stuck, total) = store
        .campaign_members(
            &scope,
            c.id,
            Some(MemberStatus::Stuck),
            14,
            now,
            Page {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .expect("stuck");
    assert_eq!((stuck.len(), total), (1, 2));
    expect_err(
        store
            .campaign_members(&region("3201"), c.id, None, 14, now, all_pages())
            .await,
        "another city",
        not_found,
    );
    expect_err(
        store.member_counts(&region("3201"), c.id, 14, now).await,
        "another city",
        not_found,
    );

    expect_err(
        store
            .send_reminders(&scope, c.id, "  ", 14, now, &audit())
            .await,
        "an empty message",
        invalid,
    );
    expect_err(
        store
            .send_reminders(&region("3201"), c.id, "提醒", 14, now, &audit())
            .await,
        "another city's campaign",
        not_found,
    );
    let sent = store
        .send_reminders(&scope, c.id, "请尽快完成自评估", 14, now, &audit())
        .await
        .expect("remind");
    assert_eq!(sent, 2);
    let inbox = store.inbox(idle, all_pages()).await.expect("inbox");
    assert_eq!((inbox.total, inbox.unread), (1, 1));
    let m = &inbox.messages[0];
    assert_eq!(m.body, "请尽快完成自评估");
    assert_eq!(m.campaign_id, Some(c.id));
    assert_eq!(m.campaign_name.as_deref(), Some("试点"));
    assert_eq!(m.read_at, None);
    assert_eq!(
        store.inbox(done, all_pages()).await.expect("inbox").total,
        0
    );
    expect_err(
        store.mark_read(done, m.id, now).await,
        "another enterprise's message",
        not_found,
    );
    store.mark_read(idle, m.id, now + 1).await.expect("read");
    store
        .mark_read(idle, m.id, now + 2)
        .await
        .expect("read again");
    let inbox = store.inbox(idle, all_pages()).await.expect("inbox");
    assert_eq!((inbox.total, inbox.unread), (1, 0));
    assert_eq!(inbox.messages[0].read_at, Some(now + 1));
    let (entries, _) = store.list_audit(all_pages()).await.expect("audit");
    assert!(
        entries
            .iter()
            .any(|e| e.action == "reminders_sent" && e.detail.contains("count=2"))
    );

    // An import that assesses a stuck member again (matched by credit code) finishes it.
    store
        .set_enterprise_location(
            early,
            &EnterpriseLocation {
                region_code: Some("320506"),
                cluster_id: None,
                credit_code: Some("91320506000000077X"),
            },
        )
        .await
        .expect("credit code");
    let imported = store
        .import_enterprises(
            &scope,
            &[record(
                2,
                "早评",
                Some("91320506000000077X"),
                "320506",
                None,
            )],
            &mut AssessmentList(vec![Some(self::done(&spec(2, 44.0), now - DAY))]),
            None,
            now,
            &audit(),
        )
        .await
        .expect("import");
    assert!(matches!(imported, ImportResult::Imported(_)));
    let counts = store
        .member_counts(&scope, c.id, 14, now)
        .await
        .expect("counts");
    assert_eq!(
        (counts.members, counts.finished, counts.stuck, counts.joined),
        (5, 2, 1, 2)
    );
    let (stuck, total) = store
        .campaign_members(
            &scope,
            c.id,
            Some(MemberStatus::Stuck),
            14,
            now,
            all_pages(),
        )
        .await
        .expect("stuck");
    assert_eq!(total, 1);
    assert_eq!(stuck[0].enterprise_id, idle);
}

// ---- facts and dashboards -------------------------------------------------------------------------

pub async fn completions_write_facts_and_dashboards_count_the_latest(store: &dyn Store) {
    let f = Filters::default();
    let a = firm(store, "甲", Some("320506"), None).await;
    complete(store, a, &spec(1, 30.0), NOW).await;
    let d = store
        .level_distribution(&Scope::All, &f, 1)
        .await
        .expect("levels");
    assert_eq!(n(d.assessed), 1);
    assert_eq!(shown(&d.levels), [0, 1, 0, 0, 0]);
    complete(store, a, &spec(2, 45.0), NOW + 100).await;
    let d = store
        .level_distribution(&Scope::All, &f, 1)
        .await
        .expect("levels");
    assert_eq!(
        n(d.assessed),
        1,
        "only the latest assessment of an enterprise counts"
    );
    assert_eq!(shown(&d.levels), [0, 0, 1, 0, 0]);
    assert_eq!(d.mean_score, Cell::Shown(45.0));
    assert_eq!(d.by_sector_size.len(), 1);
    assert_eq!(d.by_sector_size[0].sector.as_deref(), Some("metal"));
    assert_eq!(d.by_sector_size[0].size, "small");

    // The audited completion (the web's) writes facts too.
    let b = firm(store, "乙", Some("320115"), None).await;
    let draft = store.create_assessment(b, None, NOW).await.expect("draft");
    store
        .complete_assessment_audited(
            b,
            draft.id,
            &report(&spec(3, 65.0)),
            Some(65.0),
            Some(3),
            NOW + 5,
            &audit(),
        )
        .await
        .expect("complete");
    // A report without an assessment section has no fact.
    let c = firm(store, "丙", Some("320506"), None).await;
    let draft = store.create_assessment(c, None, NOW).await.expect("draft");
    store
        .complete_assessment(
            c,
            draft.id,
            &json!({"recommendations": []}),
            None,
            None,
            NOW + 6,
        )
        .await
        .expect("complete");
    let d = store
        .level_distribution(&Scope::All, &f, 1)
        .await
        .expect("levels");
    assert_eq!(shown(&d.levels), [0, 0, 1, 1, 0]);
    let suzhou = store
        .level_distribution(&region("3205"), &f, 1)
        .await
        .expect("Suzhou");
    assert_eq!(shown(&suzhou.levels), [0, 0, 1, 0, 0]);
    let p = store
        .participation(&region("3205"), &f, 1)
        .await
        .expect("participation");
    assert_eq!(p.enterprises, Some(Cell::Shown(2)));
    assert_eq!(p.assessed, Cell::Shown(2), "both completed an assessment");
    assert_eq!(p.completions_by_month.len(), 1);
    assert_eq!(p.completions_by_month[0].month, "2023-11");
    assert_eq!(
        p.completions_by_month[0].count,
        Cell::Shown(1),
        "one with a level"
    );
    // A completed assessment stays frozen; a second completion of it writes nothing.
    expect_err(
        store
            .complete_assessment(
                c,
                draft.id,
                &report(&spec(4, 90.0)),
                Some(90.0),
                Some(4),
                NOW + 7,
            )
            .await,
        "already complete",
        conflict,
    );
    assert_eq!(
        n(store
            .level_distribution(&Scope::All, &f, 1)
            .await
            .expect("levels")
            .assessed),
        2
    );
}

/// Eight enterprises in three cities, two clusters and another province.
async fn population(store: &dyn Store) -> Vec<Id> {
    cluster(store, "wz", "320506").await;
    let e1 = firm(store, "e1", Some("320506"), Some("wz")).await;
    let e2 = firm(store, "e2", Some("320506"), Some("wz")).await;
    let e3 = firm(store, "e3", Some("320581"), None).await;
    let e4 = firm(store, "e4", Some("320115"), None).await;
    let e5 = firm(store, "e5", Some("330106"), None).await;
    let e6 = firm(store, "e6", None, None).await;
    let e7 = firm(store, "e7", Some("320506"), None).await;
    let e8 = firm(store, "e8", Some("320506"), None).await;
    complete(
        store,
        e1,
        &spec(1, 25.0).pain(vec!["交期", "库存"]),
        at(2023, 11, 10),
    )
    .await;
    complete(
        store,
        e2,
        &spec(2, 50.0)
            .sector(Some("textile"), "consumer_goods")
            .size("medium")
            .obstacles(vec!["budget", "skills"])
            .path("cluster"),
        at(2023, 11, 20),
    )
    .await;
    complete(store, e3, &spec(0, 10.0).obstacles(vec![]), at(2023, 12, 5)).await;
    complete(
        store,
        e4,
        &spec(3, 65.0).sector(None, "electronics").size("micro"),
        at(2024, 1, 5),
    )
    .await;
    complete(store, e5, &spec(2, 45.0).size("large"), at(2024, 1, 20)).await;
    complete(store, e6, &spec(1, 30.0).pain(vec!["库存"]), at(2024, 2, 1)).await;
    store
        .create_assessment(e7, None, NOW)
        .await
        .expect("a draft only");
    let _ = e8;
    vec![e1, e2, e3, e4, e5, e6, e7, e8]
}

pub async fn dashboards_respect_scope_and_filters(store: &dyn Store) {
    let e = population(store).await;
    let none = Filters::default();
    let assessed = |scope: Scope, f: Filters| async move {
        n(store
            .level_distribution(&scope, &f, 1)
            .await
            .expect("levels")
            .assessed)
    };
    assert_eq!(assessed(Scope::All, none.clone()).await, 6);
    assert_eq!(assessed(region("32"), none.clone()).await, 4);
    assert_eq!(assessed(region("3205"), none.clone()).await, 3);
    assert_eq!(assessed(region("320506"), none.clone()).await, 2);
    assert_eq!(assessed(region("33"), none.clone()).await, 1);
    assert_eq!(assessed(Scope::Cluster("wz".into()), none.clone()).await, 2);
    let within = |p: &str| Filters {
        region: prefix(p),
        ..Filters::default()
    };
    assert_eq!(
        assessed(region("3205"), within("320506")).await,
        2,
        "narrower filter"
    );
    assert_eq!(
        assessed(region("3205"), within("32")).await,
        3,
        "a wider filter is clipped to the scope"
    );
    assert_eq!(
        assessed(region("3205"), within("3201")).await,
        0,
        "a disjoint filter shows nothing"
    );
    let cl = |c: &str| Filters {
        cluster: Some(c.into()),
        ..Filters::default()
    };
    assert_eq!(assessed(Scope::Cluster("wz".into()), cl("other")).await, 0);
    assert_eq!(assessed(region("3205"), cl("wz")).await, 2);
    let by = |sector: Option<&str>, group: Option<&str>, size: Option<&str>| Filters {
        sector: sector.map(str::to_owned),
        group: group.map(str::to_owned),
        size: size.map(str::to_owned),
        ..Filters::default()
    };
    assert_eq!(assessed(Scope::All, by(Some("metal"), None, None)).await, 4);
    assert_eq!(
        assessed(Scope::All, by(None, Some("consumer_goods"), None)).await,
        1
    );
    assert_eq!(
        assessed(Scope::All, by(None, Some("electronics"), None)).await,
        1
    );
    assert_eq!(assessed(Scope::All, by(None, None, Some("small"))).await, 3);
    assert_eq!(
        assessed(Scope::All, by(Some("metal"), None, Some("small"))).await,
        3
    );
    let months = |from: Option<i64>, to: Option<i64>| Filters {
        from_month: from,
        to_month: to,
        ..Filters::default()
    };
    assert_eq!(assessed(Scope::All, months(Some(202_312), None)).await, 4);
    assert_eq!(assessed(Scope::All, months(None, Some(202_311))).await, 2);
    assert_eq!(
        assessed(Scope::All, months(Some(202_312), Some(202_401))).await,
        3
    );
    expect_err(
        store
            .level_distribution(&Scope::All, &months(Some(202_313), None), 1)
            .await,
        "not a month",
        invalid,
    );
    expect_err(
        store
            .level_distribution(&Scope::Enterprise(e[0]), &none, 1)
            .await,
        "enterprises have no dashboards",
        not_found,
    );

    // Campaign filter: the members, wherever they are; only in the campaign's scope.
    let gov = authority(store, "320500").await;
    let c = store
        .create_campaign(
            &region("3205"),
            gov,
            &new_campaign("试点", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    for m in [e[0], e[3]] {
        store
            .join_campaign(m, &c.invite_code, NOW, &audit())
            .await
            .expect("join");
    }
    let camp = Filters {
        campaign: Some(c.id),
        ..Filters::default()
    };
    assert_eq!(
        assessed(region("3205"), camp.clone()).await,
        2,
        "e4 in Nanjing consented"
    );
    assert_eq!(assessed(Scope::All, camp.clone()).await, 2);
    expect_err(
        store.level_distribution(&region("3201"), &camp, 1).await,
        "another city's campaign",
        not_found,
    );

    // Every aggregate, exactly (k = 1).
    let d = store
        .level_distribution(&Scope::All, &none, 1)
        .await
        .expect("levels");
    assert_eq!(shown(&d.levels), [1, 2, 2, 1, 0]);
    assert_eq!(d.mean_score, Cell::Shown(37.5));
    assert_eq!(d.by_sector_size.len(), 4);
    let h = store
        .score_histogram(&Scope::All, &none, 1)
        .await
        .expect("histogram");
    assert_eq!(
        shown(&h.bins.iter().map(|b| b.count).collect::<Vec<_>>()),
        [0, 1, 1, 1, 1, 1, 1, 0, 0, 0]
    );
    assert_eq!((h.bins[9].from, h.bins[9].to), (90, 100));
    let s = store
        .scenario_distribution(&Scope::All, &none, 1)
        .await
        .expect("scenarios");
    assert_eq!(s.scenarios.len(), 16);
    assert_eq!(s.scenarios[0].scenario, "product_design");
    assert_eq!(
        shown(&s.scenarios[0].levels),
        [1, 2, 2, 1, 0],
        "all rated at the firm's level"
    );
    let rec = store
        .top_items(&Scope::All, &none, ItemKind::Recommended, 10, 1)
        .await
        .expect("recs");
    assert_eq!(n(rec.assessed), 6);
    assert_eq!(
        rec.items
            .iter()
            .map(|i| (i.item.as_str(), n(i.count)))
            .collect::<Vec<_>>(),
        [("ops.erp", 6), ("pl.transparency", 6)]
    );
    let pain = store
        .pain_words(&Scope::All, &none, 10, 1)
        .await
        .expect("pain");
    assert_eq!(
        pain.items
            .iter()
            .map(|i| (i.item.as_str(), n(i.count)))
            .collect::<Vec<_>>(),
        [("交期", 5), ("库存", 2)]
    );
    let paths = store
        .path_distribution(&Scope::All, &none, 1)
        .await
        .expect("paths");
    assert_eq!(
        paths
            .items
            .iter()
            .map(|i| (i.item.as_str(), n(i.count)))
            .collect::<Vec<_>>(),
        [("lightweight", 5), ("cluster", 1)]
    );
    let obst = store
        .obstacles_by_size(&Scope::All, &none, 1)
        .await
        .expect("obstacles");
    type SizeRow<'a> = (&'a str, i64, Vec<(&'a str, i64)>);
    let sizes: Vec<SizeRow<'_>> = obst
        .sizes
        .iter()
        .map(|s| {
            (
                s.size.as_str(),
                n(s.assessed),
                s.obstacles
                    .iter()
                    .map(|o| (o.item.as_str(), n(o.count)))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("micro", 1, vec![("budget", 1)]),
            ("small", 3, vec![("budget", 2)]),
            ("medium", 1, vec![("budget", 1), ("skills", 1)]),
            ("large", 1, vec![("budget", 1)]),
        ]
    );
    let p = store
        .participation(&Scope::All, &none, 1)
        .await
        .expect("participation");
    assert_eq!(p.enterprises, Some(Cell::Shown(8)));
    assert_eq!(p.assessed, Cell::Shown(6));
    assert_eq!(p.in_progress, Some(Cell::Shown(1)));
    assert_eq!(p.not_started, Some(Cell::Shown(1)));
    assert_eq!(
        p.completions_by_month
            .iter()
            .map(|m| (m.month.as_str(), n(m.count)))
            .collect::<Vec<_>>(),
        [
            ("2023-11", 2),
            ("2023-12", 1),
            ("2024-01", 2),
            ("2024-02", 1)
        ]
    );
    let p = store
        .participation(&region("3205"), &by(Some("metal"), None, None), 1)
        .await
        .expect("p");
    assert_eq!(
        (p.enterprises, p.assessed, p.in_progress),
        (None, Cell::Shown(2), None)
    );
    let p = store
        .participation(&region("3205"), &camp, 1)
        .await
        .expect("campaign participation");
    assert_eq!(p.enterprises, Some(Cell::Shown(2)));
    let t = store
        .target_tracker(&Scope::All, &none, Some(2), 1)
        .await
        .expect("tracker");
    assert_eq!((n(t.assessed), n(t.meets)), (6, 3));
    let dash = store
        .dashboard(&region("3205"), &camp, None, 1)
        .await
        .expect("dashboard");
    assert_eq!(dash.enterprises, Cell::Shown(2));
    assert_eq!(
        dash.target.as_ref().map(|t| t.target_level),
        Some(2),
        "the campaign's target"
    );
}

pub async fn enterprise_list_is_filtered_and_searched(store: &dyn Store) {
    let e = population(store).await;
    let gov = authority(store, "320500").await;
    let mut campaigns = Vec::new();
    for name in ["试点", "第二批"] {
        campaigns.push(
            store
                .create_campaign(
                    &region("3205"),
                    gov,
                    &new_campaign(name, None, 2),
                    NOW,
                    &audit(),
                )
                .await
                .expect("campaign"),
        );
    }
    let (c, c2) = (&campaigns[0], &campaigns[1]);
    for m in [e[0], e[1], e[6]] {
        store
            .join_campaign(m, &c.invite_code, NOW, &audit())
            .await
            .expect("join");
    }
    store
        .join_campaign(e[2], &c2.invite_code, NOW, &audit())
        .await
        .expect("join");
    let suzhou = region("3205");
    let list = |scope: Scope, f: Filters, search: Option<&'static str>| async move {
        let (rows, total) = store
            .visible_enterprises(&scope, &f, search, all_pages())
            .await
            .expect("list");
        let mut names: Vec<String> = rows.iter().map(|r| r.enterprise.name.clone()).collect();
        names.sort();
        assert_eq!(usize::try_from(total).ok(), Some(names.len()), "total");
        names
    };
    let by_campaign = |id: Id| Filters {
        campaign: Some(id),
        ..Filters::default()
    };
    assert_eq!(
        list(suzhou.clone(), Filters::default(), None).await,
        ["e1", "e2", "e3", "e7"]
    );
    assert_eq!(
        list(suzhou.clone(), by_campaign(c.id), None).await,
        ["e1", "e2", "e7"]
    );
    assert_eq!(list(suzhou.clone(), by_campaign(c2.id), None).await, ["e3"]);
    assert_eq!(list(Scope::All, by_campaign(c2.id), None).await, ["e3"]);
    expect_err(
        store
            .visible_enterprises(&region("3201"), &by_campaign(c.id), None, all_pages())
            .await,
        "another city's campaign",
        not_found,
    );
    let textile = Filters {
        sector: Some("textile".into()),
        ..Filters::default()
    };
    assert_eq!(list(suzhou.clone(), textile, None).await, ["e2"]);
    let november = Filters {
        from_month: Some(202_311),
        to_month: Some(202_311),
        ..Filters::default()
    };
    assert_eq!(
        list(suzhou.clone(), november, None).await,
        ["e1", "e2"],
        "e7 has no completed assessment"
    );
    let kunshan = Filters {
        region: RegionPrefix::parse("320581"),
        ..Filters::default()
    };
    assert_eq!(list(suzhou.clone(), kunshan, None).await, ["e3"]);
    let wz = Filters {
        cluster: Some("wz".into()),
        ..Filters::default()
    };
    assert_eq!(list(suzhou.clone(), wz, None).await, ["e1", "e2"]);
    assert_eq!(
        list(suzhou.clone(), Filters::default(), Some("E2")).await,
        ["e2"]
    );
    assert!(
        list(suzhou.clone(), Filters::default(), Some("%"))
            .await
            .is_empty(),
        "a wildcard is searched for literally"
    );
    assert!(
        list(Scope::All, Filters::default(), Some("e5")).await == ["e5"],
        "an administrator finds any enterprise"
    );
    assert!(
        list(suzhou.clone(), Filters::default(), Some("e5"))
            .await
            .is_empty(),
        "an authority finds only members of its campaigns"
    );
    let (page, total) = store
        .visible_enterprises(
            &suzhou,
            &by_campaign(c.id),
            None,
            Page {
                offset: 0,
                limit: 2,
            },
        )
        .await
        .expect("a page");
    assert_eq!((page.len(), total), (2, 3));
    // A search's page past the end still counts the matches.
    let (past, total) = store
        .visible_enterprises(
            &Scope::All,
            &Filters::default(),
            Some("e"),
            Page {
                offset: 100,
                limit: 5,
            },
        )
        .await
        .expect("past the end");
    assert_eq!((past.len(), total), (0, 8));
    let (second, total) = store
        .visible_enterprises(
            &Scope::All,
            &Filters::default(),
            Some("e"),
            Page {
                offset: 5,
                limit: 5,
            },
        )
        .await
        .expect("second page");
    assert_eq!((second.len(), total), (3, 8));
    expect_err(
        store
            .visible_enterprises(
                &suzhou,
                &Filters {
                    from_month: Some(202_313),
                    ..Filters::default()
                },
                None,
                all_pages(),
            )
            .await,
        "no such month",
        invalid,
    );
}

pub async fn small_groups_are_suppressed(store: &dyn Store) {
    population(store).await;
    let none = Filters::default();
    let d = store
        .level_distribution(&Scope::All, &none, 5)
        .await
        .expect("levels");
    assert_eq!(d.assessed, Cell::Shown(6));
    assert_eq!(
        serde_json::to_value(&d.levels).expect("json"),
        json!([{"suppressed": true}, {"suppressed": true}, {"suppressed": true}, {"suppressed": true}, 0])
    );
    assert_eq!(
        d.mean_score,
        Cell::Shown(37.5),
        "six firms: the mean is shown"
    );
    let small = store
        .level_distribution(&region("3205"), &none, 5)
        .await
        .expect("Suzhou");
    assert_eq!(small.assessed, Cell::Suppressed);
    assert!(
        small.levels.iter().all(Cell::is_suppressed),
        "a small group hides its zeros too"
    );
    assert_eq!(small.mean_score, Cell::Suppressed);
    let text = serde_json::to_string(&small).expect("json");
    assert!(!text.contains("\"count\""), "{text}");
    let pain = store
        .pain_words(&Scope::All, &none, 10, 5)
        .await
        .expect("pain");
    assert_eq!(pain.items.len(), 1, "库存 (2 firms) is withheld");
    assert_eq!(pain.withheld, 1);
    let rec = store
        .top_items(&Scope::All, &none, ItemKind::Recommended, 10, 7)
        .await
        .expect("recs");
    assert!(
        rec.items.iter().all(|i| i.count.is_suppressed()),
        "6 < 7, scenario ids stay listed"
    );
    let p = store
        .participation(&Scope::All, &none, 5)
        .await
        .expect("participation");
    assert_eq!(p.enterprises, Some(Cell::Shown(8)));
    assert_eq!(p.assessed, Cell::Shown(6));
    assert_eq!(p.in_progress, Some(Cell::Suppressed));
    assert_eq!(p.not_started, Some(Cell::Suppressed));
    let everything = store
        .level_distribution(&Scope::All, &none, 1)
        .await
        .expect("k = 1");
    assert!(everything.levels.iter().all(|c| !c.is_suppressed()));
}

pub async fn target_tracker_and_progress_between_rounds(store: &dyn Store) {
    let gov = authority(store, "320500").await;
    let c = store
        .create_campaign(
            &region("3205"),
            gov,
            &new_campaign("二级", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    let r1 = TimeRange {
        from: at(2023, 12, 1) - 12 * 3600,
        to: at(2024, 1, 1) - 12 * 3600,
    };
    let r2 = TimeRange {
        from: at(2024, 3, 1) - 12 * 3600,
        to: at(2024, 4, 1) - 12 * 3600,
    };
    /// Name, round 1 (level, score), round 2, one scenario short of level 2 in round 2.
    type Round = (&'static str, Option<(u8, f64)>, (u8, f64), bool);
    let rounds: [Round; 6] = [
        ("m1", Some((1, 30.0)), (2, 45.0), false),
        ("m2", Some((1, 35.0)), (1, 36.0), true),
        ("m3", Some((2, 45.0)), (3, 62.0), false),
        ("m4", Some((0, 15.0)), (0, 12.0), false),
        ("m5", Some((1, 25.0)), (2, 41.0), false),
        ("m6", None, (1, 28.0), false),
    ];
    let mut ids = Vec::new();
    for (i, (name, first, (l2, s2), away)) in rounds.iter().enumerate() {
        let e = firm(store, name, Some("320506"), None).await;
        store
            .join_campaign(e, &c.invite_code, NOW, &audit())
            .await
            .expect("join");
        let day = i64::try_from(i).unwrap_or(0) + 1;
        if let Some((l1, s1)) = first {
            // an earlier assessment in round 1 that its later one replaces
            complete(store, e, &spec(0, 1.0), at(2023, 12, day)).await;
            complete(store, e, &spec(*l1, *s1), at(2023, 12, day + 10)).await;
        }
        let mut s = spec(*l2, *s2);
        if *away {
            s = s.away(2);
        }
        complete(store, e, &s, at(2024, 3, day)).await;
        ids.push(e);
    }
    // a non-member in the same county
    let outsider = firm(store, "outsider", Some("320506"), None).await;
    complete(store, outsider, &spec(1, 30.0), at(2023, 12, 3)).await;
    complete(store, outsider, &spec(4, 95.0), at(2024, 3, 3)).await;

    let camp = Filters {
        campaign: Some(c.id),
        ..Filters::default()
    };
    let t = store
        .target_tracker(&region("3205"), &camp, None, 1)
        .await
        .expect("tracker");
    assert_eq!(t.target_level, 2, "the campaign's target");
    assert_eq!(
        (n(t.assessed), n(t.meets), n(t.one_away), n(t.further)),
        (6, 3, 1, 2)
    );
    let t3 = store
        .target_tracker(&Scope::All, &Filters::default(), Some(3), 1)
        .await
        .expect("level 3");
    assert_eq!((n(t3.assessed), n(t3.meets)), (7, 2));
    expect_err(
        store
            .target_tracker(&Scope::All, &Filters::default(), None, 1)
            .await,
        "no target",
        invalid,
    );
    expect_err(
        store
            .target_tracker(&Scope::All, &Filters::default(), Some(5), 1)
            .await,
        "no such level",
        invalid,
    );

    let p = store
        .progress(&region("3205"), c.id, r1, r2, &Filters::default(), 1)
        .await
        .expect("progress");
    assert_eq!(n(p.both), 5);
    assert_eq!((n(p.moved_up), n(p.unchanged), n(p.moved_down)), (3, 2, 0));
    assert_eq!(p.transitions[1][2], Cell::Shown(2));
    assert_eq!(p.transitions[1][1], Cell::Shown(1));
    assert_eq!(p.transitions[2][3], Cell::Shown(1));
    assert_eq!(p.transitions[0][0], Cell::Shown(1));
    assert_eq!(p.median_change, Cell::Shown(15.0));
    assert_eq!(p.mean_change, Cell::Shown(9.2));
    let suppressed = store
        .progress(&region("3205"), c.id, r1, r2, &Filters::default(), 5)
        .await
        .expect("progress, k = 5");
    assert_eq!(suppressed.both, Cell::Shown(5));
    assert_eq!(suppressed.moved_up, Cell::Suppressed);
    assert_eq!(suppressed.median_change, Cell::Shown(15.0));
    let small_filter = Filters {
        size: Some("medium".into()),
        ..Filters::default()
    };
    let none = store
        .progress(&region("3205"), c.id, r1, r2, &small_filter, 1)
        .await
        .expect("filtered");
    assert_eq!(none.both, Cell::Shown(0));
    expect_err(
        store
            .progress(&region("3201"), c.id, r1, r2, &Filters::default(), 1)
            .await,
        "another city's campaign",
        not_found,
    );
    expect_err(
        store
            .progress(
                &region("3205"),
                c.id,
                r2,
                TimeRange { from: 5, to: 5 },
                &Filters::default(),
                1,
            )
            .await,
        "an empty round",
        invalid,
    );
    let (movers, total) = store
        .progress_members(&region("3205"), c.id, r1, r2, all_pages())
        .await
        .expect("members");
    assert_eq!(total, 5);
    let names: Vec<&str> = movers.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["m3", "m5", "m1", "m2", "m4"]);
    assert_eq!((movers[0].level_before, movers[0].level_after), (2, 3));
    assert_eq!(
        (movers[0].score_before, movers[0].score_after),
        (45.0, 62.0)
    );
    assert_eq!(ids.len(), 6);
}

pub async fn progress_takes_the_later_of_two_assessments_of_the_same_second(store: &dyn Store) {
    let gov = authority(store, "320500").await;
    let c = store
        .create_campaign(
            &region("3205"),
            gov,
            &new_campaign("同秒", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    let (r1, r2) = (
        TimeRange {
            from: at(2023, 12, 1),
            to: at(2024, 1, 1),
        },
        TimeRange {
            from: at(2024, 3, 1),
            to: at(2024, 4, 1),
        },
    );
    // "before" joins and then is assessed; "after" is assessed and then joins (its facts are
    // copied). Each has two round-2 assessments completed in the same second: the later one
    // (the higher id) counts.
    let mut firms = Vec::new();
    for (name, join_first) in [("before", true), ("after", false)] {
        let e = firm(store, name, Some("320506"), None).await;
        if join_first {
            store
                .join_campaign(e, &c.invite_code, NOW, &audit())
                .await
                .expect("join");
        }
        complete(store, e, &spec(1, 30.0), at(2023, 12, 5)).await;
        complete(store, e, &spec(3, 70.0), at(2024, 3, 5)).await;
        complete(store, e, &spec(2, 45.5), at(2024, 3, 5)).await;
        if !join_first {
            store
                .join_campaign(e, &c.invite_code, NOW, &audit())
                .await
                .expect("join");
        }
        firms.push(e);
    }
    for when in ["maintained", "rebuilt"] {
        if when == "rebuilt" {
            store.rebuild_rollups().await.expect("rebuild");
        }
        let (movers, total) = store
            .progress_members(&Scope::All, c.id, r1, r2, all_pages())
            .await
            .expect("members");
        assert_eq!(total, 2, "{when}");
        for m in &movers {
            assert_eq!(
                (m.level_before, m.level_after, m.score_before, m.score_after),
                (1, 2, 30.0, 45.5),
                "{when}: {}",
                m.name
            );
        }
        let p = store
            .progress(&Scope::All, c.id, r1, r2, &Filters::default(), 1)
            .await
            .expect("progress");
        assert_eq!(p.transitions[1][2], Cell::Shown(2), "{when}");
        assert_eq!(p.median_change, Cell::Shown(15.5), "{when}");
    }
    // Paging: the second page holds the other member, the total stays.
    let (second, total) = store
        .progress_members(
            &Scope::All,
            c.id,
            r1,
            r2,
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .expect("page 2");
    assert_eq!((second.len(), total), (1, 2));
    let (beyond, total) = store
        .progress_members(
            &Scope::All,
            c.id,
            r1,
            r2,
            Page {
                offset: 5,
                limit: 1,
            },
        )
        .await
        .expect("page 6");
    assert_eq!((beyond.len(), total), (0, 2));
}

// ---- import -------------------------------------------------------------------------------------

fn record(
    row: usize,
    name: &str,
    credit: Option<&str>,
    region: &str,
    cluster: Option<&str>,
) -> NewEnterpriseRecord {
    NewEnterpriseRecord {
        row,
        name: name.into(),
        credit_code: credit.map(str::to_owned),
        region_code: region.into(),
        cluster_id: cluster.map(str::to_owned),
    }
}

fn done(s: &Spec, when: i64) -> NewCompletedAssessment {
    NewCompletedAssessment::new(
        &json!({"industry": "C3311", "employees": 50}),
        &json!({"scenarios": {"quality": s.level}}),
        &report(s),
        Some(s.score),
        Some(i64::from(s.level)),
        when,
    )
}

#[test]
fn prefetching_computes_each_batch_once_and_in_order() {
    use smedx_store::regional::{AssessmentBatch, Prefetching};
    let computed: std::sync::Arc<Mutex<Vec<std::ops::Range<usize>>>> = Default::default();
    let log = std::sync::Arc::clone(&computed);
    let mut source = Prefetching::new(
        25,
        move |range: std::ops::Range<usize>| -> AssessmentBatch {
            log.lock().expect("log").push(range.clone());
            range
                .map(|i| {
                    if i % 7 == 3 {
                        Err(format!("row {i}"))
                    } else {
                        Ok(Some(self::done(&spec(1, i as f64), NOW)))
                    }
                })
                .collect()
        },
    );
    let mut seen = Vec::new();
    for range in [0..10, 10..20, 20..25] {
        for (i, r) in range.clone().zip(source.assessments(range)) {
            match r {
                Ok(Some(a)) => seen.push((i, a.score)),
                Err(msg) => assert_eq!(msg, format!("row {i}")),
                Ok(None) => panic!("row {i} has an assessment"),
            }
        }
    }
    assert_eq!(seen.len(), 25 - 4, "every row but the failing ones");
    assert!(
        seen.iter().all(|(i, score)| *score == Some(*i as f64)),
        "in order"
    );
    // A range out of step is computed on the spot.
    assert_eq!(source.assessments(3..5).len(), 2);
    let ranges = computed.lock().expect("log").clone();
    assert_eq!(
        ranges[..3],
        [0..10, 10..20, 20..25],
        "each batch once, nothing past the last row"
    );
    assert!(ranges.contains(&(3..5)));
}

/// A source that fails on one row.
struct Failing(usize);

impl AssessmentSource for Failing {
    fn assessments(
        &mut self,
        rows: std::ops::Range<usize>,
    ) -> Vec<std::result::Result<Option<NewCompletedAssessment>, String>> {
        rows.map(|i| {
            if i == self.0 {
                Err("the industry code is unknown".to_owned())
            } else {
                Ok(Some(done(&spec(1, 30.0), NOW)))
            }
        })
        .collect()
    }
}

fn problems(r: ImportResult) -> Vec<(usize, ImportProblemKind)> {
    match r {
        ImportResult::Rejected { problems } => problems.iter().map(|p| (p.row, p.kind)).collect(),
        ImportResult::Imported(c) => panic!("expected a rejection, imported {c:?}"),
    }
}

pub async fn import_is_all_or_nothing(store: &dyn Store, probe: &dyn Probe) {
    cluster(store, "wz", "320506").await;
    cluster(store, "jn", "320115").await;
    let elsewhere = firm(store, "南京老厂", Some("320115"), None).await;
    store
        .set_enterprise_location(
            elsewhere,
            &EnterpriseLocation {
                region_code: Some("320115"),
                cluster_id: None,
                credit_code: Some("91320115000000000A"),
            },
        )
        .await
        .expect("credit code");
    let before = probe.count_enterprises().await;
    let suzhou = region("3205");

    let rows = vec![
        record(2, "甲", Some("91320506000000001A"), "320506", Some("wz")),
        record(3, "乙", Some("91320506000000002B"), "320115", None),
        record(
            4,
            "丙",
            Some("91320506000000001A"),
            "320581",
            Some("nowhere"),
        ),
        record(5, " ", None, "32058", None),
        record(6, "丁", Some("91320115000000000A"), "320506", None),
    ];
    let got = problems(
        store
            .import_enterprises(
                &suzhou,
                &rows,
                &mut AssessmentList(vec![]),
                None,
                NOW,
                &audit(),
            )
            .await
            .expect("import"),
    );
    assert_eq!(
        got,
        [
            (3, ImportProblemKind::RegionOutOfScope),
            (4, ImportProblemKind::DuplicateCreditCode),
            (4, ImportProblemKind::UnknownCluster),
            (5, ImportProblemKind::MissingName),
            (5, ImportProblemKind::InvalidRegion),
            (6, ImportProblemKind::CreditCodeOutOfScope),
        ]
    );
    assert_eq!(probe.count_enterprises().await, before, "nothing stored");
    let got = problems(
        store
            .import_enterprises(
                &Scope::Cluster("wz".into()),
                &[record(2, "甲", None, "320506", Some("jn"))],
                &mut AssessmentList(vec![]),
                None,
                NOW,
                &audit(),
            )
            .await
            .expect("import"),
    );
    assert_eq!(got, [(2, ImportProblemKind::ClusterOutOfScope)]);
    expect_err(
        store
            .import_enterprises(
                &Scope::Enterprise(elsewhere),
                &[],
                &mut AssessmentList(vec![]),
                None,
                NOW,
                &audit(),
            )
            .await,
        "enterprises do not import",
        not_found,
    );

    // A row that cannot be assessed rejects the import after rows were written: rolled back.
    let rows: Vec<NewEnterpriseRecord> = (0..2500)
        .map(|i| record(i + 2, &format!("批量{i}"), None, "320506", None))
        .collect();
    let got = problems(
        store
            .import_enterprises(&suzhou, &rows, &mut Failing(2200), None, NOW, &audit())
            .await
            .expect("import"),
    );
    assert_eq!(got, [(2202, ImportProblemKind::Assessment)]);
    assert_eq!(probe.count_enterprises().await, before, "rolled back");
    assert_eq!(
        n(store
            .level_distribution(&Scope::All, &Filters::default(), 1)
            .await
            .expect("levels")
            .assessed),
        0
    );

    // A good import, with progress.
    let rows = vec![
        record(2, "甲", Some("91320506000000001A"), "320506", Some("wz")),
        record(3, "乙", Some("91320506000000002B"), "320581", None),
        record(4, "丙", None, "320506", None),
    ];
    let seen = Mutex::new(Vec::new());
    let progress = |done: usize, all: usize| {
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((done, all))
    };
    let result = store
        .import_enterprises(
            &suzhou,
            &rows,
            &mut AssessmentList(vec![
                Some(done(&spec(1, 30.0), at(2024, 1, 10))),
                Some(done(&spec(2, 45.0).size("medium"), at(2024, 1, 11))),
                None,
            ]),
            Some(&progress),
            NOW,
            &audit(),
        )
        .await
        .expect("import");
    let ImportResult::Imported(counts) = result else {
        panic!("expected an import, got {result:?}");
    };
    assert_eq!(
        (
            counts.rows,
            counts.enterprises_created,
            counts.enterprises_matched,
            counts.assessments,
            counts.facts
        ),
        (3, 3, 0, 2, 2)
    );
    assert_eq!(
        seen.lock().unwrap_or_else(|e| e.into_inner()).last(),
        Some(&(3, 3))
    );
    assert_eq!(probe.count_enterprises().await, before + 3);
    let d = store
        .level_distribution(&suzhou, &Filters::default(), 1)
        .await
        .expect("levels");
    assert_eq!(shown(&d.levels), [0, 1, 1, 0, 0]);
    let wz = store
        .level_distribution(&Scope::Cluster("wz".into()), &Filters::default(), 1)
        .await
        .expect("cluster");
    assert_eq!(n(wz.assessed), 1);
    let p = store
        .participation(&suzhou, &Filters::default(), 1)
        .await
        .expect("participation");
    assert_eq!(
        (p.enterprises, p.assessed, p.not_started),
        (Some(Cell::Shown(3)), Cell::Shown(2), Some(Cell::Shown(1)))
    );

    // Round 2: the same credit codes add assessments to the stored enterprises.
    let rows = vec![
        record(
            2,
            "甲（新名）",
            Some("91320506000000001A"),
            "320506",
            Some("wz"),
        ),
        record(3, "乙", Some("91320506000000002B"), "320581", None),
    ];
    let result = store
        .import_enterprises(
            &suzhou,
            &rows,
            &mut AssessmentList(vec![
                Some(done(&spec(3, 61.0), at(2024, 6, 1))),
                // older than the stored one: kept, but not the latest
                Some(done(&spec(0, 5.0), at(2023, 6, 1))),
            ]),
            None,
            NOW,
            &audit(),
        )
        .await
        .expect("round 2");
    let ImportResult::Imported(counts) = result else {
        panic!("expected an import, got {result:?}");
    };
    assert_eq!(
        (
            counts.enterprises_created,
            counts.enterprises_matched,
            counts.facts
        ),
        (0, 2, 2)
    );
    assert_eq!(probe.count_enterprises().await, before + 3);
    let d = store
        .level_distribution(&suzhou, &Filters::default(), 1)
        .await
        .expect("levels");
    assert_eq!(
        shown(&d.levels),
        [0, 0, 1, 1, 0],
        "甲 moved to level 3; 乙 kept its newer level 2"
    );
    let (all, _) = store
        .visible_enterprises(&Scope::All, &Filters::default(), None, all_pages())
        .await
        .expect("list");
    let jia = all
        .iter()
        .find(|v| v.enterprise.credit_code.as_deref() == Some("91320506000000001A"))
        .expect("甲");
    assert_eq!(
        jia.enterprise.name, "甲",
        "a matched enterprise keeps its name"
    );
    assert_eq!(jia.level, Some(3));
    let (list, total) = store
        .member_assessments(&Scope::All, jia.enterprise.id, all_pages())
        .await
        .expect("history");
    assert_eq!(total, 2);
    assert_eq!(list[0].completed_at, Some(at(2024, 6, 1)));
    assert_eq!(list[0].level, Some(3));
    assert!(parse_region_code(jia.enterprise.region_code.as_deref().unwrap_or("")).is_some());
    let (entries, _) = store.list_audit(all_pages()).await.expect("audit");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "enterprises_imported")
            .count(),
        2
    );
}

// ---- rollups --------------------------------------------------------------------------------------

/// Every dashboard of several scopes and filters, as JSON (k = 1).
async fn snapshot(store: &dyn Store, campaign: Id) -> Vec<Value> {
    let mut out = Vec::new();
    let cases = [
        (Scope::All, Filters::default()),
        (region("32"), Filters::default()),
        (
            region("3205"),
            Filters {
                sector: Some("metal".into()),
                ..Filters::default()
            },
        ),
        (
            region("320506"),
            Filters {
                from_month: Some(202_312),
                ..Filters::default()
            },
        ),
        (Scope::Cluster("wz".into()), Filters::default()),
        (
            region("3205"),
            Filters {
                campaign: Some(campaign),
                ..Filters::default()
            },
        ),
    ];
    for (scope, f) in cases {
        let d = store
            .dashboard(&scope, &f, Some(2), 1)
            .await
            .expect("dashboard");
        out.push(serde_json::to_value(&d).expect("json"));
    }
    // The two-round comparison reads the campaign's copy of its members' facts.
    let (r1, r2) = snapshot_rounds();
    for f in [
        Filters::default(),
        Filters {
            region: RegionPrefix::parse("3201"),
            ..Filters::default()
        },
    ] {
        let p = store
            .progress(&Scope::All, campaign, r1, r2, &f, 1)
            .await
            .expect("progress");
        out.push(serde_json::to_value(&p).expect("json"));
    }
    let (movers, total) = store
        .progress_members(&Scope::All, campaign, r1, r2, all_pages())
        .await
        .expect("progress members");
    out.push(json!({
        "total": total,
        "members": serde_json::to_value(&movers).expect("json"),
    }));
    out
}

/// Round 1: November 2023 to January 2024; round 2: November 2023 to March 2024.
fn snapshot_rounds() -> (TimeRange, TimeRange) {
    (
        TimeRange {
            from: at(2023, 11, 1),
            to: at(2024, 2, 1),
        },
        TimeRange {
            from: at(2023, 11, 1),
            to: at(2024, 4, 1),
        },
    )
}

pub async fn rollups_match_a_rebuild(store: &dyn Store) {
    let e = population(store).await;
    let gov = authority(store, "320500").await;
    let c = store
        .create_campaign(
            &region("3205"),
            gov,
            &new_campaign("试点", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    for m in [e[0], e[1], e[3], e[6]] {
        store
            .join_campaign(m, &c.invite_code, NOW, &audit())
            .await
            .expect("join");
    }
    complete(store, e[1], &spec(3, 70.0), at(2024, 3, 1)).await;
    complete(store, e[6], &spec(1, 22.0), at(2024, 3, 2)).await;
    store
        .leave_campaign(e[3], c.id, &audit())
        .await
        .expect("leave");
    store
        .set_enterprise_location(
            e[0],
            &EnterpriseLocation {
                region_code: Some("320115"),
                cluster_id: None,
                credit_code: None,
            },
        )
        .await
        .expect("move");
    store
        .import_enterprises(
            &Scope::All,
            &[record(
                2,
                "导入",
                Some("91320506000000009Z"),
                "320506",
                Some("wz"),
            )],
            &mut AssessmentList(vec![Some(done(&spec(2, 48.0), at(2024, 2, 2)))]),
            None,
            NOW,
            &audit(),
        )
        .await
        .expect("import");
    let incremental = snapshot(store, c.id).await;
    let moved = store
        .level_distribution(&region("3201"), &Filters::default(), 1)
        .await
        .expect("Nanjing");
    assert_eq!(
        n(moved.assessed),
        2,
        "the moved firm counts where it now is"
    );
    // Members: e1 (joined after its assessment, then moved to Nanjing), e2 (assessed again after
    // joining) and e7 (assessed only after round 1); e4 left.
    let (r1, r2) = snapshot_rounds();
    let (movers, total) = store
        .progress_members(&Scope::All, c.id, r1, r2, all_pages())
        .await
        .expect("progress members");
    assert_eq!(total, 2);
    let who: Vec<(Id, u8, u8)> = movers
        .iter()
        .map(|m| (m.enterprise_id, m.level_before, m.level_after))
        .collect();
    assert_eq!(who, [(e[1], 2, 3), (e[0], 1, 1)], "e2 moved up, e1 did not");
    let nanjing = store
        .progress(
            &Scope::All,
            c.id,
            r1,
            r2,
            &Filters {
                region: RegionPrefix::parse("3201"),
                ..Filters::default()
            },
            1,
        )
        .await
        .expect("progress in Nanjing");
    assert_eq!(
        nanjing.both,
        Cell::Shown(1),
        "the moved member counts where it now is"
    );
    let stats = store.rebuild_rollups().await.expect("rebuild");
    assert_eq!(stats.facts, 8);
    assert!(stats.cube_rows > 0 && stats.item_rows > 0);
    let rebuilt = snapshot(store, c.id).await;
    for (i, (a, b)) in incremental.iter().zip(&rebuilt).enumerate() {
        assert_eq!(a, b, "case {i}: the maintained rollups equal a rebuild");
    }
}

pub async fn concurrent_completions_keep_one_latest_fact(store: &dyn Store) {
    let gov = authority(store, "320500").await;
    let c = store
        .create_campaign(
            &region("3205"),
            gov,
            &new_campaign("并发", None, 2),
            NOW,
            &audit(),
        )
        .await
        .expect("campaign");
    let e = firm(store, "同一家", Some("320506"), None).await;
    let other = firm(store, "另一家", Some("320506"), None).await;
    store
        .join_campaign(e, &c.invite_code, NOW, &audit())
        .await
        .expect("join");
    let (s1, s3, s2, s2b) = (spec(1, 30.0), spec(3, 65.0), spec(2, 45.0), spec(2, 44.0));
    let ctx = audit();
    let (_, _, _, _, joined) = tokio::join!(
        complete(store, e, &s1, NOW + 30),
        complete(store, e, &s3, NOW + 50),
        complete(store, other, &s2, NOW + 10),
        complete(store, e, &s2b, NOW + 40),
        store.join_campaign(other, &c.invite_code, NOW + 20, &ctx),
    );
    joined.expect("join");
    let levels = store
        .level_distribution(&Scope::All, &Filters::default(), 1)
        .await
        .expect("levels");
    assert_eq!(
        shown(&levels.levels),
        [0, 0, 1, 1, 0],
        "the newest completion of each firm"
    );
    let before = snapshot(store, c.id).await;
    store.rebuild_rollups().await.expect("rebuild");
    assert_eq!(before, snapshot(store, c.id).await);
}

pub async fn a_malformed_scope_sees_nothing(store: &dyn Store) {
    population(store).await;
    expect_err(
        store
            .level_distribution(&Scope::Cluster(String::new()), &Filters::default(), 1)
            .await,
        "an empty cluster id is no scope",
        not_found,
    );
    assert!(
        store
            .clusters(&Scope::Cluster(String::new()))
            .await
            .expect("clusters")
            .is_empty()
    );
    let (campaigns, _) = store
        .campaigns(&Scope::Cluster(String::new()), all_pages())
        .await
        .expect("campaigns");
    assert!(campaigns.is_empty());
    let (visible, _) = store
        .visible_enterprises(
            &Scope::Cluster(String::new()),
            &Filters::default(),
            None,
            all_pages(),
        )
        .await
        .expect("visible");
    assert!(visible.is_empty());
}
