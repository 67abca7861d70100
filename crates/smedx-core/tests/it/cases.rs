//! The knowledge base against PRODUCT.md: canonical ids and counts, and every case of the report
//! classifying, from its own facts, to the sector and group it is filed under.

use std::collections::BTreeMap;

use smedx_core::classify;
use smedx_core::industry;
use smedx_core::kb::{Bounds, Case, Indicator, SizeClass};
use smedx_core::profile::{self, Value};

use crate::kb;

/// The 42 canonical scenario ids of PRODUCT.md §2, by domain.
const SCENARIOS: &[(&str, &[&str])] = &[
    (
        "rd",
        &["rd.simulation", "rd.plm", "rd.cad", "rd.demand", "rd.dfm"],
    ),
    ("pd", &["pd.process"]),
    (
        "pr",
        &[
            "pr.upgrade",
            "pr.smart",
            "pr.nonstd",
            "pr.special",
            "pr.guidance",
        ],
    ),
    ("pl", &["pl.scheduling", "pl.transparency"]),
    ("eq", &["eq.monitoring", "eq.inspection", "eq.lifecycle"]),
    ("en", &["en.monitoring", "en.optimization"]),
    ("ev", &["ev.emission"]),
    (
        "sf",
        &["sf.hazard", "sf.material", "sf.personnel", "sf.management"],
    ),
    (
        "qa",
        &[
            "qa.form",
            "qa.performance",
            "qa.control",
            "qa.analysis",
            "qa.trace",
        ],
    ),
    ("wh", &["wh.info", "wh.automation", "wh.weighing"]),
    ("sc", &["sc.mrp", "sc.collab", "sc.procurement"]),
    ("mk", &["mk.ecommerce", "mk.crm"]),
    ("sv", &["sv.smart", "sv.aftersales"]),
    ("mg", &["mg.oa", "mg.finance", "mg.hr", "mg.scf"]),
];

/// The 14 domains and their chains (PRODUCT.md §2).
const DOMAINS: &[(&str, &str)] = &[
    ("rd", "product"),
    ("pd", "product"),
    ("pr", "product"),
    ("qa", "product"),
    ("sv", "product"),
    ("eq", "asset"),
    ("en", "asset"),
    ("ev", "asset"),
    ("sf", "asset"),
    ("pl", "business"),
    ("wh", "business"),
    ("sc", "business"),
    ("mk", "business"),
    ("mg", "business"),
];

const SECTORS: &[&str] = &[
    "metal",
    "cement",
    "textile",
    "pcb",
    "auto_parts",
    "aero_parts",
    "apparel",
    "cons_elec",
    "daily_chem",
    "equipment",
];

const MODES: &[(&str, &[&str])] = &[
    ("chain", &["chain.peer", "chain.supplier"]),
    ("cluster", &["cluster.public", "cluster.core"]),
    ("platform", &["platform.vertical", "platform.horizontal"]),
    (
        "lightweight",
        &["lightweight.micro_small", "lightweight.medium"],
    ),
];

fn sorted<'a>(it: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = it.into_iter().collect();
    v.sort_unstable();
    v
}

#[test]
fn scenario_model_has_the_canonical_ids() {
    let kb = kb();
    let expected: Vec<&str> = sorted(SCENARIOS.iter().flat_map(|(_, ids)| ids.iter().copied()));
    assert_eq!(expected.len(), 42, "PRODUCT.md lists 42 scenarios");
    assert_eq!(kb.scenarios.len(), 42, "exactly 42 scenarios");
    assert_eq!(sorted(kb.scenarios.iter().map(|s| s.id.as_str())), expected);
    for (domain, ids) in SCENARIOS {
        for id in *ids {
            let s = kb.scenario(id).unwrap_or_else(|| panic!("scenario {id}"));
            assert_eq!(s.domain, *domain, "{id} is in domain {domain}");
        }
    }

    assert_eq!(
        sorted(kb.chains.iter().map(|c| c.id.as_str())),
        sorted(["product", "asset", "business"])
    );
    assert_eq!(kb.domains.len(), 14, "14 domains");
    let got: BTreeMap<&str, &str> = kb
        .domains
        .iter()
        .map(|d| (d.id.as_str(), d.chain.as_str()))
        .collect();
    let want: BTreeMap<&str, &str> = DOMAINS.iter().copied().collect();
    assert_eq!(got, want, "domains and their chains");
}

#[test]
fn sectors_paths_and_obstacles_have_the_canonical_ids() {
    let kb = kb();
    assert_eq!(
        sorted(kb.sectors.iter().map(|s| s.id.as_str())),
        sorted(SECTORS.iter().copied())
    );
    assert_eq!(kb.sectors.len(), 10, "ten sub-sectors");
    for g in [
        "raw_materials",
        "equipment_mfg",
        "electronics",
        "consumer_goods",
        "other",
    ] {
        assert!(kb.group(g).is_some(), "group {g}");
    }

    assert_eq!(kb.paths.len(), 4, "four paths");
    for (path, modes) in MODES {
        let p = kb.path(path).unwrap_or_else(|| panic!("path {path}"));
        assert_eq!(
            sorted(p.mode.iter().map(|m| m.id.as_str())),
            sorted(modes.iter().copied()),
            "modes of {path}"
        );
    }
    let all_modes: usize = kb.paths.iter().map(|p| p.mode.len()).sum();
    assert_eq!(all_modes, 8, "eight modes");

    assert!(
        kb.cases.len() >= 40,
        "every case of the report: {} cases",
        kb.cases.len()
    );

    let shares: BTreeMap<&str, f64> = kb
        .obstacles
        .iter()
        .map(|o| (o.id.as_str(), o.share))
        .collect();
    let want: BTreeMap<&str, f64> = [
        ("awareness", 0.53),
        ("no_solution", 0.43),
        ("budget", 0.32),
        ("skills", 0.31),
        ("security", 0.41),
    ]
    .into_iter()
    .collect();
    assert_eq!(shares, want, "five obstacles with the report's shares");
    let by_size =
        |id: &str, size: SizeClass| kb.obstacle(id).and_then(|o| o.by_size.get(&size).copied());
    assert_eq!(by_size("awareness", SizeClass::Micro), Some(0.60));
    assert_eq!(by_size("no_solution", SizeClass::Medium), Some(0.63));
}

