fn main() {
    let v = vec![(1u64, 10i64)];
    let _job = weir::stream! {
        source iter(v)
        |> key_by(|r: &(u64, i64)| r.0)
        |> window(tumbling 10s)
        |> aggregate(count())
        |> collect()
    };
}
