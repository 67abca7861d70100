//! `smedx eval cases`: the recommender finds what the report's firms actually built, far better
//! than ranking at random or always suggesting the most common scenarios.

use std::sync::Arc;

use smedx_core::Lang;
use smedx_core::eval::{self, EvalReport, Metrics};
use smedx_core::recommend::ScenarioIndex;

use crate::kb;

/// Measured floors, not targets: `smedx eval cases` gave hit@5 = 0.906 and `smedx --lang en eval
/// cases` gave 0.830 (most-common baseline 0.283, random 0.143). Falling below a floor means a change
/// made the recommender worse at finding what real firms did.
const MIN_HIT_AT_5_ZH: f64 = 0.85;
const MIN_HIT_AT_5_EN: f64 = 0.78;
/// hit@5 must be at least this many times the "always the most common scenarios" baseline.
const MIN_GAIN_OVER_MOST_COMMON: f64 = 2.0;
/// The report has more than 40 cases; nearly all must become usable profiles.
const MIN_CASES: usize = 40;

fn evaluate(lang: Lang) -> EvalReport {
    let k = kb();
    eval::evaluate(
        k,
        Arc::new(ScenarioIndex::tokenizer(k)),
        &[1, 3, 5, 10],
        lang,
    )
}

fn at(m: &[Metrics], k: usize) -> &Metrics {
    m.iter()
        .find(|x| x.k == k)
        .unwrap_or_else(|| panic!("metrics at k = {k} should be reported"))
}

fn check(rep: &EvalReport, floor: f64) {
    assert!(
        rep.cases >= MIN_CASES,
        "only {} cases were evaluated",
        rep.cases
    );
    assert_eq!(rep.results.len(), rep.cases);
    let ours = at(&rep.smedx, 5);
    let random = at(&rep.random, 5);
    let common = at(&rep.most_common, 5);
    eprintln!(
        "{:?}: hit@5 smedx {:.3}, random {:.3}, most common {:.3}",
        rep.language, ours.hit, random.hit, common.hit
    );
    assert!(
        ours.hit >= floor,
        "{:?}: hit@5 {:.3} fell below the measured floor {floor}",
        rep.language,
        ours.hit
    );
    assert!(
        ours.hit >= MIN_GAIN_OVER_MOST_COMMON * common.hit,
        "{:?}: hit@5 {:.3} is not {MIN_GAIN_OVER_MOST_COMMON}× the most-common baseline {:.3}",
        rep.language,
        ours.hit,
        common.hit
    );
    assert!(
        ours.hit >= MIN_GAIN_OVER_MOST_COMMON * random.hit,
        "{:?}: hit@5 {:.3} is not {MIN_GAIN_OVER_MOST_COMMON}× the random baseline {:.3}",
        rep.language,
        ours.hit,
        random.hit
    );
    assert!(
        ours.recall > random.recall && ours.recall > common.recall,
        "recall@5 beats both baselines"
    );
    // The metrics are consistent: hit@k grows with k and is the share of cases with a first hit ≤ k.
    for w in rep.smedx.windows(2) {
        assert!(w[0].hit <= w[1].hit, "hit@k grows with k: {:?}", rep.smedx);
    }
    let within_5 = rep
        .results
        .iter()
        .filter(|r| r.first_hit.is_some_and(|h| h <= 5))
        .count();
    assert!((ours.hit - within_5 as f64 / rep.cases as f64).abs() < 1e-9);
    for r in &rep.results {
        assert!(
            !r.actual.is_empty(),
            "{}: a case names what it built",
            r.case
        );
        assert_eq!(r.top.len(), 10, "{}: the top 10 are kept", r.case);
    }
}

#[test]
fn finds_what_real_firms_built_in_chinese() {
    check(&evaluate(Lang::Zh), MIN_HIT_AT_5_ZH);
}

#[test]
fn finds_what_real_firms_built_in_english() {
    check(&evaluate(Lang::En), MIN_HIT_AT_5_EN);
}

/// Held-out situations written independently of the knowledge base (`data/eval/holdout.toml`).
fn holdout(lang: smedx_core::Lang) -> smedx_core::eval::EvalReport {
    let file: smedx_core::eval::HoldoutFile =
        toml::from_str(include_str!("../../../../data/eval/holdout.toml"))
            .expect("holdout set parses");
    let index = smedx_core::recommend::ScenarioIndex::build(kb(), None);
    smedx_core::eval::evaluate_holdout(kb(), &index, &file.case, &[1, 3, 5, 10], lang)
}

/// Measured with `smedx eval holdout`: hit@5 0.833 (zh) and 0.783 (en) on 60 situations written
/// without looking at the knowledge base. Floors leave a small margin for data edits.
const HOLDOUT_HIT5_ZH: f64 = 0.78;
const HOLDOUT_HIT5_EN: f64 = 0.73;

#[test]
fn recommendations_generalise_to_situations_outside_the_report() {
    for (lang, floor) in [(Lang::Zh, HOLDOUT_HIT5_ZH), (Lang::En, HOLDOUT_HIT5_EN)] {
        let r = holdout(lang);
        assert_eq!(r.cases, 60, "every held-out situation is evaluated");
        let at5 = |m: &[Metrics]| m.iter().find(|x| x.k == 5).map(|x| x.hit).expect("k = 5");
        let (ours, common, random) = (at5(&r.smedx), at5(&r.most_common), at5(&r.random));
        assert!(
            ours >= floor,
            "{lang:?}: hit@5 {ours:.3} fell below the measured floor {floor}"
        );
        assert!(
            ours >= 2.0 * common && ours >= 3.0 * random,
            "{lang:?}: {ours:.3} vs baselines {common:.3} / {random:.3}"
        );
    }
}
