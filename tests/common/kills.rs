//! The SIGKILL harness of `tests/checkpoints.rs`: a job run once uninterrupted and then
//! killed at random moments (on one worker, several, or one process of a cluster) and
//! resumed each time, its outputs compared with the uninterrupted run's; and the rescale
//! smoke loop. Modelled on Flink's failure-injecting IT cases and Arroyo's smoke loop.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{build, root, temp};

/// One example run over generated inputs.
pub struct Job {
    pub pipe: &'static str,
    /// `--input` names and the files' contents.
    pub inputs: Vec<(&'static str, String)>,
    /// `--output` names.
    pub outputs: &'static [&'static str],
    /// Read in slices, one per worker: on several workers the order in which the workers'
    /// partial results reach an operator varies from run to run (uninterrupted ones too),
    /// so the outputs compare as multisets of lines there.
    pub sliced: bool,
    /// Flags every run of it takes (`--memory 1MB`: a state that spills).
    pub args: &'static [&'static str],
}

/// `bytes` as compared: its lines sorted, when their order may vary.
pub fn comparable(bytes: &[u8], any_order: bool) -> Vec<u8> {
    if !any_order {
        return bytes.to_vec();
    }
    let mut lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    lines.sort_unstable();
    lines.concat()
}

pub fn kills() -> usize {
    std::env::var("WEIR_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3)
}

/// The job's command in `dir`: inputs from `data`, outputs into `dir`.
pub fn command(binary: &Path, job: &Job, data: &Path, dir: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(binary);
    c.current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .args(job.args);
    for (name, _) in &job.inputs {
        c.arg("--input")
            .arg(format!("{name}={}", data.join(name).display()));
    }
    for name in job.outputs {
        c.arg("--output").arg(format!(
            "{name}={}",
            dir.join(format!("{name}.out")).display()
        ));
    }
    c.args(extra);
    c
}

pub fn outputs(job: &Job, dir: &Path) -> Vec<(String, Vec<u8>)> {
    job.outputs
        .iter()
        .map(|name| {
            let path = dir.join(format!("{name}.out"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name.to_string(), bytes)
        })
        .collect()
}

/// The number of the newest complete checkpoint in `dir`, if any.
pub fn newest_complete(dir: &Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.path().join("MANIFEST").exists())
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("chk-")?.parse().ok())
        .max()
}

/// Where a job runs: worker threads of one process, or a cluster of two processes of one
/// worker each on loopback.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    Threads(usize),
    Cluster,
}

impl Layout {
    fn workers(self) -> usize {
        match self {
            Layout::Threads(n) => n,
            Layout::Cluster => 2,
        }
    }

    /// Starts the job's processes in `dir` with `extra` flags.
    fn start(
        self,
        binary: &Path,
        job: &Job,
        data: &Path,
        dir: &Path,
        extra: &[&str],
    ) -> Vec<Child> {
        match self {
            Layout::Threads(n) => {
                let n = n.to_string();
                vec![command(binary, job, data, dir, extra)
                    .args(["--parallelism", &n])
                    .spawn()
                    .unwrap()]
            }
            Layout::Cluster => {
                // New ports each time: a killed process's may not be free yet.
                let hosts = dir.join("hosts");
                std::fs::write(&hosts, super::workers::free_addresses(2).join("\n")).unwrap();
                (0..2)
                    .map(|process| {
                        command(binary, job, data, dir, extra)
                            .args(["--processes", "2", "--hostfile"])
                            .arg(&hosts)
                            .args(["--process", &process.to_string()])
                            .spawn()
                            .unwrap()
                    })
                    .collect()
            }
        }
    }
}

/// Waits for every process (killing those still running after a minute): whether all
/// succeeded, and what they said.
pub fn wait_all(children: Vec<Child>) -> (bool, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut ok, mut said) = (true, String::new());
    for mut child in children {
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        ok &= out.status.success();
        write!(
            said,
            "[{:?}] {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
        .unwrap();
    }
    (ok, said)
}

/// A job's inputs written, its binary built, and the folders of its golden run and of the
/// runs compared with it.
struct Prepared {
    dir: tempfile::TempDir,
    data: PathBuf,
    binary: PathBuf,
    golden: PathBuf,
    runs: PathBuf,
}

