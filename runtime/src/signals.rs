//! SIGINT and SIGTERM reach a running job (`weir run` forwards them): the job's uncommitted
//! outputs and its spill files are removed, it says so, and it exits with 128 + the signal,
//! as a shell reports a job killed by one. The previous results stay in place. Only jobs built as programs
//! (`run_main`) install this; an inline job leaves its host program's signals alone.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::io::PendingOutputs;
use crate::spill::SpillSpace;

/// Watches for SIGINT and SIGTERM on a thread of its own for the rest of the process.
pub(crate) fn clean_up_on_interrupt(job: &'static str, outputs: PendingOutputs, spill: SpillSpace) {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        // Without a handler the default action stands: the job dies, and its temporary
        // files (hidden, beside their targets) and spill files remain; the targets are
        // untouched either way.
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            outputs.discard();
            spill.remove();
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            eprintln!("error: job `{job}` interrupted by {name}; no output was replaced");
            std::process::exit(128 + signal);
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
