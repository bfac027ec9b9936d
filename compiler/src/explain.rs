//! `weir explain`: the optimized plan as a table of operators, chains, state, budgets and
//! whether each stateful operator can spill.

use weir_runtime::memory::{divide_memory, format_bytes, MemoryDemand, DEFAULT_PAGE_SIZE};

use crate::ir::{Crossing, Exchange, KeySpec, Plan, StateKind};

/// One operator's row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    /// What it does, as written.
    pub operator: String,
    /// `file:line:col`.
    pub location: String,
    /// The chain it runs in.
    pub chain: usize,
    /// `stateless`, `keyed` or `iteration`.
    pub state: &'static str,
    /// Its share of the memory, or `-`.
    pub budget: String,
    /// `yes`, `no` or `-` (stateless).
    pub spills: &'static str,
}

/// The physical plan, its combined exchanges, and the bytes of `memory` the exchange
/// buffers of `workers` workers take first.
fn exchange_share(
    plan: &Plan,
    memory: u64,
    workers: usize,
) -> (&crate::ir::PhysicalPlan, usize, u64) {
    let physical = plan.physical();
    let combined = physical.folded();
    let exchange_bytes = weir_runtime::parallel::exchange_memory(
        workers,
        physical.exchanges.len(),
        combined,
        memory,
    );
    (physical, combined, exchange_bytes)
}

/// Every operator of `plan` run with `memory` bytes on `workers` workers, chain by chain,
/// with the reasons of those that cannot spill; or the reason the memory is too small.
pub fn operator_rows(
    plan: &Plan,
    memory: u64,
    workers: usize,
) -> Result<(Vec<OperatorRow>, Vec<String>), String> {
    let (_, _, exchange_bytes) = exchange_share(plan, memory, workers);
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
    let mut rows = Vec::new();
    let mut cannot_spill = Vec::new();
    for chain in &plan.chains {
        for &n in &chain.nodes {
            let node = &plan.graph[n];
            let budget = match budget_of(n) {
                Some((pages, min)) if workers > 1 => format!(
                    "{} ({} a worker; min {min} pages)",
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
                StateKind::Stateless => "-",
                StateKind::Keyed | StateKind::Iteration => match node.op.def().spill(plan, n) {
                    Ok(()) => "yes",
                    Err(why) => {
                        cannot_spill.push(format!("{} at {}: {why}", node.op, node.location));
                        "no"
                    }
                },
            };
            rows.push(OperatorRow {
                operator: node.op.to_string(),
                location: node.location.clone(),
                chain: chain.id,
                state: node.state.name(),
                budget,
                spills,
            });
        }
    }
    Ok((rows, cannot_spill))
}

/// The table for `plan` run with `memory` bytes on `workers` workers, or the reason the
/// memory is too small. On several workers the exchange buffers are set aside first, and
/// each operator's budget is split among the workers.
pub fn explain(plan: &Plan, memory: u64, workers: usize) -> Result<String, String> {
    let (operators, cannot_spill) = operator_rows(plan, memory, workers)?;
    let (physical, combined, exchange_bytes) = exchange_share(plan, memory, workers);
    let mut rows: Vec<[String; 6]> = vec![[
        "operator".into(),
        "at".into(),
        "chain".into(),
        "state".into(),
        "budget".into(),
        "spills".into(),
    ]];
    rows.extend(operators.into_iter().map(|r| {
        [
            r.operator,
            r.location,
            r.chain.to_string(),
            r.state.into(),
            r.budget,
            r.spills.into(),
        ]
    }));
    // Every operator of a `.pipe` file is in that file: its name goes in the heading, and
    // each row says only the line and column.
    let file = common_file(rows[1..].iter().map(|r| r[1].as_str()));
    if let Some(file) = &file {
        for r in &mut rows[1..] {
            r[1] = r[1][file.len() + 1..].to_string();
        }
    }
    let heading = format!(
        "plan `{}`{}: {} operators in {} chains, memory {} in pages of {}",
        plan.name,
        file.as_ref().map(|f| format!(" ({f})")).unwrap_or_default(),
        plan.graph.node_count(),
        plan.chains.len(),
        format_bytes(memory),
        format_bytes(DEFAULT_PAGE_SIZE as u64)
    );
    let mut out = String::new();
    push_wrapped(&mut out, "", &heading);
    out.push('\n');
    out.push_str(&table(&rows));
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
        out.push('\n');
        push_wrapped(
            &mut out,
            "",
            &format!(
                "parallelism {workers}: {} exchange(s), exchange buffers {} ({workers} workers x {workers} streams x 2 buffers of {}{combiners}, set aside from --memory)",
                physical.exchanges.len(),
                format_bytes(exchange_bytes),
                format_bytes(weir_runtime::parallel::exchange_buffer(memory, workers) as u64)
            ),
        );
        push_wrapped(
            &mut out,
            "  ",
            &format!("inputs: {}", physical.inputs.describe()),
        );
        for x in &physical.exchanges {
            let line = format!("exchange {}", describe_exchange(plan, x));
            let line = match &file {
                Some(f) => line.replace(&format!("{f}:"), ""),
                None => line,
            };
            push_wrapped(&mut out, "  ", &line);
        }
    }
    if !cannot_spill.is_empty() {
        out.push('\n');
        push_wrapped(&mut out, "", "Past its budget, an operator that spills writes state to disk (--spill-dir) and goes on; one that cannot stops with an error:");
        for line in cannot_spill {
            push_wrapped(&mut out, "  ", &line);
        }
    }
    Ok(out)
}

