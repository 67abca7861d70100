//! The regional workspace from the command line: `smedx report` (dashboard aggregates, JSON or a
//! readable table), `smedx demo generate` (synthetic enterprises and assessments), `smedx import`
//! (CSV or XLSX, all or nothing) and `smedx import --template`.
//!
//! Thin layers: parsing and validation of files is `smedx_io`'s, assessing is the engine's,
//! storing and aggregating (with small-group suppression) is `smedx_store`'s. The command line
//! runs with the operator's rights (`Scope::All`), narrowed by `--region` where given.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use clap::ValueEnum;
use rayon::prelude::*;
use serde_json::json;
use smedx_core::assessment;
use smedx_core::kb::KnowledgeBase;
use smedx_core::profile::{self, Value};
use smedx_core::recommend::Engine;
use smedx_core::{Lang, Localized};
use smedx_io::EnterpriseFields;
use smedx_store::aggregate::{Cell, Filters, ItemCounts};
use smedx_store::regional::{
    AssessmentBatch, AssessmentSource, Dashboard, ImportProblem, ImportProblemKind, ImportResult,
    NewCompletedAssessment, NewEnterpriseRecord, Prefetching,
};
use smedx_store::scope::{parse_date, parse_month};
use smedx_store::{AuditCtx, Location, RegionPrefix, Scope, Store, StoreError};

use crate::CliError;
use crate::commands::Ctx;

/// Rows per transaction of `smedx demo generate` (an import is one transaction whatever its size).
const DEMO_BATCH: u64 = 20_000;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SizeArg {
    Micro,
    Small,
    Medium,
    Large,
}

impl SizeArg {
    fn id(self) -> &'static str {
        match self {
            SizeArg::Micro => "micro",
            SizeArg::Small => "small",
            SizeArg::Medium => "medium",
            SizeArg::Large => "large",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    Csv,
    Xlsx,
}

/// What `smedx report` was asked for.
pub struct ReportArgs<'a> {
    pub data_dir: &'a Path,
    pub database: Option<&'a str>,
    pub region: Option<&'a str>,
    pub cluster: Option<&'a str>,
    pub sector: Option<&'a str>,
    pub size: Option<SizeArg>,
    pub campaign: Option<i64>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub target: Option<u8>,
    pub k: i64,
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(anyhow::anyhow!("starting the async runtime: {e}")))
}

fn store_err(ctx: &Ctx, e: StoreError) -> CliError {
    match e {
        StoreError::NotFound => CliError::BadInput(ctx.t(
            "找不到所指的记录（例如活动编号不存在）。",
            "not found (e.g. no campaign with that id).",
        )),
        StoreError::Invalid(m) => CliError::BadInput(format!("error: {m}")),
        other => CliError::Failed(anyhow::anyhow!(other)),
    }
}

