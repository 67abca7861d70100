//! A profile as JSON: bytes → text → `profile::Value` → `profile::validate` → (when valid)
//! `classify::classify` and the engine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smedx_core::profile::Value;

fuzz_target!(|data: &[u8]| {
    let Some(text) = smedx_fuzz::text(data) else {
        return;
    };
    if let Ok(doc) = serde_json::from_str::<Value>(&text) {
        smedx_fuzz::check_profile(&doc);
    }
});
