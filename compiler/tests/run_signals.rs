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

/// Every entry under `dir`, recursively.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            all.extend(entries(&path));
        }
        all.push(path);
    }
    all
}

#[test]
fn sigterm_to_weir_run_removes_the_jobs_spill_files() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    std::fs::write(
        dir.path().join("count.pipe"),
        "source lines = stdin();\nlines |> key_by(line) |> aggregate { n: count() } |> sink out = csv(\"out.csv\");\n",
    )
    .unwrap();
    let mut weir = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "count.pipe", "--memory", "1MB", "--spill-dir"])
        .arg(&spill)
        .arg("--cache-dir")
        .arg(cache())
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Far more distinct keys than 1 MB holds, written from a thread (the pipe fills while
    // the job is still being built); the input then stays open, so the job waits.
    let mut stdin = weir.stdin.take().unwrap();
    let (back, held) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Write;
        let text: String = (0..200_000).map(|i| format!("key-{i}\n")).collect();
        let _ = stdin.write_all(text.as_bytes());
        let _ = stdin.flush();
        let _ = back.send(stdin);
    });
    let start = Instant::now();
    while !entries(&spill).iter().any(|p| {
        p.extension().is_some_and(|e| e == "spill")
            && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the job never spilled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: the pid of the weir process this test spawned.
    unsafe { libc::kill(weir.id() as i32, libc::SIGTERM) };
    let stdin = held.recv_timeout(Duration::from_secs(60));
    let mut stderr = weir.stderr.take().unwrap();
    let status = weir.wait().unwrap();
    drop(stdin);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{err}");
    assert_eq!(
        entries(&spill),
        Vec::<PathBuf>::new(),
        "spill files outlived the job"
    );
    assert!(!dir.path().join("out.csv").exists());
}

/// SIGKILL, which weir cannot catch or forward, still ends the job (the kernel sends it
/// SIGTERM when its parent dies), so it neither replaces the outputs of a run the user
/// killed nor waits on its input forever; the next run removes any temporary file it left.
#[test]
fn sigkill_to_weir_run_ends_the_job_and_the_next_run_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let weir = start(dir.path());
    let job = job_pid(&weir, dir.path());
    // SAFETY: the pid of the weir process this test spawned.
    unsafe { libc::kill(weir.id() as i32, libc::SIGKILL) };
    let (out, _) = wait_keeping_stdin(weir);
    assert_eq!(out.code(), None, "killed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(job) {
        assert!(Instant::now() < deadline, "the job outlived weir run");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv")).unwrap(),
        "line\nprevious\n"
    );
    // A temporary file of a run that was killed outright, as a power cut would leave it.
    let (ns, dead) = (
        weir_runtime::io::abandoned::pid_namespace(),
        4_000_000_000u32,
    );
    let orphan = dir
        .path()
        .join(format!(".out.csv.{ns}-{dead}.a1b2c3.weir-tmp"));
    std::fs::write(&orphan, "half").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["run", "follow.pipe", "--cache-dir"])
        .arg(cache())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".weir-"))
        .collect();
    assert!(left.is_empty() || ns == 0, "{left:?}");
}
