//! Generated text for the WordCount benchmarks: words drawn Zipf-like from a random
//! vocabulary, twelve to a line, from a fixed seed, written once per size and reused.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};

use super::data_dir;

/// The WordCount benchmarks' corpus: 100,000 words of 2 to 10 letters, a tenth
/// capitalised (`wordcount`, `parallel`, `checkpoints`).
pub const WORDS: Corpus = Corpus {
    name: "corpus",
    vocabulary: 100_000,
    letters: 2..=10,
    capitalised: Some(0.1),
    seed: 0x5745_4952,
};

/// The shape of a corpus.
pub struct Corpus {
    /// File name prefix under `target/bench-data`.
    pub name: &'static str,
    /// Words in the vocabulary.
    pub vocabulary: usize,
    /// Letters per word.
    pub letters: RangeInclusive<usize>,
    /// The share of words with a capital first letter (`None`: the generator draws no
    /// number for it, so corpora made without it stay as they were).
    pub capitalised: Option<f64>,
    /// The generator's seed.
    pub seed: u64,
}

impl Corpus {
    /// The corpus of about `megabytes` MiB, written the first time it is asked for.
    pub fn file(&self, megabytes: u64) -> PathBuf {
        let path = data_dir().join(format!("{}-{megabytes}mb.txt", self.name));
        if path.exists() {
            return path;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let vocabulary: Vec<String> = (0..self.vocabulary)
            .map(|_| {
                let len = rng.random_range(self.letters.clone());
                let mut w: String = (0..len)
                    .map(|_| rng.random_range(b'a'..=b'z') as char)
                    .collect();
                if self.capitalised.is_some_and(|p| rng.random_bool(p)) {
                    w[..1].make_ascii_uppercase();
                }
                w
            })
            .collect();
        let zipf = Zipf::new(self.vocabulary as f64, 1.0).unwrap();
        let tmp = path.with_extension("partial");
        let mut out = BufWriter::new(std::fs::File::create(&tmp).unwrap());
        let target = megabytes << 20;
        let mut written = 0u64;
        while written < target {
            for i in 0..12 {
                let w = &vocabulary[zipf.sample(&mut rng) as usize - 1];
                if i > 0 {
                    out.write_all(b" ").unwrap();
                }
                out.write_all(w.as_bytes()).unwrap();
                written += w.len() as u64 + 1;
            }
            out.write_all(b"\n").unwrap();
        }
        out.flush().unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        drop(vocabulary);
        // A child's peak RSS starts from its parent's at fork and survives exec: give the
        // vocabulary's pages back, so the runs measured next are not charged for them.
        // SAFETY: malloc_trim only returns free heap memory to the system.
        unsafe { libc::malloc_trim(0) };
        path
    }
}

/// A WordCount result file (`word,count` with a header) as a map.
pub fn read_counts(path: &Path) -> HashMap<String, u64> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (w, c) = l.rsplit_once(',').unwrap();
            (w.to_string(), c.parse().unwrap())
        })
        .collect()
}
