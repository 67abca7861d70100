//! View models: a stored [`Report`] turned into the strings the result, report and compare pages
//! show, in the request's language. Sentences for reasons and conditions come from
//! `smedx_core::explain`, shared with the CLI.

use serde_json::json;
use smedx_core::Lang;
use smedx_core::explain::{condition_text, indicator_name, level_text};
use smedx_core::kb::KnowledgeBase;
use smedx_core::recommend::{Reason, Report};

use crate::i18n::{t, tf};

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Escapes `text` and wraps every occurrence of the words (case-insensitive) in `<mark>`.
pub fn highlight(text: &str, words: &[String]) -> String {
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let chars: Vec<char> = text.chars().collect();
    // Lower-casing can change the length of a few scripts; then highlighting is skipped.
    if lower.len() != chars.len() {
        return esc(text);
    }
    let mut ws: Vec<Vec<char>> = words
        .iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).collect())
        .collect();
    ws.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(w) = ws.iter().find(|w| lower[i..].starts_with(w)) {
            let s: String = chars[i..i + w.len()].iter().collect();
            out.push_str("<mark>");
            out.push_str(&esc(&s));
            out.push_str("</mark>");
            i += w.len();
        } else {
            out.push_str(&esc(&chars[i].to_string()));
            i += 1;
        }
    }
    out
}

