//! Loading knowledge bases from a folder: the built-in files are exported to a temporary folder, one
//! thing is broken, and the loader must refuse the folder with an error naming the file and the entry.

use std::path::PathBuf;

use smedx_kb::{FILES, KbError, KbSource};

/// A temporary copy of the built-in knowledge base, removed when dropped.
struct TempKb {
    dir: PathBuf,
}

impl TempKb {
    fn new(test: &str) -> TempKb {
        let dir = std::env::temp_dir().join(format!("smedx-kb-it-{}-{test}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove a stale test folder");
        }
        let written = smedx_kb::export(&dir).expect("export the built-in knowledge base");
        for f in FILES {
            assert!(written.contains(&dir.join(f)), "export writes {f}");
        }
        TempKb { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file))
            .unwrap_or_else(|e| panic!("read exported {file}: {e}"))
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.path(file), text).unwrap_or_else(|e| panic!("write {file}: {e}"));
    }

    /// Replaces the first occurrence of `from` in `file`.
    fn replace(&self, file: &str, from: &str, to: &str) {
        let text = self.read(file);
        assert!(text.contains(from), "{file} should contain {from:?}");
        let edited = text.replacen(from, to, 1);
        assert!(edited != text, "the edit of {file} should change it");
        self.write(file, &edited);
    }

    /// Replaces the whole first line starting with `prefix` after the line `anchor` (e.g. inside one
    /// entry); the line may already read `new_line`.
    fn replace_line_after(&self, file: &str, anchor: &str, prefix: &str, new_line: &str) {
        let text = self.read(file);
        let start = line_start(&text, anchor)
            .unwrap_or_else(|| panic!("{file} should have a line {anchor:?}"));
        let rel = text[start..]
            .split_inclusive('\n')
            .scan(start, |pos, line| {
                let at = *pos;
                *pos += line.len();
                Some((at, line))
            })
            .find(|(_, line)| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("{file}: a line starting with {prefix:?} after {anchor:?}"));
        let (at, line) = rel;
        let end = at + line.trim_end_matches('\n').len();
        let mut edited = String::with_capacity(text.len());
        edited.push_str(&text[..at]);
        edited.push_str(new_line);
        edited.push_str(&text[end..]);
        self.write(file, &edited);
    }

    /// The 1-based line number of the line `anchor` in `file`.
    fn line_of(&self, file: &str, anchor: &str) -> usize {
        let text = self.read(file);
        let start = line_start(&text, anchor)
            .unwrap_or_else(|| panic!("{file} should have a line {anchor:?}"));
        text[..start].matches('\n').count() + 1
    }

    fn source(&self) -> KbSource {
        KbSource::Dir(self.dir.clone())
    }

    /// Loads the folder, which must be refused; returns the problems.
    fn errors(&self) -> Vec<KbError> {
        match smedx_kb::load(&self.source()) {
            Ok(_) => panic!(
                "the broken knowledge base in {} was accepted",
                self.dir.display()
            ),
            Err(e) => {
                assert!(!e.0.is_empty(), "a refusal lists at least one problem");
                assert!(
                    e.to_string().contains(&format!("{} problem", e.0.len())),
                    "{e}"
                );
                e.0
            }
        }
    }
}

impl Drop for TempKb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Byte offset of the line that is exactly `line` (ignoring trailing spaces and comments is not needed:
/// anchors are whole `key = value` lines).
fn line_start(text: &str, line: &str) -> Option<usize> {
    let mut pos = 0;
    for l in text.split_inclusive('\n') {
        if l.trim_end() == line || l.starts_with(&format!("{line} ")) {
            return Some(pos);
        }
        pos += l.len();
    }
    None
}

/// The problem in `file` whose key contains `key` and whose message contains `message`.
fn find<'a>(errs: &'a [KbError], file: &str, key: &str, message: &str) -> &'a KbError {
    errs.iter()
        .find(|e| e.file.ends_with(file) && e.key.contains(key) && e.message.contains(message))
        .unwrap_or_else(|| {
            let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
            panic!(
                "expected a problem in {file} at a key containing {key:?} saying {message:?}, got:\n{}",
                all.join("\n")
            )
        })
}

fn show(errs: &[KbError]) -> String {
    errs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn embedded_knowledge_base_loads_cleanly() {
    let kb = smedx_kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kb.scenarios.len(), 42);
    assert!(
        smedx_kb::validate(&kb).is_empty(),
        "validation finds nothing"
    );
    for f in FILES {
        smedx_kb::read_file(&KbSource::Embedded, f)
            .unwrap_or_else(|e| panic!("{f} is embedded: {e}"));
    }
}