/// The widest a line of `weir explain` is.
const WIDTH: usize = 120;

/// The file every location of `locations` (`file:line:col`) is in, if they share one.
fn common_file<'a>(mut locations: impl Iterator<Item = &'a str>) -> Option<String> {
    let file_of = |l: &'a str| l.rsplitn(3, ':').nth(2);
    let first = file_of(locations.next()?)?;
    locations
        .all(|l| file_of(l) == Some(first))
        .then(|| first.to_string())
}

/// `rows` (the first the heading) as a table within [`WIDTH`] columns: the first column
/// (the operator) gets what the others leave, and wraps onto lines of its own below.
fn table(rows: &[[String; 6]]) -> String {
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let others: usize = widths[1..].iter().sum::<usize>() + 2 * 5;
    let first = widths[0].min(WIDTH.saturating_sub(others + 2).max(30));
    let widths: Vec<usize> = std::iter::once(first)
        .chain(widths[1..].iter().copied())
        .collect();
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let lines = wrap(&r[0], first);
        for (j, text) in lines.iter().enumerate() {
            let cells: Vec<String> = std::iter::once(text.as_str())
                .chain(r[1..].iter().map(|c| if j == 0 { c.as_str() } else { "" }))
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

/// Appends `text` after `indent`, wrapped within [`WIDTH`] columns.
fn push_wrapped(out: &mut String, indent: &str, text: &str) {
    for line in wrap(text, WIDTH - indent.len()) {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
}

/// `text` in lines of at most `width` characters, broken after a space where it can be
/// (else after a comma, slash or bracket; a longer word is cut); lines after the first are
/// indented by two.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    let mut indent = "";
    while !rest.is_empty() {
        let room = width.saturating_sub(indent.len()).max(10);
        if rest.len() <= room {
            lines.push(format!("{indent}{}", rest.iter().collect::<String>()));
            break;
        }
        let cut = (1..=room)
            .rev()
            .find(|&i| rest[i - 1] == ' ')
            .or_else(|| {
                (1..=room)
                    .rev()
                    .find(|&i| matches!(rest[i - 1], ',' | '/' | '('))
            })
            .unwrap_or(room);
        let line: String = rest[..cut].iter().collect();
        lines.push(format!("{indent}{}", line.trim_end()));
        rest.drain(..cut);
        while rest.first() == Some(&' ') {
            rest.remove(0);
        }
        indent = "  ";
    }
    lines
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
