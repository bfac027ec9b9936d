//! How `--memory` is shared out at start: the exchange buffers of a parallel run first,
//! then the stateful operators by weight, each operator's budget then split among the
//! workers. Every way it can fall short is found here, before any record is read, and
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
    /// What the exchange buffers leave is below the operators' minimums together.
    Operators {
        exchange: u64,
        left: u64,
        needed: u64,
    },
    /// One operator's budget, split among the workers, leaves each below its minimum.
    PerWorker { operator: usize, pages: u64 },
}

/// Each stateful operator's id and budget in pages (for all workers together), out of
/// `memory` run on `workers` workers.
fn plan(spec: &JobSpec, memory: u64, workers: usize) -> Result<Vec<(usize, u64)>, Shortfall> {
    let exchange = crate::parallel::exchange_memory(workers, spec.exchanges, spec.combined, memory);
    let left = memory
        .checked_sub(exchange)
        .ok_or(Shortfall::Exchange { exchange })?;
    let demands: Vec<MemoryDemand> = spec.operators.iter().map(|o| o.demand).collect();
    let pages =
        divide_memory(left, DEFAULT_PAGE_SIZE, &demands).map_err(|e| Shortfall::Operators {
            exchange,
            left,
            needed: e.needed,
        })?;
    let peers = workers.max(1) as u64;
    for (i, (op, &p)) in spec.operators.iter().zip(&pages).enumerate() {
        if p / peers < op.demand.min_pages {
            return Err(Shortfall::PerWorker {
                operator: i,
                pages: p,
            });
        }
    }
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
    let each = || {
        let needs: Vec<String> = spec
            .operators
            .iter()
            .map(|op| {
                format!(
                    "{} needs {}",
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
        Shortfall::PerWorker { operator, pages } => {
            let op = &spec.operators[operator];
            format!(
                "{} gets {} in all, {} per worker on {workers} workers, below the {} it needs on each",
                op.name,
                format_bytes(pages * page),
                format_bytes(pages / workers as u64 * page),
                format_bytes(op.demand.min_pages * page)
            )
        }
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

        // Enough for the operator in all, not for its share on each of two workers.
        let page = DEFAULT_PAGE_SIZE as u64;
        let per_worker = (0..64 * mb)
            .step_by(16 * 1024)
            .map(|m| (m, plan(&SPEC, m, 2)))
            .find(|(_, p)| matches!(p, Err(Shortfall::PerWorker { .. })));
        let (m, _) = per_worker.expect("some memory is short only per worker");
        let e = budgets(&SPEC, m, 2).unwrap_err().to_string();
        assert!(e.contains("per worker on 2 workers"), "{e}");
        assert!(e.contains(&format_bytes(6 * page)), "{e}");
        assert_eq!(budgets(&SPEC, 64 * mb, 2).unwrap()[0].0, 3);
    }
}
