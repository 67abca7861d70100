use calamine::{Data, Reader, Xlsx};
use smedx_core::Lang;
use smedx_io::export::{
    DEFAULT_NOTE, SUPPRESSED_MARK, sheet_name, write_csv_with, write_xlsx_sheets,
};
use smedx_io::{Cell, Table, parse_csv, write_csv, write_xlsx};

use crate::kb;

const DANGEROUS: [&str; 7] = [
    "=1+1",
    "+SUM(A1:A2)",
    "-2+3",
    "@SUM(A1)",
    "\t=cmd",
    "\r=cmd",
    "=HYPERLINK(\"http://evil.example\",\"点我\")",
];

fn dangerous_table() -> Table {
    let mut t = Table::new(
        "企业名单",
        vec![("name".into(), "名称".into()), ("n".into(), "数量".into())],
    );
    for (i, d) in DANGEROUS.iter().enumerate() {
        t.rows.push(vec![Cell::text(*d), Cell::Int(-(i as i64))]);
    }
    t.rows
        .push(vec![Cell::text("正常文本 a-b"), Cell::Float(2.5)]);
    t
}

fn read_sheet(bytes: &[u8]) -> (calamine::Range<Data>, calamine::Range<String>) {
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let name = wb.sheet_names()[0].clone();
    let values = wb.worksheet_range(&name).expect("values");
    let formulas = wb.worksheet_formula(&name).expect("formulas");
    (values, formulas)
}

#[test]
fn formula_injection_is_neutralised_in_csv() {
    let mut out = Vec::new();
    write_csv(&dangerous_table(), &mut out).expect("csv");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(
        text.starts_with('\u{FEFF}'),
        "Excel needs the byte-order mark for Chinese"
    );
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.expect("record")).collect();
    for (i, d) in DANGEROUS.iter().enumerate() {
        assert_eq!(
            &rows[i][0],
            format!("'{d}"),
            "text cell {i} gets an apostrophe"
        );
        // Numbers are numbers: a negative number is not text and is not prefixed.
        assert_eq!(&rows[i][1], (-(i as i64)).to_string());
    }
    assert_eq!(&rows[DANGEROUS.len()][0], "正常文本 a-b");
    assert_eq!(&rows[DANGEROUS.len()][1], "2.5");
    // No cell of the file starts with a formula character.
    for r in &rows {
        for (j, f) in r.iter().enumerate() {
            if j == 0 {
                assert!(!f.starts_with(['=', '+', '-', '@', '\t', '\r']), "{f:?}");
            }
        }
    }
}

#[test]
fn formula_injection_is_neutralised_in_xlsx() {
    let bytes = write_xlsx(&dangerous_table()).expect("xlsx");
    let (values, formulas) = read_sheet(&bytes);
    for (i, d) in DANGEROUS.iter().enumerate() {
        let r = (i + 1) as u32;
        // A string cell holding the text as it was, not a formula.
        assert_eq!(
            values.get_value((r, 0)),
            Some(&Data::String((*d).to_string())),
            "row {r}"
        );
        let f = formulas.get_value((r, 0)).map(String::as_str).unwrap_or("");
        assert!(f.is_empty(), "row {r} has a formula: {f:?}");
        assert_eq!(values.get_value((r, 1)), Some(&Data::Float(-(i as f64))));
    }
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    // The raw sheet XML has no <f> element at all.
    let xml = sheet_xml(&bytes);
    assert!(
        !xml.contains("<f>") && !xml.contains("<f "),
        "no formula element"
    );
}

/// The XML of the first worksheet (an .xlsx file is a zip archive).
fn sheet_xml(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut f = z.by_name("xl/worksheets/sheet1.xml").expect("sheet1");
    let mut s = String::new();
    f.read_to_string(&mut s).expect("xml");
    s
}

#[test]
fn exported_formula_text_imports_back_as_text() {
    let kb = kb();
    let rows: Vec<_> = smedx_io::demo::generate(kb, 3, 1).collect();
    let mut recs: Vec<(
        smedx_io::EnterpriseFields,
        smedx_core::profile::Value,
        smedx_core::profile::Value,
    )> = rows
        .iter()
        .map(|r| (r.enterprise.clone(), r.profile.clone(), r.answers.clone()))
        .collect();
    if let smedx_core::profile::Value::Table(t) = &mut recs[0].1 {
        t.insert(
            "pain_points".into(),
            smedx_core::profile::Value::Str("=HYPERLINK(\"http://x\",\"急单多\")".into()),
        );
    }
    recs[1].0.name = "+86 精密机械".into();
    if let smedx_core::profile::Value::Table(t) = &mut recs[1].1 {
        t.insert(
            "name".into(),
            smedx_core::profile::Value::Str("+86 精密机械".into()),
        );
    }
    let t = smedx_io::records::records_table(kb, Lang::Zh, "企业", recs.iter());
    let mut csv = Vec::new();
    write_csv(&t, &mut csv).expect("csv");
    let text = String::from_utf8(csv.clone()).expect("utf-8");
    assert!(text.contains("'=HYPERLINK"), "escaped in the file");
    assert!(text.contains("'+86 精密机械"));
    let b = parse_csv(csv.as_slice(), kb).unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
    for (got, want) in b.rows.iter().zip(&recs) {
        assert_eq!(got.enterprise, want.0);
        assert_eq!(
            got.profile(),
            want.1,
            "the apostrophe is removed again on import"
        );
    }
}

