// The inputs of a union carry one record type; rustc infers these two, and reports the
// mismatch at the second stream's name with both types.
fn main() {
    let numbers = vec![1u64, 2];
    let words = vec![String::from("a")];
    let _job = weir::stream! {
        let n = source iter(numbers);
        let w = source iter(words);
        n |> union(w) |> collect()
    };
}
