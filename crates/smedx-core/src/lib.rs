//! The smedx engine: everything that turns a profile (and optionally questionnaire answers) into a
//! classification, a digital level, ranked scenarios and a roadmap.
//!
//! This crate performs no I/O: it receives a validated [`kb::KnowledgeBase`] and plain values, and is
//! deterministic. Loading and validating the knowledge base lives in `smedx-kb`.

pub mod assessment;
pub mod classify;
pub mod eval;
pub mod explain;
pub mod industry;
pub mod kb;
pub mod lang;
pub mod profile;
pub mod providers;
pub mod recommend;
pub mod rules;
pub mod size;

pub use kb::KnowledgeBase;
pub use lang::{Lang, Localized};
