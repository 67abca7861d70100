//! Dashboard aggregates at scale, on SQLite and PostgreSQL.
//!
//! ```sh
//! SMEDX_BENCH_FACTS=1000000 \
//! SMEDX_BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p smedx-store --bench dashboards
//! ```
//!
//! Loads `SMEDX_BENCH_FACTS` synthetic completed assessments (default 100,000) through the
//! store's own bulk import (`import_enterprises`: multi-row inserts, one transaction per call):
//! 80 % of them as first assessments of as many enterprises, 20 % as a second round of the same
//! enterprises (matched by credit code), so every fact lands in the rollups the way production
//! data does. One campaign gets every eighth enterprise as a member (ids 1, 9, 17 …, all of them
//! among those assessed twice, so that the two-round comparison pairs 12.5 % of the enterprises;
//! inserted directly, then `rebuild_rollups`, which is timed too). Then every aggregate is timed for several scopes and
//! filters (median of 5 runs after one warm-up run, and the slowest of those runs) and printed
//! as a table with both backends side by side.
//!
//! SQLite uses a fresh file in `SMEDX_BENCH_DIR` (default: the system temp dir); PostgreSQL a
//! fresh schema `smedx_bench` of `SMEDX_BENCH_PG_URL` (skipped when unset). After loading, the
//! PostgreSQL tables are vacuumed and analysed (as autovacuum would do) and SQLite runs
//! `ANALYZE`. With `SMEDX_BENCH_REUSE=1` both are kept afterwards (`SMEDX_BENCH_DIR/smedx-bench.sqlite`
//! and the schema) and a later run with the same setting measures them again without loading;
//! with `SMEDX_BENCH_REBUILD=1` as well, it seats the campaign's members again and rebuilds the
//! rollups first (after a change to how members or rollups are stored). `SMEDX_BENCH_SQLITE=0`
//! measures PostgreSQL only.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use smedx_store::aggregate::{Filters, TimeRange};
use smedx_store::facts::{ItemKind, SCENARIO_IDS};
use smedx_store::postgres::PgStore;
use smedx_store::regional::{
    AssessmentSource, ImportResult, MemberStatus, NewCompletedAssessment, NewEnterpriseRecord,
};
use smedx_store::scope::days_from_civil;
use smedx_store::sqlite::SqliteStore;
use smedx_store::{AuditCtx, Id, Page, RegionPrefix, Scope, Store};
use sqlx::{AssertSqlSafe, Connection, Executor};

const BATCH: usize = 100_000;
/// Every this many enterprises, one is a member of the campaign.
const MEMBER_EVERY: usize = 8;

// ---- synthetic data -------------------------------------------------------------------------

/// SplitMix64: deterministic, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    /// Zipf-like: small indices much more likely.
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }
}

/// Jiangsu's counties (by city) and a few other provinces' districts.
fn regions() -> Vec<i64> {
    let mut out = Vec::new();
    for city in 1..=13 {
        for county in [2, 5, 6, 11, 12, 13, 81, 82] {
            out.push(320_000 + city * 100 + county);
        }
    }
    for province in [33, 34, 37, 41, 44] {
        for county in [102, 103, 104, 105, 106, 203, 205, 302, 304, 381] {
            out.push(province * 10_000 + county);
        }
    }
    out
}

const CLUSTERS: [(&str, i64); 12] = [
    ("wuzhong-precision", 320_506),
    ("wujiang-textile", 320_581),
    ("kunshan-electronics", 320_582),
    ("changshu-apparel", 320_581),
    ("jiangyin-metal", 320_281),
    ("yixing-environment", 320_282),
    ("wujin-equipment", 320_412),
    ("changzhou-newenergy", 320_411),
    ("jiangning-intelligent", 320_111),
    ("nantong-textile", 320_612),
    ("danyang-optics", 321_181),
    ("xuzhou-machinery", 320_312),
];

