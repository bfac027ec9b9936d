//! Large and deep programs: long chains build (split into chains of bounded length) and give
//! the right answer; expressions nested past the documented limit are refused at their
//! place instead of crashing rustc.

mod common;

use common::*;

#[test]
fn three_hundred_chained_filters_build_and_run() {
    let dir = temp();
    let data: String = std::iter::once("n\n".to_string())
        .chain((0..1000).map(|i| format!("{i}\n")))
        .collect();
    std::fs::write(dir.path().join("in.csv"), data).unwrap();
    let filters: String = (0..300)
        .map(|i| format!("  |> filter(n != {})\n", i * 3))
        .collect();
    let pipe = dir.path().join("filters.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ n: u64 }}\nsource r: R = csv(\"in.csv\");\nr\n{filters}  |> sink out = csv(\"out.csv\");\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(build(&pipe))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, rows) = read_csv(&dir.path().join("out.csv"));
    let got: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let expected: Vec<u64> = (0..1000).filter(|n| !(n % 3 == 0 && *n < 900)).collect();
    assert_eq!(got, expected);
}

#[test]
fn an_expression_nested_past_the_limit_is_refused_at_its_place() {
    let dir = temp();
    let nots = "not ".repeat(65);
    let pipe = dir.path().join("deep.pipe");
    std::fs::write(
        &pipe,
        format!("source l = text(\"a\");\nl |> filter({nots}true) |> sink stdout();\n"),
    )
    .unwrap();
    let run = weir_cli(&["check", pipe.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.err
            .contains("this expression nests more than 64 levels deep"),
        "{}",
        run.err
    );
    // The 65th `not` is the first past the limit: 4 characters each, after `l |> filter(`.
    assert!(run.err.contains("deep.pipe:2:269"), "{}", run.err);

    let within = "not ".repeat(60);
    std::fs::write(
        &pipe,
        format!("source l = text(\"a\");\nl |> filter({within}true) |> sink stdout();\n"),
    )
    .unwrap();
    assert_eq!(weir_cli(&["check", pipe.to_str().unwrap()]).code, 0);
}
