fn main() {
    let readings: Vec<(u64, i64)> = vec![(1, 5), (1, 3)];
    let _ = weir::stream! {
        source iter(readings) with event_time(|r: &(u64, i64)| r.1)
        |> key_by(|r: &(u64, i64)| r.0)
        |> window(tumbling 10s)
        |> aggregate(count())
        |> collect()
    }
    .run();
}