const SECTORS: [(Option<&str>, &str); 14] = [
    (Some("metal"), "equipment_mfg"),
    (Some("auto_parts"), "equipment_mfg"),
    (Some("equipment"), "equipment_mfg"),
    (Some("aero_parts"), "equipment_mfg"),
    (Some("textile"), "consumer_goods"),
    (Some("apparel"), "consumer_goods"),
    (Some("daily_chem"), "consumer_goods"),
    (Some("pcb"), "electronics"),
    (Some("cons_elec"), "electronics"),
    (Some("cement"), "raw_materials"),
    (None, "equipment_mfg"),
    (None, "consumer_goods"),
    (None, "raw_materials"),
    (None, "electronics"),
];
const SIZES: [&str; 4] = ["small", "medium", "micro", "large"];
const OBSTACLES: [&str; 5] = ["budget", "skills", "awareness", "no_solution", "security"];
const PATHS: [&str; 4] = ["lightweight", "chain", "cluster", "platform"];

fn recommendation_ids() -> Vec<String> {
    let domains = ["pl", "qc", "ops", "sc", "rd", "mk", "eq"];
    (0..42)
        .map(|i| format!("{}.s{:02}", domains[i % domains.len()], i))
        .collect()
}

fn pain_vocabulary() -> Vec<String> {
    let base = [
        "交期",
        "库存",
        "计件工资",
        "质量追溯",
        "设备故障",
        "能耗",
        "排产",
        "报价",
        "对账",
        "招工",
        "返工",
        "来料检验",
        "订单变更",
        "呆滞料",
        "账实不符",
        "停机",
        "工艺文件",
        "客户投诉",
        "应收账款",
        "安全隐患",
    ];
    let mut out: Vec<String> = base.iter().map(|s| (*s).to_owned()).collect();
    for i in 0..60 {
        out.push(format!("词{i:02}"));
    }
    out
}

/// The engine-shaped report the store reads its fact from.
fn report(rng: &mut Rng, level: u8, recs: &[String], words: &[String]) -> (Value, f64) {
    let score = match level {
        0 => rng.below(200) as f64 / 10.0,
        l => (f64::from(l) * 20.0 + rng.below(200) as f64 / 10.0).min(100.0),
    };
    let levels: serde_json::Map<String, Value> = SCENARIO_IDS
        .iter()
        .map(|id| {
            let l = (i64::from(level) + rng.below(3) as i64 - 1).clamp(0, 4);
            ((*id).to_owned(), json!(l))
        })
        .collect();
    let away = level < 4 && rng.chance(0.2);
    let conditions: Vec<Value> = [
        (1, 20.0, 6, 3),
        (2, 40.0, 6, 3),
        (3, 60.0, 8, 5),
        (4, 80.0, 10, 6),
    ]
    .iter()
    .map(|(l, min, all, c)| {
        let met = *l <= level;
        let near = away && *l == level + 1;
        let (a, b) = if met {
            (*all, *c)
        } else if near {
            (*all - 1, *c)
        } else {
            (0, 0)
        };
        json!([l, [
            {"kind": "score", "required": min, "actual": score, "met": met || near},
            {"kind": "scenarios", "level": l, "required": all, "actual": a, "met": a >= *all},
            {"kind": "constrained", "level": l, "required": c, "actual": b, "met": b >= *c}
        ]])
    })
    .collect();
    let obstacles: Vec<&str> = OBSTACLES
        .iter()
        .filter(|_| rng.chance(0.3))
        .copied()
        .collect();
    let (sector, group) = SECTORS[rng.skewed(SECTORS.len())];
    let size = SIZES[rng.skewed(SIZES.len())];
    let path = PATHS[rng.skewed(PATHS.len())];
    let nrec = 3 + rng.below(3);
    let recs: Vec<Value> = (0..nrec)
        .map(|_| json!({"scenario": recs[rng.skewed(recs.len())], "stage": 1 + rng.below(2)}))
        .collect();
    let nwords = rng.below(4);
    let matched: Vec<&String> = (0..nwords)
        .map(|_| &words[rng.skewed(words.len())])
        .collect();
    let report = json!({
        "classification": {
            "sector": sector, "group": group,
            "size": {"size_class": size, "is_sme": true},
            "paths": [{"id": path, "primary": true}]
        },
        "assessment": {
            "score": score, "level": level, "scenario_levels": levels,
            "conditions": conditions, "obstacles": obstacles
        },
        "pain_points": [{"scenario": "x", "relevance": 0.5, "matched": matched}],
        "recommendations": recs
    });
    (report, score)
}

/// The synthetic population: enterprise `i` and its assessment of round 1 or 2.
struct Population {
    regions: Vec<i64>,
    recs: Vec<String>,
    words: Vec<String>,
    enterprises: usize,
}

