fn main() {
    let mut total = 0u64;
    let _ = weir::stream! {
        source iter(vec![1u64, 2, 3])
        |> key_by(|n: &u64| n % 2)
        |> aggregate(count())
        |> for_each(|row: (u64, u64)| total += row.1)
    }
    .run_with(weir::JobConfig::default().parallelism(2));
}
