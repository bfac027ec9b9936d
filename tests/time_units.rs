//! Timestamps written in seconds, microseconds or nanoseconds (`time_unit(...)` on a
//! source) give the windows the same data in milliseconds gives, in CSV, JSON lines and
//! inline; and epoch seconds read as milliseconds are warned about, naming the column.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// `(sensor, ts in ms)`: readings over three days, a few minutes apart.
fn readings() -> Vec<(String, i64)> {
    (0..2_000i64)
        .map(|i| {
            (
                format!("s{}", i % 3),
                1_700_000_000_000 + i * 127_000 + (i % 7) * 1_000,
            )
        })
        .collect()
}

/// Readings per sensor and hour: `(sensor, window_start in ms) -> count`.
fn hourly(readings: &[(String, i64)]) -> BTreeMap<(String, i64), u64> {
    let mut counts = BTreeMap::new();
    for (sensor, ts) in readings {
        *counts
            .entry((sensor.clone(), ts - ts.rem_euclid(3_600_000)))
            .or_default() += 1;
    }
    counts
}

fn pipe(source: &str, with: &str) -> String {
    format!(
        "schema R {{ sensor: str, ts: timestamp }}\n\
         source r: R = {source} with event_time(ts), watermark(ascending){with};\n\
         r |> key_by(sensor) |> window(tumbling 1h) |> aggregate {{ n: count() }} |> sink csv(\"OUT\");\n"
    )
}

/// Builds `text` in `dir` and runs it, writing its CSV to `out.csv`: its rows, and what it
/// said on stderr.
fn run_pipe(dir: &Path, text: &str) -> (BTreeMap<(String, i64), u64>, String) {
    let out = dir.join("out.csv");
    let path = dir.join("job.pipe");
    std::fs::write(&path, text.replace("OUT", &out.display().to_string())).unwrap();
    let run = run(&build(&path), &[]);
    let said = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{said}");
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["sensor", "window_start", "window_end", "n"]);
    let got = rows
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].parse().unwrap()), r[3].parse().unwrap()))
        .collect();
    (got, said)
}

#[test]
fn seconds_micros_and_nanos_in_csv_and_json_make_the_windows_milliseconds_make() {
    let dir = temp();
    let data = readings();
    // Whole seconds, so that every unit can write them exactly.
    let data: Vec<(String, i64)> = data
        .into_iter()
        .map(|(s, ts)| (s, ts / 1000 * 1000))
        .collect();
    let want = hourly(&data);
    for (unit, per_ms, format) in [
        ("seconds", 0.001, "csv"),
        ("ms", 1.0, "csv"),
        ("microseconds", 1_000.0, "jsonl"),
        ("ns", 1_000_000.0, "csv"),
        ("s", 0.001, "jsonl"),
    ] {
        let input = dir.path().join(format!("in-{unit}.{format}"));
        let mut text = if format == "csv" {
            "sensor,ts\n".to_string()
        } else {
            String::new()
        };
        for (sensor, ts) in &data {
            let value = (*ts as f64 * per_ms) as i64;
            if format == "csv" {
                text.push_str(&format!("{sensor},{value}\n"));
            } else {
                text.push_str(&format!("{{\"sensor\": \"{sensor}\", \"ts\": {value}}}\n"));
            }
        }
        std::fs::write(&input, text).unwrap();
        let source = format!("{format}({:?})", input.display().to_string());
        let (got, said) = run_pipe(dir.path(), &pipe(&source, &format!(", time_unit({unit})")));
        assert_eq!(got, want, "{unit} in {format}");
        assert!(!said.contains("warning"), "{unit}: {said}");
    }
}

#[test]
fn epoch_seconds_read_as_milliseconds_are_warned_about_naming_the_column() {
    let dir = temp();
    let input = dir.path().join("in.csv");
    let mut text = "sensor,ts\n".to_string();
    for (sensor, ts) in readings() {
        text.push_str(&format!("{sensor},{}\n", ts / 1000));
    }
    std::fs::write(&input, text).unwrap();
    let source = format!("csv({:?})", input.display().to_string());
    let (got, said) = run_pipe(dir.path(), &pipe(&source, ""));
    // Read as milliseconds, three days of seconds are 4 minutes: one window per sensor.
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        said.contains("warning: the event times of source `r` (column `ts`) all fall before 1973")
            && said.contains("time_unit(seconds)"),
        "{said}"
    );
}

#[test]
fn a_timestamp_past_the_range_in_its_unit_is_a_bad_record() {
    let dir = temp();
    let input = dir.path().join("in.csv");
    std::fs::write(
        &input,
        "sensor,ts\na,1700000000\nb,9223372036854775807\na,1700000001\n",
    )
    .unwrap();
    let source = format!("csv({:?})", input.display().to_string());
    let text = pipe(&source, ", time_unit(seconds), on_error(skip)");
    let (got, said) = run_pipe(dir.path(), &text);
    assert_eq!(
        got.into_iter().collect::<Vec<_>>(),
        [(("a".to_string(), 1_699_999_200_000), 2)]
    );
    assert!(said.contains("1 bad record"), "{said}");
}

#[test]
fn an_inline_event_time_in_seconds_makes_the_windows_milliseconds_make() {
    let data: Vec<(String, i64)> = readings()
        .into_iter()
        .map(|(s, ts)| (s, ts / 1000 * 1000))
        .collect();
    let want = hourly(&data);
    let seconds: Vec<(String, i64)> = data.iter().map(|(s, ts)| (s.clone(), ts / 1000)).collect();
    let rows = weir::stream! {
        source iter(seconds)
            with event_time(|r: &(String, i64)| r.1), watermark(ascending), time_unit(seconds)
        |> key_by(|r: &(String, i64)| r.0.clone())
        |> window(tumbling 1h)
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap();
    let got: BTreeMap<(String, i64), u64> = rows
        .into_iter()
        .map(|(sensor, start, _, n)| ((sensor, start), n))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn an_unknown_unit_is_refused_naming_the_units() {
    let dir = temp();
    let path = dir.path().join("bad.pipe");
    std::fs::write(&path, pipe("csv(\"in.csv\")", ", time_unit(days)")).unwrap();
    let run = weir_cli(&["check", path.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.err
            .contains("time_unit takes seconds, milliseconds, microseconds or nanoseconds"),
        "{}",
        run.err
    );
    assert!(run.err.contains("bad.pipe:2:"), "{}", run.err);
}
