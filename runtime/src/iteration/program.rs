//! What a `stream!` iteration runs: the program's own type, implementing
//! [`VertexProgram`] (the records are the edges of a graph whose vertices the rounds
//! visit, as Gelly's vertex-centric iterations and Pregel's supersteps) or
//! [`RecordsProgram`] (each round visits every record, as Flink's bulk iterations and
//! Flink ML's iteration bodies). The `.pipe` `iterate` step says the same in statements;
//! both run the same rounds over the same state (`program_rounds.rs`).

use std::ops::Add;

use crate::state::{AccWord, StateValue};

/// How several messages to one vertex combine into the one it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Added up (zero when nothing came).
    Sum,
    /// The least (the type's largest value when nothing came).
    Min,
    /// The greatest (the type's least value when nothing came).
    Max,
}

/// A number a message can be: combined by a [`Combine`], kept in an array of the
/// vertex count, and sent between workers as a word.
pub trait MessageValue: AccWord + bytemuck::Pod + PartialOrd + Add<Output = Self> {
    /// The type's least value.
    const LEAST: Self;
    /// The type's greatest value.
    const GREATEST: Self;
    /// Zero.
    const ZERO: Self;

    /// What a vertex reads when no message came.
    #[inline]
    fn none(combine: Combine) -> Self {
        match combine {
            Combine::Sum => Self::ZERO,
            Combine::Min => Self::GREATEST,
            Combine::Max => Self::LEAST,
        }
    }

    /// Combines `x` into `slot`.
    #[inline]
    fn combine(combine: Combine, slot: &mut Self, x: Self) {
        match combine {
            Combine::Sum => *slot = *slot + x,
            Combine::Min => {
                if x < *slot {
                    *slot = x;
                }
            }
            Combine::Max => {
                if x > *slot {
                    *slot = x;
                }
            }
        }
    }
}

macro_rules! message_value {
    ($($t:ty: $zero:expr, $least:expr, $greatest:expr;)*) => {$(
        impl MessageValue for $t {
            const LEAST: Self = $least;
            const GREATEST: Self = $greatest;
            const ZERO: Self = $zero;
        }
    )*};
}

message_value! {
    f64: 0.0, f64::NEG_INFINITY, f64::INFINITY;
    u64: 0, 0, u64::MAX;
    i64: 0, i64::MIN, i64::MAX;
}

/// What an edge carries besides its two ends: nothing (`()`) or one number, kept as a
/// word beside the edge.
pub trait EdgeValue: Copy {
    /// Words it takes beside the edge's ends (0 or 1).
    const WORDS: usize;
    /// Its word, if it has one.
    fn word(self) -> Option<u64>;
    /// It again, from the word kept (0 when it has none).
    fn from_word(word: u64) -> Self;
}

impl EdgeValue for () {
    const WORDS: usize = 0;
    #[inline]
    fn word(self) -> Option<u64> {
        None
    }
    #[inline]
    fn from_word(_: u64) -> Self {}
}

macro_rules! edge_value {
    ($($t:ty),*) => {$(
        impl EdgeValue for $t {
            const WORDS: usize = 1;
            #[inline]
            fn word(self) -> Option<u64> {
                Some(AccWord::to_word(self))
            }
            #[inline]
            fn from_word(word: u64) -> Self {
                AccWord::from_word(word)
            }
        }
    )*};
}

edge_value!(f64, u64, i64);

/// What a `graph(|e| ...)` closure gives for each record: the edge's source and
/// destination, `(src, dst)`, or with a value the edge carries, `(src, dst, weight)`.
pub trait GraphEdge {
    /// What the edge carries: `()` for `(src, dst)`.
    type Value: EdgeValue;
    /// Its source and destination vertex ids.
    fn ends(&self) -> (u64, u64);
    /// What it carries.
    fn value(&self) -> Self::Value;
}

