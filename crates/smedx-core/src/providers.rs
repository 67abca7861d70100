//! Solution providers' products: validation of what a provider enters, and the ranking of the
//! products that deliver a recommended scenario for one enterprise, with the reasons for each
//! place (explained the way recommendations are). Pure and deterministic: the caller passes the
//! products, the enterprise's situation and the outcome statistics it has stored.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::kb::{KnowledgeBase, SizeClass};
use crate::lang::{Lang, Localized};
use crate::profile::FieldError;

/// How a product is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployment {
    Saas,
    OnPremises,
    HardwareService,
}

impl Deployment {
    pub const ALL: [Deployment; 3] = [
        Deployment::Saas,
        Deployment::OnPremises,
        Deployment::HardwareService,
    ];
    pub fn id(self) -> &'static str {
        match self {
            Deployment::Saas => "saas",
            Deployment::OnPremises => "on_premises",
            Deployment::HardwareService => "hardware_service",
        }
    }
    pub fn parse(s: &str) -> Option<Deployment> {
        Deployment::ALL.into_iter().find(|d| d.id() == s.trim())
    }
}

/// How a product is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceModel {
    /// Yuan per user per month.
    PerUserMonth,
    /// Yuan once.
    OneOff,
    /// Yuan per device.
    PerDevice,
}

impl PriceModel {
    pub const ALL: [PriceModel; 3] = [
        PriceModel::PerUserMonth,
        PriceModel::OneOff,
        PriceModel::PerDevice,
    ];
    pub fn id(self) -> &'static str {
        match self {
            PriceModel::PerUserMonth => "per_user_month",
            PriceModel::OneOff => "one_off",
            PriceModel::PerDevice => "per_device",
        }
    }
    pub fn parse(s: &str) -> Option<PriceModel> {
        PriceModel::ALL.into_iter().find(|d| d.id() == s.trim())
    }
    /// What one user or one device costs in the first year, for comparing with a budget (a
    /// subscription runs twelve months; one-off and per-device prices are paid once).
    pub fn first_year(self, price: f64) -> f64 {
        match self {
            PriceModel::PerUserMonth => price * 12.0,
            PriceModel::OneOff | PriceModel::PerDevice => price,
        }
    }
}

/// A product as its provider entered it, not yet checked: text fields as typed, lists of ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductInput {
    pub name: String,
    pub description_zh: String,
    pub description_en: String,
    pub scenarios: Vec<String>,
    pub sectors: Vec<String>,
    pub sizes: Vec<String>,
    pub deployment: String,
    pub price_model: String,
    pub price_min: String,
    pub price_max: String,
    pub golive_weeks: String,
    pub references: String,
    pub levels: Vec<String>,
}

/// A checked product. Empty `sectors` or `sizes` mean "fits every sub-sector / size class".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductSpec {
    pub name: String,
    pub description_zh: String,
    pub description_en: String,
    pub scenarios: Vec<String>,
    pub sectors: Vec<String>,
    pub sizes: Vec<SizeClass>,
    pub deployment: Deployment,
    pub price_model: PriceModel,
    /// Yuan, in the unit of `price_model`; `price_min <= price_max`.
    pub price_min: f64,
    pub price_max: f64,
    /// Weeks from signing to going live.
    pub golive_weeks: u32,
    pub references: String,
    /// Digital levels (1–4) the product helps an enterprise reach.
    pub levels: Vec<u8>,
}

/// Longest product name, in characters.
pub const MAX_NAME: usize = 120;
/// Longest description or reference list, in characters.
pub const MAX_TEXT: usize = 2000;
/// Largest price accepted (yuan): one hundred million.
pub const MAX_PRICE: f64 = 1e8;
/// Longest time to go live accepted, in weeks (four years).
pub const MAX_WEEKS: u32 = 208;

fn err(field: &str, zh: String, en: String) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: Localized::new(zh, en),
        suggestion: None,
    }
}

fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> String {
    let v = value.trim();
    if required && v.is_empty() {
        errors.push(err(field, "必填".into(), "required".into()));
    } else if v.chars().count() > max {
        errors.push(err(
            field,
            format!("最多 {max} 个字符"),
            format!("at most {max} characters"),
        ));
    } else if v
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(err(
            field,
            "含有不可见的控制字符".into(),
            "contains control characters".into(),
        ));
    }
    v.to_owned()
}

