//! The columns of the import format, derived from the knowledge base: the enterprise and profile
//! fields, then one column per scored question of the questionnaire (two for a ratio, two or four
//! for a trend), then one per business scenario and one per obstacle question. A new edition of
//! `data/questionnaire.toml` changes the columns without a code change.
//!
//! Every column has a stable id (`revenue_wan`, `equipment_digital.total`, `green.before.energy`,
//! `scenario.production_control`, `obstacle.budget`) and a header in each language. A file's header
//! row may use the ids, the Chinese headers or the English headers (even mixed); headers are matched
//! after [`header_key`] normalisation (case, spaces, full-width punctuation, a trailing `*`).

use std::collections::HashMap;

use smedx_core::assessment::{Measure, QuestionKind};
use smedx_core::kb::{ChainPosition, Complexity};
use smedx_core::{KnowledgeBase, Lang, Localized};

/// The enterprise and profile columns that come before the questionnaire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    EnterpriseName,
    CreditCode,
    Region,
    Cluster,
    Industry,
    Employees,
    RevenueWan,
    AssetsWan,
    ProductComplexity,
    ChainPosition,
    InCluster,
    SuppliesChainLeader,
    UsesPlatform,
    Adopted,
    PainPoints,
    BudgetWan,
    AssessedOn,
}

