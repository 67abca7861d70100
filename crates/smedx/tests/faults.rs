//! Faults, end to end with the real `smedx` binary:
//!
//! * `kill -9` of `smedx serve` while many clients complete assessments (through the JSON API and
//!   through the wizard's last step): after a restart the database opens cleanly
//!   (`PRAGMA integrity_check` on SQLite, `/healthz` 200) and every write the server acknowledged
//!   (a 2xx or the wizard's 303 received by the client) is there;
//! * `kill -9` of `smedx import` in the middle of a large CSV, and of `smedx serve` in the middle of
//!   a web import (`POST /imports`, a background job): the import is one transaction, so the
//!   database has none of its rows, and importing the file again succeeds;
//! * a full disk (SQLite on a small tmpfs, filled up) and a read-only database (PostgreSQL with
//!   `default_transaction_read_only` switched on under the running server): writes get a 503 with a
//!   translated message (an error page, or the API's JSON error `unavailable`), reads keep working,
//!   nothing is corrupted, and writes work again as soon as the condition clears;
//! * PostgreSQL stopped and started again under load (a private cluster made with initdb, on its
//!   own port, so nobody else's database goes away): requests fail cleanly with 503 within the
//!   pool's acquire timeout and succeed again afterwards without restarting smedx. It takes ≈ 30 s,
//!   so it runs only with `SMEDX_FAULTS_PG_RESTART=1`; `.ci/run` runs it after the workspace tests.
//!
//! The kill -9 of submits runs on SQLite and on PostgreSQL (127.0.0.1:5432, database `test`, one
//! fresh schema per test; `SMEDX_TEST_POSTGRES_URL` overrides the server, `SMEDX_SKIP_POSTGRES=1`
//! skips it); the import kills run on SQLite with 2,000 rows, and with `SMEDX_FAULTS_LONG=1` on
//! 20,000 rows and (`smedx import`) on PostgreSQL too. The full disk needs root to mount a tmpfs (skipped
//! otherwise, with a note); the read-only database is PostgreSQL's.
//! HTTP goes through a minimal blocking client on std's TcpStream (one connection per request)
//! so that a killed server shows as a connection error and nothing is retried behind our back.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PROFILE: &str = include_str!("../../../bench/data/profile.json");
const ANSWERS: &str = include_str!("../../../bench/data/answers.json");
const STEP6_FORM: &str = include_str!("../../../bench/data/step6.form");
const PASSWORD: &str = "faults-password-123";
const ADMIN_EMAIL: &str = "admin@example.com";

/// Longest a single request may take before the test calls it a hang (the PostgreSQL pool's
/// acquire timeout is 5 s; the margin absorbs a busy CI machine).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

// ---- temporary directories --------------------------------------------------------------------

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "smedx-faults-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("a temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- the databases ----------------------------------------------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// `PRAGMA integrity_check` of a SQLite file (opening it also recovers its WAL, as a restart
/// would).
fn sqlite_integrity(path: &Path) -> String {
    use sqlx::{ConnectOptions, Connection};
    runtime().block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .connect()
            .await
            .expect("the database file opens");
        let r: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .expect("integrity_check runs");
        let _ = conn.close().await;
        r
    })
}

fn sqlite_scalar(path: &Path, sql: &'static str) -> i64 {
    use sqlx::{ConnectOptions, Connection};
    runtime().block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .connect()
            .await
            .expect("the database file opens");
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql);
        let _ = conn.close().await;
        n
    })
}

fn pg_server() -> Option<String> {
    if std::env::var("SMEDX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("SMEDX_SKIP_POSTGRES=1: the PostgreSQL variant is skipped");
        return None;
    }
    Some(
        std::env::var("SMEDX_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
    )
}

fn pg_exec(server: &str, sql: &str) {
    use sqlx::{AssertSqlSafe, Connection, Executor};
    runtime().block_on(async {
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (or SMEDX_SKIP_POSTGRES=1)");
        conn.execute(AssertSqlSafe(sql.to_owned()))
            .await
            .expect(sql);
        let _ = conn.close().await;
    });
}

fn pg_scalar(server: &str, sql: &str) -> i64 {
    use sqlx::{AssertSqlSafe, Connection};
    runtime().block_on(async {
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .expect("PostgreSQL");
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut conn)
            .await
            .expect(sql);
        let _ = conn.close().await;
        n
    })
}

/// A fresh schema of the test database (dropped afterwards), optionally owned by a role of its
/// own so that a test can change that role's settings without touching anyone else's sessions.
struct PgSchema {
    server: String,
    name: String,
    role: Option<String>,
}

impl PgSchema {
    fn new(tag: &str, own_role: bool) -> Option<PgSchema> {
        let server = pg_server()?;
        let name = format!("smedx_faults_{tag}_{}", std::process::id());
        let role = own_role.then(|| name.clone());
        let mut sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE; ");
        if let Some(r) = &role {
            sql += &format!(
                "DROP ROLE IF EXISTS {r}; CREATE ROLE {r} LOGIN; \
                 CREATE SCHEMA {name} AUTHORIZATION {r};"
            );
        } else {
            sql += &format!("CREATE SCHEMA {name};");
        }
        pg_exec(&server, &sql);
        Some(PgSchema { server, name, role })
    }

    /// The URL smedx connects with: the schema as its search_path, as the schema's role if any.
    fn url(&self) -> String {
        let mut url = self.server.clone();
        if let Some(role) = &self.role
            && let Some((scheme, rest)) = url.split_once("://")
        {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            url = format!("{scheme}://{role}@{host}");
        }
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{}", self.name)
    }

