//! The command line and the context of a job: flags, overrides and budgets.

use super::*;
use crate::memory::MemoryDemand;

const SPEC: JobSpec = JobSpec::bare(&["lines"], &["counts"]);

fn parse(args: &[&str]) -> Result<JobArgs, JobError> {
    JobArgs::parse(args.iter().map(|s| s.to_string()), &SPEC)
}

#[test]
fn checkpoint_flags_need_a_directory_and_sensible_values() {
    let a = parse(&[
        "--checkpoint-dir",
        "ck",
        "--checkpoint-interval",
        "250ms",
        "--checkpoint-failures",
        "5",
    ])
    .unwrap();
    let c = a.checkpoint.unwrap();
    assert_eq!(c.dir, std::path::PathBuf::from("ck"));
    assert_eq!(c.interval, std::time::Duration::from_millis(250));
    assert_eq!(c.max_failures, 5);
    let c = parse(&["--checkpoint-dir=ck"]).unwrap().checkpoint.unwrap();
    assert_eq!(
        (c.interval, c.max_failures),
        (
            std::time::Duration::from_secs(1),
            crate::checkpoint::DEFAULT_MAX_FAILURES
        )
    );
    for bad in [
        &["--checkpoint-interval", "1s"][..],
        &["--checkpoint-failures", "2"],
        &["--checkpoint-dir", "ck", "--checkpoint-interval", "0ms"],
        &["--checkpoint-dir", "ck", "--checkpoint-failures", "0"],
        &["--checkpoint-dir", ""],
    ] {
        let err = parse(bad).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{bad:?}: {err}");
    }
}

#[test]
fn an_empty_spill_dir_is_refused() {
    let err = parse(&["--spill-dir", ""]).unwrap_err().to_string();
    assert!(err.contains("--spill-dir needs a directory"), "{err}");
    let ok = parse(&["--spill-dir=/tmp/x"]).unwrap();
    assert_eq!(ok.spill_dir, Some(std::path::PathBuf::from("/tmp/x")));
}

#[test]
fn reads_overrides_and_memory() {
    let a = parse(&[
        "--memory",
        "1MB",
        "--input",
        "lines=x.txt",
        "--output=counts=-",
    ]);
    let a = a.unwrap();
    assert_eq!(a.memory, 1 << 20);
    assert_eq!(a.inputs, vec![("lines".into(), "x.txt".into())]);
    let ctx = JobContext::new(&SPEC, a).unwrap();
    assert_eq!(
        ctx.output("counts", OutputSpec::File("o".into())),
        OutputSpec::Stdout
    );
    assert_eq!(
        ctx.input("lines", InputSpec::Stdin),
        InputSpec::File("x.txt".into())
    );
}

#[test]
fn budgets_are_found_by_operator_id_and_an_unknown_id_is_an_error() {
    const KEYED: JobSpec = JobSpec {
        name: "k",
        operators: &[
            StatefulOperator {
                id: 7,
                name: "aggregate at k.pipe:3:4",
                demand: MemoryDemand {
                    weight: 1,
                    min_pages: 4,
                },
            },
            StatefulOperator {
                id: 2,
                name: "window at k.pipe:5:4",
                demand: MemoryDemand {
                    weight: 3,
                    min_pages: 4,
                },
            },
        ],
        ..JobSpec::bare(&[], &[])
    };
    let args = JobArgs::parse(["--memory".to_string(), "4MB".to_string()], &KEYED).unwrap();
    let mut ctx = JobContext::new(&KEYED, args).unwrap();
    let aggregate = ctx.operator_memory(7, "aggregate", "k.pipe:3:4").unwrap();
    let window = ctx.operator_memory(2, "window", "k.pipe:5:4").unwrap();
    // The window weighs three times the aggregate, whatever their order in the spec.
    assert_eq!(window.budget_bytes(), 3 * aggregate.budget_bytes());
    let e = ctx
        .operator_memory(3, "distinct", "k.pipe:9:4")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("operator 3") && e.contains("no memory budget"),
        "{e}"
    );
}

#[test]
fn unknown_names_are_refused() {
    let e = parse(&["--input", "nope=x"]).unwrap_err().to_string();
    assert!(e.contains("no source named `nope`"), "{e}");
    assert!(parse(&["--frobnicate"]).is_err());
    assert!(parse(&["--memory"]).is_err());
}
