//! HTML pages. Every handler: parse, call the engine or the store, render a template.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use smedx_core::Lang;
use smedx_core::assessment::QuestionKind;
use smedx_core::kb::KnowledgeBase;
use smedx_store::{Assessment, AssessmentStatus, AuditAction, AuditRecord, Page, StoreError, User};

use crate::AppState;
use crate::audit;
use crate::auth::{self, SESSION_COOKIE};
use crate::ctx::{self, Ctx};
use crate::error::{AppError, AppResult};
use crate::service::{self, ServiceError};
use crate::view::{self, CompareView, ResultView, highlight};
use crate::wizard::{self, FormState};

type Pairs = Vec<(String, String)>;
type Errors = BTreeMap<String, String>;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
        .route("/signup", get(signup_form).post(signup))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/setup/{token}", get(setup_form).post(setup))
        .route("/admin/users", get(admin_users))
        .route("/admin/users/{id}/password", post(admin_reset))
        .route("/admin/audit", get(admin_audit))
        .route("/account", get(account))
        .route("/account/users", post(add_colleague))
        .route("/assess", get(assess_start))
        .route("/assessments", get(history).post(create_assessment))
        .route("/assessments/compare", get(compare))
        .route("/assessments/{id}", get(result))
        .route("/assessments/{id}/report", get(report))
        .route("/assessments/{id}/step/{n}", get(step_form).post(step_save))
        .route("/assessments/{id}/reassess", post(reassess))
        .route("/scenarios", get(scenarios))
        .route("/scenarios/{id}", get(scenario))
        .route("/sectors", get(sectors))
        .route("/cases", get(cases))
        .fallback(not_found)
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

/// Only local paths, so `next` cannot send a user to another site: one "/" followed by anything
/// but "/" or "\\", printable ASCII only (no spaces, tabs, line breaks or NUL: browsers drop tabs
/// and line breaks from URLs, so `/\t/host` would become `//host`; CR, LF and NUL cannot go
/// into a header) and no "\\" anywhere. Paths this application links to are percent-encoded.
fn safe_next(next: Option<&str>, default: &str) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => default.to_string(),
    }
}

fn is_local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && n.chars().all(|c| c.is_ascii_graphic() && c != '\\')
}

/// Largest offset a paged list accepts (a larger one shows an empty page), so that paging
/// arithmetic cannot overflow.
pub const MAX_OFFSET: i64 = 1_000_000_000;

/// An offset from a query string, within `0..=MAX_OFFSET`.
pub fn page_offset(raw: i64) -> i64 {
    raw.clamp(0, MAX_OFFSET)
}

/// The previous and next page's offsets around `offset`, pages of `size` out of `total`.
fn prev_next(offset: i64, size: i64, total: i64) -> (Option<i64>, Option<i64>) {
    let next = offset.saturating_add(size);
    (
        (offset > 0).then(|| offset.saturating_sub(size).max(0)),
        (next < total).then_some(next),
    )
}

/// "2026-11-26" from Unix seconds (UTC).
pub fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

async fn not_found() -> AppError {
    AppError::NotFound
}

// ---------------------------------------------------------------------------------------------
// Error page (rendered by the middleware)
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorTpl<'a> {
    pub c: &'a Ctx,
    pub status: u16,
    pub message: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Home and search
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTpl<'a> {
    c: &'a Ctx,
}

