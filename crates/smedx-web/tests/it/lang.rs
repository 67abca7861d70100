//! Language per request: `?lang=`, the `lang` cookie, the user's saved choice, Accept-Language.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn chinese_by_default_english_when_the_browser_prefers_it() {
    let app = spawn().await;
    let zh = Browser::new(&app).get("/").await;
    assert!(zh.text.contains("<html lang=\"zh-CN\">"));
    assert!(zh.text.contains("开始免费自评估"));
    assert!(zh.text.contains("?lang=en"), "switch on the page");
    let en = Browser::with_lang(&app, Some("en-US,en;q=0.9,zh-CN;q=0.8"))
        .get("/")
        .await;
    assert!(en.text.contains("<html lang=\"en\">"));
    assert!(en.text.contains("Start the free self-assessment"));
    let zh_first = Browser::with_lang(&app, Some("zh-CN,zh;q=0.9,en;q=0.8"))
        .get("/")
        .await;
    assert!(zh_first.text.contains("开始免费自评估"));
}

#[tokio::test]
async fn the_switch_sets_a_cookie_and_is_remembered_for_the_user() {
    let app = spawn().await;
    let b = user(&app, "Lang Co", "lang@example.cn").await;
    let r = b.get("/scenarios?lang=en").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Digital-transformation scenarios"));
    assert!(r.cookies().iter().any(|c| c.starts_with("lang=en")));
    // The cookie keeps it, even against the browser's preference.
    assert!(
        b.get("/")
            .await
            .text
            .contains("Start the free self-assessment")
    );
    // The switch link keeps the rest of the query.
    let s = b.get("/search?q=abc").await;
    assert!(s.text.contains("/search?q=abc&#38;lang=zh"), "{}", s.text);
    // Saved for the user: a new browser (no cookie) that prefers Chinese gets English after log-in.
    let other = Browser::with_lang(&app, Some("zh-CN"));
    assert!(other.get("/").await.text.contains("开始免费自评估"));
    other.login("lang@example.cn", PASSWORD).await;
    assert!(other.get("/assessments").await.text.contains("Assessments"));
    // Engine messages come in the chosen language too.
    let id = other.start_assessment().await;
    let r = other
        .step(id, 1, &[("industry", "C3311"), ("employees", "-3")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text.contains("must be a number of zero or more"),
        "{}",
        r.text
    );
    // And back.
    assert!(other.get("/?lang=zh").await.text.contains("开始免费自评估"));
}

#[tokio::test]
async fn the_whole_wizard_works_in_english() {
    let app = spawn().await;
    let b = Browser::with_lang(&app, Some("en"));
    let r = b.signup("English Co", "en@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = b.start_assessment().await;
    let s1 = b.get(&format!("/assessments/{id}/step/1")).await;
    assert!(s1.text.contains("Revenue last year"));
    let result = b.complete_wizard(id, "2").await;
    assert!(result.text.contains("Level 1"));
    assert!(result.text.contains("Recommended scenarios"));
    let report = b.get(&format!("/assessments/{id}/report")).await;
    assert!(report.text.contains("Print / save as PDF"));
}
