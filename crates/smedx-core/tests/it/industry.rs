//! GB/T 4754-2017 codes: the accepted forms, errors, coverage of the size standard, and placement in
//! sub-sectors and groups (cn-standards §4).

use smedx_core::industry::{self, IndustryCode, IndustryError, IndustryPlacement, OTHER_GROUP};

use crate::kb;

fn parse(code: &str) -> IndustryCode {
    industry::parse_code(kb(), code).unwrap_or_else(|e| panic!("\"{code}\" should parse: {e}"))
}

fn place(code: &str) -> IndustryPlacement {
    industry::place(kb(), &parse(code))
}

fn size_rule(code: &str) -> Result<String, IndustryError> {
    industry::size_category(kb(), &parse(code)).map(|c| c.id.clone())
}

#[test]
fn code_forms_resolve_consistently() {
    for input in ["C3670", "3670", "c3670", " C3670 "] {
        let code = parse(input);
        assert_eq!(code.section, "C", "{input:?}: section");
        assert_eq!(code.digits, "3670", "{input:?}: digits");
        assert_eq!(code.canonical(), "C3670", "{input:?}: canonical form");
        assert_eq!(code.division(), "36", "{input:?}: division");
    }
    let short = parse("367");
    assert_eq!(short.canonical(), "C367", "the section letter is filled in");

    for input in ["C3670", "3670", "367", "c3670"] {
        let p = place(input);
        assert_eq!(p.sector.as_deref(), Some("auto_parts"), "{input}: sector");
        assert_eq!(p.group, "equipment_mfg", "{input}: group");
        assert!(p.name.is_some(), "{input}: the matching rule has a name");
        assert_eq!(
            size_rule(input).as_deref(),
            Ok("industry"),
            "{input}: size rule"
        );
    }

    // The division alone names no sub-sector, only its group.
    let p = place("C36");
    assert_eq!(p.sector, None, "C36 is the whole automobile division");
    assert_eq!(p.group, "equipment_mfg");
    assert_eq!(size_rule("C36").as_deref(), Ok("industry"));
    // Other classes of division 36 are not auto parts.
    let p = place("C3610");
    assert_eq!(
        (p.sector, p.group.as_str()),
        (None, "equipment_mfg"),
        "C3610 whole vehicles"
    );
}

#[test]
fn letter_must_match_the_section() {
    match industry::parse_code(kb(), "F3670") {
        Err(IndustryError::SectionMismatch {
            division,
            expected,
            given,
            ..
        }) => {
            assert_eq!(
                (division.as_str(), expected.as_str(), given.as_str()),
                ("36", "C", "F")
            );
        }
        other => panic!("F3670: expected a section mismatch, got {other:?}"),
    }
    let err = industry::parse_code(kb(), "A51").expect_err("division 51 is wholesale (F)");
    assert!(
        matches!(err, IndustryError::SectionMismatch { .. }),
        "A51: {err:?}"
    );
    assert!(
        err.to_string().contains('F'),
        "the message names the right section: {err}"
    );
    // A matching lower-case letter is fine.
    assert_eq!(parse("f51").canonical(), "F51");
}

