//! Running a built job in parallel: worker threads of one process, or a cluster of
//! processes on loopback with a host file of free ports, bounded in time and cleaned up.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::root;

/// How a test runs a job on more than one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// `--parallelism N` in one process.
    Threads(usize),
    /// `--processes N --process I --hostfile H`, each process with `threads` workers.
    Cluster {
        /// Processes started.
        processes: usize,
        /// `--parallelism` of each.
        threads: usize,
    },
}

/// The parallel runs every property test compares with one worker.
pub const PARALLEL: [Workers; 3] = [
    Workers::Threads(2),
    Workers::Threads(3),
    Workers::Cluster {
        processes: 2,
        threads: 1,
    },
];

/// How long a cluster run may take before its processes are killed and the test fails.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(180);

impl std::fmt::Display for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Workers::Threads(n) => write!(f, "{n} worker threads"),
            Workers::Cluster { processes, threads } => {
                write!(f, "{processes} processes of {threads} worker(s)")
            }
        }
    }
}

impl Workers {
    /// Runs `binary` from the root with `args` on these workers. For a cluster: process 0's
    /// output (where the job's outputs and report are); the other processes must print
    /// nothing on standard output.
    pub fn run(self, binary: &Path, args: &[&str]) -> Output {
        match self {
            Workers::Threads(n) => {
                let mut all = vec!["--parallelism".to_string(), n.to_string()];
                all.extend(args.iter().map(|a| a.to_string()));
                Command::new(binary)
                    .args(&all)
                    .current_dir(root())
                    .output()
                    .unwrap()
            }
            Workers::Cluster { processes, threads } => {
                // A port found free may be taken before the job binds it: try again then.
                for _ in 0..3 {
                    let outputs = run_cluster(binary, args, processes, threads);
                    let first = &outputs[0];
                    let lost_port = outputs
                        .iter()
                        .any(|o| String::from_utf8_lossy(&o.stderr).contains("cannot listen at"));
                    if lost_port {
                        continue;
                    }
                    for (i, other) in outputs.iter().enumerate().skip(1) {
                        assert!(
                            other.stdout.is_empty(),
                            "process {i} printed on standard output: {}",
                            String::from_utf8_lossy(&other.stdout)
                        );
                        if first.status.success() {
                            assert!(
                                other.status.success(),
                                "process {i} failed: {}",
                                String::from_utf8_lossy(&other.stderr)
                            );
                        }
                    }
                    return outputs.into_iter().next().unwrap();
                }
                panic!("no free ports on loopback for the cluster");
            }
        }
    }

    /// Runs and asserts success, returning standard output.
    pub fn run_ok(self, binary: &Path, args: &[&str]) -> String {
        let out = self.run(binary, args);
        assert!(
            out.status.success(),
            "job on {self} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// `n` addresses on loopback whose ports were free a moment ago.
pub fn free_addresses(n: usize) -> Vec<String> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect()
}

/// A host file for `processes` processes on loopback, in a fresh directory.
pub fn hostfile(processes: usize) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts");
    std::fs::write(&path, free_addresses(processes).join("\n") + "\n").unwrap();
    let path = path.display().to_string();
    (dir, path)
}

/// Starts every process of the cluster and waits for all of them (killing them all after
/// [`CLUSTER_TIMEOUT`]); their outputs in process order.
fn run_cluster(binary: &Path, args: &[&str], processes: usize, threads: usize) -> Vec<Output> {
    let (_dir, hosts) = hostfile(processes);
    let (done, finished) = std::sync::mpsc::channel();
    let mut pids = Vec::new();
    for process in 0..processes {
        let child = Command::new(binary)
            .args(args)
            .args(["--parallelism", &threads.to_string()])
            .args(["--processes", &processes.to_string()])
            .args(["--process", &process.to_string(), "--hostfile", &hosts])
            .current_dir(root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        pids.push(child.id());
        let done = done.clone();
        std::thread::spawn(move || done.send((process, child.wait_with_output().unwrap())));
    }
    let deadline = std::time::Instant::now() + CLUSTER_TIMEOUT;
    let mut outputs: Vec<Option<Output>> = (0..processes).map(|_| None).collect();
    for _ in 0..processes {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match finished.recv_timeout(left) {
            Ok((process, output)) => outputs[process] = Some(output),
            Err(_) => {
                for pid in &pids {
                    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                }
                panic!("the cluster of {processes} processes did not finish in {CLUSTER_TIMEOUT:?}: killed");
            }
        }
    }
    outputs.into_iter().map(Option::unwrap).collect()
}
