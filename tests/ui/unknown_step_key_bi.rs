// Step names and suggestions come from the operator table: `key_by` is one of them.
fn main() {
    let v = vec![1u64, 2, 3];
    let _job = weir::stream! {
        source iter(v) |> key_bi(|x: &u64| *x) |> aggregate(count()) |> collect()
    };
}
