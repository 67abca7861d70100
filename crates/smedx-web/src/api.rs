//! The JSON API under `/api/v1`: knowledge, search, stateless classify/assess, and the token
//! holder's enterprise's assessments. Bearer tokens instead of cookies (so no CSRF); errors are
//! `{"code", "message", "field"}` with a stable snake_case code and a translated message.
//! The OpenAPI document at `/api/v1/openapi.json` is generated from these handlers.

use axum::body::Bytes;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{
    FromRequest, FromRequestParts, Path, Query, RawPathParams, RawQuery, Request, State,
};
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use smedx_core::Lang;
use smedx_store::{
    Assessment, AssessmentStatus, AuditCtx, AuditEntry, Page, Role, StoreError, User,
};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::audit;
use crate::auth;
use crate::i18n;
use crate::pages::{Client, LoginRefused, MAX_QUERY, check_login};
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
            StoreError::Unavailable(e) => {
                tracing::error!("api: database unavailable: {e}");
                ApiError::new(lang, StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
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

fn lang_from(uri: &Uri, headers: &HeaderMap) -> Option<Lang> {
    let q = uri.query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    q.or_else(|| {
        headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(i18n::from_accept_language)
    })
}

fn lang_of(parts: &Parts) -> Option<Lang> {
    lang_from(&parts.uri, &parts.headers)
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
    /// The client's address (for the audit log).
    pub ip: Option<String>,
}

impl ApiUser {
    fn enterprise(&self) -> ApiResult<i64> {
        self.user
            .enterprise_id
            .ok_or_else(|| ApiError::new(self.lang, StatusCode::FORBIDDEN, "no_enterprise"))
    }
    fn require_admin(&self) -> ApiResult<()> {
        if self.user.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(self.lang, StatusCode::FORBIDDEN, "forbidden"))
        }
    }
    /// The audit context of a change made with this token.
    fn audit(&self, detail: String) -> AuditCtx {
        AuditCtx {
            at: auth::now(),
            actor_user_id: Some(self.user.id),
            ip: self.ip.clone(),
            detail,
        }
    }
}

/// The client's address.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(audit::client_ip(&parts.extensions)))
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
        Ok(ApiUser {
            user,
            lang,
            ip: audit::client_ip(&parts.extensions),
        })
    }
}

/// What a request's Content-Type says its body is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    /// `application/json` or `application/…+json`, any parameters (charset).
    Json,
    /// An HTML form (urlencoded or multipart): a common mistake, reported as "not JSON".
    Form,
    /// Anything else, or no Content-Type at all.
    Other,
}

fn body_kind(parts: &Parts) -> BodyKind {
    let Some(v) = parts.headers.get(CONTENT_TYPE) else {
        return BodyKind::Other;
    };
    let mime = v
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        BodyKind::Json
    } else if mime == "application/x-www-form-urlencoded" || mime == "multipart/form-data" {
        BodyKind::Form
    } else {
        BodyKind::Other
    }
}

/// The first `name` in backquotes of an error message, for the messages that name a field
/// ("missing field `email`", "duplicate field `q`", "unknown field `x`").
fn field_in(message: &str) -> Option<String> {
    if !message.contains(" field `") {
        return None;
    }
    let rest = &message[message.find('`')? + 1..];
    Some(rest[..rest.find('`')?].to_string())
}

/// Reads a JSON body: `Ok(None)` when it is empty (or only white space), which an operation
/// with an optional body accepts and the others refuse.
///
/// Errors: 413 `too_large` over [`crate::BODY_LIMIT`]; 415 `unsupported_media_type` unless the
/// Content-Type is JSON (an HTML form is a 400 `invalid_json`, the usual mistake); 400
/// `invalid_json` (with `field` when the message names one) when it does not parse into `T`.
async fn read_json<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    st: &S,
) -> Result<Option<T>, ApiError> {
    let (parts, body) = req.into_parts();
    let lang = lang_of(&parts).unwrap_or_default();
    let kind = body_kind(&parts);
    let bytes = Bytes::from_request(Request::from_parts(parts, body), st)
        .await
        .map_err(|_| ApiError::new(lang, StatusCode::PAYLOAD_TOO_LARGE, "too_large"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match kind {
        BodyKind::Json => {}
        BodyKind::Form => {
            let mut err = ApiError::new(lang, StatusCode::BAD_REQUEST, "invalid_json");
            err.body.message = i18n::t(lang, "api_errors.form_body").to_string();
            return Err(err);
        }
        BodyKind::Other => {
            return Err(ApiError::new(
                lang,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ));
        }
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        let mut err = ApiError::new(lang, StatusCode::BAD_REQUEST, "invalid_json");
        let detail = e.to_string();
        err.body.field = field_in(&detail);
        err.body.message = format!("{} ({detail})", err.body.message);
        err
    })
}

/// A required JSON body whose problems are reported as API errors (not axum's plain-text
/// rejections); see [`read_json`]. An empty body is a 400 `invalid_json`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of_request(&req);
        match read_json(req, st).await? {
            Some(v) => Ok(ApiJson(v)),
            None => {
                let mut err = ApiError::new(lang, StatusCode::BAD_REQUEST, "invalid_json");
                err.body.message = i18n::t(lang, "api_errors.empty_body").to_string();
                Err(err)
            }
        }
    }
}

