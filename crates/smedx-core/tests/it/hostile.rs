//! Hostile input: the profile and answers parsers and the free-text matcher must never panic.
//! Every refusal lists its problems under a field or question name; every scenario the matcher
//! finds quotes the user's own words.
//!
//! The generated documents are TOML and JSON, both well-formed and broken. They carry huge numbers,
//! NaN and inf, nesting up to a limit, very long strings, NUL, right-to-left text, emoji, CJK and
//! control characters. Targeted cases and the regressions found by the fuzz targets in `fuzz/`
//! follow (see docs/FUZZING.md). `PROPTEST_CASES` raises the number of generated cases for a
//! longer run.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use smedx_core::assessment::{
    self, AnswerError, AnswerErrors, Answers, Question, QuestionKind, TrendDirection,
};
use smedx_core::classify;
use smedx_core::kb::SizeClass;
use smedx_core::profile::{self, FieldError, Profile, ProfileErrors, Value};
use smedx_core::recommend::{Engine, PainHit};

use crate::kb;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(kb().clone()))
}

fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c.failure_persistence = None;
    c
}

// ---------------------------------------------------------------------------------------------
// Generated documents
// ---------------------------------------------------------------------------------------------

/// Pieces of hostile text: control characters, bidi marks, emoji, combining marks, CJK (including
/// a supplementary-plane character), synonym phrases with odd separators, numbers as words,
/// TOML and JSON syntax.
const FRAGMENTS: &[&str] = &[
    "",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\0",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{200b}",
    "\u{200f}",
    "\u{202e}",
    "\u{2028}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "مرحبا بالعالم",
    "שלום",
    "😀",
    "👨\u{200d}👩\u{200d}👧",
    "🇨🇳",
    "e\u{301}",
    "\u{301}",
    "İ",
    "ß",
    "ﬁ",
    "Ω",
    "ǅ",
    "订单",
    "交期",
    "延误",
    "计件工资",
    "算错",
    "设备",
    "宕机",
    "仓库",
    "找不到料",
    "𠀀",
    "々",
    "〇",
    "，",
    "。",
    "R&D",
    "r&d",
    "purchase order",
    "purchase-order",
    "power bill",
    "late",
    "delivery",
    "machine",
    "stop",
    "downtime",
    "it's",
    "'",
    "-",
    ",",
    "#",
    "NaN",
    "inf",
    "-0",
    "1e308",
    "9223372036854775808",
    "C3311",
    "metal",
    "pl.transparency",
    "employees",
    "\"",
    "\\",
    "\\u0000",
    "=",
    "[",
    "]",
    "{",
    "}",
    "[[",
    "]]",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|v| v.concat()),
        2 => any::<String>(),
        1 => "[\\x00-\\x1f\\x7f-\\x9f]{0,8}",
        // Long runs, past the 200- and 4000-character limits of the text fields.
        1 => (prop::sample::select(FRAGMENTS), 1usize..1500).prop_map(|(s, n)| s.repeat(n)),
    ]
}

const EDGE_FLOATS: &[f64] = &[
    0.0,
    -0.0,
    0.5,
    1.0,
    85.0,
    3.2e7,
    1e15,
    9.223_372_036_854_776e18,
    1.844_674_407_370_955_2e19,
    1e300,
    1e308,
    -1e308,
    f64::MAX,
    f64::MIN,
    f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    1e-300,
    f64::EPSILON,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

const EDGE_INTS: &[i64] = &[
    0,
    1,
    -1,
    4,
    5,
    85,
    255,
    256,
    32_000_000,
    i64::MAX,
    i64::MIN,
    i64::MIN + 1,
];

/// Number literals as written: out of the i64 and f64 ranges, and forms one format or the other
/// refuses.
const RAW_NUMBERS: &[&str] = &[
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890123456789",
    "1e308",
    "1e309",
    "-1e309",
    "1e-400",
    "-0",
    "-0.0",
    "+0.0",
    "1.7976931348623157e308",
    "4.9e-324",
    "00",
    "01",
    "1_000",
    "0x10",
    "0o7",
    "0b1",
    "+1",
    ".5",
    "5.",
    "1e",
    "--1",
    "nan",
    "+nan",
    "-nan",
    "inf",
    "-inf",
    "NaN",
    "Infinity",
];

#[derive(Debug, Clone)]
enum Node {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A number literal written as is into the document.
    Raw(&'static str),
    Str(String),
    List(Vec<Node>),
    Table(Vec<(String, Node)>),
    Null,
}

fn number_node() -> impl Strategy<Value = Node> {
    prop_oneof![
        3 => prop::sample::select(EDGE_INTS).prop_map(Node::Int),
        3 => prop::sample::select(EDGE_FLOATS).prop_map(Node::Float),
        2 => prop::sample::select(RAW_NUMBERS).prop_map(Node::Raw),
        1 => any::<i64>().prop_map(Node::Int),
        1 => any::<f64>().prop_map(Node::Float),
        1 => (0u32..1_000_000).prop_map(|n| Node::Int(n.into())),
    ]
}

/// Any value, with strings drawn from `words` (field and id names) as well as hostile ones.
fn any_node(words: Vec<String>) -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Node::Bool),
        number_node(),
        hostile_string().prop_map(Node::Str),
        prop::sample::select(words.clone()).prop_map(Node::Str),
        Just(Node::Null),
    ];
    let key = key(words);
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Node::List),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(Node::Table),
        ]
    })
}

