//! The national digital-level assessment (2024 edition, cn-standards §2.2): answers are checked
//! against the questionnaire, every question type scores as the instrument says, the overall level
//! needs the score AND the scenario counts, and the gap tells the firm what would close it.

use std::collections::BTreeMap;

use smedx_core::assessment::{
    self, AnswerError, Answers, Assessment, Condition, Gap, QuestionKind, QuestionScore,
    Questionnaire, TrendDirection,
};
use smedx_core::profile::Value;

use crate::kb;

fn questionnaire() -> &'static Questionnaire {
    &kb().questionnaire
}

fn doc(text: &str) -> Value {
    toml::from_str::<Value>(text).unwrap_or_else(|e| panic!("test TOML should parse: {e}\n{text}"))
}

fn parse(text: &str) -> Answers {
    assessment::parse_answers(questionnaire(), &doc(text))
        .unwrap_or_else(|e| panic!("the answers should be accepted:\n{e}\n--- answers ---\n{text}"))
}

fn assess(text: &str) -> Assessment {
    assessment::assess(questionnaire(), &parse(text))
}

fn errors(text: &str) -> Vec<AnswerError> {
    match assessment::parse_answers(questionnaire(), &doc(text)) {
        Ok(a) => panic!("the answers should be refused, got {a:?}\n--- answers ---\n{text}"),
        Err(e) => e.0,
    }
}

fn score_of<'a>(a: &'a Assessment, question: &str) -> &'a QuestionScore {
    a.questions
        .iter()
        .find(|s| s.question == question)
        .unwrap_or_else(|| panic!("the assessment should score question {question}"))
}

/// The points of one question when only that line is answered.
fn points(line: &str, question: &str) -> f64 {
    score_of(&assess(line), question).points
}

fn option_ids(question: &str) -> Vec<String> {
    questionnaire()
        .question(question)
        .unwrap_or_else(|| panic!("question {question} should exist"))
        .option
        .iter()
        .map(|o| o.id.clone())
        .collect()
}

