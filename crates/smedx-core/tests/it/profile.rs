//! The profile contract: the same fields in TOML and JSON, every problem reported with its field and,
//! for typos, a suggestion.

use smedx_core::industry::IndustryCode;
use smedx_core::kb::{ChainPosition, Complexity};
use smedx_core::profile::{self, FieldError, IndustryInput, Profile, ProfileErrors, Value};

use crate::kb;

fn from_toml(text: &str) -> Value {
    toml::from_str::<Value>(text).unwrap_or_else(|e| panic!("test TOML should parse: {e}\n{text}"))
}

fn from_json(text: &str) -> Value {
    serde_json::from_str::<Value>(text)
        .unwrap_or_else(|e| panic!("test JSON should parse: {e}\n{text}"))
}

fn valid_toml(text: &str) -> Profile {
    profile::validate(kb(), &from_toml(text))
        .unwrap_or_else(|e| panic!("profile should be valid:\n{e}\n---\n{text}"))
}

fn errors_toml(text: &str) -> Vec<FieldError> {
    match profile::validate(kb(), &from_toml(text)) {
        Ok(p) => panic!("profile should be refused, got {p:?}\n---\n{text}"),
        Err(ProfileErrors(errs)) => {
            assert!(
                !errs.is_empty(),
                "an error result lists at least one problem"
            );
            errs
        }
    }
}

/// The error on `field`, with the whole list in the panic message when there is none.
fn on<'a>(errs: &'a [FieldError], field: &str) -> &'a FieldError {
    errs.iter().find(|e| e.field == field).unwrap_or_else(|| {
        let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
        panic!("expected an error on \"{field}\", got:\n{}", all.join("\n"))
    })
}

const FULL_TOML: &str = r#"
name = "某某精密五金"
industry = "C3311"
employees = 85
revenue = 32000000
product_complexity = "medium"
chain_position = "midstream"
in_cluster = true
supplies_chain_leader = true
uses_platform = false
adopted = ["pl.transparency"]
pain_points = "订单多了交期总是延误，计件工资经常算错"
budget = 300000
"#;

const FULL_JSON: &str = r#"{
  "name": "某某精密五金",
  "industry": "C3311",
  "employees": 85,
  "revenue": 32000000,
  "product_complexity": "medium",
  "chain_position": "midstream",
  "in_cluster": true,
  "supplies_chain_leader": true,
  "uses_platform": false,
  "adopted": ["pl.transparency"],
  "pain_points": "订单多了交期总是延误，计件工资经常算错",
  "budget": 300000
}"#;

#[test]
fn full_profile_is_the_same_in_toml_and_json() {
    let from_t = valid_toml(FULL_TOML);
    let from_j = profile::validate(kb(), &from_json(FULL_JSON))
        .unwrap_or_else(|e| panic!("JSON profile:\n{e}"));
    assert_eq!(from_t, from_j, "TOML and JSON give the same profile");

    let expected = Profile {
        name: Some("某某精密五金".into()),
        industry: Some(IndustryInput::Code {
            code: IndustryCode {
                section: "C".into(),
                digits: "3311".into(),
            },
        }),
        employees: Some(85.0),
        revenue: Some(32_000_000.0),
        assets: None,
        product_complexity: Some(Complexity::Medium),
        chain_position: Some(ChainPosition::Midstream),
        in_cluster: Some(true),
        supplies_chain_leader: Some(true),
        uses_platform: Some(false),
        adopted: vec!["pl.transparency".into()],
        pain_points: Some("订单多了交期总是延误，计件工资经常算错".into()),
        budget: Some(300_000.0),
    };
    assert_eq!(from_t, expected);
}