impl Field {
    pub const ALL: [Field; 17] = [
        Field::EnterpriseName,
        Field::CreditCode,
        Field::Region,
        Field::Cluster,
        Field::Industry,
        Field::Employees,
        Field::RevenueWan,
        Field::AssetsWan,
        Field::ProductComplexity,
        Field::ChainPosition,
        Field::InCluster,
        Field::SuppliesChainLeader,
        Field::UsesPlatform,
        Field::Adopted,
        Field::PainPoints,
        Field::BudgetWan,
        Field::AssessedOn,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Field::EnterpriseName => "enterprise_name",
            Field::CreditCode => "credit_code",
            Field::Region => "region",
            Field::Cluster => "cluster",
            Field::Industry => "industry",
            Field::Employees => "employees",
            Field::RevenueWan => "revenue_wan",
            Field::AssetsWan => "assets_wan",
            Field::ProductComplexity => "product_complexity",
            Field::ChainPosition => "chain_position",
            Field::InCluster => "in_cluster",
            Field::SuppliesChainLeader => "supplies_chain_leader",
            Field::UsesPlatform => "uses_platform",
            Field::Adopted => "adopted",
            Field::PainPoints => "pain_points",
            Field::BudgetWan => "budget_wan",
            Field::AssessedOn => "assessed_on",
        }
    }

    /// The profile field (README "Profile format") this column feeds, if any.
    pub fn profile_field(self) -> Option<&'static str> {
        Some(match self {
            Field::EnterpriseName => "name",
            Field::Industry => "industry",
            Field::Employees => "employees",
            Field::RevenueWan => "revenue",
            Field::AssetsWan => "assets",
            Field::ProductComplexity => "product_complexity",
            Field::ChainPosition => "chain_position",
            Field::InCluster => "in_cluster",
            Field::SuppliesChainLeader => "supplies_chain_leader",
            Field::UsesPlatform => "uses_platform",
            Field::Adopted => "adopted",
            Field::PainPoints => "pain_points",
            Field::BudgetWan => "budget",
            Field::CreditCode | Field::Region | Field::Cluster | Field::AssessedOn => return None,
        })
    }

    /// Columns a file must have in its header row.
    pub fn required(self) -> bool {
        matches!(
            self,
            Field::EnterpriseName
                | Field::Region
                | Field::Industry
                | Field::Employees
                | Field::RevenueWan
        )
    }

    fn header(self) -> Localized {
        let (zh, en) = match self {
            Field::EnterpriseName => ("企业名称", "Enterprise name"),
            Field::CreditCode => ("统一社会信用代码", "Unified social credit code"),
            Field::Region => ("行政区划代码", "Region code"),
            Field::Cluster => ("产业集群", "Cluster"),
            Field::Industry => ("行业代码", "Industry code"),
            Field::Employees => ("从业人员（人）", "Employees (persons)"),
            Field::RevenueWan => ("营业收入（万元）", "Revenue (CNY 10k)"),
            Field::AssetsWan => ("资产总额（万元）", "Total assets (CNY 10k)"),
            Field::ProductComplexity => ("产品复杂度", "Product complexity"),
            Field::ChainPosition => ("产业链位置", "Chain position"),
            Field::InCluster => ("是否在产业集群内", "In an industrial cluster"),
            Field::SuppliesChainLeader => ("是否为链主企业配套", "Supplies a chain leader"),
            Field::UsesPlatform => (
                "是否使用工业互联网平台",
                "Uses an industrial-internet platform",
            ),
            Field::Adopted => ("已应用的场景", "Scenarios in place"),
            Field::PainPoints => ("主要痛点", "Pain points"),
            Field::BudgetWan => (
                "未来12个月数字化预算（万元）",
                "Digital budget, next 12 months (CNY 10k)",
            ),
            Field::AssessedOn => ("评估日期", "Assessment date"),
        };
        Localized::new(zh, en)
    }

    fn help(self) -> Localized {
        let (zh, en) = match self {
            Field::EnterpriseName => (
                "企业全称，必填，最多 200 字。",
                "Full registered name; required; at most 200 characters.",
            ),
            Field::CreditCode => (
                "18 位统一社会信用代码（GB 32100-2015），选填；会校验字符和校验位。同一文件中不能重复。请把这一列设为“文本”格式，以免被当成数字。",
                "The 18-character unified social credit code (GB 32100-2015); optional; characters and the check character are verified. Must not repeat within a file. Format the column as text so it is not read as a number.",
            ),
            Field::Region => (
                "企业所在地的 6 位行政区划代码（GB/T 2260），必填，如 320506（苏州市吴中区）。",
                "The six-digit GB/T 2260 code of the firm's location; required; e.g. 320506 (Wuzhong District, Suzhou).",
            ),
            Field::Cluster => (
                "所属产业集群或园区的编号（由管理员设定），选填，最多 64 字。",
                "Id of the industrial cluster or park (set up by the administrator); optional; at most 64 characters.",
            ),
            Field::Industry => (
                "国民经济行业分类（GB/T 4754-2017）代码，必填，如 C3311、3311、C33；也可填细分行业编号，如 metal。",
                "GB/T 4754-2017 industry code; required; e.g. C3311, 3311 or C33; a sub-sector id such as metal also works.",
            ),
            Field::Employees => (
                "从业人员数（人），整数。",
                "Number of employees (persons), a whole number.",
            ),
            Field::RevenueWan => (
                "上年度营业收入，单位万元（导入时换算为元）。",
                "Last year's operating revenue in CNY 10,000 (万元); converted to yuan on import.",
            ),
            Field::AssetsWan => (
                "资产总额，单位万元；只有划型规则用到资产的行业（建筑业、房地产、租赁）才必填。",
                "Total assets in CNY 10,000; needed only where the industry's size rule uses assets (construction, real estate, leasing).",
            ),
            Field::ProductComplexity => (
                "产品复杂度：低（基础加工）/ 中（功能部件）/ 高（终端成品），也可填 low / medium / high；留空则按细分行业推断。",
                "Product complexity: low / medium / high (or 低 / 中 / 高); left empty, it is inferred from the sub-sector.",
            ),
            Field::ChainPosition => (
                "产业链位置：上游 / 中游 / 下游，也可填 upstream / midstream / downstream；留空则推断。",
                "Chain position: upstream / midstream / downstream (or 上游 / 中游 / 下游); inferred when empty.",
            ),
            Field::InCluster => ("是 / 否", "yes / no"),
            Field::SuppliesChainLeader => (
                "是否为产业链龙头（链主）企业配套供货：是 / 否",
                "Does the firm supply a chain-leader firm: yes / no",
            ),
            Field::UsesPlatform => ("是 / 否", "yes / no"),
            Field::Adopted => (
                "已经在用的场景编号或名称，多个用逗号、顿号或分号分隔，如 mg.finance、pl.transparency。",
                "Scenario ids or names already in place, separated by commas, 、 or semicolons, e.g. mg.finance, pl.transparency.",
            ),
            Field::PainPoints => (
                "企业自己的话描述的主要问题，最多 4000 字。",
                "The firm's main problems in its own words; at most 4000 characters.",
            ),
            Field::BudgetWan => (
                "未来 12 个月可用于数字化的预算，单位万元。",
                "Budget for digital work over the next 12 months, in CNY 10,000.",
            ),
            Field::AssessedOn => (
                "评估日期，格式 YYYY-MM-DD（如 2026-03-31），选填。",
                "Date of the assessment, YYYY-MM-DD (e.g. 2026-03-31); optional.",
            ),
        };
        Localized::new(zh, en)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Before,
    After,
}

