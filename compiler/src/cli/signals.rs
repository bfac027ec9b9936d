//! `weir run` passes SIGINT and SIGTERM on to the process it is waiting for (cargo while it
//! builds, then the job), so nothing is left running and the job's own handler discards its
//! uncommitted outputs; with no child running, weir exits at once. A child's death by a
//! signal is reported by name.

use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use signal_hook::consts::{SIGINT, SIGKILL, SIGTERM};
use signal_hook::iterator::Signals;

/// The process a signal goes to (0: none).
static CHILD: AtomicU32 = AtomicU32::new(0);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Starts forwarding SIGINT and SIGTERM for the rest of the process (once).
fn install() {
    INSTALLED.get_or_init(|| {
        let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                match CHILD.load(Ordering::SeqCst) {
                    0 => std::process::exit(128 + signal),
                    // SAFETY: kill(2) with a pid this process spawned and has not yet reaped
                    // (the guard clears it before waiting returns), and a valid signal.
                    pid => unsafe {
                        libc::kill(pid as libc::pid_t, signal);
                    },
                }
            }
        });
    });
}

/// Waits for `child`, forwarding SIGINT and SIGTERM to it meanwhile.
pub(crate) fn wait_forwarding(mut child: Child) -> std::io::Result<ExitStatus> {
    install();
    CHILD.store(child.id(), Ordering::SeqCst);
    let status = child.wait();
    CHILD.store(0, Ordering::SeqCst);
    status
}

/// Like [`wait_forwarding`], collecting the child's piped output.
pub(crate) fn output_forwarding(child: Child) -> std::io::Result<std::process::Output> {
    install();
    CHILD.store(child.id(), Ordering::SeqCst);
    let output = child.wait_with_output();
    CHILD.store(0, Ordering::SeqCst);
    output
}

/// The name of signal `signal`, for messages.
pub(crate) fn name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        SIGKILL => "SIGKILL".into(),
        other => signal_hook::low_level::signal_name(other)
            .map_or_else(|| format!("signal {other}"), str::to_string),
    }
}