/// Opens the store; with `must_exist`, a SQLite file that does not exist yet is an error (a
/// report of an empty new database would only hide a wrong path).
async fn open(
    ctx: &Ctx,
    data_dir: &Path,
    database: Option<&str>,
    must_exist: bool,
) -> Result<Arc<dyn Store>, CliError> {
    let url = database.unwrap_or("");
    let location =
        smedx_store::locate(url, data_dir).map_err(|e| CliError::BadInput(e.to_string()))?;
    if let (true, Location::SqliteFile(path)) = (must_exist, &location)
        && !path.is_file()
    {
        return Err(CliError::BadInput(ctx.t(
            &format!(
                "没有数据库：{}（用 --data-dir 或 --database 指定）",
                path.display()
            ),
            &format!(
                "no database at {} (point --data-dir or --database at one)",
                path.display()
            ),
        )));
    }
    smedx_store::open_url(url, data_dir)
        .await
        .map_err(|e| CliError::BadInput(e.to_string()))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn cli_audit(now: i64, what: &str) -> AuditCtx {
    AuditCtx {
        at: now,
        actor_user_id: None,
        ip: None,
        detail: format!("via=cli command={what}"),
    }
}

// ---- smedx report ---------------------------------------------------------------------------

fn filters(ctx: &Ctx, kb: &KnowledgeBase, a: &ReportArgs<'_>) -> Result<Filters, CliError> {
    let mut f = Filters::default();
    if let Some(r) = a.region {
        f.region = Some(RegionPrefix::parse(r).ok_or_else(|| {
            CliError::BadInput(ctx.t(
                &format!("--region {r}：应为 6 位行政区划代码（如 320500）或其前 2、4 位"),
                &format!(
                    "--region {r}: expected a six-digit GB/T 2260 code (e.g. 320500) or its first 2 or 4 digits"
                ),
            ))
        })?);
    }
    f.cluster = a.cluster.map(str::to_owned);
    if let Some(s) = a.sector {
        if kb.sector(s).is_some() {
            f.sector = Some(s.to_owned());
        } else if kb.group(s).is_some() {
            f.group = Some(s.to_owned());
        } else {
            let ids = kb
                .sectors
                .iter()
                .map(|x| x.id.as_str())
                .chain(kb.groups.iter().map(|g| g.id.as_str()));
            let hint = profile::suggest(s, ids)
                .map(|h| {
                    ctx.t(
                        &format!("（是不是“{h}”？）"),
                        &format!(" (did you mean \"{h}\"?)"),
                    )
                })
                .unwrap_or_default();
            return Err(CliError::BadInput(ctx.t(
                &format!(
                    "--sector {s}：不是细分行业或行业大类编号{hint}；见 smedx kb list sectors"
                ),
                &format!(
                    "--sector {s}: not a sub-sector or group id{hint}; see smedx kb list sectors"
                ),
            )));
        }
    }
    f.size = a.size.map(|s| s.id().to_owned());
    f.campaign = a.campaign;
    let month = |flag: &str, v: Option<&str>| -> Result<Option<i64>, CliError> {
        v.map(|m| {
            parse_month(m).ok_or_else(|| {
                CliError::BadInput(ctx.t(
                    &format!("{flag} {m}：应为年月 YYYY-MM"),
                    &format!("{flag} {m}: expected a month, YYYY-MM"),
                ))
            })
        })
        .transpose()
    };
    f.from_month = month("--from", a.from)?;
    f.to_month = month("--to", a.to)?;
    Ok(f)
}

/// `smedx report`: every dashboard aggregate of the scope, suppressed with k.
pub fn report(ctx: &Ctx, a: &ReportArgs<'_>) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let f = filters(ctx, &kb, a)?;
    let dashboard = runtime()?.block_on(async {
        let store = open(ctx, a.data_dir, a.database, true).await?;
        store
            .dashboard(&Scope::All, &f, a.target, a.k)
            .await
            .map_err(|e| store_err(ctx, e))
    })?;
    if ctx.json {
        let text = serde_json::to_string_pretty(&dashboard)
            .map_err(|e| CliError::Failed(anyhow::anyhow!(e)))?;
        outln!("{text}");
    } else {
        out!("{}", report_text(&kb, &dashboard, ctx.lang));
    }
    Ok(())
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Shown(v) => v.to_string(),
        Cell::Suppressed => "*".into(),
    }
}

fn stat(c: &Cell<f64>) -> String {
    match c {
        Cell::Shown(v) => format!("{v:.1}"),
        Cell::Suppressed => "*".into(),
    }
}