impl Period {
    pub fn id(self) -> &'static str {
        match self {
            Period::Before => "before",
            Period::After => "after",
        }
    }
    fn name(self) -> Localized {
        match self {
            Period::Before => Localized::new("之前", "before"),
            Period::After => Localized::new("之后", "after"),
        }
    }
}

/// The two figures of a ratio question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RatioPart {
    Numerator,
    Denominator,
}

/// The two figures of one period of a `per_100_yuan` / `per_head` trend question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrendPart {
    Value,
    Base,
}

/// What a column holds. Indexes point into the questionnaire's `question`, `scenario` and
/// `obstacle_question` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    Field(Field),
    Single {
        question: usize,
    },
    Multi {
        question: usize,
    },
    Ratio {
        question: usize,
        part: RatioPart,
    },
    /// `part` is `None` for a `value` trend (one figure per period).
    Trend {
        question: usize,
        period: Period,
        part: Option<TrendPart>,
    },
    Scenario {
        scenario: usize,
    },
    Obstacle {
        obstacle: usize,
    },
}

/// One allowed value of a choice column: its id and its text in both languages.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub id: String,
    pub text: Localized,
    /// Other spellings accepted on import.
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub id: String,
    pub header: Localized,
    pub kind: ColumnKind,
    pub required: bool,
    /// What to enter, for the template's help sheet and the web page.
    pub help: Localized,
    /// Allowed values (single-choice, multiple-choice, enumerations, booleans, scenario levels).
    pub choices: Vec<Choice>,
}

impl Column {
    pub fn header(&self, lang: Lang) -> &str {
        self.header.get(lang)
    }
    /// True for columns that carry questionnaire answers (questions, scenarios, obstacles).
    pub fn is_answer(&self) -> bool {
        !matches!(self.kind, ColumnKind::Field(_))
    }
}

/// Which form of a column name a header used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderForm {
    Id,
    Zh,
    En,
}

/// All columns of the import format for one knowledge base, with the header lookup.
#[derive(Debug, Clone)]
pub struct ColumnSet {
    pub columns: Vec<Column>,
    lookup: HashMap<String, (usize, HeaderForm)>,
    /// Every accepted spelling (normalised key, the spelling as shown), for suggestions.
    spellings: Vec<(String, String)>,
    field_ix: HashMap<Field, usize>,
    /// Column indexes per question, in column order.
    pub(crate) question_cols: Vec<Vec<usize>>,
    pub(crate) scenario_cols: Vec<usize>,
    pub(crate) obstacle_cols: Vec<usize>,
}

/// Yes / no choices, as the template offers them.
pub fn bool_choices() -> Vec<Choice> {
    vec![
        Choice {
            id: "true".into(),
            text: Localized::new("是", "yes"),
            aliases: vec![],
        },
        Choice {
            id: "false".into(),
            text: Localized::new("否", "no"),
            aliases: vec![],
        },
    ]
}

