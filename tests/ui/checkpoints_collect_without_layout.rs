/// A record of the program's own, without `#[derive(weir::Record)]`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Reading {
    sensor: u64,
    celsius: f64,
}

fn main() {
    let readings = vec![Reading { sensor: 1, celsius: 20.5 }];
    // Collecting it is fine, as long as the job takes no checkpoints...
    let _ = weir::stream! {
        source iter(readings.clone())
        |> filter(|r: &Reading| r.celsius > 20.0)
        |> collect()
    }
    .run();
    let _ = weir::stream! {
        source jsonl::<Reading>("readings.jsonl")
        |> collect()
    }
    .run();
    // ... which hold what was collected so far.
    let _ = weir::stream! {
        source iter(readings)
        |> filter(|r: &Reading| r.sensor > 0)
        |> collect()
    }
    .run_with(weir::JobConfig::default().checkpoints("checkpoints"));
}
