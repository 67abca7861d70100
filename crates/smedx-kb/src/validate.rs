//! Whole-knowledge-base validation: ids, references, both languages, acyclic prerequisites,
//! monotonic thresholds. Every problem is reported, located by file and key.

use std::collections::{HashMap, HashSet};

use smedx_core::industry;
use smedx_core::kb::*;
use smedx_core::lang::Localized;

use crate::KbError;

struct V<'a> {
    kb: &'a KnowledgeBase,
    errs: Vec<KbError>,
}

impl V<'_> {
    fn err(&mut self, file: &str, key: impl Into<String>, msg: impl Into<String>) {
        self.errs.push(KbError {
            file: file.to_string(),
            key: key.into(),
            message: msg.into(),
        });
    }
    fn text(&mut self, file: &str, key: &str, l: &Localized) {
        if l.zh.trim().is_empty() {
            self.err(file, key, "the Chinese text (zh) is missing");
        }
        if l.en.trim().is_empty() {
            self.err(file, key, "the English text (en) is missing");
        }
    }
    fn id(&mut self, file: &str, key: &str, id: &str, seen: &mut HashSet<String>) {
        let ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if !ok {
            self.err(
                file,
                key,
                format!("id \"{id}\" must be lower-case ascii letters, digits, '_', '.' or '-'"),
            );
        }
        if !seen.insert(id.to_string()) {
            self.err(file, key, format!("duplicate id \"{id}\""));
        }
    }
    fn scenario_ref(&mut self, file: &str, key: &str, id: &str) {
        if self.kb.scenario(id).is_none() {
            self.err(file, key, format!("unknown scenario id \"{id}\""));
        }
    }
    fn domain_ref(&mut self, file: &str, key: &str, id: &str) {
        if self.kb.domain(id).is_none() {
            self.err(file, key, format!("unknown domain id \"{id}\""));
        }
    }
    fn group_ref(&mut self, file: &str, key: &str, id: &str) {
        if self.kb.group(id).is_none() {
            self.err(file, key, format!("unknown group id \"{id}\""));
        }
    }
    fn sector_ref(&mut self, file: &str, key: &str, id: &str) {
        if self.kb.sector(id).is_none() {
            self.err(file, key, format!("unknown sector id \"{id}\""));
        }
    }
    fn share(&mut self, file: &str, key: &str, v: f64) {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            self.err(
                file,
                key,
                format!("a share must be between 0 and 1 (got {v})"),
            );
        }
    }
    fn digits(&mut self, file: &str, key: &str, p: &str) {
        if !(2..=4).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            self.err(
                file,
                key,
                format!("\"{p}\" must be 2 to 4 digits of a GB/T 4754 code"),
            );
        }
    }
}

