//! Files a run leaves only when it is killed outright (SIGKILL, a power cut): the
//! temporary files of its outputs, their backups during a commit, and the parts of standard
//! output of its workers. Their names carry the pid namespace and process id of the run that
//! made them, so the next run that writes to the same place removes those whose process is
//! gone, and never another live run's.

use std::path::Path;

/// The id of this process's pid namespace (0 where the system does not say): pids are
/// only comparable within one, and containers sharing a folder have several.
pub fn pid_namespace() -> u64 {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            let l = l.to_string_lossy().into_owned();
            l.trim_start_matches("pid:[")
                .trim_end_matches(']')
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// `<namespace>-<pid>` of this process, as names of its files carry it.
pub(crate) fn owner_tag() -> String {
    format!("{}-{}", pid_namespace(), std::process::id())
}

/// Whether the process `<namespace>-<pid>` named by `tag` is known to be gone: it is of
/// this namespace (pids of another are not ours to judge) and no such process runs.
pub(crate) fn owner_is_gone(tag: &str) -> bool {
    let Some((ns, pid)) = tag.split_once('-') else {
        return false;
    };
    let (Ok(ns), Ok(pid)) = (ns.parse::<u64>(), pid.parse::<u32>()) else {
        return false;
    };
    let ours = pid_namespace();
    ours != 0 && ns == ours && !Path::new("/proc").join(pid.to_string()).exists()
}

/// The prefix of the names of the temporary files and backups of output `file_name`.
pub(crate) fn output_prefix(file_name: &str) -> String {
    format!(".{file_name}.")
}

/// Removes, from `dir`, the temporary files (`.NAME.<owner>.XXXXXX.weir-tmp`) and backups
/// (`.NAME.<owner>.weir-old`) of output `file_name` whose run is gone.
pub(crate) fn remove_abandoned_outputs(dir: &Path, file_name: &str) {
    remove_abandoned(dir, &output_prefix(file_name));
}

/// Removes, from the system's temporary directory, the parts of standard output
/// (`.weir-stdout.<owner>.XXXXXX.weir-tmp`) whose run is gone.
pub(crate) fn remove_abandoned_stdout_parts() {
    remove_abandoned(&std::env::temp_dir(), STDOUT_PART_PREFIX);
}

/// The prefix of the names of parts of standard output.
pub(crate) const STDOUT_PART_PREFIX: &str = ".weir-stdout.";

fn remove_abandoned(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        if !(rest.ends_with(".weir-tmp") || rest.ends_with(".weir-old")) {
            continue;
        }
        let tag = rest.split('.').next().unwrap_or_default();
        if owner_is_gone(tag) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_gone_runs_are_removed_and_others_left() {
        let dir = tempfile::tempdir().unwrap();
        let ns = pid_namespace();
        // A pid far above any this machine hands out.
        let gone = format!("{ns}-4000000000");
        let names = [
            format!(".out.csv.{gone}.abc123.weir-tmp"),
            format!(".out.csv.{gone}.weir-old"),
            format!(".out.csv.{}.abc123.weir-tmp", owner_tag()),
            format!(".out.csv.{}-4000000000.abc.weir-tmp", ns + 1),
            format!(".other.csv.{gone}.abc123.weir-tmp"),
            "out.csv".to_string(),
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        remove_abandoned_outputs(dir.path(), "out.csv");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want: Vec<String> = names[2..].to_vec();
        if ns == 0 {
            want = names.to_vec(); // no way to tell whose a file is
        }
        want.sort();
        assert_eq!(left, want);
    }
}
