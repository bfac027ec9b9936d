//! Checkpoints on disk: one folder each in the checkpoint directory, complete only once
//! its manifest is.
//!
//! ```text
//! DIR/chk-0000000007/state      the job's state (codec.rs), written and fsynced first
//! DIR/chk-0000000007/state-1    on a parallel run, worker 1's (and so on): `state` is
//!                               worker 0's
//! DIR/chk-0000000007/MANIFEST   JSON: job, pipeline, each state's length and CRC-32, and
//!                               the manifest's own CRC-32; written to MANIFEST.tmp,
//!                               fsynced, renamed, and the folder fsynced
//! ```
//!
//! A folder without a manifest (a run killed while writing it), or whose manifest or state
//! does not match its checksum, is passed over with a warning in favour of the one before.
//! The newest [`KEEP`] complete checkpoints are kept; older folders are removed once a
//! newer one is complete.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StateOut;
use crate::JobError;

/// Complete checkpoints kept.
pub const KEEP: usize = 3;

const STATE: &str = "state";
const MANIFEST: &str = "MANIFEST";
const FORMAT: u32 = 1;

/// What a checkpoint's manifest says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest's format.
    pub format: u32,
    /// The checkpoint's number, counting up over the runs that share the directory.
    pub id: u64,
    /// The job's name.
    pub job: String,
    /// The pipeline's fingerprint: a checkpoint restores only into the same pipeline.
    pub pipeline: String,
    /// The stateful operators, by name and place, for the message when the pipeline
    /// differs.
    pub operators: Vec<String>,
    /// The workers that wrote it.
    pub workers: usize,
    /// Bytes of the state file, and their CRC-32.
    pub state_bytes: u64,
    /// CRC-32 of the state file.
    pub state_crc: u32,
    /// On a parallel run, the length and CRC-32 of each other worker's state file, in
    /// worker order from worker 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub worker_states: Vec<(u64, u32)>,
    /// When it was taken, in milliseconds since the Unix epoch.
    pub taken_at_ms: i64,
}

/// A complete checkpoint found on disk.
#[derive(Debug)]
pub struct Found {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Each worker's state, checked against the manifest, in worker order.
    pub states: Vec<MappedState>,
}

/// Bytes read through a mapped state before its pages are given back.
pub(crate) const RELEASE_EVERY: usize = 16 << 20;

/// A worker's state in a checkpoint, mapped from its file rather than read: its pages come
/// in as a restore reads them and go back once read ([`MappedState::release`]), so a
/// state far larger than memory (an aggregate spilled to disk) never sits there whole.
pub struct MappedState {
    map: Option<memmap2::Mmap>,
    /// The folder its checkpoint's files are in (runs a spilled state linked there).
    folder: PathBuf,
}

impl std::fmt::Debug for MappedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedState({} bytes)", self.len())
    }
}

impl std::ops::Deref for MappedState {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

impl MappedState {
    /// The state in `path`.
    fn open(path: &Path) -> std::io::Result<MappedState> {
        let folder = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(MappedState { map: None, folder });
        }
        // SAFETY: a complete checkpoint's files are written once, fsynced, before its
        // manifest, and never written again; only pruning removes them (the mapping keeps
        // an unlinked file's pages).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(MappedState {
            map: Some(map),
            folder,
        })
    }

    /// The folder of its checkpoint's files (runs a spilled state linked there).
    pub(crate) fn folder(&self) -> &Path {
        &self.folder
    }

    /// The same state, its checkpoint's other files in `folder` (a savepoint's state
    /// regrouped into a scratch file elsewhere).
    pub(crate) fn with_folder(mut self, folder: &Path) -> Self {
        self.folder = folder.to_path_buf();
        self
    }

    /// Gives back the memory of the pages wholly inside `part`, a part of this state a
    /// restore has read (it is read again from the file if it is touched again).
    pub(crate) fn release(&self, part: &[u8]) {
        // 64 KiB: a multiple of every page size Linux uses.
        const ALIGN: usize = 64 << 10;
        let Some(map) = &self.map else {
            return;
        };
        let base = map.as_ptr() as usize;
        let start = part.as_ptr() as usize;
        if start < base || start + part.len() > base + map.len() {
            return;
        }
        let from = (start - base).next_multiple_of(ALIGN);
        let to = (start - base + part.len()) / ALIGN * ALIGN;
        if to > from {
            // SAFETY: the mapping is private and read-only over a file nobody writes (see
            // `open`): pages dropped are read again, the same bytes, if touched again, so
            // slices into them stay valid.
            unsafe {
                let _ =
                    map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from);
            }
        }
    }

    /// Its CRC-32, read through once, its pages given back as they are.
    pub(crate) fn crc(&self) -> u32 {
        let mut crc = crc32fast::Hasher::new();
        for chunk in self.chunks(RELEASE_EVERY) {
            crc.update(chunk);
            self.release(chunk);
        }
        crc.finalize()
    }
}

