//! A graph iteration's messages: what each vertex receives in a round, combined.

use crate::memory::{OperatorMemory, PageRun};
use crate::JobError;

/// The messages of a graph iteration, per vertex: those sent in the last round (read in
/// this one) and those being sent in this one, each already combined (summed, or the
/// least or greatest), both arrays of the vertex count in page runs.
#[derive(Debug)]
pub struct Messages<T> {
    incoming: PageRun,
    outgoing: PageRun,
    vertices: usize,
    none: T,
}

impl<T: bytemuck::Pod> Messages<T> {
    /// Messages to `vertices` vertices, `none` (the combination of no message) for each.
    pub fn new(memory: &OperatorMemory, vertices: usize, none: T) -> Result<Self, JobError> {
        let mut m = Messages {
            incoming: PageRun::of::<T>(memory, vertices)?,
            outgoing: PageRun::of::<T>(memory, vertices)?,
            vertices,
            none,
        };
        m.incoming.slice_mut::<T>()[..vertices].fill(none);
        m.outgoing.slice_mut::<T>()[..vertices].fill(none);
        Ok(m)
    }

    /// What reached each vertex last round, and where this round's messages combine.
    #[inline]
    pub fn split(&mut self) -> (&[T], &mut [T]) {
        let n = self.vertices;
        (
            &self.incoming.slice::<T>()[..n],
            &mut self.outgoing.slice_mut::<T>()[..n],
        )
    }

    /// Ends a round: what was sent becomes what arrived, and nothing is sent yet.
    pub fn next_round(&mut self) {
        std::mem::swap(&mut self.incoming, &mut self.outgoing);
        self.outgoing.slice_mut::<T>()[..self.vertices].fill(self.none);
    }
}