fn key(words: Vec<String>) -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(words),
        1 => hostile_string(),
    ]
    .boxed()
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_value(n: &Node) -> Option<String> {
    Some(match n {
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) if f.is_nan() => "nan".into(),
        Node::Float(f) if f.is_infinite() => (if *f > 0.0 { "inf" } else { "-inf" }).to_string(),
        Node::Float(f) => format!("{f:?}"),
        Node::Raw(r) => (*r).to_string(),
        Node::Str(s) => toml_string(s),
        Node::List(items) => {
            let items: Vec<String> = items.iter().filter_map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        Node::Table(pairs) => {
            let pairs: Vec<String> = pairs
                .iter()
                .filter_map(|(k, v)| Some(format!("{} = {}", toml_string(k), toml_value(v)?)))
                .collect();
            format!("{{ {} }}", pairs.join(", "))
        }
        // TOML has no null: the entry is left out.
        Node::Null => return None,
    })
}

fn to_toml(doc: &[(String, Node)]) -> String {
    let mut out = String::new();
    for (k, v) in doc {
        if let Some(v) = toml_value(v) {
            out.push_str(&format!("{} = {v}\n", toml_string(k)));
        }
    }
    out
}

fn json_value(n: &Node) -> String {
    match n {
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        // JSON has no NaN or infinity: they arrive as strings.
        Node::Float(f) if !f.is_finite() => format!("\"{f}\""),
        Node::Float(f) => format!("{f:?}"),
        Node::Raw(r) => (*r).to_string(),
        Node::Str(s) => serde_json::to_string(s).expect("a string serialises"),
        Node::List(items) => {
            let items: Vec<String> = items.iter().map(json_value).collect();
            format!("[{}]", items.join(","))
        }
        Node::Table(pairs) => to_json(pairs),
        Node::Null => "null".into(),
    }
}

fn to_json(pairs: &[(String, Node)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let k = serde_json::to_string(k).expect("a string serialises");
            format!("{k}: {}", json_value(v))
        })
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The value a parser would produce, for checking without a text format in between.
fn to_value(n: &Node) -> Value {
    match n {
        Node::Bool(b) => Value::Bool(*b),
        Node::Int(i) => Value::Int(*i),
        Node::Float(f) => Value::Float(*f),
        Node::Raw(r) => r
            .parse::<i64>()
            .map(Value::Int)
            .or_else(|_| r.parse::<f64>().map(Value::Float))
            .unwrap_or_else(|_| Value::Str((*r).to_string())),
        Node::Str(s) => Value::Str(s.clone()),
        Node::List(items) => Value::List(items.iter().map(to_value).collect()),
        Node::Table(pairs) => Value::Table(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), to_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
        Node::Null => Value::Null,
    }
}

