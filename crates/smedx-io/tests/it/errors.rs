use std::io::Read;

use smedx_core::Lang;
use smedx_io::{ImportErrors, ImportOptions, parse_csv, parse_csv_with, parse_xlsx};

use crate::{fixture, kb};

fn errors_of(csv: &str) -> ImportErrors {
    parse_csv(csv.as_bytes(), kb()).expect_err("the file should be rejected")
}

/// (row, column id, column letter) of every error.
fn located(e: &ImportErrors) -> Vec<(usize, Option<String>, Option<String>)> {
    e.errors
        .iter()
        .map(|x| {
            (
                x.row,
                x.column.clone(),
                x.column_index.map(smedx_io::import::column_letter),
            )
        })
        .collect()
}

fn find<'e>(e: &'e ImportErrors, row: usize, column: &str) -> &'e smedx_io::RowError {
    e.errors
        .iter()
        .find(|x| x.row == row && x.column.as_deref() == Some(column))
        .unwrap_or_else(|| {
            panic!(
                "no error at row {row}, column {column}:\n{}",
                e.render(Lang::En)
            )
        })
}

#[test]
fn the_error_fixture_reports_every_mistake_at_its_row_and_column() {
    let bytes = std::fs::read(fixture("import-errors.csv")).expect("fixture");
    let e = parse_csv(bytes.as_slice(), kb()).expect_err("rejected");
    let s = |x: &str| Some(x.to_string());
    let want: Vec<(usize, Option<String>, Option<String>)> = vec![
        (1, None, s("U")),
        (2, s("credit_code"), s("B")),
        (3, s("region"), s("C")),
        (3, s("employees"), s("E")),
        (4, s("credit_code"), s("B")),
        (4, s("industry"), s("D")),
        (4, s("revenue_wan"), s("F")),
        (5, s("enterprise_name"), s("A")),
        (5, s("scenario.production_control"), s("S")),
        (5, s("obstacle.budget"), s("T")),
        (6, s("information_systems"), s("J")),
        (6, s("equipment_digital.digital"), s("K")),
        (7, s("credit_code"), s("B")),
        (9, s("in_cluster"), s("G")),
        (9, s("adopted"), s("H")),
        (9, s("assessed_on"), s("I")),
        (10, s("green.before.revenue"), s("N")),
        (10, s("quality.before"), s("Q")),
        (11, s("revenue_wan"), s("F")),
        (12, None, s("V")),
    ];
    assert_eq!(located(&e), want, "\n{}", e.render(Lang::En));
    assert_eq!(e.total, want.len());

    // Suggestions where a typo is likely.
    assert_eq!(
        find(&e, 6, "information_systems").suggestion.as_deref(),
        Some("multiple")
    );
    assert_eq!(
        find(&e, 9, "adopted").suggestion.as_deref(),
        Some("pl.transparency")
    );
    // Duplicates name each other.
    assert!(find(&e, 2, "credit_code").message.zh.contains("第 7 行"));
    assert!(find(&e, 7, "credit_code").message.en.contains("row 2"));
    // Headers as written; both languages rendered.
    let zh = e.render(Lang::Zh);
    let en = e.render(Lang::En);
    assert!(
        zh.contains("第 3 行 C 列“行政区划代码”：“32050”不是有效的行政区划代码"),
        "{zh}"
    );
    assert!(
        en.contains("row 3, column C \"行政区划代码\": \"32050\" is not a GB/T 2260 region code"),
        "{en}"
    );
    assert!(zh.contains("第 1 行 U 列“备注”：未知的列“备注”"), "{zh}");
    assert!(en.contains("row 6, column K"), "{en}");
    assert!(zh.contains("校验位"), "{zh}");
    assert!(en.contains("check character"), "{en}");
    for x in &e.errors {
        assert!(!x.message.zh.is_empty() && !x.message.en.is_empty());
        assert_ne!(x.message.zh, x.message.en);
    }
}

