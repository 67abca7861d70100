//! Recommendations and the roadmap: properties over generated profiles (size fit, prerequisites
//! first, adopted scenarios left out, determinism), and the effect of the firm's own words, its
//! budget and its level gap.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use smedx_core::assessment::{self, Answers};
use smedx_core::industry;
use smedx_core::kb::{ChainPosition, Complexity, CostTier, Effort, SizeClass};
use smedx_core::profile::{self, IndustryInput, Profile, Value};
use smedx_core::recommend::{Engine, Reason, Recommendation, Report};

use crate::kb;

/// One engine for the whole test binary (building the text index takes a moment).
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(kb().clone()))
}

fn run(p: &Profile, a: Option<&Answers>) -> Report {
    engine()
        .run(p, a)
        .unwrap_or_else(|e| panic!("the profile should classify: {e}\n{p:?}"))
}

fn code(c: &str) -> IndustryInput {
    IndustryInput::Code {
        code: industry::parse_code(kb(), c).unwrap_or_else(|e| panic!("{c}: {e}")),
    }
}

/// A small metal-parts maker (C3311, 85 people, CNY 32m) with the given problem text.
fn metal_firm(pain: Option<&str>) -> Profile {
    Profile {
        industry: Some(code("C3311")),
        employees: Some(85.0),
        revenue: Some(32_000_000.0),
        pain_points: pain.map(str::to_string),
        ..Profile::default()
    }
}

fn example_profile() -> Profile {
    let doc: Value = toml::from_str(include_str!("../../../../examples/profile.toml"))
        .expect("examples/profile.toml is TOML");
    profile::validate(kb(), &doc).expect("examples/profile.toml is a valid profile")
}

fn example_answers(text: &str) -> Answers {
    let doc: Value = toml::from_str(text).expect("the example answers are TOML");
    assessment::parse_answers(&kb().questionnaire, &doc).expect("the example answers are valid")
}

fn rec<'a>(r: &'a Report, id: &str) -> Option<&'a Recommendation> {
    r.recommendations.iter().find(|x| x.scenario == id)
}

fn rank(r: &Report, id: &str) -> usize {
    r.recommendations
        .iter()
        .position(|x| x.scenario == id)
        .unwrap_or_else(|| panic!("{id} should be ranked"))
}

fn pain_words(x: &Recommendation) -> Option<&[String]> {
    x.reasons.iter().find_map(|r| match r {
        Reason::PainPoint { matched } => Some(matched.as_slice()),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Properties over generated profiles
// ---------------------------------------------------------------------------------------------

const PAINS: &[&str] = &[
    "订单多了交期总是延误，计件工资经常算错",
    "仓库老是找不到料，库存对不上",
    "设备经常突然停机，维修跟不上",
    "电费太高，不知道哪台设备最耗电",
    "客户投诉质量问题，批次查不到原因",
    "machines stop without warning",
    "late deliveries and rush orders keep changing",
    "we cannot trace which batch a defect came from",
    "",
    "zxqv blorf",
];

fn industry_codes() -> Vec<String> {
    let mut v: Vec<String> = kb().mappings.iter().map(|m| m.prefix.clone()).collect();
    // Whole divisions without a sub-sector, and two codes outside manufacturing.
    v.extend(
        ["C13", "C22", "C26", "C35", "C40", "F51", "I65"]
            .iter()
            .map(|s| s.to_string()),
    );
    v
}

fn scenario_ids() -> Vec<String> {
    kb().scenarios.iter().map(|s| s.id.clone()).collect()
}

prop_compose! {
    fn arb_profile()(
        code in prop::sample::select(industry_codes()),
        // A third of the firms have fewer than 20 people, so micro firms are common.
        employees in prop_oneof![1u32..20, 20u32..300, 300u32..=900],
        revenue in prop_oneof![100_000u64..3_000_000, 3_000_000u64..20_000_000, 20_000_000u64..500_000_000],
        complexity in prop::option::of(prop::sample::select(vec![Complexity::Low, Complexity::Medium, Complexity::High])),
        position in prop::option::of(prop::sample::select(vec![ChainPosition::Upstream, ChainPosition::Midstream, ChainPosition::Downstream])),
        in_cluster in prop::option::of(any::<bool>()),
        supplies in prop::option::of(any::<bool>()),
        platform in prop::option::of(any::<bool>()),
        adopted_mask in prop::collection::vec(prop::bool::weighted(0.15), scenario_ids().len()),
        budget in prop::option::of(prop::sample::select(vec![5_000.0, 20_000.0, 60_000.0, 300_000.0, 1_000_000.0, 10_000_000.0])),
        pain in prop::option::of(prop::sample::select(PAINS.to_vec())),
    ) -> Profile {
        let adopted = scenario_ids()
            .into_iter()
            .zip(adopted_mask)
            .filter(|(_, on)| *on)
            .map(|(id, _)| id)
            .collect();
        Profile {
            name: None,
            industry: Some(code_input(&code)),
            employees: Some(f64::from(employees)),
            revenue: Some(revenue as f64),
            assets: None,
            product_complexity: complexity,
            chain_position: position,
            in_cluster,
            supplies_chain_leader: supplies,
            uses_platform: platform,
            adopted,
            pain_points: pain.map(str::to_string),
            budget,
        }
    }
}

fn code_input(c: &str) -> IndustryInput {
    code(c)
}

fn answer_sets() -> &'static [Answers] {
    static SETS: OnceLock<Vec<Answers>> = OnceLock::new();
    SETS.get_or_init(|| {
        vec![
            example_answers(include_str!("../../../../examples/answers.toml")),
            example_answers(include_str!("../../../../examples/answers-weak.toml")),
        ]
    })
}

/// 64 cases by default (a few seconds in debug); `PROPTEST_CASES=5000` for a longer hunt.
fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 64;
    }
    c.failure_persistence = None;
    c
}

