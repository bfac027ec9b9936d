//! Where a job's spill files live: one fresh directory per run, made at the first spill and
//! removed at the end of the run, whatever the end.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::io::abandoned::pid_namespace;
use crate::JobError;

/// The spill directory of one run, shared by every operator that spills.
///
/// The directory (`weir-spill-<job>-<pid namespace>-<pid>-XXXXXX` under `--spill-dir`, by default the
/// system's temporary directory) is made at the first spill, so a job that never spills
/// touches no disk. It is removed when the job ends: on success and on error by [`remove`]
/// (`JobContext` calls it), on SIGINT and SIGTERM by the job's signal handler, and on a panic
/// by the panic hook of `run_main`. Only SIGKILL, which no process can catch, leaves it; the
/// next job to spill in the same place removes directories whose process is gone.
///
/// [`remove`]: SpillSpace::remove
#[derive(Debug, Clone)]
pub struct SpillSpace {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    parent: PathBuf,
    job: String,
    dir: Option<tempfile::TempDir>,
    /// Files made so far, to name the next.
    made: u64,
}

impl SpillSpace {
    /// Spill space under `parent` (the system's temporary directory when `None`) for the
    /// job `job`.
    pub fn new(parent: Option<PathBuf>, job: &str) -> Self {
        SpillSpace {
            inner: Arc::new(Mutex::new(Inner {
                parent: parent.unwrap_or_else(std::env::temp_dir),
                job: job.chars().filter(|c| c.is_ascii_alphanumeric()).collect(),
                dir: None,
                made: 0,
            })),
        }
    }

