fn main() {
    let v = vec![1u64, 2, 3];
    let _job = weir::stream! {
        source iter(v) |> filter(|x: &u64| *x + 1) |> collect()
    };
}
