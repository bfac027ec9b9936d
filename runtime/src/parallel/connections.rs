//! Connecting the processes of a multi-process job before timely starts: each process
//! listens at its line of the host file, connects to every process before it and accepts
//! every process after it, as timely's own start-up does; then timely runs over these
//! sockets.
//!
//! weir makes the connections itself rather than let timely do it because timely's
//! start-up prints its progress on standard output (where a job's records go), waits
//! forever for a process that never starts, and takes any connection on the port. Here
//! each pair of processes exchanges a hello naming the process and the job (a fingerprint
//! of the job and its arguments, so that every process runs the same job with the same
//! inputs and outputs); a stranger on the port is ignored, a process started otherwise is
//! an error, and a process that does not appear within [`CONNECT_TIMEOUT`] is an error
//! naming it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::JobError;

/// How long a process waits for the others to start.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// What a process says first on each connection, before its index, the number of
/// processes and the job's fingerprint.
const HELLO: &[u8; 8] = b"weir-job";
const HELLO_LEN: usize = 32;

/// One side's hello.
fn hello(process: usize, processes: usize, job: u64) -> [u8; HELLO_LEN] {
    let mut bytes = [0u8; HELLO_LEN];
    bytes[..8].copy_from_slice(HELLO);
    bytes[8..16].copy_from_slice(&(process as u64).to_le_bytes());
    bytes[16..24].copy_from_slice(&(processes as u64).to_le_bytes());
    bytes[24..].copy_from_slice(&job.to_le_bytes());
    bytes
}

/// A hello read: the process and its job's fingerprint, if it is one of weir's with
/// `processes` processes.
fn read_hello(bytes: &[u8; HELLO_LEN], processes: usize) -> Option<(usize, u64)> {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    (&bytes[..8] == HELLO && word(16) == processes as u64 && word(8) < processes as u64)
        .then(|| (word(8) as usize, word(24)))
}

fn different_job(process: usize, other: usize) -> JobError {
    JobError::Config(format!(
        "process {other} runs another job, or the same job with other arguments, than process {process}: start every process of a job with the same pipeline and arguments but --process"
    ))
}

