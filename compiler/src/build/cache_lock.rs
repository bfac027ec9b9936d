//! The build cache's lock, a file lock on `<cache>/.lock`: every build holds it shared, so
//! builds run side by side, and `weir cache clean` holds it exclusive, so it never removes
//! what a build is compiling (which cargo would then report as a failed build).

use std::fs::File;
use std::path::{Path, PathBuf};

/// The lock file's name in the cache; `weir cache clean` leaves it.
pub const LOCK_FILE: &str = ".lock";

/// A held lock on a build cache, released when dropped.
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
}

fn open(cache: &Path) -> std::io::Result<File> {
    std::fs::create_dir_all(cache)?;
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(cache))
}

fn lock_path(cache: &Path) -> PathBuf {
    cache.join(LOCK_FILE)
}

impl CacheLock {
    /// The lock shared with other builds, waiting while a clean holds it.
    pub fn shared(cache: &Path) -> std::io::Result<CacheLock> {
        let file = open(cache)?;
        file.lock_shared()?;
        Ok(CacheLock { _file: file })
    }

    /// The lock alone, for a clean; `on_wait` is called first if builds hold it, and then
    /// the clean waits for them.
    pub fn exclusive(cache: &Path, on_wait: impl FnOnce()) -> std::io::Result<CacheLock> {
        let file = open(cache)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                on_wait();
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        Ok(CacheLock { _file: file })
    }
}

/// Whether `cache` exists and holds more than its lock file.
pub fn holds_anything(cache: &Path) -> bool {
    std::fs::read_dir(cache)
        .is_ok_and(|mut entries| entries.any(|e| e.is_ok_and(|e| e.file_name() != LOCK_FILE)))
}

/// Removes everything in `cache` but the lock file, which builds waiting on it hold open.
pub fn clear(cache: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(cache)? {
        let entry = entry?;
        if entry.file_name() == LOCK_FILE {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_waits_for_the_builds_that_hold_the_cache() {
        let cache = tempfile::tempdir().unwrap();
        let build = CacheLock::shared(cache.path()).unwrap();
        let second = CacheLock::shared(cache.path()).unwrap();
        let (told, waited) = std::sync::mpsc::channel();
        let path = cache.path().to_path_buf();
        let clean = std::thread::spawn(move || {
            let _held = CacheLock::exclusive(&path, || told.send(()).unwrap()).unwrap();
            std::time::Instant::now()
        });
        waited.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let released = std::time::Instant::now();
        drop((build, second));
        let got = clean.join().unwrap();
        assert!(got >= released, "the clean went ahead of the builds");
    }

    #[test]
    fn clearing_keeps_only_the_lock_file() {
        let cache = tempfile::tempdir().unwrap();
        let _lock = CacheLock::shared(cache.path()).unwrap();
        std::fs::create_dir_all(cache.path().join("jobs/a/bin")).unwrap();
        std::fs::write(cache.path().join("jobs/a/bin/x"), "x").unwrap();
        std::fs::write(cache.path().join("stamp"), "x").unwrap();
        clear(cache.path()).unwrap();
        let left: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [LOCK_FILE]);
    }
}
