fn main() {
    let v = vec![1u64, 2];
    let _job = weir::stream! {
        source iter(v) |> map(|s: String| s.len()) |> collect()
    };
}
