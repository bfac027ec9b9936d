//! The hand-written baseline for the WordCount benchmark: what a good Rust programmer would
//! write for "count each lowercase word of a text file", single-threaded: lines read into a
//! reused buffer, split on ASCII white space a byte at a time, each word lowercased into a
//! reused buffer and counted in a `hashbrown` map (`get_mut`, then `insert` only for a new
//! word). A line that is not ASCII takes the Unicode path (`split_whitespace`,
//! `to_lowercase`), so the counts are weir's on any text.
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
    let mut counts: hashbrown::HashMap<Vec<u8>, u64> = hashbrown::HashMap::new();
    let mut line = Vec::new();
    let mut lower = Vec::new();
    let count =
        |word: &[u8], counts: &mut hashbrown::HashMap<Vec<u8>, u64>| match counts.get_mut(word) {
            Some(c) => *c += 1,
            None => {
                counts.insert(word.to_vec(), 1);
            }
        };
    while reader.read_until(b'\n', &mut line)? > 0 {
        if line.is_ascii() {
            // Unicode's white space within ASCII: tab, line feed, vertical tab, form feed,
            // carriage return, space.
            for word in line
                .split(|&b| b == b' ' || (b'\t'..=b'\r').contains(&b))
                .filter(|w| !w.is_empty())
            {
                lower.clear();
                lower.extend(word.iter().map(u8::to_ascii_lowercase));
                count(&lower, &mut counts);
            }
        } else {
            let text = std::str::from_utf8(&line).expect("UTF-8 input");
            for word in text.split_whitespace() {
                count(word.to_lowercase().as_bytes(), &mut counts);
            }
        }
        line.clear();
    }
    let mut out = BufWriter::new(std::fs::File::create(output)?);
    writeln!(out, "word,count")?;
    for (word, count) in &counts {
        out.write_all(word)?;
        writeln!(out, ",{count}")?;
    }
    out.flush()
}
