//! Integration tests of smedx-io against the built-in knowledge base.

mod demo;
mod errors;
mod export;
mod fixtures;
mod import;
mod template;

use std::sync::OnceLock;

use smedx_core::KnowledgeBase;

/// The embedded knowledge base, loaded (and validated) once for the whole test binary.
pub fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        smedx_kb::embedded().expect("the embedded knowledge base should load and validate")
    })
}

/// The path of a file under the repository's `fixtures/` folder.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// Generated rows written as an import CSV (single-choice answers as option ids, the compact form).
pub fn demo_csv(n: u64, seed: u64, lang: smedx_core::Lang) -> Vec<u8> {
    let kb = kb();
    let mut w = smedx_io::records::RecordCsvWriter::new(kb, lang, Vec::new(), false)
        .expect("header written")
        .option_style(smedx_io::records::OptionStyle::Id);
    for row in smedx_io::demo::generate(kb, n, seed) {
        w.write(&row).expect("row written");
    }
    w.finish().expect("flushed")
}