fn io<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> JobError + 'p {
    move |source| JobError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

/// The folder of checkpoint `id` in `dir`.
pub(crate) fn folder(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("chk-{id:010}"))
}

/// The numbers of the checkpoint folders in `dir`, newest first.
fn ids(dir: &Path) -> Result<Vec<u64>, JobError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("cannot read the checkpoint directory", dir)(e)),
    };
    let mut ids: Vec<u64> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("chk-")?.parse().ok())
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ids)
}

/// The number the next checkpoint in `dir` takes: one past every folder there, complete
/// or not, so a new checkpoint never reuses a folder a killed run left half written.
pub fn next_id(dir: &Path) -> Result<u64, JobError> {
    Ok(ids(dir)?.first().map_or(1, |newest| newest + 1))
}

/// Writes checkpoint `manifest.id` with `state` into `dir`, durably: see [`finish`].
pub fn write(dir: &Path, manifest: Manifest, state: &[u8]) -> Result<(), JobError> {
    let written = write_state(&folder(dir, manifest.id), 0, state);
    finish(dir, manifest, written).map(drop)
}

/// Completes checkpoint `manifest.id` in `dir`, whose state is written (`state`: its
/// length and CRC-32, or why it could not be): the manifest, then the directory fsynced
/// and the folders older than the newest [`KEEP`] complete ones removed. If anything
/// failed the folder is removed (what it wrote would only fill the disk that may have made
/// it fail). The state's bytes.
pub(crate) fn finish(
    dir: &Path,
    mut manifest: Manifest,
    state: Result<(u64, u32), JobError>,
) -> Result<u64, JobError> {
    let at = folder(dir, manifest.id);
    let written = state.and_then(|(bytes, crc)| {
        (manifest.state_bytes, manifest.state_crc) = (bytes, crc);
        write_manifest(&at, &manifest)?;
        Ok(bytes)
    });
    complete(dir, manifest.id, written.is_err())?;
    written
}

/// The file of worker `worker`'s state in a checkpoint folder.
pub(crate) fn state_file(at: &Path, worker: usize) -> PathBuf {
    match worker {
        0 => at.join(STATE),
        w => at.join(format!("{STATE}-{w}")),
    }
}

/// Writes worker `worker`'s `state` into checkpoint folder `at` (created if need be) and
/// fsyncs it: its length and CRC-32, for the manifest.
pub(crate) fn write_state(at: &Path, worker: usize, state: &[u8]) -> Result<(u64, u32), JobError> {
    let (mut out, path) = state_writer(at, worker)?;
    out.raw(state);
    out.finish_file(&path)
}

/// The state file at `path`, mapped.
pub(crate) fn map_state(path: &Path) -> Result<MappedState, JobError> {
    MappedState::open(path).map_err(io("cannot read checkpoint file", path))
}

/// Writes `bytes` as file `name` of folder `at` durably: to a temporary name, fsynced,
/// renamed, the folder fsynced (a manifest: the folder is complete once it is there).
pub(crate) fn write_named(at: &Path, name: &str, bytes: &[u8]) -> Result<(), JobError> {
    let tmp = at.join(format!("{name}.tmp"));
    write_synced(&tmp, bytes)?;
    let path = at.join(name);
    fs::rename(&tmp, &path).map_err(io("cannot complete", &path))?;
    sync_dir(at)
}

