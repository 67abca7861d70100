//! The authorisation matrix: every route of the application × every kind of caller × own or
//! another enterprise's records, each cell's expected status asserted.
//!
//! [`ROUTES`] is the one table of routes. Two tests keep it complete: one reads the routers in
//! `src/` (every `.route("…", get(…).post(…))` and every `#[utoipa::path(…)]`), the other the
//! OpenAPI document of a running server; a route missing from the table fails them with its name.
//! A new route therefore needs a line here saying who may call it.
//!
//! What the table asserts (secure and consistent, as implemented):
//! * pages: visitors, and scripts that send only a bearer token (a token is not a page
//!   credential), are sent to `/login?next=…` (303); another enterprise's record is 404, the same
//!   as a record that does not exist, so ids reveal nothing; an administrator (no enterprise) gets
//!   403 on enterprise pages; an enterprise user gets 403 on `/admin/*`;
//! * the API: only a bearer token counts (a browser's session cookie is ignored: the API has no
//!   CSRF protection, so it must not accept cookies); no or an unknown token is 401, an
//!   administrator's token 403 (`no_enterprise`) on enterprise data, another enterprise's record
//!   404 (`not_found`); an enterprise user's token on the administrators' API 403 (`forbidden`);
//!   every API answer is JSON.
//! * staff (authority, cluster, administrator) and solution providers: see [`Access`]. An
//!   authority's or a cluster's record outside its region or cluster is 404 like a missing one;
//!   staff and providers on enterprise pages, and providers on staff pages, get 403.
//!
//! The callers ([`ROLES`]) live in two cities of Jiangsu (GB/T 2260 codes the store's region table
//! seeds in migration 0003): side A is Suzhou (320500), side B Nanjing (320100). Enterprise A
//! (located in 320506, in the cluster `matrix-park`) joined a campaign of the Suzhou authority and
//! one of the cluster; enterprise B (320102) joined a campaign of the Nanjing authority. So the
//! Suzhou authority, the cluster and the Jiangsu (province) authority may see A individually, the
//! Nanjing authority and the province B; the authority of Zhejiang (330000) neither. Provider A
//! (approved, home region Suzhou) got a contact request from enterprise A about its product;
//! provider B (not a caller) one from enterprise B.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};

use smedx_core::kb::SizeClass;
use smedx_core::providers::{Deployment, PriceModel, ProductSpec};
use smedx_store::providers::{NewLead, ProviderInput, Share};
use smedx_store::regional::{EnterpriseLocation, NewCampaign, NewStaffUser};
use smedx_store::{AuditCtx, Page, Role as StoreRole, Scope};

use crate::helpers::{self, App, Backend, Browser, PASSWORD};

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

/// Who may call a route, and what the allowed caller gets.
///
/// "In scope" (staff) means: the administrator sees every existing record; an authority the
/// records of its region's subtree (the province sees both cities); the cluster user those of
/// its cluster (side A). A route without an id is in everybody's scope.
// The JSON API has no staff or provider endpoints yet; `ApiStaff` and `ApiProvider` say what
// they must answer when they come.
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The same answer for everybody (public pages and public API endpoints).
    Public(u16),
    /// Pages for any logged-in user (administrators, staff and providers included); visitors →
    /// 303 `/login`.
    Session(u16),
    /// Pages of the user's own enterprise: own record → this status; another enterprise's or a
    /// missing record → 404; administrator, staff and providers → 403; visitors → 303 `/login`.
    Enterprise(u16),
    /// Administration: administrator → this status (404 for a missing target); everybody else
    /// logged in (enterprise users, staff, providers) → 403; visitors → 303 `/login`.
    Admin(u16),
    /// Staff pages (authority, cluster, administrator): a record in scope → this status; another
    /// region's or cluster's record, or a missing one → 404; enterprise users and providers →
    /// 403; visitors → 303 `/login`.
    Staff(u16),
    /// Like [`Access::Staff`] but for authorities and the administrator only: cluster users get
    /// 403 too.
    StaffAuthority(u16),
    /// Pages of an approved solution provider: its own record (product, lead, the enterprise
    /// that asked it for contact) → this status; another provider's record, an enterprise that
    /// did not ask it, or a missing record → 404; everybody else logged in → 403; visitors → 303
    /// `/login`.
    Provider(u16),
    /// The API on the token holder's enterprise: own record → this status; another's or missing
    /// → 404; a token of an account without an enterprise (administrator, staff, provider) → 403
    /// (`no_enterprise`); no token, a bad token or only a cookie → 401.
    ApiEnterprise(u16),
    /// The API for administrators: administrator's token → this status; any other token → 403
    /// (`forbidden`); no token, a bad token or only a cookie → 401.
    ApiAdmin(u16),
    /// The API for staff: as [`Access::Staff`] with tokens (out of scope or missing → 404
    /// `not_found`; enterprise and provider tokens → 403 `forbidden`; no, a bad token or only a
    /// cookie → 401).
    ApiStaff(u16),
    /// The API for approved providers: as [`Access::Provider`] with tokens (others' records →
    /// 404 `not_found`; other tokens → 403 `forbidden`; no, a bad token or only a cookie → 401).
    ApiProvider(u16),
}

/// What `{id}` (and `{aid}`) in a route's path or body stands for. Each target exists on side A
/// and side B of the world (see the module docs); [`Tenant::Missing`] is an id that exists nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The route takes no record id.
    None,
    /// A complete assessment (of enterprise A / B).
    Complete,
    /// A draft assessment.
    Draft,
    /// A user (a colleague in the enterprise, never the caller).
    User,
    /// A campaign: A = the cluster's campaign in Suzhou (visible to the Suzhou authority, the
    /// province and the cluster), B = the Nanjing authority's campaign.
    Campaign,
    /// An enterprise (the id of enterprise A / B), a campaign member of its side.
    Enterprise,
    /// `{id}` = the enterprise, `{aid}` = its complete assessment.
    MemberAssessment,
    /// A provider's product (provider A's / provider B's).
    Product,
    /// A contact request (lead): A = enterprise A to provider A, B = enterprise B to provider B.
    Lead,
    /// A provider account (its user id): A = provider A (home region Suzhou), B = provider B
    /// (Nanjing).
    ProviderAccount,
    /// A message in the enterprise's inbox (a reminder of its campaign).
    Message,
    /// An import job: A = the Suzhou authority's, B = the Nanjing authority's. Jobs are followed
    /// by the users of the same scope only (and the administrator): the province and the cluster
    /// get 404 on both.
    ImportJob,
    /// `{id}` = the enterprise's complete assessment, `{aid}` = its side's product (about which
    /// the enterprise already asked, see [`Records::lead`]).
    AssessmentProduct,
    /// A second product of the side's provider, for the one row that deletes a product.
    SpareProduct,
}

/// The ids a path is filled with: `{id}`, and `{aid}` for routes with a second id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    pub id: i64,
    pub aid: i64,
}

impl From<i64> for Ids {
    fn from(id: i64) -> Ids {
        Ids { id, aid: id }
    }
}

impl std::fmt::Display for Ids {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.id)
    }
}

