//! Engine benchmark (a plain bench binary; prints a table).
//!
//!     cargo bench -p smedx-core --bench engine              # one assess + 1,000,000 profiles
//!     SMEDX_BENCH_PROFILES=100000 cargo bench -p smedx-core --bench engine
//!
//! "One assess" = classification + questionnaire scoring + free-text matching + recommendation +
//! roadmap + peer cases for the example profile and answers. The batch runs generated profiles
//! (with short pain texts) through the same pipeline on every core with rayon.

use std::hint::black_box;
use std::time::Instant;

use rayon::prelude::*;

// The same allocator as the `smedx` binary, so the figures match what it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use smedx_core::assessment;
use smedx_core::profile::{self, Profile, Value};
use smedx_core::recommend::Engine;

const PAINS: &[&str] = &[
    "订单多了交期总是延误，计件工资经常算错",
    "仓库老是找不到料，库存对不上",
    "设备突然停机，维修跟不上",
    "电费太高，不知道哪台设备最耗电",
    "客户投诉质量问题，批次查不到原因",
    "machines stop without warning",
    "late deliveries and rush orders",
    "",
];

fn generated(engine: &Engine, i: u64) -> Profile {
    // A small deterministic generator (SplitMix64) so runs are repeatable.
    let mut x = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xBF58_476D_1CE4_E5B9);
    let mut next = || {
        x ^= x >> 30;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 27;
        x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        x
    };
    let kb = &engine.kb;
    let m = &kb.mappings[(next() % kb.mappings.len() as u64) as usize];
    let code =
        smedx_core::industry::parse_code(kb, &m.prefix).expect("mapping prefixes are valid codes");
    let employees = (next() % 900 + 1) as f64;
    let revenue = (next() % 300_000_000 + 500_000) as f64;
    let adopted = kb
        .scenarios
        .iter()
        .filter(|_| next() % 10 == 0)
        .map(|s| s.id.clone())
        .collect();
    Profile {
        industry: Some(profile::IndustryInput::Code { code }),
        employees: Some(employees),
        revenue: Some(revenue),
        supplies_chain_leader: Some(next() % 3 == 0),
        in_cluster: Some(next() % 4 == 0),
        adopted,
        pain_points: Some(PAINS[(next() % PAINS.len() as u64) as usize].to_string())
            .filter(|s| !s.is_empty()),
        budget: Some((next() % 1_000_000) as f64),
        ..Profile::default()
    }
}

fn main() {
    let kb = smedx_kb::embedded().expect("built-in knowledge base");
    let engine = Engine::new(kb);
    let doc: Value =
        toml::from_str(include_str!("../../../examples/profile.toml")).expect("example profile");
    let p = profile::validate(&engine.kb, &doc).expect("valid example profile");
    let adoc: Value =
        toml::from_str(include_str!("../../../examples/answers.toml")).expect("example answers");
    let a =
        assessment::parse_answers(&engine.kb.questionnaire, &adoc).expect("valid example answers");

    // Instruction-count mode for callgrind: only the per-profile path, a fixed number of times.
    if let Ok(k) = std::env::var("SMEDX_BENCH_CALLGRIND") {
        let k: u64 = k.parse().unwrap_or(1000);
        for i in 0..k {
            let prof = generated(&engine, i);
            black_box(engine.run(&prof, None).expect("runs"));
        }
        return;
    }

    // One full assess.
    for _ in 0..2_000 {
        black_box(engine.run(&p, Some(&a)).expect("runs"));
    }
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(engine.run(black_box(&p), Some(&a)).expect("runs"));
    }
    let one = t.elapsed().as_secs_f64() / n as f64;
    if std::env::var("SMEDX_BENCH_PARTS").is_ok() {
        let text = p.pain_points.clone().unwrap_or_default();
        let t = Instant::now();
        for _ in 0..n {
            black_box(engine.index.search(&engine.kb, black_box(&text)));
        }
        println!(
            "text search: {:.1} µs",
            t.elapsed().as_secs_f64() / n as f64 * 1e6
        );
        let t = Instant::now();
        for _ in 0..n {
            black_box(
                smedx_core::classify::classify(&engine.kb, black_box(&p)).expect("classifies"),
            );
        }
        println!(
            "classify: {:.1} µs",
            t.elapsed().as_secs_f64() / n as f64 * 1e6
        );
        let t = Instant::now();
        for _ in 0..n {
            black_box(assessment::assess(&engine.kb.questionnaire, black_box(&a)));
        }
        println!(
            "assessment: {:.1} µs",
            t.elapsed().as_secs_f64() / n as f64 * 1e6
        );
        let mut q = p.clone();
        q.pain_points = None;
        let per = |t: Instant| t.elapsed().as_secs_f64() / n as f64 * 1e6;
        let t = Instant::now();
        for _ in 0..n {
            black_box(engine.run(black_box(&q), None).expect("runs"));
        }
        println!("run without text or answers: {:.1} µs", per(t));
        let c = smedx_core::classify::classify(&engine.kb, &q).expect("classifies");
        let t = Instant::now();
        for _ in 0..n {
            black_box(smedx_core::recommend::recommend(
                &engine.kb,
                &q,
                &c,
                None,
                &[],
            ));
        }
        println!("recommend only: {:.1} µs", per(t));
        let recs = smedx_core::recommend::recommend(&engine.kb, &q, &c, None, &[]);
        let t = Instant::now();
        for _ in 0..n {
            black_box(smedx_core::recommend::peers(&engine.kb, &c, &recs, &q));
        }
        println!("peers only: {:.1} µs", per(t));
        let t = Instant::now();
        for _ in 0..n {
            black_box(smedx_core::recommend::roadmap(&engine.kb, &recs, None));
        }
        println!("roadmap only: {:.1} µs", per(t));
        let t = Instant::now();
        for i in 0..n {
            black_box(generated(&engine, i as u64));
        }
        println!("profile generation: {:.1} µs", per(t));
    }

    // Batch.
    let total: u64 = std::env::var("SMEDX_BENCH_PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let threads = rayon::current_num_threads();
    let t = Instant::now();
    let stage1: u64 = (0..total)
        .into_par_iter()
        .map(|i| {
            let prof = generated(&engine, i);
            engine
                .run(&prof, None)
                .map(|r| r.roadmap.first().map_or(0, |s| s.scenarios.len() as u64))
                .unwrap_or(0)
        })
        .sum();
    let batch = t.elapsed().as_secs_f64();
    black_box(stage1);

    println!("| benchmark | result |");
    println!("|---|---|");
    println!(
        "| one full assess (profile + answers + text), mean of {n} | {:.1} µs |",
        one * 1e6
    );
    println!(
        "| batch: {total} generated profiles, {threads} threads | {batch:.2} s ({:.0} profiles/s) |",
        total as f64 / batch
    );
}
