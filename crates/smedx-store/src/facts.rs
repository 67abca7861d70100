//! Assessment facts: the few values of a completed assessment that the dashboards count, derived
//! from the engine's stored report, and the rollup deltas a fact adds to (or takes from) the
//! dashboard cubes.
//!
//! A fact is written in the same transaction as the completion (and by imports), one row per
//! completed assessment in `assessment_facts`; the enterprise's latest fact (`is_latest = 1`) is
//! what the dashboards count, rolled up in `fact_cube` (counters) and `fact_cube_items`
//! (multi-valued facts: recommended scenarios, pain-point words, obstacles, primary path). The
//! rollup has one row per campaign (0 = all enterprises), region key (the empty string, then the
//! 2-, 4- and 6-digit prefixes of the fact's region code), cluster, sub-sector, group, size class
//! and month of completion, so that a dashboard of any region reads only that region's rows.
//!
//! The store reads the report as JSON (it does not depend on the engine); the shape it reads is
//! checked against the engine by this crate's tests.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::Id;
use crate::scope::{month_of, region_code_text};

/// The 16 business scenarios of the 2024 questionnaire (数字化经营), in questionnaire order: the
/// positions of [`Fact::scenario_levels`] and of the `sII_L` rollup columns.
pub const SCENARIO_IDS: [&str; 16] = [
    "product_design",
    "process_design",
    "marketing",
    "after_sales",
    "planning",
    "production_control",
    "quality",
    "equipment",
    "safety",
    "energy",
    "procurement",
    "warehouse",
    "finance",
    "hr",
    "office",
    "decision",
];

/// Levels of the national assessment: 0 (below level 1) to 4.
pub const LEVELS: usize = 5;
/// Recommended scenarios kept per fact: the first of stages 1 and 2, in the report's order.
pub const MAX_RECOMMENDED: usize = 5;
/// Pain-point words kept per fact: the first distinct matched words, best match first.
pub const MAX_PAIN_WORDS: usize = 3;
/// Longest item (word, id) kept; longer ones are cut.
pub const MAX_ITEM_CHARS: usize = 40;

/// The kinds of multi-valued facts in `fact_cube_items`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// Recommended scenarios of roadmap stages 1 and 2.
    Recommended,
    /// Matched pain-point words.
    PainWord,
    Obstacle,
    /// The primary transformation path.
    Path,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Recommended,
        ItemKind::PainWord,
        ItemKind::Obstacle,
        ItemKind::Path,
    ];

    /// The code stored in `fact_cube_items.kind`.
    pub fn code(self) -> &'static str {
        match self {
            ItemKind::Recommended => "rec",
            ItemKind::PainWord => "pain",
            ItemKind::Obstacle => "obstacle",
            ItemKind::Path => "path",
        }
    }
}

/// The counters of `fact_cube`, in column order (see migration 0003).
pub const COUNTERS: [&str; 85] = [
    "n",
    "score_milli",
    "lv0",
    "lv1",
    "lv2",
    "lv3",
    "lv4",
    "bin0",
    "bin1",
    "bin2",
    "bin3",
    "bin4",
    "bin5",
    "bin6",
    "bin7",
    "bin8",
    "bin9",
    "away1",
    "away2",
    "away3",
    "away4",
    "s01_1",
    "s01_2",
    "s01_3",
    "s01_4",
    "s02_1",
    "s02_2",
    "s02_3",
    "s02_4",
    "s03_1",
    "s03_2",
    "s03_3",
    "s03_4",
    "s04_1",
    "s04_2",
    "s04_3",
    "s04_4",
    "s05_1",
    "s05_2",
    "s05_3",
    "s05_4",
    "s06_1",
    "s06_2",
    "s06_3",
    "s06_4",
    "s07_1",
    "s07_2",
    "s07_3",
    "s07_4",
    "s08_1",
    "s08_2",
    "s08_3",
    "s08_4",
    "s09_1",
    "s09_2",
    "s09_3",
    "s09_4",
    "s10_1",
    "s10_2",
    "s10_3",
    "s10_4",
    "s11_1",
    "s11_2",
    "s11_3",
    "s11_4",
    "s12_1",
    "s12_2",
    "s12_3",
    "s12_4",
    "s13_1",
    "s13_2",
    "s13_3",
    "s13_4",
    "s14_1",
    "s14_2",
    "s14_3",
    "s14_4",
    "s15_1",
    "s15_2",
    "s15_3",
    "s15_4",
    "s16_1",
    "s16_2",
    "s16_3",
    "s16_4",
];
pub const NCOUNTERS: usize = COUNTERS.len();
/// Index of the first of each counter group in [`COUNTERS`].
pub const C_N: usize = 0;
pub const C_SCORE: usize = 1;
pub const C_LEVEL: usize = 2;
pub const C_BIN: usize = 7;
pub const C_AWAY: usize = 17;
pub const C_SCENARIO: usize = 21;

