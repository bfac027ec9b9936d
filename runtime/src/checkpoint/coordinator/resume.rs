//! Resuming from a checkpoint: the checks that it was written by this pipeline and a
//! number of workers that can take it over, then the job's fields and each source's
//! place restored from it.

use super::{operators, Checkpoints};
use crate::checkpoint::store::Manifest;
use crate::checkpoint::{Checkpointed, CutJob, StateIn};
use crate::parallel::WorkerSlot;
use crate::{InputSplit, JobError, JobSpec};

impl Checkpoints {
    /// Restores `job`'s fields from the checkpoint being resumed from, if any.
    pub fn restore_job(&mut self, job: &mut dyn CutJob) -> Result<(), JobError> {
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        if let Some(x) = job.exchange() {
            x.markers.request_with(self.due.clone());
        }
        let slot = a.slot;
        let Some((found, at)) = a.resume.as_mut() else {
            if let Some(savepoint) = &a.savepoint {
                savepoint.restore_job(a.spec, job, &a.config.dir.join("restoring"))?;
            }
            return Ok(());
        };
        if found.manifest.workers == slot.peers {
            let mut input = StateIn::mapped(&found.states[slot.index], 0);
            input.section("job", |i| job.load(i))?;
            *at = input.consumed();
            return Ok(());
        }
        // Written by another number of workers: every worker reads every worker's state.
        let to = crate::checkpoint::Rescale::new(slot.index, slot.peers);
        let mut parts: Vec<StateIn<'_>> =
            found.states.iter().map(|s| StateIn::mapped(s, 0)).collect();
        StateIn::sections(&mut parts, "job", |p| job.load_rescaled(p, &to))?;
        *at = parts[0].consumed();
        Ok(())
    }

    /// Restores `sources` (as [`take`](Self::take) lists them) from the checkpoint being
    /// resumed from, if any: each goes back to where it stood.
    pub fn restore_sources(
        &mut self,
        sources: &mut [&mut dyn Checkpointed],
    ) -> Result<(), JobError> {
        let Some(a) = self.active.as_mut() else {
            return Ok(());
        };
        if !a.slot.is_single() && a.stop.is_following() {
            return Err(JobError::Config(format!(
                "job `{}` follows a file on {} workers with checkpoints, which is not built \
                 yet: run it with --parallelism 1",
                a.spec.name, a.slot.peers
            )));
        }
        let Some((found, at)) = a.resume.take() else {
            if let Some(savepoint) = a.savepoint.take() {
                let mut input = savepoint.sources()?;
                for (i, s) in sources.iter_mut().enumerate() {
                    input.section(&format!("source {i}"), |r| s.load(r))?;
                }
                eprintln!(
                    "weir: job `{}` starts from savepoint {}",
                    a.spec.name,
                    savepoint.dir.display()
                );
                return a.publish();
            }
            return Ok(());
        };
        // On another number of workers, worker 0 reads every source (`check_workers`) and
        // goes on from where worker 0 stood; the others read nothing.
        let rescaled = found.manifest.workers != a.slot.peers;
        if rescaled && a.slot.index != 0 {
            return Ok(());
        }
        let mut input = StateIn::mapped(&found.states[a.slot.index], at);
        for (i, s) in sources.iter_mut().enumerate() {
            input.section(&format!("source {i}"), |r| s.load(r))?;
        }
        if !input.at_end() {
            return Err(JobError::CheckpointMismatch(
                "it holds more sources than this job reads".to_string(),
            ));
        }
        if a.slot.index == 0 {
            let on = if rescaled {
                format!(
                    " (written by {} worker(s), resumed on {})",
                    found.manifest.workers, a.slot.peers
                )
            } else {
                String::new()
            };
            eprintln!(
                "weir: job `{}` resumes from checkpoint {}{on}",
                a.spec.name,
                found.dir.display()
            );
        }
        a.publish()
    }
}

/// Refuses a checkpoint written by another number of workers than this run has, unless
/// its state can move: its keyed state does, by key group, but a source read in slices
/// (one per worker) stands at one place per slice, which another number of workers
/// cannot take over. A job whose sources worker 0 reads can.
pub(super) fn check_workers(
    manifest: &Manifest,
    spec: &JobSpec,
    slot: WorkerSlot,
) -> Result<(), JobError> {
    if manifest.workers == slot.peers || spec.inputs == InputSplit::WorkerZero {
        return Ok(());
    }
    Err(JobError::CheckpointMismatch(format!(
        "it was written by {} worker(s) and this run has {}: job `{}` reads its input in \
         slices, one per worker, so it resumes only on as many (give the --parallelism and \
         --processes it ran with)",
        manifest.workers, slot.peers, spec.name
    )))
}

/// Refuses a checkpoint written by another pipeline, naming what differs.
pub(super) fn check_pipeline(
    manifest: &Manifest,
    spec: &JobSpec,
    dir: &std::path::Path,
) -> Result<(), JobError> {
    if manifest.job == spec.name && manifest.pipeline == spec.pipeline {
        return Ok(());
    }
    let ours = operators(spec);
    let difference = if manifest.job != spec.name {
        format!("it is job `{}`'s, this is `{}`", manifest.job, spec.name)
    } else if manifest.operators != ours {
        format!(
            "its stateful operators are [{}], this job's are [{}]",
            manifest.operators.join(", "),
            ours.join(", ")
        )
    } else {
        "the pipeline was changed since it was written".to_string()
    };
    Err(JobError::CheckpointMismatch(format!(
        "{} was written by another pipeline: {difference}; remove it to start over",
        dir.display()
    )))
}
