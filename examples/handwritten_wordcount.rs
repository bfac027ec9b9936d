//! The hand-written baseline for the WordCount benchmark: what a Rust programmer would write
//! for "count each lowercase word of a text file", single-threaded.
//!
//! Usage: handwritten_wordcount INPUT OUTPUT

use std::io::{BufRead, BufReader, BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .expect("usage: handwritten_wordcount INPUT OUTPUT");
    let output = args
        .next()
        .expect("usage: handwritten_wordcount INPUT OUTPUT");
    let mut reader = BufReader::with_capacity(256 * 1024, std::fs::File::open(input)?);
    let mut counts: hashbrown::HashMap<String, u64> = hashbrown::HashMap::new();
    let mut line = String::new();
    let mut lower = String::new();
    while reader.read_line(&mut line)? > 0 {
        for word in line.split_whitespace() {
            lower.clear();
            lower.extend(word.chars().flat_map(char::to_lowercase));
            match counts.get_mut(lower.as_str()) {
                Some(c) => *c += 1,
                None => {
                    counts.insert(lower.clone(), 1);
                }
            }
        }
        line.clear();
    }
    let mut out = BufWriter::new(std::fs::File::create(output)?);
    writeln!(out, "word,count")?;
    for (word, count) in &counts {
        writeln!(out, "{word},{count}")?;
    }
    out.flush()
}