/// The column of "scenario `index` (0-based, questionnaire order) rated `level` (1–4)".
pub fn scenario_counter(index: usize, level: usize) -> usize {
    C_SCENARIO + index * 4 + (level - 1)
}

/// What the dashboards count of one completed assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// Sub-sector id, when the industry maps to one.
    pub sector: Option<String>,
    /// Broad group id (equipment_mfg, consumer_goods …).
    pub group: String,
    /// micro | small | medium | large.
    pub size: String,
    pub level: u8,
    pub score: f64,
    pub primary_path: Option<String>,
    /// Rating 0–4 of each indicator scenario, in [`SCENARIO_IDS`] order.
    pub scenario_levels: [u8; 16],
    /// Bit `k-1` set when the firm is one indicator scenario short of level `k`: below level `k`,
    /// the score condition of level `k` met, and raising a single scenario to the level's
    /// scenario level would meet both count conditions (all scenarios, and constrained ones).
    pub one_away: u8,
    pub recommended: Vec<String>,
    pub obstacles: Vec<String>,
    pub pain_words: Vec<String>,
}

/// A fact with where, when and whose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactRow {
    pub assessment_id: Id,
    pub enterprise_id: Id,
    /// Six-digit region code (integer), as of completion.
    pub region_code: Option<i64>,
    pub cluster_id: Option<String>,
    pub completed_at: i64,
    pub fact: Fact,
}

