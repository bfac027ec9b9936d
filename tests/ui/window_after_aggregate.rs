// An aggregate's results carry no event time (they come at the end of input), so an
// event-time window after it is refused, as in `.pipe`.
fn main() {
    let v = vec![(1u64, 10i64)];
    let _job = weir::stream! {
        source iter(v) with event_time(|r: &(u64, i64)| r.1), watermark(ascending)
        |> key_by(|r: &(u64, i64)| r.0)
        |> aggregate(count())
        |> key_by(|r: &(u64, u64)| r.0)
        |> window(tumbling 10s)
        |> aggregate(count())
        |> collect()
    };
}