/// Micro firms start with single-point tools: nothing cross-process (let alone costly) in stage 1.
fn check_micro_stage_1(r: &Report) -> Result<(), TestCaseError> {
    if r.classification.size_class() != SizeClass::Micro {
        return Ok(());
    }
    let stage_1 = r
        .recommendations
        .iter()
        .filter(|x| x.stage == 1)
        .map(|x| x.scenario.as_str())
        .chain(
            r.roadmap
                .iter()
                .filter(|s| s.stage == 1)
                .flat_map(|s| s.scenarios.iter().map(String::as_str)),
        );
    for id in stage_1 {
        let s = kb().scenario(id).expect("recommended ids are scenarios");
        prop_assert!(
            !(s.effort == Effort::CrossProcess && s.cost_tier == CostTier::High),
            "micro firm: {id} is cross-process and high-cost in stage 1"
        );
        prop_assert_eq!(
            s.effort,
            Effort::SinglePoint,
            "micro firm: {} in stage 1 is not a single-point tool",
            id
        );
    }
    Ok(())
}

/// A missing prerequisite always comes first: in the ranked list, and in the roadmap.
fn check_prerequisites_first(p: &Profile, r: &Report) -> Result<(), TestCaseError> {
    let index: HashMap<&str, usize> = r
        .recommendations
        .iter()
        .enumerate()
        .map(|(i, x)| (x.scenario.as_str(), i))
        .collect();
    for (i, x) in r.recommendations.iter().enumerate() {
        let s = kb().scenario(&x.scenario).expect("a known scenario");
        let missing: Vec<&String> = s
            .prerequisites
            .iter()
            .filter(|q| !p.adopted.contains(q))
            .collect();
        prop_assert_eq!(
            x.needs.iter().collect::<Vec<_>>(),
            missing,
            "{}: `needs` lists exactly the prerequisites not in place",
            &x.scenario
        );
        for q in &x.needs {
            let j = index.get(q.as_str()).copied();
            prop_assert!(
                j.is_some_and(|j| j < i),
                "ranked list: {} (#{}) needs {} at {:?}",
                &x.scenario,
                i,
                q,
                j
            );
            let qs = r.recommendations[j.unwrap_or(0)].stage;
            prop_assert!(
                qs <= x.stage,
                "{} (stage {}) needs {} (stage {})",
                &x.scenario,
                x.stage,
                q,
                qs
            );
        }
    }
    let mut pos: HashMap<&str, (u8, usize)> = HashMap::new();
    for st in &r.roadmap {
        for (k, id) in st.scenarios.iter().enumerate() {
            prop_assert!(
                pos.insert(id.as_str(), (st.stage, k)).is_none(),
                "{} twice in the roadmap",
                id
            );
        }
    }
    for (id, at) in &pos {
        let x = rec(r, id).expect("roadmap scenarios are recommendations");
        prop_assert_eq!(
            x.stage,
            at.0,
            "{}: roadmap stage = recommendation stage",
            id
        );
        for q in &x.needs {
            let before = pos.get(q.as_str());
            prop_assert!(
                before.is_some_and(|b| b < at),
                "roadmap: {} at {:?} needs {} at {:?}",
                id,
                at,
                q,
                before
            );
        }
    }
    Ok(())
}