fn price(errors: &mut Vec<FieldError>, field: &str, value: &str) -> Option<f64> {
    let v = value.trim().replace([',', '，'], "");
    if v.is_empty() {
        errors.push(err(
            field,
            "请填写价格（元）".into(),
            "enter a price (yuan)".into(),
        ));
        return None;
    }
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=MAX_PRICE).contains(&x) => Some(x),
        _ => {
            errors.push(err(
                field,
                format!("价格须为 0 至 {MAX_PRICE:.0} 之间的数字"),
                format!("the price must be a number from 0 to {MAX_PRICE:.0}"),
            ));
            None
        }
    }
}

/// Removes blanks and repeats, keeping the first occurrence's order.
fn unique(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let s = s.trim();
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// Checks a product against the knowledge base. Every problem is reported, each naming its field
/// (`name`, `scenarios`, `price_min` …); nothing is half-accepted.
pub fn validate_product(
    kb: &KnowledgeBase,
    input: &ProductInput,
) -> Result<ProductSpec, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = text(&mut errors, "name", &input.name, MAX_NAME, true);
    let description_zh = text(
        &mut errors,
        "description_zh",
        &input.description_zh,
        MAX_TEXT,
        true,
    );
    let description_en = text(
        &mut errors,
        "description_en",
        &input.description_en,
        MAX_TEXT,
        false,
    );
    let references = text(
        &mut errors,
        "references",
        &input.references,
        MAX_TEXT,
        false,
    );

    let scenarios = unique(&input.scenarios);
    if scenarios.is_empty() {
        errors.push(err(
            "scenarios",
            "请至少选择一个场景".into(),
            "choose at least one scenario".into(),
        ));
    }
    let unknown: Vec<&str> = scenarios
        .iter()
        .filter(|s| kb.scenario(s).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        errors.push(err(
            "scenarios",
            format!("知识库中没有这些场景：{}", unknown.join("、")),
            format!(
                "no such scenario in the knowledge base: {}",
                unknown.join(", ")
            ),
        ));
    }

    let sectors = unique(&input.sectors);
    let bad: Vec<&str> = sectors
        .iter()
        .filter(|s| kb.sector(s).is_none())
        .map(String::as_str)
        .collect();
    if !bad.is_empty() {
        errors.push(err(
            "sectors",
            format!("没有这些细分行业：{}", bad.join("、")),
            format!("no such sub-sector: {}", bad.join(", ")),
        ));
    }

    let mut sizes = Vec::new();
    for s in unique(&input.sizes) {
        match SizeClass::ALL.into_iter().find(|c| c.id() == s) {
            Some(c) => sizes.push(c),
            None => errors.push(err(
                "sizes",
                format!("未知的规模：{s}"),
                format!("unknown size class: {s}"),
            )),
        }
    }
    sizes.sort();

    let deployment = Deployment::parse(&input.deployment);
    if deployment.is_none() {
        errors.push(err(
            "deployment",
            "请选择部署方式".into(),
            "choose how it is deployed".into(),
        ));
    }
    let price_model = PriceModel::parse(&input.price_model);
    if price_model.is_none() {
        errors.push(err(
            "price_model",
            "请选择计价方式".into(),
            "choose a price model".into(),
        ));
    }
    let min = price(&mut errors, "price_min", &input.price_min);
    let max = price(&mut errors, "price_max", &input.price_max);
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        errors.push(err(
            "price_max",
            "最高价不能低于最低价".into(),
            "the highest price cannot be below the lowest".into(),
        ));
    }

    let weeks = match input.golive_weeks.trim().parse::<u32>() {
        Ok(w) if (1..=MAX_WEEKS).contains(&w) => Some(w),
        _ => {
            errors.push(err(
                "golive_weeks",
                format!("上线周期须为 1 至 {MAX_WEEKS} 周"),
                format!("time to go live must be 1 to {MAX_WEEKS} weeks"),
            ));
            None
        }
    };

    let mut levels = Vec::new();
    for l in unique(&input.levels) {
        match l.parse::<u8>() {
            Ok(n) if (1..=4).contains(&n) => levels.push(n),
            _ => errors.push(err(
                "levels",
                format!("数字化等级须为 1 至 4：{l}"),
                format!("digital levels are 1 to 4: {l}"),
            )),
        }
    }
    levels.sort_unstable();

    match (deployment, price_model, min, max, weeks) {
        (
            Some(deployment),
            Some(price_model),
            Some(price_min),
            Some(price_max),
            Some(golive_weeks),
        ) if errors.is_empty() => Ok(ProductSpec {
            name,
            description_zh,
            description_en,
            scenarios,
            sectors,
            sizes,
            deployment,
            price_model,
            price_min,
            price_max,
            golive_weeks,
            references,
            levels,
        }),
        _ => Err(errors),
    }
}