/// Returns every problem in the knowledge base (empty when it is valid).
pub fn validate(kb: &KnowledgeBase) -> Vec<KbError> {
    let mut v = V {
        kb,
        errs: Vec::new(),
    };

    let f = "chains.toml";
    let mut seen = HashSet::new();
    for (i, c) in kb.chains.iter().enumerate() {
        let k = format!("chain[{i}] ({})", c.id);
        v.id(f, &k, &c.id, &mut seen);
        v.text(f, &format!("{k}.name"), &c.name);
        v.text(f, &format!("{k}.summary"), &c.summary);
    }

    let f = "domains.toml";
    let mut seen = HashSet::new();
    for (i, d) in kb.domains.iter().enumerate() {
        let k = format!("domain[{i}] ({})", d.id);
        v.id(f, &k, &d.id, &mut seen);
        if kb.chain(&d.chain).is_none() {
            v.err(
                f,
                format!("{k}.chain"),
                format!("unknown chain id \"{}\"", d.chain),
            );
        }
        v.text(f, &format!("{k}.name"), &d.name);
        v.text(f, &format!("{k}.summary"), &d.summary);
    }

    let f = "scenarios.toml";
    let mut seen = HashSet::new();
    for (i, s) in kb.scenarios.iter().enumerate() {
        let k = format!("scenario[{i}] ({})", s.id);
        v.id(f, &k, &s.id, &mut seen);
        v.domain_ref(f, &format!("{k}.domain"), &s.domain);
        if !s.id.starts_with(&format!("{}.", s.domain)) {
            v.err(
                f,
                format!("{k}.id"),
                format!("scenario id should start with its domain \"{}.\"", s.domain),
            );
        }
        for (name, l) in [
            ("name", &s.name),
            ("summary", &s.summary),
            ("problem", &s.problem),
        ] {
            v.text(f, &format!("{k}.{name}"), l);
        }
        if s.products.is_empty() {
            v.err(
                f,
                format!("{k}.products"),
                "list at least one typical product",
            );
        }
        for (j, p) in s.products.iter().enumerate() {
            v.text(f, &format!("{k}.products[{j}]"), p);
        }
        if s.kpis.is_empty() {
            v.err(f, format!("{k}.kpis"), "list at least one KPI");
        }
        for (j, p) in s.kpis.iter().enumerate() {
            v.text(f, &format!("{k}.kpis[{j}]"), p);
        }
        if s.size_fit.is_empty() {
            v.err(f, format!("{k}.size_fit"), "list at least one size class");
        }
        if s.pain_points.zh.is_empty() || s.pain_points.zh.iter().any(|w| w.trim().is_empty()) {
            v.err(
                f,
                format!("{k}.pain_points.zh"),
                "Chinese pain-point words are missing or empty",
            );
        }
        if s.pain_points.en.is_empty() || s.pain_points.en.iter().any(|w| w.trim().is_empty()) {
            v.err(
                f,
                format!("{k}.pain_points.en"),
                "English pain-point words are missing or empty",
            );
        }
        for (j, p) in s.prerequisites.iter().enumerate() {
            let key = format!("{k}.prerequisites[{j}]");
            if p == &s.id {
                v.err(f, &key, "a scenario cannot be its own prerequisite");
            } else {
                v.scenario_ref(f, &key, p);
            }
        }
        if s.source.trim().is_empty() {
            v.err(f, format!("{k}.source"), "cite the source");
        }
    }
    check_acyclic(&mut v);

    let f = "sectors.toml";
    let mut seen = HashSet::new();
    for (i, g) in kb.groups.iter().enumerate() {
        let k = format!("group[{i}] ({})", g.id);
        v.id(f, &k, &g.id, &mut seen);
        v.text(f, &format!("{k}.name"), &g.name);
        v.text(f, &format!("{k}.summary"), &g.summary);
        for (j, d) in g.focus_domains.iter().enumerate() {
            v.domain_ref(f, &format!("{k}.focus_domains[{j}]"), d);
        }
        for (j, s) in g.survey.iter().enumerate() {
            let sk = format!("{k}.survey[{j}]");
            v.text(f, &format!("{sk}.area"), &s.area);
            v.share(f, &format!("{sk}.share"), s.share);
            for (n, d) in s.domains.iter().enumerate() {
                v.domain_ref(f, &format!("{sk}.domains[{n}]"), d);
            }
        }
    }
    if kb.group(industry::OTHER_GROUP).is_none() {
        v.err(
            f,
            "group",
            format!(
                "the catch-all group \"{}\" is missing",
                industry::OTHER_GROUP
            ),
        );
    }
    let mut seen = HashSet::new();
    for (i, s) in kb.sectors.iter().enumerate() {
        let k = format!("sector[{i}] ({})", s.id);
        v.id(f, &k, &s.id, &mut seen);
        v.group_ref(f, &format!("{k}.group"), &s.group);
        for (name, l) in [
            ("name", &s.name),
            ("business_model", &s.business_model),
            ("process", &s.process),
            ("focus", &s.focus),
        ] {
            v.text(f, &format!("{k}.{name}"), l);
        }
        if s.scenarios.is_empty() {
            v.err(
                f,
                format!("{k}.scenarios"),
                "list the scenarios typical of the sector",
            );
        }
        for (j, sc) in s.scenarios.iter().enumerate() {
            v.scenario_ref(f, &format!("{k}.scenarios[{j}]"), sc);
        }
    }

    let f = "cases.toml";
    let mut seen = HashSet::new();
    for (i, c) in kb.cases.iter().enumerate() {
        let k = format!("case[{i}] ({})", c.id);
        v.id(f, &k, &c.id, &mut seen);
        if let Some(s) = &c.sector {
            v.sector_ref(f, &format!("{k}.sector"), s);
            if let Some(sec) = kb.sector(s)
                && sec.group != c.group
            {
                v.err(
                    f,
                    format!("{k}.group"),
                    format!(
                        "sector \"{s}\" belongs to group \"{}\", not \"{}\"",
                        sec.group, c.group
                    ),
                );
            }
        }
        v.group_ref(f, &format!("{k}.group"), &c.group);
        for (name, l) in [
            ("company", &c.company),
            ("makes", &c.makes),
            ("did", &c.did),
        ] {
            v.text(f, &format!("{k}.{name}"), l);
        }
        if let Some(r) = &c.result {
            v.text(f, &format!("{k}.result"), r);
        }
        if c.scenarios.is_empty() {
            v.err(
                f,
                format!("{k}.scenarios"),
                "list the scenarios the case implemented",
            );
        }
        for (j, sc) in c.scenarios.iter().enumerate() {
            v.scenario_ref(f, &format!("{k}.scenarios[{j}]"), sc);
        }
        v.text(f, &format!("{k}.profile.pain"), &c.profile.pain);
        if let Err(e) = industry::parse_code(kb, &c.profile.industry) {
            v.err(f, format!("{k}.profile.industry"), e.to_string());
        }
    }

    let f = "paths.toml";
    let mut seen = HashSet::new();
    for (i, p) in kb.paths.iter().enumerate() {
        let k = format!("path[{i}] ({})", p.id);
        v.id(f, &k, &p.id, &mut seen);
        for (name, l) in [
            ("name", &p.name),
            ("summary", &p.summary),
            ("when", &p.when),
        ] {
            v.text(f, &format!("{k}.{name}"), l);
        }
        if p.mode.is_empty() {
            v.err(f, format!("{k}.mode"), "a path needs at least one mode");
        }
        for (j, m) in p.mode.iter().enumerate() {
            let mk = format!("{k}.mode[{j}] ({})", m.id);
            v.id(f, &mk, &m.id, &mut seen);
            if !m.id.starts_with(&format!("{}.", p.id)) {
                v.err(f, &mk, format!("mode id should start with \"{}.\"", p.id));
            }
            for (name, l) in [
                ("name", &m.name),
                ("summary", &m.summary),
                ("when", &m.when),
            ] {
                v.text(f, &format!("{mk}.{name}"), l);
            }
            if let Some(e) = &m.example {
                v.text(f, &format!("{mk}.example"), e);
            }
        }
    }

    let f = "obstacles.toml";
    let mut seen = HashSet::new();
    for (i, o) in kb.obstacles.iter().enumerate() {
        let k = format!("obstacle[{i}] ({})", o.id);
        v.id(f, &k, &o.id, &mut seen);
        for (name, l) in [
            ("name", &o.name),
            ("summary", &o.summary),
            ("advice", &o.advice),
        ] {
            v.text(f, &format!("{k}.{name}"), l);
        }
        v.share(f, &format!("{k}.share"), o.share);
        for (s, x) in &o.by_size {
            v.share(f, &format!("{k}.by_size.{}", s.id()), *x);
        }
    }

    let f = "industries.toml";
    let mut letters = HashSet::new();
    let mut ranges: Vec<(u32, u32, String)> = Vec::new();
    for (i, s) in kb.sections.iter().enumerate() {
        let k = format!("section[{i}] ({})", s.letter);
        if s.letter.len() != 1 || !s.letter.bytes().all(|b| b.is_ascii_uppercase()) {
            v.err(f, &k, "letter must be one upper-case letter");
        }
        if !letters.insert(s.letter.clone()) {
            v.err(f, &k, format!("duplicate section \"{}\"", s.letter));
        }
        if s.first > s.last || s.last > 99 {
            v.err(
                f,
                &k,
                format!("division range {}–{} is not valid", s.first, s.last),
            );
        }
        for (a, b, other) in &ranges {
            if s.first <= *b && *a <= s.last {
                v.err(f, &k, format!("division range overlaps section {other}"));
            }
        }
        ranges.push((s.first, s.last, s.letter.clone()));
        v.text(f, &format!("{k}.name"), &s.name);
    }
    let mut seen = HashSet::new();
    for (i, d) in kb.divisions.iter().enumerate() {
        let k = format!("division[{i}] ({})", d.code);
        if d.code.len() != 2 || !d.code.bytes().all(|b| b.is_ascii_digit()) {
            v.err(f, &k, "code must be two digits");
        }
        if !seen.insert(d.code.clone()) {
            v.err(f, &k, format!("duplicate division \"{}\"", d.code));
        }
        v.group_ref(f, &format!("{k}.group"), &d.group);
        v.text(f, &format!("{k}.name"), &d.name);
    }
    let mut seen = HashSet::new();
    for (i, m) in kb.mappings.iter().enumerate() {
        let k = format!("mapping[{i}] ({})", m.prefix);
        v.digits(f, &format!("{k}.prefix"), &m.prefix);
        if !seen.insert(m.prefix.clone()) {
            v.err(f, &k, format!("duplicate prefix \"{}\"", m.prefix));
        }
        v.group_ref(f, &format!("{k}.group"), &m.group);
        if let Some(s) = &m.sector {
            v.sector_ref(f, &format!("{k}.sector"), s);
            if let Some(sec) = kb.sector(s)
                && sec.group != m.group
            {
                v.err(
                    f,
                    format!("{k}.group"),
                    format!("sector \"{s}\" belongs to group \"{}\"", sec.group),
                );
            }
        }
        v.text(f, &format!("{k}.name"), &m.name);
    }
    for s in &kb.sectors {
        if !kb
            .mappings
            .iter()
            .any(|m| m.sector.as_deref() == Some(s.id.as_str()))
        {
            v.err(
                f,
                "mapping",
                format!("sector \"{}\" has no industry code mapped to it", s.id),
            );
        }
    }

    let f = "size_standard.toml";
    v.text(f, "standard.name", &kb.size_standard.standard.name);
    let mut seen = HashSet::new();
    let mut prefixes: HashMap<String, String> = HashMap::new();
    for (i, c) in kb.size_standard.category.iter().enumerate() {
        let k = format!("category[{i}] ({})", c.id);
        v.id(f, &k, &c.id, &mut seen);
        v.text(f, &format!("{k}.name"), &c.name);
        if c.indicators.is_empty() {
            v.err(f, format!("{k}.indicators"), "list at least one indicator");
        }
        for (j, p) in c.prefixes.iter().enumerate() {
            v.digits(f, &format!("{k}.prefixes[{j}]"), p);
            if let Some(other) = prefixes.insert(p.clone(), c.id.clone()) {
                v.err(
                    f,
                    format!("{k}.prefixes[{j}]"),
                    format!("prefix \"{p}\" is also used by {other}"),
                );
            }
        }
        for ind in [Indicator::Employees, Indicator::Revenue, Indicator::Assets] {
            let used = c.indicators.contains(&ind);
            let tiers = [("large", c.large), ("medium", c.medium), ("small", c.small)];
            for (tname, b) in tiers {
                match (used, b.get(ind)) {
                    (true, None) => v.err(
                        f,
                        format!("{k}.{tname}.{}", ind.id()),
                        "missing lower bound",
                    ),
                    (false, Some(_)) => v.err(
                        f,
                        format!("{k}.{tname}.{}", ind.id()),
                        "bound given for an indicator the category does not use",
                    ),
                    (true, Some(x)) if !(x.is_finite() && x > 0.0) => v.err(
                        f,
                        format!("{k}.{tname}.{}", ind.id()),
                        "bounds must be positive",
                    ),
                    _ => {}
                }
            }
            if let (Some(l), Some(m), Some(s)) =
                (c.large.get(ind), c.medium.get(ind), c.small.get(ind))
                && !(l > m && m > s)
            {
                v.err(
                    f,
                    format!("{k}.{}", ind.id()),
                    format!("thresholds must fall from large to small (large {l} > medium {m} > small {s})"),
                );
            }
        }
    }
    for (i, n) in kb.size_standard.not_covered.iter().enumerate() {
        let k = format!("not_covered[{i}]");
        v.text(f, &format!("{k}.reason"), &n.reason);
        for (j, p) in n.prefixes.iter().enumerate() {
            v.digits(f, &format!("{k}.prefixes[{j}]"), p);
            if let Some(other) = prefixes.insert(p.clone(), k.clone()) {
                v.err(
                    f,
                    format!("{k}.prefixes[{j}]"),
                    format!("prefix \"{p}\" is also used by {other}"),
                );
            }
        }
    }
    // Every division of every section needs a size rule or an explicit exclusion.
    for s in &kb.sections {
        for d in s.first..=s.last {
            let dd = format!("{d:02}");
            let covered = prefixes
                .keys()
                .any(|p| p.starts_with(&dd) || dd.starts_with(p.as_str()));
            if !covered {
                v.err(
                    f,
                    "category",
                    format!(
                        "division {}{dd} has no size rule and is not listed as not covered",
                        s.letter
                    ),
                );
            }
        }
    }

    let f = "synonyms.toml";
    for (i, g) in kb.synonyms.iter().enumerate() {
        if g.terms.len() < 2 || g.terms.iter().any(|t| t.trim().is_empty()) {
            v.err(
                f,
                format!("synonym[{i}]"),
                "a synonym group needs at least two non-empty terms",
            );
        }
        for (j, t) in g.terms.iter().enumerate() {
            if !t.trim().is_empty() && !t.chars().any(char::is_alphanumeric) {
                v.err(
                    f,
                    format!("synonym[{i}].terms[{j}]"),
                    format!("\"{t}\" has no letters or digits"),
                );
            }
        }
    }

    let mut errs = v.errs;
    validate_questionnaire(kb, &mut errs);
    errs
}

