//! The shared lowering through both front-ends: twin programs make graphs of the same
//! shape, and the lowering's own rules hold whichever front-end reads the steps.

use std::str::FromStr;

use proc_macro2::TokenStream;

use crate::diagnostics::SourceFile;
use crate::ir::{Partitioning, Plan};

fn pipe(text: &str) -> Plan {
    let file = SourceFile::new("t.pipe", text);
    match crate::logical(&file) {
        Ok((plan, _)) => plan,
        Err(d) => panic!("{}", file.render(&d, false)),
    }
}

fn pipe_errors(text: &str) -> String {
    let file = SourceFile::new("t.pipe", text);
    match crate::logical(&file) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn inline(text: &str) -> Plan {
    let tokens = TokenStream::from_str(text).expect("tokens");
    crate::inline::plan(tokens, crate::inline::RUNTIME_PATH).unwrap_or_else(|e| panic!("{e}"))
}

fn inline_errors(text: &str) -> String {
    let tokens = TokenStream::from_str(text).expect("tokens");
    match crate::inline::plan(tokens, crate::inline::RUNTIME_PATH) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// An edge as (from, from port, to, to port, keyed).
type EdgeShape = (usize, usize, usize, usize, bool);

/// Node kinds, and edges.
fn shape(plan: &Plan) -> (Vec<&'static str>, Vec<EdgeShape>) {
    let kinds = plan.graph.node_weights().map(|n| n.op.kind()).collect();
    let mut edges: Vec<_> = plan
        .graph
        .edge_indices()
        .map(|e| {
            let (a, b) = plan.graph.edge_endpoints(e).unwrap();
            let w = &plan.graph[e];
            let keyed = matches!(w.partitioning, Partitioning::Hash(_));
            (a.index(), w.from_port, b.index(), w.port, keyed)
        })
        .collect();
    edges.sort();
    (kinds, edges)
}

#[test]
fn twin_programs_lower_to_the_same_graph() {
    let p = pipe(
        "schema B { a: u64, ts: timestamp }
         source bids: B = csv(\"b.csv\") with event_time(ts), watermark(bounded 1s);
         source more: B = csv(\"c.csv\") with event_time(ts), watermark(bounded 1s);
         bids |> union(more) |> filter(a > 1) |> key_by(a)
           |> window(tumbling 10s, late -> late) |> aggregate { n: count() } |> sink csv(\"o.csv\");
         late |> key_by(a) |> distinct() |> sink csv(\"l.csv\");",
    );
    let i = inline(
        "let bids = source iter(x) with event_time(|b: &(u64, i64)| b.1), watermark(bounded 1s);
         let more = source iter(y) with event_time(|b: &(u64, i64)| b.1), watermark(bounded 1s);
         bids |> union(more) |> filter(|b: &(u64, i64)| b.0 > 1) |> key_by(|b: &(u64, i64)| b.0)
           |> window(tumbling 10s, late -> late) |> aggregate(count()) |> collect();
         late |> key_by(|b: &(u64, i64)| b.0) |> distinct() |> collect()",
    );
    assert_eq!(shape(&p), shape(&i));
    let (kinds, edges) = shape(&p);
    assert_eq!(
        kinds,
        ["source", "source", "union", "filter", "window", "sink", "distinct", "sink"]
    );
    // The late records leave the window on output port 1 into a keyed `distinct`.
    assert!(edges.contains(&(4, 1, 6, 0, true)), "{edges:?}");
    // The union's inputs are ports 0 and 1.
    assert!(edges.contains(&(0, 0, 2, 0, false)) && edges.contains(&(1, 0, 2, 1, false)));
}

#[test]
fn a_named_keyed_stream_keeps_its_key_in_both_front_ends() {
    let p = pipe(
        "source l = text(\"a.txt\");
         let k = l |> key_by(line);
         k |> aggregate { n: count() } |> sink stdout();",
    );
    let i = inline(
        "let k = source iter(v) |> key_by(|l: &String| l.clone());
         k |> aggregate(count()) |> collect()",
    );
    assert_eq!(shape(&p), shape(&i));
    assert!(
        shape(&p).1.iter().any(|e| e.4),
        "the aggregate's input is keyed"
    );
}

#[test]
fn an_aggregate_has_no_event_time_in_either_front_end() {
    let p = pipe_errors(
        "schema B { a: u64, ts: timestamp }
         source b: B = csv(\"b.csv\") with event_time(ts), watermark(ascending);
         b |> key_by(a) |> aggregate { n: count() } |> key_by(a) |> window(tumbling 1s)
           |> aggregate { m: count() } |> sink stdout();",
    );
    let i = inline_errors(
        "source iter(v) with event_time(|b: &(u64, i64)| b.1), watermark(ascending) |> key_by(|b: &(u64, i64)| b.0)
           |> aggregate(count()) |> key_by(|r: &(u64, u64)| r.0) |> window(tumbling 1s)
           |> aggregate(count()) |> collect()",
    );
    for e in [&p, &i] {
        assert!(
            e.contains("an event-time window needs records with event time"),
            "{e}"
        );
    }
}

#[test]
fn order_rules_are_the_same_in_both_front_ends() {
    let cases = [
        (
            "source l = text(\"a\"); l |> sink stdout() |> filter(true);",
            "source iter(v) |> collect() |> filter(|x: &u64| true)",
            "nothing can follow a sink",
        ),
        (
            "source l = text(\"a\"); l |> key_by(line) |> window(count 2) |> filter(true) |> sink stdout();",
            "source iter(v) |> key_by(|x: &u64| *x) |> window(count 2) |> filter(|x: &u64| true) |> collect()",
            "a window must be followed by `aggregate`, `join` or `iterate`",
        ),
        (
            "source l = text(\"a\"); l |> distinct() |> sink stdout();",
            "source iter(v) |> distinct() |> collect()",
            "`distinct` needs a keyed stream",
        ),
        (
            "schema B { a: u64, ts: timestamp } source b: B = csv(\"b\") with event_time(ts), watermark(ascending);
             b |> key_by(a) |> window(sliding 1s every 2s) |> aggregate { n: count() } |> sink stdout();",
            "source iter(v) with event_time(|b: &(u64, i64)| b.1), watermark(ascending) |> key_by(|b: &(u64, i64)| b.0)
             |> window(sliding 1s every 2s) |> aggregate(count()) |> collect()",
            "slide is longer than its size",
        ),
        (
            "schema B { a: u64, ts: timestamp } source b: B = csv(\"b\") with event_time(ts), watermark(ascending);
             b |> key_by(a) |> window(tumbling 1s, late -> lt) |> aggregate { n: count() } |> sink stdout();",
            "source iter(v) with event_time(|b: &(u64, i64)| b.1), watermark(ascending) |> key_by(|b: &(u64, i64)| b.0)
             |> window(tumbling 1s, late -> lt) |> aggregate(count()) |> collect()",
            "the late records go to `lt`, which is never used",
        ),
        (
            "schema B { a: u64, ts: timestamp } source b: B = csv(\"b\") with watermark(bounded 1s);
             b |> sink stdout();",
            "source iter(v) with watermark(bounded 1s) |> collect()",
            "a watermark needs event time",
        ),
        (
            "source l = text(\"a\") with on_error(skip), on_error(fail); l |> sink stdout();",
            "source iter(v) with on_error(skip), on_error(fail) |> collect()",
            "`on_error` is given twice",
        ),
        (
            "source l = text(\"a\") with watermak(bounded 1s); l |> sink stdout();",
            "source iter(v) with watermak(bounded 1s) |> collect()",
            "unknown source option `watermak`",
        ),
        (
            "source l = text(\"a\") with idle(30s); l |> sink stdout();",
            "source iter(v) with idle(30s) |> collect()",
            "idleness needs event time",
        ),
        (
            "source l = text(\"a\"); let l = l |> filter(true); l |> sink stdout();",
            "let l = source iter(v); let l = l |> filter(|x: &u64| true); l |> collect()",
            "`l` is already defined",
        ),
    ];
    for (p, i, message) in cases {
        let (p, i) = (pipe_errors(p), inline_errors(i));
        assert!(p.contains(message), "{message} in .pipe: {p}");
        assert!(i.contains(message), "{message} in stream!: {i}");
    }
}

#[test]
fn inline_nodes_are_placed_at_their_steps() {
    let plan = inline("source iter(v)\n|> key_by(|x: &u64| *x)\n|> distinct()\n|> collect()");
    let locations: Vec<&str> = plan
        .graph
        .node_weights()
        .map(|n| n.location.as_str())
        .collect();
    assert_eq!(locations, ["stream!:1:8", "stream!:3:4", "stream!:4:4"]);
}
