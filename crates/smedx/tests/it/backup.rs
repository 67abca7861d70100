//! `smedx backup` and `smedx restore`: a backup taken while another task keeps writing is one
//! consistent snapshot, and restoring it gives an identical database; bad input exits with 2.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use smedx_store::sqlite::SqliteStore;
use smedx_store::{AuditCtx, Id, Store};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

use crate::{Run, TempPath, smedx};

/// A fresh directory, removed when dropped.
fn temp_dir(name: &str) -> TempPath {
    let t = TempPath::new(name);
    std::fs::create_dir_all(&t.0).expect("create a temp dir");
    t
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

async fn connect(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Every table's schema and rows, in order, each value as SQLite quotes it (so types count).
async fn dump(path: &Path) -> Vec<String> {
    let mut conn = connect(path).await;
    let schema = sqlx::query(
        "SELECT type, name, tbl_name, COALESCE(sql, '') AS sql FROM sqlite_master \
         ORDER BY type, name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("read the schema");
    let mut out = Vec::new();
    let mut tables = Vec::new();
    for row in &schema {
        let kind: String = row.get("type");
        let name: String = row.get("name");
        let sql: String = row.get("sql");
        out.push(format!("{kind} {name}: {sql}"));
        if kind == "table" {
            tables.push(name);
        }
    }
    for table in tables {
        let columns: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA table_info(\"{table}\")"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("columns")
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect();
        let values = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let order = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {values} FROM \"{table}\" ORDER BY {order}"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("rows");
        out.extend(rows.into_iter().map(|r| format!("{table}| {r}")));
    }
    let _ = conn.close().await;
    out
}

async fn integrity(path: &Path) -> Vec<String> {
    let mut conn = connect(path).await;
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .expect("integrity check");
    let _ = conn.close().await;
    rows
}

/// A report document of some size, so a backup takes a moment.
fn report(i: i64) -> serde_json::Value {
    json!({
        "level": i % 4,
        "recommendations": (0..20).map(|k| json!({"scenario": format!("s{k}"), "why": "原因".repeat(10)})).collect::<Vec<_>>(),
        "n": i,
    })
}

/// What the writer committed, with when each commit returned.
#[derive(Default)]
struct Written {
    /// (assessment id, created at, completed at)
    items: Vec<(Id, Instant, Option<Instant>)>,
}

/// Creates and completes assessments one after another until `stop` (at most 20 s).
async fn keep_writing(
    store: Arc<SqliteStore>,
    enterprise: Id,
    user: Id,
    stop: Arc<AtomicBool>,
) -> Written {
    let mut w = Written::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        i += 1;
        let a = store
            .create_assessment(enterprise, None, 1_700_000_000 + i)
            .await
            .expect("create an assessment");
        w.items.push((a.id, Instant::now(), None));
        store
            .save_step(
                enterprise,
                a.id,
                6,
                &json!({"name": format!("firm {i}"), "employees": i}),
                &json!({"scenarios": {"planning": i % 5}}),
                1_700_000_000 + i,
            )
            .await
            .expect("save a step");
        let audit = AuditCtx {
            at: 1_700_000_000 + i,
            actor_user_id: Some(user),
            ip: Some("127.0.0.1".into()),
            detail: format!("enterprise={enterprise}"),
        };
        store
            .complete_assessment_audited(
                enterprise,
                a.id,
                &report(i),
                Some(40.0 + (i % 50) as f64),
                Some(i % 4),
                1_700_000_000 + i,
                &audit,
            )
            .await
            .expect("complete an assessment");
        if let Some(last) = w.items.last_mut() {
            last.2 = Some(Instant::now());
        }
    }
    w
}

async fn run(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || smedx(args))
        .await
        .expect("the smedx process")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_is_a_consistent_snapshot_and_restores_identically() {
    let live_dir = temp_dir("live");
    let live = live_dir.0.join("smedx.sqlite");
    let store = Arc::new(
        SqliteStore::open(&live)
            .await
            .expect("open the live database"),
    );
    let (enterprise, user) = store
        .create_enterprise_user("星河精密", "owner@example.cn", "hash", Some("zh"))
        .await
        .expect("sign up");

    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(keep_writing(
        store.clone(),
        enterprise.id,
        user.id,
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The backup, by the binary, in another process, while the writer goes on.
    let out_dir = temp_dir("out");
    let file = out_dir.0.join("backup.sqlite");
    let started = Instant::now();
    let run_backup = run(vec![
        "--lang".into(),
        "en".into(),
        "backup".into(),
        "--data-dir".into(),
        arg(&live_dir.0),
        "--to".into(),
        arg(&file),
    ])
    .await;
    let finished = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.expect("the writer");
    let out = run_backup.ok();
    assert!(out.contains("backup written:"), "{out}");
    assert!(
        !with_suffix(&file, ".tmp").exists(),
        "the temporary file is gone"
    );

    let before: Vec<Id> = written
        .items
        .iter()
        .filter(|(_, _, done)| done.is_some_and(|d| d < started))
        .map(|(id, _, _)| *id)
        .collect();
    let after: Vec<Id> = written
        .items
        .iter()
        .filter(|(_, created, _)| *created > finished)
        .map(|(id, _, _)| *id)
        .collect();
    let during = written.items.len() - before.len() - after.len();
    eprintln!(
        "writes: {} assessments completed before the backup, {during} around it, {} after; backup took {:?}",
        before.len(),
        after.len(),
        finished - started
    );
    assert!(
        before.len() >= 5 && !after.is_empty(),
        "the writer ran before and after the backup ({} before, {} after, {} in all)",
        before.len(),
        after.len(),
        written.items.len()
    );

    // The backup is sound and holds a prefix of the writer's work: every assessment completed
    // before the backup started, none created after it ended, each one whole.
    assert_eq!(integrity(&file).await, ["ok"]);
    let mut b = connect(&file).await;
    let rows = sqlx::query(
        "SELECT id, status, result IS NOT NULL AS has_result, completed_at FROM assessments ORDER BY id",
    )
    .fetch_all(&mut b)
    .await
    .expect("assessments of the backup");
    let ids: Vec<Id> = rows.iter().map(|r| r.get("id")).collect();
    let all_ids: Vec<Id> = written.items.iter().map(|(id, _, _)| *id).collect();
    assert!(!ids.is_empty());
    assert_eq!(
        ids,
        all_ids[..ids.len()],
        "the backup holds a prefix of the writes"
    );
    for id in &before {
        assert!(
            ids.contains(id),
            "assessment {id}, completed before the backup, is in it"
        );
    }
    for id in &after {
        assert!(
            !ids.contains(id),
            "assessment {id}, created after the backup, is not in it"
        );
    }
    let mut complete_ids = Vec::new();
    for (k, r) in rows.iter().enumerate() {
        let id: Id = r.get("id");
        let status: String = r.get("status");
        let has_result: bool = r.get("has_result");
        let completed_at: Option<i64> = r.get("completed_at");
        assert_eq!(
            status == "complete",
            has_result && completed_at.is_some(),
            "assessment {id} is whole"
        );
        if k + 1 < rows.len() {
            assert_eq!(
                status, "complete",
                "assessment {id} was completed before the next began"
            );
        }
        if status == "complete" {
            complete_ids.push(format!("assessment:{id}"));
        }
    }
    // Each completion and its audit entry were one transaction: both or neither are in it.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT target FROM audit_log WHERE action = 'assessment_completed' ORDER BY id",
    )
    .fetch_all(&mut b)
    .await
    .expect("audit entries of the backup");
    assert_eq!(audited, complete_ids);
    let _ = b.close().await;

    // The rows of the backup are the live rows as they were: complete assessments, audit entries
    // and users never change, so they must be identical in the live database. (Enterprise rows
    // carry activity times that move with every assessment, so they are not compared.)
    let backup_dump = dump(&file).await;
    let live_dump = dump(&live).await;
    let last_in_backup = format!("assessments| {}|", ids[ids.len() - 1]);
    for line in &backup_dump {
        let frozen = (line.starts_with("assessments| ") && !line.starts_with(&last_in_backup))
            || line.starts_with("audit_log| ")
            || line.starts_with("users| ");
        if frozen {
            assert!(live_dump.contains(line), "live database lacks {line}");
        }
    }

    // Restore into a new data directory: the same database, row for row.
    let new_dir = temp_dir("restored");
    let restored = run(vec![
        "--lang".into(),
        "en".into(),
        "restore".into(),
        "--data-dir".into(),
        arg(&new_dir.0),
        "--from".into(),
        arg(&file),
    ])
    .await;
    let out = restored.ok();
    assert!(out.contains("restored:"), "{out}");
    let db = new_dir.0.join("smedx.sqlite");
    assert_eq!(integrity(&db).await, ["ok"]);
    let restored_dump = dump(&db).await;
    assert_eq!(
        restored_dump.len(),
        backup_dump.len(),
        "the restored database has as many schema entries and rows as the backup"
    );
    assert_eq!(
        restored_dump, backup_dump,
        "the restored database is identical"
    );

    // … and smedx opens and reads it.
    let reopened = SqliteStore::open(&db)
        .await
        .expect("open the restored database");
    assert_eq!(reopened.journal_mode().await.expect("journal mode"), "wal");
    let a = reopened
        .assessment(enterprise.id, ids[0])
        .await
        .expect("the first assessment");
    assert_eq!(a.result, Some(report(1)));
    reopened.close().await;
    store.close().await;
    assert_eq!(
        integrity(&live).await,
        ["ok"],
        "the live database is still sound"
    );
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A data directory with a small smedx database; returns the directory and a backup of it.
async fn small_setup(name: &str) -> (TempPath, PathBuf) {
    let dir = temp_dir(name);
    let store = SqliteStore::open(&dir.0.join("smedx.sqlite"))
        .await
        .expect("open");
    store
        .create_enterprise_user("A", "a@example.cn", "hash", None)
        .await
        .expect("sign up");
    store.close().await;
    let file = dir.0.join("backup.sqlite");
    smedx(["backup", "--data-dir", &arg(&dir.0), "--to", &arg(&file)]).ok();
    (dir, file)
}

#[tokio::test]
async fn backup_refuses_what_it_cannot_or_should_not_do() {
    let (dir, file) = small_setup("backup-bad").await;
    let data = arg(&dir.0);

    // An existing file is kept unless --force.
    std::fs::write(&file, "precious").expect("write");
    let err = smedx([
        "--lang",
        "en",
        "backup",
        "--data-dir",
        &data,
        "--to",
        &arg(&file),
    ]);
    assert!(err.bad_input().contains("exists already"), "{}", err.stderr);
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "precious");
    smedx([
        "--lang",
        "en",
        "backup",
        "--data-dir",
        &data,
        "--to",
        &arg(&file),
        "--force",
    ])
    .ok();
    assert_eq!(integrity(&file).await, ["ok"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a backup is for its owner only");
    }

    // No database, no folder for the file, the database itself, not a smedx database.
    let empty = temp_dir("backup-empty");
    let err = smedx([
        "--lang",
        "en",
        "backup",
        "--data-dir",
        &arg(&empty.0),
        "--to",
        &arg(&empty.0.join("b")),
    ]);
    assert!(err.bad_input().contains("no database"), "{}", err.stderr);
    let err = smedx([
        "--lang",
        "en",
        "backup",
        "--data-dir",
        &data,
        "--to",
        &arg(&dir.0.join("missing/b.sqlite")),
    ]);
    assert!(err.bad_input().contains("does not exist"), "{}", err.stderr);
    let err = smedx([
        "--lang",
        "en",
        "backup",
        "--data-dir",
        &data,
        "--to",
        &arg(&dir.0.join("smedx.sqlite")),
        "--force",
    ]);
    assert!(
        err.bad_input().contains("database itself"),
        "{}",
        err.stderr
    );
    let other = empty.0.join("smedx.sqlite");
    let mut conn = SqliteConnectOptions::new()
        .filename(&other)
        .create_if_missing(true)
        .connect()
        .await
        .expect("create a foreign database");
    sqlx::query("CREATE TABLE t (x)")
        .execute(&mut conn)
        .await
        .expect("create");
    let _ = conn.close().await;
    let err = smedx([
        "--lang",
        "en",
        "backup",
        "--data-dir",
        &arg(&empty.0),
        "--to",
        &arg(&empty.0.join("b")),
    ]);
    assert!(
        err.bad_input().contains("not a smedx database"),
        "{}",
        err.stderr
    );

    // PostgreSQL: the pg_dump command, without the password; nothing written.
    let dump_file = dir.0.join("pg.dump");
    let err = smedx([
        "--lang",
        "en",
        "backup",
        "--database",
        "postgres://smedx:s3cret@db.internal:5432/smedx",
        "--to",
        &arg(&dump_file),
    ]);
    err.bad_input();
    assert!(
        err.stdout.contains("pg_dump --format=custom"),
        "{}",
        err.stdout
    );
    assert!(
        err.stdout
            .contains("postgres://smedx:***@db.internal:5432/smedx"),
        "{}",
        err.stdout
    );
    assert!(!err.stdout.contains("s3cret") && !err.stderr.contains("s3cret"));
    assert!(!dump_file.exists());
    let err = smedx([
        "--lang",
        "en",
        "restore",
        "--database",
        "postgres://smedx@127.0.0.1/smedx",
        "--from",
        &arg(&dump_file),
    ]);
    err.bad_input();
    assert!(err.stdout.contains("pg_restore"), "{}", err.stdout);
}

#[tokio::test]
async fn restore_checks_the_backup_and_keeps_the_previous_database() {
    let (dir, file) = small_setup("restore").await;
    let data = arg(&dir.0);
    let db = dir.0.join("smedx.sqlite");

    // Not a database; a truncated one; a database of another application; a newer smedx's.
    let text = dir.0.join("notes.txt");
    std::fs::write(&text, "not a database").expect("write");
    let err = smedx([
        "--lang",
        "en",
        "restore",
        "--data-dir",
        &data,
        "--from",
        &arg(&text),
    ]);
    assert!(
        err.bad_input().contains("not a SQLite database"),
        "{}",
        err.stderr
    );
    let bytes = std::fs::read(&file).expect("read the backup");
    let truncated = dir.0.join("truncated.sqlite");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let err = smedx([
        "--lang",
        "en",
        "restore",
        "--data-dir",
        &data,
        "--from",
        &arg(&truncated),
    ]);
    assert!(
        err.bad_input().contains("not a usable smedx backup"),
        "{}",
        err.stderr
    );
    let newer = dir.0.join("newer.sqlite");
    std::fs::copy(&file, &newer).expect("copy");
    let mut conn = connect(&newer).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (9999, 'future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("a future migration");
    let _ = conn.close().await;
    let err = smedx([
        "--lang",
        "en",
        "restore",
        "--data-dir",
        &data,
        "--from",
        &arg(&newer),
    ]);
    assert!(err.bad_input().contains("newer smedx"), "{}", err.stderr);
    let missing = smedx([
        "--lang",
        "en",
        "restore",
        "--data-dir",
        &data,
        "--from",
        &arg(&dir.0.join("nope")),
    ]);
    assert!(
        missing.bad_input().contains("does not exist"),
        "{}",
        missing.stderr
    );
    assert!(
        std::fs::read_dir(&dir.0)
            .expect("list")
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains("before-restore")),
        "refused restores leave the database where it was"
    );

    // A database in use (here by a store of this process, as by `smedx serve`) is refused.
    let store = SqliteStore::open(&db).await.expect("open");
    store
        .create_enterprise_user("B", "b@example.cn", "hash", None)
        .await
        .expect("a change after the backup");
    let err = smedx([
        "--lang",
        "en",
        "restore",
        "--data-dir",
        &data,
        "--from",
        &arg(&file),
    ]);
    assert!(err.bad_input().contains("in use"), "{}", err.stderr);
    store.close().await;

    // Stopped: restored; the previous database (with the later change) is kept beside it, and
    // stale -wal/-shm files of the old database are gone.
    std::fs::write(with_suffix(&db, "-shm"), b"stale").expect("write");
    let out = smedx([
        "--lang",
        "en",
        "restore",
        "--data-dir",
        &data,
        "--from",
        &arg(&file),
    ]);
    let text = out.ok();
    assert!(text.contains("the previous database is kept as"), "{text}");
    let previous: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .starts_with("smedx.sqlite.before-restore-")
            })
        })
        .collect();
    assert_eq!(previous.len(), 1, "{previous:?}");
    assert!(!with_suffix(&db, "-wal").exists() && !with_suffix(&db, "-shm").exists());
    let old = SqliteStore::open(&previous[0])
        .await
        .expect("the previous database opens");
    assert!(
        old.user_by_email("b@example.cn")
            .await
            .expect("lookup")
            .is_some(),
        "the previous database keeps the change made after the backup"
    );
    old.close().await;
    let now = SqliteStore::open(&db)
        .await
        .expect("the restored database opens");
    assert!(
        now.user_by_email("a@example.cn")
            .await
            .expect("lookup")
            .is_some()
    );
    assert!(
        now.user_by_email("b@example.cn")
            .await
            .expect("lookup")
            .is_none(),
        "the restored database is the backup"
    );
    now.close().await;
}
