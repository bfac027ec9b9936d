//! How `--memory` is shared out at start: the exchange buffers of a parallel run first,
//! then the stateful operators by weight (each getting at least its minimum on every
//! worker), each operator's budget then split among the workers. Every way it can fall short is found here, before any record is read, and
//! said in the user's terms: the memory they gave (or the default), what took it, what is
//! short, and the least `--memory` that runs the job.

use crate::memory::{
    divide_memory, format_bytes, format_bytes_arg, MemoryDemand, DEFAULT_MEMORY, DEFAULT_PAGE_SIZE,
};
use crate::JobError;

use super::JobSpec;

/// Where a plan of `memory` falls short.
enum Shortfall {
    /// The exchange buffers alone take more than `memory`.
    Exchange { exchange: u64 },
    /// What the exchange buffers leave is below the operators' minimums together (on
    /// every worker).
    Operators {
        exchange: u64,
        left: u64,
        needed: u64,
    },
}

/// Each stateful operator's id and budget in pages (for all workers together), out of
/// `memory` run on `workers` workers.
fn plan(spec: &JobSpec, memory: u64, workers: usize) -> Result<Vec<(usize, u64)>, Shortfall> {
    let exchange = crate::parallel::exchange_memory(workers, spec.exchanges, spec.combined, memory);
    let left = memory
        .checked_sub(exchange)
        .ok_or(Shortfall::Exchange { exchange })?;
    // An operator's budget is split among the workers: its minimum is on each.
    let peers = workers.max(1) as u64;
    let demands: Vec<MemoryDemand> = spec
        .operators
        .iter()
        .map(|o| MemoryDemand {
            min_pages: o.demand.min_pages * peers,
            ..o.demand
        })
        .collect();
    let pages =
        divide_memory(left, DEFAULT_PAGE_SIZE, &demands).map_err(|e| Shortfall::Operators {
            exchange,
            left,
            needed: e.needed,
        })?;
    Ok(spec.operators.iter().map(|o| o.id).zip(pages).collect())
}

/// The least `--memory`, to a kibibyte, that runs `spec` on `workers` workers.
fn least_memory(spec: &JobSpec, workers: usize) -> u64 {
    let fits = |m: u64| plan(spec, m, workers).is_ok();
    let mut high = DEFAULT_PAGE_SIZE as u64;
    while !fits(high) {
        if high > 1 << 50 {
            return high;
        }
        high *= 2;
    }
    let mut low = high / 2;
    while high - low > 1024 {
        let mid = low + (high - low) / 2;
        if fits(mid) {
            high = mid;
        } else {
            low = mid;
        }
    }
    high.div_ceil(1024) * 1024
}

