//! Realistic synthetic enterprises and assessments, for demonstrations and load tests.
//!
//! Every row is computed from `(seed, index)` alone, so generation is deterministic per seed and
//! can be split by index across threads ([`Generator::row`]). The mix follows a manufacturing
//! region of Jiangsu:
//!
//! * **Sectors**: broad groups weighted equipment manufacturing 35 %, consumer goods 30 %, raw
//!   materials 20 %, electronics 15 %, over a built-in list of real GB/T 4754-2017 classes.
//! * **Size** (by the knowledge base's size standard for the drawn code): micro 22 %, small 40 %,
//!   medium 35 %, large 3 % — about 60 % micro and small, as among firms that take part in
//!   assessment campaigns. Employees and revenue fall inside the drawn class's bounds.
//! * **Regions**: real county-level GB/T 2260 codes of Jiangsu (32xxxx), weighted towards the
//!   manufacturing belt of Suzhou, Wuxi and Changzhou; clusters within those cities.
//! * **Levels**: a target level 0–4 is drawn (25 / 40 / 25 / 8 / 2 %); questionnaire answers are
//!   then chosen so the score falls inside that level's band, and scenario ratings so that the
//!   level's scenario conditions hold — `smedx_core::assessment::assess` gives back the drawn level
//!   (tested). Answers hang together: automatic data collection follows the better-rated
//!   scenarios, trend figures use the firm's own revenue and headcount, adopted scenarios are the
//!   ones that lift its rated indicator scenarios, obstacles follow the report's shares by size.

use std::collections::BTreeMap;

use smedx_core::KnowledgeBase;
use smedx_core::assessment::{Better, LevelRule, Measure, Question, QuestionKind, TrendSpec};
use smedx_core::industry;
use smedx_core::kb::{Bounds, ChainPosition, Complexity, Indicator, SizeClass};
use smedx_core::profile::Value;

use crate::credit;
use crate::import::{EnterpriseFields, num_value, wan_to_yuan};
use crate::records::Record;

/// One generated enterprise with its assessment. The documents are [`Value`] trees (about 16 KB a
/// row): stream rows (the iterator, or [`Generator::row`] by index) rather than collecting
/// millions of them.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRow {
    pub index: u64,
    /// The level the answers were built for (0 = below level 1).
    pub target_level: u8,
    /// Broad group of the industry code drawn.
    pub group: String,
    pub size_class: SizeClass,
    pub enterprise: EnterpriseFields,
    /// The profile document (money in yuan), valid for `smedx_core::profile::validate`.
    pub profile: Value,
    /// The answers document, valid for `smedx_core::assessment::parse_answers`.
    pub answers: Value,
}

impl DemoRow {
    /// The profile document as JSON (what the store keeps).
    pub fn profile_value(&self) -> serde_json::Value {
        crate::json::to_json(&self.profile)
    }
    /// The answers document as JSON (what the store keeps).
    pub fn answers_value(&self) -> serde_json::Value {
        crate::json::to_json(&self.answers)
    }
}

impl Record for DemoRow {
    fn enterprise(&self) -> &EnterpriseFields {
        &self.enterprise
    }
    fn profile(&self) -> std::borrow::Cow<'_, Value> {
        std::borrow::Cow::Borrowed(&self.profile)
    }
    fn answers(&self) -> std::borrow::Cow<'_, Value> {
        std::borrow::Cow::Borrowed(&self.answers)
    }
}

/// `n` rows for `seed`, in index order.
pub fn generate(kb: &KnowledgeBase, n: u64, seed: u64) -> impl Iterator<Item = DemoRow> + '_ {
    let g = Generator::new(kb, seed);
    (0..n).map(move |i| g.row(i))
}

// ---------------------------------------------------------------------------------------------
// Built-in reference lists
// ---------------------------------------------------------------------------------------------

/// Group weights of the generated population.
const GROUP_WEIGHTS: [(&str, f64); 4] = [
    ("equipment_mfg", 0.35),
    ("consumer_goods", 0.30),
    ("raw_materials", 0.20),
    ("electronics", 0.15),
];

/// Level distribution: below level 1, levels 1–4.
const LEVEL_WEIGHTS: [f64; 5] = [0.25, 0.40, 0.25, 0.08, 0.02];

const SIZE_WEIGHTS: [(SizeClass, f64); 4] = [
    (SizeClass::Micro, 0.22),
    (SizeClass::Small, 0.40),
    (SizeClass::Medium, 0.35),
    (SizeClass::Large, 0.03),
];