    /// The test database's URL with the schema as search_path (for counting rows).
    fn admin_url(&self) -> String {
        let sep = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.server, self.name
        )
    }

    fn count(&self, table: &str) -> i64 {
        pg_scalar(&self.admin_url(), &format!("SELECT COUNT(*) FROM {table}"))
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let mut sql = format!("DROP SCHEMA IF EXISTS {} CASCADE;", self.name);
        if let Some(r) = &self.role {
            sql += &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{r}'; \
                 DROP ROLE IF EXISTS {r};"
            );
        }
        pg_exec(&self.server, &sql);
    }
}

/// Where a test's data lives: a SQLite file in the data directory, or a PostgreSQL schema.
enum Db {
    Sqlite,
    Postgres(PgSchema),
}

impl Db {
    fn label(&self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }
    fn url(&self) -> Option<String> {
        match self {
            Db::Sqlite => None,
            Db::Postgres(s) => Some(s.url()),
        }
    }
    fn count(&self, data: &Path, table: &'static str) -> i64 {
        match (self, table) {
            (Db::Sqlite, "enterprises") => {
                sqlite_scalar(&sqlite_file(data), "SELECT COUNT(*) FROM enterprises")
            }
            (Db::Sqlite, "assessments") => {
                sqlite_scalar(&sqlite_file(data), "SELECT COUNT(*) FROM assessments")
            }
            (Db::Sqlite, _) => panic!("no count of {table}"),
            (Db::Postgres(s), _) => s.count(table),
        }
    }
}

fn sqlite_file(data: &Path) -> PathBuf {
    data.join("smedx.sqlite")
}

/// SQLite always; PostgreSQL unless skipped.
fn databases(tag: &str) -> Vec<Db> {
    let mut v = vec![Db::Sqlite];
    if let Some(s) = PgSchema::new(tag, false) {
        v.push(Db::Postgres(s));
    }
    v
}

// ---- the server -------------------------------------------------------------------------------

fn smedx_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_smedx"));
    for var in [
        "SMEDX_KB",
        "SMEDX_LANG",
        "SMEDX_DATA_DIR",
        "SMEDX_DATABASE_URL",
        "RUST_LOG",
    ] {
        c.env_remove(var);
    }
    c
}

struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Server {
    fn start(data: &Path, database: Option<&str>) -> Server {
        match Server::try_start(data, database, None) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts `smedx serve` on a free port; Err(its output) when it exits instead.
    /// The server's stdout and stderr go to `log` (default: a file in the temporary directory).
    fn try_start(
        data: &Path,
        database: Option<&str>,
        log: Option<PathBuf>,
    ) -> Result<Server, String> {
        Server::try_start_as(data, database, log, false)
    }

    /// With `admin`, the server creates the administrator [`ADMIN_EMAIL`] at start-up.
    fn try_start_as(
        data: &Path,
        database: Option<&str>,
        log: Option<PathBuf>,
        admin: bool,
    ) -> Result<Server, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let log = log.unwrap_or_else(|| {
            std::env::temp_dir().join(format!(
                "smedx-faults-server-{}-{}.log",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ))
        });
        let out = std::fs::File::create(&log).expect("the server log");
        let err = out.try_clone().expect("the server log");
        let mut cmd = smedx_cmd();
        // Plain log lines (no colours) for the failure output.
        cmd.env("NO_COLOR", "1");
        if admin {
            cmd.env("SMEDX_ADMIN_PASSWORD", PASSWORD);
        }
        cmd.args([
            "--lang",
            "en",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data);
        if let Some(url) = database {
            cmd.args(["--database", url]);
        }
        if admin {
            cmd.args(["--admin-email", ADMIN_EMAIL]);
        }
        let mut child = cmd
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("smedx serve starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(i) = text.find("running at http://") {
                let rest = &text[i + "running at http://".len()..];
                let addr: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect();
                return Ok(Server { child, addr, log });
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("smedx serve exited ({status}):\n{text}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("smedx serve did not start within 60 s:\n{text}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no shutdown code runs at all.
    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// SIGINT, as Ctrl-C: a graceful stop.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        self.kill9();
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[track_caller]
    fn assert_no_panic(&self) {
        let log = self.log_text();
        assert!(!log.contains("panicked"), "the server panicked:\n{log}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(12).collect();
            eprintln!(
                "--- server ({:?}), log (last lines) ---",
                self.child.try_wait()
            );
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
        let _ = std::fs::remove_file(&self.log);
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---- a minimal HTTP/1.1 client ----------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("HTTP {}: not JSON ({e}): {}", self.status, self.text()))
    }
}

fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    s.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("incomplete response ({} bytes)", raw.len()),
        )
    })
}

fn parse_response(raw: &[u8]) -> Option<Resp> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let resp = Resp {
        status,
        headers,
        body: Vec::new(),
    };
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let nl = rest[at..].windows(2).position(|w| w == b"\r\n")? + at;
            let size_text = std::str::from_utf8(&rest[at..nl]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(nl + 2..nl + 2 + size)?);
            at = nl + 2 + size + 2;
        }
        body
    } else if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().ok()?;
        rest.get(..len)?.to_vec()
    } else {
        rest.to_vec()
    };
    Some(Resp { body, ..resp })
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn attr_after(text: &str, pat: &str) -> Option<String> {
    let i = text.find(pat)? + pat.len();
    Some(text[i..].chars().take_while(|c| *c != '"').collect())
}

/// One enterprise account: a browser session (cookies, CSRF token) and an API token.
#[derive(Clone)]
struct Account {
    cookies: String,
    csrf: String,
    token: String,
}

