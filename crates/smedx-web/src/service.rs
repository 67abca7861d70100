//! The operations shared by the HTML pages and the JSON API, so the API is not a second
//! implementation: validating profiles and answers, completing an assessment.

use serde::Deserialize;
use smedx_core::Localized;
use smedx_core::assessment::{self, Answers, QuestionKind};
use smedx_core::classify::{self, ClassifyError};
use smedx_core::profile::{self, Profile, Value};
use smedx_core::recommend::{Engine, Report};
use smedx_core::size::SizeError;
use smedx_store::{Assessment, AssessmentStatus, AuditCtx, Id, Store, StoreError};

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

/// The largest figure accepted anywhere (people, yuan, or a questionnaire figure): far beyond
/// any real enterprise, and small enough that the engine's ratios of such figures stay finite.
pub const MAX_FIGURE: f64 = 1e15;

/// The profile fields that hold figures.
const PROFILE_FIGURES: [&str; 4] = ["employees", "revenue", "assets", "budget"];

fn too_large(field: &str) -> Issue {
    Issue {
        field: field.to_string(),
        message: Localized::new("数值过大（最大 10^15）", "too large (at most 10^15)"),
    }
}

/// Figures that are not finite or larger than [`MAX_FIGURE`] (a JSON document cannot hold a
/// non-finite number, but one computed from a form can).
fn figure_ok(x: f64) -> bool {
    x.is_finite() && x <= MAX_FIGURE
}

/// Is every number in `v` (at any depth) a usable figure?
fn figures_ok(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(figure_ok),
        serde_json::Value::Array(items) => items.iter().all(figures_ok),
        serde_json::Value::Object(m) => m.values().all(figures_ok),
        _ => true,
    }
}

/// Characters refused in text that is stored: NUL (PostgreSQL cannot store it in text) and the
/// other control characters; free text (several lines) may hold tabs and line breaks.
pub fn has_control_chars(s: &str, free_text: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(free_text && matches!(c, '\t' | '\n' | '\r')))
}

/// Validates a profile document and checks that it can be classified.
pub fn validate_profile(engine: &Engine, doc: &serde_json::Value) -> Result<Profile, Vec<Issue>> {
    let figures: Vec<Issue> = PROFILE_FIGURES
        .iter()
        .filter(|f| {
            doc.get(**f)
                .is_some_and(|v| v.is_number() && !figures_ok(v))
        })
        .map(|f| too_large(f))
        .collect();
    let p = profile::validate(&engine.kb, &to_value(doc)).map_err(|errs| {
        let mut issues = figures.clone();
        issues.extend(
            errs.0
                .into_iter()
                .filter(|e| !figures.iter().any(|f| f.field == e.field))
                .map(|e| Issue {
                    field: e.field.clone(),
                    message: with_suggestion(e.message, e.suggestion.as_ref()),
                }),
        );
        issues
    });
    let p = match p {
        Ok(_) if !figures.is_empty() => return Err(figures),
        other => other?,
    };
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

/// Validates an answers document: the questionnaire's checks, figures no larger than
/// [`MAX_FIGURE`], and figures whose derived values (rates, measures per head or per 100 yuan,
/// changes) can be computed, so that a stored report holds only finite numbers.
pub fn validate_answers(engine: &Engine, doc: &serde_json::Value) -> Result<Answers, Vec<Issue>> {
    let q = &engine.kb.questionnaire;
    let figures: Vec<Issue> = q
        .question
        .iter()
        .filter(|x| matches!(x.kind, QuestionKind::Ratio | QuestionKind::Trend))
        .filter(|x| doc.get(&x.id).is_some_and(|v| !figures_ok(v)))
        .map(|x| too_large(&x.id))
        .collect();
    let answers = assessment::parse_answers(q, &to_value(doc)).map_err(|errs| {
        let mut issues = figures.clone();
        issues.extend(
            errs.0
                .into_iter()
                .filter(|e| {
                    !figures
                        .iter()
                        .any(|f| field_of(&f.field) == field_of(&e.question))
                })
                .map(|e| Issue {
                    field: e.question.clone(),
                    message: with_suggestion(e.message, e.suggestion.as_ref()),
                }),
        );
        issues
    })?;
    if !figures.is_empty() {
        return Err(figures);
    }
    let scored = assessment::assess(q, &answers);
    let overflow: Vec<Issue> = scored
        .questions
        .iter()
        .filter(|s| {
            let (b, a) = s.before_after.unwrap_or((0.0, 0.0));
            !(s.derived.unwrap_or(0.0).is_finite() && b.is_finite() && a.is_finite())
        })
        .map(|s| Issue {
            field: s.question.clone(),
            message: Localized::new(
                "这些数字算出的比值过大，无法计算（请检查数字和单位）",
                "these figures give a ratio too large to compute (check the figures and their units)",
            ),
        })
        .collect();
    if overflow.is_empty() {
        Ok(answers)
    } else {
        Err(overflow)
    }
}

/// The question an answers field belongs to ("green.before" → "green").
fn field_of(field: &str) -> &str {
    field.split('.').next().unwrap_or(field)
}

/// Runs the engine on a stored draft and stores the report; the assessment is then complete.
/// The audit entry (`assessment_completed`, with the enterprise and the level) is written in
/// the same transaction.
pub async fn complete(
    engine: &Engine,
    store: &dyn Store,
    enterprise: Id,
    id: Id,
    now: i64,
    audit: &AuditCtx,
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
    // A report that would not read back (a number that is not finite becomes JSON null) is never
    // stored: its result page could not be shown. The checks above keep this from happening.
    if let Err(e) = serde_json::from_value::<Report>(json.clone()) {
        tracing::warn!(
            assessment_id = id,
            "report not stored, it would not read back: {e}"
        );
        return Err(ServiceError::Invalid(vec![Issue {
            field: "(report)".into(),
            message: Localized::new(
                "这些数字无法计算出结果（请检查数字和单位）",
                "no result can be computed from these figures (check the figures and their units)",
            ),
        }]));
    }
    let score = report.assessment.as_ref().map(|x| x.score);
    let level = report.assessment.as_ref().map(|x| i64::from(x.level));
    let enterprise_text = enterprise.to_string();
    let level_text = level
        .map(|l| l.to_string())
        .unwrap_or_else(|| "none".into());
    let audit = AuditCtx {
        detail: crate::audit::kv(&[("enterprise", &enterprise_text), ("level", &level_text)]),
        ..audit.clone()
    };
    store
        .complete_assessment_audited(enterprise, id, &json, score, level, now, &audit)
        .await?;
    tracing::info!(
        assessment_id = id,
        enterprise_id = enterprise,
        "assessment completed"
    );
    Ok(report)
}

/// The stored report of a complete assessment.
pub fn stored_report(a: &Assessment) -> Result<Report, ServiceError> {
    let r = a.result.as_ref().ok_or(ServiceError::NotComplete)?;
    serde_json::from_value(r.clone()).map_err(|e| ServiceError::Corrupt(e.to_string()))
}
