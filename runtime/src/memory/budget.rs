//! Dividing a job's memory among its stateful operators.
//!
//! The compiler's memory pass states what each operator wants (a weight and a minimum); this
//! function turns that into page budgets for a given `--memory`. It lives in the runtime so
//! that `weir explain` and a running job divide memory by the same rule.

/// What one stateful operator asks of the job's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoryDemand {
    /// Relative share: an operator of weight 2 gets twice the memory of one of weight 1.
    pub weight: u32,
    /// Pages below which the operator cannot work at all.
    pub min_pages: u64,
}

/// The memory given is smaller than the operators' minimums added up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--memory {} is too small: the stateful operators need at least {} together", super::format_bytes(*.given), super::format_bytes(*.needed))]
pub struct MemoryPlanError {
    /// Bytes given.
    pub given: u64,
    /// The smallest total that satisfies every minimum.
    pub needed: u64,
}

/// Divides `total` bytes into whole pages among `demands`, by weight, with every operator
/// given at least its minimum. Returns each operator's budget in pages, in input order.
///
/// Operators whose proportional share falls below their minimum get the minimum, and the
/// rest is shared again among the others by weight, until every share is stable.
pub fn divide_memory(
    total: u64,
    page_size: usize,
    demands: &[MemoryDemand],
) -> Result<Vec<u64>, MemoryPlanError> {
    let pages = total / page_size as u64;
    let min_sum: u64 = demands.iter().map(|d| d.min_pages).sum();
    if min_sum > pages {
        return Err(MemoryPlanError {
            given: total,
            needed: min_sum * page_size as u64,
        });
    }
    let mut budget = vec![0u64; demands.len()];
    let mut fixed = vec![false; demands.len()];
    loop {
        let fixed_pages: u64 = (0..demands.len())
            .filter(|&i| fixed[i])
            .map(|i| budget[i])
            .sum();
        let free = pages - fixed_pages;
        let weight: u64 = (0..demands.len())
            .filter(|&i| !fixed[i])
            .map(|i| u64::from(demands[i].weight.max(1)))
            .sum();
        let mut changed = false;
        for (i, d) in demands.iter().enumerate() {
            if fixed[i] {
                continue;
            }
            let share = free * u64::from(d.weight.max(1)) / weight.max(1);
            if share < d.min_pages {
                budget[i] = d.min_pages;
                fixed[i] = true;
                changed = true;
            } else {
                budget[i] = share;
            }
        }
        if !changed {
            return Ok(budget);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(weight: u32, min_pages: u64) -> MemoryDemand {
        MemoryDemand { weight, min_pages }
    }

    #[test]
    fn shares_by_weight() {
        let b = divide_memory(100 * 1024, 1024, &[d(1, 1), d(3, 1)]).unwrap();
        assert_eq!(b, vec![25, 75]);
    }

    #[test]
    fn minimums_are_honoured_and_the_rest_reshared() {
        let b = divide_memory(10 * 1024, 1024, &[d(1, 6), d(1, 1), d(1, 1)]).unwrap();
        assert_eq!(b, vec![6, 2, 2]);
    }

    #[test]
    fn too_little_memory_is_an_error() {
        let e = divide_memory(3 * 1024, 1024, &[d(1, 2), d(1, 2)]).unwrap_err();
        assert_eq!(e.needed, 4 * 1024);
    }

    #[test]
    fn never_hands_out_more_than_given() {
        for total in [8u64, 9, 17, 33, 100] {
            let b = divide_memory(total * 1024, 1024, &[d(1, 2), d(5, 1), d(2, 3)]).unwrap();
            assert!(b.iter().sum::<u64>() <= total, "{total}: {b:?}");
        }
    }
}
