use std::collections::HashMap;

use smedx_core::assessment::{assess, parse_answers};
use smedx_core::classify::classify;
use smedx_core::kb::SizeClass;
use smedx_core::profile::validate;
use smedx_io::demo::{Generator, generate};

use crate::kb;

#[test]
fn generated_rows_are_valid_and_reach_their_drawn_level() {
    let kb = kb();
    let n = 5_000;
    let mut matched = 0;
    let mut levels = [0usize; 5];
    let mut sizes: HashMap<SizeClass, usize> = HashMap::new();
    let mut groups: HashMap<String, usize> = HashMap::new();
    for row in generate(kb, n, 7) {
        let p = validate(kb, &row.profile)
            .unwrap_or_else(|e| panic!("row {}: profile invalid: {e}", row.index));
        let a = parse_answers(&kb.questionnaire, &row.answers)
            .unwrap_or_else(|e| panic!("row {}: answers invalid: {e}", row.index));
        let r = assess(&kb.questionnaire, &a);
        if r.level == row.target_level {
            matched += 1;
        }
        levels[usize::from(row.target_level)] += 1;
        let c = classify(kb, &p).expect("classifies");
        assert_eq!(
            c.size_class(),
            row.size_class,
            "row {}: size class",
            row.index
        );
        assert_eq!(c.group, row.group, "row {}: group", row.index);
        *sizes.entry(c.size_class()).or_default() += 1;
        *groups.entry(c.group.clone()).or_default() += 1;
        assert!(row.enterprise.region.starts_with("32"));
        smedx_io::credit::validate_credit_code(row.enterprise.credit_code.as_deref().unwrap_or(""))
            .expect("valid credit code");
    }
    let share = matched as f64 / n as f64;
    assert!(
        share >= 0.95,
        "only {share:.3} of rows reach their drawn level"
    );
    let pct = |x: usize| x as f64 / n as f64;
    // Level mix 25/40/25/8/2 %.
    for (l, want) in [0.25, 0.40, 0.25, 0.08, 0.02].iter().enumerate() {
        assert!(
            (pct(levels[l]) - want).abs() < 0.03,
            "level {l}: {}",
            pct(levels[l])
        );
    }
    // About 60 % micro and small.
    let ms = pct(sizes.get(&SizeClass::Micro).copied().unwrap_or(0)
        + sizes.get(&SizeClass::Small).copied().unwrap_or(0));
    assert!((0.55..=0.68).contains(&ms), "micro+small share {ms}");
    for (g, want) in [
        ("equipment_mfg", 0.35),
        ("consumer_goods", 0.30),
        ("raw_materials", 0.20),
        ("electronics", 0.15),
    ] {
        let got = pct(groups.get(g).copied().unwrap_or(0));
        assert!((got - want).abs() < 0.03, "group {g}: {got}");
    }
    eprintln!("level match {share:.4}; sizes {sizes:?}; groups {groups:?}");
}

#[test]
fn generation_is_deterministic_and_splittable_by_index() {
    let kb = kb();
    let a: Vec<_> = generate(kb, 50, 42).collect();
    let b: Vec<_> = generate(kb, 50, 42).collect();
    assert_eq!(a, b);
    let g = Generator::new(kb, 42);
    assert_eq!(g.row(37), a[37]);
    let c: Vec<_> = generate(kb, 50, 43).collect();
    assert_ne!(a, c);
    // Credit codes never repeat for one seed.
    let mut seen = std::collections::HashSet::new();
    for r in generate(kb, 20_000, 1) {
        assert!(
            seen.insert(r.enterprise.credit_code.clone()),
            "repeated credit code"
        );
    }
}
