//! The assessment wizard's six steps: turning a submitted form into the profile and answers
//! documents (and back, to prefill), and what each step shows.
//!
//! Documents keep the public formats of the README (profile in yuan, answers keyed by question
//! id); the forms ask for money in 万元 because that is how owners know their figures.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as J, json};
use smedx_core::assessment::{Measure, Question, QuestionKind};
use smedx_core::kb::KnowledgeBase;
use smedx_core::{Lang, Localized};

use crate::i18n;
use crate::service::{self, Issue, MAX_FIGURE};

pub const STEPS: u8 = 6;

/// Step n of the questionnaire part (2–4) shows this dimension's questions.
pub fn dimension_of_step(step: u8) -> Option<&'static str> {
    match step {
        2 => Some("foundation"),
        3 => Some("management"),
        4 => Some("effect"),
        _ => None,
    }
}

/// What the form shows: raw values as typed (even invalid ones) and ticked boxes.
#[derive(Debug, Default, Clone)]
pub struct FormState {
    pub values: BTreeMap<String, String>,
    /// "name=value" of every ticked checkbox or chosen radio button.
    pub checked: BTreeSet<String>,
}

impl FormState {
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = FormState::default();
        for (k, v) in pairs {
            f.values.insert(k.clone(), v.clone());
            f.checked.insert(format!("{k}={v}"));
        }
        f
    }
    pub fn val(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.checked.contains(&format!("{name}={value}"))
    }
    pub fn select(&mut self, name: &str, value: &str) {
        self.set(name, value.to_string());
    }
    fn set(&mut self, name: &str, value: String) {
        self.checked.insert(format!("{name}={value}"));
        self.values.insert(name.to_string(), value);
    }
    fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn both(key: &str) -> Localized {
    Localized::new(i18n::t(Lang::Zh, key), i18n::t(Lang::En, key))
}

/// Parses a number as typed; empty is `None`; thousands separators and full-width digits are fine.
fn number(raw: &str) -> Result<Option<f64>, ()> {
    let s: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，' && *c != ' ')
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            other => other,
        })
        .collect();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(()),
    }
}

/// A typed figure times `scale` (万元 → yuan): `Err` with the message key when it cannot be read,
/// or is not finite or larger than [`MAX_FIGURE`] once scaled (1.8e308 万元 is infinite in yuan).
fn figure(raw: &str, scale: f64) -> Result<Option<f64>, &'static str> {
    match number(raw) {
        Ok(Some(x)) => {
            let y = x * scale;
            if y.is_finite() && y <= MAX_FIGURE {
                Ok(Some(y))
            } else {
                Err("errors.number_too_large")
            }
        }
        Ok(None) => Ok(None),
        Err(()) => Err("errors.number"),
    }
}

/// A text input (`free_text`: several lines) refused for control characters such as NUL.
fn text_issue(field: &str, value: &str, free_text: bool) -> Option<Issue> {
    service::has_control_chars(value, free_text).then(|| Issue {
        field: field.into(),
        message: both("errors.control_chars"),
    })
}

