//! GB/T 4754-2017 industry codes: parsing, and resolution to sub-sector, broad group and the size
//! category of the 2017 statistical standard. Longest prefix wins.

use serde::{Deserialize, Serialize};

use crate::kb::{KnowledgeBase, SizeCategory};
use crate::lang::Localized;

/// The group every code outside manufacturing (and outside the four groups) falls into.
pub const OTHER_GROUP: &str = "other";

/// A normalised GB/T 4754-2017 code: the section letter and 2–4 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndustryCode {
    pub section: String,
    pub digits: String,
}

impl IndustryCode {
    /// The canonical display form, e.g. `C3670`.
    pub fn canonical(&self) -> String {
        format!("{}{}", self.section, self.digits)
    }
    pub fn division(&self) -> &str {
        &self.digits[..2]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndustryError {
    #[error(
        "industry code \"{0}\" is not a GB/T 4754-2017 code (expected e.g. C3670, 3670, 367 or C36)"
    )]
    Malformed(String),
    #[error("industry code \"{code}\": division {division} does not exist in GB/T 4754-2017")]
    UnknownDivision { code: String, division: String },
    #[error(
        "industry code \"{code}\": division {division} belongs to section {expected}, not {given}"
    )]
    SectionMismatch {
        code: String,
        division: String,
        expected: String,
        given: String,
    },
    #[error("industry code \"{code}\" is not covered by the 2017 size standard: {reason}")]
    NotCovered {
        code: String,
        reason: String,
        reason_zh: String,
    },
    #[error(
        "industry code \"{code}\" is too general to choose a size rule; give a more specific code (e.g. one of {examples})"
    )]
    TooGeneral { code: String, examples: String },
}

impl IndustryError {
    pub fn localized(&self) -> Localized {
        let en = self.to_string();
        let zh = match self {
            IndustryError::Malformed(c) => {
                format!(
                    "行业代码“{c}”不是国民经济行业分类（GB/T 4754-2017）代码，应形如 C3670、3670、367 或 C36"
                )
            }
            IndustryError::UnknownDivision { code, division } => {
                format!("行业代码“{code}”：GB/T 4754-2017 中没有 {division} 大类")
            }
            IndustryError::SectionMismatch {
                code,
                division,
                expected,
                given,
            } => format!("行业代码“{code}”：{division} 大类属于 {expected} 门类，而不是 {given}"),
            IndustryError::NotCovered {
                code, reason_zh, ..
            } => {
                format!("行业代码“{code}”不在 2017 年企业划型标准范围内：{reason_zh}")
            }
            IndustryError::TooGeneral { code, examples } => {
                format!(
                    "行业代码“{code}”过于笼统，无法确定划型规则，请填写更具体的代码（如 {examples}）"
                )
            }
        };
        Localized::new(zh, en)
    }
}

/// Parses `C3670`, `c3670`, `3670`, `367`, `C36`; checks the letter against the division's section.
pub fn parse_code(kb: &KnowledgeBase, input: &str) -> Result<IndustryCode, IndustryError> {
    let s = input.trim();
    let (letter, digits) = match s.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => (Some(c.to_ascii_uppercase()), &s[1..]),
        _ => (None, s),
    };
    if !(2..=4).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IndustryError::Malformed(input.to_string()));
    }
    let division: u32 = digits[..2]
        .parse()
        .map_err(|_| IndustryError::Malformed(input.to_string()))?;
    let section = kb
        .sections
        .iter()
        .find(|sec| sec.first <= division && division <= sec.last)
        .ok_or_else(|| IndustryError::UnknownDivision {
            code: input.to_string(),
            division: digits[..2].to_string(),
        })?;
    if let Some(l) = letter
        && section.letter != l.to_string()
    {
        return Err(IndustryError::SectionMismatch {
            code: input.to_string(),
            division: digits[..2].to_string(),
            expected: section.letter.clone(),
            given: l.to_string(),
        });
    }
    // Manufacturing divisions must exist in the division table (13–43 all do); other sections are
    // accepted by range.
    Ok(IndustryCode {
        section: section.letter.clone(),
        digits: digits.to_string(),
    })
}

/// Where a code sits in the project's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndustryPlacement {
    pub sector: Option<String>,
    pub group: String,
    /// Name of the most specific rule that matched (mapping or division), if any.
    pub name: Option<Localized>,
}

/// Sub-sector and group by longest prefix over the mapping table, falling back to the division.
pub fn place(kb: &KnowledgeBase, code: &IndustryCode) -> IndustryPlacement {
    let best = kb
        .mappings
        .iter()
        .filter(|m| code.digits.starts_with(&m.prefix))
        .max_by_key(|m| m.prefix.len());
    if let Some(m) = best {
        return IndustryPlacement {
            sector: m.sector.clone(),
            group: m.group.clone(),
            name: Some(m.name.clone()),
        };
    }
    match kb.divisions.iter().find(|d| d.code == code.division()) {
        Some(d) => IndustryPlacement {
            sector: None,
            group: d.group.clone(),
            name: Some(d.name.clone()),
        },
        None => IndustryPlacement {
            sector: None,
            group: OTHER_GROUP.to_string(),
            name: kb
                .sections
                .iter()
                .find(|s| s.letter == code.section)
                .map(|s| s.name.clone()),
        },
    }
}

/// The size-standard category for a code (longest prefix; exclusions win when more specific).
pub fn size_category<'a>(
    kb: &'a KnowledgeBase,
    code: &IndustryCode,
) -> Result<&'a SizeCategory, IndustryError> {
    let std = &kb.size_standard;
    let cat = std
        .category
        .iter()
        .flat_map(|c| c.prefixes.iter().map(move |p| (p, c)))
        .filter(|(p, _)| code.digits.starts_with(p.as_str()))
        .max_by_key(|(p, _)| p.len());
    let excl = std
        .not_covered
        .iter()
        .flat_map(|n| n.prefixes.iter().map(move |p| (p, n)))
        .filter(|(p, _)| code.digits.starts_with(p.as_str()))
        .max_by_key(|(p, _)| p.len());
    match (cat, excl) {
        (Some((p, c)), Some((q, _))) if p.len() > q.len() => Ok(c),
        (_, Some((_, n))) => Err(IndustryError::NotCovered {
            code: code.canonical(),
            reason: n.reason.en.clone(),
            reason_zh: n.reason.zh.clone(),
        }),
        (Some((_, c)), None) => Ok(c),
        (None, None) => {
            let mut more: Vec<String> = std
                .category
                .iter()
                .flat_map(|c| c.prefixes.iter())
                .chain(std.not_covered.iter().flat_map(|n| n.prefixes.iter()))
                .filter(|p| p.starts_with(&code.digits))
                .map(|p| format!("{}{}", code.section, p))
                .collect();
            more.sort();
            more.truncate(4);
            Err(IndustryError::TooGeneral {
                code: code.canonical(),
                examples: more.join(", "),
            })
        }
    }
}
