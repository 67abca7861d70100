//! `smedx report`, `smedx demo generate` and `smedx import`: what an operator sees, on SQLite and
//! (one round trip) on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{Run, TempPath, smedx};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn dir_arg(dir: &TempPath) -> String {
    dir.0.display().to_string()
}

fn report(dir: &TempPath, extra: &[&str]) -> Run {
    let data = dir_arg(dir);
    let mut args: Vec<&str> = vec!["report", "--data-dir", &data];
    args.extend_from_slice(extra);
    smedx(args)
}

fn json_report(dir: &TempPath, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    report(dir, &args).json()
}

fn count(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

/// Every number of a distribution is 0 or at least k, or the cell says it is suppressed.
fn assert_suppressed(v: &Value, k: i64, path: &str) {
    match v {
        Value::Object(m) => {
            if m.get("suppressed") == Some(&Value::Bool(true)) {
                assert_eq!(m.len(), 1, "{path}: a suppressed cell carries no number");
                return;
            }
            for (key, x) in m {
                if [
                    "k",
                    "from",
                    "to",
                    "target_level",
                    "withheld",
                    "mean",
                    "mean_score",
                    "month",
                    "campaign",
                    "from_month",
                    "to_month",
                ]
                .contains(&key.as_str())
                {
                    continue;
                }
                assert_suppressed(x, k, &format!("{path}.{key}"));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_suppressed(x, k, &format!("{path}[{i}]"));
            }
        }
        Value::Number(n) => {
            if let Some(n) = n.as_i64() {
                assert!(n == 0 || n >= k, "{path}: {n} is under k = {k}");
            }
        }
        _ => {}
    }
}

#[test]
fn templates_are_written_in_both_languages() {
    let zh = smedx(["import", "--template", "csv"]);
    let zh_header = zh
        .ok()
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches('\u{feff}')
        .to_owned();
    assert!(zh_header.starts_with("企业名称,"), "{zh_header}");
    let sample = std::fs::read_to_string(fixture("import-sample.csv")).expect("the sample");
    let sample_header = sample
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches('\u{feff}');
    assert!(
        sample_header.starts_with(&zh_header[..zh_header.len().min(60)]),
        "the template's header is the import format's"
    );
    let en = smedx(["--lang", "en", "import", "--template", "csv"]);
    let en_header = en.ok().lines().next().unwrap_or_default().to_owned();
    assert_ne!(en_header.trim_start_matches('\u{feff}'), zh_header);
    assert!(en_header.is_ascii(), "{en_header}");

    let out = Command::new(env!("CARGO_BIN_EXE_smedx"))
        .args(["import", "--template", "xlsx"])
        .env_remove("SMEDX_LANG")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"PK"), "an XLSX (zip) workbook");
    let conflict = smedx(["import", "x.csv", "--template", "csv"]);
    assert_eq!(conflict.code, Some(2), "a file and --template together");
    assert_eq!(smedx(["import"]).code, Some(2), "neither");
}

