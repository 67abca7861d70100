//! Solution providers' pages: provider sign-up and approval, the provider workspace (profile,
//! products, leads), matched products on the enterprise's result page, contact requests where
//! the enterprise chooses what to share, its leads and project outcomes, and the authority's
//! supply–demand view with its export.
//!
//! Consent: a provider reaches enterprise data only through a lead, which only the enterprise
//! creates and which holds only what it chose to share (see `smedx_store::providers`). Every
//! provider route takes the provider's own id from the session, so another provider's product
//! or lead id is simply not found.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use smedx_core::kb::{KnowledgeBase, SizeClass};
use smedx_core::providers::{
    Candidate, Deployment, Need, PriceModel, ProductInput, ProductSpec, gaps, rank, segment,
    validate_product,
};
use smedx_core::recommend::Report;
use smedx_core::{Lang, Localized};
use smedx_io::export::{Cell, Table, write_csv, write_xlsx_sheets};
use smedx_store::providers::{
    CatalogueEntry, Kpi, Lead, LeadStatus, NewLead, Outcome, ProviderInput, ProviderProfile,
    ProviderStatus, Share,
};
use smedx_store::{AssessmentStatus, Page, Role, Scope, StoreError, User, scope_for};

use crate::AppState;
use crate::audit;
use crate::auth;
use crate::ctx::{self, Ctx};
use crate::error::{AppError, AppResult};
use crate::service;
use crate::wizard::FormState;

type Pairs = Vec<(String, String)>;
type Errors = BTreeMap<String, String>;

/// Leads per page.
const PAGE: i64 = 20;
/// Products shown per recommended scenario on the result page.
const TOP_MATCHES: usize = 3;
/// Recommended scenarios that get product matches (the result page's top ones).
const TOP_SCENARIOS: usize = 10;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/providers/signup", get(signup_form).post(signup))
        .route("/provider", get(workspace))
        .route("/provider/profile", post(save_profile))
        .route("/provider/products/new", get(new_product_form))
        .route("/provider/products", post(create_product))
        .route(
            "/provider/products/{id}",
            get(edit_product_form).post(update_product),
        )
        .route("/provider/products/{id}/delete", post(delete_product))
        .route("/provider/leads/{id}", get(provider_lead))
        .route("/provider/leads/{id}/status", post(lead_status))
        .route("/admin/providers", get(admin_list))
        .route("/admin/providers/{id}/decide", post(admin_decide))
        .route("/assessments/{id}/budget", post(set_budget))
        .route(
            "/assessments/{id}/contact/{product}",
            get(contact_form).post(contact),
        )
        .route("/leads", get(leads))
        .route("/leads/{id}/outcome", post(outcome))
        .route("/region/supply", get(supply))
        .route("/region/supply/export/{file}", get(supply_export))
        .layer(from_fn_with_state(state.clone(), ctx::middleware))
        .with_state(state)
}

fn page<T: Template>(status: StatusCode, t: &T) -> AppResult {
    Ok((status, Html(t.render()?)).into_response())
}

