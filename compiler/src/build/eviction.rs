//! Keeping the build cache in bounds: each job's folder is stamped when used; after a build,
//! the least recently used jobs (their crate and their artifacts in the shared target
//! folder) are removed while the jobs together take more than the cap. The shared runtime
//! and its dependencies stay: every job needs them.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The cap when `WEIR_CACHE_MAX` is not set: 2 GiB of jobs.
pub const DEFAULT_CAP: u64 = 2 << 30;

/// The file whose time says when a job was last used.
const STAMP: &str = "last-used";

/// The cap on the jobs in a cache: `WEIR_CACHE_MAX` (`500MB`, `2GB`), else [`DEFAULT_CAP`].
pub fn cap() -> u64 {
    std::env::var("WEIR_CACHE_MAX")
        .ok()
        .and_then(|v| weir_runtime::memory::parse_bytes(&v).ok())
        .unwrap_or(DEFAULT_CAP)
}

/// Marks the job in `crate_dir` as just used.
pub fn stamp(crate_dir: &Path) {
    let _ = std::fs::write(crate_dir.join(STAMP), b"");
}

/// One cached job: its folder, the prefix of its artifacts, when it was last used and what
/// it takes.
struct Entry {
    dir: PathBuf,
    artifacts: Vec<PathBuf>,
    used: SystemTime,
    bytes: u64,
}

/// Removes least recently used jobs of `cache` (never `keep`) until the jobs take at most
/// `cap` bytes. Returns the bytes freed.
pub fn evict(cache: &Path, cap: u64, keep: &Path) -> u64 {
    let mut entries = entries(cache);
    let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
    entries.sort_by_key(|e| e.used);
    let mut freed = 0;
    for e in entries {
        if total <= cap {
            break;
        }
        if e.dir == keep {
            continue;
        }
        for path in e.artifacts.iter().chain([&e.dir]) {
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(path)
            } else {
                std::fs::remove_file(path)
            };
        }
        total -= e.bytes;
        freed += e.bytes;
    }
    freed
}

fn entries(cache: &Path) -> Vec<Entry> {
    let Ok(jobs) = std::fs::read_dir(cache.join("jobs")) else {
        return Vec::new();
    };
    let release = cache.join("target/release");
    let built: Vec<PathBuf> = ["", "deps", ".fingerprint", "build"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(release.join(sub)).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    jobs.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .map(|dir| {
            // The crate's package and binary are `weir-job-<folder name>`; cargo names its
            // artifacts after them, with `_` for `-` in library-style names.
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            let package = format!("weir-job-{}", name.unwrap_or_default()).replace('_', "-");
            let underscored = package.replace('-', "_");
            let artifacts: Vec<PathBuf> = built
                .iter()
                .filter(|p| {
                    p.file_name().is_some_and(|f| {
                        let f = f.to_string_lossy();
                        f.starts_with(&package) || f.starts_with(&underscored)
                    })
                })
                .cloned()
                .collect();
            let used = std::fs::metadata(dir.join(STAMP))
                .or_else(|_| std::fs::metadata(&dir))
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let bytes = size(&dir) + artifacts.iter().map(|a| size(a)).sum::<u64>();
            Entry {
                dir,
                artifacts,
                used,
                bytes,
            }
        })
        .collect()
}

/// The bytes under `path`.
pub fn size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| size(&e.path()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A cached job `name` of `bytes`, with one artifact, last used `age` seconds ago.
    fn job(cache: &Path, name: &str, bytes: usize, age: u64) -> PathBuf {
        let dir = cache.join("jobs").join(name);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "").unwrap();
        std::fs::write(dir.join("bin/job"), vec![0u8; bytes]).unwrap();
        let deps = cache.join("target/release/deps");
        std::fs::create_dir_all(&deps).unwrap();
        let artifact = format!("weir_job_{}-0123", name.replace('-', "_"));
        std::fs::write(deps.join(artifact), vec![0u8; bytes]).unwrap();
        stamp(&dir);
        let when = SystemTime::now() - Duration::from_secs(age);
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join(STAMP))
            .unwrap();
        f.set_modified(when).unwrap();
        dir
    }

    #[test]
    fn the_least_recently_used_jobs_go_first_and_the_new_one_stays() {
        let cache = tempfile::tempdir().unwrap();
        let c = cache.path();
        let old = job(c, "a-01", 1000, 300);
        let mid = job(c, "b-02", 1000, 200);
        let new = job(c, "c-03", 1000, 100);
        let just_built = job(c, "d-04", 1000, 1_000);
        std::fs::write(
            c.join("target/release/deps/libweir_runtime-99.rlib"),
            [0u8; 10],
        )
        .unwrap();
        // Four jobs of 2000 bytes each (crate and artifact); keep at most 4500.
        let freed = evict(c, 4500, &just_built);
        assert_eq!(freed, 4000);
        assert!(
            !old.exists() && !mid.exists(),
            "the two least recently used"
        );
        assert!(new.exists() && just_built.exists());
        let deps: Vec<String> = std::fs::read_dir(c.join("target/release/deps"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !deps.iter().any(|d| d.starts_with("weir_job_a_01")),
            "{deps:?}"
        );
        assert!(
            deps.iter().any(|d| d.starts_with("libweir_runtime")),
            "shared deps stay"
        );
        assert_eq!(evict(c, 4500, &just_built), 0, "within the cap now");
    }
}
