//! The regional authority workspace: the [`Regional`] trait (a supertrait of
//! [`Store`](crate::Store)), its types, and its one implementation, written once as the macro
//! `impl_regional!` and instantiated by both backends (`sqlite.rs`, `postgres.rs`) with their own
//! connection type and error mapping. The SQL is the portable subset both databases run
//! identically (`$N` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`, window functions);
//! the two differences are row locks (`FOR UPDATE` on PostgreSQL, where SQLite's write lock
//! already serialises writers) and how a batch of ids is reserved for a bulk import.
//!
//! **Scope.** Every method that reads enterprise data takes a [`Scope`]. Individual enterprises
//! (names, assessments) are visible to an authority or cluster only through campaign membership,
//! which is the enterprise's consent; everything else is aggregates, whose small groups are
//! suppressed with the caller's `k` (see [`crate::aggregate`]).
//!
//! **Facts and rollups.** Completing an assessment (the existing `complete_assessment*`
//! methods), importing and joining or leaving a campaign update `assessment_facts` and the
//! rollups in the same transaction (see [`crate::facts`]); [`Regional::rebuild_rollups`]
//! recomputes the rollups from the facts.

use async_trait::async_trait;
use serde::Serialize;

use crate::aggregate::{
    Cell, Filters, ItemCounts, LevelDistribution, ObstaclesBySize, Participation, Progress,
    ProgressMember, ScenarioDistribution, ScoreHistogram, TargetTracker, TimeRange,
};
use crate::facts::ItemKind;
use crate::scope::Scope;
use crate::{Assessment, AuditCtx, Enterprise, Id, Page, Result, Role, User};

/// The columns of `users` every backend reads (see each backend's `user_from_row`).
pub(crate) const USER_COLS: &str =
    "id, email, password_hash, role, enterprise_id, lang, created_at, region_code, cluster_id";
/// The columns of `enterprises` every backend reads (see each backend's `enterprise_from_row`).
pub(crate) const ENTERPRISE_COLS: &str =
    "id, name, created_at, region_code, cluster_id, credit_code";

/// Longest campaign name, cluster name and reminder text (characters).
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Longest cluster id (characters); ids are short slugs such as `wuzhong-precision`.
pub const MAX_CLUSTER_ID_CHARS: usize = 64;
/// Rows per batch of a bulk import (assessments are produced, written and reported per batch).
pub const IMPORT_BATCH: usize = 1000;

/// An administrative region of the built-in list (see migration 0003).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Six digits.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub region_code: String,
    pub created_at: i64,
}

/// An authority, cluster or provider account, created by an administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewStaffUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    /// Authority (needs `region_code`), Cluster (needs `cluster_id`) or Provider.
    pub role: Role,
    pub region_code: Option<&'a str>,
    pub cluster_id: Option<&'a str>,
    pub lang: Option<&'a str>,
}

/// Where an enterprise is, as the enterprise (or an administrator) states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EnterpriseLocation<'a> {
    pub region_code: Option<&'a str>,
    pub cluster_id: Option<&'a str>,
    /// 18 characters, upper case (check-character verification is the caller's).
    pub credit_code: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewCampaign {
    pub name: String,
    /// Six digits; by default the scope's own region (an authority's), or the cluster's region.
    pub region_code: Option<String>,
    /// YYYY-MM-DD, inclusive.
    pub starts_on: String,
    pub ends_on: String,
    /// Sub-sector or group ids the campaign targets (empty: every sector).
    pub target_sectors: Vec<String>,
    /// 1–4.
    pub target_level: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    pub id: Id,
    pub region_code: String,
    /// Set for a cluster's campaign.
    pub cluster_id: Option<String>,
    pub created_by: Id,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub target_sectors: Vec<String>,
    pub target_level: u8,
    /// Random and URL-safe (12 characters of Crockford's base 32); see [`normalize_invite_code`].
    pub invite_code: String,
    pub created_at: i64,
}

/// Where a campaign member stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Joined and not finished, with activity (joining, a draft saved) in the last N days.
    Joined,
    /// Completed an assessment since joining.
    Finished,
    /// Not finished and nothing happened for N days: a draft older than that, or nothing at all
    /// since joining N days ago.
    Stuck,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Joined => "joined",
            MemberStatus::Finished => "finished",
            MemberStatus::Stuck => "stuck",
        }
    }
    pub fn parse(s: &str) -> Option<MemberStatus> {
        [
            MemberStatus::Joined,
            MemberStatus::Finished,
            MemberStatus::Stuck,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A member of a campaign (individual data: the member consented).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub enterprise_id: Id,
    pub name: String,
    pub credit_code: Option<String>,
    pub region_code: Option<String>,
    pub joined_at: i64,
    pub status: MemberStatus,
    pub last_activity_at: Option<i64>,
    pub last_completed_at: Option<i64>,
    /// Of the latest completed assessment.
    pub level: Option<u8>,
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MemberCounts {
    pub members: i64,
    pub joined: i64,
    pub finished: i64,
    pub stuck: i64,
}

/// A message in an enterprise's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: Id,
    pub enterprise_id: Id,
    pub campaign_id: Option<Id>,
    pub campaign_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inbox {
    /// Newest first.
    pub messages: Vec<Message>,
    pub total: i64,
    pub unread: i64,
}

/// A user who can see an enterprise's assessments through a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Viewer {
    pub email: String,
    pub role: Role,
    pub region_code: Option<String>,
    pub cluster_id: Option<String>,
}

/// One campaign an enterprise joined, and who sees its data through it: the authority users of
/// the campaign's region and of the regions above it, and the cluster's users for a cluster's
/// campaign (administrators see everything).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visibility {
    pub campaign: Campaign,
    pub joined_at: i64,
    pub region_name_zh: Option<String>,
    pub region_name_en: Option<String>,
    pub viewers: Vec<Viewer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinOutcome {
    pub campaign: Campaign,
    /// False when the enterprise was a member already (joining is idempotent).
    pub newly_joined: bool,
}

/// An enterprise the caller may see individually, with its latest result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisibleEnterprise {
    pub enterprise: Enterprise,
    pub level: Option<u8>,
    pub score: Option<f64>,
    pub completed_at: Option<i64>,
    pub sector: Option<String>,
    pub group: Option<String>,
    pub size: Option<String>,
}

// ---- bulk import --------------------------------------------------------------------------------

/// One enterprise of a bulk import. An enterprise whose credit code is already stored is not
/// created again: its assessment is added to the stored one (a second round).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEnterpriseRecord {
    /// The sheet row, for problems.
    pub row: usize,
    pub name: String,
    pub credit_code: Option<String>,
    /// Six digits.
    pub region_code: String,
    pub cluster_id: Option<String>,
}

/// A completed assessment to store with an imported enterprise.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCompletedAssessment {
    /// The documents as stored (JSON text).
    pub profile: String,
    pub answers: String,
    /// The engine's report as stored (JSON text).
    pub result: String,
    /// What the dashboards count of the report (None: a report without an assessment).
    pub fact: Option<crate::facts::Fact>,
    pub score: Option<f64>,
    pub level: Option<i64>,
    pub completed_at: i64,
}

impl NewCompletedAssessment {
    /// An assessment ready to store: its documents as text and the fact of its report. Made
    /// by the source, batch by batch in parallel, so that the import's writing loop only
    /// writes.
    pub fn new(
        profile: &serde_json::Value,
        answers: &serde_json::Value,
        result: &serde_json::Value,
        score: Option<f64>,
        level: Option<i64>,
        completed_at: i64,
    ) -> NewCompletedAssessment {
        NewCompletedAssessment {
            profile: profile.to_string(),
            answers: answers.to_string(),
            result: result.to_string(),
            fact: crate::facts::Fact::from_report(result),
            score,
            level,
            completed_at,
        }
    }
}

/// Produces the imported rows' assessments batch by batch while the import writes, so that a
/// large file's reports are never all in memory at once.
pub trait AssessmentSource: Send {
    /// The assessments of `rows` (indices into the import's records): None for an enterprise
    /// without one, Err with a message for a row that cannot be assessed (the import is then
    /// rejected).
    fn assessments(
        &mut self,
        rows: std::ops::Range<usize>,
    ) -> Vec<std::result::Result<Option<NewCompletedAssessment>, String>>;
}

/// The assessments of a range of rows, as an [`AssessmentSource`] returns them.
pub type AssessmentBatch = Vec<std::result::Result<Option<NewCompletedAssessment>, String>>;

/// A source that computes the batch after the one asked for on a background thread while the
/// import writes the current one: the engine's work and the database's overlap (the store asks
/// for consecutive ranges of one length). A range other than the one computed ahead is
/// computed on the spot.
pub struct Prefetching<F> {
    compute: std::sync::Arc<F>,
    /// The number of rows (no batch is computed ahead past it).
    rows: usize,
    ahead: Option<(
        std::ops::Range<usize>,
        std::thread::JoinHandle<AssessmentBatch>,
    )>,
}

impl<F> Prefetching<F>
where
    F: Fn(std::ops::Range<usize>) -> AssessmentBatch + Send + Sync + 'static,
{
    pub fn new(rows: usize, compute: F) -> Prefetching<F> {
        Prefetching {
            compute: std::sync::Arc::new(compute),
            rows,
            ahead: None,
        }
    }
}

