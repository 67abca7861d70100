//! The regional dashboards: `/region` (every aggregate of the caller's scope as a chart with its
//! table), `/region/progress` (two rounds of a campaign), `/region/export/{table}.{csv|xlsx}`,
//! and the enterprises the caller may see individually (`/region/enterprises…`).
//!
//! Who sees what is the store's: every call takes the caller's [`Scope`], and every aggregate
//! comes back already suppressed with the `k` passed in. Here only `k` is chosen: cluster users
//! always get the configured k ([`AppState::suppress_k`]); authority and administrator users see
//! exact figures on screen (k = 1), and their exports apply k when marked public.
//!
//! Each view is built once as a [`DashTable`]; the page renders it (table + chart data) and the
//! export writes the same rows, so what is downloaded is what is on the screen.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use smedx_core::Lang;
use smedx_core::assessment::level_name;
use smedx_core::kb::KnowledgeBase;
use smedx_store::aggregate::{
    Cell, Filters, ItemCounts, LevelDistribution, ObstaclesBySize, Participation, Progress,
    ProgressMember, ScenarioDistribution, ScoreHistogram, TargetTracker, TimeRange,
};
use smedx_store::facts::ItemKind;
use smedx_store::regional::Campaign;
use smedx_store::scope::{parse_date, parse_month};
use smedx_store::{
    AuditAction, AuditRecord, Page, RegionPrefix, Role, Scope, StoreError, User, scope_for,
};

use crate::AppState;
use crate::audit;
use crate::ctx::{self, Ctx};
use crate::error::{AppError, AppResult, ErrorPage};
use crate::i18n;
use crate::pages::{date, page_offset};
use crate::service::{self, ServiceError};
use crate::view::{self, ResultView, json_script};

/// Enterprises per page of the list.
const PER_PAGE: i64 = 50;
/// Rows of the enterprise list an export holds at most (a larger scope is filtered first).
const MAX_EXPORT_ROWS: i64 = 200_000;
/// Enterprises read per query while exporting the list (few large pages: each page of the
/// list is sorted anew).
const EXPORT_PAGE: i64 = 20_000;
/// Groups of the sector × size chart (the table lists them all).
const CHART_GROUPS: usize = 15;
/// Campaigns offered in the filter.
const MAX_CAMPAIGNS: i64 = 200;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/region", get(dashboard))
        .route("/region/progress", get(progress))
        .route("/region/export/{file}", get(export))
        .route("/region/enterprises", get(enterprises))
        .route("/region/enterprises/{id}", get(enterprise))
        .route(
            "/region/enterprises/{id}/assessments/{aid}",
            get(enterprise_assessment),
        )
        .layer(from_fn_with_state(state.clone(), ctx::middleware))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Who may come in, and with which k
// ---------------------------------------------------------------------------------------------

struct Staff {
    user: User,
    scope: Scope,
}

