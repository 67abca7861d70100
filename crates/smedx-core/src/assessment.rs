//! The national digital-level assessment (中小企业数字化水平评测指标, 2024 edition, manufacturing):
//! the questionnaire as data, answers, scoring, the overall level and the gap to the next level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lang::Localized;
use crate::profile::{Value, suggest};

// ---------------------------------------------------------------------------------------------
// The questionnaire (data/questionnaire.toml)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub title: Localized,
    pub document: String,
    pub edition: String,
    #[serde(default)]
    pub date: Option<String>,
    pub notes: Localized,
    #[serde(default)]
    pub alternatives: Option<Localized>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub id: String,
    pub name: Localized,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    pub id: String,
    pub dimension: String,
    pub name: Localized,
    pub points: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Single,
    Multi,
    Ratio,
    Trend,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QOption {
    pub id: String,
    pub text: Localized,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputField {
    pub id: String,
    pub label: Localized,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub up_to: f64,
    pub points: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatioSpec {
    pub numerator: InputField,
    pub denominator: InputField,
    pub bands: Vec<Band>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Value,
    #[serde(rename = "per_100_yuan")]
    Per100Yuan,
    PerHead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendPoints {
    pub worse: f64,
    pub flat: f64,
    pub better: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendSpec {
    pub measure: Measure,
    pub value: InputField,
    #[serde(default)]
    pub base: Option<InputField>,
    pub better: Better,
    pub points: TrendPoints,
    #[serde(default)]
    pub flat_tolerance: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub indicator: String,
    pub name: Localized,
    pub points: f64,
    pub text: Localized,
    #[serde(default)]
    pub help: Option<Localized>,
    pub kind: QuestionKind,
    pub provenance: String,
    #[serde(default)]
    pub option: Vec<QOption>,
    #[serde(default)]
    pub ratio: Option<RatioSpec>,
    #[serde(default)]
    pub trend: Option<TrendSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    pub level: u8,
    pub name: Localized,
    pub min_score: f64,
    pub scenario_level: u8,
    pub min_scenarios: usize,
    pub min_constrained: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lift {
    pub to: u8,
    pub scenarios: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorScenario {
    pub id: String,
    pub group: String,
    pub name: Localized,
    pub constrained: bool,
    pub levels: Vec<Localized>,
    pub lifts: Vec<Lift>,
}

impl IndicatorScenario {
    pub fn lifted_by(&self, to: u8) -> &[String] {
        self.lifts
            .iter()
            .find(|l| l.to == to)
            .map(|l| l.scenarios.as_slice())
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioGroupDef {
    pub id: String,
    pub name: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObstacleQuestion {
    pub id: String,
    pub obstacle: String,
    pub text: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    pub provenance: Provenance,
    pub dimension: Vec<Dimension>,
    pub indicator: Vec<IndicatorDef>,
    pub question: Vec<Question>,
    pub level: Vec<LevelRule>,
    pub scenario_group: Vec<ScenarioGroupDef>,
    pub scenario: Vec<IndicatorScenario>,
    #[serde(default)]
    pub obstacle_question: Vec<ObstacleQuestion>,
}

impl Questionnaire {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.question.iter().find(|q| q.id == id)
    }
    pub fn scenario(&self, id: &str) -> Option<&IndicatorScenario> {
        self.scenario.iter().find(|s| s.id == id)
    }
    pub fn indicator(&self, id: &str) -> Option<&IndicatorDef> {
        self.indicator.iter().find(|s| s.id == id)
    }
    pub fn dimension_of(&self, q: &Question) -> Option<&Dimension> {
        let ind = self.indicator(&q.indicator)?;
        self.dimension.iter().find(|d| d.id == ind.dimension)
    }
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/// One answer, already checked against its question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Single(String),
    Multi(Vec<String>),
    Ratio {
        numerator: f64,
        denominator: f64,
    },
    TrendValue {
        before: f64,
        after: f64,
    },
    TrendPer {
        before: (f64, f64),
        after: (f64, f64),
    },
}

/// A checked set of answers. Unanswered questions score 0; unrated scenarios count as 0.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Answers {
    pub answers: BTreeMap<String, Answer>,
    pub scenarios: BTreeMap<String, u8>,
    pub obstacles: BTreeMap<String, bool>,
}

/// A problem in an answers document, naming the question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerError {
    pub question: String,
    pub message: Localized,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.question, self.message.en)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean \"{s}\"?)")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct AnswerErrors(pub Vec<AnswerError>);

struct Errs(Vec<AnswerError>);

impl Errs {
    fn push(&mut self, q: &str, zh: String, en: String, suggestion: Option<String>) {
        self.0.push(AnswerError {
            question: q.to_string(),
            message: Localized::new(zh, en),
            suggestion,
        });
    }
    fn number(&mut self, q: &str, what: &str, v: Option<&Value>) -> Option<f64> {
        match v {
            None => {
                self.push(
                    q,
                    format!("缺少“{what}”"),
                    format!("missing \"{what}\""),
                    None,
                );
                None
            }
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Some(x),
                Some(x) => {
                    self.push(
                        q,
                        format!("“{what}”必须是不小于 0 的数（填写的是 {x}）"),
                        format!("\"{what}\" must be a number of zero or more (got {x})"),
                        None,
                    );
                    None
                }
                None => {
                    self.push(
                        q,
                        format!("“{what}”应为数字，实际是 {}", v.kind()),
                        format!("\"{what}\" must be a number, got {}", v.kind()),
                        None,
                    );
                    None
                }
            },
        }
    }
    fn table<'a>(
        &mut self,
        q: &str,
        v: &'a Value,
        shape: &str,
    ) -> Option<&'a BTreeMap<String, Value>> {
        match v {
            Value::Table(t) => Some(t),
            other => {
                self.push(
                    q,
                    format!("应为表格 {shape}，实际是 {}", other.kind()),
                    format!("expected a table {shape}, got {}", other.kind()),
                    None,
                );
                None
            }
        }
    }
    fn unknown_keys(&mut self, q: &str, t: &BTreeMap<String, Value>, allowed: &[&str]) {
        for k in t.keys() {
            if !allowed.contains(&k.as_str()) {
                self.push(
                    q,
                    format!("未知的字段“{k}”，可用：{}", allowed.join("、")),
                    format!("unknown field \"{k}\"; expected {}", allowed.join(", ")),
                    suggest(k, allowed.iter().copied()),
                );
            }
        }
    }
}

/// Checks an answers document (TOML or JSON, keyed by question id) against the questionnaire.
pub fn parse_answers(q: &Questionnaire, doc: &Value) -> Result<Answers, AnswerErrors> {
    let mut e = Errs(Vec::new());
    let mut out = Answers::default();
    let Value::Table(map) = doc else {
        e.push(
            "(answers)",
            "应为以题号为键的表格".into(),
            "expected a table keyed by question id".into(),
            None,
        );
        return Err(AnswerErrors(e.0));
    };
    for (key, v) in map {
        match key.as_str() {
            "scenarios" => {
                let Some(t) = e.table("scenarios", v, "{ 场景编号 = 0–4 }") else {
                    continue;
                };
                for (sid, lv) in t {
                    let field = format!("scenarios.{sid}");
                    if q.scenario(sid).is_none() {
                        e.push(
                            &field,
                            format!("未知的业务场景“{sid}”"),
                            format!("unknown business scenario \"{sid}\""),
                            suggest(sid, q.scenario.iter().map(|s| s.id.as_str())),
                        );
                        continue;
                    }
                    match lv {
                        Value::Int(n) if (0..=4).contains(n) => {
                            out.scenarios.insert(sid.clone(), *n as u8);
                        }
                        Value::Int(n) => e.push(
                            &field,
                            format!("等级必须是 0 到 4 的整数（填写的是 {n}）"),
                            format!("the level must be a whole number from 0 to 4 (got {n})"),
                            None,
                        ),
                        other => e.push(
                            &field,
                            format!("等级应为 0–4 的整数，实际是 {}", other.kind()),
                            format!(
                                "the level must be a whole number from 0 to 4, got {}",
                                other.kind()
                            ),
                            None,
                        ),
                    }
                }
            }
            "obstacles" => {
                let Some(t) = e.table("obstacles", v, "{ awareness = true, … }") else {
                    continue;
                };
                for (oid, b) in t {
                    let field = format!("obstacles.{oid}");
                    if !q.obstacle_question.iter().any(|o| &o.id == oid) {
                        e.push(
                            &field,
                            format!("未知的障碍问题“{oid}”"),
                            format!("unknown obstacle question \"{oid}\""),
                            suggest(oid, q.obstacle_question.iter().map(|o| o.id.as_str())),
                        );
                        continue;
                    }
                    match b {
                        Value::Bool(x) => {
                            out.obstacles.insert(oid.clone(), *x);
                        }
                        other => e.push(
                            &field,
                            format!("应为 true 或 false，实际是 {}", other.kind()),
                            format!("expected true or false, got {}", other.kind()),
                            None,
                        ),
                    }
                }
            }
            qid => {
                let Some(question) = q.question(qid) else {
                    let mut candidates: Vec<&str> =
                        q.question.iter().map(|x| x.id.as_str()).collect();
                    candidates.extend(["scenarios", "obstacles"]);
                    e.push(
                        &crate::profile::visible_key(qid),
                        "未知的题目编号".into(),
                        "unknown question id".into(),
                        suggest(qid, candidates),
                    );
                    continue;
                };
                if matches!(v, Value::Null) {
                    continue;
                }
                if let Some(a) = parse_one(question, v, &mut e) {
                    out.answers.insert(qid.to_string(), a);
                }
            }
        }
    }
    if e.0.is_empty() {
        Ok(out)
    } else {
        Err(AnswerErrors(e.0))
    }
}

fn parse_one(q: &Question, v: &Value, e: &mut Errs) -> Option<Answer> {
    let ids: Vec<&str> = q.option.iter().map(|o| o.id.as_str()).collect();
    let check_option = |e: &mut Errs, s: &str| -> bool {
        if ids.contains(&s) {
            true
        } else {
            e.push(
                &q.id,
                format!("“{s}”不是本题的选项，可选：{}", ids.join("、")),
                format!(
                    "\"{s}\" is not an option of this question; options: {}",
                    ids.join(", ")
                ),
                suggest(s, ids.iter().copied()),
            );
            false
        }
    };
    match q.kind {
        QuestionKind::Single => match v {
            Value::Str(s) => check_option(e, s).then(|| Answer::Single(s.clone())),
            other => {
                e.push(
                    &q.id,
                    format!("单选题应填一个选项编号，实际是 {}", other.kind()),
                    format!(
                        "single choice: expected one option id, got {}",
                        other.kind()
                    ),
                    None,
                );
                None
            }
        },
        QuestionKind::Multi => match v {
            Value::List(items) => {
                let mut chosen: Vec<String> = Vec::new();
                let mut ok = true;
                for it in items {
                    match it {
                        Value::Str(s) => {
                            if !check_option(e, s) {
                                ok = false;
                            } else if !chosen.contains(s) {
                                chosen.push(s.clone());
                            }
                        }
                        other => {
                            ok = false;
                            e.push(
                                &q.id,
                                format!("多选题的每一项应为选项编号，实际是 {}", other.kind()),
                                format!(
                                    "multiple choice: every item must be an option id, got {}",
                                    other.kind()
                                ),
                                None,
                            );
                        }
                    }
                }
                ok.then_some(Answer::Multi(chosen))
            }
            other => {
                e.push(
                    &q.id,
                    format!(
                        "多选题应填选项编号列表（[] 表示都没有），实际是 {}",
                        other.kind()
                    ),
                    format!(
                        "multiple choice: expected a list of option ids ([] for none), got {}",
                        other.kind()
                    ),
                    None,
                );
                None
            }
        },
        QuestionKind::Ratio => {
            let spec = q.ratio.as_ref()?;
            let (n, d) = (&spec.numerator.id, &spec.denominator.id);
            let t = e.table(&q.id, v, &format!("{{ {n} = …, {d} = … }}"))?;
            e.unknown_keys(&q.id, t, &[n, d]);
            let num = e.number(&q.id, n, t.get(n));
            let den = e.number(&q.id, d, t.get(d));
            let (num, den) = (num?, den?);
            if den <= 0.0 {
                e.push(
                    &q.id,
                    format!("“{d}”必须大于 0"),
                    format!("\"{d}\" must be greater than 0"),
                    None,
                );
                return None;
            }
            if num > den {
                e.push(
                    &q.id,
                    format!("“{n}”（{num}）不能大于“{d}”（{den}）"),
                    format!("\"{n}\" ({num}) cannot exceed \"{d}\" ({den})"),
                    None,
                );
                return None;
            }
            Some(Answer::Ratio {
                numerator: num,
                denominator: den,
            })
        }
        QuestionKind::Trend => {
            let spec = q.trend.as_ref()?;
            let t = e.table(&q.id, v, "{ before = …, after = … }")?;
            e.unknown_keys(&q.id, t, &["before", "after"]);
            match (spec.measure, &spec.base) {
                (Measure::Value, _) | (_, None) => {
                    let b = e.number(&q.id, "before", t.get("before"));
                    let a = e.number(&q.id, "after", t.get("after"));
                    Some(Answer::TrendValue {
                        before: b?,
                        after: a?,
                    })
                }
                (_, Some(base)) => {
                    let mut period = |name: &str| -> Option<(f64, f64)> {
                        let field = format!("{}.{name}", q.id);
                        let Some(pv) = t.get(name) else {
                            e.push(
                                &q.id,
                                format!("缺少“{name}”"),
                                format!("missing \"{name}\""),
                                None,
                            );
                            return None;
                        };
                        let pt = e.table(
                            &field,
                            pv,
                            &format!("{{ {} = …, {} = … }}", spec.value.id, base.id),
                        )?;
                        e.unknown_keys(&field, pt, &[&spec.value.id, &base.id]);
                        let x = e.number(&field, &spec.value.id, pt.get(&spec.value.id));
                        let y = e.number(&field, &base.id, pt.get(&base.id));
                        let (x, y) = (x?, y?);
                        if y <= 0.0 {
                            e.push(
                                &field,
                                format!("“{}”必须大于 0", base.id),
                                format!("\"{}\" must be greater than 0", base.id),
                                None,
                            );
                            return None;
                        }
                        Some((x, y))
                    };
                    let b = period("before");
                    let a = period("after");
                    Some(Answer::TrendPer {
                        before: b?,
                        after: a?,
                    })
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendDirection {
    Worse,
    Flat,
    Better,
}

/// The score of one question, with the value derived from the figures where there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionScore {
    pub question: String,
    pub points: f64,
    pub max: f64,
    pub answered: bool,
    /// Ratio questions: the rate (0–1). Trend questions: the relative change after vs before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived: Option<f64>,
    /// Trend questions: the measure before and after (e.g. energy per 100 yuan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_after: Option<(f64, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<TrendDirection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub dimension: String,
    pub points: f64,
    pub max: f64,
}

/// One condition of a level rule and how far the firm is from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    Score {
        required: f64,
        actual: f64,
        met: bool,
    },
    Scenarios {
        level: u8,
        required: usize,
        actual: usize,
        met: bool,
    },
    Constrained {
        level: u8,
        required: usize,
        actual: usize,
        met: bool,
    },
}

impl Condition {
    pub fn met(&self) -> bool {
        match self {
            Condition::Score { met, .. }
            | Condition::Scenarios { met, .. }
            | Condition::Constrained { met, .. } => *met,
        }
    }
}

/// A scenario-level step that helps close the gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioStep {
    pub scenario: String,
    pub constrained: bool,
    pub from: u8,
    pub to: u8,
    /// The report scenarios (ids of the 42) that take it there.
    pub via: Vec<String>,
}

/// Points still available in a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointsAvailable {
    pub question: String,
    pub available: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub target: u8,
    pub conditions: Vec<Condition>,
    pub score_short: f64,
    /// The fewest scenario-level steps that meet the scenario conditions (closest first).
    pub steps: Vec<ScenarioStep>,
    /// Where the missing points are easiest to find (most available first).
    pub points: Vec<PointsAvailable>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub score: f64,
    /// 0 = below level 1 (未达一级), 1–4 = 一级–四级.
    pub level: u8,
    pub dimensions: Vec<DimensionScore>,
    pub questions: Vec<QuestionScore>,
    pub scenario_levels: BTreeMap<String, u8>,
    pub unanswered: Vec<String>,
    pub conditions: Vec<(u8, Vec<Condition>)>,
    pub gap: Option<Gap>,
    /// Obstacles the firm reports, plus `security` when its security answers are weak.
    pub obstacles: Vec<String>,
    pub security_weak: bool,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn score_question(q: &Question, a: Option<&Answer>) -> QuestionScore {
    let mut s = QuestionScore {
        question: q.id.clone(),
        points: 0.0,
        max: q.points,
        answered: a.is_some(),
        derived: None,
        before_after: None,
        direction: None,
    };
    let opt = |id: &str| {
        q.option
            .iter()
            .find(|o| o.id == id)
            .map_or(0.0, |o| o.points)
    };
    match a {
        None => {}
        Some(Answer::Single(id)) => s.points = opt(id),
        Some(Answer::Multi(ids)) => s.points = ids.iter().map(|i| opt(i)).sum(),
        Some(Answer::Ratio {
            numerator,
            denominator,
        }) => {
            let r = numerator / denominator;
            s.derived = Some(r);
            if let Some(spec) = &q.ratio {
                // Bands are (previous, up_to]; the first one includes 0.
                s.points = spec
                    .bands
                    .iter()
                    .find(|b| r <= b.up_to + 1e-12)
                    .or(spec.bands.last())
                    .map_or(0.0, |b| b.points);
            }
        }
        Some(Answer::TrendValue { before, after }) => {
            if let Some(spec) = &q.trend {
                trend(spec, *before, *after, &mut s);
            }
        }
        Some(Answer::TrendPer { before, after }) => {
            if let Some(spec) = &q.trend {
                let m = |(v, b): (f64, f64)| match spec.measure {
                    // Base in 万元: per 100 yuan = value / (base × 10000 / 100).
                    Measure::Per100Yuan => v / (b * 100.0),
                    Measure::PerHead | Measure::Value => v / b,
                };
                trend(spec, m(*before), m(*after), &mut s);
            }
        }
    }
    s.points = round3(s.points.min(q.points));
    s
}

fn trend(spec: &TrendSpec, before: f64, after: f64, s: &mut QuestionScore) {
    // Equal figures are flat however large; overflowed measures (inf − inf) compare as flat too.
    let change = if before == after {
        0.0
    } else if before.abs() > f64::EPSILON {
        (after - before) / before.abs()
    } else if after.abs() <= f64::EPSILON {
        0.0
    } else {
        after.signum()
    };
    let change = if change.is_nan() { 0.0 } else { change };
    let dir = if change.abs() <= spec.flat_tolerance {
        TrendDirection::Flat
    } else if (change < 0.0) == (spec.better == Better::Lower) {
        TrendDirection::Better
    } else {
        TrendDirection::Worse
    };
    s.derived = Some(change);
    s.before_after = Some((before, after));
    s.direction = Some(dir);
    s.points = match dir {
        TrendDirection::Worse => spec.points.worse,
        TrendDirection::Flat => spec.points.flat,
        TrendDirection::Better => spec.points.better,
    };
}

/// Security counts as weak when the firm answered the security questions and has at most one
/// measure in each (the report: 41% of SMEs have no protection at all). Unanswered means unknown.
fn security_weak(_q: &Questionnaire, a: &Answers) -> bool {
    let count = |id: &str| match a.answers.get(id) {
        Some(Answer::Multi(v)) => Some(v.len()),
        _ => None,
    };
    match (count("network_security"), count("data_security")) {
        (None, None) => false,
        (n, d) => n.unwrap_or(0) <= 1 && d.unwrap_or(0) <= 1,
    }
}

/// Scores answers: total, dimensions, level by the combined rule, and the gap to the next level.
pub fn assess(q: &Questionnaire, a: &Answers) -> Assessment {
    let questions: Vec<QuestionScore> = q
        .question
        .iter()
        .map(|qq| score_question(qq, a.answers.get(&qq.id)))
        .collect();
    let score = round3(questions.iter().map(|s| s.points).sum());
    let dimensions = q
        .dimension
        .iter()
        .map(|d| DimensionScore {
            dimension: d.id.clone(),
            points: round3(
                q.question
                    .iter()
                    .zip(&questions)
                    .filter(|(qq, _)| q.dimension_of(qq).is_some_and(|x| x.id == d.id))
                    .map(|(_, s)| s.points)
                    .sum(),
            ),
            max: d.points,
        })
        .collect();
    let scenario_levels: BTreeMap<String, u8> = q
        .scenario
        .iter()
        .map(|s| (s.id.clone(), a.scenarios.get(&s.id).copied().unwrap_or(0)))
        .collect();
    let unanswered = questions
        .iter()
        .filter(|s| !s.answered)
        .map(|s| s.question.clone())
        .collect();

    let mut rules: Vec<&LevelRule> = q.level.iter().collect();
    rules.sort_by_key(|r| r.level);
    let conditions: Vec<(u8, Vec<Condition>)> = rules
        .iter()
        .map(|r| (r.level, level_conditions(q, r, score, &scenario_levels)))
        .collect();
    let level = conditions
        .iter()
        .filter(|(_, c)| c.iter().all(Condition::met))
        .map(|(l, _)| *l)
        .max()
        .unwrap_or(0);
    let gap = rules
        .iter()
        .find(|r| r.level > level)
        .map(|r| gap_to(q, r, score, &scenario_levels, &questions));

    let weak = security_weak(q, a);
    let mut obstacles: Vec<String> = q
        .obstacle_question
        .iter()
        .filter(|o| a.obstacles.get(&o.id).copied().unwrap_or(false))
        .map(|o| o.obstacle.clone())
        .collect();
    if weak {
        obstacles.push("security".into());
    }
    Assessment {
        score,
        level,
        dimensions,
        questions,
        scenario_levels,
        unanswered,
        conditions,
        gap,
        obstacles,
        security_weak: weak,
    }
}

fn level_conditions(
    q: &Questionnaire,
    r: &LevelRule,
    score: f64,
    levels: &BTreeMap<String, u8>,
) -> Vec<Condition> {
    let at = |constrained_only: bool| {
        q.scenario
            .iter()
            .filter(|s| !constrained_only || s.constrained)
            .filter(|s| levels.get(&s.id).copied().unwrap_or(0) >= r.scenario_level)
            .count()
    };
    let (n, c) = (at(false), at(true));
    vec![
        Condition::Score {
            required: r.min_score,
            actual: score,
            met: score + 1e-9 >= r.min_score,
        },
        Condition::Scenarios {
            level: r.scenario_level,
            required: r.min_scenarios,
            actual: n,
            met: n >= r.min_scenarios,
        },
        Condition::Constrained {
            level: r.scenario_level,
            required: r.min_constrained,
            actual: c,
            met: c >= r.min_constrained,
        },
    ]
}

fn gap_to(
    q: &Questionnaire,
    r: &LevelRule,
    score: f64,
    levels: &BTreeMap<String, u8>,
    questions: &[QuestionScore],
) -> Gap {
    let conditions = level_conditions(q, r, score, levels);
    let lv = |id: &str| levels.get(id).copied().unwrap_or(0);
    let target = r.scenario_level;
    let have_all = q.scenario.iter().filter(|s| lv(&s.id) >= target).count();
    let have_c = q
        .scenario
        .iter()
        .filter(|s| s.constrained && lv(&s.id) >= target)
        .count();
    // Candidates below the target, closest first (fewest levels to climb), constrained first on ties.
    let mut below: Vec<&IndicatorScenario> =
        q.scenario.iter().filter(|s| lv(&s.id) < target).collect();
    below.sort_by(|a, b| {
        lv(&b.id)
            .cmp(&lv(&a.id))
            .then(b.constrained.cmp(&a.constrained))
    });
    let need_c = r.min_constrained.saturating_sub(have_c);
    let mut chosen: Vec<&IndicatorScenario> = below
        .iter()
        .filter(|s| s.constrained)
        .take(need_c)
        .copied()
        .collect();
    let need_all = r.min_scenarios.saturating_sub(have_all + chosen.len());
    let rest: Vec<&IndicatorScenario> = below
        .iter()
        .filter(|s| !chosen.iter().any(|c| c.id == s.id))
        .take(need_all)
        .copied()
        .collect();
    chosen.extend(rest);
    let steps = chosen
        .into_iter()
        .map(|s| {
            let from = lv(&s.id);
            let mut via: Vec<String> = Vec::new();
            for l in (from + 1)..=target {
                for id in s.lifted_by(l) {
                    if !via.contains(id) {
                        via.push(id.clone());
                    }
                }
            }
            ScenarioStep {
                scenario: s.id.clone(),
                constrained: s.constrained,
                from,
                to: target,
                via,
            }
        })
        .collect();
    let score_short = round3((r.min_score - score).max(0.0));
    let mut points: Vec<PointsAvailable> = if score_short > 0.0 {
        questions
            .iter()
            .map(|s| PointsAvailable {
                question: s.question.clone(),
                available: round3(s.max - s.points),
            })
            .filter(|p| p.available > 0.0)
            .collect()
    } else {
        Vec::new()
    };
    points.sort_by(|a, b| {
        b.available
            .total_cmp(&a.available)
            .then_with(|| a.question.cmp(&b.question))
    });
    points.truncate(5);
    Gap {
        target: r.level,
        conditions,
        score_short,
        steps,
        points,
    }
}

/// The level name in both languages (0 = 未达一级).
pub fn level_name(q: &Questionnaire, level: u8) -> Localized {
    q.level
        .iter()
        .find(|l| l.level == level)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| Localized::new("未达一级", "below Level 1"))
}
