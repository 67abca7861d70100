//! Dashboard aggregates: the filters they take, what they return, and small-group suppression.
//!
//! **Suppression lives here and only here** ([`suppress_table`], [`suppress_count`],
//! [`suppress_items`]): every aggregate the store returns has passed through these functions with
//! the caller's `k`, and a suppressed cell carries no number at all ([`Cell::Suppressed`]), so no
//! page, export or API response can show one by mistake. `k = 1` suppresses nothing (for an
//! operator who needs every figure); the default for anything that leaves the authority
//! (cluster users, public exports, the command line) is `k = 5`.
//!
//! The rules, for a table of counts with its row totals, column totals and grand total published:
//!
//! 1. **Primary**: a count from 1 to k−1 is suppressed (zero is shown: it describes no firm).
//! 2. **Small groups**: a row, column or table whose total is from 1 to k−1 is suppressed
//!    whole, zeros included (else a group of three firms that are all at level 2 would show it).
//! 3. **Complementary**: in every published line that adds up to a published total (a row and
//!    its total, a column and its total when column totals are published, the row totals and the
//!    grand total), a single suppressed cell could be recovered by subtraction, so the smallest
//!    other non-zero cell of the line is suppressed too (a zero when there is none); a suppressed
//!    row or column total takes its whole row or column with it. Repeated until no line has
//!    exactly one suppressed cell.
//!
//! Statistics of a group (mean, median) are shown only when the group has at least k members.
//! Lists of multi-valued items (recommended scenarios, pain-point words, obstacles) do not add up
//! to a total, so only rule 1 applies to them; suppressed pain-point words (free text of fewer
//! than k firms) are left out of the list, not just their counts.

use serde::{Serialize, Serializer};

use crate::Id;
use crate::facts::{ItemKind, LEVELS, SCENARIO_IDS};
use crate::scope::RegionPrefix;

/// A published figure, or the mark of a suppressed one (serialised as the bare value, or as
/// `{"suppressed": true}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<T = i64> {
    Shown(T),
    Suppressed,
}

impl<T: Copy> Cell<T> {
    pub fn value(&self) -> Option<T> {
        match self {
            Cell::Shown(v) => Some(*v),
            Cell::Suppressed => None,
        }
    }
    pub fn is_suppressed(&self) -> bool {
        matches!(self, Cell::Suppressed)
    }
}

impl<T: Serialize> Serialize for Cell<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Cell::Shown(v) => v.serialize(s),
            Cell::Suppressed => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("suppressed", &true)?;
                m.end()
            }
        }
    }
}

fn small(count: i64, k: i64) -> bool {
    count > 0 && count < k
}

/// One count on its own (rule 1).
pub fn suppress_count(count: i64, k: i64) -> Cell {
    if small(count, k) {
        Cell::Suppressed
    } else {
        Cell::Shown(count)
    }
}

/// A statistic of a group of `base` members: shown only when the group has at least `k`.
pub fn suppress_stat(base: i64, k: i64, value: f64) -> Cell<f64> {
    if base >= k.max(1) && value.is_finite() {
        Cell::Shown(value)
    } else {
        Cell::Suppressed
    }
}

/// A table of counts after suppression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuppressedTable {
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub col_totals: Vec<Cell>,
    pub total: Cell,
}

