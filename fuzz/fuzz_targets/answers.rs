//! Questionnaire answers as TOML or JSON (JSON when the text starts with `{`, as the command line
//! decides): bytes → text → `profile::Value` → `assessment::parse_answers` → (when valid)
//! `assessment::assess` and the engine with an example profile.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smedx_core::profile::Value;

fuzz_target!(|data: &[u8]| {
    let Some(text) = smedx_fuzz::text(data) else {
        return;
    };
    let doc = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(&text).ok()
    } else {
        toml::from_str::<Value>(&text).ok()
    };
    if let Some(doc) = doc {
        smedx_fuzz::check_answers(&doc);
    }
});
