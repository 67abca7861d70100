//! The knowledge base as typed data. The TOML files under `data/` deserialize into these types
//! (see `docs/KB-FORMAT.md`); `smedx-kb` loads and validates them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::lang::{Localized, LocalizedList};

/// Size class of an enterprise under the 2017 statistical standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeClass {
    Micro,
    Small,
    Medium,
    Large,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [
        SizeClass::Micro,
        SizeClass::Small,
        SizeClass::Medium,
        SizeClass::Large,
    ];

    pub fn id(self) -> &'static str {
        match self {
            SizeClass::Micro => "micro",
            SizeClass::Small => "small",
            SizeClass::Medium => "medium",
            SizeClass::Large => "large",
        }
    }

    pub fn name(self) -> Localized {
        match self {
            SizeClass::Micro => Localized::new("微型", "micro"),
            SizeClass::Small => Localized::new("小型", "small"),
            SizeClass::Medium => Localized::new("中型", "medium"),
            SizeClass::Large => Localized::new("大型", "large"),
        }
    }

    pub fn parse(s: &str) -> Option<SizeClass> {
        SizeClass::ALL.into_iter().find(|c| c.id() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Complexity {
    Low,
    Medium,
    High,
}

impl Complexity {
    pub fn id(self) -> &'static str {
        match self {
            Complexity::Low => "low",
            Complexity::Medium => "medium",
            Complexity::High => "high",
        }
    }
    pub fn name(self) -> Localized {
        match self {
            Complexity::Low => Localized::new("低（基础加工）", "low (basic processing)"),
            Complexity::Medium => Localized::new("中（功能部件）", "medium (functional parts)"),
            Complexity::High => Localized::new("高（终端成品）", "high (finished products)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainPosition {
    Upstream,
    Midstream,
    Downstream,
}

impl ChainPosition {
    pub fn id(self) -> &'static str {
        match self {
            ChainPosition::Upstream => "upstream",
            ChainPosition::Midstream => "midstream",
            ChainPosition::Downstream => "downstream",
        }
    }
    pub fn name(self) -> Localized {
        match self {
            ChainPosition::Upstream => {
                Localized::new("上游（基础加工）", "upstream (basic processing)")
            }
            ChainPosition::Midstream => Localized::new("中游（零部件）", "midstream (parts)"),
            ChainPosition::Downstream => {
                Localized::new("下游（终端成品）", "downstream (finished goods)")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effort {
    SinglePoint,
    CrossProcess,
}

impl Effort {
    pub fn id(self) -> &'static str {
        match self {
            Effort::SinglePoint => "single_point",
            Effort::CrossProcess => "cross_process",
        }
    }
    pub fn name(self) -> Localized {
        match self {
            Effort::SinglePoint => Localized::new("单点应用", "single point"),
            Effort::CrossProcess => Localized::new("跨流程", "cross-process"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostTier {
    Low,
    Medium,
    High,
}

impl CostTier {
    pub fn id(self) -> &'static str {
        match self {
            CostTier::Low => "low",
            CostTier::Medium => "medium",
            CostTier::High => "high",
        }
    }
    pub fn name(self) -> Localized {
        match self {
            CostTier::Low => Localized::new("低", "low"),
            CostTier::Medium => Localized::new("中", "medium"),
            CostTier::High => Localized::new("高", "high"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    pub id: String,
    pub name: Localized,
    pub summary: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub id: String,
    pub chain: String,
    pub name: Localized,
    pub summary: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub domain: String,
    pub name: Localized,
    pub summary: Localized,
    pub problem: Localized,
    pub products: Vec<Localized>,
    pub size_fit: Vec<SizeClass>,
    pub effort: Effort,
    pub cost_tier: CostTier,
    pub time_to_value_months: u32,
    #[serde(default)]
    pub prerequisites: Vec<String>,
    pub kpis: Vec<Localized>,
    pub pain_points: LocalizedList,
    pub source: String,
}

impl Scenario {
    pub fn fits(&self, size: SizeClass) -> bool {
        // Large firms are outside the SME model; treat them like medium ones.
        let size = if size == SizeClass::Large {
            SizeClass::Medium
        } else {
            size
        };
        self.size_fit.contains(&size)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyFigure {
    pub area: Localized,
    pub share: f64,
    pub domains: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub name: Localized,
    pub summary: Localized,
    #[serde(default)]
    pub focus_domains: Vec<String>,
    #[serde(default)]
    pub survey: Vec<SurveyFigure>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    pub id: String,
    pub group: String,
    pub name: Localized,
    pub business_model: Localized,
    pub process: Localized,
    pub focus: Localized,
    pub typical_complexity: Complexity,
    pub typical_position: ChainPosition,
    pub scenarios: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseProfile {
    pub industry: String,
    #[serde(default)]
    pub size: Option<SizeClass>,
    #[serde(default)]
    pub product_complexity: Option<Complexity>,
    #[serde(default)]
    pub chain_position: Option<ChainPosition>,
    #[serde(default)]
    pub supplies_chain_leader: Option<bool>,
    #[serde(default)]
    pub in_cluster: Option<bool>,
    #[serde(default)]
    pub uses_platform: Option<bool>,
    pub pain: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub company: Localized,
    #[serde(default)]
    pub sector: Option<String>,
    pub group: String,
    pub makes: Localized,
    pub scenarios: Vec<String>,
    pub did: Localized,
    #[serde(default)]
    pub result: Option<Localized>,
    #[serde(default)]
    pub partner: Option<String>,
    pub source: String,
    pub profile: CaseProfile,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathMode {
    pub id: String,
    pub name: Localized,
    pub summary: Localized,
    pub when: Localized,
    #[serde(default)]
    pub example: Option<Localized>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Path {
    pub id: String,
    pub name: Localized,
    pub summary: Localized,
    pub when: Localized,
    pub source: String,
    #[serde(default)]
    pub mode: Vec<PathMode>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obstacle {
    pub id: String,
    pub name: Localized,
    pub summary: Localized,
    pub advice: Localized,
    pub share: f64,
    #[serde(default)]
    pub by_size: HashMap<SizeClass, f64>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub letter: String,
    pub name: Localized,
    pub first: u32,
    pub last: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Division {
    pub code: String,
    pub name: Localized,
    pub group: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndustryMapping {
    pub prefix: String,
    #[serde(default)]
    pub sector: Option<String>,
    pub group: String,
    pub name: Localized,
}

/// Lower bounds of one tier, in the standard's units (persons; 万元).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    #[serde(default)]
    pub employees: Option<f64>,
    #[serde(default)]
    pub revenue: Option<f64>,
    #[serde(default)]
    pub assets: Option<f64>,
}

impl Bounds {
    pub fn get(&self, ind: Indicator) -> Option<f64> {
        match ind {
            Indicator::Employees => self.employees,
            Indicator::Revenue => self.revenue,
            Indicator::Assets => self.assets,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    Employees,
    Revenue,
    Assets,
}

impl Indicator {
    pub fn id(self) -> &'static str {
        match self {
            Indicator::Employees => "employees",
            Indicator::Revenue => "revenue",
            Indicator::Assets => "assets",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeCategory {
    pub id: String,
    pub name: Localized,
    pub prefixes: Vec<String>,
    pub indicators: Vec<Indicator>,
    pub large: Bounds,
    pub medium: Bounds,
    pub small: Bounds,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotCovered {
    pub prefixes: Vec<String>,
    pub reason: Localized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeStandardInfo {
    pub name: Localized,
    pub document: String,
    #[serde(default)]
    pub rule: Option<Localized>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeStandard {
    pub standard: SizeStandardInfo,
    pub category: Vec<SizeCategory>,
    #[serde(default)]
    pub not_covered: Vec<NotCovered>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynonymGroup {
    pub terms: Vec<String>,
}

/// The whole, validated knowledge base. Construct it with `smedx_kb`.
#[derive(Debug, Clone, Serialize)]
pub struct KnowledgeBase {
    pub chains: Vec<Chain>,
    pub domains: Vec<Domain>,
    pub scenarios: Vec<Scenario>,
    pub groups: Vec<Group>,
    pub sectors: Vec<Sector>,
    pub cases: Vec<Case>,
    pub paths: Vec<Path>,
    pub obstacles: Vec<Obstacle>,
    pub sections: Vec<Section>,
    pub divisions: Vec<Division>,
    pub mappings: Vec<IndustryMapping>,
    pub size_standard: SizeStandard,
    pub synonyms: Vec<SynonymGroup>,
    pub questionnaire: crate::assessment::Questionnaire,
    pub rules: crate::rules::Rules,
    /// Lookups derived from the data on first use (never serialised; reset after editing a clone).
    #[serde(skip)]
    pub derived: std::sync::OnceLock<Derived>,
}

/// Precomputed lookups for the per-request engine paths.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// Scenario id → position in `scenarios`.
    pub scenario_ix: rustc_hash::FxHashMap<String, usize>,
    /// The domain id of each scenario, by position.
    pub scenario_domain: Vec<String>,
    /// Sector id → scenario id → ids of the sector's cases that implemented the scenario.
    pub sector_cases: HashMap<String, HashMap<String, Vec<String>>>,
    /// For each case (by position), the positions of its scenarios.
    pub case_scenarios: Vec<Vec<usize>>,
}

impl KnowledgeBase {
    pub fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| {
            let scenario_ix = self
                .scenarios
                .iter()
                .enumerate()
                .map(|(i, s)| (s.id.clone(), i))
                .collect();
            let mut sector_cases: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
            for c in &self.cases {
                if let Some(sec) = &c.sector {
                    for s in &c.scenarios {
                        sector_cases
                            .entry(sec.clone())
                            .or_default()
                            .entry(s.clone())
                            .or_default()
                            .push(c.id.clone());
                    }
                }
            }
            let case_scenarios = self
                .cases
                .iter()
                .map(|c| {
                    c.scenarios
                        .iter()
                        .filter_map(|s| self.scenarios.iter().position(|x| &x.id == s))
                        .collect()
                })
                .collect();
            Derived {
                case_scenarios,
                scenario_domain: self.scenarios.iter().map(|s| s.domain.clone()).collect(),
                scenario_ix,
                sector_cases,
            }
        })
    }

    /// Forgets derived lookups (after changing a clone of the data).
    pub fn reset_derived(&mut self) {
        self.derived = std::sync::OnceLock::new();
    }

    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        match self.derived.get() {
            Some(d) => d.scenario_ix.get(id).map(|&i| &self.scenarios[i]),
            None => self.scenarios.iter().find(|s| s.id == id),
        }
    }
    pub fn scenario_index(&self, id: &str) -> Option<usize> {
        self.scenarios.iter().position(|s| s.id == id)
    }
    pub fn domain(&self, id: &str) -> Option<&Domain> {
        self.domains.iter().find(|s| s.id == id)
    }
    pub fn chain(&self, id: &str) -> Option<&Chain> {
        self.chains.iter().find(|s| s.id == id)
    }
    pub fn sector(&self, id: &str) -> Option<&Sector> {
        self.sectors.iter().find(|s| s.id == id)
    }
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|s| s.id == id)
    }
    pub fn case(&self, id: &str) -> Option<&Case> {
        self.cases.iter().find(|s| s.id == id)
    }
    pub fn path(&self, id: &str) -> Option<&Path> {
        self.paths.iter().find(|s| s.id == id)
    }
    pub fn path_mode(&self, id: &str) -> Option<(&Path, &PathMode)> {
        self.paths
            .iter()
            .find_map(|p| p.mode.iter().find(|m| m.id == id).map(|m| (p, m)))
    }
    pub fn obstacle(&self, id: &str) -> Option<&Obstacle> {
        self.obstacles.iter().find(|s| s.id == id)
    }
}