/// A request body. Values may contain `{id}` (the target id) and `{role}` (the caller's name).
#[derive(Clone, Copy, Debug)]
pub enum Body {
    Empty,
    /// Form fields; the caller's CSRF token is added for page routes.
    Form(&'static [(&'static str, &'static str)]),
    Json(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    /// `GET`, `POST`, `PUT`, … or `ANY` for a catch-all.
    pub method: &'static str,
    /// The route as the router registers it (`/assessments/{id}`), or [`FALLBACK`].
    pub pattern: &'static str,
    /// The request path and query, with `{id}` replaced by the target.
    pub path: &'static str,
    pub target: Target,
    pub body: Body,
    pub access: Access,
    /// Where the allowed caller is redirected (prefix), when the status is 303.
    pub location: Option<&'static str>,
    /// The request ends the caller's session: each cell gets a fresh one.
    pub fresh_session: bool,
}

impl RouteSpec {
    pub fn is_api(&self) -> bool {
        self.pattern.starts_with("/api/")
    }
    /// A form post of the HTML application (CSRF-protected).
    pub fn is_form_post(&self) -> bool {
        !self.is_api() && self.method == "POST"
    }
    pub fn has_id(&self) -> bool {
        self.target != Target::None
    }
    /// A caller the route lets through (for tests that need its handler reached).
    pub fn allowed_role(&self) -> Role {
        match self.access {
            Public(_) => Role::Anonymous,
            Session(_) | Enterprise(_) => Role::UserA,
            Admin(_) => Role::Admin,
            Staff(_) | StaffAuthority(_) => Role::AuthA,
            Provider(_) => Role::ProviderA,
            ApiEnterprise(_) => Role::TokenA,
            ApiAdmin(_) => Role::TokenAdmin,
            ApiStaff(_) => Role::TokenAuthA,
            ApiProvider(_) => Role::TokenProviderA,
        }
    }
    /// The request URL with `{id}`, `{aid}` and `{role}` filled in.
    pub fn url(&self, base: &str, id: impl Into<Ids>, role: Role) -> String {
        format!("{base}{}", fill(self.path, id, role))
    }
    /// The form fields of the body (no CSRF token), filled in; empty for other bodies.
    pub fn fields(&self, id: impl Into<Ids>, role: Role) -> Vec<(String, String)> {
        let id = id.into();
        match self.body {
            Body::Form(f) => f
                .iter()
                .map(|(k, v)| ((*k).to_string(), fill(v, id, role)))
                .collect(),
            Body::Empty | Body::Json(_) => Vec::new(),
        }
    }
    /// The method to send (`ANY` → GET).
    pub fn send_method(&self) -> reqwest::Method {
        match self.method {
            "ANY" => reqwest::Method::GET,
            m => m.parse().expect("method"),
        }
    }
}

/// `{id}` → the target id, `{aid}` → the second id, `{role}` → the caller's name.
pub fn fill(s: &str, id: impl Into<Ids>, role: Role) -> String {
    let ids = id.into();
    s.replace("{id}", &ids.id.to_string())
        .replace("{aid}", &ids.aid.to_string())
        .replace("{role}", role.label())
}

/// The pages router's fallback (any unknown path).
pub const FALLBACK: &str = "(fallback)";

const STEP1: &[(&str, &str)] = &[
    ("name", "Matrix Co"),
    ("industry", "C3311"),
    ("employees", "85"),
    ("revenue_wan", "3200"),
    ("product_complexity", "medium"),
    ("chain_position", "midstream"),
];
const PROFILE: &str = r#"{"industry": "C3311", "employees": 85, "revenue": 32000000}"#;

const fn spec(
    method: &'static str,
    pattern: &'static str,
    path: &'static str,
    access: Access,
) -> RouteSpec {
    RouteSpec {
        method,
        pattern,
        path,
        target: Target::None,
        body: Body::Empty,
        access,
        location: None,
        fresh_session: false,
    }
}

const fn on(mut s: RouteSpec, target: Target) -> RouteSpec {
    s.target = target;
    s
}

const fn with(mut s: RouteSpec, body: Body) -> RouteSpec {
    s.body = body;
    s
}

const fn to(mut s: RouteSpec, location: &'static str) -> RouteSpec {
    s.location = Some(location);
    s
}

use Access::*;
use Target::{
    AssessmentProduct, Campaign, Complete, Draft, Enterprise as EnterpriseId, ImportJob, Lead,
    MemberAssessment, Message, Product, ProviderAccount, SpareProduct, User,
};

/// Every route of the application. Keep it complete: `routes_in_the_source_are_all_in_the_table`
/// and `openapi_paths_are_all_in_the_table` fail on a route without a line here.
///
/// How to add a row for a staff or provider route (one row per method and pattern):
/// 1. pick the [`Access`]: `Staff(200)` for pages of authorities, clusters and the administrator,
///    `StaffAuthority(200)` when cluster users get 403, `Admin(200)` for administrator-only
///    pages, `Provider(200)` for an approved provider's own pages, `ApiStaff`/`ApiProvider` for
///    the JSON API; the number is what the allowed caller in scope gets (303 for a form that
///    redirects, 422 for a form the row's body makes invalid, …);
/// 2. if the path has an id, say what it is with `on(…, Target::…)` (`Campaign`, `EnterpriseId`,
///    `MemberAssessment` for `{id}` + `{aid}`, `Product`, `Lead`, `ProviderAccount`, `Message`;
///    add a variant and its ids in [`World::target_id`] for a new kind of record); the matrix then
///    asks side A's and side B's record and a missing one of every caller;
/// 3. a form post gets its fields with `with(…, Body::Form(&[…]))` (the CSRF token is added, and
///    a generic test posts it without one); keep the body harmless (the row runs once per caller)
///    or valid-but-rejected (e.g. 422), and use `to(…, "/prefix")` to check a 303's target;
/// 4. run `cargo test -p smedx-web --test it authz` and read the printed matrix.
pub const ROUTES: &[RouteSpec] = &[
    // ----- public pages -----
    spec("GET", "/", "/", Public(200)),
    spec(
        "GET",
        "/search",
        "/search?q=%E4%BA%A4%E6%9C%9F",
        Public(200),
    ),
    spec("GET", "/signup", "/signup", Public(200)),
    with(
        spec("POST", "/signup", "/signup", Public(422)),
        Body::Form(&[("enterprise", ""), ("email", "{role}"), ("password", "x")]),
    ),
    spec("GET", "/login", "/login", Public(200)),
    with(
        spec("POST", "/login", "/login", Public(401)),
        Body::Form(&[
            ("email", "nobody-{role}@example.cn"),
            ("password", "not the password"),
        ]),
    ),
    RouteSpec {
        fresh_session: true,
        ..to(spec("POST", "/logout", "/logout", Public(303)), "/")
    },
    spec(
        "GET",
        "/setup/{token}",
        "/setup/0000000000000000000000000000000000000000000000000000000000000000",
        Public(200),
    ),
    with(
        spec(
            "POST",
            "/setup/{token}",
            "/setup/0000000000000000000000000000000000000000000000000000000000000000",
            Public(404),
        ),
        Body::Form(&[
            ("email", "setup-{role}@example.cn"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]),
    ),
    spec("GET", "/scenarios", "/scenarios", Public(200)),
    spec(
        "GET",
        "/scenarios/{id}",
        "/scenarios/pl.transparency",
        Public(200),
    ),
    spec("GET", "/sectors", "/sectors", Public(200)),
    spec("GET", "/cases", "/cases", Public(200)),
    spec("GET", "/static/{*path}", "/static/app.css", Public(200)),
    spec("GET", FALLBACK, "/no-such-page", Public(404)),
    // ----- regional dashboards (src/dashboards.rs) -----
    spec("GET", "/region", "/region", Staff(200)),
    spec("GET", "/region/progress", "/region/progress", Staff(200)),
    spec(
        "GET",
        "/region/export/{file}",
        "/region/export/levels.csv",
        Staff(200),
    ),
    spec(
        "GET",
        "/region/enterprises",
        "/region/enterprises",
        Staff(200),
    ),
    on(
        spec(
            "GET",
            "/region/enterprises/{id}",
            "/region/enterprises/{id}",
            Staff(200),
        ),
        EnterpriseId,
    ),
    on(
        spec(
            "GET",
            "/region/enterprises/{id}/assessments/{aid}",
            "/region/enterprises/{id}/assessments/{aid}",
            Staff(200),
        ),
        MemberAssessment,
    ),
    // ----- solution providers (src/providers.rs) -----
    spec("GET", "/providers/signup", "/providers/signup", Public(200)),
    with(
        spec(
            "POST",
            "/providers/signup",
            "/providers/signup",
            Public(422),
        ),
        Body::Form(&[
            ("name", ""),
            ("email", "{role}"),
            ("password", "x"),
            ("home_region", "320500"),
        ]),
    ),
    spec("GET", "/provider", "/provider", Provider(200)),
    with(
        spec(
            "POST",
            "/provider/profile",
            "/provider/profile",
            Provider(422),
        ),
        Body::Form(&[("name", ""), ("home_region", "320506"), ("contact", "400")]),
    ),
    spec(
        "GET",
        "/provider/products/new",
        "/provider/products/new",
        Provider(200),
    ),
    with(
        spec(
            "POST",
            "/provider/products",
            "/provider/products",
            Provider(422),
        ),
        Body::Form(&[("name", ""), ("scenarios", "pl.transparency")]),
    ),
    on(
        spec(
            "GET",
            "/provider/products/{id}",
            "/provider/products/{id}",
            Provider(200),
        ),
        Product,
    ),
    // Another provider's product is 404 whatever the form says; the own one gets the form's error.
    with(
        on(
            spec(
                "POST",
                "/provider/products/{id}",
                "/provider/products/{id}",
                Provider(422),
            ),
            Product,
        ),
        Body::Form(&[("name", ""), ("scenarios", "pl.transparency")]),
    ),
    to(
        on(
            spec(
                "POST",
                "/provider/products/{id}/delete",
                "/provider/products/{id}/delete",
                Provider(303),
            ),
            SpareProduct,
        ),
        "/provider",
    ),
    on(
        spec(
            "GET",
            "/provider/leads/{id}",
            "/provider/leads/{id}",
            Provider(200),
        ),
        Lead,
    ),
    to(
        with(
            on(
                spec(
                    "POST",
                    "/provider/leads/{id}/status",
                    "/provider/leads/{id}/status",
                    Provider(303),
                ),
                Lead,
            ),
            Body::Form(&[("status", "contacted")]),
        ),
        "/provider/leads/",
    ),
    spec(
        "GET",
        "/admin/providers",
        "/admin/providers",
        StaffAuthority(200),
    ),
    // Approving an approved provider again (an authority decides on its region's providers).
    to(
        with(
            on(
                spec(
                    "POST",
                    "/admin/providers/{id}/decide",
                    "/admin/providers/{id}/decide",
                    StaffAuthority(303),
                ),
                ProviderAccount,
            ),
            Body::Form(&[("decision", "approve")]),
        ),
        "/admin/providers",
    ),
    to(
        with(
            on(
                spec(
                    "POST",
                    "/assessments/{id}/budget",
                    "/assessments/{id}/budget",
                    Enterprise(303),
                ),
                Complete,
            ),
            Body::Form(&[("budget_wan", "30")]),
        ),
        "/assessments/",
    ),
    on(
        spec(
            "GET",
            "/assessments/{id}/contact/{product}",
            "/assessments/{id}/contact/{aid}",
            Enterprise(200),
        ),
        AssessmentProduct,
    ),
    // The enterprise already asked about this product: 422, nothing new stored.
    with(
        on(
            spec(
                "POST",
                "/assessments/{id}/contact/{product}",
                "/assessments/{id}/contact/{aid}",
                Enterprise(422),
            ),
            AssessmentProduct,
        ),
        Body::Form(&[
            ("scenario", "pl.transparency"),
            ("contact", "王经理 138 0000 0000"),
            ("message", "想了解报价"),
            ("share_level", "1"),
            ("consent", "1"),
        ]),
    ),
    spec("GET", "/leads", "/leads", Enterprise(200)),
    to(
        with(
            on(
                spec(
                    "POST",
                    "/leads/{id}/outcome",
                    "/leads/{id}/outcome",
                    Enterprise(303),
                ),
                Lead,
            ),
            Body::Form(&[("went_live", "1"), ("note", "已上线")]),
        ),
        "/leads",
    ),
    spec(
        "GET",
        "/region/supply",
        "/region/supply",
        StaffAuthority(200),
    ),
    spec(
        "GET",
        "/region/supply/export/{file}",
        "/region/supply/export/supply.csv",
        StaffAuthority(200),
    ),
    // ----- campaigns, consent, inbox (src/campaigns.rs, src/consent.rs) -----
    spec("GET", "/campaigns", "/campaigns", Staff(200)),
    spec("GET", "/campaigns/new", "/campaigns/new", Staff(200)),
    with(
        spec("POST", "/campaigns/new", "/campaigns/new", Staff(422)),
        Body::Form(&[("name", ""), ("starts_on", "x"), ("ends_on", "y")]),
    ),
    on(
        spec("GET", "/campaigns/{id}", "/campaigns/{id}", Staff(200)),
        Campaign,
    ),
    with(
        on(
            spec(
                "POST",
                "/campaigns/{id}/remind",
                "/campaigns/{id}/remind",
                Staff(422),
            ),
            Campaign,
        ),
        // An empty message: refused after the scope check, nothing sent.
        Body::Form(&[("message", " ")]),
    ),
    // A real reminder (to the stuck members of the campaign).
    to(
        with(
            on(
                spec(
                    "POST",
                    "/campaigns/{id}/remind",
                    "/campaigns/{id}/remind",
                    Staff(303),
                ),
                Campaign,
            ),
            Body::Form(&[("message", "请尽快完成评估")]),
        ),
        "/campaigns/",
    ),
    spec("GET", "/join", "/join", Public(200)),
    spec("GET", "/join/{code}", "/join/ZZZZZZZZZZZZ", Public(404)),
    spec(
        "POST",
        "/join/{code}",
        "/join/ZZZZZZZZZZZZ",
        Enterprise(404),
    ),
    spec("GET", "/privacy", "/privacy", Enterprise(200)),
    with(
        spec("POST", "/privacy/leave", "/privacy/leave", Enterprise(404)),
        // Not a member of campaign 0: nothing to withdraw.
        Body::Form(&[("campaign", "0")]),
    ),
    spec("GET", "/inbox", "/inbox", Enterprise(200)),
    spec(
        "GET",
        "/inbox/unread.json",
        "/inbox/unread.json",
        Public(200),
    ),
    to(
        on(
            spec(
                "POST",
                "/inbox/{id}/read",
                "/inbox/{id}/read",
                Enterprise(303),
            ),
            Message,
        ),
        "/inbox",
    ),
    // ----- the web import (src/imports.rs) -----
    spec("GET", "/imports", "/imports", Staff(200)),
    // A form without a file: refused (the upload itself is a multipart form, see imports.rs).
    with(
        spec("POST", "/imports", "/imports", Staff(422)),
        Body::Form(&[]),
    ),
    spec(
        "GET",
        "/imports/template.csv",
        "/imports/template.csv?lang=en",
        Staff(200),
    ),
    spec(
        "GET",
        "/imports/template.xlsx",
        "/imports/template.xlsx",
        Staff(200),
    ),
    on(
        spec("GET", "/imports/{job}", "/imports/{id}", Staff(200)),
        ImportJob,
    ),
    // The progress the page polls.
    on(
        spec(
            "GET",
            "/imports/{job}",
            "/imports/{id}?format=json",
            Staff(200),
        ),
        ImportJob,
    ),
    // ----- staff administration (src/staff.rs) -----
    spec("GET", "/admin/clusters", "/admin/clusters", Admin(200)),
    with(
        spec("POST", "/admin/clusters", "/admin/clusters", Admin(422)),
        Body::Form(&[("id", ""), ("name", ""), ("region", "")]),
    ),
    spec("GET", "/admin/staff", "/admin/staff", Admin(200)),
    with(
        spec("POST", "/admin/staff", "/admin/staff", Admin(422)),
        Body::Form(&[("email", "x"), ("password", "x"), ("role", "admin")]),
    ),
    // ----- operations (no session, no cookies) -----
    spec("GET", "/healthz", "/healthz", Public(200)),
    spec("GET", "/metrics", "/metrics", Public(200)),
    // ----- administration -----
    spec("GET", "/admin/users", "/admin/users", Admin(200)),
    spec("GET", "/admin/audit", "/admin/audit", Admin(200)),
    to(
        with(
            on(
                spec(
                    "POST",
                    "/admin/users/{id}/password",
                    "/admin/users/{id}/password",
                    Admin(303),
                ),
                User,
            ),
            // The victim's password is set to what it was, so the matrix changes nothing.
            Body::Form(&[("password", PASSWORD)]),
        ),
        "/admin/users?done=",
    ),
    // ----- account -----
    spec("GET", "/account", "/account", Session(200)),
    with(
        spec("POST", "/account/users", "/account/users", Enterprise(422)),
        Body::Form(&[
            ("email", "not an e-mail"),
            ("password", "x"),
            ("confirm", "y"),
        ]),
    ),
    // ----- assessments -----
    to(
        spec("GET", "/assess", "/assess", Enterprise(303)),
        "/assessments/",
    ),
    spec("GET", "/assessments", "/assessments", Enterprise(200)),
    to(
        with(
            on(
                spec("POST", "/assessments", "/assessments", Enterprise(303)),
                Complete,
            ),
            Body::Form(&[("copy_from", "{id}")]),
        ),
        "/assessments/",
    ),
    on(
        spec(
            "GET",
            "/assessments/compare",
            "/assessments/compare?a={id}&b={id}",
            Enterprise(200),
        ),
        Complete,
    ),
    on(
        spec(
            "GET",
            "/assessments/{id}",
            "/assessments/{id}",
            Enterprise(200),
        ),
        Complete,
    ),
    on(
        spec(
            "GET",
            "/assessments/{id}/report",
            "/assessments/{id}/report",
            Enterprise(200),
        ),
        Complete,
    ),
    on(
        spec(
            "GET",
            "/assessments/{id}/step/{n}",
            "/assessments/{id}/step/1",
            Enterprise(200),
        ),
        Draft,
    ),
    to(
        with(
            on(
                spec(
                    "POST",
                    "/assessments/{id}/step/{n}",
                    "/assessments/{id}/step/1",
                    Enterprise(303),
                ),
                Draft,
            ),
            Body::Form(STEP1),
        ),
        "/assessments/",
    ),
    to(
        on(
            spec(
                "POST",
                "/assessments/{id}/reassess",
                "/assessments/{id}/reassess",
                Enterprise(303),
            ),
            Complete,
        ),
        "/assessments/",
    ),
    // ----- JSON API: public -----
    spec(
        "GET",
        "/api/v1/openapi.json",
        "/api/v1/openapi.json",
        Public(200),
    ),
    with(
        spec("POST", "/api/v1/tokens", "/api/v1/tokens", Public(401)),
        Body::Json(r#"{"email": "nobody-{role}@example.cn", "password": "not the password"}"#),
    ),
    spec("GET", "/api/v1/scenarios", "/api/v1/scenarios", Public(200)),
    spec(
        "GET",
        "/api/v1/scenarios/{id}",
        "/api/v1/scenarios/pl.transparency",
        Public(200),
    ),
    spec("GET", "/api/v1/sectors", "/api/v1/sectors", Public(200)),
    spec("GET", "/api/v1/cases", "/api/v1/cases", Public(200)),
    spec(
        "GET",
        "/api/v1/search",
        "/api/v1/search?q=%E4%BA%A4%E6%9C%9F",
        Public(200),
    ),
    with(
        spec("POST", "/api/v1/classify", "/api/v1/classify", Public(200)),
        Body::Json(PROFILE),
    ),
    with(
        spec("POST", "/api/v1/assess", "/api/v1/assess", Public(200)),
        Body::Json(r#"{"profile": {"industry": "C3311", "employees": 85, "revenue": 32000000}}"#),
    ),
    spec(
        "ANY",
        "/api/v1/{*rest}",
        "/api/v1/no-such-thing",
        Public(404),
    ),
    // ----- JSON API: the token holder's enterprise -----
    spec(
        "GET",
        "/api/v1/assessments",
        "/api/v1/assessments",
        ApiEnterprise(200),
    ),
    with(
        on(
            spec(
                "POST",
                "/api/v1/assessments",
                "/api/v1/assessments",
                ApiEnterprise(201),
            ),
            Complete,
        ),
        Body::Json(r#"{"copy_from": {id}}"#),
    ),
    on(
        spec(
            "GET",
            "/api/v1/assessments/{id}",
            "/api/v1/assessments/{id}",
            ApiEnterprise(200),
        ),
        Complete,
    ),
    with(
        on(
            spec(
                "PUT",
                "/api/v1/assessments/{id}/profile",
                "/api/v1/assessments/{id}/profile",
                ApiEnterprise(200),
            ),
            Draft,
        ),
        Body::Json(PROFILE),
    ),
    with(
        on(
            spec(
                "PUT",
                "/api/v1/assessments/{id}/answers",
                "/api/v1/assessments/{id}/answers",
                ApiEnterprise(200),
            ),
            Draft,
        ),
        Body::Json(r#"{"network": ["shopfloor_control"]}"#),
    ),
    // Own complete assessment: 409 already_complete (404 would mean the tenant check failed).
    on(
        spec(
            "POST",
            "/api/v1/assessments/{id}/complete",
            "/api/v1/assessments/{id}/complete",
            ApiEnterprise(409),
        ),
        Complete,
    ),
    // ----- JSON API: administrators -----
    spec(
        "GET",
        "/api/v1/admin/audit",
        "/api/v1/admin/audit?offset=0&limit=5",
        ApiAdmin(200),
    ),
    on(
        spec(
            "GET",
            "/api/v1/assessments/{id}/result",
            "/api/v1/assessments/{id}/result",
            ApiEnterprise(200),
        ),
        Complete,
    ),
];

// ---------------------------------------------------------------------------------------------
// Callers and their world
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Anonymous,
    UserA,
    UserB,
    Admin,
    /// The authority of city A (Suzhou, 320500).
    AuthA,
    /// The authority of city B (Nanjing, 320100).
    AuthB,
    /// The authority of the province containing both (Jiangsu, 320000).
    AuthProvince,
    /// The authority of another province (Zhejiang, 330000): no record of the world is its.
    AuthOtherProvince,
    /// The manager of the cluster `matrix-park` in city A.
    ClusterA,
    /// An approved solution provider (home region Suzhou).
    ProviderA,
    TokenA,
    TokenB,
    TokenAdmin,
    /// The Suzhou authority's bearer token.
    TokenAuthA,
    /// Provider A's bearer token.
    TokenProviderA,
    BadToken,
}

pub const ROLES: [Role; 16] = [
    Role::Anonymous,
    Role::UserA,
    Role::UserB,
    Role::Admin,
    Role::AuthA,
    Role::AuthB,
    Role::AuthProvince,
    Role::AuthOtherProvince,
    Role::ClusterA,
    Role::ProviderA,
    Role::TokenA,
    Role::TokenB,
    Role::TokenAdmin,
    Role::TokenAuthA,
    Role::TokenProviderA,
    Role::BadToken,
];

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Anonymous => "anon",
            Role::UserA => "userA",
            Role::UserB => "userB",
            Role::Admin => "admin",
            Role::AuthA => "authA",
            Role::AuthB => "authB",
            Role::AuthProvince => "authPrv",
            Role::AuthOtherProvince => "authZJ",
            Role::ClusterA => "clustA",
            Role::ProviderA => "provA",
            Role::TokenA => "tokA",
            Role::TokenB => "tokB",
            Role::TokenAdmin => "tokAdm",
            Role::TokenAuthA => "tokAuA",
            Role::TokenProviderA => "tokPrA",
            Role::BadToken => "badTok",
        }
    }
    pub fn email(self) -> Option<&'static str> {
        match self {
            Role::UserA | Role::TokenA => Some("a@example.cn"),
            Role::UserB | Role::TokenB => Some("b@example.cn"),
            Role::Admin | Role::TokenAdmin => Some("admin@example.cn"),
            Role::AuthA | Role::TokenAuthA => Some("suzhou@gov.example.cn"),
            Role::AuthB => Some("nanjing@gov.example.cn"),
            Role::AuthProvince => Some("jiangsu@gov.example.cn"),
            Role::AuthOtherProvince => Some("zhejiang@gov.example.cn"),
            Role::ClusterA => Some("park@gov.example.cn"),
            Role::ProviderA | Role::TokenProviderA => Some("vendor-a@example.cn"),
            Role::Anonymous | Role::BadToken => None,
        }
    }
    pub fn has_session(self) -> bool {
        matches!(
            self,
            Role::UserA
                | Role::UserB
                | Role::Admin
                | Role::AuthA
                | Role::AuthB
                | Role::AuthProvince
                | Role::AuthOtherProvince
                | Role::ClusterA
                | Role::ProviderA
        )
    }
    /// Enterprise users, by session or token.
    fn is_enterprise(self) -> bool {
        matches!(
            self,
            Role::UserA | Role::UserB | Role::TokenA | Role::TokenB
        )
    }
    /// Authority and cluster users (sessions).
    fn is_staff(self) -> bool {
        matches!(
            self,
            Role::AuthA
                | Role::AuthB
                | Role::AuthProvince
                | Role::AuthOtherProvince
                | Role::ClusterA
        )
    }
}

/// The e-mail address of provider B (not a caller: it owns side B's product and lead).
const PROVIDER_B: &str = "vendor-b@example.cn";
/// The cluster of side A.
pub const CLUSTER: &str = "matrix-park";

/// Whose record `{id}` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tenant {
    /// The route takes no id.
    NotApplicable,
    A,
    B,
    /// An id that does not exist.
    Missing,
}

impl Tenant {
    fn label(self) -> &'static str {
        match self {
            Tenant::NotApplicable => "",
            Tenant::A => "A",
            Tenant::B => "B",
            Tenant::Missing => "missing",
        }
    }
}

