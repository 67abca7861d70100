//! The subcommands. Each loads what it needs, calls the engine and prints.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde::Serialize;
use serde_json::json;
use smedx_core::classify::{self, Classification};
use smedx_core::industry;
use smedx_core::kb::KnowledgeBase;
use smedx_core::profile::{self, Profile, Value};
use smedx_core::size::{self, Measures};
use smedx_core::{Lang, Localized};
use smedx_kb::KbSource;

use crate::CliError;
use crate::render;

pub struct Ctx {
    pub kb_dir: Option<PathBuf>,
    pub lang: Lang,
    pub json: bool,
}

impl Ctx {
    pub fn t(&self, zh: &str, en: &str) -> String {
        Localized::new(zh, en).get(self.lang).to_string()
    }

    pub fn load_kb(&self) -> Result<KnowledgeBase, CliError> {
        let source = match &self.kb_dir {
            Some(d) => KbSource::Dir(d.clone()),
            None => KbSource::Embedded,
        };
        smedx_kb::load(&source).map_err(|e| CliError::BadInput(e.to_string()))
    }

    fn print_json<T: Serialize>(&self, v: &T) -> Result<(), CliError> {
        let s = serde_json::to_string_pretty(v).map_err(|e| CliError::Failed(e.into()))?;
        outln!("{s}");
        Ok(())
    }
}

#[derive(Copy, Clone, ValueEnum)]
pub enum ListKind {
    Chains,
    Domains,
    Scenarios,
    Sectors,
    Groups,
    Cases,
    Paths,
    Obstacles,
}

pub fn kb_check(ctx: &Ctx) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let modes: usize = kb.paths.iter().map(|p| p.mode.len()).sum();
    let counts = [
        ("chains", kb.chains.len()),
        ("domains", kb.domains.len()),
        ("scenarios", kb.scenarios.len()),
        ("groups", kb.groups.len()),
        ("sectors", kb.sectors.len()),
        ("cases", kb.cases.len()),
        ("paths", kb.paths.len()),
        ("path_modes", modes),
        ("obstacles", kb.obstacles.len()),
        ("industry_sections", kb.sections.len()),
        ("industry_divisions", kb.divisions.len()),
        ("industry_mappings", kb.mappings.len()),
        ("size_categories", kb.size_standard.category.len()),
        ("synonym_groups", kb.synonyms.len()),
    ];
    if ctx.json {
        let mut m = serde_json::Map::new();
        m.insert("valid".into(), json!(true));
        for (k, v) in counts {
            m.insert(k.into(), json!(v));
        }
        return ctx.print_json(&m);
    }
    let src = match &ctx.kb_dir {
        Some(d) => d.display().to_string(),
        None => ctx.t("内置知识库", "built-in knowledge base"),
    };
    outln!("{} {src}", ctx.t("✓ 校验通过：", "✓ valid:"));
    for (k, v) in counts {
        outln!("  {k:<20} {v:>5}");
    }
    Ok(())
}

pub fn kb_list(ctx: &Ctx, kind: ListKind) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let l = ctx.lang;
    if ctx.json {
        return match kind {
            ListKind::Chains => ctx.print_json(&kb.chains),
            ListKind::Domains => ctx.print_json(&kb.domains),
            ListKind::Scenarios => ctx.print_json(&kb.scenarios),
            ListKind::Sectors => ctx.print_json(&kb.sectors),
            ListKind::Groups => ctx.print_json(&kb.groups),
            ListKind::Cases => ctx.print_json(&kb.cases),
            ListKind::Paths => ctx.print_json(&kb.paths),
            ListKind::Obstacles => ctx.print_json(&kb.obstacles),
        };
    }
    let rows: Vec<(String, String, String)> = match kind {
        ListKind::Chains => kb
            .chains
            .iter()
            .map(|c| (c.id.clone(), c.name.get(l).into(), String::new()))
            .collect(),
        ListKind::Domains => kb
            .domains
            .iter()
            .map(|d| (d.id.clone(), d.name.get(l).into(), d.chain.clone()))
            .collect(),
        ListKind::Scenarios => kb
            .scenarios
            .iter()
            .map(|s| {
                let extra = format!(
                    "{} · {} · {}",
                    s.effort.name().get(l),
                    ctx.t("成本", "cost") + " " + s.cost_tier.name().get(l),
                    s.size_fit
                        .iter()
                        .map(|x| x.name().get(l).to_string())
                        .collect::<Vec<_>>()
                        .join("/")
                );
                (s.id.clone(), s.name.get(l).into(), extra)
            })
            .collect(),
        ListKind::Sectors => kb
            .sectors
            .iter()
            .map(|s| (s.id.clone(), s.name.get(l).into(), s.group.clone()))
            .collect(),
        ListKind::Groups => kb
            .groups
            .iter()
            .map(|g| (g.id.clone(), g.name.get(l).into(), String::new()))
            .collect(),
        ListKind::Cases => kb
            .cases
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    c.company.get(l).into(),
                    c.scenarios.join(", "),
                )
            })
            .collect(),
        ListKind::Paths => kb
            .paths
            .iter()
            .flat_map(|p| {
                std::iter::once((p.id.clone(), p.name.get(l).to_string(), String::new())).chain(
                    p.mode.iter().map(|m| {
                        (
                            format!("  {}", m.id),
                            m.name.get(l).to_string(),
                            String::new(),
                        )
                    }),
                )
            })
            .collect(),
        ListKind::Obstacles => kb
            .obstacles
            .iter()
            .map(|o| {
                (
                    o.id.clone(),
                    o.name.get(l).into(),
                    format!("{:.0}%", o.share * 100.0),
                )
            })
            .collect(),
    };
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (id, name, extra) in &rows {
        if extra.is_empty() {
            outln!("{id:<w$}  {name}");
        } else {
            outln!("{id:<w$}  {name}  ({extra})");
        }
    }
    outln!("{} {}", rows.len(), ctx.t("条", "entries"));
    Ok(())
}