fn toml_list(ids: &[String]) -> String {
    let quoted: Vec<String> = ids.iter().map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

// ---------------------------------------------------------------------------------------------
// One question at a time
// ---------------------------------------------------------------------------------------------

#[test]
fn single_choice_scores_the_chosen_option() {
    assert_eq!(
        points(r#"information_systems = "most""#, "information_systems"),
        7.5
    );
    assert_eq!(
        points(r#"information_systems = "none""#, "information_systems"),
        0.0
    );
    assert_eq!(
        points(r#"information_systems = "full""#, "information_systems"),
        10.0
    );
    assert_eq!(points(r#"planning = "peer_exchange""#, "planning"), 7.5);
}

#[test]
fn multi_choice_adds_each_ticked_option() {
    assert_eq!(
        points(
            r#"network = ["shopfloor_control", "application_network"]"#,
            "network"
        ),
        4.0
    );
    // Ticking the same option twice does not count it twice.
    assert_eq!(
        points(
            r#"network = ["shopfloor_control", "shopfloor_control"]"#,
            "network"
        ),
        2.0
    );

    // 数据采集 is weighted per option (13 × 0.7 + 人力资源 0.9), not split evenly.
    let all = option_ids("data_collection");
    assert_eq!(all.len(), 14, "14 business functions");
    let every = format!("data_collection = {}", toml_list(&all));
    assert_eq!(
        points(&every, "data_collection"),
        10.0,
        "all 14 make exactly 10"
    );
    assert_eq!(
        points(r#"data_collection = ["hr"]"#, "data_collection"),
        0.9
    );
    assert_eq!(
        points(r#"data_collection = ["finance"]"#, "data_collection"),
        0.7
    );

    // An empty list is an answer ("none of them"): 0 points, and not listed as unanswered.
    let a = assess("network = []");
    let s = score_of(&a, "network");
    assert_eq!(s.points, 0.0);
    assert!(s.answered, "[] is an answer");
    assert!(!a.unanswered.contains(&"network".to_string()));
}

#[test]
fn ratio_bands_include_their_upper_edge() {
    // (digital, total) → points; bands are (previous, up_to] and the first includes 0.
    let cases = [
        (0, 100, 0.0),
        (10, 100, 0.0),
        (11, 100, 1.5),
        (20, 100, 1.5),
        (21, 100, 3.0),
        (40, 100, 3.0),
        (41, 100, 4.5),
        (60, 100, 4.5),
        (61, 100, 6.0),
        (100, 100, 6.0),
    ];
    for (n, d, expected) in cases {
        let a = assess(&format!(
            "equipment_digital = {{ digital = {n}, total = {d} }}"
        ));
        let s = score_of(&a, "equipment_digital");
        assert_eq!(s.points, expected, "equipment_digital {n}/{d}");
        let rate = s
            .derived
            .unwrap_or_else(|| panic!("{n}/{d}: the digital rate should be reported"));
        assert!(
            (rate - f64::from(n) / f64::from(d)).abs() < 1e-12,
            "{n}/{d}: reported rate {rate}"
        );
    }
    // Connected equipment and funding use the same edges with their own points.
    assert_eq!(
        points(
            "equipment_networked = { networked = 6, total = 40 }",
            "equipment_networked"
        ),
        1.5
    );
    assert_eq!(
        points("funding = { investment = 15, revenue = 100 }", "funding"),
        1.875
    );
    assert_eq!(
        points("funding = { investment = 18, revenue = 3200 }", "funding"),
        0.0,
        "a realistic 0.6% of revenue falls in the first band"
    );
}

fn trend(line: &str, question: &str) -> (f64, Option<TrendDirection>) {
    let a = assess(line);
    let s = score_of(&a, question);
    (s.points, s.direction)
}

#[test]
fn quality_trend_higher_is_better_with_a_one_percent_flat_band() {
    use TrendDirection::*;
    assert_eq!(
        trend("quality = { before = 96, after = 97 }", "quality"),
        (7.0, Some(Better))
    );
    assert_eq!(
        trend("quality = { before = 96, after = 96 }", "quality"),
        (3.5, Some(Flat))
    );
    // +0.94% and −0.52% are within the 1% tolerance.
    assert_eq!(
        trend("quality = { before = 96, after = 96.9 }", "quality"),
        (3.5, Some(Flat))
    );
    assert_eq!(
        trend("quality = { before = 96, after = 95.5 }", "quality"),
        (3.5, Some(Flat))
    );
    assert_eq!(
        trend("quality = { before = 96, after = 95 }", "quality"),
        (0.0, Some(Worse))
    );
    let a = assess("quality = { before = 96.5, after = 97.8 }");
    let s = score_of(&a, "quality");
    assert_eq!(s.before_after, Some((96.5, 97.8)));
    let change = s.derived.expect("the relative change should be reported");
    assert!((change - 1.3 / 96.5).abs() < 1e-9, "change {change}");
}

#[test]
fn energy_per_100_yuan_lower_is_better() {
    use TrendDirection::*;
    let line = "green = { before = { energy = 100, revenue = 1000 }, after = { energy = 90, revenue = 1000 } }";
    let a = assess(line);
    let s = score_of(&a, "green");
    assert_eq!((s.points, s.direction), (7.0, Some(Better)));
    // Revenue is in 万元: 100 t over 1000 万元 = 0.001 t per 100 yuan.
    let (before, after) = s.before_after.expect("the intensities should be reported");
    assert!((before - 0.001).abs() < 1e-15, "before {before}");
    assert!((after - 0.0009).abs() < 1e-15, "after {after}");

    // More energy but even more revenue: the intensity falls, which is better.
    assert_eq!(
        trend(
            "green = { before = { energy = 100, revenue = 1000 }, after = { energy = 105, revenue = 1200 } }",
            "green"
        ),
        (7.0, Some(Better))
    );
    assert_eq!(
        trend(
            "green = { before = { energy = 100, revenue = 1000 }, after = { energy = 120, revenue = 1000 } }",
            "green"
        ),
        (0.0, Some(Worse))
    );
    assert_eq!(
        trend(
            "green = { before = { energy = 100, revenue = 1000 }, after = { energy = 200, revenue = 2000 } }",
            "green"
        ),
        (3.5, Some(Flat))
    );
    // Cost per 100 yuan of revenue: lower is better too.
    assert_eq!(
        trend(
            "cost_per_100 = { before = { cost = 800, revenue = 1000 }, after = { cost = 700, revenue = 1000 } }",
            "cost_per_100"
        ),
        (3.0, Some(Better))
    );
    assert_eq!(
        trend(
            "cost_per_100 = { before = { cost = 800, revenue = 1000 }, after = { cost = 900, revenue = 1000 } }",
            "cost_per_100"
        ),
        (0.0, Some(Worse))
    );
}

#[test]
fn revenue_per_head_higher_is_better() {
    use TrendDirection::*;
    assert_eq!(
        trend(
            "revenue_per_head = { before = { revenue = 1000, employees = 10 }, after = { revenue = 1200, employees = 10 } }",
            "revenue_per_head"
        ),
        (3.0, Some(Better))
    );
    // Same revenue, more people: worse.
    assert_eq!(
        trend(
            "revenue_per_head = { before = { revenue = 1000, employees = 10 }, after = { revenue = 1000, employees = 12 } }",
            "revenue_per_head"
        ),
        (0.0, Some(Worse))
    );
    // Revenue and headcount grow together: flat.
    assert_eq!(
        trend(
            "revenue_per_head = { before = { revenue = 1000, employees = 10 }, after = { revenue = 1100, employees = 11 } }",
            "revenue_per_head"
        ),
        (1.5, Some(Flat))
    );
    let a = assess(
        "revenue_per_head = { before = { revenue = 3000, employees = 90 }, after = { revenue = 3200, employees = 85 } }",
    );
    let (before, after) = score_of(&a, "revenue_per_head")
        .before_after
        .expect("revenue per head should be reported");
    assert!((before - 3000.0 / 90.0).abs() < 1e-9);
    assert!((after - 3200.0 / 85.0).abs() < 1e-9);
}

#[test]
fn unanswered_questions_score_zero_and_are_listed() {
    let a = assess(
        r#"network = ["shopfloor_control"]
information_systems = "single""#,
    );
    let all: Vec<String> = questionnaire()
        .question
        .iter()
        .map(|q| q.id.clone())
        .collect();
    assert_eq!(all.len(), 15, "15 scored second-level indicators");
    let expected: Vec<String> = all
        .iter()
        .filter(|id| *id != "network" && *id != "information_systems")
        .cloned()
        .collect();
    assert_eq!(a.unanswered, expected);
    for id in &expected {
        let s = score_of(&a, id);
        assert!(!s.answered, "{id}");
        assert_eq!(s.points, 0.0, "{id} is unanswered and scores 0");
    }
    assert_eq!(a.score, 4.5);
    // Unrated business scenarios count as level 0.
    assert_eq!(a.scenario_levels.len(), 16);
    assert!(a.scenario_levels.values().all(|l| *l == 0));
}

// ---------------------------------------------------------------------------------------------
// The overall level: score AND scenario counts
// ---------------------------------------------------------------------------------------------

/// 8 (network) + 10 (information systems) + 5 + 5 (security) + 7 (quality better) = 35 points.
const BASE_35: &str = r#"
network = ["shopfloor_control", "application_network", "industrial_5g", "full_coverage"]
information_systems = "full"
network_security = ["policy", "products", "risk_assessment", "boundary_control"]
data_security = ["policy", "products", "risk_assessment", "data_inventory"]
quality = { before = 95.0, after = 98.0 }
"#;

/// 35 + green better (7) + revenue per head better (3) = 45.
fn score_45() -> String {
    format!(
        "{BASE_35}
green = {{ before = {{ energy = 100, revenue = 1000 }}, after = {{ energy = 80, revenue = 1000 }} }}
revenue_per_head = {{ before = {{ revenue = 1000, employees = 10 }}, after = {{ revenue = 1200, employees = 10 }} }}
"
    )
}

/// 35 + seven 0.7-point data-collection functions (4.9) = 39.9.
fn score_39_9() -> String {
    format!(
        r#"{BASE_35}
data_collection = ["product_design", "process_design", "marketing", "after_sales", "planning", "production_control", "quality"]
"#
    )
}

/// 35 + five 0.7-point functions (3.5) + revenue per head flat (1.5) = 40 exactly.
fn score_40() -> String {
    format!(
        r#"{BASE_35}
data_collection = ["product_design", "process_design", "marketing", "after_sales", "planning"]
revenue_per_head = {{ before = {{ revenue = 1000, employees = 10 }}, after = {{ revenue = 1000, employees = 10 }} }}
"#
    )
}

/// Five scenarios at L2 (three ★) and a sixth at L1.
const FIVE_AT_L2: &str = "
[scenarios]
finance = 2
warehouse = 2
production_control = 2
office = 2
hr = 2
planning = 1
";

/// Six at L2, three of them ★ (finance, warehouse, production control).
const SIX_AT_L2: &str = "
[scenarios]
finance = 2
warehouse = 2
production_control = 2
office = 2
hr = 2
planning = 2
";

/// Six at L2 but only two ★; a third ★ (procurement) is at L1.
const SIX_AT_L2_TWO_STARRED: &str = "
[scenarios]
finance = 2
warehouse = 2
office = 2
hr = 2
planning = 2
decision = 2
procurement = 1
";

fn conditions_for(a: &Assessment, level: u8) -> &[Condition] {
    &a.conditions
        .iter()
        .find(|(l, _)| *l == level)
        .unwrap_or_else(|| panic!("conditions for level {level} should be reported"))
        .1
}

fn failing(conds: &[Condition]) -> Vec<&Condition> {
    conds.iter().filter(|c| !c.met()).collect()
}

#[test]
fn the_test_scores_are_what_they_claim() {
    assert_eq!(assess(BASE_35).score, 35.0);
    assert_eq!(assess(&score_45()).score, 45.0);
    assert_eq!(assess(&score_39_9()).score, 39.9);
    assert_eq!(assess(&score_40()).score, 40.0);
}

#[test]
fn score_passes_but_scenario_count_fails() {
    let a = assess(&format!("{}{FIVE_AT_L2}", score_45()));
    assert_eq!(a.score, 45.0);
    assert_eq!(
        a.level, 1,
        "45 points but only 5 scenarios at L2 stays at level 1"
    );
    assert_eq!(
        failing(conditions_for(&a, 2)),
        vec![&Condition::Scenarios {
            level: 2,
            required: 6,
            actual: 5,
            met: false
        }]
    );
}

#[test]
fn scenario_counts_pass_but_score_fails() {
    let a = assess(&format!("{}{SIX_AT_L2}", score_39_9()));
    assert_eq!(a.score, 39.9);
    assert_eq!(
        a.level, 1,
        "six scenarios at L2 but 39.9 points stays at level 1"
    );
    assert_eq!(
        failing(conditions_for(&a, 2)),
        vec![&Condition::Score {
            required: 40.0,
            actual: 39.9,
            met: false
        }]
    );
}

#[test]
fn exactly_at_the_boundary_qualifies() {
    let a = assess(&format!("{}{SIX_AT_L2}", score_40()));
    assert_eq!(a.score, 40.0);
    assert_eq!(
        a.level, 2,
        "40 points and 6 scenarios at L2 (3 ★) is level 2"
    );
    assert!(failing(conditions_for(&a, 2)).is_empty());
    let gap = a.gap.as_ref().expect("level 2 still has a next level");
    assert_eq!(gap.target, 3);
    assert_eq!(assessment::level_name(questionnaire(), a.level).zh, "二级");
}

#[test]
fn too_few_constrained_scenarios_is_not_level_2() {
    let a = assess(&format!("{}{SIX_AT_L2_TWO_STARRED}", score_45()));
    assert_eq!(a.level, 1);
    assert_eq!(
        failing(conditions_for(&a, 2)),
        vec![&Condition::Constrained {
            level: 2,
            required: 3,
            actual: 2,
            met: false
        }]
    );
}

#[test]
fn nothing_answered_is_below_level_1() {
    let a = assess("");
    assert_eq!(a.score, 0.0);
    assert_eq!(a.level, 0);
    assert_eq!(assessment::level_name(questionnaire(), 0).zh, "未达一级");
    assert_eq!(a.unanswered.len(), 15);
    let gap = a.gap.as_ref().expect("below level 1 has a gap to level 1");
    assert_eq!(gap.target, 1);
    assert_eq!(gap.score_short, 20.0);
}

/// The best answer to every question, built from the questionnaire data, and every scenario at L4.
fn top_answers() -> String {
    let mut out = String::new();
    for q in &questionnaire().question {
        match q.kind {
            QuestionKind::Multi => {
                let ids: Vec<String> = q.option.iter().map(|o| o.id.clone()).collect();
                out.push_str(&format!("{} = {}\n", q.id, toml_list(&ids)));
            }
            QuestionKind::Single => {
                let best = q
                    .option
                    .iter()
                    .max_by(|a, b| a.points.total_cmp(&b.points))
                    .expect("a single-choice question has options");
                out.push_str(&format!("{} = \"{}\"\n", q.id, best.id));
            }
            QuestionKind::Ratio | QuestionKind::Trend => {}
        }
    }
    out.push_str(
        r#"
equipment_digital = { digital = 50, total = 50 }
equipment_networked = { networked = 45, total = 50 }
funding = { investment = 700, revenue = 1000 }
green = { before = { energy = 100, revenue = 1000 }, after = { energy = 80, revenue = 1000 } }
quality = { before = 95, after = 99 }
revenue_per_head = { before = { revenue = 1000, employees = 10 }, after = { revenue = 1200, employees = 10 } }
cost_per_100 = { before = { cost = 800, revenue = 1000 }, after = { cost = 700, revenue = 1000 } }
[scenarios]
"#,
    );
    for s in &questionnaire().scenario {
        out.push_str(&format!("{} = 4\n", s.id));
    }
    out
}

#[test]
fn the_best_answers_reach_level_4_with_no_gap() {
    let a = assess(&top_answers());
    assert_eq!(a.score, 100.0);
    assert_eq!(a.level, 4);
    assert!(a.gap.is_none(), "there is nothing above level 4");
    assert!(a.unanswered.is_empty());
    let dims: BTreeMap<&str, f64> = a
        .dimensions
        .iter()
        .map(|d| (d.dimension.as_str(), d.points))
        .collect();
    assert_eq!(
        dims,
        BTreeMap::from([("effect", 20.0), ("foundation", 50.0), ("management", 30.0)])
    );
    assert!(!a.security_weak);
    assert!(!a.obstacles.contains(&"security".to_string()));
}

// ---------------------------------------------------------------------------------------------
// The gap to the next level
// ---------------------------------------------------------------------------------------------

/// Every step names a scenario that is below the target now, and a non-empty list of real scenarios.
fn check_steps(a: &Assessment, gap: &Gap) {
    let rule_level = questionnaire()
        .level
        .iter()
        .find(|l| l.level == gap.target)
        .expect("the target level has a rule")
        .scenario_level;
    for st in &gap.steps {
        let now = a.scenario_levels[&st.scenario];
        assert!(now < rule_level, "{}: already at L{now}", st.scenario);
        assert_eq!(st.from, now, "{}: from", st.scenario);
        assert_eq!(st.to, rule_level, "{}: to", st.scenario);
        let ind = questionnaire()
            .scenario(&st.scenario)
            .unwrap_or_else(|| panic!("{} should be an indicator scenario", st.scenario));
        assert_eq!(st.constrained, ind.constrained, "{}", st.scenario);
        assert!(
            !st.via.is_empty(),
            "{}: a step says how to get there",
            st.scenario
        );
        for v in &st.via {
            assert!(
                kb().scenario(v).is_some(),
                "{}: via {v} is not one of the 42 scenarios",
                st.scenario
            );
        }
    }
}

/// Taking every step raises the firm to the target when the score already suffices.
fn steps_close_the_gap(text: &str) {
    let mut answers = parse(text);
    let a = assessment::assess(questionnaire(), &answers);
    let gap = a.gap.clone().expect("there is a gap");
    assert!(
        gap.score_short == 0.0,
        "this check needs a firm whose score is enough"
    );
    for st in &gap.steps {
        answers.scenarios.insert(st.scenario.clone(), st.to);
    }
    let after = assessment::assess(questionnaire(), &answers);
    assert_eq!(
        after.level, gap.target,
        "taking the steps {:?} should reach level {}",
        gap.steps, gap.target
    );
}

#[test]
fn gap_names_the_failing_scenario_condition_and_the_steps() {
    let text = format!("{}{FIVE_AT_L2}", score_45());
    let a = assess(&text);
    let gap = a.gap.as_ref().expect("a level-1 firm has a gap to level 2");
    assert_eq!(gap.target, 2);
    assert_eq!(gap.score_short, 0.0);
    assert!(
        gap.points.is_empty(),
        "the score is enough: no points advice"
    );
    let failing: Vec<&Condition> = gap.conditions.iter().filter(|c| !c.met()).collect();
    assert_eq!(
        failing,
        vec![&Condition::Scenarios {
            level: 2,
            required: 6,
            actual: 5,
            met: false
        }],
        "scenarios: 5 of 6"
    );
    assert_eq!(gap.steps.len(), 1, "one more scenario is needed");
    // The scenario closest to L2 is planning (at L1).
    assert_eq!(gap.steps[0].scenario, "planning");
    assert_eq!((gap.steps[0].from, gap.steps[0].to), (1, 2));
    check_steps(&a, gap);
    steps_close_the_gap(&text);
}

#[test]
fn gap_puts_constrained_scenarios_first_when_they_are_short() {
    let text = format!("{}{SIX_AT_L2_TWO_STARRED}", score_45());
    let a = assess(&text);
    let gap = a.gap.as_ref().expect("gap to level 2");
    assert_eq!(gap.target, 2);
    assert!(!gap.steps.is_empty());
    assert!(
        gap.steps[0].constrained,
        "a ★ scenario is needed first: {:?}",
        gap.steps
    );
    assert_eq!(
        gap.steps[0].scenario, "procurement",
        "the ★ scenario closest to L2"
    );
    check_steps(&a, gap);
    steps_close_the_gap(&text);

    // Far from level 1: nothing rated, so both counts are short; ★ first, then the rest.
    let a = assess(&score_45());
    let gap = a.gap.as_ref().expect("gap to level 1");
    assert_eq!(gap.target, 1);
    assert_eq!(gap.steps.len(), 6, "six scenarios at L1 are needed");
    let starred = gap.steps.iter().filter(|s| s.constrained).count();
    assert!(starred >= 3, "at least three ★ steps: {:?}", gap.steps);
    assert!(
        gap.steps[..3].iter().all(|s| s.constrained),
        "★ steps come first: {:?}",
        gap.steps
    );
    check_steps(&a, gap);
    steps_close_the_gap(&score_45());
}

#[test]
fn gap_lists_where_points_are_when_the_score_is_short() {
    let a = assess(&format!("{}{SIX_AT_L2}", score_39_9()));
    let gap = a.gap.as_ref().expect("gap to level 2");
    assert_eq!(gap.target, 2);
    assert_eq!(gap.score_short, 0.1);
    assert!(
        gap.steps.is_empty(),
        "the scenario conditions are met: {:?}",
        gap.steps
    );
    assert!(!gap.points.is_empty(), "the firm is told where points are");
    for w in gap.points.windows(2) {
        assert!(
            w[0].available >= w[1].available,
            "most points first: {:?}",
            gap.points
        );
    }
    for p in &gap.points {
        let s = score_of(&a, &p.question);
        assert!(p.available > 0.0, "{}", p.question);
        assert!(
            (p.available - (s.max - s.points)).abs() < 1e-9,
            "{}: available {} but {} of {} scored",
            p.question,
            p.available,
            s.points,
            s.max
        );
    }
    let most = a
        .questions
        .iter()
        .map(|s| s.max - s.points)
        .fold(0.0, f64::max);
    assert!((gap.points[0].available - most).abs() < 1e-9);
}

// ---------------------------------------------------------------------------------------------
// Bad answers
// ---------------------------------------------------------------------------------------------

fn one_error(text: &str) -> AnswerError {
    let errs = errors(text);
    assert_eq!(errs.len(), 1, "exactly one problem expected: {errs:?}");
    errs.into_iter().next().expect("one error")
}

#[test]
fn unknown_question_is_named_with_a_suggestion() {
    let e = one_error(r#"netwrok = ["shopfloor_control"]"#);
    assert_eq!(e.question, "netwrok");
    assert_eq!(e.suggestion.as_deref(), Some("network"));
    assert!(e.to_string().contains("did you mean \"network\""), "{e}");

    let e = one_error("[scenario]\nfinance = 1");
    assert_eq!(e.suggestion.as_deref(), Some("scenarios"));
}

#[test]
fn option_not_in_the_list_names_the_valid_options() {
    let e = one_error(r#"information_systems = "mostly""#);
    assert_eq!(e.question, "information_systems");
    for id in option_ids("information_systems") {
        assert!(
            e.message.en.contains(&id),
            "{id} missing from: {}",
            e.message.en
        );
        assert!(
            e.message.zh.contains(&id),
            "{id} missing from: {}",
            e.message.zh
        );
    }
    assert_eq!(e.suggestion.as_deref(), Some("most"));

    let e = one_error(r#"network = ["shopfloor_control", "wifi"]"#);
    assert_eq!(e.question, "network");
    assert!(e.message.en.contains("wifi"), "{}", e.message.en);
    assert!(e.message.en.contains("industrial_5g"), "{}", e.message.en);
}

#[test]
fn wrong_types_are_refused() {
    let e = one_error(r#"network = "shopfloor_control""#);
    assert_eq!(e.question, "network");
    assert!(e.message.en.contains("list"), "{}", e.message.en);
    assert!(e.message.en.contains("string"), "{}", e.message.en);

    let e = one_error(r#"information_systems = ["most"]"#);
    assert_eq!(e.question, "information_systems");

    let e = one_error(r#"equipment_digital = 0.35"#);
    assert_eq!(e.question, "equipment_digital");
    assert!(e.message.en.contains("table"), "{}", e.message.en);

    let e = one_error(r#"quality = { before = "high", after = 97 }"#);
    assert_eq!(e.question, "quality");
    assert!(e.message.en.contains("before"), "{}", e.message.en);
}

#[test]
fn ratio_figures_are_checked() {
    let e = one_error("equipment_digital = { digital = 50, total = 40 }");
    assert_eq!(e.question, "equipment_digital");
    assert!(
        e.message.en.contains("digital") && e.message.en.contains("total"),
        "{}",
        e.message.en
    );
    assert!(e.message.en.contains("50"), "{}", e.message.en);

    let e = one_error("equipment_networked = { networked = 0, total = 0 }");
    assert!(e.message.en.contains("total"), "{}", e.message.en);

    let errs = errors("equipment_digital = { digital = 5, totl = 40 }");
    assert!(
        errs.iter().all(|x| x.question == "equipment_digital"),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|x| x.suggestion.as_deref() == Some("total")),
        "a misspelt field gets a suggestion: {errs:?}"
    );

    let e = one_error("equipment_digital = { digital = -1, total = 40 }");
    assert!(e.message.en.contains("-1"), "{}", e.message.en);
}

#[test]
fn scenario_and_obstacle_entries_are_checked() {
    let e = one_error("[scenarios]\nfinance = 5");
    assert_eq!(e.question, "scenarios.finance");
    assert!(
        e.message.en.contains("0 to 4") && e.message.en.contains('5'),
        "{}",
        e.message.en
    );

    let e = one_error("[scenarios]\nfinanse = 2");
    assert_eq!(e.question, "scenarios.finanse");
    assert_eq!(e.suggestion.as_deref(), Some("finance"));

    let e = one_error("[scenarios]\nfinance = \"two\"");
    assert_eq!(e.question, "scenarios.finance");

    let e = one_error("[obstacles]\nbudget = \"yes\"");
    assert_eq!(e.question, "obstacles.budget");
    assert!(e.message.en.contains("true or false"), "{}", e.message.en);

    let e = one_error("[obstacles]\nbudgett = true");
    assert_eq!(e.suggestion.as_deref(), Some("budget"));
}

#[test]
fn several_problems_are_reported_together() {
    let text = r#"
netwrok = []
information_systems = "mostly"
network = "shopfloor_control"
equipment_digital = { digital = 50, total = 40 }

[scenarios]
finance = 5
finanse = 1

[obstacles]
budget = "yes"
"#;
    let errs = errors(text);
    let named: Vec<&str> = errs.iter().map(|e| e.question.as_str()).collect();
    for q in [
        "netwrok",
        "information_systems",
        "network",
        "equipment_digital",
        "scenarios.finance",
        "scenarios.finanse",
        "obstacles.budget",
    ] {
        assert!(named.contains(&q), "{q} should be reported, got {named:?}");
    }
    assert_eq!(errs.len(), 7, "{errs:?}");
    let all = assessment::AnswerErrors(errs).to_string();
    assert_eq!(all.lines().count(), 7, "one line per problem:\n{all}");
}

// ---------------------------------------------------------------------------------------------
// The example files and the derived security obstacle
// ---------------------------------------------------------------------------------------------

#[test]
fn example_answers_are_level_1_with_a_gap_to_level_2() {
    let text = include_str!("../../../../examples/answers.toml");
    let a = assess(text);
    assert_eq!(a.level, 1, "score {}", a.score);
    // 4 + 3 + 1.5 + 2.1 + 5 + 1.25 + 1.25 + 4.5 + 1.875 + 1.5 + 0 + 7 + 7 + 3 + 1.5, worked by hand.
    assert_eq!(a.score, 44.475);
    assert!(a.unanswered.is_empty(), "the example answers everything");
    let gap = a.gap.as_ref().expect("gap to level 2");
    assert_eq!(gap.target, 2);
    // The score is enough for level 2; only four scenarios (three ★) are at L2.
    let failing: Vec<&Condition> = gap.conditions.iter().filter(|c| !c.met()).collect();
    assert_eq!(
        failing,
        vec![&Condition::Scenarios {
            level: 2,
            required: 6,
            actual: 4,
            met: false
        }]
    );
    assert_eq!(gap.steps.len(), 2, "{:?}", gap.steps);
    assert!(
        gap.steps.iter().all(|s| s.from == 1),
        "closest first: {:?}",
        gap.steps
    );
    check_steps(&a, gap);
    steps_close_the_gap(text);
    // The obstacles the firm ticked are reported, and its thin security answers add `security`.
    for o in ["no_solution", "budget", "skills", "security"] {
        assert!(
            a.obstacles.contains(&o.to_string()),
            "{o}: {:?}",
            a.obstacles
        );
    }
    assert!(!a.obstacles.contains(&"awareness".to_string()));
}

#[test]
fn example_weak_answers_are_below_level_1() {
    let a = assess(include_str!("../../../../examples/answers-weak.toml"));
    assert_eq!(a.level, 0, "score {}", a.score);
    assert_eq!(a.gap.as_ref().map(|g| g.target), Some(1));
    assert!(a.security_weak);
}

#[test]
fn security_obstacle_when_security_answers_are_nearly_empty() {
    let none = assess("network_security = []\ndata_security = []");
    assert!(none.security_weak);
    assert!(none.obstacles.contains(&"security".to_string()));

    let thin = assess(
        r#"network_security = ["products"]
data_security = ["products"]"#,
    );
    assert!(thin.security_weak, "one measure each is still weak");
    assert!(thin.obstacles.contains(&"security".to_string()));

    let real = assess(
        r#"network_security = ["policy", "products", "boundary_control"]
data_security = ["products", "data_inventory"]"#,
    );
    assert!(!real.security_weak);
    assert!(!real.obstacles.contains(&"security".to_string()));
}

#[test]
fn ticked_obstacles_are_reported() {
    let a = assess("[obstacles]\nbudget = true\nskills = false\nawareness = true");
    assert!(a.obstacles.contains(&"budget".to_string()));
    assert!(a.obstacles.contains(&"awareness".to_string()));
    assert!(!a.obstacles.contains(&"skills".to_string()));
}