#[test]
fn a_libreoffice_workbook_imports_all_or_nothing() {
    let dir = TempPath::new("import-xlsx");
    let xlsx = fixture("import-sample.xlsx");
    let xlsx = xlsx.to_str().unwrap_or_default();
    let data = dir_arg(&dir);

    // The sample names clusters nobody has set up: rejected whole, per row, nothing stored.
    let rejected = smedx(["import", xlsx, "--data-dir", &data]);
    let err = rejected.bad_input();
    assert!(err.contains("没有写入任何数据"), "{err}");
    assert!(err.contains("第 4 行") || err.contains("第 5 行"), "{err}");
    assert!(
        err.contains("产业集群") && err.contains("--create-clusters"),
        "{err}"
    );
    assert_eq!(
        count(&json_report(&dir, &["--k", "1"])["enterprises"]),
        0,
        "nothing stored"
    );

    // Outside the importing region: rejected.
    let outside = smedx([
        "--lang",
        "en",
        "import",
        xlsx,
        "--data-dir",
        &data,
        "--region",
        "320100",
        "--create-clusters",
    ]);
    let err = outside.bad_input();
    assert!(err.contains("outside the region"), "{err}");
    assert_eq!(count(&json_report(&dir, &["--k", "1"])["enterprises"]), 0);

    let ok = smedx(["import", xlsx, "--data-dir", &data, "--create-clusters"]);
    assert!(ok.ok().contains("已导入 30 行"), "{}", ok.stdout);
    let all = json_report(&dir, &["--k", "1"]);
    assert_eq!(count(&all["enterprises"]), 30);
    let levels: i64 = all["levels"]["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(count)
        .sum();
    assert_eq!(levels, count(&all["levels"]["assessed"]));
    assert_eq!(
        all["scenarios"]["scenarios"].as_array().map(Vec::len),
        Some(16)
    );

    // Importing the CSV it was made from again matches the same enterprises (a second round).
    let csv = fixture("import-sample.csv");
    let again = smedx([
        "--json",
        "import",
        csv.to_str().unwrap_or_default(),
        "--data-dir",
        &data,
    ]);
    let result = again.json();
    assert_eq!(result["imported"]["enterprises_matched"], 30, "{result}");
    assert_eq!(count(&json_report(&dir, &["--k", "1"])["enterprises"]), 30);
}

#[test]
fn a_file_with_errors_is_rejected_with_rows_and_columns() {
    let dir = TempPath::new("import-errors");
    let csv = fixture("import-errors.csv");
    let run = smedx([
        "import",
        csv.to_str().unwrap_or_default(),
        "--data-dir",
        &dir_arg(&dir),
    ]);
    let err = run.bad_input();
    assert!(err.contains("没有导入任何数据"), "{err}");
    assert!(err.contains("第 3 行"), "{err}");
    assert!(
        !dir.0.join("smedx.sqlite").exists(),
        "a rejected file creates no database"
    );
    let en = smedx([
        "--lang",
        "en",
        "import",
        csv.to_str().unwrap_or_default(),
        "--data-dir",
        &dir_arg(&dir),
    ]);
    assert!(en.bad_input().contains("row 3"), "{}", en.stderr);
    let missing = smedx([
        "import",
        "/nonexistent/file.csv",
        "--data-dir",
        &dir_arg(&dir),
    ]);
    assert!(missing.bad_input().contains("/nonexistent/file.csv"));
}

#[test]
fn demo_data_feeds_the_report() {
    let dir = TempPath::new("demo");
    let data = dir_arg(&dir);
    let demo = smedx([
        "demo",
        "generate",
        "--enterprises",
        "400",
        "--seed",
        "7",
        "--data-dir",
        &data,
    ]);
    assert!(demo.ok().contains("400"), "{}", demo.stdout);
    assert!(
        demo.stderr.contains("400/400"),
        "progress on stderr: {}",
        demo.stderr
    );

    let all = json_report(&dir, &["--k", "1"]);
    assert_eq!(count(&all["enterprises"]), 400);
    assert_eq!(count(&all["participation"]["assessed"]), 400);
    let levels: Vec<i64> = all["levels"]["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(count)
        .collect();
    assert_eq!(levels.iter().sum::<i64>(), 400);
    assert!(levels[1] > levels[4], "mostly low levels: {levels:?}");
    assert!(
        !all["recommended"]["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );
    let suzhou = json_report(&dir, &["--k", "1", "--region", "320500"]);
    let n = count(&suzhou["enterprises"]);
    assert!(n > 0 && n < 400, "{n}");
    let metal = json_report(
        &dir,
        &["--k", "1", "--sector", "equipment_mfg", "--size", "small"],
    );
    assert!(count(&metal["enterprises"]) < 400);
    assert!(
        metal["participation"]["in_progress"].is_null(),
        "assessment filters: no registrations"
    );
    let months = json_report(&dir, &["--k", "1", "--from", "2025-06", "--to", "2025-12"]);
    assert!(count(&months["enterprises"]) < 400);

    // Default k = 5: every published count is 0 or at least 5.
    let public = json_report(&dir, &["--region", "320500"]);
    assert_eq!(public["k"], 5);
    assert_suppressed(&public, 5, "report");
    let text = serde_json::to_string(&public).expect("json");
    assert!(
        text.contains("{\"suppressed\":true}"),
        "small groups exist in a city of demo data"
    );
    let tracker = json_report(&dir, &["--k", "1", "--target", "2"]);
    assert_eq!(tracker["target"]["target_level"], 2);

    let table = report(&dir, &["--region", "320500"]);
    let out = table.ok();
    assert!(
        out.contains("水平分布") && out.contains("16 个业务场景"),
        "{out}"
    );
    assert!(out.contains("少于 5 家企业"), "{out}");
    let en = report(&dir, &["--lang", "en", "--k", "1"]);
    assert!(
        en.ok().contains("Most recommended scenarios"),
        "{}",
        en.stdout
    );
}

#[test]
fn report_refuses_bad_input() {
    let dir = TempPath::new("bad-report");
    let data = dir_arg(&dir);
    let missing = smedx(["report", "--data-dir", &data]);
    assert!(
        missing.bad_input().contains("smedx.sqlite"),
        "no database: {}",
        missing.stderr
    );
    smedx([
        "demo",
        "generate",
        "--enterprises",
        "20",
        "--data-dir",
        &data,
    ])
    .ok();
    for (args, says) in [
        (vec!["--region", "32050"], "--region"),
        (vec!["--sector", "metl"], "metal"),
        (vec!["--from", "2025-13"], "--from"),
        (vec!["--campaign", "999"], "not found"),
    ] {
        let mut all = vec!["--lang", "en"];
        all.extend(args);
        let run = report(&dir, &all);
        assert!(run.bad_input().contains(says), "{all:?}: {}", run.stderr);
    }
    assert_eq!(report(&dir, &["--k", "0"]).code, Some(2), "k is at least 1");
    assert_eq!(report(&dir, &["--target", "5"]).code, Some(2));
}

/// A fresh schema of the test database, dropped afterwards (None when PostgreSQL is skipped).
struct PgSchema {
    server: String,
    name: String,
}

impl PgSchema {
    fn new(tag: &str) -> Option<PgSchema> {
        if std::env::var("SMEDX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
            return None;
        }
        let server = std::env::var("SMEDX_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = format!("smedx_cli_{tag}_{}", std::process::id());
        run_sql(
            &server,
            &format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"),
        );
        Some(PgSchema { server, name })
    }

    fn url(&self) -> String {
        let sep = if self.server.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.server, self.name
        )
    }
}

fn run_sql(server: &str, sql: &str) {
    use sqlx::{AssertSqlSafe, Connection, Executor};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::PgConnection::connect(server)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (or SMEDX_SKIP_POSTGRES=1)");
        conn.execute(AssertSqlSafe(sql.to_owned()))
            .await
            .expect(sql);
        let _ = conn.close().await;
    });
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        run_sql(
            &self.server,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

#[test]
fn demo_and_report_on_postgresql() {
    let Some(schema) = PgSchema::new("demo") else {
        return;
    };
    let url = schema.url();
    let nowhere = TempPath::new("pg-unused");
    let data = dir_arg(&nowhere);
    smedx([
        "demo",
        "generate",
        "--enterprises",
        "60",
        "--seed",
        "3",
        "--database",
        &url,
        "--data-dir",
        &data,
    ])
    .ok();
    let xlsx = fixture("import-sample.xlsx");
    smedx([
        "import",
        xlsx.to_str().unwrap_or_default(),
        "--database",
        &url,
        "--create-clusters",
    ])
    .ok();
    let all = smedx(["--json", "report", "--database", &url, "--k", "1"]).json();
    assert_eq!(count(&all["enterprises"]), 90);
    let public = smedx(["--json", "report", "--database", &url]).json();
    assert_suppressed(&public, 5, "report");
    assert!(
        !nowhere.0.exists(),
        "PostgreSQL writes nothing in the data directory"
    );
}

#[test]
fn a_demo_file_imports_in_one_transaction() {
    let dir = TempPath::new("demo-csv");
    std::fs::create_dir_all(&dir.0).expect("dir");
    let file = dir.0.join("demo.csv");
    let file_arg = file.display().to_string();
    let wrote = smedx([
        "demo",
        "generate",
        "--enterprises",
        "120",
        "--seed",
        "11",
        "--out",
        &file_arg,
    ]);
    assert!(wrote.ok().contains("120"), "{}", wrote.stdout);
    let text = std::fs::read_to_string(&file).expect("the file");
    assert!(
        text.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheet programs"
    );
    assert_eq!(text.lines().count(), 121, "a header and 120 rows");
    let data = dir.0.join("db").display().to_string();
    let imported = smedx([
        "--json",
        "import",
        &file_arg,
        "--data-dir",
        &data,
        "--create-clusters",
    ])
    .json();
    assert_eq!(
        imported["imported"]["enterprises_created"], 120,
        "{imported}"
    );
    let all = smedx(["--json", "report", "--data-dir", &data, "--k", "1"]).json();
    assert_eq!(count(&all["enterprises"]), 120);
    assert_eq!(count(&all["participation"]["assessed"]), 120);
}
