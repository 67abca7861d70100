//! Downloadable import templates in Chinese or English: the header row and one example row (to be
//! deleted), as CSV or as an XLSX workbook with a help sheet and drop-down lists.

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties, Format, Formula,
    Workbook,
};
use smedx_core::{KnowledgeBase, Lang};

use crate::columns::{ColumnKind, ColumnSet, Field};
use crate::export::{Cell, ExportError, display_width, header_format};
use crate::import::{TEMPLATE_SHEETS, column_letter};
use crate::records::{OptionStyle, RecordCsvWriter, record_cells};

/// The CSV template: the header row in `lang`, then one example row. No byte-order mark (prepend
/// [`crate::export::UTF8_BOM`] when serving it to Excel users).
pub fn template_csv(kb: &KnowledgeBase, lang: Lang) -> String {
    let example = crate::demo::example(kb, lang);
    let mut buf: Vec<u8> = Vec::new();
    let written = RecordCsvWriter::new(kb, lang, &mut buf, false).and_then(|mut w| {
        w.write(&example)?;
        w.finish().map(|_| ())
    });
    debug_assert!(written.is_ok(), "writing to memory cannot fail");
    String::from_utf8(buf).unwrap_or_default()
}

/// The name of the data sheet of the template in `lang`.
pub fn data_sheet_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => TEMPLATE_SHEETS[0],
        Lang::En => TEMPLATE_SHEETS[1],
    }
}

const LISTS_SHEET: &str = "Lists";

