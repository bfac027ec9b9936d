//! Replacing several outputs at once, all or nothing as far as the file system allows.
//!
//! A rename replaces one file atomically, but a job has several. So every target is
//! checked before the first one is replaced, and each is replaced so that its previous
//! bytes stay at hand until all are:
//!
//! * **Exchanged** (`renameat2` with `RENAME_EXCHANGE`, where the file system has it): the
//!   written file and the target swap names in one step, so the target always names a
//!   whole file and its previous bytes end up at the written file's temporary name. A plain
//!   rename over a file would do as much for readers, but ext4 then writes the new file
//!   back before the rename returns (its `auto_da_alloc`), and the next run's removal of
//!   the old file waits for that write: tens of milliseconds of a job's last step, for a
//!   durability this commit never promised (a job without checkpoints does not fsync).
//! * **Renamed over**, elsewhere and for a job's durable parts (whose names the next run
//!   reads: a durable part must not be left holding a previous output): each target that
//!   exists is first linked to a backup beside it (`.NAME.<owner>.weir-old`: a second name
//!   for the same bytes, no copy), then the written file is renamed over it.
//!
//! If a step still fails half-way, the targets already replaced get their previous bytes
//! back (or are removed, if they did not exist before). The previous bytes are removed at
//! the end either way. A run killed between two steps leaves some targets replaced: the
//! file system has no transaction over several files; what it leaves beside them carries
//! its owner's tag, for the next run to remove (`abandoned`).

use std::path::{Path, PathBuf};

use super::abandoned::{output_prefix, owner_tag};
use crate::JobError;

/// How a commit puts its written files in place of their targets: see the module's doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replacing {
    /// Exchange with the target where the file system can, else rename over it.
    Exchange,
    /// Rename over the target, its previous bytes linked aside first.
    RenameOver,
}

/// The file system calls a commit makes to replace its targets; a test passes calls that
/// fail.
pub(crate) trait TargetSwaps {
    /// Renames `from` to `to`, replacing `to`.
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()>;
    /// Swaps the names `a` and `b` in one step; an error of kind `Unsupported` where the
    /// file system cannot, and of kind `NotFound` where one of them does not exist.
    fn exchange(&mut self, a: &Path, b: &Path) -> std::io::Result<()>;
}

/// The file system's own calls.
pub(crate) struct FileSystemSwaps;