// ---- matching ------------------------------------------------------------------------------

/// What other enterprises reported after projects with a product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomeStats {
    /// Outcomes recorded.
    pub reported: u32,
    /// Of those, projects that went live.
    pub went_live: u32,
}

/// One product offered for matching, with what the ranking needs about its provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub product_id: i64,
    pub spec: ProductSpec,
    /// Six-digit GB/T 2260 codes the provider serves (a province code covers its cities and
    /// districts); empty = nationwide.
    pub regions: Vec<String>,
    pub outcomes: OutcomeStats,
}

/// The enterprise's side of a match, from its report and profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Need {
    pub sector: Option<String>,
    pub size: Option<SizeClass>,
    /// Yuan.
    pub budget: Option<f64>,
    /// Six-digit GB/T 2260 code of the enterprise's location.
    pub region: Option<String>,
    /// The enterprise's current digital level (0–4).
    pub level: Option<u8>,
}

/// Why a product ranks where it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MatchReason {
    /// It delivers the recommended scenario.
    Covers {
        scenario: String,
    },
    /// Made for the enterprise's sub-sector.
    SectorFit {
        sector: String,
    },
    /// Not tied to any sub-sector.
    AnySector,
    /// Made for other sub-sectors only.
    OtherSectors,
    SizeFit {
        size: SizeClass,
    },
    AnySize,
    OtherSizes,
    /// The whole price range fits the budget (first-year cost of one user or device).
    WithinBudget {
        budget: f64,
        first_year_max: f64,
    },
    /// Only the lower end of the range fits.
    PartlyWithinBudget {
        budget: f64,
        first_year_min: f64,
    },
    OverBudget {
        budget: f64,
        first_year_min: f64,
    },
    ServesRegion {
        region: String,
    },
    Nationwide,
    OutsideRegion,
    /// Outcomes other enterprises reported.
    Outcomes {
        went_live: u32,
        reported: u32,
    },
    /// Helps reach the enterprise's next digital level.
    NextLevel {
        level: u8,
    },
}

/// A ranked product: its id, its points, and the reasons (strongest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub product_id: i64,
    pub points: u32,
    pub reasons: Vec<MatchReason>,
}

// Points per factor. Sector and size fit matter most; budget next; region and reported outcomes
// break the remaining ties. An unrestricted product earns half of a specific fit.
const P_SECTOR: u32 = 30;
const P_SIZE: u32 = 20;
const P_BUDGET: u32 = 20;
const P_REGION: u32 = 15;
const P_OUTCOMES: u32 = 20;
const P_LEVEL: u32 = 5;

/// Whether a served region code covers the enterprise's (same code, or a province or city that
/// contains it).
pub fn region_covers(served: &str, code: &str) -> bool {
    let served = served.trim();
    if served.len() != 6 || code.len() != 6 {
        return false;
    }
    let prefix = if served.ends_with("0000") {
        &served[..2]
    } else if served.ends_with("00") {
        &served[..4]
    } else {
        served
    };
    code.starts_with(prefix)
}

