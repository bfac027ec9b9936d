//! `leaderboard.pipe`: the top 3 players of each game by total points, emitted whenever
//! they change, from a map state; checked against a plain-Rust simulation (which sorts
//! every game's totals afresh), at parallelism 1 to 3 and spilled.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use common::{build, read_csv, run_to, spill_runs, temp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EXAMPLE: &str = "dsl-examples/leaderboard.pipe";

/// A score: `(ts, game, player, points)`.
type Score = (i64, String, String, i64);

/// A board: the game, the time of the score that changed it, and up to three
/// `(player, total)` (an empty name and 0 where a game has fewer players).
type Board = (String, i64, [(String, i64); 3]);

/// Every board change, simulated: a game's totals sorted by total, largest first, ties by
/// name; a row whenever the first three differ from the game's last row.
fn reference(scores: &[Score]) -> Vec<Board> {
    let mut totals: HashMap<&str, BTreeMap<&str, i64>> = HashMap::new();
    let mut shown: HashMap<&str, [(String, i64); 3]> = HashMap::new();
    let mut out = Vec::new();
    for (ts, game, player, points) in scores {
        let game_totals = totals.entry(game).or_default();
        *game_totals.entry(player).or_insert(0) += points;
        let mut ranked: Vec<(&str, i64)> = game_totals.iter().map(|(p, t)| (*p, *t)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top: [(String, i64); 3] = std::array::from_fn(|i| {
            ranked
                .get(i)
                .map_or((String::new(), 0), |(p, t)| (p.to_string(), *t))
        });
        let last = shown.entry(game).or_default();
        if *last != top {
            *last = top.clone();
            out.push((game.clone(), *ts, top));
        }
    }
    out.sort();
    out
}

fn read_scores(path: &Path) -> Vec<Score> {
    let (header, rows) = read_csv(path);
    assert_eq!(header, ["ts", "game", "player", "points"]);
    rows.iter()
        .map(|r| {
            let ts = r[0].parse().unwrap();
            (ts, r[1].clone(), r[2].clone(), r[3].parse().unwrap())
        })
        .collect()
}

fn write_scores(path: &Path, scores: &[Score]) {
    let mut text = String::from("ts,game,player,points\n");
    for (ts, game, player, points) in scores {
        text.push_str(&format!("{ts},{game},{player},{points}\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// The boards a run wrote, sorted.
fn boards_of(path: &Path) -> Vec<Board> {
    let (header, rows) = read_csv(path);
    assert_eq!(
        header,
        [
            "game",
            "ts",
            "first",
            "first_points",
            "second",
            "second_points",
            "third",
            "third_points"
        ]
    );
    let mut out: Vec<Board> = rows
        .iter()
        .map(|r| {
            let place = |i: usize| (r[2 + 2 * i].clone(), r[3 + 2 * i].parse().unwrap());
            (
                r[0].clone(),
                r[1].parse().unwrap(),
                std::array::from_fn(place),
            )
        })
        .collect();
    out.sort();
    out
}

/// Runs the example's job with `flags`, its boards written to `out`.
fn run(bin: &Path, out: &Path, flags: &[&str]) -> Vec<Board> {
    run_to(bin, "leaderboard", out, flags);
    boards_of(out)
}

#[test]
fn the_example_emits_the_simulated_boards() {
    let bin = build(Path::new(EXAMPLE));
    let dir = temp();
    let scores = read_scores(Path::new("dsl-examples/data/game_scores.csv"));
    let got = run(&bin, &dir.path().join("board.csv"), &[]);
    assert_eq!(got, reference(&scores));
    // Checked by hand in the data: chess's dev and gus tie at 1 point for third; dev, first
    // in alphabetical order, takes the place.
    let tie = got
        .iter()
        .find(|b| b.0 == "chess" && b.1 == 1_767_225_797_103)
        .expect("the tie's board");
    assert_eq!(tie.2[2], ("dev".to_string(), 1));
}

/// Scores in ascending time over `games` games of up to 12 players each, with ties.
fn scores(n: usize, games: u32, seed: u64) -> Vec<Score> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ts = 0;
    (0..n)
        .map(|_| {
            ts += rng.random_range(0..50);
            let game = format!("game{}", rng.random_range(0..games));
            let player = format!("p{}", rng.random_range(0..12));
            (ts, game, player, rng.random_range(1..6) * 5)
        })
        .collect()
}

#[test]
fn random_scores_match_the_simulation_in_parallel_and_spilled() {
    let bin = build(Path::new(EXAMPLE));
    let dir = temp();
    let input = dir.path().join("scores.csv");
    let data = scores(20_000, 40, 17);
    write_scores(&input, &data);
    let want = reference(&data);
    assert!(want.len() > 5_000, "boards change often: {}", want.len());
    let source = format!("scores={}", input.display());
    for parallelism in ["1", "2", "3"] {
        let out = dir.path().join(format!("board-{parallelism}.csv"));
        let got = run(
            &bin,
            &out,
            &["--input", &source, "--parallelism", parallelism],
        );
        assert_eq!(got, want, "at parallelism {parallelism}");
    }
    // Many games under a small budget: their maps spill.
    let data = scores(60_000, 8_000, 19);
    write_scores(&input, &data);
    let stats = dir.path().join("stats.json");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let flags = [
        "--input",
        &source,
        "--memory",
        "600KB",
        "--spill-dir",
        spill.to_str().unwrap(),
        "--stats-json",
        stats.to_str().unwrap(),
    ];
    let got = run(&bin, &dir.path().join("board-spilled.csv"), &flags);
    assert_eq!(got, reference(&data), "spilled");
    assert!(spill_runs(&stats) > 0, "the state spilled");
}
