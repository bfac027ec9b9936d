fn main() {
    let v = vec![(1u64, 10i64)];
    let _job = weir::stream! {
        source iter(v) with event_time(|r: &(u64, i64)| r.1), watermark(bounded 2s)
        |> key_by(|r: &(u64, i64)| r.0)
        |> window(tumbling 10x)
        |> aggregate(count())
        |> collect()
    };
}
