//! One cell as read from a file, and the conversions the import needs (numbers, booleans, dates,
//! lists), each failing with a message in both languages.

use smedx_core::Localized;

/// A cell as the file gave it. CSV cells are always text; XLSX cells keep their type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Raw<'a> {
    Empty,
    Text(&'a str),
    Num(f64),
    Bool(bool),
    Date(i32, u32, u32),
    /// A spreadsheet error value such as `#DIV/0!`.
    Error(&'a str),
}

/// An owned cell, for readers that cannot lend their buffers (XLSX).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawOwned {
    Empty,
    Text(String),
    Num(f64),
    Bool(bool),
    Date(i32, u32, u32),
    Error(String),
}

impl RawOwned {
    pub(crate) fn as_raw(&self) -> Raw<'_> {
        match self {
            RawOwned::Empty => Raw::Empty,
            RawOwned::Text(s) => Raw::text(s),
            RawOwned::Num(x) => Raw::Num(*x),
            RawOwned::Bool(b) => Raw::Bool(*b),
            RawOwned::Date(y, m, d) => Raw::Date(*y, *m, *d),
            RawOwned::Error(e) => Raw::Error(e),
        }
    }
}

/// Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
pub(crate) fn is_formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

impl<'a> Raw<'a> {
    /// A text cell: trimmed; empty text is an empty cell; the apostrophe an export puts before a
    /// formula-like text (`'=…`) is removed again.
    pub(crate) fn text(s: &'a str) -> Raw<'a> {
        let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        if t.is_empty() {
            return Raw::Empty;
        }
        // A leading apostrophe marks text in spreadsheets ('0123, '=1+1); exports add one
        // before formula-like text.
        let t = match t.strip_prefix('\'') {
            Some(rest) if rest.starts_with(|c: char| is_formula_start(c) || c.is_ascii_digit()) => {
                rest
            }
            _ => t,
        };
        Raw::Text(t)
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Raw::Empty)
    }

    /// The cell as text (numbers without a trailing `.0`, dates as YYYY-MM-DD).
    pub(crate) fn to_text(self) -> Option<String> {
        match self {
            Raw::Empty => None,
            Raw::Text(s) => Some(s.to_string()),
            Raw::Num(x) => Some(fmt_num(x)),
            Raw::Bool(b) => Some(if b { "TRUE".into() } else { "FALSE".into() }),
            Raw::Date(y, m, d) => Some(format!("{y:04}-{m:02}-{d:02}")),
            Raw::Error(e) => Some(e.to_string()),
        }
    }
}

/// A number as a person would write it: no exponent for ordinary values, no trailing `.0`.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn msg(zh: impl Into<String>, en: impl Into<String>) -> Localized {
    Localized::new(zh, en)
}

fn cell_error(e: &str) -> Localized {
    msg(
        format!("单元格是表格错误值 {e}，请填写数值"),
        format!("the cell holds the spreadsheet error {e}; enter a value"),
    )
}

/// Full-width digits and punctuation to ASCII, spaces removed.
fn ascii_number_text(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF0E}' | '\u{FF0C}' => {
                char::from_u32(c as u32 - 0xFEE0)
            }
            '\u{3002}' => Some('.'),
            c if c.is_whitespace() || c == '\u{00A0}' => None,
            c => Some(c),
        })
        .collect()
}

/// Parses a decimal number as people type it: `1234`, `1,234.5` (thousands separators),
/// `-3`, `1.5e3`, full-width digits; `percent` also allows a trailing `%` (the value is kept as
/// written: `96.5%` is 96.5). `inf`, `NaN` and other words are rejected.
pub(crate) fn parse_number_text(s: &str, percent: bool) -> Option<f64> {
    let mut t = ascii_number_text(s);
    if percent && t.ends_with('%') {
        t.pop();
    }
    if t.contains(',') {
        // Only well-formed thousands grouping: 1,234 or 12,345,678.9
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i.to_string(), Some(f.to_string())),
            None => (t.clone(), None),
        };
        let digits = int.trim_start_matches(['-', '+']);
        let groups: Vec<&str> = digits.split(',').collect();
        let ok = !groups.is_empty()
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3)
            && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return None;
        }
        t = int.replace(',', "");
        if let Some(f) = frac {
            t.push('.');
            t.push_str(&f);
        }
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        || !t.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    t.parse::<f64>().ok()
}

