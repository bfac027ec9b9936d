//! Chunks of records appended front to back, each twice the last up to a page: how a
//! window join keeps a window's records, the interval join's buckets theirs, and an outer
//! interval join its waiting ones.

use super::chunk_pages::ChunkPages;
use crate::JobError;

/// A window's first chunk of records; later chunks double, up to a page.
const FIRST_CHUNK: usize = 512;

/// A chunk of records (a window's, or an interval join's waiting ones), filled front to
/// back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordChunk {
    pub(crate) addr: u64,
    pub(crate) len: usize,
    pub(crate) used: usize,
}

/// Room for `len` bytes at the end of a window's `chunks`, taking a new chunk (twice the
/// last, up to a page) when the last is full. The room is not zeroed: the caller writes
/// every byte of it.
///
/// Always inlined, with the new chunk out of line: left to LLVM, the whole function was
/// inlined into the join's insert or not as unrelated code moved between codegen units
/// (a window join over 1M records ran 62M instructions more when it was not).
#[inline(always)]
pub(crate) fn append(
    pages: &mut ChunkPages,
    chunks: &mut Vec<RecordChunk>,
    len: usize,
) -> Result<u64, JobError> {
    let fits = chunks.last().is_some_and(|c| c.used + len <= c.len);
    if !fits {
        new_chunk(pages, chunks, len)?;
    }
    let chunk = chunks.last_mut().expect("a chunk with room");
    let at = chunk.addr + chunk.used as u64;
    chunk.used += len;
    Ok(at)
}

/// Takes the chunk [`append`] needs: twice the last, up to a page, and room for `len`.
#[cold]
#[inline(never)]
fn new_chunk(
    pages: &mut ChunkPages,
    chunks: &mut Vec<RecordChunk>,
    len: usize,
) -> Result<(), JobError> {
    let grown = chunks.last().map_or(FIRST_CHUNK, |c| c.len * 2);
    let chunk_len = grown.max(len.next_power_of_two()).min(pages.page_size());
    let addr = pages.alloc_unzeroed(chunk_len)?;
    chunks.push(RecordChunk {
        addr,
        len: chunk_len,
        used: 0,
    });
    Ok(())
}
