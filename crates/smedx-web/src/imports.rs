//! The web import of enterprises and assessment answers (authority, cluster and administrator
//! users): `/imports` (templates, the upload form, recent jobs), `/imports/template.{csv|xlsx}`,
//! `POST /imports` (a .csv or .xlsx file) and `/imports/{job}` (progress, then the outcome).
//!
//! An upload becomes a background job: the file is validated as a whole (smedx-io), then
//! imported in one transaction or not at all (the store's `import_enterprises`, which checks
//! every row against the uploader's scope). The job's phase and progress are written to the
//! database (`import_jobs`), so any app server behind a load balancer answers the polling page.
//! Problems are kept in both languages and shown in the reader's.
//!
//! The upload is a multipart form, which the page middleware (it reads form bodies to check the
//! CSRF token) cannot read: [`take_upload`] runs first, keeps the file aside and hands the
//! middleware the CSRF field alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{
    DefaultBodyLimit, Extension, FromRequest, Multipart, Path, Query, Request, State,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use smedx_core::Lang;
use smedx_core::recommend::Engine;
use smedx_io::import::{ImportOptions, looks_like_xlsx, parse_csv_with, parse_xlsx_with};
use smedx_io::{ImportErrors, ImportRow};
use smedx_store::jobs::{ImportJob, JobStatus, JobUpdate};
use smedx_store::regional::{
    AssessmentBatch, AssessmentSource, ImportProblem, ImportProblemKind, ImportResult,
    NewCompletedAssessment, NewEnterpriseRecord, Prefetching,
};
use smedx_store::{Page, Role, Scope};

use crate::AppState;
use crate::auth;
use crate::campaigns::{Staff, pager, staff};
use crate::ctx::{self, Ctx};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::pages::{date, page_offset};

/// Largest upload accepted (the request body, file and form fields together).
pub const UPLOAD_LIMIT: usize = smedx_io::import::MAX_BYTES;
/// The path of the upload (the only request body allowed past the global limit).
pub const UPLOAD_PATH: &str = "/imports";
/// Problems kept per rejected file (the page says how many there were in all).
const MAX_PROBLEMS: usize = 500;
/// Jobs listed on the import page.
const JOBS_PAGE: i64 = 10;
/// A job that has not moved for this long was cut off (its app server stopped).
const STALE_AFTER_SECS: i64 = 300;
/// How often a running job writes its progress.
const TICK: Duration = Duration::from_millis(700);

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/imports", get(page).post(upload))
        .route("/imports/template.csv", get(template_csv))
        .route("/imports/template.xlsx", get(template_xlsx))
        .route("/imports/{job}", get(job_page))
        .layer(from_fn_with_state(state.clone(), ctx::middleware))
        .layer(from_fn(take_upload))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .with_state(state)
}

// ---- the upload, before the page middleware ------------------------------------------------------

/// What [`take_upload`] found in a multipart form.
#[derive(Clone, Debug)]
enum Upload {
    File { name: String, bytes: Bytes },
    NoFile,
    TooLarge,
    Unreadable,
}

/// Reads a multipart upload: the file goes into a request extension, and the page middleware
/// gets a plain form with the CSRF field only (it checks it as for every other form). A form
/// without that field fails the CSRF check, whatever else went wrong.
async fn take_upload(req: Request, next: Next) -> Response {
    let multipart = req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // Visitors without a session cannot import: their upload is not even read (the empty form
    // then fails the CSRF check), so nobody can make the server buffer large bodies for free.
    let session = axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers)
        .get(auth::SESSION_COOKIE)
        .is_some_and(|c| c.value().len() == 64);
    if !session {
        drop(body);
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        parts.headers.remove(header::CONTENT_LENGTH);
        return next.run(Request::from_parts(parts, Body::empty())).await;
    }
    let probe = Request::from_parts(parts.clone(), body);
    let mut csrf = String::new();
    let mut upload = Upload::NoFile;
    match Multipart::from_request(probe, &()).await {
        Err(_) => upload = Upload::Unreadable,
        Ok(mut form) => loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    if name == "csrf" {
                        csrf = field.text().await.unwrap_or_default();
                    } else if name == "file" {
                        let file_name = field.file_name().unwrap_or_default().to_owned();
                        match field.bytes().await {
                            Ok(bytes) if file_name.is_empty() && bytes.is_empty() => {}
                            Ok(bytes) => {
                                upload = Upload::File {
                                    name: file_name,
                                    bytes,
                                }
                            }
                            Err(e) => {
                                upload = too_large_or_unreadable(e.status());
                                break;
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    upload = too_large_or_unreadable(e.status());
                    break;
                }
            }
        },
    }
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .finish();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.extensions.insert(upload);
    next.run(Request::from_parts(parts, Body::from(form))).await
}

