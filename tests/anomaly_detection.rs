//! `anomaly_detection.pipe`: readings more than 3 standard deviations from their sensor's
//! running mean (Welford's algorithm in process state), with a processing-time timer that
//! clears a sensor idle for an hour; checked against a plain-Rust simulation, on the
//! system clock and on the replayed one, at parallelism 1 to 3 and spilled.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{build, read_csv, run_to, spill_runs, temp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EXAMPLE: &str = "dsl-examples/anomaly_detection.pipe";
const HOUR: i64 = 3_600_000;

/// A reading: `(ts, sensor, value)`.
type Reading = (i64, String, f64);

/// An anomaly: `(sensor, ts, value, mean, sd)`.
type Anomaly = (String, i64, f64, f64, f64);

/// One sensor's running statistics.
#[derive(Default)]
struct Welford {
    count: u64,
    mean: f64,
    m2: f64,
    last: i64,
}

/// The rule, simulated over readings in ascending time. With `replay`, processing time is
/// the reading's time, so a sensor silent for an hour or more is forgotten before its next
/// reading; on the system clock no hour passes during a run and nothing is forgotten.
fn reference(readings: &[Reading], replay: bool) -> Vec<Anomaly> {
    let mut sensors: HashMap<&str, Welford> = HashMap::new();
    let mut out = Vec::new();
    for (ts, sensor, value) in readings {
        if replay
            && sensors
                .get(sensor.as_str())
                .is_some_and(|s| ts - s.last >= HOUR)
        {
            sensors.remove(sensor.as_str());
        }
        let s = sensors.entry(sensor).or_default();
        if s.count >= 10 {
            let sd = (s.m2 / (s.count - 1) as f64).sqrt();
            if (value - s.mean).abs() > 3.0 * sd {
                out.push((sensor.clone(), *ts, *value, s.mean, sd));
            }
        }
        s.count += 1;
        let delta = value - s.mean;
        s.mean += delta / s.count as f64;
        s.m2 += delta * (value - s.mean);
        s.last = *ts;
    }
    sort(&mut out);
    out
}

fn sort(anomalies: &mut [Anomaly]) {
    anomalies.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
}

fn read_readings(path: &Path) -> Vec<Reading> {
    let (header, rows) = read_csv(path);
    assert_eq!(header, ["ts", "sensor", "value"]);
    rows.iter()
        .map(|r| (r[0].parse().unwrap(), r[1].clone(), r[2].parse().unwrap()))
        .collect()
}

