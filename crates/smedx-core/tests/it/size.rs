//! Size classes by the 2017 statistical standard (cn-standards §1.2, §1.3): every category, every tier
//! boundary exactly at the lower bound and one unit below it, missing and invalid indicators.
//!
//! The thresholds below are copied from the standard's table, not from the knowledge base, so a typo
//! in `data/size_standard.toml` shows up here.

use smedx_core::industry;
use smedx_core::kb::{Indicator, SizeCategory, SizeClass};
use smedx_core::size::{Measures, SizeError, SizeResult, classify_size};

use crate::kb;

use Indicator::{Assets, Employees, Revenue};

/// The lower bounds of one tier, in the standard's units: persons, and 万元 for money.
type Bounds = &'static [(Indicator, f64)];

/// One row group of the §1.2 table.
struct Spec {
    code: &'static str,
    category: &'static str,
    large: Bounds,
    medium: Bounds,
    small: Bounds,
}

impl Spec {
    fn indicators(&self) -> Vec<Indicator> {
        self.small.iter().map(|(i, _)| *i).collect()
    }
    fn tiers(&self) -> [(SizeClass, Bounds, SizeClass); 3] {
        [
            (SizeClass::Large, self.large, SizeClass::Medium),
            (SizeClass::Medium, self.medium, SizeClass::Small),
            (SizeClass::Small, self.small, SizeClass::Micro),
        ]
    }
}

const WAN: f64 = 10_000.0;

/// Measures from values in the standard's units (万元 turned into yuan, as a profile gives them).
fn measures(values: &[(Indicator, f64)]) -> Measures {
    let get = |ind: Indicator| values.iter().find(|(i, _)| *i == ind).map(|(_, v)| *v);
    Measures::from_yuan(
        get(Employees),
        get(Revenue).map(|v| v * WAN),
        get(Assets).map(|v| v * WAN),
    )
}

/// One unit below a bound: one person, or one yuan.
fn one_unit_below(mut m: Measures, ind: Indicator) -> Measures {
    match ind {
        Employees => m.employees = m.employees.map(|v| v - 1.0),
        Revenue => m.revenue_wan = m.revenue_wan.map(|v| (v * WAN - 1.0) / WAN),
        Assets => m.assets_wan = m.assets_wan.map(|v| (v * WAN - 1.0) / WAN),
    }
    m
}

fn category(code: &str) -> &'static SizeCategory {
    let kb = kb();
    let parsed =
        industry::parse_code(kb, code).unwrap_or_else(|e| panic!("{code} should parse: {e}"));
    industry::size_category(kb, &parsed)
        .unwrap_or_else(|e| panic!("{code} should have a size category: {e}"))
}

fn classify(code: &str, cat: &SizeCategory, m: &Measures) -> SizeResult {
    classify_size(cat, m).unwrap_or_else(|e| panic!("{code} with {m:?} should classify: {e}"))
}

