//! The operations shared by the HTML pages and the JSON API, so the API is not a second
//! implementation: validating profiles and answers, completing an assessment.

use serde::Deserialize;
use smedx_core::Localized;
use smedx_core::assessment::{self, Answers};
use smedx_core::classify::{self, ClassifyError};
use smedx_core::profile::{self, Profile, Value};
use smedx_core::recommend::{Engine, Report};
use smedx_core::size::SizeError;
use smedx_store::{Assessment, AssessmentStatus, Id, Store, StoreError};

/// One problem naming the field (profile field or question id) it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub field: String,
    pub message: Localized,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<Issue>),
    #[error("the assessment is already complete")]
    AlreadyComplete,
    #[error("the assessment is not complete yet")]
    NotComplete,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
}

/// A JSON document as the engine's format-neutral value.
pub fn to_value(doc: &serde_json::Value) -> Value {
    Value::deserialize(doc).unwrap_or(Value::Null)
}

fn with_suggestion(m: Localized, s: Option<&String>) -> Localized {
    match s {
        Some(s) => Localized::new(
            format!("{}（是不是“{s}”？）", m.zh),
            format!("{} (did you mean \"{s}\"?)", m.en),
        ),
        None => m,
    }
}

/// Validates a profile document and checks that it can be classified.
pub fn validate_profile(engine: &Engine, doc: &serde_json::Value) -> Result<Profile, Vec<Issue>> {
    let p = profile::validate(&engine.kb, &to_value(doc)).map_err(|errs| {
        errs.0
            .into_iter()
            .map(|e| Issue {
                field: e.field.clone(),
                message: with_suggestion(e.message, e.suggestion.as_ref()),
            })
            .collect::<Vec<_>>()
    })?;
    classify::classify(&engine.kb, &p).map_err(|e| {
        let field = match &e {
            ClassifyError::Industry(_) => "industry".to_string(),
            ClassifyError::Size(SizeError::Missing { indicator, .. })
            | ClassifyError::Size(SizeError::Invalid { indicator, .. }) => {
                indicator.id().to_string()
            }
        };
        vec![Issue {
            field,
            message: e.localized(),
        }]
    })?;
    Ok(p)
}

pub fn validate_answers(engine: &Engine, doc: &serde_json::Value) -> Result<Answers, Vec<Issue>> {
    assessment::parse_answers(&engine.kb.questionnaire, &to_value(doc)).map_err(|errs| {
        errs.0
            .into_iter()
            .map(|e| Issue {
                field: e.question.clone(),
                message: with_suggestion(e.message, e.suggestion.as_ref()),
            })
            .collect()
    })
}

/// Runs the engine on a stored draft and stores the report; the assessment is then complete.
pub async fn complete(
    engine: &Engine,
    store: &dyn Store,
    enterprise: Id,
    id: Id,
    now: i64,
) -> Result<Report, ServiceError> {
    let a = store.assessment(enterprise, id).await?;
    if a.status == AssessmentStatus::Complete {
        return Err(ServiceError::AlreadyComplete);
    }
    let mut issues = Vec::new();
    let p = validate_profile(engine, &a.profile).map_err(|e| issues.extend(e));
    let ans = validate_answers(engine, &a.answers).map_err(|e| issues.extend(e));
    let (Ok(p), Ok(ans)) = (p, ans) else {
        return Err(ServiceError::Invalid(issues));
    };
    let report = engine.run(&p, Some(&ans)).map_err(|e| {
        ServiceError::Invalid(vec![Issue {
            field: "industry".into(),
            message: e.localized(),
        }])
    })?;
    let json = serde_json::to_value(&report).map_err(|e| ServiceError::Corrupt(e.to_string()))?;
    let score = report.assessment.as_ref().map(|x| x.score);
    let level = report.assessment.as_ref().map(|x| i64::from(x.level));
    store
        .complete_assessment(enterprise, id, &json, score, level, now)
        .await?;
    Ok(report)
}

/// The stored report of a complete assessment.
pub fn stored_report(a: &Assessment) -> Result<Report, ServiceError> {
    let r = a.result.as_ref().ok_or(ServiceError::NotComplete)?;
    serde_json::from_value(r.clone()).map_err(|e| ServiceError::Corrupt(e.to_string()))
}
