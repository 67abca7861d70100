//! Solution providers (migration 0006) on every backend: accounts and approval within a region,
//! products owned by their provider, leads that exist only when an enterprise asks (carrying only
//! what it shared), status changes and outcomes with their audit entries, and the supply–demand
//! figures of a region.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use smedx_core::kb::SizeClass;
use smedx_core::providers::{Deployment, PriceModel, ProductSpec};
use smedx_store::postgres::PgStore;
use smedx_store::providers::{
    Kpi, LeadStatus, NewLead, Outcome, ProviderInput, ProviderStatus, Share,
};
use smedx_store::regional::{EnterpriseLocation, NewStaffUser};
use smedx_store::{AuditCtx, Id, Page, RegionPrefix, Role, Scope, Store, StoreError};
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Executor};

fn input(name: &str, home: &str, regions: &[&str]) -> ProviderInput {
    ProviderInput {
        name: name.into(),
        home_region: home.into(),
        regions: regions.iter().map(|s| s.to_string()).collect(),
        contact: "400-000-0000".into(),
        certifications: "ISO 9001".into(),
    }
}

fn spec(name: &str, scenarios: &[&str]) -> ProductSpec {
    ProductSpec {
        name: name.into(),
        description_zh: "车间透明化".into(),
        description_en: "Shop-floor transparency".into(),
        scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
        sectors: vec!["textile".into()],
        sizes: vec![SizeClass::Small, SizeClass::Medium],
        deployment: Deployment::Saas,
        price_model: PriceModel::PerUserMonth,
        price_min: 100.0,
        price_max: 300.0,
        golive_weeks: 4,
        references: "某纺织厂".into(),
        levels: vec![2],
    }
}

fn audit(actor: Option<Id>) -> AuditCtx {
    AuditCtx {
        at: 1000,
        actor_user_id: actor,
        ip: None,
        detail: String::new(),
    }
}

/// A completed assessment's report with what the store's facts read.
fn report(sector: &str, size: &str, recommended: &[&str]) -> Value {
    json!({
        "classification": {
            "sector": sector, "group": "consumer_goods",
            "size": {"size_class": size, "is_sme": true},
            "paths": []
        },
        "assessment": {"score": 30.0, "level": 1, "scenario_levels": {}, "conditions": [], "obstacles": []},
        "pain_points": [],
        "recommendations": recommended.iter().map(|r| json!({"scenario": r, "stage": 1})).collect::<Vec<_>>()
    })
}

async fn firm(store: &dyn Store, email: &str, region: &str) -> (Id, Id) {
    let (e, u) = store
        .create_enterprise_user("织造厂", email, "hash", None)
        .await
        .expect("sign up");
    store
        .set_enterprise_location(
            e.id,
            &EnterpriseLocation {
                region_code: Some(region),
                cluster_id: None,
                credit_code: None,
            },
        )
        .await
        .expect("location");
    (e.id, u.id)
}

async fn actions(store: &dyn Store, action: &str) -> Vec<(String, String)> {
    let (entries, _) = store
        .list_audit(Page {
            offset: 0,
            limit: 500,
        })
        .await
        .expect("audit");
    entries
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| (e.target, e.detail))
        .collect()
}

