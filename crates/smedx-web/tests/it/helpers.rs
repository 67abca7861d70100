use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use smedx_core::recommend::Engine;
use smedx_store::postgres::PgStore;
use smedx_store::sqlite::SqliteStore;
use smedx_web::AppState;

static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();

/// The engine is pure and immutable: build it once for all tests.
fn engine() -> Arc<Engine> {
    ENGINE
        .get_or_init(|| {
            let kb = smedx_kb::load(&smedx_kb::KbSource::Embedded).expect("embedded kb");
            Arc::new(Engine::new(kb))
        })
        .clone()
}

pub struct App {
    pub base: String,
    pub state: AppState,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
    /// Declared last, so dropped after the server is told to stop.
    _schema: Option<PgSchema>,
}

/// The database an application under test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A file in a temporary directory.
    Sqlite,
    /// A fresh schema of the test database on the PostgreSQL server (see [`PgSchema`]).
    Postgres,
}

impl Backend {
    /// The backend of [`spawn`]: `SMEDX_TEST_BACKEND=postgres` runs the whole HTTP suite on
    /// PostgreSQL (`.ci/run` does, after the SQLite run); unset or `sqlite`, SQLite.
    pub fn from_env() -> Backend {
        match std::env::var("SMEDX_TEST_BACKEND").as_deref() {
            Ok("postgres") => Backend::Postgres,
            Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
            Ok(other) => panic!("SMEDX_TEST_BACKEND={other:?}: use sqlite or postgres"),
        }
    }
}

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL server of the tests: `SMEDX_TEST_POSTGRES_URL`, by default the local `test`
/// database (the same variable the store's tests read).
fn postgres_url() -> String {
    std::env::var("SMEDX_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}

/// True when `SMEDX_SKIP_POSTGRES=1`: the PostgreSQL variants of the HTTP tests return early (and
/// say so). Otherwise an unreachable server fails them.
pub fn skip_postgres() -> bool {
    let skip = std::env::var("SMEDX_SKIP_POSTGRES").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SMEDX_SKIP_POSTGRES=1: skipping a PostgreSQL HTTP test");
    }
    skip
}

fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// A fresh schema `smedx_web_<pid>_<n>` of the test database for one application, so that tests
/// run in parallel on one database. The store connects with it as `search_path` and as
/// `application_name`; on drop its connections are ended and the schema is dropped, passed or
/// failed. Each store's pool is small and opened lazily (`smedx_store::postgres`, at most 8
/// connections), so two test threads stay far below the server's `max_connections` (100 here).
pub struct PgSchema {
    server: String,
    name: String,
}

impl PgSchema {
    async fn new() -> PgSchema {
        use sqlx::{AssertSqlSafe, Connection, Executor};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = postgres_url();
        let name = format!(
            "smedx_web_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let connect = sqlx::postgres::PgConnection::connect(&server);
        let mut conn = match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => panic!("{}", unreachable_message(&e.to_string())),
            Err(_) => panic!("{}", unreachable_message("no answer within 10 s")),
        };
        conn.execute(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        )))
        .await
        .unwrap_or_else(|e| panic!("cannot create the test schema {name}: {e}"));
        let _ = conn.close().await;
        PgSchema { server, name }
    }

    /// The test database with this schema as search path and application name.
    pub fn url(&self) -> String {
        let options = format!("-c%20search_path%3D{}", self.name);
        with_param(
            &with_param(&self.server, &format!("options={options}")),
            &format!("application_name={}", self.name),
        )
    }
}

fn unreachable_message(why: &str) -> String {
    format!(
        "PostgreSQL is not reachable ({why}). The PostgreSQL HTTP tests need a server with trust \
         authentication and a database `test` ({DEFAULT_POSTGRES_URL} unless \
         SMEDX_TEST_POSTGRES_URL says otherwise); set SMEDX_SKIP_POSTGRES=1 to skip them."
    )
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        // Drop cannot await: clean up on a runtime of its own, in a thread of its own.
        let cleanup = std::thread::spawn(move || {
            use sqlx::{AssertSqlSafe, Connection, Executor};
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = sqlx::postgres::PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                // The server of the test may still hold connections (and locks): end them.
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                )
                .bind(&name)
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
                conn.execute(AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {name} CASCADE"
                )))
                .await
                .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<_, String>(())
            })
        });
        let outcome = cleanup
            .join()
            .unwrap_or_else(|_| Err("the cleanup thread panicked".into()));
        if let Err(e) = outcome {
            // Never a second panic while a failed test unwinds; a leftover schema is only litter.
            eprintln!("could not drop the test schema {}: {e}", self.name);
        }
    }
}

