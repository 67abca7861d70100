//! Online backup and restore of the embedded SQLite database (`smedx backup` / `smedx restore`).
//!
//! **Backup** runs `VACUUM INTO` on its own connection to the live database: SQLite reads the
//! whole database inside one read transaction, so the copy is one consistent snapshot (every
//! transaction committed before it began, none after), while the server keeps reading and writing
//! (WAL mode: a reader never blocks the writer). The copy is compact, in rollback-journal mode
//! and self-contained (no `-wal` file). It is written to `FILE.tmp`, checked with
//! `PRAGMA quick_check`, made readable by its owner only (mode 0600 on Unix), synced to disk and
//! only then renamed to `FILE`, so `FILE` is either the previous file or a complete backup, never
//! half of one.
//!
//! **Restore** checks the backup (`PRAGMA integrity_check`, the migrations table of a smedx
//! database, no migration this version does not know), refuses while another process has the
//! target database open (it takes SQLite's exclusive lock with a 1 s timeout; the server holds
//! its connections open for as long as it runs), keeps the previous database as
//! `smedx.sqlite.before-restore-<UTC timestamp>` (its write-ahead log checkpointed into it first),
//! removes stale `-wal`/`-shm` files and puts a verified copy of the backup in place. Opening the
//! restored database then applies any migration the backup predates.
//!
//! PostgreSQL is backed up with its own tools: [`postgres_help`] prints the commands.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sqlx::{ConnectOptions, Connection, Row};

use crate::sqlite::{SqliteStore, known_migrations, unix_now};

/// What went wrong, split by who can fix it.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The operator's input is wrong (a missing file, a file that is no backup, a database in
    /// use, a target that exists): the command line exits with code 2.
    #[error("{0}")]
    BadInput(String),
    /// Anything else (I/O errors, a failing database).
    #[error("{0}")]
    Failed(String),
}

type Result<T> = std::result::Result<T, BackupError>;

/// Row counts of the main tables, to show what a backup or restore holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub enterprises: i64,
    pub users: i64,
    pub assessments: i64,
    pub audit_entries: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub file: PathBuf,
    pub bytes: u64,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    pub database: PathBuf,
    /// Where the database that was replaced now is (None when there was none).
    pub previous: Option<PathBuf>,
    pub counts: Counts,
    /// The target looked in use and `force` went ahead anyway.
    pub forced_while_in_use: bool,
}

/// How long a restore waits for the target's exclusive lock before calling it in use.
const IN_USE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a backup waits behind a writer before its read transaction can start.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// `path` + `suffix`, e.g. `smedx.sqlite` + `-wal`.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn failed(what: &str, e: impl std::fmt::Display) -> BackupError {
    BackupError::Failed(format!("{what}: {e}"))
}

/// Opens one connection to an existing database file, never creating it.
async fn connect(path: &Path, busy: Duration) -> std::result::Result<SqliteConnection, String> {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(busy)
        .connect()
        .await
        .map_err(|e| e.to_string())
}

/// Why `conn` is not a database this version of smedx can use, or the migrations it has.
async fn check_smedx(
    conn: &mut SqliteConnection,
    allow_newer: bool,
) -> std::result::Result<(), String> {
    let has_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| format!("it cannot be read as a SQLite database ({e})"))?;
    if has_table == 0 {
        return Err("it is not a smedx database (it has no migrations table)".into());
    }
    let rows =
        sqlx::query("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| format!("its migrations table cannot be read ({e})"))?;
    let known = known_migrations();
    if rows.is_empty() {
        return Err("it is not a smedx database (no migration was ever applied)".into());
    }
    for row in &rows {
        let version: i64 = row.try_get("version").map_err(|e| e.to_string())?;
        let success: bool = row.try_get("success").map_err(|e| e.to_string())?;
        let checksum: Vec<u8> = row.try_get("checksum").map_err(|e| e.to_string())?;
        if !success {
            return Err(format!("its migration {version} failed half-way"));
        }
        match known.iter().find(|(v, _)| *v == version) {
            Some((_, sum)) if *sum == checksum => {}
            Some(_) => {
                return Err(format!(
                    "it is not a smedx database (its migration {version} differs from smedx's)"
                ));
            }
            None if allow_newer => {}
            None => {
                return Err(format!(
                    "it was written by a newer smedx (migration {version} is unknown to this version): \
                     restore it with that version"
                ));
            }
        }
    }
    Ok(())
}