impl GraphEdge for (u64, u64) {
    type Value = ();
    #[inline]
    fn ends(&self) -> (u64, u64) {
        *self
    }
    #[inline]
    fn value(&self) {}
}

impl<E: EdgeValue> GraphEdge for (u64, u64, E) {
    type Value = E;
    #[inline]
    fn ends(&self) -> (u64, u64) {
        (self.0, self.1)
    }
    #[inline]
    fn value(&self) -> E {
        self.2
    }
}

/// Values folded over a round's elements (on several workers, each worker's part merged
/// in worker order, the same on every worker), read in the round after: PageRank's
/// dangling rank and total change, a regression's gradient. Derive `StateValue` and
/// `Default`, and say how two parts merge.
pub trait Totals: Default + StateValue {
    /// Merges another part (another worker's, or another record's) into this one.
    fn merge(&mut self, part: &Self);
}

/// No totals.
impl Totals for () {
    fn merge(&mut self, _: &Self) {}
}

macro_rules! summed_totals {
    ($($t:ty),*) => {$(
        /// One number, added up.
        impl Totals for $t {
            fn merge(&mut self, part: &Self) {
                *self += *part;
            }
        }
    )*};
}

summed_totals!(f64, u64, i64);

/// A vertex, as its program sees it before the rounds and at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vertex {
    /// Its id, as the edges name it.
    pub id: u64,
    /// Its out-edges (each edge both ways in an undirected graph).
    pub out_degree: u64,
    /// The vertices of the whole graph (on every worker).
    pub vertices: u64,
}

/// A vertex-centric program over a graph: each vertex has a value (a number); each
/// round, every vertex reads the messages its in-neighbours sent it last round
/// (combined), changes its value and sends messages along its out-edges. The rounds end
/// when [`VertexProgram::until`] says so after a round, or after the `rounds(N)` of the
/// step; then each vertex may emit a record.
pub trait VertexProgram {
    /// Each vertex's value: a number (`f64`, `u64`, `i64`, `u32`, ...).
    type Value: bytemuck::Pod;
    /// What [`Round::send`] carries.
    type Message: MessageValue;
    /// What each edge carries, as the step's `graph(|e| ...)` closure gives it: `()`, or
    /// the third element of `(src, dst, weight)`.
    type Edge: EdgeValue;
    /// Values folded over each round's vertices.
    type Totals: Totals;
    /// The records it emits at the end.
    type Output;

    /// How several messages to one vertex combine.
    const MESSAGES: Combine;

    /// A vertex's value before the first round.
    fn init(&self, vertex: &Vertex) -> Self::Value;

    /// One vertex in one round: its value to change, and what it reads and sends.
    fn round(&self, value: &mut Self::Value, at: &mut Round<'_, Self>);

    /// Whether the round just ended is the last, given its totals (summed over every
    /// vertex on every worker). Never, unless a program says otherwise.
    fn until(&self, round: u64, totals: &Self::Totals) -> bool {
        let _ = (round, totals);
        false
    }

    /// What a vertex emits after the last round, from its value.
    fn end(&self, value: &Self::Value, vertex: &Vertex) -> Option<Self::Output>;
}

/// A [`VertexProgram`] emitting `O`: how a `stream!` job names the program's output by
/// the type its next step reads.
pub trait VertexProgramOf<O>: VertexProgram<Output = O> {}

impl<O, P: VertexProgram<Output = O>> VertexProgramOf<O> for P {}

/// A [`RecordsProgram`] over `R` emitting `O`, as [`VertexProgramOf`].
pub trait RecordsProgramOf<R, O>: RecordsProgram<R, Output = O> {}

impl<R, O, P: RecordsProgram<R, Output = O>> RecordsProgramOf<R, O> for P {}

/// One vertex in one round, as [`VertexProgram::round`] sees it.
pub struct Round<'a, P: VertexProgram + ?Sized> {
    pub(super) round: u64,
    pub(super) vertex: Vertex,
    pub(super) incoming: P::Message,
    pub(super) last: &'a P::Totals,
    pub(super) totals: &'a mut P::Totals,
    pub(super) targets: &'a [u32],
    pub(super) edge_words: Option<&'a [u64]>,
    pub(super) out: &'a mut [P::Message],
}