pub async fn spawn() -> App {
    spawn_with(false).await
}

pub async fn spawn_with(secure_cookies: bool) -> App {
    spawn_app(Backend::from_env(), secure_cookies).await
}

/// The application on `backend`.
pub async fn spawn_on(backend: Backend) -> App {
    spawn_app(backend, false).await
}

async fn spawn_app(backend: Backend, secure_cookies: bool) -> App {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut schema = None;
    let store: Arc<dyn smedx_store::Store> = match backend {
        Backend::Sqlite => Arc::new(
            SqliteStore::open(&dir.path().join("smedx.sqlite"))
                .await
                .expect("open sqlite"),
        ),
        Backend::Postgres => {
            let s = PgSchema::new().await;
            let store = PgStore::connect(&s.url())
                .await
                .expect("connect a store to the test schema");
            schema = Some(s);
            Arc::new(store)
        }
    };
    let state = AppState::new(engine(), store, secure_cookies);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    tokio::spawn(async move {
        let _ = smedx_web::serve(listener, st, async {
            let _ = rx.await;
        })
        .await;
    });
    App {
        base: format!("http://{addr}"),
        state,
        _dir: dir,
        _stop: tx,
        _schema: schema,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> String {
        attr_after(&self.text, "name=\"csrf\" value=\"").unwrap_or_default()
    }
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }
}

fn attr_after(text: &str, pat: &str) -> Option<String> {
    let i = text.find(pat)? + pat.len();
    let end = text[i..].find('"')?;
    Some(text[i..i + end].to_string())
}

/// A browser: its own cookie jar, redirects not followed.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(app: &App) -> Self {
        Browser::with_lang(app, None)
    }
    pub fn with_lang(app: &App, accept_language: Option<&str>) -> Self {
        let mut headers = HeaderMap::new();
        if let Some(l) = accept_language {
            headers.insert("accept-language", l.parse().expect("header"));
        }
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .expect("client"),
            base: app.base.clone(),
        }
    }
    async fn done(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Resp {
            status,
            headers,
            text,
        }
    }
    pub async fn get(&self, path: &str) -> Resp {
        Self::done(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }
    /// Posts a form as-is (no CSRF token added).
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        Self::done(
            self.http
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }
    /// Fetches `page` for its CSRF token, then posts the form with it.
    pub async fn post(&self, page: &str, path: &str, form: &[(&str, &str)]) -> Resp {
        let csrf = self.get(page).await.csrf();
        assert!(!csrf.is_empty(), "no CSRF token on {page}");
        let mut f: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        f.extend_from_slice(form);
        self.post_raw(path, &f).await
    }
    pub async fn signup(&self, enterprise: &str, email: &str, password: &str) -> Resp {
        self.post(
            "/signup",
            "/signup",
            &[
                ("enterprise", enterprise),
                ("email", email),
                ("password", password),
                ("confirm", password),
            ],
        )
        .await
    }
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post(
            "/login",
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }
    /// Starts a new assessment; returns its id.
    pub async fn start_assessment(&self) -> i64 {
        let r = self.post("/assess", "/assessments", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        id_from(&r.location())
    }
    pub async fn step(&self, id: i64, n: u8, form: &[(&str, &str)]) -> Resp {
        let page = format!("/assessments/{id}/step/{n}");
        self.post(&page, &page, form).await
    }
    /// Completes all six steps with the example firm's answers; returns the final response.
    pub async fn complete_wizard(&self, id: i64, production_control: &str) -> Resp {
        for (n, form) in wizard_forms(production_control).iter().enumerate() {
            let n = u8::try_from(n + 1).expect("step");
            let r = self.step(id, n, form).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "step {n}: {}", r.text);
            let expect = if n < 6 {
                format!("/assessments/{id}/step/{}", n + 1)
            } else {
                format!("/assessments/{id}")
            };
            assert_eq!(r.location(), expect);
        }
        self.get(&format!("/assessments/{id}")).await
    }
}