fn complexity_choices() -> Vec<Choice> {
    [
        (Complexity::Low, "低"),
        (Complexity::Medium, "中"),
        (Complexity::High, "高"),
    ]
    .into_iter()
    .map(|(c, zh)| Choice {
        id: c.id().into(),
        text: Localized::new(zh, c.id()),
        aliases: vec![c.name().zh, c.name().en],
    })
    .collect()
}

fn position_choices() -> Vec<Choice> {
    [
        (ChainPosition::Upstream, "上游"),
        (ChainPosition::Midstream, "中游"),
        (ChainPosition::Downstream, "下游"),
    ]
    .into_iter()
    .map(|(c, zh)| Choice {
        id: c.id().into(),
        text: Localized::new(zh, c.id()),
        aliases: vec![c.name().zh, c.name().en],
    })
    .collect()
}

/// Normalises a header (or a choice text) for matching: full-width ASCII to half-width, dashes to
/// `-`, no whitespace, lower case, no leading/trailing `*` or `★`, no byte-order mark.
pub fn header_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{FEFF}' => continue,
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{3001}' => ',',
            _ => c,
        };
        if c.is_ascii() {
            if !c.is_ascii_whitespace() {
                out.push(c.to_ascii_lowercase());
            }
        } else if c.is_whitespace() {
            continue;
        } else if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out.trim_matches(|c| c == '*' || c == '★').to_string()
}