impl<P: VertexProgram + ?Sized> Round<'_, P> {
    /// The round, from 0.
    #[inline]
    pub fn round(&self) -> u64 {
        self.round
    }

    /// The vertex's id.
    #[inline]
    pub fn id(&self) -> u64 {
        self.vertex.id
    }

    /// Its out-edges.
    #[inline]
    pub fn out_degree(&self) -> u64 {
        self.vertex.out_degree
    }

    /// The vertices of the whole graph.
    #[inline]
    pub fn vertices(&self) -> u64 {
        self.vertex.vertices
    }

    /// The messages sent to it last round, combined (the combination of none in round
    /// 0, or when none came).
    #[inline]
    pub fn incoming(&self) -> P::Message {
        self.incoming
    }

    /// The totals of the last round (their `Default` in round 0).
    #[inline]
    pub fn last(&self) -> &P::Totals {
        self.last
    }

    /// This round's totals, to fold this vertex's part into.
    #[inline]
    pub fn totals(&mut self) -> &mut P::Totals {
        self.totals
    }

    /// Sends `message` along every out-edge.
    #[inline]
    pub fn send(&mut self, message: P::Message) {
        for &t in self.targets {
            P::Message::combine(P::MESSAGES, &mut self.out[t as usize], message);
        }
    }

    /// Sends along every out-edge what `message` makes of the value the edge carries
    /// (`distance + weight`).
    #[inline]
    pub fn send_each(&mut self, mut message: impl FnMut(P::Edge) -> P::Message) {
        for (i, &t) in self.targets.iter().enumerate() {
            let word = self.edge_words.map_or(0, |w| w[i]);
            let m = message(P::Edge::from_word(word));
            P::Message::combine(P::MESSAGES, &mut self.out[t as usize], m);
        }
    }
}

/// A program over records: every round visits every record in arrival order, reading a
/// model that changes only between rounds, and folds totals the round's end reads to
/// change the model. The model is the program's own value on the heap (keep it small:
/// centroids, weights); the records are kept in pool pages and go to disk past the
/// budget. The rounds run on one worker, in the records' order.
pub trait RecordsProgram<R> {
    /// What the rounds learn: weights, centroids.
    type Model;
    /// Values folded over each round's records.
    type Totals: Totals;
    /// The records it emits at the end.
    type Output;

    /// The model before the first round.
    fn model(&self) -> Self::Model;

    /// One record in one round (`position` its place in the input, from 0): folds its
    /// part into `totals`.
    fn round(
        &self,
        record: &R,
        position: u64,
        round: u64,
        model: &Self::Model,
        totals: &mut Self::Totals,
    );

    /// After each round: changes the model by the round's totals.
    fn round_end(&self, round: u64, model: &mut Self::Model, totals: &Self::Totals);

    /// Whether the round just ended is the last. Never, unless a program says otherwise.
    fn until(&self, round: u64, model: &Self::Model, totals: &Self::Totals) -> bool {
        let _ = (round, model, totals);
        false
    }

    /// What it emits after the last round.
    fn end(&self, model: &Self::Model) -> Vec<Self::Output>;

    /// What it emits after the last round over a window's records
    /// (`window(tumbling(...)) |> iterate(...)`): what [`RecordsProgram::end`] emits,
    /// unless a program says otherwise (to emit the window's bounds with the model).
    fn end_of_window(&self, window: WindowBounds, model: &Self::Model) -> Vec<Self::Output> {
        let _ = window;
        self.end(model)
    }
}

/// The window a records program ran over: `[start, end)` in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowBounds {
    /// Its first millisecond.
    pub start: i64,
    /// The millisecond after its last.
    pub end: i64,
}