/// Real GB/T 4754-2017 manufacturing classes; their group comes from the knowledge base.
const INDUSTRY_CODES: &[&str] = &[
    // metal products, machinery, vehicles, electrical equipment, instruments
    "C3311", "C3312", "C3321", "C3340", "C3360", "C3391", "C3392", "C3399", "C3411", "C3421",
    "C3422", "C3441", "C3443", "C3444", "C3451", "C3453", "C3484", "C3489", "C3511", "C3523",
    "C3572", "C3670", "C3741", "C3744", "C3811", "C3823", "C3831", "C4011", "C4014",
    // food, textiles, apparel, shoes, furniture, paper, printing, toys, daily chemicals, medicine
    "C1411", "C1419", "C1469", "C1512", "C1711", "C1713", "C1751", "C1752", "C1761", "C1810",
    "C1820", "C1830", "C1951", "C1952", "C2110", "C2130", "C2231", "C2319", "C2452", "C2681",
    "C2682", "C2710",
    // chemicals, fibres, rubber and plastics, building materials, metals
    "C2614", "C2641", "C2651", "C2669", "C2822", "C2911", "C2922", "C2929", "C3011", "C3021",
    "C3041", "C3061", "C3130", "C3140", "C3216", "C3251", "C3252",
    // computers, communication equipment, consumer electronics, components
    "C3911", "C3914", "C3921", "C3922", "C3951", "C3961", "C3972", "C3973", "C3976", "C3981",
    "C3982", "C3985",
];

/// County-level codes of Jiangsu (GB/T 2260), the city's short name, and a weight.
const REGIONS: &[(&str, &str, f64)] = &[
    ("320102", "南京", 1.0),
    ("320111", "南京", 1.5),
    ("320115", "南京", 3.0),
    ("320205", "无锡", 2.5),
    ("320206", "无锡", 2.5),
    ("320211", "无锡", 2.0),
    ("320281", "江阴", 5.0),
    ("320282", "宜兴", 3.5),
    ("320303", "徐州", 1.0),
    ("320312", "徐州", 1.5),
    ("320382", "邳州", 1.5),
    ("320402", "常州", 1.5),
    ("320411", "常州", 3.5),
    ("320412", "常州", 5.0),
    ("320481", "溧阳", 2.0),
    ("320505", "苏州", 3.0),
    ("320506", "苏州", 3.5),
    ("320507", "苏州", 3.0),
    ("320509", "苏州", 4.5),
    ("320581", "常熟", 4.0),
    ("320582", "张家港", 4.0),
    ("320583", "昆山", 6.0),
    ("320585", "太仓", 2.5),
    ("320612", "南通", 2.5),
    ("320681", "启东", 1.5),
    ("320682", "如皋", 1.5),
    ("320685", "海安", 1.5),
    ("320707", "连云港", 1.0),
    ("320812", "淮安", 1.0),
    ("320981", "东台", 1.0),
    ("321012", "扬州", 1.5),
    ("321181", "丹阳", 2.0),
    ("321282", "靖江", 1.5),
    ("321311", "宿迁", 1.0),
];

/// Clusters: id and the prefecture (first four digits of the region code).
const CLUSTERS: &[(&str, &str)] = &[
    ("wuzhong-precision", "3205"),
    ("wujiang-textile", "3205"),
    ("kunshan-electronics", "3205"),
    ("changshu-apparel", "3205"),
    ("jiangyin-metal", "3202"),
    ("yixing-environment", "3202"),
    ("wujin-equipment", "3204"),
    ("changzhou-newenergy", "3204"),
    ("jiangning-intelligent", "3201"),
    ("nantong-textile", "3206"),
    ("danyang-optics", "3211"),
    ("xuzhou-machinery", "3203"),
];

const BRANDS: &[&str] = &[
    "恒达", "华盛", "金源", "宏远", "永信", "鑫泰", "瑞丰", "联创", "精工", "东方", "天成", "新亚",
    "汇丰", "中立", "通达", "盛世", "博远", "凯德", "美誉", "明辉", "隆鑫", "正泰", "华科", "嘉禾",
    "宝利", "君诚", "锦程", "海纳", "长江", "卓越", "同力", "兴业", "润泽", "和信", "佳利", "立信",
];

fn trades(group: &str) -> &'static [&'static str] {
    match group {
        "equipment_mfg" => &[
            "机械",
            "精密机械",
            "五金",
            "机电",
            "装备",
            "汽车零部件",
            "阀门",
            "电气",
        ],
        "consumer_goods" => &[
            "纺织", "服饰", "食品", "家居", "针织", "日化", "鞋业", "包装",
        ],
        "raw_materials" => &["新材料", "化工", "塑胶", "建材", "金属材料", "特钢", "铝业"],
        "electronics" => &["电子", "电子科技", "光电", "智能科技", "电路", "通信"],
        _ => &["实业"],
    }
}

const SUFFIXES: &[&str] = &[
    "有限公司",
    "有限公司",
    "有限公司",
    "股份有限公司",
    "制造有限公司",
];

/// Questions whose upper bands are rare in practice (digital spending above 10 % of revenue):
/// they stay in their lowest states unless nothing else can move the score.
const RARE_HIGH: &[&str] = &["funding"];

// ---------------------------------------------------------------------------------------------
// Random numbers (SplitMix64: tiny, fast, good enough, and splittable by index)
// ---------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn new(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03);
        r.next();
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }
    fn log_range(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.max(1e-9).ln() + (hi.max(lo * 1.000_001).ln() - lo.max(1e-9).ln()) * self.f()).exp()
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    (x * m).round() / m
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

