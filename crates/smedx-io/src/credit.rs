//! Identifiers checked by format: the 18-character unified social credit code (统一社会信用代码,
//! GB 32100-2015) and the six-digit administrative region code (GB/T 2260).

use smedx_core::Localized;

/// The 31 characters of the code (no I, O, S, V, Z), in value order.
const CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: u8) -> Option<u32> {
    CHARS.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The check character for the first 17 characters of a code (None if one is not allowed).
pub fn check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in b.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let r = (31 - sum % 31) % 31;
    Some(CHARS[r as usize] as char)
}

/// Completes 17 characters with their check character.
pub fn with_check(first17: &str) -> Option<String> {
    check_char(first17).map(|c| format!("{first17}{c}"))
}

/// Checks a unified social credit code and returns it normalised (upper case, no spaces).
pub fn validate_credit_code(input: &str) -> Result<String, Localized> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c {
            '\u{FF10}'..='\u{FF5A}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect::<String>()
        .to_ascii_uppercase();
    let n = code.chars().count();
    if n != 18 {
        return Err(Localized::new(
            format!("统一社会信用代码应为 18 位，“{input}”是 {n} 位"),
            format!("a unified social credit code has 18 characters; \"{input}\" has {n}"),
        ));
    }
    if let Some(bad) = code.bytes().find(|&b| value(b).is_none()) {
        let shown = bad as char;
        return Err(Localized::new(
            format!(
                "统一社会信用代码“{input}”含有不允许的字符“{shown}”（只能是数字和除 I、O、S、V、Z 以外的大写字母）"
            ),
            format!(
                "the unified social credit code \"{input}\" contains \"{shown}\" (only digits and capital letters other than I, O, S, V, Z are used)"
            ),
        ));
    }
    let expected = check_char(&code[..17]).unwrap_or('?');
    if code.as_bytes()[17] as char != expected {
        return Err(Localized::new(
            format!(
                "统一社会信用代码“{input}”的校验位不对（按前 17 位应为“{expected}”），请核对是否抄错"
            ),
            format!(
                "the check character of the unified social credit code \"{input}\" is wrong (the first 17 characters give \"{expected}\"); check for a typo"
            ),
        ));
    }
    Ok(code)
}

/// Two-digit province codes of GB/T 2260 (including Taiwan, Hong Kong and Macao).
const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// Checks a GB/T 2260 region code: six digits, a real province prefix, not 000000.
pub fn validate_region(input: &str) -> Result<String, Localized> {
    let code = input.trim();
    let bad = || {
        Localized::new(
            format!("“{input}”不是有效的行政区划代码（GB/T 2260，6 位数字，如 320506）"),
            format!("\"{input}\" is not a GB/T 2260 region code (six digits, e.g. 320506)"),
        )
    };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) || code == "000000" {
        return Err(bad());
    }
    if !PROVINCES.contains(&&code[..2]) {
        return Err(Localized::new(
            format!(
                "“{input}”不是有效的行政区划代码：没有以 {} 开头的省级代码",
                &code[..2]
            ),
            format!(
                "\"{input}\" is not a GB/T 2260 region code: no province code starts with {}",
                &code[..2]
            ),
        ));
    }
    Ok(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_characters_of_published_codes() {
        for code in [
            "91350100M000100Y43",
            "91330100716105852F",
            "9144030071526726XG",
            "91110108551385082Q",
        ] {
            assert_eq!(validate_credit_code(code).as_deref(), Ok(code));
        }
        assert!(validate_credit_code("91350100M000100Y44").is_err());
        assert!(validate_credit_code("91350100M000100I43").is_err());
        assert_eq!(
            validate_credit_code("91350100m000100y43").as_deref(),
            Ok("91350100M000100Y43")
        );
    }

    #[test]
    fn regions() {
        assert!(validate_region("320506").is_ok());
        assert!(validate_region("000000").is_err());
        assert!(validate_region("990000").is_err());
        assert!(validate_region("32050").is_err());
    }
}