fn ok<T: Template>(t: &T) -> AppResult {
    page(StatusCode::OK, t)
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn date(secs: i64) -> String {
    crate::pages::date(secs)
}

fn scenario_name(kb: &KnowledgeBase, id: &str, l: Lang) -> String {
    kb.scenario(id)
        .map_or_else(|| id.to_owned(), |s| s.name.get(l).to_owned())
}

fn sector_name(kb: &KnowledgeBase, id: &str, l: Lang) -> String {
    kb.sector(id)
        .map_or_else(|| id.to_owned(), |s| s.name.get(l).to_owned())
}

fn region_name(code: &str, regions: &HashMap<String, Localized>, l: Lang) -> String {
    regions
        .get(code)
        .map_or_else(|| code.to_owned(), |n| format!("{} ({code})", n.get(l)))
}

/// Money as the pages show it: 万元 in Chinese (from 10 000 yuan), yuan in English.
fn money(l: Lang, x: f64) -> String {
    match l {
        Lang::Zh if x >= 10_000.0 => format!("{} 万元", trim_num(x / 10_000.0)),
        Lang::Zh => format!("{} 元", trim_num(x)),
        Lang::En => format!("CNY {}", trim_num(x)),
    }
}

fn trim_num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn price_text(c: &Ctx, spec: &ProductSpec) -> String {
    let range = if spec.price_min == spec.price_max {
        money(c.lang, spec.price_min)
    } else {
        format!(
            "{} – {}",
            money(c.lang, spec.price_min),
            money(c.lang, spec.price_max)
        )
    };
    format!(
        "{range} {}",
        c.t(&format!("prov.price_unit_{}", spec.price_model.id()))
    )
}

fn status_label(c: &Ctx, s: LeadStatus) -> String {
    c.t(&format!("prov.status_{}", s.as_str())).to_owned()
}

// ---------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------

/// The signed-in provider's profile, when it is approved; pending or rejected providers and
/// everyone else are refused.
async fn approved(st: &AppState, c: &Ctx) -> AppResult<ProviderProfile> {
    let u = c.user()?;
    if u.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    match st.store.provider_profile(u.id).await? {
        Some(p) if p.status == ProviderStatus::Approved => Ok(p),
        _ => Err(AppError::Forbidden),
    }
}

/// Administrators (everything) and authorities (their region) decide on providers and see the
/// supply–demand view.
fn overseer(c: &Ctx) -> AppResult<(&User, Scope)> {
    let u = c.user()?;
    match (u.role, scope_for(u)) {
        (Role::Admin | Role::Authority, Some(s @ (Scope::All | Scope::Region(_)))) => Ok((u, s)),
        _ => Err(AppError::Forbidden),
    }
}

async fn region_names(st: &AppState) -> HashMap<String, Localized> {
    let mut out = HashMap::new();
    if let Ok(provinces) = st.store.regions(None).await {
        for p in provinces {
            if let Ok(children) = st.store.regions(Some(&p.code)).await {
                for r in children {
                    out.insert(r.code.clone(), Localized::new(r.name_zh, r.name_en));
                }
            }
            out.insert(p.code.clone(), Localized::new(p.name_zh, p.name_en));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Provider sign-up
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "providers/signup.html")]
struct SignupTpl<'a> {
    c: &'a Ctx,
    f: FormState,
    errors: Errors,
    done: bool,
}

async fn signup_form(c: Ctx) -> AppResult {
    ok(&SignupTpl {
        c: &c,
        f: FormState::default(),
        errors: Errors::new(),
        done: false,
    })
}

/// Checks the profile fields of the sign-up and profile forms.
fn profile_input(c: &Ctx, f: &FormState, errors: &mut Errors) -> ProviderInput {
    let mut text = |field: &str, required: bool| {
        let v = f.val(field).trim().to_owned();
        if required && v.is_empty() {
            errors.insert(field.into(), c.t("errors.required").into());
        } else if v.chars().count() > smedx_store::providers::MAX_PROVIDER_TEXT {
            errors.insert(field.into(), c.t("errors.too_long").into());
        } else if service::has_control_chars(&v, true) {
            errors.insert(field.into(), c.t("errors.control_chars").into());
        }
        v
    };
    let name = text("name", true);
    let contact = text("contact", true);
    let certifications = text("certifications", false);
    let home = f.val("home_region").trim().to_owned();
    if smedx_store::scope::parse_region_code(&home).is_none() {
        errors.insert("home_region".into(), c.t("prov.err_region").into());
    }
    let regions: Vec<String> = f
        .val("regions")
        .split([',', '，', ' ', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if regions
        .iter()
        .any(|r| smedx_store::scope::parse_region_code(r).is_none())
    {
        errors.insert("regions".into(), c.t("prov.err_regions").into());
    } else if regions.len() > smedx_store::providers::MAX_REGIONS {
        errors.insert("regions".into(), c.t("errors.too_long").into());
    }
    ProviderInput {
        name,
        home_region: home,
        regions,
        contact,
        certifications,
    }
}

async fn signup(State(st): State<AppState>, c: Ctx, Form(pairs): Form<Pairs>) -> AppResult {
    let f = FormState::from_pairs(&pairs);
    let mut errors = Errors::new();
    let input = profile_input(&c, &f, &mut errors);
    let email = auth::normalize_email(f.val("email"));
    if email.is_none() {
        errors.insert("email".into(), c.t("errors.email").into());
    }
    let pw = f.val("password");
    let n = pw.chars().count();
    if n < auth::MIN_PASSWORD {
        errors.insert(
            "password".into(),
            c.tf("errors.password_short", &[("min", "10")]),
        );
    } else if n > auth::MAX_PASSWORD {
        errors.insert("password".into(), c.t("errors.too_long").into());
    } else if pw != f.val("confirm") {
        errors.insert("confirm".into(), c.t("errors.password_mismatch").into());
    }
    if let (true, Some(email)) = (errors.is_empty(), &email) {
        let hash = auth::hash_password(pw.to_string())
            .await
            .map_err(AppError::Internal)?;
        let audit = c.audit(audit::kv(&[("email", email)]));
        match st
            .store
            .create_provider_account(
                email,
                &hash,
                Some(c.lang.code()),
                &input,
                auth::now(),
                &audit,
            )
            .await
        {
            Ok(user) => {
                tracing::info!(user_id = user.id, "provider sign-up");
                return ok(&SignupTpl {
                    c: &c,
                    f: FormState::default(),
                    errors,
                    done: true,
                });
            }
            Err(StoreError::Conflict(_)) => {
                errors.insert("email".into(), c.t("errors.email_taken").into());
            }
            Err(StoreError::Invalid(_)) => {
                errors.insert("home_region".into(), c.t("prov.err_region").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut f = f;
    f.values.remove("password");
    f.values.remove("confirm");
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SignupTpl {
            c: &c,
            f,
            errors,
            done: false,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The provider workspace
// ---------------------------------------------------------------------------------------------

struct ProductRow {
    id: i64,
    name: String,
    scenarios: String,
    price: String,
    deployment: String,
}

struct LeadRow {
    id: i64,
    product: String,
    scenario: String,
    status: String,
    date: String,
    outcome: String,
}

#[derive(Template)]
#[template(path = "providers/workspace.html")]
struct WorkspaceTpl<'a> {
    c: &'a Ctx,
    /// None while the account waits for approval (or was rejected): nothing else is shown.
    approved: bool,
    status: String,
    f: FormState,
    errors: Errors,
    saved: bool,
    products: Vec<ProductRow>,
    leads: Vec<LeadRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

#[derive(Deserialize, Default)]
struct Paging {
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    saved: Option<String>,
}

fn profile_form(p: &ProviderProfile) -> FormState {
    let mut f = FormState::default();
    for (k, v) in [
        ("name", p.name.clone()),
        ("home_region", p.home_region.clone()),
        ("regions", p.regions.join(", ")),
        ("contact", p.contact.clone()),
        ("certifications", p.certifications.clone()),
    ] {
        f.values.insert(k.into(), v);
    }
    f
}

fn outcome_text(c: &Ctx, o: Option<&Outcome>) -> String {
    match o {
        None => String::new(),
        Some(o) if o.went_live => c.t("prov.outcome_live").to_owned(),
        Some(_) => c.t("prov.outcome_not_live").to_owned(),
    }
}

async fn render_workspace(
    st: &AppState,
    c: &Ctx,
    p: &ProviderProfile,
    f: FormState,
    errors: Errors,
    offset: i64,
    saved: bool,
) -> AppResult {
    let kb = &st.engine.kb;
    let approved = p.status == ProviderStatus::Approved;
    let status_key = format!("prov.account_{}", p.status.as_str());
    let (products, leads, total) = if approved {
        let products = st
            .store
            .products_of(p.user_id)
            .await?
            .into_iter()
            .map(|pr| ProductRow {
                id: pr.id,
                scenarios: pr
                    .spec
                    .scenarios
                    .iter()
                    .map(|s| scenario_name(kb, s, c.lang))
                    .collect::<Vec<_>>()
                    .join(c.t("prov.list_sep")),
                price: price_text(c, &pr.spec),
                deployment: c
                    .t(&format!("prov.deploy_{}", pr.spec.deployment.id()))
                    .to_owned(),
                name: pr.spec.name,
            })
            .collect();
        let (list, total) = st
            .store
            .provider_leads(
                p.user_id,
                Page {
                    offset,
                    limit: PAGE,
                },
            )
            .await?;
        let leads = list
            .iter()
            .map(|l| LeadRow {
                id: l.id,
                product: l.product_name.clone(),
                scenario: scenario_name(kb, &l.scenario, c.lang),
                status: status_label(c, l.status),
                date: date(l.created_at),
                outcome: outcome_text(c, l.outcome.as_ref()),
            })
            .collect();
        (products, leads, total)
    } else {
        (Vec::new(), Vec::new(), 0)
    };
    let (prev, next) = (
        (offset > 0).then(|| (offset - PAGE).max(0)),
        (offset + PAGE < total).then_some(offset + PAGE),
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        &WorkspaceTpl {
            c,
            approved,
            status: c.t(&status_key).to_owned(),
            f,
            errors,
            saved,
            products,
            leads,
            total,
            prev,
            next,
        },
    )
}

async fn workspace(State(st): State<AppState>, c: Ctx, Query(q): Query<Paging>) -> AppResult {
    let u = c.user()?;
    if u.role != Role::Provider {
        return Err(AppError::Forbidden);
    }
    let Some(p) = st.store.provider_profile(u.id).await? else {
        // An account an administrator created: it gives its profile first.
        return ok(&CompleteTpl {
            c: &c,
            f: FormState::default(),
            errors: Errors::new(),
        });
    };
    let offset = crate::pages::page_offset(q.offset);
    if p.status != ProviderStatus::Approved {
        // Waiting (or refused): the account's status and nothing else.
        let r =
            render_workspace(&st, &c, &p, FormState::default(), Errors::new(), 0, false).await?;
        let (mut parts, body) = r.into_parts();
        parts.status = StatusCode::FORBIDDEN;
        return Ok(Response::from_parts(parts, body));
    }
    render_workspace(
        &st,
        &c,
        &p,
        profile_form(&p),
        Errors::new(),
        offset,
        q.saved.is_some(),
    )
    .await
}

/// The profile form of a provider account created without one.
#[derive(Template)]
#[template(path = "providers/complete.html")]
struct CompleteTpl<'a> {
    c: &'a Ctx,
    f: FormState,
    errors: Errors,
}

/// A provider account without a profile gives one; it then waits for approval.
async fn complete_profile(st: &AppState, c: &Ctx, user: &User, pairs: &Pairs) -> AppResult {
    let f = FormState::from_pairs(pairs);
    let mut errors = Errors::new();
    let input = profile_input(c, &f, &mut errors);
    if errors.is_empty() {
        match st
            .store
            .create_provider_profile(user.id, &input, auth::now())
            .await
        {
            Ok(_) => return Ok(see_other("/provider")),
            Err(StoreError::Invalid(_)) => {
                errors.insert("home_region".into(), c.t("prov.err_region").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &CompleteTpl { c, f, errors },
    )
}

async fn save_profile(State(st): State<AppState>, c: Ctx, Form(pairs): Form<Pairs>) -> AppResult {
    let u = c.user()?;
    if u.role == Role::Provider && st.store.provider_profile(u.id).await?.is_none() {
        return complete_profile(&st, &c, u, &pairs).await;
    }
    let p = approved(&st, &c).await?;
    let f = FormState::from_pairs(&pairs);
    let mut errors = Errors::new();
    let input = profile_input(&c, &f, &mut errors);
    if errors.is_empty() {
        match st
            .store
            .update_provider_profile(p.user_id, &input, auth::now())
            .await
        {
            Ok(_) => return Ok(see_other("/provider?saved=1")),
            Err(StoreError::Invalid(_)) => {
                errors.insert("home_region".into(), c.t("prov.err_region").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    render_workspace(&st, &c, &p, f, errors, 0, false).await
}

// ---- products ---------------------------------------------------------------------------------

struct Choice {
    id: String,
    label: String,
    on: bool,
}

/// The scenarios of one domain on the product form (open when one is ticked).
struct ScenarioGroup {
    domain: String,
    open: bool,
    list: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "providers/product.html")]
struct ProductTpl<'a> {
    c: &'a Ctx,
    /// None for a new product.
    id: Option<i64>,
    f: FormState,
    errors: Errors,
    scenarios: Vec<ScenarioGroup>,
    sectors: Vec<Choice>,
    sizes: Vec<Choice>,
    deployments: Vec<Choice>,
    models: Vec<Choice>,
    levels: Vec<Choice>,
}

fn product_form(spec: &ProductSpec) -> Pairs {
    let mut p: Pairs = vec![
        ("name".into(), spec.name.clone()),
        ("description_zh".into(), spec.description_zh.clone()),
        ("description_en".into(), spec.description_en.clone()),
        ("deployment".into(), spec.deployment.id().into()),
        ("price_model".into(), spec.price_model.id().into()),
        ("price_min".into(), trim_num(spec.price_min)),
        ("price_max".into(), trim_num(spec.price_max)),
        ("golive_weeks".into(), spec.golive_weeks.to_string()),
        ("references".into(), spec.references.clone()),
    ];
    p.extend(
        spec.scenarios
            .iter()
            .map(|s| ("scenarios".into(), s.clone())),
    );
    p.extend(spec.sectors.iter().map(|s| ("sectors".into(), s.clone())));
    p.extend(spec.sizes.iter().map(|s| ("sizes".into(), s.id().into())));
    p.extend(spec.levels.iter().map(|l| ("levels".into(), l.to_string())));
    p
}

fn product_tpl<'a>(
    st: &AppState,
    c: &'a Ctx,
    id: Option<i64>,
    pairs: &Pairs,
    errors: Errors,
) -> ProductTpl<'a> {
    let kb = &st.engine.kb;
    let f = FormState::from_pairs(pairs);
    let l = c.lang;
    let mut scenarios: Vec<(String, Vec<Choice>)> = Vec::new();
    for s in &kb.scenarios {
        let domain = kb
            .domains
            .iter()
            .find(|d| d.id == s.domain)
            .map_or_else(|| s.domain.clone(), |d| d.name.get(l).to_owned());
        let choice = Choice {
            id: s.id.clone(),
            label: s.name.get(l).to_owned(),
            on: f.is("scenarios", &s.id),
        };
        match scenarios.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, list)) => list.push(choice),
            None => scenarios.push((domain, vec![choice])),
        }
    }
    let sectors = kb
        .sectors
        .iter()
        .map(|s| Choice {
            id: s.id.clone(),
            label: s.name.get(l).to_owned(),
            on: f.is("sectors", &s.id),
        })
        .collect();
    let sizes = SizeClass::ALL
        .iter()
        .map(|s| Choice {
            id: s.id().into(),
            label: s.name().get(l).to_owned(),
            on: f.is("sizes", s.id()),
        })
        .collect();
    let deployments = Deployment::ALL
        .iter()
        .map(|d| Choice {
            id: d.id().into(),
            label: c.t(&format!("prov.deploy_{}", d.id())).to_owned(),
            on: f.is("deployment", d.id()),
        })
        .collect();
    let models = PriceModel::ALL
        .iter()
        .map(|d| Choice {
            id: d.id().into(),
            label: c.t(&format!("prov.model_{}", d.id())).to_owned(),
            on: f.is("price_model", d.id()),
        })
        .collect();
    let levels = (1..=4)
        .map(|n: u8| Choice {
            id: n.to_string(),
            label: c.tf1("prov.level_n", "n", n),
            on: f.is("levels", &n.to_string()),
        })
        .collect();
    let scenarios = scenarios
        .into_iter()
        .map(|(domain, list)| ScenarioGroup {
            open: list.iter().any(|x| x.on),
            domain,
            list,
        })
        .collect();
    ProductTpl {
        c,
        id,
        f,
        errors,
        scenarios,
        sectors,
        sizes,
        deployments,
        models,
        levels,
    }
}

fn product_input(pairs: &Pairs) -> ProductInput {
    let f = FormState::from_pairs(pairs);
    ProductInput {
        name: f.val("name").into(),
        description_zh: f.val("description_zh").into(),
        description_en: f.val("description_en").into(),
        scenarios: all(pairs, "scenarios"),
        sectors: all(pairs, "sectors"),
        sizes: all(pairs, "sizes"),
        deployment: f.val("deployment").into(),
        price_model: f.val("price_model").into(),
        price_min: f.val("price_min").into(),
        price_max: f.val("price_max").into(),
        golive_weeks: f.val("golive_weeks").into(),
        references: f.val("references").into(),
        levels: all(pairs, "levels"),
    }
}

/// The product the form describes, or the form again with an error per field.
fn checked_product(st: &AppState, c: &Ctx, pairs: &Pairs) -> Result<ProductSpec, Errors> {
    validate_product(&st.engine.kb, &product_input(pairs)).map_err(|errs| {
        let mut out = Errors::new();
        for e in errs {
            let msg = e.message.get(c.lang).to_owned();
            out.entry(e.field)
                .and_modify(|m: &mut String| {
                    m.push_str(c.t("prov.list_sep"));
                    m.push_str(&msg);
                })
                .or_insert(msg);
        }
        out
    })
}

async fn new_product_form(State(st): State<AppState>, c: Ctx) -> AppResult {
    approved(&st, &c).await?;
    let defaults: Pairs = vec![
        ("deployment".into(), "saas".into()),
        ("price_model".into(), "per_user_month".into()),
    ];
    ok(&product_tpl(&st, &c, None, &defaults, Errors::new()))
}

async fn create_product(State(st): State<AppState>, c: Ctx, Form(pairs): Form<Pairs>) -> AppResult {
    let p = approved(&st, &c).await?;
    match checked_product(&st, &c, &pairs) {
        Ok(spec) => {
            st.store
                .create_product(p.user_id, &spec, auth::now())
                .await?;
            Ok(see_other("/provider#products"))
        }
        Err(errors) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &product_tpl(&st, &c, None, &pairs, errors),
        ),
    }
}

async fn edit_product_form(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    let p = approved(&st, &c).await?;
    let product = st.store.product_of(p.user_id, id).await?;
    ok(&product_tpl(
        &st,
        &c,
        Some(id),
        &product_form(&product.spec),
        Errors::new(),
    ))
}

async fn update_product(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let p = approved(&st, &c).await?;
    // Another provider's product is not found, whatever the form says.
    st.store.product_of(p.user_id, id).await?;
    match checked_product(&st, &c, &pairs) {
        Ok(spec) => {
            st.store
                .update_product(p.user_id, id, &spec, auth::now())
                .await?;
            Ok(see_other("/provider#products"))
        }
        Err(errors) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &product_tpl(&st, &c, Some(id), &pairs, errors),
        ),
    }
}

async fn delete_product(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    let p = approved(&st, &c).await?;
    st.store.delete_product(p.user_id, id, auth::now()).await?;
    Ok(see_other("/provider#products"))
}

// ---- leads (provider side) ----------------------------------------------------------------------

/// What the enterprise shared, as label/value rows, in the order of the form.
struct SharedView {
    profile: Vec<(String, String)>,
    level: Vec<(String, String)>,
    recommendations: Vec<String>,
}

fn shared_view(st: &AppState, c: &Ctx, lead: &Lead) -> SharedView {
    let kb = &st.engine.kb;
    let s = &lead.shared;
    let mut profile = Vec::new();
    if let Some(p) = s.get("profile").and_then(Value::as_object) {
        let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(v) = text("name") {
            profile.push((c.t("prov.shared_name").to_owned(), v));
        }
        if let Some(v) = text("sector") {
            profile.push((
                c.t("prov.shared_sector").to_owned(),
                sector_name(kb, &v, c.lang),
            ));
        }
        if let Some(v) = text("size")
            && let Some(size) = SizeClass::ALL.into_iter().find(|s| s.id() == v)
        {
            profile.push((
                c.t("prov.shared_size").to_owned(),
                size.name().get(c.lang).to_owned(),
            ));
        }
        if let Some(v) = p.get("employees").and_then(Value::as_f64) {
            profile.push((c.t("prov.shared_employees").to_owned(), trim_num(v)));
        }
        if let Some(v) = text("region") {
            profile.push((c.t("prov.shared_region").to_owned(), v));
        }
    }
    let mut level = Vec::new();
    if let Some(l) = s.get("level").and_then(Value::as_object) {
        if let Some(v) = l.get("level").and_then(Value::as_u64) {
            level.push((c.t("prov.shared_level").to_owned(), v.to_string()));
        }
        if let Some(v) = l.get("score").and_then(Value::as_f64) {
            level.push((c.t("prov.shared_score").to_owned(), format!("{v:.1}")));
        }
    }
    let recommendations = s
        .get("recommendations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let id = r.get("scenario").and_then(Value::as_str)?;
            let stage = r.get("stage").and_then(Value::as_u64).unwrap_or(0);
            Some(c.tf(
                "prov.shared_rec",
                &[
                    ("name", &scenario_name(kb, id, c.lang)),
                    ("stage", &stage.to_string()),
                ],
            ))
        })
        .collect();
    SharedView {
        profile,
        level,
        recommendations,
    }
}

struct StatusChoice {
    id: &'static str,
    label: String,
    on: bool,
}

#[derive(Template)]
#[template(path = "providers/lead.html")]
struct LeadTpl<'a> {
    c: &'a Ctx,
    id: i64,
    product: String,
    scenario: String,
    status: String,
    date: String,
    contact: String,
    message: String,
    shared: SharedView,
    nothing_shared: bool,
    statuses: Vec<StatusChoice>,
    outcome: String,
}

async fn provider_lead(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    let p = approved(&st, &c).await?;
    let lead = st.store.provider_lead(p.user_id, id).await?;
    let shared = shared_view(&st, &c, &lead);
    let nothing_shared =
        shared.profile.is_empty() && shared.level.is_empty() && shared.recommendations.is_empty();
    ok(&LeadTpl {
        c: &c,
        id,
        product: lead.product_name.clone(),
        scenario: scenario_name(&st.engine.kb, &lead.scenario, c.lang),
        status: status_label(&c, lead.status),
        date: date(lead.created_at),
        contact: lead.contact.clone(),
        message: lead.message.clone(),
        nothing_shared,
        shared,
        statuses: LeadStatus::ALL
            .iter()
            .map(|s| StatusChoice {
                id: s.as_str(),
                label: status_label(&c, *s),
                on: *s == lead.status,
            })
            .collect(),
        outcome: outcome_text(&c, lead.outcome.as_ref()),
    })
}

async fn lead_status(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let p = approved(&st, &c).await?;
    let f = FormState::from_pairs(&pairs);
    // An unknown status is a bad request; another provider's lead is not found.
    st.store.provider_lead(p.user_id, id).await?;
    let status = LeadStatus::parse(f.val("status")).ok_or(AppError::NotFound)?;
    st.store
        .set_lead_status(p.user_id, id, status, auth::now(), &c.audit(String::new()))
        .await?;
    Ok(see_other(&format!("/provider/leads/{id}")))
}

// ---------------------------------------------------------------------------------------------
// Approval (administrators; authorities for their region)
// ---------------------------------------------------------------------------------------------

struct ProviderRow {
    id: i64,
    name: String,
    email: String,
    home: String,
    regions: String,
    contact: String,
    certifications: String,
    status: String,
    pending: bool,
    date: String,
}

#[derive(Template)]
#[template(path = "providers/admin.html")]
struct AdminTpl<'a> {
    c: &'a Ctx,
    rows: Vec<ProviderRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn admin_list(State(st): State<AppState>, c: Ctx, Query(q): Query<Paging>) -> AppResult {
    let (_, scope) = overseer(&c)?;
    let offset = crate::pages::page_offset(q.offset);
    let (list, total) = st
        .store
        .providers_in(
            &scope,
            Page {
                offset,
                limit: PAGE,
            },
        )
        .await?;
    let names = region_names(&st).await;
    let rows = list
        .into_iter()
        .map(|p| ProviderRow {
            id: p.user_id,
            home: region_name(&p.home_region, &names, c.lang),
            regions: if p.regions.is_empty() {
                c.t("prov.nationwide").to_owned()
            } else {
                p.regions
                    .iter()
                    .map(|r| region_name(r, &names, c.lang))
                    .collect::<Vec<_>>()
                    .join(c.t("prov.list_sep"))
            },
            status: c
                .t(&format!("prov.account_{}", p.status.as_str()))
                .to_owned(),
            pending: p.status == ProviderStatus::Pending,
            date: date(p.created_at),
            name: p.name,
            email: p.email,
            contact: p.contact,
            certifications: p.certifications,
        })
        .collect();
    ok(&AdminTpl {
        c: &c,
        rows,
        total,
        prev: (offset > 0).then(|| (offset - PAGE).max(0)),
        next: (offset + PAGE < total).then_some(offset + PAGE),
    })
}

async fn admin_decide(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let (_, scope) = overseer(&c)?;
    let f = FormState::from_pairs(&pairs);
    let approve = match f.val("decision") {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::NotFound),
    };
    st.store
        .decide_provider(&scope, id, approve, auth::now(), &c.audit(String::new()))
        .await?;
    Ok(see_other("/admin/providers"))
}

// ---------------------------------------------------------------------------------------------
// The enterprise: matched products on the result page
// ---------------------------------------------------------------------------------------------

pub struct MatchRow {
    pub product_id: i64,
    pub name: String,
    pub provider: String,
    pub description: String,
    pub price: String,
    pub deployment: String,
    pub golive: String,
    pub reasons: Vec<String>,
    /// The status of the enterprise's lead about this product, if it asked already.
    pub requested: Option<String>,
}

pub struct ScenarioMatches {
    pub id: String,
    pub name: String,
    pub stage: u8,
    pub products: Vec<MatchRow>,
}

/// The "fitting products" section of the result page.
#[derive(Default)]
pub struct MatchesView {
    pub shown: bool,
    pub assessment_id: i64,
    pub groups: Vec<ScenarioMatches>,
    /// The budget used for matching, as the form shows it (万元).
    pub budget_wan: String,
    /// Whether that budget was stated here (it can be cleared) rather than in the profile.
    pub budget_stated: bool,
    /// The recommended scenarios no product delivers yet, as one line.
    pub unmatched: String,
}

/// The matches for a completed assessment of the signed-in enterprise. Never fails the result
/// page: a problem loading products leaves the section out (and is logged).
pub async fn result_matches(st: &AppState, c: &Ctx, assessment_id: i64) -> MatchesView {
    match matches(st, c, assessment_id).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(assessment_id, "matching products: {e:?}");
            MatchesView::default()
        }
    }
}

async fn matches(st: &AppState, c: &Ctx, assessment_id: i64) -> AppResult<MatchesView> {
    let ent = c.enterprise_id()?;
    let a = st.store.assessment(ent, assessment_id).await?;
    if a.status != AssessmentStatus::Complete {
        return Ok(MatchesView::default());
    }
    let report = service::stored_report(&a).map_err(|e| AppError::Internal(e.to_string()))?;
    let stated = st.store.matching_budget(ent).await?;
    let profile_budget = a.profile.get("budget").and_then(Value::as_f64);
    let budget = stated.or(profile_budget);
    let region = st.store.enterprise(ent).await?.and_then(|e| e.region_code);
    let need = Need {
        sector: report.classification.sector.clone(),
        size: Some(report.classification.size_class()),
        budget,
        region,
        level: report.assessment.as_ref().map(|x| x.level),
    };
    let recs: Vec<(String, u8)> = report
        .recommendations
        .iter()
        .take(TOP_SCENARIOS)
        .map(|r| (r.scenario.clone(), r.stage))
        .collect();
    let ids: Vec<String> = recs.iter().map(|(s, _)| s.clone()).collect();
    let catalogue = st.store.catalogue(&ids).await?;
    let (my_leads, _) = st
        .store
        .enterprise_leads(
            ent,
            Page {
                offset: 0,
                limit: 500,
            },
        )
        .await?;
    let requested: HashMap<i64, LeadStatus> =
        my_leads.iter().map(|l| (l.product_id, l.status)).collect();
    let by_id: HashMap<i64, &CatalogueEntry> =
        catalogue.iter().map(|e| (e.product.id, e)).collect();
    let candidates: Vec<Candidate> = catalogue
        .iter()
        .map(|e| Candidate {
            product_id: e.product.id,
            spec: e.product.spec.clone(),
            regions: e.provider_regions.clone(),
            outcomes: e.outcomes,
        })
        .collect();
    let kb = &st.engine.kb;
    let groups: Vec<ScenarioMatches> = recs
        .iter()
        .map(|(sid, stage)| {
            let products = rank(sid, &need, &candidates)
                .into_iter()
                .take(TOP_MATCHES)
                .filter_map(|m| {
                    let e = by_id.get(&m.product_id)?;
                    let spec = &e.product.spec;
                    Some(MatchRow {
                        product_id: m.product_id,
                        name: spec.name.clone(),
                        provider: e.provider_name.clone(),
                        description: match c.lang {
                            Lang::En if !spec.description_en.is_empty() => {
                                spec.description_en.clone()
                            }
                            _ => spec.description_zh.clone(),
                        },
                        price: price_text(c, spec),
                        deployment: c
                            .t(&format!("prov.deploy_{}", spec.deployment.id()))
                            .to_owned(),
                        golive: c.tf1("prov.golive_weeks", "n", spec.golive_weeks),
                        reasons: m.reasons.iter().map(|r| r.text(kb, c.lang)).collect(),
                        requested: requested.get(&m.product_id).map(|s| status_label(c, *s)),
                    })
                })
                .collect();
            ScenarioMatches {
                id: sid.clone(),
                name: scenario_name(kb, sid, c.lang),
                stage: *stage,
                products,
            }
        })
        .collect();
    let unmatched = groups
        .iter()
        .filter(|g: &&ScenarioMatches| g.products.is_empty())
        .map(|g| g.name.as_str())
        .collect::<Vec<_>>()
        .join(c.t("prov.list_sep"));
    Ok(MatchesView {
        unmatched,
        shown: true,
        assessment_id,
        groups,
        budget_wan: budget.map(|b| trim_num(b / 10_000.0)).unwrap_or_default(),
        budget_stated: stated.is_some(),
    })
}

async fn set_budget(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let ent = c.enterprise_id()?;
    st.store.assessment(ent, id).await?;
    let f = FormState::from_pairs(&pairs);
    let raw = f.val("budget_wan").trim().replace([',', '，'], "");
    let budget = if raw.is_empty() || f.val("clear") == "1" {
        None
    } else {
        match raw.parse::<f64>() {
            Ok(x) if x.is_finite() && (0.0..=1e7).contains(&x) => Some(x * 10_000.0),
            // A bad figure leaves the budget as it was; the page says why.
            _ => {
                return Ok(crate::error::ErrorPage::response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "prov.err_budget",
                ));
            }
        }
    };
    st.store
        .set_matching_budget(ent, budget, auth::now())
        .await?;
    Ok(see_other(&format!("/assessments/{id}#providers")))
}