/// JSON safe to place inside `<script type="application/json">` (no `<`, `>` or `&` in it).
pub fn json_script(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn wan(yuan: f64) -> String {
    let w = yuan / 10_000.0;
    if (w - w.round()).abs() < 1e-9 {
        format!("{w:.0}")
    } else {
        format!("{w:.1}")
    }
}

pub fn scenario_name(kb: &KnowledgeBase, id: &str, l: Lang) -> String {
    kb.scenario(id)
        .map_or_else(|| id.to_string(), |s| s.name.get(l).to_string())
}

pub struct Row {
    pub label: String,
    pub value: String,
    pub note: String,
}

pub struct PathView {
    pub name: String,
    pub mode: String,
    pub primary: bool,
    pub reasons: Vec<String>,
}

pub struct CondView {
    pub text: String,
    pub met: bool,
}

pub struct GapView {
    pub target: String,
    pub conditions: Vec<CondView>,
    pub steps: Vec<String>,
    pub points: Vec<String>,
}

pub struct DimView {
    pub name: String,
    pub points: String,
    pub max: String,
    pub pct: u32,
}

pub struct ScenLevel {
    pub name: String,
    pub level: u8,
    pub constrained: bool,
}

pub struct LevelView {
    pub name: String,
    pub score: String,
    pub dims: Vec<DimView>,
    pub gap: Option<GapView>,
    pub scenarios: Vec<ScenLevel>,
}

pub struct RecView {
    pub id: String,
    pub name: String,
    pub stage: u8,
    /// Escaped HTML (matched pain-point words in `<mark>`).
    pub reasons_html: Vec<String>,
    pub needs: Vec<String>,
}

pub struct StageView {
    pub stage: u8,
    pub title: String,
    pub months: String,
    pub scenarios: Vec<String>,
    pub cost: String,
    pub effects: Vec<String>,
}

pub struct PeerView {
    pub company: String,
    pub makes: String,
    pub did: String,
    pub result: Option<String>,
    pub shared: Vec<String>,
}

pub struct ObstacleView {
    pub name: String,
    pub advice: String,
    pub security: bool,
}

pub struct ResultView {
    pub rows: Vec<Row>,
    pub paths: Vec<PathView>,
    pub level: Option<LevelView>,
    pub recs: Vec<RecView>,
    pub roadmap: Vec<StageView>,
    pub peers: Vec<PeerView>,
    pub obstacles: Vec<ObstacleView>,
    pub pain_words: Vec<String>,
    pub chart_json: String,
}

pub const TOP: usize = 10;

pub fn result_view(kb: &KnowledgeBase, r: &Report, l: Lang) -> ResultView {
    let c = &r.classification;
    let mut rows = Vec::new();
    let industry = match (&c.industry.code, &c.industry.name) {
        (Some(code), Some(n)) => format!("{code} {}", n.get(l)),
        (Some(code), None) => code.clone(),
        (None, Some(n)) => n.get(l).to_string(),
        (None, None) => String::new(),
    };
    rows.push(Row {
        label: t(l, "result.industry").into(),
        value: industry,
        note: String::new(),
    });
    let sector = c
        .sector
        .as_deref()
        .and_then(|s| kb.sector(s))
        .map(|s| s.name.get(l).to_string())
        .unwrap_or_else(|| t(l, "result.no_sector").to_string());
    let group = kb
        .group(&c.group)
        .map_or_else(|| c.group.clone(), |g| g.name.get(l).to_string());
    rows.push(Row {
        label: t(l, "result.sector").into(),
        value: sector,
        note: group,
    });
    rows.push(Row {
        label: t(l, "result.size").into(),
        value: c.size_class().name().get(l).to_string(),
        note: c.size.rule.category_name.get(l).to_string(),
    });
    rows.push(Row {
        label: t(l, "result.complexity").into(),
        value: c.complexity.value.name().get(l).to_string(),
        note: c.complexity.reason.get(l).to_string(),
    });
    rows.push(Row {
        label: t(l, "result.position").into(),
        value: c.chain_position.value.name().get(l).to_string(),
        note: c.chain_position.reason.get(l).to_string(),
    });
    let paths = c
        .paths
        .iter()
        .map(|p| {
            let (name, mode) = kb.path_mode(&p.mode).map_or_else(
                || {
                    let n = kb
                        .path(&p.id)
                        .map_or_else(|| p.id.clone(), |x| x.name.get(l).to_string());
                    (n, String::new())
                },
                |(path, m)| (path.name.get(l).to_string(), m.name.get(l).to_string()),
            );
            PathView {
                name,
                mode,
                primary: p.primary,
                reasons: p.reasons.iter().map(|x| x.text(kb, l)).collect(),
            }
        })
        .collect();

    let level = r.assessment.as_ref().map(|a| {
        let dims = a
            .dimensions
            .iter()
            .map(|d| DimView {
                name: kb
                    .questionnaire
                    .dimension
                    .iter()
                    .find(|x| x.id == d.dimension)
                    .map_or_else(|| d.dimension.clone(), |x| x.name.get(l).to_string()),
                points: format!("{:.1}", d.points),
                max: format!("{:.0}", d.max),
                pct: pct(d.points, d.max),
            })
            .collect();
        let gap = a.gap.as_ref().map(|g| GapView {
            target: level_text(kb, g.target, l),
            conditions: g
                .conditions
                .iter()
                .map(|x| CondView {
                    text: condition_text(x, l),
                    met: x.met(),
                })
                .collect(),
            steps: g
                .steps
                .iter()
                .map(|s| {
                    let via: Vec<String> = s.via.iter().map(|v| scenario_name(kb, v, l)).collect();
                    tf(
                        l,
                        "result.step",
                        &[
                            ("star", if s.constrained { "★" } else { "" }),
                            ("name", &indicator_name(kb, &s.scenario, l)),
                            ("from", &s.from.to_string()),
                            ("to", &s.to.to_string()),
                            ("via", &via.join(t(l, "common.list_sep"))),
                        ],
                    )
                })
                .collect(),
            points: g
                .points
                .iter()
                .map(|p| {
                    let q = kb
                        .questionnaire
                        .question(&p.question)
                        .map_or_else(|| p.question.clone(), |q| q.name.get(l).to_string());
                    tf(
                        l,
                        "result.points_available",
                        &[("name", &q), ("points", &format!("{:.2}", p.available))],
                    )
                })
                .collect(),
        });
        let scenarios = kb
            .questionnaire
            .scenario
            .iter()
            .map(|s| ScenLevel {
                name: s.name.get(l).to_string(),
                level: a.scenario_levels.get(&s.id).copied().unwrap_or(0),
                constrained: s.constrained,
            })
            .collect();
        LevelView {
            name: level_text(kb, a.level, l),
            score: format!("{:.1}", a.score),
            dims,
            gap,
            scenarios,
        }
    });

    let recs = r
        .recommendations
        .iter()
        .take(TOP)
        .map(|x| RecView {
            id: x.scenario.clone(),
            name: scenario_name(kb, &x.scenario, l),
            stage: x.stage,
            reasons_html: x
                .reasons
                .iter()
                .map(|rs| match rs {
                    Reason::PainPoint { matched } => highlight(&rs.text(kb, l), matched),
                    _ => esc(&rs.text(kb, l)),
                })
                .collect(),
            needs: x.needs.iter().map(|n| scenario_name(kb, n, l)).collect(),
        })
        .collect();

    let roadmap = r
        .roadmap
        .iter()
        .map(|s| StageView {
            stage: s.stage,
            title: t(
                l,
                match s.stage {
                    1 => "result.stage_1",
                    2 => "result.stage_2",
                    _ => "result.stage_3",
                },
            )
            .to_string(),
            months: tf(
                l,
                "result.months",
                &[
                    ("from", &s.months[0].to_string()),
                    ("to", &s.months[1].to_string()),
                ],
            ),
            scenarios: s
                .scenarios
                .iter()
                .map(|x| scenario_name(kb, x, l))
                .collect(),
            cost: tf(
                l,
                "result.cost_range",
                &[
                    ("min", &wan(s.cost_estimate[0])),
                    ("max", &wan(s.cost_estimate[1])),
                ],
            ),
            effects: s
                .level_effects
                .iter()
                .map(|e| {
                    tf(
                        l,
                        "result.effect",
                        &[
                            ("name", &indicator_name(kb, &e.indicator, l)),
                            ("from", &e.from.to_string()),
                            ("to", &e.to.to_string()),
                        ],
                    )
                })
                .collect(),
        })
        .collect();

    let peers = r
        .peer_cases
        .iter()
        .filter_map(|pc| {
            let k = kb.case(&pc.case)?;
            Some(PeerView {
                company: k.company.get(l).to_string(),
                makes: k.makes.get(l).to_string(),
                did: k.did.get(l).to_string(),
                result: k.result.as_ref().map(|x| x.get(l).to_string()),
                shared: pc.shared.iter().map(|s| scenario_name(kb, s, l)).collect(),
            })
        })
        .collect();

    let obstacles = r
        .assessment
        .as_ref()
        .map(|a| {
            a.obstacles
                .iter()
                .filter_map(|o| {
                    let x = kb.obstacle(o)?;
                    Some(ObstacleView {
                        name: x.name.get(l).to_string(),
                        advice: x.advice.get(l).to_string(),
                        security: o == "security",
                    })
                })
                .collect()
        })
        .unwrap_or_default();

    let mut pain_words: Vec<String> = Vec::new();
    for w in r.pain_points.iter().flat_map(|h| h.matched.iter()) {
        if !pain_words.contains(w) {
            pain_words.push(w.clone());
        }
    }

    ResultView {
        rows,
        paths,
        level,
        recs,
        roadmap,
        peers,
        obstacles,
        pain_words,
        chart_json: json_script(&chart_data(kb, r, l)),
    }
}

fn pct(points: f64, max: f64) -> u32 {
    if max <= 0.0 {
        0
    } else {
        // Clamped to 0–100 before the cast, so it cannot truncate.
        (points / max * 100.0).round().clamp(0.0, 100.0) as u32
    }
}

/// What `static/charts.js` draws: a gauge of the score, a radar of the dimensions, a bar chart
/// of the 16 business scenarios.
pub fn chart_data(kb: &KnowledgeBase, r: &Report, l: Lang) -> serde_json::Value {
    let Some(a) = &r.assessment else {
        return json!({});
    };
    let mut indicators = Vec::new();
    let mut values = Vec::new();
    for d in &a.dimensions {
        let name = kb
            .questionnaire
            .dimension
            .iter()
            .find(|x| x.id == d.dimension)
            .map_or_else(|| d.dimension.clone(), |x| x.name.get(l).to_string());
        indicators.push(json!({"name": name, "max": 100}));
        values.push(pct(d.points, d.max));
    }
    let levels: Vec<u8> = kb
        .questionnaire
        .scenario
        .iter()
        .map(|s| a.scenario_levels.get(&s.id).copied().unwrap_or(0))
        .collect();
    let avg = if levels.is_empty() {
        0.0
    } else {
        levels.iter().map(|&x| f64::from(x)).sum::<f64>() / levels.len() as f64
    };
    indicators.push(json!({"name": t(l, "result.radar_scenarios"), "max": 100}));
    values.push(pct(avg, 4.0));
    let names: Vec<String> = kb
        .questionnaire
        .scenario
        .iter()
        .map(|s| {
            if s.constrained {
                format!("★{}", s.name.get(l))
            } else {
                s.name.get(l).to_string()
            }
        })
        .collect();
    json!({
        "gauge": {
            "score": a.score,
            "level": level_text(kb, a.level, l),
            "label": t(l, "result.score"),
        },
        "radar": {
            "indicators": indicators,
            "values": values,
            "label": t(l, "result.radar_label"),
        },
        "bar": {
            "names": names,
            "values": levels,
            "label": t(l, "result.bar_label"),
        },
    })
}

/// One row of the comparison of two assessments.
pub struct CompareRow {
    pub label: String,
    pub a: String,
    pub b: String,
    /// "up", "down" or "same".
    pub trend: &'static str,
}

fn trend(a: f64, b: f64) -> &'static str {
    if (b - a).abs() < 1e-9 {
        "same"
    } else if b > a {
        "up"
    } else {
        "down"
    }
}

