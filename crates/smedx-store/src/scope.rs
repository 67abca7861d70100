//! Who may see what: [`Scope`], region codes and prefixes, and the calendar helpers the
//! regional workspace shares.
//!
//! Region codes are the six-digit GB/T 2260 codes ("320506" = Wuzhong District of Suzhou,
//! Jiangsu). The database stores them as integers, so that a region's subtree is an integer range;
//! the API passes them as text, as people write them.

use serde::Serialize;

use crate::{Id, Role, User};

/// The integer value of a six-digit region code ("320506" → 320506); None unless the text is
/// exactly six ASCII digits from 100000 to 999999.
pub fn parse_region_code(code: &str) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    code.parse::<i64>()
        .ok()
        .filter(|c| (100_000..=999_999).contains(c))
}

/// The six-digit text of a stored region code.
pub fn region_code_text(code: i64) -> String {
    format!("{code:06}")
}

/// A region subtree: the first 2 (province), 4 (prefecture-level city) or 6 (county) digits of
/// a region code. Only [`RegionPrefix::parse`] and [`RegionPrefix::of_code`] make one, so a
/// prefix is never empty (an empty prefix would mean "everywhere").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RegionPrefix(String);

impl RegionPrefix {
    /// A prefix from what a person types: "32" or "3205" as they are, a six-digit code as the
    /// area it names ("320000" → "32", "320500" → "3205", "320506" → "320506").
    pub fn parse(text: &str) -> Option<RegionPrefix> {
        let text = text.trim();
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match text.len() {
            2 | 4 if !text.starts_with('0') => Some(RegionPrefix(text.to_owned())),
            6 => parse_region_code(text).map(RegionPrefix::of_code),
            _ => None,
        }
    }