/// A writer streaming worker `worker`'s state into checkpoint folder `at` (created if need
/// be), and the file's path; [`StateOut::finish_file`] fsyncs it.
pub(crate) fn state_writer(at: &Path, worker: usize) -> Result<(StateOut, PathBuf), JobError> {
    fs::create_dir_all(at).map_err(io("cannot create checkpoint folder", at))?;
    let path = state_file(at, worker);
    // Read too: its checksum is read back once it is written.
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .map_err(io("cannot write checkpoint file", &path))?;
    Ok((StateOut::to_file(file).in_folder(at), path))
}

/// Completes checkpoint folder `at`, whose states are written: its manifest goes to
/// `MANIFEST.tmp`, is fsynced and renamed into place, and the folder is fsynced.
pub(crate) fn write_manifest(at: &Path, manifest: &Manifest) -> Result<(), JobError> {
    let text = manifest_text(manifest);
    let tmp = at.join("MANIFEST.tmp");
    write_synced(&tmp, text.as_bytes())?;
    let final_path = at.join(MANIFEST);
    fs::rename(&tmp, &final_path)
        .map_err(io("cannot complete checkpoint manifest", &final_path))?;
    sync_dir(at)
}

/// After checkpoint `id`'s manifest is written into `dir`: the directory is fsynced and
/// older folders removed (see [`write`]). A folder of a failed checkpoint is removed with
/// `failed`.
pub(crate) fn complete(dir: &Path, id: u64, failed: bool) -> Result<(), JobError> {
    if failed {
        let _ = remove_folder(&folder(dir, id));
        return Ok(());
    }
    sync_dir(dir)?;
    prune(dir)
}

/// The manifest as written: its JSON, then a line with the CRC-32 of that JSON.
fn manifest_text(manifest: &Manifest) -> String {
    let json = serde_json::to_string_pretty(manifest).expect("a manifest is plain data");
    format!("{json}\ncrc32 {:08x}\n", crc32fast::hash(json.as_bytes()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), JobError> {
    let mut f = File::create(path).map_err(io("cannot write checkpoint file", path))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(io("cannot write checkpoint file", path))
}

fn sync_dir(dir: &Path) -> Result<(), JobError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("cannot sync checkpoint directory", dir))
}

/// Removes checkpoint folder `at`, its manifest first: a run killed while the rest goes
/// leaves an incomplete folder, passed over, never a complete-looking one missing files
/// (the runs a spilled state links are not under the state's checksum).
fn remove_folder(at: &Path) -> std::io::Result<()> {
    match fs::remove_file(at.join(MANIFEST)) {
        Ok(()) => {
            let _ = File::open(at).and_then(|d| d.sync_all());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::remove_dir_all(at)
}

/// Removes every folder older than the newest [`KEEP`] complete checkpoints.
fn prune(dir: &Path) -> Result<(), JobError> {
    let mut complete = 0;
    for id in ids(dir)? {
        let at = folder(dir, id);
        if complete >= KEEP {
            remove_folder(&at).map_err(io("cannot remove old checkpoint", &at))?;
        } else if at.join(MANIFEST).exists() {
            complete += 1;
        }
    }
    Ok(())
}

/// Removes every checkpoint in `dir` (the job they were of has finished), newest first:
/// a run killed meanwhile leaves older complete ones, which still match the outputs'
/// parts (not committed yet).
pub fn clear(dir: &Path) -> Result<(), JobError> {
    for id in ids(dir)? {
        let at = folder(dir, id);
        remove_folder(&at).map_err(io("cannot remove checkpoint", &at))?;
    }
    Ok(())
}

/// The newest complete checkpoint in `dir` whose files match their checksums, if any. Each
/// newer one that is incomplete or damaged is reported through `warn` and passed over.
pub fn latest(dir: &Path, mut warn: impl FnMut(String)) -> Result<Option<Found>, JobError> {
    for id in ids(dir)? {
        let at = folder(dir, id);
        match read_folder(&at) {
            Ok(found) => return Ok(Some(found)),
            Err(why) => warn(format!("checkpoint {} is passed over: {why}", at.display())),
        }
    }
    Ok(None)
}

/// A complete checkpoint's manifest and state, or why it is not one.
pub fn read_folder(at: &Path) -> Result<Found, String> {
    let text = match fs::read_to_string(at.join(MANIFEST)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("it has no manifest (its run stopped while writing it)".into())
        }
        Err(e) => return Err(format!("its manifest cannot be read ({e})")),
    };
    let (json, crc_line) = text
        .trim_end()
        .rsplit_once('\n')
        .ok_or("its manifest is cut short")?;
    let crc = crc_line
        .strip_prefix("crc32 ")
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or("its manifest is cut short")?;
    if crc != crc32fast::hash(json.as_bytes()) {
        return Err("its manifest does not match its checksum".into());
    }
    let manifest: Manifest = serde_json::from_str(json)
        .map_err(|e| format!("its manifest is not one weir wrote ({e})"))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "it is in format {}, this weir reads format {FORMAT}",
            manifest.format
        ));
    }
    if manifest.workers != manifest.worker_states.len() + 1 {
        return Err(format!(
            "its manifest lists {} state(s) for {} worker(s)",
            manifest.worker_states.len() + 1,
            manifest.workers
        ));
    }
    let sums = std::iter::once((manifest.state_bytes, manifest.state_crc))
        .chain(manifest.worker_states.iter().copied());
    let mut states = Vec::with_capacity(manifest.workers);
    for (worker, (bytes, crc)) in sums.enumerate() {
        let path = state_file(at, worker);
        let state = MappedState::open(&path).map_err(|e| {
            format!(
                "its state {} cannot be read ({e})",
                path.file_name().unwrap_or_default().to_string_lossy()
            )
        })?;
        if state.len() as u64 != bytes || state.crc() != crc {
            return Err("its state does not match the manifest's checksum".into());
        }
        states.push(state);
    }
    Ok(Found {
        dir: at.to_path_buf(),
        manifest,
        states,
    })
}

