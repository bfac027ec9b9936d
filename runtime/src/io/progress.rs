//! A progress line for long runs: records per second, bytes read of the total, ETA, the
//! managed memory in use against `--memory`, with the bytes spilled so far, and the
//! checkpoints taken (`--checkpoint-dir`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::checkpoint::CheckpointStats;
use crate::memory::{format_bytes, SegmentPool};

/// How many records pass between two progress updates; a power of two so the check is a
/// mask, and large enough that the update costs nothing per record.
const UPDATE_EVERY: u64 = 1 << 15;

/// The progress line of one source. Drawn on stderr only when stderr is a terminal, so logs
/// and pipes never see it.
#[derive(Debug)]
pub struct SourceProgress {
    bar: Option<ProgressBar>,
    pool: Option<Arc<SegmentPool>>,
    /// The run's checkpoint figures, when it takes checkpoints.
    checkpoints: Option<Arc<Mutex<CheckpointStats>>>,
    records: u64,
    started: Instant,
}

impl SourceProgress {
    /// A progress line for source `name` reading `total` bytes (unknown for stdin), drawn
    /// when `pool` is given: the job's memory, shown beside the rate.
    pub fn new(name: &str, total: Option<u64>, pool: Option<Arc<SegmentPool>>) -> Self {
        let bar = pool.is_some().then(|| {
            let bar = match total {
                Some(t) => ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr()),
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ETA {eta}"
            } else {
                "{prefix} {bytes} {msg}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(name.to_string());
            bar
        });
        SourceProgress {
            bar,
            pool,
            checkpoints: None,
            records: 0,
            started: Instant::now(),
        }
    }

    /// The same line, showing the checkpoints `stats` counts.
    pub(crate) fn with_checkpoints(self, stats: Option<Arc<Mutex<CheckpointStats>>>) -> Self {
        SourceProgress {
            checkpoints: stats,
            ..self
        }
    }

    /// Counts one record; every so often redraws with `consumed` bytes read.
    #[inline]
    pub fn record(&mut self, consumed: u64) {
        self.records += 1;
        if self.records & (UPDATE_EVERY - 1) == 0 {
            self.update(consumed);
        }
    }

    /// Records counted so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    #[cold]
    fn update(&self, consumed: u64) {
        if let Some(bar) = &self.bar {
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_position(consumed);
            let mut message = format!("{:.0} records/s", self.records as f64 / secs);
            if let Some(pool) = &self.pool {
                message.push_str(&format!(
                    ", memory {} of {}",
                    format_bytes(pool.in_use_bytes()),
                    format_bytes(pool.total_bytes())
                ));
                let spilled = pool.spilled_bytes();
                if spilled > 0 {
                    message.push_str(&format!(", spilled {}", format_bytes(spilled)));
                }
            }
            if let Some(stats) = &self.checkpoints {
                let c = *stats.lock().unwrap_or_else(|e| e.into_inner());
                message.push_str(&checkpoint_message(&c));
            }
            bar.set_message(message);
        }
    }

    /// Removes the line at the end of the input.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The checkpoints' part of the progress line.
fn checkpoint_message(c: &CheckpointStats) -> String {
    let mut message = format!(
        ", {} checkpoint(s), longest pause {} ms, last {}",
        c.taken,
        c.longest_pause_ms,
        format_bytes(c.last_bytes)
    );
    if c.failed > 0 {
        message.push_str(&format!(", {} failed", c.failed));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_checkpoints_and_failures() {
        let mut c = CheckpointStats {
            taken: 4,
            failed: 0,
            longest_pause_ms: 7,
            last_bytes: 2048,
            last_pause_ms: 3,
        };
        assert_eq!(
            checkpoint_message(&c),
            ", 4 checkpoint(s), longest pause 7 ms, last 2 KiB"
        );
        c.failed = 1;
        assert!(checkpoint_message(&c).ends_with(", 1 failed"));
    }
}