/// An optional JSON body: none, an empty one or `null` is `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, st: &S) -> Result<Self, Self::Rejection> {
        let v: Option<Option<T>> = read_json(req, st).await?;
        Ok(OptionalJson(v.flatten().unwrap_or_default()))
    }
}

fn lang_of_request(req: &Request) -> Lang {
    lang_from(req.uri(), req.headers()).unwrap_or_default()
}

/// Path parameters; one that does not parse (`/assessments/abc`) is a 400 `invalid_path` naming
/// the parameter, in JSON like every other error of the API.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, Self::Rejection> {
        let rejection = match Path::<T>::from_request_parts(parts, st).await {
            Ok(Path(v)) => return Ok(ApiPath(v)),
            Err(r) => r,
        };
        let lang = lang_of(parts).unwrap_or_default();
        if rejection.status().is_server_error() {
            tracing::error!("api path parameters: {}", rejection.body_text());
            return Err(ApiError::new(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
            ));
        }
        let named = match &rejection {
            PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                ErrorKind::ParseErrorAtKey { key, .. }
                | ErrorKind::InvalidUtf8InPathParam { key }
                | ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                _ => None,
            },
            _ => None,
        };
        // A single parameter (`{id}`) is not named by the error: it is the only one.
        let field = match named {
            Some(k) => Some(k),
            None => RawPathParams::from_request_parts(parts, st)
                .await
                .ok()
                .and_then(|p| {
                    let keys: Vec<&str> = p.iter().map(|(k, _)| k).collect();
                    (keys.len() == 1).then(|| keys[0].to_string())
                }),
        };
        let mut err = ApiError::new(lang, StatusCode::BAD_REQUEST, "invalid_path");
        err.body.message = format!("{} ({})", err.body.message, rejection.body_text());
        err.body.field = field;
        Err(err)
    }
}

/// Query parameters; a query that does not parse (a repeated or malformed parameter) is a 400
/// `invalid_query`, with `field` when the problem names one.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, st).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => {
                let lang = lang_of(parts).unwrap_or_default();
                let detail = rejection.body_text();
                let mut err = ApiError::new(lang, StatusCode::BAD_REQUEST, "invalid_query");
                err.body.field = field_in(&detail);
                err.body.message = format!("{} ({detail})", err.body.message);
                Err(err)
            }
        }
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
        (name = "assessments", description = "The token holder's enterprise's assessments"),
        (name = "admin", description = "Administration (administrators' tokens only)")
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
        .routes(routes!(admin_audit))
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
        .method_not_allowed_fallback(api_method_not_allowed)
        .with_state(state)
}

async fn api_not_found(ApiLang(l): ApiLang) -> ApiError {
    ApiError::new(l, StatusCode::NOT_FOUND, "not_found")
}

/// 405 with the JSON error (axum keeps the `Allow` header).
async fn api_method_not_allowed(ApiLang(l): ApiLang) -> ApiError {
    ApiError::new(l, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    email: String,
    password: String,
    /// A label for the token, e.g. the script that uses it (no control characters; cut to 100
    /// characters).
    #[serde(default)]
    #[schema(pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
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
        (status = 400, description = "`invalid_json`: the body is empty, not JSON, or not of this shape (`field` names a missing or unknown field)", body = ErrorBody),
        (status = 401, description = "`login_failed`: wrong e-mail or password", body = ErrorBody),
        (status = 413, description = "`too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not labelled `application/json`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the name holds control characters (`field`: `name`)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failed attempts for this address", body = ErrorBody)
    ))]
