//! The one commit step of a job's outputs: each file a job writes is a temporary file beside
//! its target until the whole job has succeeded, then put in its place (`replace`). A job that
//! fails, or is interrupted, removes its temporary files and leaves every earlier result
//! intact.
//!
//! A job that takes checkpoints writes each file instead to a part beside its target
//! with a name that does not change from run to run (`.NAME.weir-part`), which a failed or
//! killed run leaves in place: the run that resumes from the last checkpoint cuts it back
//! to what that checkpoint committed and writes on ([`PendingOutputs::durable`]).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::abandoned::owner_tag;
use super::output_path::output_kind;
use super::replace::{replace_all, FileSystemSwaps, Replacing};
use crate::JobError;
use stream_parts::{copy_to_streams, Stream};

/// Outputs written but not yet committed. Shared with the job's signal handler, which
/// discards them when the job is interrupted.
///
/// In a parallel run each worker writes its own part of every output ([`part`](Self::part)):
/// at commit the parts of a file are joined in worker order into part 0's file, which is
/// then renamed over the target; the parts of a stream (standard output, a device, pipe
/// or descriptor) after the first, which worker 0 writes itself, are copied to it in
/// worker order (`stream_parts`).
#[derive(Debug, Default, Clone)]
pub struct PendingOutputs {
    files: std::sync::Arc<Mutex<Vec<Pending>>>,
    part: usize,
    /// The parts of each output: the run's workers.
    parts: usize,
    /// Files are durable parts (checkpoints are on): `Some(resuming)`, where a resumed run
    /// keeps what the parts hold (its sinks cut them back) and a new one empties them.
    durable: Option<bool>,
    /// Whether a commit replaced the targets.
    committed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The devices, pipes and descriptors that part 0 writes itself, by their paths as
    /// given, held open to the commit, which copies the other parts after it: a pipe's
    /// reader would see its input end were the last writer to close first.
    held: std::sync::Arc<Mutex<Vec<(PathBuf, File)>>>,
}

#[derive(Debug)]
struct Pending {
    /// The file written.
    temp: PartFile,
    /// Where it goes at commit.
    destination: Destination,
    part: usize,
}

/// Where a written file goes at commit.
#[derive(Debug)]
enum Destination {
    /// Renamed over this file, later workers' parts joined into it first.
    File(PathBuf),
    /// Copied to the stream after what worker 0 wrote to it itself.
    Stream(Stream),
}

impl Destination {
    fn file(&self) -> Option<&PathBuf> {
        match self {
            Destination::File(path) => Some(path),
            Destination::Stream(_) => None,
        }
    }
}

impl PendingOutputs {
    /// A new temporary file beside `target` (its folder created), to be renamed over
    /// `target` at [`commit`](Self::commit). A link is followed to the file it names; a
    /// device, named pipe or terminal, or a descriptor of this process (`/dev/stderr`),
    /// cannot be replaced: it is written directly (`output_path`).
    pub fn create(&self, target: &str) -> Result<File, JobError> {
        self.open(target).map(|(file, _)| file)
    }

    /// [`create`](Self::create), and whether what it opened is a stream written as it
    /// goes (a device, pipe or descriptor, or a part of one), which cannot be cut back.
    pub(crate) fn open(&self, target: &str) -> Result<(File, bool), JobError> {
        let Some(target) = output_kind(Path::new(target))?.replaced() else {
            return self.direct(Path::new(target)).map(|file| (file, true));
        };
        let (file, temp) = match self.durable {
            Some(resuming) => {
                let (file, path) = part_beside(&target, self.part, self.parts, resuming)?;
                // A new run's first publish replaces what the target held before.
                (file, PartFile::Kept(path, !resuming))
            }
            None => {
                let (file, temp) = temp_beside(&target)?;
                (file, PartFile::Temp(temp))
            }
        };
        self.lock().push(Pending {
            temp,
            destination: Destination::File(target),
            part: self.part,
        });
        Ok((file, false))
    }

    /// A temporary file beside `target` for the part of it a worker of another process sent
    /// (it is only there to be committed: that worker's durable part, if any, is its own,
    /// which on a shared file system has the same name).
    pub(crate) fn create_received(&self, target: &str) -> Result<File, JobError> {
        let received = PendingOutputs {
            durable: None,
            ..self.clone()
        };
        received.create(target)
    }

