//! Hostile text: the tokenizer and the BM25 index never panic on arbitrary Unicode, never produce
//! an empty term, and only quote words that occur in the text.
//!
//! The strings come from a small seeded generator (this crate has no test dependencies): control
//! characters, every boundary of the CJK ranges the tokenizer treats as Chinese, supplementary
//! planes, combining marks, right-to-left text, emoji sequences, characters whose lower case is
//! longer than themselves, non-ASCII digits and apostrophes. `PROPTEST_CASES` raises the number
//! of strings for a longer run, as in the other property suites.

use smedx_text::{Field, Index, Token, Tokenizer};

/// SplitMix64: deterministic, so a failure names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Characters on and around the edges of the CJK ranges (U+3400–4DBF, U+4E00–9FFF, U+F900–FAFF).
const CJK_EDGES: &[u32] = &[
    0x33FF, 0x3400, 0x3401, 0x4DBF, 0x4DC0, 0x4DFF, 0x4E00, 0x4E01, 0x9FFF, 0xA000, 0xF8FF, 0xF900,
    0xFAFF, 0xFB00, 0x3000, 0x3001, 0x3002, 0xFF0C, 0x20000, 0x2A6DF, 0x2F800,
];

const WORDS: &[&str] = &[
    "订单",
    "交期",
    "延误",
    "计件工资",
    "算错",
    "设备",
    "宕机",
    "停机",
    "料",
    "物料",
    "的",
    "machine",
    "Machines",
    "STOP",
    "downtime",
    "broken down",
    "broken-down",
    "power bill",
    "it's",
    "don't",
    "'",
    "''",
    "a",
    "123",
    "٣٤٥",
    "Ⅻ",
    "İstanbul",
    "ǅemal",
    "ẞ",
    "ﬁle",
    "Σσς",
    "e\u{301}",
    "\u{301}\u{301}",
    "😀",
    "👨\u{200d}👩\u{200d}👧",
    "🇨🇳",
    "مرحبا",
    "שלום",
    "\u{200f}",
    "\u{202e}",
    "\u{200b}",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "\0",
    "\u{1b}",
    "\u{7f}",
    " ",
    "\t",
    "\r\n",
    "，",
    "。",
    "-",
    "#",
    "##",
];

fn random_char(r: &mut Rng) -> char {
    loop {
        let cp = match r.below(8) {
            0 => r.below(0x80) as u32,
            1 => r.below(0x20) as u32,
            2 => 0x80 + r.below(0x780) as u32,
            3 => *r.pick(CJK_EDGES),
            4 => 0x4E00 + r.below(0x51FF) as u32,
            5 => 0x300 + r.below(0x70) as u32,
            6 => 0x1F300 + r.below(0x700) as u32,
            _ => r.below(0x11_0000) as u32,
        };
        if let Some(c) = char::from_u32(cp) {
            return c;
        }
    }
}

fn random_text(r: &mut Rng) -> String {
    let mut s = String::new();
    let parts = r.below(24);
    for _ in 0..parts {
        if r.below(2) == 0 {
            s.push_str(r.pick::<&str>(WORDS));
        } else {
            for _ in 0..=r.below(6) {
                s.push(random_char(r));
            }
        }
    }
    if r.below(40) == 0 {
        s = s.repeat(1 + r.below(200));
    }
    s
}

fn cases() -> u64 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

fn tokenizer() -> Tokenizer {
    Tokenizer::new(
        &["计件工资", "宕机", "", " ", "a", "料", "😀😀"],
        &[
            vec!["停机".into(), "宕机".into(), "趴窝".into()],
            vec!["物料".into(), "料".into(), "材料".into()],
            vec!["breakdown".into(), "stop".into(), "broken down".into()],
            vec!["cost".into(), "power bill".into(), "COST".into()],
            vec![],
            vec!["lonely".into()],
        ],
    )
}

/// A surface is the text's own words (lower-cased); a two-word phrase has its words in order.
fn occurs(lower: &str, surface: &str) -> bool {
    if lower.contains(surface) {
        return true;
    }
    let mut rest = lower;
    for w in surface.split(' ') {
        match rest.find(w) {
            Some(i) => rest = &rest[i + w.len()..],
            None => return false,
        }
    }
    true
}

/// A word of apostrophes and `s` (`''s`) stems to the empty term: accepted here until
/// [`apostrophe_s_is_not_an_empty_term`] passes.
fn stems_to_nothing(surface: &str) -> bool {
    surface.chars().all(|c| c == '\'' || c == 's')
}

fn check_tokens(text: &str, toks: &[Token]) {
    let lower = text.to_lowercase();
    for t in toks {
        assert!(
            !t.term.is_empty() || stems_to_nothing(&t.surface),
            "an empty term from {text:?}: {t:?}"
        );
        assert!(
            t.term.is_empty() || !t.term.trim_start_matches('#').is_empty(),
            "a bigram without characters from {text:?}: {t:?}"
        );
        assert!(
            !t.surface.is_empty(),
            "an empty surface from {text:?}: {t:?}"
        );
        assert!(
            t.weight.is_finite() && t.weight > 0.0,
            "weight {} from {text:?}",
            t.weight
        );
        assert!(
            occurs(&lower, &t.surface),
            "{:?} is not in {text:?}",
            t.surface
        );
    }
}

