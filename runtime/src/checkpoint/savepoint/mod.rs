//! Savepoints: a full, self-contained snapshot of a job in a folder of the user's choosing,
//! from which the same job, or one edited since, starts (`--from-savepoint`).
//!
//! A checkpoint holds the generated job's fields by their names, which an edit renumbers;
//! a savepoint holds each stateful operator's and sink's fields under its **stable
//! identity** (`JobSpec::identities`: kind, key, sources and sinks, never a node number),
//! with its state's layout, and copies of what each file sink has committed. A job starts
//! from it by identity:
//!
//! * an operator of the same identity takes the savepoint's state, if its layout is the
//!   same; another layout is refused, naming the operator and both layouts;
//! * an operator the savepoint does not have starts empty;
//! * state of an operator the job no longer has is refused, unless
//!   `--allow-non-restored-state`, which lists what is left out;
//! * sources are matched by name and must be the same sources (they go on from where the
//!   savepoint stood); each file sink's part starts as the output the savepoint committed.
//!
//! ```text
//! DIR/savepoint-0000000003/state        "part <uid>" sections of the fields (by their
//!                                       names after `s{node}_`), "clock", "sources"
//! DIR/savepoint-0000000003/output-NAME  what sink NAME had committed
//! DIR/savepoint-0000000003/SAVEPOINT    JSON manifest with CRC-32s, written last
//! ```

pub(super) mod run;

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::store::{self, MappedState};
use super::{Checkpointed, CutJob, StateIn, StateOut};
use crate::{JobError, JobSpec};

const MANIFEST: &str = "SAVEPOINT";
const FORMAT: u32 = 1;

/// What a savepoint's manifest says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavepointManifest {
    /// Its format.
    pub format: u32,
    /// The job that wrote it.
    pub job: String,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub taken_at_ms: i64,
    /// Each stateful operator and sink it holds state of.
    pub parts: Vec<SavedPart>,
    /// The job's sources, in order.
    pub sources: Vec<String>,
    /// Bytes of the state file, and their CRC-32.
    pub state_bytes: u64,
    /// CRC-32 of the state file.
    pub state_crc: u32,
    /// Each file sink's committed output, copied.
    pub outputs: Vec<SavedOutput>,
}

/// A stateful operator or sink in a savepoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedPart {
    /// Its stable identity.
    pub uid: String,
    /// Its state's layout.
    pub layout: String,
    /// Where it was written, for people.
    pub name: String,
    /// Bytes of its state.
    pub bytes: u64,
}

/// A file sink's committed output in a savepoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedOutput {
    /// The sink.
    pub sink: String,
    /// The copy's file in the savepoint's folder.
    pub file: String,
    /// Its length.
    pub bytes: u64,
}

