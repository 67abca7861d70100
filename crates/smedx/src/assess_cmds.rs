//! `smedx assess`, `smedx questionnaire`, `smedx eval cases`.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use smedx_core::assessment::{self, Answers, QuestionKind};
use smedx_core::eval;
use smedx_core::explain::{condition_text, indicator_name, level_text};
use smedx_core::kb::KnowledgeBase;
use smedx_core::recommend::{Engine, Report, ScenarioIndex};
use smedx_core::{Lang, Localized};

use crate::CliError;
use crate::commands::{Ctx, parse_document, read_profile};
use crate::render;

pub fn read_answers(ctx: &Ctx, kb: &KnowledgeBase, file: &Path) -> Result<Answers, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::BadInput(ctx.t(
            &format!("无法读取 {}：{e}", file.display()),
            &format!("cannot read {}: {e}", file.display()),
        ))
    })?;
    let doc = parse_document(ctx, file, &text)?;
    assessment::parse_answers(&kb.questionnaire, &doc).map_err(|errs| {
        let mut msg = ctx.t(
            &format!("{} 中的答卷有 {} 处问题：\n", file.display(), errs.0.len()),
            &format!(
                "{}: the answers have {} problem(s):\n",
                file.display(),
                errs.0.len()
            ),
        );
        for e in &errs.0 {
            let hint = e
                .suggestion
                .as_ref()
                .map(|s| {
                    ctx.t(
                        &format!("（是不是“{s}”？）"),
                        &format!(" (did you mean \"{s}\"?)"),
                    )
                })
                .unwrap_or_default();
            msg.push_str(&format!(
                "  {}: {}{hint}\n",
                e.question,
                e.message.get(ctx.lang)
            ));
        }
        CliError::BadInput(msg)
    })
}

pub fn assess(
    ctx: &Ctx,
    profile: &Path,
    answers: Option<&Path>,
    top: usize,
) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let p = read_profile(ctx, &kb, profile)?;
    let a = answers.map(|f| read_answers(ctx, &kb, f)).transpose()?;
    let engine = Engine::new(kb);
    let report = engine
        .run(&p, a.as_ref())
        .map_err(|e| CliError::BadInput(e.localized().get(ctx.lang).to_string()))?;
    if ctx.json {
        return print_json(ctx, &engine.kb, &report, top);
    }
    out!(
        "{}",
        human(&engine.kb, &report, p.name.as_deref(), ctx.lang, top)
    );
    Ok(())
}

fn print_json(ctx: &Ctx, kb: &KnowledgeBase, r: &Report, top: usize) -> Result<(), CliError> {
    let l = ctx.lang;
    let recs: Vec<_> = r
        .recommendations
        .iter()
        .take(top)
        .map(|x| {
            let reasons: Vec<_> = x
                .reasons
                .iter()
                .map(|rs| {
                    let mut v = serde_json::to_value(rs).unwrap_or_default();
                    if let Some(o) = v.as_object_mut() {
                        o.insert("text".into(), json!(rs.text(kb, l)));
                    }
                    v
                })
                .collect();
            json!({
                "scenario": x.scenario,
                "name": kb.scenario(&x.scenario).map(|s| s.name.clone()),
                "score": x.score,
                "stage": x.stage,
                "needs": x.needs,
                "reasons": reasons,
            })
        })
        .collect();
    let classification = render::classification_json(kb, &r.classification, l);
    let paths = classification.get("paths").cloned().unwrap_or_default();
    let out = json!({
        "classification": classification,
        "paths": paths,
        "assessment": r.assessment.as_ref().map(|a| {
            let mut v = serde_json::to_value(a).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("level_name".into(), json!(assessment::level_name(&kb.questionnaire, a.level)));
            }
            v
        }),
        "pain_points": r.pain_points,
        "recommendations": recs,
        "roadmap": r.roadmap,
        "peer_cases": r.peer_cases,
    });
    outln!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| CliError::Failed(e.into()))?
    );
    Ok(())
}

fn t(lang: Lang, zh: &str, en: &str) -> String {
    Localized::new(zh, en).get(lang).to_string()
}