#[test]
fn floats_and_integers_are_both_numbers() {
    let p = valid_toml("industry = \"C3311\"\nemployees = 85.0\nrevenue = 3.2e7\n");
    assert_eq!((p.employees, p.revenue), (Some(85.0), Some(32_000_000.0)));
    // JSON null counts as absent.
    let p = profile::validate(
        kb(),
        &from_json(r#"{"industry": "C3311", "employees": 85, "revenue": 1, "budget": null}"#),
    )
    .expect("null budget is allowed");
    assert_eq!(p.budget, None);
}

#[test]
fn unknown_field_suggests_the_right_one() {
    let errs = errors_toml("industry = \"C3311\"\nemployes = 85\nrevenue = 32000000\n");
    let e = on(&errs, "employes");
    assert_eq!(e.suggestion.as_deref(), Some("employees"));
    assert!(e.to_string().contains("did you mean \"employees\""), "{e}");
    // The size rule still needs employees, which is now missing: reported too.
    on(&errs, "employees");
}

#[test]
fn wrong_type_names_the_field() {
    let errs = errors_toml("industry = \"C3311\"\nemployees = \"many\"\nrevenue = 32000000\n");
    let e = on(&errs, "employees");
    assert!(e.message.en.contains("number"), "{e}");
    assert!(e.message.en.contains("string"), "says what it got: {e}");
    assert!(!e.message.zh.is_empty());

    let errs =
        errors_toml("industry = \"C3311\"\nemployees = 5\nrevenue = 1\nin_cluster = \"yes\"\n");
    on(&errs, "in_cluster");
    let errs = errors_toml(
        "industry = \"C3311\"\nemployees = 5\nrevenue = 1\nadopted = \"pl.transparency\"\n",
    );
    on(&errs, "adopted");
    let errs = errors_toml("industry = 3311\nemployees = 5\nrevenue = 1\n");
    on(&errs, "industry");
}

#[test]
fn unknown_scenario_in_adopted_suggests_the_canonical_id() {
    let errs = errors_toml(
        "industry = \"C3311\"\nemployees = 85\nrevenue = 32000000\nadopted = [\"mg.finance\", \"pl.transparancy\"]\n",
    );
    let e = on(&errs, "adopted[1]");
    assert_eq!(e.suggestion.as_deref(), Some("pl.transparency"));
    assert!(
        e.message.en.contains("pl.transparancy"),
        "repeats the bad id: {e}"
    );
    assert_eq!(errs.len(), 1, "only the bad entry is reported: {errs:?}");

    let errs = errors_toml(
        "industry = \"C3311\"\nemployees = 85\nrevenue = 32000000\nadopted = [\"pl.transparancy\"]\n",
    );
    assert_eq!(
        on(&errs, "adopted[0]").suggestion.as_deref(),
        Some("pl.transparency")
    );
}

#[test]
fn repeated_adopted_ids_are_kept_once() {
    let p = valid_toml(
        "industry = \"C3311\"\nemployees = 85\nrevenue = 1\nadopted = [\"mg.finance\", \"mg.finance\", \"wh.info\"]\n",
    );
    assert_eq!(
        p.adopted,
        vec!["mg.finance".to_string(), "wh.info".to_string()]
    );
}

#[test]
fn misspelt_sector_suggests_the_sector() {
    let errs = errors_toml("industry = \"metl\"\nemployees = 85\nrevenue = 32000000\n");
    let e = on(&errs, "industry");
    assert_eq!(e.suggestion.as_deref(), Some("metal"));
}

#[test]
fn bad_choice_suggests_the_option() {
    let errs = errors_toml(
        "industry = \"C3311\"\nemployees = 85\nrevenue = 1\nproduct_complexity = \"hgh\"\n",
    );
    let e = on(&errs, "product_complexity");
    assert_eq!(e.suggestion.as_deref(), Some("high"));
    for option in ["low", "medium", "high"] {
        assert!(e.message.en.contains(option), "lists the options: {e}");
    }
    let errs = errors_toml(
        "industry = \"C3311\"\nemployees = 85\nrevenue = 1\nchain_position = \"midstrem\"\n",
    );
    assert_eq!(
        on(&errs, "chain_position").suggestion.as_deref(),
        Some("midstream")
    );
}

#[test]
fn industry_is_required() {
    let errs = errors_toml("employees = 85\nrevenue = 32000000\n");
    let e = on(&errs, "industry");
    assert!(e.message.en.contains("missing"), "{e}");
}

#[test]
fn the_size_rule_decides_which_figures_are_required() {
    // Construction is sized by revenue and total assets.
    let errs = errors_toml("industry = \"E47\"\nemployees = 85\nrevenue = 32000000\n");
    let e = on(&errs, "assets");
    assert!(e.message.en.contains("Construction"), "names the rule: {e}");
    assert!(
        !errs.iter().any(|e| e.field == "employees"),
        "employees are not needed: {errs:?}"
    );
    let p = valid_toml("industry = \"E47\"\nrevenue = 32000000\nassets = 1000000\n");
    assert_eq!(p.assets, Some(1_000_000.0));

    // Industry needs employees and revenue; both missing means both reported.
    let errs = errors_toml("industry = \"C3311\"\n");
    on(&errs, "employees");
    on(&errs, "revenue");

    // Agriculture: revenue only.
    valid_toml("industry = \"A01\"\nrevenue = 1000000\n");
    // Other unlisted industries: employees only.
    valid_toml("industry = \"M73\"\nemployees = 12\n");
}

#[test]
fn codes_without_a_size_rule_are_refused_on_industry() {
    for code in ["J66", "K70", "F3670", "12345", "C99"] {
        let errs = errors_toml(&format!(
            "industry = \"{code}\"\nemployees = 85\nrevenue = 32000000\n"
        ));
        let e = on(&errs, "industry");
        assert!(
            e.message.en.contains(code),
            "{code}: the message repeats the code: {e}"
        );
        assert!(
            e.suggestion.is_none(),
            "{code}: no sector suggestion for a code: {e}"
        );
    }
}

#[test]
fn several_problems_are_all_reported() {
    let errs = errors_toml(
        r#"
industry = "C3311"
employes = 85
revenue = "a lot"
adopted = ["pl.transparancy"]
product_complexity = "hgh"
budget = -5
"#,
    );
    for field in [
        "employes",
        "revenue",
        "adopted[0]",
        "product_complexity",
        "budget",
        "employees",
    ] {
        on(&errs, field);
    }
    let all = ProfileErrors(errs).to_string();
    assert_eq!(all.lines().count(), 6, "one line per problem:\n{all}");
}

#[test]
fn negative_numbers_are_refused() {
    for field in ["revenue", "employees", "assets", "budget"] {
        let mut text = String::from("industry = \"C3311\"\n");
        for f in ["employees", "revenue"] {
            if f != field {
                text.push_str(&format!("{f} = 10\n"));
            }
        }
        text.push_str(&format!("{field} = -1\n"));
        let errs = errors_toml(&text);
        let e = on(&errs, field);
        assert!(e.message.en.contains("zero or more"), "{field}: {e}");
    }
}

#[test]
fn sector_id_is_accepted_as_industry() {
    let p = valid_toml("industry = \"metal\"\nemployees = 85\nrevenue = 32000000\n");
    assert_eq!(
        p.industry,
        Some(IndustryInput::Sector {
            sector: "metal".into()
        })
    );
    // A sub-sector is manufacturing, so it needs the industrial figures.
    let errs = errors_toml("industry = \"metal\"\nemployees = 85\n");
    on(&errs, "revenue");
}

#[test]
fn a_profile_must_be_a_table() {
    let errs = profile::validate(kb(), &from_json("[1, 2]")).expect_err("a list is not a profile");
    assert_eq!(errs.0.len(), 1);
    assert_eq!(errs.0[0].field, "(profile)");
}

#[test]
fn blank_text_fields_count_as_absent_and_long_ones_are_refused() {
    let p = valid_toml(
        "industry = \"C3311\"\nemployees = 5\nrevenue = 1\nname = \"  \"\npain_points = \"\"\n",
    );
    assert_eq!((p.name, p.pain_points), (None, None));
    let long = "很".repeat(profile::MAX_TEXT + 1);
    let errs = errors_toml(&format!(
        "industry = \"C3311\"\nemployees = 5\nrevenue = 1\npain_points = \"{long}\"\n"
    ));
    on(&errs, "pain_points");
}

/// JSON `null` is skipped as "absent" while reading fields, but the required-field checks only look
/// at whether the key exists, so a null industry or size figure passes validation and the failure
/// surfaces later in `classify` (with a misleading `industry code ""` message for a null industry).
#[test]
fn null_required_fields_are_reported_as_missing() {
    for (json, field) in [
        (
            r#"{"industry": null, "employees": 5, "revenue": 1}"#,
            "industry",
        ),
        (
            r#"{"industry": "C3311", "employees": null, "revenue": 1}"#,
            "employees",
        ),
        (
            r#"{"industry": "E47", "revenue": 1, "assets": null}"#,
            "assets",
        ),
    ] {
        match profile::validate(kb(), &from_json(json)) {
            Ok(p) => panic!("{json}: accepted as {p:?}"),
            Err(ProfileErrors(errs)) => {
                on(&errs, field);
            }
        }
    }
}
