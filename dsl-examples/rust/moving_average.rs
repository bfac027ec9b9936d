//! Sliding windows over JSON lines inline: the twin of `dsl-examples/moving_average.pipe`.
//!
//!   cargo run --example moving_average_inline

/// A temperature reading.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Reading {
    pub sensor: String,
    pub celsius: f64,
    pub ts: i64,
}

/// Sensor, window start, window end, readings, mean, low, high.
pub type SensorWindow = (String, i64, i64, u64, f64, f64, f64);

/// Per sensor and 10-second window every 5 seconds: readings, mean, low and high.
pub fn pipeline() -> Result<Vec<SensorWindow>, weir::JobError> {
    weir::stream! {
        source jsonl::<Reading>("dsl-examples/data/readings.jsonl")
            with event_time(|r: &Reading| r.ts), watermark(bounded 1s)
        |> key_by(|r: &Reading| r.sensor.clone())
        |> window(sliding 10s every 5s)
        |> aggregate(
            count(),
            avg(|r: &Reading| r.celsius),
            min(|r: &Reading| r.celsius),
            max(|r: &Reading| r.celsius),
        )
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for row in pipeline()? {
        println!("{row:?}");
    }
    Ok(())
}