/// Finds an entry of any kind by id and returns its kind and JSON.
fn find_entry(kb: &KnowledgeBase, id: &str) -> Option<(&'static str, serde_json::Value)> {
    let to = |v: serde_json::Result<serde_json::Value>| v.ok();
    if let Some(x) = kb.scenario(id) {
        return to(serde_json::to_value(x)).map(|v| ("scenario", v));
    }
    if let Some(x) = kb.domain(id) {
        return to(serde_json::to_value(x)).map(|v| ("domain", v));
    }
    if let Some(x) = kb.chain(id) {
        return to(serde_json::to_value(x)).map(|v| ("chain", v));
    }
    if let Some(x) = kb.sector(id) {
        return to(serde_json::to_value(x)).map(|v| ("sector", v));
    }
    if let Some(x) = kb.group(id) {
        return to(serde_json::to_value(x)).map(|v| ("group", v));
    }
    if let Some(x) = kb.case(id) {
        return to(serde_json::to_value(x)).map(|v| ("case", v));
    }
    if let Some(x) = kb.path(id) {
        return to(serde_json::to_value(x)).map(|v| ("path", v));
    }
    if let Some((_, m)) = kb.path_mode(id) {
        return to(serde_json::to_value(m)).map(|v| ("path_mode", v));
    }
    if let Some(x) = kb.obstacle(id) {
        return to(serde_json::to_value(x)).map(|v| ("obstacle", v));
    }
    None
}

fn all_ids(kb: &KnowledgeBase) -> Vec<&str> {
    let mut v: Vec<&str> = Vec::new();
    v.extend(kb.scenarios.iter().map(|x| x.id.as_str()));
    v.extend(kb.domains.iter().map(|x| x.id.as_str()));
    v.extend(kb.chains.iter().map(|x| x.id.as_str()));
    v.extend(kb.sectors.iter().map(|x| x.id.as_str()));
    v.extend(kb.groups.iter().map(|x| x.id.as_str()));
    v.extend(kb.cases.iter().map(|x| x.id.as_str()));
    for p in &kb.paths {
        v.push(&p.id);
        v.extend(p.mode.iter().map(|m| m.id.as_str()));
    }
    v.extend(kb.obstacles.iter().map(|x| x.id.as_str()));
    v
}

pub fn kb_show(ctx: &Ctx, id: &str) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let Some((kind, value)) = find_entry(&kb, id) else {
        let hint = profile::suggest(id, all_ids(&kb))
            .map(|s| {
                ctx.t(
                    &format!("（是不是“{s}”？）"),
                    &format!(" (did you mean \"{s}\"?)"),
                )
            })
            .unwrap_or_default();
        return Err(CliError::BadInput(ctx.t(
            &format!("知识库中没有编号为“{id}”的条目{hint}"),
            &format!("no knowledge-base entry with id \"{id}\"{hint}"),
        )));
    };
    if ctx.json {
        return ctx.print_json(&json!({ "kind": kind, "entry": value }));
    }
    outln!("# {kind} {id}");
    out!("{}", render::entry(&kb, &value, ctx.lang));
    Ok(())
}

