fn main() {
    let v = vec![1u64];
    let _job = weir::stream! {
        source iter(v)
        |> iterate(rounds(3))
        |> collect()
    };
}
