//! Free text (the `pain_points` field): `ScenarioIndex::search` and `Tokenizer::tokens`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = smedx_fuzz::text(data) {
        smedx_fuzz::check_text(&text);
    }
});
