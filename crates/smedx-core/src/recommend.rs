//! Recommendation: score every scenario for a profile (and optionally an assessment), explain each
//! score with checkable reasons, order prerequisites first, group into a staged roadmap, and find
//! the most similar report cases.
//!
//! Weights live in `data/rules.toml`; see README "How recommendations are made".

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smedx_text::{Field, Index, Tokenizer};

use crate::assessment::{self, Answers, Assessment};
use crate::classify::{self, Classification, ClassifyError};
use crate::kb::{ChainPosition, CostTier, Effort, KnowledgeBase, Scenario, SizeClass};
use crate::profile::Profile;

/// The scenario search index over pain-point words, names, descriptions and case texts.
pub struct ScenarioIndex {
    pub tokenizer: Arc<Tokenizer>,
    index: Index,
}

/// A scenario matched by the free text, with the user's words that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PainHit {
    pub scenario: String,
    /// 0–1 relevance.
    pub relevance: f64,
    pub matched: Vec<String>,
}

impl ScenarioIndex {
    /// Builds the index; `exclude_case` leaves one case's text out (for honest evaluation).
    pub fn build(kb: &KnowledgeBase, exclude_case: Option<&str>) -> Self {
        Self::with_tokenizer(kb, Arc::new(Self::tokenizer(kb)), exclude_case)
    }

    /// The tokenizer for a knowledge base: short pain-point words join the dictionary, synonyms fold.
    pub fn tokenizer(kb: &KnowledgeBase) -> Tokenizer {
        let mut words: Vec<&str> = Vec::new();
        for s in &kb.scenarios {
            for w in &s.pain_points.zh {
                if (2..=4).contains(&w.chars().count()) {
                    words.push(w);
                }
            }
        }
        let groups: Vec<Vec<String>> = kb.synonyms.iter().map(|g| g.terms.clone()).collect();
        Tokenizer::new(&words, &groups)
    }

    pub fn with_tokenizer(
        kb: &KnowledgeBase,
        tokenizer: Arc<Tokenizer>,
        exclude_case: Option<&str>,
    ) -> Self {
        let mut owned: Vec<Vec<(String, f32)>> = Vec::with_capacity(kb.scenarios.len());
        for s in &kb.scenarios {
            let mut f: Vec<(String, f32)> = vec![
                (s.name.zh.clone(), 2.0),
                (s.name.en.clone(), 2.0),
                (s.pain_points.zh.join("，"), 3.0),
                (s.pain_points.en.join(", "), 3.0),
                (s.problem.zh.clone(), 1.0),
                (s.problem.en.clone(), 1.0),
                (s.summary.zh.clone(), 0.5),
                (s.summary.en.clone(), 0.5),
            ];
            for p in &s.products {
                f.push((p.zh.clone(), 0.7));
                f.push((p.en.clone(), 0.7));
            }
            for c in kb
                .cases
                .iter()
                .filter(|c| Some(c.id.as_str()) != exclude_case && c.scenarios.contains(&s.id))
            {
                f.push((c.did.zh.clone(), 0.4));
                f.push((c.did.en.clone(), 0.4));
            }
            owned.push(f);
        }
        let docs: Vec<Vec<Field<'_>>> = owned
            .iter()
            .map(|fs| {
                fs.iter()
                    .map(|(t, w)| Field {
                        text: t,
                        weight: *w,
                    })
                    .collect()
            })
            .collect();
        let index = Index::build(&tokenizer, &docs);
        ScenarioIndex { tokenizer, index }
    }

    /// Matches free text to scenarios. Empty or unknown text gives no hits, never an error.
    pub fn search(&self, kb: &KnowledgeBase, text: &str) -> Vec<PainHit> {
        let rules = &kb.rules.pain;
        let hits = self
            .index
            .search_above(&self.tokenizer, text, rules.floor as f32);
        hits.into_iter()
            .filter_map(|h| {
                let s = kb.scenarios.get(h.doc)?;
                let x = f64::from(h.score);
                Some(PainHit {
                    scenario: s.id.clone(),
                    relevance: x / (x + rules.saturation),
                    matched: h.matched,
                })
            })
            .collect()
    }
}