fn check_adopted_left_out(p: &Profile, r: &Report) -> Result<(), TestCaseError> {
    for a in &p.adopted {
        prop_assert!(rec(r, a).is_none(), "adopted {} is recommended", a);
        prop_assert!(
            r.roadmap.iter().all(|s| !s.scenarios.contains(a)),
            "adopted {} is in the roadmap",
            a
        );
        prop_assert!(
            r.recommendations.iter().all(|x| !x.needs.contains(a)),
            "adopted {} is listed as missing",
            a
        );
    }
    // Every other scenario is ranked exactly once.
    prop_assert_eq!(
        r.recommendations.len(),
        kb().scenarios.len() - p.adopted.len()
    );
    let mut seen: Vec<&str> = r
        .recommendations
        .iter()
        .map(|x| x.scenario.as_str())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    prop_assert_eq!(seen.len(), r.recommendations.len(), "no duplicates");
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_profiles_get_consistent_reports(
        p in arb_profile(),
        answers in prop::option::of(0usize..2),
    ) {
        let a = answers.map(|i| &answer_sets()[i]);
        let r = run(&p, a);
        check_micro_stage_1(&r)?;
        check_prerequisites_first(&p, &r)?;
        check_adopted_left_out(&p, &r)?;
        prop_assert!(!r.roadmap.is_empty(), "every firm gets a roadmap");
        let again = run(&p, a);
        prop_assert!(r == again, "the same input gives the same report");
    }
}