/// The readable report.
pub fn human(kb: &KnowledgeBase, r: &Report, name: Option<&str>, l: Lang, top: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "══ {} ══",
        name.unwrap_or(&t(
            l,
            "企业数字化转型诊断",
            "Digital-transformation diagnosis"
        ))
    );
    let _ = writeln!(o, "\n{}", t(l, "【企业类型】", "[Enterprise type]"));
    o.push_str(&render::classification(kb, &r.classification, l));
    if let Some(a) = &r.assessment {
        let _ = writeln!(o, "\n{}", t(l, "【数字化水平】", "[Digital level]"));
        let _ = writeln!(
            o,
            "{}{} · {}{:.1} / 100",
            t(l, "等级：", "Level: "),
            level_text(kb, a.level, l),
            t(l, "得分：", "score: "),
            a.score
        );
        for d in &a.dimensions {
            let name = kb
                .questionnaire
                .dimension
                .iter()
                .find(|x| x.id == d.dimension)
                .map(|x| x.name.get(l).to_string())
                .unwrap_or_default();
            let _ = writeln!(o, "  {name}: {:.1} / {:.0}", d.points, d.max);
        }
        // Figures the user gave become rates and trends; show what was derived from them.
        for qs in a.questions.iter().filter(|q| q.derived.is_some()) {
            let Some(q) = kb.questionnaire.question(&qs.question) else {
                continue;
            };
            let derived = qs.derived.unwrap_or_default();
            let what = match qs.direction {
                None => t(
                    l,
                    &format!("比率 {:.1}%", derived * 100.0),
                    &format!("rate {:.1}%", derived * 100.0),
                ),
                Some(dir) => {
                    let word = match dir {
                        assessment::TrendDirection::Better => t(l, "改善", "better"),
                        assessment::TrendDirection::Flat => t(l, "持平", "flat"),
                        assessment::TrendDirection::Worse => t(l, "变差", "worse"),
                    };
                    let (b, af) = qs.before_after.unwrap_or_default();
                    format!("{b:.4} → {af:.4} ({:+.1}%, {word})", derived * 100.0)
                }
            };
            let _ = writeln!(
                o,
                "    {}: {what} → {:.2} / {:.2}",
                q.name.get(l),
                qs.points,
                qs.max
            );
        }
        if !a.unanswered.is_empty() {
            let _ = writeln!(
                o,
                "  {}{}",
                t(l, "未作答（按 0 分计）：", "unanswered (scored 0): "),
                a.unanswered.join(", ")
            );
        }
        if let Some(g) = &a.gap {
            let _ = writeln!(
                o,
                "{}{}",
                t(l, "距离下一等级：", "Gap to the next level: "),
                level_text(kb, g.target, l)
            );
            for c in &g.conditions {
                let _ = writeln!(o, "  {}", condition_text(c, l));
            }
            for s in &g.steps {
                let via: Vec<String> = s
                    .via
                    .iter()
                    .map(|v| {
                        kb.scenario(v)
                            .map(|x| x.name.get(l).to_string())
                            .unwrap_or_else(|| v.clone())
                    })
                    .collect();
                let star = if s.constrained { "★" } else { "" };
                let _ = writeln!(
                    o,
                    "  → {star}{} {} → {}{}{}",
                    indicator_name(kb, &s.scenario, l),
                    s.from,
                    s.to,
                    t(l, "，可通过：", " via "),
                    via.join(t(l, "、", ", ").as_str())
                );
            }
            for p in &g.points {
                let qn = kb
                    .questionnaire
                    .question(&p.question)
                    .map(|q| q.name.get(l).to_string())
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "  + {qn}: {} {:.2}",
                    t(l, "还可得分", "points available"),
                    p.available
                );
            }
        }
        if !a.obstacles.is_empty() {
            let _ = writeln!(o, "\n{}", t(l, "【障碍与建议】", "[Obstacles and advice]"));
            for ob in &a.obstacles {
                if let Some(x) = kb.obstacle(ob) {
                    let _ = writeln!(
                        o,
                        "  · {}{}{}",
                        x.name.get(l),
                        t(l, "：", ": "),
                        x.advice.get(l)
                    );
                }
            }
        }
    }
    if !r.pain_points.is_empty() {
        let words: Vec<String> = r
            .pain_points
            .iter()
            .flat_map(|h| h.matched.clone())
            .collect();
        let mut uniq: Vec<String> = Vec::new();
        for w in words {
            if !uniq.contains(&w) {
                uniq.push(w);
            }
        }
        let _ = writeln!(
            o,
            "\n{}{}",
            t(l, "识别到的问题关键词：", "Problem words understood: "),
            uniq.join(" · ")
        );
    }
    let _ = writeln!(o, "\n{}", t(l, "【推荐场景】", "[Recommended scenarios]"));
    for (i, x) in r.recommendations.iter().take(top).enumerate() {
        let Some(s) = kb.scenario(&x.scenario) else {
            continue;
        };
        let _ = writeln!(
            o,
            "{:>2}. {} ({}) · {} {} · {:.2}",
            i + 1,
            s.name.get(l),
            s.id,
            t(l, "阶段", "stage"),
            x.stage,
            x.score
        );
        for rs in &x.reasons {
            let _ = writeln!(o, "      - {}", rs.text(kb, l));
        }
    }
    let _ = writeln!(o, "\n{}", t(l, "【路线图】", "[Roadmap]"));
    for st in &r.roadmap {
        let names: Vec<String> = st
            .scenarios
            .iter()
            .map(|v| {
                kb.scenario(v)
                    .map(|x| x.name.get(l).to_string())
                    .unwrap_or_else(|| v.clone())
            })
            .collect();
        let label = match st.stage {
            1 => t(
                l,
                "阶段一 速赢（0–3 个月）",
                "Stage 1 quick wins (0–3 months)",
            ),
            2 => t(l, "阶段二（3–12 个月）", "Stage 2 (3–12 months)"),
            _ => t(l, "阶段三（12–36 个月）", "Stage 3 (12–36 months)"),
        };
        let _ = writeln!(o, "{label}: {}", names.join(t(l, "、", ", ").as_str()));
        let _ = writeln!(
            o,
            "    {}{:.0}–{:.0} {}",
            t(l, "预计首年投入约 ", "estimated first-year cost "),
            st.cost_estimate[0] / 10_000.0,
            st.cost_estimate[1] / 10_000.0,
            t(l, "万元", "× CNY 10k")
        );
        for e in &st.level_effects {
            let _ = writeln!(
                o,
                "    ↑ {} {} → {}",
                indicator_name(kb, &e.indicator, l),
                e.from,
                e.to
            );
        }
    }
    if !r.peer_cases.is_empty() {
        let _ = writeln!(o, "\n{}", t(l, "【同行案例】", "[Peer cases]"));
        for pc in &r.peer_cases {
            if let Some(c) = kb.case(&pc.case) {
                let _ = writeln!(
                    o,
                    "  · {}{}{}",
                    c.company.get(l),
                    t(l, "：", ": "),
                    c.did.get(l)
                );
                if let Some(res) = &c.result {
                    let _ = writeln!(o, "    {}{}", t(l, "成效：", "result: "), res.get(l));
                }
            }
        }
    }
    o
}