struct IndustryChoice {
    code: String,
    sector: Option<String>,
    /// Tier lower bounds of the code's size category, and the indicators it uses.
    small: Bounds,
    medium: Bounds,
    large: Bounds,
    indicators: Vec<Indicator>,
}

/// How a question's answer moves the score: states in order of points.
struct Plan {
    /// Points of each state, non-decreasing (for multi questions the order of options is drawn
    /// per row, so these are recomputed then).
    points: Vec<f64>,
    rare: bool,
}

/// Precomputed lists for one knowledge base and seed; [`Generator::row`] is pure.
pub struct Generator<'a> {
    kb: &'a KnowledgeBase,
    seed: u64,
    groups: Vec<(String, f64, Vec<IndustryChoice>)>,
    region_weights: Vec<f64>,
    levels: Vec<LevelRule>,
    plans: Vec<Plan>,
}

impl<'a> Generator<'a> {
    pub fn new(kb: &'a KnowledgeBase, seed: u64) -> Generator<'a> {
        let mut groups: Vec<(String, f64, Vec<IndustryChoice>)> = GROUP_WEIGHTS
            .iter()
            .map(|(g, w)| (g.to_string(), *w, Vec::new()))
            .collect();
        for code in INDUSTRY_CODES {
            let Ok(parsed) = industry::parse_code(kb, code) else {
                continue;
            };
            let Ok(cat) = industry::size_category(kb, &parsed) else {
                continue;
            };
            let place = industry::place(kb, &parsed);
            if let Some(g) = groups.iter_mut().find(|(g, _, _)| *g == place.group) {
                g.2.push(IndustryChoice {
                    code: code.to_string(),
                    sector: place.sector,
                    small: cat.small,
                    medium: cat.medium,
                    large: cat.large,
                    indicators: cat.indicators.clone(),
                });
            }
        }
        groups.retain(|(_, _, codes)| !codes.is_empty());
        let mut levels = kb.questionnaire.level.clone();
        levels.sort_by_key(|l| l.level);
        let plans = kb
            .questionnaire
            .question
            .iter()
            .map(|q| Plan {
                points: static_points(q),
                rare: RARE_HIGH.contains(&q.id.as_str()),
            })
            .collect();
        Generator {
            kb,
            seed,
            groups,
            region_weights: REGIONS.iter().map(|r| r.2).collect(),
            levels,
            plans,
        }
    }

    /// The row at `index` (the same for the same seed, whatever else is generated).
    pub fn row(&self, index: u64) -> DemoRow {
        let kb = self.kb;
        let mut rng = Rng::new(self.seed, index);
        let target = rng.weighted(&LEVEL_WEIGHTS) as u8;
        let target = target.min(self.levels.last().map_or(0, |l| l.level));

        // --- who the firm is --------------------------------------------------------------------
        let gi = rng.weighted(&self.groups.iter().map(|g| g.1).collect::<Vec<_>>());
        let (group, _, codes) = &self.groups[gi];
        let ind = &codes[rng.below(codes.len())];
        let size = SIZE_WEIGHTS[rng.weighted(&SIZE_WEIGHTS.map(|s| s.1))].0;
        let (employees, revenue_wan, assets_wan) = size_figures(&mut rng, ind, size);
        let (region, city, _) = REGIONS[rng.weighted(&self.region_weights)];

        let sector = ind.sector.as_deref().and_then(|s| kb.sector(s));
        let typical_c = sector.map_or(Complexity::Medium, |s| s.typical_complexity);
        let typical_p = sector.map_or(ChainPosition::Midstream, |s| s.typical_position);
        let complexity = if rng.chance(0.8) {
            Some(if rng.chance(0.7) {
                typical_c
            } else {
                [Complexity::Low, Complexity::Medium, Complexity::High][rng.below(3)]
            })
        } else {
            None
        };
        let position = if rng.chance(0.8) {
            Some(if rng.chance(0.7) {
                typical_p
            } else {
                [
                    ChainPosition::Upstream,
                    ChainPosition::Midstream,
                    ChainPosition::Downstream,
                ][rng.below(3)]
            })
        } else {
            None
        };
        let in_cluster = rng.chance(0.4);
        let supplies_leader = rng.chance(0.3);
        let uses_platform = rng.chance(0.08 + 0.12 * f64::from(target));

        let name = format!(
            "{city}{}{}{}",
            BRANDS[rng.below(BRANDS.len())],
            trades(group)[rng.below(trades(group).len())],
            SUFFIXES[rng.below(SUFFIXES.len())]
        );
        let cluster = if in_cluster {
            let here: Vec<&str> = CLUSTERS
                .iter()
                .filter(|(_, p)| region.starts_with(p))
                .map(|(c, _)| *c)
                .collect();
            (!here.is_empty()).then(|| here[rng.below(here.len())].to_string())
        } else {
            None
        };
        let credit_code = credit_code(region, self.seed, index);
        let day = 20_089 + rng.below(670) as i64; // 2025-01-01 + up to ~22 months
        let (y, m, d) = civil(day);

        // --- the assessment -----------------------------------------------------------------------
        let ratings = self.ratings(&mut rng, target);
        let answers = self.answers(&mut rng, target, &ratings, employees, revenue_wan, size);

        // Adopted scenarios: those that lift the rated indicator scenarios to their level.
        let mut adopted: Vec<String> = Vec::new();
        for (s, &r) in kb.questionnaire.scenario.iter().zip(&ratings) {
            if r == 0 {
                continue;
            }
            for id in s.lifted_by(r) {
                if rng.chance(0.6) && !adopted.contains(id) && kb.scenario(id).is_some() {
                    adopted.push(id.clone());
                }
            }
        }

        // Pain points in the owner's words: phrases of scenarios the firm has not built.
        let pain = if rng.chance(0.7) {
            let candidates: Vec<&str> = kb
                .scenarios
                .iter()
                .filter(|s| !adopted.contains(&s.id))
                .flat_map(|s| s.pain_points.zh.iter().map(String::as_str))
                .collect();
            let n = 1 + rng.below(2);
            let mut parts: Vec<&str> = Vec::new();
            for _ in 0..n {
                if candidates.is_empty() {
                    break;
                }
                let p = candidates[rng.below(candidates.len())];
                if !parts.contains(&p) {
                    parts.push(p);
                }
            }
            (!parts.is_empty()).then(|| parts.join("，"))
        } else {
            None
        };
        let budget_wan = if rng.chance(0.75) {
            let (lo, hi) = match size {
                SizeClass::Micro => (0.5, 10.0),
                SizeClass::Small => (3.0, 60.0),
                SizeClass::Medium => (20.0, 400.0),
                SizeClass::Large => (100.0, 2000.0),
            };
            Some(round_to(rng.log_range(lo, hi), 1))
        } else {
            None
        };

        let mut p: BTreeMap<String, Value> = BTreeMap::new();
        p.insert("name".into(), Value::Str(name.clone()));
        p.insert("industry".into(), Value::Str(ind.code.clone()));
        p.insert("employees".into(), Value::Int(employees as i64));
        p.insert("revenue".into(), num_value(wan_to_yuan(revenue_wan)));
        if let Some(a) = assets_wan {
            p.insert("assets".into(), num_value(wan_to_yuan(a)));
        }
        if let Some(c) = complexity {
            p.insert("product_complexity".into(), Value::Str(c.id().into()));
        }
        if let Some(c) = position {
            p.insert("chain_position".into(), Value::Str(c.id().into()));
        }
        p.insert("in_cluster".into(), Value::Bool(in_cluster));
        p.insert("supplies_chain_leader".into(), Value::Bool(supplies_leader));
        p.insert("uses_platform".into(), Value::Bool(uses_platform));
        if !adopted.is_empty() {
            p.insert(
                "adopted".into(),
                Value::List(adopted.into_iter().map(Value::Str).collect()),
            );
        }
        if let Some(t) = pain {
            p.insert("pain_points".into(), Value::Str(t));
        }
        if let Some(b) = budget_wan {
            p.insert("budget".into(), num_value(wan_to_yuan(b)));
        }

        DemoRow {
            index,
            target_level: target,
            group: group.clone(),
            size_class: size,
            enterprise: EnterpriseFields {
                name,
                credit_code: Some(credit_code),
                region: region.to_string(),
                cluster,
                assessed_on: Some(format!("{y:04}-{m:02}-{d:02}")),
            },
            profile: Value::Table(p),
            answers,
        }
    }

    /// Scenario ratings (in questionnaire order) that meet the target level's scenario conditions.
    fn ratings(&self, rng: &mut Rng, target: u8) -> Vec<u8> {
        let scen = &self.kb.questionnaire.scenario;
        let n = scen.len();
        let Some(rule) = self.levels.iter().find(|l| l.level == target) else {
            // Below level 1: mostly not started, some first steps.
            return (0..n)
                .map(|_| [0u8, 1, 2][rng.weighted(&[0.55, 0.35, 0.10])])
                .collect();
        };
        let sl = rule.scenario_level.clamp(1, 4);
        let mut constrained: Vec<usize> = (0..n).filter(|&i| scen[i].constrained).collect();
        let mut others: Vec<usize> = (0..n).filter(|&i| !scen[i].constrained).collect();
        rng.shuffle(&mut constrained);
        rng.shuffle(&mut others);
        let need_c = (rule.min_constrained + [0, 0, 1, 2][rng.below(4)]).min(constrained.len());
        let need = (rule.min_scenarios + [0, 0, 1, 2, 3][rng.below(5)]).min(n);
        let mut chosen: Vec<usize> = constrained[..need_c].to_vec();
        let mut rest: Vec<usize> = constrained[need_c..]
            .iter()
            .chain(others.iter())
            .copied()
            .collect();
        rng.shuffle(&mut rest);
        let more = need.saturating_sub(chosen.len());
        chosen.extend(rest.iter().take(more));
        let mut out = vec![0u8; n];
        for (i, r) in out.iter_mut().enumerate() {
            *r = if chosen.contains(&i) {
                if sl < 4 && rng.chance(0.25) {
                    sl + 1
                } else {
                    sl
                }
            } else {
                let lo = sl.saturating_sub(2);
                let hi = sl - 1;
                if hi > lo && rng.chance(0.6) {
                    hi
                } else {
                    lo + (rng.below((hi - lo + 1) as usize) as u8)
                }
            };
        }
        out
    }

    fn answers(
        &self,
        rng: &mut Rng,
        target: u8,
        ratings: &[u8],
        employees: f64,
        revenue_wan: f64,
        size: SizeClass,
    ) -> Value {
        let kb = self.kb;
        let q = &kb.questionnaire;
        let lo = self
            .levels
            .iter()
            .find(|l| l.level == target)
            .map_or(0.0, |l| l.min_score);
        let hi = self
            .levels
            .iter()
            .find(|l| l.level > target)
            .map_or(101.0, |l| l.min_score);
        let (lo, hi) = (lo + 0.5, hi - 0.5);
        let goal = rng.range(lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.1);
        let total_max: f64 = q.question.iter().map(|x| x.points).sum::<f64>().max(1.0);
        let c = goal / total_max;

        let rating_of = |id: &str| -> u8 {
            q.scenario
                .iter()
                .position(|s| s.id == id)
                .map_or(0, |i| ratings[i])
        };
        // Per question: the order of multi options (better-rated areas first) and its states.
        let mut orders: Vec<Vec<usize>> = Vec::with_capacity(q.question.len());
        let mut points: Vec<Vec<f64>> = Vec::with_capacity(q.question.len());
        for (qi, question) in q.question.iter().enumerate() {
            if question.kind == QuestionKind::Multi {
                let mut keyed: Vec<(f64, usize)> = question
                    .option
                    .iter()
                    .enumerate()
                    .map(|(i, o)| (-(f64::from(rating_of(&o.id))) - rng.f() * 1.5, i))
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
                let mut pts = vec![0.0];
                let mut acc = 0.0;
                for &i in &order {
                    acc += question.option[i].points;
                    pts.push(acc.min(question.points));
                }
                orders.push(order);
                points.push(pts);
            } else {
                orders.push(Vec::new());
                points.push(self.plans[qi].points.clone());
            }
        }
        // Initial states near the firm's overall capability, then adjust into the band.
        let mut state: Vec<usize> = Vec::with_capacity(q.question.len());
        for (qi, question) in q.question.iter().enumerate() {
            let pts = &points[qi];
            if self.plans[qi].rare {
                state.push(if rng.chance(0.85) {
                    0
                } else {
                    1.min(pts.len() - 1)
                });
                continue;
            }
            let want = (c + rng.range(-0.2, 0.2)).clamp(0.0, 1.0) * question.points;
            let best = (0..pts.len())
                .min_by(|&a, &b| (pts[a] - want).abs().total_cmp(&(pts[b] - want).abs()))
                .unwrap_or(0);
            state.push(best);
        }
        let score = |state: &[usize]| -> f64 {
            state
                .iter()
                .enumerate()
                .map(|(qi, &s)| points[qi][s].min(q.question[qi].points))
                .sum()
        };
        let mut s = score(&state);
        for _ in 0..500 {
            if s < lo {
                let movable: Vec<usize> = (0..state.len())
                    .filter(|&qi| state[qi] + 1 < points[qi].len() && !self.plans[qi].rare)
                    .collect();
                let pool: Vec<usize> = if movable.is_empty() {
                    (0..state.len())
                        .filter(|&qi| state[qi] + 1 < points[qi].len())
                        .collect()
                } else {
                    movable
                };
                if pool.is_empty() {
                    break;
                }
                let qi = pool[rng.below(pool.len())];
                state[qi] += 1;
            } else if s > hi {
                let pool: Vec<usize> = (0..state.len()).filter(|&qi| state[qi] > 0).collect();
                if pool.is_empty() {
                    break;
                }
                let qi = pool[rng.below(pool.len())];
                state[qi] -= 1;
            } else {
                break;
            }
            s = score(&state);
        }

        // Realise each state as an answer.
        let mut a: BTreeMap<String, Value> = BTreeMap::new();
        for (qi, question) in q.question.iter().enumerate() {
            let st = state[qi];
            let v = match question.kind {
                QuestionKind::Single => {
                    let mut opts: Vec<&smedx_core::assessment::QOption> =
                        question.option.iter().collect();
                    opts.sort_by(|x, y| x.points.total_cmp(&y.points));
                    opts.get(st).map(|o| Value::Str(o.id.clone()))
                }
                QuestionKind::Multi => Some(Value::List(
                    orders[qi][..st]
                        .iter()
                        .map(|&i| Value::Str(question.option[i].id.clone()))
                        .collect(),
                )),
                QuestionKind::Ratio => ratio_answer(rng, question, st, employees, revenue_wan),
                QuestionKind::Trend => question
                    .trend
                    .as_ref()
                    .map(|spec| trend_answer(rng, spec, st, employees, revenue_wan)),
            };
            if let Some(v) = v {
                a.insert(question.id.clone(), v);
            }
        }
        let scen: BTreeMap<String, Value> = q
            .scenario
            .iter()
            .zip(ratings)
            .map(|(s, &r)| (s.id.clone(), Value::Int(i64::from(r))))
            .collect();
        a.insert("scenarios".into(), Value::Table(scen));
        let factor = match target {
            0 => 1.3,
            1 => 1.0,
            2 => 0.7,
            _ => 0.4,
        };
        let obst: BTreeMap<String, Value> = q
            .obstacle_question
            .iter()
            .map(|o| {
                let share = kb
                    .obstacle(&o.obstacle)
                    .map_or(0.3, |ob| ob.by_size.get(&size).copied().unwrap_or(ob.share));
                (
                    o.id.clone(),
                    Value::Bool(rng.chance((share * factor).min(0.95))),
                )
            })
            .collect();
        a.insert("obstacles".into(), Value::Table(obst));
        Value::Table(a)
    }
}

/// Points of each state of a non-multi question, ascending.
fn static_points(q: &Question) -> Vec<f64> {
    match q.kind {
        QuestionKind::Single => {
            let mut p: Vec<f64> = q.option.iter().map(|o| o.points).collect();
            p.sort_by(f64::total_cmp);
            p
        }
        QuestionKind::Multi => vec![0.0],
        QuestionKind::Ratio => q
            .ratio
            .as_ref()
            .map_or(vec![0.0], |r| r.bands.iter().map(|b| b.points).collect()),
        QuestionKind::Trend => q.trend.as_ref().map_or(vec![0.0], |t| {
            let mut p = vec![t.points.worse, t.points.flat, t.points.better];
            p.sort_by(f64::total_cmp);
            p
        }),
    }
}

/// Employees, revenue (万元) and assets (万元, sometimes absent) inside the size class's bounds.
fn size_figures(rng: &mut Rng, ind: &IndustryChoice, size: SizeClass) -> (f64, f64, Option<f64>) {
    let b = |bounds: &Bounds, i: Indicator| bounds.get(i);
    let range = |i: Indicator, fallback: (f64, f64)| -> (f64, f64) {
        match size {
            SizeClass::Micro => (fallback.0, b(&ind.small, i).unwrap_or(fallback.1)),
            SizeClass::Small => (
                b(&ind.small, i).unwrap_or(fallback.0),
                b(&ind.medium, i).unwrap_or(fallback.1),
            ),
            SizeClass::Medium => (
                b(&ind.medium, i).unwrap_or(fallback.0),
                b(&ind.large, i).unwrap_or(fallback.1),
            ),
            SizeClass::Large => {
                let lo = b(&ind.large, i).unwrap_or(fallback.0);
                (lo, lo * 3.0)
            }
        }
    };
    let (e_lo, e_hi) = range(Indicator::Employees, (3.0, 20.0));
    let (r_lo, r_hi) = range(Indicator::Revenue, (20.0, 300.0));
    let e_lo = e_lo.max(3.0);
    let employees = rng
        .log_range(e_lo, e_hi)
        .floor()
        .clamp(e_lo, (e_hi - 1.0).max(e_lo));
    let per_head = rng.log_range(25.0, 120.0);
    let mut revenue = round_to(employees * per_head, 1);
    if revenue < r_lo {
        revenue = round_to(rng.range(r_lo, r_lo + (r_hi - r_lo) * 0.3), 1).max(r_lo);
    }
    if revenue >= r_hi {
        revenue = round_to(rng.range(r_lo + (r_hi - r_lo) * 0.7, r_hi), 1);
        if revenue >= r_hi {
            revenue = r_hi - 0.1;
        }
    }
    let needs_assets = ind.indicators.contains(&Indicator::Assets);
    let assets = if needs_assets || rng.chance(0.7) {
        let (a_lo, a_hi) = if needs_assets {
            range(Indicator::Assets, (10.0, 300.0))
        } else {
            (revenue * 0.5, revenue * 1.5)
        };
        let mut a = round_to(rng.range(a_lo, a_hi), 1);
        if needs_assets && a >= a_hi {
            a = a_hi - 0.1;
        }
        Some(a.max(a_lo).max(0.1))
    } else {
        None
    };
    (employees, revenue, assets)
}

/// A credit code with the region in positions 3–8 and a unique 9-character body per (seed, index).
fn credit_code(region: &str, seed: u64, index: u64) -> String {
    const BASE: u64 = 31;
    const SPACE: u64 = 27_512_614_111; // 31^7
    const A: u64 = 2_654_435_761; // not a multiple of 31: index ↦ A·index + B is a bijection mod 31^7
    let b = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16) % SPACE;
    let mut x = ((u128::from(index) * u128::from(A) + u128::from(b)) % u128::from(SPACE)) as u64;
    let chars = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut body = [b'0'; 7];
    for slot in body.iter_mut().rev() {
        *slot = chars[(x % BASE) as usize];
        x /= BASE;
    }
    let first17 = format!(
        "91{region}MA{}",
        std::str::from_utf8(&body).unwrap_or("0000000")
    );
    credit::with_check(&first17).unwrap_or(first17)
}

