//! `weir graph`, `weir explain` and `weir emit` on every example: structural facts are
//! asserted, and the full outputs are snapshotted so a change to them is seen in review.

mod common;

use common::weir_cli;

use std::path::PathBuf;

fn weir(args: &[&str]) -> String {
    let run = weir_cli(args);
    assert_eq!(run.code, 0, "weir {args:?}: {}", run.err);
    run.out
}

fn examples() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir("dsl-examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .map(|p: PathBuf| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, p.to_string_lossy().into_owned())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn graphs_explain_and_emit_for_every_example() {
    let examples = examples();
    assert!(examples.len() >= 4, "{examples:?}");
    for (stem, path) in &examples {
        for stage in ["logical", "optimized"] {
            for format in ["dot", "json", "mermaid"] {
                let text = weir(&["graph", path, "--format", format, "--stage", stage]);
                if format != "mermaid" {
                    insta::assert_snapshot!(format!("{stem}_{stage}_{format}"), text);
                }
                if format == "json" {
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let chains = v["chains"].as_array().unwrap().len();
                    assert_eq!(chains == 0, stage == "logical", "{stem} {stage}");
                }
            }
        }
        insta::assert_snapshot!(format!("{stem}_explain"), weir(&["explain", path]));
        let code = weir(&["emit", path]);
        assert!(syn::parse_file(&code).is_ok(), "{stem}: emit prints Rust");
        insta::assert_snapshot!(format!("{stem}_emit"), code);
    }
}

fn chains_of(path: &str) -> Vec<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(&weir(&[
        "graph",
        path,
        "--format",
        "json",
        "--stage",
        "optimized",
    ]))
    .unwrap();
    let kind = |id: &serde_json::Value| {
        v["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == *id)
            .unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    v["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["nodes"].as_array().unwrap().iter().map(kind).collect())
        .collect()
}

#[test]
fn chaining_fuses_forward_edges_and_breaks_at_exchanges_and_merges() {
    assert_eq!(
        chains_of("dsl-examples/wordcount.pipe"),
        [vec!["source", "flat_map", "map"], vec!["aggregate", "sink"]]
    );
    // Two sources, then a union (a merge starts a chain), then a keyed exchange.
    assert_eq!(
        chains_of("dsl-examples/all_clicks.pipe"),
        [
            vec!["source"],
            vec!["source"],
            vec!["union", "filter"],
            vec!["aggregate", "sink"]
        ]
    );
    assert_eq!(
        chains_of("dsl-examples/expensive_bids.pipe"),
        [vec!["source", "filter", "map", "sink"]]
    );
}

#[test]
fn a_fan_out_ends_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fan.pipe");
    std::fs::write(
        &path,
        "source l = text(\"x\");\nlet words = l |> map { w: lower(line) };\nwords |> sink csv(\"a.csv\");\nwords |> filter(len(w) > 3) |> sink csv(\"b.csv\");\n",
    )
    .unwrap();
    assert_eq!(
        chains_of(path.to_str().unwrap()),
        [vec!["source", "map"], vec!["sink"], vec!["filter", "sink"]]
    );
}

/// The expansion of `stream!` for four representative pipelines, taken through the
/// compiler library (what the macro crate calls), pretty-printed.
#[test]
fn inline_expansions() {
    let pipelines = [
        (
            "inline_wordcount",
            r#"source text("dsl-examples/data/words.txt")
               |> flat_map(|line: String| line.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>())
               |> key_by(|word: &String| word.clone())
               |> aggregate(count())
               |> collect()"#,
        ),
        (
            "inline_windowed_bids",
            r#"source iter(bids) with event_time(|b: &Bid| b.ts), watermark(bounded 2s)
               |> filter(|b: &Bid| b.price > 100)
               |> key_by(|b: &Bid| b.auction)
               |> window(tumbling 10s, allowed_lateness 1s, late -> late_bids)
               |> aggregate(count(), max(|b: &Bid| b.price), avg(|b: &Bid| b.price))
               |> collect();
               late_bids |> for_each(|b: Bid| println!("late: {b:?}"))"#,
        ),
        (
            "inline_union_to_csv",
            r#"let eu = source csv::<Click>("dsl-examples/data/clicks_eu.csv");
               let us = source jsonl::<Click>("dsl-examples/data/clicks_us.jsonl");
               eu |> union(us)
                  |> key_by(|c: &Click| c.page.clone())
                  |> aggregate(count(), sum(|c: &Click| c.ms))
                  |> sink csv("out/clicks.csv")"#,
        ),
        (
            "inline_process",
            r#"source iter(txns) with event_time(|t: &Txn| t.ts), watermark(ascending)
               |> key_by(|t: &Txn| t.account.clone())
               |> process(
                   on_record(|t: &Txn, st: &mut Flag, ctx| {
                       if st.flagged && t.amount > 500.0 { ctx.emit(t.clone()); }
                       st.flagged = t.amount < 1.0;
                       if st.flagged { ctx.timer_at(t.ts + 60_000); }
                   }),
                   on_timer(|_: Timer, st: &mut Flag, _: &mut ProcessContext<String, Txn>| {
                       st.flagged = false;
                   }),
               )
               |> collect()"#,
        ),
    ];
    for (name, text) in pipelines {
        let expansion = weir_compiler::inline::expand_pretty(text)
            .unwrap_or_else(|e| panic!("{name} does not expand: {e}"));
        insta::assert_snapshot!(name, expansion);
    }
}

/// `weir explain` fits a terminal: within 120 columns on every example, on one worker and
/// on several (long sources and expressions wrap under their operator); durations read as
/// written (`10s`, not `10000ms`); graphs label operators with their line, not schemas.
#[test]
fn explain_fits_in_120_columns_and_reads_as_written() {
    for (stem, path) in examples() {
        for workers in ["1", "4"] {
            let text = weir(&["explain", &path, "--parallelism", workers]);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= 120,
                    "{stem} on {workers} worker(s): a line of {} columns:\n{line}",
                    line.chars().count()
                );
            }
            assert!(!text.contains("000ms"), "{stem}: {text}");
        }
        let mermaid = weir(&["graph", &path, "--format", "mermaid"]);
        assert!(
            !mermaid.contains("<br/>{"),
            "{stem}: schemas in labels:\n{mermaid}"
        );
        assert!(
            mermaid.contains("<br/>at "),
            "{stem}: no line in labels:\n{mermaid}"
        );
    }
    let sessions = weir(&["explain", "dsl-examples/click_sessions.pipe"]);
    assert!(sessions.contains("session gap 30s"), "{sessions}");
}