    /// The same outputs, written as part `part` of `parts` (a worker's index, of the
    /// run's workers): see the type's doc.
    pub fn part(&self, part: usize, parts: usize) -> PendingOutputs {
        PendingOutputs {
            files: self.files.clone(),
            part,
            parts,
            durable: self.durable,
            committed: self.committed.clone(),
            held: self.held.clone(),
        }
    }

    /// From now on, files are durable parts a failed run leaves for the next to resume:
    /// `resuming` keeps what they hold, else they start empty (see the module's doc).
    pub fn durable(&mut self, resuming: bool) {
        self.durable = Some(resuming);
    }

    /// Where this part writes standard output: `None` for part 0, which writes it
    /// directly; a temporary file copied out at commit for the others.
    pub fn stdout_part(&self) -> Result<Option<File>, JobError> {
        self.stream_part(Stream::Stdout)
    }

    /// Takes part `part`'s files out of the list, each with its target as the receiver
    /// creates it again (`None`: standard output; a stream by its path as given): a
    /// worker of another process sends them to worker 0, which commits. A temporary file
    /// goes when dropped; a durable part stays (worker 0 may yet die before it commits,
    /// and the run that resumes needs it), for worker 0's commit to remove.
    pub(crate) fn take_part(&self, part: usize) -> Vec<(Option<PathBuf>, impl AsRef<Path>)> {
        let mut files = self.lock();
        let (taken, kept): (Vec<Pending>, Vec<Pending>) =
            files.drain(..).partition(|p| p.part == part);
        *files = kept;
        taken
            .into_iter()
            .map(|p| match p.destination {
                Destination::File(path) | Destination::Stream(Stream::Direct(path)) => {
                    (Some(path), p.temp)
                }
                Destination::Stream(Stream::Stdout) => (None, p.temp),
            })
            .collect()
    }

    /// Makes each durable part's target what the part holds so far, which a checkpoint
    /// has just committed: the bytes it does not have yet are appended (and fsynced), and
    /// bytes it has beyond the part (a newer checkpoint's, when the run resumed from an
    /// older one) are cut. For a job that follows a file, whose outputs would otherwise
    /// appear only when it is stopped.
    pub fn publish(&self) -> Result<(), JobError> {
        for p in self.lock().iter_mut() {
            if let (PartFile::Kept(part, fresh), Some(target)) = (&mut p.temp, p.destination.file())
            {
                publish_part(part, target, *fresh)?;
                *fresh = false;
            }
        }
        Ok(())
    }

    /// Fsyncs every durable part (a checkpoint written in the background does, before its
    /// manifest, for the commit points its outputs saved without).
    pub(crate) fn sync_parts(&self) -> Result<(), JobError> {
        let parts: Vec<PathBuf> = self
            .lock()
            .iter()
            .filter_map(|p| match &p.temp {
                PartFile::Kept(path, _) => Some(path.clone()),
                PartFile::Temp(_) => None,
            })
            .collect();
        for path in parts {
            File::open(&path)
                .and_then(|f| f.sync_data())
                .map_err(|source| JobError::Io {
                    action: "cannot sync output part",
                    path: path.display().to_string(),
                    source,
                })?;
        }
        Ok(())
    }

    /// A file whose whole content is known now (the `--stats-json` report), staged beside
    /// `target` to be replaced at [`commit`](Self::commit) with the outputs.
    pub fn stage(&self, target: &str, bytes: &[u8]) -> Result<(), JobError> {
        let mut file = self.create(target)?;
        std::io::Write::write_all(&mut file, bytes).map_err(|source| JobError::Io {
            action: "cannot write",
            path: target.to_string(),
            source,
        })
    }

