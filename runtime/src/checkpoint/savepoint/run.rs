//! What a run does with savepoints: writes one when asked (SIGUSR1, or a stop), starts
//! from one (`--from-savepoint`), and knows where its sinks' parts are (a savepoint copies
//! what they committed, and seeds them when a run starts from it).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::checkpoint::config::CheckpointConfig;
use crate::checkpoint::coordinator::Active;
use crate::checkpoint::{Checkpointed, CutJob};
use crate::parallel::WorkerSlot;
use crate::{JobContext, JobError, JobSpec};

impl Active {
    /// Writes a savepoint of `job` and `sources` into a new folder in `dir`, if given (the
    /// flag that asks for it): a failure is reported and the job goes on.
    pub(in crate::checkpoint) fn write_savepoint(
        &mut self,
        job: &mut dyn CutJob,
        sources: &mut [&mut dyn Checkpointed],
        dir: Option<PathBuf>,
    ) -> Result<(), JobError> {
        let Some(dir) = dir else {
            return Ok(());
        };
        if !self.slot.is_single() {
            eprintln!("warning: {}", savepoints_on_one_worker(self.slot));
            return Ok(());
        }
        match super::write(&dir, self.spec, job, sources, &self.sink_parts) {
            Ok(at) => eprintln!(
                "weir: job `{}` wrote savepoint {}",
                self.spec.name,
                at.display()
            ),
            Err(e) => eprintln!(
                "warning: job `{}` could not write a savepoint: {e}",
                self.spec.name
            ),
        }
        Ok(())
    }
}

/// Where each of the job's file sinks keeps its part on one worker, after `--output`.
pub(in crate::checkpoint) fn sink_parts(ctx: &JobContext, spec: &JobSpec) -> super::SinkParts {
    spec.files
        .iter()
        .filter(|f| f.role == crate::io::FileRole::Output)
        .filter_map(|f| {
            let default = f.path.map_or(crate::io::OutputSpec::Stdout, |p| {
                crate::io::OutputSpec::File(p.to_string())
            });
            match ctx.output(f.name, default) {
                crate::io::OutputSpec::File(p) => {
                    let target = std::path::Path::new(&p);
                    // A device or pipe is written directly: it has no part.
                    let special = std::fs::metadata(target).is_ok_and(|m| !m.is_file());
                    (!special).then(|| {
                        (
                            f.name.to_string(),
                            crate::io::commit::part_path(target, 0, 1),
                        )
                    })
                }
                crate::io::OutputSpec::Stdout => None,
            }
        })
        .collect()
}

/// The savepoint a run with no checkpoint to resume from starts from: read, checked against
/// the job (what it leaves out listed), and its outputs made the sinks' parts.
pub(in crate::checkpoint) fn start_from_savepoint(
    from: &std::path::Path,
    config: &CheckpointConfig,
    spec: &JobSpec,
    slot: WorkerSlot,
    sink_parts: &super::SinkParts,
) -> Result<super::Loaded, JobError> {
    if !slot.is_single() {
        return Err(savepoints_on_one_worker(slot));
    }
    let loaded = super::read(from)?;
    let left = loaded.check(spec, config.savepoints.allow_non_restored)?;
    for part in left {
        eprintln!(
            "warning: state left out of savepoint {}: {part}",
            loaded.dir.display()
        );
    }
    loaded.seed_parts(sink_parts)?;
    Ok(loaded)
}

fn savepoints_on_one_worker(slot: WorkerSlot) -> JobError {
    JobError::Config(format!(
        "savepoints are taken and restored on one worker for now, and this run has {}: \
         drop --parallelism and --processes",
        slot.peers
    ))
}

/// The flag SIGUSR1 raises (with `due`, so the reading loop looks at once) in a run that
/// takes checkpoints: a savepoint into `--savepoint-dir`, or, without one, a warning (the
/// signal's default, ending the job, would lose what it has not committed).
pub(in crate::checkpoint) fn savepoint_signal(
    config: &CheckpointConfig,
    slot: WorkerSlot,
    due: &Arc<AtomicBool>,
    owns_process: bool,
) -> Result<Arc<AtomicBool>, JobError> {
    let requested = Arc::new(AtomicBool::new(false));
    let asked = config.savepoints.dir.is_some() || config.savepoints.on_stop.is_some();
    if asked && !slot.is_single() {
        return Err(savepoints_on_one_worker(slot));
    }
    // An inline job leaves the program's SIGUSR1 alone unless it was given a savepoint
    // directory to write into.
    if slot.index == 0 && (owns_process || config.savepoints.dir.is_some()) {
        let register = |flag: &Arc<AtomicBool>| {
            signal_hook::flag::register(signal_hook::consts::SIGUSR1, flag.clone())
                .map_err(|e| JobError::Config(format!("cannot take SIGUSR1 for savepoints: {e}")))
        };
        register(&requested)?;
        register(due)?;
    }
    Ok(requested)
}