/// An item as stored: trimmed, without commas or control characters, at most
/// [`MAX_ITEM_CHARS`] characters; None when nothing is left.
pub fn clean_item(text: &str) -> Option<String> {
    let cleaned: String = text
        .chars()
        .map(|c| if c == ',' || c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_ITEM_CHARS)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

fn push_unique(list: &mut Vec<String>, text: &str, max: usize) {
    if list.len() >= max {
        return;
    }
    if let Some(item) = clean_item(text)
        && !list.contains(&item)
    {
        list.push(item);
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl Fact {
    /// The fact of an engine report (the JSON the store keeps as an assessment's result); None
    /// when the report has no assessment section (no level was determined).
    pub fn from_report(report: &Value) -> Option<Fact> {
        let a = report.get("assessment").filter(|a| a.is_object())?;
        let level = u8::try_from(a.get("level")?.as_u64()?.min(4)).ok()?;
        let score = a.get("score")?.as_f64().filter(|s| s.is_finite())?;

        let mut scenario_levels = [0u8; 16];
        if let Some(levels) = a.get("scenario_levels") {
            for (slot, id) in scenario_levels.iter_mut().zip(SCENARIO_IDS) {
                *slot = levels
                    .get(id)
                    .and_then(Value::as_u64)
                    .map_or(0, |l| u8::try_from(l.min(4)).unwrap_or(0));
            }
        }

        let mut one_away = 0u8;
        for entry in a
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(target) = entry.get(0).and_then(Value::as_u64) else {
                continue;
            };
            if !(1..=4).contains(&target) || u64::from(level) >= target {
                continue;
            }
            let conditions = entry.get(1).and_then(Value::as_array);
            let find = |kind: &str| {
                conditions
                    .into_iter()
                    .flatten()
                    .find(|c| text(c, "kind") == Some(kind))
            };
            let score_met = find("score")
                .and_then(|c| c.get("met"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let short = |kind: &str| -> Option<u64> {
                let c = find(kind)?;
                let required = c.get("required")?.as_u64()?;
                let actual = c.get("actual")?.as_u64()?;
                Some(required.saturating_sub(actual))
            };
            if let (true, Some(all), Some(constrained)) =
                (score_met, short("scenarios"), short("constrained"))
                && all <= 1
                && constrained <= 1
                && all + constrained > 0
            {
                one_away |= 1 << (target - 1);
            }
        }

        let mut obstacles = Vec::new();
        for o in a
            .get("obstacles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(o) = o.as_str() {
                push_unique(&mut obstacles, o, 16);
            }
        }

        let c = report.get("classification").cloned().unwrap_or(Value::Null);
        let sector = text(&c, "sector").and_then(clean_item);
        let group = text(&c, "group")
            .and_then(clean_item)
            .unwrap_or_else(|| "other".to_owned());
        let size = c
            .get("size")
            .and_then(|s| text(s, "size_class"))
            .and_then(clean_item)
            .unwrap_or_else(|| "unknown".to_owned());
        let primary_path = c
            .get("paths")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get("primary").and_then(Value::as_bool) == Some(true))
            .and_then(|p| text(p, "id"))
            .and_then(clean_item);

        let mut recommended = Vec::new();
        for r in report
            .get("recommendations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let stage = r.get("stage").and_then(Value::as_u64).unwrap_or(0);
            if (1..=2).contains(&stage)
                && let Some(s) = text(r, "scenario")
            {
                push_unique(&mut recommended, s, MAX_RECOMMENDED);
            }
        }

        let mut pain_words = Vec::new();
        for hit in report
            .get("pain_points")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for w in hit
                .get("matched")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(w) = w.as_str() {
                    push_unique(&mut pain_words, w, MAX_PAIN_WORDS);
                }
            }
        }

        Some(Fact {
            sector,
            group,
            size,
            level,
            score,
            primary_path,
            scenario_levels,
            one_away,
            recommended,
            obstacles,
            pain_words,
        })
    }

    /// The scenario ratings as stored: 16 digits.
    pub fn scenario_code(&self) -> String {
        self.scenario_levels
            .iter()
            .map(|l| char::from(b'0' + (*l).min(4)))
            .collect()
    }

    /// Ratings from their stored digits (anything else counts as 0).
    pub fn parse_scenario_code(code: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (slot, b) in out.iter_mut().zip(code.bytes()) {
            if (b'0'..=b'4').contains(&b) {
                *slot = b - b'0';
            }
        }
        out
    }

    /// The score in thousandths, as the rollups sum it (scores have three decimals).
    pub fn score_milli(&self) -> i64 {
        // Scores are 0–100 (the clamp only guards against a malformed report).
        (self.score.clamp(-1e9, 1e9) * 1000.0).round() as i64
    }

    /// The 10-point bin of the score: [0,10) → 0 … [90,100] → 9.
    pub fn score_bin(&self) -> usize {
        let bin = (self.score / 10.0).floor();
        if bin.is_nan() || bin < 0.0 {
            0
        } else if bin >= 9.0 {
            9
        } else {
            bin as usize
        }
    }

    /// This fact's contribution to the counters of its rollup row.
    pub fn counters(&self) -> [i64; NCOUNTERS] {
        let mut c = [0i64; NCOUNTERS];
        c[C_N] = 1;
        c[C_SCORE] = self.score_milli();
        c[C_LEVEL + usize::from(self.level.min(4))] = 1;
        c[C_BIN + self.score_bin()] = 1;
        for k in 0..4 {
            if self.one_away & (1 << k) != 0 {
                c[C_AWAY + k] = 1;
            }
        }
        for (i, l) in self.scenario_levels.iter().enumerate() {
            if (1..=4).contains(l) {
                c[scenario_counter(i, usize::from(*l))] = 1;
            }
        }
        c
    }

    /// The multi-valued items of this fact.
    pub fn items(&self) -> Vec<(ItemKind, &str)> {
        let mut out: Vec<(ItemKind, &str)> = Vec::new();
        out.extend(
            self.recommended
                .iter()
                .map(|s| (ItemKind::Recommended, s.as_str())),
        );
        out.extend(
            self.pain_words
                .iter()
                .map(|s| (ItemKind::PainWord, s.as_str())),
        );
        out.extend(
            self.obstacles
                .iter()
                .map(|s| (ItemKind::Obstacle, s.as_str())),
        );
        if let Some(p) = &self.primary_path {
            out.push((ItemKind::Path, p.as_str()));
        }
        out
    }
}

