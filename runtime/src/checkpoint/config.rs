//! How a run takes checkpoints and savepoints: what `--checkpoint-dir` and the flags
//! beside it say (`job/args.rs` reads them).

use std::path::PathBuf;
use std::time::Duration;

/// Checkpoints that may fail in a row before the job stops, unless
/// `--checkpoint-failures` says otherwise.
pub const DEFAULT_MAX_FAILURES: u32 = 3;

/// Where and how often a job takes checkpoints (`--checkpoint-dir`,
/// `--checkpoint-interval`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointConfig {
    /// The directory that holds them.
    pub dir: PathBuf,
    /// The time between two.
    pub interval: Duration,
    /// Checkpoints that may fail in a row before the job stops (`--checkpoint-failures`).
    pub max_failures: u32,
    /// Where savepoints go and come from.
    pub savepoints: SavepointConfig,
}

/// The run's savepoints (`savepoint/`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavepointConfig {
    /// `--savepoint-dir`: where SIGUSR1 writes one.
    pub dir: Option<PathBuf>,
    /// `--savepoint-on-stop`: where a job stopped by a signal writes one.
    pub on_stop: Option<PathBuf>,
    /// `--from-savepoint`: the one the run starts from.
    pub from: Option<PathBuf>,
    /// `--allow-non-restored-state`: state of operators the job no longer has is left out
    /// (and listed) rather than refused.
    pub allow_non_restored: bool,
}

impl SavepointConfig {
    /// Sets the directory of flag `flag` (one of the three).
    pub(crate) fn set(&mut self, flag: &str, dir: PathBuf) {
        match flag {
            "--savepoint-dir" => self.dir = Some(dir),
            "--savepoint-on-stop" => self.on_stop = Some(dir),
            _ => self.from = Some(dir),
        }
    }

    /// Whether no savepoint flag was given.
    pub(crate) fn is_none(&self) -> bool {
        *self == SavepointConfig::default()
    }
}

impl CheckpointConfig {
    /// Checkpoints in `dir`, every second.
    pub fn new(dir: PathBuf) -> Self {
        CheckpointConfig {
            dir,
            interval: Duration::from_secs(1),
            max_failures: DEFAULT_MAX_FAILURES,
            savepoints: SavepointConfig::default(),
        }
    }
}
