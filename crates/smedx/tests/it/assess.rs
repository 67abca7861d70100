//! `smedx assess`, `smedx questionnaire`, and loading a knowledge base with `--kb`.

use serde_json::Value;

use crate::{TempPath, example, smedx};

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

fn assess_example(extra: &[&str]) -> crate::Run {
    let profile = path(&example("profile.toml"));
    let answers = path(&example("answers.toml"));
    let mut args = vec!["assess", profile.as_str(), "--answers", answers.as_str()];
    args.extend_from_slice(extra);
    smedx(args)
}

#[test]
fn assess_json_has_the_whole_diagnosis() {
    let v = assess_example(&["--json"]).json();
    for key in [
        "classification",
        "paths",
        "assessment",
        "recommendations",
        "roadmap",
        "peer_cases",
    ] {
        assert!(v.get(key).is_some(), "{key} missing from {v}");
    }
    assert_eq!(v["classification"]["sector"], "metal");
    assert!(!v["paths"].as_array().expect("paths is a list").is_empty());

    let a = &v["assessment"];
    assert_eq!(a["level"], 1, "{a}");
    assert_eq!(a["gap"]["target"], 2, "{a}");
    assert_eq!(a["level_name"]["en"], "Level 1");

    let recs = v["recommendations"].as_array().expect("a list");
    assert_eq!(recs.len(), 10, "--top defaults to 10");
    for r in recs {
        let id = r["scenario"].as_str().expect("scenario id");
        assert_ne!(id, "mg.finance", "the profile already has mg.finance");
        assert!(r["score"].is_number(), "{id}: score");
        let stage = r["stage"].as_u64().expect("stage");
        assert!((1..=3).contains(&stage), "{id}: stage {stage}");
        let reasons = r["reasons"].as_array().expect("reasons");
        assert!(!reasons.is_empty(), "{id}: every recommendation says why");
        for rs in reasons {
            assert!(rs["kind"].is_string(), "{id}: reason kind in {rs}");
            assert!(rs["text"].is_string(), "{id}: reason text in {rs}");
        }
    }
    // The gap from the answers shows up as a reason.
    assert!(
        recs.iter()
            .flat_map(|r| r["reasons"].as_array().into_iter().flatten())
            .any(|rs| rs["kind"] == "level_gap"),
        "a level_gap reason in the top 10"
    );

    let roadmap = v["roadmap"].as_array().expect("roadmap is a list");
    assert!(!roadmap.is_empty());
    for st in roadmap {
        assert!(!st["scenarios"].as_array().expect("a list").is_empty());
    }
    let peers = v["peer_cases"].as_array().expect("peer_cases is a list");
    assert!(!peers.is_empty(), "a metal firm has peers in the report");
    assert!(peers.iter().all(|p| p["case"].is_string()));

    let three = assess_example(&["--json", "--top", "3"]).json();
    assert_eq!(three["recommendations"].as_array().map(Vec::len), Some(3));
}

#[test]
fn assess_speaks_english_when_asked() {
    let run = assess_example(&["--lang", "en"]);
    let out = run.ok();
    for words in [
        "[Enterprise type]",
        "[Digital level]",
        "Level 1",
        "Gap to the next level",
        "[Recommended scenarios]",
        "[Roadmap]",
        "Stage 1",
    ] {
        assert!(out.contains(words), "{words:?} missing:\n{out}");
    }
    assert!(
        !out.contains("【推荐场景】"),
        "Chinese headings in English output"
    );
    let zh = assess_example(&[]);
    assert!(zh.ok().contains("【推荐场景】"), "Chinese is the default");
}

#[test]
fn assess_without_answers_has_no_assessment() {
    let v = smedx(["assess", &path(&example("profile.toml")), "--json"]).json();
    assert_eq!(v["assessment"], Value::Null);
    assert!(!v["recommendations"].as_array().expect("a list").is_empty());
}