/// `/assessments/12/step/1` → 12
pub fn id_from(location: &str) -> i64 {
    location
        .trim_start_matches("/assessments/")
        .split('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {location:?}"))
}

pub const PASSWORD: &str = "correct horse battery";

/// The password hash of [`PASSWORD`], for accounts a test creates through the store (hashed once:
/// hashing is slow on purpose).
pub fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::PasswordHasher;
        argon2::Argon2::default()
            .hash_password(PASSWORD.as_bytes())
            .expect("hash")
            .to_string()
    })
    .clone()
}

/// The example firm of `examples/` as the six wizard forms.
pub fn wizard_forms(production_control: &str) -> Vec<Vec<(&'static str, &str)>> {
    vec![
        vec![
            ("name", "某某精密五金"),
            ("industry", "C3311"),
            ("employees", "85"),
            ("revenue_wan", "3200"),
            ("assets_wan", ""),
            ("product_complexity", "medium"),
            ("chain_position", "midstream"),
            ("in_cluster", "true"),
            ("supplies_chain_leader", "true"),
            ("adopted", "mg.finance"),
        ],
        vec![
            ("network", "shopfloor_control"),
            ("network", "application_network"),
            ("equipment_digital.digital", "14"),
            ("equipment_digital.total", "40"),
            ("equipment_networked.networked", "6"),
            ("equipment_networked.total", "40"),
            ("data_collection", "production_control"),
            ("data_collection", "warehouse"),
            ("data_collection", "finance"),
            ("information_systems", "multiple"),
            ("network_security", "products"),
            ("data_security", "products"),
        ],
        vec![
            ("planning", "piloting"),
            ("mechanisms", "system_operations"),
            ("talent", "digital_staff"),
            ("funding.investment", "18"),
            ("funding.revenue", "3200"),
        ],
        vec![
            ("green.before.energy", "360"),
            ("green.before.revenue", "3000"),
            ("green.after.energy", "345"),
            ("green.after.revenue", "3200"),
            ("quality.before", "96.5"),
            ("quality.after", "97.8"),
            ("revenue_per_head.before.revenue", "3000"),
            ("revenue_per_head.before.employees", "90"),
            ("revenue_per_head.after.revenue", "3200"),
            ("revenue_per_head.after.employees", "85"),
            ("cost_per_100.before.cost", "2550"),
            ("cost_per_100.before.revenue", "3000"),
            ("cost_per_100.after.cost", "2740"),
            ("cost_per_100.after.revenue", "3200"),
        ],
        vec![
            ("scenarios.product_design", "1"),
            ("scenarios.process_design", "0"),
            ("scenarios.marketing", "1"),
            ("scenarios.after_sales", "0"),
            ("scenarios.planning", "1"),
            ("scenarios.production_control", production_control),
            ("scenarios.quality", "1"),
            ("scenarios.equipment", "1"),
            ("scenarios.safety", "1"),
            ("scenarios.energy", "0"),
            ("scenarios.procurement", "1"),
            ("scenarios.warehouse", "2"),
            ("scenarios.finance", "2"),
            ("scenarios.hr", "1"),
            ("scenarios.office", "2"),
            ("scenarios.decision", "0"),
        ],
        vec![
            ("obstacles.no_solution", "true"),
            ("obstacles.budget", "true"),
            ("obstacles.skills", "true"),
            (
                "pain_points",
                "订单多了交期总是延误，计件工资经常算错，仓库老是找不到料",
            ),
            ("budget_wan", "30"),
        ],
    ]
}

/// A signed-up browser of a new enterprise.
pub async fn user(app: &App, enterprise: &str, email: &str) -> Browser {
    let b = Browser::new(app);
    let r = b.signup(enterprise, email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "signup: {}", r.text);
    b
}

/// A bearer token for `email`.
pub async fn token(app: &App, email: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/tokens", app.base))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.expect("json");
    v["token"].as_str().expect("token").to_string()
}