#[test]
fn exported_copy_loads_cleanly() {
    let t = TempKb::new("exported_copy_loads_cleanly");
    let kb = smedx_kb::load(&t.source())
        .unwrap_or_else(|e| panic!("the unmodified export should load:\n{e}"));
    assert_eq!(kb.scenarios.len(), 42);
}

#[test]
fn duplicate_scenario_id() {
    let t = TempKb::new("duplicate_scenario_id");
    t.replace(
        "scenarios.toml",
        "id = \"pl.scheduling\"",
        "id = \"pl.transparency\"",
    );
    let errs = t.errors();
    let e = find(
        &errs,
        "scenarios.toml",
        "(pl.transparency)",
        "duplicate id \"pl.transparency\"",
    );
    assert!(e.key.starts_with("scenario["), "{e}");
}

#[test]
fn unknown_prerequisite() {
    let t = TempKb::new("unknown_prerequisite");
    t.replace_line_after(
        "scenarios.toml",
        "id = \"en.optimization\"",
        "prerequisites = ",
        "prerequisites = [\"en.monitorin\"]",
    );
    let errs = t.errors();
    find(
        &errs,
        "scenarios.toml",
        "(en.optimization).prerequisites[0]",
        "unknown scenario id \"en.monitorin\"",
    );
}

#[test]
fn own_prerequisite() {
    let t = TempKb::new("own_prerequisite");
    t.replace_line_after(
        "scenarios.toml",
        "id = \"en.monitoring\"",
        "prerequisites = ",
        "prerequisites = [\"en.monitoring\"]",
    );
    let errs = t.errors();
    find(
        &errs,
        "scenarios.toml",
        "(en.monitoring).prerequisites[0]",
        "its own prerequisite",
    );
}

#[test]
fn prerequisite_cycle() {
    let t = TempKb::new("prerequisite_cycle");
    t.replace_line_after(
        "scenarios.toml",
        "id = \"en.monitoring\"",
        "prerequisites = ",
        "prerequisites = [\"en.optimization\"]",
    );
    t.replace_line_after(
        "scenarios.toml",
        "id = \"en.optimization\"",
        "prerequisites = ",
        "prerequisites = [\"en.monitoring\"]",
    );
    let errs = t.errors();
    let cycles: Vec<&KbError> = errs
        .iter()
        .filter(|e| e.message.contains("cycle"))
        .collect();
    assert_eq!(
        cycles.len(),
        1,
        "the cycle is reported once:\n{}",
        show(&errs)
    );
    let e = cycles[0];
    assert!(e.file.ends_with("scenarios.toml"), "{e}");
    assert!(e.key.contains("prerequisites"), "{e}");
    for id in ["en.monitoring", "en.optimization"] {
        assert!(e.message.contains(id), "the cycle names {id}: {e}");
    }
    assert!(
        !errs.iter().any(|e| e.message.contains("unknown scenario")),
        "both prerequisites exist:\n{}",
        show(&errs)
    );
}

#[test]
fn missing_english_text() {
    let t = TempKb::new("missing_english_text");
    t.replace_line_after(
        "scenarios.toml",
        "id = \"en.monitoring\"",
        "name = ",
        "name = { zh = \"能源数据监测\", en = \"\" }",
    );
    let errs = t.errors();
    find(&errs, "scenarios.toml", "(en.monitoring).name", "English");
    assert!(
        !errs
            .iter()
            .any(|e| e.key.contains("(en.monitoring).name") && e.message.contains("Chinese")),
        "the Chinese text is there:\n{}",
        show(&errs)
    );
}

#[test]
fn whitespace_only_chinese_text_counts_as_missing() {
    let t = TempKb::new("whitespace_only_chinese_text");
    t.replace_line_after(
        "chains.toml",
        "id = \"asset\"",
        "name = ",
        "name = { zh = \"  \", en = \"Asset chain\" }",
    );
    let errs = t.errors();
    find(&errs, "chains.toml", "chain[1] (asset).name", "Chinese");
}

#[test]
fn sector_with_unknown_scenario() {
    let t = TempKb::new("sector_with_unknown_scenario");
    t.replace_line_after(
        "sectors.toml",
        "id = \"metal\"",
        "scenarios = ",
        "scenarios = [\"pr.upgrade\", \"pr.upgarde\"]",
    );
    let errs = t.errors();
    find(
        &errs,
        "sectors.toml",
        "(metal).scenarios[1]",
        "unknown scenario id \"pr.upgarde\"",
    );
    assert_eq!(errs.len(), 1, "only that entry is wrong:\n{}", show(&errs));
}

#[test]
fn case_with_unknown_sector() {
    let t = TempKb::new("case_with_unknown_sector");
    t.replace("cases.toml", "sector = \"metal\"", "sector = \"metl\"");
    let errs = t.errors();
    find(&errs, "cases.toml", "case[0]", "unknown sector id \"metl\"");
}