    /// Checks, before the job starts, that spill files can be made where they will go:
    /// the directory exists, is a directory, and takes a file (a probe file, removed at
    /// once). A bad `--spill-dir` would otherwise be found at the first spill, maybe hours
    /// into a run.
    pub fn probe(&self) -> Result<(), JobError> {
        let parent = self.parent();
        let shown = parent.display();
        match std::fs::metadata(&parent) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(JobError::Config(format!(
                    "spill directory {shown} does not exist: create it, or name another with --spill-dir"
                )))
            }
            Ok(m) if !m.is_dir() => {
                return Err(JobError::Config(format!(
                    "spill directory {shown} is not a directory: name a directory with --spill-dir"
                )))
            }
            _ => {}
        }
        tempfile::Builder::new()
            .prefix(".weir-spill-probe")
            .tempfile_in(&parent)
            .map(drop)
            .map_err(|e| {
                JobError::Config(format!(
                    "cannot write in spill directory {shown}: {e}; name another with --spill-dir"
                ))
            })
    }

    /// The directory the run's spill directory is made in.
    pub fn parent(&self) -> PathBuf {
        self.lock().parent.clone()
    }

    /// The run's spill directory, once made.
    pub fn dir(&self) -> Option<PathBuf> {
        self.lock().dir.as_ref().map(|d| d.path().to_path_buf())
    }

    /// A new, empty file for operator `operator`, open for reading and writing, with its
    /// path. The directory is made first if need be.
    pub(crate) fn create(
        &self,
        operator: &str,
        location: &str,
    ) -> Result<(File, PathBuf), JobError> {
        let mut inner = self.lock();
        let cannot = |parent: &Path, source| JobError::Spill {
            operator: operator.to_string(),
            location: location.to_string(),
            dir: parent.display().to_string(),
            source,
        };
        if inner.dir.is_none() {
            let ns = pid_namespace();
            remove_abandoned(&inner.parent, ns);
            let prefix = format!("weir-spill-{}-{ns}-{}-", inner.job, std::process::id());
            let dir = tempfile::Builder::new()
                .prefix(&prefix)
                .tempdir_in(&inner.parent)
                .map_err(|e| cannot(&inner.parent, e))?;
            inner.dir = Some(dir);
        }
        inner.made += 1;
        let name: String = operator
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = inner.dir.as_ref().expect("made above").path();
        let path = dir.join(format!("{name}-{}.spill", inner.made));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| cannot(dir, e))?;
        Ok((file, path))
    }

    /// Removes the spill directory and everything in it. Safe to call more than once, and
    /// from a signal thread or a panic hook: if another thread holds the space, it waits a
    /// little for it, and never blocks (a panic hook may run on the thread that holds it).
    pub fn remove(&self) {
        for _ in 0..100 {
            match self.inner.try_lock() {
                Ok(mut inner) => return Self::remove_dir(&mut inner),
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    return Self::remove_dir(&mut p.into_inner())
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        }
    }

    fn remove_dir(inner: &mut Inner) {
        if let Some(dir) = inner.dir.take() {
            let _ = dir.close();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes the spill directories in `parent` left by jobs that were killed (SIGKILL, a
/// power cut): their names carry the pid namespace and process id, and that process is
/// gone. A directory of another namespace, of a process that still runs, or whose name
/// does not parse, is left alone.
fn remove_abandoned(parent: &Path, ns: u64) {
    if ns == 0 {
        return; // no way to tell whose a directory is
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((their_ns, pid)) = name.to_str().and_then(spill_dir_owner) else {
            continue;
        };
        if their_ns == ns && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid namespace and process id in a spill directory's name,
/// `weir-spill-<job>-<namespace>-<pid>-<random>`.
fn spill_dir_owner(name: &str) -> Option<(u64, u32)> {
    let rest = name.strip_prefix("weir-spill-")?;
    let mut parts = rest.rsplitn(4, '-');
    let (_random, pid, ns) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next()?; // the job's name
    Some((ns.parse().ok()?, pid.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_made_at_the_first_file_and_removed_whole() {
        let parent = tempfile::tempdir().unwrap();
        let space = SpillSpace::new(Some(parent.path().to_path_buf()), "word count!");
        assert_eq!(space.dir(), None, "nothing on disk before a spill");
        let (_, a) = space.create("aggregate", "x.pipe:1:1").unwrap();
        let (_, b) = space.create("aggregate", "x.pipe:1:1").unwrap();
        assert_ne!(a, b);
        let dir = space.dir().unwrap();
        assert!(dir.starts_with(parent.path()));
        assert!(dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!(
                "weir-spill-wordcount-{}-{}-",
                pid_namespace(),
                std::process::id()
            )));
        space.remove();
        assert!(!dir.exists());
        assert!(!a.exists() && !b.exists());
        space.remove();
    }

    #[test]
    fn directories_of_killed_jobs_are_removed_and_others_left() {
        let parent = tempfile::tempdir().unwrap();
        // A pid far above any this machine hands out, in this namespace and another one;
        // and this process's own.
        let ns = pid_namespace();
        let dead = parent
            .path()
            .join(format!("weir-spill-wc-{ns}-4000000000-abc123"));
        let elsewhere = parent
            .path()
            .join(format!("weir-spill-wc-{}-4000000000-abc124", ns + 1));
        let ours = parent
            .path()
            .join(format!("weir-spill-wc-{ns}-{}-def456", std::process::id()));
        let other = parent.path().join("weir-spill-notapid");
        for d in [&dead, &elsewhere, &ours, &other] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("aggregate-1.spill"), b"x").unwrap();
        }
        let space = SpillSpace::new(Some(parent.path().to_path_buf()), "wc");
        space.create("aggregate", "x.pipe:1:1").unwrap();
        assert!(!dead.exists(), "a killed job's directory is removed");
        assert!(ours.exists() && other.exists());
        assert!(
            elsewhere.exists(),
            "another namespace's pids are not ours to judge"
        );
        assert_eq!(
            spill_dir_owner("weir-spill-job-77-123-x1y2z3"),
            Some((77, 123))
        );
        space.remove();
    }

    #[test]
    fn an_unusable_directory_names_the_operator_and_the_directory() {
        let parent = tempfile::tempdir().unwrap();
        let missing = parent.path().join("not-there");
        let space = SpillSpace::new(Some(missing.clone()), "j");
        let err = space
            .create("aggregate", "x.pipe:3:4")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("aggregate") && err.contains("x.pipe:3:4"),
            "{err}"
        );
        assert!(err.contains(&missing.display().to_string()), "{err}");
    }
}