    /// Replaces every target by its written file, all or nothing as far as the file
    /// system allows: standard output's parts are copied out first (nothing can take them
    /// back, and a reader that went away fails the job before any file is replaced); then
    /// each file's parts are joined in worker order, every target is checked, and only
    /// then replaced (exchanged with the written file, or renamed over), the earlier ones
    /// restored if a step still fails ([`replace_all`]). Call only when everything was
    /// written and flushed.
    ///
    /// The list's lock is held to the end, so an interrupt that comes meanwhile waits for
    /// the commit; one that came before it ends the job here, replacing nothing.
    pub fn commit(&self) -> Result<(), JobError> {
        let mut list = self.lock();
        if crate::signals::interrupted() {
            drop(list);
            crate::signals::end_if_interrupted();
            list = self.lock();
        }
        let committed = self.commit_locked(std::mem::take(&mut *list));
        if committed.is_ok() {
            self.committed
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        committed
    }

    fn commit_locked(&self, files: Vec<Pending>) -> Result<(), JobError> {
        let mut files = files;
        files.sort_by_key(|p| p.part);
        let (streams, files): (Vec<Pending>, Vec<Pending>) = files
            .into_iter()
            .partition(|p| matches!(p.destination, Destination::Stream(_)));
        let streams: Vec<(&Stream, &PartFile)> = streams
            .iter()
            .filter_map(|p| match &p.destination {
                Destination::Stream(stream) => Some((stream, &p.temp)),
                Destination::File(_) => None,
            })
            .collect();
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|e| e.into_inner()));
        copy_to_streams(&streams, held)?;
        let mut staged: Vec<(tempfile::TempPath, PathBuf)> = Vec::new();
        let mut later_parts: Vec<Pending> = Vec::new();
        for p in files {
            let target = p.destination.file().cloned().expect("partitioned above");
            if staged.iter().any(|(_, t)| *t == target) {
                later_parts.push(p);
            } else {
                staged.push((p.temp.into_temp()?, target));
            }
        }
        for (whole, target) in &staged {
            join_parts(
                whole,
                later_parts
                    .iter()
                    .filter(|p| p.destination.file() == Some(target)),
            )?;
        }
        let targets: Vec<PathBuf> = staged.iter().map(|(_, t)| t.clone()).collect();
        // A durable part's name is read by the next run: it is renamed over its target,
        // never left holding the target's previous bytes.
        let how = match self.durable {
            Some(_) => Replacing::RenameOver,
            None => Replacing::Exchange,
        };
        replace_all(staged, how, &mut FileSystemSwaps)?;
        if self.durable.is_some() {
            for target in &targets {
                remove_stale_parts(target);
            }
        }
        Ok(())
    }

    /// Removes every temporary file once no commit is under way, and says whether a
    /// commit had replaced the targets (for an interrupt's message).
    pub(crate) fn discard_after_any_commit(&self) -> bool {
        self.lock().clear();
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.committed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Removes every temporary file: the job did not succeed.
    pub fn discard(&self) {
        self.lock().clear();
        self.held.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Like [`discard`](Self::discard), but gives up rather than wait for the list, for a
    /// panic hook that may run while this thread holds it.
    pub fn discard_without_waiting(&self) {
        match self.files.try_lock() {
            Ok(mut files) => files.clear(),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().clear(),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        // A panic while holding the lock leaves the list usable: it is only pushed to.
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Appends `parts` (later workers' parts of one output, in worker order) to `whole`.
fn join_parts<'a>(whole: &Path, parts: impl Iterator<Item = &'a Pending>) -> Result<(), JobError> {
    let mut parts = parts.peekable();
    if parts.peek().is_none() {
        return Ok(());
    }
    // Written at its end rather than opened to append: the kernel copies the parts file
    // to file (copy_file_range) only into a file not opened to append.
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .open(whole)
        .map_err(|source| part_error(whole, source))?;
    std::io::Seek::seek(&mut out, std::io::SeekFrom::End(0))
        .map_err(|source| part_error(whole, source))?;
    for p in parts {
        let mut part = File::open(&p.temp).map_err(|source| part_error(p.temp.as_ref(), source))?;
        std::io::copy(&mut part, &mut out).map_err(|source| part_error(whole, source))?;
    }
    Ok(())
}

fn part_error(path: &Path, source: std::io::Error) -> JobError {
    JobError::Io {
        action: "cannot join the parts of an output at",
        path: path.display().to_string(),
        source,
    }
}

/// A file an output is written to until its commit.
#[derive(Debug)]
enum PartFile {
    /// A temporary file, removed when dropped uncommitted.
    Temp(tempfile::TempPath),
    /// A durable part, left in place when dropped uncommitted, and whether its target
    /// still holds what it held before this run (an earlier run's output, not this
    /// part's beginning).
    Kept(PathBuf, bool),
}

impl PartFile {
    /// The file as one the commit renames away (or removes, if the commit fails).
    fn into_temp(self) -> Result<tempfile::TempPath, JobError> {
        match self {
            PartFile::Temp(t) => Ok(t),
            PartFile::Kept(p, _) => {
                tempfile::TempPath::try_from_path(&p).map_err(|source| JobError::Io {
                    action: "cannot commit output part",
                    path: p.display().to_string(),
                    source,
                })
            }
        }
    }
}

impl AsRef<Path> for PartFile {
    fn as_ref(&self) -> &Path {
        match self {
            PartFile::Temp(t) => t,
            PartFile::Kept(p, _) => p,
        }
    }
}

/// Makes `target` hold the first bytes of `part`, all of them: see
/// [`PendingOutputs::publish`]. A `fresh` target (an earlier run's output) is emptied
/// first: its bytes are no prefix of this part.
fn publish_part(part: &Path, target: &Path, fresh: bool) -> Result<(), JobError> {
    use std::io::{Seek, SeekFrom};
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| JobError::Io {
            action: "cannot publish committed output to",
            path,
            source,
        }
    };
    let mut from = File::open(part).map_err(io_err(part))?;
    let have = from.metadata().map_err(io_err(part))?.len();
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(target)
        .map_err(io_err(target))?;
    if fresh {
        to.set_len(0).map_err(io_err(target))?;
    }
    let shown = to.metadata().map_err(io_err(target))?.len();
    if shown > have {
        to.set_len(have).map_err(io_err(target))?;
    } else if shown < have {
        from.seek(SeekFrom::Start(shown)).map_err(io_err(part))?;
        to.seek(SeekFrom::Start(shown)).map_err(io_err(target))?;
        std::io::copy(&mut (&mut from).take(have - shown), &mut to).map_err(io_err(target))?;
    }
    to.sync_data().map_err(io_err(target))
}

/// Where worker `part` of `parts` keeps its durable part of `target`: `.NAME.weir-part`
/// in its folder on one worker, `.NAME.weir-part-W-of-N` on several (so that a run
/// restored on another number of workers writes new parts, and a kill meanwhile leaves
/// the old ones as its checkpoint knows them).
pub(crate) fn part_path(target: &Path, part: usize, parts: usize) -> PathBuf {
    let (dir, name) = folder_and_name(target);
    match parts {
        0 | 1 => dir.join(format!(".{name}.weir-part")),
        n => dir.join(format!(".{name}.weir-part-{part}-of-{n}")),
    }
}

/// Removes the durable parts of `target` that a run restored on another number of workers
/// left behind (its own were renamed over it): nothing refers to them once the job is
/// done. Best effort: a part left over is only a hidden file.
fn remove_stale_parts(target: &Path) {
    let (dir, name) = folder_and_name(target);
    let prefix = format!(".{name}.weir-part");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let stale = file == prefix
            || file
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| rest.contains("-of-"));
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Worker `part`'s durable part of `target` ([`part_path`], its folder created), opened
/// for writing at its start: emptied unless `resuming`.
fn part_beside(
    target: &Path,
    part: usize,
    parts: usize,
    resuming: bool,
) -> Result<(File, PathBuf), JobError> {
    let (dir, _) = folder_and_name(target);
    let path = part_path(target, part, parts);
    let io_err = |source| JobError::Io {
        action: "cannot create output part",
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io_err)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(!resuming)
        .open(&path)
        .map_err(io_err)?;
    Ok((file, path))
}

/// The folder `target` is in (`.` for a bare name) and its file name.
fn folder_and_name(target: &Path) -> (&Path, String) {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    (dir, name)
}

/// Creates a hidden temporary file in `target`'s folder (creating the folder), so the final
/// rename stays on one file system; its name, `.NAME.<owner>.XXXXXX.weir-tmp`, says which
/// process made it (`abandoned`).
pub(crate) fn temp_beside(target: &Path) -> Result<(File, tempfile::TempPath), JobError> {
    let io_err = |source| JobError::Io {
        action: "cannot create output",
        path: target.display().to_string(),
        source,
    };
    let (dir, name) = folder_and_name(target);
    std::fs::create_dir_all(dir).map_err(io_err)?;
    // Created as `File::create` would (0666 less the umask), not tempfile's private 0600:
    // the temporary file becomes the output.
    use std::os::unix::fs::PermissionsExt;
    let temp = tempfile::Builder::new()
        .prefix(&format!(
            "{}{}.",
            super::abandoned::output_prefix(&name),
            owner_tag()
        ))
        .suffix(".weir-tmp")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(io_err)?;
    Ok(temp.into_parts())
}

mod stream_parts;
#[cfg(test)]
mod tests;
