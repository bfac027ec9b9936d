//! A job's report: record counts, sink counts and report lines (summed over the workers of a
//! parallel run), the `--stats` table and the `--stats-json` file.

use serde::{Deserialize, Serialize};

use super::JobContext;
use crate::JobError;

/// A line of the report printed at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ReportLine {
    /// Said once, however many workers say it.
    Text(String),
    /// `before`, a count summed over workers, `after`, then the first worker's `detail`.
    Count {
        before: String,
        count: u64,
        after: String,
        detail: String,
    },
}

/// What one worker's run leaves for the job's report: its operators' record counts, what
/// its file sinks wrote, and its report lines. The workers of another process send theirs
/// to worker 0 at the end (`parallel::gather`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WorkerReport {
    records: Vec<(usize, u64, u64)>,
    sinks: Vec<SinkCount>,
    lines: Vec<ReportLine>,
}

/// What one sink wrote to one target, for the report's "wrote N records" line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SinkCount {
    name: String,
    target: String,
    records: u64,
    /// Written as it went (a device, pipe or descriptor): what a failed run wrote there
    /// is there, and a reader that went away ended the run quietly, so only a run that
    /// succeeded reports it.
    stream: bool,
}

impl super::driver::RecordCounts for JobContext {
    fn operator_records(&mut self, id: usize, records_in: u64, records_out: u64) {
        JobContext::operator_records(self, id, records_in, records_out);
    }
}

impl JobContext {
    /// What a worker's run left for the job's report: its operators' record counts, and its
    /// report lines (counts summed, other lines once).
    pub(crate) fn absorb(&mut self, mut worker: JobContext) {
        self.absorb_report(worker.take_report());
        // Every worker takes part in every checkpoint: the first one's figures are the run's.
        if self.checkpoint_stats.is_none() {
            self.checkpoint_stats = worker.checkpoint_stats.take();
        }
    }

    /// Takes this context's part of the report, leaving it empty.
    pub(crate) fn take_report(&mut self) -> WorkerReport {
        WorkerReport {
            records: std::mem::take(&mut self.records),
            sinks: std::mem::take(&mut self.sinks),
            lines: std::mem::take(&mut self.report),
        }
    }

    /// Adds a worker's part of the report to this one's: counts summed, other lines once.
    pub(crate) fn absorb_report(&mut self, worker: WorkerReport) {
        for (id, records_in, records_out) in worker.records {
            match self.records.iter_mut().find(|(r, _, _)| *r == id) {
                Some((_, i, o)) => {
                    *i += records_in;
                    *o += records_out;
                }
                None => self.records.push((id, records_in, records_out)),
            }
        }
        for sink in worker.sinks {
            self.report_sink(&sink.name, &sink.target, sink.records, sink.stream);
        }
        for line in worker.lines {
            match line {
                ReportLine::Text(text) => {
                    if !self.report.contains(&ReportLine::Text(text.clone())) {
                        self.report.push(ReportLine::Text(text));
                    }
                }
                ReportLine::Count {
                    before,
                    count,
                    after,
                    detail,
                } => self.report_count(&before, count, &after, &detail),
            }
        }
    }

    /// Records operator `id` received and emitted over the run, for the report.
    pub fn operator_records(&mut self, id: usize, records_in: u64, records_out: u64) {
        self.records.push((id, records_in, records_out));
    }