// ---- contact requests ---------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ContactQuery {
    #[serde(default)]
    scenario: String,
}

#[derive(Template)]
#[template(path = "providers/contact.html")]
struct ContactTpl<'a> {
    c: &'a Ctx,
    assessment_id: i64,
    product_id: i64,
    product: String,
    provider: String,
    scenario: String,
    scenario_name: String,
    f: FormState,
    errors: Errors,
    /// Previews of what each choice would share.
    profile_preview: String,
    level_preview: String,
    recs_preview: String,
}

/// What each share choice would send, from the assessment's stored result.
fn share_parts(
    st: &AppState,
    c: &Ctx,
    report: &Report,
    profile: &Value,
    enterprise_name: &str,
    region: Option<&str>,
) -> (Value, Value, Value, [String; 3]) {
    let kb = &st.engine.kb;
    let cl = &report.classification;
    let name = profile
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(enterprise_name)
        .to_owned();
    let mut p = serde_json::Map::new();
    p.insert("name".into(), json!(name));
    if let Some(s) = &cl.sector {
        p.insert("sector".into(), json!(s));
    }
    p.insert("size".into(), json!(cl.size_class().id()));
    if let Some(e) = profile.get("employees").and_then(Value::as_f64) {
        p.insert("employees".into(), json!(e));
    }
    if let Some(r) = region {
        p.insert("region".into(), json!(r));
    }
    let level = match &report.assessment {
        Some(a) => json!({"level": a.level, "score": (a.score * 10.0).round() / 10.0}),
        None => json!({}),
    };
    let recs: Vec<Value> = report
        .recommendations
        .iter()
        .filter(|r| (1..=2).contains(&r.stage))
        .take(TOP_SCENARIOS)
        .map(|r| json!({"scenario": r.scenario, "stage": r.stage}))
        .collect();
    let sep = c.t("prov.list_sep");
    let mut pp = vec![name];
    if let Some(s) = &cl.sector {
        pp.push(sector_name(kb, s, c.lang));
    }
    pp.push(cl.size_class().name().get(c.lang).to_owned());
    let level_preview = match &report.assessment {
        Some(a) => c.tf(
            "prov.level_preview",
            &[
                ("level", &a.level.to_string()),
                ("score", &format!("{:.1}", a.score)),
            ],
        ),
        None => String::new(),
    };
    let recs_preview = recs
        .iter()
        .filter_map(|r| r.get("scenario").and_then(Value::as_str))
        .map(|s| scenario_name(kb, s, c.lang))
        .collect::<Vec<_>>()
        .join(sep);
    (
        Value::Object(p),
        level,
        Value::Array(recs),
        [pp.join(sep), level_preview, recs_preview],
    )
}