async fn home(c: Ctx) -> AppResult {
    ok(&HomeTpl { c: &c })
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

struct CaseHit {
    company: String,
    did_html: String,
}

struct SearchHit {
    id: String,
    name_html: String,
    problem_html: String,
    words_html: String,
    cases: Vec<CaseHit>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchTpl<'a> {
    c: &'a Ctx,
    q: String,
    q_html: String,
    hits: Vec<SearchHit>,
}

pub const MAX_QUERY: usize = 500;

async fn search(State(st): State<AppState>, c: Ctx, Query(sq): Query<SearchQuery>) -> AppResult {
    let q: String = sq.q.chars().take(MAX_QUERY).collect();
    let kb = &st.engine.kb;
    let l = c.lang;
    let raw = st.engine.index.search(kb, &q);
    let mut all_words: Vec<String> = Vec::new();
    let hits = raw
        .iter()
        .take(10)
        .filter_map(|h| {
            let s = kb.scenario(&h.scenario)?;
            all_words.extend(h.matched.iter().cloned());
            let m = &h.matched;
            Some(SearchHit {
                id: s.id.clone(),
                name_html: highlight(s.name.get(l), m),
                problem_html: highlight(s.problem.get(l), m),
                words_html: highlight(&s.pain_points.get(l).join(c.t("common.list_sep")), m),
                cases: kb
                    .cases
                    .iter()
                    .filter(|k| k.scenarios.contains(&s.id))
                    .take(3)
                    .map(|k| CaseHit {
                        company: k.company.get(l).to_string(),
                        did_html: highlight(k.did.get(l), m),
                    })
                    .collect(),
            })
        })
        .collect();
    let q_html = highlight(&q, &all_words);
    ok(&SearchTpl {
        c: &c,
        q,
        q_html,
        hits,
    })
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupTpl<'a> {
    c: &'a Ctx,
    f: FormState,
    errors: Errors,
    next: String,
}

async fn signup_form(c: Ctx, Query(nq): Query<NextQuery>) -> AppResult {
    ok(&SignupTpl {
        c: &c,
        f: FormState::default(),
        errors: Errors::new(),
        next: safe_next(nq.next.as_deref(), "/assess"),
    })
}

/// Checks a new password and its confirmation; messages go next to the fields.
fn check_password(c: &Ctx, f: &FormState, field: &str, confirm: &str, errors: &mut Errors) {
    let n = f.val(field).chars().count();
    if n < auth::MIN_PASSWORD {
        errors.insert(
            field.into(),
            c.tf("errors.password_short", &[("min", "10")]),
        );
    } else if n > auth::MAX_PASSWORD {
        errors.insert(field.into(), c.t("errors.too_long").into());
    } else if f.val(field) != f.val(confirm) {
        errors.insert(confirm.into(), c.t("errors.password_mismatch").into());
    }
}

async fn start_session(st: &AppState, c: &Ctx, user: &User, next: &str) -> AppResult {
    let token = auth::new_token();
    let csrf = auth::new_token();
    st.store
        .create_session(
            &auth::sha256_hex(&token),
            user.id,
            &csrf,
            auth::now() + auth::SESSION_SECONDS,
        )
        .await?;
    let mut r = see_other(next);
    ctx::add_cookie(
        &mut r,
        auth::cookie(SESSION_COOKIE, token, c.secure, auth::SESSION_SECONDS),
    );
    Ok(r)
}

async fn signup(State(st): State<AppState>, c: Ctx, Form(pairs): Form<Pairs>) -> AppResult {
    let f = FormState::from_pairs(&pairs);
    let next = safe_next(Some(f.val("next")), "/assess");
    let mut errors = Errors::new();
    let name = f.val("enterprise").trim().to_string();
    if name.is_empty() {
        errors.insert("enterprise".into(), c.t("errors.required").into());
    } else if service::has_control_chars(&name, false) {
        errors.insert("enterprise".into(), c.t("errors.control_chars").into());
    } else if name.chars().count() > 200 {
        errors.insert("enterprise".into(), c.t("errors.too_long").into());
    }
    let email = auth::normalize_email(f.val("email"));
    if email.is_none() {
        errors.insert("email".into(), c.t("errors.email").into());
    }
    check_password(&c, &f, "password", "confirm", &mut errors);
    if let (true, Some(email)) = (errors.is_empty(), &email) {
        let hash = auth::hash_password(f.val("password").to_string())
            .await
            .map_err(AppError::Internal)?;
        let audit = c.audit(audit::kv(&[("email", email)]));
        match st
            .store
            .create_enterprise_user_audited(&name, email, &hash, Some(c.lang.code()), &audit)
            .await
        {
            Ok((_, user)) => {
                tracing::info!(user_id = user.id, "sign-up");
                return start_session(&st, &c, &user, &next).await;
            }
            Err(StoreError::Conflict(_)) => {
                errors.insert("email".into(), c.t("errors.email_taken").into());
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
            next,
        },
    )
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTpl<'a> {
    c: &'a Ctx,
    email: String,
    error: String,
    next: String,
}

async fn login_form(c: Ctx, Query(nq): Query<NextQuery>) -> AppResult {
    ok(&LoginTpl {
        c: &c,
        email: String::new(),
        error: String::new(),
        next: safe_next(nq.next.as_deref(), "/assess"),
    })
}

/// Why a log-in was refused.
pub enum LoginRefused {
    Wrong,
    TooMany,
}

/// Where a log-in attempt comes from, for the log and the audit log.
pub struct Client {
    pub ip: Option<String>,
    /// "web" (the log-in form) or "api" (the token endpoint).
    pub channel: &'static str,
}

/// Checks e-mail and password under the rate limit (shared with the API's token endpoint), and
/// logs and audits the outcome (never the password; the address only when it is well-formed).
/// Attempts refused by the rate limit are logged but not audited (the failures that led to the
/// limit are), so a flood of them cannot grow the audit log.
pub async fn check_login(
    st: &AppState,
    email: &str,
    password: &str,
    client: &Client,
) -> Result<Result<User, LoginRefused>, StoreError> {
    let key = auth::login_key(email);
    let now = auth::now();
    let channel = client.channel;
    if st
        .store
        .login_failures(&key, now - auth::LOGIN_WINDOW_SECONDS)
        .await?
        >= auth::MAX_LOGIN_FAILURES
    {
        tracing::warn!(channel, reason = "rate_limited", "log-in refused");
        return Ok(Err(LoginRefused::TooMany));
    }
    let normalized = auth::normalize_email(email);
    let user = match &normalized {
        Some(e) => st.store.user_by_email(e).await?,
        None => None,
    };
    let good = match &user {
        Some(u) => auth::verify_password(password.to_string(), u.password_hash.clone()).await,
        None => {
            auth::dummy_verify(password.to_string()).await;
            false
        }
    };
    let entry = |action: AuditAction, actor: Option<i64>, target: String, reason: &str| {
        let mut pairs = vec![("channel", channel)];
        if !reason.is_empty() {
            pairs.push(("reason", reason));
        }
        AuditRecord {
            at: now,
            actor_user_id: actor,
            action: action.as_str().to_owned(),
            target,
            detail: audit::kv(&pairs),
            ip: client.ip.clone(),
        }
    };
    match (good, user) {
        (true, Some(u)) => {
            st.store.clear_login_failures(&key).await?;
            tracing::info!(user_id = u.id, channel, "log-in");
            let record = entry(
                AuditAction::LoginOk,
                Some(u.id),
                format!("user:{}", u.id),
                "",
            );
            audit::record(st, record).await;
            Ok(Ok(u))
        }
        (_, user) => {
            st.store.record_login_failure(&key, now).await?;
            let reason = if user.is_some() {
                "wrong_password"
            } else {
                "unknown_account"
            };
            let user_id = user.as_ref().map(|u| u.id);
            tracing::warn!(user_id, channel, reason, "log-in failed");
            let record = entry(
                AuditAction::LoginFailed,
                user_id,
                normalized.unwrap_or_default(),
                reason,
            );
            audit::record(st, record).await;
            Ok(Err(LoginRefused::Wrong))
        }
    }
}

async fn login(State(st): State<AppState>, c: Ctx, Form(pairs): Form<Pairs>) -> AppResult {
    let f = FormState::from_pairs(&pairs);
    let next = safe_next(Some(f.val("next")), "/assess");
    let client = Client {
        ip: c.ip.clone(),
        channel: "web",
    };
    let (status, key) = match check_login(&st, f.val("email"), f.val("password"), &client).await? {
        Ok(user) => {
            let dest = if user.role == smedx_store::Role::Admin && next == "/assess" {
                "/admin/users".to_string()
            } else if user.role == smedx_store::Role::Provider && next == "/assess" {
                "/provider".to_string()
            } else if matches!(
                user.role,
                smedx_store::Role::Authority | smedx_store::Role::Cluster
            ) && next == "/assess"
            {
                // Staff have no self-assessment: their start page is the dashboard.
                "/region".to_string()
            } else {
                next
            };
            return start_session(&st, &c, &user, &dest).await;
        }
        Err(LoginRefused::Wrong) => (StatusCode::UNAUTHORIZED, "errors.login_failed"),
        Err(LoginRefused::TooMany) => (StatusCode::TOO_MANY_REQUESTS, "errors.rate_limited"),
    };
    page(
        status,
        &LoginTpl {
            c: &c,
            email: f.val("email").to_string(),
            error: c.t(key).to_string(),
            next,
        },
    )
}

async fn logout(State(st): State<AppState>, c: Ctx) -> AppResult {
    if let Some(h) = &c.session_hash {
        st.store.delete_session(h).await?;
        if let Some(u) = &c.user {
            tracing::info!(user_id = u.id, "log-out");
            let record = c
                .audit(String::new())
                .record(AuditAction::Logout, format!("user:{}", u.id));
            audit::record(&st, record).await;
        }
    }
    let mut r = see_other("/");
    ctx::add_cookie(&mut r, auth::removal(SESSION_COOKIE, c.secure));
    Ok(r)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupTpl<'a> {
    c: &'a Ctx,
    token: String,
    f: FormState,
    errors: Errors,
}

async fn setup_form(c: Ctx, Path(token): Path<String>) -> AppResult {
    ok(&SetupTpl {
        c: &c,
        token,
        f: FormState::default(),
        errors: Errors::new(),
    })
}

async fn setup(
    State(st): State<AppState>,
    c: Ctx,
    Path(token): Path<String>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let f = FormState::from_pairs(&pairs);
    let mut errors = Errors::new();
    let email = auth::normalize_email(f.val("email"));
    if email.is_none() {
        errors.insert("email".into(), c.t("errors.email").into());
    }
    check_password(&c, &f, "password", "confirm", &mut errors);
    // Every field is checked before the one-time token is spent (an address with NUL, which
    // PostgreSQL cannot store, is not a valid address), and a token spent on an account that
    // could not be created is given back, so a mistake leaves the link usable.
    if let (true, Some(email)) = (errors.is_empty(), &email) {
        // Hash first: the token is spent only when the account can be created right away.
        let hash = auth::hash_password(f.val("password").to_string())
            .await
            .map_err(AppError::Internal)?;
        let token_hash = auth::sha256_hex(&token);
        if !st
            .store
            .consume_setup_token(&token_hash, auth::now())
            .await?
        {
            return Err(AppError::NotFound);
        }
        let audit = c.audit(audit::kv(&[("email", email), ("via", "setup_link")]));
        let created = st.store.create_admin_audited(email, &hash, &audit).await;
        if created.is_err()
            && let Err(e) = st
                .store
                .create_setup_token(&token_hash, auth::now() + auth::SETUP_TOKEN_SECONDS)
                .await
        {
            tracing::error!("giving the setup token back: {e}");
        }
        match created {
            Ok(user) => {
                tracing::info!(
                    user_id = user.id,
                    "administrator created with the setup link"
                );
                return start_session(&st, &c, &user, "/admin/users").await;
            }
            Err(StoreError::Conflict(_)) => {
                errors.insert("email".into(), c.t("errors.email_taken").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut f = f;
    f.values.remove("password");
    f.values.remove("confirm");
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &SetupTpl {
            c: &c,
            token,
            f,
            errors,
        },
    )
}

struct UserRow {
    id: i64,
    /// Name of the error entry for this row's password field.
    key: String,
    email: String,
    role: &'static str,
    enterprise: String,
    created: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct AdminUsersTpl<'a> {
    c: &'a Ctx,
    users: Vec<UserRow>,
    total: i64,
    errors: Errors,
    done: Option<i64>,
    prev: Option<i64>,
    next: Option<i64>,
}

#[derive(Deserialize)]
struct AdminQuery {
    #[serde(default)]
    offset: i64,
    done: Option<i64>,
}

/// Users per page of the user list.
const USERS_PAGE: i64 = 50;

async fn user_rows(st: &AppState, c: &Ctx, offset: i64) -> AppResult<(Vec<UserRow>, i64)> {
    let (users, total) = st
        .store
        .list_users(Page {
            offset: page_offset(offset),
            limit: USERS_PAGE,
        })
        .await?;
    let mut rows = Vec::new();
    for u in users {
        let enterprise = match u.enterprise_id {
            Some(e) => st
                .store
                .enterprise(e)
                .await?
                .map(|x| x.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        rows.push(UserRow {
            id: u.id,
            key: format!("pw_{}", u.id),
            email: u.email,
            role: match u.role {
                smedx_store::Role::Admin => c.t("admin.role_admin"),
                smedx_store::Role::Enterprise => c.t("admin.role_enterprise"),
                // Roles this page has no words for yet show their code.
                other => other.as_str(),
            },
            enterprise,
            created: date(u.created_at),
        });
    }
    Ok((rows, total))
}

async fn admin_users(State(st): State<AppState>, c: Ctx, Query(q): Query<AdminQuery>) -> AppResult {
    c.require_admin()?;
    let offset = page_offset(q.offset);
    let (users, total) = user_rows(&st, &c, offset).await?;
    let (prev, next) = prev_next(offset, USERS_PAGE, total);
    ok(&AdminUsersTpl {
        c: &c,
        users,
        total,
        errors: Errors::new(),
        done: q.done,
        prev,
        next,
    })
}

async fn admin_reset(
    State(st): State<AppState>,
    c: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let admin = c.require_admin()?;
    let f = FormState::from_pairs(&pairs);
    let mut errors = Errors::new();
    check_password(&c, &f, "password", "password", &mut errors);
    if errors.is_empty() {
        let Some(target) = st.store.user(id).await? else {
            return Err(AppError::NotFound);
        };
        let hash = auth::hash_password(f.val("password").to_string())
            .await
            .map_err(AppError::Internal)?;
        // A reset password logs the user out everywhere (same transaction, with the audit entry).
        let audit = c.audit(audit::kv(&[("email", &target.email)]));
        st.store.reset_password(id, &hash, &audit).await?;
        tracing::info!(admin_id = admin.id, user_id = id, "password reset");
        return Ok(see_other(&format!("/admin/users?done={id}")));
    }
    let errors = errors
        .into_values()
        .map(|m| (format!("pw_{id}"), m))
        .collect();
    let (users, total) = user_rows(&st, &c, 0).await?;
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &AdminUsersTpl {
            c: &c,
            users,
            total,
            errors,
            done: None,
            prev: None,
            next: prev_next(0, USERS_PAGE, total).1,
        },
    )
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AdminAuditTpl<'a> {
    c: &'a Ctx,
    rows: Vec<AuditRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

/// Entries per page of the audit log.
const AUDIT_PAGE: i64 = 50;

/// The audit log for administrators, newest first.
async fn admin_audit(State(st): State<AppState>, c: Ctx, Query(q): Query<AdminQuery>) -> AppResult {
    c.require_admin()?;
    let offset = page_offset(q.offset);
    let (entries, total) = st
        .store
        .list_audit(Page {
            offset,
            limit: AUDIT_PAGE,
        })
        .await?;
    let rows = entries
        .into_iter()
        .map(|e| {
            let key = format!("audit.action_{}", e.action);
            let label = c.t(&key);
            AuditRow {
                at: audit::datetime(e.at),
                actor: match (e.actor_email, e.actor_user_id) {
                    (Some(email), _) => email,
                    (None, Some(id)) => format!("user:{id}"),
                    (None, None) => "—".into(),
                },
                // An action this version has no words for shows its code.
                action: if label == key {
                    e.action
                } else {
                    label.to_string()
                },
                target: e.target,
                detail: e.detail,
                ip: e.ip.unwrap_or_default(),
            }
        })
        .collect();
    ok(&AdminAuditTpl {
        c: &c,
        rows,
        total,
        prev: prev_next(offset, AUDIT_PAGE, total).0,
        next: prev_next(offset, AUDIT_PAGE, total).1,
    })
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTpl<'a> {
    c: &'a Ctx,
    enterprise: String,
    f: FormState,
    errors: Errors,
    added: String,
}

async fn account_page(
    st: &AppState,
    c: &Ctx,
    status: StatusCode,
    f: FormState,
    errors: Errors,
    added: String,
) -> AppResult {
    let enterprise = match c.user()?.enterprise_id {
        Some(e) => st
            .store
            .enterprise(e)
            .await?
            .map(|x| x.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    page(
        status,
        &AccountTpl {
            c,
            enterprise,
            f,
            errors,
            added,
        },
    )
}

async fn account(State(st): State<AppState>, c: Ctx) -> AppResult {
    account_page(
        &st,
        &c,
        StatusCode::OK,
        FormState::default(),
        Errors::new(),
        String::new(),
    )
    .await
}

async fn add_colleague(State(st): State<AppState>, c: Ctx, Form(pairs): Form<Pairs>) -> AppResult {
    let ent = c.enterprise_id()?;
    let mut f = FormState::from_pairs(&pairs);
    let mut errors = Errors::new();
    let email = auth::normalize_email(f.val("email"));
    if email.is_none() {
        errors.insert("email".into(), c.t("errors.email").into());
    }
    check_password(&c, &f, "password", "confirm", &mut errors);
    let password = f.values.remove("password").unwrap_or_default();
    f.values.remove("confirm");
    if let (true, Some(email)) = (errors.is_empty(), email) {
        let hash = auth::hash_password(password)
            .await
            .map_err(AppError::Internal)?;
        let audit = c.audit(audit::kv(&[("email", &email)]));
        match st
            .store
            .add_enterprise_user_audited(ent, &email, &hash, &audit)
            .await
        {
            Ok(u) => {
                tracing::info!(user_id = u.id, "colleague added");
                return account_page(
                    &st,
                    &c,
                    StatusCode::OK,
                    FormState::default(),
                    Errors::new(),
                    email,
                )
                .await;
            }
            Err(StoreError::Conflict(_)) => {
                errors.insert("email".into(), c.t("errors.email_taken").into());
            }
            Err(e) => return Err(e.into()),
        }
    }
    account_page(
        &st,
        &c,
        StatusCode::UNPROCESSABLE_ENTITY,
        f,
        errors,
        String::new(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Assessment wizard
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "assess_start.html")]
struct StartTpl<'a> {
    c: &'a Ctx,
}

fn step_url(id: i64, n: u8) -> String {
    format!("/assessments/{id}/step/{n}")
}

fn next_step(a: &Assessment) -> u8 {
    u8::try_from(a.step.clamp(0, 5) + 1).unwrap_or(1)
}

async fn assess_start(State(st): State<AppState>, c: Ctx) -> AppResult {
    let ent = c.enterprise_id()?;
    if let Some(d) = st.store.latest_draft(ent).await? {
        return Ok(see_other(&step_url(d.id, next_step(&d))));
    }
    ok(&StartTpl { c: &c })
}

async fn create_assessment(
    State(st): State<AppState>,
    c: Ctx,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let ent = c.enterprise_id()?;
    let f = FormState::from_pairs(&pairs);
    let copy_from = f.val("copy_from").parse::<i64>().ok();
    if let Some(src) = copy_from {
        // Only the enterprise's own assessments can be copied.
        st.store.assessment(ent, src).await?;
    }
    let a = st
        .store
        .create_assessment(ent, copy_from, auth::now())
        .await?;
    Ok(see_other(&step_url(a.id, 1)))
}

async fn reassess(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    let ent = c.enterprise_id()?;
    // Scoped to the enterprise: another enterprise's id is NotFound.
    st.store.assessment(ent, id).await?;
    let a = st
        .store
        .create_assessment(ent, Some(id), auth::now())
        .await?;
    Ok(see_other(&step_url(a.id, 1)))
}

struct OptionView {
    id: String,
    text: String,
}

struct InputView {
    name: String,
    label: String,
}

struct QuestionView {
    id: String,
    name: String,
    text: String,
    help: String,
    kind: &'static str,
    options: Vec<OptionView>,
    inputs: Vec<InputView>,
}

struct ScenarioRating {
    id: String,
    /// The input name, `scenarios.<id>`.
    field: String,
    name: String,
    constrained: bool,
    levels: Vec<String>,
}

struct Choice {
    id: String,
    name: String,
}

struct DomainChoices {
    name: String,
    items: Vec<Choice>,
}

struct Explained {
    id: &'static str,
    name: String,
    explain: String,
}

#[derive(Template)]
#[template(path = "wizard.html")]
struct WizardTpl<'a> {
    c: &'a Ctx,
    id: i64,
    step: u8,
    steps: Vec<(u8, String)>,
    pct: u32,
    f: FormState,
    errors: Errors,
    industries: Vec<Choice>,
    complexities: Vec<Explained>,
    positions: Vec<Explained>,
    domains: Vec<DomainChoices>,
    questions: Vec<QuestionView>,
    ratings: Vec<ScenarioRating>,
    obstacles: Vec<Choice>,
}

fn wizard_tpl<'a>(
    kb: &KnowledgeBase,
    c: &'a Ctx,
    id: i64,
    step: u8,
    f: FormState,
    errors: Errors,
) -> WizardTpl<'a> {
    let l = c.lang;
    let steps = (1..=wizard::STEPS)
        .map(|n| (n, c.t(&format!("wizard.step_{n}")).to_string()))
        .collect();
    let mut t = WizardTpl {
        c,
        id,
        step,
        steps,
        pct: u32::from(step) * 100 / u32::from(wizard::STEPS),
        f,
        errors,
        industries: Vec::new(),
        complexities: Vec::new(),
        positions: Vec::new(),
        domains: Vec::new(),
        questions: Vec::new(),
        ratings: Vec::new(),
        obstacles: Vec::new(),
    };
    match step {
        1 => {
            t.industries = kb
                .sectors
                .iter()
                .map(|s| Choice {
                    id: s.id.clone(),
                    name: s.name.get(l).to_string(),
                })
                .chain(kb.divisions.iter().map(|d| Choice {
                    id: format!("C{}", d.code),
                    name: d.name.get(l).to_string(),
                }))
                .collect();
            t.complexities = ["low", "medium", "high"]
                .into_iter()
                .map(|id| Explained {
                    id,
                    name: c.t(&format!("wizard.complexity_{id}")).to_string(),
                    explain: c.t(&format!("wizard.complexity_{id}_help")).to_string(),
                })
                .collect();
            t.positions = ["upstream", "midstream", "downstream"]
                .into_iter()
                .map(|id| Explained {
                    id,
                    name: c.t(&format!("wizard.position_{id}")).to_string(),
                    explain: c.t(&format!("wizard.position_{id}_help")).to_string(),
                })
                .collect();
            t.domains = kb
                .domains
                .iter()
                .map(|d| DomainChoices {
                    name: d.name.get(l).to_string(),
                    items: kb
                        .scenarios
                        .iter()
                        .filter(|s| s.domain == d.id)
                        .map(|s| Choice {
                            id: s.id.clone(),
                            name: s.name.get(l).to_string(),
                        })
                        .collect(),
                })
                .collect();
        }
        2..=4 => {
            let dim = wizard::dimension_of_step(step).unwrap_or("");
            let q = &kb.questionnaire;
            t.questions = q
                .question
                .iter()
                .filter(|x| q.dimension_of(x).is_some_and(|d| d.id == dim))
                .map(|x| QuestionView {
                    id: x.id.clone(),
                    name: x.name.get(l).to_string(),
                    text: x.text.get(l).to_string(),
                    help: x
                        .help
                        .as_ref()
                        .map(|h| h.get(l).to_string())
                        .unwrap_or_default(),
                    kind: match x.kind {
                        QuestionKind::Single => "single",
                        QuestionKind::Multi => "multi",
                        QuestionKind::Ratio => "ratio",
                        QuestionKind::Trend => "trend",
                    },
                    options: x
                        .option
                        .iter()
                        .map(|o| OptionView {
                            id: o.id.clone(),
                            text: o.text.get(l).to_string(),
                        })
                        .collect(),
                    inputs: wizard::figure_inputs(x)
                        .into_iter()
                        .map(|(name, label)| {
                            let period = if name.contains(".before") {
                                c.t("wizard.before")
                            } else if name.contains(".after") {
                                c.t("wizard.after")
                            } else {
                                ""
                            };
                            InputView {
                                label: format!("{period}{}", label.get(l)),
                                name,
                            }
                        })
                        .collect(),
                })
                .collect();
        }
        5 => {
            t.ratings = kb
                .questionnaire
                .scenario
                .iter()
                .map(|s| ScenarioRating {
                    id: s.id.clone(),
                    field: format!("scenarios.{}", s.id),
                    name: s.name.get(l).to_string(),
                    constrained: s.constrained,
                    levels: s.levels.iter().map(|x| x.get(l).to_string()).collect(),
                })
                .collect();
            // Unrated scenarios count as 0 (not started); show that choice selected.
            for r in &t.ratings {
                if !t.f.values.contains_key(&r.field) {
                    t.f.select(&r.field, "0");
                }
            }
        }
        _ => {
            t.obstacles = kb
                .questionnaire
                .obstacle_question
                .iter()
                .map(|o| Choice {
                    id: format!("obstacles.{}", o.id),
                    name: o.text.get(l).to_string(),
                })
                .collect();
        }
    }
    t
}

async fn draft(st: &AppState, c: &Ctx, id: i64) -> AppResult<(i64, Assessment)> {
    let ent = c.enterprise_id()?;
    let a = st.store.assessment(ent, id).await?;
    Ok((ent, a))
}

async fn step_form(
    State(st): State<AppState>,
    c: Ctx,
    Path((id, n)): Path<(i64, u8)>,
) -> AppResult {
    let (ent, a) = draft(&st, &c, id).await?;
    if !(1..=wizard::STEPS).contains(&n) {
        return Err(AppError::NotFound);
    }
    if a.status == AssessmentStatus::Complete {
        return Ok(see_other(&format!("/assessments/{id}")));
    }
    // Steps are filled in order; a later one opens once the previous one is saved.
    if n > next_step(&a) {
        return Ok(see_other(&step_url(id, next_step(&a))));
    }
    let kb = &st.engine.kb;
    let mut f = wizard::profile_form(&a.profile);
    let af = wizard::answers_form(kb, &a.answers);
    f.values.extend(af.values);
    f.checked.extend(af.checked);
    if f.val("name").is_empty()
        && let Some(e) = st.store.enterprise(ent).await?
    {
        f.values.insert("name".into(), e.name);
    }
    ok(&wizard_tpl(kb, &c, id, n, f, Errors::new()))
}

async fn step_save(
    State(st): State<AppState>,
    c: Ctx,
    Path((id, n)): Path<(i64, u8)>,
    Form(pairs): Form<Pairs>,
) -> AppResult {
    let (ent, a) = draft(&st, &c, id).await?;
    if !(1..=wizard::STEPS).contains(&n) {
        return Err(AppError::NotFound);
    }
    if a.status == AssessmentStatus::Complete {
        return Ok(see_other(&format!("/assessments/{id}")));
    }
    if n > next_step(&a) {
        return Ok(see_other(&step_url(id, next_step(&a))));
    }
    let engine = &st.engine;
    let kb = &engine.kb;
    let (profile, answers, mut issues) = match n {
        1 => {
            let (p, issues) = wizard::profile_step1(kb, &a.profile, &pairs);
            (p, a.answers.clone(), issues)
        }
        2..=4 => {
            let dim = wizard::dimension_of_step(n).unwrap_or("");
            let q = &kb.questionnaire;
            let qs: Vec<_> = q
                .question
                .iter()
                .filter(|x| q.dimension_of(x).is_some_and(|d| d.id == dim))
                .collect();
            let (ans, issues) = wizard::answers_questions(&qs, &a.answers, &pairs);
            (a.profile.clone(), ans, issues)
        }
        5 => (
            a.profile.clone(),
            wizard::answers_scenarios(kb, &a.answers, &pairs),
            Vec::new(),
        ),
        _ => wizard::step6(kb, &a.profile, &a.answers, &pairs),
    };
    // The engine checks the whole documents; a field whose input could not even be read keeps
    // only that message.
    let mut more = Vec::new();
    if (n == 1 || n == 6)
        && let Err(e) = service::validate_profile(engine, &profile)
    {
        more.extend(e);
    }
    if n >= 2
        && let Err(e) = service::validate_answers(engine, &answers)
    {
        more.extend(e);
    }
    let seen: Vec<String> = issues.iter().map(|i| wizard::input_for(&i.field)).collect();
    issues.extend(
        more.into_iter()
            .filter(|i| !seen.contains(&wizard::input_for(&i.field))),
    );
    if !issues.is_empty() {
        let errors = wizard::errors_by_input(&issues, c.lang);
        let f = FormState::from_pairs(&pairs);
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &wizard_tpl(kb, &c, id, n, f, errors),
        );
    }
    let now = auth::now();
    st.store
        .save_step(ent, id, a.step.max(i64::from(n)), &profile, &answers, now)
        .await?;
    if n < wizard::STEPS {
        return Ok(see_other(&step_url(id, n + 1)));
    }
    let audit = c.audit(String::new());
    match service::complete(engine, st.store.as_ref(), ent, id, now, &audit).await {
        Ok(_) | Err(ServiceError::AlreadyComplete) => Ok(see_other(&format!("/assessments/{id}"))),
        Err(ServiceError::Invalid(issues)) => {
            let errors = wizard::errors_by_input(&issues, c.lang);
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &wizard_tpl(kb, &c, id, n, FormState::from_pairs(&pairs), errors),
            )
        }
        Err(ServiceError::Store(e)) => Err(e.into()),
        Err(e) => Err(AppError::Internal(e.to_string())),
    }
}

// ---------------------------------------------------------------------------------------------
// Result, report, history, compare
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "result.html")]
struct ResultTpl<'a> {
    c: &'a Ctx,
    id: i64,
    name: String,
    date: String,
    v: ResultView,
    providers: crate::providers::MatchesView,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportTpl<'a> {
    c: &'a Ctx,
    id: i64,
    name: String,
    date: String,
    v: ResultView,
}

/// A complete assessment whose stored result no longer reads (see [`completed`]).
#[derive(Template)]
#[template(path = "result_unreadable.html")]
struct UnreadableTpl<'a> {
    c: &'a Ctx,
    id: i64,
}

