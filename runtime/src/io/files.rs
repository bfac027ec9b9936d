//! The files a job reads and writes, checked before anything is written: every input can
//! be opened, every output's folder can take a file, no output is also an input or another
//! output (after `--input`/`--output` and following links), and standard input and output
//! have one user each.

use std::path::{Component, Path, PathBuf};

use super::abandoned;
use super::output_path::output_kind;
use crate::JobError;

/// How a job uses a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// A source reads it (`None` path: standard input).
    Input,
    /// A sink writes it (`None` path: standard output).
    Output,
    /// A source writes its refused records there.
    DeadLetter,
    /// The run's `--stats-json` report is written there.
    Report,
}

/// One file use of a job, as the compiler wrote it.
#[derive(Debug, Clone, Copy)]
pub struct FileUse {
    /// Reading, writing or dead letters.
    pub role: FileRole,
    /// The source or sink (the key of `--input`/`--output`).
    pub name: &'static str,
    /// The path written in the pipeline; `None` for standard input or output.
    pub path: Option<&'static str>,
}

/// A file use after overrides: its role, its owner, and the path (`None`: a std stream).
#[derive(Debug, Clone)]
pub struct ResolvedUse {
    /// Reading, writing or dead letters.
    pub role: FileRole,
    /// The source or sink.
    pub name: String,
    /// The file, or `None` for standard input or output.
    pub path: Option<String>,
}

impl ResolvedUse {
    fn describe(&self) -> String {
        match self.role {
            FileRole::Input => format!("source `{}`", self.name),
            FileRole::Output => format!("sink `{}`", self.name),
            FileRole::DeadLetter => format!("the dead-letter file of source `{}`", self.name),
            FileRole::Report => "the --stats-json report".to_string(),
        }
    }
}

/// The same file, whatever the spelling: an existing file canonicalized (links followed),
/// a new one as its canonical folder and name, else the path made absolute and cleaned.
pub fn identity(path: &str) -> PathBuf {
    let p = Path::new(path);
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    if let (Some(dir), Some(name)) = (p.parent(), p.file_name()) {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = dir.canonicalize() {
            return d.join(name);
        }
    }
    let absolute = std::env::current_dir().map_or_else(|_| p.to_path_buf(), |cwd| cwd.join(p));
    lexically_clean(&absolute)
}