#[test]
fn malformed_codes_are_refused() {
    for input in [
        "C", "12345", "abc", "", "   ", "1", "C1", "C12345", "C36x", "3-6", "C 3670", "中3670",
        "CC36",
    ] {
        match industry::parse_code(kb(), input) {
            Err(IndustryError::Malformed(echo)) => {
                assert_eq!(echo, input, "the error repeats the input");
            }
            other => panic!("{input:?}: expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn unknown_divisions_are_refused() {
    for input in ["00", "98", "99", "C99", "0011"] {
        match industry::parse_code(kb(), input) {
            Err(IndustryError::UnknownDivision { division, .. }) => {
                assert_eq!(
                    division,
                    input.trim_start_matches('C')[..2],
                    "{input}: division named"
                );
            }
            other => panic!("{input:?}: expected UnknownDivision, got {other:?}"),
        }
    }
}

#[test]
fn codes_outside_the_size_standard_are_not_covered() {
    for input in [
        "J66", "J6610", "J69", "G53", "G5310", "P83", "Q84", "S91", "S96", "T97", "K7040", "K704",
    ] {
        match size_rule(input) {
            Err(IndustryError::NotCovered {
                code,
                reason,
                reason_zh,
            }) => {
                assert_eq!(code, parse(input).canonical(), "{input}: the code is named");
                assert!(
                    !reason.is_empty() && !reason_zh.is_empty(),
                    "{input}: a reason in both languages"
                );
            }
            other => panic!("{input}: expected NotCovered, got {other:?}"),
        }
    }
}

#[test]
fn real_estate_division_alone_is_too_general() {
    match size_rule("K70") {
        Err(IndustryError::TooGeneral { code, examples }) => {
            assert_eq!(code, "K70");
            for more in ["K701", "K702"] {
                assert!(
                    examples.contains(more),
                    "the hint {examples:?} should offer {more}"
                );
            }
        }
        other => panic!("K70: expected TooGeneral, got {other:?}"),
    }
    let err = size_rule("K70").expect_err("too general");
    assert!(err.localized().zh.contains("K70"), "{}", err.localized().zh);
}

/// A core GB/T 4754 class of each of the ten sub-sectors (cn-standards §4.2) and its group.
const SECTOR_CODES: &[(&str, &str, &str)] = &[
    ("metal", "C3311", "equipment_mfg"),
    ("metal", "C3360", "equipment_mfg"),
    ("metal", "C3391", "equipment_mfg"),
    ("cement", "C3011", "raw_materials"),
    ("cement", "C3021", "raw_materials"),
    ("textile", "C1713", "consumer_goods"),
    ("textile", "C1762", "consumer_goods"),
    ("pcb", "C3982", "electronics"),
    ("auto_parts", "C3670", "equipment_mfg"),
    ("aero_parts", "C3743", "equipment_mfg"),
    ("aero_parts", "C3744", "equipment_mfg"),
    ("apparel", "C1811", "consumer_goods"),
    ("apparel", "C1830", "consumer_goods"),
    ("cons_elec", "C3922", "electronics"),
    ("cons_elec", "C3961", "electronics"),
    ("cons_elec", "C3951", "electronics"),
    ("daily_chem", "C2682", "consumer_goods"),
    ("daily_chem", "C2681", "consumer_goods"),
    ("equipment", "C3441", "equipment_mfg"),
    ("equipment", "C3443", "equipment_mfg"),
];

#[test]
fn every_sector_has_a_code_that_resolves_to_it() {
    let kb = kb();
    let mut failures = Vec::new();
    for (sector, code, group) in SECTOR_CODES {
        let p = place(code);
        if p.sector.as_deref() != Some(*sector) || p.group != *group {
            failures.push(format!(
                "{code}: expected {sector}/{group}, got {:?}/{}",
                p.sector, p.group
            ));
        }
        match kb.sector(sector) {
            Some(s) if s.group == *group => {}
            other => failures.push(format!(
                "sector {sector}: expected group {group}, got {other:?}"
            )),
        }
    }
    for s in &kb.sectors {
        if !SECTOR_CODES.iter().any(|(id, _, _)| *id == s.id) {
            failures.push(format!("sector {} has no code in this test", s.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn daily_chemicals_are_consumer_goods_inside_a_raw_materials_division() {
    let p = place("2682");
    assert_eq!(p.sector.as_deref(), Some("daily_chem"));
    assert_eq!(p.group, "consumer_goods");
    // The rest of C26 stays raw materials.
    for code in ["C26", "C2611", "C2710"] {
        let p = place(code);
        let expected = if code == "C2710" {
            "consumer_goods"
        } else {
            "raw_materials"
        };
        assert_eq!(
            (p.sector.as_deref(), p.group.as_str()),
            (None, expected),
            "{code}"
        );
    }
}

#[test]
fn divisions_fall_back_to_their_group() {
    let cases = [
        ("C13", "consumer_goods"),
        ("C1711", "consumer_goods"), // spinning, not dyeing: not the textile sub-sector
        ("C25", "raw_materials"),
        ("C3130", "raw_materials"),
        ("C3484", "equipment_mfg"),
        ("C3910", "electronics"),
        ("C41", "consumer_goods"),
        ("C43", "equipment_mfg"),
    ];
    for (code, group) in cases {
        let p = place(code);
        assert_eq!(p.sector, None, "{code}: no sub-sector");
        assert_eq!(p.group, group, "{code}: group");
    }
}

#[test]
fn non_manufacturing_codes_are_group_other() {
    let p = place("F51");
    assert_eq!(p.sector, None);
    assert_eq!(p.group, OTHER_GROUP);
    assert_eq!(p.group, "other");
    assert_eq!(size_rule("F51").as_deref(), Ok("wholesale"));
    for code in ["A01", "B06", "D44", "E47", "F52", "I65", "M73"] {
        let p = place(code);
        assert_eq!((p.sector, p.group.as_str()), (None, "other"), "{code}");
    }
}
