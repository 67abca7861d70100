//! Campaigns on the staff side (authority, cluster and administrator users): `/campaigns` (list),
//! `/campaigns/new`, `/campaigns/{id}` (invitation link, code and a printable QR code, member
//! counts, the members by status) and `/campaigns/{id}/remind` (a message to the stuck members'
//! inboxes). What a caller may see is the store's: every call takes the caller's [`Scope`], and a
//! campaign outside it is "not found".

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;
use smedx_core::assessment::level_name;
use smedx_store::regional::{Campaign, Member, MemberCounts, MemberStatus, NewCampaign};
use smedx_store::scope::parse_date;
use smedx_store::{Page, Role, Scope, StoreError, User, scope_for};

use crate::AppState;
use crate::auth;
use crate::ctx::{self, Ctx};
use crate::error::{AppError, AppResult};
use crate::pages::{date, page_offset};

/// Campaigns and members per page.
const PER_PAGE: i64 = 20;
/// A member with nothing new for this many days counts as stuck.
pub const STUCK_AFTER_DAYS: i64 = 14;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/campaigns", get(list))
        .route("/campaigns/new", get(new_form).post(create))
        .route("/campaigns/{id}", get(detail))
        .route("/campaigns/{id}/remind", post(remind))
        .layer(from_fn_with_state(state.clone(), ctx::middleware))
        .with_state(state)
}

// ---- who may come in ----------------------------------------------------------------------------

/// A staff user (authority, cluster, administrator) with the scope the store filters by.
pub struct Staff {
    pub user: User,
    pub scope: Scope,
}

/// Authority, cluster and administrator users; visitors go to the log-in page, everybody else
/// (enterprise and provider users, an authority account without a region) gets 403.
pub fn staff(c: &Ctx) -> Result<Staff, AppError> {
    let user = c.user()?.clone();
    if !matches!(user.role, Role::Authority | Role::Cluster | Role::Admin) {
        return Err(AppError::Forbidden);
    }
    let scope = scope_for(&user).ok_or(AppError::Forbidden)?;
    Ok(Staff { user, scope })
}

/// The previous and next offsets of a paged list.
pub fn pager(offset: i64, size: i64, total: i64) -> (Option<i64>, Option<i64>) {
    let next = offset.saturating_add(size);
    (
        (offset > 0).then(|| offset.saturating_sub(size).max(0)),
        (next < total).then_some(next),
    )
}

/// The scheme and host this request came to, for links that leave the site (an invitation
/// printed on a poster): `https` when the request came over TLS (or cookies are marked secure).
/// A Host header that is not a plain host name gives None (the caller then shows a path).
pub fn origin(c: &Ctx, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !plain {
        return None;
    }
    let scheme = if c.secure { "https" } else { "http" };
    Some(format!("{scheme}://{host}"))
}

/// The invitation link of a campaign (absolute when the request's host is usable).
pub fn invite_url(c: &Ctx, headers: &HeaderMap, code: &str) -> String {
    let path = format!("/join/{code}");
    match origin(c, headers) {
        Some(o) => format!("{o}{path}"),
        None => path,
    }
}

/// The QR code of `text` as an SVG element (black on white, a quiet zone around it), or None when
/// the text is too long for a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// The target level's name ("二级" / "Level 2").
pub fn level_label(st: &AppState, c: &Ctx, level: u8) -> String {
    level_name(&st.engine.kb.questionnaire, level)
        .get(c.lang)
        .to_string()
}

/// The target sectors' names, or "every sector".
pub fn sectors_label(st: &AppState, c: &Ctx, ids: &[String]) -> String {
    if ids.is_empty() {
        return c.t("campaign.all_sectors").to_string();
    }
    let kb = &st.engine.kb;
    ids.iter()
        .map(|id| {
            kb.sector(id)
                .map(|s| s.name.get(c.lang).to_string())
                .or_else(|| kb.group(id).map(|g| g.name.get(c.lang).to_string()))
                .unwrap_or_else(|| id.clone())
        })
        .collect::<Vec<_>>()
        .join(match c.lang {
            smedx_core::Lang::Zh => "、",
            smedx_core::Lang::En => ", ",
        })
}

// ---- the list -------------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    offset: i64,
}

struct CampaignRow {
    id: i64,
    name: String,
    period: String,
    level: String,
    code: String,
}