/// Each stateful operator's id and budget in pages, or an error (exit 2) saying what is
/// short and the least `--memory` that runs the job.
pub(super) fn budgets(
    spec: &JobSpec,
    memory: u64,
    workers: usize,
) -> Result<Vec<(usize, u64)>, JobError> {
    let shortfall = match plan(spec, memory, workers) {
        Ok(budgets) => return Ok(budgets),
        Err(s) => s,
    };
    let given = format!(
        "--memory {}{}",
        format_bytes(memory),
        if memory == DEFAULT_MEMORY {
            " (the default)"
        } else {
            ""
        }
    );
    let page = DEFAULT_PAGE_SIZE as u64;
    let on_each = if workers > 1 { " on each worker" } else { "" };
    let each = || {
        let needs: Vec<String> = spec
            .operators
            .iter()
            .map(|op| {
                format!(
                    "{} needs {}{on_each}",
                    op.name,
                    format_bytes(op.demand.min_pages * page)
                )
            })
            .collect();
        needs.join("; ")
    };
    let why = match shortfall {
        Shortfall::Exchange { exchange } => format!(
            "the exchange buffers of {workers} workers alone take {}",
            format_bytes(exchange)
        ),
        Shortfall::Operators {
            exchange: 0,
            needed,
            ..
        } => format!(
            "the stateful operators need at least {} together ({})",
            format_bytes(needed),
            each()
        ),
        Shortfall::Operators {
            exchange,
            left,
            needed,
        } => format!(
            "after the {} of exchange buffers of {workers} workers, {} is left for the stateful operators, which need at least {} together ({})",
            format_bytes(exchange),
            format_bytes(left),
            format_bytes(needed),
            each()
        ),
    };
    let fewer = if workers > 1 {
        ", or fewer workers"
    } else {
        ""
    };
    Err(JobError::Config(format!(
        "{given} is too small: {why}; give --memory {} or more{fewer}",
        format_bytes_arg(least_memory(spec, workers))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::StatefulOperator;

    const SPEC: JobSpec = JobSpec {
        name: "k",
        operators: &[StatefulOperator {
            id: 3,
            name: "aggregate at k.pipe:3:4",
            demand: MemoryDemand {
                weight: 1,
                min_pages: 6,
            },
        }],
        exchanges: 1,
        ..JobSpec::bare(&[], &[])
    };

    #[test]
    fn each_shortfall_names_what_took_the_memory_and_the_least_that_runs() {
        let mb = 1 << 20;
        let e = budgets(&SPEC, DEFAULT_MEMORY, 64).unwrap_err().to_string();
        assert!(
            e.contains("--memory 256 MiB (the default) is too small"),
            "{e}"
        );
        assert!(e.contains("exchange buffers of 64 workers"), "{e}");
        let least = least_memory(&SPEC, 64);
        assert!(budgets(&SPEC, least, 64).is_ok());
        assert!(budgets(&SPEC, least - 1024, 64).is_err());
        assert!(
            e.contains(&format!(
                "give --memory {} or more",
                format_bytes_arg(least)
            )),
            "{e}"
        );

        let e = budgets(&SPEC, mb / 8, 1).unwrap_err().to_string();
        assert!(e.contains("the stateful operators need at least"), "{e}");
        assert!(!e.contains("fewer workers"), "{e}");

        // On two workers the operator needs its minimum on each.
        let page = DEFAULT_PAGE_SIZE as u64;
        let least = least_memory(&SPEC, 2);
        let e = budgets(&SPEC, least - 1024, 2).unwrap_err().to_string();
        assert!(
            e.contains(&format!("needs {} on each worker", format_bytes(6 * page))),
            "{e}"
        );
        assert!(e.contains("fewer workers"), "{e}");
        let budget = budgets(&SPEC, least, 2).unwrap();
        assert_eq!(budget[0].0, 3);
        assert!(budget[0].1 >= 2 * 6, "{budget:?}");
        assert_eq!(budgets(&SPEC, 64 * mb, 2).unwrap()[0].0, 3);
    }

    /// A light operator whose share by weight would leave it below its minimum on each
    /// worker gets its minimum there, the rest going to the others: the least memory on
    /// two workers is about twice the least on one, not what weights alone would ask.
    #[test]
    fn each_operator_gets_its_minimum_on_every_worker() {
        const TWO: JobSpec = JobSpec {
            name: "k",
            operators: &[
                StatefulOperator {
                    id: 1,
                    name: "window at k.pipe:2:4",
                    demand: MemoryDemand {
                        weight: 8,
                        min_pages: 4,
                    },
                },
                StatefulOperator {
                    id: 2,
                    name: "aggregate at k.pipe:3:4",
                    demand: MemoryDemand {
                        weight: 1,
                        min_pages: 20,
                    },
                },
            ],
            exchanges: 1,
            ..JobSpec::bare(&[], &[])
        };
        let (one, two) = (least_memory(&TWO, 1), least_memory(&TWO, 2));
        let exchange = crate::parallel::exchange_memory(2, 1, TWO.combined, two);
        assert!(two <= 2 * one + exchange + 2048, "one {one}, two {two}");
        let budget = budgets(&TWO, two, 2).unwrap();
        assert!(budget[1].1 >= 2 * 20, "{budget:?}");
        assert!(budget[0].1 >= 2 * 4, "{budget:?}");
    }
}
