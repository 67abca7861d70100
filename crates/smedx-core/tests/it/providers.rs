//! Product validation and match explanations against the built-in knowledge base.

use smedx_core::Lang;
use smedx_core::kb::SizeClass;
use smedx_core::profile::FieldError;
use smedx_core::providers::{
    Candidate, Deployment, MAX_TEXT, MatchReason, Need, OutcomeStats, PriceModel, ProductInput,
    ProductSpec, rank, validate_product,
};

use crate::kb;

const S: &str = "pl.transparency";

fn input() -> ProductInput {
    ProductInput {
        name: "看板".into(),
        description_zh: "车间看板".into(),
        scenarios: vec![S.into()],
        sectors: vec!["textile".into()],
        sizes: vec!["small".into()],
        deployment: "saas".into(),
        price_model: "per_user_month".into(),
        price_min: "100".into(),
        price_max: "300".into(),
        golive_weeks: "4".into(),
        levels: vec!["2".into()],
        ..ProductInput::default()
    }
}

fn fields(e: &[FieldError]) -> Vec<&str> {
    e.iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn a_good_product_validates() {
    let s = validate_product(kb(), &input()).expect("valid");
    assert_eq!(s.sizes, [SizeClass::Small]);
    assert_eq!(s.price_model, PriceModel::PerUserMonth);
    assert_eq!(s.deployment, Deployment::Saas);
    assert_eq!(s.levels, [2]);
}

#[test]
fn every_scenario_of_the_knowledge_base_is_accepted() {
    for sc in &kb().scenarios {
        let mut i = input();
        i.scenarios = vec![sc.id.clone()];
        assert!(validate_product(kb(), &i).is_ok(), "{}", sc.id);
    }
    assert_eq!(kb().scenarios.len(), 42);
}

#[test]
fn bad_products_name_every_field() {
    let kb = kb();
    let one = |f: fn(&mut ProductInput)| {
        let mut i = input();
        f(&mut i);
        let e = validate_product(kb, &i).expect_err("rejected");
        for x in &e {
            assert!(!x.message.zh.is_empty() && !x.message.en.is_empty());
        }
        fields(&e)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(one(|i| i.scenarios = vec!["no.such".into()]), ["scenarios"]);
    assert_eq!(one(|i| i.scenarios = vec![]), ["scenarios"]);
    assert_eq!(one(|i| i.price_min = String::new()), ["price_min"]);
    assert_eq!(one(|i| i.price_max = " ".into()), ["price_max"]);
    assert_eq!(one(|i| i.price_min = "500".into()), ["price_max"]);
    assert_eq!(one(|i| i.price_max = "-1".into()), ["price_max"]);
    assert_eq!(one(|i| i.price_max = "NaN".into()), ["price_max"]);
    assert_eq!(one(|i| i.price_max = "1e300".into()), ["price_max"]);
    let mut i = input();
    i.name = "  ".into();
    i.deployment = "cloud".into();
    i.price_model = String::new();
    i.golive_weeks = "0".into();
    i.sectors = vec!["nowhere".into()];
    i.sizes = vec!["huge".into()];
    i.levels = vec!["5".into()];
    i.description_zh = "x".repeat(MAX_TEXT + 1);
    assert_eq!(
        fields(&validate_product(kb, &i).expect_err("rejected")),
        [
            "name",
            "description_zh",
            "sectors",
            "sizes",
            "deployment",
            "price_model",
            "golive_weeks",
            "levels"
        ]
    );
}

fn spec() -> ProductSpec {
    validate_product(kb(), &input()).expect("valid")
}

#[test]
fn reasons_read_in_both_languages() {
    let kb = kb();
    let need = Need {
        sector: Some("textile".into()),
        size: Some(SizeClass::Small),
        budget: Some(50_000.0),
        region: Some("320506".into()),
        level: Some(1),
    };
    let c = Candidate {
        product_id: 1,
        spec: spec(),
        regions: vec!["320000".into()],
        outcomes: OutcomeStats {
            reported: 2,
            went_live: 1,
        },
    };
    let m = rank(S, &need, &[c]);
    assert_eq!(m.len(), 1);
    assert!(m[0].reasons.contains(&MatchReason::NextLevel { level: 2 }));
    for r in &m[0].reasons {
        let zh = r.text(kb, Lang::Zh);
        let en = r.text(kb, Lang::En);
        assert!(!zh.is_empty() && !en.is_empty());
        assert_ne!(zh, en);
    }
    assert!(m[0].reasons[0].text(kb, Lang::Zh).contains("透明"));
    assert!(m[0].reasons[1].text(kb, Lang::En).contains("made for"));
}