/// A savepoint read back for a run to start from.
#[derive(Debug)]
pub(super) struct Loaded {
    pub(super) dir: PathBuf,
    pub(super) manifest: SavepointManifest,
    state: MappedState,
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> JobError + 'p {
    move |source| JobError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// The node whose field `field` of the generated job is (`s{node}_…`), and the rest of its
/// name.
fn owner(field: &str) -> Option<(usize, &str)> {
    let rest = field.strip_prefix('s')?;
    let (node, name) = rest.split_once('_')?;
    Some((node.parse().ok()?, name))
}

/// Where the job's file sinks keep their parts: each sink's name and part.
pub(super) type SinkParts = Vec<(String, PathBuf)>;

/// Writes a savepoint of `job` and `sources` (as `Checkpoints::take` has them) into a new
/// folder in `dir`: its path. The sinks' commit points are fsynced first (saving them does),
/// so the copies of `parts` are what they committed.
pub(super) fn write(
    dir: &Path,
    spec: &JobSpec,
    job: &mut dyn CutJob,
    sources: &mut [&mut dyn Checkpointed],
    parts: &SinkParts,
) -> Result<PathBuf, JobError> {
    fs::create_dir_all(dir).map_err(io("cannot create the savepoint directory", dir))?;
    let at = dir.join(format!("savepoint-{:010}", next_number(dir)?));
    let written = write_folder(&at, spec, job, sources, parts);
    if written.is_err() {
        let _ = fs::remove_dir_all(&at);
    }
    written.map(|()| at)
}

fn write_folder(
    at: &Path,
    spec: &JobSpec,
    job: &mut dyn CutJob,
    sources: &mut [&mut dyn Checkpointed],
    parts: &SinkParts,
) -> Result<(), JobError> {
    // The job's fields as a checkpoint has them, streamed to a scratch file, then regrouped
    // by identity: neither copy sits in memory whole.
    let (mut fields, scratch) = store::state_writer(at, 1)?;
    fields.section("job", |o| job.save(o))?;
    fields.finish_file(&scratch)?;
    let fields_map = store::map_state(&scratch)?;
    let (_, body) = StateIn::mapped(&fields_map, 0).any_section()?;
    let (mut out, path) = store::state_writer(at, 0)?;
    let mut saved = Vec::new();
    let mut outputs = Vec::new();
    for identity in spec.identities {
        let start = out.position();
        out.section(&format!("part {}", identity.uid), |o| {
            let mut fields = StateIn::new(body);
            while !fields.at_end() {
                let (name, value) = fields.any_section()?;
                if let Some((_, rest)) = owner(name).filter(|(n, _)| *n == identity.node) {
                    o.section(rest, |o| {
                        o.raw(value);
                        Ok(())
                    })?;
                    if rest == "sink" {
                        outputs.extend(copy_output(at, identity.uid, value, parts)?);
                    }
                }
            }
            Ok(())
        })?;
        saved.push(SavedPart {
            uid: identity.uid.to_string(),
            layout: identity.layout.to_string(),
            name: part_name(spec, identity),
            bytes: out.position() - start,
        });
    }
    let mut fields = StateIn::new(body);
    while !fields.at_end() {
        let (name, value) = fields.any_section()?;
        if name == "clock" {
            out.section("clock", |o| {
                o.raw(value);
                Ok(())
            })?;
        }
    }
    out.section("sources", |o| {
        o.raw(&super::cut::save_sources(sources)?);
        Ok(())
    })?;
    let (state_bytes, state_crc) = out.finish_file(&path)?;
    drop(fields_map);
    fs::remove_file(&scratch).map_err(io("cannot remove", &scratch))?;
    let manifest = SavepointManifest {
        format: FORMAT,
        job: spec.name.to_string(),
        taken_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        parts: saved,
        sources: spec.sources.iter().map(|s| s.to_string()).collect(),
        state_bytes,
        state_crc,
        outputs,
    };
    let json = serde_json::to_string_pretty(&manifest).expect("a manifest is plain data");
    let text = format!("{json}\ncrc32 {:08x}\n", crc32fast::hash(json.as_bytes()));
    store::write_named(at, MANIFEST, text.as_bytes())
}

/// How messages name a part: the stateful operator's name and place, or the sink.
fn part_name(spec: &JobSpec, identity: &crate::Identity) -> String {
    spec.operators
        .iter()
        .find(|o| o.id == identity.node)
        .map_or_else(|| identity.uid.to_string(), |o| o.name.to_string())
}

/// Copies the output sink `uid` (`sink NAME`) committed (`point`: its saved commit point)
/// into the savepoint's folder `at`.
fn copy_output(
    at: &Path,
    uid: &str,
    point: &[u8],
    parts: &SinkParts,
) -> Result<Option<SavedOutput>, JobError> {
    let sink = uid.strip_prefix("sink ").unwrap_or(uid);
    let Some((_, part)) = parts.iter().find(|(name, _)| name == sink) else {
        return Ok(None);
    };
    let mut p = StateIn::new(point);
    let (_records, bytes) = (p.u64()?, p.u64()?);
    let file = format!("output-{sink}");
    let to = at.join(&file);
    let mut from = fs::File::open(part).map_err(io("cannot read output part", part))?;
    let mut copy = fs::File::create(&to).map_err(io("cannot write savepoint file", &to))?;
    let copied = std::io::copy(&mut std::io::Read::take(&mut from, bytes), &mut copy)
        .map_err(io("cannot write savepoint file", &to))?;
    copy.sync_all()
        .map_err(io("cannot write savepoint file", &to))?;
    if copied != bytes {
        return Err(JobError::Config(format!(
            "the part of output `{sink}` at {} holds less than it committed",
            part.display()
        )));
    }
    Ok(Some(SavedOutput {
        sink: sink.to_string(),
        file,
        bytes,
    }))
}

/// The number the next savepoint folder in `dir` takes.
fn next_number(dir: &Path) -> Result<u64, JobError> {
    let entries = fs::read_dir(dir).map_err(io("cannot read the savepoint directory", dir))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("savepoint-")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .map_or(1, |n| n + 1))
}

