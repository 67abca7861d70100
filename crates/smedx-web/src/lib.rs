//! The smedx web application: server-rendered pages (askama), a JSON API under `/api/v1` with an
//! OpenAPI document generated from the code, accounts and sessions, per-request i18n, and the
//! static assets (CSS, the chart script, vendored ECharts) embedded in the binary.
//!
//! Handlers stay thin: parse the request, call the engine (`smedx-core`) or the store
//! (`smedx-store`), render. The HTML pages and the API share the functions in [`service`].

mod api;
mod assets;
mod audit;
mod auth;
mod campaigns;
mod consent;
mod ctx;
mod dashboards;
mod error;
pub mod i18n;
mod imports;
pub mod ops;
mod pages;
mod providers;
mod security;
mod service;
mod staff;
mod view;
mod wizard;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use smedx_core::recommend::Engine;
use smedx_store::{AuditCtx, Store};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// Largest request body accepted anywhere (forms and API documents are small).
pub const BODY_LIMIT: usize = 256 * 1024;

/// Everything a request needs. Cheap to clone: all shared.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub store: Arc<dyn Store>,
    /// Mark cookies `Secure` even when the request did not say it came over TLS.
    pub secure_cookies: bool,
    /// The figures `/metrics` shows.
    pub metrics: Arc<ops::Metrics>,
    /// Dashboards: groups of fewer than k enterprises are suppressed for cluster users and in
    /// public exports.
    pub suppress_k: i64,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, store: Arc<dyn Store>, secure_cookies: bool) -> Self {
        AppState {
            engine,
            store,
            secure_cookies,
            metrics: Arc::new(ops::Metrics::new()),
            suppress_k: DEFAULT_SUPPRESS_K,
        }
    }

    /// The dashboards' suppression threshold (at least 1; 1 suppresses nothing).
    pub fn with_suppress_k(mut self, k: i64) -> Self {
        self.suppress_k = k.max(1);
        self
    }
}

/// Default suppression threshold of the dashboards: a group needs 5 enterprises to be shown.
pub const DEFAULT_SUPPRESS_K: i64 = 5;

/// The whole application: pages, API, static files, `/healthz` and `/metrics`, with security
/// headers, a body limit, request ids, the request log and request metrics.
pub fn app(state: AppState) -> Router {
    let pages = pages::router(state.clone());
    let api = api::router(state.clone());
    let router = Router::new()
        .merge(dashboards::router(state.clone()))
        .merge(campaigns::router(state.clone()))
        .merge(consent::router(state.clone()))
        .merge(imports::router(state.clone()))
        .merge(staff::router(state.clone()))
        .merge(providers::router(state.clone()))
        .merge(pages)
        .merge(api)
        .merge(assets::router())
        .merge(ops::router(state.clone()));
    // The last layer added is the outermost: a request passes the request-id cleaner, gets its
    // id, enters its log span, is counted, then meets the limits and the handlers.
    security::with_headers(router)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(limit_body))
        .layer(from_fn_with_state(state.metrics.clone(), ops::track))
        .layer(ops::trace_layer())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(from_fn(ops::clean_request_id))
}

/// Caps every request body at [`BODY_LIMIT`] bytes as it is read, whatever the request says
/// about its length. Unlike a limit that answers early from the Content-Length header (with a
/// bare text/plain 413), the request reaches the application, whose body readers answer in its
/// own format: the translated error page for forms, `{"code": "too_large"}` for the API.
async fn limit_body(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    // The one exception: the import upload. Its own, smaller limit (imports::UPLOAD_LIMIT) is
    // the one that answers, in the page's words.
    let limit =
        if parts.method == axum::http::Method::POST && parts.uri.path() == imports::UPLOAD_PATH {
            imports::UPLOAD_LIMIT + 1024 * 1024
        } else {
            BODY_LIMIT
        };
    let body = Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// Serves the application on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// What happened to the administrator account at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminSetup {
    /// An administrator already exists.
    Exists,
    /// Created from `--admin-email` and the password from the environment.
    Created(String),
    /// No administrator yet: this one-time token opens `/setup/<token>`.
    SetupToken(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the administrator password must have at least {min} characters")]
    WeakPassword { min: usize },
    #[error("the administrator e-mail address is not valid")]
    BadEmail,
    #[error("the password from SMEDX_ADMIN_PASSWORD is missing")]
    MissingPassword,
    #[error(transparent)]
    Store(#[from] smedx_store::StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Makes sure there is a way to administer the instance, without ever using a default password:
/// either creates the administrator from the given e-mail and password, or issues a one-time
/// setup token (valid 24 hours) when there is no administrator yet.
pub async fn ensure_admin(
    state: &AppState,
    admin_email: Option<&str>,
    admin_password: Option<&str>,
) -> Result<AdminSetup, SetupError> {
    if let Some(email) = admin_email {
        let email = auth::normalize_email(email).ok_or(SetupError::BadEmail)?;
        if state.store.user_by_email(&email).await?.is_some() {
            return Ok(AdminSetup::Exists);
        }
        let pw = admin_password.ok_or(SetupError::MissingPassword)?;
        if pw.chars().count() < auth::MIN_PASSWORD {
            return Err(SetupError::WeakPassword {
                min: auth::MIN_PASSWORD,
            });
        }
        let hash = auth::hash_password(pw.to_string())
            .await
            .map_err(SetupError::Hash)?;
        let audit = AuditCtx {
            at: auth::now(),
            detail: audit::kv(&[("email", &email), ("via", "command_line")]),
            ..AuditCtx::default()
        };
        state
            .store
            .create_admin_audited(&email, &hash, &audit)
            .await?;
        tracing::info!("administrator created from the command line");
        return Ok(AdminSetup::Created(email));
    }
    if state.store.has_admin().await? {
        return Ok(AdminSetup::Exists);
    }
    let token = auth::new_token();
    state
        .store
        .create_setup_token(
            &auth::sha256_hex(&token),
            auth::now() + auth::SETUP_TOKEN_SECONDS,
        )
        .await?;
    Ok(AdminSetup::SetupToken(token))
}
