//! The web import through HTTP: template downloads in both languages; the sample file as CSV and
//! as XLSX (saved by LibreOffice) imported with its counts; a file with errors rejected whole
//! with per-row messages in zh and en and nothing stored; wrong and oversized uploads refused
//! with a clear message; the job's progress as JSON and HTML, seen only within the uploader's
//! scope; CSRF on the upload.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use smedx_store::{AuditCtx, Page, Scope};

use crate::campaigns::{ADMIN, JIANGSU, NANJING, SUZHOU, login, world};
use crate::helpers::{self, App, Browser};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The clusters the sample file names.
async fn sample_clusters(app: &App) {
    for (id, region) in [
        ("danyang-optics", "321100"),
        ("jiangning-intelligent", "320100"),
        ("kunshan-electronics", "320500"),
        ("wujiang-textile", "320500"),
        ("wuzhong-precision", "320500"),
        ("xuzhou-machinery", "320300"),
    ] {
        app.state
            .store
            .create_cluster(id, id, region, 1, &AuditCtx::default())
            .await
            .expect("cluster");
    }
}

async fn enterprises(app: &App) -> i64 {
    app.state
        .store
        .visible_enterprises(&Scope::All, &Default::default(), None, Page::default())
        .await
        .expect("enterprises")
        .1
}

/// Uploads `bytes` as `name` with the CSRF token of the import page.
async fn upload(b: &Browser, name: &str, bytes: Vec<u8>) -> helpers::Resp {
    let csrf = b.get("/imports").await.csrf();
    upload_with(b, Some(&csrf), name, bytes).await
}

async fn upload_with(b: &Browser, csrf: Option<&str>, name: &str, bytes: Vec<u8>) -> helpers::Resp {
    let mut form = Form::new();
    if let Some(t) = csrf {
        form = form.text("csrf", t.to_owned());
    }
    form = form.part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let r = b
        .http
        .post(format!("{}/imports", b.base))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    helpers::Resp {
        status,
        headers,
        text,
    }
}

fn job_path(r: &helpers::Resp) -> String {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "upload: {}", r.text);
    let loc = r.location();
    assert!(loc.starts_with("/imports/"), "{loc}");
    loc
}

/// Polls the job's JSON until it finishes (a generous deadline: this is not a timing test).
async fn finished(b: &Browser, job: &str) -> serde_json::Value {
    for _ in 0..600 {
        let r = b.get(&format!("{job}?format=json")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let v: serde_json::Value = serde_json::from_str(&r.text).expect("json");
        if !v["running"].as_bool().unwrap_or(true) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job {job} did not finish");
}

#[tokio::test]
async fn templates_download_in_both_languages() {
    let app = world().await;
    let gov = login(&app, SUZHOU).await;
    let r = gov.get("/imports").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("enctype=\"multipart/form-data\""));
    assert!(r.text.contains("还没有导入过文件"), "empty state");

    let zh = gov.get("/imports/template.csv?lang=zh").await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(
        zh.headers["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    assert!(
        zh.headers["content-disposition"]
            .to_str()
            .expect("cd")
            .contains("attachment")
    );
    let first = zh
        .text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .expect("header");
    assert!(
        first.contains("企业名称") && first.contains("行政区划代码"),
        "{first}"
    );
    let en = gov.get("/imports/template.csv?lang=en").await;
    let first = en
        .text
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .expect("header");
    assert!(first.to_lowercase().contains("enterprise"), "{first}");
    assert!(!first.contains("企业名称"));

    let x = gov
        .http
        .get(format!("{}/imports/template.xlsx?lang=en", app.base))
        .send()
        .await
        .expect("xlsx");
    assert_eq!(x.status(), StatusCode::OK);
    let bytes = x.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"PK\x03\x04"), "an XLSX workbook");
    let book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("opens");
    assert!(
        calamine::Reader::sheet_names(&book)
            .iter()
            .any(|s| s == "Enterprises")
    );

    // Enterprise users cannot import.
    let firm = helpers::user(&app, "苏州甲精密", "owner@jia.test").await;
    assert_eq!(firm.get("/imports").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        firm.get("/imports/template.csv").await.status,
        StatusCode::FORBIDDEN
    );
    let r = upload(&gov, "x.csv", b"a".to_vec()).await;
    assert_ne!(r.status, StatusCode::FORBIDDEN, "authorities may");
}

