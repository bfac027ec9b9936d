//! Two sources, a union and a keyed aggregation inline: the twin of
//! `dsl-examples/all_clicks.pipe`.
//!
//!   cargo run --example all_clicks_inline

/// A click, from CSV (EU) or JSON lines (US).
#[derive(Debug, Clone, PartialEq, weir::Record, serde::Deserialize)]
pub struct Click {
    pub user: String,
    pub page: String,
    pub ms: i64,
}

/// Per page: clicks, total and longest time on the page.
pub fn pipeline() -> Result<Vec<(String, u64, i64, i64)>, weir::JobError> {
    weir::stream! {
        let eu = source csv::<Click>("dsl-examples/data/clicks_eu.csv");
        let us = source jsonl::<Click>("dsl-examples/data/clicks_us.jsonl");
        eu
        |> union(us)
        |> filter(|c: &Click| c.ms >= 0)
        |> key_by(|c: &Click| c.page.clone())
        |> aggregate(count(), sum(|c: &Click| c.ms), max(|c: &Click| c.ms))
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (page, clicks, total_ms, longest_ms) in pipeline()? {
        println!("{page},{clicks},{total_ms},{longest_ms}");
    }
    Ok(())
}