/// Suppresses a table of counts by the rules of this module. Row totals and the grand total are
/// published; column totals too when `col_totals_published`. Rows shorter than the longest count
/// as padded with zeros.
pub fn suppress_table(counts: &[Vec<i64>], k: i64, col_totals_published: bool) -> SuppressedTable {
    let rows = counts.len();
    let cols = counts.iter().map(Vec::len).max().unwrap_or(0);
    let v = |i: usize, j: usize| counts[i].get(j).copied().unwrap_or(0);
    let row_sum: Vec<i64> = (0..rows)
        .map(|i| (0..cols).map(|j| v(i, j)).sum())
        .collect();
    let col_sum: Vec<i64> = (0..cols)
        .map(|j| (0..rows).map(|i| v(i, j)).sum())
        .collect();
    let total: i64 = row_sum.iter().sum();

    let hide_all = small(total, k);
    let mut hide: Vec<Vec<bool>> = (0..rows)
        .map(|i| (0..cols).map(|j| hide_all || small(v(i, j), k)).collect())
        .collect();
    let mut hide_row: Vec<bool> = row_sum.iter().map(|s| hide_all || small(*s, k)).collect();
    let mut hide_col: Vec<bool> = col_sum
        .iter()
        .map(|s| hide_all || (col_totals_published && small(*s, k)))
        .collect();

    // Picks the complement in a line: the smallest non-zero unsuppressed member, else any.
    fn complement(members: &[(i64, bool)]) -> Option<usize> {
        let open = || members.iter().enumerate().filter(|(_, (_, h))| !h);
        open()
            .filter(|(_, (c, _))| *c > 0)
            .min_by_key(|(_, (c, _))| *c)
            .or_else(|| open().next())
            .map(|(idx, _)| idx)
    }

    loop {
        let mut changed = false;
        // A suppressed row or column total takes its cells with it.
        for i in 0..rows {
            for j in 0..cols {
                if (hide_row[i] || hide_col[j]) && !hide[i][j] {
                    hide[i][j] = true;
                    changed = true;
                }
            }
        }
        // Rows against their totals.
        for i in 0..rows {
            if hide_row[i] {
                continue;
            }
            let line: Vec<(i64, bool)> = (0..cols).map(|j| (v(i, j), hide[i][j])).collect();
            if line.iter().filter(|(_, h)| *h).count() == 1
                && let Some(j) = complement(&line)
            {
                hide[i][j] = true;
                changed = true;
            }
        }
        // Columns against their totals.
        if col_totals_published {
            for j in 0..cols {
                if hide_col[j] {
                    continue;
                }
                let line: Vec<(i64, bool)> = (0..rows).map(|i| (v(i, j), hide[i][j])).collect();
                if line.iter().filter(|(_, h)| *h).count() == 1
                    && let Some(i) = complement(&line)
                {
                    hide[i][j] = true;
                    changed = true;
                }
            }
        }
        // Margins against the grand total.
        if !hide_all {
            let line: Vec<(i64, bool)> = (0..rows).map(|i| (row_sum[i], hide_row[i])).collect();
            if rows > 1
                && line.iter().filter(|(_, h)| *h).count() == 1
                && let Some(i) = complement(&line)
            {
                hide_row[i] = true;
                changed = true;
            }
            if col_totals_published {
                let line: Vec<(i64, bool)> = (0..cols).map(|j| (col_sum[j], hide_col[j])).collect();
                if cols > 1
                    && line.iter().filter(|(_, h)| *h).count() == 1
                    && let Some(j) = complement(&line)
                {
                    hide_col[j] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }

    let cell = |count: i64, hidden: bool| {
        if hidden {
            Cell::Suppressed
        } else {
            Cell::Shown(count)
        }
    };
    SuppressedTable {
        cells: (0..rows)
            .map(|i| (0..cols).map(|j| cell(v(i, j), hide[i][j])).collect())
            .collect(),
        row_totals: (0..rows).map(|i| cell(row_sum[i], hide_row[i])).collect(),
        col_totals: (0..cols)
            .map(|j| cell(col_sum[j], hide_col[j] || !col_totals_published))
            .collect(),
        total: cell(total, hide_all),
    }
}

/// A single distribution (one row that adds up to its published total).
pub fn suppress_row(counts: &[i64], k: i64) -> (Vec<Cell>, Cell) {
    let t = suppress_table(&[counts.to_vec()], k, false);
    let cells = t.cells.into_iter().next().unwrap_or_default();
    (cells, t.total)
}

/// Items of a multi-valued fact, most frequent first (then by id): counts under k are
/// suppressed; with `withhold`, suppressed items are left out (their number is returned).
pub fn suppress_items(
    mut items: Vec<(String, i64)>,
    k: i64,
    withhold: bool,
    limit: usize,
) -> (Vec<ItemCount>, usize) {
    items.retain(|(_, n)| *n > 0);
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = Vec::new();
    let mut withheld = 0;
    for (item, n) in items {
        let count = suppress_count(n, k);
        if withhold && count.is_suppressed() {
            withheld += 1;
            continue;
        }
        if out.len() < limit {
            out.push(ItemCount { item, count });
        }
    }
    (out, withheld)
}

// ---- what the aggregates take -------------------------------------------------------------------

/// Dashboard filters, on top of the caller's [`Scope`](crate::Scope).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filters {
    /// A region subtree inside the scope (a subtree outside it gives empty results).
    pub region: Option<RegionPrefix>,
    pub cluster: Option<String>,
    /// A sub-sector id (metal, textile …).
    pub sector: Option<String>,
    /// A broad group id (equipment_mfg …).
    pub group: Option<String>,
    /// micro | small | medium | large.
    pub size: Option<String>,
    /// The members of one campaign (consenting enterprises, wherever they are located); the
    /// campaign must be in the caller's scope.
    pub campaign: Option<Id>,
    /// Months of completion of the enterprises' latest assessment, YYYYMM, both inclusive.
    pub from_month: Option<i64>,
    pub to_month: Option<i64>,
}

/// Unix seconds, `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    pub from: i64,
    pub to: i64,
}

// ---- what the aggregates return -----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemCount {
    pub item: String,
    pub count: Cell,
}