fn too_large_or_unreadable(status: StatusCode) -> Upload {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Upload::TooLarge
    } else {
        Upload::Unreadable
    }
}

// ---- the page ------------------------------------------------------------------------------------

/// Who may follow a job: everybody with the same scope (administrators: every job).
fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::All => "all".to_owned(),
        Scope::Region(p) => format!("region:{}", p.as_str()),
        Scope::Cluster(id) => format!("cluster:{id}"),
        Scope::Enterprise(e) => format!("enterprise:{e}"),
    }
}

fn key_filter(s: &Staff) -> Option<String> {
    (s.user.role != Role::Admin).then(|| scope_key(&s.scope))
}

struct JobRow {
    id: i64,
    file_name: String,
    created: String,
    status: String,
}

#[derive(Template)]
#[template(path = "imports/index.html")]
struct PageTpl<'a> {
    c: &'a Ctx,
    error: String,
    limit_mb: usize,
    jobs: Vec<JobRow>,
    prev: Option<i64>,
    next: Option<i64>,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    offset: i64,
}

async fn render_page(
    st: &AppState,
    c: &Ctx,
    s: &Staff,
    offset: i64,
    status: StatusCode,
    error: String,
) -> AppResult {
    let key = key_filter(s);
    let (jobs, total) = st
        .store
        .import_jobs(
            key.as_deref(),
            Page {
                offset,
                limit: JOBS_PAGE,
            },
        )
        .await?;
    let now = auth::now();
    let jobs = jobs
        .iter()
        .map(|j| JobRow {
            id: j.id,
            file_name: j.file_name.clone(),
            created: date(j.created_at),
            status: c.t(status_key(j, now)).to_string(),
        })
        .collect();
    let (prev, next) = pager(offset, JOBS_PAGE, total);
    let t = PageTpl {
        c,
        error,
        limit_mb: UPLOAD_LIMIT / (1024 * 1024),
        jobs,
        prev,
        next,
    };
    Ok((status, Html(t.render()?)).into_response())
}

async fn page(State(st): State<AppState>, c: Ctx, Query(q): Query<PageQuery>) -> AppResult {
    let s = staff(&c)?;
    render_page(
        &st,
        &c,
        &s,
        page_offset(q.offset),
        StatusCode::OK,
        String::new(),
    )
    .await
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

/// The template's language: `?lang=` when given, else the page's.
fn template_lang(c: &Ctx, q: &LangQuery) -> Lang {
    q.lang.as_deref().and_then(Lang::parse).unwrap_or(c.lang)
}

fn download(bytes: Vec<u8>, mime: &'static str, name: &str) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        name.replace(|ch: char| !ch.is_ascii_alphanumeric() && ch != '.', "_"),
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn template_name(lang: Lang, ext: &str) -> String {
    match lang {
        Lang::Zh => format!("smedx-导入模板.{ext}"),
        Lang::En => format!("smedx-import-template.{ext}"),
    }
}

async fn template_csv(State(st): State<AppState>, c: Ctx, Query(q): Query<LangQuery>) -> AppResult {
    staff(&c)?;
    let lang = template_lang(&c, &q);
    let text = smedx_io::template_csv(&st.engine.kb, lang);
    // A byte-order mark, so that spreadsheet programs read the Chinese headers as UTF-8.
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(text.as_bytes());
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &template_name(lang, "csv"),
    ))
}