impl Population {
    fn record(&self, i: usize) -> NewEnterpriseRecord {
        let mut rng = Rng::new(i as u64);
        let region = self.regions[rng.skewed(self.regions.len())];
        let cluster = if rng.chance(0.3) {
            let here: Vec<&(&str, i64)> = CLUSTERS
                .iter()
                .filter(|(_, r)| r / 100 == region / 100)
                .collect();
            (!here.is_empty()).then(|| here[rng.below(here.len())].0.to_owned())
        } else {
            None
        };
        NewEnterpriseRecord {
            row: i + 2,
            name: format!("企业{i:07}"),
            credit_code: Some(format!("91{region:06}{i:010}")),
            region_code: format!("{region:06}"),
            cluster_id: cluster,
        }
    }

    fn assessment(&self, i: usize, round: u64) -> NewCompletedAssessment {
        let mut rng = Rng::new((i as u64) << 8 | round);
        let base = match rng.below(100) {
            0..=24 => 0,
            25..=64 => 1,
            65..=89 => 2,
            90..=97 => 3,
            _ => 4,
        };
        let level = if round == 2 {
            (base + u8::from(rng.chance(0.4))).min(4)
        } else {
            base
        };
        let (result, score) = report(&mut rng, level, &self.recs, &self.words);
        // Round 1: 2025-01 … 2025-12; round 2: 2026-03 … 2026-10.
        let day = if round == 1 {
            days_from_civil(2025, 1, 1) + rng.below(365) as i64
        } else {
            days_from_civil(2026, 3, 1) + rng.below(240) as i64
        };
        NewCompletedAssessment::new(
            &json!({"industry": "C3311", "employees": 50, "revenue": 30_000_000}),
            &json!({"scenarios": {"quality": level}}),
            &result,
            Some(score),
            Some(i64::from(level)),
            day * 86_400 + 36_000,
        )
    }
}

struct Source<'a> {
    population: &'a Population,
    /// Enterprise index of each row.
    rows: Vec<usize>,
    round: u64,
}

impl AssessmentSource for Source<'_> {
    fn assessments(
        &mut self,
        rows: std::ops::Range<usize>,
    ) -> Vec<std::result::Result<Option<NewCompletedAssessment>, String>> {
        rows.map(|r| Ok(Some(self.population.assessment(self.rows[r], self.round))))
            .collect()
    }
}

// ---- loading and timing ----------------------------------------------------------------------

fn audit() -> AuditCtx {
    AuditCtx::default()
}

async fn load(store: &dyn Store, p: &Population, facts: usize) -> Duration {
    let start = Instant::now();
    for c in CLUSTERS {
        store
            .create_cluster(c.0, c.0, &format!("{:06}", c.1), 0, &audit())
            .await
            .expect("cluster");
    }
    let second = facts - p.enterprises;
    let mut jobs: Vec<(u64, Vec<usize>)> = Vec::new();
    let mut i = 0;
    while i < p.enterprises {
        let end = (i + BATCH).min(p.enterprises);
        jobs.push((1, (i..end).collect()));
        i = end;
    }
    // The second round: every fourth enterprise (members included), in batches.
    let again: Vec<usize> = (0..p.enterprises)
        .filter(|i| i % 4 == 0)
        .take(second)
        .collect();
    for chunk in again.chunks(BATCH) {
        jobs.push((2, chunk.to_vec()));
    }
    let mut done = 0;
    for (round, rows) in jobs {
        let t = Instant::now();
        let records: Vec<NewEnterpriseRecord> = rows.iter().map(|i| p.record(*i)).collect();
        let mut source = Source {
            population: p,
            rows,
            round,
        };
        let result = store
            .import_enterprises(&Scope::All, &records, &mut source, None, 0, &audit())
            .await
            .expect("import");
        let ImportResult::Imported(counts) = result else {
            panic!("the synthetic import was rejected: {result:?}");
        };
        done += counts.facts;
        eprintln!(
            "  round {round}: {} rows in {:.1} s ({done} facts so far)",
            counts.rows,
            t.elapsed().as_secs_f64()
        );
    }
    start.elapsed()
}

/// Time of each named query, in milliseconds: (median, slowest) of 5 runs after a warm-up.
type Timings = BTreeMap<String, (f64, f64)>;