async fn completed(
    st: &AppState,
    c: &Ctx,
    id: i64,
) -> AppResult<Result<(String, String, ResultView), Response>> {
    let (ent, a) = draft(st, c, id).await?;
    if a.status == AssessmentStatus::Draft {
        return Ok(Err(see_other(&step_url(id, next_step(&a)))));
    }
    let report = match service::stored_report(&a) {
        Ok(r) => r,
        Err(ServiceError::Corrupt(e)) => {
            // E.g. a report stored before figures were checked: say so and offer a new
            // assessment from the same answers, rather than failing this page for ever.
            tracing::error!(assessment_id = id, "the stored result cannot be read: {e}");
            let tpl = UnreadableTpl { c, id };
            return Ok(Err(page(StatusCode::CONFLICT, &tpl)?));
        }
        Err(e) => return Err(AppError::Internal(e.to_string())),
    };
    let name = match a.profile.get("name").and_then(|v| v.as_str()) {
        Some(n) => n.to_string(),
        None => st
            .store
            .enterprise(ent)
            .await?
            .map(|e| e.name)
            .unwrap_or_default(),
    };
    let when = date(a.completed_at.unwrap_or(a.updated_at));
    Ok(Ok((
        name,
        when,
        view::result_view(&st.engine.kb, &report, c.lang),
    )))
}