/// Text padded to a display width (CJK characters count twice).
fn pad(s: &str, width: usize) -> String {
    let w: usize = s
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn level_label(kb: &KnowledgeBase, level: usize, lang: Lang) -> String {
    let l = u8::try_from(level).unwrap_or(0);
    assessment::level_name(&kb.questionnaire, l)
        .get(lang)
        .to_string()
}

fn size_label(size: &str, lang: Lang) -> String {
    let (zh, en) = match size {
        "micro" => ("微型", "micro"),
        "small" => ("小型", "small"),
        "medium" => ("中型", "medium"),
        "large" => ("大型", "large"),
        other => (other, other),
    };
    Localized::new(zh, en).get(lang).to_string()
}

fn item_label(kb: &KnowledgeBase, items: &ItemCounts, id: &str, lang: Lang) -> String {
    use smedx_store::facts::ItemKind;
    let name = match items.kind {
        ItemKind::Recommended => kb.scenario(id).map(|s| s.name.get(lang).to_string()),
        ItemKind::Path => kb.path(id).map(|p| p.name.get(lang).to_string()),
        ItemKind::Obstacle => kb.obstacle(id).map(|o| o.name.get(lang).to_string()),
        ItemKind::PainWord => None,
    };
    name.unwrap_or_else(|| id.to_owned())
}

#[allow(clippy::too_many_lines)]
fn report_text(kb: &KnowledgeBase, d: &Dashboard, lang: Lang) -> String {
    use std::fmt::Write;
    let t = |zh: &str, en: &str| Localized::new(zh, en).get(lang).to_string();
    let mut s = String::new();
    let mut scope = Vec::new();
    if let Some(r) = &d.filters.region {
        scope.push(format!("{} {r}", t("地区", "region")));
    }
    if let Some(c) = &d.filters.cluster {
        scope.push(format!("{} {c}", t("集群", "cluster")));
    }
    if let Some(x) = d.filters.sector.as_ref().or(d.filters.group.as_ref()) {
        scope.push(format!("{} {x}", t("行业", "sector")));
    }
    if let Some(x) = &d.filters.size {
        scope.push(size_label(x, lang));
    }
    if let Some(c) = d.filters.campaign {
        scope.push(format!("{} #{c}", t("活动", "campaign")));
    }
    if d.filters.from_month.is_some() || d.filters.to_month.is_some() {
        let m = |v: Option<i64>| {
            v.map(|v| format!("{}-{:02}", v / 100, v % 100))
                .unwrap_or_default()
        };
        scope.push(format!(
            "{} {}…{}",
            t("月份", "months"),
            m(d.filters.from_month),
            m(d.filters.to_month)
        ));
    }
    let _ = writeln!(
        s,
        "{}  ({})",
        t("数字化水平报告", "Digital-level report"),
        if scope.is_empty() {
            t("全部企业", "all enterprises")
        } else {
            scope.join(" · ")
        }
    );
    let _ = writeln!(
        s,
        "{}",
        t(
            &format!("* = 少于 {} 家企业，不显示（--k 调整）", d.k),
            &format!("* = fewer than {} enterprises, not shown (see --k)", d.k)
        )
    );
    let p = &d.participation;
    let _ = writeln!(s);
    let _ = write!(s, "{} {}", t("企业", "Enterprises"), cell(&d.enterprises));
    let _ = write!(
        s,
        "  ·  {} {}",
        t("已完成评估", "assessed"),
        cell(&p.assessed)
    );
    if let Some(c) = &p.in_progress {
        let _ = write!(s, "  ·  {} {}", t("进行中", "in progress"), cell(c));
    }
    if let Some(c) = &p.not_started {
        let _ = write!(s, "  ·  {} {}", t("未开始", "not started"), cell(c));
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "\n{}", t("水平分布", "Levels"));
    for (i, c) in d.levels.levels.iter().enumerate() {
        let _ = writeln!(s, "  {} {:>8}", pad(&level_label(kb, i, lang), 14), cell(c));
    }
    let _ = writeln!(
        s,
        "  {} {:>8}",
        pad(&t("平均分", "mean score"), 14),
        stat(&d.levels.mean_score)
    );
    if !d.levels.by_sector_size.is_empty() {
        let _ = writeln!(s, "\n{}", t("按细分行业和规模", "By sub-sector and size"));
        let mut head = format!(
            "  {}{}{:>8}",
            pad(&t("行业", "sector"), 24),
            pad(&t("规模", "size"), 8),
            t("合计", "total")
        );
        for i in 0..5 {
            let _ = write!(head, " {:>8}", level_label(kb, i, lang));
        }
        let _ = writeln!(s, "{head}");
        for r in &d.levels.by_sector_size {
            let name = r
                .sector
                .as_deref()
                .and_then(|x| kb.sector(x).map(|x| x.name.get(lang).to_string()))
                .or_else(|| {
                    kb.group(&r.group)
                        .map(|g| format!("{}（{}）", g.name.get(lang), t("其他", "other")))
                })
                .unwrap_or_else(|| r.group.clone());
            let mut line = format!(
                "  {}{}{:>8}",
                pad(&name, 24),
                pad(&size_label(&r.size, lang), 8),
                cell(&r.total)
            );
            for c in &r.levels {
                let _ = write!(line, " {:>8}", cell(c));
            }
            let _ = writeln!(s, "{line}");
        }
    }

    let _ = writeln!(s, "\n{}", t("得分分布", "Scores"));
    for b in &d.scores.bins {
        let _ = writeln!(s, "  {:>3}–{:<3} {:>8}", b.from, b.to, cell(&b.count));
    }

    let _ = writeln!(
        s,
        "\n{}",
        t(
            "16 个业务场景的等级分布（0–4 级）",
            "The 16 business scenarios, rated 0–4"
        )
    );
    for sc in &d.scenarios.scenarios {
        let name = kb
            .questionnaire
            .scenario(&sc.scenario)
            .map(|x| x.name.get(lang).to_string())
            .unwrap_or_else(|| sc.scenario.clone());
        let mut line = format!("  {}", pad(&name, 20));
        for c in &sc.levels {
            let _ = write!(line, " {:>7}", cell(c));
        }
        let _ = writeln!(s, "{line}");
    }

    for (title, items) in [
        (
            t("最常推荐的场景", "Most recommended scenarios"),
            &d.recommended,
        ),
        (
            t("最常见的痛点词", "Most common pain-point words"),
            &d.pain_words,
        ),
        (t("转型路径", "Transformation paths"), &d.paths),
    ] {
        let _ = writeln!(s, "\n{title}");
        if items.items.is_empty() {
            let _ = writeln!(s, "  {}", t("（无）", "(none)"));
        }
        for i in &items.items {
            let _ = writeln!(
                s,
                "  {} {:>8}",
                pad(&item_label(kb, items, &i.item, lang), 28),
                cell(&i.count)
            );
        }
        if items.withheld > 0 {
            let _ = writeln!(
                s,
                "  {}",
                t(
                    &format!("另有 {} 项少于 k 家，不列出", items.withheld),
                    &format!("{} more under k, not listed", items.withheld)
                )
            );
        }
    }

    let _ = writeln!(s, "\n{}", t("按规模的障碍", "Obstacles by size"));
    for z in &d.obstacles_by_size.sizes {
        let list: Vec<String> = z
            .obstacles
            .iter()
            .map(|o| {
                let name = kb
                    .obstacle(&o.item)
                    .map_or(o.item.clone(), |x| x.name.get(lang).to_string());
                format!("{name} {}", cell(&o.count))
            })
            .collect();
        let _ = writeln!(
            s,
            "  {} ({}) {}",
            pad(&size_label(&z.size, lang), 6),
            cell(&z.assessed),
            list.join(" · ")
        );
    }

    if let Some(tt) = &d.target {
        let _ = writeln!(
            s,
            "\n{} {}",
            t("目标达成：", "Target:"),
            level_label(kb, usize::from(tt.target_level), lang)
        );
        let _ = writeln!(
            s,
            "  {} {:>8}",
            pad(&t("已达到", "meet it"), 16),
            cell(&tt.meets)
        );
        let _ = writeln!(
            s,
            "  {} {:>8}",
            pad(&t("差一个场景", "one scenario away"), 16),
            cell(&tt.one_away)
        );
        let _ = writeln!(
            s,
            "  {} {:>8}",
            pad(&t("差得更多", "further"), 16),
            cell(&tt.further)
        );
    }
    s
}

// ---- assessing rows -------------------------------------------------------------------------

/// Runs the engine on a row's documents: the completed assessment to store, or why not.
fn assess_row(
    engine: &Engine,
    lang: Lang,
    profile_doc: &Value,
    answers_doc: &Value,
    stored: (serde_json::Value, serde_json::Value),
    completed_at: i64,
) -> Result<NewCompletedAssessment, String> {
    let p = profile::validate(&engine.kb, profile_doc).map_err(|e| e.to_string())?;
    let a = assessment::parse_answers(&engine.kb.questionnaire, answers_doc)
        .map_err(|e| e.to_string())?;
    let report = engine
        .run(&p, Some(&a))
        .map_err(|e| e.localized().get(lang).to_string())?;
    let result = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    Ok(NewCompletedAssessment::new(
        &stored.0,
        &stored.1,
        &result,
        report.assessment.as_ref().map(|x| x.score),
        report.assessment.as_ref().map(|x| i64::from(x.level)),
        completed_at,
    ))
}

/// When a row says it was assessed: noon UTC of that day, else now.
fn completed_at(e: &EnterpriseFields, now: i64) -> i64 {
    e.assessed_on
        .as_deref()
        .and_then(parse_date)
        .map_or(now, |d| d * 86_400 + 12 * 3600)
}

fn record(row: usize, e: &EnterpriseFields) -> NewEnterpriseRecord {
    NewEnterpriseRecord {
        row,
        name: e.name.clone(),
        credit_code: e.credit_code.clone(),
        region_code: e.region.clone(),
        cluster_id: e.cluster.clone(),
    }
}

/// The assessments of an imported file, computed batch by batch (in parallel, the next batch
/// while the store writes the current one) as the store asks.
fn file_source(
    engine: Arc<Engine>,
    rows: Arc<Vec<smedx_io::ImportRow>>,
    lang: Lang,
    now: i64,
) -> Prefetching<impl Fn(std::ops::Range<usize>) -> AssessmentBatch + Send + Sync + 'static> {
    let n = rows.len();
    Prefetching::new(n, move |range: std::ops::Range<usize>| -> AssessmentBatch {
        rows.get(range)
            .unwrap_or_default()
            .par_iter()
            .map(|r| {
                if !r.has_answers {
                    return Ok(None);
                }
                assess_row(
                    &engine,
                    lang,
                    &r.profile(),
                    &r.answers(),
                    (r.profile_value(), r.answers_value()),
                    completed_at(&r.enterprise, now),
                )
                .map(Some)
            })
            .collect()
    })
}