#[test]
fn size_thresholds_must_fall_from_large_to_small() {
    let t = TempKb::new("size_thresholds_not_monotonic");
    t.replace_line_after(
        "size_standard.toml",
        "id = \"industry\"",
        "medium = ",
        "medium = { employees = 1200, revenue = 2000 }",
    );
    let errs = t.errors();
    let e = find(
        &errs,
        "size_standard.toml",
        "(industry).employees",
        "fall from large to small",
    );
    assert!(
        e.message.contains("1200"),
        "the message shows the bad bound: {e}"
    );
    assert!(
        !errs.iter().any(|e| e.key.contains("(industry).revenue")),
        "revenue is fine:\n{}",
        show(&errs)
    );
}

#[test]
fn size_category_missing_a_bound() {
    let t = TempKb::new("size_category_missing_a_bound");
    t.replace_line_after(
        "size_standard.toml",
        "id = \"industry\"",
        "small = ",
        "small = { employees = 20 }",
    );
    let errs = t.errors();
    find(
        &errs,
        "size_standard.toml",
        "(industry).small.revenue",
        "missing lower bound",
    );
}

#[test]
fn toml_syntax_error_gives_the_line() {
    let t = TempKb::new("toml_syntax_error");
    let line = t.line_of("domains.toml", "id = \"pd\"");
    t.replace("domains.toml", "id = \"pd\"", "id = \"pd");
    let errs = t.errors();
    let e = find(&errs, "domains.toml", &format!("line {line}, column"), "");
    assert!(!e.message.is_empty(), "the parser says what is wrong: {e}");
}

#[test]
fn unknown_field_in_a_scenario() {
    let t = TempKb::new("unknown_field_in_a_scenario");
    let line = t.line_of("scenarios.toml", "id = \"pl.transparency\"") + 1;
    t.replace(
        "scenarios.toml",
        "id = \"pl.transparency\"\n",
        "id = \"pl.transparency\"\ncolour = \"red\"\n",
    );
    let errs = t.errors();
    let e = find(&errs, "scenarios.toml", "line ", "colour");
    assert!(e.message.contains("unknown field"), "{e}");
    // The error points at the scenario that has the field: the inserted line or the table it is in.
    let at: usize = e
        .key
        .trim_start_matches("line ")
        .split(',')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a line number in {:?}", e.key));
    assert!(
        (line.saturating_sub(2)..=line).contains(&at),
        "line {at} should be at the inserted line {line}: {e}"
    );
}

#[test]
fn missing_file() {
    let t = TempKb::new("missing_file");
    std::fs::remove_file(t.path("rules.toml")).expect("remove rules.toml");
    let errs = t.errors();
    let e = find(&errs, "rules.toml", "", "cannot read");
    assert!(
        e.file.contains(&t.dir.display().to_string()),
        "the full path is given: {e}"
    );
    assert_eq!(errs.len(), 1, "the other files are fine:\n{}", show(&errs));
}

#[test]
fn several_problems_are_all_reported() {
    let t = TempKb::new("several_problems");
    t.replace_line_after(
        "scenarios.toml",
        "id = \"en.optimization\"",
        "prerequisites = ",
        "prerequisites = [\"en.monitorin\"]",
    );
    t.replace_line_after(
        "sectors.toml",
        "id = \"metal\"",
        "scenarios = ",
        "scenarios = [\"pr.upgarde\"]",
    );
    t.replace_line_after(
        "size_standard.toml",
        "id = \"industry\"",
        "medium = ",
        "medium = { employees = 1200, revenue = 2000 }",
    );
    let errs = t.errors();
    find(
        &errs,
        "scenarios.toml",
        "(en.optimization).prerequisites[0]",
        "en.monitorin",
    );
    find(&errs, "sectors.toml", "(metal).scenarios[0]", "pr.upgarde");
    find(
        &errs,
        "size_standard.toml",
        "(industry).employees",
        "fall from large to small",
    );
    assert_eq!(
        errs.len(),
        3,
        "exactly the three problems:\n{}",
        show(&errs)
    );
}

#[test]
fn syntax_errors_in_several_files_are_all_reported() {
    let t = TempKb::new("syntax_errors_in_several_files");
    t.replace("domains.toml", "id = \"pd\"", "id = \"pd");
    t.replace("obstacles.toml", "id = \"budget\"", "id = budget");
    std::fs::remove_file(t.path("synonyms.toml")).expect("remove synonyms.toml");
    let errs = t.errors();
    find(&errs, "domains.toml", "line ", "");
    find(&errs, "obstacles.toml", "line ", "");
    find(&errs, "synonyms.toml", "", "cannot read");
    assert_eq!(errs.len(), 3, "{}", show(&errs));
}