async fn result(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    match completed(&st, &c, id).await? {
        Ok((name, date, v)) => ok(&ResultTpl {
            providers: crate::providers::result_matches(&st, &c, id).await,
            c: &c,
            id,
            name,
            date,
            v,
        }),
        Err(redirect) => Ok(redirect),
    }
}

async fn report(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    match completed(&st, &c, id).await? {
        Ok((name, date, v)) => ok(&ReportTpl {
            c: &c,
            id,
            name,
            date,
            v,
        }),
        Err(redirect) => Ok(redirect),
    }
}

struct HistoryRow {
    id: i64,
    complete: bool,
    date: String,
    level: String,
    score: String,
    step: i64,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryTpl<'a> {
    c: &'a Ctx,
    rows: Vec<HistoryRow>,
    completed: Vec<(i64, String)>,
}

async fn history(State(st): State<AppState>, c: Ctx) -> AppResult {
    let ent = c.enterprise_id()?;
    let (list, _) = st
        .store
        .list_assessments(
            ent,
            Page {
                offset: 0,
                limit: 200,
            },
        )
        .await?;
    let kb = &st.engine.kb;
    let rows: Vec<HistoryRow> = list
        .iter()
        .map(|a| HistoryRow {
            id: a.id,
            complete: a.status == AssessmentStatus::Complete,
            date: date(a.completed_at.unwrap_or(a.updated_at)),
            level: a
                .level
                .and_then(|l| u8::try_from(l).ok())
                .map(|l| smedx_core::explain::level_text(kb, l, c.lang))
                .unwrap_or_default(),
            score: a.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            step: a.step,
        })
        .collect();
    let completed = rows
        .iter()
        .filter(|r| r.complete)
        .map(|r| (r.id, format!("#{} · {} · {}", r.id, r.date, r.level)))
        .collect();
    ok(&HistoryTpl {
        c: &c,
        rows,
        completed,
    })
}

