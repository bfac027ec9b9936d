//! What this machine allows PageRank on several threads: a hand-written pull-based
//! PageRank (in-edges by destination, each thread owning a range of destinations), the
//! probe behind `docs/performance.md`'s twenty-seventh session. Each round every owner
//! writes its vertices' contributions (rank over out-degree), then, after a barrier, sums
//! the contributions over each of its vertices' in-edges: random reads, which the
//! processor overlaps, where a scatter's read-modify-writes it does not. Prints the time
//! of each phase; the ranks' sum is 1 on any number of threads.
//!
//! Usage: handwritten_pagerank_threads EDGES.csv THREADS   (`src,dst` with a header)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Instant;

const ROUNDS: usize = 20;
const DAMPING: f64 = 0.85;

/// The edges of `text` (`src,dst` lines of decimal ids), a byte at a time.
fn parse(text: &[u8]) -> Vec<(u32, u32)> {
    let mut edges = Vec::with_capacity(text.len() / 14);
    let mut at = 0;
    let number = |at: &mut usize, end: u8| {
        let mut n = 0u32;
        while *at < text.len() && text[*at] != end {
            n = n * 10 + u32::from(text[*at].wrapping_sub(b'0'));
            *at += 1;
        }
        *at += 1;
        n
    };
    while at < text.len() {
        let src = number(&mut at, b',');
        let dst = number(&mut at, b'\n');
        edges.push((src, dst));
    }
    edges
}

/// `text` cut into `parts` pieces at line starts.
fn pieces(text: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut cuts = vec![0];
    for p in 1..parts {
        let mut at = (text.len() * p / parts).max(cuts[p - 1]);
        while at < text.len() && text[at - 1] != b'\n' {
            at += 1;
        }
        cuts.push(at);
    }
    cuts.push(text.len());
    cuts.windows(2).map(|c| &text[c[0]..c[1]]).collect()
}

/// In-edges of destinations `lo..hi` in compressed rows: offsets, then sources.
fn in_edges(parts: &[Vec<(u32, u32)>], lo: usize, hi: usize) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; hi - lo + 1];
    for &(_, dst) in parts.iter().flatten() {
        if (lo..hi).contains(&(dst as usize)) {
            offsets[dst as usize - lo + 1] += 1;
        }
    }
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    let mut fill = offsets.clone();
    let mut sources = vec![0u32; offsets[hi - lo] as usize];
    for &(src, dst) in parts.iter().flatten() {
        if (lo..hi).contains(&(dst as usize)) {
            let at = &mut fill[dst as usize - lo];
            sources[*at as usize] = src;
            *at += 1;
        }
    }
    (offsets, sources)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, threads] = args.as_slice() else {
        panic!("usage: handwritten_pagerank_threads EDGES.csv THREADS");
    };
    let threads: usize = threads.parse().expect("a number of threads");
    let started = Instant::now();
    let data = std::fs::read(path).expect("the edges");
    let body = &data[data.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1)..];
    let read = started.elapsed();
    let parts: Vec<Vec<(u32, u32)>> = std::thread::scope(|s| {
        let handles: Vec<_> = pieces(body, threads)
            .into_iter()
            .map(|piece| s.spawn(move || parse(piece)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a parser"))
            .collect()
    });
    let parsed = started.elapsed();
    let n = parts
        .iter()
        .flatten()
        .map(|&(a, b)| a.max(b))
        .max()
        .map_or(0, |m| m as usize + 1);
    let mut degree = vec![0u32; n];
    for &(src, _) in parts.iter().flatten() {
        degree[src as usize] += 1;
    }
    let per = n.div_ceil(threads);
    let rows: Vec<(Vec<u32>, Vec<u32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let parts = &parts;
                s.spawn(move || in_edges(parts, (t * per).min(n), ((t + 1) * per).min(n)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a builder"))
            .collect()
    });
    let built = started.elapsed();
    // Relaxed atomics are plain loads and stores here; the barrier orders the phases.
    let contribution: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let dangling: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
    let barrier = Barrier::new(threads);
    let ranks: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(t, (offsets, sources))| {
                let (contribution, dangling, barrier, degree) =
                    (&contribution, &dangling, &barrier, &degree);
                s.spawn(move || {
                    let lo = (t * per).min(n);
                    let mut rank = vec![1.0 / n as f64; offsets.len() - 1];
                    for _ in 0..ROUNDS {
                        let mut lost = 0.0;
                        for (v, r) in rank.iter().enumerate() {
                            let share = match degree[lo + v] {
                                0 => {
                                    lost += r;
                                    0.0
                                }
                                d => r / f64::from(d),
                            };
                            contribution[lo + v].store(share.to_bits(), Ordering::Relaxed);
                        }
                        dangling[t].store(lost.to_bits(), Ordering::Relaxed);
                        barrier.wait();
                        let lost: f64 = dangling
                            .iter()
                            .map(|d| f64::from_bits(d.load(Ordering::Relaxed)))
                            .sum();
                        let base = (1.0 - DAMPING) / n as f64 + DAMPING * lost / n as f64;
                        for (v, r) in rank.iter_mut().enumerate() {
                            let (a, b) = (offsets[v] as usize, offsets[v + 1] as usize);
                            let sum: f64 = sources[a..b]
                                .iter()
                                .map(|&u| {
                                    f64::from_bits(contribution[u as usize].load(Ordering::Relaxed))
                                })
                                .sum();
                            *r = base + DAMPING * sum;
                        }
                        barrier.wait();
                    }
                    rank
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker"))
            .collect()
    });
    let done = started.elapsed();
    let total: f64 = ranks.iter().flatten().sum();
    println!(
        "threads {threads}: read {:.3} s, parse {:.3} s, build {:.3} s, rounds {:.3} s, all {:.3} s (ranks sum to {total:.9})",
        read.as_secs_f64(),
        (parsed - read).as_secs_f64(),
        (built - parsed).as_secs_f64(),
        (done - built).as_secs_f64(),
        done.as_secs_f64()
    );
}
