fn main() {
    let (a, b) = (vec![1u64], vec![2u64]);
    let _job = weir::stream! {
        let numbers = source iter(a);
        let numbers = source iter(b);
        numbers |> collect()
    };
}