/// Sockets to every other process of the job, in process order (`None` at `process`).
pub fn connect(
    addresses: &[String],
    process: usize,
    job: u64,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>, JobError> {
    let deadline = Instant::now() + timeout;
    let processes = addresses.len();
    let listener = TcpListener::bind(addresses[process].as_str()).map_err(|e| {
        JobError::Config(format!(
            "process {process} cannot listen at {} (its line of the host file): {e}",
            addresses[process]
        ))
    })?;
    let mut sockets: Vec<Option<TcpStream>> = (0..processes).map(|_| None).collect();
    for (to, address) in addresses.iter().enumerate().take(process) {
        let mut stream = connect_to(address, to, process, deadline)?;
        // Something that accepts and never answers (another service on a wrong port, a
        // hung peer) must not hold the job at start-up past the deadline.
        let silent = |e: &std::io::Error| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                JobError::Config(format!(
                    "process {process} connected to {address} (process {to} in the host file), which did not answer within {} s: another program listens there, or process {to} is hung",
                    timeout.as_secs_f64().ceil()
                ))
            } else {
                lost(to, address, e)
            }
        };
        bound_by(&stream, deadline).map_err(|e| lost(to, address, &e))?;
        stream
            .write_all(&hello(process, processes, job))
            .map_err(|e| silent(&e))?;
        let mut answer = [0u8; HELLO_LEN];
        stream.read_exact(&mut answer).map_err(|e| silent(&e))?;
        stream
            .set_read_timeout(None)
            .and_then(|()| stream.set_write_timeout(None))
            .map_err(|e| lost(to, address, &e))?;
        match read_hello(&answer, processes) {
            Some((p, theirs)) if p == to && theirs == job => {}
            Some((p, _)) if p == to => return Err(different_job(process, to)),
            _ => {
                return Err(JobError::Config(format!(
                    "{address} (process {to} in the host file) is not a process of this job"
                )))
            }
        }
        sockets[to] = Some(stream);
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| JobError::Config(format!("cannot listen at {}: {e}", addresses[process])))?;
    while let Some(waiting) = (process + 1..processes).find(|p| sockets[*p].is_none()) {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some((from, theirs)) = introduced(&stream, process, processes, deadline) {
                    let mut answer = &stream;
                    // The other side learns of a different job from its own check.
                    let _ = bound_by(&stream, deadline);
                    let _ = answer.write_all(&hello(process, processes, job));
                    let _ = stream.set_write_timeout(None);
                    if theirs != job {
                        return Err(different_job(process, from));
                    }
                    if sockets[from].is_none() {
                        sockets[from] = Some(stream);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    return Err(JobError::Config(format!(
                        "process {waiting} of the job did not connect to process {process} at {} within {} s: start every process with the same --processes and --hostfile",
                        addresses[process],
                        timeout.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => {
                return Err(JobError::Config(format!(
                    "process {process} cannot accept connections at {}: {e}",
                    addresses[process]
                )))
            }
        }
    }
    Ok(sockets)
}

/// Makes reads and writes on `stream` fail once `deadline` has passed.
fn bound_by(stream: &TcpStream, deadline: Instant) -> std::io::Result<()> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    stream.set_read_timeout(Some(left))?;
    stream.set_write_timeout(Some(left))
}

/// Connects to process `to` at `address`, trying again until `deadline` while it has not
/// started listening; no attempt outlasts the deadline (a host that drops packets).
fn connect_to(
    address: &str,
    to: usize,
    process: usize,
    deadline: Instant,
) -> Result<TcpStream, JobError> {
    use std::net::ToSocketAddrs;
    let attempt = || -> std::io::Result<TcpStream> {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let mut last = std::io::Error::other("the address resolves to nothing");
        for addr in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    };
    loop {
        match attempt() {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(|e| lost(to, address, &e))?;
                return Ok(stream);
            }
            Err(e) if Instant::now() > deadline => {
                return Err(JobError::Config(format!(
                    "process {process} could not reach process {to} at {address}: {e}; start every process with the same --processes and --hostfile"
                )))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The process a new connection introduces itself as, and its job's fingerprint, if it is
/// a later process of a job of `processes` processes; `None` for anything else (which is
/// then closed).
fn introduced(
    mut stream: &TcpStream,
    process: usize,
    processes: usize,
    deadline: Instant,
) -> Option<(usize, u64)> {
    stream.set_nonblocking(false).ok()?;
    // A peer says hello as soon as it connects; something silent is not let hold up the rest.
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .clamp(Duration::from_secs(1), Duration::from_secs(5));
    stream.set_read_timeout(Some(wait)).ok()?;
    let mut bytes = [0u8; HELLO_LEN];
    stream.read_exact(&mut bytes).ok()?;
    stream.set_read_timeout(None).ok()?;
    stream.set_nodelay(true).ok()?;
    read_hello(&bytes, processes).filter(|(from, _)| *from > process)
}

fn lost(to: usize, address: &str, e: &std::io::Error) -> JobError {
    JobError::Config(format!(
        "the connection to process {to} at {address} failed while starting: {e}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free_addresses(n: usize) -> Vec<String> {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        listeners
            .iter()
            .map(|l| l.local_addr().unwrap().to_string())
            .collect()
    }

    #[test]
    fn three_processes_connect_each_to_every_other() {
        let addresses = free_addresses(3);
        let handles: Vec<_> = (0..3)
            .map(|p| {
                let addresses = addresses.clone();
                std::thread::spawn(move || connect(&addresses, p, 7, Duration::from_secs(20)))
            })
            .collect();
        for (p, handle) in handles.into_iter().enumerate() {
            let sockets = handle.join().unwrap().unwrap();
            for (q, socket) in sockets.iter().enumerate() {
                assert_eq!(socket.is_some(), p != q, "process {p}, socket {q}");
            }
        }
    }

    #[test]
    fn a_process_that_never_starts_is_named() {
        let addresses = free_addresses(2);
        let e = connect(&addresses, 0, 7, Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(e.contains("process 1 of the job did not connect"), "{e}");
        let e = connect(&addresses, 1, 7, Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(e.contains("could not reach process 0"), "{e}");
    }

    #[test]
    fn a_stranger_on_the_port_is_not_taken_for_a_process() {
        let addresses = free_addresses(2);
        let listening = addresses.clone();
        let first = std::thread::spawn(move || connect(&listening, 0, 7, Duration::from_secs(20)));
        // Something else connects first and says something else.
        let mut stranger = loop {
            if let Ok(s) = TcpStream::connect(addresses[0].as_str()) {
                break s;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        stranger
            .write_all(b"GET / HTTP/1.0\r\n\r\n..............")
            .unwrap();
        let second = connect(&addresses, 1, 7, Duration::from_secs(20)).unwrap();
        assert!(second[0].is_some());
        assert!(first.join().unwrap().unwrap()[1].is_some());
    }

    /// A wrong port pointing at a service that accepts and never answers, or a hung peer:
    /// the process gives up at the deadline, naming the address, instead of waiting forever.
    #[test]
    fn a_peer_that_accepts_and_never_answers_fails_at_the_deadline() {
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut addresses = free_addresses(2);
        addresses[0] = silent.local_addr().unwrap().to_string();
        let held = std::thread::spawn(move || {
            let (conn, _) = silent.accept().unwrap();
            std::thread::sleep(Duration::from_secs(3));
            drop(conn);
        });
        let started = Instant::now();
        let e = connect(&addresses, 1, 7, Duration::from_millis(500))
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(2), "{e}");
        assert!(
            e.contains(&addresses[0]) && e.contains("did not answer"),
            "{e}"
        );
        held.join().unwrap();
    }

    #[test]
    fn processes_of_different_jobs_do_not_join() {
        let addresses = free_addresses(2);
        let listening = addresses.clone();
        let first = std::thread::spawn(move || connect(&listening, 0, 7, Duration::from_secs(20)));
        let e = connect(&addresses, 1, 8, Duration::from_secs(20))
            .unwrap_err()
            .to_string();
        assert!(e.contains("process 0 runs another job"), "{e}");
        let e = first.join().unwrap().unwrap_err().to_string();
        assert!(e.contains("process 1 runs another job"), "{e}");
    }
}