fn check_acyclic(v: &mut V) {
    let kb = v.kb;
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state: HashMap<&str, u8> = HashMap::new();
    let mut reported = HashSet::new();
    for s in &kb.scenarios {
        let mut stack: Vec<&str> = Vec::new();
        visit(
            kb,
            &s.id,
            &mut state,
            &mut stack,
            &mut reported,
            &mut v.errs,
        );
    }
}

fn visit<'a>(
    kb: &'a KnowledgeBase,
    id: &'a str,
    state: &mut HashMap<&'a str, u8>,
    stack: &mut Vec<&'a str>,
    reported: &mut HashSet<String>,
    errs: &mut Vec<KbError>,
) {
    match state.get(id) {
        Some(2) => return,
        Some(1) => {
            let start = stack.iter().position(|x| *x == id).unwrap_or(0);
            let mut cycle: Vec<&str> = stack[start..].to_vec();
            cycle.push(id);
            let text = cycle.join(" → ");
            let mut canon = cycle.clone();
            canon.sort();
            if reported.insert(canon.join(",")) {
                errs.push(KbError {
                    file: "scenarios.toml".into(),
                    key: format!("scenario ({id}).prerequisites"),
                    message: format!("prerequisites form a cycle: {text}"),
                });
            }
            return;
        }
        _ => {}
    }
    state.insert(id, 1);
    stack.push(id);
    if let Some(s) = kb.scenario(id) {
        for p in &s.prerequisites {
            visit(kb, p, state, stack, reported, errs);
        }
    }
    stack.pop();
    state.insert(id, 2);
}