/// Reads the savepoint at `path`: a savepoint's folder, or a directory of them (the newest
/// complete one).
pub(super) fn read(path: &Path) -> Result<Loaded, JobError> {
    let refused = |why: String| {
        JobError::Config(format!(
            "{} is not a savepoint weir can start from: {why}",
            path.display()
        ))
    };
    let at = if path.join(MANIFEST).exists() {
        path.to_path_buf()
    } else {
        let mut found: Vec<PathBuf> = fs::read_dir(path)
            .map_err(io("cannot read the savepoint directory", path))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join(MANIFEST).exists())
            .collect();
        found.sort();
        found
            .pop()
            .ok_or_else(|| refused("it holds no complete savepoint".to_string()))?
    };
    let text = fs::read_to_string(at.join(MANIFEST)).map_err(io("cannot read", &at))?;
    let (json, crc) = text
        .trim_end()
        .rsplit_once('\n')
        .ok_or_else(|| refused("its manifest is cut short".to_string()))?;
    if crc
        .strip_prefix("crc32 ")
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        != Some(crc32fast::hash(json.as_bytes()))
    {
        return Err(refused(
            "its manifest does not match its checksum".to_string(),
        ));
    }
    let manifest: SavepointManifest = serde_json::from_str(json)
        .map_err(|e| refused(format!("its manifest is not one weir wrote ({e})")))?;
    if manifest.format != FORMAT {
        return Err(refused(format!("it is in format {}", manifest.format)));
    }
    let state = store::map_state(&at.join("state"))?;
    if state.len() as u64 != manifest.state_bytes || state.crc() != manifest.state_crc {
        return Err(refused("its state does not match its checksum".to_string()));
    }
    Ok(Loaded {
        dir: at,
        manifest,
        state,
    })
}

impl Loaded {
    /// Checks that `spec`'s job can start from this savepoint: the same sources, every
    /// part it shares with the savepoint of the same layout, and no state left over
    /// (unless `allow_non_restored`: then what is left out is returned, to be listed).
    pub(super) fn check(
        &self,
        spec: &JobSpec,
        allow_non_restored: bool,
    ) -> Result<Vec<String>, JobError> {
        let refuse = |why: String| {
            JobError::Config(format!(
                "savepoint {} cannot be restored into job `{}`: {why}",
                self.dir.display(),
                spec.name
            ))
        };
        if self.manifest.sources != spec.sources {
            return Err(refuse(format!(
                "its sources are [{}], this job's are [{}]",
                self.manifest.sources.join(", "),
                spec.sources.join(", ")
            )));
        }
        for identity in spec.identities {
            if let Some(saved) = self.manifest.parts.iter().find(|p| p.uid == identity.uid) {
                if !same_layout(&saved.layout, identity.layout) {
                    return Err(refuse(format!(
                        "{} (`{}`) keeps its state in another layout: the savepoint's is `{}`, \
                         this job's is `{}`",
                        part_name(spec, identity),
                        identity.uid,
                        saved.layout,
                        identity.layout
                    )));
                }
            }
        }
        let left: Vec<String> = self
            .manifest
            .parts
            .iter()
            .filter(|p| !spec.identities.iter().any(|i| i.uid == p.uid))
            .map(|p| format!("{} (`{}`, {} bytes)", p.name, p.uid, p.bytes))
            .collect();
        if !left.is_empty() && !allow_non_restored {
            return Err(refuse(format!(
                "it holds state of operators this job does not have: {}; give \
                 --allow-non-restored-state to start without it",
                left.join(", ")
            )));
        }
        Ok(left)
    }

    /// Makes each of the job's file sinks that the savepoint has output of start its part
    /// (`parts`) as that output.
    pub(super) fn seed_parts(&self, parts: &SinkParts) -> Result<(), JobError> {
        for (sink, part) in parts {
            let Some(saved) = self.manifest.outputs.iter().find(|o| &o.sink == sink) else {
                continue;
            };
            let from = self.dir.join(&saved.file);
            if let Some(parent) = part.parent() {
                fs::create_dir_all(parent).map_err(io("cannot create output part", part))?;
            }
            fs::copy(&from, part).map_err(io("cannot copy savepoint output", &from))?;
        }
        Ok(())
    }

    /// Restores `job` from the savepoint: a fresh job's state (`fresh`, as a checkpoint
    /// has it) with each field of a part the savepoint has replaced by the savepoint's,
    /// written to a scratch file in `scratch_dir` and loaded from there.
    pub(super) fn restore_job(
        &self,
        spec: &JobSpec,
        job: &mut dyn CutJob,
        scratch_dir: &Path,
    ) -> Result<(), JobError> {
        let mut fresh = StateOut::new();
        fresh.section("job", |o| job.save(o))?;
        let fresh = fresh.finish();
        let mut saved = StateIn::mapped(&self.state, 0);
        let mut parts: Vec<(&str, &[u8])> = Vec::new();
        let mut clock = None;
        while !saved.at_end() {
            let (name, body) = saved.any_section()?;
            if let Some(uid) = name.strip_prefix("part ") {
                parts.push((uid, body));
            } else if name == "clock" {
                clock = Some(body);
            }
        }
        fs::create_dir_all(scratch_dir).map_err(io("cannot create", scratch_dir))?;
        let (mut out, path) = store::state_writer(scratch_dir, 0)?;
        let mut input = StateIn::new(&fresh);
        input.section("job", |fields| {
            out.section("job", |o| {
                while !fields.at_end() {
                    let (name, value) = fields.any_section()?;
                    let restored = match owner(name) {
                        Some((node, rest)) => spec
                            .identities
                            .iter()
                            .find(|i| i.node == node)
                            .and_then(|i| parts.iter().find(|(uid, _)| *uid == i.uid))
                            .map(|(_, body)| field_of(body, rest))
                            .transpose()?
                            .flatten(),
                        None if name == "clock" => clock,
                        None => None,
                    };
                    o.section(name, |o| {
                        o.raw(restored.unwrap_or(value));
                        Ok(())
                    })?;
                }
                Ok(())
            })
        })?;
        out.finish_file(&path)?;
        // Runs a spilled state linked are in the savepoint's folder.
        let synthesized = store::map_state(&path)?.with_folder(&self.dir);
        let mut input = StateIn::mapped(&synthesized, 0);
        let loaded = input.section("job", |i| job.load(i));
        drop(synthesized);
        let _ = fs::remove_dir_all(scratch_dir);
        loaded
    }