async fn story(store: &dyn Store) {
    let admin = store
        .create_admin("admin@x.test", "hash")
        .await
        .expect("admin");
    let suzhou = store
        .create_staff_user(
            &NewStaffUser {
                email: "sz@gov.test",
                password_hash: "hash",
                role: Role::Authority,
                region_code: Some("320500"),
                cluster_id: None,
                lang: None,
            },
            10,
            &audit(Some(admin.id)),
        )
        .await
        .expect("authority");
    let sz_scope = Scope::Region(RegionPrefix::of_code(320500));
    let bj_scope = Scope::Region(RegionPrefix::of_code(110000));

    // Bad sign-ups store nothing.
    for bad in [
        input("", "320500", &[]),
        input("A", "32050", &[]),
        input("A", "320500", &["999"]),
        input("A\u{0}", "320500", &[]),
    ] {
        let e = store
            .create_provider_account("bad@p.test", "hash", None, &bad, 20, &audit(None))
            .await
            .expect_err("refused");
        assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    }
    assert!(
        store
            .user_by_email("bad@p.test")
            .await
            .expect("read")
            .is_none()
    );

    let p1 = store
        .create_provider_account(
            "p1@p.test",
            "hash",
            Some("zh"),
            &input("苏州智造", "320500", &["320000"]),
            20,
            &audit(None),
        )
        .await
        .expect("provider");
    assert_eq!(p1.role, Role::Provider);
    let p2 = store
        .create_provider_account(
            "p2@p.test",
            "hash",
            None,
            &input("京工", "110000", &["110000"]),
            21,
            &audit(None),
        )
        .await
        .expect("provider 2");
    assert!(matches!(
        store
            .create_provider_account(
                "P1@p.test",
                "h",
                None,
                &input("x", "320500", &[]),
                22,
                &audit(None)
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let prof = store
        .provider_profile(p1.id)
        .await
        .expect("read")
        .expect("profile");
    assert_eq!(prof.status, ProviderStatus::Pending);
    assert_eq!(prof.regions, ["320000"]);
    assert!(
        store
            .provider_profile(admin.id)
            .await
            .expect("read")
            .is_none()
    );

    // A provider account an administrator created has no profile until it gives one.
    let staff_made = store
        .create_staff_user(
            &NewStaffUser {
                email: "made@p.test",
                password_hash: "hash",
                role: Role::Provider,
                region_code: None,
                cluster_id: None,
                lang: None,
            },
            22,
            &audit(Some(admin.id)),
        )
        .await
        .expect("staff-made provider");
    assert!(
        store
            .provider_profile(staff_made.id)
            .await
            .expect("read")
            .is_none()
    );
    assert!(matches!(
        store
            .create_provider_profile(staff_made.id, &input("坏", "1", &[]), 23)
            .await,
        Err(StoreError::Invalid(_))
    ));
    let made = store
        .create_provider_profile(staff_made.id, &input("补录服务商", "320500", &[]), 23)
        .await
        .expect("profile");
    assert_eq!(made.status, ProviderStatus::Pending);
    assert!(matches!(
        store
            .create_provider_profile(staff_made.id, &input("再来", "320500", &[]), 24)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_provider_profile(suzhou.id, &input("不是服务商", "320500", &[]), 24)
            .await,
        Err(StoreError::NotFound)
    ));

    // Pending providers cannot list products.
    assert!(matches!(
        store
            .create_product(p1.id, &spec("看板", &["pl.transparency"]), 30)
            .await,
        Err(StoreError::Invalid(_))
    ));

    // The authority sees and decides only providers registered in its region.
    let (list, total) = store
        .providers_in(&sz_scope, Page::default())
        .await
        .expect("list");
    assert_eq!((list.len(), total), (2, 2));
    assert!(list.iter().any(|p| p.user_id == p1.id));
    assert!(matches!(
        store
            .decide_provider(&sz_scope, p2.id, true, 40, &audit(Some(suzhou.id)))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .decide_provider(&Scope::Enterprise(1), p1.id, true, 40, &audit(None))
            .await,
        Err(StoreError::NotFound)
    ));
    let approved = store
        .decide_provider(&sz_scope, p1.id, true, 40, &audit(Some(suzhou.id)))
        .await
        .expect("approve");
    assert_eq!(approved.status, ProviderStatus::Approved);
    store
        .decide_provider(&Scope::All, p2.id, true, 41, &audit(Some(admin.id)))
        .await
        .expect("admin approves");
    assert_eq!(
        actions(store, "provider_approved").await.len(),
        2,
        "both approvals are audited"
    );
    assert_eq!(
        store
            .providers_in(&Scope::All, Page::default())
            .await
            .expect("all")
            .1,
        3
    );
    assert_eq!(
        store
            .providers_in(&bj_scope, Page::default())
            .await
            .expect("bj")
            .1,
        1
    );

    // Products: create, update, a rejected bad range, delete; another provider's are unreachable.
    let a = store
        .create_product(p1.id, &spec("看板", &["pl.transparency"]), 50)
        .await
        .expect("product");
    assert_eq!(a.spec, spec("看板", &["pl.transparency"]));
    let mut inverted = spec("坏", &["pl.transparency"]);
    inverted.price_min = 500.0;
    assert!(matches!(
        store.create_product(p1.id, &inverted, 51).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.products_of(p1.id).await.expect("list").len(), 1);
    let b = store
        .create_product(p1.id, &spec("ERP", &["ops.erp"]), 52)
        .await
        .expect("product b");
    let mut changed = spec("看板 Pro", &["pl.transparency", "ops.erp"]);
    changed.sectors = vec![];
    let a2 = store
        .update_product(p1.id, a.id, &changed, 53)
        .await
        .expect("update");
    assert_eq!(a2.spec.name, "看板 Pro");
    assert_eq!(a2.updated_at, 53);
    assert!(matches!(
        store.product_of(p2.id, a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.update_product(p2.id, a.id, &changed, 54).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_product(p2.id, a.id, 54).await,
        Err(StoreError::NotFound)
    ));
    let c = store
        .create_product(p2.id, &spec("京工看板", &["pl.transparency"]), 55)
        .await
        .expect("product c");
    store.delete_product(p1.id, b.id, 56).await.expect("delete");
    assert!(matches!(
        store.product_of(p1.id, b.id).await,
        Err(StoreError::NotFound)
    ));

    // What enterprises see: live products of approved providers.
    let cat = store
        .catalogue(&["pl.transparency".into(), "ops.erp".into()])
        .await
        .expect("cat");
    let ids: Vec<Id> = cat.iter().map(|e| e.product.id).collect();
    assert_eq!(ids, [a.id, c.id]);
    assert_eq!(cat[0].provider_name, "苏州智造");
    assert!(store.catalogue_entry(b.id).await.expect("entry").is_none());

    // Leads exist only when an enterprise asks, and hold only what it shared.
    let (ent, user) = firm(store, "owner@textile.test", "320506").await;
    let (other_ent, other_user) = firm(store, "owner@other.test", "320506").await;
    let asm = store
        .create_assessment(ent, None, 60)
        .await
        .expect("assessment");
    store
        .complete_assessment(
            ent,
            asm.id,
            &report("textile", "small", &["pl.transparency", "ops.erp"]),
            Some(30.0),
            Some(1),
            61,
        )
        .await
        .expect("complete");
    let other_asm = store
        .create_assessment(other_ent, None, 60)
        .await
        .expect("assessment");
    store
        .complete_assessment(
            other_ent,
            other_asm.id,
            &report("metal", "medium", &["pl.transparency"]),
            Some(30.0),
            Some(1),
            61,
        )
        .await
        .expect("complete");
    assert_eq!(
        store
            .provider_leads(p1.id, Page::default())
            .await
            .expect("none")
            .1,
        0
    );

    let shared = json!({"level": 1});
    let new = NewLead {
        product_id: a.id,
        assessment_id: Some(asm.id),
        scenario: "pl.transparency".into(),
        share: Share {
            profile: false,
            level: true,
            recommendations: false,
        },
        shared: shared.clone(),
        contact: "王经理 138 0000 0000".into(),
        message: "想了解报价".into(),
    };
    // Another enterprise's assessment, a deleted product or an unknown one: nothing stored.
    let mut wrong = new.clone();
    wrong.assessment_id = Some(other_asm.id);
    assert!(matches!(
        store
            .create_lead(ent, user, &wrong, 70, &audit(Some(user)))
            .await,
        Err(StoreError::NotFound)
    ));
    let mut gone = new.clone();
    gone.product_id = b.id;
    assert!(matches!(
        store
            .create_lead(ent, user, &gone, 70, &audit(Some(user)))
            .await,
        Err(StoreError::NotFound)
    ));
    let mut blank = new.clone();
    blank.contact = " ".into();
    assert!(matches!(
        store
            .create_lead(ent, user, &blank, 70, &audit(Some(user)))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .enterprise_leads(ent, Page::default())
            .await
            .expect("none")
            .1,
        0
    );

    let lead = store
        .create_lead(ent, user, &new, 70, &audit(Some(user)))
        .await
        .expect("lead");
    assert_eq!(lead.status, LeadStatus::New);
    assert_eq!(lead.shared, shared);
    assert!(matches!(
        store
            .create_lead(ent, user, &new, 71, &audit(Some(user)))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let requested = actions(store, "lead_requested").await;
    assert_eq!(requested.len(), 1);
    assert!(
        requested[0]
            .1
            .contains("profile=0 level=1 recommendations=0"),
        "{requested:?}"
    );

    // The provider sees its lead; the other provider sees nothing of it.
    let (mine, n) = store
        .provider_leads(p1.id, Page::default())
        .await
        .expect("leads");
    assert_eq!((mine.len(), n), (1, 1));
    assert_eq!(mine[0].shared, shared);
    assert_eq!(mine[0].contact, "王经理 138 0000 0000");
    assert_eq!(
        store
            .provider_leads(p2.id, Page::default())
            .await
            .expect("none")
            .1,
        0
    );
    assert!(matches!(
        store.provider_lead(p2.id, lead.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.enterprise_lead(other_ent, lead.id).await,
        Err(StoreError::NotFound)
    ));

    // Status: only the provider addressed moves it; both sides see it; audited.
    assert!(matches!(
        store
            .set_lead_status(p2.id, lead.id, LeadStatus::Won, 80, &audit(Some(p2.id)))
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .set_lead_status(
            p1.id,
            lead.id,
            LeadStatus::Proposal,
            80,
            &audit(Some(p1.id)),
        )
        .await
        .expect("status");
    assert_eq!(
        store
            .enterprise_lead(ent, lead.id)
            .await
            .expect("lead")
            .status,
        LeadStatus::Proposal
    );
    assert_eq!(
        actions(store, "lead_status_changed").await[0].1,
        "from=new to=proposal"
    );

    // Outcomes: bad figures store nothing; a good one feeds the catalogue's statistics.
    let bad = Outcome {
        went_live: true,
        kpis: vec![Kpi {
            name: "合格率".into(),
            before: f64::NAN,
            after: 99.0,
        }],
        note: String::new(),
        recorded_at: 90,
    };
    assert!(matches!(
        store
            .record_outcome(ent, lead.id, &bad, &audit(Some(user)))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        store
            .enterprise_lead(ent, lead.id)
            .await
            .expect("lead")
            .outcome
            .is_none()
    );
    let good = Outcome {
        kpis: vec![Kpi {
            name: "合格率".into(),
            before: 95.0,
            after: 99.0,
        }],
        ..bad.clone()
    };
    assert!(matches!(
        store
            .record_outcome(other_ent, lead.id, &good, &audit(Some(other_user)))
            .await,
        Err(StoreError::NotFound)
    ));
    let done = store
        .record_outcome(ent, lead.id, &good, &audit(Some(user)))
        .await
        .expect("outcome");
    assert_eq!(done.outcome, Some(good));
    let cat = store
        .catalogue(&["pl.transparency".into()])
        .await
        .expect("cat");
    assert_eq!(
        (cat[0].outcomes.reported, cat[0].outcomes.went_live),
        (1, 1)
    );
    assert_eq!(actions(store, "outcome_recorded").await.len(), 1);

    // Budgets for matching.
    assert_eq!(store.matching_budget(ent).await.expect("none"), None);
    store
        .set_matching_budget(ent, Some(50_000.0), 95)
        .await
        .expect("set");
    assert_eq!(
        store.matching_budget(ent).await.expect("read"),
        Some(50_000.0)
    );
    assert!(matches!(
        store.set_matching_budget(ent, Some(-1.0), 96).await,
        Err(StoreError::Invalid(_))
    ));
    store
        .set_matching_budget(ent, None, 97)
        .await
        .expect("clear");
    assert_eq!(store.matching_budget(ent).await.expect("read"), None);

    // Supply and demand of Suzhou: both firms' demand, the products of providers serving it.
    let (demand, supply) = store.supply_demand(&sz_scope).await.expect("sd");
    assert_eq!(demand.len(), 2);
    assert_eq!(supply.len(), 1, "only the provider serving Jiangsu");
    assert_eq!(supply[0].provider_id, p1.id);
    let (demand_bj, supply_bj) = store.supply_demand(&bj_scope).await.expect("sd bj");
    assert!(demand_bj.is_empty());
    assert_eq!(supply_bj.len(), 1);
    assert!(
        store
            .supply_demand(&Scope::Enterprise(ent))
            .await
            .expect("none")
            .0
            .is_empty()
    );
    // The administrator also counts enterprises without a location.
    let (_, nowhere_user) = store
        .create_enterprise_user("无地址", "nowhere@firm.test", "hash", None)
        .await
        .expect("sign up");
    let nowhere = store
        .user(nowhere_user.id)
        .await
        .expect("read")
        .and_then(|u| u.enterprise_id)
        .expect("enterprise");
    let a3 = store
        .create_assessment(nowhere, None, 62)
        .await
        .expect("assessment");
    store
        .complete_assessment(
            nowhere,
            a3.id,
            &report("metal", "small", &["ops.erp"]),
            Some(30.0),
            Some(1),
            63,
        )
        .await
        .expect("complete");
    assert_eq!(
        store.supply_demand(&Scope::All).await.expect("all").0.len(),
        3
    );
    assert_eq!(store.supply_demand(&sz_scope).await.expect("sz").0.len(), 2);
    let stats = store.provider_stats(&sz_scope).await.expect("stats");
    assert_eq!(stats.len(), 1);
    assert_eq!(
        (
            stats[0].provider_id,
            stats[0].products,
            stats[0].leads,
            stats[0].outcomes,
            stats[0].went_live
        ),
        (p1.id, 1, 1, 1, 1)
    );
}

#[tokio::test]
async fn providers_on_sqlite() {
    let store = smedx_store::sqlite::SqliteStore::memory()
        .await
        .expect("store");
    story(&store).await;
}

#[tokio::test]
async fn providers_on_postgres() {
    if std::env::var("SMEDX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = std::env::var("SMEDX_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let name = format!(
        "smedx_prov_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = PgConnection::connect(&server)
        .await
        .expect("PostgreSQL at SMEDX_TEST_POSTGRES_URL (or set SMEDX_SKIP_POSTGRES=1)");
    conn.execute(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
    )))
    .await
    .expect("schema");
    let sep = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{sep}options=-c%20search_path%3D{name}");
    let store = PgStore::connect(&url).await.expect("store");
    story(&store).await;
    store.close().await;
    conn.execute(AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
        .await
        .expect("drop schema");
}