#[test]
fn the_same_mistakes_in_xlsx_are_reported_at_the_same_cells() {
    // The fixture written as a workbook (every cell as text, as a user would type it).
    let bytes = std::fs::read(fixture("import-errors.csv")).expect("fixture");
    let text = String::from_utf8(bytes).expect("utf-8");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records: Vec<Vec<String>> = Vec::new();
    for r in rdr.records() {
        let r = r.expect("record");
        records.push(r.iter().map(str::to_string).collect());
    }
    // Put the blank line back as a blank sheet row (the CSV reader skips it).
    records.insert(7, vec![]);
    let header = records.remove(0);
    let mut t = smedx_io::Table::new(
        "Sheet1",
        header.iter().map(|h| (h.clone(), h.clone())).collect(),
    );
    t.rows = records
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| {
                    if c.is_empty() {
                        smedx_io::Cell::Empty
                    } else {
                        smedx_io::Cell::Text(c)
                    }
                })
                .collect()
        })
        .collect();
    let xlsx = smedx_io::write_xlsx(&t).expect("xlsx");
    let from_xlsx = parse_xlsx(&xlsx, kb()).expect_err("rejected");
    let from_csv = parse_csv(text.as_bytes(), kb()).expect_err("rejected");
    assert_eq!(located(&from_xlsx), located(&from_csv));
    assert_eq!(from_xlsx.errors, from_csv.errors);
}

#[test]
fn unknown_columns_get_a_did_you_mean() {
    let e = errors_of(
        "企业名称,行政区划代码,行业代码,从业人员（人）,营业收入（万元）,employes,营业收入(万元,Revenu (CNY 10k),网络建设x\nA,320506,C3311,10,100,1,2,3,\n",
    );
    let sug: Vec<(String, Option<String>)> = e
        .errors
        .iter()
        .filter(|x| x.row == 1)
        .map(|x| (x.header.clone().unwrap_or_default(), x.suggestion.clone()))
        .collect();
    assert_eq!(
        sug,
        vec![
            ("employes".to_string(), Some("employees".to_string())),
            (
                "营业收入(万元".to_string(),
                Some("营业收入（万元）".to_string())
            ),
            (
                "Revenu (CNY 10k)".to_string(),
                Some("Revenue (CNY 10k)".to_string())
            ),
            ("网络建设x".to_string(), Some("网络建设".to_string())),
        ]
    );
    assert!(e.render(Lang::En).contains("(did you mean \"employees\"?)"));
    assert!(e.render(Lang::Zh).contains("（是否想填“employees”？）"));
}

#[test]
fn missing_required_columns_are_one_file_level_error() {
    let e = errors_of("企业名称,行业代码,credit_code\nA,C3311,\n");
    assert_eq!(e.errors.len(), 1, "{}", e.render(Lang::En));
    let x = &e.errors[0];
    assert_eq!(x.row, 0);
    for id in ["region", "employees", "revenue_wan"] {
        assert!(
            x.message.zh.contains(id) && x.message.en.contains(id),
            "{:?}",
            x.message
        );
    }
    assert!(x.message.zh.contains("行政区划代码"));
    assert!(x.message.en.contains("Region code"));
}

#[test]
fn a_question_with_only_some_of_its_columns_is_a_header_error() {
    let e = errors_of(
        "enterprise_name,region,industry,employees,revenue_wan,equipment_digital.digital\nA,320506,C3311,10,100,3\n",
    );
    assert_eq!(e.errors.len(), 1, "{}", e.render(Lang::En));
    assert!(e.errors[0].message.en.contains("equipment_digital.total"));
}

#[test]
fn duplicate_credit_codes_are_reported_on_both_rows() {
    let csv = "enterprise_name,credit_code,region,industry,employees,revenue_wan\n\
               A,91320583MA1AB2CD3J,320583,C3311,10,100\n\
               B,91320412MA1EF4GH5B,320412,C3311,10,100\n\
               C,91320583ma1ab2cd3j,320506,C3311,10,100\n";
    let e = errors_of(csv);
    assert_eq!(
        located(&e),
        vec![
            (2, Some("credit_code".into()), Some("B".into())),
            (4, Some("credit_code".into()), Some("B".into())),
        ]
    );
    assert!(e.errors[0].message.zh.contains("第 4 行"));
    assert!(e.errors[1].message.en.contains("row 2"));
}

