use smedx_core::Lang;
use smedx_core::profile::Value;
use smedx_io::{ImportOptions, parse_csv, parse_csv_with, parse_xlsx};

use crate::{demo_csv, kb};

const GOOD_ZH: &str = "\
企业名称,统一社会信用代码,行政区划代码,产业集群,行业代码,从业人员（人）,营业收入（万元）,产品复杂度,是否为链主企业配套,已应用的场景,评估日期,信息系统,网络建设,设备数字化-数字化生产设备（台/套）,设备数字化-生产设备总数（台/套）,产品质量-之前-月均产品合格率（%）,产品质量-之后-月均产品合格率（%）,场景-生产管控,场景-财务管理,障碍-缺少转型资金
苏州甲精密机械有限公司,91320583ma1ab2cd3j,320583,kunshan-electronics,C3484,85,\"3,200\",中,是,\"mg.finance, 现场透明化管理\",2026/3/31,两个及以上业务环节在用,\"shopfloor_control、有应用系统网络，大量设备、人员和信息系统之间互联互通\",14,40,96.5%,97.8,2,L3,是
常州乙电子有限公司,,320412,,3982,12,450.5,high,N,,,single,无,,,,,,,否

,,,,,,,,,,,,,,,,,,,
无锡丙化工有限公司,91320281MA1JK6LM7P,320281,,C2641,300,25000,,,,,,,,,,,,,
";

fn get<'v>(v: &'v Value, path: &[&str]) -> &'v Value {
    let mut cur = v;
    for k in path {
        cur = match cur {
            Value::Table(t) => t.get(*k).unwrap_or_else(|| panic!("no {k} in {cur:?}")),
            _ => panic!("not a table at {k}"),
        };
    }
    cur
}

#[test]
fn a_good_file_with_three_rows_imports() {
    let b =
        parse_csv(GOOD_ZH.as_bytes(), kb()).unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
    assert_eq!(b.header_lang, Some(Lang::Zh));
    assert_eq!(
        b.rows.iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![2, 3, 6]
    );
    assert_eq!(b.skipped_empty_rows, 1);
    let r = &b.rows[0];
    assert_eq!(r.enterprise.name, "苏州甲精密机械有限公司");
    assert_eq!(
        r.enterprise.credit_code.as_deref(),
        Some("91320583MA1AB2CD3J")
    );
    assert_eq!(r.enterprise.region, "320583");
    assert_eq!(r.enterprise.cluster.as_deref(), Some("kunshan-electronics"));
    assert_eq!(r.enterprise.assessed_on.as_deref(), Some("2026-03-31"));
    assert_eq!(get(&r.profile(), &["revenue"]), &Value::Int(32_000_000));
    assert_eq!(get(&r.profile(), &["employees"]), &Value::Int(85));
    assert_eq!(
        get(&r.profile(), &["product_complexity"]),
        &Value::Str("medium".into())
    );
    assert_eq!(
        get(&r.profile(), &["supplies_chain_leader"]),
        &Value::Bool(true)
    );
    assert_eq!(
        get(&r.profile(), &["adopted"]),
        &Value::List(vec![
            Value::Str("mg.finance".into()),
            Value::Str("pl.transparency".into())
        ])
    );
    // Option texts (even with separators inside them) become ids.
    assert_eq!(
        get(&r.answers(), &["information_systems"]),
        &Value::Str("multiple".into())
    );
    assert_eq!(
        get(&r.answers(), &["network"]),
        &Value::List(vec![
            Value::Str("shopfloor_control".into()),
            Value::Str("application_network".into())
        ])
    );
    assert_eq!(
        get(&r.answers(), &["equipment_digital", "total"]),
        &Value::Int(40)
    );
    assert_eq!(
        get(&r.answers(), &["quality", "before"]),
        &Value::Float(96.5)
    );
    assert_eq!(get(&r.answers(), &["scenarios", "finance"]), &Value::Int(3));
    assert_eq!(
        get(&r.answers(), &["obstacles", "budget"]),
        &Value::Bool(true)
    );
    assert!(r.has_answers);
    // JSON for the store.
    let j = r.answers_value();
    assert_eq!(j["equipment_digital"]["digital"], 14);
    assert_eq!(smedx_io::json::from_json(&j), r.answers());
    assert_eq!(serde_json::to_string(&j).expect("json"), r.answers_json);

    let r = &b.rows[1];
    assert_eq!(get(&r.profile(), &["industry"]), &Value::Str("3982".into()));
    assert_eq!(get(&r.profile(), &["revenue"]), &Value::Int(4_505_000));
    assert_eq!(
        get(&r.profile(), &["supplies_chain_leader"]),
        &Value::Bool(false)
    );
    assert_eq!(get(&r.answers(), &["network"]), &Value::List(vec![]));
    assert!(r.has_answers);
    let r = &b.rows[2];
    assert!(!r.has_answers, "no questionnaire cell filled");
    assert_eq!(r.answers(), Value::Table(Default::default()));
    assert_eq!(r.answers_json, "{}");
}

