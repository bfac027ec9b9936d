//! The hand-written baselines of the iteration benchmarks, COST-style: one thread, the
//! input read whole and parsed from bytes, a graph in compressed sparse rows (vertices
//! numbered by id, as the examples number them), plain arrays.
//!
//! Usage:
//!   handwritten_iterations pagerank ROUNDS EDGES OUTPUT      node,rank after ROUNDS updates
//!   handwritten_iterations components EDGES OUTPUT           label propagation
//!   handwritten_iterations union_find EDGES OUTPUT           the same by union-find
//!   handwritten_iterations kmeans POINTS OUTPUT              Lloyd's, k = 5
//!
//! PageRank is networkx's: 0.15/n plus 0.85 of what the in-edges bring and of the ranks
//! without out-edges spread over all. The components are named by their least vertex.
//! k-means starts from the first 5 points and stops when no point changes cluster (or
//! after 100 rounds of moves).

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: handwritten_iterations pagerank ROUNDS EDGES OUTPUT | components EDGES OUTPUT | union_find EDGES OUTPUT | kmeans POINTS OUTPUT";
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["pagerank", rounds, edges, out] => {
            let g = Graph::read(edges, false)?;
            let ranks = pagerank(&g, rounds.parse().expect(usage));
            write_pairs(
                out,
                "node,rank",
                g.ids.iter().zip(&ranks).map(|(i, r)| (*i, Value::F(*r))),
            )
        }
        ["components", edges, out] => {
            let g = Graph::read(edges, true)?;
            let labels = label_propagation(&g);
            write_pairs(
                out,
                "node,component",
                g.ids
                    .iter()
                    .zip(&labels)
                    .map(|(i, l)| (*i, Value::U(g.ids[*l as usize]))),
            )
        }
        ["union_find", edges, out] => {
            let (ids, ends) = read_ends(edges)?;
            let labels = union_find(ids.len(), &ends);
            write_pairs(
                out,
                "node,component",
                ids.iter()
                    .zip(&labels)
                    .map(|(i, l)| (*i, Value::U(ids[*l as usize]))),
            )
        }
        ["kmeans", points, out] => {
            let centroids = kmeans(&read_points(points)?);
            let mut w = BufWriter::new(std::fs::File::create(out)?);
            writeln!(w, "cluster,x,y")?;
            for (k, (x, y)) in centroids.iter().enumerate() {
                writeln!(w, "{k},{x:?},{y:?}")?;
            }
            w.flush()
        }
        _ => panic!("{usage}"),
    }
}

enum Value {
    F(f64),
    U(u64),
}

fn write_pairs(
    path: &str,
    header: &str,
    rows: impl Iterator<Item = (u64, Value)>,
) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(256 * 1024, std::fs::File::create(path)?);
    writeln!(w, "{header}")?;
    let (mut int, mut float) = (itoa::Buffer::new(), ryu::Buffer::new());
    for (id, v) in rows {
        w.write_all(int.format(id).as_bytes())?;
        w.write_all(b",")?;
        match v {
            Value::F(f) => w.write_all(float.format(f).as_bytes())?,
            Value::U(u) => w.write_all(int.format(u).as_bytes())?,
        }
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Every `a,b` line after the header as numbers (the rest of a line ignored).
fn read_number_pairs(path: &str) -> std::io::Result<Vec<(u64, u64)>> {
    let bytes = std::fs::read(path)?;
    let body = match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => &bytes[i + 1..],
        None => &[][..],
    };
    let mut out = Vec::with_capacity(body.len() / 12);
    for line in body.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split(|&b| b == b',');
        let a: u64 = atoi::atoi(parts.next().unwrap()).expect("a vertex");
        let b: u64 =
            atoi::atoi(parts.next().expect("two vertices").trim_ascii_end()).expect("a vertex");
        out.push((a, b));
    }
    Ok(out)
}

/// Each edge's two ends, as vertex numbers.
type Ends = Vec<(u32, u32)>;

/// The distinct ids in order, and each edge's ends by number.
fn read_ends(path: &str) -> std::io::Result<(Vec<u64>, Ends)> {
    let pairs = read_number_pairs(path)?;
    let max = pairs.iter().map(|&(a, b)| a.max(b)).max().unwrap_or(0);
    let mut number = vec![
        u32::MAX;
        if pairs.is_empty() {
            0
        } else {
            max as usize + 1
        }
    ];
    for &(a, b) in &pairs {
        number[a as usize] = 0;
        number[b as usize] = 0;
    }
    let mut ids = Vec::new();
    for (id, slot) in number.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = ids.len() as u32;
            ids.push(id as u64);
        }
    }
    let ends = pairs
        .iter()
        .map(|&(a, b)| (number[a as usize], number[b as usize]))
        .collect();
    Ok((ids, ends))
}

