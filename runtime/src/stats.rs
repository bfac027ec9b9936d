//! The memory monitor's report at the end of a run: each stateful operator's records and
//! memory, the job's peak RSS, and tuning advice. `--stats` prints it as a table,
//! `--stats-json FILE` writes it as JSON (schema in `docs/stats.md`).

use serde::Serialize;

use crate::memory::format_bytes;

/// What one stateful operator did over the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorStats {
    /// The operator's kind, e.g. `aggregate`.
    pub operator: String,
    /// Where it is written, e.g. `wordcount.pipe:7:6`.
    pub location: String,
    /// Records it received.
    pub records_in: u64,
    /// Records it emitted (results, and late records sent to a side output).
    pub records_out: u64,
    /// Its share of `--memory`, in bytes.
    pub budget_bytes: u64,
    /// The most managed memory it held at once, in bytes.
    pub peak_bytes: u64,
    /// Managed memory it held at the end, in bytes.
    pub in_use_bytes: u64,
    /// The pool's page size: memory is held in whole pages.
    pub page_bytes: u64,
    /// The least budget the operator can run with.
    pub min_budget_bytes: u64,
    /// Times its state went to disk (0: it never spilled).
    pub spill_runs: u64,
    /// Bytes it wrote to spill files.
    pub spilled_bytes: u64,
    /// Bytes it read back from spill files.
    pub read_back_bytes: u64,
    /// Time spent spilling and merging spilled state back, in milliseconds.
    pub spill_ms: u64,
    /// For an operator that spilled: about the budget its state would have needed not to,
    /// in bytes.
    pub unspilled_need_bytes: Option<u64>,
}

impl OperatorStats {
    /// Adds another worker's share of the same operator: records, memory and spills are
    /// summed; the peak is the operator's over all its workers at once, which every share
    /// carries.
    pub fn add_share(&mut self, other: &OperatorStats) {
        self.budget_bytes += other.budget_bytes;
        // Each share carries the whole operator's peak (reached by all shares at once).
        self.peak_bytes = self.peak_bytes.max(other.peak_bytes);
        self.in_use_bytes += other.in_use_bytes;
        self.min_budget_bytes += other.min_budget_bytes;
        self.spill_runs += other.spill_runs;
        self.spilled_bytes += other.spilled_bytes;
        self.read_back_bytes += other.read_back_bytes;
        self.spill_ms += other.spill_ms;
        self.unspilled_need_bytes = match (self.unspilled_need_bytes, other.unspilled_need_bytes) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }
}

/// The whole run's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStats {
    /// The pipeline's name.
    pub job: String,
    /// Whether the run succeeded.
    pub succeeded: bool,
    /// Wall time of the run, in milliseconds.
    pub wall_ms: u64,
    /// `--memory`: the managed memory budget, in bytes.
    pub memory_bytes: u64,
    /// The most managed memory the job held at once, in bytes.
    pub managed_peak_bytes: u64,
    /// The process's peak resident set size, in bytes (`None` where the system does not
    /// say: only Linux's `/proc/self/status` is read).
    pub peak_rss_bytes: Option<u64>,
    /// Every stateful operator, in the order budgets are divided in.
    pub operators: Vec<OperatorStats>,
    /// What the run's checkpoints took, when it took them (`--checkpoint-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<crate::checkpoint::CheckpointStats>,
}

/// What `--stats-json` writes: the report and its advice lines.
#[derive(Debug, Serialize)]
pub struct StatsReport<'a> {
    /// The report.
    #[serde(flatten)]
    pub stats: &'a JobStats,
    /// Tuning advice, one sentence each (empty when none applies).
    pub advice: &'a [String],
}

/// An operator that used at most this share of its budget leaves memory idle.
const IDLE_SHARE: f64 = 0.10;
/// An operator that used at least this share of its budget is pressed for memory.
const PRESSED_SHARE: f64 = 0.75;
/// `--memory` is worth lowering when this much less would hold every operator's peak.
const LOWER_FACTOR: u64 = 4;
/// The headroom over the observed peaks a suggested `--memory` keeps.
const HEADROOM: f64 = 1.5;

impl OperatorStats {
    fn share(&self) -> f64 {
        if self.budget_bytes == 0 {
            return 1.0;
        }
        self.peak_bytes as f64 / self.budget_bytes as f64
    }

    fn name(&self) -> String {
        format!("{} at {}", self.operator, self.location)
    }
}

