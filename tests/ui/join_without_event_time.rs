// A window join pairs records by event time: the other stream must carry it.
fn main() {
    let orders = vec![(1u64, 10i64)];
    let paid = vec![(1u64, 10i64)];
    let _job = weir::stream! {
        let o = source iter(orders) with event_time(|r: &(u64, i64)| r.1), watermark(ascending);
        let p = source iter(paid) |> key_by(|r: &(u64, i64)| r.0);
        o |> key_by(|r: &(u64, i64)| r.0) |> window(tumbling 10s) |> join(p) |> collect()
    };
}
