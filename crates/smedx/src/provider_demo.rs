//! `smedx demo generate --providers N`: approved demonstration solution providers with products,
//! so that the supply–demand view of a demo region shows supply as well as demand. Deterministic
//! for a seed; the accounts cannot log in (their password hash is not a hash).

use std::path::Path;

use serde_json::json;
use smedx_core::kb::{KnowledgeBase, SizeClass};
use smedx_core::providers::{Deployment, PriceModel, ProductSpec};
use smedx_store::providers::ProviderInput;
use smedx_store::{AuditCtx, Scope, StoreError};

use crate::CliError;
use crate::commands::Ctx;

/// Where demo providers are registered (Jiangsu cities, like the demo enterprises).
const HOMES: [(&str, &str); 5] = [
    ("320500", "苏州"),
    ("320200", "无锡"),
    ("320400", "常州"),
    ("320100", "南京"),
    ("320300", "徐州"),
];
const KINDS: [&str; 4] = ["智造", "云工", "数联", "精益"];
/// Stored where a password hash belongs: no password verifies against it.
const NO_LOGIN: &str = "!demo-account-without-password";

/// A small deterministic generator (SplitMix64), so the same seed gives the same providers.
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
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
    /// `k` distinct items of `items`, in their order.
    fn some<'a, T>(&mut self, items: &'a [T], k: usize) -> Vec<&'a T> {
        let mut idx: Vec<usize> = Vec::new();
        while idx.len() < k.min(items.len()) {
            let i = self.below(items.len());
            if !idx.contains(&i) {
                idx.push(i);
            }
        }
        idx.sort_unstable();
        idx.into_iter().map(|i| &items[i]).collect()
    }
}

/// The products of demo provider `i`.
fn products(kb: &KnowledgeBase, rng: &mut Rng, name: &str) -> Vec<ProductSpec> {
    let n = 1 + rng.below(3);
    (0..n)
        .map(|p| {
            let k = 1 + rng.below(3);
            let scenarios: Vec<String> = rng
                .some(&kb.scenarios, k)
                .into_iter()
                .map(|s| s.id.clone())
                .collect();
            let sectors: Vec<String> = if rng.below(2) == 0 {
                Vec::new()
            } else {
                let k = 1 + rng.below(2);
                rng.some(&kb.sectors, k)
                    .into_iter()
                    .map(|s| s.id.clone())
                    .collect()
            };
            let sizes: Vec<SizeClass> = match rng.below(3) {
                0 => Vec::new(),
                1 => vec![SizeClass::Micro, SizeClass::Small],
                _ => vec![SizeClass::Small, SizeClass::Medium],
            };
            let model = PriceModel::ALL[rng.below(3)];
            let (lo, hi) = match model {
                PriceModel::PerUserMonth => (50.0, 300.0),
                PriceModel::OneOff => (20_000.0, 400_000.0),
                PriceModel::PerDevice => (800.0, 8_000.0),
            };
            // Prices rounded to tens of yuan, the lower end first.
            let a = lo + (hi - lo) * f64::from(u32::try_from(rng.below(50)).unwrap_or(0)) / 100.0;
            let min = (a / 10.0).round() * 10.0;
            let max = (min * (1.5 + f64::from(u32::try_from(rng.below(3)).unwrap_or(0)))).round();
            let first = kb
                .scenario(&scenarios[0])
                .map(|s| s.name.clone())
                .unwrap_or_default();
            ProductSpec {
                name: format!("{name}·{}{}", first.zh, ["方案", "套件", "服务"][p % 3]),
                description_zh: format!("演示数据：面向中小制造企业的{}解决方案。", first.zh),
                description_en: format!(
                    "Demo data: a {} solution for manufacturing SMEs.",
                    first.en
                ),
                scenarios,
                sectors,
                sizes,
                deployment: Deployment::ALL[rng.below(3)],
                price_model: model,
                price_min: min,
                price_max: max,
                golive_weeks: u32::try_from(2 + rng.below(20)).unwrap_or(4),
                references: String::new(),
                levels: vec![u8::try_from(1 + rng.below(3)).unwrap_or(1)],
            }
        })
        .collect()
}

/// Creates `count` approved providers with their products. Accounts that exist already (the
/// same seed run twice) are left as they are.
pub async fn generate(
    ctx: &Ctx,
    store: &dyn smedx_store::Store,
    kb: &KnowledgeBase,
    count: u64,
    seed: u64,
    now: i64,
) -> Result<(u64, u64), CliError> {
    let mut rng = Rng(seed ^ 0x005E_ED0F_5E4F_1CE5);
    let audit = AuditCtx {
        at: now,
        actor_user_id: None,
        ip: None,
        detail: "via=demo".into(),
    };
    let (mut made, mut listed) = (0, 0);
    for i in 0..count {
        let (home, city) = HOMES[usize::try_from(i).unwrap_or(0) % HOMES.len()];
        let name = format!("{city}{}数字科技{}", KINDS[rng.below(KINDS.len())], i + 1);
        let regions = match rng.below(4) {
            0 => Vec::new(),
            1 => vec!["320000".to_owned()],
            _ => vec![home.to_owned()],
        };
        let input = ProviderInput {
            name: name.clone(),
            home_region: home.into(),
            regions,
            contact: format!("demo-provider-{}@example.cn", i + 1),
            certifications: "演示数据 / demo".into(),
        };
        let email = format!("provider-{}-s{seed}@demo.smedx.invalid", i + 1);
        let specs = products(kb, &mut rng, &name);
        let user = match store
            .create_provider_account(&email, NO_LOGIN, None, &input, now, &audit)
            .await
        {
            Ok(u) => u,
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(CliError::Failed(anyhow::anyhow!(e))),
        };
        store
            .decide_provider(&Scope::All, user.id, true, now, &audit)
            .await
            .map_err(|e| CliError::Failed(anyhow::anyhow!(e)))?;
        for spec in &specs {
            store
                .create_product(user.id, spec, now)
                .await
                .map_err(|e| CliError::Failed(anyhow::anyhow!(e)))?;
            listed += 1;
        }
        made += 1;
    }
    if ctx.json {
        outln!("{}", json!({ "providers": made, "products": listed }));
    } else {
        outln!(
            "{}",
            ctx.t(
                &format!("已生成演示服务商 {made} 家、产品 {listed} 个"),
                &format!("generated {made} demo providers with {listed} products"),
            )
        );
    }
    Ok((made, listed))
}

/// Opens the store and runs [`generate`] (for `smedx demo generate --providers N`).
pub fn run(
    ctx: &Ctx,
    count: u64,
    seed: u64,
    data_dir: &Path,
    database: Option<&str>,
) -> Result<(), CliError> {
    let kb = ctx.load_kb()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(anyhow::anyhow!("starting the async runtime: {e}")))?;
    rt.block_on(async {
        let store = smedx_store::open_url(database.unwrap_or(""), data_dir)
            .await
            .map_err(|e| CliError::BadInput(e.to_string()))?;
        generate(ctx, store.as_ref(), &kb, count, seed, now).await
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_products_and_they_validate() {
        let kb = smedx_kb::embedded().expect("kb");
        let a = products(&kb, &mut Rng(7), "x");
        let b = products(&kb, &mut Rng(7), "x");
        assert_eq!(a, b);
        for s in a {
            assert!(s.price_min <= s.price_max);
            assert!(s.scenarios.iter().all(|x| kb.scenario(x).is_some()));
        }
    }
}