/// Whether `path` exists and is neither a regular file nor a folder.
fn is_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// `a/./b/../c` as `a/c`, without asking the file system.
pub fn lexically_clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Refuses overlapping uses, then checks that inputs open and outputs can be created.
pub fn check(uses: &[ResolvedUse]) -> Result<(), JobError> {
    let conflict = |a: &ResolvedUse, b: &ResolvedUse, what: &str| {
        Err(JobError::Config(format!(
            "{} and {} {what}; nothing was written",
            a.describe(),
            b.describe()
        )))
    };
    let ids: Vec<Option<PathBuf>> = uses
        .iter()
        .map(|u| u.path.as_deref().map(identity))
        .collect();
    for (i, a) in uses.iter().enumerate() {
        for (j, b) in uses.iter().enumerate().skip(i + 1) {
            let writes = |u: &ResolvedUse| u.role != FileRole::Input;
            match (&ids[i], &ids[j]) {
                // Two writers of a device (`/dev/null`) do not overwrite each other.
                (Some(x), Some(_)) if writes(a) && writes(b) && is_device(x) => {}
                (Some(x), Some(y)) if x == y && (writes(a) || writes(b)) => {
                    let path = a.path.as_deref().unwrap_or_default();
                    return if writes(a) && writes(b) {
                        conflict(a, b, &format!("both write {path}"))
                    } else {
                        conflict(
                            a,
                            b,
                            &format!(
                                "use the same file {path}: the job would overwrite its own input"
                            ),
                        )
                    };
                }
                (None, None) if a.role == b.role => {
                    let stream = match a.role {
                        FileRole::Input => "both read standard input",
                        _ => "both write standard output",
                    };
                    return conflict(a, b, stream);
                }
                _ => {}
            }
        }
    }
    for u in uses {
        let Some(path) = &u.path else { continue };
        if path.is_empty() {
            return Err(JobError::Config(format!(
                "{} is given an empty path; nothing was written",
                u.describe()
            )));
        }
        match u.role {
            // A named pipe is not opened ahead: that would block, and its writer would
            // see a reader come and go.
            FileRole::Input if is_device(Path::new(path)) => {}
            FileRole::Input => {
                std::fs::File::open(path).map_err(|source| JobError::Io {
                    action: "cannot open input",
                    path: path.clone(),
                    source,
                })?;
            }
            FileRole::Output | FileRole::DeadLetter | FileRole::Report => {
                // A device, named pipe or descriptor is written directly when the sink
                // opens it; opening it here would block, or end a reader's input early.
                // A link is checked at the file it names, which the commit replaces.
                let Some(target) = output_kind(Path::new(path))
                    .map_err(|e| JobError::Config(format!("{e}; nothing was written")))?
                    .replaced()
                else {
                    continue;
                };
                let target = target.as_path();
                if target.is_dir() {
                    return Err(JobError::Config(format!(
                        "{} would replace {path}, which is a directory; nothing was written",
                        u.describe()
                    )));
                }
                if let (Some(dir), Some(name)) = (target.parent(), target.file_name()) {
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    abandoned::remove_abandoned_outputs(dir, &name.to_string_lossy());
                }
                // A probe file in the output's folder, removed at once.
                crate::io::commit::temp_beside(target)
                    .map_err(|e| JobError::Config(format!("{e}; nothing was written")))?;
            }
        }
    }
    abandoned::remove_abandoned_stdout_parts();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(role: FileRole, name: &str, path: Option<&str>) -> ResolvedUse {
        ResolvedUse {
            role,
            name: name.into(),
            path: path.map(String::from),
        }
    }

    #[test]
    fn an_output_may_not_be_an_input_or_another_output() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("same.csv");
        std::fs::write(&data, "a\n").unwrap();
        let plain = data.to_str().unwrap().to_string();
        let dotted = format!("{}/./same.csv", dir.path().display());
        let e = check(&[
            u(FileRole::Input, "e", Some(&plain)),
            u(FileRole::Output, "out", Some(&dotted)),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("source `e` and sink `out`") && e.contains("overwrite its own input"),
            "{e}"
        );
        let out = dir.path().join("o.csv");
        let e = check(&[
            u(FileRole::Output, "a", Some(out.to_str().unwrap())),
            u(
                FileRole::DeadLetter,
                "s",
                Some(&format!("{}/./o.csv", dir.path().display())),
            ),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("both write"), "{e}");
        assert!(!out.exists(), "nothing was written");
    }

    #[test]
    fn two_outputs_may_both_go_to_dev_null() {
        assert!(check(&[
            u(FileRole::Output, "a", Some("/dev/null")),
            u(FileRole::Output, "b", Some("/dev/null")),
        ])
        .is_ok());
    }

    #[test]
    fn one_reader_of_stdin_and_one_writer_of_stdout() {
        let e = check(&[u(FileRole::Input, "a", None), u(FileRole::Input, "b", None)]);
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("both read standard input"));
        let e = check(&[
            u(FileRole::Output, "a", None),
            u(FileRole::Output, "b", None),
        ]);
        assert!(e
            .unwrap_err()
            .to_string()
            .contains("both write standard output"));
        assert!(check(&[
            u(FileRole::Input, "a", None),
            u(FileRole::Output, "b", None)
        ])
        .is_ok());
    }

    #[test]
    fn a_missing_input_and_an_unwritable_folder_are_found_first() {
        let e = check(&[u(FileRole::Input, "a", Some("/no/such/input.csv"))]);
        assert!(e.unwrap_err().to_string().contains("/no/such/input.csv"));
        let e = check(&[u(FileRole::Output, "o", Some("/proc/no/out.csv"))]);
        assert!(e.unwrap_err().to_string().contains("/proc/no/out.csv"));
    }

    #[test]
    fn an_empty_path_and_a_directory_are_refused_as_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let e = check(&[u(FileRole::Output, "o", Some(""))]).unwrap_err();
        assert!(
            e.to_string().contains("sink `o` is given an empty path"),
            "{e}"
        );
        assert_eq!(e.exit_code(), 2);
        for role in [FileRole::Output, FileRole::DeadLetter, FileRole::Report] {
            let e = check(&[u(role, "o", Some(d))]).unwrap_err();
            assert!(e.to_string().contains("which is a directory"), "{e}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn paths_are_cleaned_without_the_file_system() {
        assert_eq!(
            lexically_clean(Path::new("/a/./b/../c")),
            PathBuf::from("/a/c")
        );
    }
}