/// A finite number of zero or more, at most `max`.
pub(crate) fn number(raw: Raw<'_>, max: f64, percent: bool) -> Result<f64, Localized> {
    let x = match raw {
        Raw::Num(x) => x,
        Raw::Text(s) => parse_number_text(s, percent)
            .ok_or_else(|| msg(format!("“{s}”不是数字"), format!("\"{s}\" is not a number")))?,
        Raw::Bool(_) => {
            return Err(msg(
                "应为数字，实际是是/否值",
                "expected a number, got a yes/no value",
            ));
        }
        Raw::Date(y, m, d) => {
            return Err(msg(
                format!("应为数字，实际是日期 {y:04}-{m:02}-{d:02}（请把单元格格式设为数字）"),
                format!(
                    "expected a number, got the date {y:04}-{m:02}-{d:02} (format the cell as a number)"
                ),
            ));
        }
        Raw::Error(e) => return Err(cell_error(e)),
        Raw::Empty => return Err(msg("不能为空", "must not be empty")),
    };
    if !x.is_finite() {
        return Err(msg("数字超出范围", "the number is out of range"));
    }
    if x < 0.0 {
        return Err(msg(
            format!("必须是不小于 0 的数（填写的是 {}）", fmt_num(x)),
            format!("must be a number of zero or more (got {})", fmt_num(x)),
        ));
    }
    if x > max {
        return Err(msg(
            format!("数字过大（{}），最大 {}", fmt_num(x), fmt_num(max)),
            format!(
                "the number is too large ({}); at most {}",
                fmt_num(x),
                fmt_num(max)
            ),
        ));
    }
    Ok(x)
}

