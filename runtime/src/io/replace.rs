//! Replacing several outputs at once, all or nothing as far as the file system allows.
//!
//! A rename replaces one file atomically, but a job has several. So every target is
//! checked before the first rename, and each target that exists is first linked to a backup
//! beside it (`.NAME.<owner>.weir-old`: a second name for the same bytes, no copy); if a
//! rename still fails half-way, the targets already replaced get their backups back (or are
//! removed, if they did not exist before). The backups are removed at the end either way.
//! A run killed between two renames leaves some targets replaced: the file system has no
//! transaction over several files.

use std::path::{Path, PathBuf};

use super::abandoned::{output_prefix, owner_tag};
use crate::JobError;

/// A target replaced so far, with what it held before.
struct Replaced {
    target: PathBuf,
    backup: Option<PathBuf>,
}

/// Renames each staged file over its target with `rename` (`std::fs::rename`; a test
/// passes one that fails), all or nothing: see the module's doc.
pub(crate) fn replace_all(
    staged: Vec<(tempfile::TempPath, PathBuf)>,
    mut rename: impl FnMut(&Path, &Path) -> std::io::Result<()>,
) -> Result<(), JobError> {
    for (_, target) in &staged {
        check_target(target)?;
    }
    let mut done: Vec<Replaced> = Vec::with_capacity(staged.len());
    for (temp, target) in staged {
        let step = backup_of(&target).and_then(|backup| {
            rename(&temp, &target)
                .map(|()| backup.clone())
                .map_err(|source| {
                    if let Some(b) = &backup {
                        let _ = std::fs::remove_file(b);
                    }
                    JobError::Io {
                        action: "cannot replace output",
                        path: target.display().to_string(),
                        source,
                    }
                })
        });
        match step {
            Ok(backup) => {
                // Renamed away: nothing is left at the temporary path to remove.
                let _ = temp.keep();
                done.push(Replaced { target, backup });
            }
            Err(e) => return Err(restore(done, e)),
        }
    }
    for r in done {
        if let Some(b) = r.backup {
            let _ = std::fs::remove_file(b);
        }
    }
    Ok(())
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
fn restore(done: Vec<Replaced>, cause: JobError) -> JobError {
    let mut unrestored = Vec::new();
    for r in done.into_iter().rev() {
        let result = match &r.backup {
            Some(b) => std::fs::rename(b, &r.target),
            None => std::fs::remove_file(&r.target),
        };
        if let Err(e) = result {
            let kept = r.backup.map_or_else(String::new, |b| {
                format!("; its previous bytes are in {}", b.display())
            });
            unrestored.push(format!("{}: {e}{kept}", r.target.display()));
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

    #[test]
    fn a_rename_failing_half_way_puts_back_the_targets_already_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "old a\n").unwrap();
        std::fs::write(dir.path().join("c.csv"), "old c\n").unwrap();
        let before = listing(dir.path());
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"), // did not exist before
            staged(dir.path(), "c.csv", "new c\n"),
        ];
        let mut renames = 0;
        let e = replace_all(files, |from, to| {
            renames += 1;
            if renames == 3 {
                return Err(std::io::Error::other("disk on fire"));
            }
            std::fs::rename(from, to)
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("c.csv") && e.contains("disk on fire"), "{e}");
        assert_eq!(listing(dir.path()), before, "as before: no temp, no backup");
    }

    #[test]
    fn a_symbolic_link_replaced_before_a_failure_is_put_back_as_a_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("real.csv"), "real\n").unwrap();
        std::os::unix::fs::symlink("real.csv", dir.path().join("a.csv")).unwrap();
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"),
        ];
        let mut renames = 0;
        replace_all(files, |from, to| {
            renames += 1;
            if renames == 2 {
                return Err(std::io::Error::other("disk on fire"));
            }
            std::fs::rename(from, to)
        })
        .unwrap_err();
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
        let e = replace_all(files, |from, to| std::fs::rename(from, to))
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
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "old a\n").unwrap();
        let files = vec![
            staged(dir.path(), "a.csv", "new a\n"),
            staged(dir.path(), "b.csv", "new b\n"),
        ];
        replace_all(files, |from, to| std::fs::rename(from, to)).unwrap();
        assert_eq!(
            listing(dir.path()),
            [
                ("a.csv".to_string(), "new a\n".to_string()),
                ("b.csv".to_string(), "new b\n".to_string())
            ]
        );
    }
}
