//! The JSON API under `/api/v1`: knowledge, search, stateless classify/assess, and the token
//! holder's enterprise's assessments. Bearer tokens instead of cookies (so no CSRF); errors are
//! `{"code", "message", "field"}` with a stable snake_case code and a translated message.
//! The OpenAPI document at `/api/v1/openapi.json` is generated from these handlers.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use smedx_core::Lang;
use smedx_store::{Assessment, AssessmentStatus, Page, StoreError, User};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth;
use crate::i18n;
use crate::pages::{LoginRefused, MAX_QUERY, check_login};
use crate::service::{self, Issue, ServiceError};

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// Every error of the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `validation_failed`, `not_found`, `unauthorized`.
    pub code: String,
    /// The message in the request's language.
    pub message: String,
    /// The field (profile field or question id) a validation error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem, when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldMessage>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(lang: Lang, status: StatusCode, code: &str) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_string(),
                message: i18n::t(lang, &format!("api_errors.{code}")).to_string(),
                field: None,
                errors: Vec::new(),
            },
        }
    }
    fn invalid(lang: Lang, issues: &[Issue]) -> Self {
        let errors: Vec<FieldMessage> = issues
            .iter()
            .map(|i| FieldMessage {
                field: i.field.clone(),
                message: i.message.get(lang).to_string(),
            })
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ErrorBody {
                code: "validation_failed".into(),
                message: errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default(),
                field: errors.first().map(|e| e.field.clone()),
                errors,
            },
        }
    }
    fn store(lang: Lang, e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::new(lang, StatusCode::NOT_FOUND, "not_found"),
            other => {
                tracing::error!("api store error: {other}");
                ApiError::new(lang, StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
    fn service(lang: Lang, e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(issues) => ApiError::invalid(lang, &issues),
            ServiceError::AlreadyComplete => {
                ApiError::new(lang, StatusCode::CONFLICT, "already_complete")
            }
            ServiceError::NotComplete => ApiError::new(lang, StatusCode::CONFLICT, "not_complete"),
            ServiceError::Store(e) => ApiError::store(lang, e),
            ServiceError::Corrupt(e) => {
                tracing::error!("api: {e}");
                ApiError::new(lang, StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

// ---------------------------------------------------------------------------------------------
// Extractors: language, bearer user, JSON body with JSON errors
// ---------------------------------------------------------------------------------------------

/// `?lang=en|zh`, else Accept-Language, else Chinese.
#[derive(Clone, Copy)]
pub struct ApiLang(pub Lang);

fn lang_of(parts: &Parts) -> Option<Lang> {
    let q = parts.uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    q.or_else(|| {
        parts
            .headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(i18n::from_accept_language)
    })
}

impl<S: Send + Sync> FromRequestParts<S> for ApiLang {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiLang(lang_of(parts).unwrap_or_default()))
    }
}

/// The user a bearer token belongs to (language: request, else the user's own, else Chinese).
pub struct ApiUser {
    pub user: User,
    pub lang: Lang,
}

impl ApiUser {
    fn enterprise(&self) -> ApiResult<i64> {
        self.user
            .enterprise_id
            .ok_or_else(|| ApiError::new(self.lang, StatusCode::FORBIDDEN, "no_enterprise"))
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let asked = lang_of(parts);
        let lang = asked.unwrap_or_default();
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| ApiError::new(lang, StatusCode::UNAUTHORIZED, "unauthorized"))?;
        let user = st
            .store
            .api_token_user(&auth::sha256_hex(token))
            .await
            .map_err(|e| ApiError::store(lang, e))?
            .ok_or_else(|| ApiError::new(lang, StatusCode::UNAUTHORIZED, "unauthorized"))?;
        let lang = asked
            .or_else(|| user.lang.as_deref().and_then(Lang::parse))
            .unwrap_or_default();
        Ok(ApiUser { user, lang })
    }
}

/// A JSON body whose problems are reported as API errors (not axum's plain-text rejections).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let lang = lang_of(&parts).unwrap_or_default();
        let req = Request::from_parts(parts.clone(), body);
        let bytes = Bytes::from_request(req, st)
            .await
            .map_err(|_| ApiError::new(lang, StatusCode::PAYLOAD_TOO_LARGE, "too_large"))?;
        let _ = &mut parts;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text).map(ApiJson).map_err(|e| {
            let mut err = ApiError::new(lang, StatusCode::BAD_REQUEST, "invalid_json");
            err.body.message = format!("{} ({e})", err.body.message);
            err
        })
    }
}

