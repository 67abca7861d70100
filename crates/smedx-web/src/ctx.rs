//! The per-request page context: language, logged-in user, CSRF token. Built by a middleware
//! for every page request, which also checks the CSRF token of every POST form, remembers a
//! `?lang=` switch, and renders error pages.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use smedx_core::Lang;
use smedx_store::User;

use crate::auth::{self, CSRF_COOKIE, LANG_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, ErrorPage};
use crate::i18n;
use crate::{AppState, BODY_LIMIT};

#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    pub user: Option<User>,
    pub csrf: String,
    /// Hash of the session token, when logged in (to log out).
    pub session_hash: Option<String>,
    /// Cookies get `Secure` (configured, or the request came through a TLS proxy).
    pub secure: bool,
    /// Path and query of this request without `lang`, for the language switch and `next`.
    pub here: String,
    /// The client's address (for the audit log).
    pub ip: Option<String>,
    /// The request's id (`x-request-id`), shown on error pages so a user can quote it.
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        i18n::tf(self.lang, key, args)
    }
    pub fn tf1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        i18n::tf(self.lang, key, &[(name, &value.to_string())])
    }
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    /// The same page in the other language.
    pub fn switch_url(&self) -> String {
        let other = match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        let sep = if self.here.contains('?') { '&' } else { '?' };
        format!("{}{sep}lang={other}", self.here)
    }
    pub fn switch_label(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }
    pub fn logged_in(&self) -> bool {
        self.user.is_some()
    }
    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == smedx_store::Role::Admin)
    }
    pub fn email(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.email.as_str())
    }
    /// The logged-in user, or a redirect to the log-in page.
    pub fn user(&self) -> Result<&User, AppError> {
        self.user
            .as_ref()
            .ok_or_else(|| AppError::LoginRequired(self.here.clone()))
    }
    /// The enterprise of the logged-in user (administrators have none).
    pub fn enterprise_id(&self) -> Result<i64, AppError> {
        self.user()?.enterprise_id.ok_or(AppError::Forbidden)
    }
    /// The audit context of a change made by this request's user (if any).
    pub fn audit(&self, detail: String) -> smedx_store::AuditCtx {
        smedx_store::AuditCtx {
            at: auth::now(),
            actor_user_id: self.user.as_ref().map(|u| u.id),
            ip: self.ip.clone(),
            detail,
        }
    }
    pub fn require_admin(&self) -> Result<&User, AppError> {
        let u = self.user()?;
        if u.role == smedx_store::Role::Admin {
            Ok(u)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("page context missing".into()))
    }
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    let q = query?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| match v.as_ref() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        })
}

fn without_lang(path: &str, query: Option<&str>) -> String {
    let rest: Vec<(String, String)> = query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k != "lang")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    if rest.is_empty() {
        return path.to_string();
    }
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(rest)
        .finish();
    format!("{path}?{q}")
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn add_cookie(resp: &mut Response, c: Cookie<'static>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

pub async fn middleware(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let jar = CookieJar::from_headers(&parts.headers);
    let secure = st.secure_cookies
        || parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let now = auth::now();

    let mut user = None;
    let mut session_hash = None;
    let mut csrf = None;
    let mut store_down = false;
    if let Some(c) = jar.get(SESSION_COOKIE)
        && is_token(c.value())
    {
        let h = auth::sha256_hex(c.value());
        match st.store.session(&h, now).await {
            Ok(Some(s)) => match st.store.user(s.user_id).await {
                Ok(Some(u)) => {
                    user = Some(u);
                    csrf = Some(s.csrf_token);
                    session_hash = Some(h);
                }
                Ok(None) => {}
                Err(e) => {
                    store_down = matches!(e, smedx_store::StoreError::Unavailable(_));
                    tracing::error!("loading the session user: {e}");
                }
            },
            Ok(None) => {}
            Err(e) => {
                store_down = matches!(e, smedx_store::StoreError::Unavailable(_));
                tracing::error!("loading the session: {e}");
            }
        }
    }

    let switched = query_lang(parts.uri.query());
    let lang = switched
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .or_else(|| {
            user.as_ref()
                .and_then(|u| u.lang.as_deref())
                .and_then(Lang::parse)
        })
        .or_else(|| {
            parts
                .headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(i18n::from_accept_language)
        })
        .unwrap_or_default();

    // Visitors without a session get a CSRF token in a cookie (double submit), so the sign-up
    // and log-in forms are protected too.
    let mut new_anon_csrf = None;
    let csrf = match csrf {
        Some(c) => c,
        None => match jar.get(CSRF_COOKIE).map(|c| c.value().to_string()) {
            Some(v) if is_token(&v) => v,
            _ => {
                let t = auth::new_token();
                new_anon_csrf = Some(t.clone());
                t
            }
        },
    };

    let ctx = Ctx {
        lang,
        user,
        csrf,
        session_hash,
        secure,
        here: without_lang(parts.uri.path(), parts.uri.query()),
        ip: crate::audit::client_ip(&parts.extensions),
        request_id: parts
            .headers
            .get(crate::ops::REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    // A session that cannot be checked while the database is down is not a logged-out one: say
    // that the database is unavailable instead of sending the user to the log-in page.
    if store_down {
        return error_page(&ctx, StatusCode::SERVICE_UNAVAILABLE, "errors.unavailable");
    }

    let body = if parts.method == Method::POST {
        let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
            return error_page(&ctx, StatusCode::PAYLOAD_TOO_LARGE, "errors.too_large");
        };
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        if !sent.is_some_and(|s| auth::constant_eq(&s, &ctx.csrf)) {
            let mut r = error_page(&ctx, StatusCode::FORBIDDEN, "errors.csrf");
            if let Some(t) = new_anon_csrf {
                add_cookie(&mut r, auth::cookie(CSRF_COOKIE, t, secure, 24 * 3600));
            }
            return r;
        }
        Body::from(bytes)
    } else {
        body
    };

    parts.extensions.insert(ctx.clone());
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    if let Some(e) = resp.extensions().get::<ErrorPage>().copied() {
        resp = error_page(&ctx, e.status, e.key);
    } else if is_plain_rejection(&resp) {
        // An extractor's rejection (a path or query that does not parse, a form that is not a
        // form): axum answers in plain text; show the usual page instead.
        let key = if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "errors.too_large"
        } else {
            "errors.bad_request"
        };
        resp = error_page(&ctx, resp.status(), key);
    }
    if let Some(l) = switched {
        add_cookie(
            &mut resp,
            auth::cookie(LANG_COOKIE, l.code().to_string(), secure, 365 * 24 * 3600),
        );
        if let Some(u) = &ctx.user
            && let Err(e) = st.store.set_user_lang(u.id, l.code()).await
        {
            tracing::error!("saving the language: {e}");
        }
    }
    if let Some(t) = new_anon_csrf {
        add_cookie(&mut resp, auth::cookie(CSRF_COOKIE, t, secure, 24 * 3600));
    }
    resp
}

/// A 4xx in plain text: what axum's extractors answer when they refuse a request (the pages
/// themselves answer HTML).
fn is_plain_rejection(resp: &Response) -> bool {
    resp.status().is_client_error()
        && resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
}

pub fn error_page(c: &Ctx, status: StatusCode, key: &'static str) -> Response {
    let page = crate::pages::ErrorTpl {
        c,
        status: status.as_u16(),
        message: c.t(key),
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, c.t(key).to_string()).into_response(),
    }
}