fn score(scenario: &str, need: &Need, c: &Candidate) -> Match {
    let spec = &c.spec;
    let mut points = 0;
    let mut reasons = vec![MatchReason::Covers {
        scenario: scenario.to_owned(),
    }];

    if spec.sectors.is_empty() {
        points += P_SECTOR / 2;
        reasons.push(MatchReason::AnySector);
    } else if let Some(s) = need
        .sector
        .as_deref()
        .filter(|s| spec.sectors.iter().any(|x| x == s))
    {
        points += P_SECTOR;
        reasons.push(MatchReason::SectorFit {
            sector: s.to_owned(),
        });
    } else {
        reasons.push(MatchReason::OtherSectors);
    }

    if spec.sizes.is_empty() {
        points += P_SIZE / 2;
        reasons.push(MatchReason::AnySize);
    } else if let Some(size) = need.size.filter(|s| spec.sizes.contains(s)) {
        points += P_SIZE;
        reasons.push(MatchReason::SizeFit { size });
    } else {
        reasons.push(MatchReason::OtherSizes);
    }

    if let Some(budget) = need.budget.filter(|b| b.is_finite() && *b >= 0.0) {
        let lo = spec.price_model.first_year(spec.price_min);
        let hi = spec.price_model.first_year(spec.price_max);
        if hi <= budget {
            points += P_BUDGET;
            reasons.push(MatchReason::WithinBudget {
                budget,
                first_year_max: hi,
            });
        } else if lo <= budget {
            points += P_BUDGET / 2;
            reasons.push(MatchReason::PartlyWithinBudget {
                budget,
                first_year_min: lo,
            });
        } else {
            reasons.push(MatchReason::OverBudget {
                budget,
                first_year_min: lo,
            });
        }
    }

    if c.regions.is_empty() {
        points += P_REGION;
        reasons.push(MatchReason::Nationwide);
    } else if let Some(code) = need.region.as_deref() {
        if c.regions.iter().any(|r| region_covers(r, code)) {
            points += P_REGION;
            reasons.push(MatchReason::ServesRegion {
                region: code.to_owned(),
            });
        } else {
            reasons.push(MatchReason::OutsideRegion);
        }
    }

    let o = c.outcomes;
    if o.reported > 0 {
        let live = o.went_live.min(o.reported);
        // Rounded share of projects that went live, so the same figures always give the same
        // points.
        points += (P_OUTCOMES * live + o.reported / 2) / o.reported;
        reasons.push(MatchReason::Outcomes {
            went_live: live,
            reported: o.reported,
        });
    }

    if let Some(next) = need.level.map(|l| l.saturating_add(1)).filter(|l| *l <= 4)
        && spec.levels.contains(&next)
    {
        points += P_LEVEL;
        reasons.push(MatchReason::NextLevel { level: next });
    }

    Match {
        product_id: c.product_id,
        points,
        reasons,
    }
}

/// The products that deliver `scenario`, best fit first. Ties go to the lower price (first-year
/// cost of the range's lower end), then to the older product (smaller id), so the order is the
/// same every time. Products that do not deliver the scenario are left out.
pub fn rank(scenario: &str, need: &Need, candidates: &[Candidate]) -> Vec<Match> {
    let mut scored: Vec<(Match, f64)> = candidates
        .iter()
        .filter(|c| c.spec.scenarios.iter().any(|s| s == scenario))
        .map(|c| {
            (
                score(scenario, need, c),
                c.spec.price_model.first_year(c.spec.price_min),
            )
        })
        .collect();
    scored.sort_by(|(a, pa), (b, pb)| {
        b.points
            .cmp(&a.points)
            .then(pa.partial_cmp(pb).unwrap_or(Ordering::Equal))
            .then(a.product_id.cmp(&b.product_id))
    });
    scored.into_iter().map(|(m, _)| m).collect()
}

fn pick(lang: Lang, zh: String, en: String) -> String {
    Localized::new(zh, en).get(lang).to_string()
}

fn yuan(lang: Lang, x: f64) -> String {
    match lang {
        Lang::Zh if x >= 10_000.0 => format!("{:.1} 万元", x / 10_000.0),
        Lang::Zh => format!("{x:.0} 元"),
        Lang::En => format!("CNY {x:.0}"),
    }
}

