// The two sides of a join are keyed by values of one type; rustc reports the mismatch at
// the other stream's name, with both types.
fn main() {
    let orders = vec![(1u64, 10i64)];
    let paid = vec![(String::from("1"), 10i64)];
    let _job = weir::stream! {
        let o = source iter(orders) with event_time(|r: &(u64, i64)| r.1), watermark(ascending);
        let p = source iter(paid) with event_time(|r: &(String, i64)| r.1), watermark(ascending)
            |> key_by(|r: &(String, i64)| r.0.clone());
        o |> key_by(|r: &(u64, i64)| r.0) |> window(tumbling 10s) |> join(p) |> collect()
    };
}