#[test]
fn huge_and_odd_numbers() {
    let head = "enterprise_name,region,industry,employees,revenue_wan,assets_wan,budget_wan,equipment_digital.digital,equipment_digital.total,scenario.finance\n";
    // Large but plausible figures pass and keep every digit.
    let ok = parse_csv(
        format!(
            "{head}A,320506,C3311,\"1,200,000\",\"99,999,999.5\",123456789,0,999999,1000000,4\n"
        )
        .as_bytes(),
        kb(),
    )
    .unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
    let p = smedx_core::profile::validate(kb(), &ok.rows[0].profile()).expect("valid");
    assert_eq!(p.employees, Some(1_200_000.0));
    assert_eq!(p.revenue, Some(999_999_995_000.0));
    assert_eq!(p.assets, Some(1_234_567_890_000.0));
    // Absurd ones are errors naming the column, never overflow or panic.
    let e = errors_of(&format!(
        "{head}A,320506,C3311,12345678901234567890,1e400,9999999999999,1e-300,1e13,1e13,99999999999\n\
         B,320506,C3311,10.5,NaN,inf,-0.5,2,1,2.5\n"
    ));
    let cols: Vec<&str> = e
        .errors
        .iter()
        .map(|x| x.column.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(
        cols,
        vec![
            "employees",
            "revenue_wan",
            "assets_wan",
            "equipment_digital.digital",
            "equipment_digital.total",
            "scenario.finance",
            "employees",
            "revenue_wan",
            "assets_wan",
            "budget_wan",
            "equipment_digital.digital",
            "scenario.finance",
        ],
        "\n{}",
        e.render(Lang::En)
    );
    assert!(e.errors[0].message.en.contains("too large"));
    assert!(e.errors[1].message.en.contains("out of range"));
    assert!(e.errors[6].message.en.contains("whole number"));
}

#[test]
fn size_limits_are_clear_errors() {
    let head = "enterprise_name,region,industry,employees,revenue_wan\n";
    let mut csv = head.to_string();
    for i in 0..11 {
        csv.push_str(&format!("F{i},320506,C3311,10,100\n"));
    }
    let opts = ImportOptions {
        max_rows: 10,
        ..ImportOptions::default()
    };
    let e = parse_csv_with(csv.as_bytes(), kb(), &opts, &mut |_, _| {}).expect_err("too many rows");
    assert_eq!(e.errors.len(), 1);
    assert!(
        e.errors[0].message.en.contains("11 data rows"),
        "{}",
        e.render(Lang::En)
    );
    // Over 128 MB: rejected before parsing (the reader is not read to the end).
    let big = std::io::repeat(b'a').take(130 * 1024 * 1024);
    let e = parse_csv(big, kb()).expect_err("too big");
    assert!(
        e.errors[0].message.en.contains("128 MB"),
        "{}",
        e.render(Lang::En)
    );
    assert!(e.errors[0].message.zh.contains("128 MB"));
    let e = parse_xlsx(&vec![0u8; 129 * 1024 * 1024], kb()).expect_err("too big");
    assert!(e.errors[0].message.en.contains("128 MB"));
}

#[test]
fn errors_are_capped_but_counted() {
    let head = "enterprise_name,region,industry,employees,revenue_wan\n";
    let mut csv = head.to_string();
    for _ in 0..30 {
        csv.push_str("A,000000,C3311,10,100\n");
    }
    let opts = ImportOptions {
        max_errors: 5,
        ..ImportOptions::default()
    };
    let e = parse_csv_with(csv.as_bytes(), kb(), &opts, &mut |_, _| {}).expect_err("rejected");
    assert_eq!(e.errors.len(), 5);
    assert_eq!(e.total, 30);
    assert!(e.render(Lang::Zh).contains("共 30 处错误"));
}

#[test]
fn not_a_spreadsheet() {
    let e = parse_xlsx(b"PK\x03\x04 definitely not a zip", kb()).expect_err("rejected");
    assert_eq!(e.errors[0].row, 0);
    assert!(e.errors[0].message.en.contains(".xlsx"));
    let e = parse_csv(&b""[..], kb()).expect_err("empty");
    assert!(e.errors[0].message.en.contains("empty"));
    let xls = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    for e in [
        parse_xlsx(&xls, kb()).expect_err("xls"),
        parse_csv(&xls[..], kb()).expect_err("xls"),
    ] {
        assert!(
            e.errors[0].message.en.contains(".xls"),
            "{}",
            e.render(Lang::En)
        );
        assert!(e.errors[0].message.zh.contains("另存为"));
    }
    let e = parse_csv(&b"\xff\xfe\x00\xd8"[..], kb()).expect_err("bad utf-16");
    assert!(
        e.errors[0].message.en.contains("encoding"),
        "{}",
        e.render(Lang::En)
    );
}