fn set_cookies(r: &Resp, jar: &mut Vec<(String, String)>) {
    for (k, v) in &r.headers {
        if k.eq_ignore_ascii_case("set-cookie")
            && let Some((name, value)) = v.split(';').next().and_then(|c| c.split_once('='))
        {
            jar.retain(|(n, _)| n != name);
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
}

fn cookie_header(jar: &[(String, String)]) -> String {
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Signs up through the HTML form, then takes an API token.
fn signup(addr: &str, email: &str) -> Account {
    let mut jar = Vec::new();
    let page = request(addr, "GET", "/signup", &[], b"").expect("GET /signup");
    set_cookies(&page, &mut jar);
    let csrf = attr_after(&page.text(), "name=\"csrf\" value=\"").expect("a CSRF token");
    let form = form_encode(&[
        ("csrf", &csrf),
        ("next", "/assess"),
        ("enterprise", "故障测试精密五金有限公司"),
        ("email", email),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ]);
    let cookies = cookie_header(&jar);
    let r = request(
        addr,
        "POST",
        "/signup",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &cookies),
        ],
        form.as_bytes(),
    )
    .expect("POST /signup");
    assert_eq!(r.status, 303, "sign-up: {}", r.text());
    set_cookies(&r, &mut jar);
    let cookies = cookie_header(&jar);
    let page = request(addr, "GET", "/assess", &[("Cookie", &cookies)], b"").expect("/assess");
    let csrf = attr_after(&page.text(), "name=\"csrf\" value=\"").expect("a session CSRF token");
    let body = json!({"email": email, "password": PASSWORD, "name": "faults"}).to_string();
    let r = request(
        addr,
        "POST",
        "/api/v1/tokens",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .expect("POST /api/v1/tokens");
    assert!(r.status == 200 || r.status == 201, "token: {}", r.text());
    let token = r.json()["token"].as_str().expect("a token").to_owned();
    Account {
        cookies,
        csrf,
        token,
    }
}

impl Account {
    fn api(&self, addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<Resp> {
        let auth = format!("Bearer {}", self.token);
        request(
            addr,
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    /// The wizard's last step (saves it, runs the engine, stores the result): 303 when done.
    fn wizard_finish(&self, addr: &str, id: i64) -> std::io::Result<Resp> {
        let form = STEP6_FORM.trim().replace("{csrf}", &self.csrf);
        request(
            addr,
            "POST",
            &format!("/assessments/{id}/step/6"),
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Cookie", &self.cookies),
            ],
            form.as_bytes(),
        )
    }

    /// A draft with profile and answers saved (the state after the wizard's step 5).
    fn draft(&self, addr: &str) -> i64 {
        let r = self
            .api(addr, "POST", "/api/v1/assessments", "{}")
            .expect("create");
        assert_eq!(r.status, 201, "create: {}", r.text());
        let id = r.json()["id"].as_i64().expect("an id");
        let r = self
            .api(
                addr,
                "PUT",
                &format!("/api/v1/assessments/{id}/profile"),
                PROFILE,
            )
            .expect("profile");
        assert_eq!(r.status, 200, "profile: {}", r.text());
        let r = self
            .api(
                addr,
                "PUT",
                &format!("/api/v1/assessments/{id}/answers"),
                ANSWERS,
            )
            .expect("answers");
        assert_eq!(r.status, 200, "answers: {}", r.text());
        id
    }
}

// ---- acknowledged writes ----------------------------------------------------------------------

/// How far an assessment got, as far as its client knows (the server answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Created,
    Profiled,
    Answered,
    Completed,
}

type Acks = Arc<Mutex<HashMap<i64, Stage>>>;

fn ack(acks: &Acks, id: i64, stage: Stage) {
    let mut m = acks.lock().unwrap_or_else(|e| e.into_inner());
    let e = m.entry(id).or_insert(stage);
    *e = (*e).max(stage);
}

/// One client completing assessments until the server stops answering: through the API, or with
/// the wizard's last step. Returns the unexpected responses (anything but the documented success).
fn submit_loop(addr: &str, acc: &Account, wizard: bool, acks: &Acks) -> Vec<String> {
    let mut unexpected = Vec::new();
    let mut check = |what: &str, r: std::io::Result<Resp>, want: u16| -> Option<Resp> {
        match r {
            Ok(r) if r.status == want => Some(r),
            Ok(r) => {
                unexpected.push(format!("{what}: HTTP {} {}", r.status, r.text()));
                None
            }
            // The server is gone (killed): the request was never acknowledged.
            Err(_) => None,
        }
    };
    loop {
        let Some(r) = check(
            "create",
            acc.api(addr, "POST", "/api/v1/assessments", "{}"),
            201,
        ) else {
            return unexpected;
        };
        let Some(id) = r.json()["id"].as_i64() else {
            unexpected.push(format!("create: no id in {}", r.text()));
            return unexpected;
        };
        ack(acks, id, Stage::Created);
        let path = format!("/api/v1/assessments/{id}");
        if check(
            "profile",
            acc.api(addr, "PUT", &format!("{path}/profile"), PROFILE),
            200,
        )
        .is_none()
        {
            return unexpected;
        }
        ack(acks, id, Stage::Profiled);
        if check(
            "answers",
            acc.api(addr, "PUT", &format!("{path}/answers"), ANSWERS),
            200,
        )
        .is_none()
        {
            return unexpected;
        }
        ack(acks, id, Stage::Answered);
        let done = if wizard {
            check("wizard step 6", acc.wizard_finish(addr, id), 303)
        } else {
            check(
                "complete",
                acc.api(addr, "POST", &format!("{path}/complete"), ""),
                200,
            )
        };
        if done.is_none() {
            return unexpected;
        }
        ack(acks, id, Stage::Completed);
    }
}

/// Every acknowledged write is in the database, as the API shows it.
fn assert_acks_present(addr: &str, acc: &Account, acks: &HashMap<i64, Stage>, label: &str) {
    for (&id, &stage) in acks {
        let r = acc
            .api(addr, "GET", &format!("/api/v1/assessments/{id}"), "")
            .expect("GET assessment");
        assert_eq!(
            r.status,
            200,
            "{label}: assessment {id} ({stage:?} acknowledged) is missing: {}",
            r.text()
        );
        let a = r.json();
        let complete = a["status"] == "complete";
        match stage {
            Stage::Completed => assert!(complete, "{label}: {id} was completed: {a}"),
            Stage::Answered => assert!(
                complete || !a["answers"].is_null(),
                "{label}: {id} had its answers saved: {a}"
            ),
            Stage::Profiled => assert!(
                complete || !a["profile"].is_null(),
                "{label}: {id} had its profile saved: {a}"
            ),
            Stage::Created => {}
        }
    }
}

// ---- kill -9 during assessment submits --------------------------------------------------------

fn kill_during_submits(db: &Db) {
    let label = db.label();
    let dir = TempDir::new("kill-submits");
    let data = dir.0.join("data");
    let url = db.url();
    let mut server = Server::start(&data, url.as_deref());
    let acc = signup(&server.addr, "kill@example.com");
    let acks: Acks = Arc::default();

    let clients: Vec<_> = (0..12)
        .map(|i| {
            let (addr, acc, acks) = (server.addr.clone(), acc.clone(), acks.clone());
            thread::spawn(move || submit_loop(&addr, &acc, i % 3 == 0, &acks))
        })
        .collect();
    // Kill while the clients are busy: once a good number of assessments are complete.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|s| **s == Stage::Completed)
            .count();
        if done >= 60 || Instant::now() > deadline {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    server.assert_no_panic();
    server.kill9();
    let mut unexpected = Vec::new();
    for c in clients {
        unexpected.extend(c.join().expect("a client thread"));
    }
    assert!(
        unexpected.is_empty(),
        "{label}: responses before the kill: {unexpected:?}"
    );
    let acks = acks.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let completed = acks.values().filter(|s| **s == Stage::Completed).count();
    assert!(
        completed >= 10,
        "{label}: the clients completed only {completed} assessments before the kill"
    );

    if let Db::Sqlite = db {
        assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok", "{label}");
    }
    let mut server = Server::start(&data, url.as_deref());
    let health = request(&server.addr, "GET", "/healthz", &[], b"").expect("/healthz");
    assert_eq!(health.status, 200, "{label}: {}", health.text());
    assert_acks_present(&server.addr, &acc, &acks, label);
    // And the restarted server takes new work, through both paths.
    let id = acc.draft(&server.addr);
    let r = acc.wizard_finish(&server.addr, id).expect("wizard");
    assert_eq!(r.status, 303, "{label}: {}", r.text());
    let id = acc.draft(&server.addr);
    let r = acc
        .api(
            &server.addr,
            "POST",
            &format!("/api/v1/assessments/{id}/complete"),
            "",
        )
        .expect("complete");
    assert_eq!(r.status, 200, "{label}: {}", r.text());
    server.assert_no_panic();
    server.stop();
    if let Db::Sqlite = db {
        assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok", "{label}");
    }
    eprintln!(
        "{label}: killed with {} acknowledged assessments ({completed} completed); all present",
        acks.len()
    );
}

#[test]
fn kill_9_during_assessment_submits_loses_no_acknowledged_write() {
    for db in databases("submits") {
        kill_during_submits(&db);
    }
}

// ---- kill -9 during an import -----------------------------------------------------------------

/// `SMEDX_FAULTS_LONG=1`: the longer variants (a bigger import file, and on PostgreSQL too).
fn long_variants() -> bool {
    std::env::var("SMEDX_FAULTS_LONG").as_deref() == Ok("1")
}

/// Rows in the generated import files. Re-importing a file is most of a test's time (≈ 25 s for
/// 5,000 rows in a debug build), hence the small default. On SQLite the tests watch the write
/// lock; on PostgreSQL (long variant only) the progress lines `smedx import` prints from 5,000
/// rows on, one per 1,000 rows stored inside the transaction.
fn import_rows() -> &'static str {
    if long_variants() { "20000" } else { "2000" }
}

fn kill_during_import(db: &Db, csv: &Path) {
    let label = db.label();
    let dir = TempDir::new("kill-import");
    let data = dir.0.join("data");
    let url = db.url();
    let import = |cmd: &mut Command| {
        cmd.args(["--lang", "en", "import"])
            .arg(csv)
            .arg("--create-clusters")
            .arg("--data-dir")
            .arg(&data);
        if let Some(u) = &url {
            cmd.args(["--database", u]);
        }
    };

    let mut cmd = smedx_cmd();
    import(&mut cmd);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smedx import starts");
    let stderr = child.stderr.take().expect("stderr");
    let killed_at = if let Db::Sqlite = db {
        // While the rows are being stored the import's transaction holds the write lock (the
        // migrations and cluster creation before it hold it only for moments).
        let drain =
            thread::spawn(move || std::io::copy(&mut BufReader::new(stderr), &mut std::io::sink()));
        let mut locked = 0;
        while locked < 5 {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{label}: the import ended ({status}) before it could be interrupted");
            }
            locked = if data.join("smedx.sqlite").exists() && write_locked(&data) {
                locked + 1
            } else {
                0
            };
            thread::sleep(Duration::from_millis(100));
        }
        child.kill().expect("SIGKILL");
        let _ = drain.join();
        "while its transaction held the write lock".to_owned()
    } else {
        let mut seen = String::new();
        let mut killed_at = None;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            seen += &line;
            seen.push('\n');
            // "importing 5000/20000 (1 s)": rows stored so far, inside the still open transaction.
            if let Some(rest) = line.strip_prefix("importing ")
                && let Some((done, all)) = rest.split_once('/')
                && let (Ok(done), Some(all)) = (done.parse::<u64>(), all.split(' ').next())
                && all.parse::<u64>().is_ok_and(|all| done > 0 && done < all)
            {
                child.kill().expect("SIGKILL");
                killed_at = Some(format!("at \"{line}\""));
                break;
            }
        }
        killed_at.unwrap_or_else(|| {
            let status = child.try_wait();
            panic!("{label}: the import ended ({status:?}) before it could be interrupted:\n{seen}")
        })
    };
    let _ = child.wait();

    if let Db::Sqlite = db {
        assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok", "{label}");
    }
    assert_eq!(
        db.count(&data, "enterprises"),
        0,
        "{label}: killed {killed_at}: no row of the file may be stored"
    );
    assert_eq!(db.count(&data, "assessments"), 0, "{label}");

    let mut cmd = smedx_cmd();
    import(&mut cmd);
    let out = cmd.output().expect("smedx import");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{label}: importing again: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: i64 = import_rows().parse().expect("a number");
    assert_eq!(db.count(&data, "enterprises"), rows, "{label}");
    if let Db::Sqlite = db {
        assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok", "{label}");
    }
    eprintln!("{label}: import killed {killed_at}: nothing stored; imported again");
}

#[test]
fn kill_9_during_an_import_stores_none_of_it_and_the_import_can_be_repeated() {
    let dir = TempDir::new("import-file");
    let csv = dir.0.join("enterprises.csv");
    let out = smedx_cmd()
        .args([
            "--lang",
            "en",
            "demo",
            "generate",
            "--enterprises",
            import_rows(),
            "--seed",
            "7",
        ])
        .arg("--out")
        .arg(&csv)
        .arg("--data-dir")
        .arg(dir.0.join("unused"))
        .output()
        .expect("smedx demo generate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    kill_during_import(&Db::Sqlite, &csv);
    if !long_variants() {
        eprintln!("PostgreSQL variant skipped: set SMEDX_FAULTS_LONG=1 to run it");
        return;
    }
    if let Some(schema) = PgSchema::new("import", false) {
        kill_during_import(&Db::Postgres(schema), &csv);
    }
}

// ---- kill -9 during a web import ----------------------------------------------------------------

/// Logs in through the HTML form; returns the cookies and the session's CSRF token from `page`.
fn login(addr: &str, email: &str, page: &str) -> (String, String) {
    let mut jar = Vec::new();
    let r = request(addr, "GET", "/login", &[], b"").expect("GET /login");
    set_cookies(&r, &mut jar);
    let csrf = attr_after(&r.text(), "name=\"csrf\" value=\"").expect("a CSRF token");
    let form = form_encode(&[("csrf", &csrf), ("email", email), ("password", PASSWORD)]);
    let cookies = cookie_header(&jar);
    let r = request(
        addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &cookies),
        ],
        form.as_bytes(),
    )
    .expect("POST /login");
    assert_eq!(r.status, 303, "log-in: {}", r.text());
    set_cookies(&r, &mut jar);
    let cookies = cookie_header(&jar);
    let r = request(addr, "GET", page, &[("Cookie", &cookies)], b"").expect(page);
    assert_eq!(r.status, 200, "{page}: {}", r.text());
    let csrf = attr_after(&r.text(), "name=\"csrf\" value=\"").expect("a session CSRF token");
    (cookies, csrf)
}