// ---------------------------------------------------------------------------------------------
// OpenAPI
// ---------------------------------------------------------------------------------------------

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "smedx API",
        version = "1",
        description = "SME digital-transformation navigator. Get a token with POST /api/v1/tokens, \
then send `Authorization: Bearer <token>`. `?lang=en|zh` (or Accept-Language) picks the language of messages."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "API tokens"),
        (name = "knowledge", description = "The knowledge base (public)"),
        (name = "engine", description = "Stateless classification and assessment"),
        (name = "assessments", description = "The token holder's enterprise's assessments")
    )
)]
struct ApiDoc;

pub fn router(state: AppState) -> Router {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_token))
        .routes(routes!(list_scenarios))
        .routes(routes!(get_scenario))
        .routes(routes!(list_sectors))
        .routes(routes!(list_cases))
        .routes(routes!(search))
        .routes(routes!(classify))
        .routes(routes!(assess))
        .routes(routes!(list_assessments, create_assessment))
        .routes(routes!(get_assessment))
        .routes(routes!(put_profile))
        .routes(routes!(put_answers))
        .routes(routes!(complete_assessment))
        .routes(routes!(get_result))
        .split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/v1/{*rest}", axum::routing::any(api_not_found))
        .with_state(state)
}

async fn api_not_found(ApiLang(l): ApiLang) -> ApiError {
    ApiError::new(l, StatusCode::NOT_FOUND, "not_found")
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    email: String,
    password: String,
    /// A label for the token, e.g. the script that uses it.
    #[serde(default)]
    name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    token: String,
    token_type: String,
}

/// Exchange an e-mail address and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 201, description = "Token created", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody)
    ))]
async fn create_token(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let user = match check_login(&st, &req.email, &req.password)
        .await
        .map_err(|e| ApiError::store(l, e))?
    {
        Ok(u) => u,
        Err(LoginRefused::Wrong) => {
            return Err(ApiError::new(l, StatusCode::UNAUTHORIZED, "login_failed"));
        }
        Err(LoginRefused::TooMany) => {
            return Err(ApiError::new(
                l,
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
            ));
        }
    };
    let token = auth::new_token();
    let name: String = req
        .name
        .unwrap_or_else(|| "api".into())
        .chars()
        .take(100)
        .collect();
    st.store
        .create_api_token(user.id, &name, &auth::sha256_hex(&token))
        .await
        .map_err(|e| ApiError::store(l, e))?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            token,
            token_type: "bearer".into(),
        }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Knowledge and search
// ---------------------------------------------------------------------------------------------

/// The 42 scenarios (bilingual).
#[utoipa::path(get, path = "/api/v1/scenarios", tag = "knowledge",
    responses((status = 200, description = "All scenarios", body = serde_json::Value)))]
async fn list_scenarios(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(json!(st.engine.kb.scenarios))
}

/// One scenario with the report cases that used it.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "Scenario id, e.g. pl.transparency")),
    responses(
        (status = 200, description = "The scenario", body = serde_json::Value),
        (status = 404, description = "No such scenario", body = ErrorBody)
    ))]
async fn get_scenario(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let kb = &st.engine.kb;
    let s = kb
        .scenario(&id)
        .ok_or_else(|| ApiError::new(l, StatusCode::NOT_FOUND, "not_found"))?;
    let cases: Vec<&str> = kb
        .cases
        .iter()
        .filter(|c| c.scenarios.contains(&s.id))
        .map(|c| c.id.as_str())
        .collect();
    Ok(Json(json!({
        "scenario": s,
        "cost_range": kb.rules.cost_tiers.range(s.cost_tier),
        "cases": cases,
    })))
}

/// The ten sub-sectors.
#[utoipa::path(get, path = "/api/v1/sectors", tag = "knowledge",
    responses((status = 200, description = "Sub-sectors", body = serde_json::Value)))]
async fn list_sectors(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(json!(st.engine.kb.sectors))
}

/// The report's cases.
#[utoipa::path(get, path = "/api/v1/cases", tag = "knowledge",
    responses((status = 200, description = "Cases", body = serde_json::Value)))]
async fn list_cases(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(json!(st.engine.kb.cases))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// A pain point in plain words (Chinese or English).
    #[serde(default)]
    q: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitBody {
    scenario: String,
    name: String,
    relevance: f64,
    matched: Vec<String>,
}

/// Scenarios matching a pain point in plain words, with the words that matched.
#[utoipa::path(get, path = "/api/v1/search", tag = "knowledge", params(SearchParams),
    responses((status = 200, description = "Matches, best first", body = Vec<SearchHitBody>)))]
