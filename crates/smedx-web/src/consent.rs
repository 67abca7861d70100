//! The enterprise's side of campaigns: consent and what follows from it.
//!
//! * `/join` (type a code) and `/join/{code}`: the campaign, who runs it and what joining shares,
//!   with a consent button; visitors log in or sign up first and come back here.
//! * `/privacy`: who can see the enterprise's data, campaign by campaign, with a button to
//!   withdraw the consent.
//! * `/inbox`: reminders from the campaigns (newest first, mark read), and
//!   `/inbox/unread.json` for the badge in the navigation.
//!
//! Joining and leaving are written with their audit entries by the store, in one transaction.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;
use smedx_store::regional::{Campaign, normalize_invite_code};
use smedx_store::{Page, Role, Scope, StoreError};

use crate::AppState;
use crate::auth;
use crate::campaigns::{level_label, pager, sectors_label};
use crate::ctx::{self, Ctx};
use crate::error::{AppError, AppResult, ErrorPage};
use crate::pages::{date, page_offset};

/// Messages per page of the inbox.
const INBOX_PAGE: i64 = 20;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/join", get(join_form))
        .route("/join/{code}", get(join_page).post(join))
        .route("/privacy", get(privacy))
        .route("/privacy/leave", post(leave))
        .route("/inbox", get(inbox))
        .route("/inbox/unread.json", get(unread))
        .route("/inbox/{id}/read", post(mark_read))
        .layer(from_fn_with_state(state.clone(), ctx::middleware))
        .with_state(state)
}

fn html<T: Template>(status: StatusCode, t: &T) -> AppResult {
    Ok((status, Html(t.render()?)).into_response())
}

/// The enterprise of the logged-in enterprise user; visitors log in first, others get 403.
fn enterprise(c: &Ctx) -> Result<i64, AppError> {
    let u = c.user()?;
    if u.role != Role::Enterprise {
        return Err(AppError::Forbidden);
    }
    u.enterprise_id.ok_or(AppError::Forbidden)
}

/// Who runs a campaign, as a person reads it: the region's name (a county is named by its
/// city), and the cluster's name for a cluster's campaign.
async fn organiser(st: &AppState, c: &Ctx, k: &Campaign) -> String {
    let code = &k.region_code;
    let mut name = None;
    for candidate in [
        code.clone(),
        format!("{}00", code.get(..4).unwrap_or_default()),
        format!("{}0000", code.get(..2).unwrap_or_default()),
    ] {
        if let Ok(Some(r)) = st.store.region(&candidate).await {
            name = Some(match c.lang {
                smedx_core::Lang::Zh => r.name_zh,
                smedx_core::Lang::En => r.name_en,
            });
            break;
        }
    }
    let region = name.unwrap_or_else(|| code.clone());
    let mut text = c.tf1("join.organiser_region", "region", &region);
    if let Some(cl) = &k.cluster_id {
        let cluster = st
            .store
            .clusters(&Scope::Cluster(cl.clone()))
            .await
            .ok()
            .and_then(|v| v.into_iter().next())
            .map_or_else(|| cl.clone(), |x| x.name);
        text = c.tf(
            "join.organiser_cluster",
            &[("region", &region), ("cluster", &cluster)],
        );
    }
    text
}

// ---- joining ----------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct CodeQuery {
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "campaigns/join_form.html")]
struct JoinFormTpl<'a> {
    c: &'a Ctx,
    code: String,
    error: String,
}

async fn join_form(c: Ctx, Query(q): Query<CodeQuery>) -> AppResult {
    let typed = q.code.unwrap_or_default();
    let code = normalize_invite_code(&typed);
    if !typed.trim().is_empty() {
        if !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Redirect::to(&format!("/join/{code}")).into_response());
        }
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &JoinFormTpl {
                c: &c,
                code: typed,
                error: c.t("join.err_code").to_string(),
            },
        );
    }
    html(
        StatusCode::OK,
        &JoinFormTpl {
            c: &c,
            code: String::new(),
            error: String::new(),
        },
    )
}

#[derive(Template)]
#[template(path = "campaigns/join.html")]
struct JoinTpl<'a> {
    c: &'a Ctx,
    k: Campaign,
    organiser: String,
    level: String,
    sectors: String,
    /// A logged-in enterprise user (who can consent).
    can_join: bool,
    /// Already a member.
    member: bool,
    ended: bool,
    next_q: String,
}

async fn join_page(State(st): State<AppState>, c: Ctx, Path(code): Path<String>) -> AppResult {
    let Some(k) = st.store.campaign_by_invite(&code).await? else {
        return html(
            StatusCode::NOT_FOUND,
            &JoinFormTpl {
                c: &c,
                code,
                error: c.t("join.err_unknown").to_string(),
            },
        );
    };
    let ent = c
        .user
        .as_ref()
        .filter(|u| u.role == Role::Enterprise)
        .and_then(|u| u.enterprise_id);
    let member = match ent {
        Some(e) => st
            .store
            .who_can_see(e)
            .await?
            .iter()
            .any(|v| v.campaign.id == k.id),
        None => false,
    };
    let ended = smedx_store::scope::date_text(auth::now()) > k.ends_on;
    let next_q = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &format!("/join/{}", k.invite_code))
        .finish();
    html(
        StatusCode::OK,
        &JoinTpl {
            c: &c,
            organiser: organiser(&st, &c, &k).await,
            level: level_label(&st, &c, k.target_level),
            sectors: sectors_label(&st, &c, &k.target_sectors),
            k,
            can_join: ent.is_some(),
            member,
            ended,
            next_q,
        },
    )
}