#[test]
fn english_headers_ids_and_mixed_headers_are_accepted() {
    let en = "Enterprise name,Region code,Industry code,Employees (persons),Revenue (CNY 10k),Information systems,Scenario - Finance\nA,320506,C3311,10,100,Two or more business areas,2\n";
    let b = parse_csv(en.as_bytes(), kb()).expect("english");
    assert_eq!(b.header_lang, Some(Lang::En));
    assert_eq!(
        get(&b.rows[0].answers(), &["information_systems"]),
        &Value::Str("multiple".into())
    );
    let ids = "enterprise_name,region,industry,employees,revenue_wan,scenario.finance\nA,320506,C3311,10,100,2\n";
    let b = parse_csv(ids.as_bytes(), kb()).expect("ids");
    assert_eq!(b.header_lang, None);
    let mixed = "企业名称,region,Industry code,从业人员(人),REVENUE_WAN\nA,'320506,C3311,10,100\n";
    let b = parse_csv(mixed.as_bytes(), kb()).expect("mixed, with half-width brackets and case");
    assert_eq!(
        b.columns,
        vec![
            "enterprise_name",
            "region",
            "industry",
            "employees",
            "revenue_wan"
        ]
    );
}

#[test]
fn encodings_and_separators_excel_produces() {
    let csv = "企业名称,行政区划代码,行业代码,从业人员（人）,营业收入（万元）,主要痛点\n某某五金,320506,C3311,10,100,\"交期延误，\"\"急单\"\"多\n仓库找不到料\"\n第二家,320506,C3311,10,100,\n";
    let expect = parse_csv(csv.as_bytes(), kb()).expect("utf-8");
    assert_eq!(
        expect.rows[1].row, 3,
        "a line break inside a quoted cell stays in one sheet row"
    );
    assert_eq!(
        get(&expect.rows[0].profile(), &["pain_points"]),
        &Value::Str("交期延误，\"急单\"多\n仓库找不到料".into())
    );
    // UTF-8 with BOM.
    let bom = format!("\u{FEFF}{csv}");
    assert_eq!(
        parse_csv(bom.as_bytes(), kb()).expect("bom").rows,
        expect.rows
    );
    // GBK, as Excel saves "CSV (逗号分隔)" on Chinese Windows.
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    assert_eq!(
        parse_csv(gbk.as_ref(), kb()).expect("gbk").rows,
        expect.rows
    );
    // UTF-16 with BOM, tab-separated ("Unicode text").
    let tabbed = csv.replace(',', "\t").replace("交期延误\t", "交期延误，");
    let mut utf16 = vec![0xFF, 0xFE];
    for u in tabbed.encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    assert_eq!(
        parse_csv(utf16.as_slice(), kb()).expect("utf-16").rows,
        expect.rows
    );
    // Semicolons (European Excel).
    let semi = csv.replace(',', ";");
    assert_eq!(
        parse_csv(semi.as_bytes(), kb()).expect("semicolons").rows,
        expect.rows
    );
}