/// Runs every boundary check of one category.
fn check(spec: &Spec) {
    let code = spec.code;
    let cat = category(code);
    assert_eq!(
        cat.id, spec.category,
        "{code} should fall under the {} size rule",
        spec.category
    );
    let mut listed = cat.indicators.clone();
    listed.sort_by_key(|i| i.id());
    let mut expected = spec.indicators();
    expected.sort_by_key(|i| i.id());
    assert_eq!(
        listed, expected,
        "{code}: indicators of the {} rule",
        spec.category
    );

    for (tier, bounds, below) in spec.tiers() {
        // Exactly at every lower bound reaches the tier ("及以上" is ≥).
        let at = measures(bounds);
        let r = classify(code, cat, &at);
        assert_eq!(
            r.size_class, tier,
            "{code}: exactly at the {tier:?} bounds {bounds:?}"
        );
        assert_eq!(
            r.is_sme,
            tier != SizeClass::Large,
            "{code}: is_sme at the {tier:?} bounds"
        );

        // One unit below any one bound drops exactly one tier, and the drop names that indicator.
        for &(ind, bound) in bounds {
            let m = one_unit_below(at, ind);
            let r = classify(code, cat, &m);
            assert_eq!(
                r.size_class,
                below,
                "{code}: {} one unit below the {tier:?} bound {bound} (others at the bound)",
                ind.id()
            );
            let last = r
                .rule
                .dropped
                .last()
                .unwrap_or_else(|| panic!("{code}: a drop from {tier:?} is recorded"));
            assert_eq!(last.tier, tier, "{code}: the last tier dropped is {tier:?}");
            assert_eq!(
                last.short,
                vec![ind],
                "{code}: the indicator that fell short of {tier:?}"
            );
        }

        // All indicators one unit below also lands one tier down, since the next bounds are lower.
        let all_below = bounds
            .iter()
            .fold(at, |m, (ind, _)| one_unit_below(m, *ind));
        assert_eq!(
            classify(code, cat, &all_below).size_class,
            below,
            "{code}: every indicator one unit below the {tier:?} bounds"
        );
    }

    // Far above every bound is large; zero is micro.
    let huge: Vec<(Indicator, f64)> = spec.large.iter().map(|(i, b)| (*i, b * 10.0)).collect();
    assert_eq!(
        classify(code, cat, &measures(&huge)).size_class,
        SizeClass::Large,
        "{code}: far above"
    );
    let zero: Vec<(Indicator, f64)> = spec.small.iter().map(|(i, _)| (*i, 0.0)).collect();
    assert_eq!(
        classify(code, cat, &measures(&zero)).size_class,
        SizeClass::Micro,
        "{code}: all zero"
    );

    // Indicators the rule does not use are ignored, whatever their value.
    let mut with_unused: Vec<(Indicator, f64)> = spec.medium.to_vec();
    for ind in [Employees, Revenue, Assets] {
        if !spec.indicators().contains(&ind) {
            with_unused.push((ind, 0.0));
        }
    }
    assert_eq!(
        classify(code, cat, &measures(&with_unused)).size_class,
        SizeClass::Medium,
        "{code}: unused indicators set to 0 must not change the class"
    );

    // A missing indicator the rule needs is an error naming it, never micro.
    for &(ind, _) in spec.large {
        let rest: Vec<(Indicator, f64)> = spec
            .large
            .iter()
            .copied()
            .filter(|(i, _)| *i != ind)
            .collect();
        match classify_size(cat, &measures(&rest)) {
            Err(SizeError::Missing { indicator, .. }) => {
                assert_eq!(indicator, ind, "{code}: the missing indicator named");
            }
            other => panic!(
                "{code}: without {} expected SizeError::Missing, got {other:?}",
                ind.id()
            ),
        }
        let err = classify_size(cat, &measures(&rest)).expect_err("missing indicator");
        assert!(
            err.to_string().contains(ind.id()),
            "{code}: the message \"{err}\" should name {}",
            ind.id()
        );
    }

    // Negative values (and NaN) are refused.
    for &(ind, _) in spec.small {
        for bad in [-1.0, f64::NAN] {
            let vals: Vec<(Indicator, f64)> = spec
                .small
                .iter()
                .map(|(i, b)| (*i, if *i == ind { bad } else { *b }))
                .collect();
            match classify_size(cat, &measures(&vals)) {
                Err(SizeError::Invalid { indicator, .. }) => {
                    assert_eq!(indicator, ind, "{code}: the invalid indicator named");
                }
                other => panic!(
                    "{code}: {} = {bad} expected SizeError::Invalid, got {other:?}",
                    ind.id()
                ),
            }
        }
    }
}

#[test]
fn agriculture_uses_revenue_only() {
    check(&Spec {
        code: "A01",
        category: "agriculture",
        large: &[(Revenue, 20000.0)],
        medium: &[(Revenue, 500.0)],
        small: &[(Revenue, 50.0)],
    });
}

#[test]
fn industry_b_c_d() {
    let spec = Spec {
        code: "C3311",
        category: "industry",
        large: &[(Employees, 1000.0), (Revenue, 40000.0)],
        medium: &[(Employees, 300.0), (Revenue, 2000.0)],
        small: &[(Employees, 20.0), (Revenue, 300.0)],
    };
    check(&spec);
    // Mining (B) and utilities (D) share the industrial rule.
    for code in ["B06", "C13", "C43", "D44", "D4610"] {
        assert_eq!(category(code).id, "industry", "{code} is 工业");
    }
}

#[test]
fn construction_uses_revenue_and_assets() {
    check(&Spec {
        code: "E47",
        category: "construction",
        large: &[(Revenue, 80000.0), (Assets, 80000.0)],
        medium: &[(Revenue, 6000.0), (Assets, 5000.0)],
        small: &[(Revenue, 300.0), (Assets, 300.0)],
    });
    assert_eq!(category("E50").id, "construction");
}

#[test]
fn wholesale() {
    check(&Spec {
        code: "F51",
        category: "wholesale",
        large: &[(Employees, 200.0), (Revenue, 40000.0)],
        medium: &[(Employees, 20.0), (Revenue, 5000.0)],
        small: &[(Employees, 5.0), (Revenue, 1000.0)],
    });
}

#[test]
fn retail() {
    check(&Spec {
        code: "F52",
        category: "retail",
        large: &[(Employees, 300.0), (Revenue, 20000.0)],
        medium: &[(Employees, 50.0), (Revenue, 500.0)],
        small: &[(Employees, 10.0), (Revenue, 100.0)],
    });
}

