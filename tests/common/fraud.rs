//! Random card transactions and the fraud rule of Flink's tutorial simulated in plain
//! Rust, for the `.pipe` and the `stream!` process tests.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Transactions `(ts, account, amount in cents)`, in ascending time: mostly ordinary
/// amounts, with small ones (under 1.00) and large ones (over 500.00) often enough that
/// the rule fires, some a minute or more apart, some at the same millisecond.
pub fn transactions(n: usize, accounts: u32, step: i64, seed: u64) -> Vec<(i64, String, i64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ts = 0i64;
    (0..n)
        .map(|_| {
            ts += rng.random_range(0..step);
            let account = format!("acct{}", rng.random_range(0..accounts));
            let cents = match rng.random_range(0..10) {
                0..=2 => rng.random_range(1..100),
                3..=5 => rng.random_range(50_000..90_000),
                _ => rng.random_range(100..50_000),
            };
            (ts, account, cents)
        })
        .collect()
}

/// The rule, simulated: a transaction over 500.00 whose account's previous transaction was
/// under 1.00 and less than a minute earlier.
pub fn fraud_reference(txns: &[(i64, String, i64)]) -> Vec<(String, i64, i64)> {
    let mut last: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut alerts = Vec::new();
    for (ts, account, cents) in txns {
        if let Some(&(prev_ts, prev_cents)) = last.get(account.as_str()) {
            if prev_cents < 100 && *cents > 50_000 && ts - prev_ts < 60_000 {
                alerts.push((account.clone(), *ts, *cents));
            }
        }
        last.insert(account, (*ts, *cents));
    }
    alerts.sort();
    alerts
}
