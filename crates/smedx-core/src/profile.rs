//! The enterprise profile: the public input contract (TOML or JSON with the same fields).
//!
//! Parsing goes through a format-neutral [`Value`] map so that every problem can name its field:
//! unknown fields (with a "did you mean"), wrong types, unknown ids, missing size indicators. All
//! problems are returned at once.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::industry::{self, IndustryCode, IndustryError};
use crate::kb::{ChainPosition, Complexity, Indicator, KnowledgeBase, SizeCategory};
use crate::lang::Localized;

/// A format-neutral value, so TOML and JSON profiles are checked by the same code.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Table(BTreeMap<String, Value>),
    Null,
}

impl Value {
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Table(_) => "table",
            Value::Null => "null",
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                i64::try_from(v)
                    .map(Value::Int)
                    .or(Ok(Value::Float(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Value::List(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
                let mut m = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<String, Value>()? {
                    m.insert(k, v);
                }
                Ok(Value::Table(m))
            }
        }
        d.deserialize_any(V)
    }
}

/// What the `industry` field named: a GB/T 4754 code or one of the ten sub-sector ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndustryInput {
    Code { code: IndustryCode },
    Sector { sector: String },
}

/// A validated profile. Money in yuan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Profile {
    pub name: Option<String>,
    pub industry: Option<IndustryInput>,
    pub employees: Option<f64>,
    pub revenue: Option<f64>,
    pub assets: Option<f64>,
    pub product_complexity: Option<Complexity>,
    pub chain_position: Option<ChainPosition>,
    pub in_cluster: Option<bool>,
    pub supplies_chain_leader: Option<bool>,
    pub uses_platform: Option<bool>,
    pub adopted: Vec<String>,
    pub pain_points: Option<String>,
    pub budget: Option<f64>,
}

/// One problem in a profile, naming the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: Localized,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message.en)?;
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean \"{s}\"?)")?;
        }
        Ok(())
    }
}

/// All problems found in a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct ProfileErrors(pub Vec<FieldError>);

impl fmt::Display for ProfileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

pub const FIELDS: &[&str] = &[
    "name",
    "industry",
    "employees",
    "revenue",
    "assets",
    "product_complexity",
    "chain_position",
    "in_cluster",
    "supplies_chain_leader",
    "uses_platform",
    "adopted",
    "pain_points",
    "budget",
];

/// A key as it can be shown in an error: blank keys are quoted so there is something to point at.
pub fn visible_key(k: &str) -> String {
    if k.trim().is_empty() {
        format!("{k:?}")
    } else {
        k.to_string()
    }
}

/// The closest candidate by edit distance, if it is close enough to be a plausible typo.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(input, c);
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.8).map(|(_, c)| c.to_string())
}

struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    fn push(&mut self, field: &str, zh: String, en: String, suggestion: Option<String>) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message: Localized::new(zh, en),
            suggestion,
        });
    }
    fn wrong_type(&mut self, field: &str, expected_en: &str, expected_zh: &str, got: &Value) {
        self.push(
            field,
            format!("应为{expected_zh}，实际是 {}", got.kind()),
            format!("expected {expected_en}, got {}", got.kind()),
            None,
        );
    }
    fn number(&mut self, field: &str, v: &Value) -> Option<f64> {
        match v.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 => Some(x),
            Some(x) => {
                self.push(
                    field,
                    format!("必须是不小于 0 的数（填写的是 {x}）"),
                    format!("must be a number of zero or more (got {x})"),
                    None,
                );
                None
            }
            None => {
                self.wrong_type(field, "a number", "数字", v);
                None
            }
        }
    }
    fn boolean(&mut self, field: &str, v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(field, "true or false", "true 或 false", v);
                None
            }
        }
    }
    fn string<'a>(&mut self, field: &str, v: &'a Value) -> Option<&'a str> {
        match v {
            Value::Str(s) => Some(s),
            _ => {
                self.wrong_type(field, "a string", "文本", v);
                None
            }
        }
    }
    fn choice<T: Copy>(&mut self, field: &str, v: &Value, options: &[(&str, T)]) -> Option<T> {
        let s = self.string(field, v)?;
        if let Some((_, t)) = options.iter().find(|(k, _)| *k == s) {
            return Some(*t);
        }
        let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        let list = names.join(" | ");
        self.push(
            field,
            format!("“{s}”不是可选值，可选：{list}"),
            format!("\"{s}\" is not one of {list}"),
            suggest(s, names.iter().copied()),
        );
        None
    }
}

/// Maximum length of free-text fields, to keep a pasted document from becoming a profile.
pub const MAX_TEXT: usize = 4000;

