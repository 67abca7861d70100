//! Sentences for reasons, conditions and steps, in either language, shared by the CLI and the web.

use crate::assessment::{Condition, level_name};
use crate::kb::KnowledgeBase;
use crate::lang::{Lang, Localized};
use crate::recommend::Reason;

fn pick(lang: Lang, zh: String, en: String) -> String {
    Localized::new(zh, en).get(lang).to_string()
}

fn scen(kb: &KnowledgeBase, id: &str, lang: Lang) -> String {
    kb.scenario(id)
        .map(|s| s.name.get(lang).to_string())
        .unwrap_or_else(|| id.to_string())
}

/// The name of an indicator scenario of the official assessment.
pub fn indicator_name(kb: &KnowledgeBase, id: &str, lang: Lang) -> String {
    kb.questionnaire
        .scenario(id)
        .map(|s| s.name.get(lang).to_string())
        .unwrap_or_else(|| id.to_string())
}

impl Reason {
    pub fn text(&self, kb: &KnowledgeBase, lang: Lang) -> String {
        match self {
            Reason::SectorTypical { sector, cases } => {
                let name = kb
                    .sector(sector)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                let n = cases.len();
                pick(
                    lang,
                    if n > 0 {
                        format!("{}企业的典型场景，研究报告收录了 {n} 个同行案例", name.zh)
                    } else {
                        format!("{}企业的典型场景", name.zh)
                    },
                    if n > 0 {
                        format!(
                            "typical for {} firms; the report has {n} peer case(s)",
                            name.en
                        )
                    } else {
                        format!("typical for {} firms", name.en)
                    },
                )
            }
            Reason::GroupNeed { group, share } => {
                let name = kb.group(group).map(|s| s.name.clone()).unwrap_or_default();
                match share {
                    Some(x) => pick(
                        lang,
                        format!(
                            "{}行业约 {:.0}% 的中小企业计划在这一领域推进数字化",
                            name.zh,
                            x * 100.0
                        ),
                        format!(
                            "about {:.0}% of {} SMEs plan to digitise this area",
                            x * 100.0,
                            name.en
                        ),
                    ),
                    None => pick(
                        lang,
                        format!("{}行业关注的重点领域", name.zh),
                        format!("a focus area of {} firms", name.en),
                    ),
                }
            }
            Reason::ChainPosition { position } => {
                let p = position.name();
                pick(
                    lang,
                    format!("处于产业链{}，这一领域最常见", p.zh),
                    format!("common for firms {} in the chain", p.en),
                )
            }
            Reason::CommonFirst => pick(
                lang,
                "生产和仓储透明化是中小企业最常见的第一步，成本低、见效快".into(),
                "shop-floor and warehouse transparency is the most common, low-cost first step"
                    .into(),
            ),
            Reason::PainPoint { matched } => pick(
                lang,
                format!("与您描述的问题相符：{}", matched.join("、")),
                format!("matches the problem you described: {}", matched.join(", ")),
            ),
            Reason::LevelGap {
                indicator,
                from,
                to,
            } => pick(
                lang,
                format!(
                    "把“{}”从 {from} 级提到 {to} 级，是达到下一数字化等级所需的",
                    indicator_name(kb, indicator, Lang::Zh)
                ),
                format!(
                    "lifts “{}” from level {from} to {to}, which the next digital level needs",
                    indicator_name(kb, indicator, Lang::En)
                ),
            ),
            Reason::LevelLift {
                indicator,
                from,
                to,
            } => pick(
                lang,
                format!(
                    "可把评测场景“{}”从 {from} 级提到 {to} 级",
                    indicator_name(kb, indicator, Lang::Zh)
                ),
                format!(
                    "lifts the indicator “{}” from level {from} to {to}",
                    indicator_name(kb, indicator, Lang::En)
                ),
            ),
            Reason::BuildsOn { scenario } => pick(
                lang,
                format!("可在已有的“{}”基础上开展", scen(kb, scenario, Lang::Zh)),
                format!(
                    "builds on “{}”, already in place",
                    scen(kb, scenario, Lang::En)
                ),
            ),
            Reason::PathFit { path } => {
                let name = kb
                    .path_mode(path)
                    .map(|(_, m)| m.name.clone())
                    .unwrap_or_default();
                pick(
                    lang,
                    format!("符合适用的转型路径：{}", name.zh),
                    format!("fits the transformation path that applies: {}", name.en),
                )
            }
            Reason::PrerequisiteOf { scenario } => pick(
                lang,
                format!("是“{}”的前提，需先完成", scen(kb, scenario, Lang::Zh)),
                format!("needed first by “{}”", scen(kb, scenario, Lang::En)),
            ),
            Reason::SizeFit { size } => pick(
                lang,
                format!("适合{}企业", size.name().zh),
                format!("suits {} firms", size.name().en),
            ),
            Reason::SizeMisfit { size } => pick(
                lang,
                format!(
                    "跨部门、投入较大，{}企业实施难度高，已降低优先级",
                    size.name().zh
                ),
                format!(
                    "cross-department or costly: hard for {} firms, ranked lower",
                    size.name().en
                ),
            ),
            Reason::WithinBudget { budget } => pick(
                lang,
                format!("在预算（{:.0} 万元）之内", budget / 10_000.0),
                format!("within the budget (CNY {:.0}k)", budget / 1000.0),
            ),
            Reason::OverBudget { budget } => pick(
                lang,
                format!(
                    "首年投入可能超出预算（{:.0} 万元），已降低优先级",
                    budget / 10_000.0
                ),
                format!(
                    "first-year cost may exceed the budget (CNY {:.0}k), ranked lower",
                    budget / 1000.0
                ),
            ),
            Reason::CostObstacle { obstacle } => {
                let name = kb
                    .obstacle(obstacle)
                    .map(|o| o.name.clone())
                    .unwrap_or_default();
                pick(
                    lang,
                    format!("投入高，而企业反映“{}”，已降低优先级", name.zh),
                    format!("costly while the firm reports “{}”; ranked lower", name.en),
                )
            }
        }
    }
}

/// One level condition as a sentence, e.g. "score 44.5 / 40 ✓".
pub fn condition_text(c: &Condition, lang: Lang) -> String {
    let mark = |m: bool| if m { "✓" } else { "✗" };
    match c {
        Condition::Score {
            required,
            actual,
            met,
        } => pick(
            lang,
            format!("总分 {actual:.1} / 需要 {required:.0} {}", mark(*met)),
            format!("score {actual:.1} / needs {required:.0} {}", mark(*met)),
        ),
        Condition::Scenarios {
            level,
            required,
            actual,
            met,
        } => pick(
            lang,
            format!(
                "达到 {level} 级的业务场景 {actual} 个 / 需要 {required} 个 {}",
                mark(*met)
            ),
            format!(
                "business scenarios at level {level}+: {actual} / needs {required} {}",
                mark(*met)
            ),
        ),
        Condition::Constrained {
            required,
            actual,
            met,
            ..
        } => pick(
            lang,
            format!(
                "其中约束性场景 {actual} 个 / 需要 {required} 个 {}",
                mark(*met)
            ),
            format!(
                "of which constrained: {actual} / needs {required} {}",
                mark(*met)
            ),
        ),
    }
}

/// "一级" / "Level 1" / "未达一级".
pub fn level_text(kb: &KnowledgeBase, level: u8, lang: Lang) -> String {
    level_name(&kb.questionnaire, level).get(lang).to_string()
}
