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

/// The messages of a graph iteration gathered along in-edges ([`InEdges`]): what each
/// vertex sent in a round, folded into one value (its own, then the values of the other
/// workers' vertices its in-edges read), and what reached each vertex, gathered from those
/// at the round's end. Both arrays in page runs.
///
/// [`InEdges`]: super::InEdges
#[derive(Debug)]
pub struct GatheredMessages<T> {
    incoming: PageRun,
    sent: PageRun,
    vertices: usize,
    senders: usize,
    none: T,
}

impl<T: bytemuck::Pod> GatheredMessages<T> {
    /// Messages of `vertices` vertices reading `senders` vertices' values (theirs first),
    /// `none` (the combination of no message) for each.
    pub fn new(
        memory: &OperatorMemory,
        vertices: usize,
        senders: usize,
        none: T,
    ) -> Result<Self, JobError> {
        let mut m = GatheredMessages {
            incoming: PageRun::of::<T>(memory, vertices)?,
            sent: PageRun::of::<T>(memory, senders)?,
            vertices,
            senders,
            none,
        };
        m.incoming.slice_mut::<T>()[..vertices].fill(none);
        m.sent.slice_mut::<T>()[..senders].fill(none);
        Ok(m)
    }

    /// What reached each vertex last round, and where this round's sends fold (the other
    /// workers' values arrive past this worker's vertices).
    #[inline]
    pub fn split(&mut self) -> (&[T], &mut [T]) {
        (
            &self.incoming.slice::<T>()[..self.vertices],
            &mut self.sent.slice_mut::<T>()[..self.senders],
        )
    }

    /// Ends a round: each vertex's messages gathered along `graph`'s in-edges by
    /// `combine`, and nothing sent yet.
    pub fn next_round(&mut self, graph: &super::InEdges, combine: impl Fn(&mut T, T)) {
        let incoming = &mut self.incoming.slice_mut::<T>()[..self.vertices];
        graph.gather(self.sent.slice::<T>(), incoming, self.none, combine);
        self.sent.slice_mut::<T>()[..self.senders].fill(self.none);
    }
}
