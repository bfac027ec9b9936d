//! Live input (standard input, a followed file) read on a thread of its own, so a job
//! waiting for input can still wake up on time: processing-time windows fire and sinks
//! flush while the input is quiet.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

/// How much the thread reads at once.
pub(super) const CHUNK: usize = 64 * 1024;

/// What a reading thread sends: a chunk of input, empty at its end, or the error that
/// ended it.
pub(super) type Chunk = io::Result<Vec<u8>>;

/// Live input as chunks from its reading thread.
#[derive(Debug)]
pub struct LiveChunks {
    chunks: Receiver<Chunk>,
    chunk: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Raised when these chunks are dropped, for a reading thread that may wait a long
    /// time between sends (a followed file that does not grow) to notice and end.
    pub(super) dropped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for LiveChunks {
    fn drop(&mut self) {
        self.dropped
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl LiveChunks {
    /// Starts `read` on a thread of its own, sending what it reads; it should return when
    /// a send fails or the flag it is given is raised (the job is done with the input).
    pub(super) fn start(
        read: impl FnOnce(SyncSender<Chunk>, &std::sync::atomic::AtomicBool) + Send + 'static,
    ) -> Self {
        // A few chunks ahead at most: the thread waits for the job, memory stays bounded.
        let (send, chunks) = sync_channel(4);
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = dropped.clone();
        std::thread::spawn(move || read(send, &seen));
        LiveChunks {
            chunks,
            chunk: Vec::new(),
            pos: 0,
            eof: false,
            dropped,
        }
    }

    /// Standard input, read to its end.
    pub fn stdin() -> Self {
        Self::start(|send, _| {
            let mut stdin = io::stdin().lock();
            loop {
                let mut buf = vec![0u8; CHUNK];
                let read = stdin.read(&mut buf);
                let end = matches!(read, Ok(0) | Err(_));
                let sent = send.send(read.map(|n| {
                    buf.truncate(n);
                    buf
                }));
                if end || sent.is_err() {
                    return;
                }
            }
        })
    }

    /// Whether input (or its end) is there to read, waiting at most `timeout` for it.
    pub fn poll(&mut self, timeout: Duration) -> io::Result<bool> {
        if self.pos < self.chunk.len() || self.eof {
            return Ok(true);
        }
        match self.chunks.recv_timeout(timeout) {
            Ok(chunk) => {
                self.take(chunk)?;
                Ok(true)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                Ok(true)
            }
        }
    }

    fn take(&mut self, chunk: io::Result<Vec<u8>>) -> io::Result<()> {
        let chunk = chunk?;
        self.eof = chunk.is_empty();
        self.chunk = chunk;
        self.pos = 0;
        Ok(())
    }
}

impl LiveChunks {
    /// What has been received and not yet consumed, without waiting for more.
    pub fn buffer(&self) -> &[u8] {
        &self.chunk[self.pos.min(self.chunk.len())..]
    }
}

impl Read for LiveChunks {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for LiveChunks {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.chunk.len() && !self.eof {
            match self.chunks.recv() {
                Ok(chunk) => self.take(chunk)?,
                Err(_) => self.eof = true,
            }
        }
        Ok(&self.chunk[self.pos.min(self.chunk.len())..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt;
    }
}

/// How often a job waiting on live input wakes up: processing-time windows fire at most
/// this late, and sinks flush on these beats.
pub const TICK: Duration = Duration::from_millis(50);

/// When a source over live input should wake its job up: a tick has passed since the last
/// wake-up, or no input came within one.
#[derive(Debug)]
pub struct Waker {
    live: bool,
    last: std::time::Instant,
}

impl Waker {
    /// A waker for `input`; a file never wakes its job (it is never quiet).
    pub fn new(input: &super::InputReader) -> Self {
        Waker {
            live: input.is_live(),
            last: std::time::Instant::now(),
        }
    }

    /// Whether the input is live (a file never wakes its job).
    #[inline]
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Whether the job should wake up before the next record. `buffered` says the source
    /// holds input already read, which is then read without waiting.
    #[inline]
    pub fn due(&mut self, input: &mut super::InputReader, buffered: bool) -> io::Result<bool> {
        if !self.live {
            return Ok(false);
        }
        let elapsed = self.last.elapsed();
        let quiet = elapsed < TICK && !buffered && !input.poll(TICK - elapsed)?;
        if quiet || elapsed >= TICK {
            self.last = std::time::Instant::now();
            return Ok(true);
        }
        Ok(false)
    }
}