pub fn kb_export(ctx: &Ctx, dir: &Path) -> Result<(), CliError> {
    let files = smedx_kb::export(dir)
        .map_err(|e| CliError::Failed(anyhow::anyhow!("cannot write to {}: {e}", dir.display())))?;
    for f in &files {
        outln!("{}", f.display());
    }
    eprintln!(
        "{}",
        ctx.t(
            &format!(
                "已写出 {} 个文件；修改后用 --kb {} 加载",
                files.len(),
                dir.display()
            ),
            &format!(
                "wrote {} files; edit them and load with --kb {}",
                files.len(),
                dir.display()
            )
        )
    );
    Ok(())
}

pub fn classify(
    ctx: &Ctx,
    industry_arg: &str,
    employees: Option<f64>,
    revenue: Option<f64>,
    assets: Option<f64>,
) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let bad = |l: Localized| CliError::BadInput(l.get(ctx.lang).to_string());
    let input = if kb.sector(industry_arg).is_some() {
        profile::IndustryInput::Sector {
            sector: industry_arg.to_string(),
        }
    } else {
        profile::IndustryInput::Code {
            code: industry::parse_code(&kb, industry_arg).map_err(|e| bad(e.localized()))?,
        }
    };
    let (sector, group, info) = classify::placement(&kb, &input);
    let cat = profile::category_of(&kb, &input).map_err(|e| bad(e.localized()))?;
    let res = size::classify_size(cat, &Measures::from_yuan(employees, revenue, assets))
        .map_err(|e| bad(e.localized()))?;
    if ctx.json {
        return ctx.print_json(&json!({
            "industry": info,
            "size_class": res.size_class,
            "is_sme": res.is_sme,
            "sector": sector,
            "group": group,
            "rule": res.rule,
        }));
    }
    out!(
        "{}",
        render::size_block(&kb, &info, sector.as_deref(), &group, &res, ctx.lang)
    );
    Ok(())
}

/// Reads a profile file (TOML, or JSON when it ends in .json or starts with '{').
pub fn read_profile(ctx: &Ctx, kb: &KnowledgeBase, file: &Path) -> Result<Profile, CliError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::BadInput(ctx.t(
            &format!("无法读取 {}：{e}", file.display()),
            &format!("cannot read {}: {e}", file.display()),
        ))
    })?;
    let doc = parse_document(ctx, file, &text)?;
    profile::validate(kb, &doc).map_err(|errs| {
        let mut msg = ctx.t(
            &format!(
                "{} 中的企业画像有 {} 处问题：\n",
                file.display(),
                errs.0.len()
            ),
            &format!(
                "{}: the profile has {} problem(s):\n",
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
                e.field,
                e.message.get(ctx.lang)
            ));
        }
        CliError::BadInput(msg)
    })
}

/// Parses a TOML or JSON document into a format-neutral value.
pub fn parse_document(ctx: &Ctx, file: &Path, text: &str) -> Result<Value, CliError> {
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    if is_json {
        serde_json::from_str::<Value>(text).map_err(|e| {
            CliError::BadInput(ctx.t(
                &format!("{} 不是有效的 JSON：{e}", file.display()),
                &format!("{} is not valid JSON: {e}", file.display()),
            ))
        })
    } else {
        toml::from_str::<Value>(text).map_err(|e| {
            CliError::BadInput(ctx.t(
                &format!("{} 不是有效的 TOML：{e}", file.display()),
                &format!("{} is not valid TOML: {e}", file.display()),
            ))
        })
    }
}

pub fn classify_profile(
    ctx: &Ctx,
    kb: &KnowledgeBase,
    p: &Profile,
) -> Result<Classification, CliError> {
    classify::classify(kb, p)
        .map_err(|e| CliError::BadInput(e.localized().get(ctx.lang).to_string()))
}

pub fn profile_check(ctx: &Ctx, file: &Path) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let p = read_profile(ctx, &kb, file)?;
    let c = classify_profile(ctx, &kb, &p)?;
    if ctx.json {
        return ctx.print_json(&json!({ "profile": p, "classification": render::classification_json(&kb, &c, ctx.lang) }));
    }
    outln!("{}", ctx.t("✓ 企业画像有效", "✓ the profile is valid"));
    if let Some(n) = &p.name {
        outln!("{n}");
    }
    out!("{}", render::classification(&kb, &c, ctx.lang));
    Ok(())
}