/// Generated demo rows.
struct DemoSource<'a> {
    engine: &'a Engine,
    rows: &'a [smedx_io::demo::DemoRow],
    lang: Lang,
    now: i64,
}

impl AssessmentSource for DemoSource<'_> {
    fn assessments(
        &mut self,
        range: std::ops::Range<usize>,
    ) -> Vec<Result<Option<NewCompletedAssessment>, String>> {
        let (engine, lang, now) = (self.engine, self.lang, self.now);
        self.rows
            .get(range)
            .unwrap_or_default()
            .par_iter()
            .map(|r| {
                assess_row(
                    engine,
                    lang,
                    &r.profile,
                    &r.answers,
                    (r.profile_value(), r.answers_value()),
                    completed_at(&r.enterprise, now),
                )
                .map(Some)
            })
            .collect()
    }
}

fn problem_text(ctx: &Ctx, p: &ImportProblem) -> String {
    let v = &p.value;
    let msg = match p.kind {
        ImportProblemKind::InvalidRegion => ctx.t(
            &format!("“{v}”不是 6 位行政区划代码"),
            &format!("\"{v}\" is not a six-digit region code"),
        ),
        ImportProblemKind::RegionOutOfScope => ctx.t(
            &format!("地区 {v} 不在本次导入的地区范围内（--region）"),
            &format!("region {v} is outside the region of this import (--region)"),
        ),
        ImportProblemKind::UnknownCluster => ctx.t(
            &format!("没有编号为“{v}”的产业集群（请管理员先创建，或用 --create-clusters）"),
            &format!(
                "no cluster \"{v}\" (an administrator sets clusters up; or use --create-clusters)"
            ),
        ),
        ImportProblemKind::ClusterOutOfScope => ctx.t(
            &format!("集群“{v}”不属于本次导入的集群"),
            &format!("cluster \"{v}\" is not the cluster of this import"),
        ),
        ImportProblemKind::DuplicateCreditCode => ctx.t(
            &format!("统一社会信用代码 {v} 在前面的行里已出现过"),
            &format!("the credit code {v} appears on an earlier row"),
        ),
        ImportProblemKind::CreditCodeOutOfScope => ctx.t(
            &format!("统一社会信用代码 {v} 属于本地区以外的企业"),
            &format!("the credit code {v} belongs to an enterprise outside this region"),
        ),
        ImportProblemKind::MissingName => ctx.t("企业名称为空", "the enterprise name is empty"),
        ImportProblemKind::Assessment => ctx.t(
            &format!("无法评估：{v}"),
            &format!("cannot be assessed: {v}"),
        ),
    };
    ctx.t(
        &format!("第 {} 行（{}）：{msg}", p.row, p.field),
        &format!("row {} ({}): {msg}", p.row, p.field),
    )
}