#[test]
fn transport() {
    check(&Spec {
        code: "G54",
        category: "transport",
        large: &[(Employees, 1000.0), (Revenue, 30000.0)],
        medium: &[(Employees, 300.0), (Revenue, 3000.0)],
        small: &[(Employees, 20.0), (Revenue, 200.0)],
    });
    // 55–58 and 装卸搬运 (5910) are transport too.
    for code in ["G55", "G56", "G57", "G58", "G5910"] {
        assert_eq!(category(code).id, "transport", "{code} is 交通运输业");
    }
}

#[test]
fn warehousing() {
    check(&Spec {
        code: "G5920",
        category: "warehousing",
        large: &[(Employees, 200.0), (Revenue, 30000.0)],
        medium: &[(Employees, 100.0), (Revenue, 1000.0)],
        small: &[(Employees, 20.0), (Revenue, 100.0)],
    });
    assert_eq!(category("G599").id, "warehousing");
}

#[test]
fn postal() {
    check(&Spec {
        code: "G60",
        category: "postal",
        large: &[(Employees, 1000.0), (Revenue, 30000.0)],
        medium: &[(Employees, 300.0), (Revenue, 2000.0)],
        small: &[(Employees, 20.0), (Revenue, 100.0)],
    });
}

#[test]
fn accommodation() {
    check(&Spec {
        code: "H61",
        category: "accommodation",
        large: &[(Employees, 300.0), (Revenue, 10000.0)],
        medium: &[(Employees, 100.0), (Revenue, 2000.0)],
        small: &[(Employees, 10.0), (Revenue, 100.0)],
    });
}

#[test]
fn catering() {
    check(&Spec {
        code: "H62",
        category: "catering",
        large: &[(Employees, 300.0), (Revenue, 10000.0)],
        medium: &[(Employees, 100.0), (Revenue, 2000.0)],
        small: &[(Employees, 10.0), (Revenue, 100.0)],
    });
}

#[test]
fn info_transmission() {
    check(&Spec {
        code: "I63",
        category: "info_transmission",
        large: &[(Employees, 2000.0), (Revenue, 100000.0)],
        medium: &[(Employees, 100.0), (Revenue, 1000.0)],
        small: &[(Employees, 10.0), (Revenue, 100.0)],
    });
    assert_eq!(
        category("I64").id,
        "info_transmission",
        "internet services are 信息传输业"
    );
}

#[test]
fn software_it() {
    check(&Spec {
        code: "I65",
        category: "software_it",
        large: &[(Employees, 300.0), (Revenue, 10000.0)],
        medium: &[(Employees, 100.0), (Revenue, 1000.0)],
        small: &[(Employees, 10.0), (Revenue, 50.0)],
    });
}

#[test]
fn real_estate_development_uses_revenue_and_assets() {
    check(&Spec {
        code: "K7010",
        category: "real_estate_dev",
        large: &[(Revenue, 200000.0), (Assets, 10000.0)],
        medium: &[(Revenue, 1000.0), (Assets, 5000.0)],
        small: &[(Revenue, 100.0), (Assets, 2000.0)],
    });
}

#[test]
fn property_management() {
    check(&Spec {
        code: "K7020",
        category: "property_mgmt",
        large: &[(Employees, 1000.0), (Revenue, 5000.0)],
        medium: &[(Employees, 300.0), (Revenue, 1000.0)],
        small: &[(Employees, 100.0), (Revenue, 500.0)],
    });
}

#[test]
fn leasing_and_business_services_use_employees_and_assets() {
    check(&Spec {
        code: "L71",
        category: "leasing_business",
        large: &[(Employees, 300.0), (Assets, 120000.0)],
        medium: &[(Employees, 100.0), (Assets, 8000.0)],
        small: &[(Employees, 10.0), (Assets, 100.0)],
    });
    assert_eq!(category("L72").id, "leasing_business");
}

#[test]
fn other_unlisted_uses_employees_only() {
    check(&Spec {
        code: "M73",
        category: "other_unlisted",
        large: &[(Employees, 300.0)],
        medium: &[(Employees, 100.0)],
        small: &[(Employees, 10.0)],
    });
    // Scope of 其他未列明行业: M, N, O, Q85 social work, R, 703 and 709 real estate.
    for code in ["M75", "N76", "O80", "Q85", "R90", "K7030", "K7090"] {
        assert_eq!(
            category(code).id,
            "other_unlisted",
            "{code} is 其他未列明行业"
        );
    }
}

