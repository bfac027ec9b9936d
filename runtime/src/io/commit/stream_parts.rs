//! Outputs a commit cannot replace: standard output, and a device, named pipe or
//! descriptor written directly (`output_path`). Worker 0 of a parallel run writes such an
//! output itself; every other worker writes its part to a temporary file, copied to the
//! stream at commit in worker order. Were each worker to write the stream as it goes,
//! their buffers would interleave, and a pipe splits writes longer than `PIPE_BUF`
//! anywhere, tearing lines apart.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::super::abandoned::{owner_tag, STDOUT_PART_PREFIX};
use super::super::output_path::{output_path, OutputPath};
use super::{part_error, PartFile, Pending, PendingOutputs};
use crate::JobError;

/// A destination written as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stream {
    /// Standard output.
    Stdout,
    /// A device, named pipe or descriptor, by its path as given: another process of the
    /// run finds it again from there (`/dev/stderr` is each process's own).
    Direct(PathBuf),
}

impl Stream {
    fn name(&self) -> String {
        match self {
            Stream::Stdout => "<stdout>".to_string(),
            Stream::Direct(path) => path.display().to_string(),
        }
    }
}

impl PendingOutputs {
    /// Where this part writes `stream`: `None` for part 0, which writes it itself; for
    /// the others a temporary file copied out at commit.
    pub(super) fn stream_part(&self, stream: Stream) -> Result<Option<File>, JobError> {
        if self.part == 0 {
            return Ok(None);
        }
        if self.durable.is_some() {
            // A temporary part would not survive a kill, and a stream cannot hold a part
            // to be cut back.
            let what = match &stream {
                Stream::Stdout => "standard output".to_string(),
                Stream::Direct(path) => format!("{} (not a file)", path.display()),
            };
            return Err(JobError::Config(format!(
                "a job with checkpoints writes {what} on one worker only: write that sink \
                 to a file (--output NAME=PATH) or run it with --parallelism 1"
            )));
        }
        let (file, temp) = tempfile::Builder::new()
            .prefix(&format!("{STDOUT_PART_PREFIX}{}.", owner_tag()))
            .suffix(".weir-tmp")
            .tempfile()
            .map_err(|source| JobError::Io {
                action: "cannot create a part of an output in",
                path: std::env::temp_dir().display().to_string(),
                source,
            })?
            .into_parts();
        self.lock().push(Pending {
            temp: PartFile::Temp(temp),
            destination: super::Destination::Stream(stream),
            part: self.part,
        });
        Ok(Some(file))
    }

    /// Where this part writes the device, pipe or descriptor `target`: part 0 opens it
    /// (`output_path`); the others write a part copied out at commit, but for
    /// `/dev/null`, which every part writes (nothing there has an order).
    pub(super) fn direct(&self, target: &Path) -> Result<File, JobError> {
        let null = target
            .canonicalize()
            .is_ok_and(|p| p == Path::new("/dev/null"));
        if !null {
            if let Some(part) = self.stream_part(Stream::Direct(target.to_path_buf()))? {
                return Ok(part);
            }
        }
        match output_path(target)? {
            OutputPath::Direct(file) => {
                if self.parts > 1 && !null {
                    let kept = file.try_clone().map_err(|source| JobError::Io {
                        action: "cannot open output",
                        path: target.display().to_string(),
                        source,
                    })?;
                    let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
                    held.push((target.to_path_buf(), kept));
                }
                Ok(file)
            }
            // It became a file since it was looked at: written directly all the same.
            OutputPath::Replaced(path) => std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .map_err(|source| JobError::Io {
                    action: "cannot open output",
                    path: path.display().to_string(),
                    source,
                }),
        }
    }
}

/// Copies the parts of each stream to it, in worker order (`parts` is sorted by worker),
/// through the descriptor part 0 holds for it, if any (`held`).
pub(super) fn copy_to_streams(
    parts: &[(&Stream, &PartFile)],
    mut held: Vec<(PathBuf, File)>,
) -> Result<(), JobError> {
    let mut streams: Vec<&Stream> = Vec::new();
    for (stream, _) in parts {
        if !streams.contains(stream) {
            streams.push(stream);
        }
    }
    for stream in streams {
        let failed = |source: std::io::Error| match source.kind() {
            // Its reader went away (`| head`): the quiet end a sink's own write would have.
            std::io::ErrorKind::BrokenPipe => JobError::OutputClosed,
            _ => JobError::Io {
                action: "cannot write to",
                path: stream.name(),
                source,
            },
        };
        let mut out: Box<dyn std::io::Write> = match stream {
            Stream::Stdout => Box::new(std::io::stdout().lock()),
            Stream::Direct(path) => match held.iter().position(|(p, _)| p == path) {
                Some(i) => Box::new(held.swap_remove(i).1),
                None => match output_path(path)? {
                    OutputPath::Direct(file) => Box::new(file),
                    OutputPath::Replaced(_) => {
                        return Err(failed(std::io::Error::other(
                            "no longer a device, pipe or descriptor",
                        )))
                    }
                },
            },
        };
        for (_, part) in parts.iter().filter(|(s, _)| *s == stream) {
            let mut part_file =
                File::open(part).map_err(|source| part_error(part.as_ref(), source))?;
            std::io::copy(&mut part_file, &mut out).map_err(failed)?;
        }
        out.flush().map_err(failed)?;
    }
    Ok(())
}