struct ContactCtx {
    entry: CatalogueEntry,
    report: Report,
    profile: Value,
    enterprise_name: String,
    region: Option<String>,
}

async fn contact_ctx(
    st: &AppState,
    c: &Ctx,
    id: i64,
    product: i64,
) -> AppResult<(i64, ContactCtx)> {
    let ent = c.enterprise_id()?;
    let a = st.store.assessment(ent, id).await?;
    if a.status != AssessmentStatus::Complete {
        return Err(AppError::NotFound);
    }
    let report = service::stored_report(&a).map_err(|e| AppError::Internal(e.to_string()))?;
    let entry = st
        .store
        .catalogue_entry(product)
        .await?
        .ok_or(AppError::NotFound)?;
    let e = st.store.enterprise(ent).await?.ok_or(AppError::NotFound)?;
    Ok((
        ent,
        ContactCtx {
            entry,
            report,
            profile: a.profile,
            enterprise_name: e.name,
            region: e.region_code,
        },
    ))
}

fn contact_tpl<'a>(
    st: &AppState,
    c: &'a Ctx,
    id: i64,
    cc: &ContactCtx,
    scenario: &str,
    f: FormState,
    errors: Errors,
) -> ContactTpl<'a> {
    let (_, _, _, previews) = share_parts(
        st,
        c,
        &cc.report,
        &cc.profile,
        &cc.enterprise_name,
        cc.region.as_deref(),
    );
    let [profile_preview, level_preview, recs_preview] = previews;
    ContactTpl {
        c,
        assessment_id: id,
        product_id: cc.entry.product.id,
        product: cc.entry.product.spec.name.clone(),
        provider: cc.entry.provider_name.clone(),
        scenario: scenario.to_owned(),
        scenario_name: scenario_name(&st.engine.kb, scenario, c.lang),
        f,
        errors,
        profile_preview,
        level_preview,
        recs_preview,
    }
}

