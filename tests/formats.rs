//! What weir's sinks write, its sources read back as the same values.

mod common;

use common::*;

#[test]
fn nan_and_infinities_round_trip_through_json_lines() {
    let dir = temp();
    std::fs::write(
        dir.path().join("in.csv"),
        "id,x\n1,0.5\n2,NaN\n3,inf\n4,-inf\n5,-0.25\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("write.pipe"),
        "schema R { id: u64, x: f64 }\nsource r: R = csv(\"in.csv\");\n\
         r |> sink jsonl(\"mid.jsonl\");\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("read.pipe"),
        "schema R { id: u64, x: f64 }\nsource r: R = jsonl(\"mid.jsonl\");\n\
         r |> sink csv(\"out.csv\");\n",
    )
    .unwrap();
    for job in ["write.pipe", "read.pipe"] {
        let bin = build(&dir.path().join(job));
        let out = std::process::Command::new(bin)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{job}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mid = std::fs::read_to_string(dir.path().join("mid.jsonl")).unwrap();
    assert!(
        mid.contains(r#""x":"NaN""#) && !mid.contains("null"),
        "{mid}"
    );
    let (_, rows) = read_csv(&dir.path().join("out.csv"));
    let xs: Vec<f64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    assert_eq!(xs[0], 0.5);
    assert!(xs[1].is_nan());
    assert_eq!(xs[2], f64::INFINITY);
    assert_eq!(xs[3], f64::NEG_INFINITY);
    assert_eq!(xs[4], -0.25);
}
