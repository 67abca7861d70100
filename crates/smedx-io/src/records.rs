//! Writing enterprises with their answers back in the import format (the template's example row,
//! demo files, and an export of stored assessments that imports again unchanged).

use std::borrow::Cow;
use std::io::Write;

use smedx_core::profile::Value;
use smedx_core::{KnowledgeBase, Lang};

use crate::columns::{ColumnKind, ColumnSet, Field, Period, RatioPart, TrendPart};
use crate::export::{Cell, ExportError, Table, escape_formula};
use crate::import::{EnterpriseFields, ImportRow};

/// Anything that can be written as one row of the import format.
pub trait Record {
    fn enterprise(&self) -> &EnterpriseFields;
    /// The profile document (money in yuan).
    fn profile(&self) -> Cow<'_, Value>;
    /// The answers document.
    fn answers(&self) -> Cow<'_, Value>;
}

impl Record for ImportRow {
    fn enterprise(&self) -> &EnterpriseFields {
        &self.enterprise
    }
    fn profile(&self) -> Cow<'_, Value> {
        Cow::Owned(ImportRow::profile(self))
    }
    fn answers(&self) -> Cow<'_, Value> {
        Cow::Owned(ImportRow::answers(self))
    }
}

/// An enterprise with its two documents (e.g. read back from the store: `json::from_json`).
impl Record for (EnterpriseFields, Value, Value) {
    fn enterprise(&self) -> &EnterpriseFields {
        &self.0
    }
    fn profile(&self) -> Cow<'_, Value> {
        Cow::Borrowed(&self.1)
    }
    fn answers(&self) -> Cow<'_, Value> {
        Cow::Borrowed(&self.2)
    }
}

fn get<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Table(t) => t.get(key),
        _ => None,
    }
}

fn num_cell(v: Option<&Value>) -> Cell {
    match v {
        Some(Value::Int(i)) => Cell::Int(*i),
        Some(Value::Float(f)) => Cell::Float(*f),
        Some(Value::Str(s)) => Cell::Text(s.clone()),
        _ => Cell::Empty,
    }
}

/// Yuan back to 万元 (rounded to 6 decimals to drop floating-point noise).
fn yuan_to_wan(v: Option<&Value>) -> Cell {
    match v.and_then(Value::as_f64) {
        Some(y) => {
            let w = (y / 10_000.0 * 1e6).round() / 1e6;
            if w.fract() == 0.0 && w.abs() < 9e15 {
                Cell::Int(w as i64)
            } else {
                Cell::Float(w)
            }
        }
        None => Cell::Empty,
    }
}

fn yes_no(b: bool, lang: Lang) -> Cell {
    Cell::text(match (b, lang) {
        (true, Lang::Zh) => "是",
        (false, Lang::Zh) => "否",
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
    })
}

fn list_sep(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "、",
        Lang::En => ", ",
    }
}

