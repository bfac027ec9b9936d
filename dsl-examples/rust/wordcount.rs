//! WordCount inline: the twin of `dsl-examples/wordcount.pipe`.
//!
//!   cargo run --example wordcount_inline

/// Each lowercase word with its count, in first-seen order.
pub fn pipeline() -> Result<Vec<(String, u64)>, weir::JobError> {
    weir::stream! {
        source text("dsl-examples/data/words.txt")
        |> flat_map(|line: String| {
            line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>()
        })
        |> key_by(|word: &String| word.clone())
        |> aggregate(count())
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (word, count) in pipeline()? {
        println!("{word},{count}");
    }
    Ok(())
}