fn num(v: f64) -> Value {
    Value::Float(v)
}

/// A profile document for a case, from its facts only.
fn case_profile(c: &Case) -> Result<Value, String> {
    let kb = kb();
    let f = &c.profile;
    let code = industry::parse_code(kb, &f.industry).map_err(|e| e.to_string())?;
    let cat = industry::size_category(kb, &code).map_err(|e| e.to_string())?;
    let mut m = BTreeMap::new();
    m.insert("industry".to_string(), Value::Str(f.industry.clone()));
    // Figures at the lower bounds of the case's size, or a small firm (60 people, 2000万) by default.
    let tier = |b: &Bounds, scale: f64| -> Vec<(Indicator, f64)> {
        cat.indicators
            .iter()
            .map(|i| (*i, b.get(*i).unwrap_or(0.0) * scale))
            .collect()
    };
    let figures = match f.size {
        Some(SizeClass::Large) => tier(&cat.large, 1.0),
        Some(SizeClass::Medium) => tier(&cat.medium, 1.0),
        Some(SizeClass::Small) => tier(&cat.small, 1.0),
        Some(SizeClass::Micro) => tier(&cat.small, 0.5),
        None => cat
            .indicators
            .iter()
            .map(|i| {
                (
                    *i,
                    if *i == Indicator::Employees {
                        60.0
                    } else {
                        2000.0
                    },
                )
            })
            .collect(),
    };
    for (ind, v) in figures {
        let v = if ind == Indicator::Employees {
            v
        } else {
            v * 10_000.0
        };
        m.insert(ind.id().to_string(), num(v));
    }
    if let Some(x) = f.product_complexity {
        m.insert("product_complexity".into(), Value::Str(x.id().into()));
    }
    if let Some(x) = f.chain_position {
        m.insert("chain_position".into(), Value::Str(x.id().into()));
    }
    for (k, x) in [
        ("supplies_chain_leader", f.supplies_chain_leader),
        ("in_cluster", f.in_cluster),
        ("uses_platform", f.uses_platform),
    ] {
        if let Some(b) = x {
            m.insert(k.into(), Value::Bool(b));
        }
    }
    Ok(Value::Table(m))
}

#[test]
fn every_case_classifies_to_its_sector_and_group() {
    let kb = kb();
    let mut failures = Vec::new();
    for c in &kb.cases {
        let who = format!("{} ({})", c.id, c.profile.industry);
        let doc = match case_profile(c) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{who}: {e}"));
                continue;
            }
        };
        let p = match profile::validate(kb, &doc) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{who}: profile refused: {e}"));
                continue;
            }
        };
        let r = match classify::classify(kb, &p) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{who}: does not classify: {e}"));
                continue;
            }
        };
        if let Some(sector) = &c.sector
            && r.sector.as_ref() != Some(sector)
        {
            failures.push(format!(
                "{who}: filed under sector {sector}, classified as {:?}",
                r.sector
            ));
        }
        if r.group != c.group {
            failures.push(format!(
                "{who}: filed under group {}, classified as {}",
                c.group, r.group
            ));
        }
        let want_size = c.profile.size.unwrap_or(SizeClass::Small);
        if r.size_class() != want_size {
            failures.push(format!(
                "{who}: size {want_size:?} expected, got {:?}",
                r.size_class()
            ));
        }
        if let Some(x) = c.profile.product_complexity
            && r.complexity.value != x
        {
            failures.push(format!(
                "{who}: complexity {x:?} given, got {:?}",
                r.complexity.value
            ));
        }
        if c.profile.supplies_chain_leader == Some(true)
            && !r.paths.iter().any(|m| m.mode == "chain.supplier")
        {
            failures.push(format!(
                "{who}: supplies a chain leader but has no chain.supplier path"
            ));
        }
        if c.profile.in_cluster == Some(true) && !r.paths.iter().any(|m| m.id == "cluster") {
            failures.push(format!("{who}: in a cluster but has no cluster path"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        kb.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_sector_has_cases_and_case_references_are_known() {
    let kb = kb();
    for s in SECTORS {
        let n = kb
            .cases
            .iter()
            .filter(|c| c.sector.as_deref() == Some(*s))
            .count();
        assert!(
            n >= 4,
            "sector {s} has {n} cases; the report gives about five each"
        );
    }
    for c in &kb.cases {
        for id in &c.scenarios {
            assert!(
                kb.scenario(id).is_some(),
                "case {}: unknown scenario {id}",
                c.id
            );
        }
        assert!(
            !c.profile.pain.zh.trim().is_empty() && !c.profile.pain.en.trim().is_empty(),
            "case {}: pain",
            c.id
        );
    }
}