impl MatchReason {
    /// One sentence, in the language asked for.
    pub fn text(&self, kb: &KnowledgeBase, lang: Lang) -> String {
        match self {
            MatchReason::Covers { scenario } => {
                let name = kb
                    .scenario(scenario)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| Localized::new(scenario.clone(), scenario.clone()));
                pick(
                    lang,
                    format!("提供推荐场景“{}”", name.zh),
                    format!("delivers the recommended scenario “{}”", name.en),
                )
            }
            MatchReason::SectorFit { sector } => {
                let n = kb
                    .sector(sector)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                pick(
                    lang,
                    format!("专为{}企业设计", n.zh),
                    format!("made for {} firms", n.en),
                )
            }
            MatchReason::AnySector => pick(
                lang,
                "适用于各细分行业".into(),
                "fits every sub-sector".into(),
            ),
            MatchReason::OtherSectors => pick(
                lang,
                "主要面向其他细分行业，排序靠后".into(),
                "made for other sub-sectors, ranked lower".into(),
            ),
            MatchReason::SizeFit { size } => {
                let n = size.name();
                pick(
                    lang,
                    format!("适合{}企业", n.zh),
                    format!("fits {} firms", n.en),
                )
            }
            MatchReason::AnySize => {
                pick(lang, "不限企业规模".into(), "fits firms of any size".into())
            }
            MatchReason::OtherSizes => pick(
                lang,
                "主要面向其他规模的企业，排序靠后".into(),
                "made for firms of another size, ranked lower".into(),
            ),
            MatchReason::WithinBudget {
                budget,
                first_year_max,
            } => pick(
                lang,
                format!(
                    "首年费用（按一个用户或一台设备计）最高 {}，在预算 {} 之内",
                    yuan(Lang::Zh, *first_year_max),
                    yuan(Lang::Zh, *budget)
                ),
                format!(
                    "first-year cost (one user or device) at most {}, within the budget of {}",
                    yuan(Lang::En, *first_year_max),
                    yuan(Lang::En, *budget)
                ),
            ),
            MatchReason::PartlyWithinBudget {
                budget,
                first_year_min,
            } => pick(
                lang,
                format!(
                    "基础配置首年 {} 起，在预算 {} 之内；高配可能超出",
                    yuan(Lang::Zh, *first_year_min),
                    yuan(Lang::Zh, *budget)
                ),
                format!(
                    "the basic set-up (from {} in the first year) fits the budget of {}; larger ones may not",
                    yuan(Lang::En, *first_year_min),
                    yuan(Lang::En, *budget)
                ),
            ),
            MatchReason::OverBudget {
                budget,
                first_year_min,
            } => pick(
                lang,
                format!(
                    "首年费用 {} 起，超出预算 {}，排序靠后",
                    yuan(Lang::Zh, *first_year_min),
                    yuan(Lang::Zh, *budget)
                ),
                format!(
                    "first-year cost from {}, above the budget of {}, ranked lower",
                    yuan(Lang::En, *first_year_min),
                    yuan(Lang::En, *budget)
                ),
            ),
            MatchReason::ServesRegion { .. } => pick(
                lang,
                "服务商覆盖贵企业所在地区".into(),
                "the provider serves your region".into(),
            ),
            MatchReason::Nationwide => pick(
                lang,
                "服务商面向全国提供服务".into(),
                "the provider serves the whole country".into(),
            ),
            MatchReason::OutsideRegion => pick(
                lang,
                "服务商未覆盖贵企业所在地区，排序靠后".into(),
                "the provider does not list your region, ranked lower".into(),
            ),
            MatchReason::Outcomes {
                went_live,
                reported,
            } => pick(
                lang,
                format!("其他企业反馈的 {reported} 个项目中有 {went_live} 个成功上线"),
                format!("{went_live} of {reported} projects other enterprises reported went live"),
            ),
            MatchReason::NextLevel { level } => pick(
                lang,
                format!("有助于达到数字化 {level} 级"),
                format!("helps reach digital level {level}"),
            ),
        }
    }
}

// ---- supply and demand --------------------------------------------------------------------

/// One enterprise's demand: its sub-sector, size class and the scenarios recommended to it in
/// stages 1–2.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    pub sector: Option<String>,
    pub size: Option<SizeClass>,
    pub scenarios: Vec<String>,
}

/// One product's supply, with its provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Supply {
    pub provider_id: i64,
    pub spec: ProductSpec,
}

/// Supply against demand for one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapRow {
    pub scenario: String,
    /// Enterprises with the scenario recommended in stages 1–2.
    pub demand: u32,
    /// Products delivering it, and their distinct providers.
    pub products: u32,
    pub providers: u32,
    /// Of the demanding enterprises, how many have at least one product fitting both their
    /// sub-sector and their size class.
    pub covered: u32,
    /// `demand - covered`: enterprises no listed product fits.
    pub uncovered: u32,
}