#[test]
fn questionnaire_json_names_its_source() {
    let v = smedx(["questionnaire", "--json"]).json();
    assert_eq!(v["provenance"]["document"], "工信厅企业〔2024〕56号");
    assert_eq!(v["question"].as_array().map(Vec::len), Some(15));
    assert_eq!(v["scenario"].as_array().map(Vec::len), Some(16));
    assert_eq!(v["level"].as_array().map(Vec::len), Some(4));
    let human = smedx(["--lang", "en", "questionnaire"]);
    assert!(
        human.ok().contains("工信厅企业〔2024〕56号"),
        "{}",
        human.stdout
    );
}

#[test]
fn bad_answers_are_named() {
    let answers = TempPath::file(
        "answers-unknown.toml",
        "netwrok = [\"shopfloor_control\"]\ninformation_systems = \"mostly\"\n",
    );
    let run = smedx([
        "--lang",
        "en",
        "assess",
        &path(&example("profile.toml")),
        "--answers",
        &path(&answers.0),
    ]);
    let err = run.bad_input();
    assert!(err.contains("netwrok"), "{err}");
    assert!(err.contains("did you mean \"network\""), "{err}");
    assert!(err.contains("information_systems"), "{err}");
    assert!(err.contains("2 problem"), "both problems at once: {err}");

    let broken = TempPath::file("answers-broken.toml", "network = [\n");
    let run = smedx([
        "assess",
        &path(&example("profile.toml")),
        "--answers",
        &path(&broken.0),
    ]);
    assert!(
        run.bad_input().contains("answers-broken.toml"),
        "{}",
        run.stderr
    );

    let missing = TempPath::new("no-such-answers.toml");
    let run = smedx([
        "assess",
        &path(&example("profile.toml")),
        "--answers",
        &path(&missing.0),
    ]);
    assert!(
        run.bad_input().contains("no-such-answers.toml"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_answers_are_accepted() {
    let answers = TempPath::file(
        "answers.json",
        r#"{"information_systems": "most", "scenarios": {"finance": 2}}"#,
    );
    let v = smedx([
        "assess",
        &path(&example("profile.toml")),
        "--answers",
        &path(&answers.0),
        "--json",
    ])
    .json();
    assert_eq!(v["assessment"]["score"], 7.5, "{}", v["assessment"]);
}

#[test]
fn an_exported_knowledge_base_loads_and_a_broken_one_is_refused() {
    let dir = TempPath::new("kb");
    let dir_s = path(&dir.0);
    smedx(["kb", "export", dir_s.as_str()]).ok();
    assert!(dir.0.join("scenarios.toml").is_file());

    // Unchanged, the export is a valid knowledge base.
    let v = smedx(["--kb", dir_s.as_str(), "kb", "check", "--json"]).json();
    assert_eq!(v["scenarios"], 42);

    // A syntax error: refused with the file named.
    let file = dir.0.join("scenarios.toml");
    let good = std::fs::read_to_string(&file).expect("exported file");
    std::fs::write(&file, format!("{good}\n[[scenario]\nid = \n")).expect("writable");
    let run = smedx(["--kb", dir_s.as_str(), "kb", "check"]);
    assert!(run.bad_input().contains("scenarios.toml"), "{}", run.stderr);
    let run = smedx([
        "--kb",
        dir_s.as_str(),
        "assess",
        &path(&example("profile.toml")),
    ]);
    assert!(run.bad_input().contains("scenarios.toml"), "{}", run.stderr);

    // Valid TOML but a dangling reference: refused with the file and the bad id named.
    let dangling = good.replacen("domain = \"rd\"", "domain = \"nonexistent\"", 1);
    assert_ne!(dangling, good, "the test edit should apply");
    std::fs::write(&file, dangling).expect("writable");
    let run = smedx(["--kb", dir_s.as_str(), "kb", "check"]);
    let err = run.bad_input();
    assert!(err.contains("scenarios.toml"), "{err}");
    assert!(err.contains("nonexistent"), "{err}");

    // A missing file is named too.
    std::fs::write(&file, &good).expect("writable");
    std::fs::remove_file(dir.0.join("rules.toml")).expect("removable");
    let run = smedx(["--kb", dir_s.as_str(), "kb", "check"]);
    assert!(run.bad_input().contains("rules.toml"), "{}", run.stderr);
}