pub const MISSING_ID: i64 = 999_999;

/// The records of one side (A or B) of the world.
#[derive(Clone, Copy, Debug)]
pub struct Records {
    pub enterprise: i64,
    /// The enterprise's first user (the caller of its side).
    pub user: i64,
    pub complete: i64,
    pub draft: i64,
    /// A second user of the enterprise (target of the administrator's password reset).
    pub colleague: i64,
    /// A = the cluster's campaign in Suzhou, B = the Nanjing authority's (see [`Target::Campaign`]).
    pub campaign: i64,
    /// The invitation code of `campaign`.
    pub invite: &'static str,
    /// The side's provider (its user id), its product and the enterprise's lead to it.
    pub provider: i64,
    pub product: i64,
    pub spare_product: i64,
    pub lead: i64,
    /// A reminder in the enterprise's inbox.
    pub message: i64,
    /// An import job of the side's city authority.
    pub import_job: i64,
}

/// A caller: its own cookie jar, maybe a bearer token, and the CSRF token its pages carry.
#[derive(Clone)]
pub struct Caller {
    pub http: reqwest::Client,
    pub csrf: String,
}

fn client(bearer: Option<&str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    if let Some(t) = bearer {
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {t}")).expect("header"),
        );
    }
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The CSRF token the caller's pages carry (a session's, or the visitor cookie's).
async fn csrf_of(app: &App, http: &reqwest::Client) -> String {
    let r = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .expect("GET /login");
    let text = r.text().await.expect("text");
    let pat = "name=\"csrf\" value=\"";
    let i = text.find(pat).expect("csrf field") + pat.len();
    let end = text[i..].find('"').expect("end of csrf");
    text[i..i + end].to_string()
}

