//! `smedx backup` and `smedx restore`: thin layers over `smedx_store::backup`.

use std::path::Path;

use serde_json::json;
use smedx_store::Location;
use smedx_store::backup::{self, BackupError, Counts};

use crate::CliError;
use crate::commands::Ctx;

/// The SQLite file a command works on, or the reason it cannot (PostgreSQL: the commands to use
/// are printed and the command fails, so a script never takes it for a backup).
fn sqlite_file(
    ctx: &Ctx,
    data_dir: &Path,
    database: Option<&str>,
    file: &Path,
    restore: bool,
) -> Result<std::path::PathBuf, CliError> {
    match smedx_store::locate(database.unwrap_or(""), data_dir)
        .map_err(|e| CliError::BadInput(e.to_string()))?
    {
        Location::SqliteFile(path) => Ok(path),
        Location::SqliteMemory => Err(CliError::BadInput(ctx.t(
            "内存数据库（sqlite::memory:）无法备份或恢复。",
            "an in-memory database (sqlite::memory:) cannot be backed up or restored",
        ))),
        Location::Postgres(url) => {
            outln!("{}", backup::postgres_help(&url, file, restore));
            Err(CliError::BadInput(ctx.t(
                "smedx 没有写入任何文件：PostgreSQL 请用上面的命令。",
                "smedx wrote nothing: for PostgreSQL use the command above.",
            )))
        }
    }
}

fn map_err(e: BackupError) -> CliError {
    match e {
        BackupError::BadInput(msg) => CliError::BadInput(format!("error: {msg}")),
        BackupError::Failed(msg) => CliError::Failed(anyhow::anyhow!(msg)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(anyhow::anyhow!("starting the async runtime: {e}")))
}

fn counts_json(c: &Counts) -> serde_json::Value {
    json!({
        "enterprises": c.enterprises,
        "users": c.users,
        "assessments": c.assessments,
        "audit_entries": c.audit_entries,
    })
}

fn counts_text(ctx: &Ctx, c: &Counts) -> String {
    ctx.t(
        &format!(
            "企业 {} 家，用户 {} 个，评估 {} 次，审计记录 {} 条",
            c.enterprises, c.users, c.assessments, c.audit_entries
        ),
        &format!(
            "{} enterprises, {} users, {} assessments, {} audit entries",
            c.enterprises, c.users, c.assessments, c.audit_entries
        ),
    )
}

/// `smedx backup`: a consistent copy of the live SQLite database.
pub fn backup(
    ctx: &Ctx,
    data_dir: &Path,
    database: Option<&str>,
    to: &Path,
    force: bool,
) -> Result<(), CliError> {
    let db = sqlite_file(ctx, data_dir, database, to, false)?;
    let summary = runtime()?
        .block_on(backup::backup_sqlite(&db, to, force))
        .map_err(map_err)?;
    if ctx.json {
        outln!(
            "{}",
            json!({
                "file": summary.file.display().to_string(),
                "database": db.display().to_string(),
                "bytes": summary.bytes,
                "counts": counts_json(&summary.counts),
            })
        );
    } else {
        outln!(
            "{} {} ({} {}; {})",
            ctx.t("备份完成：", "backup written:"),
            summary.file.display(),
            summary.bytes,
            ctx.t("字节", "bytes"),
            counts_text(ctx, &summary.counts)
        );
    }
    Ok(())
}

/// `smedx restore`: replaces the SQLite database with a backup (the server must be stopped).
pub fn restore(
    ctx: &Ctx,
    data_dir: &Path,
    database: Option<&str>,
    from: &Path,
    force: bool,
) -> Result<(), CliError> {
    let db = sqlite_file(ctx, data_dir, database, from, true)?;
    let summary = runtime()?
        .block_on(backup::restore_sqlite(from, &db, force))
        .map_err(map_err)?;
    if summary.forced_while_in_use {
        eprintln!(
            "{}",
            ctx.t(
                "警告：数据库正在被使用（--force）。请立即重启 smedx serve。",
                "warning: the database was in use (--force). Restart smedx serve now."
            )
        );
    }
    if ctx.json {
        outln!(
            "{}",
            json!({
                "database": summary.database.display().to_string(),
                "previous": summary.previous.as_ref().map(|p| p.display().to_string()),
                "counts": counts_json(&summary.counts),
            })
        );
    } else {
        outln!(
            "{} {} ({})",
            ctx.t("已恢复：", "restored:"),
            summary.database.display(),
            counts_text(ctx, &summary.counts)
        );
        if let Some(p) = &summary.previous {
            outln!(
                "{} {}",
                ctx.t("原数据库保留为", "the previous database is kept as"),
                p.display()
            );
        }
    }
    Ok(())
}
