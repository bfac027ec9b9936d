//! SIGINT and SIGTERM reach a running job (`weir run` forwards them): the job's uncommitted
//! outputs and its spill files are removed, it says so, and it exits with 128 + the signal,
//! as a shell reports a job killed by one. The previous results stay in place. Only jobs built as programs
//! (`run_main`) install this; an inline job leaves its host program's signals alone.
//!
//! A job that follows a file (`with follow`) runs until it is stopped, so its first signal
//! is the way to end it: its followed inputs end where their files stand
//! ([`InputStop`]), and the job finishes as at the end of a bounded input, committing its
//! outputs and exiting 0. A second signal aborts it as above.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::io::{InputStop, PendingOutputs};
use crate::spill::SpillSpace;

/// The signal that interrupted the job (0: none), set the moment it arrives, before the
/// thread that ends the job wakes up: a commit that starts after it must not go on.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// What ending an interrupted job removes, and its name for the message.
static ENDING: OnceLock<(&'static str, PendingOutputs, SpillSpace)> = OnceLock::new();

/// Ends the job for `signal` once, whichever thread gets here first: its uncommitted
/// outputs and spill files are removed, and it exits with 128 + the signal. A commit that
/// had already begun is finished first (the outputs' lock is held through it), and the
/// message says so.
fn end_interrupted(signal: i32) -> ! {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Some((job, outputs, spill)) = ENDING.get() {
            let replaced = outputs.discard_after_any_commit();
            spill.remove();
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            if replaced {
                eprintln!(
                    "error: job `{job}` interrupted by {name} after its outputs were replaced"
                );
            } else {
                eprintln!("error: job `{job}` interrupted by {name}; no output was replaced");
            }
        }
        std::process::exit(128 + signal);
    });
    // Another thread is ending the process.
    loop {
        std::thread::park();
    }
}

/// Called by a commit with the outputs' lock released: if the job was interrupted, it
/// ends here instead of replacing outputs of a run the user stopped. Only jobs built as
/// programs are ever interrupted this way.
pub(crate) fn end_if_interrupted() {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => {}
        signal => end_interrupted(signal),
    }
}

/// Whether the job was interrupted.
pub(crate) fn interrupted() -> bool {
    SIGNAL.load(Ordering::SeqCst) != 0
}

/// Watches for SIGINT and SIGTERM for the rest of the process: the signal is noted at
/// once (a commit checks it), and a thread of its own ends the job.
pub(crate) fn clean_up_on_interrupt(
    job: &'static str,
    outputs: PendingOutputs,
    spill: SpillSpace,
    stop: InputStop,
) {
    let _ = ENDING.set((job, outputs, spill));
    for signal in [SIGINT, SIGTERM] {
        let stop = stop.clone();
        // SAFETY: the action only loads and stores atomics, which is async-signal-safe.
        let noted = unsafe {
            signal_hook::low_level::register(signal, move || {
                if stop.is_following() && !stop.is_stopped() {
                    stop.stop();
                } else {
                    let _ = SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                }
            })
        };
        if noted.is_err() {
            return;
        }
    }
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        // Without a handler the default action stands: the job dies, and its temporary
        // files (hidden, beside their targets) and spill files remain; the targets are
        // untouched either way.
        return;
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            // The action above ran first: a signal that only stopped the input leaves
            // `SIGNAL` unset.
            match SIGNAL.load(Ordering::SeqCst) {
                0 => {
                    eprintln!(
                    "weir: job `{job}` stops reading its followed input and finishes (a second \
                     {} aborts it)",
                    if signal == SIGINT { "SIGINT" } else { "SIGTERM" }
                )
                }
                noted => end_interrupted(noted),
            }
        }
    });
}

/// On a panic (jobs are built to abort on one, so nothing unwinds), removes the spill files
/// and uncommitted outputs before the previous hook reports the panic.
///
/// timely's network threads panic when the connection to another process of a job is lost
/// (that process was killed, or its machine went away): that is not a bug in the job, so it
/// is reported as the job's error, with exit code 1, instead of a panic.
pub(crate) fn clean_up_on_panic(job: &'static str, outputs: PendingOutputs, spill: SpillSpace) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        spill.remove();
        outputs.discard_without_waiting();
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let Some(cause) = message.strip_prefix("timely communication error: ") {
            eprintln!(
                "error: job `{job}` failed: the connection to another process of the job was lost ({cause}); no output was replaced"
            );
            std::process::exit(1);
        }
        previous(info);
    }));
}
