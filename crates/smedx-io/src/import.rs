//! Importing enterprises and their latest assessment from CSV or XLSX.
//!
//! The whole file is read and validated before anything is returned: either every row is good
//! and an [`ImportBatch`] comes back, or [`ImportErrors`] lists every problem (up to
//! [`ImportOptions::max_errors`], with the total count) by sheet row and column, in Chinese and
//! English. Nothing is stored here; the batch holds, per row, the enterprise fields plus the
//! profile and answers documents (as [`Value`] tables, the same documents the web wizard saves),
//! ready for one all-or-nothing transaction in the store.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{Cursor, Read};

use calamine::{DataRef, Reader, Xlsx};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smedx_core::assessment::{self, QuestionKind};
use smedx_core::profile::{self, Value};
use smedx_core::{KnowledgeBase, Lang, Localized};

use crate::cell::{self, Raw, RawOwned};
use crate::columns::{
    Column, ColumnKind, ColumnSet, Field, HeaderForm, RatioPart, TrendPart, header_key,
};
use crate::credit;

/// Files larger than this are rejected before parsing (50 MiB).
pub const MAX_BYTES: usize = 128 * 1024 * 1024;
/// At most this many data rows (the header not counted).
pub const MAX_ROWS: usize = 1_000_000;
/// At most this many errors are listed; [`ImportErrors::total`] counts them all.
pub const MAX_ERRORS: usize = 10_000;
/// Names of the data sheet in the templates; the first sheet is read when none of them exists.
pub const TEMPLATE_SHEETS: [&str; 2] = ["企业数据", "Enterprises"];

/// Largest accepted employee count.
pub const MAX_EMPLOYEES: f64 = 10_000_000.0;
/// Largest accepted amount in 万元 (10^13 yuan).
pub const MAX_WAN: f64 = 1e9;
/// Largest accepted questionnaire figure (machine counts, 万元, tonnes, percentages …).
pub const MAX_FIGURE: f64 = 1e12;
/// Longest cluster id.
pub const MAX_CLUSTER: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    pub max_bytes: usize,
    pub max_rows: usize,
    pub max_errors: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            max_bytes: MAX_BYTES,
            max_rows: MAX_ROWS,
            max_errors: MAX_ERRORS,
        }
    }
}

/// The enterprise columns that are not part of the profile document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EnterpriseFields {
    pub name: String,
    /// Normalised (upper case), format and check character verified.
    pub credit_code: Option<String>,
    /// Six-digit GB/T 2260 code.
    pub region: String,
    pub cluster: Option<String>,
    /// `YYYY-MM-DD`.
    pub assessed_on: Option<String>,
}

/// One validated row: an enterprise and its latest assessment.
///
/// The two documents are kept as compact JSON text (about 1.5 KB a row), not as [`Value`] trees
/// (about 16 KB a row), so that a million-row batch fits in memory; [`ImportRow::profile`] and
/// [`ImportRow::answers`] give the [`Value`]s back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    /// The sheet row (1-based, the header is row 1 in a usual file).
    pub row: usize,
    pub enterprise: EnterpriseFields,
    /// The profile document (README "Profile format", money in yuan) as JSON text. Validated.
    pub profile_json: String,
    /// The answers document (keyed by question id, plus `scenarios` and `obstacles`) as JSON
    /// text. Validated.
    pub answers_json: String,
    /// False when the row has no questionnaire cell filled (an enterprise without an assessment).
    pub has_answers: bool,
}

impl ImportRow {
    /// The profile document, for `smedx_core::profile::validate`.
    pub fn profile(&self) -> Value {
        crate::json::from_json_str(&self.profile_json).unwrap_or(Value::Null)
    }
    /// The answers document, for `smedx_core::assessment::parse_answers`.
    pub fn answers(&self) -> Value {
        crate::json::from_json_str(&self.answers_json).unwrap_or(Value::Null)
    }
    /// The profile document as a JSON value (what the store keeps).
    pub fn profile_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.profile_json).unwrap_or(serde_json::Value::Null)
    }
    /// The answers document as a JSON value (what the store keeps).
    pub fn answers_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.answers_json).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Xlsx,
}

/// A validated file, nothing stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportBatch {
    pub format: FileFormat,
    /// XLSX: the sheet read.
    pub sheet: Option<String>,
    /// The language of the header row (None when it used the ids only).
    pub header_lang: Option<Lang>,
    /// Ids of the columns present, in file order.
    pub columns: Vec<String>,
    pub rows: Vec<ImportRow>,
    /// Rows with no cell filled, skipped.
    pub skipped_empty_rows: usize,
}

/// One problem, located as the user sees it in a spreadsheet program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based sheet row including the header; 0 for a problem of the whole file.
    pub row: usize,
    /// The column id, when the problem belongs to a known column.
    pub column: Option<String>,
    /// The header as written in the file (absent when the column is missing from the file).
    pub header: Option<String>,
    /// 1-based position of the column in the file (A = 1).
    pub column_index: Option<usize>,
    pub message: Localized,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// Spreadsheet column letters: 1 → A, 27 → AA.
pub fn column_letter(mut n: usize) -> String {
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

impl RowError {
    /// `C5`-style reference, when both row and column are known.
    pub fn cell_ref(&self) -> Option<String> {
        match (self.row, self.column_index) {
            (r, Some(c)) if r > 0 => Some(format!("{}{r}", column_letter(c))),
            _ => None,
        }
    }

    /// One line in the given language, e.g. `第 5 行 G 列“营业收入（万元）”：“abc”不是数字`.
    pub fn render(&self, lang: Lang) -> String {
        let mut s = String::new();
        let name = self
            .header
            .clone()
            .or_else(|| self.column.clone())
            .unwrap_or_default();
        match lang {
            Lang::Zh => {
                if self.row > 0 {
                    s.push_str(&format!("第 {} 行", self.row));
                } else {
                    s.push_str("文件");
                }
                if let Some(c) = self.column_index {
                    s.push_str(&format!(" {} 列", column_letter(c)));
                }
                if !name.is_empty() {
                    s.push_str(&format!("“{name}”"));
                }
                s.push('：');
                s.push_str(&self.message.zh);
                if let Some(sug) = &self.suggestion {
                    s.push_str(&format!("（是否想填“{sug}”？）"));
                }
            }
            Lang::En => {
                if self.row > 0 {
                    s.push_str(&format!("row {}", self.row));
                } else {
                    s.push_str("file");
                }
                if let Some(c) = self.column_index {
                    s.push_str(&format!(", column {}", column_letter(c)));
                }
                if !name.is_empty() {
                    s.push_str(&format!(" \"{name}\""));
                }
                s.push_str(": ");
                s.push_str(&self.message.en);
                if let Some(sug) = &self.suggestion {
                    s.push_str(&format!(" (did you mean \"{sug}\"?)"));
                }
            }
        }
        s
    }
}

/// Every problem found in a file (the first [`ImportOptions::max_errors`] of them, sorted by row
/// and column) and how many there were in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub struct ImportErrors {
    pub errors: Vec<RowError>,
    pub total: usize,
}