#[derive(Deserialize)]
struct CompareQuery {
    a: i64,
    b: i64,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct CompareTpl<'a> {
    c: &'a Ctx,
    a: i64,
    b: i64,
    a_date: String,
    b_date: String,
    v: CompareView,
}

async fn compare(State(st): State<AppState>, c: Ctx, Query(q): Query<CompareQuery>) -> AppResult {
    let ent = c.enterprise_id()?;
    let x = st.store.assessment(ent, q.a).await?;
    let y = st.store.assessment(ent, q.b).await?;
    let (Ok(rx), Ok(ry)) = (service::stored_report(&x), service::stored_report(&y)) else {
        return Err(AppError::NotFound);
    };
    // Older one on the left, so "what changed" reads forward in time.
    let (x, y, rx, ry) =
        if x.created_at > y.created_at || (x.created_at == y.created_at && x.id > y.id) {
            (y, x, ry, rx)
        } else {
            (x, y, rx, ry)
        };
    ok(&CompareTpl {
        c: &c,
        a: x.id,
        b: y.id,
        a_date: date(x.completed_at.unwrap_or(x.updated_at)),
        b_date: date(y.completed_at.unwrap_or(y.updated_at)),
        v: view::compare_view(&st.engine.kb, &rx, &ry, c.lang),
    })
}

