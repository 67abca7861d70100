//! Staff administration (administrators only): `/admin/clusters` (industrial clusters and parks,
//! each in a region) and `/admin/staff` (authority, cluster and provider accounts: an authority
//! belongs to a region, a cluster user to a cluster). Both are written with their audit entries
//! by the store.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use serde::Deserialize;
use smedx_store::regional::NewStaffUser;
use smedx_store::{Page, Role, Scope, StoreError};

use crate::AppState;
use crate::auth;
use crate::campaigns::pager;
use crate::ctx::{self, Ctx};
use crate::error::AppResult;
use crate::pages::{date, page_offset};

const STAFF_PAGE: i64 = 50;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/admin/clusters", get(clusters).post(create_cluster))
        .route("/admin/staff", get(staff_list).post(create_staff))
        .layer(from_fn_with_state(state.clone(), ctx::middleware))
        .with_state(state)
}

type Errors = BTreeMap<&'static str, String>;

fn one(pairs: &[(String, String)], k: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// A six-digit code whose province is on the region list (counties need no row of their own).
async fn known_region(st: &AppState, code: &str) -> AppResult<bool> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let province = format!("{}0000", &code[..2]);
    Ok(st.store.region(&province).await?.is_some())
}

// ---- clusters ----------------------------------------------------------------------------------------

struct ClusterRow {
    id: String,
    name: String,
    region: String,
    created: String,
}

#[derive(Template)]
#[template(path = "staff/clusters.html")]
struct ClustersTpl<'a> {
    c: &'a Ctx,
    rows: Vec<ClusterRow>,
    f: BTreeMap<&'static str, String>,
    errors: Errors,
    done: Option<String>,
}

impl ClustersTpl<'_> {
    fn val(&self, k: &str) -> &str {
        self.f.get(k).map_or("", String::as_str)
    }
    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map_or("", String::as_str)
    }
}

#[derive(Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
    #[serde(default)]
    offset: i64,
}