/// Checks the questionnaire: ids, references, points adding up, bands, level rules, lifts.
pub(crate) fn validate_questionnaire(kb: &KnowledgeBase, errs: &mut Vec<KbError>) {
    use smedx_core::assessment::QuestionKind;
    let q = &kb.questionnaire;
    let mut v = V {
        kb,
        errs: Vec::new(),
    };
    let f = "questionnaire.toml";
    v.text(f, "provenance.title", &q.provenance.title);
    v.text(f, "provenance.notes", &q.provenance.notes);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
    let mut seen = HashSet::new();
    for (i, d) in q.dimension.iter().enumerate() {
        let k = format!("dimension[{i}] ({})", d.id);
        v.id(f, &k, &d.id, &mut seen);
        v.text(f, &format!("{k}.name"), &d.name);
        let sum: f64 = q
            .indicator
            .iter()
            .filter(|x| x.dimension == d.id)
            .map(|x| x.points)
            .sum();
        if !close(sum, d.points) {
            v.err(
                f,
                &k,
                format!("its indicators add up to {sum}, not {}", d.points),
            );
        }
    }
    let mut seen = HashSet::new();
    for (i, ind) in q.indicator.iter().enumerate() {
        let k = format!("indicator[{i}] ({})", ind.id);
        v.id(f, &k, &ind.id, &mut seen);
        v.text(f, &format!("{k}.name"), &ind.name);
        if !q.dimension.iter().any(|d| d.id == ind.dimension) {
            v.err(
                f,
                format!("{k}.dimension"),
                format!("unknown dimension \"{}\"", ind.dimension),
            );
        }
        let sum: f64 = q
            .question
            .iter()
            .filter(|x| x.indicator == ind.id)
            .map(|x| x.points)
            .sum();
        if !close(sum, ind.points) {
            v.err(
                f,
                &k,
                format!("its questions add up to {sum}, not {}", ind.points),
            );
        }
    }
    let mut seen = HashSet::new();
    for (i, qq) in q.question.iter().enumerate() {
        let k = format!("question[{i}] ({})", qq.id);
        v.id(f, &k, &qq.id, &mut seen);
        v.text(f, &format!("{k}.name"), &qq.name);
        v.text(f, &format!("{k}.text"), &qq.text);
        if let Some(h) = &qq.help {
            v.text(f, &format!("{k}.help"), h);
        }
        if q.indicator(&qq.indicator).is_none() {
            v.err(
                f,
                format!("{k}.indicator"),
                format!("unknown indicator \"{}\"", qq.indicator),
            );
        }
        let mut oseen = HashSet::new();
        for (j, o) in qq.option.iter().enumerate() {
            let ok = format!("{k}.option[{j}] ({})", o.id);
            v.id(f, &ok, &o.id, &mut oseen);
            v.text(f, &format!("{ok}.text"), &o.text);
            if !(o.points.is_finite() && o.points >= 0.0) {
                v.err(f, &ok, "points must be zero or more");
            }
        }
        match qq.kind {
            QuestionKind::Single => {
                let max = qq.option.iter().map(|o| o.points).fold(0.0, f64::max);
                if qq.option.is_empty() || !close(max, qq.points) {
                    v.err(
                        f,
                        &k,
                        format!(
                            "the best option gives {max}, not the question's {} points",
                            qq.points
                        ),
                    );
                }
            }
            QuestionKind::Multi => {
                let sum: f64 = qq.option.iter().map(|o| o.points).sum();
                if qq.option.is_empty() || !close(sum, qq.points) {
                    v.err(
                        f,
                        &k,
                        format!(
                            "the options add up to {sum}, not the question's {} points",
                            qq.points
                        ),
                    );
                }
            }
            QuestionKind::Ratio => match &qq.ratio {
                None => v.err(f, &k, "a ratio question needs [question.ratio]"),
                Some(r) => {
                    v.text(f, &format!("{k}.ratio.numerator.label"), &r.numerator.label);
                    v.text(
                        f,
                        &format!("{k}.ratio.denominator.label"),
                        &r.denominator.label,
                    );
                    let ascending = r.bands.windows(2).all(|w| w[0].up_to < w[1].up_to);
                    let last = r.bands.last().map_or(0.0, |b| b.up_to);
                    if r.bands.is_empty() || !ascending || !close(last, 1.0) {
                        v.err(
                            f,
                            format!("{k}.ratio.bands"),
                            "bands must rise strictly and end at 1.0",
                        );
                    }
                    let max = r.bands.iter().map(|b| b.points).fold(0.0, f64::max);
                    if !close(max, qq.points) {
                        v.err(
                            f,
                            format!("{k}.ratio.bands"),
                            format!("the best band gives {max}, not {}", qq.points),
                        );
                    }
                }
            },
            QuestionKind::Trend => match &qq.trend {
                None => v.err(f, &k, "a trend question needs [question.trend]"),
                Some(t) => {
                    v.text(f, &format!("{k}.trend.value.label"), &t.value.label);
                    if let Some(b) = &t.base {
                        v.text(f, &format!("{k}.trend.base.label"), &b.label);
                    } else if t.measure != smedx_core::assessment::Measure::Value {
                        v.err(
                            f,
                            format!("{k}.trend.base"),
                            "this measure needs a base figure",
                        );
                    }
                    let p = t.points;
                    if !(p.worse <= p.flat && p.flat <= p.better && close(p.better, qq.points)) {
                        v.err(f, format!("{k}.trend.points"), "points must rise from worse to better and top at the question's points");
                    }
                    if !(0.0..0.5).contains(&t.flat_tolerance) {
                        v.err(
                            f,
                            format!("{k}.trend.flat_tolerance"),
                            "must be between 0 and 0.5",
                        );
                    }
                }
            },
        }
    }
    let total: f64 = q.dimension.iter().map(|d| d.points).sum();
    if !close(total, 100.0) {
        v.err(
            f,
            "dimension",
            format!("the dimensions add up to {total}, not 100"),
        );
    }
    let mut last: Option<&smedx_core::assessment::LevelRule> = None;
    for (i, l) in q.level.iter().enumerate() {
        let k = format!("level[{i}] (level {})", l.level);
        v.text(f, &format!("{k}.name"), &l.name);
        if l.min_constrained > l.min_scenarios {
            v.err(f, &k, "min_constrained cannot exceed min_scenarios");
        }
        if !(1..=4).contains(&l.scenario_level) {
            v.err(f, &k, "scenario_level must be 1–4");
        }
        if let Some(p) = last
            && (l.level <= p.level
                || l.min_score < p.min_score
                || l.scenario_level < p.scenario_level)
        {
            v.err(
                f,
                &k,
                "levels must be listed in rising order with rising thresholds",
            );
        }
        last = Some(l);
    }
    let groups: HashSet<&str> = q.scenario_group.iter().map(|g| g.id.as_str()).collect();
    let mut seen = HashSet::new();
    for (i, s) in q.scenario.iter().enumerate() {
        let k = format!("scenario[{i}] ({})", s.id);
        v.id(f, &k, &s.id, &mut seen);
        v.text(f, &format!("{k}.name"), &s.name);
        if !groups.contains(s.group.as_str()) {
            v.err(
                f,
                format!("{k}.group"),
                format!("unknown scenario group \"{}\"", s.group),
            );
        }
        if s.levels.len() != 4 {
            v.err(
                f,
                format!("{k}.levels"),
                "give the four level descriptions L1–L4",
            );
        }
        for (j, l) in s.levels.iter().enumerate() {
            v.text(f, &format!("{k}.levels[{j}]"), l);
        }
        for to in 1..=4u8 {
            if s.lifted_by(to).is_empty() {
                v.err(
                    f,
                    format!("{k}.lifts"),
                    format!("no report scenario lifts it to level {to}"),
                );
            }
        }
        for (j, l) in s.lifts.iter().enumerate() {
            for (n, id) in l.scenarios.iter().enumerate() {
                v.scenario_ref(f, &format!("{k}.lifts[{j}].scenarios[{n}]"), id);
            }
        }
    }
    for (i, o) in q.obstacle_question.iter().enumerate() {
        let k = format!("obstacle_question[{i}] ({})", o.id);
        v.text(f, &format!("{k}.text"), &o.text);
        if kb.obstacle(&o.obstacle).is_none() {
            v.err(
                f,
                format!("{k}.obstacle"),
                format!("unknown obstacle \"{}\"", o.obstacle),
            );
        }
    }
    errs.extend(v.errs);
}