impl ImportErrors {
    fn file(message: Localized) -> ImportErrors {
        ImportErrors {
            errors: vec![RowError {
                row: 0,
                column: None,
                header: None,
                column_index: None,
                message,
                suggestion: None,
            }],
            total: 1,
        }
    }

    /// All errors, one per line, in the given language (with a closing line when some were left out).
    pub fn render(&self, lang: Lang) -> String {
        let mut lines: Vec<String> = self.errors.iter().map(|e| e.render(lang)).collect();
        if self.total > self.errors.len() {
            lines.push(match lang {
                Lang::Zh => format!(
                    "……共 {} 处错误，只列出前 {} 处",
                    self.total,
                    self.errors.len()
                ),
                Lang::En => format!(
                    "… {} errors in all; the first {} are listed",
                    self.total,
                    self.errors.len()
                ),
            });
        }
        lines.join("\n")
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

fn too_big(opts: &ImportOptions) -> ImportErrors {
    let mb = opts.max_bytes as f64 / (1024.0 * 1024.0);
    ImportErrors::file(Localized::new(
        format!("文件超过 {mb:.0} MB 的上限，请拆分后分批导入"),
        format!("the file is larger than the {mb:.0} MB limit; split it and import the parts"),
    ))
}

fn too_many_rows(opts: &ImportOptions, n: usize) -> ImportErrors {
    ImportErrors::file(Localized::new(
        format!(
            "文件有 {n} 行数据，超过每次 {} 行的上限，请拆分后分批导入",
            opts.max_rows
        ),
        format!(
            "the file has {n} data rows, more than the limit of {} per import; split it and import the parts",
            opts.max_rows
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// Parses and validates a CSV file (UTF-8 with or without BOM, UTF-16 with BOM, or GB18030/GBK as
/// Excel saves it on Chinese Windows; comma, semicolon or tab separated).
pub fn parse_csv<R: Read>(reader: R, kb: &KnowledgeBase) -> Result<ImportBatch, ImportErrors> {
    parse_csv_with(reader, kb, &ImportOptions::default(), &mut |_, _| {})
}

/// [`parse_csv`] with limits and a progress callback `(rows_done, rows_total)`.
pub fn parse_csv_with<R: Read>(
    reader: R,
    kb: &KnowledgeBase,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportBatch, ImportErrors> {
    let mut bytes = Vec::new();
    reader
        .take(opts.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            ImportErrors::file(Localized::new(
                format!("读取文件失败：{e}"),
                format!("could not read the file: {e}"),
            ))
        })?;
    if bytes.len() > opts.max_bytes {
        return Err(too_big(opts));
    }
    parse_csv_bytes(&bytes, kb, opts, progress)
}

/// Parses and validates an XLSX workbook: the sheet named like the template's data sheet if there
/// is one, else the first sheet.
pub fn parse_xlsx(bytes: &[u8], kb: &KnowledgeBase) -> Result<ImportBatch, ImportErrors> {
    parse_xlsx_with(bytes, kb, &ImportOptions::default(), &mut |_, _| {})
}

/// True when the bytes look like an XLSX (zip) file.
pub fn looks_like_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// True for the old binary Excel format (.xls, an OLE compound file).
fn looks_like_xls(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

fn old_excel() -> ImportErrors {
    ImportErrors::file(Localized::new(
        "这是旧版 Excel 97-2003 格式（.xls），请在 Excel 中另存为“Excel 工作簿（.xlsx）”后再导入",
        "this is the old Excel 97-2003 format (.xls); save it as an Excel workbook (.xlsx) and import that",
    ))
}

/// Either format, told apart by the content (an XLSX file is a zip archive).
pub fn parse_bytes_with(
    bytes: &[u8],
    kb: &KnowledgeBase,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportBatch, ImportErrors> {
    if looks_like_xlsx(bytes) {
        parse_xlsx_with(bytes, kb, opts, progress)
    } else {
        if bytes.len() > opts.max_bytes {
            return Err(too_big(opts));
        }
        parse_csv_bytes(bytes, kb, opts, progress)
    }
}

fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ImportErrors> {
    let bad = || {
        ImportErrors::file(Localized::new(
            "无法识别文件的文字编码：请另存为“CSV UTF-8”或 Excel 工作簿（.xlsx）",
            "the text encoding of the file is not recognised: save it as \"CSV UTF-8\" or as an Excel workbook (.xlsx)",
        ))
    };
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|_| bad());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let (s, had_errors) = encoding_rs::UTF_16LE.decode_without_bom_handling(rest);
        return if had_errors { Err(bad()) } else { Ok(s) };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let (s, had_errors) = encoding_rs::UTF_16BE.decode_without_bom_handling(rest);
        return if had_errors { Err(bad()) } else { Ok(s) };
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    let (s, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors { Err(bad()) } else { Ok(s) }
}

/// The separator most used on the first line: comma, tab or semicolon (comma on a tie).
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let count = |c: char| first.matches(c).count();
    let (comma, tab, semi) = (count(','), count('\t'), count(';'));
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma && semi > tab {
        b';'
    } else {
        b','
    }
}

fn parse_csv_bytes(
    bytes: &[u8],
    kb: &KnowledgeBase,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportBatch, ImportErrors> {
    if looks_like_xls(bytes) {
        return Err(old_excel());
    }
    if looks_like_xlsx(bytes) {
        return Err(ImportErrors::file(Localized::new(
            "这是 Excel 工作簿（.xlsx），不是 CSV 文件",
            "this is an Excel workbook (.xlsx), not a CSV file",
        )));
    }
    let text = decode(bytes)?;
    let delimiter = sniff_delimiter(&text);
    let builder = || {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false).flexible(true).delimiter(delimiter);
        b
    };
    let csv_error = |e: csv::Error| {
        ImportErrors::file(Localized::new(
            format!("CSV 格式有误：{e}"),
            format!("the CSV file is malformed: {e}"),
        ))
    };
    // First pass: count the records, for the row limit and the progress total.
    let mut records = 0usize;
    {
        let mut rdr = builder().from_reader(text.as_bytes());
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).map_err(csv_error)? {
            records += 1;
            if records > opts.max_rows + 1 {
                return Err(too_many_rows(opts, records - 1));
            }
        }
    }
    let total = records.saturating_sub(1);

    let cols = ColumnSet::new(kb);
    let mut v = Validator::new(kb, &cols, opts, FileFormat::Csv, None);
    let mut rdr = builder().from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    // Line breaks inside quoted cells move the line count but not the sheet row.
    let mut embedded = 0usize;
    let mut done = 0usize;
    let mut chunk: Vec<(usize, csv::StringRecord)> = Vec::with_capacity(CHUNK);
    while rdr.read_record(&mut rec).map_err(csv_error)? {
        // The reader's position is where it started reading this record: before any blank lines
        // it skipped, which a spreadsheet shows as empty rows.
        let (mut line, mut at) = rec
            .position()
            .map_or((0, 0), |p| (p.line() as usize, p.byte() as usize));
        let raw = text.as_bytes();
        while at < raw.len() && matches!(raw[at], b'\n' | b'\r') {
            if raw[at] == b'\n' {
                line += 1;
            }
            at += 1;
        }
        let row = line.saturating_sub(embedded).max(1);
        embedded += rec.iter().map(|f| f.matches('\n').count()).sum::<usize>();
        if !v.has_header() {
            let cells: Vec<Raw<'_>> = rec.iter().map(Raw::text).collect();
            if cells.iter().all(Raw::is_empty) {
                continue;
            }
            v.header(row, &cells);
            if v.fatal {
                return Err(v.into_errors());
            }
            continue;
        }
        chunk.push((row, std::mem::take(&mut rec)));
        if chunk.len() == CHUNK {
            done += chunk.len();
            v.csv_chunk(&chunk);
            chunk.clear();
            progress(done, total.max(done));
        }
    }
    done += chunk.len();
    v.csv_chunk(&chunk);
    progress(done, total.max(done));
    v.finish()
}

/// Rows are checked in chunks of this many, in parallel (the results are taken in file order).
const CHUNK: usize = 2048;

/// [`parse_xlsx`] with limits and a progress callback `(rows_done, rows_total)`; the total is the
/// sheet's declared size, so it can include trailing empty rows.
pub fn parse_xlsx_with(
    bytes: &[u8],
    kb: &KnowledgeBase,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ImportBatch, ImportErrors> {
    if bytes.len() > opts.max_bytes {
        return Err(too_big(opts));
    }
    if looks_like_xls(bytes) {
        return Err(old_excel());
    }
    let not_xlsx = |e: &dyn fmt::Display| {
        ImportErrors::file(Localized::new(
            format!("无法读取这个 Excel 文件（需要 .xlsx 格式）：{e}"),
            format!("this Excel file cannot be read (an .xlsx file is needed): {e}"),
        ))
    };
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| not_xlsx(&e))?;
    let names = wb.sheet_names();
    let sheet = names
        .iter()
        .find(|n| TEMPLATE_SHEETS.contains(&n.as_str()))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| {
            ImportErrors::file(Localized::new(
                "工作簿里没有工作表",
                "the workbook has no worksheet",
            ))
        })?;
    let cols = ColumnSet::new(kb);
    let mut v = Validator::new(kb, &cols, opts, FileFormat::Xlsx, Some(sheet.clone()));
    let mut rdr = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|e| not_xlsx(&e))?;
    let dims = rdr.dimensions();
    let declared = (dims.end.0.saturating_sub(dims.start.0)) as usize;

    let mut st = XlsxState {
        buf: Vec::new(),
        chunk: Vec::with_capacity(CHUNK),
        beyond: None,
        done: 0,
        header_row: 0,
        declared,
    };
    let mut cur: Option<u32> = None;
    loop {
        let cell = match rdr.next_cell() {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => return Err(not_xlsx(&e)),
        };
        let (r, c) = cell.get_position();
        if cur != Some(r) {
            if let Some(prev) = cur {
                st.flush(&mut v, prev, opts, progress)?;
                if v.fatal {
                    return Err(v.into_errors());
                }
            }
            cur = Some(r);
        }
        let value = convert(cell.get_value());
        let c = c as usize;
        // Cells right of the header are an error, never buffered (bounded memory).
        let width = v.header_width().unwrap_or(MAX_COLS);
        if c >= width {
            if value != RawOwned::Empty && st.beyond.is_none() {
                st.beyond = Some(c);
            }
            continue;
        }
        if st.buf.len() <= c {
            st.buf.resize(c + 1, RawOwned::Empty);
        }
        st.buf[c] = value;
    }
    if let Some(prev) = cur {
        st.flush(&mut v, prev, opts, progress)?;
        if v.fatal {
            return Err(v.into_errors());
        }
    }
    if !v.has_header() {
        return Err(empty_file());
    }
    st.drain(&mut v, progress);
    progress(st.done, st.done);
    v.finish()
}

/// Excel's widest sheet.
const MAX_COLS: usize = 16_384;

struct XlsxState {
    buf: Vec<RawOwned>,
    chunk: Vec<(usize, Vec<RawOwned>, Option<usize>)>,
    beyond: Option<usize>,
    done: usize,
    header_row: usize,
    declared: usize,
}

impl XlsxState {
    fn flush(
        &mut self,
        v: &mut Validator<'_>,
        row: u32,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(), ImportErrors> {
        let row = row as usize + 1;
        if !v.has_header() {
            let cells: Vec<Raw<'_>> = self.buf.iter().map(RawOwned::as_raw).collect();
            if !cells.iter().all(Raw::is_empty) {
                v.header(row, &cells);
                self.header_row = row;
            }
            self.buf.clear();
        } else {
            self.done += 1;
            if self.done > opts.max_rows {
                return Err(too_many_rows(opts, self.done));
            }
            self.chunk
                .push((row, std::mem::take(&mut self.buf), self.beyond.take()));
            if self.chunk.len() == CHUNK {
                self.drain(v, progress);
            }
        }
        self.beyond = None;
        Ok(())
    }

    fn drain(&mut self, v: &mut Validator<'_>, progress: &mut dyn FnMut(usize, usize)) {
        v.owned_chunk(&self.chunk);
        self.chunk.clear();
        let total = self
            .declared
            .saturating_sub(self.header_row.saturating_sub(1))
            .max(self.done);
        progress(self.done, total);
    }
}

fn convert(d: &DataRef<'_>) -> RawOwned {
    match d {
        DataRef::Int(i) => RawOwned::Num(*i as f64),
        DataRef::Float(f) => RawOwned::Num(*f),
        DataRef::String(s) => RawOwned::Text(s.clone()),
        DataRef::SharedString(s) => RawOwned::Text((*s).to_string()),
        DataRef::Bool(b) => RawOwned::Bool(*b),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            RawOwned::Date(i32::from(y), u32::from(m), u32::from(d))
        }
        DataRef::DateTime(dt) => RawOwned::Num(dt.as_f64()),
        DataRef::DateTimeIso(s) => RawOwned::Text(s.split('T').next().unwrap_or(s).to_string()),
        DataRef::DurationIso(s) => RawOwned::Text(s.clone()),
        DataRef::Error(e) => RawOwned::Error(e.to_string()),
        DataRef::Empty => RawOwned::Empty,
    }
}

fn empty_file() -> ImportErrors {
    ImportErrors::file(Localized::new(
        "文件是空的：第一行应为表头（可下载模板）",
        "the file is empty: the first row must be the header (download the template)",
    ))
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

struct Header {
    /// File position → column index.
    pos_col: Vec<Option<usize>>,
    /// Column index → file position.
    col_pos: Vec<Option<usize>>,
    /// File position → header as written.
    written: Vec<String>,
    lang: Option<Lang>,
}

/// Lookups built once per file.
struct Lookups {
    /// Per question: normalised option id or text → option id.
    options: Vec<HashMap<String, String>>,
    /// Normalised scenario id or name (the 42) → id.
    scenarios: HashMap<String, String>,
    complexity: HashMap<String, String>,
    position: HashMap<String, String>,
}

impl Lookups {
    fn new(kb: &KnowledgeBase, cols: &ColumnSet) -> Lookups {
        let options = kb
            .questionnaire
            .question
            .iter()
            .map(|q| {
                let mut m = HashMap::new();
                for o in &q.option {
                    m.insert(header_key(&o.id), o.id.clone());
                    m.entry(header_key(&o.text.zh))
                        .or_insert_with(|| o.id.clone());
                    m.entry(header_key(&o.text.en))
                        .or_insert_with(|| o.id.clone());
                }
                m
            })
            .collect();
        let mut scenarios = HashMap::new();
        for s in &kb.scenarios {
            scenarios.insert(header_key(&s.id), s.id.clone());
            scenarios
                .entry(header_key(&s.name.zh))
                .or_insert_with(|| s.id.clone());
            scenarios
                .entry(header_key(&s.name.en))
                .or_insert_with(|| s.id.clone());
        }
        let choice_map = |f: Field| {
            let mut m = HashMap::new();
            for c in &cols.columns[cols.field(f)].choices {
                m.insert(header_key(&c.id), c.id.clone());
                m.insert(header_key(&c.text.zh), c.id.clone());
                m.insert(header_key(&c.text.en), c.id.clone());
                for a in &c.aliases {
                    m.insert(header_key(a), c.id.clone());
                }
            }
            m
        };
        Lookups {
            options,
            scenarios,
            complexity: choice_map(Field::ProductComplexity),
            position: choice_map(Field::ChainPosition),
        }
    }
}

/// What one row produced.
struct RowOutcome {
    row: Option<ImportRow>,
    /// The row's credit code when it is well-formed, even if other cells are wrong.
    credit_code: Option<String>,
    errors: Vec<RowError>,
}

struct Validator<'a> {
    kb: &'a KnowledgeBase,
    cols: &'a ColumnSet,
    lookups: Lookups,
    opts: ImportOptions,
    format: FileFormat,
    sheet: Option<String>,
    header: Option<Header>,
    /// The header is unusable (required columns missing): rows are not checked.
    fatal: bool,
    errors: Vec<RowError>,
    total_errors: usize,
    rows: Vec<ImportRow>,
    credit_seen: HashMap<String, usize>,
    skipped: usize,
}

impl<'a> Validator<'a> {
    fn new(
        kb: &'a KnowledgeBase,
        cols: &'a ColumnSet,
        opts: &ImportOptions,
        format: FileFormat,
        sheet: Option<String>,
    ) -> Validator<'a> {
        Validator {
            kb,
            cols,
            lookups: Lookups::new(kb, cols),
            opts: *opts,
            format,
            sheet,
            header: None,
            fatal: false,
            errors: Vec::new(),
            total_errors: 0,
            rows: Vec::new(),
            credit_seen: HashMap::new(),
            skipped: 0,
        }
    }

    fn has_header(&self) -> bool {
        self.header.is_some()
    }

    fn header_width(&self) -> Option<usize> {
        self.header.as_ref().map(|h| h.pos_col.len())
    }

    fn push_error(&mut self, e: RowError) {
        self.total_errors += 1;
        if self.errors.len() < self.opts.max_errors {
            self.errors.push(e);
        }
    }

    /// Reads the header row; sets `fatal` when rows cannot be checked (required columns missing).
    fn header(&mut self, row: usize, cells: &[Raw<'_>]) {
        let cols = self.cols;
        let mut h = Header {
            pos_col: vec![None; cells.len()],
            col_pos: vec![None; cols.columns.len()],
            written: vec![String::new(); cells.len()],
            lang: None,
        };
        let (mut zh, mut en) = (0, 0);
        let mut errors = Vec::new();
        for (p, raw) in cells.iter().enumerate() {
            let Some(text) = raw.to_text() else { continue };
            h.written[p] = text.clone();
            match cols.resolve(&text) {
                Some((ci, form)) => {
                    if let Some(first) = h.col_pos[ci] {
                        errors.push(RowError {
                            row,
                            column: Some(cols.columns[ci].id.clone()),
                            header: Some(text.clone()),
                            column_index: Some(p + 1),
                            message: Localized::new(
                                format!("列重复：与 {} 列是同一列", column_letter(first + 1)),
                                format!(
                                    "duplicate column: the same as column {}",
                                    column_letter(first + 1)
                                ),
                            ),
                            suggestion: None,
                        });
                        continue;
                    }
                    h.col_pos[ci] = Some(p);
                    h.pos_col[p] = Some(ci);
                    match form {
                        HeaderForm::Zh => zh += 1,
                        HeaderForm::En => en += 1,
                        HeaderForm::Id => {}
                    }
                }
                None => errors.push(RowError {
                    row,
                    column: None,
                    header: Some(text.clone()),
                    column_index: Some(p + 1),
                    message: Localized::new(
                        format!("未知的列“{text}”"),
                        format!("unknown column \"{text}\""),
                    ),
                    suggestion: cols.suggest(&text),
                }),
            }
        }
        h.lang = match (zh, en) {
            (0, 0) => None,
            (z, e) if z >= e => Some(Lang::Zh),
            _ => Some(Lang::En),
        };
        let missing: Vec<&Column> = cols
            .columns
            .iter()
            .enumerate()
            .filter(|(i, c)| c.required && h.col_pos[*i].is_none())
            .map(|(_, c)| c)
            .collect();
        if !missing.is_empty() {
            self.fatal = true;
            errors.insert(
                0,
                RowError {
                    row: 0,
                    column: None,
                    header: None,
                    column_index: None,
                    message: Localized::new(
                        format!("表头缺少必填列：{}", list_zh(&missing)),
                        format!("the header lacks required columns: {}", list_en(&missing)),
                    ),
                    suggestion: None,
                },
            );
        }
        // The columns of one question come together: a ratio needs both figures, a trend all of its.
        for group in &cols.question_cols {
            let present: Vec<usize> = group
                .iter()
                .copied()
                .filter(|&c| h.col_pos[c].is_some())
                .collect();
            if !present.is_empty() && present.len() < group.len() {
                self.fatal = true;
                let absent: Vec<&Column> = group
                    .iter()
                    .filter(|&&c| h.col_pos[c].is_none())
                    .map(|&c| &cols.columns[c])
                    .collect();
                errors.push(RowError {
                    row: 0,
                    column: Some(cols.columns[present[0]].id.clone()),
                    header: None,
                    column_index: None,
                    message: Localized::new(
                        format!("这道题的各列要一起出现，表头还缺少：{}", list_zh(&absent)),
                        format!(
                            "the columns of this question come together; the header also needs: {}",
                            list_en(&absent)
                        ),
                    ),
                    suggestion: None,
                });
            }
        }
        for e in errors {
            self.push_error(e);
        }
        self.header = Some(h);
    }

    /// Checks one row; None for an empty row.
    fn check(&self, row: usize, cells: &[Raw<'_>], beyond: Option<usize>) -> Option<RowOutcome> {
        if cells.iter().all(Raw::is_empty) && beyond.is_none() {
            return None;
        }
        Some(self.check_row(row, cells, beyond))
    }

    fn take(&mut self, outcomes: Vec<(usize, Option<RowOutcome>)>) {
        for (row, o) in outcomes {
            match o {
                None => self.skipped += 1,
                Some(o) => self.accept(row, o),
            }
        }
    }

    fn csv_chunk(&mut self, chunk: &[(usize, csv::StringRecord)]) {
        let outcomes: Vec<(usize, Option<RowOutcome>)> = chunk
            .par_iter()
            .map(|(row, rec)| {
                let cells: Vec<Raw<'_>> = rec.iter().map(Raw::text).collect();
                (*row, self.check(*row, &cells, None))
            })
            .collect();
        self.take(outcomes);
    }

    fn owned_chunk(&mut self, chunk: &[(usize, Vec<RawOwned>, Option<usize>)]) {
        let outcomes: Vec<(usize, Option<RowOutcome>)> = chunk
            .par_iter()
            .map(|(row, buf, beyond)| {
                let cells: Vec<Raw<'_>> = buf.iter().map(RawOwned::as_raw).collect();
                (*row, self.check(*row, &cells, *beyond))
            })
            .collect();
        self.take(outcomes);
    }

    fn accept(&mut self, row: usize, outcome: RowOutcome) {
        let RowOutcome {
            row: good,
            credit_code,
            errors,
        } = outcome;
        for e in errors {
            self.push_error(e);
        }
        if let Some(code) = credit_code {
            if let Some(&first) = self.credit_seen.get(&code) {
                let ci = self.cols.field(Field::CreditCode);
                let pos = self.header.as_ref().and_then(|h| h.col_pos[ci]);
                let written = pos.and_then(|p| self.header.as_ref().map(|h| h.written[p].clone()));
                let make = |at: usize, other: usize| RowError {
                    row: at,
                    column: Some(Field::CreditCode.id().to_string()),
                    header: written.clone(),
                    column_index: pos.map(|p| p + 1),
                    message: Localized::new(
                        format!("统一社会信用代码“{code}”与第 {other} 行重复"),
                        format!(
                            "the unified social credit code \"{code}\" also appears in row {other}"
                        ),
                    ),
                    suggestion: None,
                };
                let (a, b) = (make(first, row), make(row, first));
                self.push_error(a);
                self.push_error(b);
            } else {
                self.credit_seen.insert(code, row);
            }
        }
        match good {
            Some(r) if self.total_errors == 0 => self.rows.push(r),
            // The file is rejected anyway; keep memory flat.
            _ => self.rows.clear(),
        }
    }

    fn into_errors(self) -> ImportErrors {
        let mut errors = self.errors;
        errors.sort_by_key(|e| (e.row, e.column_index.unwrap_or(0)));
        ImportErrors {
            errors,
            total: self.total_errors,
        }
    }

    fn finish(self) -> Result<ImportBatch, ImportErrors> {
        let Some(header) = &self.header else {
            return Err(empty_file());
        };
        if self.total_errors > 0 {
            return Err(self.into_errors());
        }
        let columns = header
            .pos_col
            .iter()
            .flatten()
            .map(|&ci| self.cols.columns[ci].id.clone())
            .collect();
        Ok(ImportBatch {
            format: self.format,
            sheet: self.sheet,
            header_lang: header.lang,
            columns,
            rows: self.rows,
            skipped_empty_rows: self.skipped,
        })
    }

    fn check_row(&self, row: usize, cells: &[Raw<'_>], beyond: Option<usize>) -> RowOutcome {
        let (kb, cols, lk) = (self.kb, self.cols, &self.lookups);
        let Some(h) = self.header.as_ref() else {
            return RowOutcome {
                row: None,
                credit_code: None,
                errors: vec![],
            };
        };
        let mut e = RowErrs {
            row,
            errors: Vec::new(),
            cols,
            header: h,
        };
        let get = |ci: usize| -> Raw<'_> {
            match h.col_pos[ci] {
                Some(p) if p < cells.len() => cells[p],
                _ => Raw::Empty,
            }
        };
        // Cells with no header above them.
        let unheaded = cells
            .iter()
            .enumerate()
            .find(|(p, raw)| {
                !raw.is_empty()
                    && h.pos_col.get(*p).copied().flatten().is_none()
                    && h.written.get(*p).is_none_or(|w| w.is_empty())
            })
            .map(|(p, _)| p)
            .or(beyond);
        if let Some(p) = unheaded {
            e.errors.push(RowError {
                row,
                column: None,
                header: None,
                column_index: Some(p + 1),
                message: Localized::new(
                    "这一格有内容，但所在列没有表头",
                    "this cell has content but its column has no header",
                ),
                suggestion: None,
            });
        }

        // --- enterprise fields ---------------------------------------------------------------
        let fc = |f: Field| cols.field(f);
        let text = |f: Field| get(fc(f)).to_text();
        let name = text(Field::EnterpriseName);
        if name.is_none() {
            e.push(
                fc(Field::EnterpriseName),
                Localized::new(
                    "必填：企业名称不能为空",
                    "required: the enterprise name is empty",
                ),
                None,
            );
        }
        let credit_code = match get(fc(Field::CreditCode)) {
            Raw::Empty => None,
            Raw::Num(_) => {
                e.push(fc(Field::CreditCode), read_as_number(), None);
                None
            }
            Raw::Text(s) if looks_scientific(s) => {
                e.push(fc(Field::CreditCode), read_as_number(), None);
                None
            }
            raw => match credit::validate_credit_code(&raw.to_text().unwrap_or_default()) {
                Ok(c) => Some(c),
                Err(m) => {
                    e.push(fc(Field::CreditCode), m, None);
                    None
                }
            },
        };
        let region = match get(fc(Field::Region)) {
            Raw::Empty => {
                e.push(
                    fc(Field::Region),
                    Localized::new(
                        "必填：行政区划代码（6 位，如 320506）不能为空",
                        "required: the six-digit region code (e.g. 320506) is empty",
                    ),
                    None,
                );
                String::new()
            }
            raw => match credit::validate_region(&raw.to_text().unwrap_or_default()) {
                Ok(r) => r,
                Err(m) => {
                    e.push(fc(Field::Region), m, None);
                    String::new()
                }
            },
        };
        let cluster = text(Field::Cluster).and_then(|c| {
            if c.chars().count() > MAX_CLUSTER || c.chars().any(char::is_control) {
                e.push(
                    fc(Field::Cluster),
                    Localized::new(
                        format!("产业集群编号最多 {MAX_CLUSTER} 个字符，且不能含控制字符"),
                        format!("a cluster id has at most {MAX_CLUSTER} characters and no control characters"),
                    ),
                    None,
                );
                None
            } else {
                Some(c)
            }
        });
        let assessed_on = match get(fc(Field::AssessedOn)) {
            Raw::Empty => None,
            raw => match cell::date(raw) {
                Ok(d) => Some(d),
                Err(m) => {
                    e.push(fc(Field::AssessedOn), m, None);
                    None
                }
            },
        };

        // --- the profile document ------------------------------------------------------------
        let mut p: BTreeMap<String, Value> = BTreeMap::new();
        if let Some(n) = &name {
            p.insert("name".into(), Value::Str(n.clone()));
        }
        if let Some(ind) = text(Field::Industry) {
            p.insert("industry".into(), Value::Str(ind));
        }
        match get(fc(Field::Employees)) {
            Raw::Empty => {}
            raw => match cell::number(raw, MAX_EMPLOYEES, false) {
                Ok(x) if x.fract() != 0.0 => e.push(
                    fc(Field::Employees),
                    Localized::new(
                        format!("从业人员应为整数（填写的是 {}）", cell::fmt_num(x)),
                        format!(
                            "employees must be a whole number (got {})",
                            cell::fmt_num(x)
                        ),
                    ),
                    None,
                ),
                Ok(x) => {
                    p.insert("employees".into(), num_value(x));
                }
                Err(m) => e.push(fc(Field::Employees), m, None),
            },
        }
        for (f, key) in [
            (Field::RevenueWan, "revenue"),
            (Field::AssetsWan, "assets"),
            (Field::BudgetWan, "budget"),
        ] {
            match get(fc(f)) {
                Raw::Empty => {}
                raw => match cell::number(raw, MAX_WAN, false) {
                    Ok(x) => {
                        p.insert(key.into(), num_value(wan_to_yuan(x)));
                    }
                    Err(m) => e.push(fc(f), m, None),
                },
            }
        }
        for (f, key, map) in [
            (
                Field::ProductComplexity,
                "product_complexity",
                &lk.complexity,
            ),
            (Field::ChainPosition, "chain_position", &lk.position),
        ] {
            if let Some(t) = text(f) {
                match map.get(&header_key(&t)) {
                    Some(id) => {
                        p.insert(key.into(), Value::Str(id.clone()));
                    }
                    None => {
                        let c = &cols.columns[fc(f)];
                        let zh: Vec<&str> = c.choices.iter().map(|x| x.text.zh.as_str()).collect();
                        let ids: Vec<&str> = c.choices.iter().map(|x| x.id.as_str()).collect();
                        e.push(
                            fc(f),
                            Localized::new(
                                format!(
                                    "“{t}”不是可选值，可选：{}（或 {}）",
                                    zh.join("、"),
                                    ids.join("、")
                                ),
                                format!(
                                    "\"{t}\" is not one of {} (or {})",
                                    ids.join(", "),
                                    zh.join(", ")
                                ),
                            ),
                            profile::suggest(&t, ids.iter().copied()),
                        );
                    }
                }
            }
        }
        for (f, key) in [
            (Field::InCluster, "in_cluster"),
            (Field::SuppliesChainLeader, "supplies_chain_leader"),
            (Field::UsesPlatform, "uses_platform"),
        ] {
            match get(fc(f)) {
                Raw::Empty => {}
                raw => match cell::boolean(raw) {
                    Ok(b) => {
                        p.insert(key.into(), Value::Bool(b));
                    }
                    Err(m) => e.push(fc(f), m, None),
                },
            }
        }
        if let Some(t) = text(Field::Adopted) {
            let items = cell::split_list(&t, |s| lk.scenarios.get(&header_key(s)).cloned());
            if !items.is_empty() {
                p.insert(
                    "adopted".into(),
                    Value::List(items.into_iter().map(Value::Str).collect()),
                );
            }
        }
        if let Some(t) = text(Field::PainPoints) {
            p.insert("pain_points".into(), Value::Str(t));
        }
        let profile_doc = Value::Table(p);
        if let Err(errs) = profile::validate(kb, &profile_doc) {
            for fe in errs.0 {
                let base = fe.field.split('[').next().unwrap_or(&fe.field);
                let col = Field::ALL
                    .iter()
                    .find(|f| f.profile_field() == Some(base))
                    .map(|&f| fc(f));
                let message = Localized::new(
                    fe.message
                        .zh
                        .replace("营业收入（元）", "营业收入（万元）")
                        .replace("资产总额（元）", "资产总额（万元）"),
                    fe.message.en,
                );
                match col {
                    Some(c) => {
                        if !e.has(c) {
                            e.push(c, message, fe.suggestion);
                        }
                    }
                    None => e.errors.push(RowError {
                        row,
                        column: None,
                        header: None,
                        column_index: None,
                        message,
                        suggestion: fe.suggestion,
                    }),
                }
            }
        }

        // --- the answers document ------------------------------------------------------------
        let q = &kb.questionnaire;
        let mut a: BTreeMap<String, Value> = BTreeMap::new();
        for (qi, question) in q.question.iter().enumerate() {
            let group = &cols.question_cols[qi];
            match question.kind {
                QuestionKind::Single => {
                    let Some(&c) = group.first() else { continue };
                    if let Some(t) = get(c).to_text() {
                        let id = lk.options[qi].get(&header_key(&t)).cloned().unwrap_or(t);
                        a.insert(question.id.clone(), Value::Str(id));
                    }
                }
                QuestionKind::Multi => {
                    let Some(&c) = group.first() else { continue };
                    if let Some(t) = get(c).to_text() {
                        let items = if is_none_token(&t) {
                            Vec::new()
                        } else {
                            cell::split_list(&t, |s| lk.options[qi].get(&header_key(s)).cloned())
                        };
                        a.insert(
                            question.id.clone(),
                            Value::List(items.into_iter().map(Value::Str).collect()),
                        );
                    }
                }
                QuestionKind::Ratio | QuestionKind::Trend => {
                    let filled: Vec<bool> = group.iter().map(|&c| !get(c).is_empty()).collect();
                    if !filled.iter().any(|&x| x) {
                        continue;
                    }
                    let mut ok = true;
                    let mut nums: Vec<f64> = Vec::with_capacity(group.len());
                    for (&c, &f) in group.iter().zip(&filled) {
                        if !f {
                            ok = false;
                            let filled_names: Vec<String> = group
                                .iter()
                                .zip(&filled)
                                .filter(|&(_, &x)| x)
                                .map(|(&o, _)| {
                                    h.col_pos[o].map_or_else(
                                        || cols.columns[o].id.clone(),
                                        |p| h.written[p].clone(),
                                    )
                                })
                                .collect();
                            e.push(
                                c,
                                Localized::new(
                                    format!(
                                        "这道题的各栏要一起填写：“{}”已填，这一栏却空着",
                                        filled_names.join("”“")
                                    ),
                                    format!(
                                        "the columns of this question are filled in together: \"{}\" filled, this one empty",
                                        filled_names.join("\", \"")
                                    ),
                                ),
                                None,
                            );
                            continue;
                        }
                        let percent = cols.columns[c].header.zh.contains('%');
                        match cell::number(get(c), MAX_FIGURE, percent) {
                            Ok(x) => nums.push(x),
                            Err(m) => {
                                ok = false;
                                e.push(c, m, None);
                            }
                        }
                    }
                    if ok {
                        a.insert(
                            question.id.clone(),
                            figures_value(cols, group, &nums, q, qi),
                        );
                    }
                }
            }
        }
        let mut scen: BTreeMap<String, Value> = BTreeMap::new();
        for (si, s) in q.scenario.iter().enumerate() {
            let c = cols.scenario_cols[si];
            let raw = get(c);
            if raw.is_empty() {
                continue;
            }
            match level_value(raw) {
                Ok(v) => {
                    scen.insert(s.id.clone(), v);
                }
                Err(m) => e.push(c, m, None),
            }
        }
        if !scen.is_empty() {
            a.insert("scenarios".into(), Value::Table(scen));
        }
        let mut obst: BTreeMap<String, Value> = BTreeMap::new();
        for (oi, o) in q.obstacle_question.iter().enumerate() {
            let c = cols.obstacle_cols[oi];
            let raw = get(c);
            if raw.is_empty() {
                continue;
            }
            match cell::boolean(raw) {
                Ok(b) => {
                    obst.insert(o.id.clone(), Value::Bool(b));
                }
                Err(m) => e.push(c, m, None),
            }
        }
        if !obst.is_empty() {
            a.insert("obstacles".into(), Value::Table(obst));
        }
        let has_answers = !a.is_empty();
        let answers_doc = Value::Table(a);
        if let Err(errs) = assessment::parse_answers(q, &answers_doc) {
            for ae in errs.0 {
                let c = answer_column(kb, cols, &ae.question, &ae.message.en);
                let message = with_labels(kb, &ae.question, ae.message);
                match c {
                    Some(c) => {
                        if !e.has(c) {
                            e.push(c, message, ae.suggestion);
                        }
                    }
                    None => e.errors.push(RowError {
                        row,
                        column: None,
                        header: None,
                        column_index: None,
                        message,
                        suggestion: ae.suggestion,
                    }),
                }
            }
        }

        if !e.errors.is_empty() {
            return RowOutcome {
                row: None,
                credit_code,
                errors: e.errors,
            };
        }
        RowOutcome {
            credit_code: credit_code.clone(),
            row: Some(ImportRow {
                row,
                enterprise: EnterpriseFields {
                    name: name.unwrap_or_default(),
                    credit_code,
                    region,
                    cluster,
                    assessed_on,
                },
                profile_json: crate::json::to_json_string(&profile_doc),
                answers_json: crate::json::to_json_string(&answers_doc),
                has_answers,
            }),
            errors: vec![],
        }
    }
}

struct RowErrs<'h> {
    row: usize,
    errors: Vec<RowError>,
    cols: &'h ColumnSet,
    header: &'h Header,
}

impl RowErrs<'_> {
    fn push(&mut self, col: usize, message: Localized, suggestion: Option<String>) {
        let pos = self.header.col_pos[col];
        self.errors.push(RowError {
            row: self.row,
            column: Some(self.cols.columns[col].id.clone()),
            header: pos.map(|p| self.header.written[p].clone()),
            column_index: pos.map(|p| p + 1),
            message,
            suggestion,
        });
    }
    fn has(&self, col: usize) -> bool {
        let id = &self.cols.columns[col].id;
        self.errors.iter().any(|e| e.column.as_ref() == Some(id))
    }
}

fn list_zh(cols: &[&Column]) -> String {
    cols.iter()
        .map(|c| format!("{}（{}）", c.header.zh, c.id))
        .collect::<Vec<_>>()
        .join("、")
}

fn list_en(cols: &[&Column]) -> String {
    cols.iter()
        .map(|c| format!("{} ({})", c.header.en, c.id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_as_number() -> Localized {
    Localized::new(
        "统一社会信用代码被读成了数字（可能已丢失位数）：请把这一列设为“文本”格式后重新填写",
        "the unified social credit code was read as a number (digits may be lost): format the column as text and enter it again",
    )
}

/// `9.13205E+17` and the like: what a spreadsheet makes of a long digit string.
fn looks_scientific(s: &str) -> bool {
    let u = s.to_ascii_uppercase();
    u.contains("E+") && cell::parse_number_text(s, false).is_some()
}

fn is_none_token(t: &str) -> bool {
    matches!(
        header_key(t).as_str(),
        "无" | "没有" | "都没有" | "none" | "-" | "—" | "[]" | "n/a"
    )
}

/// An integer value when the number is whole, else a float.
pub(crate) fn num_value(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    }
}

/// 万元 → yuan, rounded to the fen.
pub(crate) fn wan_to_yuan(x: f64) -> f64 {
    (x * 1_000_000.0).round() / 100.0
}

/// A scenario level: a whole number 0–4 (also `L2`); other numbers are left for the engine to
/// reject with its own message.
fn level_value(raw: Raw<'_>) -> Result<Value, Localized> {
    let x = match raw {
        Raw::Num(x) => x,
        Raw::Text(s) => {
            let t = s.trim().trim_start_matches(['L', 'l']);
            cell::parse_number_text(t, false).ok_or_else(|| {
                Localized::new(
                    format!("“{s}”不是 0–4 的等级"),
                    format!("\"{s}\" is not a level from 0 to 4"),
                )
            })?
        }
        other => {
            let shown = other.to_text().unwrap_or_default();
            return Err(Localized::new(
                format!("“{shown}”不是 0–4 的等级"),
                format!("\"{shown}\" is not a level from 0 to 4"),
            ));
        }
    };
    if !x.is_finite() {
        return Err(Localized::new("数字超出范围", "the number is out of range"));
    }
    Ok(if x.fract() == 0.0 && x.abs() < 1e15 {
        Value::Int(x as i64)
    } else {
        Value::Float(x)
    })
}

/// The answer table of a ratio or trend question from its figures (in column order).
fn figures_value(
    cols: &ColumnSet,
    group: &[usize],
    nums: &[f64],
    q: &assessment::Questionnaire,
    qi: usize,
) -> Value {
    let question = &q.question[qi];
    let mut t: BTreeMap<String, Value> = BTreeMap::new();
    let mut before: BTreeMap<String, Value> = BTreeMap::new();
    let mut after: BTreeMap<String, Value> = BTreeMap::new();
    for (&c, &x) in group.iter().zip(nums) {
        match cols.columns[c].kind {
            ColumnKind::Ratio { part, .. } => {
                if let Some(spec) = &question.ratio {
                    let id = match part {
                        RatioPart::Numerator => &spec.numerator.id,
                        RatioPart::Denominator => &spec.denominator.id,
                    };
                    t.insert(id.clone(), num_value(x));
                }
            }
            ColumnKind::Trend { period, part, .. } => match (part, &question.trend) {
                (None, _) => {
                    t.insert(period.id().to_string(), num_value(x));
                }
                (Some(part), Some(spec)) => {
                    let id = match (part, &spec.base) {
                        (TrendPart::Base, Some(b)) => b.id.clone(),
                        _ => spec.value.id.clone(),
                    };
                    let m = match period {
                        crate::columns::Period::Before => &mut before,
                        crate::columns::Period::After => &mut after,
                    };
                    m.insert(id, num_value(x));
                }
                (Some(_), None) => {}
            },
            _ => {}
        }
    }
    if !before.is_empty() || !after.is_empty() {
        t.insert("before".into(), Value::Table(before));
        t.insert("after".into(), Value::Table(after));
    }
    Value::Table(t)
}

/// The engine names a question's figures by id ("digital" cannot exceed "total"); a spreadsheet
/// user knows them by their labels.
fn with_labels(kb: &KnowledgeBase, field: &str, m: Localized) -> Localized {
    let qid = field.split('.').next().unwrap_or(field);
    let Some(q) = kb.questionnaire.question(qid) else {
        return m;
    };
    let mut fields: Vec<&assessment::InputField> = Vec::new();
    if let Some(r) = &q.ratio {
        fields.extend([&r.numerator, &r.denominator]);
    }
    if let Some(t) = &q.trend {
        fields.push(&t.value);
        fields.extend(t.base.iter());
    }
    let (mut zh, mut en) = (m.zh, m.en);
    for f in fields {
        zh = zh.replace(&format!("“{}”", f.id), &format!("“{}”", f.label.zh));
        en = en.replace(&format!("\"{}\"", f.id), &format!("\"{}\"", f.label.en));
    }
    Localized::new(zh, en)
}

/// The column an answer error belongs to: the question's column; for a question with several
/// columns, the one whose figure the message quotes first (limited to the period the error names).
fn answer_column(
    kb: &KnowledgeBase,
    cols: &ColumnSet,
    field: &str,
    message_en: &str,
) -> Option<usize> {
    let q = &kb.questionnaire;
    if let Some(sid) = field.strip_prefix("scenarios.") {
        let si = q.scenario.iter().position(|s| s.id == sid)?;
        return Some(cols.scenario_cols[si]);
    }
    if let Some(oid) = field.strip_prefix("obstacles.") {
        let oi = q.obstacle_question.iter().position(|o| o.id == oid)?;
        return Some(cols.obstacle_cols[oi]);
    }
    let (qid, period) = match field.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (field, None),
    };
    let qi = q.question.iter().position(|x| x.id == qid)?;
    let question = &q.question[qi];
    let group: Vec<usize> = cols.question_cols[qi]
        .iter()
        .copied()
        .filter(|&c| match (cols.columns[c].kind, period) {
            (ColumnKind::Trend { period: p, .. }, Some(want)) => p.id() == want,
            _ => true,
        })
        .collect();
    if group.len() <= 1 {
        return group.first().copied();
    }
    let token = |c: usize| -> Option<String> {
        match cols.columns[c].kind {
            ColumnKind::Ratio { part, .. } => question.ratio.as_ref().map(|s| match part {
                RatioPart::Numerator => s.numerator.id.clone(),
                RatioPart::Denominator => s.denominator.id.clone(),
            }),
            ColumnKind::Trend {
                period, part: None, ..
            } => Some(period.id().to_string()),
            ColumnKind::Trend {
                part: Some(part), ..
            } => question.trend.as_ref().map(|s| match (part, &s.base) {
                (TrendPart::Base, Some(b)) => b.id.clone(),
                _ => s.value.id.clone(),
            }),
            _ => None,
        }
    };
    group
        .iter()
        .filter_map(|&c| {
            let t = token(c)?;
            message_en.find(&format!("\"{t}\"")).map(|at| (at, c))
        })
        .min()
        .map(|(_, c)| c)
        .or_else(|| group.first().copied())
}