#[derive(Template)]
#[template(path = "campaigns/list.html")]
struct ListTpl<'a> {
    c: &'a Ctx,
    rows: Vec<CampaignRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn list(State(st): State<AppState>, c: Ctx, Query(q): Query<ListQuery>) -> AppResult {
    let s = staff(&c)?;
    let offset = page_offset(q.offset);
    let (items, total) = st
        .store
        .campaigns(
            &s.scope,
            Page {
                offset,
                limit: PER_PAGE,
            },
        )
        .await?;
    let rows = items
        .iter()
        .map(|k| CampaignRow {
            id: k.id,
            name: k.name.clone(),
            period: format!("{} – {}", k.starts_on, k.ends_on),
            level: level_label(&st, &c, k.target_level),
            code: k.invite_code.clone(),
        })
        .collect();
    let (prev, next) = pager(offset, PER_PAGE, total);
    html(
        StatusCode::OK,
        &ListTpl {
            c: &c,
            rows,
            total,
            prev,
            next,
        },
    )
}

fn html<T: Template>(status: StatusCode, t: &T) -> AppResult {
    Ok((status, Html(t.render()?)).into_response())
}

// ---- creating one -----------------------------------------------------------------------------------

struct Opt {
    value: String,
    label: String,
    selected: bool,
}

struct OptGroup {
    label: String,
    options: Vec<Opt>,
}

#[derive(Default)]
struct NewForm {
    name: String,
    starts_on: String,
    ends_on: String,
    sectors: Vec<String>,
    level: String,
    region: String,
}

#[derive(Template)]
#[template(path = "campaigns/new.html")]
struct NewTpl<'a> {
    c: &'a Ctx,
    f: NewForm,
    errors: BTreeMap<&'static str, String>,
    sectors: Vec<OptGroup>,
    levels: Vec<Opt>,
    /// Administrators name the region; a province or city authority may narrow it.
    ask_region: bool,
    region_help: String,
}

impl NewTpl<'_> {
    fn err(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }
}