/// The scenario a request is about: one the product delivers (the first, if the link named
/// none or another).
fn lead_scenario(entry: &CatalogueEntry, asked: &str) -> String {
    let list = &entry.product.spec.scenarios;
    if list.iter().any(|s| s == asked) {
        asked.to_owned()
    } else {
        list.first().cloned().unwrap_or_default()
    }
}

async fn contact_form(
    State(st): State<AppState>,
    c: Ctx,
    Path((id, product)): Path<(i64, i64)>,
    Query(q): Query<ContactQuery>,
) -> AppResult {
    let (_, cc) = contact_ctx(&st, &c, id, product).await?;
    let scenario = lead_scenario(&cc.entry, &q.scenario);
    let mut f = FormState::default();
    f.values.insert("contact".into(), c.email().to_owned());
    ok(&contact_tpl(&st, &c, id, &cc, &scenario, f, Errors::new()))
}

async fn contact(
    State(st): State<AppState>,
    c: Ctx,
    Path((id, product)): Path<(i64, i64)>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let (ent, cc) = contact_ctx(&st, &c, id, product).await?;
    let f = FormState::from_pairs(&pairs);
    let scenario = lead_scenario(&cc.entry, f.val("scenario"));
    let mut errors = Errors::new();
    let contact = f.val("contact").trim().to_owned();
    if contact.is_empty() {
        errors.insert("contact".into(), c.t("errors.required").into());
    } else if contact.chars().count() > smedx_store::providers::MAX_PROVIDER_TEXT {
        errors.insert("contact".into(), c.t("errors.too_long").into());
    } else if service::has_control_chars(&contact, false) {
        errors.insert("contact".into(), c.t("errors.control_chars").into());
    }
    let message = f.val("message").trim().to_owned();
    if message.chars().count() > 2000 {
        errors.insert("message".into(), c.t("errors.too_long").into());
    } else if service::has_control_chars(&message, true) {
        errors.insert("message".into(), c.t("errors.control_chars").into());
    }
    if f.val("consent") != "1" {
        errors.insert("consent".into(), c.t("prov.err_consent").into());
    }
    let share = Share {
        profile: f.val("share_profile") == "1",
        level: f.val("share_level") == "1",
        recommendations: f.val("share_recs") == "1",
    };
    if errors.is_empty() {
        let (profile, level, recs, _) = share_parts(
            &st,
            &c,
            &cc.report,
            &cc.profile,
            &cc.enterprise_name,
            cc.region.as_deref(),
        );
        // Only what was ticked goes into the copy the provider can read.
        let mut shared = serde_json::Map::new();
        if share.profile {
            shared.insert("profile".into(), profile);
        }
        if share.level {
            shared.insert("level".into(), level);
        }
        if share.recommendations {
            shared.insert("recommendations".into(), recs);
        }
        let user = c.user()?;
        let new = NewLead {
            product_id: product,
            assessment_id: Some(id),
            scenario: scenario.clone(),
            share,
            shared: Value::Object(shared),
            contact,
            message,
        };
        match st
            .store
            .create_lead(ent, user.id, &new, auth::now(), &c.audit(String::new()))
            .await
        {
            Ok(_) => return Ok(see_other("/leads?sent=1")),
            Err(StoreError::Conflict(_)) => {
                errors.insert("consent".into(), c.t("prov.err_already").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &contact_tpl(&st, &c, id, &cc, &scenario, f, errors),
    )
}

// ---- the enterprise's leads and outcomes ----------------------------------------------------------

struct KpiRow {
    name: String,
    before: String,
    after: String,
}

struct EntLeadRow {
    id: i64,
    product: String,
    provider: String,
    scenario: String,
    status: String,
    date: String,
    shared: String,
    outcome: String,
    kpis: Vec<KpiRow>,
    /// The outcome form's values (recorded ones, or as typed after an error).
    f: FormState,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "providers/leads.html")]
struct LeadsTpl<'a> {
    c: &'a Ctx,
    rows: Vec<EntLeadRow>,
    sent: bool,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

#[derive(Deserialize, Default)]
struct LeadsQuery {
    #[serde(default)]
    offset: i64,
    #[serde(default)]
    sent: Option<String>,
}

/// Up to three KPI rows on the outcome form.
const KPI_ROWS: usize = 3;

fn outcome_form(c: &Ctx, o: Option<&Outcome>) -> FormState {
    let mut f = FormState::default();
    let defaults: [&str; KPI_ROWS] = ["prov.kpi_pass_rate", "prov.kpi_on_time", "prov.kpi_energy"];
    for (i, default) in defaults.iter().enumerate() {
        let k = o.and_then(|o| o.kpis.get(i));
        let name = k.map_or_else(|| c.t(default).to_owned(), |k| k.name.clone());
        f.values.insert(format!("kpi{i}_name"), name);
        f.values.insert(
            format!("kpi{i}_before"),
            k.map(|k| trim_num(k.before)).unwrap_or_default(),
        );
        f.values.insert(
            format!("kpi{i}_after"),
            k.map(|k| trim_num(k.after)).unwrap_or_default(),
        );
    }
    if let Some(o) = o {
        f.select("went_live", if o.went_live { "1" } else { "0" });
        f.values.insert("note".into(), o.note.clone());
    }
    f
}

fn ent_row(st: &AppState, c: &Ctx, l: &Lead, f: Option<FormState>, errors: Errors) -> EntLeadRow {
    let mut shared = Vec::new();
    if l.share.profile {
        shared.push(c.t("prov.share_profile_short"));
    }
    if l.share.level {
        shared.push(c.t("prov.share_level_short"));
    }
    if l.share.recommendations {
        shared.push(c.t("prov.share_recs_short"));
    }
    let shared = if shared.is_empty() {
        c.t("prov.shared_contact_only").to_owned()
    } else {
        shared.join(c.t("prov.list_sep"))
    };
    EntLeadRow {
        id: l.id,
        product: l.product_name.clone(),
        provider: l.provider_name.clone(),
        scenario: scenario_name(&st.engine.kb, &l.scenario, c.lang),
        status: status_label(c, l.status),
        date: date(l.created_at),
        shared,
        outcome: outcome_text(c, l.outcome.as_ref()),
        kpis: l
            .outcome
            .iter()
            .flat_map(|o| o.kpis.iter())
            .map(|k| KpiRow {
                name: k.name.clone(),
                before: trim_num(k.before),
                after: trim_num(k.after),
            })
            .collect(),
        f: f.unwrap_or_else(|| outcome_form(c, l.outcome.as_ref())),
        errors,
    }
}

async fn render_leads(
    st: &AppState,
    c: &Ctx,
    offset: i64,
    sent: bool,
    failed: Option<(i64, FormState, Errors)>,
) -> AppResult {
    let ent = c.enterprise_id()?;
    let (list, total) = st
        .store
        .enterprise_leads(
            ent,
            Page {
                offset,
                limit: PAGE,
            },
        )
        .await?;
    let mut failed = failed;
    let status = if failed.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let rows = list
        .iter()
        .map(|l| match failed.take_if(|(id, _, _)| *id == l.id) {
            Some((_, f, errors)) => ent_row(st, c, l, Some(f), errors),
            None => ent_row(st, c, l, None, Errors::new()),
        })
        .collect();
    page(
        status,
        &LeadsTpl {
            c,
            rows,
            sent,
            total,
            prev: (offset > 0).then(|| (offset - PAGE).max(0)),
            next: (offset + PAGE < total).then_some(offset + PAGE),
        },
    )
}

async fn leads(State(st): State<AppState>, c: Ctx, Query(q): Query<LeadsQuery>) -> AppResult {
    render_leads(
        &st,
        &c,
        crate::pages::page_offset(q.offset),
        q.sent.is_some(),
        None,
    )
    .await
}

fn figure(raw: &str) -> Option<Result<f64, ()>> {
    let t = raw.trim().replace([',', '，', '%'], "");
    if t.is_empty() {
        return None;
    }
    Some(match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x.abs() <= service::MAX_FIGURE => Ok(x),
        _ => Err(()),
    })
}

async fn outcome(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let ent = c.enterprise_id()?;
    st.store.enterprise_lead(ent, id).await?;
    let f = FormState::from_pairs(&pairs);
    let mut errors = Errors::new();
    let went_live = match f.val("went_live") {
        "1" => Some(true),
        "0" => Some(false),
        _ => {
            errors.insert("went_live".into(), c.t("prov.err_went_live").into());
            None
        }
    };
    let mut kpis = Vec::new();
    for i in 0..KPI_ROWS {
        let name = f.val(&format!("kpi{i}_name")).trim().to_owned();
        let before = figure(f.val(&format!("kpi{i}_before")));
        let after = figure(f.val(&format!("kpi{i}_after")));
        match (before, after) {
            (None, None) => {}
            (Some(Ok(b)), Some(Ok(a))) => {
                if name.is_empty()
                    || name.chars().count() > 100
                    || service::has_control_chars(&name, false)
                {
                    errors.insert(format!("kpi{i}"), c.t("prov.err_kpi_name").into());
                } else {
                    kpis.push(Kpi {
                        name,
                        before: b,
                        after: a,
                    });
                }
            }
            _ => {
                errors.insert(format!("kpi{i}"), c.t("prov.err_kpi").into());
            }
        }
    }
    let note = f.val("note").trim().to_owned();
    if note.chars().count() > 2000 {
        errors.insert("note".into(), c.t("errors.too_long").into());
    } else if service::has_control_chars(&note, true) {
        errors.insert("note".into(), c.t("errors.control_chars").into());
    }
    if let (true, Some(went_live)) = (errors.is_empty(), went_live) {
        let o = Outcome {
            went_live,
            kpis,
            note,
            recorded_at: auth::now(),
        };
        st.store
            .record_outcome(ent, id, &o, &c.audit(String::new()))
            .await?;
        return Ok(see_other(&format!("/leads#lead-{id}")));
    }
    render_leads(&st, &c, 0, false, Some((id, f, errors))).await
}

// ---------------------------------------------------------------------------------------------
// The authority's supply–demand view
// ---------------------------------------------------------------------------------------------

struct GapView {
    id: String,
    name: String,
    demand: u32,
    products: u32,
    providers: u32,
    covered: u32,
    uncovered: u32,
    gap: bool,
}

struct StatView {
    name: String,
    products: i64,
    leads: i64,
    won: i64,
    lost: i64,
    outcomes: i64,
    went_live: i64,
}

#[derive(Template)]
#[template(path = "providers/supply.html")]
struct SupplyTpl<'a> {
    c: &'a Ctx,
    region: String,
    enterprises: usize,
    gaps: Vec<GapView>,
    stats: Vec<StatView>,
    sectors: Vec<Choice>,
    sizes: Vec<Choice>,
    /// The segment's query string for the export links ("" or "?sector=…&size=…").
    query: String,
}