    /// The run's report so far: each stateful operator's records and memory, the job's
    /// peaks and wall time.
    pub fn stats(&self, succeeded: bool) -> crate::stats::JobStats {
        let usage = self.pool.usage();
        let registered = self
            .registered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut operators: Vec<(usize, crate::stats::OperatorStats)> = Vec::new();
        let each = usage.iter().zip(&registered).map(|(u, id)| {
            let (_, records_in, records_out) = self
                .records
                .iter()
                .find(|(r, _, _)| r == id)
                .copied()
                .unwrap_or((*id, 0, 0));
            crate::stats::OperatorStats {
                operator: u.name.clone(),
                location: u.location.clone(),
                records_in,
                records_out,
                budget_bytes: u.budget_bytes,
                peak_bytes: u.whole_peak_bytes,
                in_use_bytes: u.in_use_bytes,
                page_bytes: self.pool.page_size() as u64,
                spill_runs: u.spill_runs,
                spilled_bytes: u.spilled_bytes,
                read_back_bytes: u.read_back_bytes,
                spill_ms: u64::try_from(u.spill_time.as_millis()).unwrap_or(u64::MAX),
                unspilled_need_bytes: u.unspilled_need_bytes,
                min_budget_bytes: self
                    .mins
                    .iter()
                    .find(|(m, _)| m == id)
                    .map_or(0, |(_, pages)| pages * self.pool.page_size() as u64),
            }
        });
        // The workers of a parallel run each have a share of an operator: one line, summed.
        for (id, op) in registered.iter().zip(each) {
            match operators.iter_mut().find(|(i, _)| i == id) {
                Some((_, total)) => total.add_share(&op),
                None => operators.push((*id, op)),
            }
        }
        let operators = operators.into_iter().map(|(_, op)| op).collect();
        crate::stats::JobStats {
            job: self.name.to_string(),
            succeeded,
            wall_ms: self.started.elapsed().as_millis() as u64,
            memory_bytes: self.pool.total_bytes(),
            managed_peak_bytes: self.pool.peak_bytes(),
            peak_rss_bytes: crate::stats::peak_rss_bytes(),
            operators,
            checkpoints: self
                .checkpoint_stats
                .as_ref()
                .map(|c| *c.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// Adds `records` to what sink `name` wrote to `target` (a `stream`, or a file
    /// replaced at commit), for the report's "wrote N records" line.
    pub(crate) fn report_sink(&mut self, name: &str, target: &str, records: u64, stream: bool) {
        match self
            .sinks
            .iter_mut()
            .find(|s| s.name == name && s.target == target)
        {
            Some(s) => s.records += records,
            None => self.sinks.push(SinkCount {
                name: name.to_string(),
                target: target.to_string(),
                records,
                stream,
            }),
        }
    }

    /// Adds a line to the report printed on stderr at the end of the run.
    pub fn report(&mut self, line: String) {
        self.report.push(ReportLine::Text(line));
    }

    /// The report's lines as printed at the end: what operators and sources said, then
    /// what each file sink wrote (or, when the run `succeeded` not, what reached it: a
    /// failed run replaces no output).
    pub(crate) fn report_lines(&self, succeeded: bool) -> Vec<String> {
        let said = self.report.iter().map(|line| match line {
            ReportLine::Text(text) => text.clone(),
            ReportLine::Count {
                before,
                count,
                after,
                detail,
            } => format!("{before}{count}{after}{detail}"),
        });
        let sinks = self
            .sinks
            .iter()
            .filter(move |s| succeeded || !s.stream)
            .map(move |SinkCount { name, target, records, .. }| {
                if succeeded {
                    format!("sink `{name}`: wrote {records} record(s) to {target}")
                } else {
                    format!("sink `{name}`: {records} record(s) reached it before the run failed; {target} was not written")
                }
            });
        said.chain(sinks).collect()
    }

    /// Adds a counted line to the report: `before`, `count`, `after`, then `detail` (such
    /// as the first bad record). The workers of a parallel run each add theirs: the counts
    /// of one line are summed, and the first worker's detail is kept (worker order is
    /// input order where workers read slices).
    pub fn report_count(&mut self, before: &str, count: u64, after: &str, detail: &str) {
        for line in &mut self.report {
            if let ReportLine::Count {
                before: b,
                count: n,
                after: a,
                ..
            } = line
            {
                if b == before && a == after {
                    *n += count;
                    return;
                }
            }
        }
        self.report.push(ReportLine::Count {
            before: before.to_string(),
            count,
            after: after.to_string(),
            detail: detail.to_string(),
        });
    }

    /// Prints the report lines on stderr; with `--stats`, the operators' table and any
    /// advice; with `--stats-json`, writes the report of a failed run there (a successful
    /// run's is committed with its outputs: [`JobContext::finish`]).
    pub(crate) fn print_report(&self, succeeded: bool) -> Result<(), JobError> {
        for line in self.report_lines(succeeded) {
            eprintln!("{line}");
        }
        if !self.args.stats && self.args.stats_json.is_none() {
            return Ok(());
        }
        if self.args.stats {
            let stats = self.stats(succeeded);
            for line in stats.table().iter().chain(&stats.advice()) {
                eprintln!("{line}");
            }
        }
        // A successful run's report file was committed with its outputs.
        if let (false, Some(path)) = (succeeded, &self.args.stats_json) {
            let report = crate::io::PendingOutputs::default();
            report.stage(path, &self.stats_json(false)?)?;
            report.commit()?;
        }
        Ok(())
    }

    /// The `--stats-json` report of the run (schema in `docs/stats.md`).
    pub(crate) fn stats_json(&self, succeeded: bool) -> Result<Vec<u8>, JobError> {
        let stats = self.stats(succeeded);
        let report = crate::stats::StatsReport {
            stats: &stats,
            advice: &stats.advice(),
        };
        let json =
            serde_json::to_string_pretty(&report).map_err(|e| JobError::Config(e.to_string()))?;
        Ok((json + "\n").into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use crate::{JobArgs, JobContext, JobSpec};

    const SPEC: JobSpec = JobSpec::bare(&[], &[]);

    fn context() -> JobContext {
        JobContext::new(&SPEC, JobArgs::parse(Vec::<String>::new(), &SPEC).unwrap()).unwrap()
    }

    #[test]
    fn workers_counts_are_summed_and_the_first_detail_kept() {
        let mut job = context();
        let mut one = context();
        one.report_count("window at a{}.pipe:3:4: dropped ", 2, " late record(s)", "");
        one.report_count("source `s`: skipped ", 1, " bad record(s)", " (first: a:7)");
        one.report("said once".into());
        let mut two = context();
        two.report_count(
            "source `s`: skipped ",
            4,
            " bad record(s)",
            " (first: a:90)",
        );
        two.report_count("window at a{}.pipe:3:4: dropped ", 3, " late record(s)", "");
        two.report("said once".into());
        job.absorb(one);
        job.absorb(two);
        assert_eq!(
            job.report_lines(true),
            vec![
                "window at a{}.pipe:3:4: dropped 5 late record(s)",
                "source `s`: skipped 5 bad record(s) (first: a:7)",
                "said once",
            ]
        );
    }
}