fn fits(spec: &ProductSpec, d: &Demand) -> bool {
    let sector_ok = spec.sectors.is_empty()
        || d.sector
            .as_deref()
            .is_some_and(|s| spec.sectors.iter().any(|x| x == s));
    let size_ok = spec.sizes.is_empty() || d.size.is_some_and(|s| spec.sizes.contains(&s));
    sector_ok && size_ok
}

/// One segment of a region: the enterprises of a sub-sector and/or size class, and the products
/// that fit them (a product for every sub-sector or size fits any).
pub fn segment(
    demand: &[Demand],
    supply: &[Supply],
    sector: Option<&str>,
    size: Option<SizeClass>,
) -> (Vec<Demand>, Vec<Supply>) {
    let d = demand
        .iter()
        .filter(|d| sector.is_none_or(|s| d.sector.as_deref() == Some(s)))
        .filter(|d| size.is_none_or(|s| d.size == Some(s)))
        .cloned()
        .collect();
    let s = supply
        .iter()
        .filter(|x| {
            sector
                .is_none_or(|s| x.spec.sectors.is_empty() || x.spec.sectors.iter().any(|y| y == s))
        })
        .filter(|x| size.is_none_or(|s| x.spec.sizes.is_empty() || x.spec.sizes.contains(&s)))
        .cloned()
        .collect();
    (d, s)
}

