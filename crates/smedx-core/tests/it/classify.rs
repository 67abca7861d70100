//! Classification: size class, sector and group, inferred complexity and chain position, and the
//! transformation paths with their sub-modes (report ch. 3.1–3.5, 4.1).

use smedx_core::classify::{self, Basis, Classification, PathMatch, PathReason};
use smedx_core::kb::{ChainPosition, Complexity, SizeClass};
use smedx_core::profile::{self, Value};

use crate::kb;

/// Validates and classifies a TOML profile.
fn classify_toml(text: &str) -> Classification {
    let doc: Value =
        toml::from_str(text).unwrap_or_else(|e| panic!("test TOML should parse: {e}\n{text}"));
    let p = profile::validate(kb(), &doc)
        .unwrap_or_else(|e| panic!("profile should be valid:\n{e}\n---\n{text}"));
    classify::classify(kb(), &p)
        .unwrap_or_else(|e| panic!("profile should classify: {e}\n---\n{text}"))
}

fn path<'a>(c: &'a Classification, id: &str) -> Option<&'a PathMatch> {
    c.paths.iter().find(|m| m.id == id)
}

fn path_ids(c: &Classification) -> Vec<String> {
    c.paths
        .iter()
        .map(|m| format!("{}={}", m.id, m.mode))
        .collect()
}

/// Every classification must have exactly one primary path, the first one, and valid mode ids.
fn check_paths(c: &Classification) {
    let primary: Vec<&PathMatch> = c.paths.iter().filter(|m| m.primary).collect();
    assert_eq!(
        primary.len(),
        1,
        "exactly one primary path: {:?}",
        path_ids(c)
    );
    assert!(
        c.paths[0].primary,
        "the primary path is listed first: {:?}",
        path_ids(c)
    );
    for w in c.paths.windows(2) {
        assert!(
            w[0].strength >= w[1].strength,
            "strongest first: {:?}",
            c.paths
        );
    }
    for m in &c.paths {
        let (p, _) = kb()
            .path_mode(&m.mode)
            .unwrap_or_else(|| panic!("mode {} is a mode of the knowledge base", m.mode));
        assert_eq!(p.id, m.id, "mode {} belongs to path {}", m.mode, m.id);
        assert!(!m.reasons.is_empty(), "path {} gives a reason", m.id);
    }
    let mut ids: Vec<&str> = c.paths.iter().map(|m| m.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        c.paths.len(),
        "a path appears once: {:?}",
        path_ids(c)
    );
}

const PARTS_SUPPLIER: &str = r#"
industry = "C3670"
employees = 85
revenue = 32000000
product_complexity = "medium"
supplies_chain_leader = true
"#;

#[test]
fn parts_maker_supplying_a_chain_leader_takes_the_chain_path() {
    let c = classify_toml(PARTS_SUPPLIER);
    check_paths(&c);
    let first = &c.paths[0];
    assert_eq!(
        (first.id.as_str(), first.mode.as_str()),
        ("chain", "chain.supplier"),
        "{:?}",
        path_ids(&c)
    );
    assert!(first.primary);
    assert!(
        first.reasons.contains(&PathReason::SuppliesChainLeader),
        "{:?}",
        first.reasons
    );
    assert!(
        first.reasons.contains(&PathReason::Complexity {
            complexity: Complexity::Medium
        }),
        "{:?}",
        first.reasons
    );
    assert_eq!(c.sector.as_deref(), Some("auto_parts"));
    assert_eq!(c.group, "equipment_mfg");
    assert_eq!(
        c.size_class(),
        SizeClass::Small,
        "85 employees and 3200万 is small"
    );
    assert_eq!(c.industry.code.as_deref(), Some("C3670"));
}

#[test]
fn a_firm_that_does_not_supply_a_chain_leader_is_not_pushed_onto_the_chain_path() {
    let c = classify_toml(&PARTS_SUPPLIER.replace(
        "supplies_chain_leader = true",
        "supplies_chain_leader = false",
    ));
    check_paths(&c);
    assert!(path(&c, "chain").is_none(), "{:?}", path_ids(&c));
    // Not stated: functional parts makers are likely chain suppliers, but weakly.
    let c = classify_toml(&PARTS_SUPPLIER.replace("supplies_chain_leader = true", ""));
    let chain =
        path(&c, "chain").unwrap_or_else(|| panic!("a weak chain path: {:?}", path_ids(&c)));
    assert_eq!(chain.mode, "chain.supplier");
    assert!(!chain.primary, "a guess does not lead: {:?}", path_ids(&c));
    assert!(!chain.reasons.contains(&PathReason::SuppliesChainLeader));
}