/// A list as stored: comma-separated.
pub fn join_list(items: &[String]) -> String {
    items.join(",")
}

/// A stored list.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The region keys a fact is counted under: everywhere, then its province, city and county.
pub fn region_keys(region_code: Option<i64>) -> Vec<String> {
    let mut keys = vec![String::new()];
    if let Some(code) = region_code {
        let text = region_code_text(code);
        for len in [2, 4, 6] {
            if let Some(prefix) = text.get(..len) {
                keys.push(prefix.to_owned());
            }
        }
    }
    keys
}

// ---- rollup deltas ----------------------------------------------------------------------------

/// Strings interned as small numbers, so that a delta of millions of keys stays small.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let id = u32::try_from(self.strings.len()).unwrap_or(u32::MAX);
        let s: Arc<str> = Arc::from(s);
        self.strings.push(s.clone());
        self.ids.insert(s, id);
        id
    }
    fn get(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct MainKey {
    campaign: Id,
    region: u32,
    cluster: u32,
    sector: u32,
    grp: u32,
    size: u32,
    month: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ItemKey {
    main: MainKey,
    kind: ItemKind,
    item: u32,
}

/// The key of a `fact_item_totals` row: an item by campaign, region key and month only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct TotalKey {
    campaign: Id,
    region: u32,
    kind: ItemKind,
    month: i64,
    item: u32,
}

/// Changes to the rollups: what facts add (sign +1) or take away (−1). Applied by the store as
/// upserts in the transaction that changes the facts.
#[derive(Debug, Default)]
pub struct CubeDelta {
    strings: Interner,
    main: HashMap<MainKey, [i64; NCOUNTERS]>,
    items: HashMap<ItemKey, i64>,
    totals: HashMap<TotalKey, i64>,
}

impl CubeDelta {
    pub fn new() -> CubeDelta {
        CubeDelta::default()
    }

    /// Counts `row` (with `sign` +1 or −1) for all enterprises and for each of `campaigns`.
    pub fn add(&mut self, row: &FactRow, campaigns: &[Id], sign: i64) {
        let mut targets = Vec::with_capacity(campaigns.len() + 1);
        targets.push(0);
        targets.extend_from_slice(campaigns);
        self.add_to(row, &targets, sign);
    }

    /// Counts `row` in the rollups of exactly these campaigns (0 = all enterprises).
    pub fn add_to(&mut self, row: &FactRow, targets: &[Id], sign: i64) {
        let f = &row.fact;
        let counters = f.counters();
        let items: Vec<(ItemKind, u32)> = f
            .items()
            .into_iter()
            .map(|(kind, item)| (kind, self.strings.id(item)))
            .collect();
        let cluster = self.strings.id(row.cluster_id.as_deref().unwrap_or(""));
        let sector = self.strings.id(f.sector.as_deref().unwrap_or(""));
        let grp = self.strings.id(&f.group);
        let size = self.strings.id(&f.size);
        let month = month_of(row.completed_at);
        let regions: Vec<u32> = region_keys(row.region_code)
            .iter()
            .map(|k| self.strings.id(k))
            .collect();
        for campaign in targets {
            for region in &regions {
                let key = MainKey {
                    campaign: *campaign,
                    region: *region,
                    cluster,
                    sector,
                    grp,
                    size,
                    month,
                };
                let slot = self.main.entry(key).or_insert([0; NCOUNTERS]);
                for (s, c) in slot.iter_mut().zip(counters) {
                    *s += sign * c;
                }
                for (kind, item) in &items {
                    *self
                        .items
                        .entry(ItemKey {
                            main: key,
                            kind: *kind,
                            item: *item,
                        })
                        .or_insert(0) += sign;
                    *self
                        .totals
                        .entry(TotalKey {
                            campaign: *campaign,
                            region: *region,
                            kind: *kind,
                            month,
                            item: *item,
                        })
                        .or_insert(0) += sign;
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.main.is_empty() && self.items.is_empty() && self.totals.is_empty()
    }

    /// Keys held (rollup rows and item rows); the store flushes a delta that grows large.
    pub fn len(&self) -> usize {
        self.main.len() + self.items.len() + self.totals.len()
    }

    /// The rank of every interned string in byte order, so that keys sort as integers.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> =
            (0..u32::try_from(self.strings.strings.len()).unwrap_or(u32::MAX)).collect();
        order.sort_unstable_by(|a, b| self.strings.get(*a).cmp(self.strings.get(*b)));
        let mut rank = vec![0u32; order.len()];
        for (r, id) in order.into_iter().enumerate() {
            rank[id as usize] = u32::try_from(r).unwrap_or(u32::MAX);
        }
        rank
    }

    fn key(&self, k: &MainKey) -> CubeKeyRef<'_> {
        CubeKeyRef {
            campaign_id: k.campaign,
            region_key: self.strings.get(k.region),
            cluster_id: self.strings.get(k.cluster),
            sector: self.strings.get(k.sector),
            grp: self.strings.get(k.grp),
            size: self.strings.get(k.size),
            month: k.month,
        }
    }

    /// The rollup rows that change, in key order (so that concurrent writers lock rows in the
    /// same order), without rows whose counters all cancel out.
    pub fn main_rows(&self) -> Vec<(CubeKeyRef<'_>, &[i64; NCOUNTERS])> {
        let rank = self.ranks();
        let r = |id: u32| rank[id as usize];
        let mut rows: Vec<(&MainKey, &[i64; NCOUNTERS])> = self
            .main
            .iter()
            .filter(|(_, c)| c.iter().any(|x| *x != 0))
            .collect();
        rows.sort_unstable_by_key(|(k, _)| {
            (
                k.campaign,
                r(k.region),
                r(k.cluster),
                r(k.sector),
                r(k.grp),
                r(k.size),
                k.month,
            )
        });
        rows.into_iter().map(|(k, c)| (self.key(k), c)).collect()
    }

    /// The item rows that change, in key order, without zero changes.
    pub fn item_rows(&self) -> Vec<(CubeKeyRef<'_>, ItemKind, &str, i64)> {
        let rank = self.ranks();
        let r = |id: u32| rank[id as usize];
        let mut rows: Vec<(&ItemKey, i64)> = self
            .items
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| (k, *n))
            .collect();
        rows.sort_unstable_by_key(|(k, _)| {
            let m = &k.main;
            (
                m.campaign,
                r(m.region),
                k.kind.code(),
                r(m.cluster),
                r(m.sector),
                r(m.grp),
                r(m.size),
                m.month,
                r(k.item),
            )
        });
        rows.into_iter()
            .map(|(k, n)| (self.key(&k.main), k.kind, self.strings.get(k.item), n))
            .collect()
    }
}

impl CubeDelta {
    /// The item totals that change (campaign, region key, kind, month, item, change), in key
    /// order, without zero changes.
    pub fn total_rows(&self) -> Vec<(Id, &str, ItemKind, i64, &str, i64)> {
        let rank = self.ranks();
        let r = |id: u32| rank[id as usize];
        let mut rows: Vec<(&TotalKey, i64)> = self
            .totals
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|(k, n)| (k, *n))
            .collect();
        rows.sort_unstable_by_key(|(k, _)| {
            (k.campaign, r(k.region), k.kind.code(), k.month, r(k.item))
        });
        rows.into_iter()
            .map(|(k, n)| {
                (
                    k.campaign,
                    self.strings.get(k.region),
                    k.kind,
                    k.month,
                    self.strings.get(k.item),
                    n,
                )
            })
            .collect()
    }
}