fn rejected(ctx: &Ctx, problems: &[ImportProblem]) -> CliError {
    let mut lines = vec![ctx.t(
        &format!(
            "导入被拒绝，没有写入任何数据（{} 处问题）：",
            problems.len()
        ),
        &format!(
            "the import was rejected and nothing was stored ({} problems):",
            problems.len()
        ),
    )];
    lines.extend(
        problems
            .iter()
            .map(|p| format!("  {}", problem_text(ctx, p))),
    );
    CliError::BadInput(lines.join("\n"))
}

/// Progress on stderr: a line per step, overwritten on a terminal.
fn progress_line(
    ctx: &Ctx,
    verb_zh: &'static str,
    verb_en: &'static str,
) -> impl Fn(usize, usize) + Send + Sync {
    let tty = std::io::stderr().is_terminal();
    let lang = ctx.lang;
    let start = Instant::now();
    move |done: usize, all: usize| {
        let secs = start.elapsed().as_secs_f64();
        let text = match lang {
            Lang::Zh => format!("{verb_zh} {done}/{all}（{secs:.0} 秒）"),
            Lang::En => format!("{verb_en} {done}/{all} ({secs:.0} s)"),
        };
        if tty {
            eprint!("\r{text}   ");
            if done >= all {
                eprintln!();
            }
        } else {
            eprintln!("{text}");
        }
    }
}