async fn template_xlsx(
    State(st): State<AppState>,
    c: Ctx,
    Query(q): Query<LangQuery>,
) -> AppResult {
    staff(&c)?;
    let lang = template_lang(&c, &q);
    let bytes = smedx_io::template_xlsx(&st.engine.kb, lang)
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok(download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &template_name(lang, "xlsx"),
    ))
}

// ---- receiving a file ----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// The format of an upload from its name and its first bytes, or the key of the message that
/// says why it is not an import file.
fn sniff(name: &str, bytes: &[u8]) -> Result<Format, &'static str> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let zip = looks_like_xlsx(bytes);
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    match ext.as_str() {
        "xlsx" if zip => Ok(Format::Xlsx),
        "xlsx" => Err("import.err_not_xlsx"),
        "xls" => Err("import.err_xls"),
        "csv" | "txt" if zip || ole => Err("import.err_csv_binary"),
        "csv" | "txt" => {
            // UTF-16 files start with a byte-order mark; other text has no NUL bytes.
            let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
            let head = &bytes[..bytes.len().min(8192)];
            if !utf16 && head.contains(&0) {
                Err("import.err_csv_binary")
            } else {
                Ok(Format::Csv)
            }
        }
        _ => Err("import.err_extension"),
    }
}

async fn upload(
    State(st): State<AppState>,
    c: Ctx,
    upload: Option<Extension<Upload>>,
) -> AppResult {
    let s = staff(&c)?;
    let fail = |status, key: &str| (status, c.t(key).to_string());
    let (name, bytes) = match upload.map(|Extension(u)| u) {
        Some(Upload::File { name, bytes }) => (name, bytes),
        Some(Upload::TooLarge) => {
            let (status, _) = fail(StatusCode::PAYLOAD_TOO_LARGE, "import.err_too_large");
            let msg = c.tf1("import.err_too_large", "mb", UPLOAD_LIMIT / (1024 * 1024));
            return render_page(&st, &c, &s, 0, status, msg).await;
        }
        Some(Upload::Unreadable) => {
            let (status, msg) = fail(StatusCode::BAD_REQUEST, "import.err_unreadable");
            return render_page(&st, &c, &s, 0, status, msg).await;
        }
        Some(Upload::NoFile) | None => {
            let (status, msg) = fail(StatusCode::UNPROCESSABLE_ENTITY, "import.err_no_file");
            return render_page(&st, &c, &s, 0, status, msg).await;
        }
    };
    if bytes.is_empty() {
        let (status, msg) = fail(StatusCode::UNPROCESSABLE_ENTITY, "import.err_empty");
        return render_page(&st, &c, &s, 0, status, msg).await;
    }
    let format = match sniff(&name, &bytes) {
        Ok(f) => f,
        Err(key) => {
            let (status, msg) = fail(StatusCode::UNPROCESSABLE_ENTITY, key);
            return render_page(&st, &c, &s, 0, status, msg).await;
        }
    };
    let now = auth::now();
    let job = st
        .store
        .create_import_job(s.user.id, &scope_key(&s.scope), &name, now)
        .await?;
    tracing::info!(
        job = job.id,
        user = s.user.id,
        bytes = bytes.len(),
        "import received"
    );
    let audit = c.audit(crate::audit::kv(&[
        ("via", "web"),
        ("job", &job.id.to_string()),
        ("file", &job.file_name),
    ]));
    tokio::spawn(run_job(
        st.clone(),
        job.id,
        s.scope.clone(),
        format,
        bytes,
        audit,
    ));
    Ok(Redirect::to(&format!("/imports/{}", job.id)).into_response())
}

// ---- the job --------------------------------------------------------------------------------------