impl JobStats {
    /// The `--stats` table, one line per operator under a header.
    pub fn table(&self) -> Vec<String> {
        let width = self
            .operators
            .iter()
            .map(|o| o.name().len())
            .max()
            .unwrap_or(0)
            .max("operator".len());
        let mut lines = vec![format!(
            "{:<width$} {:>12} {:>12} {:>10} {:>10} {:>5} {:>10} {:>6}",
            "operator", "records in", "records out", "peak", "budget", "used", "spilled", "spills"
        )];
        for o in &self.operators {
            lines.push(format!(
                "{:<width$} {:>12} {:>12} {:>10} {:>10} {:>4.0}% {:>10} {:>6}",
                o.name(),
                o.records_in,
                o.records_out,
                format_bytes(o.peak_bytes),
                format_bytes(o.budget_bytes),
                o.share() * 100.0,
                if o.spill_runs == 0 {
                    "-".to_string()
                } else {
                    format_bytes(o.spilled_bytes)
                },
                o.spill_runs
            ));
        }
        let rss = self
            .peak_rss_bytes
            .map_or_else(|| "unknown".to_string(), format_bytes);
        lines.push(format!(
            "managed memory: peak {} of {}; peak RSS {rss}; {} ms",
            format_bytes(self.managed_peak_bytes),
            format_bytes(self.memory_bytes),
            self.wall_ms
        ));
        if let Some(c) = &self.checkpoints {
            lines.push(format!(
                "checkpoints: {} taken, {} failed; longest pause {} ms; last {}",
                c.taken,
                c.failed,
                c.longest_pause_ms,
                format_bytes(c.last_bytes)
            ));
        }
        lines
    }

    /// Tuning advice, when it applies: budget idle in one operator while another is
    /// pressed, or a `--memory` far above what the run needed.
    pub fn advice(&self) -> Vec<String> {
        if !self.succeeded {
            return Vec::new();
        }
        let mut advice: Vec<String> = self
            .operators
            .iter()
            .filter(|o| o.spill_runs > 0)
            .map(|o| self.spill_advice(o))
            .collect();
        let pressed = self
            .operators
            .iter()
            .filter(|o| o.share() >= PRESSED_SHARE)
            .max_by(|a, b| a.share().total_cmp(&b.share()));
        if let Some(p) = pressed {
            for idle in self.operators.iter().filter(|o| o.share() <= IDLE_SHARE) {
                advice.push(format!(
                    "advice: {} used {:.0}% of its budget ({} of {}); the budget could go to {}, which used {:.0}% of its own",
                    idle.name(),
                    idle.share() * 100.0,
                    format_bytes(idle.peak_bytes),
                    format_bytes(idle.budget_bytes),
                    p.name(),
                    p.share() * 100.0
                ));
            }
        }
        if let Some(enough) = self.enough_memory() {
            if enough.saturating_mul(LOWER_FACTOR) <= self.memory_bytes {
                advice.push(format!(
                    "advice: every operator stayed far inside its budget; --memory {}MB would have held this run's peaks with room to spare (it is {})",
                    enough >> 20,
                    format_bytes(self.memory_bytes)
                ));
            }
        }
        advice
    }

    /// What a spilling operator did, and a `--memory` that would have kept its state in
    /// memory: its share scales with `--memory`, so the job needs `need / share`.
    fn spill_advice(&self, o: &OperatorStats) -> String {
        let did = format!(
            "advice: {} spilled {} in {} run(s), {:.1} s of spilling and merging",
            o.name(),
            format_bytes(o.spilled_bytes),
            o.spill_runs,
            o.spill_ms as f64 / 1000.0
        );
        match o.unspilled_need_bytes {
            Some(need) if o.budget_bytes > 0 => {
                // The need is an estimate from the state's shape: a quarter more, so that
                // the amount named does hold it.
                let need = u128::from(need) * 5 / 4;
                let memory =
                    (u128::from(self.memory_bytes) * need).div_ceil(u128::from(o.budget_bytes));
                let mb = u64::try_from(memory.div_ceil(1 << 20)).unwrap_or(u64::MAX);
                format!("{did}; with --memory {mb}MB it would not have spilled")
            }
            _ => did,
        }
    }