/// Authority, cluster and administrator users with a scope; visitors go to the log-in page,
/// everybody else gets 403 (an authority account without a region has no scope either).
fn staff(c: &Ctx) -> Result<Staff, AppError> {
    let user = c.user()?.clone();
    if !matches!(user.role, Role::Authority | Role::Cluster | Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let scope = scope_for(&user).ok_or(AppError::Forbidden)?;
    Ok(Staff { user, scope })
}

impl Staff {
    fn is_cluster(&self) -> bool {
        self.user.role == Role::Cluster
    }
    /// On screen: cluster users always see suppressed aggregates.
    fn screen_k(&self, st: &AppState) -> i64 {
        if self.is_cluster() { st.suppress_k } else { 1 }
    }
    /// In a download: suppressed for cluster users, and for everybody when marked public.
    fn export_k(&self, st: &AppState, public: bool) -> i64 {
        if public || self.is_cluster() {
            st.suppress_k
        } else {
            1
        }
    }
}

fn store_err(e: StoreError) -> AppError {
    AppError::from(e)
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

/// The filter form as it arrives in the query string (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
struct FilterQuery {
    region: Option<String>,
    cluster: Option<String>,
    sector: Option<String>,
    size: Option<String>,
    campaign: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// Exports: apply k.
    public: Option<String>,
    /// Progress rounds (YYYY-MM-DD, inclusive).
    r1_from: Option<String>,
    r1_to: Option<String>,
    r2_from: Option<String>,
    r2_to: Option<String>,
    /// The enterprise list's offset.
    offset: Option<i64>,
    /// The enterprise list's search: part of a name, or a credit code.
    q: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub const SIZES: [&str; 4] = ["micro", "small", "medium", "large"];

/// The filters read from the form, in their text form too (to fill the form and the links).
#[derive(Debug, Default, Clone)]
struct Parsed {
    filters: Filters,
    region: String,
    cluster: String,
    sector: String,
    size: String,
    campaign: String,
    from: String,
    to: String,
}

impl Parsed {
    /// The query string of the filters (for export and progress links); empty or `a=b&…`.
    fn query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("region", &self.region),
            ("cluster", &self.cluster),
            ("sector", &self.sector),
            ("size", &self.size),
            ("campaign", &self.campaign),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
    fn any(&self) -> bool {
        self.filters != Filters::default()
    }
}

/// Reads the filters; every field that does not parse is a translated message.
fn parse_filters(c: &Ctx, kb: &KnowledgeBase, q: &FilterQuery) -> Result<Parsed, Vec<String>> {
    let mut p = Parsed::default();
    let mut errs = Vec::new();
    if let Some(r) = given(&q.region) {
        match RegionPrefix::parse(r) {
            Some(prefix) => {
                p.filters.region = Some(prefix);
                p.region = r.to_owned();
            }
            None => errs.push(c.tf1("dash.err_region", "value", r)),
        }
    }
    if let Some(cl) = given(&q.cluster) {
        p.filters.cluster = Some(cl.to_owned());
        p.cluster = cl.to_owned();
    }
    if let Some(s) = given(&q.sector) {
        if kb.sector(s).is_some() {
            p.filters.sector = Some(s.to_owned());
        } else if kb.group(s).is_some() {
            p.filters.group = Some(s.to_owned());
        } else {
            errs.push(c.tf1("dash.err_sector", "value", s));
        }
        p.sector = s.to_owned();
    }
    if let Some(s) = given(&q.size) {
        if SIZES.contains(&s) {
            p.filters.size = Some(s.to_owned());
            p.size = s.to_owned();
        } else {
            errs.push(c.tf1("dash.err_size", "value", s));
        }
    }
    if let Some(cp) = given(&q.campaign) {
        match cp.parse::<i64>() {
            Ok(id) if id > 0 => {
                p.filters.campaign = Some(id);
                p.campaign = id.to_string();
            }
            _ => errs.push(c.tf1("dash.err_campaign", "value", cp)),
        }
    }
    for (raw, slot, text) in [
        (given(&q.from), &mut p.filters.from_month, &mut p.from),
        (given(&q.to), &mut p.filters.to_month, &mut p.to),
    ] {
        if let Some(m) = raw {
            match parse_month(m) {
                Some(v) => {
                    *slot = Some(v);
                    *text = format!("{}-{:02}", v / 100, v % 100);
                }
                None => errs.push(c.tf1("dash.err_month", "value", m)),
            }
        }
    }
    if let (Some(a), Some(b)) = (p.filters.from_month, p.filters.to_month)
        && a > b
    {
        errs.push(c.t("dash.err_month_order").to_owned());
    }
    if errs.is_empty() { Ok(p) } else { Err(errs) }
}

fn is_on(v: &Option<String>) -> bool {
    matches!(given(v), Some("1" | "true" | "on" | "yes"))
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

fn level_label(kb: &KnowledgeBase, level: usize, l: Lang) -> String {
    level_name(&kb.questionnaire, u8::try_from(level).unwrap_or(0))
        .get(l)
        .to_string()
}

fn size_label(size: &str, l: Lang) -> String {
    if SIZES.contains(&size) {
        i18n::t(l, &format!("dash.size_{size}")).to_owned()
    } else {
        size.to_owned()
    }
}

fn sector_label(kb: &KnowledgeBase, sector: Option<&str>, group: &str, l: Lang) -> String {
    match sector.and_then(|s| kb.sector(s)) {
        Some(s) => s.name.get(l).to_string(),
        None => kb
            .group(group)
            .map_or_else(|| group.to_owned(), |g| g.name.get(l).to_string()),
    }
}

fn item_label(kb: &KnowledgeBase, kind: ItemKind, id: &str, l: Lang) -> String {
    let name = match kind {
        ItemKind::Recommended => kb.scenario(id).map(|s| s.name.get(l).to_string()),
        ItemKind::Path => kb.path(id).map(|p| p.name.get(l).to_string()),
        ItemKind::Obstacle => kb.obstacle(id).map(|o| o.name.get(l).to_string()),
        ItemKind::PainWord => None,
    };
    name.unwrap_or_else(|| id.to_owned())
}

fn indicator_label(kb: &KnowledgeBase, id: &str, l: Lang) -> String {
    match kb.questionnaire.scenario.iter().find(|s| s.id == id) {
        Some(s) if s.constrained => format!("★{}", s.name.get(l)),
        Some(s) => s.name.get(l).to_string(),
        None => id.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Tables: built once, shown as HTML and chart data, exported as CSV and XLSX
// ---------------------------------------------------------------------------------------------

/// A value of a dashboard table.
#[derive(Debug, Clone)]
enum V {
    Text(String),
    Count(Cell),
    /// A statistic (mean, median), one decimal.
    Stat(Cell<f64>),
    /// A share in percent, one decimal (None: not computable, e.g. a suppressed part).
    Pct(Option<f64>),
}

impl V {
    fn shown_text(&self) -> (String, bool) {
        match self {
            V::Text(s) => (s.clone(), false),
            V::Count(Cell::Shown(n)) => (n.to_string(), false),
            V::Stat(Cell::Shown(f)) => (num_text(*f), false),
            V::Pct(Some(p)) => (num_text(*p), false),
            V::Pct(None) => (String::new(), false),
            V::Count(Cell::Suppressed) | V::Stat(Cell::Suppressed) => {
                (smedx_io::export::SUPPRESSED_MARK.to_owned(), true)
            }
        }
    }
    fn export(&self) -> smedx_io::export::Cell {
        use smedx_io::export::Cell as X;
        match self {
            V::Text(s) => X::Text(s.clone()),
            V::Count(Cell::Shown(n)) => X::Int(*n),
            V::Stat(Cell::Shown(f)) => X::Float((f * 10.0).round() / 10.0),
            V::Pct(Some(p)) => X::Float((p * 10.0).round() / 10.0),
            V::Pct(None) => X::Empty,
            V::Count(Cell::Suppressed) | V::Stat(Cell::Suppressed) => X::suppressed(X::Empty),
        }
    }
    fn chart(&self) -> Value {
        match self {
            V::Count(Cell::Shown(n)) => json!(n),
            V::Stat(Cell::Shown(f)) => json!(f),
            V::Pct(Some(p)) => json!((p * 10.0).round() / 10.0),
            _ => Value::Null,
        }
    }
}

/// A figure to one decimal, as the CSV export writes it ("45", "8.3"), so the page and the
/// download read the same.
fn num_text(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn pct(part: Cell, whole: Cell) -> V {
    match (part, whole) {
        (Cell::Shown(p), Cell::Shown(w)) if w > 0 => V::Pct(Some(p as f64 * 100.0 / w as f64)),
        _ => V::Pct(None),
    }
}

/// A cell as the page shows it.
pub struct HCell {
    pub text: String,
    pub suppressed: bool,
    /// Numbers are right-aligned.
    pub num: bool,
}

/// A chart of a table: which columns are series, drawn how.
#[derive(Debug, Clone)]
struct ChartSpec {
    /// bar | hbar | stack | hstack | pie | line
    kind: &'static str,
    /// Columns (indices) drawn as series; the first column names the categories.
    series: Vec<usize>,
    /// Rows drawn (None: all).
    rows: Option<usize>,
    percent: bool,
    /// Leading columns that name a category together ("sector · size").
    label_cols: usize,
}

#[derive(Debug, Clone)]
pub struct DashTable {
    pub id: &'static str,
    pub title: String,
    pub help: String,
    pub columns: Vec<String>,
    rows: Vec<Vec<V>>,
    /// Under the table (e.g. the mean, words withheld).
    pub notes: Vec<String>,
    chart: Option<ChartSpec>,
    /// Download links (filled in by the page).
    pub exports: Vec<ExportLink>,
}

#[derive(Debug, Clone)]
pub struct ExportLink {
    pub label: String,
    pub url: String,
}

/// The download links of every table: .xlsx and .csv with the page's filters, and the public
/// variants (k applied) for users who see exact figures.
fn add_exports(c: &Ctx, tables: &mut [DashTable], query: &str, public: bool) {
    for t in tables.iter_mut() {
        let mut links = Vec::new();
        for ext in ["xlsx", "csv"] {
            let base = if query.is_empty() {
                format!("/region/export/{}.{ext}", t.id)
            } else {
                format!("/region/export/{}.{ext}?{query}", t.id)
            };
            links.push(ExportLink {
                label: c.tf1("dash.download", "ext", ext),
                url: base.clone(),
            });
            if public {
                let sep = if query.is_empty() { '?' } else { '&' };
                links.push(ExportLink {
                    label: c.tf1("dash.download_public", "ext", ext),
                    url: format!("{base}{sep}public=1"),
                });
            }
        }
        t.exports = links;
    }
}

impl DashTable {
    fn new(id: &'static str, c: &Ctx, columns: Vec<String>) -> DashTable {
        DashTable {
            id,
            title: c.t(&format!("dash.t_{id}")).to_owned(),
            help: c.t(&format!("dash.h_{id}")).to_owned(),
            columns,
            rows: Vec::new(),
            notes: Vec::new(),
            chart: None,
            exports: Vec::new(),
        }
    }
    fn chart(mut self, kind: &'static str, series: Vec<usize>) -> Self {
        self.chart = Some(ChartSpec {
            kind,
            series,
            rows: None,
            percent: false,
            label_cols: 1,
        });
        self
    }
    /// The column headers, each with whether its column holds figures (right-aligned).
    pub fn header(&self) -> Vec<(String, bool)> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let num = i > 0
                    && self
                        .rows
                        .iter()
                        .any(|r| r.get(i).is_some_and(|v| !matches!(v, V::Text(_))));
                (h.clone(), num)
            })
            .collect()
    }
    pub fn has_chart(&self) -> bool {
        self.chart.is_some() && !self.rows.is_empty()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    pub fn html_rows(&self) -> Vec<Vec<HCell>> {
        self.rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| {
                        let (text, suppressed) = v.shown_text();
                        HCell {
                            text,
                            suppressed,
                            num: !matches!(v, V::Text(_)),
                        }
                    })
                    .collect()
            })
            .collect()
    }
    pub fn has_suppressed(&self) -> bool {
        self.rows
            .iter()
            .flatten()
            .any(|v| matches!(v, V::Count(Cell::Suppressed) | V::Stat(Cell::Suppressed)))
    }
    fn chart_json(&self) -> Option<Value> {
        let spec = self.chart.as_ref()?;
        if self.rows.is_empty() {
            return None;
        }
        let rows = &self.rows[..spec.rows.unwrap_or(self.rows.len()).min(self.rows.len())];
        let categories: Vec<String> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .take(spec.label_cols.max(1))
                    .map(|v| v.shown_text().0)
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
            .collect();
        let series: Vec<Value> = spec
            .series
            .iter()
            .map(|&i| {
                json!({
                    "name": self.columns.get(i).cloned().unwrap_or_default(),
                    "data": rows.iter().map(|r| r.get(i).map_or(Value::Null, V::chart)).collect::<Vec<_>>(),
                })
            })
            .collect();
        Some(json!({
            "id": format!("chart-{}", self.id),
            "kind": spec.kind,
            "title": self.title,
            "categories": categories,
            "series": series,
            "percent": spec.percent,
        }))
    }
    fn to_export(&self, c: &Ctx, k: i64) -> smedx_io::export::Table {
        let mut t = smedx_io::export::Table::new(
            self.title.clone(),
            self.columns
                .iter()
                .enumerate()
                .map(|(i, h)| (format!("c{i}"), h.clone()))
                .collect(),
        );
        t.rows = self
            .rows
            .iter()
            .map(|r| r.iter().map(V::export).collect())
            .collect();
        // Suppressed values carry no number: with k > 1 they are written as "—" with a note.
        t.public = k > 1;
        t.note = Some(c.tf1("dash.export_note", "k", k));
        t
    }
}

fn cols(c: &Ctx, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| c.t(k).to_owned()).collect()
}

fn participation_tables(c: &Ctx, p: &Participation) -> (DashTable, DashTable) {
    let mut t = DashTable::new(
        "participation",
        c,
        cols(c, &["dash.col_status", "dash.col_firms", "dash.col_share"]),
    )
    .chart("bar", vec![1]);
    let whole = p.enterprises.unwrap_or(p.assessed);
    let mut push = |key: &str, v: Cell| {
        t.rows.push(vec![
            V::Text(c.t(key).to_owned()),
            V::Count(v),
            pct(v, whole),
        ]);
    };
    if let Some(e) = p.enterprises {
        push("dash.st_registered", e);
    }
    push("dash.st_assessed", p.assessed);
    if let Some(v) = p.in_progress {
        push("dash.st_in_progress", v);
    }
    if let Some(v) = p.not_started {
        push("dash.st_not_started", v);
    }
    if p.enterprises.is_none() {
        t.notes.push(c.t("dash.note_assessed_only").to_owned());
    }
    let mut m = DashTable::new(
        "months",
        c,
        cols(c, &["dash.col_month", "dash.col_completed"]),
    )
    .chart("line", vec![1]);
    for mc in &p.completions_by_month {
        m.rows
            .push(vec![V::Text(mc.month.clone()), V::Count(mc.count)]);
    }
    (t, m)
}

fn level_cols(c: &Ctx, kb: &KnowledgeBase) -> Vec<String> {
    (0..5).map(|l| level_label(kb, l, c.lang)).collect()
}

fn levels_tables(c: &Ctx, kb: &KnowledgeBase, d: &LevelDistribution) -> (DashTable, DashTable) {
    let mut t = DashTable::new(
        "levels",
        c,
        cols(c, &["dash.col_level", "dash.col_firms", "dash.col_share"]),
    )
    .chart("bar", vec![1]);
    for (l, v) in d.levels.iter().enumerate() {
        t.rows.push(vec![
            V::Text(level_label(kb, l, c.lang)),
            V::Count(*v),
            pct(*v, d.assessed),
        ]);
    }
    t.rows.push(vec![
        V::Text(c.t("dash.total").to_owned()),
        V::Count(d.assessed),
        V::Pct(None),
    ]);
    if let Some(ChartSpec { rows, .. }) = t.chart.as_mut() {
        *rows = Some(5);
    }
    if let Cell::Shown(m) = d.mean_score {
        t.notes
            .push(c.tf1("dash.mean_score", "score", format!("{m:.1}")));
    }
    let mut headers = cols(c, &["dash.col_sector", "dash.col_size", "dash.col_firms"]);
    headers.extend(level_cols(c, kb));
    let mut s = DashTable::new("sector_size", c, headers);
    let mut rows: Vec<Vec<V>> = d
        .by_sector_size
        .iter()
        .map(|g| {
            let mut r = vec![
                V::Text(sector_label(kb, g.sector.as_deref(), &g.group, c.lang)),
                V::Text(size_label(&g.size, c.lang)),
                V::Count(g.total),
            ];
            r.extend(g.levels.iter().map(|v| V::Count(*v)));
            r
        })
        .collect();
    // Largest groups first (suppressed ones last): the chart draws the top of the list.
    rows.sort_by_key(|r| match r.get(2) {
        Some(V::Count(Cell::Shown(n))) => -*n,
        _ => 0,
    });
    // The chart's categories: "sector · size".
    s.rows = rows;
    s.chart = Some(ChartSpec {
        kind: "hstack",
        series: (3..8).collect(),
        rows: Some(CHART_GROUPS),
        percent: false,
        label_cols: 2,
    });
    if s.rows.len() > CHART_GROUPS {
        s.notes.push(c.tf1("dash.chart_top", "n", CHART_GROUPS));
    }
    (t, s)
}

fn scores_table(c: &Ctx, h: &ScoreHistogram) -> DashTable {
    let mut t = DashTable::new(
        "scores",
        c,
        cols(c, &["dash.col_score", "dash.col_firms", "dash.col_share"]),
    )
    .chart("bar", vec![1]);
    for b in &h.bins {
        let label = if b.to >= 100 {
            format!("{}–100", b.from)
        } else {
            format!("{}–{}", b.from, b.to - 1)
        };
        t.rows.push(vec![
            V::Text(label),
            V::Count(b.count),
            pct(b.count, h.assessed),
        ]);
    }
    if let Cell::Shown(m) = h.mean {
        t.notes
            .push(c.tf1("dash.mean_score", "score", format!("{m:.1}")));
    }
    t
}

fn scenarios_table(c: &Ctx, kb: &KnowledgeBase, d: &ScenarioDistribution) -> DashTable {
    let mut headers = cols(c, &["dash.col_scenario"]);
    headers.extend((0..5).map(|l| c.tf1("dash.rated", "n", l)));
    let mut t = DashTable::new("scenarios", c, headers).chart("hstack", (1..6).collect());
    for s in &d.scenarios {
        let mut r = vec![V::Text(indicator_label(kb, &s.scenario, c.lang))];
        r.extend(s.levels.iter().map(|v| V::Count(*v)));
        t.rows.push(r);
    }
    t.notes.push(c.t("dash.constrained_note").to_owned());
    t
}

fn items_table(c: &Ctx, kb: &KnowledgeBase, id: &'static str, items: &ItemCounts) -> DashTable {
    let first = match items.kind {
        ItemKind::Recommended => "dash.col_scenario",
        ItemKind::PainWord => "dash.col_word",
        ItemKind::Path => "dash.col_path",
        ItemKind::Obstacle => "dash.col_obstacle",
    };
    let kind = if items.kind == ItemKind::Path {
        "pie"
    } else {
        "hbar"
    };
    let mut t = DashTable::new(id, c, cols(c, &[first, "dash.col_firms", "dash.col_share"]))
        .chart(kind, vec![1]);
    for i in &items.items {
        t.rows.push(vec![
            V::Text(item_label(kb, items.kind, &i.item, c.lang)),
            V::Count(i.count),
            pct(i.count, items.assessed),
        ]);
    }
    if items.withheld > 0 {
        t.notes.push(c.tf1("dash.withheld", "n", items.withheld));
    }
    t
}

fn obstacles_table(c: &Ctx, kb: &KnowledgeBase, o: &ObstaclesBySize) -> DashTable {
    let mut headers = cols(c, &["dash.col_obstacle"]);
    for s in &o.sizes {
        headers.push(size_label(&s.size, c.lang));
    }
    for s in &o.sizes {
        headers.push(c.tf1("dash.share_of", "size", size_label(&s.size, c.lang)));
    }
    let n = o.sizes.len();
    let mut t = DashTable::new("obstacles", c, headers);
    t.chart = Some(ChartSpec {
        kind: "hbar",
        series: (n + 1..=2 * n).collect(),
        rows: None,
        percent: true,
        label_cols: 1,
    });
    let mut ids: Vec<&str> = Vec::new();
    for s in &o.sizes {
        for i in &s.obstacles {
            if !ids.contains(&i.item.as_str()) {
                ids.push(&i.item);
            }
        }
    }
    let mut first = vec![V::Text(c.t("dash.assessed_firms").to_owned())];
    first.extend(o.sizes.iter().map(|s| V::Count(s.assessed)));
    first.extend(o.sizes.iter().map(|_| V::Pct(None)));
    let mut rows = Vec::new();
    for id in ids {
        let mut r = vec![V::Text(item_label(kb, ItemKind::Obstacle, id, c.lang))];
        let counts: Vec<Cell> = o
            .sizes
            .iter()
            .map(|s| {
                s.obstacles
                    .iter()
                    .find(|i| i.item == id)
                    .map_or(Cell::Shown(0), |i| i.count)
            })
            .collect();
        r.extend(counts.iter().map(|v| V::Count(*v)));
        r.extend(
            counts
                .iter()
                .zip(&o.sizes)
                .map(|(v, s)| pct(*v, s.assessed)),
        );
        rows.push(r);
    }
    t.rows = rows;
    // The assessed row goes last, so the chart (all rows but that) keeps the obstacles only.
    let drawn = t.rows.len();
    t.rows.push(first);
    if let Some(spec) = t.chart.as_mut() {
        spec.rows = Some(drawn);
    }
    t
}

fn target_table(c: &Ctx, kb: &KnowledgeBase, tr: &TargetTracker) -> DashTable {
    let mut t = DashTable::new(
        "target",
        c,
        cols(c, &["dash.col_status", "dash.col_firms", "dash.col_share"]),
    )
    .chart("pie", vec![1]);
    let level = level_label(kb, usize::from(tr.target_level), c.lang);
    for (key, v) in [
        ("dash.tg_meets", tr.meets),
        ("dash.tg_one_away", tr.one_away),
        ("dash.tg_further", tr.further),
    ] {
        t.rows.push(vec![
            V::Text(c.tf1(key, "level", &level)),
            V::Count(v),
            pct(v, tr.assessed),
        ]);
    }
    t.notes.push(c.tf1("dash.target_level", "level", level));
    t
}

fn progress_tables(c: &Ctx, kb: &KnowledgeBase, p: &Progress) -> (DashTable, DashTable) {
    let mut t = DashTable::new(
        "progress",
        c,
        cols(c, &["dash.col_measure", "dash.col_value"]),
    );
    t.rows = vec![
        vec![V::Text(c.t("dash.pg_both").to_owned()), V::Count(p.both)],
        vec![V::Text(c.t("dash.pg_up").to_owned()), V::Count(p.moved_up)],
        vec![
            V::Text(c.t("dash.pg_same").to_owned()),
            V::Count(p.unchanged),
        ],
        vec![
            V::Text(c.t("dash.pg_down").to_owned()),
            V::Count(p.moved_down),
        ],
        vec![
            V::Text(c.t("dash.pg_median").to_owned()),
            V::Stat(p.median_change),
        ],
        vec![
            V::Text(c.t("dash.pg_mean").to_owned()),
            V::Stat(p.mean_change),
        ],
    ];
    t.chart = Some(ChartSpec {
        kind: "bar",
        series: vec![1],
        rows: Some(4),
        percent: false,
        label_cols: 1,
    });
    // Only the movers are drawn (rows 1–3).
    let mut headers = vec![c.t("dash.col_from_to").to_owned()];
    headers.extend(level_cols(c, kb));
    let mut m = DashTable::new("transitions", c, headers);
    for (a, row) in p.transitions.iter().enumerate() {
        let mut r = vec![V::Text(level_label(kb, a, c.lang))];
        r.extend(row.iter().map(|v| V::Count(*v)));
        m.rows.push(r);
    }
    (t, m)
}

// ---------------------------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------------------------

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct OptGroup {
    pub label: String,
    pub options: Vec<Opt>,
}

/// What the filter form offers.
pub struct FormView {
    pub regions: Vec<Opt>,
    pub clusters: Vec<Opt>,
    pub sectors: Vec<OptGroup>,
    pub sizes: Vec<Opt>,
    pub campaigns: Vec<Opt>,
    pub from: String,
    pub to: String,
    pub errors: Vec<String>,
    pub any: bool,
}

async fn form_view(
    st: &AppState,
    c: &Ctx,
    s: &Staff,
    p: &Parsed,
    campaigns: &[Campaign],
) -> Result<FormView, AppError> {
    let kb = &st.engine.kb;
    let l = c.lang;
    let region_name = |r: &smedx_store::regional::Region| match l {
        Lang::Zh => r.name_zh.clone(),
        Lang::En => r.name_en.clone(),
    };
    // The user's own region and the level below it; the level below the selected one too.
    let mut regions = Vec::new();
    let own = match &s.scope {
        Scope::Region(_) => s.user.region_code.clone(),
        _ => None,
    };
    let top = match &own {
        Some(code) => {
            if let Some(r) = st.store.region(code).await.map_err(store_err)? {
                regions.push(Opt {
                    value: r.code.clone(),
                    label: c.tf1("dash.all_of", "region", region_name(&r)),
                    selected: p.region.is_empty() || p.region == r.code,
                });
            }
            st.store.regions(Some(code)).await.map_err(store_err)?
        }
        None if matches!(s.scope, Scope::All) => st.store.regions(None).await.map_err(store_err)?,
        None => Vec::new(),
    };
    let selected_code = p.region.clone();
    for r in top {
        let sel = r.code == selected_code;
        let inside = !selected_code.is_empty()
            && RegionPrefix::parse(&r.code)
                .zip(RegionPrefix::parse(&selected_code))
                .is_some_and(|(a, b)| a.contains(&b) && a != b);
        regions.push(Opt {
            value: r.code.clone(),
            label: region_name(&r),
            selected: sel,
        });
        if sel || inside {
            for sub in st.store.regions(Some(&r.code)).await.map_err(store_err)? {
                regions.push(Opt {
                    selected: sub.code == selected_code,
                    value: sub.code.clone(),
                    label: format!("　{}", region_name(&sub)),
                });
            }
        }
    }
    let clusters = st
        .store
        .clusters(&s.scope)
        .await
        .map_err(store_err)?
        .into_iter()
        .map(|cl| Opt {
            selected: cl.id == p.cluster,
            value: cl.id,
            label: cl.name,
        })
        .collect();
    let sectors = kb
        .groups
        .iter()
        .map(|g| {
            let mut options = vec![Opt {
                value: g.id.clone(),
                label: c.tf1("dash.whole_group", "group", g.name.get(l)),
                selected: p.sector == g.id,
            }];
            options.extend(kb.sectors.iter().filter(|x| x.group == g.id).map(|x| Opt {
                value: x.id.clone(),
                label: x.name.get(l).to_string(),
                selected: p.sector == x.id,
            }));
            OptGroup {
                label: g.name.get(l).to_string(),
                options,
            }
        })
        .collect();
    let sizes = SIZES
        .iter()
        .map(|sz| Opt {
            value: (*sz).to_owned(),
            label: size_label(sz, l),
            selected: p.size == *sz,
        })
        .collect();
    let campaigns = campaigns
        .iter()
        .map(|cp| Opt {
            value: cp.id.to_string(),
            label: format!("{} ({} – {})", cp.name, cp.starts_on, cp.ends_on),
            selected: p.campaign == cp.id.to_string(),
        })
        .collect();
    Ok(FormView {
        regions,
        clusters,
        sectors,
        sizes,
        campaigns,
        from: p.from.clone(),
        to: p.to.clone(),
        errors: Vec::new(),
        any: p.any(),
    })
}

/// Every table of the dashboard, fetched concurrently.
async fn dashboard_tables(
    st: &AppState,
    c: &Ctx,
    scope: &Scope,
    f: &Filters,
    k: i64,
) -> Result<Vec<DashTable>, StoreError> {
    let store = &st.store;
    let target = async {
        if f.campaign.is_some() {
            store.target_tracker(scope, f, None, k).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (part, levels, scores, scen, rec, pain, paths, obst, target) = tokio::try_join!(
        store.participation(scope, f, k),
        store.level_distribution(scope, f, k),
        store.score_histogram(scope, f, k),
        store.scenario_distribution(scope, f, k),
        store.top_items(scope, f, ItemKind::Recommended, 10, k),
        store.top_items(scope, f, ItemKind::PainWord, 20, k),
        store.top_items(scope, f, ItemKind::Path, usize::MAX, k),
        store.obstacles_by_size(scope, f, k),
        target,
    )?;
    let kb = &st.engine.kb;
    let (p, m) = participation_tables(c, &part);
    let (lv, ss) = levels_tables(c, kb, &levels);
    let mut out = vec![
        p,
        m,
        lv,
        ss,
        scores_table(c, &scores),
        scenarios_table(c, kb, &scen),
        items_table(c, kb, "recommended", &rec),
        items_table(c, kb, "pain_points", &pain),
        items_table(c, kb, "paths", &paths),
        obstacles_table(c, kb, &obst),
    ];
    if let Some(t) = target {
        out.insert(2, target_table(c, kb, &t));
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "dashboards/index.html")]
struct DashboardTpl<'a> {
    c: &'a Ctx,
    form: FormView,
    tables: Vec<DashTable>,
    /// The filters as a query string (for the links to progress and the export of everything).
    query: String,
    k: i64,
    suppressing: bool,
    assessed: Option<i64>,
    /// Nothing assessed in the filtered scope: say so once, above the empty views.
    no_data: bool,
    chart_json: String,
    all_exports: Vec<ExportLink>,
}

fn charts_blob(c: &Ctx, tables: &[DashTable]) -> String {
    let charts: Vec<Value> = tables.iter().filter_map(DashTable::chart_json).collect();
    json_script(&json!({
        "charts": charts,
        "suppressed": c.t("dash.suppressed_short"),
    }))
}

async fn campaigns_of(st: &AppState, scope: &Scope) -> Result<Vec<Campaign>, AppError> {
    Ok(st
        .store
        .campaigns(
            scope,
            Page {
                offset: 0,
                limit: MAX_CAMPAIGNS,
            },
        )
        .await
        .map_err(store_err)?
        .0)
}

async fn dashboard(State(st): State<AppState>, c: Ctx, Query(q): Query<FilterQuery>) -> AppResult {
    let s = staff(&c)?;
    let kb = &st.engine.kb;
    let campaigns = campaigns_of(&st, &s.scope).await?;
    let k = s.screen_k(&st);
    let (status, form, mut tables, query) = match parse_filters(&c, kb, &q) {
        Ok(p) => {
            let form = form_view(&st, &c, &s, &p, &campaigns).await?;
            let tables = dashboard_tables(&st, &c, &s.scope, &p.filters, k)
                .await
                .map_err(store_err)?;
            (StatusCode::OK, form, tables, p.query())
        }
        Err(errors) => {
            let mut form = form_view(&st, &c, &s, &Parsed::default(), &campaigns).await?;
            form.errors = errors;
            (StatusCode::BAD_REQUEST, form, Vec::new(), String::new())
        }
    };
    let assessed = tables
        .iter()
        .find(|t| t.id == "levels")
        .and_then(|t| t.rows.last())
        .and_then(|r| match r.get(1) {
            Some(V::Count(Cell::Shown(n))) => Some(*n),
            _ => None,
        });
    let can_public = !s.is_cluster() && st.suppress_k > 1;
    add_exports(&c, &mut tables, &query, can_public);
    let mut all = DashTable::new("all", &c, Vec::new());
    add_exports(&c, std::slice::from_mut(&mut all), &query, can_public);
    let tpl = DashboardTpl {
        c: &c,
        chart_json: charts_blob(&c, &tables),
        form,
        tables,
        query,
        k: st.suppress_k,
        suppressing: k > 1,
        assessed,
        no_data: assessed == Some(0),
        all_exports: all.exports,
    };
    Ok((status, Html(tpl.render()?)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Progress between two rounds of a campaign
// ---------------------------------------------------------------------------------------------

/// The rounds of the query, or by default the campaign's period cut in two halves.
struct Rounds {
    r1: TimeRange,
    r2: TimeRange,
    texts: [String; 4],
}

const DAY: i64 = 86_400;

fn parse_rounds(c: &Ctx, q: &FilterQuery, campaign: &Campaign) -> Result<Rounds, Vec<String>> {
    let start = parse_date(&campaign.starts_on).unwrap_or(0);
    let end = parse_date(&campaign.ends_on).unwrap_or(start).max(start);
    let mid = start + (end - start + 1) / 2;
    let defaults = [start, (mid - 1).max(start), mid.min(end), end];
    let mut days = [0i64; 4];
    let mut texts: [String; 4] = Default::default();
    let mut errs = Vec::new();
    for (i, raw) in [&q.r1_from, &q.r1_to, &q.r2_from, &q.r2_to]
        .into_iter()
        .enumerate()
    {
        days[i] = match given(raw) {
            Some(t) => match parse_date(t) {
                Some(d) => d,
                None => {
                    errs.push(c.tf1("dash.err_date", "value", t));
                    defaults[i]
                }
            },
            None => defaults[i],
        };
        texts[i] = smedx_store::scope::date_text(days[i] * DAY);
    }
    if days[0] > days[1] || days[2] > days[3] {
        errs.push(c.t("dash.err_round_order").to_owned());
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Rounds {
        r1: TimeRange {
            from: days[0] * DAY,
            to: (days[1] + 1) * DAY,
        },
        r2: TimeRange {
            from: days[2] * DAY,
            to: (days[3] + 1) * DAY,
        },
        texts,
    })
}

pub struct MemberRow {
    pub id: i64,
    pub name: String,
    pub before: String,
    pub after: String,
    pub change: String,
    pub up: bool,
    pub down: bool,
}

#[derive(Template)]
#[template(path = "dashboards/progress.html")]
struct ProgressTpl<'a> {
    c: &'a Ctx,
    form: FormView,
    campaign: Option<Campaign>,
    rounds: [String; 4],
    /// "Campaign …: round 1 …, round 2 …".
    heading: String,
    tables: Vec<DashTable>,
    members: Vec<MemberRow>,
    members_total: i64,
    k: i64,
    suppressing: bool,
    chart_json: String,
}

fn rounds_query(p: &Parsed, r: &[String; 4]) -> String {
    let mut s = form_urlencoded::Serializer::new(p.query());
    for (k, v) in ["r1_from", "r1_to", "r2_from", "r2_to"].iter().zip(r) {
        s.append_pair(k, v);
    }
    s.finish()
}

fn member_row(kb: &KnowledgeBase, l: Lang, m: &ProgressMember) -> MemberRow {
    let d = m.score_after - m.score_before;
    MemberRow {
        id: m.enterprise_id,
        name: m.name.clone(),
        before: format!(
            "{} · {:.1}",
            level_label(kb, usize::from(m.level_before), l),
            m.score_before
        ),
        after: format!(
            "{} · {:.1}",
            level_label(kb, usize::from(m.level_after), l),
            m.score_after
        ),
        change: format!("{d:+.1}"),
        up: m.level_after > m.level_before,
        down: m.level_after < m.level_before,
    }
}

async fn progress(State(st): State<AppState>, c: Ctx, Query(q): Query<FilterQuery>) -> AppResult {
    let s = staff(&c)?;
    let kb = &st.engine.kb;
    let campaigns = campaigns_of(&st, &s.scope).await?;
    let k = s.screen_k(&st);
    let parsed = parse_filters(&c, kb, &q);
    let p = parsed.as_ref().cloned().unwrap_or_default();
    let mut form = form_view(&st, &c, &s, &p, &campaigns).await?;
    let can_public = !s.is_cluster() && st.suppress_k > 1;
    let mut tpl = ProgressTpl {
        c: &c,
        form: form_placeholder(),
        campaign: None,
        rounds: Default::default(),
        heading: String::new(),
        tables: Vec::new(),
        members: Vec::new(),
        members_total: 0,
        k: st.suppress_k,
        suppressing: k > 1,
        chart_json: String::new(),
    };
    let mut status = StatusCode::OK;
    if let Err(errors) = parsed {
        form.errors = errors;
        status = StatusCode::BAD_REQUEST;
    } else if let Some(id) = p.filters.campaign {
        let campaign = st.store.campaign(&s.scope, id).await.map_err(store_err)?;
        match parse_rounds(&c, &q, &campaign) {
            Ok(r) => {
                let (pr, (members, total)) = tokio::try_join!(
                    st.store.progress(&s.scope, id, r.r1, r.r2, &p.filters, k),
                    st.store.progress_members(
                        &s.scope,
                        id,
                        r.r1,
                        r.r2,
                        Page {
                            offset: 0,
                            limit: PER_PAGE
                        }
                    ),
                )
                .map_err(store_err)?;
                let (a, b) = progress_tables(&c, kb, &pr);
                tpl.tables = vec![a, b];
                add_exports(&c, &mut tpl.tables, &rounds_query(&p, &r.texts), can_public);
                // Individual rows only for members the caller may see individually: every
                // member of a campaign in scope consented to its authority.
                tpl.members = members.iter().map(|m| member_row(kb, c.lang, m)).collect();
                tpl.members_total = total;
                tpl.heading = c.tf(
                    "dash.progress_of",
                    &[
                        ("name", &campaign.name),
                        ("r1", &format!("{} – {}", r.texts[0], r.texts[1])),
                        ("r2", &format!("{} – {}", r.texts[2], r.texts[3])),
                    ],
                );
                tpl.rounds = r.texts;
            }
            Err(errors) => {
                form.errors = errors;
                status = StatusCode::BAD_REQUEST;
            }
        }
        tpl.campaign = Some(campaign);
    }
    tpl.chart_json = charts_blob(&c, &tpl.tables);
    tpl.form = form;
    Ok((status, Html(tpl.render()?)).into_response())
}

fn form_placeholder() -> FormView {
    FormView {
        regions: Vec::new(),
        clusters: Vec::new(),
        sectors: Vec::new(),
        sizes: Vec::new(),
        campaigns: Vec::new(),
        from: String::new(),
        to: String::new(),
        errors: Vec::new(),
        any: false,
    }
}

// ---------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

const TABLES: [&str; 15] = [
    "participation",
    "months",
    "target",
    "levels",
    "sector_size",
    "scores",
    "scenarios",
    "recommended",
    "pain_points",
    "paths",
    "obstacles",
    "progress",
    "transitions",
    "enterprises",
    "all",
];

fn bad_request() -> Response {
    ErrorPage::response(StatusCode::BAD_REQUEST, "errors.bad_request")
}

/// A file name safe in a header: ASCII only.
fn file_name(id: &str, ext: &str) -> String {
    format!("smedx-{id}.{ext}")
}

fn download(bytes: Vec<u8>, mime: &'static str, name: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn write(tables: &[smedx_io::export::Table], format: Format) -> Result<Vec<u8>, AppError> {
    let fail = |e: smedx_io::ExportError| AppError::Internal(format!("export: {e}"));
    match format {
        Format::Xlsx => smedx_io::export::write_xlsx_sheets(tables).map_err(fail),
        Format::Csv => {
            let mut out = Vec::new();
            for (i, t) in tables.iter().enumerate() {
                // Several tables (the whole dashboard) follow one another, a blank line apart.
                if i > 0 {
                    out.extend_from_slice(b"\r\n");
                }
                smedx_io::export::write_csv_with(t, &mut out, i == 0).map_err(fail)?;
            }
            Ok(out)
        }
    }
}

async fn export(
    State(st): State<AppState>,
    c: Ctx,
    Path(file): Path<String>,
    Query(q): Query<FilterQuery>,
) -> AppResult {
    let s = staff(&c)?;
    let Some((id, ext)) = file.rsplit_once('.') else {
        return Err(AppError::NotFound);
    };
    let format = match ext {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        _ => return Err(AppError::NotFound),
    };
    let Some(id) = TABLES.iter().copied().find(|t| *t == id) else {
        return Err(AppError::NotFound);
    };
    let kb = &st.engine.kb;
    let Ok(p) = parse_filters(&c, kb, &q) else {
        return Ok(bad_request());
    };
    let public = is_on(&q.public);
    let k = s.export_k(&st, public);
    let tables: Vec<DashTable> = match id {
        "enterprises" => vec![enterprise_table(&st, &c, &s.scope, &p.filters, given(&q.q)).await?],
        "progress" | "transitions" => {
            let Some(cid) = p.filters.campaign else {
                return Ok(bad_request());
            };
            let campaign = st.store.campaign(&s.scope, cid).await.map_err(store_err)?;
            let Ok(r) = parse_rounds(&c, &q, &campaign) else {
                return Ok(bad_request());
            };
            let pr = st
                .store
                .progress(&s.scope, cid, r.r1, r.r2, &p.filters, k)
                .await
                .map_err(store_err)?;
            let (a, b) = progress_tables(&c, kb, &pr);
            vec![if id == "progress" { a } else { b }]
        }
        _ => {
            let all = dashboard_tables(&st, &c, &s.scope, &p.filters, k)
                .await
                .map_err(store_err)?;
            if id == "all" {
                all
            } else {
                match all.into_iter().find(|t| t.id == id) {
                    Some(t) => vec![t],
                    // The target tracker without a campaign.
                    None => return Ok(bad_request()),
                }
            }
        }
    };
    let out: Vec<smedx_io::export::Table> = tables.iter().map(|t| t.to_export(&c, k)).collect();
    let bytes = write(&out, format)?;
    let public_text = if public { "1" } else { "0" };
    let k_text = k.to_string();
    let filters = p.query();
    audit::record(
        &st,
        AuditRecord {
            at: crate::auth::now(),
            actor_user_id: Some(s.user.id),
            action: AuditAction::DataExported.as_str().to_owned(),
            target: format!("table:{id}"),
            detail: audit::kv(&[
                ("format", ext),
                ("public", public_text),
                ("k", &k_text),
                ("filters", &filters),
            ]),
            ip: c.ip.clone(),
        },
    )
    .await;
    let name = file_name(id, ext);
    Ok(match format {
        Format::Csv => download(bytes, "text/csv; charset=utf-8", &name),
        Format::Xlsx => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &name,
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Enterprises seen individually
// ---------------------------------------------------------------------------------------------

pub struct EntRow {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub region: String,
    pub cluster: String,
    pub sector: String,
    pub size: String,
    pub level: String,
    pub score: String,
    pub assessed: String,
}

/// Region names by code, looked up once each (an export names many enterprises in few regions).
#[derive(Default)]
struct RegionNames {
    /// Built-in regions by code (None: not in the list).
    known: HashMap<String, Option<String>>,
    /// What an enterprise's code is shown as.
    shown: HashMap<String, String>,
}

impl RegionNames {
    async fn lookup(
        &mut self,
        st: &AppState,
        l: Lang,
        code: &str,
    ) -> Result<Option<String>, AppError> {
        if let Some(n) = self.known.get(code) {
            return Ok(n.clone());
        }
        let name = st
            .store
            .region(code)
            .await
            .map_err(store_err)?
            .map(|r| match l {
                Lang::Zh => r.name_zh,
                Lang::En => r.name_en,
            });
        self.known.insert(code.to_owned(), name.clone());
        Ok(name)
    }

    /// The built-in list stops at cities: a county is shown as its city (or province) and its
    /// code.
    async fn name(&mut self, st: &AppState, l: Lang, code: &str) -> Result<String, AppError> {
        if let Some(n) = self.shown.get(code) {
            return Ok(n.clone());
        }
        let candidates = [
            code.to_owned(),
            format!("{}00", code.get(..4).unwrap_or("")),
            format!("{}0000", code.get(..2).unwrap_or("")),
        ];
        let mut name = code.to_owned();
        for (i, candidate) in candidates.iter().enumerate() {
            if let Some(n) = self.lookup(st, l, candidate).await? {
                name = if i == 0 { n } else { format!("{n} {code}") };
                break;
            }
        }
        self.shown.insert(code.to_owned(), name.clone());
        Ok(name)
    }
}

async fn enterprise_rows(
    st: &AppState,
    c: &Ctx,
    list: &[smedx_store::regional::VisibleEnterprise],
    names: &mut RegionNames,
) -> Result<Vec<EntRow>, AppError> {
    let kb = &st.engine.kb;
    let mut regions = HashMap::new();
    for code in list
        .iter()
        .filter_map(|v| v.enterprise.region_code.as_deref())
    {
        if !regions.contains_key(code) {
            regions.insert(code.to_owned(), names.name(st, c.lang, code).await?);
        }
    }
    Ok(list
        .iter()
        .map(|v| {
            let e = &v.enterprise;
            EntRow {
                id: e.id,
                name: e.name.clone(),
                credit_code: e.credit_code.clone().unwrap_or_default(),
                region: e
                    .region_code
                    .as_ref()
                    .map(|r| regions.get(r).cloned().unwrap_or_else(|| r.clone()))
                    .unwrap_or_default(),
                cluster: e.cluster_id.clone().unwrap_or_default(),
                sector: match (&v.sector, &v.group) {
                    (s, Some(g)) => {
                        sector_label(kb, s.as_deref().filter(|x| !x.is_empty()), g, c.lang)
                    }
                    (Some(s), None) => sector_label(kb, Some(s), "", c.lang),
                    (None, None) => String::new(),
                },
                size: v
                    .size
                    .as_deref()
                    .map(|s| size_label(s, c.lang))
                    .unwrap_or_default(),
                level: v
                    .level
                    .map(|l| level_label(kb, usize::from(l), c.lang))
                    .unwrap_or_default(),
                score: v.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                assessed: v.completed_at.map(date).unwrap_or_default(),
            }
        })
        .collect())
}

fn enterprise_columns(c: &Ctx) -> Vec<String> {
    cols(
        c,
        &[
            "ent.col_id",
            "ent.col_name",
            "ent.col_credit_code",
            "ent.col_region",
            "ent.col_cluster",
            "ent.col_sector",
            "ent.col_size",
            "ent.col_level",
            "ent.col_score",
            "ent.col_assessed",
        ],
    )
}

/// The whole list as one table (individual data of consenting members: never suppressed).
async fn enterprise_table(
    st: &AppState,
    c: &Ctx,
    scope: &Scope,
    filters: &Filters,
    search: Option<&str>,
) -> Result<DashTable, AppError> {
    let mut t = DashTable::new("enterprises", c, enterprise_columns(c));
    t.title = c.t("ent.title").to_owned();
    let mut names = RegionNames::default();
    let mut offset = 0;
    loop {
        let (list, total) = st
            .store
            .visible_enterprises(
                scope,
                filters,
                search,
                Page {
                    offset,
                    limit: EXPORT_PAGE,
                },
            )
            .await
            .map_err(store_err)?;
        for r in enterprise_rows(st, c, &list, &mut names).await? {
            t.rows.push(vec![
                V::Count(Cell::Shown(r.id)),
                V::Text(r.name),
                V::Text(r.credit_code),
                V::Text(r.region),
                V::Text(r.cluster),
                V::Text(r.sector),
                V::Text(r.size),
                V::Text(r.level),
                V::Text(r.score),
                V::Text(r.assessed),
            ]);
        }
        offset += EXPORT_PAGE;
        if list.is_empty() || offset >= total || offset >= MAX_EXPORT_ROWS {
            break;
        }
    }
    Ok(t)
}

#[derive(Template)]
#[template(path = "dashboards/enterprises.html")]
struct EnterprisesTpl<'a> {
    c: &'a Ctx,
    form: FormView,
    /// The search box's text.
    search: String,
    rows: Vec<EntRow>,
    total: i64,
    offset: i64,
    prev: Option<i64>,
    next: Option<i64>,
    /// The filters and the search as a query string (pager and export links); empty or `a=b&…`.
    query: String,
    exports: Vec<(String, String)>,
}

async fn enterprises(
    State(st): State<AppState>,
    c: Ctx,
    Query(q): Query<FilterQuery>,
) -> AppResult {
    let s = staff(&c)?;
    let kb = &st.engine.kb;
    let campaigns = campaigns_of(&st, &s.scope).await?;
    let offset = page_offset(q.offset.unwrap_or(0));
    let search = given(&q.q).map(|t| t.chars().take(100).collect::<String>());
    let (status, form, parsed) = match parse_filters(&c, kb, &q) {
        Ok(p) => (
            StatusCode::OK,
            form_view(&st, &c, &s, &p, &campaigns).await?,
            Some(p),
        ),
        Err(errors) => {
            let mut form = form_view(&st, &c, &s, &Parsed::default(), &campaigns).await?;
            form.errors = errors;
            (StatusCode::BAD_REQUEST, form, None)
        }
    };
    let (rows, total, query) = match &parsed {
        Some(p) => {
            let (list, total) = st
                .store
                .visible_enterprises(
                    &s.scope,
                    &p.filters,
                    search.as_deref(),
                    Page {
                        offset,
                        limit: PER_PAGE,
                    },
                )
                .await
                .map_err(store_err)?;
            let rows = enterprise_rows(&st, &c, &list, &mut RegionNames::default()).await?;
            let mut query = p.query();
            if let Some(text) = &search {
                let mut ser = form_urlencoded::Serializer::new(query);
                ser.append_pair("q", text);
                query = ser.finish();
            }
            (rows, total, query)
        }
        None => (Vec::new(), 0, String::new()),
    };
    let next = offset.saturating_add(PER_PAGE);
    let mut form = form;
    form.any = form.any || search.is_some();
    let sep = if query.is_empty() { "" } else { "?" };
    let exports = ["xlsx", "csv"]
        .iter()
        .map(|ext| {
            (
                format!("/region/export/enterprises.{ext}{sep}{query}"),
                c.tf1("dash.download", "ext", ext),
            )
        })
        .collect();
    let tpl = EnterprisesTpl {
        c: &c,
        form,
        search: search.unwrap_or_default(),
        rows,
        total,
        offset,
        prev: (offset > 0).then(|| offset.saturating_sub(PER_PAGE).max(0)),
        next: (next < total).then_some(next),
        query,
        exports,
    };
    Ok((status, Html(tpl.render()?)).into_response())
}

pub struct AssessmentRow {
    pub id: i64,
    pub date: String,
    pub level: String,
    pub score: String,
}

#[derive(Template)]
#[template(path = "dashboards/enterprise.html")]
struct EnterpriseTpl<'a> {
    c: &'a Ctx,
    ent: EntRow,
    rows: Vec<AssessmentRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn enterprise(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FilterQuery>,
) -> AppResult {
    let s = staff(&c)?;
    let kb = &st.engine.kb;
    let offset = page_offset(q.offset.unwrap_or(0));
    // The store answers NotFound for an enterprise outside the scope, as for a missing one.
    let (list, total) = st
        .store
        .member_assessments(
            &s.scope,
            id,
            Page {
                offset,
                limit: PER_PAGE,
            },
        )
        .await
        .map_err(store_err)?;
    let e = st
        .store
        .enterprise(id)
        .await
        .map_err(store_err)?
        .ok_or(AppError::NotFound)?;
    let region = match &e.region_code {
        Some(code) => RegionNames::default().name(&st, c.lang, code).await?,
        None => String::new(),
    };
    let latest = list.first();
    let ent = EntRow {
        id: e.id,
        name: e.name.clone(),
        credit_code: e.credit_code.clone().unwrap_or_default(),
        region,
        cluster: e.cluster_id.clone().unwrap_or_default(),
        sector: String::new(),
        size: String::new(),
        level: latest
            .and_then(|a| a.level)
            .map(|l| level_label(kb, usize::try_from(l).unwrap_or(0), c.lang))
            .unwrap_or_default(),
        score: latest
            .and_then(|a| a.score)
            .map(|s| format!("{s:.1}"))
            .unwrap_or_default(),
        assessed: latest
            .and_then(|a| a.completed_at)
            .map(date)
            .unwrap_or_default(),
    };
    let rows = list
        .iter()
        .map(|a| AssessmentRow {
            id: a.id,
            date: date(a.completed_at.unwrap_or(a.updated_at)),
            level: a
                .level
                .map(|l| level_label(kb, usize::try_from(l).unwrap_or(0), c.lang))
                .unwrap_or_default(),
            score: a.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
        })
        .collect();
    let next = offset.saturating_add(PER_PAGE);
    let tpl = EnterpriseTpl {
        c: &c,
        ent,
        rows,
        total,
        prev: (offset > 0).then(|| offset.saturating_sub(PER_PAGE).max(0)),
        next: (next < total).then_some(next),
    };
    Ok((StatusCode::OK, Html(tpl.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "dashboards/assessment.html")]
struct AssessmentTpl<'a> {
    c: &'a Ctx,
    eid: i64,
    name: String,
    date: String,
    v: ResultView,
}

async fn enterprise_assessment(
    State(st): State<AppState>,
    c: Ctx,
    Path((eid, aid)): Path<(i64, i64)>,
) -> AppResult {
    let s = staff(&c)?;
    let a = st
        .store
        .member_assessment(&s.scope, eid, aid)
        .await
        .map_err(store_err)?;
    let report = match service::stored_report(&a) {
        Ok(r) => r,
        Err(ServiceError::Corrupt(e)) => {
            return Err(AppError::Internal(format!(
                "assessment {aid}: the stored result cannot be read: {e}"
            )));
        }
        Err(e) => return Err(AppError::Internal(e.to_string())),
    };
    let name = match a.profile.get("name").and_then(Value::as_str) {
        Some(n) => n.to_owned(),
        None => st
            .store
            .enterprise(eid)
            .await
            .map_err(store_err)?
            .map(|e| e.name)
            .unwrap_or_default(),
    };
    let tpl = AssessmentTpl {
        c: &c,
        eid,
        name,
        date: date(a.completed_at.unwrap_or(a.updated_at)),
        v: view::result_view(&st.engine.kb, &report, c.lang),
    };
    Ok((StatusCode::OK, Html(tpl.render()?)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_need_both_figures() {
        assert!(
            matches!(pct(Cell::Shown(1), Cell::Shown(4)), V::Pct(Some(p)) if (p - 25.0).abs() < 1e-9)
        );
        assert!(matches!(
            pct(Cell::Suppressed, Cell::Shown(4)),
            V::Pct(None)
        ));
        assert!(matches!(pct(Cell::Shown(0), Cell::Shown(0)), V::Pct(None)));
    }

    #[test]
    fn suppressed_values_have_no_number_anywhere() {
        let v = V::Count(Cell::Suppressed);
        assert_eq!(v.shown_text(), ("—".to_owned(), true));
        assert_eq!(v.chart(), Value::Null);
        assert!(matches!(
            v.export(),
            smedx_io::export::Cell::Suppressed(inner) if *inner == smedx_io::export::Cell::Empty
        ));
    }
}
