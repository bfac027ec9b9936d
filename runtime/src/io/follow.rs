//! A followed file (`with follow`): read as `tail -f` reads, its end is no end of input.
//! When the file has nothing more, the reading thread waits and looks again; data appended
//! meanwhile is read on. The input ends only when the job is asked to stop
//! ([`InputStop`]): the file is then read up to its length at that moment, and no further.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;

use super::live::{Chunk, LiveChunks, CHUNK};

/// How long the reading thread waits before looking at a file that had nothing more. Well
/// under the job's tick, so new lines reach the job about as soon as it would notice.
const LOOK_AGAIN: Duration = Duration::from_millis(20);

/// Asks a job's followed inputs to end, as their files stand now: the job then ends as at
/// the end of a bounded input. SIGINT and SIGTERM ask it of a job built as a program that
/// follows a file (a second signal aborts); an inline job is given one in its `JobConfig`.
#[derive(Debug, Clone, Default)]
pub struct InputStop {
    inner: Arc<StopFlags>,
}

/// Two handles are equal when they stop the same inputs.
impl PartialEq for InputStop {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for InputStop {}

#[derive(Debug, Default)]
struct StopFlags {
    /// A followed input was opened: a first signal stops the input rather than the job.
    following: AtomicBool,
    stopped: AtomicBool,
}

impl InputStop {
    /// A handle no one has stopped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends every followed input of the job at its file's present length.
    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// Whether the job follows a file (so a first signal should stop its input).
    pub fn is_following(&self) -> bool {
        self.inner.following.load(Ordering::SeqCst)
    }

    fn mark_following(&self) {
        self.inner.following.store(true, Ordering::SeqCst);
    }
}

/// Starts reading `path` from byte `offset`, following it until `stop`.
pub(super) fn follow(path: &str, offset: u64, stop: &InputStop) -> io::Result<LiveChunks> {
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(offset))?;
    stop.mark_following();
    let (path, stop) = (path.to_string(), stop.clone());
    Ok(LiveChunks::start(move |send, dropped| {
        if let Err(e) = read_following(&mut file, &path, offset, &stop, &send, dropped) {
            let _ = send.send(Err(e));
        }
    }))
}

/// Sends the file's chunks as they come; at a stop, sends what the file holds up to its
/// length then, and the end. Returns early when the job is done with the input.
fn read_following(
    file: &mut File,
    path: &str,
    mut at: u64,
    stop: &InputStop,
    send: &SyncSender<Chunk>,
    dropped: &AtomicBool,
) -> io::Result<()> {
    let mut end: Option<u64> = None;
    loop {
        if end.is_none() && stop.is_stopped() {
            end = Some(file.metadata()?.len().max(at));
        }
        let want = match end {
            Some(end) if at >= end => {
                let _ = send.send(Ok(Vec::new()));
                return Ok(());
            }
            Some(end) => (end - at).min(CHUNK as u64) as usize,
            None => CHUNK,
        };
        let mut buf = vec![0u8; want];
        let n = file.read(&mut buf)?;
        if n > 0 {
            at += n as u64;
            buf.truncate(n);
            if send.send(Ok(buf)).is_err() {
                return Ok(());
            }
            continue;
        }
        if end.is_some() {
            // Shorter than when the stop came: cut while being read.
            return Err(truncated(path, at));
        }
        if file.metadata()?.len() < at {
            return Err(truncated(path, at));
        }
        if dropped.load(Ordering::Relaxed) {
            return Ok(());
        }
        std::thread::sleep(LOOK_AGAIN);
    }
}

fn truncated(path: &str, at: u64) -> io::Error {
    io::Error::other(format!(
        "{path} became shorter than the {at} bytes already read: a followed file may only grow \
         (to start over, stop the job and run it again)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Write};

    fn read_all(chunks: &mut LiveChunks) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        chunks.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn appended_data_is_read_until_the_stop_and_nothing_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        std::fs::write(&path, b"a\nb\n").unwrap();
        let stop = InputStop::new();
        let mut chunks = follow(path.to_str().unwrap(), 2, &stop).unwrap();
        assert!(stop.is_following());
        let mut first = Vec::new();
        while first.len() < 2 {
            let got = chunks.fill_buf().unwrap().to_vec();
            chunks.consume(got.len());
            first.extend(got);
        }
        assert_eq!(first, b"b\n", "read from the offset");
        // The file's end is not the input's: nothing ends while no more comes.
        assert!(!chunks.poll(Duration::from_millis(100)).unwrap());
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"c\nd").unwrap();
        file.flush().unwrap();
        stop.stop();
        let rest = read_all(&mut chunks).unwrap();
        assert_eq!(rest, b"c\nd", "what was there at the stop, then the end");
        file.write_all(b"\ne\n").unwrap();
        assert!(chunks.poll(Duration::from_millis(10)).unwrap(), "ended");
    }

    #[test]
    fn the_reading_thread_ends_when_the_chunks_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        std::fs::write(&path, b"").unwrap();
        let stop = InputStop::new();
        let chunks = follow(path.to_str().unwrap(), 0, &stop).unwrap();
        let dropped = chunks.dropped.clone();
        drop(chunks);
        assert!(dropped.load(Ordering::Relaxed));
        // The thread holds the only other handle to the flag: it lets go when it ends.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::sync::Arc::strong_count(&dropped) > 1 {
            assert!(std::time::Instant::now() < deadline, "the thread goes on");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_file_cut_shorter_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.txt");
        std::fs::write(&path, b"0123456789\n").unwrap();
        let stop = InputStop::new();
        let mut chunks = follow(path.to_str().unwrap(), 0, &stop).unwrap();
        let mut got = Vec::new();
        while got.len() < 11 {
            let chunk = chunks.fill_buf().unwrap().to_vec();
            chunks.consume(chunk.len());
            got.extend(chunk);
        }
        std::fs::write(&path, b"x\n").unwrap();
        let err = read_all(&mut chunks).unwrap_err().to_string();
        assert!(err.contains("became shorter than the 11 bytes"), "{err}");
        assert!(err.contains("log.txt"), "{err}");
    }
}