async fn create_token(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    // Checked before anything is looked up or recorded.
    if req
        .name
        .as_deref()
        .is_some_and(|n| service::has_control_chars(n, false))
    {
        return Err(ApiError::invalid(
            l,
            &[Issue {
                field: "name".into(),
                message: smedx_core::Localized::new(
                    i18n::t(Lang::Zh, "errors.control_chars"),
                    i18n::t(Lang::En, "errors.control_chars"),
                ),
            }],
        ));
    }
    let client = Client {
        ip: ip.clone(),
        channel: "api",
    };
    let user = match check_login(&st, &req.email, &req.password, &client)
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
    let audit = AuditCtx {
        at: auth::now(),
        actor_user_id: Some(user.id),
        ip,
        detail: audit::kv(&[("name", &name)]),
    };
    st.store
        .create_api_token_audited(user.id, &name, &auth::sha256_hex(&token), &audit)
        .await
        .map_err(|e| ApiError::store(l, e))?;
    tracing::info!(user_id = user.id, "API token created");
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
        (status = 400, description = "`invalid_path`: a path parameter does not parse (`field` names it)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such scenario", body = ErrorBody)
    ))]
async fn get_scenario(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    ApiPath(id): ApiPath<String>,
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
    responses(
        (status = 200, description = "Matches, best first", body = Vec<SearchHitBody>),
        (status = 400, description = "`invalid_query`: a query parameter does not parse (`field` names it)", body = ErrorBody)
    ))]
async fn search(
    State(st): State<AppState>,
    ApiLang(l): ApiLang,
    ApiQuery(p): ApiQuery<SearchParams>,
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
// Documents (for the OpenAPI document only: the handlers take JSON and validate it in full, so
// every problem is reported with its field)
// ---------------------------------------------------------------------------------------------

/// Product complexity.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProductComplexity)]
#[allow(dead_code)]
enum ComplexityDoc {
    Low,
    Medium,
    High,
}

/// Place in the industrial chain.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ChainPosition)]
#[allow(dead_code)]
enum PositionDoc {
    Upstream,
    Midstream,
    Downstream,
}

/// A profile document (README "Profile format"; money in yuan). A null field is the same as
/// leaving it out; an unknown field is an error. Besides `industry`, the figures the size rule
/// of the industry uses are required (e.g. employees and revenue in manufacturing), and the
/// industry must be one of the knowledge base's: such problems are 422s naming the field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Profile)]
#[allow(dead_code)]
struct ProfileDoc {
    /// The enterprise's name.
    #[schema(max_length = 200)]
    name: Option<String>,
    /// A GB/T 4754 industry code (e.g. `C3311`) or one of the ten sub-sector ids (e.g. `metal`).
    #[schema(example = "C3311")]
    industry: String,
    /// People employed.
    #[schema(minimum = 0, maximum = 1e15, example = 85)]
    employees: Option<f64>,
    /// Revenue of the last year, yuan.
    #[schema(minimum = 0, maximum = 1e15, example = 32000000)]
    revenue: Option<f64>,
    /// Total assets, yuan.
    #[schema(minimum = 0, maximum = 1e15)]
    assets: Option<f64>,
    /// Budget for digital transformation, yuan.
    #[schema(minimum = 0, maximum = 1e15)]
    budget: Option<f64>,
    product_complexity: Option<ComplexityDoc>,
    chain_position: Option<PositionDoc>,
    in_cluster: Option<bool>,
    supplies_chain_leader: Option<bool>,
    uses_platform: Option<bool>,
    /// Scenario ids already in use.
    adopted: Option<Vec<String>>,
    /// Pain points in plain words.
    #[schema(max_length = 4000)]
    pain_points: Option<String>,
}

/// An answers document (README "Answers format"): answers keyed by question id (an option id,
/// a list of option ids, or an object of figures, each at most 10^15), plus `scenarios` and
/// `obstacles`. Unknown question ids and figures that do not fit the question are 422s naming
/// the question.
struct AnswersDoc;

impl utoipa::PartialSchema for AnswersDoc {
    fn schema() -> RefOr<Schema> {
        let ratings = ObjectBuilder::new()
            .description(Some(
                "Scenario levels 0–4 keyed by scenario id (unrated counts as 0)",
            ))
            .additional_properties(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(4)),
            ));
        let obstacles = ObjectBuilder::new()
            .description(Some("Obstacles the firm has, keyed by obstacle id"))
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::Boolean)));
        ObjectBuilder::new()
            .description(Some(
                "Answers keyed by question id, plus `scenarios` and `obstacles`",
            ))
            .property("scenarios", ratings)
            .property("obstacles", obstacles)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .examples([json!({
                "network": ["shopfloor_control"],
                "information_systems": "multiple",
                "equipment_digital": {"digital": 14, "total": 40},
                "scenarios": {"production_control": 2},
                "obstacles": {"budget": true}
            })])
            .into()
    }
}