impl ColumnSet {
    /// The columns of the import format for this knowledge base.
    pub fn new(kb: &KnowledgeBase) -> ColumnSet {
        let q = &kb.questionnaire;
        let mut columns: Vec<Column> = Vec::new();
        for f in Field::ALL {
            let choices = match f {
                Field::ProductComplexity => complexity_choices(),
                Field::ChainPosition => position_choices(),
                Field::InCluster | Field::SuppliesChainLeader | Field::UsesPlatform => {
                    bool_choices()
                }
                _ => vec![],
            };
            columns.push(Column {
                id: f.id().to_string(),
                header: f.header(),
                kind: ColumnKind::Field(f),
                required: f.required(),
                help: f.help(),
                choices,
            });
        }
        let mut question_cols = vec![Vec::new(); q.question.len()];
        for (qi, question) in q.question.iter().enumerate() {
            let name = &question.name;
            let option_choices = || {
                question
                    .option
                    .iter()
                    .map(|o| Choice {
                        id: o.id.clone(),
                        text: o.text.clone(),
                        aliases: vec![],
                    })
                    .collect::<Vec<_>>()
            };
            let mut push = |columns: &mut Vec<Column>, col: Column| {
                question_cols[qi].push(columns.len());
                columns.push(col);
            };
            match question.kind {
                QuestionKind::Single => push(
                    &mut columns,
                    Column {
                        id: question.id.clone(),
                        header: name.clone(),
                        kind: ColumnKind::Single { question: qi },
                        required: false,
                        help: Localized::new(
                            format!("{}（单选：填一个选项编号或选项原文）", question.text.zh),
                            format!(
                                "{} (single choice: one option id or the option's text)",
                                question.text.en
                            ),
                        ),
                        choices: option_choices(),
                    },
                ),
                QuestionKind::Multi => push(
                    &mut columns,
                    Column {
                        id: question.id.clone(),
                        header: name.clone(),
                        kind: ColumnKind::Multi { question: qi },
                        required: false,
                        help: Localized::new(
                            format!(
                                "{}（多选：选项编号或原文，用逗号、顿号或分号分隔；一项都没有填“无”；留空表示未作答）",
                                question.text.zh
                            ),
                            format!(
                                "{} (multiple choice: option ids or texts separated by commas, 、 or semicolons; \"none\" when none applies; empty = not answered)",
                                question.text.en
                            ),
                        ),
                        choices: option_choices(),
                    },
                ),
                QuestionKind::Ratio => {
                    if let Some(spec) = &question.ratio {
                        for (part, field, other) in [
                            (RatioPart::Numerator, &spec.numerator, &spec.denominator),
                            (RatioPart::Denominator, &spec.denominator, &spec.numerator),
                        ] {
                            push(
                                &mut columns,
                                Column {
                                    id: format!("{}.{}", question.id, field.id),
                                    header: Localized::new(
                                        format!("{}-{}", name.zh, field.label.zh),
                                        format!("{} - {}", name.en, field.label.en),
                                    ),
                                    kind: ColumnKind::Ratio { question: qi, part },
                                    required: false,
                                    help: Localized::new(
                                        format!(
                                            "{}：{}。与“{}”同时填写或同时留空。{}",
                                            name.zh,
                                            field.label.zh,
                                            other.label.zh,
                                            question.help.as_ref().map_or("", |h| h.zh.as_str())
                                        ),
                                        format!(
                                            "{}: {}. Fill in together with \"{}\", or leave both empty. {}",
                                            name.en,
                                            field.label.en,
                                            other.label.en,
                                            question.help.as_ref().map_or("", |h| h.en.as_str())
                                        ),
                                    ),
                                    choices: vec![],
                                },
                            );
                        }
                    }
                }
                QuestionKind::Trend => {
                    if let Some(spec) = &question.trend {
                        let per = spec.measure != Measure::Value && spec.base.is_some();
                        for period in [Period::Before, Period::After] {
                            let pn = period.name();
                            let parts: Vec<(
                                Option<TrendPart>,
                                &smedx_core::assessment::InputField,
                            )> = match (&spec.base, per) {
                                (Some(base), true) => vec![
                                    (Some(TrendPart::Value), &spec.value),
                                    (Some(TrendPart::Base), base),
                                ],
                                _ => vec![(None, &spec.value)],
                            };
                            for (part, field) in parts {
                                let id = match part {
                                    None => format!("{}.{}", question.id, period.id()),
                                    Some(_) => {
                                        format!("{}.{}.{}", question.id, period.id(), field.id)
                                    }
                                };
                                push(
                                    &mut columns,
                                    Column {
                                        id,
                                        header: Localized::new(
                                            format!("{}-{}-{}", name.zh, pn.zh, field.label.zh),
                                            format!("{} - {} - {}", name.en, pn.en, field.label.en),
                                        ),
                                        kind: ColumnKind::Trend {
                                            question: qi,
                                            period,
                                            part,
                                        },
                                        required: false,
                                        help: Localized::new(
                                            format!(
                                                "{}（{}）：{}。本题各栏同时填写或同时留空。{}",
                                                name.zh,
                                                pn.zh,
                                                field.label.zh,
                                                question
                                                    .help
                                                    .as_ref()
                                                    .map_or("", |h| h.zh.as_str())
                                            ),
                                            format!(
                                                "{} ({}): {}. Fill in all columns of this question, or none. {}",
                                                name.en,
                                                pn.en,
                                                field.label.en,
                                                question
                                                    .help
                                                    .as_ref()
                                                    .map_or("", |h| h.en.as_str())
                                            ),
                                        ),
                                        choices: vec![],
                                    },
                                );
                            }
                        }
                    }
                }
            }
        }
        let mut scenario_cols = Vec::new();
        for (si, s) in q.scenario.iter().enumerate() {
            let mut choices = vec![Choice {
                id: "0".into(),
                text: Localized::new("0 未开始", "0 not started"),
                aliases: vec![],
            }];
            for (i, l) in s.levels.iter().enumerate() {
                choices.push(Choice {
                    id: (i + 1).to_string(),
                    text: Localized::new(
                        format!("{} {}", i + 1, l.zh),
                        format!("{} {}", i + 1, l.en),
                    ),
                    aliases: vec![],
                });
            }
            let star = if s.constrained { "★ " } else { "" };
            scenario_cols.push(columns.len());
            columns.push(Column {
                id: format!("scenario.{}", s.id),
                header: Localized::new(
                    format!("场景-{}", s.name.zh),
                    format!("Scenario - {}", s.name.en),
                ),
                kind: ColumnKind::Scenario { scenario: si },
                required: false,
                help: Localized::new(
                    format!(
                        "{star}业务场景“{}”的等级：0 = 未开始，1–4 = 最符合的等级描述；留空按 0 计。",
                        s.name.zh
                    ),
                    format!(
                        "{star}Level of the business scenario \"{}\": 0 = not started, 1–4 = the level text that fits best; empty counts as 0.",
                        s.name.en
                    ),
                ),
                choices,
            });
        }
        let mut obstacle_cols = Vec::new();
        for (oi, o) in q.obstacle_question.iter().enumerate() {
            let name = kb
                .obstacle(&o.obstacle)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| Localized::new(o.id.clone(), o.id.clone()));
            obstacle_cols.push(columns.len());
            columns.push(Column {
                id: format!("obstacle.{}", o.id),
                header: Localized::new(
                    format!("障碍-{}", name.zh),
                    format!("Obstacle - {}", name.en),
                ),
                kind: ColumnKind::Obstacle { obstacle: oi },
                required: false,
                help: Localized::new(
                    format!("“{}”是否符合本企业：是 / 否", o.text.zh),
                    format!("Is this true for the firm: \"{}\" — yes / no", o.text.en),
                ),
                choices: bool_choices(),
            });
        }

