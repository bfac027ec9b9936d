//! The inline (`stream!`) WordCount of the benchmark: lines of a file through the same
//! pipeline as `dsl-examples/wordcount.pipe`, written as a CSV of word and count.
//!
//! Usage: inline_wordcount INPUT OUTPUT

use std::io::{BufRead, BufReader, BufWriter, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: inline_wordcount INPUT OUTPUT";
    let input = args.next().ok_or(usage)?;
    let output = args.next().ok_or(usage)?;
    let lines = BufReader::with_capacity(256 * 1024, std::fs::File::open(input)?)
        .lines()
        .map(|l| l.expect("the corpus is readable UTF-8"));
    let counts = weir::stream! {
        source iter(lines)
        |> flat_map(|line: String| {
            line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>()
        })
        |> key_by(|word: &String| word.clone())
        |> aggregate(count())
        |> collect()
    }
    .run()?;
    let mut out = BufWriter::new(std::fs::File::create(output)?);
    writeln!(out, "word,count")?;
    for (word, count) in &counts {
        writeln!(out, "{word},{count}")?;
    }
    out.flush()?;
    Ok(())
}