impl ToSchema for AnswersDoc {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Answers")
    }
}

// ---------------------------------------------------------------------------------------------
// Stateless engine
// ---------------------------------------------------------------------------------------------

/// Classify a profile (README "Profile format"; money in yuan).
#[utoipa::path(post, path = "/api/v1/classify", tag = "engine",
    request_body(content = ProfileDoc, description = "A profile document"),
    responses(
        (status = 200, description = "Size class, sub-sector, complexity, chain position, paths", body = serde_json::Value),
        (status = 400, description = "`invalid_json`: the body is empty, not JSON, or not of this shape (`field` names a missing or unknown field)", body = ErrorBody),
        (status = 413, description = "`too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not labelled `application/json`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the profile is invalid (`field` names the first problem, `errors` lists all)", body = ErrorBody)
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
    #[schema(value_type = ProfileDoc)]
    profile: serde_json::Value,
    /// Questionnaire answers keyed by question id (optional).
    #[serde(default)]
    #[schema(value_type = Option<AnswersDoc>)]
    answers: Option<serde_json::Value>,
}

/// Full diagnosis without storing anything: classification, level and gap (with answers),
/// ranked recommendations with reasons, roadmap, peer cases.
#[utoipa::path(post, path = "/api/v1/assess", tag = "engine", request_body = AssessRequest,
    responses(
        (status = 200, description = "The report", body = serde_json::Value),
        (status = 400, description = "`invalid_json`: the body is empty, not JSON, or not of this shape (`field` names a missing or unknown field)", body = ErrorBody),
        (status = 413, description = "`too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not labelled `application/json`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: invalid profile or answers (`field` names the first problem, `errors` lists all)", body = ErrorBody)
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
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody)
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
    request_body(content = Option<CreateAssessment>, description = "Optional: no body (or `{}`) starts an empty draft"),
    responses(
        (status = 201, description = "The new draft", body = serde_json::Value),
        (status = 400, description = "`invalid_json`: the body is empty, not JSON, or not of this shape (`field` names a missing or unknown field)", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody),
        (status = 404, description = "`not_found`: `copy_from` does not exist (or is another enterprise's)", body = ErrorBody),
        (status = 413, description = "`too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not labelled `application/json`", body = ErrorBody)
    ))]
async fn create_assessment(
    State(st): State<AppState>,
    u: ApiUser,
    OptionalJson(req): OptionalJson<CreateAssessment>,
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
        (status = 400, description = "`invalid_path`: a path parameter does not parse (`field` names it)", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such assessment, or another enterprise's", body = ErrorBody)
    ))]
async fn get_assessment(
    State(st): State<AppState>,
    u: ApiUser,
    ApiPath(id): ApiPath<i64>,
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
    request_body(content = ProfileDoc, description = "A profile document"),
    responses(
        (status = 200, description = "Saved; the assessment", body = serde_json::Value),
        (status = 400, description = "`invalid_json`: the body is empty, not JSON, or not of this shape; `invalid_path`: the id does not parse", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such assessment, or another enterprise's", body = ErrorBody),
        (status = 409, description = "`already_complete`: the assessment is complete and can no longer change", body = ErrorBody),
        (status = 413, description = "`too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not labelled `application/json`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the profile is invalid (`field` names the first problem, `errors` lists all)", body = ErrorBody)
    ))]
async fn put_profile(
    State(st): State<AppState>,
    u: ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let (ent, a) = load(&st, &u, id).await?;
    draft_only(&u, &a)?;
    service::validate_profile(&st.engine, &doc).map_err(|i| ApiError::invalid(u.lang, &i))?;
    st.store
        .save_step(ent, id, a.step.max(1), &doc, &a.answers, auth::now())
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    get_assessment(State(st), u, ApiPath(id)).await
}

/// Replace the answers of a draft (keyed by question id, plus `scenarios` and `obstacles`).
#[utoipa::path(put, path = "/api/v1/assessments/{id}/answers", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    request_body(content = AnswersDoc, description = "An answers document"),
    responses(
        (status = 200, description = "Saved; the assessment", body = serde_json::Value),
        (status = 400, description = "`invalid_json`: the body is empty, not JSON, or not of this shape; `invalid_path`: the id does not parse", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such assessment, or another enterprise's", body = ErrorBody),
        (status = 409, description = "`already_complete`: the assessment is complete and can no longer change", body = ErrorBody),
        (status = 413, description = "`too_large`: the body is over 256 KiB", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: the body is not labelled `application/json`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the answers are invalid (`field` names the question)", body = ErrorBody)
    ))]
