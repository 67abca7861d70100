//! Errors of page handlers. A handler returns an [`AppError`]; the page middleware turns the
//! marker it leaves on the response into a full error page in the request's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use smedx_store::StoreError;

#[derive(Debug)]
pub enum AppError {
    NotFound,
    Forbidden,
    /// Not logged in: go to the log-in page and come back to `next` afterwards.
    LoginRequired(String),
    /// The database refuses the request for now (full disk, read-only, unreachable or
    /// restarting): 503 with a message saying so, so that the user retries instead of
    /// re-entering data.
    Unavailable(String),
    Internal(String),
}

/// Left on an error response for the page middleware to render (status + message key).
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub key: &'static str,
}

impl ErrorPage {
    pub fn response(status: StatusCode, key: &'static str) -> Response {
        let mut r = (status, key).into_response();
        r.extensions_mut().insert(ErrorPage { status, key });
        r
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => ErrorPage::response(StatusCode::NOT_FOUND, "errors.not_found"),
            AppError::Forbidden => ErrorPage::response(StatusCode::FORBIDDEN, "errors.forbidden"),
            AppError::LoginRequired(next) => {
                let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &next)
                    .finish();
                Redirect::to(&format!("/login?{q}")).into_response()
            }
            AppError::Unavailable(e) => {
                tracing::error!("database unavailable: {e}");
                ErrorPage::response(StatusCode::SERVICE_UNAVAILABLE, "errors.unavailable")
            }
            AppError::Internal(e) => {
                tracing::error!("internal error: {e}");
                ErrorPage::response(StatusCode::INTERNAL_SERVER_ERROR, "errors.internal")
            }
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Unavailable(e) => AppError::Unavailable(e),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

pub type AppResult<T = Response> = Result<T, AppError>;
