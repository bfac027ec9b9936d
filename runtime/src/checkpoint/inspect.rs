//! What a checkpoint holds, for people (`weir checkpoint inspect PATH`): its manifest,
//! then each part of the job's state with its size, and for each operator state its
//! entries and the key groups they fall in.

use std::fmt::Write as _;
use std::path::Path;

use super::codec::StateIn;
use super::store;
use crate::state::contract::SnapshotReader;
use crate::JobError;

/// The report on the checkpoint folder `at` (one `chk-…` folder, checked against its
/// checksums), or the newest complete checkpoint when `at` is a checkpoint directory.
pub fn inspect(at: &Path) -> Result<String, JobError> {
    if !at.is_dir() {
        return Err(JobError::Config(format!(
            "{} is not a checkpoint folder or directory",
            at.display()
        )));
    }
    let found = match store::read_folder(at) {
        Ok(found) => found,
        Err(why) => match store::latest(at, |_| {})? {
            Some(found) => found,
            None => {
                return Err(JobError::Config(format!(
                    "{} holds no complete checkpoint ({why})",
                    at.display()
                )))
            }
        },
    };
    let m = &found.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "checkpoint {} of job `{}`", found.dir.display(), m.job);
    let _ = writeln!(
        out,
        "  number {}, taken at {} ms since the epoch, by {} worker(s); pipeline {}",
        m.id, m.taken_at_ms, m.workers, m.pipeline
    );
    let _ = writeln!(out, "  stateful operators: {}", m.operators.join(", "));
    let indent = if found.states.len() > 1 { "    " } else { "  " };
    for (worker, state) in found.states.iter().enumerate() {
        if found.states.len() > 1 {
            let _ = writeln!(out, "  worker {worker}: {} bytes", state.len());
        } else {
            let _ = writeln!(out, "  state: {} bytes", state.len());
        }
        let mut input = StateIn::new(state);
        while !input.at_end() {
            let (name, body) = input.any_section()?;
            if name == "job" {
                let mut fields = StateIn::new(body);
                while !fields.at_end() {
                    let (field, value) = fields.any_section()?;
                    let _ = writeln!(out, "{indent}{}", describe(field, value));
                }
            } else {
                let _ = writeln!(out, "{indent}{name}: {} bytes", body.len());
            }
        }
    }
    Ok(out)
}

/// One field of the job: its size, and for an operator state, its entries and groups.
fn describe(field: &str, value: &[u8]) -> String {
    let mut line = format!("{field}: {} bytes", value.len());
    let mut input = StateIn::new(value);
    let snapshot = input.bytes().ok().filter(|b| b.starts_with(b"WEIRSNAP"));
    if let Some(Ok(mut reader)) = snapshot.map(SnapshotReader::new) {
        let mut groups = vec![0u64; reader.groups()];
        let mut entries = 0u64;
        while let Ok(Some(entry)) = reader.next() {
            entries += 1;
            if let Some(g) = groups.get_mut(entry.group) {
                *g += 1;
            }
        }
        let used = groups.iter().filter(|&&n| n > 0).count();
        if let Some(runs) = reader.operator_state().strip_prefix(b"WEIRRUNS".as_slice()) {
            let _ = write!(
                line,
                ", spilled: its entries in the runs linked beside it ({} bytes of names)",
                runs.len()
            );
            return line;
        }
        let _ = write!(
            line,
            ", keyed state: {entries} entries in {used} of {} key groups",
            groups.len()
        );
    }
    line
}