/// Validates a parsed profile document against the knowledge base.
pub fn validate(kb: &KnowledgeBase, doc: &Value) -> Result<Profile, ProfileErrors> {
    let mut c = Collector { errors: Vec::new() };
    let Value::Table(map) = doc else {
        c.wrong_type("(profile)", "a table of fields", "字段表", doc);
        return Err(ProfileErrors(c.errors));
    };
    let mut p = Profile::default();
    for (k, v) in map {
        // A null is the same as leaving the field out, but an unknown name is still a mistake.
        if matches!(v, Value::Null) && FIELDS.contains(&k.as_str()) {
            continue;
        }
        match k.as_str() {
            "name" => {
                if let Some(s) = c.string(k, v) {
                    if s.chars().count() > 200 {
                        c.push(
                            k,
                            "名称过长（最多 200 字）".into(),
                            "too long (at most 200 characters)".into(),
                            None,
                        );
                    } else if !s.trim().is_empty() {
                        p.name = Some(s.trim().to_string());
                    }
                }
            }
            "industry" => {
                if let Some(s) = c.string(k, v) {
                    p.industry = parse_industry(kb, s, &mut c);
                }
            }
            "employees" => p.employees = c.number(k, v),
            "revenue" => p.revenue = c.number(k, v),
            "assets" => p.assets = c.number(k, v),
            "budget" => p.budget = c.number(k, v),
            "product_complexity" => {
                p.product_complexity = c.choice(
                    k,
                    v,
                    &[
                        ("low", Complexity::Low),
                        ("medium", Complexity::Medium),
                        ("high", Complexity::High),
                    ],
                )
            }
            "chain_position" => {
                p.chain_position = c.choice(
                    k,
                    v,
                    &[
                        ("upstream", ChainPosition::Upstream),
                        ("midstream", ChainPosition::Midstream),
                        ("downstream", ChainPosition::Downstream),
                    ],
                )
            }
            "in_cluster" => p.in_cluster = c.boolean(k, v),
            "supplies_chain_leader" => p.supplies_chain_leader = c.boolean(k, v),
            "uses_platform" => p.uses_platform = c.boolean(k, v),
            "pain_points" => {
                if let Some(s) = c.string(k, v) {
                    if s.chars().count() > MAX_TEXT {
                        c.push(
                            k,
                            format!("文本过长（最多 {MAX_TEXT} 字）"),
                            format!("too long (at most {MAX_TEXT} characters)"),
                            None,
                        );
                    } else if !s.trim().is_empty() {
                        p.pain_points = Some(s.to_string());
                    }
                }
            }
            "adopted" => match v {
                Value::List(items) => {
                    for (i, it) in items.iter().enumerate() {
                        let field = format!("adopted[{i}]");
                        if let Some(id) = c.string(&field, it) {
                            if kb.scenario(id).is_some() {
                                if !p.adopted.iter().any(|a| a == id) {
                                    p.adopted.push(id.to_string());
                                }
                            } else {
                                c.push(
                                    &field,
                                    format!("未知的场景编号“{id}”"),
                                    format!("unknown scenario id \"{id}\""),
                                    suggest(id, kb.scenarios.iter().map(|s| s.id.as_str())),
                                );
                            }
                        }
                    }
                }
                other => c.wrong_type(k, "a list of scenario ids", "场景编号列表", other),
            },
            other => c.push(
                &visible_key(other),
                "未知字段".into(),
                "unknown field".into(),
                suggest(other, FIELDS.iter().copied()),
            ),
        }
    }
    // Required fields, and the indicators the size rule of this industry needs.
    let present = |k: &str| map.get(k).is_some_and(|v| !matches!(v, Value::Null));
    if !present("industry") {
        c.push(
            "industry",
            "缺少行业（GB/T 4754 代码或细分行业编号，如 C3670 或 metal）".into(),
            "missing: a GB/T 4754 code or a sub-sector id such as C3670 or metal".into(),
            None,
        );
    }
    if let Some(ind) = &p.industry
        && let Ok(cat) = category_of(kb, ind)
    {
        for i in &cat.indicators {
            let (present, name_zh) = match i {
                Indicator::Employees => (present("employees"), "从业人员数"),
                Indicator::Revenue => (present("revenue"), "营业收入（元）"),
                Indicator::Assets => (present("assets"), "资产总额（元）"),
            };
            if !present {
                c.push(
                    i.id(),
                    format!("“{}”的企业划型需要{name_zh}", cat.name.zh),
                    format!("required: the size rule for {} uses it", cat.name.en),
                    None,
                );
            }
        }
    }
    if c.errors.is_empty() {
        Ok(p)
    } else {
        Err(ProfileErrors(c.errors))
    }
}

fn parse_industry(kb: &KnowledgeBase, s: &str, c: &mut Collector) -> Option<IndustryInput> {
    if kb.sector(s).is_some() {
        return Some(IndustryInput::Sector {
            sector: s.to_string(),
        });
    }
    let looks_like_code = s.chars().any(|ch| ch.is_ascii_digit());
    match industry::parse_code(kb, s) {
        Ok(code) => match industry::size_category(kb, &code) {
            Ok(_) => Some(IndustryInput::Code { code }),
            Err(e) => {
                let m = e.localized();
                c.push("industry", m.zh, m.en, None);
                None
            }
        },
        Err(e) => {
            let m = e.localized();
            let suggestion = if looks_like_code {
                None
            } else {
                suggest(s, kb.sectors.iter().map(|x| x.id.as_str()))
            };
            let (zh, en) = if looks_like_code {
                (m.zh, m.en)
            } else {
                (
                    format!("“{s}”既不是行业代码也不是细分行业编号"),
                    format!("\"{s}\" is neither an industry code nor a sub-sector id"),
                )
            };
            c.push("industry", zh, en, suggestion);
            None
        }
    }
}

/// The industry code standing for an input (a sector id stands for its first mapped code).
pub fn code_of(kb: &KnowledgeBase, ind: &IndustryInput) -> Option<IndustryCode> {
    match ind {
        IndustryInput::Code { code } => Some(code.clone()),
        IndustryInput::Sector { sector } => kb
            .mappings
            .iter()
            .find(|m| m.sector.as_deref() == Some(sector.as_str()))
            .and_then(|m| industry::parse_code(kb, &m.prefix).ok()),
    }
}

pub fn category_of<'a>(
    kb: &'a KnowledgeBase,
    ind: &IndustryInput,
) -> Result<&'a SizeCategory, IndustryError> {
    let code = code_of(kb, ind).ok_or_else(|| IndustryError::Malformed(format!("{ind:?}")))?;
    industry::size_category(kb, &code)
}
