//! What every sink offers besides writing its records: a commit point (what is written so
//! far, written out, and where the output then stands) and taking back what was written
//! after one, so a job that resumes from a checkpoint writes no record twice.
//!
//! A sink's records are typed by the pipeline (a CSV row written field by field, a JSON
//! object), so writing one is each sink's own method, called from generated code; this
//! trait is what the driver and checkpoints need of every sink alike.

use crate::JobError;

/// Where a sink's output stands at a commit point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SinkPosition {
    /// Records written before it.
    pub records: u64,
    /// Bytes of output before it.
    pub bytes: u64,
}

/// A sink as the driver and checkpoints see it.
pub trait Sink {
    /// Writes out everything written so far (fsynced with `sync`) and says where the
    /// output stands.
    fn commit_point(&mut self, sync: bool) -> Result<SinkPosition, JobError>;

    /// Takes back what was written after `point`, a commit point of this sink: the output
    /// is cut back there. Standard output, already read, cannot take anything back: an
    /// error says so.
    fn abort_to(&mut self, point: SinkPosition) -> Result<(), JobError>;
}

/// A sink in a checkpoint: its commit point, and on resuming, its output cut back there.
macro_rules! checkpointed_sink {
    ($($t:ty),*) => {$(
        impl crate::checkpoint::Checkpointed for $t {
            fn save(&mut self, out: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
                let point = Sink::commit_point(self, !out.defers_sync())?;
                out.u64(point.records);
                out.u64(point.bytes);
                Ok(())
            }

            fn load(&mut self, from: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
                let point = SinkPosition {
                    records: from.u64()?,
                    bytes: from.u64()?,
                };
                self.resume_at(point)
            }

            fn load_rescaled(
                &mut self,
                parts: &mut [crate::checkpoint::StateIn<'_>],
                to: &crate::checkpoint::Rescale,
            ) -> Result<(), JobError> {
                let mut points = Vec::with_capacity(parts.len());
                for part in parts {
                    points.push(SinkPosition {
                        records: part.u64()?,
                        bytes: part.u64()?,
                    });
                }
                self.resume_rescaled(&points, to)
            }
        }
    )*};
}

checkpointed_sink!(crate::io::CsvSink, crate::io::JsonlSink);