    /// The savepoint's sources, to restore as a checkpoint's are.
    pub(super) fn sources(&self) -> Result<StateIn<'_>, JobError> {
        let mut saved = StateIn::mapped(&self.state, 0);
        while !saved.at_end() {
            let (name, body) = saved.any_section()?;
            if name == "sources" {
                // The last section: its body runs to the end of the state.
                let at = body.as_ptr() as usize - self.state.as_ptr() as usize;
                return Ok(StateIn::mapped(&self.state, at));
            }
        }
        Err(JobError::Config(
            "the savepoint holds no sources".to_string(),
        ))
    }
}

/// Field `name`'s value in a part's section body, if the savepoint has it.
fn field_of<'a>(body: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, JobError> {
    let mut fields = StateIn::new(body);
    while !fields.at_end() {
        let (field, value) = fields.any_section()?;
        if field == name {
            return Ok(Some(value));
        }
    }
    Ok(None)
}

/// What a savepoint holds, for people (`weir savepoint inspect PATH`).
pub fn inspect(path: &Path) -> Result<String, JobError> {
    use std::fmt::Write as _;
    let loaded = read(path)?;
    let m = &loaded.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "savepoint {} of job `{}`", loaded.dir.display(), m.job);
    let _ = writeln!(
        out,
        "  taken at {} ms since the epoch; state {} bytes; sources: {}",
        m.taken_at_ms,
        m.state_bytes,
        m.sources.join(", ")
    );
    for p in &m.parts {
        let _ = writeln!(out, "  {} `{}`: {} bytes", p.name, p.uid, p.bytes);
        let _ = writeln!(out, "    layout: {}", p.layout);
    }
    for o in &m.outputs {
        let _ = writeln!(
            out,
            "  output of sink `{}`: {} bytes committed",
            o.sink, o.bytes
        );
    }
    Ok(out)
}

/// Whether a savepoint's layout `saved` is `ours`. Layouts written before durations were
/// shown as written (`tumbling 10000ms`, now `tumbling 10s`) are read with theirs
/// rewritten, so an upgrade does not refuse an unchanged operator.
fn same_layout(saved: &str, ours: &str) -> bool {
    saved == ours || durations_as_written(saved) == ours
}

/// `layout` with every `<digits>ms` duration written in its largest whole unit.
fn durations_as_written(layout: &str) -> String {
    let mut out = String::with_capacity(layout.len());
    let mut rest = layout;
    while let Some(at) = rest.find("ms") {
        let digits_from = rest[..at]
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .len();
        let starts_word = rest[..digits_from]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let ends_word = !rest[at + 2..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let value = rest[digits_from..at]
            .parse::<i64>()
            .ok()
            .filter(|_| starts_word && ends_word && digits_from < at);
        match value {
            Some(ms) => {
                out.push_str(&rest[..digits_from]);
                out.push_str(&crate::time::duration_text(ms));
            }
            None => out.push_str(&rest[..at + 2]),
        }
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn layouts_from_before_durations_were_written_as_written_still_match() {
        let old = "window(tumbling 5000ms, allowed_lateness 2000ms) |> aggregate { n: count() } keyed by (a: u64)";
        let new = "window(tumbling 5s, allowed_lateness 2s) |> aggregate { n: count() } keyed by (a: u64)";
        assert!(same_layout(old, new));
        assert!(same_layout(new, new));
        assert!(!same_layout(old, &new.replace("5s", "6s")));
        assert_eq!(
            durations_as_written("items_ms 1500ms x10ms"),
            "items_ms 1500ms x10ms"
        );
        assert_eq!(durations_as_written("gap 60000ms."), "gap 1m.");
    }
}