/// A reason for a recommendation; every one can be checked against the profile or the answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    SectorTypical { sector: String, cases: Vec<String> },
    GroupNeed { group: String, share: Option<f64> },
    ChainPosition { position: ChainPosition },
    CommonFirst,
    PainPoint { matched: Vec<String> },
    LevelGap { indicator: String, from: u8, to: u8 },
    LevelLift { indicator: String, from: u8, to: u8 },
    BuildsOn { scenario: String },
    PathFit { path: String },
    PrerequisiteOf { scenario: String },
    SizeFit { size: SizeClass },
    SizeMisfit { size: SizeClass },
    WithinBudget { budget: f64 },
    OverBudget { budget: f64 },
    CostObstacle { obstacle: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub scenario: String,
    pub score: f64,
    pub stage: u8,
    pub reasons: Vec<Reason>,
    /// Prerequisites not yet in place (they come earlier in the list).
    pub needs: Vec<String>,
}

/// The effect of a stage on an indicator scenario of the official assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelEffect {
    pub indicator: String,
    pub from: u8,
    pub to: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: u8,
    /// Months from now: [start, end].
    pub months: [u32; 2],
    pub scenarios: Vec<String>,
    pub cost_tier: Option<CostTier>,
    pub cost_estimate: [f64; 2],
    pub level_effects: Vec<LevelEffect>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerCase {
    pub case: String,
    pub similarity: f64,
    pub shared: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub classification: Classification,
    pub assessment: Option<Assessment>,
    pub pain_points: Vec<PainHit>,
    pub recommendations: Vec<Recommendation>,
    pub roadmap: Vec<Stage>,
    pub peer_cases: Vec<PeerCase>,
}

/// The engine: a validated knowledge base plus its text index. Build once, use for every request.
pub struct Engine {
    pub kb: KnowledgeBase,
    pub index: ScenarioIndex,
}

impl Engine {
    pub fn new(kb: KnowledgeBase) -> Self {
        let index = ScenarioIndex::build(&kb, None);
        Engine { kb, index }
    }

    /// Classification, assessment (when answers are given), recommendations, roadmap and peers.
    pub fn run(
        &self,
        profile: &Profile,
        answers: Option<&Answers>,
    ) -> Result<Report, ClassifyError> {
        run(&self.kb, &self.index, profile, answers)
    }
}

pub fn run(
    kb: &KnowledgeBase,
    index: &ScenarioIndex,
    profile: &Profile,
    answers: Option<&Answers>,
) -> Result<Report, ClassifyError> {
    let classification = classify::classify(kb, profile)?;
    let assessment = answers.map(|a| assessment::assess(&kb.questionnaire, a));
    let pain_points = profile
        .pain_points
        .as_deref()
        .map(|t| index.search(kb, t))
        .unwrap_or_default();
    let recommendations = recommend(
        kb,
        profile,
        &classification,
        assessment.as_ref(),
        &pain_points,
    );
    let roadmap = roadmap(kb, &recommendations, assessment.as_ref());
    let peer_cases = peers(kb, &classification, &recommendations, profile);
    Ok(Report {
        classification,
        assessment,
        pain_points,
        recommendations,
        roadmap,
        peer_cases,
    })
}

fn cost_fits(kb: &KnowledgeBase, tier: CostTier, budget: f64) -> bool {
    kb.rules.cost_tiers.range(tier).min <= budget
}