#[test]
fn progress_is_reported() {
    let n: usize = 5000;
    let data = demo_csv(n as u64, 5, Lang::Zh);
    let mut calls: Vec<(usize, usize)> = Vec::new();
    let b = parse_csv_with(
        data.as_slice(),
        kb(),
        &ImportOptions::default(),
        &mut |d, t| calls.push((d, t)),
    )
    .expect("valid");
    assert_eq!(b.rows.len(), n);
    assert_eq!(calls.last(), Some(&(n, n)));
    assert!(calls.len() >= 3, "{calls:?}");
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(calls.iter().all(|&(d, t)| d <= t && t == n), "{calls:?}");
    // The same from a workbook.
    let rows: Vec<_> = smedx_io::demo::generate(kb(), n as u64, 5).collect();
    let xlsx = smedx_io::write_xlsx(&smedx_io::records::records_table(
        kb(),
        Lang::En,
        "x",
        rows.iter(),
    ))
    .expect("xlsx");
    let mut calls: Vec<(usize, usize)> = Vec::new();
    let b = smedx_io::parse_xlsx_with(&xlsx, kb(), &ImportOptions::default(), &mut |d, t| {
        calls.push((d, t))
    })
    .expect("valid");
    assert_eq!(b.rows.len(), n);
    assert_eq!(calls.last(), Some(&(n, n)));
    assert!(calls.len() >= 3, "{calls:?}");
    assert!(calls.iter().all(|&(d, t)| d <= t && t == n), "{calls:?}");
}

#[test]
fn a_generated_100k_row_csv_parses_exactly() {
    use rayon::prelude::*;
    let kb = kb();
    let n = 100_000u64;
    let g = smedx_io::demo::Generator::new(kb, 2026);
    let rows: Vec<_> = (0..n).into_par_iter().map(|i| g.row(i)).collect();
    let mut w = smedx_io::records::RecordCsvWriter::new(kb, Lang::Zh, Vec::new(), true)
        .expect("header")
        .option_style(smedx_io::records::OptionStyle::Id);
    for r in &rows {
        w.write(r).expect("row");
    }
    let data = w.finish().expect("flushed");
    // Every questionnaire cell filled takes ~590 bytes a row: 100,000 rows are ~59 MB, within
    // the default limit, so a file of the size the import promises goes through as it is.
    assert!(data.len() > 50 * 1024 * 1024 && data.len() < smedx_io::import::MAX_BYTES);
    let opts = ImportOptions::default();
    let t = std::time::Instant::now();
    let b = parse_csv_with(data.as_slice(), kb, &opts, &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
    eprintln!("parse {:?}", t.elapsed());
    assert_eq!(b.rows.len(), n as usize);
    for (got, want) in b.rows.iter().zip(&rows) {
        assert_eq!(got.row as u64, want.index + 2);
        assert_eq!(got.enterprise, want.enterprise, "row {}", got.row);
        assert_eq!(got.profile(), want.profile, "row {}", got.row);
        assert_eq!(got.answers(), want.answers, "row {}", got.row);
    }
}

#[test]
fn an_export_in_the_import_format_imports_again_in_both_languages_and_formats() {
    let kb = kb();
    let rows: Vec<_> = smedx_io::demo::generate(kb, 200, 11).collect();
    for lang in [Lang::Zh, Lang::En] {
        let t = smedx_io::records::records_table(kb, lang, "企业", rows.iter());
        let xlsx = smedx_io::write_xlsx(&t).expect("xlsx");
        let from_xlsx = parse_xlsx(&xlsx, kb).unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
        let mut csv = Vec::new();
        smedx_io::write_csv(&t, &mut csv).expect("csv");
        let from_csv =
            parse_csv(csv.as_slice(), kb).unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
        assert_eq!(from_csv.rows, from_xlsx.rows);
        for (got, want) in from_csv.rows.iter().zip(&rows) {
            assert_eq!(got.profile(), want.profile);
            assert_eq!(got.answers(), want.answers);
            assert_eq!(got.enterprise, want.enterprise);
        }
    }
}
