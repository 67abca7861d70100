//! `smedx kb …`, `smedx classify`, `smedx profile check`, `smedx --version`.

use std::collections::HashSet;

use serde_json::Value;

use crate::{example, smedx};

fn array(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a JSON array, got {v}"))
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} should be a string in {v}"))
}

#[test]
fn version_is_printed() {
    let run = smedx(["--version"]);
    let out = run.ok();
    assert!(out.starts_with("smedx "), "{out}");
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn kb_list_scenarios_gives_the_42_scenarios() {
    let v = smedx(["kb", "list", "scenarios", "--json"]).json();
    let list = array(&v);
    assert_eq!(list.len(), 42);
    let domains = smedx(["kb", "list", "domains", "--json"]).json();
    let domain_ids: HashSet<&str> = array(&domains).iter().map(|d| text(d, "/id")).collect();
    let mut ids = HashSet::new();
    for s in list {
        let id = text(s, "/id");
        assert!(ids.insert(id.to_string()), "{id} listed twice");
        assert!(!text(s, "/name/zh").is_empty(), "{id}: Chinese name");
        assert!(!text(s, "/name/en").is_empty(), "{id}: English name");
        let d = text(s, "/domain");
        assert!(domain_ids.contains(d), "{id}: unknown domain {d}");
        assert!(id.starts_with(&format!("{d}.")), "{id} is in domain {d}");
    }
}

#[test]
fn kb_list_counts() {
    assert_eq!(
        array(&smedx(["kb", "list", "domains", "--json"]).json()).len(),
        14
    );
    assert_eq!(
        array(&smedx(["kb", "list", "sectors", "--json"]).json()).len(),
        10
    );
    let paths = smedx(["kb", "list", "paths", "--json"]).json();
    assert_eq!(array(&paths).len(), 4);
    let modes: usize = array(&paths).iter().map(|p| array(&p["mode"]).len()).sum();
    assert_eq!(modes, 8, "four paths with eight modes");

    let scenarios = smedx(["kb", "list", "scenarios", "--json"]).json();
    let known: HashSet<&str> = array(&scenarios).iter().map(|s| text(s, "/id")).collect();
    let cases = smedx(["kb", "list", "cases", "--json"]).json();
    assert!(array(&cases).len() >= 40, "{} cases", array(&cases).len());
    for c in array(&cases) {
        let id = text(c, "/id");
        let obj = c.as_object().expect("a case is an object");
        assert!(obj.contains_key("sector"), "{id}: sector key");
        let sc = array(&c["scenarios"]);
        assert!(!sc.is_empty(), "{id}: scenarios");
        for s in sc {
            let s = s.as_str().expect("scenario ids are strings");
            assert!(known.contains(s), "{id}: unknown scenario {s}");
        }
    }
    // The human listing ends with the count.
    let human = smedx(["--lang", "en", "kb", "list", "sectors"]);
    assert!(human.ok().contains("10 entries"), "{}", human.stdout);
}

#[test]
fn kb_check_passes_on_the_built_in_knowledge_base() {
    let run = smedx(["kb", "check"]);
    assert!(run.ok().contains("scenarios"), "{}", run.stdout);
    let v = smedx(["kb", "check", "--json"]).json();
    assert_eq!(v["valid"], Value::Bool(true));
    assert_eq!(v["scenarios"], 42);
    assert_eq!(v["domains"], 14);
    assert_eq!(v["sectors"], 10);
    assert_eq!(v["paths"], 4);
    assert_eq!(v["path_modes"], 8);
}

#[test]
fn kb_show_finds_an_entry_and_suggests_on_a_typo() {
    let v = smedx(["kb", "show", "pl.transparency", "--json"]).json();
    assert_eq!(v["kind"], "scenario");
    assert_eq!(text(&v, "/entry/id"), "pl.transparency");
    assert_eq!(text(&v, "/entry/domain"), "pl");
    assert!(!text(&v, "/entry/name/zh").is_empty());

    let human = smedx(["--lang", "en", "kb", "show", "pl.transparency"]);
    assert!(human.ok().contains("pl.transparency"), "{}", human.stdout);

    let run = smedx(["--lang", "en", "kb", "show", "pl.transparancy"]);
    let err = run.bad_input();
    assert!(
        err.contains("did you mean \"pl.transparency\""),
        "stderr: {err}"
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    let zh = smedx(["kb", "show", "pl.transparancy"]);
    assert!(
        zh.bad_input().contains("是不是“pl.transparency”"),
        "{}",
        zh.stderr
    );
}

fn classify(args: &[&str]) -> Value {
    let mut all = vec!["classify", "--json"];
    all.extend_from_slice(args);
    smedx(all).json()
}

#[test]
fn classify_a_medium_metal_firm() {
    let v = classify(&[
        "--industry",
        "C3311",
        "--employees",
        "300",
        "--revenue",
        "20000000",
    ]);
    assert_eq!(v["size_class"], "medium", "{v}");
    assert_eq!(v["is_sme"], true);
    assert_eq!(v["sector"], "metal");
    assert_eq!(v["group"], "equipment_mfg");
    assert_eq!(text(&v, "/industry/code"), "C3311");

    // One person fewer drops a tier: both bounds must be met.
    let v = classify(&[
        "--industry",
        "C3311",
        "--employees",
        "299",
        "--revenue",
        "20000000",
    ]);
    assert_eq!(v["size_class"], "small", "{v}");
    let v = classify(&[
        "--industry",
        "metal",
        "--employees",
        "1000",
        "--revenue",
        "400000000",
    ]);
    assert_eq!(v["size_class"], "large", "{v}");
    assert_eq!(v["is_sme"], false);
}

#[test]
fn classify_wholesale_and_retail_by_their_own_rules() {
    // Wholesale (F51): small needs ≥ 5 people AND ≥ CNY 10m revenue (1000 万元).
    let v = classify(&[
        "--industry",
        "F51",
        "--employees",
        "10",
        "--revenue",
        "10000000",
    ]);
    assert_eq!(v["size_class"], "small", "{v}");
    assert_eq!(v["is_sme"], true);
    assert_eq!(text(&v, "/rule/category"), "wholesale");
    assert_eq!(
        v["sector"],
        Value::Null,
        "wholesale is no manufacturing sub-sector"
    );
    // CNY 5m is below the wholesale small-tier revenue bound: micro.
    let v = classify(&[
        "--industry",
        "F51",
        "--employees",
        "10",
        "--revenue",
        "5000000",
    ]);
    assert_eq!(v["size_class"], "micro", "{v}");
    // The same figures in retail (F52: small needs ≥ 10 people and ≥ CNY 1m) are small.
    let v = classify(&[
        "--industry",
        "F52",
        "--employees",
        "10",
        "--revenue",
        "5000000",
    ]);
    assert_eq!(v["size_class"], "small", "{v}");
    assert_eq!(text(&v, "/rule/category"), "retail");
}

#[test]
fn classify_names_a_missing_indicator() {
    let run = smedx([
        "--lang",
        "en",
        "classify",
        "--industry",
        "E47",
        "--revenue",
        "1000000",
    ]);
    let err = run.bad_input();
    assert!(err.contains("assets"), "stderr: {err}");
    let zh = smedx(["classify", "--industry", "E47", "--revenue", "1000000"]);
    assert!(zh.bad_input().contains("assets"), "{}", zh.stderr);
    // With assets it works.
    let v = classify(&[
        "--industry",
        "E47",
        "--revenue",
        "1000000",
        "--assets",
        "1000000",
    ]);
    assert_eq!(v["size_class"], "micro", "{v}");
}

#[test]
fn classify_refuses_a_bad_code() {
    let err = smedx([
        "--lang",
        "en",
        "classify",
        "--industry",
        "X99Z",
        "--employees",
        "5",
    ])
    .bad_input()
    .to_string();
    assert!(err.contains("X99Z"), "{err}");
}

#[test]
fn profile_check_accepts_the_examples() {
    let run = smedx([
        "profile",
        "check",
        &example("profile.toml").to_string_lossy(),
    ]);
    assert!(run.ok().contains("某某精密五金"), "{}", run.stdout);
    let v = smedx([
        "profile",
        "check",
        "--json",
        &example("profile-micro.json").to_string_lossy(),
    ])
    .json();
    assert_eq!(v["classification"]["size"]["size_class"], "micro", "{v}");
    assert_eq!(v["classification"]["sector"], "apparel");
}

#[test]
fn profile_check_reports_every_mistake() {
    let run = smedx([
        "--lang",
        "en",
        "profile",
        "check",
        &example("profile-bad.toml").to_string_lossy(),
    ]);
    let err = run.bad_input();
    for needle in [
        "employes",
        "did you mean \"employees\"",
        "pl.transparancy",
        "did you mean \"pl.transparency\"",
        "revenue",
    ] {
        assert!(
            err.contains(needle),
            "{needle:?} missing from stderr:\n{err}"
        );
    }
    assert!(err.contains("4 problem"), "all problems at once:\n{err}");
}
