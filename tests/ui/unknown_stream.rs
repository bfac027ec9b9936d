fn main() {
    let v = vec![1u64];
    let _job = weir::stream! {
        let numbers = source iter(v);
        numbrs |> collect()
    };
}