pub struct CompareView {
    pub summary: Vec<CompareRow>,
    pub scenarios: Vec<CompareRow>,
    pub changes: Vec<String>,
}

pub fn compare_view(kb: &KnowledgeBase, a: &Report, b: &Report, l: Lang) -> CompareView {
    let mut summary = Vec::new();
    let mut scenarios = Vec::new();
    let mut changes = Vec::new();
    if let (Some(x), Some(y)) = (&a.assessment, &b.assessment) {
        summary.push(CompareRow {
            label: t(l, "result.level").into(),
            a: level_text(kb, x.level, l),
            b: level_text(kb, y.level, l),
            trend: trend(f64::from(x.level), f64::from(y.level)),
        });
        summary.push(CompareRow {
            label: t(l, "result.score").into(),
            a: format!("{:.1}", x.score),
            b: format!("{:.1}", y.score),
            trend: trend(x.score, y.score),
        });
        if x.level != y.level {
            changes.push(tf(
                l,
                "compare.level_changed",
                &[
                    ("from", &level_text(kb, x.level, l)),
                    ("to", &level_text(kb, y.level, l)),
                ],
            ));
        }
        if (x.score - y.score).abs() >= 0.05 {
            changes.push(tf(
                l,
                "compare.score_changed",
                &[
                    ("from", &format!("{:.1}", x.score)),
                    ("to", &format!("{:.1}", y.score)),
                    ("delta", &format!("{:+.1}", y.score - x.score)),
                ],
            ));
        }
        for d in &x.dimensions {
            let Some(e) = y.dimensions.iter().find(|e| e.dimension == d.dimension) else {
                continue;
            };
            let name = kb
                .questionnaire
                .dimension
                .iter()
                .find(|q| q.id == d.dimension)
                .map_or_else(|| d.dimension.clone(), |q| q.name.get(l).to_string());
            summary.push(CompareRow {
                label: name,
                a: format!("{:.1} / {:.0}", d.points, d.max),
                b: format!("{:.1} / {:.0}", e.points, e.max),
                trend: trend(d.points, e.points),
            });
        }
        for s in &kb.questionnaire.scenario {
            let (la, lb) = (
                x.scenario_levels.get(&s.id).copied().unwrap_or(0),
                y.scenario_levels.get(&s.id).copied().unwrap_or(0),
            );
            scenarios.push(CompareRow {
                label: s.name.get(l).to_string(),
                a: la.to_string(),
                b: lb.to_string(),
                trend: trend(f64::from(la), f64::from(lb)),
            });
            if la != lb {
                changes.push(tf(
                    l,
                    "compare.scenario_changed",
                    &[
                        ("name", s.name.get(l)),
                        ("from", &la.to_string()),
                        ("to", &lb.to_string()),
                    ],
                ));
            }
        }
    }
    let top = |r: &Report| -> Vec<String> {
        r.recommendations
            .iter()
            .take(5)
            .map(|x| x.scenario.clone())
            .collect()
    };
    let (ta, tb) = (top(a), top(b));
    for s in tb.iter().filter(|s| !ta.contains(s)) {
        changes.push(tf(
            l,
            "compare.new_priority",
            &[("name", &scenario_name(kb, s, l))],
        ));
    }
    if changes.is_empty() {
        changes.push(t(l, "compare.no_change").to_string());
    }
    CompareView {
        summary,
        scenarios,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_escapes_and_marks() {
        let h = highlight("交期<延误> Delay", &["延误".into(), "delay".into()]);
        assert_eq!(h, "交期&lt;<mark>延误</mark>&gt; <mark>Delay</mark>");
    }

    #[test]
    fn json_for_script_tags() {
        let s = json_script(&json!({"a": "</script>&"}));
        assert!(!s.contains('<') && !s.contains('&'));
    }
}