/// The jobs running on this app server, for fresher figures than the database may have: on
/// SQLite the import's transaction holds the write lock, so the progress written by the ticker
/// waits until it ends; the server running the job answers from here meanwhile (other servers,
/// which only PostgreSQL deployments have, read the database, where progress is not blocked).
static LIVE: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<i64, Arc<Progress>>>> =
    std::sync::LazyLock::new(Default::default);

fn live(id: i64) -> Option<(JobStatus, i64, i64)> {
    LIVE.lock()
        .ok()
        .and_then(|m| m.get(&id).map(|p| p.snapshot()))
}

/// Progress shared between the work and the task that writes it to the database.
struct Progress {
    status: AtomicU8,
    done: AtomicI64,
    total: AtomicI64,
}

impl Progress {
    fn set(&self, status: JobStatus, done: usize, total: usize) {
        let code = JobStatus::ALL
            .iter()
            .position(|s| *s == status)
            .unwrap_or(0);
        self.status
            .store(u8::try_from(code).unwrap_or(0), Ordering::Relaxed);
        self.done
            .store(i64::try_from(done).unwrap_or(i64::MAX), Ordering::Relaxed);
        self.total
            .store(i64::try_from(total).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
    fn snapshot(&self) -> (JobStatus, i64, i64) {
        let status = JobStatus::ALL
            .get(usize::from(self.status.load(Ordering::Relaxed)))
            .copied()
            .unwrap_or(JobStatus::Queued);
        (
            status,
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// One line of a rejected file's problem list, in both languages.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Problem {
    row: usize,
    zh: String,
    en: String,
}

fn problems_json(problems: Vec<Problem>, total: usize) -> serde_json::Value {
    json!({ "total": total, "problems": problems })
}

fn file_problems(errors: &ImportErrors) -> serde_json::Value {
    let problems = errors
        .errors
        .iter()
        .take(MAX_PROBLEMS)
        .map(|e| Problem {
            row: e.row,
            zh: e.render(Lang::Zh),
            en: e.render(Lang::En),
        })
        .collect();
    problems_json(problems, errors.total.max(errors.errors.len()))
}

fn problem_kind_key(kind: ImportProblemKind) -> &'static str {
    match kind {
        ImportProblemKind::InvalidRegion => "import.p_invalid_region",
        ImportProblemKind::RegionOutOfScope => "import.p_region_scope",
        ImportProblemKind::UnknownCluster => "import.p_unknown_cluster",
        ImportProblemKind::ClusterOutOfScope => "import.p_cluster_scope",
        ImportProblemKind::DuplicateCreditCode => "import.p_duplicate_credit",
        ImportProblemKind::CreditCodeOutOfScope => "import.p_credit_scope",
        ImportProblemKind::MissingName => "import.p_missing_name",
        ImportProblemKind::Assessment => "import.p_assessment",
    }
}

fn store_problem_text(lang: Lang, p: &ImportProblem) -> String {
    let field = i18n::t(lang, &format!("import.field_{}", p.field)).to_string();
    let what = i18n::tf(lang, problem_kind_key(p.kind), &[("value", &p.value)]);
    i18n::tf(
        lang,
        "import.p_line",
        &[
            ("row", &p.row.to_string()),
            ("field", &field),
            ("message", &what),
        ],
    )
}

fn store_problems(problems: &[ImportProblem]) -> serde_json::Value {
    let list = problems
        .iter()
        .take(MAX_PROBLEMS)
        .map(|p| Problem {
            row: p.row,
            zh: store_problem_text(Lang::Zh, p),
            en: store_problem_text(Lang::En, p),
        })
        .collect();
    problems_json(list, problems.len())
}

/// The rows' assessments, computed batch by batch (in parallel, the next batch while the store
/// writes the current one) as the store asks for them.
struct FileSource {
    inner: Prefetching<Box<dyn Fn(std::ops::Range<usize>) -> AssessmentBatch + Send + Sync>>,
}

impl FileSource {
    fn new(engine: Arc<Engine>, rows: Arc<Vec<ImportRow>>, now: i64) -> FileSource {
        let n = rows.len();
        let compute = move |range: std::ops::Range<usize>| -> AssessmentBatch {
            rows.get(range)
                .unwrap_or_default()
                .par_iter()
                .map(|r| {
                    if !r.has_answers {
                        return Ok(None);
                    }
                    assess_row(&engine, r, now).map(Some)
                })
                .collect()
        };
        FileSource {
            inner: Prefetching::new(n, Box::new(compute)),
        }
    }
}

impl AssessmentSource for FileSource {
    fn assessments(&mut self, range: std::ops::Range<usize>) -> AssessmentBatch {
        // The store calls this from its async import: on a multi-threaded runtime, tell it that
        // this thread may wait a while so other requests move to the other workers.
        let multi = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi {
            tokio::task::block_in_place(|| self.inner.assessments(range))
        } else {
            self.inner.assessments(range)
        }
    }
}

/// The engine on one row: the completed assessment to store, or why it cannot be assessed
/// (English; the engine's message in the file's language is not known here).
fn assess_row(engine: &Engine, r: &ImportRow, now: i64) -> Result<NewCompletedAssessment, String> {
    let p = smedx_core::profile::validate(&engine.kb, &r.profile()).map_err(|e| e.to_string())?;
    let a = smedx_core::assessment::parse_answers(&engine.kb.questionnaire, &r.answers())
        .map_err(|e| e.to_string())?;
    let report = engine
        .run(&p, Some(&a))
        .map_err(|e| e.localized().get(Lang::Zh).to_string())?;
    let result = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    // When the row says when it was assessed: noon UTC of that day.
    let completed_at = r
        .enterprise
        .assessed_on
        .as_deref()
        .and_then(smedx_store::scope::parse_date)
        .map_or(now, |d| d * 86_400 + 12 * 3600);
    Ok(NewCompletedAssessment::new(
        &r.profile_value(),
        &r.answers_value(),
        &result,
        report.assessment.as_ref().map(|x| x.score),
        report.assessment.as_ref().map(|x| i64::from(x.level)),
        completed_at,
    ))
}

async fn finish(
    st: &AppState,
    id: i64,
    status: JobStatus,
    done: i64,
    total: i64,
    result: &serde_json::Value,
) {
    let update = JobUpdate {
        status,
        rows_done: done,
        rows_total: total,
        result: Some(result),
    };
    // The database may be busy for a moment (SQLite's writer lock): try a few times.
    for attempt in 0..5 {
        match st.store.update_import_job(id, &update, auth::now()).await {
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(job = id, attempt, "recording the import outcome: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    tracing::error!(job = id, "the import outcome could not be recorded");
}

async fn run_job(
    st: AppState,
    id: i64,
    scope: Scope,
    format: Format,
    bytes: Bytes,
    audit: smedx_store::AuditCtx,
) {
    let progress = Arc::new(Progress {
        status: AtomicU8::new(0),
        done: AtomicI64::new(0),
        total: AtomicI64::new(0),
    });
    progress.set(JobStatus::Validating, 0, 0);
    if let Ok(mut m) = LIVE.lock() {
        m.insert(id, progress.clone());
    }
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let ticker = {
        let (st, progress) = (st.clone(), progress.clone());
        tokio::spawn(async move {
            let mut last = None;
            loop {
                let now = progress.snapshot();
                if last != Some(now) {
                    let update = JobUpdate {
                        status: now.0,
                        rows_done: now.1,
                        rows_total: now.2,
                        result: None,
                    };
                    // Progress is best effort: a busy database only delays the figures.
                    if let Err(e) = st.store.update_import_job(id, &update, auth::now()).await {
                        tracing::debug!(job = id, "recording import progress: {e}");
                    }
                    last = Some(now);
                }
                tokio::select! {
                    _ = &mut stop_rx => break,
                    () = tokio::time::sleep(TICK) => {}
                }
            }
        })
    };

    // 1. Read and check the whole file (CPU work: off the async workers).
    let kb_engine = st.engine.clone();
    let p = progress.clone();
    let parsed = tokio::task::spawn_blocking(move || {
        let opts = ImportOptions {
            max_bytes: UPLOAD_LIMIT,
            ..ImportOptions::default()
        };
        let mut report = |done: usize, total: usize| p.set(JobStatus::Validating, done, total);
        match format {
            Format::Xlsx => parse_xlsx_with(&bytes, &kb_engine.kb, &opts, &mut report),
            Format::Csv => parse_csv_with(bytes.as_ref(), &kb_engine.kb, &opts, &mut report),
        }
    })
    .await;
    let outcome: (JobStatus, serde_json::Value, i64) = match parsed {
        Err(e) => (
            JobStatus::Failed,
            json!({ "reason": format!("the validation stopped: {e}") }),
            0,
        ),
        Ok(Err(errors)) => (JobStatus::Rejected, file_problems(&errors), 0),
        Ok(Ok(batch)) => {
            // 2. Store it: one transaction, every row checked against the scope first.
            let rows = Arc::new(batch.rows);
            let n = rows.len();
            progress.set(JobStatus::Importing, 0, n);
            let records: Vec<NewEnterpriseRecord> = rows
                .iter()
                .map(|r| NewEnterpriseRecord {
                    row: r.row,
                    name: r.enterprise.name.clone(),
                    credit_code: r.enterprise.credit_code.clone(),
                    region_code: r.enterprise.region.clone(),
                    cluster_id: r.enterprise.cluster.clone(),
                })
                .collect();
            let mut source = FileSource::new(st.engine.clone(), rows, auth::now());
            let p = progress.clone();
            let report = move |done: usize, all: usize| p.set(JobStatus::Importing, done, all);
            let total = i64::try_from(n).unwrap_or(i64::MAX);
            match st
                .store
                .import_enterprises(
                    &scope,
                    &records,
                    &mut source,
                    Some(&report),
                    auth::now(),
                    &audit,
                )
                .await
            {
                Ok(ImportResult::Imported(counts)) => (
                    JobStatus::Imported,
                    serde_json::to_value(counts).unwrap_or_default(),
                    total,
                ),
                Ok(ImportResult::Rejected { problems }) => {
                    (JobStatus::Rejected, store_problems(&problems), 0)
                }
                Err(e) => {
                    tracing::error!(job = id, "import failed: {e}");
                    (JobStatus::Failed, json!({ "reason": e.to_string() }), 0)
                }
            }
        }
    };
    let _ = stop_tx.send(());
    let _ = ticker.await;
    let (_, _, total) = progress.snapshot();
    tracing::info!(job = id, status = outcome.0.as_str(), "import finished");
    finish(&st, id, outcome.0, outcome.2, total, &outcome.1).await;
    if let Ok(mut m) = LIVE.lock() {
        m.remove(&id);
    }
}

// ---- following a job -----------------------------------------------------------------------------

/// The message key of a job's state; a job that stopped moving long ago was cut off.
fn status_key(j: &ImportJob, now: i64) -> &'static str {
    if !j.status.is_finished() && now - j.updated_at > STALE_AFTER_SECS {
        return "import.s_interrupted";
    }
    match j.status {
        JobStatus::Queued => "import.s_queued",
        JobStatus::Validating => "import.s_validating",
        JobStatus::Importing => "import.s_importing",
        JobStatus::Imported => "import.s_imported",
        JobStatus::Rejected => "import.s_rejected",
        JobStatus::Failed => "import.s_failed",
    }
}

#[derive(Deserialize, Default)]
struct JobQuery {
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "imports/job.html")]
struct JobTpl<'a> {
    c: &'a Ctx,
    j: ImportJob,
    status: String,
    running: bool,
    percent: i64,
    counts: Vec<(String, i64)>,
    problems: Vec<String>,
    problems_total: i64,
    /// "1,000 of 5,000 rows" while running.
    rows_text: String,
    /// "the first 500 of 1,234 are listed" when some were left out.
    first_shown: String,
    reason: bool,
}

async fn job_page(
    State(st): State<AppState>,
    c: Ctx,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<JobQuery>,
) -> AppResult {
    let s = staff(&c)?;
    let key = key_filter(&s);
    let mut j = st.store.import_job(id, key.as_deref()).await?;
    if !j.status.is_finished()
        && let Some((status, done, total)) = live(id)
    {
        // The running job's own figures (see LIVE); its outcome always comes from the database.
        j.status = status;
        j.rows_done = done;
        j.rows_total = total;
        j.updated_at = auth::now();
    }
    let now = auth::now();
    let status_key = status_key(&j, now);
    let running = !j.status.is_finished() && status_key != "import.s_interrupted";
    let wants_json = q.format.as_deref() == Some("json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok((
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({
                "id": j.id,
                "status": j.status.as_str(),
                "running": running,
                "rows_done": j.rows_done,
                "rows_total": j.rows_total,
                "file_name": j.file_name,
                "result": j.result,
            })),
        )
            .into_response());
    }
    let percent = if j.rows_total > 0 {
        (j.rows_done.saturating_mul(100) / j.rows_total).clamp(0, 100)
    } else {
        0
    };
    let mut counts = Vec::new();
    let mut problems = Vec::new();
    let mut problems_total = 0;
    let mut reason = false;
    if let Some(r) = &j.result {
        match j.status {
            JobStatus::Imported => {
                for k in [
                    "rows",
                    "enterprises_created",
                    "enterprises_matched",
                    "assessments",
                ] {
                    counts.push((
                        c.t(&format!("import.c_{k}")).to_string(),
                        r.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0),
                    ));
                }
            }
            JobStatus::Rejected => {
                let lang = c.lang_code();
                problems = r
                    .get("problems")
                    .and_then(serde_json::Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter_map(|p| p.get(lang).and_then(serde_json::Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                problems_total = r
                    .get("total")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0);
            }
            _ => reason = true,
        }
    }
    let rows_text = if j.rows_total > 0 {
        c.tf(
            "import.rows_progress",
            &[
                ("done", &j.rows_done.to_string()),
                ("total", &j.rows_total.to_string()),
            ],
        )
    } else {
        String::new()
    };
    let shown = i64::try_from(problems.len()).unwrap_or(i64::MAX);
    let first_shown = if shown < problems_total {
        c.tf(
            "import.first_shown",
            &[
                ("shown", &shown.to_string()),
                ("total", &problems_total.to_string()),
            ],
        )
    } else {
        String::new()
    };
    let t = JobTpl {
        c: &c,
        rows_text,
        first_shown,
        status: c.t(status_key).to_string(),
        running,
        percent,
        counts,
        problems,
        problems_total,
        reason,
        j,
    };
    let mut r = (StatusCode::OK, Html(t.render()?)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_told_apart_by_name_and_content() {
        assert_eq!(sniff("a.xlsx", b"PK\x03\x04rest"), Ok(Format::Xlsx));
        assert_eq!(sniff("A.XLSX", b"PK\x03\x04rest"), Ok(Format::Xlsx));
        assert_eq!(sniff("a.xlsx", b"name,region"), Err("import.err_not_xlsx"));
        assert_eq!(sniff("a.csv", "名称,地区\n".as_bytes()), Ok(Format::Csv));
        assert_eq!(sniff("a.csv", b"PK\x03\x04"), Err("import.err_csv_binary"));
        assert_eq!(sniff("a.csv", b"ab\0cd"), Err("import.err_csv_binary"));
        assert_eq!(sniff("a.csv", b"\xff\xfea\0b\0"), Ok(Format::Csv));
        assert_eq!(sniff("a.xls", b"\xd0\xcf\x11\xe0"), Err("import.err_xls"));
        assert_eq!(sniff("a.pdf", b"%PDF"), Err("import.err_extension"));
        assert_eq!(sniff("noext", b"x"), Err("import.err_extension"));
    }
}
