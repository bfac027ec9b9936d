//! Where an output path's bytes go. Most outputs are replaced at commit: a temporary file
//! beside the target is renamed over it. Two kinds of path cannot be replaced that way:
//! a device, named pipe or terminal (`/dev/null`, `<(...)`), and a file descriptor of
//! this process (`/dev/stderr`, `/dev/fd/3`: links into `/proc`); those are written
//! directly. A symbolic link is followed to the file it names, which is replaced there:
//! renaming over the link would replace the link itself with a file.
//!
//! This process's standard error (`/dev/stderr`) is written through a duplicate of its
//! descriptor, as `2>&1` would: opened anew, a file behind it would have two offsets, and
//! weir's own messages would overwrite the output's first bytes.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::JobError;

/// How deep a chain of links is followed, as the kernel's own limit (`ELOOP`).
const MAX_LINKS: usize = 40;

/// What an output path comes to.
#[derive(Debug)]
pub(crate) enum OutputPath {
    /// Written directly, opened now.
    Direct(File),
    /// A file to replace at commit (the final file of a chain of links).
    Replaced(PathBuf),
}

/// Where an output path points, found without opening anything (opening a named pipe
/// blocks until a reader comes).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OutputKind {
    /// Written directly: the path to open, and whether to append (a regular file behind
    /// a descriptor of this process: its earlier bytes are someone else's).
    Direct { path: PathBuf, append: bool },
    /// This process's standard output or error, written through a duplicate of it.
    Shared(Shared),
    /// A file to replace at commit (the final file of a chain of links).
    Replaced(PathBuf),
}

impl OutputKind {
    /// The file to replace at commit; `None` for an output written directly.
    pub(crate) fn replaced(self) -> Option<PathBuf> {
        match self {
            OutputKind::Replaced(path) => Some(path),
            OutputKind::Direct { .. } | OutputKind::Shared(_) => None,
        }
    }
}

/// A standard stream of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    /// File descriptor 1.
    Stdout,
    /// File descriptor 2.
    Stderr,
}

impl Shared {
    /// The stream a descriptor's path in `/proc` (`/proc/self/fd/2`, `/proc/<this
    /// process>/fd/2`) names, if it names one of this process's.
    fn of(path: &Path) -> Option<Shared> {
        let folder = path.parent()?;
        let own = folder == Path::new("/proc/self/fd")
            || folder == Path::new("/proc/thread-self/fd")
            || *folder
                == Path::new("/proc")
                    .join(std::process::id().to_string())
                    .join("fd");
        match path.file_name()?.to_str()? {
            "1" if own => Some(Shared::Stdout),
            "2" if own => Some(Shared::Stderr),
            _ => None,
        }
    }

    fn duplicate(self) -> std::io::Result<File> {
        use std::os::fd::AsFd;
        let fd = match self {
            Shared::Stdout => std::io::stdout().as_fd().try_clone_to_owned()?,
            Shared::Stderr => std::io::stderr().as_fd().try_clone_to_owned()?,
        };
        Ok(File::from(fd))
    }
}

/// Where `target`'s bytes go, the file opened if it is written directly (see the
/// module's doc).
pub(crate) fn output_path(target: &Path) -> Result<OutputPath, JobError> {
    let opened = match output_kind(target)? {
        OutputKind::Replaced(path) => return Ok(OutputPath::Replaced(path)),
        OutputKind::Shared(stream) => stream.duplicate(),
        OutputKind::Direct { path, append } => std::fs::OpenOptions::new()
            .write(true)
            .append(append)
            .open(path),
    };
    opened
        .map(OutputPath::Direct)
        .map_err(|source| JobError::Io {
            action: "cannot open output",
            path: target.display().to_string(),
            source,
        })
}