// ---- smedx import ---------------------------------------------------------------------------

/// `smedx import --template csv|xlsx`: the template on stdout.
pub fn template(ctx: &Ctx, format: TemplateFormat) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    match format {
        TemplateFormat::Csv => {
            out!("{}", smedx_io::template_csv(&kb, ctx.lang));
            Ok(())
        }
        TemplateFormat::Xlsx => {
            if std::io::stdout().is_terminal() {
                return Err(CliError::BadInput(ctx.t(
                    "XLSX 是二进制文件，请重定向到文件：smedx import --template xlsx > 模板.xlsx",
                    "XLSX is binary: redirect it to a file, e.g. smedx import --template xlsx > template.xlsx",
                )));
            }
            let bytes = smedx_io::template_xlsx(&kb, ctx.lang)
                .map_err(|e| CliError::Failed(anyhow::anyhow!("{e}")))?;
            write_bytes(&bytes)
        }
    }
}

fn write_bytes(bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::Failed(anyhow::anyhow!(
            "cannot write the output: {e}"
        ))),
    }
}

/// `smedx import FILE`: validates the whole file, then stores it in one transaction or not at all.
pub fn import(
    ctx: &Ctx,
    file: &Path,
    data_dir: &Path,
    database: Option<&str>,
    region: Option<&str>,
    create_clusters: bool,
) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let scope = match region {
        None => Scope::All,
        Some(r) => Scope::Region(RegionPrefix::parse(r).ok_or_else(|| {
            CliError::BadInput(ctx.t(
                &format!("--region {r}：应为 6 位行政区划代码（如 320500）"),
                &format!("--region {r}: expected a six-digit region code (e.g. 320500)"),
            ))
        })?),
    };
    let bytes = std::fs::read(file).map_err(|e| {
        CliError::BadInput(ctx.t(
            &format!("无法读取 {}：{e}", file.display()),
            &format!("cannot read {}: {e}", file.display()),
        ))
    })?;
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let xlsx = ext == "xlsx" || (ext != "csv" && smedx_io::import::looks_like_xlsx(&bytes));
    let parsed = if xlsx {
        smedx_io::parse_xlsx(&bytes, &kb)
    } else {
        smedx_io::parse_csv(bytes.as_slice(), &kb)
    };
    drop(bytes);
    let batch = parsed.map_err(|errors| {
        CliError::BadInput(format!(
            "{}\n{}",
            ctx.t(
                &format!("{} 有错误，没有导入任何数据：", file.display()),
                &format!("{} has errors; nothing was imported:", file.display())
            ),
            errors.render(ctx.lang)
        ))
    })?;
    let records: Vec<NewEnterpriseRecord> = batch
        .rows
        .iter()
        .map(|r| record(r.row, &r.enterprise))
        .collect();
    let now = unix_now();
    let mut wanted: Vec<(String, String)> = Vec::new();
    if create_clusters {
        wanted = batch
            .rows
            .iter()
            .filter_map(|r| Some((r.enterprise.cluster.clone()?, r.enterprise.region.clone())))
            .collect();
        wanted.sort_unstable();
        wanted.dedup_by(|a, b| a.0 == b.0);
    }
    let mut source = file_source(
        Arc::new(Engine::new(kb)),
        Arc::new(batch.rows),
        ctx.lang,
        now,
    );
    let progress = progress_line(ctx, "导入中", "importing");
    let show = records.len() >= 5000;
    let result = runtime()?.block_on(async {
        let store = open(ctx, data_dir, database, false).await?;
        if !wanted.is_empty() {
            let wanted: Vec<(&str, &str)> = wanted
                .iter()
                .map(|(c, r)| (c.as_str(), r.as_str()))
                .collect();
            ensure_clusters(ctx, store.as_ref(), &wanted, now).await?;
        }
        store
            .import_enterprises(
                &scope,
                &records,
                &mut source,
                if show { Some(&progress) } else { None },
                now,
                &cli_audit(now, "import"),
            )
            .await
            .map_err(|e| store_err(ctx, e))
    })?;
    match result {
        ImportResult::Rejected { problems } => Err(rejected(ctx, &problems)),
        ImportResult::Imported(c) => {
            if ctx.json {
                outln!(
                    "{}",
                    json!({ "file": file.display().to_string(), "imported": c })
                );
            } else {
                outln!(
                    "{}",
                    ctx.t(
                        &format!(
                            "已导入 {} 行：新建企业 {} 家，更新已有企业 {} 家，评估 {} 份",
                            c.rows, c.enterprises_created, c.enterprises_matched, c.assessments
                        ),
                        &format!(
                            "imported {} rows: {} new enterprises, {} existing ones updated, {} assessments",
                            c.rows, c.enterprises_created, c.enterprises_matched, c.assessments
                        )
                    )
                );
            }
            Ok(())
        }
    }
}