// ---------------------------------------------------------------------------------------------
// Knowledge pages
// ---------------------------------------------------------------------------------------------

struct ScenarioItem {
    id: String,
    name: String,
    summary: String,
    cost: String,
    sizes: String,
}

struct DomainView {
    name: String,
    summary: String,
    scenarios: Vec<ScenarioItem>,
}

struct ChainView {
    name: String,
    domains: Vec<DomainView>,
}

#[derive(Template)]
#[template(path = "scenarios.html")]
struct ScenariosTpl<'a> {
    c: &'a Ctx,
    chains: Vec<ChainView>,
}

fn sizes_text(kb: &KnowledgeBase, s: &smedx_core::kb::Scenario, l: Lang) -> String {
    let _ = kb;
    s.size_fit
        .iter()
        .map(|z| z.name().get(l).to_string())
        .collect::<Vec<_>>()
        .join(" · ")
}

async fn scenarios(State(st): State<AppState>, c: Ctx) -> AppResult {
    let kb = &st.engine.kb;
    let l = c.lang;
    let chains = kb
        .chains
        .iter()
        .map(|ch| ChainView {
            name: ch.name.get(l).to_string(),
            domains: kb
                .domains
                .iter()
                .filter(|d| d.chain == ch.id)
                .map(|d| DomainView {
                    name: d.name.get(l).to_string(),
                    summary: d.summary.get(l).to_string(),
                    scenarios: kb
                        .scenarios
                        .iter()
                        .filter(|s| s.domain == d.id)
                        .map(|s| ScenarioItem {
                            id: s.id.clone(),
                            name: s.name.get(l).to_string(),
                            summary: s.summary.get(l).to_string(),
                            cost: s.cost_tier.name().get(l).to_string(),
                            sizes: sizes_text(kb, s, l),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    ok(&ScenariosTpl { c: &c, chains })
}

struct Link {
    href: String,
    text: String,
}

struct CaseView {
    company: String,
    makes: String,
    did: String,
    result: String,
    source: String,
    scenarios: Vec<Link>,
}

#[derive(Template)]
#[template(path = "scenario.html")]
struct ScenarioTpl<'a> {
    c: &'a Ctx,
    id: String,
    name: String,
    domain: String,
    summary: String,
    problem: String,
    sizes: String,
    effort: String,
    cost: String,
    cost_range: String,
    months: u32,
    prerequisites: Vec<Link>,
    kpis: Vec<String>,
    products: Vec<String>,
    pain_words: String,
    indicators: Vec<String>,
    cases: Vec<CaseView>,
    source: String,
}

fn case_view(kb: &KnowledgeBase, k: &smedx_core::kb::Case, l: Lang) -> CaseView {
    CaseView {
        company: k.company.get(l).to_string(),
        makes: k.makes.get(l).to_string(),
        did: k.did.get(l).to_string(),
        result: k
            .result
            .as_ref()
            .map(|r| r.get(l).to_string())
            .unwrap_or_default(),
        source: k.source.clone(),
        scenarios: k
            .scenarios
            .iter()
            .map(|s| Link {
                href: format!("/scenarios/{s}"),
                text: view::scenario_name(kb, s, l),
            })
            .collect(),
    }
}

async fn scenario(State(st): State<AppState>, c: Ctx, Path(id): Path<String>) -> AppResult {
    let kb = &st.engine.kb;
    let l = c.lang;
    let s = kb.scenario(&id).ok_or(AppError::NotFound)?;
    let range = kb.rules.cost_tiers.range(s.cost_tier);
    let indicators = kb
        .questionnaire
        .scenario
        .iter()
        .filter(|is| is.lifts.iter().any(|lf| lf.scenarios.contains(&s.id)))
        .map(|is| is.name.get(l).to_string())
        .collect();
    ok(&ScenarioTpl {
        c: &c,
        id: s.id.clone(),
        name: s.name.get(l).to_string(),
        domain: kb
            .domain(&s.domain)
            .map(|d| d.name.get(l).to_string())
            .unwrap_or_default(),
        summary: s.summary.get(l).to_string(),
        problem: s.problem.get(l).to_string(),
        sizes: sizes_text(kb, s, l),
        effort: s.effort.name().get(l).to_string(),
        cost: s.cost_tier.name().get(l).to_string(),
        cost_range: c.tf(
            "scenario.cost_range",
            &[
                ("min", &format!("{:.0}", range.min / 10_000.0)),
                ("max", &format!("{:.0}", range.max / 10_000.0)),
            ],
        ),
        months: s.time_to_value_months,
        prerequisites: s
            .prerequisites
            .iter()
            .map(|p| Link {
                href: format!("/scenarios/{p}"),
                text: view::scenario_name(kb, p, l),
            })
            .collect(),
        kpis: s.kpis.iter().map(|k| k.get(l).to_string()).collect(),
        products: s.products.iter().map(|k| k.get(l).to_string()).collect(),
        pain_words: s.pain_points.get(l).join(c.t("common.list_sep")),
        indicators,
        cases: kb
            .cases
            .iter()
            .filter(|k| k.scenarios.contains(&s.id))
            .map(|k| case_view(kb, k, l))
            .collect(),
        source: s.source.clone(),
    })
}

struct SectorView {
    name: String,
    group: String,
    business_model: String,
    process: String,
    focus: String,
    complexity: String,
    position: String,
    scenarios: Vec<Link>,
}

#[derive(Template)]
#[template(path = "sectors.html")]
struct SectorsTpl<'a> {
    c: &'a Ctx,
    sectors: Vec<SectorView>,
}

async fn sectors(State(st): State<AppState>, c: Ctx) -> AppResult {
    let kb = &st.engine.kb;
    let l = c.lang;
    let sectors = kb
        .sectors
        .iter()
        .map(|s| SectorView {
            name: s.name.get(l).to_string(),
            group: kb
                .group(&s.group)
                .map(|g| g.name.get(l).to_string())
                .unwrap_or_default(),
            business_model: s.business_model.get(l).to_string(),
            process: s.process.get(l).to_string(),
            focus: s.focus.get(l).to_string(),
            complexity: s.typical_complexity.name().get(l).to_string(),
            position: s.typical_position.name().get(l).to_string(),
            scenarios: s
                .scenarios
                .iter()
                .map(|x| Link {
                    href: format!("/scenarios/{x}"),
                    text: view::scenario_name(kb, x, l),
                })
                .collect(),
        })
        .collect();
    ok(&SectorsTpl { c: &c, sectors })
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesTpl<'a> {
    c: &'a Ctx,
    cases: Vec<CaseView>,
}

async fn cases(State(st): State<AppState>, c: Ctx) -> AppResult {
    let kb = &st.engine.kb;
    let cases = kb.cases.iter().map(|k| case_view(kb, k, c.lang)).collect();
    ok(&CasesTpl { c: &c, cases })
}