/// Where `target`'s bytes go (see the module's doc).
pub(crate) fn output_kind(target: &Path) -> Result<OutputKind, JobError> {
    let mut path = target.to_path_buf();
    for _ in 0..MAX_LINKS {
        if path.starts_with("/proc") {
            // A descriptor's link names what it holds ("pipe:[...]" for a pipe), never
            // followed; a path there that is nothing fails when it is created.
            if let Some(stream) = Shared::of(&path) {
                return Ok(OutputKind::Shared(stream));
            }
            match std::fs::metadata(&path) {
                Ok(m) => {
                    let append = m.is_file();
                    return Ok(OutputKind::Direct { path, append });
                }
                Err(_) => return Ok(OutputKind::Replaced(path)),
            }
        }
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => path = link_target(&path)?,
            Ok(m) if !m.is_file() && !m.is_dir() => {
                return Ok(OutputKind::Direct {
                    path,
                    append: false,
                })
            }
            // A file or folder (refused when the job's files are checked), or nothing yet.
            _ => return Ok(OutputKind::Replaced(path)),
        }
    }
    Err(JobError::Io {
        action: "cannot follow the links of output",
        path: target.display().to_string(),
        source: std::io::Error::other(format!("more than {MAX_LINKS} links in a chain")),
    })
}

/// Where the link `path` points, read in the real folder that holds it: `/dev/fd/1`'s
/// folder is `/proc/self/fd`, where `1` is a link to what the descriptor holds.
fn link_target(path: &Path) -> Result<PathBuf, JobError> {
    let folder = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let real = folder
        .canonicalize()
        .unwrap_or_else(|_| folder.to_path_buf());
    if real.starts_with("/proc") {
        return Ok(real.join(path.file_name().unwrap_or_default()));
    }
    let link = std::fs::read_link(path).map_err(|source| JobError::Io {
        action: "cannot read the link of output",
        path: path.display().to_string(),
        source,
    })?;
    // An absolute link replaces the folder in the join.
    Ok(real.join(link))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replaced(target: &Path) -> PathBuf {
        match output_path(target).unwrap() {
            OutputPath::Replaced(p) => p,
            OutputPath::Direct(f) => panic!("{} is written directly: {f:?}", target.display()),
        }
    }

    #[test]
    fn a_plain_path_is_replaced_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.csv");
        assert_eq!(replaced(&new), new);
        std::fs::write(&new, "old").unwrap();
        assert_eq!(replaced(&new), new);
        assert_eq!(replaced(Path::new("bare.csv")), PathBuf::from("bare.csv"));
    }

    #[test]
    fn a_link_is_followed_to_its_file_through_relative_and_absolute_links() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("data")).unwrap();
        std::fs::write(real.join("data/out.csv"), "old").unwrap();
        // link -> data/out.csv (relative); again -> link (absolute).
        std::os::unix::fs::symlink("data/out.csv", real.join("link")).unwrap();
        std::os::unix::fs::symlink(real.join("link"), real.join("again")).unwrap();
        assert_eq!(replaced(&real.join("link")), real.join("data/out.csv"));
        assert_eq!(replaced(&real.join("again")), real.join("data/out.csv"));
        // A link to a file not made yet: the file is made there.
        std::os::unix::fs::symlink("data/later.csv", real.join("dangling")).unwrap();
        assert_eq!(
            replaced(&real.join("dangling")),
            real.join("data/later.csv")
        );
    }

    #[test]
    fn a_loop_of_links_is_refused_naming_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let err = output_path(&a).unwrap_err().to_string();
        assert!(err.contains(&a.display().to_string()), "{err}");
        assert!(err.contains("links"), "{err}");
    }

    #[test]
    fn a_device_and_a_descriptor_of_this_process_are_written_directly() {
        for path in ["/dev/null", "/proc/self/fd/2", "/dev/stderr"] {
            if Path::new(path).exists() {
                assert!(
                    matches!(output_path(Path::new(path)).unwrap(), OutputPath::Direct(_)),
                    "{path}"
                );
            }
        }
    }

    #[test]
    fn a_descriptor_on_a_regular_file_is_appended_to() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.txt");
        std::fs::write(&log, "earlier\n").unwrap();
        let held = File::open(&log).unwrap();
        let path = PathBuf::from(format!("/dev/fd/{}", held.as_raw_fd()));
        let OutputPath::Direct(mut file) = output_path(&path).unwrap() else {
            panic!("{} is replaced", path.display());
        };
        file.write_all(b"later\n").unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "earlier\nlater\n");
        // Neither the link nor the file was replaced.
        assert!(std::fs::symlink_metadata("/dev/fd").is_ok());
    }
}