    /// The area a six-digit code names: a province code (`xx0000`) its province, a city code
    /// (`xxxx00`) its city, any other code itself. This is the subtree an authority user of
    /// that code sees.
    pub fn of_code(code: i64) -> RegionPrefix {
        let text = region_code_text(code);
        let prefix = if text.ends_with("0000") {
            &text[..2]
        } else if text.ends_with("00") {
            &text[..4]
        } else {
            &text[..]
        };
        RegionPrefix(prefix.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The codes of the subtree: `lo <= code < hi`.
    pub fn range(&self) -> (i64, i64) {
        let digits = u32::try_from(self.0.len()).unwrap_or(6).min(6);
        let scale = 10_i64.pow(6 - digits);
        let value: i64 = self.0.parse().unwrap_or(0);
        (value * scale, (value + 1) * scale)
    }

    /// True when the code lies in this subtree.
    pub fn contains_code(&self, code: i64) -> bool {
        let (lo, hi) = self.range();
        (lo..hi).contains(&code)
    }

    /// True when `other` is this subtree or lies inside it.
    pub fn contains(&self, other: &RegionPrefix) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl std::fmt::Display for RegionPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a caller may see. Every method of the regional workspace takes one, so a handler that
/// forgets a role check still cannot read outside it.
///
/// * `All`: administrators (and the command line, run by the operator).
/// * `Region(prefix)`: an authority: aggregates of the enterprises located in the subtree, and
///   individual assessments only of enterprises that joined one of the subtree's campaigns.
/// * `Cluster(id)`: a cluster manager: aggregates of the cluster's enterprises, individual
///   assessments only of members of the cluster's campaigns.
/// * `Enterprise(id)`: an enterprise user: its own data; no aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Scope {
    All,
    Region(RegionPrefix),
    Cluster(String),
    Enterprise(Id),
}

/// The scope of a signed-in user; None for a user who may see no data (a provider, or an
/// account lacking the region or cluster its role needs).
pub fn scope_for(user: &User) -> Option<Scope> {
    match user.role {
        Role::Admin => Some(Scope::All),
        Role::Authority => user
            .region_code
            .as_deref()
            .and_then(parse_region_code)
            .map(|code| Scope::Region(RegionPrefix::of_code(code))),
        Role::Cluster => user.cluster_id.clone().map(Scope::Cluster),
        Role::Enterprise => user.enterprise_id.map(Scope::Enterprise),
        Role::Provider => None,
    }
}

// ---- the calendar (UTC), without a date library -----------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The month (YYYYMM, UTC) of a Unix time.
pub fn month_of(secs: i64) -> i64 {
    let (y, m, _) = civil_from_days(secs.div_euclid(86_400));
    y * 100 + m
}

/// "YYYY-MM-DD" → days since 1970-01-01; None unless it is a real date between 1900 and 9999.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &str| -> Option<i64> {
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(&text[..4])?, num(&text[5..7])?, num(&text[8..])?);
    if !(1900..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// "YYYY-MM-DD" (UTC) of a Unix time.
pub fn date_text(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// "YYYY-MM" or "YYYYMM" → YYYYMM; None for anything else.
pub fn parse_month(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits: String = match text.len() {
        7 if text.as_bytes()[4] == b'-' => format!("{}{}", &text[..4], &text[5..]),
        6 => text.to_owned(),
        _ => return None,
    };
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let value: i64 = digits.parse().ok()?;
    let (y, m) = (value / 100, value % 100);
    ((1900..=9999).contains(&y) && (1..=12).contains(&m)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes() {
        assert_eq!(parse_region_code("320506"), Some(320_506));
        assert_eq!(parse_region_code(" 110000 "), Some(110_000));
        for bad in [
            "", "32050", "3205061", "32O506", "-32050", "000001", "+32050",
        ] {
            assert_eq!(parse_region_code(bad), None, "{bad:?}");
        }
        assert_eq!(region_code_text(320_506), "320506");
    }

    #[test]
    fn prefixes() {
        let p = |s: &str| RegionPrefix::parse(s).map(|p| p.as_str().to_owned());
        assert_eq!(p("320000").as_deref(), Some("32"));
        assert_eq!(p("320500").as_deref(), Some("3205"));
        assert_eq!(p("320506").as_deref(), Some("320506"));
        assert_eq!(p("32").as_deref(), Some("32"));
        assert_eq!(p("3205").as_deref(), Some("3205"));
        for bad in ["", "3", "320", "32050", "03", "ab", "3205067"] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
        let jiangsu = RegionPrefix::parse("32").expect("prefix");
        let suzhou = RegionPrefix::parse("320500").expect("prefix");
        let wuzhong = RegionPrefix::parse("320506").expect("prefix");
        assert_eq!(jiangsu.range(), (320_000, 330_000));
        assert_eq!(suzhou.range(), (320_500, 320_600));
        assert_eq!(wuzhong.range(), (320_506, 320_507));
        assert!(jiangsu.contains(&suzhou) && suzhou.contains(&wuzhong));
        assert!(!suzhou.contains(&jiangsu));
        assert!(suzhou.contains_code(320_506) && suzhou.contains_code(320_500));
        assert!(!suzhou.contains_code(320_600) && !suzhou.contains_code(320_499));
        let nanjing = RegionPrefix::parse("3201").expect("prefix");
        assert!(!nanjing.contains(&wuzhong) && !wuzhong.contains(&nanjing));
    }

    fn user(role: Role) -> User {
        User {
            id: 1,
            email: "x@example.cn".into(),
            password_hash: String::new(),
            role,
            enterprise_id: None,
            lang: None,
            created_at: 0,
            region_code: None,
            cluster_id: None,
        }
    }

    #[test]
    fn scopes_follow_roles() {
        assert_eq!(scope_for(&user(Role::Admin)), Some(Scope::All));
        assert_eq!(scope_for(&user(Role::Provider)), None);
        assert_eq!(
            scope_for(&user(Role::Authority)),
            None,
            "no region, no scope"
        );
        let mut city = user(Role::Authority);
        city.region_code = Some("320500".into());
        assert_eq!(
            scope_for(&city),
            Some(Scope::Region(RegionPrefix::parse("3205").expect("prefix")))
        );
        let mut cluster = user(Role::Cluster);
        cluster.cluster_id = Some("wuzhong-precision".into());
        assert_eq!(
            scope_for(&cluster),
            Some(Scope::Cluster("wuzhong-precision".into()))
        );
        let mut firm = user(Role::Enterprise);
        firm.enterprise_id = Some(7);
        assert_eq!(scope_for(&firm), Some(Scope::Enterprise(7)));
    }

    #[test]
    fn calendar() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2025, 1, 1), 20_089);
        for day in [-1, 0, 59, 365, 11_016, 20_089, 20_759, 100_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(month_of(1_700_000_000), 202_311);
        assert_eq!(date_text(1_700_000_000), "2023-11-14");
        assert_eq!(parse_date("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "20240101",
            "abcd-ef-gh",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
        assert_eq!(parse_month("2026-03"), Some(202_603));
        assert_eq!(parse_month("202603"), Some(202_603));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026/03"), None);
    }
}