pub fn questionnaire(ctx: &Ctx) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let q = &kb.questionnaire;
    if ctx.json {
        let s = serde_json::to_string_pretty(q).map_err(|e| CliError::Failed(e.into()))?;
        outln!("{s}");
        return Ok(());
    }
    let l = ctx.lang;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} ({}, {})",
        q.provenance.title.get(l),
        q.provenance.document,
        q.provenance.edition
    );
    let _ = writeln!(o, "{}\n", q.provenance.notes.get(l));
    for d in &q.dimension {
        let _ = writeln!(o, "■ {} ({:.0})", d.name.get(l), d.points);
        for qq in q
            .question
            .iter()
            .filter(|x| q.dimension_of(x).is_some_and(|y| y.id == d.id))
        {
            let kind = match qq.kind {
                QuestionKind::Single => t(l, "单选", "single"),
                QuestionKind::Multi => t(l, "多选", "multi"),
                QuestionKind::Ratio => t(l, "填数", "figures"),
                QuestionKind::Trend => t(l, "前后对比", "before/after"),
            };
            let _ = writeln!(
                o,
                "  [{}] {} ({kind}, {:.2}) {}",
                qq.id,
                qq.name.get(l),
                qq.points,
                qq.text.get(l)
            );
            for op in &qq.option {
                let _ = writeln!(
                    o,
                    "      - {}: {} ({:.3})",
                    op.id,
                    op.text.get(l),
                    op.points
                );
            }
            if let Some(r) = &qq.ratio {
                let _ = writeln!(
                    o,
                    "      {} = {}; {} = {}",
                    r.numerator.id,
                    r.numerator.label.get(l),
                    r.denominator.id,
                    r.denominator.label.get(l)
                );
            }
            if let Some(tr) = &qq.trend {
                let base = tr
                    .base
                    .as_ref()
                    .map(|b| format!("; {} = {}", b.id, b.label.get(l)))
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "      before/after: {} = {}{base}",
                    tr.value.id,
                    tr.value.label.get(l)
                );
            }
        }
    }
    let _ = writeln!(
        o,
        "■ {}",
        t(
            l,
            "数字化经营：16 个业务场景，各评 0–4 级（★ 为约束性场景）",
            "Business scenarios: 16, each rated 0–4 (★ constrained)"
        )
    );
    for s in &q.scenario {
        let star = if s.constrained { "★" } else { " " };
        let _ = writeln!(o, "  {star}[{}] {}", s.id, s.name.get(l));
        for (i, lv) in s.levels.iter().enumerate() {
            let _ = writeln!(o, "      L{}: {}", i + 1, lv.get(l));
        }
    }
    let _ = writeln!(
        o,
        "■ {}",
        t(
            l,
            "定级规则（分数与场景条件同时满足）",
            "Level rule (score AND scenario conditions)"
        )
    );
    for lv in &q.level {
        let _ = writeln!(
            o,
            "  {}: {} ≥ {:.0}; {} ≥ {} @L{} ({} ★)",
            lv.name.get(l),
            t(l, "总分", "score"),
            lv.min_score,
            t(l, "场景", "scenarios"),
            lv.min_scenarios,
            lv.scenario_level,
            lv.min_constrained
        );
    }
    let _ = writeln!(
        o,
        "■ {}",
        t(
            l,
            "障碍问题（不计分，用于建议）",
            "Obstacle questions (not scored; they shape the advice)"
        )
    );
    for ob in &q.obstacle_question {
        let _ = writeln!(o, "  [{}] {}", ob.id, ob.text.get(l));
    }
    let _ = writeln!(
        o,
        "\n{}",
        t(
            l,
            "答卷格式见 examples/answers.toml",
            "Answers file format: see examples/answers.toml"
        )
    );
    out!("{o}");
    Ok(())
}