/// The XLSX template: the data sheet (bold frozen header, example row, text format for codes,
/// drop-down lists for choice columns, 0–4 for scenario levels), a help sheet describing every
/// column with its allowed values, and a hidden sheet holding the lists.
pub fn template_xlsx(kb: &KnowledgeBase, lang: Lang) -> Result<Vec<u8>, ExportError> {
    let cols = ColumnSet::new(kb);
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title(match lang {
                Lang::Zh => "smedx 企业与评估数据导入模板",
                Lang::En => "smedx import template: enterprises and assessments",
            })
            .set_author("smedx"),
    );
    let head = header_format();
    let example_fmt = Format::new().set_italic().set_font_color(0x7F7F7F);
    let text_fmt = Format::new().set_num_format("@");
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    const LAST_ROW: u32 = 1_048_575;

    // --- the data sheet ------------------------------------------------------------------------
    {
        let ws = wb.add_worksheet();
        ws.set_name(data_sheet_name(lang))?;
        let example = crate::demo::example(kb, lang);
        let cells = record_cells(kb, &cols, lang, OptionStyle::Text, &example);
        let mut list_col = 0u16;
        for (c, col) in cols.columns.iter().enumerate() {
            let xc = c as u16;
            ws.write_string_with_format(0, xc, col.header(lang), &head)?;
            let width = display_width(col.header(lang)).clamp(10, 36);
            ws.set_column_width(xc, width as f64 + 2.0)?;
            if matches!(
                col.kind,
                ColumnKind::Field(Field::CreditCode | Field::Region | Field::Industry)
            ) {
                ws.set_column_format(xc, &text_fmt)?;
            }
            match &cells[c] {
                Cell::Text(s) => {
                    ws.write_string_with_format(1, xc, s, &example_fmt)?;
                }
                Cell::Int(i) => {
                    ws.write_number_with_format(1, xc, *i as f64, &example_fmt)?;
                }
                Cell::Float(f) => {
                    ws.write_number_with_format(1, xc, *f, &example_fmt)?;
                }
                Cell::Empty | Cell::Suppressed(_) => {}
            }
            let dv = match col.kind {
                ColumnKind::Scenario { .. } => Some(
                    DataValidation::new()
                        .allow_whole_number(DataValidationRule::Between(0, 4))
                        .set_error_style(DataValidationErrorStyle::Stop),
                ),
                ColumnKind::Single { .. }
                | ColumnKind::Obstacle { .. }
                | ColumnKind::Field(
                    Field::ProductComplexity
                    | Field::ChainPosition
                    | Field::InCluster
                    | Field::SuppliesChainLeader
                    | Field::UsesPlatform,
                ) if !col.choices.is_empty() => {
                    let letter = column_letter(list_col as usize + 1);
                    list_col += 1;
                    Some(
                        DataValidation::new()
                            .allow_list_formula(Formula::new(format!(
                                "={LISTS_SHEET}!${letter}$1:${letter}${}",
                                col.choices.len()
                            )))
                            // A warning, not a stop: ids and the other language are accepted too.
                            .set_error_style(DataValidationErrorStyle::Warning),
                    )
                }
                ColumnKind::Ratio { .. }
                | ColumnKind::Trend { .. }
                | ColumnKind::Field(
                    Field::Employees | Field::RevenueWan | Field::AssetsWan | Field::BudgetWan,
                ) => Some(
                    DataValidation::new()
                        .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
                        .set_error_style(DataValidationErrorStyle::Warning),
                ),
                _ => None,
            };
            if let Some(dv) = dv {
                ws.add_data_validation(1, xc, LAST_ROW, xc, &dv)?;
            }
        }
        ws.set_row_height(0, 48)?;
        ws.set_freeze_panes(1, 1)?;
    }

    // --- the help sheet ------------------------------------------------------------------------
    {
        let ws = wb.add_worksheet();
        ws.set_name(match lang {
            Lang::Zh => "说明",
            Lang::En => "Help",
        })?;
        let intro: &[&str] = match lang {
            Lang::Zh => &[
                "每行一家企业及其最近一次评估。第一行是表头（可用中文表头、英文表头或列编号），第 2 行是示例，导入前请删除。",
                "整个文件先全部校验：只要有一处错误，整份文件都不导入，并按行、列列出所有错误。空行会被跳过。",
                "是/否 列可填：是、否、yes、no、true、false、1、0、Y、N。多个值用逗号、顿号或分号分隔。金额单位为万元。",
                "问卷各题留空表示未作答（计 0 分）；多选题一项都没有请填“无”。场景等级 0–4，留空按 0 计。",
                "单个文件最大 128 MB、最多 1,000,000 行。CSV 可用 UTF-8 或 GBK 编码。",
            ],
            Lang::En => &[
                "One row per enterprise with its latest assessment. Row 1 is the header (Chinese headers, English headers or column ids); row 2 is an example to delete before importing.",
                "The whole file is checked first: if anything is wrong nothing is imported, and every error is listed by row and column. Empty rows are skipped.",
                "Yes/no columns take 是, 否, yes, no, true, false, 1, 0, Y or N. Separate several values with commas, 、 or semicolons. Money is in CNY 10,000 (万元).",
                "An empty questionnaire cell means not answered (0 points); for a multiple-choice question where nothing applies, enter \"none\". Scenario levels are 0–4; empty counts as 0.",
                "At most 128 MB and 1,000,000 rows per file. CSV files may be UTF-8 or GBK.",
            ],
        };
        for (i, line) in intro.iter().enumerate() {
            ws.write_string(i as u32, 0, *line)?;
        }
        let top = intro.len() as u32 + 1;
        let titles: [&str; 7] = match lang {
            Lang::Zh => [
                "列",
                "列编号",
                "表头（中文）",
                "表头（英文）",
                "必填",
                "说明",
                "可选值",
            ],
            Lang::En => [
                "Column",
                "Column id",
                "Header (Chinese)",
                "Header (English)",
                "Required",
                "What to enter",
                "Allowed values",
            ],
        };
        for (c, t) in titles.iter().enumerate() {
            ws.write_string_with_format(top, c as u16, *t, &head)?;
        }
        for (i, col) in cols.columns.iter().enumerate() {
            let r = top + 1 + i as u32;
            ws.write_string(r, 0, column_letter(i + 1))?;
            ws.write_string(r, 1, &col.id)?;
            ws.write_string(r, 2, &col.header.zh)?;
            ws.write_string(r, 3, &col.header.en)?;
            let req = match (col.required, lang) {
                (true, Lang::Zh) => "是",
                (false, Lang::Zh) => "",
                (true, Lang::En) => "yes",
                (false, Lang::En) => "",
            };
            ws.write_string(r, 4, req)?;
            ws.write_string_with_format(r, 5, col.help.get(lang), &wrap)?;
            let allowed: Vec<String> = col
                .choices
                .iter()
                .map(|ch| {
                    if ch.id == ch.text.get(lang) || ch.text.get(lang).starts_with(&ch.id) {
                        ch.text.get(lang).to_string()
                    } else {
                        format!("{} = {}", ch.id, ch.text.get(lang))
                    }
                })
                .collect();
            ws.write_string_with_format(r, 6, allowed.join("\n"), &wrap)?;
        }
        for (c, w) in [6.0, 30.0, 28.0, 36.0, 6.0, 60.0, 70.0].iter().enumerate() {
            ws.set_column_width(c as u16, *w)?;
        }
        ws.set_freeze_panes(top + 1, 0)?;
    }

    // --- the hidden lists sheet -----------------------------------------------------------------
    {
        let ws = wb.add_worksheet();
        ws.set_name(LISTS_SHEET)?;
        let mut list_col = 0u16;
        for col in &cols.columns {
            let listed = matches!(
                col.kind,
                ColumnKind::Single { .. }
                    | ColumnKind::Obstacle { .. }
                    | ColumnKind::Field(
                        Field::ProductComplexity
                            | Field::ChainPosition
                            | Field::InCluster
                            | Field::SuppliesChainLeader
                            | Field::UsesPlatform,
                    )
            ) && !col.choices.is_empty();
            if !listed {
                continue;
            }
            for (r, ch) in col.choices.iter().enumerate() {
                ws.write_string(r as u32, list_col, ch.text.get(lang))?;
            }
            list_col += 1;
        }
        ws.set_hidden(true);
    }
    Ok(wb.save_to_buffer()?)
}
