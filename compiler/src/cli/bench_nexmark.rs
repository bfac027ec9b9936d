//! `weir bench nexmark`: the Nexmark queries of `dsl-examples/nexmark/` (built into the
//! `weir` binary), each built and run over the same generated events with its output
//! discarded, and a table of their speed: events per second (and per core), wall time,
//! peak RSS and the rows each query gave.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::build::build_job;
use crate::codegen::generate;
use crate::diagnostics::SourceFile;
use crate::ir::SinkOp;

/// The queries, by name, with their `.pipe` text.
pub(super) const QUERIES: &[(&str, &str)] = &[
    ("q0", include_str!("../../../dsl-examples/nexmark/q0.pipe")),
    ("q1", include_str!("../../../dsl-examples/nexmark/q1.pipe")),
    ("q2", include_str!("../../../dsl-examples/nexmark/q2.pipe")),
    ("q3", include_str!("../../../dsl-examples/nexmark/q3.pipe")),
    ("q4", include_str!("../../../dsl-examples/nexmark/q4.pipe")),
    ("q5", include_str!("../../../dsl-examples/nexmark/q5.pipe")),
    ("q6", include_str!("../../../dsl-examples/nexmark/q6.pipe")),
    ("q7", include_str!("../../../dsl-examples/nexmark/q7.pipe")),
    ("q8", include_str!("../../../dsl-examples/nexmark/q8.pipe")),
    ("q9", include_str!("../../../dsl-examples/nexmark/q9.pipe")),
    (
        "q11",
        include_str!("../../../dsl-examples/nexmark/q11.pipe"),
    ),
    (
        "q12",
        include_str!("../../../dsl-examples/nexmark/q12.pipe"),
    ),
];

/// What one query's run measured.
struct Measured {
    query: &'static str,
    wall: Duration,
    peak_rss: Option<u64>,
    rows: u64,
}

/// The queries named in `list` (comma-separated; every query when `None`), or which
/// name is unknown.
pub(super) fn chosen(list: Option<&str>) -> Result<Vec<(&'static str, &'static str)>, String> {
    let Some(list) = list else {
        return Ok(QUERIES.to_vec());
    };
    list.split(',')
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| {
            QUERIES
                .iter()
                .find(|(name, _)| *name == q)
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = QUERIES.iter().map(|(n, _)| *n).collect();
                    format!(
                        "no Nexmark query `{q}`: the queries are {}",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

/// Builds and runs `queries` over `events` events on `parallelism` workers, with a
/// progress bar on `progress`; the table of what they measured.
pub(super) fn bench(
    queries: &[(&'static str, &'static str)],
    events: u64,
    parallelism: usize,
    cache: &Path,
) -> Result<String, String> {
    let bar = indicatif::ProgressBar::new(queries.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .map_err(|e| e.to_string())?,
    );
    let mut measured = Vec::new();
    for (query, text) in queries {
        bar.set_message(format!("{query}: building"));
        let file = SourceFile::new(
            format!("dsl-examples/nexmark/{query}.pipe"),
            text.to_string(),
        );
        let (plan, _) = crate::compile(&file)
            .map_err(|d| format!("{query} does not compile:\n{}", file.render(&d, false)))?;
        let built = build_job(&generate(&plan), &plan.name, cache).map_err(|e| e.to_string())?;
        bar.set_message(format!("{query}: running"));
        let sinks: Vec<String> = plan
            .graph
            .node_weights()
            .filter_map(|n| n.op.payload::<SinkOp>())
            .map(|s| s.name.clone())
            .collect();
        measured.push(run(query, &built.binary, &sinks, events, parallelism)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(table(&measured, events, parallelism))
}

/// Runs one query's job and reads what it reports.
fn run(
    query: &'static str,
    binary: &Path,
    sinks: &[String],
    events: u64,
    parallelism: usize,
) -> Result<Measured, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a directory: {e}"))?;
    let stats = dir.path().join("stats.json");
    let mut cmd = std::process::Command::new(binary);
    cmd.current_dir(dir.path())
        .args(["--events", &events.to_string()])
        .args(["--parallelism", &parallelism.to_string()])
        .args(["--stats-json", &stats.display().to_string()]);
    for sink in sinks {
        cmd.args(["--output", &format!("{sink}=/dev/null")]);
    }
    let started = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {query}: {e}"))?;
    let wall = started.elapsed();
    let said = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("{query} failed ({}):\n{said}", out.status));
    }
    let report: serde_json::Value = std::fs::read(&stats)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("{query} wrote no statistics"))?;
    Ok(Measured {
        query,
        wall,
        peak_rss: report["peak_rss_bytes"].as_u64(),
        rows: rows_written(&said),
    })
}

/// The records every sink wrote, from the job's report (`sink `q5`: wrote 14 record(s)
/// to ...`).
fn rows_written(report: &str) -> u64 {
    report
        .lines()
        .filter_map(|l| {
            l.split_once(": wrote ")?
                .1
                .split_once(' ')?
                .0
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// The table of `measured`.
fn table(measured: &[Measured], events: u64, parallelism: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Nexmark, {events} events, parallelism {parallelism} (output discarded)\n"
    );
    let _ = writeln!(
        out,
        "{:<6} {:>14} {:>18} {:>10} {:>12} {:>12}",
        "query", "events/s", "events/s per core", "wall", "peak RSS", "rows"
    );
    for m in measured {
        let rate = events as f64 / m.wall.as_secs_f64().max(1e-9);
        let rss = m
            .peak_rss
            .map(weir_runtime::memory::format_bytes)
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<6} {:>14} {:>18} {:>9.2}s {:>12} {:>12}",
            m.query,
            thousands(rate),
            thousands(rate / parallelism as f64),
            m.wall.as_secs_f64(),
            rss,
            m.rows
        );
    }
    out
}

/// `v` rounded, in groups of three digits (`1,234,567`).
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_from_the_report_and_figures_grouped() {
        let report =
            "sink `q5`: wrote 14 record(s) to /dev/null\nsink `b`: wrote 3 record(s) to x\n";
        assert_eq!(rows_written(report), 17);
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }

    #[test]
    fn queries_are_chosen_by_name() {
        assert_eq!(chosen(None).unwrap().len(), QUERIES.len());
        let two = chosen(Some("q0,q5")).unwrap();
        assert_eq!(two.iter().map(|q| q.0).collect::<Vec<_>>(), ["q0", "q5"]);
        assert!(chosen(Some("q0,q99")).unwrap_err().contains("q99"));
    }
}
