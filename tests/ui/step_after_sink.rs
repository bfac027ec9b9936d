fn main() {
    let v = vec![1u64];
    let _job = weir::stream! {
        source iter(v) |> collect() |> filter(|x: &u64| *x > 0)
    };
}
