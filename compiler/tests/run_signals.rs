//! `weir run` and signals, with the real `weir` binary: SIGTERM reaches the job (which
//! then discards its outputs), and a job killed by a signal is reported by name.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The build cache the workspace's tests share (`target/tmp/weir-cache`).
fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("weir-cache")
}

/// `weir run` of a job that reads standard input (kept open, so the job waits) into
/// `out.csv`, which holds a previous result.
fn start(dir: &Path) -> Child {
    std::fs::write(
        dir.join("follow.pipe"),
        "source lines = stdin();\nlines |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    std::fs::write(dir.join("out.csv"), "line\nprevious\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "follow.pipe", "--cache-dir"])
        .arg(cache())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.as_mut().unwrap().write_all(b"one\n").unwrap();
    child
}

/// Waits until the job runs (its temporary output exists), and returns its pid.
fn job_pid(weir: &Child, dir: &Path) -> i32 {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the job never started"
        );
        let temp = std::fs::read_dir(dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".weir-tmp")
        });
        if let (true, Some(pid)) = (temp, child_of(weir.id() as i32)) {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process whose parent is `parent`, found in `/proc/*/stat`.
fn child_of(parent: i32) -> Option<i32> {
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid ...`: the command name may hold spaces, so read after it.
        let after = &stat[stat.rfind(')')? + 2..];
        let ppid: i32 = after.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent).then_some(pid)
    })
}

/// Waits for `child` with its standard input still open (waiting would close it, and the
/// job would end at that end of input instead of at the signal), then its stderr.
fn wait_keeping_stdin(mut child: Child) -> (std::process::ExitStatus, String) {
    let stdin = child.stdin.take();
    let mut stderr = child.stderr.take().unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
    (status, err)
}

fn gone(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    unsafe { libc::kill(pid, 0) != 0 }
}

#[test]
fn sigterm_to_weir_run_reaches_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let weir = start(dir.path());
    let job = job_pid(&weir, dir.path());
    // SAFETY: the pid of the weir process this test spawned.
    unsafe { libc::kill(weir.id() as i32, libc::SIGTERM) };
    let (out, err) = wait_keeping_stdin(weir);
    assert_eq!(out.code(), Some(128 + libc::SIGTERM), "{err}");
    assert!(
        err.contains("interrupted by SIGTERM"),
        "the job said so: {err}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(job) {
        assert!(Instant::now() < deadline, "the job outlived weir run");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "line\nprevious\n"
    );
}

#[test]
fn a_job_killed_by_a_signal_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let weir = start(dir.path());
    let job = job_pid(&weir, dir.path());
    // SAFETY: the pid of the job process weir run started for this test.
    unsafe { libc::kill(job, libc::SIGKILL) };
    let (out, err) = wait_keeping_stdin(weir);
    assert_eq!(out.code(), Some(128 + libc::SIGKILL), "{err}");
    assert!(err.contains("weir: job killed by SIGKILL"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "line\nprevious\n"
    );
}