fn num_json(x: f64) -> J {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        // Whole numbers stay integers so the documents read like the README's examples.
        json!(x as i64)
    } else {
        json!(x)
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A typed industry: a code, a sub-sector id, "C33 金属制品业" from the list, or an exact name.
pub fn resolve_industry(kb: &KnowledgeBase, raw: &str) -> String {
    let s = raw.trim();
    let first = s.split_whitespace().next().unwrap_or("");
    if first != s && (kb.sector(first).is_some() || first.chars().any(|c| c.is_ascii_digit())) {
        return first.to_string();
    }
    for x in &kb.sectors {
        if x.name.zh == s || x.name.en.eq_ignore_ascii_case(s) {
            return x.id.clone();
        }
    }
    for d in &kb.divisions {
        if d.name.zh == s || d.name.en.eq_ignore_ascii_case(s) {
            return format!("C{}", d.code);
        }
    }
    s.to_string()
}

pub const PROFILE_FLAGS: [&str; 3] = ["in_cluster", "supplies_chain_leader", "uses_platform"];

/// Step 1: the form's profile fields merged into the stored profile (pain points and budget
/// come from step 6 and are kept).
pub fn profile_step1(
    kb: &KnowledgeBase,
    stored: &J,
    pairs: &[(String, String)],
) -> (J, Vec<Issue>) {
    let mut doc: Map<String, J> = Map::new();
    for keep in ["pain_points", "budget"] {
        if let Some(v) = stored.get(keep) {
            doc.insert(keep.into(), v.clone());
        }
    }
    let f = FormState::from_pairs(pairs);
    let mut issues = Vec::new();
    let name = f.val("name").trim();
    if let Some(i) = text_issue("name", name, false) {
        issues.push(i);
    } else if !name.is_empty() {
        doc.insert("name".into(), json!(name));
    }
    let ind = f.val("industry").trim();
    if let Some(i) = text_issue("industry", ind, false) {
        issues.push(i);
    } else if !ind.is_empty() {
        doc.insert("industry".into(), json!(resolve_industry(kb, ind)));
    }
    for (form, field, scale) in [
        ("employees", "employees", 1.0),
        ("revenue_wan", "revenue", 10_000.0),
        ("assets_wan", "assets", 10_000.0),
    ] {
        match figure(f.val(form), scale) {
            Ok(Some(x)) => {
                doc.insert(field.into(), num_json(x));
            }
            Ok(None) => {}
            Err(key) => issues.push(Issue {
                field: field.into(),
                message: both(key),
            }),
        }
    }
    for field in ["product_complexity", "chain_position"] {
        let v = f.val(field).trim();
        if let Some(i) = text_issue(field, v, false) {
            issues.push(i);
        } else if !v.is_empty() {
            doc.insert(field.into(), json!(v));
        }
    }
    for flag in PROFILE_FLAGS {
        doc.insert(flag.into(), json!(f.is(flag, "true")));
    }
    doc.insert("adopted".into(), json!(FormState::all(pairs, "adopted")));
    (J::Object(doc), issues)
}

/// The stored profile as form values (money back to 万元).
pub fn profile_form(doc: &J) -> FormState {
    let mut f = FormState::default();
    if let Some(s) = doc.get("name").and_then(J::as_str) {
        f.set("name", s.to_string());
    }
    if let Some(s) = doc.get("industry").and_then(J::as_str) {
        f.set("industry", s.to_string());
    }
    for (form, field, scale) in [
        ("employees", "employees", 1.0),
        ("revenue_wan", "revenue", 10_000.0),
        ("assets_wan", "assets", 10_000.0),
        ("budget_wan", "budget", 10_000.0),
    ] {
        if let Some(x) = doc.get(field).and_then(J::as_f64) {
            f.set(form, fmt_num(x / scale));
        }
    }
    for field in ["product_complexity", "chain_position"] {
        if let Some(s) = doc.get(field).and_then(J::as_str) {
            f.set(field, s.to_string());
        }
    }
    for flag in PROFILE_FLAGS {
        if doc.get(flag).and_then(J::as_bool) == Some(true) {
            f.set(flag, "true".into());
        }
    }
    if let Some(list) = doc.get("adopted").and_then(J::as_array) {
        for id in list.iter().filter_map(J::as_str) {
            f.checked.insert(format!("adopted={id}"));
        }
    }
    if let Some(s) = doc.get("pain_points").and_then(J::as_str) {
        f.set("pain_points", s.to_string());
    }
    f
}

/// Input names of the figures a question asks for.
pub fn figure_inputs(q: &Question) -> Vec<(String, Localized)> {
    let mut out = Vec::new();
    if let Some(r) = &q.ratio {
        out.push((
            format!("{}.{}", q.id, r.numerator.id),
            r.numerator.label.clone(),
        ));
        out.push((
            format!("{}.{}", q.id, r.denominator.id),
            r.denominator.label.clone(),
        ));
    }
    if let Some(t) = &q.trend {
        for period in ["before", "after"] {
            match (&t.measure, &t.base) {
                (Measure::Value, _) | (_, None) => {
                    out.push((format!("{}.{period}", q.id), t.value.label.clone()));
                }
                (_, Some(base)) => {
                    out.push((
                        format!("{}.{period}.{}", q.id, t.value.id),
                        t.value.label.clone(),
                    ));
                    out.push((format!("{}.{period}.{}", q.id, base.id), base.label.clone()));
                }
            }
        }
    }
    out
}

/// Steps 2–4: this step's answers merged into the stored answers.
pub fn answers_questions(
    questions: &[&Question],
    stored: &J,
    pairs: &[(String, String)],
) -> (J, Vec<Issue>) {
    let mut doc = stored.as_object().cloned().unwrap_or_default();
    let f = FormState::from_pairs(pairs);
    let mut issues = Vec::new();
    for q in questions {
        doc.remove(&q.id);
        match q.kind {
            QuestionKind::Single => {
                let v = f.val(&q.id).trim();
                if !v.is_empty() {
                    doc.insert(q.id.clone(), json!(v));
                }
            }
            QuestionKind::Multi => {
                doc.insert(q.id.clone(), json!(FormState::all(pairs, &q.id)));
            }
            QuestionKind::Ratio | QuestionKind::Trend => {
                let mut any = false;
                let mut value = Map::new();
                let mut bad = None;
                for (name, _) in figure_inputs(q) {
                    match figure(f.val(&name), 1.0) {
                        Ok(Some(x)) => {
                            any = true;
                            // "green.before.energy" → {"before": {"energy": x}}
                            let path: Vec<&str> = name.split('.').skip(1).collect();
                            insert_path(&mut value, &path, num_json(x));
                        }
                        Ok(None) => {}
                        Err(key) => bad = bad.or(Some(key)),
                    }
                }
                if let Some(key) = bad {
                    issues.push(Issue {
                        field: q.id.clone(),
                        message: both(key),
                    });
                } else if any {
                    doc.insert(q.id.clone(), J::Object(value));
                }
            }
        }
    }
    (J::Object(doc), issues)
}

fn insert_path(m: &mut Map<String, J>, path: &[&str], v: J) {
    match path {
        [] => {}
        [last] => {
            m.insert((*last).to_string(), v);
        }
        [first, rest @ ..] => {
            let entry = m
                .entry((*first).to_string())
                .or_insert_with(|| J::Object(Map::new()));
            if let J::Object(inner) = entry {
                insert_path(inner, rest, v);
            }
        }
    }
}

/// The stored answers as form values.
pub fn answers_form(kb: &KnowledgeBase, doc: &J) -> FormState {
    let mut f = FormState::default();
    for q in &kb.questionnaire.question {
        let Some(v) = doc.get(&q.id) else { continue };
        match q.kind {
            QuestionKind::Single => {
                if let Some(s) = v.as_str() {
                    f.set(&q.id, s.to_string());
                }
            }
            QuestionKind::Multi => {
                for s in v.as_array().into_iter().flatten().filter_map(J::as_str) {
                    f.checked.insert(format!("{}={s}", q.id));
                }
            }
            QuestionKind::Ratio | QuestionKind::Trend => {
                for (name, _) in figure_inputs(q) {
                    let mut cur = Some(v);
                    for part in name.split('.').skip(1) {
                        cur = cur.and_then(|c| c.get(part));
                    }
                    if let Some(x) = cur.and_then(J::as_f64) {
                        f.set(&name, fmt_num(x));
                    }
                }
            }
        }
    }
    if let Some(m) = doc.get("scenarios").and_then(J::as_object) {
        for (k, v) in m {
            if let Some(x) = v.as_i64() {
                f.set(&format!("scenarios.{k}"), x.to_string());
            }
        }
    }
    if let Some(m) = doc.get("obstacles").and_then(J::as_object) {
        for (k, v) in m {
            if v.as_bool() == Some(true) {
                f.set(&format!("obstacles.{k}"), "true".into());
            }
        }
    }
    f
}

/// Step 5: scenario ratings 0–4.
pub fn answers_scenarios(kb: &KnowledgeBase, stored: &J, pairs: &[(String, String)]) -> J {
    let mut doc = stored.as_object().cloned().unwrap_or_default();
    let f = FormState::from_pairs(pairs);
    let mut m = Map::new();
    for s in &kb.questionnaire.scenario {
        let raw = f.val(&format!("scenarios.{}", s.id)).trim();
        // An unrated scenario counts as 0 (not started); anything else is checked by the engine.
        let v = if raw.is_empty() {
            json!(0)
        } else {
            raw.parse::<i64>().map_or_else(|_| json!(raw), |n| json!(n))
        };
        m.insert(s.id.clone(), v);
    }
    doc.insert("scenarios".into(), J::Object(m));
    J::Object(doc)
}

/// Step 6: obstacles into the answers; pain points and budget into the profile.
pub fn step6(
    kb: &KnowledgeBase,
    profile: &J,
    answers: &J,
    pairs: &[(String, String)],
) -> (J, J, Vec<Issue>) {
    let f = FormState::from_pairs(pairs);
    let mut issues = Vec::new();
    let mut a = answers.as_object().cloned().unwrap_or_default();
    let mut ob = Map::new();
    for o in &kb.questionnaire.obstacle_question {
        ob.insert(
            o.id.clone(),
            json!(f.is(&format!("obstacles.{}", o.id), "true")),
        );
    }
    a.insert("obstacles".into(), J::Object(ob));
    let mut p = profile.as_object().cloned().unwrap_or_default();
    let pain = f.val("pain_points").trim();
    if let Some(i) = text_issue("pain_points", pain, true) {
        issues.push(i);
    } else if pain.is_empty() {
        p.remove("pain_points");
    } else {
        p.insert("pain_points".into(), json!(pain));
    }
    match figure(f.val("budget_wan"), 10_000.0) {
        Ok(Some(x)) => {
            p.insert("budget".into(), num_json(x));
        }
        Ok(None) => {
            p.remove("budget");
        }
        Err(key) => issues.push(Issue {
            field: "budget".into(),
            message: both(key),
        }),
    }
    (J::Object(p), J::Object(a), issues)
}

/// Which form input shows the message of an engine field (money is typed in 万元).
pub fn input_for(field: &str) -> String {
    match field {
        "revenue" => "revenue_wan".into(),
        "assets" => "assets_wan".into(),
        "budget" => "budget_wan".into(),
        f if f.starts_with("adopted") => "adopted".into(),
        f if f.starts_with("scenarios.") || f.starts_with("obstacles.") => f.to_string(),
        // "green.before" etc. belong to the question "green".
        f => f.split('.').next().unwrap_or(f).to_string(),
    }
}

/// Issues as messages by input name, in the request's language (several joined).
pub fn errors_by_input(issues: &[Issue], l: Lang) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    for i in issues {
        let e = m.entry(input_for(&i.field)).or_default();
        if !e.is_empty() {
            e.push_str("; ");
        }
        e.push_str(i.message.get(l));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_typed() {
        assert_eq!(number(" 1,200 "), Ok(Some(1200.0)));
        assert_eq!(number("３２"), Ok(Some(32.0)));
        assert_eq!(number(""), Ok(None));
        assert_eq!(number("abc"), Err(()));
        assert_eq!(number("inf"), Err(()));
    }

    #[test]
    fn figures_in_yuan() {
        assert_eq!(figure("3200", 10_000.0), Ok(Some(32_000_000.0)));
        assert_eq!(figure("", 10_000.0), Ok(None));
        assert_eq!(figure("x", 1.0), Err("errors.number"));
        // Finite as typed, infinite (or absurd) in yuan.
        assert_eq!(
            figure("1.7976931348623157e308", 10_000.0),
            Err("errors.number_too_large")
        );
        assert_eq!(figure("1e12", 10_000.0), Err("errors.number_too_large"));
        assert_eq!(figure("1e11", 10_000.0), Ok(Some(1e15)));
    }

    #[test]
    fn nested_paths() {
        let mut m = Map::new();
        insert_path(&mut m, &["before", "energy"], json!(1));
        insert_path(&mut m, &["before", "revenue"], json!(2));
        assert_eq!(J::Object(m), json!({"before": {"energy": 1, "revenue": 2}}));
    }

    #[test]
    fn inputs_for_fields() {
        assert_eq!(input_for("revenue"), "revenue_wan");
        assert_eq!(input_for("adopted[2]"), "adopted");
        assert_eq!(input_for("green.before"), "green");
        assert_eq!(input_for("scenarios.quality"), "scenarios.quality");
    }
}