    /// The smallest `--memory` (rounded up to a MiB, with headroom) under which every
    /// operator's share, divided as now, still holds its observed peak. Budgets scale
    /// with `--memory`, so the operator closest to its budget decides.
    fn enough_memory(&self) -> Option<u64> {
        let worst = self
            .operators
            .iter()
            .map(|o| {
                o.share()
                    .max(o.page_bytes as f64 / o.budget_bytes.max(1) as f64)
            })
            .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))))?;
        let bytes = (self.memory_bytes as f64 * worst * HEADROOM).ceil() as u64;
        // Every operator needs its minimum whatever it used.
        let least: u64 = self.operators.iter().map(|o| o.min_budget_bytes).sum();
        Some(bytes.max(least).max(1).next_multiple_of(1 << 20))
    }
}

/// The process's peak resident set size, from `/proc/self/status` (`VmHWM`).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(operator: &str, peak: u64, budget: u64) -> OperatorStats {
        OperatorStats {
            operator: operator.into(),
            location: "x.pipe:3:4".into(),
            records_in: 10,
            records_out: 2,
            budget_bytes: budget,
            peak_bytes: peak,
            in_use_bytes: 0,
            page_bytes: 32 << 10,
            min_budget_bytes: 9 * (32 << 10),
            spill_runs: 0,
            spilled_bytes: 0,
            read_back_bytes: 0,
            spill_ms: 0,
            unspilled_need_bytes: None,
        }
    }

    fn job(operators: Vec<OperatorStats>, memory: u64) -> JobStats {
        JobStats {
            checkpoints: None,
            job: "x".into(),
            succeeded: true,
            wall_ms: 5,
            memory_bytes: memory,
            managed_peak_bytes: operators.iter().map(|o| o.peak_bytes).sum(),
            peak_rss_bytes: Some(10 << 20),
            operators,
        }
    }

    #[test]
    fn idle_budget_beside_a_pressed_operator_is_named() {
        let stats = job(
            vec![
                op("window", 3 << 20, 100 << 20),
                op("aggregate", 95 << 20, 100 << 20),
            ],
            200 << 20,
        );
        let advice = stats.advice();
        assert_eq!(advice.len(), 1, "{advice:?}");
        assert!(advice[0].contains("window at x.pipe:3:4 used 3% of its budget"));
        assert!(advice[0].contains("aggregate at x.pipe:3:4, which used 95%"));
    }

    #[test]
    fn a_memory_far_above_the_peaks_is_pointed_out_with_an_amount_that_holds_them() {
        // Peaks of 1% and 2% of their budgets: 2% of 1 GiB with 1.5x headroom.
        let stats = job(
            vec![
                op("window", 5 << 20, 500 << 20),
                op("aggregate", 10 << 20, 500 << 20),
            ],
            1000 << 20,
        );
        let advice = stats.advice();
        assert_eq!(advice.len(), 1, "{advice:?}");
        assert!(advice[0].contains("--memory 30MB"), "{advice:?}");
        // 30 MiB divided as now gives each operator 15 MiB: above both peaks.
    }

    #[test]
    fn no_advice_for_a_well_sized_run_or_a_failed_one() {
        let stats = job(vec![op("aggregate", 60 << 20, 100 << 20)], 100 << 20);
        assert!(stats.advice().is_empty());
        let mut failed = job(
            vec![
                op("window", 0, 100 << 20),
                op("aggregate", 99 << 20, 100 << 20),
            ],
            200 << 20,
        );
        failed.succeeded = false;
        assert!(failed.advice().is_empty());
    }

    #[test]
    fn a_spilling_operator_is_told_the_memory_that_would_have_held_it() {
        // The aggregate had 8 MiB of 16 and needed about 360 MiB: with a quarter more, 450
        // MiB, 900 MiB of --memory gives it that.
        let mut aggregate = op("aggregate", 8 << 20, 8 << 20);
        aggregate.spill_runs = 14;
        aggregate.spilled_bytes = 1200 << 20;
        aggregate.spill_ms = 2500;
        aggregate.unspilled_need_bytes = Some(360 << 20);
        let stats = job(vec![aggregate, op("window", 8 << 20, 8 << 20)], 16 << 20);
        let advice = stats.advice();
        assert_eq!(advice.len(), 1, "{advice:?}");
        assert_eq!(
            advice[0],
            "advice: aggregate at x.pipe:3:4 spilled 1.2 GiB in 14 run(s), 2.5 s of spilling and merging; with --memory 900MB it would not have spilled"
        );
        assert!(stats.table()[1].contains("1.2 GiB"), "{:?}", stats.table());
    }

    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_bytes().is_some_and(|b| b > 0));
        }
    }
}
