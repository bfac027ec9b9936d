fn main() {
    let v = vec![1u64];
    let _job = weir::stream! {
        source iter(v)
        |> key_by(|x: &u64| *x)
        |> aggregate(count_distinct(|x: &u64| vec![*x]))
        |> collect()
    };
}