/// `POST /imports` (multipart: csrf, file); returns the job id from the redirect.
fn upload(addr: &str, cookies: &str, csrf: &str, csv: &[u8]) -> i64 {
    let boundary = "smedxfaultsboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"enterprises.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(csv);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let r = request(
        addr,
        "POST",
        "/imports",
        &[("Content-Type", &content_type), ("Cookie", cookies)],
        &body,
    )
    .expect("POST /imports");
    assert_eq!(r.status, 303, "upload: {}", r.text());
    let location = r.header("location").unwrap_or_default().to_owned();
    location
        .strip_prefix("/imports/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a job page, not {location:?}"))
}

/// The job's status, as stored.
fn job_status(data: &Path, job: i64) -> String {
    use sqlx::{ConnectOptions, Connection};
    runtime().block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(sqlite_file(data))
            .connect()
            .await
            .expect("the database file opens");
        let status: String = sqlx::query_scalar("SELECT status FROM import_jobs WHERE id = ?")
            .bind(job)
            .fetch_one(&mut conn)
            .await
            .expect("the job");
        let _ = conn.close().await;
        status
    })
}

/// Whether another connection holds the SQLite file's write lock right now.
fn write_locked(data: &Path) -> bool {
    use sqlx::{ConnectOptions, Connection, Executor};
    runtime().block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(sqlite_file(data))
            .busy_timeout(Duration::ZERO)
            .connect()
            .await
            .expect("the database file opens");
        let locked = match conn.execute("BEGIN IMMEDIATE").await {
            Ok(_) => {
                let _ = conn.execute("ROLLBACK").await;
                false
            }
            Err(_) => true,
        };
        let _ = conn.close().await;
        locked
    })
}