/// Creates the clusters (id, region of a member) that do not exist yet, named by their id, in the
/// member's city.
async fn ensure_clusters(
    ctx: &Ctx,
    store: &dyn Store,
    wanted: &[(&str, &str)],
    now: i64,
) -> Result<(), CliError> {
    let known: std::collections::HashSet<String> = store
        .clusters(&Scope::All)
        .await
        .map_err(|e| store_err(ctx, e))?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for (id, region) in wanted {
        if known.contains(*id) {
            continue;
        }
        let city = format!("{}00", region.get(..4).unwrap_or("3200"));
        match store
            .create_cluster(id, id, &city, now, &cli_audit(now, "create-cluster"))
            .await
        {
            Ok(_) | Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(store_err(ctx, e)),
        }
    }
    Ok(())
}

// ---- smedx demo generate --------------------------------------------------------------------

/// `smedx demo generate --out FILE.csv`: the synthetic enterprises as an import file (headers
/// in --lang, UTF-8 with a byte-order mark so that spreadsheet programs read it as such).
pub fn demo_csv(ctx: &Ctx, enterprises: u64, seed: u64, out: &Path) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let file = std::fs::File::create(out).map_err(|e| {
        CliError::BadInput(ctx.t(
            &format!("无法写入 {}：{e}", out.display()),
            &format!("cannot write {}: {e}", out.display()),
        ))
    })?;
    let failed =
        |e: smedx_io::ExportError| CliError::Failed(anyhow::anyhow!("{}: {e}", out.display()));
    let mut writer =
        smedx_io::records::RecordCsvWriter::new(&kb, ctx.lang, std::io::BufWriter::new(file), true)
            .map_err(failed)?;
    let generator = smedx_io::demo::Generator::new(&kb, seed);
    let progress = progress_line(ctx, "生成中", "generating");
    let total = usize::try_from(enterprises).unwrap_or(usize::MAX);
    let mut start = 0u64;
    while start < enterprises {
        let end = (start + DEMO_BATCH).min(enterprises);
        let rows: Vec<smedx_io::demo::DemoRow> = (start..end)
            .into_par_iter()
            .map(|i| generator.row(i))
            .collect();
        for r in &rows {
            writer.write(r).map_err(failed)?;
        }
        progress(usize::try_from(end).unwrap_or(usize::MAX), total);
        start = end;
    }
    use std::io::Write;
    writer
        .finish()
        .map_err(failed)?
        .flush()
        .map_err(|e| CliError::Failed(anyhow::anyhow!("{}: {e}", out.display())))?;
    if ctx.json {
        outln!(
            "{}",
            json!({ "file": out.display().to_string(), "enterprises": enterprises, "seed": seed })
        );
    } else {
        outln!(
            "{}",
            ctx.t(
                &format!(
                    "已写入 {}：演示企业 {enterprises} 家（种子 {seed}）",
                    out.display()
                ),
                &format!(
                    "wrote {}: {enterprises} demo enterprises (seed {seed})",
                    out.display()
                )
            )
        );
    }
    Ok(())
}