async fn search(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    Query(p): Query<SearchParams>,
) -> Json<Vec<SearchHitBody>> {
    let q: String = p.q.chars().take(MAX_QUERY).collect();
    let kb = &st.engine.kb;
    Json(
        st.engine
            .index
            .search(kb, &q)
            .into_iter()
            .take(20)
            .map(|h| SearchHitBody {
                name: crate::view::scenario_name(kb, &h.scenario, l),
                scenario: h.scenario,
                relevance: h.relevance,
                matched: h.matched,
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Stateless engine
// ---------------------------------------------------------------------------------------------

/// Classify a profile (README "Profile format"; money in yuan).
#[utoipa::path(post, path = "/api/v1/classify", tag = "engine",
    request_body(content = serde_json::Value, description = "A profile document"),
    responses(
        (status = 200, description = "Size class, sub-sector, complexity, chain position, paths", body = serde_json::Value),
        (status = 422, description = "The profile is invalid (field named)", body = ErrorBody)
    ))]
async fn classify(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let p = service::validate_profile(&st.engine, &doc).map_err(|i| ApiError::invalid(l, &i))?;
    let c = smedx_core::classify::classify(&st.engine.kb, &p).map_err(|e| {
        ApiError::invalid(
            l,
            &[Issue {
                field: "industry".into(),
                message: e.localized(),
            }],
        )
    })?;
    Ok(Json(json!(c)))
}

#[derive(Deserialize, ToSchema)]
pub struct AssessRequest {
    /// A profile document.
    #[schema(value_type = Object)]
    profile: serde_json::Value,
    /// Questionnaire answers keyed by question id (optional).
    #[serde(default)]
    #[schema(value_type = Object)]
    answers: Option<serde_json::Value>,
}

/// Full diagnosis without storing anything: classification, level and gap (with answers),
/// ranked recommendations with reasons, roadmap, peer cases.
#[utoipa::path(post, path = "/api/v1/assess", tag = "engine", request_body = AssessRequest,
    responses(
        (status = 200, description = "The report", body = serde_json::Value),
        (status = 422, description = "Invalid profile or answers (field named)", body = ErrorBody)
    ))]
async fn assess(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    ApiJson(req): ApiJson<AssessRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut issues = Vec::new();
    let p = service::validate_profile(&st.engine, &req.profile).map_err(|e| issues.extend(e));
    let a = match &req.answers {
        Some(doc) => service::validate_answers(&st.engine, doc)
            .map(Some)
            .map_err(|e| issues.extend(e)),
        None => Ok(None),
    };
    let (Ok(p), Ok(a)) = (p, a) else {
        return Err(ApiError::invalid(l, &issues));
    };
    let report = st.engine.run(&p, a.as_ref()).map_err(|e| {
        ApiError::invalid(
            l,
            &[Issue {
                field: "industry".into(),
                message: e.localized(),
            }],
        )
    })?;
    Ok(Json(json!(report)))
}

// ---------------------------------------------------------------------------------------------
// Assessments of the token holder's enterprise
// ---------------------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct AssessmentSummary {
    id: i64,
    /// draft | complete
    status: String,
    step: i64,
    score: Option<f64>,
    level: Option<i64>,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

impl From<&Assessment> for AssessmentSummary {
    fn from(a: &Assessment) -> Self {
        AssessmentSummary {
            id: a.id,
            status: match a.status {
                AssessmentStatus::Draft => "draft".into(),
                AssessmentStatus::Complete => "complete".into(),
            },
            step: a.step,
            score: a.score,
            level: a.level,
            created_at: a.created_at,
            updated_at: a.updated_at,
            completed_at: a.completed_at,
        }
    }
}

fn detail(a: &Assessment) -> serde_json::Value {
    json!({
        "id": a.id,
        "status": a.status,
        "step": a.step,
        "profile": a.profile,
        "answers": a.answers,
        "score": a.score,
        "level": a.level,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "completed_at": a.completed_at,
    })
}

/// The enterprise's assessments, newest first.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "assessments", security(("bearer" = [])),
    responses(
        (status = 200, description = "Assessments", body = Vec<AssessmentSummary>),
        (status = 401, description = "No or unknown token", body = ErrorBody)
    ))]
async fn list_assessments(
    State(st): State<AppState>,
    u: ApiUser,
) -> ApiResult<Json<Vec<AssessmentSummary>>> {
    let ent = u.enterprise()?;
    let (list, _) = st
        .store
        .list_assessments(
            ent,
            Page {
                offset: 0,
                limit: 500,
            },
        )
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    Ok(Json(list.iter().map(AssessmentSummary::from).collect()))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct CreateAssessment {
    /// Start from this assessment's profile and answers (re-assessment).
    #[serde(default)]
    copy_from: Option<i64>,
}

/// Start a new draft (optionally copying an earlier assessment's profile and answers).
#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments", security(("bearer" = [])),
    request_body = CreateAssessment,
    responses(
        (status = 201, description = "The new draft", body = serde_json::Value),
        (status = 404, description = "copy_from does not exist", body = ErrorBody)
    ))]