/// The figures of a ratio question placing the rate in band `state`.
fn ratio_answer(
    rng: &mut Rng,
    q: &Question,
    state: usize,
    employees: f64,
    revenue_wan: f64,
) -> Option<Value> {
    let spec = q.ratio.as_ref()?;
    let band_hi = spec.bands.get(state)?.up_to;
    let band_lo = if state == 0 {
        -1.0
    } else {
        spec.bands[state - 1].up_to
    };
    let money = spec.denominator.label.zh.contains("万元");
    let in_band = |r: f64| r > band_lo + 1e-9 && r <= band_hi;
    let (num, den) = if money {
        let den = round_to(revenue_wan * rng.range(0.85, 1.0), 1).max(1.0);
        let lo = band_lo.max(0.0);
        let mut r = if state == 0 {
            rng.range(0.002, band_hi * 0.9)
        } else {
            rng.range(lo + (band_hi - lo) * 0.1, band_hi * 0.98)
        };
        let mut num = round_to(den * r, 2);
        if !in_band(num / den) {
            r = (lo + band_hi) / 2.0;
            num = round_to(den * r, 2);
        }
        (num, den)
    } else {
        let mut total = (employees * rng.range(0.15, 0.6)).round().max(3.0);
        loop {
            let lo_k = if state == 0 {
                0.0
            } else {
                (band_lo * total).floor() + 1.0
            };
            let hi_k = (band_hi * total).floor().min(total);
            let ks: Vec<f64> = (lo_k as i64..=hi_k as i64)
                .map(|k| k as f64)
                .filter(|&k| in_band(k / total))
                .collect();
            if !ks.is_empty() {
                break (ks[rng.below(ks.len())], total);
            }
            total += 1.0;
            if total > 1e6 {
                return None;
            }
        }
    };
    let mut t = BTreeMap::new();
    t.insert(spec.numerator.id.clone(), num_value(num));
    t.insert(spec.denominator.id.clone(), num_value(den));
    Some(Value::Table(t))
}