/// `smedx demo generate`: synthetic enterprises with assessments, in transactions of 20,000.
pub fn demo_generate(
    ctx: &Ctx,
    enterprises: u64,
    seed: u64,
    data_dir: &Path,
    database: Option<&str>,
) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let engine = Engine::new(kb);
    let now = unix_now();
    let generator = smedx_io::demo::Generator::new(&engine.kb, seed);
    let progress = progress_line(ctx, "生成中", "generating");
    let total = usize::try_from(enterprises).unwrap_or(usize::MAX);
    let counts = runtime()?.block_on(async {
        let store = open(ctx, data_dir, database, false).await?;
        let mut created = 0usize;
        let mut assessed = 0usize;
        let mut known_clusters: std::collections::HashSet<String> =
            std::collections::HashSet::new();
        let mut start = 0u64;
        while start < enterprises {
            let end = (start + DEMO_BATCH).min(enterprises);
            let rows: Vec<smedx_io::demo::DemoRow> = (start..end)
                .into_par_iter()
                .map(|i| generator.row(i))
                .collect();
            let wanted: Vec<(&str, &str)> = rows
                .iter()
                .filter_map(|r| {
                    Some((
                        r.enterprise.cluster.as_deref()?,
                        r.enterprise.region.as_str(),
                    ))
                })
                .filter(|(c, _)| known_clusters.insert((*c).to_owned()))
                .collect();
            ensure_clusters(ctx, store.as_ref(), &wanted, now).await?;
            let records: Vec<NewEnterpriseRecord> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| record(usize::try_from(start).unwrap_or(0) + i + 1, &r.enterprise))
                .collect();
            let mut source = DemoSource {
                engine: &engine,
                rows: &rows,
                lang: ctx.lang,
                now,
            };
            let result = store
                .import_enterprises(
                    &Scope::All,
                    &records,
                    &mut source,
                    None,
                    now,
                    &cli_audit(now, "demo"),
                )
                .await
                .map_err(|e| store_err(ctx, e))?;
            match result {
                ImportResult::Imported(c) => {
                    created += c.enterprises_created;
                    assessed += c.assessments;
                }
                ImportResult::Rejected { problems } => return Err(rejected(ctx, &problems)),
            }
            progress(usize::try_from(end).unwrap_or(usize::MAX), total);
            start = end;
        }
        Ok::<_, CliError>((created, assessed))
    })?;
    if ctx.json {
        outln!(
            "{}",
            json!({ "enterprises": counts.0, "assessments": counts.1, "seed": seed })
        );
    } else {
        outln!(
            "{}",
            ctx.t(
                &format!(
                    "已生成演示企业 {} 家、评估 {} 份（种子 {seed}）",
                    counts.0, counts.1
                ),
                &format!(
                    "generated {} demo enterprises and {} assessments (seed {seed})",
                    counts.0, counts.1
                )
            )
        );
    }
    Ok(())
}
