//! `smedx eval cases`: how well the recommender finds what the report's firms actually built.
//!
//! Each case becomes a profile from its facts only (industry code, size hint, complexity, chain
//! position, supplier tie, and the problem in the owner's words — never the scenarios). The
//! evaluation is leave-one-out: the case's own text is removed from the search index, and a
//! sub-sector's typical scenarios lose any scenario that only this case shows. Two baselines:
//! random ranking (exact expectation) and "always the most common scenarios" (counted without the case).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smedx_text::Tokenizer;

use crate::kb::{Case, KnowledgeBase, SizeClass};
use crate::lang::Lang;
use crate::profile::{IndustryInput, Profile};
use crate::recommend::{self, ScenarioIndex};
use crate::{industry, kb::Sector};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub k: usize,
    pub hit: f64,
    pub recall: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: String,
    pub actual: Vec<String>,
    pub top: Vec<String>,
    /// 1-based rank of the best-ranked actual scenario.
    pub first_hit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub cases: usize,
    pub language: Lang,
    pub smedx: Vec<Metrics>,
    pub random: Vec<Metrics>,
    pub most_common: Vec<Metrics>,
    pub results: Vec<CaseResult>,
}

/// A profile built from a case's facts only.
pub fn case_profile(kb: &KnowledgeBase, c: &Case, lang: Lang) -> Option<Profile> {
    let code = industry::parse_code(kb, &c.profile.industry).ok()?;
    // Representative figures for the size hint (industry rule); small when the report says nothing.
    let (employees, revenue) = figures_for(c.profile.size);
    Some(Profile {
        name: None,
        industry: Some(IndustryInput::Code { code }),
        employees: Some(employees),
        revenue: Some(revenue),
        assets: None,
        product_complexity: c.profile.product_complexity,
        chain_position: c.profile.chain_position,
        in_cluster: c.profile.in_cluster,
        supplies_chain_leader: c.profile.supplies_chain_leader,
        uses_platform: c.profile.uses_platform,
        adopted: Vec::new(),
        pain_points: Some(c.profile.pain.get(lang).to_string()),
        budget: None,
    })
}

/// The knowledge base as it would be without this case.
fn without_case(kb: &KnowledgeBase, c: &Case) -> KnowledgeBase {
    let mut k = kb.clone();
    k.reset_derived();
    k.cases.retain(|x| x.id != c.id);
    if let Some(sid) = &c.sector {
        let others: Vec<&Case> = k
            .cases
            .iter()
            .filter(|x| x.sector.as_ref() == Some(sid))
            .collect();
        if let Some(sec) = k.sectors.iter_mut().find(|s: &&mut Sector| &s.id == sid) {
            sec.scenarios.retain(|s| {
                !c.scenarios.contains(s) || others.iter().any(|o| o.scenarios.contains(s))
            });
        }
    }
    k
}