/// A rollup key borrowed from a [`CubeDelta`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CubeKeyRef<'a> {
    pub campaign_id: Id,
    pub region_key: &'a str,
    pub cluster_id: &'a str,
    pub sector: &'a str,
    pub grp: &'a str,
    pub size: &'a str,
    pub month: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A report of the shape `smedx_core::recommend::Report` serialises to (the fields read).
    pub(crate) fn report() -> Value {
        json!({
            "classification": {
                "sector": "metal", "group": "equipment_mfg",
                "size": {"size_class": "small", "is_sme": true},
                "paths": [
                    {"id": "cluster", "mode": "cluster.core", "primary": false},
                    {"id": "chain", "mode": "chain.supplier", "primary": true}
                ]
            },
            "assessment": {
                "score": 45.5, "level": 1,
                "scenario_levels": {"quality": 2, "production_control": 3, "hr": 1, "decision": 4},
                "conditions": [
                    [1, [{"kind": "score", "required": 20.0, "actual": 45.5, "met": true},
                         {"kind": "scenarios", "level": 1, "required": 6, "actual": 7, "met": true},
                         {"kind": "constrained", "level": 1, "required": 3, "actual": 4, "met": true}]],
                    [2, [{"kind": "score", "required": 40.0, "actual": 45.5, "met": true},
                         {"kind": "scenarios", "level": 2, "required": 6, "actual": 5, "met": false},
                         {"kind": "constrained", "level": 2, "required": 3, "actual": 2, "met": false}]],
                    [3, [{"kind": "score", "required": 60.0, "actual": 45.5, "met": false},
                         {"kind": "scenarios", "level": 3, "required": 8, "actual": 7, "met": false},
                         {"kind": "constrained", "level": 3, "required": 5, "actual": 5, "met": true}]]
                ],
                "obstacles": ["budget", "skills", "budget"]
            },
            "pain_points": [
                {"scenario": "a", "relevance": 0.9, "matched": ["交期", "计件工资"]},
                {"scenario": "b", "relevance": 0.5, "matched": ["交期", "a,b", "库存"]}
            ],
            "recommendations": [
                {"scenario": "pl.transparency", "stage": 1},
                {"scenario": "qc.inspection", "stage": 3},
                {"scenario": "ops.erp", "stage": 2}
            ]
        })
    }

    #[test]
    fn a_fact_is_read_from_a_report() {
        let f = Fact::from_report(&report()).expect("a fact");
        assert_eq!(f.sector.as_deref(), Some("metal"));
        assert_eq!(f.group, "equipment_mfg");
        assert_eq!(f.size, "small");
        assert_eq!(f.level, 1);
        assert_eq!(f.score, 45.5);
        assert_eq!(f.primary_path.as_deref(), Some("chain"));
        assert_eq!(f.scenario_code(), "0000032000000104");
        assert_eq!(
            Fact::parse_scenario_code(&f.scenario_code()),
            f.scenario_levels
        );
        assert_eq!(
            f.one_away, 0b010,
            "one short of level 2 on both counts; level 3 lacks score"
        );
        assert_eq!(f.recommended, ["pl.transparency", "ops.erp"]);
        assert_eq!(f.obstacles, ["budget", "skills"]);
        assert_eq!(f.pain_words, ["交期", "计件工资", "a b"]);
        let c = f.counters();
        assert_eq!(c[C_N], 1);
        assert_eq!(c[C_SCORE], 45_500);
        assert_eq!(c[C_LEVEL + 1], 1);
        assert_eq!(c[C_BIN + 4], 1);
        assert_eq!(c[C_AWAY + 1], 1);
        assert_eq!(c[scenario_counter(5, 3)], 1, "production_control at 3");
        assert_eq!(c.iter().sum::<i64>(), 1 + 45_500 + 1 + 1 + 1 + 4);
        assert_eq!(COUNTERS[scenario_counter(15, 4)], "s16_4");
        assert_eq!(COUNTERS[C_AWAY], "away1");
        assert_eq!(COUNTERS[C_BIN + 9], "bin9");
    }

    #[test]
    fn a_report_without_assessment_has_no_fact() {
        let mut r = report();
        r["assessment"] = Value::Null;
        assert_eq!(Fact::from_report(&r), None);
        assert_eq!(Fact::from_report(&json!({})), None);
        assert_eq!(Fact::from_report(&json!("text")), None);
    }

    #[test]
    fn scores_fall_in_bins() {
        let mut f = Fact::from_report(&report()).expect("a fact");
        for (score, bin) in [
            (0.0, 0),
            (9.999, 0),
            (10.0, 1),
            (89.9, 8),
            (90.0, 9),
            (100.0, 9),
        ] {
            f.score = score;
            assert_eq!(f.score_bin(), bin, "{score}");
        }
    }

    #[test]
    fn items_are_cleaned() {
        assert_eq!(clean_item("  a,\tb \u{0}c "), Some("a b c".into()));
        assert_eq!(clean_item(" , "), None);
        assert_eq!(
            clean_item(&"字".repeat(100)).map(|s| s.chars().count()),
            Some(MAX_ITEM_CHARS)
        );
        assert_eq!(
            split_list(&join_list(&["a".into(), "b".into()])),
            ["a", "b"]
        );
        assert!(split_list("").is_empty());
    }

    #[test]
    fn deltas_count_every_region_level_and_campaign() {
        let row = FactRow {
            assessment_id: 1,
            enterprise_id: 2,
            region_code: Some(320_506),
            cluster_id: Some("wuzhong".into()),
            completed_at: 1_700_000_000,
            fact: Fact::from_report(&report()).expect("a fact"),
        };
        let mut d = CubeDelta::new();
        d.add(&row, &[7], 1);
        let rows = d.main_rows();
        assert_eq!(rows.len(), 8, "4 region keys x (all + campaign 7)");
        let keys: Vec<(i64, &str)> = rows
            .iter()
            .map(|(k, _)| (k.campaign_id, k.region_key))
            .collect();
        assert_eq!(
            keys,
            [
                (0, ""),
                (0, "32"),
                (0, "3205"),
                (0, "320506"),
                (7, ""),
                (7, "32"),
                (7, "3205"),
                (7, "320506")
            ]
        );
        assert!(rows.iter().all(|(k, c)| k.month == 202_311 && c[C_N] == 1));
        assert_eq!(
            d.item_rows().len(),
            8 * 8,
            "2 recs + 3 words + 2 obstacles + 1 path"
        );
        d.add(&row, &[7], -1);
        assert!(
            d.main_rows().is_empty() && d.item_rows().is_empty(),
            "cancels out"
        );
        let nowhere = FactRow {
            region_code: None,
            ..row
        };
        let mut d = CubeDelta::new();
        d.add(&nowhere, &[], 1);
        assert_eq!(d.main_rows().len(), 1, "only the all-regions key");
    }
}
