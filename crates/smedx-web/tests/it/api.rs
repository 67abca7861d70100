//! The JSON API: tokens, knowledge, stateless engine calls, assessments, errors, OpenAPI.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn example_profile() -> Value {
    json!({
        "name": "某某精密五金",
        "industry": "C3311",
        "employees": 85,
        "revenue": 32000000,
        "product_complexity": "medium",
        "chain_position": "midstream",
        "supplies_chain_leader": true,
        "pain_points": "订单多了交期总是延误",
        "budget": 300000
    })
}

fn example_answers() -> Value {
    json!({
        "network": ["shopfloor_control"],
        "information_systems": "multiple",
        "equipment_digital": {"digital": 14, "total": 40},
        "network_security": [],
        "scenarios": {"production_control": 2, "warehouse": 2},
        "obstacles": {"budget": true}
    })
}

#[tokio::test]
async fn tokens_and_the_assessment_lifecycle() {
    let app = spawn().await;
    user(&app, "Api Co", "api@example.cn").await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}/api/v1{p}", app.base);

    let r = http
        .post(url("/tokens"))
        .json(&json!({"email": "api@example.cn", "password": "wrong password"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.expect("json")["code"],
        "login_failed"
    );

    let r = http.get(url("/assessments")).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], "unauthorized");
    assert!(v["message"].as_str().is_some_and(|m| m.contains("令牌")));
    let r = http
        .get(url("/assessments"))
        .bearer_auth("0".repeat(64))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let t = token(&app, "api@example.cn").await;
    let list: Value = http
        .get(url("/assessments"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(list, json!([]));

    let r = http
        .post(url("/assessments"))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.expect("json");
    let id = a["id"].as_i64().expect("id");
    assert_eq!(a["status"], "draft");

    // Validation names the field, in the requested language.
    let r = http
        .put(url(&format!("/assessments/{id}/profile?lang=en")))
        .bearer_auth(&t)
        .json(&json!({"industry": "C3311", "employes": 5, "revenue": 1000000}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.expect("json");
    assert_eq!(e["code"], "validation_failed");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert!(fields.contains(&"employes"), "{e}");
    assert!(fields.contains(&"employees"), "{e}");
    assert!(
        e["message"].as_str().is_some_and(|m| m.is_ascii()),
        "English: {e}"
    );

    let r = http
        .put(url(&format!("/assessments/{id}/answers")))
        .bearer_auth(&t)
        .json(&json!({"network": ["wifi"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.expect("json")["field"], "network");

    let r = http
        .put(url(&format!("/assessments/{id}/profile")))
        .bearer_auth(&t)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.expect("json")["code"],
        "invalid_json"
    );

    // Completing needs a profile.
    let r = http
        .post(url(&format!("/assessments/{id}/complete")))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.expect("json")["field"], "industry");

    for (part, doc) in [
        ("profile", example_profile()),
        ("answers", example_answers()),
    ] {
        let r = http
            .put(url(&format!("/assessments/{id}/{part}")))
            .bearer_auth(&t)
            .json(&doc)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), StatusCode::OK, "{part}");
    }
    let r = http
        .get(url(&format!("/assessments/{id}/result")))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let r = http
        .post(url(&format!("/assessments/{id}/complete")))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let report: Value = r.json().await.expect("json");
    assert!(report["assessment"]["level"].is_number());
    assert!(
        !report["recommendations"]
            .as_array()
            .expect("recs")
            .is_empty()
    );

    let stored: Value = http
        .get(url(&format!("/assessments/{id}/result")))
        .bearer_auth(&t)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(stored, report);
    let r = http
        .put(url(&format!("/assessments/{id}/profile")))
        .bearer_auth(&t)
        .json(&example_profile())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Re-assess through the API, and the web pages show the API's result.
    let r = http
        .post(url("/assessments"))
        .bearer_auth(&t)
        .json(&json!({"copy_from": id}))
        .send()
        .await
        .expect("send");
    let copy: Value = r.json().await.expect("json");
    assert_eq!(copy["profile"]["industry"], "C3311");
    let b = Browser::new(&app);
    b.login("api@example.cn", PASSWORD).await;
    assert_eq!(
        b.get(&format!("/assessments/{id}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn knowledge_search_classify_and_stateless_assess() {
    let app = spawn().await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}/api/v1{p}", app.base);
    let s: Value = http
        .get(url("/scenarios"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(s.as_array().map(Vec::len), Some(42));
    let one: Value = http
        .get(url("/scenarios/pl.transparency"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(one["scenario"]["id"], "pl.transparency");
    let r = http.get(url("/scenarios/nope")).send().await.expect("s");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let sectors: Value = http
        .get(url("/sectors"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(sectors.as_array().map(Vec::len), Some(10));
    let cases: Value = http
        .get(url("/cases"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert!(cases.as_array().is_some_and(|c| c.len() >= 50));
    let hits: Value = http
        .get(url("/search"))
        .query(&[("q", "设备经常停机")])
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert!(
        hits[0]["matched"].as_array().is_some_and(|m| !m.is_empty()),
        "{hits}"
    );

    let c: Value = http
        .post(url("/classify"))
        .json(&example_profile())
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(c["size"]["size_class"], "small");
    let r = http
        .post(url("/classify"))
        .json(&json!({"industry": "E47", "employees": 20, "revenue": 3000000}))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.expect("j")["field"], "assets");

    let r = http
        .post(url("/assess"))
        .json(&json!({"profile": example_profile(), "answers": example_answers()}))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), StatusCode::OK);
    let rep: Value = r.json().await.expect("j");
    assert!(
        rep["assessment"]["security_weak"]
            .as_bool()
            .unwrap_or(false)
    );
    let r = http
        .post(url("/assess"))
        .json(&json!({"profile": {"industry": "C3311"}, "answers": {"scenarios": {"quality": 9}}}))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.expect("j");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert!(fields.contains(&"scenarios.quality"), "{e}");
    assert!(fields.contains(&"employees"), "{e}");

    let r = http.get(url("/no/such/route")).send().await.expect("s");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.expect("j")["code"], "not_found");
}

#[tokio::test]
async fn openapi_document_lists_every_path() {
    let app = spawn().await;
    let r = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/tokens",
        "/api/v1/scenarios",
        "/api/v1/scenarios/{id}",
        "/api/v1/sectors",
        "/api/v1/cases",
        "/api/v1/search",
        "/api/v1/classify",
        "/api/v1/assess",
        "/api/v1/assessments",
        "/api/v1/assessments/{id}",
        "/api/v1/assessments/{id}/profile",
        "/api/v1/assessments/{id}/answers",
        "/api/v1/assessments/{id}/complete",
        "/api/v1/assessments/{id}/result",
    ] {
        assert!(paths.contains_key(p), "{p} missing from {:?}", paths.keys());
    }
    assert!(paths["/api/v1/assessments"]["get"].is_object());
    assert!(paths["/api/v1/assessments"]["post"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}
