//! Free-text understanding for smedx: a Chinese/English tokenizer (jieba word segmentation plus
//! character bigrams for Chinese, Snowball stemming for English, synonym folding) and a small BM25
//! index over weighted document fields.
//!
//! Pure computation: no I/O. The jieba dictionary is compiled into the binary.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use jieba_rs::Jieba;
use rust_stemmers::{Algorithm, Stemmer};

/// Weight of a Chinese character bigram relative to a whole word: bigrams rescue words the
/// segmenter splits differently, but must not outweigh real word matches.
const BIGRAM_WEIGHT: f32 = 0.35;

const ZH_STOP: &[&str] = &[
    "的",
    "了",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "我们",
    "我",
    "你",
    "他们",
    "它",
    "就",
    "都",
    "也",
    "还",
    "很",
    "太",
    "又",
    "被",
    "把",
    "让",
    "对",
    "从",
    "到",
    "这",
    "那",
    "个",
    "些",
    "一",
    "有",
    "没",
    "要",
    "会",
    "能",
    "总是",
    "老是",
    "经常",
    "常常",
    "一直",
    "总",
    "老",
    "时候",
    "现在",
    "如何",
    "怎么",
    "怎么办",
    "什么",
    "一些",
    "比较",
    "非常",
    "特别",
    "还是",
    "但是",
    "而且",
    "因为",
    "所以",
    "如果",
    "就是",
    "公司",
    "企业",
    "工厂",
    "厂里",
    "我们厂",
    "问题",
    "情况",
    "方面",
    "需要",
    "希望",
    "想",
    "做",
    "搞",
    "弄",
    "多",
    "少",
    "大",
];

const EN_STOP: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from", "is",
    "are", "was", "were", "be", "been", "it", "its", "we", "our", "us", "i", "my", "you", "your",
    "they", "their", "them", "this", "that", "these", "those", "there", "here", "always", "often",
    "never", "very", "too", "so", "but", "not", "no", "do", "does", "did", "have", "has", "had",
    "can", "cannot", "can't", "could", "would", "should", "will", "just", "all", "any", "some",
    "much", "many", "more", "most", "get", "gets", "got", "keep", "keeps", "what", "which", "who",
    "how", "when", "where", "why", "about", "into", "out", "up", "down", "over", "than", "then",
    "company", "factory", "firm", "problem", "problems", "issue", "issues", "don't", "doesn't",
    "without", "if", "because", "as", "also", "one", "lot", "lots",
];

/// One token of a text: the normalised term and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Normalised term (synonyms folded, English stemmed); bigrams start with `#`.
    pub term: String,
    /// The words as written in the input.
    pub surface: String,
    pub weight: f32,
}

/// Tokenizer for Chinese and English text with synonym folding.
pub struct Tokenizer {
    jieba: Jieba,
    stemmer: Stemmer,
    /// Normalised form → canonical term of its synonym group.
    synonyms: HashMap<String, String>,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

impl Tokenizer {
    /// `words` are added to the segmentation dictionary (domain terms); `synonym_groups` fold
    /// every term of a group onto the group's first term.
    pub fn new<S: AsRef<str>>(words: &[S], synonym_groups: &[Vec<String>]) -> Self {
        let mut jieba = Jieba::new();
        for w in words {
            let w = w.as_ref().trim();
            if w.chars().count() >= 2 && w.chars().all(is_cjk) {
                jieba.add_word(w, Some(2000), None);
            }
        }
        let stemmer = Stemmer::create(Algorithm::English);
        let mut t = Tokenizer {
            jieba,
            stemmer,
            synonyms: HashMap::new(),
        };
        for g in synonym_groups {
            for w in g {
                let w = w.trim();
                if w.chars().count() >= 2 && w.chars().all(is_cjk) {
                    t.jieba.add_word(w, Some(2000), None);
                }
            }
        }
        for g in synonym_groups {
            // The group folds onto its first term that still means something after normalising
            // (a term of punctuation only normalises to nothing).
            let Some(canon) = g
                .iter()
                .map(|w| t.normalise_phrase(w))
                .find(|n| !n.is_empty())
            else {
                continue;
            };
            for w in g {
                let n = t.normalise_phrase(w);
                if !n.is_empty() && n != canon {
                    t.synonyms.entry(n).or_insert_with(|| canon.clone());
                }
            }
        }
        t
    }