fn form_page(
    st: &AppState,
    c: &Ctx,
    s: &Staff,
    f: NewForm,
    errors: BTreeMap<&'static str, String>,
) -> AppResult {
    let kb = &st.engine.kb;
    let l = c.lang;
    let sectors = kb
        .groups
        .iter()
        .map(|g| OptGroup {
            label: g.name.get(l).to_string(),
            options: kb
                .sectors
                .iter()
                .filter(|x| x.group == g.id)
                .map(|x| Opt {
                    selected: f.sectors.contains(&x.id),
                    value: x.id.clone(),
                    label: x.name.get(l).to_string(),
                })
                .collect(),
        })
        .collect();
    let wanted_level = if f.level.is_empty() {
        "2"
    } else {
        f.level.as_str()
    };
    let levels = (1u8..=4)
        .map(|n| Opt {
            value: n.to_string(),
            label: level_label(st, c, n),
            selected: wanted_level == n.to_string(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let region_help = match (&s.user.role, &s.user.region_code) {
        (Role::Authority, Some(r)) => c.tf1("campaign.region_help_own", "region", r),
        _ => c.t("campaign.region_help_admin").to_string(),
    };
    html(
        status,
        &NewTpl {
            c,
            ask_region: s.user.role != Role::Cluster,
            f,
            errors,
            sectors,
            levels,
            region_help,
        },
    )
}

async fn new_form(State(st): State<AppState>, c: Ctx) -> AppResult {
    let s = staff(&c)?;
    form_page(&st, &c, &s, NewForm::default(), BTreeMap::new())
}

/// Reads and checks the form; every problem is a translated message next to its field.
fn read_form(
    st: &AppState,
    c: &Ctx,
    s: &Staff,
    pairs: &[(String, String)],
) -> (NewForm, BTreeMap<&'static str, String>) {
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let f = NewForm {
        name: one("name"),
        starts_on: one("starts_on"),
        ends_on: one("ends_on"),
        sectors: pairs
            .iter()
            .filter(|(n, v)| n == "sectors" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect(),
        level: one("level"),
        region: one("region"),
    };
    let mut e = BTreeMap::new();
    let chars = f.name.chars().count();
    if chars == 0 {
        e.insert("name", c.t("campaign.err_name_empty").to_string());
    } else if chars > smedx_store::regional::MAX_NAME_CHARS {
        e.insert(
            "name",
            c.tf1(
                "campaign.err_name_long",
                "max",
                smedx_store::regional::MAX_NAME_CHARS,
            ),
        );
    } else if f.name.chars().any(|ch| ch.is_control()) {
        e.insert("name", c.t("campaign.err_name_control").to_string());
    }
    let start = parse_date(&f.starts_on);
    let end = parse_date(&f.ends_on);
    if start.is_none() {
        e.insert("starts_on", c.t("campaign.err_date").to_string());
    }
    if end.is_none() {
        e.insert("ends_on", c.t("campaign.err_date").to_string());
    }
    if let (Some(a), Some(b)) = (start, end)
        && a > b
    {
        e.insert("ends_on", c.t("campaign.err_order").to_string());
    }
    for id in &f.sectors {
        if st.engine.kb.sector(id).is_none() && st.engine.kb.group(id).is_none() {
            e.insert("sectors", c.tf1("campaign.err_sector", "value", id));
        }
    }
    match f.level.parse::<u8>() {
        Ok(1..=4) => {}
        _ => {
            e.insert("level", c.t("campaign.err_level").to_string());
        }
    }
    if !f.region.is_empty() || s.scope == Scope::All {
        let valid = f.region.len() == 6 && f.region.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            e.insert("region", c.t("campaign.err_region").to_string());
        }
    }
    (f, e)
}

async fn create(
    State(st): State<AppState>,
    c: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult {
    let s = staff(&c)?;
    let (f, mut errors) = read_form(&st, &c, &s, &pairs);
    if errors.is_empty() {
        let new = NewCampaign {
            name: f.name.clone(),
            region_code: (!f.region.is_empty() && s.user.role != Role::Cluster)
                .then(|| f.region.clone()),
            starts_on: f.starts_on.clone(),
            ends_on: f.ends_on.clone(),
            target_sectors: f.sectors.clone(),
            target_level: f.level.parse().unwrap_or(2),
        };
        let audit = c.audit(crate::audit::kv(&[("name", &f.name)]));
        match st
            .store
            .create_campaign(&s.scope, s.user.id, &new, auth::now(), &audit)
            .await
        {
            Ok(k) => return Ok(Redirect::to(&format!("/campaigns/{}", k.id)).into_response()),
            // A region outside the caller's, or unknown to the region list.
            Err(StoreError::NotFound | StoreError::Invalid(_)) if !f.region.is_empty() => {
                errors.insert("region", c.t("campaign.err_region_scope").to_string());
            }
            Err(StoreError::Invalid(m)) => {
                tracing::warn!("campaign refused by the store: {m}");
                errors.insert("name", c.t("campaign.err_invalid").to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    form_page(&st, &c, &s, f, errors)
}

// ---- one campaign ---------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct DetailQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    offset: i64,
    /// Reminders just sent.
    sent: Option<u64>,
}

struct MemberRow {
    name: String,
    credit_code: String,
    joined: String,
    status: &'static str,
    status_label: String,
    last_activity: String,
    level: String,
    score: String,
}

struct Tab {
    href: String,
    label: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "campaigns/detail.html")]
struct DetailTpl<'a> {
    c: &'a Ctx,
    k: Campaign,
    level: String,
    sectors: String,
    link: String,
    qr: String,
    counts: MemberCounts,
    tabs: Vec<Tab>,
    members: Vec<MemberRow>,
    shown_total: i64,
    prev: Option<String>,
    next: Option<String>,
    sent: Option<u64>,
    remind_error: String,
    remind_text: String,
    stuck_days: i64,
}

fn member_row(st: &AppState, c: &Ctx, m: &Member) -> MemberRow {
    MemberRow {
        name: m.name.clone(),
        credit_code: m.credit_code.clone().unwrap_or_default(),
        joined: date(m.joined_at),
        status: m.status.as_str(),
        status_label: c
            .t(&format!("campaign.status_{}", m.status.as_str()))
            .to_string(),
        last_activity: m.last_activity_at.map(date).unwrap_or_default(),
        level: m.level.map(|l| level_label(st, c, l)).unwrap_or_default(),
        score: m.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
    }
}

async fn detail_page(
    st: &AppState,
    c: &Ctx,
    headers: &HeaderMap,
    id: i64,
    q: DetailQuery,
    remind: (String, String),
) -> AppResult {
    let s = staff(c)?;
    let k = st.store.campaign(&s.scope, id).await?;
    let now = auth::now();
    let status = MemberStatus::parse(&q.status);
    let offset = page_offset(q.offset);
    let counts = st
        .store
        .member_counts(&s.scope, id, STUCK_AFTER_DAYS, now)
        .await?;
    let (members, shown_total) = st
        .store
        .campaign_members(
            &s.scope,
            id,
            status,
            STUCK_AFTER_DAYS,
            now,
            Page {
                offset,
                limit: PER_PAGE,
            },
        )
        .await?;
    let link = invite_url(c, headers, &k.invite_code);
    let qr = qr_svg(&link).unwrap_or_default();
    let base = format!("/campaigns/{id}");
    let filter = status
        .map(|x| format!("status={}&", x.as_str()))
        .unwrap_or_default();
    let tabs = [
        (None, "campaign.tab_all", counts.members),
        (
            Some(MemberStatus::Joined),
            "campaign.status_joined",
            counts.joined,
        ),
        (
            Some(MemberStatus::Finished),
            "campaign.status_finished",
            counts.finished,
        ),
        (
            Some(MemberStatus::Stuck),
            "campaign.status_stuck",
            counts.stuck,
        ),
    ]
    .into_iter()
    .map(|(x, key, n)| Tab {
        href: match x {
            Some(x) => format!("{base}?status={}#members", x.as_str()),
            None => format!("{base}#members"),
        },
        label: format!("{} ({n})", c.t(key)),
        current: x == status,
    })
    .collect();
    let (prev, next) = pager(offset, PER_PAGE, shown_total);
    let members = members.iter().map(|m| member_row(st, c, m)).collect();
    html(
        if remind.0.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &DetailTpl {
            c,
            level: level_label(st, c, k.target_level),
            sectors: sectors_label(st, c, &k.target_sectors),
            k,
            link,
            qr,
            counts,
            tabs,
            members,
            shown_total,
            prev: prev.map(|p| format!("{base}?{filter}offset={p}#members")),
            next: next.map(|n| format!("{base}?{filter}offset={n}#members")),
            sent: q.sent,
            remind_error: remind.0,
            remind_text: remind.1,
            stuck_days: STUCK_AFTER_DAYS,
        },
    )
}

async fn detail(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> AppResult {
    detail_page(&st, &c, &headers, id, q, Default::default()).await
}

#[derive(Deserialize)]
struct RemindForm {
    #[serde(default)]
    message: String,
}

async fn remind(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<RemindForm>,
) -> AppResult {
    let s = staff(&c)?;
    // Outside the scope: 404 before anything else.
    st.store.campaign(&s.scope, id).await?;
    let text = f.message.trim().to_owned();
    let problem = if text.is_empty() {
        Some(c.t("campaign.err_message_empty").to_string())
    } else if text.chars().count() > smedx_store::regional::MAX_MESSAGE_CHARS {
        Some(c.tf1(
            "campaign.err_message_long",
            "max",
            smedx_store::regional::MAX_MESSAGE_CHARS,
        ))
    } else {
        None
    };
    if let Some(p) = problem {
        return detail_page(&st, &c, &headers, id, DetailQuery::default(), (p, text)).await;
    }
    let audit = c.audit(String::new());
    match st
        .store
        .send_reminders(&s.scope, id, &text, STUCK_AFTER_DAYS, auth::now(), &audit)
        .await
    {
        Ok(n) => Ok(Redirect::to(&format!("/campaigns/{id}?sent={n}#remind")).into_response()),
        Err(StoreError::Invalid(_)) => {
            let p = c.t("campaign.err_message_invalid").to_string();
            detail_page(&st, &c, &headers, id, DetailQuery::default(), (p, text)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_are_svg_and_long_text_is_refused() {
        let svg = qr_svg("https://example.org/join/ABCDEFGHJKMN").expect("qr");
        assert!(svg.contains("<svg"), "{svg}");
        assert!(qr_svg(&"x".repeat(10_000)).is_none());
    }

    #[test]
    fn pager_offsets() {
        assert_eq!(pager(0, 20, 5), (None, None));
        assert_eq!(pager(0, 20, 45), (None, Some(20)));
        assert_eq!(pager(40, 20, 45), (Some(20), None));
    }
}
