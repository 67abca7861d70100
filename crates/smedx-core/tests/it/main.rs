//! Integration tests of the smedx engine against the built-in knowledge base.

mod assessment;
mod cases;
mod classify;
mod eval;
mod hostile;
mod industry;
mod profile;
mod providers;
mod recommend;
mod size;

use std::sync::OnceLock;

use smedx_core::KnowledgeBase;

/// The embedded knowledge base, loaded (and validated) once for the whole test binary.
pub fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        smedx_kb::embedded().expect("the embedded knowledge base should load and validate")
    })
}
