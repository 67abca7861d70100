//! UI strings from the catalogues in `locales/` (`zh.toml`, `en.toml` for the common pages, and
//! one pair per workspace: `regional.*.toml`, `providers.*.toml`), looked up per request with the
//! request's language (there is no global locale: one would leak between users).
//!
//! The catalogues are TOML tables flattened into dotted keys (`[home] title = …` → `home.title`).
//! `{name}` in a value is a placeholder filled by [`tf`].

use std::collections::HashMap;
use std::sync::LazyLock;

use smedx_core::Lang;

const ZH: &[&str] = &[
    include_str!("../locales/zh.toml"),
    include_str!("../locales/regional.zh.toml"),
    include_str!("../locales/providers.zh.toml"),
];
const EN: &[&str] = &[
    include_str!("../locales/en.toml"),
    include_str!("../locales/regional.en.toml"),
    include_str!("../locales/providers.en.toml"),
];

/// Parses the files of one language into one catalogue; a key defined twice is an error.
pub fn parse_catalogs(files: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for text in files {
        for (k, v) in parse_catalog(text)? {
            if out.insert(k.clone(), v).is_some() {
                return Err(format!("{k} is defined twice"));
            }
        }
    }
    Ok(out)
}

/// Parses a catalogue into dotted keys.
pub fn parse_catalog(text: &str) -> Result<HashMap<String, String>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, t: &toml::Table, out: &mut HashMap<String, String>) -> Result<(), String> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(inner) => flatten(&key, inner, out)?,
            _ => return Err(format!("{key}: only strings and tables are allowed")),
        }
    }
    Ok(())
}

// A catalogue that fails to parse is a build mistake caught by the unit tests; at run time the
// keys themselves are shown rather than failing every request.
static CATALOGS: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| {
    [
        parse_catalogs(ZH).unwrap_or_default(),
        parse_catalogs(EN).unwrap_or_default(),
    ]
});

fn catalog(lang: Lang) -> &'static HashMap<String, String> {
    match lang {
        Lang::Zh => &CATALOGS[0],
        Lang::En => &CATALOGS[1],
    }
}

/// The string for `key`, or the key itself when it is missing (a test keeps that from happening).
pub fn t(lang: Lang, key: &str) -> &str {
    catalog(lang).get(key).map_or(key, String::as_str)
}

/// The string for `key` with `{name}` placeholders filled.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

/// The language a browser prefers between ours: English only when it ranks `en` above `zh`.
pub fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, usize, Lang)> = None;
    for (i, part) in header.split(',').enumerate() {
        let mut it = part.split(';');
        let tag = it.next().unwrap_or("").trim();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Some(lang) = Lang::parse(tag) else {
            continue;
        };
        if q <= 0.0 {
            continue;
        }
        // Higher q wins; on equal q the earlier entry wins.
        if best.is_none_or(|(bq, _, _)| q > bq) {
            best = Some((q, i, lang));
        }
    }
    best.map(|(_, _, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn catalogues_have_the_same_keys_and_no_empty_values() {
        let zh = parse_catalogs(ZH).expect("the zh catalogues parse");
        let en = parse_catalogs(EN).expect("the en catalogues parse");
        let zk: BTreeSet<&String> = zh.keys().collect();
        let ek: BTreeSet<&String> = en.keys().collect();
        let only_zh: Vec<_> = zk.difference(&ek).collect();
        let only_en: Vec<_> = ek.difference(&zk).collect();
        assert!(only_zh.is_empty(), "keys only in zh.toml: {only_zh:?}");
        assert!(only_en.is_empty(), "keys only in en.toml: {only_en:?}");
        for (k, v) in zh.iter().chain(en.iter()) {
            assert!(!v.trim().is_empty(), "empty value for {k}");
        }
    }

    /// Every quoted "section.key" in the templates and the code, whose section is one of the
    /// catalogue's, exists (so a typo cannot show a raw key to a user).
    #[test]
    fn every_used_key_exists() {
        let zh = parse_catalogs(ZH).expect("the zh catalogues parse");
        let sections: BTreeSet<&str> = zh.keys().filter_map(|k| k.split('.').next()).collect();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        let mut used = 0;
        let mut files = Vec::new();
        let mut dirs = vec![root.join("templates"), root.join("src")];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    dirs.push(e.path());
                } else {
                    files.push(e.path());
                }
            }
        }
        {
            for path in files {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (i, piece) in text.split('"').enumerate() {
                    // Odd pieces are inside quotes.
                    let is_key = i % 2 == 1
                        && piece.contains('.')
                        && !piece.ends_with(".html")
                        && piece.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'
                        });
                    let Some(section) = piece.split('.').next() else {
                        continue;
                    };
                    if is_key && sections.contains(section) {
                        used += 1;
                        if !zh.contains_key(piece) {
                            missing.push(format!("{}: {piece}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(used > 100, "the scan found only {used} keys");
        assert!(
            missing.is_empty(),
            "keys missing from the catalogues: {missing:#?}"
        );
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            from_accept_language("en-US,en;q=0.9,zh;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(from_accept_language("fr,en;q=0.5"), Some(Lang::En));
        assert_eq!(from_accept_language("fr"), None);
        assert_eq!(from_accept_language("en;q=0.4,zh;q=0.6"), Some(Lang::Zh));
    }

    #[test]
    fn placeholders() {
        assert_eq!(tf(Lang::En, "no.such.key", &[("n", "1")]), "no.such.key");
    }
}
