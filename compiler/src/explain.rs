//! `weir explain`: the optimized plan as a table of operators, chains, state, budgets and
//! whether each stateful operator can spill.

use weir_runtime::memory::{divide_memory, format_bytes, MemoryDemand, DEFAULT_PAGE_SIZE};

use crate::ir::{Crossing, Exchange, KeySpec, Plan, StateKind};

/// The table for `plan` run with `memory` bytes on `workers` workers, or the reason the
/// memory is too small. On several workers the exchange buffers are set aside first, and
/// each operator's budget is split among the workers.
pub fn explain(plan: &Plan, memory: u64, workers: usize) -> Result<String, String> {
    let physical = plan.physical();
    let combined = physical.folded();
    let exchange_bytes = weir_runtime::parallel::exchange_memory(
        workers,
        physical.exchanges.len(),
        combined,
        memory,
    );
    let for_operators = memory.checked_sub(exchange_bytes).ok_or_else(|| {
        format!(
            "--memory {} is less than the {} the exchange buffers of {workers} workers take",
            format_bytes(memory),
            format_bytes(exchange_bytes)
        )
    })?;
    let stateful = plan.stateful_nodes();
    let demands: Vec<MemoryDemand> = stateful
        .iter()
        .map(|&n| {
            plan.graph[n]
                .memory
                .expect("the memory pass sizes every stateful node")
        })
        .collect();
    let budgets = divide_memory(for_operators, DEFAULT_PAGE_SIZE, &demands).map_err(|e| {
        if exchange_bytes == 0 {
            return e.to_string();
        }
        format!(
            "{e} (what is left of --memory {} after the {} of exchange buffers for {workers} workers)",
            format_bytes(memory),
            format_bytes(exchange_bytes)
        )
    })?;
    // Budgets by node id, as the running job looks them up.
    let budget_of = |n| {
        stateful
            .iter()
            .position(|&s| s == n)
            .map(|i| (budgets[i], demands[i].min_pages))
    };
    let mut rows: Vec<[String; 6]> = vec![[
        "operator".into(),
        "at".into(),
        "chain".into(),
        "state".into(),
        "budget".into(),
        "spills".into(),
    ]];
    let mut cannot_spill = Vec::new();
    for chain in &plan.chains {
        for &n in &chain.nodes {
            let node = &plan.graph[n];
            let budget = match budget_of(n) {
                Some((pages, min)) if workers > 1 => format!(
                    "{} ({pages} pages, min {min}; {} per worker)",
                    format_bytes(pages * DEFAULT_PAGE_SIZE as u64),
                    format_bytes(pages / workers as u64 * DEFAULT_PAGE_SIZE as u64),
                ),
                Some((pages, min)) => format!(
                    "{} ({pages} pages, min {min})",
                    format_bytes(pages * DEFAULT_PAGE_SIZE as u64),
                ),
                None => "-".into(),
            };
            let spills = match node.state {
                StateKind::Stateless => "-".to_string(),
                StateKind::Keyed => match node.op.def().spill(plan, n) {
                    Ok(()) => "yes".to_string(),
                    Err(why) => {
                        cannot_spill.push(format!("{} at {}: {why}", node.op, node.location));
                        "no".to_string()
                    }
                },
            };
            rows.push([
                node.op.to_string(),
                node.location.clone(),
                chain.id.to_string(),
                match node.state {
                    StateKind::Stateless => "stateless".into(),
                    StateKind::Keyed => "keyed".into(),
                },
                budget,
                spills,
            ]);
        }
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!(
        "plan `{}`: {} operators in {} chains, memory {} in pages of {}\n\n",
        plan.name,
        plan.graph.node_count(),
        plan.chains.len(),
        format_bytes(memory),
        format_bytes(DEFAULT_PAGE_SIZE as u64)
    );
    for (i, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    if workers > 1 {
        let combiners = if combined > 0 {
            format!(
                ", and {} per worker for each of {combined} combiner(s)",
                format_bytes(
                    weir_runtime::parallel::combiner_pages(memory, workers, combined)
                        * DEFAULT_PAGE_SIZE as u64
                )
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\nparallelism {workers}: {} exchange(s), exchange buffers {} ({workers} workers x {workers} streams x 2 buffers of {}{combiners}, set aside from --memory)\n",
            physical.exchanges.len(),
            format_bytes(exchange_bytes),
            format_bytes(weir_runtime::parallel::exchange_buffer(memory, workers) as u64)
));
        out.push_str(&format!("  inputs: {}\n", physical.inputs.describe()));
        for x in &physical.exchanges {
            out.push_str(&format!("  exchange {}\n", describe_exchange(plan, x)));
        }
    }
    if !cannot_spill.is_empty() {
        out.push_str("\nPast its budget, an operator that spills writes state to disk (--spill-dir) and\ngoes on; one that cannot stops with an error:\n");
        for line in cannot_spill {
            out.push_str(&format!("  {line}\n"));
        }
    }
    Ok(out)
}

/// One exchange for the table: `from at place -> to at place (by key, what crosses)`.
fn describe_exchange(plan: &Plan, x: &Exchange) -> String {
    let (from, to) = (&plan.graph[x.from], &plan.graph[x.to]);
    let schema = plan
        .input_schema(x.to, x.to_port)
        .expect("an exchange has a schema");
    let key: Vec<&str> = match &x.key {
        KeySpec::Fields(key) => key
            .iter()
            .map(|&k| schema.fields[k].name.as_str())
            .collect(),
        KeySpec::Rust(r) => vec![r.text.as_str()],
    };
    let crossing = match x.crossing {
        Crossing::Records => "",
        Crossing::Folded(_) => ", folded on the reading worker first",
        Crossing::TimeOrdered => {
            ", windows fired by the worker that read them, in time order: only those a \
             slice shares with the one before cross, at the end"
        }
    };
    format!(
        "{} at {} -> {} at {} (by {}{crossing})",
        from.op.kind(),
        from.location,
        to.op.kind(),
        to.location,
        key.join(", ")
    )
}