fn binom(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

pub fn evaluate(
    kb: &KnowledgeBase,
    tokenizer: Arc<Tokenizer>,
    ks: &[usize],
    lang: Lang,
) -> EvalReport {
    let mut results = Vec::new();
    let mut popular_tops: Vec<Vec<String>> = Vec::new();
    for c in &kb.cases {
        let Some(profile) = case_profile(kb, c, lang) else {
            continue;
        };
        let k2 = without_case(kb, c);
        let index = ScenarioIndex::with_tokenizer(&k2, tokenizer.clone(), Some(&c.id));
        let Ok(report) = recommend::run(&k2, &index, &profile, None) else {
            continue;
        };
        results.push(result_of(&c.id, &c.scenarios, &report));
        popular_tops.push(most_common(kb, Some(&c.id)));
    }
    summarise(kb, results, popular_tops, ks, lang)
}

/// A situation from outside the report (`data/eval/holdout.toml`): facts, the owner's words, and
/// the scenarios a consultant would start with.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldoutCase {
    pub id: String,
    pub industry: String,
    #[serde(default)]
    pub size: Option<SizeClass>,
    #[serde(default)]
    pub product_complexity: Option<crate::kb::Complexity>,
    #[serde(default)]
    pub chain_position: Option<crate::kb::ChainPosition>,
    #[serde(default)]
    pub supplies_chain_leader: Option<bool>,
    pub pain: crate::lang::Localized,
    pub expected: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct HoldoutFile {
    pub case: Vec<HoldoutCase>,
}

/// Evaluates on situations the knowledge base has never seen (no leave-one-out needed).
pub fn evaluate_holdout(
    kb: &KnowledgeBase,
    index: &ScenarioIndex,
    cases: &[HoldoutCase],
    ks: &[usize],
    lang: Lang,
) -> EvalReport {
    let mut results = Vec::new();
    let mut popular_tops = Vec::new();
    let popular = most_common(kb, None);
    for c in cases {
        let Ok(code) = industry::parse_code(kb, &c.industry) else {
            continue;
        };
        let (employees, revenue) = figures_for(c.size);
        let profile = Profile {
            industry: Some(IndustryInput::Code { code }),
            employees: Some(employees),
            revenue: Some(revenue),
            product_complexity: c.product_complexity,
            chain_position: c.chain_position,
            supplies_chain_leader: c.supplies_chain_leader,
            pain_points: Some(c.pain.get(lang).to_string()),
            ..Profile::default()
        };
        let Ok(report) = recommend::run(kb, index, &profile, None) else {
            continue;
        };
        results.push(result_of(&c.id, &c.expected, &report));
        popular_tops.push(popular.clone());
    }
    summarise(kb, results, popular_tops, ks, lang)
}

/// Representative figures for a size hint (industry rule); small when nothing is known.
fn figures_for(size: Option<SizeClass>) -> (f64, f64) {
    match size {
        Some(SizeClass::Micro) => (12.0, 2_000_000.0),
        Some(SizeClass::Medium) | Some(SizeClass::Large) => (400.0, 150_000_000.0),
        _ => (80.0, 30_000_000.0),
    }
}

fn result_of(id: &str, actual: &[String], report: &recommend::Report) -> CaseResult {
    let top: Vec<String> = report
        .recommendations
        .iter()
        .map(|r| r.scenario.clone())
        .collect();
    let first_hit = top.iter().position(|s| actual.contains(s)).map(|p| p + 1);
    CaseResult {
        case: id.to_string(),
        actual: actual.to_vec(),
        top: top.into_iter().take(10).collect(),
        first_hit,
    }
}

/// Scenarios ranked by how many report cases (other than `except`) implemented them.
fn most_common(kb: &KnowledgeBase, except: Option<&str>) -> Vec<String> {
    let mut freq: BTreeMap<&str, usize> = BTreeMap::new();
    for o in kb.cases.iter().filter(|o| Some(o.id.as_str()) != except) {
        for s in &o.scenarios {
            *freq.entry(s).or_default() += 1;
        }
    }
    let mut pop: Vec<(&str, usize)> = freq.into_iter().collect();
    pop.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    pop.into_iter().map(|(s, _)| s.to_string()).collect()
}

fn summarise(
    kb: &KnowledgeBase,
    results: Vec<CaseResult>,
    popular_tops: Vec<Vec<String>>,
    ks: &[usize],
    lang: Lang,
) -> EvalReport {
    let n = kb.scenarios.len();
    let m = results.len().max(1) as f64;
    let metric = |k: usize, tops: &dyn Fn(usize) -> Vec<String>| {
        let (mut hit, mut recall) = (0.0, 0.0);
        for (i, r) in results.iter().enumerate() {
            let t: Vec<String> = tops(i).into_iter().take(k).collect();
            let found = r.actual.iter().filter(|a| t.contains(a)).count();
            if found > 0 {
                hit += 1.0;
            }
            recall += found as f64 / r.actual.len().max(1) as f64;
        }
        Metrics {
            k,
            hit: hit / m,
            recall: recall / m,
        }
    };
    let smedx = ks
        .iter()
        .map(|&k| metric(k, &|i| results[i].top.clone()))
        .collect();
    let most_common = ks
        .iter()
        .map(|&k| metric(k, &|i| popular_tops[i].clone()))
        .collect();
    let random = ks
        .iter()
        .map(|&k| {
            let (mut hit, mut recall) = (0.0, 0.0);
            for r in &results {
                let a = r.actual.len();
                hit += 1.0 - binom(n - a, k) / binom(n, k);
                recall += (k as f64 / n as f64).min(1.0);
            }
            Metrics {
                k,
                hit: hit / m,
                recall: recall / m,
            }
        })
        .collect();
    EvalReport {
        cases: results.len(),
        language: lang,
        smedx,
        random,
        most_common,
        results,
    }
}
