fn main() {
    let v = vec![("a".to_string(), "b".to_string())];
    let _job = weir::stream! {
        source iter(v)
        |> key_by(|r: &(String, String)| r.0.clone())
        |> aggregate(sum(|r: &(String, String)| r.1.clone()))
        |> collect()
    };
}