async fn time<F, Fut, T>(timings: &mut Timings, name: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = smedx_store::Result<T>>,
{
    f().await.unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        f().await.unwrap_or_else(|e| panic!("{name}: {e}"));
        runs.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    runs.sort_by(f64::total_cmp);
    timings.insert(name.to_owned(), (runs[2], runs[4]));
}

fn region(p: &str) -> Scope {
    Scope::Region(RegionPrefix::parse(p).expect("prefix"))
}

async fn measure(store: &dyn Store, campaign: Id) -> Timings {
    let mut t = Timings::new();
    let k = 5;
    let cases: Vec<(&str, Scope, Filters)> = vec![
        ("all", Scope::All, Filters::default()),
        ("province 32", region("32"), Filters::default()),
        ("city 3205", region("3205"), Filters::default()),
        ("county 320506", region("320506"), Filters::default()),
        (
            "cluster",
            Scope::Cluster("wuzhong-precision".into()),
            Filters::default(),
        ),
        (
            "all, metal+small",
            Scope::All,
            Filters {
                sector: Some("metal".into()),
                size: Some("small".into()),
                ..Filters::default()
            },
        ),
        (
            "all, 2025-03..2025-08",
            Scope::All,
            Filters {
                from_month: Some(202_503),
                to_month: Some(202_508),
                ..Filters::default()
            },
        ),
        (
            "campaign",
            Scope::All,
            Filters {
                campaign: Some(campaign),
                ..Filters::default()
            },
        ),
    ];
    for (label, scope, f) in &cases {
        let (scope, f) = (scope, f);
        time(&mut t, &format!("{label:<22} participation"), || {
            store.participation(scope, f, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} level distribution"), || {
            store.level_distribution(scope, f, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} score histogram"), || {
            store.score_histogram(scope, f, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} 16 scenarios"), || {
            store.scenario_distribution(scope, f, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} recommended"), || {
            store.top_items(scope, f, ItemKind::Recommended, 10, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} pain words"), || {
            store.top_items(scope, f, ItemKind::PainWord, 20, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} paths"), || {
            store.top_items(scope, f, ItemKind::Path, 10, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} obstacles by size"), || {
            store.obstacles_by_size(scope, f, k)
        })
        .await;
        time(&mut t, &format!("{label:<22} target tracker"), || {
            store.target_tracker(scope, f, Some(2), k)
        })
        .await;
    }
    let r1 = TimeRange {
        from: days_from_civil(2025, 1, 1) * 86_400,
        to: days_from_civil(2026, 1, 1) * 86_400,
    };
    let r2 = TimeRange {
        from: days_from_civil(2026, 1, 1) * 86_400,
        to: days_from_civil(2027, 1, 1) * 86_400,
    };
    let none = Filters::default();
    let now = days_from_civil(2026, 11, 1) * 86_400;
    let page = Page {
        offset: 0,
        limit: 50,
    };
    time(&mut t, "campaign               progress (2 rounds)", || {
        store.progress(&Scope::All, campaign, r1, r2, &none, 5)
    })
    .await;
    time(&mut t, "campaign               progress members", || {
        store.progress_members(&Scope::All, campaign, r1, r2, page)
    })
    .await;
    time(&mut t, "campaign               member counts", || {
        store.member_counts(&Scope::All, campaign, 14, now)
    })
    .await;
    time(&mut t, "campaign               stuck members page", || {
        store.campaign_members(
            &Scope::All,
            campaign,
            Some(MemberStatus::Stuck),
            14,
            now,
            page,
        )
    })
    .await;
    let suzhou = region("3205");
    let any = Filters::default();
    time(&mut t, "city 3205              visible enterprises", || {
        store.visible_enterprises(&suzhou, &any, None, page)
    })
    .await;
    let members = Filters {
        campaign: Some(campaign),
        ..Filters::default()
    };
    time(&mut t, "campaign               visible enterprises", || {
        store.visible_enterprises(&Scope::All, &members, None, page)
    })
    .await;
    time(&mut t, "all                    enterprise search", || {
        store.visible_enterprises(&Scope::All, &any, Some("企业00012"), page)
    })
    .await;
    t
}

/// A campaign; every eighth enterprise is made a member directly (see [`members_sql`]).
async fn campaign(store: &dyn Store) -> Id {
    let admin = store
        .create_admin("bench@gov.test", "h")
        .await
        .expect("admin");
    store
        .create_campaign(
            &Scope::All,
            admin.id,
            &smedx_store::regional::NewCampaign {
                name: "基准测试".into(),
                region_code: Some("320000".into()),
                starts_on: "2025-01-01".into(),
                ends_on: "2026-12-31".into(),
                target_sectors: vec![],
                target_level: 2,
            },
            0,
            &audit(),
        )
        .await
        .expect("campaign")
        .id
}

fn members_sql(campaign: Id) -> String {
    format!(
        "INSERT INTO campaign_members (campaign_id, enterprise_id, joined_at) \
         SELECT {campaign}, id, {} FROM enterprises WHERE id % {MEMBER_EVERY} = 1",
        days_from_civil(2025, 1, 1) * 86_400
    )
}

/// The benchmark campaign of a database loaded before, if any.
async fn existing(store: &dyn Store) -> Option<Id> {
    let (campaigns, _) = store
        .campaigns(
            &Scope::All,
            Page {
                offset: 0,
                limit: 1,
            },
        )
        .await
        .ok()?;
    campaigns.first().map(|c| c.id)
}

fn rebuild_requested() -> bool {
    std::env::var("SMEDX_BENCH_REBUILD").is_ok_and(|v| v == "1")
}

/// Seats the campaign's members again (see [`members_sql`]).
async fn reseat<C>(conn: &mut C, campaign: Id)
where
    for<'c> &'c mut C: Executor<'c>,
{
    conn.execute(AssertSqlSafe(format!(
        "DELETE FROM campaign_members WHERE campaign_id = {campaign}"
    )))
    .await
    .expect("members");
    conn.execute(AssertSqlSafe(members_sql(campaign)))
        .await
        .expect("members");
}

async fn rebuild(store: &dyn Store) -> Duration {
    let t = Instant::now();
    let stats = store.rebuild_rollups().await.expect("rebuild");
    let took = t.elapsed();
    eprintln!(
        "  rollups rebuilt in {:.1} s: {} latest facts, {} rollup rows, {} item rows",
        took.as_secs_f64(),
        stats.facts,
        stats.cube_rows,
        stats.item_rows
    );
    took
}

fn main() {
    let facts: usize = std::env::var("SMEDX_BENCH_FACTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let enterprises = facts * 4 / 5;
    let population = Population {
        regions: regions(),
        recs: recommendation_ids(),
        words: pain_vocabulary(),
        enterprises,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut results: Vec<(&str, Duration, Duration, Timings)> = Vec::new();

    // SQLite
    let reuse = std::env::var("SMEDX_BENCH_REUSE").is_ok_and(|v| v == "1");
    let base = std::env::var_os("SMEDX_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = if reuse {
        base.clone()
    } else {
        base.join(format!("smedx-bench-{}", std::process::id()))
    };
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join("smedx-bench.sqlite");
    let sqlite = !matches!(std::env::var("SMEDX_BENCH_SQLITE").as_deref(), Ok("0"));
    if !sqlite {
        eprintln!("SMEDX_BENCH_SQLITE=0: SQLite skipped");
    }
    runtime.block_on(async {
        if !sqlite {
            return;
        }
        let store = SqliteStore::open(&path).await.expect("open SQLite");
        let (loaded, rebuilt, campaign) = match existing(&store).await {
            Some(c) if reuse => {
                eprintln!(
                    "SQLite ({}): measuring the data already loaded",
                    path.display()
                );
                let mut rebuilt = Duration::ZERO;
                if rebuild_requested() {
                    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
                    let mut conn = sqlx::SqliteConnection::connect_with(&options)
                        .await
                        .expect("connect");
                    reseat(&mut conn, c).await;
                    rebuilt = rebuild(&store).await;
                    conn.execute("ANALYZE").await.expect("analyze");
                    let _ = conn.close().await;
                }
                (Duration::ZERO, rebuilt, c)
            }
            _ => {
                eprintln!(
                    "SQLite ({}): loading {facts} facts of {enterprises} enterprises…",
                    path.display()
                );
                let loaded = load(&store, &population, facts).await;
                let campaign = campaign(&store).await;
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("connect");
                conn.execute(AssertSqlSafe(members_sql(campaign)))
                    .await
                    .expect("members");
                let rebuilt = rebuild(&store).await;
                conn.execute("ANALYZE").await.expect("analyze");
                let _ = conn.close().await;
                (loaded, rebuilt, campaign)
            }
        };
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "  loaded in {:.1} s; database file {} MB",
            loaded.as_secs_f64(),
            size / 1_000_000
        );
        let timings = measure(&store, campaign).await;
        store.close().await;
        results.push(("SQLite", loaded, rebuilt, timings));
    });
    if !reuse {
        let _ = std::fs::remove_dir_all(&dir);
    }

    // PostgreSQL
    match std::env::var("SMEDX_BENCH_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        None => eprintln!("SMEDX_BENCH_PG_URL is not set: PostgreSQL skipped"),
        Some(server) => runtime.block_on(async {
            let schema = "smedx_bench";
            let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect to PostgreSQL");
            if !reuse {
                admin
                    .execute(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .await
                    .expect("schema");
            }
            admin
                .execute(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
                .await
                .expect("schema");
            let sep = if server.contains('?') { '&' } else { '?' };
            let url = format!("{server}{sep}options=-c%20search_path%3D{schema}");
            let store = PgStore::connect(&url).await.expect("open PostgreSQL");
            let (loaded, rebuilt, campaign) = match existing(&store).await {
                Some(c) if reuse => {
                    eprintln!("PostgreSQL (schema {schema}): measuring the data already loaded");
                    let mut rebuilt = Duration::ZERO;
                    if rebuild_requested() {
                        let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                        reseat(&mut conn, c).await;
                        rebuilt = rebuild(&store).await;
                        conn.execute("VACUUM ANALYZE").await.expect("vacuum");
                        let _ = conn.close().await;
                    }
                    (Duration::ZERO, rebuilt, c)
                }
                _ => {
                    eprintln!("PostgreSQL (schema {schema}): loading {facts} facts of {enterprises} enterprises…");
                    let loaded = load(&store, &population, facts).await;
                    let campaign = campaign(&store).await;
                    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
                    conn.execute(AssertSqlSafe(members_sql(campaign))).await.expect("members");
                    let rebuilt = rebuild(&store).await;
                    conn.execute("VACUUM ANALYZE").await.expect("vacuum");
                    let _ = conn.close().await;
                    (loaded, rebuilt, campaign)
                }
            };
            eprintln!("  loaded in {:.1} s", loaded.as_secs_f64());
            let timings = measure(&store, campaign).await;
            store.close().await;
            if !reuse {
                admin
                    .execute(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")))
                    .await
                    .expect("drop schema");
            }
            let _ = admin.close().await;
            results.push(("PostgreSQL", loaded, rebuilt, timings));
        }),
    }

    // The table.
    println!();
    println!(
        "Dashboard aggregates with {facts} assessment facts ({enterprises} enterprises), k = 5."
    );
    println!("Milliseconds: median of 5 runs after a warm-up (slowest run in brackets).");
    println!();
    let mut header = format!("| {:<44} |", "query");
    let mut rule = format!("|{}|", "-".repeat(46));
    for (name, ..) in &results {
        header.push_str(&format!(" {name:>18} |"));
        rule.push_str(&format!("{}:|", "-".repeat(19)));
    }
    println!("{header}");
    println!("{rule}");
    let names: Vec<String> = results
        .first()
        .map(|r| r.3.keys().cloned().collect())
        .unwrap_or_default();
    let mut worst = vec![0.0f64; results.len()];
    for name in names {
        let mut line = format!("| {name:<44} |");
        for (i, (.., t)) in results.iter().enumerate() {
            let (median, slowest) = t.get(&name).copied().unwrap_or((f64::NAN, f64::NAN));
            worst[i] = worst[i].max(slowest);
            line.push_str(&format!(" {:>8.1} ({:>6.1}) |", median, slowest));
        }
        println!("{line}");
    }
    println!();
    for (i, (name, loaded, rebuilt, _)) in results.iter().enumerate() {
        // A reused database was not loaded in this run: there is no load time to report.
        if loaded.is_zero() {
            println!(
                "{name}: data of an earlier run reused, slowest query {:.1} ms",
                worst[i]
            );
            continue;
        }
        println!(
            "{name}: bulk import of {facts} facts {:.1} s ({:.0} rows/s), rollup rebuild {:.1} s, slowest query {:.1} ms",
            loaded.as_secs_f64(),
            facts as f64 / loaded.as_secs_f64().max(1e-9),
            rebuilt.as_secs_f64(),
            worst[i]
        );
    }
}