/// Enterprises in scope and how far they got. `enterprises`, `in_progress` and `not_started`
/// are None when a sector, group, size or month filter is set (those describe assessments).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Participation {
    pub enterprises: Option<Cell>,
    /// With a completed assessment (matching the filters).
    pub assessed: Cell,
    /// A draft started, nothing completed yet.
    pub in_progress: Option<Cell>,
    pub not_started: Option<Cell>,
    /// Enterprises by the month of their latest completed assessment.
    pub completions_by_month: Vec<MonthCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthCount {
    /// "YYYY-MM".
    pub month: String,
    pub count: Cell,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelDistribution {
    pub assessed: Cell,
    /// Levels 0 (below level 1) to 4.
    pub levels: Vec<Cell>,
    pub mean_score: Cell<f64>,
    /// By sub-sector (or group, for industries without one) and size class.
    pub by_sector_size: Vec<SectorSizeLevels>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectorSizeLevels {
    pub sector: Option<String>,
    pub group: String,
    pub size: String,
    pub total: Cell,
    pub levels: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreHistogram {
    pub assessed: Cell,
    pub mean: Cell<f64>,
    /// Ten bins of 10 points: [0,10) … [90,100].
    pub bins: Vec<ScoreBin>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreBin {
    pub from: u32,
    pub to: u32,
    pub count: Cell,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioDistribution {
    pub assessed: Cell,
    /// The 16 indicator scenarios in questionnaire order.
    pub scenarios: Vec<ScenarioLevels>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioLevels {
    pub scenario: String,
    /// Rated 0 to 4.
    pub levels: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemCounts {
    pub kind: ItemKind,
    pub assessed: Cell,
    pub items: Vec<ItemCount>,
    /// Items left out because fewer than k firms share them (pain-point words only).
    pub withheld: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObstaclesBySize {
    pub sizes: Vec<SizeObstacles>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeObstacles {
    pub size: String,
    pub assessed: Cell,
    pub obstacles: Vec<ItemCount>,
}

/// How many firms meet a target level, and how many are one indicator scenario short of it
/// (score condition met; see [`crate::facts::Fact::one_away`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetTracker {
    pub target_level: u8,
    pub assessed: Cell,
    pub meets: Cell,
    pub one_away: Cell,
    pub further: Cell,
}

/// Two rounds of one campaign: members with a completed assessment in both (each round's latest
/// within its time range), how their level moved, and the change of score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub campaign_id: Id,
    pub round1: TimeRange,
    pub round2: TimeRange,
    /// Members assessed in both rounds.
    pub both: Cell,
    pub moved_up: Cell,
    pub unchanged: Cell,
    pub moved_down: Cell,
    /// `transitions[a][b]`: level a in round 1, level b in round 2.
    pub transitions: Vec<Vec<Cell>>,
    /// Median change of score, in points (to 0.1).
    pub median_change: Cell<f64>,
    pub mean_change: Cell<f64>,
}

/// One member's two rounds (individual data of a consenting member; not suppressed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressMember {
    pub enterprise_id: Id,
    pub name: String,
    pub level_before: u8,
    pub level_after: u8,
    pub score_before: f64,
    pub score_after: f64,
}

// ---- shaping raw sums into results (pure, shared by both backends) -----------------------------

/// Raw level sums of one (sub-sector, group, size) rollup group.
#[derive(Debug, Clone, PartialEq)]
pub struct SectorSizeRaw {
    pub sector: String,
    pub group: String,
    pub size: String,
    pub n: i64,
    pub score_milli: i64,
    pub levels: [i64; LEVELS],
}

pub fn level_distribution(mut rows: Vec<SectorSizeRaw>, k: i64) -> LevelDistribution {
    rows.retain(|r| r.n != 0);
    rows.sort_by(|a, b| (&a.sector, &a.group, &a.size).cmp(&(&b.sector, &b.group, &b.size)));
    let counts: Vec<Vec<i64>> = rows.iter().map(|r| r.levels.to_vec()).collect();
    let n: i64 = rows.iter().map(|r| r.n).sum();
    let milli: i64 = rows.iter().map(|r| r.score_milli).sum();
    let t = suppress_table(&counts, k, true);
    let levels = if rows.is_empty() {
        vec![Cell::Shown(0); LEVELS]
    } else {
        t.col_totals.clone()
    };
    LevelDistribution {
        assessed: if rows.is_empty() {
            Cell::Shown(0)
        } else {
            t.total
        },
        levels,
        mean_score: suppress_stat(n, k, mean_milli(milli, n)),
        by_sector_size: rows
            .into_iter()
            .zip(t.cells)
            .zip(t.row_totals)
            .map(|((r, levels), total)| SectorSizeLevels {
                sector: (!r.sector.is_empty()).then_some(r.sector),
                group: r.group,
                size: r.size,
                total,
                levels,
            })
            .collect(),
    }
}

fn mean_milli(milli: i64, n: i64) -> f64 {
    if n > 0 {
        (milli as f64 / n as f64 / 1000.0 * 100.0).round() / 100.0
    } else {
        f64::NAN
    }
}

pub fn score_histogram(n: i64, score_milli: i64, bins: &[i64], k: i64) -> ScoreHistogram {
    let (cells, total) = suppress_row(bins, k);
    ScoreHistogram {
        assessed: total,
        mean: suppress_stat(n, k, mean_milli(score_milli, n)),
        bins: cells
            .into_iter()
            .enumerate()
            .map(|(i, count)| {
                let from = u32::try_from(i).unwrap_or(0) * 10;
                ScoreBin {
                    from,
                    to: from + 10,
                    count,
                }
            })
            .collect(),
    }
}

/// `rated[i][l-1]`: scenario i rated l (1–4); rated 0 is the rest of `n`.
pub fn scenario_distribution(n: i64, rated: &[[i64; 4]; 16], k: i64) -> ScenarioDistribution {
    let counts: Vec<Vec<i64>> = rated
        .iter()
        .map(|r| {
            let zero = n - r.iter().sum::<i64>();
            let mut row = vec![zero.max(0)];
            row.extend_from_slice(r);
            row
        })
        .collect();
    let t = suppress_table(&counts, k, false);
    ScenarioDistribution {
        assessed: suppress_count(n, k),
        scenarios: SCENARIO_IDS
            .iter()
            .zip(t.cells)
            .map(|(id, levels)| ScenarioLevels {
                scenario: (*id).to_owned(),
                levels,
            })
            .collect(),
    }
}

pub fn item_counts(
    kind: ItemKind,
    n: i64,
    items: Vec<(String, i64)>,
    k: i64,
    limit: usize,
) -> ItemCounts {
    let (items, withheld) = suppress_items(items, k, kind == ItemKind::PainWord, limit);
    ItemCounts {
        kind,
        assessed: suppress_count(n, k),
        items,
        withheld,
    }
}

/// `sizes`: firms per size class; `items`: (size, obstacle, firms).
pub fn obstacles_by_size(
    sizes: Vec<(String, i64)>,
    items: Vec<(String, String, i64)>,
    k: i64,
) -> ObstaclesBySize {
    const ORDER: [&str; 4] = ["micro", "small", "medium", "large"];
    let rank = |s: &str| ORDER.iter().position(|o| *o == s).unwrap_or(ORDER.len());
    let mut sizes: Vec<(String, i64)> = sizes.into_iter().filter(|(_, n)| *n > 0).collect();
    sizes.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
    let counts: Vec<i64> = sizes.iter().map(|(_, n)| *n).collect();
    let (cells, _) = suppress_row(&counts, k);
    ObstaclesBySize {
        sizes: sizes
            .into_iter()
            .zip(cells)
            .map(|((size, _), assessed)| {
                let mine: Vec<(String, i64)> = items
                    .iter()
                    .filter(|(s, _, _)| *s == size)
                    .map(|(_, o, n)| (o.clone(), *n))
                    .collect();
                let obstacles = if assessed.is_suppressed() {
                    Vec::new()
                } else {
                    suppress_items(mine, k, false, usize::MAX).0
                };
                SizeObstacles {
                    size,
                    assessed,
                    obstacles,
                }
            })
            .collect(),
    }
}

/// `levels[l]`: firms at level l; `away[t-1]`: firms one scenario short of level t.
pub fn target_tracker(
    target: u8,
    levels: &[i64; LEVELS],
    away: &[i64; 4],
    k: i64,
) -> TargetTracker {
    let t = usize::from(target.clamp(1, 4));
    let n: i64 = levels.iter().sum();
    let meets: i64 = levels[t..].iter().sum();
    let one_away = away[t - 1];
    let further = n - meets - one_away;
    let (cells, total) = suppress_row(&[meets, one_away, further.max(0)], k);
    TargetTracker {
        target_level: target.clamp(1, 4),
        assessed: total,
        meets: cells[0],
        one_away: cells[1],
        further: cells[2],
    }
}

/// One group of members: (level in round 1, level in round 2, score change in tenths, members).
pub type ProgressRaw = (u8, u8, i64, i64);

pub fn progress(
    campaign_id: Id,
    round1: TimeRange,
    round2: TimeRange,
    rows: &[ProgressRaw],
    k: i64,
) -> Progress {
    let mut matrix = vec![vec![0i64; LEVELS]; LEVELS];
    let mut deltas: Vec<(i64, i64)> = Vec::new();
    for (a, b, d, n) in rows {
        let (a, b) = (usize::from((*a).min(4)), usize::from((*b).min(4)));
        matrix[a][b] += n;
        deltas.push((*d, *n));
    }
    let t = suppress_table(&matrix, k, true);
    let sum_where = |keep: &dyn Fn(usize, usize) -> bool| -> Cell {
        let mut total = 0;
        for a in 0..LEVELS {
            for b in 0..LEVELS {
                if keep(a, b) {
                    match t.cells[a][b] {
                        Cell::Shown(v) => total += v,
                        Cell::Suppressed => return Cell::Suppressed,
                    }
                }
            }
        }
        suppress_count(total, k)
    };
    let both: i64 = deltas.iter().map(|(_, n)| n).sum();
    deltas.sort_unstable();
    let median = median_tenths(&deltas, both);
    let mean = if both > 0 {
        deltas
            .iter()
            .map(|(d, n)| *d as f64 * *n as f64)
            .sum::<f64>()
            / both as f64
            / 10.0
    } else {
        f64::NAN
    };
    Progress {
        campaign_id,
        round1,
        round2,
        both: t.total,
        moved_up: sum_where(&|a, b| b > a),
        unchanged: sum_where(&|a, b| a == b),
        moved_down: sum_where(&|a, b| b < a),
        transitions: t.cells,
        median_change: suppress_stat(both, k, median),
        mean_change: suppress_stat(both, k, (mean * 100.0).round() / 100.0),
    }
}

/// The median of sorted (value, count) pairs, in points.
fn median_tenths(sorted: &[(i64, i64)], total: i64) -> f64 {
    if total <= 0 {
        return f64::NAN;
    }
    let at = |pos: i64| -> i64 {
        let mut seen = 0;
        for (v, n) in sorted {
            seen += n;
            if pos < seen {
                return *v;
            }
        }
        sorted.last().map_or(0, |(v, _)| *v)
    };
    let mid = if total % 2 == 1 {
        at(total / 2) as f64
    } else {
        (at(total / 2 - 1) + at(total / 2)) as f64 / 2.0
    };
    mid / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(cells: &[Cell]) -> Vec<Option<i64>> {
        cells.iter().map(Cell::value).collect()
    }

    #[test]
    fn cells_serialise_without_numbers_when_suppressed() {
        assert_eq!(serde_json::json!(Cell::Shown(12)), serde_json::json!(12));
        assert_eq!(
            serde_json::json!(Cell::<i64>::Suppressed),
            serde_json::json!({"suppressed": true})
        );
        assert_eq!(serde_json::json!(Cell::Shown(1.5)), serde_json::json!(1.5));
    }

    #[test]
    fn k_of_one_shows_everything() {
        let t = suppress_table(&[vec![1, 0, 2], vec![3, 1, 0]], 1, true);
        assert!(t.cells.iter().flatten().all(|c| !c.is_suppressed()));
        assert_eq!(t.total, Cell::Shown(7));
        assert_eq!(suppress_count(1, 1), Cell::Shown(1));
    }

    #[test]
    fn a_single_small_cell_takes_a_complement() {
        let (cells, total) = suppress_row(&[10, 3, 0, 8], 5);
        assert_eq!(shown(&cells), [Some(10), None, Some(0), None]);
        assert_eq!(total, Cell::Shown(21));
    }

    #[test]
    fn two_small_cells_need_no_complement() {
        let (cells, _) = suppress_row(&[10, 3, 2, 8], 5);
        assert_eq!(shown(&cells), [Some(10), None, None, Some(8)]);
    }

    #[test]
    fn a_small_group_is_suppressed_whole() {
        let (cells, total) = suppress_row(&[0, 3, 0], 5);
        assert!(cells.iter().all(Cell::is_suppressed), "zeros too");
        assert_eq!(total, Cell::Suppressed);
        let (cells, total) = suppress_row(&[0, 0], 5);
        assert_eq!(shown(&cells), [Some(0), Some(0)], "nothing to hide");
        assert_eq!(total, Cell::Shown(0));
    }

    #[test]
    fn no_line_keeps_exactly_one_suppressed_cell() {
        let counts = vec![
            vec![20, 6, 2, 0, 0],
            vec![15, 9, 7, 5, 0],
            vec![3, 1, 0, 0, 0],
            vec![30, 12, 9, 6, 1],
        ];
        for k in [2, 3, 5, 10] {
            let t = suppress_table(&counts, k, true);
            // primary
            for (i, row) in counts.iter().enumerate() {
                for (j, c) in row.iter().enumerate() {
                    if small(*c, k) {
                        assert!(t.cells[i][j].is_suppressed(), "k={k} ({i},{j})");
                    }
                }
            }
            // lines
            for (i, row) in t.cells.iter().enumerate() {
                if !t.row_totals[i].is_suppressed() {
                    assert_ne!(
                        row.iter().filter(|c| c.is_suppressed()).count(),
                        1,
                        "k={k} row {i}"
                    );
                } else {
                    assert!(
                        row.iter().all(Cell::is_suppressed),
                        "k={k} row {i} goes with its total"
                    );
                }
            }
            for j in 0..5 {
                if !t.col_totals[j].is_suppressed() {
                    let n = t.cells.iter().filter(|r| r[j].is_suppressed()).count();
                    assert_ne!(n, 1, "k={k} column {j}");
                }
            }
            assert_ne!(
                t.row_totals.iter().filter(|c| c.is_suppressed()).count(),
                1,
                "k={k}"
            );
            assert_ne!(
                t.col_totals.iter().filter(|c| c.is_suppressed()).count(),
                1,
                "k={k}"
            );
            // every shown figure is the true one
            for (i, row) in t.cells.iter().enumerate() {
                for (j, c) in row.iter().enumerate() {
                    if let Cell::Shown(v) = c {
                        assert_eq!(*v, counts[i][j]);
                    }
                }
            }
        }
    }

    #[test]
    fn items_are_ranked_and_pain_words_withheld() {
        let items = vec![
            ("b".to_owned(), 7),
            ("a".to_owned(), 7),
            ("c".to_owned(), 2),
            ("d".to_owned(), 0),
        ];
        let (list, withheld) = suppress_items(items.clone(), 5, false, 10);
        assert_eq!(
            list.iter()
                .map(|i| (i.item.as_str(), i.count.value()))
                .collect::<Vec<_>>(),
            [("a", Some(7)), ("b", Some(7)), ("c", None)]
        );
        assert_eq!(withheld, 0);
        let (list, withheld) = suppress_items(items, 5, true, 1);
        assert_eq!(list.len(), 1);
        assert_eq!(withheld, 1);
    }

    #[test]
    fn statistics_need_k_members() {
        assert_eq!(suppress_stat(4, 5, 1.0), Cell::Suppressed);
        assert_eq!(suppress_stat(5, 5, 1.0), Cell::Shown(1.0));
        assert_eq!(suppress_stat(0, 1, f64::NAN), Cell::Suppressed);
    }

    #[test]
    fn target_tracker_splits_the_assessed() {
        let t = target_tracker(2, &[10, 20, 15, 5, 0], &[0, 7, 3, 0], 1);
        assert_eq!(t.assessed, Cell::Shown(50));
        assert_eq!(t.meets, Cell::Shown(20));
        assert_eq!(t.one_away, Cell::Shown(7));
        assert_eq!(t.further, Cell::Shown(23));
    }

    #[test]
    fn progress_has_a_median_and_movers() {
        let r = TimeRange { from: 0, to: 1 };
        let rows = [(1, 2, 55, 6), (1, 1, 0, 5), (2, 1, -30, 5)];
        let p = progress(9, r, r, &rows, 5);
        assert_eq!(p.both, Cell::Shown(16));
        assert_eq!(p.moved_up, Cell::Shown(6));
        assert_eq!(p.unchanged, Cell::Shown(5));
        assert_eq!(p.moved_down, Cell::Shown(5));
        assert_eq!(p.median_change, Cell::Shown(0.0));
        assert_eq!(p.mean_change, Cell::Shown(1.13));
        let p = progress(9, r, r, &[(1, 2, 55, 6), (2, 3, 10, 2)], 5);
        assert_eq!(
            p.moved_up,
            Cell::Suppressed,
            "a suppressed transition hides the sum"
        );
        assert_eq!(p.median_change, Cell::Shown(5.5));
    }

    #[test]
    fn level_distribution_margins_agree() {
        let row = |sector: &str, size: &str, levels: [i64; 5]| SectorSizeRaw {
            sector: sector.into(),
            group: "g".into(),
            size: size.into(),
            n: levels.iter().sum(),
            score_milli: levels.iter().sum::<i64>() * 40_000,
            levels,
        };
        let d = level_distribution(
            vec![
                row("metal", "small", [5, 10, 6, 0, 0]),
                row("", "micro", [7, 8, 5, 5, 0]),
            ],
            5,
        );
        assert_eq!(d.assessed, Cell::Shown(46));
        assert_eq!(
            shown(&d.levels),
            [Some(12), Some(18), Some(11), Some(5), Some(0)]
        );
        assert_eq!(d.mean_score, Cell::Shown(40.0));
        assert_eq!(d.by_sector_size[0].sector, None);
        assert_eq!(d.by_sector_size[1].sector.as_deref(), Some("metal"));
    }
}