/// The worked examples of cn-standards §1.3 (industrial firms; money in 万元).
#[test]
fn lower_bound_rule_worked_examples() {
    let cat = category("C3311");
    let size = |x: f64, y_wan: f64| {
        classify_size(cat, &Measures::from_yuan(Some(x), Some(y_wan * WAN), None))
            .unwrap_or_else(|e| panic!("X={x}, Y={y_wan}万 should classify: {e}"))
            .size_class
    };
    let examples = [
        (
            300.0,
            2000.0,
            SizeClass::Medium,
            "exactly at both medium bounds",
        ),
        (
            1500.0,
            1500.0,
            SizeClass::Small,
            "not large (Y), not medium (Y), small",
        ),
        (
            10.0,
            50000.0,
            SizeClass::Micro,
            "X below the small bound is micro whatever Y",
        ),
        (
            2000.0,
            3000.0,
            SizeClass::Medium,
            "upper bounds are descriptive only",
        ),
        (
            1000.0,
            40000.0,
            SizeClass::Large,
            "large needs both bounds: both met",
        ),
        (
            999.0,
            40000.0,
            SizeClass::Medium,
            "large needs both bounds: X short",
        ),
        (
            1000.0,
            39999.0,
            SizeClass::Medium,
            "large needs both bounds: Y short",
        ),
        (
            5000.0,
            39999.9999,
            SizeClass::Medium,
            "large needs both bounds: Y one yuan short",
        ),
        (
            20.0,
            300.0,
            SizeClass::Small,
            "exactly at both small bounds",
        ),
        (19.0, 300.0, SizeClass::Micro, "one person short of small"),
    ];
    let mut failures = Vec::new();
    for (x, y, expected, why) in examples {
        let got = size(x, y);
        if got != expected {
            failures.push(format!(
                "X={x}, Y={y}万: expected {expected:?}, got {got:?} ({why})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "§1.3 examples failed:\n{}",
        failures.join("\n")
    );

    // The result explains the drops: X=1500, Y=1500万 fell short of large and medium on revenue.
    let r = classify_size(
        cat,
        &Measures::from_yuan(Some(1500.0), Some(1500.0 * WAN), None),
    )
    .expect("classifies");
    let dropped: Vec<(SizeClass, Vec<Indicator>)> = r
        .rule
        .dropped
        .iter()
        .map(|d| (d.tier, d.short.clone()))
        .collect();
    assert_eq!(
        dropped,
        vec![
            (SizeClass::Large, vec![Revenue]),
            (SizeClass::Medium, vec![Revenue])
        ],
        "the tiers dropped and why"
    );
    assert_eq!(r.rule.category, "industry");
}

#[test]
fn missing_indicator_is_never_micro() {
    let cat = category("C3311");
    // An industrial firm giving only its headcount: not silently micro.
    let err = classify_size(cat, &Measures::from_yuan(Some(5.0), None, None))
        .expect_err("revenue is required");
    assert!(
        matches!(
            err,
            SizeError::Missing {
                indicator: Revenue,
                ..
            }
        ),
        "expected revenue missing, got {err:?}"
    );
    assert!(
        err.localized().zh.contains("营业收入"),
        "Chinese message names 营业收入: {}",
        err.localized().zh
    );

    // Construction and real-estate development need total assets.
    for code in ["E47", "K7010"] {
        let err = classify_size(
            category(code),
            &Measures::from_yuan(Some(50.0), Some(1e8), None),
        )
        .expect_err("assets are required");
        assert!(
            matches!(
                err,
                SizeError::Missing {
                    indicator: Assets,
                    ..
                }
            ),
            "{code}: expected assets missing, got {err:?}"
        );
        assert!(err.to_string().contains("assets"), "{code}: {err}");
    }

    // Other unlisted industries need employees only, so a revenue alone is not enough.
    let err = classify_size(category("M73"), &Measures::from_yuan(None, Some(1e8), None))
        .expect_err("employees are required");
    assert!(
        matches!(
            err,
            SizeError::Missing {
                indicator: Employees,
                ..
            }
        ),
        "got {err:?}"
    );
}

#[test]
fn negative_values_are_errors() {
    let cat = category("C3311");
    let err = classify_size(cat, &Measures::from_yuan(Some(50.0), Some(-1.0), None))
        .expect_err("negative revenue");
    assert!(
        matches!(
            err,
            SizeError::Invalid {
                indicator: Revenue,
                ..
            }
        ),
        "got {err:?}"
    );
    let err = classify_size(cat, &Measures::from_yuan(Some(-3.0), Some(1e7), None))
        .expect_err("negative employees");
    assert!(
        matches!(
            err,
            SizeError::Invalid {
                indicator: Employees,
                ..
            }
        ),
        "got {err:?}"
    );
    assert!(err.to_string().contains("employees"), "{err}");
}
