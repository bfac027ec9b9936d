//! Aggregate functions' arithmetic, through both front-ends, against values computed here.

mod common;

use common::*;

#[test]
fn an_average_of_integers_is_exact_in_both_front_ends() {
    // Through f64, 9007199254740993 becomes 9007199254740992: the old average was
    // 4503599627370496. The exact one is 4503599627370497.
    let rows: Vec<(u64, u64)> = vec![
        (1, 9_007_199_254_740_993),
        (1, 1),
        (2, u64::MAX),
        (2, u64::MAX),
    ];
    let inline = weir::stream! {
        source iter(rows.clone())
        |> key_by(|r: &(u64, u64)| r.0)
        |> aggregate(avg(|r: &(u64, u64)| r.1))
        |> collect()
    }
    .run()
    .unwrap();
    assert_eq!(
        inline,
        vec![(1, 4_503_599_627_370_497.0), (2, u64::MAX as f64)]
    );

    let dir = temp();
    let data = dir.path().join("rows.csv");
    let text: String = std::iter::once("k,v\n".to_string())
        .chain(rows.iter().map(|(k, v)| format!("{k},{v}\n")))
        .collect();
    std::fs::write(&data, text).unwrap();
    let pipe = dir.path().join("avg.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema R {{ k: u64, v: u64 }}\nsource rows: R = csv({:?});\n\
             rows |> key_by(k) |> aggregate {{ mean: avg(v) }} |> sink stdout();\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let out = run_ok(&build(&pipe), &[]);
    assert_eq!(
        out,
        format!("k,mean\n1,4503599627370497.0\n2,{:?}\n", u64::MAX as f64)
    );
}