        let mut lookup = HashMap::new();
        let mut spellings = Vec::new();
        let mut field_ix = HashMap::new();
        for (i, c) in columns.iter().enumerate() {
            if let ColumnKind::Field(f) = c.kind {
                field_ix.insert(f, i);
            }
            for (form, text) in [
                (HeaderForm::Id, c.id.as_str()),
                (HeaderForm::Zh, c.header.zh.as_str()),
                (HeaderForm::En, c.header.en.as_str()),
            ] {
                let key = header_key(text);
                // The first column to claim a spelling keeps it (ids come first, so an id always wins).
                lookup.entry(key.clone()).or_insert((i, form));
                spellings.push((key, text.to_string()));
            }
        }
        ColumnSet {
            columns,
            lookup,
            spellings,
            field_ix,
            question_cols,
            scenario_cols,
            obstacle_cols,
        }
    }

    /// The column a header names (by id, Chinese or English header), and which form it used.
    pub fn resolve(&self, header: &str) -> Option<(usize, HeaderForm)> {
        self.lookup.get(&header_key(header)).copied()
    }

    /// The closest accepted spelling of a column name, for an unknown header.
    pub fn suggest(&self, header: &str) -> Option<String> {
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        let best =
            smedx_core::profile::suggest(&key, self.spellings.iter().map(|(k, _)| k.as_str()))?;
        self.spellings
            .iter()
            .find(|(k, _)| *k == best)
            .map(|(_, shown)| shown.clone())
    }

    pub fn field(&self, f: Field) -> usize {
        self.field_ix[&f]
    }

    pub fn by_id(&self, id: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.id == id)
    }

    /// The headers in one language, in column order.
    pub fn headers(&self, lang: Lang) -> Vec<&str> {
        self.columns.iter().map(|c| c.header(lang)).collect()
    }

    /// The ids, in column order.
    pub fn ids(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.id.as_str()).collect()
    }

    /// Spellings claimed by more than one column (none for a well-formed questionnaire; tested).
    pub fn ambiguous_spellings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            for text in [&c.id, &c.header.zh, &c.header.en] {
                let key = header_key(text);
                if let Some(&(j, _)) = self.lookup.get(&key)
                    && j != i
                    && !out.contains(text)
                {
                    out.push(text.clone());
                }
            }
        }
        out
    }
}

/// The columns of the import format for this knowledge base (see [`ColumnSet`]).
pub fn columns(kb: &KnowledgeBase) -> Vec<Column> {
    ColumnSet::new(kb).columns
}