#[tokio::test]
async fn the_sample_csv_and_xlsx_import_with_their_counts() {
    let app = world().await;
    sample_clusters(&app).await;
    let gov = login(&app, JIANGSU).await;

    let job = job_path(&upload(&gov, "企业名单.csv", fixture("import-sample.csv")).await);
    let v = finished(&gov, &job).await;
    assert_eq!(v["status"], "imported", "{v}");
    let rows = v["result"]["rows"].as_i64().expect("rows");
    assert!(rows >= 30, "{v}");
    assert_eq!(v["result"]["enterprises_created"].as_i64(), Some(rows));
    assert!(v["result"]["assessments"].as_i64().expect("assessments") > 0);
    assert_eq!(v["rows_done"].as_i64(), Some(rows));
    assert_eq!(enterprises(&app).await, rows);
    let page = gov.get(&job).await;
    assert!(page.text.contains("导入完成"), "{}", page.text);
    assert!(page.text.contains(&format!("data-count>{rows}<")));
    assert!(page.text.contains("企业名单.csv"));
    assert!(
        !page.text.contains("http-equiv=\"refresh\""),
        "finished: no refresh"
    );
    let list = gov.get("/imports").await;
    assert!(list.text.contains("企业名单.csv") && list.text.contains("已导入"));

    // The same enterprises from the XLSX LibreOffice saved: matched by credit code (a second
    // round), none created.
    let job2 = job_path(&upload(&gov, "sample.xlsx", fixture("import-sample.xlsx")).await);
    let v = finished(&gov, &job2).await;
    assert_eq!(v["status"], "imported", "{v}");
    assert_eq!(v["result"]["rows"].as_i64(), Some(rows));
    assert_eq!(v["result"]["enterprises_created"].as_i64(), Some(0));
    assert_eq!(v["result"]["enterprises_matched"].as_i64(), Some(rows));
    assert_eq!(enterprises(&app).await, rows);

    // Audit-logged with the file and the job.
    let (entries, _) = app
        .state
        .store
        .list_audit(Page::default())
        .await
        .expect("audit");
    let imports: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "enterprises_imported")
        .collect();
    assert_eq!(imports.len(), 2);
    assert!(
        imports.iter().any(|e| e.detail.contains("via=web")),
        "{imports:?}"
    );

    // Jobs are seen within the uploader's scope (and by administrators): 404 elsewhere.
    let nanjing = login(&app, NANJING).await;
    assert_eq!(nanjing.get(&job).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        nanjing.get(&format!("{job}?format=json")).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!nanjing.get("/imports").await.text.contains("企业名单.csv"));
    let admin = login(&app, ADMIN).await;
    assert_eq!(admin.get(&job).await.status, StatusCode::OK);
    assert_eq!(
        gov.get("/imports/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_xlsx_sample_imports_on_a_fresh_database() {
    let app = world().await;
    sample_clusters(&app).await;
    let admin = login(&app, ADMIN).await;
    let job = job_path(&upload(&admin, "import-sample.xlsx", fixture("import-sample.xlsx")).await);
    let v = finished(&admin, &job).await;
    assert_eq!(v["status"], "imported", "{v}");
    let rows = v["result"]["rows"].as_i64().expect("rows");
    assert_eq!(v["result"]["enterprises_created"].as_i64(), Some(rows));
    assert_eq!(enterprises(&app).await, rows);
}

#[tokio::test]
async fn a_file_with_errors_is_rejected_whole_with_messages_per_row_in_both_languages() {
    let app = world().await;
    let gov = login(&app, JIANGSU).await;
    let job = job_path(&upload(&gov, "errors.csv", fixture("import-errors.csv")).await);
    let v = finished(&gov, &job).await;
    assert_eq!(v["status"], "rejected", "{v}");
    assert_eq!(enterprises(&app).await, 0, "nothing stored");

    let zh = gov.get(&job).await;
    assert!(zh.text.contains("没有导入任何数据"), "{}", zh.text);
    assert!(zh.text.contains("第 3 行"), "{}", zh.text);
    assert!(zh.text.contains("第 4 行"));
    let en = gov.get(&format!("{job}?lang=en")).await;
    assert!(en.text.contains("nothing was imported"), "{}", en.text);
    assert!(en.text.contains("row 3"), "{}", en.text);
    assert!(!en.text.contains("第 3 行"));

    // A valid file outside the uploader's region: rejected by the scope check, row by row.
    sample_clusters(&app).await;
    let nanjing = login(&app, NANJING).await;
    let job = job_path(&upload(&nanjing, "sample.csv", fixture("import-sample.csv")).await);
    let v = finished(&nanjing, &job).await;
    assert_eq!(v["status"], "rejected", "{v}");
    let page = nanjing.get(&format!("{job}?lang=en")).await;
    assert!(page.text.contains("is outside your area"), "{}", page.text);
    assert_eq!(enterprises(&app).await, 0, "nothing stored");
}

#[tokio::test]
async fn wrong_empty_oversized_and_forged_uploads_get_a_clear_answer() {
    let app = world().await;
    let gov = login(&app, SUZHOU).await;
    for (name, bytes, message) in [
        (
            "report.pdf",
            b"%PDF-1.4".to_vec(),
            "只能导入 .xlsx 或 .csv 文件",
        ),
        (
            "sheet.xlsx",
            "企业名称\n".as_bytes().to_vec(),
            "内容不是 Excel 工作簿",
        ),
        ("sheet.csv", b"PK\x03\x04zip".to_vec(), "内容不是文本"),
        (
            "old.xls",
            vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
            "Excel 97-2003",
        ),
        ("empty.csv", Vec::new(), "文件是空的"),
    ] {
        let r = upload(&gov, name, bytes).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            r.text
        );
        assert!(r.text.contains(message), "{name}: {}", r.text);
    }
    // No file at all.
    let csrf = gov.get("/imports").await.csrf();
    let r = gov
        .http
        .post(format!("{}/imports", app.base))
        .multipart(Form::new().text("csrf", csrf.clone()))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("请选择要导入的文件")
    );

    // Larger than the limit: 413 with the limit named, in English too.
    let big = vec![b'a'; 129 * 1024 * 1024];
    let r = upload_with(&gov, Some(&csrf), "big.csv", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text.contains("128 MB"), "{}", r.text);

    // Files larger than the forms' 256 KB limit are fine here: a 1 MB CSV is read (and
    // rejected for its content, not its size).
    let mut csv = "企业名称,行政区划代码\n".to_owned();
    while csv.len() < 1024 * 1024 {
        csv.push_str("苏州某某机械有限公司,320506\n");
    }
    let job = job_path(&upload(&gov, "many.csv", csv.into_bytes()).await);
    let v = finished(&gov, &job).await;
    assert_ne!(v["status"], "failed", "{v}");

    // No CSRF token, or a visitor: refused, nothing created.
    let r = upload_with(&gov, None, "a.csv", b"x".to_vec()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let visitor = Browser::new(&app);
    let token = visitor.get("/login").await.csrf();
    let r = upload_with(&visitor, Some(&token), "a.csv", b"x".to_vec()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (_, jobs) = app
        .state
        .store
        .import_jobs(None, Page::default())
        .await
        .expect("jobs");
    assert_eq!(jobs, 1, "only the 1 MB file became a job");

    // English messages.
    gov.get("/imports?lang=en").await;
    let r = upload(&gov, "report.pdf", b"%PDF".to_vec()).await;
    assert!(
        r.text
            .contains("Only .xlsx and .csv files can be imported."),
        "{}",
        r.text
    );
}