async fn join(State(st): State<AppState>, c: Ctx, Path(code): Path<String>) -> AppResult {
    let e = enterprise(&c)?;
    let audit = c.audit(String::new());
    match st.store.join_campaign(e, &code, auth::now(), &audit).await {
        Ok(out) => {
            Ok(Redirect::to(&format!("/privacy?joined={}", out.campaign.id)).into_response())
        }
        Err(StoreError::Conflict(_)) => {
            Ok(ErrorPage::response(StatusCode::CONFLICT, "join.err_ended"))
        }
        Err(err) => Err(err.into()),
    }
}

// ---- who can see my data ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct PrivacyQuery {
    joined: Option<i64>,
    left: Option<i64>,
}

struct ViewerRow {
    email: String,
    role: String,
    place: String,
}

struct VisibilityRow {
    campaign_id: i64,
    name: String,
    organiser: String,
    joined: String,
    period: String,
    viewers: Vec<ViewerRow>,
}

#[derive(Template)]
#[template(path = "campaigns/privacy.html")]
struct PrivacyTpl<'a> {
    c: &'a Ctx,
    rows: Vec<VisibilityRow>,
    joined: Option<String>,
    left: bool,
}

async fn privacy(State(st): State<AppState>, c: Ctx, Query(q): Query<PrivacyQuery>) -> AppResult {
    let e = enterprise(&c)?;
    let list = st.store.who_can_see(e).await?;
    let mut rows = Vec::with_capacity(list.len());
    let mut joined = None;
    for v in list {
        if q.joined == Some(v.campaign.id) {
            joined = Some(v.campaign.name.clone());
        }
        rows.push(VisibilityRow {
            campaign_id: v.campaign.id,
            name: v.campaign.name.clone(),
            organiser: organiser(&st, &c, &v.campaign).await,
            joined: date(v.joined_at),
            period: format!("{} – {}", v.campaign.starts_on, v.campaign.ends_on),
            viewers: v
                .viewers
                .iter()
                .map(|w| ViewerRow {
                    email: w.email.clone(),
                    role: c.t(&format!("join.role_{}", w.role.as_str())).to_string(),
                    place: w
                        .cluster_id
                        .clone()
                        .or_else(|| w.region_code.clone())
                        .unwrap_or_default(),
                })
                .collect(),
        });
    }
    html(
        StatusCode::OK,
        &PrivacyTpl {
            c: &c,
            rows,
            joined,
            left: q.left.is_some(),
        },
    )
}

#[derive(Deserialize)]
struct LeaveForm {
    campaign: i64,
}

async fn leave(State(st): State<AppState>, c: Ctx, Form(f): Form<LeaveForm>) -> AppResult {
    let e = enterprise(&c)?;
    let audit = c.audit(String::new());
    st.store.leave_campaign(e, f.campaign, &audit).await?;
    Ok(Redirect::to(&format!("/privacy?left={}", f.campaign)).into_response())
}

// ---- the inbox --------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct InboxQuery {
    #[serde(default)]
    offset: i64,
}

struct MessageRow {
    id: i64,
    campaign: String,
    body: String,
    at: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "campaigns/inbox.html")]
struct InboxTpl<'a> {
    c: &'a Ctx,
    messages: Vec<MessageRow>,
    summary: String,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn inbox(State(st): State<AppState>, c: Ctx, Query(q): Query<InboxQuery>) -> AppResult {
    let e = enterprise(&c)?;
    let offset = page_offset(q.offset);
    let b = st
        .store
        .inbox(
            e,
            Page {
                offset,
                limit: INBOX_PAGE,
            },
        )
        .await?;
    let (prev, next) = pager(offset, INBOX_PAGE, b.total);
    html(
        StatusCode::OK,
        &InboxTpl {
            c: &c,
            messages: b
                .messages
                .into_iter()
                .map(|m| MessageRow {
                    id: m.id,
                    campaign: m.campaign_name.unwrap_or_default(),
                    body: m.body,
                    at: date(m.created_at),
                    unread: m.read_at.is_none(),
                })
                .collect(),
            summary: c.tf(
                "inbox.summary",
                &[
                    ("n", &b.total.to_string()),
                    ("unread", &b.unread.to_string()),
                ],
            ),
            prev,
            next,
        },
    )
}

/// `{"unread": n}` for the navigation badge (0 for anybody but an enterprise user).
async fn unread(State(st): State<AppState>, c: Ctx) -> AppResult {
    let n = match c
        .user
        .as_ref()
        .filter(|u| u.role == Role::Enterprise)
        .and_then(|u| u.enterprise_id)
    {
        Some(e) => {
            st.store
                .inbox(
                    e,
                    Page {
                        offset: 0,
                        limit: 0,
                    },
                )
                .await?
                .unread
        }
        None => 0,
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "unread": n })),
    )
        .into_response())
}

async fn mark_read(State(st): State<AppState>, c: Ctx, Path(id): Path<i64>) -> AppResult {
    let e = enterprise(&c)?;
    st.store.mark_read(e, id, auth::now()).await?;
    Ok(Redirect::to("/inbox").into_response())
}
