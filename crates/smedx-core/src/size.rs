//! Size class by the 2017 statistical standard (国统字〔2017〕213号).
//!
//! Only lower bounds matter: a firm is in the highest tier (large, medium, small) whose every lower
//! bound it meets (≥), and micro otherwise. A missing indicator that the industry's rule needs is an
//! error naming it; it is never read as zero.

use serde::{Deserialize, Serialize};

use crate::kb::{Bounds, Indicator, SizeCategory, SizeClass};
use crate::lang::Localized;

/// Indicator values in the standard's units: persons, and 万元 (CNY 10,000) for money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    pub employees: Option<f64>,
    pub revenue_wan: Option<f64>,
    pub assets_wan: Option<f64>,
}

impl Measures {
    /// From the profile's units: persons and yuan.
    pub fn from_yuan(employees: Option<f64>, revenue: Option<f64>, assets: Option<f64>) -> Self {
        Measures {
            employees,
            revenue_wan: revenue.map(|v| v / 10_000.0),
            assets_wan: assets.map(|v| v / 10_000.0),
        }
    }
    pub fn get(&self, ind: Indicator) -> Option<f64> {
        match ind {
            Indicator::Employees => self.employees,
            Indicator::Revenue => self.revenue_wan,
            Indicator::Assets => self.assets_wan,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SizeError {
    #[error("the size rule for {category} needs {}, which is missing", indicator.id())]
    Missing {
        category: String,
        category_zh: String,
        indicator: Indicator,
    },
    #[error("{} must be a number of zero or more (got {value})", indicator.id())]
    Invalid { indicator: Indicator, value: f64 },
}

impl SizeError {
    pub fn localized(&self) -> Localized {
        let ind_zh = |i: &Indicator| match i {
            Indicator::Employees => "从业人员（employees）",
            Indicator::Revenue => "营业收入（revenue）",
            Indicator::Assets => "资产总额（assets）",
        };
        let zh = match self {
            SizeError::Missing {
                category_zh,
                indicator,
                ..
            } => format!(
                "“{category_zh}”的划型规则需要{}，但未填写",
                ind_zh(indicator)
            ),
            SizeError::Invalid { indicator, value } => {
                format!(
                    "{}必须是不小于 0 的数（填写的是 {value}）",
                    ind_zh(indicator)
                )
            }
        };
        Localized::new(zh, self.to_string())
    }
}

/// How the size class was decided, for display and for `classify --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeRule {
    pub category: String,
    pub category_name: Localized,
    pub indicators: Vec<Indicator>,
    /// The lower bounds of the tier that was reached (empty for micro).
    pub bounds: Bounds,
    /// The tiers that were tried and the indicators that fell short, highest first.
    pub dropped: Vec<DroppedTier>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedTier {
    pub tier: SizeClass,
    pub short: Vec<Indicator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeResult {
    pub size_class: SizeClass,
    pub is_sme: bool,
    pub rule: SizeRule,
}

pub fn classify_size(cat: &SizeCategory, m: &Measures) -> Result<SizeResult, SizeError> {
    let mut values = Vec::with_capacity(cat.indicators.len());
    for &ind in &cat.indicators {
        let v = m.get(ind).ok_or_else(|| SizeError::Missing {
            category: cat.name.en.clone(),
            category_zh: cat.name.zh.clone(),
            indicator: ind,
        })?;
        if !v.is_finite() || v < 0.0 {
            return Err(SizeError::Invalid {
                indicator: ind,
                value: v,
            });
        }
        values.push((ind, v));
    }
    let mut dropped = Vec::new();
    for (tier, bounds) in [
        (SizeClass::Large, &cat.large),
        (SizeClass::Medium, &cat.medium),
        (SizeClass::Small, &cat.small),
    ] {
        let short: Vec<Indicator> = values
            .iter()
            .filter(|(ind, v)| bounds.get(*ind).is_some_and(|b| *v < b))
            .map(|(ind, _)| *ind)
            .collect();
        if short.is_empty() {
            return Ok(SizeResult {
                size_class: tier,
                is_sme: tier != SizeClass::Large,
                rule: SizeRule {
                    category: cat.id.clone(),
                    category_name: cat.name.clone(),
                    indicators: cat.indicators.clone(),
                    bounds: *bounds,
                    dropped,
                },
            });
        }
        dropped.push(DroppedTier { tier, short });
    }
    Ok(SizeResult {
        size_class: SizeClass::Micro,
        is_sme: true,
        rule: SizeRule {
            category: cat.id.clone(),
            category_name: cat.name.clone(),
            indicators: cat.indicators.clone(),
            bounds: Bounds::default(),
            dropped,
        },
    })
}
