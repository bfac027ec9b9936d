//! k-means inline: the twin of `dsl-examples/kmeans.pipe` (Lloyd's algorithm, k = 5).
//! The first round takes the first 5 points as centroids; each later round puts every
//! point in the cluster of its nearest centroid (the lower cluster on a tie), and the
//! round's end moves each centroid to the mean of its points, until none moves.
//!
//!   cargo run --example kmeans_inline

use std::collections::BTreeMap;

use weir::iteration::{RecordsProgram, Totals};

/// A point.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A cluster's centroid, the cluster numbered by its first point's position.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Centroid {
    pub cluster: u64,
    pub x: f64,
    pub y: f64,
}

/// Lloyd's algorithm with `k` clusters.
#[derive(Debug, Clone, Copy)]
pub struct KMeans {
    pub k: u64,
}

/// The centroids by cluster, and whether the last round moved any.
#[derive(Debug, Clone, Default)]
pub struct Centroids {
    pub at: BTreeMap<u64, (f64, f64)>,
    pub moved: bool,
}

/// A round's sum of each cluster's points, and their count.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct ClusterSums {
    pub sums: BTreeMap<u64, (f64, f64, u64)>,
}

impl ClusterSums {
    fn add(&mut self, cluster: u64, x: f64, y: f64, count: u64) {
        let s = self.sums.entry(cluster).or_insert((0.0, 0.0, 0));
        s.0 += x;
        s.1 += y;
        s.2 += count;
    }
}

impl Totals for ClusterSums {
    fn merge(&mut self, part: &Self) {
        for (&c, &(x, y, n)) in &part.sums {
            self.add(c, x, y, n);
        }
    }
}

impl RecordsProgram<Point> for KMeans {
    type Model = Centroids;
    type Totals = ClusterSums;
    type Output = Centroid;

    fn model(&self) -> Centroids {
        Centroids {
            at: BTreeMap::new(),
            moved: true,
        }
    }

    fn round(&self, p: &Point, position: u64, round: u64, c: &Centroids, sums: &mut ClusterSums) {
        if round == 0 {
            // The first round only takes the first centroids.
            if position < self.k {
                sums.add(position, p.x, p.y, 1);
            }
            return;
        }
        let (mut nearest, mut least) = (0, f64::INFINITY);
        for (&cluster, &(cx, cy)) in &c.at {
            let (dx, dy) = (p.x - cx, p.y - cy);
            let d = dx * dx + dy * dy;
            if d < least {
                nearest = cluster;
                least = d;
            }
        }
        sums.add(nearest, p.x, p.y, 1);
    }

    fn round_end(&self, _round: u64, c: &mut Centroids, sums: &ClusterSums) {
        c.moved = false;
        for (&cluster, &(x, y, n)) in &sums.sums {
            let mean = (x / n as f64, y / n as f64);
            if c.at.get(&cluster) != Some(&mean) {
                c.moved = true;
            }
            c.at.insert(cluster, mean);
        }
    }

    fn until(&self, _round: u64, c: &Centroids, _: &ClusterSums) -> bool {
        !c.moved
    }

    fn end(&self, c: &Centroids) -> Vec<Centroid> {
        c.at.iter()
            .map(|(&cluster, &(x, y))| Centroid { cluster, x, y })
            .collect()
    }
}

/// The centroids, by cluster.
pub fn pipeline() -> Result<Vec<Centroid>, weir::JobError> {
    weir::stream! {
        source csv::<Point>("dsl-examples/data/kmeans_points.csv")
        |> iterate(rounds(101), KMeans { k: 5 })
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("cluster,x,y");
    for c in pipeline()? {
        println!("{},{},{}", c.cluster, c.x, c.y);
    }
    Ok(())
}