fn prepare(job: &Job, runs: &str) -> Prepared {
    let dir = temp();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for (name, text) in &job.inputs {
        std::fs::write(data.join(name), text).unwrap();
    }
    let binary = build(&root().join(job.pipe));
    let (golden, runs) = (dir.path().join("golden"), dir.path().join(runs));
    std::fs::create_dir_all(&golden).unwrap();
    std::fs::create_dir_all(&runs).unwrap();
    Prepared {
        dir,
        data,
        binary,
        golden,
        runs,
    }
}

/// Runs `job` laid out as `layout` once without checkpoints and then killed `kills()`
/// times with them (on a cluster, one process of the two, the other then fails), resuming
/// each time; the outputs must be the same bytes.
pub fn survives_kills(job: Job, seed: u64, layout: Layout) {
    let Prepared {
        dir: _dir,
        data,
        binary,
        golden,
        runs: killed,
    } = prepare(&job, "killed");

    let started = Instant::now();
    let (ok, said) = wait_all(layout.start(&binary, &job, &data, &golden, &[]));
    assert!(ok, "{said}");
    let took = started.elapsed();
    let want = outputs(&job, &golden);

    let checkpoints = killed.join("checkpoints");
    let flags = [
        "--checkpoint-dir",
        checkpoints.to_str().unwrap(),
        "--checkpoint-interval",
        "50ms",
    ];
    let log = kill_and_resume(
        &checkpoints,
        took,
        seed,
        || layout.start(&binary, &job, &data, &killed, &flags),
        || {},
    );
    let any_order = job.sliced && layout.workers() > 1;
    for ((name, got), (_, want)) in outputs(&job, &killed).iter().zip(&want) {
        assert!(
            comparable(got, any_order) == comparable(want, any_order),
            "{} on {layout:?}: output `{name}` differs from the uninterrupted run's ({} bytes against {}):\n{log}",
            job.pipe,
            got.len(),
            want.len()
        );
    }
    let left: Vec<PathBuf> = std::fs::read_dir(&checkpoints)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "a finished job leaves no checkpoint: {left:?}"
    );
}

/// The kill loop: `kills()` runs started by `start` (a run's processes, writing
/// checkpoints into `checkpoints`), each with one process killed at a random moment (a
/// share of `took`, an uninterrupted run's time) once the run has taken a checkpoint;
/// a run that finished first starts over (`started_over` removes what it wrote). Then a
/// last run to the end, which must succeed, and at least one run must have resumed from a
/// checkpoint. Returns the log of the kills.
pub fn kill_and_resume(
    checkpoints: &Path,
    took: Duration,
    seed: u64,
    mut start: impl FnMut() -> Vec<Child>,
    mut started_over: impl FnMut(),
) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut resumed, mut log) = (0, String::new());
    let mut took = took;
    for kill in 0..kills() {
        let before = newest_complete(checkpoints);
        let started = Instant::now();
        let mut children = start();
        let at = took
            .mul_f64(rng.random_range(0.2..0.9))
            .max(Duration::from_millis(60));
        // Waits `at`, or less when the run ends first: then its time is known.
        while started.elapsed() < at && children.iter_mut().any(|c| c.try_wait().unwrap().is_none())
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let ended_by = started.elapsed();
        // A kill before the run's first checkpoint would only repeat the last resume: on
        // a loaded machine the job may not have got that far yet.
        let victim = rng.random_range(0..children.len());
        while newest_complete(checkpoints) == before
            && children[victim].try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = children[victim].kill();
        let (ok, said) = wait_all(children);
        resumed += said.matches("resumes from checkpoint").count();
        writeln!(log, "kill {kill} of process {victim} after {at:?}: {said}").unwrap();
        if ok {
            // It finished before the kill: start over for the next one, killed sooner (the
            // uninterrupted run timed `took` on a machine busier than now, perhaps).
            took = took.min(ended_by);
            std::fs::remove_dir_all(checkpoints).ok();
            started_over();
        }
    }
    let (ok, said) = wait_all(start());
    assert!(ok, "{log}\nlast run: {said}");
    resumed += said.matches("resumes from checkpoint").count();
    assert!(
        resumed > 0,
        "no run resumed from a checkpoint:\n{log}\n{said}"
    );
    log
}