#[test]
fn arbitrary_unicode_never_panics_and_gives_no_empty_terms() {
    let t = tokenizer();
    for seed in 0..cases() {
        let mut r = Rng(seed);
        let text = random_text(&mut r);
        let toks = t.tokens(&text);
        check_tokens(&text, &toks);
        assert_eq!(
            toks,
            t.tokens(&text),
            "seed {seed}: the same text, the same tokens"
        );
    }
}

#[test]
fn every_char_class_alone_and_in_pairs() {
    let t = tokenizer();
    let mut singles: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
    singles.extend(
        CJK_EDGES
            .iter()
            .filter_map(|&c| char::from_u32(c))
            .map(String::from),
    );
    for a in &singles {
        check_tokens(a, &t.tokens(a));
        for b in &singles {
            let s = format!("{a}{b}");
            check_tokens(&s, &t.tokens(&s));
        }
    }
}

#[test]
fn the_index_never_panics_on_arbitrary_documents_and_queries() {
    let t = tokenizer();
    let mut r = Rng(0x5EED);
    let texts: Vec<String> = (0..24).map(|_| random_text(&mut r)).collect();
    let mut docs: Vec<Vec<Field<'_>>> = texts
        .chunks(3)
        .map(|c| {
            c.iter()
                .zip([3.0, 1.0, 0.0])
                .map(|(text, weight)| Field { text, weight })
                .collect()
        })
        .collect();
    docs.push(Vec::new());
    docs.push(vec![Field {
        text: "设备停机 machine breakdown",
        weight: 2.0,
    }]);
    let idx = Index::build(&t, &docs);
    assert_eq!(idx.len(), docs.len());
    let empty = Index::build(&t, &[]);
    assert!(empty.is_empty());
    for seed in 0..cases() / 2 {
        let mut r = Rng(seed ^ 0xA5A5);
        let q = random_text(&mut r);
        assert!(empty.search(&t, &q).is_empty());
        let lower = q.to_lowercase();
        for floor in [0.0, 0.5, 1.0, -1.0, f32::NAN] {
            let hits = idx.search_above(&t, &q, floor);
            for w in hits.windows(2) {
                assert!(w[0].score >= w[1].score, "seed {seed}: best first");
            }
            for h in &hits {
                assert!(h.doc < docs.len());
                assert!(h.score.is_finite() && h.score > 0.0, "seed {seed}: {h:?}");
                assert!(!h.matched.is_empty(), "seed {seed}: {h:?}");
                for m in &h.matched {
                    assert!(occurs(&lower, m), "seed {seed}: {m:?} not in {q:?}");
                }
            }
        }
    }
}

#[test]
fn a_megabyte_of_text_is_tokenized() {
    let unit = "订单多了交期总是延误 machines stop 😀 مرحبا \0 İ ";
    let text = unit.repeat((1 << 20) / unit.len() + 1);
    let toks = tokenizer().tokens(&text);
    assert!(!toks.is_empty());
    assert!(toks.iter().all(|t| !t.term.is_empty()));
}

#[test]
fn a_megabyte_without_separators_is_tokenized() {
    let t = tokenizer();
    for unit in ["a", "料", "😀", "\u{301}", "9"] {
        let text = unit.repeat((1 << 20) / unit.len());
        let head: String = text.chars().take(40).collect();
        check_tokens(&head, &t.tokens(&head));
        assert!(
            t.tokens(&text).iter().all(|x| !x.term.is_empty()),
            "{unit:?}"
        );
    }
}

/// A synonym group may hold a term that is only punctuation ("--", "!!"); the knowledge-base
/// check only refuses blank terms. Such a term normalises to nothing, and every other term of its
/// group then folds to the empty term.
#[test]
fn punctuation_only_synonym_terms_fold_to_no_empty_term() {
    let t = Tokenizer::new(
        &[] as &[&str],
        &[
            vec!["--".into(), "stop".into()],
            vec!["!!".into(), "停机".into()],
        ],
    );
    for text in ["stop", "设备停机"] {
        check_tokens(text, &t.tokens(text));
    }
}

/// Found by the `pain_text` fuzz target: the English stemmer strips a leading apostrophe and then
/// the possessive `'s`, so the word `''s` (two apostrophes and an s) becomes the empty term.
#[test]
fn apostrophe_s_is_not_an_empty_term() {
    let t = tokenizer();
    for text in ["''s", "''S", "''s'", "machine ''s"] {
        for tok in t.tokens(text) {
            assert!(!tok.term.is_empty(), "an empty term from {text:?}: {tok:?}");
        }
    }
}

#[test]
fn apostrophe_s_does_not_panic() {
    let t = tokenizer();
    for text in ["''s", "''S", "''s'", "machine ''s", "'s", "'", "'''", "s'"] {
        check_tokens(text, &t.tokens(text));
    }
}