impl<F> AssessmentSource for Prefetching<F>
where
    F: Fn(std::ops::Range<usize>) -> AssessmentBatch + Send + Sync + 'static,
{
    fn assessments(&mut self, range: std::ops::Range<usize>) -> AssessmentBatch {
        let out = match self.ahead.take() {
            Some((r, handle)) if r == range => match handle.join() {
                Ok(batch) => batch,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            _ => (self.compute)(range.clone()),
        };
        let next = range.end..range.end.saturating_add(range.len()).min(self.rows);
        if !next.is_empty() {
            let compute = std::sync::Arc::clone(&self.compute);
            let r = next.clone();
            self.ahead = Some((next, std::thread::spawn(move || compute(r))));
        }
        out
    }
}

/// No assessments: enterprises only.
pub struct NoAssessments;

impl AssessmentSource for NoAssessments {
    fn assessments(
        &mut self,
        rows: std::ops::Range<usize>,
    ) -> Vec<std::result::Result<Option<NewCompletedAssessment>, String>> {
        rows.map(|_| Ok(None)).collect()
    }
}

/// Assessments already in memory (tests, small imports).
pub struct AssessmentList(pub Vec<Option<NewCompletedAssessment>>);

impl AssessmentSource for AssessmentList {
    fn assessments(
        &mut self,
        rows: std::ops::Range<usize>,
    ) -> Vec<std::result::Result<Option<NewCompletedAssessment>, String>> {
        rows.map(|i| Ok(self.0.get_mut(i).and_then(Option::take)))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportProblemKind {
    /// Not a six-digit region code.
    InvalidRegion,
    /// The region is outside the importing user's region.
    RegionOutOfScope,
    /// No such cluster (administrators set clusters up).
    UnknownCluster,
    /// A cluster user imports only into its own cluster.
    ClusterOutOfScope,
    /// The credit code appears on an earlier row of the same file.
    DuplicateCreditCode,
    /// The credit code belongs to a stored enterprise outside the importing user's scope.
    CreditCodeOutOfScope,
    /// The enterprise name is empty.
    MissingName,
    /// The row could not be assessed (the message is in `value`).
    Assessment,
}

/// Why a row was refused (the caller words it in the user's language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    pub row: usize,
    /// The column: region, cluster, credit_code, name or assessment.
    pub field: &'static str,
    pub kind: ImportProblemKind,
    /// The offending value (or the assessment's message).
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportCounts {
    pub rows: usize,
    pub enterprises_created: usize,
    /// Rows whose credit code matched a stored enterprise.
    pub enterprises_matched: usize,
    pub assessments: usize,
    pub facts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportResult {
    Imported(ImportCounts),
    /// Nothing was stored.
    Rejected {
        problems: Vec<ImportProblem>,
    },
}

/// Called after each batch with (rows done, rows in all).
pub type ImportProgress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RollupStats {
    /// Latest facts counted.
    pub facts: i64,
    pub cube_rows: i64,
    pub item_rows: i64,
}

/// Every dashboard aggregate at once (the command line's report, exports).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub k: i64,
    pub filters: Filters,
    /// Enterprises in scope (registered; assessed ones when an assessment filter is set).
    pub enterprises: Cell,
    pub participation: Participation,
    pub levels: LevelDistribution,
    pub scores: ScoreHistogram,
    pub scenarios: ScenarioDistribution,
    pub recommended: ItemCounts,
    pub pain_words: ItemCounts,
    pub paths: ItemCounts,
    pub obstacles_by_size: ObstaclesBySize,
    /// With a campaign filter (its target level) or an explicit target level.
    pub target: Option<TargetTracker>,
}

/// An invitation code as typed: upper case, without spaces and hyphens, with the letters
/// Crockford's base 32 reads as digits (I, L → 1; O → 0).
pub fn normalize_invite_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        })
        .collect()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new invitation code: 60 random bits from the operating system.
pub(crate) fn new_invite_code() -> crate::Result<String> {
    let bits = getrandom::u64()
        .map_err(|e| crate::StoreError::Unavailable(format!("no randomness available: {e}")))?;
    Ok((0..12)
        .map(|i| char::from(CROCKFORD[((bits >> (i * 5)) & 31) as usize]))
        .collect())
}

/// The regional authority workspace. Implemented by both backends (see the module docs).
#[async_trait]
pub trait Regional: Send + Sync {
    // ---- regions and clusters -----------------------------------------------------------------
    /// The regions under `parent` (six digits), or the provinces when None.
    async fn regions(&self, parent: Option<&str>) -> Result<Vec<Region>>;
    async fn region(&self, code: &str) -> Result<Option<Region>>;
    /// Administrators set clusters up. Err(Conflict) for a taken id, Err(Invalid) for a bad id,
    /// name or region.
    async fn create_cluster(
        &self,
        id: &str,
        name: &str,
        region_code: &str,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<Cluster>;
    /// The clusters in scope (a region's clusters, a cluster user's own, an enterprise's).
    async fn clusters(&self, scope: &Scope) -> Result<Vec<Cluster>>;

    // ---- accounts and enterprises -------------------------------------------------------------
    /// An authority, cluster or provider account (+ `staff_created`). Err(Invalid) for another
    /// role or a missing or unknown region or cluster; Err(Conflict) for a taken e-mail address.
    async fn create_staff_user(
        &self,
        new: &NewStaffUser<'_>,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<User>;
    /// Sets an enterprise's region, cluster and credit code (None clears). The latest fact
    /// moves with it, so dashboards count the enterprise where it now is.
    async fn set_enterprise_location(
        &self,
        enterprise_id: Id,
        location: &EnterpriseLocation<'_>,
    ) -> Result<Enterprise>;
    /// Enterprises the scope may see individually: all for `All`; the members of the scope's
    /// campaigns for a region or a cluster; itself for an enterprise. Newest first (the members
    /// of one campaign: who joined last first).
    ///
    /// `filters` narrow the list the way they narrow the dashboards: the members of one
    /// campaign (which must be in the scope, else Err(NotFound)), the enterprise's region subtree
    /// and cluster, the sub-sector, group and size class of its latest assessment and the month
    /// that assessment was completed in (an enterprise without one drops out when any of these
    /// is set). `search` matches a part of the name or the whole credit code.
    async fn visible_enterprises(
        &self,
        scope: &Scope,
        filters: &Filters,
        search: Option<&str>,
        page: Page,
    ) -> Result<(Vec<VisibleEnterprise>, i64)>;
    /// The completed assessments of an enterprise the scope may see individually (else
    /// Err(NotFound)), newest first.
    async fn member_assessments(
        &self,
        scope: &Scope,
        enterprise_id: Id,
        page: Page,
    ) -> Result<(Vec<Assessment>, i64)>;
    /// One completed assessment of such an enterprise.
    async fn member_assessment(
        &self,
        scope: &Scope,
        enterprise_id: Id,
        id: Id,
    ) -> Result<Assessment>;

    // ---- campaigns ------------------------------------------------------------------------------
    /// Creates a campaign in the scope (an authority's region, a cluster; any for `All`) with a
    /// new invitation code (+ `campaign_created`).
    async fn create_campaign(
        &self,
        scope: &Scope,
        created_by: Id,
        new: &NewCampaign,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<Campaign>;
    /// The campaigns in scope, newest first (an enterprise's: those it joined).
    async fn campaigns(&self, scope: &Scope, page: Page) -> Result<(Vec<Campaign>, i64)>;
    /// Err(NotFound) outside the scope.
    async fn campaign(&self, scope: &Scope, id: Id) -> Result<Campaign>;
    /// The campaign an invitation names (to show it before the enterprise joins).
    async fn campaign_by_invite(&self, invite_code: &str) -> Result<Option<Campaign>>;
    /// Joins by invitation code (idempotent; + `campaign_joined` when new): the campaign's
    /// authority may then see the enterprise's assessments. Err(NotFound) for an unknown code,
    /// Err(Conflict) once the campaign has ended.
    async fn join_campaign(
        &self,
        enterprise_id: Id,
        invite_code: &str,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<JoinOutcome>;
    /// Withdraws the consent (+ `campaign_left`). Err(NotFound) when not a member.
    async fn leave_campaign(
        &self,
        enterprise_id: Id,
        campaign_id: Id,
        audit: &AuditCtx,
    ) -> Result<()>;
    /// Members, newest first, optionally of one status; "stuck" after `stuck_after_days`
    /// without progress.
    async fn campaign_members(
        &self,
        scope: &Scope,
        campaign_id: Id,
        status: Option<MemberStatus>,
        stuck_after_days: i64,
        now: i64,
        page: Page,
    ) -> Result<(Vec<Member>, i64)>;
    async fn member_counts(
        &self,
        scope: &Scope,
        campaign_id: Id,
        stuck_after_days: i64,
        now: i64,
    ) -> Result<MemberCounts>;
    /// Puts `body` in the inbox of every stuck member (+ `reminders_sent`); returns how many.
    async fn send_reminders(
        &self,
        scope: &Scope,
        campaign_id: Id,
        body: &str,
        stuck_after_days: i64,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<u64>;
    /// The campaigns an enterprise joined and who sees its data through each.
    async fn who_can_see(&self, enterprise_id: Id) -> Result<Vec<Visibility>>;

    // ---- the enterprise inbox -------------------------------------------------------------------
    async fn inbox(&self, enterprise_id: Id, page: Page) -> Result<Inbox>;
    /// Marks a message read (again is fine); Err(NotFound) for another enterprise's.
    async fn mark_read(&self, enterprise_id: Id, message_id: Id, now: i64) -> Result<()>;

    // ---- bulk import ----------------------------------------------------------------------------
    /// Imports enterprises and their completed assessments (with facts and rollups) in ONE
    /// transaction: every row is checked against the scope first (regions inside an authority's
    /// region, a cluster user's own cluster, known clusters, credit codes unique in the file and
    /// not belonging to an enterprise outside the scope); any problem, or any row the source
    /// cannot assess, rejects the whole import and stores nothing.
    async fn import_enterprises(
        &self,
        scope: &Scope,
        rows: &[NewEnterpriseRecord],
        assessments: &mut dyn AssessmentSource,
        progress: Option<ImportProgress<'_>>,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<ImportResult>;

    // ---- dashboard aggregates (suppressed with k; Err(NotFound) for an enterprise scope or a
    // campaign outside the scope) ----------------------------------------------------------------
    async fn participation(
        &self,
        scope: &Scope,
        filters: &Filters,
        k: i64,
    ) -> Result<Participation>;
    async fn level_distribution(
        &self,
        scope: &Scope,
        filters: &Filters,
        k: i64,
    ) -> Result<LevelDistribution>;
    async fn score_histogram(
        &self,
        scope: &Scope,
        filters: &Filters,
        k: i64,
    ) -> Result<ScoreHistogram>;
    async fn scenario_distribution(
        &self,
        scope: &Scope,
        filters: &Filters,
        k: i64,
    ) -> Result<ScenarioDistribution>;
    /// The most frequent items of one kind (recommended scenarios, pain-point words, primary
    /// paths, obstacles), at most `limit`.
    async fn top_items(
        &self,
        scope: &Scope,
        filters: &Filters,
        kind: ItemKind,
        limit: usize,
        k: i64,
    ) -> Result<ItemCounts>;
    async fn obstacles_by_size(
        &self,
        scope: &Scope,
        filters: &Filters,
        k: i64,
    ) -> Result<ObstaclesBySize>;
    /// Firms meeting `target_level` (by default the filtered campaign's) and one scenario
    /// short of it. Err(Invalid) without a target.
    async fn target_tracker(
        &self,
        scope: &Scope,
        filters: &Filters,
        target_level: Option<u8>,
        k: i64,
    ) -> Result<TargetTracker>;
    /// Two rounds of a campaign (region, cluster, sector, group and size filters apply to the
    /// round-2 assessment).
    async fn progress(
        &self,
        scope: &Scope,
        campaign_id: Id,
        round1: TimeRange,
        round2: TimeRange,
        filters: &Filters,
        k: i64,
    ) -> Result<Progress>;
    /// The members of [`Regional::progress`], biggest move up first.
    async fn progress_members(
        &self,
        scope: &Scope,
        campaign_id: Id,
        round1: TimeRange,
        round2: TimeRange,
        page: Page,
    ) -> Result<(Vec<ProgressMember>, i64)>;
    /// Recomputes the rollups from the latest facts (maintenance; the rollups are kept up to
    /// date as facts are written, and rows that fell to zero are dropped here).
    async fn rebuild_rollups(&self) -> Result<RollupStats>;

    // ---- provided ----------------------------------------------------------------------------
    async fn recommended_scenarios(
        &self,
        scope: &Scope,
        filters: &Filters,
        limit: usize,
        k: i64,
    ) -> Result<ItemCounts> {
        self.top_items(scope, filters, ItemKind::Recommended, limit, k)
            .await
    }
    async fn pain_words(
        &self,
        scope: &Scope,
        filters: &Filters,
        limit: usize,
        k: i64,
    ) -> Result<ItemCounts> {
        self.top_items(scope, filters, ItemKind::PainWord, limit, k)
            .await
    }
    async fn path_distribution(
        &self,
        scope: &Scope,
        filters: &Filters,
        k: i64,
    ) -> Result<ItemCounts> {
        self.top_items(scope, filters, ItemKind::Path, usize::MAX, k)
            .await
    }
    /// Every aggregate at once; the target tracker when a campaign is filtered or `target_level`
    /// is given.
    async fn dashboard(
        &self,
        scope: &Scope,
        filters: &Filters,
        target_level: Option<u8>,
        k: i64,
    ) -> Result<Dashboard> {
        let participation = self.participation(scope, filters, k).await?;
        let target = if filters.campaign.is_some() || target_level.is_some() {
            Some(self.target_tracker(scope, filters, target_level, k).await?)
        } else {
            None
        };
        Ok(Dashboard {
            k,
            filters: filters.clone(),
            enterprises: participation.enterprises.unwrap_or(participation.assessed),
            levels: self.level_distribution(scope, filters, k).await?,
            scores: self.score_histogram(scope, filters, k).await?,
            scenarios: self.scenario_distribution(scope, filters, k).await?,
            recommended: self.recommended_scenarios(scope, filters, 10, k).await?,
            pain_words: self.pain_words(scope, filters, 20, k).await?,
            paths: self.path_distribution(scope, filters, k).await?,
            obstacles_by_size: self.obstacles_by_size(scope, filters, k).await?,
            participation,
            target,
        })
    }
}

// =================================================================================================
// The implementation, instantiated once per backend.
// =================================================================================================

/// Implements [`Regional`] for a backend. Invoked inside the backend's module, where
/// `map_err`, the `DbResult` trait (`.db()`), `user_from_row`, `enterprise_from_row`,
/// `assessment_from_row`, `insert_audit` and the store's `write()` / `read()` exist.
macro_rules! impl_regional {
    (store: $store:ty, db: $db:ty, conn: $conn:ty, row: $row:ty, pg: $pg:expr,
     write_cube: $write_cube:path, write_items: $write_items:path, write_totals: $write_totals:path) => {
        /// The shared implementation of the regional workspace (see `crate::regional`).
        pub(crate) mod regional_impl {
            use std::collections::{HashMap, HashSet};

            use async_trait::async_trait;
            use sqlx::{AssertSqlSafe, QueryBuilder, Row};

            use super::*;
            use crate::aggregate::{self as agg, Filters, SectorSizeRaw, TimeRange};
            use crate::facts::{
                self, C_AWAY, C_BIN, C_LEVEL, C_N, C_SCORE, COUNTERS, CubeDelta, Fact, FactRow,
                ItemKind, LEVELS, NCOUNTERS,
            };
            use crate::regional::*;
            use crate::scope::{self, RegionPrefix, Scope, parse_region_code, region_code_text};
            use crate::{Id, Page, Result, Role, StoreError};

            type Conn = $conn;
            type Db = $db;
            type DbRow = $row;
            const PG: bool = $pg;
            /// Row locks where the database has them (SQLite's write lock covers the rest).
            const FOR_UPDATE: &str = if PG { " FOR UPDATE" } else { "" };
            /// Rows per multi-row statement (SQLite allows 32766 parameters, PostgreSQL 65535).
            #[allow(dead_code)] // PostgreSQL writes rollups its own way (postgres.rs)
            const CUBE_CHUNK: usize = 300;
            #[allow(dead_code)]
            const ITEM_CHUNK: usize = 3000;
            const ROW_CHUNK: usize = 500;
            const IN_CHUNK: usize = 900;
            /// A delta holding this many keys is written out before more is added. A key is
            /// written once per flush however many facts it counts, so a bulk import or a rebuild
            /// writes far fewer rows with a large delta (100,000 imported facts touch about 2
            /// million keys); at roughly 70 bytes a key, this bounds the delta near 200 MB.
            const FLUSH_KEYS: usize = 3_000_000;

            // ---- dynamic SQL ------------------------------------------------------------------

            /// A bound value of dynamic SQL.
            #[derive(Debug, Clone)]
            enum Arg {
                I(i64),
                T(String),
            }

            /// SQL text with numbered placeholders and the values they take.
            #[derive(Debug, Default)]
            struct Sql {
                text: String,
                args: Vec<Arg>,
            }

            impl Sql {
                fn new(text: &str) -> Sql {
                    Sql {
                        text: text.to_owned(),
                        args: Vec::new(),
                    }
                }
                fn push(&mut self, text: &str) -> &mut Sql {
                    self.text.push_str(text);
                    self
                }
                /// Appends a placeholder for `arg`.
                fn bind(&mut self, arg: Arg) -> &mut Sql {
                    self.args.push(arg);
                    let n = self.args.len();
                    self.text.push('$');
                    self.text.push_str(&n.to_string());
                    self
                }
                fn bind_list(&mut self, args: impl IntoIterator<Item = Arg>) -> &mut Sql {
                    self.text.push('(');
                    for (i, a) in args.into_iter().enumerate() {
                        if i > 0 {
                            self.text.push_str(", ");
                        }
                        self.bind(a);
                    }
                    self.text.push(')');
                    self
                }
                fn query(
                    &self,
                ) -> sqlx::query::Query<'static, Db, <Db as sqlx::Database>::Arguments> {
                    let mut q = sqlx::query(AssertSqlSafe(self.text.clone()));
                    for a in &self.args {
                        q = match a {
                            Arg::I(v) => q.bind(*v),
                            Arg::T(s) => q.bind(s.clone()),
                        };
                    }
                    q
                }
                async fn fetch_all(&self, conn: &mut Conn) -> Result<Vec<DbRow>> {
                    self.query().fetch_all(&mut *conn).await.db()
                }
                async fn fetch_one(&self, conn: &mut Conn) -> Result<DbRow> {
                    self.query().fetch_one(&mut *conn).await.db()
                }
                async fn execute(&self, conn: &mut Conn) -> Result<u64> {
                    Ok(self
                        .query()
                        .execute(&mut *conn)
                        .await
                        .db()?
                        .rows_affected())
                }
            }

            fn get<'r, T>(row: &'r DbRow, col: &str) -> Result<T>
            where
                T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
            {
                row.try_get::<T, _>(col).db()
            }

            fn geti<'r, T>(row: &'r DbRow, idx: usize) -> Result<T>
            where
                T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
            {
                row.try_get::<T, _>(idx).db()
            }

            fn invalid<T>(msg: impl Into<String>) -> Result<T> {
                Err(StoreError::Invalid(msg.into()))
            }

            fn region_arg(code: &str) -> Result<i64> {
                parse_region_code(code).ok_or_else(|| {
                    StoreError::Invalid(format!(
                        "{code:?} is not a six-digit GB/T 2260 region code"
                    ))
                })
            }

            fn clean_text(text: &str, max: usize, what: &str) -> Result<String> {
                let t = text.trim();
                if t.is_empty() {
                    return invalid(format!("the {what} is empty"));
                }
                if t.chars().count() > max {
                    return invalid(format!("the {what} is longer than {max} characters"));
                }
                if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return invalid(format!("the {what} contains control characters"));
                }
                Ok(t.to_owned())
            }

            fn cluster_id_arg(id: &str) -> Result<String> {
                let id = id.trim();
                if id.is_empty()
                    || id.chars().count() > MAX_CLUSTER_ID_CHARS
                    || id.chars().any(|c| c.is_control() || c == ',')
                {
                    return invalid(format!(
                        "{id:?} is not a cluster id (1 to {MAX_CLUSTER_ID_CHARS} characters, no commas)"
                    ));
                }
                Ok(id.to_owned())
            }

            fn opt_code(code: Option<i64>) -> Option<String> {
                code.map(region_code_text)
            }

            fn bounds(page: Page) -> (i64, i64) {
                (page.offset.max(0), page.limit.max(0))
            }

            // ---- rows -------------------------------------------------------------------------

            const CAMPAIGN_COLS: &str = "c.id, c.region_code, c.cluster_id, c.created_by, c.name, \
                 c.starts_on, c.ends_on, c.target_sectors, c.target_level, c.invite_code, c.created_at";

            fn campaign_from_row(row: &DbRow) -> Result<Campaign> {
                let level: i64 = get(row, "target_level")?;
                let sectors: String = get(row, "target_sectors")?;
                Ok(Campaign {
                    id: get(row, "id")?,
                    region_code: region_code_text(get(row, "region_code")?),
                    cluster_id: get(row, "cluster_id")?,
                    created_by: get(row, "created_by")?,
                    name: get(row, "name")?,
                    starts_on: get(row, "starts_on")?,
                    ends_on: get(row, "ends_on")?,
                    target_sectors: facts::split_list(&sectors),
                    target_level: u8::try_from(level.clamp(1, 4)).unwrap_or(1),
                    invite_code: get(row, "invite_code")?,
                    created_at: get(row, "created_at")?,
                })
            }

            const FACT_COLS: &str = "assessment_id, enterprise_id, region_code, cluster_id, sector, grp, \
                 size, CAST(level AS BIGINT) AS level, score, completed_at, primary_path, scenario_levels, \
                 CAST(one_away AS BIGINT) AS one_away, recommended, obstacles, pain_words";

            fn fact_from_row(row: &DbRow) -> Result<FactRow> {
                let level: i64 = get(row, "level")?;
                let one_away: i64 = get(row, "one_away")?;
                let code: String = get(row, "scenario_levels")?;
                let rec: String = get(row, "recommended")?;
                let obst: String = get(row, "obstacles")?;
                let pain: String = get(row, "pain_words")?;
                Ok(FactRow {
                    assessment_id: get(row, "assessment_id")?,
                    enterprise_id: get(row, "enterprise_id")?,
                    region_code: get(row, "region_code")?,
                    cluster_id: get(row, "cluster_id")?,
                    completed_at: get(row, "completed_at")?,
                    fact: Fact {
                        sector: get(row, "sector")?,
                        group: get(row, "grp")?,
                        size: get(row, "size")?,
                        level: u8::try_from(level.clamp(0, 4)).unwrap_or(0),
                        score: get(row, "score")?,
                        primary_path: get(row, "primary_path")?,
                        scenario_levels: Fact::parse_scenario_code(&code),
                        one_away: u8::try_from(one_away.clamp(0, 15)).unwrap_or(0),
                        recommended: facts::split_list(&rec),
                        obstacles: facts::split_list(&obst),
                        pain_words: facts::split_list(&pain),
                    },
                })
            }

            // ---- enterprises, activity and facts (also called by the backend) -----------------

            /// (region_code, cluster_id) of an enterprise, locking its row on PostgreSQL;
            /// Err(NotFound) when it does not exist.
            async fn lock_enterprise(
                conn: &mut Conn,
                enterprise_id: Id,
            ) -> Result<(Option<i64>, Option<String>)> {
                let mut sql = Sql::new("SELECT region_code, cluster_id FROM enterprises WHERE id = ");
                sql.bind(Arg::I(enterprise_id)).push(FOR_UPDATE);
                let row = sql
                    .query()
                    .fetch_optional(&mut *conn)
                    .await
                    .db()?
                    .ok_or(StoreError::NotFound)?;
                Ok((get(&row, "region_code")?, get(&row, "cluster_id")?))
            }

            /// Records activity (a draft created or saved) for the campaign pages.
            pub(crate) async fn touch_activity(
                conn: &mut Conn,
                enterprise_id: Id,
                at: i64,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE enterprises SET last_activity_at = CASE WHEN last_activity_at IS NULL \
                     OR last_activity_at < $2 THEN $2 ELSE last_activity_at END WHERE id = $1",
                )
                .bind(enterprise_id)
                .bind(at)
                .execute(&mut *conn)
                .await
                .db()?;
                sync_members(conn, &[enterprise_id]).await
            }

            /// Sets every membership's last activity and completion to its enterprise's.
            const SYNC_MEMBERS: &str = "UPDATE campaign_members SET \
                 last_activity_at = (SELECT e.last_activity_at FROM enterprises e WHERE e.id = campaign_members.enterprise_id), \
                 last_completed_at = (SELECT e.last_completed_at FROM enterprises e WHERE e.id = campaign_members.enterprise_id)";

            /// Copies the enterprises' last activity and completion to their memberships (what
            /// the campaign pages read), after a change of either.
            async fn sync_members(conn: &mut Conn, enterprises: &[Id]) -> Result<()> {
                for chunk in in_lists(enterprises) {
                    let mut sql = Sql::new(SYNC_MEMBERS);
                    sql.push(" WHERE enterprise_id IN ");
                    sql.bind_list(chunk.iter().map(|id| Arg::I(*id)));
                    sql.execute(conn).await?;
                }
                Ok(())
            }

            /// The fact of an assessment completed at `at`, written with its rollups in the
            /// caller's transaction (called by `complete_assessment`).
            pub(crate) async fn record_fact_in(
                conn: &mut Conn,
                enterprise_id: Id,
                assessment_id: Id,
                result: &serde_json::Value,
                at: i64,
            ) -> Result<()> {
                let (region_code, cluster_id) = lock_enterprise(conn, enterprise_id).await?;
                sqlx::query(
                    "UPDATE enterprises SET \
                     last_activity_at = CASE WHEN last_activity_at IS NULL OR last_activity_at < $2 \
                         THEN $2 ELSE last_activity_at END, \
                     last_completed_at = CASE WHEN last_completed_at IS NULL OR last_completed_at < $2 \
                         THEN $2 ELSE last_completed_at END \
                     WHERE id = $1",
                )
                .bind(enterprise_id)
                .bind(at)
                .execute(&mut *conn)
                .await
                .db()?;
                sync_members(conn, &[enterprise_id]).await?;
                let Some(fact) = Fact::from_report(result) else {
                    return Ok(());
                };
                let row = FactRow {
                    assessment_id,
                    enterprise_id,
                    region_code,
                    cluster_id,
                    completed_at: at,
                    fact,
                };
                let mut delta = CubeDelta::new();
                add_facts(conn, vec![row], &HashSet::new(), &mut delta).await?;
                apply_delta(conn, &delta).await
            }

            /// Chunks of an id list as bound IN lists.
            fn in_lists(ids: &[Id]) -> impl Iterator<Item = &[Id]> {
                ids.chunks(IN_CHUNK)
            }

            /// The latest facts of these enterprises.
            async fn latest_facts(conn: &mut Conn, enterprises: &[Id]) -> Result<HashMap<Id, FactRow>> {
                let mut out = HashMap::new();
                for chunk in in_lists(enterprises) {
                    let mut sql = Sql::new(&format!(
                        "SELECT {FACT_COLS} FROM assessment_facts WHERE is_latest = 1 AND enterprise_id IN "
                    ));
                    sql.bind_list(chunk.iter().map(|id| Arg::I(*id)));
                    for row in sql.fetch_all(conn).await? {
                        let f = fact_from_row(&row)?;
                        out.insert(f.enterprise_id, f);
                    }
                }
                Ok(out)
            }

            /// The campaigns these enterprises joined.
            async fn memberships(conn: &mut Conn, enterprises: &[Id]) -> Result<HashMap<Id, Vec<Id>>> {
                let mut out: HashMap<Id, Vec<Id>> = HashMap::new();
                for chunk in in_lists(enterprises) {
                    let mut sql = Sql::new(
                        "SELECT enterprise_id, campaign_id FROM campaign_members WHERE enterprise_id IN ",
                    );
                    sql.bind_list(chunk.iter().map(|id| Arg::I(*id)));
                    for row in sql.fetch_all(conn).await? {
                        out.entry(get(&row, "enterprise_id")?)
                            .or_default()
                            .push(get(&row, "campaign_id")?);
                    }
                }
                Ok(out)
            }

            /// Inserts facts, keeping one latest fact per enterprise (the newest by completion
            /// time, then id) and adding the rollup changes to `delta`. Enterprises in `fresh`
            /// are known to have no facts and no memberships yet (a bulk import's new ones).
            async fn add_facts(
                conn: &mut Conn,
                rows: Vec<FactRow>,
                fresh: &HashSet<Id>,
                delta: &mut CubeDelta,
            ) -> Result<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut best: HashMap<Id, usize> = HashMap::new();
                for (i, r) in rows.iter().enumerate() {
                    let slot = best.entry(r.enterprise_id).or_insert(i);
                    let b = &rows[*slot];
                    if (r.completed_at, r.assessment_id) > (b.completed_at, b.assessment_id) {
                        *slot = i;
                    }
                }
                let mut known: Vec<Id> = best.keys().copied().filter(|e| !fresh.contains(e)).collect();
                known.sort_unstable();
                let current = latest_facts(conn, &known).await?;
                let members = memberships(conn, &known).await?;
                let none: Vec<Id> = Vec::new();
                let mut latest = vec![false; rows.len()];
                let mut demote: Vec<Id> = Vec::new();
                let mut order: Vec<(&Id, &usize)> = best.iter().collect();
                order.sort_unstable();
                for (enterprise, i) in order {
                    let new = &rows[*i];
                    let campaigns = members.get(enterprise).unwrap_or(&none);
                    match current.get(enterprise) {
                        Some(cur) if (cur.completed_at, cur.assessment_id) > (new.completed_at, new.assessment_id) => {}
                        Some(cur) => {
                            demote.push(cur.assessment_id);
                            delta.add(cur, campaigns, -1);
                            delta.add(new, campaigns, 1);
                            latest[*i] = true;
                        }
                        None => {
                            delta.add(new, campaigns, 1);
                            latest[*i] = true;
                        }
                    }
                }
                for chunk in in_lists(&demote) {
                    let mut sql = Sql::new("UPDATE assessment_facts SET is_latest = 0 WHERE assessment_id IN ");
                    sql.bind_list(chunk.iter().map(|id| Arg::I(*id)));
                    sql.execute(conn).await?;
                }
                let indexed: Vec<(usize, &FactRow)> = rows.iter().enumerate().collect();
                for chunk in indexed.chunks(ROW_CHUNK) {
                    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                        "INSERT INTO assessment_facts (assessment_id, enterprise_id, region_code, cluster_id, \
                         sector, grp, size, level, score, completed_at, primary_path, scenario_levels, one_away, \
                         recommended, obstacles, pain_words, is_latest) ",
                    );
                    qb.push_values(chunk, |mut b, (i, r)| {
                        let f = &r.fact;
                        b.push_bind(r.assessment_id)
                            .push_bind(r.enterprise_id)
                            .push_bind(r.region_code)
                            .push_bind(r.cluster_id.as_deref())
                            .push_bind(f.sector.as_deref())
                            .push_bind(f.group.as_str())
                            .push_bind(f.size.as_str())
                            .push_bind(i16::from(f.level))
                            .push_bind(f.score)
                            .push_bind(r.completed_at)
                            .push_bind(f.primary_path.as_deref())
                            .push_bind(f.scenario_code())
                            .push_bind(i16::from(f.one_away))
                            .push_bind(facts::join_list(&f.recommended))
                            .push_bind(facts::join_list(&f.obstacles))
                            .push_bind(facts::join_list(&f.pain_words))
                            .push_bind(i16::from(latest[*i]));
                    });
                    qb.build().execute(&mut *conn).await.db()?;
                }
                // Every new fact of a member also joins its campaigns' rows, latest or not (a
                // round may end before the newest assessment).
                let copies: Vec<Id> = rows
                    .iter()
                    .filter(|r| members.contains_key(&r.enterprise_id))
                    .map(|r| r.assessment_id)
                    .collect();
                for chunk in in_lists(&copies) {
                    copy_campaign_facts(conn, CampaignFacts::Of(chunk)).await?;
                }
                Ok(())
            }

            /// Which facts [`copy_campaign_facts`] copies.
            enum CampaignFacts<'a> {
                /// Every member's, for every campaign (a rebuild).
                All,
                /// One member's, when it joins a campaign: (campaign, enterprise).
                Member(Id, Id),
                /// These new facts, for every campaign their enterprise is a member of.
                Of(&'a [Id]),
            }

            /// Copies facts into the rows of the campaigns their enterprises joined.
            async fn copy_campaign_facts(conn: &mut Conn, which: CampaignFacts<'_>) -> Result<()> {
                let mut sql = Sql::new(
                    "INSERT INTO campaign_facts (campaign_id, enterprise_id, completed_at, assessment_id, ord, \
                     level, score, region_code, cluster_id, sector, grp, size) \
                     SELECT m.campaign_id, f.enterprise_id, f.completed_at, f.assessment_id, \
                     (SELECT COUNT(*) FROM assessment_facts x WHERE x.enterprise_id = f.enterprise_id \
                     AND x.completed_at = f.completed_at AND x.assessment_id < f.assessment_id), \
                     f.level, f.score, f.region_code, f.cluster_id, f.sector, f.grp, f.size \
                     FROM campaign_members m JOIN assessment_facts f ON f.enterprise_id = m.enterprise_id",
                );
                match which {
                    CampaignFacts::All => {}
                    CampaignFacts::Member(c, e) => {
                        sql.push(" WHERE m.campaign_id = ").bind(Arg::I(c));
                        sql.push(" AND m.enterprise_id = ").bind(Arg::I(e));
                    }
                    CampaignFacts::Of(ids) => {
                        sql.push(" WHERE f.assessment_id IN ");
                        sql.bind_list(ids.iter().map(|id| Arg::I(*id)));
                    }
                }
                sql.execute(conn).await?;
                Ok(())
            }

            /// Writes a rollup delta (upserts in key order).
            async fn apply_delta(conn: &mut Conn, delta: &CubeDelta) -> Result<()> {
                let main = delta.main_rows();
                if !main.is_empty() {
                    $write_cube(conn, &main).await?;
                }
                let items = delta.item_rows();
                if !items.is_empty() {
                    $write_items(conn, &items).await?;
                }
                let totals = delta.total_rows();
                if !totals.is_empty() {
                    $write_totals(conn, &totals).await?;
                }
                Ok(())
            }

            /// Item totals as multi-row upserts.
            #[allow(dead_code)]
            pub(crate) async fn write_totals_values(
                conn: &mut Conn,
                totals: &[(Id, &str, ItemKind, i64, &str, i64)],
            ) -> Result<()> {
                for chunk in totals.chunks(ITEM_CHUNK) {
                    let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                        "INSERT INTO fact_item_totals (campaign_id, region_key, kind, month, item, n) ",
                    );
                    qb.push_values(chunk, |mut b, (campaign, region, kind, month, item, n)| {
                        b.push_bind(*campaign)
                            .push_bind(*region)
                            .push_bind(kind.code())
                            .push_bind(*month)
                            .push_bind(*item)
                            .push_bind(*n);
                    });
                    qb.push(
                        " ON CONFLICT (campaign_id, region_key, kind, month, item) \
                         DO UPDATE SET n = fact_item_totals.n + excluded.n",
                    );
                    qb.build().execute(&mut *conn).await.db()?;
                }
                Ok(())
            }

            #[allow(dead_code)]
            const CUBE_KEYS: &str = "campaign_id, region_key, cluster_id, sector, grp, size, month";

            /// Rollup rows as multi-row upserts (the portable way; PostgreSQL has a faster one).
            #[allow(dead_code)]
            pub(crate) async fn write_cube_values(
                conn: &mut Conn,
                main: &[(facts::CubeKeyRef<'_>, &[i64; NCOUNTERS])],
            ) -> Result<()> {
                let set: Vec<String> = COUNTERS
                    .iter()
                    .map(|c| format!("{c} = fact_cube.{c} + excluded.{c}"))
                    .collect();
                let tail = format!(" ON CONFLICT ({CUBE_KEYS}) DO UPDATE SET {}", set.join(", "));
                for chunk in main.chunks(CUBE_CHUNK) {
                    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                        "INSERT INTO fact_cube ({CUBE_KEYS}, {}) ",
                        COUNTERS.join(", ")
                    ));
                    qb.push_values(chunk, |mut b, (k, c)| {
                        b.push_bind(k.campaign_id)
                            .push_bind(k.region_key)
                            .push_bind(k.cluster_id)
                            .push_bind(k.sector)
                            .push_bind(k.grp)
                            .push_bind(k.size)
                            .push_bind(k.month);
                        for v in c.iter() {
                            b.push_bind(*v);
                        }
                    });
                    qb.push(&tail);
                    qb.build().execute(&mut *conn).await.db()?;
                }
                Ok(())
            }

            /// Item rows as multi-row upserts.
            #[allow(dead_code)]
            pub(crate) async fn write_items_values(
                conn: &mut Conn,
                items: &[(facts::CubeKeyRef<'_>, ItemKind, &str, i64)],
            ) -> Result<()> {
                for chunk in items.chunks(ITEM_CHUNK) {
                    let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                        "INSERT INTO fact_cube_items ({CUBE_KEYS}, kind, item, n) "
                    ));
                    qb.push_values(chunk, |mut b, (k, kind, item, n)| {
                        b.push_bind(k.campaign_id)
                            .push_bind(k.region_key)
                            .push_bind(k.cluster_id)
                            .push_bind(k.sector)
                            .push_bind(k.grp)
                            .push_bind(k.size)
                            .push_bind(k.month)
                            .push_bind(kind.code())
                            .push_bind(*item)
                            .push_bind(*n);
                    });
                    qb.push(format!(
                        " ON CONFLICT ({CUBE_KEYS}, kind, item) DO UPDATE SET n = fact_cube_items.n + excluded.n"
                    ));
                    qb.build().execute(&mut *conn).await.db()?;
                }
                Ok(())
            }

            /// Writes a delta out once it holds many keys, keeping memory bounded.
            async fn flush_if_large(conn: &mut Conn, delta: &mut CubeDelta) -> Result<()> {
                if delta.len() >= FLUSH_KEYS {
                    apply_delta(conn, delta).await?;
                    *delta = CubeDelta::new();
                }
                Ok(())
            }

            /// Adds (sign +1) or removes (−1) an enterprise's latest fact to or from one
            /// campaign's rollups (joining, leaving).
            async fn campaign_delta(
                conn: &mut Conn,
                enterprise_id: Id,
                campaign_id: Id,
                sign: i64,
            ) -> Result<()> {
                let latest = latest_facts(conn, &[enterprise_id]).await?;
                if let Some(f) = latest.get(&enterprise_id) {
                    // Only the campaign's rows: the all-enterprises rows do not change.
                    let mut delta = CubeDelta::new();
                    delta.add_to(f, &[campaign_id], sign);
                    apply_delta(conn, &delta).await?;
                }
                Ok(())
            }

            // ---- scope --------------------------------------------------------------------------

            /// SQL condition: campaign `c` is in the scope.
            fn campaign_in_scope(scope: &Scope, sql: &mut Sql) {
                match scope {
                    Scope::All => {
                        sql.push("1 = 1");
                    }
                    Scope::Region(p) => {
                        let (lo, hi) = p.range();
                        sql.push("c.region_code >= ").bind(Arg::I(lo));
                        sql.push(" AND c.region_code < ").bind(Arg::I(hi));
                    }
                    Scope::Cluster(id) => {
                        sql.push("c.cluster_id = ").bind(Arg::T(id.clone()));
                    }
                    Scope::Enterprise(e) => {
                        sql.push("EXISTS (SELECT 1 FROM campaign_members x WHERE x.campaign_id = c.id AND x.enterprise_id = ")
                            .bind(Arg::I(*e))
                            .push(")");
                    }
                }
            }

            async fn campaign_in(conn: &mut Conn, scope: &Scope, id: Id) -> Result<Campaign> {
                let mut sql = Sql::new(&format!("SELECT {CAMPAIGN_COLS} FROM campaigns c WHERE c.id = "));
                sql.bind(Arg::I(id)).push(" AND ");
                campaign_in_scope(scope, &mut sql);
                let row = sql
                    .query()
                    .fetch_optional(&mut *conn)
                    .await
                    .db()?
                    .ok_or(StoreError::NotFound)?;
                campaign_from_row(&row)
            }

            /// True when the scope may see this enterprise individually.
            async fn may_see(conn: &mut Conn, scope: &Scope, enterprise_id: Id) -> Result<bool> {
                let mut sql = Sql::new("SELECT COUNT(*) FROM enterprises e WHERE e.id = ");
                sql.bind(Arg::I(enterprise_id));
                match scope {
                    Scope::All => {}
                    Scope::Enterprise(e) => {
                        if *e != enterprise_id {
                            return Ok(false);
                        }
                    }
                    Scope::Region(_) | Scope::Cluster(_) => {
                        sql.push(
                            " AND EXISTS (SELECT 1 FROM campaign_members m JOIN campaigns c ON c.id = m.campaign_id \
                             WHERE m.enterprise_id = e.id AND ",
                        );
                        campaign_in_scope(scope, &mut sql);
                        sql.push(")");
                    }
                }
                let n: i64 = geti(&sql.fetch_one(conn).await?, 0)?;
                Ok(n > 0)
            }

            /// What a dashboard query reads, once scope and filters are combined.
            #[derive(Debug, Clone)]
            struct Where {
                campaign: Id,
                region: Option<RegionPrefix>,
                cluster: Option<String>,
                sector: Option<String>,
                group: Option<String>,
                size: Option<String>,
                from_month: Option<i64>,
                to_month: Option<i64>,
            }

            impl Where {
                /// Conditions on a rollup table (no leading AND).
                fn cube(&self, sql: &mut Sql) {
                    sql.push("campaign_id = ").bind(Arg::I(self.campaign));
                    sql.push(" AND region_key = ").bind(Arg::T(
                        self.region.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                    ));
                    if let Some(c) = &self.cluster {
                        sql.push(" AND cluster_id = ").bind(Arg::T(c.clone()));
                    }
                    if let Some(s) = &self.sector {
                        sql.push(" AND sector = ").bind(Arg::T(s.clone()));
                    }
                    if let Some(g) = &self.group {
                        sql.push(" AND grp = ").bind(Arg::T(g.clone()));
                    }
                    if let Some(s) = &self.size {
                        sql.push(" AND size = ").bind(Arg::T(s.clone()));
                    }
                    if let Some(m) = self.from_month {
                        sql.push(" AND month >= ").bind(Arg::I(m));
                    }
                    if let Some(m) = self.to_month {
                        sql.push(" AND month <= ").bind(Arg::I(m));
                    }
                }

                /// Conditions on a row's location (`{loc}region_code`, `{loc}cluster_id`) and on
                /// its fact's sub-sector, group and size (`{fact}sector` …), each with a leading
                /// AND; the months are read differently by each table and left to the caller.
                fn row_conditions(&self, sql: &mut Sql, loc: &str, fact: &str) {
                    if let Some(p) = &self.region {
                        let (lo, hi) = p.range();
                        sql.push(&format!(" AND {loc}region_code >= ")).bind(Arg::I(lo));
                        sql.push(&format!(" AND {loc}region_code < ")).bind(Arg::I(hi));
                    }
                    if let Some(c) = &self.cluster {
                        sql.push(&format!(" AND {loc}cluster_id = ")).bind(Arg::T(c.clone()));
                    }
                    if let Some(s) = &self.sector {
                        sql.push(&format!(" AND {fact}sector = ")).bind(Arg::T(s.clone()));
                    }
                    if let Some(g) = &self.group {
                        sql.push(&format!(" AND {fact}grp = ")).bind(Arg::T(g.clone()));
                    }
                    if let Some(s) = &self.size {
                        sql.push(&format!(" AND {fact}size = ")).bind(Arg::T(s.clone()));
                    }
                }

                /// True when a filter on assessments (not on enterprises) is set.
                fn filters_assessments(&self) -> bool {
                    self.sector.is_some()
                        || self.group.is_some()
                        || self.size.is_some()
                        || self.from_month.is_some()
                        || self.to_month.is_some()
                }
            }

            /// The first second (UTC) of a month YYYYMM.
            fn month_start(m: i64) -> i64 {
                scope::days_from_civil(m / 100, m % 100, 1).saturating_mul(86_400)
            }

            /// `text` as a literal inside a LIKE pattern escaped with a backslash.
            fn like_escape(text: &str) -> String {
                let mut out = String::with_capacity(text.len());
                for ch in text.chars() {
                    if matches!(ch, '%' | '_' | '\\') {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out
            }

            fn valid_month(m: Option<i64>) -> Result<Option<i64>> {
                match m {
                    Some(v) if !(190_001..=999_912).contains(&v) || !(1..=12).contains(&(v % 100)) => {
                        invalid(format!("{v} is not a month (YYYYMM)"))
                    }
                    other => Ok(other),
                }
            }

            /// Combines scope and filters; None when they cannot overlap (empty results).
            async fn resolve(conn: &mut Conn, scope: &Scope, f: &Filters) -> Result<Option<Where>> {
                let from_month = valid_month(f.from_month)?;
                let to_month = valid_month(f.to_month)?;
                let (mut region, mut cluster, campaign) = match (scope, f.campaign) {
                    (Scope::Enterprise(_), _) => return Err(StoreError::NotFound),
                    // An empty cluster id would match every enterprise outside a cluster.
                    (Scope::Cluster(id), _) if id.trim().is_empty() => return Err(StoreError::NotFound),
                    // A campaign's members consented: its dashboards count them wherever they are.
                    (_, Some(c)) => {
                        campaign_in(conn, scope, c).await?;
                        (None, None, c)
                    }
                    (Scope::All, None) => (None, None, 0),
                    (Scope::Region(p), None) => (Some(p.clone()), None, 0),
                    (Scope::Cluster(id), None) => (None, Some(id.clone()), 0),
                };
                if let Some(want) = &f.region {
                    region = match region {
                        None => Some(want.clone()),
                        Some(have) if have.contains(want) => Some(want.clone()),
                        Some(have) if want.contains(&have) => Some(have),
                        Some(_) => return Ok(None),
                    };
                }
                if let Some(want) = &f.cluster {
                    match &cluster {
                        Some(have) if have != want => return Ok(None),
                        _ => cluster = Some(want.clone()),
                    }
                }
                Ok(Some(Where {
                    campaign,
                    region,
                    cluster,
                    sector: f.sector.clone(),
                    group: f.group.clone(),
                    size: f.size.clone(),
                    from_month,
                    to_month,
                }))
            }

            /// Sums of rollup counters, grouped by text columns (or CAST month).
            async fn cube_sums(
                conn: &mut Conn,
                w: &Where,
                group: &[&str],
                counters: &[usize],
            ) -> Result<Vec<(Vec<String>, Vec<i64>)>> {
                let mut cols: Vec<String> = group.iter().map(|g| (*g).to_owned()).collect();
                cols.extend(counters.iter().map(|c| {
                    format!("CAST(COALESCE(SUM({}), 0) AS BIGINT)", COUNTERS[*c])
                }));
                let mut sql = Sql::new(&format!("SELECT {} FROM fact_cube WHERE ", cols.join(", ")));
                w.cube(&mut sql);
                if !group.is_empty() {
                    sql.push(" GROUP BY ").push(&group.join(", "));
                }
                let mut out = Vec::new();
                for row in sql.fetch_all(conn).await? {
                    let mut keys = Vec::with_capacity(group.len());
                    for i in 0..group.len() {
                        keys.push(geti::<String>(&row, i)?);
                    }
                    let mut values = Vec::with_capacity(counters.len());
                    for i in 0..counters.len() {
                        values.push(geti::<i64>(&row, group.len() + i)?);
                    }
                    out.push((keys, values));
                }
                Ok(out)
            }

            async fn total(conn: &mut Conn, w: &Where) -> Result<i64> {
                Ok(cube_sums(conn, w, &[], &[C_N])
                    .await?
                    .first()
                    .and_then(|(_, v)| v.first().copied())
                    .unwrap_or(0))
            }

            async fn item_sums(
                conn: &mut Conn,
                w: &Where,
                kind: ItemKind,
                by_size: bool,
            ) -> Result<Vec<(String, String, i64)>> {
                if !by_size && w.cluster.is_none() && w.sector.is_none() && w.group.is_none() && w.size.is_none() {
                    // Only campaign, region and months: the small totals table answers.
                    let mut sql = Sql::new(
                        "SELECT '' AS g, item, CAST(SUM(n) AS BIGINT) AS n FROM fact_item_totals WHERE campaign_id = ",
                    );
                    sql.bind(Arg::I(w.campaign));
                    sql.push(" AND region_key = ").bind(Arg::T(
                        w.region.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                    ));
                    sql.push(" AND kind = ").bind(Arg::T(kind.code().to_owned()));
                    if let Some(m) = w.from_month {
                        sql.push(" AND month >= ").bind(Arg::I(m));
                    }
                    if let Some(m) = w.to_month {
                        sql.push(" AND month <= ").bind(Arg::I(m));
                    }
                    sql.push(" GROUP BY item HAVING SUM(n) > 0");
                    let mut out = Vec::new();
                    for row in sql.fetch_all(conn).await? {
                        out.push((geti(&row, 0)?, geti(&row, 1)?, geti(&row, 2)?));
                    }
                    return Ok(out);
                }
                let lead = if by_size { "size" } else { "''" };
                let mut sql = Sql::new(&format!(
                    "SELECT {lead} AS g, item, CAST(SUM(n) AS BIGINT) AS n FROM fact_cube_items WHERE "
                ));
                w.cube(&mut sql);
                sql.push(" AND kind = ").bind(Arg::T(kind.code().to_owned()));
                sql.push(&format!(" GROUP BY {}item HAVING SUM(n) > 0", if by_size { "size, " } else { "" }));
                let mut out = Vec::new();
                for row in sql.fetch_all(conn).await? {
                    out.push((geti(&row, 0)?, geti(&row, 1)?, geti(&row, 2)?));
                }
                Ok(out)
            }

            fn levels_of(values: &[i64]) -> [i64; LEVELS] {
                let mut l = [0; LEVELS];
                for (slot, v) in l.iter_mut().zip(values) {
                    *slot = *v;
                }
                l
            }

            fn empty_where() -> Where {
                Where {
                    campaign: -1,
                    region: None,
                    cluster: None,
                    sector: None,
                    group: None,
                    size: None,
                    from_month: None,
                    to_month: None,
                }
            }

            // ---- bulk import --------------------------------------------------------------------

            /// `n` new ids of a table (`enterprises` or `assessments`).
            async fn reserve_ids(conn: &mut Conn, table: &'static str, n: usize) -> Result<Vec<Id>> {
                if n == 0 {
                    return Ok(Vec::new());
                }
                let count = i64::try_from(n).map_err(|_| StoreError::Invalid("too many rows".into()))?;
                if PG {
                    let sql = Sql {
                        text: format!(
                            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
                        ),
                        args: vec![Arg::I(count)],
                    };
                    let rows = sql.fetch_all(conn).await?;
                    rows.iter().map(|r| geti::<i64>(r, 0)).collect()
                } else {
                    // Under SQLite's write lock: after every id used so far (AUTOINCREMENT never
                    // reuses one, so the sequence counts too).
                    let sql = Sql {
                        text: format!(
                            "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
                             COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0))"
                        ),
                        args: Vec::new(),
                    };
                    let last: i64 = geti(&sql.fetch_one(conn).await?, 0)?;
                    Ok((1..=count).map(|i| last + i).collect())
                }
            }

            #[allow(clippy::too_many_lines)]
            async fn import_in(
                conn: &mut Conn,
                scope: &Scope,
                rows: &[NewEnterpriseRecord],
                source: &mut dyn AssessmentSource,
                progress: Option<ImportProgress<'_>>,
                now: i64,
            ) -> Result<ImportResult> {
                let (region_scope, cluster_scope) = match scope {
                    Scope::All => (None, None),
                    Scope::Region(p) => (Some(p), None),
                    Scope::Cluster(c) => (None, Some(c.as_str())),
                    Scope::Enterprise(_) => return Err(StoreError::NotFound),
                };
                let mut problems: Vec<ImportProblem> = Vec::new();
                let problem = |row: usize, field: &'static str, kind: ImportProblemKind, value: &str| ImportProblem {
                    row,
                    field,
                    kind,
                    value: value.to_owned(),
                };

                // Row checks.
                let mut located: Vec<(i64, Option<String>)> = Vec::with_capacity(rows.len());
                let mut seen_codes: HashSet<&str> = HashSet::new();
                for r in rows {
                    if r.name.trim().is_empty() {
                        problems.push(problem(r.row, "name", ImportProblemKind::MissingName, &r.name));
                    }
                    let region = parse_region_code(&r.region_code);
                    match region {
                        None => problems.push(problem(r.row, "region", ImportProblemKind::InvalidRegion, &r.region_code)),
                        Some(code) => {
                            if region_scope.is_some_and(|p| !p.contains_code(code)) {
                                problems.push(problem(r.row, "region", ImportProblemKind::RegionOutOfScope, &r.region_code));
                            }
                        }
                    }
                    let cluster = match (cluster_scope, r.cluster_id.as_deref().map(str::trim).filter(|c| !c.is_empty())) {
                        (Some(mine), None) => Some(mine.to_owned()),
                        (Some(mine), Some(c)) if c == mine => Some(mine.to_owned()),
                        (Some(_), Some(c)) => {
                            problems.push(problem(r.row, "cluster", ImportProblemKind::ClusterOutOfScope, c));
                            None
                        }
                        (None, c) => c.map(str::to_owned),
                    };
                    if let Some(code) = r.credit_code.as_deref() {
                        if !seen_codes.insert(code) {
                            problems.push(problem(r.row, "credit_code", ImportProblemKind::DuplicateCreditCode, code));
                        }
                    }
                    located.push((region.unwrap_or(0), cluster));
                }

                // Clusters exist.
                let mut wanted: Vec<String> = located.iter().filter_map(|(_, c)| c.clone()).collect();
                wanted.sort_unstable();
                wanted.dedup();
                let mut known: HashSet<String> = HashSet::new();
                for chunk in wanted.chunks(IN_CHUNK) {
                    let mut sql = Sql::new("SELECT id FROM clusters WHERE id IN ");
                    sql.bind_list(chunk.iter().map(|c| Arg::T(c.clone())));
                    for row in sql.fetch_all(conn).await? {
                        known.insert(geti(&row, 0)?);
                    }
                }
                for (r, (_, c)) in rows.iter().zip(&located) {
                    if let Some(c) = c {
                        if !known.contains(c) {
                            problems.push(problem(r.row, "cluster", ImportProblemKind::UnknownCluster, c));
                        }
                    }
                }

                // Stored enterprises with these credit codes (locked on PostgreSQL).
                let mut codes: Vec<String> = rows.iter().filter_map(|r| r.credit_code.clone()).collect();
                codes.sort_unstable();
                codes.dedup();
                let mut stored: HashMap<String, (Id, Option<i64>, Option<String>)> = HashMap::new();
                for chunk in codes.chunks(IN_CHUNK) {
                    let mut sql = Sql::new("SELECT id, credit_code, region_code, cluster_id FROM enterprises WHERE credit_code IN ");
                    sql.bind_list(chunk.iter().map(|c| Arg::T(c.clone())));
                    sql.push(" ORDER BY id").push(FOR_UPDATE);
                    for row in sql.fetch_all(conn).await? {
                        stored.insert(
                            get(&row, "credit_code")?,
                            (get(&row, "id")?, get(&row, "region_code")?, get(&row, "cluster_id")?),
                        );
                    }
                }
                for r in rows {
                    let Some((_, region, cluster)) = r.credit_code.as_ref().and_then(|c| stored.get(c)) else {
                        continue;
                    };
                    let outside_region = region_scope.is_some_and(|p| !region.is_some_and(|code| p.contains_code(code)));
                    let outside_cluster = cluster_scope.is_some_and(|mine| cluster.as_deref() != Some(mine));
                    if outside_region || outside_cluster {
                        problems.push(problem(
                            r.row,
                            "credit_code",
                            ImportProblemKind::CreditCodeOutOfScope,
                            r.credit_code.as_deref().unwrap_or_default(),
                        ));
                    }
                }
                if !problems.is_empty() {
                    problems.sort_by_key(|p| p.row);
                    return Ok(ImportResult::Rejected { problems });
                }

                // New enterprises.
                let mut enterprise_of: Vec<Id> = vec![0; rows.len()];
                let mut facts_of: Vec<(Option<i64>, Option<String>)> = vec![(None, None); rows.len()];
                let mut new_rows: Vec<usize> = Vec::new();
                let mut matched = 0;
                for (i, r) in rows.iter().enumerate() {
                    match r.credit_code.as_ref().and_then(|c| stored.get(c)) {
                        Some((id, region, cluster)) => {
                            enterprise_of[i] = *id;
                            facts_of[i] = (*region, cluster.clone());
                            matched += 1;
                        }
                        None => new_rows.push(i),
                    }
                }
                let ids = reserve_ids(conn, "enterprises", new_rows.len()).await?;
                let mut fresh: HashSet<Id> = HashSet::with_capacity(ids.len());
                for (i, id) in new_rows.iter().zip(&ids) {
                    enterprise_of[*i] = *id;
                    facts_of[*i] = (Some(located[*i].0), located[*i].1.clone());
                    fresh.insert(*id);
                }
                // New enterprises are written batch by batch with their assessments, so that
                // their last completion is known when they are inserted.
                let mut new_left: &[usize] = &new_rows;

                // Assessments and facts, batch by batch.
                let mut counts = ImportCounts {
                    rows: rows.len(),
                    enterprises_created: new_rows.len(),
                    enterprises_matched: matched,
                    ..ImportCounts::default()
                };
                let mut delta = CubeDelta::new();
                let mut touched: Vec<Id> = Vec::new();
                let mut start = 0;
                while start < rows.len() {
                    let end = (start + IMPORT_BATCH).min(rows.len());
                    let produced = source.assessments(start..end);
                    let mut batch: Vec<(usize, NewCompletedAssessment)> = Vec::new();
                    for (offset, outcome) in produced.into_iter().enumerate() {
                        let i = start + offset;
                        if i >= end {
                            break;
                        }
                        match outcome {
                            Ok(Some(a)) => batch.push((i, a)),
                            Ok(None) => {}
                            Err(msg) => problems.push(problem(rows[i].row, "assessment", ImportProblemKind::Assessment, &msg)),
                        }
                    }
                    let split = new_left.partition_point(|i| *i < end);
                    let (new_here, rest) = new_left.split_at(split);
                    new_left = rest;
                    if problems.is_empty() && !new_here.is_empty() {
                        let done_at: HashMap<usize, i64> = batch.iter().map(|(i, a)| (*i, a.completed_at)).collect();
                        for chunk in new_here.chunks(ROW_CHUNK) {
                            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                                "INSERT INTO enterprises (id, name, created_at, region_code, cluster_id, credit_code, \
                                 last_activity_at, last_completed_at) ",
                            );
                            qb.push_values(chunk, |mut b, i| {
                                let r = &rows[*i];
                                let at = done_at.get(i).copied();
                                b.push_bind(enterprise_of[*i])
                                    .push_bind(r.name.trim().to_owned())
                                    .push_bind(now)
                                    .push_bind(located[*i].0)
                                    .push_bind(located[*i].1.clone())
                                    .push_bind(r.credit_code.clone())
                                    .push_bind(at)
                                    .push_bind(at);
                            });
                            qb.build().execute(&mut *conn).await.db()?;
                        }
                    }
                    if problems.is_empty() && !batch.is_empty() {
                        let aids = reserve_ids(conn, "assessments", batch.len()).await?;
                        let mut docs: Vec<(Id, Id, String, String, String, Option<f64>, Option<i64>, i64)> =
                            Vec::with_capacity(batch.len());
                        let mut fact_rows: Vec<FactRow> = Vec::new();
                        for ((i, a), aid) in batch.into_iter().zip(&aids) {
                            let enterprise = enterprise_of[i];
                            if let Some(fact) = a.fact {
                                fact_rows.push(FactRow {
                                    assessment_id: *aid,
                                    enterprise_id: enterprise,
                                    region_code: facts_of[i].0,
                                    cluster_id: facts_of[i].1.clone(),
                                    completed_at: a.completed_at,
                                    fact,
                                });
                            }
                            docs.push((
                                *aid,
                                enterprise,
                                a.profile,
                                a.answers,
                                a.result,
                                a.score.filter(|s| s.is_finite()),
                                a.level,
                                a.completed_at,
                            ));
                            if !fresh.contains(&enterprise) {
                                touched.push(enterprise);
                            }
                        }
                        for chunk in docs.chunks(ROW_CHUNK) {
                            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                                "INSERT INTO assessments (id, enterprise_id, status, step, profile, answers, result, \
                                 score, level, created_at, updated_at, completed_at) ",
                            );
                            qb.push_values(chunk, |mut b, d| {
                                b.push_bind(d.0)
                                    .push_bind(d.1)
                                    .push_bind("complete")
                                    .push_bind(0_i64)
                                    .push_bind(d.2.as_str())
                                    .push_bind(d.3.as_str())
                                    .push_bind(d.4.as_str())
                                    .push_bind(d.5)
                                    .push_bind(d.6)
                                    .push_bind(d.7)
                                    .push_bind(d.7)
                                    .push_bind(d.7);
                            });
                            qb.build().execute(&mut *conn).await.db()?;
                        }
                        counts.assessments += docs.len();
                        counts.facts += fact_rows.len();
                        add_facts(conn, fact_rows, &fresh, &mut delta).await?;
                        flush_if_large(conn, &mut delta).await?;
                    }
                    if let Some(p) = progress {
                        p(end, rows.len());
                    }
                    start = end;
                }
                if !problems.is_empty() {
                    problems.sort_by_key(|p| p.row);
                    return Ok(ImportResult::Rejected { problems });
                }
                apply_delta(conn, &delta).await?;

                // What the campaign pages read, for the enterprises that existed (new ones were
                // written with it).
                touched.sort_unstable();
                touched.dedup();
                for chunk in in_lists(&touched) {
                    let mut sql = Sql::new(
                        "UPDATE enterprises SET \
                         last_completed_at = (SELECT MAX(a.completed_at) FROM assessments a \
                             WHERE a.enterprise_id = enterprises.id AND a.status = 'complete'), \
                         last_activity_at = (SELECT MAX(a.updated_at) FROM assessments a \
                             WHERE a.enterprise_id = enterprises.id) \
                         WHERE id IN ",
                    );
                    sql.bind_list(chunk.iter().map(|id| Arg::I(*id)));
                    sql.execute(conn).await?;
                }
                sync_members(conn, &touched).await?;
                Ok(ImportResult::Imported(counts))
            }

            // ---- progress ---------------------------------------------------------------------

            /// The CTEs of a two-round comparison, ending in `q(enterprise_id, l1, l2, s1, s2)`:
            /// each member of the campaign assessed in both rounds, with the level and the score
            /// in tenths of its latest fact (by completion time, then id) of round 1 and of round
            /// 2; with `w`, only members whose round-2 fact passes its region, cluster, sector,
            /// group and size filters.
            ///
            /// One pass over the campaign's range of `campaign_facts`, grouped by member in key
            /// order, without a sort or a lookup per member: each fact becomes one number whose
            /// order is the facts' order and which carries what is read from it, so the latest of a
            /// round is a plain MAX. From the low bits: 1 bit "passes the filters", 11 bits the
            /// score in tenths (0 to 1000), 3 bits the level, 10 bits `ord` (same-second facts of
            /// one enterprise; 1,023 of them are more than anyone completes) and the completion
            /// time above (|t| < 2^38: any date before the year 10,000).
            fn rounds_sql(campaign: Id, r1: TimeRange, r2: TimeRange, w: Option<&Where>) -> Sql {
                let mut sql = Sql::new(
                    "WITH k AS (SELECT enterprise_id, completed_at, completed_at * 33554432 \
                     + (CASE WHEN ord < 1023 THEN ord ELSE 1023 END) * 32768 \
                     + CAST(level AS BIGINT) * 4096 \
                     + (CASE WHEN score <= 0 THEN 0 WHEN score >= 100 THEN 1000 \
                        ELSE CAST(ROUND(score * 10) AS BIGINT) END) * 2 \
                     + (CASE WHEN 1 = 1",
                );
                if let Some(w) = w {
                    w.row_conditions(&mut sql, "", "");
                }
                sql.push(" THEN 1 ELSE 0 END) AS k FROM campaign_facts WHERE campaign_id = ").bind(Arg::I(campaign));
                sql.push(" AND completed_at >= ").bind(Arg::I(r1.from.min(r2.from)));
                sql.push(" AND completed_at < ").bind(Arg::I(r1.to.max(r2.to)));
                sql.push("), p AS (SELECT enterprise_id");
                for (name, r) in [("ka", r1), ("kb", r2)] {
                    sql.push(", MAX(CASE WHEN completed_at >= ").bind(Arg::I(r.from));
                    sql.push(" AND completed_at < ").bind(Arg::I(r.to));
                    sql.push(&format!(" THEN k END) AS {name}"));
                }
                sql.push(
                    " FROM k GROUP BY enterprise_id), \
                     q AS (SELECT enterprise_id, (ka >> 12) & 7 AS l1, (kb >> 12) & 7 AS l2, \
                     (ka >> 1) & 2047 AS s1, (kb >> 1) & 2047 AS s2 FROM p \
                     WHERE ka IS NOT NULL AND kb IS NOT NULL AND (kb & 1) = 1) ",
                );
                sql
            }

            fn level_of(v: i64) -> u8 {
                u8::try_from(v.clamp(0, 4)).unwrap_or(0)
            }

            fn check_rounds(r1: TimeRange, r2: TimeRange) -> Result<()> {
                if r1.from >= r1.to || r2.from >= r2.to {
                    return invalid("a round's time range is empty (from must be before to)");
                }
                Ok(())
            }

            // ---- members --------------------------------------------------------------------------

            /// The status of a member (`m`), with `$cut` the time before which nothing
            /// counts as recent.
            fn status_sql(sql: &mut Sql, cut: i64) {
                sql.push(
                    "CASE WHEN m.last_completed_at IS NOT NULL AND m.last_completed_at >= m.joined_at THEN 'finished' \
                     WHEN (CASE WHEN m.last_activity_at IS NOT NULL AND m.last_activity_at > m.joined_at \
                     THEN m.last_activity_at ELSE m.joined_at END) < ",
                )
                .bind(Arg::I(cut))
                .push(" THEN 'stuck' ELSE 'joined' END");
            }

            fn cut(now: i64, days: i64) -> i64 {
                now.saturating_sub(days.max(0).saturating_mul(86_400))
            }

            // ---- the store ----------------------------------------------------------------------

            impl $store {
                /// Derives the facts of assessments completed before migration 0003 (run when the
                /// database is opened; nothing to do afterwards).
                pub(crate) async fn backfill_facts(&self) -> Result<()> {
                    loop {
                        let mut tx = self.write().await?;
                        let ids: Vec<Id> = sqlx::query_scalar(
                            "SELECT assessment_id FROM fact_backfill ORDER BY assessment_id LIMIT 500",
                        )
                        .fetch_all(&mut *tx)
                        .await
                        .db()?;
                        if ids.is_empty() {
                            return tx.commit().await.db();
                        }
                        let mut delta = CubeDelta::new();
                        let mut rows: Vec<FactRow> = Vec::new();
                        let mut sql = Sql::new(
                            "SELECT a.id, a.enterprise_id, a.result, a.completed_at, e.region_code, e.cluster_id \
                             FROM assessments a JOIN enterprises e ON e.id = a.enterprise_id \
                             WHERE a.status = 'complete' AND a.id NOT IN (SELECT assessment_id FROM assessment_facts) \
                             AND a.id IN ",
                        );
                        sql.bind_list(ids.iter().map(|id| Arg::I(*id)));
                        for row in sql.fetch_all(&mut tx).await? {
                            let text: Option<String> = get(&row, "result")?;
                            let Some(report) = text.and_then(|t| serde_json::from_str(&t).ok()) else {
                                continue;
                            };
                            let Some(fact) = Fact::from_report(&report) else {
                                continue;
                            };
                            rows.push(FactRow {
                                assessment_id: get(&row, "id")?,
                                enterprise_id: get(&row, "enterprise_id")?,
                                region_code: get(&row, "region_code")?,
                                cluster_id: get(&row, "cluster_id")?,
                                completed_at: get::<Option<i64>>(&row, "completed_at")?.unwrap_or(0),
                                fact,
                            });
                        }
                        add_facts(&mut tx, rows, &HashSet::new(), &mut delta).await?;
                        apply_delta(&mut tx, &delta).await?;
                        let mut del = Sql::new("DELETE FROM fact_backfill WHERE assessment_id IN ");
                        del.bind_list(ids.iter().map(|id| Arg::I(*id)));
                        del.execute(&mut tx).await?;
                        tx.commit().await.db()?;
                    }
                }
            }

            #[async_trait]
            impl Regional for $store {
                async fn regions(&self, parent: Option<&str>) -> Result<Vec<Region>> {
                    let mut sql = Sql::new("SELECT code, name_zh, name_en, parent FROM regions WHERE ");
                    match parent {
                        None => {
                            sql.push("parent IS NULL");
                        }
                        Some(p) => {
                            sql.push("parent = ").bind(Arg::I(region_arg(p)?));
                        }
                    }
                    sql.push(" ORDER BY code");
                    let mut conn = self.pool.acquire().await.db()?;
                    sql.fetch_all(&mut conn).await?.iter().map(region_from_row).collect()
                }

                async fn region(&self, code: &str) -> Result<Option<Region>> {
                    let mut sql = Sql::new("SELECT code, name_zh, name_en, parent FROM regions WHERE code = ");
                    sql.bind(Arg::I(region_arg(code)?));
                    let mut conn = self.pool.acquire().await.db()?;
                    let row = sql.query().fetch_optional(&mut *conn).await.db()?;
                    row.as_ref().map(region_from_row).transpose()
                }

                async fn create_cluster(
                    &self,
                    id: &str,
                    name: &str,
                    region_code: &str,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<Cluster> {
                    let id = cluster_id_arg(id)?;
                    let name = clean_text(name, MAX_NAME_CHARS, "cluster name")?;
                    let region = region_arg(region_code)?;
                    let mut tx = self.write().await?;
                    let row = sqlx::query(
                        "INSERT INTO clusters (id, name, region_code, created_at) VALUES ($1, $2, $3, $4) \
                         RETURNING id, name, region_code, created_at",
                    )
                    .bind(&id)
                    .bind(&name)
                    .bind(region)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match map_err(e) {
                        StoreError::Conflict(_) => StoreError::Conflict("cluster id".into()),
                        other => other,
                    })?;
                    let cluster = cluster_from_row(&row)?;
                    let record = audit.record(crate::AuditAction::ClusterCreated, format!("cluster:{id}"));
                    insert_audit(&mut tx, &record).await?;
                    tx.commit().await.db()?;
                    Ok(cluster)
                }

                async fn clusters(&self, scope: &Scope) -> Result<Vec<Cluster>> {
                    let mut sql = Sql::new("SELECT id, name, region_code, created_at FROM clusters WHERE ");
                    match scope {
                        Scope::All => {
                            sql.push("1 = 1");
                        }
                        Scope::Region(p) => {
                            let (lo, hi) = p.range();
                            sql.push("region_code >= ").bind(Arg::I(lo));
                            sql.push(" AND region_code < ").bind(Arg::I(hi));
                        }
                        Scope::Cluster(id) => {
                            sql.push("id = ").bind(Arg::T(id.clone()));
                        }
                        Scope::Enterprise(e) => {
                            sql.push("id = (SELECT cluster_id FROM enterprises WHERE id = ")
                                .bind(Arg::I(*e))
                                .push(")");
                        }
                    }
                    sql.push(" ORDER BY region_code, id");
                    let mut conn = self.pool.acquire().await.db()?;
                    sql.fetch_all(&mut conn).await?.iter().map(cluster_from_row).collect()
                }

                async fn create_staff_user(
                    &self,
                    new: &NewStaffUser<'_>,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<User> {
                    let (region, cluster) = match new.role {
                        Role::Authority => match new.region_code {
                            Some(code) => (Some(region_arg(code)?), None),
                            None => return invalid("an authority account needs a region"),
                        },
                        Role::Cluster => match new.cluster_id {
                            Some(c) => (None, Some(cluster_id_arg(c)?)),
                            None => return invalid("a cluster account needs a cluster"),
                        },
                        Role::Provider => (None, None),
                        Role::Admin | Role::Enterprise => {
                            return invalid("staff accounts are authority, cluster or provider accounts");
                        }
                    };
                    if (new.role != Role::Authority && new.region_code.is_some())
                        || (new.role != Role::Cluster && new.cluster_id.is_some())
                    {
                        return invalid("only authorities have a region and only cluster users a cluster");
                    }
                    let mut tx = self.write().await?;
                    if let Some(c) = &cluster {
                        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clusters WHERE id = $1")
                            .bind(c)
                            .fetch_one(&mut *tx)
                            .await
                            .db()?;
                        if n == 0 {
                            return invalid(format!("no cluster {c:?}"));
                        }
                    }
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO users (email, password_hash, role, enterprise_id, lang, created_at, region_code, \
                         cluster_id) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7) RETURNING {USER_COLS}"
                    )))
                    .bind(new.email)
                    .bind(new.password_hash)
                    .bind(new.role.as_str())
                    .bind(new.lang)
                    .bind(now)
                    .bind(region)
                    .bind(cluster)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let user = user_from_row(&row)?;
                    let mut record = audit.record(crate::AuditAction::StaffCreated, format!("user:{}", user.id));
                    let role = format!("role={}", new.role.as_str());
                    record.detail = if record.detail.is_empty() { role } else { format!("{} {role}", record.detail) };
                    insert_audit(&mut tx, &record).await?;
                    tx.commit().await.db()?;
                    Ok(user)
                }

                async fn set_enterprise_location(
                    &self,
                    enterprise_id: Id,
                    location: &EnterpriseLocation<'_>,
                ) -> Result<Enterprise> {
                    let region = location.region_code.map(region_arg).transpose()?;
                    let cluster = location.cluster_id.map(cluster_id_arg).transpose()?;
                    let credit = match location.credit_code.map(str::trim) {
                        Some(c) if c.len() == 18 && c.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) => {
                            Some(c.to_owned())
                        }
                        Some(c) => return invalid(format!("{c:?} is not an 18-character unified social credit code")),
                        None => None,
                    };
                    let mut tx = self.write().await?;
                    let (old_region, old_cluster) = lock_enterprise(&mut tx, enterprise_id).await?;
                    if let Some(c) = &cluster {
                        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clusters WHERE id = $1")
                            .bind(c)
                            .fetch_one(&mut *tx)
                            .await
                            .db()?;
                        if n == 0 {
                            return invalid(format!("no cluster {c:?}"));
                        }
                    }
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE enterprises SET region_code = $2, cluster_id = $3, credit_code = $4 WHERE id = $1 \
                         RETURNING {ENTERPRISE_COLS}"
                    )))
                    .bind(enterprise_id)
                    .bind(region)
                    .bind(cluster.clone())
                    .bind(credit)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match map_err(e) {
                        StoreError::Conflict(_) => StoreError::Conflict("credit code".into()),
                        other => other,
                    })?;
                    let enterprise = enterprise_from_row(&row)?;
                    if (old_region, old_cluster) != (region, cluster.clone()) {
                        let latest = latest_facts(&mut tx, &[enterprise_id]).await?;
                        if let Some(old) = latest.get(&enterprise_id) {
                            let members = memberships(&mut tx, &[enterprise_id]).await?;
                            let campaigns = members.get(&enterprise_id).cloned().unwrap_or_default();
                            let mut moved = old.clone();
                            moved.region_code = region;
                            moved.cluster_id = cluster.clone();
                            let mut delta = CubeDelta::new();
                            delta.add(old, &campaigns, -1);
                            delta.add(&moved, &campaigns, 1);
                            sqlx::query("UPDATE assessment_facts SET region_code = $2, cluster_id = $3 WHERE assessment_id = $1")
                                .bind(old.assessment_id)
                                .bind(region)
                                .bind(cluster.clone())
                                .execute(&mut *tx)
                                .await
                                .db()?;
                            sqlx::query(
                                "UPDATE campaign_facts SET region_code = $3, cluster_id = $4 \
                                 WHERE campaign_id IN (SELECT campaign_id FROM campaign_members WHERE enterprise_id = $1) \
                                 AND enterprise_id = $1 AND assessment_id = $2",
                            )
                            .bind(enterprise_id)
                            .bind(old.assessment_id)
                            .bind(region)
                            .bind(cluster)
                            .execute(&mut *tx)
                            .await
                            .db()?;
                            apply_delta(&mut tx, &delta).await?;
                        }
                    }
                    tx.commit().await.db()?;
                    Ok(enterprise)
                }

                async fn visible_enterprises(
                    &self,
                    scope: &Scope,
                    filters: &Filters,
                    search: Option<&str>,
                    page: Page,
                ) -> Result<(Vec<VisibleEnterprise>, i64)> {
                    let (offset, limit) = bounds(page);
                    let from_month = valid_month(filters.from_month)?;
                    let to_month = valid_month(filters.to_month)?;
                    let search: Option<String> =
                        search.map(str::trim).filter(|t| !t.is_empty()).map(|t| t.chars().take(100).collect());
                    let mut tx = self.read().await?;
                    // A campaign's list is read from its members, newest member first; the
                    // campaign being in the scope, its members are all visible.
                    let campaign = match filters.campaign {
                        Some(_) if matches!(scope, Scope::Enterprise(_)) => return Err(StoreError::NotFound),
                        Some(c) => Some(campaign_in(&mut tx, scope, c).await?.id),
                        None => None,
                    };
                    let mut cond = Sql::new(" WHERE ");
                    match (campaign, scope) {
                        (Some(c), _) => {
                            cond.push("m.campaign_id = ").bind(Arg::I(c));
                        }
                        (None, Scope::All) => {
                            cond.push("1 = 1");
                        }
                        (None, Scope::Enterprise(e)) => {
                            cond.push("e.id = ").bind(Arg::I(*e));
                        }
                        (None, Scope::Region(_) | Scope::Cluster(_)) => {
                            cond.push(
                                "e.id IN (SELECT m.enterprise_id FROM campaign_members m \
                                 JOIN campaigns c ON c.id = m.campaign_id WHERE ",
                            );
                            campaign_in_scope(scope, &mut cond);
                            cond.push(")");
                        }
                    }
                    let reads_enterprise = filters.region.is_some() || filters.cluster.is_some() || search.is_some();
                    let reads_fact = filters.sector.is_some()
                        || filters.group.is_some()
                        || filters.size.is_some()
                        || from_month.is_some()
                        || to_month.is_some();
                    let w = Where {
                        campaign: campaign.unwrap_or(0),
                        region: filters.region.clone(),
                        cluster: filters.cluster.clone(),
                        sector: filters.sector.clone(),
                        group: filters.group.clone(),
                        size: filters.size.clone(),
                        from_month,
                        to_month,
                    };
                    w.row_conditions(&mut cond, "e.", "f.");
                    if let Some(text) = &search {
                        // SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE too.
                        let like = if PG { "ILIKE" } else { "LIKE" };
                        cond.push(&format!(" AND (e.name {like} "))
                            .bind(Arg::T(format!("%{}%", like_escape(text))))
                            .push(" ESCAPE '\\' OR e.credit_code = ")
                            .bind(Arg::T(text.to_uppercase()))
                            .push(")");
                    }
                    if let Some(m) = from_month {
                        cond.push(" AND f.completed_at >= ").bind(Arg::I(month_start(m)));
                    }
                    if let Some(m) = to_month {
                        let next = if m % 100 == 12 { (m / 100 + 1) * 100 + 1 } else { m + 1 };
                        cond.push(" AND f.completed_at < ").bind(Arg::I(month_start(next)));
                    }
                    let fact_join = " LEFT JOIN assessment_facts f ON f.enterprise_id = e.id AND f.is_latest = 1";
                    let from = if campaign.is_some() {
                        "campaign_members m JOIN enterprises e ON e.id = m.enterprise_id"
                    } else {
                        "enterprises e"
                    };
                    // The count joins only what its conditions read.
                    let mut count = Sql::new("SELECT COUNT(*) FROM ");
                    match (campaign.is_some(), reads_enterprise || reads_fact) {
                        (true, false) => count.push("campaign_members m"),
                        _ => count.push(from),
                    };
                    if reads_fact {
                        count.push(fact_join);
                    }
                    count.push(&cond.text);
                    count.args = cond.args.clone();
                    // A search reads every enterprise once: the page counts its matches as it
                    // goes (a window) instead of a second pass.
                    let windowed = search.is_some();
                    let mut sql = Sql::new(
                        "SELECT e.id, e.name, e.created_at, e.region_code, e.cluster_id, e.credit_code, \
                         CAST(f.level AS BIGINT) AS level, f.score, f.completed_at, f.sector, f.grp, f.size",
                    );
                    if windowed {
                        sql.push(", COUNT(*) OVER () AS total");
                    }
                    sql.push(" FROM ").push(from).push(fact_join);
                    sql.push(&cond.text);
                    sql.args = cond.args.clone();
                    // Newest first. All enterprises: along the index of creation, stopping at the
                    // page. Fewer (a search, the members of a region's or cluster's campaigns):
                    // sort them, rather than walk the index past every enterprise that is not one.
                    let sort_rows = search.is_some() || !matches!(scope, Scope::All);
                    sql.push(if campaign.is_some() {
                        " ORDER BY m.joined_at DESC, m.enterprise_id DESC"
                    } else if sort_rows {
                        " ORDER BY +e.created_at DESC, e.id DESC"
                    } else {
                        " ORDER BY e.created_at DESC, e.id DESC"
                    });
                    sql.push(" LIMIT ").bind(Arg::I(limit));
                    sql.push(" OFFSET ").bind(Arg::I(offset));
                    let rows = sql.fetch_all(&mut tx).await?;
                    let total: i64 = match (windowed, rows.first()) {
                        (true, Some(r)) => get(r, "total")?,
                        (true, None) if offset == 0 => 0,
                        _ => geti(&count.fetch_one(&mut tx).await?, 0)?,
                    };
                    tx.commit().await.db()?;
                    let mut out = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let level: Option<i64> = get(row, "level")?;
                        out.push(VisibleEnterprise {
                            enterprise: enterprise_from_row(row)?,
                            level: level.map(|l| u8::try_from(l.clamp(0, 4)).unwrap_or(0)),
                            score: get(row, "score")?,
                            completed_at: get(row, "completed_at")?,
                            sector: get(row, "sector")?,
                            group: get(row, "grp")?,
                            size: get(row, "size")?,
                        });
                    }
                    Ok((out, total))
                }

                async fn member_assessments(
                    &self,
                    scope: &Scope,
                    enterprise_id: Id,
                    page: Page,
                ) -> Result<(Vec<Assessment>, i64)> {
                    let (offset, limit) = bounds(page);
                    let mut tx = self.read().await?;
                    if !may_see(&mut tx, scope, enterprise_id).await? {
                        return Err(StoreError::NotFound);
                    }
                    let total: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM assessments WHERE enterprise_id = $1 AND status = 'complete'",
                    )
                    .bind(enterprise_id)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let rows = sqlx::query(
                        "SELECT id, enterprise_id, status, step, profile, answers, result, score, level, created_at, \
                         updated_at, completed_at FROM assessments WHERE enterprise_id = $1 AND status = 'complete' \
                         ORDER BY completed_at DESC, id DESC LIMIT $2 OFFSET $3",
                    )
                    .bind(enterprise_id)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    tx.commit().await.db()?;
                    let items = rows.iter().map(assessment_from_row).collect::<Result<Vec<_>>>()?;
                    Ok((items, total))
                }

                async fn member_assessment(
                    &self,
                    scope: &Scope,
                    enterprise_id: Id,
                    id: Id,
                ) -> Result<Assessment> {
                    let mut tx = self.read().await?;
                    if !may_see(&mut tx, scope, enterprise_id).await? {
                        return Err(StoreError::NotFound);
                    }
                    let row = sqlx::query(
                        "SELECT id, enterprise_id, status, step, profile, answers, result, score, level, created_at, \
                         updated_at, completed_at FROM assessments WHERE id = $1 AND enterprise_id = $2 \
                         AND status = 'complete'",
                    )
                    .bind(id)
                    .bind(enterprise_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .ok_or(StoreError::NotFound)?;
                    tx.commit().await.db()?;
                    assessment_from_row(&row)
                }

                async fn create_campaign(
                    &self,
                    scope: &Scope,
                    created_by: Id,
                    new: &NewCampaign,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<Campaign> {
                    let name = clean_text(&new.name, MAX_NAME_CHARS, "campaign name")?;
                    let (Some(start), Some(end)) = (scope::parse_date(&new.starts_on), scope::parse_date(&new.ends_on)) else {
                        return invalid("campaign dates are YYYY-MM-DD");
                    };
                    if start > end {
                        return invalid("the campaign ends before it starts");
                    }
                    if !(1..=4).contains(&new.target_level) {
                        return invalid("the target level is 1 to 4");
                    }
                    let mut sectors = Vec::new();
                    for s in &new.target_sectors {
                        match facts::clean_item(s) {
                            Some(c) if c == s.trim() => sectors.push(c),
                            _ => return invalid(format!("{s:?} is not a sector id")),
                        }
                    }
                    let wanted = new.region_code.as_deref().map(region_arg).transpose()?;
                    let mut tx = self.write().await?;
                    let (region, cluster) = match scope {
                        Scope::Enterprise(_) => return Err(StoreError::NotFound),
                        Scope::All => match wanted {
                            Some(r) => (r, None),
                            None => return invalid("a campaign needs a region"),
                        },
                        Scope::Region(p) => {
                            let own = p.range().0;
                            let r = wanted.unwrap_or(own);
                            if !p.contains_code(r) {
                                return Err(StoreError::NotFound);
                            }
                            (r, None)
                        }
                        Scope::Cluster(id) => {
                            let r: i64 = sqlx::query_scalar("SELECT region_code FROM clusters WHERE id = $1")
                                .bind(id)
                                .fetch_optional(&mut *tx)
                                .await
                                .db()?
                                .ok_or(StoreError::NotFound)?;
                            (r, Some(id.clone()))
                        }
                    };
                    let mut attempt = 0;
                    let campaign = loop {
                        attempt += 1;
                        let code = new_invite_code()?;
                        let inserted = sqlx::query(
                            "INSERT INTO campaigns (region_code, cluster_id, created_by, name, starts_on, ends_on, \
                             target_sectors, target_level, invite_code, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (invite_code) DO NOTHING \
                             RETURNING id",
                        )
                        .bind(region)
                        .bind(cluster.clone())
                        .bind(created_by)
                        .bind(&name)
                        .bind(scope::date_text(start * 86_400))
                        .bind(scope::date_text(end * 86_400))
                        .bind(facts::join_list(&sectors))
                        .bind(i64::from(new.target_level))
                        .bind(&code)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await
                        .db()?;
                        if let Some(row) = inserted {
                            let id: Id = geti(&row, 0)?;
                            break campaign_in(&mut tx, &Scope::All, id).await?;
                        }
                        if attempt >= 5 {
                            return Err(StoreError::Conflict("invitation code".into()));
                        }
                    };
                    let record = audit.record(crate::AuditAction::CampaignCreated, format!("campaign:{}", campaign.id));
                    insert_audit(&mut tx, &record).await?;
                    tx.commit().await.db()?;
                    Ok(campaign)
                }

                async fn campaigns(&self, scope: &Scope, page: Page) -> Result<(Vec<Campaign>, i64)> {
                    let (offset, limit) = bounds(page);
                    let mut cond = Sql::new(" WHERE ");
                    campaign_in_scope(scope, &mut cond);
                    let mut tx = self.read().await?;
                    let mut count = Sql::new("SELECT COUNT(*) FROM campaigns c");
                    count.push(&cond.text);
                    count.args = cond.args.clone();
                    let total: i64 = geti(&count.fetch_one(&mut tx).await?, 0)?;
                    let mut sql = Sql::new(&format!("SELECT {CAMPAIGN_COLS} FROM campaigns c"));
                    sql.push(&cond.text);
                    sql.args = cond.args;
                    sql.push(" ORDER BY c.created_at DESC, c.id DESC LIMIT ").bind(Arg::I(limit));
                    sql.push(" OFFSET ").bind(Arg::I(offset));
                    let rows = sql.fetch_all(&mut tx).await?;
                    tx.commit().await.db()?;
                    let items = rows.iter().map(campaign_from_row).collect::<Result<Vec<_>>>()?;
                    Ok((items, total))
                }

                async fn campaign(&self, scope: &Scope, id: Id) -> Result<Campaign> {
                    let mut conn = self.pool.acquire().await.db()?;
                    campaign_in(&mut conn, scope, id).await
                }

                async fn campaign_by_invite(&self, invite_code: &str) -> Result<Option<Campaign>> {
                    let code = normalize_invite_code(invite_code);
                    if code.is_empty() || code.len() > 64 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        return Ok(None);
                    }
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {CAMPAIGN_COLS} FROM campaigns c WHERE c.invite_code = $1"
                    )))
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await
                    .db()?;
                    row.as_ref().map(campaign_from_row).transpose()
                }

                async fn join_campaign(
                    &self,
                    enterprise_id: Id,
                    invite_code: &str,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<JoinOutcome> {
                    let campaign = self.campaign_by_invite(invite_code).await?.ok_or(StoreError::NotFound)?;
                    let today = scope::date_text(now);
                    if today > campaign.ends_on {
                        return Err(StoreError::Conflict(format!(
                            "the campaign ended on {}",
                            campaign.ends_on
                        )));
                    }
                    let mut tx = self.write().await?;
                    lock_enterprise(&mut tx, enterprise_id).await?;
                    let added = sqlx::query(
                        "INSERT INTO campaign_members (campaign_id, enterprise_id, joined_at, last_activity_at, \
                         last_completed_at) SELECT $1, id, $3, last_activity_at, last_completed_at \
                         FROM enterprises WHERE id = $2 \
                         ON CONFLICT (campaign_id, enterprise_id) DO NOTHING",
                    )
                    .bind(campaign.id)
                    .bind(enterprise_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
                    if added > 0 {
                        campaign_delta(&mut tx, enterprise_id, campaign.id, 1).await?;
                        copy_campaign_facts(&mut tx, CampaignFacts::Member(campaign.id, enterprise_id)).await?;
                        let mut record =
                            audit.record(crate::AuditAction::CampaignJoined, format!("campaign:{}", campaign.id));
                        let who = format!("enterprise={enterprise_id}");
                        record.detail = if record.detail.is_empty() { who } else { format!("{} {who}", record.detail) };
                        insert_audit(&mut tx, &record).await?;
                    }
                    tx.commit().await.db()?;
                    Ok(JoinOutcome {
                        campaign,
                        newly_joined: added > 0,
                    })
                }

                async fn leave_campaign(
                    &self,
                    enterprise_id: Id,
                    campaign_id: Id,
                    audit: &AuditCtx,
                ) -> Result<()> {
                    let mut tx = self.write().await?;
                    lock_enterprise(&mut tx, enterprise_id).await?;
                    let removed = sqlx::query(
                        "DELETE FROM campaign_members WHERE campaign_id = $1 AND enterprise_id = $2",
                    )
                    .bind(campaign_id)
                    .bind(enterprise_id)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
                    if removed == 0 {
                        return Err(StoreError::NotFound);
                    }
                    campaign_delta(&mut tx, enterprise_id, campaign_id, -1).await?;
                    sqlx::query("DELETE FROM campaign_facts WHERE campaign_id = $1 AND enterprise_id = $2")
                        .bind(campaign_id)
                        .bind(enterprise_id)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    let mut record = audit.record(crate::AuditAction::CampaignLeft, format!("campaign:{campaign_id}"));
                    let who = format!("enterprise={enterprise_id}");
                    record.detail = if record.detail.is_empty() { who } else { format!("{} {who}", record.detail) };
                    insert_audit(&mut tx, &record).await?;
                    tx.commit().await.db()
                }

                async fn campaign_members(
                    &self,
                    scope: &Scope,
                    campaign_id: Id,
                    status: Option<MemberStatus>,
                    stuck_after_days: i64,
                    now: i64,
                    page: Page,
                ) -> Result<(Vec<Member>, i64)> {
                    let (offset, limit) = bounds(page);
                    let mut tx = self.read().await?;
                    campaign_in(&mut tx, scope, campaign_id).await?;
                    let cut = cut(now, stuck_after_days);
                    // Who, by status, from the campaign's rows: the count and the page …
                    let mut cond = Sql::new(" FROM campaign_members m WHERE m.campaign_id = ");
                    cond.bind(Arg::I(campaign_id));
                    if let Some(s) = status {
                        cond.push(" AND ");
                        status_sql(&mut cond, cut);
                        cond.push(" = ").bind(Arg::T(s.as_str().to_owned()));
                    }
                    let mut count = Sql::new("SELECT COUNT(*)");
                    count.push(&cond.text);
                    count.args = cond.args.clone();
                    let total: i64 = geti(&count.fetch_one(&mut tx).await?, 0)?;
                    let mut sql = Sql::new(
                        "SELECT e.id, e.name, e.credit_code, e.region_code, t.joined_at, t.last_activity_at, \
                         t.last_completed_at, t.status FROM (SELECT m.enterprise_id, m.joined_at, \
                         m.last_activity_at, m.last_completed_at, ",
                    );
                    let mut status_expr = Sql::default();
                    status_expr.args = cond.args.clone();
                    status_sql(&mut status_expr, cut);
                    sql.push(&status_expr.text);
                    sql.push(" AS status");
                    sql.push(&cond.text);
                    sql.args = status_expr.args;
                    sql.push(" ORDER BY m.joined_at DESC, m.enterprise_id DESC LIMIT ").bind(Arg::I(limit));
                    sql.push(" OFFSET ").bind(Arg::I(offset));
                    // … with the names of that page only.
                    sql.push(
                        ") t JOIN enterprises e ON e.id = t.enterprise_id \
                         ORDER BY t.joined_at DESC, t.enterprise_id DESC",
                    );
                    let rows = sql.fetch_all(&mut tx).await?;
                    // … then the latest results of that page only.
                    let mut ids: Vec<Id> = Vec::with_capacity(rows.len());
                    for row in &rows {
                        ids.push(get(row, "id")?);
                    }
                    let latest = latest_facts(&mut tx, &ids).await?;
                    tx.commit().await.db()?;
                    let mut out = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let status: String = get(row, "status")?;
                        let id: Id = get(row, "id")?;
                        let fact = latest.get(&id);
                        out.push(Member {
                            enterprise_id: id,
                            name: get(row, "name")?,
                            credit_code: get(row, "credit_code")?,
                            region_code: opt_code(get(row, "region_code")?),
                            joined_at: get(row, "joined_at")?,
                            status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Joined),
                            last_activity_at: get(row, "last_activity_at")?,
                            last_completed_at: get(row, "last_completed_at")?,
                            level: fact.map(|f| f.fact.level),
                            score: fact.map(|f| f.fact.score),
                        });
                    }
                    Ok((out, total))
                }

                async fn member_counts(
                    &self,
                    scope: &Scope,
                    campaign_id: Id,
                    stuck_after_days: i64,
                    now: i64,
                ) -> Result<MemberCounts> {
                    let mut tx = self.read().await?;
                    campaign_in(&mut tx, scope, campaign_id).await?;
                    let mut sql = Sql::new("SELECT s, COUNT(*) AS n FROM (SELECT ");
                    status_sql(&mut sql, cut(now, stuck_after_days));
                    sql.push(
                        " AS s FROM campaign_members m WHERE m.campaign_id = ",
                    )
                    .bind(Arg::I(campaign_id))
                    .push(") x GROUP BY s");
                    let rows = sql.fetch_all(&mut tx).await?;
                    tx.commit().await.db()?;
                    let mut counts = MemberCounts::default();
                    for row in &rows {
                        let s: String = geti(row, 0)?;
                        let n: i64 = geti(row, 1)?;
                        counts.members += n;
                        match MemberStatus::parse(&s) {
                            Some(MemberStatus::Finished) => counts.finished += n,
                            Some(MemberStatus::Stuck) => counts.stuck += n,
                            _ => counts.joined += n,
                        }
                    }
                    Ok(counts)
                }

                async fn send_reminders(
                    &self,
                    scope: &Scope,
                    campaign_id: Id,
                    body: &str,
                    stuck_after_days: i64,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<u64> {
                    let body = clean_text(body, MAX_MESSAGE_CHARS, "message")?;
                    let mut tx = self.write().await?;
                    campaign_in(&mut tx, scope, campaign_id).await?;
                    let mut sql = Sql::new(
                        "INSERT INTO messages (enterprise_id, campaign_id, body, created_at) \
                         SELECT m.enterprise_id, m.campaign_id, ",
                    );
                    sql.bind(Arg::T(body)).push(", ").bind(Arg::I(now));
                    sql.push(" FROM campaign_members m WHERE m.campaign_id = ")
                        .bind(Arg::I(campaign_id))
                        .push(" AND ");
                    status_sql(&mut sql, cut(now, stuck_after_days));
                    sql.push(" = 'stuck'");
                    let sent = sql.execute(&mut tx).await?;
                    let mut record = audit.record(crate::AuditAction::RemindersSent, format!("campaign:{campaign_id}"));
                    let n = format!("count={sent}");
                    record.detail = if record.detail.is_empty() { n } else { format!("{} {n}", record.detail) };
                    insert_audit(&mut tx, &record).await?;
                    tx.commit().await.db()?;
                    Ok(sent)
                }

                async fn who_can_see(&self, enterprise_id: Id) -> Result<Vec<Visibility>> {
                    let mut tx = self.read().await?;
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {CAMPAIGN_COLS}, m.joined_at, r.name_zh, r.name_en FROM campaign_members m \
                         JOIN campaigns c ON c.id = m.campaign_id LEFT JOIN regions r ON r.code = c.region_code \
                         WHERE m.enterprise_id = $1 ORDER BY m.joined_at DESC, c.id DESC"
                    )))
                    .bind(enterprise_id)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    let mut out = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let campaign = campaign_from_row(row)?;
                        let code: i64 = get(row, "region_code")?;
                        let viewers_rows = sqlx::query(
                            "SELECT email, role, region_code, cluster_id FROM users \
                             WHERE (role = 'authority' AND region_code IN ($1, $2, $3)) \
                             OR (role = 'cluster' AND cluster_id = $4) ORDER BY role, email",
                        )
                        .bind(code)
                        .bind(code / 100 * 100)
                        .bind(code / 10_000 * 10_000)
                        .bind(campaign.cluster_id.clone().unwrap_or_default())
                        .fetch_all(&mut *tx)
                        .await
                        .db()?;
                        let mut viewers = Vec::with_capacity(viewers_rows.len());
                        for v in &viewers_rows {
                            let role: String = get(v, "role")?;
                            viewers.push(Viewer {
                                email: get(v, "email")?,
                                role: Role::parse(&role).unwrap_or(Role::Provider),
                                region_code: opt_code(get(v, "region_code")?),
                                cluster_id: get(v, "cluster_id")?,
                            });
                        }
                        out.push(Visibility {
                            campaign,
                            joined_at: get(row, "joined_at")?,
                            region_name_zh: get(row, "name_zh")?,
                            region_name_en: get(row, "name_en")?,
                            viewers,
                        });
                    }
                    tx.commit().await.db()?;
                    Ok(out)
                }

                async fn inbox(&self, enterprise_id: Id, page: Page) -> Result<Inbox> {
                    let (offset, limit) = bounds(page);
                    let mut tx = self.read().await?;
                    let row = sqlx::query(
                        "SELECT COUNT(*) AS total, \
                         CAST(COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS unread \
                         FROM messages WHERE enterprise_id = $1",
                    )
                    .bind(enterprise_id)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let rows = sqlx::query(
                        "SELECT g.id, g.enterprise_id, g.campaign_id, c.name AS campaign_name, g.body, g.created_at, \
                         g.read_at FROM messages g LEFT JOIN campaigns c ON c.id = g.campaign_id \
                         WHERE g.enterprise_id = $1 ORDER BY g.created_at DESC, g.id DESC LIMIT $2 OFFSET $3",
                    )
                    .bind(enterprise_id)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    tx.commit().await.db()?;
                    let mut messages = Vec::with_capacity(rows.len());
                    for r in &rows {
                        messages.push(Message {
                            id: get(r, "id")?,
                            enterprise_id: get(r, "enterprise_id")?,
                            campaign_id: get(r, "campaign_id")?,
                            campaign_name: get(r, "campaign_name")?,
                            body: get(r, "body")?,
                            created_at: get(r, "created_at")?,
                            read_at: get(r, "read_at")?,
                        });
                    }
                    Ok(Inbox {
                        messages,
                        total: get(&row, "total")?,
                        unread: get(&row, "unread")?,
                    })
                }

                async fn mark_read(&self, enterprise_id: Id, message_id: Id, now: i64) -> Result<()> {
                    let mut tx = self.write().await?;
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE id = $1 AND enterprise_id = $2")
                        .bind(message_id)
                        .bind(enterprise_id)
                        .fetch_one(&mut *tx)
                        .await
                        .db()?;
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    sqlx::query("UPDATE messages SET read_at = $3 WHERE id = $1 AND enterprise_id = $2 AND read_at IS NULL")
                        .bind(message_id)
                        .bind(enterprise_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    tx.commit().await.db()
                }

                async fn import_enterprises(
                    &self,
                    scope: &Scope,
                    rows: &[NewEnterpriseRecord],
                    assessments: &mut dyn AssessmentSource,
                    progress: Option<ImportProgress<'_>>,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<ImportResult> {
                    let mut tx = self.write().await?;
                    let result = import_in(&mut tx, scope, rows, assessments, progress, now).await?;
                    if let ImportResult::Imported(c) = &result {
                        let mut record = audit.record(crate::AuditAction::EnterprisesImported, "enterprises".into());
                        let facts = format!(
                            "rows={} created={} matched={} assessments={}",
                            c.rows, c.enterprises_created, c.enterprises_matched, c.assessments
                        );
                        record.detail = if record.detail.is_empty() { facts } else { format!("{} {facts}", record.detail) };
                        insert_audit(&mut tx, &record).await?;
                        tx.commit().await.db()?;
                    }
                    // A rejected import is rolled back when the transaction is dropped.
                    Ok(result)
                }

                async fn participation(&self, scope: &Scope, filters: &Filters, k: i64) -> Result<agg::Participation> {
                    let mut tx = self.read().await?;
                    let Some(w) = resolve(&mut tx, scope, filters).await? else {
                        return Ok(agg::Participation {
                            enterprises: Some(agg::Cell::Shown(0)),
                            assessed: agg::Cell::Shown(0),
                            in_progress: Some(agg::Cell::Shown(0)),
                            not_started: Some(agg::Cell::Shown(0)),
                            completions_by_month: Vec::new(),
                        });
                    };
                    let months = cube_sums(&mut tx, &w, &["CAST(month AS TEXT)"], &[C_N]).await?;
                    let mut months: Vec<(String, i64)> = months
                        .into_iter()
                        .filter_map(|(k, v)| Some((k.into_iter().next()?, v.first().copied()?)))
                        .filter(|(_, n)| *n > 0)
                        .collect();
                    months.sort();
                    let assessed_facts: i64 = months.iter().map(|(_, n)| n).sum();
                    let (month_cells, _) = agg::suppress_row(&months.iter().map(|(_, n)| *n).collect::<Vec<_>>(), k);
                    let completions_by_month = months
                        .iter()
                        .zip(month_cells)
                        .map(|((m, _), count)| agg::MonthCount {
                            month: if m.len() == 6 { format!("{}-{}", &m[..4], &m[4..]) } else { m.clone() },
                            count,
                        })
                        .collect();
                    if w.filters_assessments() {
                        tx.commit().await.db()?;
                        return Ok(agg::Participation {
                            enterprises: None,
                            assessed: agg::suppress_count(assessed_facts, k),
                            in_progress: None,
                            not_started: None,
                            completions_by_month,
                        });
                    }
                    // A campaign's members carry what is counted: its rows only, unless a
                    // region or cluster filter needs the enterprises.
                    let members_only = w.campaign != 0 && w.region.is_none() && w.cluster.is_none();
                    let t = if members_only { "m" } else { "e" };
                    let mut sql = Sql::new(&format!(
                        "SELECT COUNT(*) AS total, COUNT({t}.last_completed_at) AS assessed, \
                         CAST(COALESCE(SUM(CASE WHEN {t}.last_completed_at IS NULL AND {t}.last_activity_at IS NOT NULL \
                         THEN 1 ELSE 0 END), 0) AS BIGINT) AS in_progress FROM "
                    ));
                    if members_only {
                        sql.push("campaign_members m WHERE m.campaign_id = ").bind(Arg::I(w.campaign));
                    } else {
                        sql.push("enterprises e");
                        if w.campaign != 0 {
                            sql.push(" JOIN campaign_members m ON m.enterprise_id = e.id AND m.campaign_id = ")
                                .bind(Arg::I(w.campaign));
                        }
                        sql.push(" WHERE 1 = 1");
                        // No assessment filter here (returned above): location only.
                        w.row_conditions(&mut sql, "e.", "f.");
                    }
                    let row = sql.fetch_one(&mut tx).await?;
                    tx.commit().await.db()?;
                    let total: i64 = get(&row, "total")?;
                    let assessed: i64 = get(&row, "assessed")?;
                    let in_progress: i64 = get(&row, "in_progress")?;
                    let not_started = (total - assessed - in_progress).max(0);
                    let (cells, total_cell) = agg::suppress_row(&[assessed, in_progress, not_started], k);
                    Ok(agg::Participation {
                        enterprises: Some(total_cell),
                        assessed: cells[0],
                        in_progress: Some(cells[1]),
                        not_started: Some(cells[2]),
                        completions_by_month,
                    })
                }

                async fn level_distribution(&self, scope: &Scope, filters: &Filters, k: i64) -> Result<agg::LevelDistribution> {
                    let mut tx = self.read().await?;
                    let w = resolve(&mut tx, scope, filters).await?;
                    let mut counters = vec![C_N, C_SCORE];
                    counters.extend(C_LEVEL..C_LEVEL + LEVELS);
                    let rows = match &w {
                        Some(w) => cube_sums(&mut tx, w, &["sector", "grp", "size"], &counters).await?,
                        None => Vec::new(),
                    };
                    tx.commit().await.db()?;
                    let raw = rows
                        .into_iter()
                        .map(|(keys, v)| SectorSizeRaw {
                            sector: keys.first().cloned().unwrap_or_default(),
                            group: keys.get(1).cloned().unwrap_or_default(),
                            size: keys.get(2).cloned().unwrap_or_default(),
                            n: v[0],
                            score_milli: v[1],
                            levels: levels_of(&v[2..]),
                        })
                        .collect();
                    Ok(agg::level_distribution(raw, k))
                }

                async fn score_histogram(&self, scope: &Scope, filters: &Filters, k: i64) -> Result<agg::ScoreHistogram> {
                    let mut tx = self.read().await?;
                    let w = resolve(&mut tx, scope, filters).await?.unwrap_or_else(empty_where);
                    let mut counters = vec![C_N, C_SCORE];
                    counters.extend(C_BIN..C_BIN + 10);
                    let rows = cube_sums(&mut tx, &w, &[], &counters).await?;
                    tx.commit().await.db()?;
                    let v = rows.into_iter().next().map(|(_, v)| v).unwrap_or_else(|| vec![0; 12]);
                    Ok(agg::score_histogram(v[0], v[1], &v[2..], k))
                }

                async fn scenario_distribution(&self, scope: &Scope, filters: &Filters, k: i64) -> Result<agg::ScenarioDistribution> {
                    let mut tx = self.read().await?;
                    let w = resolve(&mut tx, scope, filters).await?.unwrap_or_else(empty_where);
                    let counters: Vec<usize> = (0..NCOUNTERS).filter(|c| *c == C_N || *c >= facts::C_SCENARIO).collect();
                    let rows = cube_sums(&mut tx, &w, &[], &counters).await?;
                    tx.commit().await.db()?;
                    let v = rows.into_iter().next().map(|(_, v)| v).unwrap_or_else(|| vec![0; counters.len()]);
                    let mut rated = [[0i64; 4]; 16];
                    for (i, slot) in rated.iter_mut().enumerate() {
                        for (l, cell) in slot.iter_mut().enumerate() {
                            *cell = v.get(1 + i * 4 + l).copied().unwrap_or(0);
                        }
                    }
                    Ok(agg::scenario_distribution(v.first().copied().unwrap_or(0), &rated, k))
                }

                async fn top_items(
                    &self,
                    scope: &Scope,
                    filters: &Filters,
                    kind: ItemKind,
                    limit: usize,
                    k: i64,
                ) -> Result<agg::ItemCounts> {
                    let mut tx = self.read().await?;
                    let w = resolve(&mut tx, scope, filters).await?.unwrap_or_else(empty_where);
                    let n = total(&mut tx, &w).await?;
                    let items = item_sums(&mut tx, &w, kind, false).await?;
                    tx.commit().await.db()?;
                    let items = items.into_iter().map(|(_, item, n)| (item, n)).collect();
                    Ok(agg::item_counts(kind, n, items, k, limit))
                }

                async fn obstacles_by_size(&self, scope: &Scope, filters: &Filters, k: i64) -> Result<agg::ObstaclesBySize> {
                    let mut tx = self.read().await?;
                    let w = resolve(&mut tx, scope, filters).await?.unwrap_or_else(empty_where);
                    let sizes = cube_sums(&mut tx, &w, &["size"], &[C_N]).await?;
                    let items = item_sums(&mut tx, &w, ItemKind::Obstacle, true).await?;
                    tx.commit().await.db()?;
                    let sizes = sizes
                        .into_iter()
                        .filter_map(|(k, v)| Some((k.into_iter().next()?, v.first().copied()?)))
                        .collect();
                    Ok(agg::obstacles_by_size(sizes, items, k))
                }

                async fn target_tracker(
                    &self,
                    scope: &Scope,
                    filters: &Filters,
                    target_level: Option<u8>,
                    k: i64,
                ) -> Result<agg::TargetTracker> {
                    let mut tx = self.read().await?;
                    let target = match (target_level, filters.campaign) {
                        (Some(t), _) if (1..=4).contains(&t) => t,
                        (Some(t), _) => return invalid(format!("{t} is not a level (1 to 4)")),
                        (None, Some(c)) => campaign_in(&mut tx, scope, c).await?.target_level,
                        (None, None) => return invalid("a target level or a campaign is needed"),
                    };
                    let w = resolve(&mut tx, scope, filters).await?.unwrap_or_else(empty_where);
                    let mut counters: Vec<usize> = (C_LEVEL..C_LEVEL + LEVELS).collect();
                    counters.extend(C_AWAY..C_AWAY + 4);
                    let rows = cube_sums(&mut tx, &w, &[], &counters).await?;
                    tx.commit().await.db()?;
                    let v = rows.into_iter().next().map(|(_, v)| v).unwrap_or_else(|| vec![0; 9]);
                    let levels = levels_of(&v[..LEVELS]);
                    let mut away = [0i64; 4];
                    for (slot, x) in away.iter_mut().zip(&v[LEVELS..]) {
                        *slot = *x;
                    }
                    Ok(agg::target_tracker(target, &levels, &away, k))
                }

                async fn progress(
                    &self,
                    scope: &Scope,
                    campaign_id: Id,
                    round1: TimeRange,
                    round2: TimeRange,
                    filters: &Filters,
                    k: i64,
                ) -> Result<agg::Progress> {
                    check_rounds(round1, round2)?;
                    let mut tx = self.read().await?;
                    let f = Filters { campaign: Some(campaign_id), from_month: None, to_month: None, ..filters.clone() };
                    let Some(w) = resolve(&mut tx, scope, &f).await? else {
                        return Ok(agg::progress(campaign_id, round1, round2, &[], k));
                    };
                    let mut sql = rounds_sql(campaign_id, round1, round2, Some(&w));
                    sql.push("SELECT l1, l2, s2 - s1 AS d, COUNT(*) AS n FROM q GROUP BY l1, l2, s2 - s1");
                    let rows = sql.fetch_all(&mut tx).await?;
                    tx.commit().await.db()?;
                    let mut raw = Vec::with_capacity(rows.len());
                    for r in &rows {
                        raw.push((
                            level_of(get(r, "l1")?),
                            level_of(get(r, "l2")?),
                            get::<i64>(r, "d")?,
                            get::<i64>(r, "n")?,
                        ));
                    }
                    Ok(agg::progress(campaign_id, round1, round2, &raw, k))
                }

                async fn progress_members(
                    &self,
                    scope: &Scope,
                    campaign_id: Id,
                    round1: TimeRange,
                    round2: TimeRange,
                    page: Page,
                ) -> Result<(Vec<agg::ProgressMember>, i64)> {
                    check_rounds(round1, round2)?;
                    let (offset, limit) = bounds(page);
                    let mut tx = self.read().await?;
                    campaign_in(&mut tx, scope, campaign_id).await?;
                    // The page is cut before the names are joined; the window counts them all.
                    let mut sql = rounds_sql(campaign_id, round1, round2, None);
                    sql.push(
                        "SELECT t.enterprise_id, e.name, t.l1, t.l2, t.s1, t.s2, t.total FROM \
                         (SELECT enterprise_id, l1, l2, s1, s2, COUNT(*) OVER () AS total FROM q \
                         ORDER BY l2 - l1 DESC, s2 - s1 DESC, enterprise_id LIMIT ",
                    )
                    .bind(Arg::I(limit))
                    .push(" OFFSET ")
                    .bind(Arg::I(offset));
                    sql.push(
                        ") t JOIN enterprises e ON e.id = t.enterprise_id \
                         ORDER BY t.l2 - t.l1 DESC, t.s2 - t.s1 DESC, t.enterprise_id",
                    );
                    let rows = sql.fetch_all(&mut tx).await?;
                    let total = match rows.first() {
                        Some(r) => get::<i64>(r, "total")?,
                        None if offset == 0 => 0,
                        None => {
                            let mut count = rounds_sql(campaign_id, round1, round2, None);
                            count.push("SELECT COUNT(*) FROM q");
                            geti(&count.fetch_one(&mut tx).await?, 0)?
                        }
                    };
                    tx.commit().await.db()?;
                    let mut out = Vec::with_capacity(rows.len());
                    for r in &rows {
                        out.push(agg::ProgressMember {
                            enterprise_id: get(r, "enterprise_id")?,
                            name: get(r, "name")?,
                            level_before: level_of(get(r, "l1")?),
                            level_after: level_of(get(r, "l2")?),
                            score_before: get::<i64>(r, "s1")? as f64 / 10.0,
                            score_after: get::<i64>(r, "s2")? as f64 / 10.0,
                        });
                    }
                    Ok((out, total))
                }

                async fn rebuild_rollups(&self) -> Result<RollupStats> {
                    let mut tx = self.write().await?;
                    sqlx::query("DELETE FROM fact_cube").execute(&mut *tx).await.db()?;
                    sqlx::query("DELETE FROM fact_cube_items").execute(&mut *tx).await.db()?;
                    sqlx::query("DELETE FROM fact_item_totals").execute(&mut *tx).await.db()?;
                    sqlx::query(SYNC_MEMBERS).execute(&mut *tx).await.db()?;
                    sqlx::query("DELETE FROM campaign_facts").execute(&mut *tx).await.db()?;
                    copy_campaign_facts(&mut tx, CampaignFacts::All).await?;
                    let mut members: HashMap<Id, Vec<Id>> = HashMap::new();
                    for row in sqlx::query("SELECT enterprise_id, campaign_id FROM campaign_members")
                        .fetch_all(&mut *tx)
                        .await
                        .db()?
                    {
                        members.entry(get(&row, "enterprise_id")?).or_default().push(get(&row, "campaign_id")?);
                    }
                    let none: Vec<Id> = Vec::new();
                    let mut delta = CubeDelta::new();
                    let mut after: Id = Id::MIN;
                    let mut facts_counted = 0;
                    loop {
                        let rows = sqlx::query(AssertSqlSafe(format!(
                            "SELECT {FACT_COLS} FROM assessment_facts WHERE is_latest = 1 AND assessment_id > $1 \
                             ORDER BY assessment_id LIMIT 20000"
                        )))
                        .bind(after)
                        .fetch_all(&mut *tx)
                        .await
                        .db()?;
                        let Some(last) = rows.last() else { break };
                        after = get(last, "assessment_id")?;
                        for row in &rows {
                            let f = fact_from_row(row)?;
                            delta.add(&f, members.get(&f.enterprise_id).unwrap_or(&none), 1);
                            facts_counted += 1;
                        }
                        flush_if_large(&mut tx, &mut delta).await?;
                    }
                    apply_delta(&mut tx, &delta).await?;
                    let cube_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fact_cube").fetch_one(&mut *tx).await.db()?;
                    let item_rows: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM fact_cube_items").fetch_one(&mut *tx).await.db()?;
                    tx.commit().await.db()?;
                    Ok(RollupStats {
                        facts: facts_counted,
                        cube_rows,
                        item_rows,
                    })
                }
            }

            fn region_from_row(row: &DbRow) -> Result<Region> {
                let parent: Option<i64> = get(row, "parent")?;
                Ok(Region {
                    code: region_code_text(get(row, "code")?),
                    name_zh: get(row, "name_zh")?,
                    name_en: get(row, "name_en")?,
                    parent: opt_code(parent),
                })
            }

            fn cluster_from_row(row: &DbRow) -> Result<Cluster> {
                Ok(Cluster {
                    id: get(row, "id")?,
                    name: get(row, "name")?,
                    region_code: region_code_text(get(row, "region_code")?),
                    created_at: get(row, "created_at")?,
                })
            }
        }
    };
}

pub(crate) use impl_regional;
