//! `weir build`: a generated job becomes a crate in the build cache, compiled by cargo.
//!
//! Each job's crate lives under `<cache>/jobs/<name>-<hash>/`, keyed by a hash of its
//! generated source, its manifest and the runtime's fingerprint, so an unchanged pipeline is
//! a cache hit that runs no cargo at all. Every job builds into one shared target directory,
//! so the runtime and its dependencies compile once per cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::codegen::GeneratedJob;

pub mod cache_lock;
pub mod eviction;

/// Where the runtime crate is, for the generated crate's path dependency.
const RUNTIME_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../runtime");
/// The workspace lock file, so generated crates build with the versions weir was tested
/// with and need no registry lookups.
const WORKSPACE_LOCK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock");

/// A built job.
#[derive(Debug, Clone)]
pub struct BuiltJob {
    /// The executable in the cache.
    pub binary: PathBuf,
    /// Whether it was already there.
    pub cache_hit: bool,
    /// The generated crate.
    pub crate_dir: PathBuf,
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The cache could not be written.
    #[error("cannot write the build cache at {path}: {source}")]
    Io {
        /// Where.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// cargo could not be started.
    #[error("cannot run cargo ({0}); weir builds jobs with cargo, which must be on PATH")]
    Cargo(std::io::Error),
    /// The job's crate was removed while cargo built it (by hand: `weir cache clean` waits
    /// for builds).
    #[error("the build cache at {cache} was changed while the job was being built (its crate {crate_dir} is gone); run the command again")]
    CacheChanged {
        /// The cache.
        cache: String,
        /// The crate that went.
        crate_dir: String,
    },
    /// cargo failed: a bug in weir, since checked pipelines always generate valid Rust.
    #[error("cargo failed to build the generated job in {crate_dir} (this is a weir bug; please report it with the pipeline):\n{output}")]
    Compile {
        /// The crate.
        crate_dir: String,
        /// cargo's output.
        output: String,
    },
}

/// The default cache: `$WEIR_CACHE_DIR`, else `$XDG_CACHE_HOME/weir`, else
/// `~/.cache/weir`, else a folder in the system's temporary directory.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WEIR_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("weir");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return PathBuf::from(h).join(".cache/weir");
    }
    std::env::temp_dir().join("weir-cache")
}

/// Generated lines past which a job is built with several codegen units: one unit gives
/// the fastest loops, but LLVM then optimizes a very large job (hundreds of sinks) on one
/// core for a minute; split, both cores share it.
const LARGE_JOB_LINES: usize = 5_000;

fn manifest(package: &str, bin: &str, lines: usize) -> String {
    let units = if lines > LARGE_JOB_LINES { 16 } else { 1 };
    let runtime = Path::new(RUNTIME_DIR)
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from(RUNTIME_DIR));
    format!(
        r#"[package]
name = "{package}"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "{bin}"
path = "src/main.rs"

[dependencies]
weir-runtime = {{ path = {runtime:?} }}

[profile.release]
opt-level = 3
codegen-units = {units}
panic = "abort"
debug = false

[profile.release.package."*"]
codegen-units = 16

[workspace]
"#,
        runtime = runtime.display().to_string()
    )
}

