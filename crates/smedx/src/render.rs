//! Human-readable text and enriched JSON for the CLI.

use std::fmt::Write;

use serde_json::json;
use smedx_core::Lang;
use smedx_core::classify::{Classification, IndustryInfo};
use smedx_core::kb::KnowledgeBase;
use smedx_core::size::SizeResult;

/// "甲（乙）" in Chinese, "a (b)" in English.
fn paren(lang: Lang, a: &str, b: &str) -> String {
    match lang {
        Lang::Zh => format!("{a}（{b}）"),
        Lang::En => format!("{a} ({b})"),
    }
}

fn t(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// Renders a JSON entry as indented text, picking the chosen language out of `{zh, en}` pairs.
pub fn entry(_kb: &KnowledgeBase, v: &serde_json::Value, lang: Lang) -> String {
    let mut out = String::new();
    walk(&mut out, v, lang, 0, None);
    out
}

fn localized(v: &serde_json::Value, lang: Lang) -> Option<String> {
    let o = v.as_object()?;
    if o.len() == 2 && o.contains_key("zh") && o.contains_key("en") {
        let key = lang.code();
        return match &o[key] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(a) => Some(
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(" · "),
            ),
            _ => None,
        };
    }
    None
}

fn walk(out: &mut String, v: &serde_json::Value, lang: Lang, indent: usize, key: Option<&str>) {
    let pad = "  ".repeat(indent);
    let label = key.map(|k| format!("{k}: ")).unwrap_or_default();
    if let Some(s) = localized(v, lang) {
        let _ = writeln!(out, "{pad}{label}{s}");
        return;
    }
    match v {
        serde_json::Value::Object(o) => {
            if key.is_some() {
                let _ = writeln!(out, "{pad}{label}");
            }
            let inner = if key.is_some() { indent + 1 } else { indent };
            for (k, x) in o {
                walk(out, x, lang, inner, Some(k));
            }
        }
        serde_json::Value::Array(a) => {
            if a.iter().all(|x| x.is_string() || x.is_number()) {
                let items: Vec<String> = a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect();
                let _ = writeln!(out, "{pad}{label}{}", items.join(", "));
            } else if a.iter().all(|x| localized(x, lang).is_some()) {
                let items: Vec<String> = a.iter().filter_map(|x| localized(x, lang)).collect();
                let _ = writeln!(out, "{pad}{label}{}", items.join("；"));
            } else {
                let _ = writeln!(out, "{pad}{label}");
                for x in a {
                    let _ = writeln!(out, "{pad}  -");
                    walk(out, x, lang, indent + 2, None);
                }
            }
        }
        serde_json::Value::Null => {}
        other => {
            let s = other
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| other.to_string());
            let _ = writeln!(out, "{pad}{label}{s}");
        }
    }
}

pub fn size_block(
    kb: &KnowledgeBase,
    info: &IndustryInfo,
    sector: Option<&str>,
    group: &str,
    res: &SizeResult,
    lang: Lang,
) -> String {
    let mut o = String::new();
    let ind_name = info
        .name
        .as_ref()
        .map(|n| n.get(lang).to_string())
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "{}{} {}",
        t(lang, "行业：", "Industry: "),
        info.code.clone().unwrap_or_default(),
        ind_name
    );
    let sector_name = sector
        .and_then(|s| kb.sector(s))
        .map(|s| format!("{} ({})", s.name.get(lang), s.id))
        .unwrap_or_else(|| {
            t(
                lang,
                "（不属于十个细分行业）",
                "(none of the ten sub-sectors)",
            )
        });
    let group_name = kb
        .group(group)
        .map(|g| format!("{} ({})", g.name.get(lang), g.id))
        .unwrap_or_else(|| group.to_string());
    let _ = writeln!(o, "{}{sector_name}", t(lang, "细分行业：", "Sub-sector: "));
    let _ = writeln!(o, "{}{group_name}", t(lang, "行业大类：", "Group: "));
    let sme = if res.is_sme {
        t(lang, "属于中小企业", "an SME")
    } else {
        t(lang, "不属于中小企业", "not an SME")
    };
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "企业规模：", "Size class: "),
        paren(lang, res.size_class.name().get(lang), &sme)
    );
    let inds = res
        .rule
        .indicators
        .iter()
        .map(|i| i.id())
        .collect::<Vec<_>>()
        .join(" + ");
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "划型规则：", "Size rule: "),
        paren(lang, res.rule.category_name.get(lang), &inds)
    );
    for d in &res.rule.dropped {
        let short: Vec<&str> = d.short.iter().map(|i| i.id()).collect();
        let _ = writeln!(
            o,
            "  {} {}: {}",
            t(lang, "未达", "not"),
            d.tier.name().get(lang),
            t(
                lang,
                &format!("{} 低于下限", short.join("、")),
                &format!("{} below the lower bound", short.join(", "))
            )
        );
    }
    o
}

pub fn classification(kb: &KnowledgeBase, c: &Classification, lang: Lang) -> String {
    let mut o = size_block(
        kb,
        &c.industry,
        c.sector.as_deref(),
        &c.group,
        &c.size,
        lang,
    );
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "产品复杂度：", "Product complexity: "),
        paren(
            lang,
            c.complexity.value.name().get(lang),
            c.complexity.reason.get(lang)
        )
    );
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "产业链位置：", "Chain position: "),
        paren(
            lang,
            c.chain_position.value.name().get(lang),
            c.chain_position.reason.get(lang)
        )
    );
    let _ = writeln!(o, "{}", t(lang, "转型路径：", "Transformation paths:"));
    for p in &c.paths {
        let name = kb
            .path(&p.id)
            .map(|x| x.name.get(lang).to_string())
            .unwrap_or_default();
        let mode = kb
            .path_mode(&p.mode)
            .map(|(_, m)| m.name.get(lang).to_string())
            .unwrap_or_default();
        let star = if p.primary {
            t(lang, "【首选】", "[primary] ")
        } else {
            String::new()
        };
        let _ = writeln!(o, "  {star}{name} · {mode} ({})", p.mode);
        for r in &p.reasons {
            let _ = writeln!(o, "    - {}", r.text(kb, lang));
        }
    }
    o
}

/// Classification JSON with the path reasons' texts added for the chosen language.
pub fn classification_json(
    kb: &KnowledgeBase,
    c: &Classification,
    lang: Lang,
) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or(serde_json::Value::Null);
    if let Some(paths) = v.get_mut("paths").and_then(|p| p.as_array_mut()) {
        for (pj, pm) in paths.iter_mut().zip(&c.paths) {
            if let Some(rs) = pj.get_mut("reasons").and_then(|r| r.as_array_mut()) {
                for (rj, r) in rs.iter_mut().zip(&pm.reasons) {
                    if let Some(obj) = rj.as_object_mut() {
                        obj.insert("text".into(), json!(r.text(kb, lang)));
                    }
                }
            }
        }
    }
    v
}