/// With the shipped data every prerequisite is naturally staged no later than its dependants; an
/// administrator's knowledge base (`--kb`) may not be so kind. A quick win whose prerequisite is slow
/// and costly must wait for it.
#[test]
fn a_quick_win_waits_for_a_slow_prerequisite() {
    let mut k = kb().clone();
    let finance = k
        .scenarios
        .iter_mut()
        .find(|s| s.id == "mg.finance")
        .expect("mg.finance is a scenario");
    finance.cost_tier = CostTier::High;
    finance.time_to_value_months = 18;
    let scf = k.scenario("mg.scf").expect("mg.scf is a scenario").clone();
    assert!(scf.prerequisites.contains(&"mg.finance".to_string()));
    assert_eq!(
        (scf.cost_tier, scf.effort),
        (CostTier::Low, Effort::SinglePoint),
        "mg.scf alone would be a quick win"
    );

    let e = Engine::new(k);
    let p = metal_firm(None);
    let r = e.run(&p, None).expect("the profile classifies");
    let stage = |id: &str| rec(&r, id).expect("ranked").stage;
    assert_eq!(stage("mg.finance"), 3, "a costly, slow scenario is late");
    assert_eq!(
        stage("mg.scf"),
        3,
        "mg.scf cannot come before the finance system it needs"
    );
    check_prerequisites_first(&p, &r).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn micro_example_starts_with_single_point_tools() {
    let doc: Value = serde_json::from_str(include_str!("../../../../examples/profile-micro.json"))
        .expect("examples/profile-micro.json is JSON");
    let p = profile::validate(kb(), &doc).expect("a valid profile");
    let r = run(&p, None);
    assert_eq!(r.classification.size_class(), SizeClass::Micro);
    let stage_1 = r
        .roadmap
        .iter()
        .find(|s| s.stage == 1)
        .expect("a micro firm gets quick wins");
    assert!(!stage_1.scenarios.is_empty());
    for id in &stage_1.scenarios {
        let s = kb().scenario(id).expect("known");
        assert_eq!(s.effort, Effort::SinglePoint, "{id}");
        assert_eq!(s.cost_tier, CostTier::Low, "{id}: a quick win is cheap");
    }
}

// ---------------------------------------------------------------------------------------------
// The firm's own words
// ---------------------------------------------------------------------------------------------

/// An `eq.*` scenario is in the top 3 with a pain-point reason quoting the user's words.
fn equipment_in_top_3(text: &str) {
    let r = run(&metal_firm(Some(text)), None);
    let top: Vec<&Recommendation> = r.recommendations.iter().take(3).collect();
    let lower = text.to_lowercase();
    let hit = top.iter().find(|x| {
        x.scenario.starts_with("eq.")
            && pain_words(x).is_some_and(|w| w.iter().any(|m| lower.contains(&m.to_lowercase())))
    });
    assert!(
        hit.is_some(),
        "{text:?}: no eq.* scenario with the user's words in the top 3: {:#?}",
        top
    );
    assert!(
        !r.pain_points.is_empty(),
        "{text:?}: the text was understood"
    );
}

#[test]
fn chinese_breakdown_complaint_points_to_equipment() {
    equipment_in_top_3("设备经常突然停机，维修跟不上");
}

#[test]
fn english_breakdown_complaint_points_to_equipment() {
    equipment_in_top_3("machines stop without warning");
}

#[test]
fn empty_or_meaningless_text_changes_nothing() {
    let baseline = run(&metal_firm(None), None);
    for text in ["", "   ", "zxqv blorf", "啊啊啊", "!!! ???"] {
        let r = run(&metal_firm(Some(text)), None);
        assert!(r.pain_points.is_empty(), "{text:?}: {:?}", r.pain_points);
        assert!(
            r.recommendations.iter().all(|x| pain_words(x).is_none()),
            "{text:?}: a pain-point reason without words"
        );
        assert_eq!(
            r.recommendations, baseline.recommendations,
            "{text:?}: ranking differs from no text"
        );
        assert_eq!(
            engine().index.search(kb(), text),
            Vec::new(),
            "{text:?}: search"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Budget
// ---------------------------------------------------------------------------------------------

#[test]
fn a_small_budget_pushes_costly_scenarios_down() {
    for pain in [None, Some("想上机器人自动化产线，减少人工")] {
        let free = run(&metal_firm(pain), None);
        let mut tight_profile = metal_firm(pain);
        tight_profile.budget = Some(20_000.0);
        let tight = run(&tight_profile, None);
        let high: Vec<&str> = kb()
            .scenarios
            .iter()
            .filter(|s| s.cost_tier == CostTier::High)
            .map(|s| s.id.as_str())
            .collect();
        assert!(!high.is_empty());
        for id in &high {
            let (a, b) = (
                rec(&free, id).expect("ranked"),
                rec(&tight, id).expect("ranked"),
            );
            assert!(
                b.reasons.contains(&Reason::OverBudget { budget: 20_000.0 }),
                "{pain:?} {id}: over-budget reason missing: {:?}",
                b.reasons
            );
            if a.score > 0.0 {
                assert!(
                    b.score < a.score,
                    "{pain:?} {id}: {} with the budget, {} without",
                    b.score,
                    a.score
                );
            }
            assert!(
                rank(&tight, id) >= rank(&free, id),
                "{pain:?} {id}: rank {} with the budget, {} without",
                rank(&tight, id),
                rank(&free, id)
            );
            assert_ne!(b.stage, 1, "{pain:?} {id}: a costly scenario in stage 1");
        }
        for st in tight.roadmap.iter().filter(|s| s.stage == 1) {
            for id in &st.scenarios {
                assert!(!high.contains(&id.as_str()), "{pain:?}: {id} in stage 1");
                let tier = kb().scenario(id).expect("known").cost_tier;
                assert_eq!(
                    tier,
                    CostTier::Low,
                    "{pain:?}: {id} in stage 1 is affordable"
                );
            }
        }
        // Cheap scenarios are marked as fitting the budget.
        for x in &tight.recommendations {
            if kb().scenario(&x.scenario).expect("known").cost_tier == CostTier::Low {
                assert!(
                    x.reasons
                        .contains(&Reason::WithinBudget { budget: 20_000.0 }),
                    "{}",
                    x.scenario
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Level gap from answers
// ---------------------------------------------------------------------------------------------

#[test]
fn the_level_gap_adds_reasons_to_the_scenarios_that_close_it() {
    let p = example_profile();
    let answers = example_answers(include_str!("../../../../examples/answers.toml"));
    let with = run(&p, Some(&answers));
    let without = run(&p, None);
    let a = with
        .assessment
        .as_ref()
        .expect("answers give an assessment");
    let gap = a.gap.as_ref().expect("the example firm has a gap");
    assert!(!gap.steps.is_empty());

    // Which indicator scenario(s) each report scenario helps with.
    let mut via: BTreeMap<&str, Vec<(&str, u8, u8)>> = BTreeMap::new();
    for st in &gap.steps {
        for v in &st.via {
            via.entry(v.as_str())
                .or_default()
                .push((st.scenario.as_str(), st.from, st.to));
        }
    }
    let mut checked = 0;
    for (id, steps) in &via {
        if p.adopted.iter().any(|x| x == id) {
            continue;
        }
        let x = rec(&with, id).expect("a non-adopted scenario is ranked");
        let gap_reason = x.reasons.iter().find_map(|r| match r {
            Reason::LevelGap {
                indicator,
                from,
                to,
            } => Some((indicator.as_str(), *from, *to)),
            _ => None,
        });
        let g =
            gap_reason.unwrap_or_else(|| panic!("{id} closes the gap but has no level_gap reason"));
        assert!(steps.contains(&g), "{id}: {g:?} not among {steps:?}");
        let before = rec(&without, id).expect("ranked").score;
        assert!(
            x.score > before,
            "{id}: the gap should raise its score ({} vs {before})",
            x.score
        );
        checked += 1;
    }
    assert!(checked > 0, "at least one gap scenario was checked");

    // Only those scenarios carry the reason, and none without answers.
    for x in &with.recommendations {
        let has = x
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::LevelGap { .. }));
        assert_eq!(has, via.contains_key(x.scenario.as_str()), "{}", x.scenario);
    }
    assert!(without.recommendations.iter().all(|x| {
        !x.reasons
            .iter()
            .any(|r| matches!(r, Reason::LevelGap { .. } | Reason::LevelLift { .. }))
    }));
}