/// Builds `job` (named `name`) in `cache`, or finds it there.
pub fn build_job(job: &GeneratedJob, name: &str, cache: &Path) -> Result<BuiltJob, BuildError> {
    let lines = job.source.lines().count();
    let mut hasher = Sha256::new();
    hasher.update(job.source.as_bytes());
    // How the job is built is part of what is cached (the names come from the hash).
    hasher.update(manifest("", "", lines).as_bytes());
    hasher.update(env!("WEIR_RUNTIME_FINGERPRINT").as_bytes());
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    let hash: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let bin = format!("weir-job-{name}-{hash}").replace('_', "-");
    // Held to the end of the build: `weir cache clean` waits for it.
    let _lock = cache_lock::CacheLock::shared(cache).map_err(|source| BuildError::Io {
        path: cache.display().to_string(),
        source,
    })?;
    let crate_dir = cache.join("jobs").join(format!("{name}-{hash}"));
    let cached = crate_dir.join("bin").join(&bin);
    if cached.is_file() {
        eviction::stamp(&crate_dir);
        return Ok(BuiltJob {
            binary: cached,
            cache_hit: true,
            crate_dir,
        });
    }
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| BuildError::Io { path, source }
    };
    if !crate_dir.join("Cargo.toml").is_file() {
        stage_crate(&crate_dir, &manifest(&bin, &bin, lines), &job.source)?;
    }
    let target = cache.join("target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cargo = Command::new(cargo);
    crate::cli::die_with_this_process(&mut cargo);
    let output = cargo
        .arg("build")
        .arg("--release")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(crate::cli::output_forwarding)
        .map_err(BuildError::Cargo)?;
    if !output.status.success() {
        if !crate_dir.join("Cargo.toml").is_file() {
            return Err(BuildError::CacheChanged {
                cache: cache.display().to_string(),
                crate_dir: crate_dir.display().to_string(),
            });
        }
        return Err(BuildError::Compile {
            crate_dir: crate_dir.display().to_string(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let built = target.join("release").join(&bin);
    std::fs::create_dir_all(crate_dir.join("bin")).map_err(io(&crate_dir))?;
    // Copy, then rename: a concurrent build of the same job never sees half a binary.
    let partial = crate_dir
        .join("bin")
        .join(format!("{bin}.partial-{}", unique_suffix()));
    std::fs::copy(&built, &partial).map_err(io(&built))?;
    std::fs::rename(&partial, &cached).map_err(io(&cached))?;
    eviction::stamp(&crate_dir);
    eviction::evict(cache, eviction::cap(), &crate_dir);
    Ok(BuiltJob {
        binary: cached,
        cache_hit: false,
        crate_dir,
    })
}

/// A name part no other build writing at the same time uses: this process's id and a
/// count of its builds (two threads of one process, as tests and library users have,
/// build side by side).
fn unique_suffix() -> String {
    static BUILDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// Writes the job's crate (manifest, source, the workspace's lock file) aside, then
/// renames it to `crate_dir`: a concurrent build of the same job sees either no crate or a
/// whole one.
fn stage_crate(crate_dir: &Path, manifest: &str, source: &str) -> Result<(), BuildError> {
    let staging = crate_dir.with_extension(format!("staging-{}", unique_suffix()));
    std::fs::create_dir_all(staging.join("src")).map_err(|source| BuildError::Io {
        path: staging.display().to_string(),
        source,
    })?;
    write(&staging.join("Cargo.toml"), manifest)?;
    write(&staging.join("src/main.rs"), source)?;
    if let Ok(lock) = std::fs::read_to_string(WORKSPACE_LOCK) {
        write(&staging.join("Cargo.lock"), &lock)?;
    }
    if std::fs::rename(&staging, crate_dir).is_err() {
        // Another build put it there first; theirs is the same crate.
        let _ = std::fs::remove_dir_all(&staging);
        if !crate_dir.join("Cargo.toml").is_file() {
            return Err(BuildError::Io {
                path: crate_dir.display().to_string(),
                source: std::io::Error::other("cannot move the generated crate into place"),
            });
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), BuildError> {
    std::fs::write(path, text).map_err(|source| BuildError::Io {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds of one job in one process (test threads, a library's threads) stage its
    /// crate side by side: each in a folder of its own, so none writes into another's.
    #[test]
    fn threads_staging_one_crate_at_once_all_see_it_whole() {
        let cache = tempfile::tempdir().unwrap();
        let crate_dir = cache.path().join("jobs/j-0123");
        std::fs::create_dir_all(crate_dir.parent().unwrap()).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let dir = crate_dir.clone();
                std::thread::spawn(move || stage_crate(&dir, "[package]\n", "fn main() {}\n"))
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert_eq!(
            std::fs::read_to_string(crate_dir.join("src/main.rs")).unwrap(),
            "fn main() {}\n"
        );
        let left: Vec<_> = std::fs::read_dir(crate_dir.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["j-0123"], "no staging folder left");
    }
}