/// Per scenario (every scenario with demand or supply), demand against supply, largest gap first
/// (then most demand, then scenario id).
pub fn gaps(demand: &[Demand], supply: &[Supply]) -> Vec<GapRow> {
    let mut ids: Vec<&str> = demand
        .iter()
        .flat_map(|d| d.scenarios.iter())
        .chain(supply.iter().flat_map(|s| s.spec.scenarios.iter()))
        .map(String::as_str)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows: Vec<GapRow> = ids
        .into_iter()
        .map(|id| {
            let offered: Vec<&Supply> = supply
                .iter()
                .filter(|s| s.spec.scenarios.iter().any(|x| x == id))
                .collect();
            let mut providers: Vec<i64> = offered.iter().map(|s| s.provider_id).collect();
            providers.sort_unstable();
            providers.dedup();
            let wanting: Vec<&Demand> = demand
                .iter()
                .filter(|d| d.scenarios.iter().any(|x| x == id))
                .collect();
            let covered = wanting
                .iter()
                .filter(|d| offered.iter().any(|s| fits(&s.spec, d)))
                .count();
            let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
            GapRow {
                scenario: id.to_owned(),
                demand: n(wanting.len()),
                products: n(offered.len()),
                providers: n(providers.len()),
                covered: n(covered),
                uncovered: n(wanting.len() - covered),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.uncovered
            .cmp(&a.uncovered)
            .then(b.demand.cmp(&a.demand))
            .then(a.scenario.cmp(&b.scenario))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(scenarios: &[&str]) -> ProductSpec {
        ProductSpec {
            name: "P".into(),
            description_zh: "说明".into(),
            description_en: String::new(),
            scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
            sectors: vec![],
            sizes: vec![],
            deployment: Deployment::Saas,
            price_model: PriceModel::OneOff,
            price_min: 10_000.0,
            price_max: 20_000.0,
            golive_weeks: 4,
            references: String::new(),
            levels: vec![],
        }
    }

    fn cand(id: i64, spec: ProductSpec) -> Candidate {
        Candidate {
            product_id: id,
            spec,
            regions: vec![],
            outcomes: OutcomeStats::default(),
        }
    }

    fn ids(m: &[Match]) -> Vec<i64> {
        m.iter().map(|m| m.product_id).collect()
    }

    fn need() -> Need {
        Need {
            sector: Some("textile".into()),
            size: Some(SizeClass::Small),
            budget: None,
            region: Some("320506".into()),
            level: Some(1),
        }
    }

    const S: &str = "pl.transparency";

    #[test]
    fn no_products_no_matches() {
        assert!(rank(S, &need(), &[]).is_empty());
    }

    #[test]
    fn only_products_covering_the_scenario() {
        let c = [cand(1, spec(&["ops.erp"])), cand(2, spec(&[S, "ops.erp"]))];
        let m = rank(S, &need(), &c);
        assert_eq!(ids(&m), [2]);
        assert_eq!(m[0].reasons[0], MatchReason::Covers { scenario: S.into() });
    }

    #[test]
    fn sector_fit_beats_any_sector_beats_other_sector() {
        let mut other = spec(&[S]);
        other.sectors = vec!["metal".into()];
        let any = spec(&[S]);
        let mut fit = spec(&[S]);
        fit.sectors = vec!["metal".into(), "textile".into()];
        let m = rank(S, &need(), &[cand(1, other), cand(2, any), cand(3, fit)]);
        assert_eq!(ids(&m), [3, 2, 1]);
        assert!(m[0].reasons.contains(&MatchReason::SectorFit {
            sector: "textile".into()
        }));
        assert!(m[2].reasons.contains(&MatchReason::OtherSectors));
    }

    #[test]
    fn size_fit_orders() {
        let mut other = spec(&[S]);
        other.sizes = vec![SizeClass::Medium];
        let mut fit = spec(&[S]);
        fit.sizes = vec![SizeClass::Small];
        let m = rank(
            S,
            &need(),
            &[cand(1, other), cand(2, spec(&[S])), cand(3, fit)],
        );
        assert_eq!(ids(&m), [3, 2, 1]);
        assert!(m[2].reasons.contains(&MatchReason::OtherSizes));
    }

    #[test]
    fn budget_edges() {
        let mut n = need();
        n.budget = Some(20_000.0);
        // Exactly the budget is within it.
        let exact = spec(&[S]);
        let mut partly = spec(&[S]);
        partly.price_max = 20_001.0;
        let mut over = spec(&[S]);
        over.price_min = 20_001.0;
        over.price_max = 30_000.0;
        let m = rank(
            S,
            &n,
            &[cand(1, over.clone()), cand(2, partly), cand(3, exact)],
        );
        assert_eq!(ids(&m), [3, 2, 1]);
        assert!(matches!(m[0].reasons[3], MatchReason::WithinBudget { .. }));
        assert!(matches!(
            m[1].reasons[3],
            MatchReason::PartlyWithinBudget { .. }
        ));
        assert!(matches!(m[2].reasons[3], MatchReason::OverBudget { .. }));
        // A subscription counts twelve months: 2 000 a month is over a 20 000 budget.
        let mut sub = spec(&[S]);
        sub.price_model = PriceModel::PerUserMonth;
        sub.price_min = 2_000.0;
        sub.price_max = 2_000.0;
        let m = rank(S, &n, &[cand(1, sub)]);
        assert!(matches!(m[0].reasons[3], MatchReason::OverBudget { .. }));
        // A zero budget: only free products fit.
        n.budget = Some(0.0);
        let mut free = spec(&[S]);
        free.price_min = 0.0;
        free.price_max = 0.0;
        let m = rank(S, &n, &[cand(1, over), cand(2, free)]);
        assert_eq!(ids(&m), [2, 1]);
    }

    #[test]
    fn without_a_budget_price_gives_no_points_and_no_reason() {
        let m = rank(S, &need(), &[cand(1, spec(&[S]))]);
        assert!(!m[0].reasons.iter().any(|r| matches!(
            r,
            MatchReason::WithinBudget { .. }
                | MatchReason::PartlyWithinBudget { .. }
                | MatchReason::OverBudget { .. }
        )));
        let mut n = need();
        n.budget = Some(f64::NAN);
        assert_eq!(rank(S, &n, &[cand(1, spec(&[S]))]), m);
    }

    #[test]
    fn region_served_orders() {
        let mut far = cand(1, spec(&[S]));
        far.regions = vec!["110000".into()];
        let mut province = cand(2, spec(&[S]));
        province.regions = vec!["320000".into()];
        let m = rank(S, &need(), &[far, province]);
        assert_eq!(ids(&m), [2, 1]);
        assert!(m[1].reasons.contains(&MatchReason::OutsideRegion));
        assert!(region_covers("320500", "320506"));
        assert!(!region_covers("320500", "320600"));
        assert!(region_covers("320506", "320506"));
        assert!(!region_covers("32", "320506"));
    }

    #[test]
    fn reported_outcomes_order_and_round() {
        let mut good = cand(1, spec(&[S]));
        good.outcomes = OutcomeStats {
            reported: 3,
            went_live: 3,
        };
        let mut poor = cand(2, spec(&[S]));
        poor.outcomes = OutcomeStats {
            reported: 3,
            went_live: 1,
        };
        let none = cand(3, spec(&[S]));
        let m = rank(S, &need(), &[none, poor, good]);
        assert_eq!(ids(&m), [1, 2, 3]);
        assert_eq!(m[0].points - m[2].points, 20);
        assert_eq!(m[1].points - m[2].points, 7);
        // More "went live" than reported is clamped.
        let mut odd = cand(4, spec(&[S]));
        odd.outcomes = OutcomeStats {
            reported: 1,
            went_live: 5,
        };
        assert!(
            rank(S, &need(), &[odd])[0]
                .reasons
                .contains(&MatchReason::Outcomes {
                    went_live: 1,
                    reported: 1
                })
        );
    }

    #[test]
    fn next_level_counts() {
        let mut helps = spec(&[S]);
        helps.levels = vec![2];
        let mut wrong = spec(&[S]);
        wrong.levels = vec![4];
        let m = rank(S, &need(), &[cand(1, wrong), cand(2, helps)]);
        assert_eq!(ids(&m), [2, 1]);
        assert!(m[0].reasons.contains(&MatchReason::NextLevel { level: 2 }));
    }

    #[test]
    fn ties_go_to_the_lower_price_then_the_smaller_id() {
        let mut cheap = spec(&[S]);
        cheap.price_min = 5_000.0;
        let m = rank(
            S,
            &need(),
            &[cand(9, spec(&[S])), cand(7, spec(&[S])), cand(8, cheap)],
        );
        assert_eq!(ids(&m), [8, 7, 9]);
        assert_eq!(m[0].points, m[1].points);
    }

    #[test]
    fn an_unknown_enterprise_still_gets_an_order() {
        let m = rank(
            S,
            &Need::default(),
            &[cand(2, spec(&[S])), cand(1, spec(&[S]))],
        );
        assert_eq!(ids(&m), [1, 2]);
    }

    #[test]
    fn gaps_count_demand_supply_and_fit() {
        let d = |sector: &str, size, sc: &[&str]| Demand {
            sector: Some(sector.into()),
            size: Some(size),
            scenarios: sc.iter().map(|s| s.to_string()).collect(),
        };
        let demand = [
            d("textile", SizeClass::Small, &[S, "ops.erp"]),
            d("metal", SizeClass::Medium, &[S]),
            d("metal", SizeClass::Small, &["ops.erp"]),
        ];
        let mut textile_only = spec(&[S]);
        textile_only.sectors = vec!["textile".into()];
        let supply = [
            Supply {
                provider_id: 1,
                spec: textile_only.clone(),
            },
            Supply {
                provider_id: 1,
                spec: textile_only,
            },
            Supply {
                provider_id: 2,
                spec: spec(&["rd.cad"]),
            },
        ];
        let rows = gaps(&demand, &supply);
        let ids: Vec<&str> = rows.iter().map(|r| r.scenario.as_str()).collect();
        assert_eq!(ids, ["ops.erp", S, "rd.cad"]);
        assert_eq!(
            (rows[0].demand, rows[0].products, rows[0].uncovered),
            (2, 0, 2)
        );
        assert_eq!(
            (rows[1].demand, rows[1].products, rows[1].providers),
            (2, 2, 1)
        );
        assert_eq!((rows[1].covered, rows[1].uncovered), (1, 1));
        assert_eq!((rows[2].demand, rows[2].products), (0, 1));
        assert!(gaps(&[], &[]).is_empty());

        // The textile segment: one firm, the textile products and the one for every sector.
        let (d, s) = segment(&demand, &supply, Some("textile"), None);
        assert_eq!(d.len(), 1);
        assert_eq!(s.len(), 3);
        let (d, s) = segment(&demand, &supply, Some("metal"), Some(SizeClass::Small));
        assert_eq!(d.len(), 1);
        assert_eq!(s.len(), 1, "only the product for every sector");
        let rows = gaps(&d, &s);
        assert_eq!(rows[0].scenario, "ops.erp");
        assert_eq!((rows[0].demand, rows[0].uncovered), (1, 1));
        let (d, s) = segment(&demand, &supply, None, None);
        assert_eq!((d.len(), s.len()), (demand.len(), supply.len()));
    }
}