async fn logged_in(app: &App, email: &str) -> reqwest::Client {
    let b = Browser::new(app);
    let r = b.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "login {email}: {}", r.text);
    b.http
}

/// Both sides of the world (see the module docs) and a caller of every role.
pub struct World {
    pub app: App,
    pub a: Records,
    pub b: Records,
    pub callers: BTreeMap<Role, Caller>,
}

impl World {
    /// The world on the backend of [`helpers::spawn`] (SQLite unless `SMEDX_TEST_BACKEND` says
    /// otherwise).
    pub async fn new() -> World {
        World::on(Backend::from_env()).await
    }

    pub async fn on(backend: Backend) -> World {
        let app = helpers::spawn_on(backend).await;
        let a = enterprise(&app, "Tenant A", "a@example.cn", "a2@example.cn").await;
        let b = enterprise(&app, "Tenant B", "b@example.cn", "b2@example.cn").await;
        smedx_web::ensure_admin(&app.state, Some("admin@example.cn"), Some(PASSWORD))
            .await
            .expect("admin");
        let (a, b) = regional(&app, a, b).await;
        let mut callers = BTreeMap::new();
        for role in ROLES {
            let http = match role {
                Role::Anonymous => client(None),
                Role::BadToken => client(Some(&"0".repeat(64))),
                r if r.has_session() => logged_in(&app, r.email().expect("email")).await,
                r => client(Some(&helpers::token(&app, r.email().expect("email")).await)),
            };
            let csrf = csrf_of(&app, &http).await;
            callers.insert(role, Caller { http, csrf });
        }
        World { app, a, b, callers }
    }

    /// A caller of `role` with a session of its own (for requests that end it).
    pub async fn fresh(&self, role: Role) -> Caller {
        if !role.has_session() {
            return self.callers[&role].clone();
        }
        let http = logged_in(&self.app, role.email().expect("email")).await;
        let csrf = csrf_of(&self.app, &http).await;
        Caller { http, csrf }
    }

    /// The ids `{id}` (and `{aid}`) stand for.
    pub fn target_id(&self, target: Target, tenant: Tenant) -> Ids {
        let r = match tenant {
            Tenant::A => &self.a,
            Tenant::B => &self.b,
            Tenant::Missing | Tenant::NotApplicable => return MISSING_ID.into(),
        };
        match target {
            Target::None => MISSING_ID.into(),
            Complete => r.complete.into(),
            Draft => r.draft.into(),
            User => r.colleague.into(),
            Campaign => r.campaign.into(),
            EnterpriseId => r.enterprise.into(),
            MemberAssessment => Ids {
                id: r.enterprise,
                aid: r.complete,
            },
            Product => r.product.into(),
            Lead => r.lead.into(),
            ProviderAccount => r.provider.into(),
            Message => r.message.into(),
            ImportJob => r.import_job.into(),
            AssessmentProduct => Ids {
                id: r.complete,
                aid: r.product,
            },
            SpareProduct => r.spare_product.into(),
        }
    }

    /// Sends `spec`'s request as `caller` with `{id}` = `id`; `csrf` overrides the caller's token
    /// (`Some("")` sends none).
    pub async fn send(
        &self,
        spec: &RouteSpec,
        role: Role,
        caller: &Caller,
        id: impl Into<Ids>,
        csrf: Option<&str>,
    ) -> Answer {
        let id = id.into();
        let url = spec.url(&self.app.base, id, role);
        let mut rq = caller.http.request(spec.send_method(), url);
        match spec.body {
            Body::Json(j) => {
                rq = rq
                    .header("content-type", "application/json")
                    .body(fill(j, id, role));
            }
            _ if spec.is_form_post() => {
                let token = csrf.unwrap_or(&caller.csrf);
                let mut f = Vec::new();
                if !token.is_empty() {
                    f.push(("csrf".to_string(), token.to_string()));
                }
                f.extend(spec.fields(id, role));
                rq = rq.form(&f);
            }
            Body::Form(_) => rq = rq.form(&spec.fields(id, role)),
            Body::Empty => {}
        }
        let r = rq.send().await.unwrap_or_else(|e| {
            panic!(
                "{} {} as {}: no answer ({e})",
                spec.method,
                fill(spec.path, id, role),
                role.label()
            )
        });
        Answer::read(r).await
    }
}