/// A segment of the supply–demand view: a sub-sector and/or a size class.
#[derive(Deserialize, Default)]
struct SegmentQuery {
    #[serde(default)]
    sector: String,
    #[serde(default)]
    size: String,
}

/// The segment asked for; Err for an unknown sub-sector or size class.
fn segment_of(
    kb: &KnowledgeBase,
    q: &SegmentQuery,
) -> Result<(Option<String>, Option<SizeClass>), AppError> {
    let sector = match q.sector.trim() {
        "" => None,
        s if kb.sector(s).is_some() => Some(s.to_owned()),
        _ => return Err(AppError::NotFound),
    };
    let size = match q.size.trim() {
        "" => None,
        s => Some(
            SizeClass::ALL
                .into_iter()
                .find(|c| c.id() == s)
                .ok_or(AppError::NotFound)?,
        ),
    };
    Ok((sector, size))
}

struct SupplyData {
    region: String,
    enterprises: usize,
    gaps: Vec<GapView>,
    stats: Vec<StatView>,
}

async fn supply_data(st: &AppState, c: &Ctx, q: &SegmentQuery) -> AppResult<SupplyData> {
    let (u, scope) = overseer(c)?;
    let kb = &st.engine.kb;
    let (sector, size) = segment_of(kb, q)?;
    let (demand, supply) = st.store.supply_demand(&scope).await?;
    let (demand, supply) = segment(&demand, &supply, sector.as_deref(), size);
    let gaps = gaps(&demand, &supply)
        .into_iter()
        .map(|g| GapView {
            name: scenario_name(kb, &g.scenario, c.lang),
            gap: g.uncovered > 0,
            id: g.scenario,
            demand: g.demand,
            products: g.products,
            providers: g.providers,
            covered: g.covered,
            uncovered: g.uncovered,
        })
        .collect();
    let stats = st
        .store
        .provider_stats(&scope)
        .await?
        .into_iter()
        .map(|s| StatView {
            name: s.name,
            products: s.products,
            leads: s.leads,
            won: s.won,
            lost: s.lost,
            outcomes: s.outcomes,
            went_live: s.went_live,
        })
        .collect();
    let region = match (&scope, &u.region_code) {
        (Scope::Region(_), Some(code)) => match st.store.region(code).await? {
            Some(r) => format!(
                "{} ({code})",
                Localized::new(r.name_zh, r.name_en).get(c.lang)
            ),
            None => code.clone(),
        },
        _ => c.t("prov.all_regions").to_owned(),
    };
    Ok(SupplyData {
        region,
        enterprises: demand.len(),
        gaps,
        stats,
    })
}