fn write_readings(path: &Path, readings: &[Reading]) {
    let mut text = String::from("ts,sensor,value\n");
    for (ts, sensor, value) in readings {
        text.push_str(&format!("{ts},{sensor},{value}\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// The anomalies a run wrote, sorted by sensor and time.
fn anomalies_of(path: &Path) -> Vec<Anomaly> {
    let (header, rows) = read_csv(path);
    assert_eq!(header, ["sensor", "ts", "value", "mean", "sd"]);
    let mut out: Vec<Anomaly> = rows
        .iter()
        .map(|r| {
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            (r[0].clone(), r[1].parse().unwrap(), f(2), f(3), f(4))
        })
        .collect();
    sort(&mut out);
    out
}

/// Runs the example's job with `flags`, its anomalies written to `out`.
fn run(bin: &Path, out: &Path, flags: &[&str]) -> Vec<Anomaly> {
    run_to(bin, "anomalies", out, flags);
    anomalies_of(out)
}

#[test]
fn the_example_finds_the_simulated_anomalies_on_either_clock() {
    let bin = build(Path::new(EXAMPLE));
    let dir = temp();
    let readings = read_readings(Path::new("dsl-examples/data/sensor_readings.csv"));
    let out = dir.path().join("anomalies.csv");
    let system = run(&bin, &out, &[]);
    assert_eq!(system, reference(&readings, false));
    let replayed = run(&bin, &out, &["--clock", "replay"]);
    assert_eq!(replayed, reference(&readings, true));
    // The valve, silent for two hours, comes back recalibrated around 30.0: remembered, its
    // first readings are anomalies against the old mean near 12.5; forgotten, they are not.
    let valve_near_30 =
        |rows: &[Anomaly]| rows.iter().filter(|a| a.0 == "valve" && a.2 > 25.0).count();
    assert!(valve_near_30(&system) >= 3, "{system:?}");
    assert_eq!(valve_near_30(&replayed), 0, "{replayed:?}");
}

#[test]
fn stats_show_the_process_keys_and_timers() {
    let bin = build(Path::new(EXAMPLE));
    let dir = temp();
    let out = dir.path().join("anomalies.csv");
    let sink = format!("anomalies={}", out.display());
    let run = common::run(&bin, &["--output", &sink, "--clock", "replay", "--stats"]);
    assert!(run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    // Every reading deletes its sensor's timer and sets a new one; the valve's hour of
    // silence fires one; all five sensors hold state at the end.
    let readings = read_readings(Path::new("dsl-examples/data/sensor_readings.csv"));
    let place = "process at dsl-examples/anomaly_detection.pipe:20:6: ";
    for line in [
        "5 key(s) with state in memory at the end of input".to_string(),
        format!("{} timer(s) set", readings.len()),
        "1 timer(s) fired".to_string(),
    ] {
        assert!(err.contains(&format!("{place}{line}")), "{line} in {err}");
    }
}

/// Readings of `sensors` sensors in ascending time: each sensor around its own level, with
/// spikes now and then, and silences of half an hour to two hours (some exactly an hour).
fn readings(n: usize, sensors: usize, seed: u64) -> Vec<Reading> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next: Vec<i64> = (0..sensors).map(|_| rng.random_range(0..60_000)).collect();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let s = (0..sensors).min_by_key(|&s| (next[s], s)).unwrap();
        let level = (s % 50) as f64 * 3.0 + 10.0;
        let mut value = level + rng.random_range(-1.0..1.0);
        if rng.random_range(0..40) == 0 {
            value += rng.random_range(8.0..20.0) * if rng.random() { 1.0 } else { -1.0 };
        }
        out.push((
            next[s],
            format!("sensor{s}"),
            (value * 100.0).round() / 100.0,
        ));
        next[s] += match rng.random_range(0..60) {
            0 => HOUR,
            1 => rng.random_range(HOUR / 2..2 * HOUR),
            _ => rng.random_range(1_000..120_000),
        };
    }
    out
}

#[test]
fn random_readings_match_the_simulation_in_parallel_and_spilled() {
    let bin = build(Path::new(EXAMPLE));
    let dir = temp();
    let data = readings(30_000, 200, 3);
    let input = dir.path().join("readings.csv");
    write_readings(&input, &data);
    let source = format!("readings={}", input.display());
    let (remembered, forgotten) = (reference(&data, false), reference(&data, true));
    assert!(
        forgotten.len() > 100,
        "the data has anomalies: {}",
        forgotten.len()
    );
    assert_ne!(remembered, forgotten, "the silences matter");
    for parallelism in ["1", "2", "3"] {
        let out = dir.path().join(format!("anomalies-{parallelism}.csv"));
        let flags = ["--input", &source, "--parallelism", parallelism];
        let replay = [&flags[..], &["--clock", "replay"]].concat();
        assert_eq!(
            run(&bin, &out, &replay),
            forgotten,
            "replayed at {parallelism}"
        );
        assert_eq!(
            run(&bin, &out, &flags),
            remembered,
            "system at {parallelism}"
        );
    }
    // Many sensors, each with a timer, under a budget small enough that values and timers
    // spill.
    let data = readings(60_000, 6_000, 5);
    write_readings(&input, &data);
    let stats = dir.path().join("stats.json");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let out = dir.path().join("anomalies-spilled.csv");
    let flags = [
        "--input",
        &source,
        "--clock",
        "replay",
        "--memory",
        "600KB",
        "--spill-dir",
        spill.to_str().unwrap(),
        "--stats-json",
        stats.to_str().unwrap(),
    ];
    assert_eq!(run(&bin, &out, &flags), reference(&data, true), "spilled");
    assert!(spill_runs(&stats) > 0, "the state spilled");
}