async fn enterprise(app: &App, name: &str, email: &str, colleague: &str) -> Records {
    let b = helpers::user(app, name, email).await;
    let complete = b.start_assessment().await;
    let done = b.complete_wizard(complete, "2").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let draft = b.start_assessment().await;
    let r = b
        .post(
            "/account",
            "/account/users",
            &[
                ("email", colleague),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "add colleague: {}", r.text);
    let store = &app.state.store;
    let colleague = store
        .user_by_email(colleague)
        .await
        .expect("store")
        .expect("colleague")
        .id;
    let user = store
        .user_by_email(email)
        .await
        .expect("store")
        .expect("user");
    Records {
        enterprise: user.enterprise_id.expect("enterprise"),
        user: user.id,
        complete,
        draft,
        colleague,
        campaign: MISSING_ID,
        invite: "",
        provider: MISSING_ID,
        product: MISSING_ID,
        spare_product: MISSING_ID,
        lead: MISSING_ID,
        message: MISSING_ID,
        import_job: MISSING_ID,
    }
}

fn audit() -> AuditCtx {
    AuditCtx::default()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn product_spec(name: &str) -> ProductSpec {
    ProductSpec {
        name: name.into(),
        description_zh: "车间透明化".into(),
        description_en: "Shop-floor transparency".into(),
        scenarios: vec!["pl.transparency".into()],
        sectors: Vec::new(),
        sizes: vec![SizeClass::Small, SizeClass::Medium],
        deployment: Deployment::Saas,
        price_model: PriceModel::PerUserMonth,
        price_min: 100.0,
        price_max: 300.0,
        golive_weeks: 4,
        references: "某五金厂".into(),
        levels: vec![2],
    }
}

/// The staff of both cities and the province, the cluster, the campaigns and their members, the
/// two providers with a product and a lead each, and a reminder in each enterprise's inbox.
async fn regional(app: &App, mut a: Records, mut b: Records) -> (Records, Records) {
    let store = app.state.store.clone();
    let now = now();
    let hash = crate::helpers::password_hash();
    store
        .create_cluster(CLUSTER, "矩阵精密制造园", "320500", now, &audit())
        .await
        .expect("cluster");
    for (role, kind, region, cluster) in [
        (Role::AuthA, StoreRole::Authority, Some("320500"), None),
        (Role::AuthB, StoreRole::Authority, Some("320100"), None),
        (
            Role::AuthProvince,
            StoreRole::Authority,
            Some("320000"),
            None,
        ),
        (
            Role::AuthOtherProvince,
            StoreRole::Authority,
            Some("330000"),
            None,
        ),
        (Role::ClusterA, StoreRole::Cluster, None, Some(CLUSTER)),
    ] {
        store
            .create_staff_user(
                &NewStaffUser {
                    email: role.email().expect("email"),
                    password_hash: &hash,
                    role: kind,
                    region_code: region,
                    cluster_id: cluster,
                    lang: None,
                },
                now,
                &audit(),
            )
            .await
            .expect("staff user");
    }
    for (r, region, cluster) in [(&a, "320506", Some(CLUSTER)), (&b, "320102", None)] {
        store
            .set_enterprise_location(
                r.enterprise,
                &EnterpriseLocation {
                    region_code: Some(region),
                    cluster_id: cluster,
                    credit_code: None,
                },
            )
            .await
            .expect("location");
    }
    let campaign = |email: &'static str, name: &'static str| {
        let store = store.clone();
        async move {
            let u = store
                .user_by_email(email)
                .await
                .expect("store")
                .expect("staff user");
            let scope = smedx_store::scope_for(&u).expect("scope");
            let new = NewCampaign {
                name: name.to_owned(),
                region_code: None,
                starts_on: "2026-01-01".into(),
                ends_on: "2099-12-31".into(),
                target_sectors: Vec::new(),
                target_level: 2,
            };
            store
                .create_campaign(&scope, u.id, &new, now, &audit())
                .await
                .expect("campaign")
        }
    };
    // The enterprises completed their assessments before joining (a minute later), and a day
    // later they are "stuck" members, which is who gets a reminder.
    let joined = now + 60;
    let suzhou = campaign(Role::AuthA.email().expect("email"), "苏州试点").await;
    let park = campaign(Role::ClusterA.email().expect("email"), "园区试点").await;
    let nanjing = campaign(Role::AuthB.email().expect("email"), "南京试点").await;
    for (enterprise, code) in [
        (a.enterprise, &suzhou.invite_code),
        (a.enterprise, &park.invite_code),
        (b.enterprise, &nanjing.invite_code),
    ] {
        store
            .join_campaign(enterprise, code, joined, &audit())
            .await
            .expect("join");
    }
    a.campaign = park.id;
    a.invite = Box::leak(park.invite_code.clone().into_boxed_str());
    b.campaign = nanjing.id;
    b.invite = Box::leak(nanjing.invite_code.clone().into_boxed_str());
    for c in [&suzhou, &nanjing] {
        store
            .send_reminders(
                &Scope::All,
                c.id,
                "请完成评估",
                0,
                joined + 86_400,
                &audit(),
            )
            .await
            .expect("reminders");
    }
    for r in [&mut a, &mut b] {
        let inbox = store
            .inbox(r.enterprise, Page::default())
            .await
            .expect("inbox");
        r.message = inbox.messages.first().expect("a reminder").id;
    }

    for (r, email, name, home) in [
        (
            &mut a,
            Role::ProviderA.email().expect("email"),
            "苏州智造服务",
            "320506",
        ),
        (&mut b, PROVIDER_B, "南京数科", "320102"),
    ] {
        let input = ProviderInput {
            name: name.into(),
            home_region: home.into(),
            regions: Vec::new(),
            contact: "400-000-0000".into(),
            certifications: String::new(),
        };
        let user = store
            .create_provider_account(email, &hash, None, &input, now, &audit())
            .await
            .expect("provider");
        store
            .decide_provider(&Scope::All, user.id, true, now, &audit())
            .await
            .expect("approve");
        let product = store
            .create_product(user.id, &product_spec(&format!("{name} MES")), now)
            .await
            .expect("product");
        let lead = NewLead {
            product_id: product.id,
            assessment_id: Some(r.complete),
            scenario: "pl.transparency".into(),
            share: Share {
                profile: false,
                level: true,
                recommendations: false,
            },
            shared: serde_json::json!({"level": 2}),
            contact: "王经理 138 0000 0000".into(),
            message: "想了解报价".into(),
        };
        let lead = store
            .create_lead(r.enterprise, r.user, &lead, now, &audit())
            .await
            .expect("lead");
        r.spare_product = store
            .create_product(user.id, &product_spec(&format!("{name} 备用")), now)
            .await
            .expect("spare product")
            .id;
        r.provider = user.id;
        r.product = product.id;
        r.lead = lead.id;
    }

    // An import job of each city authority, as the import page records it (scope key of the
    // uploader's scope, see src/imports.rs).
    for (r, role, key) in [
        (&mut a, Role::AuthA, "region:3205"),
        (&mut b, Role::AuthB, "region:3201"),
    ] {
        let user = store
            .user_by_email(role.email().expect("email"))
            .await
            .expect("store")
            .expect("staff user");
        r.import_job = store
            .create_import_job(user.id, key, "firms.xlsx", now)
            .await
            .expect("import job")
            .id;
    }
    (a, b)
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub content_type: String,
    pub text: String,
}

impl Answer {
    pub async fn read(r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let header = |n: &str| {
            r.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let location = header("location");
        let content_type = header("content-type");
        let text = r.text().await.unwrap_or_default();
        Answer {
            status,
            location,
            content_type,
            text,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

/// What one cell must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Status(u16),
    /// 303 to `/login?next=…`.
    Login,
}

impl Expect {
    fn status(self) -> u16 {
        match self {
            Expect::Status(s) => s,
            Expect::Login => 303,
        }
    }
}

/// The record is the caller's own (its enterprise's, or for a provider its own), or the route
/// takes no id.
fn owns(role: Role, tenant: Tenant) -> bool {
    match tenant {
        Tenant::NotApplicable => true,
        Tenant::A => matches!(
            role,
            Role::UserA | Role::TokenA | Role::ProviderA | Role::TokenProviderA
        ),
        Tenant::B => matches!(role, Role::UserB | Role::TokenB),
        Tenant::Missing => false,
    }
}

/// The record is in the staff caller's scope (see [`Access`]).
fn in_scope(role: Role, target: Target, tenant: Tenant) -> bool {
    if target == ImportJob {
        return match tenant {
            Tenant::NotApplicable => true,
            Tenant::Missing => false,
            Tenant::A => matches!(
                role,
                Role::Admin | Role::TokenAdmin | Role::AuthA | Role::TokenAuthA
            ),
            Tenant::B => matches!(role, Role::Admin | Role::TokenAdmin | Role::AuthB),
        };
    }
    match tenant {
        Tenant::NotApplicable => true,
        Tenant::Missing => false,
        Tenant::A => matches!(
            role,
            Role::Admin
                | Role::TokenAdmin
                | Role::AuthA
                | Role::TokenAuthA
                | Role::AuthProvince
                | Role::ClusterA
        ),
        Tenant::B => matches!(
            role,
            Role::Admin | Role::TokenAdmin | Role::AuthB | Role::AuthProvince
        ),
    }
}

pub fn expected(spec: &RouteSpec, role: Role, tenant: Tenant) -> Expect {
    use Expect::{Login, Status};
    let session = role.has_session();
    let token = matches!(
        role,
        Role::TokenA | Role::TokenB | Role::TokenAdmin | Role::TokenAuthA | Role::TokenProviderA
    );
    match spec.access {
        Public(s) => Status(s),
        Session(s) if session => Status(s),
        Enterprise(s) if role.is_enterprise() && session => {
            Status(if owns(role, tenant) { s } else { 404 })
        }
        Admin(s) if role == Role::Admin => Status(if tenant == Tenant::Missing { 404 } else { s }),
        Staff(s) if role == Role::Admin || role.is_staff() => {
            Status(if in_scope(role, spec.target, tenant) {
                s
            } else {
                404
            })
        }
        StaffAuthority(s) if role == Role::Admin || (role.is_staff() && role != Role::ClusterA) => {
            Status(if in_scope(role, spec.target, tenant) {
                s
            } else {
                404
            })
        }
        Provider(s) if role == Role::ProviderA => Status(if owns(role, tenant) { s } else { 404 }),
        Session(_) | Enterprise(_) | Admin(_) | Staff(_) | StaffAuthority(_) | Provider(_) => {
            if session {
                Status(403)
            } else {
                Login
            }
        }
        ApiEnterprise(s) if role.is_enterprise() && token => {
            Status(if owns(role, tenant) { s } else { 404 })
        }
        ApiAdmin(s) if role == Role::TokenAdmin => Status(s),
        ApiStaff(s) if matches!(role, Role::TokenAdmin | Role::TokenAuthA) => {
            Status(if in_scope(role, spec.target, tenant) {
                s
            } else {
                404
            })
        }
        ApiProvider(s) if role == Role::TokenProviderA => {
            Status(if owns(role, tenant) { s } else { 404 })
        }
        ApiEnterprise(_) | ApiAdmin(_) | ApiStaff(_) | ApiProvider(_) => {
            Status(if token { 403 } else { 401 })
        }
    }
}

/// Why an answer does not fit the cell, if it does not.
fn judge(spec: &RouteSpec, want: Expect, got: &Answer) -> Option<String> {
    if got.status != want.status() {
        return Some(format!("status {} (want {})", got.status, want.status()));
    }
    if want == Expect::Login && !got.location.starts_with("/login?next=") {
        return Some(format!("redirect to {:?}, not /login", got.location));
    }
    if let (Expect::Status(303), Some(prefix)) = (want, spec.location)
        && !got.location.starts_with(prefix)
    {
        return Some(format!("redirect to {:?}, want {prefix}…", got.location));
    }
    if spec.is_api() {
        if !got.content_type.starts_with("application/json") {
            return Some(format!("content type {:?}", got.content_type));
        }
        if got.status >= 400 {
            let code = serde_json::from_str::<serde_json::Value>(&got.text)
                .ok()
                .and_then(|v| v["code"].as_str().map(String::from));
            let want_code = match got.status {
                401 if spec.access != Public(401) => Some("unauthorized"),
                403 if matches!(spec.access, ApiEnterprise(_)) => Some("no_enterprise"),
                403 => Some("forbidden"),
                404 => Some("not_found"),
                _ => None,
            };
            match (code, want_code) {
                (None, _) => return Some("error without a JSON code".into()),
                (Some(c), Some(w)) if c != w => return Some(format!("code {c:?}, want {w:?}")),
                _ => {}
            }
        }
    } else if matches!(got.status, 403 | 404) && !got.content_type.starts_with("text/html") {
        return Some(format!("error page as {:?}", got.content_type));
    }
    None
}

fn tenants(spec: &RouteSpec) -> Vec<Tenant> {
    if spec.has_id() {
        vec![Tenant::A, Tenant::B, Tenant::Missing]
    } else {
        vec![Tenant::NotApplicable]
    }
}

pub fn route_label(spec: &RouteSpec) -> String {
    format!("{} {}", spec.method, spec.pattern)
}

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_route_every_role_own_and_other_tenant() {
    matrix(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_route_every_role_own_and_other_tenant_on_postgres() {
    if helpers::skip_postgres() {
        return;
    }
    matrix(Backend::Postgres).await;
}

async fn matrix(backend: Backend) {
    let w = World::on(backend).await;
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut cells = 0;
    for spec in ROUTES {
        for tenant in tenants(spec) {
            let id = w.target_id(spec.target, tenant);
            let mut row = Vec::new();
            for role in ROLES {
                let caller = if spec.fresh_session {
                    w.fresh(role).await
                } else {
                    w.callers[&role].clone()
                };
                let want = expected(spec, role, tenant);
                let got = w.send(spec, role, &caller, id, None).await;
                cells += 1;
                match judge(spec, want, &got) {
                    None => row.push(got.status.to_string()),
                    Some(why) => {
                        row.push(format!("{}!{}", got.status, want.status()));
                        failures.push(format!(
                            "{} {} [{}] as {}: {why}; body: {}",
                            spec.method,
                            spec.path.replace("{id}", &id.to_string()),
                            tenant.label(),
                            role.label(),
                            got.text.chars().take(160).collect::<String>()
                        ));
                    }
                }
            }
            let t = tenant.label();
            let label = if t.is_empty() {
                route_label(spec)
            } else {
                format!("{} [{t}]", route_label(spec))
            };
            rows.push((label, row));
        }
    }
    let matrix = render(&rows);
    println!("{matrix}");
    println!("{backend:?}: {cells} cells, {} wrong", failures.len());
    assert!(
        failures.is_empty(),
        "authorisation matrix on {backend:?}: {} of {cells} cells wrong (cell = got!want)\n{matrix}\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn render(rows: &[(String, Vec<String>)]) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let mut out = format!("{:width$}", "route [tenant of the id]");
    for r in ROLES {
        let _ = write!(out, " {:>8}", r.label());
    }
    out.push('\n');
    for (label, cells) in rows {
        let _ = write!(out, "{label:width$}");
        for c in cells {
            let _ = write!(out, " {c:>8}");
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The table is complete
// ---------------------------------------------------------------------------------------------

/// `(method, pattern)` of every route the source registers; `ANY` for `any(…)`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let mut files = compiled_sources();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).expect("read src").flatten() {
                files.push(e.path());
            }
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("read");
        let file = p.display().to_string();
        for unsupported in [".nest(", ".nest_service(", ".route_service("] {
            assert!(
                !text.contains(unsupported),
                "{file} uses {unsupported}: teach authz_matrix::routes_in_source to read it"
            );
        }
        if text.contains(".fallback(") {
            found.insert(("GET".to_string(), FALLBACK.to_string()));
        }
        for (i, _) in text.match_indices(".route(") {
            let args = balanced(&text[i + ".route".len()..]);
            let Some(pattern) = first_string(args) else {
                panic!("{file}: a .route( without a literal path: {args}")
            };
            for m in methods_in(args) {
                found.insert((m, pattern.clone()));
            }
        }
        for (i, _) in text.match_indices("#[utoipa::path(") {
            let args = balanced(&text[i + "#[utoipa::path".len()..]);
            let method = args
                .trim_start_matches('(')
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .to_uppercase();
            let path = args
                .find("path =")
                .and_then(|j| first_string(&args[j..]))
                .unwrap_or_else(|| panic!("{file}: utoipa::path without a path: {args}"));
            found.insert((method, path));
        }
    }
    found
}

/// `src/lib.rs` and the files and folders of the modules it declares (`mod x;`): a file that is
/// not compiled yet (a module being written) serves no route.
fn compiled_sources() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = dir.join("lib.rs");
    let text = std::fs::read_to_string(&lib).expect("read src/lib.rs");
    let mut files = vec![lib];
    for line in text.lines() {
        let line = line.trim();
        let decl = line.strip_prefix("pub ").unwrap_or(line);
        let Some(name) = decl
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'))
        else {
            continue;
        };
        for p in [dir.join(format!("{name}.rs")), dir.join(name)] {
            if p.exists() {
                files.push(p);
            }
        }
    }
    files
}

/// `(…)` at the start of `s`, parentheses balanced (string literals skipped).
fn balanced(s: &str) -> &str {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        if in_str {
            if c == '"' && prev != '\\' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '(' {
            depth += 1;
        } else if c == ')' {
            depth -= 1;
            if depth == 0 {
                return &s[..=i];
            }
        }
        prev = c;
    }
    s
}

fn first_string(s: &str) -> Option<String> {
    let start = s.find('"')? + 1;
    let end = s[start..].find('"')?;
    Some(s[start..start + end].to_string())
}

/// HTTP methods of a `.route(…)` call's method router: `get(…).post(…)`, `routing::any(…)`.
fn methods_in(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = args.as_bytes();
    for m in [
        "get", "post", "put", "delete", "patch", "head", "options", "trace", "any",
    ] {
        for (i, _) in args.match_indices(&format!("{m}(")) {
            let before = if i == 0 { b' ' } else { bytes[i - 1] };
            if before.is_ascii_alphanumeric() || before == b'_' {
                continue;
            }
            out.push(m.to_uppercase());
        }
    }
    out
}

fn table() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.pattern.to_string()))
        .collect()
}

#[test]
fn routes_in_the_source_are_all_in_the_table() {
    let source = routes_in_source();
    assert!(
        source.len() >= 30,
        "the route scanner found too little: {source:?}"
    );
    let table = table();
    let missing: Vec<String> = source
        .iter()
        .filter(|r| !table.contains(*r))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes registered in crates/smedx-web/src but missing from authz_matrix::ROUTES \
         (add a line saying who may call each): {missing:?}"
    );
    let stale: Vec<String> = table
        .iter()
        .filter(|r| !source.contains(*r))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        stale.is_empty(),
        "authz_matrix::ROUTES lists routes the source no longer has: {stale:?}"
    );
}

#[tokio::test]
async fn openapi_paths_are_all_in_the_table() {
    let app = helpers::spawn().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let table = table();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    let mut missing = Vec::new();
    for (path, ops) in paths {
        for method in ops.as_object().expect("operations").keys() {
            if matches!(method.as_str(), "parameters" | "summary" | "description") {
                continue;
            }
            let key = (method.to_uppercase(), path.clone());
            if !table.contains(&key) {
                missing.push(format!("{} {path}", key.0));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "OpenAPI operations missing from authz_matrix::ROUTES: {missing:?}"
    );
}

/// A method a route does not declare is 405, so a method added to a path without a table line
/// cannot hide behind a declared one.
#[tokio::test]
async fn undeclared_methods_are_405() {
    let w = World::new().await;
    let caller = &w.callers[&Role::UserA];
    let mut declared: BTreeMap<&str, (&RouteSpec, BTreeSet<&str>)> = BTreeMap::new();
    for s in ROUTES {
        declared
            .entry(s.pattern)
            .or_insert_with(|| (s, BTreeSet::new()))
            .1
            .insert(s.method);
    }
    let mut wrong = Vec::new();
    for (pattern, (spec, methods)) in &declared {
        if methods.contains("ANY") || *pattern == FALLBACK {
            continue;
        }
        let id = w.target_id(spec.target, Tenant::A);
        let path = spec.path.replace("{id}", &id.to_string());
        for m in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if methods.contains(m) {
                continue;
            }
            let mut rq = caller
                .http
                .request(m.parse().expect("method"), format!("{}{path}", w.app.base));
            if m == "POST" {
                rq = rq.form(&[("csrf", caller.csrf.as_str())]);
            }
            let r = rq.send().await.expect("send");
            if r.status() != StatusCode::METHOD_NOT_ALLOWED {
                wrong.push(format!("{m} {path}: {}", r.status()));
            }
        }
    }
    assert!(wrong.is_empty(), "undeclared methods answered: {wrong:#?}");
}

// ---------------------------------------------------------------------------------------------
// Every caller, every form: CSRF, overlong fields, sessions of the new roles
// ---------------------------------------------------------------------------------------------

/// A form post without the CSRF token is 403 for every caller, whatever the caller may do
/// otherwise, and changes nothing (the audit log stays as it was).
#[tokio::test]
async fn form_posts_without_the_csrf_token_are_403_for_every_caller() {
    let w = World::new().await;
    let forms: Vec<&RouteSpec> = ROUTES.iter().filter(|s| s.is_form_post()).collect();
    assert!(forms.len() >= 9, "{forms:?}");
    let before = last_audit_id(&w.app).await;
    let mut wrong = Vec::new();
    for spec in forms {
        let tenant = if spec.has_id() {
            Tenant::A
        } else {
            Tenant::NotApplicable
        };
        let id = w.target_id(spec.target, tenant);
        for role in ROLES {
            let caller = if spec.fresh_session {
                w.fresh(role).await
            } else {
                w.callers[&role].clone()
            };
            let got = w.send(spec, role, &caller, id, Some("")).await;
            if got.status != 403 {
                wrong.push(format!(
                    "POST {} as {} without a token: {}",
                    fill(spec.path, id, role),
                    role.label(),
                    got.status
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Logins of the fresh callers above are audited; nothing else may be.
    let after: Vec<String> = audit_since(&w.app, before)
        .await
        .into_iter()
        .map(|(_, action)| action)
        .filter(|a| a != "login_ok")
        .collect();
    assert!(after.is_empty(), "refused posts were audited: {after:?}");
}

/// The id of the newest audit entry (0 for none).
async fn last_audit_id(app: &App) -> i64 {
    audit_since(app, 0)
        .await
        .iter()
        .map(|(id, _)| *id)
        .max()
        .unwrap_or(0)
}

/// The audit entries (id, action) after `id`.
async fn audit_since(app: &App, id: i64) -> Vec<(i64, String)> {
    let (entries, _) = app
        .state
        .store
        .list_audit(Page {
            offset: 0,
            limit: 10_000,
        })
        .await
        .expect("audit");
    entries
        .into_iter()
        .filter(|e| e.id > id)
        .map(|e| (e.id, e.action))
        .collect()
}

/// Each text field of each form, one at a time, far over any field limit (but under the body
/// limit): a 4xx answer from the caller the route lets in, never a 5xx or a success, and nothing
/// audited (a stored change is audited). Fields holding a record id (`{id}`) are the matrix's.
#[tokio::test]
async fn overlong_fields_on_every_form_are_refused() {
    let w = World::new().await;
    let long = "字".repeat(20_000);
    let mut wrong = Vec::new();
    let mut tried = 0;
    for spec in ROUTES.iter().filter(|s| s.is_form_post()) {
        let Body::Form(fields) = spec.body else {
            continue;
        };
        let role = spec.allowed_role();
        let tenant = if spec.has_id() {
            Tenant::A
        } else {
            Tenant::NotApplicable
        };
        let id = w.target_id(spec.target, tenant);
        for (name, _) in fields.iter().filter(|(_, v)| !v.contains("{id}")) {
            let caller = w.fresh(role).await;
            let before = last_audit_id(&w.app).await;
            let mut form = vec![("csrf".to_string(), caller.csrf.clone())];
            form.extend(spec.fields(id, role).into_iter().map(|(k, v)| {
                if k == *name {
                    (k, long.clone())
                } else {
                    (k, v)
                }
            }));
            let r = caller
                .http
                .post(spec.url(&w.app.base, id, role))
                .form(&form)
                .send()
                .await
                .expect("post");
            let got = Answer::read(r).await;
            tried += 1;
            let audited: Vec<String> = audit_since(&w.app, before)
                .await
                .into_iter()
                .map(|(_, action)| action)
                .filter(|a| !a.starts_with("login"))
                .collect();
            if !(400..500).contains(&got.status) || !audited.is_empty() {
                wrong.push(format!(
                    "POST {} as {} with an overlong {name}: {} (audited: {audited:?}) {}",
                    fill(spec.path, id, role),
                    role.label(),
                    got.status,
                    got.text.chars().take(120).collect::<String>()
                ));
            }
        }
    }
    assert!(tried >= 10, "only {tried} fields tried");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Session fixation with a real session: the attacker plants its own valid (enterprise) session
/// in the browser of an authority, a cluster manager, a provider or the administrator, who then
/// logs in. The login issues a new session id; the planted one stays the attacker's enterprise
/// session and never gains the victim's role.
#[tokio::test]
async fn a_planted_session_never_gains_the_role_of_who_logs_in_with_it() {
    let w = World::new().await;
    let app = &w.app;
    for (victim, page) in [
        (Role::AuthA, "/region"),
        (Role::ClusterA, "/region"),
        (Role::AuthProvince, "/region/enterprises"),
        (Role::ProviderA, "/provider"),
        (Role::Admin, "/admin/users"),
    ] {
        // The attacker's own session, as an enterprise user.
        let attacker = Browser::new(app);
        let r = attacker.login("a@example.cn", PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let planted = r
            .cookies()
            .into_iter()
            .find_map(|c| {
                c.strip_prefix("smedx_session=")
                    .map(|v| v.split(';').next().unwrap_or("").to_string())
            })
            .expect("the attacker's session");
        let victim_http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let cookie = format!("smedx_session={planted}");
        let form_page = victim_http
            .get(format!("{}/login", app.base))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("login page");
        let text = form_page.text().await.expect("text");
        let pat = "name=\"csrf\" value=\"";
        let csrf = text
            .find(pat)
            .map(|i| {
                let rest = &text[i + pat.len()..];
                rest[..rest.find('"').unwrap_or(0)].to_string()
            })
            .expect("csrf on the login page");
        let email = victim.email().expect("email");
        let r = victim_http
            .post(format!("{}/login", app.base))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", email),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {email}");
        let issued = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("smedx_session="))
            .map(|v| v.split(';').next().unwrap_or("").to_string())
            .expect("a new session id at login");
        assert_ne!(issued, planted, "{email}: the planted session id was kept");
        // The victim's new session opens its page; the planted one does not.
        let get = |session: String| {
            let http = victim_http.clone();
            let url = format!("{}{page}", app.base);
            async move {
                http.get(url)
                    .header("cookie", format!("smedx_session={session}"))
                    .send()
                    .await
                    .expect("get")
                    .status()
            }
        };
        assert_eq!(get(issued).await, StatusCode::OK, "{email} on {page}");
        let with_planted = get(planted.clone()).await;
        assert!(
            with_planted != StatusCode::OK,
            "{page} with the planted session after {email} logged in: {with_planted}"
        );
        // It is still only the attacker's enterprise session.
        let own = attacker.get("/assessments").await;
        assert_eq!(own.status, StatusCode::OK);
    }
}

// ---------------------------------------------------------------------------------------------
// Mixed ids and withdrawn consent
// ---------------------------------------------------------------------------------------------

async fn status_of(w: &World, role: Role, path: &str) -> u16 {
    w.callers[&role]
        .http
        .get(format!("{}{path}", w.app.base))
        .send()
        .await
        .expect("get")
        .status()
        .as_u16()
}

/// A visible enterprise's id with another enterprise's assessment id is 404 for everybody, the
/// administrator included: one record's visibility never lends itself to another's.
#[tokio::test]
async fn a_visible_enterprise_does_not_open_another_enterprises_assessment() {
    let w = World::new().await;
    let (a, b) = (w.a, w.b);
    let mut wrong = Vec::new();
    for role in [
        Role::Admin,
        Role::AuthA,
        Role::AuthB,
        Role::AuthProvince,
        Role::AuthOtherProvince,
        Role::ClusterA,
    ] {
        for path in [
            format!(
                "/region/enterprises/{}/assessments/{}",
                a.enterprise, b.complete
            ),
            format!(
                "/region/enterprises/{}/assessments/{}",
                b.enterprise, a.complete
            ),
            // A draft is never shown, even of a visible member.
            format!(
                "/region/enterprises/{}/assessments/{}",
                a.enterprise, a.draft
            ),
        ] {
            let got = status_of(&w, role, &path).await;
            if got != 404 {
                wrong.push(format!("{path} as {}: {got}", role.label()));
            }
        }
    }
    // The enterprise side: its own assessment with the other side's product is fine (products
    // are public), another enterprise's assessment with its own product is not.
    let own = format!("/assessments/{}/contact/{}", a.complete, b.product);
    assert_eq!(status_of(&w, Role::UserA, &own).await, 200, "{own}");
    let other = format!("/assessments/{}/contact/{}", b.complete, a.product);
    assert_eq!(status_of(&w, Role::UserA, &other).await, 404, "{other}");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// When enterprise A leaves the campaigns it joined, the authorities and the cluster that saw it
/// through them see it no more (404, as for a missing id); the administrator still does.
#[tokio::test]
async fn withdrawn_consent_closes_the_enterprise_to_its_region_and_cluster() {
    let w = World::new().await;
    let a = w.a;
    let pages = [
        format!("/region/enterprises/{}", a.enterprise),
        format!(
            "/region/enterprises/{}/assessments/{}",
            a.enterprise, a.complete
        ),
    ];
    let seers = [Role::AuthA, Role::AuthProvince, Role::ClusterA];
    for role in seers {
        for p in &pages {
            assert_eq!(status_of(&w, role, p).await, 200, "{p} as {}", role.label());
        }
    }
    let store = &w.app.state.store;
    let joined: Vec<i64> = store
        .who_can_see(a.enterprise)
        .await
        .expect("visibility")
        .iter()
        .map(|v| v.campaign.id)
        .collect();
    assert_eq!(joined.len(), 2, "A joined two campaigns");
    let user = &w.callers[&Role::UserA];
    for campaign in joined {
        let r = user
            .http
            .post(format!("{}/privacy/leave", w.app.base))
            .form(&[
                ("csrf", user.csrf.clone()),
                ("campaign", campaign.to_string()),
            ])
            .send()
            .await
            .expect("leave");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "leave {campaign}");
    }
    for role in seers {
        for p in &pages {
            assert_eq!(
                status_of(&w, role, p).await,
                404,
                "{p} as {} after leaving",
                role.label()
            );
        }
    }
    for p in &pages {
        assert_eq!(status_of(&w, Role::Admin, p).await, 200, "{p} as admin");
    }
    // B's consent is untouched.
    let b = format!("/region/enterprises/{}", w.b.enterprise);
    assert_eq!(status_of(&w, Role::AuthB, &b).await, 200);
}

/// An authority cannot create a campaign in another city (the form says why, nothing stored);
/// the province may create one in either of its cities.
#[tokio::test]
async fn an_authority_creates_campaigns_only_in_its_own_region() {
    let w = World::new().await;
    let store = &w.app.state.store;
    let count = || async {
        store
            .campaigns(&Scope::All, Page::default())
            .await
            .expect("campaigns")
            .1
    };
    let before = count().await;
    let post = |role: Role, region: &'static str| {
        let caller = w.callers[&role].clone();
        let url = format!("{}/campaigns/new", w.app.base);
        async move {
            let r = caller
                .http
                .post(url)
                .form(&[
                    ("csrf", caller.csrf.as_str()),
                    ("name", "跨区试点"),
                    ("region", region),
                    ("starts_on", "2026-01-01"),
                    ("ends_on", "2099-12-31"),
                    ("level", "2"),
                ])
                .send()
                .await
                .expect("post");
            Answer::read(r).await
        }
    };
    let r = post(Role::AuthA, "320100").await;
    assert_eq!(r.status, 422, "Suzhou creating in Nanjing: {}", r.text);
    let r = post(Role::AuthB, "320506").await;
    assert_eq!(
        r.status, 422,
        "Nanjing creating in a Suzhou district: {}",
        r.text
    );
    assert_eq!(count().await, before, "nothing stored");
    let r = post(Role::AuthProvince, "320100").await;
    assert_eq!(r.status, 303, "the province in Nanjing: {}", r.text);
    assert_eq!(count().await, before + 1);
}

/// The lists and the enterprise export show each staff caller exactly the records of its scope:
/// the enterprises it may see individually and the campaigns of its region or cluster.
#[tokio::test]
async fn lists_and_exports_hold_only_what_the_caller_may_see() {
    let w = World::new().await;
    let text = |role: Role, path: &'static str| {
        let http = w.callers[&role].http.clone();
        let url = format!("{}{path}", w.app.base);
        async move {
            let r = http.get(url).send().await.expect("get");
            assert_eq!(r.status(), StatusCode::OK, "{path} as {}", role.label());
            r.text().await.expect("text")
        }
    };
    let mut wrong = Vec::new();
    for role in [
        Role::Admin,
        Role::AuthA,
        Role::AuthB,
        Role::AuthProvince,
        Role::AuthOtherProvince,
        Role::ClusterA,
    ] {
        for path in ["/region/enterprises", "/region/export/enterprises.csv"] {
            let t = text(role, path).await;
            for (name, tenant) in [("Tenant A", Tenant::A), ("Tenant B", Tenant::B)] {
                let want = in_scope(role, Target::Enterprise, tenant);
                if t.contains(name) != want {
                    wrong.push(format!(
                        "{path} as {}: {name} {}",
                        role.label(),
                        if want { "missing" } else { "shown" }
                    ));
                }
            }
        }
        // The Suzhou authority's own campaign is not the cluster's: only the region sees it.
        let t = text(role, "/campaigns").await;
        for (name, seen_by) in [
            (
                "苏州试点",
                &[Role::Admin, Role::AuthA, Role::AuthProvince][..],
            ),
            (
                "园区试点",
                &[Role::Admin, Role::AuthA, Role::AuthProvince, Role::ClusterA][..],
            ),
            (
                "南京试点",
                &[Role::Admin, Role::AuthB, Role::AuthProvince][..],
            ),
        ] {
            if t.contains(name) != seen_by.contains(&role) {
                wrong.push(format!("/campaigns as {}: {name}", role.label()));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A provider that is not approved (pending, or rejected) gets 403 on every provider route; its
/// workspace page (403 too) only tells it where its application stands. An account without a
/// profile may only give one.
#[tokio::test]
async fn providers_not_approved_get_403_on_every_provider_route() {
    let w = World::new().await;
    let store = &w.app.state.store;
    let mut wrong = Vec::new();
    for (email, decision) in [
        ("pending@example.cn", None),
        ("rejected@example.cn", Some(false)),
    ] {
        let input = ProviderInput {
            name: "待审服务商".into(),
            home_region: "320506".into(),
            regions: Vec::new(),
            contact: "400-000-0000".into(),
            certifications: String::new(),
        };
        let user = store
            .create_provider_account(
                email,
                &helpers::password_hash(),
                None,
                &input,
                now(),
                &audit(),
            )
            .await
            .expect("provider");
        if let Some(approve) = decision {
            store
                .decide_provider(&Scope::All, user.id, approve, now(), &audit())
                .await
                .expect("decide");
        }
        let http = logged_in(&w.app, email).await;
        let caller = Caller {
            csrf: csrf_of(&w.app, &http).await,
            http,
        };
        for spec in ROUTES.iter().filter(|s| matches!(s.access, Provider(_))) {
            let id = w.target_id(spec.target, Tenant::A);
            let got = w.send(spec, Role::ProviderA, &caller, id, None).await;
            if got.status != 403 {
                wrong.push(format!(
                    "{} {} as {email}: {} (want 403)",
                    spec.method,
                    fill(spec.path, id, Role::ProviderA),
                    got.status
                ));
            }
        }
    }
    // A provider account an administrator created has no profile yet: its workspace asks for
    // one (200) and saving it is its only other way in; everything else is 403.
    store
        .create_staff_user(
            &NewStaffUser {
                email: "made@example.cn",
                password_hash: &helpers::password_hash(),
                role: StoreRole::Provider,
                region_code: None,
                cluster_id: None,
                lang: None,
            },
            now(),
            &audit(),
        )
        .await
        .expect("provider account");
    let http = logged_in(&w.app, "made@example.cn").await;
    let caller = Caller {
        csrf: csrf_of(&w.app, &http).await,
        http,
    };
    for spec in ROUTES.iter().filter(|s| matches!(s.access, Provider(_))) {
        let id = w.target_id(spec.target, Tenant::A);
        let got = w.send(spec, Role::ProviderA, &caller, id, None).await;
        let want = match (spec.method, spec.pattern) {
            ("GET", "/provider") => 200,
            // The row's profile is invalid (an empty name).
            ("POST", "/provider/profile") => 422,
            _ => 403,
        };
        if got.status != want {
            wrong.push(format!(
                "{} {} without a profile: {} (want {want})",
                spec.method,
                fill(spec.path, id, Role::ProviderA),
                got.status
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A campaign named in the dashboards' filter is the caller's to name: another region's or
/// cluster's campaign (or a missing one) is 404 on the aggregate views and their exports, as its
/// id in a path would be. The enterprise list (which takes no campaign filter) never shows more
/// than the caller's own scope whatever the query says.
#[tokio::test]
async fn a_campaign_filter_outside_the_scope_is_404() {
    let w = World::new().await;
    let mut wrong = Vec::new();
    let views = [
        "/region",
        "/region/progress",
        "/region/export/levels.csv",
        "/region/export/participation.csv",
    ];
    for role in [
        Role::Admin,
        Role::AuthA,
        Role::AuthB,
        Role::AuthProvince,
        Role::AuthOtherProvince,
        Role::ClusterA,
    ] {
        for tenant in [Tenant::A, Tenant::B, Tenant::Missing] {
            let id = w.target_id(Target::Campaign, tenant).id;
            let want = if in_scope(role, Target::Campaign, tenant) {
                200
            } else {
                404
            };
            for view in views {
                let path = format!("{view}?campaign={id}");
                let got = status_of(&w, role, &path).await;
                if got != want {
                    wrong.push(format!("{path} as {}: {got} (want {want})", role.label()));
                }
            }
            for view in ["/region/enterprises", "/region/export/enterprises.csv"] {
                let path = format!("{view}?campaign={id}");
                let r = w.callers[&role]
                    .http
                    .get(format!("{}{path}", w.app.base))
                    .send()
                    .await
                    .expect("get");
                let text = r.text().await.expect("text");
                for (name, t) in [("Tenant A", Tenant::A), ("Tenant B", Tenant::B)] {
                    if text.contains(name) && !in_scope(role, Target::Enterprise, t) {
                        wrong.push(format!("{path} as {} shows {name}", role.label()));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Upload file names are data, never paths or markup: names with `../`, back-slashes, markup,
/// control characters or a header break get a clean answer (never 5xx), the job page shows the
/// name escaped, and no header of any answer carries what the name smuggled in.
#[tokio::test]
async fn hostile_upload_file_names_are_only_names() {
    let w = World::new().await;
    let caller = &w.callers[&Role::AuthA];
    let header_line = smedx_io::template_csv(&w.app.state.engine.kb, smedx_core::Lang::Zh);
    let mut wrong = Vec::new();
    for name in [
        "../../../../etc/passwd.csv",
        "..\\\\..\\\\windows\\\\win.ini.csv",
        "<script>alert(1)</script>.csv",
        "a\u{0}b\u{7}c.csv",
        "x.csv\r\nSet-Cookie: planted=1",
    ] {
        let form = reqwest::multipart::Form::new()
            .text("csrf", caller.csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(header_line.clone().into_bytes())
                    .file_name(name.to_owned()),
            );
        let r = caller
            .http
            .post(format!("{}/imports", w.app.base))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let got = Answer::read(r).await;
        if got.status >= 500 {
            wrong.push(format!("{name:?}: {}", got.status));
            continue;
        }
        let mut pages = vec![got];
        if pages[0].status == 303 {
            let r = caller
                .http
                .get(format!("{}{}", w.app.base, pages[0].location))
                .send()
                .await
                .expect("job page");
            let page = Answer::read(r).await;
            if page.status != 200 {
                wrong.push(format!("{name:?}: job page {}", page.status));
            }
            pages.push(page);
        }
        for p in &pages {
            if p.status >= 500
                || p.text.contains("<script>alert(1)</script>")
                || p.text.contains('\u{0}')
                || p.location.contains("planted")
            {
                wrong.push(format!("{name:?}: {} {}", p.status, p.location));
            }
        }
    }
    // Nothing the names carried reached a cookie.
    let r = caller
        .http
        .get(format!("{}/imports", w.app.base))
        .send()
        .await
        .expect("imports");
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|v| !v.to_str().unwrap_or("").contains("planted")),
        "a cookie from a file name"
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The supply–demand view counts only the enterprises located in the authority's region: the
/// contact requests per provider and the demand per scenario (CSV exports, read by their headers).
#[tokio::test]
async fn supply_and_demand_count_only_the_authoritys_region() {
    let w = World::new().await;
    // (caller, requests to provider A's and B's products, enterprises wanting pl.transparency)
    for (role, leads_a, leads_b, demand) in [
        (Role::Admin, "1", "1", "2"),
        (Role::AuthA, "1", "0", "1"),
        (Role::AuthB, "0", "1", "1"),
        (Role::AuthProvince, "1", "1", "2"),
        (Role::AuthOtherProvince, "0", "0", "0"),
    ] {
        let csv = |path: &'static str| {
            let http = w.callers[&role].http.clone();
            let url = format!("{}{path}", w.app.base);
            async move {
                let r = http.get(url).send().await.expect("export");
                assert_eq!(r.status(), StatusCode::OK, "{path} as {}", role.label());
                let text = r.text().await.expect("text");
                text.trim_start_matches('\u{feff}')
                    .lines()
                    .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            }
        };
        let cell = |rows: &[Vec<String>], key: &str, column: &str| -> String {
            let col = rows[0]
                .iter()
                .position(|h| h == column)
                .unwrap_or_else(|| panic!("no column {column} in {:?}", rows[0]));
            rows.iter()
                .find(|r| r.iter().any(|c| c == key))
                .map_or_else(|| "0".to_owned(), |r| r[col].clone())
        };
        let providers = csv("/region/supply/export/providers.csv").await;
        let supply = csv("/region/supply/export/supply.csv").await;
        let who = role.label();
        assert_eq!(
            cell(&providers, "苏州智造服务", "对接需求"),
            leads_a,
            "{who}"
        );
        assert_eq!(cell(&providers, "南京数科", "对接需求"), leads_b, "{who}");
        assert_eq!(
            cell(&supply, "pl.transparency", "需求企业数"),
            demand,
            "{who}"
        );
    }
}