#[test]
fn a_firm_in_a_cluster_gets_the_cluster_path() {
    let c = classify_toml(
        "industry = \"C3670\"\nemployees = 85\nrevenue = 32000000\nin_cluster = true\nsupplies_chain_leader = false\n",
    );
    check_paths(&c);
    let m = path(&c, "cluster").unwrap_or_else(|| panic!("a cluster path: {:?}", path_ids(&c)));
    assert_eq!(
        m.mode, "cluster.core",
        "parts makers collaborate on core business"
    );
    assert!(m.reasons.contains(&PathReason::InCluster));
    assert!(
        m.primary,
        "an explicit cluster tie leads here: {:?}",
        path_ids(&c)
    );

    // Raw-materials parks share public systems (safety, environment, energy).
    let c = classify_toml(
        "industry = \"C3011\"\nemployees = 85\nrevenue = 32000000\nin_cluster = true\n",
    );
    check_paths(&c);
    let m = path(&c, "cluster").unwrap_or_else(|| panic!("a cluster path: {:?}", path_ids(&c)));
    assert_eq!(m.mode, "cluster.public");
    assert!(m.reasons.contains(&PathReason::Group {
        group: "raw_materials".into()
    }));

    // No cluster without the flag.
    let c = classify_toml("industry = \"C3011\"\nemployees = 85\nrevenue = 32000000\n");
    assert!(path(&c, "cluster").is_none(), "{:?}", path_ids(&c));
}

#[test]
fn basic_processing_fits_a_platform() {
    let c = classify_toml(
        "industry = \"C3311\"\nemployees = 40\nrevenue = 5000000\nproduct_complexity = \"low\"\n",
    );
    check_paths(&c);
    let m = path(&c, "platform").unwrap_or_else(|| panic!("a platform path: {:?}", path_ids(&c)));
    assert_eq!(
        m.mode, "platform.horizontal",
        "equipment makers: horizontal integration"
    );
    assert!(m.reasons.contains(&PathReason::Complexity {
        complexity: Complexity::Low
    }));

    // Consumer-goods firms integrate vertically (e.g. apparel platforms).
    let c = classify_toml("industry = \"C1713\"\nemployees = 40\nrevenue = 5000000\n");
    check_paths(&c);
    assert_eq!(
        c.complexity.value,
        Complexity::Low,
        "dyeing is basic processing"
    );
    let m = path(&c, "platform").unwrap_or_else(|| panic!("a platform path: {:?}", path_ids(&c)));
    assert_eq!(m.mode, "platform.vertical");

    // A firm already on a platform gets it strongly whatever its complexity.
    let c = classify_toml(
        "industry = \"C3441\"\nemployees = 40\nrevenue = 5000000\nproduct_complexity = \"high\"\nuses_platform = true\n",
    );
    let m = path(&c, "platform").unwrap_or_else(|| panic!("a platform path: {:?}", path_ids(&c)));
    assert!(m.reasons.contains(&PathReason::UsesPlatform));

    // High complexity without a platform tie: no platform path.
    let c = classify_toml(
        "industry = \"C3441\"\nemployees = 40\nrevenue = 5000000\nproduct_complexity = \"high\"\n",
    );
    assert!(path(&c, "platform").is_none(), "{:?}", path_ids(&c));
}

#[test]
fn every_firm_gets_the_lightweight_path_by_size() {
    // (employees, revenue in yuan, expected size, expected mode)
    let sizes = [
        (8, 1_000_000, SizeClass::Micro, "lightweight.micro_small"),
        (60, 20_000_000, SizeClass::Small, "lightweight.micro_small"),
        (300, 20_000_000, SizeClass::Medium, "lightweight.medium"),
        (999, 399_999_999, SizeClass::Medium, "lightweight.medium"),
        (1000, 400_000_000, SizeClass::Large, "lightweight.medium"),
    ];
    // Manufacturing codes, all under the industrial size rule.
    for code in ["C3670", "C3311", "C1811", "C3011", "C2682", "C3484"] {
        for flags in [
            "",
            "in_cluster = true\nsupplies_chain_leader = true\nuses_platform = true\n",
        ] {
            for (emp, rev, size, mode) in sizes {
                let c = classify_toml(&format!(
                    "industry = \"{code}\"\nemployees = {emp}\nrevenue = {rev}\n{flags}"
                ));
                check_paths(&c);
                assert_eq!(c.size_class(), size, "{code} {emp}/{rev}");
                assert_eq!(
                    c.size.is_sme,
                    size != SizeClass::Large,
                    "{code} {emp}/{rev}"
                );
                let m = path(&c, "lightweight").unwrap_or_else(|| {
                    panic!(
                        "{code} {emp}/{rev}: lightweight path missing: {:?}",
                        path_ids(&c)
                    )
                });
                assert_eq!(m.mode, mode, "{code} {emp}/{rev}");
                assert!(m.reasons.contains(&PathReason::AllFirms));
                assert!(m.reasons.contains(&PathReason::Size { size }));
            }
        }
    }
}