/// The direction the engine reads from two measures (mirrors `assessment::trend`).
fn direction(spec: &TrendSpec, before: f64, after: f64) -> usize {
    let change = if before.abs() > f64::EPSILON {
        (after - before) / before.abs()
    } else if after.abs() <= f64::EPSILON {
        0.0
    } else {
        after.signum()
    };
    if change.abs() <= spec.flat_tolerance {
        1
    } else if (change < 0.0) == (spec.better == Better::Lower) {
        2
    } else {
        0
    }
}

/// Figures for a trend question giving the state's direction (0 worse, 1 flat, 2 better, by
/// points; the firm's own revenue and headcount are used where the question asks for them).
fn trend_answer(
    rng: &mut Rng,
    spec: &TrendSpec,
    state: usize,
    employees: f64,
    revenue_wan: f64,
) -> Value {
    // States are sorted by points; map back to the direction that earns them.
    let mut dirs = [
        (spec.points.worse, 0usize),
        (spec.points.flat, 1),
        (spec.points.better, 2),
    ];
    dirs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let want = dirs[state.min(2)].1;
    let growth = rng.range(0.92, 1.2);
    let percent = spec.value.label.zh.contains('%');
    for attempt in 0..8 {
        let widen = 1.0 + attempt as f64 * 0.5;
        let magnitude = rng.range(0.02, 0.08) * widen;
        let up = match (want, spec.better) {
            (1, _) => 0.0,
            (2, Better::Higher) | (0, Better::Lower) => 1.0,
            _ => -1.0,
        };
        let change = if want == 1 {
            rng.range(-0.003, 0.003)
        } else {
            up * magnitude
        };
        let fig = |x: f64| {
            if x < 10.0 {
                round_to(x, 3)
            } else {
                round_to(x, 2)
            }
        };
        let out = match (&spec.base, spec.measure) {
            (Some(base), Measure::Per100Yuan | Measure::PerHead) => {
                let facts = |id: &str, after: bool| -> Option<f64> {
                    match id {
                        "revenue" => Some(if after {
                            revenue_wan
                        } else {
                            fig(revenue_wan / growth)
                        }),
                        "employees" => Some(if after {
                            employees
                        } else {
                            (employees * rng_free_jitter(employees)).round().max(1.0)
                        }),
                        _ => None,
                    }
                };
                let base_a = facts(&base.id, true).unwrap_or(100.0);
                let base_b = facts(&base.id, false).unwrap_or(100.0 / growth);
                let intensity = match spec.value.id.as_str() {
                    "energy" => rng.log_range(0.02, 0.4),
                    "cost" => rng.range(0.70, 0.92),
                    _ => rng.range(0.1, 1.0),
                };
                let value_a = facts(&spec.value.id, true).unwrap_or(fig(intensity * base_a));
                let m_a = value_a / base_a;
                let m_b = m_a / (1.0 + change);
                let value_b = fig(m_b * base_b);
                let measure = |v: f64, b: f64| match spec.measure {
                    Measure::Per100Yuan => v / (b * 100.0),
                    _ => v / b,
                };
                if direction(spec, measure(value_b, base_b), measure(value_a, base_a)) != want
                    || value_b <= 0.0
                {
                    continue;
                }
                let period = |v: f64, b: f64| {
                    let mut t = BTreeMap::new();
                    t.insert(spec.value.id.clone(), num_value(v));
                    t.insert(base.id.clone(), num_value(b));
                    Value::Table(t)
                };
                let mut t = BTreeMap::new();
                t.insert("before".into(), period(value_b, base_b));
                t.insert("after".into(), period(value_a, base_a));
                Value::Table(t)
            }
            _ => {
                let (before, after) = if percent {
                    let before = round_to(rng.range(88.0, 97.0), 2);
                    let ch = if change > 0.0 {
                        change.min(99.9 / before - 1.0)
                    } else {
                        change
                    };
                    (before, round_to((before * (1.0 + ch)).min(99.9), 2))
                } else {
                    let before = fig(rng.log_range(10.0, 1000.0));
                    (before, fig(before * (1.0 + change)))
                };
                if direction(spec, before, after) != want {
                    continue;
                }
                let mut t = BTreeMap::new();
                t.insert("before".into(), num_value(before));
                t.insert("after".into(), num_value(after));
                Value::Table(t)
            }
        };
        return out;
    }
    // Unreachable in practice; a flat answer is always constructible.
    let mut t = BTreeMap::new();
    match &spec.base {
        Some(base) if spec.measure != Measure::Value => {
            let period = || {
                let mut p = BTreeMap::new();
                p.insert(spec.value.id.clone(), Value::Int(1));
                p.insert(base.id.clone(), Value::Int(1));
                Value::Table(p)
            };
            t.insert("before".into(), period());
            t.insert("after".into(), period());
        }
        _ => {
            t.insert("before".into(), Value::Int(1));
            t.insert("after".into(), Value::Int(1));
        }
    }
    Value::Table(t)
}