fn str_list(v: Option<&Value>) -> Option<Vec<&str>> {
    match v {
        Some(Value::List(items)) => Some(
            items
                .iter()
                .filter_map(|x| match x {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// How single-choice answers are written: as the option's text in the language (readable, what
/// the template's drop-down lists offer) or as the option id (compact: about 100 bytes less per
/// row in CSV). Both import the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptionStyle {
    #[default]
    Text,
    Id,
}

/// One row of the import format, in column order: enumerations and yes/no in the language,
/// single-choice options per `style`, multiple-choice as ids, money in 万元.
pub fn record_cells(
    kb: &KnowledgeBase,
    cols: &ColumnSet,
    lang: Lang,
    style: OptionStyle,
    record: &dyn Record,
) -> Vec<Cell> {
    let e = record.enterprise();
    let p = record.profile();
    let a = record.answers();
    let (p, a): (&Value, &Value) = (&p, &a);
    let q = &kb.questionnaire;
    cols.columns
        .iter()
        .map(|c| match c.kind {
            ColumnKind::Field(f) => match f {
                Field::EnterpriseName => Cell::text(&e.name),
                Field::CreditCode => e.credit_code.clone().into(),
                Field::Region => Cell::text(&e.region),
                Field::Cluster => e.cluster.clone().into(),
                Field::AssessedOn => e.assessed_on.clone().into(),
                Field::Industry | Field::PainPoints => {
                    match get(p, f.profile_field().unwrap_or("")) {
                        Some(Value::Str(s)) => Cell::text(s),
                        _ => Cell::Empty,
                    }
                }
                Field::Employees => num_cell(get(p, "employees")),
                Field::RevenueWan => yuan_to_wan(get(p, "revenue")),
                Field::AssetsWan => yuan_to_wan(get(p, "assets")),
                Field::BudgetWan => yuan_to_wan(get(p, "budget")),
                Field::ProductComplexity | Field::ChainPosition => {
                    match get(p, f.profile_field().unwrap_or("")) {
                        Some(Value::Str(id)) => c
                            .choices
                            .iter()
                            .find(|x| &x.id == id)
                            .map_or_else(|| Cell::text(id), |x| Cell::text(x.text.get(lang))),
                        _ => Cell::Empty,
                    }
                }
                Field::InCluster | Field::SuppliesChainLeader | Field::UsesPlatform => {
                    match get(p, f.profile_field().unwrap_or("")) {
                        Some(Value::Bool(b)) => yes_no(*b, lang),
                        _ => Cell::Empty,
                    }
                }
                Field::Adopted => match str_list(get(p, "adopted")) {
                    Some(ids) if !ids.is_empty() => Cell::text(ids.join(list_sep(lang))),
                    _ => Cell::Empty,
                },
            },
            ColumnKind::Single { question } => {
                let qq = &q.question[question];
                match get(a, &qq.id) {
                    Some(Value::Str(id)) if style == OptionStyle::Id => Cell::text(id),
                    Some(Value::Str(id)) => qq
                        .option
                        .iter()
                        .find(|o| &o.id == id)
                        .map_or_else(|| Cell::text(id), |o| Cell::text(o.text.get(lang))),
                    _ => Cell::Empty,
                }
            }
            ColumnKind::Multi { question } => match str_list(get(a, &q.question[question].id)) {
                Some(ids) if ids.is_empty() => Cell::text(match lang {
                    Lang::Zh => "无",
                    Lang::En => "none",
                }),
                Some(ids) => Cell::text(ids.join(list_sep(lang))),
                None => Cell::Empty,
            },
            ColumnKind::Ratio { question, part } => {
                let qq = &q.question[question];
                let Some(spec) = &qq.ratio else {
                    return Cell::Empty;
                };
                let id = match part {
                    RatioPart::Numerator => &spec.numerator.id,
                    RatioPart::Denominator => &spec.denominator.id,
                };
                num_cell(get(a, &qq.id).and_then(|t| get(t, id)))
            }
            ColumnKind::Trend {
                question,
                period,
                part,
            } => {
                let qq = &q.question[question];
                let pv = get(a, &qq.id).and_then(|t| {
                    get(
                        t,
                        match period {
                            Period::Before => "before",
                            Period::After => "after",
                        },
                    )
                });
                match (part, &qq.trend) {
                    (None, _) => num_cell(pv),
                    (Some(part), Some(spec)) => {
                        let id = match (part, &spec.base) {
                            (TrendPart::Base, Some(b)) => &b.id,
                            _ => &spec.value.id,
                        };
                        num_cell(pv.and_then(|t| get(t, id)))
                    }
                    (Some(_), None) => Cell::Empty,
                }
            }
            ColumnKind::Scenario { scenario } => {
                num_cell(get(a, "scenarios").and_then(|t| get(t, &q.scenario[scenario].id)))
            }
            ColumnKind::Obstacle { obstacle } => {
                match get(a, "obstacles").and_then(|t| get(t, &q.obstacle_question[obstacle].id)) {
                    Some(Value::Bool(b)) => yes_no(*b, lang),
                    _ => Cell::Empty,
                }
            }
        })
        .collect()
}

/// The import format's columns as (id, header) in one language.
pub fn table_columns(cols: &ColumnSet, lang: Lang) -> Vec<(String, String)> {
    cols.columns
        .iter()
        .map(|c| (c.id.clone(), c.header(lang).to_string()))
        .collect()
}

/// Records as a [`Table`] in the import format (for [`crate::write_xlsx`]); the result imports again.
pub fn records_table<'r, R: Record + 'r>(
    kb: &KnowledgeBase,
    lang: Lang,
    title: &str,
    records: impl IntoIterator<Item = &'r R>,
) -> Table {
    let cols = ColumnSet::new(kb);
    let mut t = Table::new(title, table_columns(&cols, lang));
    t.rows = records
        .into_iter()
        .map(|r| record_cells(kb, &cols, lang, OptionStyle::Text, r))
        .collect();
    t
}

/// Streams records to CSV in the import format, with constant memory (for large demo files).
pub struct RecordCsvWriter<'k, W: Write> {
    kb: &'k KnowledgeBase,
    cols: ColumnSet,
    lang: Lang,
    style: OptionStyle,
    out: csv::Writer<W>,
    buf: Vec<String>,
}

impl<'k, W: Write> RecordCsvWriter<'k, W> {
    /// Writes the header row (and a UTF-8 byte-order mark first when `bom`).
    pub fn new(
        kb: &'k KnowledgeBase,
        lang: Lang,
        mut out: W,
        bom: bool,
    ) -> Result<Self, ExportError> {
        if bom {
            out.write_all(crate::export::UTF8_BOM.as_bytes())?;
        }
        let cols = ColumnSet::new(kb);
        let mut w = csv::WriterBuilder::new().from_writer(out);
        w.write_record(cols.columns.iter().map(|c| c.header(lang)))?;
        Ok(RecordCsvWriter {
            kb,
            cols,
            lang,
            style: OptionStyle::Text,
            out: w,
            buf: Vec::new(),
        })
    }

    /// Writes single-choice answers as option ids (compact) or texts (the default).
    pub fn option_style(mut self, style: OptionStyle) -> Self {
        self.style = style;
        self
    }

    pub fn write(&mut self, record: &dyn Record) -> Result<(), ExportError> {
        self.buf.clear();
        for cell in record_cells(self.kb, &self.cols, self.lang, self.style, record) {
            self.buf.push(match cell {
                Cell::Text(s) => escape_formula(&s).into_owned(),
                Cell::Int(i) => i.to_string(),
                Cell::Float(f) => crate::cell::fmt_num(f),
                Cell::Empty | Cell::Suppressed(_) => String::new(),
            });
        }
        self.out.write_record(&self.buf)?;
        Ok(())
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W, ExportError> {
        self.out
            .into_inner()
            .map_err(|e| ExportError::Io(std::io::Error::other(e.to_string())))
    }
}
