//! Recommendation weights and roadmap rules (`data/rules.toml`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kb::CostTier;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub sector_typical: f64,
    pub sector_rank_decay: f64,
    pub group_focus: f64,
    pub group_survey: f64,
    pub chain_position: f64,
    pub common_first: f64,
    pub pain_point: f64,
    pub level_gap: f64,
    pub level_lift: f64,
    pub builds_on: f64,
    pub path_fit: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multipliers {
    pub size_misfit: f64,
    pub over_budget: f64,
    pub obstacle_high_cost: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PainRules {
    pub saturation: f64,
    pub floor: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionDomains {
    pub upstream: Vec<String>,
    pub midstream: Vec<String>,
    pub downstream: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonFirst {
    pub scenarios: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRange {
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostTiers {
    pub low: CostRange,
    pub medium: CostRange,
    pub high: CostRange,
}

impl CostTiers {
    pub fn range(&self, t: CostTier) -> CostRange {
        match t {
            CostTier::Low => self.low,
            CostTier::Medium => self.medium,
            CostTier::High => self.high,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadmapRules {
    pub quick_win_months: u32,
    pub mid_term_months: u32,
    pub max_per_stage: [usize; 3],
    pub min_relative_score: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub weights: Weights,
    pub multipliers: Multipliers,
    pub pain: PainRules,
    pub position_domains: PositionDomains,
    #[serde(default)]
    pub path_scenarios: BTreeMap<String, Vec<String>>,
    pub common_first: CommonFirst,
    pub cost_tiers: CostTiers,
    pub roadmap: RoadmapRules,
}