async fn put_answers(
    State(st): State<AppState>,
    u: ApiUser,
    ApiPath(id): ApiPath<i64>,
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
    get_assessment(State(st), u, ApiPath(id)).await
}

/// Run the engine on the draft and store the report; the assessment becomes complete.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/complete", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    responses(
        (status = 200, description = "The report", body = serde_json::Value),
        (status = 400, description = "`invalid_path`: a path parameter does not parse (`field` names it)", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such assessment, or another enterprise's", body = ErrorBody),
        (status = 409, description = "`already_complete`: the assessment is complete and can no longer change", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the profile or answers are incomplete (`field` named)", body = ErrorBody)
    ))]
async fn complete_assessment(
    State(st): State<AppState>,
    u: ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let ent = u.enterprise()?;
    let audit = u.audit(String::new());
    let report = service::complete(&st.engine, st.store.as_ref(), ent, id, auth::now(), &audit)
        .await
        .map_err(|e| ApiError::service(u.lang, e))?;
    Ok(Json(json!(report)))
}

/// The stored report of a complete assessment.
#[utoipa::path(get, path = "/api/v1/assessments/{id}/result", tag = "assessments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Assessment id")),
    responses(
        (status = 200, description = "The report", body = serde_json::Value),
        (status = 400, description = "`invalid_path`: a path parameter does not parse (`field` names it)", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`no_enterprise`: the token's account belongs to no enterprise (an administrator)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such assessment, or another enterprise's", body = ErrorBody),
        (status = 409, description = "`not_complete`: not complete yet", body = ErrorBody)
    ))]
async fn get_result(
    State(st): State<AppState>,
    u: ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let (_, a) = load(&st, &u, id).await?;
    let r = a
        .result
        .ok_or_else(|| ApiError::new(u.lang, StatusCode::CONFLICT, "not_complete"))?;
    Ok(Json(r))
}

// ---------------------------------------------------------------------------------------------
// Administration
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Entries to skip (newest first).
    #[serde(default)]
    offset: i64,
    /// Entries to return, 1–200 (default 50).
    #[serde(default)]
    limit: Option<i64>,
}

/// One entry of the audit log.
#[derive(Serialize, ToSchema)]
pub struct AuditEntryBody {
    id: i64,
    /// Unix seconds (UTC).
    at: i64,
    actor_user_id: Option<i64>,
    actor_email: Option<String>,
    /// login_ok, login_failed, logout, signup, admin_created, password_reset, colleague_added,
    /// assessment_completed, api_token_created (more may come).
    action: String,
    /// What it was done to, e.g. `user:12`, `assessment:40`, or the e-mail address of a failed log-in.
    target: String,
    /// key=value facts.
    detail: String,
    ip: Option<String>,
}

impl From<AuditEntry> for AuditEntryBody {
    fn from(e: AuditEntry) -> Self {
        AuditEntryBody {
            id: e.id,
            at: e.at,
            actor_user_id: e.actor_user_id,
            actor_email: e.actor_email,
            action: e.action,
            target: e.target,
            detail: e.detail,
            ip: e.ip,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    total: i64,
    offset: i64,
    limit: i64,
    /// Newest first.
    items: Vec<AuditEntryBody>,
}

/// The audit log, newest first (administrators' tokens only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditPage),
        (status = 400, description = "`invalid_query`: a query parameter does not parse (`field` names it)", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or an unknown one", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an administrator", body = ErrorBody)
    ))]
async fn admin_audit(
    State(st): State<AppState>,
    u: ApiUser,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<AuditPage>> {
    u.require_admin()?;
    // Parsed here, so a bad number is a JSON error like every other of the API.
    let mut p = AuditParams {
        offset: 0,
        limit: None,
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let target = match k.as_ref() {
            "offset" => &mut p.offset,
            "limit" => p.limit.insert(0),
            _ => continue,
        };
        *target = v.trim().parse().map_err(|_| {
            let mut err = ApiError::new(u.lang, StatusCode::BAD_REQUEST, "invalid_query");
            err.body.field = Some(k.into_owned());
            err
        })?;
    }
    let limit = p.limit.unwrap_or(50).clamp(1, 200);
    let offset = crate::pages::page_offset(p.offset);
    let (entries, total) = st
        .store
        .list_audit(Page { offset, limit })
        .await
        .map_err(|e| ApiError::store(u.lang, e))?;
    Ok(Json(AuditPage {
        total,
        offset,
        limit,
        items: entries.into_iter().map(AuditEntryBody::from).collect(),
    }))
}
