//! The store reads the engine's report as JSON (it does not depend on the engine): these tests
//! check that reading against the real engine, so a change of the report's shape fails here.

use std::path::Path;

use smedx_core::assessment::{self, Condition};
use smedx_core::profile::{self, Value};
use smedx_core::recommend::Engine;
use smedx_store::facts::{Fact, SCENARIO_IDS};

fn document(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the example exists");
    toml::from_str(&text).expect("the example is TOML")
}

#[test]
fn scenario_positions_follow_the_questionnaire() {
    let kb = smedx_kb::embedded().expect("the built-in knowledge base");
    let ids: Vec<&str> = kb
        .questionnaire
        .scenario
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, SCENARIO_IDS);
}

#[test]
fn a_fact_is_read_from_the_engine_report() {
    let kb = smedx_kb::embedded().expect("the built-in knowledge base");
    let engine = Engine::new(kb);
    let p = profile::validate(&engine.kb, &document("profile.toml")).expect("valid profile");
    let a = assessment::parse_answers(&engine.kb.questionnaire, &document("answers.toml"))
        .expect("valid answers");
    let report = engine.run(&p, Some(&a)).expect("the engine runs");
    let json = serde_json::to_value(&report).expect("the report serialises");
    let fact = Fact::from_report(&json).expect("a fact");
    let scored = report.assessment.as_ref().expect("an assessment");

    assert_eq!(fact.level, scored.level);
    assert_eq!(fact.score, scored.score);
    assert_eq!(fact.sector, report.classification.sector);
    assert_eq!(fact.group, report.classification.group);
    assert_eq!(
        fact.size,
        serde_json::to_value(report.classification.size_class())
            .expect("size")
            .as_str()
            .expect("text")
    );
    assert_eq!(
        fact.primary_path,
        report
            .classification
            .paths
            .iter()
            .find(|p| p.primary)
            .map(|p| p.id.clone())
    );
    for (i, id) in SCENARIO_IDS.iter().enumerate() {
        assert_eq!(
            fact.scenario_levels[i],
            scored.scenario_levels.get(*id).copied().unwrap_or(0),
            "{id}"
        );
    }
    assert_eq!(fact.obstacles, scored.obstacles);
    let staged: Vec<&str> = report
        .recommendations
        .iter()
        .filter(|r| (1..=2).contains(&r.stage))
        .map(|r| r.scenario.as_str())
        .take(fact.recommended.len())
        .collect();
    assert!(
        !fact.recommended.is_empty(),
        "the example has stage 1–2 recommendations"
    );
    assert_eq!(fact.recommended, staged);
    let words: Vec<&String> = report.pain_points.iter().flat_map(|h| &h.matched).collect();
    assert!(
        !fact.pain_words.is_empty(),
        "the example describes pain points"
    );
    for w in &fact.pain_words {
        assert!(words.contains(&w), "{w} is a matched word");
    }

    // One scenario away, recomputed from the engine's typed conditions.
    let mut expected = 0u8;
    for (level, conditions) in &scored.conditions {
        if *level <= scored.level {
            continue;
        }
        let score_met = conditions
            .iter()
            .any(|c| matches!(c, Condition::Score { met: true, .. }));
        let short = |want: &str| {
            conditions.iter().find_map(|c| match (c, want) {
                (
                    Condition::Scenarios {
                        required, actual, ..
                    },
                    "all",
                )
                | (
                    Condition::Constrained {
                        required, actual, ..
                    },
                    "constrained",
                ) => Some(required.saturating_sub(*actual)),
                _ => None,
            })
        };
        let (all, constrained) = (
            short("all").expect("count"),
            short("constrained").expect("count"),
        );
        if score_met && all <= 1 && constrained <= 1 {
            expected |= 1 << (level - 1);
        }
    }
    assert_eq!(fact.one_away, expected);
}