/// Splices hostile text into a document at a character boundary: mostly broken documents.
fn splice(text: &str, extra: &str, at: prop::sample::Index) -> String {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let i = bounds[at.index(bounds.len())];
    format!("{}{extra}{}", &text[..i], &text[i..])
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn industry_inputs() -> Vec<String> {
    let mut v: Vec<String> = [
        "C3311", "C3670", "3670", "367", "C36", "C1819", "c1819", " C3311 ", "E47", "K70", "F52",
        "J66", "P83", "C99", "C", "33", "Z3311", "C33111", "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(kb().sectors.iter().map(|s| s.id.clone()));
    v
}

fn scenario_ids() -> Vec<String> {
    kb().scenarios.iter().map(|s| s.id.clone()).collect()
}

/// Field names, near misses and values a profile might hold.
fn profile_words() -> Vec<String> {
    let mut v: Vec<String> = profile::FIELDS.iter().map(|s| s.to_string()).collect();
    v.extend(
        [
            "employes",
            "Employees",
            "revenue ",
            "adopted[0]",
            "low",
            "medium",
            "high",
            "upstream",
            "midstream",
            "downstream",
            "(profile)",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v.extend(industry_inputs());
    v.extend(scenario_ids());
    v
}

fn keys_of(v: &Value) -> Vec<&str> {
    match v {
        Value::Table(m) => m.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// An error names a field: one the document holds, a listed field (required ones are named even
/// when absent), an `adopted[i]` item, or the whole profile when it is not a table. A blank key is
/// named as itself ([`blank_keys_are_named_visibly`]).
fn names_a_field(doc: &Value, e: &FieldError) -> bool {
    let f = e.field.as_str();
    let root = f.split('[').next().unwrap_or(f);
    keys_of(doc).iter().any(|k| profile::visible_key(k) == f)
        || profile::FIELDS.contains(&f)
        || (root == "adopted" && f.ends_with(']'))
        || f == "(profile)"
}

/// Words the matcher quotes occur in the text. A two-word phrase folded through a synonym group
/// is quoted with one space between its words whatever separated them ("R&D" → "r d"), so
/// phrases are accepted when their words occur in order; the strict form is
/// [`matched_phrases_are_quoted_as_written`].
fn occurs(lower: &str, m: &str) -> bool {
    if lower.contains(m) {
        return true;
    }
    let mut rest = lower;
    for w in m.split(' ') {
        match rest.find(w) {
            Some(i) => rest = &rest[i + w.len()..],
            None => return false,
        }
    }
    true
}

fn check_hits(text: &str, hits: &[PainHit]) -> Result<(), TestCaseError> {
    let lower = text.to_lowercase();
    for h in hits {
        prop_assert!(
            h.relevance.is_finite() && (0.0..=1.0).contains(&h.relevance),
            "{}: relevance {}",
            h.scenario,
            h.relevance
        );
        prop_assert!(kb().scenario(&h.scenario).is_some(), "{}", h.scenario);
        prop_assert!(!h.matched.is_empty(), "{}: quotes no word", h.scenario);
        for m in &h.matched {
            prop_assert!(!m.is_empty(), "{}: an empty word", h.scenario);
            prop_assert!(
                occurs(&lower, &m.to_lowercase()),
                "{}: {:?} does not occur in {:?}",
                h.scenario,
                m,
                text
            );
        }
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), TestCaseError> {
    let e = engine();
    let hits = e.index.search(&e.kb, text);
    check_hits(text, &hits)?;
    for t in e.index.tokenizer.tokens(text) {
        // `''s` stems to the empty term (smedx-text's `apostrophe_s_is_not_an_empty_term`).
        let stems_to_nothing = t.surface.chars().all(|c| c == '\'' || c == 's');
        prop_assert!(
            !t.term.is_empty() || stems_to_nothing,
            "an empty term from {:?}",
            text
        );
        prop_assert!(t.term != "#", "an empty bigram from {:?}", text);
        prop_assert!(!t.surface.is_empty(), "an empty surface from {:?}", text);
    }
    Ok(())
}

fn check_valid_profile(p: &Profile, answers: Option<&Answers>) -> Result<(), TestCaseError> {
    let c = classify::classify(kb(), p);
    prop_assert!(
        c.is_ok(),
        "a valid profile does not classify: {:?}\n{:?}",
        c,
        p
    );
    let r = engine().run(p, answers);
    let r = match r {
        Ok(r) => r,
        Err(e) => return Err(TestCaseError::fail(format!("no report: {e}\n{p:?}"))),
    };
    prop_assert_eq!(
        r.recommendations.len(),
        kb().scenarios.len() - p.adopted.len(),
        "every scenario not adopted is ranked once"
    );
    for x in &r.recommendations {
        prop_assert!(x.score.is_finite(), "{}: score {}", x.scenario, x.score);
    }
    if let Some(t) = &p.pain_points {
        check_hits(t, &r.pain_points)?;
    }
    Ok(())
}

/// Validation returns the profile or a non-empty list of problems, each naming a field; a valid
/// profile classifies and gets a report.
fn check_profile(doc: &Value) -> Result<(), TestCaseError> {
    match profile::validate(kb(), doc) {
        Err(ProfileErrors(errs)) => {
            prop_assert!(!errs.is_empty(), "a refusal lists no problem");
            for e in &errs {
                prop_assert!(names_a_field(doc, e), "{:?} names no field", e);
                prop_assert!(
                    !e.message.zh.is_empty() && !e.message.en.is_empty(),
                    "{:?}",
                    e
                );
            }
            Ok(())
        }
        Ok(p) => {
            for x in [p.employees, p.revenue, p.assets, p.budget]
                .into_iter()
                .flatten()
            {
                prop_assert!(x.is_finite() && x >= 0.0, "{} accepted", x);
            }
            prop_assert!(
                p.adopted.iter().all(|a| kb().scenario(a).is_some()),
                "{:?}",
                p.adopted
            );
            check_valid_profile(&p, None)
        }
    }
}

fn question_ids() -> Vec<String> {
    kb().questionnaire
        .question
        .iter()
        .map(|q| q.id.clone())
        .collect()
}

/// An error names a question: a key of the document (a blank key is named as itself), or a
/// question, `scenarios.…`, `obstacles.…` or `<question>.<period>` path.
fn names_a_question(doc: &Value, e: &AnswerError) -> bool {
    let q = e.question.as_str();
    let root = q.split('.').next().unwrap_or(q);
    keys_of(doc).iter().any(|k| profile::visible_key(k) == q)
        || kb().questionnaire.question(root).is_some()
        || root == "scenarios"
        || root == "obstacles"
        || q == "(answers)"
}

/// Parsing returns the answers or a non-empty list of problems, each naming a question; valid
/// answers score within the questionnaire's points and run with the example profile.
fn check_answers(doc: &Value) -> Result<(), TestCaseError> {
    let q = &kb().questionnaire;
    match assessment::parse_answers(q, doc) {
        Err(AnswerErrors(errs)) => {
            prop_assert!(!errs.is_empty(), "a refusal lists no problem");
            for e in &errs {
                prop_assert!(names_a_question(doc, e), "{:?} names no question", e);
                prop_assert!(
                    !e.message.zh.is_empty() && !e.message.en.is_empty(),
                    "{:?}",
                    e
                );
            }
            Ok(())
        }
        Ok(a) => {
            let s = assessment::assess(q, &a);
            let max: f64 = q.question.iter().map(|x| x.points).sum();
            prop_assert!(
                s.score.is_finite() && (0.0..=max + 1e-9).contains(&s.score),
                "score {}",
                s.score
            );
            prop_assert!(s.level <= 4, "level {}", s.level);
            for x in &s.questions {
                prop_assert!(
                    x.points.is_finite() && (0.0..=x.max + 1e-9).contains(&x.points),
                    "{}: {} of {}",
                    x.question,
                    x.points,
                    x.max
                );
            }
            check_valid_profile(example_profile(), Some(&a))
        }
    }
}

fn example_profile() -> &'static Profile {
    static P: OnceLock<Profile> = OnceLock::new();
    P.get_or_init(|| valid(&toml_doc(EXAMPLE_FIRM)))
}

const EXAMPLE_FIRM: &str = r#"
industry = "C3311"
employees = 85
revenue = 32000000
pain_points = "订单多了交期总是延误，计件工资经常算错"
"#;

fn toml_doc(text: &str) -> Value {
    toml::from_str(text).unwrap_or_else(|e| panic!("test TOML should parse: {e}\n{text}"))
}

fn json_doc(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("test JSON should parse: {e}\n{text}"))
}

fn valid(doc: &Value) -> Profile {
    profile::validate(kb(), doc).unwrap_or_else(|e| panic!("should be valid:\n{e}\n{doc:?}"))
}

fn refused(doc: &Value) -> Vec<FieldError> {
    match profile::validate(kb(), doc) {
        Ok(p) => panic!("should be refused, got {p:?}"),
        Err(ProfileErrors(errs)) => {
            assert!(!errs.is_empty());
            errs
        }
    }
}

fn fields(errs: &[FieldError]) -> Vec<&str> {
    errs.iter().map(|e| e.field.as_str()).collect()
}

/// Runs a check in a plain test, panicking with its message.
fn ok(r: Result<(), TestCaseError>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Profile documents
// ---------------------------------------------------------------------------------------------

/// The share of hostile values in one document: some documents are clean (and reach
/// classification and the engine), most have a few bad values, some are mostly bad.
fn hostility() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![0.0, 0.0, 0.05, 0.15, 0.4, 0.8])
}

/// `good` or, with probability `rate`, `bad`.
fn either(
    rate: f64,
    good: impl Strategy<Value = Node> + 'static,
    bad: impl Strategy<Value = Node> + 'static,
) -> BoxedStrategy<Node> {
    (prop::bool::weighted(rate), good, bad)
        .prop_map(|(hostile, g, b)| if hostile { b } else { g })
        .boxed()
}

/// Numbers every field accepts, including the extremes: -0, 1e308, f64::MAX, the smallest
/// subnormal, and integers past i64 (read as numbers by both formats).
fn good_number() -> impl Strategy<Value = Node> {
    prop_oneof![
        3 => (0u32..2_000_000_000).prop_map(|n| Node::Int(n.into())),
        2 => prop::sample::select(EDGE_FLOATS.iter().copied().filter(|f| f.is_finite() && *f >= 0.0).collect::<Vec<_>>())
            .prop_map(Node::Float),
        1 => Just(Node::Int(i64::MAX)),
        1 => prop::sample::select(vec![
            "9223372036854775808",
            "18446744073709551615",
            "1e308",
            "1.7976931348623157e308",
            "4.9e-324",
            "-0",
            "-0.0",
        ])
        .prop_map(Node::Raw),
    ]
}

/// Industry inputs that are valid when employees, revenue and assets are all given.
fn good_industries() -> Vec<String> {
    let mut v: Vec<String> = [
        "C3311", "C3670", "3670", "367", "C36", "C1819", "c1819", " C3311 ", "E47", "K70", "F52",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(kb().sectors.iter().map(|s| s.id.clone()));
    v
}

fn strs(pool: &[&str]) -> impl Strategy<Value = Node> + use<> {
    let pool: Vec<String> = pool.iter().map(|s| s.to_string()).collect();
    prop::sample::select(pool).prop_map(Node::Str)
}

/// Text within the length limits of `name` and `pain_points`.
fn short_text() -> impl Strategy<Value = Node> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12)
        .prop_map(|v| Node::Str(v.concat()))
}

/// A profile with each field valid or (at the document's hostility) hostile, optional fields
/// present or not, and stray keys in hostile documents.
fn arb_profile_doc() -> impl Strategy<Value = Vec<(String, Node)>> {
    hostility().prop_flat_map(profile_doc)
}

fn profile_doc(rate: f64) -> impl Strategy<Value = Vec<(String, Node)>> {
    let words = profile_words();
    let bad = || any_node(words.clone());
    let ids = || prop::sample::select(scenario_ids()).prop_map(Node::Str);
    let required = (
        either(
            rate,
            prop::sample::select(good_industries()).prop_map(Node::Str),
            prop_oneof![
                prop::sample::select(industry_inputs()).prop_map(Node::Str),
                bad()
            ],
        ),
        either(rate, good_number(), number_node()),
        either(rate, good_number(), number_node()),
        either(rate, good_number(), number_node()),
        prop::collection::vec(prop::bool::weighted(rate * 0.3), 4),
    );
    let optional = (
        either(rate, good_number(), number_node()),
        either(rate, strs(&["low", "medium", "high"]), bad()),
        either(rate, strs(&["upstream", "midstream", "downstream"]), bad()),
        either(rate, any::<bool>().prop_map(Node::Bool), bad()),
        either(
            rate,
            prop::collection::vec(ids(), 0..12).prop_map(Node::List),
            prop_oneof![
                prop::collection::vec(prop_oneof![3 => ids(), 1 => bad()], 0..12)
                    .prop_map(Node::List),
                bad(),
            ],
        ),
        either(rate, short_text(), hostile_string().prop_map(Node::Str)),
        either(rate, short_text(), hostile_string().prop_map(Node::Str)),
        prop::collection::vec(any::<bool>(), 7),
    );
    let extra = prop::collection::vec((key(words.clone()), bad()), 0..=usize::from(rate > 0.0) * 2);
    (required, optional, extra).prop_map(|(required, optional, extra)| {
        let (industry, employees, revenue, assets, dropped) = required;
        let (budget, pc, cp, flag, adopted, pain, name, present) = optional;
        let mut doc: Vec<(String, Node)> = Vec::new();
        for (i, (k, v)) in [
            ("industry", industry),
            ("employees", employees),
            ("revenue", revenue),
            ("assets", assets),
        ]
        .into_iter()
        .enumerate()
        {
            if !dropped[i] {
                doc.push((k.to_string(), v));
            }
        }
        for (i, (k, v)) in [
            ("budget", budget),
            ("product_complexity", pc),
            ("chain_position", cp),
            ("in_cluster", flag),
            ("adopted", adopted),
            ("pain_points", pain),
            ("name", name),
        ]
        .into_iter()
        .enumerate()
        {
            if present[i] {
                doc.push((k.to_string(), v));
            }
        }
        doc.extend(extra);
        doc
    })
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn generated_toml_profiles_never_panic(doc in arb_profile_doc()) {
        if let Ok(v) = toml::from_str::<Value>(&to_toml(&doc)) {
            check_profile(&v)?;
        }
    }

    #[test]
    fn generated_json_profiles_never_panic(doc in arb_profile_doc()) {
        if let Ok(v) = serde_json::from_str::<Value>(&to_json(&doc)) {
            check_profile(&v)?;
        }
    }

    #[test]
    fn generated_profile_values_never_panic(doc in arb_profile_doc()) {
        check_profile(&to_value(&Node::Table(doc)))?;
    }

    #[test]
    fn any_value_as_a_profile_never_panics(v in any_node(profile_words())) {
        check_profile(&to_value(&v))?;
    }

    #[test]
    fn broken_profile_text_never_panics(
        doc in arb_profile_doc(),
        extra in hostile_string(),
        at in any::<prop::sample::Index>(),
    ) {
        let toml_text = splice(&to_toml(&doc), &extra, at);
        if let Ok(v) = toml::from_str::<Value>(&toml_text) {
            check_profile(&v)?;
        }
        let json_text = splice(&to_json(&doc), &extra, at);
        if let Ok(v) = serde_json::from_str::<Value>(&json_text) {
            check_profile(&v)?;
        }
    }

    #[test]
    fn hostile_pain_text_never_panics(text in hostile_string()) {
        check_text(&text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Answers documents
// ---------------------------------------------------------------------------------------------

fn option_ids(q: &Question) -> Vec<String> {
    q.option.iter().map(|o| o.id.clone()).collect()
}

/// A figure every answer accepts, as an integer or a number.
fn good_figure() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (0u32..2_000_000_000).prop_map(f64::from),
        1 => prop::sample::select(
            EDGE_FLOATS
                .iter()
                .copied()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .collect::<Vec<_>>()
        ),
    ]
}

fn figure(x: f64) -> Node {
    if x.fract() == 0.0 && x < 1e15 && x.is_sign_positive() {
        Node::Int(x as i64)
    } else {
        Node::Float(x)
    }
}

/// `{ a = x, b = y }` with `x ≤ y` (when `ordered`) and `y > 0`.
fn good_pair(a: String, b: String, ordered: bool) -> impl Strategy<Value = Node> {
    (good_figure(), good_figure()).prop_map(move |(x, y)| {
        let (x, y) = if ordered {
            (x.min(y), x.max(y))
        } else {
            (x, y)
        };
        let y = if y > 0.0 { y } else { 1.0 };
        Node::Table(vec![(a.clone(), figure(x)), (b.clone(), figure(y))])
    })
}

fn bad_pair(a: String, b: String) -> impl Strategy<Value = Node> {
    (number_node(), number_node())
        .prop_map(move |(x, y)| Node::Table(vec![(a.clone(), x), (b.clone(), y)]))
}

/// A valid answer to one question or, at the document's hostility, a hostile one.
fn answer_node(q: &Question, rate: f64) -> BoxedStrategy<Node> {
    let ids = option_ids(q);
    let mut words = ids.clone();
    words.push("not_an_option".into());
    let bad = any_node(words.clone()).boxed();
    let (good, shaped_bad): (BoxedStrategy<Node>, BoxedStrategy<Node>) = match q.kind {
        QuestionKind::Single => (
            prop::sample::select(ids).prop_map(Node::Str).boxed(),
            prop::sample::select(words).prop_map(Node::Str).boxed(),
        ),
        QuestionKind::Multi => (
            prop::collection::vec(prop::sample::select(ids).prop_map(Node::Str), 0..6)
                .prop_map(Node::List)
                .boxed(),
            prop::collection::vec(prop::sample::select(words).prop_map(Node::Str), 0..6)
                .prop_map(Node::List)
                .boxed(),
        ),
        QuestionKind::Ratio => match &q.ratio {
            Some(r) => {
                let (n, d) = (r.numerator.id.clone(), r.denominator.id.clone());
                (
                    good_pair(n.clone(), d.clone(), true).boxed(),
                    bad_pair(n, d).boxed(),
                )
            }
            None => (bad.clone(), bad.clone()),
        },
        QuestionKind::Trend => match q.trend.as_ref().and_then(|t| Some((t, t.base.as_ref()?))) {
            Some((t, base)) => {
                let (v, b) = (t.value.id.clone(), base.id.clone());
                let periods = |p: BoxedStrategy<Node>| {
                    (p.clone(), p).prop_map(|(x, y)| {
                        Node::Table(vec![("before".into(), x), ("after".into(), y)])
                    })
                };
                (
                    periods(good_pair(v.clone(), b.clone(), false).boxed()).boxed(),
                    periods(bad_pair(v, b).boxed()).boxed(),
                )
            }
            None => (
                good_pair("before".into(), "after".into(), false).boxed(),
                bad_pair("before".into(), "after".into()).boxed(),
            ),
        },
    };
    either(rate, good, prop_oneof![3 => shaped_bad, 1 => bad])
}

fn answer_words() -> Vec<String> {
    let q = &kb().questionnaire;
    let mut v = question_ids();
    v.extend(["scenarios", "obstacles", "before", "after"].map(String::from));
    for x in &q.question {
        v.extend(x.option.iter().map(|o| o.id.clone()));
    }
    v.extend(q.scenario.iter().map(|s| s.id.clone()));
    v.extend(q.obstacle_question.iter().map(|o| o.id.clone()));
    v
}

/// Answers to some of the questions, scenario levels and obstacles, each valid or (at the
/// document's hostility) hostile, and stray keys in hostile documents.
fn arb_answers_doc() -> impl Strategy<Value = Vec<(String, Node)>> {
    hostility().prop_flat_map(answers_doc)
}

fn answers_doc(rate: f64) -> impl Strategy<Value = Vec<(String, Node)>> {
    let q = &kb().questionnaire;
    let answers: Vec<_> = q
        .question
        .iter()
        .map(|x| {
            let id = x.id.clone();
            prop::option::weighted(0.7, answer_node(x, rate))
                .prop_map(move |n| n.map(|n| (id.clone(), n)))
        })
        .collect();
    let scenario_ids: Vec<String> = q.scenario.iter().map(|s| s.id.clone()).collect();
    let obstacle_ids: Vec<String> = q.obstacle_question.iter().map(|o| o.id.clone()).collect();
    let words = answer_words();
    let bad = || any_node(words.clone());
    let scenarios = prop::option::of(
        prop::collection::vec(
            (
                either(
                    rate,
                    prop::sample::select(scenario_ids).prop_map(Node::Str),
                    hostile_string().prop_map(Node::Str),
                ),
                either(
                    rate,
                    (0i64..=4).prop_map(Node::Int),
                    prop_oneof![number_node(), bad()],
                ),
            ),
            0..20,
        )
        .prop_map(pairs),
    );
    let obstacles = prop::option::of(
        prop::collection::vec(
            (
                either(
                    rate,
                    prop::sample::select(obstacle_ids).prop_map(Node::Str),
                    hostile_string().prop_map(Node::Str),
                ),
                either(rate, any::<bool>().prop_map(Node::Bool), bad()),
            ),
            0..6,
        )
        .prop_map(pairs),
    );
    let extra = prop::collection::vec((key(words.clone()), bad()), 0..=usize::from(rate > 0.0) * 2);
    (answers, scenarios, obstacles, extra).prop_map(|(answers, scenarios, obstacles, extra)| {
        let mut doc: Vec<(String, Node)> = answers.into_iter().flatten().collect();
        if let Some(s) = scenarios {
            doc.push(("scenarios".into(), s));
        }
        if let Some(o) = obstacles {
            doc.push(("obstacles".into(), o));
        }
        doc.extend(extra);
        doc
    })
}

/// A table from generated (key, value) pairs, a repeated key keeping its last value (TOML refuses
/// repeats; the spliced documents still produce some).
fn pairs(kv: Vec<(Node, Node)>) -> Node {
    let mut out: Vec<(String, Node)> = Vec::new();
    for (k, v) in kv {
        let k = match k {
            Node::Str(k) => k,
            other => format!("{other:?}"),
        };
        out.retain(|(x, _)| *x != k);
        out.push((k, v));
    }
    Node::Table(out)
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn generated_toml_answers_never_panic(doc in arb_answers_doc()) {
        if let Ok(v) = toml::from_str::<Value>(&to_toml(&doc)) {
            check_answers(&v)?;
        }
    }

    #[test]
    fn generated_json_answers_never_panic(doc in arb_answers_doc()) {
        if let Ok(v) = serde_json::from_str::<Value>(&to_json(&doc)) {
            check_answers(&v)?;
        }
    }

    #[test]
    fn any_value_as_answers_never_panics(v in any_node(answer_words())) {
        check_answers(&to_value(&v))?;
    }

    #[test]
    fn broken_answers_text_never_panics(
        doc in arb_answers_doc(),
        extra in hostile_string(),
        at in any::<prop::sample::Index>(),
    ) {
        if let Ok(v) = toml::from_str::<Value>(&splice(&to_toml(&doc), &extra, at)) {
            check_answers(&v)?;
        }
        if let Ok(v) = serde_json::from_str::<Value>(&splice(&to_json(&doc), &extra, at)) {
            check_answers(&v)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targeted cases
// ---------------------------------------------------------------------------------------------

#[test]
fn a_megabyte_of_pain_text_is_searched_and_refused_as_a_profile_field() {
    let unit =
        "订单多了交期总是延误，计件工资经常算错 😀 machines stop, R&D is late; مرحبا \0\u{202e} ";
    let text = unit.repeat((1 << 20) / unit.len() + 1);
    assert!(text.len() >= 1 << 20);
    ok(check_text(&text));
    let hits = engine().index.search(kb(), &text);
    assert!(!hits.is_empty(), "the repeated words still match");

    let mut doc = toml_doc(EXAMPLE_FIRM);
    if let Value::Table(m) = &mut doc {
        m.insert("pain_points".into(), Value::Str(text));
    }
    assert_eq!(fields(&refused(&doc)), ["pain_points"]);
}

#[test]
fn ten_thousand_adopted_ids() {
    let ids = scenario_ids();
    let known: Vec<String> = (0..10_000).map(|i| ids[i % 10].clone()).collect();
    let doc = json_doc(&format!(
        r#"{{"industry": "C3311", "employees": 85, "revenue": 32000000, "adopted": {}}}"#,
        serde_json::to_string(&known).expect("serialises")
    ));
    let p = valid(&doc);
    assert_eq!(p.adopted, ids[..10], "repeats are kept once, in order");
    ok(check_valid_profile(&p, None));

    let unknown: Vec<String> = (0..10_000).map(|i| format!("x.{i}")).collect();
    let doc = json_doc(&format!(
        r#"{{"industry": "C3311", "employees": 85, "revenue": 32000000, "adopted": {}}}"#,
        serde_json::to_string(&unknown).expect("serialises")
    ));
    let errs = refused(&doc);
    assert_eq!(errs.len(), 10_000, "every unknown id is reported");
    assert_eq!(errs[9_999].field, "adopted[9999]");
}

#[test]
fn negative_zero_counts_as_zero() {
    for doc in [
        toml_doc("industry = \"C3311\"\nemployees = -0.0\nrevenue = -0.0\nbudget = -0.0"),
        json_doc(r#"{"industry": "C3311", "employees": -0, "revenue": -0.0, "budget": -0.0}"#),
    ] {
        let p = valid(&doc);
        assert_eq!(p.employees, Some(0.0));
        let c = classify::classify(kb(), &p).expect("classifies");
        assert_eq!(c.size_class(), SizeClass::Micro);
        ok(check_valid_profile(&p, None));
    }
}

#[test]
fn revenue_of_1e308_classifies() {
    for doc in [
        toml_doc(
            "industry = \"C3311\"\nemployees = 85\nrevenue = 1e308\nbudget = 1.7976931348623157e308",
        ),
        json_doc(r#"{"industry": "C3311", "employees": 1e308, "revenue": 1e308, "assets": 1e308}"#),
    ] {
        let p = valid(&doc);
        ok(check_valid_profile(&p, None));
    }
}

#[test]
fn nan_and_infinity_are_refused_by_field() {
    let errs = refused(&toml_doc(
        "industry = \"C3311\"\nemployees = nan\nrevenue = inf\nbudget = -inf\nassets = -nan",
    ));
    let mut f = fields(&errs);
    f.sort_unstable();
    assert_eq!(f, ["assets", "budget", "employees", "revenue"]);
    // JSON has neither; as strings they are the wrong type.
    let errs = refused(&json_doc(
        r#"{"industry": "C3311", "employees": "NaN", "revenue": "Infinity"}"#,
    ));
    assert_eq!(fields(&errs), ["employees", "revenue"]);
}

#[test]
fn integers_beyond_i64_in_json() {
    // Past i64 but within u64, and past u64: read as (large) numbers, which are valid sizes.
    for n in [
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
    ] {
        let p = valid(&json_doc(&format!(
            r#"{{"industry": "C3311", "employees": {n}, "revenue": {n}}}"#
        )));
        assert!(
            p.employees.is_some_and(|x| x > 9.2e18),
            "{n}: {:?}",
            p.employees
        );
        ok(check_valid_profile(&p, None));
    }
    // Below i64: negative, refused by field.
    let errs = refused(&json_doc(
        r#"{"industry": "C3311", "employees": -9223372036854775809, "revenue": 1}"#,
    ));
    assert_eq!(fields(&errs), ["employees"]);
    // Past f64: the parser refuses the document.
    assert!(serde_json::from_str::<Value>(r#"{"revenue": 1e400}"#).is_err());
    // TOML reads integers up to u64 (past i64 as numbers) and refuses the rest.
    let p = valid(&toml_doc(
        "industry = \"C3311\"\nemployees = 18446744073709551615\nrevenue = 0xffffffffffffffff",
    ));
    assert_eq!(p.employees, Some(18_446_744_073_709_551_615_u64 as f64));
    for n in ["18446744073709551616", "-9223372036854775809", "1e400"] {
        assert!(
            toml::from_str::<Value>(&format!("employees = {n}")).is_err(),
            "{n}"
        );
    }

    // A scenario level past i64 is a number, not a level.
    let doc = json_doc(r#"{"scenarios": {"planning": 9223372036854775808}}"#);
    let Err(AnswerErrors(errs)) = assessment::parse_answers(&kb().questionnaire, &doc) else {
        panic!("a level past i64 should be refused");
    };
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].question, "scenarios.planning");
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    for depth in [32, 64] {
        let nested = format!(
            "{}\"pl.transparency\"{}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        for doc in [
            toml_doc(&format!("industry = \"C3311\"\nadopted = {nested}")),
            json_doc(&format!(r#"{{"industry": "C3311", "adopted": {nested}}}"#)),
        ] {
            let errs = refused(&doc);
            assert!(fields(&errs).contains(&"adopted[0]"), "{depth}: {errs:?}");
            ok(check_answers(&doc));
        }
    }
    // Far deeper than any parser allows: an error, not a crash.
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(toml::from_str::<Value>(&format!("adopted = {deep}")).is_err());
    assert!(serde_json::from_str::<Value>(&format!(r#"{{"adopted": {deep}}}"#)).is_err());
    let deep = format!("{}1{}", "{\"a\": ".repeat(100_000), "}".repeat(100_000));
    assert!(serde_json::from_str::<Value>(&deep).is_err());
    let dotted = vec!["a"; 100_000].join(".");
    assert!(toml::from_str::<Value>(&format!("{dotted} = 1")).is_err());
    assert!(toml::from_str::<Value>(&format!("[{dotted}]\nx = 1")).is_err());
}

#[test]
fn long_and_strange_strings_in_every_text_field() {
    let long_name = "名".repeat(201);
    let doc = json_doc(&format!(
        r#"{{"industry": "C3311\u0000", "employees": 85, "revenue": 1, "name": "{long_name}",
             "product_complexity": "\u202emedium", "chain_position": "👨‍👩‍👧", "adopted": ["\u0000"]}}"#
    ));
    let errs = refused(&doc);
    let mut f = fields(&errs);
    f.sort_unstable();
    assert_eq!(
        f,
        [
            "adopted[0]",
            "chain_position",
            "industry",
            "name",
            "product_complexity"
        ]
    );
    // Exactly at the limits is fine.
    let doc = json_doc(&format!(
        r#"{{"industry": "C3311", "employees": 85, "revenue": 1, "name": "{}", "pain_points": "{}"}}"#,
        "名".repeat(200),
        "料".repeat(profile::MAX_TEXT)
    ));
    ok(check_valid_profile(&valid(&doc), None));
}

#[test]
fn answers_with_extreme_figures_score_within_bounds() {
    let doc = toml_doc(
        r#"
equipment_digital = { digital = 1e308, total = 1.7976931348623157e308 }
equipment_networked = { networked = 0, total = 5e-324 }
funding = { investment = 0.0, revenue = 1e-300 }
quality = { before = 1e-300, after = 1e308 }
green = { before = { energy = 1e308, revenue = 1e-300 }, after = { energy = 1e308, revenue = 1e-300 } }
revenue_per_head = { before = { revenue = 0, employees = 1e308 }, after = { revenue = 1e308, employees = 5e-324 } }
cost_per_100 = { before = { cost = -0.0, revenue = 1 }, after = { cost = 0, revenue = 1 } }
[scenarios]
planning = 4
warehouse = 0
"#,
    );
    ok(check_answers(&doc));
}

#[test]
fn answers_refusals_name_the_question() {
    let doc = toml_doc(
        r#"
network = "shopfloor_control"
information_systems = ["multiple"]
equipment_digital = { digital = 41, total = 40, extra = 1 }
funding = { investment = nan, revenue = -inf }
quality = { before = "96" }
green = { before = { energy = 1, revenue = 0 }, after = 3 }
nonsense = 1
[scenarios]
planning = 5
warehouse = -1
finance = 2.0
not_a_scenario = 1
[obstacles]
budget = "yes"
no_such_obstacle = true
"#,
    );
    let Err(AnswerErrors(errs)) = assessment::parse_answers(&kb().questionnaire, &doc) else {
        panic!("should be refused");
    };
    let mut qs: Vec<&str> = errs.iter().map(|e| e.question.as_str()).collect();
    qs.sort_unstable();
    qs.dedup();
    assert_eq!(
        qs,
        [
            "equipment_digital",
            "funding",
            "green.after",
            "green.before",
            "information_systems",
            "network",
            "nonsense",
            "obstacles.budget",
            "obstacles.no_such_obstacle",
            "quality",
            "scenarios.finance",
            "scenarios.not_a_scenario",
            "scenarios.planning",
            "scenarios.warehouse",
        ]
    );
}

#[test]
fn documents_that_are_not_tables_are_refused() {
    for v in [
        Value::Null,
        Value::Bool(true),
        Value::Int(1),
        Value::Float(f64::NAN),
        Value::Str("industry = \"C3311\"".into()),
        Value::List(vec![Value::Table(BTreeMap::new())]),
    ] {
        assert_eq!(fields(&refused(&v)), ["(profile)"]);
        let Err(AnswerErrors(errs)) = assessment::parse_answers(&kb().questionnaire, &v) else {
            panic!("{v:?} should be refused as answers");
        };
        assert_eq!(errs[0].question, "(answers)");
    }
    assert!(serde_json::from_str::<Value>("").is_err());
    assert_eq!(toml_doc(""), Value::Table(BTreeMap::new()));
    let errs = refused(&toml_doc(""));
    assert_eq!(fields(&errs), ["industry"]);
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the fuzz targets
// ---------------------------------------------------------------------------------------------

/// Found by `pain_text` (and `profile_toml`, `profile_json`): a two-word synonym phrase is quoted
/// with a single space whatever separated the words, so the report quotes words the user did not
/// write ("R&D" → "r d", "purchase-order" → "purchase order"). The relaxed form (the words occur
/// in order) holds and is what the properties above check.
#[test]
fn matched_phrases_are_quoted_as_written() {
    for text in [
        "R&D",
        "purchase-order",
        "Purchase\tOrder",
        "purchase\0order",
    ] {
        let hits = engine().index.search(kb(), text);
        assert!(!hits.is_empty(), "{text:?} matches");
        let lower = text.to_lowercase();
        for h in &hits {
            for m in &h.matched {
                assert!(
                    lower.contains(&m.to_lowercase()),
                    "{}: {m:?} is not in {text:?}",
                    h.scenario
                );
            }
        }
    }
}

/// The minimal inputs of every fuzz finding, through the matcher with the checks as relaxed.
#[test]
fn fuzz_found_texts_search_cleanly() {
    for text in [
        "R&D",
        "purchase-order",
        "Purchase\tOrder",
        "purchase\0order",
        "''s",
        "''S",
        "''s'",
        "machine ''s",
    ] {
        ok(check_text(text));
    }
}

#[test]
fn matched_phrases_have_their_words_in_the_text() {
    for text in [
        "R&D",
        "purchase-order",
        "Purchase\tOrder",
        "purchase\0order",
    ] {
        let hits = engine().index.search(kb(), text);
        assert!(!hits.is_empty(), "{text:?} matches");
        ok(check_hits(text, &hits));
    }
}

/// Found by `answers` (and `profile_toml`, `profile_json`): a blank key (`"" = 1`, `" " = 1`) is
/// reported under its blank name, so the message reads `: unknown field` with nothing to point at.
#[test]
fn blank_keys_are_named_visibly() {
    for text in [r#"{"": 1}"#, r#"{" ": 1}"#, r#"{"\t": 1}"#] {
        let doc = json_doc(text);
        let Err(ProfileErrors(errs)) = profile::validate(kb(), &doc) else {
            panic!("{text} should be refused");
        };
        for e in &errs {
            assert!(!e.field.trim().is_empty(), "{text}: {e:?}");
        }
        let Err(AnswerErrors(errs)) = assessment::parse_answers(&kb().questionnaire, &doc) else {
            panic!("{text} should be refused as answers");
        };
        for e in &errs {
            assert!(!e.question.trim().is_empty(), "{text}: {e:?}");
        }
    }
}

#[test]
fn blank_keys_are_refused() {
    let doc = toml_doc("\"\" = 1\n\" \" = 2\nindustry = \"C3311\"\nemployees = 1\nrevenue = 1");
    assert_eq!(fields(&refused(&doc)), ["\"\"", "\" \""]);
    let Err(AnswerErrors(errs)) = assessment::parse_answers(&kb().questionnaire, &doc) else {
        panic!("should be refused as answers");
    };
    assert_eq!(errs.len(), 5, "{errs:?}");
}

/// Found by the extreme-figures case above: a per-unit trend measure (value ÷ base)
/// overflows to infinity for valid but extreme figures, so equal figures before and after compare
/// as NaN and score as "worse" instead of "flat".
#[test]
fn equal_extreme_trend_figures_are_flat() {
    let doc = toml_doc(
        "green = { before = { energy = 1e308, revenue = 1e-300 }, \
         after = { energy = 1e308, revenue = 1e-300 } }",
    );
    let q = &kb().questionnaire;
    let a = assessment::parse_answers(q, &doc).expect("the figures are valid");
    let s = assessment::assess(q, &a);
    let green = s
        .questions
        .iter()
        .find(|x| x.question == "green")
        .expect("green is scored");
    assert_eq!(green.direction, Some(TrendDirection::Flat), "{green:?}");
    assert!(green.derived.is_some_and(f64::is_finite), "{green:?}");
}
