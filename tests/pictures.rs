//! `weir graph --format svg|html`: for every example, a picture a person can read at 100%
//! zoom (no scaling, labels short and inside their boxes, boxes apart), the whole
//! description in each operator's tooltip, chains and styled edges, and a page with the
//! `weir explain` budgets.

mod common;

use common::weir_cli;

fn weir(args: &[&str]) -> String {
    let run = weir_cli(args);
    assert_eq!(run.code, 0, "weir {args:?}: {}", run.err);
    run.out
}

fn examples() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("dsl-examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pipe"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Whether an edge of the JSON view is of a kind.
type EdgeTest = dyn Fn(&serde_json::Value) -> bool;

/// A box: left, top, width, height.
type Rect = (f64, f64, f64, f64);

fn number(node: roxmltree::Node, attribute: &str) -> f64 {
    node.attribute(attribute)
        .unwrap_or_else(|| panic!("{attribute} missing"))
        .parse()
        .unwrap()
}

fn overlap(a: Rect, b: Rect) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
}

/// What one example's picture must hold, against its JSON view.
fn check_picture(path: &str, svg: &str, view: &serde_json::Value) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{path}: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    // Drawn at its own size: the view box is the width and height, so 100% zoom is 1:1.
    let view_box: Vec<f64> = root
        .attribute("viewBox")
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(view_box[2].round(), number(root, "width"), "{path}");
    assert_eq!(view_box[3].round(), number(root, "height"), "{path}");

    let nodes = view["nodes"].as_array().unwrap();
    let ops: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("op"))
        .collect();
    assert_eq!(ops.len(), nodes.len(), "{path}: one box per operator");
    let mut rects: Vec<Rect> = Vec::new();
    for node in nodes {
        let id = node["id"].as_u64().unwrap();
        let op = ops
            .iter()
            .find(|o| o.attribute("id") == Some(&format!("op-{id}")))
            .unwrap_or_else(|| panic!("{path}: operator {id} drawn"));
        let title = op
            .children()
            .find(|c| c.has_tag_name("title"))
            .and_then(|t| t.text())
            .unwrap();
        // The tooltip holds the whole description and where it is written.
        assert!(
            title.starts_with(node["detail"].as_str().unwrap()),
            "{path}: {title}"
        );
        assert!(title.contains(node["location"].as_str().unwrap()), "{path}");
        let rect = op.children().find(|c| c.has_tag_name("rect")).unwrap();
        rects.push((
            number(rect, "x"),
            number(rect, "y"),
            number(rect, "width"),
            number(rect, "height"),
        ));
    }
    for (i, a) in rects.iter().enumerate() {
        for b in &rects[i + 1..] {
            assert!(!overlap(*a, *b), "{path}: boxes {a:?} and {b:?} overlap");
        }
    }
    // Labels: short lines, a readable size, each operator's centred in its box.
    let labels: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("label"))
        .collect();
    assert_eq!(labels.len(), nodes.len(), "{path}");
    for label in &labels {
        assert!(number(*label, "font-size") >= 12.0, "{path}");
        let (x, y) = (number(*label, "x"), number(*label, "y"));
        assert!(
            rects
                .iter()
                .any(|r| r.0 < x && x < r.0 + r.2 && r.1 < y && y < r.1 + r.3),
            "{path}: label at {x},{y} outside every box"
        );
        for line in label.children().filter_map(|t| t.text()) {
            assert!(
                line.chars().count() <= 36,
                "{path}: long label line {line:?}"
            );
        }
    }
    // A dashed box for each chain of several operators.
    let long_chains = view["chains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["nodes"].as_array().unwrap().len() > 1)
        .count();
    let chain_boxes = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("chain"))
        .count();
    assert_eq!(chain_boxes, long_chains, "{path}");
    // Every stream drawn, styled by what it is.
    let edges: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("edge ")))
        .collect();
    assert_eq!(
        edges.len(),
        view["edges"].as_array().unwrap().len(),
        "{path}"
    );
    let feedback = |e: &serde_json::Value| e["feedback"] == true;
    let side = |e: &serde_json::Value| e["feedback"] != true && e["from_port"] != 0;
    let kinds: [(&str, &EdgeTest); 2] = [("edge feedback", &feedback), ("edge side", &side)];
    for (kind, expected) in kinds {
        let drawn = edges
            .iter()
            .filter(|e| e.attribute("class") == Some(kind))
            .count();
        let wanted = view["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| expected(e))
            .count();
        assert_eq!(drawn, wanted, "{path}: {kind}");
    }
}

#[test]
fn every_example_draws_as_a_readable_svg() {
    for path in examples() {
        let view: serde_json::Value = serde_json::from_str(&weir(&[
            "graph",
            &path,
            "--format",
            "json",
            "--stage",
            "optimized",
        ]))
        .unwrap();
        let svg = weir(&["graph", &path, "--format", "svg", "--stage", "optimized"]);
        check_picture(&path, &svg, &view);
    }
}

#[test]
fn side_outputs_and_feedback_are_styled_and_late_bids_is_snapshotted() {
    let late = weir(&["graph", "dsl-examples/late_bids.pipe", "--format", "svg"]);
    assert_eq!(late.matches("class=\"edge side\"").count(), 1);
    insta::assert_snapshot!("late_bids_logical_svg", late);
    let ranks = weir(&["graph", "dsl-examples/pagerank.pipe", "--format", "svg"]);
    assert_eq!(ranks.matches("class=\"edge feedback\"").count(), 1);
}

#[test]
fn the_html_page_holds_the_picture_and_the_explain_budgets() {
    let path = "dsl-examples/late_bids.pipe";
    let page = weir(&["graph", path, "--format", "html"]);
    assert!(page.starts_with("<!DOCTYPE html>"));
    let start = page.find("<svg").unwrap();
    let end = page.find("</svg>").unwrap() + "</svg>".len();
    roxmltree::Document::parse(&page[start..end]).unwrap();
    // The table's budgets are weir explain's, operator by operator.
    let explain = weir(&["explain", path]);
    let window_row = explain.lines().find(|l| l.starts_with("window(")).unwrap();
    let budget = window_row
        .split("  ")
        .map(str::trim)
        .find(|cell| cell.contains("pages"))
        .unwrap();
    assert!(page.contains(&format!("<td>{budget}</td>")), "{budget}");
    assert_eq!(page.matches("<tr><td>").count(), 4, "one row per operator");
    assert!(page.contains("<td>keyed</td>") && page.contains("<td>yes</td>"));
}
