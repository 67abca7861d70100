//! Loads the smedx knowledge base from TOML files and validates it.
//!
//! The default knowledge base (`data/` in the repository) is embedded in the binary at build time;
//! [`KbSource::Dir`] loads an administrator's folder instead. Validation collects every problem with
//! its file and key; a knowledge base with any problem is refused as a whole.

mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use smedx_core::kb::*;

pub use validate::validate;

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../data");

/// The files of a knowledge base, in load order.
pub const FILES: &[&str] = &[
    "chains.toml",
    "domains.toml",
    "scenarios.toml",
    "sectors.toml",
    "cases.toml",
    "paths.toml",
    "obstacles.toml",
    "industries.toml",
    "size_standard.toml",
    "synonyms.toml",
    "questionnaire.toml",
    "rules.toml",
];

/// Where to read the knowledge base from.
#[derive(Debug, Clone)]
pub enum KbSource {
    Embedded,
    Dir(PathBuf),
}

/// One problem, located by file and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbError {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl fmt::Display for KbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

/// Every problem found while loading.
#[derive(Debug, Clone, thiserror::Error)]
pub struct KbErrors(pub Vec<KbError>);

impl fmt::Display for KbErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the knowledge base has {} problem(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainsFile {
    chain: Vec<Chain>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainsFile {
    domain: Vec<Domain>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenariosFile {
    scenario: Vec<Scenario>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectorsFile {
    group: Vec<Group>,
    sector: Vec<Sector>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CasesFile {
    case: Vec<Case>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsFile {
    path: Vec<smedx_core::kb::Path>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObstaclesFile {
    obstacle: Vec<Obstacle>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndustriesFile {
    section: Vec<Section>,
    division: Vec<Division>,
    #[serde(default)]
    mapping: Vec<IndustryMapping>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SynonymsFile {
    #[serde(default)]
    synonym: Vec<SynonymGroup>,
}

/// Reads one file's text from the source.
pub fn read_file(source: &KbSource, name: &str) -> Result<String, KbError> {
    match source {
        KbSource::Embedded => EMBEDDED
            .get_file(name)
            .and_then(|f| f.contents_utf8())
            .map(str::to_string)
            .ok_or_else(|| KbError {
                file: name.to_string(),
                key: String::new(),
                message: "missing from the embedded knowledge base".into(),
            }),
        KbSource::Dir(dir) => std::fs::read_to_string(dir.join(name)).map_err(|e| KbError {
            file: dir.join(name).display().to_string(),
            key: String::new(),
            message: format!("cannot read: {e}"),
        }),
    }
}

fn parse<T: DeserializeOwned>(source: &KbSource, name: &str, errs: &mut Vec<KbError>) -> Option<T> {
    let text = match read_file(source, name) {
        Ok(t) => t,
        Err(e) => {
            errs.push(e);
            return None;
        }
    };
    match toml::from_str::<T>(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((0, 0));
            errs.push(KbError {
                file: name.to_string(),
                key: if line > 0 {
                    format!("line {line}, column {col}")
                } else {
                    String::new()
                },
                message: e.message().trim().to_string(),
            });
            None
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Loads and validates a knowledge base.
pub fn load(source: &KbSource) -> Result<KnowledgeBase, KbErrors> {
    let mut errs = Vec::new();
    let chains: Option<ChainsFile> = parse(source, "chains.toml", &mut errs);
    let domains: Option<DomainsFile> = parse(source, "domains.toml", &mut errs);
    let scenarios: Option<ScenariosFile> = parse(source, "scenarios.toml", &mut errs);
    let sectors: Option<SectorsFile> = parse(source, "sectors.toml", &mut errs);
    let cases: Option<CasesFile> = parse(source, "cases.toml", &mut errs);
    let paths: Option<PathsFile> = parse(source, "paths.toml", &mut errs);
    let obstacles: Option<ObstaclesFile> = parse(source, "obstacles.toml", &mut errs);
    let industries: Option<IndustriesFile> = parse(source, "industries.toml", &mut errs);
    let size_standard: Option<SizeStandard> = parse(source, "size_standard.toml", &mut errs);
    let synonyms: Option<SynonymsFile> = parse(source, "synonyms.toml", &mut errs);
    let questionnaire: Option<smedx_core::assessment::Questionnaire> =
        parse(source, "questionnaire.toml", &mut errs);
    let rules: Option<smedx_core::rules::Rules> = parse(source, "rules.toml", &mut errs);
    let (
        Some(chains),
        Some(domains),
        Some(scenarios),
        Some(sectors),
        Some(cases),
        Some(paths),
        Some(obstacles),
        Some(industries),
        Some(size_standard),
        Some(synonyms),
        Some(questionnaire),
        Some(rules),
    ) = (
        chains,
        domains,
        scenarios,
        sectors,
        cases,
        paths,
        obstacles,
        industries,
        size_standard,
        synonyms,
        questionnaire,
        rules,
    )
    else {
        return Err(KbErrors(errs));
    };
    let kb = KnowledgeBase {
        chains: chains.chain,
        domains: domains.domain,
        scenarios: scenarios.scenario,
        groups: sectors.group,
        sectors: sectors.sector,
        cases: cases.case,
        paths: paths.path,
        obstacles: obstacles.obstacle,
        sections: industries.section,
        divisions: industries.division,
        mappings: industries.mapping,
        size_standard,
        synonyms: synonyms.synonym,
        questionnaire,
        rules,
        derived: Default::default(),
    };
    let problems = validate(&kb);
    if problems.is_empty() {
        Ok(kb)
    } else {
        Err(KbErrors(problems))
    }
}

/// The embedded default knowledge base.
pub fn embedded() -> Result<KnowledgeBase, KbErrors> {
    load(&KbSource::Embedded)
}

/// Writes the embedded files into `dir` so an administrator can start from them.
pub fn export(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for f in EMBEDDED.files() {
        let p = dir.join(f.path());
        std::fs::write(&p, f.contents())?;
        written.push(p);
    }
    written.sort();
    Ok(written)
}