async fn supply(State(st): State<AppState>, c: Ctx, Query(q): Query<SegmentQuery>) -> AppResult {
    let d = supply_data(&st, &c, &q).await?;
    let kb = &st.engine.kb;
    let sectors = kb
        .sectors
        .iter()
        .map(|s| Choice {
            id: s.id.clone(),
            label: s.name.get(c.lang).to_owned(),
            on: q.sector == s.id,
        })
        .collect();
    let sizes = SizeClass::ALL
        .iter()
        .map(|s| Choice {
            id: s.id().into(),
            label: s.name().get(c.lang).to_owned(),
            on: q.size == s.id(),
        })
        .collect();
    let pairs: Vec<(&str, &str)> = [("sector", q.sector.as_str()), ("size", q.size.as_str())]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let query = if pairs.is_empty() {
        String::new()
    } else {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        ser.extend_pairs(pairs);
        format!("?{}", ser.finish())
    };
    ok(&SupplyTpl {
        c: &c,
        region: d.region,
        enterprises: d.enterprises,
        gaps: d.gaps,
        stats: d.stats,
        sectors,
        sizes,
        query,
    })
}

fn tables(c: &Ctx, d: &SupplyData) -> [Table; 2] {
    let col = |id: &str| (id.to_owned(), c.t(&format!("prov.col_{id}")).to_owned());
    let mut gaps = Table::new(
        c.t("prov.sheet_gaps"),
        vec![
            col("scenario_id"),
            col("scenario"),
            col("demand"),
            col("products"),
            col("providers"),
            col("covered"),
            col("uncovered"),
        ],
    );
    gaps.rows = d
        .gaps
        .iter()
        .map(|g| {
            vec![
                Cell::text(&g.id),
                Cell::text(&g.name),
                Cell::Int(g.demand.into()),
                Cell::Int(g.products.into()),
                Cell::Int(g.providers.into()),
                Cell::Int(g.covered.into()),
                Cell::Int(g.uncovered.into()),
            ]
        })
        .collect();
    let mut stats = Table::new(
        c.t("prov.sheet_providers"),
        vec![
            col("provider"),
            col("products"),
            col("leads"),
            col("won"),
            col("lost"),
            col("outcomes"),
            col("went_live"),
        ],
    );
    stats.rows = d
        .stats
        .iter()
        .map(|s| {
            vec![
                Cell::text(&s.name),
                Cell::Int(s.products),
                Cell::Int(s.leads),
                Cell::Int(s.won),
                Cell::Int(s.lost),
                Cell::Int(s.outcomes),
                Cell::Int(s.went_live),
            ]
        })
        .collect();
    [gaps, stats]
}

async fn supply_export(
    State(st): State<AppState>,
    c: Ctx,
    Path(file): Path<String>,
    Query(q): Query<SegmentQuery>,
) -> AppResult {
    let d = supply_data(&st, &c, &q).await?;
    let [gap_table, stat_table] = tables(&c, &d);
    let (body, mime, name) = match file.as_str() {
        "supply.csv" => {
            let mut out = Vec::new();
            write_csv(&gap_table, &mut out).map_err(|e| AppError::Internal(e.to_string()))?;
            (out, "text/csv; charset=utf-8", "supply.csv")
        }
        "providers.csv" => {
            let mut out = Vec::new();
            write_csv(&stat_table, &mut out).map_err(|e| AppError::Internal(e.to_string()))?;
            (out, "text/csv; charset=utf-8", "providers.csv")
        }
        "supply.xlsx" => (
            write_xlsx_sheets(&[gap_table, stat_table])
                .map_err(|e| AppError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "supply.xlsx",
        ),
        _ => return Err(AppError::NotFound),
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