impl Manifest {
    /// A manifest for checkpoint `id` of `job` (the state's length and checksum are filled
    /// in when it is written).
    pub fn new(id: u64, job: &str, pipeline: &str, operators: Vec<String>, workers: usize) -> Self {
        let taken_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Manifest {
            format: FORMAT,
            id,
            job: job.to_string(),
            pipeline: pipeline.to_string(),
            operators,
            workers,
            state_bytes: 0,
            state_crc: 0,
            worker_states: Vec::new(),
            taken_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(id: u64) -> Manifest {
        Manifest::new(id, "job", "p1", vec!["aggregate at a.pipe:1:1".into()], 1)
    }

    #[test]
    fn the_newest_complete_checkpoint_is_found_and_older_ones_pruned() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(next_id(dir.path()).unwrap(), 1);
        for id in 1..=5 {
            write(dir.path(), manifest(id), format!("state {id}").as_bytes()).unwrap();
        }
        assert_eq!(ids(dir.path()).unwrap(), [5, 4, 3], "the newest three kept");
        let found = latest(dir.path(), |w| panic!("{w}")).unwrap().unwrap();
        assert_eq!(found.manifest.id, 5);
        assert_eq!(found.states.len(), 1);
        assert_eq!(&found.states[0][..], b"state 5");
        assert_eq!(next_id(dir.path()).unwrap(), 6);
    }

    #[test]
    fn an_incomplete_or_damaged_checkpoint_is_passed_over_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), manifest(1), b"good").unwrap();
        write(dir.path(), manifest(2), b"flipped").unwrap();
        write(dir.path(), manifest(3), b"no manifest").unwrap();
        fs::remove_file(folder(dir.path(), 3).join(MANIFEST)).unwrap();
        fs::write(folder(dir.path(), 2).join(STATE), b"flopped").unwrap();
        // A run killed after creating the folder of checkpoint 4.
        fs::create_dir_all(folder(dir.path(), 4)).unwrap();
        let mut warnings = Vec::new();
        let found = latest(dir.path(), |w| warnings.push(w)).unwrap().unwrap();
        assert_eq!(found.manifest.id, 1);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("no manifest"), "{warnings:?}");
        assert!(warnings[2].contains("does not match"), "{warnings:?}");
        assert_eq!(next_id(dir.path()).unwrap(), 5, "never reuses a folder");
        // A manifest changed by hand.
        let path = folder(dir.path(), 1).join(MANIFEST);
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"job\"", "\"jab\"");
        fs::write(&path, text).unwrap();
        let mut warnings = Vec::new();
        assert!(latest(dir.path(), |w| warnings.push(w)).unwrap().is_none());
        assert!(
            warnings.last().unwrap().contains("checksum"),
            "{warnings:?}"
        );
    }
}
