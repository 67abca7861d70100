use calamine::{Reader, Xlsx};
use smedx_core::Lang;
use smedx_io::{parse_csv, parse_xlsx, template_csv, template_xlsx};

use crate::kb;

#[test]
fn csv_templates_parse_back_in_both_languages() {
    let kb = kb();
    for lang in [Lang::Zh, Lang::En] {
        let t = template_csv(kb, lang);
        let header = t.lines().next().expect("a header line");
        let cols = smedx_io::ColumnSet::new(kb);
        assert!(header.starts_with(cols.columns[0].header(lang)), "{header}");
        let batch = parse_csv(t.as_bytes(), kb)
            .unwrap_or_else(|e| panic!("{lang:?} template: {}", e.render(Lang::En)));
        assert_eq!(batch.rows.len(), 1);
        assert_eq!(batch.header_lang, Some(lang));
        assert_eq!(batch.columns.len(), cols.columns.len());
        let row = &batch.rows[0];
        assert_eq!(row.row, 2);
        assert!(row.has_answers);
        assert_eq!(row.enterprise.region, "320506");
        // 万元 in the file, yuan in the profile.
        let p = smedx_core::profile::validate(kb, &row.profile()).expect("valid profile");
        assert_eq!(p.revenue, Some(32_000_000.0));
        let a = smedx_core::assessment::parse_answers(&kb.questionnaire, &row.answers())
            .expect("valid answers");
        let r = smedx_core::assessment::assess(&kb.questionnaire, &a);
        assert_eq!(r.level, 1, "the example is a level-1 firm");
        assert!(r.unanswered.is_empty(), "{:?}", r.unanswered);
    }
}

#[test]
fn xlsx_templates_parse_back_and_have_help_and_lists() {
    let kb = kb();
    for (lang, data, help) in [
        (Lang::Zh, "企业数据", "说明"),
        (Lang::En, "Enterprises", "Help"),
    ] {
        let bytes = template_xlsx(kb, lang).expect("template written");
        let batch = parse_xlsx(&bytes, kb)
            .unwrap_or_else(|e| panic!("{lang:?} template: {}", e.render(Lang::En)));
        assert_eq!(batch.rows.len(), 1);
        assert_eq!(batch.sheet.as_deref(), Some(data));
        assert_eq!(batch.header_lang, Some(lang));
        // The same content as the CSV template.
        let csv = parse_csv(template_csv(kb, lang).as_bytes(), kb).expect("csv template");
        assert_eq!(batch.rows, csv.rows);

        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
        let names = wb.sheet_names();
        assert_eq!(names[..2], [data.to_string(), help.to_string()]);
        let h = wb.worksheet_range(help).expect("help sheet");
        let text: Vec<String> = h
            .rows()
            .flat_map(|r| r.iter().map(|c| c.to_string()))
            .collect();
        // Every column is explained, with its allowed values.
        for c in smedx_io::columns(kb) {
            assert!(text.contains(&c.id), "help lacks {}", c.id);
        }
        assert!(
            text.iter().any(|t| t.contains("multiple")),
            "options listed"
        );
    }
}

#[test]
fn headers_are_unambiguous_and_cover_the_questionnaire() {
    let kb = kb();
    let cols = smedx_io::ColumnSet::new(kb);
    assert!(
        cols.ambiguous_spellings().is_empty(),
        "{:?}",
        cols.ambiguous_spellings()
    );
    let ids = cols.ids();
    for must in [
        "enterprise_name",
        "credit_code",
        "region",
        "revenue_wan",
        "network",
        "information_systems",
        "equipment_digital.digital",
        "equipment_digital.total",
        "quality.before",
        "quality.after",
        "green.before.energy",
        "green.after.revenue",
        "scenario.production_control",
        "obstacle.budget",
    ] {
        assert!(ids.contains(&must), "missing column {must}");
    }
    assert_eq!(
        ids.iter().filter(|i| i.starts_with("scenario.")).count(),
        kb.questionnaire.scenario.len()
    );
}
