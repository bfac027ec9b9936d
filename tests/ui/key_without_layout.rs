fn main() {
    let v = vec![vec![1u8, 2], vec![3]];
    let _job = weir::stream! {
        source iter(v)
        |> key_by(|r: &Vec<u8>| r.clone())
        |> aggregate(count())
        |> collect()
    };
}