/// Arroyo's smoke loop, with a way back: a golden run on one worker; a run on two killed
/// once it has taken three checkpoints; a run on three resumed from there (key groups
/// move between workers) killed after one more; and a run on one that resumes and
/// finishes. Its outputs hold the golden run's lines, each once (the order of a parallel
/// run's output is its workers').
pub fn survives_rescaling(job: Job) {
    let Prepared {
        dir: _dir,
        data,
        binary,
        golden,
        runs: rescaled,
    } = prepare(&job, "rescaled");
    let out = command(&binary, &job, &data, &golden, &[])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = outputs(&job, &golden);
    let checkpoints = rescaled.join("checkpoints");
    let flags = rescale_flags(&checkpoints);
    // Three checkpoints on two workers, one more on three. Should a run end first (a
    // loaded machine stretches the pauses between checkpoints), start over, killing the
    // run on two after its first checkpoint: more input is then left for the run on three.
    let mut log = String::new();
    let mut rescaled_once = false;
    for taken_on_two in [3, 1] {
        std::fs::remove_dir_all(&rescaled).ok();
        std::fs::create_dir_all(&rescaled).unwrap();
        match killed_on_two_then_three(&job, &binary, &data, &rescaled, taken_on_two) {
            Ok(said) => {
                log.push_str(&said);
                rescaled_once = true;
                break;
            }
            Err(said) => writeln!(log, "{said}; starting over").unwrap(),
        }
    }
    assert!(
        rescaled_once,
        "every try ended before its checkpoints: make the input longer\n{log}"
    );
    let out = command(&binary, &job, &data, &rescaled, &[])
        .args(flags("1"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}\nlast run: {err}");
    writeln!(log, "on 1: {err}").unwrap();
    let tried = log
        .rsplit_once("; starting over\n")
        .map_or(log.as_str(), |(_, last)| last);
    assert_eq!(
        tried.matches("resumes from checkpoint").count(),
        2,
        "the runs on three workers and on one resume:\n{log}"
    );
    assert!(
        log.contains("(written by 2 worker(s), resumed on 3)"),
        "{log}"
    );
    assert!(
        log.contains("(written by 3 worker(s), resumed on 1)"),
        "{log}"
    );
    for ((name, got), (_, want)) in outputs(&job, &rescaled).iter().zip(&want) {
        assert!(
            comparable(got, true) == comparable(want, true),
            "{}: output `{name}` differs from the golden run's ({} bytes against {}):\n{log}",
            job.pipe,
            got.len(),
            want.len()
        );
    }
    let parts: Vec<String> = std::fs::read_dir(&rescaled)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("weir-part"))
        .collect();
    assert!(parts.is_empty(), "the end removes every part: {parts:?}");
}

/// The flags of a rescaled run on `workers` workers, checkpointing into `checkpoints`.
fn rescale_flags(checkpoints: &Path) -> impl Fn(&str) -> [String; 6] + '_ {
    move |workers| {
        [
            "--checkpoint-dir".to_string(),
            checkpoints.display().to_string(),
            "--checkpoint-interval".to_string(),
            "10ms".to_string(),
            "--parallelism".to_string(),
            workers.to_string(),
        ]
    }
}

/// A run on two workers killed after `taken_on_two` checkpoints, then one on three that
/// resumes from there, killed after one more. What they said, or, when a run ended before
/// its checkpoints, why not.
fn killed_on_two_then_three(
    job: &Job,
    binary: &Path,
    data: &Path,
    rescaled: &Path,
    taken_on_two: u64,
) -> Result<String, String> {
    let checkpoints = rescaled.join("checkpoints");
    let flags = rescale_flags(&checkpoints);
    let mut log = String::new();
    for (workers, taken) in [("2", taken_on_two), ("3", 1)] {
        let first = newest_complete(&checkpoints).unwrap_or(0);
        let mut child = command(binary, job, data, rescaled, &[])
            .args(flags(workers))
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while newest_complete(&checkpoints).unwrap_or(0) < first + taken {
            if child.try_wait().unwrap().is_some() {
                let out = child.wait_with_output().unwrap();
                return Err(format!(
                    "{log}the run on {workers} workers ended before {taken} checkpoint(s): {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            assert!(
                Instant::now() < deadline,
                "no checkpoints on {workers} workers"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        writeln!(
            log,
            "on {workers}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .unwrap();
    }
    Ok(log)
}