    /// The normal form of a single word or short phrase (before synonym folding).
    fn normalise_phrase(&self, s: &str) -> String {
        let s = s.trim().to_lowercase();
        if s.chars().any(is_cjk) {
            s.chars().filter(|c| !c.is_whitespace()).collect()
        } else {
            s.split(|c: char| !c.is_alphanumeric() && c != '\'')
                .filter(|w| !w.is_empty())
                .map(|w| self.stemmer.stem(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    fn fold(&self, term: String) -> String {
        match self.synonyms.get(&term) {
            Some(c) => c.clone(),
            None => term,
        }
    }

    /// Splits a text into weighted tokens.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let mut out = Vec::new();
        let lower = text.to_lowercase();
        // Chinese runs through jieba; everything else as English words.
        let mut buf = String::new();
        let mut in_cjk = false;
        let flush = |buf: &mut String, cjk: bool, out: &mut Vec<Token>| {
            if buf.is_empty() {
                return;
            }
            if cjk {
                self.cjk_tokens(buf, out);
            } else {
                self.latin_tokens(buf, out);
            }
            buf.clear();
        };
        for c in lower.chars() {
            let cjk = is_cjk(c);
            if cjk != in_cjk {
                flush(&mut buf, in_cjk, &mut out);
                in_cjk = cjk;
            }
            buf.push(c);
        }
        flush(&mut buf, in_cjk, &mut out);
        out
    }

    fn cjk_tokens(&self, run: &str, out: &mut Vec<Token>) {
        for tok in self.jieba.cut(run, true) {
            let w = tok.word;
            if ZH_STOP.contains(&w) {
                continue;
            }
            // A lone character carries little meaning ("上", "好") unless a synonym group names it (料).
            if w.chars().count() == 1 && !self.synonyms.contains_key(w) {
                continue;
            }
            out.push(Token {
                term: self.fold(w.to_string()),
                surface: w.to_string(),
                weight: 1.0,
            });
        }
        let chars: Vec<char> = run.chars().collect();
        for pair in chars.windows(2) {
            let s: String = pair.iter().collect();
            if ZH_STOP.contains(&s.as_str()) {
                continue;
            }
            out.push(Token {
                term: format!("#{s}"),
                surface: s,
                weight: BIGRAM_WEIGHT,
            });
        }
    }

    fn latin_tokens(&self, run: &str, out: &mut Vec<Token>) {
        // Words with their byte spans, so a phrase is quoted exactly as the user wrote it.
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let mut start: Option<usize> = None;
        for (i, c) in run.char_indices() {
            let in_word = c.is_alphanumeric() || c == '\'';
            match (in_word, start) {
                (true, None) => start = Some(i),
                (false, Some(st)) => {
                    spans.push((st, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(st) = start {
            spans.push((st, run.len()));
        }
        let stems: Vec<Option<String>> = spans
            .iter()
            .map(|&(a, b)| {
                let w = &run[a..b];
                if EN_STOP.contains(&w) || w.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                // Apostrophes alone ("''s") stem to nothing: not a term.
                Some(self.stemmer.stem(w).into_owned()).filter(|x| !x.trim_matches('\'').is_empty())
            })
            .collect();
        for (i, s) in stems.iter().enumerate() {
            let Some(s) = s else { continue };
            let (a, b) = spans[i];
            out.push(Token {
                term: self.fold(s.clone()),
                surface: run[a..b].to_string(),
                weight: 1.0,
            });
            // Two-word phrases ("power bill", "late delivery") fold through synonyms as well.
            if let Some(Some(next)) = stems.get(i + 1) {
                let phrase = format!("{s} {next}");
                if let Some(c) = self.synonyms.get(&phrase) {
                    out.push(Token {
                        term: c.clone(),
                        surface: run[a..spans[i + 1].1].to_string(),
                        weight: 1.0,
                    });
                }
            }
        }
    }
}

/// A text field of a document with its weight (e.g. pain-point words count more than descriptions).
pub struct Field<'a> {
    pub text: &'a str,
    pub weight: f32,
}

/// BM25 over a fixed set of documents.
pub struct Index {
    postings: FxHashMap<String, Vec<(u32, f32)>>,
    doc_len: Vec<f32>,
    avg_len: f32,
    k1: f32,
    b: f32,
}

/// A document that matched a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: usize,
    pub score: f32,
    /// The query's words that matched, as written by the user (longest first, no bigram leftovers
    /// that are part of a matched word).
    pub matched: Vec<String>,
}

impl Index {
    /// Builds the index; `docs[i]` is the list of fields of document `i`.
    pub fn build(tokenizer: &Tokenizer, docs: &[Vec<Field<'_>>]) -> Self {
        let mut postings: FxHashMap<String, Vec<(u32, f32)>> = FxHashMap::default();
        let mut doc_len = Vec::with_capacity(docs.len());
        for (d, fields) in docs.iter().enumerate() {
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut len = 0.0;
            for f in fields {
                for t in tokenizer.tokens(f.text) {
                    let w = t.weight * f.weight;
                    *tf.entry(t.term).or_default() += w;
                    len += w;
                }
            }
            doc_len.push(len);
            let mut terms: Vec<(String, f32)> = tf.into_iter().collect();
            terms.sort_by(|a, b| a.0.cmp(&b.0));
            for (term, f) in terms {
                postings.entry(term).or_default().push((d as u32, f));
            }
        }
        let avg_len = if doc_len.is_empty() {
            1.0
        } else {
            (doc_len.iter().sum::<f32>() / doc_len.len() as f32).max(1.0)
        };
        Index {
            postings,
            doc_len,
            avg_len,
            k1: 1.2,
            b: 0.5,
        }
    }

    pub fn len(&self) -> usize {
        self.doc_len.len()
    }

    pub fn is_empty(&self) -> bool {
        self.doc_len.is_empty()
    }

    /// Scores every document against the query; returns the matching ones, best first.
    pub fn search(&self, tokenizer: &Tokenizer, query: &str) -> Vec<Hit> {
        self.search_above(tokenizer, query, 0.0)
    }

    /// Like [`Index::search`], keeping only hits scoring at least `floor` × the best hit.
    pub fn search_above(&self, tokenizer: &Tokenizer, query: &str, floor: f32) -> Vec<Hit> {
        let n = self.doc_len.len();
        if n == 0 {
            return Vec::new();
        }
        let toks = tokenizer.tokens(query);
        let mut scores = vec![0.0f32; n];
        // Positions of the query tokens that matched each document; surfaces are copied only
        // for the hits that are returned.
        let mut matched: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for (pos, t) in toks.iter().enumerate() {
            if !seen.insert(t.term.as_str()) {
                continue;
            }
            let Some(post) = self.postings.get(&t.term) else {
                continue;
            };
            let df = post.len() as f32;
            let idf = ((n as f32 - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(d, tf) in post {
                let dl = self.doc_len[d as usize];
                let norm = tf * (self.k1 + 1.0)
                    / (tf + self.k1 * (1.0 - self.b + self.b * dl / self.avg_len));
                scores[d as usize] += idf * norm * t.weight;
                matched[d as usize].push(pos as u32);
            }
        }
        let best = scores.iter().copied().fold(0.0f32, f32::max);
        let cut = (best * floor).max(f32::MIN_POSITIVE);
        let mut hits: Vec<Hit> = scores
            .iter()
            .enumerate()
            .filter(|(_, s)| **s >= cut && **s > 0.0)
            .map(|(d, s)| Hit {
                doc: d,
                score: *s,
                matched: clean_matches(
                    matched[d]
                        .iter()
                        .map(|&p| {
                            let t = &toks[p as usize];
                            (p as usize, t.surface.clone(), t.weight >= 1.0)
                        })
                        .collect(),
                ),
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
        hits
    }
}

/// Keeps whole words (character pairs only when no whole word matched); longest first.
fn clean_matches(m: Vec<(usize, String, bool)>) -> Vec<String> {
    let any_word = m.iter().any(|x| x.2);
    let mut m: Vec<(usize, String)> = m
        .into_iter()
        .filter(|x| x.2 || !any_word)
        .map(|x| (x.0, x.1))
        .collect();
    m.sort_by(|a, b| {
        b.1.chars()
            .count()
            .cmp(&a.1.chars().count())
            .then(a.0.cmp(&b.0))
    });
    let mut out: Vec<String> = Vec::new();
    for (_, s) in m {
        if out.iter().any(|o| o.contains(&s)) {
            continue;
        }
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tk() -> Tokenizer {
        Tokenizer::new(
            &["计件工资"],
            &[
                vec!["停机".into(), "宕机".into(), "趴窝".into()],
                vec!["物料".into(), "料".into(), "材料".into()],
                vec!["breakdown".into(), "stop".into(), "downtime".into()],
            ],
        )
    }

    #[test]
    fn chinese_words_are_segmented_and_synonyms_folded() {
        let t = tk();
        let terms: Vec<String> = t
            .tokens("设备经常宕机")
            .into_iter()
            .map(|x| x.term)
            .collect();
        assert!(terms.contains(&"设备".to_string()), "{terms:?}");
        assert!(terms.contains(&"停机".to_string()), "{terms:?}");
    }

    #[test]
    fn english_is_stemmed_and_stopwords_dropped() {
        let t = tk();
        let terms: Vec<String> = t
            .tokens("Machines stop without warning")
            .into_iter()
            .map(|x| x.term)
            .collect();
        assert!(terms.contains(&"machin".to_string()), "{terms:?}");
        assert!(terms.contains(&"breakdown".to_string()), "{terms:?}");
        assert!(!terms.iter().any(|x| x == "without"));
    }

    #[test]
    fn bm25_ranks_the_matching_document_first_and_reports_the_words() {
        let t = tk();
        let docs = vec![
            vec![Field {
                text: "设备停机 故障报警 machine breakdown",
                weight: 3.0,
            }],
            vec![Field {
                text: "计件工资算错 报工",
                weight: 3.0,
            }],
            vec![Field {
                text: "仓库 找不到物料",
                weight: 3.0,
            }],
        ];
        let idx = Index::build(&t, &docs);
        let hits = idx.search(&t, "每个月计件工资总是算错");
        assert_eq!(hits[0].doc, 1);
        assert!(
            hits[0].matched.iter().any(|m| m == "计件工资"),
            "{:?}",
            hits[0].matched
        );
        let hits = idx.search(&t, "老是找不到料");
        assert_eq!(hits[0].doc, 2);
        let hits = idx.search(&t, "the machines keep having downtime");
        assert_eq!(hits[0].doc, 0);
    }

    #[test]
    fn empty_or_unknown_text_gives_no_hits() {
        let t = tk();
        let docs = vec![vec![Field {
            text: "设备停机",
            weight: 1.0,
        }]];
        let idx = Index::build(&t, &docs);
        assert!(idx.search(&t, "").is_empty());
        assert!(idx.search(&t, "   ，。！").is_empty());
        assert!(idx.search(&t, "zzzz qqqq").is_empty());
    }
}
