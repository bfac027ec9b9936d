//! No input makes the compiler panic: random text, token soup and mutated examples go
//! through every front-end command (check, graph, explain, emit); each must end in a plan or
//! in diagnostics that render, and none is an internal compiler error (a user's mistake
//! the lowering missed).

use proptest::prelude::*;
use weir_compiler::codegen::generate;
use weir_compiler::explain::explain;
use weir_compiler::graph::{Dot, GraphView, GraphWriter, Json, Mermaid, Stage};
use weir_compiler::SourceFile;

fn every_command(text: &str) {
    let file = SourceFile::new("fuzz.pipe", text);
    if let Err(d) = weir_compiler::logical(&file) {
        let rendered = file.render(&d, false);
        assert!(!rendered.is_empty(), "errors render");
    }
    match weir_compiler::compile(&file) {
        Ok((plan, _)) => {
            for stage in [Stage::Logical, Stage::Optimized] {
                let view = GraphView::new(&plan, stage);
                Dot.write(&view);
                Mermaid.write(&view);
                Json.write(&view);
            }
            let _ = explain(&plan, 256 << 20, 1);
            let _ = explain(&plan, 256 << 20, 3);
            let _ = explain(&plan, 1024, 2);
            let job = generate(&plan);
            assert!(syn::parse_file(&job.source).is_ok());
        }
        Err(d) => {
            assert!(d.has_errors());
            let rendered = file.render(&d, false);
            assert!(
                !rendered.contains("internal compiler error"),
                "{text}\n{rendered}"
            );
        }
    }
}

const TOKENS: &[&str] = &[
    "schema",
    "source",
    "let",
    "with",
    "sink",
    "if",
    "then",
    "else",
    "and",
    "or",
    "not",
    "as",
    "true",
    "false",
    "|>",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    ";",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "filter",
    "map",
    "flat_map",
    "key_by",
    "aggregate",
    "union",
    "distinct()",
    "window(tumbling 1s)",
    "late -> l",
    "count()",
    "sum",
    "min",
    "max",
    "avg",
    "csv",
    "jsonl",
    "text",
    "stdin",
    "stdout",
    "on_error",
    "skip",
    "dead_letter",
    "\"x.csv\"",
    "\"\"",
    "\"a\\\"b\"",
    "0",
    "1",
    "18446744073709551615",
    "99999999999999999999",
    "1.5",
    "1e400",
    "u64",
    "i64",
    "f64",
    "str",
    "bool",
    "timestamp",
    "line",
    "word",
    "price",
    "Bid",
    "split_whitespace",
    "split",
    "lower",
    "upper",
    "len",
    "concat",
    "contains",
    "starts_with",
    "header",
    "delimiter",
    "é",
    "//",
    "\n",
    "window",
    "tumbling",
    "sliding",
    "session",
    "gap",
    "every",
    "offset",
    "count 3",
    "allowed_lateness",
    "late",
    "->",
    "processing_time",
    "10s",
    "500ms",
    "0ms",
    "99999999999999999d",
    "event_time(ts)",
    "watermark",
    "bounded 2s",
    "ascending",
    "idle 1s",
    "first",
    "last",
    "reduce",
    "ts",
    "timestamp",
];

fn examples() -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir("dsl-examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// An example with a slice removed, replaced or repeated.
fn mutated() -> impl Strategy<Value = String> {
    (
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        0..3u8,
        prop::sample::select(TOKENS),
    )
        .prop_map(|(which, a, b, how, token)| {
            let all = examples();
            let text = &all[which.index(all.len())];
            let chars: Vec<char> = text.chars().collect();
            let (mut i, mut j) = (a.index(chars.len()), b.index(chars.len()));
            if i > j {
                std::mem::swap(&mut i, &mut j);
            }
            let (head, mid, tail): (String, String, String) = (
                chars[..i].iter().collect(),
                chars[i..j].iter().collect(),
                chars[j..].iter().collect(),
            );
            match how {
                0 => format!("{head}{tail}"),
                1 => format!("{head} {token} {tail}"),
                _ => format!("{head}{mid}{mid}{tail}"),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "[ -~\\n]{0,300}") {
        every_command(&text);
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
        every_command(&tokens.join(" "));
    }

    #[test]
    fn mutated_examples_never_panic(text in mutated()) {
        every_command(&text);
    }
}

#[test]
fn the_examples_themselves_compile() {
    for text in examples() {
        let file = SourceFile::new("example.pipe", text);
        assert!(weir_compiler::compile(&file).is_ok());
    }
}
