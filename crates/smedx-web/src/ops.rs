//! Operations: request ids, the request log, `/healthz` and `/metrics`.
//!
//! * Every request gets an id: the client's `x-request-id` when it is a short token
//!   (≤ 128 characters of `A–Z a–z 0–9 - _ . :`), a new UUID otherwise. The response carries it back
//!   in `x-request-id`, and every log line of the request is inside a `request` span holding it
//!   (with the method and the matched route template, never the raw path, which can hold a
//!   one-time setup token). An error page of a 5xx shows it, so a user can quote it.
//! * `/healthz`: `200 {"status":"ok"}` when the database answers a trivial query within 2 s,
//!   `503 {"status":"unavailable"}` otherwise.
//! * `/metrics`: the OpenMetrics text format (which Prometheus scrapes natively): requests by
//!   method, route template and status class, a request-duration histogram by method and route,
//!   the process uptime, `smedx_store_up` (0/1, checked at each scrape) and the build version.
//!   Labels hold route templates (`/assessments/{id}`), never paths, ids or user data.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use serde_json::json;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};

use crate::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The `route` label of requests no route matched.
pub const UNMATCHED: &str = "(unmatched)";
/// How long `/healthz` and `/metrics` wait for the database.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);
const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Seconds: 5 ms … 10 s.
const DURATION_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The application's metrics (one registry per [`AppState`], so servers in one process, e.g.
/// in tests, do not mix their figures).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    uptime: Gauge<f64, AtomicU64>,
    store_up: Gauge,
    started: Instant,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("smedx");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status class",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to the response headers, by method and route template",
            Unit::Seconds,
            durations.clone(),
        );
        let uptime = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "process_uptime",
            "Seconds since this server started",
            Unit::Seconds,
            uptime.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 when the database answered a trivial query at this scrape, else 0",
            store_up.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The running version of smedx", build);
        Metrics {
            registry,
            requests,
            durations,
            uptime,
            store_up,
            started: Instant::now(),
        }
    }

    fn observe(&self, method: &'static str, route: String, status: StatusCode, took: Duration) {
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status_class: status_class(status),
            })
            .inc();
    }

    /// The exposition, with the uptime and the database state as of now.
    fn render(&self, store_up: bool) -> Result<String, std::fmt::Error> {
        self.uptime.set(self.started.elapsed().as_secs_f64());
        self.store_up.set(i64::from(store_up));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The standard methods by name; anything else is "other" (a label must not take any value a
/// client sends).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn route_of<B>(req: &axum::http::Request<B>) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |p| p.as_str().to_owned())
}

/// Middleware: counts and times every request by its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = route_of(&req);
    let started = Instant::now();
    let resp = next.run(req).await;
    metrics.observe(method, route, resp.status(), started.elapsed());
    resp
}

/// Is a client's request id one to keep (short, no odd characters to smuggle into logs)?
fn acceptable_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// Middleware (outermost): drops a client's `x-request-id` that is not a short token (or comes
/// more than once), so a fresh one is generated.
pub async fn clean_request_id(mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let values: Vec<&HeaderValue> = headers.get_all(REQUEST_ID_HEADER).iter().collect();
    let keep = match values.as_slice() {
        [] => true,
        [one] => acceptable_request_id(one),
        _ => false,
    };
    if !keep {
        req.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(req).await
}

/// The request's id (set by the request-id layer).
pub fn request_id<B>(req: &axum::http::Request<B>) -> Option<String> {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The span every log line of a request is in: `request{request_id=… method=… route=…}`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> tracing::Span {
        let id = request_id(req).unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %id,
            method = %req.method(),
            route = %route_of(req),
        )
    }
}

/// The request log: a span per request ([`RequestSpan`]), one INFO line per response with its
/// status and latency, an ERROR line for a 5xx.
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(
            DefaultOnResponse::new()
                .level(tracing::Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Millis),
        )
}

/// `/healthz` and `/metrics` (outside the page middleware: no session, no cookies).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn store_answers(st: &AppState) -> bool {
    match tokio::time::timeout(STORE_TIMEOUT, st.store.ping()).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::error!("health check: the database does not answer: {e}");
            false
        }
        Err(_) => {
            tracing::error!(
                "health check: the database did not answer within {} s",
                STORE_TIMEOUT.as_secs()
            );
            false
        }
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn healthz(State(st): State<AppState>) -> Response {
    let r = if store_answers(&st).await {
        (StatusCode::OK, Json(json!({"status": "ok"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable"})),
        )
            .into_response()
    };
    no_store(r)
}

async fn metrics(State(st): State<AppState>) -> Response {
    let up = store_answers(&st).await;
    let r = match st.metrics.render(up) {
        Ok(text) => (
            StatusCode::OK,
            [(CONTENT_TYPE, HeaderValue::from_static(METRICS_CONTENT_TYPE))],
            Body::from(text),
        )
            .into_response(),
        Err(e) => {
            tracing::error!("encoding the metrics failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    no_store(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_clients_are_checked() {
        let ok = |s: &str| acceptable_request_id(&HeaderValue::from_str(s).expect("header"));
        assert!(ok("3f2c1a9e-7b7d-4c55-9d1e-0a7c5b6f2e11"));
        assert!(ok("lb:req_42.a"));
        assert!(!ok(""));
        assert!(!ok("has space"));
        assert!(!ok("a\"b"));
        assert!(!ok(&"x".repeat(129)));
    }

    #[test]
    fn exposition_has_the_documented_families() {
        let m = Metrics::new();
        m.observe(
            "GET",
            "/assessments/{id}".into(),
            StatusCode::OK,
            Duration::from_millis(12),
        );
        m.observe(
            "POST",
            UNMATCHED.into(),
            StatusCode::NOT_FOUND,
            Duration::from_millis(1),
        );
        let text = m.render(true).expect("encode");
        for needle in [
            "smedx_http_requests_total{method=\"GET\",route=\"/assessments/{id}\",status_class=\"2xx\"} 1",
            "smedx_http_requests_total{method=\"POST\",route=\"(unmatched)\",status_class=\"4xx\"} 1",
            "smedx_http_request_duration_seconds_bucket{le=\"0.025\",method=\"GET\",route=\"/assessments/{id}\"} 1",
            "smedx_http_request_duration_seconds_count{method=\"GET\",route=\"/assessments/{id}\"} 1",
            "# TYPE smedx_process_uptime_seconds gauge",
            "smedx_store_up 1",
            "smedx_build_info{version=",
            "# EOF",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        assert!(
            m.render(false)
                .expect("encode")
                .contains("smedx_store_up 0")
        );
    }
}