async fn counts(conn: &mut SqliteConnection) -> std::result::Result<Counts, String> {
    async fn count(conn: &mut SqliteConnection, table: &str) -> std::result::Result<i64, String> {
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
        )
        .bind(table)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
        if exists == 0 {
            return Ok(0);
        }
        // The table name is one of the constants below, never input.
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| e.to_string())
    }
    Ok(Counts {
        enterprises: count(conn, "enterprises").await?,
        users: count(conn, "users").await?,
        assessments: count(conn, "assessments").await?,
        audit_entries: count(conn, "audit_log").await?,
    })
}

/// `PRAGMA integrity_check` (or `quick_check`): Ok when SQLite answers just "ok".
async fn check_integrity(
    conn: &mut SqliteConnection,
    quick: bool,
) -> std::result::Result<(), String> {
    let pragma = if quick {
        "PRAGMA quick_check"
    } else {
        "PRAGMA integrity_check"
    };
    let rows: Vec<String> = sqlx::query_scalar(pragma)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("the integrity check could not run ({e})"))?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        let shown: Vec<&str> = rows.iter().take(5).map(String::as_str).collect();
        Err(format!(
            "it fails the integrity check: {}",
            shown.join("; ")
        ))
    }
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(&format!("cannot sync {}", path.display()), e))
}

/// Makes a rename durable (best effort where directories cannot be opened).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Removes a file when it exists.
fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(failed(&format!("cannot remove {}", path.display()), e)),
    }
}

