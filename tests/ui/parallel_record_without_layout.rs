fn main() {
    let v = vec![vec![1u8, 2], vec![3]];
    let _ = weir::stream! {
        source iter(v)
        |> key_by(|r: &Vec<u8>| r.len() as u64)
        |> aggregate(count())
        |> collect()
    }
    .run_with(weir::JobConfig::default().parallelism(2));
}
