//! Solution providers (migration 0006): provider accounts and their approval, products, leads
//! and project outcomes, and the supply–demand figures of a region.
//!
//! Consent is structural: a lead row is the only link between an enterprise and a provider, it
//! is written only by the enterprise, and it carries a copy of exactly what the enterprise chose
//! to share. Provider-side methods take the provider's user id and read only leads addressed to
//! it; nothing else about enterprises is reachable from a provider. Lead requests, status changes,
//! outcomes and approvals are written with their audit entry in one transaction.
//!
//! The implementation is shared by both backends through [`impl_providers!`] (invoked once in
//! `sqlite.rs` and once in `postgres.rs`), like the regional workspace.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use smedx_core::providers::{Demand, OutcomeStats, ProductSpec, Supply};

use crate::{AuditCtx, Id, Page, Result, Scope, User};

/// Where a provider account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderStatus {
    /// Registered, waiting for an administrator or the authority of its home region.
    Pending,
    Approved,
    Rejected,
}

impl ProviderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderStatus::Pending => "pending",
            ProviderStatus::Approved => "approved",
            ProviderStatus::Rejected => "rejected",
        }
    }
    pub fn parse(s: &str) -> Option<ProviderStatus> {
        [
            ProviderStatus::Pending,
            ProviderStatus::Approved,
            ProviderStatus::Rejected,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What a provider states about itself (checked by the store: lengths, region codes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderInput {
    pub name: String,
    /// Six-digit GB/T 2260 code where it is registered.
    pub home_region: String,
    /// Six-digit codes served; empty = nationwide.
    pub regions: Vec<String>,
    pub contact: String,
    pub certifications: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderProfile {
    pub user_id: Id,
    pub email: String,
    pub status: ProviderStatus,
    pub name: String,
    pub home_region: String,
    pub regions: Vec<String>,
    pub contact: String,
    pub certifications: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub id: Id,
    pub provider_id: Id,
    pub spec: ProductSpec,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A product of an approved provider, as enterprises see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CatalogueEntry {
    pub product: Product,
    pub provider_name: String,
    pub provider_regions: Vec<String>,
    pub outcomes: OutcomeStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeadStatus {
    New,
    Contacted,
    Proposal,
    Won,
    Lost,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 5] = [
        LeadStatus::New,
        LeadStatus::Contacted,
        LeadStatus::Proposal,
        LeadStatus::Won,
        LeadStatus::Lost,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Proposal => "proposal",
            LeadStatus::Won => "won",
            LeadStatus::Lost => "lost",
        }
    }
    pub fn parse(s: &str) -> Option<LeadStatus> {
        LeadStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the enterprise chose to share with the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub profile: bool,
    pub level: bool,
    pub recommendations: bool,
}

/// An enterprise's request to be contacted about a product.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLead {
    pub product_id: Id,
    /// The assessment whose result the request came from (its figures are copied into
    /// `shared` by the caller, according to `share`).
    pub assessment_id: Option<Id>,
    pub scenario: String,
    pub share: Share,
    /// A JSON object holding only the shared parts.
    pub shared: serde_json::Value,
    /// How the provider may reach the enterprise (always shared: it is the point of the request).
    pub contact: String,
    pub message: String,
}

/// One KPI measured before and after a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    pub name: String,
    pub before: f64,
    pub after: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub went_live: bool,
    pub kpis: Vec<Kpi>,
    pub note: String,
    pub recorded_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    pub id: Id,
    pub product_id: Id,
    pub product_name: String,
    pub provider_id: Id,
    pub provider_name: String,
    pub scenario: String,
    pub share: Share,
    pub shared: serde_json::Value,
    pub contact: String,
    pub message: String,
    pub status: LeadStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub outcome: Option<Outcome>,
}

/// Leads and outcomes of one provider with the enterprises of a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderStat {
    pub provider_id: Id,
    pub name: String,
    pub products: i64,
    pub leads: i64,
    pub won: i64,
    pub lost: i64,
    pub outcomes: i64,
    pub went_live: i64,
}

/// Longest provider name, contact or certification text, in characters.
pub const MAX_PROVIDER_TEXT: usize = 500;
/// Most regions a provider may list.
pub const MAX_REGIONS: usize = 50;
/// Most KPIs in one outcome.
pub const MAX_KPIS: usize = 10;

#[async_trait]
pub trait Providers: Send + Sync {
    // ---- provider accounts ---------------------------------------------------------------------
    /// A provider user and its pending profile (+ `signup`, role=provider). Err(Conflict) for a
    /// taken e-mail address, Err(Invalid) for a bad profile.
    async fn create_provider_account(
        &self,
        email: &str,
        password_hash: &str,
        lang: Option<&str>,
        input: &ProviderInput,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<User>;
    /// The profile of a provider user (None for any other user).
    async fn provider_profile(&self, user_id: Id) -> Result<Option<ProviderProfile>>;
    /// A pending profile for a provider account created without one (by an administrator on
    /// the staff page). Err(NotFound) unless the user is a provider; Err(Conflict) when it has
    /// a profile already.
    async fn create_provider_profile(
        &self,
        user_id: Id,
        input: &ProviderInput,
        now: i64,
    ) -> Result<ProviderProfile>;
    async fn update_provider_profile(
        &self,
        user_id: Id,
        input: &ProviderInput,
        now: i64,
    ) -> Result<ProviderProfile>;
    /// Providers an administrator (`All`) or an authority (registered in its region) decides
    /// on, pending first, then newest; with the total. Nothing for other scopes.
    async fn providers_in(&self, scope: &Scope, page: Page) -> Result<(Vec<ProviderProfile>, i64)>;
    /// Approves or rejects (+ `provider_approved` / `provider_rejected`). Err(NotFound) outside
    /// the scope.
    async fn decide_provider(
        &self,
        scope: &Scope,
        user_id: Id,
        approve: bool,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<ProviderProfile>;

    // ---- products (a provider's own) --------------------------------------------------------------
    async fn products_of(&self, provider_id: Id) -> Result<Vec<Product>>;
    /// Err(NotFound) for another provider's or a deleted product.
    async fn product_of(&self, provider_id: Id, id: Id) -> Result<Product>;
    /// Err(Invalid) unless the provider is approved.
    async fn create_product(
        &self,
        provider_id: Id,
        spec: &ProductSpec,
        now: i64,
    ) -> Result<Product>;
    async fn update_product(
        &self,
        provider_id: Id,
        id: Id,
        spec: &ProductSpec,
        now: i64,
    ) -> Result<Product>;
    async fn delete_product(&self, provider_id: Id, id: Id, now: i64) -> Result<()>;

    // ---- what enterprises see ------------------------------------------------------------------
    /// Live products of approved providers delivering any of `scenarios`, with outcome figures.
    async fn catalogue(&self, scenarios: &[String]) -> Result<Vec<CatalogueEntry>>;
    /// One live product of an approved provider.
    async fn catalogue_entry(&self, product_id: Id) -> Result<Option<CatalogueEntry>>;
    /// The budget (yuan) an enterprise stated for matching.
    async fn matching_budget(&self, enterprise_id: Id) -> Result<Option<f64>>;
    /// Sets (or, with None, clears) it.
    async fn set_matching_budget(
        &self,
        enterprise_id: Id,
        budget: Option<f64>,
        now: i64,
    ) -> Result<()>;

    // ---- leads -------------------------------------------------------------------------------
    /// The enterprise asks to be contacted (+ `lead_requested`: its consent). Err(NotFound) for
    /// a product that is not live, Err(Conflict) when it already asked about this product.
    async fn create_lead(
        &self,
        enterprise_id: Id,
        user_id: Id,
        new: &NewLead,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<Lead>;
    async fn enterprise_leads(&self, enterprise_id: Id, page: Page) -> Result<(Vec<Lead>, i64)>;
    async fn enterprise_lead(&self, enterprise_id: Id, id: Id) -> Result<Lead>;
    async fn provider_leads(&self, provider_id: Id, page: Page) -> Result<(Vec<Lead>, i64)>;
    /// Err(NotFound) for a lead addressed to another provider.
    async fn provider_lead(&self, provider_id: Id, id: Id) -> Result<Lead>;
    /// The provider moves its lead (+ `lead_status_changed`).
    async fn set_lead_status(
        &self,
        provider_id: Id,
        id: Id,
        status: LeadStatus,
        now: i64,
        audit: &AuditCtx,
    ) -> Result<Lead>;
    /// The enterprise records (or corrects) the outcome of its lead's project
    /// (+ `outcome_recorded`). Err(Invalid) for too many KPIs or non-finite figures.
    async fn record_outcome(
        &self,
        enterprise_id: Id,
        lead_id: Id,
        outcome: &Outcome,
        audit: &AuditCtx,
    ) -> Result<Lead>;

    // ---- the authority's view ---------------------------------------------------------------
    /// Demand (the latest assessment of each enterprise located in the scope: sub-sector, size,
    /// scenarios recommended in stages 1–2) and supply (live products of approved providers
    /// serving the scope). Empty for scopes other than `All` and `Region`.
    async fn supply_demand(&self, scope: &Scope) -> Result<(Vec<Demand>, Vec<Supply>)>;
    /// Per approved provider serving the scope: its products, and leads and outcomes with
    /// enterprises located in the scope.
    async fn provider_stats(&self, scope: &Scope) -> Result<Vec<ProviderStat>>;
}

/// Implements [`Providers`] for a backend. Invoked inside the backend's module, where the
/// `DbResult` trait (`.db()`), `user_from_row`, `insert_audit` and the store's `write()` /
/// `read()` exist.
macro_rules! impl_providers {
    (store: $store:ty, db: $db:ty, conn: $conn:ty, row: $row:ty) => {
        /// The shared implementation of the providers workspace (see `crate::providers`).
        pub(crate) mod providers_impl {
            use async_trait::async_trait;
            use smedx_core::kb::SizeClass;
            use smedx_core::providers::{
                Demand, Deployment, OutcomeStats, PriceModel, ProductSpec, Supply, region_covers,
            };
            use sqlx::{AssertSqlSafe, Row};

            use super::*;
            use crate::providers::*;
            use crate::regional::USER_COLS;
            use crate::scope::{Scope, parse_region_code, region_code_text};
            use crate::{AuditAction, Id, Page, Result, StoreError};

            type Conn = $conn;
            type DbRow = $row;

            fn get<'r, T>(row: &'r DbRow, col: &str) -> Result<T>
            where
                T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
            {
                row.try_get::<T, _>(col).db()
            }

            fn invalid<T>(msg: impl Into<String>) -> Result<T> {
                Err(StoreError::Invalid(msg.into()))
            }

            fn clean(text: &str, max: usize, what: &str, required: bool) -> Result<String> {
                let t = text.trim();
                if required && t.is_empty() {
                    return invalid(format!("the {what} is empty"));
                }
                if t.chars().count() > max {
                    return invalid(format!("the {what} is longer than {max} characters"));
                }
                if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                    return invalid(format!("the {what} contains control characters"));
                }
                Ok(t.to_owned())
            }

            fn region(code: &str) -> Result<i64> {
                parse_region_code(code).ok_or_else(|| {
                    StoreError::Invalid(format!("{code:?} is not a six-digit GB/T 2260 region code"))
                })
            }

            fn split(list: &str) -> Vec<String> {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }

            fn flag(b: bool) -> i64 {
                i64::from(b)
            }

            fn bounds(page: Page) -> (i64, i64) {
                (page.offset.max(0), page.limit.clamp(0, 500))
            }

            struct Checked {
                name: String,
                home: i64,
                regions: String,
                contact: String,
                certifications: String,
            }

            fn check_input(input: &ProviderInput) -> Result<Checked> {
                let name = clean(&input.name, MAX_PROVIDER_TEXT, "provider name", true)?;
                let contact = clean(&input.contact, MAX_PROVIDER_TEXT, "contact", true)?;
                let certifications =
                    clean(&input.certifications, MAX_PROVIDER_TEXT, "certifications", false)?;
                let home = region(&input.home_region)?;
                if input.regions.len() > MAX_REGIONS {
                    return invalid(format!("at most {MAX_REGIONS} regions"));
                }
                let mut regions = Vec::new();
                for r in &input.regions {
                    let code = region_code_text(region(r)?);
                    if !regions.contains(&code) {
                        regions.push(code);
                    }
                }
                Ok(Checked {
                    name,
                    home,
                    regions: regions.join(","),
                    contact,
                    certifications,
                })
            }

            const PROFILE_COLS: &str = "p.user_id, u.email, p.status, p.name, p.home_region, p.regions, \
                 p.contact, p.certifications, p.created_at, p.updated_at, p.decided_at";

            fn profile_from_row(row: &DbRow) -> Result<ProviderProfile> {
                let status: String = get(row, "status")?;
                let regions: String = get(row, "regions")?;
                Ok(ProviderProfile {
                    user_id: get(row, "user_id")?,
                    email: get(row, "email")?,
                    status: ProviderStatus::parse(&status).ok_or_else(|| {
                        StoreError::Database(format!("unknown provider status {status:?}"))
                    })?,
                    name: get(row, "name")?,
                    home_region: region_code_text(get(row, "home_region")?),
                    regions: split(&regions),
                    contact: get(row, "contact")?,
                    certifications: get(row, "certifications")?,
                    created_at: get(row, "created_at")?,
                    updated_at: get(row, "updated_at")?,
                    decided_at: get(row, "decided_at")?,
                })
            }

            async fn profile_in(conn: &mut Conn, user_id: Id) -> Result<Option<ProviderProfile>> {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {PROFILE_COLS} FROM provider_profiles p JOIN users u ON u.id = p.user_id \
                     WHERE p.user_id = $1"
                )))
                .bind(user_id)
                .fetch_optional(&mut *conn)
                .await
                .db()?;
                row.as_ref().map(profile_from_row).transpose()
            }

            const PRODUCT_COLS: &str = "pr.id, pr.provider_id, pr.name, pr.description_zh, \
                 pr.description_en, pr.scenarios, pr.sectors, pr.sizes, pr.deployment, pr.price_model, \
                 pr.price_min, pr.price_max, pr.golive_weeks, pr.reference_customers, pr.levels, \
                 pr.created_at, pr.updated_at";

            fn product_from_row(row: &DbRow) -> Result<Product> {
                let bad = |what: &str, v: &str| StoreError::Database(format!("unknown {what} {v:?}"));
                let deployment: String = get(row, "deployment")?;
                let price_model: String = get(row, "price_model")?;
                let sizes: String = get(row, "sizes")?;
                let levels: String = get(row, "levels")?;
                let weeks: i64 = get(row, "golive_weeks")?;
                Ok(Product {
                    id: get(row, "id")?,
                    provider_id: get(row, "provider_id")?,
                    spec: ProductSpec {
                        name: get(row, "name")?,
                        description_zh: get(row, "description_zh")?,
                        description_en: get(row, "description_en")?,
                        scenarios: split(&get::<String>(row, "scenarios")?),
                        sectors: split(&get::<String>(row, "sectors")?),
                        sizes: split(&sizes)
                            .iter()
                            .filter_map(|s| SizeClass::ALL.into_iter().find(|c| c.id() == s))
                            .collect(),
                        deployment: Deployment::parse(&deployment)
                            .ok_or_else(|| bad("deployment", &deployment))?,
                        price_model: PriceModel::parse(&price_model)
                            .ok_or_else(|| bad("price model", &price_model))?,
                        price_min: get(row, "price_min")?,
                        price_max: get(row, "price_max")?,
                        golive_weeks: u32::try_from(weeks).unwrap_or(1),
                        references: get(row, "reference_customers")?,
                        levels: split(&levels).iter().filter_map(|l| l.parse().ok()).collect(),
                    },
                    created_at: get(row, "created_at")?,
                    updated_at: get(row, "updated_at")?,
                })
            }

            async fn product_in(conn: &mut Conn, provider_id: Id, id: Id) -> Result<Product> {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {PRODUCT_COLS} FROM products pr WHERE pr.id = $1 AND pr.provider_id = $2 \
                     AND pr.deleted_at IS NULL"
                )))
                .bind(id)
                .bind(provider_id)
                .fetch_optional(&mut *conn)
                .await
                .db()?
                .ok_or(StoreError::NotFound)?;
                product_from_row(&row)
            }

            /// The product columns as stored (lists joined with commas). The spec comes from
            /// `smedx_core::providers::validate_product`; the database checks the rest.
            struct ProductCols {
                scenarios: String,
                sectors: String,
                sizes: String,
                levels: String,
            }

            /// Binds a product's own columns, name to levels, in the order in which both the
            /// INSERT and the UPDATE of a product list them.
            fn bind_product<'q>(
                q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
                spec: &'q ProductSpec,
                cols: &'q ProductCols,
            ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
                q.bind(&spec.name)
                    .bind(&spec.description_zh)
                    .bind(&spec.description_en)
                    .bind(&cols.scenarios)
                    .bind(&cols.sectors)
                    .bind(&cols.sizes)
                    .bind(spec.deployment.id())
                    .bind(spec.price_model.id())
                    .bind(spec.price_min)
                    .bind(spec.price_max)
                    .bind(i64::from(spec.golive_weeks))
                    .bind(&spec.references)
                    .bind(&cols.levels)
            }

            fn product_cols(spec: &ProductSpec) -> Result<ProductCols> {
                if !(spec.price_min.is_finite() && spec.price_max.is_finite())
                    || spec.price_min > spec.price_max
                {
                    return invalid("the price range is not valid");
                }
                if spec.scenarios.is_empty() {
                    return invalid("a product delivers at least one scenario");
                }
                let join = |v: &[String]| -> Result<String> {
                    if v.iter().any(|s| s.contains(',') || s.trim().is_empty()) {
                        return invalid("list items cannot be empty or contain commas");
                    }
                    Ok(v.join(","))
                };
                Ok(ProductCols {
                    scenarios: join(&spec.scenarios)?,
                    sectors: join(&spec.sectors)?,
                    sizes: spec.sizes.iter().map(|s| s.id()).collect::<Vec<_>>().join(","),
                    levels: spec
                        .levels
                        .iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                })
            }

            async fn outcome_stats(conn: &mut Conn) -> Result<std::collections::HashMap<Id, OutcomeStats>> {
                let rows = sqlx::query(
                    "SELECT l.product_id, COUNT(*) AS reported, \
                     COUNT(CASE WHEN o.went_live = 1 THEN 1 END) AS went_live \
                     FROM lead_outcomes o JOIN leads l ON l.id = o.lead_id GROUP BY l.product_id",
                )
                .fetch_all(&mut *conn)
                .await
                .db()?;
                let mut out = std::collections::HashMap::new();
                for r in rows {
                    let n: i64 = get(&r, "reported")?;
                    let live: i64 = get(&r, "went_live")?;
                    out.insert(
                        get::<Id>(&r, "product_id")?,
                        OutcomeStats {
                            reported: u32::try_from(n).unwrap_or(u32::MAX),
                            went_live: u32::try_from(live).unwrap_or(u32::MAX),
                        },
                    );
                }
                Ok(out)
            }

            const LIVE: &str = "pr.deleted_at IS NULL AND p.status = 'approved'";

            async fn catalogue_where(
                conn: &mut Conn,
                extra: &str,
                arg: Option<Id>,
            ) -> Result<Vec<CatalogueEntry>> {
                let sql = format!(
                    "SELECT {PRODUCT_COLS}, p.name AS provider_name, p.regions AS provider_regions \
                     FROM products pr JOIN provider_profiles p ON p.user_id = pr.provider_id \
                     WHERE {LIVE}{extra} ORDER BY pr.id"
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                if let Some(a) = arg {
                    q = q.bind(a);
                }
                let rows = q.fetch_all(&mut *conn).await.db()?;
                let stats = outcome_stats(conn).await?;
                rows.iter()
                    .map(|r| {
                        let product = product_from_row(r)?;
                        Ok(CatalogueEntry {
                            outcomes: stats.get(&product.id).copied().unwrap_or_default(),
                            product,
                            provider_name: get(r, "provider_name")?,
                            provider_regions: split(&get::<String>(r, "provider_regions")?),
                        })
                    })
                    .collect()
            }

            const LEAD_COLS: &str = "l.id, l.product_id, pr.name AS product_name, l.provider_id, \
                 p.name AS provider_name, l.scenario, l.share_profile, l.share_level, l.share_recs, \
                 l.shared, l.contact, l.message, l.status, l.created_at, l.updated_at, \
                 o.went_live, o.kpis, o.note, o.recorded_at";
            const LEAD_FROM: &str = "FROM leads l JOIN products pr ON pr.id = l.product_id \
                 JOIN provider_profiles p ON p.user_id = l.provider_id \
                 LEFT JOIN lead_outcomes o ON o.lead_id = l.id";

            fn lead_from_row(row: &DbRow) -> Result<Lead> {
                let status: String = get(row, "status")?;
                let shared: String = get(row, "shared")?;
                let went_live: Option<i64> = get(row, "went_live")?;
                let outcome = match went_live {
                    Some(w) => {
                        let kpis: String = get(row, "kpis")?;
                        Some(Outcome {
                            went_live: w == 1,
                            kpis: serde_json::from_str(&kpis).map_err(|e| {
                                StoreError::Database(format!("stored KPIs are not readable: {e}"))
                            })?,
                            note: get(row, "note")?,
                            recorded_at: get(row, "recorded_at")?,
                        })
                    }
                    None => None,
                };
                Ok(Lead {
                    id: get(row, "id")?,
                    product_id: get(row, "product_id")?,
                    product_name: get(row, "product_name")?,
                    provider_id: get(row, "provider_id")?,
                    provider_name: get(row, "provider_name")?,
                    scenario: get(row, "scenario")?,
                    share: Share {
                        profile: get::<i64>(row, "share_profile")? == 1,
                        level: get::<i64>(row, "share_level")? == 1,
                        recommendations: get::<i64>(row, "share_recs")? == 1,
                    },
                    shared: serde_json::from_str(&shared).map_err(|e| {
                        StoreError::Database(format!("a stored lead is not readable: {e}"))
                    })?,
                    contact: get(row, "contact")?,
                    message: get(row, "message")?,
                    status: LeadStatus::parse(&status).ok_or_else(|| {
                        StoreError::Database(format!("unknown lead status {status:?}"))
                    })?,
                    created_at: get(row, "created_at")?,
                    updated_at: get(row, "updated_at")?,
                    outcome,
                })
            }

            /// One lead where `owner_col` (enterprise_id or provider_id) is `owner`.
            async fn lead_in(conn: &mut Conn, owner_col: &str, owner: Id, id: Id) -> Result<Lead> {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {LEAD_COLS} {LEAD_FROM} WHERE l.id = $1 AND l.{owner_col} = $2"
                )))
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut *conn)
                .await
                .db()?
                .ok_or(StoreError::NotFound)?;
                lead_from_row(&row)
            }

            async fn leads_of(
                conn: &mut Conn,
                owner_col: &str,
                owner: Id,
                page: Page,
            ) -> Result<(Vec<Lead>, i64)> {
                let (offset, limit) = bounds(page);
                let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM leads l WHERE l.{owner_col} = $1"
                )))
                .bind(owner)
                .fetch_one(&mut *conn)
                .await
                .db()?;
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {LEAD_COLS} {LEAD_FROM} WHERE l.{owner_col} = $1 \
                     ORDER BY l.updated_at DESC, l.id DESC LIMIT $2 OFFSET $3"
                )))
                .bind(owner)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await
                .db()?;
                Ok((rows.iter().map(lead_from_row).collect::<Result<_>>()?, total))
            }

            /// Whether a provider serving `regions` serves part of the region `prefix`.
            fn serves(regions: &[String], prefix: &crate::RegionPrefix) -> bool {
                regions.is_empty()
                    || regions.iter().any(|r| {
                        parse_region_code(r).is_some_and(|code| {
                            prefix.contains_code(code)
                                || region_covers(r, &region_code_text(prefix.range().0))
                        })
                    })
            }

            fn approved_only(p: Option<ProviderProfile>) -> Result<ProviderProfile> {
                match p {
                    Some(p) if p.status == ProviderStatus::Approved => Ok(p),
                    Some(_) => invalid("the provider is not approved"),
                    None => Err(StoreError::NotFound),
                }
            }

            #[async_trait]
            impl Providers for $store {
                async fn create_provider_account(
                    &self,
                    email: &str,
                    password_hash: &str,
                    lang: Option<&str>,
                    input: &ProviderInput,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<User> {
                    let c = check_input(input)?;
                    let mut tx = self.write().await?;
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO users (email, password_hash, role, enterprise_id, lang, created_at) \
                         VALUES ($1, $2, 'provider', NULL, $3, $4) RETURNING {USER_COLS}"
                    )))
                    .bind(email)
                    .bind(password_hash)
                    .bind(lang)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let user = user_from_row(&row)?;
                    sqlx::query(
                        "INSERT INTO provider_profiles (user_id, status, name, home_region, regions, \
                         contact, certifications, created_at, updated_at) \
                         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $7)",
                    )
                    .bind(user.id)
                    .bind(&c.name)
                    .bind(c.home)
                    .bind(&c.regions)
                    .bind(&c.contact)
                    .bind(&c.certifications)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    let mut audit = audit.clone();
                    audit.actor_user_id = audit.actor_user_id.or(Some(user.id));
                    let mut record = audit.record(AuditAction::Signup, format!("user:{}", user.id));
                    record.detail = if record.detail.is_empty() {
                        "role=provider".to_owned()
                    } else {
                        format!("{} role=provider", record.detail)
                    };
                    insert_audit(&mut tx, &record).await?;
                    tx.commit().await.db()?;
                    Ok(user)
                }

                async fn provider_profile(&self, user_id: Id) -> Result<Option<ProviderProfile>> {
                    let mut tx = self.read().await?;
                    profile_in(&mut tx, user_id).await
                }

                async fn create_provider_profile(
                    &self,
                    user_id: Id,
                    input: &ProviderInput,
                    now: i64,
                ) -> Result<ProviderProfile> {
                    let c = check_input(input)?;
                    let mut tx = self.write().await?;
                    let role: Option<String> =
                        sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
                            .bind(user_id)
                            .fetch_optional(&mut *tx)
                            .await
                            .db()?;
                    if role.as_deref() != Some("provider") {
                        return Err(StoreError::NotFound);
                    }
                    if profile_in(&mut tx, user_id).await?.is_some() {
                        return Err(StoreError::Conflict("provider profile".into()));
                    }
                    sqlx::query(
                        "INSERT INTO provider_profiles (user_id, status, name, home_region, regions, \
                         contact, certifications, created_at, updated_at) \
                         VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $7)",
                    )
                    .bind(user_id)
                    .bind(&c.name)
                    .bind(c.home)
                    .bind(&c.regions)
                    .bind(&c.contact)
                    .bind(&c.certifications)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    let p = profile_in(&mut tx, user_id).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await.db()?;
                    Ok(p)
                }

                async fn update_provider_profile(
                    &self,
                    user_id: Id,
                    input: &ProviderInput,
                    now: i64,
                ) -> Result<ProviderProfile> {
                    let c = check_input(input)?;
                    let mut tx = self.write().await?;
                    let n = sqlx::query(
                        "UPDATE provider_profiles SET name = $2, home_region = $3, regions = $4, \
                         contact = $5, certifications = $6, updated_at = $7 WHERE user_id = $1",
                    )
                    .bind(user_id)
                    .bind(&c.name)
                    .bind(c.home)
                    .bind(&c.regions)
                    .bind(&c.contact)
                    .bind(&c.certifications)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    let p = profile_in(&mut tx, user_id).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await.db()?;
                    Ok(p)
                }

                async fn providers_in(
                    &self,
                    scope: &Scope,
                    page: Page,
                ) -> Result<(Vec<ProviderProfile>, i64)> {
                    let (lo, hi) = match scope {
                        Scope::All => (0, i64::MAX),
                        Scope::Region(prefix) => prefix.range(),
                        _ => return Ok((Vec::new(), 0)),
                    };
                    let (offset, limit) = bounds(page);
                    let mut tx = self.read().await?;
                    let total: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM provider_profiles WHERE home_region >= $1 AND home_region < $2",
                    )
                    .bind(lo)
                    .bind(hi)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {PROFILE_COLS} FROM provider_profiles p JOIN users u ON u.id = p.user_id \
                         WHERE p.home_region >= $1 AND p.home_region < $2 \
                         ORDER BY CASE WHEN p.status = 'pending' THEN 0 ELSE 1 END, p.created_at DESC, \
                         p.user_id DESC LIMIT $3 OFFSET $4"
                    )))
                    .bind(lo)
                    .bind(hi)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    Ok((rows.iter().map(profile_from_row).collect::<Result<_>>()?, total))
                }

                async fn decide_provider(
                    &self,
                    scope: &Scope,
                    user_id: Id,
                    approve: bool,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<ProviderProfile> {
                    let mut tx = self.write().await?;
                    let p = profile_in(&mut tx, user_id).await?.ok_or(StoreError::NotFound)?;
                    let allowed = match scope {
                        Scope::All => true,
                        Scope::Region(prefix) => parse_region_code(&p.home_region)
                            .is_some_and(|c| prefix.contains_code(c)),
                        _ => false,
                    };
                    if !allowed {
                        return Err(StoreError::NotFound);
                    }
                    let status = if approve {
                        ProviderStatus::Approved
                    } else {
                        ProviderStatus::Rejected
                    };
                    sqlx::query(
                        "UPDATE provider_profiles SET status = $2, decided_at = $3, decided_by = $4 \
                         WHERE user_id = $1",
                    )
                    .bind(user_id)
                    .bind(status.as_str())
                    .bind(now)
                    .bind(audit.actor_user_id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    let action = if approve {
                        AuditAction::ProviderApproved
                    } else {
                        AuditAction::ProviderRejected
                    };
                    insert_audit(&mut tx, &audit.record(action, format!("user:{user_id}"))).await?;
                    let p = profile_in(&mut tx, user_id).await?.ok_or(StoreError::NotFound)?;
                    tx.commit().await.db()?;
                    Ok(p)
                }

                async fn products_of(&self, provider_id: Id) -> Result<Vec<Product>> {
                    let mut tx = self.read().await?;
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {PRODUCT_COLS} FROM products pr WHERE pr.provider_id = $1 \
                         AND pr.deleted_at IS NULL ORDER BY pr.id"
                    )))
                    .bind(provider_id)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    rows.iter().map(product_from_row).collect()
                }

                async fn product_of(&self, provider_id: Id, id: Id) -> Result<Product> {
                    let mut tx = self.read().await?;
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {PRODUCT_COLS} FROM products pr WHERE pr.id = $1 AND pr.provider_id = $2 \
                         AND pr.deleted_at IS NULL"
                    )))
                    .bind(id)
                    .bind(provider_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .ok_or(StoreError::NotFound)?;
                    product_from_row(&row)
                }

                async fn create_product(
                    &self,
                    provider_id: Id,
                    spec: &ProductSpec,
                    now: i64,
                ) -> Result<Product> {
                    let cols = product_cols(spec)?;
                    let mut tx = self.write().await?;
                    approved_only(profile_in(&mut tx, provider_id).await?)?;
                    let insert = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO products (provider_id, name, description_zh, description_en, \
                         scenarios, sectors, sizes, deployment, price_model, price_min, price_max, \
                         golive_weeks, reference_customers, levels, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
                         RETURNING id"
                    )))
                    .bind(provider_id);
                    let row = bind_product(insert, spec, &cols)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let id: Id = get(&row, "id")?;
                    let p = product_in(&mut tx, provider_id, id).await?;
                    tx.commit().await.db()?;
                    Ok(p)
                }

                async fn update_product(
                    &self,
                    provider_id: Id,
                    id: Id,
                    spec: &ProductSpec,
                    now: i64,
                ) -> Result<Product> {
                    let cols = product_cols(spec)?;
                    let mut tx = self.write().await?;
                    approved_only(profile_in(&mut tx, provider_id).await?)?;
                    let update = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE products SET name = $3, description_zh = $4, description_en = $5, \
                         scenarios = $6, sectors = $7, sizes = $8, deployment = $9, price_model = $10, \
                         price_min = $11, price_max = $12, golive_weeks = $13, reference_customers = $14, \
                         levels = $15, updated_at = $16 \
                         WHERE id = $1 AND provider_id = $2 AND deleted_at IS NULL RETURNING id"
                    )))
                    .bind(id)
                    .bind(provider_id);
                    let row = bind_product(update, spec, &cols)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?
                    .ok_or(StoreError::NotFound)?;
                    let id: Id = get(&row, "id")?;
                    let p = product_in(&mut tx, provider_id, id).await?;
                    tx.commit().await.db()?;
                    Ok(p)
                }

                async fn delete_product(&self, provider_id: Id, id: Id, now: i64) -> Result<()> {
                    let mut tx = self.write().await?;
                    let n = sqlx::query(
                        "UPDATE products SET deleted_at = $3 WHERE id = $1 AND provider_id = $2 \
                         AND deleted_at IS NULL",
                    )
                    .bind(id)
                    .bind(provider_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected();
                    if n == 0 {
                        return Err(StoreError::NotFound);
                    }
                    tx.commit().await.db()?;
                    Ok(())
                }

                async fn catalogue(&self, scenarios: &[String]) -> Result<Vec<CatalogueEntry>> {
                    let mut tx = self.read().await?;
                    let all = catalogue_where(&mut tx, "", None).await?;
                    Ok(all
                        .into_iter()
                        .filter(|e| e.product.spec.scenarios.iter().any(|s| scenarios.contains(s)))
                        .collect())
                }

                async fn catalogue_entry(&self, product_id: Id) -> Result<Option<CatalogueEntry>> {
                    let mut tx = self.read().await?;
                    Ok(catalogue_where(&mut tx, " AND pr.id = $1", Some(product_id))
                        .await?
                        .into_iter()
                        .next())
                }

                async fn matching_budget(&self, enterprise_id: Id) -> Result<Option<f64>> {
                    let mut tx = self.read().await?;
                    sqlx::query_scalar("SELECT budget FROM enterprise_budgets WHERE enterprise_id = $1")
                        .bind(enterprise_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .db()
                }

                async fn set_matching_budget(
                    &self,
                    enterprise_id: Id,
                    budget: Option<f64>,
                    now: i64,
                ) -> Result<()> {
                    if budget.is_some_and(|b| !b.is_finite() || b < 0.0) {
                        return invalid("the budget must be a number of zero or more");
                    }
                    let mut tx = self.write().await?;
                    sqlx::query("DELETE FROM enterprise_budgets WHERE enterprise_id = $1")
                        .bind(enterprise_id)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    if let Some(b) = budget {
                        sqlx::query(
                            "INSERT INTO enterprise_budgets (enterprise_id, budget, updated_at) \
                             VALUES ($1, $2, $3)",
                        )
                        .bind(enterprise_id)
                        .bind(b)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    }
                    tx.commit().await.db()?;
                    Ok(())
                }

                async fn create_lead(
                    &self,
                    enterprise_id: Id,
                    user_id: Id,
                    new: &NewLead,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<Lead> {
                    let contact = clean(&new.contact, MAX_PROVIDER_TEXT, "contact", true)?;
                    let message = clean(&new.message, 2000, "message", false)?;
                    let scenario = clean(&new.scenario, 100, "scenario", true)?;
                    if !new.shared.is_object() {
                        return invalid("the shared data must be a JSON object");
                    }
                    let shared = serde_json::to_string(&new.shared)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    let mut tx = self.write().await?;
                    let entry = catalogue_where(&mut tx, " AND pr.id = $1", Some(new.product_id))
                        .await?
                        .into_iter()
                        .next()
                        .ok_or(StoreError::NotFound)?;
                    if let Some(a) = new.assessment_id {
                        let n: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM assessments WHERE id = $1 AND enterprise_id = $2",
                        )
                        .bind(a)
                        .bind(enterprise_id)
                        .fetch_one(&mut *tx)
                        .await
                        .db()?;
                        if n == 0 {
                            return Err(StoreError::NotFound);
                        }
                    }
                    let taken: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM leads WHERE enterprise_id = $1 AND product_id = $2",
                    )
                    .bind(enterprise_id)
                    .bind(new.product_id)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    if taken > 0 {
                        return Err(StoreError::Conflict("lead".into()));
                    }
                    let id: Id = sqlx::query_scalar(
                        "INSERT INTO leads (product_id, provider_id, enterprise_id, requested_by, \
                         assessment_id, scenario, share_profile, share_level, share_recs, shared, contact, \
                         message, status, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'new', $13, $13) \
                         RETURNING id",
                    )
                    .bind(new.product_id)
                    .bind(entry.product.provider_id)
                    .bind(enterprise_id)
                    .bind(user_id)
                    .bind(new.assessment_id)
                    .bind(&scenario)
                    .bind(flag(new.share.profile))
                    .bind(flag(new.share.level))
                    .bind(flag(new.share.recommendations))
                    .bind(&shared)
                    .bind(&contact)
                    .bind(&message)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .db()?;
                    let mut record = audit.record(AuditAction::LeadRequested, format!("lead:{id}"));
                    let facts = format!(
                        "product={} provider={} profile={} level={} recommendations={}",
                        new.product_id,
                        entry.product.provider_id,
                        flag(new.share.profile),
                        flag(new.share.level),
                        flag(new.share.recommendations)
                    );
                    record.detail = if record.detail.is_empty() {
                        facts
                    } else {
                        format!("{} {facts}", record.detail)
                    };
                    insert_audit(&mut tx, &record).await?;
                    let lead = lead_in(&mut tx, "enterprise_id", enterprise_id, id).await?;
                    tx.commit().await.db()?;
                    Ok(lead)
                }

                async fn enterprise_leads(
                    &self,
                    enterprise_id: Id,
                    page: Page,
                ) -> Result<(Vec<Lead>, i64)> {
                    let mut tx = self.read().await?;
                    leads_of(&mut tx, "enterprise_id", enterprise_id, page).await
                }

                async fn enterprise_lead(&self, enterprise_id: Id, id: Id) -> Result<Lead> {
                    let mut tx = self.read().await?;
                    lead_in(&mut tx, "enterprise_id", enterprise_id, id).await
                }

                async fn provider_leads(&self, provider_id: Id, page: Page) -> Result<(Vec<Lead>, i64)> {
                    let mut tx = self.read().await?;
                    leads_of(&mut tx, "provider_id", provider_id, page).await
                }

                async fn provider_lead(&self, provider_id: Id, id: Id) -> Result<Lead> {
                    let mut tx = self.read().await?;
                    lead_in(&mut tx, "provider_id", provider_id, id).await
                }

                async fn set_lead_status(
                    &self,
                    provider_id: Id,
                    id: Id,
                    status: LeadStatus,
                    now: i64,
                    audit: &AuditCtx,
                ) -> Result<Lead> {
                    let mut tx = self.write().await?;
                    let before = lead_in(&mut tx, "provider_id", provider_id, id).await?;
                    sqlx::query("UPDATE leads SET status = $3, updated_at = $4 WHERE id = $1 AND provider_id = $2")
                        .bind(id)
                        .bind(provider_id)
                        .bind(status.as_str())
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    let mut record = audit.record(AuditAction::LeadStatusChanged, format!("lead:{id}"));
                    let facts = format!("from={} to={}", before.status.as_str(), status.as_str());
                    record.detail = if record.detail.is_empty() {
                        facts
                    } else {
                        format!("{} {facts}", record.detail)
                    };
                    insert_audit(&mut tx, &record).await?;
                    let lead = lead_in(&mut tx, "provider_id", provider_id, id).await?;
                    tx.commit().await.db()?;
                    Ok(lead)
                }

                async fn record_outcome(
                    &self,
                    enterprise_id: Id,
                    lead_id: Id,
                    outcome: &Outcome,
                    audit: &AuditCtx,
                ) -> Result<Lead> {
                    if outcome.kpis.len() > MAX_KPIS {
                        return invalid(format!("at most {MAX_KPIS} KPIs"));
                    }
                    for k in &outcome.kpis {
                        clean(&k.name, 100, "KPI name", true)?;
                        if !(k.before.is_finite() && k.after.is_finite()) {
                            return invalid("KPI figures must be numbers");
                        }
                    }
                    let note = clean(&outcome.note, 2000, "note", false)?;
                    let kpis = serde_json::to_string(&outcome.kpis)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    let mut tx = self.write().await?;
                    lead_in(&mut tx, "enterprise_id", enterprise_id, lead_id).await?;
                    sqlx::query("DELETE FROM lead_outcomes WHERE lead_id = $1")
                        .bind(lead_id)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                    sqlx::query(
                        "INSERT INTO lead_outcomes (lead_id, went_live, kpis, note, recorded_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(lead_id)
                    .bind(flag(outcome.went_live))
                    .bind(&kpis)
                    .bind(&note)
                    .bind(outcome.recorded_at)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                    let mut record = audit.record(AuditAction::OutcomeRecorded, format!("lead:{lead_id}"));
                    let facts = format!("went_live={}", flag(outcome.went_live));
                    record.detail = if record.detail.is_empty() {
                        facts
                    } else {
                        format!("{} {facts}", record.detail)
                    };
                    insert_audit(&mut tx, &record).await?;
                    let lead = lead_in(&mut tx, "enterprise_id", enterprise_id, lead_id).await?;
                    tx.commit().await.db()?;
                    Ok(lead)
                }

                async fn supply_demand(&self, scope: &Scope) -> Result<(Vec<Demand>, Vec<Supply>)> {
                    let prefix = match scope {
                        Scope::All => None,
                        Scope::Region(p) => Some(p.clone()),
                        _ => return Ok((Vec::new(), Vec::new())),
                    };
                    let (lo, hi) = prefix.as_ref().map_or((0, i64::MAX), |p| p.range());
                    let mut tx = self.read().await?;
                    let rows = sqlx::query(
                        "SELECT sector, size, recommended FROM assessment_facts WHERE is_latest = 1 \
                         AND ($3 = 1 OR (region_code >= $1 AND region_code < $2)) ORDER BY enterprise_id",
                    )
                    .bind(lo)
                    .bind(hi)
                    // Everything (also enterprises without a location) for the administrator.
                    .bind(i64::from(prefix.is_none()))
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    let mut demand = Vec::with_capacity(rows.len());
                    for r in &rows {
                        let size: String = get(r, "size")?;
                        demand.push(Demand {
                            sector: get(r, "sector")?,
                            size: SizeClass::ALL.into_iter().find(|c| c.id() == size),
                            scenarios: split(&get::<String>(r, "recommended")?),
                        });
                    }
                    let supply = catalogue_where(&mut tx, "", None)
                        .await?
                        .into_iter()
                        .filter(|e| prefix.as_ref().is_none_or(|p| serves(&e.provider_regions, p)))
                        .map(|e| Supply {
                            provider_id: e.product.provider_id,
                            spec: e.product.spec,
                        })
                        .collect();
                    Ok((demand, supply))
                }

                async fn provider_stats(&self, scope: &Scope) -> Result<Vec<ProviderStat>> {
                    let prefix = match scope {
                        Scope::All => None,
                        Scope::Region(p) => Some(p.clone()),
                        _ => return Ok(Vec::new()),
                    };
                    let (lo, hi) = prefix.as_ref().map_or((0, i64::MAX), |p| p.range());
                    let mut tx = self.read().await?;
                    let providers = sqlx::query(
                        "SELECT p.user_id, p.name, p.regions, \
                         (SELECT COUNT(*) FROM products pr WHERE pr.provider_id = p.user_id \
                          AND pr.deleted_at IS NULL) AS products \
                         FROM provider_profiles p WHERE p.status = 'approved' ORDER BY p.name, p.user_id",
                    )
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    let counts = sqlx::query(
                        "SELECT l.provider_id, COUNT(*) AS leads, \
                         COUNT(CASE WHEN l.status = 'won' THEN 1 END) AS won, \
                         COUNT(CASE WHEN l.status = 'lost' THEN 1 END) AS lost, \
                         COUNT(o.lead_id) AS outcomes, \
                         COUNT(CASE WHEN o.went_live = 1 THEN 1 END) AS went_live \
                         FROM leads l JOIN enterprises e ON e.id = l.enterprise_id \
                         LEFT JOIN lead_outcomes o ON o.lead_id = l.id \
                         WHERE $3 = 1 OR (e.region_code >= $1 AND e.region_code < $2) GROUP BY l.provider_id",
                    )
                    .bind(lo)
                    .bind(hi)
                    .bind(i64::from(prefix.is_none()))
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
                    let mut by_provider = std::collections::HashMap::new();
                    for r in &counts {
                        by_provider.insert(
                            get::<Id>(r, "provider_id")?,
                            (
                                get::<i64>(r, "leads")?,
                                get::<i64>(r, "won")?,
                                get::<i64>(r, "lost")?,
                                get::<i64>(r, "outcomes")?,
                                get::<i64>(r, "went_live")?,
                            ),
                        );
                    }
                    let mut out = Vec::new();
                    for r in &providers {
                        let id: Id = get(r, "user_id")?;
                        let regions = split(&get::<String>(r, "regions")?);
                        let (leads, won, lost, outcomes, went_live) =
                            by_provider.get(&id).copied().unwrap_or_default();
                        if leads == 0 && !prefix.as_ref().is_none_or(|p| serves(&regions, p)) {
                            continue;
                        }
                        out.push(ProviderStat {
                            provider_id: id,
                            name: get(r, "name")?,
                            products: get(r, "products")?,
                            leads,
                            won,
                            lost,
                            outcomes,
                            went_live,
                        });
                    }
                    Ok(out)
                }
            }
        }
    };
}

pub(crate) use impl_providers;
