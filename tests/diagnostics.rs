//! `weir check` on programs with mistakes: every error is found in one run, each names
//! file:line:col and underlines the source, and the exit code is non-zero. The locations are
//! hand-checked here; the full rendering is snapshotted.

mod common;

use common::weir_cli;

fn weir(args: &[&str]) -> (u8, String, String) {
    let run = weir_cli(args);
    (run.code, run.out, run.err)
}

/// Each fixture with the places its errors must point at, counted by hand.
const CASES: &[(&str, &[&str])] = &[
    ("unknown_field", &["3:16"]),
    ("type_mismatch", &["3:26"]),
    ("syntax_error", &["3:24"]),
    ("many_errors", &["2:46", "5:9", "6:28", "7:9", "8:1"]),
    ("stream_errors", &["5:8", "6:5", "7:12", "8:6", "9:27"]),
    (
        "window_errors",
        &[
            "4:50", "5:41", "6:34", "7:45", "8:36", "9:52", "10:29", "11:61", "12:16",
        ],
    ),
    (
        "aggregate_errors",
        &["3:42", "4:20", "6:25", "6:44", "6:67", "7:22", "8:18"],
    ),
    ("front_end_rules", &["4:71", "5:37", "6:11", "7:42"]),
    ("window_limits", &["3:26", "4:26", "5:47"]),
    // A count past u64, an option given twice, an offset (negative ones are allowed, as in
    // Flink) as long as the window.
    ("window_options", &["3:32", "4:61", "5:26"]),
    // A CSV delimiter is one ASCII character other than a quote or a line break.
    ("csv_delimiters", &["2:46", "3:45", "4:44"]),
    // A Nexmark source: its stream, a setting that is no whole number, a schema of its
    // own, an option for files, a setting out of range.
    ("nexmark_errors", &["2:20", "3:33", "4:11", "5:30", "6:25"]),
    (
        "join_errors",
        &[
            "9:54", "10:54", "11:54", "12:65", "13:41", "14:34", "15:77", "16:50", "17:50",
            "18:27",
            // An outer interval join: its kind twice, a kind that is none, and the side
            // that cannot be missing has no `matched` flag.
            "19:75", "20:69", "21:123",
        ],
    ),
    // `first`, `last`, `min` and `max` keep text in session windows only so far; `reduce`
    // not at all; `collect_list` joins text, with a literal separator (statements 6 and 9
    // are right).
    ("text_aggregates", &["3:61", "4:57", "5:74", "7:86", "8:80"]),
    // `follow` reads a file: not standard input; it takes no arguments, and comes once.
    ("follow_errors", &["1:25", "2:31", "3:39"]),
    // `uid` names one stateful operator, once, with a name no other operator has.
    ("uid_errors", &["2:29", "3:69", "4:54", "5:36"]),
    // Every mistake of a pipeline is reported, past an error in a step that passes its
    // records on and past a literal that is too large.
    (
        "error_recovery",
        &["4:17", "3:17", "3:30", "3:50", "3:70", "4:54"],
    ),
    // Syntax errors in three statements (two in the steps of one), and meaning errors in
    // the others, in one run; a stream defined by a statement that does not parse is not
    // reported again where it is used.
    (
        "syntax_recovery",
        &["10:3", "11:26", "13:29", "13:43", "12:50", "15:18"],
    ),
    // Issue 33's acceptance: three syntax mistakes in three statements (a missing comma
    // between options, an unclosed call, a missing comma in a record) give three
    // diagnostics in one run.
    ("three_syntax_mistakes", &["3:62", "4:34", "5:22"]),
    // An iteration's rules: vertex values, messages and their words only over a graph,
    // the model changed only in `on round_end`, aggregates only with `<-`, an end to the
    // rounds, records emitted only in `on end`, a vertex is a u64.
    (
        "iterate_errors",
        &[
            "3:30", "4:79", "5:59", "6:10", "7:97", "7:83", "8:59", "9:31", "10:62", "14:18",
            "15:24", "16:11", "17:10",
        ],
    ),
    // A syntax mistake of each kind: punctuation missing in a schema (reported where it
    // is missing), an option missing, a record left open, a bracket too many, two
    // statements run together, a string that swallows a bracket; then meaning errors.
    (
        "syntax_kinds",
        &[
            "3:39", "6:41", "8:29", "9:28", "10:29", "11:43", "14:18", "14:47",
        ],
    ),
];

