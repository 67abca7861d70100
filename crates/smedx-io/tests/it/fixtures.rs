//! Files committed under `fixtures/`:
//!
//! * `import-sample.csv` — 30 generated enterprises (seed 2026) with Chinese headers, UTF-8 with a
//!   byte-order mark, plus a few hand-made touches (a quoted line break, a formula-like text, a
//!   blank line, TRUE/FALSE and a slash date), written by the ignored test `write_import_sample`:
//!
//!       cargo test -p smedx-io --test it -- --ignored write_import_sample
//!
//! * `import-sample.xlsx` — that CSV converted by a real spreadsheet program (LibreOffice Calc
//!   7.4, `apt-get install -y libreoffice-calc-nogui`):
//!
//!       soffice --headless --infilter="CSV:44,34,76,1,,1033,false,true" \
//!           --convert-to xlsx --outdir fixtures/ fixtures/import-sample.csv
//!
//!   The filter options say comma-separated, `"`-quoted, UTF-8 (76), from line 1, detect special
//!   numbers (dates). Without them LibreOffice reads the file in the locale's 8-bit charset and the
//!   Chinese headers become mojibake (which the importer reports as unknown columns).
//!
//!   LibreOffice turns the region codes, figures and dates into numbers and date cells and
//!   TRUE/FALSE into booleans, as Excel would; the test below checks that the workbook imports
//!   exactly like the CSV. It needs no LibreOffice at run time.
//! * `import-errors.csv` — deliberate mistakes (see `errors.rs`).

use smedx_core::Lang;
use smedx_io::{parse_csv, parse_xlsx};

use crate::{fixture, kb};

#[test]
fn the_libreoffice_workbook_imports_exactly_like_its_csv() {
    let csv = std::fs::read(fixture("import-sample.csv")).expect("fixtures/import-sample.csv");
    let xlsx = std::fs::read(fixture("import-sample.xlsx")).expect("fixtures/import-sample.xlsx");
    // Really written by LibreOffice, not by this crate.
    let app = zip_entry(&xlsx, "docProps/app.xml");
    assert!(app.contains("LibreOffice"), "{app}");
    let from_csv =
        parse_csv(csv.as_slice(), kb()).unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
    let from_xlsx = parse_xlsx(&xlsx, kb()).unwrap_or_else(|e| panic!("{}", e.render(Lang::En)));
    assert_eq!(from_csv.rows.len(), 30);
    assert_eq!(
        from_csv.skipped_empty_rows, 0,
        "csv drops the blank line itself"
    );
    assert_eq!(from_xlsx.header_lang, Some(Lang::Zh));
    assert_eq!(from_xlsx.columns, from_csv.columns);
    assert_eq!(from_xlsx.rows.len(), from_csv.rows.len());
    for (x, c) in from_xlsx.rows.iter().zip(&from_csv.rows) {
        assert_eq!(x.row, c.row);
        assert_eq!(x.enterprise, c.enterprise, "row {}", c.row);
        assert_eq!(x.profile_json, c.profile_json, "row {}", c.row);
        assert_eq!(x.answers_json, c.answers_json, "row {}", c.row);
    }
    // The touches survived: the blank line is a sheet row, the formula-like text is text.
    assert_eq!(from_csv.rows[10].row, 13);
    let pains: Vec<String> = from_csv
        .rows
        .iter()
        .filter_map(|r| match &r.profile() {
            smedx_core::profile::Value::Table(t) => match t.get("pain_points") {
                Some(smedx_core::profile::Value::Str(s)) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert!(pains.iter().any(|p| p == "=SUM(1,2) 也算不清"), "{pains:?}");
    assert!(
        pains
            .iter()
            .any(|p| p.contains('\n') && p.contains("\"急单\"")),
        "{pains:?}"
    );
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut f = z.by_name(name).expect("entry");
    let mut s = String::new();
    f.read_to_string(&mut s).expect("text");
    s
}

/// Writes `fixtures/import-sample.csv` (see the module comment).
#[test]
#[ignore]
fn write_import_sample() {
    let kb = kb();
    let cols = smedx_io::ColumnSet::new(kb);
    let col = |id: &str| {
        cols.columns
            .iter()
            .position(|c| c.id == id)
            .expect("column")
    };
    let rows: Vec<_> = smedx_io::demo::generate(kb, 30, 2026).collect();
    let mut w =
        smedx_io::records::RecordCsvWriter::new(kb, Lang::Zh, Vec::new(), true).expect("header");
    for r in &rows {
        w.write(r).expect("row");
    }
    let data = w.finish().expect("flushed");
    let text = String::from_utf8(data).expect("utf-8");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    let mut recs: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    // Row 5 (record 4): a pain text with quotes, a comma and a line break.
    recs[4][col("pain_points")] = "交期总延误，\"急单\"插不进去\n仓库找不到料".into();
    // Row 7: a formula-like text (the writer would add the apostrophe; so do we).
    recs[6][col("pain_points")] = "'=SUM(1,2) 也算不清".into();
    // Row 9: booleans as TRUE/FALSE, the date with slashes.
    recs[8][col("in_cluster")] = "TRUE".into();
    recs[8][col("uses_platform")] = "FALSE".into();
    recs[8][col("assessed_on")] = recs[8][col("assessed_on")].replace('-', "/");
    let mut out: Vec<u8> = "\u{FEFF}".as_bytes().to_vec();
    for (i, r) in recs.iter().enumerate() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(r).expect("record");
        out.extend(w.into_inner().expect("flushed"));
        if i == 10 {
            // A blank line after the tenth enterprise (sheet row 12).
            out.push(b'\n');
        }
    }
    std::fs::write(fixture("import-sample.csv"), out).expect("written");
}