impl TargetSwaps for FileSystemSwaps {
    fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn exchange(&mut self, a: &Path, b: &Path) -> std::io::Result<()> {
        use rustix::io::Errno;
        let cwd = rustix::fs::CWD;
        match rustix::fs::renameat_with(cwd, a, cwd, b, rustix::fs::RenameFlags::EXCHANGE) {
            Ok(()) => Ok(()),
            // Old kernels and file systems without the flag (some network ones).
            Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::OPNOTSUPP => {
                Err(std::io::Error::new(std::io::ErrorKind::Unsupported, e))
            }
            Err(e) => Err(e.into()),
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn exchange(&mut self, _: &Path, _: &Path) -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// A target replaced so far, and where its previous bytes are.
enum Replaced {
    /// Exchanged: its previous bytes (or link) are at `previous`, removed when dropped.
    Exchanged {
        target: PathBuf,
        previous: tempfile::TempPath,
    },
    /// Renamed over: its previous bytes are at `backup` (`None`: it did not exist).
    RenamedOver {
        target: PathBuf,
        backup: Option<PathBuf>,
    },
}

/// Puts each staged file in place of its target, `how` says how, all or nothing: see the
/// module's doc.
pub(crate) fn replace_all(
    staged: Vec<(tempfile::TempPath, PathBuf)>,
    how: Replacing,
    swaps: &mut impl TargetSwaps,
) -> Result<(), JobError> {
    for (_, target) in &staged {
        check_target(target)?;
    }
    let mut done: Vec<Replaced> = Vec::with_capacity(staged.len());
    for (temp, target) in staged {
        match replace_one(temp, target, how, swaps) {
            Ok(replaced) => done.push(replaced),
            Err(e) => return Err(restore(done, e, swaps)),
        }
    }
    for r in done {
        match r {
            // Dropping it removes the previous bytes.
            Replaced::Exchanged { previous, .. } => drop(previous),
            Replaced::RenamedOver { backup, .. } => {
                if let Some(b) = backup {
                    let _ = std::fs::remove_file(b);
                }
            }
        }
    }
    Ok(())
}

/// Puts `temp` in place of `target`: exchanged with it where `how` and the file system
/// allow and the target exists, else renamed over it.
fn replace_one(
    temp: tempfile::TempPath,
    target: PathBuf,
    how: Replacing,
    swaps: &mut impl TargetSwaps,
) -> Result<Replaced, JobError> {
    let failed = |target: &Path, source| JobError::Io {
        action: "cannot replace output",
        path: target.display().to_string(),
        source,
    };
    if how == Replacing::Exchange && std::fs::symlink_metadata(&target).is_ok() {
        match swaps.exchange(&temp, &target) {
            Ok(()) => {
                return Ok(Replaced::Exchanged {
                    target,
                    previous: temp,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
            // Gone since it was looked at: renamed to below.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(failed(&target, e)),
        }
    }
    let backup = backup_of(&target)?;
    match swaps.rename(&temp, &target) {
        Ok(()) => {
            // Renamed away: nothing is left at the temporary path to remove.
            let _ = temp.keep();
            Ok(Replaced::RenamedOver { target, backup })
        }
        Err(source) => {
            if let Some(b) = &backup {
                let _ = std::fs::remove_file(b);
            }
            Err(failed(&target, source))
        }
    }
}

/// Refuses a target that cannot be replaced by a file: a folder, or one in a folder that
/// has gone.
fn check_target(target: &Path) -> Result<(), JobError> {
    let cannot = |message: &str| JobError::Io {
        action: "cannot replace output",
        path: target.display().to_string(),
        source: std::io::Error::other(message.to_string()),
    };
    match std::fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => Err(cannot("it is a directory")),
        _ => match target.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) if !dir.is_dir() => Err(cannot("its folder is gone")),
            _ => Ok(()),
        },
    }
}

/// A second name for `target`'s current bytes beside it, if it exists: a hard link, or a
/// copy where the file system has no links; a symbolic link is kept as a second link.
fn backup_of(target: &Path) -> Result<Option<PathBuf>, JobError> {
    let Ok(meta) = std::fs::symlink_metadata(target) else {
        return Ok(None);
    };
    if !meta.is_file() && !meta.is_symlink() {
        return Ok(None);
    }
    let name = target
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let backup = dir.join(format!("{}{}.weir-old", output_prefix(&name), owner_tag()));
    let _ = std::fs::remove_file(&backup);
    // A link is kept as a link (the rename replaces the link, not what it points at).
    let kept = if meta.is_symlink() {
        std::fs::read_link(target).and_then(|to| std::os::unix::fs::symlink(to, &backup))
    } else {
        std::fs::hard_link(target, &backup).or_else(|_| std::fs::copy(target, &backup).map(|_| ()))
    };
    kept.map_err(|source| JobError::Io {
        action: "cannot keep the previous output aside while replacing",
        path: target.display().to_string(),
        source,
    })?;
    Ok(Some(backup))
}

/// Puts back what `done` replaced, latest first, after `cause` stopped the commit; the
/// error says which targets could not be put back, and where their previous bytes are.
fn restore(done: Vec<Replaced>, cause: JobError, swaps: &mut impl TargetSwaps) -> JobError {
    let mut unrestored = Vec::new();
    for r in done.into_iter().rev() {
        let (target, result, kept) = match r {
            Replaced::Exchanged { target, previous } => {
                // Swapped back, the staged bytes are at `previous`, removed when dropped.
                let result = swaps.exchange(&previous, &target);
                let kept = match &result {
                    Ok(()) => None,
                    Err(_) => previous.keep().ok(),
                };
                (target, result, kept)
            }
            Replaced::RenamedOver { target, backup } => {
                let result = match &backup {
                    Some(b) => swaps.rename(b, &target),
                    None => std::fs::remove_file(&target),
                };
                (target, result, backup)
            }
        };
        if let Err(e) = result {
            let kept = kept.map_or_else(String::new, |b| {
                format!("; its previous bytes are in {}", b.display())
            });
            unrestored.push(format!("{}: {e}{kept}", target.display()));
        }
    }
    if unrestored.is_empty() {
        return cause;
    }
    JobError::Config(format!(
        "{cause}; and these outputs replaced before it could not be put back: {}",
        unrestored.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn staged(dir: &Path, name: &str, bytes: &str) -> (tempfile::TempPath, PathBuf) {
        let target = dir.join(name);
        let (mut file, temp) = super::super::commit::temp_beside(&target).unwrap();
        file.write_all(bytes.as_bytes()).unwrap();
        (temp, target)
    }

    fn listing(dir: &Path) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                (e.file_name().into_string().unwrap(), text)
            })
            .collect();
        all.sort();
        all
    }

    /// The file system's calls, the `fail_at`-th replacing call (exchange or rename)
    /// failing; `exchange` off: as a file system without `RENAME_EXCHANGE`.
    struct FailingSwaps {
        calls: usize,
        fail_at: usize,
        exchange: bool,
    }

    impl FailingSwaps {
        fn new(fail_at: usize, exchange: bool) -> FailingSwaps {
            FailingSwaps {
                calls: 0,
                fail_at,
                exchange,
            }
        }

        fn call(&mut self) -> std::io::Result<()> {
            self.calls += 1;
            if self.calls == self.fail_at {
                return Err(std::io::Error::other("disk on fire"));
            }
            Ok(())
        }
    }

    impl TargetSwaps for FailingSwaps {
        fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
            self.call()?;
            FileSystemSwaps.rename(from, to)
        }

        fn exchange(&mut self, a: &Path, b: &Path) -> std::io::Result<()> {
            if !self.exchange {
                return Err(std::io::ErrorKind::Unsupported.into());
            }
            self.call()?;
            FileSystemSwaps.exchange(a, b)
        }
    }

    /// Every way a commit replaces its targets.
    const WAYS: [(Replacing, bool); 3] = [
        (Replacing::Exchange, true),
        (Replacing::Exchange, false),
        (Replacing::RenameOver, true),
    ];

    #[test]
    fn a_step_failing_half_way_puts_back_the_targets_already_replaced() {
        for (how, exchange) in WAYS {
            puts_back_after_a_failure(how, exchange);
        }
    }

    fn puts_back_after_a_failure(how: Replacing, exchange: bool) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "old a\n").unwrap();
        std::fs::write(dir.path().join("c.csv"), "old c\n").unwrap();
        let before = listing(dir.path());
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"), // did not exist before
            staged(dir.path(), "c.csv", "new c\n"),
        ];
        let e = replace_all(files, how, &mut FailingSwaps::new(3, exchange))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("c.csv") && e.contains("disk on fire"),
            "{how:?} {e}"
        );
        assert_eq!(
            listing(dir.path()),
            before,
            "{how:?}, exchange {exchange}: as before, no temp, no backup"
        );
    }

    #[test]
    fn a_symbolic_link_replaced_before_a_failure_is_put_back_as_a_link() {
        for (how, exchange) in WAYS {
            a_symbolic_link_is_put_back(how, exchange);
        }
    }

    fn a_symbolic_link_is_put_back(how: Replacing, exchange: bool) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.csv"), "real\n").unwrap();
        std::os::unix::fs::symlink("real.csv", dir.path().join("a.csv")).unwrap();
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"),
        ];
        replace_all(files, how, &mut FailingSwaps::new(2, exchange)).unwrap_err();
        let link = std::fs::read_link(dir.path().join("a.csv")).unwrap();
        assert_eq!(link, Path::new("real.csv"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("real.csv")).unwrap(),
            "real\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn every_target_is_checked_before_the_first_rename() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "old a\n").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "d", "new d\n"),
        ];
        let e = replace_all(files, Replacing::Exchange, &mut FileSystemSwaps)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a directory"), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.csv")).unwrap(),
            "old a\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_commit_replaces_every_target_and_leaves_no_backup() {
        for (how, exchange) in WAYS {
            every_target_replaced(how, exchange);
        }
    }

    fn every_target_replaced(how: Replacing, exchange: bool) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "old a\n").unwrap();
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"),
        ];
        replace_all(files, how, &mut FailingSwaps::new(0, exchange)).unwrap();
        assert_eq!(
            listing(dir.path()),
            [
                ("a.csv".to_string(), "new a\n".to_string()),
                ("b.csv".to_string(), "new b\n".to_string())
            ]
        );
    }

    /// The file system's calls, each one's name noted.
    #[derive(Default)]
    struct NotedSwaps(Vec<&'static str>);

    impl TargetSwaps for NotedSwaps {
        fn rename(&mut self, from: &Path, to: &Path) -> std::io::Result<()> {
            self.0.push("rename");
            FileSystemSwaps.rename(from, to)
        }

        fn exchange(&mut self, a: &Path, b: &Path) -> std::io::Result<()> {
            self.0.push("exchange");
            FileSystemSwaps.exchange(a, b)
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn an_existing_target_is_exchanged_and_a_new_one_renamed_to() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "old a\n").unwrap();
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"),
        ];
        let mut noted = NotedSwaps::default();
        replace_all(files, Replacing::Exchange, &mut noted).unwrap();
        assert_eq!(noted.0, ["exchange", "rename"]);
        assert_eq!(
            listing(dir.path()),
            [
                ("a.csv".to_string(), "new a\n".to_string()),
                ("b.csv".to_string(), "new b\n".to_string())
            ]
        );
        let mut noted = NotedSwaps::default();
        let files = vec![staged(dir.path(), "a.csv", "newer a\n")];
        replace_all(files, Replacing::RenameOver, &mut noted).unwrap();
        assert_eq!(noted.0, ["rename"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.csv")).unwrap(),
            "newer a\n"
        );
    }
}