/// Copies the SQLite database `db` (which may be in use) to `to`, as one consistent snapshot.
/// Refuses an existing `to` unless `force`.
pub async fn backup_sqlite(db: &Path, to: &Path, force: bool) -> Result<BackupSummary> {
    if !db.is_file() {
        return Err(BackupError::BadInput(format!(
            "there is no database at {}: nothing to back up (check --data-dir or --database)",
            db.display()
        )));
    }
    if to.is_dir() {
        return Err(BackupError::BadInput(format!(
            "{} is a directory: give the backup file's name, e.g. {}",
            to.display(),
            to.join("smedx-backup.sqlite").display()
        )));
    }
    if to.exists() && !force {
        return Err(BackupError::BadInput(format!(
            "{} exists already: choose another name, or pass --force to replace it",
            to.display()
        )));
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(BackupError::BadInput(format!(
            "the folder {} does not exist",
            dir.display()
        )));
    }
    for live in [
        db.to_path_buf(),
        with_suffix(db, "-wal"),
        with_suffix(db, "-shm"),
    ] {
        if same_file(&live, to) {
            return Err(BackupError::BadInput(format!(
                "{} is the database itself: write the backup to another file",
                to.display()
            )));
        }
    }
    let tmp = with_suffix(to, ".tmp");
    if tmp.exists() {
        if !force {
            return Err(BackupError::BadInput(format!(
                "{} exists (left by an interrupted backup?): remove it, or pass --force",
                tmp.display()
            )));
        }
        remove_if_exists(&tmp)?;
    }
    let tmp_text = tmp.to_str().ok_or_else(|| {
        BackupError::BadInput(format!(
            "{}: the backup path must be valid UTF-8",
            to.display()
        ))
    })?;

    let mut conn = connect(db, BUSY_TIMEOUT).await.map_err(|e| {
        BackupError::BadInput(format!("cannot open the database {}: {e}", db.display()))
    })?;
    let made = async {
        check_smedx(&mut conn, true).await.map_err(|e| {
            BackupError::BadInput(format!("{} cannot be backed up: {e}", db.display()))
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(tmp_text)
            .execute(&mut conn)
            .await
            .map_err(|e| failed(&format!("copying {} failed", db.display()), e))?;
        Ok::<_, BackupError>(())
    }
    .await;
    let _ = conn.close().await;
    if let Err(e) = made {
        let _ = remove_if_exists(&tmp);
        return Err(e);
    }

    let finished = async {
        let mut copy = connect(&tmp, BUSY_TIMEOUT)
            .await
            .map_err(|e| failed(&format!("cannot open the copy {}", tmp.display()), e))?;
        let checked = async {
            check_integrity(&mut copy, true).await?;
            counts(&mut copy).await
        }
        .await;
        let _ = copy.close().await;
        let counts =
            checked.map_err(|e| failed(&format!("the copy {} is not sound", tmp.display()), e))?;
        // The copy holds password hashes and the enterprises' figures: for its owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| failed(&format!("cannot restrict {}", tmp.display()), e))?;
        }
        sync_file(&tmp)?;
        if to.exists() && !force {
            return Err(BackupError::BadInput(format!(
                "{} was created while the backup ran: pass --force to replace it",
                to.display()
            )));
        }
        std::fs::rename(&tmp, to).map_err(|e| {
            failed(
                &format!("cannot rename {} to {}", tmp.display(), to.display()),
                e,
            )
        })?;
        sync_dir(to);
        let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
        Ok(BackupSummary {
            file: to.to_path_buf(),
            bytes,
            counts,
        })
    }
    .await;
    if finished.is_err() {
        let _ = remove_if_exists(&tmp);
    }
    finished
}

/// "20261126T101530Z" from Unix seconds.
pub fn utc_stamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Is `path` a SQLite database file (by its header)?
fn has_sqlite_header(path: &Path) -> Result<bool> {
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path)
        .map_err(|e| BackupError::BadInput(format!("cannot read {}: {e}", path.display())))?;
    match f.read_exact(&mut head) {
        Ok(()) => Ok(&head == SQLITE_MAGIC),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(BackupError::BadInput(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// What [`lock_exclusively`] found.
enum Lock {
    /// This connection holds the exclusive lock until it closes.
    Held(SqliteConnection),
    /// Another connection has the database open.
    InUse,
    /// The database cannot be opened or locked for another reason (e.g. it is damaged).
    Unusable(String),
}

/// Takes SQLite's exclusive lock on `db`, which fails while any other connection (of any
/// process) has it open.
async fn lock_exclusively(db: &Path) -> Lock {
    let mut conn = match SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(false)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(IN_USE_TIMEOUT)
        .connect()
        .await
    {
        Ok(conn) => conn,
        Err(e) => return classify_lock_error(&e),
    };
    // In exclusive locking mode the lock stays after the transaction ends, until the connection
    // closes. The write-ahead log is checkpointed into the database and emptied, so the file
    // moved aside is the whole previous database.
    for sql in [
        "BEGIN EXCLUSIVE",
        "COMMIT",
        "PRAGMA wal_checkpoint(TRUNCATE)",
    ] {
        if let Err(e) = sqlx::query(sql).execute(&mut conn).await {
            let _ = conn.close().await;
            return classify_lock_error(&e);
        }
    }
    Lock::Held(conn)
}

/// SQLITE_BUSY / SQLITE_LOCKED: in use; anything else: unusable.
fn classify_lock_error(e: &sqlx::Error) -> Lock {
    let busy = match e {
        sqlx::Error::Database(d) => d
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6)),
        _ => false,
    };
    if busy || e.to_string().contains("database is locked") {
        Lock::InUse
    } else {
        Lock::Unusable(e.to_string())
    }
}

/// Replaces the SQLite database `db` with the backup `from` (see the module documentation).
pub async fn restore_sqlite(from: &Path, db: &Path, force: bool) -> Result<RestoreSummary> {
    if !from.is_file() {
        return Err(BackupError::BadInput(format!(
            "{} does not exist or is not a file",
            from.display()
        )));
    }
    if !has_sqlite_header(from)? {
        return Err(BackupError::BadInput(format!(
            "{} is not a SQLite database, so not a smedx backup",
            from.display()
        )));
    }
    if same_file(from, db) {
        return Err(BackupError::BadInput(format!(
            "{} is the database itself",
            from.display()
        )));
    }
    let from_wal = with_suffix(from, "-wal");
    if std::fs::metadata(&from_wal).is_ok_and(|m| m.len() > 0) {
        return Err(BackupError::BadInput(format!(
            "{} has a write-ahead log beside it ({}): it is a live database, not a backup; \
             make one with `smedx backup`",
            from.display(),
            from_wal.display()
        )));
    }
    if db.is_dir() {
        return Err(BackupError::BadInput(format!(
            "{} is a directory",
            db.display()
        )));
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| failed(&format!("cannot create {}", dir.display()), e))?;
    }

    // Is the target in use? Checked before any copying, so a refusal costs nothing.
    let exists = db.exists();
    let mut held = None;
    let mut forced_while_in_use = false;
    if exists {
        match lock_exclusively(db).await {
            Lock::Held(conn) => held = Some(conn),
            Lock::InUse if force => forced_while_in_use = true,
            Lock::InUse => {
                return Err(BackupError::BadInput(format!(
                    "{} is in use (is `smedx serve` running on it?): stop the server and try again \
                     (--force restores anyway, which a running server does not survive intact)",
                    db.display()
                )));
            }
            Lock::Unusable(_) if force => {}
            Lock::Unusable(e) => {
                return Err(BackupError::BadInput(format!(
                    "the current database {} cannot be opened ({e}): pass --force to replace it \
                     anyway (it is kept beside the restored one)",
                    db.display()
                )));
            }
        }
    }

    // Stale -wal/-shm files are dealt with inside, while the lock is held.
    let result = replace(from, db, exists).await;
    if let Some(conn) = held {
        let _ = conn.close().await;
    }
    let previous = result?;

    // Opening applies the migrations a backup of an older version lacks, and sets WAL mode.
    let store = SqliteStore::open(db).await.map_err(|e| {
        failed(
            &format!(
                "the restored database {} does not open{}",
                db.display(),
                previous
                    .as_ref()
                    .map(|p| format!(" (the previous one is {})", p.display()))
                    .unwrap_or_default()
            ),
            e,
        )
    })?;
    store.close().await;
    let mut conn = connect(db, BUSY_TIMEOUT)
        .await
        .map_err(|e| failed(&format!("cannot reopen {}", db.display()), e))?;
    let counted = counts(&mut conn).await;
    let _ = conn.close().await;
    Ok(RestoreSummary {
        database: db.to_path_buf(),
        previous,
        counts: counted.map_err(|e| failed("counting the restored rows", e))?,
        forced_while_in_use,
    })
}

/// Copies and checks the backup beside `db`, moves the old database aside and puts the copy in
/// its place; returns where the old database went.
async fn replace(from: &Path, db: &Path, exists: bool) -> Result<Option<PathBuf>> {
    let incoming = with_suffix(db, ".restore-tmp");
    for path in [
        incoming.clone(),
        with_suffix(&incoming, "-wal"),
        with_suffix(&incoming, "-shm"),
        with_suffix(&incoming, "-journal"),
    ] {
        remove_if_exists(&path)?;
    }
    std::fs::copy(from, &incoming).map_err(|e| {
        failed(
            &format!("cannot copy {} to {}", from.display(), incoming.display()),
            e,
        )
    })?;
    // Check the copy that will be used, not the file it came from.
    let checked = async {
        let mut conn = connect(&incoming, BUSY_TIMEOUT).await?;
        let r = async {
            check_integrity(&mut conn, false).await?;
            check_smedx(&mut conn, false).await
        }
        .await;
        let _ = conn.close().await;
        r
    }
    .await;
    if let Err(e) = checked {
        let _ = remove_if_exists(&incoming);
        return Err(BackupError::BadInput(format!(
            "{} is not a usable smedx backup: {e}",
            from.display()
        )));
    }
    sync_file(&incoming)?;

    let mut previous = None;
    if exists {
        let name = db
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| crate::DEFAULT_SQLITE_FILE.to_owned());
        let stamp = utc_stamp(unix_now());
        let mut aside = db.with_file_name(format!("{name}.before-restore-{stamp}"));
        let mut n = 2;
        while aside.exists() {
            aside = db.with_file_name(format!("{name}.before-restore-{stamp}-{n}"));
            n += 1;
        }
        std::fs::rename(db, &aside).map_err(|e| {
            let _ = remove_if_exists(&incoming);
            failed(&format!("cannot move {} aside", db.display()), e)
        })?;
        // An empty log is of no use; one that could not be checkpointed (a forced restore)
        // belongs to the old database: it goes with it, under the name SQLite looks for.
        for suffix in ["-wal", "-journal"] {
            let log = with_suffix(db, suffix);
            if std::fs::metadata(&log).is_ok_and(|m| m.len() == 0) {
                remove_if_exists(&log)?;
            } else if log.exists() {
                std::fs::rename(&log, with_suffix(&aside, suffix))
                    .map_err(|e| failed(&format!("cannot move {} aside", log.display()), e))?;
            }
        }
        remove_if_exists(&with_suffix(db, "-shm"))?;
        previous = Some(aside);
    } else {
        for stale in ["-wal", "-shm", "-journal"] {
            remove_if_exists(&with_suffix(db, stale))?;
        }
    }
    std::fs::rename(&incoming, db).map_err(|e| {
        failed(
            &format!(
                "cannot move {} to {}{}",
                incoming.display(),
                db.display(),
                previous
                    .as_ref()
                    .map(|p| format!(" (the previous database is {})", p.display()))
                    .unwrap_or_default()
            ),
            e,
        )
    })?;
    sync_dir(db);
    Ok(previous)
}

