//! Build times of large programs: how long weir's own code generation takes, and how long
//! the job's build takes with the runtime already cached (warm), for
//!
//! * a chain of 1,000 filters,
//! * a chain of 10,000 maps (code generation only, and a build),
//! * a fan-out of 400 filter + sink branches.
//!
//!   cargo bench --bench large_programs
//!
//! Target: 1,000 operators build in under 30 s warm.

mod common;

use std::time::Instant;

use common::{build_weir, data_dir, root};
use weir_compiler::codegen::generate;
use weir_compiler::SourceFile;

const HEADER: &str = "schema R { n: u64 }\nsource r: R = csv(\"in.csv\");\n";

fn chain(ops: usize, op: impl Fn(usize) -> String) -> String {
    let steps: String = (0..ops).map(|i| format!("  |> {}\n", op(i))).collect();
    format!("{HEADER}r\n{steps}  |> sink out = csv(\"out.csv\");\n")
}

fn fan_out(branches: usize) -> String {
    let lines: String = (0..branches)
        .map(|i| format!("r |> filter(n != {i}) |> sink s{i} = csv(\"out{i}.csv\");\n"))
        .collect();
    format!("{HEADER}{lines}")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let cases = [
        (
            "1000 chained filters",
            chain(1000, |i| format!("filter(n != {i})")),
        ),
        (
            "10000 chained maps",
            chain(10_000, |_| "map { n: n + 1 }".to_string()),
        ),
        ("400-branch fan-out", fan_out(400)),
    ];
    let cache = root().join("target/weir-cache");
    for (name, text) in cases {
        let file = SourceFile::new(format!("{name}.pipe"), text.clone());
        let started = Instant::now();
        let (plan, _) = weir_compiler::compile(&file).expect("the program checks");
        let job = generate(&plan);
        let codegen = started.elapsed();
        let pipe = data_dir().join(format!("{}.pipe", name.replace(' ', "_")));
        std::fs::write(&pipe, &text).unwrap();
        let (_, build) = build_weir(&pipe, &cache);
        println!(
            "{name:<22} {:>6} lines generated; check + codegen {:>6.2} s; warm build {:>7.1} s",
            job.source.lines().count(),
            codegen.as_secs_f64(),
            build.as_secs_f64()
        );
    }
}