/// The generated file without its cluster column's values: the web import, unlike
/// `smedx import --create-clusters`, takes only clusters that exist.
fn without_clusters(csv: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(csv).expect("the CSV");
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    let col = header
        .split(',')
        .position(|h| h == "Cluster")
        .expect("a Cluster column");
    let mut out = format!("{header}\n");
    for line in lines {
        // Quoted fields come after the fourth column, so a plain split finds it.
        let mut fields: Vec<&str> = line.splitn(col + 2, ',').collect();
        fields[col] = "";
        out += &fields.join(",");
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn kill_9_during_a_web_import_stores_none_of_it_and_the_upload_can_be_repeated() {
    let dir = TempDir::new("kill-web-import");
    let csv = dir.0.join("enterprises.csv");
    let out = smedx_cmd()
        .args([
            "--lang",
            "en",
            "demo",
            "generate",
            "--enterprises",
            import_rows(),
            "--seed",
            "9",
        ])
        .arg("--out")
        .arg(&csv)
        .arg("--data-dir")
        .arg(dir.0.join("unused"))
        .output()
        .expect("smedx demo generate");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = without_clusters(&csv);
    let data = dir.0.join("data");
    let start = || match Server::try_start_as(&data, None, None, true) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut server = start();
    let (cookies, csrf) = login(&server.addr, ADMIN_EMAIL, "/imports");
    let job = upload(&server.addr, &cookies, &csrf, &csv);
    // Kill once the rows are being stored: the import's transaction holds SQLite's write lock
    // (the progress ticker takes it only for a moment, so it must be held on three polls running).
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut locked = 0;
    while locked < 3 {
        let status = job_status(&data, job);
        assert!(
            ["queued", "validating", "importing"].contains(&status.as_str()),
            "the import ended ({status}) before it could be interrupted"
        );
        assert!(
            Instant::now() < deadline,
            "the import never started storing rows"
        );
        locked = if write_locked(&data) { locked + 1 } else { 0 };
        thread::sleep(Duration::from_millis(100));
    }
    server.kill9();

    assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok");
    assert_eq!(
        Db::Sqlite.count(&data, "enterprises"),
        0,
        "no row of the interrupted upload may be stored"
    );
    let mut server = start();
    let (cookies, csrf) = login(&server.addr, ADMIN_EMAIL, "/imports");
    let r = request(
        &server.addr,
        "GET",
        &format!("/imports/{job}"),
        &[("Cookie", &cookies)],
        b"",
    )
    .expect("the interrupted job's page");
    assert_eq!(r.status, 200, "{}", r.text());
    let again = upload(&server.addr, &cookies, &csrf, &csv);
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        let status = job_status(&data, again);
        if !["queued", "validating", "importing"].contains(&status.as_str())
            || Instant::now() > deadline
        {
            break status;
        }
        thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(status, "imported");
    let rows: i64 = import_rows().parse().expect("a number");
    assert_eq!(Db::Sqlite.count(&data, "enterprises"), rows);
    server.assert_no_panic();
    server.stop();
    assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok");
    eprintln!("web import (job {job}) killed while storing: nothing stored; uploaded again");
}

// ---- full disk (SQLite on a small tmpfs) ------------------------------------------------------

/// A tmpfs mounted for the test (root only), unmounted afterwards.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Writes zeros to `path` until the file system is full.
fn fill_disk(path: &Path) {
    let mut f = std::fs::File::create(path).expect("the filler file");
    let chunk = vec![0u8; 16 * 1024];
    loop {
        if f.write_all(&chunk).is_err() || f.sync_all().is_err() {
            break;
        }
    }
    // Whatever fits in less than a chunk, too.
    while f.write_all(&[0u8; 512]).is_ok() && f.sync_all().is_ok() {}
}

#[track_caller]
fn assert_unavailable_json(r: &Resp, english: bool) {
    assert_eq!(r.status, 503, "{}", r.text());
    let body = r.json();
    assert_eq!(body["code"], "unavailable", "{body}");
    let msg = body["message"].as_str().unwrap_or_default();
    if english {
        assert!(msg.contains("database is unavailable"), "{msg}");
    } else {
        assert!(msg.contains("数据库暂时无法使用"), "{msg}");
    }
}

#[test]
fn a_full_disk_gives_a_clear_error_and_writes_work_again_once_space_is_freed() {
    let dir = TempDir::new("full-disk");
    let Some(mnt) = Tmpfs::mount(&dir.0.join("mnt"), "8m") else {
        eprintln!("skipped: mounting a tmpfs needs root (the full-disk test fills one up)");
        return;
    };
    let data = mnt.0.join("data");
    // The log on the same disk, as `smedx serve >>/srv/smedx/serve.log` would have it: a server
    // that cannot write its log must still answer (a failed log write once panicked the request).
    let mut server = match Server::try_start(&data, None, Some(mnt.0.join("serve.log"))) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let addr = server.addr.clone();
    let acc = signup(&addr, "full@example.com");
    let done = acc.draft(&addr);
    let r = acc.wizard_finish(&addr, done).expect("wizard");
    assert_eq!(r.status, 303, "{}", r.text());
    let pending = acc.draft(&addr);
    let mut acked = vec![done, pending];

    let filler = mnt.0.join("filler");
    fill_disk(&filler);
    // SQLite may still have room in pages it already owns: write until it needs a new one.
    let mut refused = None;
    for _ in 0..2000 {
        let r = acc
            .api(
                &addr,
                "PUT",
                &format!("/api/v1/assessments/{pending}/answers?lang=en"),
                ANSWERS,
            )
            .expect("the server answers");
        if r.status == 200 {
            let r = acc
                .api(&addr, "POST", "/api/v1/assessments?lang=en", "{}")
                .expect("the server answers");
            match r.status {
                201 => acked.push(r.json()["id"].as_i64().expect("an id")),
                _ => {
                    refused = Some(r);
                    break;
                }
            }
            continue;
        }
        refused = Some(r);
        break;
    }
    let refused = refused.expect("writes on a full disk fail at some point");
    assert_unavailable_json(&refused, true);
    server.assert_no_panic();

    // The same in Chinese (the default), the wizard's error page, and reads still work.
    let r = acc
        .api(&addr, "POST", "/api/v1/assessments", "{}")
        .expect("the server answers");
    assert_unavailable_json(&r, false);
    let r = acc
        .wizard_finish(&addr, pending)
        .expect("the server answers");
    assert_eq!(r.status, 503, "{}", r.text());
    let page = r.text();
    assert!(page.contains("数据库暂时无法使用"), "{page}");
    assert!(page.contains("<html"), "a full error page: {page}");
    let r = request(
        &addr,
        "GET",
        &format!("/assessments/{done}"),
        &[("Cookie", &acc.cookies)],
        b"",
    )
    .expect("the result page");
    assert_eq!(r.status, 200, "reads work on a full disk");
    server.assert_no_panic();

    // Space again: the very next write works, and so does finishing the wizard.
    std::fs::remove_file(&filler).expect("removing the filler");
    let r = acc
        .api(&addr, "POST", "/api/v1/assessments", "{}")
        .expect("the server answers");
    assert_eq!(r.status, 201, "writes work again: {}", r.text());
    acked.push(r.json()["id"].as_i64().expect("an id"));
    let r = acc.wizard_finish(&addr, pending).expect("wizard");
    assert_eq!(r.status, 303, "{}", r.text());
    server.assert_no_panic();
    server.stop();

    assert_eq!(sqlite_integrity(&sqlite_file(&data)), "ok");
    let mut server = Server::start(&data, None);
    let acks: HashMap<i64, Stage> = acked.iter().map(|&id| (id, Stage::Created)).collect();
    assert_acks_present(&server.addr, &acc, &acks, "full disk");
    let r = acc
        .api(
            &server.addr,
            "GET",
            &format!("/api/v1/assessments/{pending}"),
            "",
        )
        .expect("GET");
    assert_eq!(r.json()["status"], "complete");
    server.stop();
    drop(mnt);
}

// ---- read-only database (PostgreSQL, switched under the running server) -----------------------

#[test]
fn a_read_only_database_gives_a_clear_error_and_writes_work_again_once_it_is_writable() {
    let Some(schema) = PgSchema::new("readonly", true) else {
        return;
    };
    let role = schema.role.clone().expect("a role");
    let dir = TempDir::new("read-only");
    let data = dir.0.join("data");
    let mut server = Server::start(&data, Some(&schema.url()));
    let addr = server.addr.clone();
    let acc = signup(&addr, "readonly@example.com");
    let done = acc.draft(&addr);
    let r = acc.wizard_finish(&addr, done).expect("wizard");
    assert_eq!(r.status, 303, "{}", r.text());
    let pending = acc.draft(&addr);

    // What a failover to a standby, or an operator's `default_transaction_read_only`, does:
    // every new session is read-only; the pool's current connections are ended.
    let switch = |on: bool| {
        let set = if on {
            format!("ALTER ROLE {role} SET default_transaction_read_only = on;")
        } else {
            format!("ALTER ROLE {role} RESET default_transaction_read_only;")
        };
        pg_exec(
            &schema.server,
            &format!(
                "{set} SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            ),
        );
    };
    switch(true);
    // A connection ended under the pool may fail one request; after that every write is refused.
    let mut last = None;
    for _ in 0..5 {
        let r = acc
            .api(&addr, "POST", "/api/v1/assessments?lang=en", "{}")
            .expect("the server answers");
        assert_ne!(r.status, 201, "a write on a read-only database");
        last = Some(r);
    }
    assert_unavailable_json(&last.expect("a response"), true);
    let r = acc
        .wizard_finish(&addr, pending)
        .expect("the server answers");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("数据库暂时无法使用"), "{}", r.text());
    let r = acc
        .api(&addr, "GET", &format!("/api/v1/assessments/{done}"), "")
        .expect("GET");
    assert_eq!(r.status, 200, "reads work on a read-only database");
    server.assert_no_panic();

    switch(false);
    let deadline = Instant::now() + Duration::from_secs(20);
    let r = loop {
        let r = acc
            .api(&addr, "POST", "/api/v1/assessments", "{}")
            .expect("the server answers");
        if r.status == 201 || Instant::now() > deadline {
            break r;
        }
        thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(r.status, 201, "writes work again: {}", r.text());
    let r = acc.wizard_finish(&addr, pending).expect("wizard");
    assert_eq!(r.status, 303, "{}", r.text());
    server.assert_no_panic();
    server.stop();
}

// ---- PostgreSQL restarted under load ----------------------------------------------------------

/// A private PostgreSQL cluster (initdb + pg_ctl in a temporary directory, its own port), so that
/// stopping it disturbs nobody else's tests. Stopped and deleted on drop.
struct PrivateCluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
}

impl PrivateCluster {
    fn start() -> PrivateCluster {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| {
                let mut v: Vec<PathBuf> = d.flatten().map(|e| e.path().join("bin")).collect();
                v.sort();
                v.into_iter().rev().find(|b| b.join("initdb").exists())
            })
            .or_else(|| {
                let out = Command::new("pg_config").arg("--bindir").output().ok()?;
                Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            })
            .filter(|b| b.join("initdb").exists())
            .expect("PostgreSQL's initdb (Debian: /usr/lib/postgresql/*/bin)");
        let dir = TempDir::new("pg-cluster");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = PrivateCluster { dir, bin, port };
        let data = cluster.data();
        std::fs::create_dir_all(&data).expect("the cluster directory");
        if is_root() {
            // initdb and postgres refuse to run as root.
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&cluster.dir.0)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown to the postgres user");
        }
        let initdb = cluster.bin.join("initdb");
        let initdb = initdb.to_string_lossy();
        let data_s = data.to_string_lossy();
        cluster.run(&[
            &initdb,
            "-D",
            &data_s,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ]);
        cluster.pg_ctl("start");
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.0.join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, args: &[&str]) {
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]);
            c
        } else {
            Command::new(args[0])
        };
        let args = if is_root() { args } else { &args[1..] };
        let out = cmd.args(args).output().expect("running a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl start` (waits until it accepts connections) or `pg_ctl stop` (fast: ends sessions).
    fn pg_ctl(&self, action: &str) {
        let pg_ctl = self.bin.join("pg_ctl");
        let pg_ctl = pg_ctl.to_string_lossy();
        let data = self.data();
        let data = data.to_string_lossy();
        let log = self.dir.0.join("server.log");
        let log = log.to_string_lossy();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.0.display()
        );
        match action {
            "start" => self.run(&[&pg_ctl, "-D", &data, "-l", &log, "-w", "-o", &opts, "start"]),
            _ => self.run(&[&pg_ctl, "-D", &data, "-m", "fast", "-w", "stop"]),
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let pg_ctl = self.bin.join("pg_ctl");
            let data = self.data();
            let mut cmd = if is_root() {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
                c
            } else {
                Command::new(&pg_ctl)
            };
            let _ = cmd
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[derive(Debug)]
struct Outcome {
    at: Instant,
    took: Duration,
    what: &'static str,
    result: Result<Resp, String>,
}

#[test]
fn postgresql_restarted_under_load_fails_cleanly_and_recovers_without_restarting_smedx() {
    if std::env::var("SMEDX_FAULTS_PG_RESTART").as_deref() != Ok("1") {
        eprintln!(
            "skipped: set SMEDX_FAULTS_PG_RESTART=1 to stop and start a private PostgreSQL cluster \
             under load (≈ 30 s)"
        );
        return;
    }
    let cluster = PrivateCluster::start();
    let dir = TempDir::new("pg-restart");
    let data = dir.0.join("data");
    let mut server = Server::start(&data, Some(&cluster.url()));
    let addr = server.addr.clone();
    let acc = signup(&addr, "restart@example.com");

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let acks: Acks = Arc::default();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (addr, acc, stop, outcomes, acks) = (
                addr.clone(),
                acc.clone(),
                stop.clone(),
                outcomes.clone(),
                acks.clone(),
            );
            thread::spawn(move || {
                let record = |what: &'static str, t0: Instant, r: std::io::Result<Resp>| {
                    let ok = r.as_ref().is_ok_and(|r| r.status < 300);
                    let json = r.as_ref().ok().and_then(|r| {
                        (r.status < 300)
                            .then(|| serde_json::from_slice::<Value>(&r.body).ok())
                            .flatten()
                    });
                    outcomes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Outcome {
                            at: t0,
                            took: t0.elapsed(),
                            what,
                            result: r.map_err(|e| e.to_string()),
                        });
                    (ok, json)
                };
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    let (ok, json) = record(
                        "create",
                        t0,
                        acc.api(&addr, "POST", "/api/v1/assessments", "{}"),
                    );
                    let Some(id) = json.and_then(|j| j["id"].as_i64()).filter(|_| ok) else {
                        thread::sleep(Duration::from_millis(50));
                        continue;
                    };
                    ack(&acks, id, Stage::Created);
                    let t0 = Instant::now();
                    let path = format!("/api/v1/assessments/{id}/profile");
                    if record("profile", t0, acc.api(&addr, "PUT", &path, PROFILE)).0 {
                        ack(&acks, id, Stage::Profiled);
                    }
                    let t0 = Instant::now();
                    let path = format!("/api/v1/assessments/{id}");
                    record("read", t0, acc.api(&addr, "GET", &path, ""));
                }
            })
        })
        .collect();

    thread::sleep(Duration::from_secs(2));
    let down_at = Instant::now();
    cluster.pg_ctl("stop");
    // Long enough for requests to run into the pool's acquire timeout (5 s).
    thread::sleep(Duration::from_secs(8));
    let health = request(&addr, "GET", "/healthz", &[], b"").expect("/healthz answers");
    assert_eq!(
        health.status,
        503,
        "/healthz during the outage: {}",
        health.text()
    );
    // A logged-in user is told that the database is unavailable, not sent to the log-in page.
    let page = request(&addr, "GET", "/assess", &[("Cookie", &acc.cookies)], b"").expect("/assess");
    assert_eq!(
        page.status,
        503,
        "a page during the outage: {}",
        page.text()
    );
    assert!(
        page.text().contains("数据库暂时无法使用"),
        "{}",
        page.text()
    );
    cluster.pg_ctl("start");
    let up_at = Instant::now();
    // Give the clients time to get going again, then stop them.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        thread::sleep(Duration::from_millis(500));
        let ok_after = outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|o| o.at > up_at && o.result.as_ref().is_ok_and(|r| r.status < 300))
            .count();
        if ok_after >= 50 || Instant::now() > deadline {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client thread");
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|e| e.into_inner()));

    let mut refused = 0;
    for o in &outcomes {
        assert!(
            o.took < REQUEST_TIMEOUT,
            "{} hung for {:?} ({:?})",
            o.what,
            o.took,
            o.result
        );
        let r = o
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: the server dropped the connection: {e}", o.what));
        if r.status >= 300 {
            assert_unavailable_json(r, false);
            assert!(
                o.at + o.took >= down_at,
                "{}: refused before PostgreSQL went down: {}",
                o.what,
                r.text()
            );
            // Within the pool's acquire timeout (5 s) plus a margin for the busy machine.
            assert!(o.took < Duration::from_secs(12), "{}: {:?}", o.what, o.took);
            refused += 1;
        }
    }
    let ok_before = outcomes
        .iter()
        .filter(|o| o.at + o.took < down_at && o.result.as_ref().is_ok_and(|r| r.status < 300))
        .count();
    let ok_after = outcomes
        .iter()
        .filter(|o| o.at > up_at && o.result.as_ref().is_ok_and(|r| r.status < 300))
        .count();
    assert!(refused > 0, "no request ran into the outage");
    assert!(ok_before > 0, "no request succeeded before the outage");
    assert!(
        ok_after >= 50,
        "only {ok_after} requests succeeded after PostgreSQL came back"
    );
    let health = request(&addr, "GET", "/healthz", &[], b"").expect("/healthz answers");
    assert_eq!(health.status, 200, "{}", health.text());
    let acks = acks.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_acks_present(&addr, &acc, &acks, "PostgreSQL restart");
    server.assert_no_panic();
    server.stop();
    eprintln!(
        "{} requests: {ok_before} ok before the outage, {refused} refused with 503, {ok_after} ok after",
        outcomes.len()
    );
}