#[test]
fn complexity_and_position_come_from_the_sector_unless_given() {
    let c = classify_toml("industry = \"C3670\"\nemployees = 85\nrevenue = 32000000\n");
    assert_eq!(
        (c.complexity.value, c.complexity.basis),
        (Complexity::Medium, Basis::Sector)
    );
    assert_eq!(
        (c.chain_position.value, c.chain_position.basis),
        (ChainPosition::Midstream, Basis::Sector)
    );
    assert!(!c.complexity.reason.en.is_empty() && !c.complexity.reason.zh.is_empty());

    for (code, complexity, position) in [
        ("C3311", Complexity::Low, ChainPosition::Upstream),
        ("C1811", Complexity::High, ChainPosition::Downstream),
        ("C2682", Complexity::High, ChainPosition::Downstream),
        ("C3441", Complexity::High, ChainPosition::Downstream),
    ] {
        let c = classify_toml(&format!(
            "industry = \"{code}\"\nemployees = 85\nrevenue = 32000000\n"
        ));
        let sector = kb()
            .sector(c.sector.as_deref().expect("a sector code"))
            .expect("a known sector");
        assert_eq!(
            (sector.typical_complexity, sector.typical_position),
            (complexity, position),
            "{code}: sector data"
        );
        assert_eq!(
            (c.complexity.value, c.complexity.basis),
            (complexity, Basis::Sector),
            "{code}"
        );
        assert_eq!(
            (c.chain_position.value, c.chain_position.basis),
            (position, Basis::Sector),
            "{code}"
        );
    }

    let c = classify_toml(
        "industry = \"C3670\"\nemployees = 85\nrevenue = 32000000\nproduct_complexity = \"high\"\nchain_position = \"downstream\"\n",
    );
    assert_eq!(
        (c.complexity.value, c.complexity.basis),
        (Complexity::High, Basis::Given)
    );
    assert_eq!(
        (c.chain_position.value, c.chain_position.basis),
        (ChainPosition::Downstream, Basis::Given)
    );

    // Given complexity, no sector: the position follows the complexity.
    let c = classify_toml(
        "industry = \"C3484\"\nemployees = 85\nrevenue = 32000000\nproduct_complexity = \"low\"\n",
    );
    assert_eq!(c.sector, None);
    assert_eq!(c.complexity.basis, Basis::Given);
    assert_eq!(
        (c.chain_position.value, c.chain_position.basis),
        (ChainPosition::Upstream, Basis::Complexity)
    );

    // Neither, no sector: the group decides.
    let c = classify_toml("industry = \"C2611\"\nemployees = 85\nrevenue = 32000000\n");
    assert_eq!(
        (c.complexity.value, c.complexity.basis),
        (Complexity::Low, Basis::Group)
    );
}

#[test]
fn a_sector_id_classifies_like_its_codes() {
    let by_id = classify_toml("industry = \"auto_parts\"\nemployees = 85\nrevenue = 32000000\n");
    let by_code = classify_toml("industry = \"C3670\"\nemployees = 85\nrevenue = 32000000\n");
    assert_eq!(by_id.sector, by_code.sector);
    assert_eq!(by_id.group, by_code.group);
    assert_eq!(by_id.size, by_code.size);
    assert_eq!(by_id.paths, by_code.paths);
    assert_eq!(by_id.industry.code, None, "no code was given");
    assert!(by_id.industry.name.is_some());
}

#[test]
fn non_manufacturing_firms_classify_as_group_other() {
    let c = classify_toml("industry = \"F52\"\nemployees = 12\nrevenue = 2000000\n");
    check_paths(&c);
    assert_eq!(c.sector, None);
    assert_eq!(c.group, "other");
    assert_eq!(c.size.rule.category, "retail");
    assert_eq!(
        c.size_class(),
        SizeClass::Small,
        "retail: 12 ≥ 10 employees, 200万 ≥ 100万"
    );
    assert_eq!(c.complexity.basis, Basis::Group);
    assert!(path(&c, "lightweight").is_some());
}

#[test]
fn classify_without_industry_is_an_error_not_a_panic() {
    let p = profile::Profile {
        employees: Some(10.0),
        revenue: Some(1.0),
        ..Default::default()
    };
    assert!(classify::classify(kb(), &p).is_err());
}