pub fn eval_cases(ctx: &Ctx) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let tok = Arc::new(ScenarioIndex::tokenizer(&kb));
    let rep = eval::evaluate(&kb, tok, &[1, 3, 5, 10], ctx.lang);
    let title = t(
        ctx.lang,
        &format!(
            "案例评估：{} 个报告案例，逐一留出（该案例的文本和独有场景不参与），输入只含企业事实与问题描述",
            rep.cases
        ),
        &format!(
            "Case evaluation: {} report cases, leave-one-out (the case's own text and unique scenarios are held out); input is the firm's facts and problem only",
            rep.cases
        ),
    );
    print_eval(ctx, &rep, &title)
}

pub fn eval_holdout(ctx: &Ctx, file: Option<&Path>) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let text = match file {
        Some(f) => std::fs::read_to_string(f).map_err(|e| {
            CliError::BadInput(ctx.t(
                &format!("无法读取 {}：{e}", f.display()),
                &format!("cannot read {}: {e}", f.display()),
            ))
        })?,
        None => smedx_kb::read_file(&smedx_kb::KbSource::Embedded, "eval/holdout.toml")
            .map_err(|e| CliError::Failed(anyhow::anyhow!("{e}")))?,
    };
    let set: eval::HoldoutFile = toml::from_str(&text).map_err(|e| {
        CliError::BadInput(ctx.t(
            &format!("评估集格式错误：{e}"),
            &format!("the evaluation set is not valid: {e}"),
        ))
    })?;
    let index = ScenarioIndex::build(&kb, None);
    let rep = eval::evaluate_holdout(&kb, &index, &set.case, &[1, 3, 5, 10], ctx.lang);
    let title = t(
        ctx.lang,
        &format!("独立评估集：{} 个不来自研究报告的企业情境", rep.cases),
        &format!(
            "Held-out evaluation: {} situations not taken from the report",
            rep.cases
        ),
    );
    print_eval(ctx, &rep, &title)
}

fn print_eval(ctx: &Ctx, rep: &eval::EvalReport, title: &str) -> Result<(), CliError> {
    if ctx.json {
        let s = serde_json::to_string_pretty(rep).map_err(|e| CliError::Failed(e.into()))?;
        outln!("{s}");
        return Ok(());
    }
    outln!("{title}");
    let l = ctx.lang;
    outln!(
        "| k  | smedx hit@k | smedx recall@k | random hit@k | random recall@k | most-common hit@k | most-common recall@k |"
    );
    outln!(
        "|----|-------------|----------------|--------------|-----------------|-------------------|----------------------|"
    );
    for i in 0..rep.smedx.len() {
        let (s, r, m) = (&rep.smedx[i], &rep.random[i], &rep.most_common[i]);
        outln!(
            "| {:<2} | {:>11.3} | {:>14.3} | {:>12.3} | {:>15.3} | {:>17.3} | {:>20.3} |",
            s.k,
            s.hit,
            s.recall,
            r.hit,
            r.recall,
            m.hit,
            m.recall
        );
    }
    let misses: Vec<&str> = rep
        .results
        .iter()
        .filter(|r| r.first_hit.is_none_or(|h| h > 5))
        .map(|r| r.case.as_str())
        .collect();
    if !misses.is_empty() {
        outln!(
            "{}{}",
            t(l, "前 5 未命中：", "not found in the top 5: "),
            misses.join(", ")
        );
    }
    Ok(())
}
