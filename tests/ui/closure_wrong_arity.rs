fn main() {
    let v = vec![1u64, 2, 3];
    let _job = weir::stream! {
        source iter(v) |> filter(|a: &u64, b: &u64| a < b) |> collect()
    };
}
