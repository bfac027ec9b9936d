//! `weir run` passes SIGINT and SIGTERM on to the process it is waiting for (cargo while it
//! builds, then the job), so nothing is left running and the job's own handler discards its
//! uncommitted outputs; with no child running, weir exits at once. A child's death by a
//! signal is reported by name.
//!
//! A signal the terminal sent (Ctrl-C) went to its whole foreground process group, the
//! child included, so it is not passed on: the child would see it twice, and a job that
//! follows a file ends cleanly on a first signal but aborts on a second.

use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

use signal_hook::consts::{SIGINT, SIGKILL, SIGTERM};
use signal_hook::iterator::Signals;

/// The process a signal goes to (0: none).
static CHILD: AtomicU32 = AtomicU32::new(0);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Whether the latest signal came from the kernel: a terminal's, sent to the process group.
static FROM_TERMINAL: AtomicBool = AtomicBool::new(false);

/// Starts forwarding SIGINT and SIGTERM for the rest of the process (once).
fn install() {
    INSTALLED.get_or_init(|| {
        for signal in [SIGINT, SIGTERM] {
            // SAFETY: the action reads the siginfo it is given and stores to an atomic,
            // both async-signal-safe. It runs before the iterator's own action (registered
            // after it), so the thread below sees the flag of the signal it is handling.
            let _ = unsafe {
                signal_hook_registry::register_sigaction(signal, |info| {
                    FROM_TERMINAL.store(info.si_code == libc::SI_KERNEL, Ordering::SeqCst);
                })
            };
        }
        let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                match CHILD.load(Ordering::SeqCst) {
                    0 => std::process::exit(128 + signal),
                    _ if FROM_TERMINAL.load(Ordering::SeqCst) => {}
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

/// Makes the process `cmd` starts die with this one: on Linux the kernel sends it SIGTERM
/// when weir goes, even by SIGKILL, which no handler sees (`PR_SET_PDEATHSIG`); the job's
/// own SIGTERM handler then discards its outputs. Without it a killed `weir run` left the
/// job running on its own, to replace the outputs of a run the user had stopped.
pub(crate) fn die_with_this_process(cmd: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (prctl, getppid, kill, getpid).
        let parent = unsafe { libc::getpid() };
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // weir died between the fork and the prctl: nobody would send it.
                if libc::getppid() != parent {
                    libc::kill(libc::getpid(), libc::SIGTERM);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
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