#[test]
fn every_error_names_its_place_and_fails_the_check() {
    for (name, places) in CASES {
        let path = format!("tests/fixtures/errors/{name}.pipe");
        let (code, out, err) = weir(&["check", &path]);
        assert_eq!(code, 1, "{name}: exit code");
        assert!(out.is_empty(), "{name}: nothing on stdout");
        for place in *places {
            let located = format!("({path}:{place})");
            assert!(
                err.contains(&located),
                "{name}: no error at {place}:\n{err}"
            );
        }
        let reported = err.lines().filter(|l| l.starts_with("Error:")).count();
        assert_eq!(reported, places.len(), "{name}: error count\n{err}");
        assert!(err.contains('─'), "{name}: the source is underlined");
        insta::assert_snapshot!(*name, err);
    }
}

#[test]
fn an_unused_stream_is_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unused.pipe");
    std::fs::write(
        &path,
        "source a = text(\"a.txt\");\nsource b = text(\"b.txt\");\na |> sink stdout();\n",
    )
    .unwrap();
    let (code, out, err) = weir(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok"));
    assert!(err.contains("Warning: stream `b` is never used"), "{err}");
    assert!(err.contains("unused.pipe:2:8"), "{err}");
}

#[test]
fn a_missing_file_and_bad_flags_fail_cleanly() {
    let (code, _, err) = weir(&["check", "no/such/file.pipe"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read no/such/file.pipe"), "{err}");
    let (code, _, err) = weir(&["graph", "dsl-examples/wordcount.pipe", "--format", "png"]);
    assert_eq!(code, 2);
    assert!(err.contains("png"), "{err}");
    let (code, _, err) = weir(&["explain", "dsl-examples/wordcount.pipe", "--memory", "lots"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a byte size"), "{err}");
    let (code, _, err) = weir(&["explain", "dsl-examples/wordcount.pipe", "--memory", "64KB"]);
    assert_eq!(code, 1);
    assert!(err.contains("too small"), "{err}");
}

/// The rules `stream!` shares (tests/ui: window_after_aggregate, union_of_different_*,
/// unknown_step_key_bi): an aggregate's results have no event time, a union's inputs
/// carry one record type, and step and function names come from the operator table.
#[test]
fn the_rules_shared_with_stream_say_what_is_wrong() {
    let (_, _, err) = weir(&["check", "tests/fixtures/errors/front_end_rules.pipe"]);
    assert!(
        err.contains("an event-time window needs records with event time"),
        "{err}"
    );
    assert!(
        err.contains("the input carries { user: str, ts: timestamp } and `pages` carries { user: str, page: str, ts: timestamp }"),
        "{err}"
    );
    assert!(err.contains("did you mean `key_by`?"), "{err}");
    assert!(
        err.contains("the aggregate functions are count, sum, min, max, avg, first, last, reduce"),
        "{err}"
    );
}

#[test]
fn an_unknown_operator_lists_the_operators_of_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("op.pipe");
    std::fs::write(
        &path,
        "source a = text(\"a.txt\");\na |> frobnicate(x) |> sink stdout();\n",
    )
    .unwrap();
    let (code, _, err) = weir(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    for op in [
        "filter",
        "map",
        "flat_map",
        "key_by",
        "window",
        "aggregate",
        "union",
        "distinct",
        "sink",
    ] {
        assert!(err.contains(op), "{op} missing from:\n{err}");
    }
    assert!(!err.contains("value"), "{err}");
}

/// Event time without a watermark strategy is refused, as Flink refuses it, at the
/// `event_time(...)`, with the two strategies in the help: an unstated `ascending` dropped
/// records of out-of-order data as late without a word.
#[test]
fn event_time_without_a_watermark_asks_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wm.pipe");
    std::fs::write(
        &path,
        "schema R { sensor: str, ts: timestamp }\n\
         source r: R = csv(\"r.csv\") with event_time(ts);\n\
         r |> key_by(sensor) |> window(tumbling 1m) |> aggregate { n: count() } |> sink stdout();\n",
    )
    .unwrap();
    let (code, _, err) = weir(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("event time needs a watermark strategy") && err.contains("wm.pipe:2:33)"),
        "{err}"
    );
    assert!(
        err.contains("`watermark(ascending)`") && err.contains("`watermark(bounded 5s)`"),
        "{err}"
    );
    // Only that: the window downstream is not reported for lacking event time.
    assert_eq!(err.matches("Error:").count(), 1, "{err}");
}

/// A syntax error at a lone `=` where an expression goes on suggests `==`.
#[test]
fn a_lone_equals_sign_in_a_condition_suggests_two() {
    let (code, _, err) = weir(&["check", "tests/fixtures/errors/syntax_recovery.pipe"]);
    assert_eq!(code, 1);
    assert_eq!(
        err.matches("to compare two values, write `==`").count(),
        1,
        "{err}"
    );
}