/// Scores, explains and orders every scenario that is not adopted yet.
pub fn recommend(
    kb: &KnowledgeBase,
    profile: &Profile,
    c: &Classification,
    a: Option<&Assessment>,
    pain: &[PainHit],
) -> Vec<Recommendation> {
    let r = &kb.rules;
    let w = &r.weights;
    let derived = kb.derived();
    let size = c.size_class();
    let adopted: HashSet<&str> = profile.adopted.iter().map(String::as_str).collect();
    let sector = c.sector.as_deref().and_then(|s| kb.sector(s));
    let group = kb.group(&c.group);
    let pos_domains = match c.chain_position.value {
        ChainPosition::Upstream => &r.position_domains.upstream,
        ChainPosition::Midstream => &r.position_domains.midstream,
        ChainPosition::Downstream => &r.position_domains.downstream,
    };
    let gap_via: BTreeMap<&str, (&str, u8, u8)> = a
        .and_then(|a| a.gap.as_ref())
        .map(|g| {
            g.steps
                .iter()
                .flat_map(|st| {
                    st.via
                        .iter()
                        .map(move |v| (v.as_str(), (st.scenario.as_str(), st.from, st.to)))
                })
                .collect()
        })
        .unwrap_or_default();
    // Which report scenario lifts which indicator scenario one level (first indicator wins).
    let mut lift_of: HashMap<&str, (&str, u8)> = HashMap::new();
    if let Some(a) = a {
        for is in &kb.questionnaire.scenario {
            let cur = a.scenario_levels.get(&is.id).copied().unwrap_or(0);
            if cur < 4 {
                for id in is.lifted_by(cur + 1) {
                    lift_of.entry(id.as_str()).or_insert((is.id.as_str(), cur));
                }
            }
        }
    }
    let cost_obstacle = a.and_then(|a| {
        a.obstacles
            .iter()
            .find(|o| o.as_str() == "budget" || o.as_str() == "skills")
            .cloned()
    });

    // Per-request signals indexed by scenario position, so the loop below compares no strings.
    let n = kb.scenarios.len();
    let ix = |id: &str| derived.scenario_ix.get(id).copied();
    let mut sector_rank: Vec<Option<usize>> = vec![None; n];
    if let Some(sec) = sector {
        for (rank, id) in sec.scenarios.iter().enumerate() {
            if let Some(i) = ix(id) {
                sector_rank[i].get_or_insert(rank);
            }
        }
    }
    let in_domains = |list: &[String]| -> Vec<bool> {
        derived
            .scenario_domain
            .iter()
            .map(|d| list.iter().any(|x| x == d))
            .collect()
    };
    let pos_mask = in_domains(pos_domains);
    let focus_mask = group.map(|g| in_domains(&g.focus_domains));
    let survey_masks: Vec<(f64, Vec<bool>)> = group
        .map(|g| {
            g.survey
                .iter()
                .map(|sv| (sv.share, in_domains(&sv.domains)))
                .collect()
        })
        .unwrap_or_default();
    let mut common = vec![false; n];
    for id in &r.common_first.scenarios {
        if let Some(i) = ix(id) {
            common[i] = true;
        }
    }
    let mut pain_of: Vec<Option<&PainHit>> = vec![None; n];
    for h in pain {
        if let Some(i) = ix(&h.scenario) {
            pain_of[i].get_or_insert(h);
        }
    }
    let mut path_of: Vec<Option<(&str, bool)>> = vec![None; n];
    for p in &c.paths {
        if let Some(list) = r.path_scenarios.get(&p.mode) {
            for id in list {
                if let Some(i) = ix(id) {
                    path_of[i].get_or_insert((p.mode.as_str(), p.primary));
                }
            }
        }
    }
    let mut adopted_mask = vec![false; n];
    for id in &adopted {
        if let Some(i) = ix(id) {
            adopted_mask[i] = true;
        }
    }

    let mut recs: Vec<Recommendation> = Vec::with_capacity(n);
    for (si, s) in kb.scenarios.iter().enumerate() {
        if adopted_mask[si] {
            continue;
        }
        let mut score = 0.0;
        let mut reasons = Vec::with_capacity(8);
        if let Some(sec) = sector
            && let Some(rank) = sector_rank[si]
        {
            score +=
                (w.sector_typical - w.sector_rank_decay * rank as f64).max(w.sector_typical / 3.0);
            let cases = derived
                .sector_cases
                .get(sec.id.as_str())
                .and_then(|m| m.get(s.id.as_str()))
                .cloned()
                .unwrap_or_default();
            reasons.push(Reason::SectorTypical {
                sector: sec.id.clone(),
                cases,
            });
        }
        if let Some(g) = group {
            let mut share: Option<f64> = None;
            let mut add = 0.0;
            if focus_mask.as_ref().is_some_and(|m| m[si]) {
                add += w.group_focus;
            }
            for (sh, mask) in &survey_masks {
                if mask[si] {
                    add += w.group_survey * sh;
                    share = Some(share.map_or(*sh, |x: f64| x.max(*sh)));
                }
            }
            if add > 0.0 {
                score += add;
                reasons.push(Reason::GroupNeed {
                    group: g.id.clone(),
                    share,
                });
            }
        }
        if pos_mask[si] {
            score += w.chain_position;
            reasons.push(Reason::ChainPosition {
                position: c.chain_position.value,
            });
        }
        if common[si] {
            score += w.common_first;
            reasons.push(Reason::CommonFirst);
        }
        if let Some(h) = pain_of[si] {
            score += w.pain_point * h.relevance;
            reasons.push(Reason::PainPoint {
                matched: h.matched.clone(),
            });
        }
        if let Some((mode, primary)) = path_of[si] {
            score += w.path_fit * if primary { 1.0 } else { 0.6 };
            reasons.push(Reason::PathFit {
                path: mode.to_string(),
            });
        }
        if a.is_some() {
            if let Some((ind, from, to)) = gap_via.get(s.id.as_str()) {
                score += w.level_gap;
                reasons.push(Reason::LevelGap {
                    indicator: ind.to_string(),
                    from: *from,
                    to: *to,
                });
            } else if let Some((ind, from)) = lift_of.get(s.id.as_str()) {
                score += w.level_lift;
                reasons.push(Reason::LevelLift {
                    indicator: ind.to_string(),
                    from: *from,
                    to: from + 1,
                });
            }
        }
        if let Some(p) = s.prerequisites.first()
            && s.prerequisites.iter().all(|p| adopted.contains(p.as_str()))
        {
            score += w.builds_on;
            reasons.push(Reason::BuildsOn {
                scenario: p.clone(),
            });
        }
        // Multipliers: size, budget, obstacles.
        if s.fits(size) {
            reasons.push(Reason::SizeFit { size });
        } else {
            score *= r.multipliers.size_misfit;
            reasons.push(Reason::SizeMisfit { size });
        }
        if let Some(b) = profile.budget {
            if cost_fits(kb, s.cost_tier, b) {
                reasons.push(Reason::WithinBudget { budget: b });
            } else {
                score *= r.multipliers.over_budget;
                reasons.push(Reason::OverBudget { budget: b });
            }
        }
        if s.cost_tier == CostTier::High
            && let Some(o) = &cost_obstacle
        {
            score *= r.multipliers.obstacle_high_cost;
            reasons.push(Reason::CostObstacle {
                obstacle: o.clone(),
            });
        }
        recs.push(Recommendation {
            scenario: s.id.clone(),
            score,
            stage: 0,
            reasons,
            needs: s
                .prerequisites
                .iter()
                .filter(|p| !adopted.contains(p.as_str()))
                .cloned()
                .collect(),
        });
    }

    // Prerequisites are pulled forward: a prerequisite scores at least just below its dependant.
    // Work on indices: this runs on every request.
    let needs_ix = needs_positions(kb, &recs);
    // The prerequisite graph is acyclic, so as many passes as scenarios always settle it.
    for _ in 0..recs.len() {
        let mut changed = false;
        for i in 0..recs.len() {
            let score = recs[i].score;
            for &j in &needs_ix[i] {
                let pulled = score * 0.98;
                if recs[j].score < pulled - 1e-12 {
                    recs[j].score = pulled;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for i in 0..recs.len() {
        if recs[i].score <= 0.0 {
            continue;
        }
        for &j in &needs_ix[i] {
            let reason = Reason::PrerequisiteOf {
                scenario: recs[i].scenario.clone(),
            };
            if !recs[j].reasons.contains(&reason) {
                recs[j].reasons.push(reason);
            }
        }
    }
    for rec in &mut recs {
        rec.score = (rec.score * 1000.0).round() / 1000.0;
    }
    recs.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.scenario.cmp(&b.scenario))
    });
    let recs = prerequisites_first(kb, recs);
    assign_stages(kb, profile, size, recs)
}

/// Stable topological order: a scenario never comes before a missing prerequisite.
/// For each recommendation, the positions (in `recs`) of its missing prerequisites.
fn needs_positions(kb: &KnowledgeBase, recs: &[Recommendation]) -> Vec<Vec<usize>> {
    let d = kb.derived();
    let mut rec_of = vec![usize::MAX; kb.scenarios.len()];
    for (i, r) in recs.iter().enumerate() {
        if let Some(&k) = d.scenario_ix.get(r.scenario.as_str()) {
            rec_of[k] = i;
        }
    }
    recs.iter()
        .map(|r| {
            r.needs
                .iter()
                .filter_map(|p| d.scenario_ix.get(p.as_str()).map(|&k| rec_of[k]))
                .filter(|&i| i != usize::MAX)
                .collect()
        })
        .collect()
}

fn prerequisites_first(kb: &KnowledgeBase, recs: Vec<Recommendation>) -> Vec<Recommendation> {
    let needs_ix = needs_positions(kb, &recs);
    let n = recs.len();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        // The first unplaced item (in score order) whose prerequisites are all placed.
        let next = (0..n)
            .find(|&i| !placed[i] && needs_ix[i].iter().all(|&j| placed[j]))
            .or_else(|| (0..n).find(|&i| !placed[i])); // unreachable with an acyclic graph
        let Some(i) = next else { break };
        placed[i] = true;
        order.push(i);
    }
    let mut slots: Vec<Option<Recommendation>> = recs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Base stage from the scenario's nature and the firm's size and budget, then pushed after prerequisites.
fn base_stage(kb: &KnowledgeBase, s: &Scenario, size: SizeClass, budget: Option<f64>) -> u8 {
    let rm = &kb.rules.roadmap;
    let small = matches!(size, SizeClass::Micro | SizeClass::Small);
    let affordable = |t: CostTier| budget.is_none_or(|b| cost_fits(kb, t, b));
    let quick = s.time_to_value_months <= rm.quick_win_months
        && s.cost_tier == CostTier::Low
        && (!small || s.effort == Effort::SinglePoint)
        && affordable(s.cost_tier);
    if quick {
        return 1;
    }
    let heavy_for_size =
        small && (s.effort == Effort::CrossProcess || s.cost_tier == CostTier::High);
    let mid = s.time_to_value_months <= rm.mid_term_months
        && s.cost_tier != CostTier::High
        && !(size == SizeClass::Micro && s.effort == Effort::CrossProcess)
        && affordable(s.cost_tier);
    if mid && !(heavy_for_size && size == SizeClass::Micro) {
        2
    } else {
        3
    }
}

fn assign_stages(
    kb: &KnowledgeBase,
    profile: &Profile,
    size: SizeClass,
    mut recs: Vec<Recommendation>,
) -> Vec<Recommendation> {
    // recs are in prerequisite order, so every prerequisite's stage is known before its dependants'.
    let needs_ix = needs_positions(kb, &recs);
    let mut stages: Vec<u8> = Vec::with_capacity(recs.len());
    for (i, r) in recs.iter().enumerate() {
        let mut st = kb
            .scenario(&r.scenario)
            .map_or(3, |s| base_stage(kb, s, size, profile.budget));
        for &j in &needs_ix[i] {
            if let Some(ps) = stages.get(j) {
                st = st.max((ps + 1).min(3));
            }
        }
        stages.push(st);
    }
    for (r, st) in recs.iter_mut().zip(stages) {
        r.stage = st;
    }
    recs
}

/// Groups the relevant recommendations into the three stages, prerequisites first.
pub fn roadmap(kb: &KnowledgeBase, recs: &[Recommendation], a: Option<&Assessment>) -> Vec<Stage> {
    let rm = &kb.rules.roadmap;
    let top = recs.iter().map(|r| r.score).fold(0.0, f64::max);
    let floor = top * rm.min_relative_score;
    // Recommendations are already in prerequisite order; take the relevant ones per stage.
    let mut chosen: Vec<&Recommendation> = Vec::new();
    let mut counts = [0usize; 3];
    let mut chosen_ids: HashSet<&str> = HashSet::new();
    for r in recs {
        let idx = usize::from(r.stage.clamp(1, 3) - 1);
        let needed_by_chosen = false;
        if (r.score >= floor && r.score > 0.0 || needed_by_chosen)
            && counts[idx] < rm.max_per_stage[idx]
        {
            // A dependant only enters when its missing prerequisites did.
            if r.needs.iter().all(|p| chosen_ids.contains(p.as_str())) {
                counts[idx] += 1;
                chosen_ids.insert(&r.scenario);
                chosen.push(r);
            }
        }
    }
    let mut levels: BTreeMap<String, u8> = a.map(|a| a.scenario_levels.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for stage in 1..=3u8 {
        let items: Vec<&&Recommendation> = chosen.iter().filter(|r| r.stage == stage).collect();
        if items.is_empty() {
            continue;
        }
        let ids: Vec<String> = items.iter().map(|r| r.scenario.clone()).collect();
        let tiers: Vec<CostTier> = ids
            .iter()
            .filter_map(|i| kb.scenario(i))
            .map(|s| s.cost_tier)
            .collect();
        let cost_estimate = tiers.iter().fold([0.0, 0.0], |acc, t| {
            let r = kb.rules.cost_tiers.range(*t);
            [acc[0] + r.min, acc[1] + r.max]
        });
        let mut effects = Vec::new();
        if a.is_some() {
            for is in &kb.questionnaire.scenario {
                let from = levels.get(&is.id).copied().unwrap_or(0);
                // One level per stage: a level takes time to bed in before the next.
                let to = if from < 4 && is.lifted_by(from + 1).iter().any(|x| ids.contains(x)) {
                    from + 1
                } else {
                    from
                };
                if to > from {
                    effects.push(LevelEffect {
                        indicator: is.id.clone(),
                        from,
                        to,
                    });
                    levels.insert(is.id.clone(), to);
                }
            }
        }
        let months = match stage {
            1 => [0, rm.quick_win_months],
            2 => [rm.quick_win_months, rm.mid_term_months],
            _ => [rm.mid_term_months, 36],
        };
        out.push(Stage {
            stage,
            months,
            scenarios: ids,
            cost_tier: tiers.iter().max().copied(),
            cost_estimate,
            level_effects: effects,
        });
    }
    out
}

/// The report cases most similar to this profile.
pub fn peers(
    kb: &KnowledgeBase,
    c: &Classification,
    recs: &[Recommendation],
    p: &Profile,
) -> Vec<PeerCase> {
    // Scores first, allocate only for the five that are returned.
    let d = kb.derived();
    let mut in_top = vec![false; kb.scenarios.len()];
    for r in recs.iter().take(8) {
        if let Some(&i) = d.scenario_ix.get(r.scenario.as_str()) {
            in_top[i] = true;
        }
    }
    let mut scored: Vec<(f64, usize)> = kb
        .cases
        .iter()
        .enumerate()
        .map(|(ci, k)| {
            let mut sim = 0.0;
            if k.sector.is_some() && k.sector == c.sector {
                sim += 3.0;
            }
            if k.group == c.group {
                sim += 1.0;
            }
            if k.profile.product_complexity == Some(c.complexity.value) {
                sim += 0.5;
            }
            if k.profile.chain_position == Some(c.chain_position.value) {
                sim += 0.5;
            }
            if p.supplies_chain_leader.is_some()
                && k.profile.supplies_chain_leader == p.supplies_chain_leader
            {
                sim += 0.3;
            }
            let shared = d.case_scenarios[ci].iter().filter(|&&i| in_top[i]).count();
            sim += 0.8 * shared as f64;
            ((sim * 100.0).round() / 100.0, ci)
        })
        .filter(|(sim, _)| *sim > 0.0)
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| kb.cases[a.1].id.cmp(&kb.cases[b.1].id))
    });
    scored
        .into_iter()
        .take(5)
        .map(|(sim, ci)| {
            let k = &kb.cases[ci];
            PeerCase {
                case: k.id.clone(),
                similarity: sim,
                shared: d.case_scenarios[ci]
                    .iter()
                    .filter(|&&i| in_top[i])
                    .map(|&i| kb.scenarios[i].id.clone())
                    .collect(),
            }
        })
        .collect()
}