/// A graph in compressed sparse rows.
struct Graph {
    ids: Vec<u64>,
    offsets: Vec<u64>,
    targets: Vec<u32>,
}

impl Graph {
    fn read(path: &str, undirected: bool) -> std::io::Result<Graph> {
        let (ids, ends) = read_ends(path)?;
        let n = ids.len();
        let mut offsets = vec![0u64; n + 1];
        for &(a, b) in &ends {
            offsets[a as usize + 1] += 1;
            if undirected {
                offsets[b as usize + 1] += 1;
            }
        }
        for v in 0..n {
            offsets[v + 1] += offsets[v];
        }
        let mut next = offsets[..n].to_vec();
        let mut targets = vec![0u32; offsets[n] as usize];
        for &(a, b) in &ends {
            targets[next[a as usize] as usize] = b;
            next[a as usize] += 1;
            if undirected {
                targets[next[b as usize] as usize] = a;
                next[b as usize] += 1;
            }
        }
        Ok(Graph {
            ids,
            offsets,
            targets,
        })
    }
}

fn pagerank(g: &Graph, rounds: usize) -> Vec<f64> {
    let n = g.ids.len();
    let nf = n as f64;
    let mut rank = vec![1.0 / nf; n];
    let mut incoming = vec![0.0; n];
    for _ in 0..rounds {
        incoming.fill(0.0);
        let mut dangling = 0.0;
        for (v, &r) in rank.iter().enumerate() {
            let (start, end) = (g.offsets[v] as usize, g.offsets[v + 1] as usize);
            if start == end {
                dangling += r;
                continue;
            }
            let share = r / (end - start) as f64;
            for &t in &g.targets[start..end] {
                incoming[t as usize] += share;
            }
        }
        for (r, &i) in rank.iter_mut().zip(&incoming) {
            *r = 0.15 / nf + 0.85 * (i + dangling / nf);
        }
    }
    rank
}

/// Each vertex's label the least vertex number it reaches, by rounds in which every
/// vertex whose label fell tells its neighbours.
fn label_propagation(g: &Graph) -> Vec<u32> {
    let n = g.ids.len();
    let mut label: Vec<u32> = (0..n as u32).collect();
    let mut changed = vec![true; n];
    let mut least = vec![u32::MAX; n];
    loop {
        least.fill(u32::MAX);
        for v in 0..n {
            if !changed[v] {
                continue;
            }
            for &t in &g.targets[g.offsets[v] as usize..g.offsets[v + 1] as usize] {
                let l = &mut least[t as usize];
                *l = (*l).min(label[v]);
            }
        }
        let mut any = false;
        for v in 0..n {
            changed[v] = least[v] < label[v];
            if changed[v] {
                label[v] = least[v];
                any = true;
            }
        }
        if !any {
            return label;
        }
    }
}

/// Each vertex's least vertex number in its component, by union-find.
fn union_find(n: usize, ends: &[(u32, u32)]) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    for &(a, b) in ends {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        // The least number is the root, so a root names its component.
        if ra < rb {
            parent[rb as usize] = ra;
        } else {
            parent[ra as usize] = rb;
        }
    }
    (0..n as u32).map(|v| find(&mut parent, v)).collect()
}

fn read_points(path: &str) -> std::io::Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (x, y) = l.split_once(',').expect("x,y");
            (x.parse().expect("x"), y.parse().expect("y"))
        })
        .collect())
}

fn kmeans(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    const K: usize = 5;
    let mut centroids: Vec<(f64, f64)> = points.iter().take(K).copied().collect();
    let mut assigned = vec![usize::MAX; points.len()];
    for _ in 0..100 {
        let mut sums = [(0.0f64, 0.0f64, 0u64); K];
        let mut moved = false;
        for (p, a) in points.iter().zip(assigned.iter_mut()) {
            let mut best = (0, f64::INFINITY);
            for (k, c) in centroids.iter().enumerate() {
                let (dx, dy) = (p.0 - c.0, p.1 - c.1);
                let d = dx * dx + dy * dy;
                if d < best.1 {
                    best = (k, d);
                }
            }
            moved |= *a != best.0;
            *a = best.0;
            let s = &mut sums[best.0];
            s.0 += p.0;
            s.1 += p.1;
            s.2 += 1;
        }
        if !moved {
            break;
        }
        for (c, s) in centroids.iter_mut().zip(sums) {
            if s.2 > 0 {
                *c = (s.0 / s.2 as f64, s.1 / s.2 as f64);
            }
        }
    }
    centroids
}
