//! Exporting tables (dashboard tables, the enterprise list, import-format rows) to CSV and XLSX.
//!
//! **Formula injection.** A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return would be run as a formula by a spreadsheet program opening a CSV file. In CSV such a cell
//! is written with a leading apostrophe (`'=1+1`); in XLSX every text cell is written as a string
//! (never as a formula), so its text is kept as it is. The importer removes the apostrophe again.
//!
//! **Suppression.** A table marked `public` writes suppressed cells (and the numbers of suppressed
//! rows) as "—" and adds a note under the table; a table that is not public (an operator's own
//! export) writes the real values.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Write;

use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet};
use serde::{Deserialize, Serialize};

use crate::cell::is_formula_start;

/// What a suppressed value is written as.
pub const SUPPRESSED_MARK: &str = "—";

/// The note added under a public table with suppressed values, when the table gives none.
pub const DEFAULT_NOTE: &str = "注：“—”表示该分组企业数过少，为避免识别出单个企业已隐去。 Note: \"—\" marks groups too small to show without singling out a firm.";

/// The UTF-8 byte-order mark [`write_csv`] starts with (Excel needs it to read Chinese text).
pub const UTF8_BOM: &str = "\u{FEFF}";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    Text(String),
    Int(i64),
    Float(f64),
    Empty,
    /// A value hidden in public exports (small-group suppression); written as is otherwise.
    Suppressed(Box<Cell>),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn suppressed(inner: Cell) -> Cell {
        Cell::Suppressed(Box::new(inner))
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(x: i64) -> Cell {
        Cell::Int(x)
    }
}
impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::Float(x)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(x: Option<T>) -> Cell {
        x.map_or(Cell::Empty, Into::into)
    }
}

/// A generic table: a title (the sheet name in XLSX), columns as (id, header), rows of cells.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Cell>>,
    /// A public export: suppressed values are hidden.
    #[serde(default)]
    pub public: bool,
    /// Rows (by index) whose numbers are suppressed as a whole (labels stay).
    #[serde(default)]
    pub suppressed_rows: Vec<usize>,
    /// Written under the table when something was suppressed; [`DEFAULT_NOTE`] when absent.
    #[serde(default)]
    pub note: Option<String>,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: Vec<(String, String)>) -> Table {
        Table {
            title: title.into(),
            columns,
            ..Table::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("{rows} rows do not fit in one worksheet (at most 1,048,575 below the header)")]
    TooManyRows { rows: usize },
}

/// Prefixes a formula-like text with an apostrophe (for CSV).
pub fn escape_formula(s: &str) -> Cow<'_, str> {
    if s.starts_with(is_formula_start) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A cell as it is to be written.
enum Out<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Empty,
    Mark,
}

fn resolve<'a>(public: bool, row_suppressed: bool, cell: &'a Cell) -> Out<'a> {
    match cell {
        Cell::Suppressed(_) if public => Out::Mark,
        Cell::Suppressed(inner) => resolve(public, row_suppressed, inner),
        Cell::Int(_) | Cell::Float(_) if public && row_suppressed => Out::Mark,
        Cell::Text(s) => Out::Text(s),
        Cell::Int(i) => Out::Int(*i),
        Cell::Float(f) if f.is_finite() => Out::Float(*f),
        Cell::Float(_) | Cell::Empty => Out::Empty,
    }
}

fn float_text(f: f64) -> String {
    crate::cell::fmt_num(f)
}

/// Writes the table as CSV: a UTF-8 byte-order mark (so Excel reads Chinese correctly), the header
/// row, the rows, and the suppression note when something was suppressed.
pub fn write_csv<W: Write>(table: &Table, out: W) -> Result<(), ExportError> {
    write_csv_with(table, out, true)
}