async fn clusters_page(
    st: &AppState,
    c: &Ctx,
    f: BTreeMap<&'static str, String>,
    errors: Errors,
    done: Option<String>,
) -> AppResult {
    let rows = st
        .store
        .clusters(&Scope::All)
        .await?
        .into_iter()
        .map(|k| ClusterRow {
            id: k.id,
            name: k.name,
            region: k.region_code,
            created: date(k.created_at),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let t = ClustersTpl {
        c,
        rows,
        f,
        errors,
        done,
    };
    Ok((status, Html(t.render()?)).into_response())
}

async fn clusters(State(st): State<AppState>, c: Ctx, Query(q): Query<DoneQuery>) -> AppResult {
    c.require_admin()?;
    clusters_page(&st, &c, BTreeMap::new(), Errors::new(), q.done).await
}

async fn create_cluster(
    State(st): State<AppState>,
    c: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult {
    c.require_admin()?;
    let mut f = BTreeMap::new();
    for k in ["id", "name", "region"] {
        f.insert(k, one(&pairs, k));
    }
    let mut errors = Errors::new();
    let id = f["id"].clone();
    let id_ok = !id.is_empty()
        && id.chars().count() <= smedx_store::regional::MAX_CLUSTER_ID_CHARS
        && id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !id_ok {
        errors.insert("id", c.t("staff.err_cluster_id").to_string());
    }
    let name = f["name"].clone();
    if name.is_empty()
        || name.chars().count() > smedx_store::regional::MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        errors.insert("name", c.t("staff.err_cluster_name").to_string());
    }
    let region = f["region"].clone();
    if !known_region(&st, &region).await? {
        errors.insert("region", c.t("staff.err_region").to_string());
    }
    if errors.is_empty() {
        let audit = c.audit(crate::audit::kv(&[("name", &name)]));
        match st
            .store
            .create_cluster(&id, &name, &region, auth::now(), &audit)
            .await
        {
            Ok(k) => {
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair("done", &k.id)
                    .finish();
                return Ok(Redirect::to(&format!("/admin/clusters?{q}")).into_response());
            }
            Err(StoreError::Conflict(_)) => {
                errors.insert("id", c.t("staff.err_cluster_taken").to_string());
            }
            Err(StoreError::Invalid(_)) => {
                errors.insert("region", c.t("staff.err_region").to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    clusters_page(&st, &c, f, errors, None).await
}

// ---- staff accounts ----------------------------------------------------------------------------------

struct StaffRow {
    id: i64,
    email: String,
    role: String,
    place: String,
    created: String,
}

struct Opt {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "staff/staff.html")]
struct StaffTpl<'a> {
    c: &'a Ctx,
    rows: Vec<StaffRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
    clusters: Vec<Opt>,
    roles: Vec<Opt>,
    f: BTreeMap<&'static str, String>,
    errors: Errors,
    done: Option<String>,
    min_password: usize,
}

impl StaffTpl<'_> {
    fn val(&self, k: &str) -> &str {
        self.f.get(k).map_or("", String::as_str)
    }
    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map_or("", String::as_str)
    }
}

async fn staff_page(
    st: &AppState,
    c: &Ctx,
    offset: i64,
    f: BTreeMap<&'static str, String>,
    errors: Errors,
    done: Option<String>,
) -> AppResult {
    let (users, total) = st
        .store
        .staff_users(Page {
            offset,
            limit: STAFF_PAGE,
        })
        .await?;
    let rows = users
        .into_iter()
        .map(|u| StaffRow {
            id: u.id,
            email: u.email,
            role: c.t(&format!("staff.role_{}", u.role.as_str())).to_string(),
            place: u.cluster_id.or(u.region_code).unwrap_or_default(),
            created: date(u.created_at),
        })
        .collect();
    let clusters = st
        .store
        .clusters(&Scope::All)
        .await?
        .into_iter()
        .map(|k| Opt {
            label: format!("{} ({})", k.name, k.id),
            value: k.id,
        })
        .collect();
    let (prev, next) = pager(offset, STAFF_PAGE, total);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let t = StaffTpl {
        c,
        rows,
        total,
        prev,
        next,
        clusters,
        roles: [
            ("authority", "staff.role_authority"),
            ("cluster", "staff.role_cluster"),
            ("provider", "staff.role_provider"),
        ]
        .into_iter()
        .map(|(value, key)| Opt {
            value: value.to_owned(),
            label: c.t(key).to_string(),
        })
        .collect(),
        f,
        errors,
        done,
        min_password: auth::MIN_PASSWORD,
    };
    Ok((status, Html(t.render()?)).into_response())
}

async fn staff_list(State(st): State<AppState>, c: Ctx, Query(q): Query<DoneQuery>) -> AppResult {
    c.require_admin()?;
    staff_page(
        &st,
        &c,
        page_offset(q.offset),
        BTreeMap::new(),
        Errors::new(),
        q.done,
    )
    .await
}

async fn create_staff(
    State(st): State<AppState>,
    c: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult {
    c.require_admin()?;
    let mut f = BTreeMap::new();
    for k in ["email", "role", "region", "cluster"] {
        f.insert(k, one(&pairs, k));
    }
    let password = pairs
        .iter()
        .find(|(n, _)| n == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut errors = Errors::new();
    let email = auth::normalize_email(&f["email"]);
    if email.is_none() {
        errors.insert("email", c.t("staff.err_email").to_string());
    }
    if password.chars().count() < auth::MIN_PASSWORD {
        errors.insert(
            "password",
            c.tf1("staff.err_password", "min", auth::MIN_PASSWORD),
        );
    }
    let role = match f["role"].as_str() {
        "authority" => Some(Role::Authority),
        "cluster" => Some(Role::Cluster),
        "provider" => Some(Role::Provider),
        _ => None,
    };
    match role {
        None => {
            errors.insert("role", c.t("staff.err_role").to_string());
        }
        Some(Role::Authority) => {
            if !known_region(&st, &f["region"]).await? {
                errors.insert("region", c.t("staff.err_region").to_string());
            }
        }
        Some(Role::Cluster) => {
            let known = st
                .store
                .clusters(&Scope::All)
                .await?
                .iter()
                .any(|k| k.id == f["cluster"]);
            if !known {
                errors.insert("cluster", c.t("staff.err_cluster").to_string());
            }
        }
        Some(_) => {}
    }
    if let (true, Some(email), Some(role)) = (errors.is_empty(), email, role) {
        let hash = auth::hash_password(password)
            .await
            .map_err(crate::error::AppError::Internal)?;
        let new = NewStaffUser {
            email: &email,
            password_hash: &hash,
            role,
            region_code: (role == Role::Authority).then_some(f["region"].as_str()),
            cluster_id: (role == Role::Cluster).then_some(f["cluster"].as_str()),
            lang: None,
        };
        let audit = c.audit(crate::audit::kv(&[("email", &email)]));
        match st.store.create_staff_user(&new, auth::now(), &audit).await {
            Ok(u) => {
                let q = form_urlencoded::Serializer::new(String::new())
                    .append_pair("done", &u.email)
                    .finish();
                return Ok(Redirect::to(&format!("/admin/staff?{q}")).into_response());
            }
            Err(StoreError::Conflict(_)) => {
                errors.insert("email", c.t("staff.err_email_taken").to_string());
            }
            Err(StoreError::Invalid(m)) => {
                tracing::warn!("staff account refused by the store: {m}");
                errors.insert("role", c.t("staff.err_role").to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    staff_page(&st, &c, 0, f, errors, None).await
}