/// `url` with its password (if any) replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// Quotes a shell word when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=,+%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The PostgreSQL commands that back up (`restore == false`) or restore a smedx database; smedx
/// does not reimplement them. The password of the URL is never printed.
pub fn postgres_help(url: &str, file: &Path, restore: bool) -> String {
    let shown = redact_url(url);
    let has_password = shown != url;
    let file = shell_word(&file.display().to_string());
    let db = shell_word(&shown);
    let mut text = if restore {
        format!(
            "smedx does not restore PostgreSQL databases itself: stop the smedx servers, then run\n\n  \
             pg_restore --clean --if-exists --no-owner --single-transaction --dbname={db} {file}\n\n\
             and start the servers again (they apply any newer migration at start).\n"
        )
    } else {
        format!(
            "smedx does not back up PostgreSQL databases itself: run\n\n  \
             pg_dump --format=custom --no-owner --file={file} {db}\n\n\
             pg_dump takes a consistent snapshot while the servers keep running.\n"
        )
    };
    if has_password {
        text.push_str(
            "Replace *** with the password, or better leave it out of the URL and set PGPASSWORD or use ~/.pgpass.\n",
        );
    }
    text.push_str(
        "Keep to libpq's URL parameters (options=-c search_path=… works; sqlx-only ones do not).\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(1_700_000_000), "20231114T221320Z");
        assert_eq!(utc_stamp(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://smedx:s3cret@db.example:5432/smedx?sslmode=disable"),
            "postgres://smedx:***@db.example:5432/smedx?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgres://smedx@127.0.0.1/test"),
            "postgres://smedx@127.0.0.1/test"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
        let help = postgres_help("postgres://u:pw@h/db", Path::new("/tmp/b.dump"), false);
        assert!(!help.contains("pw@"), "{help}");
        assert!(help.contains("pg_dump --format=custom"), "{help}");
        assert!(help.contains("PGPASSWORD"), "{help}");
        let help = postgres_help("postgres://u@h/db", Path::new("my file.dump"), true);
        assert!(help.contains("pg_restore"), "{help}");
        assert!(help.contains("'my file.dump'"), "{help}");
    }
}