#[test]
fn public_exports_suppress_small_groups_with_a_note() {
    let mut t = Table::new(
        "按规模",
        vec![
            ("size".into(), "规模".into()),
            ("n".into(), "企业数".into()),
            ("level".into(), "平均等级".into()),
        ],
    );
    t.rows = vec![
        vec![Cell::text("小型"), Cell::Int(120), Cell::Float(1.4)],
        vec![
            Cell::text("大型"),
            Cell::suppressed(Cell::Int(3)),
            Cell::suppressed(Cell::Float(2.7)),
        ],
        vec![Cell::text("微型"), Cell::Int(4), Cell::Float(0.5)],
    ];
    t.suppressed_rows = vec![2];
    // Operator export: everything shown, no note.
    let mut out = Vec::new();
    write_csv_with(&t, &mut out, false).expect("csv");
    let inner = String::from_utf8(out).expect("utf-8");
    assert_eq!(
        inner,
        "规模,企业数,平均等级\n小型,120,1.4\n大型,3,2.7\n微型,4,0.5\n"
    );
    // Public export.
    t.public = true;
    let mut out = Vec::new();
    write_csv_with(&t, &mut out, false).expect("csv");
    let public = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = public.lines().collect();
    assert_eq!(lines[1], "小型,120,1.4");
    assert_eq!(
        lines[2],
        format!("大型,{SUPPRESSED_MARK},{SUPPRESSED_MARK}")
    );
    assert_eq!(
        lines[3],
        format!("微型,{SUPPRESSED_MARK},{SUPPRESSED_MARK}"),
        "labels stay"
    );
    assert!(
        lines[4].contains("—") && lines[4].contains("Note"),
        "{public}"
    );
    assert!(!public.contains(",3,") && !public.contains("2.7"));
    // XLSX: the same marks, and the note under the table.
    let (values, _) = read_sheet(&write_xlsx(&t).expect("xlsx"));
    assert_eq!(
        values.get_value((2, 1)),
        Some(&Data::String(SUPPRESSED_MARK.into()))
    );
    assert_eq!(
        values.get_value((3, 2)),
        Some(&Data::String(SUPPRESSED_MARK.into()))
    );
    assert_eq!(values.get_value((1, 1)), Some(&Data::Float(120.0)));
    assert_eq!(
        values.get_value((5, 0)),
        Some(&Data::String(DEFAULT_NOTE.into()))
    );
    // A custom note.
    t.note = Some("注：少于 5 家企业的分组不显示".into());
    let mut out = Vec::new();
    write_csv_with(&t, &mut out, false).expect("csv");
    assert!(
        String::from_utf8(out)
            .expect("utf-8")
            .ends_with("注：少于 5 家企业的分组不显示\n")
    );
}

#[test]
fn workbooks_with_several_tables_and_awkward_titles() {
    let mk = |title: &str| {
        let mut t = Table::new(title, vec![("a".into(), "A".into())]);
        t.rows.push(vec![Cell::Int(1)]);
        t
    };
    let bytes = write_xlsx_sheets(&[
        mk("等级分布 [2026/Q1]: 全部*"),
        mk("等级分布 [2026/Q1]: 全部*"),
        mk(""),
        mk("a very long title that does not fit in thirty-one characters"),
    ])
    .expect("xlsx");
    let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
    let names = wb.sheet_names();
    assert_eq!(names.len(), 4);
    assert_eq!(names[0], "等级分布 _2026_Q1__ 全部_");
    assert_eq!(names[1], "等级分布 _2026_Q1__ 全部_ (2)");
    assert_eq!(names[2], "Sheet");
    assert!(names[3].chars().count() <= 31);
    assert_eq!(sheet_name("x", &["X".into()]), "x (2)");
    // Integers beyond 2^53 keep every digit (as text).
    let mut t = Table::new("big", vec![("n".into(), "n".into())]);
    t.rows.push(vec![Cell::Int(9_007_199_254_740_993)]);
    let (values, _) = read_sheet(&write_xlsx(&t).expect("xlsx"));
    assert_eq!(
        values.get_value((1, 0)),
        Some(&Data::String("9007199254740993".into()))
    );
}
