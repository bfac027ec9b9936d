//! Every expression form, compiled by rustc and run: casts, conditionals, string and number
//! functions, integer and float arithmetic, keyword-named fields, JSON-lines in and out. Each output
//! field is compared with the same computation written here in plain Rust.

mod common;

use common::*;

const DATA: &str = r#"{"type": "Alpha Beta", "n": 7, "d": -3, "x": 2.5, "ok": true, "ts": 1000}
{"type": "gamma", "n": 0, "d": 4, "x": -0.5, "ok": false, "ts": 2000}
{"type": "Été Ünï", "n": 18446744073709551615, "d": 9223372036854775807, "x": 1e10, "ok": true, "ts": -5}
"#;

const PIPE: &str = r#"
schema Row { type: str, n: u64, d: i64, x: f64, ok: bool, ts: timestamp }
source rows: Row = jsonl("DATA");
rows
  |> map {
       type,
       low: lower(type),
       up: upper(type),
       chars: len(type),
       joined: concat(type, "/", n as str, "/", x as str),
       has_a: contains(lower(type), "a"),
       starts: starts_with(type, "Al") or not ok,
       wrap: n + 1,
       neg: -d,
       prod: d * 3 - 4 % 3,
       ratio: x / 2.0 + d as f64,
       big: if x > 100.0 then "big" else if x < 0.0 then "negative" else "small",
       later: ts + 500,
       parsed: "42" as i64 + (ok as u64) as i64,
       self: n % 5,
       mag: abs(d - 1),
       fmag: abs(x),
       root: sqrt(abs(x)),
     }
  |> sink jsonl("OUT");
"#;

#[test]
fn every_expression_form_computes_what_rust_computes() {
    let dir = temp();
    let data = dir.path().join("rows.jsonl");
    std::fs::write(&data, DATA).unwrap();
    let out = dir.path().join("out.jsonl");
    let pipe = dir.path().join("exprs.pipe");
    let text = PIPE
        .replace("DATA", &data.display().to_string())
        .replace("OUT", &out.display().to_string());
    std::fs::write(&pipe, text).unwrap();
    run_ok(&build(&pipe), &[]);

    let got: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let input: Vec<serde_json::Value> = DATA
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), input.len());
    for (g, r) in got.iter().zip(&input) {
        let ty = r["type"].as_str().unwrap();
        let n = r["n"].as_u64().unwrap();
        let d = r["d"].as_i64().unwrap();
        let x = r["x"].as_f64().unwrap();
        let ok = r["ok"].as_bool().unwrap();
        let ts = r["ts"].as_i64().unwrap();
        assert_eq!(g["type"], ty);
        assert_eq!(g["low"], ty.to_lowercase());
        assert_eq!(g["up"], ty.to_uppercase());
        assert_eq!(g["chars"], ty.chars().count() as u64);
        let x_text = g["joined"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            x_text.parse::<f64>().unwrap(),
            x,
            "floats print so they read back"
        );
        assert!(g["joined"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{ty}/{n}/")));
        assert_eq!(g["has_a"], ty.to_lowercase().contains('a'));
        assert_eq!(g["starts"], ty.starts_with("Al") || !ok);
        assert_eq!(g["wrap"], n.wrapping_add(1));
        assert_eq!(g["neg"], d.wrapping_neg());
        assert_eq!(g["prod"], d.wrapping_mul(3) - 1);
        assert_eq!(g["ratio"].as_f64().unwrap(), x / 2.0 + d as f64);
        let big = if x > 100.0 {
            "big"
        } else if x < 0.0 {
            "negative"
        } else {
            "small"
        };
        assert_eq!(g["big"], big);
        assert_eq!(g["later"], ts + 500);
        assert_eq!(g["parsed"], 42 + i64::from(ok));
        assert_eq!(g["self"], n % 5);
        assert_eq!(g["mag"], d.wrapping_sub(1).wrapping_abs());
        assert_eq!(g["fmag"].as_f64().unwrap(), x.abs());
        assert_eq!(g["root"].as_f64().unwrap(), x.abs().sqrt());
    }
}