/// Last year's headcount relative to this year's, without consuming random numbers (so the
/// figures of one question do not shift the draws of the next).
fn rng_free_jitter(employees: f64) -> f64 {
    let h = (employees as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58; // 0..63
    0.9 + (h as f64) / 63.0 * 0.2
}

/// The example row of the templates: a small metal-parts maker at level 1 (the answers are built
/// like generated ones, so they stay valid for any edition of the questionnaire).
pub(crate) fn example(
    kb: &KnowledgeBase,
    lang: smedx_core::Lang,
) -> (EnterpriseFields, Value, Value) {
    let g = Generator::new(kb, 2026);
    let mut rng = Rng::new(2026, 0);
    let target = 1.min(g.levels.last().map_or(0, |l| l.level));
    let ratings = g.ratings(&mut rng, target);
    let (employees, revenue_wan) = (85.0, 3200.0);
    let answers = g.answers(
        &mut rng,
        target,
        &ratings,
        employees,
        revenue_wan,
        SizeClass::Small,
    );
    let (name, pain) = match lang {
        smedx_core::Lang::Zh => (
            "（示例，导入前请删除本行）某某精密五金有限公司",
            "订单多了交期总是延误，计件工资经常算错，仓库老是找不到料",
        ),
        smedx_core::Lang::En => (
            "(Example: delete this row before importing) Sample Precision Metal Co., Ltd.",
            "Deliveries are late when orders pile up, piece-rate pay is often wrong, and stock cannot be found",
        ),
    };
    let mut p: BTreeMap<String, Value> = BTreeMap::new();
    p.insert("name".into(), Value::Str(name.into()));
    p.insert("industry".into(), Value::Str("C3311".into()));
    p.insert("employees".into(), Value::Int(85));
    p.insert("revenue".into(), Value::Int(32_000_000));
    p.insert("assets".into(), Value::Int(40_000_000));
    p.insert("product_complexity".into(), Value::Str("medium".into()));
    p.insert("chain_position".into(), Value::Str("midstream".into()));
    p.insert("in_cluster".into(), Value::Bool(true));
    p.insert("supplies_chain_leader".into(), Value::Bool(true));
    p.insert("uses_platform".into(), Value::Bool(false));
    if kb.scenario("mg.finance").is_some() {
        p.insert(
            "adopted".into(),
            Value::List(vec![Value::Str("mg.finance".into())]),
        );
    }
    p.insert("pain_points".into(), Value::Str(pain.into()));
    p.insert("budget".into(), Value::Int(300_000));
    let e = EnterpriseFields {
        name: name.into(),
        credit_code: credit::with_check("91320506MA1N2P3Q4"),
        region: "320506".into(),
        cluster: Some("wuzhong-precision".into()),
        assessed_on: Some("2026-03-31".into()),
    };
    (e, Value::Table(p), answers)
}