async fn create_assessment(
    State(st): State<AppState>,
    u: ApiUser,
    ApiJson(req): ApiJson<CreateAssessment>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let ent = u.enterprise()?;
    if let Some(src) = req.copy_from {
        // Only the enterprise's own assessments can be copied.
        st.store
            .assessment(ent, src)
            .await
            .map_err(|e| ApiError::store(u.lang, e))?;
    }
    let a = st
        .store
        .create_assessment(ent, req.copy_from, auth::now())
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    Ok((StatusCode::CREATED, Json(detail(&a))))
}

async fn load(st: &AppState, u: &ApiUser, id: i64) -> ApiResult<(i64, Assessment)> {
    let ent = u.enterprise()?;
    let a = st
        .store
        .assessment(ent, id)
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    Ok((ent, a))
}

/// One assessment: status, profile and answers.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    responses(
        (status = 200, description = "The assessment", body = serde_json::Value),
        (status = 404, description = "Not found (or another enterprise's)", body = ErrorBody)
    ))]
async fn get_assessment(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let (_, a) = load(&st, &u, id).await?;
    Ok(Json(detail(&a)))
}

fn draft_only(u: &ApiUser, a: &Assessment) -> ApiResult<()> {
    if a.status == AssessmentStatus::Complete {
        Err(ApiError::new(
            u.lang,
            StatusCode::CONFLICT,
            "already_complete",
        ))
    } else {
        Ok(())
    }
}

/// Replace the profile of a draft (validated in full; every problem names its field).
#[utoipa::path(put, path = "/api/v1/assessments/{id}/profile", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    request_body(content = serde_json::Value, description = "A profile document"),
    responses(
        (status = 200, description = "Saved", body = serde_json::Value),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Already complete", body = ErrorBody),
        (status = 422, description = "Invalid (field named)", body = ErrorBody)
    ))]
async fn put_profile(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let (ent, a) = load(&st, &u, id).await?;
    draft_only(&u, &a)?;
    service::validate_profile(&st.engine, &doc).map_err(|i| ApiError::invalid(u.lang, &i))?;
    st.store
        .save_step(ent, id, a.step.max(1), &doc, &a.answers, auth::now())
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    get_assessment(State(st), u, Path(id)).await
}

/// Replace the answers of a draft (keyed by question id, plus `scenarios` and `obstacles`).
#[utoipa::path(put, path = "/api/v1/assessments/{id}/answers", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    request_body(content = serde_json::Value, description = "An answers document"),
    responses(
        (status = 200, description = "Saved", body = serde_json::Value),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Already complete", body = ErrorBody),
        (status = 422, description = "Invalid (question named in `field`)", body = ErrorBody)
    ))]
async fn put_answers(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let (ent, a) = load(&st, &u, id).await?;
    draft_only(&u, &a)?;
    service::validate_answers(&st.engine, &doc).map_err(|i| ApiError::invalid(u.lang, &i))?;
    // With a profile in place the wizard can go straight to the last step.
    let step = if a.step >= 1 { a.step.max(5) } else { a.step };
    st.store
        .save_step(ent, id, step, &a.profile, &doc, auth::now())
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    get_assessment(State(st), u, Path(id)).await
}

/// Run the engine on the draft and store the report; the assessment becomes complete.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/complete", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    responses(
        (status = 200, description = "The report", body = serde_json::Value),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Already complete", body = ErrorBody),
        (status = 422, description = "Profile or answers incomplete (field named)", body = ErrorBody)
    ))]
async fn complete_assessment(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let ent = u.enterprise()?;
    let report = service::complete(&st.engine, st.store.as_ref(), ent, id, auth::now())
        .await
        .map_err(|e| ApiError::service(u.lang, e))?;
    Ok(Json(json!(report)))
}

/// The stored report of a complete assessment.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/result", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    responses(
        (status = 200, description = "The report", body = serde_json::Value),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 409, description = "Not complete yet", body = ErrorBody)
    ))]
async fn get_result(
    State(st): State<AppState>,
    u: ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let (_, a) = load(&st, &u, id).await?;
    let r = a
        .result
        .ok_or_else(|| ApiError::new(u.lang, StatusCode::CONFLICT, "not_complete"))?;
    Ok(Json(r))
}