/// [`write_csv`], with or without the byte-order mark.
pub fn write_csv_with<W: Write>(table: &Table, mut out: W, bom: bool) -> Result<(), ExportError> {
    if bom {
        out.write_all(UTF8_BOM.as_bytes())?;
    }
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
    w.write_record(
        table
            .columns
            .iter()
            .map(|(_, h)| escape_formula(h).into_owned()),
    )?;
    let suppressed: HashSet<usize> = table.suppressed_rows.iter().copied().collect();
    let mut marked = false;
    let mut fields: Vec<String> = Vec::with_capacity(table.columns.len());
    for (r, row) in table.rows.iter().enumerate() {
        fields.clear();
        for cell in row {
            fields.push(match resolve(table.public, suppressed.contains(&r), cell) {
                Out::Text(s) => escape_formula(s).into_owned(),
                Out::Int(i) => i.to_string(),
                Out::Float(f) => float_text(f),
                Out::Empty => String::new(),
                Out::Mark => {
                    marked = true;
                    SUPPRESSED_MARK.to_string()
                }
            });
        }
        w.write_record(&fields)?;
    }
    if marked {
        let note = table.note.as_deref().unwrap_or(DEFAULT_NOTE);
        w.write_record([escape_formula(note).as_ref()])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes the table as an XLSX workbook with one sheet.
pub fn write_xlsx(table: &Table) -> Result<Vec<u8>, ExportError> {
    write_xlsx_sheets(std::slice::from_ref(table))
}

/// Excel's sheet-name rules: at most 31 characters, none of `[]:*?/\`, unique, not empty.
pub fn sheet_name(title: &str, taken: &[String]) -> String {
    let clean: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim().trim_matches('\'').to_string();
    let base: String = if clean.is_empty() {
        "Sheet".into()
    } else {
        clean.chars().take(31).collect()
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken
        .iter()
        .any(|t| t.to_lowercase() == name.to_lowercase())
    {
        let suffix = format!(" ({n})");
        let keep = 31usize.saturating_sub(suffix.chars().count());
        name = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
        n += 1;
    }
    name
}

/// Display width of a text in spreadsheet columns (CJK characters count double).
pub(crate) fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

pub(crate) fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border_bottom(FormatBorder::Thin)
        .set_background_color(0xF2F2F2)
}

/// Writes several tables into one workbook, one sheet each.
pub fn write_xlsx_sheets(tables: &[Table]) -> Result<Vec<u8>, ExportError> {
    let mut wb = Workbook::new();
    let mut taken: Vec<String> = Vec::new();
    for t in tables {
        let name = sheet_name(&t.title, &taken);
        taken.push(name.clone());
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        write_sheet(ws, t)?;
    }
    if tables.is_empty() {
        wb.add_worksheet();
    }
    Ok(wb.save_to_buffer()?)
}

fn write_sheet(ws: &mut Worksheet, t: &Table) -> Result<(), ExportError> {
    const MAX_DATA_ROWS: usize = 1_048_575 - 2;
    if t.rows.len() > MAX_DATA_ROWS {
        return Err(ExportError::TooManyRows { rows: t.rows.len() });
    }
    let head = header_format();
    let mark = Format::new().set_italic().set_font_color(0x808080);
    let mut widths: Vec<usize> = t
        .columns
        .iter()
        .map(|(_, h)| display_width(h).clamp(6, 40))
        .collect();
    for (c, (_, h)) in t.columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &head)?;
    }
    let suppressed: HashSet<usize> = t.suppressed_rows.iter().copied().collect();
    let mut marked = false;
    for (r, row) in t.rows.iter().enumerate() {
        let xr = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate().take(16_384) {
            let xc = c as u16;
            match resolve(t.public, suppressed.contains(&r), cell) {
                // Always a string cell, never a formula, whatever the text starts with.
                Out::Text(s) => {
                    ws.write_string(xr, xc, s)?;
                    if let Some(w) = widths.get_mut(c) {
                        *w = (*w).max(display_width(s).min(60));
                    }
                }
                Out::Int(i) if i.unsigned_abs() <= (1u64 << 53) => {
                    ws.write_number(xr, xc, i as f64)?;
                }
                // Beyond 2^53 a spreadsheet number would lose digits.
                Out::Int(i) => {
                    ws.write_string(xr, xc, i.to_string())?;
                }
                Out::Float(f) => {
                    ws.write_number(xr, xc, f)?;
                }
                Out::Empty => {}
                Out::Mark => {
                    marked = true;
                    ws.write_string_with_format(xr, xc, SUPPRESSED_MARK, &mark)?;
                }
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w as f64) + 2.0)?;
    }
    ws.set_freeze_panes(1, 0)?;
    if !t.columns.is_empty() && !t.rows.is_empty() {
        ws.autofilter(0, 0, t.rows.len() as u32, (t.columns.len() - 1) as u16)?;
    }
    if marked {
        let note = t.note.as_deref().unwrap_or(DEFAULT_NOTE);
        ws.write_string_with_format((t.rows.len() + 2) as u32, 0, note, &mark)?;
    }
    Ok(())
}