/// 是/否/yes/no/true/false/1/0/Y/N (any case, full-width too), or a spreadsheet boolean.
pub(crate) fn boolean(raw: Raw<'_>) -> Result<bool, Localized> {
    let bad = |s: &str| {
        msg(
            format!("“{s}”不是是/否值（可填 是、否、yes、no、true、false、1、0、Y、N）"),
            format!(
                "\"{s}\" is not a yes/no value (use 是, 否, yes, no, true, false, 1, 0, Y or N)"
            ),
        )
    };
    match raw {
        Raw::Bool(b) => Ok(b),
        Raw::Num(1.0) => Ok(true),
        Raw::Num(0.0) => Ok(false),
        Raw::Num(x) => Err(bad(&fmt_num(x))),
        Raw::Text(s) => {
            let is = |words: &[&str]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
            if is(&["是", "yes", "true", "1", "y", "对", "√", "Ｙ", "１"]) {
                Ok(true)
            } else if is(&["否", "no", "false", "0", "n", "不是", "×", "Ｎ", "０"]) {
                Ok(false)
            } else {
                Err(bad(s))
            }
        }
        Raw::Date(..) => Err(bad(&raw.to_text().unwrap_or_default())),
        Raw::Error(e) => Err(cell_error(e)),
        Raw::Empty => Err(msg("不能为空", "must not be empty")),
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A calendar date between 1990 and 2100 as `YYYY-MM-DD`. Accepts `2026-03-31`, `2026/3/31`,
/// `2026.3.31`, `2026年3月31日` and spreadsheet dates.
pub(crate) fn date(raw: Raw<'_>) -> Result<String, Localized> {
    let bad = |s: &str| {
        msg(
            format!("“{s}”不是日期，格式应为 YYYY-MM-DD（如 2026-03-31）"),
            format!("\"{s}\" is not a date; use YYYY-MM-DD (e.g. 2026-03-31)"),
        )
    };
    let (y, m, d, shown) = match raw {
        Raw::Date(y, m, d) => (y, m, d, format!("{y:04}-{m:02}-{d:02}")),
        Raw::Text(s) => {
            let t = ascii_number_text(s);
            let t = t.trim_end_matches('日');
            let parts: Vec<&str> = t.split(['-', '/', '.', '年', '月']).collect();
            if parts.len() != 3
                || parts[0].len() != 4
                || !(1..=2).contains(&parts[1].len())
                || !(1..=2).contains(&parts[2].len())
                || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(bad(s));
            }
            let y: i32 = parts[0].parse().map_err(|_| bad(s))?;
            let m: u32 = parts[1].parse().map_err(|_| bad(s))?;
            let d: u32 = parts[2].parse().map_err(|_| bad(s))?;
            (y, m, d, s.to_string())
        }
        Raw::Num(x) => return Err(bad(&fmt_num(x))),
        Raw::Bool(_) => return Err(bad(&raw.to_text().unwrap_or_default())),
        Raw::Error(e) => return Err(cell_error(e)),
        Raw::Empty => return Err(msg("不能为空", "must not be empty")),
    };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(msg(
            format!("“{shown}”不是有效的日期"),
            format!("\"{shown}\" is not a valid calendar date"),
        ));
    }
    if !(1990..=2100).contains(&y) {
        return Err(msg(
            format!("日期“{shown}”的年份应在 1990 到 2100 之间"),
            format!("the year of \"{shown}\" must be between 1990 and 2100"),
        ));
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// Separators of a list cell: comma, 、, semicolon (ASCII and full-width) and line breaks.
pub(crate) fn is_list_separator(c: char) -> bool {
    matches!(c, ',' | '，' | '、' | ';' | '；' | '\n' | '\r' | '|' | '｜')
}

/// Splits a list cell into items, matching the shortest run of pieces that names a known item
/// (texts may themselves contain separators, e.g. option texts with 、). `lookup` returns the id
/// for a candidate text; pieces that match nothing are returned as written.
pub(crate) fn split_list(s: &str, lookup: impl Fn(&str) -> Option<String>) -> Vec<String> {
    // Piece boundaries: (start, end) byte ranges of the text between separators.
    let mut pieces: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if is_list_separator(c) {
            pieces.push((start, i));
            start = i + c.len_utf8();
        }
    }
    pieces.push((start, s.len()));
    let pieces: Vec<(usize, usize)> = pieces
        .into_iter()
        .filter(|&(a, b)| !s[a..b].trim().is_empty())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        // A piece that names an item on its own (the usual case: ids); otherwise the shortest run
        // of pieces that does (a text with separators inside).
        let mut matched = None;
        for j in i + 1..=pieces.len() {
            let text = s[pieces[i].0..pieces[j - 1].1].trim();
            if let Some(id) = lookup(text) {
                matched = Some((j, id));
                break;
            }
        }
        match matched {
            Some((j, id)) => {
                out.push(id);
                i = j;
            }
            None => {
                out.push(s[pieces[i].0..pieces[i].1].trim().to_string());
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number_text("1,234.5", false), Some(1234.5));
        assert_eq!(parse_number_text("１２３", false), Some(123.0));
        assert_eq!(parse_number_text("1,23", false), None);
        assert_eq!(parse_number_text("inf", false), None);
        assert_eq!(parse_number_text("NaN", false), None);
        assert_eq!(parse_number_text("96.5%", true), Some(96.5));
        assert_eq!(parse_number_text("96.5%", false), None);
        assert_eq!(parse_number_text("1e3", false), Some(1000.0));
    }

    #[test]
    fn dates() {
        assert_eq!(
            date(Raw::Text("2026/3/1")).ok().as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(
            date(Raw::Text("2026年3月1日")).ok().as_deref(),
            Some("2026-03-01")
        );
        assert!(date(Raw::Text("2025-02-29")).is_err());
        assert!(date(Raw::Text("2024-02-29")).is_ok());
        assert!(date(Raw::Text("31/03/2026")).is_err());
    }

    #[test]
    fn lists_keep_texts_with_separators() {
        let lookup = |t: &str| match t {
            "a、b" => Some("ab".to_string()),
            "c" => Some("c".to_string()),
            _ => None,
        };
        assert_eq!(split_list("a、b，c", lookup), vec!["ab", "c"]);
        assert_eq!(split_list("x; c", lookup), vec!["x", "c"]);
        assert_eq!(split_list(" ", lookup), Vec::<String>::new());
    }
}
